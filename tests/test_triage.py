"""Rules triage: an ordered, explainable decision list that is a real scikit-learn classifier."""

from __future__ import annotations

import functools
import pickle
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

from outcomes.engine.cohort import feature_columns, generate
from outcomes.knowledge import KNOWLEDGE_DIR, KnowledgeError, load_knowledge
from outcomes.triage.policies import fit_policy
from outcomes.triage.rules import (
    EXPECTED_FAILED_CHECKS,
    RulesTriage,
    load_triage_rules,
    rules_table,
)

KB = load_knowledge()
FEATURES = feature_columns()
RED_FLAGS = [f.name for f in KB.findings if f.kind == "red_flag"]
LABEL = {f.name: f.label for f in KB.findings}


@functools.cache
def _someone() -> pd.DataFrame:
    return generate(1, seed=0)[FEATURES].reset_index(drop=True)


def patient(**findings: bool | None) -> pd.DataFrame:
    """One patient with every finding recorded negative except those given (None = not recorded)."""
    row = _someone().copy()
    for f in KB.findings:
        value = findings.pop(f.name, False)
        row[f.name] = pd.array([pd.NA if value is None else value], dtype=row[f.name].dtype)
    assert not findings, f"unknown findings in the test: {sorted(findings)}"
    return row


@pytest.fixture(scope="module")
def rules() -> RulesTriage:
    return RulesTriage().fit(patient())


def decide(rules: RulesTriage, **findings: bool | None) -> pd.Series:
    """The explanation row of one hand-built patient."""
    return rules.explain(patient(**findings)).iloc[0]


# ----------------------------------------------------------------------------------------------
# scikit-learn's own checks


@parametrize_with_checks(
    [RulesTriage()], expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS, xfail_strict=True
)
@pytest.mark.filterwarnings("ignore:X has no column names")
def test_sklearn_estimator_checks(estimator, check):
    # xfail_strict: a check listed as inapplicable that starts passing fails this test, so the
    # list cannot go stale.
    check(estimator)


def test_the_checks_declared_inapplicable_hold_on_a_patients_table():
    # The checks skipped because predictions are pathway names test properties that do apply:
    # prove them here on clinical data, comparing names exactly.
    patients = generate(400, seed=11)
    X, y = patients[FEATURES], patients["pathway"].astype(str)
    fitted = RulesTriage().fit(X, y)
    expected = fitted.predict(X)
    # pickle round trip and fitting twice
    assert (pickle.loads(pickle.dumps(fitted)).predict(X) == expected).all()
    assert (RulesTriage().fit(X, y).fit(X, y).predict(X) == expected).all()
    # subsets and row order
    halves = np.concatenate([fitted.predict(X.iloc[:150]), fitted.predict(X.iloc[150:])])
    assert (halves == expected).all()
    order = np.random.default_rng(0).permutation(len(X))
    assert (fitted.predict(X.iloc[order]) == expected[order]).all()
    # a 2-d column y fits with a warning, to the same predictions; score takes y
    with pytest.warns(Warning, match="column-vector y"):
        assert (RulesTriage().fit(X, y.to_numpy()[:, None]).predict(X) == expected).all()
    assert fitted.score(X, y) == pytest.approx((expected == y.to_numpy()).mean())
    # data that is not an array (a list of rows) is read like the table it came from
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        assert (fitted.predict(X.to_numpy().tolist()) == expected).all()


# ----------------------------------------------------------------------------------------------
# Each rule, on hand-built patients

#: The fewest findings that make each rule fire.
MINIMAL_PATTERNS = {
    "red_flag": {"rf_saddle_numbness": True},
    "neck_arm_pattern": {"pain_neck": True, "paresthesia_arm": True},
    "lumbar_radiculopathy": {
        "pain_low_back": True,
        "pain_below_knee": True,
        "agg_cough_sneeze": True,
    },
    "neurogenic_claudication": {"agg_walking_standing": True, "eased_by_flexion": True},
    "piriformis_pattern": {"pain_deep_buttock": True, "agg_sitting": True, "agg_stairs": True},
    "hamstring_pattern": {"pain_posterior_thigh": True, "exam_hamstring_tightness": True},
}


