"""Time-to-recovery analysis: agrees with lifelines, handles empty groups, seeded bootstrap,
refuses tables that count a patient twice, and reads the follow-up length from the data.

Statistical bounds are derived from sampling error (4 SE unless said otherwise; see
tests/test_recovery.py for the reasoning).
"""

from __future__ import annotations

import math
import shutil

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times, restricted_mean_survival_time

from outcomes.analysis.survival import (
    KaplanMeierByGroup,
    at_risk_weeks,
    combined_presentations,
    follow_up_weeks,
    harms,
    kaplan_meier,
    logrank,
    median_times,
    restricted_mean,
    rmst,
    trajectory,
    weeks_saved,
)
from outcomes.captions.survival import (
    condition_caption,
    fit_caption,
    format_combined_presentations,
    format_harms,
    format_logrank,
    format_median_times,
    harm_caption,
    recovery_summary,
    trajectory_caption,
)
from outcomes.engine.cohort import generate
from outcomes.engine.recovery import (
    care_plan,
    policy_pathways,
    simulate,
    simulate_policies,
    stack,
)
from outcomes.faces import plots
from outcomes.knowledge import KNOWLEDGE_DIR, load_knowledge
from outcomes.triage.policies import policy

WEEKS = follow_up_weeks()


@pytest.fixture(scope="module")
def patients():
    return generate(3000, seed=21)


@pytest.fixture(scope="module")
def sims(patients):
    return simulate_policies(patients, policy_pathways(patients), seed=1)


@pytest.fixture(scope="module")
def outcomes(sims):
    return stack(sims)


@pytest.fixture(scope="module")
def four(patients):
    """Four policies with known order: rules (everyone spinal) < logistic (half right) <
    oracle (every pathway right) < perfect (also the secondary part)."""
    truth = patients["pathway"].astype(str).to_numpy(dtype=object)
    half = np.where(np.arange(len(truth)) % 2 == 0, truth, "spinal")
    policies = {
        "rules": care_plan(np.full(len(truth), "spinal", dtype=object)),
        "logistic": care_plan(half),
        "oracle": care_plan(truth),
        "perfect": policy("perfect", patients),
    }
    return stack(simulate_policies(patients, policies, seed=2, visits=False))


def test_rmst_matches_lifelines(sims):
    out = sims["everyone_spinal"].outcomes
    kmf = KaplanMeierFitter().fit(out["weeks_to_recovery"], out["recovered"])
    for horizon in (1, 12, WEEKS):
        expected = restricted_mean_survival_time(kmf, t=horizon)
        got = rmst(out["weeks_to_recovery"].to_numpy(), out["recovered"].to_numpy(), horizon)[0]
        assert got == pytest.approx(expected, abs=1e-9)


def test_rmst_with_weights_equals_rmst_of_the_resample(sims):
    out = sims["perfect"].outcomes
    d, e = out["weeks_to_recovery"].to_numpy(), out["recovered"].to_numpy()
    idx = np.random.default_rng(0).integers(0, len(d), len(d))
    counts = np.bincount(idx, minlength=len(d))
    got = rmst(d, e, WEEKS, weights=counts[None, :])[0]
    assert got == pytest.approx(rmst(d[idx], e[idx], WEEKS)[0])


def test_kaplan_meier_matches_lifelines_bands_and_counts_at_risk(sims):
    out = sims["perfect"].outcomes
    km = kaplan_meier(out, by="condition")
    for condition in ("disc_herniation", "hamstring_tightness"):
        rows = km[km["group"] == condition].set_index("week")
        group = out[out["condition"] == condition]
        kmf = KaplanMeierFitter().fit(
            group["weeks_to_recovery"], group["recovered"], timeline=np.arange(WEEKS + 1)
        )
        band = kmf.confidence_interval_survival_function_
        np.testing.assert_allclose(rows["survival"], kmf.survival_function_.iloc[:, 0])
        np.testing.assert_allclose(rows["lower"], band.iloc[:, 0])
        np.testing.assert_allclose(rows["upper"], band.iloc[:, 1])
        at_risk = [(group["weeks_to_recovery"] >= w).sum() for w in range(WEEKS + 1)]
        np.testing.assert_array_equal(rows["at_risk"], at_risk)
        assert (np.diff(rows["survival"]) <= 0).all()
        inside = (rows["lower"] <= rows["survival"] + 1e-12) & (
            rows["survival"] <= rows["upper"] + 1e-12
        )
        assert inside.all()
    assert km["week"].max() == WEEKS


def test_band_width_shrinks_like_one_over_root_n(sims):
    # Greenwood: the SE of a Kaplan–Meier estimate is about sqrt(S (1 - S) / n). Quartering
    # the group doubles the band's width, up to the change of S (1 - S) between the samples:
    # at week 4, S ~ 0.6 with SE 0.023 in the quarter (n ~ 450), so 4 SE move S by 0.09 and
    # sqrt(S (1 - S)) by at most 5%. Allow twice that: a ratio within 2 +- 10%.
    out = sims["perfect"].outcomes
    full = kaplan_meier(out, by="pathway")
    quarter = kaplan_meier(out.iloc[::4], by="pathway")
    week = 4
    pick = (full["group"] == "spinal") & (full["week"] == week)
    pick_q = (quarter["group"] == "spinal") & (quarter["week"] == week)
    width = float((full.loc[pick, "upper"] - full.loc[pick, "lower"]).iloc[0])
    width_q = float((quarter.loc[pick_q, "upper"] - quarter.loc[pick_q, "lower"]).iloc[0])
    assert 1.8 < width_q / width < 2.2


