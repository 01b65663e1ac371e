"""Radicular versus other leg pain: the oracle within the published range, no model above it."""

from __future__ import annotations

import pytest

from outcomes.analysis.discrimination import discrimination_target, radicular_discrimination
from outcomes.analysis.targets import load_targets
from outcomes.engine.cohort import generate


@pytest.fixture(scope="module")
def table():
    # 8,000 spine-clinic test patients: about 7,400 with leg pain, so each AUC's 95% interval
    # is within +-0.01 and the paired difference of two scores on them is smaller still.
    train = generate(6000, seed=31, setting="spine_clinic")
    test = generate(8000, seed=32, setting="spine_clinic")
    return radicular_discrimination(train, test)


def test_the_oracle_is_within_the_published_multivariable_range(table):
    target = next(t for t in load_targets() if t.name == "radicular_auc_history_exam")
    oracle = table.loc["oracle"]
    assert oracle["high"] >= target.low and oracle["low"] <= target.high


def test_learned_models_learn_but_do_not_beat_the_oracle(table):
    # The oracle's posterior is the best score there is; a fitted model may tie it within
    # sampling error (0.01 is about twice the interval's half-width of a paired difference).
    for model in ("logistic", "boosted"):
        assert 0.75 < table.loc[model, "auc"] <= table.loc["oracle", "auc"] + 0.01, model
    assert (table["n"] == table.loc["oracle", "n"]).all()
    assert (table["low"] < table["auc"]).all() and (table["auc"] < table["high"]).all()


def test_only_leg_pain_is_scored_and_radicular_means_disc_or_stenosis():
    # The patients and positives are the published target's: leg pain (every condition but
    # the arm-nerve one), radicular = disc herniation or stenosis.
    target = discrimination_target()
    assert target.conditions == ("disc_herniation", "spinal_stenosis")
    patients = generate(2000, seed=4)
    legs = patients[patients["condition"] != "upper_limb_nerve"]
    table = radicular_discrimination(patients, patients, ["oracle"])
    assert table.loc["oracle", "n"] == len(legs)
    radicular = legs["condition"].isin(["disc_herniation", "spinal_stenosis"])
    assert table.loc["oracle", "radicular"] == int(radicular.sum())
    with pytest.raises(ValueError, match="'slr_kappa' is not an auc target"):
        discrimination_target("slr_kappa")


def test_bad_methods_and_one_sided_cohorts_are_refused():
    patients = generate(500, seed=5)
    with pytest.raises(ValueError, match="'rules' is unknown"):
        radicular_discrimination(patients, patients, ["rules"])
    radicular_only = patients[patients["condition"].isin(discrimination_target().conditions)]
    with pytest.raises(ValueError, match="test cohort needs patients with and without"):
        radicular_discrimination(patients, radicular_only, ["oracle"])
