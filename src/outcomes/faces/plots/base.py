"""The shared look of every figure: palette, line styles, the one plot style (:data:`STYLE`,
colour-blind-safe Okabe–Ito palette, fixed size and DPI so stored notebook outputs stay small and
stable, applied by :func:`use_style`), and the small drawing helpers the topic modules share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.rcsetup import cycler

from outcomes.analysis.describe import NO_PATIENTS
from outcomes.knowledge import load_knowledge

if TYPE_CHECKING:  # matplotlib >= 3.9 names the rcParams keys; only the type checker needs them
    from matplotlib.typing import RcKeyType

#: Okabe & Ito (2008) colour-blind-safe palette.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")


#: Line styles that tell methods apart where their curves coincide (colour is not enough).
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 1)))


STYLE: dict[RcKeyType, Any] = {
    "figure.figsize": (7.0, 4.2),
    "figure.dpi": 80,
    "savefig.dpi": 100,
    "axes.prop_cycle": cycler(color=PALETTE),
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
    """Apply the project's plot style, :data:`STYLE` (idempotent).

    Returns
    -------
    None
        Matplotlib's ``rcParams`` are updated in place.

    Examples
    --------
    >>> use_style()
    >>> mpl.rcParams["figure.dpi"]
    80.0
    """
    mpl.rcParams.update(STYLE)


def axes_or_new(ax: Axes | None, figsize: tuple[float, float] | None = None) -> Axes:
    """``ax`` itself, or the Axes of a new figure in the project's style when ``ax`` is None.

    Parameters
    ----------
    ax
        Axes to draw on, or None for a new figure.
    figsize
        Size of the new figure in inches (default: :data:`STYLE`'s).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes to draw on.

    Examples
    --------
    >>> ax = axes_or_new(None)
    >>> axes_or_new(ax) is ax
    True
    """
    if ax is not None:
        return ax
    use_style()
    _, ax = plt.subplots(figsize=figsize)
    return ax


def no_patients(ax: Axes, message: str = NO_PATIENTS) -> Axes:
    """Write ``message`` in the middle of an empty Axes (a figure with nothing to show).

    Parameters
    ----------
    ax
        Axes to write on; its ticks are removed.
    message
        What to write (default: that there are no patients).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.

    Examples
    --------
    >>> ax = no_patients(axes_or_new(None), "nothing to show")
    >>> ax.texts[0].get_text()
    'nothing to show'
    """
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, fontsize=12)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def display_name(name: str) -> str:
    """A pathway, method or metric name as a label: underscores become spaces.

    Parameters
    ----------
    name
        The name as the tables hold it.

    Returns
    -------
    str
        The label.

    Examples
    --------
    >>> display_name("upper_limb_nerve")
    'upper limb nerve'
    """
    return str(name).replace("_", " ")


def pathway_colours(names: Sequence[str]) -> dict[str, str]:
    """One colour per pathway, fixed by the knowledge base's order (the same in every panel,
    whatever order a model lists its classes in); unknown names follow.

    Parameters
    ----------
    names
        Pathway names to colour (may include names the knowledge base does not know).

    Returns
    -------
    dict
        Pathway name -> colour of :data:`PALETTE`, for every known pathway and each name.

    Examples
    --------
    >>> colours = pathway_colours(["hip", "somewhere_else"])
    >>> colours["emergency"] == PALETTE[0], "somewhere_else" in colours
    (True, True)
    """
    known = list(load_knowledge().pathways)
    order = known + [n for n in dict.fromkeys(map(str, names)) if n not in known]
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(order)}