def test_median_times_and_their_intervals_are_lifelines(sims):
    out = sims["perfect"].outcomes
    table = median_times(out, by="condition")
    for condition in ("disc_herniation", "spinal_stenosis", "upper_limb_nerve"):
        group = out[out["condition"] == condition]
        kmf = KaplanMeierFitter().fit(group["weeks_to_recovery"], group["recovered"])
        ci = median_survival_times(kmf.confidence_interval_).to_numpy(dtype=float)[0]
        row = table.loc[condition]
        assert row["median"] == kmf.median_survival_time_
        assert (row["lower"], row["upper"]) == (ci[0], ci[1])
        assert row["patients"] == len(group)
        assert row["recovered"] == group["recovered"].mean()
        # The reading version shows them as notebook 03 always has.
        text = f"{kmf.median_survival_time_:.0f} ({ci[0]:.0f}–{ci[1]:.0f})"
        shown = format_median_times(table)
        assert shown.loc[condition, "median weeks (95% CI)"] == text
        assert shown.loc[condition, "patients"] == f"{len(group)}"
        assert shown.loc[condition, "recovered"] == f"{group['recovered'].mean():.1%}"


def test_empty_groups_are_left_out_or_marked(sims):
    out = sims["perfect"].outcomes
    only_disc = out[out["condition"] == "disc_herniation"]
    assert set(kaplan_meier(only_disc, by="condition")["group"]) == {"disc_herniation"}
    table = median_times(only_disc, by="condition")
    assert table.loc["serious_pathology", "patients"] == 0
    assert np.isnan(table.loc["serious_pathology", "median"])
    shown = format_median_times(table)
    assert shown.loc["serious_pathology"].tolist() == ["0", "no patients", "no patients"]
    assert kaplan_meier(out.head(0), by="condition").empty


def test_median_not_reached_when_few_recover():
    out = pd.DataFrame(
        {
            "group": pd.Categorical(["a"] * 10),
            "weeks_to_recovery": np.full(10, 52, dtype=np.int16),
            "recovered": np.r_[np.ones(2, bool), np.zeros(8, bool)],
        }
    )
    table = median_times(out, by="group")
    assert np.isinf(table.loc["a", "median"])
    assert format_median_times(table).loc["a", "median weeks (95% CI)"].startswith("not reached")


def test_logrank_matches_lifelines_and_separates_policies(outcomes):
    from lifelines.statistics import logrank_test

    table = logrank(outcomes, by="policy", reference="perfect")
    assert table["comparison"].tolist()[0] == "all groups"
    row = table.set_index("comparison").loc["everyone_spinal vs perfect"]
    a = outcomes[outcomes["policy"] == "perfect"]
    b = outcomes[outcomes["policy"] == "everyone_spinal"]
    res = logrank_test(
        a["weeks_to_recovery"], b["weeks_to_recovery"], a["recovered"], b["recovered"]
    )
    p = res.p_value
    assert row["chi2"] == pytest.approx(res.test_statistic, rel=1e-12)
    assert row["p"] == pytest.approx(p, rel=1e-9, abs=1e-300)
    shown = format_logrank(table).set_index("comparison").loc["everyone_spinal vs perfect"]
    assert shown["chi2"] == round(res.test_statistic, 1)
    assert shown["p"] == ("<0.001" if p < 0.001 else f"{p:.3f}")


@pytest.mark.parametrize("by", ["matched", "chronic", "fit", "condition"])
def test_group_labels_agree_across_analyses_for_bool_and_categorical_columns(sims, by):
    from lifelines.statistics import logrank_test

    one = sims["everyone_spinal"].outcomes
    assert one["matched"].dtype == bool and one["chronic"].dtype == bool
    km_groups = list(dict.fromkeys(kaplan_meier(one, by=by)["group"]))
    medians = median_times(one, by=by)
    non_empty = [str(g) for g in medians.index[medians["patients"] != 0]]
    assert km_groups == non_empty and len(km_groups) >= 2
    reference = km_groups[0]
    table = logrank(one, by=by, reference=reference)
    assert table["comparison"].tolist() == [
        "all groups", *(f"{g} vs {reference}" for g in km_groups[1:])]  # fmt: skip
    assert np.isfinite(table["chi2"]).all()
    # Each pairwise row is lifelines' two-group test on those rows.
    labels = one[by].astype(str)
    ref, other = one[labels == reference], one[labels == km_groups[1]]
    res = logrank_test(ref["weeks_to_recovery"], other["weeks_to_recovery"],
                       ref["recovered"], other["recovered"])  # fmt: skip
    assert table["chi2"].iloc[1] == pytest.approx(res.test_statistic, rel=1e-12)
    assert format_logrank(table)["chi2"].iloc[1] == round(res.test_statistic, 1)


