"""Tests for outcomes.faces.report: papermill execution, HTML report, manifest, atomic output."""

from __future__ import annotations

import html as html_lib
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill
import pytest

from outcomes import __version__
from outcomes.faces import report

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}

# Prints what the kernel sees: the deterministic environment and its working directory.
KERNEL_PROBE = (
    "import os, pathlib\n"
    'print("hashseed=" + os.environ.get("PYTHONHASHSEED", "unset"))\n'
    'print("omp=" + os.environ.get("OMP_NUM_THREADS", "unset"))\n'
    'print("cwd=" + pathlib.Path.cwd().name)'
)


def write_notebook(path: Path, *code: str, parameters: str | None = None) -> Path:
    """A tiny notebook: an optional cell tagged ``parameters``, then one cell per ``code``."""
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": KERNELSPEC})
    nb.cells.append(nbformat.v4.new_markdown_cell(f"# Tiny notebook {path.stem}"))
    if parameters is not None:
        nb.cells.append(nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}))
    nb.cells.extend(nbformat.v4.new_code_cell(source) for source in code)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def stream_text(notebook: Path) -> str:
    nb = nbformat.read(notebook, as_version=4)
    return "".join(
        output.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )


@pytest.fixture
def greeting_notebooks(tmp_path):
    """A parameterised notebook and a notebook without a parameters cell."""
    folder = tmp_path / "nbs"
    greet = write_notebook(
        folder / "1_greet.ipynb",
        'print(f"greeting={GREETING}")',
        KERNEL_PROBE,
        parameters='GREETING: str = "default"',
    )
    plain = write_notebook(folder / "2_plain.ipynb", 'print("plain ran")')
    return [greet, plain]


def test_report_passes_parameters_renders_html_and_writes_manifest(tmp_path, greeting_notebooks):
    out = tmp_path / "reports" / "run"

    index = report.run_report(out, {"GREETING": "hello-report"}, notebooks=greeting_notebooks)

    assert index == out / "index.html"
    for stem in ("1_greet", "2_plain"):
        assert (out / f"{stem}.html").is_file()
        assert (out / f"{stem}.ipynb").is_file()
    greet_html = (out / "1_greet.html").read_text(encoding="utf-8")
    assert "greeting=hello-report" in greet_html
    assert "greeting=default" not in greet_html
    assert "greeting=hello-report" in stream_text(out / "1_greet.ipynb")
    assert "plain ran" in (out / "2_plain.html").read_text(encoding="utf-8")

    index_html = index.read_text(encoding="utf-8")
    assert 'href="1_greet.html"' in index_html
    assert 'href="2_plain.html"' in index_html
    assert "hello-report" in index_html
    assert __version__ in index_html

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"] == {"GREETING": "hello-report"}
    assert manifest["version"] == __version__
    assert manifest["python"].count(".") == 2
    assert manifest["libraries"]["papermill"] == papermill.__version__
    assert [entry["name"] for entry in manifest["notebooks"]] == ["1_greet", "2_plain"]
    assert manifest["notebooks"][0]["parameters"] == {"GREETING": "hello-report"}
    assert manifest["notebooks"][0]["title"] == "Tiny notebook 1_greet"


