"""The layout of ``recovery.toml``: every table, key and allowed range, and a cheap reader.

Standard library only, so that the command line can show the follow-up settings in its help
without importing numpy or pandas (:func:`recovery_settings`). The full, validated reading of
the file, sources and ranges included, is :func:`outcomes.engine.recovery.load_recovery`,
which checks every number against :data:`SCHEMA`.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from pathlib import Path

#: The packaged ``recovery.toml``.
RECOVERY_FILE = Path(__file__).parents[1] / "knowledge" / "recovery.toml"
_P = (0.0, 1.0)
#: Every number of ``recovery.toml``: table -> key -> (lowest, highest allowed, whole number).
#: Tables named with ``*`` repeat per class, fit or condition. Any other key is rejected.
SCHEMA: Mapping[str, Mapping[str, tuple[float, float, bool]]] = {
    "recovery": {
        "pain_max": (0, 10, False), "min_fall_points": (0, 10, False),
        "min_fall_fraction": (*_P, False), "sustained_visits": (1, 12, True),
        "follow_up_weeks": (2, 520, True), "dropout": (*_P, False),
    },
    "classes.*": {
        "half_life_weeks": (0.1, 520, False), "floor": (0, 1.5, False),
        "persistence_weight": (0, 5, False),
    },
    "prognosis": {
        "chronic_odds_ratio": (0.01, 100, False), "severity_log_odds": (-10, 10, False),
        "age_log_odds_per_decade": (-5, 5, False),
    },
    "fit.*": {
        "rate_multiplier": (0, 10, False), "persistence_odds_ratio": (0.01, 100, False),
        "delay_weeks": (0, 52, False), "aggravation": (0, 2, False),
        "flare_weekly_probability": (*_P, False),
    },
    "aggravation": {"peak_week": (0.5, 52, False)},
    "surgery": {
        "decision_week": (1, 52, True), "min_baseline_pain": (0, 10, False),
        "wait_weeks_min": (0, 104, True),
        "wait_weeks_max": (0, 104, True), "post_half_life_weeks": (0.1, 52, False),
        "post_floor": (0, 1, False),
    },
    "relapse": {
        "probability_within_year": (*_P, False), "duration_weeks_min": (1, 52, True),
        "duration_weeks_max": (1, 52, True), "level": (0, 1.5, False),
    },
    "harm": {
        "emergency_delay_weeks": (0, 52, False), "detection_weekly_probability": (0.001, 1, False),
        "progression_per_week": (0, 1, False), "deficit_intercept": (-20, 20, False),
        "deficit_slope_per_week": (0, 10, False), "deficit_floor": (0, 1, False),
    },
    "modifiers": {
        "chronic_rate_multiplier": (0, 2, False), "adherence_beta_a": (0.1, 100, False),
        "adherence_beta_b": (0.1, 100, False), "adherence_floor": (*_P, False),
        "individual_rate_sd": (0, 2, False), "secondary_share": (*_P, False),
    },
    "noise": {
        "pain_sd": (0, 5, False), "odi_sd": (0, 50, False), "flare_pain": (0, 10, False),
        "flare_odi": (0, 100, False), "flare_carryover": (*_P, False),
    },
}  # fmt: skip
#: Tables of ``recovery.toml``; ``membership``, ``aggravating`` and ``surgery``'s named lists
#: are checked against the knowledge base.
RECOVERY_TABLES = (
    "recovery", "classes", "membership", "prognosis", "fit", "aggravating", "aggravation",
    "surgery", "relapse", "harm", "modifiers", "noise",
)  # fmt: skip
AGGRAVATING_KEYS = ("pathways", "source")


def recovery_settings(path: str | Path | None = None) -> dict[str, float]:
    """The ``[recovery]`` numbers of ``recovery.toml``, checked against :data:`SCHEMA`.

    Cheap (standard library only: no numpy or pandas import): the command line reads its
    defaults here. Each number must be ``{ value = ..., source = "..." }`` within its allowed
    range (a whole number where the schema says so); sources are checked against
    ``references.toml`` by :func:`outcomes.engine.recovery.load_recovery` only.

    Parameters
    ----------
    path
        The file to read (default: the packaged :data:`RECOVERY_FILE`).

    Returns
    -------
    dict
        Key of ``[recovery]`` -> value (whole numbers as ``int``).

    Raises
    ------
    ValueError
        Naming the file, the key and the value, when a number is missing or out of range.

    Examples
    --------
    >>> settings = recovery_settings()
    >>> settings["follow_up_weeks"], settings["dropout"]
    (52, 0.1)
    """
    path = Path(path) if path is not None else RECOVERY_FILE
    with path.open("rb") as fh:
        table = tomllib.load(fh).get("recovery")
    if not isinstance(table, dict):
        raise ValueError(f"{path.name}: [recovery] must be a table")
    out: dict[str, float] = {}
    for name, (low, high, whole) in SCHEMA["recovery"].items():
        entry = table.get(name)
        if not isinstance(entry, dict) or "value" not in entry or "source" not in entry:
            raise ValueError(
                f'{path.name}: [recovery.{name}] must be {{ value = ..., source = "..." }}, '
                f"got {entry!r}"
            )
        value = entry["value"]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or math.isnan(value)
            or not low <= value <= high
        ):
            where = f"{path.name}: [recovery.{name}] value {value!r}"
            raise ValueError(f"{where} is not a number in [{low}, {high}]")
        if whole and value != int(value):
            raise ValueError(f"{path.name}: [recovery.{name}] value {value!r} is not whole")
        out[name] = int(value) if whole else float(value)
    return out
