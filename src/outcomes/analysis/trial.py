"""In-silico replication of published randomised trials with the suite's own machinery.

A trial (``knowledge/trials.toml``) names a population, two arms and an outcome. The suite
generates a large pool of patients of the trial's setting, keeps those its inclusion criteria
admit, and simulates every one of them under both arms with common random numbers. Each
simulated trial then draws the published number of patients from the pool, randomises them
1:1 and estimates the experimental arm's hazard ratio with a Cox model (lifelines). Many such
trials give the spread a trial of the published size would show if the model were true; the
published estimate should lie within its central 95%.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter

from outcomes.analysis.natural_history import read_where
from outcomes.engine.cohort import generate, patient_columns
from outcomes.engine.recovery import RecoveryParams, draw_noise, load_recovery, simulate
from outcomes.knowledge import (
    Knowledge,
    KnowledgeError,
    file_reader,
    load_knowledge,
)

#: First element of the spawn key of the simulated trials' sampling streams.
TRIAL_STREAM = 0x7121
OUTCOMES = ("pain_at_most", "recovery")
_ARM_KEYS = ("label", "pathway", "surgery_week", "surgery_share")


@dataclass(frozen=True)
class Arm:
    """One arm: the care pathway, and an operation planned in ``surgery_week`` for a
    ``surgery_share`` of the arm (``None``: the model decides who is operated on).

    Parameters
    ----------
    label : str
        The arm's name, e.g. ``"early surgery"``.
    pathway : str
        The care pathway its patients follow.
    surgery_week : float, optional
        Planned week of the operation; None lets the recovery model decide who is operated on.
    surgery_share : float, default 1.0
        Share of the arm operated on in ``surgery_week``.

    Examples
    --------
    >>> Arm("early surgery", "spinal", surgery_week=2).surgery_share
    1.0
    """

    label: str
    pathway: str
    surgery_week: float | None = None
    surgery_share: float = 1.0


@dataclass(frozen=True)
class Trial:
    """A published trial to replay (see the module docstring).

    Parameters
    ----------
    name, label : str
        Key in ``trials.toml`` and a readable name.
    setting : str
        Care setting the pool of patients is generated in.
    population : tuple of str
        Conditions the trial admits.
    where : mapping
        Column to ``(low, high)`` inclusion range.
    size : int
        Patients randomised in the published trial.
    follow_up_weeks : int
        Length of follow-up.
    outcome : {"pain_at_most", "recovery"}
        The trial's outcome.
    threshold : float
        Pain score at or below which ``"pain_at_most"`` counts as reached.
    experimental, control : Arm
        The two arms.
    basis : str
        ``"published"``: the effect is held out from the model's tuning.
    hazard_ratio, low, high : float
        The published hazard ratio and its 95% interval.
    source : str
        Where the hazard ratio comes from (``study:key``).
    extra : mapping of str to float
        Further published numbers of the trial.

    Examples
    --------
    >>> t = trial("peul2007")
    >>> t.experimental.label != t.control.label
    True
    """

    name: str
    label: str
    setting: str
    population: tuple[str, ...]
    where: Mapping[str, Any]
    size: int
    follow_up_weeks: int
    outcome: str
    threshold: float
    experimental: Arm
    control: Arm
    basis: str
    hazard_ratio: float
    low: float
    high: float
    source: str
    extra: Mapping[str, float]


def load_trials(knowledge: Knowledge | None = None) -> tuple[Trial, ...]:
    """Read and validate ``trials.toml``.

    Parameters
    ----------
    knowledge
        The knowledge base (default: the packaged one).

    Returns
    -------
    tuple of Trial

    Examples
    --------
    >>> trial = load_trials()[0]
    >>> trial.name, trial.size, trial.experimental.surgery_week
    ('peul2007', 283, 2.0)
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    reader = file_reader(kb, "trials.toml")
    trials = []
    for name, node in reader.data.items():
        node = reader.table(node, name)
        setting = reader.text(node, name, "setting")
        kb.setting(setting)
        population = node.get("population", [])
        if not isinstance(population, list) or not all(c in kb.condition_names for c in population):
            raise reader.fail(f"{name}.population", f"{population!r} must list conditions")
        where = read_where(reader, node, name, {c.name for c in patient_columns(kb)})
        outcome = reader.text(node, name, "outcome")
        threshold = (
            reader.number(node, name, "threshold", low=0, high=10) if "threshold" in node else 0.0
        )
        if outcome not in OUTCOMES:
            raise reader.fail(f"{name}.outcome", f"must be one of: {', '.join(OUTCOMES)}")
        arms = []
        for which in ("experimental", "control"):
            arm = reader.table(node.get(which), f"{name}.{which}")
            unknown = sorted(set(arm) - set(_ARM_KEYS))
            if unknown:
                raise reader.fail(f"{name}.{which}.{unknown[0]}", f"is not one of {_ARM_KEYS}")
            if arm.get("pathway") not in kb.pathways:
                raise reader.fail(f"{name}.{which}.pathway", f"must be one of {kb.pathways}")
            key = f"{name}.{which}"
            week = reader.sourced(arm, key, "surgery_week") if "surgery_week" in arm else None
            share = reader.sourced(arm, key, "surgery_share") if "surgery_share" in arm else 1.0
            if not (0 <= float(share) <= 1) or (week is not None and not 1 <= float(week) <= 52):
                raise reader.fail(f"{name}.{which}", "surgery_week must be 1-52, surgery_share 0-1")
            arms.append(Arm(str(arm.get("label", which)), arm["pathway"],
                            None if week is None else float(week), float(share)))  # fmt: skip
        size = reader.sourced(node, name, "size")
        if not isinstance(size, int) or size < 4:
            raise reader.fail(
                f"{name}.size", f"must be a whole number of patients >= 4, got {size!r}"
            )
        hr, low, high = (reader.number(node, name, k, low=0.01, high=100)
                         for k in ("hazard_ratio", "low", "high"))  # fmt: skip
        if not low <= hr <= high:
            raise reader.fail(name, f"hazard ratio {hr} is outside [{low}, {high}]")
        basis = node.get("basis")
        if basis != "published":
            raise reader.fail(f"{name}.basis", "a replayed trial's effect is held out: 'published'")
        extra: dict[str, float] = {k: reader.number(node, name, k) for k in
                 ("control_surgery_share", "control_mean_surgery_week", "recovered_at_one_year")
                 if k in node}  # fmt: skip
        trials.append(
            Trial(
                name=name, label=reader.text(node, name, "label"), setting=setting,
                population=tuple(population), where=where, size=size,
                follow_up_weeks=int(reader.number(node, name, "follow_up_weeks", low=2, high=520)),
                outcome=outcome, threshold=threshold, experimental=arms[0],
                control=arms[1], basis=basis, hazard_ratio=hr, low=low, high=high,
                source=node["hazard_ratio"]["source"], extra=extra,
            )
        )  # fmt: skip
    return tuple(trials)


