"""The ceiling: the best triage accuracy any method can reach on a cohort (the Bayes oracle's),
and who the oracle misses (the records that overlap across pathways)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from outcomes.analysis.describe import format_estimate
from outcomes.analysis.intervals import wilson_interval
from outcomes.triage.oracle import BayesOracle


def ceiling(patients: pd.DataFrame, oracle: BayesOracle | None = None) -> pd.DataFrame:
    """The best achievable triage accuracy on a cohort: the oracle's, overall and per pathway.

    Parameters
    ----------
    patients
        A generated ``patients`` table (needs the true ``pathway``).
    oracle
        A fitted oracle; by default ``BayesOracle().fit(patients)``: each row's setting, and
        the generator overrides ``patients`` recorded
        (:func:`outcomes.engine.cohort.generated_with`).

    Returns
    -------
    pandas.DataFrame
        One row for all patients and one per true pathway: ``patients``, ``correct``,
        ``accuracy`` with a 95% Wilson interval (``ci_low``, ``ci_high``), and ``summary``
        formatted as "0.96 (0.95–0.97)" or "no patients".

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> table = ceiling(generate(2000, seed=3))
    >>> table.index[0], bool(table.loc["all patients", "accuracy"] > 0.9)
    ('all patients', True)
    """
    oracle = oracle if oracle is not None else BayesOracle().fit(patients)
    truth = patients["pathway"].astype(str).to_numpy()
    correct = oracle.predict(patients) == truth
    groups = [("all patients", np.ones(len(truth), dtype=bool))]
    groups += [(p, truth == p) for p in oracle.knowledge_.pathways]
    rows = []
    for name, rows_in in groups:
        n, k = int(rows_in.sum()), int(correct[rows_in].sum())
        low, high = wilson_interval(k, n)
        accuracy = k / n if n else np.nan
        rows.append((name, n, k, accuracy, low, high, format_estimate(accuracy, low, high)))
    table = pd.DataFrame(
        rows, columns=["group", "patients", "correct", "accuracy", "ci_low", "ci_high", "summary"]
    )
    return table.set_index("group")


def ceiling_misses(patients: pd.DataFrame, oracle: BayesOracle | None = None) -> pd.DataFrame:
    """Who the oracle misses: its wrong calls grouped by true condition and chosen pathway.

    The oracle's misses are the patients whose records are more probable under another
    pathway than their own; this table says which records overlap (why the ceiling is below
    1), most common first.

    Parameters
    ----------
    patients
        A generated ``patients`` table (needs the true ``condition`` and ``pathway``).
    oracle
        A fitted oracle; by default ``BayesOracle().fit(patients)``.

    Returns
    -------
    pandas.DataFrame
        One row per (``condition``, ``chosen``) pair with ``patients`` (misses),
        ``share_of_misses`` and ``true_pathway_probability`` (the oracle's mean posterior
        probability of the true pathway for them), sorted by ``patients``; the frame's
        ``attrs`` hold ``n`` (patients) and ``missed`` (misses).

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> misses = ceiling_misses(generate(2000, seed=3))
    >>> bool(misses["patients"].sum() == misses.attrs["missed"])
    True
    >>> bool((misses["true_pathway_probability"] < 0.5).all())
    True
    """
    oracle = oracle if oracle is not None else BayesOracle().fit(patients)
    proba = oracle.predict_proba(patients)
    classes = list(oracle.classes_)
    truth = patients["pathway"].astype(str).to_numpy()
    chosen = oracle.classes_[np.argmax(proba, axis=1)].astype(str)
    wrong = chosen != truth
    own = proba[np.arange(len(truth)), [classes.index(t) for t in truth]]
    frame = pd.DataFrame(
        {
            "condition": patients["condition"].astype(str).to_numpy()[wrong],
            "chosen": chosen[wrong],
            "own": own[wrong],
        }
    )
    table = (
        frame.groupby(["condition", "chosen"], sort=False)
        .agg(patients=("own", "size"), true_pathway_probability=("own", "mean"))
        .reset_index()
    )
    total = int(wrong.sum())
    table["share_of_misses"] = table["patients"] / total if total else np.nan
    table = table.sort_values(["patients", "condition", "chosen"], ascending=[False, True, True])
    columns = ["condition", "chosen", "patients", "share_of_misses", "true_pathway_probability"]
    table = table[columns].reset_index(drop=True)
    table.attrs.update({"n": len(truth), "missed": total})
    return table
