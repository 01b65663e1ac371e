"""Every item of the reporting checklist points at something that exists, or says why not."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from outcomes.captions.checklist import CHECKLIST, checklist_html
from outcomes.faces import report
from outcomes.faces.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
REPORT_PAGES = {report.INDEX_NAME, report.MANIFEST_NAME, report.DATACARD_NAME}


def _headings(name: str) -> set[str]:
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    out = set()
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            out |= {line.lstrip("#").strip() for line in cell.source.splitlines()
                    if line.startswith("#")}  # fmt: skip
    return out


def _commands() -> set[str]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    return set(sub.choices)


@pytest.mark.parametrize("item", CHECKLIST, ids=lambda i: i.number)
def test_every_item_points_at_something_that_exists_or_says_why_not(item):
    assert item.topic
    assert bool(item.where) != bool(item.not_applicable), "either where, or why not applicable"
    for where in item.where:
        if where.kind == "notebook":
            assert where.section in _headings(where.target), (where.target, where.section)
        elif where.kind == "page":
            assert where.target in REPORT_PAGES
        else:
            assert where.kind == "command" and where.target in _commands()


def test_the_index_renders_the_checklist_linking_the_notebooks_of_the_run():
    page = checklist_html(["02_triage_rules_vs_learned"])
    assert page.count("<tr>") == len(CHECKLIST) + 1
    assert 'href="02_triage_rules_vs_learned.html"' in page
    assert "01_cohort (not run)" in page  # a notebook not in this run is named, not linked
    assert "not applicable" in page and 'href="datacard.html"' in page
