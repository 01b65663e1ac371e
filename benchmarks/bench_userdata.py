"""Robustness of a team's-data evaluation: bad inputs rejected cleanly, big files in bounded memory.

Prints, in one run:

1. how many malformed inputs were tried and how many were rejected cleanly, patients files
   and predictions files: the reader (``read_patients``, ``read_predictions`` against a valid
   patients file) raises ``DataValidationError`` (never another exception), and
   ``outcomes evaluate`` exits with code 2 after one line on stderr, writing nothing
   (target: all); then the file-safety cases (an output that is an input, two outputs in one
   file, a device or FIFO as output, a user's file named like a stale companion, sizes and
   keys out of bounds: refused in one line with every file kept) and the odd but valid
   inputs (upper-case red-flag columns, a pipe, a 250-character name, a nested extra Parquet
   column: accepted, and right) (target: all held);
2. the largest team evaluated end to end with ``outcomes evaluate`` (patients file and
   predictions file with probabilities; rules, the team's calls, a boosted model trained on
   20,000 synthetic patients; metric table and red-flag safety with 1,000 bootstrap
   replicates; Brier scores and reliability; every table written), once from CSV and once
   from Parquet, each in its own process as a user runs it, with the time to read and
   validate and the peak resident memory of each (target: 5,000,000 rows within 2 GB).

Usage: ``python benchmarks/bench_userdata.py [ROWS]`` (default 5,000,000; ``make bench`` runs it);
``python benchmarks/bench_userdata.py --robustness-only`` runs part 1 alone (seconds; part 2
takes about half an hour at the default size).
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

from outcomes.analysis import userdata
from outcomes.analysis.userdata import (
    PROBABILITY_PREFIX,
    DataValidationError,
    read_patients,
    read_predictions,
    template_frame,
)
from outcomes.engine.cohort import write_cohort
from outcomes.faces import cli
from outcomes.infra.io import write_chunks
from outcomes.knowledge import load_knowledge

BATCH = 200_000


def file_level_cases(base: pd.DataFrame) -> dict[str, bytes | pd.DataFrame]:
    """Files that are broken as files, whatever table they should hold: empty, header only,
    binary, not Parquet, the wrong encoding, a ragged row, a repeated column."""
    lines = base.to_csv(index=False).splitlines()
    ragged = "\n".join([*lines[:3], lines[3] + ",surplus", *lines[4:]]) + "\n"
    return {
        "empty.csv": b"",
        "header_only.csv": (",".join(base.columns) + "\n").encode(),
        "binary.csv": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        "broken.parquet": b"PAR1 not really parquet",
        "latin1.csv": base.to_csv(index=False).replace("P0002", "Pé0002").encode("latin-1"),
        "utf16.csv": base.to_csv(index=False).encode("utf-16"),
        "ragged_row.csv": ragged.encode(),
        "duplicate_header.csv": pd.concat([base, base[base.columns[-1:]]], axis=1),
    }


def malformed_inputs(folder: Path) -> list[Path]:
    """A catalogue of broken patients files: every kind of bad input the issue lists, and more."""
    base = template_frame(20).astype(str)
    contradiction = base.copy()
    contradiction.loc[3, ["condition", "pathway"]] = ["disc_herniation", "hip"]
    not_chronic = base.copy()
    not_chronic.loc[5, ["chronic", "symptom_duration_weeks"]] = ["true", "1"]
    cases: dict[str, bytes | pd.DataFrame] = {
        **file_level_cases(base),
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
        "pathway_contradicts_condition.csv": contradiction,
        "chronic_contradicts_duration.csv": not_chronic,
        "no_truth_at_all.csv": base.drop(columns=["pathway", "condition"]),
        "ragged.csv": b"patient_id,age\n1,40,extra,cells\n2\n",
        "only_spaces.csv": b"   \n   \n",
        "no_header_numbers.csv": b"1,2,3\n4,5,6\n",
        # Issue 16: Excel's ';' CSV, a header too long to parse, one column spelled twice.
        "semicolon_separated.csv": base.to_csv(index=False, sep=";").encode(),
        "million_columns.csv": (",".join(f"c{i}" for i in range(1_000_000)) + "\n").encode(),
        "one_column_in_two_cases.csv": base.assign(ODI=base["odi"]),
    }
    return _write_cases(folder, cases)


def _write_cases(folder: Path, cases: dict[str, bytes | pd.DataFrame]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, content in cases.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            content.to_csv(path, index=False)
        paths.append(path)
    return paths


def good_predictions(patients: pd.DataFrame) -> pd.DataFrame:
    """Valid calls for ``patients``, as text: a pathway and probabilities summing to 1."""
    pathways = list(load_knowledge().pathways)
    calls = pd.DataFrame({"patient_id": patients["patient_id"].astype(str),
                          "pathway": np.resize(pathways, len(patients))})  # fmt: skip
    for pathway in pathways:
        calls[f"{PROBABILITY_PREFIX}{pathway}"] = np.where(calls["pathway"] == pathway, 0.6, 0.1)
    return calls.astype(str)


def malformed_predictions(folder: Path, patients: pd.DataFrame) -> list[Path]:
    """A catalogue of broken predictions files for ``patients``: every kind the issue lists."""
    base = good_predictions(patients)
    first = f"{PROBABILITY_PREFIX}{load_knowledge().pathways[0]}"
    probabilities = [c for c in base.columns if c.startswith(PROBABILITY_PREFIX)]

    def at(column: str, value: str, rows: tuple[int, ...] = (2,)) -> pd.DataFrame:
        frame = base.copy()
        frame.loc[list(rows), column] = value
        return frame

    cases: dict[str, bytes | pd.DataFrame] = {
        "unknown_patient.csv": at("patient_id", "stranger"),
        "missing_a_patient.csv": base.iloc[1:],
        "unknown_pathway.csv": at("pathway", "surgery", (0, 4)),
        "empty_pathway.csv": at("pathway", ""),
        "duplicate_ids.csv": at("patient_id", base.loc[0, "patient_id"], (1,)),
        "empty_id.csv": at("patient_id", ""),
        "no_patient_id.csv": base.drop(columns=["patient_id"]),
        "no_pathway.csv": base.drop(columns=["pathway"]),
        "probability_above_1.csv": at(first, "1.5"),
        "probability_negative.csv": at(first, "-0.2"),
        "probability_text.csv": at(first, "likely"),
        "probability_nan.csv": at(first, "nan"),
        "probability_empty.csv": at(first, ""),
        "probability_infinite.csv": at(first, "inf"),
        "probabilities_not_summing_to_1.csv": base.assign(**{c: "0.5" for c in probabilities}),
        "partial_probability_set.csv": base.drop(columns=probabilities[1:]),
        "unknown_probability_column.csv": base.assign(p_surgery="0"),
        # Issue 16: the patients file given as the predictions (it holds the truth).
        "patients_file_as_predictions.csv": template_frame(20).astype(str),
        **file_level_cases(base),
    }
    return _write_cases(folder, cases)


def _rejected_by_evaluate(data: Path, calls: Path, out: Path) -> str | None:
    """None if ``outcomes evaluate`` exits 2 with one stderr line and writes nothing; else
    what happened."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = cli.main(["evaluate", "--data", str(data), "--predictions", str(calls),
                         "--n-train", "200", "--n-boot", "10", "--out", str(out)])  # fmt: skip
    lines = err.getvalue().strip().splitlines()
    written = sorted(p.name for p in out.parent.glob(f"{out.stem}*"))
    if code == 2 and len(lines) == 1 and not written:
        return None
    return f"exit {code}, {len(lines)} stderr line(s), wrote {written}"


