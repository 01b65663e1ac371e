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

from outcomes.analysis import evaluate as ev
from outcomes.captions import evaluation as cap
from outcomes.engine.cohort import feature_columns, generate
from outcomes.knowledge import KNOWLEDGE_DIR, KnowledgeError, load_knowledge
from outcomes.knowledge.costs import load_costs
from outcomes.knowledge.red_flags import red_flag_columns
from outcomes.triage.decision import MinimumCostClassifier, minimum_cost_decision
from outcomes.triage.oracle import BayesOracle
from outcomes.triage.rules import RulesTriage

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
    costs = load_costs()
    expected = np.mean([costs.loc[t, p] for t, p in zip(y, rules_pred, strict=True)])
    assert s.loc["mean cost per patient", "estimate"] == pytest.approx(expected)


def test_only_the_knowledge_bases_red_flags_count_as_red_flags(cohort, rules_pred):
    # A team file may carry extra columns; one that happens to start with rf_ is not a red
    # flag. Cast to bool, "no" is True: it once turned "0 of 3" into "1 of 4".
    assert red_flag_columns() == [f.name for f in load_knowledge().findings
                                     if f.kind == "red_flag"]  # fmt: skip
    y = cohort["pathway"].astype(str).to_numpy()
    missed_all = np.where(y == "emergency", "spinal", rules_pred)  # every emergency missed
    plain = ev.safety_table(y, missed_all, patients=cohort, n_boot=50)
    flagged = cohort[red_flag_columns()].fillna(False).to_numpy(dtype=bool).any(axis=1)
    row = plain.set_index("measure").loc["missed with a red flag recorded"]
    assert row["count"] == row["of"] == ((y == "emergency") & flagged).sum()
    assert ((y == "emergency") & ~flagged).any()  # so that a spurious flag would show
    for extra in ({"rf_comment": "no"}, {"rf_reviewed": True}, {"rf_notes": ["x"] * len(y)}):
        pd.testing.assert_frame_equal(
            ev.safety_table(y, missed_all, patients=cohort.assign(**extra), n_boot=50), plain
        )
    # An absent (optional) red-flag column means not recorded, as in a team's file.
    fewer = cohort.drop(columns=["rf_bowel_bladder"])
    shown = fewer[red_flag_columns()[1:]].fillna(False).to_numpy(bool).any(axis=1)
    expected = (y == "emergency") & shown
    row = ev.safety_table(y, missed_all, patients=fewer, n_boot=50).set_index("measure")
    assert row.loc["missed with a red flag recorded", "of"] == expected.sum()
    with pytest.raises(ValueError, match="patients has 10 rows but there are"):
        ev.safety_table(y, missed_all, patients=cohort.head(10))


def test_red_flags_read_as_object_columns_give_the_same_table_without_warnings(cohort):
    # A CSV read by pandas gives object columns of True/False/NaN: the same counts, and no
    # FutureWarning from pandas' downcasting in fillna (warnings are errors here).
    import warnings

    y = cohort["pathway"].astype(str).to_numpy()
    missed_all = np.where(y == "emergency", "spinal", y)
    as_read = cohort.copy()
    for column in red_flag_columns():
        as_read[column] = as_read[column].astype(object).where(as_read[column].notna(), np.nan)
        assert as_read[column].dtype == object and as_read[column].isna().any()
    expected = ev.safety_table(y, missed_all, patients=cohort, n_boot=50)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = ev.safety_table(y, missed_all, patients=as_read, n_boot=50)
    pd.testing.assert_frame_equal(got, expected)
    broken = as_read.assign(rf_saddle_numbness=as_read["rf_saddle_numbness"].where(
        np.arange(len(y)) % 1000 != 7, "yes"))  # fmt: skip
    with pytest.raises(ValueError, match=r"'rf_saddle_numbness' must hold true/false.*8 row"):
        ev.safety_table(y, missed_all, patients=broken)


def test_mcnemar_matches_the_exact_binomial_test():
    y = ["hip"] * 10
    a = ["hip"] * 8 + ["spinal"] * 2
    b = ["spinal"] * 5 + ["hip"] * 5
    t = ev.compare_paired(y, a, b, names=("a", "b"), n_boot=100).iloc[0]
    assert (t.only_a_right, t.only_b_right) == (5, 2)
    assert t.p_value == pytest.approx(binomtest(5, 7, 0.5).pvalue)
    assert t.difference == pytest.approx(0.8 - 0.5)
    assert t.low <= t.difference <= t.high


