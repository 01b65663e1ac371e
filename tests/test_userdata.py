"""A team's own files: every kind of bad input gets one clear error; nothing is modified."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from outcomes.analysis import evaluate as ev
from outcomes.analysis import userdata
from outcomes.analysis.userdata import (
    MAX_ROWS_SHOWN,
    DataValidationError,
    compare_calls,
    data_dictionary_markdown,
    demo_files,
    probability_tables,
    read_patients,
    read_predictions,
    scoring_table,
    template_frame,
    write_template,
)
from outcomes.engine.cohort import generate
from outcomes.faces import cli
from outcomes.infra.io import WRITTEN_RECORD
from outcomes.knowledge import load_knowledge
from outcomes.tables import files, records

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def good(tmp_path) -> pd.DataFrame:
    """A valid team file's cells, as text."""
    path = write_template(tmp_path / "good.csv", n_examples=30)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def write(tmp_path: Path, frame: pd.DataFrame, name: str = "mine.csv") -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def first_line(exc: pytest.ExceptionInfo) -> str:
    return str(exc.value).splitlines()[0]


def test_template_round_trips(tmp_path):
    path = write_template(tmp_path / "t.csv", n_examples=5)
    patients = read_patients(path, require_truth=True)
    assert len(patients) == 5 and patients["pain_nrs"].dtype.name == "int8"
    assert patients["exam_fair_test"].dtype.name == "boolean"
    expected = template_frame(5)
    assert patients["patient_id"].tolist() == expected["patient_id"].tolist()
    assert (patients["age"].to_numpy() == expected["age"].to_numpy()).all()


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda f: f.assign(pain_nrs=["14", *f["pain_nrs"][1:]]),
         "mine.csv: column 'pain_nrs': 1 row out of range 0–10 (row 1: 14)"),
        (lambda f: f.assign(age=["-3", "-7", *f["age"][2:]]),
         "mine.csv: column 'age': 2 rows out of range 18–110 (rows 1, 2: -3, -7)"),
        (lambda f: f.drop(columns=["sex"]), "mine.csv: missing required column(s) 'sex'"),
        (lambda f: f.assign(setting=["mars", *f["setting"][1:]]),
         "mine.csv: column 'setting': 1 row not one of: primary_care, spine_clinic, "
         "sports_clinic (row 1: 'mars')"),
        (lambda f: f.assign(patient_id=["A", "A", *f["patient_id"][2:]]),
         "mine.csv: column 'patient_id': 2 rows share an id with another row (rows 1, 2: "
         "'A', 'A')"),
        (lambda f: f.assign(age=["forty", *f["age"][1:]]),
         "mine.csv: column 'age': 1 row not a whole number (row 1: 'forty')"),
        (lambda f: f.assign(pain_low_back=["maybe", *f["pain_low_back"][1:]]),
         "mine.csv: column 'pain_low_back': 1 row not yes/no"),
        (lambda f: f.assign(odi=["", *f["odi"][1:]]),
         "mine.csv: column 'odi': 1 row empty (a value is required) (row 1)"),
        # Non-finite and huge numbers are named with the text the file holds, never crash.
        (lambda f: f.assign(age=["inf", "-inf", "Infinity", *f["age"][3:]]),
         "mine.csv: column 'age': 3 rows not a whole number (rows 1, 2, 3: 'inf', '-inf', "
         "'Infinity')"),
        (lambda f: f.assign(pain_nrs=["1e20", *f["pain_nrs"][1:]]),
         "mine.csv: column 'pain_nrs': 1 row out of range 0–10 (row 1: 1e20)"),
        (lambda f: f.assign(odi=["12.5", *f["odi"][1:]]),
         "mine.csv: column 'odi': 1 row not a whole number (row 1: '12.5')"),
    ],
)  # fmt: skip
def test_bad_values_name_the_column_rows_and_count(tmp_path, good, edit, expected):
    path = write(tmp_path, edit(good))
    with pytest.raises(DataValidationError) as info:
        read_patients(path)
    assert first_line(info).startswith(expected)


