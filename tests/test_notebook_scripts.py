"""Every notebook has a review-friendly percent script twin, in step with its cells."""

from __future__ import annotations

import jupytext
import nbformat
import pytest

from outcomes.notebook_scripts import out_of_sync, script_path, script_text, write_script
from outcomes.report import discover_notebooks

NOTEBOOKS = discover_notebooks()


def test_every_notebook_has_its_script_in_sync():
    stale = [p.name for p in out_of_sync(NOTEBOOKS)]
    assert not stale, f"paired scripts out of date for {stale}: run `make scripts`"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_script_holds_every_cell_source_and_no_outputs(notebook):
    nb = nbformat.read(notebook, as_version=4)
    text = script_path(notebook).read_text(encoding="utf-8")
    assert "image/png" not in text and "execution_count" not in text
    twin = jupytext.reads(text, fmt="py:percent")
    assert [c.cell_type for c in twin.cells] == [c.cell_type for c in nb.cells]
    assert [c.source for c in twin.cells] == [c.source for c in nb.cells]
    parameters = [c for c in twin.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(parameters) == 1  # papermill still finds the parameters cell in the twin


def test_a_changed_cell_is_detected_and_rewriting_fixes_it(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("x = 1"))
    path = tmp_path / "1_tiny.ipynb"
    nbformat.write(nb, path)
    assert out_of_sync([path]) == [path]  # no script yet
    assert write_script(path) == tmp_path / "scripts" / "1_tiny.py"
    assert out_of_sync([path]) == []
    nb.cells[0].source = "x = 2"
    nbformat.write(nb, path)
    assert out_of_sync([path]) == [path]
    assert "x = 2" in script_text(nb)
