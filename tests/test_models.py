"""Learned triage models: raw-table pipelines, no label leakage, calibration, safe files."""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest

from outcomes.cohort import feature_columns, generate
from outcomes.models import (
    MODEL_NAMES,
    ModelFileError,
    fit_model,
    load_model,
    make_model,
    save_model,
    tune_model,
)
from outcomes.oracle import BayesOracle


@pytest.fixture(scope="module")
def train():
    return generate(6000, seed=11)


@pytest.fixture(scope="module")
def test_cohort():
    return generate(6000, seed=12)


@pytest.fixture(scope="module", params=MODEL_NAMES)
def fitted(request, train):
    return request.param, fit_model(request.param, train)


def test_models_take_the_raw_table_with_missing_findings_and_unseen_categories(fitted):
    _, model = fitted
    patients = generate(200, seed=3, exam_missing_rate=1.0)
    X = patients[feature_columns()].copy()
    assert X["exam_fair_test"].isna().all()
    X["occupation"] = X["occupation"].cat.add_categories(["astronaut"])
    X.loc[X.index[:5], "occupation"] = "astronaut"
    proba = model.predict_proba(X)
    assert proba.shape == (200, 5)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(model.predict(X)) <= set(model.classes_)


def test_inputs_are_not_modified(fitted, test_cohort):
    _, model = fitted
    X = test_cohort[feature_columns()].head(500)
    before = X.copy()
    model.predict_proba(X)
    pd.testing.assert_frame_equal(X, before)


def test_same_seed_gives_the_same_model(train, test_cohort):
    X = test_cohort[feature_columns()].head(1000)
    a = fit_model("boosted", train.head(3000), seed=4).predict_proba(X)
    b = fit_model("boosted", train.head(3000), seed=4).predict_proba(X)
    np.testing.assert_array_equal(a, b)


def test_shuffled_labels_teach_nothing(train, test_cohort):
    # With the labels permuted the features carry no information, so accuracy falls to the
    # share of the commonest pathway (within sampling error): the encoding leaks no label.
    shuffled = train.copy()
    rng = np.random.default_rng(0)
    shuffled["pathway"] = rng.permutation(shuffled["pathway"].to_numpy())
    model = fit_model("logistic", shuffled)
    truth = test_cohort["pathway"].astype(str).to_numpy()
    accuracy = (model.predict(test_cohort[feature_columns()]) == truth).mean()
    base = pd.Series(truth).value_counts(normalize=True).iloc[0]
    se = np.sqrt(base * (1 - base) / len(truth))
    assert accuracy <= base + 4 * se


def test_probabilities_are_calibrated(fitted, test_cohort):
    # Reliability of the top-class probability: in each decile of confidence with enough
    # patients, the share correct matches the mean confidence within 4 binomial SEs (+0.01
    # for the spread of confidence inside a bin).
    _, model = fitted
    truth = test_cohort["pathway"].astype(str).to_numpy()
    proba = model.predict_proba(test_cohort[feature_columns()])
    confidence = proba.max(axis=1)
    correct = model.classes_[proba.argmax(axis=1)] == truth
    bins = np.minimum((confidence * 10).astype(int), 9)
    for b in np.unique(bins):
        inside = bins == b
        if inside.sum() < 100:
            continue
        p = confidence[inside].mean()
        se = np.sqrt(p * (1 - p) / inside.sum())
        assert abs(correct[inside].mean() - p) <= 4 * se + 0.01, (b, inside.sum())


def test_models_approach_the_oracle(fitted, train, test_cohort):
    name, model = fitted
    truth = test_cohort["pathway"].astype(str).to_numpy()
    X = test_cohort[feature_columns()]
    model_right = model.predict(X) == truth
    oracle_right = BayesOracle().fit(train).predict(X) == truth
    # Paired: the difference's SE comes from the discordant patients.
    diff = model_right.astype(float) - oracle_right
    se = diff.std(ddof=1) / np.sqrt(len(diff))
    assert model_right.mean() <= oracle_right.mean() + 4 * se, "a model beat the oracle"
    assert model_right.mean() >= 0.95 * oracle_right.mean(), name


