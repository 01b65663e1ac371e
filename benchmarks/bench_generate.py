"""Benchmark: generating 1,000,000 patients against the cost of the random draws alone.

Prints, from one run on this machine:
- the time to generate N patients (the full ``patients`` DataFrame), best of 3, as wall-clock
  time and as CPU time of this process (on a shared machine the CPU time is the steadier one:
  it does not count the time other programs hold the processor);
- the "floor": the time numpy takes to make the same random draws the generator makes (same
  distributions, same counts, same block sizes) and nothing else, measured the same two ways;
- their ratios (target: within 3x) and patients per second;
- memory, two ways: the peak of allocations traced by ``tracemalloc`` (Python objects and numpy
  buffers; not memory taken outside Python's allocators), and the peak resident set size of a
  fresh process that generates the cohort (``resource.getrusage``: everything the process
  holds, including the interpreter and libraries), each against the final DataFrame's size
  (target: the growth during generation under 2x).

Usage: ``python benchmarks/bench_generate.py [N]`` (default 1,000,000). Run via ``make bench``.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np

from outcomes.cohort import BLOCK_SIZE, generate
from outcomes.model import ODI_TRIALS, PAIN_NRS_TRIALS, build_model


def draw_floor(n: int, seed: int = 0) -> None:
    """Make the generator's random draws for n patients, block by block, and nothing else."""
    model = build_model("primary_care")
    n_findings = len(model.findings)
    n_missable = int(model.missable.sum())
    a, b = model.beta_a[0], model.beta_b[0]
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


def best_of(fn, repeats: int = 3) -> tuple[float, float]:
    """(best wall-clock seconds, best CPU seconds of this process) over ``repeats`` runs."""
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return min(wall), min(cpu)


def _max_rss_bytes() -> int:
    # ru_maxrss is in kilobytes on Linux, in bytes on macOS.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


def rss_child(n: int) -> None:
    """In a fresh process: peak resident memory before and after generating n patients."""
    generate(1000, seed=0)  # imports and caches, as in the parent's timed runs
    before = _max_rss_bytes()
    df = generate(n, seed=1)
    peak = _max_rss_bytes()
    size = int(df.memory_usage(deep=True).sum())
    print(json.dumps({"before": before, "peak": peak, "size": size}))


def main(n: int = 1_000_000) -> None:
    # Resident memory first, in a fresh process: the peak RSS of this one would include
    # whatever the timing runs below left behind.
    child = subprocess.run(
        [sys.executable, __file__, "--rss", str(n)], capture_output=True, text=True, check=True
    )
    rss = json.loads(child.stdout.strip().splitlines()[-1])

    generate(1000, seed=0)  # warm caches and imports
    generate_wall, generate_cpu = best_of(lambda: generate(n, seed=1))
    floor_wall, floor_cpu = best_of(lambda: draw_floor(n))
    uniform_wall, _ = best_of(lambda: np.random.default_rng(0).random(n * 70))

    tracemalloc.start()
    df = generate(n, seed=1)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = df.memory_usage(deep=True).sum()
    growth = rss["peak"] - rss["before"]

    print(f"patients:                             {n:,}")
    print(
        f"generate, wall clock (best of 3):     {generate_wall:6.2f} s"
        f"  ({n / generate_wall:,.0f} patients/s)"
    )
    print(f"generate, CPU time (best of 3):       {generate_cpu:6.2f} s")
    print(f"floor, same draws, wall (best of 3):  {floor_wall:6.2f} s")
    print(f"floor, same draws, CPU (best of 3):   {floor_cpu:6.2f} s")
    print(
        f"ratio generate / floor:               {generate_wall / floor_wall:6.2f} x wall clock,"
        f" {generate_cpu / floor_cpu:.2f} x CPU   (target <= 3)"
    )
    print(f"(70 uniforms per patient only, wall:  {uniform_wall:6.2f} s)")
    print(f"final DataFrame (deep memory usage):  {size / 1e6:6.1f} MB")
    print(
        f"peak tracemalloc-traced allocations:  {traced_peak / 1e6:6.1f} MB"
        f" = {traced_peak / size:.2f} x the DataFrame (Python objects and numpy buffers only)"
    )
    print(
        f"peak resident set, fresh process:     {rss['peak'] / 1e6:6.1f} MB"
        f" (getrusage; {rss['before'] / 1e6:.1f} MB before generating)"
    )
    print(
        f"resident growth while generating:     {growth / 1e6:6.1f} MB"
        f" = {growth / rss['size']:.2f} x the DataFrame   (target < 2)"
    )


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--rss":
        rss_child(int(sys.argv[2]))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
