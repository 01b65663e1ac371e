"""Published figures the generator must reproduce, checked on a cohort.

The targets are data (``knowledge/targets.toml``, each with its source). Each statistic is
reported separately with its 95% interval — never averaged into one fidelity score that could
hide a miss.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from outcomes.describe import proportion_ci
from outcomes.knowledge import (
    KNOWLEDGE_DIR,
    Knowledge,
    KnowledgeError,
    _Reader,
    _References,
    load_knowledge,
)

STATISTICS = ("sensitivity", "specificity", "share", "mean_age")


@dataclass(frozen=True)
class Target:
    """One published figure: what to compute, on which setting, and the accepted range."""

    name: str
    label: str
    statistic: str
    setting: str
    condition: str
    finding: str | None
    target: float
    low: float
    high: float


def load_targets(knowledge: Knowledge | None = None) -> tuple[Target, ...]:
    """Read and validate ``targets.toml`` against the knowledge base.

    Examples
    --------
    >>> names = [t.name for t in load_targets()]
    >>> "slr_sensitivity" in names
    True
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    directory = kb.directory if (kb.directory / "targets.toml").exists() else KNOWLEDGE_DIR
    reader = _Reader(directory / "targets.toml", _References(directory / "references.toml"), {})
    targets = []
    for name, node in reader.data.items():
        node = reader.table(node, name)
        statistic = reader.text(node, name, "statistic")
        if statistic not in STATISTICS:
            raise KnowledgeError(
                f"targets.toml: [{name}.statistic] {statistic!r} is not one of {STATISTICS}"
            )
        setting = reader.text(node, name, "setting")
        kb.setting(setting)
        condition = reader.text(node, name, "condition")
        kb.condition(condition)
        finding = node.get("finding")
        if statistic in ("sensitivity", "specificity") and finding not in kb.finding_names:
            raise KnowledgeError(f"targets.toml: [{name}.finding] {finding!r} is not a finding")
        bound = 120.0 if statistic == "mean_age" else 1.0
        value, low, high = (
            reader.number(node, name, k, low=0, high=bound) for k in ("target", "low", "high")
        )
        if not low <= value <= high:
            raise KnowledgeError(
                f"targets.toml: [{name}] target {value} is outside [{low}, {high}]"
            )
        targets.append(
            Target(
                name,
                reader.text(node, name, "label"),
                statistic,
                setting,
                condition,
                finding,
                value,
                low,
                high,
            )
        )
    return tuple(targets)


def _statistic(df: pd.DataFrame, t: Target) -> tuple[float, float, float, int]:
    is_condition = (df["condition"] == t.condition).to_numpy()
    if t.statistic == "share":
        k, n = int(is_condition.sum()), len(df)
        return (k / n if n else np.nan, *proportion_ci(k, n), n)
    if t.statistic == "mean_age":
        ages = df.loc[is_condition, "age"].to_numpy(dtype=float)
        if ages.size < 2:
            return (np.nan, np.nan, np.nan, int(ages.size))
        half = 1.959964 * ages.std(ddof=1) / np.sqrt(ages.size)
        return (ages.mean(), ages.mean() - half, ages.mean() + half, int(ages.size))
    values = df[t.finding].astype("float64").to_numpy()
    rows = is_condition if t.statistic == "sensitivity" else ~is_condition
    recorded = values[rows & ~np.isnan(values)]
    hits = int((recorded == (1.0 if t.statistic == "sensitivity" else 0.0)).sum())
    n = int(recorded.size)
    return (hits / n if n else np.nan, *proportion_ci(hits, n), n)


def check_targets(
    cohorts: dict[str, pd.DataFrame], knowledge: Knowledge | None = None
) -> pd.DataFrame:
    """Compare cohorts with the published targets, one row per target.

    Parameters
    ----------
    cohorts
        Setting name -> cohort generated in that setting. Targets for settings not given are
        reported with ``met`` = NA.

    Returns
    -------
    pandas.DataFrame
        ``target, label, published, low, high, observed, ci_low, ci_high, n, met``: a target is
        met when the observed 95% interval overlaps the published range.

    Examples
    --------
    >>> from outcomes.cohort import generate
    >>> table = check_targets({"primary_care": generate(5000, seed=1, setting="primary_care")})
    >>> bool(table.set_index("target").loc["disc_age", "met"])
    True
    """
    rows = []
    for t in load_targets(knowledge):
        df = cohorts.get(t.setting)
        if df is None:
            observed = (np.nan, np.nan, np.nan, 0)
        else:
            observed = _statistic(df, t)
        est, lo, hi, n = observed
        met = pd.NA if df is None or n == 0 else bool(hi >= t.low and lo <= t.high)
        rows.append((t.name, t.label, t.setting, t.target, t.low, t.high, est, lo, hi, n, met))
    return pd.DataFrame(
        rows,
        columns=[
            "target",
            "label",
            "setting",
            "published",
            "low",
            "high",
            "observed",
            "ci_low",
            "ci_high",
            "n",
            "met",
        ],
    ).astype({"met": "boolean"})
