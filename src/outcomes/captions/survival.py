"""Sentences, titles and reading tables of the time-to-recovery analysis (notebook 03).

Every function here turns the numbers of :mod:`outcomes.analysis.survival` into words: tables
of text (``format_*``), figure titles (``*_title``, two short lines) and captions (``*_caption``,
sentences true for any N, seed and setting), and the run's :class:`~outcomes.infra.summary.Summary`.
Nothing here computes a statistic the analysis does not already return, so a clinician can review
every sentence in one place.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from outcomes.analysis.describe import NO_PATIENTS
from outcomes.analysis.survival import (
    BENCHMARK_POLICIES,
    EVENT,
    KaplanMeierByGroup,
    check_one_row_per_patient,
    follow_up_weeks,
    weeks_saved,
)
from outcomes.captions.formatting import format_p
from outcomes.infra.summary import Summary

#: How a policy is named inside a sentence (others by their name, underscores as spaces).
POLICY_NAMES = {
    "rules": "the rules",
    "oracle": "the oracle",
    "perfect": "perfect triage",
    "everyone_spinal": "everyone-to-spinal",
}


def _label(name: object) -> str:
    return str(name).replace("_", " ")


def _share(x: float) -> str:
    """A share as a whole percentage; a small non-zero share is "<1%", not "0%"."""
    return "<1%" if 0 < x < 0.005 else f"{x:.0%}"


def _number(x: float, digits: int) -> str:
    """A number with a true minus sign."""
    return f"{x:.{digits}f}".replace("-", "\N{MINUS SIGN}")


def _saved(row: pd.Series) -> str:
    """Weeks saved per 100 with its interval, from a :func:`weeks_saved` row."""
    return _interval(row["saved_per_100"], row["saved_lower"], row["saved_upper"], 0)


def _interval(est: float, lo: float, hi: float, digits: int) -> str:
    """``est (lo–hi)``; "to" between bounds once one is negative ("-3--1" misreads)."""
    separator = " to " if lo < 0 else "–"
    return f"{_number(est, digits)} ({_number(lo, digits)}{separator}{_number(hi, digits)})"


def format_weeks_saved(table: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Reading version of :func:`weeks_saved`: estimates with their intervals as text.

    Examples
    --------
    >>> t = pd.DataFrame({"rmst_weeks": [9.0, 8.0], "rmst_lower": [8.5, 7.5],
    ...                   "rmst_upper": [9.5, 8.5], "saved_per_100": [0.0, 100.0],
    ...                   "saved_lower": [0.0, 80.0], "saved_upper": [0.0, 120.0]},
    ...                  index=pd.Index(["rules", "oracle"], name="policy"))
    >>> format_weeks_saved(t, "rules").iloc[1, 1]
    '100 (80–120)'
    """
    out = pd.DataFrame(
        {
            "mean weeks to recovery (95% CI)": [
                _interval(r.rmst_weeks, r.rmst_lower, r.rmst_upper, 1) for r in table.itertuples()
            ],
            f"weeks saved per 100 vs {reference} (95% CI)": [
                "reference" if name == reference
                else _interval(r.saved_per_100, r.saved_lower, r.saved_upper, 0)
                for name, r in zip(table.index, table.itertuples(), strict=True)
            ],
        },
        index=table.index,
    )  # fmt: skip
    return out


def _format_weeks(value: float) -> str:
    return "not reached" if not np.isfinite(value) else f"{value:.0f}"


