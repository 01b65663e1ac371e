"""Every plot function draws on a given Axes, returns it, labels it, and copes with no patients."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from outcomes.analysis import evaluate as ev
from outcomes.analysis.describe import case_mix, finding_prevalence
from outcomes.engine.cohort import generate
from outcomes.faces import plots


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


def test_triage_plots_draw_what_their_tables_say_and_cope_with_nothing_to_show():
    import pandas as pd

    patients = generate(400, seed=2)
    truth = patients["pathway"].astype(str)
    guess = np.where(np.arange(400) % 5 == 0, "spinal", truth)
    matrix = ev.confusion(truth, guess, normalize=True)
    _, ax = plt.subplots()
    assert plots.confusion_matrix_plot(matrix, ax=ax) is ax
    assert ax.get_xlabel() == "Assigned pathway"
    # One label per cell, row by row: the share in % (or a dash for a pathway nobody has).
    expected = ["–" if np.isnan(v) else f"{100 * v:.0f}" for v in matrix.to_numpy().ravel()]
    assert [t.get_text() for t in ax.texts] == expected
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        p.replace("_", " ") for p in matrix.index
    ]

    # With intervals, each filled cell also shows its Wilson interval in %.
    long = ev.confusion_long(truth, guess)
    _, ax = plt.subplots()
    plots.confusion_matrix_plot(matrix, ax=ax, intervals=long)
    texts = [t.get_text() for t in ax.texts]
    spinal_row = long[(long.true == "hip") & (long.assigned == "spinal")].iloc[0]
    assert f"{100 * spinal_row.low:.0f}–{100 * spinal_row.high:.0f}" in texts

    proba = pd.get_dummies(pd.Categorical(guess, categories=matrix.columns)).to_numpy(float)
    table = ev.calibration_table(truth, proba, list(matrix.columns))
    _, ax = plt.subplots()
    assert plots.reliability_plot(table, ax=ax) is ax
    assert len(ax.get_legend().get_texts()) == 1 + table["pathway"].nunique()
    # Each pathway's curve passes through its (mean predicted, observed) points.
    line = [c for c in ax.containers if c.get_label() == "emergency"][0].lines[0]
    rows = table[table.pathway == "emergency"]
    np.testing.assert_allclose(np.asarray(line.get_xdata(), float), rows.mean_predicted)
    np.testing.assert_allclose(np.asarray(line.get_ydata(), float), rows.observed)

    curve = pd.DataFrame({"size": [100, 1000], "accuracy": [0.8, 0.9], "low": [0.7, 0.85],
                          "high": [0.85, 0.93]})  # fmt: skip
    _, ax = plt.subplots()
    assert plots.learning_curve_plot(curve, (0.78, 0.76, 0.8), ax=ax, ceiling=0.96) is ax
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["model", "rules", "oracle"]
    model_line, rules_line, oracle_line = ax.get_lines()
    np.testing.assert_allclose(model_line.get_xdata(), [100, 1000])
    np.testing.assert_allclose(model_line.get_ydata(), [0.8, 0.9])
    assert list(rules_line.get_ydata()) == [0.78, 0.78]
    assert list(oracle_line.get_ydata()) == [0.96, 0.96]

    metrics = ev.evaluate_methods({"guess": guess, "truth": truth}, patients, n_boot=20)
    _, ax = plt.subplots()
    assert plots.metric_forest(metrics, "sensitivity", ax=ax) is ax
    assert len(ax.get_yticklabels()) == 5
    # The dots sit at the estimates, one series per method.
    dots = [c for c in ax.containers if c.get_label() == "guess"][0].lines[0]
    sens = metrics[(metrics.method == "guess") & (metrics.metric == "sensitivity")]
    np.testing.assert_allclose(np.asarray(dots.get_xdata(), float), sens.estimate)

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


def test_confusion_grid_titles_each_panel_with_its_computed_caption():

    patients = generate(600, seed=4)
    truth = patients["pathway"].astype(str).to_numpy()
    guess = np.where(np.arange(600) % 4 == 0, "spinal", truth)
    predictions = {"guess": guess, "truth": truth}
    _, axes = plt.subplots(1, 2)
    drawn = plots.confusion_grid(
        ev.confusion_by_method(truth, predictions), axes=axes, title="Commonest wrong call"
    )
    assert list(drawn) == list(axes)
    worst = ev.worst_confusion(truth, guess)
    right = (guess == truth).mean()
    assert drawn[0].get_title() == (
        f"guess: {right:.0%} right\ncommonest miss: {worst['true'].replace('_', ' ')} → "
        f"{worst['assigned'].replace('_', ' ')} {worst['share']:.0%}"
    )
    assert drawn[1].get_title() == "truth: 100% right"
    assert drawn[0].figure.get_suptitle() == "Commonest wrong call"
    assert drawn[1].get_ylabel() == ""  # shared pathway labels only on the first panel
    with pytest.raises(ValueError, match="got 1 axes for 2 methods"):
        plots.confusion_grid(ev.confusion_by_method(truth, predictions), axes=[axes[0]])


def test_reliability_curves_keep_a_pathway_s_colour_whatever_the_class_order():
    import pandas as pd

    rows = {"bin": [0, 9], "mean_predicted": [0.05, 0.95], "observed": [0.05, 0.95],
            "low": [0.0, 0.9], "high": [0.1, 1.0], "n": [100, 100]}  # fmt: skip
    a = pd.concat([pd.DataFrame({"pathway": p, **rows}) for p in ["emergency", "hip", "spinal"]])
    b = pd.concat([pd.DataFrame({"pathway": p, **rows}) for p in ["emergency", "spinal", "hip"]])
    colours = []
    for table in (a, b):
        _, ax = plt.subplots()
        plots.reliability_plot(table, ax=ax)
        colours.append({c.get_label(): c.lines[0].get_color() for c in ax.containers})
    assert colours[0] == colours[1]
    assert len(set(colours[0].values())) == 3


def test_km_at_risk_counts_follow_the_curves_own_horizon():
    # A 26-week follow-up gets counts at 0, 6, 13, 20 and 26 weeks without being told.
    weeks = np.arange(27)
    km = pd.DataFrame({"group": "a", "week": weeks, "survival": 1 - weeks / 30,
                       "lower": 1 - weeks / 28, "upper": 1 - weeks / 32,
                       "at_risk": 1000 - 10 * weeks})  # fmt: skip
    ax = plots.km_curves(km)
    counts = [t for t in ax.texts if t.get_text().replace(",", "").isdigit()]
    shown = sorted(int(t.get_text().replace(",", "")) for t in counts)
    assert shown == sorted(1000 - 10 * w for w in (0, 6, 13, 20, 26))
    # Readable: counts sit under the ticks (the ticks are the at-risk weeks), in dark text at
    # the tick-label size, under a header that names the weeks.
    assert list(ax.get_xticks()) == [0, 6, 13, 20, 26]
    assert sorted(t.get_position()[0] for t in counts) == [0, 6, 13, 20, 26]
    assert all(t.get_color() == "black" and t.get_fontsize() >= 9 for t in counts)
    assert any("at weeks 0, 6, 13, 20, 26" in t.get_text() for t in ax.texts)
    plt.close("all")


def test_km_curves_that_coincide_stay_distinguishable_and_a_flat_one_is_inside_the_frame():
    weeks = np.arange(11)
    rows = [pd.DataFrame({"group": g, "week": weeks, "survival": 1.0, "lower": 1.0,
                          "upper": 1.0, "at_risk": 50})
            for g in ("logistic", "boosted")]  # fmt: skip
    ax = plots.km_curves(pd.concat(rows, ignore_index=True))
    styles = [line.get_linestyle() for line in ax.get_lines()]
    assert len(set(styles)) == 2
    assert ax.get_ylim()[1] > 1.0  # a curve at 1 is not hidden by the frame
    legend = ax.get_legend()
    assert legend.get_bbox_to_anchor().x0 >= ax.get_window_extent().x1 - 1  # outside the data
    plt.close("all")


def test_confusion_grid_cells_are_readable_with_room_between_panels():
    truth = ["hip", "spinal", "muscular", "emergency"] * 30
    preds = {name: truth for name in ("rules", "logistic", "boosted", "oracle")}
    axes = plots.confusion_grid(ev.confusion_by_method(truth, preds))
    assert axes[0].get_subplotspec().get_gridspec().get_geometry() == (2, 2)
    sizes = {t.get_fontsize() for t in axes[0].texts}
    assert min(sizes) >= 8  # the interval under each share is readable
    plt.close("all")


def test_figures_say_no_patients_for_a_condition_the_cohort_lacks():
    from outcomes.analysis import survival
    from outcomes.engine.recovery import simulate

    # Only two conditions drawn: the others have no patients, and both figures must say so.
    df = generate(400, seed=3, case_mix={"disc_herniation": 0.5, "piriformis_syndrome": 0.5})
    ax = plots.finding_heatmap(finding_prevalence(df))
    ticks = {t.get_text().split("\n")[0]: t.get_text() for t in ax.get_xticklabels()}
    assert ticks["serious pathology"].endswith("(no patients)")
    assert "(no patients)" not in ticks["disc herniation"]

    out = simulate(df, df["pathway"], seed=0, visits=False).outcomes
    km = survival.kaplan_meier(out, by="condition")
    assert "serious_pathology" in km.attrs["empty_groups"]
    assert "serious_pathology" not in set(km["group"])
    _, ax = plt.subplots()
    plots.km_curves(km, ax=ax)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "serious pathology: no patients" in legend
    assert "disc herniation" in legend and "disc herniation: no patients" not in legend
    assert len(ax.get_lines()) >= 2 + len(km.attrs["empty_groups"])


def test_decision_curve_plot_draws_every_strategy_distinguishably():
    from outcomes.analysis.evaluate import decision_curves

    rng = np.random.default_rng(0)
    truth = np.where(rng.random(400) < 0.1, "emergency", "spinal")
    p = np.clip((truth == "emergency") * 0.5 + rng.random(400) * 0.5, 0, 1)
    proba = np.column_stack([p, 1 - p])
    curves = decision_curves(truth, {"a": (proba, ["emergency", "spinal"]),
                                     "b": (proba, ["emergency", "spinal"])})  # fmt: skip
    fig, ax = plt.subplots()
    assert plots.decision_curve_plot(curves, ax=ax) is ax
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert {"a", "b", "refer all", "refer none"} <= set(lines)
    # Two methods with identical curves differ in line style, so both stay visible.
    assert lines["a"].get_linestyle() != lines["b"].get_linestyle()
    assert ax.get_xlim() == (0, 0.5)
    # The legend sits outside the axes, never over the curves.
    assert ax.get_legend().get_bbox_to_anchor().x0 > ax.get_window_extent().x1 - 1
    plt.close(fig)


def _validation_rows() -> pd.DataFrame:
    """Six figures, one of each kind the forest plot draws differently."""
    return pd.DataFrame({
        "group": ["diagnosis", "surgery", "natural history", "case mix", "trial", "harm"],
        "label": ["met", "missed", "known gap", "input", "trial figure", "unchecked"],
        "basis": ["published", "published", "calibrated", "input", "published", "published"],
        "published": [0.9, 0.05, 0.26, np.nan, 1.97, 0.5],
        "input": [np.nan, np.nan, np.nan, 48.3, np.nan, np.nan],
        "low": [0.8, 0.03, 0.16, 30.0, np.nan, 0.1],
        "high": [0.95, 0.1, 0.38, 50.0, np.nan, 0.9],
        "observed": [0.91, 0.2, 0.77, 48.0, 2.3, np.nan],
        "ci_low": [0.89, 0.18, 0.74, 47.5, 1.7, np.nan],
        "ci_high": [0.93, 0.22, 0.79, 48.5, 3.1, np.nan],
        "met": pd.array([True, False, False, True, True, None], dtype="boolean"),
        "gap_flagged": [False, False, True, False, False, False],
    })  # fmt: skip


def test_forest_plot_groups_by_basis_and_marks_each_miss():
    table = _validation_rows()
    _, ax = plt.subplots()
    assert plots.forest_plot(table, ax=ax, title="T") is ax
    labels = [t.get_text() for t in ax.get_yticklabels()]
    # Calibrated first, then held-out published, then inputs; one tick per figure.
    assert labels == ["natural history: known gap", "diagnosis: met", "surgery: missed",
                      "trial: trial figure", "harm: unchecked", "case mix: input"]  # fmt: skip
    texts = [t.get_text() for t in ax.texts]
    assert [h for h in plots.FOREST_BASES.values() if h in texts] == list(
        plots.FOREST_BASES.values()
    )
    kinds = [line.get_gid() for line in ax.lines if line.get_gid()]
    assert sorted(kinds) == ["gap", "met", "met", "met", "miss"]
    # The synthetic estimate is drawn relative to the published figure: 0.2 / 0.05 = 4.
    (miss,) = [line for line in ax.lines if line.get_gid() == "miss"]
    assert miss.get_xdata()[0] == pytest.approx(4.0)
    assert miss.get_color() == plots.FOREST_COLOURS["miss"]
    colours = {t.get_text(): t.get_color() for t in ax.get_yticklabels()}
    assert colours["surgery: missed"] == plots.FOREST_COLOURS["miss"]
    assert colours["diagnosis: met"] == "black"
    assert "0.500  vs  not checked" in texts
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"published", "accepted range", "synthetic, missed"} <= set(legend)
    assert ax.get_xscale() == "log" and ax.get_title() == "T"


def test_tornado_plot_shows_the_largest_swings_first_from_the_central_answer():
    keys = [f"k{i}" for i in range(12)]
    swing = np.arange(12, dtype=float)  # k11 moves the answer most
    table = pd.DataFrame({"low": 0.0, "high": 1.0, "at_low": 50 - swing, "at_high": 50 + swing / 2,
                          "central": 50.0, "swing": 1.5 * swing},
                         index=pd.Index(keys, name="key"))  # fmt: skip
    _, ax = plt.subplots()
    assert plots.tornado_plot(table, top=10, ax=ax, title="T") is ax
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 10 and labels[0] == "k11 (0–1)" and labels[-1] == "k2 (0–1)"
    assert len(ax.patches) == 20
    assert {p.get_x() for p in ax.patches} == {50.0}  # every bar starts at the central answer
    widths = sorted(p.get_width() for p in ax.patches)
    assert widths[0] == -11.0 and widths[-1] == 5.5
    with pytest.raises(ValueError, match="top"):
        plots.tornado_plot(table, top=0)
    empty = plots.tornado_plot(table.iloc[:0])
    assert empty.texts[0].get_text() == "no ranged number to vary"


def test_trial_plot_marks_the_published_estimate_beside_the_simulated_trials():
    from outcomes.analysis.trial import trial

    t = trial("peul2007")
    hr = np.linspace(1.6, 3.0, 50)
    _, ax = plt.subplots()
    assert plots.trial_plot(pd.DataFrame({"hazard_ratio": hr}), t, ax=ax, title="T") is ax
    (bars,) = ax.containers  # the histogram
    assert sum(bar.get_height() for bar in bars) == 50
    vertical = {round(line.get_xdata()[0], 6) for line in ax.lines}
    assert round(t.hazard_ratio, 6) in vertical
    assert {round(x, 6) for x in np.percentile(hr, [2.5, 97.5])} <= vertical
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert f"published estimate {t.hazard_ratio:.2f}" in legend
    assert "central 95% of simulated trials" in legend and "published 95% CI" in legend
    assert t.experimental.label in ax.get_xlabel() and ax.get_title() == "T"
    nothing = plots.trial_plot(pd.DataFrame({"hazard_ratio": [np.nan]}), t)
    assert nothing.texts[0].get_text() == "no simulated trial to show"
