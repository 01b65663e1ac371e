"""Reading versions of the survival tables: the same numbers as text, as notebook 03 shows them.

Each ``format_*`` takes a table of :mod:`outcomes.analysis.survival` and returns one of text
with the same rows; the numbers themselves stay in the analysis.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from outcomes.analysis.describe import NO_PATIENTS
from outcomes.captions.formatting import format_p
from outcomes.captions.survival.words import interval, share


def format_median_times(table: pd.DataFrame) -> pd.DataFrame:
    """Reading version of :func:`outcomes.analysis.survival.median_times`.

    Parameters
    ----------
    table
        :func:`~outcomes.analysis.survival.median_times` output (``patients``,
        ``recovered``, ``median``, ``lower``, ``upper``).

    Returns
    -------
    pandas.DataFrame
        Same index; text columns ``patients``, ``recovered`` (a percentage, one decimal) and
        ``median weeks (95% CI)`` as ``"6 (5–7)"``. A limit beyond follow-up reads ``"not
        reached"``, a median beyond it ``"not reached within follow-up"``, and an empty group
        ``"no patients"``.

    Examples
    --------
    >>> t = pd.DataFrame({"patients": [40, 0, 12], "recovered": [0.9, np.nan, 0.25],
    ...                   "median": [6.0, np.nan, np.inf], "lower": [5.0, np.nan, 30.0],
    ...                   "upper": [np.inf, np.nan, np.inf]}, index=pd.Index(["a", "b", "c"]))
    >>> format_median_times(t)["median weeks (95% CI)"].tolist()
    ['6 (5–not reached)', 'no patients', 'not reached within follow-up']
    >>> format_median_times(t)["recovered"].tolist()
    ['90.0%', 'no patients', '25.0%']
    """
    rows = {}
    for name, r in table.iterrows():
        if r["patients"] == 0:
            rows[name] = ("0", NO_PATIENTS, NO_PATIENTS)
            continue
        if not np.isfinite(r["median"]):
            text = "not reached within follow-up"
        else:
            text = (
                f"{_format_weeks(r['median'])} "
                f"({_format_weeks(r['lower'])}–{_format_weeks(r['upper'])})"
            )
        rows[name] = (f"{int(r['patients'])}", f"{r['recovered']:.1%}", text)
    out = pd.DataFrame.from_dict(
        rows, orient="index", columns=["patients", "recovered", "median weeks (95% CI)"]
    )
    out.index.name = table.index.name
    return out


def format_logrank(table: pd.DataFrame) -> pd.DataFrame:
    """Reading version of :func:`outcomes.analysis.survival.logrank`.

    Parameters
    ----------
    table
        :func:`~outcomes.analysis.survival.logrank` output (``comparison``, ``chi2``,
        ``df``, ``p``).

    Returns
    -------
    pandas.DataFrame
        The same columns: ``chi2`` rounded to one decimal, ``p`` as text (three decimals,
        ``"<0.001"`` below 0.001, ``"n/a"`` when there was nothing to compare).

    Examples
    --------
    >>> t = pd.DataFrame({"comparison": ["all groups", "b vs a"], "chi2": [25.04, np.nan],
    ...                   "df": [1, 1], "p": [5.6e-7, np.nan]})
    >>> format_logrank(t).values.tolist()
    [['all groups', 25.0, 1, '<0.001'], ['b vs a', nan, 1, 'n/a']]
    """
    out = table.copy()
    out["chi2"] = out["chi2"].astype(float).round(1)
    out["df"] = out["df"].astype(int)
    out["p"] = ["n/a" if not np.isfinite(p) else format_p(p) for p in out["p"].astype(float)]
    return out


def format_weeks_saved(table: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Reading version of :func:`~outcomes.analysis.survival.weeks_saved`: estimates with their
    intervals as text.

    Parameters
    ----------
    table
        :func:`outcomes.analysis.survival.weeks_saved` output.
    reference
        Its reference policy (its row reads "reference").

    Returns
    -------
    pandas.DataFrame
        Per policy: ``mean weeks to recovery (95% CI)`` and ``weeks saved per 100 vs
        <reference> (95% CI)`` as text.

    Examples
    --------
    >>> t = pd.DataFrame({"rmst_weeks": [9.0, 8.0], "rmst_lower": [8.5, 7.5],
    ...                   "rmst_upper": [9.5, 8.5], "saved_per_100": [0.0, 100.0],
    ...                   "saved_lower": [0.0, 80.0], "saved_upper": [0.0, 120.0]},
    ...                  index=pd.Index(["rules", "oracle"], name="policy"))
    >>> format_weeks_saved(t, "rules").iloc[1, 1]
    '100 (80–120)'
    """
    out = pd.DataFrame(
        {
            "mean weeks to recovery (95% CI)": [
                interval(r.rmst_weeks, r.rmst_lower, r.rmst_upper, 1) for r in table.itertuples()
            ],
            f"weeks saved per 100 vs {reference} (95% CI)": [
                "reference"
                if name == reference
                else interval(r.saved_per_100, r.saved_lower, r.saved_upper, 0)
                for name, r in zip(table.index, table.itertuples(), strict=True)
            ],
        },
        index=table.index,
    )
    return out