def test_every_rule_has_a_hand_built_patient():
    assert list(MINIMAL_PATTERNS) == [rule.name for rule in load_triage_rules().rules]


@pytest.mark.parametrize("rule_name", MINIMAL_PATTERNS)
def test_each_rule_fires_on_its_pattern_and_needs_every_finding_of_it(rules, rule_name):
    pattern = MINIMAL_PATTERNS[rule_name]
    pathway = {r.name: r.pathway for r in rules.rules_.rules}[rule_name]
    why = decide(rules, **pattern)
    assert (why["rule"], why["pathway"]) == (rule_name, pathway)
    assert rules.predict(patient(**pattern))[0] == pathway
    assert why["fired_on"] == "; ".join(LABEL[f] for f in pattern)
    for dropped in pattern:
        weaker = {f: v for f, v in pattern.items() if f != dropped}
        assert decide(rules, **weaker)["rule"] != rule_name, f"fired without {dropped}"


def test_a_patient_with_no_finding_gets_the_stated_default(rules):
    why = decide(rules)
    default = load_triage_rules().default
    assert (why["rule"], why["pathway"]) == (default.name, "spinal")
    assert why["fired_on"] == "no earlier rule matched"
    assert why["skipped_for_missing"] == ""


@pytest.mark.parametrize(
    ("rule_name", "excluding"),
    [
        ("piriformis_pattern", "pain_low_back"),
        ("piriformis_pattern", "pain_below_knee"),
        ("hamstring_pattern", "pain_below_knee"),
        ("hamstring_pattern", "exam_weakness"),
        ("hamstring_pattern", "exam_foot_drop"),
    ],
)
def test_a_recorded_exclusion_stops_the_rule(rules, rule_name, excluding):
    assert decide(rules, **MINIMAL_PATTERNS[rule_name], **{excluding: True})["rule"] != rule_name


def test_order_matters_the_first_matching_rule_wins(rules):
    spinal = MINIMAL_PATTERNS["lumbar_radiculopathy"]
    assert decide(rules, **spinal, rf_bowel_bladder=True)["pathway"] == "emergency"
    both = {**spinal, **MINIMAL_PATTERNS["neck_arm_pattern"]}
    assert decide(rules, **both)["rule"] == "neck_arm_pattern"
    # The red-flag rule is first: it beats every pattern, not only the spinal one.
    both = {**MINIMAL_PATTERNS["red_flag"], **MINIMAL_PATTERNS["neck_arm_pattern"]}
    assert decide(rules, **both)["pathway"] == "emergency"


def test_predict_proba_is_one_hot_on_the_predicted_pathway():
    patients = generate(300, seed=5)
    fitted = RulesTriage().fit(patients[FEATURES])
    proba = fitted.predict_proba(patients[FEATURES])
    assert proba.shape == (300, len(KB.pathways))
    assert set(np.unique(proba)) <= {0.0, 1.0} and (proba.sum(axis=1) == 1).all()
    assert (fitted.classes_[proba.argmax(axis=1)] == fitted.predict(patients[FEATURES])).all()
    assert list(fitted.classes_) == list(KB.pathways)


# ----------------------------------------------------------------------------------------------
# Missing findings


def test_a_rule_whose_finding_is_not_recorded_does_not_fire_and_explain_says_so(rules):
    # Deep buttock pain with one hip provocation; the FAIR test, which would make two, is
    # not recorded: the hip rule does not fire, and the explanation names the missing test.
    why = decide(rules, pain_deep_buttock=True, agg_sitting=True, exam_fair_test=None)
    assert why["rule"] == "no_pattern_matched"
    assert "piriformis_pattern (not recorded: Positive FAIR test)" in why["skipped_for_missing"]
    # Recorded negative: nothing was missing, so nothing is reported as skipped.
    why = decide(rules, pain_deep_buttock=True, agg_sitting=True, exam_fair_test=False)
    assert "piriformis_pattern" not in why["skipped_for_missing"]
    # Recorded positive: the rule fires.
    why = decide(rules, pain_deep_buttock=True, agg_sitting=True, exam_fair_test=True)
    assert why["rule"] == "piriformis_pattern"


