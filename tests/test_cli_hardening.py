"""The command line never loses a user's file, is never silently wrong and never shows a
traceback: the classes of fault of issue 16, each as a case a user could hit."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from outcomes.analysis.userdata import demo_files
from outcomes.engine.cohort import write_cohort
from outcomes.faces import cli
from outcomes.infra.io import WRITTEN_RECORD

OUTCOMES = str(Path(sys.executable).with_name("outcomes"))


def error_line(capsys, command: str) -> str:
    """The one line a refused command prints (no traceback); returns it."""
    lines = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in lines if ": error: " in line]
    assert len(errors) == 1 and "Traceback" not in "\n".join(lines), lines
    assert errors[0].startswith(f"outcomes {command}: error: "), errors[0]
    return errors[0]


@pytest.fixture(scope="module")
def team(tmp_path_factory) -> tuple[Path, Path]:
    """A team's patients and predictions files (the demo's)."""
    return demo_files(tmp_path_factory.mktemp("team"), n=120)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    return write_cohort(tmp_path_factory.mktemp("cohort") / "c.parquet", 300, seed=4)


def fingerprint(*paths: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in paths}


# --------------------------------------------------------------------------------------------
# Never lose a user's file


def test_an_output_that_is_an_input_is_refused_before_any_work(tmp_path, capsys, team, cohort,
                                                               monkeypatch):  # fmt: skip
    patients, calls = team
    local = tmp_path / "c.parquet"
    shutil.copy(cohort, local)
    link = tmp_path / "link.parquet"
    link.symlink_to(local)
    before = fingerprint(patients, calls, local)
    monkeypatch.chdir(tmp_path)  # relative spellings of the same file
    cases = {
        "evaluate": ["evaluate", "--data", str(patients), "--predictions", str(calls),
                     "--out", str(patients)],
        "simulate": ["simulate", "--cohort", "c.parquet", "--policy", "rules",
                     "--out", str(local)],
        "datacard": ["datacard", "--cohort", str(local), "--out", "./c.parquet"],
        "triage": ["triage", "--model", "logistic", "--train", "c.parquet", "--test",
                   str(cohort), "--save-model", str(link)],
    }  # fmt: skip
    for command, argv in cases.items():
        assert cli.main(argv) == 2, command
        assert "is the same file as" in error_line(capsys, command)
    assert fingerprint(patients, calls, local) == before


def test_two_outputs_of_one_command_that_are_one_file_are_refused(tmp_path, capsys, cohort):
    out = tmp_path / "x.parquet"
    argv = ["simulate", "--cohort", str(cohort), "--policy", "rules", "--out", str(out),
            "--visits", str(tmp_path / "." / "x.parquet")]  # fmt: skip
    assert cli.main(argv) == 2
    assert "--out and --visits both name" in error_line(capsys, "simulate")
    assert not out.exists()


def test_evaluate_keeps_a_users_own_file_named_like_a_stale_companion(tmp_path, capsys, team):
    patients, calls = team
    plain = tmp_path / "plain.csv"
    pd.read_csv(calls)[["patient_id", "pathway"]].to_csv(plain, index=False)
    mine = tmp_path / "m_brier.csv"
    mine.write_text("my own Brier notes\n")
    argv = ["evaluate", "--data", str(patients), "--predictions", str(plain), "--n-train", "200",
            "--n-boot", "5", "--out", str(tmp_path / "m.csv")]  # fmt: skip
    assert cli.main(argv) == 0
    assert mine.read_text() == "my own Brier notes\n"
    assert "kept " in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [WRITTEN_RECORD, "m.csv", "m_brier.csv", "m_safety.csv", "plain.csv"]
    )


@pytest.mark.parametrize("kind", ["device", "fifo", "link to a device"])
def test_an_output_naming_a_device_or_fifo_is_refused_and_left_as_it_is(tmp_path, capsys, kind):
    target = {"device": Path(os.devnull), "fifo": tmp_path / "pipe.csv",
              "link to a device": tmp_path / "null.csv"}[kind]  # fmt: skip
    if kind == "fifo":
        os.mkfifo(target)
    if kind == "link to a device":
        target.symlink_to(os.devnull)
    for argv in (
        ["generate", "--n", "5", "--seed", "1", "--format", "csv", "--out", str(target)],
        ["template", "--out", str(target)],
    ):
        assert cli.main(argv) == 2
        assert "not a regular file" in error_line(capsys, argv[0])
    assert Path(os.devnull).is_char_device()
    assert kind != "fifo" or target.is_fifo()
    assert kind != "link to a device" or target.is_symlink()


# --------------------------------------------------------------------------------------------
# Never silently wrong


def test_red_flags_and_exam_signs_named_in_upper_case_are_used(tmp_path, capsys, team):
    patients, calls = team
    frame = pd.read_csv(patients, dtype=str, keep_default_na=False)
    shouting = frame.rename(columns=lambda c: c.upper() if c.startswith(("rf_", "exam_")) else c)
    upper = tmp_path / "upper.csv"
    shouting.to_csv(upper, index=False)
    argv = ["evaluate", "--predictions", str(calls), "--n-train", "200", "--n-boot", "5",
            "--out"]  # fmt: skip
    assert cli.main([*argv, str(tmp_path / "a.csv"), "--data", str(patients)]) == 0
    assert cli.main([*argv, str(tmp_path / "b.csv"), "--data", str(upper)]) == 0
    assert "warning" not in capsys.readouterr().err
    for table in ("", "_safety"):
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / f"a{table}.csv"),
                                      pd.read_csv(tmp_path / f"b{table}.csv"))  # fmt: skip


def test_a_red_flag_column_matching_none_is_reported_and_strict_refuses_it(tmp_path, capsys,
                                                                            team):  # fmt: skip
    patients, calls = team
    frame = pd.read_csv(patients, dtype=str, keep_default_na=False)
    renamed = tmp_path / "renamed.csv"
    frame.rename(columns={"rf_bowel_bladder": "rf_bowel_bladder_dysfunction"}).to_csv(
        renamed, index=False
    )
    argv = ["evaluate", "--data", str(renamed), "--predictions", str(calls), "--n-train", "200",
            "--n-boot", "5"]  # fmt: skip
    assert cli.main(argv) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("outcomes evaluate: warning: renamed.csv: ")
    assert "'rf_bowel_bladder_dysfunction'" in err[0] and "closest: 'rf_bowel_bladder'" in err[0]
    assert cli.main([*argv, "--strict"]) == 2
    assert "rf_bowel_bladder_dysfunction" in error_line(capsys, "evaluate")


def test_the_patients_file_given_as_predictions_is_refused(tmp_path, capsys, team):
    patients, _ = team
    copy = tmp_path / "calls.csv"
    shutil.copy(patients, copy)
    for predictions in (patients, copy):
        argv = ["evaluate", "--data", str(patients), "--predictions", str(predictions),
                "--n-train", "200", "--n-boot", "5"]  # fmt: skip
        assert cli.main(argv) == 2
        line = error_line(capsys, "evaluate")
        assert "same file as --data" in line or "looks like a patients file" in line


def test_a_csv_cohort_without_provenance_warns_and_overrides_restore_its_ceiling(tmp_path, capsys):
    import json

    from outcomes.knowledge import load_knowledge

    conditions = [c.name for c in load_knowledge().conditions]
    # An even case mix, far from any setting's: the oracle's prior must come from it.
    overrides = json.dumps({"case_mix": {c: 1 / len(conditions) for c in conditions}})
    parquet, csv = tmp_path / "c.parquet", tmp_path / "c.csv"
    for out in (parquet, csv):
        argv = ["generate", "--n", "400", "--seed", "2", "--out", str(out), "--overrides",
                overrides]  # fmt: skip
        assert cli.main(argv) == 0
    capsys.readouterr()
    oracle = ["triage", "--model", "oracle", "--n-boot", "5", "--test"]
    assert cli.main([*oracle, str(parquet)]) == 0
    from_parquet = capsys.readouterr()
    assert "warning" not in from_parquet.err
    assert cli.main([*oracle, str(csv)]) == 0
    unrecorded = capsys.readouterr()
    assert "records no provenance" in unrecorded.err and "--overrides" in unrecorded.err
    assert cli.main([*oracle, str(csv), "--overrides", overrides]) == 0
    restored = capsys.readouterr()
    assert "warning" not in restored.err
    body = lambda out: out.split("\n", 1)[1]  # noqa: E731 (the first line names the file)
    assert body(restored.out) == body(from_parquet.out) != body(unrecorded.out)
    assert cli.main([*oracle, str(csv), "--strict"]) == 2
    assert "records no provenance" in error_line(capsys, "triage")


# --------------------------------------------------------------------------------------------
# Never a traceback


@pytest.mark.parametrize("key", ["seed", "workers", "knowledge", "n"])
def test_only_documented_override_keys_are_accepted(tmp_path, capsys, key):
    argv = ["generate", "--n", "5", "--seed", "1", "--out", str(tmp_path / "x.csv"),
            "--overrides", f'{{"{key}": 3}}']  # fmt: skip
    assert cli.main(argv) == 2
    line = error_line(capsys, "generate")
    assert f"'{key}' is not a scenario override" in line and "exam_missing_rate" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["triage", "--model", "rules", "--test", "t.parquet", "--n-boot", str(10**12)],
         "--n-boot"),
        (["evaluate", "--data", "d.csv", "--predictions", "p.csv", "--n-train", str(10**15)],
         "--n-train"),
        (["template", "--out", "t.csv", "--n-examples", str(10**15)], "--n-examples"),
        (["generate", "--n", str(10**30), "--seed", "1", "--out", "x.parquet"], "--n"),
        (["triage", "--model", "rules", "--test", "t.parquet", "--seed", "-1"], "--seed"),
        (["simulate", "--cohort", "c.csv", "--policy", "rules", "--out", "o.csv", "--seed",
          "-1"], "--seed"),
    ],
)  # fmt: skip
def test_sizes_and_seeds_are_checked_before_anything_is_allocated(tmp_path, capsys, argv, option,
                                                                  monkeypatch):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == 2
    line = error_line(capsys, argv[0])
    assert option in line and ("at most" in line or ">= 0" in line)
    assert list(tmp_path.iterdir()) == []


def test_datacard_errors_name_the_program_whatever_command_is_recorded(tmp_path, capsys):
    # The data card records its command from the file itself (no --command option to clobber
    # the program's name); the error still names the program and the subcommand.
    argv = ["datacard", "--cohort", str(tmp_path / "none.parquet"), "--out",
            str(tmp_path / "d.md")]  # fmt: skip
    assert cli.main(argv) == 2
    assert "no such cohort file" in error_line(capsys, "datacard")


def test_semicolon_separated_csv_is_named(tmp_path, capsys, team):
    patients, calls = team
    semi = tmp_path / "semi.csv"
    pd.read_csv(patients).to_csv(semi, sep=";", index=False)
    argv = ["evaluate", "--data", str(semi), "--predictions", str(calls)]
    assert cli.main(argv) == 2
    assert "looks ';'-separated" in error_line(capsys, "evaluate")


def test_a_header_of_a_million_columns_is_refused_at_once(tmp_path, capsys, team):
    _, calls = team
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(1_000_000)) + "\n" + "1," * 999_999 + "1\n")
    argv = ["evaluate", "--data", str(wide), "--predictions", str(calls)]
    assert cli.main(argv) == 2
    assert "header is longer than" in error_line(capsys, "evaluate")
    few = tmp_path / "few.csv"
    few.write_text(",".join(f"c{i}" for i in range(20_000)) + "\n")
    assert cli.main(["evaluate", "--data", str(few), "--predictions", str(calls)]) == 2
    assert "20,000 columns" in error_line(capsys, "evaluate")


def test_a_pipe_as_data_is_accepted(tmp_path, team):
    patients, calls = team
    with patients.open("rb") as stdin:
        result = subprocess.run(
            [OUTCOMES, "evaluate", "--data", "/dev/stdin", "--predictions", str(calls),
             "--n-train", "200", "--n-boot", "5", "--out", str(tmp_path / "m.csv")],
            stdin=stdin, capture_output=True, text=True,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "120 patients of stdin" in result.stdout
    assert (tmp_path / "m.csv").is_file()


def test_a_legal_250_character_file_name_is_written(tmp_path, capsys):
    name = "c" * 242 + ".parquet"
    assert cli.main(["generate", "--n", "20", "--seed", "1", "--out", str(tmp_path / name)]) == 0
    assert [p.name for p in tmp_path.iterdir()] == [name]


def _children(pid: int) -> set[int]:
    """Every descendant of ``pid`` still running (from /proc)."""
    found, frontier = set(), [pid]
    while frontier:
        parent = frontier.pop()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent and int(entry.name) not in found:
                found.add(int(entry.name))
                frontier.append(int(entry.name))
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_sigterm_during_generate_with_workers_leaves_no_process_and_no_temporary(tmp_path):
    out = tmp_path / "big.parquet"
    process = subprocess.Popen(
        [OUTCOMES, "generate", "--n", "20000000", "--seed", "1", "--workers", "2", "--out",
         str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        workers: set[int] = set()
        for _ in range(600):  # until both workers run (spawn starts fresh interpreters)
            workers = _children(process.pid)
            if len(workers) >= 2 and any(tmp_path.iterdir()):
                break
            time.sleep(0.1)
        assert len(workers) >= 2, "the workers never started"
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 128 + signal.SIGTERM
    assert err.strip().splitlines()[-1].startswith("outcomes generate: terminated (SIGTERM)")
    assert "Traceback" not in err
    for _ in range(50):  # workers notice their parent is gone within a fraction of a second
        if not _alive(workers):
            break
        time.sleep(0.1)
    assert not _alive(workers), "worker processes outlived the command"
    assert list(tmp_path.iterdir()) == [], "a temporary or partial file was left"
