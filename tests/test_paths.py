"""Tests for outcomes.infra.paths: one place that resolves the project's folders."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from outcomes.infra import paths

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_project_root_is_the_folder_with_the_outcomes_pyproject(monkeypatch):
    monkeypatch.delenv(paths.ROOT_ENV_VAR, raising=False)
    root = paths.project_root()
    assert root == REPO_ROOT
    with (root / "pyproject.toml").open("rb") as fh:
        assert tomllib.load(fh)["project"]["name"] == "outcomes"


def test_project_root_does_not_depend_on_the_working_directory(monkeypatch, tmp_path):
    monkeypatch.delenv(paths.ROOT_ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    assert paths.project_root() == REPO_ROOT


def test_folders_and_default_cohort_resolve_under_the_root(monkeypatch):
    monkeypatch.delenv(paths.ROOT_ENV_VAR, raising=False)
    assert paths.data_dir() == REPO_ROOT / "data"
    assert paths.notebooks_dir() == REPO_ROOT / "notebooks"
    assert paths.reports_dir() == REPO_ROOT / "reports"
    cohort = paths.default_cohort_path()
    assert cohort == REPO_ROOT / "data" / "synthetic" / "default_cohort.parquet"
    assert cohort.is_file(), "the default cohort is committed"


def test_environment_variable_overrides_the_search(monkeypatch, tmp_path):
    monkeypatch.setenv(paths.ROOT_ENV_VAR, str(tmp_path))
    assert paths.project_root() == tmp_path.resolve()
    assert paths.data_dir() == tmp_path.resolve() / "data"
    assert paths.notebooks_dir() == tmp_path.resolve() / "notebooks"
    assert paths.reports_dir() == tmp_path.resolve() / "reports"
    expected_cohort = tmp_path.resolve() / "data/synthetic/default_cohort.parquet"
    assert paths.default_cohort_path() == expected_cohort


def test_override_naming_no_folder_is_an_error_that_names_the_variable(monkeypatch, tmp_path):
    missing = tmp_path / "nowhere"
    monkeypatch.setenv(paths.ROOT_ENV_VAR, str(missing))
    with pytest.raises(FileNotFoundError, match="OUTCOMES_ROOT"):
        paths.project_root()


def test_empty_override_falls_back_to_the_search(monkeypatch):
    monkeypatch.setenv(paths.ROOT_ENV_VAR, "")
    assert paths.project_root() == REPO_ROOT


def test_a_pyproject_of_another_project_is_not_mistaken_for_the_root(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "something-else"\n')
    assert not paths._is_project_root(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "outcomes"\n')
    assert paths._is_project_root(tmp_path)
