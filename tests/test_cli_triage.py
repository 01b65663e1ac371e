"""`outcomes triage` with learned models: prints the model's table, saves a model that loads."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from outcomes import cli
from outcomes import evaluate as ev
from outcomes.cohort import feature_columns, generate
from outcomes.models import fit_model, load_model


@pytest.fixture(scope="module")
def cohorts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("triage")
    train, test = generate(1500, seed=71), generate(600, seed=72)
    train.to_parquet(folder / "train.parquet")
    test.to_parquet(folder / "test.parquet")
    return folder, train, test


@pytest.mark.parametrize("model", ["logistic", "boosted"])
def test_learned_model_prints_its_metrics_and_saves_a_model_that_loads(cohorts, model, capsys):
    folder, train, test = cohorts
    saved, table = folder / f"{model}.skops", folder / f"{model}.csv"
    argv = ["triage", "--model", model, "--train", str(folder / "train.parquet"), "--test",
            str(folder / "test.parquet"), "--n-boot", "50", "--seed", "3",
            "--out", str(table), "--save-model", str(saved)]  # fmt: skip
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert f"saved model to {saved}" in printed

    # The command fits the same model as the library with the same seed.
    expected = fit_model(model, train, seed=3)
    X = test[feature_columns()]
    loaded = load_model(saved)
    np.testing.assert_array_equal(loaded.predict_proba(X), expected.predict_proba(X))

    # The printed and written accuracy are that model's on the test cohort.
    written = pd.read_csv(table)
    assert set(written["method"]) == {model}
    accuracy = (expected.predict(X) == test["pathway"].astype(str).to_numpy()).mean()
    row = written[(written.metric == "accuracy") & (written.pathway == "all")].iloc[0]
    assert row.estimate == pytest.approx(accuracy)
    line = next(ln for ln in printed.splitlines() if ln.startswith("accuracy "))
    assert line.split()[1] == f"{accuracy:.2f}"
    expected_table = ev.metric_table(test["pathway"], expected.predict(X), n_boot=50, seed=3)
    pd.testing.assert_frame_equal(written.drop(columns="method"), expected_table,
                                  check_dtype=False)  # fmt: skip


@pytest.mark.parametrize("model", ["rules", "oracle"])
def test_saving_a_method_that_learns_nothing_is_a_clear_error_and_writes_nothing(
    cohorts, model, capsys
):
    folder, _, _ = cohorts
    saved = folder / f"{model}.skops"
    argv = ["triage", "--model", model, "--test", str(folder / "test.parquet"), "--n-boot", "20",
            "--save-model", str(saved)]  # fmt: skip
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "only a fitted logistic or boosted model" in err
    assert not saved.exists()
