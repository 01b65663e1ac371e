"""The recovery knowledge base: ``recovery.toml`` read, validated and held as numbers.

:func:`load_recovery` reads every number with its source and, where uncertain, its plausible
range (:data:`outcomes.engine.recovery_file.SCHEMA` declares which keys exist and what each
allows); :class:`RecoveryParams` holds them under dotted keys with structured views, and
:meth:`RecoveryParams.with_values` returns a copy with some changed (the sensitivity analysis).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from outcomes.engine.recovery_file import AGGRAVATING_KEYS, RECOVERY_TABLES, SCHEMA
from outcomes.knowledge import Knowledge, Reader, file_reader, load_knowledge
from outcomes.tables.columns import CLASSES, FITS

#: Fields of each fit of the care to a condition (``[fit.*]`` of ``recovery.toml``).
FIT_FIELDS = (
    "rate_multiplier",
    "persistence_odds_ratio",
    "delay_weeks",
    "aggravation",
    "flare_weekly_probability",
)
# A seed or study named inside an ``assumption`` source, e.g. "(direction: seed:000 §Title)".
_CITED = re.compile(r"seed:\d+ §[^)]+|study:[A-Za-z0-9_]+")


@dataclass(frozen=True)
class RecoveryParams:
    """The recovery knowledge base, validated. Build it with :func:`load_recovery`.

    Every number is in :attr:`values` under its dotted key (``"fit.matched.rate_multiplier"``),
    and every number that states a plausible range has it in :attr:`ranges`;
    :meth:`with_values` returns a copy with some numbers changed (the sensitivity analysis
    uses it). The structured views (:attr:`fit`, :attr:`modifiers`, …) are read from
    :attr:`values`.

    Parameters
    ----------
    values : mapping of str to float
        Every number, under its dotted key.
    ranges : mapping of str to (float, float)
        The plausible range ``(low, high)`` of each number that states one.
    conditions : tuple of str
        The conditions, in the knowledge base's order.
    aggravating : mapping of str to tuple of str
        Condition -> the care pathways that aggravate it.
    surgery_conditions : tuple of str
        The conditions that may be operated on.
    surgery_pathway : str
        The care pathway whose patients with such a condition may be referred to surgery.
    sources : mapping of str to str, optional
        ``"recovery.toml:key" -> source`` of every number read.

    Examples
    --------
    >>> p = load_recovery()
    >>> p["fit.matched.rate_multiplier"], p.surgery_pathway
    (1.15, 'spinal')
    >>> p.ranges["relapse.probability_within_year"]
    (0.15, 0.35)
    """

    values: Mapping[str, float]
    ranges: Mapping[str, tuple[float, float]]
    conditions: tuple[str, ...]
    aggravating: Mapping[str, tuple[str, ...]]
    surgery_conditions: tuple[str, ...]
    surgery_pathway: str
    sources: Mapping[str, str] = field(repr=False, default_factory=dict)

    def __getitem__(self, key: str) -> float:
        try:
            return self.values[key]
        except KeyError:
            raise KeyError(f"{key!r} is not a number of recovery.toml") from None

    def _table(self, prefix: str) -> dict[str, float]:
        # Built once per table and kept (the object is frozen and a simulation reads the same
        # tables many times); a copy is returned so a caller cannot change the cache.
        cache = self.__dict__.setdefault("_tables_cache", {})
        if prefix not in cache:
            start = prefix + "."
            cache[prefix] = {
                k[len(start) :]: v for k, v in self.values.items() if k.startswith(start)
            }
        return dict(cache[prefix])

    @property
    def pain_max(self) -> float:
        return self["recovery.pain_max"]

    @property
    def min_fall_points(self) -> float:
        return self["recovery.min_fall_points"]

    @property
    def min_fall_fraction(self) -> float:
        return self["recovery.min_fall_fraction"]

    @property
    def sustained_visits(self) -> int:
        return int(self["recovery.sustained_visits"])

    @property
    def follow_up_weeks(self) -> int:
        return int(self["recovery.follow_up_weeks"])

    @property
    def dropout(self) -> float:
        return self["recovery.dropout"]

    @property
    def peak_week(self) -> float:
        return self["aggravation.peak_week"]

    @property
    def fit(self) -> dict[str, dict[str, float]]:
        """Fit -> field -> value (:data:`FIT_FIELDS`).

        Examples
        --------
        >>> sorted(load_recovery().fit)
        ['aggravating', 'harmful', 'matched', 'mismatched', 'redirected']
        """
        return {name: self._table(f"fit.{name}") for name in FITS}

    @property
    def modifiers(self) -> dict[str, float]:
        return self._table("modifiers")

    @property
    def noise(self) -> dict[str, float]:
        return self._table("noise")

    @property
    def surgery(self) -> dict[str, float]:
        return self._table("surgery")

    @property
    def relapse(self) -> dict[str, float]:
        return self._table("relapse")

    @property
    def harm(self) -> dict[str, float]:
        return self._table("harm")

    @property
    def prognosis(self) -> dict[str, float]:
        return self._table("prognosis")

    def class_table(self) -> pd.DataFrame:
        """Half-life, floor and persistence weight of each class (rows in :data:`CLASSES`).

        Returns
        -------
        pandas.DataFrame
            Columns ``half_life_weeks``, ``floor`` and ``persistence_weight``, indexed by
            ``trajectory_class``.

        Examples
        --------
        >>> float(load_recovery().class_table().loc["persistent_severe", "floor"])
        0.95
        """
        rows = {k: self._table(f"classes.{k}") for k in CLASSES}
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("trajectory_class")

    def membership(self) -> pd.DataFrame:
        """Class shares under usual care per condition (rows conditions, columns classes).

        Returns
        -------
        pandas.DataFrame
            Condition x trajectory class shares; each row sums to 1.

        Examples
        --------
        >>> float(load_recovery().membership().sum(axis=1).max())
        1.0
        """
        return pd.DataFrame(
            [[self[f"membership.{c}.{k}"] for k in CLASSES] for c in self.conditions],
            index=pd.Index(self.conditions, name="condition"),
            columns=pd.Index(CLASSES, name="trajectory_class"),
        )

    def with_values(self, changes: Mapping[str, float]) -> RecoveryParams:
        """A copy with the numbers under the given dotted keys replaced.

        Each new value must lie within what ``recovery.toml`` allows for that key (a number
        with a stated range may leave it: the one-way sensitivity analysis sets exactly its
        ends, and a user may explore beyond them on purpose). Membership rows must still sum
        to 1.

        Parameters
        ----------
        changes : mapping of str to float
            Dotted key -> new value.

        Returns
        -------
        RecoveryParams
            The copy; this one is unchanged.

        Examples
        --------
        >>> p = load_recovery().with_values({"fit.matched.rate_multiplier": 1.3})
        >>> p.fit["matched"]["rate_multiplier"]
        1.3
        """
        values = dict(self.values)
        for key, value in changes.items():
            if key not in values:
                raise KeyError(f"{key!r} is not a number of recovery.toml")
            low, high, whole = _bounds(key)
            if isinstance(value, bool) or not low <= float(value) <= high:
                raise ValueError(f"{key} = {value!r} is outside its allowed [{low}, {high}]")
            if whole and float(value) != int(value):
                raise ValueError(f"{key} = {value!r} must be a whole number")
            values[key] = float(value)
        _check_consistent(values, self.conditions, lambda k, m: ValueError(f"{k} {m}"))
        return replace(self, values=values)

    def provenance(self) -> pd.DataFrame:
        """Every number of ``recovery.toml`` with its source and plausible range.

        Returns
        -------
        pandas.DataFrame
            Columns ``key``, ``source``, ``low`` and ``high`` (NaN without a stated range).

        Examples
        --------
        >>> table = load_recovery().provenance().set_index("key")
        >>> table.loc["recovery.min_fall_fraction", "source"]
        'study:ostelo2008'
        >>> float(table.loc["relapse.probability_within_year", "low"])
        0.15
        """
        rows = []
        for k, s in self.sources.items():
            key = k.split(":", 1)[1]
            if key.endswith((".low", ".high")) and key.rsplit(".", 1)[0] in self.ranges:
                continue
            low, high = self.ranges.get(key, (np.nan, np.nan))
            rows.append((key, s, low, high))
        return pd.DataFrame(rows, columns=["key", "source", "low", "high"])


def _bounds(key: str) -> tuple[float, float, bool]:
    """Allowed (low, high, whole number) of a dotted key of ``recovery.toml``."""
    table, name = key.rsplit(".", 1)
    if table.startswith("membership.") or table == "surgery.referral_probability":
        return 0.0, 1.0, False
    for pattern in (table, table.split(".", 1)[0] + ".*"):
        if pattern in SCHEMA and name in SCHEMA[pattern]:
            return SCHEMA[pattern][name]
    raise KeyError(f"{key!r} is not a number of recovery.toml")


def _check_consistent(values: Mapping[str, float], conditions: tuple[str, ...], fail) -> None:
    """Relations between numbers: membership rows sum to 1, minimum <= maximum."""
    for condition in conditions:
        total = sum(values[f"membership.{condition}.{k}"] for k in CLASSES)
        if abs(total - 1.0) > 1e-9:
            raise fail(f"membership.{condition}", f"shares sum to {total:.6g}, not 1")
    for table, low, high in (
        ("surgery", "wait_weeks_min", "wait_weeks_max"),
        ("relapse", "duration_weeks_min", "duration_weeks_max"),
    ):
        if values[f"{table}.{low}"] > values[f"{table}.{high}"]:
            raise fail(f"{table}.{low}", f"exceeds {table}.{high}")


def _only(reader: Reader, node: Mapping[str, Any], key: str, allowed: tuple[str, ...]) -> None:
    """Reject a key of table ``key`` (``""``: the file's top level) that is not ``allowed``."""
    unknown = [name for name in node if name not in allowed]
    if unknown:
        where = f"{key}.{unknown[0]}" if key else unknown[0]
        table = f" of [{key}]" if key else " (a table)"
        raise reader.fail(where, f"is not a known key{table}; allowed: {', '.join(allowed)}")


def _named(reader: Reader, node: Any, key: str, field: str, allowed: tuple[str, ...]) -> Any:
    """A sourced name or list of names (``{ names = [...], source = "..." }``)."""
    node = reader.table(node, key)
    _only(reader, node, key, (field, "source"))
    value = node.get(field)
    names = value if isinstance(value, list) else [value]
    if not names or not all(isinstance(n, str) and n in allowed for n in names):
        raise reader.fail(f"{key}.{field}", f"{value!r} must name one of: {', '.join(allowed)}")
    reader.references.check(reader, key, node.get("source"))
    reader.sources[f"{reader.file}:{key}"] = node["source"]
    return value


def load_recovery(knowledge: Knowledge | None = None) -> RecoveryParams:
    """Read and validate ``recovery.toml`` against the knowledge base.

    Raises :class:`~outcomes.knowledge.KnowledgeError` naming the file, the key and the value;
    a key no table knows (a misspelt rate would otherwise be ignored silently) is named with
    the keys allowed there.

    Parameters
    ----------
    knowledge
        The knowledge base whose folder holds ``recovery.toml`` (default: the packaged one).

    Returns
    -------
    RecoveryParams

    Examples
    --------
    >>> params = load_recovery()
    >>> params.follow_up_weeks, params.aggravating["piriformis_syndrome"]
    (52, ('spinal',))
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    sources: dict[str, str] = {}
    reader = file_reader(kb, "recovery.toml", sources)
    data = reader.data
    _only(reader, data, "", RECOVERY_TABLES)
    values: dict[str, float] = {}

    def numbers(node: Any, key: str, schema: Mapping[str, tuple[float, float, bool]]) -> None:
        node = reader.table(node, key)
        _only(reader, node, key, tuple(schema))
        for name, (low, high, whole) in schema.items():
            value = reader.number(node, key, name, low=low, high=high)
            if whole and value != int(value):
                raise reader.fail(f"{key}.{name}", f"value {value!r} is not a whole number")
            values[f"{key}.{name}"] = value

    for table in ("recovery", "prognosis", "aggravation", "relapse", "harm", "modifiers", "noise"):
        numbers(data.get(table), table, SCHEMA[table])
    for group, names in (("classes", CLASSES), ("fit", FITS)):
        node = reader.table(data.get(group), group)
        if tuple(node) != names:
            raise reader.fail(group, f"must list, in this order: {', '.join(names)}")
        for name in names:
            numbers(node[name], f"{group}.{name}", SCHEMA[f"{group}.*"])

    shares = reader.table(data.get("membership"), "membership")
    missing = [c for c in kb.condition_names if c not in shares]
    if missing:
        raise reader.fail(f"membership.{missing[0]}", "is missing")
    extra = sorted(set(shares) - set(kb.condition_names))
    if extra:
        raise reader.fail(f"membership.{extra[0]}", "is not a condition in conditions.toml")
    for condition in kb.condition_names:
        key = f"membership.{condition}"
        for k, share in reader.distribution(shares[condition], key, CLASSES).items():
            values[f"{key}.{k}"] = share
        absent = [k for k in CLASSES if f"{key}.{k}" not in values]
        if absent:
            raise reader.fail(f"{key}.{absent[0]}", "is missing")

    surgery = reader.table(data.get("surgery"), "surgery")
    named = {"conditions", "pathway", "referral_probability"}
    surgery_numbers = {k: v for k, v in surgery.items() if k not in named}
    numbers(surgery_numbers, "surgery", SCHEMA["surgery"])
    numbers(
        surgery.get("referral_probability"),
        "surgery.referral_probability",
        {name: (0.0, 1.0, False) for name in kb.setting_names},
    )
    operated = _named(
        reader, surgery.get("conditions"), "surgery.conditions", "names", kb.condition_names
    )
    pathway = _named(reader, surgery.get("pathway"), "surgery.pathway", "name", kb.pathways)

    aggravating = {}
    for condition, node in reader.table(data.get("aggravating", {}), "aggravating").items():
        key = f"aggravating.{condition}"
        kb.condition(condition)
        node = reader.table(node, key)
        _only(reader, node, key, AGGRAVATING_KEYS)
        pathways = node.get("pathways")
        if not isinstance(pathways, list) or not all(p in kb.pathways for p in pathways):
            raise reader.fail(
                f"{key}.pathways", f"{pathways!r} must list pathways from: {', '.join(kb.pathways)}"
            )
        reader.references.check(reader, key, node.get("source"))
        sources[f"recovery.toml:{key}"] = node["source"]
        aggravating[condition] = tuple(pathways)

    _check_consistent(values, kb.condition_names, lambda k, m: reader.fail(k, m))
    # An assumption may name the seed section or study that gives its direction: check those
    # references as strictly as a source's own.
    for key, source in sources.items():
        if source.startswith("assumption"):
            for cited in _CITED.findall(source):
                reader.references.check(reader, key.split(":", 1)[1], cited.strip())
    return RecoveryParams(
        values=values,
        ranges=dict(reader.ranges),
        conditions=kb.condition_names,
        aggravating=aggravating,
        surgery_conditions=tuple(operated),
        surgery_pathway=str(pathway),
        sources=sources,
    )
