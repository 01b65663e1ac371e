"""Robustness of a team's-data evaluation: bad inputs rejected cleanly, big files in bounded memory.

Prints, in one run:

1. how many malformed inputs were tried and how many were rejected cleanly: the reader
   raises ``DataValidationError`` (never another exception), and ``outcomes evaluate`` exits
   with code 2 after one line on stderr, writing nothing (target: all);
2. the largest team evaluated end to end with ``outcomes evaluate`` (patients file and
   predictions file with probabilities; rules, the team's calls, a boosted model trained on
   20,000 synthetic patients; metric table and red-flag safety with 1,000 bootstrap
   replicates; Brier scores and reliability; every table written), once from CSV and once
   from Parquet, each in its own process as a user runs it, with the time to read and
   validate and the peak resident memory of each (target: 5,000,000 rows within 2 GB).

Usage: ``python benchmarks/bench_userdata.py [ROWS]`` (default 5,000,000; ``make bench`` runs it).
"""

from __future__ import annotations

import contextlib
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from outcomes import cli, userdata
from outcomes.cohort import write_cohort
from outcomes.io import write_chunks
from outcomes.knowledge import load_knowledge
from outcomes.userdata import DataValidationError, read_patients, template_frame

BATCH = 200_000


def malformed_inputs(folder: Path) -> list[Path]:
    """A catalogue of broken patients files: every kind of bad input the issue lists, and more."""
    base = template_frame(20).astype(str)
    contradiction = base.copy()
    contradiction.loc[3, ["condition", "pathway"]] = ["disc_herniation", "hip"]
    lines = base.to_csv(index=False).splitlines()
    ragged = "\n".join([*lines[:3], lines[3] + ",surplus", *lines[4:]]) + "\n"
    cases: dict[str, bytes | pd.DataFrame] = {
        "empty.csv": b"",
        "header_only.csv": (",".join(base.columns) + "\n").encode(),
        "png.csv": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        "broken.parquet": b"PAR1 not really parquet",
        "latin1.csv": base.to_csv(index=False).replace("P0002", "Pé0002").encode("latin-1"),
        "utf16.csv": base.to_csv(index=False).encode("utf-16"),
        "pain_14.csv": base.assign(pain_nrs="14"),
        "negative_age.csv": base.assign(age="-1"),
        "infinite_age.csv": base.assign(age="inf"),
        "huge_odi.csv": base.assign(odi="1e20"),
        "duplicate_ids.csv": base.assign(patient_id="P1"),
        "unknown_setting.csv": base.assign(setting="moon_base"),
        "unknown_sex.csv": base.assign(sex="?"),
        "text_in_numbers.csv": base.assign(odi="high"),
        "fractional_age.csv": base.assign(age="41.5"),
        "bad_boolean.csv": base.assign(pain_low_back="sometimes"),
        "empty_required.csv": base.assign(pain_nrs=""),
        "missing_columns.csv": base.drop(columns=["age", "sex", "odi"]),
        "no_truth.csv": base.drop(columns=["pathway"]),
        "pathway_contradicts_condition.csv": contradiction,
        "duplicate_header.csv": pd.concat([base, base[["age"]]], axis=1),
        "ragged_row.csv": ragged.encode(),
        "ragged.csv": b"patient_id,age\n1,40,extra,cells\n2\n",
        "only_spaces.csv": b"   \n   \n",
        "no_header_numbers.csv": b"1,2,3\n4,5,6\n",
    }
    paths = []
    for name, content in cases.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            content.to_csv(path, index=False)
        paths.append(path)
    return paths


def robustness(folder: Path) -> tuple[int, int]:
    """Each malformed file through the reader and through ``outcomes evaluate``."""
    calls = folder / "calls.csv"
    base = template_frame(20)
    pd.DataFrame({"patient_id": base["patient_id"], "pathway": "spinal"}).to_csv(calls, index=False)
    tried = rejected = 0
    for path in malformed_inputs(folder):
        tried += 1
        try:
            read_patients(path, require_truth=True)
        except DataValidationError:
            pass
        except Exception as exc:  # anything else is a failure of the reader
            print(f"  {path.name}: {type(exc).__name__}: {exc}")
            continue
        else:
            print(f"  {path.name}: accepted")
            continue
        out = folder / f"{path.stem}_metrics.csv"
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = cli.main(["evaluate", "--data", str(path), "--predictions", str(calls),
                             "--n-train", "200", "--n-boot", "10", "--out", str(out)])  # fmt: skip
        lines = err.getvalue().strip().splitlines()
        if code == 2 and len(lines) == 1 and not list(folder.glob(f"{path.stem}_metrics*")):
            rejected += 1
        else:
            print(f"  {path.name}: exit {code}, {len(lines)} stderr line(s)")
    return tried, rejected


