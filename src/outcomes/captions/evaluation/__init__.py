"""The words of an evaluation, apart from its numbers (:mod:`outcomes.analysis.evaluate`):
reading versions of its tables (:mod:`~outcomes.captions.evaluation.tables`) and the sentences
and figure titles computed from a run (:mod:`~outcomes.captions.evaluation.sentences`).

Examples
--------
>>> from outcomes.captions import evaluation as captions
>>> captions.confusion_caption(["hip", "hip"], {"a": ["spinal", "hip"]})
'Commonest wrong call: a hip → spinal (50% of hip)'
"""

from outcomes.captions.evaluation.sentences import (
    calibration_caption,
    confusion_caption,
    decision_curve_caption,
    discrimination_caption,
    learning_curve_caption,
    oracle_gap_caption,
    oracle_share_caption,
    red_flag_warning,
    safety_sentences,
    sensitivity_caption,
    shift_sentences,
    triage_summary,
)
from outcomes.captions.evaluation.tables import (
    METRIC_LABELS,
    format_brier_table,
    format_metric_table,
    format_safety_table,
    format_shift_table,
    metric_label,
    signed,
    signed_interval,
)

__all__ = [
    "METRIC_LABELS",
    "calibration_caption",
    "confusion_caption",
    "decision_curve_caption",
    "discrimination_caption",
    "format_brier_table",
    "format_metric_table",
    "format_safety_table",
    "format_shift_table",
    "metric_label",
    "learning_curve_caption",
    "oracle_gap_caption",
    "oracle_share_caption",
    "red_flag_warning",
    "safety_sentences",
    "sensitivity_caption",
    "shift_sentences",
    "signed",
    "signed_interval",
    "triage_summary",
]
