"""Benchmark: generating 1,000,000 patients against the cost of the random draws alone.

Prints, from one run on this machine:
- the time to generate N patients (the full ``patients`` DataFrame),
- the "floor": the time numpy takes to make the same random draws the generator makes
  (same distributions, same counts, same block sizes) and nothing else,
- their ratio (target: within 3x), and patients per second;
- peak traced memory during generation against the final DataFrame's size (target < 2x).

Usage: ``python benchmarks/bench_generate.py [N]`` (default 1,000,000). Run via ``make bench``.
"""

from __future__ import annotations

import sys
import time
import tracemalloc

import numpy as np

from outcomes.cohort import BLOCK_SIZE, generate
from outcomes.model import ODI_TRIALS, PAIN_NRS_TRIALS, build_model


def draw_floor(n: int, seed: int = 0) -> float:
    """Seconds to make the generator's random draws for n patients, block by block."""
    model = build_model("primary_care")
    n_findings = len(model.findings)
    n_missable = int(model.missable.sum())
    a, b = model.beta_a[0], model.beta_b[0]
    start = time.perf_counter()
    for block in range(-(-n // BLOCK_SIZE)):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block,)))
        m = BLOCK_SIZE
        rng.random(m)  # condition
        rng.random(m)  # secondary contributor
        rng.beta(np.full(m, a), np.full(m, b))  # severity
        rng.random(m)  # chronic
        rng.integers(1, 13, size=m)  # acute duration
        rng.geometric(1 / 26, size=m)  # chronic duration
        rng.random((m, n_findings))  # findings
        rng.random((m, n_missable))  # missingness
        for _ in range(6):  # side, age, sex, occupation, onset, trigger
            rng.random(m)
        rng.binomial(PAIN_NRS_TRIALS, np.full(m, 0.5))
        rng.binomial(ODI_TRIALS, np.full(m, 0.4))
    return time.perf_counter() - start


def best_of(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(n: int = 1_000_000) -> None:
    generate(1000, seed=0)  # warm caches and imports
    generate_s = best_of(lambda: generate(n, seed=1))
    floor_s = min(draw_floor(n) for _ in range(3))
    uniform_s = best_of(lambda: np.random.default_rng(0).random(n * 70))

    tracemalloc.start()
    df = generate(n, seed=1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = df.memory_usage(deep=True).sum()

    print(f"patients:                      {n:,}")
    print(f"generate (best of 3):          {generate_s:6.2f} s  ({n / generate_s:,.0f} patients/s)")
    print(f"floor, same draws (best of 3): {floor_s:6.2f} s")
    print(f"ratio generate / floor:        {generate_s / floor_s:6.2f} x   (target <= 3)")
    print(f"(70 uniforms per patient only: {uniform_s:6.2f} s)")
    print(f"final DataFrame:               {size / 1e6:6.1f} MB")
    print(
        f"peak traced memory:            {peak / 1e6:6.1f} MB = {peak / size:.2f} x the DataFrame"
        "   (target < 2)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
