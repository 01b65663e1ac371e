"""Benchmark: generating 1,000,000 patients against the cost of the random draws alone.

Prints, from one run on this machine:
- the time to generate N patients (the full ``patients`` DataFrame), best of 3, as wall-clock
  time and as CPU time of this process (on a shared machine the CPU time is the steadier one:
  it does not count the time other programs hold the processor). The clock stops when
  ``generate`` returns: the DataFrame is freed after it stops;
- the "floor": the time numpy takes to make the same random draws the generator makes and
  nothing else, measured the same two ways. The same draws means the same calls on the same
  streams with the same parameters: the severity Betas take each patient's condition's shapes
  and the pain and ODI binomials each patient's own probability (numpy sets a binomial up
  again whenever its probability changes, so constant parameters would make a cheaper floor
  than the generator's draws). Those parameters are computed once, before the timing, from a
  generated cohort, and the floor's draws are checked to reproduce that cohort's severities,
  durations, pain and ODI exactly: the last draws of each block agreeing shows the floor made
  no more and no fewer draws than the generator before them;
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

from outcomes.engine.cohort import BLOCK_SIZE, generate
from outcomes.engine.model import ODI_TRIALS, PAIN_NRS_TRIALS, PatientModel, build_model


def floor_parameters(n: int, seed: int) -> tuple[PatientModel, dict[str, np.ndarray]]:
    """The default model and the per-patient parameters of the generator's draws for ``seed``.

    ``beta_a``/``beta_b`` (severity shapes of each patient's condition) and ``p_pain``/``p_odi``
    (each patient's binomial probability, the generator's own expression), for every patient of
    every block the generator draws (whole blocks, as it does), plus the cohort itself
    (``patients``) to check the floor's draws against.
    """
    model = build_model()
    rows = -(-n // BLOCK_SIZE) * BLOCK_SIZE
    patients = generate(rows, seed=seed)
    condition = patients["condition"].cat.codes.to_numpy().astype(np.intp)
    severity = patients["latent_severity"].to_numpy()
    per = model.per_condition
    low, span = (np.take(per[k], condition) for k in ("pain_low", "pain_span"))
    odi_low, odi_span = (np.take(per[k], condition) for k in ("odi_low", "odi_span"))
    params = {
        "beta_a": np.take(model.beta_a, condition),
        "beta_b": np.take(model.beta_b, condition),
        "p_pain": low + span * severity,
        "p_odi": odi_low + odi_span * severity,
    }
    return model, {**params, "patients": patients}


def draw_floor(
    n: int, seed: int, model: PatientModel, params: dict[str, np.ndarray], check: bool = False
) -> None:
    """Make the generator's random draws for ``n`` patients of ``seed``, block by block, and
    nothing else (uniforms into reused arrays, as the generator does). With ``check``, assert
    that they reproduce the cohort in ``params["patients"]``.
    """
    m = BLOCK_SIZE
    threshold = model.chronic_threshold_weeks
    p_extra = 1.0 / model.chronic_extra_weeks_mean
    findings = np.empty((m, len(model.findings)))
    missing = np.empty((m, model.missable_index.size))
    for block in range(-(-n // m)):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block,)))
        rows = slice(block * m, (block + 1) * m)
        rng.random(m)  # condition
        rng.random(m)  # secondary contributor
        severity = rng.beta(params["beta_a"][rows], params["beta_b"][rows])
        rng.random(m)  # chronic
        acute = rng.integers(1, threshold + 1, size=m)
        extra = rng.geometric(p_extra, size=m)
        rng.random(m)  # pain sensitivity
        rng.random(out=findings)
        rng.random(out=missing)
        for _ in range(6):  # side, age, sex, occupation, onset, trigger
            rng.random(m)
        pain = rng.binomial(PAIN_NRS_TRIALS, params["p_pain"][rows])
        odi = rng.binomial(ODI_TRIALS, params["p_odi"][rows])
        if check:
            cohort = params["patients"].iloc[rows]
            duration = np.where(cohort["chronic"], threshold + extra, acute)
            assert np.array_equal(severity, cohort["latent_severity"]), block
            assert np.array_equal(duration, cohort["symptom_duration_weeks"]), block
            assert np.array_equal(pain, cohort["pain_nrs"]), block
            assert np.array_equal(2 * odi, cohort["odi"]), block


def best_of(fn, repeats: int = 3) -> tuple[float, float]:
    """(best wall-clock seconds, best CPU seconds of this process) over ``repeats`` runs.

    The clocks stop when ``fn`` returns; its result is freed after that, outside the timing.
    """
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
        del result
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
    model, params = floor_parameters(n, seed=1)
    draw_floor(n, 1, model, params, check=True)  # the same draws as the generator, or fail
    del params["patients"]
    generate_wall, generate_cpu = best_of(lambda: generate(n, seed=1))
    floor_wall, floor_cpu = best_of(lambda: draw_floor(n, 1, model, params))
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
