"""Figures of recovery: Kaplan–Meier curves and pain trajectories by policy."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.transforms import offset_copy

from outcomes.analysis.describe import NO_PATIENTS
from outcomes.analysis.survival import at_risk_weeks as evenly_spaced
from outcomes.faces.plots.base import (
    LINESTYLES,
    PALETTE,
    STYLE,
    axes_or_new,
    no_patients,
)


def km_curves(
    km: pd.DataFrame,
    ax: Axes | None = None,
    title: str = "",
    at_risk_weeks: Sequence[int] | None = None,
    labels: dict[str, str] | None = None,
) -> Axes:
    """Kaplan–Meier curves of the share not yet recovered, with 95% bands and at-risk counts.

    Parameters
    ----------
    km : pandas.DataFrame
        Output of :func:`outcomes.analysis.survival.kaplan_meier` (``group``, ``week``,
        ``survival``, ``lower``, ``upper``, ``at_risk``).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure's).
    title : str, optional
        Axes title (none by default).
    at_risk_weeks
        Weeks whose at-risk counts are printed under the axis, one row per group (default:
        five evenly spaced weeks up to the last week in ``km``, whatever the follow-up).
    labels
        Display names for groups (default: the group name with spaces). Groups listed in
        ``km.attrs["empty_groups"]`` (no patients) get a legend entry saying so.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on (a new figure's when ``ax`` is None).

    Examples
    --------
    >>> km = pd.DataFrame({"group": "a", "week": [0, 1, 2], "survival": [1.0, 0.5, 0.2],
    ...                    "lower": [1.0, 0.4, 0.1], "upper": [1.0, 0.6, 0.3],
    ...                    "at_risk": [10, 5, 2]})
    >>> km_curves(km, at_risk_weeks=(0, 2)).get_ylabel()
    'Share not yet recovered'
    """
    if km.empty:
        return no_patients(axes_or_new(ax))
    empty = [g for g in km.attrs.get("empty_groups", ()) if g not in set(km["group"])]
    if at_risk_weeks is None:
        at_risk_weeks = evenly_spaced(int(km["week"].max()))
    groups = list(dict.fromkeys(km["group"]))
    # Layout in points: the axes keep their height whatever the number of groups, and the
    # at-risk table below them gets one line per group (plus its header).
    size = STYLE["xtick.labelsize"]
    line = 1.45 * size
    header_at = 44.0  # below the tick labels and the axis label
    table = header_at + line * (len(groups) + 1) + 10
    axes_height, above = 3.3 * 72, 0.75 * 72
    height = (axes_height + table + above) / 72
    ax = axes_or_new(ax, figsize=(8.4, height))
    names = labels or {}
    for i, group in enumerate(groups):
        rows = km[km["group"] == group]
        colour = PALETTE[i % len(PALETTE)]
        label = names.get(group, group.replace("_", " "))
        ax.step(
            rows["week"],
            rows["survival"],
            where="post",
            color=colour,
            label=label,
            linestyle=LINESTYLES[i % len(LINESTYLES)],
            linewidth=1.8,
        )
        ax.fill_between(
            rows["week"], rows["lower"], rows["upper"], step="post", color=colour, alpha=0.18
        )
    for group in empty:  # a legend entry only: a group without patients has no curve
        ax.plot([], [], " ", label=f"{names.get(group, group.replace('_', ' '))}: {NO_PATIENTS}")
    # Above 1 so a curve that stays at 1 (nobody recovers) is drawn inside the frame.
    ax.set_ylim(0, 1.06)
    ax.set_xlim(0, km["week"].max())
    # The ticks are the at-risk weeks, so every count sits under its tick.
    ax.set_xticks(list(at_risk_weeks))
    ax.set_xlabel("Weeks since triage")
    ax.set_ylabel("Share not yet recovered")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    if title:
        ax.set_title(title)
    # At-risk table under the axis: a header naming the weeks, then one row per group with
    # its counts under the ticks; the group names sit left of the axis (axes coordinates) so
    # they never overlap the week-0 counts. Dark text at the tick-label size.
    fig = ax.figure
    weeks = ", ".join(str(w) for w in at_risk_weeks)

    def below(transform, points, left=0.0):  # ``points`` under the axes' bottom edge
        return offset_copy(transform, fig=fig, x=-left, y=-points, units="points")

    ax.text(
        0.0,
        0.0,
        f"Patients still followed and not yet recovered, at weeks {weeks}:",
        transform=below(ax.transAxes, header_at),
        ha="left",
        va="top",
        fontsize=size,
        color="black",
        fontweight="bold",
    )
    for i, group in enumerate(groups):
        rows = km[km["group"] == group].set_index("week")["at_risk"]
        drop = header_at + line * (i + 1)
        label = names.get(group, group.replace("_", " "))
        # Right-aligned far enough left of the axis that a week-0 count never touches it.
        ax.text(
            0.0,
            0.0,
            label,
            transform=below(ax.transAxes, drop, left=3.2 * size),
            ha="right",
            va="top",
            fontsize=size,
            color="black",
        )
        for week in at_risk_weeks:
            if week in rows.index:
                ax.text(
                    week,
                    0.0,
                    f"{int(rows[week]):,}",
                    transform=below(ax.get_xaxis_transform(), drop),
                    ha="center",
                    va="top",
                    fontsize=size,
                    color="black",
                    clip_on=False,
                )
    fig_height = fig.figure.get_figheight() * 72  # the root figure (itself, or a subfigure's)
    fig.subplots_adjust(
        bottom=min(0.7, table / fig_height), top=1 - above / fig_height, left=0.28, right=0.74
    )
    return ax


def trajectory_bands(
    summary: pd.DataFrame,
    ax: Axes | None = None,
    ylabel: str = "Mean pain (NRS 0-10)",
    title: str = "",
) -> Axes:
    """Mean score per week for each group with its 95% band.

    Parameters
    ----------
    summary
        Output of :func:`outcomes.analysis.survival.trajectory` (``group``, ``week``, ``mean``,
        ``lower``, ``upper``).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure's).
    ylabel : str, optional
        Label of the y axis (the score drawn).
    title : str, optional
        Axes title (none by default).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on (a new figure's when ``ax`` is None).

    Examples
    --------
    >>> s = pd.DataFrame({"group": "a", "week": [0, 1], "mean": [6.0, 5.0],
    ...                   "lower": [5.8, 4.7], "upper": [6.2, 5.3]})
    >>> trajectory_bands(s).get_xlabel()
    'Weeks since triage'
    """
    ax = axes_or_new(ax)
    if summary.empty:
        return no_patients(ax)
    for i, group in enumerate(dict.fromkeys(summary["group"])):
        rows = summary[summary["group"] == group]
        colour = PALETTE[i % len(PALETTE)]
        ax.plot(rows["week"], rows["mean"], color=colour, label=group.replace("_", " "))
        ax.fill_between(rows["week"], rows["lower"], rows["upper"], color=colour, alpha=0.2)
    ax.set_xlabel("Weeks since triage")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper right")
    if title:
        ax.set_title(title)
    return ax
