"""Resampling patients, done exactly on counts: the bootstrap behind every interval of evaluate.

Resampling n patients with replacement and counting how many fall in each category (a cell of
a confusion matrix, a right/wrong pattern, a cost) is exactly one multinomial draw of n over
the observed shares, so 1,000 replicates cost the same for a hundred patients or five million,
and counts summed over the partitions of a table too big for memory give the same replicates.
"""

from __future__ import annotations

import numpy as np

#: Coverage of every interval unless a caller asks for another.
LEVEL = 0.95
#: Kinds of interval of a proportion: Wilson's score interval or the percentile bootstrap.
INTERVALS = ("wilson", "bootstrap")


def check_interval(interval: str, name: str = "interval") -> None:
    """Raise a ``ValueError`` naming ``name`` unless ``interval`` is one of :data:`INTERVALS`.

    Parameters
    ----------
    interval
        The interval asked for.
    name
        The argument's name, for the message.

    Returns
    -------
    None

    Examples
    --------
    >>> check_interval("wilson")
    >>> check_interval("exact")
    Traceback (most recent call last):
    ...
    ValueError: interval 'exact' is unknown; choose wilson or bootstrap
    """
    if interval not in INTERVALS:
        raise ValueError(f"{name} {interval!r} is unknown; choose wilson or bootstrap")


def bootstrap_counts(codes: np.ndarray, n_codes: int, n_boot: int, seed: int) -> np.ndarray:
    """Bootstrap replicates of how many patients fall in each category.

    Parameters
    ----------
    codes
        Each patient's category, ``0 .. n_codes - 1``.
    n_codes
        Number of categories.
    n_boot, seed
        Replicates and their seed.

    Returns
    -------
    numpy.ndarray
        Counts, shape ``(n_boot, n_codes)``; each row sums to the number of patients.

    Examples
    --------
    >>> bootstrap_counts(np.array([0, 0, 1]), 2, n_boot=4, seed=0).sum(axis=1).tolist()
    [3, 3, 3, 3]
    """
    return bootstrap_from_counts(np.bincount(codes, minlength=n_codes), n_boot, seed)


def bootstrap_from_counts(counts: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """:func:`bootstrap_counts` from the counts per category alone (the same replicates).

    What out-of-core evaluation sums over partitions (:mod:`outcomes.analysis.scoring`).

    Parameters
    ----------
    counts
        Patients in each category.
    n_boot, seed
        Replicates and their seed.

    Returns
    -------
    numpy.ndarray
        Counts, shape ``(n_boot, len(counts))`` (zeros when there are no patients).

    Examples
    --------
    >>> a = bootstrap_from_counts(np.array([2, 1]), n_boot=5, seed=3)
    >>> bool((a == bootstrap_counts(np.array([0, 0, 1]), 2, n_boot=5, seed=3)).all())
    True
    """
    rng = np.random.default_rng(seed)
    n = int(counts.sum())
    if n == 0:
        return np.zeros((n_boot, len(counts)), dtype=np.int64)
    return rng.multinomial(n, counts / n, size=n_boot)


def bootstrap_mean(values: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Bootstrap replicates of the mean of ``values`` (few distinct values: costs, 0/1, ±1).

    Parameters
    ----------
    values
        One value per patient.
    n_boot, seed
        Replicates and their seed.

    Returns
    -------
    numpy.ndarray
        ``n_boot`` means (NaN when there are no patients).

    Examples
    --------
    >>> boot = bootstrap_mean(np.array([0.0, 1.0, 1.0, 1.0]), n_boot=200, seed=0)
    >>> boot.shape, bool(0.5 < boot.mean() < 1.0)
    ((200,), True)
    """
    distinct, codes = np.unique(values, return_inverse=True)
    counts = np.bincount(codes.ravel(), minlength=len(distinct))
    return bootstrap_mean_from_counts(distinct, counts, n_boot, seed)


def bootstrap_mean_from_counts(
    distinct: np.ndarray, counts: np.ndarray, n_boot: int, seed: int
) -> np.ndarray:
    """:func:`bootstrap_mean` from the sorted distinct values and how many patients have each.

    Parameters
    ----------
    distinct
        The distinct values, sorted.
    counts
        Patients with each value.
    n_boot, seed
        Replicates and their seed.

    Returns
    -------
    numpy.ndarray
        ``n_boot`` means (NaN when there are no patients).

    Examples
    --------
    >>> a = bootstrap_mean_from_counts(np.array([0.0, 1.0]), np.array([1, 3]), 50, 0)
    >>> bool((a == bootstrap_mean(np.array([0.0, 1.0, 1.0, 1.0]), 50, 0)).all())
    True
    """
    n = int(counts.sum())
    if n == 0:
        return np.full(n_boot, np.nan)
    return bootstrap_from_counts(counts, n_boot, seed) @ distinct / n


def safe_divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` elementwise, NaN where ``den`` is not positive (no warning).

    Parameters
    ----------
    num, den
        Numerators and denominators (broadcast together).

    Returns
    -------
    numpy.ndarray
        The ratios.

    Examples
    --------
    >>> safe_divide(np.array([1.0, 1.0]), np.array([4.0, 0.0])).tolist()
    [0.25, nan]
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def percentile_interval(boot: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of bootstrap replicates, ignoring NaN replicates.

    Parameters
    ----------
    boot
        Replicates along the first axis, shape ``(n_boot, ...)``.
    level
        Coverage, e.g. 0.95.

    Returns
    -------
    (low, high)
        Arrays of shape ``boot.shape[1:]``; NaN where no replicate is finite.

    Examples
    --------
    >>> lo, hi = percentile_interval(np.arange(101.0)[:, None], 0.9)
    >>> np.round(lo, 6).tolist(), np.round(hi, 6).tolist()
    ([5.0], [95.0])
    """
    alpha = 100 * (1 - level) / 2
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(boot)
        lo = np.full(boot.shape[1:], np.nan)
        hi = np.full(boot.shape[1:], np.nan)
        ok = finite.any(axis=0)
        if ok.any():
            lo[ok] = np.nanpercentile(boot[:, ok], alpha, axis=0)
            hi[ok] = np.nanpercentile(boot[:, ok], 100 - alpha, axis=0)
    return lo, hi