def test_only_declared_parameters_reach_a_notebook(tmp_path, greeting_notebooks):
    out = tmp_path / "run"
    report.run_report(out, {"GREETING": "hi"}, notebooks=greeting_notebooks)

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["notebooks"][1]["parameters"] == {}
    plain = nbformat.read(out / "2_plain.ipynb", as_version=4)
    injected = [c for c in plain.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected == []


def test_kernels_run_in_the_notebook_folder_with_the_deterministic_environment(
    tmp_path, greeting_notebooks, monkeypatch
):
    monkeypatch.setenv("PYTHONHASHSEED", "random")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    out = tmp_path / "run"
    report.run_report(out, notebooks=greeting_notebooks)

    text = stream_text(out / "1_greet.ipynb")
    assert "hashseed=0" in text
    assert "omp=1" in text
    assert "cwd=nbs" in text
    assert os.environ["PYTHONHASHSEED"] == "random", "the caller's environment is restored"
    assert "OMP_NUM_THREADS" not in os.environ


def test_failing_notebook_raises_and_leaves_no_partial_report(tmp_path, greeting_notebooks):
    failing = write_notebook(
        tmp_path / "nbs" / "3_fails.ipynb", 'raise RuntimeError("deliberate failure")'
    )
    before = sorted(os.listdir(tmp_path))

    with pytest.raises(papermill.PapermillExecutionError, match="deliberate failure"):
        report.run_report(tmp_path / "reports" / "run", notebooks=[*greeting_notebooks, failing])

    assert not (tmp_path / "reports").exists()
    assert sorted(os.listdir(tmp_path)) == before


def test_failed_rerun_keeps_the_previous_report_untouched(tmp_path, greeting_notebooks):
    out = tmp_path / "run"
    report.run_report(out, {"GREETING": "first"}, notebooks=greeting_notebooks)
    previous = {p.name: p.read_bytes() for p in out.iterdir()}
    failing = write_notebook(tmp_path / "nbs" / "3_fails.ipynb", "1 / 0")

    with pytest.raises(papermill.PapermillExecutionError):
        report.run_report(out, {"GREETING": "second"}, notebooks=[*greeting_notebooks, failing])

    assert {p.name: p.read_bytes() for p in out.iterdir()} == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nbs", "run"]


def test_successful_rerun_replaces_the_previous_report(tmp_path, greeting_notebooks):
    out = tmp_path / "run"
    report.run_report(out, {"GREETING": "first"}, notebooks=greeting_notebooks)
    report.run_report(out, {"GREETING": "second"}, notebooks=greeting_notebooks[:1])

    assert sorted(p.name for p in out.iterdir()) == [
        "1_greet.html",
        "1_greet.ipynb",
        "datacard.html",
        "index.html",
        "manifest.json",
    ]
    assert "greeting=second" in (out / "1_greet.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nbs", "run"]


def test_parameter_no_notebook_declares_is_rejected_before_anything_runs(
    tmp_path, greeting_notebooks
):
    out = tmp_path / "run"
    with pytest.raises(ValueError, match=r"'GRETING'.*declared: GREETING"):
        report.run_report(out, {"GRETING": "typo"}, notebooks=greeting_notebooks)
    assert not out.exists()


def test_parameters_that_are_not_json_values_are_rejected(tmp_path, greeting_notebooks):
    with pytest.raises(ValueError, match="JSON"):
        report.run_report(tmp_path / "run", {"GREETING": object()}, notebooks=greeting_notebooks)


def test_refuses_to_replace_a_folder_that_is_not_a_report(tmp_path, greeting_notebooks):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "keep.txt").write_text("not a report")

    with pytest.raises(FileExistsError, match="refusing"):
        report.run_report(out, notebooks=greeting_notebooks)
    assert (out / "keep.txt").read_text() == "not a report"


def test_notebooks_with_the_same_name_are_rejected(tmp_path):
    first = write_notebook(tmp_path / "a" / "1_x.ipynb", "1")
    second = write_notebook(tmp_path / "b" / "1_x.ipynb", "2")
    with pytest.raises(ValueError, match="unique"):
        report.run_report(tmp_path / "run", notebooks=[first, second])


def test_no_notebooks_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="no notebooks"):
        report.run_report(tmp_path / "run", notebooks=[])


def test_notebooks_are_discovered_in_numeric_order(tmp_path):
    for name in ("10_last.ipynb", "2_second.ipynb", "01_first.ipynb", "appendix.ipynb"):
        write_notebook(tmp_path / name, "1")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    write_notebook(tmp_path / ".ipynb_checkpoints" / "01_first-checkpoint.ipynb", "1")

    found = [p.name for p in report.discover_notebooks(tmp_path)]

    assert found == ["01_first.ipynb", "2_second.ipynb", "10_last.ipynb", "appendix.ipynb"]


def test_declared_parameters_reads_the_parameters_cell(tmp_path):
    nb = write_notebook(tmp_path / "p.ipynb", "N * 2", parameters="N: int = 5\nSEED: int = 1")
    declared = report.declared_parameters(nb)
    assert sorted(declared) == ["N", "SEED"]
    assert declared["N"]["inferred_type_name"] == "int"
    assert report.declared_parameters(write_notebook(tmp_path / "q.ipynb", "1")) == {}


def test_kernel_environment_is_set_inside_and_restored_after(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "8")
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    with report.kernel_environment():
        for name, value in report.KERNEL_ENV.items():
            assert os.environ[name] == value
    assert os.environ["OMP_NUM_THREADS"] == "8"
    assert "TQDM_DISABLE" not in os.environ
    assert "MPLBACKEND" not in report.KERNEL_ENV


