"""A team's own data: the pipeline that evaluates a team's triage calls beside the suite's.

Reading and validating a team's files is the tables layer's job
(:func:`outcomes.tables.records.read_patients`,
:func:`outcomes.tables.predictions.read_predictions`, the errors and column matching of
:mod:`outcomes.tables.files`, the data dictionary of :mod:`outcomes.tables.dictionary`); they
are re-exported here, so ``from outcomes.analysis.userdata import read_patients`` keeps
working. This module holds what is done with the records once read: the team's calls beside
the rules' and a synthetic-trained model's (:func:`compare_calls`), the tables the metrics
read (:func:`scoring_table`, :func:`probability_tables`), in bounded memory for millions of
patients, and the template and demo files a team starts from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from outcomes.analysis import evaluate as ev
from outcomes.analysis.intervals import wilson_interval
from outcomes.engine.cohort import feature_columns, generate
from outcomes.infra.io import write_table
from outcomes.infra.progress import progress_bar
from outcomes.knowledge import load_knowledge
from outcomes.knowledge.red_flags import red_flag_columns
from outcomes.tables.dictionary import data_dictionary, data_dictionary_markdown
from outcomes.tables.files import (
    CSV_BLOCK_BYTES,
    MAX_COLUMNS,
    MAX_HEADER_BYTES,
    PARQUET_BATCH_ROWS,
    readable_file,
)
from outcomes.tables.predictions import (
    PROBABILITY_PREFIX,
    SUM_TOLERANCE,
    TRUTH_IN_PREDICTIONS,
    read_predictions,
)
from outcomes.tables.problems import (
    FINDING_PREFIXES,
    MAX_ROWS_SHOWN,
    DataValidationError,
    InputWarning,
    match_columns,
)
from outcomes.tables.records import (
    FALSE_TEXT,
    MISSING_TEXT,
    REQUIRABLE,
    TRUE_TEXT,
    read_patients,
)
from outcomes.tables.schema import column_roles
from outcomes.triage.models import fit_model
from outcomes.triage.oracle import BayesOracle
from outcomes.triage.rules import RulesTriage

__all__ = [
    "BATCH_ROWS",
    "CSV_BLOCK_BYTES",
    "DEMO_FLATTEN",
    "DEMO_NOISE",
    "FALSE_TEXT",
    "FINDING_PREFIXES",
    "MAX_COLUMNS",
    "MAX_HEADER_BYTES",
    "MAX_ROWS_SHOWN",
    "MISSING_TEXT",
    "PARQUET_BATCH_ROWS",
    "PROBABILITY_PREFIX",
    "REQUIRABLE",
    "SUM_TOLERANCE",
    "TRUE_TEXT",
    "TRUTH_IN_PREDICTIONS",
    "DataValidationError",
    "InputWarning",
    "compare_calls",
    "data_dictionary",
    "data_dictionary_markdown",
    "demo_files",
    "match_columns",
    "probability_tables",
    "read_patients",
    "read_predictions",
    "readable_file",
    "scoring_table",
    "shared_text",
    "template_frame",
    "write_template",
]

# --------------------------------------------------------------------------------------------
# The team's calls beside the rules and a model, for any number of patients

#: Patients triaged per step by :func:`compare_calls` (bounds the memory of the model's
#: feature matrix: about 50 MB at this size).
BATCH_ROWS = 100_000


def compare_calls(
    patients: pd.DataFrame,
    predictions: pd.DataFrame,
    *,
    n_train: int = 20_000,
    seed: int = 0,
    batch_rows: int = BATCH_ROWS,
) -> dict[str, np.ndarray]:
    """A team's calls, the rules' and a synthetic-trained boosted model's, in bounded memory.

    The team's own calls, the rules and a boosted model trained on ``n_train`` synthetic
    patients of the team's most common setting (the one team-evaluation pipeline of the
    suite); the patients are triaged ``batch_rows`` at a time, so the calls are those of one
    batch (tested) without the feature matrix of five million patients (2.4 GB).

    Parameters
    ----------
    patients, predictions
        :func:`read_patients` and :func:`read_predictions` of the team's files.
    n_train : int, optional
        Synthetic patients the boosted model is trained on.
    seed : int, optional
        Seed of the synthetic patients and of the model.
    batch_rows : int, optional
        Patients triaged at a time.

    Returns
    -------
    dict
        ``your triage``, ``rules`` and ``boosted (synthetic)``: one pathway per patient each.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> team = generate(300, seed=5)
    >>> calls = compare_calls(team, pd.DataFrame({"pathway": team["pathway"]}), n_train=1000,
    ...                       batch_rows=128)
    >>> {name: len(c) for name, c in calls.items()}
    {'your triage': 300, 'rules': 300, 'boosted (synthetic)': 300}
    """
    if batch_rows < 1:
        raise ValueError(f"batch_rows must be >= 1, got {batch_rows}")
    counts = patients["setting"].value_counts()
    setting = min(str(s) for s in counts.index[counts == counts.max()])  # as Series.mode()
    model = fit_model("boosted", generate(n_train, seed=seed, setting=setting), seed=seed)
    features = feature_columns()
    rules = RulesTriage().fit(patients.iloc[:batch_rows][features])
    n = len(patients)
    out = {name: np.empty(n, dtype=object) for name in ("rules", "boosted (synthetic)")}
    starts = range(0, n, batch_rows)
    for start in progress_bar(starts, desc="triage", unit="batch", min_total=10):
        batch = patients.iloc[start : start + batch_rows][features]  # rows first: no copy of all
        out["rules"][start : start + len(batch)] = rules.predict(batch)
        out["boosted (synthetic)"][start : start + len(batch)] = model.predict(batch)
    return {"your triage": shared_text(predictions["pathway"]), **out}


def shared_text(values: pd.Series) -> np.ndarray:
    """Values as an object array of text in which equal values are one Python string.

    ``Series.astype(str)`` on a categorical makes a new string per row (about 130 MB per
    million patients); this takes the category names instead (8 bytes per row).

    Parameters
    ----------
    values
        A column; a categorical one must have no missing value.

    Returns
    -------
    numpy.ndarray
        Object array of ``str``, one per row.

    Examples
    --------
    >>> out = shared_text(pd.Series(["hip", "spinal", "hip"], dtype="category"))
    >>> out.tolist(), out[0] is out[2]
    (['hip', 'spinal', 'hip'], True)
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        names = np.asarray([str(c) for c in values.cat.categories], dtype=object)
        codes = values.cat.codes.to_numpy()
        if (codes < 0).any():
            raise ValueError(f"column {values.name!r} has missing values")
        return names[codes]
    return np.asarray(values.astype(str), dtype=object)