def _rejected_by_reader(read, path: Path) -> str | None:
    """None if ``read(path)`` raises DataValidationError; else what happened."""
    try:
        read(path)
    except DataValidationError:
        return None
    except Exception as exc:  # anything else is a failure of the reader
        return f"{type(exc).__name__}: {exc}"
    return "accepted"


def robustness(folder: Path) -> dict[str, tuple[int, int]]:
    """Each malformed file through its reader and through ``outcomes evaluate``: tried and
    rejected cleanly (by both), for patients files and for predictions files."""
    base = template_frame(20)
    patients = folder / "patients.csv"
    base.to_csv(patients, index=False)
    calls = folder / "calls.csv"
    good_predictions(base).to_csv(calls, index=False)
    team = read_patients(patients, require_truth=True)
    read_predictions(calls, team)  # the valid pair is accepted
    outs = folder / "out"
    outs.mkdir()
    kinds = {
        "patients": [(path, lambda p: read_patients(p, require_truth=True), (path, calls))
                     for path in malformed_inputs(folder / "patients")],
        "predictions": [(path, lambda p: read_predictions(p, team), (patients, path))
                        for path in malformed_predictions(folder / "predictions", base)],
    }  # fmt: skip
    counts = {}
    for kind, cases in kinds.items():
        tried = rejected = 0
        for path, read, (data, predictions) in cases:
            tried += 1
            failure = _rejected_by_reader(read, path) or _rejected_by_evaluate(
                data, predictions, outs / f"{kind}_{path.stem}.csv"
            )
            if failure is None:
                rejected += 1
            else:
                print(f"  {kind} {path.name}: {failure}")
        counts[kind] = (tried, rejected)
    return counts


