"""Captions of notebook 03: sentences computed from a run, true for any N, seed and setting.

Each ``*_caption`` states what a figure or table of :mod:`outcomes.analysis.survival` shows;
:func:`recovery_summary` gives the headline numbers of the run for the top of its report
page.
"""

from __future__ import annotations

import pandas as pd

from outcomes.analysis.describe import NO_PATIENTS
from outcomes.analysis.survival import (
    BENCHMARK_POLICIES,
    EVENT,
    check_one_row_per_patient,
    follow_up_weeks,
    weeks_saved,
)
from outcomes.captions.survival.words import (
    interval,
    label,
    median_text,
    median_weeks,
    saved_text,
    share,
)
from outcomes.infra.summary import Summary


def condition_caption(outcomes: pd.DataFrame) -> str:
    """One sentence: median weeks to recovery per condition, fastest first.

    Parameters
    ----------
    outcomes
        One policy's outcomes; each patient may appear once per condition.

    Returns
    -------
    str
        The sentence (a median beyond follow-up reads "not reached within W weeks").

    Examples
    --------
    >>> out = pd.DataFrame({"condition": pd.Categorical(["a", "a", "b", "b"]),
    ...                     "weeks_to_recovery": [2, 4, 9, 52], "recovered": [True, True,
    ...                     True, False], "last_visit_week": [52, 52, 52, 52]})
    >>> condition_caption(out)
    'Median weeks to recovery, fastest first: a 2; b 9.'
    """
    check_one_row_per_patient(outcomes, "condition")
    if outcomes.empty:
        return f"Median weeks to recovery: {NO_PATIENTS}."
    horizon = follow_up_weeks(outcomes)
    medians = median_weeks(outcomes, "condition").sort_values(kind="stable")
    parts = [f"{label(c)} {median_text(m, horizon)}" for c, m in medians.items()]
    return f"Median weeks to recovery, fastest first: {'; '.join(parts)}."


def fit_caption(outcomes: pd.DataFrame, policy: str, top: int = 2) -> str:
    """Sentences on how the pathways chosen by one ``policy`` fitted its patients.

    For each fit: patients, share recovered, median weeks; for the other fits, the conditions
    their patients most often had (the groups differ in case mix as well as in fit).

    Parameters
    ----------
    outcomes
        One policy's outcomes; each patient may appear once per fit.
    policy
        The policy's name, for the sentence.
    top
        Conditions named per fit other than matched.

    Returns
    -------
    str
        The sentences.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.engine.recovery import simulate
    >>> patients = generate(400, seed=1)
    >>> out = simulate(patients, ["spinal"] * 400, seed=0, visits=False).outcomes
    >>> fit_caption(out, "everyone_spinal").split(":")[0]
    'Under everyone spinal'
    """
    check_one_row_per_patient(outcomes, "fit")
    n = len(outcomes)
    if n == 0:
        return f"Under {label(policy)}: {NO_PATIENTS}."
    horizon = follow_up_weeks(outcomes)
    medians = median_weeks(outcomes, "fit")
    parts = []
    for fit, median in medians.items():
        group = outcomes[outcomes["fit"] == fit]
        text = (
            f"{len(group):,} {fit} ({share(len(group) / n)}; {share(group[EVENT].mean())} "
            f"recovered, median {median_text(median, horizon)}"
        )
        if fit != "matched":
            mix = group["condition"].astype(str).value_counts(normalize=True).head(top)
            text += "; conditions: " + ", ".join(f"{label(c)} {share(s)}" for c, s in mix.items())
        parts.append(text + ")")
    return f"Under {label(policy)}: " + "; ".join(parts) + "."


