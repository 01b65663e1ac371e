"""Confusion matrices: pathway names to codes, counts of true against assigned, each cell's share.

Every metric of :mod:`outcomes.analysis.evaluate` is computed from a confusion matrix of counts
(rows the true pathway, columns the assigned one), so tables computed from patients and from
counts summed over partitions agree exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from outcomes.analysis.evaluate.resampling import (
    LEVEL,
    bootstrap_counts,
    check_interval,
    percentile_interval,
    safe_divide,
)
from outcomes.analysis.intervals import wilson_interval
from outcomes.engine.cohort import feature_columns
from outcomes.knowledge import load_knowledge

#: The pathway whose misses are the dangerous ones (red-flag safety, emergency first).
EMERGENCY = "emergency"
#: The ``pathway`` of a metric computed over all pathways.
OVERALL = "all"
#: Columns of :func:`confusion_long`.
CELL_COLUMNS = ("true", "assigned", "patients", "share", "low", "high", "of")


def pathway_labels(labels: Sequence[str] | None) -> list[str]:
    """Pathways in report order: ``labels`` as given, else the knowledge base's.

    Parameters
    ----------
    labels
        Pathways, or ``None`` for the packaged knowledge base's.

    Returns
    -------
    list of str

    Examples
    --------
    >>> pathway_labels(None)[0], pathway_labels(["hip"])
    ('emergency', ['hip'])
    """
    return list(labels) if labels is not None else list(load_knowledge().pathways)


def pathway_codes(values: Any, labels: list[str], what: str) -> np.ndarray:
    """Position of each value in ``labels`` (vectorised through :class:`pandas.Categorical`).

    Parameters
    ----------
    values
        Pathway names, one per patient.
    labels
        The known pathways, in code order.
    what
        What the values are, for the error naming unknown pathways and their rows.

    Returns
    -------
    numpy.ndarray
        Codes ``0 .. len(labels) - 1`` (int64).

    Examples
    --------
    >>> pathway_codes(["hip", "spinal", "hip"], ["spinal", "hip"], "y_true").tolist()
    [1, 0, 1]
    >>> pathway_codes(["knee"], ["hip"], "y_pred")
    Traceback (most recent call last):
    ...
    ValueError: y_pred holds unknown pathway(s) ['knee'] in 1 row(s) (first at position 0);...
    """
    array = np.asarray(pd.Series(values).astype(object).to_numpy(), dtype=object)
    codes = pd.Categorical(array, categories=labels).codes.astype(np.int64)
    if (codes < 0).any():
        bad = sorted({str(v) for v in array[codes < 0]})[:5]
        rows = np.flatnonzero(codes < 0)
        raise ValueError(
            f"{what} holds unknown pathway(s) {bad} in {len(rows)} row(s) (first at position "
            f"{', '.join(map(str, rows[:5]))}); known: {', '.join(labels)}"
        )
    return codes


def paired_codes(y_true: Any, y_pred: Any, labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`pathway_codes` of true and assigned pathways, checked to be one per patient.

    Parameters
    ----------
    y_true, y_pred
        True and assigned pathways.
    labels
        The known pathways, in code order.

    Returns
    -------
    (true, pred)
        Codes of each.

    Examples
    --------
    >>> [c.tolist() for c in paired_codes(["hip"], ["spinal"], ["hip", "spinal"])]
    [[0], [1]]
    """
    true, pred = pathway_codes(y_true, labels, "y_true"), pathway_codes(y_pred, labels, "y_pred")
    if len(true) != len(pred):
        raise ValueError(f"y_true has {len(true)} patients but y_pred has {len(pred)}")
    return true, pred


