"""Recovery timelines: weekly pain and disability given the care pathway each patient receives.

:func:`simulate` follows every patient weekly for ``follow_up_weeks`` (52 by default;
``knowledge/recovery.toml`` holds every number with its source and, where uncertain, its
plausible range). A *policy* is one care pathway per patient (an array), or a *care plan*
(:func:`care_plan`) that also names a pathway for the secondary contributor of a combined
presentation, so any triage method — rules, a learned model, the Bayes oracle, a team's own
clinicians — is compared in the same way.

**Natural history first.** Each part of a presentation (the condition and, in a combined
presentation, the secondary contributor) follows one of four trajectory *classes* —
recovering quickly, recovering slowly, persistent moderate, persistent severe — whose
shares come from published prognostic cohorts of back-related leg pain and whose odds move
with the prognostic factors the record holds (chronicity, severity, age)::

    level(t)  = floor_k + (1 - floor_k) * exp(-rate * max(t - delay, 0)) + aggravation bump(t)
    rate      = ln 2 / half_life_k * fit multiplier * chronic * adherence * individual spread
    odds(k)   = share(condition, k) / share(condition, fast)
                * exp(weight_k * (prognostic score + ln persistence_odds_ratio[fit]))

**Care relative to natural history.** The *fit* of the pathway to the part is ``matched``,
``mismatched`` (usual care: natural history), ``aggravating``, ``redirected`` (an unnecessary
emergency referral, re-routed after a delay) or ``harmful`` (serious pathology left on a
routine pathway: symptoms progress until the red flags are recognised). Each fit scales the
odds of the persistent classes and the class's rate by effects with a plausible range.
**Surgery** is offered to disc-herniation patients on the spinal pathway who have not
improved by the decision week; **relapses** are episodes of weeks after a first recovery;
serious pathology carries a risk of a **lasting deficit** that grows with the weeks until
emergency care.

**Common random numbers.** Every random draw (the class draw, adherence, individual rate,
surgery, relapse, detection and deficit draws, weekly noise, flare-ups, loss to follow-up) is
made by :func:`draw_noise` from ``(seed, row position)`` alone, before the pathway is looked
at; the care sets only what the draws are compared with. The class is drawn by inverting the
cumulative class probabilities with one uniform number, so care that lowers the odds of a
persistent course moves a patient to a better class or leaves them where they are. Simulating
the same patients under two policies therefore differs only for patients whose care fits them
differently: the difference is the effect of triage alone. The draws follow the **row
position**, not the ``patient_id`` (compare policies on one table in one order, as
:func:`simulate_policies` does).

Combined presentations: the level is ``(1 - share) * primary part + share * secondary part``.
The secondary part is judged against the care plan's secondary pathway when it has one,
otherwise against the pathway the primary part's care ends up on: the single pathway chosen
or, after an unneeded emergency referral, the primary condition's own pathway it is
redirected to (an emergency referral itself addresses only a serious secondary contributor).
No single pathway fits both parts, because every secondary contributor in ``conditions.toml``
belongs to another pathway than its primary condition. Which policies address the secondary
part: ``perfect`` does; the triage methods (rules, learned models, the oracle) choose one
pathway per patient and never do, and neither does ``everyone_spinal``. A team's own calls
can, through :func:`care_plan`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from outcomes.engine.cohort import BLOCK_SIZE, feature_columns
from outcomes.knowledge import (
    NO_SECONDARY,
    Knowledge,
    Reader,
    file_reader,
    load_knowledge,
)

FITS = ("matched", "mismatched", "aggravating", "redirected", "harmful")
#: Trajectory classes, best course first (the order of ``recovery.toml``'s ``[classes]``).
CLASSES = ("recovering_fast", "recovering_slow", "persistent_moderate", "persistent_severe")
CENSORING = ("not_censored", "lost_to_follow_up", "end_of_follow_up")
EMERGENCY = "emergency"
SERIOUS = "serious_pathology"
#: First element of the random streams' spawn key: keeps them apart from the generator's.
STREAM = 0x5EC0
FIT_FIELDS = (
    "rate_multiplier", "persistence_odds_ratio", "delay_weeks", "aggravation",
    "flare_weekly_probability",
)  # fmt: skip
#: Secondary pathway of a care plan that does not address a secondary contributor separately.
NO_SECONDARY_PATHWAY = "none"
#: First element of the spawn key of training-cohort seeds (learned policies, :func:`fit_policy`).
TRAIN_STREAM = 0x7EA1
#: Minimum size of the training cohort of a learned policy.
MIN_TRAINING_PATIENTS = 2000

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
        """Fit -> field -> value (:data:`FIT_FIELDS`)."""
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

        Examples
        --------
        >>> float(load_recovery().class_table().loc["persistent_severe", "floor"])
        0.95
        """
        rows = {k: self._table(f"classes.{k}") for k in CLASSES}
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("trajectory_class")

    def membership(self) -> pd.DataFrame:
        """Class shares under usual care per condition (rows conditions, columns classes).

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
    names = {"conditions": "names", "pathway": "name", "referral_probability": ""}
    surgery_numbers = {k: v for k, v in surgery.items() if k not in names}
    numbers(surgery_numbers, "surgery", SCHEMA["surgery"])
    numbers(
        surgery.get("referral_probability"), "surgery.referral_probability",
        {name: (*_P, False) for name in kb.setting_names},
    )  # fmt: skip
    operated = _named(reader, surgery.get("conditions"), "surgery.conditions", "names",
                      kb.condition_names)  # fmt: skip
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


def recovery_definition(params: RecoveryParams | None = None) -> str:
    """The recovery criterion of ``recovery.toml`` in words (for captions and reports).

    Examples
    --------
    >>> print(recovery_definition().replace(", or", ",\\nor").replace("; ", ";\\n"))
    Recovery: pain falls by at least 2 points and by at least 30% of baseline,
    or to at most 2/10 for patients who started above 2;
    held at 2 visits in a row.
    """
    p = params if params is not None else load_recovery()
    return (
        f"Recovery: pain falls by at least {p.min_fall_points:g} points and by at least "
        f"{p.min_fall_fraction:.0%} of baseline, or to at most {p.pain_max:g}/10 for patients "
        f"who started above {p.pain_max:g}; held at {p.sustained_visits} visits in a row."
    )


def fit_table(
    knowledge: Knowledge | None = None, params: RecoveryParams | None = None
) -> pd.DataFrame:
    """How each pathway fits each condition (rows conditions, columns pathways).

    Examples
    --------
    >>> table = fit_table()
    >>> table.loc["piriformis_syndrome", "spinal"], table.loc["serious_pathology", "hip"]
    ('aggravating', 'harmful')
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    params = params if params is not None else load_recovery(kb)
    codes = _fit_codes(kb, params)
    return pd.DataFrame(
        np.asarray(FITS, dtype=object)[codes],
        index=pd.Index(kb.condition_names, name="condition"),
        columns=pd.Index(kb.pathways, name="pathway"),
    )


def _fit_codes(kb: Knowledge, params: RecoveryParams) -> np.ndarray:
    codes = np.empty((len(kb.condition_names), len(kb.pathways)), dtype=np.int8)
    for i, condition in enumerate(kb.conditions):
        for j, pathway in enumerate(kb.pathways):
            if pathway == condition.pathway:
                fit = "matched"
            elif condition.pathway == EMERGENCY:
                fit = "harmful"
            elif pathway == EMERGENCY:
                fit = "redirected"
            elif pathway in params.aggravating.get(condition.name, ()):
                fit = "aggravating"
            else:
                fit = "mismatched"
            codes[i, j] = FITS.index(fit)
    return codes


