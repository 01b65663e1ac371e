"""Every notebook runs to completion over a grid of parameters a researcher might choose.

Each grid point executes every notebook (as discovered by :func:`outcomes.report.
discover_notebooks`, so notebooks added later are included) with papermill, in a temporary
working directory, passing each notebook only the parameters its ``parameters`` cell declares.
A point passes when every notebook completes and no output shows a traceback, a warning or
anything on stderr.

The grid: small and large cohorts (N=300 and N=200,000) in every setting, a higher missing-exam
rate than any setting records, and a small cohort in which a condition draws no patients. Only
the cheapest point (N=300 in primary care) runs in ``make test``; the others are marked slow
and run by ``make test-slow`` (CI).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import nbformat
import papermill
import pytest

from outcomes.cohort import generate
from outcomes.describe import NO_PATIENTS
from outcomes.knowledge import load_knowledge
from outcomes.report import KERNEL_NAME, declared_parameters, discover_notebooks, kernel_environment

SETTINGS = load_knowledge().setting_names
SMOKE = {"N": 300, "SETTING": "primary_care", "N_TRAIN": 2000}
# Higher than any setting's own missing share of an exam finding (at most 0.85 in settings.toml).
HIGH_EXAM_MISSING_RATE = 0.95
# A small sports-clinic cohort whose seed draws no patient with serious pathology (checked below
# with the generator itself, so a change to the knowledge that fills the condition is noticed).
EMPTY = {"N": 300, "SEED": 5, "SETTING": "sports_clinic"}
EMPTY_CONDITION = "serious_pathology"

# What Python prints for an exception or a warning (``UserWarning: ...``, ``ValueError: ...``).
PROBLEM_TEXT = re.compile(r"Traceback \(most recent call last\)|\b\w*(Warning|Error): ")
TEXT_MIMES = ("text/plain", "text/html", "text/markdown")


def grid() -> list:
    points = [pytest.param(SMOKE, id="N300-primary_care")]
    for n in (300, 200_000):
        for setting in SETTINGS:
            point = {"N": n, "SETTING": setting}
            if point != {k: v for k, v in SMOKE.items() if k != "N_TRAIN"}:
                points.append(pytest.param(point, id=f"N{n}-{setting}", marks=pytest.mark.slow))
    points.append(
        pytest.param(
            {"N": 2000, "SETTING": "primary_care", "EXAM_MISSING_RATE": HIGH_EXAM_MISSING_RATE},
            id="N2000-primary_care-exam_missing_high",
            marks=pytest.mark.slow,
        )
    )
    points.append(
        pytest.param(EMPTY, id="N300-sports_clinic-empty_condition", marks=pytest.mark.slow)
    )
    return points


def output_texts(nb: nbformat.NotebookNode):
    """(cell index, output kind, text) for every text an output shows."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            if output.output_type == "stream":
                yield index, f"stream:{output.name}", "".join(output.text)
            elif output.output_type == "error":
                yield index, "error", f"{output.ename}: {output.evalue}"
            else:
                for mime in TEXT_MIMES:
                    if mime in output.get("data", {}):
                        yield index, mime, "".join(output["data"][mime])


def run_notebook(notebook: Path, parameters: dict[str, Any], workdir: Path) -> list[str]:
    """Execute one notebook; the problems found (empty when it ran cleanly)."""
    executed = workdir / notebook.name
    try:
        with kernel_environment():
            papermill.execute_notebook(
                str(notebook),
                str(executed),
                parameters=parameters,
                kernel_name=KERNEL_NAME,
                cwd=str(workdir),  # not the notebooks' folder: no path may depend on it
                progress_bar=False,
                log_output=False,
            )
    except papermill.PapermillExecutionError as exc:
        return [f"{notebook.name}: cell In [{exc.exec_count}] raised {exc.ename}: {exc.evalue}"]
    problems = []
    for index, kind, text in output_texts(nbformat.read(executed, as_version=4)):
        if kind in ("error", "stream:stderr") or PROBLEM_TEXT.search(text):
            problems.append(f"{notebook.name}: cell #{index} {kind}: {text[:400]!r}")
    return problems


@pytest.mark.parametrize("point", grid())
def test_every_notebook_runs_cleanly(point, tmp_path):
    notebooks = discover_notebooks()
    assert notebooks, "no notebooks found"
    declared = {path: declared_parameters(path) for path in notebooks}
    # A parameter nobody declares would be dropped and the point would pass vacuously.
    undeclared = sorted(k for k in point if not any(k in d for d in declared.values()))
    assert not undeclared, (
        f"no notebook declares {undeclared} (per outcomes.report.declared_parameters), so this "
        "grid point would test nothing. Declared: "
        + "; ".join(f"{p.name}: {sorted(d)}" for p, d in declared.items())
        + ". Add the parameter to the parameters cells; note papermill's parser silently skips "
        "a line whose annotation it cannot read (e.g. `X: float | None = None`)."
    )
    if point == EMPTY:
        cohort = generate(
            EMPTY["N"], seed=EMPTY["SEED"], setting=EMPTY["SETTING"], exam_missing_rate=None
        )
        assert (cohort["condition"] == EMPTY_CONDITION).sum() == 0, (
            f"precondition: {EMPTY} no longer leaves {EMPTY_CONDITION} empty; pick another seed"
        )

    problems: list[str] = []
    shown: list[str] = []
    for notebook in notebooks:
        passed = {k: v for k, v in point.items() if k in declared[notebook]}
        problems += run_notebook(notebook, passed, tmp_path)
        if (tmp_path / notebook.name).is_file():
            nb = nbformat.read(tmp_path / notebook.name, as_version=4)
            shown += [text for _, _, text in output_texts(nb)]
    assert not problems, "\n".join(problems)
    if point == EMPTY:
        # The empty condition reached the notebooks and is reported, not silently dropped: some
        # table shows it by name (or label) together with the "no patients" mark.
        label = next(c.label for c in load_knowledge().conditions if c.name == EMPTY_CONDITION)
        assert any(
            NO_PATIENTS in text and (EMPTY_CONDITION in text or label in text) for text in shown
        ), f"no notebook output says {NO_PATIENTS!r} for {EMPTY_CONDITION}, which is empty"


@pytest.mark.parametrize("notebook", discover_notebooks(), ids=lambda p: p.stem)
def test_every_parameter_in_the_parameters_cell_is_declared(notebook):
    """The grid passes a parameter only to notebooks that declare it, so the declared set must
    be complete: every name the parameters cell assigns (read with ``ast``) must be found."""
    nb = nbformat.read(notebook, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"{notebook.name} needs exactly one cell tagged 'parameters'"
    assigned = set()
    for statement in ast.parse(cells[0].source).body:
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            assigned.add(statement.target.id)
        elif isinstance(statement, ast.Assign):
            assigned.update(t.id for t in statement.targets if isinstance(t, ast.Name))
    missing = sorted(assigned - set(declared_parameters(notebook)))
    assert not missing, (
        f"{notebook.name}: parameters cell assigns {missing} but declared_parameters (papermill) "
        "does not see them, so the report and the grid cannot pass them"
    )