def test_execute_in_place_stores_outputs_and_drops_run_timestamps(tmp_path):
    nb_path = write_notebook(tmp_path / "nbs" / "1_answer.ipynb", "print(6 * 7)", KERNEL_PROBE)
    nb = nbformat.read(nb_path, as_version=4)
    nb.metadata["papermill"] = {"start_time": "2026-01-01T00:00:00"}
    nb.cells[1].metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00Z"}
    nbformat.write(nb, nb_path)

    assert report.execute_in_place([nb_path]) == [nb_path]

    executed = nbformat.read(nb_path, as_version=4)
    code_cells = [c for c in executed.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code_cells] == [1, 2]
    assert code_cells[0].outputs[0]["text"] == "42\n"
    assert "hashseed=0" in stream_text(nb_path)
    assert "cwd=nbs" in stream_text(nb_path)
    assert "papermill" not in executed.metadata
    assert all("execution" not in c.metadata for c in executed.cells)
    # What JupyterLab with jupytext, on the kernel `make lab` registers, would add on a save.
    assert executed.metadata["jupytext"] == {"formats": "ipynb,scripts//py:percent"}
    assert executed.metadata["kernelspec"] == report.KERNELSPEC
    assert report.KERNELSPEC["name"] == report.KERNEL_NAME
    first_run = nb_path.read_bytes()
    report.execute_in_place([nb_path])
    assert nb_path.read_bytes() == first_run, "re-running unchanged code changes nothing"


def test_execute_in_place_leaves_a_failing_notebook_unchanged(tmp_path):
    nb_path = write_notebook(tmp_path / "1_fails.ipynb", 'raise ValueError("nope")')
    original = nb_path.read_bytes()
    with pytest.raises(Exception, match="nope"):
        report.execute_in_place([nb_path])
    assert nb_path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1_fails.ipynb"]