def test_a_pathway_contradicting_the_condition_is_named(tmp_path, good):
    frame = good.copy()
    frame.loc[[1, 4], "pathway"] = "emergency"
    frame.loc[[1, 4], "condition"] = "disc_herniation"
    with pytest.raises(DataValidationError) as info:
        read_patients(write(tmp_path, frame))
    assert first_line(info) == (
        "mine.csv: column 'pathway': 2 rows contradict column 'condition' (each condition has "
        "one pathway) (rows 2, 5: 'emergency' (disc_herniation → 'spinal'), 'emergency' "
        "(disc_herniation → 'spinal'))"
    )
    # Either truth column alone, or an empty one, contradicts nothing.
    read_patients(write(tmp_path, frame.drop(columns=["condition"])))
    read_patients(write(tmp_path, frame.assign(condition="")))


def test_rows_with_another_number_of_cells_are_named_by_line(tmp_path, good):
    lines = good.to_csv(index=False).splitlines()
    lines[2] += ",surplus"  # data row 2, line 3
    lines[5] = lines[5].rsplit(",", 2)[0]  # data row 5, line 6
    path = tmp_path / "ragged.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        read_patients(path)
    n = len(good.columns)
    assert first_line(info) == (
        f"ragged.csv: 2 rows have another number of cells than the {n} columns of the header "
        f"(lines 3, 6: {n + 1} cells, {n - 2} cells)"
    )


def test_batches_do_not_change_the_result_or_the_row_numbers(tmp_path, good, monkeypatch):
    """Rows are counted file-wide whatever the batch a problem falls in, and the table read in
    many small batches equals the table read in one."""
    frame = pd.concat([good] * 20, ignore_index=True)  # 600 rows
    frame["patient_id"] = [f"P{i:05d}" for i in range(len(frame))]
    csv_path = write(tmp_path, frame)
    parquet_path = tmp_path / "mine.parquet"
    template_frame(len(frame)).assign(patient_id=frame["patient_id"]).to_parquet(parquet_path)
    whole = [read_patients(csv_path), read_patients(parquet_path)]
    monkeypatch.setattr(files, "CSV_BLOCK_BYTES", 16384)  # about 60 rows a batch
    monkeypatch.setattr(files, "PARQUET_BATCH_ROWS", 64)
    batches = []
    add = records._Columns.add
    monkeypatch.setattr(records._Columns, "add", lambda self, batch, offset: (
        batches.append(batch.num_rows), add(self, batch, offset)))  # fmt: skip
    for path, expected in zip([csv_path, parquet_path], whole, strict=True):
        batches.clear()
        pd.testing.assert_frame_equal(read_patients(path), expected)
        assert len(batches) >= 5 and sum(batches) == len(frame), batches
    bad = frame.copy()
    bad.loc[[3, 250, 598], "pain_nrs"] = "11"
    bad.loc[599, "patient_id"] = bad.loc[0, "patient_id"]
    with pytest.raises(DataValidationError) as info:
        read_patients(write(tmp_path, bad, "bad.csv"))
    assert "column 'pain_nrs': 3 rows out of range 0–10 (rows 4, 251, 599: 11, 11, 11)" in str(
        info.value
    )
    assert "column 'patient_id': 2 rows share an id with another row (rows 1, 600" in str(
        info.value
    )


def test_typed_parquet_columns_are_checked_like_text(tmp_path):
    frame = template_frame(6)
    frame["age"] = frame["age"].astype(float)
    frame.loc[1, "age"] = np.inf
    frame.loc[2, "odi"] = 101
    path = tmp_path / "typed.parquet"
    frame.to_parquet(path)
    with pytest.raises(DataValidationError) as info:
        read_patients(path)
    assert first_line(info).startswith(
        "typed.parquet: column 'age': 1 row not a whole number (row 2: 'inf')"
    )
    assert "column 'odi': 1 row out of range 0–100 (row 3: 101)" in str(info.value)
    # An extra column of nested values (a list per row) is ignored, as extra columns are
    # documented to be; a known column holding lists is named, not crashed on.
    nested = tmp_path / "nested.parquet"
    template_frame(3).assign(visits=[[1, 2], [3], []]).to_parquet(nested)
    read = read_patients(nested)
    assert "visits" not in read.columns and len(read) == 3
    template_frame(3).assign(age=[[1, 2], [3], []]).to_parquet(nested)
    with pytest.raises(DataValidationError, match="column 'age': values of type list<"):
        read_patients(nested)


