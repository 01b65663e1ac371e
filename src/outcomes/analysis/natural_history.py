"""Published figures on the course of sciatica, checked on simulated cohorts.

The figures are data (``knowledge/recovery_targets.toml``, each with its source and a basis:
``calibrated`` when inputs of ``recovery.toml`` were fitted to it, ``published`` when it was
held out and never fitted). :func:`check_recovery_targets` generates a cohort per setting,
triages it with each target's policy, simulates a year of follow-up with nobody lost, and
computes every statistic with its 95% Wilson interval, one row per target, in the same
columns as :func:`outcomes.analysis.targets.check_targets` so both kinds are shown together (see
:func:`outcomes.analysis.validation.validate`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from outcomes.analysis.intervals import wilson_interval
from outcomes.analysis.targets import BASES, check_basis, check_table
from outcomes.engine.cohort import generate, patient_columns
from outcomes.engine.recovery import (
    CLASSES,
    RecoveryParams,
    load_recovery,
    simulate,
)
from outcomes.knowledge import (
    Knowledge,
    Reader,
    file_reader,
    load_knowledge,
    provenance,
)
from outcomes.triage.policies import POLICIES, policy

#: Statistics of ``recovery_targets.toml`` and the fields each needs.
STATISTICS: Mapping[str, tuple[str, ...]] = {
    "class_share": ("classes",),
    "improved_at": ("measure", "fraction"),
    "recovered_by": ("week",),
    "surgery_share": (),
    "relapse_within": ("weeks",),
    "deficit_share": ("min_weeks", "max_weeks"),
}
MEASURES = {"pain": "pain_nrs", "odi": "odi"}
#: Weeks simulated for relapse targets, so that every patient recovered by week 52 is seen
#: for a year after.
RELAPSE_FOLLOW_UP = 104
_FIELDS = (
    "label", "statistic", "setting", "population", "policy", "basis", "derived", "target",
    "low", "high", "known_gap", "where", *{f for fs in STATISTICS.values() for f in fs},
)  # fmt: skip


@dataclass(frozen=True)
class RecoveryTarget:
    """One published figure on the course of the conditions (see the module docstring).

    Parameters
    ----------
    name, label : str
        Key in ``recovery_targets.toml`` and a readable name.
    statistic : str
        One of :data:`STATISTICS`: what is computed from the simulated follow-up.
    setting : str
        Care setting the patients are generated in.
    population : tuple of str
        Conditions the figure is about.
    policy : str
        Triage policy that sends the patients to their pathways.
    basis : str
        ``"published"`` (held out) or ``"calibrated"`` (the model was tuned on it).
    derived : bool
        Whether the figure was derived from the publication rather than stated in it.
    target, low, high : float
        The published figure and the range the simulation should fall in.
    source : str
        Where it comes from (``study:key`` or a seed section).
    where : mapping, optional
        Column to ``(low, high)`` restriction of the patients.
    options : mapping, optional
        The statistic's own settings (e.g. the week it is read at).
    known_gap : str, optional
        Why the model is known to miss this figure, if it does.

    Examples
    --------
    >>> targets = load_recovery_targets()
    >>> all(t.low <= t.target <= t.high for t in targets)
    True
    """

    name: str
    label: str
    statistic: str
    setting: str
    population: tuple[str, ...]
    policy: str
    basis: str
    derived: bool
    target: float
    low: float
    high: float
    source: str
    where: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    known_gap: str | None = None


def load_recovery_targets(knowledge: Knowledge | None = None) -> tuple[RecoveryTarget, ...]:
    """Read and validate ``recovery_targets.toml``.

    Parameters
    ----------
    knowledge
        The knowledge base (default: the packaged one).

    Returns
    -------
    tuple of RecoveryTarget

    Raises
    ------
    KnowledgeError
        Naming the file, the target and the bad value.

    Examples
    --------
    >>> targets = {t.name: t for t in load_recovery_targets()}
    >>> targets["atlas_improved_disability"].basis
    'published'
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    reader = file_reader(kb, "recovery_targets.toml")
    sourced = provenance(kb.directory)
    calibrated = set(sourced.loc[sourced["calibrated"] != "", "source"])
    columns = {c.name for c in patient_columns(kb)}
    policies = POLICIES
    targets = []
    for name, node in reader.data.items():
        node = reader.table(node, name)
        unknown = sorted(set(node) - set(_FIELDS))
        if unknown:
            raise reader.fail(
                f"{name}.{unknown[0]}", f"is not a field; allowed: {', '.join(_FIELDS)}"
            )
        statistic = reader.text(node, name, "statistic")
        if statistic not in STATISTICS:
            raise reader.fail(
                f"{name}.statistic", f"{statistic!r} is not one of {tuple(STATISTICS)}"
            )
        missing = [f for f in STATISTICS[statistic] if f not in node]
        if missing:
            raise reader.fail(f"{name}.{missing[0]}", f"is needed by a {statistic} target")
        setting = reader.text(node, name, "setting")
        kb.setting(setting)
        population = node.get("population", [])
        if not isinstance(population, list) or not all(c in kb.condition_names for c in population):
            raise reader.fail(f"{name}.population", f"{population!r} must list conditions")
        chosen = reader.text(node, name, "policy")
        if chosen not in policies:
            raise reader.fail(f"{name}.policy", f"{chosen!r} is not one of {', '.join(policies)}")
        basis = node.get("basis")
        if basis not in ("published", "calibrated"):
            raise reader.fail(f"{name}.basis", f"must be published or calibrated, got {basis!r}")
        derived = node.get("derived")
        if not isinstance(derived, bool):
            raise reader.fail(f"{name}.derived", f"must be true or false, got {derived!r}")
        where = read_where(reader, node, name, columns)
        numeric = ("week", "weeks", "fraction", "min_weeks", "max_weeks")
        options = {}
        for f in STATISTICS[statistic]:
            if f not in numeric:
                options[f] = node[f]
                continue
            if not isinstance(node[f], dict):
                raise reader.fail(f"{name}.{f}", f"must be a sourced number, got {node[f]!r}")
            options[f] = reader.number(node, name, f, low=0, high=520)
        if statistic == "class_share" and not set(options["classes"]) <= set(CLASSES):
            raise reader.fail(f"{name}.classes", f"must list classes from: {', '.join(CLASSES)}")
        if statistic == "improved_at" and options["measure"] not in MEASURES:
            raise reader.fail(f"{name}.measure", f"must be one of: {', '.join(MEASURES)}")
        value, low, high = (
            reader.number(node, name, k, low=0, high=1) for k in ("target", "low", "high")
        )
        if not low <= value <= high:
            raise reader.fail(name, f"target {value} is outside [{low}, {high}]")
        source = node["target"]["source"]
        check_basis(reader, name, basis, derived, source, calibrated)
        gap = node.get("known_gap")
        if gap is not None and (not isinstance(gap, str) or not gap.strip()):
            raise reader.fail(f"{name}.known_gap", f"must be a sentence saying why, got {gap!r}")
        targets.append(
            RecoveryTarget(
                name=name, label=reader.text(node, name, "label"), statistic=statistic,
                setting=setting, population=tuple(population), policy=chosen, basis=basis,
                derived=derived, target=value, low=low, high=high, source=source,
                where=dict(where), options=options, known_gap=gap,
            )
        )  # fmt: skip
    assert set(BASES) >= {t.basis for t in targets}
    return tuple(targets)


