"""Weekly follow-up of patients given the care each receives: :func:`simulate`.

:func:`simulate` checks the patients and the care plan, judges how the care fits each part of
the presentation (:func:`outcomes.engine.recovery.care_fits`), follows the trajectories
(:func:`outcomes.engine.recovery.trajectories`), records weekly pain and disability with
flare-ups and noise, adds surgery and relapses (:mod:`outcomes.engine.recovery.events`), and
assembles the tables (:func:`outcomes.engine.recovery.assemble`). :func:`simulate_policies`
runs the same patients under several policies with common random numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from outcomes.engine.recovery.care import care_fits, care_plan
from outcomes.engine.recovery.course import trajectories
from outcomes.engine.recovery.events import operate, relapses, surgery_weeks
from outcomes.engine.recovery.noise import Noise, draw_noise
from outcomes.engine.recovery.params import RecoveryParams, load_recovery
from outcomes.engine.recovery.results import Simulation, assemble
from outcomes.knowledge import NO_SECONDARY, Knowledge, load_knowledge
from outcomes.tables.columns import FITS, NO_SECONDARY_PATHWAY

#: Columns of the ``patients`` table the simulation reads.
REQUIRED = (
    "patient_id",
    "setting",
    "condition",
    "secondary_condition",
    "pathway",
    "latent_severity",
    "chronic",
    "age",
    "pain_nrs",
    "odi",
)


def _codes(values: Any, categories: tuple[str, ...], what: str) -> np.ndarray:
    series = pd.Series(np.asarray(values, dtype=object))
    codes = pd.Categorical(series, categories=categories).codes.astype(np.int64)
    bad = np.flatnonzero(codes < 0)
    if bad.size:
        shown = ", ".join(str(i) for i in bad[:5])
        raise ValueError(
            f"{what} has unknown or missing values {sorted(set(series.iloc[bad].astype(str)))} "
            f"at rows {shown}; choose from: {', '.join(categories)}"
        )
    return codes


def _check_range(values: pd.Series, column: str, low: float, high: float) -> None:
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~((numbers >= low) & (numbers <= high)))
    if bad.size:
        shown = ", ".join(f"{i} ({numbers[i]:g})" for i in bad[:5])
        raise ValueError(
            f"column {column!r} must be recorded and within [{low}, {high}]; "
            f"{bad.size} row(s) are not, e.g. rows {shown}"
        )


def simulate(
    patients: pd.DataFrame,
    pathways: Any,
    seed: int,
    *,
    dropout: float | None = None,
    visits: bool = True,
    noise: Noise | None = None,
    params: RecoveryParams | None = None,
    knowledge: Knowledge | None = None,
    surgery_week: Any = None,
) -> Simulation:
    """Simulate weekly follow-up of ``patients`` given the pathway each one receives.

    Parameters
    ----------
    patients
        The ``patients`` table (needs the columns in :data:`REQUIRED`); never modified.
    pathways
        One care pathway per patient, in row order (a policy); or a care plan
        (:func:`care_plan`) that also names the pathway addressing each secondary contributor.
        With plain pathways, a combined presentation's secondary part is not addressed.
    seed
        Seed of the pathway-independent draws (common random numbers across policies). The
        draws follow the row position (see :func:`draw_noise`).
    dropout
        Share lost to follow-up by the end of follow-up (default from ``recovery.toml``).
    visits
        Also build the long ``visits`` table (skip it to save memory on large cohorts).
    noise
        Draws from :func:`draw_noise` to reuse across policies (drawn here if ``None``).
    params
        Recovery parameters (default: :func:`load_recovery`); the sensitivity analysis passes
        :meth:`RecoveryParams.with_values` copies.
    knowledge
        The knowledge base (default: the packaged one).
    surgery_week
        Planned operation week per patient (NaN: none planned), for trial arms such as early
        surgery; an operation planned in a week replaces the model's referral for that patient
        (``None``: the model decides for everyone).

    Returns
    -------
    Simulation
        ``outcomes`` (:func:`outcomes.tables.columns.outcome_columns`) and ``visits``
        (:func:`outcomes.tables.columns.visit_columns`).

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> patients = generate(300, seed=1)
    >>> sim = simulate(patients, patients["pathway"], seed=0)
    >>> len(sim.outcomes), int(sim.visits["week"].max())
    (300, 52)
    >>> bool(sim.outcomes["harm"].any())
    False
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    params = params if params is not None else load_recovery(kb)
    if not isinstance(patients, pd.DataFrame):
        raise TypeError("patients must be a pandas DataFrame (the patients table)")
    absent = [c for c in REQUIRED if c not in patients.columns]
    if absent:
        raise ValueError(f"the patients table lacks column(s): {', '.join(absent)}")
    n = len(patients)
    plan = care_plan(pathways)
    if len(plan) != n:
        raise ValueError(f"pathways must hold one pathway per patient ({n}), got {len(plan)}")
    dropout = params.dropout if dropout is None else dropout
    if isinstance(dropout, bool) or not isinstance(dropout, int | float) or not 0 <= dropout < 1:
        raise ValueError(f"dropout must be a share in [0, 1), got {dropout!r}")
    noise = noise if noise is not None else draw_noise(n, seed, params)
    if noise.adherence.shape != (n,):
        raise ValueError(f"noise was drawn for {noise.adherence.shape[0]} patients, not {n}")
    if noise.pain_z.shape[1] != params.follow_up_weeks:
        raise ValueError(
            f"noise was drawn for {noise.pain_z.shape[1]} weeks, not {params.follow_up_weeks}"
        )
    planned = None
    if surgery_week is not None:
        planned = np.asarray(surgery_week, dtype=float)
        if planned.shape != (n,):
            raise ValueError(f"surgery_week must hold one value per patient ({n})")

    cond = _codes(patients["condition"], kb.condition_names, "column 'condition'")
    sec = (
        _codes(
            patients["secondary_condition"],
            (NO_SECONDARY, *kb.condition_names),
            "column 'secondary_condition'",
        )
        - 1
    )
    path = _codes(plan["pathway"], kb.pathways, "pathways")
    # The pathway that treats the secondary part: its own when the plan gives one (-1: none).
    chosen = (
        _codes(
            plan["secondary_pathway"], (NO_SECONDARY_PATHWAY, *kb.pathways), "secondary pathways"
        )
        - 1
    )
    fit, sec_fit = care_fits(kb, params, cond, sec, path, chosen)
    duplicated = patients["patient_id"].duplicated(keep=False).to_numpy()
    if duplicated.any():
        shown = ", ".join(str(i) for i in np.flatnonzero(duplicated)[:5])
        raise ValueError(f"column 'patient_id' has duplicate ids, e.g. at rows {shown}")
    for column, low, high in (
        ("pain_nrs", 0, 10),
        ("odi", 0, 100),
        ("latent_severity", 0, 1),
        ("age", 0, 130),
    ):
        _check_range(patients[column], column, low, high)
    baseline_pain = patients["pain_nrs"].to_numpy(dtype=np.float32)
    baseline_odi = patients["odi"].to_numpy(dtype=np.float32)

    course = trajectories(kb, params, noise, patients, cond, sec, fit, sec_fit)
    flare_p = _flare_probability(params, fit, sec_fit)
    pain, odi = _scores(params, noise, course.level, flare_p, baseline_pain, baseline_odi)
    # Surgery is decided on the pain recorded at the decision visit, and changes the weeks
    # after the operation only.
    setting = _codes(patients["setting"], kb.setting_names, "column 'setting'")
    surgery = surgery_weeks(kb, params, noise, cond, path, fit, pain, planned, setting)
    operated = operate(params, course, surgery)
    if operated.size:
        pain[operated], odi[operated] = _scores(
            params,
            noise.take(operated),
            course.level[operated],
            flare_p[operated],
            baseline_pain[operated],
            baseline_odi[operated],
        )
    relapse = relapses(params, noise, pain, course.level)
    if relapse is not None:
        weeks_relapsed, rows = relapse
        level = course.level[rows]
        level[weeks_relapsed] = np.maximum(
            level[weeks_relapsed], np.float32(params.relapse["level"])
        )
        pain[rows], odi[rows] = _scores(
            params,
            noise.take(rows),
            level,
            flare_p[rows],
            baseline_pain[rows],
            baseline_odi[rows],
        )
    care = (path, chosen, fit, sec_fit)
    return assemble(
        kb,
        params,
        patients,
        care,
        cond,
        sec,
        pain,
        odi,
        noise,
        dropout,
        visits,
        course,
        relapse,
        surgery,
    )


