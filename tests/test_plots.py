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


def test_bar_with_ci_tolerates_a_bound_a_hair_past_its_estimate():
    _, ax = plt.subplots()
    assert plots.bar_with_ci(["a"], [1.0], [0.9], [1.0 - 1e-16], ax=ax) is ax


def test_triage_plots_draw_on_the_given_axes_and_cope_with_nothing_to_show():
    import pandas as pd

    from outcomes import evaluate as ev

    patients = generate(400, seed=2)
    truth = patients["pathway"].astype(str)
    guess = np.where(np.arange(400) % 5 == 0, "spinal", truth)
    matrix = ev.confusion(truth, guess, normalize=True)
    _, ax = plt.subplots()
    assert plots.confusion_matrix_plot(matrix, ax=ax) is ax
    assert len(ax.texts) == matrix.size and ax.get_xlabel() == "Assigned pathway"

    proba = pd.get_dummies(pd.Categorical(guess, categories=matrix.columns)).to_numpy(float)
    table = ev.calibration_table(truth, proba, list(matrix.columns))
    _, ax = plt.subplots()
    assert plots.reliability_plot(table, ax=ax) is ax
    assert len(ax.get_legend().get_texts()) == 1 + table["pathway"].nunique()

    curve = pd.DataFrame({"size": [100, 1000], "accuracy": [0.8, 0.9], "low": [0.7, 0.85],
                          "high": [0.85, 0.93]})  # fmt: skip
    _, ax = plt.subplots()
    assert plots.learning_curve_plot(curve, (0.78, 0.76, 0.8), ax=ax, ceiling=0.96) is ax
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["model", "rules", "oracle"]

    metrics = ev.evaluate_methods({"guess": guess, "truth": truth}, patients, n_boot=20)
    _, ax = plt.subplots()
    assert plots.metric_forest(metrics, "sensitivity", ax=ax) is ax
    assert len(ax.get_yticklabels()) == 5

    for draw, empty in [
        (plots.confusion_matrix_plot, matrix.iloc[:0, :0]),
        (plots.reliability_plot, table.iloc[:0]),
        (plots.learning_curve_plot, curve.iloc[:0]),
    ]:
        _, ax = plt.subplots()
        draw(empty, ax=ax)
        assert [t.get_text() for t in ax.texts] == ["no patients"]
    _, ax = plt.subplots()
    plots.metric_forest(metrics, "no_such_metric", ax=ax)
    assert [t.get_text() for t in ax.texts] == ["no patients"]
