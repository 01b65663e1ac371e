"""Benchmark: the cost of the probabilistic sensitivity analysis, and of notebook 05.

Prints, from one run on this machine, with both wall-clock and CPU time (the machine is
shared: CPU time is what the work costs, wall time what a user waits):

- one **policy simulation**: :func:`outcomes.engine.recovery.simulate` of the notebook's
  sensitivity-analysis cohort (``N_PSA`` patients of ``SETTING``, its defaults) under one
  triage policy, its own random draws included, no visits table (best of 5);
- one **probabilistic-sensitivity draw**: what one more parameter draw adds to
  :func:`outcomes.analysis.sensitivity.headline` (a parameter set drawn, every policy simulated with
  it on the same patients and draws, the headline metrics computed), measured as the difference
  between ``n_draws = 1 + K`` and ``n_draws = 1``, divided by ``K``;
- their **ratio** (issue 12: the cost of one draw relative to one policy simulation);
- unless ``--no-notebook``: the whole of ``notebooks/05_validation.ipynb`` at its default
  parameters, executed with papermill in a fresh kernel (the deterministic kernel
  environment), wall time and the kernel's CPU time. Target: under 5 minutes.

Usage: ``python benchmarks/bench_sensitivity.py [--no-notebook] [--draws K]``.
"""

from __future__ import annotations

import argparse
import ast
import os
import resource
import tempfile
import time
from pathlib import Path

from outcomes.analysis.sensitivity import headline
from outcomes.engine.cohort import generate
from outcomes.engine.recovery import simulate
from outcomes.faces.report import KERNEL_NAME, declared_parameters, kernel_environment
from outcomes.infra.paths import notebooks_dir
from outcomes.triage.policies import POLICIES, build_policies

NOTEBOOK = "05_validation.ipynb"
TARGET_SECONDS = 300.0


def timed(fn) -> tuple[float, float]:
    """Wall and CPU seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def best_of(fn, repeats: int = 5) -> tuple[float, float]:
    runs = [timed(fn) for _ in range(repeats)]
    return min(r[0] for r in runs), min(r[1] for r in runs)


def defaults(notebook: Path) -> dict:
    """The notebook's default parameters (literal values of its parameters cell)."""
    return {
        name: ast.literal_eval(p["default"]) for name, p in declared_parameters(notebook).items()
    }


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-notebook", action="store_true", help="skip running notebook 05")
    parser.add_argument("--draws", type=int, default=10, help="K extra parameter draws timed")
    args = parser.parse_args()

    notebook = notebooks_dir() / NOTEBOOK
    p = defaults(notebook)
    n, seed, setting, reference = p["N_PSA"], p["SEED"], p["SETTING"], p["REFERENCE"]
    patients = generate(n, seed=seed, setting=setting)
    policies = build_policies(patients, POLICIES, seed=seed)
    plan = policies[reference]
    simulate(patients, plan, seed, visits=False)  # warm imports and caches

    one_sim = best_of(lambda: simulate(patients, plan, seed, visits=False))
    base = timed(lambda: headline(patients, policies, seed, reference, n_boot=1, n_draws=1))
    more = timed(
        lambda: headline(patients, policies, seed, reference, n_boot=1, n_draws=1 + args.draws)
    )
    draw = tuple((m - b) / args.draws for m, b in zip(more, base, strict=True))

    print(f"cohort                     : {n:,} patients of {setting}, {len(policies)} policies "
          f"({', '.join(policies)})")  # fmt: skip
    print(f"one policy simulation      : {one_sim[0]:6.3f} s wall, {one_sim[1]:6.3f} s CPU "
          "(best of 5, draws included, no visits table)")  # fmt: skip
    print(f"one PSA draw               : {draw[0]:6.3f} s wall, {draw[1]:6.3f} s CPU "
          f"(mean of {args.draws} extra draws)")  # fmt: skip
    print(f"ratio draw / simulation    : {draw[0] / one_sim[0]:6.1f} x wall, "
          f"{draw[1] / one_sim[1]:6.1f} x CPU")  # fmt: skip
    print(f"notebook PSA ({p['N_DRAWS']} draws)   : about {p['N_DRAWS'] * draw[1]:.0f} s CPU")

    if args.no_notebook:
        return
    import papermill

    with tempfile.TemporaryDirectory() as folder, kernel_environment():
        cpu, wall = children_cpu(), time.perf_counter()
        papermill.execute_notebook(str(notebook), str(Path(folder) / NOTEBOOK),
                                   kernel_name=KERNEL_NAME, cwd=folder, progress_bar=False,
                                   log_output=False)  # fmt: skip
        wall, cpu = time.perf_counter() - wall, children_cpu() - cpu
    shown = ", ".join(f"{k}={v}" for k, v in p.items())
    load = os.getloadavg()[0]
    # The work is one process on one core: on an idle machine the wall time is about the CPU
    # time; on a shared one it stretches with the load.
    print(f"notebook 05 at its defaults: {wall:6.1f} s wall, {cpu:6.1f} s CPU (kernel); "
          f"target < {TARGET_SECONDS:.0f} s: {'met' if cpu < TARGET_SECONDS else 'MISSED'} in CPU "
          f"time, {'met' if wall < TARGET_SECONDS else 'missed'} in wall time at load average "
          f"{load:.1f} on {os.cpu_count()} cores ({shown})")  # fmt: skip


if __name__ == "__main__":
    main()
