"""Learned triage models: raw-table pipelines, no label leakage, calibration, safe files."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from outcomes.analysis import evaluate as ev
from outcomes.engine.cohort import feature_columns, generate
from outcomes.knowledge import load_knowledge
from outcomes.triage.model_files import (
    INTEGRITY_FORMAT,
    INTEGRITY_MEMBER,
    ModelFileError,
    load_model,
    save_model,
)
from outcomes.triage.models import (
    DEFAULT_PARAMS,
    MODEL_NAMES,
    TUNED_ON,
    TUNING_GRID,
    fit_model,
    make_model,
    tune_model,
)
from outcomes.triage.oracle import BayesOracle


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
    # Recalibrated by default (every pathway has >= 10 of the 3,000 patients).
    a = fit_model("boosted", train.head(3000), seed=4)
    assert type(a).__name__ == "FoldRecalibrated"
    b = fit_model("boosted", train.head(3000), seed=4)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


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


def _reliability(model, patients) -> pd.DataFrame:
    proba = model.predict_proba(patients[feature_columns()])
    return ev.calibration_check(patients["pathway"], proba, list(model.classes_))


def test_probabilities_are_calibrated_one_pathway_at_a_time(fitted, test_cohort):
    # One-vs-rest, emergency first, in the bins of ev.RELIABILITY_EDGES (fine near 0, where
    # the emergency pathway's least-cost threshold lies): in every bin, the patients who truly
    # belong to the pathway must match the number the probabilities promise, by an exact
    # binomial test at the bin's mean probability. ev.CALIBRATION_ALPHA = 1e-4 per bin is
    # about 4 binomial SEs; over the ~55 bins a calibrated model fails by chance with
    # probability < 0.6%.
    name, model = fitted
    check = _reliability(model, test_cohort)
    assert check["pathway"].iloc[0] == "emergency"
    assert set(check["pathway"]) == set(model.classes_)
    worst = check.loc[check["p_value"].idxmin()]
    assert worst["p_value"] >= ev.CALIBRATION_ALPHA, (name, worst.to_dict())


def test_the_check_catches_the_bare_boosted_model_that_needed_fixing(train, test_cohort):
    # Without the leaf penalty and the recalibration, boosting pushes the emergency
    # probability of unflagged patients towards 0: the check must see it (proof it can fail).
    bare = make_model("boosted", calibrate=False, params={"l2_regularization": 0.0})
    bare.fit(train[feature_columns()], train["pathway"].astype(str))
    check = _reliability(bare, test_cohort)
    flagged = check[check["p_value"] < ev.CALIBRATION_ALPHA]
    assert "emergency" in set(flagged["pathway"])
    low = flagged[flagged["pathway"] == "emergency"].iloc[0]
    assert low["observed"] > 3 * low["mean_predicted"]  # several times more than promised


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


@pytest.fixture(scope="module")
def boosted_20000():
    """The deployed boosted model trained on 20,000 primary-care patients, and 20,000 others."""
    train, test = generate(20_000, seed=21), generate(20_000, seed=22)
    return fit_model("boosted", train), train, test


def test_boosted_reaches_97_percent_of_the_oracle_with_20000_training_patients(boosted_20000):
    model, train, test = boosted_20000
    truth = test["pathway"].astype(str).to_numpy()
    X = test[feature_columns()]
    boosted = model.predict(X) == truth
    oracle = BayesOracle().fit(train).predict(X) == truth
    ratio = boosted.mean() / oracle.mean()
    # The requirement itself, on the point estimate: no allowance is subtracted. Sampling
    # error cannot make this flaky: the paired SE of the ratio is sd(boosted - oracle) /
    # sqrt(n) / oracle accuracy, about 0.0015 here, while the measured ratio (~0.99) clears
    # 0.97 by more than ten SEs; and a ratio above 1 beyond 4 SEs would mean a model beat the
    # Bayes ceiling, which is checked too.
    se = (boosted.astype(float) - oracle).std(ddof=1) / np.sqrt(len(truth)) / oracle.mean()
    assert ratio >= 0.97, (ratio, se)
    assert ratio <= 1 + 4 * se, (ratio, se)


def test_boosted_with_20000_training_patients_is_calibrated_one_pathway_at_a_time(
    boosted_20000,
):
    # The audit's setting (20,000 trained, 20,000 tested), where the unfixed model promised
    # 0.024 but saw 0.144 emergencies in one bin; same test as for the 6,000-patient fixture.
    model, _, test = boosted_20000
    check = _reliability(model, test)
    worst = check.loc[check["p_value"].idxmin()]
    assert worst["p_value"] >= ev.CALIBRATION_ALPHA, worst.to_dict()


def test_tuning_searches_the_grid_with_fixed_folds_by_log_loss(train):
    search = tune_model("logistic", train.head(1500), seed=1)
    assert len(search.cv_results_["params"]) == len(TUNING_GRID["logistic"]["C"])
    assert search.scoring == "neg_log_loss"
    again = tune_model("logistic", train.head(1500), seed=1)
    np.testing.assert_array_equal(
        search.cv_results_["mean_test_score"], again.cv_results_["mean_test_score"]
    )
    best = int(np.argmax(search.cv_results_["mean_test_score"]))
    assert search.best_params_ == search.cv_results_["params"][best]


@pytest.mark.slow
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_tuning_on_the_stated_data_selects_the_default_parameters(name):
    # DEFAULT_PARAMS claim to be tune_model's choice on TUNED_ON; re-run it (the boosted
    # search fits the recalibrated pipeline 8 x 3 times, 3 copies each: minutes, hence slow).
    search = tune_model(name, generate(TUNED_ON["n"], seed=TUNED_ON["seed"],
                                       setting=TUNED_ON["setting"]), seed=0)  # fmt: skip
    chosen = {k.split("__")[-1]: v for k, v in search.best_params_.items()}
    assert chosen == {k: DEFAULT_PARAMS[name][k] for k in chosen}
    assert set(chosen) == set(TUNING_GRID[name])


def test_recalibration_is_the_boosted_default_and_can_be_turned_off(train, test_cohort):
    X = test_cohort[feature_columns()].head(50)
    assert type(make_model("boosted")).__name__ == "FoldRecalibrated"
    assert type(make_model("logistic")).__name__ == "Pipeline"
    model = fit_model("logistic", train.head(2000), calibrate=True)
    assert type(model).__name__ == "FoldRecalibrated"
    np.testing.assert_allclose(model.predict_proba(X).sum(axis=1), 1.0)
    assert type(fit_model("logistic", train.head(2000), calibrate=False)).__name__ == "Pipeline"
    # Too few patients of a pathway to hold any out: the bare pipeline, whatever was asked.
    tiny = generate(300, seed=5)
    assert tiny["pathway"].value_counts().min() < 10
    assert type(fit_model("boosted", tiny, calibrate=True)).__name__ == "Pipeline"


def test_the_recalibrated_model_honours_the_scikit_learn_contract(fitted, train):
    from sklearn.base import clone, is_classifier
    from sklearn.exceptions import NotFittedError
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.utils.validation import check_is_fitted
    from threadpoolctl import threadpool_limits

    name, model = fitted
    attributes = ["classes_", "n_features_in_", "feature_names_in_"]
    check_is_fitted(model, attributes)
    assert model.n_features_in_ == len(feature_columns())
    assert list(model.feature_names_in_) == feature_columns()
    if name == "boosted":
        assert type(model).__name__ == "FoldRecalibrated"
        for copy in model.models_:  # the same as each fitted pipeline inside
            assert list(copy.feature_names_in_) == list(model.feature_names_in_)
        assert list(model.classes_) == list(model.models_[0].classes_)
    unfitted = make_model(name)
    assert is_classifier(unfitted)
    with pytest.raises(NotFittedError):
        check_is_fitted(unfitted)
    with pytest.raises(NotFittedError):
        check_is_fitted(clone(model))  # clone keeps hyper-parameters, not what was learned
    # Inside cross_val_score (clone, fit, score on each fold); a short boosting run keeps it
    # quick, and the deployed wrapper is the one evaluated.
    quick = make_model(name, params={"max_iter": 30} if name == "boosted" else None)
    assert type(quick) is type(unfitted)
    X, y = train[feature_columns()].head(2000), train["pathway"].astype(str).head(2000)
    folds = StratifiedKFold(n_splits=2, shuffle=True, random_state=0)
    with threadpool_limits(limits=1):
        scores = cross_val_score(quick, X, y, cv=folds)
    base = y.value_counts(normalize=True).iloc[0]
    assert scores.shape == (2,) and (scores > base + 0.1).all()


def test_unknown_model_and_incomplete_table_are_clear_errors(train):
    with pytest.raises(ValueError, match="model 'forest' is unknown"):
        make_model("forest")
    with pytest.raises(ValueError, match="lacks column"):
        fit_model("logistic", train.drop(columns=["pathway"]))


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    """Each fitted model saved once (saving the boosted trees takes seconds)."""
    name, model = fitted
    return name, model, save_model(model, tmp_path_factory.mktemp(name) / "m.skops")


def test_saved_model_round_trips(saved, test_cohort):
    _, model, path = saved
    X = test_cohort[feature_columns()].head(300)
    np.testing.assert_array_equal(load_model(path).predict_proba(X), model.predict_proba(X))


def test_tampered_or_foreign_files_are_rejected(saved, tmp_path):
    _, _, path = saved

    junk = tmp_path / "junk.skops"
    junk.write_bytes(b"\x89PNG not a model at all")
    with pytest.raises(ModelFileError, match="not a model file"):
        load_model(junk)

    with pytest.raises(ModelFileError, match="no such model file"):
        load_model(tmp_path / "absent.skops")

    # A file whose schema names a type outside the allow-list is refused before loading
    # (its digests rewritten to match, as whoever edits a file can do).
    tampered = _rewrite_schema(
        path, tmp_path / "tampered.skops", b'"__module__": "sklearn.', b'"__module__": "os.'
    )
    with pytest.raises(ModelFileError, match="outside the allow-list"):
        load_model(tampered)

    # Corrupt bytes inside a valid-looking archive.
    truncated = tmp_path / "truncated.skops"
    truncated.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(ModelFileError):
        load_model(truncated)


def _copy_archive(src_path, dst_path, edit=None, rerecord=False, drop=(), add=None):
    """Copy a model archive member by member. ``edit(name, data)`` returns a member's new
    bytes; ``rerecord`` rewrites the integrity record to match the copy (the documented
    format: anyone who edits a file can do it); ``drop`` leaves members out; ``add`` is a
    dict of extra members."""
    members = {}
    with zipfile.ZipFile(src_path) as src:
        infos = [i for i in src.infolist() if i.filename not in drop]
        for item in infos:
            data = src.read(item.filename)
            members[item.filename] = edit(item.filename, data) if edit else data
    members.update(add or {})
    if rerecord:
        digests = {n: hashlib.sha256(d).hexdigest() for n, d in members.items()
                   if n != INTEGRITY_MEMBER}  # fmt: skip
        members[INTEGRITY_MEMBER] = json.dumps({"format": INTEGRITY_FORMAT,
                                                "sha256": digests}).encode()  # fmt: skip
    with zipfile.ZipFile(dst_path, "w") as dst:
        for name, data in members.items():
            dst.writestr(name, data)
    return dst_path


def _rewrite_schema(src_path, dst_path, old: bytes, new: bytes, module: bytes | None = None):
    """Copy a model archive, replacing every ``old`` by ``new`` in its schema.json (and, with
    ``module``, the ``__module__`` that follows each), its digests rewritten to match."""

    def edit(name, data):
        if name != "schema.json":
            return data
        assert old in data, old
        parts = data.split(old)
        key = b'"__module__": "'
        for i in range(1, len(parts)):
            if module is not None:
                at = parts[i].index(key) + len(key)
                parts[i] = parts[i][:at] + module + parts[i][parts[i].index(b'"', at) :]
        return new.join(parts)

    return _copy_archive(src_path, dst_path, edit, rerecord=True)


def _coefficient_files(path) -> list[str]:
    """Archive members holding a LogisticRegression's ``coef_`` (the logistic model's own,
    or the boosted model's recalibrators')."""
    with zipfile.ZipFile(path) as archive:
        schema = json.loads(archive.read("schema.json"))
    found = []

    def walk(node):
        if isinstance(node, dict):
            coef = node.get("coef_")
            if isinstance(coef, dict) and "file" in coef:
                found.append(coef["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return found


def _negate(names):
    def edit(name, data):
        if name not in names:
            return data
        out = io.BytesIO()
        np.save(out, -np.load(io.BytesIO(data), allow_pickle=False), allow_pickle=False)
        return out.getvalue()

    return edit


def test_a_model_file_changed_after_saving_is_refused(saved, test_cohort, tmp_path):
    _, model, path = saved
    X = test_cohort[feature_columns()].head(300)
    coefficients = _coefficient_files(path)
    assert coefficients
    changed = "was changed after it was saved"

    # Changed weights (the logistic coefficients negated), digests left as saved.
    weights = _copy_archive(path, tmp_path / "weights.skops", _negate(coefficients))
    with pytest.raises(ModelFileError, match=f"{changed}: member .* differs from its recorded"):
        load_model(weights)

    # Changed digest: the record no longer matches the (untouched) member it names.
    def forge(name, data):
        if name != INTEGRITY_MEMBER:
            return data
        record = json.loads(data)
        first = sorted(record["sha256"])[0]
        record["sha256"][first] = hashlib.sha256(b"something else").hexdigest()
        return json.dumps(record).encode()

    digest = _copy_archive(path, tmp_path / "digest.skops", forge)
    with pytest.raises(ModelFileError, match=f"{changed}: member .* differs from its recorded"):
        load_model(digest)

    # A member added, a member removed, an unreadable record, bytes flipped in place.
    extra = _copy_archive(path, tmp_path / "extra.skops", add={"note.txt": b"hello"})
    with pytest.raises(ModelFileError, match=f"{changed}: member 'note.txt' was added"):
        load_model(extra)
    fewer = _copy_archive(path, tmp_path / "fewer.skops", drop=(coefficients[0],))
    with pytest.raises(ModelFileError, match=f"{changed}: member .* is missing"):
        load_model(fewer)
    garbled = _copy_archive(path, tmp_path / "garbled.skops",
                            lambda n, d: b"{not json" if n == INTEGRITY_MEMBER else d)  # fmt: skip
    with pytest.raises(ModelFileError, match=f"{changed}: its integrity record is unreadable"):
        load_model(garbled)
    flipped = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(coefficients[0])
    at = (
        info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + info.file_size - 1
    )
    flipped[at] ^= 0xFF  # the last byte of the member's stored data
    (tmp_path / "flipped.skops").write_bytes(bytes(flipped))
    with pytest.raises(ModelFileError, match=changed):
        load_model(tmp_path / "flipped.skops")

    # A file saved before digests were recorded: refused, with what to do.
    old = _copy_archive(path, tmp_path / "old.skops", drop=(INTEGRITY_MEMBER,))
    with pytest.raises(ModelFileError, match="no integrity record; re-save the model"):
        load_model(old)

    # The digests are a check, not a signature: with them rewritten to match, the same
    # edit passes the check (and the type and structure checks, since nothing else changed)
    # and the model predicts differently, which is what the check above caught.
    rewritten = _copy_archive(path, tmp_path / "rewritten.skops", _negate(coefficients),
                              rerecord=True)  # fmt: skip
    assert not np.allclose(load_model(rewritten).predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(load_model(path).predict_proba(X), model.predict_proba(X))


def test_saving_records_every_member_and_writes_nothing_partial(saved, tmp_path, monkeypatch):
    _, model, path = saved
    with zipfile.ZipFile(path) as archive:
        record = json.loads(archive.read(INTEGRITY_MEMBER))
        names = [n for n in archive.namelist() if n != INTEGRITY_MEMBER]
        assert record["format"] == INTEGRITY_FORMAT
        assert record["sha256"] == {n: hashlib.sha256(archive.read(n)).hexdigest()
                                    for n in names}  # fmt: skip
    # A save that fails while recording the digests leaves the earlier file as it was.
    target = tmp_path / "m.skops"
    target.write_bytes(path.read_bytes())
    import outcomes.triage.model_files as model_files

    def fail(archive):
        raise OSError("disk full")

    monkeypatch.setattr(model_files, "_member_digests", fail)
    with pytest.raises(OSError, match="disk full"):
        save_model(model, target)
    assert target.read_bytes() == path.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["m.skops"]


@pytest.mark.parametrize(
    ("what", "old", "new", "module", "message"),
    [
        # Our encoder swapped for a NumPy function that writes files: NumPy is not trusted
        # wholesale, only the exact names a saved model needs.
        ("numpy.save for our encoder", b'"findings_as_float"', b'"save"', b"numpy",
         "outside the allow-list.*numpy.save"),
        ("a builtin for our encoder", b'"findings_as_float"', b'"eval"', b"builtins",
         "outside the allow-list.*builtins.eval"),
        # A type skops trusts by default but that is not part of our pipelines.
        ("another estimator for the classifier", b'"LogisticRegression"', b'"LinearRegression"',
         b"sklearn.linear_model._base", "could not be loaded|does not hold a fitted triage"),
    ],
)  # fmt: skip
def test_structural_tampering_is_rejected_with_a_clear_error(
    saved, tmp_path, what, old, new, module, message
):
    name, _, path = saved
    with zipfile.ZipFile(path) as archive:
        if old not in archive.read("schema.json"):
            pytest.skip(f"the {name} model has no {old.decode()} to swap")
    tampered = _rewrite_schema(path, tmp_path / "t.skops", old, new, module)
    with pytest.raises(ModelFileError, match=message) as caught:
        load_model(tampered)
    assert str(tampered) in str(caught.value), what


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


def test_boosted_model_learns_from_records_where_a_finding_was_never_recorded():
    # 50 patients with 95% of exams unrecorded: some exam column has no recorded value at all,
    # which scikit-learn's binning cannot bin. The model must still fit and predict.
    from outcomes.triage.models import DropUnrecorded

    train = generate(50, seed=1, exam_missing_rate=0.95)  # a seed where the case occurs
    assert train[feature_columns()].isna().all().any(), "the case must be exercised"
    model = fit_model("boosted", train, seed=0)
    test = generate(200, seed=1, exam_missing_rate=0.95)
    assert np.isin(model.predict(test[feature_columns()]), load_knowledge().pathways).all()
    # On ordinary data nothing is dropped: the step leaves the columns as they are.
    X = np.array([[1.0, np.nan, 0.0], [np.nan, 2.0, 0.0]])
    step = DropUnrecorded().fit(X)
    assert step.keep_.all() and np.array_equal(step.transform(X), X, equal_nan=True)
