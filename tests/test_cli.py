"""The command line: working commands, one-line errors with exit code 2, and no partial files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from outcomes.engine.cohort import generate
from outcomes.faces import cli


def test_generate_writes_parquet_and_csv(tmp_path, capsys):
    out = tmp_path / "x.parquet"
    assert (
        cli.main(
            [
                "generate",
                "--n",
                "300",
                "--seed",
                "7",
                "--setting",
                "spine_clinic",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    pd.testing.assert_frame_equal(pd.read_parquet(out), generate(300, 7, "spine_clinic"))
    assert "wrote 300 patients" in capsys.readouterr().out
    csv = tmp_path / "x.data"
    assert (
        cli.main(["generate", "--n", "10", "--seed", "7", "--format", "csv", "--out", str(csv)])
        == 0
    )
    assert len(pd.read_csv(csv)) == 10


def test_overrides_reach_the_generator(tmp_path):
    out = tmp_path / "x.parquet"
    cli.main(
        [
            "generate",
            "--n",
            "2000",
            "--seed",
            "1",
            "--out",
            str(out),
            "--overrides",
            '{"exam_missing_rate": 1.0}',
        ]
    )
    assert pd.read_parquet(out)["exam_fair_test"].isna().all()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--n", "0"], "n must be an integer >= 1"),
        (["--setting", "sport"], "setting 'sport' is unknown"),
        (["--overrides", '{"exam_missing_rate": 7}'], "'exam_missing_rate' must be a probability"),
        (["--chunk-size", "0"], "chunk_size must be an integer >= 1"),
    ],
)
def test_bad_arguments_print_one_line_exit_2_and_write_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "x.parquet"
    base = ["generate", "--n", "10", "--seed", "1", "--out", str(out)]
    assert cli.main(base + args) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_unknown_suffix_is_refused_before_any_work(tmp_path, capsys):
    assert (
        cli.main(["generate", "--n", "10", "--seed", "1", "--out", str(tmp_path / "x.xlsx")]) == 2
    )
    assert "cannot tell the format" in capsys.readouterr().err


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(ValueError, match="n must be"):
        cli.main(
            ["--debug", "generate", "--n", "0", "--seed", "1", "--out", str(tmp_path / "x.csv")]
        )


def test_every_subcommand_has_help_with_an_example():
    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    assert {"generate", "datacard", "report"} <= set(subparsers.choices)
    for name, sub in subparsers.choices.items():
        assert "example: outcomes " + name in sub.format_help(), name


def test_help_texts_show_percent_signs_once():
    # argparse %-formats help strings but not descriptions: "95%%" must never reach a reader.
    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    texts = [parser.format_help()] + [sub.format_help() for sub in subparsers.choices.values()]
    assert not [text for text in texts if "%%" in text]


def test_the_installed_entry_point_runs():
    result = subprocess.run(
        [sys.executable, "-m", "outcomes.faces.cli", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.startswith("outcomes ")


def test_generate_with_two_workers_writes_the_same_bytes(tmp_path):
    base = ["generate", "--n", "40000", "--seed", "5", "--chunk-size", "15000"]
    assert cli.main([*base, "--out", str(tmp_path / "a.parquet")]) == 0
    assert cli.main([*base, "--workers", "2", "--out", str(tmp_path / "b.parquet")]) == 0
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    assert cli.main([*base, "--workers", "0", "--out", str(tmp_path / "c.parquet")]) == 2
    assert not (tmp_path / "c.parquet").exists()


def test_readme_cli_reference_is_current():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert cli.replace_reference(readme) == readme, "README's CLI reference is stale: make readme"


def test_every_subcommand_is_in_the_reference_with_a_one_line_example():
    text = cli.reference_markdown()
    for name in cli.build_parser()._subparsers._group_actions[0].choices:
        section = text.split(f"### `outcomes {name}`", 1)[1].split("### ", 1)[0]
        example = [line for line in section.splitlines() if line.startswith("example: ")]
        assert example and example[0].startswith(f"example: outcomes {name} "), name


def test_triage_prints_the_metric_table_and_writes_it(tmp_path, capsys):
    test = tmp_path / "test.parquet"
    generate(600, seed=7).to_parquet(test)
    out = tmp_path / "metrics.csv"
    argv = ["triage", "--model", "rules", "--test", str(test), "--n-boot", "50"]
    assert cli.main([*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "accuracy" in printed and "sensitivity: emergency" in printed
    assert "emergencies missed" in printed
    table = pd.read_csv(out)
    assert set(table["method"]) == {"rules"}
    assert {"metric", "pathway", "estimate", "low", "high", "n"} <= set(table.columns)


def test_triage_errors_are_one_line_with_exit_2(tmp_path, capsys):
    test = tmp_path / "test.parquet"
    generate(100, seed=7).to_parquet(test)
    assert cli.main(["triage", "--model", "boosted", "--test", str(test)]) == 2
    assert "needs --train" in capsys.readouterr().err
    assert cli.main(["triage", "--model", "rules", "--test", str(tmp_path / "none.csv")]) == 2
    assert "no such test file" in capsys.readouterr().err
    unlabeled = tmp_path / "unlabeled.parquet"
    generate(100, seed=7).drop(columns=["pathway", "condition"]).to_parquet(unlabeled)
    assert cli.main(["triage", "--model", "rules", "--test", str(unlabeled)]) == 2
    assert "missing column 'pathway'" in capsys.readouterr().err
    # The confirmed condition alone gives the pathway.
    generate(100, seed=7).drop(columns=["pathway"]).to_parquet(unlabeled)
    assert cli.main(["triage", "--model", "rules", "--test", str(unlabeled), "--n-boot", "5"]) == 0


# --------------------------------------------------------------------------------------------
# Every bad input: one line on stderr, exit code 2, no traceback, nothing written


def one_error_line(capsys, command: str) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"outcomes {command}: error: ") and "Traceback" not in lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--n", "abc"], "argument --n: invalid int value: 'abc'"),
        (["--format", "xlsx"], "argument --format: invalid choice: 'xlsx'"),
        (["--overrides", "{chronic: 1"], "argument --overrides: not valid JSON"),
        (["--overrides", "[1, 2]"], "argument --overrides: must be a JSON object"),
        (["--no-such-option"], "unrecognized arguments: --no-such-option"),
    ],
)
def test_usage_errors_are_one_line_without_the_usage_block(tmp_path, capsys, args, message):
    out = tmp_path / "x.parquet"
    argv = ["generate", "--n", "10", "--seed", "1", "--out", str(out), *args]
    assert cli.main(argv) == cli.EXIT_BAD_INPUT
    assert message in one_error_line(capsys, "generate")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_command_is_one_line(capsys):
    assert cli.main([]) == cli.EXIT_BAD_INPUT
    line = capsys.readouterr().err.strip()
    assert line == "outcomes: error: the following arguments are required: COMMAND"


def test_help_still_shows_the_usage(capsys):
    assert cli.main(["generate", "--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: outcomes generate")


def test_generate_into_a_folder_is_refused_before_any_work(tmp_path, capsys):
    folder = tmp_path / "d.csv"
    folder.mkdir()
    assert cli.main(["generate", "--n", "10", "--seed", "1", "--out", str(folder)]) == 2
    assert one_error_line(capsys, "generate").endswith(f"{folder}: is a folder, not a file")
    assert list(tmp_path.iterdir()) == [folder] and list(folder.iterdir()) == []


def test_report_into_a_folder_that_is_not_a_report_is_refused(tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    assert cli.main(["report", "--out", str(folder), "--n", "300"]) == 2
    assert "refusing to replace it" in one_error_line(capsys, "report")
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--setting", "mars"], "parameter SETTING='mars' is not a setting (choose one of: "),
        (["--n", "0"], "parameter N=0 must be a whole number >= 1"),
        (["--seed", "-3"], "parameter SEED=-3 must be a whole number >= 0"),
        (["--exam-missing-rate", "1.5"], "parameter EXAM_MISSING_RATE=1.5 must be a share"),
        (["-p", "N_BOOT=many"], "parameter N_BOOT='many' must be a whole number >= 1"),
    ],
)
def test_report_parameters_are_checked_before_any_notebook_runs(tmp_path, capsys, args, message):
    out = tmp_path / "report"
    assert cli.main(["report", "--out", str(out), *args]) == 2
    assert message in one_error_line(capsys, "report")
    assert list(tmp_path.iterdir()) == []


def test_a_failing_notebook_is_one_line(tmp_path, capsys, monkeypatch):
    from papermill.exceptions import PapermillExecutionError

    from outcomes.faces import report

    def fail(*args, **kwargs):
        raise PapermillExecutionError(3, 3, "read_patients(DATA)", "DataValidationError",
                                      "mine.csv: column 'age': 1 row ...\nmore", [])  # fmt: skip

    monkeypatch.setattr(report, "run_report", fail)
    assert cli.main(["report", "--out", str(tmp_path / "r")]) == 2
    line = one_error_line(capsys, "report")
    assert "a notebook failed (DataValidationError: mine.csv: column 'age'" in line
    with pytest.raises(PapermillExecutionError):
        cli.main(["--debug", "report", "--out", str(tmp_path / "r")])


def test_evaluate_into_a_folder_is_refused_before_reading_anything(tmp_path, capsys):
    folder = tmp_path / "m_safety.csv"
    folder.mkdir()
    argv = ["evaluate", "--data", str(tmp_path / "none.csv"), "--predictions",
            str(tmp_path / "none.csv"), "--out", str(tmp_path / "m.csv")]  # fmt: skip
    assert cli.main(argv) == 2
    assert one_error_line(capsys, "evaluate").endswith("m_safety.csv: is a folder, not a file")
    assert list(tmp_path.iterdir()) == [folder]


def test_simulate_help_states_the_knowledge_base_follow_up_and_dropout():
    from outcomes.engine.recovery import load_recovery

    params = load_recovery()
    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    assert f"default {params.dropout:g}" in subparsers.choices["simulate"].format_help()
    assert f"simulate {params.follow_up_weeks} weeks" in parser.format_help()


@pytest.mark.parametrize(("fmt", "name"), [("csv", "e.parquet"), ("parquet", "e.csv"),
                                           ("csv", "e.PQ")])  # fmt: skip
def test_a_format_contradicting_the_suffix_is_refused_before_any_work(tmp_path, capsys, fmt,
                                                                      name):  # fmt: skip
    argv = ["generate", "--n", "10", "--seed", "1", "--format", fmt, "--out", str(tmp_path / name)]
    assert cli.main(argv) == cli.EXIT_BAD_INPUT
    line = one_error_line(capsys, "generate")
    assert f"--format {fmt} contradicts the suffix of {name}" in line
    assert list(tmp_path.iterdir()) == []


def options_of(command: str) -> set[str]:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    return {s for a in sub._actions for s in a.option_strings} | {"--debug", "--version"}


@pytest.mark.parametrize(
    ("argv", "has_format"),
    [
        (["generate", "--n", "10", "--seed", "1", "--out", "OUT"], True),
        (["simulate", "--cohort", "none.parquet", "--policy", "rules", "--out", "OUT"], False),
        (["simulate", "--cohort", "none.parquet", "--policy", "rules", "--out", "o.csv",
          "--visits", "OUT"], False),
        (["triage", "--model", "rules", "--test", "none.parquet", "--out", "OUT"], False),
        (["evaluate", "--data", "none.csv", "--predictions", "none.csv", "--out", "OUT"], False),
    ],
)  # fmt: skip
def test_an_unknown_suffix_message_names_only_options_the_command_has(tmp_path, capsys, argv,
                                                                      has_format):  # fmt: skip
    argv = [str(tmp_path / "x.xlsx") if a == "OUT" else a for a in argv]
    assert cli.main(argv) == cli.EXIT_BAD_INPUT
    line = one_error_line(capsys, argv[0])
    assert "cannot tell the format" in line and "use .parquet or .csv" in line
    assert "explicitly" not in line
    named = {word.strip(",.;()") for word in line.split() if word.startswith("--")}
    assert named <= options_of(argv[0]), named
    assert ("--format" in named) == has_format
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------
# triage and simulate read their cohorts through the validating reader of a team's file


def cohort_text(n: int = 120, seed: int = 7) -> pd.DataFrame:
    """A generated cohort's cells as text, as a CSV holds them."""
    return generate(n, seed=seed).astype(str)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda f: f.assign(pain_nrs=["14", *f["pain_nrs"][1:]]),
         "cohort.csv: column 'pain_nrs': 1 row out of range 0–10 (row 1: 14)"),
        (lambda f: f.assign(age=["-3", *f["age"][1:]]),
         "cohort.csv: column 'age': 1 row out of range 18–110 (row 1: -3)"),
        (lambda f: f.assign(sex=["?", "?", *f["sex"][2:]]),
         "cohort.csv: column 'sex': 2 rows not one of: female, male (rows 1, 2: '?', '?')"),
        (lambda f: f.assign(patient_id=["A", "A", *f["patient_id"][2:]]),
         "cohort.csv: column 'patient_id': 2 rows share an id with another row (rows 1, 2"),
        (lambda f: f.drop(columns=["odi"]), "cohort.csv: missing required column(s) 'odi'"),
        (lambda f: f.drop(columns=["pathway", "condition"]),
         "cohort.csv: missing column 'pathway'"),
        (lambda f: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "cohort.csv: not a CSV or Parquet file"),
        (lambda f: b"", "cohort.csv: the file is empty"),
        (lambda f: b"\xef\xbb\xbf", "cohort.csv: the file is empty"),
        (lambda f: (",".join(f.columns) + "\n").encode(), "cohort.csv: the file has a header but"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("role", ["--test", "--train", "--cohort"])
def test_triage_and_simulate_reject_a_bad_cohort_in_one_line(tmp_path, capsys, edit, expected,
                                                             role):  # fmt: skip
    content = edit(cohort_text())
    bad = tmp_path / "cohort.csv"
    if isinstance(content, bytes):
        bad.write_bytes(content)
    else:
        content.to_csv(bad, index=False)
    good = tmp_path / "good.parquet"
    generate(120, seed=8).to_parquet(good)
    out = tmp_path / "out" / "m.csv"
    if role == "--cohort":
        argv = ["simulate", "--cohort", str(bad), "--policy", "perfect", "--out", str(out),
                "--visits", str(tmp_path / "out" / "v.csv")]  # fmt: skip
    else:
        files = {"--test": str(good), "--train": str(good), role: str(bad)}
        argv = ["triage", "--model", "logistic", "--n-boot", "10", "--out", str(out),
                *[x for pair in files.items() for x in pair]]  # fmt: skip
    assert cli.main(argv) == cli.EXIT_BAD_INPUT
    assert expected in one_error_line(capsys, argv[0])
    assert not out.parent.exists()


def test_simulate_needs_the_condition_and_the_generated_cohorts_hidden_columns(tmp_path, capsys):
    cohort = tmp_path / "cohort.csv"
    out = tmp_path / "o.parquet"
    argv = ["simulate", "--cohort", str(cohort), "--policy", "perfect", "--out", str(out)]
    cohort_text().drop(columns=["condition"]).to_csv(cohort, index=False)
    assert cli.main(argv) == cli.EXIT_BAD_INPUT
    assert "missing column(s) 'condition' (the confirmed condition)" in one_error_line(
        capsys, "simulate"
    )
    frame = cohort_text()
    frame.loc[[3, 9], "latent_severity"] = ["1.5", ""]
    frame.loc[4, "condition"] = ""
    frame.to_csv(cohort, index=False)
    assert cli.main(argv) == cli.EXIT_BAD_INPUT
    line = one_error_line(capsys, "simulate")
    assert "cohort.csv: column 'condition': 1 row empty (a value is required) (row 5)" in line
    assert "(and 2 more problem(s))" in line
    assert not out.exists()


def test_a_generated_cohort_reads_back_the_same_as_parquet_or_csv(tmp_path):
    """The reader gives triage and simulate what they read before: a generated cohort, every
    column with the generator's dtype, hidden ones included."""
    from outcomes.analysis.userdata import read_patients

    cohort = generate(400, seed=5, exam_missing_rate=0.4)
    expected = cohort.assign(patient_id=cohort["patient_id"].astype("string[pyarrow]"))
    cohort.to_parquet(tmp_path / "c.parquet")
    cohort.to_csv(tmp_path / "c.csv", index=False)
    for name in ["c.parquet", "c.csv"]:
        read = read_patients(tmp_path / name, require_truth=True, require=cli.SIMULATE_REQUIRES)
        pd.testing.assert_frame_equal(read, expected, check_exact=name == "c.parquet")


def test_simulate_and_triage_run_on_a_generated_csv_cohort(tmp_path, capsys):
    cohort = generate(300, seed=2)
    cohort.to_csv(tmp_path / "c.csv", index=False)
    out = tmp_path / "o.parquet"
    argv = ["simulate", "--cohort", str(tmp_path / "c.csv"), "--policy", "perfect", "--out",
            str(out)]  # fmt: skip
    assert cli.main(argv) == 0
    from outcomes.engine.recovery import simulate
    from outcomes.triage.policies import policy

    expected = simulate(cohort, policy("perfect", cohort), seed=0).outcomes
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected)
    assert cli.main(["triage", "--model", "oracle", "--test", str(tmp_path / "c.csv"),
                     "--n-boot", "10"]) == 0  # fmt: skip
    assert "oracle on 300 patients of c.csv" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["generate", "simulate", "triage", "evaluate"])
