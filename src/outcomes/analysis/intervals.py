"""The one Wilson score interval of the suite: every proportion of a known number of patients.

Used by the evaluation tables (:mod:`outcomes.analysis.evaluate`), the descriptive and target
checks (:mod:`outcomes.analysis.targets`, :mod:`outcomes.analysis.natural_history`), the
oracle's ceiling and the sample-size planner, so every interval of a proportion in every
notebook is computed the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import ndtri

#: Coverage of an interval unless a caller asks for another.
LEVEL = 0.95


def wilson_interval(successes: Any, totals: Any, level: float = LEVEL) -> tuple[Any, Any]:
    """Wilson score intervals for proportions, vectorised (NaN where the total is 0).

    Never degenerate: 20 of 20 gives (0.84, 1.00), not the percentile bootstrap's
    (1.00, 1.00). Each interval contains its estimate ``successes / totals`` (exactly 1.0 as
    the upper bound when every one succeeds): rounding could otherwise put a bound a hair past
    it, which would give plots negative error bars.

    Parameters
    ----------
    successes, totals
        Counts (scalars or arrays of one shape): successes out of how many.
    level
        Coverage of the interval.

    Returns
    -------
    (low, high)
        Arrays of the inputs' shape; plain floats when both inputs are scalars.

    Examples
    --------
    >>> lo, hi = wilson_interval([20, 90], [20, 100])
    >>> np.round(lo, 3).tolist(), np.round(hi, 3).tolist()
    ([0.839, 0.826], [1.0, 0.945])
    >>> wilson_interval(34, 34)[1]
    1.0
    >>> wilson_interval(0, 0)
    (nan, nan)
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(totals, dtype=float)
    z = ndtri(0.5 + level / 2)  # the normal quantile, as scipy.stats.norm.ppf computes it
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, k / np.where(n > 0, n, 1), np.nan)
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    lo = np.where(n > 0, np.clip(centre - half, 0.0, p), np.nan)
    hi = np.where(n > 0, np.clip(centre + half, p, 1.0), np.nan)
    if lo.ndim == 0:
        return float(lo), float(hi)
    return lo, hi