def test_at_most_ten_rows_are_listed_with_the_total(tmp_path, good):
    frame = good.copy()
    frame["pain_nrs"] = "11"
    with pytest.raises(DataValidationError) as info:
        read_patients(write(tmp_path, frame))
    line = first_line(info)
    assert "30 rows out of range" in line
    assert f"rows {', '.join(str(i) for i in range(1, MAX_ROWS_SHOWN + 1))}, …" in line


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV or Parquet file"),
        (b"PAR1 broken parquet", "not a readable Parquet file"),
    ],
)
def test_files_that_are_not_tables(tmp_path, content, expected):
    path = tmp_path / "odd.csv"
    path.write_bytes(content)
    with pytest.raises(DataValidationError, match=expected):
        read_patients(path)


def test_header_only_and_non_utf8(tmp_path, good):
    header = tmp_path / "header.csv"
    header.write_text(",".join(good.columns) + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="header but no data rows"):
        read_patients(header)
    latin = tmp_path / "latin.csv"
    text = write(tmp_path, good).read_text(encoding="utf-8").replace("P0003", "Pé0003")
    latin.write_bytes(text.encode("latin-1"))
    with pytest.raises(DataValidationError, match=r"not UTF-8 text: byte 0xe9 on line 4"):
        read_patients(latin)


def test_optional_columns_may_be_absent_and_extra_columns_are_kept(tmp_path, good):
    frame = good.drop(columns=[c for c in good if c.startswith(("exam_", "rf_"))])
    frame = frame.drop(columns=["chronic", "occupation", "pathway", "condition"])
    frame["clinic_note"] = "seen by Dr A"
    patients = read_patients(write(tmp_path, frame))
    assert patients["exam_fair_test"].isna().all() and patients["rf_bowel_bladder"].isna().all()
    assert patients["occupation"].isna().all()
    assert (patients["chronic"] == (patients["symptom_duration_weeks"] > 12)).all()
    assert (patients["clinic_note"] == "seen by Dr A").all()
    with pytest.raises(DataValidationError, match="missing column 'pathway'"):
        read_patients(write(tmp_path, frame), require_truth=True)


def test_parquet_is_read_like_csv(tmp_path):
    frame = template_frame(6)
    path = tmp_path / "mine.parquet"
    frame.to_parquet(path)
    csv = tmp_path / "mine.csv"
    frame.to_csv(csv, index=False)
    pd.testing.assert_frame_equal(read_patients(path), read_patients(csv))


def test_inputs_are_never_modified(tmp_path, good):
    path = write(tmp_path, good)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    read_patients(path)
    bad = good.assign(pain_nrs="99")
    bad_path = write(tmp_path, bad, "bad.csv")
    bad_digest = hashlib.sha256(bad_path.read_bytes()).hexdigest()
    with pytest.raises(DataValidationError):
        read_patients(bad_path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert hashlib.sha256(bad_path.read_bytes()).hexdigest() == bad_digest


def calls_file(tmp_path, ids, pathways, name="calls.csv", **extra):
    frame = pd.DataFrame({"patient_id": ids, "pathway": pathways, **extra})
    return write(tmp_path, frame, name)


def test_predictions_align_to_patients_and_keep_probabilities(tmp_path, good):
    patients = read_patients(write(tmp_path, good))
    ids = patients["patient_id"].tolist()[::-1]  # another order than the data file
    proba = {f"p_{p}": [0.2] * len(ids) for p in
             ["emergency", "spinal", "hip", "muscular", "upper_limb_nerve"]}  # fmt: skip
    calls = read_predictions(calls_file(tmp_path, ids, ["hip"] * len(ids), **proba), patients)
    assert calls.index.equals(patients.index)
    assert (calls["pathway"] == "hip").all()
    np.testing.assert_allclose(calls.filter(like="p_").sum(axis=1), 1.0)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda ids: (ids, ["surgery"] + ["hip"] * (len(ids) - 1)),
         "column 'pathway': 1 row not one of"),
        (lambda ids: (ids[:1] + ids[:-1], ["hip"] * len(ids)),
         "column 'patient_id': 2 rows share an id with another row"),
        (lambda ids: (["stranger"] + ids[1:], ["hip"] * len(ids)),
         "column 'patient_id': 1 row are not patients of the data file"),
        (lambda ids: (ids[1:], ["hip"] * (len(ids) - 1)),
         "1 patient(s) of the data file have no prediction"),
    ],
)  # fmt: skip
def test_bad_predictions(tmp_path, good, make, expected):
    patients = read_patients(write(tmp_path, good))
    ids, pathways = make(patients["patient_id"].tolist())
    with pytest.raises(DataValidationError) as info:
        read_predictions(calls_file(tmp_path, ids, pathways), patients)
    assert expected in first_line(info)