def scoring_table(patients: pd.DataFrame) -> pd.DataFrame:
    """What the metric and safety tables read of the patients: the confirmed ``pathway`` (as
    :func:`shared_text`) and the red flags, without copying the rest of the table.

    :func:`outcomes.analysis.evaluate.evaluate_methods` and
    :func:`outcomes.analysis.evaluate.safety_by_method` give the same tables with it as with
    ``patients``, for a fraction of the memory when the patients are millions.

    Parameters
    ----------
    patients
        A patients table with the confirmed ``pathway``.

    Returns
    -------
    pandas.DataFrame
        ``pathway`` and the red-flag columns present, indexed like ``patients``.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> list(scoring_table(generate(5, seed=1)).columns)[:2]
    ['pathway', 'rf_bowel_bladder']
    """
    # Only the knowledge base's red flags: a team's extra "rf_..." column is not one.
    flags = {c: patients[c] for c in red_flag_columns() if c in patients.columns}
    table = pd.DataFrame({"pathway": shared_text(patients["pathway"]), **flags}, copy=False)
    return table.set_axis(patients.index)


def probability_tables(
    truth: Any, predictions: pd.DataFrame, *, batch_rows: int = BATCH_ROWS
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Brier scores and reliability bins of a team's ``p_<pathway>`` columns, in bounded memory.

    :func:`outcomes.analysis.evaluate.brier_scores` and
    :func:`outcomes.analysis.evaluate.calibration_table` run on ``batch_rows`` patients at a time
    and their sums are combined: the same tables
    as one call on every patient (tested), without the matrices a single call builds for
    millions of patients.

    Parameters
    ----------
    truth
        The confirmed pathway of each patient.
    predictions
        :func:`read_predictions` of a file with probabilities.
    batch_rows : int, optional
        Patients scored at a time.

    Returns
    -------
    (brier, reliability)
        As :func:`outcomes.analysis.evaluate.brier_scores` and
        :func:`outcomes.analysis.evaluate.calibration_table`.

    Examples
    --------
    >>> calls = pd.DataFrame({"p_hip": [0.9, 0.2, 0.6], "p_spinal": [0.1, 0.8, 0.4]})
    >>> brier, bins = probability_tables(["hip", "spinal", "spinal"], calls, batch_rows=2)
    >>> brier["brier"].round(3).tolist()
    [0.137, 0.137, 0.273]
    """
    columns = [c for c in predictions.columns if str(c).startswith(PROBABILITY_PREFIX)]
    if not columns:
        raise ValueError(f"no probability columns ({PROBABILITY_PREFIX}<pathway>) to score")
    classes = [c.removeprefix(PROBABILITY_PREFIX) for c in columns]
    truth = pd.Series(truth).reset_index(drop=True)
    n = len(truth)
    sums, parts = None, []
    for start in range(0, n, batch_rows):
        t = truth.iloc[start : start + batch_rows]
        p = predictions.iloc[start : start + batch_rows][columns].to_numpy(dtype=float)
        brier = ev.brier_scores(t, p, classes)
        sums = brier["brier"] * len(t) if sums is None else sums + brier["brier"] * len(t)
        part = ev.calibration_table(t, p, classes)
        parts.append(
            part.assign(
                sum_p=part["mean_predicted"] * part["n"], hits=np.rint(part["observed"] * part["n"])
            )
        )
    # Emergency first, then the classes' order, bins ascending: as calibration_table orders.
    order = {c: i for i, c in enumerate(sorted(classes, key=lambda c: c != ev.EMERGENCY))}
    if sums is None:  # no patients: nothing to concatenate or score
        raise ValueError("no patients to score")
    bins = pd.concat(parts).groupby(["pathway", "bin"], sort=False)[["n", "sum_p", "hits"]].sum()
    bins = bins.reset_index().assign(rank=lambda f: f["pathway"].map(order))
    bins = bins.sort_values(["rank", "bin"]).reset_index(drop=True)
    intervals = [
        wilson_interval(int(h), int(k)) for h, k in zip(bins["hits"], bins["n"], strict=True)
    ]
    reliability = pd.DataFrame(
        {
            "pathway": bins["pathway"],
            "bin": bins["bin"].astype(int),
            "mean_predicted": bins["sum_p"] / bins["n"],
            "observed": bins["hits"] / bins["n"],
            "low": [lo for lo, _ in intervals],
            "high": [hi for _, hi in intervals],
            "n": bins["n"].astype(int),
        }
    )
    gap = reliability["n"] * (reliability["mean_predicted"] - reliability["observed"]).abs()
    error = gap.groupby(reliability["pathway"]).sum() / max(n, 1)
    error[ev.OVERALL] = error.mean()  # classwise ECE, as ev.brier_scores gives the "all" row
    brier = brier.assign(
        brier=sums / max(n, 1), calibration_error=brier["pathway"].map(error).astype(float)
    )
    return brier, reliability


# --------------------------------------------------------------------------------------------
# Template and data dictionary


def template_frame(n_examples: int = 3, seed: int = 0) -> pd.DataFrame:
    """Example rows of a team's ``patients`` file: every column a team may supply.

    Parameters
    ----------
    n_examples
        Rows, at least 1 (generated patients, ids ``P0001``...).
    seed
        Seed of the generated patients.

    Returns
    -------
    pandas.DataFrame
        Every column that is not the generator's alone, with the generator's dtypes.

    Examples
    --------
    >>> template_frame(2).shape[0]
    2
    """
    if n_examples < 1:
        raise ValueError(f"n_examples must be >= 1, got {n_examples}")
    roles = column_roles()
    example = generate(n_examples, seed=seed)
    keep = [c for c, role in roles.items() if role != "generator only"]
    frame = example[keep].copy()
    frame["patient_id"] = [f"P{i + 1:04d}" for i in range(n_examples)]
    return frame


def write_template(path: str | Path, n_examples: int = 3) -> Path:
    """Write a template (header and a few example rows) atomically.

    Parameters
    ----------
    path
        A ``.csv`` or ``.parquet`` file to write.
    n_examples
        Example rows (:func:`template_frame`).

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = write_template(pathlib.Path(tempfile.mkdtemp()) / "t.csv", n_examples=2)
    >>> len(out.read_text().splitlines())
    3
    """
    path = Path(path)
    if path.suffix.lower() not in (".csv", ".parquet"):
        raise ValueError(f"template must be .csv or .parquet, got {path.name!r}")
    return write_table(template_frame(n_examples), path)


#: How the demo team's judgement departs from the exact posterior: flattened to this power...
DEMO_FLATTEN = 0.5
#: ...and perturbed by normal noise of this standard deviation on the log scale (seeded).
DEMO_NOISE = 2.0


def demo_files(folder: str | Path, n: int = 400, seed: int = 20261122) -> tuple[Path, Path]:
    """Write the demo ``patients`` and ``predictions`` CSVs of notebook 04 into ``folder``.

    The predictions imitate a team whose clinical judgement is sound but noisy: their
    ``p_<pathway>`` are the exact posterior (:class:`outcomes.triage.oracle.BayesOracle`) flattened
    (to the power :data:`DEMO_FLATTEN`) and perturbed by seeded noise on the log scale
    (standard deviation :data:`DEMO_NOISE`), rounded to 3 decimals; their call is the most
    probable pathway. So they are right more often than the rules and less often than the
    oracle, and their probabilities are slightly over-confident, as a real team's often are
    (a reliability curve that rises with the probability, a little below the diagonal).

    Parameters
    ----------
    folder
        Where to write ``demo_patients.csv`` and ``demo_predictions.csv``.
    n
        Patients.
    seed
        Seed of the cohort and of the team's noise.

    Returns
    -------
    (patients, predictions)
        The two paths written.

    Examples
    --------
    >>> import tempfile
    >>> patients, calls = demo_files(tempfile.mkdtemp(), n=50)
    >>> table = read_predictions(calls, read_patients(patients))
    >>> len(table), list(table.columns)[:2]
    (50, ['pathway', 'p_emergency'])
    """
    folder = Path(folder)
    cohort = generate(n, seed=seed)
    roles = column_roles()
    keep = [c for c, role in roles.items() if role != "generator only"]
    patients = cohort[keep].copy()
    pathways = list(load_knowledge().pathways)
    oracle = BayesOracle().fit(cohort)
    posterior = pd.DataFrame(oracle.predict_proba(cohort), columns=oracle.classes_)[pathways]
    rng = np.random.default_rng(seed)
    logit = DEMO_FLATTEN * np.log(np.clip(posterior.to_numpy(), 1e-9, 1.0))
    logit += rng.normal(0.0, DEMO_NOISE, size=logit.shape)
    judged = np.exp(logit - logit.max(axis=1, keepdims=True))
    judged /= judged.sum(axis=1, keepdims=True)
    choice = judged.argmax(axis=1)
    calls = np.array(pathways, dtype=object)[choice]
    called = np.eye(len(pathways))[choice]
    proba = np.round(judged, 3)
    proba += called * (1.0 - proba.sum(axis=1, keepdims=True))  # rounding left on the call
    predictions = pd.DataFrame({"patient_id": cohort["patient_id"], "pathway": calls})
    for j, pathway in enumerate(pathways):
        predictions[f"{PROBABILITY_PREFIX}{pathway}"] = np.round(proba[:, j], 3)
    return (
        write_table(patients, folder / "demo_patients.csv"),
        write_table(predictions, folder / "demo_predictions.csv"),
    )