def test_logrank_takes_a_boolean_reference_and_names_bad_ones(sims):
    one = sims["everyone_spinal"].outcomes
    by_value = logrank(one, by="matched", reference=True)
    pd.testing.assert_frame_equal(by_value, logrank(one, by="matched", reference="True"))
    assert by_value["comparison"].tolist() == ["all groups", "False vs True"]
    # The pairwise row is lifelines' two-group test of the mismatched against the matched.
    from lifelines.statistics import logrank_test

    labels = one["matched"].to_numpy()
    res = logrank_test(one.loc[~labels, "weeks_to_recovery"], one.loc[labels, "weeks_to_recovery"],
                       one.loc[~labels, "recovered"], one.loc[labels, "recovered"])  # fmt: skip
    p = res.p_value
    assert by_value["p"].iloc[1] == pytest.approx(p, rel=1e-9, abs=1e-300)
    assert format_logrank(by_value)["p"].iloc[1] == ("<0.001" if p < 0.001 else f"{p:.3f}")
    with pytest.raises(ValueError, match=r"reference 'gym' is not a group of 'pathway'; "
                       r"choose one of: emergency, spinal"):  # fmt: skip
        logrank(one, by="pathway", reference="gym")
    # One non-empty group: nothing to test, said so rather than a p-value.
    alone = logrank(one[one["matched"]], by="matched", reference=True)
    assert alone["comparison"].tolist() == ["all groups"]
    assert np.isnan(alone["chi2"].iloc[0]) and np.isnan(alone["p"].iloc[0])
    assert format_logrank(alone)["p"].iloc[0] == "n/a"


def test_pooled_policies_cannot_be_grouped_by_another_column(outcomes, sims):
    # Under common random numbers, the same patient on the same fit is an identical copy in
    # every policy: pooling inflates n. Every group-wise analysis refuses it...
    for analysis in (kaplan_meier, median_times, logrank):
        with pytest.raises(ValueError, match=r"appears more than once in group .* of 'fit'"):
            analysis(outcomes, by="fit")
    with pytest.raises(ValueError, match="analyse one policy at a time"):
        trajectory(stack(sims, "visits"), by="pathway")
    # ... and one policy at a time is fine, as is grouping the stack by policy.
    one = outcomes[outcomes["policy"] == "everyone_spinal"]
    assert set(kaplan_meier(one, by="fit")["group"]) >= {"matched", "mismatched"}
    assert len(logrank(outcomes, by="policy")) == 1


def test_weeks_saved_is_paired_seeded_and_zero_for_the_reference(outcomes):
    a = weeks_saved(outcomes, reference="everyone_spinal", n_boot=200, seed=3)
    b = weeks_saved(outcomes, reference="everyone_spinal", n_boot=200, seed=3)
    pd.testing.assert_frame_equal(a, b)
    ref = a.loc["everyone_spinal"]
    assert ref["saved_per_100"] == ref["saved_lower"] == ref["saved_upper"] == 0
    perfect = a.loc["perfect"]
    assert perfect["saved_lower"] <= perfect["saved_per_100"] <= perfect["saved_upper"]
    # Saved weeks = 100 x the difference in restricted mean time to recovery.
    assert perfect["saved_per_100"] == pytest.approx(
        100 * (ref["rmst_weeks"] - perfect["rmst_weeks"])
    )
    # Perfect triage removes every mismatch: the paired bootstrap puts the saving far from 0.
    # A 95% percentile interval spans about 2 x 1.96 SE, so SE ~ width / 3.92; the estimate
    # must exceed 4 SE.
    se = (perfect["saved_upper"] - perfect["saved_lower"]) / 3.92
    assert perfect["saved_per_100"] > 4 * se


def test_weeks_saved_pairing_narrows_the_interval(outcomes):
    # Paired: the interval of the difference is much narrower than the two RMST intervals
    # combined as if independent (they are strongly correlated under common random numbers).
    table = weeks_saved(outcomes, reference="everyone_spinal", n_boot=200, seed=1)
    p, r = table.loc["perfect"], table.loc["everyone_spinal"]
    unpaired = 100 * math.hypot(
        p["rmst_upper"] - p["rmst_lower"], r["rmst_upper"] - r["rmst_lower"]
    )
    assert p["saved_upper"] - p["saved_lower"] < 0.8 * unpaired


def test_weeks_saved_memory_is_bounded_without_changing_the_result(outcomes, monkeypatch):
    whole = weeks_saved(outcomes, reference="everyone_spinal", n_boot=60, seed=4)
    seen = []
    real_bar = restricted_mean.progress_bar

    def recording_bar(*args, **kwargs):
        seen.append(kwargs)
        return real_bar(*args, **kwargs)

    monkeypatch.setattr(restricted_mean, "progress_bar", recording_bar)
    monkeypatch.setattr(restricted_mean, "BOOTSTRAP_CELLS", 7 * 3000)  # 7 replicates at a time
    chunked = weeks_saved(outcomes, reference="everyone_spinal", n_boot=60, seed=4)
    pd.testing.assert_frame_equal(whole, chunked)
    assert seen and seen[0]["total"] == 60 and seen[0]["unit"] == "replicate"


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
    se = chosen.std(ddof=1) / math.sqrt(len(chosen))
    assert row["lower"] == pytest.approx(chosen.mean() - 1.959964 * se)
    assert row["upper"] == pytest.approx(chosen.mean() + 1.959964 * se)


