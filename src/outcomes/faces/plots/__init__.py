"""Every figure of the notebooks. Each function takes ``ax=None`` and returns the Axes.

One module-level style (:data:`STYLE`, colour-blind-safe Okabe–Ito palette, fixed size and DPI
so stored notebook outputs stay small and stable) is applied by :func:`use_style`. Computations
live in other modules (``describe``, ``evaluate``, ``recovery``); these functions only draw.

The figures are grouped by topic, and every one is importable from here
(``from outcomes.faces import plots; plots.km_curves(...)``):

- :mod:`~outcomes.faces.plots.base`: palette, style and the helpers the others share;
- :mod:`~outcomes.faces.plots.cohort`: findings by condition, case mix, shares with intervals;
- :mod:`~outcomes.faces.plots.triage`: confusion matrices, reliability, learning curves,
  metric forests, decision curves;
- :mod:`~outcomes.faces.plots.recovery`: Kaplan–Meier curves, pain trajectories;
- :mod:`~outcomes.faces.plots.validation`: published against synthetic figures, headline
  intervals, tornado diagrams, replayed trials.
"""

from outcomes.faces.plots.base import (
    LINESTYLES,
    PALETTE,
    STYLE,
    axes_or_new,
    display_name,
    no_patients,
    pathway_colours,
    use_style,
)
from outcomes.faces.plots.cohort import bar_with_ci, case_mix_bars, finding_heatmap
from outcomes.faces.plots.recovery import km_curves, trajectory_bands
from outcomes.faces.plots.triage import (
    confusion_grid,
    confusion_matrix_plot,
    decision_curve_grid,
    decision_curve_plot,
    learning_curve_plot,
    metric_forest,
    reliability_plot,
)
from outcomes.faces.plots.validation import (
    FOREST_BASES,
    FOREST_COLOURS,
    forest_plot,
    headline_intervals,
    tornado_plot,
    trial_plot,
)

__all__ = [
    "FOREST_BASES",
    "FOREST_COLOURS",
    "LINESTYLES",
    "PALETTE",
    "STYLE",
    "axes_or_new",
    "bar_with_ci",
    "case_mix_bars",
    "confusion_grid",
    "confusion_matrix_plot",
    "decision_curve_grid",
    "decision_curve_plot",
    "display_name",
    "finding_heatmap",
    "forest_plot",
    "headline_intervals",
    "km_curves",
    "learning_curve_plot",
    "metric_forest",
    "no_patients",
    "pathway_colours",
    "reliability_plot",
    "tornado_plot",
    "trajectory_bands",
    "trial_plot",
    "use_style",
]
