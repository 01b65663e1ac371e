"""Figures of validation and sensitivity: published figures against synthetic ones, headline
intervals, tornado diagrams and replayed trials."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from outcomes.faces.plots.base import (
    PALETTE,
    axes_or_new,
    no_patients,
)


def headline_intervals(
    table: pd.DataFrame,
    metric: str = "weeks_saved",
    ax: Axes | None = None,
    xlabel: str = "",
    title: str = "",
) -> Axes:
    """One headline number per policy with its two 95% intervals: sampling (thick) and the
    uncertainty of the model's parameters (thin), from
    :func:`outcomes.analysis.sensitivity.headline`.

    Parameters
    ----------
    table
        :func:`outcomes.analysis.sensitivity.headline` output (index policy, metric).
    metric
        Which metric to draw.
    ax
        Axes to draw on (default: a new figure).
    xlabel, title
        Axis label and title.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> t = pd.DataFrame({"estimate": [0.0, 40.0], "sampling_low": [0.0, 25.0],
    ...                   "sampling_high": [0.0, 55.0], "parameter_low": [0.0, 10.0],
    ...                   "parameter_high": [0.0, 70.0], "parameter_median": [0.0, 38.0]},
    ...                  index=pd.MultiIndex.from_tuples([("rules", "weeks_saved"),
    ...                      ("oracle", "weeks_saved")], names=["policy", "metric"]))
    >>> ax = headline_intervals(t, xlabel="weeks")
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['rules', 'oracle']
    """
    ax = axes_or_new(ax)
    rows = table.xs(metric, level="metric")
    y = np.arange(len(rows))
    est = rows["estimate"].to_numpy(dtype=float)

    def err(low: str, high: str) -> np.ndarray:
        below = est - rows[low].to_numpy(float)
        above = rows[high].to_numpy(float) - est
        return np.clip(np.vstack([below, above]), 0.0, None)

    ax.errorbar(
        est,
        y,
        xerr=err("parameter_low", "parameter_high"),
        fmt="none",
        ecolor="0.45",
        elinewidth=1.2,
        capsize=5,
        label="parameters (95%)",
    )
    ax.errorbar(
        est,
        y,
        xerr=err("sampling_low", "sampling_high"),
        fmt="o",
        color=PALETTE[0],
        elinewidth=4,
        capsize=0,
        label="sampling (95%)",
    )
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, [str(p).replace("_", " ") for p in rows.index])
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.legend(loc="best", frameon=False)
    if title:
        ax.set_title(title)
    return ax


#: Order and headings of the bases in :func:`forest_plot`.
FOREST_BASES = {
    "calibrated": "Calibrated: inputs were fitted to these",
    "published": "Published, held out: never fitted",
    "input": "Inputs echoed back (not published figures)",
}


#: Colours of a synthetic figure in :func:`forest_plot`: met, missed, missed as a known gap.
FOREST_COLOURS = {"met": PALETTE[0], "miss": PALETTE[3], "gap": PALETTE[1]}


def _short(text: str, width: int = 58) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _forest_kind(row: pd.Series) -> str:
    """How a validation row is drawn: met, miss, gap (a documented known gap) or none."""
    if pd.isna(row["met"]):
        return "none"
    if row["met"]:
        return "met"
    return "gap" if row["gap_flagged"] else "miss"


def forest_plot(table: pd.DataFrame, ax: Axes | None = None, title: str = "") -> Axes:
    """Every validation figure: published (diamond, accepted range) vs synthetic (dot, 95%).

    Figures are in different units (shares, years, hazard ratios, weeks), so each is drawn
    relative to its own expected figure (the published value, or the input echoed back) on
    a log scale: 1 is agreement, and the printed numbers on the right give the real values.
    Rows are grouped by basis (:data:`FOREST_BASES`: calibrated apart from held-out published
    figures), and within a basis by group. A miss is drawn as a cross in vermilion (orange for
    a documented known gap) and its label is coloured the same; a figure that could not be
    checked says so.

    Parameters
    ----------
    table
        From :func:`outcomes.analysis.validation.validate`.
    ax
        Axes to draw on (default: a new figure sized to the number of rows).
    title
        Axes title (e.g. :func:`outcomes.captions.validation.forest_title`).

    Returns
    -------
    matplotlib.axes.Axes
        Miss markers carry the gid ``"miss"`` (``"gap"`` for a known gap), met ones ``"met"``.

    Examples
    --------
    >>> t = pd.DataFrame({"group": ["surgery"], "label": ["Operated on"], "basis": ["published"],
    ...                   "published": [0.05], "input": [float("nan")], "low": [0.03],
    ...                   "high": [0.1], "observed": [0.2], "ci_low": [0.18], "ci_high": [0.22],
    ...                   "met": pd.array([False], dtype="boolean"), "gap_flagged": [False]})
    >>> [t.get_text() for t in forest_plot(t).get_yticklabels()]
    ['surgery: Operated on']
    """
    bases = [b for b in FOREST_BASES if (table["basis"] == b).any()]
    bases += [b for b in dict.fromkeys(table["basis"]) if b not in bases]
    blocks = [table[table["basis"] == b] for b in bases]
    n_lines = len(table) + len(blocks)
    ax = axes_or_new(ax, figsize=(9.0, 1.4 + 0.3 * n_lines))
    if table.empty:
        return no_patients(ax, "no figures to show")
    y, ticks, labels, colours, texts = 0.0, [], [], [], [(0.0, "published  vs  synthetic", "black")]
    ratios: list[float] = []
    for basis, block in zip(bases, blocks, strict=True):
        ax.text(
            0.0,
            y,
            FOREST_BASES.get(basis, basis),
            transform=ax.get_yaxis_transform(),
            ha="right",
            va="center",
            fontweight="bold",
            fontsize=9,
        )
        ax.axhline(y + 0.5, color="0.85", linewidth=0.6)
        y += 1
        for _, r in block.iterrows():
            expected = r["input"] if r["basis"] == "input" else r["published"]
            scale = expected if pd.notna(expected) and expected > 0 else np.nan
            kind = _forest_kind(r)
            colour = FOREST_COLOURS.get(kind, "0.4")
            # Published: diamond at 1 with the accepted range, a little above the row's centre.
            if pd.notna(r["low"]) and pd.notna(scale):
                ax.plot(
                    [r["low"] / scale, r["high"] / scale],
                    [y - 0.16] * 2,
                    color="0.55",
                    linewidth=3,
                    solid_capstyle="butt",
                )
                ratios += [r["low"] / scale, r["high"] / scale]
            ax.plot([1.0], [y - 0.16], marker="D", color="black", markersize=4, linestyle="")
            # Synthetic: dot (met) or cross (miss) with its 95% interval, a little below.
            if pd.notna(r["observed"]) and pd.notna(scale):
                lo, mid, hi = (r[c] / scale for c in ("ci_low", "observed", "ci_high"))
                ax.plot([lo, hi], [y + 0.16] * 2, color=colour, linewidth=1.4)
                marker, size = ("o", 4.5) if kind == "met" else ("X", 6)
                (point,) = ax.plot(
                    [mid], [y + 0.16], marker=marker, color=colour, markersize=size, linestyle=""
                )
                point.set_gid(kind)
                ratios += [lo, hi]
            d = (
                3
                if max(
                    abs(v) for v in (expected, r["low"], r["high"], r["observed"]) if pd.notna(v)
                )
                <= 1
                else 2
            )
            shown = "not checked" if pd.isna(r["observed"]) else f"{r['observed']:.{d}f}"
            texts.append((y, f"{expected:.{d}f}  vs  {shown}", colour))
            ticks.append(y)
            labels.append(f"{r['group']}: {_short(str(r['label']))}")
            colours.append(colour if kind in ("miss", "gap", "none") else "black")
            y += 1
    finite = [v for v in ratios if np.isfinite(v) and v > 0] or [1.0]
    left, right = max(min(finite) / 1.3, 0.01), min(max(finite) * 1.3, 100.0)
    ax.set_xscale("log")
    ax.set_xlim(min(left, 0.8), max(right, 1.25))
    ax.axvline(1.0, color="0.3", linewidth=0.8, linestyle=":")
    ax.set_yticks(ticks, labels, fontsize=8)
    for tick, colour in zip(ax.get_yticklabels(), colours, strict=True):
        tick.set_color(colour)
    for row_y, text, colour in texts:
        ax.text(
            1.01,
            row_y,
            text,
            transform=ax.get_yaxis_transform(),
            va="center",
            fontsize=7,
            color=colour if colour != FOREST_COLOURS["met"] else "black",
        )
    ax.set_ylim(y - 0.4, -0.6)
    ax.set_xlabel("Relative to the published figure (log scale; 1 = agreement)")
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color="black", marker="D", markersize=4, linestyle=""),
        Line2D([], [], color="0.55", linewidth=3),
        Line2D([], [], color=FOREST_COLOURS["met"], marker="o", markersize=4.5, linewidth=1.4),
        Line2D([], [], color=FOREST_COLOURS["miss"], marker="X", markersize=6, linewidth=1.4),
        Line2D([], [], color=FOREST_COLOURS["gap"], marker="X", markersize=6, linewidth=1.4),
    ]
    names = [
        "published",
        "accepted range",
        "synthetic, met (95% interval)",
        "synthetic, missed",
        "missed, documented known gap",
    ]
    # Below the x label: 0.55 inch under the Axes, whatever its height.
    height = ax.get_position().height * ax.figure.figure.get_figheight()
    ax.legend(
        handles, names, loc="upper center", bbox_to_anchor=(0.5, -0.55 / height), ncol=3, fontsize=7
    )
    if title:
        ax.set_title(title)
    return ax


def tornado_plot(
    one_way_table: pd.DataFrame,
    top: int = 10,
    ax: Axes | None = None,
    xlabel: str = "",
    title: str = "",
) -> Axes:
    """Tornado plot of a one-way sensitivity analysis: the ``top`` numbers that move it most.

    Each bar runs from the central answer to the answer with one number at the low end of its
    range (blue) and at the high end (orange); the largest swing is on top.

    Parameters
    ----------
    one_way_table
        From :func:`outcomes.analysis.sensitivity.one_way` (``low``, ``high``, ``at_low``,
        ``at_high``,
        ``central``, ``swing``; indexed by key).
    top
        How many numbers to show (>= 1).
    ax
        Axes to draw on (default: a new figure).
    xlabel, title
        Axis label and title.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> t = pd.DataFrame({"low": [0.5, 1.0], "high": [1.0, 2.0], "at_low": [40.0, 47.0],
    ...                   "at_high": [55.0, 49.0], "central": 48.0, "swing": [15.0, 2.0]},
    ...                  index=pd.Index(["a.b", "c.d"], name="key"))
    >>> [t.get_text() for t in tornado_plot(t).get_yticklabels()]
    ['a.b (0.5–1)', 'c.d (1–2)']
    """
    if top < 1:
        raise ValueError(f"top must be >= 1, got {top}")
    ax = axes_or_new(ax, figsize=(7.5, 1.2 + 0.35 * min(top, max(len(one_way_table), 1))))
    if one_way_table.empty:
        return no_patients(ax, "no ranged number to vary")
    rows = one_way_table.sort_values("swing", ascending=False, kind="stable").head(top)
    central = float(rows["central"].iloc[0])
    y = np.arange(len(rows))
    ends = {
        "at_low": (PALETTE[0], "number at the low end of its range"),
        "at_high": (PALETTE[1], "number at the high end"),
    }
    for i, (_, r) in enumerate(rows.iterrows()):
        # The longer bar first, so that two bars on the same side both stay visible.
        for column in sorted(ends, key=lambda c: -abs(r[c] - central)):
            colour = ends[column][0]
            ax.barh(i, r[column] - central, left=central, height=0.6, color=colour)
    ax.axvline(central, color="black", linewidth=0.8)
    ax.set_yticks(y, [f"{k} ({r['low']:g}–{r['high']:g})" for k, r in rows.iterrows()], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel or "Answer with one number moved (central answer: black line)")
    from matplotlib.patches import Patch

    ax.legend(
        [Patch(color=colour) for colour, _ in ends.values()],
        [name for _, name in ends.values()],
        loc="lower right",
        fontsize=7,
    )
    if title:
        ax.set_title(title)
    return ax


def trial_plot(replicates: pd.DataFrame, trial, ax: Axes | None = None, title: str = "") -> Axes:
    """Histogram of the simulated trials' hazard ratios beside the published estimate.

    The published estimate is a black line with its 95% interval shaded; dashed lines mark
    the central 95% of the simulated trials.

    Parameters
    ----------
    replicates
        From :func:`outcomes.analysis.trial.simulate_trials`.
    trial
        The :class:`outcomes.analysis.trial.Trial` replayed.
    ax
        Axes to draw on (default: a new figure).
    title
        Axes title (e.g. :func:`outcomes.captions.validation.trial_title`).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from outcomes.analysis.trial import trial
    >>> ax = trial_plot(pd.DataFrame({"hazard_ratio": [1.5, 2.0, 2.5]}), trial("peul2007"))
    >>> ax.get_xlabel()
    'Hazard ratio, early surgery vs prolonged conservative care (log scale)'
    """
    ax = axes_or_new(ax)
    hr = replicates["hazard_ratio"].dropna().to_numpy(dtype=float)
    hr = hr[np.isfinite(hr) & (hr > 0)]
    if hr.size == 0:
        return no_patients(ax, "no simulated trial to show")
    lo, hi = np.percentile(hr, [2.5, 97.5])
    edges = np.geomspace(min(hr.min(), trial.low) / 1.05, max(hr.max(), trial.high) * 1.05, 31)
    ax.hist(
        hr,
        bins=edges.tolist(),  # the same edges; matplotlib's stubs want a sequence
        color=PALETTE[5],
        edgecolor="white",
        label=f"{hr.size} simulated trials of {trial.size} patients",
    )
    ax.axvspan(trial.low, trial.high, color="0.6", alpha=0.3, label="published 95% CI")
    ax.axvline(
        trial.hazard_ratio,
        color="black",
        linewidth=1.5,
        label=f"published estimate {trial.hazard_ratio:.2f}",
    )
    for i, edge in enumerate((lo, hi)):
        ax.axvline(
            edge,
            color=PALETTE[3],
            linestyle="--",
            linewidth=1,
            label="central 95% of simulated trials" if i == 0 else None,
        )
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(mpl.ticker.FormatStrFormatter("%.1f"))
    ax.xaxis.set_minor_formatter(mpl.ticker.FormatStrFormatter("%.1f"))
    ax.set_xlabel(f"Hazard ratio, {trial.experimental.label} vs {trial.control.label} (log scale)")
    ax.set_ylabel("Simulated trials")
    ax.legend(loc="best", fontsize=7)
    if title:
        ax.set_title(title)
    return ax
