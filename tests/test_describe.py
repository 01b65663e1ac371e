"""Cohort description tables: correct numbers, stable layout, and 'no patients' when empty."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from outcomes.analysis.describe import (
    NO_PATIENTS,
    case_mix,
    finding_prevalence,
    format_estimate,
    table_one,
)
from outcomes.analysis.intervals import wilson_interval
from outcomes.captions.cohort import ceiling_reason
from outcomes.engine.cohort import generate
from outcomes.knowledge import load_knowledge


@pytest.fixture(scope="module")
def two_conditions() -> pd.DataFrame:
    return generate(600, seed=1, case_mix={"disc_herniation": 0.5, "hamstring_tightness": 0.5})


def test_table_one_counts_and_marks_empty_conditions(two_conditions):
    kb = load_knowledge()
    table = table_one(two_conditions)
    assert list(table.columns) == [c.label for c in kb.conditions] + ["All"]
    disc = kb.condition("disc_herniation").label
    n_disc = int((two_conditions["condition"] == "disc_herniation").sum())
    assert table.loc["Patients, n", disc] == str(n_disc)
    assert table.loc["Patients, n", "All"] == "600"
    empty = kb.condition("serious_pathology").label
    assert table.loc["Age, years: mean (SD)", empty] == NO_PATIENTS
    mean_age = two_conditions.loc[two_conditions["condition"] == "disc_herniation", "age"].mean()
    assert table.loc["Age, years: mean (SD)", disc].startswith(f"{mean_age:.1f} (")


def test_finding_prevalence_uses_recorded_values_only(two_conditions):
    prevalence = finding_prevalence(two_conditions)
    disc = two_conditions[two_conditions["condition"] == "disc_herniation"]
    recorded = disc["exam_fair_test"].dropna()
    assert prevalence.loc["exam_fair_test", "disc_herniation"] == pytest.approx(recorded.mean())
    assert np.isnan(prevalence.loc["exam_fair_test", "serious_pathology"])
    assert list(prevalence.index) == list(load_knowledge().finding_names)


def test_case_mix_expected_and_observed(two_conditions):
    mix = case_mix(df=two_conditions)
    assert np.allclose(mix.groupby("setting")["expected"].sum(), 1.0)
    here = mix[mix["setting"] == "primary_care"].set_index("condition")["observed"]
    assert here["disc_herniation"] + here["hamstring_tightness"] == pytest.approx(1.0)
    assert mix.loc[mix["setting"] == "sports_clinic", "observed"].isna().all()


def test_wilson_interval_properties():
    lo, hi = wilson_interval(0, 50)
    assert lo == pytest.approx(0.0, abs=1e-12) and 0 < hi < 0.1
    lo, hi = wilson_interval(50, 50)
    assert 0.9 < lo < 1 and hi == pytest.approx(1.0)
    assert all(np.isnan(wilson_interval(0, 0)))
    # Wider with fewer patients.
    assert np.diff(wilson_interval(9, 10)) > np.diff(wilson_interval(900, 1000))


def test_format_estimate():
    assert format_estimate(0.9123, 0.8899, 0.9341) == "0.91 (0.89–0.93)"
    assert format_estimate(0.5, 0.4, 0.6, digits=1) == "0.5 (0.4–0.6)"
    assert format_estimate(np.nan, np.nan, np.nan) == NO_PATIENTS


def test_wilson_interval_always_contains_the_estimate():
    # Every total up to 2,000 at the edges (where rounding used to push a bound past the
    # estimate), and a spread of interior counts.
    for total in range(1, 2001):
        for successes in {0, 1, total // 3, total - 1, total}:
            lo, hi = wilson_interval(successes, total)
            assert 0.0 <= lo <= successes / total <= hi <= 1.0, (successes, total)


def test_ceiling_title_names_the_share_missed_and_the_hardest_pathway():
    from outcomes.analysis.evaluate import ceiling
    from outcomes.captions.cohort import ceiling_title

    patients = generate(1500, seed=8)
    best = ceiling(patients)
    title = ceiling_title(best)
    groups = best.drop(index="all patients")
    worst = (groups["correct"] / groups["patients"]).idxmin()
    missed = 1 - best.loc["all patients", "correct"] / len(patients)
    assert f"misses {missed:.0%} of patients" in title
    assert f"hardest: {worst.replace('_', ' ')}" in title
    # Rounded shares never claim a perfect or a zero score that is not one.
    rows = pd.DataFrame({"patients": [1000, 1000], "correct": [999, 999]},
                        index=["all patients", "spinal"])  # fmt: skip
    assert "0.1% of patients" in ceiling_title(rows) and "99.9% right" in ceiling_title(rows)
    perfect = pd.DataFrame({"patients": [5], "correct": [5]}, index=["all patients"])
    assert "every patient" in ceiling_title(perfect)


def test_ceiling_reason_names_the_commonest_overlap_and_the_miss_rate():
    from outcomes.analysis.evaluate import ceiling, ceiling_misses
    from outcomes.triage.oracle import BayesOracle

    patients = generate(4000, seed=8, setting="spine_clinic")
    oracle = BayesOracle().fit(patients)
    misses = ceiling_misses(patients, oracle)
    best = ceiling(patients, oracle)
    # The misses table counts exactly the oracle's wrong calls.
    overall = best.loc["all patients"]
    assert misses.attrs["missed"] == overall["patients"] - overall["correct"]
    assert misses["share_of_misses"].sum() == pytest.approx(1.0)
    text = ceiling_reason(misses)
    first = misses.iloc[0]
    assert str(first["condition"]).replace("_", " ") in text.replace("\n", " ")
    assert f"{misses.attrs['missed'] / len(patients):.1%}" in text


def test_the_cohort_summary_has_no_nested_brackets():
    from outcomes.analysis.evaluate import ceiling
    from outcomes.captions.cohort import cohort_summary
    from outcomes.engine.cohort import generate

    patients = generate(600, seed=2)
    for finding in cohort_summary(patients, ceiling(patients)).findings:
        depth, deepest = 0, 0
        for ch in finding:
            depth += ch == "("
            deepest = max(deepest, depth)
            depth -= ch == ")"
        assert deepest <= 1, finding
