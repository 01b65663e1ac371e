"""Checks that keep the strict nbval run honest.

- The sanitize file parses to exactly the patterns written in it (nbval drops a malformed entry
  silently), each pattern masks what it is for and nothing that a notebook legitimately prints.
- ``make test`` runs nbval strictly, on the project's kernel, with this sanitize file; ``make
  run`` gives the report's kernels the same environment but lets the report itself show its
  progress bar.
- The committed notebooks were executed top to bottom in a fresh kernel (a cell that never ran
  is skipped by nbval and proves nothing), papermill can run them, and they use no magics
  (an unknown magic passes nbval unnoticed).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbval.plugin import get_sanitize_patterns

from outcomes.faces.report import KERNEL_ENV, discover_notebooks
from outcomes.infra.progress import progress_disabled_by_environment

ROOT = Path(__file__).resolve().parents[1]
SANITIZE_FILE = ROOT / "notebooks" / "sanitize.cfg"
EXPECTED_PATTERN_COUNT = 3

MASKED = [
    ("<matplotlib.lines.Line2D at 0x7f3a2b1c9d90>", "<matplotlib.lines.Line2D at 0xADDRESS>"),
    ("<object object at 0x7F0123456789>", "<object object at 0xADDRESS>"),
    ("wrote /tmp/pytest-of-root/pytest-3/run0/x.parquet", "wrote TEMPPATH"),
    ("in '/var/folders/ab/cd/T/tmpx1/y.csv'", "in 'TEMPPATH'"),
    ("Wall time: 1.23 s", "Wall time: TIMING"),
    ("CPU times: user 1 s, sys: 2 ms, total: 1 s\nnext", "CPU times: TIMING\nnext"),
]
UNCHANGED = [
    "5,000 patients generated in setting 'primary_care' with seed 20261122",
    "Best achievable accuracy: 96.3% (95% CI 95.3–97.2%) (1,445 of 1,500 patients)",
    "data/synthetic/default_cohort.parquet",
    "median 6.0 weeks to recovery (IQR 3.0–11.0)",
    "<Figure size 640x480 with 1 Axes>",  # compared by nbval: "0x480" is not an address
]


def sanitize(text: str, patterns: list[tuple[str, str]]) -> str:
    """Apply patterns the way nbval does (in file order, ``re.sub`` each)."""
    for regex, replace in patterns:
        text = re.sub(regex, replace, text)
    return text


@pytest.fixture(scope="module")
def patterns() -> list[tuple[str, str]]:
    return get_sanitize_patterns(SANITIZE_FILE.read_text(encoding="utf-8"))


def test_every_sanitize_entry_parses(patterns):
    written = [
        line
        for line in SANITIZE_FILE.read_text(encoding="utf-8").splitlines()
        if line.startswith("regex:")
    ]
    assert len(patterns) == EXPECTED_PATTERN_COUNT
    assert len(patterns) == len(written), "a regex: line without its replace: line was dropped"
    assert len({regex for regex, _ in patterns}) == len(patterns), "nbval keys patterns by regex"
    for regex, replace in patterns:
        re.compile(regex)
        assert regex == regex.strip() and replace == replace.strip(), "stray whitespace"


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_sanitize_masks_run_specific_text(patterns, text, expected):
    assert sanitize(text, patterns) == expected


@pytest.mark.parametrize("text", UNCHANGED)
def test_sanitize_leaves_results_alone(patterns, text):
    assert sanitize(text, patterns) == text


needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make_dry_run(target: str) -> str:
    """What ``make TARGET`` would run (``--always-make``: whatever is already up to date)."""
    return subprocess.run(
        ["make", "--dry-run", "--always-make", target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def env_assignments(line: str) -> dict[str, str]:
    """The ``NAME=VALUE`` words that follow ``env`` on a shell command line."""
    words = shlex.split(line)
    assigned = {}
    for word in words[words.index("env") + 1 :]:
        name, sep, value = word.partition("=")
        if not sep or not name.isidentifier():
            break
        assigned[name] = value
    return assigned


@needs_make
def test_make_test_runs_strict_nbval_with_this_sanitize_file():
    dry_run = make_dry_run("test")
    nbval_lines = [line for line in dry_run.splitlines() if "--nbval" in line]
    assert len(nbval_lines) == 1, dry_run
    line = nbval_lines[0]
    assert "--nbval-current-env" in line
    assert "--nbval-sanitize-with=notebooks/sanitize.cfg" in line
    assert "--nbval-lax" not in line
    for name, value in KERNEL_ENV.items():
        assert f"{name}={value}" in line, "kernels get outcomes.faces.report.KERNEL_ENV"
    assert "MPLBACKEND" not in dry_run, "with MPLBACKEND=agg inline figures vanish"


NOTEBOOKS = discover_notebooks(ROOT / "notebooks")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_executed_top_to_bottom(path):
    nb = nbformat.read(path, as_version=4)
    counts = [
        cell.execution_count
        for cell in nb.cells
        if cell.cell_type == "code" and cell.source.strip()
    ]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: execution counts {counts}; re-run it with `make notebooks`"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_under_papermill_and_uses_no_magics(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.get("kernelspec", {}).get("name"), "papermill refuses a notebook without one"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: needs exactly one cell tagged 'parameters'"
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for line in cell.source.splitlines():
            assert not line.lstrip().startswith(("%", "!")), f"{path.name}: magic {line!r}"


@needs_make
def test_make_run_shows_the_report_progress_and_keeps_kernels_quiet(monkeypatch):
    lines = [line for line in make_dry_run("run").splitlines() if "outcomes report" in line]
    assert len(lines) == 1, "make run calls `outcomes report` once"
    assigned = env_assignments(lines[0])
    # The report process gets the kernels' environment except TQDM_DISABLE, so on a terminal
    # it draws its bar over the notebooks ...
    assert assigned == {k: v for k, v in KERNEL_ENV.items() if k != "TQDM_DISABLE"}
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    for name, value in assigned.items():
        monkeypatch.setenv(name, value)
    assert not progress_disabled_by_environment()
    # ... while every kernel it starts (outcomes.faces.report.kernel_environment) draws none.
    assert KERNEL_ENV["TQDM_DISABLE"] == "1"
    monkeypatch.setenv("TQDM_DISABLE", KERNEL_ENV["TQDM_DISABLE"])
    assert progress_disabled_by_environment()


@needs_make
def test_ci_runs_the_unit_tests_nbval_and_then_the_slow_tests():
    ci_script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line.strip() for line in ci_script.splitlines() if line.startswith("make")]
    # make ci, then the lowest-versions check of the declared dependency bounds.
    assert commands == ["make ci", "make test-lowest"]
    pytest_lines = [line for line in make_dry_run("ci").splitlines() if "-m pytest" in line]
    assert len(pytest_lines) == 3, pytest_lines
    unit, nbval, slow = pytest_lines
    assert '-m "not slow"' in unit and "--nbval" in nbval
    assert "tests -m slow" in slow
    for line in pytest_lines:  # each with the kernels' environment
        assert all(f"{name}={value}" in line for name, value in KERNEL_ENV.items())
