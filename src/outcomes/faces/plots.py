"""Every figure of the notebooks. Each function takes ``ax=None`` and returns the Axes.

One module-level style (:data:`STYLE`, colour-blind-safe Okabe–Ito palette, fixed size and DPI
so stored notebook outputs stay small and stable) is applied by :func:`use_style`. Computations
live in other modules (``describe``, ``evaluate``, ``recovery``); these functions only draw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.transforms import offset_copy

from outcomes.analysis.describe import NO_PATIENTS
from outcomes.analysis.evaluate import REFER_ALL, REFER_NONE
from outcomes.knowledge import Knowledge, load_knowledge

#: Okabe & Ito (2008) colour-blind-safe palette.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
#: Line styles that tell methods apart where their curves coincide (colour is not enough).
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 1)))

STYLE = {
    "figure.figsize": (7.0, 4.2),
    "figure.dpi": 80,
    "savefig.dpi": 100,
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "legend.frameon": False,
    "font.size": 10,
    "image.cmap": "viridis",
}


def use_style() -> None:
    """Apply the project's plot style (idempotent)."""
    mpl.rcParams.update(STYLE)


def _axes(ax: Axes | None, figsize: tuple[float, float] | None = None) -> Axes:
    if ax is not None:
        return ax
    use_style()
    _, ax = plt.subplots(figsize=figsize)
    return ax


