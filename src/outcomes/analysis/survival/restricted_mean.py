"""Restricted mean time to recovery (RMST) and the headline: weeks of pain saved per 100 patients.

The headline number is 100 x the difference in restricted mean time to recovery (the area under
the Kaplan–Meier curve up to the end of follow-up) between a policy and the reference, with a
paired, seeded bootstrap interval: the policies are simulated on the same patients, so each
bootstrap sample resamples patients once and evaluates every policy on them.

:func:`rmst` is the Kaplan–Meier area computed directly from whole-week data so that it takes
bootstrap weights (one row of counts per replicate, thousands at once); it is not a lifelines
refit. For the curves themselves, read :class:`outcomes.analysis.survival.KaplanMeierByGroup`,
whose :meth:`~outcomes.analysis.survival.KaplanMeierByGroup.rmst` gives the same point estimate.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from outcomes.analysis.survival.fits import DURATION, EVENT, follow_up_weeks, group_rows
from outcomes.infra.progress import progress_bar

#: Bootstrap cells (replicates x patients) held in memory at once by :func:`weeks_saved`.
BOOTSTRAP_CELLS = 4_000_000


def rmst(durations: np.ndarray, events: np.ndarray, horizon: int, weights=None) -> np.ndarray:
    """Restricted mean time to recovery (weeks) up to ``horizon`` from integer-week data.

    The area under the Kaplan–Meier "not yet recovered" curve from 0 to ``horizon``.
    ``weights`` (shape ``(B, n)``, e.g. bootstrap counts) gives one value per row.

    Parameters
    ----------
    durations
        Whole weeks to recovery or to the last visit.
    events
        Whether each patient recovered.
    horizon
        Weeks of follow-up the area spans.
    weights
        Optional counts per replicate and patient, shape ``(B, n)``.

    Returns
    -------
    numpy.ndarray
        One restricted mean per row of ``weights`` (one value without weights).

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
    (RMST, up to ``horizon``, default :func:`~outcomes.analysis.survival.follow_up_weeks`) with a
    95% percentile bootstrap CI, and 100 x (RMST of reference - RMST of policy) with a paired
    bootstrap CI (patients resampled once per replicate, shared by all policies). Positive = the
    policy shortens the time in pain.

    The replicates are drawn in chunks of at most :data:`BOOTSTRAP_CELLS` patient counts
    (memory stays bounded for any cohort size; the result does not depend on the chunking),
    with a progress bar on a terminal.

    Parameters
    ----------
    outcomes
        Stacked outcomes of several policies run on the same patients.
    reference
        The policy the others are compared with.
    horizon
        Weeks of follow-up; default :func:`outcomes.analysis.survival.follow_up_weeks`.
    n_boot
        Bootstrap replicates.
    seed
        Seed of the resampling.
    policies
        The policies compared (default: every policy present, in the column's order).

    Returns
    -------
    pandas.DataFrame
        Per policy (numbers): ``rmst_weeks``, ``rmst_lower``, ``rmst_upper``,
        ``saved_per_100``, ``saved_lower``, ``saved_upper``;
        :func:`outcomes.captions.survival.format_weeks_saved` renders it for reading.

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
        order = [str(n) for n, _ in group_rows(outcomes, "policy")]
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
