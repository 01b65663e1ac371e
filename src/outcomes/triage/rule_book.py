"""The rules of rules triage: ``knowledge/triage_rules.toml`` read and checked as a decision list.

The rules live in ``knowledge/triage_rules.toml`` (grammar and sources there).
:func:`load_triage_rules` reads them into a :class:`DecisionList` of :class:`TriageRule`,
checking every finding and pathway they name against the knowledge base, and
:func:`rules_table` shows them as a table; :class:`outcomes.triage.rules.RulesTriage` applies
them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from outcomes.knowledge import (
    Knowledge,
    Reader,
    file_reader,
    load_knowledge,
)

RULES_FILE = "triage_rules.toml"
RULE_KEYS = ("name", "pathway", "description", "source", "all", "any", "min_any", "none")
DEFAULT_KEYS = ("name", "pathway", "description", "source")
#: Separator between items in the text columns of :func:`rules_table` and
#: :meth:`outcomes.triage.rules.RulesTriage.explain`.
SEPARATOR = "; "


@dataclass(frozen=True)
class TriageRule:
    """One rule of the decision list: conditions on findings and the pathway they assign.

    ``all_of``: every finding recorded positive; ``any_of``: at least ``min_any`` recorded
    positive; ``none_of``: none recorded positive (not recorded counts as absent). The default
    rule has no conditions.

    Parameters
    ----------
    name, pathway, description, source
        The rule's name, the pathway it assigns, what it means and where it comes from.
    all_of, any_of, min_any, none_of
        Its conditions, as above.

    Examples
    --------
    >>> rule = TriageRule("hip", "hip", "deep buttock pain", "assumption: example",
    ...                   all_of=("exam_fair_test",), none_of=("pain_below_knee",))
    >>> rule.findings
    ('exam_fair_test', 'pain_below_knee')
    """

    name: str
    pathway: str
    description: str
    source: str
    all_of: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    min_any: int = 1
    none_of: tuple[str, ...] = ()

    @property
    def findings(self) -> tuple[str, ...]:
        """Every finding the rule looks at, in the order written.

        Examples
        --------
        >>> load_triage_rules().rules[2].findings[:2]
        ('pain_low_back', 'pain_below_knee')
        """
        return (*self.all_of, *self.any_of, *self.none_of)


@dataclass(frozen=True)
class DecisionList:
    """The validated decision list. Build it with :func:`load_triage_rules`.

    Parameters
    ----------
    rules
        The rules, in the order they are tried.
    default
        The rule applied when none fires.
    pathways
        The knowledge base's care pathways.
    labels
        Finding name -> its label, for explanations.

    Examples
    --------
    >>> rules = load_triage_rules()
    >>> rules.rules[0].name, rules.rules[0].pathway, rules.default.pathway
    ('red_flag', 'emergency', 'spinal')
    """

    rules: tuple[TriageRule, ...]
    default: TriageRule
    pathways: tuple[str, ...]
    labels: Mapping[str, str] = field(repr=False)

    @property
    def findings(self) -> tuple[str, ...]:
        """Every finding some rule looks at (the columns :class:`RulesTriage` needs), unique.

        Examples
        --------
        >>> "exam_fair_test" in load_triage_rules().findings
        True
        """
        return tuple(dict.fromkeys(f for rule in self.rules for f in rule.findings))


def _finding_list(
    reader: Reader, node: dict[str, Any], key: str, name: str, known: tuple[str, ...]
) -> tuple[str, ...]:
    """The finding names listed under ``name`` (``all``, ``any`` or ``none``), validated."""
    value = node.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise reader.fail(f"{key}.{name}", f"must be a list of finding names, got {value!r}")
    for finding in value:
        if finding not in known:
            raise reader.fail(f"{key}.{name}", f"{finding!r} is not a finding in findings.toml")
    if len(set(value)) != len(value):
        raise reader.fail(f"{key}.{name}", f"lists a finding twice: {value!r}")
    return tuple(value)


def _read_rule(
    reader: Reader, node: Any, key: str, kb: Knowledge, allowed: tuple[str, ...]
) -> TriageRule:
    node = reader.table(node, key)
    unknown = [k for k in node if k not in allowed]
    if unknown:
        # A misspelt condition (`non = [...]`) would otherwise be silently ignored.
        raise reader.fail(f"{key}.{unknown[0]}", f"is not a rule field; allowed: {allowed}")
    name = reader.text(node, key, "name")
    pathway = reader.text(node, key, "pathway")
    if pathway not in kb.pathways:
        raise reader.fail(
            f"{key}.pathway",
            f"{pathway!r} is not a pathway; choose one of: {', '.join(kb.pathways)}",
        )
    description = reader.text(node, key, "description")
    if "source" not in node:
        raise reader.fail(f"{key}.source", "is missing: every rule needs a source")
    reader.references.check(reader, f"{key}.source", node["source"])
    reader.sources[f"{reader.file}:{key}"] = node["source"]
    known = kb.finding_names
    all_of = _finding_list(reader, node, key, "all", known)
    any_of = _finding_list(reader, node, key, "any", known)
    none_of = _finding_list(reader, node, key, "none", known)
    contradictory = [f for f in none_of if f in all_of or f in any_of]
    if contradictory:
        raise reader.fail(
            f"{key}.none", f"{contradictory[0]!r} is also required, so the rule could never fire"
        )
    min_any = 1
    if "min_any" in node:
        if not any_of:
            raise reader.fail(f"{key}.min_any", "needs an `any` list to count from")
        value = reader.number(node, key, "min_any", low=1, high=len(any_of), what="a count")
        if value != int(value):
            raise reader.fail(f"{key}.min_any", f"value {value!r} is not a whole number")
        min_any = int(value)
    return TriageRule(
        name=name,
        pathway=pathway,
        description=description,
        source=node["source"],
        all_of=all_of,
        any_of=any_of,
        min_any=min_any,
        none_of=none_of,
    )


def load_triage_rules(knowledge: Knowledge | None = None) -> DecisionList:
    """Read and validate ``triage_rules.toml`` against the knowledge base.

    Parameters
    ----------
    knowledge
        The knowledge base whose findings and pathways the rules may name (default: the
        packaged one). Its folder's ``triage_rules.toml`` is read if there is one, else the
        packaged file.

    Returns
    -------
    DecisionList
        The rules in order and the default rule, frozen.

    Raises
    ------
    KnowledgeError
        Naming the file, the key and the bad value: an unknown finding or pathway, a missing
        or unknown source, an empty rule list, a missing default, a misspelt field, a
        duplicate rule name, or a rule that could never fire.

    Examples
    --------
    >>> rules = load_triage_rules()
    >>> [rule.pathway for rule in rules.rules][:3]
    ['emergency', 'upper_limb_nerve', 'spinal']
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    reader = file_reader(kb, RULES_FILE)
    data = reader.data
    unknown = [k for k in data if k not in ("default", "rules")]
    if unknown:
        raise reader.fail(
            unknown[0], "is not a section of this file; expected [default], [[rules]]"
        )
    if "default" not in data:
        raise reader.fail("default", "is missing: the decision list needs a stated default rule")
    default = _read_rule(reader, data["default"], "default", kb, DEFAULT_KEYS)
    nodes = data.get("rules")
    if not isinstance(nodes, list) or not nodes:
        raise reader.fail("rules", f"must list at least one [[rules]] entry, got {nodes!r}")
    rules: list[TriageRule] = []
    for position, node in enumerate(nodes):
        key = f"rules[{position}]"
        if isinstance(node, dict) and isinstance(node.get("name"), str):
            key = f"rules.{node['name']}"
        rule = _read_rule(reader, node, key, kb, RULE_KEYS)
        if not (rule.all_of or rule.any_of):
            raise reader.fail(key, "needs at least one finding in `all` or `any`")
        if rule.name in {r.name for r in rules} | {default.name}:
            raise reader.fail(f"{key}.name", f"{rule.name!r} is used by another rule")
        rules.append(rule)
    return DecisionList(
        rules=tuple(rules),
        default=default,
        pathways=kb.pathways,
        labels={f.name: f.label for f in kb.findings},
    )


