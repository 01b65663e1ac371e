"""Review-friendly twins of the notebooks: jupytext percent scripts in ``notebooks/scripts/``.

A notebook's JSON, with its embedded figures, is hard to read in a diff. Each notebook
therefore has a paired ``py:percent`` script holding its cells' source only (no outputs), which
reviewers read instead; ``notebooks/jupytext.toml`` declares the pairing so JupyterLab's
jupytext integration keeps both in step when you edit interactively. The notebook (with its
outputs) stays the source of truth that nbval checks; :func:`write_script` regenerates its
script and a test fails when a pair drifts apart. :func:`pair` writes into a notebook's own
metadata the pairing jupytext would add on its first save in JupyterLab, so that saving an
unchanged notebook there changes nothing.

``make notebooks`` re-executes every notebook and rewrites its script; ``make scripts``
rewrites the scripts only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import jupytext
import nbformat

from outcomes.infra.io import atomic_path
from outcomes.infra.paths import notebooks_dir

#: jupytext format of the paired scripts (same as ``notebooks/jupytext.toml``).
SCRIPT_FORMAT = "py:percent"
#: Folder of the paired scripts, relative to the notebooks' folder.
SCRIPTS_FOLDER = "scripts"
#: The pairing, as jupytext writes it into a paired file's header.
PAIRING = f"ipynb,{SCRIPTS_FOLDER}//{SCRIPT_FORMAT}"


def pair(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Record the pairing in ``nb``'s metadata, as jupytext does on saving; returns ``nb``.

    Without it the first save of a notebook in JupyterLab (jupytext reads the pairing from
    ``notebooks/jupytext.toml``) adds it, a change unrelated to the edit being made.

    Examples
    --------
    >>> pair(nbformat.v4.new_notebook()).metadata["jupytext"]
    {'formats': 'ipynb,scripts//py:percent'}
    """
    nb.metadata["jupytext"] = {"formats": PAIRING}
    return nb


def script_path(notebook: str | Path) -> Path:
    """Where the paired script of ``notebook`` lives.

    Examples
    --------
    >>> script_path("notebooks/01_cohort.ipynb").as_posix()
    'notebooks/scripts/01_cohort.py'
    """
    notebook = Path(notebook)
    return notebook.parent / SCRIPTS_FOLDER / f"{notebook.stem}.py"


def script_text(nb: nbformat.NotebookNode) -> str:
    """The percent-script text of a notebook: every cell's source, no outputs.

    Examples
    --------
    >>> nb = nbformat.v4.new_notebook()
    >>> nb.cells.append(nbformat.v4.new_code_cell("x = 1"))
    >>> "# %%\\nx = 1" in script_text(nb)
    True
    """
    # Only the cells matter for review; drop run metadata so re-executing does not churn.
    clean = pair(nbformat.from_dict(nb))
    clean.metadata.pop("papermill", None)
    clean.metadata.pop("widgets", None)
    return jupytext.writes(clean, fmt=SCRIPT_FORMAT)


def write_script(notebook: str | Path, nb: nbformat.NotebookNode | None = None) -> Path:
    """Write (atomically) the paired script of ``notebook``; returns its path.

    Examples
    --------
    >>> write_script("notebooks/01_cohort.ipynb")  # doctest: +SKIP
    PosixPath('notebooks/scripts/01_cohort.py')
    """
    notebook = Path(notebook)
    nb = nbformat.read(notebook, as_version=4) if nb is None else nb
    target = script_path(notebook)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        Path(tmp).write_text(script_text(nb), encoding="utf-8")
    return target


def _notebooks(notebooks: Sequence[str | Path] | None) -> list[Path]:
    if notebooks is not None:
        return [Path(p) for p in notebooks]
    return sorted(notebooks_dir().glob("*.ipynb"))


def sync_scripts(notebooks: Sequence[str | Path] | None = None) -> list[Path]:
    """Rewrite the paired script of every notebook (default: all in ``notebooks/``).

    Examples
    --------
    >>> sync_scripts()  # doctest: +SKIP
    [PosixPath('.../notebooks/scripts/01_cohort.py'), ...]
    """
    return [write_script(path) for path in _notebooks(notebooks)]


def out_of_sync(notebooks: Sequence[str | Path] | None = None) -> list[Path]:
    """Notebooks whose paired script is missing or differs from the notebook's cells.

    Examples
    --------
    >>> isinstance(out_of_sync(), list)
    True
    """
    stale = []
    for path in _notebooks(notebooks):
        script = script_path(path)
        expected = script_text(nbformat.read(path, as_version=4))
        if not script.is_file() or script.read_text(encoding="utf-8") != expected:
            stale.append(path)
    return stale