def trajectory_caption(summary: pd.DataFrame) -> str:
    """Where mean pain curves of several groups (policies) differ most, and how far apart
    they end. ``summary`` is :func:`~outcomes.analysis.survival.trajectory` output.

    Parameters
    ----------
    summary
        :func:`outcomes.analysis.survival.trajectory` output with two groups or more.

    Returns
    -------
    str
        The sentences (with fewer than two groups, that there is nothing to compare).

    Examples
    --------
    >>> s = pd.DataFrame({"group": ["a", "a", "b", "b"], "week": [0, 4, 0, 4],
    ...                   "mean": [6.0, 3.0, 6.0, 4.5]})
    >>> print(trajectory_caption(s).replace(": ", ":\\n"))
    Mean pain differs most between groups at week 4:
    from 3.0 (a) to 4.5 (b). At week 4 the gap is 1.5 points.
    """
    if summary.empty or summary["group"].nunique() < 2:
        return "Fewer than two groups: nothing to compare."
    wide = summary.pivot(index="week", columns="group", values="mean")
    spread = wide.max(axis=1) - wide.min(axis=1)
    week = int(spread.idxmax())
    row = wide.loc[week]
    last = int(wide.index.max())
    return (
        f"Mean pain differs most between groups at week {week}: from {row.min():.1f} "
        f"({label(row.idxmin())}) to {row.max():.1f} ({label(row.idxmax())}). At week "
        f"{last} the gap is {spread.loc[last]:.1f} points."
    )


def harm_caption(harm_table: pd.DataFrame) -> str:
    """Sentences on serious pathology left on a routine pathway, per policy.

    ``harm_table`` is :func:`~outcomes.analysis.survival.harms` output. When the oracle is among the
    policies, says whether even it left some (accuracy is not safety).

    Parameters
    ----------
    harm_table
        :func:`outcomes.analysis.survival.harms` output.

    Returns
    -------
    str
        The sentences.

    Examples
    --------
    >>> t = pd.DataFrame({"patients with serious pathology": [40, 40],
    ...                   "under-triaged emergencies": [0, 3]},
    ...                  index=pd.Index(["rules", "oracle"], name="policy"))
    >>> print(harm_caption(t).replace(". ", ".\\n"))
    Of 40 patients with serious pathology, left on a routine pathway: rules 0, oracle 3.
    The oracle, which maximises accuracy, still left 3: accuracy is not safety.
    """
    serious = int(harm_table["patients with serious pathology"].max()) if len(harm_table) else 0
    if serious == 0:
        return "No patient in this cohort has serious pathology."
    harmed = harm_table["under-triaged emergencies"].astype(int)
    counts = ", ".join(f"{label(p)} {h}" for p, h in harmed.items())
    text = f"Of {serious} patients with serious pathology, left on a routine pathway: {counts}."
    if "oracle" in harmed.index:
        k = int(harmed["oracle"])
        text += (
            f" The oracle, which maximises accuracy, still left {k}: accuracy is not safety."
            if k
            else " The oracle left none in this run."
        )
    return text


def course_events_caption(table: pd.DataFrame) -> str:
    """One sentence on :func:`~outcomes.analysis.survival.course_events`: operations per 100
    patients and lasting deficits, fewest and most across policies.

    Parameters
    ----------
    table
        :func:`outcomes.analysis.survival.course_events` output.

    Returns
    -------
    str
        The sentence ("no patients" for an empty table).

    Examples
    --------
    >>> t = pd.DataFrame({"operations_per_100": [5.0, 7.5], "serious": [10, 10],
    ...                   "lasting_deficits": [2, 5]}, index=["rules", "everyone_spinal"])
    >>> print(course_events_caption(t).replace(". ", ".\\n"))
    Operations per 100 patients: 5.0 (rules) to 7.5 (everyone spinal).
    Lasting deficits among 10 patients with serious pathology: 2 (rules) to 5 (everyone spinal).
    """
    if table.empty:
        return NO_PATIENTS
    ops = table["operations_per_100"]
    text = (
        f"Operations per 100 patients: {ops.min():.1f} ({label(ops.idxmin())}) to "
        f"{ops.max():.1f} ({label(ops.idxmax())})."
    )
    serious = int(table["serious"].max())
    if serious == 0:
        return text + " No patient has serious pathology."
    deficits = table["lasting_deficits"]
    return text + (
        f" Lasting deficits among {serious} patients with serious pathology: "
        f"{int(deficits.min())} ({label(deficits.idxmin())}) to {int(deficits.max())} "
        f"({label(deficits.idxmax())})."
    )


