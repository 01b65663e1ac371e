"""`outcomes validate`: a table on stdout, the tidy table in --out, and an honest exit code."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from outcomes.analysis import validation
from outcomes.analysis.validation import COLUMNS, validate, validation_passed
from outcomes.faces import cli
from outcomes.knowledge import KNOWLEDGE_DIR


def test_a_run_prints_every_figure_writes_the_same_table_and_exits_by_what_it_found(
    tmp_path, capsys
):
    out = tmp_path / "v" / "validation.csv"
    code = cli.main(["validate", "--n", "400", "--seed", "2", "--trials", "3", "--out", str(out)])
    printed = capsys.readouterr().out
    expected = validate(n=400, seed=2, n_trials=3)
    assert code == (0 if validation_passed(expected) else 1)
    written = pd.read_csv(out, keep_default_na=False, na_values=[""])
    assert list(written.columns) == list(COLUMNS)
    assert written["target"].tolist() == expected["target"].tolist()
    np.testing.assert_allclose(written["observed"], expected["observed"])
    for target in expected["target"]:
        assert target in printed
    assert "figures checked:" in printed and f"wrote {out}" in printed


def _table(met: list, gap: list) -> pd.DataFrame:
    n = len(met)
    return pd.DataFrame({
        "group": "surgery", "target": [f"t{i}" for i in range(n)], "label": "Operated",
        "setting": "primary_care", "basis": "published", "rule": "overlap",
        "published": 0.5, "input": np.nan, "low": 0.4, "high": 0.6, "observed": 0.9,
        "ci_low": 0.8, "ci_high": 1.0, "n": 100, "met": pd.array(met, dtype="boolean"),
        "derived": True, "gap_flagged": gap, "known_gap": ["a reason" if g else "" for g in gap],
    })  # fmt: skip


@pytest.mark.parametrize(
    ("met", "gap", "code"),
    [
        ([True, True], [False, False], 0),
        ([True, False], [False, True], 0),  # the only miss is a documented known gap
        ([True, False], [False, False], 1),
        ([True, None], [False, False], 1),  # a figure that could not be checked is no pass
    ],
)
def test_exit_code_is_0_only_when_every_figure_but_documented_gaps_is_met(
    monkeypatch, capsys, met, gap, code
):
    monkeypatch.setattr(validation, "validate", lambda **_: _table(met, gap))
    assert cli.main(["validate", "--trials", "2"]) == code
    printed = capsys.readouterr().out
    assert ("Known gap: a reason" in printed) == (gap[1] and not met[1])


@pytest.mark.parametrize(
    "argv",
    [
        ["--n", "0"],
        ["--trials", "0"],
        ["--seed", "-1"],
        ["--n", "many"],
        ["--out", str(KNOWLEDGE_DIR / "targets.toml")],
        ["--out", str(KNOWLEDGE_DIR / "validation.csv")],
        ["--out", "validation.toml"],
    ],
)
def test_bad_arguments_are_one_line_exit_2_before_any_work(monkeypatch, capsys, argv):
    def fail(**_):
        raise AssertionError("validate ran although the arguments were bad")

    monkeypatch.setattr(validation, "validate", fail)
    before = {p.name: p.read_bytes() for p in KNOWLEDGE_DIR.iterdir() if p.is_file()}
    assert cli.main(["validate", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("outcomes validate: error: ") and err.count("\n") == 1
    assert {p.name: p.read_bytes() for p in KNOWLEDGE_DIR.iterdir() if p.is_file()} == before
