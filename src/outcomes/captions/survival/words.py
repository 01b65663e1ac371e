"""The small words the survival captions share: names of policies, shares, weeks, intervals.

Every sentence, title and table of :mod:`outcomes.captions.survival` writes a policy, a share, a
number of weeks or an interval the same way, through these helpers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from outcomes.analysis.survival import KaplanMeierByGroup

#: How a policy is named inside a sentence (others by their name, underscores as spaces).
POLICY_NAMES = {
    "rules": "the rules",
    "oracle": "the oracle",
    "perfect": "perfect triage",
    "everyone_spinal": "everyone-to-spinal",
}


def label(name: object) -> str:
    """A group's name in a sentence: underscores as spaces.

    Parameters
    ----------
    name
        A condition, fit or policy.

    Returns
    -------
    str
        The name to read.

    Examples
    --------
    >>> label("disc_herniation")
    'disc herniation'
    """
    return str(name).replace("_", " ")


def policy_name(name: object) -> str:
    """A policy's name inside a sentence: :data:`POLICY_NAMES`, else :func:`label`.

    Parameters
    ----------
    name
        The policy.

    Returns
    -------
    str
        The name to read.

    Examples
    --------
    >>> policy_name("perfect"), policy_name("gradient_boosting")
    ('perfect triage', 'gradient boosting')
    """
    return POLICY_NAMES.get(str(name), label(name))


def share(x: float) -> str:
    """A share as a whole percentage; a small non-zero share is "<1%", not "0%".

    Parameters
    ----------
    x
        A share between 0 and 1.

    Returns
    -------
    str
        The percentage.

    Examples
    --------
    >>> share(0.004), share(0.0), share(0.256)
    ('<1%', '0%', '26%')
    """
    return "<1%" if 0 < x < 0.005 else f"{x:.0%}"


def signed(x: float, digits: int) -> str:
    """A number with ``digits`` decimals and a true minus sign.

    Parameters
    ----------
    x
        The number.
    digits
        Decimals shown.

    Returns
    -------
    str
        The number to read.

    Examples
    --------
    >>> signed(-3.14159, 1) == "\\N{MINUS SIGN}3.1"
    True
    """
    return f"{x:.{digits}f}".replace("-", "\N{MINUS SIGN}")


def interval(est: float, lo: float, hi: float, digits: int) -> str:
    """An estimate with its interval, ``est (lo–hi)``.

    Once a bound is negative the bounds are joined by "to" ("-3--1" misreads).

    Parameters
    ----------
    est, lo, hi
        The estimate and its bounds.
    digits
        Decimals shown.

    Returns
    -------
    str
        The estimate and interval to read.

    Examples
    --------
    >>> interval(11.62, 11.3, 12.0, 1)
    '11.6 (11.3–12.0)'
    >>> interval(-316, -344, -288, 0).replace("\\N{MINUS SIGN}", "-")
    '-316 (-344 to -288)'
    """
    separator = " to " if lo < 0 else "–"
    return f"{signed(est, digits)} ({signed(lo, digits)}{separator}{signed(hi, digits)})"


def saved_text(row: pd.Series) -> str:
    """Weeks saved per 100 patients with its interval, whole weeks.

    Parameters
    ----------
    row
        A row of :func:`outcomes.analysis.survival.weeks_saved` (``saved_per_100``,
        ``saved_lower``, ``saved_upper``).

    Returns
    -------
    str
        The saving and its interval.

    Examples
    --------
    >>> saved_text(pd.Series({"saved_per_100": 140.2, "saved_lower": 119.0,
    ...                       "saved_upper": 157.0}))
    '140 (119–157)'
    """
    return interval(row["saved_per_100"], row["saved_lower"], row["saved_upper"], 0)


def join_and(items: Sequence[str], noun: str = "others") -> str:
    """``a``, ``a and b``; three or more as ``a and 2 other <noun>`` (titles stay short).

    Parameters
    ----------
    items
        The names, in order.
    noun
        What the names are, in the plural.

    Returns
    -------
    str
        The names joined.

    Examples
    --------
    >>> join_and(["a", "b"]), join_and(["a", "b", "c"], "policies")
    ('a and b', 'a and 2 other policies')
    """
    items = list(items)
    if len(items) > 2:
        return f"{items[0]} and {len(items) - 1} other {noun}"
    return " and ".join(items)


def capital(text: str) -> str:
    """``text`` with its first letter a capital (the rest unchanged).

    Parameters
    ----------
    text
        The text.

    Returns
    -------
    str
        The text, capitalised.

    Examples
    --------
    >>> capital("the oracle saves")
    'The oracle saves'
    """
    return text[:1].upper() + text[1:]


def weeks(value: float) -> str:
    """A whole number of weeks with its noun, singular for one.

    Parameters
    ----------
    value
        Weeks.

    Returns
    -------
    str
        The weeks to read.

    Examples
    --------
    >>> weeks(1), weeks(12.4)
    ('1 week', '12 weeks')
    """
    return f"{value:,.0f} week{'' if round(value) == 1 else 's'}"


def median_text(median: float, horizon: int) -> str:
    """A median in whole weeks, or that it was not reached within follow-up.

    Parameters
    ----------
    median
        Median weeks (inf: not reached).
    horizon
        Weeks of follow-up.

    Returns
    -------
    str
        The median to read.

    Examples
    --------
    >>> median_text(6.0, 52), median_text(float("inf"), 52)
    ('6', 'not reached within 52 weeks')
    """
    return f"not reached within {horizon} weeks" if not np.isfinite(median) else f"{median:.0f}"


def median_weeks(outcomes: pd.DataFrame, by: str) -> pd.Series:
    """Kaplan–Meier median weeks to recovery per non-empty group, for a sentence.

    Parameters
    ----------
    outcomes
        An outcomes table; each patient may appear once per group.
    by
        The grouping column.

    Returns
    -------
    pandas.Series
        Median weeks (inf: not reached) by group label, in the column's order.

    Examples
    --------
    >>> out = pd.DataFrame({"fit": ["a", "a", "b"], "weeks_to_recovery": [2, 4, 9],
    ...                     "recovered": True})
    >>> median_weeks(out, "fit").to_dict()
    {'a': 2.0, 'b': 9.0}
    """
    medians = KaplanMeierByGroup(by).fit(outcomes).medians()
    return medians.loc[medians["patients"] > 0, "median"].astype(float)