def recovery_summary(
    outcomes: pd.DataFrame,
    saved: pd.DataFrame,
    reference: str,
    harm_table: pd.DataFrame,
    *,
    n_boot: int = 500,
    seed: int = 0,
) -> Summary:
    """Headline numbers of notebook 03 for the top of its report page.

    The best *realistic* policy is chosen among those a service could run (not the
    :data:`BENCHMARK_POLICIES`), and compared with the runner-up by a paired bootstrap
    (:func:`~outcomes.analysis.survival.weeks_saved` with the runner-up as reference, ``n_boot``
    replicates, ``seed``).

    Parameters
    ----------
    outcomes
        Stacked outcomes of several policies (:func:`outcomes.engine.recovery.stack`).
    saved
        :func:`~outcomes.analysis.survival.weeks_saved` against ``reference``.
    reference
        The reference policy of ``saved``.
    harm_table
        :func:`~outcomes.analysis.survival.harms` of the same outcomes.
    n_boot
        Bootstrap replicates of the comparison with the runner-up.
    seed
        Seed of that bootstrap.

    Returns
    -------
    outcomes.infra.summary.Summary
        The title (follow-up, patients, policies) and one sentence per headline number.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.analysis.survival import harms
    >>> from outcomes.engine.recovery import policy_pathways, simulate_policies, stack
    >>> patients = generate(400, seed=1)
    >>> out = stack(simulate_policies(patients, policy_pathways(patients), seed=0, visits=False))
    >>> saved = weeks_saved(out, reference="everyone_spinal", n_boot=50)
    >>> summary = recovery_summary(out, saved, "everyone_spinal", harms(out), n_boot=50)
    >>> summary.title
    'Recovery over 52 weeks: 400 patients under 2 triage policies'
    """
    n_patients = outcomes["patient_id"].nunique()
    names = [str(p) for p in saved.index]
    horizon = follow_up_weeks(outcomes)
    title = (
        f"Recovery over {horizon} weeks: {n_patients:,} patients under {len(names)} triage policies"
    )
    if n_patients == 0:
        return Summary(title, [NO_PATIENTS])
    sentences = []
    realistic = saved.drop(index=[p for p in BENCHMARK_POLICIES if p in saved.index])
    if len(realistic):
        ranked = realistic["saved_per_100"].sort_values(ascending=False, kind="stable")
        best = str(ranked.index[0])
        row = saved.loc[best]
        if best == reference:
            text = f"Best realistic policy: {best} (the reference)."
        else:
            text = (
                f"Best realistic policy: {best}, saving "
                f"{saved_text(row)} "
                f"weeks of pain per 100 patients against {reference}."
            )
        if len(ranked) > 1:
            runner = str(ranked.index[1])
            paired = weeks_saved(
                outcomes,
                reference=runner,
                horizon=horizon,
                n_boot=n_boot,
                seed=seed,
                policies=[best, runner],
            ).loc[best]
            text += (
                f" Against the runner-up, {runner}, it saves "
                f"{saved_text(paired)} weeks per 100 patients (paired bootstrap)."
            )
        sentences.append(text)
    for name, what in (
        ("oracle", "The oracle (the best triage from the recorded findings)"),
        ("perfect", "Perfect triage"),
    ):
        if name in saved.index and name != reference:
            row = saved.loc[name]
            sentences.append(f"{what} would save {saved_text(row)} weeks per 100 patients.")
    ref = saved.loc[reference]
    sentences.append(
        f"Mean weeks to recovery within {horizon} weeks under {reference}: "
        f"{interval(ref['rmst_weeks'], ref['rmst_lower'], ref['rmst_upper'], 1)}."
    )
    serious = harm_table["patients with serious pathology"]
    harmed = harm_table["under-triaged emergencies"]
    if serious.max() > 0 and harmed.max() == 0:
        sentences.append("No serious pathology was left on a routine pathway by any policy.")
    elif serious.max() > 0:
        counts = ", ".join(f"{p} {int(h)}" for p, h in harmed.items())
        sentences.append(
            f"Serious pathology left on a routine pathway, of {int(serious.max())} patients: "
            f"{counts}."
        )
    return Summary(title, sentences)
