"""Load the clinical knowledge base (``src/outcomes/knowledge/*.toml``) into frozen objects.

This is the only module that reads the TOML files. Everything else (the generator, the oracle,
the rules, the recovery model) works from the :class:`Knowledge` object it returns, so they
cannot drift apart.

Every number in the files is written ``{ value = ..., source = "..." }``. A source is
``"seed:NNN §Section"``, ``"study:key"`` (a key of ``references.toml``) or
``"assumption..."``. A number fitted so that the cohort reproduces a published figure cites
that study and says how it was derived: ``{ value = ..., source = "study:key", calibrated =
"..." }``. Loading fails with :class:`KnowledgeError`, naming the file, the key and the bad
value, when a number has no valid source, a probability is outside [0, 1], a distribution does
not sum to 1, or a name refers to something that is not defined.

:func:`provenance` lists every number of every knowledge file with its source, including the
files other modules read (recovery, costs, triage rules, targets).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

KNOWLEDGE_DIR = Path(__file__).parent

FINDING_KINDS = ("pain_map", "aggravating", "exam", "red_flag")
#: Kinds of finding that may be missing from a record (the others are always asked).
MISSABLE_KINDS = ("exam", "red_flag")
SIDES = ("left", "right", "both")
SEXES = ("female", "male")
ONSETS = ("sudden", "gradual")
NO_SECONDARY = "none"
#: Tolerance for "sums to 1": the files hold numbers with at most a few decimals.
SUM_TOLERANCE = 1e-9
#: The fields of a number's entry: its value, its source, for a value fitted to a
#: published figure how it was derived, and for an uncertain value its plausible range
#: (``low`` and ``high``: numbers sharing the entry's source, or ``{ value, source }`` each;
#: the probabilistic sensitivity analysis draws from them).
ENTRY_KEYS = ("value", "source", "calibrated", "low", "high")


class KnowledgeError(ValueError):
    """A knowledge file is invalid; the message names the file, the key and the value."""


@dataclass(frozen=True)
class Finding:
    """A yes/no finding recorded for a patient (symptom, aggravating factor, sign or red flag)."""

    name: str
    label: str
    kind: str
    severity_slope: float
    chronic_shift: float
    #: Log-odds shift per level of the shared pain-sensitivity factor (-1, 0, +1).
    sensitivity_loading: float = 0.0
    #: P(recorded present | truly absent) and P(recorded absent | truly present): examiner
    #: error for signs, reporting error for history items.
    false_positive: float = 0.0
    false_negative: float = 0.0

    @property
    def can_be_missing(self) -> bool:
        """Whether a setting may leave this finding unrecorded."""
        return self.kind in MISSABLE_KINDS


@dataclass(frozen=True)
class Condition:
    """A condition, its care pathway and the condition-specific parts of the patient model."""

    name: str
    label: str
    pathway: str
    description: str
    age_mean: float
    age_sd: float
    female: float
    onset_sudden: float
    chronic_fraction: float
    bilateral: float
    severity_beta: tuple[float, float]
    pain_nrs_range: tuple[float, float]
    odi_range: tuple[float, float]
    occupation: Mapping[str, float]
    trigger: Mapping[str, float]
    secondary: Mapping[str, float]
    findings: Mapping[str, float]

    @property
    def mean_severity(self) -> float:
        """Mean of the condition's Beta severity distribution."""
        a, b = self.severity_beta
        return a / (a + b)


@dataclass(frozen=True)
class Setting:
    """A care setting: its case mix and how often each missable finding is not recorded."""

    name: str
    label: str
    description: str
    case_mix: Mapping[str, float]
    missing: Mapping[str, float]


