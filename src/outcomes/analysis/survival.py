"""Time-to-recovery analysis of simulated outcomes: Kaplan–Meier, medians, log-rank, RMST.

Every function takes the ``outcomes`` table of :mod:`outcomes.engine.recovery` (or several stacked
with a ``policy`` column) and returns a tidy table; :mod:`outcomes.faces.plots` draws them. Kaplan–
Meier fits use lifelines; tables are rendered here (never ``print_summary``, which prints the
fit time). "Survival" is the share of patients **not yet recovered**.

The headline number, *weeks of pain saved per 100 patients*, is 100 x the difference in
restricted mean time to recovery (the area under the Kaplan–Meier curve up to the end of
follow-up) between a policy and the reference, with a paired, seeded bootstrap interval:
the policies are simulated on the same patients, so each bootstrap sample resamples patients
once and evaluates every policy on them.

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

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test, multivariate_logrank_test
from lifelines.utils import median_survival_times

from outcomes.analysis.describe import NO_PATIENTS
from outcomes.infra.progress import progress_bar
from outcomes.infra.summary import Summary

DURATION = "weeks_to_recovery"
EVENT = "recovered"
#: Policies that are benchmarks, not triage a service could run: perfect triage knows the
#: truth, and the oracle is the ceiling of any method working from the recorded findings.
BENCHMARK_POLICIES = ("perfect", "oracle")
#: Bootstrap cells (replicates x patients) held in memory at once by :func:`weeks_saved`.
BOOTSTRAP_CELLS = 4_000_000


def follow_up_weeks(outcomes: pd.DataFrame | None = None) -> int:
    """Length of follow-up in weeks: the last week any patient of ``outcomes`` was seen.

    Without outcomes (or without a ``last_visit_week`` column, or with no rows) it is
    ``follow_up_weeks`` of ``recovery.toml``.

    Examples
    --------
    >>> follow_up_weeks()
    52
    >>> follow_up_weeks(pd.DataFrame({"last_visit_week": [10, 26, 3]}))
    26
    """
    if outcomes is not None and "last_visit_week" in outcomes.columns and len(outcomes):
        return int(outcomes["last_visit_week"].max())
    from outcomes.engine.recovery import load_recovery

    return load_recovery().follow_up_weeks


def at_risk_weeks(horizon: int) -> tuple[int, ...]:
    """Weeks at which at-risk counts are shown under a Kaplan–Meier plot: five, evenly spaced.

    Examples
    --------
    >>> at_risk_weeks(52)
    (0, 13, 26, 39, 52)
    >>> at_risk_weeks(26)
    (0, 6, 13, 20, 26)
    """
    return tuple(dict.fromkeys(int(round(horizon * k / 4)) for k in range(5)))


def _groups(outcomes: pd.DataFrame, by: str) -> list[tuple[str, pd.DataFrame]]:
    """``(label, rows)`` per group of column ``by``, in the column's order: its categories
    for a categorical, else its sorted values (``False`` before ``True``). The label is
    ``str(value)``, the same in every table of this module; rows with a missing value belong
    to no group."""
    column = outcomes[by]
    if isinstance(column.dtype, pd.CategoricalDtype):
        names = list(column.cat.categories)
    else:
        names = sorted(pd.unique(column.dropna()))
    return [(str(name), outcomes[(column == name).to_numpy()]) for name in names]


def _one_row_per_patient(table: pd.DataFrame, by: str, *also: str) -> None:
    """Refuse a table that counts a patient more than once in a group (see module notes)."""
    if "patient_id" not in table.columns or table.empty:
        return
    keys = ["patient_id", by, *also]
    repeated = table.duplicated(keys, keep=False).to_numpy()
    if repeated.any():
        row = table[repeated].iloc[0]
        count = int(repeated.sum())
        raise ValueError(
            f"patient {row['patient_id']!r} appears more than once in group {str(row[by])!r} "
            f"of {by!r} ({count} rows are repeats): pooling policies run on the same patients "
            "counts each patient once per policy and makes bands and p-values too narrow; "
            "analyse one policy at a time (e.g. outcomes[outcomes['policy'] == 'rules'])"
        )


def kaplan_meier(outcomes: pd.DataFrame, by: str, horizon: int | None = None) -> pd.DataFrame:
    """Kaplan–Meier share not yet recovered, by group, at every week 0..horizon.

    Returns a long table: ``group``, ``week``, ``survival``, ``lower``, ``upper`` (95%
    pointwise band, lifelines' exponential Greenwood) and ``at_risk`` (patients still followed
    and not recovered at the start of the week). Groups with no patients have no rows; their
    labels are listed in ``attrs["empty_groups"]`` (so a figure can say "no patients" for
    them). The horizon defaults to :func:`follow_up_weeks`; each patient may appear once per
    group.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.engine.recovery import simulate
    >>> patients = generate(500, seed=1)
    >>> out = simulate(patients, patients["pathway"], seed=0, visits=False).outcomes
    >>> km = kaplan_meier(out, by="pathway")
    >>> float(km.loc[km["week"] == 0, "survival"].min())
    1.0
    """
    _one_row_per_patient(outcomes, by)
    horizon = follow_up_weeks(outcomes) if horizon is None else int(horizon)
    weeks = np.arange(horizon + 1)
    frames, empty = [], []
    for name, group in _groups(outcomes, by):
        if group.empty:
            empty.append(name)
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
    km = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    km.attrs["empty_groups"] = tuple(empty)
    return km


def _format_weeks(value: float) -> str:
    return "not reached" if not np.isfinite(value) else f"{value:.0f}"


def median_times(outcomes: pd.DataFrame, by: str) -> pd.DataFrame:
    """Median weeks to recovery by group with its 95% CI, formatted for reading.

    A median (or limit) beyond follow-up shows ``"not reached"``; an empty group shows
    ``"no patients"``. The CI is lifelines' (from the pointwise band of the curve, as
    :func:`lifelines.utils.median_survival_times` gives it); each patient may appear once per
    group.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.engine.recovery import simulate
    >>> patients = generate(500, seed=1)
    >>> out = simulate(patients, patients["pathway"], seed=0, visits=False).outcomes
    >>> list(median_times(out, by="pathway").columns)
    ['patients', 'recovered', 'median weeks (95% CI)']
    """
    _one_row_per_patient(outcomes, by)
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

    The first row tests all non-empty groups together; with ``reference`` (a group's label,
    as :func:`kaplan_meier` and :func:`median_times` show it, or its value: ``True`` for a
    boolean column), one row per other non-empty group compares it with the reference.
    Columns: ``comparison``, ``chi2``, ``df``, ``p``. A test with fewer than two non-empty
    groups has nothing to compare: ``chi2`` is NaN and ``p`` is ``"n/a"``.

    The test assumes the groups hold different, independent patients. Grouped by condition or
    by fit *within one policy*, they do. Grouped by policy on the same patients (common random
    numbers), the groups are the same patients, positively correlated: the test ignores the
    pairing and its p-values are conservative; the paired bootstrap of :func:`weeks_saved` is
    the primary comparison of policies. A table that repeats a patient within a group (several
    policies pooled, then grouped by fit) is refused: there the p-values would be too small.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.engine.recovery import simulate
    >>> patients = generate(500, seed=1)
    >>> out = simulate(patients, patients["pathway"], seed=0, visits=False).outcomes
    >>> logrank(out, by="pathway")["comparison"].iloc[0]
    'all groups'
    >>> logrank(out, by="chronic", reference=False)["comparison"].tolist()
    ['all groups', 'True vs False']
    """
    _one_row_per_patient(outcomes, by)
    groups = _groups(outcomes, by)
    labels = [name for name, _ in groups]
    present = [(name, group) for name, group in groups if len(group)]
    rows = []
    if len(present) >= 2:
        durations = np.concatenate([g[DURATION].to_numpy(float) for _, g in present])
        events = np.concatenate([g[EVENT].to_numpy(bool) for _, g in present])
        names = np.repeat([name for name, _ in present], [len(g) for _, g in present])
        overall = multivariate_logrank_test(durations, names, events)
        rows.append(
            ("all groups", overall.test_statistic, overall.degrees_of_freedom, overall.p_value)
        )
    else:
        rows.append(("all groups", np.nan, 0, np.nan))
    if reference is not None:
        ref_label = str(reference)
        if ref_label not in labels:
            raise ValueError(
                f"reference {reference!r} is not a group of {by!r}; choose one of: "
                f"{', '.join(labels)}"
            )
        ref = dict(groups)[ref_label]
        for name, other in present:
            if name == ref_label:
                continue
            if ref.empty:
                rows.append((f"{name} vs {ref_label}", np.nan, 1, np.nan))
                continue
            res = logrank_test(ref[DURATION], other[DURATION], ref[EVENT], other[EVENT])
            rows.append((f"{name} vs {ref_label}", res.test_statistic, 1, res.p_value))
    table = pd.DataFrame(rows, columns=["comparison", "chi2", "df", "p"])
    table["chi2"] = table["chi2"].astype(float).round(1)
    table["df"] = table["df"].astype(int)
    table["p"] = [
        "n/a" if not np.isfinite(p) else f"{p:.3f}" if p >= 0.001 else "<0.001"
        for p in table["p"].astype(float)
    ]
    return table


