"""Every notebook runs to completion over a grid of parameters a researcher might choose.

Each grid point executes every notebook (as discovered by :func:`outcomes.faces.report.
discover_notebooks`, so notebooks added later are included) with papermill, in a temporary
working directory, passing each notebook only the parameters its ``parameters`` cell declares.
A point passes when every notebook completes and no output shows a traceback, a warning or
anything on stderr. The text of every figure drawn is recorded too (a hook run
first in the kernel reads each figure before the inline backend turns it into a PNG; ``In [1]``
is that hook, so a notebook's cells count from ``In [2]``), so a figure is checked like a table.
The same first cell blocks the network (:data:`NETWORK_GUARD`): every grid point also proves
that the notebooks make no network calls, so the cheapest point is the project's offline check
too (it was a separate run of every notebook, ``tests/test_notebooks_offline.py``).

The grid covers what a researcher may choose: cohorts from N=300 to N=200,000, every setting, a
higher missing-exam rate than any setting records, and a small cohort in which a condition
draws no patients (its tables *and* figures must say "no patients"). Each point is as cheap as
what it checks allows: the learned models train on 2,000 patients (``N_TRAIN``) everywhere, the
200,000-patient point runs once, in one setting, with few bootstrap replicates (``N_BOOT``: it
checks that every step runs at that size, not how narrow its intervals are), and the other
settings run at N=300. The cheapest point (N=300 in primary care) runs in ``make test``; the
others are marked slow and run by ``make test-slow``, which CI runs after ``make test``
(``make ci``).
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import nbformat
import papermill
import pytest

from outcomes.analysis.describe import NO_PATIENTS
from outcomes.engine.cohort import generate
from outcomes.faces.report import (
    KERNEL_NAME,
    declared_parameters,
    discover_notebooks,
    kernel_environment,
)
from outcomes.knowledge import load_knowledge

SETTINGS = load_knowledge().setting_names
# Learned models trained on 2,000 patients: every code path of training runs, in seconds. So do
# notebook 05's replayed trials, parameter draws and sensitivity-analysis cohort at these sizes.
SMALL_TRAINING = {"N_TRAIN": 2000, "N_TRIALS": 10, "N_PSA": 500, "N_DRAWS": 5}
SMOKE = {"N": 300, "SETTING": "primary_care", **SMALL_TRAINING}
# The largest cohort the issue names, once: every step must run at this size (vectorised, in
# memory); 50 bootstrap replicates run the same code as 400 do, in less time.
LARGE = {"N": 200_000, "SETTING": "primary_care", **SMALL_TRAINING, "N_BOOT": 50}
# Higher than any setting's own missing share of an exam finding (at most 0.85 in settings.toml).
HIGH_EXAM_MISSING_RATE = 0.95
HIGH_MISSING = {"N": 2000, "SETTING": "primary_care", "EXAM_MISSING_RATE": HIGH_EXAM_MISSING_RATE,
                **SMALL_TRAINING}  # fmt: skip
# A small sports-clinic cohort whose seed draws no patient with serious pathology (checked below
# with the generator itself, so a change to the knowledge that fills the condition is noticed).
EMPTY = {"N": 300, "SEED": 15, "SETTING": "sports_clinic", **SMALL_TRAINING}
EMPTY_CONDITION = "serious_pathology"

# What Python prints for an exception or a warning (``UserWarning: ...``, ``ValueError: ...``).
PROBLEM_TEXT = re.compile(r"Traceback \(most recent call last\)|\b\w*(Warning|Error): ")
TEXT_MIMES = ("text/plain", "text/html", "text/markdown")


def grid() -> list:
    slow = pytest.mark.slow
    points = [pytest.param(SMOKE, id="N300-primary_care")]
    points += [
        pytest.param({**SMOKE, "SETTING": setting}, id=f"N300-{setting}", marks=slow)
        for setting in SETTINGS
        if setting != SMOKE["SETTING"]
    ]
    points.append(pytest.param(LARGE, id="N200000-primary_care", marks=slow))
    points.append(pytest.param(HIGH_MISSING, id="N2000-primary_care-exam_missing_high", marks=slow))
    points.append(pytest.param(EMPTY, id="N300-sports_clinic-empty_condition", marks=slow))
    return points


def test_the_grid_covers_every_dimension_the_issue_names():
    points = [p.values[0] for p in grid()]
    sizes = {p["N"] for p in points}
    assert min(sizes) == 300 and max(sizes) == 200_000
    assert {p.get("SETTING") for p in points} == set(SETTINGS)
    assert any(p.get("EXAM_MISSING_RATE", 0) > 0.85 for p in points)
    assert EMPTY in points
    slow = [any(mark.name == "slow" for mark in p.marks) for p in grid()]
    assert slow == [False] + [True] * (len(slow) - 1), "one point in `make test`, others slow"


# First in each kernel: block socket creation (pytest-socket), and prove the block is in force,
# so a notebook that reaches the network fails instead of passing quietly. Unix sockets stay
# allowed: they never leave the machine. (The kernel's own channels are ZeroMQ sockets created
# before this cell runs.)
NETWORK_GUARD = """\
import socket
from pytest_socket import SocketBlockedError, disable_socket
disable_socket(allow_unix_socket=True)
try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM)
except SocketBlockedError:
    print("network blocked")