@dataclass(frozen=True)
class Knowledge:
    """The whole knowledge base, validated. Build it with :func:`load_knowledge`.

    Examples
    --------
    >>> kb = load_knowledge()
    >>> kb.condition("piriformis_syndrome").pathway
    'hip'
    >>> round(sum(kb.setting("primary_care").case_mix.values()), 6)
    1.0
    """

    conditions: tuple[Condition, ...]
    findings: tuple[Finding, ...]
    settings: Mapping[str, Setting]
    default_setting: str
    pathways: tuple[str, ...]
    pathway_labels: Mapping[str, str]
    occupations: tuple[str, ...]
    triggers: tuple[str, ...]
    shared: Mapping[str, float]
    sources: Mapping[str, str] = field(repr=False)
    references: Mapping[str, str] = field(repr=False)
    directory: Path = field(repr=False, default=KNOWLEDGE_DIR)

    @property
    def condition_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.conditions)

    @property
    def finding_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.findings)

    @property
    def setting_names(self) -> tuple[str, ...]:
        return tuple(self.settings)

    def condition(self, name: str) -> Condition:
        """Return the condition called ``name`` (``ValueError`` naming the choices if unknown)."""
        for c in self.conditions:
            if c.name == name:
                return c
        raise ValueError(
            f"condition {name!r} is unknown; choose one of: {', '.join(self.condition_names)}"
        )

    def setting(self, name: str) -> Setting:
        """Return the setting called ``name`` (``ValueError`` naming the choices if unknown)."""
        if name not in self.settings:
            raise ValueError(
                f"setting {name!r} is unknown; choose one of: {', '.join(self.setting_names)}"
            )
        return self.settings[name]

    def pathway_of(self) -> dict[str, str]:
        """The condition → care-pathway map."""
        return {c.name: c.pathway for c in self.conditions}

    def provenance(self) -> pd.DataFrame:
        """Every number of every file in this knowledge base's folder with its source.

        The same table as :func:`provenance` of :attr:`directory`.

        Examples
        --------
        >>> table = load_knowledge().provenance()
        >>> list(table.columns)
        ['file', 'key', 'value', 'source', 'calibrated', 'low', 'high']
        """
        return provenance(self.directory)


# --------------------------------------------------------------------------------------------
# Reading helpers: each one knows the file and key it is looking at, for the error message.