def test_probabilities_must_be_probabilities_summing_to_one(tmp_path, good):
    patients = read_patients(write(tmp_path, good))
    ids = patients["patient_id"].tolist()
    names = ["emergency", "spinal", "hip", "muscular", "upper_limb_nerve"]
    proba = {f"p_{p}": [0.3] * len(ids) for p in names}
    with pytest.raises(DataValidationError, match="not summing to 1"):
        read_predictions(calls_file(tmp_path, ids, ["hip"] * len(ids), **proba), patients)
    proba["p_hip"] = [1.5] * len(ids)
    with pytest.raises(DataValidationError, match="'p_hip': 30 rows not a probability"):
        read_predictions(calls_file(tmp_path, ids, ["hip"] * len(ids), **proba), patients)


def test_cli_template_and_evaluate(tmp_path, capsys):
    template = tmp_path / "t.csv"
    assert cli.main(["template", "--out", str(template), "--n-examples", "4"]) == 0
    assert len(pd.read_csv(template)) == 4
    patients, calls = demo_files(tmp_path, n=300)
    out = tmp_path / "metrics.csv"
    argv = ["evaluate", "--data", str(patients), "--predictions", str(calls), "--n-train",
            "1000", "--n-boot", "50", "--out", str(out)]  # fmt: skip
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "your triage" in printed and "rules" in printed and "emergencies missed" in printed
    assert "Brier" in printed
    methods = {"your triage", "rules", "boosted (synthetic)"}
    assert set(pd.read_csv(out)["method"]) == methods
    safety = pd.read_csv(tmp_path / "metrics_safety.csv")
    assert set(safety["method"]) == methods and "emergencies missed" in set(safety["measure"])
    # The team's probabilities: Brier score per pathway and overall, and reliability bins.
    brier = pd.read_csv(tmp_path / "metrics_brier.csv")
    assert set(brier["method"]) == {"your triage"} and brier["brier"].between(0, 2).all()
    # Every row has a calibration error, the "all" row too (the mean over pathways).
    assert "NaN" not in printed and brier["calibration_error"].notna().all()
    per_pathway = brier.loc[brier["pathway"] != "all", "calibration_error"]
    overall = brier.loc[brier["pathway"] == "all", "calibration_error"].item()
    assert overall == pytest.approx(per_pathway.mean())
    reliability = pd.read_csv(tmp_path / "metrics_reliability.csv")
    assert set(reliability["pathway"]) == set(load_knowledge().pathways)
    assert reliability.groupby("pathway")["n"].sum().eq(300).all()
    # Without probabilities: metrics and safety only.
    plain = pd.read_csv(calls)[["patient_id", "pathway"]]
    plain.to_csv(tmp_path / "plain.csv", index=False)
    argv[argv.index(str(calls))] = str(tmp_path / "plain.csv")
    argv[-1] = str(tmp_path / "plain_metrics.csv")
    assert cli.main(argv) == 0
    assert "Brier" not in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.glob("plain_metrics*")) == [
        "plain_metrics.csv", "plain_metrics_safety.csv"]  # fmt: skip


def test_probability_tables_in_batches_equal_one_call_on_everyone():
    """The CLI computes Brier scores and reliability in batches (bounded memory); the tables
    must be those evaluate.brier_scores and evaluate.calibration_table give on all patients.
    Sums are added in another order, so equal to 1e-10 relative."""
    rng = np.random.default_rng(1)
    classes = list(load_knowledge().pathways)
    truth = pd.Series(pd.Categorical(rng.choice(classes, 3000), categories=classes))
    proba = rng.dirichlet(np.full(len(classes), 0.5), size=3000)
    calls = pd.DataFrame(proba, columns=[f"p_{c}" for c in classes]).assign(pathway="hip")
    brier, reliability = probability_tables(truth, calls, batch_rows=700)
    pd.testing.assert_frame_equal(brier, ev.brier_scores(truth, proba, classes),
                                  check_exact=False, rtol=1e-10)  # fmt: skip
    pd.testing.assert_frame_equal(reliability, ev.calibration_table(truth, proba, classes),
                                  check_exact=False, rtol=1e-10)  # fmt: skip


