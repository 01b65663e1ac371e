"""Can the probabilities be trusted? One-vs-rest reliability per pathway (emergency first), a
binomial test per bin, and Brier scores with intervals.

One binning (:func:`reliability_counts`: patients, summed probability and events per pathway
and bin) feeds both the reliability table and the per-bin test; the counts add up over any
split of the patients.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from outcomes.analysis.evaluate.confusion import EMERGENCY, OVERALL
from outcomes.analysis.evaluate.resampling import LEVEL, percentile_interval
from outcomes.analysis.intervals import wilson_interval
from outcomes.engine.cohort import feature_columns
from outcomes.infra.progress import progress_bar

#: Per-bin significance level of :func:`calibration_check` verdicts: about 4 binomial standard
#: errors two-sided, so over ~60 bins (5 pathways x 12) a calibrated method is flagged by
#: chance with probability under 60 x 1e-4 = 0.6%.
CALIBRATION_ALPHA = 1e-4


#: Bin edges of :func:`calibration_check`: fine near 0 and 1, where most patients of every
#: pathway sit and where the rare emergency pathway's decisions are made (the least-cost
#: threshold of ``costs.toml`` is near 0.06), coarser in between.
RELIABILITY_EDGES = (0.0, 0.01, 0.05, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 0.95, 0.99, 1.0)


def _bin_of(p: np.ndarray, bins: int | Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Bin index of each probability and the edges (``bins`` equal bins or explicit edges)."""
    edges = (
        np.linspace(0.0, 1.0, bins + 1)
        if isinstance(bins, int | np.integer)
        else np.asarray(bins, dtype=float)
    )
    if len(edges) < 2 or edges[0] != 0 or edges[-1] != 1 or (np.diff(edges) <= 0).any():
        raise ValueError(f"bin edges must rise from 0 to 1, got {edges.tolist()}")
    inner = np.searchsorted(edges, p, side="right") - 1
    return np.clip(inner, 0, len(edges) - 2), edges


def _filled_bins(
    y_true: Any, proba: Any, classes: Sequence[str], bins: int | Sequence[float]
) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """The one binning of this module: per pathway (emergency first), the bins holding
    patients, and in each the patients, their summed probability and the true members; then
    the bin edges."""
    true = np.asarray(pd.Series(y_true).astype(str))
    proba = check_probabilities(proba, classes, len(true))
    out = []
    for j in emergency_first(classes):
        p, hit = proba[:, j], true == classes[j]
        index, edges = _bin_of(p, bins)
        k = len(edges) - 1
        n = np.bincount(index, minlength=k)
        sum_p = np.bincount(index, weights=p, minlength=k)
        hits = np.bincount(index, weights=hit, minlength=k)
        filled = np.flatnonzero(n)
        out.append((classes[j], filled, n[filled], sum_p[filled], hits[filled], edges))
    return out


def check_probabilities(proba: Any, classes: Sequence[str], n: int) -> np.ndarray:
    """Probabilities checked: one row per patient, one column per class, values in [0, 1].

    Parameters
    ----------
    proba
        The probabilities.
    classes
        The class of each column.
    n
        The number of patients.

    Returns
    -------
    numpy.ndarray
        ``proba`` as floats; a ``ValueError`` names a wrong shape or the rows out of range.

    Examples
    --------
    >>> check_probabilities([[0.2, 0.8]], ["hip", "spinal"], 1).tolist()
    [[0.2, 0.8]]
    >>> check_probabilities([[0.2, 1.8]], ["hip", "spinal"], 1)
    Traceback (most recent call last):
    ...
    ValueError: proba rows [0] (1 in all) hold values outside [0, 1]
    """
    proba = np.asarray(proba, dtype=float)
    if proba.shape != (n, len(classes)):
        raise ValueError(
            f"proba has shape {proba.shape}; expected ({n}, {len(classes)}): one row per "
            "patient, one column per class"
        )
    bad = np.flatnonzero(
        ~np.isfinite(proba).all(axis=1) | (proba < 0).any(axis=1) | (proba > 1 + 1e-9).any(axis=1)
    )
    if len(bad):
        raise ValueError(
            f"proba rows {bad[:5].tolist()} ({len(bad)} in all) hold values outside [0, 1]"
        )
    return proba