# --------------------------------------------------------------------------------------------
# Files kept safe, odd but valid inputs accepted (issue 16)


def _run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = cli.main(argv)
    return code, err.getvalue()


def safety_cases(folder: Path) -> dict[str, str | None]:
    """Each case: None if it held (the file kept, the input refused or accepted as it must
    be), else what went wrong."""
    folder.mkdir(parents=True, exist_ok=True)
    patients, calls = userdata.demo_files(folder, n=120)
    cohort = write_cohort(folder / "c.parquet", 300, seed=4)
    fast = ["--n-train", "200", "--n-boot", "5"]
    results: dict[str, str | None] = {}

    def refused(name: str, argv: list[str], *kept: Path, says: str = "") -> None:
        before = {p: p.read_bytes() if p.is_file() else None for p in kept}
        code, err = _run(argv)
        lines = err.strip().splitlines()
        same = all((p.read_bytes() if p.is_file() else None) == b for p, b in before.items())
        ok = code == 2 and len(lines) == 1 and says in err and same
        results[name] = None if ok else f"exit {code}, kept {same}: {err.strip()[:200]}"

    refused("evaluate --out = --data", ["evaluate", "--data", str(patients), "--predictions",
            str(calls), "--out", str(patients), *fast], patients, says="same file")  # fmt: skip
    refused("simulate --out = --cohort", ["simulate", "--cohort", str(cohort), "--policy",
            "rules", "--out", str(cohort)], cohort, says="same file")  # fmt: skip
    refused("datacard --out = --cohort", ["datacard", "--cohort", str(cohort), "--out",
            str(folder / "." / "c.parquet")], cohort, says="same file")  # fmt: skip
    link = folder / "link.parquet"
    link.symlink_to(cohort)
    refused("triage --save-model = --train (a symlink)", ["triage", "--model", "logistic",
            "--train", str(cohort), "--test", str(cohort), "--save-model", str(link)], cohort,
            says="same file")  # fmt: skip
    refused("simulate --out X --visits X", ["simulate", "--cohort", str(cohort), "--policy",
            "rules", "--out", str(folder / "x.csv"), "--visits", str(folder / "x.csv")],
            says="both name")  # fmt: skip
    refused("generate --out /dev/null", ["generate", "--n", "5", "--seed", "1", "--format",
            "csv", "--out", os.devnull], says="not a regular file")  # fmt: skip
    fifo = folder / "pipe.csv"
    os.mkfifo(fifo)
    refused("template --out FIFO", ["template", "--out", str(fifo)], says="not a regular file")
    refused("--overrides with an undocumented key", ["generate", "--n", "5", "--seed", "1",
            "--out", str(folder / "o.csv"), "--overrides", '{"seed": 3}'],
            says="documented keys")  # fmt: skip
    for option, value in (("--n-boot", 10**12), ("--n-train", 10**15), ("--seed", -1)):
        refused(f"evaluate {option} {value}", ["evaluate", "--data", str(patients),
                "--predictions", str(calls), option, str(value)], says=option)  # fmt: skip
    refused("template --n-examples 10**15", ["template", "--out", str(folder / "t.csv"),
            "--n-examples", str(10**15)], says="--n-examples")  # fmt: skip
    refused("generate --n 10**30", ["generate", "--n", str(10**30), "--seed", "1", "--out",
            str(folder / "big.parquet")], says="--n")  # fmt: skip
    refused("datacard error names the program", ["datacard", "--cohort", str(folder / "no"),
            "--out", str(folder / "d.md"), "--command", "x"],
            says="outcomes datacard: error:")  # fmt: skip
    renamed = folder / "near_miss.csv"
    near = {"rf_bowel_bladder": "rf_bowel_bladder_dysfunction"}
    pd.read_csv(patients, dtype=str, keep_default_na=False).rename(columns=near).to_csv(
        renamed, index=False
    )
    refused("--strict: a red flag matching no known name", ["evaluate", "--data", str(renamed),
            "--predictions", str(calls), "--strict", *fast], says="closest")  # fmt: skip

    # A user's own file named like a stale companion is kept.
    mine = folder / "m_brier.csv"
    mine.write_text("mine\n")
    plain = folder / "plain.csv"
    pd.read_csv(calls)[["patient_id", "pathway"]].to_csv(plain, index=False)
    code, err = _run(["evaluate", "--data", str(patients), "--predictions", str(plain),
                      "--out", str(folder / "m.csv"), *fast])  # fmt: skip
    results["evaluate keeps a user's m_brier.csv"] = (
        None if code == 0 and mine.read_text() == "mine\n" else f"exit {code}: {err[:200]}"
    )

    # Accepted, and right: upper-case red flags and exam signs, a pipe, a long name, a
    # nested Parquet column.
    upper = folder / "upper.csv"
    frame = pd.read_csv(patients, dtype=str, keep_default_na=False)
    frame.rename(columns=lambda c: c.upper() if c.startswith(("rf_", "exam_")) else c).to_csv(
        upper, index=False)  # fmt: skip
    a, b = folder / "a.csv", folder / "b.csv"
    codes = [_run(["evaluate", "--data", str(d), "--predictions", str(calls), "--out", str(o),
                   *fast])[0] for d, o in ((patients, a), (upper, b))]  # fmt: skip
    same = codes == [0, 0] and a.read_bytes() == b.read_bytes()
    results["upper-case RF_/EXAM_ columns used"] = None if same else f"exits {codes}"
    with patients.open("rb") as stdin:
        piped = subprocess.run([sys.executable, "-m", "outcomes.faces.cli", "evaluate", "--data",
                                "/dev/stdin", "--predictions", str(calls), *fast],
                               stdin=stdin, capture_output=True, text=True)  # fmt: skip
    results["--data /dev/stdin (a pipe)"] = (
        None if piped.returncode == 0 else piped.stderr.strip()[:200]
    )
    long_name = folder / ("c" * 242 + ".parquet")
    code, err = _run(["generate", "--n", "20", "--seed", "1", "--out", str(long_name)])
    results["a 250-character file name"] = None if code == 0 else err.strip()[:200]
    nested = folder / "nested.parquet"
    template_frame(3).assign(visits=[[1, 2], [3], []]).to_parquet(nested)
    results["an extra nested Parquet column ignored"] = _accepted(read_patients, nested)
    return results