def test_paired_functions_resample_patients_and_metric_tables_do_not():
    # a and b are right on the same number of patients (800 of 1,000) but not the same ones:
    # 200 patients only a gets right, 200 only b.
    y = np.array(["hip"] * 1000)
    a = np.where(np.arange(1000) < 800, "hip", "spinal")
    b = np.where(np.arange(1000) >= 200, "hip", "spinal")
    # evaluate_methods draws each method's replicates from its own confusion matrix: equal
    # matrices, equal intervals, whichever patients were wrong (not paired).
    t = ev.evaluate_methods({"a": a, "b": b}, pd.DataFrame({"pathway": y}), n_boot=300)
    rows = t[t.metric == "accuracy"].set_index("method")[["low", "high"]]
    assert rows.loc["a"].tolist() == rows.loc["b"].tolist()
    assert "not paired across methods" in ev.evaluate_methods.__doc__
    # compare_paired resamples patients: its difference sees the 400 discordant patients,
    # SE sqrt(400) / 1000 = 0.02, so a 95% interval about 0.078 wide around 0.
    d = ev.compare_paired(y, a, b, n_boot=2000).iloc[0]
    assert d.difference == 0 and 0.06 < d.high - d.low < 0.10
    # ... and a method against itself, or against a copy wrong on one more patient, moves
    # only by what those patients do: paired, so no between-patient noise is left.
    same = ev.compare_paired(y, a, a, n_boot=300).iloc[0]
    assert same.low == same.high == 0
    one_off = a.copy()
    one_off[0] = "spinal"
    d = ev.compare_paired(y, a, one_off, n_boot=2000).iloc[0]
    assert d.difference == pytest.approx(0.001) and 0 <= d.low and d.high <= 0.005
    gap = ev.oracle_gap(y, {"oracle": a, "copy": a, "one off": one_off}, n_boot=2000)
    gap = gap.set_index("method")
    assert gap.loc["copy", "low"] == gap.loc["copy", "high"] == 1.0
    # (the one patient is absent from about e**-1 of the replicates, hence a high of 1)
    assert 1 - 0.005 / 0.8 <= gap.loc["one off", "low"] < gap.loc["one off", "high"] <= 1


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
    from outcomes.triage.models import fit_model

    train, test = generate(3000, seed=32), cohort.head(3000)
    curve = ev.learning_curve(lambda d: fit_model("logistic", d), train, test, [100, 3000],
                              RulesTriage().fit(test[feature_columns()]), n_boot=100)  # fmt: skip
    assert curve["size"].tolist() == [100, 3000]
    assert curve.loc[1, "verdict"] == "beats"  # 3,000 patients beat the rules (0.78)
    assert set(curve["verdict"]) <= {"below", "not distinguishable", "beats"}
    first_beat = curve.loc[curve["verdict"] == "beats", "size"].iloc[0]
    assert ev.crossover(curve) == {
        "not_distinguishable": curve["size"].iloc[
            curve["verdict"].isin(["not distinguishable", "beats"]).to_numpy().argmax()
        ],
        "beats": first_beat,
    }
    # The verdict follows the paired interval of the difference, nothing else.
    for r in curve.itertuples():
        expected = ("beats" if r.diff_low > 0 else "below" if r.diff_high < 0
                    else "not distinguishable")  # fmt: skip
        assert r.verdict == expected
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
    wide = cap.format_metric_table(
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
        load_costs(load_knowledge(folder))


def test_minimum_cost_decisions_miss_fewer_emergencies(cohort):
    train = generate(8000, seed=34)
    plain = BayesOracle().fit(train).predict(cohort)
    safe = MinimumCostClassifier(BayesOracle()).fit(train).predict(cohort)
    y = cohort["pathway"].astype(str).to_numpy()
    missed = lambda p: int(((y == "emergency") & (p != "emergency")).sum())  # noqa: E731
    assert missed(safe) < missed(plain)
    costs = load_costs()
    mean_cost = lambda p: costs.to_numpy()[[PATHWAYS.index(t) for t in y],  # noqa: E731
                                           [PATHWAYS.index(q) for q in p]].mean()  # fmt: skip
    assert mean_cost(safe) < mean_cost(plain)
    from outcomes.triage.models import make_model

    learned = MinimumCostClassifier(make_model("logistic")).fit(
        train[feature_columns()], train["pathway"].astype(str)
    )
    assert list(learned.feature_names_in_) == feature_columns() == list(
        learned.estimator_.feature_names_in_)  # fmt: skip
    assert learned.n_features_in_ == len(feature_columns())
    proba = np.array([[0.1, 0.9]])  # emergency costs 0.9 x 3 = 2.7 < spinal's 0.1 x 50 = 5
    two = costs.loc[["emergency", "spinal"], ["emergency", "spinal"]]
    assert minimum_cost_decision(proba, ["emergency", "spinal"], two).tolist() == ["emergency"]


# --------------------------------------------------------------------------------------------
# Intervals that never collapse, confusion cells, Brier, calibration, shift, sentences


def test_wilson_interval_equals_the_scalar_one_and_never_collapses():
    k = np.array([0, 1, 3, 17, 20, 450, 1000])
    n = np.array([20, 20, 3, 20, 20, 1000, 1000])
    lo, hi = ev.wilson_interval(k, n)
    for i in range(len(k)):
        # One function: a scalar call (targets, the ceiling) gives the vectorised values.
        scalar = ev.wilson_interval(int(k[i]), int(n[i]))
        assert (lo[i], hi[i]) == pytest.approx(scalar, abs=1e-7)
    assert (hi > lo).all()  # a share of 0 or 1 still gets a real interval
    assert np.isnan(ev.wilson_interval([0], [0])[0]).all()


def test_per_pathway_proportions_with_few_cases_have_real_intervals():
    # Three hip patients, all caught: the percentile bootstrap says 1.00 (1.00-1.00); Wilson
    # says 1.00 (0.44-1.00), which is what three patients can tell.
    y = ["hip"] * 3 + ["spinal"] * 97
    t = ev.metric_table(y, y, n_boot=200)
    est, lo, hi = value(t, "sensitivity", "hip")
    assert est == 1.0 and hi == 1.0 and lo == pytest.approx(0.4385, abs=1e-3)
    old = ev.metric_table(y, y, n_boot=200, per_pathway_interval="bootstrap")
    assert value(old, "sensitivity", "hip")[1] == 1.0  # the degenerate interval, still available
    assert "0.44–1.00" in cap.format_metric_table(t).loc["sensitivity: hip"].iloc[0]
    with pytest.raises(ValueError, match="per_pathway_interval 'exact' is unknown"):
        ev.metric_table(y, y, per_pathway_interval="exact")


def test_confusion_cells_have_wilson_intervals_of_their_row(cohort, rules_pred):
    y = cohort["pathway"].astype(str)
    long = ev.confusion_long(y, rules_pred)
    counts = ev.confusion(y, rules_pred)
    assert (long.groupby("true")["of"].first() == counts.sum(axis=1).loc[
        long.groupby("true")["of"].first().index]).all()  # fmt: skip
    finite = long.dropna(subset=["share"])
    assert (finite.low <= finite.share).all() and (finite.share <= finite.high).all()
    assert (finite.high > finite.low).all()  # cells at 0% too
    lo, hi = ev.wilson_interval(finite.patients, finite.of)
    np.testing.assert_allclose(finite.low, lo)
    np.testing.assert_allclose(finite.high, hi)
    assert ev.confusion_long(y, rules_pred).equals(long)  # no randomness


# Known truth for the bootstrap options: 3 true pathways with fixed shares, each sent to the
# pathways by a fixed row of P; for safety, emergencies (30%) with a red flag shown for 60%
# of them, missed with probability 0.1 when flagged and 0.25 when not, and 10% of the others
# over-triaged. True values: every cell of P; sensitivity 1 - (0.6 * 0.1 + 0.4 * 0.25) =
# 0.84, emergencies missed 0.16, missed with a red flag 0.1, over-triage 0.1.
P_TRUE = np.array([[0.7, 0.2, 0.1], [0.15, 0.8, 0.05], [0.3, 0.1, 0.6]])
SAFETY_TRUE = np.array([0.84, 0.16, 0.1, 0.1])


def _study(rng, n):
    labels = np.array(["hip", "spinal", "muscular"])
    t = rng.choice(3, size=n, p=[0.4, 0.4, 0.2])
    assigned = (P_TRUE[t].cumsum(axis=1) < rng.random(n)[:, None]).sum(axis=1)
    emergency = rng.random(n) < 0.3
    flag = emergency & (rng.random(n) < 0.6)
    missed = np.where(flag, rng.random(n) < 0.1, rng.random(n) < 0.25)
    sent = np.where(emergency, ~missed, rng.random(n) < 0.1)
    y = np.where(emergency, "emergency", "spinal")
    pred = np.where(sent, "emergency", "spinal")
    return labels[t], labels[assigned], y, pred, pd.DataFrame({"rf_bowel_bladder": flag})


def test_bootstrap_intervals_of_cells_and_safety_cover_the_truth_at_the_nominal_rate():
    # 400 seeded studies of 2,000 patients. If an interval covers with probability 0.95, the
    # number of studies it covers is Binomial(400, 0.95): SE sqrt(0.95 * 0.05 / 400) = 0.011.
    # The mean coverage over a table's cells has an SE no larger (an average of correlated
    # indicators varies at most as much as one), so it must be within 3.5 SE of 0.95; each
    # cell alone within 5 SE (13 checks, so about 1e-5 of false alarm if all are exact). The
    # percentile bootstrap's own coverage error is O(1/n): about 0.005 here, measured over
    # 2,000 studies, well inside the tolerance.
    rng = np.random.default_rng(2024)
    studies, n = 400, 2000
    costs = load_costs()
    cells, safety = np.zeros(9), np.zeros(4)
    for study in range(studies):
        true, assigned, y, pred, flags = _study(rng, n)
        c = ev.confusion_long(true, assigned, labels=["hip", "spinal", "muscular"],
                              interval="bootstrap", n_boot=1000, seed=study)  # fmt: skip
        cells += (c["low"] <= P_TRUE.ravel()) & (P_TRUE.ravel() <= c["high"])
        s = ev.safety_table(y, pred, patients=flags, costs=costs, n_boot=1000, seed=study,
                            interval="bootstrap").iloc[:4]  # fmt: skip
        safety += (s["low"] <= SAFETY_TRUE) & (SAFETY_TRUE <= s["high"])
    se = np.sqrt(0.95 * 0.05 / studies)
    for covered in (cells / studies, safety / studies):
        assert abs(covered.mean() - 0.95) < 3.5 * se, covered
        assert (np.abs(covered - 0.95) < 5 * se).all(), covered


def test_bootstrap_and_wilson_intervals_agree_on_a_large_cohort():
    # With 400,000 patients every proportion is close to normal, and both intervals are
    # estimate -+ 1.96 SE to within O(1/n). What separates them is the bootstrap's Monte Carlo
    # error: the 2.5% quantile of B replicates has SE sqrt(0.025 * 0.975 / B) / phi(1.96) SE
    # = 0.06 SE for B = 2,000; allow 4 of those (0.24 binomial SE) at each end.
    true, assigned, y, pred, flags = _study(np.random.default_rng(7), 400_000)
    labels = ["hip", "spinal", "muscular"]
    boot = ev.confusion_long(true, assigned, labels=labels, interval="bootstrap", n_boot=2000)
    wilson = ev.confusion_long(true, assigned, labels=labels)
    pd.testing.assert_frame_equal(boot.drop(columns=["low", "high"]),
                                  wilson.drop(columns=["low", "high"]))  # fmt: skip
    se = np.sqrt(wilson["share"] * (1 - wilson["share"]) / wilson["of"])
    allowed = 4 * np.sqrt(0.025 * 0.975 / 2000) / 0.05844 * se
    assert (np.abs(boot["low"] - wilson["low"]) < allowed).all()
    assert (np.abs(boot["high"] - wilson["high"]) < allowed).all()
    a = ev.safety_table(y, pred, patients=flags, n_boot=2000, interval="bootstrap")
    b = ev.safety_table(y, pred, patients=flags, n_boot=2000)
    pd.testing.assert_frame_equal(a.drop(columns=["low", "high"]), b.drop(columns=["low", "high"]))
    p, of = b["estimate"].iloc[:4], b["of"].iloc[:4]
    allowed = 4 * np.sqrt(0.025 * 0.975 / 2000) / 0.05844 * np.sqrt(p * (1 - p) / of)
    assert (np.abs(a["low"] - b["low"]).iloc[:4] < allowed).all()
    assert (np.abs(a["high"] - b["high"]).iloc[:4] < allowed).all()
    pd.testing.assert_frame_equal(a.iloc[4:], b.iloc[4:])  # the cost's interval is the same
    # Seeded, and only the two named intervals exist.
    pd.testing.assert_frame_equal(
        a, ev.safety_table(y, pred, patients=flags, n_boot=2000, interval="bootstrap")
    )
    with pytest.raises(ValueError, match="interval 'exact' is unknown"):
        ev.confusion_long(true, assigned, interval="exact")
    with pytest.raises(ValueError, match="interval 'exact' is unknown"):
        ev.safety_table(y, pred, interval="exact")


def test_the_interval_choice_reaches_the_tables_of_several_methods(cohort, rules_pred):
    methods = {"rules": rules_pred}
    boot = ev.safety_by_method(methods, cohort, n_boot=200, interval="bootstrap")
    direct = ev.safety_table(cohort["pathway"], rules_pred, patients=cohort, n_boot=200,
                             interval="bootstrap")  # fmt: skip
    pd.testing.assert_frame_equal(boot.drop(columns="method"), direct)
    assert not boot.equals(ev.safety_by_method(methods, cohort, n_boot=200))
    metrics = ev.evaluate_methods(methods, cohort, n_boot=200, per_pathway_interval="bootstrap")
    expected = ev.metric_table(cohort["pathway"], rules_pred, n_boot=200,
                               per_pathway_interval="bootstrap")  # fmt: skip
    pd.testing.assert_frame_equal(metrics.drop(columns="method"), expected)


def test_brier_intervals_are_seeded_contain_the_score_and_keep_the_old_table(cohort):
    oracle = BayesOracle().fit(cohort)
    proba, y = oracle.predict_proba(cohort), cohort["pathway"]
    plain = ev.brier_scores(y, proba, oracle.classes_)
    assert list(plain.columns) == ["pathway", "brier", "calibration_error"]  # unchanged
    a = ev.brier_scores(y, proba, oracle.classes_, n_boot=300, seed=1)
    pd.testing.assert_frame_equal(a[plain.columns], plain)
    pd.testing.assert_frame_equal(a, ev.brier_scores(y, proba, oracle.classes_, n_boot=300,
                                                     seed=1))  # fmt: skip
    assert (a.low <= a.brier).all() and (a.brier <= a.high).all() and (a.high > a.low).all()
    # The bootstrap SE of a mean is its sample SD / sqrt(n): the 95% width is near 3.92 SE
    # (within 20%: 300 replicates estimate a percentile interval to about 10%).
    onehot = (np.asarray(y.astype(str))[:, None] == np.asarray(oracle.classes_)).astype(float)
    total = ((proba - onehot) ** 2).sum(axis=1)
    se = total.std(ddof=1) / np.sqrt(len(total))
    overall = a.set_index("pathway").loc["all"]
    assert 0.8 < (overall.high - overall.low) / (3.92 * se) < 1.2
    wide = cap.format_brier_table(ev.brier_table({"oracle": oracle}, cohort, n_boot=100))
    assert list(wide.index)[0] == "emergency" and list(wide.columns) == ["oracle"]
    assert wide.loc["all", "oracle"].startswith(f"{overall.brier:.4f} (")


def test_calibration_check_passes_calibrated_and_flags_squashed_probabilities():
    # Calibrated by construction: each patient's pathway is drawn from its own probabilities.
    rng = np.random.default_rng(3)
    n = 20_000
    logits = rng.normal(size=(n, 3)) * [3.0, 1.0, 1.0] - [4.0, 0.0, 0.0]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    classes = ["emergency", "hip", "spinal"]
    draw = (proba.cumsum(axis=1) < rng.random(n)[:, None]).sum(axis=1)
    truth = np.asarray(classes)[np.minimum(draw, 2)]
    check = ev.calibration_check(truth, proba, classes)
    assert check["pathway"].iloc[0] == "emergency"
    assert (check["p_value"] >= ev.CALIBRATION_ALPHA).all()
    assert check.groupby("pathway")["n"].sum().eq(n).all()
    np.testing.assert_allclose(check.groupby("pathway")["expected"].sum().sort_index(),
                               proba.sum(axis=0))  # fmt: skip
    # Squash emergency towards 0 (as an over-fitted boosted model did): flagged.
    squashed = proba.copy()
    squashed[:, 0] /= 5
    squashed[:, 1:] += (proba[:, :1] - squashed[:, :1]) / 2
    bad = ev.calibration_check(truth, squashed, classes)
    worst = bad.loc[bad["p_value"].idxmin()]
    assert worst["pathway"] == "emergency" and worst["p_value"] < ev.CALIBRATION_ALPHA
    assert "off beyond sampling error; worst emergency" in cap.calibration_caption(bad, "x")
    assert "agree within sampling error" in cap.calibration_caption(check, "x")
    with pytest.raises(ValueError, match=r"proba has shape \(3, 2\)"):
        ev.calibration_check(["hip"] * 3, np.ones((3, 2)) / 2, ["hip", "spinal", "x"])


def test_calibration_check_false_alarms_stay_under_its_level():
    # 60 calibrated studies of 2,000 patients (~1,400 bins): a bin is flagged at most at the
    # nominal rate (the binomial test at the bin mean is conservative), so we expect well
    # under one flag at 1e-4 (0.14); at 0.05 the share flagged stays below 0.05 + 3 SE.
    rng = np.random.default_rng(8)
    p_values = []
    for _ in range(60):
        p = rng.beta(0.5, 3.0, 2000)
        truth = np.where(rng.random(2000) < p, "hip", "spinal")
        check = ev.calibration_check(truth, np.column_stack([p, 1 - p]), ["hip", "spinal"])
        p_values.append(check["p_value"].to_numpy())
    p_values = np.concatenate(p_values)
    assert (p_values < ev.CALIBRATION_ALPHA).sum() <= 1
    share = (p_values < 0.05).mean()
    assert share < 0.05 + 3 * np.sqrt(0.05 * 0.95 / len(p_values))


def test_shift_table_pairs_the_same_patients_and_not_others():
    oracle = BayesOracle().fit(generate(2000, seed=40))
    same = generate(3000, seed=41)
    sparse = generate(3000, seed=41, exam_missing_rate=0.9)  # the same patients, fewer exams
    other = generate(3000, seed=42, setting="sports_clinic")
    cohorts = {"in setting": same, "sparse": sparse, "other": other}
    t = ev.shift_table({"oracle": oracle}, cohorts, reference="in setting", n_boot=300)
    row = t.set_index("cohort")
    assert np.isnan(row.loc["in setting", "difference"]) and row.loc["in setting", "paired"] is None
    assert row.loc["sparse", "paired"] and not row.loc["other", "paired"]
    truth = same["pathway"].astype(str).to_numpy()
    right = lambda c: oracle.predict(c) == c["pathway"].astype(str).to_numpy()  # noqa: E731
    assert row.loc["sparse", "difference"] == pytest.approx((right(sparse) - 1.0 * right(same))
                                                            .mean())  # fmt: skip
    assert len(truth) == len(sparse)
    for name in ("sparse", "other"):
        r = row.loc[name]
        assert r.diff_low <= r.difference <= r.diff_high
    # Pairing removes the patients' shared variation: the paired interval is narrower than
    # the independent one would be for the same accuracies (about sqrt(2 * var) wide).
    paired_width = row.loc["sparse", "diff_high"] - row.loc["sparse", "diff_low"]
    indep_se = np.sqrt(sum(a * (1 - a) / 3000 for a in row.loc[["in setting", "sparse"],
                                                               "accuracy"]))  # fmt: skip
    assert paired_width < 3.92 * indep_se
    # Without a reference the table is as before.
    plain = ev.shift_table({"oracle": oracle}, cohorts, n_boot=300)
    assert list(plain.columns) == ["cohort", "method", "accuracy", "low", "high", "n"]
    pd.testing.assert_frame_equal(plain, t[plain.columns])
    wide = cap.format_shift_table(t)
    assert wide.loc["sparse", "change from"] == "same patients (paired)"
    assert wide.loc["other", "change from"] == "other patients (independent)"
    assert "; " in wide.loc["sparse", "oracle"] and "; " not in wide.loc["in setting", "oracle"]
    assert cap.shift_sentences(t)[0].startswith("On sparse (same patients, paired), oracle")
    with pytest.raises(ValueError, match="reference cohort 'x' is not one of"):
        ev.shift_table({"oracle": oracle}, cohorts, reference="x")


def test_sentences_state_the_numbers_of_the_tables(cohort, rules_pred):
    y = cohort["pathway"].astype(str)
    oracle = BayesOracle().fit(cohort).predict(cohort)
    metrics = ev.evaluate_methods({"rules": rules_pred, "oracle": oracle}, cohort, n_boot=50)
    text = cap.sensitivity_caption(metrics, "rules", "oracle")
    sens = metrics[(metrics.method == "rules") & (metrics.metric == "sensitivity")]
    lowest = sens.nsmallest(2, "estimate")
    for r in lowest.itertuples():
        assert f"{r.pathway.replace('_', ' ')} ({r.estimate:.2f})" in text
    assert text.startswith("rules: weakest on ") and "oracle" not in text.split(";")[0]
    assert cap.sensitivity_caption(metrics, "rules", "oracle", short=True) == text
    worst = ev.worst_confusion(y, rules_pred)
    counts = ev.confusion(y, rules_pred)
    off = counts.to_numpy().astype(float) / counts.sum(axis=1).to_numpy()[:, None]
    np.fill_diagonal(off, -1)
    i, j = np.unravel_index(np.nanargmax(off), off.shape)
    assert (worst["true"], worst["assigned"]) == (counts.index[i], counts.columns[j])
    assert f"{off[i, j]:.0%}" in cap.confusion_caption(y, {"rules": rules_pred})
    assert ev.worst_confusion(y, y) is None
    assert ev.estimate_of(metrics, "rules") == value(metrics[metrics.method == "rules"],
                                                     "accuracy")  # fmt: skip
    with pytest.raises(ValueError, match="no single row"):
        ev.estimate_of(metrics, "boosted")
    safety = ev.safety_by_method({"rules": rules_pred, "oracle": oracle,
                                  "oracle, least cost": MinimumCostClassifier(BayesOracle())
                                  .fit(cohort).predict(cohort)}, cohort, n_boot=20)  # fmt: skip
    rules_text, _, _, cost_text = cap.safety_sentences(safety, {"oracle": "oracle, least cost"})
    s = safety.set_index(["method", "measure"])["count"]
    assert rules_text.startswith(f"rules missed {s['rules', 'emergencies missed']:,} of ")
    assert f"({s['rules', 'missed with a red flag recorded']:,} of the " in rules_text
    assert f"sent {s['rules', 'over-triage to emergency']:,} of " in rules_text
    before, after = s["oracle", "emergencies missed"], s["oracle, least cost", "emergencies missed"]
    assert f"misses {after:,} of" in cost_text and f"instead of {before:,} (" in cost_text
    word = "most" if before - after > before / 2 else None
    if word:
        assert f"it missed: {word})" in cost_text


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        (["beats", "beats"], "The boosted model beats the rules from 50 training patients."),
        (["not distinguishable", "not distinguishable"],
         "The boosted model is not distinguishable from the rules from 50 training patients and "
         "does not beat them at up to 100."),
        (["below", "below"],
         "The boosted model is below the rules at 50 training patients and does not beat them at "
         "up to 100."),
    ],
)  # fmt: skip
def test_learning_curve_sentence_says_not_distinguishable_never_matches(verdicts, expected):
    curve = pd.DataFrame({"size": [50, 100], "verdict": verdicts})
    assert cap.learning_curve_caption(curve) == expected
    assert "match" not in cap.learning_curve_caption(curve)