def no_patients(ax: Axes, message: str = NO_PATIENTS) -> Axes:
    """Write ``message`` in the middle of an empty Axes (a figure with nothing to show)."""
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, fontsize=12)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def finding_heatmap(
    prevalence: pd.DataFrame, ax: Axes | None = None, knowledge: Knowledge | None = None
) -> Axes:
    """Heatmap of finding prevalence (rows findings, columns conditions), annotated in %.

    Parameters
    ----------
    prevalence
        Output of :func:`outcomes.analysis.describe.finding_prevalence`.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.analysis.describe import finding_prevalence
    >>> ax = finding_heatmap(finding_prevalence(generate(500, seed=1)))
    >>> ax.get_xlabel()
    'True condition'
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    ax = _axes(ax, figsize=(7.5, 10))
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

    Examples
    --------
    >>> from outcomes.analysis.describe import case_mix
    >>> case_mix_bars(case_mix()).get_ylabel()
    'Share of patients (%)'
    """
    ax = _axes(ax)
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

    Examples
    --------
    >>> ax = bar_with_ci(["rules", "oracle"], [0.8, 0.9], [0.78, 0.88], [0.82, 0.92],
    ...                  xlabel="Accuracy")
    >>> ax.get_xlabel()
    'Accuracy'
    """
    ax = _axes(ax)
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
    km Output of :func:`outcomes.analysis.survival.fits` (``group``, ``week``, ``survival``,
        ``lower``, ``upper``, ``at_risk``).
    at_risk_weeks
        Weeks whose at-risk counts are printed under the axis, one row per group (default:
        five evenly spaced weeks up to the last week in ``km``, whatever the follow-up).
    labels
        Display names for groups (default: the group name with spaces). Groups listed in
        ``km.attrs["empty_groups"]`` (no patients) get a legend entry saying so.

    Examples
    --------
    >>> km = pd.DataFrame({"group": "a", "week": [0, 1, 2], "survival": [1.0, 0.5, 0.2],
    ...                    "lower": [1.0, 0.4, 0.1], "upper": [1.0, 0.6, 0.3],
    ...                    "at_risk": [10, 5, 2]})
    >>> km_curves(km, at_risk_weeks=(0, 2)).get_ylabel()
    'Share not yet recovered'
    """
    if km.empty:
        return no_patients(_axes(ax))
    empty = [g for g in km.attrs.get("empty_groups", ()) if g not in set(km["group"])]
    if at_risk_weeks is None:
        from outcomes.analysis.survival import at_risk_weeks as evenly_spaced

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
    ax = _axes(ax, figsize=(8.4, height))
    names = labels or {}
    for i, group in enumerate(groups):
        rows = km[km["group"] == group]
        colour = PALETTE[i % len(PALETTE)]
        label = names.get(group, group.replace("_", " "))
        ax.step(rows["week"], rows["survival"], where="post", color=colour, label=label,
                linestyle=LINESTYLES[i % len(LINESTYLES)], linewidth=1.8)  # fmt: skip
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

    ax.text(0.0, 0.0, f"Patients still followed and not yet recovered, at weeks {weeks}:",
            transform=below(ax.transAxes, header_at), ha="left", va="top", fontsize=size,
            color="black", fontweight="bold")  # fmt: skip
    for i, group in enumerate(groups):
        rows = km[km["group"] == group].set_index("week")["at_risk"]
        drop = header_at + line * (i + 1)
        label = names.get(group, group.replace("_", " "))
        # Right-aligned far enough left of the axis that a week-0 count never touches it.
        ax.text(0.0, 0.0, label, transform=below(ax.transAxes, drop, left=3.2 * size),
                ha="right", va="top", fontsize=size, color="black")  # fmt: skip
        for week in at_risk_weeks:
            if week in rows.index:
                ax.text(week, 0.0, f"{int(rows[week]):,}",
                        transform=below(ax.get_xaxis_transform(), drop), ha="center",
                        va="top", fontsize=size, color="black", clip_on=False)  # fmt: skip
    fig_height = fig.get_figheight() * 72
    fig.subplots_adjust(bottom=min(0.7, table / fig_height), top=1 - above / fig_height,
                        left=0.28, right=0.74)  # fmt: skip
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

    Examples
    --------
    >>> s = pd.DataFrame({"group": "a", "week": [0, 1], "mean": [6.0, 5.0],
    ...                   "lower": [5.8, 4.7], "upper": [6.2, 5.3]})
    >>> trajectory_bands(s).get_xlabel()
    'Weeks since triage'
    """
    ax = _axes(ax)
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


def _label(name: str) -> str:
    return str(name).replace("_", " ")


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
    intervals
        Optional :func:`outcomes.analysis.evaluate.confusion_long` of the same calls: each cell then
        shows its 95% interval under the share (``"41"`` over ``"38–44"``).

    Examples
    --------
    >>> from outcomes.analysis.evaluate import confusion
    >>> m = confusion(["hip", "spinal"], ["hip", "hip"], labels=["hip", "spinal"], normalize=True)
    >>> confusion_matrix_plot(m).get_ylabel()
    'True pathway'
    """
    ax = _axes(ax, figsize=(4.2, 3.8))
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
            ax.text(j, i - 0.14, text, ha="center", va="center", fontsize=11, color=colour,
                    fontweight="bold")  # fmt: skip
            lo, hi = 100 * bounds[i, j]
            ax.text(j, i + 0.22, f"{lo:.0f}–{hi:.0f}", ha="center", va="center", fontsize=8.5,
                    color=colour)  # fmt: skip
        else:
            ax.text(j, i, text, ha="center", va="center", fontsize=11, color=colour)
    ax.set_xticks(range(len(matrix.columns)), [_label(c) for c in matrix.columns], rotation=45,
                  ha="right")  # fmt: skip
    ax.set_yticks(range(len(matrix.index)), [_label(c) for c in matrix.index])
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
    axes: Sequence[Axes] | None = None,
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
        fig.get_layout_engine().set(w_pad=0.15, h_pad=0.2, wspace=0.08, hspace=0.08)
        for extra in created.ravel()[count:]:
            extra.set_visible(False)
        axes = created.ravel()[: len(names)]
    axes = np.asarray(axes, dtype=object).ravel()
    if len(axes) != len(names):
        raise ValueError(f"got {len(axes)} axes for {len(names)} methods")
    for k, (ax, name) in enumerate(zip(axes, names, strict=True)):
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
            panel += f"\ncommonest miss: {_label(w.true)} → {_label(w.assigned)} {w.share:.0%}"
        confusion_matrix_plot(matrix, ax=ax, title=panel, intervals=own if intervals else None)
        if k % max(ncols, 1) > 0:
            ax.set_ylabel("")
    if title and len(axes):
        axes[0].figure.suptitle(title, fontweight="bold")
    return axes


def _pathway_colours(names: Sequence[str]) -> dict[str, str]:
    """One colour per pathway, fixed by the knowledge base's order (the same in every panel,
    whatever order a model lists its classes in); unknown names follow."""
    known = list(load_knowledge().pathways)
    order = known + [n for n in dict.fromkeys(map(str, names)) if n not in known]
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(order)}


