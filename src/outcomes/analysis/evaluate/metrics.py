"""The metric table: accuracy, balanced accuracy, macro-F1, and per pathway sensitivity,
specificity, PPV and NPV, each with a 95% interval, from patients or from counts alone.

Overall metrics have percentile-bootstrap intervals (patients resampled exactly on counts,
:mod:`outcomes.analysis.evaluate.resampling`); per-pathway rates, proportions of a known number
of patients, have Wilson intervals by default (:func:`outcomes.analysis.intervals.wilson_interval`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from outcomes.analysis.evaluate.confusion import (
    OVERALL,
    paired_codes,
    pathway_labels,
    predictions_of,
)
from outcomes.analysis.evaluate.resampling import (
    LEVEL,
    bootstrap_from_counts,
    check_interval,
    percentile_interval,
    safe_divide,
)
from outcomes.analysis.intervals import wilson_interval

#: The overall metrics, in report order.
METRICS = ("accuracy", "balanced_accuracy", "macro_f1")
#: The per-pathway metrics, in report order.
PER_PATHWAY = ("sensitivity", "specificity", "ppv", "npv")


def _per_class(conf: np.ndarray) -> dict[str, np.ndarray]:
    """Per-pathway counts and rates from confusion matrices (..., k, k)."""
    tp = np.diagonal(conf, axis1=-2, axis2=-1).astype(float)
    actual = conf.sum(axis=-1).astype(float)
    predicted = conf.sum(axis=-2).astype(float)
    total = conf.sum(axis=(-2, -1))[..., None].astype(float)
    fn, fp = actual - tp, predicted - tp
    tn = total - tp - fn - fp
    return {
        "sensitivity": safe_divide(tp, actual),
        "specificity": safe_divide(tn, tn + fp),
        "ppv": safe_divide(tp, predicted),
        "npv": safe_divide(tn, tn + fn),
        "f1": np.where(2 * tp + fp + fn > 0, safe_divide(2 * tp, 2 * tp + fp + fn), 0.0),
        "actual": actual,
        "predicted": predicted,
        "negatives": total - actual,
    }


def _overall(conf: np.ndarray, present: np.ndarray) -> dict[str, np.ndarray]:
    """Accuracy, balanced accuracy (pathways present in the truth), macro-F1 (in truth or
    prediction, as scikit-learn does)."""
    per = _per_class(conf)
    total = conf.sum(axis=(-2, -1)).astype(float)
    trace = np.trace(conf, axis1=-2, axis2=-1).astype(float)
    with np.errstate(invalid="ignore"):
        sens = np.where(present, per["sensitivity"], np.nan)
        balanced = np.nanmean(sens, axis=-1) if present.any() else np.full(total.shape, np.nan)
    seen = present | (conf.sum(axis=-2) > 0).any(axis=tuple(range(conf.ndim - 2)))
    macro_f1 = per["f1"][..., seen].mean(axis=-1) if seen.any() else np.full(total.shape, np.nan)
    return {
        "accuracy": safe_divide(trace, total),
        "balanced_accuracy": balanced,
        "macro_f1": macro_f1,
    }


def metric_table(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Sequence[str] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = LEVEL,
    per_pathway_interval: str = "wilson",
) -> pd.DataFrame:
    """Accuracy metrics with 95% intervals, as a tidy table.

    Overall metrics (accuracy, balanced accuracy, macro-F1) have percentile-bootstrap
    intervals. Per-pathway sensitivity, specificity, PPV and NPV are proportions of a known
    number of patients, so they get Wilson intervals by default: a percentile bootstrap of a
    proportion at 0 or 1 collapses to a point ("1.00 (1.00–1.00)"), which a handful of cases
    easily produce, whereas a Wilson interval never does.

    Parameters
    ----------
    y_true, y_pred
        Pathway names, one per patient.
    labels
        Pathways in report order (default: the knowledge base's).
    n_boot, seed, level
        Bootstrap replicates, their seed, and the interval's coverage.
    per_pathway_interval
        ``"wilson"`` (default) or ``"bootstrap"`` (percentile, as before).

    Returns
    -------
    pandas.DataFrame
        Columns ``metric``, ``pathway`` (``"all"`` for overall metrics), ``estimate``,
        ``low``, ``high``, ``n`` (patients the metric is computed over). A metric that cannot
        be computed (e.g. the sensitivity of a pathway no patient has) is NaN, never an error.

    Examples
    --------
    >>> t = metric_table(["spinal", "hip", "spinal"], ["spinal", "spinal", "spinal"], n_boot=50)
    >>> row = t[(t.metric == "sensitivity") & (t.pathway == "spinal")].iloc[0]
    >>> float(row.estimate), int(row.n)
    (1.0, 2)
    """
    check_interval(per_pathway_interval, "per_pathway_interval")
    labels = pathway_labels(labels)
    true, pred = paired_codes(y_true, y_pred, labels)
    point = np.bincount(true * len(labels) + pred, minlength=len(labels) ** 2)
    return metric_table_from_confusion(
        point.reshape(len(labels), len(labels)),
        labels=labels,
        n_boot=n_boot,
        seed=seed,
        level=level,
        per_pathway_interval=per_pathway_interval,
    )


def metric_table_from_confusion(
    point: Any,
    *,
    labels: Sequence[str] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = LEVEL,
    per_pathway_interval: str = "wilson",
) -> pd.DataFrame:
    """:func:`metric_table` from the confusion matrix of counts alone (rows the true pathway,
    columns the assigned one, in ``labels`` order): the same table, bootstrap included, as
    from the patients. Counts add up over any split of the patients, so a table too big for
    memory is evaluated from its partitions' counts (:mod:`outcomes.analysis.scoring`).

    Parameters
    ----------
    point
        The confusion matrix of counts, ``len(labels)`` square.
    labels, n_boot, seed, level, per_pathway_interval
        As in :func:`metric_table`.

    Returns
    -------
    pandas.DataFrame
        :func:`metric_table` of the same patients.

    Examples
    --------
    >>> t = metric_table_from_confusion([[2, 0], [1, 0]], labels=["spinal", "hip"], n_boot=50)
    >>> u = metric_table(["spinal", "hip", "spinal"], ["spinal", "spinal", "spinal"],
    ...                  labels=["spinal", "hip"], n_boot=50)
    >>> t.equals(u)
    True
    """
    check_interval(per_pathway_interval, "per_pathway_interval")
    labels = pathway_labels(labels)
    k = len(labels)
    point = np.asarray(point, dtype=np.int64)
    if point.shape != (k, k) or (point < 0).any():
        raise ValueError(
            f"confusion must be a {k} x {k} matrix of counts >= 0 (one row and column per "
            f"pathway: {', '.join(labels)}); got shape {point.shape}"
        )
    boot = bootstrap_from_counts(point.ravel(), n_boot, seed).reshape(n_boot, k, k)
    total = int(point.sum())
    present = point.sum(axis=1) > 0
    rows = []
    overall_point, overall_boot = _overall(point, present), _overall(boot, present)
    for metric in METRICS:
        lo, hi = percentile_interval(overall_boot[metric][:, None], level)
        rows.append((metric, OVERALL, float(overall_point[metric]), lo[0], hi[0], total))
    per_point, per_boot = _per_class(point), _per_class(boot)
    sizes = {
        "sensitivity": per_point["actual"],
        "specificity": per_point["negatives"],
        "ppv": per_point["predicted"],
        "npv": total - per_point["predicted"],
    }
    tp = np.diagonal(point).astype(float)
    successes = {
        "sensitivity": tp,
        "specificity": per_point["negatives"] - (per_point["predicted"] - tp),
        "ppv": tp,
        "npv": total - per_point["predicted"] - (per_point["actual"] - tp),
    }
    for metric in PER_PATHWAY:
        if per_pathway_interval == "wilson":
            lo, hi = wilson_interval(successes[metric], sizes[metric], level)
        else:
            lo, hi = percentile_interval(per_boot[metric], level)
        for j, label in enumerate(labels):
            rows.append((metric, label, per_point[metric][j], lo[j], hi[j], int(sizes[metric][j])))
    table = pd.DataFrame(rows, columns=["metric", "pathway", "estimate", "low", "high", "n"])
    table["n"] = table["n"].astype(int)
    return table


def evaluate_methods(
    methods: Mapping[str, Any],
    patients: pd.DataFrame,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    per_pathway_interval: str = "wilson",
) -> pd.DataFrame:
    """:func:`metric_table` for several methods on the same patients, with a ``method`` column
    (``per_pathway_interval`` as there).

    Each method's intervals are its own: the bootstrap draws replicates of that method's
    confusion matrix (a multinomial over its own cells, seeded with ``seed``), so they are
    reproducible but **not paired across methods**; two methods with the same confusion
    matrix get the same intervals whichever patients each got wrong. Overlapping intervals
    therefore say nothing about a difference between methods: for that use
    :func:`compare_paired` or :func:`paired_comparisons` (McNemar's test and a paired
    bootstrap of the per-patient difference) and :func:`oracle_gap`, which resample
    patients jointly for every method.

    Parameters
    ----------
    methods
        Method name -> a fitted method or its pathways (:func:`predictions_of`).
    patients
        The patients (true ``pathway`` and feature columns).
    n_boot, seed, per_pathway_interval
        As in :func:`metric_table`.

    Returns
    -------
    pandas.DataFrame
        ``method`` and the columns of :func:`metric_table`.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> patients = generate(300, seed=1)
    >>> t = evaluate_methods({"truth": patients["pathway"]}, patients, n_boot=20)
    >>> float(t[(t.method == "truth") & (t.metric == "accuracy")].estimate.iloc[0])
    1.0

    Wrong on different patients, in the same numbers: the same intervals.

    >>> t = evaluate_methods({"a": ["hip"] * 8 + ["spinal"] * 2,
    ...                       "b": ["spinal"] * 2 + ["hip"] * 8}, pd.DataFrame({"pathway":
    ...                       ["hip"] * 10}), n_boot=50)
    >>> a, b = (t[(t.method == m) & (t.metric == "accuracy")] for m in "ab")
    >>> a[["low", "high"]].to_numpy().tolist() == b[["low", "high"]].to_numpy().tolist()
    True
    """
    truth = patients["pathway"].astype(str)
    frames = [
        metric_table(
            truth,
            predictions_of(m, patients),
            n_boot=n_boot,
            seed=seed,
            per_pathway_interval=per_pathway_interval,
        ).assign(method=name)
        for name, m in methods.items()
    ]
    out = pd.concat(frames, ignore_index=True)
    return out[["method", *[c for c in out.columns if c != "method"]]]


def estimate_of(
    table: pd.DataFrame, method: str, metric: str = "accuracy", pathway: str = OVERALL
) -> tuple[float, float, float]:
    """``(estimate, low, high)`` of one row of :func:`evaluate_methods`, found by its labels.

    Parameters
    ----------
    table
        :func:`evaluate_methods` (or :func:`metric_table`).
    method, metric, pathway
        The row's labels.

    Returns
    -------
    (estimate, low, high)
        Floats.

    Examples
    --------
    >>> t = pd.DataFrame({"method": ["a", "b"], "metric": "accuracy", "pathway": "all",
    ...                   "estimate": [0.8, 0.9], "low": [0.7, 0.85], "high": [0.85, 0.95]})
    >>> estimate_of(t, "b")
    (0.9, 0.85, 0.95)
    """
    if "method" not in table:
        table = table.assign(method=method)
    hit = table[
        (table["method"] == method) & (table["metric"] == metric) & (table["pathway"] == pathway)
    ]
    if len(hit) != 1:
        raise ValueError(
            f"no single row for method {method!r}, metric {metric!r}, pathway "
            f"{pathway!r} (found {len(hit)})"
        )
    row = hit.iloc[0]
    return float(row["estimate"]), float(row["low"]), float(row["high"])
