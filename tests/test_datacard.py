"""The default cohort regenerates from its recorded command, and its card is current."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from outcomes import cli
from outcomes.datacard import DEFAULT_COHORT, DEFAULT_COMMAND, command_arguments, render_datacard
from outcomes.io import read_metadata

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
