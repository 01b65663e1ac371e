"""Provenance: every number of every knowledge file, with its source, as one table."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pandas as pd

from outcomes.knowledge.schema import KNOWLEDGE_DIR, KnowledgeError


def provenance(directory: str | Path | None = None) -> pd.DataFrame:
    """Every number in every knowledge file of ``directory``, with its source.

    Reads each ``*.toml`` file generically (``tomllib``): every ``{ value, source }`` entry,
    however deeply nested, including the files other modules load (``recovery.toml``,
    ``costs.toml``, ``triage_rules.toml``, ``targets.toml``). A number written without a
    source is listed too, with an empty ``source``, so that it cannot hide. The files are not
    validated here (:func:`load_knowledge` and each file's loader do that).

    Parameters
    ----------
    directory
        A knowledge folder; defaults to the packaged knowledge base.

    Returns
    -------
    pandas.DataFrame
        ``file, key, value, source, calibrated, low, high``, one row per number in file
        order (``low``/``high``: its plausible range, NaN when none is stated). ``key``
        is the dotted path inside the file; an element of an array of tables is written
        ``rules[name]`` (by its ``name``, or its position if it has none). ``calibrated`` says
        how a value fitted to a published figure was derived (empty otherwise).

    Examples
    --------
    >>> table = provenance()
    >>> sorted(set(table["file"]))[:3]
    ['conditions.toml', 'costs.toml', 'findings.toml']
    >>> row = table.set_index("key").loc["settings.primary_care.case_mix.serious_pathology"]
    >>> float(row["value"]), row["source"]
    (0.01, 'study:henschke2009')
    """
    folder = Path(directory) if directory is not None else KNOWLEDGE_DIR
    rows: list[tuple[str, str, float, str, str, float, float]] = []
    nan = float("nan")

    def end(node: Any, name: str) -> float:
        bound = node.get(name)
        if isinstance(bound, dict):
            bound = bound.get("value")
        ok = isinstance(bound, int | float) and not isinstance(bound, bool)
        return float(bound) if ok else nan

    def walk(node: Any, file: str, key: str) -> None:
        if isinstance(node, dict):
            if "value" in node and "source" in node:
                source, how = node["source"], node.get("calibrated", "")
                rows.append(
                    (
                        file,
                        key,
                        node["value"],
                        str(source),
                        str(how),
                        end(node, "low"),
                        end(node, "high"),
                    )
                )
                return
            for name, child in node.items():
                walk(child, file, f"{key}.{name}" if key else name)
        elif isinstance(node, list):
            for i, child in enumerate(node):
                label = child.get("name") if isinstance(child, dict) else None
                walk(child, file, f"{key}[{label if isinstance(label, str) else i}]")
        elif isinstance(node, int | float) and not isinstance(node, bool):
            rows.append((file, key, node, "", "", nan, nan))

    for path in sorted(folder.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise KnowledgeError(f"{path.name}: not valid TOML ({exc})") from None
        walk(data, path.name, "")
    return pd.DataFrame(
        rows, columns=["file", "key", "value", "source", "calibrated", "low", "high"]
    )