def format_median_times(table: pd.DataFrame) -> pd.DataFrame:
    """Reading version of :func:`outcomes.analysis.survival.median_times`.

    Parameters
    ----------
    table
        :func:`~outcomes.analysis.survival.median_times` output (``patients``,
        ``recovered``, ``median``, ``lower``, ``upper``).

    Returns
    -------
    pandas.DataFrame
        Same index; text columns ``patients``, ``recovered`` (a percentage, one decimal) and
        ``median weeks (95% CI)`` as ``"6 (5–7)"``. A limit beyond follow-up reads ``"not
        reached"``, a median beyond it ``"not reached within follow-up"``, and an empty group
        ``"no patients"``.

    Examples
    --------
    >>> t = pd.DataFrame({"patients": [40, 0, 12], "recovered": [0.9, np.nan, 0.25],
    ...                   "median": [6.0, np.nan, np.inf], "lower": [5.0, np.nan, 30.0],
    ...                   "upper": [np.inf, np.nan, np.inf]}, index=pd.Index(["a", "b", "c"]))
    >>> format_median_times(t)["median weeks (95% CI)"].tolist()
    ['6 (5–not reached)', 'no patients', 'not reached within follow-up']
    >>> format_median_times(t)["recovered"].tolist()
    ['90.0%', 'no patients', '25.0%']
    """
    rows = {}
    for name, r in table.iterrows():
        if r["patients"] == 0:
            rows[name] = ("0", NO_PATIENTS, NO_PATIENTS)
            continue
        if not np.isfinite(r["median"]):
            text = "not reached within follow-up"
        else:
            text = (
                f"{_format_weeks(r['median'])} "
                f"({_format_weeks(r['lower'])}–{_format_weeks(r['upper'])})"
            )
        rows[name] = (f"{int(r['patients'])}", f"{r['recovered']:.1%}", text)
    out = pd.DataFrame.from_dict(
        rows, orient="index", columns=["patients", "recovered", "median weeks (95% CI)"]
    )
    out.index.name = table.index.name
    return out


def format_logrank(table: pd.DataFrame) -> pd.DataFrame:
    """Reading version of :func:`outcomes.analysis.survival.logrank`.

    Parameters
    ----------
    table
        :func:`~outcomes.analysis.survival.logrank` output (``comparison``, ``chi2``,
        ``df``, ``p``).

    Returns
    -------
    pandas.DataFrame
        The same columns: ``chi2`` rounded to one decimal, ``p`` as text (three decimals,
        ``"<0.001"`` below 0.001, ``"n/a"`` when there was nothing to compare).

    Examples
    --------
    >>> t = pd.DataFrame({"comparison": ["all groups", "b vs a"], "chi2": [25.04, np.nan],
    ...                   "df": [1, 1], "p": [5.6e-7, np.nan]})
    >>> format_logrank(t).values.tolist()
    [['all groups', 25.0, 1, '<0.001'], ['b vs a', nan, 1, 'n/a']]
    """
    out = table.copy()
    out["chi2"] = out["chi2"].astype(float).round(1)
    out["df"] = out["df"].astype(int)
    out["p"] = ["n/a" if not np.isfinite(p) else format_p(p) for p in out["p"].astype(float)]
    return out


def format_harms(table: pd.DataFrame) -> pd.DataFrame:
    """Reading version of :func:`outcomes.analysis.survival.harms`: the share as text.

    Parameters
    ----------
    table
        :func:`~outcomes.analysis.survival.harms` output.

    Returns
    -------
    pandas.DataFrame
        The same table with ``share harmed`` as a percentage (one decimal), ``"no
        patients"`` where no patient had serious pathology.

    Examples
    --------
    >>> t = pd.DataFrame({"patients with serious pathology": [8, 0],
    ...                   "under-triaged emergencies": [1, 0], "share harmed": [0.125, np.nan]},
    ...                  index=pd.Index(["rules", "oracle"], name="policy"))
    >>> format_harms(t)["share harmed"].tolist()
    ['12.5%', 'no patients']
    """
    out = table.copy()
    out["share harmed"] = [
        f"{x:.1%}" if s else NO_PATIENTS
        for x, s in zip(
            table["share harmed"], table["patients with serious pathology"], strict=True
        )
    ]
    return out