def _flare_probability(params: RecoveryParams, fit: np.ndarray, sec_fit: np.ndarray) -> np.ndarray:
    """Weekly chance of a flare-up per patient: that of the care's fit to the condition, and
    for a combined presentation the mean of both parts' weighted by ``secondary_share``."""
    p = np.array([params.fit[name]["flare_weekly_probability"] for name in FITS])
    share = params.modifiers["secondary_share"]
    mixed = (1 - share) * p[fit] + share * p[np.maximum(sec_fit, 0)]
    return np.where(sec_fit >= 0, mixed, p[fit]).astype(np.float32)


def _scores(
    params: RecoveryParams,
    noise: Noise,
    level: np.ndarray,
    flare_p: np.ndarray,
    baseline_pain: np.ndarray,
    baseline_odi: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Pain (0-10) and ODI (0-100, steps of 2) for weeks 0..W; week 0 is the baseline.

    A flare-up starts in a week whose uniform draw (pathway-independent) falls below the
    patient's ``flare_p``: care that changes the fit changes the threshold, never the draw.
    """
    nz = params.noise
    flare = (noise.flare_u < flare_p[:, None]).astype(np.float32)
    flare[:, 1:] += np.float32(nz["flare_carryover"]) * flare[:, :-1]
    pain = baseline_pain[:, None] * level + nz["flare_pain"] * flare + nz["pain_sd"] * noise.pain_z
    odi = baseline_odi[:, None] * level + nz["flare_odi"] * flare + nz["odi_sd"] * noise.odi_z
    pain = np.clip(np.rint(pain), 0, 10).astype(np.int8)
    odi = (2 * np.clip(np.rint(odi / 2), 0, 50)).astype(np.int8)
    pain = np.concatenate([baseline_pain.astype(np.int8)[:, None], pain], axis=1)
    odi = np.concatenate([baseline_odi.astype(np.int8)[:, None], odi], axis=1)
    return pain, odi


def simulate_policies(
    patients: pd.DataFrame,
    policies: Mapping[str, Any],
    seed: int,
    *,
    dropout: float | None = None,
    visits: bool = True,
    knowledge: Knowledge | None = None,
    params: RecoveryParams | None = None,
    noise: Noise | None = None,
) -> dict[str, Simulation]:
    """Simulate the same patients under each policy with common random numbers.

    ``policies`` maps a name to pathways or a care plan (as :func:`simulate` takes them). The
    draws are made once and shared, so differences between policies are the effect of triage
    alone. ``params`` (default: :func:`load_recovery`) and ``noise`` (default: drawn here)
    let a sensitivity analysis reuse the same draws across parameter sets.

    Parameters
    ----------
    patients
        The ``patients`` table.
    policies
        Policy name -> pathways or care plan.
    seed
        Seed of the shared draws.
    dropout, visits, knowledge, params, noise
        As :func:`simulate` takes them.

    Returns
    -------
    dict
        Policy name -> :class:`~outcomes.engine.recovery.results.Simulation`, in the given order.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> patients = generate(200, seed=1)
    >>> from outcomes.engine.recovery.care import policy_pathways
    >>> sims = simulate_policies(patients, policy_pathways(patients), seed=0, visits=False)
    >>> a, b = sims["perfect"].outcomes, sims["everyone_spinal"].outcomes
    >>> same = (a["pathway"] == b["pathway"]) & (a["secondary_condition"] == "none")
    >>> bool((a["weeks_to_recovery"] == b["weeks_to_recovery"])[same].all())
    True
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    params = params if params is not None else load_recovery(kb)
    noise = noise if noise is not None else draw_noise(len(patients), seed, params)
    return {
        name: simulate(
            patients,
            pathways,
            seed,
            dropout=dropout,
            visits=visits,
            noise=noise,
            params=params,
            knowledge=kb,
        )
        for name, pathways in policies.items()
    }
