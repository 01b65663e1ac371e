"""Simulation studies: replicates of generate -> fit -> evaluate over a grid of parameters.

A study is described by a TOML spec (see :data:`SPEC_HELP`, also ``outcomes study --help``)::

    [study]
    replicates = 200          # per grid point (>= 1)
    seed = 1                  # the study's seed (>= 0)
    methods = ["rules", "logistic"]   # rules, oracle, logistic, boosted
    block = 10                # replicates per result part (the unit of resuming)
    recovery = false          # true: also simulate the test cohort's recovery per method

    [grid]                    # every combination is a grid point; each list non-empty
    n_train = [500, 2000]     # training patients (learned methods)
    n_test = [1000]           # test patients
    setting = ["primary_care"]
    exam_missing_rate = [0.2, 0.5]        # any generator override (outcomes.engine.model.OVERRIDES)
    case_mix = [{}, {disc_herniation = 0.7, piriformis_syndrome = 0.3}]   # {} = the setting's

Replicate ``r`` of grid point ``c`` draws its training and test cohorts and fits its models
with seeds spawned from ``SeedSequence(seed, spawn_key=(c, r))``, so its results do not
depend on which worker ran it, in what order, or on how many replicates run at once.

With ``recovery = true`` each replicate then simulates its test cohort's year of recovery
under each method's calls (:func:`outcomes.engine.recovery.simulate_policies`: common random
numbers from a fourth spawned seed, so methods differ only where their calls differ) and
records each method's restricted mean weeks to recovery and, paired with the rules, the
weeks of pain it saves per 100 patients: the study engine then sizes the suite's headline
question as well as its accuracy question.

:func:`run_study` runs the blocks of replicates on ``dask.distributed`` (a ``LocalCluster``
of one single-threaded worker per core by default, or an existing scheduler by address: the
same code path), or serially in this process (``local=True``; the same results). Results are
a tidy table, one row per replicate x method x metric, written as one Parquet part per
finished block beside the spec it ran (``_spec.json``): an interrupted study resumes where it
stopped, and a different spec aimed at the same folder is refused.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from outcomes.analysis.study_spec import METHODS as METHODS
from outcomes.analysis.study_spec import SPEC_HELP as SPEC_HELP
from outcomes.analysis.study_spec import STUDY_KEYS, generator_args
from outcomes.analysis.study_spec import Spec as Spec
from outcomes.analysis.study_spec import SpecError as SpecError
from outcomes.analysis.study_spec import parse_spec as parse_spec
from outcomes.analysis.study_spec import read_spec as read_spec

SPEC_NAME = "_spec.json"
#: Metrics recorded for each method in each replicate.
METHOD_METRICS = ("accuracy", "balanced_accuracy", "macro_f1", "emergency_sensitivity",
                  "emergency_sensitivity_low", "emergency_sensitivity_high", "emergencies",
                  "correct")  # fmt: skip
#: Metrics recorded for each method other than the rules, paired with the rules on the same
#: test patients (McNemar's exact test on the discordant patients).
PAIRED_METRICS = ("only_method_right", "only_rules_right", "mcnemar_p")
#: Recorded for each method when the spec asks for recovery (``recovery = true``): restricted
#: mean weeks to recovery over the follow-up year.
RECOVERY_METRICS = ("rmst_weeks",)
#: Recorded for each method other than the rules when the spec asks for recovery: 100 x (the
#: rules' restricted mean weeks - the method's), on the same simulated patients.
PAIRED_RECOVERY_METRICS = ("weeks_saved_per_100",)
RESULT_COLUMNS = ("cell", "replicate", "method", "metric", "value")


# --------------------------------------------------------------------------------------------
# One block of replicates


def replicate_seeds(seed: int, cell: int, replicate: int) -> tuple[int, int, int, int]:
    """Seeds of the training cohort, the test cohort, the models and the recovery draws of one
    replicate, spawned from ``SeedSequence(seed, spawn_key=(cell, replicate))``.

    Parameters
    ----------
    seed : int
        The study's seed.
    cell : int
        Index of the grid point.
    replicate : int
        Index of the replicate.

    Returns
    -------
    tuple of int
        Training-cohort, test-cohort, model and recovery seeds (the first three are those of
        studies without recovery: adding the step leaves their results unchanged).

    Examples
    --------
    >>> replicate_seeds(1, 0, 0) == replicate_seeds(1, 0, 0) != replicate_seeds(1, 0, 1)
    True
    """
    state = np.random.SeedSequence(seed, spawn_key=(cell, replicate)).generate_state(4)
    train, test, models, recovery = (int(s) for s in state)
    return train, test, models, recovery


def run_replicate(spec: Spec, cell: int, replicate: int) -> pd.DataFrame:
    """One replicate: generate a training and a test cohort, fit each method, evaluate it
    (and compare it with the rules, paired), as tidy rows (:data:`RESULT_COLUMNS`).

    Parameters
    ----------
    spec : Spec
        The study.
    cell : int
        Index of the grid point.
    replicate : int
        Index of the replicate.

    Returns
    -------
    pandas.DataFrame
        Columns ``cell``, ``replicate``, ``method``, ``metric``, ``value``.

    Examples
    --------
    >>> spec = parse_spec({"study": {"replicates": 2, "methods": ["rules"]},
    ...                    "grid": {"n_test": [200]}})
    >>> rows = run_replicate(spec, 0, 0)
    >>> sorted(set(rows["method"])), len(rows) == len(METHOD_METRICS)
    (['rules'], True)
    """
    from scipy.stats import binomtest
    from threadpoolctl import threadpool_limits

    from outcomes.analysis import evaluate as ev
    from outcomes.engine.cohort import feature_columns, generate

    point = spec.points()[cell]
    setting, overrides = generator_args(point)
    train_seed, test_seed, model_seed, recovery_seed = replicate_seeds(spec.seed, cell, replicate)
    test = generate(point["n_test"], seed=test_seed, setting=setting, **overrides)
    truth = test["pathway"].astype(str).to_numpy()
    learned = [m for m in spec.methods if m in ("logistic", "boosted")]
    train = (generate(point["n_train"], seed=train_seed, setting=setting, **overrides)
             if learned else None)  # fmt: skip
    rows: list[tuple[str, str, float]] = []
    right: dict[str, np.ndarray] = {}
    calls: dict[str, np.ndarray] = {}
    with threadpool_limits(limits=1):
        for name in spec.methods:
            method = _fit(name, train, test, model_seed)
            predicted = np.asarray(method.predict(test[feature_columns()]), dtype=object)
            calls[name] = predicted
            right[name] = predicted == truth
            table = ev.metric_table(truth, predicted, n_boot=1).set_index(["metric", "pathway"])
            emergency = table.loc[("sensitivity", ev.EMERGENCY)]
            values = [*(table.loc[(m, ev.OVERALL), "estimate"] for m in ev.METRICS),
                      emergency["estimate"], emergency["low"], emergency["high"],
                      emergency["n"], right[name].sum()]  # fmt: skip
            rows += [(name, metric, float(v)) for metric, v in zip(METHOD_METRICS, values,
                                                                   strict=True)]  # fmt: skip
    if "rules" in right:
        for name in [m for m in spec.methods if m != "rules"]:
            only_m = int((right[name] & ~right["rules"]).sum())
            only_r = int((~right[name] & right["rules"]).sum())
            p = binomtest(only_m, only_m + only_r, 0.5).pvalue if only_m + only_r else 1.0
            rows += [
                (name, "only_method_right", float(only_m)),
                (name, "only_rules_right", float(only_r)),
                (name, "mcnemar_p", float(p)),
            ]
    if spec.recovery:
        rows += _recovery_rows(test, calls, recovery_seed)
    frame = pd.DataFrame(rows, columns=["method", "metric", "value"])
    frame.insert(0, "replicate", replicate)
    frame.insert(0, "cell", cell)
    return frame


def _recovery_rows(
    test: pd.DataFrame, calls: Mapping[str, np.ndarray], seed: int
) -> list[tuple[str, str, float]]:
    """Each method's restricted mean weeks to recovery on the simulated test cohort, and the
    weeks saved per 100 patients against the rules (when the rules are among the methods)."""
    from outcomes.analysis.survival.fits import DURATION, EVENT, follow_up_weeks
    from outcomes.analysis.survival.restricted_mean import rmst
    from outcomes.engine.recovery import simulate_policies

    simulated = simulate_policies(test, calls, seed=seed % 2**32, visits=False)
    means = {}
    for name, sim in simulated.items():
        outcomes = sim.outcomes
        horizon = follow_up_weeks(outcomes)
        durations = outcomes[DURATION].to_numpy(dtype=np.int64)
        means[name] = float(rmst(durations, outcomes[EVENT].to_numpy(dtype=bool), horizon)[0])
    rows = [(name, "rmst_weeks", value) for name, value in means.items()]
    if "rules" in means:
        rows += [(name, "weeks_saved_per_100", 100.0 * (means["rules"] - value))
                 for name, value in means.items() if name != "rules"]  # fmt: skip
    return rows


def _fit(name: str, train: pd.DataFrame | None, test: pd.DataFrame, seed: int) -> Any:
    from outcomes.engine.cohort import feature_columns

    if name == "rules":
        from outcomes.triage.rules import RulesTriage

        return RulesTriage().fit(test[feature_columns()].head(1))
    if name == "oracle":
        from outcomes.triage.oracle import BayesOracle

        return BayesOracle().fit(test)
    from outcomes.triage.models import fit_model

    assert train is not None
    return fit_model(name, train, seed=seed % 2**32)


def run_block(spec_json: Mapping[str, Any], cell: int, block: int) -> pd.DataFrame:
    """Replicates of block ``block`` of grid point ``cell`` (plain arguments: runs on any
    Dask worker).

    Parameters
    ----------
    spec_json : mapping
        The spec as :meth:`Spec.as_json` gives it.
    cell : int
        Index of the grid point.
    block : int
        Index of the block.

    Returns
    -------
    pandas.DataFrame
        The block's replicates, as :func:`run_replicate` gives them.

    Examples
    --------
    >>> spec = parse_spec({"study": {"replicates": 2, "methods": ["rules"]},
    ...                    "grid": {"n_test": [200]}})
    >>> sorted(set(run_block(spec.as_json(), 0, 0)["replicate"]))
    [0, 1]
    """
    spec = parse_spec({"study": {k: spec_json[k] for k in STUDY_KEYS if k in spec_json},
                       "grid": spec_json["grid"]})  # fmt: skip
    first = block * spec.block
    reps = range(first, min(spec.replicates, first + spec.block))
    return pd.concat([run_replicate(spec, cell, r) for r in reps], ignore_index=True)


# --------------------------------------------------------------------------------------------
# Running a study into a folder


def part_name(cell: int, block: int) -> str:
    """File name of one block's results.

    Parameters
    ----------
    cell : int
        Index of the grid point.
    block : int
        Index of the block.

    Returns
    -------
    str
        The Parquet file's name.

    Examples
    --------
    >>> part_name(2, 13)
    'part-c0002-b00013.parquet'
    """
    return f"part-c{cell:04d}-b{block:05d}.parquet"


def _blocks(spec: Spec) -> list[tuple[int, int]]:
    per_cell = -(-spec.replicates // spec.block)
    return [(c, b) for c in range(len(spec.points())) for b in range(per_cell)]


def _prepare(out: Path, spec: Spec) -> list[tuple[int, int]]:
    """The blocks still to run; the folder is checked (another spec is refused)."""
    from outcomes.infra.io import atomic_path, remove_stale_partials

    recorded = out / SPEC_NAME
    if out.exists() and not out.is_dir():
        raise SpecError(f"--out {out} is a file; a study needs a folder")
    if recorded.is_file():
        theirs = json.loads(recorded.read_text(encoding="utf-8"))
        if theirs != spec.as_json():
            differ = sorted(k for k in spec.as_json() if theirs.get(k) != spec.as_json()[k])
            raise SpecError(f"{out} holds a study of another spec (differs in "
                            f"{', '.join(differ) or 'format'}); choose another folder or "
                            "remove it")  # fmt: skip
    elif out.is_dir() and any(not p.name.startswith(".") for p in out.iterdir()):
        raise SpecError(f"{out} is not empty and holds no study ({SPEC_NAME}); choose a new or "
                        "empty folder")  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(recorded) as tmp:
        tmp.write_text(json.dumps(spec.as_json(), indent=1, sort_keys=True) + "\n")
    todo = []
    for cell, block in _blocks(spec):
        path = out / part_name(cell, block)
        remove_stale_partials(path)
        if not _readable(path):
            todo.append((cell, block))
    return todo


def _readable(path: Path) -> bool:
    import pyarrow.parquet as pq

    if not path.is_file():
        return False
    try:
        pq.read_metadata(path)
    except Exception:  # a damaged part is run again, never trusted
        return False
    return True


def _serial(spec: Spec, todo: list[tuple[int, int]]) -> Iterator[tuple[int, int, pd.DataFrame]]:
    for cell, block in todo:
        yield cell, block, run_block(spec.as_json(), cell, block)


def _on_dask(client: Any, spec: Spec, todo) -> Iterator[tuple[int, int, pd.DataFrame]]:
    from outcomes.infra.cluster import completed

    tasks = [(spec.as_json(), cell, block) for cell, block in todo]
    for index, frame in completed(client, run_block, tasks):
        cell, block = todo[index]
        yield cell, block, frame


@dataclass(frozen=True)
class StudyReport:
    """What :func:`run_study` did: the folder, blocks run now and blocks kept.

    Parameters
    ----------
    out : pathlib.Path
        The study's folder.
    ran : int
        Blocks run by this call.
    kept : int
        Blocks already done, kept.

    Examples
    --------
    >>> import pathlib
    >>> StudyReport(pathlib.Path("s"), 3, 1).ran
    3
    """

    out: Path
    ran: int
    kept: int


def run_study(
    spec: Spec,
    out: str | Path,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    local: bool = False,
    progress: bool | None = None,
) -> StudyReport:
    """Run (or resume) a study into the folder ``out``.

    Parameters
    ----------
    spec
        From :func:`read_spec` or :func:`parse_spec`.
    out
        The study's folder: made if missing; blocks already written there are kept.
    scheduler
        Address of a running Dask scheduler; ``None`` starts a ``LocalCluster`` of
        ``workers`` single-threaded workers (default one per core) for the duration.
    workers
        Workers of that local cluster.
    local
        Run the blocks one after another in this process instead (no Dask): the same results.
    progress
        Progress bar over replicates (on a terminal by default).

    Returns
    -------
    StudyReport

    Examples
    --------
    >>> import tempfile, pathlib
    >>> spec = parse_spec({"study": {"replicates": 2, "methods": ["rules"]},
    ...                    "grid": {"n_test": [200]}})
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "s"
    >>> run_study(spec, out, local=True).ran, run_study(spec, out, local=True).kept
    (1, 1)
    >>> len(read_study(out)) == 2 * len(METHOD_METRICS)
    True
    """
    from outcomes.infra.cluster import connect
    from outcomes.infra.io import write_table
    from outcomes.infra.progress import progress_bar

    out = Path(out)
    with contextlib.ExitStack() as stack:
        client = None
        if not local:  # an unreachable scheduler fails before the folder is touched
            client = stack.enter_context(connect(scheduler, workers))
        todo = _prepare(out, spec)
        blocks = _blocks(spec)
        results = _serial(spec, todo) if client is None else _on_dask(client, spec, todo)
        total = spec.replicates * len(spec.points())
        with progress_bar(total=total, desc="study", unit="replicates", show=progress) as bar:
            bar.update(sum(_block_size(spec, b) for c, b in blocks if (c, b) not in todo))
            for cell, block, frame in results:
                write_table(frame, out / part_name(cell, block), "parquet",
                            {"study": spec.as_json(), "cell": cell, "block": block})  # fmt: skip
                bar.update(_block_size(spec, block))
    return StudyReport(out, len(todo), len(blocks) - len(todo))


def _block_size(spec: Spec, block: int) -> int:
    return min(spec.block, spec.replicates - block * spec.block)


def read_study(out: str | Path) -> pd.DataFrame:
    """A study's results: one row per replicate x method x metric, with the grid point's
    parameters (``case_mix`` and other mappings as JSON text), sorted by cell, replicate,
    method and metric. Only finished blocks are read (a study still running, or interrupted,
    gives what is done).

    Parameters
    ----------
    out : str or pathlib.Path
        The study's folder.

    Returns
    -------
    pandas.DataFrame
        Columns ``cell``, the grid's parameters, ``replicate``, ``method``, ``metric``,
        ``value``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> spec = parse_spec({"study": {"replicates": 1, "methods": ["rules"]},
    ...                    "grid": {"n_test": [200]}})
    >>> out = run_study(spec, pathlib.Path(tempfile.mkdtemp()) / "s", local=True).out
    >>> list(read_study(out).columns)
    ['cell', 'n_train', 'n_test', 'setting', 'replicate', 'method', 'metric', 'value']
    """
    out = Path(out)
    recorded = out / SPEC_NAME
    if not recorded.is_file():
        raise SpecError(f"{out} holds no study ({SPEC_NAME})")
    spec_json = json.loads(recorded.read_text(encoding="utf-8"))
    study = {k: spec_json[k] for k in STUDY_KEYS if k in spec_json}
    spec = parse_spec({"study": study, "grid": spec_json["grid"]})
    parts = [out / part_name(c, b) for c, b in _blocks(spec)]
    frames = [pd.read_parquet(p) for p in parts if _readable(p)]
    if not frames:
        return pd.DataFrame(columns=list(RESULT_COLUMNS))
    results = pd.concat(frames, ignore_index=True)
    points = pd.DataFrame(spec.points())
    for column in points.columns:
        if points[column].map(lambda v: isinstance(v, dict | list)).any():
            points[column] = points[column].map(lambda v: json.dumps(v, sort_keys=True))
    points.insert(0, "cell", range(len(points)))
    results = results.merge(points, on="cell", how="left")
    ordered = ["cell", *points.columns[1:], "replicate", "method", "metric", "value"]
    results = results[ordered].sort_values(["cell", "replicate", "method", "metric"])
    return results.reset_index(drop=True)


def summarise(results: pd.DataFrame, metric: str = "accuracy") -> pd.DataFrame:
    """Mean, standard deviation and count of one metric by grid point and method.

    Parameters
    ----------
    results : pandas.DataFrame
        From :func:`read_study`.
    metric : str, default "accuracy"
        The metric summarised.

    Returns
    -------
    pandas.DataFrame
        The grid point's columns, ``method``, ``mean``, ``sd`` and ``replicates``.

    Examples
    --------
    >>> r = pd.DataFrame({"cell": [0, 0], "n_test": [100, 100], "replicate": [0, 1],
    ...                   "method": ["rules"] * 2, "metric": ["accuracy"] * 2,
    ...                   "value": [0.5, 0.7]})
    >>> summarise(r).round(3).to_dict("records")
    [{'cell': 0, 'n_test': 100, 'method': 'rules', 'mean': 0.6, 'sd': 0.141, 'replicates': 2}]
    """
    keys = [c for c in results.columns if c not in ("replicate", "metric", "value")]
    chosen = results[results["metric"] == metric]
    table = chosen.groupby(keys, sort=False)["value"].agg(["mean", "std", "count"])
    return table.reset_index().rename(columns={"std": "sd", "count": "replicates"})
