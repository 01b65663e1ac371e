"""Red-flag safety: emergencies caught and missed, over-triage, and the cost-weighted error.

The red flags are the knowledge base's (:func:`outcomes.knowledge.red_flags.red_flag_columns`)
and the costs ``costs.toml``'s (:func:`outcomes.knowledge.costs.load_costs`); proportions have
Wilson intervals by default, the mean cost per patient a bootstrap interval.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from outcomes.analysis.evaluate.confusion import EMERGENCY, paired_codes, predictions_of
from outcomes.analysis.evaluate.resampling import (
    LEVEL,
    bootstrap_from_counts,
    bootstrap_mean_from_counts,
    check_interval,
    percentile_interval,
    safe_divide,
)
from outcomes.analysis.intervals import wilson_interval
from outcomes.knowledge import Knowledge
from outcomes.knowledge.costs import load_costs
from outcomes.knowledge.red_flags import red_flag_columns


def red_flag_recorded(patients: pd.DataFrame, knowledge: Knowledge | None = None) -> np.ndarray:
    """Whether each patient's record shows at least one red flag of :func:`red_flag_columns`.

    A red flag that was not recorded (``<NA>``, ``None`` or NaN), or whose column is absent
    (an optional column of a team's file), counts as not shown; other columns are ignored.
    Columns may be ``bool``, nullable ``boolean``, or ``object`` holding true/false values
    (as pandas reads a CSV with blanks); anything else is a ``ValueError`` naming the column
    and the rows.

    Parameters
    ----------
    patients
        The patients (red-flag columns are read when present).
    knowledge
        Knowledge base (default: the packaged one).

    Returns
    -------
    numpy.ndarray
        One boolean per patient.

    Examples
    --------
    >>> frame = pd.DataFrame({"rf_saddle_numbness": pd.array([True, None, False], "boolean"),
    ...                       "rf_comment": ["no", "no", "no"]})
    >>> red_flag_recorded(frame).tolist()
    [True, False, False]
    """
    shown = np.zeros(len(patients), dtype=bool)
    for column in (c for c in red_flag_columns(knowledge) if c in patients.columns):
        values = patients[column]
        try:
            # Through the nullable dtype: a plain fillna on object values warns (pandas
            # deprecates its silent downcasting) and a bool cast would read "no" as True.
            flag = values.astype("boolean").fillna(False).to_numpy(dtype=bool)
        except (TypeError, ValueError):
            bad = np.flatnonzero(~(values.isna() | values.isin([True, False])).to_numpy())
            raise ValueError(
                f"red-flag column {column!r} must hold true/false or be empty; {len(bad)} "
                f"row(s) do not (first at position {', '.join(map(str, bad[:10]))}: "
                f"{', '.join(repr(v) for v in values.iloc[bad[:3]])})"
            ) from None
        shown |= flag
    return shown


def red_flag_misses(
    y_true: Any,
    y_pred: Any,
    patients: pd.DataFrame,
    rules_pred: Any,
    knowledge: Knowledge | None = None,
) -> dict[str, int]:
    """Emergencies with a red flag on record that a method sent down a routine pathway, and
    how many of those the rules sent to emergency.

    Parameters
    ----------
    y_true, y_pred
        True and predicted pathways, one per row of ``patients``.
    patients
        The patients (their red-flag columns are read by :func:`red_flag_recorded`).
    rules_pred
        The rules' pathways for the same patients.
    knowledge
        Knowledge base (default: the packaged one).

    Returns
    -------
    dict
        ``emergencies_flagged`` (emergencies with a red flag on record), ``missed`` (those
        the method did not send to emergency) and ``rules_caught`` (of the missed, those the
        rules sent to emergency).

    Examples
    --------
    >>> pts = pd.DataFrame({"rf_saddle_numbness": [True, True, False]})
    >>> red_flag_misses(["emergency", "emergency", "spinal"], ["spinal", "emergency", "spinal"],
    ...                 pts, ["emergency", "emergency", "spinal"])
    {'emergencies_flagged': 2, 'missed': 1, 'rules_caught': 1}
    """
    truth = np.asarray(y_true, dtype=object).astype(str)
    pred = np.asarray(y_pred, dtype=object).astype(str)
    rules = np.asarray(rules_pred, dtype=object).astype(str)
    if not len(truth) == len(pred) == len(rules) == len(patients):
        raise ValueError(
            f"y_true, y_pred, rules_pred and patients must have one row per patient; got "
            f"{len(truth)}, {len(pred)}, {len(rules)} and {len(patients)}"
        )
    flagged = (truth == EMERGENCY) & red_flag_recorded(patients, knowledge)
    missed = flagged & (pred != EMERGENCY)
    return {
        "emergencies_flagged": int(flagged.sum()),
        "missed": int(missed.sum()),
        "rules_caught": int((missed & (rules == EMERGENCY)).sum()),
    }


def safety_table(
    y_true: Any,
    y_pred: Any,
    *,
    patients: pd.DataFrame | None = None,
    costs: pd.DataFrame | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = LEVEL,
    interval: str = "wilson",
) -> pd.DataFrame:
    """Red-flag safety: emergencies caught and missed, over-triage, cost-weighted error.

    Parameters
    ----------
    y_true : array-like
        The true pathway of each patient.
    y_pred : array-like
        The pathway each patient was sent to.
    patients
        If given (the rows of ``y_true``), also counts missed emergencies whose record shows a
        red flag (:func:`red_flag_recorded`: one of the knowledge base's red-flag findings
        recorded positive; other columns, even named ``rf_*``, are ignored): the misses a rule
        on red flags should never make.
    costs
        Cost matrix (default :func:`load_costs`).
    n_boot, seed, level
        Bootstrap replicates, their seed, and the intervals' coverage.
    interval
        Interval of the proportions: ``"wilson"`` (default) or ``"bootstrap"`` (percentile,
        from ``n_boot`` seeded replicates of how many patients fall in each combination of
        emergency or not, sent to emergency or not, red flag shown or not: an exact
        resampling of patients, as in :func:`metric_table`). A bootstrap interval of a
        proportion at 0 or 1 collapses to a point; Wilson's never does.

    Returns
    -------
    pandas.DataFrame
        One row per measure: ``measure``, ``estimate``, ``low``, ``high``, ``count``, ``of``.
        Proportions have Wilson (or bootstrap) intervals; the mean cost per patient always a
        bootstrap interval.

    Examples
    --------
    >>> t = safety_table(["emergency", "spinal", "spinal"], ["spinal", "spinal", "emergency"],
    ...                  n_boot=50)
    >>> row = t.set_index("measure").loc["emergencies missed"]
    >>> int(row["count"]), int(row["of"])
    (1, 1)
    """
    check_interval(interval)
    costs = load_costs() if costs is None else costs
    labels = list(costs.index)
    true, pred = paired_codes(y_true, y_pred, labels)
    e = labels.index(EMERGENCY)
    if patients is not None and len(patients) != len(true):
        raise ValueError(
            f"patients has {len(patients)} rows but there are {len(true)} predictions; "
            "give one row per prediction"
        )
    flags = red_flag_recorded(patients) if patients is not None else np.zeros(len(true), bool)
    k = len(labels)
    return safety_table_from_counts(
        np.bincount(safety_cells(true == e, pred == e, flags), minlength=8),
        np.bincount(true * k + pred, minlength=k * k).reshape(k, k),
        red_flags=patients is not None,
        costs=costs,
        n_boot=n_boot,
        seed=seed,
        level=level,
        interval=interval,
    )


def safety_cells(emergency: Any, sent: Any, flagged: Any) -> np.ndarray:
    """Each patient's cell of :func:`safety_table_from_counts`: ``4 * truly an emergency +
    2 * sent to emergency + a red flag recorded`` (0 to 7).

    Parameters
    ----------
    emergency, sent, flagged
        Booleans, one per patient.

    Returns
    -------
    numpy.ndarray
        The cell of each patient (int64).

    Examples
    --------
    >>> safety_cells([True, False], [False, False], [True, False]).tolist()
    [5, 0]
    """
    e, s, f = (np.asarray(x, dtype=bool) for x in (emergency, sent, flagged))
    return 4 * e.astype(np.int64) + 2 * s + f


def safety_table_from_counts(
    cells: Any,
    confusion: Any,
    *,
    red_flags: bool = True,
    costs: pd.DataFrame | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = LEVEL,
    interval: str = "wilson",
) -> pd.DataFrame:
    """:func:`safety_table` from counts alone: ``cells``, patients in each of the 8 cells of
    :func:`safety_cells`, and ``confusion``, the confusion matrix in the cost matrix's order
    (for the cost-weighted error). Counts add up over any split of the patients
    (:mod:`outcomes.analysis.scoring` sums them over partitions). ``red_flags=False`` leaves out the
    row that needs the patients' records (as :func:`safety_table` without ``patients``).

    Parameters
    ----------
    cells
        Patients in each of the 8 cells of :func:`safety_cells`.
    confusion
        The confusion matrix of counts in the cost matrix's order.
    red_flags
        Include the row on missed emergencies with a red flag recorded.
    costs, n_boot, seed, level, interval
        As in :func:`safety_table`.

    Returns
    -------
    pandas.DataFrame
        :func:`safety_table` of the same patients.

    Examples
    --------
    >>> t = safety_table_from_counts([1, 0, 1, 0, 0, 0, 0, 0], [[0, 0], [0, 2]],
    ...     red_flags=False, costs=pd.DataFrame([[0.0, 1.0], [5.0, 0.0]],
    ...     index=["emergency", "spinal"], columns=["emergency", "spinal"]), n_boot=20)
    >>> t["measure"].tolist()[-1], float(t["estimate"].iloc[-1])
    ('mean cost per patient', 0.0)
    """
    check_interval(interval)
    costs = load_costs() if costs is None else costs
    point = np.asarray(cells, dtype=np.int64)
    conf = np.asarray(confusion, dtype=np.int64)
    bit = np.arange(8)[:, None] >> np.array([2, 1, 0]) & 1
    emergency, sent, flagged = bit[:, 0] == 1, bit[:, 1] == 1, bit[:, 2] == 1
    measures = [
        ("emergency sensitivity", emergency & sent, emergency),
        ("emergencies missed", emergency & ~sent, emergency),
        *(
            [("missed with a red flag recorded", emergency & ~sent & flagged, emergency & flagged)]
            if red_flags
            else []
        ),
        ("over-triage to emergency", ~emergency & sent, ~emergency),
    ]
    numerator = np.array([m[1] for m in measures])
    denominator = np.array([m[2] for m in measures])
    count, of = numerator @ point, denominator @ point
    if interval == "wilson":
        lo, hi = wilson_interval(count, of, level)
    else:
        lo, hi = percentile_interval(
            _shares(bootstrap_from_counts(point, n_boot, seed), numerator, denominator), level
        )
    estimate = safe_divide(count.astype(float), of.astype(float))
    rows = [
        (m[0], estimate[i], lo[i], hi[i], int(count[i]), int(of[i])) for i, m in enumerate(measures)
    ]
    # The cost of each patient's cell of the confusion matrix, by distinct cost.
    cost = costs.to_numpy()
    distinct, where = np.unique(cost[conf > 0], return_inverse=True)
    per_cost = np.bincount(where.ravel(), weights=conf[conf > 0], minlength=len(distinct))
    per_cost = per_cost.astype(np.int64)
    n = int(conf.sum())
    boot = bootstrap_mean_from_counts(distinct, per_cost, n_boot, seed)
    lo, hi = percentile_interval(boot[:, None], level) if n else ([np.nan], [np.nan])
    rows.append(
        (
            "mean cost per patient",
            per_cost @ distinct / n if n else np.nan,
            lo[0],
            hi[0],
            int(per_cost[distinct > 0].sum()),
            n,
        )
    )
    table = pd.DataFrame(rows, columns=["measure", "estimate", "low", "high", "count", "of"])
    return table.astype({"count": int, "of": int})


def _shares(boot: np.ndarray, numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Bootstrap replicates (n_boot, ...) of count shares: the cells of ``numerator`` over
    those of ``denominator`` (boolean masks over the last axis of ``boot``); NaN where a
    replicate has no patient in the denominator."""
    return safe_divide(boot @ numerator.T.astype(float), boot @ denominator.T.astype(float))


def safety_by_method(
    methods: Mapping[str, Any],
    patients: pd.DataFrame,
    *,
    costs: pd.DataFrame | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    interval: str = "wilson",
) -> pd.DataFrame:
    """:func:`safety_table` for several methods on the same patients, with a ``method`` column
    (``interval`` as there).

    Parameters
    ----------
    methods
        Method name -> a fitted method or its pathways (:func:`predictions_of`).
    patients
        The patients (true ``pathway``, feature and red-flag columns).
    costs, n_boot, seed, interval
        As in :func:`safety_table`.

    Returns
    -------
    pandas.DataFrame
        ``method`` and the columns of :func:`safety_table`.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> patients = generate(300, seed=1)
    >>> t = safety_by_method({"truth": patients["pathway"]}, patients, n_boot=20)
    >>> int(t[(t.method == "truth") & (t.measure == "emergencies missed")]["count"].iloc[0])
    0
    """
    truth = patients["pathway"].astype(str)
    frames = [
        safety_table(
            truth,
            predictions_of(m, patients),
            patients=patients,
            costs=costs,
            n_boot=n_boot,
            seed=seed,
            interval=interval,
        ).assign(method=name)
        for name, m in methods.items()
    ]
    out = pd.concat(frames, ignore_index=True)
    return out[["method", *[c for c in out.columns if c != "method"]]]
