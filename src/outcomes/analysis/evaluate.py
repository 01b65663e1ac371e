"""How well does a triage method send patients to the right pathway, and how safely?

Every function returns a tidy DataFrame and every estimate comes with a 95% interval
(TRIPOD+AI practice): percentile bootstrap over patients, seeded, so the same call gives the
same interval; proportions of a known number of patients (per-pathway sensitivity,
specificity, PPV, NPV, confusion-matrix shares, safety counts) have Wilson intervals, which
never collapse to a point when every or no patient qualifies, or on request
(``per_pathway_interval="bootstrap"``, ``interval="bootstrap"``) the same seeded percentile
bootstrap as the overall metrics. Resampling patients is done
exactly on counts: a replicate of the confusion matrix is one multinomial draw over its
cells, and every metric is computed from confusion matrices, so 1,000 replicates cost the same
for a hundred patients or five million.

- :func:`metric_table` — accuracy, balanced accuracy, macro-F1, and per pathway sensitivity,
  specificity, PPV and NPV;
- :func:`safety_table` — emergencies missed (under-triage of red flags), over-triage, and the
  cost-weighted error under ``knowledge/costs.toml`` (:func:`load_costs`);
- :func:`compare_paired` — McNemar's exact test and the paired difference in accuracy;
- :func:`calibration_table`, :func:`calibration_check`, :func:`brier_scores` and
  :func:`brier_table` — one-vs-rest reliability (a binomial test per bin), Brier scores with
  intervals, emergency first;
- :func:`oracle_gap` — accuracy as a fraction of the Bayes oracle's on the same patients;
- :func:`learning_curve` — training size from which a learned model is no longer
  distinguishable from a reference (the rules), then beats it, on the same test patients;
- :func:`shift_table` — accuracy of fitted methods on other cohorts (another setting, more
  missing exam findings), with the change from the in-setting cohort (paired when the
  patients are the same);
- :func:`evaluate_methods` and :func:`format_metric_table` — several methods side by side.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from outcomes.analysis.describe import format_estimate
from outcomes.engine.cohort import feature_columns
from outcomes.infra.summary import Summary
from outcomes.knowledge import (
    Knowledge,
    file_reader,
    load_knowledge,
)
from outcomes.tables.columns import red_flag_columns as red_flag_columns  # declared with the table

EMERGENCY = "emergency"
OVERALL = "all"
LEVEL = 0.95
#: Learning-curve verdict when the paired interval of the difference includes 0.
NOT_DISTINGUISHABLE = "not distinguishable"
#: Per-bin significance level of :func:`calibration_check` verdicts: about 4 binomial standard
#: errors two-sided, so over ~60 bins (5 pathways x 12) a calibrated method is flagged by
#: chance with probability under 60 x 1e-4 = 0.6%.
CALIBRATION_ALPHA = 1e-4


# --------------------------------------------------------------------------------------------
# Costs


def load_costs(knowledge: Knowledge | None = None) -> pd.DataFrame:
    """The misclassification cost matrix of ``costs.toml`` (rows true, columns assigned).

    Validated: every pathway present as a row and a column, costs non-negative, zero on the
    diagonal, each with a source; errors name the file, key and value.

    Examples
    --------
    >>> costs = load_costs()
    >>> float(costs.loc["emergency", "spinal"]), float(costs.loc["spinal", "spinal"])
    (50.0, 0.0)
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    sources: dict[str, str] = {}
    reader = file_reader(kb, "costs.toml", sources)
    unknown = sorted(set(reader.data) - set(kb.pathways))
    if unknown:
        raise reader.fail(unknown[0], f"is not a pathway; pathways: {', '.join(kb.pathways)}")
    matrix = np.zeros((len(kb.pathways), len(kb.pathways)))
    for i, true in enumerate(kb.pathways):
        if true not in reader.data:
            raise reader.fail(true, "is missing (every pathway needs a row of costs)")
        row = reader.table(reader.data[true], true)
        extra = sorted(set(row) - set(kb.pathways))
        if extra:
            raise reader.fail(f"{true}.{extra[0]}", "is not a pathway")
        for j, assigned in enumerate(kb.pathways):
            value = reader.number(row, true, assigned, low=0.0, what="a non-negative cost")
            if i == j and value != 0:
                raise reader.fail(f"{true}.{assigned}", f"value {value!r} must be 0 (correct call)")
            matrix[i, j] = value
    table = pd.DataFrame(matrix, index=list(kb.pathways), columns=list(kb.pathways))
    table.index.name, table.columns.name = "true", "assigned"
    table.attrs["sources"] = sources
    return table


# --------------------------------------------------------------------------------------------
# Confusion matrices, point and bootstrap


def _labels(labels: Sequence[str] | None) -> list[str]:
    return list(labels) if labels is not None else list(load_knowledge().pathways)


def _codes(values: Any, labels: list[str], what: str) -> np.ndarray:
    """Position of each value in ``labels`` (vectorised through :class:`pandas.Categorical`)."""
    array = np.asarray(pd.Series(values).astype(object).to_numpy(), dtype=object)
    codes = pd.Categorical(array, categories=labels).codes.astype(np.int64)
    if (codes < 0).any():
        bad = sorted({str(v) for v in array[codes < 0]})[:5]
        rows = np.flatnonzero(codes < 0)
        raise ValueError(
            f"{what} holds unknown pathway(s) {bad} in {len(rows)} row(s) (first at position "
            f"{', '.join(map(str, rows[:5]))}); known: {', '.join(labels)}"
        )
    return codes