def format_combined_presentations(table: pd.DataFrame) -> pd.DataFrame:
    """Reading version of :func:`outcomes.analysis.survival.combined_presentations`.

    Parameters
    ----------
    table
        :func:`~outcomes.analysis.survival.combined_presentations` output.

    Returns
    -------
    pandas.DataFrame
        Per policy, text: ``combined patients``, ``secondary part on its own pathway`` (a
        whole percentage, ``"<1%"`` for a small non-zero share), ``pain left, combined (95%
        CI)`` and ``pain left, single (95% CI)`` as ``"40% (35%–45%)"``; ``"no patients"``
        where a group is empty.

    Examples
    --------
    >>> t = pd.DataFrame({"combined_patients": [1200], "own_pathway": [0.004],
    ...                   "combined_mean": [0.4], "combined_lower": [0.35],
    ...                   "combined_upper": [0.45], "single_mean": [np.nan],
    ...                   "single_lower": [np.nan], "single_upper": [np.nan]},
    ...                  index=pd.Index(["rules"], name="policy"))
    >>> format_combined_presentations(t).loc["rules"].tolist()
    ['1,200', '<1%', '40% (35%–45%)', 'no patients']
    """

    def mean_ci(r: pd.Series, kind: str) -> str:
        if not np.isfinite(r[f"{kind}_mean"]):
            return NO_PATIENTS
        return f"{r[f'{kind}_mean']:.0%} ({r[f'{kind}_lower']:.0%}–{r[f'{kind}_upper']:.0%})"

    rows = {
        name: {
            "combined patients": f"{int(r['combined_patients']):,}",
            "secondary part on its own pathway": (
                _share(r["own_pathway"]) if r["combined_patients"] else NO_PATIENTS
            ),
            "pain left, combined (95% CI)": mean_ci(r, "combined"),
            "pain left, single (95% CI)": mean_ci(r, "single"),
        }
        for name, r in table.iterrows()
    }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = table.index.name
    return out


def _median_weeks(outcomes: pd.DataFrame, by: str) -> pd.Series:
    """Kaplan–Meier median weeks to recovery per non-empty group (inf: not reached)."""
    medians = KaplanMeierByGroup(by).fit(outcomes).medians()
    return medians.loc[medians["patients"] > 0, "median"].astype(float)


def _weeks_text(median: float, horizon: int) -> str:
    return f"not reached within {horizon} weeks" if not np.isfinite(median) else f"{median:.0f}"


def condition_caption(outcomes: pd.DataFrame) -> str:
    """One sentence: median weeks to recovery per condition, fastest first.

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
    medians = _median_weeks(outcomes, "condition").sort_values(kind="stable")
    parts = [f"{_label(c)} {_weeks_text(m, horizon)}" for c, m in medians.items()]
    return f"Median weeks to recovery, fastest first: {'; '.join(parts)}."


def fit_caption(outcomes: pd.DataFrame, policy: str, top: int = 2) -> str:
    """Sentences on how the pathways chosen by one ``policy`` fitted its patients.

    For each fit: patients, share recovered, median weeks; for the other fits, the conditions
    their patients most often had (the groups differ in case mix as well as in fit).

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
        return f"Under {_label(policy)}: {NO_PATIENTS}."
    horizon = follow_up_weeks(outcomes)
    medians = _median_weeks(outcomes, "fit")
    parts = []
    for fit, median in medians.items():
        group = outcomes[outcomes["fit"] == fit]
        text = (
            f"{len(group):,} {fit} ({_share(len(group) / n)}; {_share(group[EVENT].mean())} "
            f"recovered, median {_weeks_text(median, horizon)}"
        )
        if fit != "matched":
            mix = group["condition"].astype(str).value_counts(normalize=True).head(top)
            text += "; conditions: " + ", ".join(f"{_label(c)} {_share(s)}" for c, s in mix.items())
        parts.append(text + ")")
    return f"Under {_label(policy)}: " + "; ".join(parts) + "."


