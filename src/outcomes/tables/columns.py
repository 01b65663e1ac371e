"""Every column of the ``patients``, ``visits`` and ``outcomes`` tables, declared once.

Each table is a list of :class:`Column` (name, pandas dtype, meaning and, for categorical
columns, the categories, in order). Columns that come from the knowledge base (the findings
of ``findings.toml``, the settings, conditions and pathways) are built from it. The generator
(:mod:`outcomes.engine.cohort`) and the recovery simulation (:mod:`outcomes.engine.recovery`)
build their tables with these dtypes, and :mod:`outcomes.tables.schema` builds the pandera
schemas from them, so the data and its checks cannot drift apart. This module sits below the
engine: it reads the knowledge base and imports nothing from the engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from outcomes.knowledge import NO_SECONDARY, ONSETS, SEXES, SIDES, Knowledge, load_knowledge
from outcomes.knowledge.red_flags import red_flag_columns as red_flag_columns

#: Columns that hold the truth the generator knows and a triage method must not see.
TRUTH_COLUMNS = (
    "condition",
    "secondary_condition",
    "pathway",
    "latent_severity",
    "pain_sensitivity",
)
#: Levels of the shared pain-sensitivity factor, in the order of
#: :data:`outcomes.engine.model.SENSITIVITY_LEVELS` (-1, 0, +1).
SENSITIVITY_CATEGORIES = ("low", "typical", "high")
#: How the care a policy gives fits a part of the presentation (``fit`` of ``outcomes``).
FITS = ("matched", "mismatched", "aggravating", "redirected", "harmful")
#: Trajectory classes, best course first (the order of ``recovery.toml``'s ``[classes]``).
CLASSES = ("recovering_fast", "recovering_slow", "persistent_moderate", "persistent_severe")
#: Why a patient's time to recovery is censored (``censoring`` of ``outcomes``).
CENSORING = ("not_censored", "lost_to_follow_up", "end_of_follow_up")
#: Secondary pathway of a care plan that does not address a secondary contributor separately.
NO_SECONDARY_PATHWAY = "none"
#: Columns of the ``outcomes`` table that may be missing (<NA>).
OUTCOME_NULLABLE = ("relapse_week", "surgery_week", "weeks_to_emergency_care")
#: Valid ranges of the numeric columns (inclusive). Ages are adults, as in the knowledge base.
RANGES: Mapping[str, tuple[float, float]] = {
    "age": (18, 110),
    "symptom_duration_weeks": (0, 1040),
    "pain_nrs": (0, 10),
    "odi": (0, 100),
    "latent_severity": (0.0, 1.0),
    "week": (0, 520),
    "baseline_pain": (0, 10),
    "baseline_odi": (0, 100),
    "final_pain": (0, 10),
    "final_odi": (0, 100),
    "last_visit_week": (0, 520),
    "weeks_to_recovery": (0, 520),
    "relapse_week": (1, 520),
    "surgery_week": (1, 520),
    "weeks_to_emergency_care": (0, 520),
}


@dataclass(frozen=True)
class Column:
    """One column of a table: name, pandas dtype, meaning and categories.

    Parameters
    ----------
    name
        Column name.
    dtype
        pandas dtype name (``"category"`` for categorical columns).
    meaning
        What the column holds, for data cards and schemas.
    categories
        The categories of a categorical column, in order (``None``: not fixed, e.g. ids).

    Examples
    --------
    >>> Column("week", "int16", "Week of follow-up").pandas_dtype
    'int16'
    >>> Column("fit", "category", "Fit", FITS).pandas_dtype.categories[0]
    'matched'
    """

    name: str
    dtype: str
    meaning: str
    categories: tuple[str, ...] | None = None

    @property
    def pandas_dtype(self) -> Any:
        """The dtype to build the column with: a ``CategoricalDtype`` with the column's
        categories, or the dtype name.

        Returns
        -------
        pandas.CategoricalDtype or str
            The dtype.

        Examples
        --------
        >>> {c.name: c.pandas_dtype for c in patient_columns()}["age"]
        'int16'
        """
        if self.dtype == "category" and self.categories is not None:
            return pd.CategoricalDtype(self.categories)
        return self.dtype


def patient_columns(knowledge: Knowledge | None = None) -> list[Column]:
    """The ``patients`` table's columns in order, with dtypes and meanings.

    Parameters
    ----------
    knowledge
        The knowledge base whose settings, findings, conditions and pathways the columns
        follow (default: the packaged one).

    Returns
    -------
    list of Column

    Examples
    --------
    >>> cols = patient_columns()
    >>> cols[0].name, cols[0].dtype
    ('patient_id', 'string')
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    cat = "category"
    cols = [
        Column("patient_id", "string", "Patient id, '<seed>-<index>' (8-digit zero-padded index)"),
        Column("setting", cat, "Care setting the patient presented to", kb.setting_names),
        Column("age", "int16", "Age in whole years"),
        Column("sex", cat, "Sex", SEXES),
        Column("occupation", cat, "Main occupation or activity", kb.occupations),
        Column("onset", cat, "How symptoms began", ONSETS),
        Column("trigger", cat, "What the patient links the onset to", kb.triggers),
        Column("symptom_duration_weeks", "int16", "Weeks since symptoms began"),
        Column(
            "chronic",
            "bool",
            f"Symptoms for more than {int(kb.shared['chronic_threshold_weeks'])} weeks",
        ),
        Column("side", cat, "Side of the leg (or arm) symptoms", SIDES),
    ]
    for f in kb.findings:
        if f.can_be_missing:
            cols.append(Column(f.name, "boolean", f"{f.label} ({f.kind}; <NA> = not recorded)"))
        else:
            cols.append(Column(f.name, "bool", f"{f.label} ({f.kind})"))
    cols += [
        Column("pain_nrs", "int8", "Baseline pain, numeric rating scale 0-10"),
        Column("odi", "int8", "Baseline Oswestry Disability Index 0-100 (steps of 2)"),
        Column("condition", cat, "True condition (hidden from triage)", kb.condition_names),
        Column(
            "secondary_condition",
            cat,
            "Secondary contributor to the presentation, or 'none' (hidden from triage)",
            (NO_SECONDARY, *kb.condition_names),
        ),
        Column("pathway", cat, "Care pathway that fits the true condition", kb.pathways),
        Column("latent_severity", "float64", "Latent severity 0-1 (hidden from triage)"),
        Column(
            "pain_sensitivity",
            cat,
            "Shared pain-sensitivity factor raising or lowering provocation findings together "
            "(hidden from triage)",
            SENSITIVITY_CATEGORIES,
        ),
    ]
    return cols


