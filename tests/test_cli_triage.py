"""`outcomes triage` with learned models: prints the model's table, saves a model that loads."""

from __future__ import annotations

import pandas as pd
import pytest

from outcomes.analysis import evaluate as ev
from outcomes.engine.cohort import feature_columns, generate
from outcomes.faces import cli
from outcomes.triage.model_files import load_model
from outcomes.triage.models import fit_model


@pytest.fixture(scope="module")
def cohorts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("triage")
    train, test = generate(1500, seed=71), generate(600, seed=72)
    train.to_parquet(folder / "train.parquet")
    test.to_parquet(folder / "test.parquet")
    return folder, train, test


@pytest.mark.parametrize("model", ["logistic", "boosted"])
def test_learned_model_prints_its_metrics_and_saves_a_model_that_loads(cohorts, model, capsys):
    folder, _, test = cohorts
    saved, table = folder / f"{model}.skops", folder / f"{model}.csv"
    argv = ["triage", "--model", model, "--train", str(folder / "train.parquet"), "--test",
            str(folder / "test.parquet"), "--n-boot", "50", "--seed", "3",
            "--out", str(table), "--save-model", str(saved)]  # fmt: skip
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert f"saved model to {saved}" in printed

    # The saved model is the one the command evaluated: its predictions on the test cohort
    # give exactly the table printed and written (same bootstrap seed).
    loaded = load_model(saved)
    assert loaded.predict(test[feature_columns()]).shape == (len(test),)
    predicted = loaded.predict(test[feature_columns()])
    expected_table = ev.metric_table(test["pathway"], predicted, n_boot=50, seed=3)
    written = pd.read_csv(table)
    assert set(written["method"]) == {model}
    pd.testing.assert_frame_equal(written.drop(columns="method"), expected_table,
                                  check_dtype=False)  # fmt: skip
    accuracy = (predicted == test["pathway"].astype(str).to_numpy()).mean()
    line = next(ln for ln in printed.splitlines() if ln.startswith("accuracy "))
    assert line.split()[1] == f"{accuracy:.2f}"
    # The command fits what the library fits: a recalibrated boosted model, a bare logistic one.
    assert type(loaded).__name__ == {"boosted": "FoldRecalibrated", "logistic": "Pipeline"}[model]


@pytest.mark.parametrize("model", ["rules", "oracle"])
def test_saving_a_method_that_learns_nothing_is_a_clear_error_and_writes_nothing(
    cohorts, model, capsys
):
    folder, _, _ = cohorts
    saved, table = folder / f"{model}.skops", folder / f"{model}_metrics.csv"
    argv = ["triage", "--model", model, "--test", str(folder / "test.parquet"), "--n-boot", "20",
            "--out", str(table), "--save-model", str(saved)]  # fmt: skip
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and "only a fitted logistic or boosted model" in err
    assert f"--model {model}" in err
    # Refused before any work: no table printed, neither file written.
    assert captured.out == ""
    assert not saved.exists() and not table.exists()


def test_oracle_of_a_generated_file_uses_the_overrides_it_was_generated_with(tmp_path):
    # A cohort generated with another case mix has another ceiling: the command's oracle must
    # read the file's recorded overrides, not fall back to the setting's own case mix.
    from outcomes.triage.oracle import BayesOracle

    mix = {
        "disc_herniation": 0.2,
        "spinal_stenosis": 0.0,
        "piriformis_syndrome": 0.4,
        "hamstring_tightness": 0.4,
        "upper_limb_nerve": 0.0,
        "serious_pathology": 0.0,
    }
    path = tmp_path / "mix.parquet"
    overrides = ["--overrides", f'{{"case_mix": {__import__("json").dumps(mix)}}}']
    assert cli.main(["generate", "--n", "3000", "--seed", "5", "--out", str(path), *overrides]) == 0
    table = tmp_path / "oracle.csv"
    argv = ["triage", "--model", "oracle", "--test", str(path), "--n-boot", "20", "--seed", "1",
            "--out", str(table)]  # fmt: skip
    assert cli.main(argv) == 0
    written = pd.read_csv(table).drop(columns="method")

    patients = generate(3000, seed=5, case_mix=mix)
    right = BayesOracle(overrides={"case_mix": mix}).fit(patients).predict(patients)
    setting_prior = BayesOracle(overrides={}).fit(patients).predict(patients)
    assert (right != setting_prior).any(), "the two priors must disagree on someone"
    expected = ev.metric_table(patients["pathway"], right, n_boot=20, seed=1)
    pd.testing.assert_frame_equal(written, expected, check_dtype=False)


def test_a_method_that_misses_red_flag_emergencies_the_rules_catch_is_warned_about(cohorts, capsys):
    from outcomes.triage.rules import RulesTriage

    folder, train, test = cohorts
    small = folder / "small_train.parquet"
    train.iloc[:300].to_parquet(small)  # few training emergencies: the model misses some
    argv = ["triage", "--model", "boosted", "--train", str(small), "--test",
            str(folder / "test.parquet"), "--n-boot", "20", "--seed", "3"]  # fmt: skip
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    model = fit_model("boosted", train.iloc[:300], seed=3)
    rules = RulesTriage().fit(test[feature_columns()]).predict(test[feature_columns()])
    misses = ev.red_flag_misses(
        test["pathway"], model.predict(test[feature_columns()]), test, rules
    )
    assert misses["rules_caught"] > 0, "the fixture no longer exercises the warning"
    assert (
        f"warning: boosted sent {misses['missed']} of {misses['emergencies_flagged']} "
        "emergencies with a red flag on record down a routine pathway"
    ) in printed.replace("\n", " ")
    # The rules themselves (which catch every recorded red flag) get no warning.
    assert cli.main(["triage", "--model", "rules", "--test", str(folder / "test.parquet"),
                     "--n-boot", "20"]) == 0  # fmt: skip
    assert "warning:" not in capsys.readouterr().out