def emergency_first(classes: Sequence[str]) -> list[int]:
    """Positions of ``classes`` in report order: emergency first, the others as given.

    Parameters
    ----------
    classes
        Class names.

    Returns
    -------
    list of int

    Examples
    --------
    >>> emergency_first(["hip", "emergency", "spinal"])
    [1, 0, 2]
    """
    return sorted(range(len(classes)), key=lambda j: (classes[j] != EMERGENCY, j))


def calibration_table(
    y_true: Any, proba: np.ndarray, classes: Sequence[str], *, n_bins: int | Sequence[float] = 10
) -> pd.DataFrame:
    """One-vs-rest reliability per pathway (emergency first): predicted vs observed by bin.

    Parameters
    ----------
    y_true : array-like
        The true pathway of each patient.
    proba : numpy.ndarray
        Predicted probabilities, one row per patient, one column per pathway of ``classes``.
    classes : sequence of str
        The pathways, in the order of ``proba``'s columns.
    n_bins
        Number of equal-width bins, or the bin edges themselves (rising from 0 to 1, e.g.
        :data:`RELIABILITY_EDGES`).

    Returns
    -------
    pandas.DataFrame
        Columns ``pathway``, ``bin``, ``mean_predicted``, ``observed``, ``low``, ``high``
        (Wilson interval of the observed share) and ``n``; empty bins are left out.

    Examples
    --------
    >>> t = calibration_table(["hip", "spinal"], np.array([[0.9, 0.1], [0.2, 0.8]]),
    ...                       ["hip", "spinal"], n_bins=2)
    >>> t[["pathway", "bin", "n"]].values.tolist()
    [['hip', 0, 1], ['hip', 1, 1], ['spinal', 0, 1], ['spinal', 1, 1]]
    """
    rows = []
    for pathway, filled, n, sum_p, hits, _ in _filled_bins(y_true, proba, classes, n_bins):
        lo, hi = wilson_interval(hits, n)
        rows += [
            (pathway, int(b), sum_p[i] / n[i], hits[i] / n[i], lo[i], hi[i], int(n[i]))
            for i, b in enumerate(filled)
        ]
    columns = ["pathway", "bin", "mean_predicted", "observed", "low", "high", "n"]
    return pd.DataFrame(rows, columns=columns)


def calibration_check(
    y_true: Any,
    proba: np.ndarray,
    classes: Sequence[str],
    *,
    edges: Sequence[float] = RELIABILITY_EDGES,
) -> pd.DataFrame:
    """Are one-vs-rest probabilities calibrated within sampling error? A test per bin.

    For each pathway (emergency first) and each bin of :data:`RELIABILITY_EDGES`, the number
    of patients who truly belong to the pathway (``events``) is compared with the number the
    probabilities promise (``expected``, their sum). Under calibration ``events`` is a sum of
    independent Bernoulli trials; ``p_value`` is the exact two-sided binomial test of
    ``events`` at the bin's mean probability, which is conservative for such a sum (Hoeffding
    1956: a Poisson-binomial is more concentrated than the binomial of the same mean) and
    exact for small counts, where the normal approximation fails (a rare pathway's low bins).
    ``z`` is the same gap in binomial standard errors.

    Parameters
    ----------
    y_true
        True pathway of each patient.
    proba, classes
        Probabilities, one row per patient and one column per class named in ``classes``.
    edges
        Bin edges, rising from 0 to 1.

    Returns
    -------
    pandas.DataFrame
        ``pathway``, ``bin_low``, ``bin_high``, ``n``, ``mean_predicted``, ``observed``,
        ``events``, ``expected``, ``z``, ``p_value``; empty bins are left out.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> p = rng.random(4000)
    >>> truth = np.where(rng.random(4000) < p, "hip", "spinal")
    >>> t = calibration_check(truth, np.column_stack([p, 1 - p]), ["hip", "spinal"])
    >>> bool(t["p_value"].min() > 1e-4)
    True
    """
    rows = []
    for pathway, filled, n, expected, hits, edge in _filled_bins(y_true, proba, classes, edges):
        events = hits.astype(int)
        for i, b in enumerate(filled):  # a loop over at most a dozen bins, not over patients
            mean = min(max(expected[i] / n[i], 0.0), 1.0)
            se = np.sqrt(mean * (1 - mean) / n[i])
            gap = events[i] / n[i] - mean
            z = gap / se if se > 0 else (0.0 if gap == 0 else np.inf * np.sign(gap))
            p_value = (
                binomtest(int(events[i]), int(n[i]), mean).pvalue
                if 0 < mean < 1
                else (float((events[i] == 0) if mean == 0 else (events[i] == n[i])))
            )
            rows.append(
                (
                    pathway,
                    edge[b],
                    edge[b + 1],
                    int(n[i]),
                    mean,
                    events[i] / n[i],
                    int(events[i]),
                    float(expected[i]),
                    float(z),
                    float(p_value),
                )
            )
    columns = [
        "pathway",
        "bin_low",
        "bin_high",
        "n",
        "mean_predicted",
        "observed",
        "events",
        "expected",
        "z",
        "p_value",
    ]
    return pd.DataFrame(rows, columns=columns)


