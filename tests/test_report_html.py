"""The HTML report a person opens: every figure embedded, no errors, nothing fetched from the web.

One report is built for the module from the committed notebooks with a small cohort (N=400,
~20 s), then its pages are checked the way a reader would meet them: linked from the index,
each figure an embedded PNG, no tracebacks or warnings, no maths that would need MathJax from a
CDN, and a manifest that lets the run be traced and repeated.
"""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

import outcomes
from outcomes.faces.report import (
    INDEX_NAME,
    KEY_LIBRARIES,
    MANIFEST_NAME,
    declared_parameters,
    discover_notebooks,
    run_report,
)

# Small cohorts, models, replayed trials and parameter draws keep this quick (the same sizes as
# the notebook grid's cheapest point): the report is checked, not the numbers in it.
PARAMETERS = {"N": 400, "N_TRAIN": 2000, "N_TRIALS": 10, "N_PSA": 500, "N_DRAWS": 5}

# External resources that nbconvert's "lab" HTML template writes into every page whatever the
# notebook holds. None of them is needed to read our reports:
# - require.js: only used by Jupyter widgets, which the notebooks do not use;
# - MathJax: typesets LaTeX, which the notebooks must not contain (test below);
# - mermaid (+ its ELK layout): imported by an inline module script only when the page holds a
#   Mermaid diagram (`.jp-Mermaid`), which ours do not (test below).
TEMPLATE_EXTERNALS = (
    "https://cdnjs.cloudflare.com/ajax/libs/require.js/",
    "https://cdnjs.cloudflare.com/ajax/libs/mathjax/",
    "https://cdnjs.cloudflare.com/ajax/libs/mermaid/",
    "https://cdnjs.cloudflare.com/ajax/libs/mermaid-layout-elk/",
    # XML namespaces and DTD identifiers in the template's scripts: names, never fetched.
    "http://www.w3.org/",
)
# Tags whose src/href the browser fetches when the page loads (plain <a> links are not fetched).
FETCHING_TAGS = {"script", "img", "link", "iframe", "source", "video", "audio", "embed", "object"}
URL = re.compile(r"""https?://[^\s"'<>)]+""")
# A URL a script can use is a string literal; URLs in comments (``// see https://...``) are not.
QUOTED_URL = re.compile(r"""["'`](https?://[^"'`\s]+)""")
SCRIPT_COMMENT_LINE = re.compile(r"^\s*(//|/?\*).*$", re.MULTILINE)
# LaTeX delimiters MathJax (as configured by nbconvert) would typeset: $...$, $$...$$, \(...\),
# \[...\] and environments. A lone "$5" is not maths; two dollars on one line are.
MATHS = re.compile(r"\$[^$\n]+\$|\$\$|\\\(|\\\[|\\begin\{")
# What Python prints for an exception or a warning (``UserWarning: ...``, ``ValueError: ...``).
WARNING_TEXT = re.compile(r"Traceback \(most recent call last\)|\b\w*(Warning|Error): ")


class Page(HTMLParser):
    """What a page links to and loads: anchors, fetched URLs, inline scripts, image sources."""

    def __init__(self, text: str):
        super().__init__()
        self.anchors: list[str] = []
        self.fetched: list[str] = []
        self.img_srcs: list[str] = []
        self.inline_scripts: list[str] = []
        self.mime_types: list[str] = []  # data-mime-type of each rendered output
        self._in_script = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.anchors.append(attrs["href"])
        if tag in FETCHING_TAGS:
            for name in ("src", "href", "data"):
                if attrs.get(name):
                    self.fetched.append(attrs[name])
        if attrs.get("data-mime-type"):
            self.mime_types.append(attrs["data-mime-type"])
        if tag == "img":
            self.img_srcs.append(attrs.get("src", ""))
        self._in_script = tag == "script" and not attrs.get("src")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.inline_scripts.append(data)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """A report over every committed notebook; returns its folder."""
    index = run_report(tmp_path_factory.mktemp("report") / "r", PARAMETERS)
    return index.parent


