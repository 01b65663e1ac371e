"""Stored notebooks stay small enough to review: no giant table dumps, figures at a fixed size.

Budgets (bytes as stored in the .ipynb, images base64-encoded) are about twice today's largest
output of each kind, so a regression (a 200,000-row DataFrame printed, a figure saved at a high
DPI) fails while ordinary edits pass.
"""

from __future__ import annotations

import nbformat
import pytest

from outcomes.faces.report import discover_notebooks

NOTEBOOK_BUDGET = 800_000  # whole file
IMAGE_BUDGET = 400_000  # one image/png output (today's largest: ~180 KB)
TABLE_BUDGET = 40_000  # one text/html or text/plain output (today's largest: a few KB)


def output_sizes(nb: nbformat.NotebookNode):
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            texts = dict(output.get("data", {}))
            if "text" in output:
                texts["stream"] = output["text"]
            for mime, value in texts.items():
                size = len(value if isinstance(value, str) else "".join(value))
                yield index, mime, size


@pytest.mark.parametrize("notebook", discover_notebooks(), ids=lambda p: p.stem)
def test_stored_outputs_stay_within_budget(notebook):
    assert notebook.stat().st_size < NOTEBOOK_BUDGET, f"{notebook.name} is too large to review"
    nb = nbformat.read(notebook, as_version=4)
    too_big = [
        (index, mime, size)
        for index, mime, size in output_sizes(nb)
        if size > (IMAGE_BUDGET if mime.startswith("image/") else TABLE_BUDGET)
    ]
    assert not too_big, f"{notebook.name}: outputs over budget (cell, mime, bytes): {too_big}"


def test_the_budget_check_sees_outputs():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [
        nbformat.v4.new_output("execute_result", {"text/html": "<td>1</td>" * 5000}),
        nbformat.v4.new_output("stream", name="stdout", text="row\n" * 20_000),
    ]
    nb.cells.append(cell)
    sizes = {mime: size for _, mime, size in output_sizes(nb)}
    assert sizes["text/html"] > TABLE_BUDGET
    assert sizes["stream"] > TABLE_BUDGET