def test_unrecorded_red_flags_never_trigger_emergency_and_are_reported(rules):
    why = decide(rules, **dict.fromkeys(RED_FLAGS))
    assert why["pathway"] != "emergency"
    assert why["skipped_for_missing"].startswith("red_flag (not recorded: ")
    assert all(LABEL[f] in why["skipped_for_missing"] for f in RED_FLAGS)


def test_an_unrecorded_exclusion_counts_as_absent_and_explain_says_so(rules):
    why = decide(rules, **MINIMAL_PATTERNS["hamstring_pattern"], exam_weakness=None)
    assert why["rule"] == "hamstring_pattern"
    assert why["assumed_absent"] == LABEL["exam_weakness"]


def test_only_rules_tried_before_the_one_that_fired_are_reported_skipped(rules):
    # The hip rule comes after the red-flag rule: a red-flag patient never reaches it.
    why = decide(rules, rf_history_of_fracture=True, pain_deep_buttock=True, exam_fair_test=None)
    assert why["rule"] == "red_flag" and why["skipped_for_missing"] == ""


# ----------------------------------------------------------------------------------------------
# Cohorts


@pytest.mark.parametrize("setting", KB.setting_names)
def test_the_rules_never_miss_an_emergency_whose_red_flag_is_recorded(setting):
    patients = generate(8000, seed=21, setting=setting)
    predicted = RulesTriage().fit(patients[FEATURES]).predict(patients[FEATURES])
    recorded_flag = patients[RED_FLAGS].fillna(False).any(axis=1).to_numpy()
    emergency = (patients["pathway"] == "emergency").to_numpy()
    assert (emergency & recorded_flag).sum() > 20  # the check has cases to bite on
    assert (predicted[emergency & recorded_flag] == "emergency").all()
    # ... and conversely every recorded red flag, whatever the condition, is referred.
    assert (predicted[recorded_flag] == "emergency").all()


@pytest.mark.parametrize(("setting", "minimum"), [("sports_clinic", 0.10), ("primary_care", 0.0)])
def test_accuracy_beats_the_best_constant_prediction_beyond_sampling_error(setting, minimum):
    # 20,000 patients; the paired difference (rules right - constant right) per patient has
    # standard error sd/sqrt(n): demand the gain exceed 4 standard errors, and in the sports
    # clinic, where no pathway dominates, the 10 points a triage rule set is worth having for.
    # In primary care the spinal pathway (radicular and somatic referred leg pain) is about
    # 79% of patients, so "everyone to spinal" is a strong baseline: the rules beat it by
    # about 2 points only, beyond sampling error (and lose to it in the spine clinic, 84%
    # spinal; notebook 02 shows it).
    patients = generate(20_000, seed=2026, setting=setting)
    y = patients["pathway"].astype(str).to_numpy()
    predicted = RulesTriage().fit(patients[FEATURES]).predict(patients[FEATURES])
    best_constant = pd.Series(y).value_counts().index[0]
    difference = (predicted == y).astype(float) - (y == best_constant)
    standard_error = difference.std(ddof=1) / np.sqrt(len(difference))
    gain = difference.mean()
    assert gain > max(4 * standard_error, minimum), (gain, standard_error)


def test_works_in_cross_val_score_and_a_pipeline():
    patients = generate(1500, seed=8)
    X, y = patients[FEATURES], patients["pathway"].astype(str)
    direct = (RulesTriage().fit(X, y).predict(X) == y.to_numpy()).astype(float)
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    scores = cross_val_score(RulesTriage(), X, y, cv=cv)
    expected = [direct[test].mean() for _, test in cv.split(X, y)]
    assert scores == pytest.approx(expected)
    pipeline = Pipeline([("identity", FunctionTransformer()), ("rules", RulesTriage())])
    assert (pipeline.fit(X, y).predict(X) == RulesTriage().fit(X).predict(X)).all()
    assert cross_val_score(pipeline, X, y, cv=cv) == pytest.approx(expected)


