"""The architecture of DESIGN.md, checked: layers, no cycles, no private names across modules.

The contracts live in ``pyproject.toml`` (``[tool.importlinter]``) and are checked with
import-linter, which reads every import in the package, those inside functions included.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import outcomes

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(outcomes.__file__).resolve().parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
#: The packages of the layers, bottom to top (the order of the contract, reversed).
LAYERS = ("infra", "knowledge", "tables", "engine", "triage", "analysis", "captions", "faces")
#: Lines above which a module must say in its docstring why it is one piece ("about 600
#: lines", issue 14: a few lines over is not a second job).
MAX_LINES = 650


def lint_imports(package_parent: Path, config: Path) -> subprocess.CompletedProcess[str]:
    """Run import-linter on the ``outcomes`` package found in ``package_parent``."""
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run(
        [str(LINT_IMPORTS), str(config), "--no-cache"],
        cwd=config.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_the_import_contracts_hold():
    result = lint_imports(PACKAGE.parent, ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout and "KEPT" in result.stdout


def test_an_upward_import_breaks_the_layer_contract(tmp_path):
    # A copy of the package whose lowest layer imports the command line: the contract must
    # fail and name the import, as it does for anyone who writes one.
    copy = tmp_path / "src" / "outcomes"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    io = copy / "infra" / "io.py"
    io.write_text(io.read_text() + "\nfrom outcomes.faces import cli  # noqa: E402\n")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    result = lint_imports(tmp_path / "src", tmp_path / "pyproject.toml")
    assert result.returncode != 0
    assert "outcomes.infra.io -> outcomes.faces.cli" in result.stdout


def test_the_layers_are_the_packages_of_the_library():
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert packages == {*LAYERS, "_dev"}, "a new package must take its place in the contract"
    top_level = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert not top_level, f"modules outside the layers: {top_level}"


def _private_imports(path: Path) -> list[str]:
    """``from outcomes.x import _y`` and ``module._y`` on an imported outcomes module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found, aliases = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("outcomes"):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{path.name}:{node.lineno} imports {node.module}.{alias.name}")
                aliases.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("outcomes"):
                    aliases.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"{path.name}:{node.lineno} uses {node.value.id}.{node.attr}")
    return found


def test_no_private_name_is_used_across_modules():
    found = [hit for path in modules() for hit in _private_imports(path)]
    assert not found, "\n".join(found)


def test_the_private_name_check_finds_one(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from outcomes.knowledge import _Reader\nfrom outcomes.engine import cohort\n"
                   "cohort._draw\n")  # fmt: skip
    assert _private_imports(bad) == [
        "bad.py:1 imports outcomes.knowledge._Reader",
        "bad.py:3 uses cohort._draw",
    ]


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_module_does_one_job_in_a_readable_length(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    assert lines <= MAX_LINES or "One piece:" in doc, (
        f"{path.relative_to(PACKAGE)} has {lines} lines: split it by job, or say in its "
        "docstring why it is one coherent piece ('One piece: ...')"
    )