def _boot_weights_means(values: np.ndarray, n_boot: int, seed: int, chunk: int = 100) -> np.ndarray:
    """Bootstrap replicates of the column means of ``values`` (n, m): shape (n_boot, m).

    Each replicate resamples patients (whole rows, so columns stay paired) as multinomial
    weights; replicates are drawn in chunks to bound memory at ``chunk * n`` counts.
    """
    n = len(values)
    out = np.full((n_boot, values.shape[1]), np.nan)
    if n == 0:
        return out
    rng = np.random.default_rng(seed)
    uniform = np.full(n, 1.0 / n)
    starts = range(0, n_boot, chunk)
    for start in progress_bar(starts, desc="bootstrap", unit="chunk", min_total=20):
        size = min(chunk, n_boot - start)
        weights = rng.multinomial(n, uniform, size=size)
        out[start : start + size] = weights @ values / n
    return out


def brier_scores(
    y_true: Any,
    proba: np.ndarray,
    classes: Sequence[str],
    *,
    n_boot: int | None = None,
    seed: int = 0,
    level: float = LEVEL,
) -> pd.DataFrame:
    """Brier score per pathway (one-vs-rest) and overall (multiclass, summed over pathways),
    with the expected calibration error of each pathway's probabilities (10 bins); the
    overall row's calibration error is their mean over pathways (the classwise ECE).

    Parameters
    ----------
    y_true : array-like
        The true pathway of each patient.
    proba : numpy.ndarray
        Predicted probabilities, one row per patient, one column per pathway of ``classes``.
    classes : sequence of str
        The pathways, in the order of ``proba``'s columns.
    n_boot, seed, level
        With ``n_boot`` replicates, add ``low`` and ``high``: a percentile-bootstrap interval
        of each Brier score (patients resampled, the same replicates for every pathway).
        Without it the table has no interval columns (as before).

    Returns
    -------
    pandas.DataFrame
        ``pathway`` (emergency first, ``"all"`` last), ``brier`` (with ``low`` and ``high``
        when ``n_boot`` is given) and ``calibration_error``.

    Examples
    --------
    >>> t = brier_scores(["hip", "spinal"], np.array([[1.0, 0.0], [0.0, 1.0]]), ["hip", "spinal"])
    >>> t["brier"].tolist(), t["calibration_error"].tolist()
    ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    >>> t = brier_scores(["hip", "spinal", "hip"], np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]]),
    ...                  ["hip", "spinal"], n_boot=200)
    >>> bool((t["low"] <= t["brier"]).all() and (t["brier"] <= t["high"]).all())
    True
    """
    true = np.asarray(pd.Series(y_true).astype(str))
    proba = check_probabilities(proba, classes, len(true))
    onehot = np.column_stack([true == c for c in classes]).astype(float)
    squared = (proba - onehot) ** 2
    per_patient = np.column_stack([squared, squared.sum(axis=1)])
    table = calibration_table(y_true, proba, classes)
    rows = []
    for j, c in enumerate(classes):
        part = table[table["pathway"] == c]
        ece = float(
            (part["n"] * (part["mean_predicted"] - part["observed"]).abs()).sum()
            / max(len(true), 1)
        )
        rows.append((c, float(squared[:, j].mean()) if len(true) else np.nan, ece))
    overall_ece = float(np.mean([r[2] for r in rows])) if rows and len(true) else np.nan
    rows.append((OVERALL, float(squared.sum(axis=1).mean()) if len(true) else np.nan, overall_ece))
    out = pd.DataFrame(rows, columns=["pathway", "brier", "calibration_error"])
    if n_boot is not None:
        boot = _boot_weights_means(per_patient, n_boot, seed)
        lo, hi = percentile_interval(boot, level)
        out["low"] = np.minimum(lo, out["brier"])
        out["high"] = np.maximum(hi, out["brier"])
        out = out[["pathway", "brier", "low", "high", "calibration_error"]]
    order = sorted(
        range(len(out)),
        key=lambda i: (out["pathway"].iloc[i] != EMERGENCY, out["pathway"].iloc[i] == OVERALL),
    )
    return out.iloc[order].reset_index(drop=True)


