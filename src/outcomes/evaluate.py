"""How well does a triage method send patients to the right pathway, and how safely?

Every function returns a tidy DataFrame and every estimate comes with a 95% interval
(TRIPOD+AI practice): percentile bootstrap over patients, seeded, so the same call gives the
same interval. Resampling patients is done exactly on counts: a replicate of the confusion
matrix is one multinomial draw over its cells, and every metric is computed from confusion
matrices, so 1,000 replicates cost the same for a hundred patients or five million.

- :func:`metric_table` — accuracy, balanced accuracy, macro-F1, and per pathway sensitivity,
  specificity, PPV and NPV;
- :func:`safety_table` — emergencies missed (under-triage of red flags), over-triage, and the
  cost-weighted error under ``knowledge/costs.toml`` (:func:`load_costs`);
- :func:`compare_paired` — McNemar's exact test and the paired difference in accuracy;
- :func:`calibration_table` / :func:`brier_scores` — one-vs-rest reliability, emergency first;
- :func:`oracle_gap` — accuracy as a fraction of the Bayes oracle's on the same patients;
- :func:`learning_curve` — training size at which a learned model matches, then beats, a
  reference (the rules), on the same test patients;
- :func:`shift_table` — accuracy of fitted methods on other cohorts (another setting, more
  missing exam findings);
- :func:`evaluate_methods` and :func:`format_metric_table` — several methods side by side.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from outcomes.cohort import feature_columns
from outcomes.describe import format_estimate, proportion_ci
from outcomes.knowledge import (
    KNOWLEDGE_DIR,
    Knowledge,
    _Reader,
    _References,
    load_knowledge,
)
from outcomes.summary import Summary

EMERGENCY = "emergency"
OVERALL = "all"
LEVEL = 0.95


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
    directory = kb.directory if (kb.directory / "costs.toml").exists() else KNOWLEDGE_DIR
    sources: dict[str, str] = {}
    reader = _Reader(directory / "costs.toml", _References(directory / "references.toml"), sources)
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
    array = np.asarray(pd.Series(values).astype(object).to_numpy(), dtype=object)
    lookup = {label: i for i, label in enumerate(labels)}
    codes = np.fromiter((lookup.get(v, -1) for v in array), dtype=np.int64, count=len(array))
    if (codes < 0).any():
        bad = sorted({str(v) for v in array[codes < 0]})[:5]
        raise ValueError(f"{what} holds unknown pathway(s) {bad}; known: {', '.join(labels)}")
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
    rng = np.random.default_rng(seed)
    n = len(codes)
    if n == 0:
        return np.zeros((n_boot, n_codes), dtype=np.int64)
    shares = np.bincount(codes, minlength=n_codes) / n
    return rng.multinomial(n, shares, size=n_boot)


def _boot_mean(values: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Bootstrap replicates of the mean of ``values`` (few distinct values: costs, 0/1, ±1)."""
    distinct, codes = np.unique(values, return_inverse=True)
    counts = _boot_counts(codes.ravel(), len(distinct), n_boot, seed)
    return counts @ distinct / max(len(values), 1) if len(values) else np.full(n_boot, np.nan)


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
) -> pd.DataFrame:
    """Accuracy metrics with percentile-bootstrap intervals, as a tidy table.

    Parameters
    ----------
    y_true, y_pred
        Pathway names, one per patient.
    labels
        Pathways in report order (default: the knowledge base's).
    n_boot, seed, level
        Bootstrap replicates, their seed, and the interval's coverage.

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
    labels = _labels(labels)
    true, pred = _pair(y_true, y_pred, labels)
    point, boot = _confusions(true, pred, len(labels), n_boot, seed)
    present = point.sum(axis=1) > 0
    rows = []
    overall_point, overall_boot = _overall(point, present), _overall(boot, present)
    for metric in METRICS:
        lo, hi = _interval(overall_boot[metric][:, None], level)
        rows.append((metric, OVERALL, float(overall_point[metric]), lo[0], hi[0], len(true)))
    per_point, per_boot = _per_class(point), _per_class(boot)
    sizes = {
        "sensitivity": per_point["actual"],
        "specificity": per_point["negatives"],
        "ppv": per_point["predicted"],
        "npv": len(true) - per_point["predicted"],
    }
    for metric in PER_PATHWAY:
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
    y_true: Any, y_pred: Any, *, labels: Sequence[str] | None = None
) -> pd.DataFrame:
    """The confusion matrix as a tidy table: ``true``, ``assigned``, ``patients``, ``share``.

    Examples
    --------
    >>> t = confusion_long(["hip"], ["spinal"], labels=["hip", "spinal"])
    >>> t.iloc[1][["true", "assigned"]].tolist(), int(t.iloc[1].patients)
    (['hip', 'spinal'], 1)
    """
    counts = confusion(y_true, y_pred, labels=labels)
    shares = confusion(y_true, y_pred, labels=labels, normalize=True)
    out = counts.stack(future_stack=True).rename("patients").to_frame()
    out["share"] = shares.stack(future_stack=True)
    return out.reset_index()


# --------------------------------------------------------------------------------------------
# Safety


def safety_table(
    y_true: Any,
    y_pred: Any,
    *,
    patients: pd.DataFrame | None = None,
    costs: pd.DataFrame | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = LEVEL,
) -> pd.DataFrame:
    """Red-flag safety: emergencies caught and missed, over-triage, cost-weighted error.

    Parameters
    ----------
    patients
        If given (the rows of ``y_true``), also counts missed emergencies whose record shows a
        red flag (``rf_*`` recorded positive): the misses a rule on red flags should never make.
    costs
        Cost matrix (default :func:`load_costs`).

    Returns
    -------
    pandas.DataFrame
        One row per measure: ``measure``, ``estimate``, ``low``, ``high``, ``count``, ``of``.
        Proportions have Wilson intervals; the mean cost per patient a bootstrap interval.

    Examples
    --------
    >>> t = safety_table(["emergency", "spinal", "spinal"], ["spinal", "spinal", "emergency"],
    ...                  n_boot=50)
    >>> row = t.set_index("measure").loc["emergencies missed"]
    >>> int(row["count"]), int(row["of"])
    (1, 1)
    """
    costs = load_costs() if costs is None else costs
    labels = list(costs.index)
    true, pred = _pair(y_true, y_pred, labels)
    e = labels.index(EMERGENCY)
    is_emergency, sent = true == e, pred == e
    rows = []

    def proportion(measure: str, count: int, of: int) -> None:
        lo, hi = proportion_ci(count, of)
        rows.append((measure, count / of if of else np.nan, lo, hi, count, of))

    n_emergency = int(is_emergency.sum())
    proportion("emergency sensitivity", int((is_emergency & sent).sum()), n_emergency)
    proportion("emergencies missed", int((is_emergency & ~sent).sum()), n_emergency)
    if patients is not None:
        flags = patients.filter(regex=r"^rf_").fillna(False).astype(bool).any(axis=1).to_numpy()
        if len(flags) != len(true):
            raise ValueError("patients must have one row per prediction")
        proportion(
            "missed with a red flag recorded",
            int((is_emergency & ~sent & flags).sum()),
            int((is_emergency & flags).sum()),
        )
    proportion("over-triage to emergency", int((~is_emergency & sent).sum()),
               int((~is_emergency).sum()))  # fmt: skip
    cost = costs.to_numpy()[true, pred]
    boot = _boot_mean(cost, n_boot, seed)
    lo, hi = _interval(boot[:, None], level) if len(cost) else ([np.nan], [np.nan])
    rows.append(
        ("mean cost per patient", cost.mean() if len(cost) else np.nan, lo[0], hi[0],
         int((cost > 0).sum()), len(cost))
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


# --------------------------------------------------------------------------------------------
# Calibration


def calibration_table(
    y_true: Any, proba: np.ndarray, classes: Sequence[str], *, n_bins: int = 10
) -> pd.DataFrame:
    """One-vs-rest reliability per pathway (emergency first): predicted vs observed by bin.

    Returns columns ``pathway``, ``bin``, ``mean_predicted``, ``observed``, ``low``, ``high``
    (Wilson interval of the observed share) and ``n``; empty bins are left out.

    Examples
    --------
    >>> t = calibration_table(["hip", "spinal"], np.array([[0.9, 0.1], [0.2, 0.8]]),
    ...                       ["hip", "spinal"], n_bins=2)
    >>> t[["pathway", "bin", "n"]].values.tolist()
    [['hip', 0, 1], ['hip', 1, 1], ['spinal', 0, 1], ['spinal', 1, 1]]
    """
    true = np.asarray(pd.Series(y_true).astype(str))
    proba = np.asarray(proba, dtype=float)
    order = sorted(range(len(classes)), key=lambda j: (classes[j] != EMERGENCY, j))
    rows = []
    for j in order:
        p, hit = proba[:, j], true == classes[j]
        bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
        n = np.bincount(bins, minlength=n_bins)
        sum_p = np.bincount(bins, weights=p, minlength=n_bins)
        hits = np.bincount(bins, weights=hit, minlength=n_bins)
        for b in np.flatnonzero(n):
            lo, hi = proportion_ci(int(hits[b]), int(n[b]))
            rows.append((classes[j], int(b), sum_p[b] / n[b], hits[b] / n[b], lo, hi, int(n[b])))
    columns = ["pathway", "bin", "mean_predicted", "observed", "low", "high", "n"]
    return pd.DataFrame(rows, columns=columns)


def brier_scores(y_true: Any, proba: np.ndarray, classes: Sequence[str]) -> pd.DataFrame:
    """Brier score per pathway (one-vs-rest) and overall (multiclass, summed over pathways),
    with the expected calibration error of each pathway's probabilities (10 bins).

    Examples
    --------
    >>> t = brier_scores(["hip", "spinal"], np.array([[1.0, 0.0], [0.0, 1.0]]), ["hip", "spinal"])
    >>> t["brier"].tolist()
    [0.0, 0.0, 0.0]
    """
    true = np.asarray(pd.Series(y_true).astype(str))
    proba = np.asarray(proba, dtype=float)
    onehot = np.column_stack([true == c for c in classes]).astype(float)
    squared = (proba - onehot) ** 2
    table = calibration_table(y_true, proba, classes)
    rows = []
    for j, c in enumerate(classes):
        part = table[table["pathway"] == c]
        ece = float((part["n"] * (part["mean_predicted"] - part["observed"]).abs()).sum()
                    / max(len(true), 1))  # fmt: skip
        rows.append((c, float(squared[:, j].mean()) if len(true) else np.nan, ece))
    rows.append((OVERALL, float(squared.sum(axis=1).mean()) if len(true) else np.nan, np.nan))
    rows.sort(key=lambda r: (r[0] != EMERGENCY, r[0] == OVERALL))
    return pd.DataFrame(rows, columns=["pathway", "brier", "calibration_error"])


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
) -> pd.DataFrame:
    """:func:`metric_table` for several methods on the same patients, with a ``method`` column.

    Every method is resampled with the same seed, so the replicates pair patients across
    methods.

    Examples
    --------
    >>> from outcomes.cohort import generate
    >>> patients = generate(300, seed=1)
    >>> t = evaluate_methods({"truth": patients["pathway"]}, patients, n_boot=20)
    >>> float(t[(t.method == "truth") & (t.metric == "accuracy")].estimate.iloc[0])
    1.0
    """
    truth = patients["pathway"].astype(str)
    frames = [
        metric_table(truth, predictions_of(m, patients), n_boot=n_boot, seed=seed).assign(
            method=name
        )  # fmt: skip
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
        ``"below"``, ``"matches"`` (interval of the difference includes 0) or ``"beats"``
        (lower bound above 0). :func:`crossover` reads off the sizes.

    Examples
    --------
    >>> from outcomes.cohort import generate
    >>> from outcomes.models import fit_model
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
        verdict = "beats" if d_lo > 0 else "matches" if d_hi >= 0 else "below"
        rows.append((int(size), right.mean(), lo[0], hi[0], float(paired["difference"].iloc[0]),
                     d_lo, d_hi, verdict))  # fmt: skip
    columns = ["size", "accuracy", "low", "high", "difference", "diff_low", "diff_high", "verdict"]
    return pd.DataFrame(rows, columns=columns)


def crossover(curve: pd.DataFrame) -> dict[str, int | None]:
    """Smallest training size that matches, and that beats, the reference in a learning curve.

    Examples
    --------
    >>> crossover(pd.DataFrame({"size": [10, 20, 40], "verdict": ["below", "matches", "beats"]}))
    {'matches': 20, 'beats': 40}
    """

    def first(verdicts: tuple[str, ...]) -> int | None:
        hit = curve[curve["verdict"].isin(verdicts)]
        return int(hit["size"].iloc[0]) if len(hit) else None

    return {"matches": first(("matches", "beats")), "beats": first(("beats",))}


def shift_table(
    methods: Mapping[str, Any],
    cohorts: Mapping[str, pd.DataFrame],
    *,
    n_boot: int = 500,
    seed: int = 0,
    level: float = LEVEL,
) -> pd.DataFrame:
    """Accuracy of fitted methods on several test cohorts (e.g. another setting, more missing
    exam findings): ``cohort``, ``method``, ``accuracy``, ``low``, ``high``, ``n``.

    Examples
    --------
    >>> from outcomes.cohort import generate
    >>> from outcomes.oracle import BayesOracle
    >>> cohorts = {"same": generate(300, seed=2), "sparse": generate(300, seed=3,
    ...                                                             exam_missing_rate=0.9)}
    >>> t = shift_table({"oracle": BayesOracle().fit(cohorts["same"])}, cohorts, n_boot=20)
    >>> t["cohort"].tolist()
    ['same', 'sparse']
    """
    rows = []
    for cohort_name, patients in cohorts.items():
        truth = patients["pathway"].astype(str).to_numpy()
        for method_name, method in methods.items():
            right = predictions_of(method, patients) == truth
            boot = _boot_mean(right.astype(float), n_boot, seed)
            lo, hi = _interval(boot[:, None], level)
            rows.append((cohort_name, method_name, right.mean(), lo[0], hi[0], len(right)))
    return pd.DataFrame(rows, columns=["cohort", "method", "accuracy", "low", "high", "n"])


def safety_by_method(
    methods: Mapping[str, Any],
    patients: pd.DataFrame,
    *,
    costs: pd.DataFrame | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """:func:`safety_table` for several methods on the same patients, with a ``method`` column.

    Examples
    --------
    >>> from outcomes.cohort import generate
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
    >>> from outcomes.cohort import generate
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
        The team's patients (:func:`outcomes.userdata.read_patients`).
    predictions
        The team's calls aligned to ``patients`` (:func:`outcomes.userdata.read_predictions`).
    n_train
        Size of the synthetic training cohort, drawn in the team's most common setting.

    Returns
    -------
    dict
        ``your triage``, ``rules`` and ``boosted (synthetic)``: one pathway per patient each.

    Examples
    --------
    >>> from outcomes.cohort import generate
    >>> team = generate(200, seed=5)
    >>> calls = pd.DataFrame({"pathway": team["pathway"]})
    >>> list(team_methods(team, calls, n_train=1000))
    ['your triage', 'rules', 'boosted (synthetic)']
    """
    from outcomes.cohort import generate
    from outcomes.models import fit_model
    from outcomes.triage import RulesTriage

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
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Metric and safety tables of :func:`team_methods` on the team's patients.

    Returns
    -------
    (metrics, safety)
        :func:`evaluate_methods` and :func:`safety_by_method` of the three methods.

    Examples
    --------
    >>> from outcomes.cohort import generate
    >>> team = generate(200, seed=5)
    >>> calls = pd.DataFrame({"pathway": team["pathway"]})
    >>> metrics, safety = evaluate_team(team, calls, n_train=1000, n_boot=20)
    >>> sorted(set(safety["method"]))
    ['boosted (synthetic)', 'rules', 'your triage']
    """
    methods = team_methods(patients, predictions, n_train=n_train, seed=seed)
    metrics = evaluate_methods(methods, patients, n_boot=n_boot, seed=seed)
    safety = safety_by_method(methods, patients, n_boot=n_boot, seed=seed)
    return metrics, safety
