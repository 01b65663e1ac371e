"""Reading one knowledge file: every number with a valid source, in range, named on error.

:class:`Reader` reads one TOML file of the knowledge base and checks each entry as it takes
it: a number is written ``{ value = ..., source = "..." }`` with a source that
:class:`References` knows (a seed and its section, a study of ``references.toml``, or an
assumption), lies in its allowed range, and a distribution sums to 1. A broken entry raises
a :class:`KnowledgeError` naming the file, the key and the value.
:func:`outcomes.knowledge.load_knowledge` builds the knowledge base with it, and each module
that loads a file of its own gets one from :func:`outcomes.knowledge.file_reader`.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

#: The folder of the packaged knowledge files (this package's folder).
KNOWLEDGE_DIR = Path(__file__).parent
#: Tolerance for "sums to 1": the files hold numbers with at most a few decimals.
SUM_TOLERANCE = 1e-9
#: The fields of a number's entry: its value, its source, for a value fitted to a
#: published figure how it was derived, and for an uncertain value its plausible range
#: (``low`` and ``high``: numbers sharing the entry's source, or ``{ value, source }`` each;
#: the probabilistic sensitivity analysis draws from them).
ENTRY_KEYS = ("value", "source", "calibrated", "low", "high")


class KnowledgeError(ValueError):
    """A knowledge file is invalid; the message names the file, the key and the value.

    Its message reads ``"<file>: [<key>] <what is wrong>"``.

    Examples
    --------
    >>> issubclass(KnowledgeError, ValueError)
    True
    """


class Reader:
    """Reads sourced numbers from one TOML file, recording every source it sees.

    The one way a module reads a knowledge file: get one from
    :func:`outcomes.knowledge.file_reader`. Each method takes the table it reads from and its
    dotted ``key`` (for the error message) and returns the checked value, or raises the
    :class:`KnowledgeError` of :meth:`fail`.

    Parameters
    ----------
    path
        The TOML file.
    references
        The seeds and studies a source may cite.
    sources
        Where every source read is recorded, as ``"file:key" -> source``.
    ranges
        Where every stated plausible range is recorded, as ``key -> (low, high)``.

    Examples
    --------
    >>> r = Reader(KNOWLEDGE_DIR / "trials.toml", References(KNOWLEDGE_DIR / "references.toml"),
    ...            {})
    >>> r.probability({"p": {"value": 0.2, "source": "assumption: an example"}}, "x", "p")
    0.2
    >>> r.number({"n": {"value": 3}}, "x", "n")
    Traceback (most recent call last):
    outcomes.knowledge.schema.KnowledgeError: trials.toml: [x.n] must be { value = ..., ...
    """

    def __init__(
        self,
        path: Path,
        references: References,
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
        """The error to raise about ``key`` of this file (returned, so callers ``raise`` it).

        Parameters
        ----------
        key : str
            The dotted key of the offending entry.
        message : str
            What is wrong with it.

        Returns
        -------
        KnowledgeError
            The error, its message naming the file and the key.

        Examples
        --------
        >>> r = Reader(KNOWLEDGE_DIR / "trials.toml",
        ...            References(KNOWLEDGE_DIR / "references.toml"), {})
        >>> r.fail("a.b", "is missing")
        KnowledgeError('trials.toml: [a.b] is missing')
        """
        return KnowledgeError(f"{self.file}: [{key}] {message}")

    def table(self, node: Any, key: str) -> dict[str, Any]:
        """``node``, which must be a TOML table.

        Parameters
        ----------
        node : Any
            The value read from the file.
        key : str
            Its dotted key, for the error message.

        Returns
        -------
        dict
            ``node`` itself, once checked to be a table.

        Examples
        --------
        >>> r = Reader(KNOWLEDGE_DIR / "trials.toml",
        ...            References(KNOWLEDGE_DIR / "references.toml"), {})
        >>> r.table({"a": 1}, "x")
        {'a': 1}
        """
        if not isinstance(node, dict):
            raise self.fail(key, f"must be a table, got {node!r}")
        return node

    def text(self, node: dict[str, Any], key: str, name: str) -> str:
        """The non-empty string ``node[name]``.

        Parameters
        ----------
        node : dict
            The TOML table holding the entry.
        key : str
            The table's dotted key, for the error message.
        name : str
            The entry's name in ``node``.

        Returns
        -------
        str
            The string.

        Examples
        --------
        >>> r = Reader(KNOWLEDGE_DIR / "trials.toml",
        ...            References(KNOWLEDGE_DIR / "references.toml"), {})
        >>> r.text({"label": "Hip"}, "x", "label")
        'Hip'
        """
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
        """The sourced number ``node[name]``, in ``[low, high]``; its source and range recorded.

        Parameters
        ----------
        node : dict
            The TOML table holding the entry.
        key : str
            The table's dotted key, for the error message.
        name : str
            The entry's name in ``node``.
        low, high : float, optional
            The bounds the value must lie within (unbounded by default).
        what : str, optional
            What the number is, for the error message.

        Returns
        -------
        float
            The entry's value.

        Examples
        --------
        >>> r = Reader(KNOWLEDGE_DIR / "trials.toml",
        ...            References(KNOWLEDGE_DIR / "references.toml"), {})
        >>> r.number({"n": {"value": 3, "source": "assumption: an example"}}, "x", "n", low=0)
        3.0
        """
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
                        key,
                        f'{end} must be a number or {{ value = ..., source = "..." }}, '
                        f"got {node!r}",
                    )
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
        list, a flag), its source checked and recorded; numbers go through :meth:`number`.

        Parameters
        ----------
        node : dict
            The TOML table holding the entry.
        key : str
            The table's dotted key, for the error message.
        name : str
            The entry's name in ``node``.

        Returns
        -------
        Any
            The entry's value, unchecked.

        Examples
        --------
        >>> r = Reader(KNOWLEDGE_DIR / "trials.toml",
        ...            References(KNOWLEDGE_DIR / "references.toml"), {})
        >>> r.sourced({"r": {"value": [18, 65], "source": "assumption: an example"}}, "x", "r")
        [18, 65]
        """
        full = f"{key}.{name}" if key else name
        entry = node.get(name)
        if not isinstance(entry, dict) or set(entry) != {"value", "source"}:
            raise self.fail(full, f'must be {{ value = ..., source = "..." }}, got {entry!r}')
        self.references.check(self, full, entry["source"])
        self.sources[f"{self.file}:{full}"] = entry["source"]
        return entry["value"]

    def probability(self, node: dict[str, Any], key: str, name: str) -> float:
        """A sourced number in [0, 1] (:meth:`number`).

        Parameters
        ----------
        node : dict
            The TOML table holding the entry.
        key : str
            The table's dotted key, for the error message.
        name : str
            The entry's name in ``node``.

        Returns
        -------
        float
            The probability.

        Examples
        --------
        >>> r = Reader(KNOWLEDGE_DIR / "trials.toml",
        ...            References(KNOWLEDGE_DIR / "references.toml"), {})
        >>> r.probability({"p": {"value": 0.2, "source": "assumption: an example"}}, "x", "p")
        0.2
        """
        return self.number(node, key, name, low=0.0, high=1.0, what="a probability")

    def distribution(
        self, node: Any, key: str, categories: tuple[str, ...] | None = None
    ) -> dict[str, float]:
        """A categorical distribution: probabilities over named categories summing to 1.

        Parameters
        ----------
        node : Any
            The TOML table of sourced probabilities, one per category.
        key : str
            Its dotted key, for the error message.
        categories : tuple of str, optional
            The allowed categories (any by default).

        Returns
        -------
        dict of str to float
            Category -> probability.

        Examples
        --------
        >>> r = Reader(KNOWLEDGE_DIR / "trials.toml",
        ...            References(KNOWLEDGE_DIR / "references.toml"), {})
        >>> p = {"value": 0.5, "source": "assumption: an example"}
        >>> r.distribution({"yes": p, "no": p}, "x", ("yes", "no"))
        {'yes': 0.5, 'no': 0.5}
        """
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


class References:
    """The seeds and studies of a ``references.toml`` that a source may cite.

    Parameters
    ----------
    path
        The ``references.toml`` file.

    Examples
    --------
    >>> refs = References(KNOWLEDGE_DIR / "references.toml")
    >>> "henschke2009" in refs.studies
    True
    """

    def __init__(self, path: Path):
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        self.seeds = dict(data.get("seeds", {}))
        self.studies = dict(data.get("studies", {}))

    def check(self, reader: Reader, key: str, source: Any) -> None:
        """Raise ``reader``'s error about ``key`` unless ``source`` cites a seed section, a
        listed study or an assumption.

        Parameters
        ----------
        reader : Reader
            The reader of the file the source is in (its :meth:`Reader.fail` makes the error).
        key : str
            The dotted key of the entry, for the error message.
        source : Any
            The entry's source.

        Examples
        --------
        >>> refs = References(KNOWLEDGE_DIR / "references.toml")
        >>> r = Reader(KNOWLEDGE_DIR / "trials.toml", refs, {})
        >>> refs.check(r, "x", "study:henschke2009")
        >>> refs.check(r, "x", "a hunch")
        Traceback (most recent call last):
        outcomes.knowledge.schema.KnowledgeError: trials.toml: [x] source 'a hunch' must ...
        """
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