def test_an_unwritable_destination_fails_before_any_work_naming_the_target(tmp_path, capsys,
                                                                           command):  # fmt: skip
    regular = tmp_path / "notes.txt"
    regular.write_text("keep me")
    out = regular / "m.csv"
    argv = {
        "generate": ["generate", "--n", "10", "--seed", "1", "--out", str(out)],
        "simulate": ["simulate", "--cohort", "none.csv", "--policy", "rules", "--out", str(out)],
        "triage": ["triage", "--model", "rules", "--test", "none.csv", "--out", str(out)],
        "evaluate": ["evaluate", "--data", "none.csv", "--predictions", "none.csv", "--out",
                     str(out)],
    }[command]  # fmt: skip
    assert cli.main(argv) == cli.EXIT_BAD_INPUT
    line = one_error_line(capsys, command)
    assert line.endswith(f"{out}: cannot create a file in {regular} (it is a file, not a folder)")
    assert "partial" not in line and sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_save_model_into_an_unwritable_place_fails_before_any_work(tmp_path, capsys):
    regular = tmp_path / "notes.txt"
    regular.write_text("keep me")
    argv = ["triage", "--model", "boosted", "--test", "none.csv", "--train", "none.csv",
            "--save-model", str(regular / "m.skops")]  # fmt: skip
    assert cli.main(argv) == cli.EXIT_BAD_INPUT
    assert "m.skops: cannot create a file in" in one_error_line(capsys, "triage")


