"""Events on the way: surgery for disc herniation that does not settle, and relapses.

**Surgery** is offered to patients with an operable condition on the surgical pathway who
have not improved by the decision week (:func:`surgery_weeks`); after the operation the level
falls towards the post-operative floor (:func:`operate`). **Relapses** are episodes of weeks
after a first sustained recovery (:func:`relapses`). Lasting harm of serious pathology is part
of the course itself (:func:`outcomes.engine.recovery.trajectories`).
"""

from __future__ import annotations

import math

import numpy as np

from outcomes.engine.recovery.course import Course
from outcomes.engine.recovery.criterion import first_sustained, recovery_criterion
from outcomes.engine.recovery.noise import Noise
from outcomes.engine.recovery.params import RecoveryParams
from outcomes.knowledge import Knowledge
from outcomes.tables.columns import FITS


def operate(params: RecoveryParams, course: Course, surgery: np.ndarray) -> np.ndarray:
    """Rows operated on; their level (``course.level``, in place) falls after the operation.

    From the operation week the primary part's level falls towards ``post_floor`` with
    ``post_half_life_weeks`` (never above where it would have been); a secondary part is not
    operated on.

    Parameters
    ----------
    params
        Recovery parameters.
    course
        The course before surgery (:func:`outcomes.engine.recovery.trajectories`); its
        ``level`` is changed in place.
    surgery
        Week of each patient's operation (NaN: none), from :func:`surgery_weeks`.

    Returns
    -------
    numpy.ndarray
        Positions of the patients operated on.

    Examples
    --------
    >>> from outcomes.engine.recovery.course import Course
    >>> from outcomes.engine.recovery.params import load_recovery
    >>> level = np.ones((2, 52), dtype=np.float32)
    >>> course = Course(level, level.copy(), None, np.zeros(2, int), np.full(2, np.nan),
    ...                 np.zeros(2, bool))
    >>> operate(load_recovery(), course, np.array([np.nan, 10.0])).tolist()
    [1]
    >>> bool(course.level[1, -1] < course.level[0, -1])
    True
    """
    operated = np.flatnonzero(np.isfinite(surgery))
    if operated.size == 0:
        return operated
    s = params.surgery
    t = np.arange(1, params.follow_up_weeks + 1, dtype=np.float32)
    week = surgery[operated].astype(int)
    part = course.primary[operated]
    at = part[np.arange(len(operated)), week - 1][:, None]
    post_floor = np.float32(s["post_floor"])
    after = post_floor + np.maximum(at - post_floor, 0) * np.exp(
        -np.log(2) / s["post_half_life_weeks"] * (t - week[:, None])
    )
    part = np.where(t >= week[:, None], np.minimum(part, after), part).astype(np.float32)
    level = part
    if course.secondary is not None:
        rows, second = course.secondary
        where = np.searchsorted(rows, operated)
        combined = (where < len(rows)) & (rows[np.minimum(where, len(rows) - 1)] == operated)
        if combined.any():
            share = np.float32(params.modifiers["secondary_share"])
            other = second[where[combined]]
            level = part.copy()
            level[combined] = (1 - share) * part[combined] + share * other
    course.level[operated] = level
    return operated


