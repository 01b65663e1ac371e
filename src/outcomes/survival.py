"""Time-to-recovery analysis of simulated outcomes: Kaplan–Meier, medians, log-rank, RMST.

Every function takes the ``outcomes`` table of :mod:`outcomes.recovery` (or several stacked
with a ``policy`` column) and returns a tidy table; :mod:`outcomes.plots` draws them. Kaplan–
Meier fits use lifelines; tables are rendered here (never ``print_summary``, which prints the
fit time). "Survival" is the share of patients **not yet recovered**.

The headline number, *weeks of pain saved per 100 patients*, is 100 x the difference in
restricted mean time to recovery (the area under the Kaplan–Meier curve up to the end of
follow-up) between a policy and the reference, with a paired, seeded bootstrap interval:
the policies are simulated on the same patients, so each bootstrap sample resamples patients
once and evaluates every policy on them.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test, multivariate_logrank_test
from lifelines.utils import median_survival_times

from outcomes.describe import NO_PATIENTS
from outcomes.summary import Summary

DURATION = "weeks_to_recovery"
EVENT = "recovered"
#: Weeks at which at-risk counts are reported under the Kaplan–Meier plots.
AT_RISK_WEEKS = (0, 13, 26, 39, 52)


def _groups(outcomes: pd.DataFrame, by: str) -> list[tuple[str, pd.DataFrame]]:
    column = outcomes[by]
    names = list(column.cat.categories) if hasattr(column, "cat") else sorted(column.unique())
    return [(str(name), outcomes[column == name]) for name in names]


def kaplan_meier(outcomes: pd.DataFrame, by: str, horizon: int = 52) -> pd.DataFrame:
    """Kaplan–Meier share not yet recovered, by group, at every week 0..horizon.

    Returns a long table: ``group``, ``week``, ``survival``, ``lower``, ``upper`` (95%
    pointwise band, lifelines' exponential Greenwood) and ``at_risk`` (patients still followed
    and not recovered at the start of the week). Groups with no patients are left out.

    Examples
    --------
    >>> from outcomes.cohort import generate
    >>> from outcomes.recovery import simulate
    >>> patients = generate(500, seed=1)
    >>> out = simulate(patients, patients["pathway"], seed=0, visits=False).outcomes
    >>> km = kaplan_meier(out, by="pathway")
    >>> float(km.loc[km["week"] == 0, "survival"].min())
    1.0
    """
    weeks = np.arange(horizon + 1)
    frames = []
    for name, group in _groups(outcomes, by):
        if group.empty:
            continue
        kmf = KaplanMeierFitter().fit(
            group[DURATION].to_numpy(float), group[EVENT].to_numpy(bool), timeline=weeks
        )
        ci = kmf.confidence_interval_survival_function_
        durations = group[DURATION].to_numpy()
        frames.append(
            pd.DataFrame(
                {
                    "group": name,
                    "week": weeks,
                    "survival": kmf.survival_function_.iloc[:, 0].to_numpy(),
                    "lower": ci.iloc[:, 0].to_numpy(),
                    "upper": ci.iloc[:, 1].to_numpy(),
                    "at_risk": (durations[None, :] >= weeks[:, None]).sum(axis=1),
                }
            )
        )
    columns = ["group", "week", "survival", "lower", "upper", "at_risk"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def _format_weeks(value: float) -> str:
    return "not reached" if not np.isfinite(value) else f"{value:.0f}"


def median_times(outcomes: pd.DataFrame, by: str) -> pd.DataFrame:
    """Median weeks to recovery by group with its 95% CI, formatted for reading.

    A median (or limit) beyond follow-up shows ``"not reached"``; an empty group shows
    ``"no patients"``.

    Examples
    --------
    >>> from outcomes.cohort import generate
    >>> from outcomes.recovery import simulate
    >>> patients = generate(500, seed=1)
    >>> out = simulate(patients, patients["pathway"], seed=0, visits=False).outcomes
    >>> list(median_times(out, by="pathway").columns)
    ['patients', 'recovered', 'median weeks (95% CI)']
    """
    rows = {}
    for name, group in _groups(outcomes, by):
        if group.empty:
            rows[name] = ("0", NO_PATIENTS, NO_PATIENTS)
            continue
        kmf = KaplanMeierFitter().fit(group[DURATION].to_numpy(float), group[EVENT].to_numpy(bool))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ci = median_survival_times(kmf.confidence_interval_).to_numpy(dtype=float)[0]
        median = kmf.median_survival_time_
        if not np.isfinite(median):
            text = "not reached within follow-up"
        else:
            text = f"{_format_weeks(median)} ({_format_weeks(ci[0])}–{_format_weeks(ci[1])})"
        rows[name] = (f"{len(group)}", f"{group[EVENT].mean():.1%}", text)
    table = pd.DataFrame.from_dict(
        rows, orient="index", columns=["patients", "recovered", "median weeks (95% CI)"]
    )
    table.index.name = by
    return table


def logrank(outcomes: pd.DataFrame, by: str, reference: str | None = None) -> pd.DataFrame:
    """Log-rank tests of time to recovery between groups.

    The first row tests all groups together; with ``reference``, one row per other group
    compares it with the reference. Columns: ``comparison``, ``chi2``, ``df``, ``p``.
    (Policies simulated on the same patients are paired, so these p-values are conservative
    for policy comparisons; the paired bootstrap of :func:`weeks_saved` is the primary test.)

    Examples
    --------
    >>> from outcomes.cohort import generate
    >>> from outcomes.recovery import simulate
    >>> patients = generate(500, seed=1)
    >>> out = simulate(patients, patients["pathway"], seed=0, visits=False).outcomes
    >>> logrank(out, by="pathway")["comparison"].iloc[0]
    'all groups'
    """
    present = outcomes[outcomes[by].isin([n for n, g in _groups(outcomes, by) if len(g)])]
    labels = present[by].astype(str)
    overall = multivariate_logrank_test(present[DURATION], labels, present[EVENT])
    rows = [("all groups", overall.test_statistic, overall.degrees_of_freedom, overall.p_value)]
    if reference is not None:
        ref = present[labels == reference]
        for name in dict.fromkeys(labels):
            if name == reference:
                continue
            other = present[labels == name]
            res = logrank_test(ref[DURATION], other[DURATION], ref[EVENT], other[EVENT])
            rows.append((f"{name} vs {reference}", res.test_statistic, 1, res.p_value))
    table = pd.DataFrame(rows, columns=["comparison", "chi2", "df", "p"])
    table["chi2"] = table["chi2"].astype(float).round(1)
    table["df"] = table["df"].astype(int)
    table["p"] = [f"{p:.3f}" if p >= 0.001 else "<0.001" for p in table["p"]]
    return table


def rmst(durations: np.ndarray, events: np.ndarray, horizon: int = 52, weights=None) -> np.ndarray:
    """Restricted mean time to recovery (weeks) up to ``horizon`` from integer-week data.

    The area under the Kaplan–Meier "not yet recovered" curve from 0 to ``horizon``.
    ``weights`` (shape ``(B, n)``, e.g. bootstrap counts) gives one value per row.

    Examples
    --------
    >>> float(rmst(np.array([2, 4]), np.array([True, True]), horizon=10)[0])
    3.0
    """
    durations = np.asarray(durations, dtype=np.int64)
    events = np.asarray(events, dtype=bool)
    w = np.ones((1, len(durations))) if weights is None else np.atleast_2d(weights)
    size = max(horizon, int(durations.max(initial=0))) + 2
    deaths = np.zeros((w.shape[0], size))
    exits = np.zeros((w.shape[0], size))
    for b in range(w.shape[0]):
        deaths[b] = np.bincount(durations, weights=w[b] * events, minlength=size)
        exits[b] = np.bincount(durations, weights=w[b], minlength=size)
    at_risk = exits[:, ::-1].cumsum(axis=1)[:, ::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(at_risk > 0, deaths / at_risk, 0.0)
    survival = np.cumprod(1 - hazard, axis=1)  # S(t): not recovered after week t
    # The curve is a step function: on [t, t + 1) it equals S(t).
    return survival[:, :horizon].sum(axis=1)


def weeks_saved(
    outcomes: pd.DataFrame,
    reference: str = "rules",
    horizon: int = 52,
    n_boot: int = 500,
    seed: int = 0,
    policies: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Weeks of pain saved per 100 patients by each policy against ``reference``.

    ``outcomes`` is a stack of policies run on the same patients (column ``policy``; see
    :func:`outcomes.recovery.stack`). For each policy: restricted mean weeks to recovery
    (RMST) with a 95% percentile bootstrap CI, and 100 x (RMST of reference - RMST of policy)
    with a paired bootstrap CI (patients resampled once per replicate, shared by all policies).
    Positive = the policy shortens the time in pain.

    Examples
    --------
    >>> from outcomes.cohort import generate
    >>> from outcomes.recovery import policy_pathways, simulate_policies, stack
    >>> patients = generate(400, seed=1)
    >>> sims = simulate_policies(patients, policy_pathways(patients), seed=0, visits=False)
    >>> table = weeks_saved(stack(sims), reference="everyone_spinal", n_boot=50)
    >>> list(table.index)
    ['perfect', 'everyone_spinal']
    >>> bool(table.loc["perfect", "saved_per_100"] > 0)
    True
    """
    if policies is not None:
        names = list(policies)
    else:
        present = set(outcomes["policy"].astype(str))
        order = [str(n) for n, _ in _groups(outcomes, "policy")]
        names = [n for n in order if n in present]
    if reference not in names:
        raise ValueError(f"reference policy {reference!r} is not among: {', '.join(names)}")
    frames = {name: outcomes[outcomes["policy"] == name] for name in names}
    n = len(frames[reference])
    ids = frames[reference]["patient_id"].to_numpy()
    for name, frame in frames.items():
        if len(frame) != n or not np.array_equal(frame["patient_id"].to_numpy(), ids):
            raise ValueError(
                f"policy {name!r} was not simulated on the same patients as {reference!r}"
            )
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n, np.full(n, 1 / n), size=n_boot) if n else np.zeros((n_boot, 0))
    point, boot = {}, {}
    for name, frame in frames.items():
        d, e = frame[DURATION].to_numpy(), frame[EVENT].to_numpy()
        point[name] = float(rmst(d, e, horizon)[0])
        boot[name] = rmst(d, e, horizon, weights=counts)
    rows = []
    for name in names:
        diff = 100 * (boot[reference] - boot[name])
        lo, hi = np.percentile(boot[name], [2.5, 97.5])
        dlo, dhi = np.percentile(diff, [2.5, 97.5])
        rows.append(
            {
                "policy": name,
                "rmst_weeks": point[name],
                "rmst_lower": lo,
                "rmst_upper": hi,
                "saved_per_100": 100 * (point[reference] - point[name]),
                "saved_lower": dlo,
                "saved_upper": dhi,
            }
        )
    return pd.DataFrame(rows).set_index("policy")


