"""What is wrong with a team's file, collected file-wide and raised as one error.

A reader flags bad rows as it goes (:class:`ProblemLog`) and raises one
:class:`DataValidationError` whose first line names the file, the column, up to
:data:`MAX_ROWS_SHOWN` offending rows and how many there are, e.g.::

    my_patients.csv: column 'pain_nrs': 2 rows out of range 0–10 (rows 3, 17: 14, -1)

Column names are matched to the known ones ignoring case, and a name that looks like a
finding but matches none is reported (:func:`match_columns`), not silently ignored.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

#: Most offending rows a problem line shows.
MAX_ROWS_SHOWN = 10
#: Name prefixes of the knowledge base's findings (pain map, aggravating factors, exam signs,
#: red flags): a column starting with one of them is meant as a finding.
FINDING_PREFIXES = ("pain_", "paresthesia_", "agg_", "eased_", "exam_", "rf_")


class InputWarning(UserWarning):
    """Something in a user's file that may make a result wrong without being an error.

    A column that looks like a finding but matches none, a cohort without recorded
    provenance. The command line prints each as one line; ``--strict`` makes it an error.
    Its message is one line naming the file and the column.

    Examples
    --------
    >>> issubclass(InputWarning, UserWarning)
    True
    """


class DataValidationError(ValueError):
    """A team's file cannot be used as it is. The first line says where and why.

    Parameters
    ----------
    problems
        One line per problem (:func:`problem_line`); the message is the first, the count of
        the others, then each of them on its own line.

    Examples
    --------
    >>> error = DataValidationError(["f.csv: column 'a': 1 row bad (row 2)", "f.csv: more"])
    >>> str(error).splitlines()[0]
    "f.csv: column 'a': 1 row bad (row 2) (and 1 more problem(s))"
    >>> len(error.problems)
    2
    """

    def __init__(self, problems: list[str]):
        self.problems = problems
        extra = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        super().__init__(problems[0] + extra + "".join(f"\n  {p}" for p in problems[1:]))


def problem_line(
    file: str, column: str, what: str, count: int, rows: list[int], shown: list[str] | None = None
) -> str:
    """One problem of a file as the line a user reads.

    Parameters
    ----------
    file, column
        Where the problem is.
    what
        What is wrong with the rows, e.g. ``"out of range 0–10"``.
    count
        How many rows have it.
    rows
        The first of them, as 0-based data rows (shown counted from 1).
    shown
        Their values as they will be printed, or None.

    Returns
    -------
    str
        ``"<file>: column '<column>': <count> rows <what> (rows ...: values ...)"``.

    Examples
    --------
    >>> problem_line("f.csv", "pain_nrs", "out of range 0–10", 3, [2, 16], ["14", "-1"])
    "f.csv: column 'pain_nrs': 3 rows out of range 0–10 (rows 3, 17, …: 14, -1, …)"
    """
    noun = "row" if count == 1 else "rows"
    more = ", …" if count > len(rows) else ""
    text = f"{noun} {', '.join(str(r + 1) for r in rows)}{more}"
    if shown:
        text += f": {', '.join(shown)}{more}"
    return f"{file}: column '{column}': {count} {noun} {what} ({text})"


def show_values(values: Any, quote: bool = True) -> list[str]:
    """Values as the text a problem line shows: quoted (``repr``) unless ``quote`` is false.

    Parameters
    ----------
    values
        Any iterable of values.
    quote
        Whether to quote each as Python would.

    Returns
    -------
    list of str

    Examples
    --------
    >>> show_values(["14", 3]), show_values([0.5], quote=False)
    (["'14'", "'3'"], ['0.5'])
    """
    return [repr(str(v)) if quote else str(v) for v in values]


class ProblemLog:
    """Collects problems over a file's batches: count and first rows of each, file-wide.

    Parameters
    ----------
    file
        The file's name, as the problem lines show it.

    Examples
    --------
    >>> log = ProblemLog("f.csv")
    >>> log.flag("pain_nrs", "out of range 0–10", np.array([0, 4]), offset=100, shown=["14", "11"])
    >>> log.problems()
    ["f.csv: column 'pain_nrs': 2 rows out of range 0–10 (rows 101, 105: 14, 11)"]
    """

    def __init__(self, file: str):
        self.file = file
        self.found: dict[tuple[str, str], list[Any]] = {}

    def flag(
        self,
        column: str,
        what: str,
        positions: np.ndarray,
        offset: int,
        shown: list[str] | None = None,
    ) -> None:
        """Record rows ``positions`` (of a batch starting at row ``offset``) as bad.

        Parameters
        ----------
        column, what
            Where and what (one problem line per pair).
        positions
            0-based rows of the batch.
        offset
            The batch's first row in the file.
        shown
            The values of the first rows, as they will be printed.

        Examples
        --------
        >>> import numpy as np
        >>> log = ProblemLog("f.csv")
        >>> log.flag("age", "are negative", np.array([0, 2]), offset=100)
        >>> log.found[("age", "are negative")][:2]
        [2, [100, 102]]

        Returns
        -------
        None
        """
        if len(positions) == 0:
            return
        entry = self.found.setdefault((column, what), [0, [], []])
        room = MAX_ROWS_SHOWN - len(entry[1])
        entry[0] += len(positions)
        if room > 0:
            entry[1].extend((positions[:room] + offset).tolist())
            entry[2].extend((shown or [])[:room])

    def problems(self) -> list[str]:
        """One :func:`problem_line` per column and problem, in the order first seen.

        Returns
        -------
        list of str
            The problem lines.

        Examples
        --------
        >>> import numpy as np
        >>> log = ProblemLog("f.csv")
        >>> log.flag("age", "are negative", np.array([3]), offset=0, shown=["-4"])
        >>> log.problems()
        ["f.csv: column 'age': 1 row are negative (row 4: -4)"]
        """
        return [
            problem_line(self.file, column, what, count, rows, shown or None)
            for (column, what), (count, rows, shown) in self.found.items()
        ]


# --------------------------------------------------------------------------------------------
# Column names: matched ignoring case, near misses reported


def _looks_like_finding(name: str, findings: list[str]) -> bool:
    lower = name.strip().lower()
    return lower.startswith(FINDING_PREFIXES) or bool(
        difflib.get_close_matches(lower, findings, n=1, cutoff=0.8)
    )


def match_columns(
    file: str,
    header: list[str],
    known: Iterable[str],
    findings: Iterable[str] = (),
    *,
    strict: bool = False,
) -> list[str]:
    """The header with each name matched to a ``known`` column, ignoring case.

    A name that is not a known column but equals one ignoring case (``RF_BOWEL_BLADDER``,
    ``Exam_Fair_Test``) is renamed to it, when that is unambiguous: two names of the file
    that are one column ignoring case are an error. A remaining name that looks like one of
    ``findings`` (it starts like them, e.g. ``rf_``, or nearly spells one) but matches none
    would be silently ignored, so it is reported: an :class:`InputWarning` naming it and the
    closest known name, or with ``strict`` a :class:`DataValidationError`.

    Parameters
    ----------
    file
        The file's name, for messages.
    header
        Its column names.
    known
        The columns a reader knows.
    findings
        The knowledge base's findings (near misses of them are reported).
    strict
        Raise instead of warning about a near miss.

    Returns
    -------
    list of str
        The header, each name renamed to the known column it means.

    Examples
    --------
    >>> match_columns("f.csv", ["Patient_ID", "RF_BOWEL_BLADDER"],
    ...               ["patient_id", "rf_bowel_bladder"])
    ['patient_id', 'rf_bowel_bladder']
    >>> match_columns("f.csv", ["rf_bowel_bladder_dysfunction"], ["rf_bowel_bladder"],
    ...               ["rf_bowel_bladder"], strict=True)
    Traceback (most recent call last):
    outcomes.tables.problems.DataValidationError: f.csv: column 'rf_bowel_bladder_dysf...
    """
    known = list(known)
    by_lower: dict[str, list[str]] = {}
    for name in known:
        by_lower.setdefault(name.lower(), []).append(name)
    exact = set(header) & set(known)
    out: list[str] = []
    claimed: dict[str, str] = {}
    for name in header:
        target = name
        if name not in exact:
            candidates = by_lower.get(name.lower(), [])
            if len(candidates) == 1:
                target = candidates[0]
        if target in claimed:
            raise DataValidationError(
                [
                    f"{file}: columns {claimed[target]!r} and {name!r} both name column {target!r} "
                    "(names are matched ignoring case); keep one"
                ]
            )
        if target in known:
            claimed[target] = name
        out.append(target)
    findings = list(findings)
    problems = []
    for name in out:
        if name in known or not findings or not _looks_like_finding(name, findings):
            continue
        closest = difflib.get_close_matches(name.strip().lower(), findings, n=1, cutoff=0.0)
        hint = f" (closest: {closest[0]!r})" if closest else ""
        problems.append(
            f"{file}: column {name!r} looks like a finding or red flag but matches "
            f"no known column{hint}; it is ignored: rename it to use it "
            "(docs/data_dictionary.md lists the names)"
        )
    if problems and strict:
        raise DataValidationError(problems)
    for problem in problems:
        warnings.warn(problem, InputWarning, stacklevel=3)
    return out
