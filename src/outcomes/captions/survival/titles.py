"""Figure titles of notebook 03: two short lines stating what each figure shows, from the run.

Titles name the slowest condition or fit, the fastest policy, the widest gap in mean pain and
the largest saving, with their numbers; ties are named together and lists stay short.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from outcomes.analysis.describe import NO_PATIENTS
from outcomes.analysis.survival import check_one_row_per_patient, follow_up_weeks
from outcomes.captions.survival.words import (
    capital,
    join_and,
    label,
    median_weeks,
    policy_name,
    signed,
    weeks,
)


def condition_title(outcomes: pd.DataFrame, policy: str = "perfect") -> str:
    """Title for Kaplan–Meier curves by condition under one ``policy``: which condition is
    slowest to recover, and its median weeks to recovery (two lines, for a figure).

    Ties (the same median) are named together; a median beyond follow-up reads "fewer than
    half recovered by week W". Each patient may appear once per condition.

    Parameters
    ----------
    outcomes
        One policy's outcomes.
    policy
        The policy's name, for the title.

    Returns
    -------
    str
        Two lines.

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
    under = f"under {policy_name(policy)}"
    if outcomes.empty:
        return f"Recovery by condition {under}: {NO_PATIENTS}"
    horizon = follow_up_weeks(outcomes)
    medians = median_weeks(outcomes, "condition")
    slowest = medians[medians == medians.max()]
    median = float(slowest.iloc[0])
    time = (
        f"median {weeks(median)}"
        if np.isfinite(median)
        else f"fewer than half recovered by week {horizon}"
    )
    if len(medians) == 1:
        return f"{capital(label(medians.index[0]))} recovery:\n{time} {under}"
    if len(slowest) == len(medians):
        return f"Every condition recovers alike:\n{time} {under}"
    names = capital(join_and([label(c) for c in slowest.index], "conditions"))
    verb = "is" if len(slowest) == 1 else "are"
    return f"{names} {verb} slowest to recover:\n{time} {under}"


def fit_title(outcomes: pd.DataFrame, policy: str) -> str:
    """Title for Kaplan–Meier curves by fit under one policy: the slowest fit's median weeks
    to recovery against matched care's (two lines, for a figure).

    Parameters
    ----------
    outcomes
        One policy's outcomes; each patient may appear once per fit.
    policy
        The policy's name, for the title.

    Returns
    -------
    str
        Two lines (one when there is no matched group to compare with).

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
        return f"Recovery by fit ({policy_name(policy)}): {NO_PATIENTS}"
    horizon = follow_up_weeks(outcomes)
    medians = median_weeks(outcomes, "fit")
    slowest = medians.idxmax()

    def time(value: float) -> str:
        return weeks(value) if np.isfinite(value) else f"not reached by week {horizon}"

    if "matched" not in medians.index or slowest == "matched":
        return (
            f"Recovery by fit of the pathway ({policy_name(policy)}):\n"
            f"{capital(label(slowest))} care median {time(medians[slowest])}"
        )
    return (
        f"{capital(label(slowest))} care is slowest: median {time(medians[slowest])},\n"
        f"against {time(medians['matched'])} when matched ({policy_name(policy)})"
    )


def policy_title(outcomes: pd.DataFrame) -> str:
    """Title for Kaplan–Meier curves of several policies on the same patients: the fastest
    and the slowest policy by median weeks to recovery (two lines).

    Parameters
    ----------
    outcomes
        Stacked outcomes of several policies (column ``policy``).

    Returns
    -------
    str
        Two lines.

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
    medians = median_weeks(outcomes, "policy")

    def time(value: float) -> str:
        return f"median {weeks(value)}" if np.isfinite(value) else f"not reached by week {horizon}"

    fast, slow = medians.idxmin(), medians.idxmax()
    if medians[fast] == medians[slow]:
        return f"Every policy recovers alike:\n{time(medians[fast])}"
    return (
        f"{capital(policy_name(fast))} recovers soonest ({time(medians[fast])});\n"
        f"{policy_name(slow)} slowest ({time(medians[slow])})"
    )