def trajectory_caption(summary: pd.DataFrame) -> str:
    """Where mean pain curves of several groups (policies) differ most, and how far apart
    they end. ``summary`` is :func:`trajectory` output.

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
        f"({_label(row.idxmin())}) to {row.max():.1f} ({_label(row.idxmax())}). At week "
        f"{last} the gap is {spread.loc[last]:.1f} points."
    )


# Figure titles: short sentences stating what a figure shows, computed from the run's tables.


def _policy_name(name: object) -> str:
    return POLICY_NAMES.get(str(name), _label(name))


def _and(items: Sequence[str], noun: str = "others") -> str:
    """``a``, ``a and b``; three or more as ``a and 2 other <noun>`` (titles stay short)."""
    items = list(items)
    if len(items) > 2:
        return f"{items[0]} and {len(items) - 1} other {noun}"
    return " and ".join(items)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _weeks(value: float) -> str:
    return f"{value:,.0f} week{'' if round(value) == 1 else 's'}"


def condition_title(outcomes: pd.DataFrame, policy: str = "perfect") -> str:
    """Title for Kaplan–Meier curves by condition under one ``policy``: which condition is
    slowest to recover, and its median weeks to recovery (two lines, for a figure).

    Ties (the same median) are named together; a median beyond follow-up reads "fewer than
    half recovered by week W". Each patient may appear once per condition.

    Examples
    --------
    >>> out = pd.DataFrame({"condition": pd.Categorical(["disc", "disc", "serious_pathology"] * 2),
    ...                     "weeks_to_recovery": [2, 4, 9, 3, 5, 14], "recovered": True,
    ...                     "last_visit_week": 52})
    >>> print(condition_title(out))
    Serious pathology is slowest to recover:
    median 9 weeks under perfect triage
    >>> print(condition_title(out.assign(recovered=[True, True, False] * 2), "rules"))
    Serious pathology is slowest to recover:
    fewer than half recovered by week 52 under the rules
    """
    check_one_row_per_patient(outcomes, "condition")
    under = f"under {_policy_name(policy)}"
    if outcomes.empty:
        return f"Recovery by condition {under}: {NO_PATIENTS}"
    horizon = follow_up_weeks(outcomes)
    medians = _median_weeks(outcomes, "condition")
    slowest = medians[medians == medians.max()]
    median = float(slowest.iloc[0])
    time = (f"median {_weeks(median)}" if np.isfinite(median)
            else f"fewer than half recovered by week {horizon}")  # fmt: skip
    if len(medians) == 1:
        return f"{_capital(_label(medians.index[0]))} recovery:\n{time} {under}"
    if len(slowest) == len(medians):
        return f"Every condition recovers alike:\n{time} {under}"
    names = _capital(_and([_label(c) for c in slowest.index], "conditions"))
    verb = "is" if len(slowest) == 1 else "are"
    return f"{names} {verb} slowest to recover:\n{time} {under}"


def trajectory_title(summary: pd.DataFrame) -> str:
    """Title for mean pain curves of several policies run on the same patients: under which
    policy pain is lowest, and which lags by how much, at the week the curves differ most
    (two lines, for a figure).

    ``summary`` is :func:`trajectory` or :func:`policy_trajectories` output. Policies whose
    mean pain shows the same to one decimal are named together; curves that never differ by
    0.1 points are said to be alike.

    Examples
    --------
    >>> s = pd.DataFrame({"group": ["perfect"] * 3 + ["everyone_spinal"] * 3,
    ...                   "week": [0, 12, 52] * 2, "mean": [6.0, 2.1, 1.0, 6.0, 3.3, 2.0]})
    >>> print(trajectory_title(s))
    Pain falls fastest under perfect triage;
    everyone-to-spinal lags by 1.2 points at week 12
    >>> print(trajectory_title(s[s["group"] == "perfect"]))
    Mean pain under perfect triage:
    from 6.0 at week 0 to 1.0 at week 52
    """
    if summary.empty:
        return f"Mean pain: {NO_PATIENTS}"
    order = list(dict.fromkeys(summary["group"]))
    wide = summary.pivot(index="week", columns="group", values="mean")[order]
    if len(order) == 1:
        curve = wide.iloc[:, 0].dropna()
        return (
            f"Mean pain under {_policy_name(order[0])}:\nfrom {curve.iloc[0]:.1f} at week "
            f"{curve.index[0]} to {curve.iloc[-1]:.1f} at week {curve.index[-1]}"
        )
    spread = wide.max(axis=1) - wide.min(axis=1)
    week = int(spread.idxmax())
    gap = float(spread.loc[week])
    if round(gap, 1) == 0:
        return "Mean pain is alike under every policy:\nwithin 0.1 points at every week"
    row = wide.loc[week].dropna().round(1)
    lows = _and([_policy_name(g) for g in row.index[row == row.min()]], "policies")
    slow = [_policy_name(g) for g in row.index[row == row.max()]]
    verb = "lags" if len(slow) == 1 else "lag"
    highs = _and(slow, "policies")
    return f"Pain falls fastest under {lows};\n{highs} {verb} by {gap:.1f} points at week {week}"


def weeks_saved_title(
    saved: pd.DataFrame, reference: str, exclude: Sequence[str] = ("perfect",)
) -> str:
    """Title for the weeks-saved figure: which policy saves most weeks of pain against
    ``reference``, and how many per 100 patients (two lines, for a figure).

    ``saved`` is :func:`weeks_saved` output. Policies in ``exclude`` (perfect triage, which
    knows the truth, by default) are left out of the comparison and the title says so. It
    says when the best saving is within chance (its 95% interval reaches 0) and when no
    policy saves any; ties (the same whole number of weeks) are named together.

    Examples
    --------
    >>> t = pd.DataFrame({"saved_per_100": [0.0, 140.2, 156.4, 254.0],
    ...                   "saved_lower": [0.0, 119.0, 136.0, 233.0],
    ...                   "saved_upper": [0.0, 157.0, 173.0, 275.0]},
    ...                  index=pd.Index(["rules", "logistic", "oracle", "perfect"]))
    >>> print(weeks_saved_title(t, "rules"))
    Against the rules, the oracle saves most weeks of pain:
    156 per 100 patients (perfect triage aside)
    >>> print(weeks_saved_title(t.loc[["rules", "logistic"]].assign(saved_lower=-5.0), "rules"))
    Against the rules, no policy saves weeks of pain beyond chance:
    at best logistic, 140 per 100 patients
    """
    ref = _policy_name(reference)
    if saved.empty or saved["saved_per_100"].isna().all():
        return f"Weeks of pain saved against {ref}:\n{NO_PATIENTS}"
    left_out = [p for p in exclude if p in saved.index and p != reference]
    others = saved.drop(index=[reference, *left_out], errors="ignore")
    if others.empty:
        return f"Weeks of pain saved against {ref}:\nno other policy to compare"
    rounded = others["saved_per_100"].round(0)
    best = others[rounded == rounded.max()]
    names = _and([_policy_name(p) for p in best.index], "policies")
    value = float(rounded.max())
    aside = f" ({_and([_policy_name(p) for p in left_out], 'policies')} aside)" if left_out else ""
    if value < 0:
        return (f"Against {ref}, every policy costs weeks of pain:\nthe least, {names}, "
                f"{-value:,.0f} more per 100 patients{aside}")  # fmt: skip
    if value == 0 or (best["saved_lower"] <= 0).any():
        return (f"Against {ref}, no policy saves weeks of pain beyond chance:\nat best "
                f"{names}, {_number(value, 0)} per 100 patients{aside}")  # fmt: skip
    verb = "saves" if len(best) == 1 else "save"
    return (f"Against {ref}, {names} {verb} most weeks of pain:\n{value:,.0f} per 100 "
            f"patients{aside}")  # fmt: skip


def harm_caption(harm_table: pd.DataFrame) -> str:
    """Sentences on serious pathology left on a routine pathway, per policy.

    ``harm_table`` is :func:`harms` output. When the oracle is among the policies, says
    whether even it left some (accuracy is not safety).

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
    counts = ", ".join(f"{_label(p)} {h}" for p, h in harmed.items())
    text = f"Of {serious} patients with serious pathology, left on a routine pathway: {counts}."
    if "oracle" in harmed.index:
        k = int(harmed["oracle"])
        text += (
            f" The oracle, which maximises accuracy, still left {k}: accuracy is not safety."
            if k
            else " The oracle left none in this run."
        )
    return text


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
    (:func:`weeks_saved` with the runner-up as reference, ``n_boot`` replicates, ``seed``).

    Parameters
    ----------
    outcomes
        Stacked outcomes of several policies (:func:`outcomes.engine.recovery.stack`).
    saved
        :func:`weeks_saved` against ``reference``.
    reference
        The reference policy of ``saved``.
    harm_table
        :func:`harms` of the same outcomes.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
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
    findings = []
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
                f"{_saved(row)} "
                f"weeks of pain per 100 patients against {reference}."
            )
        if len(ranked) > 1:
            runner = str(ranked.index[1])
            paired = weeks_saved(outcomes, reference=runner, horizon=horizon, n_boot=n_boot,
                                 seed=seed, policies=[best, runner]).loc[best]  # fmt: skip
            text += (
                f" Against the runner-up, {runner}, it saves "
                f"{_saved(paired)} weeks per 100 patients (paired bootstrap)."
            )
        findings.append(text)
    for name, what in (("oracle", "The oracle (the best triage from the recorded findings)"),
                       ("perfect", "Perfect triage")):  # fmt: skip
        if name in saved.index and name != reference:
            row = saved.loc[name]
            findings.append(f"{what} would save {_saved(row)} weeks per 100 patients.")
    ref = saved.loc[reference]
    findings.append(
        f"Mean weeks to recovery within {horizon} weeks under {reference}: "
        f"{_interval(ref['rmst_weeks'], ref['rmst_lower'], ref['rmst_upper'], 1)}."
    )
    serious = harm_table["patients with serious pathology"]
    harmed = harm_table["under-triaged emergencies"]
    if serious.max() > 0 and harmed.max() == 0:
        findings.append("No serious pathology was left on a routine pathway by any policy.")
    elif serious.max() > 0:
        counts = ", ".join(f"{p} {int(h)}" for p, h in harmed.items())
        findings.append(
            f"Serious pathology left on a routine pathway, of {int(serious.max())} patients: "
            f"{counts}."
        )
    return Summary(title, findings)


