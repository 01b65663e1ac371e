"""Simulation studies: spec checks, resuming, and the same results on a real Dask cluster."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from outcomes.analysis.study import (
    METHOD_METRICS,
    PAIRED_METRICS,
    SpecError,
    parse_spec,
    read_study,
    replicate_seeds,
    run_study,
)
from outcomes.faces import cli

SPEC_TOML = """\
[study]
replicates = 2
seed = 5
block = 1
methods = ["rules", "logistic"]

[grid]
n_train = [200]
n_test = [200]
exam_missing_rate = [0.3]
"""


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("spec") / "study.toml"
    path.write_text(SPEC_TOML)
    return path


@pytest.fixture(scope="module")
def in_process(spec_file, tmp_path_factory):
    """The study run serially in this process: the reference every other run must equal."""
    out = tmp_path_factory.mktemp("studies") / "local"
    assert cli.main(["study", "--spec", str(spec_file), "--out", str(out), "--local"]) == 0
    return read_study(out)


def test_results_are_tidy_with_spawned_seeds(in_process):
    assert len(in_process) == 2 * (2 * len(METHOD_METRICS) + len(PAIRED_METRICS))
    assert list(in_process.columns) == ["cell", "n_train", "n_test", "setting",
                                        "exam_missing_rate", "replicate", "method", "metric",
                                        "value"]  # fmt: skip
    accuracy = in_process[in_process["metric"] == "accuracy"]
    assert accuracy["value"].between(0, 1).all()
    # Replicates differ (their own seeds), and their seeds do not depend on the run.
    assert accuracy.groupby("method")["value"].nunique().eq(2).all()
    assert replicate_seeds(5, 0, 1) == replicate_seeds(5, 0, 1) != replicate_seeds(5, 0, 0)


def test_resume_runs_only_missing_blocks_and_refuses_another_spec(spec_file, in_process,
                                                                  tmp_path):  # fmt: skip
    spec = parse_spec({"study": {"replicates": 2, "seed": 5, "block": 1, "methods": ["rules",
                       "logistic"]}, "grid": {"n_train": [200], "n_test": [200],
                       "exam_missing_rate": [0.3]}})  # fmt: skip
    out = tmp_path / "s"
    first = run_study(spec, out, local=True)
    assert (first.ran, first.kept) == (2, 0)
    (out / "part-c0000-b00001.parquet").unlink()  # as an interrupted run leaves it
    again = run_study(spec, out, local=True)
    assert (again.ran, again.kept) == (1, 1)
    pd.testing.assert_frame_equal(read_study(out), in_process)
    other = parse_spec({"study": {"replicates": 3, "seed": 5, "block": 1},
                        "grid": {"n_test": [200]}})  # fmt: skip
    with pytest.raises(SpecError, match="holds a study of another spec"):
        run_study(other, out, local=True)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[study]\nreplicates = 2\n[grid]\nn_tset = [100]\n", "unknown parameter 'n_tset'"),
        ("[study]\nreplicates = 2\n[grid]\nn_test = []\n", "n_test is an empty list"),
        ("[study]\nreplicates = 0\n", "replicates must be an integer >= 1, got 0"),
        ('[study]\nreplicates = 2\nmethods = ["magic"]\n', "unknown method 'magic'"),
        ("[study]\nreplicates = 2\n[grid]\nexam_missing_rate = [1.5]\n", "exam_missing_rate"),
        ("[study]\nreplicates = 2\nwhatever = 1\n", "unknown key 'whatever' in [study]"),
        ("[study\n", "not valid TOML"),
    ],
    ids=["unknown", "empty", "replicates", "method", "override", "key", "toml"],
)
def test_bad_specs_are_one_line_exit_2_and_write_nothing(tmp_path, capsys, toml, message):
    spec = tmp_path / "bad.toml"
    spec.write_text(toml)
    out = tmp_path / "out"
    assert cli.main(["study", "--spec", str(spec), "--out", str(out), "--local"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("outcomes study: error: ") and message in err
    assert not out.exists()


def test_an_unreachable_scheduler_is_one_line_and_writes_nothing(spec_file, tmp_path, capsys,
                                                                 monkeypatch):  # fmt: skip
    monkeypatch.setattr("outcomes.infra.cluster.CONNECT_TIMEOUT", 1)
    out = tmp_path / "out"
    assert cli.main(["study", "--spec", str(spec_file), "--out", str(out), "--scheduler",
                     "tcp://127.0.0.1:9"]) == 2  # fmt: skip
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in capsys.readouterr().err
    assert not out.exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_real_cluster_gives_the_in_process_results(spec_file, in_process, tmp_path):
    """A scheduler and two workers as separate processes on the loopback interface."""
    from distributed import Client

    dask = str(Path(sys.executable).parent / "dask")
    address = f"tcp://127.0.0.1:{_free_port()}"
    port = address.rsplit(":", 1)[1]
    logs = tmp_path / "logs"
    logs.mkdir()
    started: list[subprocess.Popen] = []

    def start(name: str, *args: str) -> None:
        with (logs / f"{name}.log").open("w") as log:
            started.append(subprocess.Popen([dask, *args], stdout=log, stderr=subprocess.STDOUT))

    try:
        start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard")
        for i in range(2):
            start(f"worker{i}", "worker", address, "--nthreads", "1", "--no-nanny",
                  "--no-dashboard", "--host", "127.0.0.1", "--name", f"w{i}")  # fmt: skip
        deadline = time.monotonic() + 60
        while True:  # the scheduler takes a moment to listen
            try:
                with Client(address, timeout=5, set_as_default=False) as client:
                    client.wait_for_workers(2, timeout=60)
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        out = tmp_path / "cluster"
        assert cli.main(["study", "--spec", str(spec_file), "--out", str(out), "--scheduler",
                         address]) == 0  # fmt: skip
        pd.testing.assert_frame_equal(read_study(out), in_process)
    finally:
        for proc in reversed(started):  # workers first, then the scheduler
            proc.terminate()
        for proc in started:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
    assert all(proc.returncode is not None for proc in started)


def test_the_recovery_step_records_weeks_in_pain_and_the_saving_against_the_rules(tmp_path):
    # Each method's restricted mean weeks to recovery on its replicate's simulated test
    # cohort, as lifelines' Kaplan-Meier curve gives it for the same simulation, and the weeks
    # saved per 100 patients against the rules; the accuracy rows are those of the same study
    # without the step (the recovery draws have a seed of their own).
    from outcomes.analysis.survival import KaplanMeierByGroup
    from outcomes.engine.cohort import feature_columns, generate
    from outcomes.engine.recovery import simulate_policies, stack
    from outcomes.triage.oracle import BayesOracle
    from outcomes.triage.rules import RulesTriage

    study = {"replicates": 1, "seed": 3, "methods": ["rules", "oracle"]}
    grid = {"n_test": [400]}
    with_recovery = parse_spec({"study": {**study, "recovery": True}, "grid": grid})
    run_study(with_recovery, tmp_path / "r", local=True)
    results = read_study(tmp_path / "r").set_index(["method", "metric"])["value"]
    run_study(parse_spec({"study": study, "grid": grid}), tmp_path / "plain", local=True)
    plain = read_study(tmp_path / "plain").set_index(["method", "metric"])["value"]
    pd.testing.assert_series_equal(results.loc[plain.index], plain)

    _, test_seed, _, recovery_seed = replicate_seeds(3, 0, 0)
    test = generate(400, seed=test_seed)
    features = test[feature_columns()]
    calls = {"rules": RulesTriage().fit(features.head(1)).predict(features),
             "oracle": BayesOracle().fit(test).predict(features)}  # fmt: skip
    sims = simulate_policies(test, calls, seed=recovery_seed, visits=False)
    expected = KaplanMeierByGroup("policy").fit(stack(sims)).rmst()
    for method in ("rules", "oracle"):
        assert results[(method, "rmst_weeks")] == pytest.approx(expected[method], abs=1e-9)
    saved = 100 * (expected["rules"] - expected["oracle"])
    assert results[("oracle", "weeks_saved_per_100")] == pytest.approx(saved, abs=1e-7)
    assert ("rules", "weeks_saved_per_100") not in results.index


def test_recovery_must_be_true_or_false():
    with pytest.raises(SpecError, match=r"\[study\] recovery must be true or false, got 'yes'"):
        parse_spec({"study": {"replicates": 1, "recovery": "yes"}, "grid": {"n_test": [100]}})