def trajectory_title(summary: pd.DataFrame) -> str:
    """Title for mean pain curves of several policies run on the same patients: under which
    policy pain is lowest, and which lags by how much, at the week the curves differ most
    (two lines, for a figure).

    ``summary`` is :func:`~outcomes.analysis.survival.trajectory` or
    :func:`~outcomes.analysis.survival.policy_trajectories` output. Policies whose mean pain shows
    the same to one decimal are named together; curves that never differ by 0.1 points are said to
    be alike.

    Parameters
    ----------
    summary
        Mean pain per policy and week.

    Returns
    -------
    str
        Two lines.

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
            f"Mean pain under {policy_name(order[0])}:\nfrom {curve.iloc[0]:.1f} at week "
            f"{curve.index[0]} to {curve.iloc[-1]:.1f} at week {curve.index[-1]}"
        )
    spread = wide.max(axis=1) - wide.min(axis=1)
    week = int(spread.idxmax())
    gap = float(spread.loc[week])
    if round(gap, 1) == 0:
        return "Mean pain is alike under every policy:\nwithin 0.1 points at every week"
    row = wide.loc[week].dropna().round(1)
    lows = join_and([policy_name(g) for g in row.index[row == row.min()]], "policies")
    slow = [policy_name(g) for g in row.index[row == row.max()]]
    verb = "lags" if len(slow) == 1 else "lag"
    highs = join_and(slow, "policies")
    return f"Pain falls fastest under {lows};\n{highs} {verb} by {gap:.1f} points at week {week}"


def weeks_saved_title(
    saved: pd.DataFrame, reference: str, exclude: Sequence[str] = ("perfect",)
) -> str:
    """Title for the weeks-saved figure: which policy saves most weeks of pain against
    ``reference``, and how many per 100 patients (two lines, for a figure).

    ``saved`` is :func:`~outcomes.analysis.survival.weeks_saved` output. Policies in ``exclude``
    (perfect triage, which knows the truth, by default) are left out of the comparison and the title
    says so. It says when the best saving is within chance (its 95% interval reaches 0) and when no
    policy saves any; ties (the same whole number of weeks) are named together.

    Parameters
    ----------
    saved
        :func:`outcomes.analysis.survival.weeks_saved` output.
    reference
        Its reference policy.
    exclude
        Policies left out of the comparison.

    Returns
    -------
    str
        Two lines.

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
    ref = policy_name(reference)
    if saved.empty or saved["saved_per_100"].isna().all():
        return f"Weeks of pain saved against {ref}:\n{NO_PATIENTS}"
    left_out = [p for p in exclude if p in saved.index and p != reference]
    others = saved.drop(index=[reference, *left_out], errors="ignore")
    if others.empty:
        return f"Weeks of pain saved against {ref}:\nno other policy to compare"
    rounded = others["saved_per_100"].round(0)
    best = others[rounded == rounded.max()]
    names = join_and([policy_name(p) for p in best.index], "policies")
    value = float(rounded.max())
    aside = (
        f" ({join_and([policy_name(p) for p in left_out], 'policies')} aside)" if left_out else ""
    )
    if value < 0:
        return (
            f"Against {ref}, every policy costs weeks of pain:\nthe least, {names}, "
            f"{-value:,.0f} more per 100 patients{aside}"
        )
    if value == 0 or (best["saved_lower"] <= 0).any():
        return (
            f"Against {ref}, no policy saves weeks of pain beyond chance:\nat best "
            f"{names}, {signed(value, 0)} per 100 patients{aside}"
        )
    verb = "saves" if len(best) == 1 else "save"
    return (
        f"Against {ref}, {names} {verb} most weeks of pain:\n{value:,.0f} per 100 patients{aside}"
    )