def test_a_knowledge_folder_survives_cloning_and_pickling(tmp_path):
    # cross_val_score clones the estimator and a saved model is pickled: a folder path
    # allows both, and the edited rules in it are the ones applied.
    shutil.copytree(KNOWLEDGE_DIR, tmp_path / "kb")
    path = tmp_path / "kb" / RULES_FILE
    text = path.read_text(encoding="utf-8")
    default = text[text.index("\n[default]\n") : text.index("[[rules]]")]
    path.write_text(text.replace(default, default.replace('"spinal"', '"muscular"')), "utf-8")
    X = pd.concat([patient()] * 6, ignore_index=True)
    y = pd.Series(["muscular", "spinal"] * 3)
    scores = cross_val_score(RulesTriage(knowledge=tmp_path / "kb"), X, y, cv=2)
    assert scores.mean() == pytest.approx(0.5)  # everyone gets the edited default
    fitted = pickle.loads(pickle.dumps(RulesTriage(knowledge=str(tmp_path / "kb")).fit(X)))
    assert fitted.predict(X).tolist() == ["muscular"] * 6


def test_recovery_policy_rules_uses_the_estimator():
    patients = generate(300, seed=9)
    fitted = fit_policy("rules", patients)
    assert isinstance(fitted, RulesTriage)
    assert len(fitted.predict(patients[FEATURES])) == 300


def test_input_is_not_modified():
    patients = generate(500, seed=10)
    X = patients[FEATURES].iloc[::-1]  # a non-trivial index
    before = X.copy(deep=True)
    fitted = RulesTriage().fit(X, patients["pathway"].iloc[::-1])
    fitted.predict(X), fitted.predict_proba(X), fitted.explain(X)
    pd.testing.assert_frame_equal(X, before)


def test_explain_rows_align_with_the_input_index_and_agree_with_predict():
    patients = generate(600, seed=12).sample(frac=1.0, random_state=1)
    X = patients[FEATURES]
    fitted = RulesTriage().fit(X)
    why = fitted.explain(X)
    assert why.index.equals(X.index)
    assert (why["pathway"].to_numpy() == fitted.predict(X)).all()
    names = [r.name for r in (*fitted.rules_.rules, fitted.rules_.default)]
    assert set(why["rule"]) <= set(names)
    assert (why["fired_on"] != "").all()


# ----------------------------------------------------------------------------------------------
# Input validation


def test_a_table_without_a_finding_column_is_rejected_naming_it():
    X = generate(20, seed=1)[FEATURES].drop(columns=["exam_fair_test", "pain_neck"])
    with pytest.raises(ValueError, match="pain_neck, exam_fair_test"):
        RulesTriage().fit(X)


def test_a_finding_that_is_not_yes_or_no_is_rejected_naming_column_and_rows(rules):
    X = patient().astype({"pain_neck": object})
    X.loc[0, "pain_neck"] = "yes"
    with pytest.raises(ValueError, match=r"'pain_neck'.*rows 0.*'yes'"):
        rules.predict(X)
    unfitted = RulesTriage()
    with pytest.raises(ValueError, match="'pain_neck'"):
        unfitted.fit(X)  # caught at fit, and the estimator is not left half-fitted
    assert not hasattr(unfitted, "rules_")


def test_findings_given_as_numbers_or_objects_mean_the_same():
    patients = generate(300, seed=13)
    X = patients[FEATURES]
    as_numbers = X.astype({f: "Float64" for f in KB.finding_names}).astype(
        {f: float for f in KB.finding_names}
    )  # NaN for not recorded
    fitted = RulesTriage().fit(X)
    assert (RulesTriage().fit(as_numbers).predict(as_numbers) == fitted.predict(X)).all()


def test_a_plain_array_is_read_by_position_after_fitting_on_a_table():
    patients = generate(200, seed=14)
    X = patients[FEATURES]
    fitted = RulesTriage().fit(X)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        assert (fitted.predict(X.to_numpy()) == fitted.predict(X)).all()


