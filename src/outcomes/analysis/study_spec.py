"""The spec of a simulation study (:mod:`outcomes.analysis.study`): its TOML format, how it is
read and validated, and the generator arguments of one grid point.
"""

from __future__ import annotations

import itertools
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Parameters a grid may vary: cohort sizes, the setting and every generator override.
SIZE_PARAMETERS = ("n_train", "n_test")
METHODS = ("rules", "oracle", "logistic", "boosted")
STUDY_KEYS = ("replicates", "seed", "methods", "block", "recovery")

SPEC_HELP = """\
spec (TOML): [study] replicates (>= 1), seed (>= 0), methods (rules, oracle, logistic,
boosted; default rules and logistic), block (replicates per result part, default 10),
recovery (true: also simulate each test cohort's recovery under each method's calls;
default false);
[grid] lists, every combination a grid point: n_train, n_test (patients, >= 1; defaults
[1000] and [1000]), setting (default [primary_care]), and any generator override
(exam_missing_rate, red_flag_missing_rate, chronic_fraction, combined_fraction, case_mix;
{} or "default" for the setting's own)."""


class SpecError(ValueError):
    """A study spec that cannot run (one line naming the field).

    Examples
    --------
    >>> parse_spec({"study": {"replicates": 0}, "grid": {"n_test": [100]}})
    Traceback (most recent call last):
    ...
    outcomes.analysis.study_spec.SpecError: ...replicates must be an integer >= 1, got 0
    """


@dataclass(frozen=True)
class Spec:
    """A validated study spec: the grid's points and how many replicates of each.

    Parameters
    ----------
    replicates : int
        Replicates of each grid point.
    seed : int
        Seed every replicate's streams are spawned from.
    methods : tuple of str
        Triage methods compared.
    block : int
        Replicates per block (one task, one results file).
    grid : tuple of (str, tuple)
        Each varied parameter with its values, in order.
    recovery : bool, default False
        Whether each replicate also simulates its test cohort's recovery under each method.

    Examples
    --------
    >>> spec = parse_spec({"study": {"replicates": 2, "methods": ["rules"]},
    ...                    "grid": {"n_test": [200]}})
    >>> spec.replicates, spec.methods
    (2, ('rules',))
    """

    replicates: int
    seed: int
    methods: tuple[str, ...]
    block: int
    grid: tuple[tuple[str, tuple[Any, ...]], ...]
    recovery: bool = False

    def points(self) -> list[dict[str, Any]]:
        """The grid's points in order (the last parameter varying fastest).

        Returns
        -------
        list of dict
            One mapping of parameter to value per grid point.

        Examples
        --------
        >>> spec = parse_spec({"study": {"replicates": 2, "methods": ["rules"]},
        ...                    "grid": {"n_test": [200]}})
        >>> spec.points()
        [{'n_train': 1000, 'n_test': 200, 'setting': 'primary_care'}]
        """
        names = [name for name, _ in self.grid]
        return [dict(zip(names, values, strict=True))
                for values in itertools.product(*(v for _, v in self.grid))]  # fmt: skip

    def as_json(self) -> dict[str, Any]:
        """The spec as plain JSON data (recorded beside a study's results).

        ``recovery`` appears only when true, so a study written before the recovery step
        existed still resumes under the same spec.

        Returns
        -------
        dict
            ``replicates``, ``seed``, ``methods``, ``block``, ``grid`` (and ``recovery``).

        Examples
        --------
        >>> spec = parse_spec({"study": {"replicates": 2, "recovery": True},
        ...                    "grid": {"n_test": [200]}})
        >>> plain = parse_spec({"study": {"replicates": 2}})
        >>> spec.as_json()["recovery"], "recovery" in plain.as_json()
        (True, False)
        """
        plain = {"replicates": self.replicates, "seed": self.seed, "methods": list(self.methods),
                 "block": self.block, "grid": {k: list(v) for k, v in self.grid}}  # fmt: skip
        if self.recovery:
            plain["recovery"] = True
        return plain


