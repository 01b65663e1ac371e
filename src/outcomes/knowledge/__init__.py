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

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from outcomes.knowledge.objects import (
    FINDING_KINDS,
    MISSABLE_KINDS,
    NO_SECONDARY,
    ONSETS,
    SEXES,
    SIDES,
    Condition,
    Finding,
    Knowledge,
    Setting,
)
from outcomes.knowledge.provenance import provenance
from outcomes.knowledge.schema import (
    ENTRY_KEYS,
    KNOWLEDGE_DIR,
    SUM_TOLERANCE,
    KnowledgeError,
    Reader,
    References,
)

__all__ = [
    "ENTRY_KEYS",
    "FINDING_KINDS",
    "KNOWLEDGE_DIR",
    "MISSABLE_KINDS",
    "NO_SECONDARY",
    "ONSETS",
    "SEXES",
    "SIDES",
    "SUM_TOLERANCE",
    "Condition",
    "Finding",
    "Knowledge",
    "KnowledgeError",
    "Reader",
    "References",
    "Setting",
    "file_reader",
    "load_knowledge",
    "provenance",
]


def file_reader(kb: Knowledge, name: str, sources: dict[str, str] | None = None) -> Reader:
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
    Reader
        Reading and checking the file's sourced numbers.

    Examples
    --------
    >>> file_reader(load_knowledge(), "trials.toml").file
    'trials.toml'
    """
    directory = kb.directory if (kb.directory / name).exists() else KNOWLEDGE_DIR
    references = References(directory / "references.toml")
    return Reader(directory / name, references, {} if sources is None else sources)


def _freeze(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


def _read_findings(reader: Reader) -> tuple[Finding, ...]:
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
                severity_slope=reader.number(node, name, "severity_slope", low=-20, high=20),
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
    reader: Reader, condition_names: tuple[str, ...], finding_names: tuple[str, ...]
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


def _read_conditions(reader: Reader) -> dict[str, Any]:
    data = reader.data
    pathways = tuple(reader.table(data.get("pathways"), "pathways").get("order", ()))
    if not pathways:
        raise reader.fail("pathways.order", "must list at least one pathway")
    labels = dict(data["pathways"].get("labels", {}))
    missing = [p for p in pathways if p not in labels]
    if missing:
        raise reader.fail(f"pathways.labels.{missing[0]}", "is missing")
    shared_node = reader.table(data.get("shared"), "shared")
    shared: dict[str, float] = {
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
    reader: Reader,
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
    reader: Reader, condition_names: tuple[str, ...], findings: tuple[Finding, ...]
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
    reader: Reader, conditions: tuple[Condition, ...], attribute: str
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
    references = References(ref_path)
    sources: dict[str, str] = {}
    read = lambda name: Reader(directory / name, references, sources)  # noqa: E731

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