def test_oracle_gap_caption_names_the_ceiling_and_each_share():
    from outcomes.analysis.evaluate import oracle_gap
    from outcomes.captions.evaluation import oracle_gap_caption

    truth = ["hip"] * 6 + ["spinal"] * 4
    predictions = {
        "oracle": truth,
        "rules": ["hip"] * 10,
        "boosted": ["hip"] * 6 + ["spinal"] * 3 + ["hip"],
    }
    text = oracle_gap_caption(oracle_gap(truth, predictions, n_boot=50))
    assert text.startswith("The oracle (the ceiling) triages 100.0% correctly")
    # Best first: boosted (90% of the oracle) before rules (60%).
    assert text.index("boosted reaches 90.0%") < text.index("rules 60.0%")


def test_bootstrap_coverage_tells_a_90_percent_interval_from_a_95_percent_one():
    """The percentile bootstrap behind the overall metrics' intervals, over 2,000 seeded
    studies of 400 patients with accuracy 0.8: a 95% interval covers 0.8 in 95% of them.
    Binomial SE of the coverage over 2,000 studies: sqrt(0.95 * 0.05 / 2000) = 0.0049; the
    tolerance of 4 SE (0.019) cannot hold a 90% interval (0.05 away), as the same studies at
    level 0.90 show. The bootstrap's own coverage error at n = 400 is about 0.005."""
    rng = np.random.default_rng(16)
    studies, n, truth = 2000, 400, 0.8
    tolerance = 4 * np.sqrt(0.95 * 0.05 / studies)
    covered = {0.95: 0, 0.90: 0}
    for study in range(studies):
        right = (rng.random(n) < truth).astype(float)
        boot = ev.bootstrap_mean(right, n_boot=400, seed=study)[:, None]
        for level in covered:
            lo, hi = ev.percentile_interval(boot, level)
            covered[level] += bool(lo[0] <= truth <= hi[0])
    assert abs(covered[0.95] / studies - 0.95) < tolerance, covered
    assert abs(covered[0.90] / studies - 0.95) > tolerance, covered  # the test can tell
    # metric_table's accuracy interval is this bootstrap's at its default level (95%).
    right = rng.random(n) < truth
    table = ev.metric_table(["spinal"] * n, np.where(right, "spinal", "hip"), n_boot=400, seed=3)
    _, lo, hi = value(table, "accuracy")
    assert lo < right.mean() < hi and 0.06 < hi - lo < 0.1  # 2 * 1.96 * sqrt(.8 * .2 / 400)


