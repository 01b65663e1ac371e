"""The ``patients``, ``visits`` and ``outcomes`` tables, declared once as pandera schemas.

The schemas are built from the column declarations of :mod:`outcomes.tables.columns`, which
the generator and the recovery model build their tables with
(:func:`~outcomes.tables.columns.patient_columns`,
:func:`~outcomes.tables.columns.outcome_columns`, :func:`~outcomes.tables.columns.visit_columns`),
so they cannot drift from the data. Tests validate
every generated table against them; :mod:`outcomes.analysis.userdata` validates a team's own file
against the same declarations before any evaluation.

Which ``patients`` columns a team's file must have (:func:`column_roles`):

- **required** — the patient id, setting, age, sex, symptom duration, every pain-map and
  aggravating finding (history is always taken), and baseline pain and ODI;
- **optional** — occupation, onset, trigger, side (absent or empty: not recorded), ``chronic``
  (derived from the symptom duration when absent or empty; when given it must agree with it),
  every exam sign and red flag (absent or empty: not recorded), and the truth: the confirmed
  ``pathway`` and ``condition``;
- anything else is kept and ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
import pandera.pandas as pa

from outcomes.knowledge import Knowledge, load_knowledge
from outcomes.tables.columns import (
    OUTCOME_NULLABLE,
    RANGES,
    TRUTH_COLUMNS,
    Column,
    outcome_columns,
    patient_columns,
    visit_columns,
)

OPTIONAL_CATEGORIES = ("occupation", "onset", "trigger", "side")


def column_roles(knowledge: Knowledge | None = None) -> dict[str, str]:
    """Role of every ``patients`` column in a team's file: required, optional or truth.

    Parameters
    ----------
    knowledge : Knowledge, optional
        Knowledge base (default: the packaged one).

    Returns
    -------
    dict of str to str
        Column name to ``"required"``, ``"optional"`` or ``"truth"``.

    Examples
    --------
    >>> roles = column_roles()
    >>> roles["pain_nrs"], roles["exam_fair_test"], roles["pathway"]
    ('required', 'optional', 'truth')
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    missable = {f.name for f in kb.findings if f.can_be_missing}
    roles = {}
    for column in patient_columns(kb):
        if column.name in ("pathway", "condition"):
            roles[column.name] = "truth"
        elif column.name in TRUTH_COLUMNS:
            roles[column.name] = "generator only"
        elif column.name in missable or column.name in OPTIONAL_CATEGORIES:
            roles[column.name] = "optional"
        elif column.name == "chronic":
            roles[column.name] = "optional"
        else:
            roles[column.name] = "required"
    return roles


def _check_for(name: str) -> list[pa.Check]:
    if name in RANGES:
        low, high = RANGES[name]
        return [pa.Check.in_range(low, high)]
    return []


def _pandera_column(
    column: Column, nullable: bool, required: bool = True, arrow_text: bool = False
) -> pa.Column:
    dtype: Any = column.dtype
    if column.dtype == "string" and arrow_text:
        dtype = pd.StringDtype("pyarrow")  # a team's ids: one buffer, not a str per patient
    if column.dtype == "category":
        dtype = pd.CategoricalDtype(list(column.categories or ()))
    return pa.Column(dtype, checks=_check_for(column.name), nullable=nullable, required=required,
                     unique=column.name == "patient_id", description=column.meaning)  # fmt: skip


