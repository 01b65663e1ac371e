"""The core needs none of the Jupyter stack: ``import outcomes`` and the commands that do not
run notebooks work without the ``report`` and ``lab`` extras, and ``outcomes report`` says
which extra to install instead of failing with a traceback."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import outcomes

ROOT = Path(__file__).resolve().parents[1]
with (ROOT / "pyproject.toml").open("rb") as fh:
    PROJECT = tomllib.load(fh)["project"]
#: Import names of the extras' packages (and what they pull in).
EXTRAS = ("papermill", "nbconvert", "jupyterlab", "jupytext", "ipykernel", "jupyter_server",
          "jupyter_client", "nbclient")  # fmt: skip
#: Modules that exist to run or convert notebooks: they may need the extras.
NOTEBOOK_MODULES = ("outcomes.faces.report", "outcomes.faces.report.execute",
                    "outcomes.faces.report.folder", "outcomes.faces.report.parameters",
                    "outcomes.faces.report.render", "outcomes._dev.execute",
                    "outcomes._dev.notebook_scripts")  # fmt: skip

WITHOUT_EXTRAS = textwrap.dedent(
    f"""
    import importlib.abc, sys

    class Blocked(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {EXTRAS!r}:
                raise ModuleNotFoundError(f"No module named {{name!r}} (extra not installed)")

    sys.meta_path.insert(0, Blocked())
    import importlib.util
    real_find_spec = importlib.util.find_spec
    importlib.util.find_spec = lambda name, *a: (
        None if name.split(".")[0] in {EXTRAS!r} else real_find_spec(name, *a))
    import outcomes.faces.cli
    sys.exit(outcomes.faces.cli.main(sys.argv[1:]))
    """
)


def outcomes_without_extras(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WITHOUT_EXTRAS, *argv], cwd=cwd,
                          capture_output=True, text=True)  # fmt: skip


def test_the_extras_are_not_core_dependencies():
    core = {d.split(">")[0].split("=")[0].strip().lower() for d in PROJECT["dependencies"]}
    assert not core & {"papermill", "nbconvert", "jupyterlab", "jupytext", "ipykernel"}
    extras = PROJECT["optional-dependencies"]
    for extra in ("report", "lab"):
        assert set(extras[extra]) <= set(extras["dev"]), f"[dev] must hold all of [{extra}]"


def test_generate_and_triage_work_without_the_extras(tmp_path):
    made = outcomes_without_extras("generate", "--n", "200", "--seed", "1", "--out",
                                   "c.parquet", cwd=tmp_path)  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "c.parquet").is_file()
    triaged = outcomes_without_extras("triage", "--model", "rules", "--test", "c.parquet",
                                      "--n-boot", "5", cwd=tmp_path)  # fmt: skip
    assert triaged.returncode == 0, triaged.stderr


def test_report_without_its_extra_says_what_to_install(tmp_path):
    result = outcomes_without_extras("report", "--out", "r", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("outcomes report: error: the report needs papermill")
    assert "pip install 'outcomes[report]'" in result.stderr


def test_every_module_but_the_notebook_ones_imports_without_the_extras():
    names = sorted(m.name for m in pkgutil.walk_packages(outcomes.__path__, "outcomes."))
    core = [n for n in names if n not in NOTEBOOK_MODULES]
    code = WITHOUT_EXTRAS.split("import outcomes.faces.cli")[0] + "".join(
        f"import {name}\n" for name in core
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert importlib.import_module("outcomes").__version__ == PROJECT["version"]
