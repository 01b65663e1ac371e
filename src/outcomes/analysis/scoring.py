"""Out-of-core scoring: a triage method over a partitioned cohort, on Dask, in bounded memory.

:func:`score_partitioned` reads a partitioned cohort (:mod:`outcomes.engine.partitioned`) with
``dask.dataframe.read_parquet``, has the method assign a pathway in each partition
(``map_partitions``), writes the assignments as a partitioned dataset beside the cohort, and
sums per-partition counts: the confusion matrix and the 8 red-flag safety cells. The metric
and safety tables are computed from those counts alone
(:func:`outcomes.analysis.evaluate.metric_table_from_confusion`,
:func:`outcomes.analysis.evaluate.safety_table_from_counts`), so no step ever holds the whole table,
and they equal the in-memory tables of the same patients, bootstrap intervals included.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from outcomes.analysis.evaluate import (
    EMERGENCY,
    metric_table_from_confusion,
    pathway_codes,
    predictions_of,
    red_flag_recorded,
    safety_cells,
    safety_table_from_counts,
)
from outcomes.engine.cohort import feature_columns, record_generated_with
from outcomes.engine.partitioned import dataset_metadata, partition_paths
from outcomes.infra.io import partial_name, remove_stale_partials
from outcomes.knowledge import load_knowledge
from outcomes.knowledge.costs import load_costs
from outcomes.triage.oracle import BayesOracle
from outcomes.triage.rules import RulesTriage

#: Columns of a written predictions dataset: the format ``outcomes evaluate --predictions``
#: reads (patient id, assigned pathway).
PREDICTION_COLUMNS = ("patient_id", "pathway")


@dataclass(frozen=True)
class ScoreResult:
    """What :func:`score_partitioned` found: the metric and safety tables, the number of
    patients scored, and where the predictions were written (or ``None``).

    Parameters
    ----------
    metrics : pandas.DataFrame
        Accuracy and per-pathway metrics over every patient scored.
    safety : pandas.DataFrame
        Red-flag safety counts and rates.
    n : int
        Patients scored.
    predictions : pathlib.Path or None
        Folder of the written predictions, or None when none were written.

    Examples
    --------
    >>> import pandas as pd
    >>> ScoreResult(pd.DataFrame(), pd.DataFrame(), 0, None).n
    0
    """

    metrics: pd.DataFrame
    safety: pd.DataFrame
    n: int
    predictions: Path | None


def predictions_folder(cohort: str | Path, method: str) -> Path:
    """Default folder of a method's predictions: beside the cohort's folder.

    Parameters
    ----------
    cohort : str or pathlib.Path
        Folder of the partitioned cohort.
    method : str
        Name of the triage method (``"rules"``, ``"oracle"``).

    Returns
    -------
    pathlib.Path
        ``<cohort>_<method>_predictions`` in the cohort's parent folder.

    Examples
    --------
    >>> predictions_folder("data/big", "rules").as_posix()
    'data/big_rules_predictions'
    """
    cohort = Path(cohort)
    return cohort.parent / f"{cohort.name}_{method}_predictions"


def _labels() -> tuple[list[str], list[str]]:
    """Pathways in the metric table's order and in the cost matrix's order."""

    return list(load_knowledge().pathways), list(load_costs().index)


def _predict_partition(frame: pd.DataFrame, method: Any, labels: list[str]) -> pd.DataFrame:
    """One partition's patient ids, truth, assigned pathway and red-flag indicator."""

    kind = pd.CategoricalDtype(labels)
    return pd.DataFrame(
        {
            "patient_id": frame["patient_id"].to_numpy(),
            "truth": pd.Categorical(frame["pathway"].astype(str), dtype=kind),
            "pathway": pd.Categorical(predictions_of(method, frame), dtype=kind),
            "red_flag": red_flag_recorded(frame),
        },
        index=frame.index,
    )


def _count_partition(frame: pd.DataFrame, labels: list[str], cost_order: list[str]) -> pd.DataFrame:
    """One row of counts: the confusion matrix (metric order), then again in the cost
    matrix's order, then the 8 safety cells. Unknown pathways are an error naming them."""

    k = len(labels)
    true = pathway_codes(frame["truth"], labels, "the cohort's pathway")
    pred = pathway_codes(frame["pathway"], labels, "the method's pathway")
    conf = np.bincount(true * k + pred, minlength=k * k)
    order = np.array([labels.index(x) for x in cost_order])
    conf_cost = conf.reshape(k, k)[np.ix_(order, order)].ravel()
    e = labels.index(EMERGENCY)
    cells = np.bincount(safety_cells(true == e, pred == e, frame["red_flag"].to_numpy()),
                        minlength=8)  # fmt: skip
    return pd.DataFrame([np.concatenate([conf, conf_cost, cells])], columns=_count_columns(k))


def _count_columns(k: int) -> list[str]:
    return ([f"c{i}" for i in range(k * k)] + [f"k{i}" for i in range(k * k)]
            + [f"s{i}" for i in range(8)])  # fmt: skip


@contextlib.contextmanager
def _atomic_folder(target: Path):
    """A temporary folder beside ``target``, renamed onto it only on success (an earlier
    folder there is replaced whole)."""

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=partial_name(target), dir=target.parent))
    try:
        yield tmp
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=partial_name(target), dir=target.parent))
            os.replace(target, old / "previous")
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    remove_stale_partials(target)