def course_events_caption(table: pd.DataFrame) -> str:
    """One sentence on :func:`course_events`: operations per 100 patients and lasting
    deficits, fewest and most across policies.

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
        f"Operations per 100 patients: {ops.min():.1f} ({_label(ops.idxmin())}) to "
        f"{ops.max():.1f} ({_label(ops.idxmax())})."
    )
    serious = int(table["serious"].max())
    if serious == 0:
        return text + " No patient has serious pathology."
    deficits = table["lasting_deficits"]
    return text + (
        f" Lasting deficits among {serious} patients with serious pathology: "
        f"{int(deficits.min())} ({_label(deficits.idxmin())}) to {int(deficits.max())} "
        f"({_label(deficits.idxmax())})."
    )


def fit_title(outcomes: pd.DataFrame, policy: str) -> str:
    """Title for Kaplan–Meier curves by fit under one policy: the slowest fit's median weeks
    to recovery against matched care's (two lines, for a figure).

    Examples
    --------
    >>> out = pd.DataFrame({"fit": pd.Categorical(["matched"] * 3 + ["mismatched"] * 3),
    ...                     "weeks_to_recovery": [2, 4, 6, 5, 8, 9], "recovered": True,
    ...                     "last_visit_week": 52})
    >>> print(fit_title(out, "rules"))
    Mismatched care is slowest: median 8 weeks,
    against 4 weeks when matched (the rules)
    """
    check_one_row_per_patient(outcomes, "fit")
    if outcomes.empty:
        return f"Recovery by fit ({_policy_name(policy)}): {NO_PATIENTS}"
    horizon = follow_up_weeks(outcomes)
    medians = _median_weeks(outcomes, "fit")
    slowest = medians.idxmax()

    def time(value: float) -> str:
        return _weeks(value) if np.isfinite(value) else f"not reached by week {horizon}"

    if "matched" not in medians.index or slowest == "matched":
        return (f"Recovery by fit of the pathway ({_policy_name(policy)}):\n"
                f"{_capital(_label(slowest))} care median {time(medians[slowest])}")  # fmt: skip
    return (
        f"{_capital(_label(slowest))} care is slowest: median {time(medians[slowest])},\n"
        f"against {time(medians['matched'])} when matched ({_policy_name(policy)})"
    )


def policy_title(outcomes: pd.DataFrame) -> str:
    """Title for Kaplan–Meier curves of several policies on the same patients: the fastest
    and the slowest policy by median weeks to recovery (two lines).

    Examples
    --------
    >>> out = pd.DataFrame({"policy": pd.Categorical(["rules"] * 3 + ["perfect"] * 3),
    ...                     "weeks_to_recovery": [3, 5, 7, 2, 4, 6], "recovered": True,
    ...                     "last_visit_week": 52})
    >>> print(policy_title(out))
    Perfect triage recovers soonest (median 4 weeks);
    the rules slowest (median 5 weeks)
    """
    if outcomes.empty:
        return f"Recovery under each triage policy: {NO_PATIENTS}"
    horizon = follow_up_weeks(outcomes)
    medians = _median_weeks(outcomes, "policy")

    def time(value: float) -> str:
        return f"median {_weeks(value)}" if np.isfinite(value) else f"not reached by week {horizon}"

    fast, slow = medians.idxmin(), medians.idxmax()
    if medians[fast] == medians[slow]:
        return f"Every policy recovers alike:\n{time(medians[fast])}"
    return (
        f"{_capital(_policy_name(fast))} recovers soonest ({time(medians[fast])});\n"
        f"{_policy_name(slow)} slowest ({time(medians[slow])})"
    )
