"""Proof that strict nbval is alive: it fails on a wrong stored output and passes a right one.

Both canaries run in a subprocess with the options and sanitize file ``make test`` uses, so a
sanitize pattern broad enough to hide a wrong number, or an option that stops nbval comparing
outputs, makes these tests fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from outcomes.faces.report import KERNEL_ENV

TESTS = Path(__file__).resolve().parent
CANARIES = TESTS / "nbval_canary"
SANITIZE_FILE = TESTS.parent / "notebooks" / "sanitize.cfg"
#: The nbval options of `make test` (tests/test_nbval_config.py checks the Makefile uses them).
#: (`--option=value`: a bare absolute path would make pytest take its folder as the rootdir.)
NBVAL_OPTIONS = ["--nbval", "--nbval-current-env", f"--nbval-sanitize-with={SANITIZE_FILE}"]


def run_strict_nbval(notebook: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run strict nbval on a copy of a canary in an isolated folder (no project config)."""
    shutil.copy(CANARIES / notebook, tmp_path / notebook)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"} | dict(KERNEL_ENV)
    return subprocess.run(
        [sys.executable, "-m", "pytest", *NBVAL_OPTIONS, "-p", "no:cacheprovider", notebook],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_strict_nbval_fails_on_a_wrong_stored_output(tmp_path):
    result = run_strict_nbval("broken_canary.ipynb", tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output  # 1: tests ran and failed (not a usage error)
    assert "rootdir: " + str(tmp_path) in output, output
    assert "1 failed" in output, output
    assert "'41\\n' == '42\\n'" in output, "the failure shows stored and produced output"


def test_strict_nbval_passes_the_correct_twin_with_a_sanitized_address(tmp_path):
    result = run_strict_nbval("correct_canary.ipynb", tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "rootdir: " + str(tmp_path) in output, output
    assert "2 passed" in output, output
    assert "skipped" not in output, output


def test_canaries_are_not_collected_by_the_project_run():
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", "--collect-only", "-q", str(CANARIES)],
        cwd=TESTS.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    assert "canary" not in result.stdout.replace(str(CANARIES), ""), output
    assert result.returncode == 5, output  # 5: nothing collected
