"""Descriptive tables of a cohort: Table 1, finding prevalence, case mix.

The computations behind the figures of notebook 01 live here (tested); ``plots.py`` only draws.
A condition with no patients in a cohort keeps its row, marked "no patients", rather than
disappearing or crashing a table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from outcomes.knowledge import Knowledge, load_knowledge

NO_PATIENTS = "no patients"


def _format_mean_sd(values: pd.Series) -> str:
    if values.empty:
        return NO_PATIENTS
    return f"{values.mean():.1f} ({values.std(ddof=1) if len(values) > 1 else 0.0:.1f})"


def _format_percent(flags: pd.Series) -> str:
    if flags.empty:
        return NO_PATIENTS
    return f"{100 * flags.mean():.1f}%"


def table_one(df: pd.DataFrame, knowledge: Knowledge | None = None) -> pd.DataFrame:
    """Table 1: demographics and baseline scores by true condition, formatted for reading.

    Columns are the conditions (in knowledge-base order) plus "All"; a condition that drew no
    patients shows "no patients".

    Parameters
    ----------
    df : pandas.DataFrame
        The patients table (from :func:`outcomes.engine.cohort.generate` or a study).
    knowledge : Knowledge, optional
        The knowledge base (default: the packaged one).

    Returns
    -------
    pandas.DataFrame
        One row per characteristic, one column per condition and "All"; cells are strings.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> t = table_one(generate(500, seed=1))
    >>> t.loc["Patients, n", "All"]
    '500'
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    groups = [(kb.condition(c).label, df[df["condition"] == c]) for c in kb.condition_names]
    groups.append(("All", df))
    rows = {
        "Patients, n": lambda g: f"{len(g)}",
        "Age, years: mean (SD)": lambda g: _format_mean_sd(g["age"]),
        "Female": lambda g: _format_percent(g["sex"] == "female"),
        "Runner or cyclist": lambda g: _format_percent(g["occupation"].isin(["runner", "cyclist"])),
        "Desk-based": lambda g: _format_percent(g["occupation"] == "desk_based"),
        "Sudden onset": lambda g: _format_percent(g["onset"] == "sudden"),
        "Chronic (> 12 weeks)": lambda g: _format_percent(g["chronic"]),
        "Both sides": lambda g: _format_percent(g["side"] == "both"),
        "Pain NRS 0-10: mean (SD)": lambda g: _format_mean_sd(g["pain_nrs"]),
        "ODI 0-100: mean (SD)": lambda g: _format_mean_sd(g["odi"]),
    }
    table = pd.DataFrame(
        {label: [fmt(g) for fmt in rows.values()] for label, g in groups}, index=list(rows)
    )
    table.columns.name = "condition"
    return table


def finding_prevalence(df: pd.DataFrame, knowledge: Knowledge | None = None) -> pd.DataFrame:
    """Share of patients with each finding, by condition, among those where it was recorded.

    Rows are findings (knowledge-base order), columns conditions; a condition with no patients
    (or a finding never recorded for it) gives NaN.

    Parameters
    ----------
    df : pandas.DataFrame
        The patients table (from :func:`outcomes.engine.cohort.generate` or a study).
    knowledge : Knowledge, optional
        The knowledge base (default: the packaged one).

    Returns
    -------
    pandas.DataFrame
        Finding x condition shares in [0, 1].

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> p = finding_prevalence(generate(2000, seed=1))
    >>> bool(p.loc["exam_fair_test", "piriformis_syndrome"] > p.loc["exam_fair_test",
    ...                                                         "disc_herniation"])
    True
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    findings = list(kb.finding_names)
    values = df[findings].astype("float64")
    means = values.groupby(df["condition"].astype(str)).mean()
    return means.reindex(index=list(kb.condition_names)).T.reindex(findings)


def case_mix(knowledge: Knowledge | None = None, df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Case mix per setting: the knowledge base's, and the cohort's observed share if given.

    Parameters
    ----------
    knowledge : Knowledge, optional
        The knowledge base (default: the packaged one).
    df : pandas.DataFrame, optional
        A patients table whose observed case mix to add.

    Returns
    -------
    pandas.DataFrame
        A long table with columns ``setting``, ``condition``, ``expected`` and (when ``df``
        is given) ``observed`` — the share in ``df`` for the settings it contains, NaN
        elsewhere.

    Examples
    --------
    >>> mix = case_mix()
    >>> bool(np.isclose(mix.groupby("setting")["expected"].sum(), 1).all())
    True
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    rows = [(s.name, c, s.case_mix[c]) for s in kb.settings.values() for c in kb.condition_names]
    mix = pd.DataFrame(rows, columns=["setting", "condition", "expected"])
    if df is not None:
        observed = (
            df.groupby([df["setting"].astype(str), df["condition"].astype(str)])
            .size()
            .groupby(level=0)
            .transform(lambda s: s / s.sum())
            .rename("observed")
        )
        mix = mix.join(observed, on=["setting", "condition"])
    return mix


def format_estimate(estimate: float, low: float, high: float, digits: int = 2) -> str:
    """Format an estimate with its interval as ``"0.91 (0.89–0.93)"``.

    Parameters
    ----------
    estimate : float
        The point estimate.
    low, high : float
        The interval's ends.
    digits : int, optional
        Decimals shown.

    Returns
    -------
    str
        ``"estimate (low–high)"``, or "no patients" if any of them is NaN.

    Examples
    --------
    >>> format_estimate(0.912, 0.889, 0.934)
    '0.91 (0.89–0.93)'
    """
    if any(np.isnan(v) for v in (estimate, low, high)):
        return NO_PATIENTS
    return f"{estimate:.{digits}f} ({low:.{digits}f}–{high:.{digits}f})"
