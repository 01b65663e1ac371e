"""Published figures on the course of sciatica: the recovery targets file, its statistics and
their agreement with the model (calibrated met, held-out reported honestly)."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from outcomes.analysis.natural_history import (
    RecoveryTarget,
    check_recovery_targets,
    load_recovery_targets,
    target_statistic,
)
from outcomes.engine.cohort import generate
from outcomes.engine.recovery import simulate
from outcomes.knowledge import KNOWLEDGE_DIR, KnowledgeError, load_knowledge


@pytest.fixture(scope="module")
def checked() -> pd.DataFrame:
    """Every recovery target on 40,000 patients per setting (the size the known-gap tests of
    targets.toml use): intervals of at most ~1 point on the largest populations."""
    return check_recovery_targets(n=40_000, seed=1)


def test_targets_say_what_they_are_and_hold_out_at_least_a_third():
    targets = load_recovery_targets()
    assert len(targets) >= 10
    published = [t for t in targets if t.basis == "published"]
    # Issue 12: at least a third of the new figures are held out, never fitted.
    assert len(published) * 3 >= len(targets)
    statistics = {t.statistic for t in targets}
    assert statistics == {
        "class_share", "improved_at", "recovered_by", "surgery_share", "relapse_within",
        "deficit_share",
    }  # fmt: skip


def test_every_calibrated_figure_is_met_and_every_held_out_one_is_reported(checked):
    assert checked["met"].notna().all()
    calibrated = checked[checked["basis"] == "calibrated"]
    assert calibrated["met"].all(), calibrated.loc[~calibrated["met"], "target"].tolist()
    # A held-out figure is met, or it is a documented known gap that is missed beyond its
    # interval (so a fixed gap cannot stay flagged, and a miss cannot hide).
    published = checked[checked["basis"] == "published"]
    for _, row in published.iterrows():
        if row["gap_flagged"]:
            assert not row["met"] and row["known_gap"], row["target"]
        else:
            assert row["met"], row["target"]
    assert published["met"].any() and published["gap_flagged"].any()


def _outcomes(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base = {
        "condition": ["disc_herniation"] * n, "trajectory_class": ["recovering_fast"] * n,
        "recovered": [False] * n, "weeks_to_recovery": [52] * n, "surgery": [False] * n,
        "relapse_week": pd.array([None] * n, dtype="Int16"), "lasting_deficit": [False] * n,
        "weeks_to_emergency_care": pd.array([None] * n, dtype="Float32"),
    }  # fmt: skip
    base.update(columns)
    return pd.DataFrame(base)


def _target(statistic: str, **options) -> RecoveryTarget:
    return RecoveryTarget(
        name="t", label="t", statistic=statistic, setting="primary_care", population=(),
        policy="rules", basis="published", derived=True, target=0.5, low=0.4, high=0.6,
        source="study:peul2007", options=options,
    )  # fmt: skip


def test_statistics_count_what_their_definitions_say():
    # Hand-computed cases, one per statistic.
    patients = pd.DataFrame({
        "condition": ["disc_herniation"] * 4, "pain_nrs": [8, 6, 5, 10], "odi": [40, 20, 30, 50],
        "chronic": [False, True, False, False],
    })  # fmt: skip
    visits = pd.DataFrame({
        "patient_id": pd.Categorical(list("abcd") * 2), "week": [0] * 4 + [52] * 4,
        "pain_nrs": [8, 6, 5, 10, 5, 4, 4, 7], "odi": [40, 20, 30, 50, 28, 10, 30, 34],
    })  # fmt: skip
    out = _outcomes(
        trajectory_class=["persistent_moderate", "recovering_fast", "persistent_severe",
                          "recovering_slow"],
        recovered=[True, True, False, True], weeks_to_recovery=[4, 13, 52, 40],
        surgery=[True, False, False, False],
        relapse_week=pd.array([10, 30, None, None], dtype="Int16"),
    )  # fmt: skip
    k_n = {
        # persistent classes: rows 0 and 2
        "class_share": (
            _target("class_share", classes=["persistent_moderate", "persistent_severe"]),
            (2, 4),
        ),
        # pain at week 52 at least 30% below baseline: 8->5 (yes), 6->4 (yes: 33%),
        # 5->4 (no), 10->7 (yes: exactly 30%)
        "improved_pain": (_target("improved_at", measure="pain", fraction=0.3), (3, 4)),
        # ODI: 40->28 (yes), 20->10 (yes), 30->30 (no), 50->34 (yes)
        "improved_odi": (_target("improved_at", measure="odi", fraction=0.3), (3, 4)),
        "recovered_by": (_target("recovered_by", week=13), (2, 4)),
        "surgery": (_target("surgery_share"), (1, 4)),
        # recovered by 52: rows 0 (confirmed 5, relapse 10: within 52), 1 (confirmed 14,
        # relapse 30: within), 3 (confirmed 41, none): 2 of 3
        "relapse": (_target("relapse_within", weeks=52), (2, 3)),
    }
    for name, (target, expected) in k_n.items():
        assert target_statistic(target, patients, out, visits) == expected, name
    # Deficits among those reaching emergency care within the window.
    serious = _outcomes(
        condition=["serious_pathology"] * 4, lasting_deficit=[True, False, True, True],
        weeks_to_emergency_care=pd.array([0.25, 0.25, 3.0, None], dtype="Float32"),
    )  # fmt: skip
    early = _target("deficit_share", min_weeks=0, max_weeks=0.2857)
    late = _target("deficit_share", min_weeks=0.2858, max_weeks=52)
    assert target_statistic(early, patients, serious, visits) == (1, 2)
    assert target_statistic(late, patients, serious, visits) == (1, 1)


def test_a_target_counts_only_its_population_and_inclusion_criteria():
    t = {t.name: t for t in load_recovery_targets()}["vroomen_improved_12_weeks"]
    patients = generate(3000, seed=2)
    sim = simulate(patients, patients["pathway"], seed=0, dropout=0.0, visits=False)
    k, n = target_statistic(t, patients, sim.outcomes, None)
    acute_disc = (patients["condition"] == "disc_herniation") & ~patients["chronic"]
    assert n == int(acute_disc.sum())
    out = sim.outcomes[acute_disc.to_numpy()]
    assert k == int((out["recovered"] & (out["weeks_to_recovery"] <= 12)).sum())


@pytest.fixture
def kb_copy(tmp_path):
    target = tmp_path / "kb"
    shutil.copytree(KNOWLEDGE_DIR, target)
    return target


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('statistic = "surgery_share"', 'statistic = "operations"',
         "[surgery_primary_care.statistic] 'operations' is not one of"),
        ('policy = "perfect"', 'policy = "psychic"', "[deficit_early_decompression.policy]"),
        ("[vroomen_improved_12_weeks]\n", "[vroomen_improved_12_weeks]\ncolour = 3\n",
         "[vroomen_improved_12_weeks.colour] is not a field"),
        ('where = { chronic = { value = false', 'where = { chronc = { value = false',
         "[vroomen_improved_12_weeks.where.chronc] is not a column of the patients table"),
        ('week = { value = 12, source = "study:vroomen1999" }', "week = 12",
         "[vroomen_improved_12_weeks.week] must be a sourced number"),
        ('target = { value = 0.25, source = "study:suri2012" }',
         'target = { value = 0.25, source = "study:vroomen1999" }',
         "no number of the knowledge base is calibrated to study:vroomen1999"),
        ('classes = ["persistent_moderate"]', 'classes = ["chronic"]',
         "[atlas_persistent_moderate.classes] must list classes from"),
    ],
)  # fmt: skip
def test_bad_recovery_targets_name_the_file_target_and_field(kb_copy, old, new, message):
    path = kb_copy / "recovery_targets.toml"
    text = path.read_text()
    assert text.count(old) >= 1, old
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(KnowledgeError) as err:
        load_recovery_targets(load_knowledge(kb_copy))
    assert str(err.value).startswith("recovery_targets.toml: ")
    assert message in str(err.value)


def test_checks_are_reproducible_and_use_no_loss_to_follow_up():
    a = check_recovery_targets(n=1500, seed=3)
    b = check_recovery_targets(n=1500, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert np.isnan(a["input"]).all() and set(a["basis"]) == {"published", "calibrated"}