class _Reader:
    """Reads sourced numbers from one TOML file, recording every source it sees."""

    def __init__(
        self,
        path: Path,
        references: _References,
        sources: dict[str, str],
        ranges: dict[str, tuple[float, float]] | None = None,
    ):
        self.path = path
        self.file = path.name
        self.references = references
        self.sources = sources
        #: ``full key -> (low, high)`` of every number read that states a plausible range.
        self.ranges = ranges if ranges is not None else {}
        try:
            with path.open("rb") as fh:
                self.data = tomllib.load(fh)
        except FileNotFoundError:
            raise KnowledgeError(f"{path}: knowledge file is missing") from None
        except tomllib.TOMLDecodeError as exc:
            raise KnowledgeError(f"{self.file}: not valid TOML ({exc})") from None

    def fail(self, key: str, message: str) -> KnowledgeError:
        return KnowledgeError(f"{self.file}: [{key}] {message}")

    def table(self, node: Any, key: str) -> dict[str, Any]:
        if not isinstance(node, dict):
            raise self.fail(key, f"must be a table, got {node!r}")
        return node

    def text(self, node: dict[str, Any], key: str, name: str) -> str:
        value = node.get(name)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{key}.{name}", f"must be a non-empty string, got {value!r}")
        return value

    def number(
        self,
        node: dict[str, Any],
        key: str,
        name: str,
        *,
        low: float = -math.inf,
        high: float = math.inf,
        what: str = "a number",
    ) -> float:
        full = f"{key}.{name}" if key else name
        if name not in node:
            raise self.fail(full, "is missing")
        entry = node[name]
        if not isinstance(entry, dict) or "value" not in entry or "source" not in entry:
            raise self.fail(full, f'must be {{ value = ..., source = "..." }}, got {entry!r}')
        extra = sorted(set(entry) - set(ENTRY_KEYS))
        if extra:
            raise self.fail(
                full, f"has unknown field {extra[0]!r}; a number has only {', '.join(ENTRY_KEYS)}"
            )
        value = entry["value"]
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise self.fail(full, f"value {value!r} is not a number")
        if not low <= value <= high:
            raise self.fail(full, f"value {value!r} is not {what} in [{low}, {high}]")
        self.references.check(self, full, entry["source"])
        if "calibrated" in entry:
            self._check_calibrated(full, entry)
        self.sources[f"{self.file}:{full}"] = entry["source"]
        if "low" in entry or "high" in entry:
            self.ranges[full] = self._range(full, entry, float(value), low, high)
        return float(value)

    def _range(
        self, key: str, entry: dict[str, Any], value: float, low: float, high: float
    ) -> tuple[float, float]:
        """The plausible range of a number: ``low <= value <= high``. An end is a number (it
        shares the entry's source) or ``{ value = ..., source = "..." }`` with its own."""
        ends = []
        for end in ("low", "high"):
            node = entry.get(end, value)
            if isinstance(node, dict):
                if set(node) != {"value", "source"}:
                    raise self.fail(
                        key, f'{end} must be a number or {{ value = ..., source = "..." }}, '
                        f"got {node!r}",
                    )  # fmt: skip
                self.references.check(self, f"{key}.{end}", node["source"])
                self.sources[f"{self.file}:{key}.{end}"] = node["source"]
                bound = node["value"]
            else:
                bound = node
            if isinstance(bound, bool) or not isinstance(bound, int | float):
                raise self.fail(key, f"{end} {bound!r} is not a number")
            if not low <= bound <= high:
                raise self.fail(f"{key}.{end}", f"value {bound!r} is outside [{low}, {high}]")
            ends.append(float(bound))
        if not ends[0] <= value <= ends[1]:
            raise self.fail(key, f"value {value!r} is outside its range [{ends[0]}, {ends[1]}]")
        return ends[0], ends[1]

    def _check_calibrated(self, key: str, entry: dict[str, Any]) -> None:
        """A calibrated number cites the study it was fitted to and says how."""
        how = entry["calibrated"]
        if not isinstance(how, str) or not how.strip():
            raise self.fail(key, f"calibrated must say how the value was derived, got {how!r}")
        if not str(entry["source"]).startswith("study:"):
            raise self.fail(
                key,
                f"is calibrated, so its source must be the study it was fitted to "
                f"('study:key'), not {entry['source']!r}",
            )

    def sourced(self, node: dict[str, Any], key: str, name: str) -> Any:
        """The value of a ``{ value = ..., source = "..." }`` entry of any type (a range as a
        list, a flag), its source checked and recorded; numbers go through :meth:`number`."""
        full = f"{key}.{name}" if key else name
        entry = node.get(name)
        if not isinstance(entry, dict) or set(entry) != {"value", "source"}:
            raise self.fail(full, f'must be {{ value = ..., source = "..." }}, got {entry!r}')
        self.references.check(self, full, entry["source"])
        self.sources[f"{self.file}:{full}"] = entry["source"]
        return entry["value"]

    def probability(self, node: dict[str, Any], key: str, name: str) -> float:
        return self.number(node, key, name, low=0.0, high=1.0, what="a probability")

    def distribution(
        self, node: Any, key: str, categories: tuple[str, ...] | None = None
    ) -> dict[str, float]:
        """A categorical distribution: probabilities over named categories summing to 1."""
        node = self.table(node, key)
        if categories is not None:
            unknown = sorted(set(node) - set(categories))
            if unknown:
                raise self.fail(
                    key, f"unknown categories {unknown}; allowed: {', '.join(categories)}"
                )
        dist = {name: self.probability(node, key, name) for name in node}
        total = sum(dist.values())
        if abs(total - 1.0) > SUM_TOLERANCE:
            raise self.fail(key, f"probabilities sum to {total:.6g}, not 1 (no leftover bucket)")
        return dist


class _References:
    def __init__(self, path: Path):
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        self.seeds = dict(data.get("seeds", {}))
        self.studies = dict(data.get("studies", {}))

    def check(self, reader: _Reader, key: str, source: Any) -> None:
        if not isinstance(source, str) or not source.strip():
            raise reader.fail(key, f"source {source!r} must be a non-empty string")
        if source.startswith("assumption"):
            return
        if source.startswith("seed:"):
            seed = source[5:].split("§", 1)[0].strip()
            if seed not in self.seeds or "§" not in source:
                raise reader.fail(
                    key,
                    f"source {source!r} must name a known seed and a section, "
                    f"e.g. 'seed:000 §Section' (seeds: {', '.join(sorted(self.seeds))})",
                )
            return
        if source.startswith("study:"):
            if source[6:].strip() not in self.studies:
                raise reader.fail(key, f"source {source!r} is not listed in references.toml")
            return
        raise reader.fail(
            key, f"source {source!r} must start with 'seed:', 'study:' or 'assumption'"
        )


