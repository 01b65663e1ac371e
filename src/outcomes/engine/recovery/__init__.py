"""Recovery timelines: weekly pain and disability given the care pathway each patient receives.

:func:`simulate` follows every patient weekly for ``follow_up_weeks`` (52 by default;
``knowledge/recovery.toml`` holds every number with its source and, where uncertain, its
plausible range). A *policy* is one care pathway per patient (an array), or a *care plan*
(:func:`care_plan`) that also names a pathway for the secondary contributor of a combined
presentation, so any triage method — rules, a learned model, the Bayes oracle, a team's own
clinicians — is compared in the same way.

**Natural history first.** Each part of a presentation (the condition and, in a combined
presentation, the secondary contributor) follows one of four trajectory *classes* —
recovering quickly, recovering slowly, persistent moderate, persistent severe — whose
shares come from published prognostic cohorts of back-related leg pain and whose odds move
with the prognostic factors the record holds (chronicity, severity, age)::

    level(t)  = floor_k + (1 - floor_k) * exp(-rate * max(t - delay, 0)) + aggravation bump(t)
    rate      = ln 2 / half_life_k * fit multiplier * chronic * adherence * individual spread
    odds(k)   = share(condition, k) / share(condition, fast)
                * exp(weight_k * (prognostic score + ln persistence_odds_ratio[fit]))

**Care relative to natural history.** The *fit* of the pathway to the part is ``matched``,
``mismatched`` (usual care: natural history), ``aggravating``, ``redirected`` (an unnecessary
emergency referral, re-routed after a delay) or ``harmful`` (serious pathology left on a
routine pathway: symptoms progress until the red flags are recognised). Each fit scales the
odds of the persistent classes and the class's rate by effects with a plausible range.
**Surgery** is offered to disc-herniation patients on the spinal pathway who have not
improved by the decision week; **relapses** are episodes of weeks after a first recovery;
serious pathology carries a risk of a **lasting deficit** that grows with the weeks until
emergency care.

**Common random numbers.** Every random draw (the class draw, adherence, individual rate,
surgery, relapse, detection and deficit draws, weekly noise, flare-ups, loss to follow-up) is
made by :func:`draw_noise` from ``(seed, row position)`` alone, before the pathway is looked
at; the care sets only what the draws are compared with. The class is drawn by inverting the
cumulative class probabilities with one uniform number, so care that lowers the odds of a
persistent course moves a patient to a better class or leaves them where they are. Simulating
the same patients under two policies therefore differs only for patients whose care fits them
differently: the difference is the effect of triage alone. The draws follow the **row
position**, not the ``patient_id`` (compare policies on one table in one order, as
:func:`simulate_policies` does).

Combined presentations: the level is ``(1 - share) * primary part + share * secondary part``.
The secondary part is judged against the care plan's secondary pathway when it has one,
otherwise against the pathway the primary part's care ends up on: the single pathway chosen
or, after an unneeded emergency referral, the primary condition's own pathway it is
redirected to (an emergency referral itself addresses only a serious secondary contributor).
No single pathway fits both parts, because every secondary contributor in ``conditions.toml``
belongs to another pathway than its primary condition. Which policies address the secondary
part: ``perfect`` does; the triage methods (rules, learned models, the oracle) choose one
pathway per patient and never do, and neither does ``everyone_spinal``. A team's own calls
can, through :func:`care_plan`.

The package, one job per module: :mod:`~outcomes.engine.recovery.params` (``recovery.toml``
read and validated), :mod:`~outcomes.engine.recovery.care` (care plans, the fit of a pathway,
fixed policies), :mod:`~outcomes.engine.recovery.noise` (the draws),
:mod:`~outcomes.engine.recovery.course` (trajectory classes, lasting harm),
:mod:`~outcomes.engine.recovery.events` (surgery, relapses),
:mod:`~outcomes.engine.recovery.criterion` (when a patient counts as recovered),
:mod:`~outcomes.engine.recovery.simulate` (the simulation) and
:mod:`~outcomes.engine.recovery.results` (its tables). Policies that fit a triage method are
built above the engine, by :mod:`outcomes.triage.policies`; the tables' columns are declared
in :mod:`outcomes.tables.columns`.
"""

from __future__ import annotations

from outcomes.engine.recovery.care import (
    EMERGENCY,
    FIXED_POLICIES,
    care_fits,
    care_plan,
    fit_table,
    fixed_plan,
    perfect_plan,
    policy_pathways,
)
from outcomes.engine.recovery.course import (
    SERIOUS,
    Course,
    class_probabilities,
    prognostic_score,
    trajectories,
)
from outcomes.engine.recovery.criterion import (
    first_sustained,
    recovery_criterion,
    recovery_definition,
)
from outcomes.engine.recovery.events import (
    operate,
    relapses,
    surgery_weeks,
)
from outcomes.engine.recovery.noise import (
    STREAM,
    Noise,
    draw_noise,
)
from outcomes.engine.recovery.params import (
    FIT_FIELDS,
    RecoveryParams,
    load_recovery,
)
from outcomes.engine.recovery.results import (
    Simulation,
    assemble,
    stack,
)
from outcomes.engine.recovery.simulate import (
    REQUIRED,
    simulate,
    simulate_policies,
)
from outcomes.engine.recovery_file import (
    AGGRAVATING_KEYS,
    RECOVERY_TABLES,
    SCHEMA,
    recovery_settings,
)
from outcomes.tables.columns import (
    CENSORING,
    CLASSES,
    FITS,
    NO_SECONDARY_PATHWAY,
    OUTCOME_NULLABLE,
    outcome_dtypes,
    visit_dtypes,
)

__all__ = [
    "AGGRAVATING_KEYS",
    "CENSORING",
    "CLASSES",
    "Course",
    "EMERGENCY",
    "FITS",
    "FIT_FIELDS",
    "FIXED_POLICIES",
    "NO_SECONDARY_PATHWAY",
    "Noise",
    "OUTCOME_NULLABLE",
    "RECOVERY_TABLES",
    "REQUIRED",
    "RecoveryParams",
    "SCHEMA",
    "SERIOUS",
    "STREAM",
    "Simulation",
    "assemble",
    "care_fits",
    "care_plan",
    "class_probabilities",
    "draw_noise",
    "first_sustained",
    "fit_table",
    "fixed_plan",
    "load_recovery",
    "operate",
    "outcome_dtypes",
    "perfect_plan",
    "policy_pathways",
    "prognostic_score",
    "recovery_criterion",
    "recovery_definition",
    "recovery_settings",
    "relapses",
    "simulate",
    "simulate_policies",
    "stack",
    "surgery_weeks",
    "trajectories",
    "visit_dtypes",
]