def test_most_and_least_changed_agree_with_the_numbers():
    # The report's sports-clinic run: every method gained; "the most" is the largest change.
    t = pd.DataFrame({
        "cohort": ["ref"] * 3 + ["other"] * 3,
        "method": ["rules", "logistic", "oracle"] * 2,
        "accuracy": [0.8, 0.8, 0.85, 0.816, 0.801, 0.86],
        "difference": [None, None, None, 0.016, 0.001, 0.010],
        "diff_low": [None, None, None, 0.0, -0.015, -0.005],
        "diff_high": [None, None, None, 0.03, 0.017, 0.025],
        "paired": [None, None, None, False, False, False],
    })  # fmt: skip
    (text,) = cap.shift_sentences(t)
    assert "rules gained the most accuracy, +0.016" in text
    assert "logistic the least, +0.001" in text
    # Mixed signs: ordered by the size of the change, whatever its sign.
    t.loc[3:, "difference"] = [0.004, -0.030, 0.010]
    (text,) = cap.shift_sentences(t)
    assert "logistic changed accuracy the most, \N{MINUS SIGN}0.030" in text
    assert "rules the least, +0.004" in text


def test_the_shift_setting_is_never_the_training_setting():
    from outcomes.knowledge import load_knowledge

    names = load_knowledge().setting_names
    for setting in names:
        other = ev.shift_setting(setting)
        assert other in names and other != setting
        assert ev.shift_setting(setting, setting) is None
    assert ev.shift_setting("primary_care", "sports_clinic") == "sports_clinic"
    with pytest.raises(ValueError, match="setting 'sport' is unknown"):
        ev.shift_setting("sport")