def rmst(durations: np.ndarray, events: np.ndarray, horizon: int, weights=None) -> np.ndarray:
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
    horizon: int | None = None,
    n_boot: int = 500,
    seed: int = 0,
    policies: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Weeks of pain saved per 100 patients by each policy against ``reference``.

    ``outcomes`` is a stack of policies run on the same patients (column ``policy``; see
    :func:`outcomes.engine.recovery.stack`). For each policy: restricted mean weeks to recovery
    (RMST, up to ``horizon``, default :func:`follow_up_weeks`) with a 95% percentile bootstrap
    CI, and 100 x (RMST of reference - RMST of policy) with a paired bootstrap CI (patients
    resampled once per replicate, shared by all policies). Positive = the policy shortens the
    time in pain.

    The replicates are drawn in chunks of at most :data:`BOOTSTRAP_CELLS` patient counts
    (memory stays bounded for any cohort size; the result does not depend on the chunking),
    with a progress bar on a terminal.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.engine.recovery import policy_pathways, simulate_policies, stack
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
    horizon = follow_up_weeks(outcomes) if horizon is None else int(horizon)
    frames = {name: outcomes[outcomes["policy"] == name] for name in names}
    n = len(frames[reference])
    ids = frames[reference]["patient_id"].to_numpy()
    for name, frame in frames.items():
        if len(frame) != n or not np.array_equal(frame["patient_id"].to_numpy(), ids):
            raise ValueError(
                f"policy {name!r} was not simulated on the same patients as {reference!r}"
            )
    data = {name: (f[DURATION].to_numpy(), f[EVENT].to_numpy()) for name, f in frames.items()}
    point = {name: float(rmst(d, e, horizon)[0]) for name, (d, e) in data.items()}
    boot = {name: np.empty(n_boot) for name in names}
    rng = np.random.default_rng(seed)
    chunk = max(1, BOOTSTRAP_CELLS // max(n, 1))
    with progress_bar(total=n_boot, desc="bootstrap", unit="replicate") as bar:
        for lo in range(0, n_boot, chunk):
            size = min(chunk, n_boot - lo)
            # Successive multinomial draws from one generator: the same replicates as one
            # draw of all of them, whatever the chunk size.
            counts = rng.multinomial(n, np.full(n, 1 / n), size=size) if n else np.zeros((size, 0))
            for name, (d, e) in data.items():
                boot[name][lo : lo + size] = rmst(d, e, horizon, weights=counts)
            bar.update(size)
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
    Each patient may appear once per group and week (see the module notes).

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.engine.recovery import simulate
    >>> patients = generate(300, seed=1)
    >>> visits = simulate(patients, patients["pathway"], seed=0).visits
    >>> list(trajectory(visits, by="pathway").columns)
    ['group', 'week', 'mean', 'lower', 'upper', 'n']
    """
    _one_row_per_patient(visits, by, "week")
    keys = [visits[by].astype(str).rename("group"), visits["week"]]
    out = _weekly_means(visits[value], keys)
    order = {str(g): i for i, (g, _) in enumerate(_groups(visits, by))}
    out = out.sort_values(["group", "week"], key=lambda s: s.map(order) if s.name == "group" else s)
    return out.reset_index(drop=True)


def _weekly_means(values: pd.Series, keys: list[pd.Series]) -> pd.DataFrame:
    stats = values.astype(float).groupby(keys, observed=True).agg(["mean", "std", "size"])
    se = stats["std"].fillna(0.0) / np.sqrt(stats["size"])
    return pd.DataFrame(
        {
            "mean": stats["mean"],
            "lower": stats["mean"] - 1.959964 * se,
            "upper": stats["mean"] + 1.959964 * se,
            "n": stats["size"].astype(int),
        }
    ).reset_index()


def policy_trajectories(
    visits: Mapping[str, pd.DataFrame], value: str = "pain_nrs"
) -> pd.DataFrame:
    """:func:`trajectory` by policy, from each policy's own ``visits`` table.

    The same table as ``trajectory(stack(simulations, "visits"), by="policy")`` without
    building the stack (one long table per policy is already large: 200,000 patients make
    10.6 million visit rows each). Groups follow the mapping's order.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.engine.recovery import policy_pathways, simulate_policies
    >>> patients = generate(300, seed=1)
    >>> sims = simulate_policies(patients, policy_pathways(patients), seed=0)
    >>> table = policy_trajectories({name: sim.visits for name, sim in sims.items()})
    >>> list(dict.fromkeys(table["group"]))
    ['perfect', 'everyone_spinal']
    """
    frames = []
    for name, table in visits.items():
        _one_row_per_patient(table, "week")  # each patient once per week
        means = _weekly_means(table[value], [table["week"]])
        means.insert(0, "group", str(name))
        frames.append(means)
    columns = ["group", "week", "mean", "lower", "upper", "n"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


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


def harms(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Serious pathology sent down a routine pathway, per policy (needs a ``policy`` column).

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.engine.recovery import policy_pathways, simulate_policies, stack
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


def combined_presentations(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Pain left at the last visit, per policy, for combined and for single presentations.

    Per policy (column ``policy``; without it the table is one policy, ``"all"``): patients
    with a secondary contributor, the share of them whose secondary part was treated on its
    own pathway from the start (``secondary_fit == "matched"``: under a single-pathway policy
    only where the pathway chosen misses the primary condition for the secondary one; a part
    sent to emergency before its own pathway is not counted), and the mean pain at the last
    visit as a share of baseline pain (a baseline of 0 counts as 1), with a 95% CI (mean ±
    1.96 SE), for combined and for single presentations. Under common random numbers the
    same patients are seen for the same weeks under every policy, so the rows compare like
    with like.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.engine.recovery import policy_pathways, simulate_policies, stack
    >>> patients = generate(600, seed=1)
    >>> sims = simulate_policies(patients, policy_pathways(patients), seed=0, visits=False)
    >>> table = combined_presentations(stack(sims))
    >>> table.loc["perfect", "secondary part on its own pathway"]
    '100%'
    """
    data = outcomes if "policy" in outcomes.columns else outcomes.assign(policy="all")
    left = data["final_pain"] / data["baseline_pain"].clip(lower=1)
    combined = data["secondary_condition"] != "none"

    def mean_ci(values: pd.Series) -> str:
        if values.empty:
            return NO_PATIENTS
        half = 1.959964 * values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else 0.0
        m = values.mean()
        return f"{m:.0%} ({max(m - half, 0):.0%}–{m + half:.0%})"

    rows = {}
    for name, group in _groups(data, "policy"):
        if group.empty:
            continue
        mask = combined.loc[group.index]
        own = (group.loc[mask, "secondary_fit"] == "matched").mean() if mask.any() else 0
        rows[name] = {
            "combined patients": f"{int(mask.sum()):,}",
            "secondary part on its own pathway": _share(own) if mask.any() else NO_PATIENTS,
            "pain left, combined (95% CI)": mean_ci(left.loc[group.index[mask.to_numpy()]]),
            "pain left, single (95% CI)": mean_ci(left.loc[group.index[~mask.to_numpy()]]),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "policy"
    return table


# --------------------------------------------------------------------------------------------
# Sentences computed from a run (notebook captions and summary): true for any N, seed, setting


def _label(name: object) -> str:
    return str(name).replace("_", " ")


def _share(x: float) -> str:
    """A share as a whole percentage; a small non-zero share is "<1%", not "0%"."""
    return "<1%" if 0 < x < 0.005 else f"{x:.0%}"


def _median_weeks(outcomes: pd.DataFrame, by: str) -> pd.Series:
    """Kaplan–Meier median weeks to recovery per non-empty group (inf: not reached)."""
    medians = {}
    for name, group in _groups(outcomes, by):
        if len(group):
            kmf = KaplanMeierFitter().fit(group[DURATION].to_numpy(float), group[EVENT])
            medians[name] = float(kmf.median_survival_time_)
    return pd.Series(medians, dtype=float)


def _weeks_text(median: float, horizon: int) -> str:
    return f"not reached within {horizon} weeks" if not np.isfinite(median) else f"{median:.0f}"


def condition_findings(outcomes: pd.DataFrame) -> str:
    """One sentence: median weeks to recovery per condition, fastest first.

    Examples
    --------
    >>> out = pd.DataFrame({"condition": pd.Categorical(["a", "a", "b", "b"]),
    ...                     "weeks_to_recovery": [2, 4, 9, 52], "recovered": [True, True,
    ...                     True, False], "last_visit_week": [52, 52, 52, 52]})
    >>> condition_findings(out)
    'Median weeks to recovery, fastest first: a 2; b 9.'
    """
    _one_row_per_patient(outcomes, "condition")
    if outcomes.empty:
        return f"Median weeks to recovery: {NO_PATIENTS}."
    horizon = follow_up_weeks(outcomes)
    medians = _median_weeks(outcomes, "condition").sort_values(kind="stable")
    parts = [f"{_label(c)} {_weeks_text(m, horizon)}" for c, m in medians.items()]
    return f"Median weeks to recovery, fastest first: {'; '.join(parts)}."


def fit_findings(outcomes: pd.DataFrame, policy: str, top: int = 2) -> str:
    """Sentences on how the pathways chosen by one ``policy`` fitted its patients.

    For each fit: patients, share recovered, median weeks; for the other fits, the conditions
    their patients most often had (the groups differ in case mix as well as in fit).

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.engine.recovery import simulate
    >>> patients = generate(400, seed=1)
    >>> out = simulate(patients, ["spinal"] * 400, seed=0, visits=False).outcomes
    >>> fit_findings(out, "everyone_spinal").split(":")[0]
    'Under everyone spinal'
    """
    _one_row_per_patient(outcomes, "fit")
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


def trajectory_findings(summary: pd.DataFrame) -> str:
    """Where mean pain curves of several groups (policies) differ most, and how far apart
    they end. ``summary`` is :func:`trajectory` output.

    Examples
    --------
    >>> s = pd.DataFrame({"group": ["a", "a", "b", "b"], "week": [0, 4, 0, 4],
    ...                   "mean": [6.0, 3.0, 6.0, 4.5]})
    >>> print(trajectory_findings(s).replace(": ", ":\\n"))
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

#: How a policy is named inside a sentence (others by their name, underscores as spaces).
POLICY_NAMES = {
    "rules": "the rules",
    "oracle": "the oracle",
    "perfect": "perfect triage",
    "everyone_spinal": "everyone-to-spinal",
}


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
    _one_row_per_patient(outcomes, "condition")
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


def harm_findings(harm_table: pd.DataFrame) -> str:
    """Sentences on serious pathology left on a routine pathway, per policy.

    ``harm_table`` is :func:`harms` output. When the oracle is among the policies, says
    whether even it left some (accuracy is not safety).

    Examples
    --------
    >>> t = pd.DataFrame({"patients with serious pathology": [40, 40],
    ...                   "under-triaged emergencies": [0, 3]},
    ...                  index=pd.Index(["rules", "oracle"], name="policy"))
    >>> print(harm_findings(t).replace(". ", ".\\n"))
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


def course_events(outcomes: pd.DataFrame) -> pd.DataFrame:
    """What happened on the way, per policy: operations, relapses and lasting harm.

    Parameters
    ----------
    outcomes
        Stacked outcomes of several policies (column ``policy``; see
        :func:`outcomes.engine.recovery.stack`) or one policy's table.

    Returns
    -------
    pandas.DataFrame
        Per policy (numbers, not text): ``patients``, ``operations`` and
        ``operations_per_100``, ``relapses_per_100`` (a relapse episode within follow-up),
        ``recovered_at_end`` (share meeting the recovery criterion at the last visit),
        ``serious`` (patients with serious pathology), ``under_triaged`` (of them, left on a
        routine pathway), ``median_weeks_to_emergency_care`` (NaN: no serious pathology) and
        ``lasting_deficits``.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.engine.recovery import policy_pathways, simulate_policies, stack
    >>> p = generate(300, seed=1, case_mix={"serious_pathology": 1.0})
    >>> out = stack(simulate_policies(p, policy_pathways(p), seed=0, visits=False))
    >>> t = course_events(out)
    >>> int(t.loc["everyone_spinal", "under_triaged"]), int(t.loc["perfect", "under_triaged"])
    (300, 0)
    """
    table = outcomes if "policy" in outcomes.columns else outcomes.assign(policy="all")
    rows = {}
    for name, o in table.groupby("policy", observed=False, sort=False):
        n = len(o)
        serious = (o["true_pathway"] == "emergency").to_numpy() | (
            o["secondary_condition"].astype(str) == "serious_pathology"
        ).to_numpy()
        weeks = o["weeks_to_emergency_care"].to_numpy(dtype=float, na_value=np.nan)
        rows[name] = {
            "patients": n,
            "operations": int(o["surgery"].sum()),
            "operations_per_100": 100 * o["surgery"].mean() if n else np.nan,
            "relapses_per_100": 100 * o["relapsed"].mean() if n else np.nan,
            "recovered_at_end": o["recovered_at_end"].mean() if n else np.nan,
            "serious": int(serious.sum()),
            "under_triaged": int(o["harm"].sum()),
            "median_weeks_to_emergency_care": (
                float(np.nanmedian(weeks[serious])) if np.isfinite(weeks[serious]).any() else np.nan
            ),
            "lasting_deficits": int(o["lasting_deficit"].sum()),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("policy")


def course_events_finding(table: pd.DataFrame) -> str:
    """One sentence on :func:`course_events`: operations per 100 patients and lasting
    deficits, fewest and most across policies.

    Examples
    --------
    >>> t = pd.DataFrame({"operations_per_100": [5.0, 7.5], "serious": [10, 10],
    ...                   "lasting_deficits": [2, 5]}, index=["rules", "everyone_spinal"])
    >>> print(course_events_finding(t).replace(". ", ".\\n"))
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
    _one_row_per_patient(outcomes, "fit")
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
