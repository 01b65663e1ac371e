"""The headline with its uncertainty: sampling and parameter intervals, and what moves it.

For each triage policy, per 100 patients and against a reference policy: weeks of pain
saved, operations, and lasting deficits avoided. Each number carries two 95% intervals:

- **sampling**: a paired bootstrap over patients (the same resampled patients for every
  policy), as :func:`outcomes.analysis.survival.weeks_saved` does for weeks of pain;
- **parameters**: a probabilistic sensitivity analysis. Every number of ``recovery.toml``
  that states a plausible range is drawn from a triangular distribution on that range with
  its central value as the mode, all jointly and independently; for each draw the same
  patients are simulated under every policy with the same random draws (common random
  numbers within and across draws), and the interval is the 2.5th and 97.5th percentiles of
  the point estimates.

:func:`one_way` moves one ranged number at a time to each end of its range (a tornado plot's
data), naming the few numbers the answer rests on. Numbers with no range (the calibrated
class shares, the recovery criterion, the noise) are held at their values.

The parameter draws are independent of one another, so :func:`headline` can run them on the
study engine's Dask cluster (``workers=N`` for a local cluster, ``scheduler=ADDRESS`` for a
running one; :func:`outcomes.infra.cluster.connect`), in blocks of draws: every draw depends
only on its own parameter set and the shared random draws, so the result is the same as in
this process, whatever the scheduling.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from outcomes.analysis.survival import rmst
from outcomes.engine.recovery import (
    RecoveryParams,
    draw_noise,
    load_recovery,
    simulate_policies,
)
from outcomes.infra.progress import progress_bar

#: Per-100-patient metrics of :func:`policy_metrics`, in report order.
METRICS = ("weeks_saved", "operations", "deficits_avoided")
#: Numbers that equal another by definition follow it in every draw: redirected care is
#: matched care once the detour is over.
TIED: Mapping[str, str] = {
    "fit.redirected.rate_multiplier": "fit.matched.rate_multiplier",
    "fit.redirected.persistence_odds_ratio": "fit.matched.persistence_odds_ratio",
}
#: First element of the spawn key of the parameter draws.
PSA_STREAM = 0x95A


def _with_ties(params: RecoveryParams, values: Mapping[str, float]) -> RecoveryParams:
    changes = dict(values)
    for follower, leader in TIED.items():
        if leader in changes and follower in params.values:
            changes[follower] = changes[leader]
    return params.with_values(changes)


def parameter_ranges(params: RecoveryParams | None = None) -> pd.DataFrame:
    """Every number of ``recovery.toml`` with a plausible range: value, low, high, source.

    Parameters
    ----------
    params
        Recovery parameters (default: :func:`outcomes.engine.recovery.load_recovery`).

    Returns
    -------
    pandas.DataFrame
        Indexed by dotted key.

    Examples
    --------
    >>> table = parameter_ranges()
    >>> row = table.loc["fit.matched.persistence_odds_ratio"]
    >>> [float(row[k]) for k in ("value", "low", "high")]
    [0.8, 0.6, 1.0]
    """
    params = params if params is not None else load_recovery()
    rows = {
        key: {
            "value": params[key],
            "low": low,
            "high": high,
            "source": params.sources.get(f"recovery.toml:{key}", ""),
        }
        for key, (low, high) in params.ranges.items()
    }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("key")


def draw_parameters(
    n_draws: int, seed: int = 0, params: RecoveryParams | None = None
) -> pd.DataFrame:
    """Joint draws of every ranged number: triangular on its range, mode at its value.

    Draw ``d`` comes from its own spawned stream, so it is the same whatever ``n_draws``.

    Parameters
    ----------
    n_draws
        Number of parameter sets.
    seed
        Seed of the draws.
    params
        Recovery parameters (default: :func:`outcomes.engine.recovery.load_recovery`).

    Returns
    -------
    pandas.DataFrame
        One row per draw, one column per ranged key.

    Examples
    --------
    >>> draws = draw_parameters(3, seed=1)
    >>> draws.shape[0], bool((draws["relapse.probability_within_year"] <= 0.35).all())
    (3, True)
    """
    table = parameter_ranges(params)
    rows = []
    for d in range(n_draws):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(PSA_STREAM, d)))
        u = rng.random(len(table))
        rows.append(_triangular(u, table["low"], table["value"], table["high"]))
    return pd.DataFrame(rows, columns=table.index)


def _triangular(u: np.ndarray, low: pd.Series, mode: pd.Series, high: pd.Series) -> np.ndarray:
    """Inverse CDF of the triangular distribution (a point mass where low == high)."""
    a, c, b = (np.asarray(x, dtype=float) for x in (low, mode, high))
    width = np.where(b > a, b - a, 1.0)
    split = (c - a) / width
    left = a + np.sqrt(u * width * (c - a))
    right = b - np.sqrt((1 - u) * width * (b - c))
    return np.where(b > a, np.where(u < split, left, right), a)


def policy_metrics(
    outcomes: Mapping[str, pd.DataFrame], reference: str, weights: np.ndarray | None = None
) -> pd.DataFrame:
    """Per-100-patient headline metrics of each policy against ``reference``.

    ``weeks_saved``: 100 x (restricted mean weeks to recovery under the reference - under the
    policy); ``operations``: operations per 100 patients; ``deficits_avoided``: lasting
    deficits per 100 patients under the reference minus under the policy. ``weights`` (``(B,
    n)`` bootstrap counts) gives one row per replicate and policy instead.

    Parameters
    ----------
    outcomes
        Policy name -> ``outcomes`` table of the same patients in the same order.
    reference
        The policy compared against.
    weights
        Optional bootstrap counts.

    Returns
    -------
    pandas.DataFrame
        Index: policy (and replicate with ``weights``); columns :data:`METRICS`.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.engine.recovery import policy_pathways, simulate_policies
    >>> p = generate(300, seed=1)
    >>> sims = simulate_policies(p, policy_pathways(p), seed=0, visits=False)
    >>> m = policy_metrics({k: s.outcomes for k, s in sims.items()}, "everyone_spinal")
    >>> float(m.loc["everyone_spinal", "weeks_saved"])
    0.0
    """
    if reference not in outcomes:
        raise ValueError(f"reference policy {reference!r} is not among: {', '.join(outcomes)}")
    first = outcomes[reference]
    n = len(first)
    w = np.ones((1, n)) if weights is None else np.atleast_2d(weights)
    horizon = int(first["last_visit_week"].max()) if n else 0
    totals = w.sum(axis=1)
    per = {}
    for name, o in outcomes.items():
        if len(o) != n:
            raise ValueError(f"policy {name!r} was not simulated on the same patients")
        per[name] = {
            "rmst": rmst(o["weeks_to_recovery"].to_numpy(), o["recovered"].to_numpy(), horizon, w),
            "operations": 100 * (w @ o["surgery"].to_numpy(dtype=float)) / totals,
            "deficits": 100 * (w @ o["lasting_deficit"].to_numpy(dtype=float)) / totals,
        }
    ref = per[reference]
    frames = []
    for name, m in per.items():
        frames.append(
            pd.DataFrame(
                {
                    "policy": name,
                    "replicate": np.arange(w.shape[0]),
                    "weeks_saved": 100 * (ref["rmst"] - m["rmst"]),
                    "operations": m["operations"],
                    "deficits_avoided": ref["deficits"] - m["deficits"],
                }
            )
        )
    table = pd.concat(frames, ignore_index=True)
    if weights is None:
        return table.drop(columns="replicate").set_index("policy")
    return table.set_index(["policy", "replicate"])


def headline(
    patients: pd.DataFrame,
    policies: Mapping[str, pd.DataFrame],
    seed: int,
    reference: str,
    *,
    n_boot: int = 200,
    n_draws: int = 200,
    params: RecoveryParams | None = None,
    dropout: float | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    block: int = 10,
) -> pd.DataFrame:
    """The headline metrics with a sampling and a parameter-uncertainty interval.

    Parameters
    ----------
    patients
        The cohort.
    policies
        Policy name -> care plan (as :func:`outcomes.engine.recovery.simulate_policies` takes them).
    seed
        Seed of the recovery draws, the bootstrap and the parameter draws.
    reference
        The policy every other is compared against.
    n_boot
        Bootstrap replicates (sampling interval).
    n_draws
        Parameter draws (probabilistic sensitivity analysis).
    params
        Central recovery parameters (default: :func:`outcomes.engine.recovery.load_recovery`).
    dropout
        Share lost to follow-up (default: ``recovery.toml``'s).
    scheduler
        Address of a running Dask scheduler to run the parameter draws on.
    workers
        Run the parameter draws on a new local Dask cluster of this many workers (ignored with
        ``scheduler``). Neither given: the draws run in this process (the same result).
    block
        Parameter draws per Dask task.

    Returns
    -------
    pandas.DataFrame
        Index (policy, metric); columns ``estimate``, ``sampling_low``, ``sampling_high``,
        ``parameter_low``, ``parameter_high`` (95% intervals), ``parameter_median``.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.engine.recovery import policy_pathways
    >>> p = generate(300, seed=1)
    >>> h = headline(p, policy_pathways(p), 0, "everyone_spinal", n_boot=20, n_draws=4)
    >>> list(h.columns)[:3]
    ['estimate', 'sampling_low', 'sampling_high']
    """
    if isinstance(block, bool) or not isinstance(block, int) or block < 1:
        raise ValueError(f"block must be an integer >= 1, got {block!r}")
    params = params if params is not None else load_recovery()
    noise = draw_noise(len(patients), seed, params)
    shared = (patients, policies, seed, reference, dropout, params, noise)
    central = _simulated(patients, policies, seed, dropout, params, noise)
    point = policy_metrics(central, reference)
    n = len(patients)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(PSA_STREAM + 1,)))
    counts = rng.multinomial(n, np.full(n, 1 / n), size=n_boot)
    boot = policy_metrics(central, reference, weights=counts)
    draws = [row.to_dict() for _, row in draw_parameters(n_draws, seed, params).iterrows()]
    blocks = [draws[i : i + block] for i in range(0, len(draws), block)]
    psa: list[pd.DataFrame] = []
    with progress_bar(total=n_draws, desc="parameter draws", unit="draw") as bar:
        if scheduler is None and workers is None:
            for values in blocks:
                psa += _draw_metrics(*shared, values)
                bar.update(len(values))
        else:
            psa = _draws_on_dask(shared, blocks, scheduler, workers, bar)
    psa_table = pd.concat(psa, keys=range(len(psa)), names=["draw"])
    rows = []
    for name in policies:
        for metric in METRICS:
            b = boot.loc[name, metric].to_numpy()
            d = psa_table.xs(name, level="policy")[metric].to_numpy()
            rows.append(
                {
                    "policy": name,
                    "metric": metric,
                    "estimate": float(point.loc[name, metric]),
                    "sampling_low": float(np.percentile(b, 2.5)),
                    "sampling_high": float(np.percentile(b, 97.5)),
                    "parameter_low": float(np.percentile(d, 2.5)) if d.size else np.nan,
                    "parameter_high": float(np.percentile(d, 97.5)) if d.size else np.nan,
                    "parameter_median": float(np.median(d)) if d.size else np.nan,
                }
            )
    return pd.DataFrame(rows).set_index(["policy", "metric"])


def _simulated(patients, policies, seed, dropout, params, noise) -> dict[str, pd.DataFrame]:
    sims = simulate_policies(
        patients, policies, seed, dropout=dropout, visits=False, params=params, noise=noise
    )
    return {name: sim.outcomes for name, sim in sims.items()}


def _draw_metrics(
    patients, policies, seed, reference, dropout, params, noise, draws: list[dict]
) -> list[pd.DataFrame]:
    """The headline metrics under each parameter set of ``draws`` (changes to ``params``;
    ``{}`` is the central set): plain arguments, so a Dask worker can run a block of them."""
    return [
        policy_metrics(
            _simulated(patients, policies, seed, dropout, _with_ties(params, values), noise),
            reference,
        )
        for values in draws
    ]


def _draws_on_dask(shared: tuple, blocks: list[list[dict]], scheduler, workers, bar):
    """The blocks of parameter draws run on Dask, in draw order whatever finishes first."""
    from outcomes.infra.cluster import completed, connect

    results: dict[int, list[pd.DataFrame]] = {}
    with connect(scheduler, workers) as client:
        scattered = client.scatter(list(shared), broadcast=True)
        tasks = [(*scattered, values) for values in blocks]
        for index, tables in completed(client, _draw_metrics, tasks):
            results[index] = tables
            bar.update(len(blocks[index]))
    return [table for i in range(len(blocks)) for table in results[i]]


def one_way(
    patients: pd.DataFrame,
    policies: Mapping[str, pd.DataFrame],
    seed: int,
    reference: str,
    policy: str,
    metric: str = "weeks_saved",
    *,
    params: RecoveryParams | None = None,
    dropout: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """One-way sensitivity of one headline number: each ranged number at each end.

    Parameters
    ----------
    patients, policies, seed, reference
        As :func:`headline`.
    policy
        The policy whose number is examined.
    metric
        One of :data:`METRICS`.
    params
        Central recovery parameters (default: :func:`outcomes.engine.recovery.load_recovery`).
    dropout
        Share lost to follow-up (default: ``recovery.toml``'s).
    progress
        Called with 1 after each simulation (e.g. a progress bar's ``update``).

    Returns
    -------
    pandas.DataFrame
        Indexed by key, sorted by ``swing`` (largest first): ``low``, ``high`` (the range),
        ``at_low``, ``at_high`` (the number with the key at each end), ``central`` and
        ``swing = |at_high - at_low|``.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.engine.recovery import policy_pathways
    >>> p = generate(200, seed=1)
    >>> t = one_way(p, policy_pathways(p), 0, "everyone_spinal", "perfect")
    >>> bool(t["swing"].is_monotonic_decreasing)
    True
    """
    if metric not in METRICS:
        raise ValueError(f"metric {metric!r} is not one of: {', '.join(METRICS)}")
    params = params if params is not None else load_recovery()
    noise = draw_noise(len(patients), seed, params)
    ranges = parameter_ranges(params)

    def value(p: RecoveryParams) -> float:
        sims = simulate_policies(
            patients, policies, seed, dropout=dropout, visits=False, params=p, noise=noise
        )
        table = policy_metrics({k: s.outcomes for k, s in sims.items()}, reference)
        if progress is not None:
            progress(1)
        return float(table.loc[policy, metric])

    central = value(params)
    rows = {}
    for key, r in ranges.iterrows():
        at = [value(_with_ties(params, {key: r[end]})) for end in ("low", "high")]
        rows[key] = {
            "low": r["low"],
            "high": r["high"],
            "at_low": at[0],
            "at_high": at[1],
            "central": central,
            "swing": abs(at[1] - at[0]),
        }
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("key")
    return table.sort_values("swing", ascending=False, kind="stable")
