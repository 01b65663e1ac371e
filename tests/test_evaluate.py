"""Triage evaluation: metrics agree with scikit-learn, intervals are honest, safety is exact."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
)

from outcomes import evaluate as ev
from outcomes.cohort import feature_columns, generate
from outcomes.decision import MinimumCostClassifier, minimum_cost_decision
from outcomes.knowledge import KNOWLEDGE_DIR, KnowledgeError, load_knowledge
from outcomes.oracle import BayesOracle
from outcomes.triage import RulesTriage

PATHWAYS = list(load_knowledge().pathways)


@pytest.fixture(scope="module")
def cohort():
    return generate(8000, seed=31)


@pytest.fixture(scope="module")
def rules_pred(cohort):
    X = cohort[feature_columns()]
    return RulesTriage().fit(X).predict(X)


def value(table, metric, pathway="all"):
    row = table[(table.metric == metric) & (table.pathway == pathway)].iloc[0]
    return row.estimate, row.low, row.high


def test_metrics_equal_scikit_learns(cohort, rules_pred):
    y = cohort["pathway"].astype(str)
    table = ev.metric_table(y, rules_pred, n_boot=200)
    assert value(table, "accuracy")[0] == pytest.approx(accuracy_score(y, rules_pred))
    assert value(table, "balanced_accuracy")[0] == pytest.approx(
        balanced_accuracy_score(y, rules_pred)
    )
    assert value(table, "macro_f1")[0] == pytest.approx(f1_score(y, rules_pred, average="macro"))
    recall = recall_score(y, rules_pred, labels=PATHWAYS, average=None)
    precision = precision_score(y, rules_pred, labels=PATHWAYS, average=None)
    for j, p in enumerate(PATHWAYS):
        assert value(table, "sensitivity", p)[0] == pytest.approx(recall[j])
        assert value(table, "ppv", p)[0] == pytest.approx(precision[j])
    expected = confusion_matrix(y, rules_pred, labels=PATHWAYS)
    np.testing.assert_array_equal(ev.confusion(y, rules_pred).to_numpy(), expected)


def test_specificity_and_npv_by_hand():
    y = ["hip", "hip", "spinal", "spinal", "spinal"]
    p = ["hip", "spinal", "spinal", "spinal", "hip"]
    t = ev.metric_table(y, p, labels=["hip", "spinal"], n_boot=20)
    # hip: TP 1, FN 1, FP 1, TN 2
    assert value(t, "sensitivity", "hip")[0] == 0.5
    assert value(t, "specificity", "hip")[0] == pytest.approx(2 / 3)
    assert value(t, "ppv", "hip")[0] == 0.5
    assert value(t, "npv", "hip")[0] == pytest.approx(2 / 3)
    assert t.set_index(["metric", "pathway"]).loc[("specificity", "hip"), "n"] == 3


def test_a_pathway_nobody_has_gives_nan_not_an_error():
    t = ev.metric_table(["spinal", "spinal"], ["spinal", "hip"], n_boot=20)
    assert np.isnan(value(t, "sensitivity", "emergency")[0])
    assert value(t, "accuracy")[0] == 0.5


def test_intervals_contain_the_estimate_are_seeded_and_shrink_with_n(cohort, rules_pred):
    y = cohort["pathway"].astype(str)
    a = ev.metric_table(y, rules_pred, n_boot=300, seed=5)
    pd.testing.assert_frame_equal(a, ev.metric_table(y, rules_pred, n_boot=300, seed=5))
    assert not a.equals(ev.metric_table(y, rules_pred, n_boot=300, seed=6))
    finite = a.dropna(subset=["low"])
    assert (finite.low <= finite.estimate + 1e-12).all()
    assert (finite.estimate <= finite.high + 1e-12).all()
    small = ev.metric_table(y[:2000], rules_pred[:2000], n_boot=300, seed=5)
    width = lambda t: value(t, "accuracy")[2] - value(t, "accuracy")[1]  # noqa: E731
    # Width scales like 1/sqrt(n): four times the patients, about half the width.
    assert 0.35 < width(a) / width(small) < 0.7


def test_bootstrap_interval_covers_the_truth_at_about_the_nominal_rate():
    # 200 simulated studies of 400 patients with accuracy 0.8: the 95% interval should cover
    # 0.8 in 95% of them; binomial SE of the coverage over 200 studies is about 0.015.
    rng = np.random.default_rng(0)
    covered = 0
    for study in range(200):
        right = rng.random(400) < 0.8
        pred = np.where(right, "spinal", "hip")
        _, lo, hi = value(ev.metric_table(["spinal"] * 400, pred, n_boot=300, seed=study),
                          "accuracy")  # fmt: skip
        covered += lo <= 0.8 <= hi
    assert abs(covered / 200 - 0.95) < 4 * 0.0154


def test_safety_counts_missed_emergencies_exactly(cohort, rules_pred):
    y = cohort["pathway"].astype(str).to_numpy()
    s = ev.safety_table(y, rules_pred, patients=cohort, n_boot=100).set_index("measure")
    emergencies = y == "emergency"
    missed = int((emergencies & (rules_pred != "emergency")).sum())
    assert s.loc["emergencies missed", "count"] == missed
    assert s.loc["emergencies missed", "of"] == emergencies.sum()
    # The rules never miss an emergency whose red flag is recorded.
    assert s.loc["missed with a red flag recorded", "count"] == 0
    over = int((~emergencies & (rules_pred == "emergency")).sum())
    assert s.loc["over-triage to emergency", "count"] == over
    costs = ev.load_costs()
    expected = np.mean([costs.loc[t, p] for t, p in zip(y, rules_pred, strict=True)])
    assert s.loc["mean cost per patient", "estimate"] == pytest.approx(expected)


def test_mcnemar_matches_the_exact_binomial_test():
    y = ["hip"] * 10
    a = ["hip"] * 8 + ["spinal"] * 2
    b = ["spinal"] * 5 + ["hip"] * 5
    t = ev.compare_paired(y, a, b, names=("a", "b"), n_boot=100).iloc[0]
    assert (t.only_a_right, t.only_b_right) == (5, 2)
    assert t.p_value == pytest.approx(binomtest(5, 7, 0.5).pvalue)
    assert t.difference == pytest.approx(0.8 - 0.5)
    assert t.low <= t.difference <= t.high


def test_oracle_gap_is_one_for_the_oracle_and_below_for_rules(cohort, rules_pred):
    oracle = BayesOracle().fit(cohort).predict(cohort)
    gap = ev.oracle_gap(cohort["pathway"], {"oracle": oracle, "rules": rules_pred}, n_boot=200)
    gap = gap.set_index("method")
    assert gap.loc["oracle", "fraction_of_oracle"] == 1.0
    assert gap.loc["rules", "high"] < 1.0


def test_the_oracle_is_calibrated_within_sampling_error(cohort):
    oracle = BayesOracle().fit(cohort)
    table = ev.calibration_table(cohort["pathway"], oracle.predict_proba(cohort), oracle.classes_)
    assert table["pathway"].iloc[0] == "emergency"  # emergency first
    big = table[table.n >= 50]
    se = np.sqrt(big.mean_predicted * (1 - big.mean_predicted) / big.n)
    assert ((big.observed - big.mean_predicted).abs() <= 4 * se + 0.02).all()
    brier = ev.brier_scores(cohort["pathway"], oracle.predict_proba(cohort), oracle.classes_)
    assert brier["pathway"].tolist()[0] == "emergency" and brier["pathway"].iloc[-1] == "all"
    assert (brier["brier"] < 0.1).all()


def test_learning_curve_and_crossover(cohort, rules_pred):
    from outcomes.models import fit_model

    train, test = generate(3000, seed=32), cohort.head(3000)
    curve = ev.learning_curve(lambda d: fit_model("logistic", d), train, test, [100, 3000],
                              RulesTriage().fit(test[feature_columns()]), n_boot=100)  # fmt: skip
    assert curve["size"].tolist() == [100, 3000]
    assert curve.loc[1, "verdict"] == "beats"  # 3,000 patients beat the rules (0.78)
    first_beat = curve.loc[curve["verdict"] == "beats", "size"].iloc[0]
    assert ev.crossover(curve) == {
        "matches": curve["size"].iloc[
            curve["verdict"].isin(["matches", "beats"]).to_numpy().argmax()
        ],
        "beats": first_beat,
    }
    with pytest.raises(ValueError, match="exceeds"):
        ev.learning_curve(lambda d: None, train, test, [5000], rules_pred[:3000])


def test_shift_and_several_methods(cohort, rules_pred):
    oracle = BayesOracle().fit(cohort)
    # The same patients with every exam finding erased: a paired shift, so the loss of
    # information shows clearly (about 0.7 points of accuracy for the oracle).
    unexamined = cohort.copy()
    exams = [c for c in cohort.columns if c.startswith("exam_")]
    for column in exams:
        unexamined[column] = pd.array([pd.NA] * len(cohort), dtype="boolean")
    cohorts = {"primary care": cohort, "no exam findings": unexamined}
    table = ev.shift_table({"oracle": oracle}, cohorts, n_boot=50)
    acc = table.set_index("cohort")["accuracy"]
    assert acc["no exam findings"] < acc["primary care"]
    assert table["n"].tolist() == [len(cohort), len(cohort)]
    wide = ev.format_metric_table(
        ev.evaluate_methods({"rules": rules_pred, "oracle": oracle}, cohort, n_boot=50)
    )
    assert list(wide.columns) == ["rules", "oracle"]
    assert wide.loc["accuracy", "oracle"].startswith("0.9")


def test_inputs_are_not_modified(cohort, rules_pred):
    before, pred_before = cohort.copy(), rules_pred.copy()
    ev.safety_table(cohort["pathway"], rules_pred, patients=cohort, n_boot=20)
    ev.evaluate_methods({"rules": rules_pred}, cohort, n_boot=20)
    pd.testing.assert_frame_equal(cohort, before)
    np.testing.assert_array_equal(rules_pred, pred_before)


def test_unknown_pathways_and_lengths_are_clear_errors():
    with pytest.raises(ValueError, match="y_pred holds unknown pathway"):
        ev.metric_table(["hip"], ["surgery"])
    with pytest.raises(ValueError, match="1 patients but y_pred has 2"):
        ev.metric_table(["hip"], ["hip", "hip"])


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("[spinal]\nemergency = { value = 3", "[spinal]\nemergency = { value = -3",
         r"costs.toml: \[spinal.emergency\] value -3 is not a non-negative cost"),
        ("spinal = { value = 0,", "spinal = { value = 2,",
         r"costs.toml: \[spinal.spinal\] value 2.0 must be 0"),
        ("[muscular]\n", "[physio]\nspinal = { value = 1, source = \"assumption\" }\n[muscular]\n",
         r"costs.toml: \[physio\] is not a pathway"),
    ],
)  # fmt: skip
def test_a_bad_cost_matrix_is_rejected_naming_file_key_and_value(tmp_path, old, new, message):
    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, folder)
    path = folder / "costs.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(KnowledgeError, match=message):
        ev.load_costs(load_knowledge(folder))


def test_minimum_cost_decisions_miss_fewer_emergencies(cohort):
    train = generate(8000, seed=34)
    plain = BayesOracle().fit(train).predict(cohort)
    safe = MinimumCostClassifier(BayesOracle()).fit(train).predict(cohort)
    y = cohort["pathway"].astype(str).to_numpy()
    missed = lambda p: int(((y == "emergency") & (p != "emergency")).sum())  # noqa: E731
    assert missed(safe) < missed(plain)
    costs = ev.load_costs()
    mean_cost = lambda p: costs.to_numpy()[[PATHWAYS.index(t) for t in y],  # noqa: E731
                                           [PATHWAYS.index(q) for q in p]].mean()  # fmt: skip
    assert mean_cost(safe) < mean_cost(plain)
    proba = np.array([[0.1, 0.9]])  # emergency costs 0.9 x 3 = 2.7 < spinal's 0.1 x 50 = 5
    two = costs.loc[["emergency", "spinal"], ["emergency", "spinal"]]
    assert minimum_cost_decision(proba, ["emergency", "spinal"], two).tolist() == ["emergency"]
