"""Sentences, titles and reading tables of the time-to-recovery analysis (notebook 03).

Every function here turns the numbers of :mod:`outcomes.analysis.survival` into words, so a
clinician can review every sentence in one place; nothing here computes a statistic the
analysis does not already return.

- :mod:`~outcomes.captions.survival.tables`: ``format_*``, the analysis tables as text (medians
  as ``"6 (5–7)"``, p-values as ``"<0.001"``);
- :mod:`~outcomes.captions.survival.sentences`: ``*_caption`` sentences under figures and
  tables, and the run's :func:`recovery_summary`;
- :mod:`~outcomes.captions.survival.titles`: ``*_title``, two short lines per figure;
- :mod:`~outcomes.captions.survival.words`: how a policy, a share, weeks or an interval is
  written, shared by all three.
"""

from outcomes.captions.survival.sentences import (
    condition_caption,
    course_events_caption,
    fit_caption,
    harm_caption,
    recovery_summary,
    trajectory_caption,
)
from outcomes.captions.survival.tables import (
    format_combined_presentations,
    format_harms,
    format_logrank,
    format_median_times,
    format_weeks_saved,
)
from outcomes.captions.survival.titles import (
    condition_title,
    fit_title,
    policy_title,
    trajectory_title,
    weeks_saved_title,
)
from outcomes.captions.survival.words import POLICY_NAMES, policy_name

__all__ = [
    "POLICY_NAMES",
    "condition_caption",
    "condition_title",
    "course_events_caption",
    "fit_caption",
    "fit_title",
    "format_combined_presentations",
    "format_harms",
    "format_logrank",
    "format_median_times",
    "format_weeks_saved",
    "harm_caption",
    "policy_name",
    "policy_title",
    "recovery_summary",
    "trajectory_caption",
    "trajectory_title",
    "weeks_saved_title",
]
