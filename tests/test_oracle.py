"""The Bayes oracle is exact, calibrated, and not beaten by a classifier trained on the data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from outcomes.cohort import feature_columns, generate
from outcomes.knowledge import ONSETS, SEXES, SIDES, load_knowledge
from outcomes.model import build_model
from outcomes.oracle import BayesOracle


def reference_log_joint(row: pd.Series, setting: str) -> np.ndarray:
    """log P(condition, record) for one patient by direct adaptive integration: slow, plain."""
    model = build_model(setting)
    kb = model.knowledge
    out = []
    for c in range(len(model.conditions)):
        total = 0.0
        for s in range(len(model.conditions) + 1):
            w_sec = model.secondary[c, s]
            if w_sec == 0:
                continue

            def integrand(x, c=c, s=s):
                chronic = row["symptom_duration_weeks"] > model.chronic_threshold_weeks
                p = model.finding_probability(
                    np.array(c), np.array(s), np.array(x), np.array(chronic)
                )
                like = 1.0
                for j, f in enumerate(model.findings):
                    if pd.isna(row[f]):
                        continue
                    like *= p[j] if row[f] else 1 - p[j]
                lo, hi = model.pain_range[c]
                like *= stats.binom.pmf(row["pain_nrs"], 10, lo + (hi - lo) * x)
                lo, hi = model.odi_range[c]
                like *= stats.binom.pmf(row["odi"] // 2, 50, lo + (hi - lo) * x)
                return like * stats.beta.pdf(x, model.beta_a[c], model.beta_b[c])

            value, _ = integrate.quad(integrand, 0, 1, epsabs=0, epsrel=1e-11, limit=200)
            total += w_sec * value
        mu, sd = model.age_mean[c], model.age_sd[c]
        norm = stats.norm.cdf((model.age_max + 1 - mu) / sd) - stats.norm.cdf(
            (model.age_min - mu) / sd
        )
        p_age = (
            stats.norm.cdf((row["age"] + 1 - mu) / sd) - stats.norm.cdf((row["age"] - mu) / sd)
        ) / norm
        d = row["symptom_duration_weeks"]
        if d <= model.chronic_threshold_weeks:
            p_dur = (1 - model.chronic_fraction[c]) / model.chronic_threshold_weeks
        else:
            p_dur = model.chronic_fraction[c] * stats.geom.pmf(
                d - model.chronic_threshold_weeks, 1 / model.chronic_extra_weeks_mean
            )
        both = model.bilateral[c]
        p_side = both if row["side"] == "both" else (1 - both) / 2
        p_sex = model.female[c] if row["sex"] == SEXES[0] else 1 - model.female[c]
        p_onset = model.onset_sudden[c] if row["onset"] == ONSETS[0] else 1 - model.onset_sudden[c]
        p_occ = model.occupation[c, kb.occupations.index(row["occupation"])]
        p_trig = model.trigger[c, kb.triggers.index(row["trigger"])]
        assert row["side"] in SIDES
        out.append(
            np.log(
                model.prior[c] * total * p_age * p_dur * p_side * p_sex * p_onset * p_occ * p_trig
            )
        )
    return np.array(out)


@pytest.mark.parametrize("setting", ["primary_care", "sports_clinic"])
def test_oracle_equals_direct_integration(setting):
    df = generate(6, seed=17, setting=setting)
    oracle = BayesOracle(setting=setting).fit(df)
    got = oracle.condition_log_posterior(df)
    for i in range(len(df)):
        ref = reference_log_joint(df.iloc[i], setting)
        ref -= np.logaddexp.reduce(ref)
        np.testing.assert_allclose(np.exp(got[i]), np.exp(ref), atol=1e-9)


def test_quadrature_has_converged():
    df = generate(3000, seed=4)
    coarse = BayesOracle(n_nodes=48).fit(df).predict_proba(df)
    fine = BayesOracle(n_nodes=160).fit(df).predict_proba(df)
    assert np.abs(coarse - fine).max() < 1e-8


def test_missing_findings_are_skipped_not_guessed():
    df = generate(400, seed=8)
    blank = df.copy()
    blank["exam_fair_test"] = pd.array([pd.NA] * len(df), dtype="boolean")
    oracle = BayesOracle().fit(df)
    changed = np.abs(oracle.predict_proba(blank) - oracle.predict_proba(df)).max(axis=1) > 1e-12
    was_recorded = df["exam_fair_test"].notna().to_numpy()
    assert not changed[~was_recorded].any()  # rows where it was already missing are unchanged
    assert changed[was_recorded].mean() > 0.9


def test_rows_use_their_own_setting_prior():
    a = generate(300, seed=1, setting="primary_care")
    b = generate(300, seed=1, setting="sports_clinic")
    both = pd.concat([a, b], ignore_index=True)
    per_row = BayesOracle().fit(both).predict_proba(both)
    np.testing.assert_allclose(
        per_row[:300], BayesOracle(setting="primary_care").fit(a).predict_proba(a)
    )
    np.testing.assert_allclose(
        per_row[300:], BayesOracle(setting="sports_clinic").fit(b).predict_proba(b)
    )


def test_input_is_not_modified():
    df = generate(500, seed=2)
    before = df.copy()
    BayesOracle().fit(df).predict_proba(df)
    pd.testing.assert_frame_equal(df, before)


def test_clear_errors():
    df = generate(20, seed=2)
    with pytest.raises(ValueError, match="lacks column\\(s\\): exam_fair_test"):
        BayesOracle().fit(df).predict_proba(df.drop(columns="exam_fair_test"))
    with pytest.raises(ValueError, match="target must be 'pathway' or 'condition'"):
        BayesOracle(target="diagnosis").fit(df)
    with pytest.raises(ValueError, match="setting 'clinic' is unknown"):
        BayesOracle(setting="clinic").fit(df)


@pytest.fixture(scope="module")
def calibration_cohort() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    df = generate(80_000, seed=123, setting="primary_care")
    oracle = BayesOracle().fit(df)
    return df, oracle.predict_proba(df), oracle.classes_


def test_posteriors_are_calibrated_within_sampling_error(calibration_cohort):
    df, proba, classes = calibration_cohort
    truth = df["pathway"].astype(str).to_numpy()
    edges = np.linspace(0, 1, 11)
    checked = 0
    for k, pathway in enumerate(classes):
        p = proba[:, k]
        hit = truth == pathway
        bins = np.clip(np.digitize(p, edges) - 1, 0, 9)
        for b in range(10):
            rows = bins == b
            n = rows.sum()
            if n < 100:
                continue
            expected = p[rows].mean()
            # The observed frequency is a mean of independent Bernoulli(p_i): its SD is
            # sqrt(sum p_i (1 - p_i)) / n. Five SDs (plus a hair for float noise) bounds it.
            sd = np.sqrt((p[rows] * (1 - p[rows])).sum()) / n
            assert abs(hit[rows].mean() - expected) <= 5 * sd + 1e-3, (pathway, b, n)
            checked += 1
    assert checked >= 15


def test_no_classifier_trained_on_the_data_beats_the_oracle():
    train = generate(30_000, seed=1)
    test = generate(20_000, seed=2)
    cols = feature_columns()

    def encode(d: pd.DataFrame) -> pd.DataFrame:
        x = d[cols].copy()
        for c in x.columns:
            if x[c].dtype.name in ("bool", "boolean"):
                x[c] = x[c].astype("float64")
        return x

    with threadpool_limits(1):
        model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)
        model.fit(encode(train), train["pathway"].astype(str))
        learned = model.predict(encode(test)) == test["pathway"].astype(str).to_numpy()
    exact = BayesOracle().fit(test).predict(test) == test["pathway"].astype(str).to_numpy()
    # Paired difference of accuracies on the same patients: SE = sqrt(discordant) / n.
    discordant = (learned != exact).sum()
    se = np.sqrt(discordant) / len(test)
    assert learned.mean() - exact.mean() < 3 * se
    assert learned.mean() > 0.9 * exact.mean()  # and the comparison is a real one


def test_condition_target_and_pathway_target_agree():
    df = generate(1000, seed=6)
    kb = load_knowledge()
    by_condition = BayesOracle(target="condition").fit(df).predict_proba(df)
    by_pathway = BayesOracle().fit(df).predict_proba(df)
    pathways = list(kb.pathways)
    summed = np.zeros_like(by_pathway)
    for i, c in enumerate(kb.conditions):
        summed[:, pathways.index(c.pathway)] += by_condition[:, i]
    np.testing.assert_allclose(summed, by_pathway, atol=1e-12)


def test_ceiling_reports_every_pathway_and_says_no_patients_when_empty():
    from outcomes.oracle import ceiling

    df = generate(400, seed=5, case_mix={"disc_herniation": 0.6, "piriformis_syndrome": 0.4})
    table = ceiling(df)
    assert list(table.index) == ["all patients", *load_knowledge().pathways]
    assert table.loc["emergency", "patients"] == 0
    assert table.loc["emergency", "summary"] == "no patients"
    assert table.loc["all patients", "patients"] == 400
    assert table.loc["spinal", "patients"] + table.loc["hip", "patients"] == 400
    acc = table.loc["all patients", "accuracy"]
    assert table.loc["all patients", "ci_low"] <= acc <= table.loc["all patients", "ci_high"]
