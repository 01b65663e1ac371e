"""Out-of-core scoring on Dask: the same tables as the in-memory path, predictions written."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from outcomes.analysis import evaluate as ev
from outcomes.analysis.scoring import fit_on_head, predictions_folder, score_partitioned
from outcomes.engine.cohort import feature_columns, write_cohort
from outcomes.engine.partitioned import write_partitioned
from outcomes.faces import cli

N, SEED, CHUNK = 12_000, 21, 5_000
# Overrides the oracle must read from the cohort (a case mix away from the setting's).
OVERRIDES = {"exam_missing_rate": 0.3, "case_mix": {"disc_herniation": 0.5,
             "serious_pathology": 0.1, "piriformis_syndrome": 0.4}}  # fmt: skip


@pytest.fixture(scope="module")
def cohorts(tmp_path_factory):
    root = tmp_path_factory.mktemp("scoring")
    folder, single = root / "big", root / "big.parquet"
    write_partitioned(folder, N, SEED, chunk_size=CHUNK, **OVERRIDES)
    write_cohort(single, N, SEED, **OVERRIDES)
    return folder, single


def _table(path) -> pd.DataFrame:
    return pd.read_csv(path)


@pytest.mark.parametrize("model", ["rules", "oracle"])
def test_cli_dask_engine_gives_the_in_memory_metric_table(cohorts, tmp_path, capsys, model):
    folder, single = cohorts
    memory, dask = tmp_path / "memory.csv", tmp_path / "dask.csv"
    common = ["triage", "--model", model, "--n-boot", "200", "--seed", "3"]
    assert cli.main([*common, "--test", str(single), "--out", str(memory)]) == 0
    printed_memory = capsys.readouterr().out
    preds = tmp_path / "preds"
    assert cli.main([*common, "--engine", "dask", "--test", f"{folder}/", "--out", str(dask),
                     "--predictions", str(preds)]) == 0  # fmt: skip
    printed_dask = capsys.readouterr().out
    pd.testing.assert_frame_equal(_table(dask), _table(memory))

    # The printed metric and safety tables too: only the heading, the files written and the
    # in-memory path's warning about red-flag emergencies (checked in test_cli_triage) differ.
    def tables(text: str) -> list[str]:
        lines = [line for line in text.splitlines()[1:] if line.strip()]
        return [line for line in lines if not line.startswith(("wrote", "warning"))]

    assert tables(printed_dask) == tables(printed_memory)
    written = pd.read_parquet(preds)
    patients = pd.read_parquet(single)
    method = fit_on_head(model, folder)
    assert list(written.columns) == ["patient_id", "pathway"]
    assert (written["patient_id"].to_numpy() == patients["patient_id"].to_numpy()).all()
    expected = np.asarray(method.predict(patients[feature_columns()]), dtype=object)
    assert (written["pathway"].astype(str).to_numpy() == expected).all()


def test_a_saved_model_scores_a_partitioned_cohort_as_in_memory(cohorts, tmp_path, capsys):
    folder, single = cohorts
    train = write_cohort(tmp_path / "train.parquet", 3000, seed=2)
    saved = tmp_path / "m.skops"
    memory, dask = tmp_path / "memory.csv", tmp_path / "dask.csv"
    assert cli.main(["triage", "--model", "logistic", "--train", str(train), "--test",
                     str(single), "--n-boot", "100", "--save-model", str(saved), "--out",
                     str(memory)]) == 0  # fmt: skip
    assert cli.main(["triage", "--engine", "dask", "--model", "logistic", "--load-model",
                     str(saved), "--test", str(folder), "--n-boot", "100", "--out",
                     str(dask)]) == 0  # fmt: skip
    pd.testing.assert_frame_equal(_table(dask), _table(memory))
    assert predictions_folder(folder, "logistic").is_dir()


def test_safety_table_and_bootstrap_intervals_equal_the_in_memory_ones(cohorts):
    folder, single = cohorts
    patients = pd.read_parquet(single)
    rules = fit_on_head("rules", folder)
    result = score_partitioned(folder, rules, n_boot=300, seed=9)
    predicted = rules.predict(patients[feature_columns()])
    pd.testing.assert_frame_equal(
        result.safety, ev.safety_table(patients["pathway"], predicted, patients=patients,
                                       n_boot=300, seed=9))  # fmt: skip
    assert result.n == N and result.predictions is None
    boot = ev.metric_table(patients["pathway"], predicted, n_boot=300, seed=9,
                           per_pathway_interval="bootstrap")  # fmt: skip
    labels = ev.pathway_labels(None)
    point = pd.crosstab(pd.Categorical(patients["pathway"].astype(str), labels),
                        pd.Categorical(predicted, labels), dropna=False)  # fmt: skip
    pd.testing.assert_frame_equal(
        ev.metric_table_from_confusion(point.to_numpy(), n_boot=300, seed=9,
                                       per_pathway_interval="bootstrap"), boot)  # fmt: skip


def test_dask_engine_errors_are_one_line(cohorts, tmp_path, capsys):
    folder, single = cohorts
    assert cli.main(["triage", "--engine", "dask", "--model", "rules", "--test",
                     str(single)]) == 2  # fmt: skip
    assert "is not a partitioned cohort" in capsys.readouterr().err
    assert cli.main(["triage", "--model", "rules", "--test", str(single), "--predictions",
                     str(tmp_path / "p")]) == 2  # fmt: skip
    assert "add --engine dask" in capsys.readouterr().err
    assert cli.main(["triage", "--engine", "dask", "--model", "boosted", "--test",
                     str(folder)]) == 2  # fmt: skip
    assert "needs --train" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()
