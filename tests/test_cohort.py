"""The generator: determinism, chunk invariance, dtypes, clear errors, and clinical behaviour.

Statistical checks use fixed seeds and tolerances of about 5 binomial standard errors
(sqrt(p (1 - p) / n)), so a correct generator fails them with probability below 1e-6.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from outcomes.engine import cohort, sampling
from outcomes.engine.cohort import (
    BLOCK_SIZE,
    GENERATED_WITH_KEY,
    TRUTH_COLUMNS,
    feature_columns,
    generate,
    generate_from_model,
    generated_with,
    iter_chunks,
    patient_columns,
    write_cohort,
)
from outcomes.engine.model import SENSITIVITY_LEVELS, build_model
from outcomes.infra.io import ROW_GROUP_ROWS, read_metadata, read_table, write_table
from outcomes.knowledge import load_knowledge


def five_se(p: float, n: int) -> float:
    return 5 * np.sqrt(p * (1 - p) / n)


@pytest.fixture(scope="module")
def big() -> pd.DataFrame:
    return generate(60_000, seed=2024, setting="primary_care")


def test_same_arguments_give_identical_data():
    a = generate(3000, seed=7, setting="sports_clinic", exam_missing_rate=0.3)
    b = generate(3000, seed=7, setting="sports_clinic", exam_missing_rate=0.3)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(generate(3000, seed=8, setting="sports_clinic", exam_missing_rate=0.3))


@pytest.mark.parametrize("chunk_size", [1, 999, BLOCK_SIZE, BLOCK_SIZE + 1, 50_000])
def test_chunked_generation_equals_generation_at_once(chunk_size):
    n = 2 * BLOCK_SIZE + 123 if chunk_size > 1 else 300
    whole = generate(n, seed=11)
    pd.testing.assert_frame_equal(generate(n, seed=11, chunk_size=chunk_size), whole)
    pd.testing.assert_frame_equal(pd.concat(iter_chunks(n, seed=11, chunk_size=chunk_size)), whole)


def test_chunked_generation_draws_each_block_once(monkeypatch):
    # Chunks smaller than a block reuse the block drawn for the previous chunk instead of
    # drawing it again: chunking costs about what generating at once costs.
    drawn = []
    real_draw = cohort.draw_block

    def counting(model, seed, block, *args, **kwargs):
        drawn.append(block)
        return real_draw(model, seed, block, *args, **kwargs)

    monkeypatch.setattr(cohort, "draw_block", counting)
    n = 2 * BLOCK_SIZE + 500
    chunks = list(iter_chunks(n, seed=3, chunk_size=1000))
    assert sum(len(c) for c in chunks) == n
    assert drawn == [0, 1, 2]


def test_patient_i_is_the_same_whatever_n_and_however_the_rows_are_split():
    model = build_model("primary_care")
    small = generate(BLOCK_SIZE + 10, seed=5)
    large = generate(2 * BLOCK_SIZE + 10, seed=5)
    pd.testing.assert_frame_equal(large.iloc[: len(small)], small)
    part = generate_from_model(model, 500, seed=5, start=BLOCK_SIZE - 200)
    pd.testing.assert_frame_equal(part, large.iloc[BLOCK_SIZE - 200 : BLOCK_SIZE + 300])


def test_patient_ids_derive_from_seed_and_index():
    df = generate(12, seed=42)
    assert df["patient_id"].tolist()[:2] == ["42-00000000", "42-00000001"]
    assert df["patient_id"].is_unique


@pytest.mark.parametrize(
    ("seed", "start", "n"),
    [
        (42, 0, sampling._ID_ROWS + 10),  # across a step of the id builder
        (7, 10**8 - 3, 6),  # the index grows a ninth digit
        (123_456_789_012, 10**9 - 2, 4),  # a long seed; ten digits
    ],
)
def test_patient_ids_are_seed_dash_index_padded_to_eight_digits(seed, start, n):
    model = build_model("primary_care")
    ids = generate_from_model(model, n, seed=seed, start=start)["patient_id"]
    assert ids.dtype.name == "string"
    assert ids.tolist() == [f"{seed}-{i:08d}" for i in range(start, start + n)]


def test_columns_and_dtypes_follow_the_declaration():
    df = generate(200, seed=1)
    declared = patient_columns()
    assert list(df.columns) == [c.name for c in declared]
    for column in declared:
        assert df[column.name].dtype.name == column.dtype, column.name
        if column.categories is not None:
            assert list(df[column.name].cat.categories) == list(column.categories)
    assert set(TRUTH_COLUMNS).isdisjoint(feature_columns())


def test_values_stay_within_their_scales(big):
    assert big["pain_nrs"].between(0, 10).all()
    assert big["odi"].between(0, 100).all() and (big["odi"] % 2 == 0).all()
    assert big["age"].between(18, 95).all()
    assert big["latent_severity"].between(0, 1).all()
    assert (big["chronic"] == (big["symptom_duration_weeks"] > 12)).all()
    assert (big["symptom_duration_weeks"] >= 1).all()
    kb = load_knowledge()
    assert (big["pathway"].astype(str) == big["condition"].astype(str).map(kb.pathway_of())).all()


def test_case_mix_matches_the_setting(big):
    mix = load_knowledge().setting("primary_care").case_mix
    observed = big["condition"].value_counts(normalize=True)
    for condition, p in mix.items():
        assert abs(observed[condition] - p) < five_se(p, len(big)), condition


def test_missing_exam_findings_follow_the_setting_rates(big):
    missing = load_knowledge().setting("primary_care").missing
    for finding, rate in missing.items():
        share = big[finding].isna().mean()
        assert abs(share - rate) < five_se(rate, len(big)), finding
    # History items are always recorded.
    assert not big["agg_cough_sneeze"].isna().any()


def more_beyond_sampling_error(high: pd.Series, low: pd.Series) -> bool:
    """Whether mean(high) exceeds mean(low) by more than 5 standard errors of the difference
    (independent groups: SE^2 = var(high) / n_high + var(low) / n_low; missing values skipped)."""
    high, low = high.dropna(), low.dropna()
    se = np.sqrt(high.var(ddof=1) / len(high) + low.var(ddof=1) / len(low))
    return bool(high.mean() - low.mean() > 5 * se)


def test_more_severe_cases_have_more_neurological_deficits(big):
    disc = big[big["condition"] == "disc_herniation"]
    severe = disc["latent_severity"] > disc["latent_severity"].median()
    weakness = disc["exam_weakness"].astype("float64")
    assert more_beyond_sampling_error(weakness[severe], weakness[~severe])
    pain = disc["pain_nrs"].astype("float64")
    assert more_beyond_sampling_error(pain[severe], pain[~severe])


def test_combined_presentations_and_chronic_cases_exist_in_knowledge_proportions(big):
    kb = load_knowledge()
    disc = big[big["condition"] == "disc_herniation"]
    p_none = kb.condition("disc_herniation").secondary["none"]
    share_none = (disc["secondary_condition"] == "none").mean()
    assert abs(share_none - p_none) < five_se(p_none, len(disc))
    p_chronic = kb.condition("spinal_stenosis").chronic_fraction
    stenosis = big[big["condition"] == "spinal_stenosis"]
    assert abs(stenosis["chronic"].mean() - p_chronic) < five_se(p_chronic, len(stenosis))


def expected_share(model, condition: str, finding: str) -> float:
    """P(finding recorded) for a patient with ``condition``, integrated exactly over the
    model's secondary contributor, chronicity, pain sensitivity and Beta-distributed severity
    (adaptive quadrature)."""
    from scipy import integrate, stats

    c, j = model.conditions.index(condition), model.findings.index(finding)
    total = 0.0
    for s, p_secondary in enumerate(model.secondary[c]):
        for chronic, p_chronic in ((False, 1 - model.chronic_fraction[c]),
                                   (True, model.chronic_fraction[c])):  # fmt: skip
            if p_secondary * p_chronic == 0:
                continue

            for level, p_level in zip(SENSITIVITY_LEVELS, model.sensitivity_prior, strict=True):

                def integrand(x, s=s, chronic=chronic, level=level):
                    p = model.finding_probability(c, s, x, chronic, level)[j]
                    return p * stats.beta.pdf(x, model.beta_a[c], model.beta_b[c])

                weight = p_secondary * p_chronic * p_level
                total += weight * integrate.quad(integrand, 0, 1)[0]
    return total


def test_piriformis_pain_rarely_goes_past_the_knee_while_disc_pain_does(big):
    # The knowledge base says piriformis pain rarely passes the knee and disc pain usually
    # does (tests/test_model.py); the cohort shows each share within 5 binomial standard
    # errors of the model's exact expectation, and the gap between them beyond sampling error.
    model = build_model("primary_care")
    below = big["pain_below_knee"].astype("float64")
    by_condition = below.groupby(big["condition"].astype(str))
    for condition in ("piriformis_syndrome", "disc_herniation"):
        observed = by_condition.get_group(condition)
        expected = expected_share(model, condition, "pain_below_knee")
        assert abs(observed.mean() - expected) < five_se(expected, len(observed)), condition
    assert more_beyond_sampling_error(
        by_condition.get_group("disc_herniation"), by_condition.get_group("piriformis_syndrome")
    )


def test_overrides_change_the_scenario():
    df = generate(20_000, seed=3, exam_missing_rate=0.9, chronic_fraction=0.5)
    assert abs(df["exam_fair_test"].isna().mean() - 0.9) < five_se(0.9, 20_000)
    assert abs(df["chronic"].mean() - 0.5) < five_se(0.5, 20_000)
    mixed = generate(20_000, seed=3, case_mix={"piriformis_syndrome": 1.0})
    assert (mixed["condition"] == "piriformis_syndrome").all()
    alone = generate(5000, seed=3, combined_fraction=0.0)
    assert (alone["secondary_condition"] == "none").all()


def test_a_condition_with_zero_prevalence_is_never_drawn():
    df = generate(
        5000,
        seed=1,
        setting="sports_clinic",
        case_mix={"disc_herniation": 0.5, "piriformis_syndrome": 0.5},
    )
    assert set(df["condition"].astype(str)) == {"disc_herniation", "piriformis_syndrome"}
    # categories stay stable
    assert list(df["condition"].cat.categories) == list(load_knowledge().condition_names)


def test_pain_sensitivity_makes_provocation_findings_go_together(big):
    # Two provocations with no severity slope are independent given the condition unless a
    # shared factor moves them: among disc herniations without a secondary contributor, their
    # correlation is positive beyond sampling error (5 standard errors of a correlation ~ 0).
    disc = big[(big["condition"] == "disc_herniation") & (big["secondary_condition"] == "none")]
    a, b = (disc[f].astype("float64") for f in ("agg_stairs", "agg_crossing_legs"))
    assert a.corr(b) > 5 / np.sqrt(len(disc))
    high = disc["pain_sensitivity"] == "high"
    low = disc["pain_sensitivity"] == "low"
    assert a[high].mean() > a[low].mean() + five_se(a.mean(), int(low.sum()))


def test_recorded_signs_include_examiner_false_positives(big):
    # Hamstring tightness almost never causes foot drop (0.005), but examiners record it
    # present at their false-positive rate: the recorded share is far above the truth and
    # matches the model's recorded probability within 5 binomial standard errors.
    model = build_model("primary_care")
    ham = big.loc[big["condition"] == "hamstring_tightness", "exam_foot_drop"].dropna()
    truth = load_knowledge().condition("hamstring_tightness").findings["exam_foot_drop"]
    expected = expected_share(model, "hamstring_tightness", "exam_foot_drop")
    assert abs(ham.astype(float).mean() - expected) < five_se(expected, len(ham))
    assert ham.astype(float).mean() > truth + five_se(truth, len(ham)) + 0.02


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, "n must be an integer >= 1"),
        ({"n": 2.5}, "n must be an integer"),
        ({"n": True}, "n must be an integer"),
        ({"seed": -1}, "seed must be an integer >= 0"),
        ({"setting": "sport"}, "setting 'sport' is unknown; choose one of: primary_care"),
        ({"exam_missing_rate": 1.5}, "override 'exam_missing_rate' must be a probability"),
        ({"chronic_fraction": "high"}, "override 'chronic_fraction' must be a probability"),
        ({"dropout": 0.1}, "override 'dropout' is unknown"),
        ({"case_mix": {"disc_herniation": 0.5}}, "override 'case_mix' must sum to 1"),
        ({"case_mix": {"flu": 1.0}}, "override 'case_mix' names unknown condition 'flu'"),
        ({"chunk_size": 0}, "chunk_size must be an integer >= 1"),
    ],
)
def test_bad_arguments_raise_a_clear_value_error(kwargs, message):
    arguments = {"n": 10, "seed": 1, **kwargs}
    with pytest.raises(ValueError, match=message):
        generate(**arguments)


def test_written_parquet_round_trips_and_records_provenance(tmp_path):
    path = write_cohort(
        tmp_path / "c.parquet", 2000, seed=9, setting="spine_clinic", chronic_fraction=0.4
    )
    pd.testing.assert_frame_equal(
        read_table(path), generate(2000, seed=9, setting="spine_clinic", chronic_fraction=0.4)
    )
    meta = read_metadata(path)
    assert (meta["n"], meta["seed"], meta["setting"]) == (2000, 9, "spine_clinic")
    assert meta["overrides"] == {"chronic_fraction": 0.4}


def test_generated_tables_record_their_setting_and_overrides_where_pandas_keeps_them(tmp_path):
    recipe = {"setting": "spine_clinic", "chronic_fraction": 0.6}
    made = {"setting": "spine_clinic", "overrides": {"chronic_fraction": 0.6}}
    df = generate(3000, seed=5, **recipe)
    model = build_model(**recipe)
    kept = {
        "rows": df.iloc[10:20],
        "mask": df[df["condition"] == "piriformis_syndrome"],
        "columns": df[["age", "sex"]],
        "copy": df.copy(),
        "parts of one cohort": pd.concat([df.iloc[:5], df.iloc[5:]]),
        "chunked": generate(3000, seed=5, chunk_size=700, **recipe),
        "chunks": pd.concat(iter_chunks(3000, seed=5, chunk_size=1000, **recipe)),
        "from a model": generate_from_model(model, 10, seed=5, start=100),
        "parquet": read_table(write_table(df, tmp_path / "c.parquet")),
    }
    for name, table in kept.items():
        assert generated_with(table) == made, name
    lost = {
        "csv": read_table(write_table(df, tmp_path / "c.csv")),
        "cohorts made differently": pd.concat([df, generate(10, seed=5)]),
    }
    for name, table in lost.items():
        assert generated_with(table) is None, name
    # The default setting is recorded by name, and an override of None is no override.
    assert generated_with(generate(10, seed=1, exam_missing_rate=None)) == {
        "setting": load_knowledge().default_setting,
        "overrides": {},
    }
    # What is returned is a copy: changing it changes nothing recorded.
    generated_with(df)["overrides"]["chronic_fraction"] = 0.1
    assert generated_with(df) == made


def test_cohort_files_do_not_carry_what_the_table_recorded(tmp_path):
    # write_cohort's bytes stay what they were: pandas' Parquet metadata holds no attrs (the
    # file's own metadata has the parameters), and only a table's attrs differ after reading.
    path = write_cohort(tmp_path / "c.parquet", 500, seed=3, exam_missing_rate=0.2)
    assert json.loads(pq.read_schema(path).metadata[b"pandas"])["attributes"] == {}
    assert generated_with(read_table(path)) is None
    assert read_table(path).equals(generate(500, seed=3, exam_missing_rate=0.2))


def test_a_malformed_record_is_named():
    df = generate(10, seed=1)
    df.attrs[GENERATED_WITH_KEY] = {"setting": "primary_care"}
    with pytest.raises(ValueError, match=r"attrs\['outcomes.generated_with'\] must be a mapping"):
        generated_with(df)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_file_bytes_do_not_depend_on_chunk_size(tmp_path, fmt):
    n = BLOCK_SIZE + 777
    a = write_cohort(tmp_path / f"a.{fmt}", n, seed=4, chunk_size=1000)
    b = write_cohort(tmp_path / f"b.{fmt}", n, seed=4, chunk_size=n)
    assert a.read_bytes() == b.read_bytes()


def test_parquet_bytes_do_not_depend_on_chunk_size_across_row_groups(tmp_path):
    # More rows than one Parquet row group, so chunks straddle a row-group boundary.
    n = ROW_GROUP_ROWS + 1000
    a = write_cohort(tmp_path / "a.parquet", n, seed=4, chunk_size=30_000)
    b = write_cohort(tmp_path / "b.parquet", n, seed=4, chunk_size=n)
    assert pq.ParquetFile(a).metadata.num_row_groups == 2
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_file_bytes_do_not_depend_on_the_number_of_worker_processes(tmp_path, fmt):
    n = 2 * BLOCK_SIZE + 321
    one = write_cohort(tmp_path / f"one.{fmt}", n, seed=8, setting="spine_clinic", chunk_size=9000)
    two = write_cohort(
        tmp_path / f"two.{fmt}", n, seed=8, setting="spine_clinic", chunk_size=5000, workers=2
    )
    assert one.read_bytes() == two.read_bytes()


def test_an_interrupted_write_keeps_the_previous_file(tmp_path, monkeypatch):
    path = write_cohort(tmp_path / "c.csv", 100, seed=1)
    before = path.read_bytes()
    real_frame = cohort._frame

    def interrupted(model, seed, start, stop, bar=None, **kwargs):
        if start > 0:
            raise KeyboardInterrupt  # Ctrl-C half way through
        return real_frame(model, seed, start, stop, bar, **kwargs)

    monkeypatch.setattr(cohort, "_frame", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_cohort(path, 5000, seed=2, chunk_size=1000)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.csv"]


def test_a_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path, monkeypatch):
    path = write_cohort(tmp_path / "c.parquet", 100, seed=1)
    before = path.read_bytes()

    def explode(*args, **kwargs):
        yield generate(50, seed=1)
        raise RuntimeError("disk full")

    monkeypatch.setattr(cohort, "_chunks", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        write_cohort(path, 100, seed=2)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.parquet"]


def test_written_files_get_the_usual_permissions(tmp_path):
    import os
    import stat

    path = write_cohort(tmp_path / "c.csv", 10, seed=1)
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


def test_progress_bar_is_opt_in_for_small_cohorts_and_never_changes_the_data(capsys):
    quiet = generate(2000, seed=4)
    assert capsys.readouterr().err == ""  # small cohorts, and non-terminals, stay silent
    shown = generate(2000, seed=4, progress=True)
    assert "generating" in capsys.readouterr().err
    pd.testing.assert_frame_equal(quiet, shown)
    chunked = generate(2000, seed=4, chunk_size=700, progress=True)
    assert "generating" in capsys.readouterr().err
    pd.testing.assert_frame_equal(quiet, chunked)


def test_generation_workers_leave_ctrl_c_to_the_parent(tmp_path):
    # Ctrl-C reaches every process of the group; only the parent may report it (one line).
    import subprocess
    import sys

    probe = (
        "import signal\n"
        "from outcomes.engine.cohort import _init_worker\n"
        "from outcomes.knowledge import KNOWLEDGE_DIR\n"
        "_init_worker((str(KNOWLEDGE_DIR), 'primary_care', {}))\n"
        "print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN)\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "True"


def test_different_random_stream_blocks_give_different_patients():
    """Each block of BLOCK_SIZE patients has its own random stream: patients of the second
    block never repeat those of the first (a constant spawn key would repeat them exactly,
    and every self-consistency test would still pass)."""

    df = generate(2 * BLOCK_SIZE, seed=11)
    first, second = df.iloc[:BLOCK_SIZE], df.iloc[BLOCK_SIZE:]
    severity = first["latent_severity"].to_numpy(), second["latent_severity"].to_numpy()
    assert (severity[0] != severity[1]).all()
    columns = [c for c in feature_columns() if c != "patient_id"]
    rows = lambda part: set(part[columns].astype(str).itertuples(index=False))  # noqa: E731
    # Identical rows across blocks happen only by chance (many findings per patient).
    assert len(rows(first) & rows(second)) < 0.01 * BLOCK_SIZE


def test_acute_durations_span_every_week_from_1_to_the_threshold():
    """Acute symptom durations are uniform on 1..threshold weeks (12): every week occurs, in
    about equal shares; chronic ones start the week after."""
    threshold = int(load_knowledge().shared["chronic_threshold_weeks"])
    acute = generate(24_000, seed=5, chronic_fraction=0.0)["symptom_duration_weeks"]
    counts = acute.value_counts().sort_index()
    assert list(counts.index) == list(range(1, threshold + 1))
    # Each week's share is 1/12 of 24,000 (2,000); binomial SE about 43: within 5 SE.
    expected = len(acute) / threshold
    se = np.sqrt(len(acute) * (1 / threshold) * (1 - 1 / threshold))
    assert (np.abs(counts - expected) < 5 * se).all(), counts.to_dict()
    chronic = generate(2_000, seed=5, chronic_fraction=1.0)
    assert chronic["symptom_duration_weeks"].min() == threshold + 1
    assert (
        chronic["chronic"].all()
        and not generate(500, seed=5, chronic_fraction=0.0)["chronic"].any()
    )