def patients_schema(
    *,
    generated: bool = True,
    require_truth: bool = False,
    require: Iterable[str] = (),
    knowledge: Knowledge | None = None,
) -> pa.DataFrameSchema:
    """Schema of the ``patients`` table.

    Parameters
    ----------
    generated
        ``True``: the generator's full table (every column, nothing missing but exam signs and red
        flags). ``False``: a team's table after :func:`outcomes.analysis.userdata.read_patients`
        (optional columns may be absent or hold missing values; extra columns allowed; ids
        held as Arrow-backed text, ``string[pyarrow]``, compact for millions of patients; a
        generated cohort's hidden columns may be present).
    require_truth
        For a team's table: the confirmed ``pathway`` must be present and complete.
    require
        For a team's table: further truth or hidden columns that must be present and
        complete (e.g. ``condition`` and ``latent_severity`` to simulate recovery).
    knowledge
        Knowledge base (default: the packaged one).

    Returns
    -------
    pandera.pandas.DataFrameSchema
        The schema; validate with ``lazy=True`` to see every problem at once.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> len(patients_schema().validate(generate(50, seed=1)))
    50
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    roles = column_roles(kb)
    required = set(require) | ({"pathway"} if require_truth else set())
    columns = {}
    for column in patient_columns(kb):
        role = roles[column.name]
        if generated:
            columns[column.name] = _pandera_column(column, nullable=column.dtype == "boolean")
        elif role in ("truth", "generator only"):
            needed = column.name in required
            columns[column.name] = _pandera_column(column, nullable=not needed, required=needed)
        else:
            columns[column.name] = _pandera_column(
                column, nullable=role == "optional", required=role == "required", arrow_text=True
            )
    return pa.DataFrameSchema(columns, strict=generated, name="patients", coerce=False)


def _table_schema(
    name: str, columns: list[Column], unique: str | None, nullable: Iterable[str] = ()
) -> pa.DataFrameSchema:
    """A strict schema of a simulation table: every column, its dtype, range and meaning."""
    checked = {
        c.name: pa.Column(c.pandas_dtype, checks=_check_for(c.name), nullable=c.name in nullable,
                          unique=c.name == unique, description=c.meaning)
        for c in columns
    }  # fmt: skip
    return pa.DataFrameSchema(checked, strict=True, name=name)


def visits_schema(knowledge: Knowledge | None = None) -> pa.DataFrameSchema:
    """Schema of the long ``visits`` table (one row per patient and week seen).

    Parameters
    ----------
    knowledge : Knowledge, optional
        Knowledge base (default: the packaged one).

    Returns
    -------
    pandera.pandas.DataFrameSchema
        The schema.

    Examples
    --------
    >>> "week" in visits_schema().columns
    True
    """
    return _table_schema("visits", visit_columns(knowledge), unique=None)


def outcomes_schema(knowledge: Knowledge | None = None) -> pa.DataFrameSchema:
    """Schema of the ``outcomes`` table (one row per patient).

    Parameters
    ----------
    knowledge : Knowledge, optional
        Knowledge base (default: the packaged one).

    Returns
    -------
    pandera.pandas.DataFrameSchema
        The schema.

    Examples
    --------
    >>> outcomes_schema().columns["patient_id"].unique
    True
    """
    return _table_schema(
        "outcomes", outcome_columns(knowledge), unique="patient_id", nullable=OUTCOME_NULLABLE
    )


def validate_patients(df: pd.DataFrame) -> pd.DataFrame:
    """Validate a generated ``patients`` table (all problems at once); returns it unchanged.

    Parameters
    ----------
    df : pandas.DataFrame
        A generated ``patients`` table.

    Returns
    -------
    pandas.DataFrame
        ``df``, unchanged.

    Raises
    ------
    pandera.errors.SchemaErrors
        Listing every problem found.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> validate_patients(generate(20, seed=1)).shape[0]
    20
    """
    return patients_schema().validate(df, lazy=True)


def validate_visits(df: pd.DataFrame) -> pd.DataFrame:
    """Validate a ``visits`` table; returns it unchanged.

    Parameters
    ----------
    df : pandas.DataFrame
        A generated ``visits`` table.

    Returns
    -------
    pandas.DataFrame
        ``df``, unchanged.

    Raises
    ------
    pandera.errors.SchemaErrors
        Listing every problem found.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.engine.recovery import simulate
    >>> p = generate(20, seed=1)
    >>> len(validate_visits(simulate(p, p["pathway"], seed=0).visits)) > 20
    True
    """
    return visits_schema().validate(df, lazy=True)


def validate_outcomes(df: pd.DataFrame) -> pd.DataFrame:
    """Validate an ``outcomes`` table; returns it unchanged.

    Parameters
    ----------
    df : pandas.DataFrame
        A generated ``outcomes`` table.

    Returns
    -------
    pandas.DataFrame
        ``df``, unchanged.

    Raises
    ------
    pandera.errors.SchemaErrors
        Listing every problem found.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.engine.recovery import simulate
    >>> p = generate(20, seed=1)
    >>> len(validate_outcomes(simulate(p, p["pathway"], seed=0).outcomes))
    20
    """
    return outcomes_schema().validate(df, lazy=True)
