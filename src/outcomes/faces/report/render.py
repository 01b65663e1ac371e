"""The report's pages: each executed notebook as HTML, the index, the data card, the manifest."""

from __future__ import annotations

import hashlib
import html
import json
import platform
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import nbformat
from nbconvert import HTMLExporter
from nbconvert.filters.markdown import markdown2html

from outcomes import __version__
from outcomes._dev.kernel import (
    KERNEL_ENV,
    KERNEL_NAME,
)
from outcomes.captions.checklist import checklist_html
from outcomes.engine.cohort import write_cohort
from outcomes.engine.datacard import render_datacard
from outcomes.faces.report.parameters import effective_parameters, run_cohort_command
from outcomes.infra.paths import DEFAULT_COHORT_RELATIVE, project_root
from outcomes.infra.summary import SUMMARY_TAG, Summary, parse_summary
from outcomes.knowledge import KNOWLEDGE_DIR

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


MANIFEST_NAME = "manifest.json"


DATACARD_NAME = "datacard.html"


#: The data card of the committed default cohort, linked from every report.
DATACARD_SOURCE = Path("data/synthetic/DATACARD.md")


def library_versions(names: Iterable[str] = KEY_LIBRARIES) -> dict[str, str]:
    """Installed version of each library (``"not installed"`` when absent).

    Parameters
    ----------
    names
        Distribution names (default: :data:`KEY_LIBRARIES`).

    Returns
    -------
    dict
        Name -> version.

    Examples
    --------
    >>> import papermill
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

    Parameters
    ----------
    nb
        An executed notebook.

    Returns
    -------
    Summary or None

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


def _title(nb: nbformat.NotebookNode) -> str | None:
    """The text of the notebook's first Markdown heading, if any."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return None


def write_report_datacard(staging: Path, entries: Sequence[Mapping[str, Any]]) -> str | None:
    """Render the data card of this run's cohort into the report; its file name, or ``None``.

    The cohort is regenerated from its parameters (same seed ⇒ same patients as the notebook
    drew) into a temporary file, described, and removed. Without a cohort notebook, the
    committed default cohort's card is shown, labelled as such.

    Parameters
    ----------
    staging
        The report's folder being built; :data:`DATACARD_NAME` is written there.
    entries
        The notebooks' manifest entries, in run order.

    Returns
    -------
    str or None
        :data:`DATACARD_NAME`, or None when there is no cohort notebook and no committed card.

    Examples
    --------
    >>> import tempfile
    >>> staging = Path(tempfile.mkdtemp())
    >>> entry = {"name": "01_cohort", "effective_parameters":
    ...          {"N": "50", "SEED": "3", "SETTING": "'sports_clinic'"}}
    >>> write_report_datacard(staging, [entry])
    'datacard.html'
    >>> "the cohort of 01_cohort" in (staging / "datacard.html").read_text(encoding="utf-8")
    True
    """

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

    Parameters
    ----------
    root
        The project folder (default: :func:`~outcomes.infra.paths.project_root`).

    Returns
    -------
    dict
        ``commit``, ``dirty`` and ``knowledge_sha256``.

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
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout
        dirty = bool(status.strip())
    except (OSError, subprocess.SubprocessError):
        commit = dirty = None
    return {"commit": commit, "dirty": dirty, "knowledge_sha256": digest.hexdigest()}


def build_manifest(parameters: Mapping[str, Any], entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The report's manifest before the run's own fields are added.

    Parameters
    ----------
    parameters
        The parameters of the run.
    entries
        The notebooks' entries (:func:`render_notebook`).

    Returns
    -------
    dict
        Package and version, Python and :func:`library_versions`, the kernel and its
        environment, :func:`source_state`, the parameters and the notebooks.

    Examples
    --------
    >>> manifest = build_manifest({"N": 300}, [])
    >>> manifest["package"], manifest["parameters"], manifest["kernel"]["name"]
    ('outcomes', {'N': 300}, 'python3')
    """
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


def index_html(manifest: Mapping[str, Any]) -> str:
    """The report's index page: parameters, the command that runs it again, each notebook with
    its summary, and the TRIPOD+AI reporting checklist.

    Parameters
    ----------
    manifest
        The report's manifest (:func:`build_manifest` and the run's fields).

    Returns
    -------
    str
        The HTML page.

    Examples
    --------
    >>> page = index_html(build_manifest({"N": 300}, []))
    >>> "<h1>outcomes report</h1>" in page and "<th>N</th><td>300</td>" in page
    True
    """
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


def render_notebook(
    notebook: Path, executed: Path, passed: Mapping[str, Any], staging: Path
) -> dict[str, Any]:
    """Render an executed notebook of a report as its HTML page in ``staging``.

    The page shows one parameters cell with the values the run used and, right after the
    title, the notebook's summary (its cell tagged ``summary``), if it printed one.

    Parameters
    ----------
    notebook
        The notebook as committed (its declared parameters are read from it).
    executed
        Its executed copy, written by papermill into ``staging``.
    passed
        The parameters the run passed to it.
    staging
        The report's folder being built; ``NAME.html`` is written there.

    Returns
    -------
    dict
        The notebook's entry of the manifest: ``name``, ``title``, ``executed``, ``html``,
        ``parameters`` (passed), ``effective_parameters`` (every parameter, as source text)
        and ``summary`` (title and findings, or None).

    Examples
    --------
    >>> import tempfile
    >>> staging = Path(tempfile.mkdtemp())
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Hello")])
    >>> nbformat.write(nb, staging / "hello.ipynb")
    >>> entry = render_notebook(staging / "hello.ipynb", staging / "hello.ipynb", {}, staging)
    >>> entry["title"], (staging / entry["html"]).is_file()
    ('Hello', True)
    """
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
        "summary": None
        if summary is None
        else {"title": summary.title, "findings": list(summary.findings)},
    }
