"""Headline numbers of a notebook run, shown at the top of its page in the HTML report.

A notebook ends its analysis with a cell tagged ``summary`` whose value is a :class:`Summary`.
In the notebook it renders as a short bullet list; :func:`outcomes.faces.report.run_report` lifts
the same text to the top of the notebook's HTML page and into the report's index, so a reader
sees what that run found before scrolling through the figures.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

#: Tag of the notebook cell whose output is the run's summary.
SUMMARY_TAG = "summary"


@dataclass(frozen=True)
class Summary:
    """A titled list of headline findings, each one sentence with its number.

    Parameters
    ----------
    title
        What the run was, e.g. ``"Cohort of 5,000 patients in primary care"``.
    findings
        One sentence per headline number, already formatted (estimates with their 95%
        interval as ``"0.91 (0.89–0.93)"``).

    Examples
    --------
    >>> s = Summary("Cohort of 300 patients", ["Oracle accuracy: 0.97 (0.95–0.98)."])
    >>> print(s)
    Cohort of 300 patients
    - Oracle accuracy: 0.97 (0.95–0.98).
    >>> s.to_html().startswith('<p><strong>Cohort of 300 patients</strong></p><ul><li>')
    True
    """

    title: str
    findings: tuple[str, ...]

    def __init__(self, title: str, findings: Iterable[str]):
        findings = tuple(str(f) for f in findings)
        if not findings:
            raise ValueError("a summary needs at least one finding")
        object.__setattr__(self, "title", str(title))
        object.__setattr__(self, "findings", findings)

    def __iter__(self) -> Iterator[str]:
        return iter(self.findings)

    def __str__(self) -> str:
        return "\n".join([self.title, *(f"- {f}" for f in self.findings)])

    # Jupyter shows the Markdown; nbval compares the plain text, which is the same content.
    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        return "\n".join([f"**{self.title}**", "", *(f"- {f}" for f in self.findings)])

    def to_html(self) -> str:
        """The summary as an HTML fragment (escaped), for the report.

        Returns
        -------
        str
            A bold title paragraph and a bullet list of the findings.

        Examples
        --------
        >>> Summary("Run", ["a < b"]).to_html()
        '<p><strong>Run</strong></p><ul><li>a &lt; b</li></ul>'
        """
        items = "".join(f"<li>{html.escape(f)}</li>" for f in self.findings)
        return f"<p><strong>{html.escape(self.title)}</strong></p><ul>{items}</ul>"


def parse_summary(text: str) -> Summary | None:
    """Rebuild a :class:`Summary` from its plain-text form (as stored in a notebook output).

    Parameters
    ----------
    text : str
        The summary's plain text: a title line, then one ``"- finding"`` line per finding.

    Returns
    -------
    Summary or None
        None when the text is not a summary (no bulleted findings after the title).

    Examples
    --------
    >>> parse_summary("Run\\n- one\\n- two").findings
    ('one', 'two')
    >>> parse_summary("just text") is None
    True
    """
    lines = [line.rstrip() for line in text.strip().splitlines()]
    if len(lines) < 2 or not all(line.startswith("- ") for line in lines[1:]):
        return None
    return Summary(lines[0], [line[2:] for line in lines[1:]])
