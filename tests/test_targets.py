"""Published targets: the generator reproduces them, the known gaps are real, the check can fail."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from outcomes.cohort import generate
from outcomes.knowledge import KNOWLEDGE_DIR, KnowledgeError, load_knowledge
from outcomes.targets import check_targets, load_targets


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    # 40,000 patients per setting: the smallest condition a target looks at (the arm-nerve
    # patients of primary care, 12%) still has about 4,800 patients, so a proportion's 95%
    # interval is within +-0.015 and a mean age's within +-0.4 years: narrower than every
    # published range, so the overlap test is decided by the model, not by sampling noise.
    kb = load_knowledge()
    return check_targets({s: generate(40_000, seed=99, setting=s) for s in kb.setting_names})


def test_published_targets_are_met_on_large_cohorts(table):
    expected = table[table["known_gap"] == ""]
    missed = expected[~expected["met"].astype(bool)]
    assert missed.empty, missed[["target", "published", "low", "high", "observed", "ci_low"]]


def test_known_gaps_are_still_missed(table):
    # A gap that the knowledge base has closed must lose its flag, so the table stays true.
    gaps = table[table["known_gap"] != ""]
    assert len(gaps) >= 1
    closed = gaps[gaps["met"].astype(bool)]
    assert closed.empty, closed[["target", "published", "low", "high", "observed"]]


def test_most_targets_are_produced_by_the_model_not_echoed(table):
    assert table["derived"].sum() >= 6
    assert set(table["setting"]) == {"primary_care", "spine_clinic"}


def test_every_range_is_narrow_enough_to_fail():
    # A range spanning most of the scale could never fail; the published ranges are intervals
    # of a study's estimate. Proportions within 0.25 wide, mean ages within 20 years.
    for t in load_targets():
        width = t.high - t.low
        assert 0 < width <= (20 if t.statistic == "mean_age" else 0.25), t.name


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, target)
    return target


def edit(folder: Path, file: str, old: str, new: str) -> None:
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in {file}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_knowledge_base_off_the_published_figures_misses_them(kb_copy):
    # Proof the check has teeth: a straight-leg raise that detects only 70% of disc herniations,
    # and a FAIR test positive in half of disc herniations, both miss their published figures.
    edit(kb_copy, "likelihoods.toml", "disc_herniation = { value = 0.91,",
         "disc_herniation = { value = 0.70,")  # fmt: skip
    edit(kb_copy, "likelihoods.toml", "[exam_fair_test]\ndisc_herniation = { value = 0.15,",
         "[exam_fair_test]\ndisc_herniation = { value = 0.5,")  # fmt: skip
    kb = load_knowledge(kb_copy)
    cohort = generate(20_000, seed=5, setting="spine_clinic", knowledge=kb)
    table = check_targets({"spine_clinic": cohort}, kb).set_index("target")
    assert not table.loc["slr_sensitivity", "met"]
    assert not table.loc["fair_specificity", "met"]
    assert table.loc["fair_sensitivity", "met"]  # untouched figures still hold


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('statistic = "sensitivity"', 'statistic = "accuracy"', r"\[slr_sensitivity.statistic\]"),
        ('conditions = "disc_herniation"', 'conditions = "disc"', r"'disc' is unknown"),
        ("derived = false", 'derived = "no"', r"\[slr_sensitivity.derived\] must be true or false"),
        ('column = "pain_below_knee"', 'column = "pain_knee"', r"'pain_knee' is not a column"),
        ('values = ["female"]', 'values = ["woman"]', r"'woman' is unknown"),
        ('column = "pain_below_knee"', 'column = "pain_below_knee"\nvalues = ["x"]',
         r"leg_pain_below_knee_primary_care.values"),
        ("target = { value = 0.91,", "target = { value = 0.99,", r"target 0.99 is outside"),
        ('known_gap = "The surgical', 'known_gap = ""\nnote = "The surgical',
         r"\[slr_specificity_surgical.known_gap\] must be a sentence"),
    ],
)  # fmt: skip
def test_an_invalid_target_fails_naming_it(kb_copy, old, new, message):
    edit(kb_copy, "targets.toml", old, new)
    with pytest.raises(KnowledgeError, match=message):
        load_targets(load_knowledge(kb_copy))


def test_a_target_missing_what_its_statistic_needs_is_rejected(kb_copy):
    edit(kb_copy, "targets.toml", 'finding = "exam_straight_leg_raise"\n', "")
    with pytest.raises(KnowledgeError, match=r"\[slr_sensitivity.finding\] is needed"):
        load_targets(load_knowledge(kb_copy))
