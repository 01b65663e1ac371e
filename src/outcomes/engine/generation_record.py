"""What a generated table records about how it was made: its setting and generator overrides.

Generated tables carry ``{"setting": ..., "overrides": ...}`` in ``DataFrame.attrs`` under
:data:`GENERATED_WITH_KEY` (:func:`record_generated_with`), so the oracle and the command line
can rebuild the model that drew them (:func:`generated_with`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pandas as pd

#: Key of ``DataFrame.attrs`` under which generated tables record how they were made
#: (see :func:`generated_with`).
GENERATED_WITH_KEY = "outcomes.generated_with"


def record_generated_with(
    df: pd.DataFrame, setting: str, overrides: Mapping[str, Any]
) -> pd.DataFrame:
    """Record on ``df`` (in place, returned) the setting and overrides it was generated with.

    As :func:`outcomes.engine.cohort.generate` does, for :func:`generated_with` and the oracle
    to read: e.g. for a cohort file read back with the parameters from its metadata
    (:func:`outcomes.infra.io.read_metadata`).

    Parameters
    ----------
    df
        A generated table.
    setting
        The care setting it was drawn in.
    overrides
        The generator's overrides (copied).

    Returns
    -------
    pandas.DataFrame
        ``df`` itself.

    Examples
    --------
    >>> df = record_generated_with(pd.DataFrame(), "sports_clinic", {"exam_missing_rate": 0.5})
    >>> generated_with(df)
    {'setting': 'sports_clinic', 'overrides': {'exam_missing_rate': 0.5}}
    """
    df.attrs[GENERATED_WITH_KEY] = {"setting": setting, "overrides": copy.deepcopy(dict(overrides))}
    return df


def generated_with(patients: pd.DataFrame) -> dict[str, Any] | None:
    """The care setting and generator overrides a ``patients`` table was generated with.

    :func:`outcomes.engine.cohort.generate`, ``iter_chunks`` and ``generate_from_model`` record
    them in the table's ``attrs``, which pandas carries through row and column selection
    (``.iloc``, ``.loc``, boolean masks, ``df[columns]``), ``.copy()``, ``.assign``,
    ``.sample``, ``pd.concat`` of tables that recorded the same thing, pickles, and Parquet
    files written from the table (:func:`outcomes.infra.io.write_table`,
    ``DataFrame.to_parquet``) and read back with :func:`outcomes.infra.io.read_table` or
    ``pandas.read_parquet``. Nothing is recorded (``None``) after ``pd.concat`` of cohorts made
    differently, in CSV files, in tables read by :func:`outcomes.tables.records.read_patients`
    (a team's file), and in files written by :func:`outcomes.engine.cohort.write_cohort`, whose
    bytes do not depend on it (their generation parameters are in
    :func:`outcomes.infra.io.read_metadata`). ``df.equals`` ignores ``attrs``, and so does
    ``pandas.testing.assert_frame_equal`` in pandas 2.

    :class:`outcomes.triage.oracle.BayesOracle` reads the overrides from here when none are given.

    Parameters
    ----------
    patients
        A table, generated or not.

    Returns
    -------
    dict or None
        ``{"setting": str, "overrides": dict}`` (a copy), or ``None`` if nothing is recorded.

    Raises
    ------
    ValueError
        If something is recorded under :data:`GENERATED_WITH_KEY` but is not of that form.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> df = generate(100, seed=1, setting="sports_clinic", exam_missing_rate=0.5)
    >>> generated_with(df.iloc[:10])
    {'setting': 'sports_clinic', 'overrides': {'exam_missing_rate': 0.5}}
    >>> generated_with(pd.concat([df, generate(100, seed=2)])) is None
    True
    """
    attrs = getattr(patients, "attrs", None) or {}
    if GENERATED_WITH_KEY not in attrs:
        return None
    recorded = attrs[GENERATED_WITH_KEY]
    if (
        not isinstance(recorded, Mapping)
        or not isinstance(recorded.get("setting"), str)
        or not isinstance(recorded.get("overrides"), Mapping)
    ):
        raise ValueError(
            f"attrs[{GENERATED_WITH_KEY!r}] must be a mapping with a 'setting' (text) and "
            f"'overrides' (a mapping), as generate records it; got {recorded!r}"
        )
    return {"setting": recorded["setting"], "overrides": copy.deepcopy(dict(recorded["overrides"]))}
