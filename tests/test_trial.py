"""In-silico replication of Peul 2007 (early surgery vs prolonged conservative care)."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from outcomes.analysis.trial import load_trials, simulate_trials, trial, trial_pool, trial_summary
from outcomes.knowledge import KNOWLEDGE_DIR, KnowledgeError, load_knowledge

N_TRIALS = 200


@pytest.fixture(scope="module")
def peul():
    t = trial("peul2007")
    pool = trial_pool(t, pool=30_000, seed=0)
    return t, pool, simulate_trials(pool, n_trials=N_TRIALS, seed=0)


def test_the_published_hazard_ratio_lies_within_the_simulated_trials(peul):
    # Issue 12: the published estimate lies within the central 95% of simulated trials of the
    # published size. The hazard ratio is held out (published): nothing was fitted to it.
    t, _, replicates = peul
    summary = trial_summary(t, replicates)
    row = summary.loc["hazard_ratio"]
    assert row["basis"] == "published" and row["within"]
    assert row["p2_5"] <= t.hazard_ratio <= row["p97_5"]
    # The surgery figures the model's referral was fitted to hold too (calibrated).
    assert summary.loc["control_surgery_share", "within"]
    assert summary.loc["control_mean_surgery_week", "within"]


def test_the_arms_are_what_the_trial_did(peul):
    t, pool, _ = peul
    n = len(pool.patients)
    assert n > 2000
    # Inclusion: disc herniation, 6-12 weeks of symptoms, leg pain 6 or more.
    p = pool.patients
    assert (p["condition"] == "disc_herniation").all()
    assert p["symptom_duration_weeks"].between(6, 12).all() and (p["pain_nrs"] >= 6).all()
    # Early surgery: the arm's share operated on in week 2 (binomial, 4 SE); the others are
    # treated as the control arm (the model decides whether they are operated on later).
    early = pool.surgery_week[:, 0]
    share = (early == 2).mean()
    assert abs(share - t.experimental.surgery_share) < 4 * np.sqrt(0.89 * 0.11 / n)
    from outcomes.engine.recovery import load_recovery

    s = load_recovery().surgery
    first = s["decision_week"] + s["wait_weeks_min"]
    later = early[np.isfinite(early) & (early != 2)]
    assert (later >= first).all()
    # Control: the model decides; operations only after the decision week, and fewer.
    control = pool.surgery_week[:, 1]
    assert (control[np.isfinite(control)] >= first).all()
    assert 0 < np.isfinite(control).mean() < share
    # Early surgery shortens time to the outcome for the same patients (paired): never
    # longer for a patient operated early than for the same patient without early surgery
    # by more than the noise, and shorter on average.
    assert (pool.weeks[:, 0] <= pool.weeks[:, 1]).mean() > 0.5
    assert pool.weeks[:, 0].mean() < pool.weeks[:, 1].mean()


def test_simulated_trials_are_reproducible_and_independent_of_their_number(peul):
    _, pool, replicates = peul
    again = simulate_trials(pool, n_trials=5, seed=0)
    pd.testing.assert_frame_equal(again, replicates.head(5))
    assert replicates["hazard_ratio"].nunique() > N_TRIALS // 2


@pytest.fixture
def kb_copy(tmp_path):
    target = tmp_path / "kb"
    shutil.copytree(KNOWLEDGE_DIR, target)
    return target


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('outcome = "pain_at_most"', 'outcome = "happiness"', "[peul2007.outcome]"),
        ('size = { value = 283, source = "study:peul2007" }', "size = 283",
         "[peul2007.size] must be { value = ..., source"),
        ('basis = "published"', 'basis = "calibrated"', "a replayed trial's effect is held out"),
        ('hazard_ratio = { value = 1.97,', 'hazard_ratio = { value = 2.97,',
         "hazard ratio 2.97 is outside [1.72, 2.22]"),
        ('pathway = "spinal" }', 'pathway = "yoga" }', "[peul2007.control.pathway]"),
    ],
)  # fmt: skip
def test_bad_trials_name_the_file_trial_and_field(kb_copy, old, new, message):
    path = kb_copy / "trials.toml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(KnowledgeError) as err:
        load_trials(load_knowledge(kb_copy))
    assert str(err.value).startswith("trials.toml: ")
    assert message in str(err.value)


def test_an_unknown_trial_is_named_with_the_choices():
    with pytest.raises(KnowledgeError, match="trial 'weber1983' is unknown; choose one of: peul"):
        trial("weber1983")
