"""Checks that keep the strict nbval run honest.

- The sanitize file parses to exactly the patterns written in it (nbval drops a malformed entry
  silently), each pattern masks what it is for and nothing that a notebook legitimately prints.
- ``make test`` runs nbval strictly, on the project's kernel, with this sanitize file.
- The committed notebooks were executed top to bottom in a fresh kernel (a cell that never ran
  is skipped by nbval and proves nothing), papermill can run them, and they use no magics
  (an unknown magic passes nbval unnoticed).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbval.plugin import get_sanitize_patterns

from outcomes.report import KERNEL_ENV, discover_notebooks

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


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_test_runs_strict_nbval_with_this_sanitize_file():
    dry_run = subprocess.run(
        ["make", "--dry-run", "--always-make", "test"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    nbval_lines = [line for line in dry_run.splitlines() if "--nbval" in line]
    assert len(nbval_lines) == 1, dry_run
    line = nbval_lines[0]
    assert "--nbval-current-env" in line
    assert "--nbval-sanitize-with=notebooks/sanitize.cfg" in line
    assert "--nbval-lax" not in line
    for name, value in KERNEL_ENV.items():
        assert f"{name}={value}" in line, "kernels get outcomes.report.KERNEL_ENV"
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