def _confusions(
    true: np.ndarray, pred: np.ndarray, k: int, n_boot: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Point confusion matrix (k, k) and bootstrap replicates (n_boot, k, k)."""
    cells = true * k + pred
    point = np.bincount(cells, minlength=k * k).reshape(k, k)
    boot = bootstrap_counts(cells, k * k, n_boot, seed).reshape(n_boot, k, k)
    return point, boot


def confusion(
    y_true: Any, y_pred: Any, *, labels: Sequence[str] | None = None, normalize: bool = False
) -> pd.DataFrame:
    """Confusion matrix, rows the true pathway and columns the assigned one.

    ``normalize=True`` divides each row by its total (share of each true pathway sent to each
    assigned pathway; NaN for a pathway no patient has).

    Parameters
    ----------
    y_true, y_pred
        True and assigned pathways.
    labels
        Pathways in report order (default: the knowledge base's).
    normalize
        Divide each row by its total.

    Returns
    -------
    pandas.DataFrame
        Counts (or shares), index ``true`` and columns ``assigned``.

    Examples
    --------
    >>> confusion(["hip", "hip"], ["hip", "spinal"], labels=["hip", "spinal"]).to_numpy().tolist()
    [[1, 1], [0, 0]]
    """
    labels = pathway_labels(labels)
    true, pred = paired_codes(y_true, y_pred, labels)
    k = len(labels)
    matrix = np.bincount(true * k + pred, minlength=k * k).reshape(k, k)
    table = pd.DataFrame(matrix, index=labels, columns=labels)
    if normalize:
        table = table.div(table.sum(axis=1).where(lambda s: s > 0), axis=0)
    table.index.name, table.columns.name = "true", "assigned"
    return table


def confusion_long(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Sequence[str] | None = None,
    level: float = LEVEL,
    interval: str = "wilson",
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """The confusion matrix as a tidy table, each cell's share with its 95% interval.

    Columns ``true``, ``assigned``, ``patients``, ``share`` (of the true pathway's patients
    sent to the assigned one, NaN for a pathway no patient has), ``low``, ``high`` and
    ``of`` (the true pathway's patients). A share is a proportion of a known number of
    patients, so its interval is Wilson's by default: never degenerate for a cell at 0% or
    100%, as a bootstrap percentile interval would be.

    Parameters
    ----------
    interval
        ``"wilson"`` (default) or ``"bootstrap"``: the percentile interval of the cell's
        share over ``n_boot`` replicates of the whole confusion matrix (patients resampled,
        seeded with ``seed``, drawn exactly as in :func:`metric_table`), so a row's total
        varies between replicates as it would between studies.

    Returns
    -------
    pandas.DataFrame
        One row per cell, the columns above (:data:`CELL_COLUMNS`).

    Examples
    --------
    >>> t = confusion_long(["hip"] * 4, ["spinal"] * 4, labels=["hip", "spinal"])
    >>> t.iloc[1][["true", "assigned"]].tolist(), int(t.iloc[1].patients)
    (['hip', 'spinal'], 4)
    >>> round(float(t.iloc[1].low), 2), float(t.iloc[1].high)
    (0.51, 1.0)
    >>> t = confusion_long(["hip"] * 40, ["hip"] * 30 + ["spinal"] * 10, labels=["hip", "spinal"],
    ...                    interval="bootstrap", n_boot=500)
    >>> bool(t.iloc[1].low < 0.25 < t.iloc[1].high)
    True
    """
    check_interval(interval)
    labels = pathway_labels(labels)
    true, pred = paired_codes(y_true, y_pred, labels)
    k = len(labels)
    point, boot = _confusions(true, pred, k, n_boot if interval == "bootstrap" else 0, seed)
    of = np.repeat(point.sum(axis=1), k)
    patients = point.ravel()
    if interval == "wilson":
        low, high = wilson_interval(patients, of, level)
    else:
        shares = safe_divide(boot, boot.sum(axis=2, keepdims=True))
        low, high = (b.ravel() for b in percentile_interval(shares, level))
    return pd.DataFrame(
        {
            "true": np.repeat(labels, k),
            "assigned": np.tile(labels, k),
            "patients": patients,
            "share": safe_divide(patients.astype(float), of.astype(float)),
            "low": low,
            "high": high,
            "of": of,
        }
    )


def commonest_miss(cells: pd.DataFrame) -> pd.Series | None:
    """The commonest wrong call of one method's :func:`confusion_long`: the off-diagonal cell
    with the largest share of its true pathway (ties: more patients).

    Parameters
    ----------
    cells
        :func:`confusion_long` of one method's calls.

    Returns
    -------
    pandas.Series or None
        The cell's row, or ``None`` if no call is wrong.

    Examples
    --------
    >>> cells = confusion_long(["hip", "hip", "spinal"], ["spinal", "hip", "spinal"])
    >>> w = commonest_miss(cells)
    >>> w["true"], w["assigned"], float(w["share"])
    ('hip', 'spinal', 0.5)
    """
    wrong = cells[(cells["true"] != cells["assigned"]) & (cells["patients"] > 0)]
    if wrong.empty:
        return None
    return wrong.sort_values(["share", "patients"], ascending=False, kind="stable").iloc[0]


def worst_confusion(
    y_true: Any, y_pred: Any, *, labels: Sequence[str] | None = None
) -> pd.Series | None:
    """The commonest wrong call (:func:`commonest_miss`) of ``y_pred``.

    Parameters
    ----------
    y_true, y_pred
        True and assigned pathways.
    labels
        Pathways in report order (default: the knowledge base's).

    Returns
    -------
    pandas.Series or None
        The row of :func:`confusion_long` with the largest off-diagonal share (ties: more
        patients), or ``None`` if no call is wrong.

    Examples
    --------
    >>> w = worst_confusion(["hip", "hip", "spinal"], ["spinal", "hip", "spinal"])
    >>> w["true"], w["assigned"], float(w["share"])
    ('hip', 'spinal', 0.5)
    """
    return commonest_miss(confusion_long(y_true, y_pred, labels=labels))


def confusion_by_method(
    y_true: Any,
    predictions: Mapping[str, Any],
    *,
    labels: Sequence[str] | None = None,
    level: float = LEVEL,
) -> pd.DataFrame:
    """:func:`confusion_long` of several methods' calls on the same patients, one table.

    What :func:`outcomes.faces.plots.confusion_grid` draws: each method's cells with their
    Wilson intervals, and which cell is its commonest wrong call (:func:`commonest_miss`).

    Parameters
    ----------
    y_true
        True pathways of the patients.
    predictions
        Method name -> its pathways for the same patients.
    labels
        Pathways in report order (default: the knowledge base's).
    level
        Coverage of the intervals.

    Returns
    -------
    pandas.DataFrame
        ``method`` and the columns of :func:`confusion_long`, then ``commonest_miss`` (``True``
        on the one cell per method that :func:`commonest_miss` picks, if any).

    Examples
    --------
    >>> t = confusion_by_method(["hip", "spinal"], {"a": ["spinal", "spinal"]},
    ...                         labels=["hip", "spinal"])
    >>> t[t["commonest_miss"]][["method", "true", "assigned"]].values.tolist()
    [['a', 'hip', 'spinal']]
    """
    frames = []
    for name, predicted in predictions.items():
        cells = confusion_long(y_true, predicted, labels=labels, level=level)
        miss = commonest_miss(cells)
        flag = np.zeros(len(cells), dtype=bool)
        if miss is not None:
            flag[cells.index.get_loc(miss.name)] = True
        frames.append(cells.assign(method=name, commonest_miss=flag))
    columns = ["method", *CELL_COLUMNS, "commonest_miss"]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def predictions_of(method: Any, patients: pd.DataFrame) -> np.ndarray:
    """Pathways a method assigns: a fitted estimator's ``predict`` on the feature columns, or
    an array given directly (one per patient).

    Parameters
    ----------
    method
        A fitted estimator, or the pathways themselves.
    patients
        The patients (their feature columns are read).

    Returns
    -------
    numpy.ndarray
        One pathway per patient (object array).

    Examples
    --------
    >>> predictions_of(["hip"], pd.DataFrame({"x": [1]})).tolist()
    ['hip']
    """
    if hasattr(method, "predict"):
        return np.asarray(method.predict(patients[feature_columns()]), dtype=object)
    values = np.asarray(pd.Series(method).astype(str), dtype=object)
    if len(values) != len(patients):
        raise ValueError(f"got {len(values)} predictions for {len(patients)} patients")
    return values