def _pair(y_true: Any, y_pred: Any, labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    true, pred = _codes(y_true, labels, "y_true"), _codes(y_pred, labels, "y_pred")
    if len(true) != len(pred):
        raise ValueError(f"y_true has {len(true)} patients but y_pred has {len(pred)}")
    return true, pred


def _boot_counts(codes: np.ndarray, n_codes: int, n_boot: int, seed: int) -> np.ndarray:
    """Bootstrap replicates of how many patients fall in each category, shape (n_boot, n_codes).

    Resampling n patients with replacement and counting their categories is exactly a
    multinomial draw of n over the observed category shares, so replicates cost O(categories)
    rather than O(patients): a million patients bootstrap as fast as a hundred.
    """
    return _boot_from_counts(np.bincount(codes, minlength=n_codes), n_boot, seed)


def _boot_from_counts(counts: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """:func:`_boot_counts` from the counts per category alone (the same replicates): what
    out-of-core evaluation sums over partitions (:mod:`outcomes.triage.scoring`)."""
    rng = np.random.default_rng(seed)
    n = int(counts.sum())
    if n == 0:
        return np.zeros((n_boot, len(counts)), dtype=np.int64)
    return rng.multinomial(n, counts / n, size=n_boot)


def _boot_mean(values: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Bootstrap replicates of the mean of ``values`` (few distinct values: costs, 0/1, ±1)."""
    distinct, codes = np.unique(values, return_inverse=True)
    counts = np.bincount(codes.ravel(), minlength=len(distinct))
    return _boot_mean_from_counts(distinct, counts, n_boot, seed)


def _boot_mean_from_counts(
    distinct: np.ndarray, counts: np.ndarray, n_boot: int, seed: int
) -> np.ndarray:
    """:func:`_boot_mean` from the sorted distinct values and how many patients have each."""
    n = int(counts.sum())
    if n == 0:
        return np.full(n_boot, np.nan)
    return _boot_from_counts(counts, n_boot, seed) @ distinct / n


def _confusions(
    true: np.ndarray, pred: np.ndarray, k: int, n_boot: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Point confusion matrix (k, k) and bootstrap replicates (n_boot, k, k)."""
    cells = true * k + pred
    point = np.bincount(cells, minlength=k * k).reshape(k, k)
    boot = _boot_counts(cells, k * k, n_boot, seed).reshape(n_boot, k, k)
    return point, boot


def _divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _per_class(conf: np.ndarray) -> dict[str, np.ndarray]:
    """Per-pathway counts and rates from confusion matrices (..., k, k)."""
    tp = np.diagonal(conf, axis1=-2, axis2=-1).astype(float)
    actual = conf.sum(axis=-1).astype(float)
    predicted = conf.sum(axis=-2).astype(float)
    total = conf.sum(axis=(-2, -1))[..., None].astype(float)
    fn, fp = actual - tp, predicted - tp
    tn = total - tp - fn - fp
    return {
        "sensitivity": _divide(tp, actual),
        "specificity": _divide(tn, tn + fp),
        "ppv": _divide(tp, predicted),
        "npv": _divide(tn, tn + fn),
        "f1": np.where(2 * tp + fp + fn > 0, _divide(2 * tp, 2 * tp + fp + fn), 0.0),
        "actual": actual,
        "predicted": predicted,
        "negatives": total - actual,
    }


def _overall(conf: np.ndarray, present: np.ndarray) -> dict[str, np.ndarray]:
    """Accuracy, balanced accuracy (pathways present in the truth), macro-F1 (in truth or
    prediction, as scikit-learn does)."""
    per = _per_class(conf)
    total = conf.sum(axis=(-2, -1)).astype(float)
    trace = np.trace(conf, axis1=-2, axis2=-1).astype(float)
    with np.errstate(invalid="ignore"):
        sens = np.where(present, per["sensitivity"], np.nan)
        balanced = np.nanmean(sens, axis=-1) if present.any() else np.full(total.shape, np.nan)
    seen = present | (conf.sum(axis=-2) > 0).any(axis=tuple(range(conf.ndim - 2)))
    macro_f1 = per["f1"][..., seen].mean(axis=-1) if seen.any() else np.full(total.shape, np.nan)
    return {
        "accuracy": _divide(trace, total),
        "balanced_accuracy": balanced,
        "macro_f1": macro_f1,
    }


def _interval(boot: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    alpha = 100 * (1 - level) / 2
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(boot)
        lo = np.full(boot.shape[1:], np.nan)
        hi = np.full(boot.shape[1:], np.nan)
        ok = finite.any(axis=0)
        if ok.any():
            lo[ok] = np.nanpercentile(boot[:, ok], alpha, axis=0)
            hi[ok] = np.nanpercentile(boot[:, ok], 100 - alpha, axis=0)
    return lo, hi


INTERVALS = ("wilson", "bootstrap")


def _check_interval(interval: str, name: str = "interval") -> None:
    if interval not in INTERVALS:
        raise ValueError(f"{name} {interval!r} is unknown; choose wilson or bootstrap")


def _shares(boot: np.ndarray, numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Bootstrap replicates (n_boot, ...) of count shares: the cells of ``numerator`` over
    those of ``denominator`` (boolean masks over the last axis of ``boot``); NaN where a
    replicate has no patient in the denominator."""
    return _divide(boot @ numerator.T.astype(float), boot @ denominator.T.astype(float))


def wilson_interval(
    successes: Any, totals: Any, level: float = LEVEL
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score intervals for proportions, vectorised (NaN where the total is 0).

    Never degenerate: 20 of 20 gives (0.84, 1.00), not the percentile bootstrap's
    (1.00, 1.00). Each interval contains its estimate (the same rule as
    :func:`outcomes.analysis.describe.proportion_ci`, to which it is equal at the 95% level).

    Examples
    --------
    >>> lo, hi = wilson_interval([20, 90], [20, 100])
    >>> np.round(lo, 3).tolist(), np.round(hi, 3).tolist()
    ([0.839, 0.826], [1.0, 0.945])
    """
    from scipy.stats import norm

    k = np.asarray(successes, dtype=float)
    n = np.asarray(totals, dtype=float)
    z = norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, k / np.where(n > 0, n, 1), np.nan)
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    lo = np.where(n > 0, np.clip(centre - half, 0.0, p), np.nan)
    hi = np.where(n > 0, np.clip(centre + half, p, 1.0), np.nan)
    return lo, hi


# --------------------------------------------------------------------------------------------
# Metric table


METRICS = ("accuracy", "balanced_accuracy", "macro_f1")
PER_PATHWAY = ("sensitivity", "specificity", "ppv", "npv")


def metric_table(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Sequence[str] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = LEVEL,
    per_pathway_interval: str = "wilson",
) -> pd.DataFrame:
    """Accuracy metrics with 95% intervals, as a tidy table.

    Overall metrics (accuracy, balanced accuracy, macro-F1) have percentile-bootstrap
    intervals. Per-pathway sensitivity, specificity, PPV and NPV are proportions of a known
    number of patients, so they get Wilson intervals by default: a percentile bootstrap of a
    proportion at 0 or 1 collapses to a point ("1.00 (1.00–1.00)"), which a handful of cases
    easily produce, whereas a Wilson interval never does.

    Parameters
    ----------
    y_true, y_pred
        Pathway names, one per patient.
    labels
        Pathways in report order (default: the knowledge base's).
    n_boot, seed, level
        Bootstrap replicates, their seed, and the interval's coverage.
    per_pathway_interval
        ``"wilson"`` (default) or ``"bootstrap"`` (percentile, as before).

    Returns
    -------
    pandas.DataFrame
        Columns ``metric``, ``pathway`` (``"all"`` for overall metrics), ``estimate``,
        ``low``, ``high``, ``n`` (patients the metric is computed over). A metric that cannot
        be computed (e.g. the sensitivity of a pathway no patient has) is NaN, never an error.

    Examples
    --------
    >>> t = metric_table(["spinal", "hip", "spinal"], ["spinal", "spinal", "spinal"], n_boot=50)
    >>> row = t[(t.metric == "sensitivity") & (t.pathway == "spinal")].iloc[0]
    >>> float(row.estimate), int(row.n)
    (1.0, 2)
    """
    _check_interval(per_pathway_interval, "per_pathway_interval")
    labels = _labels(labels)
    true, pred = _pair(y_true, y_pred, labels)
    point = np.bincount(true * len(labels) + pred, minlength=len(labels) ** 2)
    return metric_table_from_confusion(
        point.reshape(len(labels), len(labels)), labels=labels, n_boot=n_boot, seed=seed,
        level=level, per_pathway_interval=per_pathway_interval)  # fmt: skip


def metric_table_from_confusion(
    point: Any,
    *,
    labels: Sequence[str] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = LEVEL,
    per_pathway_interval: str = "wilson",
) -> pd.DataFrame:
    """:func:`metric_table` from the confusion matrix of counts alone (rows the true pathway,
    columns the assigned one, in ``labels`` order): the same table, bootstrap included, as
    from the patients. Counts add up over any split of the patients, so a table too big for
    memory is evaluated from its partitions' counts (:mod:`outcomes.triage.scoring`).

    Examples
    --------
    >>> t = metric_table_from_confusion([[2, 0], [1, 0]], labels=["spinal", "hip"], n_boot=50)
    >>> u = metric_table(["spinal", "hip", "spinal"], ["spinal", "spinal", "spinal"],
    ...                  labels=["spinal", "hip"], n_boot=50)
    >>> t.equals(u)
    True
    """
    _check_interval(per_pathway_interval, "per_pathway_interval")
    labels = _labels(labels)
    k = len(labels)
    point = np.asarray(point, dtype=np.int64)
    if point.shape != (k, k) or (point < 0).any():
        raise ValueError(
            f"confusion must be a {k} x {k} matrix of counts >= 0 (one row and column per "
            f"pathway: {', '.join(labels)}); got shape {point.shape}"
        )
    boot = _boot_from_counts(point.ravel(), n_boot, seed).reshape(n_boot, k, k)
    total = int(point.sum())
    present = point.sum(axis=1) > 0
    rows = []
    overall_point, overall_boot = _overall(point, present), _overall(boot, present)
    for metric in METRICS:
        lo, hi = _interval(overall_boot[metric][:, None], level)
        rows.append((metric, OVERALL, float(overall_point[metric]), lo[0], hi[0], total))
    per_point, per_boot = _per_class(point), _per_class(boot)
    sizes = {
        "sensitivity": per_point["actual"],
        "specificity": per_point["negatives"],
        "ppv": per_point["predicted"],
        "npv": total - per_point["predicted"],
    }
    tp = np.diagonal(point).astype(float)
    successes = {
        "sensitivity": tp,
        "specificity": per_point["negatives"] - (per_point["predicted"] - tp),
        "ppv": tp,
        "npv": total - per_point["predicted"] - (per_point["actual"] - tp),
    }
    for metric in PER_PATHWAY:
        if per_pathway_interval == "wilson":
            lo, hi = wilson_interval(successes[metric], sizes[metric], level)
        else:
            lo, hi = _interval(per_boot[metric], level)
        for j, label in enumerate(labels):
            rows.append((metric, label, per_point[metric][j], lo[j], hi[j], int(sizes[metric][j])))
    table = pd.DataFrame(rows, columns=["metric", "pathway", "estimate", "low", "high", "n"])
    table["n"] = table["n"].astype(int)
    return table


def confusion(
    y_true: Any, y_pred: Any, *, labels: Sequence[str] | None = None, normalize: bool = False
) -> pd.DataFrame:
    """Confusion matrix, rows the true pathway and columns the assigned one.

    ``normalize=True`` divides each row by its total (share of each true pathway sent to each
    assigned pathway; NaN for a pathway no patient has).

    Examples
    --------
    >>> confusion(["hip", "hip"], ["hip", "spinal"], labels=["hip", "spinal"]).to_numpy().tolist()
    [[1, 1], [0, 0]]
    """
    labels = _labels(labels)
    true, pred = _pair(y_true, y_pred, labels)
    k = len(labels)
    matrix = np.bincount(true * k + pred, minlength=k * k).reshape(k, k)
    table = pd.DataFrame(matrix, index=labels, columns=labels)
    if normalize:
        table = table.div(table.sum(axis=1).where(lambda s: s > 0), axis=0)
    table.index.name, table.columns.name = "true", "assigned"
    return table


def confusion_long(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Sequence[str] | None = None,
    level: float = LEVEL,
    interval: str = "wilson",
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """The confusion matrix as a tidy table, each cell's share with its 95% interval.

    Columns ``true``, ``assigned``, ``patients``, ``share`` (of the true pathway's patients
    sent to the assigned one, NaN for a pathway no patient has), ``low``, ``high`` and
    ``of`` (the true pathway's patients). A share is a proportion of a known number of
    patients, so its interval is Wilson's by default: never degenerate for a cell at 0% or
    100%, as a bootstrap percentile interval would be.

    Parameters
    ----------
    interval
        ``"wilson"`` (default) or ``"bootstrap"``: the percentile interval of the cell's
        share over ``n_boot`` replicates of the whole confusion matrix (patients resampled,
        seeded with ``seed``, drawn exactly as in :func:`metric_table`), so a row's total
        varies between replicates as it would between studies.

    Examples
    --------
    >>> t = confusion_long(["hip"] * 4, ["spinal"] * 4, labels=["hip", "spinal"])
    >>> t.iloc[1][["true", "assigned"]].tolist(), int(t.iloc[1].patients)
    (['hip', 'spinal'], 4)
    >>> round(float(t.iloc[1].low), 2), float(t.iloc[1].high)
    (0.51, 1.0)
    >>> t = confusion_long(["hip"] * 40, ["hip"] * 30 + ["spinal"] * 10, labels=["hip", "spinal"],
    ...                    interval="bootstrap", n_boot=500)
    >>> bool(t.iloc[1].low < 0.25 < t.iloc[1].high)
    True
    """
    _check_interval(interval)
    labels = _labels(labels)
    true, pred = _pair(y_true, y_pred, labels)
    k = len(labels)
    point, boot = _confusions(true, pred, k, n_boot if interval == "bootstrap" else 0, seed)
    of = np.repeat(point.sum(axis=1), k)
    patients = point.ravel()
    if interval == "wilson":
        low, high = wilson_interval(patients, of, level)
    else:
        low, high = (b.ravel() for b in _interval(_divide(boot, boot.sum(axis=2, keepdims=True)),
                                                  level))  # fmt: skip
    return pd.DataFrame({
        "true": np.repeat(labels, k), "assigned": np.tile(labels, k), "patients": patients,
        "share": _divide(patients.astype(float), of.astype(float)), "low": low, "high": high,
        "of": of,
    })  # fmt: skip


# --------------------------------------------------------------------------------------------
# Safety


def red_flag_recorded(patients: pd.DataFrame, knowledge: Knowledge | None = None) -> np.ndarray:
    """Whether each patient's record shows at least one red flag of :func:`red_flag_columns`.

    A red flag that was not recorded (``<NA>``, ``None`` or NaN), or whose column is absent
    (an optional column of a team's file), counts as not shown; other columns are ignored.
    Columns may be ``bool``, nullable ``boolean``, or ``object`` holding true/false values
    (as pandas reads a CSV with blanks); anything else is a ``ValueError`` naming the column
    and the rows.

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


def red_flag_warning(method: str, misses: Mapping[str, int]) -> str | None:
    """A warning when ``method`` missed red-flag emergencies that the rules caught, else ``None``.

    Examples
    --------
    >>> print(red_flag_warning("boosted", {"emergencies_flagged": 47, "missed": 26,
    ...                                    "rules_caught": 26}))
    warning: boosted sent 26 of 47 emergencies with a red flag on record down a routine
    pathway; the rules send 26 of them to emergency. Check this method before relying on it.
    >>> red_flag_warning("rules", {"emergencies_flagged": 47, "missed": 0, "rules_caught": 0})
    """
    if misses["rules_caught"] == 0:
        return None
    return (
        f"warning: {method} sent {misses['missed']} of {misses['emergencies_flagged']} "
        "emergencies with a red flag on record down a routine pathway; the rules send "
        f"{misses['rules_caught']} of them to emergency. Check this method before relying on it."
    )


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
    _check_interval(interval)
    costs = load_costs() if costs is None else costs
    labels = list(costs.index)
    true, pred = _pair(y_true, y_pred, labels)
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
        red_flags=patients is not None, costs=costs, n_boot=n_boot, seed=seed, level=level,
        interval=interval)  # fmt: skip


def safety_cells(emergency: Any, sent: Any, flagged: Any) -> np.ndarray:
    """Each patient's cell of :func:`safety_table_from_counts`: ``4 * truly an emergency +
    2 * sent to emergency + a red flag recorded`` (0 to 7).

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
    (:mod:`outcomes.triage.scoring` sums them over partitions). ``red_flags=False`` leaves out the
    row that needs the patients' records (as :func:`safety_table` without ``patients``).

    Examples
    --------
    >>> t = safety_table_from_counts([1, 0, 1, 0, 0, 0, 0, 0], [[0, 0], [0, 2]],
    ...     red_flags=False, costs=pd.DataFrame([[0.0, 1.0], [5.0, 0.0]],
    ...     index=["emergency", "spinal"], columns=["emergency", "spinal"]), n_boot=20)
    >>> t["measure"].tolist()[-1], float(t["estimate"].iloc[-1])
    ('mean cost per patient', 0.0)
    """
    _check_interval(interval)
    costs = load_costs() if costs is None else costs
    point = np.asarray(cells, dtype=np.int64)
    conf = np.asarray(confusion, dtype=np.int64)
    bit = np.arange(8)[:, None] >> np.array([2, 1, 0]) & 1
    emergency, sent, flagged = bit[:, 0] == 1, bit[:, 1] == 1, bit[:, 2] == 1
    measures = [
        ("emergency sensitivity", emergency & sent, emergency),
        ("emergencies missed", emergency & ~sent, emergency),
        *([("missed with a red flag recorded", emergency & ~sent & flagged, emergency & flagged)]
          if red_flags else []),
        ("over-triage to emergency", ~emergency & sent, ~emergency),
    ]  # fmt: skip
    numerator = np.array([m[1] for m in measures])
    denominator = np.array([m[2] for m in measures])
    count, of = numerator @ point, denominator @ point
    if interval == "wilson":
        lo, hi = wilson_interval(count, of, level)
    else:
        lo, hi = _interval(_shares(_boot_from_counts(point, n_boot, seed), numerator,
                                   denominator), level)  # fmt: skip
    estimate = _divide(count.astype(float), of.astype(float))
    rows = [(m[0], estimate[i], lo[i], hi[i], int(count[i]), int(of[i]))
            for i, m in enumerate(measures)]  # fmt: skip
    # The cost of each patient's cell of the confusion matrix, by distinct cost.
    cost = costs.to_numpy()
    distinct, where = np.unique(cost[conf > 0], return_inverse=True)
    per_cost = np.bincount(where.ravel(), weights=conf[conf > 0], minlength=len(distinct))
    per_cost = per_cost.astype(np.int64)
    n = int(conf.sum())
    boot = _boot_mean_from_counts(distinct, per_cost, n_boot, seed)
    lo, hi = _interval(boot[:, None], level) if n else ([np.nan], [np.nan])
    rows.append(
        ("mean cost per patient", per_cost @ distinct / n if n else np.nan, lo[0], hi[0],
         int(per_cost[distinct > 0].sum()), n)
    )  # fmt: skip
    table = pd.DataFrame(rows, columns=["measure", "estimate", "low", "high", "count", "of"])
    return table.astype({"count": int, "of": int})


# --------------------------------------------------------------------------------------------
# Paired comparison, oracle gap


def compare_paired(
    y_true: Any,
    pred_a: Any,
    pred_b: Any,
    *,
    names: tuple[str, str] = ("a", "b"),
    n_boot: int = 1000,
    seed: int = 0,
    level: float = LEVEL,
) -> pd.DataFrame:
    """Two triage methods on the same patients: McNemar's exact test and accuracy difference.

    Returns one row: ``a``, ``b``, ``accuracy_a``, ``accuracy_b``, ``difference`` (a - b) with
    its paired-bootstrap ``low``/``high``, ``only_a_right``, ``only_b_right`` (the discordant
    patients) and ``p_value`` (two-sided exact binomial test on the discordant pairs).

    Examples
    --------
    >>> t = compare_paired(["hip"] * 4, ["hip"] * 4, ["hip", "hip", "spinal", "spinal"],
    ...                    n_boot=50)
    >>> row = t.iloc[0]
    >>> int(row.only_a_right), int(row.only_b_right), float(row.p_value)
    (2, 0, 0.5)
    """
    true = np.asarray(pd.Series(y_true).astype(str))
    right_a = true == np.asarray(pd.Series(pred_a).astype(str))
    right_b = true == np.asarray(pd.Series(pred_b).astype(str))
    if not len(true) == len(right_a) == len(right_b):
        raise ValueError("y_true, pred_a and pred_b must have the same length")
    only_a, only_b = int((right_a & ~right_b).sum()), int((~right_a & right_b).sum())
    discordant = only_a + only_b
    p_value = binomtest(only_a, discordant, 0.5).pvalue if discordant else 1.0
    diff = right_a.astype(float) - right_b
    boot = _boot_mean(diff, n_boot, seed)
    lo, hi = _interval(boot[:, None], level)
    return pd.DataFrame(
        [{"a": names[0], "b": names[1], "accuracy_a": right_a.mean(),
          "accuracy_b": right_b.mean(), "difference": diff.mean(), "low": lo[0], "high": hi[0],
          "only_a_right": only_a, "only_b_right": only_b, "p_value": float(p_value)}]
    )  # fmt: skip


def oracle_gap(
    y_true: Any,
    predictions: Mapping[str, Any],
    *,
    oracle: str = "oracle",
    n_boot: int = 1000,
    seed: int = 0,
    level: float = LEVEL,
) -> pd.DataFrame:
    """Each method's accuracy as a fraction of the oracle's, with a paired-bootstrap interval.

    Every replicate resamples the same patients for all methods, so the ratio's interval
    reflects only how the methods differ.

    Examples
    --------
    >>> t = oracle_gap(["hip", "spinal"], {"oracle": ["hip", "spinal"], "x": ["hip", "hip"]},
    ...                n_boot=50)
    >>> float(t.set_index("method").loc["x", "fraction_of_oracle"])
    0.5
    """
    if oracle not in predictions:
        raise ValueError(f"predictions must include the oracle under {oracle!r}")
    true = np.asarray(pd.Series(y_true).astype(str))
    right = {name: true == np.asarray(pd.Series(p).astype(str)) for name, p in predictions.items()}
    # Each patient's pattern of right/wrong across methods is one category (a bit per
    # method); resampling patterns keeps every replicate paired across methods.
    names = list(right)
    bits = np.column_stack([right[name] for name in names]).astype(np.int64)
    codes = bits @ (1 << np.arange(len(names)))
    counts = _boot_counts(codes, 1 << len(names), n_boot, seed)
    pattern = (np.arange(1 << len(names))[:, None] >> np.arange(len(names))) & 1
    accuracy = counts @ pattern / max(len(true), 1)  # (n_boot, methods)
    reference = accuracy[:, names.index(oracle)]
    rows = []
    for m, (name, r) in enumerate(right.items()):
        lo, hi = _interval(_divide(accuracy[:, m], reference)[:, None], level)
        rows.append((name, r.mean(), r.mean() / right[oracle].mean(), lo[0], hi[0]))
    return pd.DataFrame(rows, columns=["method", "accuracy", "fraction_of_oracle", "low", "high"])


def oracle_gap_finding(gap: pd.DataFrame, oracle: str = "oracle") -> str:
    """One sentence on :func:`oracle_gap`: the oracle's accuracy and each method's share of
    it with its interval, best first.

    Examples
    --------
    >>> gap = pd.DataFrame({"method": ["rules", "boosted", "oracle"],
    ...                     "accuracy": [0.70, 0.86, 0.90],
    ...                     "fraction_of_oracle": [0.70 / 0.9, 0.86 / 0.9, 1.0],
    ...                     "low": [0.75, 0.94, 1.0], "high": [0.80, 0.97, 1.0]})
    >>> print(oracle_gap_finding(gap))  # doctest: +NORMALIZE_WHITESPACE
    The oracle (the ceiling) triages 90.0% correctly; boosted reaches 95.6% of it
    (94.0%–97.0%), rules 77.8% (75.0%–80.0%).
    """
    table = gap.set_index("method")
    ceiling = float(table.loc[oracle, "accuracy"])
    others = table.drop(index=oracle).sort_values("fraction_of_oracle", ascending=False)
    parts = [
        f"{name} {'reaches ' if i == 0 else ''}{r.fraction_of_oracle:.1%}"
        f"{' of it' if i == 0 else ''} ({r.low:.1%}–{r.high:.1%})"
        for i, (name, r) in enumerate(others.iterrows())
    ]
    return f"The {oracle} (the ceiling) triages {ceiling:.1%} correctly; " + ", ".join(parts) + "."


# --------------------------------------------------------------------------------------------
# Calibration


#: Bin edges of :func:`calibration_check`: fine near 0 and 1, where most patients of every
#: pathway sit and where the rare emergency pathway's decisions are made (the least-cost
#: threshold of ``costs.toml`` is near 0.06), coarser in between.
RELIABILITY_EDGES = (0.0, 0.01, 0.05, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 0.95, 0.99, 1.0)


def _bin_of(p: np.ndarray, bins: int | Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Bin index of each probability and the edges (``bins`` equal bins or explicit edges)."""
    edges = (
        np.linspace(0.0, 1.0, bins + 1) if isinstance(bins, int | np.integer)
        else np.asarray(bins, dtype=float)
    )  # fmt: skip
    if len(edges) < 2 or edges[0] != 0 or edges[-1] != 1 or (np.diff(edges) <= 0).any():
        raise ValueError(f"bin edges must rise from 0 to 1, got {edges.tolist()}")
    inner = np.searchsorted(edges, p, side="right") - 1
    return np.clip(inner, 0, len(edges) - 2), edges


def _probabilities(proba: Any, classes: Sequence[str], n: int) -> np.ndarray:
    proba = np.asarray(proba, dtype=float)
    if proba.shape != (n, len(classes)):
        raise ValueError(
            f"proba has shape {proba.shape}; expected ({n}, {len(classes)}): one row per "
            "patient, one column per class"
        )
    bad = np.flatnonzero(~np.isfinite(proba).all(axis=1) | (proba < 0).any(axis=1)
                         | (proba > 1 + 1e-9).any(axis=1))  # fmt: skip
    if len(bad):
        raise ValueError(
            f"proba rows {bad[:5].tolist()} ({len(bad)} in all) hold values outside [0, 1]"
        )
    return proba


def _emergency_first(classes: Sequence[str]) -> list[int]:
    return sorted(range(len(classes)), key=lambda j: (classes[j] != EMERGENCY, j))


def calibration_table(
    y_true: Any, proba: np.ndarray, classes: Sequence[str], *, n_bins: int | Sequence[float] = 10
) -> pd.DataFrame:
    """One-vs-rest reliability per pathway (emergency first): predicted vs observed by bin.

    Parameters
    ----------
    n_bins
        Number of equal-width bins, or the bin edges themselves (rising from 0 to 1, e.g.
        :data:`RELIABILITY_EDGES`).

    Returns
    -------
    pandas.DataFrame
        Columns ``pathway``, ``bin``, ``mean_predicted``, ``observed``, ``low``, ``high``
        (Wilson interval of the observed share) and ``n``; empty bins are left out.

    Examples
    --------
    >>> t = calibration_table(["hip", "spinal"], np.array([[0.9, 0.1], [0.2, 0.8]]),
    ...                       ["hip", "spinal"], n_bins=2)
    >>> t[["pathway", "bin", "n"]].values.tolist()
    [['hip', 0, 1], ['hip', 1, 1], ['spinal', 0, 1], ['spinal', 1, 1]]
    """
    true = np.asarray(pd.Series(y_true).astype(str))
    proba = _probabilities(proba, classes, len(true))
    rows = []
    for j in _emergency_first(classes):
        p, hit = proba[:, j], true == classes[j]
        bins, edges = _bin_of(p, n_bins)
        k = len(edges) - 1
        n = np.bincount(bins, minlength=k)
        sum_p = np.bincount(bins, weights=p, minlength=k)
        hits = np.bincount(bins, weights=hit, minlength=k)
        filled = np.flatnonzero(n)
        lo, hi = wilson_interval(hits[filled], n[filled])
        rows += [(classes[j], int(b), sum_p[b] / n[b], hits[b] / n[b], lo[i], hi[i], int(n[b]))
                 for i, b in enumerate(filled)]  # fmt: skip
    columns = ["pathway", "bin", "mean_predicted", "observed", "low", "high", "n"]
    return pd.DataFrame(rows, columns=columns)


def calibration_check(
    y_true: Any,
    proba: np.ndarray,
    classes: Sequence[str],
    *,
    edges: Sequence[float] = RELIABILITY_EDGES,
) -> pd.DataFrame:
    """Are one-vs-rest probabilities calibrated within sampling error? A test per bin.

    For each pathway (emergency first) and each bin of :data:`RELIABILITY_EDGES`, the number
    of patients who truly belong to the pathway (``events``) is compared with the number the
    probabilities promise (``expected``, their sum). Under calibration ``events`` is a sum of
    independent Bernoulli trials; ``p_value`` is the exact two-sided binomial test of
    ``events`` at the bin's mean probability, which is conservative for such a sum (Hoeffding
    1956: a Poisson-binomial is more concentrated than the binomial of the same mean) and
    exact for small counts, where the normal approximation fails (a rare pathway's low bins).
    ``z`` is the same gap in binomial standard errors.

    Returns
    -------
    pandas.DataFrame
        ``pathway``, ``bin_low``, ``bin_high``, ``n``, ``mean_predicted``, ``observed``,
        ``events``, ``expected``, ``z``, ``p_value``; empty bins are left out.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> p = rng.random(4000)
    >>> truth = np.where(rng.random(4000) < p, "hip", "spinal")
    >>> t = calibration_check(truth, np.column_stack([p, 1 - p]), ["hip", "spinal"])
    >>> bool(t["p_value"].min() > 1e-4)
    True
    """
    from scipy.stats import binomtest

    true = np.asarray(pd.Series(y_true).astype(str))
    proba = _probabilities(proba, classes, len(true))
    rows = []
    for j in _emergency_first(classes):
        p, hit = proba[:, j], true == classes[j]
        bins, edge = _bin_of(p, edges)
        k = len(edge) - 1
        n = np.bincount(bins, minlength=k)
        expected = np.bincount(bins, weights=p, minlength=k)
        events = np.bincount(bins, weights=hit, minlength=k).astype(int)
        for b in np.flatnonzero(n):  # a loop over at most a dozen bins, not over patients
            mean = min(max(expected[b] / n[b], 0.0), 1.0)
            se = np.sqrt(mean * (1 - mean) / n[b])
            gap = events[b] / n[b] - mean
            z = gap / se if se > 0 else (0.0 if gap == 0 else np.inf * np.sign(gap))
            p_value = (
                binomtest(int(events[b]), int(n[b]), mean).pvalue
                if 0 < mean < 1
                else (float((events[b] == 0) if mean == 0 else (events[b] == n[b])))
            )
            rows.append((classes[j], edge[b], edge[b + 1], int(n[b]), mean, events[b] / n[b],
                         int(events[b]), float(expected[b]), float(z), float(p_value)))  # fmt: skip
    columns = ["pathway", "bin_low", "bin_high", "n", "mean_predicted", "observed", "events",
               "expected", "z", "p_value"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def _boot_weights_means(values: np.ndarray, n_boot: int, seed: int, chunk: int = 100) -> np.ndarray:
    """Bootstrap replicates of the column means of ``values`` (n, m): shape (n_boot, m).

    Each replicate resamples patients (whole rows, so columns stay paired) as multinomial
    weights; replicates are drawn in chunks to bound memory at ``chunk * n`` counts.
    """
    from outcomes.infra.progress import progress_bar

    n = len(values)
    out = np.full((n_boot, values.shape[1]), np.nan)
    if n == 0:
        return out
    rng = np.random.default_rng(seed)
    uniform = np.full(n, 1.0 / n)
    starts = range(0, n_boot, chunk)
    for start in progress_bar(starts, desc="bootstrap", unit="chunk", min_total=20):
        size = min(chunk, n_boot - start)
        weights = rng.multinomial(n, uniform, size=size)
        out[start : start + size] = weights @ values / n
    return out


def brier_scores(
    y_true: Any,
    proba: np.ndarray,
    classes: Sequence[str],
    *,
    n_boot: int | None = None,
    seed: int = 0,
    level: float = LEVEL,
) -> pd.DataFrame:
    """Brier score per pathway (one-vs-rest) and overall (multiclass, summed over pathways),
    with the expected calibration error of each pathway's probabilities (10 bins); the
    overall row's calibration error is their mean over pathways (the classwise ECE).

    Parameters
    ----------
    n_boot, seed, level
        With ``n_boot`` replicates, add ``low`` and ``high``: a percentile-bootstrap interval
        of each Brier score (patients resampled, the same replicates for every pathway).
        Without it the table has no interval columns (as before).

    Examples
    --------
    >>> t = brier_scores(["hip", "spinal"], np.array([[1.0, 0.0], [0.0, 1.0]]), ["hip", "spinal"])
    >>> t["brier"].tolist(), t["calibration_error"].tolist()
    ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    >>> t = brier_scores(["hip", "spinal", "hip"], np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]]),
    ...                  ["hip", "spinal"], n_boot=200)
    >>> bool((t["low"] <= t["brier"]).all() and (t["brier"] <= t["high"]).all())
    True
    """
    true = np.asarray(pd.Series(y_true).astype(str))
    proba = _probabilities(proba, classes, len(true))
    onehot = np.column_stack([true == c for c in classes]).astype(float)
    squared = (proba - onehot) ** 2
    per_patient = np.column_stack([squared, squared.sum(axis=1)])
    table = calibration_table(y_true, proba, classes)
    rows = []
    for j, c in enumerate(classes):
        part = table[table["pathway"] == c]
        ece = float((part["n"] * (part["mean_predicted"] - part["observed"]).abs()).sum()
                    / max(len(true), 1))  # fmt: skip
        rows.append((c, float(squared[:, j].mean()) if len(true) else np.nan, ece))
    overall_ece = float(np.mean([r[2] for r in rows])) if rows and len(true) else np.nan
    rows.append((OVERALL, float(squared.sum(axis=1).mean()) if len(true) else np.nan,
                 overall_ece))  # fmt: skip
    out = pd.DataFrame(rows, columns=["pathway", "brier", "calibration_error"])
    if n_boot is not None:
        boot = _boot_weights_means(per_patient, n_boot, seed)
        lo, hi = _interval(boot, level)
        out["low"] = np.minimum(lo, out["brier"])
        out["high"] = np.maximum(hi, out["brier"])
        out = out[["pathway", "brier", "low", "high", "calibration_error"]]
    order = sorted(range(len(out)), key=lambda i: (out["pathway"].iloc[i] != EMERGENCY,
                                                   out["pathway"].iloc[i] == OVERALL))  # fmt: skip
    return out.iloc[order].reset_index(drop=True)


def probabilities_of(method: Any, patients: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """A fitted method's probabilities on the feature columns and their class names.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.triage.oracle import BayesOracle
    >>> patients = generate(200, seed=1)
    >>> proba, classes = probabilities_of(BayesOracle().fit(patients), patients)
    >>> proba.shape == (200, len(classes))
    True
    """
    if isinstance(method, tuple):
        proba, classes = method
        return np.asarray(proba, dtype=float), [str(c) for c in classes]
    proba = method.predict_proba(patients[feature_columns()])
    return np.asarray(proba, dtype=float), [str(c) for c in method.classes_]


def brier_table(
    methods: Mapping[str, Any],
    patients: pd.DataFrame,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = LEVEL,
) -> pd.DataFrame:
    """:func:`brier_scores` with intervals for several methods on the same patients.

    Parameters
    ----------
    methods
        Name -> a fitted method with ``predict_proba`` and ``classes_``, or a
        ``(proba, classes)`` pair.

    Returns
    -------
    pandas.DataFrame
        ``method``, ``pathway``, ``brier``, ``low``, ``high``, ``calibration_error``. The
        bootstrap weights depend only on the number of patients and the seed, so every
        method is scored on the same resampled patients in every replicate (paired); each
        row still gives that method's own interval, not a difference between methods.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.triage.oracle import BayesOracle
    >>> patients = generate(300, seed=1)
    >>> t = brier_table({"oracle": BayesOracle().fit(patients)}, patients, n_boot=50)
    >>> t["pathway"].iloc[0], t["pathway"].iloc[-1]
    ('emergency', 'all')
    """
    truth = patients["pathway"].astype(str)
    frames = []
    for name, method in methods.items():
        proba, classes = probabilities_of(method, patients)
        scores = brier_scores(truth, proba, classes, n_boot=n_boot, seed=seed, level=level)
        frames.append(scores.assign(method=name))
    out = pd.concat(frames, ignore_index=True)
    return out[["method", *[c for c in out.columns if c != "method"]]]


def format_brier_table(table: pd.DataFrame, digits: int = 4) -> pd.DataFrame:
    """Reading version of :func:`brier_table`: one row per pathway, one column per method,
    cells ``"0.0156 (0.0141–0.0172)"`` (lower is better).

    Examples
    --------
    >>> t = pd.DataFrame({"method": "x", "pathway": ["all"], "brier": [0.05], "low": [0.04],
    ...                   "high": [0.06], "calibration_error": [float("nan")]})
    >>> format_brier_table(t).iloc[0, 0]
    '0.0500 (0.0400–0.0600)'
    """
    text = [format_estimate(r.brier, r.low, r.high, digits=digits) for r in table.itertuples()]
    wide = pd.DataFrame({"pathway": table["pathway"], "method": table["method"], "v": text})
    wide = wide.pivot(index="pathway", columns="method", values="v")
    return wide.loc[list(dict.fromkeys(table["pathway"])),
                    list(dict.fromkeys(table["method"]))].rename_axis(columns=None)  # fmt: skip


# --------------------------------------------------------------------------------------------
# Several methods, learning curve, shift


def predictions_of(method: Any, patients: pd.DataFrame) -> np.ndarray:
    """Pathways a method assigns: a fitted estimator's ``predict`` on the feature columns, or
    an array given directly (one per patient).

    Examples
    --------
    >>> predictions_of(["hip"], pd.DataFrame({"x": [1]})).tolist()
    ['hip']
    """
    if hasattr(method, "predict"):
        return np.asarray(method.predict(patients[feature_columns()]), dtype=object)
    values = np.asarray(pd.Series(method).astype(str), dtype=object)
    if len(values) != len(patients):
        raise ValueError(f"got {len(values)} predictions for {len(patients)} patients")
    return values


def evaluate_methods(
    methods: Mapping[str, Any],
    patients: pd.DataFrame,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    per_pathway_interval: str = "wilson",
) -> pd.DataFrame:
    """:func:`metric_table` for several methods on the same patients, with a ``method`` column
    (``per_pathway_interval`` as there).

    Each method's intervals are its own: the bootstrap draws replicates of that method's
    confusion matrix (a multinomial over its own cells, seeded with ``seed``), so they are
    reproducible but **not paired across methods**; two methods with the same confusion
    matrix get the same intervals whichever patients each got wrong. Overlapping intervals
    therefore say nothing about a difference between methods: for that use
    :func:`compare_paired` or :func:`paired_comparisons` (McNemar's test and a paired
    bootstrap of the per-patient difference) and :func:`oracle_gap`, which resample
    patients jointly for every method.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> patients = generate(300, seed=1)
    >>> t = evaluate_methods({"truth": patients["pathway"]}, patients, n_boot=20)
    >>> float(t[(t.method == "truth") & (t.metric == "accuracy")].estimate.iloc[0])
    1.0

    Wrong on different patients, in the same numbers: the same intervals.

    >>> t = evaluate_methods({"a": ["hip"] * 8 + ["spinal"] * 2,
    ...                       "b": ["spinal"] * 2 + ["hip"] * 8}, pd.DataFrame({"pathway":
    ...                       ["hip"] * 10}), n_boot=50)
    >>> a, b = (t[(t.method == m) & (t.metric == "accuracy")] for m in "ab")
    >>> a[["low", "high"]].to_numpy().tolist() == b[["low", "high"]].to_numpy().tolist()
    True
    """
    truth = patients["pathway"].astype(str)
    frames = [
        metric_table(
            truth,
            predictions_of(m, patients),
            n_boot=n_boot,
            seed=seed,
            per_pathway_interval=per_pathway_interval,
        ).assign(method=name)  # fmt: skip
        for name, m in methods.items()
    ]
    out = pd.concat(frames, ignore_index=True)
    return out[["method", *[c for c in out.columns if c != "method"]]]


def format_metric_table(table: pd.DataFrame, metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """Reading version of :func:`evaluate_methods`: one row per metric (and pathway), one
    column per method, cells ``"0.91 (0.89–0.93)"``.

    Examples
    --------
    >>> t = pd.DataFrame({"method": ["x"], "metric": ["accuracy"], "pathway": ["all"],
    ...                   "estimate": [0.9], "low": [0.85], "high": [0.95], "n": [100]})
    >>> format_metric_table(t).iloc[0, 0]
    '0.90 (0.85–0.95)'
    """
    if "method" not in table:
        table = table.assign(method="method")
    if metrics is not None:
        table = table[table["metric"].isin(metrics)]
    text = [
        "n/a" if not np.isfinite(r.estimate) else format_estimate(r.estimate, r.low, r.high)
        for r in table.itertuples()
    ]
    label = np.where(table["pathway"] == OVERALL, table["metric"],
                     table["metric"] + ": " + table["pathway"])  # fmt: skip
    wide = (
        pd.DataFrame({"metric": label, "method": table["method"], "value": text})
        .pivot(index="metric", columns="method", values="value")
    )  # fmt: skip
    order = list(dict.fromkeys(label))
    return wide.loc[order, list(dict.fromkeys(table["method"]))].rename_axis(columns=None)


def learning_curve(
    fit: Callable[[pd.DataFrame], Any],
    train: pd.DataFrame,
    test: pd.DataFrame,
    sizes: Sequence[int],
    reference: Any,
    *,
    n_boot: int = 500,
    seed: int = 0,
    level: float = LEVEL,
) -> pd.DataFrame:
    """Accuracy of a learned model by training-set size, against a reference on the same test.

    Parameters
    ----------
    fit
        Called with the first ``size`` rows of ``train``; returns a fitted method.
    reference
        The reference method (e.g. the fitted rules) or its predictions on ``test``.

    Returns
    -------
    pandas.DataFrame
        One row per size: ``size``, ``accuracy`` with ``low``/``high``, ``difference`` from the
        reference with its paired interval ``diff_low``/``diff_high``, and ``verdict``:
        ``"below"`` (upper bound under 0), ``"not distinguishable"`` (the interval of the
        difference includes 0: the data cannot tell the two apart, which is not proof that
        they are equal) or ``"beats"`` (lower bound above 0). :func:`crossover` reads off the
        sizes.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.triage.models import fit_model
    >>> train, test = generate(600, seed=1), generate(300, seed=2)
    >>> curve = learning_curve(lambda d: fit_model("logistic", d), train, test, [200, 600],
    ...                        test["pathway"], n_boot=50)
    >>> curve["verdict"].tolist()
    ['below', 'below']
    """
    if max(sizes) > len(train):
        raise ValueError(f"largest size {max(sizes)} exceeds the {len(train)} training patients")
    truth = test["pathway"].astype(str).to_numpy()
    ref_right = predictions_of(reference, test) == truth
    rows = []
    for size in sizes:
        right = predictions_of(fit(train.iloc[:size]), test) == truth
        paired = compare_paired(truth, np.where(right, truth, "~"), np.where(ref_right, truth, "~"),
                                n_boot=n_boot, seed=seed, level=level)  # fmt: skip
        boot = _boot_mean(right.astype(float), n_boot, seed)
        lo, hi = _interval(boot[:, None], level)
        d_lo, d_hi = float(paired["low"].iloc[0]), float(paired["high"].iloc[0])
        verdict = "beats" if d_lo > 0 else NOT_DISTINGUISHABLE if d_hi >= 0 else "below"
        rows.append((int(size), right.mean(), lo[0], hi[0], float(paired["difference"].iloc[0]),
                     d_lo, d_hi, verdict))  # fmt: skip
    columns = ["size", "accuracy", "low", "high", "difference", "diff_low", "diff_high", "verdict"]
    return pd.DataFrame(rows, columns=columns)


def crossover(curve: pd.DataFrame) -> dict[str, int | None]:
    """Smallest training size no longer below the reference, and smallest that beats it.

    ``"not_distinguishable"``: the first size whose paired interval reaches 0 or above (or
    that beats the reference); ``"beats"``: the first whose interval lies above 0. ``None``
    when no size qualifies.

    Examples
    --------
    >>> crossover(pd.DataFrame({"size": [10, 20, 40],
    ...                         "verdict": ["below", "not distinguishable", "beats"]}))
    {'not_distinguishable': 20, 'beats': 40}
    """

    def first(verdicts: tuple[str, ...]) -> int | None:
        hit = curve[curve["verdict"].isin(verdicts)]
        return int(hit["size"].iloc[0]) if len(hit) else None

    return {
        "not_distinguishable": first((NOT_DISTINGUISHABLE, "matches", "beats")),
        "beats": first(("beats",)),
    }


def _same_patients(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Whether two cohorts hold the same patients in the same order (so they can be paired)."""
    return (
        "patient_id" in a and "patient_id" in b and len(a) == len(b)
        and bool((a["patient_id"].to_numpy() == b["patient_id"].to_numpy()).all())
        and bool((a["pathway"].astype(str).to_numpy() == b["pathway"].astype(str).to_numpy())
                 .all())
    )  # fmt: skip


def shift_table(
    methods: Mapping[str, Any],
    cohorts: Mapping[str, pd.DataFrame],
    *,
    reference: str | None = None,
    n_boot: int = 500,
    seed: int = 0,
    level: float = LEVEL,
) -> pd.DataFrame:
    """Accuracy of fitted methods on several test cohorts (e.g. another setting, more missing
    exam findings): ``cohort``, ``method``, ``accuracy``, ``low``, ``high``, ``n``.

    Parameters
    ----------
    reference
        A key of ``cohorts`` (e.g. the in-setting test cohort). If given, each other cohort's
        row also has the change in accuracy from the reference for the same method,
        ``difference`` with ``diff_low``/``diff_high``, and ``paired``: ``True`` when the
        cohort holds the same patients as the reference (same ``patient_id`` in the same
        order, e.g. the same seed with more exam findings unrecorded), so the interval is a
        paired bootstrap of per-patient differences; ``False`` for different patients (another
        setting), whose interval combines two independent bootstraps and is wider. The
        reference's own rows have NaN there.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.triage.oracle import BayesOracle
    >>> cohorts = {"same": generate(300, seed=2), "sparse": generate(300, seed=2,
    ...                                                             exam_missing_rate=0.9)}
    >>> t = shift_table({"oracle": BayesOracle().fit(cohorts["same"])}, cohorts, n_boot=20)
    >>> t["cohort"].tolist()
    ['same', 'sparse']
    >>> t = shift_table({"oracle": BayesOracle().fit(cohorts["same"])}, cohorts,
    ...                 reference="same", n_boot=20)
    >>> t["paired"].tolist()
    [None, True]
    """
    if reference is not None and reference not in cohorts:
        raise ValueError(f"reference cohort {reference!r} is not one of: {', '.join(cohorts)}")
    rows = []
    rights: dict[tuple[str, str], np.ndarray] = {}
    for cohort_name, patients in cohorts.items():
        truth = patients["pathway"].astype(str).to_numpy()
        for method_name, method in methods.items():
            right = predictions_of(method, patients) == truth
            rights[cohort_name, method_name] = right
            boot = _boot_mean(right.astype(float), n_boot, seed)
            lo, hi = _interval(boot[:, None], level)
            rows.append((cohort_name, method_name, right.mean(), lo[0], hi[0], len(right), boot))
    table = pd.DataFrame(rows, columns=["cohort", "method", "accuracy", "low", "high", "n",
                                        "boot"])  # fmt: skip
    if reference is None:
        return table.drop(columns="boot")
    ref_boot = {r.method: r.boot for r in table[table["cohort"] == reference].itertuples()}
    index = {name: c for c, name in enumerate(cohorts)}
    diffs = []
    for r in table.itertuples():
        if r.cohort == reference:
            diffs.append((np.nan, np.nan, np.nan, None))
            continue
        paired = _same_patients(cohorts[r.cohort], cohorts[reference])
        if paired:
            delta = rights[r.cohort, r.method].astype(float) - rights[reference, r.method]
            boot = _boot_mean(delta, n_boot, seed)
        else:
            # Different patients: the cohort is resampled on its own stream, independent of
            # the reference's replicates, and the difference of replicates is taken.
            stream = int(np.random.SeedSequence([seed, index[r.cohort]]).generate_state(1)[0])
            own = _boot_mean(rights[r.cohort, r.method].astype(float), n_boot, stream)
            boot = own - ref_boot[r.method]
        lo, hi = _interval(boot[:, None], level)
        diffs.append((r.accuracy - table.loc[(table["cohort"] == reference)
                                             & (table["method"] == r.method), "accuracy"].iloc[0],
                      lo[0], hi[0], paired))  # fmt: skip
    extra = pd.DataFrame(diffs, columns=["difference", "diff_low", "diff_high", "paired"])
    extra["paired"] = extra["paired"].astype(object)
    return pd.concat([table.drop(columns="boot"), extra], axis=1)


def _signed(x: float, digits: int) -> str:
    return f"{x:+.{digits}f}".replace("-", "\N{MINUS SIGN}")


def _signed_interval(est: float, lo: float, hi: float, digits: int) -> str:
    """``+0.012 (−0.004 to +0.020)``: signed, with "to" so negative bounds read clearly."""
    return f"{_signed(est, digits)} ({_signed(lo, digits)} to {_signed(hi, digits)})"


def format_shift_table(table: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """Reading version of :func:`shift_table`: one row per cohort, one column per method.

    Cells are ``"0.957 (0.950–0.963)"``; with a reference cohort, the change from it follows
    in the same cell (``"; −0.006 (−0.010 to −0.002)"``), and a last column says
    whether that change is paired (same patients) or between independent cohorts.

    Examples
    --------
    >>> t = pd.DataFrame({"cohort": ["a", "b"], "method": "m", "accuracy": [0.9, 0.8],
    ...                   "low": [0.88, 0.78], "high": [0.92, 0.82], "n": 100,
    ...                   "difference": [float("nan"), -0.1], "diff_low": [float("nan"), -0.13],
    ...                   "diff_high": [float("nan"), -0.07], "paired": [None, True]})
    >>> format_shift_table(t).loc["b", "m"]
    '0.800 (0.780–0.820); −0.100 (−0.130 to −0.070)'
    >>> format_shift_table(t).loc["a", "change from"]
    'reference'
    """
    text = [format_estimate(r.accuracy, r.low, r.high, digits=digits) for r in table.itertuples()]
    has_change = "difference" in table
    if has_change:
        text = [
            t if not np.isfinite(r.difference)
            else f"{t}; {_signed_interval(r.difference, r.diff_low, r.diff_high, digits)}"
            for t, r in zip(text, table.itertuples(), strict=True)
        ]  # fmt: skip
    wide = pd.DataFrame({"cohort": table["cohort"], "method": table["method"], "v": text})
    wide = wide.pivot(index="cohort", columns="method", values="v")
    wide = wide.loc[list(dict.fromkeys(table["cohort"])), list(dict.fromkeys(table["method"]))]
    if has_change:
        kind = table.drop_duplicates("cohort").set_index("cohort")["paired"]
        wide["change from"] = [
            "reference" if p is None or (isinstance(p, float) and np.isnan(p))
            else "same patients (paired)" if p else "other patients (independent)"
            for p in kind.reindex(wide.index)
        ]  # fmt: skip
    return wide.rename_axis(index=None, columns=None)


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
        ).assign(method=name)  # fmt: skip
        for name, m in methods.items()
    ]
    out = pd.concat(frames, ignore_index=True)
    return out[["method", *[c for c in out.columns if c != "method"]]]


def format_safety_table(table: pd.DataFrame) -> pd.DataFrame:
    """Reading version of :func:`safety_by_method`: one row per method, one column per measure.

    Proportions show the count beside the interval (``"0.89 (0.82–0.94), 8 of 73"``); the
    cost is per patient.

    Examples
    --------
    >>> t = pd.DataFrame({"method": "x", "measure": ["emergencies missed"], "estimate": [0.1],
    ...                   "low": [0.05], "high": [0.2], "count": [5], "of": [50]})
    >>> format_safety_table(t).iloc[0, 0]
    '0.10 (0.05–0.20), 5 of 50'
    """
    text = []
    for r in table.itertuples():
        if not np.isfinite(r.estimate):
            text.append("no patients")
        elif r.measure == "mean cost per patient":
            text.append(format_estimate(r.estimate, r.low, r.high))
        else:
            text.append(f"{format_estimate(r.estimate, r.low, r.high)}, {r.count} of {r.of}")
    wide = pd.DataFrame({"method": table["method"], "measure": table["measure"], "v": text})
    wide = wide.pivot(index="method", columns="measure", values="v")
    return wide.loc[list(dict.fromkeys(table["method"])), list(dict.fromkeys(table["measure"]))]


def paired_comparisons(
    y_true: Any,
    predictions: Mapping[str, Any],
    pairs: Sequence[tuple[str, str]],
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """:func:`compare_paired` for each ``(a, b)`` pair of named predictions, one row each.

    Examples
    --------
    >>> t = paired_comparisons(["hip"] * 2, {"x": ["hip", "hip"], "y": ["hip", "spinal"]},
    ...                        [("x", "y")], n_boot=20)
    >>> float(t["difference"].iloc[0])
    0.5
    """
    rows = [
        compare_paired(
            y_true, predictions[a], predictions[b], names=(a, b), n_boot=n_boot, seed=seed
        )  # fmt: skip
        for a, b in pairs
    ]
    return pd.concat(rows, ignore_index=True)


# --------------------------------------------------------------------------------------------
# Sentences computed from a run (figure titles, conclusions): true for any N, seed, setting


def estimate_of(
    table: pd.DataFrame, method: str, metric: str = "accuracy", pathway: str = OVERALL
) -> tuple[float, float, float]:
    """``(estimate, low, high)`` of one row of :func:`evaluate_methods`, found by its labels.

    Examples
    --------
    >>> t = pd.DataFrame({"method": ["a", "b"], "metric": "accuracy", "pathway": "all",
    ...                   "estimate": [0.8, 0.9], "low": [0.7, 0.85], "high": [0.85, 0.95]})
    >>> estimate_of(t, "b")
    (0.9, 0.85, 0.95)
    """
    if "method" not in table:
        table = table.assign(method=method)
    hit = table[(table["method"] == method) & (table["metric"] == metric)
                & (table["pathway"] == pathway)]  # fmt: skip
    if len(hit) != 1:
        raise ValueError(f"no single row for method {method!r}, metric {metric!r}, pathway "
                         f"{pathway!r} (found {len(hit)})")  # fmt: skip
    row = hit.iloc[0]
    return float(row["estimate"]), float(row["low"]), float(row["high"])


def _names(items: Sequence[str]) -> str:
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def sensitivity_finding(
    metrics: pd.DataFrame,
    focus: str = "rules",
    reference: str = "oracle",
    k: int = 2,
    short: bool = False,
) -> str:
    """Where ``focus`` is weakest (its ``k`` lowest sensitivities) and how far the other
    methods are from ``reference`` on their worst pathway (``short``: two lines, for a figure
    title).

    Examples
    --------
    >>> t = pd.DataFrame({"method": ["r", "r", "o", "o", "m", "m"], "metric": "sensitivity",
    ...                   "pathway": ["hip", "spinal"] * 3,
    ...                   "estimate": [0.5, 0.9, 0.9, 0.95, 0.88, 0.95], "low": 0.0, "high": 1.0})
    >>> sensitivity_finding(t, "r", "o", k=1)
    'r: weakest on hip (0.50); m within 0.02 of the o on every pathway'
    """
    rows = metrics[(metrics["metric"] == "sensitivity")].dropna(subset=["estimate"])
    own = rows[rows["method"] == focus].nsmallest(k, "estimate")
    if own.empty:
        return f"{focus}: no sensitivity could be computed"
    text = f"{focus}: weakest on " + _names(
        [f"{_plain(r.pathway)} ({r.estimate:.2f})" for r in own.itertuples()]
    )  # fmt: skip
    ref = rows[rows["method"] == reference].set_index("pathway")["estimate"]
    others = [m for m in dict.fromkeys(rows["method"]) if m not in (focus, reference)]
    if len(ref) and others:
        gaps = {m: float((ref - rows[rows["method"] == m].set_index("pathway")["estimate"])
                         .abs().max()) for m in others}  # fmt: skip
        worst = max(gaps.values())
        text += ("\n" if short else "; ") + (
            f"{_names(others)} within {worst:.2f} of the {reference} on every pathway")  # fmt: skip
    return text


def _plain(name: Any) -> str:
    return str(name).replace("_", " ")


def worst_confusion(
    y_true: Any, y_pred: Any, *, labels: Sequence[str] | None = None
) -> pd.Series | None:
    """The commonest wrong call: the off-diagonal cell of :func:`confusion_long` with the
    largest share of its true pathway (ties: more patients). ``None`` if no call is wrong.

    Examples
    --------
    >>> w = worst_confusion(["hip", "hip", "spinal"], ["spinal", "hip", "spinal"])
    >>> w["true"], w["assigned"], float(w["share"])
    ('hip', 'spinal', 0.5)
    """
    cells = confusion_long(y_true, y_pred, labels=labels)
    wrong = cells[(cells["true"] != cells["assigned"]) & (cells["patients"] > 0)]
    if wrong.empty:
        return None
    return wrong.sort_values(["share", "patients"], ascending=False, kind="stable").iloc[0]


def confusion_finding(y_true: Any, predictions: Mapping[str, Any]) -> str:
    """One sentence: each method's commonest wrong call and its share.

    Examples
    --------
    >>> confusion_finding(["hip", "hip"], {"a": ["spinal", "hip"], "b": ["hip", "hip"]})
    'Commonest wrong call: a hip → spinal (50% of hip); b none'
    """
    parts = []
    for name, predicted in predictions.items():
        w = worst_confusion(y_true, predicted)
        parts.append(f"{name} none" if w is None else
                     f"{name} {_plain(w['true'])} → {_plain(w['assigned'])} ({w['share']:.0%} "
                     f"of {_plain(w['true'])})")  # fmt: skip
    return "Commonest wrong call: " + "; ".join(parts)


def _share_word(part: int, whole: int) -> str:
    """ "all", "most", "half", "some" or "none" of ``whole``, from the counts."""
    if whole == 0 or part == 0:
        return "none"
    if part == whole:
        return "all"
    return "most" if part > whole / 2 else "half" if 2 * part == whole else "some"


def safety_findings(
    safety: pd.DataFrame,
    least_cost: Mapping[str, str] | None = None,
    methods: Sequence[str] | None = None,
) -> list[str]:
    """Sentences on red-flag safety from :func:`safety_by_method`, with their counts.

    One sentence per method: emergencies missed, those among them with a red flag on record
    (when the table has that row) and referrals to emergency of patients who did not need
    it. Then, for each ``least_cost`` pair, how many of the plain method's missed emergencies
    the least-expected-cost decision recovers, and at how many more referrals.

    Parameters
    ----------
    least_cost
        Plain method -> its least-expected-cost variant (e.g. ``{"oracle": "oracle, least
        cost"}``).
    methods
        The methods that get their own sentence (default: every method in the table).

    Examples
    --------
    >>> t = pd.DataFrame({"method": ["a", "a", "b", "b"],
    ...                   "measure": ["emergencies missed", "over-triage to emergency"] * 2,
    ...                   "estimate": 0.0, "low": 0.0, "high": 0.0,
    ...                   "count": [10, 3, 4, 20], "of": [50, 950, 50, 950]})
    >>> for line in safety_findings(t, {"a": "b"}):
    ...     print(line)
    a missed 10 of 50 emergencies and sent 3 of 950 other patients to emergency.
    b missed 4 of 50 emergencies and sent 20 of 950 other patients to emergency.
    Deciding by least expected cost, a misses 4 of 50 emergencies instead of 10 (recovering 6
    of the 10 it missed: most), at 17 more referrals to emergency.
    """
    table = safety.set_index(["method", "measure"])
    measures = set(safety["measure"])

    def count(method: str, measure: str) -> tuple[int, int]:
        row = table.loc[(method, measure)]
        return int(row["count"]), int(row["of"])

    out = []
    for method in dict.fromkeys(safety["method"] if methods is None else methods):
        missed, of = count(method, "emergencies missed")
        text = f"{method} missed {missed:,} of {of:,} emergencies"
        if "missed with a red flag recorded" in measures:
            flagged, with_flag = count(method, "missed with a red flag recorded")
            text += f" ({flagged:,} of the {with_flag:,} with a red flag on record)"
        over, others = count(method, "over-triage to emergency")
        out.append(f"{text} and sent {over:,} of {others:,} other patients to emergency.")
    for plain, safe in (least_cost or {}).items():
        if (plain, "emergencies missed") not in table.index or (
            safe, "emergencies missed") not in table.index:  # fmt: skip
            continue
        before, of = count(plain, "emergencies missed")
        after, _ = count(safe, "emergencies missed")
        more = count(safe, "over-triage to emergency")[0]
        more -= count(plain, "over-triage to emergency")[0]
        plural = "" if abs(more) == 1 else "s"
        referrals = (f"{more:,} more referral{plural} to emergency" if more >= 0
                     else f"{-more:,} fewer referral{plural} to emergency")  # fmt: skip
        recovered = max(before - after, 0)
        change = (
            "(none missed before)" if before == 0
            else f"instead of {before:,} (recovering {recovered:,} of the {before:,} it missed: "
            f"{_share_word(recovered, before)})"
        )  # fmt: skip
        out.append(f"Deciding by least expected cost, {plain} misses {after:,} of {of:,} "
                   f"emergencies {change}, at {referrals}.")  # fmt: skip
    return out


def calibration_finding(
    check: pd.DataFrame, method: str, alpha: float = CALIBRATION_ALPHA, short: bool = False
) -> str:
    """One sentence from :func:`calibration_check`: calibrated within sampling error, or the
    worst bin (predicted against observed). ``short`` gives a figure title.

    Examples
    --------
    >>> t = pd.DataFrame({"pathway": ["emergency", "hip"], "bin_low": [0.01, 0.1],
    ...                   "bin_high": [0.05, 0.2], "n": [92, 300], "mean_predicted": [0.023, 0.15],
    ...                   "observed": [0.141, 0.16], "p_value": [1e-9, 0.5]})
    >>> print(calibration_finding(t, "boosted"))
    boosted: 1 of 2 bins off beyond sampling error; worst emergency, predicted 0.023 vs
    observed 0.141 (92 patients).
    >>> calibration_finding(t, "boosted", short=True)
    'boosted: 1 of 2 bins off'
    """
    if check.empty:
        return f"{method}: no patients to check"
    bad = check[check["p_value"] < alpha]
    if short:
        return (f"{method}: within sampling error in all {len(check)} bins" if bad.empty
                else f"{method}: {len(bad)} of {len(check)} bins off")  # fmt: skip
    if bad.empty:
        return (f"{method}: predicted and observed shares agree within sampling error in all "
                f"{len(check)} bins (smallest p = {check['p_value'].min():.3f}).")  # fmt: skip
    w = bad.loc[bad["p_value"].idxmin()]
    return (f"{method}: {len(bad)} of {len(check)} bins off beyond sampling error; worst "
            f"{_plain(w['pathway'])}, predicted {w['mean_predicted']:.3f} vs observed "
            f"{w['observed']:.3f} ({int(w['n'])} patients).")  # fmt: skip


def learning_curve_finding(curve: pd.DataFrame, model: str = "boosted",
                           reference: str = "rules", short: bool = False) -> str:  # fmt: skip
    """When a learned model stops being distinguishable from, then beats, the reference
    (``short``: only when it beats it, for a figure title).

    Examples
    --------
    >>> c = pd.DataFrame({"size": [50, 100, 200],
    ...                   "verdict": ["below", "not distinguishable", "beats"]})
    >>> print(learning_curve_finding(c))
    The boosted model is below the rules at 50 training patients, not distinguishable from
    them from 100 and beats them from 200.
    >>> learning_curve_finding(c, short=True)
    'The boosted model beats the rules from 200 training patients'
    """
    if curve.empty:
        return f"No training sizes were tried for the {model} model."
    cross = crossover(curve)
    if short:
        if cross["beats"] is not None:
            return (
                f"The {model} model beats the {reference} from {cross['beats']:,} training patients"
            )
        largest = int(curve["size"].max())
        return f"The {model} model does not beat the {reference} at up to {largest:,} patients"
    level, beats = cross["not_distinguishable"], cross["beats"]
    # Each clause names the reference until one has, and the unit on the first size given.
    parts: list[str] = []

    def clause(text: str, size: int, at: str = "from") -> None:
        target = "them" if parts else f"the {reference}"
        unit = "" if parts else " training patients"
        parts.append(text.format(target=target) + f" {at} {size:,}{unit}")

    if curve.iloc[0]["verdict"] == "below":
        clause("is below {target}", int(curve.iloc[0]["size"]), at="at")
    if level is not None and level != beats:
        clause(("" if parts else "is ") + "not distinguishable from {target}", level)
    if beats is not None:
        clause("beats {target}", beats)
    else:
        clause("does not beat {target}", int(curve["size"].max()), at="at up to")
    return f"The {model} model " + _names(parts) + "."


def oracle_share_finding(curve: pd.DataFrame, oracle_accuracy: float, share: float = 0.97,
                         model: str = "boosted") -> str:  # fmt: skip
    """Training size from which a learned model reaches ``share`` of the oracle's accuracy,
    and what the largest size adds beyond it.

    Examples
    --------
    >>> c = pd.DataFrame({"size": [100, 1000, 10000], "accuracy": [0.8, 0.94, 0.95]})
    >>> print(oracle_share_finding(c, 0.96))
    The boosted model reaches 97% of the oracle's accuracy (0.960) from 1,000 training
    patients (0.940); 10,000 patients add 0.010.
    """
    if curve.empty:
        return f"No training sizes were tried for the {model} model."
    enough = curve[curve["accuracy"] >= share * oracle_accuracy]
    largest = curve.iloc[-1]
    if enough.empty:
        return (f"The {model} model stays below {share:.0%} of the oracle's accuracy "
                f"({oracle_accuracy:.3f}) at up to {int(largest['size']):,} training patients "
                f"({largest['accuracy']:.3f}).")  # fmt: skip
    first = enough.iloc[0]
    text = (f"The {model} model reaches {share:.0%} of the oracle's accuracy "
            f"({oracle_accuracy:.3f}) from {int(first['size']):,} training patients "
            f"({first['accuracy']:.3f})")  # fmt: skip
    if int(largest["size"]) > int(first["size"]):
        gain = largest["accuracy"] - first["accuracy"]
        text += f"; {int(largest['size']):,} patients add {gain:.3f}"
    return text + "."


def shift_setting(
    setting: str, requested: str | None = None, knowledge: Knowledge | None = None
) -> str | None:
    """The setting a shift analysis compares ``setting`` with: always a different one.

    ``requested`` is used when it differs from ``setting``; ``None`` picks the last of the
    other settings in the knowledge's order, so the choice is deterministic and follows
    ``--setting``. A request equal to ``setting`` returns ``None``: there is no shift
    to measure, and the caller says so instead of comparing a setting with itself.

    Parameters
    ----------
    setting
        The setting the methods were trained and tested in.
    requested
        The setting asked for (``TEST_SETTING``), or ``None`` for the default.
    knowledge
        Knowledge base (default: the packaged one).

    Returns
    -------
    str or None
        A setting different from ``setting``, or ``None`` when the request equals it.

    Examples
    --------
    >>> shift_setting("primary_care")
    'sports_clinic'
    >>> shift_setting("sports_clinic")
    'spine_clinic'
    >>> shift_setting("sports_clinic", "spine_clinic")
    'spine_clinic'
    >>> shift_setting("sports_clinic", "sports_clinic") is None
    True
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    names = list(kb.setting_names)
    kb.setting(setting)  # a clear error for an unknown setting
    if requested is not None:
        kb.setting(requested)
        return None if requested == setting else requested
    return [name for name in names if name != setting][-1]


def shift_findings(shift: pd.DataFrame) -> list[str]:
    """For each shifted cohort of :func:`shift_table` (with a reference): which method's
    accuracy changed the most and which the least (by the size of the change), with the
    paired or independent interval.

    The words follow the signs: "lost" when every method lost accuracy, "gained" when every
    method gained, "changed" otherwise; "the most" is always the largest absolute change.

    Examples
    --------
    >>> t = pd.DataFrame({"cohort": ["a", "a", "b", "b"], "method": ["r", "o"] * 2,
    ...                   "accuracy": [0.8, 0.9, 0.7, 0.88], "difference": [None, None, -0.1,
    ...                   -0.02], "diff_low": [None, None, -0.12, -0.03],
    ...                   "diff_high": [None, None, -0.08, -0.01], "paired": [None, None,
    ...                   False, False]})
    >>> print(*shift_findings(t))
    On b (other patients), r lost the most accuracy, −0.100 (−0.120 to −0.080), and o the
    least, −0.020 (−0.030 to −0.010).
    >>> t["difference"], t["diff_low"], t["diff_high"] = ([None, None, 0.001, 0.016],
    ...     [None, None, -0.02, -0.004], [None, None, 0.022, 0.036])
    >>> print(*shift_findings(t))
    On b (other patients), o gained the most accuracy, +0.016 (−0.004 to +0.036), and r the
    least, +0.001 (−0.020 to +0.022).
    """
    if "difference" not in shift:
        return []
    out = []
    for cohort, rows in shift.dropna(subset=["difference"]).groupby("cohort", sort=False):
        size = rows["difference"].astype(float).abs()
        rows = rows.assign(_size=size).sort_values("_size", ascending=False, kind="stable")
        most, least = rows.iloc[0], rows.iloc[-1]
        kind = "same patients, paired" if bool(most["paired"]) else "other patients"
        change = lambda r: _signed_interval(r["difference"], r["diff_low"], r["diff_high"], 3)  # noqa: E731
        diffs = rows["difference"].astype(float)
        verb = "lost" if (diffs < 0).all() else "gained" if (diffs > 0).all() else "changed"
        what = f"{verb} the most accuracy" if verb != "changed" else "changed accuracy the most"
        out.append(f"On {cohort} ({kind}), {most['method']} {what}, {change(most)}, "
                   f"and {least['method']} the least, {change(least)}.")  # fmt: skip
    return out


def triage_summary(
    metrics: pd.DataFrame,
    safety: pd.DataFrame,
    gap: pd.DataFrame | None = None,
    *,
    crossover_size: int | None = None,
    title: str = "Triage",
) -> Summary:
    """Headline numbers of notebook 02 for the top of its report page.

    Parameters
    ----------
    metrics, safety, gap
        :func:`evaluate_methods`, :func:`safety_by_method` and :func:`oracle_gap` of the same
        methods on the same patients (``gap`` is optional: a team's data has no oracle).
    crossover_size
        Training patients the boosted model needed to beat the rules (:func:`crossover`).

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> patients = generate(300, seed=1)
    >>> methods = {"oracle": patients["pathway"], "rules": ["spinal"] * 300}
    >>> s = triage_summary(evaluate_methods(methods, patients, n_boot=20),
    ...                    safety_by_method(methods, patients, n_boot=20),
    ...                    oracle_gap(patients["pathway"], methods, n_boot=20))
    >>> s.findings[0].startswith("Accuracy: oracle 1.00")
    True
    """
    overall = metrics[(metrics["metric"] == "accuracy") & (metrics["pathway"] == OVERALL)]
    accuracy = "; ".join(
        f"{r.method} {format_estimate(r.estimate, r.low, r.high)}" for r in overall.itertuples()
    )
    findings = [f"Accuracy: {accuracy}."]
    fractions = gap[gap["method"] != "oracle"] if gap is not None else pd.DataFrame()
    if not fractions.empty:
        findings.append(
            "Share of the oracle's accuracy: "
            + "; ".join(f"{r.method} {r.fraction_of_oracle:.1%}" for r in fractions.itertuples())
            + "."
        )
    missed = safety[safety["measure"] == "emergencies missed"]
    if len(missed) and missed["of"].max() > 0:
        findings.append(
            f"Emergencies missed (of {int(missed['of'].max())}): "
            + "; ".join(f"{r.method} {int(r.count)}" for r in missed.itertuples())
            + "."
        )
    if crossover_size is not None:
        findings.append(f"The boosted model beat the rules from {crossover_size:,} training "
                        "patients.")  # fmt: skip
    return Summary(title, findings)


def team_methods(
    patients: pd.DataFrame, predictions: pd.DataFrame, *, n_train: int = 20_000, seed: int = 0
) -> dict[str, np.ndarray]:
    """A team's calls and, for comparison, the rules' and a synthetic-trained boosted model's.

    Parameters
    ----------
    patients
        The team's patients (:func:`outcomes.analysis.userdata.read_patients`).
    predictions
        The team's calls aligned to ``patients``
        (:func:`outcomes.analysis.userdata.read_predictions`).
    n_train
        Size of the synthetic training cohort, drawn in the team's most common setting.

    Returns
    -------
    dict
        ``your triage``, ``rules`` and ``boosted (synthetic)``: one pathway per patient each.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> team = generate(200, seed=5)
    >>> calls = pd.DataFrame({"pathway": team["pathway"]})
    >>> list(team_methods(team, calls, n_train=1000))
    ['your triage', 'rules', 'boosted (synthetic)']
    """
    from outcomes.engine.cohort import generate
    from outcomes.triage.models import fit_model
    from outcomes.triage.rules import RulesTriage

    setting = str(patients["setting"].astype(str).mode().iloc[0])
    train = generate(n_train, seed=seed, setting=setting)
    features = patients[feature_columns()]
    return {
        "your triage": predictions["pathway"].astype(str).to_numpy(dtype=object),
        "rules": RulesTriage().fit(features).predict(features),
        "boosted (synthetic)": fit_model("boosted", train, seed=seed).predict(features),
    }


def evaluate_team(
    patients: pd.DataFrame,
    predictions: pd.DataFrame,
    *,
    n_train: int = 20_000,
    seed: int = 0,
    n_boot: int = 1000,
    interval: str = "wilson",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Metric and safety tables of :func:`team_methods` on the team's patients.

    ``interval`` (``"wilson"`` or ``"bootstrap"``) is the interval of the per-pathway and
    safety proportions (:func:`metric_table`, :func:`safety_table`).

    Returns
    -------
    (metrics, safety)
        :func:`evaluate_methods` and :func:`safety_by_method` of the three methods.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> team = generate(200, seed=5)
    >>> calls = pd.DataFrame({"pathway": team["pathway"]})
    >>> metrics, safety = evaluate_team(team, calls, n_train=1000, n_boot=20)
    >>> sorted(set(safety["method"]))
    ['boosted (synthetic)', 'rules', 'your triage']
    """
    methods = team_methods(patients, predictions, n_train=n_train, seed=seed)
    metrics = evaluate_methods(methods, patients, n_boot=n_boot, seed=seed,
                               per_pathway_interval=interval)  # fmt: skip
    safety = safety_by_method(methods, patients, n_boot=n_boot, seed=seed, interval=interval)
    return metrics, safety


# --------------------------------------------------------------------------------------------
# Decision curves (net benefit against threshold probability, one-vs-rest)

#: Strategies drawn beside the methods: everyone sent to the pathway, or nobody.
REFER_ALL, REFER_NONE = "refer all", "refer none"
#: Threshold probabilities of a decision curve: 1% to 99% in steps of 1%.
DEFAULT_THRESHOLDS = np.round(np.arange(1, 100) / 100, 2)


def net_benefit(y_true: Any, proba: Any, thresholds: Any = DEFAULT_THRESHOLDS) -> np.ndarray:
    """Net benefit of sending a patient to a pathway when its probability is at least ``t``.

    The standard formula (Vickers & Elkin 2006): ``NB(t) = TP/n − FP/n · t/(1 − t)``, where
    the odds ``t/(1 − t)`` weigh a false positive against a true positive as a clinician who
    would refer at probability ``t`` does. Refer-all is ``NB`` with every probability 1;
    refer-none is 0.

    Parameters
    ----------
    y_true
        Whether each patient belongs on the pathway (booleans).
    proba
        Each patient's probability of belonging on it (a hard call: 0 or 1).
    thresholds
        Threshold probabilities, each strictly between 0 and 1.

    Returns
    -------
    numpy.ndarray
        Net benefit at each threshold (in true positives per patient).

    Examples
    --------
    >>> y = [True, True, False, False, False]
    >>> p = [0.9, 0.4, 0.6, 0.2, 0.1]
    >>> net_benefit(y, p, [0.1, 0.3, 0.5]).round(4).tolist()
    [0.3333, 0.3143, 0.0]
    """
    y = np.asarray(y_true, dtype=bool)
    p = np.asarray(proba, dtype=float)
    t = np.asarray(thresholds, dtype=float)
    if y.shape != p.shape or y.ndim != 1:
        raise ValueError(f"y_true and proba must be 1-D of one length; got {y.shape}, {p.shape}")
    if t.size and not ((t > 0) & (t < 1)).all():
        raise ValueError("thresholds must lie strictly between 0 and 1")
    n = len(y)
    if n == 0:
        return np.full(t.shape, np.nan)
    # Sorted once: the patients treated at threshold t are those with p >= t.
    order = np.sort(p[y]), np.sort(p[~y])
    tp = len(order[0]) - np.searchsorted(order[0], t, side="left")
    fp = len(order[1]) - np.searchsorted(order[1], t, side="left")
    return tp / n - fp / n * t / (1 - t)


def decision_curves(
    y_true: Any,
    probabilities: Mapping[str, tuple[Any, Sequence[str]]],
    *,
    pathways: Sequence[str] | None = None,
    thresholds: Any = DEFAULT_THRESHOLDS,
) -> pd.DataFrame:
    """Net benefit of every method, refer-all and refer-none, one-vs-rest per pathway.

    Parameters
    ----------
    y_true
        True pathway of each patient.
    probabilities
        Method name -> ``(proba, classes)``: one column per class, rows as ``y_true``
        (:func:`probabilities_of` gives it for a fitted method; hard calls can be given as
        one-hot probabilities, see :func:`one_hot`).
    pathways
        Pathways to compute (default: every class of the first method), emergency first.
    thresholds
        Threshold probabilities (default 0.01 to 0.99).

    Returns
    -------
    pandas.DataFrame
        ``pathway``, ``strategy`` (each method, then ``refer all`` and ``refer none``),
        ``threshold``, ``net_benefit``, ``prevalence`` (share of patients on the pathway).

    Examples
    --------
    >>> proba = np.array([[0.1, 0.9], [0.6, 0.4], [0.8, 0.2]])
    >>> t = decision_curves(["emergency", "spinal", "spinal"],
    ...                     {"m": (proba, ["spinal", "emergency"])}, thresholds=[0.5])
    >>> t[["pathway", "strategy", "net_benefit"]].round(3).values.tolist()
    ... # doctest: +NORMALIZE_WHITESPACE
    [['emergency', 'm', 0.333], ['emergency', 'refer all', -0.333],
     ['emergency', 'refer none', 0.0], ['spinal', 'm', 0.667],
     ['spinal', 'refer all', 0.333], ['spinal', 'refer none', 0.0]]
    """
    truth = np.asarray(pd.Series(y_true).astype(str))
    t = np.asarray(thresholds, dtype=float)
    if not probabilities:
        raise ValueError("decision_curves needs at least one method's probabilities")
    prepared = {}
    for name, (proba, classes) in probabilities.items():
        classes = [str(c) for c in classes]
        prepared[name] = (_probabilities(proba, classes, len(truth)), classes)
    first_classes = next(iter(prepared.values()))[1]
    wanted = [str(c) for c in (pathways if pathways is not None else first_classes)]
    wanted = [wanted[i] for i in _emergency_first(wanted)]
    frames = []
    for pathway in wanted:
        y = truth == pathway
        prevalence = float(y.mean()) if len(y) else np.nan
        curves = {}
        for name, (proba, classes) in prepared.items():
            if pathway not in classes:
                raise ValueError(f"method {name!r} gives no probability for pathway {pathway!r}")
            curves[name] = net_benefit(y, proba[:, classes.index(pathway)], t)
        curves[REFER_ALL] = net_benefit(y, np.ones(len(y)), t)
        curves[REFER_NONE] = np.zeros(t.shape)
        for name, values in curves.items():
            frames.append(pd.DataFrame({"pathway": pathway, "strategy": name, "threshold": t,
                                        "net_benefit": values,
                                        "prevalence": prevalence}))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def cost_threshold(pathway: str = EMERGENCY, costs: pd.DataFrame | None = None) -> float:
    """The threshold probability the stated costs imply for referring to ``pathway``.

    Referring a patient who belongs there avoids the cheapest miss, ``min cost[pathway, other]``;
    referring one who does not costs on average ``mean cost[other, pathway]``. Referral pays
    when ``p · avoided > (1 − p) · harm``, i.e. above ``harm / (harm + avoided)``.

    Examples
    --------
    >>> round(cost_threshold("emergency"), 3)  # 3 / (3 + 50) with knowledge/costs.toml
    0.057
    """
    costs = costs if costs is not None else load_costs()
    others = [c for c in costs.columns if c != pathway]
    avoided = float(costs.loc[pathway, others].min())
    harm = float(costs.loc[others, pathway].mean())
    if avoided + harm <= 0:
        raise ValueError(f"the costs of pathway {pathway!r} are all zero: no threshold follows")
    return harm / (harm + avoided)


def one_hot(calls: Any, classes: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Hard calls as probabilities of 0 and 1, for :func:`decision_curves`.

    Examples
    --------
    >>> proba, classes = one_hot(["hip", "spinal"], ["spinal", "hip"])
    >>> proba.tolist(), classes
    ([[0.0, 1.0], [1.0, 0.0]], ['spinal', 'hip'])
    """
    classes = [str(c) for c in classes]
    values = np.asarray(pd.Series(calls).astype(str))
    return (values[:, None] == np.array(classes)[None, :]).astype(float), classes


def decision_curve_finding(curves: pd.DataFrame, pathway: str, threshold: float) -> str:
    """One sentence: each strategy's net benefit for ``pathway`` at ``threshold``, per 1,000
    patients (true referrals net of the harm of unnecessary ones), best first.

    Examples
    --------
    >>> c = pd.DataFrame({"pathway": "emergency", "strategy": ["m", "refer all", "refer none"],
    ...                   "threshold": 0.05, "net_benefit": [0.008, -0.03, 0.0],
    ...                   "prevalence": 0.01})
    >>> print(decision_curve_finding(c, "emergency", 0.05))
    Emergency at a 5% threshold, net benefit per 1,000 patients: m 8.0, refer none 0.0,
    refer all −30.0.
    """
    rows = curves[(curves["pathway"] == pathway) & np.isclose(curves["threshold"], threshold)]
    if rows.empty:
        raise ValueError(f"no decision curve for pathway {pathway!r} at threshold {threshold}")
    rows = rows.sort_values("net_benefit", ascending=False, kind="stable")
    parts = [f"{r.strategy} {1000 * r.net_benefit:.1f}".replace("-", "\N{MINUS SIGN}")
             for r in rows.itertuples()]  # fmt: skip
    return (f"{_plain(pathway).capitalize()} at a {threshold:.0%} threshold, net benefit per "
            f"1,000 patients: {', '.join(parts)}.")  # fmt: skip
