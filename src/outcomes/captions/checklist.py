"""A TRIPOD+AI-style reporting checklist: where the report answers each item, or why it cannot.

TRIPOD+AI (Collins et al., BMJ 2024) lists what a report of a clinical prediction model
should state. A team that cites this suite's evaluation of its triage in a paper can use this
table to find each answer in the HTML report. Item names are short paraphrases, not the
statement's wording. Each item points at a notebook section (its Markdown heading), a report
page, or a command; or it is "not applicable" with the reason. ``tests/test_checklist.py``
checks that every pointer exists.

:func:`outcomes.faces.report.run_report` renders :data:`CHECKLIST` in the report's index
(:func:`checklist_html`).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Where:
    """A place in the report: a notebook's section, a report page, or a command.

    ``kind`` is ``"notebook"`` (``target`` a notebook name without suffix, ``section`` a
    Markdown heading of it, without the leading ``#``), ``"page"`` (``target`` a file of the
    report folder, ``section`` a part of it) or ``"command"`` (``target`` an ``outcomes``
    subcommand).

    Parameters
    ----------
    kind : {"notebook", "page", "command"}
        What kind of place.
    target : str
        The notebook, report file or subcommand.
    section : str, default ""
        The heading or part within ``target``.

    Examples
    --------
    >>> Where("notebook", "01_cohort", "The cohort").kind
    'notebook'
    """

    kind: str
    target: str
    section: str = ""


@dataclass(frozen=True)
class Item:
    """One checklist item: its TRIPOD+AI topic, where the report answers it, or why not.

    Parameters
    ----------
    number : str
        The TRIPOD+AI item number(s), e.g. ``"1–2"``.
    topic : str
        The item's topic, paraphrased.
    where : tuple of Where, default ()
        Where the report answers it.
    not_applicable : str, default ""
        Why the item does not apply (then ``where`` is empty).

    Examples
    --------
    >>> Item("5", "Source of data", (Where("page", "datacard.html"),)).where[0].target
    'datacard.html'
    """

    number: str
    topic: str
    where: tuple[Where, ...] = ()
    not_applicable: str = ""


NB01, NB02, NB04 = "01_cohort", "02_triage_rules_vs_learned", "04_evaluate_your_triage"
_NB02_TITLE = "02 · Triage: explainable rules, learned models and the oracle"
_NB02_DECISION = "Decision curves: is acting on a method's probabilities worth it?"

#: The checklist, in TRIPOD+AI order (paraphrased topics).
CHECKLIST: tuple[Item, ...] = (
    Item("1–2", "Title and abstract: what was evaluated, with the headline results",
         (Where("page", "index.html", "Notebooks: each run's summary"),)),
    Item("3", "Background: the clinical question and the care pathways",
         (Where("notebook", NB02, _NB02_TITLE),)),
    Item("4", "Objectives: which methods are compared, and on what",
         (Where("notebook", NB02, "The methods"),)),
    Item("5", "Source of data: how the cohort was made (command, seed, version)",
         (Where("page", "datacard.html", "How it was made"),)),
    Item("6", "Participants: setting, eligibility and case mix",
         (Where("notebook", NB01, "Case mix by care setting"),
          Where("notebook", NB01, "Table 1 · Demographics and baseline scores by true condition"))),
    Item("7", "Data preparation: findings, how unrecorded ones are treated",
         (Where("notebook", NB02, "The methods"), Where("page", "datacard.html", "Columns"))),
    Item("8", "Outcome: the confirmed care pathway, and how it is known",
         (Where("page", "datacard.html", "Columns"),)),
    Item("9", "Predictors: definition of every finding",
         (Where("page", "datacard.html", "Columns"),)),
    Item("10", "Sample size: how many training patients a model needs",
         (Where("notebook", NB02, "6 · How many training patients does a model need?"),)),
    Item("11", "Missing data: how missing findings are handled, and what sparser records cost",
         (Where("notebook", NB02, "7 · Shift: another setting, sparser records"),)),
    Item("12a", "Analytical methods: model types, training and the rules",
         (Where("notebook", NB02, "The methods"),)),
    Item("12b", "Performance measures with 95% intervals",
         (Where("notebook", NB02, "1 · Accuracy, with 95% intervals"),
          Where("notebook", NB02, "4 · Paired comparisons and the gap to the oracle"))),
    Item("12c", "Calibration",
         (Where("notebook", NB02, "5 · Can the probabilities be trusted?"),)),
    Item("12d", "Clinical utility: decision curves (net benefit), emergency first",
         (Where("notebook", NB02, _NB02_DECISION),)),
    Item("12e", "Thresholds: chosen from stated costs, not from the evaluation set",
         (Where("notebook", NB02, "3 · Red-flag safety"),)),
    Item("12f", "Fairness: performance across groups of patients",
         not_applicable="the synthetic cohort records no ethnicity or socioeconomic variables, "
         "and performance by sex or age group is not reported; a team should report it on "
         "its own data"),
    Item("13", "Class imbalance: rare emergencies, safety beside accuracy",
         (Where("notebook", NB02, "3 · Red-flag safety"),)),
    Item("14", "Model output and explanation of individual calls",
         (Where("notebook", NB02, "8 · Why the rules got some patients wrong"),
          Where("command", "explain"))),
    Item("15", "Differences between development and evaluation data",
         (Where("notebook", NB02, "7 · Shift: another setting, sparser records"),)),
    Item("16", "Ethics approval",
         not_applicable="no person's data is used: every patient is synthetic"),
    Item("17", "Funding and conflicts of interest",
         not_applicable="a property of the study that cites the suite, not of the suite"),
    Item("18", "Protocol and registration",
         not_applicable="a property of the study that cites the suite, not of the suite"),
    Item("19", "Patient and public involvement",
         not_applicable="none in building the suite; a citing study states its own"),
    Item("20", "Participants: numbers and outcome counts",
         (Where("notebook", NB01, "Case mix by care setting"),
          Where("notebook", NB02, "3 · Red-flag safety"))),
    Item("21", "Evaluation on a team's own data",
         (Where("notebook", NB04, "04 · Evaluate your own triage"),)),
    Item("22", "Model specification: enough to reproduce the results",
         (Where("page", "manifest.json", "versions, commit, parameters, rerun command"),
          Where("page", "index.html", "Run it again"))),
    Item("23", "Interpretation and limitations",
         (Where("page", "datacard.html", "Known limits"),
          Where("notebook", NB02, "What this shows"))),
    Item("24", "Usability in practice and deployment",
         not_applicable="the suite is a test bed for triage methods on synthetic patients, "
         "not a validated clinical tool"),
    Item("25", "Code and data availability",
         (Where("page", "manifest.json", "commit and knowledge hash"),
          Where("page", "datacard.html", "How it was made"))),
)  # fmt: skip


def _where_html(where: Where, run_notebooks: Iterable[str]) -> str:
    esc = html.escape
    if where.kind == "notebook":
        name = f"{where.target}.html"
        if where.target in set(run_notebooks):
            page = f'<a href="{esc(name)}">{esc(where.target)}</a>'
        else:
            page = f"{esc(where.target)} (not run)"
        return f"{page}: “{esc(where.section)}”"
    if where.kind == "page":
        section = f": {esc(where.section)}" if where.section else ""
        return f'<a href="{esc(where.target)}">{esc(where.target)}</a>{section}'
    return f"<code>outcomes {esc(where.target)}</code>"


def checklist_html(run_notebooks: Iterable[str] = (), items: Iterable[Item] = CHECKLIST) -> str:
    """The checklist as an HTML table; notebook pointers link to the pages of this run.

    Parameters
    ----------
    run_notebooks : iterable of str, default ()
        Names of the notebooks this report run holds; pointers to others are not linked.
    items : iterable of Item, default CHECKLIST
        The checklist items, in order.

    Returns
    -------
    str
        An HTML ``<table>``, one row per item.

    Examples
    --------
    >>> page = checklist_html([NB02])
    >>> page.startswith("<table") and 'href="02_triage_rules_vs_learned.html"' in page
    True
    """
    run = list(run_notebooks)
    rows = []
    for item in items:
        if item.not_applicable:
            answer = f"<em>not applicable</em>: {html.escape(item.not_applicable)}"
        else:
            answer = "<br>".join(_where_html(w, run) for w in item.where)
        rows.append(
            f"<tr><td>{html.escape(item.number)}</td><td>{html.escape(item.topic)}</td>"
            f"<td>{answer}</td></tr>"
        )
    return (
        '<table class="checklist"><thead><tr><th>item</th><th>topic (TRIPOD+AI, '
        "paraphrased)</th><th>where the report answers it</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )
