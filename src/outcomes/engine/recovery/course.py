"""Natural history and care: each part of a presentation follows a trajectory class.

Each part (the condition and, in a combined presentation, the secondary contributor) follows
one of the classes of :data:`CLASSES`, whose odds move with the prognostic factors the record
holds (:func:`prognostic_score`) and with the fit of the care (:func:`class_probabilities`)::

    level(t)  = floor_k + (1 - floor_k) * exp(-rate * max(t - delay, 0)) + aggravation bump(t)
    rate      = ln 2 / half_life_k * fit multiplier * chronic * adherence * individual spread

Serious pathology carries a risk of a lasting deficit that grows with the weeks until
emergency care (:func:`trajectories`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from outcomes.engine.recovery.noise import Noise
from outcomes.engine.recovery.params import FIT_FIELDS, RecoveryParams, load_recovery
from outcomes.knowledge import Knowledge
from outcomes.tables.columns import CLASSES, FITS

SERIOUS = "serious_pathology"


def prognostic_score(patients: pd.DataFrame, params: RecoveryParams | None = None) -> np.ndarray:
    """Each patient's prognostic score: the log-odds shift towards a persistent course.

    ``ln(chronic_odds_ratio) x chronic + severity_log_odds x (severity - 0.5) +
    age_log_odds_per_decade x (age - 50) / 10`` (``[prognosis]`` of ``recovery.toml``); 0 for an
    acute patient of average severity aged 50, the patient the membership shares describe.

    Parameters
    ----------
    patients
        The ``patients`` table (``chronic``, ``latent_severity`` and ``age``).
    params
        Recovery parameters (default: :func:`load_recovery`).

    Returns
    -------
    numpy.ndarray
        One score per patient.

    Examples
    --------
    >>> p = pd.DataFrame({"chronic": [False, True], "latent_severity": [0.5, 0.5],
    ...                   "age": [50, 50]})
    >>> np.round(prognostic_score(p), 3).tolist()
    [0.0, 0.892]
    """
    params = params if params is not None else load_recovery()
    g = params.prognosis
    return (
        math.log(g["chronic_odds_ratio"]) * patients["chronic"].to_numpy(dtype=float)
        + g["severity_log_odds"] * (patients["latent_severity"].to_numpy(dtype=float) - 0.5)
        + g["age_log_odds_per_decade"] * (patients["age"].to_numpy(dtype=float) - 50) / 10
    )


def class_probabilities(
    condition: np.ndarray, score: np.ndarray, fit: np.ndarray, params: RecoveryParams
) -> np.ndarray:
    """Probability of each trajectory class per part, shape ``(n, len(CLASSES))``.

    ``condition`` and ``fit`` are codes (into the knowledge base's conditions and
    :data:`FITS`), ``score`` the :func:`prognostic_score`. The odds of class ``k`` against
    recovering quickly are the membership odds times ``exp(weight_k x (score +
    ln persistence_odds_ratio[fit]))``.

    Parameters
    ----------
    condition
        Condition codes, one per part.
    score
        Prognostic scores (:func:`prognostic_score`), one per part.
    fit
        Fit codes (into :data:`FITS`), one per part.
    params
        Recovery parameters.

    Returns
    -------
    numpy.ndarray
        Rows sum to 1.

    Examples
    --------
    >>> params = load_recovery()
    >>> p = class_probabilities(np.array([0]), np.array([0.0]), np.array([1]), params)
    >>> np.allclose(p, params.membership().iloc[0].to_numpy())
    True
    """
    shares = params.membership().to_numpy()
    weights = np.array([params[f"classes.{k}.persistence_weight"] for k in CLASSES])
    odds_ratio = np.log([params[f"fit.{f}.persistence_odds_ratio"] for f in FITS])
    with np.errstate(divide="ignore"):
        base = np.log(shares[condition])
    logits = base + weights[None, :] * (score + odds_ratio[fit])[:, None]
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Course:
    """The symptom level (n x W, weeks 1..W) and what happened on the way (:func:`trajectories`).

    Parameters
    ----------
    level
        Symptom level relative to baseline, per patient and week 1..W.
    primary
        The condition's own part of the level.
    secondary
        ``(rows, level)`` of the secondary parts of combined presentations, or ``None``.
    trajectory_class
        Class code (into :data:`CLASSES`) of the condition's part.
    emergency_weeks
        Weeks until emergency care (NaN: no serious pathology).
    deficit
        Serious pathology left a lasting deficit.

    Examples
    --------
    >>> Course(np.ones((1, 2)), np.ones((1, 2)), None, np.zeros(1, int), np.array([np.nan]),
    ...        np.zeros(1, bool)).level.shape
    (1, 2)
    """

    level: np.ndarray
    primary: np.ndarray  # the condition's own part of the level
    secondary: tuple[np.ndarray, np.ndarray] | None  # (rows, level of the secondary part)
    trajectory_class: np.ndarray
    emergency_weeks: np.ndarray  # float, NaN: no serious pathology
    deficit: np.ndarray


def trajectories(
    kb: Knowledge,
    params: RecoveryParams,
    noise: Noise,
    patients: pd.DataFrame,
    cond: np.ndarray,
    sec: np.ndarray,
    fit: np.ndarray,
    sec_fit: np.ndarray,
) -> Course:
    """Symptom level relative to baseline, with classes and lasting harm (before surgery).

    Each part of the presentation draws its trajectory class by inverting the cumulative
    class probabilities (:func:`class_probabilities`) with its uniform draw, then falls from
    baseline towards the class floor after the fit's delay; serious pathology left on a
    routine pathway progresses until detected, and its lasting-deficit risk grows with the
    delay. :func:`outcomes.engine.recovery.simulate` calls it.

    Parameters
    ----------
    kb
        The knowledge base.
    params
        Recovery parameters.
    noise
        The draws (:func:`draw_noise`), one row per patient.
    patients
        The ``patients`` table (``chronic``, ``latent_severity``, ``age``).
    cond, sec
        Condition codes of each part (``sec`` -1: no secondary contributor).
    fit, sec_fit
        Fit codes (into :data:`FITS`) of the care to each part
        (:func:`outcomes.engine.recovery.care_fits`).

    Returns
    -------
    Course

    Examples
    --------
    >>> from outcomes.engine.recovery.noise import draw_noise
    >>> from outcomes.knowledge import load_knowledge
    >>> kb, params = load_knowledge(), load_recovery()
    >>> p = pd.DataFrame({"chronic": [False] * 2, "latent_severity": 0.5, "age": 50})
    >>> disc = kb.condition_names.index("disc_herniation")
    >>> cond, none = np.full(2, disc), np.full(2, -1)
    >>> course = trajectories(kb, params, draw_noise(2, 0), p, cond, none, np.zeros(2, int), none)
    >>> course.level.shape, course.secondary
    ((2, 52), None)
    """
    mods, harm = params.modifiers, params.harm
    weeks = params.follow_up_weeks
    classes = params.class_table()
    half_life = classes["half_life_weeks"].to_numpy()
    floor = classes["floor"].to_numpy()
    fields = {f: np.array([params.fit[name][f] for name in FITS]) for f in FIT_FIELDS}
    score = prognostic_score(patients, params)
    chronic = patients["chronic"].to_numpy(dtype=bool)
    # Patient-level rate modifiers (pathway-independent).
    modifier = (
        np.where(chronic, mods["chronic_rate_multiplier"], 1.0)
        * (mods["adherence_floor"] + (1 - mods["adherence_floor"]) * noise.adherence)
        * np.exp(mods["individual_rate_sd"] * noise.rate_z)
    )
    t = np.arange(1, weeks + 1, dtype=np.float32)
    peak = params.peak_week
    bump = (t / peak) * np.exp(1 - t / peak)  # 0 at t = 0, 1 at the peak, fades after
    serious = kb.condition_names.index(SERIOUS) if SERIOUS in kb.condition_names else -1
    # Weeks until a routine pathway recognises serious pathology (geometric, at least 1).
    q = harm["detection_weekly_probability"]
    detection = (
        np.floor(np.log1p(-noise.detection_u) / math.log1p(-q)) + 1 if q < 1 else np.ones(len(cond))
    )

    def part(condition: np.ndarray, fit: np.ndarray, u: np.ndarray, rows: np.ndarray):
        probs = class_probabilities(condition, score[rows], fit, params)
        k = np.minimum((u[:, None] > np.cumsum(probs, axis=1)).sum(axis=1), len(CLASSES) - 1)
        rate = np.log(2) / half_life[k] * fields["rate_multiplier"][fit] * modifier[rows]
        is_serious = condition == serious
        harmful = fit == FITS.index("harmful")
        # Weeks until the care that fits starts: the fit's delay, the detection time of
        # serious pathology on a routine pathway, or the emergency delay when referred.
        delay = np.where(harmful, detection[rows], fields["delay_weeks"][fit])
        delay = np.where(is_serious & ~harmful, harm["emergency_delay_weeks"], delay)
        emergency = np.where(is_serious, delay, np.nan)
        p_deficit = 1 / (
            1 + np.exp(-(harm["deficit_intercept"] + harm["deficit_slope_per_week"] * delay))
        )
        deficit = is_serious & (noise.deficit_u[rows] < p_deficit)
        low = floor[k] + np.where(deficit, harm["deficit_floor"] * (1 - floor[k]), 0.0)
        # Before care starts the level rises by the progression of untreated serious
        # pathology (0 otherwise); then it falls from where it stood towards the class floor.
        rise = np.where(harmful, harm["progression_per_week"], 0.0).astype(np.float32)
        start = 1 + rise * delay.astype(np.float32)
        delay32, low32 = delay.astype(np.float32)[:, None], low.astype(np.float32)[:, None]
        elapsed = np.maximum(t - delay32, 0)
        falling = low32 + (start[:, None] - low32) * np.exp(
            -rate.astype(np.float32)[:, None] * elapsed
        )
        level = np.where(t < delay32, 1 + rise[:, None] * t, falling).astype(np.float32)
        agg = fields["aggravation"][fit].astype(np.float32)
        if agg.any():
            level += agg[:, None] * bump
        return level, k, emergency, deficit

    rows = np.arange(len(cond))
    primary, k, emergency, deficit = part(cond, fit, noise.class_u[:, 0], rows)
    level = primary.copy()
    has_sec = sec >= 0
    secondary = None
    if has_sec.any():
        # A combined presentation: each part follows its own class and the fit of the care
        # treating it; both must be addressed for the level to reach a low floor.
        share = np.float32(mods["secondary_share"])
        rows = np.flatnonzero(has_sec)
        second, _, sec_emergency, sec_deficit = part(
            sec[rows], sec_fit[rows], noise.class_u[rows, 1], rows
        )
        level[rows] = (1 - share) * primary[rows] + share * second
        emergency[rows] = np.where(np.isnan(emergency[rows]), sec_emergency, emergency[rows])
        deficit[rows] |= sec_deficit
        secondary = (rows, second)
    return Course(level, primary, secondary, k, emergency, deficit)