def test_an_array_without_names_falls_back_to_the_default_with_a_warning():
    with pytest.warns(UserWarning, match="no column names"):
        fitted = RulesTriage().fit(np.zeros((4, 3)))
    assert fitted.predict(np.ones((2, 3))).tolist() == ["spinal", "spinal"]


def test_predicting_on_different_columns_than_fit_is_an_error(rules):
    with pytest.raises(ValueError, match="feature names"):
        rules.predict(patient().drop(columns=["age"]))


# ----------------------------------------------------------------------------------------------
# The rules file


def test_rules_table_lists_every_rule_in_order_with_its_source():
    table = rules_table()
    decision = load_triage_rules()
    assert table["rule"].tolist() == [r.name for r in (*decision.rules, decision.default)]
    assert table["source"].str.match(r"^(seed:\d{3} §.+|study:[a-z0-9]+|assumption.*)$").all()
    assert table.loc[table["rule"] == "piriformis_pattern", "min_any"].item() == 2
    assert (
        LABEL["exam_fair_test"] in table.loc[table["rule"] == "piriformis_pattern", "any_of"].item()
    )


def test_the_default_is_the_commonest_pathway_of_the_default_setting():
    # The reason the rules file gives for its default stays true if the case mix changes.
    mix = KB.setting(KB.default_setting).case_mix
    share = {p: sum(mix[c.name] for c in KB.conditions if c.pathway == p) for p in KB.pathways}
    assert load_triage_rules().default.pathway == max(share, key=share.get)


RULES_FILE = "triage_rules.toml"


@pytest.mark.parametrize(
    ("old", "new", "key", "value"),
    [
        (
            '    "exam_fair_test",\n]',
            '    "exam_fair",\n]',
            "rules.piriformis_pattern.any",
            "exam_fair",
        ),
        ('pathway = "muscular"', 'pathway = "physio"', "rules.hamstring_pattern.pathway", "physio"),
        (
            'source = "seed:002 §True Sciatica (Radiculopathy)"\n',
            "",
            "rules.lumbar_radiculopathy.source",
            "is missing",
        ),
        (
            'source = "seed:002 §True Sciatica (Radiculopathy)"',
            'source = "seed:009 §Nowhere"',
            "rules.lumbar_radiculopathy.source",
            "seed:009",
        ),
        ("\n[default]\n", "\n[fallback]\n", "fallback", "not a section"),
        (
            'none = ["pain_low_back"',
            'non = ["pain_low_back"',
            "rules.piriformis_pattern.non",
            "non",
        ),
        (
            'min_any = { value = 2, source = "assumption: a single',
            'min_any = { value = 7, source = "assumption: a single',
            "rules.neck_arm_pattern.min_any",
            "7",
        ),
    ],
)
def test_a_broken_rules_file_names_file_key_and_value(tmp_path, old, new, key, value):
    shutil.copytree(KNOWLEDGE_DIR, tmp_path / "kb")
    path = tmp_path / "kb" / RULES_FILE
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    kb = load_knowledge(tmp_path / "kb")
    with pytest.raises(KnowledgeError) as error:
        load_triage_rules(kb)
    message = str(error.value)
    assert RULES_FILE in message and f"[{key}]" in message and value in message, message
    with pytest.raises(KnowledgeError):
        RulesTriage(knowledge=kb).fit(patient())


def test_an_empty_rule_list_or_a_missing_default_is_rejected(tmp_path):
    shutil.copytree(KNOWLEDGE_DIR, tmp_path / "kb")
    path = tmp_path / "kb" / RULES_FILE
    text = path.read_text(encoding="utf-8")
    header, _, _ = text.partition("[[rules]]")
    path.write_text(header, encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"triage_rules.toml: \[rules\] must list"):
        load_triage_rules(load_knowledge(tmp_path / "kb"))
    start, end = text.index("\n[default]\n"), text.index("[[rules]]")
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"triage_rules.toml: \[default\] is missing"):
        load_triage_rules(load_knowledge(tmp_path / "kb"))