def probabilities_of(method: Any, patients: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """A fitted method's probabilities on the feature columns and their class names.

    Parameters
    ----------
    method
        A fitted method with ``predict_proba`` and ``classes_``, or a ``(proba, classes)`` pair.
    patients
        The patients (their feature columns are read).

    Returns
    -------
    (proba, classes)
        Probabilities, one row per patient, and the class of each column.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.triage.oracle import BayesOracle
    >>> patients = generate(200, seed=1)
    >>> proba, classes = probabilities_of(BayesOracle().fit(patients), patients)
    >>> proba.shape == (200, len(classes))
    True
    """
    if isinstance(method, tuple):
        proba, classes = method
        return np.asarray(proba, dtype=float), [str(c) for c in classes]
    proba = method.predict_proba(patients[feature_columns()])
    return np.asarray(proba, dtype=float), [str(c) for c in method.classes_]


def brier_table(
    methods: Mapping[str, Any],
    patients: pd.DataFrame,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = LEVEL,
) -> pd.DataFrame:
    """:func:`brier_scores` with intervals for several methods on the same patients.

    Parameters
    ----------
    methods
        Name -> a fitted method with ``predict_proba`` and ``classes_``, or a
        ``(proba, classes)`` pair.
    patients : pandas.DataFrame
        The patients to score them on, with their true ``pathway``.
    n_boot : int, optional
        Bootstrap replicates of each interval.
    seed : int, optional
        Seed of the bootstrap.
    level : float, optional
        Coverage of the intervals.

    Returns
    -------
    pandas.DataFrame
        ``method``, ``pathway``, ``brier``, ``low``, ``high``, ``calibration_error``. The
        bootstrap weights depend only on the number of patients and the seed, so every
        method is scored on the same resampled patients in every replicate (paired); each
        row still gives that method's own interval, not a difference between methods.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.triage.oracle import BayesOracle
    >>> patients = generate(300, seed=1)
    >>> t = brier_table({"oracle": BayesOracle().fit(patients)}, patients, n_boot=50)
    >>> t["pathway"].iloc[0], t["pathway"].iloc[-1]
    ('emergency', 'all')
    """
    truth = patients["pathway"].astype(str)
    frames = []
    for name, method in methods.items():
        proba, classes = probabilities_of(method, patients)
        scores = brier_scores(truth, proba, classes, n_boot=n_boot, seed=seed, level=level)
        frames.append(scores.assign(method=name))
    out = pd.concat(frames, ignore_index=True)
    return out[["method", *[c for c in out.columns if c != "method"]]]