def read_where(reader: Reader, node: dict, name: str, columns: set[str]) -> dict[str, Any]:
    """A study's inclusion criteria: patients-table column -> [low, high] or a flag, each
    written ``{ value = ..., source = "..." }``.

    Parameters
    ----------
    reader
        The reader of the file (for sources and error messages).
    node
        The target's or trial's table.
    name
        Its name.
    columns
        Columns of the patients table.

    Returns
    -------
    dict

    Examples
    --------
    >>> r = file_reader(load_knowledge(), "trials.toml")
    >>> read_where(r, r.data["peul2007"], "peul2007", {"symptom_duration_weeks", "pain_nrs"})
    {'symptom_duration_weeks': [6, 12], 'pain_nrs': [6, 10]}
    """
    where = {}
    for column in reader.table(node.get("where", {}), f"{name}.where"):
        if column not in columns:
            raise reader.fail(f"{name}.where.{column}", "is not a column of the patients table")
        bound = reader.sourced(node["where"], f"{name}.where", column)
        ok = isinstance(bound, bool) or (
            isinstance(bound, list) and len(bound) == 2
            and all(isinstance(b, int | float) and not isinstance(b, bool) for b in bound)
            and bound[0] <= bound[1]
        )  # fmt: skip
        if not ok:
            raise reader.fail(
                f"{name}.where.{column}", f"must be [low, high] or a flag, got {bound!r}"
            )
        where[column] = bound
    return where


def _selected(patients: pd.DataFrame, t: RecoveryTarget) -> np.ndarray:
    """Rows of the target's population that meet its ``where`` criteria."""
    keep = np.ones(len(patients), dtype=bool)
    if t.population:
        keep &= patients["condition"].astype(str).isin(t.population).to_numpy()
    for column, bound in t.where.items():
        values = patients[column]
        if isinstance(bound, bool):
            keep &= values.to_numpy(dtype=bool) == bound
        else:
            numbers = values.to_numpy(dtype=float)
            keep &= (numbers >= bound[0]) & (numbers <= bound[1])
    return keep


def _pain_at(visits: pd.DataFrame, n: int, column: str, week: int) -> np.ndarray:
    """One column of the visits table at a week, one value per patient (row order)."""
    rows = visits[visits["week"] == week]
    values = np.full(n, np.nan)
    values[rows["patient_id"].cat.codes.to_numpy()] = rows[column].to_numpy(dtype=float)
    return values