def feature_columns(knowledge: Knowledge | None = None) -> list[str]:
    """Columns a triage method may use: everything recorded at presentation.

    Parameters
    ----------
    knowledge
        The knowledge base (default: the packaged one).

    Returns
    -------
    list of str
        The ``patients`` columns but the id and :data:`TRUTH_COLUMNS`, in table order.

    Examples
    --------
    >>> "exam_fair_test" in feature_columns() and "condition" not in feature_columns()
    True
    """
    return [
        c.name
        for c in patient_columns(knowledge)
        if c.name not in TRUTH_COLUMNS and c.name != "patient_id"
    ]


def outcome_columns(knowledge: Knowledge | None = None) -> list[Column]:
    """The ``outcomes`` table's columns in order (one row per patient and policy run).

    Parameters
    ----------
    knowledge
        The knowledge base whose conditions and pathways the categories follow (default: the
        packaged one).

    Returns
    -------
    list of Column

    Examples
    --------
    >>> [c.name for c in outcome_columns()][:3]
    ['patient_id', 'condition', 'secondary_condition']
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    cat = "category"
    conditions, pathways = kb.condition_names, kb.pathways
    return [
        Column("patient_id", "string", "Patient id, as in the patients table"),
        Column("condition", cat, "True condition", conditions),
        Column(
            "secondary_condition",
            cat,
            "Secondary contributor of a combined presentation, or 'none'",
            (NO_SECONDARY, *conditions),
        ),
        Column("chronic", "bool", "Symptoms for more than 12 weeks at baseline"),
        Column("true_pathway", cat, "Care pathway that fits the true condition", pathways),
        Column("pathway", cat, "Care pathway the policy chose", pathways),
        Column(
            "fit",
            cat,
            "How the chosen pathway fits the condition (matched, mismatched, "
            "aggravating, redirected, harmful)",
            FITS,
        ),
        Column("matched", "bool", "The chosen pathway is the true pathway"),
        Column(
            "secondary_pathway",
            cat,
            "Pathway the policy chose for the secondary contributor ('none': not addressed "
            "separately, the secondary part then follows the primary part's care: the "
            "chosen pathway, or after an unneeded emergency referral the pathway it is "
            "redirected to)",
            (NO_SECONDARY_PATHWAY, *pathways),
        ),
        Column(
            "secondary_fit",
            cat,
            "How the care treating the secondary contributor fits "
            "it ('none': a single presentation)",
            (NO_SECONDARY, *FITS),
        ),
        Column(
            "trajectory_class",
            cat,
            "Course the condition followed under this care "
            "(recovering_fast, recovering_slow, persistent_moderate, persistent_severe)",
            CLASSES,
        ),
        Column("baseline_pain", "int8", "Pain NRS 0-10 at week 0"),
        Column("baseline_odi", "int8", "ODI 0-100 at week 0"),
        Column("final_pain", "int8", "Pain NRS at the last visit"),
        Column("final_odi", "int8", "ODI at the last visit"),
        Column(
            "last_visit_week",
            "int16",
            "Last week the patient was seen (follow_up_weeks "
            "of recovery.toml, 52 by default, = followed to the end)",
        ),
        Column(
            "weeks_to_recovery",
            "int16",
            "Week recovery began (if recovered), else weeks followed (censored)",
        ),
        Column(
            "recovered",
            "bool",
            "Recovery observed (the event). A patient whose baseline "
            "pain is already at or below recovery.pain_max can recover only by the "
            "relative fall",
        ),
        Column("censoring", cat, "not_censored, lost_to_follow_up or end_of_follow_up", CENSORING),
        Column(
            "recovered_at_end",
            "bool",
            "The recovery criterion holds at the last visit "
            "(recovery can be lost again in a relapse, or never reached)",
        ),
        Column(
            "relapsed", "bool", "A relapse episode began after a first recovery, within follow-up"
        ),
        Column(
            "relapse_week",
            "Int16",
            "Week the first relapse episode began (<NA>: none within follow-up)",
        ),
        Column("surgery", "bool", "Operated on (disc surgery) within follow-up"),
        Column(
            "surgery_week", "Int16", "Week of the operation (<NA>: no operation within follow-up)"
        ),
        Column(
            "harm",
            "bool",
            "Serious pathology sent down a routine pathway (an "
            "under-triaged emergency), as the condition or as the secondary contributor",
        ),
        Column(
            "weeks_to_emergency_care",
            "Float32",
            "Weeks from presentation to emergency "
            "care for serious pathology (<NA>: no serious pathology)",
        ),
        Column(
            "lasting_deficit",
            "bool",
            "Serious pathology left a lasting deficit (bladder, "
            "bowel or motor); its risk rises with the weeks to emergency care",
        ),
    ]


def visit_columns(knowledge: Knowledge | None = None) -> list[Column]:
    """The long ``visits`` table's columns in order (one row per patient and week seen).

    ``patient_id`` is categorical with the patients' ids as categories (not fixed here).

    Parameters
    ----------
    knowledge
        The knowledge base whose pathways the ``pathway`` categories follow (default: the
        packaged one).

    Returns
    -------
    list of Column

    Examples
    --------
    >>> [c.name for c in visit_columns()]
    ['patient_id', 'week', 'pain_nrs', 'odi', 'pathway']
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    return [
        Column("patient_id", "category", "Patient id, as in the patients table"),
        Column("week", "int16", "Week of follow-up (0: baseline)"),
        Column("pain_nrs", "int8", "Pain, numeric rating scale 0-10"),
        Column("odi", "int8", "Oswestry Disability Index 0-100 (steps of 2)"),
        Column("pathway", "category", "Care pathway the policy chose", kb.pathways),
    ]


