"""Time-to-recovery analysis: agrees with lifelines, handles empty groups, seeded bootstrap."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from lifelines.utils import restricted_mean_survival_time

from outcomes import plots
from outcomes.cohort import generate
from outcomes.recovery import policy_pathways, simulate, simulate_policies, stack
from outcomes.survival import (
    kaplan_meier,
    logrank,
    median_times,
    rmst,
    trajectory,
    weeks_saved,
)


@pytest.fixture(scope="module")
def sims():
    patients = generate(3000, seed=21)
    return simulate_policies(patients, policy_pathways(patients), seed=1)


@pytest.fixture(scope="module")
def outcomes(sims):
    return stack(sims)


def test_rmst_matches_lifelines(sims):
    out = sims["everyone_spinal"].outcomes
    kmf = KaplanMeierFitter().fit(out["weeks_to_recovery"], out["recovered"])
    for horizon in (1, 12, 52):
        expected = restricted_mean_survival_time(kmf, t=horizon)
        got = rmst(out["weeks_to_recovery"].to_numpy(), out["recovered"].to_numpy(), horizon)[0]
        assert got == pytest.approx(expected, abs=1e-9)


def test_rmst_with_weights_equals_rmst_of_the_resample(sims):
    out = sims["perfect"].outcomes
    d, e = out["weeks_to_recovery"].to_numpy(), out["recovered"].to_numpy()
    idx = np.random.default_rng(0).integers(0, len(d), len(d))
    counts = np.bincount(idx, minlength=len(d))
    assert rmst(d, e, weights=counts[None, :])[0] == pytest.approx(rmst(d[idx], e[idx])[0])


def test_kaplan_meier_matches_lifelines_and_counts_at_risk(sims):
    out = sims["perfect"].outcomes
    km = kaplan_meier(out, by="condition")
    rows = km[km["group"] == "disc_herniation"].set_index("week")
    group = out[out["condition"] == "disc_herniation"]
    kmf = KaplanMeierFitter().fit(group["weeks_to_recovery"], group["recovered"])
    for week in (0, 5, 10, 30, 52):
        assert rows.loc[week, "survival"] == pytest.approx(kmf.predict(week))
        assert rows.loc[week, "at_risk"] == (group["weeks_to_recovery"] >= week).sum()
    assert (np.diff(rows["survival"]) <= 0).all()
    assert (
        (rows["lower"] <= rows["survival"] + 1e-12) & (rows["survival"] <= rows["upper"] + 1e-12)
    ).all()


def test_empty_groups_are_left_out_or_marked(sims):
    out = sims["perfect"].outcomes
    only_disc = out[out["condition"] == "disc_herniation"]
    assert set(kaplan_meier(only_disc, by="condition")["group"]) == {"disc_herniation"}
    table = median_times(only_disc, by="condition")
    assert table.loc["serious_pathology", "median weeks (95% CI)"] == "no patients"
    assert kaplan_meier(out.head(0), by="condition").empty


def test_median_not_reached_when_few_recover():
    out = pd.DataFrame(
        {
            "group": pd.Categorical(["a"] * 10),
            "weeks_to_recovery": np.full(10, 52, dtype=np.int16),
            "recovered": np.r_[np.ones(2, bool), np.zeros(8, bool)],
        }
    )
    assert median_times(out, by="group").loc["a", "median weeks (95% CI)"].startswith("not reached")


def test_logrank_separates_matched_from_mismatched(outcomes):
    table = logrank(outcomes, by="policy", reference="perfect")
    assert table["comparison"].tolist()[0] == "all groups"
    assert table.set_index("comparison").loc["everyone_spinal vs perfect", "p"] == "<0.001"


def test_weeks_saved_is_paired_seeded_and_zero_for_the_reference(outcomes):
    a = weeks_saved(outcomes, reference="everyone_spinal", n_boot=200, seed=3)
    b = weeks_saved(outcomes, reference="everyone_spinal", n_boot=200, seed=3)
    pd.testing.assert_frame_equal(a, b)
    ref = a.loc["everyone_spinal"]
    assert ref["saved_per_100"] == ref["saved_lower"] == ref["saved_upper"] == 0
    perfect = a.loc["perfect"]
    assert perfect["saved_lower"] <= perfect["saved_per_100"] <= perfect["saved_upper"]
    # Perfect triage removes every mismatch: hundreds of weeks saved per 100 patients, and
    # the paired interval excludes 0 by a wide margin.
    assert perfect["saved_lower"] > 100
    # Saved weeks = 100 x the difference in restricted mean time to recovery.
    assert perfect["saved_per_100"] == pytest.approx(
        100 * (ref["rmst_weeks"] - perfect["rmst_weeks"])
    )


def test_weeks_saved_ignores_policies_filtered_out(outcomes):
    subset = outcomes[outcomes["policy"] != "perfect"]
    table = weeks_saved(subset, reference="everyone_spinal", n_boot=20)
    assert "perfect" not in table.index and "everyone_spinal" in table.index


def test_weeks_saved_needs_the_same_patients(outcomes):
    broken = outcomes.drop(index=outcomes.index[outcomes["policy"] == "perfect"][:5])
    with pytest.raises(ValueError, match="not simulated on the same patients"):
        weeks_saved(broken, reference="everyone_spinal", n_boot=10)
    with pytest.raises(ValueError, match="reference policy 'rules'"):
        weeks_saved(outcomes, reference="rules", n_boot=10)


def test_trajectory_means_match_the_visits(sims):
    visits = sims["perfect"].visits
    summary = trajectory(visits, by="pathway")
    row = summary[(summary["group"] == "spinal") & (summary["week"] == 8)].iloc[0]
    chosen = visits[(visits["pathway"] == "spinal") & (visits["week"] == 8)]["pain_nrs"]
    assert row["mean"] == pytest.approx(chosen.mean()) and row["n"] == len(chosen)
    assert row["lower"] < row["mean"] < row["upper"]


def test_plots_draw_curves_bands_and_at_risk_counts(outcomes, sims):
    km = kaplan_meier(outcomes, by="policy")
    ax = plots.km_curves(km, title="t")
    texts = [t.get_text() for t in ax.texts]
    assert "At risk" in texts and str(int(km["at_risk"].iloc[0])) in texts
    assert len(ax.get_lines()) == km["group"].nunique()
    plt.close("all")
    ax = plots.trajectory_bands(trajectory(sims["perfect"].visits, by="pathway"))
    assert len(ax.get_lines()) == 5
    plt.close("all")
    assert plots.km_curves(km.head(0)).texts[0].get_text() == "no patients"
    plt.close("all")


def test_simulate_output_feeds_the_analysis_without_a_policy_column():
    patients = generate(200, seed=2)
    out = simulate(patients, patients["pathway"], seed=0, visits=False).outcomes
    assert set(median_times(out, by="fit").index) >= {"matched"}


def test_recovery_summary_states_this_runs_numbers(outcomes):
    from outcomes.survival import harms, recovery_summary

    saved = weeks_saved(outcomes, reference="everyone_spinal", n_boot=50, seed=2)
    harm_table = harms(outcomes)
    summary = recovery_summary(outcomes, saved, "everyone_spinal", harm_table)
    text = str(summary)
    assert summary.title.startswith("Recovery over 52 weeks: 3,000 patients under 2 ")
    perfect = saved.loc["perfect"]
    assert f"Perfect triage would save {perfect['saved_per_100']:.0f} " in text
    spinal = saved.loc["everyone_spinal"]
    assert f"under everyone_spinal: {spinal['rmst_weeks']:.1f} " in text
    serious = int(harm_table["patients with serious pathology"].max())
    assert f"of {serious} patients across policies (most under everyone_spinal)" in text


def test_weeks_saved_text_reads_well_for_negative_intervals():
    from outcomes.survival import format_weeks_saved

    table = pd.DataFrame(
        {"rmst_weeks": [11.6, 14.8], "rmst_lower": [11.3, 14.4], "rmst_upper": [12.0, 15.2],
         "saved_per_100": [0.0, -316.0], "saved_lower": [0.0, -344.0],
         "saved_upper": [0.0, -288.0]},
        index=pd.Index(["rules", "everyone_spinal"], name="policy"),
    )  # fmt: skip
    text = format_weeks_saved(table, "rules").iloc[1, 1]
    assert text == "\N{MINUS SIGN}316 (\N{MINUS SIGN}344 to \N{MINUS SIGN}288)"
    assert format_weeks_saved(table, "rules").iloc[0, 0] == "11.6 (11.3–12.0)"
