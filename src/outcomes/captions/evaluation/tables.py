"""Reading versions of the evaluation tables: one row per metric, measure or cohort, one
column per method, cells such as ``"0.91 (0.89–0.93)"`` (text for a reader; the numbers are
:mod:`outcomes.analysis.evaluate`'s)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from outcomes.analysis.describe import format_estimate
from outcomes.analysis.evaluate import OVERALL


def signed(x: float, digits: int) -> str:
    """A number with its sign, and a true minus sign for negatives.

    Parameters
    ----------
    x
        The number.
    digits
        Decimals shown.

    Returns
    -------
    str

    Examples
    --------
    >>> signed(0.0123, 3), signed(-0.5, 1)
    ('+0.012', '−0.5')
    """
    return f"{x:+.{digits}f}".replace("-", "\N{MINUS SIGN}")


def signed_interval(est: float, lo: float, hi: float, digits: int) -> str:
    """``+0.012 (−0.004 to +0.020)``: signed, with "to" so negative bounds read clearly.

    Parameters
    ----------
    est, lo, hi
        The estimate and its interval.
    digits
        Decimals shown.

    Returns
    -------
    str

    Examples
    --------
    >>> signed_interval(0.012, -0.004, 0.02, 3)
    '+0.012 (−0.004 to +0.020)'
    """
    return f"{signed(est, digits)} ({signed(lo, digits)} to {signed(hi, digits)})"


#: Row labels of :func:`format_metric_table`: each metric in words.
METRIC_LABELS = {
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced accuracy",
    "macro_f1": "macro-F1",
    "sensitivity": "sensitivity",
    "specificity": "specificity",
    "ppv": "PPV",
    "npv": "NPV",
}


def metric_label(metric: str, pathway: str = OVERALL) -> str:
    """A row label of :func:`format_metric_table`: the metric in words, and its pathway.

    Parameters
    ----------
    metric
        A metric of :func:`~outcomes.analysis.evaluate.metric_table`.
    pathway
        Its pathway (``"all"`` for an overall metric).

    Returns
    -------
    str

    Examples
    --------
    >>> metric_label("balanced_accuracy"), metric_label("ppv", "upper_limb_nerve")
    ('balanced accuracy', 'PPV: upper limb nerve')
    """
    name = METRIC_LABELS.get(str(metric), str(metric).replace("_", " "))
    return name if pathway == OVERALL else f"{name}: {str(pathway).replace('_', ' ')}"


def format_metric_table(table: pd.DataFrame, metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """Reading version of :func:`~outcomes.analysis.evaluate.evaluate_methods`: one row per metric
    (and pathway), one column per method, cells ``"0.91 (0.89–0.93)"``.

    Parameters
    ----------
    table
        :func:`~outcomes.analysis.evaluate.evaluate_methods` (or a :func:`metric_table` without a
        ``method`` column).
    metrics
        The metrics to keep (default: all).

    Returns
    -------
    pandas.DataFrame
        Text cells, index the metric (``"sensitivity: hip"`` per pathway).

    Examples
    --------
    >>> t = pd.DataFrame({"method": ["x"], "metric": ["accuracy"], "pathway": ["all"],
    ...                   "estimate": [0.9], "low": [0.85], "high": [0.95], "n": [100]})
    >>> format_metric_table(t).iloc[0, 0]
    '0.90 (0.85–0.95)'
    """
    if "method" not in table:
        table = table.assign(method="method")
    if metrics is not None:
        table = table[table["metric"].isin(metrics)]
    text = [
        "n/a" if not np.isfinite(r.estimate) else format_estimate(r.estimate, r.low, r.high)
        for r in table.itertuples()
    ]
    label = [metric_label(m, p) for m, p in zip(table["metric"], table["pathway"], strict=True)]
    wide = pd.DataFrame({"metric": label, "method": table["method"], "value": text}).pivot(
        index="metric", columns="method", values="value"
    )
    order = list(dict.fromkeys(label))
    return wide.loc[order, list(dict.fromkeys(table["method"]))].rename_axis(columns=None)


def format_safety_table(table: pd.DataFrame) -> pd.DataFrame:
    """Reading version of :func:`~outcomes.analysis.evaluate.safety_by_method`: one row per method,
    one column per measure.

    Proportions show the count beside the interval (``"0.89 (0.82–0.94), 8 of 73"``); the
    cost is per patient.

    Parameters
    ----------
    table
        :func:`~outcomes.analysis.evaluate.safety_by_method`.

    Returns
    -------
    pandas.DataFrame
        Text cells, index the method.

    Examples
    --------
    >>> t = pd.DataFrame({"method": "x", "measure": ["emergencies missed"], "estimate": [0.1],
    ...                   "low": [0.05], "high": [0.2], "count": [5], "of": [50]})
    >>> format_safety_table(t).iloc[0, 0]
    '0.10 (0.05–0.20), 5 of 50'
    """
    text = []
    for r in table.itertuples():
        if not np.isfinite(r.estimate):
            text.append("no patients")
        elif r.measure == "mean cost per patient":
            text.append(format_estimate(r.estimate, r.low, r.high))
        else:
            text.append(f"{format_estimate(r.estimate, r.low, r.high)}, {r.count} of {r.of}")
    wide = pd.DataFrame({"method": table["method"], "measure": table["measure"], "v": text})
    wide = wide.pivot(index="method", columns="measure", values="v")
    return wide.loc[list(dict.fromkeys(table["method"])), list(dict.fromkeys(table["measure"]))]


def format_brier_table(table: pd.DataFrame, digits: int = 4) -> pd.DataFrame:
    """Reading version of :func:`~outcomes.analysis.evaluate.brier_table`: one row per pathway, one
    column per method, cells ``"0.0156 (0.0141–0.0172)"`` (lower is better).

    Parameters
    ----------
    table
        :func:`~outcomes.analysis.evaluate.brier_table`.
    digits
        Decimals shown.

    Returns
    -------
    pandas.DataFrame
        Text cells, index the pathway.

    Examples
    --------
    >>> t = pd.DataFrame({"method": "x", "pathway": ["all"], "brier": [0.05], "low": [0.04],
    ...                   "high": [0.06], "calibration_error": [float("nan")]})
    >>> format_brier_table(t).iloc[0, 0]
    '0.0500 (0.0400–0.0600)'
    """
    text = [format_estimate(r.brier, r.low, r.high, digits=digits) for r in table.itertuples()]
    wide = pd.DataFrame({"pathway": table["pathway"], "method": table["method"], "v": text})
    wide = wide.pivot(index="pathway", columns="method", values="v")
    return wide.loc[
        list(dict.fromkeys(table["pathway"])), list(dict.fromkeys(table["method"]))
    ].rename_axis(columns=None)


def format_shift_table(table: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """Reading version of :func:`~outcomes.analysis.evaluate.shift_table`: one row per cohort, one
    column per method.

    Cells are ``"0.957 (0.950–0.963)"``; with a reference cohort, the change from it follows
    in the same cell (``"; −0.006 (−0.010 to −0.002)"``), and a last column says
    whether that change is paired (same patients) or between independent cohorts.

    Parameters
    ----------
    table
        :func:`~outcomes.analysis.evaluate.shift_table`.
    digits
        Decimals shown.

    Returns
    -------
    pandas.DataFrame
        Text cells, index the cohort.

    Examples
    --------
    >>> t = pd.DataFrame({"cohort": ["a", "b"], "method": "m", "accuracy": [0.9, 0.8],
    ...                   "low": [0.88, 0.78], "high": [0.92, 0.82], "n": 100,
    ...                   "difference": [float("nan"), -0.1], "diff_low": [float("nan"), -0.13],
    ...                   "diff_high": [float("nan"), -0.07], "paired": [None, True]})
    >>> format_shift_table(t).loc["b", "m"]
    '0.800 (0.780–0.820); −0.100 (−0.130 to −0.070)'
    >>> format_shift_table(t).loc["a", "change from"]
    'reference'
    """
    text = [format_estimate(r.accuracy, r.low, r.high, digits=digits) for r in table.itertuples()]
    has_change = "difference" in table
    if has_change:
        text = [
            t
            if not np.isfinite(r.difference)
            else f"{t}; {signed_interval(r.difference, r.diff_low, r.diff_high, digits)}"
            for t, r in zip(text, table.itertuples(), strict=True)
        ]
    wide = pd.DataFrame({"cohort": table["cohort"], "method": table["method"], "v": text})
    wide = wide.pivot(index="cohort", columns="method", values="v")
    wide = wide.loc[list(dict.fromkeys(table["cohort"])), list(dict.fromkeys(table["method"]))]
    if has_change:
        kind = table.drop_duplicates("cohort").set_index("cohort")["paired"]
        wide["change from"] = [
            "reference"
            if p is None or (isinstance(p, float) and np.isnan(p))
            else "same patients (paired)"
            if p
            else "other patients (independent)"
            for p in kind.reindex(wide.index)
        ]
    return wide.rename_axis(index=None, columns=None)