def test_the_scoring_table_gives_the_tables_the_patients_give():
    team = generate(600, seed=12, exam_missing_rate=0.2)
    methods = {"truth": team["pathway"], "rules": np.resize(["spinal", "emergency"], 600)}
    scored = scoring_table(team)
    pd.testing.assert_frame_equal(ev.evaluate_methods(methods, scored, n_boot=50),
                                  ev.evaluate_methods(methods, team, n_boot=50))  # fmt: skip
    pd.testing.assert_frame_equal(ev.safety_by_method(methods, scored, n_boot=50),
                                  ev.safety_by_method(methods, team, n_boot=50))  # fmt: skip


def test_compare_calls_in_batches_equals_one_batch():
    """The CLI triages a team's patients in batches (bounded memory); the calls must be those
    of the same pipeline triaging them all at once (one batch of every patient)."""
    team = generate(700, seed=11, setting="sports_clinic", exam_missing_rate=0.3)
    calls = pd.DataFrame({"pathway": team["pathway"]})
    expected = compare_calls(team, calls, n_train=1500, seed=2, batch_rows=len(team))
    batched = compare_calls(team, calls, n_train=1500, seed=2, batch_rows=128)
    assert list(batched) == list(expected)
    for name in expected:
        assert batched[name].tolist() == list(expected[name]), name