def file_reader(kb: Knowledge, name: str, sources: dict[str, str] | None = None) -> _Reader:
    """A reader of the knowledge file ``name`` that other modules load (``recovery.toml``,
    ``costs.toml``, ``targets.toml``, ...): the knowledge base's own copy when its folder has
    one, else the packaged file, with that folder's ``references.toml``.

    Parameters
    ----------
    kb
        The knowledge base whose folder is searched first.
    name
        The file's name.
    sources
        Where every source read is recorded (default: a new, private record).

    Returns
    -------
    _Reader

    Examples
    --------
    >>> file_reader(load_knowledge(), "trials.toml").file
    'trials.toml'
    """
    directory = kb.directory if (kb.directory / name).exists() else KNOWLEDGE_DIR
    references = _References(directory / "references.toml")
    return _Reader(directory / name, references, {} if sources is None else sources)


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
                    (file, key, node["value"], str(source), str(how), end(node, "low"),
                     end(node, "high"))
                )  # fmt: skip
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


def _freeze(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


def _read_findings(reader: _Reader) -> tuple[Finding, ...]:
    findings = []
    for name, node in reader.data.items():
        node = reader.table(node, name)
        kind = reader.text(node, name, "kind")
        if kind not in FINDING_KINDS:
            raise reader.fail(f"{name}.kind", f"{kind!r} is not one of {', '.join(FINDING_KINDS)}")
        findings.append(
            Finding(
                name=name,
                label=reader.text(node, name, "label"),
                kind=kind,
                severity_slope=reader.number(node, name, "severity_slope", low=-10, high=10),
                chronic_shift=reader.number(node, name, "chronic_shift", low=-10, high=10),
                **{
                    field: reader.number(node, name, field, low=low, high=high)
                    for field, low, high in (
                        ("sensitivity_loading", -5, 5),
                        ("false_positive", 0, 0.5),
                        ("false_negative", 0, 0.5),
                    )
                    if field in node
                },
            )
        )
    if not findings:
        raise reader.fail("", "defines no findings")
    return tuple(findings)


def _read_likelihoods(
    reader: _Reader, condition_names: tuple[str, ...], finding_names: tuple[str, ...]
) -> dict[str, dict[str, float]]:
    data = reader.data
    unknown = sorted(set(data) - set(finding_names))
    if unknown:
        raise reader.fail(unknown[0], "is not a finding defined in findings.toml")
    table: dict[str, dict[str, float]] = {c: {} for c in condition_names}
    for finding in finding_names:
        if finding not in data:
            raise reader.fail(finding, "is missing: every finding needs a likelihood row")
        row = reader.table(data[finding], finding)
        extra = sorted(set(row) - set(condition_names))
        if extra:
            raise reader.fail(f"{finding}.{extra[0]}", "is not a condition in conditions.toml")
        for condition in condition_names:
            table[condition][finding] = reader.probability(row, finding, condition)
    return table


def _read_conditions(reader: _Reader) -> dict[str, Any]:
    data = reader.data
    pathways = tuple(reader.table(data.get("pathways"), "pathways").get("order", ()))
    if not pathways:
        raise reader.fail("pathways.order", "must list at least one pathway")
    labels = dict(data["pathways"].get("labels", {}))
    missing = [p for p in pathways if p not in labels]
    if missing:
        raise reader.fail(f"pathways.labels.{missing[0]}", "is missing")
    shared_node = reader.table(data.get("shared"), "shared")
    shared = {
        "secondary_weight": reader.probability(shared_node, "shared", "secondary_weight"),
        "chronic_threshold_weeks": reader.number(
            shared_node, "shared", "chronic_threshold_weeks", low=1, high=520
        ),
        "chronic_extra_weeks_mean": reader.number(
            shared_node, "shared", "chronic_extra_weeks_mean", low=1, high=520
        ),
        "age_min": reader.number(shared_node, "shared", "age_min", low=0, high=120),
        "age_max": reader.number(shared_node, "shared", "age_max", low=0, high=120),
        # The shared pain-sensitivity factor: P(low level) and P(high level); optional.
        **{
            name: reader.probability(shared_node, "shared", name)
            for name in ("sensitivity_low", "sensitivity_high")
            if name in shared_node
        },
    }
    if shared.get("sensitivity_low", 0.0) + shared.get("sensitivity_high", 0.0) > 1.0:
        raise reader.fail("shared.sensitivity_high", "and sensitivity_low must sum to at most 1")
    if shared["age_min"] >= shared["age_max"]:
        raise reader.fail("shared.age_max", "must be greater than age_min")
    nodes = reader.table(data.get("conditions"), "conditions")
    if not nodes:
        raise reader.fail("conditions", "defines no conditions")
    return {"pathways": pathways, "labels": labels, "shared": shared, "nodes": nodes}


def _build_condition(
    reader: _Reader,
    name: str,
    node: dict[str, Any],
    pathways: tuple[str, ...],
    condition_names: tuple[str, ...],
    findings: Mapping[str, float],
) -> Condition:
    key = f"conditions.{name}"
    node = reader.table(node, key)
    pathway = reader.text(node, key, "pathway")
    if pathway not in pathways:
        raise reader.fail(
            f"{key}.pathway", f"{pathway!r} is not a pathway; choose one of: {', '.join(pathways)}"
        )
    prob = lambda field_name: reader.probability(node, key, field_name)  # noqa: E731
    low, high = prob("pain_nrs_low"), prob("pain_nrs_high")
    odi_low, odi_high = prob("odi_low"), prob("odi_high")
    for lo_name, lo, hi in (("pain_nrs", low, high), ("odi", odi_low, odi_high)):
        if lo > hi:
            raise reader.fail(f"{key}.{lo_name}_low", f"value {lo} exceeds {lo_name}_high {hi}")
    secondary = reader.distribution(
        node.get("secondary"), f"{key}.secondary", (NO_SECONDARY, *condition_names)
    )
    if secondary.get(name, 0.0) > 0:
        raise reader.fail(f"{key}.secondary.{name}", "a condition cannot be its own secondary")
    return Condition(
        name=name,
        label=reader.text(node, key, "label"),
        pathway=pathway,
        description=reader.text(node, key, "description"),
        age_mean=reader.number(node, key, "age_mean", low=0, high=120, what="an age"),
        age_sd=reader.number(node, key, "age_sd", low=0.5, high=60, what="an age spread"),
        female=prob("female"),
        onset_sudden=prob("onset_sudden"),
        chronic_fraction=prob("chronic_fraction"),
        bilateral=prob("bilateral"),
        # Beta parameters >= 1 keep the density bounded, which the oracle's quadrature needs.
        severity_beta=(
            reader.number(node, key, "severity_beta_a", low=1, high=100, what="a Beta shape"),
            reader.number(node, key, "severity_beta_b", low=1, high=100, what="a Beta shape"),
        ),
        pain_nrs_range=(low, high),
        odi_range=(odi_low, odi_high),
        occupation=_freeze(reader.distribution(node.get("occupation"), f"{key}.occupation")),
        trigger=_freeze(reader.distribution(node.get("trigger"), f"{key}.trigger")),
        secondary=_freeze(secondary),
        findings=_freeze(findings),
    )


def _read_settings(
    reader: _Reader, condition_names: tuple[str, ...], findings: tuple[Finding, ...]
) -> tuple[dict[str, Setting], str]:
    data = reader.data
    nodes = reader.table(data.get("settings"), "settings")
    missable = tuple(f.name for f in findings if f.can_be_missing)
    settings = {}
    for name, node in nodes.items():
        key = f"settings.{name}"
        node = reader.table(node, key)
        mix = reader.distribution(node.get("case_mix"), f"{key}.case_mix", condition_names)
        absent = [c for c in condition_names if c not in mix]
        if absent:
            raise reader.fail(f"{key}.case_mix.{absent[0]}", "is missing (write 0 if none)")
        miss_node = reader.table(node.get("missing"), f"{key}.missing")
        extra = sorted(set(miss_node) - set(missable))
        if extra:
            raise reader.fail(
                f"{key}.missing.{extra[0]}", "is not an exam finding or red flag in findings.toml"
            )
        missing = {f: reader.probability(miss_node, f"{key}.missing", f) for f in missable}
        settings[name] = Setting(
            name=name,
            label=reader.text(node, key, "label"),
            description=reader.text(node, key, "description"),
            case_mix=_freeze(mix),
            missing=_freeze(missing),
        )
    default = data.get("default")
    if default not in settings:
        raise reader.fail("default", f"{default!r} is not a setting defined in this file")
    return settings, default


def _same_categories(
    reader: _Reader, conditions: tuple[Condition, ...], attribute: str
) -> tuple[str, ...]:
    first = tuple(getattr(conditions[0], attribute))
    for c in conditions[1:]:
        if tuple(getattr(c, attribute)) != first:
            raise reader.fail(
                f"conditions.{c.name}.{attribute}",
                f"lists {tuple(getattr(c, attribute))}, but every condition must list the same "
                f"categories in the same order: {first}",
            )
    return first


def load_knowledge(directory: str | Path | None = None) -> Knowledge:
    """Read and validate the knowledge base.

    Parameters
    ----------
    directory
        Folder holding ``references.toml``, ``findings.toml``, ``conditions.toml``,
        ``likelihoods.toml`` and ``settings.toml``. Defaults to the packaged knowledge base;
        pass a copy to explore changed assumptions.

    Returns
    -------
    Knowledge
        Frozen, validated objects.

    Raises
    ------
    KnowledgeError
        Naming the file, the key and the bad value.

    Examples
    --------
    >>> kb = load_knowledge()
    >>> kb.pathways[0]
    'emergency'
    """
    directory = Path(directory) if directory is not None else KNOWLEDGE_DIR
    if directory == KNOWLEDGE_DIR:
        return _load_packaged()
    return _load(directory)


@cache
def _load_packaged() -> Knowledge:
    return _load(KNOWLEDGE_DIR)


def _load(directory: Path) -> Knowledge:
    ref_path = directory / "references.toml"
    if not ref_path.exists():
        raise KnowledgeError(f"{ref_path}: knowledge file is missing")
    references = _References(ref_path)
    sources: dict[str, str] = {}
    read = lambda name: _Reader(directory / name, references, sources)  # noqa: E731

    findings = _read_findings(read("findings.toml"))
    finding_names = tuple(f.name for f in findings)
    cond_reader = read("conditions.toml")
    parts = _read_conditions(cond_reader)
    condition_names = tuple(parts["nodes"])
    likelihoods = _read_likelihoods(read("likelihoods.toml"), condition_names, finding_names)
    conditions = tuple(
        _build_condition(
            cond_reader, name, node, parts["pathways"], condition_names, likelihoods[name]
        )
        for name, node in parts["nodes"].items()
    )
    occupations = _same_categories(cond_reader, conditions, "occupation")
    triggers = _same_categories(cond_reader, conditions, "trigger")
    unused = [p for p in parts["pathways"] if p not in {c.pathway for c in conditions}]
    if unused:
        raise cond_reader.fail(f"pathways.order.{unused[0]}", "no condition maps to this pathway")
    settings, default = _read_settings(read("settings.toml"), condition_names, findings)
    return Knowledge(
        conditions=conditions,
        findings=findings,
        settings=_freeze(settings),
        default_setting=default,
        pathways=parts["pathways"],
        pathway_labels=_freeze(parts["labels"]),
        occupations=occupations,
        triggers=triggers,
        shared=_freeze(parts["shared"]),
        sources=_freeze(sources),
        references=_freeze(
            {**{f"seed:{k}": v for k, v in references.seeds.items()}, **references.studies}
        ),
        directory=directory,
    )
