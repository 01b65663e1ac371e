"""Every notebook has a review-friendly percent script twin, in step with its cells."""

from __future__ import annotations

import shutil
import tomllib

import jupytext
import nbformat
import pytest

from outcomes._dev.notebook_scripts import (
    PAIRING,
    out_of_sync,
    pair,
    script_path,
    script_text,
    write_script,
)
from outcomes.faces.report import KERNELSPEC, discover_notebooks
from outcomes.infra.paths import notebooks_dir

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


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_stores_its_pairing_and_the_make_lab_kernelspec(notebook):
    # What JupyterLab (with jupytext, on the kernel `make lab` registers) writes on saving: if
    # the committed notebook lacked it, the first save would add it, unrelated to any edit.
    metadata = nbformat.read(notebook, as_version=4).metadata
    assert metadata.get("jupytext") == {"formats": PAIRING}, "run `make notebooks`"
    assert metadata.get("kernelspec") == KERNELSPEC, "run `make notebooks`"


def test_pairing_is_the_one_notebooks_jupytext_toml_declares():
    config = tomllib.loads((notebooks_dir() / "jupytext.toml").read_text(encoding="utf-8"))
    assert config["formats"] == PAIRING


def test_saving_an_unchanged_notebook_through_jupytext_changes_no_file(tmp_path, monkeypatch):
    """JupyterLab saves through jupytext's contents manager, which reads notebooks/jupytext.toml:
    a save of a committed notebook must rewrite neither it nor its script."""
    from jupyter_server.services.contents.largefilemanager import LargeFileManager
    from jupytext.sync_contentsmanager import build_sync_jupytext_contents_manager_class

    # Saving records the notebook's trust signature in Jupyter's data folder: not the user's.
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jupyter_data"))
    folder = tmp_path / "notebooks"
    shutil.copytree(notebooks_dir(), folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    manager = build_sync_jupytext_contents_manager_class(LargeFileManager)(root_dir=str(folder))
    changed = []
    for notebook in NOTEBOOKS:
        files = [folder / notebook.name, folder / script_path(notebook.name)]
        before = [path.read_bytes() for path in files]
        manager.save(manager.get(notebook.name), notebook.name)
        changed += [
            path.name for path, old in zip(files, before, strict=True) if path.read_bytes() != old
        ]
    assert not changed, f"a save in JupyterLab would rewrite {changed}: run `make notebooks`"


def test_pair_records_the_pairing_without_touching_cells():
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": dict(KERNELSPEC)})
    nb.cells.append(nbformat.v4.new_code_cell("x = 1"))
    assert pair(nb) is nb
    assert nb.metadata["jupytext"] == {"formats": "ipynb,scripts//py:percent"}
    assert nb.metadata["kernelspec"] == KERNELSPEC
    assert [c.source for c in nb.cells] == ["x = 1"]