def notebook_ids():
    return [p.stem for p in discover_notebooks()]


@pytest.fixture(params=discover_notebooks(), ids=notebook_ids())
def notebook(request) -> Path:
    return request.param


def code_outputs(nb: nbformat.NotebookNode):
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            for output in cell.outputs:
                yield index, output


def png_payloads(nb: nbformat.NotebookNode) -> list[str]:
    return [
        "".join(output["data"]["image/png"]).replace("\n", "")
        for _, output in code_outputs(nb)
        if "image/png" in output.get("data", {})
    ]


def test_index_links_every_notebook(report):
    page = Page((report / INDEX_NAME).read_text(encoding="utf-8"))
    for path in discover_notebooks():
        html_name = f"{path.stem}.html"
        assert html_name in page.anchors, f"index.html does not link {html_name}"
        assert (report / html_name).is_file()


def test_every_figure_is_embedded(report, notebook):
    executed = nbformat.read(report / notebook.name, as_version=4)
    page = Page((report / f"{notebook.stem}.html").read_text(encoding="utf-8"))
    figures = png_payloads(executed)
    # Every notebook in the suite shows at least one figure; zero would make this test vacuous.
    assert figures, f"{notebook.name} produced no image/png output"
    embedded = [src for src in page.img_srcs if src.startswith("data:image/png;base64,")]
    assert len(embedded) == len(figures), (
        f"{notebook.stem}.html embeds {len(embedded)} PNGs; the executed notebook has "
        f"{len(figures)}"
    )
    payloads = {src.removeprefix("data:image/png;base64,") for src in embedded}
    assert all(figure in payloads for figure in figures), "a figure is missing from the page"
    linked = [src for src in page.img_srcs if not src.startswith("data:")]
    assert not linked, f"images that are not embedded (break when the page moves): {linked}"


def test_no_error_or_warning_output(report, notebook):
    executed = nbformat.read(report / notebook.name, as_version=4)
    problems = []
    for index, output in code_outputs(executed):
        if output.output_type == "error":
            problems.append((index, f"error: {output.ename}: {output.evalue}"))
        elif output.output_type == "stream":
            text = "".join(output.text)
            # Anything on stderr in a report is a warning or a log line the reader cannot act on.
            if output.name == "stderr" or WARNING_TEXT.search(text):
                problems.append((index, f"{output.name}: {text[:500]}"))
    assert not problems, f"{notebook.name} cells with error/warning output: {problems}"

    html = (report / f"{notebook.stem}.html").read_text(encoding="utf-8")
    assert "application/vnd.jupyter.stderr" not in Page(html).mime_types
    assert "Traceback" not in html


def test_nothing_is_fetched_from_the_web_but_the_template(report, notebook):
    html = (report / f"{notebook.stem}.html").read_text(encoding="utf-8")
    unexpected = [url for url in remote_urls(html) if not url.startswith(TEMPLATE_EXTERNALS)]
    assert not unexpected, f"{notebook.stem}.html loads from the web: {unexpected}"
    # The mermaid imports above only run when the page has a diagram.
    assert 'class="jp-Mermaid' not in html


def test_no_latex_maths(report, notebook):
    """MathJax loads from a CDN, so a report with maths would not render offline."""
    executed = nbformat.read(report / notebook.name, as_version=4)
    found = []
    for index, cell in enumerate(executed.cells):
        texts = [cell.source] if cell.cell_type == "markdown" else []
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                texts += ["".join(data.get(m, "")) for m in ("text/markdown", "text/html")]
        found += [(index, m.group()) for text in texts for m in MATHS.finditer(text)]
    assert not found, f"{notebook.name} has LaTeX maths (cell index, match): {found}"


