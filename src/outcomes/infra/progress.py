"""Progress bars for long steps: on a terminal only, never in notebooks' outputs or CI logs.

One helper, :func:`progress_bar`, so every long step (generating a million patients, a
bootstrap, executing the report's notebooks) decides the same way whether to draw a bar.
tqdm reads ``TQDM_DISABLE`` only as a *default* for ``disable``; because we pass ``disable``
explicitly (to hide bars off a terminal), the variable is honoured here instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sized
from typing import Any

from tqdm import tqdm

FALSE_TEXT = frozenset({"", "0", "false", "no", "off"})


def progress_disabled_by_environment() -> bool:
    """Whether ``TQDM_DISABLE`` asks for no progress bars (any value but 0/false/no/off).

    Returns
    -------
    bool
        True when the environment turns progress bars off.

    Examples
    --------
    >>> import os
    >>> os.environ["TQDM_DISABLE"] = "1"
    >>> progress_disabled_by_environment()
    True
    >>> del os.environ["TQDM_DISABLE"]
    """
    return os.environ.get("TQDM_DISABLE", "").strip().lower() not in FALSE_TEXT


def progress_bar(
    iterable: Iterable[Any] | None = None,
    *,
    total: int | None = None,
    desc: str,
    unit: str,
    show: bool | None = None,
    min_total: int = 0,
    **options: Any,
) -> tqdm:
    """A tqdm bar that appears only where a person is watching.

    Parameters
    ----------
    iterable
        What to iterate over (or ``None`` and call ``update`` yourself).
    total
        Number of steps (default: ``len(iterable)`` when it has one).
    desc, unit
        Label and unit shown on the bar.
    show
        ``None`` (default): draw the bar when stderr is a terminal, ``total >= min_total`` and
        ``TQDM_DISABLE`` is not set. ``True`` always draws it, ``False`` never.
    min_total
        Below this many steps ``show=None`` draws nothing (short work needs no bar).
    **options
        Passed on to :class:`tqdm.tqdm` (e.g. ``unit_scale=True``).

    Returns
    -------
    tqdm.tqdm
        The bar; the bar never alters what it counts.

    Examples
    --------
    >>> sum(progress_bar(range(3), desc="demo", unit="step", show=False))
    3
    """
    if total is None and isinstance(iterable, Sized):
        total = len(iterable)
    if show is None:
        quiet = progress_disabled_by_environment() or (total or 0) < min_total
        disable: bool | None = True if quiet else None  # None: tqdm hides it off a terminal
    else:
        disable = not show
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=disable, leave=False,
                **options)  # fmt: skip