def test_policy_trajectories_equal_the_trajectory_of_the_stack(sims):
    from outcomes.analysis.survival import policy_trajectories

    stacked = trajectory(stack(sims, "visits"), by="policy")
    separate = policy_trajectories({name: sim.visits for name, sim in sims.items()})
    pd.testing.assert_frame_equal(separate, stacked, check_dtype=False)


# --------------------------------------------------------------------------------------------
# Plots (drawn by outcomes.faces.plots; checked here against the tables they draw)


def _fill_values(collection) -> set[float]:
    return {round(float(y), 9) for path in collection.get_paths() for y in path.vertices[:, 1]}


def test_km_plot_draws_each_curve_its_band_and_its_at_risk_counts(sims):
    out = sims["perfect"].outcomes
    km = kaplan_meier(out, by="pathway")
    weeks = at_risk_weeks(WEEKS)
    ax = plots.km_curves(km, title="t", at_risk_weeks=weeks)
    groups = list(dict.fromkeys(km["group"]))
    lines, fills = ax.get_lines(), ax.collections
    assert len(lines) == len(fills) == len(groups)
    for line, fill, group in zip(lines, fills, groups, strict=True):
        rows = km[km["group"] == group]
        np.testing.assert_allclose(line.get_ydata(), rows["survival"])
        np.testing.assert_allclose(line.get_xdata(), rows["week"])
        bounds = {round(float(v), 9) for v in (*rows["lower"], *rows["upper"])}
        assert _fill_values(fill) == bounds
    shown = sorted(
        int(t.get_text().replace(",", "")) for t in ax.texts
        if t.get_text().replace(",", "").isdigit()
    )  # fmt: skip
    expected = sorted(
        int(v) for v in km.loc[km["week"].isin(weeks), "at_risk"]
    )  # every group, every chosen week
    assert shown == expected
    plt.close("all")
    assert plots.km_curves(km.head(0)).texts[0].get_text() == "no patients"
    plt.close("all")


def test_trajectory_plot_draws_each_mean_and_its_band(sims):
    summary = trajectory(sims["perfect"].visits, by="pathway")
    ax = plots.trajectory_bands(summary)
    groups = list(dict.fromkeys(summary["group"]))
    assert len(ax.get_lines()) == len(ax.collections) == len(groups)
    for line, fill, group in zip(ax.get_lines(), ax.collections, groups, strict=True):
        rows = summary[summary["group"] == group]
        np.testing.assert_allclose(line.get_ydata(), rows["mean"])
        bounds = {round(float(v), 9) for v in (*rows["lower"], *rows["upper"])}
        assert _fill_values(fill) == bounds
    plt.close("all")


# --------------------------------------------------------------------------------------------
# Follow-up length: read from the data, never assumed to be 52 weeks


def test_follow_up_length_is_threaded_through(tmp_path):
    directory = tmp_path / "kb"
    shutil.copytree(KNOWLEDGE_DIR, directory)
    path = directory / "recovery.toml"
    path.write_text(
        path.read_text().replace(
            "follow_up_weeks = { value = 52,", "follow_up_weeks = { value = 26,"
        )
    )
    kb = load_knowledge(directory)
    patients = generate(600, seed=3)
    policies = {"rules": care_plan(np.full(600, "spinal")), "perfect": policy("perfect", patients)}
    sims = simulate_policies(patients, policies, seed=0, knowledge=kb)
    out = stack(sims)
    assert follow_up_weeks(out) == 26 and out["last_visit_week"].max() == 26
    assert kaplan_meier(out, by="policy")["week"].max() == 26
    assert trajectory(stack(sims, "visits"), by="policy")["week"].max() == 26
    saved = weeks_saved(out, reference="rules", n_boot=20)
    perfect = out[out["policy"] == "perfect"]
    expected = rmst(perfect["weeks_to_recovery"].to_numpy(), perfect["recovered"].to_numpy(), 26)
    assert saved.loc["perfect", "rmst_weeks"] == pytest.approx(expected[0])
    summary = recovery_summary(out, saved, "rules", harms(out), n_boot=20)
    assert summary.title.startswith("Recovery over 26 weeks")
    assert at_risk_weeks(26) == (0, 6, 13, 20, 26)


# --------------------------------------------------------------------------------------------
# Sentences built from the run


def test_simulate_output_feeds_the_analysis_without_a_policy_column():
    patients = generate(200, seed=2)
    out = simulate(patients, patients["pathway"], seed=0, visits=False).outcomes
    assert set(median_times(out, by="fit").index) >= {"matched"}


def test_condition_caption_list_the_medians_fastest_first(sims):
    out = sims["perfect"].outcomes
    text = condition_caption(out)
    medians = {}
    for condition, group in out.groupby("condition", observed=True):
        kmf = KaplanMeierFitter().fit(group["weeks_to_recovery"], group["recovered"])
        medians[str(condition)] = kmf.median_survival_time_
    order = sorted(medians, key=lambda c: medians[c])
    positions = [text.index(c.replace("_", " ")) for c in order]
    assert positions == sorted(positions)
    for condition, median in medians.items():
        shown = "not reached" if not np.isfinite(median) else f"{median:.0f}"
        assert f"{condition.replace('_', ' ')} {shown}" in text