# --------------------------------------------------------------------------------------------
# Big files


def peak_mb() -> float:
    """Peak resident memory of this process so far, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def team_calls(cohort: Path):
    """Calls of an imaginary team for every patient: the truth, one in ten re-triaged at
    random, with 0.8 on the call and 0.05 on every other pathway."""
    pathways = np.array(load_knowledge().pathways, dtype=object)
    rng = np.random.default_rng(7)
    for batch in pq.ParquetFile(cohort).iter_batches(BATCH, columns=["patient_id", "pathway"]):
        frame = batch.to_pandas()
        calls = frame["pathway"].astype(str).to_numpy(dtype=object)
        changed = rng.random(len(calls)) < 0.1
        calls[changed] = rng.choice(pathways, size=int(changed.sum()))
        out = pd.DataFrame({"patient_id": frame["patient_id"], "pathway": calls})
        for pathway in pathways:
            out[f"p_{pathway}"] = np.where(calls == pathway, 0.8, 0.05)
        yield out


def as_csv(cohort: Path):
    for batch in pq.ParquetFile(cohort).iter_batches(BATCH):
        yield batch.to_pandas()


def run_evaluate(data: str, calls: str, out: str) -> int:
    """Child process: ``outcomes evaluate`` as a user runs it, timing the patients' reading."""
    timings: list[float] = []
    real = userdata.read_patients

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            timings.append(time.perf_counter() - start)

    userdata.read_patients = timed  # the CLI imports it at call time
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        code = cli.main(["evaluate", "--data", data, "--predictions", calls, "--n-boot", "1000",
                         "--out", out])  # fmt: skip
    print(f"{code} {timings[0] if timings else float('nan'):.1f} {time.perf_counter() - start:.1f}")
    return code


def evaluate(data: Path, calls: Path, out: Path) -> float:
    """``outcomes evaluate`` in a fresh process; prints its times and peak memory (MB)."""
    child = subprocess.Popen([sys.executable, __file__, "--evaluate", str(data), str(calls),
                              str(out)], stdout=subprocess.PIPE, text=True)  # fmt: skip
    output = child.stdout.read() if child.stdout else ""
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    code, read_s, total_s = output.split()[-3:]
    if child.returncode != 0 or code != "0":
        raise SystemExit(f"outcomes evaluate failed on {data.name} (exit {code})")
    peak = usage.ru_maxrss / 1024
    metrics = pd.read_csv(out)
    row = metrics[(metrics["metric"] == "accuracy") & (metrics["method"] == "your triage")]
    acc = row.iloc[0]
    print(f"  {data.suffix[1:]:>7}: read + validated in {float(read_s):.0f} s; whole evaluation "
          f"{float(total_s):.0f} s; peak resident memory {peak:,.0f} MB; your triage's "
          f"accuracy {acc.estimate:.3f} ({acc.low:.3f}–{acc.high:.3f})")  # fmt: skip
    return peak


def big_files(folder: Path, rows: int) -> None:
    start = time.perf_counter()
    parquet = write_cohort(folder / "big.parquet", rows, seed=1, chunk_size=BATCH)
    csv = write_chunks(as_csv(parquet), folder / "big.csv")
    calls = write_chunks(team_calls(parquet), folder / "calls.csv")
    print(f"wrote {rows:,} patients as Parquet ({parquet.stat().st_size / 1e9:.2f} GB) and CSV "
          f"({csv.stat().st_size / 1e9:.2f} GB), and their calls with probabilities "
          f"({calls.stat().st_size / 1e9:.2f} GB), in {time.perf_counter() - start:.0f} s; "
          f"peak so far {peak_mb():,.0f} MB")  # fmt: skip
    print(f"outcomes evaluate on {rows:,} patients, each run in its own process "
          "(target < 2,048 MB):")  # fmt: skip
    peaks = [evaluate(csv, calls, folder / "metrics_csv.csv"),
             evaluate(parquet, calls, folder / "metrics_parquet.csv")]  # fmt: skip
    print(f"peak resident memory: benchmark process {peak_mb():,.0f} MB (generating the files), "
          f"outcomes evaluate {max(peaks):,.0f} MB")  # fmt: skip


def main(argv: list[str]) -> int:
    if argv[:1] == ["--evaluate"]:
        return run_evaluate(*argv[1:4])
    rows = int(argv[0]) if argv else 5_000_000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "bad").mkdir()
        tried, rejected = robustness(folder / "bad")
        print(f"malformed inputs: {tried} tried, {rejected} rejected cleanly "
              f"({'all' if tried == rejected else 'NOT all'})")  # fmt: skip
        big_files(folder, rows)
    return 0 if tried == rejected else 1


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main(sys.argv[1:]))