def test_cli_bad_input_is_one_line_exit_2_and_no_output(tmp_path, capsys, good):
    bad = write(tmp_path, good.assign(pain_nrs=["14", *good["pain_nrs"][1:]]))
    calls = calls_file(tmp_path, good["patient_id"], ["hip"] * len(good))
    out = tmp_path / "metrics.csv"
    argv = ["evaluate", "--data", str(bad), "--predictions", str(calls), "--out", str(out)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "column 'pain_nrs': 1 row out of range 0–10 (row 1: 14)" in err[0]
    assert "Traceback" not in err[0] and not out.exists()


def test_data_dictionary_doc_is_current():
    doc = (ROOT / "docs" / "data_dictionary.md").read_text(encoding="utf-8")
    assert doc == data_dictionary_markdown(), "docs/data_dictionary.md is stale: make docs"


def test_demo_files_are_regenerated_identically(tmp_path):
    fresh = demo_files(tmp_path)
    for path in fresh:
        committed = ROOT / "data" / "synthetic" / path.name
        assert committed.read_bytes() == path.read_bytes(), f"{path.name}: make data"


def test_generated_cohorts_read_back_as_team_files(tmp_path):
    cohort = generate(500, seed=9, setting="sports_clinic", exam_missing_rate=0.4)
    path = tmp_path / "cohort.csv"
    cohort.to_csv(path, index=False)
    team = read_patients(path, require_truth=True)
    for column in ["age", "pain_nrs", "exam_fair_test", "setting", "pathway"]:
        assert (team[column].astype(str) == cohort[column].astype(str)).all(), column


def test_repeated_header_and_utf16_are_named(tmp_path, good):
    repeated = tmp_path / "repeated.csv"
    pd.concat([good, good[["age"]]], axis=1).to_csv(repeated, index=False)
    with pytest.raises(DataValidationError, match="column 'age' appears more than once"):
        read_patients(repeated)
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes(good.to_csv(index=False).encode("utf-16"))
    with pytest.raises(DataValidationError, match="it is UTF-16"):
        read_patients(utf16)


def test_a_utf8_byte_order_mark_is_accepted_in_both_files(tmp_path, capsys):
    """Excel's "CSV UTF-8" starts the file with a byte order mark (EF BB BF)."""
    demo = ROOT / "data" / "synthetic"
    patients, calls = tmp_path / "bom_patients.csv", tmp_path / "bom_calls.csv"
    for source, target in [("demo_patients.csv", patients), ("demo_predictions.csv", calls)]:
        target.write_bytes(b"\xef\xbb\xbf" + (demo / source).read_bytes())
    team = read_patients(patients, require_truth=True)
    pd.testing.assert_frame_equal(team, read_patients(demo / "demo_patients.csv"))
    assert team.columns[0] == "patient_id"
    expected = read_predictions(demo / "demo_predictions.csv", team)
    pd.testing.assert_frame_equal(read_predictions(calls, team), expected)
    argv = ["evaluate", "--data", str(patients), "--predictions", str(calls), "--n-train", "200",
            "--n-boot", "10"]  # fmt: skip
    assert cli.main(argv) == 0
    assert "your triage" in capsys.readouterr().out


def test_evaluate_leaves_only_the_companion_files_of_this_run(tmp_path, capsys):
    """Re-run without probabilities, ``--out m.csv`` must not leave the Brier and reliability
    files of an earlier run with probabilities beside the new tables."""
    patients, calls = demo_files(tmp_path, n=120)
    plain = tmp_path / "plain.csv"
    pd.read_csv(calls)[["patient_id", "pathway"]].to_csv(plain, index=False)
    out = tmp_path / "out" / "m.csv"
    argv = ["evaluate", "--data", str(patients), "--n-train", "200", "--n-boot", "10",
            "--out", str(out), "--predictions"]  # fmt: skip
    assert cli.main([*argv, str(calls)]) == 0
    # .outcomes-written.json records what the suite wrote: clean-up removes only those files.
    names = [WRITTEN_RECORD, "m.csv", "m_brier.csv", "m_reliability.csv", "m_safety.csv"]
    assert sorted(p.name for p in out.parent.iterdir()) == names
    capsys.readouterr()
    assert cli.main([*argv, str(plain)]) == 0
    assert sorted(p.name for p in out.parent.iterdir()) == [WRITTEN_RECORD, "m.csv", "m_safety.csv"]
    assert "Brier" not in capsys.readouterr().out
    assert cli.main([*argv, str(calls)]) == 0
    assert sorted(p.name for p in out.parent.iterdir()) == names


def test_chronic_is_derived_when_empty_and_must_agree_with_the_duration(tmp_path, good):
    """``chronic`` is optional: an empty cell is derived from the symptom duration like an
    absent column (more than the knowledge base's threshold of weeks); a given flag that
    contradicts the duration is an error naming the rows."""
    threshold = int(load_knowledge().shared["chronic_threshold_weeks"])
    frame = good.copy()
    frame.loc[[0, 1], "symptom_duration_weeks"] = [str(threshold + 8), str(threshold)]
    frame.loc[[0, 1], "chronic"] = ""
    patients = read_patients(write(tmp_path, frame))
    assert patients["chronic"].tolist()[:2] == [True, False]
    assert patients["chronic"].dtype == bool
    absent = read_patients(write(tmp_path, frame.drop(columns=["chronic"]), "absent.csv"))
    pd.testing.assert_series_equal(absent["chronic"], patients["chronic"])

    frame.loc[[2, 5], "symptom_duration_weeks"] = ["1", str(threshold + 18)]
    frame.loc[[2, 5], "chronic"] = ["True", "no"]
    with pytest.raises(DataValidationError) as info:
        read_patients(write(tmp_path, frame))
    assert first_line(info) == (
        "mine.csv: column 'chronic': 2 rows contradict column 'symptom_duration_weeks' "
        f"(chronic means more than {threshold} weeks) (rows 3, 6: 'True' with 1 week, 'no' "
        f"with {threshold + 18} weeks)"
    )
    # A duration that is wrong itself is named once, in its own column.
    frame.loc[[2, 5], "chronic"] = ["", ""]
    frame.loc[2, "symptom_duration_weeks"] = "soon"
    with pytest.raises(DataValidationError) as info:
        read_patients(write(tmp_path, frame))
    assert str(info.value) == ("mine.csv: column 'symptom_duration_weeks': 1 row not a whole "
                               "number (row 3: 'soon')")  # fmt: skip


def test_the_data_dictionary_says_how_chronic_is_read():
    row = userdata.data_dictionary().set_index("column").loc["chronic"]
    assert row["role"] == "optional"
    assert "empty = derived from symptom_duration_weeks" in row["allowed values"]
    assert "must agree with symptom_duration_weeks" in row["meaning"]


def test_the_pathway_is_filled_from_the_confirmed_condition(tmp_path, good):
    """With the confirmed condition and no pathway (column absent or cell empty), the
    pathway is the one the knowledge base gives the condition."""
    pathway_of = load_knowledge().pathway_of()
    assert (good["pathway"] == good["condition"].map(pathway_of)).all()
    expected = read_patients(write(tmp_path, good, "both.csv"), require_truth=True)["pathway"]
    only_condition = write(tmp_path, good.drop(columns=["pathway"]))
    pd.testing.assert_series_equal(read_patients(only_condition, require_truth=True)["pathway"],
                                   expected)  # fmt: skip
    some_empty = good.copy()
    some_empty.loc[[0, 7], "pathway"] = ""
    filled = read_patients(write(tmp_path, some_empty), require_truth=True)["pathway"]
    pd.testing.assert_series_equal(filled, expected)
    # Neither known: the rows are named.
    neither = good.drop(columns=["pathway"])
    neither.loc[[2, 3], "condition"] = ""
    read_patients(write(tmp_path, neither))  # the truth is optional unless evaluating
    with pytest.raises(DataValidationError) as info:
        read_patients(write(tmp_path, neither), require_truth=True)
    assert first_line(info) == (
        "mine.csv: column 'condition': 2 rows empty (there is no 'pathway' column: the "
        "confirmed pathway comes from the condition) (rows 3, 4)"
    )
    both_empty = some_empty.copy()
    both_empty.loc[7, "condition"] = ""
    with pytest.raises(DataValidationError) as info:
        read_patients(write(tmp_path, both_empty))
    assert first_line(info) == (
        "mine.csv: column 'pathway': 1 row empty (the confirmed pathway), and so is column "
        "'condition' (row 8)"
    )
    with pytest.raises(DataValidationError, match="missing column 'pathway'.*or 'condition'"):
        read_patients(write(tmp_path, good.drop(columns=["pathway", "condition"])),
                      require_truth=True)  # fmt: skip


def test_typed_parquet_and_csv_text_give_the_same_table_and_the_same_messages(tmp_path):
    """Parquet numbers and booleans are checked without going through text; the verdicts
    must be those of the same cells written as CSV."""
    hidden = ["condition", "secondary_condition", "latent_severity"]
    cohort = generate(200, seed=4, exam_missing_rate=0.3)
    cohort.to_parquet(tmp_path / "good.parquet")
    cohort.to_csv(tmp_path / "good.csv", index=False)
    typed = read_patients(tmp_path / "good.parquet", require=hidden)
    pd.testing.assert_frame_equal(typed, read_patients(tmp_path / "good.csv", require=hidden))
    assert typed["latent_severity"].dtype == float and typed["chronic"].dtype == bool
    bad = cohort.astype({"pain_nrs": float, "pain_low_back": "boolean", "age": float})
    bad.loc[[1, 2], "pain_nrs"] = [np.nan, 3.5]
    bad.loc[3, "pain_low_back"] = pd.NA
    bad.loc[4, "age"] = 120.0
    bad.loc[[5, 6], "latent_severity"] = [1.5, np.nan]
    bad.loc[7, "chronic"] = not cohort.loc[7, "chronic"]
    bad.to_parquet(tmp_path / "bad.parquet")
    bad.to_csv(tmp_path / "bad.csv", index=False)
    messages = []
    for name in ["bad.parquet", "bad.csv"]:
        with pytest.raises(DataValidationError) as info:
            read_patients(tmp_path / name, require=hidden)
        messages.append([p.replace(name, "FILE") for p in info.value.problems])

    # The same problems and rows; the values are shown as each file holds them (120 / 120.0).
    def unvalued(problems):
        return [re.sub(r"(rows? [\d, ]+): .*\)$", r"\1)", p) for p in problems]

    assert unvalued(messages[0]) == unvalued(messages[1])
    weeks = cohort.loc[7, "symptom_duration_weeks"]
    assert set(messages[0]) == {
        "FILE: column 'age': 1 row out of range 18–110 (row 5: 120)",
        "FILE: column 'pain_low_back': 1 row not yes/no (true/false, 1/0, yes/no; this finding "
        "is required) (row 4: '')",
        "FILE: column 'pain_nrs': 1 row not a whole number (row 3: '3.5')",
        "FILE: column 'pain_nrs': 1 row empty (a value is required) (row 2)",
        "FILE: column 'latent_severity': 1 row empty (a value is required) (row 7)",
        "FILE: column 'latent_severity': 1 row out of range 0–1 (row 6: 1.5)",
        "FILE: column 'chronic': 1 row contradict column 'symptom_duration_weeks' (chronic "
        f"means more than 12 weeks) (row 8: {str(bad.loc[7, 'chronic']).lower()!r} with {weeks} "
        "weeks)",
    }


def test_scoring_table_keeps_only_the_knowledge_bases_red_flags():
    from outcomes.analysis.userdata import scoring_table
    from outcomes.knowledge.red_flags import red_flag_columns

    patients = generate(50, seed=4).assign(rf_comment="no")
    table = scoring_table(patients)
    assert list(table.columns) == ["pathway", *red_flag_columns()]
    assert table.index.equals(patients.index)