# --------------------------------------------------------------------------------------------
# Random draws (pathway-independent)


@dataclass(frozen=True)
class Noise:
    """Every random draw the simulation needs; none depends on the pathway.

    Arrays are per patient (``n``), per patient and part (``class_u``: ``n x 2``, the
    condition then the secondary contributor) or per patient and follow-up week (``n x
    weeks``, weeks 1..W).
    """

    adherence: np.ndarray
    rate_z: np.ndarray
    dropout_u: np.ndarray
    class_u: np.ndarray
    surgery_u: np.ndarray
    wait_u: np.ndarray
    relapse_u: np.ndarray
    relapse_length_u: np.ndarray
    detection_u: np.ndarray
    deficit_u: np.ndarray
    pain_z: np.ndarray
    odi_z: np.ndarray
    flare_u: np.ndarray


_PER_PATIENT = ("dropout_u", "surgery_u", "wait_u", "relapse_u", "relapse_length_u",
                "detection_u", "deficit_u")  # fmt: skip


def draw_noise(n: int, seed: int, params: RecoveryParams | None = None) -> Noise:
    """Draw the random numbers for ``n`` patients (row positions 0..n-1) and ``seed``.

    Patients are drawn in blocks of :data:`outcomes.engine.cohort.BLOCK_SIZE`, each from its own
    stream, so row ``i`` gets the same draws whatever ``n``. The draws belong to the row
    position, not to a ``patient_id``: the patient in row ``i`` gets row ``i``'s draws, so a
    reordered or filtered patients table gives its patients other draws (simulate every policy
    on the same table, in the same order). Only the adherence draw and the number of weeks
    depend on the parameters.

    Parameters
    ----------
    n
        Number of patients (rows).
    seed
        Seed (an integer >= 0).
    params
        Recovery parameters (default: :func:`load_recovery`).

    Returns
    -------
    Noise

    Examples
    --------
    >>> a, b = draw_noise(10, seed=3), draw_noise(20_000, seed=3)
    >>> bool(np.array_equal(a.pain_z, b.pain_z[:10]))
    True
    """
    params = params if params is not None else load_recovery()
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    weeks = params.follow_up_weeks
    mods = params.modifiers
    parts: dict[str, list[np.ndarray]] = {f: [] for f in Noise.__dataclass_fields__}
    for block in range(-(-n // BLOCK_SIZE)):
        rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(STREAM, block)))
        m = min(BLOCK_SIZE, n - block * BLOCK_SIZE)
        # Always draw a full block, then keep the first m rows: patient i's draws never
        # depend on n.
        draws = {
            "adherence": rng.beta(mods["adherence_beta_a"], mods["adherence_beta_b"], BLOCK_SIZE),
            "rate_z": rng.standard_normal(BLOCK_SIZE),
            "class_u": rng.random((BLOCK_SIZE, 2)),
            **{name: rng.random(BLOCK_SIZE) for name in _PER_PATIENT},
            "pain_z": rng.standard_normal((BLOCK_SIZE, weeks), dtype=np.float32),
            "odi_z": rng.standard_normal((BLOCK_SIZE, weeks), dtype=np.float32),
            "flare_u": rng.random((BLOCK_SIZE, weeks), dtype=np.float32),
        }
        for name, values in draws.items():
            parts[name].append(values[:m])
    if n == 0:
        return Noise(**{
            name: np.empty((0, weeks), np.float32) if name in ("pain_z", "odi_z", "flare_u")
            else np.empty((0, 2)) if name == "class_u" else np.empty(0)
            for name in Noise.__dataclass_fields__
        })  # fmt: skip
    return Noise(**{name: np.concatenate(chunks) for name, chunks in parts.items()})


# --------------------------------------------------------------------------------------------
# Simulation


@dataclass(frozen=True)
class Simulation:
    """Result of :func:`simulate`: the ``outcomes`` table (one row per patient) and the long
    ``visits`` table (one row per patient and week seen, week 0 = baseline)."""

    outcomes: pd.DataFrame
    visits: pd.DataFrame | None


#: What each column of the ``outcomes`` table means.
OUTCOME_COLUMNS: Mapping[str, str] = {
    "patient_id": "Patient id, as in the patients table",
    "condition": "True condition",
    "secondary_condition": "Secondary contributor of a combined presentation, or 'none'",
    "chronic": "Symptoms for more than 12 weeks at baseline",
    "true_pathway": "Care pathway that fits the true condition",
    "pathway": "Care pathway the policy chose",
    "fit": "How the chosen pathway fits the condition (matched, mismatched, aggravating, "
    "redirected, harmful)",
    "matched": "The chosen pathway is the true pathway",
    "secondary_pathway": "Pathway the policy chose for the secondary contributor ('none': not "
    "addressed separately, the secondary part then follows the primary part's care: the chosen "
    "pathway, or after an unneeded emergency referral the pathway it is redirected to)",
    "secondary_fit": "How the care treating the secondary contributor fits it ('none': a "
    "single presentation)",
    "trajectory_class": "Course the condition followed under this care (recovering_fast, "
    "recovering_slow, persistent_moderate, persistent_severe)",
    "baseline_pain": "Pain NRS 0-10 at week 0",
    "baseline_odi": "ODI 0-100 at week 0",
    "final_pain": "Pain NRS at the last visit",
    "final_odi": "ODI at the last visit",
    "last_visit_week": "Last week the patient was seen (follow_up_weeks of recovery.toml, 52 by "
    "default, = followed to the end)",
    "weeks_to_recovery": "Week recovery began (if recovered), else weeks followed (censored)",
    "recovered": "Recovery observed (the event). A patient whose baseline pain is already at "
    "or below recovery.pain_max can recover only by the relative fall",
    "censoring": "not_censored, lost_to_follow_up or end_of_follow_up",
    "recovered_at_end": "The recovery criterion holds at the last visit (recovery can be lost "
    "again in a relapse, or never reached)",
    "relapsed": "A relapse episode began after a first recovery, within follow-up",
    "relapse_week": "Week the first relapse episode began (<NA>: none within follow-up)",
    "surgery": "Operated on (disc surgery) within follow-up",
    "surgery_week": "Week of the operation (<NA>: no operation within follow-up)",
    "harm": "Serious pathology sent down a routine pathway (an under-triaged emergency), as "
    "the condition or as the secondary contributor",
    "weeks_to_emergency_care": "Weeks from presentation to emergency care for serious "
    "pathology (<NA>: no serious pathology)",
    "lasting_deficit": "Serious pathology left a lasting deficit (bladder, bowel or motor); "
    "its risk rises with the weeks to emergency care",
}
#: Columns of the ``outcomes`` table that may be missing (<NA>), as documented above.
OUTCOME_NULLABLE = ("relapse_week", "surgery_week", "weeks_to_emergency_care")


