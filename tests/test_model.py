"""The shared patient model: the rules that both the generator and the oracle rely on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from outcomes.engine.cohort import generate
from outcomes.engine.model import OVERRIDES, build_model
from outcomes.knowledge import load_knowledge


@pytest.fixture(scope="module")
def model():
    return build_model("primary_care")


def idx(model, name):
    return model.findings.index(name)


def test_typical_case_reproduces_the_knowledge_base(model):
    kb = load_knowledge()
    for c, condition in enumerate(kb.conditions):
        p = model.finding_probability(
            np.array([c]), np.array([0]), model.mean_severity[[c]], np.array([False])
        )[0]
        true = np.array([condition.findings[f] for f in model.findings])
        # What is recorded: the true finding through the recording error of findings.toml.
        expected = model.false_positive + (1 - model.false_positive - model.false_negative) * true
        np.testing.assert_allclose(p, expected, rtol=1e-12, atol=1e-15)


def test_deficits_rise_with_severity_and_chronicity(model):
    disc = model.conditions.index("disc_herniation")
    severities = np.linspace(0, 1, 11)
    p = model.finding_probability(
        np.full(11, disc), np.zeros(11, int), severities, np.zeros(11, bool)
    )
    assert np.all(np.diff(p[:, idx(model, "exam_weakness")]) > 0)
    assert np.all(np.diff(p[:, idx(model, "agg_stairs")]) == 0)  # no severity slope
    acute, chronic = (
        model.finding_probability(np.array([disc]), np.array([0]), np.array([0.5]), np.array([c]))[
            0
        ]
        for c in (False, True)
    )
    assert chronic[idx(model, "exam_foot_drop")] > acute[idx(model, "exam_foot_drop")]


def test_a_secondary_contributor_adds_its_signs_by_noisy_or(model):
    disc = model.conditions.index("disc_herniation")
    hamstring = 1 + model.conditions.index("hamstring_tightness")
    sev = model.mean_severity[[disc]]
    alone = model.finding_probability(np.array([disc]), np.array([0]), sev, np.array([False]))[0]
    mixed = model.finding_probability(
        np.array([disc]), np.array([hamstring]), sev, np.array([False])
    )[0]
    assert np.all(mixed >= alone)
    j = idx(model, "exam_hamstring_tightness")
    added = model.secondary_weight * model.typical_p[hamstring - 1, j]
    fp, scale = model.false_positive[j], 1 - model.false_positive[j] - model.false_negative[j]
    true_alone, true_mixed = (alone[j] - fp) / scale, (mixed[j] - fp) / scale
    assert true_mixed == pytest.approx(1 - (1 - true_alone) * (1 - added))


def test_pain_sensitivity_moves_the_loaded_findings_together_and_no_others(model):
    disc = model.conditions.index("disc_herniation")
    low, high = (
        model.finding_probability(
            np.array([disc]), np.array([0]), np.array([0.5]), np.array([False]), np.array([v])
        )[0]
        for v in (-1.0, 1.0)
    )
    loaded = model.sensitivity_loading > 0
    assert loaded.sum() >= 5  # several provocation findings share the factor
    assert np.all(high[loaded] > low[loaded])
    np.testing.assert_array_equal(high[~loaded], low[~loaded])


def test_recorded_signs_carry_examiner_error(model):
    # Recording error: a sign a condition almost never has is still recorded present at
    # about the examiner's false-positive rate, and a near-certain one is sometimes missed.
    j = idx(model, "exam_foot_drop")
    assert model.false_positive[j] > 0 and model.false_negative[j] > 0
    hamstring = model.conditions.index("hamstring_tightness")
    p = model.finding_probability(
        np.array([hamstring]), np.array([0]), model.mean_severity[[hamstring]], np.array([False])
    )[0]
    assert p[j] > model.typical_p[hamstring, j] + 0.5 * model.false_positive[j]


def test_cdfs_end_at_one_and_skip_impossible_categories():
    m = build_model(case_mix={"disc_herniation": 0.5, "piriformis_syndrome": 0.5})
    cdf = m.cdf("prior")
    assert cdf[-1] == 1.0
    assert np.all(np.diff(cdf)[m.prior[1:] == 0] == 0)


def test_combined_fraction_rescales_only_conditions_with_secondaries():
    m = build_model(combined_fraction=0.4)
    has = build_model().secondary[:, 1:].sum(axis=1) > 0
    np.testing.assert_allclose(m.secondary[has, 0], 0.6)
    np.testing.assert_allclose(m.secondary[~has, 0], 1.0)
    np.testing.assert_allclose(m.secondary.sum(axis=1), 1.0)


def test_overrides_are_documented():
    assert set(OVERRIDES) == {
        "case_mix", "exam_missing_rate", "red_flag_missing_rate", "chronic_fraction",
        "combined_fraction",
    }  # fmt: skip


def test_an_override_of_none_means_the_settings_own_value():
    # Notebook parameters and CLI options pass overrides unconditionally; None must not change
    # the model (nor the cohort drawn from it).
    plain = build_model("sports_clinic")
    with_none = build_model("sports_clinic", exam_missing_rate=None, chronic_fraction=None)
    np.testing.assert_array_equal(plain.missing, with_none.missing)
    assert with_none.overrides == {}
    pd.testing.assert_frame_equal(
        generate(300, seed=5, setting="sports_clinic"),
        generate(300, seed=5, setting="sports_clinic", exam_missing_rate=None),
    )


@pytest.mark.parametrize("value", [0.3, 1, np.float32(0.3), np.float64(0.3), np.int64(1)])
def test_any_real_number_in_range_is_a_probability(value):
    model = build_model(chronic_fraction=value)
    np.testing.assert_allclose(model.chronic_fraction, float(value))
    assert type(model.overrides["chronic_fraction"]) in (float, int)  # recorded as plain JSON


@pytest.mark.parametrize("value", [True, np.bool_(True), "0.3", float("nan"), -0.1, 1.5, 2j])
def test_anything_else_is_not_a_probability(value):
    with pytest.raises(ValueError, match="override 'chronic_fraction' must be a probability"):
        build_model(chronic_fraction=value)


def test_a_numpy_case_mix_is_accepted():
    mix = {"disc_herniation": np.float32(0.5), "piriformis_syndrome": np.float64(0.5)}
    model = build_model(case_mix=mix)
    assert model.prior[model.conditions.index("disc_herniation")] == 0.5
    assert all(type(v) is float for v in model.overrides["case_mix"].values())
