"""Figures of triage accuracy: confusion matrices, reliability, learning curves, metric
forests and decision curves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.layout_engine import ConstrainedLayoutEngine

from outcomes.analysis.evaluate import REFER_ALL, REFER_NONE
from outcomes.faces.plots.base import (
    LINESTYLES,
    PALETTE,
    axes_or_new,
    display_name,
    no_patients,
    pathway_colours,
    use_style,
)


def confusion_matrix_plot(
    matrix: pd.DataFrame,
    ax: Axes | None = None,
    title: str = "",
    colorbar: bool = False,
    intervals: pd.DataFrame | None = None,
) -> Axes:
    """Row-normalised confusion matrix as a heatmap, each cell annotated in %.

    Parameters
    ----------
    matrix
        :func:`outcomes.analysis.evaluate.confusion` with ``normalize=True`` (rows: true pathway).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure's).
    title : str, optional
        Axes title (none by default).
    colorbar : bool, optional
        Draw a colour bar of the shares beside the matrix.
    intervals
        Optional :func:`outcomes.analysis.evaluate.confusion_long` of the same calls: each cell then
        shows its 95% interval under the share (``"41"`` over ``"38–44"``).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on (a new figure's when ``ax`` is None).

    Examples
    --------
    >>> from outcomes.analysis.evaluate import confusion
    >>> m = confusion(["hip", "spinal"], ["hip", "hip"], labels=["hip", "spinal"], normalize=True)
    >>> confusion_matrix_plot(m).get_ylabel()
    'True pathway'
    """
    ax = axes_or_new(ax, figsize=(4.2, 3.8))
    values = matrix.to_numpy(dtype=float)
    if values.size == 0 or np.isnan(values).all():
        return no_patients(ax)
    image = ax.imshow(np.nan_to_num(values), vmin=0, vmax=1, cmap="Blues")
    bounds = None
    if intervals is not None:
        cells = intervals.set_index(["true", "assigned"])
        index = pd.MultiIndex.from_product([matrix.index, matrix.columns])
        bounds = cells.reindex(index)[["low", "high"]].to_numpy().reshape(*values.shape, 2)
    for (i, j), v in np.ndenumerate(values):
        text = "–" if np.isnan(v) else f"{100 * v:.0f}"
        colour = "white" if np.nan_to_num(v) > 0.6 else "black"
        if bounds is not None and np.isfinite(bounds[i, j]).all() and not np.isnan(v):
            ax.text(
                j,
                i - 0.14,
                text,
                ha="center",
                va="center",
                fontsize=11,
                color=colour,
                fontweight="bold",
            )
            lo, hi = 100 * bounds[i, j]
            ax.text(
                j,
                i + 0.22,
                f"{lo:.0f}–{hi:.0f}",
                ha="center",
                va="center",
                fontsize=8.5,
                color=colour,
            )
        else:
            ax.text(j, i, text, ha="center", va="center", fontsize=11, color=colour)
    ax.set_xticks(
        range(len(matrix.columns)),
        [display_name(c) for c in matrix.columns],
        rotation=45,
        ha="right",
    )
    ax.set_yticks(range(len(matrix.index)), [display_name(c) for c in matrix.index])
    ax.set_xlabel("Assigned pathway")
    ax.set_ylabel("True pathway")
    ax.spines[:].set_visible(False)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label="Share of the true pathway")
    if title:
        ax.set_title(title)
    return ax


def confusion_grid(
    cells: pd.DataFrame,
    axes: Sequence[Axes] | np.ndarray | None = None,
    title: str = "",
    intervals: bool = True,
) -> np.ndarray:
    """One row-normalised confusion matrix per method, side by side, on shared pathways.

    Each panel's title comes from its cells: the method, the share it got right and, on a
    second line, its commonest wrong call (``"commonest miss: hip → spinal 41%"``, the share
    of the true pathway). With ``intervals`` each cell also shows its Wilson 95% interval.

    Parameters
    ----------
    cells
        :func:`outcomes.analysis.evaluate.confusion_by_method` of the methods' calls.
    axes
        One Axes per method (default: a new figure with a row of them).
    title
        Figure title (e.g. :func:`outcomes.captions.evaluation.confusion_caption`).
    intervals
        Show each cell's interval under its share.

    Returns
    -------
    numpy.ndarray
        The Axes, one per method, in the order of ``cells``.

    Examples
    --------
    >>> from outcomes.analysis.evaluate import confusion_by_method
    >>> truth = ["hip", "spinal", "spinal"]
    >>> cells = confusion_by_method(truth, {"a": ["spinal", "spinal", "spinal"], "b": truth})
    >>> [ax.get_title() for ax in confusion_grid(cells)]
    ['a: 67% right\\ncommonest miss: hip → spinal 100%', 'b: 100% right']
    """
    names = list(dict.fromkeys(cells["method"]))
    ncols = len(names)
    if axes is None:
        use_style()
        count = max(len(names), 1)
        ncols = 2 if count == 4 else min(count, 3)  # four panels: two rows of two
        nrows = -(-count // ncols)
        fig, created = plt.subplots(nrows, ncols, squeeze=False,
                                    figsize=(5.6 * ncols, 5.4 * nrows),
                                    constrained_layout=True)  # fmt: skip
        engine = fig.get_layout_engine()
        assert isinstance(engine, ConstrainedLayoutEngine)  # constrained_layout=True above
        engine.set(w_pad=0.15, h_pad=0.2, wspace=0.08, hspace=0.08)
        for extra in created.ravel()[count:]:
            extra.set_visible(False)
        axes = created.ravel()[: len(names)]
    panels = np.asarray(axes, dtype=object).ravel()
    if len(panels) != len(names):
        raise ValueError(f"got {len(panels)} axes for {len(names)} methods")
    for k, (ax, name) in enumerate(zip(panels, names, strict=True)):
        own = cells[cells["method"] == name]
        matrix = own.pivot(index="true", columns="assigned", values="share")
        order = list(dict.fromkeys(own["true"]))
        matrix = matrix.loc[order, order]
        total = int(own["patients"].sum())
        right = int(own.loc[own["true"] == own["assigned"], "patients"].sum())
        panel = f"{name}: {right / total:.0%} right" if total else f"{name}: no patients"
        worst = own[own["commonest_miss"]]
        if len(worst):
            w = worst.iloc[0]
            miss = f"{display_name(w.true)} → {display_name(w.assigned)} {w.share:.0%}"
            panel += f"\ncommonest miss: {miss}"
        confusion_matrix_plot(matrix, ax=ax, title=panel, intervals=own if intervals else None)
        if k % max(ncols, 1) > 0:
            ax.set_ylabel("")
    if title and len(panels):
        panels[0].figure.suptitle(title, fontweight="bold")
    return panels


def reliability_plot(table: pd.DataFrame, ax: Axes | None = None, title: str = "") -> Axes:
    """Reliability curves, one per pathway: observed share against predicted probability.

    Each pathway has the same colour in every call (the knowledge base's order), so panels of
    several models compare at a glance.

    Parameters
    ----------
    table
        :func:`outcomes.analysis.evaluate.calibration_table` (``pathway``, ``mean_predicted``,
        ``observed``, ``low``, ``high``, ``n``).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure's).
    title : str, optional
        Axes title (none by default).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on (a new figure's when ``ax`` is None).

    Examples
    --------
    >>> t = pd.DataFrame({"pathway": "hip", "bin": [0, 9], "mean_predicted": [0.05, 0.95],
    ...                   "observed": [0.04, 0.96], "low": [0.03, 0.9], "high": [0.06, 0.99],
    ...                   "n": [100, 50]})
    >>> reliability_plot(t).get_xlabel()
    'Predicted probability'
    """
    ax = axes_or_new(ax, figsize=(5.0, 4.6))
    if table.empty:
        return no_patients(ax)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect")
    colours = pathway_colours(table["pathway"])
    for pathway in dict.fromkeys(table["pathway"]):
        rows = table[table["pathway"] == pathway]
        colour = colours[pathway]
        err = np.clip(
            np.vstack([rows["observed"] - rows["low"], rows["high"] - rows["observed"]]), 0, None
        )
        ax.errorbar(
            rows["mean_predicted"],
            rows["observed"],
            yerr=err,
            color=colour,
            marker="o",
            markersize=3,
            capsize=2,
            label=display_name(pathway),
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("Predicted probability")
    ax.set_ylabel("Observed share (95% CI)")
    # Beside the axes, not over the points (they can lie anywhere in the square).
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, fontsize=9)
    if title:
        ax.set_title(title)
    return ax


def learning_curve_plot(
    curve: pd.DataFrame,
    reference: tuple[float, float, float] | None = None,
    ax: Axes | None = None,
    reference_label: str = "rules",
    ceiling: float | None = None,
    title: str = "",
) -> Axes:
    """Accuracy by number of training patients with a 95% band, against a reference line.

    Parameters
    ----------
    curve
        :func:`outcomes.analysis.evaluate.learning_curve` (``size``, ``accuracy``, ``low``,
        ``high``);
        several models may be stacked with a ``model`` column.
    reference
        ``(estimate, low, high)`` of the reference method (drawn as a line with a band).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure's).
    reference_label : str, optional
        Legend label of the reference line.
    ceiling
        The oracle's accuracy, drawn as a dashed line.
    title : str, optional
        Axes title (none by default).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on (a new figure's when ``ax`` is None).

    Examples
    --------
    >>> c = pd.DataFrame({"size": [100, 1000], "accuracy": [0.8, 0.9], "low": [0.78, 0.89],
    ...                   "high": [0.82, 0.91]})
    >>> learning_curve_plot(c, reference=(0.78, 0.77, 0.79)).get_xscale()
    'log'
    """
    ax = axes_or_new(ax)
    if curve.empty:
        return no_patients(ax)
    groups = curve.groupby("model", sort=False) if "model" in curve else [("model", curve)]
    for i, (name, rows) in enumerate(groups):
        colour = PALETTE[(i + 1) % len(PALETTE)]
        ax.plot(
            rows["size"],
            rows["accuracy"],
            marker="o",
            markersize=3,
            color=colour,
            label=display_name(name),
        )
        ax.fill_between(rows["size"], rows["low"], rows["high"], color=colour, alpha=0.2)
    if reference is not None:
        est, lo, hi = reference
        ax.axhline(est, color=PALETTE[0], linewidth=1.2, label=reference_label)
        ax.axhspan(lo, hi, color=PALETTE[0], alpha=0.12)
    if ceiling is not None:
        ax.axhline(ceiling, color="black", linestyle="--", linewidth=1, label="oracle")
    ax.set_xscale("log")
    ax.set_xlabel("Training patients (log scale)")
    ax.set_ylabel("Accuracy on held-out patients")
    ax.legend(loc="lower right")
    if title:
        ax.set_title(title)
    return ax


def metric_forest(
    table: pd.DataFrame, metric: str, ax: Axes | None = None, xlabel: str = "", title: str = ""
) -> Axes:
    """Dot-and-whisker plot of one metric for several methods (and pathways), with 95% CIs.

    Parameters
    ----------
    table
        :func:`outcomes.analysis.evaluate.evaluate_methods` (``method``, ``metric``, ``pathway``,
        ``estimate``, ``low``, ``high``).
    metric : str
        The metric to draw (a value of the ``metric`` column).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure's).
    xlabel : str, optional
        Label of the x axis (default: the metric's display name).
    title : str, optional
        Axes title (none by default).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on (a new figure's when ``ax`` is None).

    Examples
    --------
    >>> t = pd.DataFrame({"method": ["a", "b"], "metric": "accuracy", "pathway": "all",
    ...                   "estimate": [0.8, 0.9], "low": [0.78, 0.88], "high": [0.82, 0.92]})
    >>> metric_forest(t, "accuracy").get_xlabel()
    'accuracy'
    """
    ax = axes_or_new(ax)
    rows = table[table["metric"] == metric].dropna(subset=["estimate"])
    if rows.empty:
        return no_patients(ax)
    pathways = list(dict.fromkeys(rows["pathway"]))
    methods = list(dict.fromkeys(rows["method"]))
    step = 0.8 / max(len(methods), 1)
    for i, method in enumerate(methods):
        part = rows[rows["method"] == method].set_index("pathway").reindex(pathways)
        y = np.arange(len(pathways)) + i * step
        err = np.clip(
            np.vstack([part["estimate"] - part["low"], part["high"] - part["estimate"]]), 0, None
        )
        ax.errorbar(
            part["estimate"],
            y,
            xerr=err,
            fmt="o",
            markersize=4,
            capsize=2,
            color=PALETTE[i % len(PALETTE)],
            label=display_name(method),
        )
    ax.set_yticks(
        np.arange(len(pathways)) + step * (len(methods) - 1) / 2,
        [display_name(p) for p in pathways],
    )
    ax.invert_yaxis()
    ax.set_xlabel(xlabel or display_name(metric))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)  # beside the data
    if title:
        ax.set_title(title)
    return ax


def decision_curve_plot(
    curves: pd.DataFrame,
    pathway: str = "emergency",
    ax: Axes | None = None,
    max_threshold: float = 0.5,
    title: str = "",
    legend: bool = True,
    mark: float | None = None,
) -> Axes:
    """Decision curve of one pathway: net benefit against threshold probability.

    Every method has its own colour and line style (curves that coincide stay
    distinguishable); "refer all" is a grey dashed line and "refer none" the black zero line.
    A method is worth using at a threshold where its curve lies above both.

    Parameters
    ----------
    curves
        :func:`outcomes.analysis.evaluate.decision_curves`.
    pathway
        The pathway to draw (one-vs-rest).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure's).
    max_threshold
        Right end of the threshold axis (thresholds above it are rarely clinical choices).
    title : str, optional
        Axes title (none by default).
    legend
        Draw the legend, outside the axes on the right (a grid draws one for all panels).
    mark
        A threshold to mark with a vertical dotted line (e.g. the one the stated costs imply).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on (a new figure's when ``ax`` is None).

    Examples
    --------
    >>> from outcomes.analysis.evaluate import decision_curves
    >>> c = decision_curves(["emergency", "hip"], {"m": (np.array([[0.8, 0.2], [0.1, 0.9]]),
    ...                                                   ["emergency", "hip"])})
    >>> decision_curve_plot(c).get_ylabel()
    'Net benefit (per patient)'
    """
    ax = axes_or_new(ax)
    rows = curves[(curves["pathway"] == pathway) & (curves["threshold"] <= max_threshold)]
    if rows.empty:
        return no_patients(ax)
    prevalence = float(rows["prevalence"].iloc[0])
    methods = [s for s in dict.fromkeys(rows["strategy"]) if s not in (REFER_ALL, REFER_NONE)]
    for i, name in enumerate(methods):
        line = rows[rows["strategy"] == name]
        style = LINESTYLES[i % len(LINESTYLES)]
        ax.plot(
            line["threshold"],
            line["net_benefit"],
            color=PALETTE[i % len(PALETTE)],
            linestyle=style,
            linewidth=1.8,
            label=display_name(name),
        )
    refer_all = rows[rows["strategy"] == REFER_ALL]
    ax.plot(
        refer_all["threshold"],
        refer_all["net_benefit"],
        color="grey",
        linestyle="--",
        linewidth=1.2,
        label=REFER_ALL,
    )
    ax.axhline(0, color="black", linewidth=1, label=REFER_NONE)
    top = max(prevalence, float(rows["net_benefit"].max()), 1e-3)
    ax.set_ylim(-0.25 * top, 1.1 * top)
    ax.set_xlim(0, max_threshold)
    ax.set_xlabel(f"Threshold probability of {display_name(pathway)} (refer when at least this)")
    ax.set_ylabel("Net benefit (per patient)")
    if mark is not None and 0 < mark <= max_threshold:
        ax.axvline(mark, color="grey", linestyle=":", linewidth=1)
        ax.annotate(
            f"{mark:.0%}",
            (mark, 1.1 * top),
            xytext=(3, -12),
            textcoords="offset points",
            color="dimgrey",
        )
    if legend:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    ax.set_title(title or f"{display_name(pathway).capitalize()} (prevalence {prevalence:.1%})")
    return ax


def decision_curve_grid(
    curves: pd.DataFrame, max_threshold: float = 0.5, mark: Mapping[str, float] | None = None
) -> np.ndarray:
    """Decision curves of every pathway, emergency first, one panel each, one shared legend.

    Parameters
    ----------
    curves
        :func:`outcomes.analysis.evaluate.decision_curves`.
    max_threshold
        Right end of every panel's threshold axis.
    mark
        Pathway -> a threshold to mark (e.g. ``{"emergency": 0.057}`` from the costs).

    Returns
    -------
    numpy.ndarray
        The Axes, one per pathway in the table's order (unused panels are hidden).

    Examples
    --------
    >>> from outcomes.analysis.evaluate import decision_curves
    >>> c = decision_curves(["emergency", "hip"], {"m": (np.array([[0.8, 0.2], [0.1, 0.9]]),
    ...                                                   ["emergency", "hip"])})
    >>> [ax.get_title() for ax in decision_curve_grid(c)]
    ['Emergency (prevalence 50.0%)', 'Hip (prevalence 50.0%)']
    """
    use_style()
    pathways = list(dict.fromkeys(curves["pathway"]))
    ncols = min(3, max(len(pathways), 1))
    nrows = -(-len(pathways) // ncols) if pathways else 1
    fig, grid = plt.subplots(
        nrows,
        ncols,
        figsize=(4.6 * ncols, 3.6 * nrows + 0.6),
        squeeze=False,
        constrained_layout=True,
    )
    flat = grid.ravel()
    for ax, pathway in zip(flat, pathways, strict=False):
        decision_curve_plot(
            curves,
            pathway,
            ax=ax,
            max_threshold=max_threshold,
            legend=False,
            mark=(mark or {}).get(pathway),
        )
        ax.set_xlabel("Threshold probability")
    for ax in flat[len(pathways) :]:
        ax.set_visible(False)
    if pathways:
        handles, labels = flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=len(labels))
    return flat[: len(pathways)]
