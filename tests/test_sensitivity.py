"""The headline with its uncertainty: parameter draws, metrics, sampling and parameter
intervals, and one-way sensitivity."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from outcomes.analysis.sensitivity import (
    METRICS,
    TIED,
    _triangular,
    _with_ties,
    draw_parameters,
    headline,
    one_way,
    parameter_ranges,
    policy_metrics,
)
from outcomes.engine.cohort import generate
from outcomes.engine.recovery import load_recovery, policy_pathways, simulate_policies

PARAMS = load_recovery()


def test_every_ranged_number_is_drawn_and_ties_follow_their_leader():
    table = parameter_ranges()
    assert set(table.index) == set(PARAMS.ranges)
    assert (table["low"] <= table["value"]).all() and (table["value"] <= table["high"]).all()
    p = _with_ties(PARAMS, {"fit.matched.rate_multiplier": 1.3})
    for follower, leader in TIED.items():
        assert p[follower] == p[leader]


def test_triangular_draws_have_the_distributions_moments():
    # Triangular(a, c, b): mean (a + b + c) / 3, variance (a^2 + b^2 + c^2 - ab - ac - bc) / 18.
    # Mean of 200,000 draws within 4 SE.
    rng = np.random.default_rng(0)
    u = rng.random(200_000)
    for a, c, b in ((0.0, 0.3, 1.0), (1.0, 1.0, 2.0), (0.6, 0.8, 1.0)):
        x = _triangular(
            u, pd.Series([a] * len(u)), pd.Series([c] * len(u)), pd.Series([b] * len(u))
        )
        var = (a * a + b * b + c * c - a * b - a * c - b * c) / 18
        assert abs(x.mean() - (a + b + c) / 3) < 4 * math.sqrt(var / len(u))
        assert x.min() >= a and x.max() <= b
    point = _triangular(np.array([0.3]), pd.Series([2.0]), pd.Series([2.0]), pd.Series([2.0]))
    assert point.tolist() == [2.0]


def test_parameter_draws_are_reproducible_within_ranges_and_independent_of_their_number():
    many, few = draw_parameters(50, seed=4), draw_parameters(3, seed=4)
    pd.testing.assert_frame_equal(many.head(3), few)
    ranges = parameter_ranges()
    assert ((many >= ranges["low"]) & (many <= ranges["high"])).all().all()
    assert (many.std() > 0).all()  # every ranged number varies


@pytest.fixture(scope="module")
def cohort():
    patients = generate(1500, seed=3)
    return patients, policy_pathways(patients)


def test_metrics_count_per_100_patients_against_the_reference(cohort):
    patients, policies = cohort
    sims = simulate_policies(patients, policies, seed=1, visits=False)
    outcomes = {name: sim.outcomes for name, sim in sims.items()}
    table = policy_metrics(outcomes, "everyone_spinal")
    assert list(table.columns) == list(METRICS)
    assert (table.loc["everyone_spinal"] == 0).sum() == 2  # weeks and deficits vs itself
    for name, out in outcomes.items():
        assert table.loc[name, "operations"] == pytest.approx(100 * out["surgery"].mean())
        avoided = 100 * (outcomes["everyone_spinal"]["lasting_deficit"].mean()
                         - out["lasting_deficit"].mean())  # fmt: skip
        assert table.loc[name, "deficits_avoided"] == pytest.approx(avoided)
    # Bootstrap weights of all ones reproduce the point estimate.
    ones = np.ones((2, len(patients)))
    boot = policy_metrics(outcomes, "everyone_spinal", weights=ones)
    for name in outcomes:
        np.testing.assert_allclose(boot.loc[name].to_numpy(), np.tile(table.loc[name], (2, 1)))
    with pytest.raises(ValueError, match="reference policy 'rules' is not among"):
        policy_metrics(outcomes, "rules")


def test_headline_carries_both_intervals_and_is_reproducible(cohort):
    patients, policies = cohort
    kw = {"n_boot": 60, "n_draws": 12}
    a = headline(patients, policies, 2, "everyone_spinal", **kw)
    b = headline(patients, policies, 2, "everyone_spinal", **kw)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.index.get_level_values("metric").unique()) == list(METRICS)
    perfect = a.loc["perfect"]
    # The sampling interval brackets the estimate; perfect triage saves weeks beyond noise.
    assert (perfect["sampling_low"] <= perfect["estimate"] + 1e-9).all()
    assert (perfect["estimate"] <= perfect["sampling_high"] + 1e-9).all()
    assert perfect.loc["weeks_saved", "sampling_low"] > 0
    # Parameters matter: the parameter interval has width.
    assert (
        perfect.loc["weeks_saved", "parameter_high"] > perfect.loc["weeks_saved", "parameter_low"]
    )


def test_the_parameter_draws_run_on_a_dask_cluster_with_the_same_result(cohort):
    # The probabilistic sensitivity analysis on the study engine: blocks of draws on a local
    # cluster of two worker processes, finishing in any order, give the in-process table
    # exactly (each draw depends only on its parameters and the shared random draws).
    patients, policies = cohort
    kw = {"n_boot": 20, "n_draws": 7}
    here = headline(patients, policies, 2, "everyone_spinal", **kw)
    on_dask = headline(patients, policies, 2, "everyone_spinal", workers=2, block=2, **kw)
    pd.testing.assert_frame_equal(on_dask, here)
    with pytest.raises(ValueError, match="block must be an integer >= 1, got 0"):
        headline(patients, policies, 2, "everyone_spinal", block=0, **kw)


def test_one_way_names_what_moves_the_answer(cohort):
    patients, policies = cohort
    table = one_way(patients, policies, 2, "everyone_spinal", "perfect")
    assert set(table.index) == set(PARAMS.ranges)
    assert table["swing"].is_monotonic_decreasing
    # The central value is the headline's point estimate.
    sims = simulate_policies(patients, policies, seed=2, visits=False)
    point = policy_metrics({k: s.outcomes for k, s in sims.items()}, "everyone_spinal")
    assert table["central"].iloc[0] == pytest.approx(point.loc["perfect", "weeks_saved"])
    # Each end is the metric with that one number at that end (checked for the top key).
    key = table.index[0]
    low_params = _with_ties(PARAMS, {key: table.loc[key, "low"]})
    sims = simulate_policies(patients, policies, seed=2, visits=False, params=low_params)
    moved = policy_metrics({k: s.outcomes for k, s in sims.items()}, "everyone_spinal")
    assert table.loc[key, "at_low"] == pytest.approx(moved.loc["perfect", "weeks_saved"])
    assert table["swing"].iloc[0] > 0
    with pytest.raises(ValueError, match="metric 'weeks' is not one of"):
        one_way(patients, policies, 2, "everyone_spinal", "perfect", metric="weeks")
