"""`make docs` builds: the documentation site has no warning, numpydoc's validation included.

Sphinx builds the whole site (API reference from the docstrings, notebooks from their committed
outputs, CLI reference, data dictionary, README guide) into a temporary folder with warnings as
errors, as `make docs` does. About a minute of CPU; the notebooks are never executed.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("sphinx") is None, reason="the [docs] extra is not installed"
)


def load_conf():
    spec = importlib.util.spec_from_file_location("docs_conf", DOCS / "conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_site_builds_without_a_warning(tmp_path):
    html = tmp_path / "html"
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-E", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(html)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-5000:]
    pages = {p.relative_to(html).as_posix() for p in html.rglob("*.html")}
    # Every layer's API page, every notebook, the CLI and the data dictionary are there.
    for layer in ("infra", "knowledge", "tables", "engine", "triage", "analysis", "captions",
                  "faces"):  # fmt: skip
        assert f"api/generated/outcomes.{layer}.html" in pages
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks and all(f"notebooks/{name}.html" in pages for name in notebooks)
    assert {"cli.html", "data_dictionary.html", "guide.html", "index.html"} <= pages
    # A notebook page shows its stored outputs (figures), and the CLI page every command.
    assert "<img" in (html / "notebooks" / f"{notebooks[0]}.html").read_text(encoding="utf-8")
    cli = (html / "cli.html").read_text(encoding="utf-8")
    assert all(command in cli for command in ("generate", "triage", "evaluate", "report"))


def test_numpydoc_validation_checks_parameters_returns_and_examples():
    conf = load_conf()
    assert {"PR01", "PR02", "RT01", "EX01"} <= set(conf.numpydoc_validation_checks)
    # The exclusion names whole modules only (shrunk as the split modules arrive documented).
    import re

    for pattern in conf.numpydoc_validation_exclude:
        assert re.match(pattern, "outcomes.") is None, f"{pattern} excludes everything"
    assert not any(re.match(p, "outcomes.triage.oracle.BayesOracle")
                   for p in conf.numpydoc_validation_exclude)  # fmt: skip