def trial(name: str, knowledge: Knowledge | None = None) -> Trial:
    """The trial called ``name`` in ``trials.toml``.

    Parameters
    ----------
    name : str
        The trial's key in ``trials.toml``.
    knowledge : Knowledge, optional
        Knowledge base (default: the packaged one).

    Returns
    -------
    Trial
        The validated trial.

    Raises
    ------
    KnowledgeError
        If no trial has that name, listing those that exist.

    Examples
    --------
    >>> trial("peul2007").control.label
    'prolonged conservative care'
    """
    found = {t.name: t for t in load_trials(knowledge)}
    if name not in found:
        raise KnowledgeError(f"trial {name!r} is unknown; choose one of: {', '.join(found)}")
    return found[name]


def _eligible(patients: pd.DataFrame, t: Trial) -> pd.DataFrame:
    keep = patients["condition"].astype(str).isin(t.population).to_numpy()
    for column, (low, high) in t.where.items():
        values = patients[column].to_numpy(dtype=float)
        keep &= (values >= low) & (values <= high)
    return patients[keep].reset_index(drop=True)


def _time_to_outcome(
    t: Trial, sim: Any, params: RecoveryParams, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Weeks to the trial's outcome and whether it was seen, one per patient."""
    if t.outcome == "recovery":
        o = sim.outcomes
        return o["weeks_to_recovery"].to_numpy(dtype=float), o["recovered"].to_numpy()
    visits = sim.visits
    pain = np.full((n, params.follow_up_weeks + 1), np.nan)
    pain[visits["patient_id"].cat.codes.to_numpy(), visits["week"].to_numpy()] = visits["pain_nrs"]
    ok = pain <= t.threshold
    ok[:, 0] = False
    run = params.sustained_visits
    w = ok.shape[1]
    both = ok[:, : w - run + 1].copy()
    for k in range(1, run):
        both &= ok[:, k : w - run + 1 + k]
    seen = np.asarray(both.any(axis=1))  # an array (numpy's stubs allow a scalar)
    week = np.where(seen, both.argmax(axis=1), params.follow_up_weeks)
    return week.astype(float), seen


@dataclass(frozen=True)
class TrialPool:
    """Every eligible patient simulated under both arms (common random numbers).

    Parameters
    ----------
    trial : Trial
        The trial simulated.
    patients : pandas.DataFrame
        The eligible patients of the pool.
    weeks, event : numpy.ndarray
        Shape ``(n, 2)`` (experimental, control): weeks to the outcome or to censoring, and
        whether the outcome was reached.
    surgery_week : numpy.ndarray
        Shape ``(n, 2)``: week of the operation, NaN when not operated on.

    Examples
    --------
    >>> pool = trial_pool(trial("peul2007"), pool=2_000, seed=1)  # doctest: +SKIP
    >>> pool.weeks.shape[1]  # doctest: +SKIP
    2
    """

    trial: Trial
    patients: pd.DataFrame
    weeks: np.ndarray  # (n, 2): experimental, control
    event: np.ndarray  # (n, 2)
    surgery_week: np.ndarray  # (n, 2), NaN: not operated


def trial_pool(
    t: Trial,
    pool: int = 40_000,
    seed: int = 0,
    params: RecoveryParams | None = None,
    knowledge: Knowledge | None = None,
) -> TrialPool:
    """Simulate every eligible patient of a generated pool under both arms of ``t``.

    Parameters
    ----------
    t
        The trial.
    pool
        Patients generated in the trial's setting (the eligible ones are kept).
    seed
        Seed of the pool and of the recovery draws.
    params
        Recovery parameters (default: :func:`outcomes.engine.recovery.load_recovery`).
    knowledge
        The knowledge base (default: the packaged one).

    Returns
    -------
    TrialPool

    Examples
    --------
    >>> p = trial_pool(trial("peul2007"), pool=3000)
    >>> p.weeks.shape[1], bool(len(p.patients) > 0)
    (2, True)
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    params = params if params is not None else load_recovery(kb)
    if params.follow_up_weeks != t.follow_up_weeks:
        params = params.with_values({"recovery.follow_up_weeks": t.follow_up_weeks})
    patients = _eligible(generate(pool, seed=seed, setting=t.setting, knowledge=kb), t)
    n = len(patients)
    if n == 0:
        raise ValueError(f"no patient of a pool of {pool} meets the inclusion criteria of {t.name}")
    noise = draw_noise(n, seed, params)
    weeks, event, operated = (np.empty((n, 2)) for _ in range(3))
    for j, arm in enumerate((t.experimental, t.control)):
        planned = None
        if arm.surgery_week is not None:
            # The same uniform draw decides uptake as the model's own referral does, so the
            # operated share of the arm is surgery_share.
            planned = np.where(noise.surgery_u < arm.surgery_share, arm.surgery_week, np.nan)
        sim = simulate(patients, np.full(n, arm.pathway, dtype=object), seed, dropout=0.0,
                       noise=noise, params=params, knowledge=kb, surgery_week=planned)  # fmt: skip
        weeks[:, j], event[:, j] = _time_to_outcome(t, sim, params, n)
        operated[:, j] = sim.outcomes["surgery_week"].to_numpy(dtype=float, na_value=np.nan)
    return TrialPool(t, patients, weeks, event.astype(bool), operated)


def _cox_hazard_ratio(weeks: np.ndarray, event: np.ndarray, arm: np.ndarray) -> float:
    frame = pd.DataFrame({"weeks": weeks + 0.5, "event": event, "experimental": arm})
    fitted = CoxPHFitter().fit(frame, duration_col="weeks", event_col="event")
    return float(np.exp(fitted.params_["experimental"]))


def simulate_trials(pool: TrialPool, n_trials: int = 200, seed: int = 0) -> pd.DataFrame:
    """Replay the trial ``n_trials`` times at its published size, from ``pool``.

    Each replicate draws ``size`` patients without replacement from the pool with its own
    spawned stream (so replicate ``r`` is the same whatever ``n_trials``), assigns half to
    each arm at random and records the experimental arm's hazard ratio (Cox), the control
    arm's share operated on and mean operation week, and the share reaching the outcome
    within follow-up in each arm.

    Parameters
    ----------
    pool
        From :func:`trial_pool`.
    n_trials
        Simulated trials.
    seed
        Seed of the sampling streams.

    Returns
    -------
    pandas.DataFrame
        One row per simulated trial.

    Examples
    --------
    >>> table = simulate_trials(trial_pool(trial("peul2007"), pool=3000), n_trials=3)
    >>> list(table.columns)[:2]
    ['replicate', 'hazard_ratio']
    """
    t = pool.trial
    n = len(pool.patients)
    size = min(t.size, n)
    rows = []
    for r in range(n_trials):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(TRIAL_STREAM, r)))
        chosen = rng.choice(n, size=size, replace=False)
        arm = np.zeros(size, dtype=int)
        arm[rng.permutation(size)[: size // 2]] = 1  # 1: experimental
        column = np.where(arm == 1, 0, 1)
        weeks = pool.weeks[chosen, column]
        event = pool.event[chosen, column]
        control = column == 1
        operated = pool.surgery_week[chosen, 1][control[np.arange(size)]]
        rows.append({
            "replicate": r,
            "hazard_ratio": _cox_hazard_ratio(weeks, event, arm),
            "control_surgery_share": float(np.isfinite(operated).mean()),
            "control_mean_surgery_week": (
                float(np.nanmean(operated)) if np.isfinite(operated).any() else np.nan
            ),
            "experimental_outcome_share": float(event[arm == 1].mean()),
            "control_outcome_share": float(event[arm == 0].mean()),
        })  # fmt: skip
    return pd.DataFrame(rows)


def trial_summary(t: Trial, replicates: pd.DataFrame) -> pd.DataFrame:
    """Published figures of a trial beside the central 95% of the simulated trials.

    One row per figure (the hazard ratio first): ``published``, ``low``/``high`` (the
    published interval, where given), ``basis``, the simulated ``median`` and ``p2_5``/
    ``p97_5``, and ``within``: whether the published figure lies within the central 95% of the
    simulated trials.

    Parameters
    ----------
    t
        The trial.
    replicates
        From :func:`simulate_trials`.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> tr = trial("peul2007")
    >>> s = trial_summary(tr, simulate_trials(trial_pool(tr, pool=3000), n_trials=5))
    >>> s.index[0]
    'hazard_ratio'
    """
    figures = {"hazard_ratio": (t.hazard_ratio, t.low, t.high, "published")}
    columns = {
        "control_surgery_share": ("control_surgery_share", "calibrated"),
        "control_mean_surgery_week": ("control_mean_surgery_week", "calibrated"),
        "recovered_at_one_year": ("control_outcome_share", "published"),
    }
    for key, value in t.extra.items():
        figures[key] = (value, np.nan, np.nan, columns[key][1])
    rows = {}
    for key, (value, low, high, basis) in figures.items():
        column = "hazard_ratio" if key == "hazard_ratio" else columns[key][0]
        sims = replicates[column].dropna().to_numpy()
        lo, mid, hi = np.percentile(sims, [2.5, 50, 97.5]) if sims.size else (np.nan,) * 3
        rows[key] = {
            "published": value, "low": low, "high": high, "basis": basis,
            "median": mid, "p2_5": lo, "p97_5": hi, "within": bool(lo <= value <= hi),
        }  # fmt: skip
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("figure")