def _accepted(read, path: Path) -> str | None:
    try:
        read(path)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


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
    only = "--robustness-only" in argv
    argv = [a for a in argv if a != "--robustness-only"]
    rows = int(argv[0]) if argv else 5_000_000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "bad").mkdir()
        counts = robustness(folder / "bad")
        for kind, (tried, rejected) in counts.items():
            print(f"malformed {kind} files: {tried} tried, {rejected} rejected cleanly")
        tried, rejected = (sum(c[i] for c in counts.values()) for i in (0, 1))
        print(f"malformed inputs: {tried} tried, {rejected} rejected cleanly "
              f"({'all' if tried == rejected else 'NOT all'}; each by its reader and by "
              "outcomes evaluate)")  # fmt: skip
        safety = safety_cases(folder / "safety")
        for name, failure in safety.items():
            print(f"  {'held' if failure is None else 'FAILED'}: {name}"
                  + ("" if failure is None else f" ({failure})"))  # fmt: skip
        held = sum(f is None for f in safety.values())
        print(f"file-safety and valid-input cases: {len(safety)} tried, {held} held "
              f"({'all' if held == len(safety) else 'NOT all'})")  # fmt: skip
        if not only:
            big_files(folder, rows)
    return 0 if tried == rejected and held == len(safety) else 1


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main(sys.argv[1:]))
