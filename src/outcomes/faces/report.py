"""Execute the notebooks and render them as an HTML report a person can open.

:func:`run_report` runs every notebook with papermill (the notebooks' own ``parameters`` cells
decide which parameters each receives), renders each executed copy to HTML and writes an
``index.html`` and a ``manifest.json`` beside them. The whole report is built in a temporary
folder and renamed into place only when every notebook succeeded, so a failure never leaves a
partial report; what a run killed while renaming leaves behind is put right by the next run
(:func:`recover_interrupted_replacement`). :func:`execute_in_place` re-executes the committed
notebooks themselves, with outputs, for ``make notebooks``.

Kernels run with :data:`KERNEL_ENV` (fixed hash seed and thread counts, no progress bars), the
same environment ``make test`` gives nbval, so a report shows what the committed notebooks show.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import html
import json
import os
import platform
import re
import secrets
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from glob import escape as glob_escape
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import nbformat
import papermill
from nbconvert import HTMLExporter
from nbconvert.preprocessors import ExecutePreprocessor

from outcomes import __version__
from outcomes._dev.notebook_scripts import pair, write_script
from outcomes.captions.checklist import checklist_html
from outcomes.engine.cohort import write_cohort
from outcomes.engine.datacard import render_datacard
from outcomes.infra.io import (
    PARTIAL_MARK,
    atomic_path,
    partial_name,
    process_running,
    remove_stale_partials,
)
from outcomes.infra.paths import DEFAULT_COHORT_RELATIVE, notebooks_dir, project_root
from outcomes.infra.progress import progress_bar
from outcomes.infra.summary import SUMMARY_TAG, Summary, parse_summary
from outcomes.knowledge import KNOWLEDGE_DIR

#: Kernel every notebook runs on (inside the project's venv, this is the venv's Python).
KERNEL_NAME = "python3"
#: How JupyterLab shows that kernel once ``make lab`` registered it (its ``--display-name``).
KERNEL_DISPLAY_NAME = "outcomes (.venv)"
#: The kernelspec :func:`execute_in_place` stores in each notebook: what JupyterLab writes when
#: it saves a notebook open on the kernel ``make lab`` registers, so a save changes nothing.
KERNELSPEC: Mapping[str, str] = {
    "display_name": KERNEL_DISPLAY_NAME,
    "language": "python",
    "name": KERNEL_NAME,
}


def _cpu_pins() -> dict[str, str]:
    """Environment that makes floating-point results the same on every x86-64 machine we use.

    numpy's AVX-512 loops (exp, log, ...) and OpenBLAS's kernels for AVX-512 processors round
    differently, in the last bit, from their AVX2 versions. A last bit can move a patient across
    a reliability-bin edge or flip a near-tie between two pathways, so notebooks executed on one
    processor failed strict nbval on another. Kernels therefore use numpy's AVX2 loops (its
    AVX-512 targets disabled) and OpenBLAS's Haswell (AVX2) kernels, on any processor with AVX2;
    elsewhere (no AVX2, or not x86-64) nothing is pinned. ``Makefile`` sets the same values.
    """
    pins = {"NPY_DISABLE_CPU_FEATURES": "X86_V4,AVX512_ICL,AVX512_SPR"}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        cpuinfo = ""
    if platform.machine().lower() in {"x86_64", "amd64"} and re.search(r"\bavx2\b", cpuinfo):
        pins["OPENBLAS_CORETYPE"] = "Haswell"
    return pins


#: Environment of every kernel: results must not depend on hash seeds, thread counts, clocks
#: or the processor's vector extensions (see :func:`_cpu_pins`).
#: (``MPLBACKEND`` is deliberately absent: with ``agg`` the inline figures vanish.)
KERNEL_ENV: Mapping[str, str] = {
    "PYTHONHASHSEED": "0",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "SOURCE_DATE_EPOCH": "0",
    "TQDM_DISABLE": "1",
    **_cpu_pins(),
}
#: Libraries whose versions the manifest records.
KEY_LIBRARIES = (
    "numpy",
    "scipy",
    "pandas",
    "pyarrow",
    "scikit-learn",
    "matplotlib",
    "lifelines",
    "pandera",
    "papermill",
    "nbconvert",
    "ipykernel",
)
INDEX_NAME = "index.html"
#: Marks a previous report moved aside while the new one is renamed into place:
#: ``.<report folder>.previous-<pid>-<random>`` (see :func:`recover_interrupted_replacement`).
PREVIOUS_MARK = ".previous-"
MANIFEST_NAME = "manifest.json"
DATACARD_NAME = "datacard.html"
#: The data card of the committed default cohort, linked from every report.
DATACARD_SOURCE = Path("data/synthetic/DATACARD.md")

_LEADING_NUMBER = re.compile(r"^(\d+)")


def notebook_order_key(path: str | Path) -> tuple[float, str]:
    """Sort key putting notebooks in numeric order of their prefix (``2_x`` before ``10_y``).

    Notebooks without a numeric prefix come last, by name.

    Examples
    --------
    >>> sorted(["10_b.ipynb", "2_a.ipynb", "intro.ipynb"], key=notebook_order_key)
    ['2_a.ipynb', '10_b.ipynb', 'intro.ipynb']
    """
    name = Path(path).name
    match = _LEADING_NUMBER.match(name)
    return (int(match.group(1)) if match else float("inf"), name)


def discover_notebooks(folder: str | Path | None = None) -> list[Path]:
    """The ``*.ipynb`` files directly in ``folder`` (default: the project's ``notebooks/``).

    Returns
    -------
    list of Path
        In numeric order (:func:`notebook_order_key`); checkpoints are not included.

    Examples
    --------
    >>> [p.name for p in discover_notebooks()][:1]
    ['01_cohort.ipynb']
    """
    folder = notebooks_dir() if folder is None else Path(folder)
    return sorted(folder.glob("*.ipynb"), key=notebook_order_key)


def declared_parameters(notebook: str | Path) -> dict[str, dict[str, Any]]:
    """The parameters a notebook declares in its cell tagged ``parameters``.

    Returns
    -------
    dict
        Parameter name to papermill's description (``inferred_type_name``, ``default``,
        ``help``); empty if the notebook has no parameters cell.

    Examples
    --------
    >>> sorted(declared_parameters(discover_notebooks()[0]))
    ['EXAM_MISSING_RATE', 'N', 'SEED', 'SETTING']
    >>> declared_parameters(discover_notebooks()[0])["EXAM_MISSING_RATE"]["inferred_type_name"]
    'float | None'
    """
    declared = dict(papermill.inspect_notebook(str(notebook)))
    # papermill's reader skips assignments whose annotation it does not parse (e.g.
    # ``float | None``); every name the cell assigns is a parameter, so add those too.
    for name, (annotation, default) in _assigned_names(notebook).items():
        declared.setdefault(name, {"name": name, "inferred_type_name": annotation,
                                   "default": default, "help": ""})  # fmt: skip
    return declared


def _assigned_names(notebook: str | Path) -> dict[str, tuple[str, str]]:
    """Names assigned at top level of the parameters cell: (annotation, default) sources."""
    nb = nbformat.read(notebook, as_version=4)
    cell = next((c for c in nb.cells if "parameters" in c.metadata.get("tags", [])), None)
    if cell is None:
        return {}
    tree = ast.parse(cell.source)
    names = {}
    for node in tree.body:
        targets = (
            [node.target] if isinstance(node, ast.AnnAssign) and node.value is not None
            else node.targets if isinstance(node, ast.Assign) else []
        )  # fmt: skip
        for target in targets:
            if isinstance(target, ast.Name):
                annotation = getattr(node, "annotation", None)
                names[target.id] = (
                    ast.get_source_segment(cell.source, annotation) if annotation else "None",
                    ast.get_source_segment(cell.source, node.value) or "",
                )
    return names


@contextlib.contextmanager
def kernel_environment() -> Iterator[None]:
    """Set :data:`KERNEL_ENV` in ``os.environ`` while kernels start; restore it afterwards.

    Kernels inherit the environment of the process that starts them, so this is how every
    kernel started by this module gets the same hash seed and thread counts.

    Examples
    --------
    >>> with kernel_environment():
    ...     os.environ["PYTHONHASHSEED"]
    '0'
    """
    saved = {name: os.environ.get(name) for name in KERNEL_ENV}
    os.environ.update(KERNEL_ENV)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def library_versions(names: Iterable[str] = KEY_LIBRARIES) -> dict[str, str]:
    """Installed version of each library (``"not installed"`` when absent).

    Examples
    --------
    >>> library_versions(["papermill"])["papermill"] == papermill.__version__
    True
    """
    versions = {}
    for name in names:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


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
    plan = _plan(notebooks, parameters)
    recover_interrupted_replacement(out_dir)
    _check_replaceable(out_dir)

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
            entries.append(_execute_and_render(nb, passed, staging))
            if not _stdout_is_terminal():  # a log, not a person: one line per notebook
                print(f"{nb.stem}: {time.perf_counter() - began:.0f} s", flush=True)
        manifest = _manifest(parameters, entries)
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
        manifest["datacard"] = _write_datacard(staging, entries)
        # What this run wrote: a later run replaces the folder only if it holds nothing else.
        manifest["files"] = sorted(
            {p.name for p in staging.iterdir()} | {MANIFEST_NAME, INDEX_NAME}
        )
        (staging / MANIFEST_NAME).write_text(
            json.dumps(manifest, indent=2) + "\n", encoding="utf-8"
        )
        (staging / INDEX_NAME).write_text(_index_html(manifest), encoding="utf-8")
        _replace_folder(staging, out_dir)
        remove_stale_partials(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for parent in reversed(created_parents):
            with contextlib.suppress(OSError):
                parent.rmdir()
        raise
    return out_dir / INDEX_NAME


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
        executor = ExecutePreprocessor(kernel_name=KERNEL_NAME, record_timing=False,
                                       extra_arguments=list(KERNEL_ARGUMENTS))  # fmt: skip
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


# --------------------------------------------------------------------------------------------
# helpers


def check_parameter_values(parameters: Mapping[str, Any]) -> None:
    """Reject, before anything runs, a parameter value no notebook could run with.

    ``N`` and ``N_*`` (cohort sizes, bootstrap replicates) must be whole numbers >= 1;
    ``SEED`` a whole number >= 0; ``SETTING`` and ``*_SETTING`` a setting of the knowledge
    base; ``*_RATE`` and ``DROPOUT`` a share in [0, 1], or None (the setting's own rate).
    Every problem is named in one ValueError.

    Examples
    --------
    >>> check_parameter_values({"N": 300, "SEED": 0, "EXAM_MISSING_RATE": 0.6})
    >>> check_parameter_values({"SETTING": "mars", "N": 0})
    Traceback (most recent call last):
    ValueError: parameter SETTING='mars' is not a setting (choose one of: primary_care, ...); parameter N=0 must be a whole number >= 1
    """  # noqa: E501
    from outcomes.knowledge import load_knowledge

    settings = load_knowledge().setting_names
    problems = []
    for name, value in parameters.items():
        number = isinstance(value, int | float) and not isinstance(value, bool)
        whole = number and isinstance(value, int)
        if name == "N" or name.startswith("N_"):
            if not (whole and value >= 1):
                problems.append(f"parameter {name}={value!r} must be a whole number >= 1")
        elif name == "SEED":
            if not (whole and value >= 0):
                problems.append(f"parameter {name}={value!r} must be a whole number >= 0")
        elif name == "SETTING" or name.endswith("_SETTING"):
            if value not in settings:
                problems.append(f"parameter {name}={value!r} is not a setting (choose one of: "
                                f"{', '.join(settings)})")  # fmt: skip
        elif name.endswith("_RATE") or name == "DROPOUT":
            if value is not None and not (number and 0 <= value <= 1):
                problems.append(f"parameter {name}={value!r} must be a share in [0, 1]")
    if problems:
        raise ValueError("; ".join(problems))


def _plan(
    notebooks: Sequence[Path], parameters: Mapping[str, Any]
) -> list[tuple[Path, dict[str, Any]]]:
    """Each notebook with the parameters it will receive; validates everything up front."""
    if not notebooks:
        raise ValueError(f"no notebooks to run (looked in {notebooks_dir()})")
    for path in notebooks:
        if not path.is_file():
            raise ValueError(f"no such notebook: {path}")
    stems = [path.stem for path in notebooks]
    duplicates = sorted({stem for stem in stems if stems.count(stem) > 1})
    if duplicates:
        raise ValueError(f"notebook names must be unique in a report: {', '.join(duplicates)}")
    try:
        json.dumps(dict(parameters))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"parameters must be JSON values: {exc}") from None

    declared = {path: declared_parameters(path) for path in notebooks}
    all_declared = set().union(*declared.values())
    unknown = sorted(set(parameters) - all_declared)
    if unknown:
        raise ValueError(
            f"parameter(s) {', '.join(map(repr, unknown))} not declared by any notebook's "
            f"parameters cell; declared: {', '.join(sorted(all_declared)) or 'none'}"
        )
    check_parameter_values(parameters)
    return [
        (path, {k: v for k, v in parameters.items() if k in declared[path]}) for path in notebooks
    ]


#: Arguments of every kernel: its own warnings (e.g. "Kernel is running over TCP without
#: encryption", about a local kernel the run starts and stops itself) are not the user's
#: business; its errors still show.
KERNEL_ARGUMENTS = ("--IPKernelApp.log_level=ERROR",)


def _stdout_is_terminal() -> bool:
    try:
        return os.isatty(1)
    except OSError:  # pragma: no cover - no stdout at all
        return False


def _execute_and_render(notebook: Path, passed: dict[str, Any], staging: Path) -> dict[str, Any]:
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
    nb = nbformat.read(executed, as_version=4)
    effective = effective_parameters(notebook, passed)
    _show_run_parameters(nb, effective)
    summary = notebook_summary(nb)
    if summary is not None:
        _put_summary_on_top(nb, summary)
    rendered, _ = HTMLExporter().from_notebook_node(nb)
    html_name = f"{notebook.stem}.html"
    (staging / html_name).write_text(rendered, encoding="utf-8")
    return {
        "name": notebook.stem,
        "title": _title(nb) or notebook.stem,
        "executed": notebook.name,
        "html": html_name,
        "parameters": passed,
        "effective_parameters": effective,
        "summary": None if summary is None else {"title": summary.title,
                                                 "findings": list(summary.findings)},
    }  # fmt: skip


def effective_parameters(notebook: str | Path, passed: Mapping[str, Any]) -> dict[str, str]:
    """Every parameter of a notebook with the value a run used, as source text.

    Declared defaults, replaced by the values ``passed`` to the run.

    Examples
    --------
    >>> effective_parameters(discover_notebooks()[0], {"N": 400})["N"]
    '400'
    """
    values = {name: str(spec["default"]) for name, spec in declared_parameters(notebook).items()}
    values.update({name: repr(value) for name, value in passed.items()})
    return values


def _show_run_parameters(nb: nbformat.NotebookNode, effective: Mapping[str, str]) -> None:
    """Show one parameters cell with this run's values (papermill leaves two in the page)."""
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    for cell in nb.cells:
        if "parameters" in cell.metadata.get("tags", []):
            lines = [f"{name} = {value}" for name, value in effective.items()]
            cell.source = "# Parameters of this run\n" + "\n".join(lines)
            break


def notebook_summary(nb: nbformat.NotebookNode) -> Summary | None:
    """The :class:`~outcomes.infra.summary.Summary` a notebook's cell tagged ``summary`` printed.

    Returns ``None`` if the notebook has no such cell or it has no summary output.

    Examples
    --------
    >>> nb = nbformat.v4.new_notebook()
    >>> cell = nbformat.v4.new_code_cell("s", metadata={"tags": ["summary"]})
    >>> cell.outputs = [nbformat.v4.new_output(
    ...     "execute_result", {"text/plain": "Run\\n- 42 patients"}, execution_count=1)]
    >>> nb.cells.append(cell)
    >>> notebook_summary(nb).findings
    ('42 patients',)
    """
    for cell in nb.cells:
        if cell.cell_type != "code" or SUMMARY_TAG not in cell.metadata.get("tags", []):
            continue
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/plain")
            if text is not None:
                return parse_summary(text if isinstance(text, str) else "".join(text))
    return None


def _put_summary_on_top(nb: nbformat.NotebookNode, summary: Summary) -> None:
    """Insert the summary as a Markdown cell right after the notebook's title cell."""
    cell = nbformat.v4.new_markdown_cell(
        "> **Summary of this run.** " + summary._repr_markdown_().replace("\n", "\n> ")
    )
    first_markdown = next((i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"), -1)
    nb.cells.insert(first_markdown + 1, cell)


#: The notebook parameters that define a generated cohort, and the generator's options.
COHORT_PARAMETERS = {"N": "n", "SEED": "seed", "SETTING": "setting"}


def run_cohort_command(
    entries: Sequence[Mapping[str, Any]],
) -> tuple[str, str, dict[str, Any]] | None:
    """The ``outcomes generate`` command for the cohort of this run, its notebook, its options.

    The cohort is that of the first notebook (in run order) declaring ``N``, ``SEED`` and
    ``SETTING``, with the values it actually used (``EXAM_MISSING_RATE`` too, unless
    ``None``); ``None`` when no notebook declares them. The options are the keyword
    arguments of :func:`outcomes.engine.cohort.write_cohort` that make the same cohort.

    Examples
    --------
    >>> entry = {"name": "01_cohort", "effective_parameters":
    ...          {"N": "400", "SEED": "3", "SETTING": "'sports_clinic'"}}
    >>> run_cohort_command([entry])[0]
    'outcomes generate --n 400 --seed 3 --setting sports_clinic --out cohort.parquet'
    """
    for entry in entries:
        effective = entry.get("effective_parameters") or {}
        if not set(COHORT_PARAMETERS) <= set(effective):
            continue
        try:
            values = {name: ast.literal_eval(effective[name]) for name in COHORT_PARAMETERS}
            rate = ast.literal_eval(effective.get("EXAM_MISSING_RATE", "None"))
        except (ValueError, SyntaxError):
            continue  # a default written as an expression: not a cohort we can reproduce
        words = ["outcomes", "generate"]
        for name, option in COHORT_PARAMETERS.items():
            words += [f"--{option}", str(values[name])]
        words += ["--out", "cohort.parquet"]
        options = {option: values[name] for name, option in COHORT_PARAMETERS.items()}
        if rate is not None:
            words += ["--overrides", json.dumps({"exam_missing_rate": rate})]
            options["exam_missing_rate"] = rate
        return shlex.join(words), str(entry["name"]), options
    return None


def rerun_command(parameters: Mapping[str, Any], out_dir: str | Path = "reports") -> str:
    """The ``outcomes report`` command that runs a report again with the same parameters.

    Every parameter the run was given is in it (one not given takes the notebooks' defaults,
    in both runs): ``N``, ``SEED``, ``SETTING`` and ``EXAM_MISSING_RATE`` as the options
    ``--n``, ``--seed``, ``--setting`` and ``--exam-missing-rate`` when the option reads the
    value back unchanged, any other as ``-p NAME=VALUE`` (VALUE as JSON unless it is text that
    the CLI reads as text anyway). ``out_dir`` is written relative to the project folder when
    it is inside it (run the command from there), else absolute.

    Examples
    --------
    >>> rerun_command({"N": 20000, "SETTING": "sports_clinic", "N_BOOT": 200}, "reports/sports")
    'outcomes report --n 20000 --setting sports_clinic -p N_BOOT=200 --out reports/sports'
    >>> print(rerun_command({"EXAM_MISSING_RATE": None, "LABEL": "42"}, "/tmp/r"))
    outcomes report -p EXAM_MISSING_RATE=null -p 'LABEL="42"' --out /tmp/r
    """
    from outcomes.faces.cli import REPORT_OPTIONS

    types = {"N": int, "SEED": int, "SETTING": str, "EXAM_MISSING_RATE": float}
    flags = {name: "--" + option.replace("_", "-") for option, name in REPORT_OPTIONS.items()}
    words = ["outcomes", "report"]
    others = []
    for name, value in parameters.items():
        if name in flags and type(value) is types.get(name):
            words += [flags[name], str(value)]
        else:
            others += ["-p", f"{name}={_cli_value(value)}"]
    out = Path(out_dir)
    with contextlib.suppress(ValueError, FileNotFoundError):
        out = Path(out_dir).resolve().relative_to(project_root())
    return shlex.join([*words, *others, "--out", out.as_posix()])


def _cli_value(value: Any) -> str:
    """VALUE of ``-p NAME=VALUE`` that ``outcomes report`` reads back as ``value``."""
    if isinstance(value, str):
        try:
            json.loads(value)
        except json.JSONDecodeError:
            return value  # not JSON: the CLI keeps it as this text
    return json.dumps(value, separators=(",", ":"))


def _write_datacard(staging: Path, entries: Sequence[Mapping[str, Any]]) -> str | None:
    """Render the data card of this run's cohort into the report; its file name, or ``None``.

    The cohort is regenerated from its parameters (same seed ⇒ same patients as the notebook
    drew) into a temporary file, described, and removed. Without a cohort notebook, the
    committed default cohort's card is shown, labelled as such.
    """
    from nbconvert.filters.markdown import markdown2html

    found = run_cohort_command(entries)
    if found is not None:
        _, notebook, cohort = found
        scratch = staging / ".datacard-cohort.parquet"
        try:
            write_cohort(scratch, **cohort)
            title = f"the cohort of {notebook}"
            body = markdown2html(render_datacard(scratch, title=title, out="cohort.parquet"))
        finally:
            scratch.unlink(missing_ok=True)
        note = (
            f"This is the data card of the cohort notebook <code>{html.escape(notebook)}"
            "</code> generated in this run, regenerated from the parameters it used (same "
            "parameters, same patients). Other notebooks draw their own cohorts with the same "
            "generator; the index lists each notebook's parameters."
        )
    else:
        source = project_root() / DATACARD_SOURCE
        if not source.is_file():
            return None
        body = markdown2html(source.read_text(encoding="utf-8"))
        note = (
            "This is the data card of the committed default cohort "
            f"(<code>{html.escape(str(DEFAULT_COHORT_RELATIVE))}</code>); no notebook of this "
            "run declares the N, SEED and SETTING of a cohort of its own."
        )
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Data card</title><style>body { font-family: sans-serif; max-width: 60em; "
        "margin: 2em auto; } table { border-collapse: collapse; } td, th { border: 1px solid "
        "#ccc; padding: 0.2em 0.5em; text-align: left; }</style></head>\n<body>\n"
        f"<p><em>{note}</em></p>\n{body}\n</body></html>\n"
    )
    (staging / DATACARD_NAME).write_text(page, encoding="utf-8")
    return DATACARD_NAME


def source_state(root: Path | None = None) -> dict[str, Any]:
    """Where the code and knowledge of a run came from: git commit, local edits, knowledge hash.

    ``commit`` and ``dirty`` are ``None`` outside a git checkout (e.g. an installed package);
    ``knowledge_sha256`` hashes the knowledge files (name and bytes, in name order), so two
    runs with the same hash used the same clinical numbers.

    Examples
    --------
    >>> state = source_state()
    >>> sorted(state)
    ['commit', 'dirty', 'knowledge_sha256']
    >>> len(state["knowledge_sha256"])
    64
    """
    root = project_root() if root is None else Path(root)
    digest = hashlib.sha256()
    for path in sorted(KNOWLEDGE_DIR.glob("*.toml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    commit = dirty = None
    try:
        git = ["git", "-C", str(root)]
        commit = subprocess.run(
            [*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        status = subprocess.run(
            [*git, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout  # fmt: skip
        dirty = bool(status.strip())
    except (OSError, subprocess.SubprocessError):
        commit = dirty = None
    return {"commit": commit, "dirty": dirty, "knowledge_sha256": digest.hexdigest()}


def _title(nb: nbformat.NotebookNode) -> str | None:
    """The text of the notebook's first Markdown heading, if any."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return None


def _manifest(parameters: Mapping[str, Any], entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "package": "outcomes",
        "version": __version__,
        "python": platform.python_version(),
        "libraries": library_versions(),
        "kernel": {"name": KERNEL_NAME, "environment": dict(KERNEL_ENV)},
        "source": source_state(),
        "parameters": dict(parameters),
        "notebooks": entries,
    }


def _index_html(manifest: Mapping[str, Any]) -> str:
    esc = html.escape
    if manifest["parameters"]:
        rows = "\n".join(
            f"<tr><th>{esc(k)}</th><td>{esc(json.dumps(v))}</td></tr>"
            for k, v in manifest["parameters"].items()
        )
        parameters = f"<table>\n{rows}\n</table>"
    else:
        parameters = (
            "<p>None given: every notebook ran with its own defaults (listed with each "
            "notebook below).</p>"
        )
    items = []
    for entry in manifest["notebooks"]:
        shown = entry.get("effective_parameters") or {
            k: json.dumps(v) for k, v in entry["parameters"].items()
        }
        passed = ", ".join(f"{k}={v}" for k, v in shown.items())
        summary = entry.get("summary")
        summary_html = Summary(summary["title"], summary["findings"]).to_html() if summary else ""
        items.append(
            f'<li><a href="{esc(entry["html"])}">{esc(entry["title"])}</a> '
            f'(<a href="{esc(entry["executed"])}">{esc(entry["executed"])}</a>'
            f"{'; ' + esc(passed) if passed else ''}){summary_html}</li>"
        )
    run = manifest.get("run")
    run_html = ""
    if run:
        started = datetime.fromisoformat(run["started_utc"]).strftime("%Y-%m-%d %H:%M UTC")
        run_html = f" · run {esc(started)}, took {_duration(run['duration_seconds'])}"
    source = manifest.get("source") or {}
    source_html = ""
    if source.get("commit"):
        edits = " with uncommitted edits" if source.get("dirty") else ""
        source_html = f" · commit <code>{esc(source['commit'][:12])}</code>{edits}"
    datacard = manifest.get("datacard")
    datacard_html = f' · <a href="{esc(datacard)}">data card</a>' if datacard else ""
    rerun = manifest.get("rerun_command")
    rerun_html = (
        "<h2>Run it again</h2>\n<p>From the project folder, at the same commit:</p>\n"
        f"<pre><code>{esc(rerun)}</code></pre>\n"
        if rerun
        else ""
    )
    notebooks = "\n".join(items)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>outcomes report</title>
<style>body {{ font-family: sans-serif; max-width: 50em; margin: 2em auto; }}
th {{ text-align: left; padding-right: 1em; }}
li {{ margin-bottom: 0.8em; }} li ul {{ margin: 0.2em 0; }} li li {{ margin-bottom: 0.1em; }}
li p {{ margin: 0.3em 0 0 0; }}
table.checklist {{ border-collapse: collapse; font-size: 0.92em; }}
table.checklist td, table.checklist th {{ border: 1px solid #ccc; padding: 0.25em 0.5em;
  vertical-align: top; text-align: left; }}</style>
</head>
<body>
<h1>outcomes report</h1>
<p>outcomes {esc(manifest["version"])}{source_html} · Python {esc(manifest["python"])} ·
<a href="{MANIFEST_NAME}">manifest</a>{datacard_html}{run_html}</p>
<h2>Parameters</h2>
{parameters}
{rerun_html}<h2>Notebooks</h2>
<ol>
{notebooks}
</ol>
<h2 id="checklist">Reporting checklist (TRIPOD+AI)</h2>
<p>Where this report answers each item a paper reporting a prediction model should state, or
why an item does not apply; for a team citing the suite's evaluation of its triage.</p>
{checklist_html([str(e["name"]) for e in manifest["notebooks"]])}
</body>
</html>
"""


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def _check_replaceable(out_dir: Path) -> None:
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise FileExistsError(f"report folder {out_dir} exists and is not a folder")
    present = sorted(p.name for p in out_dir.iterdir())
    if not present:
        return
    try:
        manifest = json.loads((out_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
        written = set(manifest["files"]) if manifest.get("package") == "outcomes" else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        written = None
    if written is None:
        raise FileExistsError(
            f"report folder {out_dir} is not empty and holds no report written by outcomes "
            f"(a {MANIFEST_NAME} listing its files); refusing to replace it: choose another "
            "--out, or empty the folder"
        )
    foreign = [name for name in present if name not in written]
    if foreign:
        raise FileExistsError(
            f"report folder {out_dir} holds {foreign[0]!r}, which no report wrote; refusing to "
            "replace it (and delete that file): move it, or choose another --out"
        )


def _replace_folder(staging: Path, target: Path) -> None:
    """Rename ``staging`` onto ``target``, removing a previous ``target`` only afterwards.

    A process killed part-way leaves nothing the next run cannot put right
    (:func:`recover_interrupted_replacement`): between the two renames, the previous report
    waits, complete, under a ``.previous-`` name; it is renamed to a temporary (``.partial-``)
    name before it is deleted, so a half-deleted folder is never taken for a report.
    """
    _check_replaceable(target)
    if not target.exists():
        os.replace(staging, target)
        return
    previous = target.with_name(
        f".{target.name}{PREVIOUS_MARK}{os.getpid()}-{secrets.token_hex(4)}"
    )
    os.replace(target, previous)
    try:
        os.replace(staging, target)
    except BaseException:
        os.replace(previous, target)
        raise
    discard = target.with_name(f"{partial_name(target)}old-{secrets.token_hex(4)}")
    os.replace(previous, discard)
    shutil.rmtree(discard)


def recover_interrupted_replacement(target: str | Path) -> list[Path]:
    """Put right what a run killed while replacing the report folder ``target`` left behind.

    Killed between moving the previous report aside and renaming the new one into place, a
    run leaves no report at ``target`` and the previous one under
    ``.<name>.previous-<pid>-<random>``: it is renamed back (the newest, if several). Killed
    while deleting the previous report (or while building its own), it leaves folders that
    are removed: other ``.previous-`` folders once ``target`` exists, and the temporaries of
    :func:`outcomes.infra.io.remove_stale_partials`. Only leftovers of processes that no longer run
    are touched, so a run in progress elsewhere on this machine is never disturbed.

    Returns
    -------
    list of Path
        The folders restored (first, if any) or removed.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> (folder / ".run.previous-999999999-ab12").mkdir()
    >>> [p.name for p in recover_interrupted_replacement(folder / "run")]
    ['.run.previous-999999999-ab12']
    >>> sorted(p.name for p in folder.iterdir())
    ['run']
    """
    target = Path(target)
    stem = f".{target.name}{PREVIOUS_MARK}"
    stale = []
    for candidate in target.parent.glob(glob_escape(stem) + "*"):
        pid, dash, _ = candidate.name[len(stem) :].partition("-")
        if pid.isdigit() and dash and candidate.is_dir() and not process_running(int(pid)):
            stale.append(candidate)
    # Newest first: the report moved aside last is the one that was at the target last.
    stale.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    handled = []
    if stale and not target.exists():
        os.replace(stale[0], target)
        handled.append(stale.pop(0))
    for leftover in stale:
        shutil.rmtree(leftover, ignore_errors=True)
        handled.append(leftover)
    return handled + remove_stale_partials(target)


def _drop_run_metadata(nb: nbformat.NotebookNode) -> None:
    """Remove per-run timestamps that papermill and nbconvert store in metadata."""
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
