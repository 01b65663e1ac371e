"""How well does a triage method send patients to the right pathway, and how safely?

Every function returns numbers (tidy DataFrames) and every estimate comes with a 95% interval
(TRIPOD+AI practice): percentile bootstrap over patients, seeded, so the same call gives the
same interval; proportions of a known number of patients (per-pathway sensitivity,
specificity, PPV, NPV, confusion-matrix shares, safety counts) have Wilson intervals, which
never collapse to a point when every or no patient qualifies, or on request
(``per_pathway_interval="bootstrap"``, ``interval="bootstrap"``) the same seeded percentile
bootstrap as the overall metrics. Resampling patients is done exactly on counts
(:mod:`~outcomes.analysis.evaluate.resampling`), so 1,000 replicates cost the same for a
hundred patients or five million. The sentences and reading versions of these tables live in
:mod:`outcomes.captions.evaluation`.

One module per job:

- :mod:`~outcomes.analysis.evaluate.confusion` — pathway codes, confusion matrices, each
  cell's share;
- :mod:`~outcomes.analysis.evaluate.metrics` — :func:`metric_table` (accuracy, balanced
  accuracy, macro-F1, per-pathway sensitivity, specificity, PPV, NPV), from patients or counts;
- :mod:`~outcomes.analysis.evaluate.safety` — :func:`safety_table`: emergencies missed, red
  flags, over-triage and the cost-weighted error under ``knowledge/costs.toml``;
- :mod:`~outcomes.analysis.evaluate.comparison` — McNemar's exact test, paired differences,
  :func:`oracle_gap`;
- :mod:`~outcomes.analysis.evaluate.calibration` — one-vs-rest reliability, a binomial test per
  bin, Brier scores;
- :mod:`~outcomes.analysis.evaluate.curves` — learning curves and shift;
- :mod:`~outcomes.analysis.evaluate.decision_curves` — net benefit and the costs' threshold;
- :mod:`~outcomes.analysis.evaluate.ceiling` — the Bayes oracle's accuracy, the best any method
  can reach, and who it misses.

Examples
--------
>>> from outcomes.analysis import evaluate as ev
>>> t = ev.metric_table(["spinal", "hip"], ["spinal", "spinal"], n_boot=20)
>>> float(t.set_index(["metric", "pathway"]).loc[("accuracy", "all"), "estimate"])
0.5
"""

from outcomes.analysis.evaluate.calibration import (
    CALIBRATION_ALPHA,
    RELIABILITY_EDGES,
    brier_scores,
    brier_table,
    calibration_check,
    calibration_table,
    check_probabilities,
    emergency_first,
    probabilities_of,
)
from outcomes.analysis.evaluate.ceiling import (
    ceiling,
    ceiling_misses,
)
from outcomes.analysis.evaluate.comparison import (
    compare_paired,
    oracle_gap,
    paired_comparisons,
)
from outcomes.analysis.evaluate.confusion import (
    CELL_COLUMNS,
    EMERGENCY,
    OVERALL,
    commonest_miss,
    confusion,
    confusion_by_method,
    confusion_long,
    paired_codes,
    pathway_codes,
    pathway_labels,
    predictions_of,
    worst_confusion,
)
from outcomes.analysis.evaluate.curves import (
    NOT_DISTINGUISHABLE,
    crossover,
    learning_curve,
    shift_setting,
    shift_table,
)
from outcomes.analysis.evaluate.decision_curves import (
    DEFAULT_THRESHOLDS,
    REFER_ALL,
    REFER_NONE,
    cost_threshold,
    decision_curves,
    net_benefit,
    one_hot,
)
from outcomes.analysis.evaluate.metrics import (
    METRICS,
    PER_PATHWAY,
    estimate_of,
    evaluate_methods,
    metric_table,
    metric_table_from_confusion,
)
from outcomes.analysis.evaluate.resampling import (
    INTERVALS,
    LEVEL,
    bootstrap_counts,
    bootstrap_from_counts,
    bootstrap_mean,
    bootstrap_mean_from_counts,
    check_interval,
    percentile_interval,
    safe_divide,
)
from outcomes.analysis.evaluate.safety import (
    red_flag_misses,
    red_flag_recorded,
    safety_by_method,
    safety_cells,
    safety_table,
    safety_table_from_counts,
)
from outcomes.analysis.intervals import wilson_interval

__all__ = [
    "CALIBRATION_ALPHA",
    "CELL_COLUMNS",
    "DEFAULT_THRESHOLDS",
    "EMERGENCY",
    "INTERVALS",
    "LEVEL",
    "METRICS",
    "NOT_DISTINGUISHABLE",
    "OVERALL",
    "PER_PATHWAY",
    "REFER_ALL",
    "REFER_NONE",
    "RELIABILITY_EDGES",
    "bootstrap_counts",
    "bootstrap_from_counts",
    "bootstrap_mean",
    "bootstrap_mean_from_counts",
    "brier_scores",
    "brier_table",
    "calibration_check",
    "calibration_table",
    "ceiling",
    "ceiling_misses",
    "check_interval",
    "check_probabilities",
    "commonest_miss",
    "compare_paired",
    "confusion",
    "confusion_by_method",
    "confusion_long",
    "cost_threshold",
    "crossover",
    "decision_curves",
    "emergency_first",
    "estimate_of",
    "evaluate_methods",
    "learning_curve",
    "metric_table",
    "metric_table_from_confusion",
    "net_benefit",
    "one_hot",
    "oracle_gap",
    "paired_codes",
    "paired_comparisons",
    "pathway_codes",
    "pathway_labels",
    "percentile_interval",
    "predictions_of",
    "probabilities_of",
    "red_flag_misses",
    "red_flag_recorded",
    "safe_divide",
    "safety_by_method",
    "safety_cells",
    "safety_table",
    "safety_table_from_counts",
    "shift_setting",
    "shift_table",
    "wilson_interval",
    "worst_confusion",
]
