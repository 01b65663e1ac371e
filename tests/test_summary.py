"""Run summaries: the headline numbers shown at the top of each report page."""

from __future__ import annotations

import pytest

from outcomes.analysis.describe import NO_PATIENTS
from outcomes.analysis.evaluate import ceiling
from outcomes.analysis.targets import check_targets
from outcomes.captions.cohort import cohort_summary
from outcomes.engine.cohort import generate
from outcomes.infra.summary import Summary, parse_summary


def test_plain_text_round_trips_through_parse():
    summary = Summary("Run of 10", ["first number: 1", "second (0.91 (0.89–0.93))"])
    assert parse_summary(str(summary)) == summary
    assert parse_summary(repr(summary)) == summary


def test_markdown_and_html_hold_every_finding_escaped():
    summary = Summary("A <b> run", ["x < y", "z & w"])
    assert "- x < y" in summary._repr_markdown_()
    fragment = summary.to_html()
    assert "A &lt;b&gt; run" in fragment and "x &lt; y" in fragment and "z &amp; w" in fragment


def test_a_summary_needs_findings():
    with pytest.raises(ValueError, match="at least one finding"):
        Summary("empty", [])
    assert parse_summary("title only") is None
    assert parse_summary("title\nnot a bullet") is None


def test_cohort_summary_states_the_numbers_of_this_cohort():
    patients = generate(800, seed=3)
    best = ceiling(patients)
    targets = check_targets({"primary_care": patients})
    summary = cohort_summary(patients, best, targets)
    assert summary.title == "Cohort of 800 patients in primary care"
    text = str(summary)
    assert best.loc["all patients", "summary"] in text
    checked = targets[(targets["setting"] == "primary_care") & targets["met"].notna()]
    published = checked[checked["basis"] != "input"]  # inputs echoed back are not counted
    assert 0 < len(published) < len(checked)
    met, fitted = int(published["met"].sum()), int((published["basis"] == "calibrated").sum())
    assert f"Published figures met: {met} of {len(published)};" in text
    assert f"calibrated to {fitted} of them" in text
    top = patients["condition"].value_counts().index[0].replace("_", " ")
    assert f"most common condition: {top}" in text


def test_cohort_summary_of_an_empty_cohort_says_no_patients():
    patients = generate(10, seed=1).iloc[:0]
    assert cohort_summary(patients, ceiling(generate(10, seed=1))).findings == (NO_PATIENTS,)