def test_a_changed_rules_file_changes_the_decisions(tmp_path):
    # Knowledge is data: editing the file, not the code, changes the triage.
    shutil.copytree(KNOWLEDGE_DIR, tmp_path / "kb")
    path = tmp_path / "kb" / RULES_FILE
    text = path.read_text(encoding="utf-8")
    default = text[text.index("\n[default]\n") : text.index("[[rules]]")]
    path.write_text(text.replace(default, default.replace('"spinal"', '"muscular"')), "utf-8")
    kb = load_knowledge(tmp_path / "kb")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert RulesTriage(knowledge=kb).fit(patient()).predict(patient())[0] == "muscular"


# ----------------------------------------------------------------------------------------------
# Departures from the issue's wording (documented in triage_rules.toml) are the better choice


def _variant(tmp_path, name: str, *edits: tuple[str, str]) -> RulesTriage:
    folder = tmp_path / name
    shutil.copytree(KNOWLEDGE_DIR, folder)
    path = folder / RULES_FILE
    text = path.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    return RulesTriage(knowledge=folder)


def test_the_documented_departures_from_the_issue_wording_are_more_accurate(tmp_path):
    # 20,000 primary-care patients, each rule set on the same patients: a paired difference
    # in accuracy. Its SE is sqrt(discordant share / n) <= sqrt(0.06 / 20,000) = 0.0017, so a
    # shipped-minus-variant difference > 3 SE (0.005) is beyond sampling error; the measured
    # differences are 0.011 to 0.057.
    patients = generate(20_000, seed=0, setting="primary_care")
    X, truth = patients[FEATURES], patients["pathway"].astype(str).to_numpy()
    shipped = RulesTriage().fit(X)
    right = shipped.predict(X) == truth

    def advantage(predicted: np.ndarray) -> tuple[float, float]:
        diff = right.astype(float) - (predicted == truth)
        return diff.mean(), diff.std(ddof=1) / np.sqrt(len(diff))

    one_provocation = 'min_any = { value = 1, source = "assumption: one hip-loading'
    hip_as_worded = _variant(
        tmp_path, "hip",
        ('min_any = { value = 2, source = "assumption: one hip-loading', one_provocation),
        ('    "agg_lying_on_side",\n    "agg_hip_rotation",\n', ""),
    )  # fmt: skip
    no_knee_condition = _variant(tmp_path, "ham", ('none = [\n    "pain_below_knee",\n',
                                                   "none = [\n"))  # fmt: skip
    # "No neurological sign" only when every sign is recorded negative: the hamstring rule
    # then cannot fire where one is unrecorded, and those patients get the default.
    for name, predicted in [
        ("hip rule with one provocation, as worded", hip_as_worded.fit(X).predict(X)),
        ("hamstring rule without the below-knee condition", no_knee_condition.fit(X).predict(X)),
    ]:
        gain, se = advantage(predicted)
        assert gain > 3 * se, (name, gain, se)
    # The third departure pays where muscular patients are common (the sports clinic, about
    # 6 points); in primary care, four in five patients belong on the spinal default, so
    # blocking the hamstring rule would there be about 1 point more accurate (the comment in
    # triage_rules.toml says so).
    sports = generate(20_000, seed=0, setting="sports_clinic")
    X, truth = sports[FEATURES], sports["pathway"].astype(str).to_numpy()
    right = shipped.predict(X) == truth
    explained = shipped.explain(X)
    signs = ["exam_weakness", "exam_reflex_change", "exam_sensory_loss", "exam_foot_drop"]
    unexamined = sports[signs].isna().any(axis=1).to_numpy()
    strict = np.where((explained["rule"] == "hamstring_pattern").to_numpy() & unexamined,
                      shipped.rules_.default.pathway, shipped.predict(X))  # fmt: skip
    gain, se = advantage(strict)
    assert gain > 3 * se, ("unrecorded neurological signs block the hamstring rule", gain, se)