def rules_table(rules: DecisionList | None = None) -> pd.DataFrame:
    """The decision list as a table a clinician can review: one row per rule, in order.

    Parameters
    ----------
    rules
        A decision list from :func:`load_triage_rules` (default: the packaged rules).

    Returns
    -------
    pandas.DataFrame
        Columns ``order``, ``rule``, ``pathway``, ``all_of``, ``any_of``, ``min_any``,
        ``none_of`` (findings by their readable labels), ``description`` and ``source``; the
        last row is the default rule.

    Examples
    --------
    >>> table = rules_table()
    >>> table.loc[0, ["rule", "pathway"]].tolist()
    ['red_flag', 'emergency']
    >>> table.iloc[-1]["rule"]
    'no_pattern_matched'
    """
    rules = rules if rules is not None else load_triage_rules()

    def labels(names: tuple[str, ...]) -> str:
        return SEPARATOR.join(rules.labels[n] for n in names)

    rows = [
        {
            "order": order,
            "rule": rule.name,
            "pathway": rule.pathway,
            "all_of": labels(rule.all_of),
            "any_of": labels(rule.any_of),
            "min_any": rule.min_any if rule.any_of else 0,
            "none_of": labels(rule.none_of),
            "description": rule.description,
            "source": rule.source,
        }
        for order, rule in enumerate((*rules.rules, rules.default), start=1)
    ]
    return pd.DataFrame(rows)