def test_manifest_records_parameters_and_versions(report):
    manifest = json.loads((report / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["parameters"] == PARAMETERS
    assert manifest["version"] == outcomes.__version__
    assert set(manifest["libraries"]) >= set(KEY_LIBRARIES)
    not_installed = [k for k, v in manifest["libraries"].items() if v == "not installed"]
    assert not not_installed
    assert re.fullmatch(r"3\.\d+\.\d+.*", manifest["python"])
    entries = {entry["executed"]: entry for entry in manifest["notebooks"]}
    # Every project notebook, in run order, each with its page.
    assert list(entries) == [p.name for p in discover_notebooks()]
    assert all((report / entry["html"]).is_file() for entry in entries.values())
    for path in discover_notebooks():
        # Each notebook got exactly the parameters it declares, no more.
        declared = declared_parameters(path)
        expected = {k: v for k, v in PARAMETERS.items() if k in declared}
        assert entries[path.name]["parameters"] == expected


def test_manifest_and_index_give_the_command_that_reruns_this_report(report):
    manifest = json.loads((report / MANIFEST_NAME).read_text(encoding="utf-8"))
    command = manifest["rerun_command"]
    assert command.startswith(f"outcomes report --n {PARAMETERS['N']} ")
    assert f"-p N_TRAIN={PARAMETERS['N_TRAIN']}" in command
    assert command.endswith(f"--out {report}")
    assert html.escape(command) in (report / INDEX_NAME).read_text(encoding="utf-8")


def test_data_card_describes_the_cohort_this_run_generated(report):
    manifest = json.loads((report / MANIFEST_NAME).read_text(encoding="utf-8"))
    cohort_entry = next(e for e in manifest["notebooks"] if e["name"] == "01_cohort")
    card = (report / manifest["datacard"]).read_text(encoding="utf-8")
    seed = cohort_entry["effective_parameters"]["SEED"]
    # The run's N (not the committed cohort's 5,000) and the seed notebook 01 used.
    assert f"patients: {PARAMETERS['N']}; seed: {seed}" in card
    assert f"--n {PARAMETERS['N']} --seed {seed}" in card
    assert "01_cohort" in card


def test_manifest_and_index_trace_the_code(report):
    manifest = json.loads((report / MANIFEST_NAME).read_text(encoding="utf-8"))
    source = manifest["source"]
    assert re.fullmatch(r"[0-9a-f]{64}", source["knowledge_sha256"])
    if source["commit"] is not None:  # a git checkout (CI's clean clone is one)
        assert re.fullmatch(r"[0-9a-f]{40}", source["commit"])
        assert source["commit"][:12] in (report / INDEX_NAME).read_text(encoding="utf-8")


def remote_urls(html: str) -> list[str]:
    """The URLs a page would fetch, found the way the check above finds them."""
    page = Page(html)
    scripts = [SCRIPT_COMMENT_LINE.sub("", script) for script in page.inline_scripts]
    fetched = [url for url in page.fetched if URL.match(url)]
    return fetched + [url for script in scripts for url in QUOTED_URL.findall(script)]


def test_the_detectors_catch_what_they_are_for():
    """The checks above are alive: each detector flags its target and passes look-alikes."""
    html = (
        '<img src="https://cdn.example/plot.png"><script src="https://cdn.example/a.js"></script>'
        '<a href="https://example.org/paper">a link is not fetched</a>'
        '<script>\n// see https://example.org/comment\nimport("https://cdn.example/m.js")</script>'
        '<div data-mime-type="application/vnd.jupyter.stderr">oops</div>'
    )
    assert remote_urls(html) == [
        "https://cdn.example/plot.png",
        "https://cdn.example/a.js",
        "https://cdn.example/m.js",
    ]
    assert Page(html).mime_types == ["application/vnd.jupyter.stderr"]
    assert [m.group() for m in MATHS.finditer(r"area $x^2$ and \(y\)")] == ["$x^2$", r"\("]
    assert not MATHS.search("costs $5 per visit")
    assert WARNING_TEXT.search("/tmp/x.py:3: UserWarning: careful")
    assert WARNING_TEXT.search("ValueError: bad")
    assert not WARNING_TEXT.search("mean absolute error: 0.3")