def trajectory(visits: pd.DataFrame, by: str, value: str = "pain_nrs") -> pd.DataFrame:
    """Mean score per week and group with a 95% CI (normal approximation, mean ± 1.96 SE).

    Averages are over the patients seen that week (loss to follow-up shrinks later weeks).

    Examples
    --------
    >>> from outcomes.cohort import generate
    >>> from outcomes.recovery import simulate
    >>> patients = generate(300, seed=1)
    >>> visits = simulate(patients, patients["pathway"], seed=0).visits
    >>> list(trajectory(visits, by="pathway").columns)
    ['group', 'week', 'mean', 'lower', 'upper', 'n']
    """
    keys = [visits[by].astype(str).rename("group"), visits["week"]]
    stats = visits[value].astype(float).groupby(keys, observed=True).agg(["mean", "std", "size"])
    se = stats["std"].fillna(0.0) / np.sqrt(stats["size"])
    out = pd.DataFrame(
        {
            "mean": stats["mean"],
            "lower": stats["mean"] - 1.959964 * se,
            "upper": stats["mean"] + 1.959964 * se,
            "n": stats["size"].astype(int),
        }
    ).reset_index()
    order = {str(g): i for i, (g, _) in enumerate(_groups(visits, by))}
    out = out.sort_values(["group", "week"], key=lambda s: s.map(order) if s.name == "group" else s)
    return out.reset_index(drop=True)


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

    def fmt(est: float, lo: float, hi: float, digits: int) -> str:
        # A true minus sign, and "to" between bounds once one is negative ("-3--1" misreads).
        def num(x: float) -> str:
            return f"{x:.{digits}f}".replace("-", "\N{MINUS SIGN}")

        separator = " to " if lo < 0 else "–"
        return f"{num(est)} ({num(lo)}{separator}{num(hi)})"

    out = pd.DataFrame(
        {
            "mean weeks to recovery (95% CI)": [
                fmt(r.rmst_weeks, r.rmst_lower, r.rmst_upper, 1) for r in table.itertuples()
            ],
            f"weeks saved per 100 vs {reference} (95% CI)": [
                "reference" if name == reference
                else fmt(r.saved_per_100, r.saved_lower, r.saved_upper, 0)
                for name, r in zip(table.index, table.itertuples(), strict=True)
            ],
        },
        index=table.index,
    )  # fmt: skip
    return out


