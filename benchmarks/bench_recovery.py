"""Benchmark: simulating N patients x 52 weeks under one policy against its random draws.

Prints, from one run on this machine (best of 3 repeats each):
- the time of the random draws the simulation needs (:func:`outcomes.engine.recovery.draw_noise`),
- the time of the whole simulation under one policy (draws, trajectories, recovery, and the
  ``outcomes`` and long ``visits`` tables) — perfect triage, whose care plan also treats the
  secondary contributor of combined presentations (the most work per patient),
- their ratio, and the time with the draws reused (what each further policy costs under
  common random numbers). Target: the whole simulation under 5 s for 100,000 patients.
- the weeks-saved bootstrap (400 replicates, two policies) on the same patients: its time
  and its peak memory (numpy allocations, traced), bounded by chunking the replicates.

Usage: ``python benchmarks/bench_recovery.py [N]`` (default 100,000).
"""

from __future__ import annotations

import sys
import time
import tracemalloc

from outcomes.analysis.survival import weeks_saved
from outcomes.engine.cohort import generate
from outcomes.engine.recovery import (
    draw_noise,
    load_recovery,
    simulate,
    simulate_policies,
    stack,
)
from outcomes.triage.policies import policy

TARGET_SECONDS = 5.0


def best_of(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(n: int = 100_000) -> None:
    params = load_recovery()
    patients = generate(n, seed=0)
    plan = policy("perfect", patients)
    simulate(patients.head(100), plan.head(100), seed=0)  # warm caches and imports
    weeks = params.follow_up_weeks

    draws = best_of(lambda: draw_noise(n, seed=0, params=params))
    full = best_of(lambda: simulate(patients, plan, seed=0, params=params))
    noise = draw_noise(n, seed=0, params=params)
    reused = best_of(lambda: simulate(patients, plan, seed=0, noise=noise, params=params))
    rows = len(simulate(patients, plan, seed=0, noise=noise, params=params).visits)

    spinal = policy("everyone_spinal", patients)
    sims = simulate_policies(patients, {"perfect": plan, "everyone_spinal": spinal}, seed=0,
                             visits=False)  # fmt: skip
    outcomes = stack(sims)
    tracemalloc.start()
    start = time.perf_counter()
    weeks_saved(outcomes, reference="everyone_spinal", n_boot=400, seed=0)
    boot = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    print(f"patients x weeks          : {n:,} x {weeks} ({rows:,} visit rows)")
    print(f"random draws only         : {draws:6.2f} s")
    print(f"simulate one policy       : {full:6.2f} s  (target < {TARGET_SECONDS:.0f} s: "
          f"{'met' if full < TARGET_SECONDS else 'MISSED'})")  # fmt: skip
    print(f"ratio to the draws        : {full / draws:6.2f} x")
    print(f"each further policy (CRN) : {reused:6.2f} s  (draws reused)")
    print(
        f"weeks saved, 400 boots    : {boot:6.2f} s  (peak {peak / 2**20:,.0f} MiB traced; "
        f"an unchunked count matrix alone would be {400 * n * 8 / 2**20:,.0f} MiB)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