def test_fit_caption_count_one_policys_patients(outcomes):
    one = outcomes[outcomes["policy"] == "everyone_spinal"]
    text = fit_caption(one, "everyone_spinal")
    counts = one["fit"].value_counts()
    for fit in ("matched", "mismatched", "aggravating"):
        assert f"{counts[fit]:,} {fit} ({counts[fit] / len(one):.0%};" in text
    top = one.loc[one["fit"] == "mismatched", "condition"].astype(str).value_counts()
    assert f"conditions: {top.index[0].replace('_', ' ')}" in text
    with pytest.raises(ValueError, match="appears more than once"):
        fit_caption(outcomes, "all")


def test_trajectory_caption_name_the_widest_gap(sims):
    visits = stack(sims, "visits")
    summary = trajectory(visits, by="policy")
    wide = summary.pivot(index="week", columns="group", values="mean")
    spread = wide.max(axis=1) - wide.min(axis=1)
    week = int(spread.idxmax())
    text = trajectory_caption(summary)
    assert f"at week {week}: from {wide.loc[week].min():.1f}" in text
    assert f"At week {WEEKS} the gap is {spread.loc[WEEKS]:.1f} points" in text


def test_harm_caption_state_the_counts(four):
    table = harms(four)
    text = harm_caption(table)
    serious = int(table["patients with serious pathology"].max())
    assert serious > 0 and f"Of {serious} patients with serious pathology" in text
    assert f"rules {serious}" in text  # everyone spinal sends them all down a routine pathway
    assert "The oracle left none in this run." in text  # this oracle is given the truth
    lucky = table.assign(**{"under-triaged emergencies": 0})
    assert "oracle 0" in harm_caption(lucky)
    nobody = table.assign(**{"patients with serious pathology": 0})
    assert harm_caption(nobody) == "No patient in this cohort has serious pathology."


def test_recovery_summary_picks_a_realistic_policy_and_pairs_it_with_the_runner_up(four):
    saved = weeks_saved(four, reference="rules", n_boot=100, seed=2)
    # Oracle and perfect save more, but they are benchmarks: the best realistic is logistic.
    assert saved["saved_per_100"].idxmax() in ("oracle", "perfect")
    summary = recovery_summary(four, saved, "rules", harms(four), n_boot=100, seed=2)
    text = str(summary)
    assert summary.title == f"Recovery over {WEEKS} weeks: 3,000 patients under 4 triage policies"
    assert "Best realistic policy: logistic, saving" in text
    assert "Against the runner-up, rules, it saves" in text
    paired = weeks_saved(
        four, reference="rules", n_boot=100, seed=2, policies=["logistic", "rules"]
    )
    row = paired.loc["logistic"]
    assert f"it saves {row['saved_per_100']:.0f} ({row['saved_lower']:.0f}–" in text
    oracle = saved.loc["oracle"]
    assert f"recorded findings) would save {oracle['saved_per_100']:.0f}" in text
    perfect = saved.loc["perfect"]
    assert f"Perfect triage would save {perfect['saved_per_100']:.0f} " in text
    rules = saved.loc["rules"]
    assert f"under rules: {rules['rmst_weeks']:.1f} " in text
    serious = int(harms(four)["patients with serious pathology"].max())
    assert f"Serious pathology left on a routine pathway, of {serious} patients: rules " in text


def test_combined_presentations_table(four):
    numbers = combined_presentations(four)
    table = format_combined_presentations(numbers)
    for name in ("rules", "oracle", "perfect"):
        one = four[four["policy"] == name]
        combined = one["secondary_condition"] != "none"
        left = one["final_pain"] / one["baseline_pain"].clip(lower=1)
        assert numbers.loc[name, "combined_patients"] == combined.sum()
        assert numbers.loc[name, "combined_mean"] == pytest.approx(left[combined].mean())
        assert numbers.loc[name, "single_mean"] == pytest.approx(left[~combined].mean())
        assert table.loc[name, "combined patients"] == f"{combined.sum():,}"
        shown = table.loc[name, "pain left, combined (95% CI)"]
        assert shown.startswith(f"{left[combined].mean():.0%} (")
        assert table.loc[name, "pain left, single (95% CI)"].startswith(
            f"{left[~combined].mean():.0%}"
        )
    # Only perfect triage treats the secondary part on its own pathway.
    assert numbers.loc["perfect", "own_pathway"] == 1.0
    assert numbers.loc["oracle", "own_pathway"] == 0.0
    assert table.loc["perfect", "secondary part on its own pathway"] == "100%"
    assert table.loc["oracle", "secondary part on its own pathway"] == "0%"


