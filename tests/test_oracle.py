"""The Bayes oracle is exact, calibrated, and not beaten by a classifier trained on the data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special, stats
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from outcomes.engine.cohort import feature_columns, generate
from outcomes.engine.model import SENSITIVITY_LEVELS, build_model
from outcomes.knowledge import ONSETS, SEXES, SIDES, load_knowledge
from outcomes.triage.oracle import BayesOracle


def reference_log_joint(row: pd.Series, setting: str) -> np.ndarray:
    """log P(condition, record) for one patient by direct adaptive integration: slow, plain.

    The integrand is the textbook product of densities. What does not depend on the severity
    ``x`` (which findings are recorded, chronicity, the binomial coefficients, the beta
    function) is computed once per patient, and the binomial and beta densities are written
    out in closed form instead of calling ``scipy.stats`` (whose per-call overhead on scalars
    dominated this test's run time): the same numbers to rounding, so the reference is as
    exact as before.
    """
    model = build_model(setting)
    kb = model.knowledge
    chronic = np.array(row["symptom_duration_weeks"] > model.chronic_threshold_weeks)
    recorded = np.array([not pd.isna(row[f]) for f in model.findings])
    present = np.array([bool(row[f]) if r else False for f, r in zip(model.findings, recorded,
                                                                     strict=True)])  # fmt: skip
    pain, odi_half = int(row["pain_nrs"]), int(row["odi"] // 2)
    pain_coef, odi_coef = math.comb(10, pain), math.comb(50, odi_half)
    pain_range, odi_range = model.pain_range.tolist(), model.odi_range.tolist()
    beta_a, beta_b = model.beta_a.tolist(), model.beta_b.tolist()
    log_beta = special.betaln(model.beta_a, model.beta_b).tolist()
    out = []
    for c in range(len(model.conditions)):
        total = 0.0
        for s in range(len(model.conditions) + 1):
            w_sec = model.secondary[c, s]
            if w_sec == 0:
                continue

            def integrand(x, c=c, s=s, level=0.0):
                p = model.finding_probability(
                    np.array(c), np.array(s), np.array(x), chronic, np.array(level)
                )
                like = float(np.prod(np.where(present, p, 1 - p)[recorded]))
                lo, hi = pain_range[c]
                q = lo + (hi - lo) * x  # binomial pmf of pain_nrs out of 10
                like *= pain_coef * q**pain * (1 - q) ** (10 - pain)
                lo, hi = odi_range[c]
                q = lo + (hi - lo) * x  # binomial pmf of odi // 2 out of 50
                like *= odi_coef * q**odi_half * (1 - q) ** (50 - odi_half)
                # Beta density of the severity (x is inside (0, 1): quad never evaluates the
                # end points).
                a, b = beta_a[c], beta_b[c]
                return like * math.exp((a - 1) * math.log(x) + (b - 1) * math.log1p(-x)
                                       - log_beta[c])  # fmt: skip

            # The shared pain-sensitivity factor: a sum over its levels.
            for level, w_level in zip(SENSITIVITY_LEVELS, model.sensitivity_prior, strict=True):
                value, _ = integrate.quad(
                    integrand, 0, 1, args=(c, s, level), epsabs=0, epsrel=1e-11, limit=200
                )
                total += w_sec * w_level * value
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
    # On the log scale (probabilities near 0 or 1 hide a change): blanking a recorded FAIR
    # test moves every such patient's posterior, and leaves the others exactly as they were.
    change = np.abs(oracle.condition_log_posterior(blank) - oracle.condition_log_posterior(df))
    was_recorded = df["exam_fair_test"].notna().to_numpy()
    assert was_recorded.sum() >= 30
    assert (change[~was_recorded] == 0).all()
    assert (change[was_recorded].max(axis=1) > 1e-3).all()


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
    bad = df.copy()
    bad.loc[[3, 7], "pain_nrs"] = 14
    with pytest.raises(ValueError, match=r"'pain_nrs' must hold .* 0 to 10 .* row\(s\) 3, 7"):
        BayesOracle().fit(bad).predict_proba(bad)
    bad = df.copy()
    bad.loc[5, "odi"] = 33
    with pytest.raises(ValueError, match=r"'odi' must hold multiples of 2 .* row\(s\) 5"):
        BayesOracle().fit(bad).predict_proba(bad)


# Calibration: does the oracle's P(pathway) match how often that pathway is the truth?
#
# For each pathway k the patients are binned by logit P(k) at fixed edges (bins depend on the
# predictions only). If the oracle is calibrated, the number of patients of pathway k in bin b
# is a sum of independent Bernoulli(p_i): mean E = sum p_i, variance V = sum p_i (1 - p_i), so
# Z_b = (observed - E) / sqrt(V) is close to N(0, 1) when the bin expects at least
# MIN_EXPECTED patients with and without the pathway (sparser bins say little and are skipped).
# The bins of one pathway hold disjoint patients, so H_k = sum_b Z_b^2 follows chi-square with
# one degree of freedom per tested bin. The pathways share patients (their probabilities sum
# to 1), so the joint threshold is Bonferroni over the K pathways: the check fails when any
# H_k exceeds chi2.isf(ALPHA / K, bins_k). A calibrated oracle then fails for at most a
# fraction ALPHA of seeds. Pooling all bins of a pathway is what gives the check its power:
# a probability sharpened or flattened by 10% (power 1.1 or 0.9) shifts most bins a little.
ALPHA = 1e-3
MIN_EXPECTED = 25
LOGIT_EDGES = np.array([-7, -5.5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5.5, 7])
#: Patients per setting: the smallest round size at which sharpened and flattened oracles fail
#: in every setting with room to spare (checked on two seeds: H / threshold >= 1.4 for them,
#: <= 0.65 for the oracle itself).
CALIBRATION_PATIENTS = 80_000


def calibration_excess(proba: np.ndarray, truth: np.ndarray) -> tuple[float, int]:
    """(max over pathways of H_k / threshold_k, bins tested); above 1 means miscalibrated."""
    worst, tested = 0.0, 0
    n_classes = proba.shape[1]
    for k in range(n_classes):
        p = proba[:, k]
        with np.errstate(divide="ignore"):
            bins = np.digitize(np.log(p) - np.log1p(-p), LOGIT_EDGES)

        expected, expected_not, variance, observed = (
            np.bincount(bins, weights=w, minlength=len(LOGIT_EDGES) + 1)
            for w in (p, 1 - p, p * (1 - p), (truth == k).astype(float))
        )
        used = (expected >= MIN_EXPECTED) & (expected_not >= MIN_EXPECTED)
        if not used.any():
            continue
        h = ((observed - expected)[used] ** 2 / variance[used]).sum()
        worst = max(worst, h / stats.chi2.isf(ALPHA / n_classes, used.sum()))
        tested += int(used.sum())
    return worst, tested


def sharpen(proba: np.ndarray, power: float) -> np.ndarray:
    """A deliberately miscalibrated oracle: probabilities to a power, renormalised."""
    q = proba**power
    return q / q.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module", params=["primary_care", "spine_clinic", "sports_clinic"])
def calibration_cohort(request) -> tuple[np.ndarray, np.ndarray]:
    df = generate(CALIBRATION_PATIENTS, seed=123, setting=request.param)
    oracle = BayesOracle().fit(df)
    truth = pd.Categorical(df["pathway"].astype(str), categories=list(oracle.classes_)).codes
    return oracle.predict_proba(df), truth


def test_posteriors_are_calibrated_within_sampling_error(calibration_cohort):
    proba, truth = calibration_cohort
    excess, tested = calibration_excess(proba, truth)
    assert tested >= 15  # the check looks at many bins, not a handful
    assert excess < 1


@pytest.mark.parametrize("power", [1.1, 0.9])
def test_the_calibration_check_catches_a_sharpened_or_flattened_oracle(calibration_cohort, power):
    # Proof the check has teeth: the same patients, probabilities distorted by 10%.
    proba, truth = calibration_cohort
    excess, _ = calibration_excess(sharpen(proba, power), truth)
    assert excess > 1


@pytest.fixture(scope="module")
def classifier_and_oracle() -> dict[str, np.ndarray]:
    """A gradient-boosted classifier trained on 30,000 patients, and the oracle, both scored
    on 20,000 other patients: per-patient correctness and probability of the true pathway."""
    train = generate(30_000, seed=1)
    test = generate(20_000, seed=2)
    cols = feature_columns()

    def encode(d: pd.DataFrame) -> pd.DataFrame:
        x = d[cols].copy()
        for c in x.columns:
            if x[c].dtype.name in ("bool", "boolean"):
                x[c] = x[c].astype("float64")
        return x

    truth = test["pathway"].astype(str).to_numpy()
    with threadpool_limits(1):
        model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)
        model.fit(encode(train), train["pathway"].astype(str))
        learned = model.predict_proba(encode(test))
    oracle = BayesOracle().fit(test)
    exact = oracle.predict_proba(test)

    def of_truth(proba: np.ndarray, classes: np.ndarray) -> np.ndarray:
        column = pd.Categorical(truth, categories=list(classes)).codes
        assert (column >= 0).all()
        return proba[np.arange(len(truth)), column]

    learned_p = of_truth(learned, model.classes_)
    exact_p = of_truth(exact, oracle.classes_)
    frequencies = train["pathway"].astype(str).value_counts(normalize=True)
    return {
        "commonest_share": float((truth == frequencies.index[0]).mean()),
        "prior_p": frequencies.reindex(truth).to_numpy(),
        "learned_correct": model.classes_[learned.argmax(axis=1)] == truth,
        "exact_correct": oracle.classes_[exact.argmax(axis=1)] == truth,
        "learned_p": learned_p,
        "exact_p": exact_p,
    }


def test_no_classifier_trained_on_the_data_beats_the_oracle_on_accuracy(classifier_and_oracle):
    learned = classifier_and_oracle["learned_correct"]
    exact = classifier_and_oracle["exact_correct"]
    # Paired difference of accuracies on the same patients: SE = sqrt(discordant) / n.
    discordant = (learned != exact).sum()
    se = np.sqrt(discordant) / len(exact)
    assert learned.mean() - exact.mean() < 3 * se
    # And the comparison is a real one: the classifier beats always calling the commonest
    # pathway by more than 5 binomial standard errors of its accuracy.
    baseline = classifier_and_oracle["commonest_share"]
    assert learned.mean() - baseline > 5 * np.sqrt(baseline * (1 - baseline) / len(learned))


def test_no_classifier_trained_on_the_data_beats_the_oracle_on_log_loss(classifier_and_oracle):
    # The oracle's probabilities are the true posterior, so no method has a lower expected
    # log-loss (it is a proper scoring rule). Per-patient differences d = loss(classifier) -
    # loss(oracle) are independent across the test patients (both methods are fixed), so their
    # mean has standard error sd(d) / sqrt(n). The classifier would be "better beyond sampling
    # error" if the mean were below -3 SE (one-sided, about 1 in 740 by chance).
    eps = 1e-15  # as scikit-learn's log_loss: a probability of 0 costs -log(1e-15), not inf
    learned = -np.log(np.clip(classifier_and_oracle["learned_p"], eps, 1))
    exact = -np.log(np.clip(classifier_and_oracle["exact_p"], eps, 1))
    d = learned - exact
    mean, se = d.mean(), d.std(ddof=1) / np.sqrt(len(d))
    low, high = mean - 1.959964 * se, mean + 1.959964 * se  # 95% CI, shown on failure
    assert mean > -3 * se, f"classifier better by {-mean:.4f} nats (95% CI {low:.4f} to {high:.4f})"
    # A real contender, not a strawman: far better than predicting the pathways' frequencies
    # for everyone (log-loss = entropy of the case mix), by more than 5 standard errors.
    prior = -np.log(classifier_and_oracle["prior_p"])
    gain = prior - learned
    assert gain.mean() > 5 * gain.std(ddof=1) / np.sqrt(len(gain))


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
    from outcomes.analysis.evaluate import ceiling

    df = generate(400, seed=5, case_mix={"disc_herniation": 0.6, "piriformis_syndrome": 0.4})
    table = ceiling(df)
    assert list(table.index) == ["all patients", *load_knowledge().pathways]
    assert table.loc["emergency", "patients"] == 0
    assert table.loc["emergency", "summary"] == "no patients"
    assert table.loc["all patients", "patients"] == 400
    assert table.loc["spinal", "patients"] + table.loc["hip", "patients"] == 400
    acc = table.loc["all patients", "accuracy"]
    assert table.loc["all patients", "ci_low"] <= acc <= table.loc["all patients", "ci_high"]


# ---------------------------------------------------------------------------------------------
# The default oracle uses the overrides the cohort was generated with

MIX = {"disc_herniation": 0.2, "piriformis_syndrome": 0.4, "hamstring_tightness": 0.4}


@pytest.fixture(scope="module")
def mixed_cohort() -> pd.DataFrame:
    return generate(20_000, seed=5, case_mix=MIX)


def test_the_default_ceiling_uses_the_case_mix_the_cohort_was_made_with(mixed_cohort):
    from outcomes.analysis.evaluate import ceiling

    explicit = BayesOracle(overrides={"case_mix": MIX}).fit(mixed_cohort)
    default = BayesOracle().fit(mixed_cohort)
    assert default.overrides_ == {"case_mix": MIX}
    np.testing.assert_array_equal(
        default.predict_proba(mixed_cohort), explicit.predict_proba(mixed_cohort)
    )
    pd.testing.assert_frame_equal(ceiling(mixed_cohort), ceiling(mixed_cohort, explicit))
    # It matters: with the setting's own case mix as its prior the oracle is less accurate on
    # these same patients, by more than 3 standard errors of the paired difference.
    truth = mixed_cohort["pathway"].astype(str).to_numpy()
    setting_prior = BayesOracle(overrides={}).fit(mixed_cohort)
    gain = (explicit.predict(mixed_cohort) == truth).astype(float) - (
        setting_prior.predict(mixed_cohort) == truth
    )
    assert gain.mean() > 3 * gain.std(ddof=1) / np.sqrt(len(gain))


def test_an_explicit_overrides_argument_wins_over_what_the_cohort_recorded(mixed_cohort):
    none_given = mixed_cohort.copy()
    none_given.attrs.clear()  # as a team's file or a CSV: nothing recorded
    explicit_none = BayesOracle(overrides={}).fit(mixed_cohort)
    assert explicit_none.overrides_ == {}
    fallback = BayesOracle().fit(none_given)
    assert fallback.overrides_ == {}
    rows = mixed_cohort.iloc[:3000]
    np.testing.assert_array_equal(explicit_none.predict_proba(rows), fallback.predict_proba(rows))
    other = {"case_mix": {"disc_herniation": 0.5, "piriformis_syndrome": 0.5}}
    assert BayesOracle(overrides=other).fit(mixed_cohort).overrides_ == other


def test_recorded_missingness_is_carried_but_does_not_move_the_posterior():
    # Findings are missing completely at random, so the rate never enters the posterior.
    df = generate(2000, seed=8, setting="sports_clinic", exam_missing_rate=0.6)
    oracle = BayesOracle().fit(df)
    assert oracle.overrides_ == {"exam_missing_rate": 0.6}
    np.testing.assert_array_equal(
        oracle.predict_proba(df), BayesOracle(overrides={}).fit(df).predict_proba(df)
    )


def test_recorded_overrides_that_do_not_fit_the_knowledge_base_are_named():
    from outcomes.engine.cohort import GENERATED_WITH_KEY

    df = generate(50, seed=1)
    df.attrs[GENERATED_WITH_KEY] = {
        "setting": "primary_care",
        "overrides": {"case_mix": {"flu": 1}},
    }
    with pytest.raises(ValueError, match=r"recorded on the table .*unknown condition 'flu'"):
        BayesOracle().fit(df)
    assert BayesOracle(overrides={}).fit(df).overrides_ == {}


def test_the_chronic_threshold_itself_is_acute_and_one_week_more_is_chronic():
    """Exact integration on the boundary: a duration of exactly the threshold is acute (the
    generator draws acute durations from 1 to the threshold), one more week is chronic."""
    setting = "primary_care"
    threshold = build_model(setting).chronic_threshold_weeks
    df = generate(4, seed=23, setting=setting)
    weeks = np.array([threshold, threshold + 1, threshold, threshold + 1])
    df["symptom_duration_weeks"] = weeks.astype(df["symptom_duration_weeks"].dtype)
    df["chronic"] = weeks > threshold
    got = BayesOracle(setting=setting).fit(df).condition_log_posterior(df)
    for i in range(len(df)):
        ref = reference_log_joint(df.iloc[i], setting)
        ref -= np.logaddexp.reduce(ref)
        np.testing.assert_allclose(np.exp(got[i]), np.exp(ref), atol=1e-9)
    # The boundary matters: the same record a week apart has another posterior.
    same = df.iloc[[0, 0]].reset_index(drop=True)
    same["symptom_duration_weeks"] = weeks[:2].astype(df["symptom_duration_weeks"].dtype)
    same["chronic"] = weeks[:2] > threshold
    posterior = BayesOracle(setting=setting).fit(same).condition_log_posterior(same)
    assert np.abs(posterior[0] - posterior[1]).max() > 1e-3