def test_net_benefit_matches_a_hand_computed_case():
    # Five patients, two on the pathway. At t = 0.3 the patients with p >= 0.3 are sent:
    # two true positives and one false positive, NB = 2/5 - 1/5 * 0.3/0.7.
    y = np.array([True, True, False, False, False])
    p = np.array([0.9, 0.4, 0.6, 0.2, 0.1])
    nb = ev.net_benefit(y, p, [0.1, 0.3, 0.5, 0.95])
    assert nb == pytest.approx([2 / 5 - 3 / 5 * 0.1 / 0.9, 2 / 5 - 1 / 5 * 0.3 / 0.7,
                                1 / 5 - 1 / 5 * 1.0, 0.0])  # fmt: skip
    # Refer all: prevalence minus the odds-weighted rest; a perfect method earns the prevalence.
    assert ev.net_benefit(y, np.ones(5), [0.2]) == pytest.approx([0.4 - 0.6 * 0.25])
    assert ev.net_benefit(y, y.astype(float), [0.2, 0.8]) == pytest.approx([0.4, 0.4])
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        ev.net_benefit(y, p, [0.0])


def test_decision_curves_cover_every_pathway_emergency_first_with_both_references(cohort):
    from outcomes.triage.oracle import BayesOracle

    oracle = BayesOracle().fit(cohort)
    proba, classes = ev.probabilities_of(oracle, cohort)
    rules = ev.one_hot(ev.predictions_of(oracle, cohort), classes)
    curves = ev.decision_curves(cohort["pathway"], {"oracle": (proba, classes), "calls": rules})
    assert curves["pathway"].iloc[0] == "emergency"
    assert set(curves["pathway"]) == set(classes)
    strategies = list(dict.fromkeys(curves["strategy"]))
    assert strategies == ["oracle", "calls", ev.REFER_ALL, ev.REFER_NONE]
    truth = cohort["pathway"].astype(str).to_numpy()
    for pathway, rows in curves.groupby("pathway"):
        prevalence = (truth == pathway).mean()
        assert rows["prevalence"].iloc[0] == pytest.approx(prevalence)
        none = rows[rows["strategy"] == ev.REFER_NONE]["net_benefit"]
        assert (none == 0).all()
        # No strategy can beat perfect knowledge, which earns the prevalence at every threshold.
        assert (rows["net_benefit"] <= prevalence + 1e-12).all()
        j = classes.index(pathway)
        at = rows[(rows["strategy"] == "oracle") & np.isclose(rows["threshold"], 0.2)]
        expected = ev.net_benefit(truth == pathway, proba[:, j], [0.2])[0]
        assert at["net_benefit"].item() == pytest.approx(expected)
    text = cap.decision_curve_caption(curves, "emergency", 0.05)
    assert text.startswith("Emergency at a 5% threshold") and "refer all" in text


def test_the_package_exports_every_public_name_of_its_modules():
    # `from outcomes.analysis import evaluate as ev; ev.name` works for every public name.
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(ev.__path__):
        module = importlib.import_module(f"{ev.__name__}.{info.name}")
        for name, value in vars(module).items():
            if name.startswith("_") or getattr(value, "__module__", module.__name__) != (
                module.__name__
            ):
                continue
            if callable(value) or name.isupper():
                assert name in ev.__all__ and getattr(ev, name) is value, (info.name, name)


def test_metric_table_rows_are_labelled_in_words():
    t = ev.metric_table(["hip", "spinal"], ["hip", "hip"], labels=["hip", "spinal"], n_boot=20)
    rows = list(cap.format_metric_table(t).index)
    assert rows[:3] == ["accuracy", "balanced accuracy", "macro-F1"]
    assert "PPV: hip" in rows and not any("_" in row for row in rows)