def test_emergency_referral_does_not_count_as_treating_the_secondary_part(patients):
    # Everyone sent to emergency: combined presentations are redirected to their primary
    # condition's pathway, so their secondary part is not on its own pathway, and they keep
    # more pain than under perfect triage (paired over the same patients; > 8 SE).
    n = len(patients)
    policies = {"everyone_emergency": care_plan(np.full(n, "emergency", dtype=object)),
                "perfect": policy("perfect", patients)}  # fmt: skip
    out = stack(simulate_policies(patients, policies, seed=3, dropout=0.0, visits=False))
    table = format_combined_presentations(combined_presentations(out))
    assert table.loc["everyone_emergency", "secondary part on its own pathway"] == "0%"
    # Weeks to recovery (no dropout: the restricted time in pain) are longer for the same
    # patients: the detour, and a secondary part left to the primary part's care.
    left = out["weeks_to_recovery"].astype(float)
    combined = (out["secondary_condition"] != "none").to_numpy()
    by_policy = {p: left[(out["policy"] == p).to_numpy() & combined].to_numpy()
                 for p in policies}  # fmt: skip
    gap = by_policy["everyone_emergency"] - by_policy["perfect"]
    assert len(gap) > 200 and gap.mean() > 8 * gap.std(ddof=1) / math.sqrt(len(gap))
    # A small non-zero share is not shown as 0%.
    one = out[out["policy"] == "perfect"].copy()
    rows = np.flatnonzero((one["secondary_condition"] != "none").to_numpy())
    one["secondary_fit"] = one["secondary_fit"].astype(object)
    one.loc[one.index[rows[1:]], "secondary_fit"] = "mismatched"
    shown = format_combined_presentations(combined_presentations(one))
    assert shown.iloc[0]["secondary part on its own pathway"] == "<1%"


def test_weeks_saved_text_reads_well_for_negative_intervals():
    from outcomes.captions.survival import format_weeks_saved

    table = pd.DataFrame(
        {"rmst_weeks": [11.6, 14.8], "rmst_lower": [11.3, 14.4], "rmst_upper": [12.0, 15.2],
         "saved_per_100": [0.0, -316.0], "saved_lower": [0.0, -344.0],
         "saved_upper": [0.0, -288.0]},
        index=pd.Index(["rules", "everyone_spinal"], name="policy"),
    )  # fmt: skip
    text = format_weeks_saved(table, "rules").iloc[1, 1]
    assert text == "\N{MINUS SIGN}316 (\N{MINUS SIGN}344 to \N{MINUS SIGN}288)"
    assert format_weeks_saved(table, "rules").iloc[0, 0] == "11.6 (11.3–12.0)"


# --------------------------------------------------------------------------------------------
# Figure titles: the finding of each figure, from the run's tables


def _km_median(group: pd.DataFrame) -> float:
    return (
        KaplanMeierFitter()
        .fit(group["weeks_to_recovery"], group["recovered"])
        .median_survival_time_
    )


def test_condition_title_names_the_slowest_condition_and_its_median(sims):
    from outcomes.captions.survival import condition_title

    out = sims["perfect"].outcomes
    medians = {str(c): _km_median(g) for c, g in out.groupby("condition", observed=True)}
    slowest = max(medians, key=medians.get)
    assert list(medians.values()).count(medians[slowest]) == 1  # no tie in this run
    title = condition_title(out, "perfect")
    head, tail = title.split("\n")
    assert head == f"{slowest.replace('_', ' ').capitalize()} is slowest to recover:"
    assert tail == f"median {medians[slowest]:.0f} weeks under perfect triage"


def _outcomes(groups: dict[str, tuple[list[int], list[bool]]]) -> pd.DataFrame:
    rows = [(c, w, e) for c, (weeks, events) in groups.items()
            for w, e in zip(weeks, events, strict=True)]  # fmt: skip
    return pd.DataFrame(
        {"condition": pd.Categorical([r[0] for r in rows], categories=list(groups)),
         "weeks_to_recovery": [r[1] for r in rows], "recovered": [r[2] for r in rows],
         "last_visit_week": 26}
    )  # fmt: skip


def test_condition_title_handles_ties_singulars_and_medians_beyond_follow_up():
    from outcomes.captions.survival import condition_title

    done = [True] * 3
    tie = _outcomes({"disc_herniation": ([1, 6, 9], done), "piriformis_syndrome": ([2, 6, 8], done),
                     "upper_limb_nerve": ([1, 1, 2], done)})  # fmt: skip
    assert condition_title(tie, "rules") == (
        "Disc herniation and piriformis syndrome are slowest to recover:\n"
        "median 6 weeks under the rules")  # fmt: skip
    three = _outcomes({c: ([1, 6, 9], done) for c in ("a", "b", "c")} | {"d": ([1, 1, 1], done)})
    assert condition_title(three).startswith("A and 2 other conditions are slowest")
    one_week = _outcomes({"a": ([1, 1, 1], done), "b": ([1, 1, 2], done)})
    assert condition_title(one_week).endswith(":\nmedian 1 week under perfect triage")
    never = _outcomes({"a": ([3, 4, 5], done), "b": ([26, 26, 26], [False] * 3)})
    assert condition_title(never, "everyone_spinal") == (
        "B is slowest to recover:\nfewer than half recovered by week 26 under everyone-to-spinal"
    )
    alike = _outcomes({"a": ([2, 4, 5], done), "b": ([3, 4, 9], done)})
    assert condition_title(alike).startswith("Every condition recovers alike:\nmedian 4 weeks")
    alone = _outcomes({"a": ([2, 4, 5], done)})
    assert condition_title(alone) == "A recovery:\nmedian 4 weeks under perfect triage"
    assert (
        condition_title(alone.head(0)) == "Recovery by condition under perfect triage: no patients"
    )