def _int(where: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SpecError(f"{where} must be an integer >= {minimum}, got {value!r}")
    return value


def parse_spec(spec: Mapping[str, Any]) -> Spec:
    """Validate a study spec (the parsed TOML) and return it as a :class:`Spec`.

    Every grid point's generator model is built, so a bad setting or override fails here,
    naming it, before any work.

    Parameters
    ----------
    spec : mapping
        Sections ``study`` (replicates, seed, methods, block) and ``grid`` (parameter: list of
        values).

    Returns
    -------
    Spec
        The validated spec.

    Raises
    ------
    SpecError
        Naming the field: an unknown section, key, parameter or method, an empty list,
        replicates < 1, a value out of range.

    Examples
    --------
    >>> s = parse_spec({"study": {"replicates": 2}, "grid": {"n_test": [100, 200]}})
    >>> [p["n_test"] for p in s.points()], s.methods
    ([100, 200], ('rules', 'logistic'))
    >>> parse_spec({"study": {"replicates": 2}, "grid": {"n_tset": [100]}})
    Traceback (most recent call last):
    outcomes.analysis.study_spec.SpecError: unknown parameter 'n_tset' in [grid]; known: n_train...
    """
    from outcomes.engine.model import OVERRIDES, build_model

    unknown = sorted(set(spec) - {"study", "grid"})
    if unknown:
        raise SpecError(f"unknown section [{unknown[0]}] in the spec; known: [study], [grid]")
    study = spec.get("study")
    if not isinstance(study, Mapping):
        raise SpecError("the spec needs a [study] section with replicates = N")
    unknown = sorted(set(study) - set(STUDY_KEYS))
    if unknown:
        raise SpecError(f"unknown key {unknown[0]!r} in [study]; known: {', '.join(STUDY_KEYS)}")
    if "replicates" not in study:
        raise SpecError("[study] replicates is missing (replicates per grid point, >= 1)")
    replicates = _int("[study] replicates", study["replicates"], 1)
    seed = _int("[study] seed", study.get("seed", 0), 0)
    block = _int("[study] block", study.get("block", 10), 1)
    methods = study.get("methods", ["rules", "logistic"])
    if not isinstance(methods, list) or not methods:
        raise SpecError('[study] methods must be a non-empty list, e.g. ["rules", "logistic"]')
    for m in methods:
        if m not in METHODS:
            raise SpecError(f"[study] methods: unknown method {m!r}; known: {', '.join(METHODS)}")
    if len(set(methods)) != len(methods):
        raise SpecError("[study] methods lists a method twice")
    recovery = study.get("recovery", False)
    if not isinstance(recovery, bool):
        raise SpecError(f"[study] recovery must be true or false, got {recovery!r}")
    grid_in = spec.get("grid", {})
    if not isinstance(grid_in, Mapping):
        raise SpecError("[grid] must be a table of parameter = [values]")
    known = (*SIZE_PARAMETERS, "setting", *OVERRIDES)
    for name in grid_in:
        if name not in known:
            raise SpecError(f"unknown parameter {name!r} in [grid]; known: {', '.join(known)}")
    defaults = {"n_train": [1000], "n_test": [1000], "setting": ["primary_care"]}
    grid = []
    for name in [k for k in known if k in grid_in or k in defaults]:
        values = grid_in.get(name, defaults.get(name))
        if not isinstance(values, list):
            raise SpecError(f"[grid] {name} must be a list of values, e.g. {name} = [...]")
        if not values:
            raise SpecError(f"[grid] {name} is an empty list: the grid has no points")
        if name in SIZE_PARAMETERS:
            values = [_int(f"[grid] {name}", v, 1) for v in values]
        grid.append((name, tuple(_plain(v) for v in values)))
    parsed = Spec(replicates, seed, tuple(methods), block, tuple(grid), recovery)
    for point in parsed.points():
        setting, overrides = generator_args(point)
        try:
            build_model(setting, **overrides)
        except ValueError as exc:
            raise SpecError(f"[grid]: {exc}") from None
    return parsed


def _plain(value: Any) -> Any:
    """A TOML value as plain JSON-able data (inline tables become dicts)."""
    return json.loads(json.dumps(value, sort_keys=True))


def generator_args(point: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    overrides = {k: v for k, v in point.items() if k not in (*SIZE_PARAMETERS, "setting")
                 and v not in ({}, "default")}  # fmt: skip
    return point["setting"], overrides


def read_spec(path: str | Path) -> Spec:
    """Read and validate a TOML study spec (:func:`parse_spec`).

    Parameters
    ----------
    path : str or pathlib.Path
        The TOML file.

    Returns
    -------
    Spec
        The validated spec.

    Raises
    ------
    SpecError
        If the file is missing, is not TOML or holds an invalid spec.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "study.toml"
    >>> _ = path.write_text("[study]\\nreplicates = 3\\n[grid]\\nn_test = [100, 200]\\n")
    >>> read_spec(path).replicates
    3
    """
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"no such spec file: {path}")
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML ({exc})") from None
    return parse_spec(raw)