def test_ctrl_c_during_generate_is_one_line_exit_130_output_intact(tmp_path, capsys, monkeypatch):
    out = tmp_path / "x.parquet"
    argv = ["generate", "--n", "200", "--seed", "1", "--out", str(out)]
    assert cli.main(argv) == 0
    before = out.read_bytes()
    capsys.readouterr()
    import pyarrow.parquet as pq

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pq.ParquetWriter, "write_table", interrupted)  # in the middle of a write
    assert cli.main([*argv[:-3], "2", "--out", str(out)]) == cli.EXIT_INTERRUPTED == 130
    captured = capsys.readouterr()
    assert captured.err == ("outcomes generate: interrupted; nothing partial was written (files "
                            "are replaced whole or not at all)\n")  # fmt: skip
    assert out.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["x.parquet"]
    with pytest.raises(KeyboardInterrupt):  # --debug shows the traceback
        cli.main(["--debug", *argv])


@pytest.mark.parametrize("command", ["evaluate", "triage", "simulate"])
def test_ctrl_c_in_any_command_is_one_line_exit_130(tmp_path, capsys, monkeypatch, command):
    from outcomes.analysis import userdata

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(userdata, "read_patients", interrupted)
    cohort = tmp_path / "c.csv"
    cohort.write_text("anything")
    argv = {
        "evaluate": ["evaluate", "--data", str(cohort), "--predictions", str(tmp_path / "p.csv")],
        "triage": ["triage", "--model", "rules", "--test", str(cohort)],
        "simulate": ["simulate", "--cohort", str(cohort), "--policy", "rules", "--out",
                     str(tmp_path / "o.csv")],
    }[command]  # fmt: skip
    assert cli.main(argv) == 130
    assert capsys.readouterr().err.startswith(f"outcomes {command}: interrupted; ")
    assert [p.name for p in tmp_path.iterdir()] == ["c.csv"]


