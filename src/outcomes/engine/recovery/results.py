"""The simulation's results: the ``outcomes`` and ``visits`` tables, and many runs stacked.

Column names, dtypes and order come from :mod:`outcomes.tables.columns`; this module fills
them from the simulation's arrays (:func:`assemble`) and stacks runs under several policies
into one table (:func:`stack`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from outcomes.engine.recovery.course import Course
from outcomes.engine.recovery.criterion import first_sustained, recovery_criterion
from outcomes.engine.recovery.noise import Noise
from outcomes.engine.recovery.params import RecoveryParams
from outcomes.knowledge import Knowledge
from outcomes.tables.columns import FITS, outcome_dtypes, visit_dtypes


@dataclass(frozen=True)
class Simulation:
    """Result of :func:`simulate`: the ``outcomes`` table (one row per patient) and the long
    ``visits`` table (one row per patient and week seen, week 0 = baseline).

    Parameters
    ----------
    outcomes
        The ``outcomes`` table (columns :func:`outcomes.tables.columns.outcome_columns`).
    visits
        The ``visits`` table (:func:`outcomes.tables.columns.visit_columns`), or ``None``
        when it was not asked for.

    Examples
    --------
    >>> Simulation(outcomes=pd.DataFrame(), visits=None).visits is None
    True
    """

    outcomes: pd.DataFrame
    visits: pd.DataFrame | None


def _whole(weeks: np.ndarray) -> pd.arrays.IntegerArray:
    """Whole weeks with <NA> where NaN."""
    return pd.array(weeks, dtype="Float64").astype("Int16")


def assemble(
    kb: Knowledge,
    params: RecoveryParams,
    patients: pd.DataFrame,
    care: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    cond: np.ndarray,
    sec: np.ndarray,
    pain: np.ndarray,
    odi: np.ndarray,
    noise: Noise,
    dropout: float,
    with_visits: bool,
    course: Course,
    relapse: tuple[np.ndarray, np.ndarray] | None,
    surgery_weeks: np.ndarray,
) -> Simulation:
    """The ``outcomes`` and ``visits`` tables of a simulation, from its arrays.

    Applies loss to follow-up (a constant weekly hazard reaching ``dropout`` by the end of
    follow-up, drawn from ``noise``), finds the first sustained recovery before the last
    visit, and builds both tables with the dtypes of :mod:`outcomes.tables.columns`.

    Parameters
    ----------
    kb
        The knowledge base.
    params
        Recovery parameters.
    patients
        The ``patients`` table (ids, ``chronic``).
    care
        Codes per patient: chosen pathway, plan's secondary pathway (-1: none), fit of the
        care to the condition and to the secondary part (-1: none).
    cond, sec
        Condition codes (``sec`` -1: no secondary contributor).
    pain, odi
        Recorded scores, one row per patient, weeks 0..W.
    noise
        The draws (:func:`outcomes.engine.recovery.draw_noise`).
    dropout
        Share lost to follow-up by the end of follow-up.
    with_visits
        Also build the long ``visits`` table.
    course
        The course (:func:`outcomes.engine.recovery.trajectories`).
    relapse
        ``(weeks mask, rows)`` of relapse episodes, or ``None``
        (:func:`outcomes.engine.recovery.relapses`).
    surgery_weeks
        Operation week per patient (NaN: none).

    Returns
    -------
    Simulation

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.engine.recovery import simulate
    >>> patients = generate(50, seed=1)
    >>> sim = simulate(patients, patients["pathway"], seed=0, visits=False)
    >>> isinstance(sim, Simulation), sim.visits is None
    (True, True)
    """
    n = len(patients)
    path, chosen, fit, sec_fit = care
    weeks = params.follow_up_weeks
    # Loss to follow-up: a constant weekly hazard h with (1 - h)^W = 1 - dropout. The first
    # week not seen is geometric; > W means the patient is followed to the end.
    if dropout > 0:
        hazard = 1 - (1 - dropout) ** (1 / weeks)
        gone = np.floor(np.log1p(-noise.dropout_u) / math.log1p(-hazard)).astype(np.int64) + 1
        first_missed = np.minimum(gone, weeks + 1)
    else:
        first_missed = np.full(n, weeks + 1)
    last_visit = first_missed - 1  # the baseline (week 0) is always seen

    qualifies = recovery_criterion(pain, params)
    run = params.sustained_visits
    start = first_sustained(qualifies, run)
    confirmed = start + run - 1
    recovered = (start >= 1) & (confirmed <= last_visit)
    lost = first_missed <= weeks
    weeks_to = np.where(recovered, start, last_visit).astype(np.int16)
    censoring = np.where(recovered, 0, np.where(lost, 1, 2)).astype(np.int8)
    rows = np.arange(n)
    relapsed = np.zeros(n, dtype=bool)
    relapse_week = np.full(n, np.nan)
    if relapse is not None:
        mask, which = relapse
        onset = mask.argmax(axis=1) + 1  # first relapse week (1-based)
        relapsed[which] = onset <= last_visit[which]
        relapse_week[which] = np.where(relapsed[which], onset, np.nan)
    surgery = np.isfinite(surgery_weeks) & (surgery_weeks <= last_visit)

    true_path = np.array([kb.pathways.index(c.pathway) for c in kb.conditions])[cond]
    dtypes = outcome_dtypes(kb)

    def cat(codes: np.ndarray, name: str) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, dtype=dtypes[name])

    outcomes = pd.DataFrame(
        {
            "patient_id": patients["patient_id"].astype("string").to_numpy(),
            "condition": cat(cond, "condition"),
            "secondary_condition": cat(sec + 1, "secondary_condition"),
            "chronic": patients["chronic"].to_numpy(dtype=bool),
            "true_pathway": cat(true_path, "true_pathway"),
            "pathway": cat(path, "pathway"),
            "fit": cat(fit, "fit"),
            "matched": path == true_path,
            "secondary_pathway": cat(chosen + 1, "secondary_pathway"),
            "secondary_fit": cat(sec_fit + 1, "secondary_fit"),
            "trajectory_class": cat(course.trajectory_class, "trajectory_class"),
            "baseline_pain": pain[:, 0],
            "baseline_odi": odi[:, 0],
            "final_pain": pain[rows, last_visit],
            "final_odi": odi[rows, last_visit],
            "last_visit_week": last_visit.astype(np.int16),
            "weeks_to_recovery": weeks_to,
            "recovered": recovered,
            "censoring": cat(censoring, "censoring"),
            "recovered_at_end": qualifies[rows, last_visit],
            "relapsed": relapsed,
            "relapse_week": _whole(relapse_week),
            "surgery": surgery,
            "surgery_week": _whole(np.where(surgery, surgery_weeks, np.nan)),
            "harm": (fit == FITS.index("harmful")) | (sec_fit == FITS.index("harmful")),
            "weeks_to_emergency_care": pd.array(course.emergency_weeks, dtype="Float32"),
            "lasting_deficit": course.deficit,
        }
    ).astype({k: v for k, v in dtypes.items() if isinstance(v, str)})
    outcomes.index = pd.RangeIndex(n)

    table = None
    if with_visits:
        seen = np.arange(weeks + 1)[None, :] <= last_visit[:, None]
        flat = seen.ravel()
        ids = pd.Categorical.from_codes(
            np.repeat(np.arange(n, dtype=np.int32), weeks + 1)[flat],
            categories=pd.Index(patients["patient_id"].astype(str).to_numpy()),
        )
        table = pd.DataFrame(
            {
                "patient_id": ids,
                "week": np.tile(np.arange(weeks + 1, dtype=np.int16), n)[flat],
                "pain_nrs": pain.ravel()[flat],
                "odi": odi.ravel()[flat],
                "pathway": pd.Categorical.from_codes(
                    np.repeat(path, weeks + 1)[flat], dtype=visit_dtypes(kb)["pathway"]
                ),
            }
        )
    return Simulation(outcomes=outcomes, visits=table)


def stack(simulations: Mapping[str, Simulation], table: str = "outcomes") -> pd.DataFrame:
    """One table with a ``policy`` column (categorical, in the given order) from many runs.

    Parameters
    ----------
    simulations
        Policy name -> :class:`Simulation` (as :func:`outcomes.engine.recovery.simulate_policies`
        returns them).
    table
        ``"outcomes"`` or ``"visits"``.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> patients = generate(100, seed=1)
    >>> from outcomes.engine.recovery import policy_pathways, simulate_policies
    >>> sims = simulate_policies(patients, policy_pathways(patients), seed=0, visits=False)
    >>> stack(sims)["policy"].value_counts().sort_index().tolist()
    [100, 100]
    """
    frames = [getattr(sim, table).assign(policy=name) for name, sim in simulations.items()]
    out = pd.concat(frames, ignore_index=True)
    out["policy"] = pd.Categorical(out["policy"], categories=list(simulations))
    return out


#: Policies the CLI knows: fixed ones, and ones that fit a triage method.
FIXED_POLICIES = ("perfect", "everyone_spinal")
FITTED_POLICIES = ("oracle", "rules", "logistic", "boosted")