def score_partitioned(
    folder: str | Path,
    method: Any,
    *,
    predictions: str | Path | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    scheduler: str = "threads",
) -> ScoreResult:
    """Score a partitioned cohort with a fitted triage method, out of core.

    Parameters
    ----------
    folder
        A complete partitioned cohort (:func:`outcomes.engine.partitioned.write_partitioned`).
    method
        A fitted triage method with ``predict`` on the feature columns (the rules, the
        oracle, a saved model).
    predictions
        Folder to write the assigned pathways to (one Parquet file per partition, columns
        ``patient_id``, ``pathway``), atomically; ``None`` writes none.
    n_boot, seed
        Bootstrap replicates and their seed, as in :func:`outcomes.analysis.evaluate.metric_table`.
    scheduler
        Dask scheduler for the partitions: ``"threads"`` (default), ``"processes"`` or
        ``"synchronous"``. The tables do not depend on it.

    Returns
    -------
    ScoreResult
        Equal to :func:`outcomes.analysis.evaluate.metric_table` and
        :func:`outcomes.analysis.evaluate.safety_table` (with ``patients``) on the same patients.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from outcomes.engine.partitioned import write_partitioned
    >>> from outcomes.triage.rules import RulesTriage
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "c"
    >>> _ = write_partitioned(out, 3000, seed=1, chunk_size=1000)
    >>> from outcomes.engine.cohort import feature_columns, generate
    >>> rules = RulesTriage().fit(generate(10, seed=1)[feature_columns()])
    >>> result = score_partitioned(out, rules, n_boot=50)
    >>> from outcomes.analysis.evaluate import metric_table
    >>> df = generate(3000, seed=1)
    >>> result.metrics.equals(metric_table(df["pathway"], rules.predict(df[feature_columns()]),
    ...                                    n_boot=50))
    True
    """
    import dask
    import dask.dataframe as dd

    paths = [str(p) for p in partition_paths(folder)]
    labels, cost_order = _labels()
    k = len(labels)
    columns = ["patient_id", *feature_columns(), "pathway"]
    kind = pd.CategoricalDtype(labels)
    predicted_meta = pd.DataFrame({
        "patient_id": pd.Series(dtype="string"), "truth": pd.Series(dtype=kind),
        "pathway": pd.Series(dtype=kind), "red_flag": pd.Series(dtype=bool)})  # fmt: skip
    count_meta = pd.DataFrame({c: pd.Series(dtype=np.int64) for c in _count_columns(k)})
    with dask.config.set({"dataframe.convert-string": False, "scheduler": scheduler}):
        cohort = dd.read_parquet(paths, columns=columns)
        scored = cohort.map_partitions(_predict_partition, method, labels, meta=predicted_meta)
        counts = scored.map_partitions(_count_partition, labels, cost_order, meta=count_meta)
        total = counts.sum()
        if predictions is None:
            (summed,) = dask.compute(total)
        else:
            target = Path(predictions)
            with _atomic_folder(target) as tmp:
                write = scored[list(PREDICTION_COLUMNS)].to_parquet(
                    tmp, write_index=False, compute=False, name_function=_part_name,
                    write_metadata_file=True)  # fmt: skip
                summed, _ = dask.compute(total, write)
    values = summed.to_numpy(dtype=np.int64)
    confusion = values[: k * k].reshape(k, k)
    confusion_cost = values[k * k : 2 * k * k].reshape(k, k)
    cells = values[2 * k * k :]
    metrics = metric_table_from_confusion(confusion, labels=labels, n_boot=n_boot, seed=seed)
    safety = safety_table_from_counts(cells, confusion_cost, red_flags=True, costs=load_costs(),
                                      n_boot=n_boot, seed=seed)  # fmt: skip
    return ScoreResult(metrics, safety, int(confusion.sum()),
                       None if predictions is None else Path(predictions))  # fmt: skip


def _part_name(i: int) -> str:
    return f"part-{i:05d}.parquet"


def fit_on_head(name: str, folder: str | Path, rows: int = 1000) -> Any:
    """The rules or the oracle, fitted (they learn nothing from the rows but the pathways'
    names and, for the oracle, the cohort's recorded setting and overrides) on the first
    ``rows`` patients of a partitioned cohort.

    Parameters
    ----------
    name : {"rules", "oracle"}
        The method.
    folder : str or pathlib.Path
        Folder of the partitioned cohort.
    rows : int, default 1000
        Patients read from the first partitions.

    Returns
    -------
    object
        The fitted scikit-learn classifier.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from outcomes.engine.partitioned import write_partitioned
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "c"
    >>> _ = write_partitioned(out, 500, seed=1, chunk_size=200, exam_missing_rate=0.3)
    >>> fit_on_head("oracle", out).overrides_
    {'exam_missing_rate': 0.3}
    """

    head = pd.read_parquet(partition_paths(folder)[0]).head(rows)
    meta = dataset_metadata(folder)
    record_generated_with(head, meta["setting"], meta["overrides"])
    if name == "rules":
        return RulesTriage().fit(head[feature_columns()])
    if name == "oracle":
        return BayesOracle().fit(head)
    raise ValueError(f"fit_on_head fits the rules or the oracle, not {name!r}")
