"""Every plot function draws on a given Axes, returns it, labels it, and copes with no patients."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from outcomes import plots
from outcomes.cohort import generate
from outcomes.describe import case_mix, finding_prevalence


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_finding_heatmap_draws_on_the_given_axes_and_marks_missing_cells():
    df = generate(300, seed=1, case_mix={"disc_herniation": 0.5, "piriformis_syndrome": 0.5})
    _, ax = plt.subplots()
    prevalence = finding_prevalence(df)
    assert plots.finding_heatmap(prevalence, ax=ax) is ax
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == prevalence.size
    assert texts.count("–") == int(prevalence.isna().to_numpy().sum()) > 0
    assert ax.get_xlabel() and ax.get_title()


def test_case_mix_bars_add_the_cohort_beside_the_expected_mix():
    df = generate(500, seed=2, setting="sports_clinic")
    _, ax = plt.subplots()
    assert plots.case_mix_bars(case_mix(df=df), ax=ax) is ax
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert "sports clinic\n(this cohort)" in labels and len(labels) == 4
    # Each bar's stacked segments add up to 100%.
    heights = np.zeros(len(labels))
    for container in ax.containers:
        heights += np.array([bar.get_height() for bar in container])
    np.testing.assert_allclose(heights, 100)


def test_bar_with_ci_and_no_patients():
    ax = plots.bar_with_ci(["a", "b"], [0.5, 0.7], [0.4, 0.6], [0.6, 0.8], xlabel="Accuracy")
    assert ax.get_xlabel() == "Accuracy"
    assert len(ax.patches) == 2
    _, empty = plt.subplots()
    assert plots.no_patients(empty) is empty
    assert empty.texts[0].get_text() == "no patients"


def test_style_is_colour_blind_safe_and_fixed_size():
    plots.use_style()
    assert matplotlib.rcParams["figure.dpi"] == plots.STYLE["figure.dpi"]
    colours = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    assert tuple(c.upper() for c in colours) == tuple(c.upper() for c in plots.PALETTE)