def test_trajectory_title_names_the_fastest_and_the_laggard_at_the_widest_gap(sims):
    from outcomes.analysis.survival import policy_trajectories
    from outcomes.captions.survival import trajectory_title

    table = policy_trajectories({name: sim.visits for name, sim in sims.items()})
    wide = table.pivot(index="week", columns="group", values="mean")
    spread = wide.max(axis=1) - wide.min(axis=1)
    week = int(spread.idxmax())
    assert wide.loc[week].idxmin() == "perfect"  # perfect triage is lowest where they differ
    assert trajectory_title(table) == (
        "Pain falls fastest under perfect triage;\neveryone-to-spinal lags by "
        f"{spread.loc[week]:.1f} points at week {week}")  # fmt: skip


def test_trajectory_title_handles_ties_a_single_policy_and_no_gap():
    from outcomes.captions.survival import trajectory_title

    def curves(means: dict[str, list[float]]) -> pd.DataFrame:
        return pd.DataFrame([(g, w, m) for g, ms in means.items() for w, m in enumerate(ms)],
                            columns=["group", "week", "mean"])  # fmt: skip

    tie = curves({"oracle": [6, 2.01, 1], "logistic": [6, 1.98, 1], "rules": [6, 3.5, 2]})
    assert trajectory_title(tie) == (
        "Pain falls fastest under the oracle and logistic;\nthe rules lags by 1.5 points at week 1"
    )
    many = curves({"a": [6, 4, 1], "b": [6, 4, 1], "c": [6, 4, 1], "d": [6, 2, 1]})
    assert trajectory_title(many).endswith(";\na and 2 other policies lag by 2.0 points at week 1")
    assert trajectory_title(curves({"a": [6, 3], "b": [6, 3.04]})) == (
        "Mean pain is alike under every policy:\nwithin 0.1 points at every week"
    )
    assert trajectory_title(curves({"rules": [6, 3, 2.5]})) == (
        "Mean pain under the rules:\nfrom 6.0 at week 0 to 2.5 at week 2"
    )
    assert trajectory_title(curves({}).head(0)) == "Mean pain: no patients"


def test_weeks_saved_title_states_the_best_saving_against_the_reference(four):
    from outcomes.captions.survival import weeks_saved_title

    saved = weeks_saved(four, reference="rules", n_boot=100, seed=2)
    # Perfect triage saves most but knows the truth: the title names the best of the others.
    assert saved["saved_per_100"].idxmax() == "perfect"
    best = saved.drop(index=["rules", "perfect"])["saved_per_100"].idxmax()
    value = saved.loc[best, "saved_per_100"]
    assert saved.loc[best, "saved_lower"] > 0
    name = {"oracle": "the oracle"}.get(best, best)
    assert weeks_saved_title(saved, "rules") == (
        f"Against the rules, {name} saves most weeks of pain:\n"
        f"{value:,.0f} per 100 patients (perfect triage aside)")  # fmt: skip
    everything = weeks_saved_title(saved, "rules", exclude=())
    assert everything.startswith("Against the rules, perfect triage saves most weeks of pain:")
    assert "aside" not in everything


def _saved_table(**rows: tuple[float, float, float]) -> pd.DataFrame:
    columns = ["saved_per_100", "saved_lower", "saved_upper"]
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns)


def test_weeks_saved_title_says_when_nothing_saves_beyond_chance_or_everything_costs():
    from outcomes.captions.survival import weeks_saved_title

    zero = (0.0, 0.0, 0.0)
    chance = _saved_table(rules=zero, logistic=(12.4, -3.0, 28.0), boosted=(8.0, -9.0, 20.0))
    assert weeks_saved_title(chance, "rules") == (
        "Against the rules, no policy saves weeks of pain beyond chance:\n"
        "at best logistic, 12 per 100 patients")  # fmt: skip
    costs = _saved_table(rules=zero, everyone_spinal=(-289.0, -314.0, -265.0),
                         perfect=(254.0, 233.0, 275.0))  # fmt: skip
    assert weeks_saved_title(costs, "rules") == (
        "Against the rules, every policy costs weeks of pain:\nthe least, everyone-to-spinal, "
        "289 more per 100 patients (perfect triage aside)")  # fmt: skip
    tie = _saved_table(rules=zero, logistic=(1240.2, 1100.0, 1300.0),
                       boosted=(1239.6, 1000.0, 1400.0))  # fmt: skip
    assert weeks_saved_title(tie, "rules") == (
        "Against the rules, logistic and boosted save most weeks of pain:\n1,240 per 100 patients"
    )
    assert weeks_saved_title(_saved_table(rules=zero), "rules").endswith(
        "no other policy to compare"
    )
    assert weeks_saved_title(_saved_table(), "rules").endswith("no patients")