def outcome_dtypes(knowledge: Knowledge | None = None) -> dict[str, Any]:
    """Columns and dtypes of the ``outcomes`` table.

    Examples
    --------
    >>> outcome_dtypes()["weeks_to_recovery"]
    'int16'
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    path = pd.CategoricalDtype(kb.pathways)
    return {
        "patient_id": "string",
        "condition": pd.CategoricalDtype(kb.condition_names),
        "secondary_condition": pd.CategoricalDtype((NO_SECONDARY, *kb.condition_names)),
        "chronic": "bool",
        "true_pathway": path,
        "pathway": path,
        "fit": pd.CategoricalDtype(FITS),
        "matched": "bool",
        "secondary_pathway": pd.CategoricalDtype((NO_SECONDARY_PATHWAY, *kb.pathways)),
        "secondary_fit": pd.CategoricalDtype((NO_SECONDARY, *FITS)),
        "trajectory_class": pd.CategoricalDtype(CLASSES),
        "baseline_pain": "int8",
        "baseline_odi": "int8",
        "final_pain": "int8",
        "final_odi": "int8",
        "last_visit_week": "int16",
        "weeks_to_recovery": "int16",
        "recovered": "bool",
        "censoring": pd.CategoricalDtype(CENSORING),
        "recovered_at_end": "bool",
        "relapsed": "bool",
        "relapse_week": "Int16",
        "surgery": "bool",
        "surgery_week": "Int16",
        "harm": "bool",
        "weeks_to_emergency_care": "Float32",
        "lasting_deficit": "bool",
    }


def visit_dtypes(knowledge: Knowledge | None = None) -> dict[str, Any]:
    """Columns and dtypes of the long ``visits`` table (``patient_id`` is categorical).

    Examples
    --------
    >>> list(visit_dtypes())
    ['patient_id', 'week', 'pain_nrs', 'odi', 'pathway']
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    return {
        "patient_id": "category",
        "week": "int16",
        "pain_nrs": "int8",
        "odi": "int8",
        "pathway": pd.CategoricalDtype(kb.pathways),
    }


REQUIRED = (
    "patient_id", "setting", "condition", "secondary_condition", "pathway", "latent_severity",
    "chronic", "age", "pain_nrs", "odi",
)  # fmt: skip


def care_plan(pathways: Any, secondary: Any = None) -> pd.DataFrame:
    """The care a policy gives each patient: a pathway, and one for the secondary contributor.

    Parameters
    ----------
    pathways
        One care pathway per patient, in row order; or a care plan (a DataFrame with a
        ``pathway`` and optionally a ``secondary_pathway`` column), returned as a copy.
    secondary
        The pathway that addresses the secondary contributor of a combined presentation, one
        per patient; ``"none"`` (the default, for everyone) means it is not addressed
        separately, and the secondary part follows ``pathway``. Ignored for patients without a
        secondary contributor. Values are checked by :func:`simulate`.

    Returns
    -------
    pandas.DataFrame
        Columns ``pathway`` and ``secondary_pathway`` (strings), one row per patient.

    Examples
    --------
    >>> care_plan(["spinal", "hip"], secondary=["muscular", "none"])
      pathway secondary_pathway
    0  spinal          muscular
    1     hip              none
    """
    if isinstance(pathways, pd.DataFrame):
        if "pathway" not in pathways.columns:
            raise ValueError("a care plan needs a 'pathway' column")
        if secondary is None and "secondary_pathway" in pathways.columns:
            secondary = pathways["secondary_pathway"]
        pathways = pathways["pathway"]
    primary = np.asarray(pathways, dtype=object)
    if primary.ndim != 1:
        raise ValueError(f"pathways must hold one pathway per patient, got shape {primary.shape}")
    if secondary is None:
        second = np.full(len(primary), NO_SECONDARY_PATHWAY, dtype=object)
    else:
        second = np.asarray(secondary, dtype=object)
        if second.shape != primary.shape:
            raise ValueError(
                f"secondary pathways must hold one value per patient ({len(primary)}), "
                f"got shape {second.shape}"
            )
    return pd.DataFrame({"pathway": primary, "secondary_pathway": second})


def _codes(values: Any, categories: tuple[str, ...], what: str) -> np.ndarray:
    series = pd.Series(np.asarray(values, dtype=object))
    codes = pd.Categorical(series, categories=categories).codes.astype(np.int64)
    bad = np.flatnonzero(codes < 0)
    if bad.size:
        shown = ", ".join(str(i) for i in bad[:5])
        raise ValueError(
            f"{what} has unknown or missing values {sorted(set(series.iloc[bad].astype(str)))} "
            f"at rows {shown}; choose from: {', '.join(categories)}"
        )
    return codes


def _check_range(values: pd.Series, column: str, low: float, high: float) -> None:
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~((numbers >= low) & (numbers <= high)))
    if bad.size:
        shown = ", ".join(f"{i} ({numbers[i]:g})" for i in bad[:5])
        raise ValueError(
            f"column {column!r} must be recorded and within [{low}, {high}]; "
            f"{bad.size} row(s) are not, e.g. rows {shown}"
        )