def reliability_plot(table: pd.DataFrame, ax: Axes | None = None, title: str = "") -> Axes:
    """Reliability curves, one per pathway: observed share against predicted probability.

    Each pathway has the same colour in every call (the knowledge base's order), so panels of
    several models compare at a glance.

    Parameters
    ----------
    table
        :func:`outcomes.analysis.evaluate.calibration_table` (``pathway``, ``mean_predicted``,
        ``observed``, ``low``, ``high``, ``n``).

    Examples
    --------
    >>> t = pd.DataFrame({"pathway": "hip", "bin": [0, 9], "mean_predicted": [0.05, 0.95],
    ...                   "observed": [0.04, 0.96], "low": [0.03, 0.9], "high": [0.06, 0.99],
    ...                   "n": [100, 50]})
    >>> reliability_plot(t).get_xlabel()
    'Predicted probability'
    """
    ax = _axes(ax, figsize=(5.0, 4.6))
    if table.empty:
        return no_patients(ax)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect")
    colours = _pathway_colours(table["pathway"])
    for pathway in dict.fromkeys(table["pathway"]):
        rows = table[table["pathway"] == pathway]
        colour = colours[pathway]
        err = np.clip(np.vstack([rows["observed"] - rows["low"], rows["high"] - rows["observed"]]),
                      0, None)  # fmt: skip
        ax.errorbar(rows["mean_predicted"], rows["observed"], yerr=err, color=colour,
                    marker="o", markersize=3, capsize=2, label=_label(pathway))  # fmt: skip
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
    ceiling
        The oracle's accuracy, drawn as a dashed line.

    Examples
    --------
    >>> c = pd.DataFrame({"size": [100, 1000], "accuracy": [0.8, 0.9], "low": [0.78, 0.89],
    ...                   "high": [0.82, 0.91]})
    >>> learning_curve_plot(c, reference=(0.78, 0.77, 0.79)).get_xscale()
    'log'
    """
    ax = _axes(ax)
    if curve.empty:
        return no_patients(ax)
    groups = curve.groupby("model", sort=False) if "model" in curve else [("model", curve)]
    for i, (name, rows) in enumerate(groups):
        colour = PALETTE[(i + 1) % len(PALETTE)]
        ax.plot(rows["size"], rows["accuracy"], marker="o", markersize=3, color=colour,
                label=_label(name))  # fmt: skip
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

    Examples
    --------
    >>> t = pd.DataFrame({"method": ["a", "b"], "metric": "accuracy", "pathway": "all",
    ...                   "estimate": [0.8, 0.9], "low": [0.78, 0.88], "high": [0.82, 0.92]})
    >>> metric_forest(t, "accuracy").get_xlabel()
    'accuracy'
    """
    ax = _axes(ax)
    rows = table[table["metric"] == metric].dropna(subset=["estimate"])
    if rows.empty:
        return no_patients(ax)
    pathways = list(dict.fromkeys(rows["pathway"]))
    methods = list(dict.fromkeys(rows["method"]))
    step = 0.8 / max(len(methods), 1)
    for i, method in enumerate(methods):
        part = rows[rows["method"] == method].set_index("pathway").reindex(pathways)
        y = np.arange(len(pathways)) + i * step
        err = np.clip(np.vstack([part["estimate"] - part["low"], part["high"] - part["estimate"]]),
                      0, None)  # fmt: skip
        ax.errorbar(part["estimate"], y, xerr=err, fmt="o", markersize=4, capsize=2,
                    color=PALETTE[i % len(PALETTE)], label=_label(method))  # fmt: skip
    ax.set_yticks(np.arange(len(pathways)) + step * (len(methods) - 1) / 2,
                  [_label(p) for p in pathways])  # fmt: skip
    ax.invert_yaxis()
    ax.set_xlabel(xlabel or _label(metric))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)  # beside the data
    if title:
        ax.set_title(title)
    return ax


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
    ax = _axes(ax)
    rows = table.xs(metric, level="metric")
    y = np.arange(len(rows))
    est = rows["estimate"].to_numpy(dtype=float)

    def err(low: str, high: str) -> np.ndarray:
        below = est - rows[low].to_numpy(float)
        above = rows[high].to_numpy(float) - est
        return np.clip(np.vstack([below, above]), 0.0, None)

    ax.errorbar(est, y, xerr=err("parameter_low", "parameter_high"), fmt="none",
                ecolor="0.45", elinewidth=1.2, capsize=5, label="parameters (95%)")  # fmt: skip
    ax.errorbar(est, y, xerr=err("sampling_low", "sampling_high"), fmt="o", color=PALETTE[0],
                elinewidth=4, capsize=0, label="sampling (95%)")  # fmt: skip
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, [str(p).replace("_", " ") for p in rows.index])
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.legend(loc="best", frameon=False)
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
    max_threshold
        Right end of the threshold axis (thresholds above it are rarely clinical choices).
    legend
        Draw the legend, outside the axes on the right (a grid draws one for all panels).
    mark
        A threshold to mark with a vertical dotted line (e.g. the one the stated costs imply).

    Examples
    --------
    >>> from outcomes.analysis.evaluate import decision_curves
    >>> c = decision_curves(["emergency", "hip"], {"m": (np.array([[0.8, 0.2], [0.1, 0.9]]),
    ...                                                   ["emergency", "hip"])})
    >>> decision_curve_plot(c).get_ylabel()
    'Net benefit (per patient)'
    """
    ax = _axes(ax)
    rows = curves[(curves["pathway"] == pathway) & (curves["threshold"] <= max_threshold)]
    if rows.empty:
        return no_patients(ax)
    prevalence = float(rows["prevalence"].iloc[0])
    methods = [s for s in dict.fromkeys(rows["strategy"]) if s not in (REFER_ALL, REFER_NONE)]
    for i, name in enumerate(methods):
        line = rows[rows["strategy"] == name]
        style = LINESTYLES[i % len(LINESTYLES)]
        ax.plot(line["threshold"], line["net_benefit"], color=PALETTE[i % len(PALETTE)],
                linestyle=style, linewidth=1.8, label=_label(name))  # fmt: skip
    refer_all = rows[rows["strategy"] == REFER_ALL]
    ax.plot(refer_all["threshold"], refer_all["net_benefit"], color="grey", linestyle="--",
            linewidth=1.2, label=REFER_ALL)  # fmt: skip
    ax.axhline(0, color="black", linewidth=1, label=REFER_NONE)
    top = max(prevalence, float(rows["net_benefit"].max()), 1e-3)
    ax.set_ylim(-0.25 * top, 1.1 * top)
    ax.set_xlim(0, max_threshold)
    ax.set_xlabel(f"Threshold probability of {_label(pathway)} (refer when at least this)")
    ax.set_ylabel("Net benefit (per patient)")
    if mark is not None and 0 < mark <= max_threshold:
        ax.axvline(mark, color="grey", linestyle=":", linewidth=1)
        ax.annotate(f"{mark:.0%}", (mark, 1.1 * top), xytext=(3, -12),
                    textcoords="offset points", color="dimgrey")  # fmt: skip
    if legend:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    ax.set_title(title or f"{_label(pathway).capitalize()} (prevalence {prevalence:.1%})")
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
    fig, grid = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.6 * nrows + 0.6),
                             squeeze=False, constrained_layout=True)  # fmt: skip
    flat = grid.ravel()
    for ax, pathway in zip(flat, pathways, strict=False):
        decision_curve_plot(curves, pathway, ax=ax, max_threshold=max_threshold, legend=False,
                            mark=(mark or {}).get(pathway))  # fmt: skip
        ax.set_xlabel("Threshold probability")
    for ax in flat[len(pathways) :]:
        ax.set_visible(False)
    if pathways:
        handles, labels = flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=len(labels))
    return flat[: len(pathways)]


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
    ax = _axes(ax, figsize=(9.0, 1.4 + 0.3 * n_lines))
    if table.empty:
        return no_patients(ax, "no figures to show")
    y, ticks, labels, colours, texts = 0.0, [], [], [], [(0.0, "published  vs  synthetic", "black")]
    ratios: list[float] = []
    for basis, block in zip(bases, blocks, strict=True):
        ax.text(0.0, y, FOREST_BASES.get(basis, basis), transform=ax.get_yaxis_transform(),
                ha="right", va="center", fontweight="bold", fontsize=9)  # fmt: skip
        ax.axhline(y + 0.5, color="0.85", linewidth=0.6)
        y += 1
        for _, r in block.iterrows():
            expected = r["input"] if r["basis"] == "input" else r["published"]
            scale = expected if pd.notna(expected) and expected > 0 else np.nan
            kind = _forest_kind(r)
            colour = FOREST_COLOURS.get(kind, "0.4")
            # Published: diamond at 1 with the accepted range, a little above the row's centre.
            if pd.notna(r["low"]) and pd.notna(scale):
                ax.plot([r["low"] / scale, r["high"] / scale], [y - 0.16] * 2, color="0.55",
                        linewidth=3, solid_capstyle="butt")  # fmt: skip
                ratios += [r["low"] / scale, r["high"] / scale]
            ax.plot([1.0], [y - 0.16], marker="D", color="black", markersize=4, linestyle="")
            # Synthetic: dot (met) or cross (miss) with its 95% interval, a little below.
            if pd.notna(r["observed"]) and pd.notna(scale):
                lo, mid, hi = (r[c] / scale for c in ("ci_low", "observed", "ci_high"))
                ax.plot([lo, hi], [y + 0.16] * 2, color=colour, linewidth=1.4)
                marker, size = ("o", 4.5) if kind == "met" else ("X", 6)
                (point,) = ax.plot([mid], [y + 0.16], marker=marker, color=colour,
                                   markersize=size, linestyle="")  # fmt: skip
                point.set_gid(kind)
                ratios += [lo, hi]
            d = 3 if max(abs(v) for v in (expected, r["low"], r["high"], r["observed"])
                         if pd.notna(v)) <= 1 else 2  # fmt: skip
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
        ax.text(1.01, row_y, text, transform=ax.get_yaxis_transform(), va="center", fontsize=7,
                color=colour if colour != FOREST_COLOURS["met"] else "black")  # fmt: skip
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
    names = ["published", "accepted range", "synthetic, met (95% interval)", "synthetic, missed",
             "missed, documented known gap"]  # fmt: skip
    # Below the x label: 0.55 inch under the Axes, whatever its height.
    height = ax.get_position().height * ax.figure.get_figheight()
    ax.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, -0.55 / height),
              ncol=3, fontsize=7)  # fmt: skip
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
    ax = _axes(ax, figsize=(7.5, 1.2 + 0.35 * min(top, max(len(one_way_table), 1))))
    if one_way_table.empty:
        return no_patients(ax, "no ranged number to vary")
    rows = one_way_table.sort_values("swing", ascending=False, kind="stable").head(top)
    central = float(rows["central"].iloc[0])
    y = np.arange(len(rows))
    ends = {"at_low": (PALETTE[0], "number at the low end of its range"),
            "at_high": (PALETTE[1], "number at the high end")}  # fmt: skip
    for i, (_, r) in enumerate(rows.iterrows()):
        # The longer bar first, so that two bars on the same side both stay visible.
        for column in sorted(ends, key=lambda c: -abs(r[c] - central)):
            colour = ends[column][0]
            ax.barh(i, r[column] - central, left=central, height=0.6, color=colour)
    ax.axvline(central, color="black", linewidth=0.8)
    ax.set_yticks(y, [f"{k} ({r['low']:g}–{r['high']:g})" for k, r in rows.iterrows()],
                  fontsize=8)  # fmt: skip
    ax.invert_yaxis()
    ax.set_xlabel(xlabel or "Answer with one number moved (central answer: black line)")
    from matplotlib.patches import Patch

    ax.legend([Patch(color=colour) for colour, _ in ends.values()],
              [name for _, name in ends.values()], loc="lower right", fontsize=7)  # fmt: skip
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
    ax = _axes(ax)
    hr = replicates["hazard_ratio"].dropna().to_numpy(dtype=float)
    hr = hr[np.isfinite(hr) & (hr > 0)]
    if hr.size == 0:
        return no_patients(ax, "no simulated trial to show")
    lo, hi = np.percentile(hr, [2.5, 97.5])
    edges = np.geomspace(min(hr.min(), trial.low) / 1.05, max(hr.max(), trial.high) * 1.05, 31)
    ax.hist(hr, bins=edges, color=PALETTE[5], edgecolor="white",
            label=f"{hr.size} simulated trials of {trial.size} patients")  # fmt: skip
    ax.axvspan(trial.low, trial.high, color="0.6", alpha=0.3, label="published 95% CI")
    ax.axvline(trial.hazard_ratio, color="black", linewidth=1.5,
               label=f"published estimate {trial.hazard_ratio:.2f}")  # fmt: skip
    for i, edge in enumerate((lo, hi)):
        ax.axvline(edge, color=PALETTE[3], linestyle="--", linewidth=1,
                   label="central 95% of simulated trials" if i == 0 else None)  # fmt: skip
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(mpl.ticker.FormatStrFormatter("%.1f"))
    ax.xaxis.set_minor_formatter(mpl.ticker.FormatStrFormatter("%.1f"))
    ax.set_xlabel(f"Hazard ratio, {trial.experimental.label} vs {trial.control.label} (log scale)")
    ax.set_ylabel("Simulated trials")
    ax.legend(loc="best", fontsize=7)
    if title:
        ax.set_title(title)
    return ax
