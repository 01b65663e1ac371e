"""Tables a reader can read: one helper that turns a result table into a formatted HTML table.

:func:`styled` returns a pandas ``Styler``: headers in words (``p_value`` -> "P value"), no
0..n row numbers beside the data, numbers at a fixed precision with thousands separators,
p-values as "<0.001" rather than "0.0000", text left-aligned and never truncated. Its HTML
is byte-stable (a fixed table id, derived from the content), so stored notebook outputs pass
strict nbval, and it prints as the same formatted table in plain text.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

#: Column names read as p-values (formatted "<0.001").
P_VALUE = re.compile(r"(^|_)p(_value)?$|^p value$", re.IGNORECASE)


#: Headers for the column names of the suite's result tables that words alone would not say.
HEADERS = {
    "a": "Method A",
    "b": "Method B",
    "accuracy_a": "Accuracy A",
    "accuracy_b": "Accuracy B",
    "only_a_right": "Only A right",
    "only_b_right": "Only B right",
    "low": "95% CI low",
    "high": "95% CI high",
    "diff_low": "Difference 95% CI low",
    "diff_high": "Difference 95% CI high",
    "n": "Patients",
    "auc": "AUC",
    "radicular": "Radicular pain",
}


def header(name: Any) -> str:
    """A column name in words: :data:`HEADERS`, else underscores to spaces, first letter capital.

    Parameters
    ----------
    name : object
        A column name.

    Returns
    -------
    str
        The column's heading.

    Examples
    --------
    >>> header("p_value"), header("balanced_accuracy"), header("accuracy_a")
    ('P value', 'Balanced accuracy', 'Accuracy A')
    """
    if str(name) in HEADERS:
        return HEADERS[str(name)]
    text = str(name).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def format_p(p: Any) -> str:
    """A p-value for reading: "<0.001" below 0.001, else three decimals.

    Parameters
    ----------
    p : float or None
        The p-value; None or NaN give an empty string.

    Returns
    -------
    str
        The p-value as text.

    Examples
    --------
    >>> format_p(0.00001), format_p(0.0312), format_p(float("nan"))
    ('<0.001', '0.031', '')
    """
    if p is None or pd.isna(p):
        return ""
    return "<0.001" if float(p) < 0.001 else f"{float(p):.3f}"


def _format_number(digits: int):
    def fmt(x: Any) -> str:
        if x is None or pd.isna(x):
            return ""
        if isinstance(x, (bool, np.bool_)):
            return "yes" if x else "no"
        if isinstance(x, (int, np.integer)) or (isinstance(x, float) and float(x).is_integer()
                                                and abs(x) >= 1000):  # fmt: skip
            return f"{int(x):,}"
        return f"{float(x):,.{digits}f}"

    return fmt


class _Styled(Styler):
    """A ``Styler`` that prints as its formatted table (for text outputs and nbval)."""

    def __repr__(self) -> str:
        shown = self.data.copy()
        formatters = getattr(self, "_outcomes_formatters", {})
        for column in shown.columns:
            if column in formatters:
                shown[column] = shown[column].map(formatters[column])
        return shown.to_string(index=not self.hide_index_[0] if self.hide_index_ else True)


def styled(
    table: pd.DataFrame,
    *,
    digits: int = 3,
    labels: Mapping[str, str] | None = None,
    p_values: Iterable[str] = (),
    index: bool | None = None,
    caption: str | None = None,
) -> Styler:
    """A result table as a formatted HTML table (a pandas ``Styler``).

    Parameters
    ----------
    table
        The table (not modified).
    digits
        Decimals of floating-point numbers (integers get thousands separators).
    labels
        Column -> header, for names :func:`header` would not say well.
    p_values
        Columns holding p-values (also any column named ``p``, ``p_value`` or ``*_p``).
    index
        Show the row labels; default: only when they are not 0..n-1.
    caption
        A caption above the table.

    Returns
    -------
    pandas.io.formats.style.Styler
        Shows as HTML in a notebook (stable bytes) and prints as plain text.

    Examples
    --------
    >>> t = pd.DataFrame({"method": ["rules"], "p_value": [0.00002], "n": [12000]})
    >>> print(styled(t))
    Method P value Patients
     rules  <0.001   12,000
    >>> 'id="T_' in styled(t).to_html()
    True
    """
    data = table.copy()
    labels = dict(labels or {})
    show_index = index if index is not None else not isinstance(data.index, pd.RangeIndex)
    pcols = {c for c in data.columns if P_VALUE.search(str(c))} | set(p_values)
    number = _format_number(digits)
    formatters: dict[Any, Any] = {}
    for column in data.columns:
        if column in pcols:
            formatters[column] = format_p
        elif pd.api.types.is_numeric_dtype(data[column]) or pd.api.types.is_bool_dtype(
            data[column]
        ):
            formatters[column] = number
    renamed = {c: labels.get(str(c), header(c)) for c in data.columns}
    if len(set(renamed.values())) < len(renamed):  # two headers alike: keep their own names
        seen = pd.Series(list(renamed.values()))
        alike = set(seen[seen.duplicated(keep=False)])
        renamed = {c: (str(c) if h in alike else h) for c, h in renamed.items()}
    data = data.rename(columns=renamed)
    formatters = {renamed[c]: f for c, f in formatters.items()}
    if data.index.name is not None:
        data.index.name = labels.get(str(data.index.name), header(data.index.name))
    digest = hashlib.sha256(data.to_csv().encode("utf-8")).hexdigest()[:10]
    styler = _Styled(data, uuid=digest, cell_ids=False)
    styler._outcomes_formatters = formatters
    styler = styler.format(formatters, na_rep="")
    styler = styler.set_table_styles(
        [
            {"selector": "th", "props": "text-align: left; padding: 0.25em 0.6em;"},
            {"selector": "td", "props": "padding: 0.25em 0.6em; white-space: normal;"},
            {"selector": "caption", "props": "caption-side: top; text-align: left;"},
        ]
    )
    text_columns = [c for c in data.columns if c not in formatters]
    if text_columns:
        styler = styler.set_properties(subset=text_columns, **{"text-align": "left"})
    numeric = [c for c in data.columns if c in formatters]
    if numeric:
        styler = styler.set_properties(subset=numeric, **{"text-align": "right"})
    if not show_index:
        styler = styler.hide(axis="index")
    if caption:
        styler = styler.set_caption(caption)
    return styler
