"""The package type-checks clean with mypy (it ships ``py.typed``, so users' checkers read it).

The settings live in ``pyproject.toml`` (``[tool.mypy]``); ``make typecheck`` runs the same
check. A ``# type: ignore`` in the package must name its code and say why (mypy reports any
that has become unused).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed")
def test_package_type_checks_clean():
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "src/outcomes"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"mypy found problems:\n{done.stdout}{done.stderr}"


def test_package_says_it_is_typed():
    assert (ROOT / "src" / "outcomes" / "py.typed").is_file()
