"""validate(): every published figure in one table, each in its group, basis and rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from outcomes.analysis import natural_history, targets
from outcomes.analysis.natural_history import load_recovery_targets
from outcomes.analysis.targets import load_targets
from outcomes.analysis.trial import load_trials, trial_summary
from outcomes.analysis.validation import (
    COLUMNS,
    GROUPS,
    STATISTIC_GROUPS,
    group_of,
    misses,
    simulate_trial_replicates,
    source_kinds,
    tornado_policy,
    trial_rows,
    validate,
    validation_passed,
)
from outcomes.captions.validation import (
    assumption_caption,
    format_validation_table,
    miss_sentences,
    validation_caption,
)


@pytest.fixture(scope="module")
def table():
    return validate(n=1500, seed=3, n_trials=8, pool=6000)


def test_every_target_and_trial_figure_is_one_row_with_its_own_basis_and_value(table):
    assert list(table.columns) == list(COLUMNS)
    assert table["target"].is_unique
    expected = {t.name: t for t in (*load_targets(), *load_recovery_targets())}
    rows = table.set_index("target")
    for name, t in expected.items():
        row = rows.loc[name]
        assert row["basis"] == t.basis and row["rule"] == "overlap"
        assert row["group"] == STATISTIC_GROUPS[t.statistic]
        shown = row["input"] if t.basis == "input" else row["published"]
        assert shown == t.target and (row["low"], row["high"]) == (t.low, t.high)
        assert row["gap_flagged"] == (t.known_gap is not None)
    for t in load_trials():
        trial = rows[rows.index.str.startswith(f"{t.name}.")]
        assert len(trial) == 1 + len(t.extra)
        assert set(trial["group"]) == {"trial"} and set(trial["rule"]) == {"within"}
        hr = trial.loc[f"{t.name}.hazard_ratio"]
        assert (hr["published"], hr["low"], hr["high"], hr["basis"]) == (
            t.hazard_ratio, t.low, t.high, "published",
        )  # fmt: skip
    assert len(table) == len(expected) + sum(1 + len(t.extra) for t in load_trials())


def test_groups_come_in_report_order_and_every_statistic_has_one(table):
    order = [GROUPS.index(g) for g in table["group"]]
    assert order == sorted(order)
    assert set(targets.STATISTICS) | set(natural_history.STATISTICS) <= set(STATISTIC_GROUPS)
    with pytest.raises(ValueError, match="no validation group"):
        group_of("median_age")


def test_met_follows_each_rule_on_the_numbers_shown(table):
    checked = table[table["met"].notna()]
    overlap = checked[checked["rule"] == "overlap"]
    assert (
        overlap["met"].astype(bool)
        == ((overlap["ci_high"] >= overlap["low"]) & (overlap["ci_low"] <= overlap["high"]))
    ).all()
    within = checked[checked["rule"] == "within"]
    assert (
        within["met"].astype(bool)
        == ((within["ci_low"] <= within["published"]) & (within["published"] <= within["ci_high"]))
    ).all()


def test_trial_rows_judge_the_published_figure_against_the_central_95_of_simulated_trials():
    t = load_trials()[0]
    extra = {"control_surgery_share": 0.4, "control_mean_surgery_week": 18.0,
             "control_outcome_share": 0.95}  # fmt: skip
    around = pd.DataFrame({"hazard_ratio": np.linspace(1.5, 2.5, 41), **extra})
    far = pd.DataFrame({"hazard_ratio": np.linspace(3.0, 4.0, 41), **extra})
    hr = f"{t.name}.hazard_ratio"
    assert bool(trial_rows(t, around).set_index("target").loc[hr, "met"])
    row = trial_rows(t, far).set_index("target").loc[hr]
    assert not row["met"]
    expected = trial_summary(t, far).loc["hazard_ratio"]
    assert (row["ci_low"], row["observed"], row["ci_high"]) == (
        expected["p2_5"], expected["median"], expected["p97_5"],
    )  # fmt: skip
    assert row["n"] == t.size
    # The miss is named, with the simulated interval the published figure lies outside.
    sentence = miss_sentences(trial_rows(t, far))[0]
    assert "outside the central 95%" in sentence and f"{row['ci_low']:.2f}" in sentence


def test_same_seed_same_table_and_bad_sizes_are_refused():
    a = validate(n=300, seed=1, n_trials=2, pool=3000)
    # The trials simulated once by the caller give the same table as those simulated inside.
    replicates = simulate_trial_replicates(2, 1, pool=3000)
    b = validate(n=300, seed=1, n_trials=2, pool=3000, replicates=replicates)
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(ValueError, match="peul2007"):
        validate(n=300, seed=1, replicates={})
    for bad in ({"n": 0}, {"n_trials": 0}, {"pool": 2.5}, {"seed": -1}):
        name = next(iter(bad))
        with pytest.raises(ValueError, match=name):
            validate(**{"n": 300, "n_trials": 2, "pool": 3000, **bad})


def _rows(met, gap):
    n = len(met)
    return pd.DataFrame({
        "group": "surgery", "target": [f"t{i}" for i in range(n)], "label": "x",
        "basis": "published", "rule": "overlap", "published": 0.5, "input": np.nan,
        "low": 0.4, "high": 0.6, "observed": 0.9, "ci_low": 0.8, "ci_high": 1.0, "n": 100,
        "met": pd.array(met, dtype="boolean"), "gap_flagged": gap,
        "known_gap": ["why" if g else "" for g in gap],
    })  # fmt: skip


def test_passing_ignores_documented_gaps_only_and_never_passes_an_unchecked_figure():
    assert validation_passed(_rows([True, False], [False, True]))
    assert not validation_passed(_rows([True, False], [False, False]))
    assert not validation_passed(_rows([True, None], [False, False]))
    assert validation_passed(_rows([True, None], [False, True]))


def test_misses_say_which_way_and_captions_count_gaps_apart():
    rows = _rows([True, False, False, None], [False, True, False, False])
    rows.loc[2, "observed"] = 0.1
    rows.loc[3, "observed"] = np.nan
    assert misses(rows)["direction"].tolist() == ["higher", "lower", "unchecked"]
    caption = validation_caption(rows)
    assert "1 of 4 held-out published met" in caption
    assert "1 documented known gap, 2 not documented" in caption
    sentences = miss_sentences(rows)
    assert len(sentences) == 3 and sentences[0].endswith("Known gap: why")
    assert "too low" in sentences[1] and "not checked" in sentences[2]
    shown = format_validation_table(rows)["met"].tolist()
    assert shown == ["yes", "no (known gap)", "no", "not checked"]


def test_tornado_policy_is_the_largest_saving_other_than_the_excluded():
    h = pd.DataFrame({
        "policy": ["rules", "oracle", "perfect", "logistic"], "metric": "weeks_saved",
        "estimate": [0.0, 50.0, 80.0, 45.0],
    }).set_index(["policy", "metric"])  # fmt: skip
    assert tornado_policy(h) == "oracle"
    assert tornado_policy(h, exclude=("perfect", "oracle")) == "logistic"
    with pytest.raises(ValueError, match="no policy"):
        tornado_policy(h, exclude=("rules", "oracle", "perfect", "logistic"))


def test_the_assumption_sentence_counts_sources_and_names_the_assumed_top_numbers():
    ranges = pd.DataFrame(
        {"source": ["study:peul2007", "assumption: a guess", "assumption: another (study:x)"]},
        index=["surgery.a", "fit.b", "fit.c"],
    )
    kinds = source_kinds(ranges)
    assert kinds.to_dict() == {"study": 1, "seed": 0, "assumption": 2}
    one_way = pd.DataFrame({"swing": [9.0, 5.0, 1.0]}, index=["fit.b", "surgery.a", "fit.c"])
    sentence = assumption_caption(kinds, one_way.join(ranges), top=2)
    assert sentence.startswith("2 of the 3 numbers drawn")
    assert sentence.endswith("of the 2 that move the answer most, 1 is an assumption: fit.b.")