@pytest.mark.slow
def test_boosted_reaches_97_percent_of_the_oracle_with_20000_training_patients():
    train, test = generate(20_000, seed=21), generate(20_000, seed=22)
    truth = test["pathway"].astype(str).to_numpy()
    X = test[feature_columns()]
    boosted = fit_model("boosted", train).predict(X) == truth
    oracle = BayesOracle().fit(train).predict(X) == truth
    ratio = boosted.mean() / oracle.mean()
    # One-sided: the ratio must not be below 0.97 beyond sampling error of the paired gap.
    se = (boosted.astype(float) - oracle).std(ddof=1) / np.sqrt(len(truth)) / oracle.mean()
    assert ratio >= 0.97 - 2 * se, ratio


def test_tuning_searches_the_grid_with_fixed_folds(train):
    search = tune_model("logistic", train.head(1500), seed=1)
    assert len(search.cv_results_["params"]) == 4
    again = tune_model("logistic", train.head(1500), seed=1)
    np.testing.assert_array_equal(
        search.cv_results_["mean_test_score"], again.cv_results_["mean_test_score"]
    )


def test_calibrated_variant_is_available(train, test_cohort):
    model = fit_model("logistic", train.head(2000), calibrate=True)
    assert type(model).__name__ == "CalibratedClassifierCV"
    np.testing.assert_allclose(
        model.predict_proba(test_cohort[feature_columns()].head(50)).sum(axis=1), 1.0
    )


def test_unknown_model_and_incomplete_table_are_clear_errors(train):
    with pytest.raises(ValueError, match="model 'forest' is unknown"):
        make_model("forest")
    with pytest.raises(ValueError, match="lacks column"):
        fit_model("logistic", train.drop(columns=["pathway"]))


def test_saved_model_round_trips(fitted, tmp_path, test_cohort):
    _, model = fitted
    path = save_model(model, tmp_path / "m.skops")
    X = test_cohort[feature_columns()].head(300)
    np.testing.assert_array_equal(load_model(path).predict_proba(X), model.predict_proba(X))


def test_tampered_or_foreign_files_are_rejected(fitted, tmp_path):
    _, model = fitted
    path = save_model(model, tmp_path / "m.skops")

    junk = tmp_path / "junk.skops"
    junk.write_bytes(b"\x89PNG not a model at all")
    with pytest.raises(ModelFileError, match="not a model file"):
        load_model(junk)

    with pytest.raises(ModelFileError, match="no such model file"):
        load_model(tmp_path / "absent.skops")

    # A file whose schema names a type outside the allow-list is refused before loading.
    tampered = tmp_path / "tampered.skops"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tampered, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "schema.json":
                data = data.replace(b'"__module__": "sklearn.', b'"__module__": "os.', 1)
            dst.writestr(item, data)
    with pytest.raises(ModelFileError, match="outside the allow-list|could not be loaded"):
        load_model(tampered)

    # Corrupt bytes inside a valid-looking archive.
    truncated = tmp_path / "truncated.skops"
    truncated.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(ModelFileError):
        load_model(truncated)


def test_no_pickle_anywhere_in_the_package():
    import pathlib

    import outcomes

    source = pathlib.Path(outcomes.__file__).parent
    for module in source.rglob("*.py"):
        text = module.read_text(encoding="utf-8")
        assert "import pickle" not in text and "joblib.load" not in text, module.name


@pytest.mark.parametrize("n", [50, 999])
def test_boosted_trains_on_small_sets_where_a_pathway_has_one_patient(n):
    patients = generate(n, seed=3)
    model = fit_model("boosted", patients)
    assert model.predict(patients[feature_columns()]).shape == (n,)
