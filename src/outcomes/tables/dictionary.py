"""The data dictionary of a team's ``patients`` file (``docs/data_dictionary.md``)."""

from __future__ import annotations

import pandas as pd

from outcomes.knowledge import load_knowledge
from outcomes.tables.columns import patient_columns
from outcomes.tables.schema import RANGES, column_roles


def data_dictionary() -> pd.DataFrame:
    """Every column of a team's ``patients`` file: type, role, allowed values, meaning.

    Returns
    -------
    pandas.DataFrame
        One row per column a team may give (``column``, ``type``, ``role``,
        ``allowed values``, ``meaning``), in the template's order.

    Examples
    --------
    >>> d = data_dictionary().set_index("column")
    >>> d.loc["pain_nrs", "allowed values"]
    'whole number 0–10'
    """
    roles = column_roles()
    kb = load_knowledge()
    missable = {f.name for f in kb.findings if f.can_be_missing}
    rows = []
    for c in patient_columns(kb):
        role = roles[c.name]
        if role == "generator only":
            continue
        if c.dtype in ("bool", "boolean"):
            kind = "yes/no"
            allowed = "true/false, 1/0 or yes/no" + (
                "; empty = derived from symptom_duration_weeks"
                if c.name == "chronic"
                else "; empty = not recorded"
                if c.name in missable
                else ""
            )
        elif c.dtype in ("int8", "int16"):
            kind = "integer"
            low, high = RANGES[c.name]
            allowed = f"whole number {low:g}–{high:g}"
        elif c.dtype == "category":
            kind = "category"
            allowed = ", ".join(c.categories or ())
        else:
            kind, allowed = "text", "any non-empty text, unique per patient"
        meaning = c.meaning.replace(" (hidden from triage)", "")
        if c.name == "chronic":
            meaning += (
                "; must agree with symptom_duration_weeks, and is derived from it when "
                "absent or empty"
            )
        rows.append((c.name, kind, role, allowed, meaning))
    return pd.DataFrame(rows, columns=["column", "type", "role", "allowed values", "meaning"])


def data_dictionary_markdown() -> str:
    """The data dictionary as Markdown (``docs/data_dictionary.md``; ``make docs``).

    Returns
    -------
    str
        The page: what the roles mean, the predictions file, and :func:`data_dictionary` as a
        table.

    Examples
    --------
    >>> data_dictionary_markdown().startswith("# Data dictionary")
    True
    """
    table = data_dictionary()
    lines = [
        "# Data dictionary: a team's patients file",
        "",
        "Generated from `outcomes.tables.schema` by `make docs` (do not edit). `outcomes template "
        "--out my_patients.csv` writes a file with these columns and a few example rows;",
        "`outcomes evaluate --data my_patients.csv --predictions my_triage.csv` checks it and",
        "evaluates the team's triage calls.",
        "",
        "- **required**: must be present, with a value in every row.",
        "- **optional**: may be absent; an empty cell (or an absent column) means not recorded.",
        "- **truth**: the confirmed pathway (needed to evaluate) and diagnosis, if known; when",
        "  both are given, the pathway must be the one the condition belongs to, and where only",
        "  the condition is given (no `pathway` column, or an empty cell) the pathway is filled",
        "  from it.",
        "- A generated cohort's columns hidden from triage (`secondary_condition`,",
        "  `latent_severity`) are checked like the others when present (`outcomes simulate`",
        "  needs them, and the condition).",
        "- Any other column is kept and ignored. Rows in error messages are data rows counted",
        "  from 1 (the header is not counted).",
        "",
        "Predictions file: `patient_id`, `pathway` (one of "
        + ", ".join(load_knowledge().pathways)
        + "), and optionally `p_<pathway>` probabilities for every pathway, summing to 1.",
        "",
        "Files are read in a stream (CSV or Parquet), so millions of patients fit in memory; a",
        "row with more or fewer cells than the header is named by its line in the file.",
        "",
        "| column | type | role | allowed values | meaning |",
        "|---|---|---|---|---|",
    ]
    for r in table.itertuples(index=False):
        lines.append("| " + " | ".join(str(v).replace("|", "/") for v in r) + " |")
    return "\n".join(lines) + "\n"