@pytest.mark.parametrize(
    "title",
    [
        "Spinal stenosis and hamstring tightness are slowest to recover:\n"
        "fewer than half recovered by week 520 under everyone-to-spinal",
        "Pain falls fastest under perfect triage and the oracle;\n"
        "everyone-to-spinal and 3 other policies lag by 10.0 points at week 52",
        "Against the rules, no policy saves weeks of pain beyond chance:\n"
        "at best everyone-to-spinal, 5,200 per 100 patients (perfect triage aside)",
        "Against the rules, every policy costs weeks of pain:\nthe least, everyone-to-spinal, "
        "5,200 more per 100 patients (perfect triage aside)",
    ],
)
def test_the_longest_titles_fit_their_figure(title):
    # The widest each title can get (long names, ties, four-digit numbers) stays inside the
    # default figure of the plot style.
    plots.use_style()
    fig, ax = plt.subplots()
    ax.set_title(title)
    fig.canvas.draw()
    assert ax.title.get_window_extent().width <= fig.bbox.width
    plt.close(fig)


def test_course_events_count_what_happened_per_policy():
    from outcomes.analysis.survival import course_events
    from outcomes.captions.survival import course_events_caption, fit_title, policy_title

    patients = generate(2000, seed=9, setting="spine_clinic")
    sims = simulate_policies(patients, policy_pathways(patients), seed=1, visits=False)
    out = stack(sims)
    table = course_events(out)
    assert list(table.index) == list(sims)
    for name, sim in sims.items():
        o = sim.outcomes
        row = table.loc[name]
        assert row["operations"] == o["surgery"].sum()
        assert row["operations_per_100"] == pytest.approx(100 * o["surgery"].mean())
        assert row["relapses_per_100"] == pytest.approx(100 * o["relapsed"].mean())
        assert row["lasting_deficits"] == o["lasting_deficit"].sum()
        assert row["under_triaged"] == o["harm"].sum()
    # Perfect triage sends every serious case to emergency care at once; everyone_spinal none.
    assert table.loc["perfect", "under_triaged"] == 0
    assert table.loc["everyone_spinal", "under_triaged"] == table.loc["everyone_spinal", "serious"]
    assert (
        table.loc["everyone_spinal", "median_weeks_to_emergency_care"]
        > table.loc["perfect", "median_weeks_to_emergency_care"]
    )
    text = course_events_caption(table)
    assert text.startswith("Operations per 100 patients: ")
    # Titles state the finding from the numbers.
    assert "slowest" in fit_title(sims["everyone_spinal"].outcomes, "everyone_spinal")
    assert "recovers soonest" in policy_title(out)


# --------------------------------------------------------------------------------------------
# Kaplan–Meier fitted once per group; numbers returned as numbers, text from the formatters


def test_kaplan_meier_is_fitted_once_per_group_and_every_table_reads_the_fits(sims, monkeypatch):
    out = sims["everyone_spinal"].outcomes
    calls = []
    real_fit = KaplanMeierFitter.fit

    def counting_fit(self, *args, **kwargs):
        calls.append(1)
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(KaplanMeierFitter, "fit", counting_fit)
    km = KaplanMeierByGroup("fit").fit(out)
    curves, medians, areas = km.curves(), km.medians(), km.rmst()
    assert len(calls) == len(km.fitters_) == out["fit"].astype(str).nunique()
    monkeypatch.setattr(KaplanMeierFitter, "fit", real_fit)
    # The same numbers as the one-question functions, which build the same fits.
    pd.testing.assert_frame_equal(curves, kaplan_meier(out, by="fit"))
    pd.testing.assert_frame_equal(medians, median_times(out, by="fit"))
    for name, group in out.groupby("fit", observed=True):
        d, e = group["weeks_to_recovery"].to_numpy(), group["recovered"].to_numpy()
        assert areas[str(name)] == pytest.approx(rmst(d, e, WEEKS)[0], abs=1e-9)


def test_formatters_reproduce_the_text_the_tables_used_to_hold(four):
    # harms: the share of serious pathology under-triaged, one decimal, or "no patients".
    numbers = harms(four)
    shown = format_harms(numbers)
    for name, row in numbers.iterrows():
        h, s = row["under-triaged emergencies"], row["patients with serious pathology"]
        assert row["share harmed"] == pytest.approx(h / s)
        assert shown.loc[name, "share harmed"] == f"{h / s:.1%}"
    nobody = numbers.assign(**{"patients with serious pathology": 0, "share harmed": np.nan})
    assert set(format_harms(nobody)["share harmed"]) == {"no patients"}
    # median_times: "not reached" for an interval limit beyond follow-up.
    table = pd.DataFrame(
        {"patients": [5], "recovered": [0.6], "median": [8.0], "lower": [3.0], "upper": [np.inf]},
        index=pd.Index(["a"], name="fit"),
    )
    assert format_median_times(table).loc["a"].tolist() == ["5", "60.0%", "8 (3–not reached)"]
    # logrank: three decimals, "<0.001" below, "n/a" with nothing to compare.
    t = pd.DataFrame(
        {
            "comparison": ["all groups", "b vs a", "c vs a"],
            "chi2": [3.14159, 0.04, 9.0],
            "df": [2, 1, 1],
            "p": [0.0123456, 0.84, 0.0009],
        }
    )
    assert format_logrank(t)["p"].tolist() == ["0.012", "0.840", "<0.001"]
    assert format_logrank(t)["chi2"].tolist() == [3.1, 0.0, 9.0]
