"""Study design: the closed forms agree with simulation within simulation error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from outcomes.analysis import sample_size as ss

# Inputs of the size of a primary-care pilot: emergencies are about 1% of patients, the rules
# catch about 89% of them, and the rules and a model disagree on about 18% of patients.
PREVALENCE, SENSITIVITY, DISCORDANCE = 0.01, 0.89, 0.18


def test_sensitivity_halfwidth_closed_form_agrees_with_simulation():
    n = ss.n_for_halfwidth(SENSITIVITY, PREVALENCE, 0.05)
    sizes = [n // 4, n // 2, n, 2 * n]  # from about 40 emergencies up
    table = ss.simulate_sensitivity(SENSITIVITY, PREVALENCE, sizes, replicates=4000, seed=1)
    # The simulated half-width (1.96 x the spread of the estimates) has standard error
    # simulated_se; 4 of them leave a 1-in-15,000 chance of a false alarm per size.
    gap = (table["simulated"] - table["closed_form"]).abs()
    assert (gap < 4 * table["simulated_se"]).all(), table
    # The Wilson intervals a study reports are as wide as the closed form says (within 3%).
    assert np.allclose(table["wilson_mean"], table["closed_form"], rtol=0.03)
    # The chosen size meets the target and one patient fewer does not (closed form).
    assert ss.sensitivity_halfwidth(SENSITIVITY, PREVALENCE, n) <= 0.05
    assert ss.sensitivity_halfwidth(SENSITIVITY, PREVALENCE, n - 1) > 0.05


def test_mcnemar_power_closed_form_agrees_with_simulation():
    delta = 0.03
    n = ss.mcnemar_n(delta, DISCORDANCE)
    assert ss.mcnemar_power(n, delta, DISCORDANCE) >= 0.8
    assert ss.mcnemar_power(n - 1, delta, DISCORDANCE) < 0.8
    sizes = [n // 2, n, 2 * n]  # at least 140 discordant patients: the normal approximation
    table = ss.simulate_mcnemar(delta, DISCORDANCE, sizes, replicates=4000, seed=2)
    # The simulation uses the exact test, slightly conservative against the approximation:
    # allow 2 points for that on top of 4 simulation standard errors.
    gap = (table["simulated"] - table["closed_form"]).abs()
    assert (gap < 4 * table["simulated_se"] + 0.02).all(), table
    assert table["simulated"].is_monotonic_increasing


def test_exact_mcnemar_pvalues_match_scipy():
    a, b = np.array([0, 3, 10, 7, 25]), np.array([0, 1, 2, 7, 40])
    expected = [
        binomtest(x, x + y, 0.5).pvalue if x + y else 1.0 for x, y in zip(a, b, strict=True)
    ]
    assert np.allclose(ss.mcnemar_pvalues(a, b), expected)


def test_bad_inputs_name_the_problem():
    with pytest.raises(ValueError, match="delta"):
        ss.mcnemar_n(0.2, 0.1)
    with pytest.raises(ValueError, match="prevalence"):
        ss.n_for_halfwidth(0.9, 0.0, 0.05)


def test_overtaking_size_needs_the_model_to_stay_ahead():
    summary = pd.DataFrame({"n_train": [10, 10, 20, 20, 40, 40, 80, 80],
                            "method": ["rules", "m"] * 4,
                            "mean": [0.8, 0.85, 0.8, 0.7, 0.8, 0.9, 0.8, 0.95]})  # fmt: skip
    assert ss.overtaking_size(summary, "m") == 40
    behind = summary.assign(mean=np.where(summary["method"] == "m", 0.5, 0.8))
    assert ss.overtaking_size(behind, "m") is None


def test_plots_return_their_axes():
    import matplotlib

    matplotlib.use("agg")
    table = ss.simulate_mcnemar(0.03, DISCORDANCE, [500, 1000], replicates=100)
    ax = ss.plot_against_n(table, 0.8, 1000, ylabel="power")
    assert ax.get_ylabel() == "power" and len(ax.lines) == 4
    curve = pd.DataFrame({"n_train": [10, 10, 20, 20], "method": ["rules", "m"] * 2,
                          "mean": [0.8, 0.7, 0.8, 0.9], "sd": [0.01] * 4})  # fmt: skip
    ax = ss.plot_learning_curve(curve, 20)
    assert "overtakes at n_train = 20" in [t.get_text() for t in ax.get_legend().get_texts()]
