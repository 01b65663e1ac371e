"""When a patient counts as recovered: the criterion of ``recovery.toml``, visit by visit.

A visit qualifies by an absolute or a relative fall in pain (:func:`recovery_criterion`);
recovery is a run of ``sustained_visits`` qualifying visits (:func:`first_sustained`).
"""

from __future__ import annotations

import numpy as np

from outcomes.engine.recovery.params import RecoveryParams, load_recovery


def recovery_criterion(pain: np.ndarray, params: RecoveryParams | None = None) -> np.ndarray:
    """Which visits meet the recovery criterion of ``recovery.toml`` (before "sustained").

    ``pain`` has one row per patient and one column per week, week 0 (the baseline) first. A
    visit qualifies when pain fell by at least ``min_fall_points`` and by at least
    ``min_fall_fraction`` of baseline, or when pain is at most ``pain_max`` — the absolute
    criterion only for patients whose baseline is above ``pain_max``, so that nobody
    recovers by starting low. Week 0 never qualifies. Missing visits (NaN) never qualify.

    Parameters
    ----------
    pain
        Pain scores, one row per patient, weeks 0..W.
    params
        Recovery parameters (default: :func:`load_recovery`).

    Returns
    -------
    numpy.ndarray
        Booleans of ``pain``'s shape.

    Examples
    --------
    >>> recovery_criterion(np.array([[6, 5, 4, 2], [2, 2, 1, 0]]))
    array([[False, False,  True,  True],
           [False, False, False,  True]])
    """
    params = params if params is not None else load_recovery()
    values = np.asarray(pain).astype(np.float32)
    base = values[:, :1]
    fall = base - values
    # A fall of exactly the fraction counts (0.3 x 10 is 3.0000001 in floating point).
    needed = np.float32(params.min_fall_fraction) * base - np.float32(1e-4)
    with np.errstate(invalid="ignore"):
        qualifies = ((base > params.pain_max) & (values <= params.pain_max)) | (
            (fall >= params.min_fall_points) & (fall >= needed)
        )
    qualifies[:, 0] = False
    return qualifies


def first_sustained(qualifies: np.ndarray, run: int) -> np.ndarray:
    """Index of the first week starting ``run`` consecutive True values (-1 if none).

    Parameters
    ----------
    qualifies
        Booleans, one row per patient and one column per week (:func:`recovery_criterion`).
    run
        How many visits in a row must qualify (``sustained_visits``).

    Returns
    -------
    numpy.ndarray
        One week index per patient, -1 where no run is long enough.

    Examples
    --------
    >>> first_sustained(np.array([[0, 1, 0, 1, 1], [1, 1, 0, 0, 0]], dtype=bool), 2).tolist()
    [3, 0]
    """
    n, w = qualifies.shape
    if w < run:
        return np.full(n, -1)
    ok = qualifies[:, : w - run + 1].copy()
    for k in range(1, run):
        ok &= qualifies[:, k : w - run + 1 + k]
    first = ok.argmax(axis=1)
    return np.where(ok.any(axis=1), first, -1)


def recovery_definition(params: RecoveryParams | None = None) -> str:
    """The recovery criterion of ``recovery.toml`` in words (for captions and reports).

    Parameters
    ----------
    params
        Recovery parameters (default: :func:`load_recovery`).

    Returns
    -------
    str

    Examples
    --------
    >>> print(recovery_definition().replace(", or", ",\\nor").replace("; ", ";\\n"))
    Recovery: pain falls by at least 2 points and by at least 30% of baseline,
    or to at most 2/10 for patients who started above 2;
    held at 2 visits in a row.
    """
    p = params if params is not None else load_recovery()
    return (
        f"Recovery: pain falls by at least {p.min_fall_points:g} points and by at least "
        f"{p.min_fall_fraction:.0%} of baseline, or to at most {p.pain_max:g}/10 for patients "
        f"who started above {p.pain_max:g}; held at {p.sustained_visits} visits in a row."
    )
