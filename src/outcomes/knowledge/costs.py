"""The misclassification costs of ``costs.toml``: what each wrong pathway costs, by true pathway.

The triage decision rule (:class:`outcomes.triage.decision.MinimumCostClassifier`), the safety
table and the decision curves all read the costs through :func:`load_costs`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from outcomes.knowledge import Knowledge, file_reader, load_knowledge


def load_costs(knowledge: Knowledge | None = None) -> pd.DataFrame:
    """The misclassification cost matrix of ``costs.toml`` (rows true, columns assigned).

    Validated: every pathway present as a row and a column, costs non-negative, zero on the
    diagonal, each with a source; errors name the file, key and value.

    Parameters
    ----------
    knowledge
        Knowledge base whose ``costs.toml`` and pathways are read (default: the packaged one).

    Returns
    -------
    pandas.DataFrame
        Costs, index ``true`` and columns ``assigned`` in the pathways' order; ``attrs["sources"]``
        holds each number's source.

    Examples
    --------
    >>> costs = load_costs()
    >>> float(costs.loc["emergency", "spinal"]), float(costs.loc["spinal", "spinal"])
    (50.0, 0.0)
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    sources: dict[str, str] = {}
    reader = file_reader(kb, "costs.toml", sources)
    unknown = sorted(set(reader.data) - set(kb.pathways))
    if unknown:
        raise reader.fail(unknown[0], f"is not a pathway; pathways: {', '.join(kb.pathways)}")
    matrix = np.zeros((len(kb.pathways), len(kb.pathways)))
    for i, true in enumerate(kb.pathways):
        if true not in reader.data:
            raise reader.fail(true, "is missing (every pathway needs a row of costs)")
        row = reader.table(reader.data[true], true)
        extra = sorted(set(row) - set(kb.pathways))
        if extra:
            raise reader.fail(f"{true}.{extra[0]}", "is not a pathway")
        for j, assigned in enumerate(kb.pathways):
            value = reader.number(row, true, assigned, low=0.0, what="a non-negative cost")
            if i == j and value != 0:
                raise reader.fail(f"{true}.{assigned}", f"value {value!r} must be 0 (correct call)")
            matrix[i, j] = value
    table = pd.DataFrame(matrix, index=list(kb.pathways), columns=list(kb.pathways))
    table.index.name, table.columns.name = "true", "assigned"
    table.attrs["sources"] = sources
    return table
