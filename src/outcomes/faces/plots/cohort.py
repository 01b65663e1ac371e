"""Figures of a cohort: findings by condition, case mix, shares with intervals."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from outcomes.analysis.describe import NO_PATIENTS
from outcomes.faces.plots.base import (
    PALETTE,
    axes_or_new,
)
from outcomes.knowledge import Knowledge, load_knowledge


def finding_heatmap(
    prevalence: pd.DataFrame, ax: Axes | None = None, knowledge: Knowledge | None = None
) -> Axes:
    """Heatmap of finding prevalence (rows findings, columns conditions), annotated in %.

    Parameters
    ----------
    prevalence
        Output of :func:`outcomes.analysis.describe.finding_prevalence`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure's).
    knowledge : Knowledge, optional
        The knowledge base whose finding labels name the rows (default: the packaged one).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on (a new figure's when ``ax`` is None).

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.analysis.describe import finding_prevalence
    >>> ax = finding_heatmap(finding_prevalence(generate(500, seed=1)))
    >>> ax.get_xlabel()
    'True condition'
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    ax = axes_or_new(ax, figsize=(7.5, 10))
    values = prevalence.to_numpy(dtype=float)
    image = ax.imshow(np.ma.masked_invalid(values), aspect="auto", vmin=0, vmax=1, cmap="viridis")
    labels = {f.name: f.label for f in kb.findings}
    ax.set_yticks(range(len(prevalence.index)), [labels.get(f, f) for f in prevalence.index])
    # A condition without patients has no recorded finding at all: its column says so.
    empty = np.isnan(values).all(axis=0) if values.size else np.zeros(0, dtype=bool)
    ax.set_xticks(
        range(len(prevalence.columns)),
        [
            c.replace("_", " ") + (f"\n({NO_PATIENTS})" if none else "")
            for c, none in zip(prevalence.columns, empty, strict=True)
        ],
        rotation=30,
        ha="right",
    )
    for (i, j), v in np.ndenumerate(values):
        text = "–" if np.isnan(v) else f"{100 * v:.0f}"
        ax.text(
            j,
            i,
            text,
            ha="center",
            va="center",
            fontsize=7,
            color="white" if np.isnan(v) or v < 0.6 else "black",
        )
    ax.figure.colorbar(image, ax=ax, fraction=0.04, label="Share of patients with the finding")
    ax.set_xlabel("True condition")
    ax.set_title("Each condition has its own finding signature (% where recorded)")
    return ax


def case_mix_bars(mix: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Stacked bars: share of each condition per care setting.

    Parameters
    ----------
    mix
        Output of :func:`outcomes.analysis.describe.case_mix`. Each setting's ``expected`` mix gets
        a bar; where ``observed`` shares are present, the cohort gets its own bar beside it.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure's).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on (a new figure's when ``ax`` is None).

    Examples
    --------
    >>> from outcomes.analysis.describe import case_mix
    >>> case_mix_bars(case_mix()).get_ylabel()
    'Share of patients (%)'
    """
    ax = axes_or_new(ax)
    conditions = list(dict.fromkeys(mix["condition"]))
    bars: dict[str, pd.Series] = {}
    for setting, rows in mix.groupby("setting", sort=False):
        rows = rows.set_index("condition")
        bars[setting.replace("_", " ")] = rows["expected"]
        if "observed" in rows and rows["observed"].notna().any():
            bars[f"{setting.replace('_', ' ')}\n(this cohort)"] = rows["observed"].fillna(0)
    table = pd.DataFrame(bars).T.reindex(columns=conditions).fillna(0)
    bottom = np.zeros(len(table))
    for i, condition in enumerate(conditions):
        share = 100 * table[condition].to_numpy()
        ax.bar(
            table.index,
            share,
            bottom=bottom,
            color=PALETTE[i % len(PALETTE)],
            label=condition.replace("_", " "),
        )
        bottom += share
    ax.set_ylabel("Share of patients (%)")
    ax.set_xlabel("Care setting")
    ax.set_ylim(0, 100)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title("Case mix differs by setting: sports clinics see more mimics")
    return ax


def bar_with_ci(
    labels: Sequence[str],
    estimates: Sequence[float],
    lows: Sequence[float],
    highs: Sequence[float],
    ax: Axes | None = None,
    xlabel: str = "",
    title: str = "",
) -> Axes:
    """Horizontal bars with 95% CI whiskers (e.g. accuracy per method).

    Parameters
    ----------
    labels
        One label per bar, top to bottom.
    estimates, lows, highs
        Each bar's estimate and its 95% interval.
    ax
        Axes to draw on (default: a new figure).
    xlabel, title
        Axis label and title.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on (a new figure's when ``ax`` is None).

    Examples
    --------
    >>> ax = bar_with_ci(["rules", "oracle"], [0.8, 0.9], [0.78, 0.88], [0.82, 0.92],
    ...                  xlabel="Accuracy")
    >>> ax.get_xlabel()
    'Accuracy'
    """
    ax = axes_or_new(ax)
    est = np.asarray(estimates, dtype=float)
    # Clip at zero: an interval bound a rounding error past its estimate must not crash.
    err = np.clip(
        np.vstack([est - np.asarray(lows, dtype=float), np.asarray(highs, dtype=float) - est]),
        0.0,
        None,
    )
    ax.barh(list(labels), est, xerr=err, color=PALETTE[: len(est)], capsize=4)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title)
    return ax
