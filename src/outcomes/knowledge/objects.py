"""The knowledge base's objects: findings, conditions, settings and the whole, frozen.

Built and validated by :func:`outcomes.knowledge.load_knowledge`; every other module works
from these objects, never from the files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from outcomes.knowledge.provenance import provenance
from outcomes.knowledge.schema import KNOWLEDGE_DIR

FINDING_KINDS = ("pain_map", "aggravating", "exam", "red_flag")
#: Kinds of finding that may be missing from a record (the others are always asked).
MISSABLE_KINDS = ("exam", "red_flag")
SIDES = ("left", "right", "both")
SEXES = ("female", "male")
ONSETS = ("sudden", "gradual")
NO_SECONDARY = "none"


@dataclass(frozen=True)
class Finding:
    """A yes/no finding recorded for a patient (symptom, aggravating factor, sign or red flag).

    Parameters
    ----------
    name, label, kind
        Column name, human label, and one of :data:`FINDING_KINDS`.
    severity_slope, chronic_shift
        Log-odds shift of being present per unit of latent severity, and when chronic.
    sensitivity_loading
        Log-odds shift per level of the shared pain-sensitivity factor.
    false_positive, false_negative
        Recording error: P(recorded present | absent) and P(recorded absent | present).

    Examples
    --------
    >>> from outcomes.knowledge import load_knowledge
    >>> finding = load_knowledge().findings[0]
    >>> finding.kind in FINDING_KINDS
    True
    """

    name: str
    label: str
    kind: str
    severity_slope: float
    chronic_shift: float
    #: Log-odds shift per level of the shared pain-sensitivity factor (-1, 0, +1).
    #:
    #: Examples
    #: --------
    #: >>> Finding("x", "X", "exam", 0.0, 0.0).sensitivity_loading
    #: 0.0
    sensitivity_loading: float = 0.0
    #: P(recorded present | truly absent) and P(recorded absent | truly present): examiner
    #: error for signs, reporting error for history items.
    #:
    #: Examples
    #: --------
    #: >>> Finding("x", "X", "exam", 0.0, 0.0, false_positive=0.05).false_positive
    #: 0.05
    false_positive: float = 0.0
    false_negative: float = 0.0

    @property
    def can_be_missing(self) -> bool:
        """Whether a setting may leave this finding unrecorded.

        Examples
        --------
        >>> Finding("rf_x", "A red flag", "red_flag", 0.0, 0.0).can_be_missing
        True
        """
        return self.kind in MISSABLE_KINDS


@dataclass(frozen=True)
class Condition:
    """A condition, its care pathway and the condition-specific parts of the patient model.

    Parameters
    ----------
    name, label, pathway, description
        The condition, its care pathway and what it is.
    age_mean, age_sd, female, onset_sudden, chronic_fraction, bilateral
        Who has it and how it starts.
    severity_beta
        Beta parameters of its latent severity.
    pain_nrs_range, odi_range
        Ranges of baseline pain (NRS) and disability (ODI).
    occupation, trigger, secondary
        Distributions of occupation, trigger and a secondary contributor.
    findings
        Finding name -> P(finding | condition) for a typical case (mean severity, acute).

    Examples
    --------
    >>> from outcomes.knowledge import load_knowledge
    >>> load_knowledge().condition("piriformis_syndrome").pathway
    'hip'
    """

    name: str
    label: str
    pathway: str
    description: str
    age_mean: float
    age_sd: float
    female: float
    onset_sudden: float
    chronic_fraction: float
    bilateral: float
    severity_beta: tuple[float, float]
    pain_nrs_range: tuple[float, float]
    odi_range: tuple[float, float]
    occupation: Mapping[str, float]
    trigger: Mapping[str, float]
    secondary: Mapping[str, float]
    findings: Mapping[str, float]

    @property
    def mean_severity(self) -> float:
        """Mean of the condition's Beta severity distribution.

        Examples
        --------
        >>> from outcomes.knowledge import load_knowledge
        >>> 0 < load_knowledge().condition("piriformis_syndrome").mean_severity < 1
        True
        """
        a, b = self.severity_beta
        return a / (a + b)


@dataclass(frozen=True)
class Setting:
    """A care setting: its case mix and how often each missable finding is not recorded.

    Parameters
    ----------
    name, label, description
        The setting and what it is.
    case_mix
        Condition -> prevalence in the setting (sums to 1).
    missing
        Missable finding -> P(not recorded).

    Examples
    --------
    >>> from outcomes.knowledge import load_knowledge
    >>> load_knowledge().setting("primary_care").name
    'primary_care'
    """

    name: str
    label: str
    description: str
    case_mix: Mapping[str, float]
    missing: Mapping[str, float]


@dataclass(frozen=True)
class Knowledge:
    """The whole knowledge base, validated. Build it with :func:`load_knowledge`.

    Parameters
    ----------
    conditions, findings, settings, default_setting
        The knowledge base's objects and the setting used when none is named.
    pathways, pathway_labels
        The care pathways in order, and their labels.
    occupations, triggers
        The categories every condition's distributions range over.
    shared
        Numbers shared by every condition (e.g. ``chronic_threshold_weeks``).
    sources, references, directory
        Where every number came from, the cited works, and the folder read.

    Examples
    --------
    >>> from outcomes.knowledge import load_knowledge
    >>> kb = load_knowledge()
    >>> kb.condition("piriformis_syndrome").pathway
    'hip'
    >>> round(sum(kb.setting("primary_care").case_mix.values()), 6)
    1.0
    """

    conditions: tuple[Condition, ...]
    findings: tuple[Finding, ...]
    settings: Mapping[str, Setting]
    default_setting: str
    pathways: tuple[str, ...]
    pathway_labels: Mapping[str, str]
    occupations: tuple[str, ...]
    triggers: tuple[str, ...]
    shared: Mapping[str, float]
    sources: Mapping[str, str] = field(repr=False)
    references: Mapping[str, str] = field(repr=False)
    directory: Path = field(repr=False, default=KNOWLEDGE_DIR)

    @property
    def condition_names(self) -> tuple[str, ...]:
        """The conditions' names, in the files' order.

        Examples
        --------
        >>> from outcomes.knowledge import load_knowledge
        >>> "piriformis_syndrome" in load_knowledge().condition_names
        True
        """
        return tuple(c.name for c in self.conditions)

    @property
    def finding_names(self) -> tuple[str, ...]:
        """The findings' names, in the files' order.

        Examples
        --------
        >>> from outcomes.knowledge import load_knowledge
        >>> load_knowledge().finding_names[0]
        'pain_low_back'
        """
        return tuple(f.name for f in self.findings)

    @property
    def setting_names(self) -> tuple[str, ...]:
        """The settings' names, in the files' order.

        Examples
        --------
        >>> from outcomes.knowledge import load_knowledge
        >>> load_knowledge().setting_names[0]
        'primary_care'
        """
        return tuple(self.settings)

    def condition(self, name: str) -> Condition:
        """Return the condition called ``name`` (``ValueError`` naming the choices if unknown).

        Parameters
        ----------
        name : str
            The condition's name, one of :attr:`condition_names`.

        Returns
        -------
        Condition
            The condition of that name.

        Examples
        --------
        >>> from outcomes.knowledge import load_knowledge
        >>> load_knowledge().condition("piriformis_syndrome").label
        'Piriformis syndrome'
        """
        for c in self.conditions:
            if c.name == name:
                return c
        raise ValueError(
            f"condition {name!r} is unknown; choose one of: {', '.join(self.condition_names)}"
        )

    def setting(self, name: str) -> Setting:
        """Return the setting called ``name`` (``ValueError`` naming the choices if unknown).

        Parameters
        ----------
        name : str
            The setting's name, one of :attr:`setting_names`.

        Returns
        -------
        Setting
            The setting of that name.

        Examples
        --------
        >>> from outcomes.knowledge import load_knowledge
        >>> load_knowledge().setting("spine_clinic").name
        'spine_clinic'
        """
        if name not in self.settings:
            raise ValueError(
                f"setting {name!r} is unknown; choose one of: {', '.join(self.setting_names)}"
            )
        return self.settings[name]

    def pathway_of(self) -> dict[str, str]:
        """The condition → care-pathway map.

        Returns
        -------
        dict of str to str
            Each condition's name -> the name of its care pathway.

        Examples
        --------
        >>> from outcomes.knowledge import load_knowledge
        >>> load_knowledge().pathway_of()["piriformis_syndrome"]
        'hip'
        """
        return {c.name: c.pathway for c in self.conditions}

    def provenance(self) -> pd.DataFrame:
        """Every number of every file in this knowledge base's folder with its source.

        The same table as :func:`provenance` of :attr:`directory`.

        Returns
        -------
        pandas.DataFrame
            One row per number: its file, key, value, source, how it was calibrated and its
            plausible range.

        Examples
        --------
        >>> from outcomes.knowledge import load_knowledge
        >>> table = load_knowledge().provenance()
        >>> list(table.columns)
        ['file', 'key', 'value', 'source', 'calibrated', 'low', 'high']
        """
        return provenance(self.directory)
