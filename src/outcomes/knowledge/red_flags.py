"""Which findings are red flags: the knowledge base's findings of ``kind = "red_flag"``."""

from __future__ import annotations

from outcomes.knowledge import Knowledge, load_knowledge


def red_flag_columns(knowledge: Knowledge | None = None) -> list[str]:
    """The red-flag findings of the knowledge base (``kind = "red_flag"``), in its order.

    These, and only these, are the columns read as red flags: a team's extra column that
    happens to start with ``rf_`` (say ``rf_comment``) is not one.

    Parameters
    ----------
    knowledge
        Knowledge base (default: the packaged one).

    Returns
    -------
    list of str
        Column names of the red-flag findings.

    Examples
    --------
    >>> red_flag_columns()[:2]
    ['rf_bowel_bladder', 'rf_saddle_numbness']
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    return [f.name for f in kb.findings if f.kind == "red_flag"]
