"""Robustness of a team's-data evaluation: bad inputs rejected cleanly, big files in bounded memory.

Prints, in one run:

1. how many malformed inputs were tried and how many were rejected cleanly (with
   ``DataValidationError``, never another exception; target: all);
2. the largest patients file evaluated (read, validated, triaged by the rules, metric table
   with bootstrap CIs) and the peak resident memory of the process (target: 5,000,000 rows
   within 2 GB).

Usage: ``python benchmarks/bench_userdata.py [ROWS]`` (default 5,000,000; ``make bench`` runs it).
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from outcomes import evaluate as ev
from outcomes.cohort import feature_columns, write_cohort
from outcomes.triage import RulesTriage
from outcomes.userdata import DataValidationError, read_patients, template_frame


def malformed_inputs(folder: Path) -> list[Path]:
    """A catalogue of broken files: every kind of bad input the issue lists, and more."""
    base = template_frame(20).astype(str)
    cases: dict[str, bytes | pd.DataFrame] = {
        "empty.csv": b"",
        "header_only.csv": (",".join(base.columns) + "\n").encode(),
        "png.csv": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        "broken.parquet": b"PAR1 not really parquet",
        "latin1.csv": base.to_csv(index=False).replace("P0002", "Pé0002").encode("latin-1"),
        "utf16.csv": base.to_csv(index=False).encode("utf-16"),
        "pain_14.csv": base.assign(pain_nrs="14"),
        "negative_age.csv": base.assign(age="-1"),
        "duplicate_ids.csv": base.assign(patient_id="P1"),
        "unknown_setting.csv": base.assign(setting="moon_base"),
        "unknown_sex.csv": base.assign(sex="?"),
        "text_in_numbers.csv": base.assign(odi="high"),
        "fractional_age.csv": base.assign(age="41.5"),
        "bad_boolean.csv": base.assign(pain_low_back="sometimes"),
        "empty_required.csv": base.assign(pain_nrs=""),
        "missing_columns.csv": base.drop(columns=["age", "sex", "odi"]),
        "duplicate_header.csv": pd.concat([base, base[["age"]]], axis=1),
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
    tried = rejected = 0
    for path in malformed_inputs(folder):
        tried += 1
        try:
            read_patients(path)
        except DataValidationError:
            rejected += 1
        except Exception as exc:  # anything else is a failure of the reader
            print(f"  {path.name}: {type(exc).__name__}: {exc}")
    return tried, rejected


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def big_file(folder: Path, rows: int) -> None:
    path = folder / "big.csv"
    start = time.perf_counter()
    write_cohort(path, rows, seed=1, chunk_size=500_000)
    size_gb = path.stat().st_size / 1e9
    print(
        f"wrote {rows:,} patients as CSV ({size_gb:.2f} GB) in {time.perf_counter() - start:.0f} s"
    )
    before = peak_rss_mb()
    start = time.perf_counter()
    patients = read_patients(path, require_truth=True)
    read_s = time.perf_counter() - start
    features = patients[feature_columns()]
    predicted = RulesTriage().fit(features.head(10)).predict(features)
    table = ev.metric_table(patients["pathway"], predicted, n_boot=1000)
    total_s = time.perf_counter() - start
    accuracy = table.iloc[0]
    print(f"read + validated in {read_s:.0f} s; rules + metric table (1,000 bootstrap "
          f"replicates) done at {total_s:.0f} s; accuracy {accuracy.estimate:.3f} "
          f"({accuracy.low:.3f}–{accuracy.high:.3f})")  # fmt: skip
    print(
        f"peak resident memory: {peak_rss_mb():,.0f} MB (before reading: {before:,.0f} MB; "
        "target < 2,048 MB)"
    )


def main(argv: list[str]) -> int:
    rows = int(argv[0]) if argv else 5_000_000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        tried, rejected = robustness(folder)
        print(f"malformed inputs: {tried} tried, {rejected} rejected cleanly "
              f"({'all' if tried == rejected else 'NOT all'})")  # fmt: skip
        big_file(folder, rows)
    return 0 if tried == rejected else 1


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main(sys.argv[1:]))