INPUT_OPTIONS = ("--test", "--train", "--cohort", "--data", "--predictions")


def test_every_example_reads_only_files_that_exist_or_that_it_writes_first():
    """Examples are runnable as written from the repository's root: each file an example
    reads is committed, or written by an earlier command of the same example."""
    root = Path(__file__).resolve().parents[1]
    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    for name, sub in subparsers.choices.items():
        examples = [line.removeprefix("example: ") for line in sub.format_help().splitlines()
                    if line.startswith("example: ")]  # fmt: skip
        assert examples, name
        for example in examples:
            written: set[str] = set()
            for command in example.split("&&"):
                words = command.split()
                assert words[0] == "outcomes", example
                reads = [words[i + 1] for i, w in enumerate(words[:-1]) if w in INPUT_OPTIONS]
                for path in reads:
                    assert path in written or (root / path).exists(), f"{name}: {path}"
                written |= {words[i + 1] for i, w in enumerate(words[:-1]) if w == "--out"}


def test_a_closed_stdout_is_not_reported_as_an_error(tmp_path, capsys, monkeypatch):
    # `outcomes triage ... | head`: the reader goes away while the table is printed. No error
    # line, the exit code of a program stopped by SIGPIPE, and nothing is written after it.
    import builtins

    real_print = builtins.print

    def closed(*args, **kwargs):
        if kwargs.get("file") is None:  # stdout only: the error line would go to stderr
            raise BrokenPipeError(32, "Broken pipe")
        real_print(*args, **kwargs)

    out = tmp_path / "m.csv"
    monkeypatch.setattr(builtins, "print", closed)
    cohort = Path(__file__).resolve().parents[1] / "data" / "synthetic" / "default_cohort.parquet"
    argv = ["triage", "--model", "rules", "--test", str(cohort), "--n-boot", "5",
            "--out", str(out)]  # fmt: skip
    assert cli.main(argv) == cli.EXIT_BROKEN_PIPE == 141
    assert capsys.readouterr().err == ""
    assert not out.exists()
