"""The default cohort regenerates from its recorded command, and its card is current."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from outcomes.engine.datacard import (
    DEFAULT_COHORT,
    DEFAULT_COMMAND,
    command_arguments,
    render_datacard,
)
from outcomes.faces import cli
from outcomes.infra.io import read_metadata

ROOT = Path(__file__).resolve().parents[1]
COHORT = ROOT / DEFAULT_COHORT
CARD = COHORT.parent / "DATACARD.md"


def test_the_recorded_command_regenerates_the_committed_cohort(tmp_path):
    args = command_arguments(DEFAULT_COMMAND)
    out_index = args.index("--out") + 1
    args[out_index] = str(tmp_path / "again.parquet")
    assert cli.main(args) == 0
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "again.parquet"), pd.read_parquet(COHORT)
    )
    assert read_metadata(tmp_path / "again.parquet") == read_metadata(COHORT)


def test_the_data_card_states_the_command_and_is_up_to_date():
    text = CARD.read_text(encoding="utf-8")
    assert DEFAULT_COMMAND in text
    assert text == render_datacard(COHORT), "regenerate it with `make data`"


def test_the_default_cohort_is_small_enough_to_commit():
    assert COHORT.stat().st_size < 1_000_000


def test_a_card_states_the_files_own_provenance_not_the_defaults(tmp_path):
    from outcomes.engine.cohort import write_cohort

    path = write_cohort(
        tmp_path / "x.parquet", 300, seed=5, setting="sports_clinic", exam_missing_rate=0.5
    )
    out = tmp_path / "card.md"
    assert cli.main(["datacard", "--cohort", str(path), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert DEFAULT_COMMAND not in text
    assert (
        "outcomes generate --n 300 --seed 5 --setting sports_clinic --overrides "
        "'{\"exam_missing_rate\": 0.5}' --out x.parquet"
    ) in text
    assert "patients: 300; seed: 5; setting: `sports_clinic`" in text
    assert "20261122" not in text and "5000" not in text


def test_a_parquet_not_made_by_the_suite_is_refused_and_nothing_written(tmp_path, capsys):
    path = tmp_path / "theirs.parquet"
    pd.DataFrame({"condition": ["disc_herniation"]}).to_parquet(path)
    out = tmp_path / "card.md"
    assert cli.main(["datacard", "--cohort", str(path), "--out", str(out)]) == 2
    assert "records no provenance" in capsys.readouterr().err
    assert not out.exists()


def test_the_cards_html_keeps_angle_brackets():
    from nbconvert.filters.markdown import markdown2html

    page = markdown2html(render_datacard(COHORT))
    assert "&lt;seed&gt;-&lt;index&gt;" in page
    assert "&lt;NA&gt; = not recorded" in page


def test_the_reports_card_is_headed_by_its_notebook_not_a_temporary_file(tmp_path):
    from outcomes.faces.report import write_report_datacard

    entry = {
        "name": "01_cohort",
        "effective_parameters": {"N": "200", "SEED": "5", "SETTING": "'sports_clinic'"},
    }
    write_report_datacard(tmp_path, [entry])
    page = (tmp_path / "datacard.html").read_text(encoding="utf-8")
    assert ".datacard-cohort" not in page
    assert "the cohort of 01_cohort" in page
    assert "--n 200 --seed 5 --setting sports_clinic --out cohort.parquet" in page
    assert "&lt;seed&gt;-&lt;index&gt;" in page