def dtypes(columns: Iterable[Column]) -> dict[str, Any]:
    """Column name -> dtype to build it with (:attr:`Column.pandas_dtype`), in order.

    Parameters
    ----------
    columns
        Columns of one table, e.g. :func:`outcome_columns`.

    Returns
    -------
    dict

    Examples
    --------
    >>> dtypes(visit_columns())["week"]
    'int16'
    """
    return {c.name: c.pandas_dtype for c in columns}


def outcome_dtypes(knowledge: Knowledge | None = None) -> dict[str, Any]:
    """Columns and dtypes of the ``outcomes`` table (:func:`outcome_columns`).

    Parameters
    ----------
    knowledge
        The knowledge base (default: the packaged one).

    Returns
    -------
    dict
        Column name -> dtype name or ``CategoricalDtype``, in table order.

    Examples
    --------
    >>> outcome_dtypes()["weeks_to_recovery"]
    'int16'
    """
    return dtypes(outcome_columns(knowledge))


def visit_dtypes(knowledge: Knowledge | None = None) -> dict[str, Any]:
    """Columns and dtypes of the long ``visits`` table (``patient_id`` is categorical).

    Parameters
    ----------
    knowledge
        The knowledge base (default: the packaged one).

    Returns
    -------
    dict
        Column name -> dtype name or ``CategoricalDtype``, in table order.

    Examples
    --------
    >>> list(visit_dtypes())
    ['patient_id', 'week', 'pain_nrs', 'odi', 'pathway']
    """
    return dtypes(visit_columns(knowledge))