else:
    raise AssertionError("sockets are not blocked")
"""
NETWORK_BLOCKED = "network blocked\n"

# Run first in each kernel: append the texts (titles, labels, annotations, ticks) of every open
# figure to a JSON-lines file when a cell calls plt.show() and after every cell, i.e. before the
# inline backend turns the figures into PNGs and closes them (its post_execute callback is
# registered on importing pyplot, after this one). Writes no output: the notebook's outputs are
# those of an ordinary run.
FIGURE_TEXT_HOOK = """\
def _outcomes_record_figure_texts(*_args, _path={path!r}):
    import json, sys
    if "matplotlib.pyplot" not in sys.modules:
        return
    from matplotlib._pylab_helpers import Gcf  # open figures, without making one current
    from matplotlib.text import Text
    with open(_path, "a", encoding="utf-8") as fh:
        for manager in Gcf.get_all_fig_managers():
            found = manager.canvas.figure.findobj(Text)
            texts = [t.get_text() for t in found if t.get_visible() and t.get_text()]
            fh.write(json.dumps({{"cell": get_ipython().execution_count, "texts": texts}}) + "\\n")
get_ipython().events.register("post_execute", _outcomes_record_figure_texts)
import matplotlib.pyplot
def _outcomes_show(*args, _show=matplotlib.pyplot.show, **kwargs):
    _outcomes_record_figure_texts()
    return _show(*args, **kwargs)
matplotlib.pyplot.show = _outcomes_show
del _outcomes_show
"""


def with_figure_hook(notebook: Path, record: Path, folder: Path) -> Path:
    """A copy of ``notebook`` in ``folder`` whose first cell runs :data:`NETWORK_GUARD` and
    installs :data:`FIGURE_TEXT_HOOK`."""
    nb = nbformat.read(notebook, as_version=4)
    first = NETWORK_GUARD + FIGURE_TEXT_HOOK.format(path=str(record))
    nb.cells.insert(0, nbformat.v4.new_code_cell(first))
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / notebook.name
    nbformat.write(nb, copy)
    return copy


def figure_texts(record: Path) -> list[dict]:
    """What the hook recorded: one ``{"cell": n, "texts": [...]}`` per figure drawn."""
    if not record.is_file():
        return []
    return [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()]


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
    """Execute one notebook; the problems found (empty when it ran cleanly).

    The executed copy is ``workdir/NAME.ipynb``; the texts of its figures are recorded in
    ``workdir/NAME.figures.jsonl`` (:func:`figure_texts`).
    """
    executed = workdir / notebook.name
    hooked = with_figure_hook(notebook, workdir / f"{notebook.stem}.figures.jsonl",
                              workdir / "hooked")  # fmt: skip
    try:
        with kernel_environment():
            papermill.execute_notebook(
                str(hooked),
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
    nb = nbformat.read(executed, as_version=4)
    first = nb.cells.pop(0)  # guard and hook: cell numbers below are the notebook's own
    # The notebook ran to the end with the network blocked, and the block was in force.
    # (pytest-socket also warns on stderr that a socket was refused: that is the block working.)
    printed = "".join(o.get("text", "") for o in first.outputs if o.get("name") == "stdout")
    if printed != NETWORK_BLOCKED:
        problems.append(f"{notebook.name}: the network guard's output was {first.outputs!r}")
    for index, kind, text in output_texts(nb):
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
        f"no notebook declares {undeclared} (per outcomes.faces.report.declared_parameters), "
        "so this "
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
    drawn: dict[str, list[dict]] = {}
    for notebook in notebooks:
        passed = {k: v for k, v in point.items() if k in declared[notebook]}
        problems += run_notebook(notebook, passed, tmp_path)
        drawn[notebook.name] = figure_texts(tmp_path / f"{notebook.stem}.figures.jsonl")
        if (tmp_path / notebook.name).is_file():
            nb = nbformat.read(tmp_path / notebook.name, as_version=4)
            shown += [text for _, _, text in output_texts(nb)]
            pngs = sum(
                "image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", [])
            )
            # The hook is alive: it read every figure the notebook shows, no more, no less.
            assert len(drawn[notebook.name]) == pngs, f"{notebook.name}: {pngs} figures shown"
    assert not problems, "\n".join(problems)
    if point == EMPTY:
        # The empty condition reached the notebooks and is reported, not silently dropped: some
        # table shows it by name (or label) together with the "no patients" mark ...
        label = next(c.label for c in load_knowledge().conditions if c.name == EMPTY_CONDITION)
        assert any(
            NO_PATIENTS in text and (EMPTY_CONDITION in text or label in text) for text in shown
        ), f"no notebook output says {NO_PATIENTS!r} for {EMPTY_CONDITION}, which is empty"
        # ... and so does some figure, in a panel or label of its own.
        assert any(
            NO_PATIENTS in text
            for figures in drawn.values()
            for figure in figures
            for text in figure["texts"]
        ), f"no figure says {NO_PATIENTS!r} although {EMPTY_CONDITION} is empty; figures: " + (
            "; ".join(
                f"{name} In [{figure['cell']}]: {[t for t in figure['texts'] if len(t) > 3][:4]}"
                for name, figures in drawn.items()
                for figure in figures
            )
        )


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