def target_statistic(
    t: RecoveryTarget, patients: pd.DataFrame, outcomes: pd.DataFrame, visits: pd.DataFrame
) -> tuple[int, int]:
    """Successes and patients counted for one target on one simulation.

    Parameters
    ----------
    t
        The target.
    patients, outcomes, visits
        The cohort and its simulation under the target's policy (same rows, same order).

    Returns
    -------
    tuple of int
        ``(k, n)``: the proportion is ``k / n``.

    Examples
    --------
    >>> t = {t.name: t for t in load_recovery_targets()}["surgery_primary_care"]
    >>> p = generate(500, seed=1)
    >>> sim = simulate(p, p["pathway"], seed=0, dropout=0.0)
    >>> k, n = target_statistic(t, p, sim.outcomes, sim.visits)
    >>> 0 <= k <= n
    True
    """
    rows = _selected(patients, t)
    o = outcomes[rows]
    s = t.statistic
    if s == "class_share":
        hit = o["trajectory_class"].isin(t.options["classes"]).to_numpy()
    elif s == "improved_at":
        column = MEASURES[t.options["measure"]]
        week = int(t.options.get("week", visits["week"].max()))
        value = _pain_at(visits, len(patients), column, week)[rows]
        baseline = patients[column].to_numpy(dtype=float)[rows]
        seen = ~np.isnan(value) & (baseline > 0)
        hit = value[seen] <= (1 - t.options["fraction"]) * baseline[seen]
    elif s == "recovered_by":
        hit = (o["recovered"] & (o["weeks_to_recovery"] <= int(t.options["week"]))).to_numpy()
    elif s == "surgery_share":
        hit = o["surgery"].to_numpy()
    elif s == "relapse_within":
        confirmed = o["weeks_to_recovery"].to_numpy(dtype=float) + 1
        eligible = o["recovered"].to_numpy() & (confirmed <= 52)
        onset = o["relapse_week"].to_numpy(dtype=float, na_value=np.nan)
        hit = (onset - confirmed <= t.options["weeks"])[eligible]
    else:  # deficit_share
        delay = o["weeks_to_emergency_care"].to_numpy(dtype=float, na_value=np.nan)
        within = (delay >= t.options["min_weeks"]) & (delay <= t.options["max_weeks"])
        hit = o["lasting_deficit"].to_numpy()[within]
    return int(np.sum(hit)), int(np.size(hit))


def check_recovery_targets(
    n: int = 20_000,
    seed: int = 0,
    *,
    params: RecoveryParams | None = None,
    knowledge: Knowledge | None = None,
) -> pd.DataFrame:
    """Compare simulated courses with the published figures, one row per target.

    For each (setting, policy) the targets use, one cohort of ``n`` patients is generated with
    ``seed`` and simulated under the policy with nobody lost to follow-up.

    Parameters
    ----------
    n
        Patients per setting.
    seed
        Seed of the cohorts, of the learned policies' training and of the recovery draws.
    params
        Recovery parameters (default: :func:`outcomes.engine.recovery.load_recovery`).
    knowledge
        The knowledge base (default: the packaged one).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`outcomes.analysis.targets.check_targets` (``input`` is always NaN
        here: every figure is published or calibrated).

    Examples
    --------
    >>> table = check_recovery_targets(n=2000)
    >>> set(table["basis"]) == {"published", "calibrated"}
    True
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    params = params if params is not None else load_recovery(kb)
    targets = load_recovery_targets(kb)
    cohorts: dict[str, pd.DataFrame] = {}
    simulations: dict[tuple[str, str, bool], Any] = {}
    rows = []
    for t in targets:
        if t.setting not in cohorts:
            cohorts[t.setting] = generate(n, seed=seed, setting=t.setting)
        patients = cohorts[t.setting]
        long = t.statistic == "relapse_within"
        key = (t.setting, t.policy, long)
        if key not in simulations:
            run = (
                params.with_values({"recovery.follow_up_weeks": RELAPSE_FOLLOW_UP})
                if long
                else params
            )
            plan = policy(t.policy, patients, seed)
            simulations[key] = simulate(patients, plan, seed, dropout=0.0, params=run, knowledge=kb)
        sim = simulations[key]
        k, m = target_statistic(t, patients, sim.outcomes, sim.visits)
        est = k / m if m else np.nan
        lo, hi = wilson_interval(k, m)
        met = pd.NA if m == 0 else bool(hi >= t.low and lo <= t.high)
        reason = t.known_gap if t.known_gap and met is not True else ""
        rows.append(
            (t.name, t.label, t.setting, t.basis, t.target, np.nan, t.low, t.high, est, lo, hi,
             m, met, t.derived, reason, t.known_gap is not None)
        )  # fmt: skip
    return check_table(rows)
