"""Methods compared on the same patients: McNemar's exact test, the paired difference in
accuracy, and each method's share of the Bayes oracle's accuracy (paired bootstrap)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from outcomes.analysis.evaluate.resampling import (
    LEVEL,
    bootstrap_counts,
    bootstrap_mean,
    percentile_interval,
    safe_divide,
)


def compare_paired(
    y_true: Any,
    pred_a: Any,
    pred_b: Any,
    *,
    names: tuple[str, str] = ("a", "b"),
    n_boot: int = 1000,
    seed: int = 0,
    level: float = LEVEL,
) -> pd.DataFrame:
    """Two triage methods on the same patients: McNemar's exact test and accuracy difference.

    Returns one row: ``a``, ``b``, ``accuracy_a``, ``accuracy_b``, ``difference`` (a - b) with
    its paired-bootstrap ``low``/``high``, ``only_a_right``, ``only_b_right`` (the discordant
    patients) and ``p_value`` (two-sided exact binomial test on the discordant pairs).

    Parameters
    ----------
    y_true
        True pathway of each patient.
    pred_a, pred_b
        The two methods' pathways for the same patients.
    names
        The two methods' names, for the ``a`` and ``b`` columns.
    n_boot, seed, level
        Bootstrap replicates, their seed, and the interval's coverage.

    Returns
    -------
    pandas.DataFrame
        One row, the columns above.

    Examples
    --------
    >>> t = compare_paired(["hip"] * 4, ["hip"] * 4, ["hip", "hip", "spinal", "spinal"],
    ...                    n_boot=50)
    >>> row = t.iloc[0]
    >>> int(row.only_a_right), int(row.only_b_right), float(row.p_value)
    (2, 0, 0.5)
    """
    true = np.asarray(pd.Series(y_true).astype(str))
    right_a = true == np.asarray(pd.Series(pred_a).astype(str))
    right_b = true == np.asarray(pd.Series(pred_b).astype(str))
    if not len(true) == len(right_a) == len(right_b):
        raise ValueError("y_true, pred_a and pred_b must have the same length")
    only_a, only_b = int((right_a & ~right_b).sum()), int((~right_a & right_b).sum())
    discordant = only_a + only_b
    p_value = binomtest(only_a, discordant, 0.5).pvalue if discordant else 1.0
    diff = right_a.astype(float) - right_b
    boot = bootstrap_mean(diff, n_boot, seed)
    lo, hi = percentile_interval(boot[:, None], level)
    return pd.DataFrame(
        [
            {
                "a": names[0],
                "b": names[1],
                "accuracy_a": right_a.mean(),
                "accuracy_b": right_b.mean(),
                "difference": diff.mean(),
                "low": lo[0],
                "high": hi[0],
                "only_a_right": only_a,
                "only_b_right": only_b,
                "p_value": float(p_value),
            }
        ]
    )


def paired_comparisons(
    y_true: Any,
    predictions: Mapping[str, Any],
    pairs: Sequence[tuple[str, str]],
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """:func:`compare_paired` for each ``(a, b)`` pair of named predictions, one row each.

    Parameters
    ----------
    y_true
        True pathway of each patient.
    predictions
        Method name -> its pathways for the same patients.
    pairs
        The ``(a, b)`` pairs of names to compare.
    n_boot, seed
        Bootstrap replicates and their seed.

    Returns
    -------
    pandas.DataFrame
        One row of :func:`compare_paired` per pair.

    Examples
    --------
    >>> t = paired_comparisons(["hip"] * 2, {"x": ["hip", "hip"], "y": ["hip", "spinal"]},
    ...                        [("x", "y")], n_boot=20)
    >>> float(t["difference"].iloc[0])
    0.5
    """
    rows = [
        compare_paired(
            y_true, predictions[a], predictions[b], names=(a, b), n_boot=n_boot, seed=seed
        )
        for a, b in pairs
    ]
    return pd.concat(rows, ignore_index=True)


def oracle_gap(
    y_true: Any,
    predictions: Mapping[str, Any],
    *,
    oracle: str = "oracle",
    n_boot: int = 1000,
    seed: int = 0,
    level: float = LEVEL,
) -> pd.DataFrame:
    """Each method's accuracy as a fraction of the oracle's, with a paired-bootstrap interval.

    Every replicate resamples the same patients for all methods, so the ratio's interval
    reflects only how the methods differ.

    Parameters
    ----------
    y_true
        True pathway of each patient.
    predictions
        Method name -> its pathways for the same patients, the oracle's included.
    oracle
        The oracle's name in ``predictions``.
    n_boot, seed, level
        Bootstrap replicates, their seed, and the interval's coverage.

    Returns
    -------
    pandas.DataFrame
        ``method``, ``accuracy``, ``fraction_of_oracle``, ``low``, ``high``.

    Examples
    --------
    >>> t = oracle_gap(["hip", "spinal"], {"oracle": ["hip", "spinal"], "x": ["hip", "hip"]},
    ...                n_boot=50)
    >>> float(t.set_index("method").loc["x", "fraction_of_oracle"])
    0.5
    """
    if oracle not in predictions:
        raise ValueError(f"predictions must include the oracle under {oracle!r}")
    true = np.asarray(pd.Series(y_true).astype(str))
    right = {name: true == np.asarray(pd.Series(p).astype(str)) for name, p in predictions.items()}
    # Each patient's pattern of right/wrong across methods is one category (a bit per
    # method); resampling patterns keeps every replicate paired across methods.
    names = list(right)
    bits = np.column_stack([right[name] for name in names]).astype(np.int64)
    codes = bits @ (1 << np.arange(len(names)))
    counts = bootstrap_counts(codes, 1 << len(names), n_boot, seed)
    pattern = (np.arange(1 << len(names))[:, None] >> np.arange(len(names))) & 1
    accuracy = counts @ pattern / max(len(true), 1)  # (n_boot, methods)
    reference = accuracy[:, names.index(oracle)]
    rows = []
    for m, (name, r) in enumerate(right.items()):
        lo, hi = percentile_interval(safe_divide(accuracy[:, m], reference)[:, None], level)
        rows.append((name, r.mean(), r.mean() / right[oracle].mean(), lo[0], hi[0]))
    return pd.DataFrame(rows, columns=["method", "accuracy", "fraction_of_oracle", "low", "high"])
