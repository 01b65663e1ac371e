"""Re-execute the committed notebooks in place (``make notebooks``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ExecutePreprocessor

from outcomes._dev.kernel import (
    KERNEL_ARGUMENTS,
    KERNEL_NAME,
    KERNELSPEC,
    discover_notebooks,
    kernel_environment,
)
from outcomes._dev.notebook_scripts import pair, write_script
from outcomes.infra.io import (
    atomic_path,
)


def execute_in_place(notebooks: Sequence[str | Path] | None = None) -> list[Path]:
    """Re-execute notebooks top to bottom and save them, with outputs, over themselves.

    This is how the committed notebooks are refreshed after a code change (``make
    notebooks``): each runs in a fresh kernel (:data:`KERNEL_NAME`, :data:`KERNEL_ENV`) in its
    own folder, the way nbval runs it. No per-cell timestamps are recorded, and those left by
    earlier papermill or nbconvert runs are removed, so re-running unchanged code gives an
    unchanged file. A notebook whose execution fails is not written. Each notebook's paired
    percent script (:mod:`outcomes._dev.notebook_scripts`) is rewritten with it, and the notebook
    stores what JupyterLab would add on its first save (the jupytext pairing,
    :func:`outcomes._dev.notebook_scripts.pair`, and the kernelspec :data:`KERNELSPEC`), so
    opening and saving it in ``make lab`` leaves the file unchanged.

    Parameters
    ----------
    notebooks
        Notebooks to execute (default: every notebook in the project's ``notebooks/``).

    Returns
    -------
    list of Path
        The notebooks written.

    Examples
    --------
    >>> execute_in_place()  # doctest: +SKIP
    [PosixPath('.../notebooks/01_cohort.ipynb')]
    """
    paths = discover_notebooks() if notebooks is None else [Path(p) for p in notebooks]
    written = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        executor = ExecutePreprocessor(
            kernel_name=KERNEL_NAME, record_timing=False, extra_arguments=list(KERNEL_ARGUMENTS)
        )
        with kernel_environment():
            executor.preprocess(nb, {"metadata": {"path": str(path.parent)}})
        _drop_run_metadata(nb)
        pair(nb)
        nb.metadata["kernelspec"] = dict(KERNELSPEC)
        with atomic_path(path) as tmp:
            nbformat.write(nb, tmp)
        write_script(path, nb)  # keep the review-friendly twin in step
        written.append(path)
    return written


def _drop_run_metadata(nb: nbformat.NotebookNode) -> None:
    """Remove per-run timestamps that papermill and nbconvert store in metadata."""
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
