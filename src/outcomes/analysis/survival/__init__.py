"""Time-to-recovery analysis of simulated outcomes: Kaplan–Meier, medians, log-rank, RMST.

Every function takes the ``outcomes`` table of :mod:`outcomes.engine.recovery` (or several
stacked with a ``policy`` column) and returns a tidy table of numbers;
:mod:`outcomes.captions.survival` holds their reading versions, titles and sentences, and
:mod:`outcomes.faces.plots` draws them. "Survival" is the share of patients **not yet
recovered**. The package has three parts:

- :mod:`~outcomes.analysis.survival.fits`: :class:`KaplanMeierByGroup` fits lifelines'
  Kaplan–Meier once per group; curves with at-risk counts, medians and restricted means read
  those fits; log-rank tests.
- :mod:`~outcomes.analysis.survival.restricted_mean`: the headline number, *weeks of pain
  saved per 100 patients*, is 100 x the difference in restricted mean time to recovery (the
  area under the Kaplan–Meier curve up to the end of follow-up) between a policy and the
  reference, with a paired, seeded bootstrap interval: the policies are simulated on the same
  patients, so each bootstrap sample resamples patients once and evaluates every policy on
  them.
- :mod:`~outcomes.analysis.survival.course`: mean pain by week, operations, relapses, harm.

**One row per patient in a group.** Kaplan–Meier bands, medians and log-rank tests assume
independent patients. Policies simulated on the same patients share them, so a stack of
policies may be grouped *by policy* (each group holds every patient once), but never pooled
and grouped by another column (``fit``, ``condition``): the same patient would be counted once
per policy, identical copies under common random numbers, and bands and p-values would be too
narrow. These functions refuse such tables (by ``patient_id``); analyse one policy at a time.

The follow-up length (the horizon) is read from the outcomes: the last week any patient was
seen (``last_visit_week``), which is ``follow_up_weeks`` of ``recovery.toml`` whenever someone
was followed to the end; without that column it is taken from ``recovery.toml``.
"""

from outcomes.analysis.survival.course import (
    BENCHMARK_POLICIES,
    combined_presentations,
    course_events,
    harms,
    policy_trajectories,
    trajectory,
)
from outcomes.analysis.survival.fits import (
    DURATION,
    EVENT,
    KaplanMeierByGroup,
    at_risk_weeks,
    check_one_row_per_patient,
    follow_up_weeks,
    group_rows,
    kaplan_meier,
    logrank,
    median_times,
)
from outcomes.analysis.survival.restricted_mean import BOOTSTRAP_CELLS, rmst, weeks_saved

__all__ = [
    "BENCHMARK_POLICIES",
    "BOOTSTRAP_CELLS",
    "DURATION",
    "EVENT",
    "KaplanMeierByGroup",
    "at_risk_weeks",
    "check_one_row_per_patient",
    "combined_presentations",
    "course_events",
    "follow_up_weeks",
    "group_rows",
    "harms",
    "kaplan_meier",
    "logrank",
    "median_times",
    "policy_trajectories",
    "rmst",
    "trajectory",
    "weeks_saved",
]
