"""Run the report: every notebook executed with papermill and rendered, the folder replaced whole.

:func:`run_report` runs every notebook with papermill (the notebooks' own ``parameters`` cells
decide which parameters each receives), renders each executed copy to HTML and writes an
``index.html`` and a ``manifest.json`` beside them. The whole report is built in a temporary
folder and renamed into place only when every notebook succeeded, so a failure never leaves a
partial report; what a run killed while renaming leaves behind is put right by the next run
(:func:`~outcomes.faces.report.folder.recover_interrupted_replacement`).

Kernels run with :data:`~outcomes._dev.kernel.KERNEL_ENV` (fixed hash seed and thread counts,
no progress bars), the same environment ``make test`` gives nbval, so a report shows what the
committed notebooks show.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import papermill

from outcomes._dev.kernel import (
    KERNEL_ARGUMENTS,
    KERNEL_NAME,
    discover_notebooks,
    kernel_environment,
)
from outcomes.faces.report.folder import (
    check_replaceable,
    recover_interrupted_replacement,
    replace_folder,
)
from outcomes.faces.report.parameters import (
    plan_notebooks,
    rerun_command,
)
from outcomes.faces.report.render import (
    INDEX_NAME,
    MANIFEST_NAME,
    build_manifest,
    index_html,
    render_notebook,
    write_report_datacard,
)
from outcomes.infra.io import (
    PARTIAL_MARK,
    remove_stale_partials,
)
from outcomes.infra.progress import progress_bar


def run_report(
    out_dir: str | Path,
    parameters: Mapping[str, Any] | None = None,
    notebooks: Sequence[str | Path] | None = None,
) -> Path:
    """Execute the notebooks with papermill and write an HTML report into ``out_dir``.

    Parameters
    ----------
    out_dir
        Folder of the report. It is replaced as a whole when the report is complete; an
        existing folder must be empty or a previous report holding only the files its
        ``manifest.json`` lists as written by it: anything else there is never deleted.
    parameters
        Values for the notebooks' ``parameters`` cells, e.g. ``{"N": 20000, "SEED": 3}``.
        Each notebook receives only the parameters it declares; a parameter that no notebook
        declares is an error (a typo would otherwise be ignored silently).
    notebooks
        Notebooks to run, in the order given (default: every notebook in the project's
        ``notebooks/`` folder, in numeric order). Each runs with its own folder as working
        directory, on kernel :data:`KERNEL_NAME` with environment :data:`KERNEL_ENV`.

    Returns
    -------
    Path
        The absolute path of the report's ``index.html``. Beside it, for each notebook: the
        executed copy (``NAME.ipynb``) and its rendering (``NAME.html``); and ``manifest.json``
        with the parameters, the package, Python and key library versions, the start time
        and duration of the run, and each notebook's summary (its cell tagged ``summary``,
        also shown at the top of its page and in the index), and the ``outcomes report``
        command that runs it again (:func:`rerun_command`, also on the index page);
        ``datacard.html`` renders the data card of the run's cohort.

    A progress bar over the notebooks is shown on a terminal (tqdm; silent when output is
    not a terminal or ``TQDM_DISABLE=1``).

    Raises
    ------
    ValueError
        If there are no notebooks, two share a name, a parameter is declared by none of them
        or cannot be written as JSON. Nothing is executed or written.
    FileExistsError
        If ``out_dir`` exists and is neither empty nor a previous report, or holds a file
        the previous report did not write.
    papermill.PapermillExecutionError
        If a cell of a notebook fails; ``out_dir`` is then left exactly as it was.

    Examples
    --------
    >>> index = run_report("reports/sports", {"N": 20000, "SETTING": "sports_clinic"})
    ... # doctest: +SKIP
    >>> index.name  # doctest: +SKIP
    'index.html'
    """
    out_dir = Path(out_dir).resolve()
    parameters = dict(parameters or {})
    notebooks = discover_notebooks() if notebooks is None else [Path(p) for p in notebooks]
    plan = plan_notebooks(notebooks, parameters)
    recover_interrupted_replacement(out_dir)
    check_replaceable(out_dir)

    created_parents = [p for p in reversed(out_dir.parents) if not p.exists()]
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    # Named like io's temporaries (pid inside), so a killed run's leftovers are recognised
    # and removed by the next successful run.
    staging = out_dir.with_name(
        f".{out_dir.name}{PARTIAL_MARK}{os.getpid()}-{secrets.token_hex(4)}"
    )
    staging.mkdir()
    started = datetime.now(UTC)
    clock = time.perf_counter()
    try:
        entries = []
        for nb, passed in progress_bar(plan, desc="notebooks", unit="notebook"):
            began = time.perf_counter()
            entries.append(execute_and_render(nb, passed, staging))
            if not _stdout_is_terminal():  # a log, not a person: one line per notebook
                print(f"{nb.stem}: {time.perf_counter() - began:.0f} s", flush=True)
        manifest = build_manifest(parameters, entries)
        project_notebooks = [p.resolve() for p in discover_notebooks()]
        manifest["rerun_command"] = (
            rerun_command(parameters, out_dir)
            if [p.resolve() for p in notebooks] == project_notebooks
            else None  # the command runs the project's notebooks, not these
        )
        manifest["run"] = {
            "started_utc": started.isoformat(timespec="seconds"),
            "duration_seconds": round(time.perf_counter() - clock, 1),
        }
        manifest["datacard"] = write_report_datacard(staging, entries)
        # What this run wrote: a later run replaces the folder only if it holds nothing else.
        manifest["files"] = sorted(
            {p.name for p in staging.iterdir()} | {MANIFEST_NAME, INDEX_NAME}
        )
        (staging / MANIFEST_NAME).write_text(
            json.dumps(manifest, indent=2) + "\n", encoding="utf-8"
        )
        (staging / INDEX_NAME).write_text(index_html(manifest), encoding="utf-8")
        replace_folder(staging, out_dir)
        remove_stale_partials(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for parent in reversed(created_parents):
            with contextlib.suppress(OSError):
                parent.rmdir()
        raise
    return out_dir / INDEX_NAME


def _stdout_is_terminal() -> bool:
    try:
        return os.isatty(1)
    except OSError:  # pragma: no cover - no stdout at all
        return False


def execute_and_render(notebook: Path, passed: dict[str, Any], staging: Path) -> dict[str, Any]:
    """Execute one notebook of a report with papermill, then render it into ``staging``.

    Parameters
    ----------
    notebook
        The notebook to run; it runs in its own folder, on kernel :data:`KERNEL_NAME` with
        environment :data:`KERNEL_ENV`.
    passed
        The parameters it receives (those it declares, from :func:`plan_notebooks`).
    staging
        The report's folder being built: the executed copy and its HTML page go there.

    Returns
    -------
    dict
        The notebook's entry of the manifest (:func:`render_notebook`).

    Raises
    ------
    papermill.PapermillExecutionError
        If a cell fails; the error notes which notebook it was.

    Examples
    --------
    >>> entry = execute_and_render(Path("notebooks/01_cohort.ipynb"), {"N": 300}, staging)
    ... # doctest: +SKIP
    >>> entry["html"]  # doctest: +SKIP
    '01_cohort.html'
    """
    executed = staging / notebook.name
    with kernel_environment():
        try:
            papermill.execute_notebook(
                str(notebook),
                str(executed),
                parameters=passed,
                kernel_name=KERNEL_NAME,
                cwd=str(notebook.parent),
                progress_bar=False,
                log_output=False,
                extra_arguments=list(KERNEL_ARGUMENTS),
            )
        except Exception as exc:
            exc.add_note(f"while executing {notebook.name} for the report")
            raise
    return render_notebook(notebook, executed, passed, staging)