def simulate(
    patients: pd.DataFrame,
    pathways: Any,
    seed: int,
    *,
    dropout: float | None = None,
    visits: bool = True,
    noise: Noise | None = None,
    params: RecoveryParams | None = None,
    knowledge: Knowledge | None = None,
    surgery_week: Any = None,
) -> Simulation:
    """Simulate weekly follow-up of ``patients`` given the pathway each one receives.

    Parameters
    ----------
    patients
        The ``patients`` table (needs the columns in :data:`REQUIRED`); never modified.
    pathways
        One care pathway per patient, in row order (a policy); or a care plan
        (:func:`care_plan`) that also names the pathway addressing each secondary contributor.
        With plain pathways, a combined presentation's secondary part is not addressed.
    seed
        Seed of the pathway-independent draws (common random numbers across policies). The
        draws follow the row position (see :func:`draw_noise`).
    dropout
        Share lost to follow-up by the end of follow-up (default from ``recovery.toml``).
    visits
        Also build the long ``visits`` table (skip it to save memory on large cohorts).
    noise
        Draws from :func:`draw_noise` to reuse across policies (drawn here if ``None``).
    params
        Recovery parameters (default: :func:`load_recovery`); the sensitivity analysis passes
        :meth:`RecoveryParams.with_values` copies.
    knowledge
        The knowledge base (default: the packaged one).
    surgery_week
        Planned operation week per patient (NaN: none planned), for trial arms such as early
        surgery; an operation planned in a week replaces the model's referral for that patient
        (``None``: the model decides for everyone).

    Returns
    -------
    Simulation
        ``outcomes`` (dtypes :func:`outcome_dtypes`) and ``visits`` (:func:`visit_dtypes`).

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> patients = generate(300, seed=1)
    >>> sim = simulate(patients, patients["pathway"], seed=0)
    >>> len(sim.outcomes), int(sim.visits["week"].max())
    (300, 52)
    >>> bool(sim.outcomes["harm"].any())
    False
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    params = params if params is not None else load_recovery(kb)
    if not isinstance(patients, pd.DataFrame):
        raise TypeError("patients must be a pandas DataFrame (the patients table)")
    absent = [c for c in REQUIRED if c not in patients.columns]
    if absent:
        raise ValueError(f"the patients table lacks column(s): {', '.join(absent)}")
    n = len(patients)
    plan = care_plan(pathways)
    if len(plan) != n:
        raise ValueError(f"pathways must hold one pathway per patient ({n}), got {len(plan)}")
    dropout = params.dropout if dropout is None else dropout
    if isinstance(dropout, bool) or not isinstance(dropout, int | float) or not 0 <= dropout < 1:
        raise ValueError(f"dropout must be a share in [0, 1), got {dropout!r}")
    noise = noise if noise is not None else draw_noise(n, seed, params)
    if noise.adherence.shape != (n,):
        raise ValueError(f"noise was drawn for {noise.adherence.shape[0]} patients, not {n}")
    if noise.pain_z.shape[1] != params.follow_up_weeks:
        raise ValueError(
            f"noise was drawn for {noise.pain_z.shape[1]} weeks, not {params.follow_up_weeks}"
        )
    planned = None
    if surgery_week is not None:
        planned = np.asarray(surgery_week, dtype=float)
        if planned.shape != (n,):
            raise ValueError(f"surgery_week must hold one value per patient ({n})")

    cond = _codes(patients["condition"], kb.condition_names, "column 'condition'")
    sec = _codes(
        patients["secondary_condition"], (NO_SECONDARY, *kb.condition_names),
        "column 'secondary_condition'",
    ) - 1  # fmt: skip
    path = _codes(plan["pathway"], kb.pathways, "pathways")
    # The pathway that treats the secondary part: its own when the plan gives one (-1: none).
    chosen = _codes(
        plan["secondary_pathway"], (NO_SECONDARY_PATHWAY, *kb.pathways), "secondary pathways"
    ) - 1  # fmt: skip
    fit, sec_fit = _care_fits(kb, params, cond, sec, path, chosen)
    duplicated = patients["patient_id"].duplicated(keep=False).to_numpy()
    if duplicated.any():
        rows = ", ".join(str(i) for i in np.flatnonzero(duplicated)[:5])
        raise ValueError(f"column 'patient_id' has duplicate ids, e.g. at rows {rows}")
    for column, low, high in (
        ("pain_nrs", 0, 10), ("odi", 0, 100), ("latent_severity", 0, 1), ("age", 0, 130),
    ):  # fmt: skip
        _check_range(patients[column], column, low, high)
    baseline_pain = patients["pain_nrs"].to_numpy(dtype=np.float32)
    baseline_odi = patients["odi"].to_numpy(dtype=np.float32)

    course = _course(kb, params, noise, patients, cond, sec, fit, sec_fit)
    flare_p = _flare_probability(params, fit, sec_fit)
    pain, odi = _scores(params, noise, course.level, flare_p, baseline_pain, baseline_odi)
    # Surgery is decided on the pain recorded at the decision visit, and changes the weeks
    # after the operation only.
    setting = _codes(patients["setting"], kb.setting_names, "column 'setting'")
    surgery = _surgery(kb, params, noise, cond, path, fit, pain, planned, setting)
    operated = _operate(params, course, surgery)
    if operated.size:
        pain[operated], odi[operated] = _scores(
            params, _rows(noise, operated), course.level[operated], flare_p[operated],
            baseline_pain[operated], baseline_odi[operated],
        )  # fmt: skip
    relapse = _relapses(params, noise, pain, course.level)
    if relapse is not None:
        weeks_relapsed, rows = relapse
        level = course.level[rows]
        level[weeks_relapsed] = np.maximum(
            level[weeks_relapsed], np.float32(params.relapse["level"])
        )
        pain[rows], odi[rows] = _scores(
            params, _rows(noise, rows), level, flare_p[rows], baseline_pain[rows],
            baseline_odi[rows],
        )  # fmt: skip
    care = (path, chosen, fit, sec_fit)
    return _tables(
        kb, params, patients, care, cond, sec, pain, odi, noise, dropout, visits, course, relapse,
        surgery,
    )  # fmt: skip


def _rows(noise: Noise, rows: np.ndarray) -> Noise:
    """The draws of some patients only."""
    return Noise(**{name: getattr(noise, name)[rows] for name in Noise.__dataclass_fields__})


def _care_fits(
    kb: Knowledge,
    params: RecoveryParams,
    cond: np.ndarray,
    sec: np.ndarray,
    path: np.ndarray,
    chosen: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """How the care fits each part of the presentation: codes into :data:`FITS`.

    ``sec`` is the secondary condition (-1: none), ``path`` the chosen pathway and ``chosen``
    the plan's secondary pathway (-1: none). The primary part is judged against ``path``. The
    secondary part is judged against the plan's secondary pathway when it gives one (-1 in
    the result for a single presentation). Otherwise it is treated only by the care the
    primary part ends up on: an unneeded emergency referral is redirected to the primary
    condition's own pathway, and the secondary part is judged against that pathway (from the
    start, as under correct single-pathway triage: the detour never helps it). A serious
    secondary part is addressed by the emergency referral itself, and emergency care of a
    serious primary condition does not treat a secondary part that is not serious
    (``mismatched``). So over-referral never treats a secondary part better than the right
    single pathway would.
    """
    codes = _fit_codes(kb, params)
    emergency = kb.pathways.index(EMERGENCY)
    own = np.array([kb.pathways.index(c.pathway) for c in kb.conditions], dtype=np.int64)
    fit = codes[cond, path]
    part = np.maximum(sec, 0)
    referred = path == emergency
    landing = np.where(referred & (own[cond] != emergency), own[cond], path)
    single = codes[part, landing]
    single = np.where(referred & (own[part] == emergency), FITS.index("matched"), single)
    single = np.where(single == FITS.index("redirected"), FITS.index("mismatched"), single)
    sec_fit = np.where(chosen >= 0, codes[part, np.maximum(chosen, 0)], single)
    return fit, np.where(sec >= 0, sec_fit, -1)


def prognostic_score(patients: pd.DataFrame, params: RecoveryParams | None = None) -> np.ndarray:
    """Each patient's prognostic score: the log-odds shift towards a persistent course.

    ``ln(chronic_odds_ratio) x chronic + severity_log_odds x (severity - 0.5) +
    age_log_odds_per_decade x (age - 50) / 10`` (``[prognosis]`` of ``recovery.toml``); 0 for an
    acute patient of average severity aged 50, the patient the membership shares describe.

    Parameters
    ----------
    patients
        The ``patients`` table (``chronic``, ``latent_severity`` and ``age``).
    params
        Recovery parameters (default: :func:`load_recovery`).

    Returns
    -------
    numpy.ndarray
        One score per patient.

    Examples
    --------
    >>> p = pd.DataFrame({"chronic": [False, True], "latent_severity": [0.5, 0.5],
    ...                   "age": [50, 50]})
    >>> np.round(prognostic_score(p), 3).tolist()
    [0.0, 0.892]
    """
    params = params if params is not None else load_recovery()
    g = params.prognosis
    return (
        math.log(g["chronic_odds_ratio"]) * patients["chronic"].to_numpy(dtype=float)
        + g["severity_log_odds"] * (patients["latent_severity"].to_numpy(dtype=float) - 0.5)
        + g["age_log_odds_per_decade"] * (patients["age"].to_numpy(dtype=float) - 50) / 10
    )


def class_probabilities(
    condition: np.ndarray, score: np.ndarray, fit: np.ndarray, params: RecoveryParams
) -> np.ndarray:
    """Probability of each trajectory class per part, shape ``(n, len(CLASSES))``.

    ``condition`` and ``fit`` are codes (into the knowledge base's conditions and
    :data:`FITS`), ``score`` the :func:`prognostic_score`. The odds of class ``k`` against
    recovering quickly are the membership odds times ``exp(weight_k x (score +
    ln persistence_odds_ratio[fit]))``.

    Examples
    --------
    >>> params = load_recovery()
    >>> p = class_probabilities(np.array([0]), np.array([0.0]), np.array([1]), params)
    >>> np.allclose(p, params.membership().iloc[0].to_numpy())
    True
    """
    shares = params.membership().to_numpy()
    weights = np.array([params[f"classes.{k}.persistence_weight"] for k in CLASSES])
    odds_ratio = np.log([params[f"fit.{f}.persistence_odds_ratio"] for f in FITS])
    with np.errstate(divide="ignore"):
        base = np.log(shares[condition])
    logits = base + weights[None, :] * (score + odds_ratio[fit])[:, None]
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class _Course:
    """The symptom level (n x W, weeks 1..W) and what happened on the way."""

    level: np.ndarray
    primary: np.ndarray  # the condition's own part of the level
    secondary: tuple[np.ndarray, np.ndarray] | None  # (rows, level of the secondary part)
    trajectory_class: np.ndarray
    emergency_weeks: np.ndarray  # float, NaN: no serious pathology
    deficit: np.ndarray


def _course(
    kb: Knowledge,
    params: RecoveryParams,
    noise: Noise,
    patients: pd.DataFrame,
    cond: np.ndarray,
    sec: np.ndarray,
    fit: np.ndarray,
    sec_fit: np.ndarray,
) -> _Course:
    """Symptom level relative to baseline, with classes and lasting harm (before surgery).

    ``sec`` is the secondary condition (-1: none); ``fit`` and ``sec_fit`` are the fits of
    the care to each part (:func:`_care_fits`).
    """
    mods, harm = params.modifiers, params.harm
    weeks = params.follow_up_weeks
    classes = params.class_table()
    half_life = classes["half_life_weeks"].to_numpy()
    floor = classes["floor"].to_numpy()
    fields = {f: np.array([params.fit[name][f] for name in FITS]) for f in FIT_FIELDS}
    score = prognostic_score(patients, params)
    chronic = patients["chronic"].to_numpy(dtype=bool)
    # Patient-level rate modifiers (pathway-independent).
    modifier = (
        np.where(chronic, mods["chronic_rate_multiplier"], 1.0)
        * (mods["adherence_floor"] + (1 - mods["adherence_floor"]) * noise.adherence)
        * np.exp(mods["individual_rate_sd"] * noise.rate_z)
    )
    t = np.arange(1, weeks + 1, dtype=np.float32)
    peak = params.peak_week
    bump = (t / peak) * np.exp(1 - t / peak)  # 0 at t = 0, 1 at the peak, fades after
    serious = kb.condition_names.index(SERIOUS) if SERIOUS in kb.condition_names else -1
    # Weeks until a routine pathway recognises serious pathology (geometric, at least 1).
    q = harm["detection_weekly_probability"]
    detection = (
        np.floor(np.log1p(-noise.detection_u) / math.log1p(-q)) + 1 if q < 1
        else np.ones(len(cond))
    )  # fmt: skip

    def part(condition: np.ndarray, fit: np.ndarray, u: np.ndarray, rows: np.ndarray):
        probs = class_probabilities(condition, score[rows], fit, params)
        k = np.minimum((u[:, None] > np.cumsum(probs, axis=1)).sum(axis=1), len(CLASSES) - 1)
        rate = np.log(2) / half_life[k] * fields["rate_multiplier"][fit] * modifier[rows]
        is_serious = condition == serious
        harmful = fit == FITS.index("harmful")
        # Weeks until the care that fits starts: the fit's delay, the detection time of
        # serious pathology on a routine pathway, or the emergency delay when referred.
        delay = np.where(harmful, detection[rows], fields["delay_weeks"][fit])
        delay = np.where(is_serious & ~harmful, harm["emergency_delay_weeks"], delay)
        emergency = np.where(is_serious, delay, np.nan)
        p_deficit = 1 / (1 + np.exp(-(harm["deficit_intercept"]
                                      + harm["deficit_slope_per_week"] * delay)))  # fmt: skip
        deficit = is_serious & (noise.deficit_u[rows] < p_deficit)
        low = floor[k] + np.where(deficit, harm["deficit_floor"] * (1 - floor[k]), 0.0)
        # Before care starts the level rises by the progression of untreated serious
        # pathology (0 otherwise); then it falls from where it stood towards the class floor.
        rise = np.where(harmful, harm["progression_per_week"], 0.0).astype(np.float32)
        start = 1 + rise * delay.astype(np.float32)
        delay32, low32 = delay.astype(np.float32)[:, None], low.astype(np.float32)[:, None]
        elapsed = np.maximum(t - delay32, 0)
        falling = low32 + (start[:, None] - low32) * np.exp(
            -rate.astype(np.float32)[:, None] * elapsed
        )
        level = np.where(t < delay32, 1 + rise[:, None] * t, falling).astype(np.float32)
        agg = fields["aggravation"][fit].astype(np.float32)
        if agg.any():
            level += agg[:, None] * bump
        return level, k, emergency, deficit

    rows = np.arange(len(cond))
    primary, k, emergency, deficit = part(cond, fit, noise.class_u[:, 0], rows)
    level = primary.copy()
    has_sec = sec >= 0
    secondary = None
    if has_sec.any():
        # A combined presentation: each part follows its own class and the fit of the care
        # treating it; both must be addressed for the level to reach a low floor.
        share = np.float32(mods["secondary_share"])
        rows = np.flatnonzero(has_sec)
        second, _, sec_emergency, sec_deficit = part(
            sec[rows], sec_fit[rows], noise.class_u[rows, 1], rows
        )
        level[rows] = (1 - share) * primary[rows] + share * second
        emergency[rows] = np.where(np.isnan(emergency[rows]), sec_emergency, emergency[rows])
        deficit[rows] |= sec_deficit
        secondary = (rows, second)
    return _Course(level, primary, secondary, k, emergency, deficit)


def _operate(params: RecoveryParams, course: _Course, surgery: np.ndarray) -> np.ndarray:
    """Rows operated on; their level (``course.level``, in place) falls after the operation.

    From the operation week the primary part's level falls towards ``post_floor`` with
    ``post_half_life_weeks`` (never above where it would have been); a secondary part is not
    operated on.
    """
    operated = np.flatnonzero(np.isfinite(surgery))
    if operated.size == 0:
        return operated
    s = params.surgery
    t = np.arange(1, params.follow_up_weeks + 1, dtype=np.float32)
    week = surgery[operated].astype(int)
    part = course.primary[operated]
    at = part[np.arange(len(operated)), week - 1][:, None]
    post_floor = np.float32(s["post_floor"])
    after = post_floor + np.maximum(at - post_floor, 0) * np.exp(
        -np.log(2) / s["post_half_life_weeks"] * (t - week[:, None])
    )
    part = np.where(t >= week[:, None], np.minimum(part, after), part).astype(np.float32)
    level = part
    if course.secondary is not None:
        rows, second = course.secondary
        where = np.searchsorted(rows, operated)
        combined = (where < len(rows)) & (rows[np.minimum(where, len(rows) - 1)] == operated)
        if combined.any():
            share = np.float32(params.modifiers["secondary_share"])
            other = second[where[combined]]
            level = part.copy()
            level[combined] = (1 - share) * part[combined] + share * other
    course.level[operated] = level
    return operated


def _surgery(
    kb: Knowledge,
    params: RecoveryParams,
    noise: Noise,
    cond: np.ndarray,
    path: np.ndarray,
    fit: np.ndarray,
    pain: np.ndarray,
    planned: np.ndarray | None,
    setting: np.ndarray,
) -> np.ndarray:
    """Week of each patient's operation (NaN: none within follow-up).

    A patient with severe pain at baseline (``min_baseline_pain`` or more) and an operable
    condition, whose care ends up on the surgical pathway (chosen, or reached after an
    unneeded emergency referral) and whose recorded pain at the ``decision_week`` visit does
    not meet the recovery criterion (``pain``: weeks 0..W, as recorded) is referred with the
    ``referral_probability`` of the setting where the patient is seen (``setting``: codes), and
    operated on after a wait drawn between ``wait_weeks_min`` and ``wait_weeks_max``. A planned
    week (a trial's early-surgery arm) replaces the model's decision for that patient.
    """
    s = params.surgery
    weeks = params.follow_up_weeks
    operable = np.isin(np.asarray(kb.condition_names)[cond], params.surgery_conditions)
    surgical = kb.pathways.index(params.surgery_pathway)
    on_pathway = (path == surgical) | (fit == FITS.index("redirected"))
    decision = int(s["decision_week"])
    stuck = ~recovery_criterion(pain, params)[:, min(decision, weeks)]
    severe = pain[:, 0] >= s["min_baseline_pain"]
    referral = np.array([params[f"surgery.referral_probability.{x}"] for x in kb.setting_names])
    chance = referral[setting]
    referred = operable & on_pathway & stuck & severe & (noise.surgery_u < chance)
    span = s["wait_weeks_max"] - s["wait_weeks_min"] + 1
    wait = s["wait_weeks_min"] + np.floor(noise.wait_u * span)
    week = np.where(referred, decision + wait, np.nan)
    if planned is not None:
        week = np.where(np.isnan(planned), week, planned)
    week = np.where((week >= 1) & (week <= weeks), np.round(week), np.nan)
    return week


def _flare_probability(params: RecoveryParams, fit: np.ndarray, sec_fit: np.ndarray) -> np.ndarray:
    """Weekly chance of a flare-up per patient: that of the care's fit to the condition, and
    for a combined presentation the mean of both parts' weighted by ``secondary_share``."""
    p = np.array([params.fit[name]["flare_weekly_probability"] for name in FITS])
    share = params.modifiers["secondary_share"]
    mixed = (1 - share) * p[fit] + share * p[np.maximum(sec_fit, 0)]
    return np.where(sec_fit >= 0, mixed, p[fit]).astype(np.float32)


def _scores(
    params: RecoveryParams,
    noise: Noise,
    level: np.ndarray,
    flare_p: np.ndarray,
    baseline_pain: np.ndarray,
    baseline_odi: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Pain (0-10) and ODI (0-100, steps of 2) for weeks 0..W; week 0 is the baseline.

    A flare-up starts in a week whose uniform draw (pathway-independent) falls below the
    patient's ``flare_p``: care that changes the fit changes the threshold, never the draw.
    """
    nz = params.noise
    flare = (noise.flare_u < flare_p[:, None]).astype(np.float32)
    flare[:, 1:] += np.float32(nz["flare_carryover"]) * flare[:, :-1]
    pain = baseline_pain[:, None] * level + nz["flare_pain"] * flare + nz["pain_sd"] * noise.pain_z
    odi = baseline_odi[:, None] * level + nz["flare_odi"] * flare + nz["odi_sd"] * noise.odi_z
    pain = np.clip(np.rint(pain), 0, 10).astype(np.int8)
    odi = (2 * np.clip(np.rint(odi / 2), 0, 50)).astype(np.int8)
    pain = np.concatenate([baseline_pain.astype(np.int8)[:, None], pain], axis=1)
    odi = np.concatenate([baseline_odi.astype(np.int8)[:, None], odi], axis=1)
    return pain, odi


def _relapses(
    params: RecoveryParams, noise: Noise, pain: np.ndarray, level: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """Relapse episodes after a first sustained recovery: (weeks mask, rows) or ``None``.

    The episode starts after the week recovery is confirmed, at a constant weekly hazard whose
    chance within 52 weeks is ``probability_within_year``, and lasts between
    ``duration_weeks_min`` and ``duration_weeks_max`` weeks (the draws are pathway-
    independent; the care moves only the recovery week they follow). The mask is over weeks
    1..W of the returned rows.
    """
    r = params.relapse
    weeks = params.follow_up_weeks
    start = _first_sustained(recovery_criterion(pain, params), params.sustained_visits)
    confirmed = start + params.sustained_visits - 1
    p = r["probability_within_year"]
    if p <= 0:
        return None
    hazard = 1 - (1 - p) ** (1 / 52)
    gap = np.floor(np.log1p(-noise.relapse_u) / math.log1p(-hazard)) + 1 if hazard < 1 else 1
    onset = confirmed + gap
    rows = np.flatnonzero((start >= 1) & (onset <= weeks))
    if rows.size == 0:
        return None
    span = r["duration_weeks_max"] - r["duration_weeks_min"] + 1
    length = r["duration_weeks_min"] + np.floor(noise.relapse_length_u[rows] * span)
    t = np.arange(1, weeks + 1)[None, :]
    first = onset[rows][:, None]
    return (t >= first) & (t < first + length[:, None]), rows


def recovery_criterion(pain: np.ndarray, params: RecoveryParams | None = None) -> np.ndarray:
    """Which visits meet the recovery criterion of ``recovery.toml`` (before "sustained").

    ``pain`` has one row per patient and one column per week, week 0 (the baseline) first. A
    visit qualifies when pain fell by at least ``min_fall_points`` and by at least
    ``min_fall_fraction`` of baseline, or when pain is at most ``pain_max`` — the absolute
    criterion only for patients whose baseline is above ``pain_max``, so that nobody
    recovers by starting low. Week 0 never qualifies. Missing visits (NaN) never qualify.

    Examples
    --------
    >>> recovery_criterion(np.array([[6, 5, 4, 2], [2, 2, 1, 0]]))
    array([[False, False,  True,  True],
           [False, False, False,  True]])
    """
    params = params if params is not None else load_recovery()
    values = np.asarray(pain).astype(np.float32)
    base = values[:, :1]
    fall = base - values
    # A fall of exactly the fraction counts (0.3 x 10 is 3.0000001 in floating point).
    needed = np.float32(params.min_fall_fraction) * base - np.float32(1e-4)
    with np.errstate(invalid="ignore"):
        qualifies = ((base > params.pain_max) & (values <= params.pain_max)) | (
            (fall >= params.min_fall_points) & (fall >= needed)
        )
    qualifies[:, 0] = False
    return qualifies


def _first_sustained(qualifies: np.ndarray, run: int) -> np.ndarray:
    """Index of the first week starting ``run`` consecutive True values (-1 if none)."""
    n, w = qualifies.shape
    if w < run:
        return np.full(n, -1)
    ok = qualifies[:, : w - run + 1].copy()
    for k in range(1, run):
        ok &= qualifies[:, k : w - run + 1 + k]
    first = ok.argmax(axis=1)
    return np.where(ok.any(axis=1), first, -1)


def _whole(weeks: np.ndarray) -> pd.arrays.IntegerArray:
    """Whole weeks with <NA> where NaN."""
    return pd.array(weeks, dtype="Float64").astype("Int16")


def _tables(
    kb: Knowledge,
    params: RecoveryParams,
    patients: pd.DataFrame,
    care: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    cond: np.ndarray,
    sec: np.ndarray,
    pain: np.ndarray,
    odi: np.ndarray,
    noise: Noise,
    dropout: float,
    with_visits: bool,
    course: _Course,
    relapse: tuple[np.ndarray, np.ndarray] | None,
    surgery_weeks: np.ndarray,
) -> Simulation:
    n = len(patients)
    path, chosen, fit, sec_fit = care
    weeks = params.follow_up_weeks
    # Loss to follow-up: a constant weekly hazard h with (1 - h)^W = 1 - dropout. The first
    # week not seen is geometric; > W means the patient is followed to the end.
    if dropout > 0:
        hazard = 1 - (1 - dropout) ** (1 / weeks)
        gone = np.floor(np.log1p(-noise.dropout_u) / math.log1p(-hazard)).astype(np.int64) + 1
        first_missed = np.minimum(gone, weeks + 1)
    else:
        first_missed = np.full(n, weeks + 1)
    last_visit = first_missed - 1  # the baseline (week 0) is always seen

    qualifies = recovery_criterion(pain, params)
    run = params.sustained_visits
    start = _first_sustained(qualifies, run)
    confirmed = start + run - 1
    recovered = (start >= 1) & (confirmed <= last_visit)
    lost = first_missed <= weeks
    weeks_to = np.where(recovered, start, last_visit).astype(np.int16)
    censoring = np.where(recovered, 0, np.where(lost, 1, 2)).astype(np.int8)
    rows = np.arange(n)
    relapsed = np.zeros(n, dtype=bool)
    relapse_week = np.full(n, np.nan)
    if relapse is not None:
        mask, which = relapse
        onset = mask.argmax(axis=1) + 1  # first relapse week (1-based)
        relapsed[which] = onset <= last_visit[which]
        relapse_week[which] = np.where(relapsed[which], onset, np.nan)
    surgery = np.isfinite(surgery_weeks) & (surgery_weeks <= last_visit)

    true_path = np.array([kb.pathways.index(c.pathway) for c in kb.conditions])[cond]
    dtypes = outcome_dtypes(kb)

    def cat(codes: np.ndarray, name: str) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, dtype=dtypes[name])

    outcomes = pd.DataFrame(
        {
            "patient_id": patients["patient_id"].astype("string").to_numpy(),
            "condition": cat(cond, "condition"),
            "secondary_condition": cat(sec + 1, "secondary_condition"),
            "chronic": patients["chronic"].to_numpy(dtype=bool),
            "true_pathway": cat(true_path, "true_pathway"),
            "pathway": cat(path, "pathway"),
            "fit": cat(fit, "fit"),
            "matched": path == true_path,
            "secondary_pathway": cat(chosen + 1, "secondary_pathway"),
            "secondary_fit": cat(sec_fit + 1, "secondary_fit"),
            "trajectory_class": cat(course.trajectory_class, "trajectory_class"),
            "baseline_pain": pain[:, 0],
            "baseline_odi": odi[:, 0],
            "final_pain": pain[rows, last_visit],
            "final_odi": odi[rows, last_visit],
            "last_visit_week": last_visit.astype(np.int16),
            "weeks_to_recovery": weeks_to,
            "recovered": recovered,
            "censoring": cat(censoring, "censoring"),
            "recovered_at_end": qualifies[rows, last_visit],
            "relapsed": relapsed,
            "relapse_week": _whole(relapse_week),
            "surgery": surgery,
            "surgery_week": _whole(np.where(surgery, surgery_weeks, np.nan)),
            "harm": (fit == FITS.index("harmful")) | (sec_fit == FITS.index("harmful")),
            "weeks_to_emergency_care": pd.array(course.emergency_weeks, dtype="Float32"),
            "lasting_deficit": course.deficit,
        }
    ).astype({k: v for k, v in dtypes.items() if isinstance(v, str)})
    outcomes.index = pd.RangeIndex(n)

    table = None
    if with_visits:
        seen = np.arange(weeks + 1)[None, :] <= last_visit[:, None]
        flat = seen.ravel()
        ids = pd.Categorical.from_codes(
            np.repeat(np.arange(n, dtype=np.int32), weeks + 1)[flat],
            categories=pd.Index(patients["patient_id"].astype(str).to_numpy()),
        )
        table = pd.DataFrame(
            {
                "patient_id": ids,
                "week": np.tile(np.arange(weeks + 1, dtype=np.int16), n)[flat],
                "pain_nrs": pain.ravel()[flat],
                "odi": odi.ravel()[flat],
                "pathway": pd.Categorical.from_codes(
                    np.repeat(path, weeks + 1)[flat], dtype=visit_dtypes(kb)["pathway"]
                ),
            }
        )
    return Simulation(outcomes=outcomes, visits=table)


# --------------------------------------------------------------------------------------------
# Policies


def _perfect(patients: pd.DataFrame, kb: Knowledge) -> pd.DataFrame:
    """Care plan of perfect triage: each part of the presentation on its own pathway."""
    own = {c.name: c.pathway for c in kb.conditions}
    secondary = patients["secondary_condition"].astype(str).map(own)
    return care_plan(
        patients["pathway"].astype(str).to_numpy(dtype=object),
        secondary.fillna(NO_SECONDARY_PATHWAY).to_numpy(dtype=object),
    )


def policy_pathways(
    patients: pd.DataFrame,
    estimators: Mapping[str, Any] | None = None,
    knowledge: Knowledge | None = None,
) -> dict[str, pd.DataFrame]:
    """Policies to compare: a care plan (:func:`care_plan`) per triage approach.

    Always includes ``perfect`` (the true pathway, and the secondary contributor's own pathway
    for combined presentations) and ``everyone_spinal``; each fitted estimator (anything with
    ``predict`` returning pathways: rules, a learned model, the oracle) adds a policy under
    its name that addresses the secondary contributor only through its single pathway.
    Estimators see only the columns a triage method may use
    (:func:`outcomes.engine.cohort.feature_columns`), never the truth.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.triage.oracle import BayesOracle
    >>> patients = generate(200, seed=1)
    >>> policies = policy_pathways(patients, {"oracle": BayesOracle().fit(patients)})
    >>> sorted(policies)
    ['everyone_spinal', 'oracle', 'perfect']
    >>> list(policies["perfect"].columns)
    ['pathway', 'secondary_pathway']
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    features = patients[feature_columns(kb)]
    policies = {name: care_plan(est.predict(features))
                for name, est in (estimators or {}).items()}  # fmt: skip
    policies["perfect"] = _perfect(patients, kb)
    policies["everyone_spinal"] = care_plan(np.full(len(patients), "spinal", dtype=object))
    return policies


def simulate_policies(
    patients: pd.DataFrame,
    policies: Mapping[str, Any],
    seed: int,
    *,
    dropout: float | None = None,
    visits: bool = True,
    knowledge: Knowledge | None = None,
    params: RecoveryParams | None = None,
    noise: Noise | None = None,
) -> dict[str, Simulation]:
    """Simulate the same patients under each policy with common random numbers.

    ``policies`` maps a name to pathways or a care plan (as :func:`simulate` takes them). The
    draws are made once and shared, so differences between policies are the effect of triage
    alone. ``params`` (default: :func:`load_recovery`) and ``noise`` (default: drawn here)
    let a sensitivity analysis reuse the same draws across parameter sets.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> patients = generate(200, seed=1)
    >>> sims = simulate_policies(patients, policy_pathways(patients), seed=0, visits=False)
    >>> a, b = sims["perfect"].outcomes, sims["everyone_spinal"].outcomes
    >>> same = (a["pathway"] == b["pathway"]) & (a["secondary_condition"] == "none")
    >>> bool((a["weeks_to_recovery"] == b["weeks_to_recovery"])[same].all())
    True
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    params = params if params is not None else load_recovery(kb)
    noise = noise if noise is not None else draw_noise(len(patients), seed, params)
    return {
        name: simulate(
            patients,
            pathways,
            seed,
            dropout=dropout,
            visits=visits,
            noise=noise,
            params=params,
            knowledge=kb,
        )  # fmt: skip
        for name, pathways in policies.items()
    }


def stack(simulations: Mapping[str, Simulation], table: str = "outcomes") -> pd.DataFrame:
    """One table with a ``policy`` column (categorical, in the given order) from many runs.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> patients = generate(100, seed=1)
    >>> sims = simulate_policies(patients, policy_pathways(patients), seed=0, visits=False)
    >>> stack(sims)["policy"].value_counts().sort_index().tolist()
    [100, 100]
    """
    frames = [getattr(sim, table).assign(policy=name) for name, sim in simulations.items()]
    out = pd.concat(frames, ignore_index=True)
    out["policy"] = pd.Categorical(out["policy"], categories=list(simulations))
    return out


#: Policies the CLI knows: fixed ones, and ones that fit a triage method.
FIXED_POLICIES = ("perfect", "everyone_spinal")
FITTED_POLICIES = ("oracle", "rules", "logistic", "boosted")


def _cohort_seeds(patients: pd.DataFrame) -> set[int]:
    """Seeds of the generated cohorts the patients come from (ids ``'<seed>-<index>'``)."""
    if "patient_id" not in patients.columns or patients.empty:
        return set()
    prefixes = patients["patient_id"].astype(str).str.extract(r"^(\d+)-\d+$")[0].dropna()
    return {int(s) for s in prefixes.unique()}


def training_seed(seed: int, patients: pd.DataFrame, stream: int = 0) -> int:
    """Seed of a training cohort that shares no patient with ``patients``.

    Derived from ``seed`` through its own spawn key (:data:`TRAIN_STREAM`, ``stream``), so it
    is reproducible yet unrelated to the small integers cohorts are usually generated with;
    and it is checked against the seeds in the patients' ids (``'<seed>-<index>'``): should it
    equal one of them, the next candidate is taken. Training on ``generate(n, seed=s)`` then
    can never mean training on the evaluated patients.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> patients = generate(10, seed=1)
    >>> s = training_seed(0, patients)
    >>> s != 1 and s == training_seed(0, patients)
    True
    """
    used = _cohort_seeds(patients)
    for k in range(len(used) + 1):
        key = (TRAIN_STREAM, int(stream), k)
        candidate = int(np.random.SeedSequence(int(seed), spawn_key=key).generate_state(1)[0])
        if candidate not in used:
            return candidate
    raise AssertionError("unreachable: more candidates than used seeds")  # pragma: no cover


def training_cohort(patients: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """A synthetic cohort to train a learned policy for ``patients``, disjoint from them.

    At least :data:`MIN_TRAINING_PATIENTS` patients and at least as many as ``patients``,
    with the same mix of care settings (``setting`` column; each setting's share by largest
    remainder, every setting present at least once). Each setting's part has its own
    :func:`training_seed`, so no training patient is an evaluated one.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> mixed = pd.concat([generate(30, seed=1, setting="primary_care"),
    ...                    generate(10, seed=2, setting="sports_clinic")], ignore_index=True)
    >>> training_cohort(mixed)["setting"].astype(str).value_counts().to_dict()
    {'primary_care': 1500, 'sports_clinic': 500}
    """
    from outcomes.engine.cohort import generate

    total = max(len(patients), MIN_TRAINING_PATIENTS)
    if "setting" not in patients.columns or patients["setting"].isna().all():
        return generate(total, seed=training_seed(seed, patients))
    counts = patients["setting"].astype(str).value_counts().sort_index()
    exact = counts.to_numpy() / counts.sum() * total
    sizes = np.maximum(np.floor(exact).astype(int), 1)
    order = np.argsort(-(exact - np.floor(exact)), kind="stable")
    for i in order[: max(total - int(sizes.sum()), 0)]:
        sizes[i] += 1
    parts = [
        generate(int(size), seed=training_seed(seed, patients, stream=i), setting=setting)
        for i, (setting, size) in enumerate(zip(counts.index, sizes, strict=True))
    ]
    return pd.concat(parts, ignore_index=True)


def fit_policy(name: str, patients: pd.DataFrame, seed: int = 0) -> Any:
    """A fitted triage method for policy ``name`` (``oracle``, ``rules``, ``logistic``,
    ``boosted``).

    The oracle and the rules learn nothing from outcomes; learned models are trained on
    :func:`training_cohort` (same size and setting mix, never the patients they triage).

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> patients = generate(100, seed=1)
    >>> fit_policy("oracle", patients).predict(patients).shape
    (100,)
    """
    if name == "oracle":
        from outcomes.triage.oracle import BayesOracle

        return BayesOracle().fit(patients)
    if name == "rules":
        try:
            from outcomes.triage.rules import RulesTriage
        except ImportError:
            raise ValueError(
                "policy 'rules' needs outcomes.triage.rules, which is not installed"
            ) from None
        return RulesTriage().fit(patients[feature_columns()], patients["pathway"].astype(str))
    if name in ("logistic", "boosted"):
        try:
            from outcomes.triage import models
        except ImportError:
            raise ValueError(
                f"policy {name!r} needs outcomes.triage.models, which is not installed"
            ) from None
        return models.fit_model(name, training_cohort(patients, seed), seed=seed)
    choices = ", ".join((*FIXED_POLICIES, *FITTED_POLICIES))
    raise ValueError(f"policy {name!r} is unknown; choose one of: {choices}")


def policy(name: str, patients: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """The care plan (:func:`care_plan`) each patient receives under policy ``name``.

    Only ``perfect`` addresses the secondary contributor of a combined presentation.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> patients = generate(5, seed=1)
    >>> policy("everyone_spinal", patients)["pathway"].tolist()
    ['spinal', 'spinal', 'spinal', 'spinal', 'spinal']
    """
    if name == "perfect":
        return _perfect(patients, load_knowledge())
    if name == "everyone_spinal":
        return care_plan(np.full(len(patients), "spinal", dtype=object))
    estimator = fit_policy(name, patients, seed)
    return care_plan(estimator.predict(patients[feature_columns()]))


def available_policies() -> list[str]:
    """Policies this installation can run, in report order (fitted ones need their modules).

    Examples
    --------
    >>> {"oracle", "perfect", "everyone_spinal"} <= set(available_policies())
    True
    """
    import importlib.util

    names = []
    if importlib.util.find_spec("outcomes.triage.rules") is not None:
        names.append("rules")
    if importlib.util.find_spec("outcomes.triage.models") is not None:
        names += ["logistic", "boosted"]
    return [*names, "oracle", *FIXED_POLICIES]


def build_policies(
    patients: pd.DataFrame, names: list[str], seed: int = 0
) -> dict[str, pd.DataFrame]:
    """The care plans of the named policies, in the given order (see :func:`policy`).

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> patients = generate(50, seed=1)
    >>> list(build_policies(patients, ["perfect", "oracle"]))
    ['perfect', 'oracle']
    """
    return {name: policy(name, patients, seed) for name in names}
