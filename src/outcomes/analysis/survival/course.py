"""The course of recovery besides its timing: mean pain by week, operations, relapses, harm.

Every function takes the ``outcomes`` (or ``visits``) table of :mod:`outcomes.engine.recovery`,
or several stacked with a ``policy`` column, and returns numbers; the reading versions are in
:mod:`outcomes.captions.survival`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from outcomes.analysis.survival.fits import check_one_row_per_patient, group_rows

#: Policies that are benchmarks, not triage a service could run: perfect triage knows the
#: truth, and the oracle is the ceiling of any method working from the recorded findings.
BENCHMARK_POLICIES = ("perfect", "oracle")


def trajectory(visits: pd.DataFrame, by: str, value: str = "pain_nrs") -> pd.DataFrame:
    """Mean score per week and group with a 95% CI (normal approximation, mean ± 1.96 SE).

    Averages are over the patients seen that week (loss to follow-up shrinks later weeks).
    Each patient may appear once per group and week (see the module notes).

    Parameters
    ----------
    visits
        A ``visits`` table (one row per patient and week seen).
    by
        The grouping column.
    value
        The score averaged.

    Returns
    -------
    pandas.DataFrame
        ``group``, ``week``, ``mean``, ``lower``, ``upper``, ``n``, groups in the column's
        order.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.engine.recovery import simulate
    >>> patients = generate(300, seed=1)
    >>> visits = simulate(patients, patients["pathway"], seed=0).visits
    >>> list(trajectory(visits, by="pathway").columns)
    ['group', 'week', 'mean', 'lower', 'upper', 'n']
    """
    check_one_row_per_patient(visits, by, "week")
    keys = [visits[by].astype(str).rename("group"), visits["week"]]
    out = _weekly_means(visits[value], keys)
    order = {str(g): i for i, (g, _) in enumerate(group_rows(visits, by))}
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

    Parameters
    ----------
    visits
        Each policy's ``visits`` table, by policy name.
    value
        The score averaged.

    Returns
    -------
    pandas.DataFrame
        As :func:`trajectory`, with the policy names as groups.

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
        check_one_row_per_patient(table, "week")  # each patient once per week
        means = _weekly_means(table[value], [table["week"]])
        means.insert(0, "group", str(name))
        frames.append(means)
    columns = ["group", "week", "mean", "lower", "upper", "n"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def harms(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Serious pathology sent down a routine pathway, per policy.

    Parameters
    ----------
    outcomes
        Stacked outcomes of several policies (column ``policy``; see
        :func:`outcomes.engine.recovery.stack`).

    Returns
    -------
    pandas.DataFrame
        Per policy: ``patients with serious pathology`` and ``under-triaged emergencies``
        (counts) and ``share harmed`` (their ratio; NaN without serious pathology).
        :func:`outcomes.captions.survival.format_harms` renders it for reading.

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
    return pd.DataFrame(
        {
            "patients with serious pathology": n_serious.astype(int),
            "under-triaged emergencies": n_harm.astype(int),
            "share harmed": n_harm / n_serious.where(n_serious > 0),
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

    Parameters
    ----------
    outcomes
        Stacked outcomes of several policies, or one policy's table.

    Returns
    -------
    pandas.DataFrame
        Per non-empty policy: ``combined_patients`` (count), ``own_pathway`` (share; NaN
        without combined patients), and for ``combined`` and ``single`` presentations the
        ``_mean``, ``_lower`` (floored at 0) and ``_upper`` share of baseline pain left (NaN
        without patients). :func:`outcomes.captions.survival.format_combined_presentations`
        renders it for reading.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.engine.recovery import policy_pathways, simulate_policies, stack
    >>> patients = generate(600, seed=1)
    >>> sims = simulate_policies(patients, policy_pathways(patients), seed=0, visits=False)
    >>> table = combined_presentations(stack(sims))
    >>> float(table.loc["perfect", "own_pathway"])
    1.0
    """
    data = outcomes if "policy" in outcomes.columns else outcomes.assign(policy="all")
    left = data["final_pain"] / data["baseline_pain"].clip(lower=1)
    combined = data["secondary_condition"] != "none"

    def mean_ci(values: pd.Series) -> tuple[float, float, float]:
        if values.empty:
            return np.nan, np.nan, np.nan
        half = 1.959964 * values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else 0.0
        m = values.mean()
        return m, max(m - half, 0), m + half

    rows = {}
    for name, group in group_rows(data, "policy"):
        if group.empty:
            continue
        mask = combined.loc[group.index]
        own = (group.loc[mask, "secondary_fit"] == "matched").mean() if mask.any() else np.nan
        row = {"combined_patients": int(mask.sum()), "own_pathway": own}
        for kind, rows_of in (("combined", mask.to_numpy()), ("single", ~mask.to_numpy())):
            values = mean_ci(left.loc[group.index[rows_of]])
            row.update(zip((f"{kind}_mean", f"{kind}_lower", f"{kind}_upper"), values, strict=True))
        rows[name] = row
    columns = ["combined_patients", "own_pathway"] + [
        f"{kind}_{stat}" for kind in ("combined", "single") for stat in ("mean", "lower", "upper")
    ]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
    table.index.name = "policy"
    return table


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