def harms(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Serious pathology sent down a routine pathway, per policy (needs a ``policy`` column).

    Examples
    --------
    >>> from outcomes.cohort import generate
    >>> from outcomes.recovery import policy_pathways, simulate_policies, stack
    >>> patients = generate(300, seed=1, case_mix={"serious_pathology": 1.0})
    >>> sims = simulate_policies(patients, policy_pathways(patients), seed=0, visits=False)
    >>> harms(stack(sims))["under-triaged emergencies"].tolist()
    [0, 300]
    """
    serious = outcomes["true_pathway"] == "emergency"
    n_serious = serious.groupby(outcomes["policy"], observed=False).sum()
    n_harm = outcomes["harm"].groupby(outcomes["policy"], observed=False).sum()
    share = [f"{h / s:.1%}" if s else NO_PATIENTS for h, s in zip(n_harm, n_serious, strict=True)]
    return pd.DataFrame(
        {
            "patients with serious pathology": n_serious.astype(int),
            "under-triaged emergencies": n_harm.astype(int),
            "share harmed": share,
        }
    )


def recovery_summary(
    outcomes: pd.DataFrame, saved: pd.DataFrame, reference: str, harm_table: pd.DataFrame
) -> Summary:
    """Headline numbers of notebook 03 for the top of its report page.

    Parameters
    ----------
    outcomes
        Stacked outcomes of several policies (:func:`outcomes.recovery.stack`).
    saved
        :func:`weeks_saved` against ``reference``.
    reference
        The reference policy of ``saved``.
    harm_table
        :func:`harms` of the same outcomes.

    Examples
    --------
    >>> from outcomes.cohort import generate
    >>> from outcomes.recovery import policy_pathways, simulate_policies, stack
    >>> patients = generate(400, seed=1)
    >>> out = stack(simulate_policies(patients, policy_pathways(patients), seed=0, visits=False))
    >>> saved = weeks_saved(out, reference="everyone_spinal", n_boot=50)
    >>> summary = recovery_summary(out, saved, "everyone_spinal", harms(out))
    >>> summary.title
    'Recovery over 52 weeks: 400 patients under 2 triage policies'
    """
    n_patients = outcomes["patient_id"].nunique()
    names = [str(p) for p in saved.index]
    title = f"Recovery over 52 weeks: {n_patients:,} patients under {len(names)} triage policies"
    if n_patients == 0:
        return Summary(title, [NO_PATIENTS])
    findings = []
    others = saved.drop(index=reference)
    realistic = others.drop(index="perfect", errors="ignore")
    if not realistic.empty:
        best = realistic["saved_per_100"].idxmax()
        row = realistic.loc[best]
        findings.append(
            f"Best realistic policy: {best}, saving {row['saved_per_100']:.0f} "
            f"({row['saved_lower']:.0f}–{row['saved_upper']:.0f}) weeks of pain per 100 "
            f"patients against {reference}."
        )
    if "perfect" in others.index:
        row = others.loc["perfect"]
        findings.append(
            f"Perfect triage would save {row['saved_per_100']:.0f} "
            f"({row['saved_lower']:.0f}–{row['saved_upper']:.0f}) weeks per 100 patients."
        )
    ref = saved.loc[reference]
    findings.append(
        f"Mean weeks to recovery within the year under {reference}: {ref['rmst_weeks']:.1f} "
        f"({ref['rmst_lower']:.1f}–{ref['rmst_upper']:.1f})."
    )
    serious = harm_table["patients with serious pathology"]
    harmed = harm_table["under-triaged emergencies"]
    if serious.max() > 0 and harmed.max() == 0:
        findings.append("No serious pathology was left on a routine pathway by any policy.")
    elif serious.max() > 0:
        worst = harmed.idxmax()
        findings.append(
            f"Serious pathology left on a routine pathway: {int(harmed.min())} to "
            f"{int(harmed.max())} of {int(serious.max())} patients across policies "
            f"(most under {worst})."
        )
    return Summary(title, findings)