def format_harms(table: pd.DataFrame) -> pd.DataFrame:
    """Reading version of :func:`outcomes.analysis.survival.harms`: the share as text.

    Parameters
    ----------
    table
        :func:`~outcomes.analysis.survival.harms` output.

    Returns
    -------
    pandas.DataFrame
        The same table with ``share harmed`` as a percentage (one decimal), ``"no
        patients"`` where no patient had serious pathology.

    Examples
    --------
    >>> t = pd.DataFrame({"patients with serious pathology": [8, 0],
    ...                   "under-triaged emergencies": [1, 0], "share harmed": [0.125, np.nan]},
    ...                  index=pd.Index(["rules", "oracle"], name="policy"))
    >>> format_harms(t)["share harmed"].tolist()
    ['12.5%', 'no patients']
    """
    out = table.copy()
    out["share harmed"] = [
        f"{x:.1%}" if s else NO_PATIENTS
        for x, s in zip(
            table["share harmed"], table["patients with serious pathology"], strict=True
        )
    ]
    return out


def format_combined_presentations(table: pd.DataFrame) -> pd.DataFrame:
    """Reading version of :func:`outcomes.analysis.survival.combined_presentations`.

    Parameters
    ----------
    table
        :func:`~outcomes.analysis.survival.combined_presentations` output.

    Returns
    -------
    pandas.DataFrame
        Per policy, text: ``combined patients``, ``secondary part on its own pathway`` (a
        whole percentage, ``"<1%"`` for a small non-zero share), ``pain left, combined (95%
        CI)`` and ``pain left, single (95% CI)`` as ``"40% (35%–45%)"``; ``"no patients"``
        where a group is empty.

    Examples
    --------
    >>> t = pd.DataFrame({"combined_patients": [1200], "own_pathway": [0.004],
    ...                   "combined_mean": [0.4], "combined_lower": [0.35],
    ...                   "combined_upper": [0.45], "single_mean": [np.nan],
    ...                   "single_lower": [np.nan], "single_upper": [np.nan]},
    ...                  index=pd.Index(["rules"], name="policy"))
    >>> format_combined_presentations(t).loc["rules"].tolist()
    ['1,200', '<1%', '40% (35%–45%)', 'no patients']
    """

    def mean_ci(r: pd.Series, kind: str) -> str:
        if not np.isfinite(r[f"{kind}_mean"]):
            return NO_PATIENTS
        return f"{r[f'{kind}_mean']:.0%} ({r[f'{kind}_lower']:.0%}–{r[f'{kind}_upper']:.0%})"

    rows = {
        name: {
            "combined patients": f"{int(r['combined_patients']):,}",
            "secondary part on its own pathway": (
                share(r["own_pathway"]) if r["combined_patients"] else NO_PATIENTS
            ),
            "pain left, combined (95% CI)": mean_ci(r, "combined"),
            "pain left, single (95% CI)": mean_ci(r, "single"),
        }
        for name, r in table.iterrows()
    }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = table.index.name
    return out


def _format_weeks(value: float) -> str:
    return "not reached" if not np.isfinite(value) else f"{value:.0f}"
