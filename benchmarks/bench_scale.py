"""Benchmark: beyond one process. Prints ratios measured in one run on this machine.

1. Streamed generation into a partitioned cohort (``outcomes generate --out DIR/``) at each
   size, in a fresh process: seconds per million patients (flat as n grows means it streams)
   and peak resident memory, against the pyarrow floor: the same rows generated chunk by chunk,
   converted with ``pyarrow.Table.from_pandas`` and written with one ``ParquetWriter``, in one
   process.
2. A simulation study (``outcomes.analysis.study``) on a 2-worker ``LocalCluster`` against a
   1-worker one: the speed-up.
3. Scoring with the rules: ``outcomes.analysis.scoring.score_partitioned`` (Dask, partition by
   partition, predictions written) on a partitioned cohort, against the in-memory path
   (read the file, predict, metric table) on a smaller one: seconds per million rows.

Usage::

    python benchmarks/bench_scale.py [--sizes 1000000 10000000] [--with-50m]
        [--replicates 200] [--score-n 10000000] [--memory-n 1000000]

Peak resident memory is that of the child process (``os.wait4``), so each figure is its own.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHUNK = 1_000_000

FLOOR = """
import sys
import pyarrow as pa, pyarrow.parquet as pq
from outcomes.engine.cohort import iter_chunks
n, chunk, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
writer = None
for frame in iter_chunks(n, seed=1, chunk_size=chunk):
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if writer is None:
        writer = pq.ParquetWriter(out, table.schema, compression="zstd")
    writer.write_table(table)
writer.close()
"""


def run_child(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident MB of a child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{args} failed with exit code {proc.returncode}")
    return elapsed, usage.ru_maxrss / 1024


def bench_generation(sizes: list[int], folder: Path) -> None:
    outcomes = str(Path(sys.executable).parent / "outcomes")
    # The fixed cost of a fresh process (imports, the model, writing the card) does not grow
    # with n; it is measured on 1,000 patients and shown apart, so "flat per million" compares
    # the work that does.
    start, _ = run_child([outcomes, "generate", "--n", "1000", "--seed", "1",
                          "--chunk-size", str(CHUNK), "--out", f"{folder / 'start'}/"])  # fmt: skip
    print("1. streamed generation, chunk size 1,000,000 (fresh process each); "
          f"start-up (n = 1,000) {start:.2f} s")  # fmt: skip
    print(f"{'n':>12} {'s/M (ours)':>11} {'s/M (floor)':>12} {'ratio':>6} "
          f"{'s/M past start-up':>18} {'peak MB (ours)':>15} {'peak MB (floor)':>16}")  # fmt: skip
    for n in sizes:
        out = folder / f"gen{n}"
        ours, ours_rss = run_child([outcomes, "generate", "--n", str(n), "--seed", "1",
                                    "--chunk-size", str(CHUNK), "--out", f"{out}/"])  # fmt: skip
        floor, floor_rss = run_child([sys.executable, "-c", FLOOR, str(n), str(CHUNK),
                                      str(folder / f"floor{n}.parquet")])  # fmt: skip
        per = 1e6 / n
        print(f"{n:>12,} {ours * per:>11.2f} {floor * per:>12.2f} {ours / floor:>6.2f} "
              f"{(ours - start) * per:>18.2f} {ours_rss:>15,.0f} {floor_rss:>16,.0f}")  # fmt: skip
        for p in [*out.iterdir(), folder / f"floor{n}.parquet"]:
            p.unlink()
        out.rmdir()


def bench_study(replicates: int, folder: Path) -> None:
    from outcomes.analysis.study import parse_spec, run_study

    spec = parse_spec({"study": {"replicates": replicates, "seed": 1, "block": 1,
                                 "methods": ["rules", "logistic"]},
                       "grid": {"n_train": [500], "n_test": [1000]}})  # fmt: skip
    times = {}
    for workers in (1, 2):
        start = time.perf_counter()
        run_study(spec, folder / f"study{workers}", workers=workers, progress=False)
        times[workers] = time.perf_counter() - start
    print(f"\n2. study of {replicates} replicates (n_train 500, n_test 1,000, rules + logistic)")
    print(f"   1 worker {times[1]:.1f} s, 2 workers {times[2]:.1f} s: speed-up "
          f"{times[1] / times[2]:.2f}x")  # fmt: skip


def bench_scoring(score_n: int, memory_n: int, folder: Path) -> None:
    import pandas as pd

    from outcomes.analysis import evaluate as ev
    from outcomes.analysis.scoring import fit_on_head, score_partitioned
    from outcomes.engine.cohort import feature_columns, write_cohort
    from outcomes.engine.partitioned import write_partitioned

    big = folder / "big"
    write_partitioned(big, score_n, seed=2, chunk_size=CHUNK, workers=2)
    single = write_cohort(folder / "one.parquet", memory_n, seed=2)
    rules = fit_on_head("rules", big)
    start = time.perf_counter()
    score_partitioned(big, rules, predictions=folder / "preds", n_boot=1000)
    dask_time = time.perf_counter() - start
    start = time.perf_counter()
    patients = pd.read_parquet(single)
    predicted = rules.predict(patients[feature_columns()])
    ev.metric_table(patients["pathway"], predicted, n_boot=1000)
    ev.safety_table(patients["pathway"], predicted, patients=patients, n_boot=1000)
    memory_time = time.perf_counter() - start
    d, m = dask_time * 1e6 / score_n, memory_time * 1e6 / memory_n
    print(f"\n3. scoring with the rules: Dask on {score_n:,} rows {dask_time:.1f} s "
          f"({d:.2f} s/M, predictions written); in memory on {memory_n:,} rows "
          f"{memory_time:.1f} s ({m:.2f} s/M); ratio {d / m:.2f}x")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--with-50m", action="store_true", help="also 50,000,000 patients")
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--score-n", type=int, default=10_000_000)
    parser.add_argument("--memory-n", type=int, default=1_000_000)
    parser.add_argument("--skip", nargs="*", default=[], choices=["generate", "study", "score"])
    args = parser.parse_args()
    sizes = args.sizes + ([50_000_000] if args.with_50m else [])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if "generate" not in args.skip:
            bench_generation(sizes, folder)
        if "study" not in args.skip:
            bench_study(args.replicates, folder)
        if "score" not in args.skip:
            bench_scoring(args.score_n, args.memory_n, folder)


if __name__ == "__main__":
    main()