def surgery_weeks(
    kb: Knowledge,
    params: RecoveryParams,
    noise: Noise,
    cond: np.ndarray,
    path: np.ndarray,
    fit: np.ndarray,
    pain: np.ndarray,
    planned: np.ndarray | None,
    setting: np.ndarray,
) -> np.ndarray:
    """Week of each patient's operation (NaN: none within follow-up).

    A patient with severe pain at baseline (``min_baseline_pain`` or more) and an operable
    condition, whose care ends up on the surgical pathway (chosen, or reached after an
    unneeded emergency referral) and whose recorded pain at the ``decision_week`` visit does
    not meet the recovery criterion (``pain``: weeks 0..W, as recorded) is referred with the
    ``referral_probability`` of the setting where the patient is seen (``setting``: codes), and
    operated on after a wait drawn between ``wait_weeks_min`` and ``wait_weeks_max``. A planned
    week (a trial's early-surgery arm) replaces the model's decision for that patient.

    Parameters
    ----------
    kb
        The knowledge base.
    params
        Recovery parameters.
    noise
        The draws (:func:`outcomes.engine.recovery.draw_noise`).
    cond, path, fit
        Condition, chosen pathway and fit codes, one per patient.
    pain
        Recorded pain, one row per patient, weeks 0..W.
    planned
        Planned operation weeks (NaN: none planned), or ``None``.
    setting
        Setting codes, one per patient.

    Returns
    -------
    numpy.ndarray
        Operation week per patient (NaN: none within follow-up).

    Examples
    --------
    >>> from outcomes.engine.recovery.noise import draw_noise
    >>> from outcomes.engine.recovery.params import load_recovery
    >>> from outcomes.knowledge import load_knowledge
    >>> kb, params = load_knowledge(), load_recovery()
    >>> one = np.zeros(1, dtype=int)
    >>> pain = np.full((1, 53), 8)
    >>> surgery_weeks(kb, params, draw_noise(1, 0), one, one, one, pain, np.array([5.0]),
    ...               one).tolist()
    [5.0]
    """
    s = params.surgery
    weeks = params.follow_up_weeks
    operable = np.isin(np.asarray(kb.condition_names)[cond], params.surgery_conditions)
    surgical = kb.pathways.index(params.surgery_pathway)
    on_pathway = (path == surgical) | (fit == FITS.index("redirected"))
    decision = int(s["decision_week"])
    stuck = ~recovery_criterion(pain, params)[:, min(decision, weeks)]
    severe = pain[:, 0] >= s["min_baseline_pain"]
    referral = np.array([params[f"surgery.referral_probability.{x}"] for x in kb.setting_names])
    chance = referral[setting]
    referred = operable & on_pathway & stuck & severe & (noise.surgery_u < chance)
    span = s["wait_weeks_max"] - s["wait_weeks_min"] + 1
    wait = s["wait_weeks_min"] + np.floor(noise.wait_u * span)
    week = np.where(referred, decision + wait, np.nan)
    if planned is not None:
        week = np.where(np.isnan(planned), week, planned)
    week = np.where((week >= 1) & (week <= weeks), np.round(week), np.nan)
    return week


def relapses(
    params: RecoveryParams, noise: Noise, pain: np.ndarray, level: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """Relapse episodes after a first sustained recovery: (weeks mask, rows) or ``None``.

    The episode starts after the week recovery is confirmed, at a constant weekly hazard whose
    chance within 52 weeks is ``probability_within_year``, and lasts between
    ``duration_weeks_min`` and ``duration_weeks_max`` weeks (the draws are pathway-
    independent; the care moves only the recovery week they follow). The mask is over weeks
    1..W of the returned rows.

    Parameters
    ----------
    params
        Recovery parameters.
    noise
        The draws (:func:`outcomes.engine.recovery.draw_noise`).
    pain
        Recorded pain, one row per patient, weeks 0..W.
    level
        Symptom level, one row per patient, weeks 1..W (unused: the episode's level is set
        by the caller).

    Returns
    -------
    tuple of numpy.ndarray, or None
        ``(weeks mask, rows)``; ``None`` when nobody relapses.

    Examples
    --------
    >>> from outcomes.engine.recovery.noise import draw_noise
    >>> from outcomes.engine.recovery.params import load_recovery
    >>> params = load_recovery()
    >>> pain = np.tile(np.r_[8, np.full(52, 1)], (200, 1))
    >>> mask, rows = relapses(params, draw_noise(200, 0), pain, None)
    >>> mask.shape[1], bool(0 < len(rows) < 200)
    (52, True)
    """
    r = params.relapse
    weeks = params.follow_up_weeks
    start = first_sustained(recovery_criterion(pain, params), params.sustained_visits)
    confirmed = start + params.sustained_visits - 1
    p = r["probability_within_year"]
    if p <= 0:
        return None
    hazard = 1 - (1 - p) ** (1 / 52)
    gap = np.floor(np.log1p(-noise.relapse_u) / math.log1p(-hazard)) + 1 if hazard < 1 else 1
    onset = confirmed + gap
    rows = np.flatnonzero((start >= 1) & (onset <= weeks))
    if rows.size == 0:
        return None
    span = r["duration_weeks_max"] - r["duration_weeks_min"] + 1
    length = r["duration_weeks_min"] + np.floor(noise.relapse_length_u[rows] * span)
    t = np.arange(1, weeks + 1)[None, :]
    first = onset[rows][:, None]
    return (t >= first) & (t < first + length[:, None]), rows