def test_summary_cell_is_lifted_to_the_top_of_the_page_and_the_index(tmp_path):
    nb = write_notebook(
        tmp_path / "nbs" / "1_sum.ipynb",
        'print("body-of-the-notebook")',
        "from outcomes.infra.summary import Summary\nSummary('Run of 7', ['seven patients: 7'])",
    )
    book = nbformat.read(nb, as_version=4)
    book.cells[-1].metadata["tags"] = ["summary"]
    nbformat.write(book, nb)
    index = report.run_report(tmp_path / "run", notebooks=[nb])

    page = (index.parent / "1_sum.html").read_text(encoding="utf-8")
    assert "Summary of this run" in page
    # On top: before the first cell's output.
    assert page.index("Summary of this run") < page.index("body-of-the-notebook")
    assert "seven patients: 7" in index.read_text(encoding="utf-8")
    manifest = json.loads((index.parent / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["notebooks"][0]
    assert entry["summary"] == {"title": "Run of 7", "findings": ["seven patients: 7"]}
    assert manifest["run"]["duration_seconds"] >= 0
    assert "started_utc" in manifest["run"]
    if manifest["datacard"]:
        assert "Data card" in (index.parent / manifest["datacard"]).read_text(encoding="utf-8")
        assert 'href="datacard.html"' in index.read_text(encoding="utf-8")


def test_cli_report_maps_options_to_notebook_parameters(tmp_path, monkeypatch, capsys):
    from outcomes.faces import cli

    seen = {}

    def fake_run_report(out, parameters):
        seen.update(parameters)
        return Path(out) / "index.html"

    monkeypatch.setattr(report, "run_report", fake_run_report)
    argv = ["report", "--n", "300", "--seed", "3", "--setting", "sports_clinic",
            "--exam-missing-rate", "0.6", "-p", "N_BOOT=50", "-p", "LABEL=text",
            "--out", str(tmp_path / "r")]  # fmt: skip
    assert cli.main(argv) == 0
    assert seen == {"N": 300, "SEED": 3, "SETTING": "sports_clinic", "EXAM_MISSING_RATE": 0.6,
                    "N_BOOT": 50, "LABEL": "text"}  # fmt: skip
    assert cli.main(["report", "--n", "3", "-p", "N=4", "--out", str(tmp_path / "r")]) == 2
    assert "parameter N given twice" in capsys.readouterr().err


def test_parameters_with_annotations_papermill_cannot_read_are_still_declared(tmp_path):
    nb = write_notebook(
        tmp_path / "1_p.ipynb",
        "print(RATE)",
        parameters="N: int = 5\nRATE: float | None = None  # papermill skips this line\n",
    )
    declared = report.declared_parameters(nb)
    assert sorted(declared) == ["N", "RATE"]
    assert declared["RATE"]["inferred_type_name"] == "float | None"
    assert declared["RATE"]["default"] == "None"


def test_page_shows_one_parameters_cell_with_the_values_of_this_run(tmp_path, greeting_notebooks):
    index = report.run_report(tmp_path / "run", {"GREETING": "hi"}, notebooks=greeting_notebooks)
    page = (index.parent / "1_greet.html").read_text(encoding="utf-8")
    assert "Parameters of this run" in page
    assert "injected-parameters" not in page
    assert "&quot;default&quot;" not in page  # the declared default is not shown as if used
    manifest = json.loads((index.parent / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["notebooks"][0]["effective_parameters"] == {"GREETING": "'hi'"}
    assert "GREETING=&#x27;hi&#x27;" in index.read_text(encoding="utf-8")


def test_run_cohort_command_uses_the_first_cohort_notebooks_values():
    entries = [
        {"name": "00_intro", "effective_parameters": {"N": "10"}},  # no SEED/SETTING: skipped
        {
            "name": "01_cohort",
            "effective_parameters": {
                "N": "300", "SEED": "9", "SETTING": "'spine_clinic'", "EXAM_MISSING_RATE": "0.7"
            },
        },
    ]  # fmt: skip
    command, notebook, options = report.run_cohort_command(entries)
    assert notebook == "01_cohort"
    assert options == {"n": 300, "seed": 9, "setting": "spine_clinic", "exam_missing_rate": 0.7}
    assert command.startswith("outcomes generate --n 300 --seed 9 --setting spine_clinic")
    assert """--overrides '{"exam_missing_rate": 0.7}'""" in command
    assert report.run_cohort_command(entries[:1]) is None


def test_without_a_cohort_notebook_the_default_cards_label_says_so(tmp_path, greeting_notebooks):
    index = report.run_report(tmp_path / "run", notebooks=greeting_notebooks)
    manifest = json.loads((index.parent / "manifest.json").read_text(encoding="utf-8"))
    card = (index.parent / manifest["datacard"]).read_text(encoding="utf-8")
    assert "committed default cohort" in card
    assert not list(index.parent.glob(".datacard-cohort*"))  # the scratch cohort is removed


def test_a_killed_runs_staging_folder_is_removed_by_the_next_run(tmp_path, greeting_notebooks):
    out = tmp_path / "run"
    # What a run killed with SIGKILL leaves: its staging folder, named with a dead process id.
    leftover = tmp_path / ".run.partial-999999999-dead"
    (leftover / "sub").mkdir(parents=True)
    (leftover / "1_greet.html").write_text("half a report", encoding="utf-8")

    report.run_report(out, notebooks=greeting_notebooks)

    assert not leftover.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nbs", "run"]


def test_kernel_environment_pins_numpy_and_openblas_to_their_avx2_code():
    # Stored notebook outputs were produced with these code paths; AVX-512 ones round
    # differently in the last bit (enough to change a stored number on another processor).
    probe = (
        "import json, numpy, scipy.linalg\n"
        "from numpy._core._multiarray_umath import __cpu_features__ as features\n"
        "from threadpoolctl import threadpool_info\n"
        "blas = sorted({i.get('architecture') for i in threadpool_info()"
        " if i['internal_api'] == 'openblas'})\n"
        "print(json.dumps({'avx512': [k for k in ('X86_V4', 'AVX512_ICL', 'AVX512_SPR')"
        " if features.get(k)], 'blas': blas}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in report.KERNEL_ENV}
    env.update(report.KERNEL_ENV)
    run = subprocess.run(
        [sys.executable, "-W", "error::ImportWarning", "-c", probe],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    seen = json.loads(run.stdout)
    assert seen["avx512"] == [], "numpy must not dispatch to its AVX-512 loops in kernels"
    if "OPENBLAS_CORETYPE" in report.KERNEL_ENV:
        assert seen["blas"] and set(seen["blas"]) == {"Haswell"}, seen["blas"]


# A report run killed (SIGKILL, no clean-up) at a chosen point of replacing the report folder.
KILLED_RUN = """
import os, shutil, signal, sys
from pathlib import Path
from outcomes.faces import report

out, notebook, moment = sys.argv[1:]

def caller_is_replace_folder():
    return sys._getframe(2).f_code.co_name == "replace_folder"

renames = []
real_replace, real_rmtree = os.replace, shutil.rmtree

def replace(src, dst):
    if caller_is_replace_folder():
        renames.append(dst)
        if moment == "between-renames" and len(renames) == 2:
            os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst)

def rmtree(path, *args, **kwargs):
    if caller_is_replace_folder() and moment == "while-deleting":
        (Path(path) / "manifest.json").unlink()  # half deleted
        os.kill(os.getpid(), signal.SIGKILL)
    return real_rmtree(path, *args, **kwargs)

os.replace, shutil.rmtree = replace, rmtree
report.run_report(out, {"GREETING": "killed"}, notebooks=[notebook])
"""


def killed_run(out: Path, notebook: Path, moment: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, str(out), str(notebook), moment],
        capture_output=True, text=True, env={**os.environ, **report.KERNEL_ENV},
    )  # fmt: skip
    assert result.returncode == -9, f"the run was not killed where intended:\n{result.stderr}"


def test_a_run_killed_between_the_renames_leaves_the_previous_report_for_the_next(
    tmp_path, greeting_notebooks
):
    out = tmp_path / "run"
    report.run_report(out, {"GREETING": "first"}, notebooks=greeting_notebooks[:1])
    first = {p.name: p.read_bytes() for p in out.iterdir()}

    killed_run(out, greeting_notebooks[0], "between-renames")
    assert not out.exists()  # the window: the previous report is aside, the new one not in
    assert len(list(tmp_path.glob(".run.previous-*"))) == 1

    # The next run puts the previous report back first, so even a failing run leaves it
    # exactly as it was before the killed run.
    failing = write_notebook(tmp_path / "nbs" / "3_fails.ipynb", "1 / 0")
    with pytest.raises(papermill.PapermillExecutionError):
        report.run_report(out, notebooks=[failing])
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nbs", "run"]  # and nothing else


def test_a_run_killed_while_deleting_the_previous_report_leaves_nothing_after_the_next(
    tmp_path, greeting_notebooks
):
    out = tmp_path / "run"
    report.run_report(out, {"GREETING": "first"}, notebooks=greeting_notebooks[:1])

    killed_run(out, greeting_notebooks[0], "while-deleting")
    assert "greeting=killed" in (out / "1_greet.html").read_text(encoding="utf-8")
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".run."))
    assert left and all(".partial-" in name for name in left), left  # never a ".previous-"

    report.run_report(out, {"GREETING": "third"}, notebooks=greeting_notebooks[:1])
    assert "greeting=third" in (out / "1_greet.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nbs", "run"]


def test_recovery_restores_the_newest_report_and_spares_runs_in_progress(tmp_path):
    def report_folder(name: str, label: str, age_s: float) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "manifest.json").write_text(json.dumps({"label": label}), encoding="utf-8")
        stamp = 1_700_000_000 - age_s
        os.utime(folder, (stamp, stamp))
        return folder

    older = report_folder(".run.previous-999999998-aaaa", "older", age_s=60)
    newer = report_folder(".run.previous-999999999-bbbb", "newer", age_s=0)
    running = report_folder(f".run.previous-{os.getpid()}-cccc", "in progress", age_s=0)

    handled = report.recover_interrupted_replacement(tmp_path / "run")

    assert handled == [newer, older]
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest == {"label": "newer"}
    assert running.is_dir(), "a live process's folder is never touched"
    assert sorted(p.name for p in tmp_path.iterdir()) == [running.name, "run"]


def rerun_parameters(command: str, monkeypatch) -> dict:
    """The parameters ``outcomes report`` passes to run_report for this command line."""
    from outcomes.faces import cli

    seen = {}

    def fake_run_report(out, parameters):
        seen.update(parameters=dict(parameters), out=Path(out))
        return Path(out) / "index.html"

    monkeypatch.setattr(report, "run_report", fake_run_report)
    words = shlex.split(command)
    assert words[:2] == ["outcomes", "report"]
    assert cli.main(words[1:]) == 0
    return seen


@pytest.mark.parametrize(
    "parameters",
    [
        {},
        {"N": 20000, "SEED": 3, "SETTING": "sports_clinic", "EXAM_MISSING_RATE": 0.95},
        {"N_BOOT": 50, "TEST_SETTING": "spine_clinic", "SHIFT_MISSING_RATE": 0.5},
        # Values the named options would change (None, an int rate, a numeric text) and text
        # that needs quoting in a shell: all reach the notebooks exactly as given.
        {"EXAM_MISSING_RATE": None, "DATA": "my data/team's calls.csv", "LABEL": "42"},
        {"EXAM_MISSING_RATE": 1, "SEED": 0, "N": 300},
    ],
    ids=["defaults", "named-options", "other-parameters", "awkward-values", "int-rate"],
)
def test_rerun_command_gives_the_cli_the_same_parameters(parameters, monkeypatch, capsys):
    command = report.rerun_command(parameters, report.project_root() / "reports" / "x")
    assert command.endswith("--out reports/x")
    seen = rerun_parameters(command, monkeypatch)
    assert seen["parameters"] == parameters
    assert [type(v) for v in seen["parameters"].values()] == [type(v) for v in parameters.values()]


def test_manifest_and_index_give_the_command_that_runs_the_report_again(tmp_path, monkeypatch):
    # run_report's own notebooks are the project's, so the command can re-run them; the
    # notebooks are not executed here (papermill is stood in for by a copy).
    monkeypatch.setattr(report.execute, "execute_and_render", lambda nb, passed, staging: {
        "name": nb.stem, "title": nb.stem, "executed": nb.name, "html": f"{nb.stem}.html",
        "parameters": passed, "effective_parameters": {}, "summary": None})  # fmt: skip
    parameters = {"N": 400, "SETTING": "spine_clinic", "N_BOOT": 20}
    index = report.run_report(tmp_path / "again", parameters)

    manifest = json.loads((index.parent / "manifest.json").read_text(encoding="utf-8"))
    command = manifest["rerun_command"]
    assert command == (
        f"outcomes report --n 400 --setting spine_clinic -p N_BOOT=20 --out {tmp_path}/again"
    )
    assert html_lib.escape(command) in index.read_text(encoding="utf-8")
    assert rerun_parameters(command, monkeypatch) == {
        "parameters": parameters, "out": tmp_path / "again"}  # fmt: skip


def test_no_rerun_command_for_notebooks_the_cli_cannot_run(tmp_path, greeting_notebooks):
    index = report.run_report(tmp_path / "run", notebooks=greeting_notebooks[1:])
    manifest = json.loads((index.parent / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["rerun_command"] is None
    assert "<h2>Run it again</h2>" not in index.read_text(encoding="utf-8")


def test_a_folder_is_replaced_only_if_every_file_in_it_is_the_reports_own(
    tmp_path, greeting_notebooks
):
    """Someone else's ``manifest.json`` proves nothing, and a file added to a previous
    report's folder is never deleted with it."""
    impostor = tmp_path / "impostor"
    impostor.mkdir()
    (impostor / "manifest.json").write_text('{"mine": true}', encoding="utf-8")
    (impostor / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(FileExistsError, match="no report written by outcomes"):
        report.run_report(impostor, notebooks=greeting_notebooks[:1])
    assert sorted(p.name for p in impostor.iterdir()) == ["manifest.json", "notes.txt"]

    out = tmp_path / "run"
    report.run_report(out, {"GREETING": "first"}, notebooks=greeting_notebooks[:1])
    (out / "my_notes.txt").write_text("keep me too", encoding="utf-8")
    with pytest.raises(FileExistsError, match="'my_notes.txt', which no report wrote"):
        report.run_report(out, {"GREETING": "second"}, notebooks=greeting_notebooks[:1])
    assert (out / "my_notes.txt").read_text(encoding="utf-8") == "keep me too"
    assert "greeting=first" in (out / "1_greet.html").read_text(encoding="utf-8")


def test_a_run_off_a_terminal_prints_one_line_per_notebook_and_no_kernel_noise(
    tmp_path, greeting_notebooks, capfd
):
    report.run_report(tmp_path / "run", {}, notebooks=greeting_notebooks)
    out, err = capfd.readouterr()
    lines = [line for line in out.splitlines() if line.strip()]
    assert [line.split(":")[0] for line in lines] == ["1_greet", "2_plain"]
    assert all(line.endswith(" s") and line.split(": ")[1][:-2].isdigit() for line in lines)
    assert "without encryption" not in err and "WARNING" not in err
