"""The notebooks' parameters in a report: what each declares, what a run may pass, what it used,
and the commands that run the same report (or draw its cohort) again."""

from __future__ import annotations

import ast
import contextlib
import json
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import nbformat
import papermill

from outcomes.faces.report_options import REPORT_OPTIONS
from outcomes.infra.paths import notebooks_dir, project_root
from outcomes.knowledge import load_knowledge


def declared_parameters(notebook: str | Path) -> dict[str, dict[str, Any]]:
    """The parameters a notebook declares in its cell tagged ``parameters``.

    Parameters
    ----------
    notebook
        The notebook file.

    Returns
    -------
    dict
        Parameter name to papermill's description (``inferred_type_name``, ``default``,
        ``help``); empty if the notebook has no parameters cell.

    Examples
    --------
    >>> from outcomes._dev.kernel import discover_notebooks
    >>> sorted(declared_parameters(discover_notebooks()[0]))
    ['EXAM_MISSING_RATE', 'N', 'SEED', 'SETTING']
    >>> declared_parameters(discover_notebooks()[0])["EXAM_MISSING_RATE"]["inferred_type_name"]
    'float | None'
    """
    declared = dict(papermill.inspect_notebook(str(notebook)))
    # papermill's reader skips assignments whose annotation it does not parse (e.g.
    # ``float | None``); every name the cell assigns is a parameter, so add those too.
    for name, (annotation, default) in _assigned_names(notebook).items():
        declared.setdefault(
            name, {"name": name, "inferred_type_name": annotation, "default": default, "help": ""}
        )
    return declared


def _assigned_names(notebook: str | Path) -> dict[str, tuple[str, str]]:
    """Names assigned at top level of the parameters cell: (annotation, default) sources."""
    nb = nbformat.read(notebook, as_version=4)
    cell = next((c for c in nb.cells if "parameters" in c.metadata.get("tags", [])), None)
    if cell is None:
        return {}
    tree = ast.parse(cell.source)
    names = {}
    for node in tree.body:
        targets = (
            [node.target]
            if isinstance(node, ast.AnnAssign) and node.value is not None
            else node.targets
            if isinstance(node, ast.Assign)
            else []
        )
        for target in targets:
            if isinstance(target, ast.Name):
                annotation = getattr(node, "annotation", None)
                names[target.id] = (
                    (ast.get_source_segment(cell.source, annotation) or "None")
                    if annotation
                    else "None",
                    ast.get_source_segment(cell.source, node.value) or "",
                )
    return names


def check_parameter_values(parameters: Mapping[str, Any]) -> None:
    """Reject, before anything runs, a parameter value no notebook could run with.

    ``N`` and ``N_*`` (cohort sizes, bootstrap replicates) must be whole numbers >= 1;
    ``SEED`` a whole number >= 0; ``SETTING`` and ``*_SETTING`` a setting of the knowledge
    base; ``*_RATE`` and ``DROPOUT`` a share in [0, 1], or None (the setting's own rate).
    Every problem is named in one ValueError.

    Parameters
    ----------
    parameters
        Parameter name -> value, as a run would pass them.

    Returns
    -------
    None
        Raises ValueError naming every bad value.

    Examples
    --------
    >>> check_parameter_values({"N": 300, "SEED": 0, "EXAM_MISSING_RATE": 0.6})
    >>> check_parameter_values({"SETTING": "mars", "N": 0})
    Traceback (most recent call last):
    ValueError: parameter SETTING='mars' is not a setting (choose one of: primary_care, ...); parameter N=0 must be a whole number >= 1
    """  # noqa: E501

    settings = load_knowledge().setting_names
    problems = []
    for name, value in parameters.items():
        number = isinstance(value, int | float) and not isinstance(value, bool)
        whole = number and isinstance(value, int)
        if name == "N" or name.startswith("N_"):
            if not (whole and value >= 1):
                problems.append(f"parameter {name}={value!r} must be a whole number >= 1")
        elif name == "SEED":
            if not (whole and value >= 0):
                problems.append(f"parameter {name}={value!r} must be a whole number >= 0")
        elif name == "SETTING" or name.endswith("_SETTING"):
            if value not in settings:
                problems.append(
                    f"parameter {name}={value!r} is not a setting (choose one of: "
                    f"{', '.join(settings)})"
                )
        elif name.endswith("_RATE") or name == "DROPOUT":
            if value is not None and not (number and 0 <= value <= 1):
                problems.append(f"parameter {name}={value!r} must be a share in [0, 1]")
    if problems:
        raise ValueError("; ".join(problems))


def plan_notebooks(
    notebooks: Sequence[Path], parameters: Mapping[str, Any]
) -> list[tuple[Path, dict[str, Any]]]:
    """Each notebook with the parameters it will receive; validates everything up front.

    Parameters
    ----------
    notebooks
        The notebooks of the report, in run order.
    parameters
        The parameters of the run.

    Returns
    -------
    list of (Path, dict)
        Each notebook with the parameters it declares among ``parameters``.

    Raises
    ------
    ValueError
        If there are no notebooks, one is missing, two share a name, a parameter is not JSON,
        is declared by no notebook, or has a value no notebook could run with
        (:func:`check_parameter_values`).

    Examples
    --------
    >>> from outcomes._dev.kernel import discover_notebooks
    >>> [(p.name, passed) for p, passed in plan_notebooks(discover_notebooks()[:1], {"N": 300})]
    [('01_cohort.ipynb', {'N': 300})]
    >>> plan_notebooks(discover_notebooks()[:1], {"NN": 3})
    Traceback (most recent call last):
    ValueError: parameter(s) 'NN' not declared by any notebook's parameters cell; declared: ...
    """
    if not notebooks:
        raise ValueError(f"no notebooks to run (looked in {notebooks_dir()})")
    for path in notebooks:
        if not path.is_file():
            raise ValueError(f"no such notebook: {path}")
    stems = [path.stem for path in notebooks]
    duplicates = sorted({stem for stem in stems if stems.count(stem) > 1})
    if duplicates:
        raise ValueError(f"notebook names must be unique in a report: {', '.join(duplicates)}")
    try:
        json.dumps(dict(parameters))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"parameters must be JSON values: {exc}") from None

    declared = {path: declared_parameters(path) for path in notebooks}
    all_declared = set().union(*declared.values())
    unknown = sorted(set(parameters) - all_declared)
    if unknown:
        raise ValueError(
            f"parameter(s) {', '.join(map(repr, unknown))} not declared by any notebook's "
            f"parameters cell; declared: {', '.join(sorted(all_declared)) or 'none'}"
        )
    check_parameter_values(parameters)
    return [
        (path, {k: v for k, v in parameters.items() if k in declared[path]}) for path in notebooks
    ]


def effective_parameters(notebook: str | Path, passed: Mapping[str, Any]) -> dict[str, str]:
    """Every parameter of a notebook with the value a run used, as source text.

    Declared defaults, replaced by the values ``passed`` to the run.

    Parameters
    ----------
    notebook
        The notebook as committed.
    passed
        The values a run passed to it.

    Returns
    -------
    dict
        Parameter name -> its value as Python source text.

    Examples
    --------
    >>> from outcomes._dev.kernel import discover_notebooks
    >>> effective_parameters(discover_notebooks()[0], {"N": 400})["N"]
    '400'
    """
    values = {name: str(spec["default"]) for name, spec in declared_parameters(notebook).items()}
    values.update({name: repr(value) for name, value in passed.items()})
    return values


#: The notebook parameters that define a generated cohort, and the generator's options.
COHORT_PARAMETERS = {"N": "n", "SEED": "seed", "SETTING": "setting"}


def run_cohort_command(
    entries: Sequence[Mapping[str, Any]],
) -> tuple[str, str, dict[str, Any]] | None:
    """The ``outcomes generate`` command for the cohort of this run, its notebook, its options.

    The cohort is that of the first notebook (in run order) declaring ``N``, ``SEED`` and
    ``SETTING``, with the values it actually used (``EXAM_MISSING_RATE`` too, unless
    ``None``); ``None`` when no notebook declares them. The options are the keyword
    arguments of :func:`outcomes.engine.cohort.write_cohort` that make the same cohort.

    Parameters
    ----------
    entries
        The notebooks' manifest entries, in run order (with ``effective_parameters``).

    Returns
    -------
    tuple or None
        (the ``outcomes generate`` command, the notebook's name, keyword arguments of
        :func:`~outcomes.engine.cohort.write_cohort`), or None.

    Examples
    --------
    >>> entry = {"name": "01_cohort", "effective_parameters":
    ...          {"N": "400", "SEED": "3", "SETTING": "'sports_clinic'"}}
    >>> run_cohort_command([entry])[0]
    'outcomes generate --n 400 --seed 3 --setting sports_clinic --out cohort.parquet'
    """
    for entry in entries:
        effective = entry.get("effective_parameters") or {}
        if not set(COHORT_PARAMETERS) <= set(effective):
            continue
        try:
            values = {name: ast.literal_eval(effective[name]) for name in COHORT_PARAMETERS}
            rate = ast.literal_eval(effective.get("EXAM_MISSING_RATE", "None"))
        except (ValueError, SyntaxError):
            continue  # a default written as an expression: not a cohort we can reproduce
        words = ["outcomes", "generate"]
        for name, option in COHORT_PARAMETERS.items():
            words += [f"--{option}", str(values[name])]
        words += ["--out", "cohort.parquet"]
        options = {option: values[name] for name, option in COHORT_PARAMETERS.items()}
        if rate is not None:
            words += ["--overrides", json.dumps({"exam_missing_rate": rate})]
            options["exam_missing_rate"] = rate
        return shlex.join(words), str(entry["name"]), options
    return None


def rerun_command(parameters: Mapping[str, Any], out_dir: str | Path = "reports") -> str:
    """The ``outcomes report`` command that runs a report again with the same parameters.

    Every parameter the run was given is in it (one not given takes the notebooks' defaults,
    in both runs): ``N``, ``SEED``, ``SETTING`` and ``EXAM_MISSING_RATE`` as the options
    ``--n``, ``--seed``, ``--setting`` and ``--exam-missing-rate`` when the option reads the
    value back unchanged, any other as ``-p NAME=VALUE`` (VALUE as JSON unless it is text that
    the CLI reads as text anyway). ``out_dir`` is written relative to the project folder when
    it is inside it (run the command from there), else absolute.

    Parameters
    ----------
    parameters
        The parameters the run was given.
    out_dir
        The report folder.

    Returns
    -------
    str
        The command, quoted for a POSIX shell.

    Examples
    --------
    >>> rerun_command({"N": 20000, "SETTING": "sports_clinic", "N_BOOT": 200}, "reports/sports")
    'outcomes report --n 20000 --setting sports_clinic -p N_BOOT=200 --out reports/sports'
    >>> print(rerun_command({"EXAM_MISSING_RATE": None, "LABEL": "42"}, "/tmp/r"))
    outcomes report -p EXAM_MISSING_RATE=null -p 'LABEL="42"' --out /tmp/r
    """

    types = {"N": int, "SEED": int, "SETTING": str, "EXAM_MISSING_RATE": float}
    flags = {name: "--" + option.replace("_", "-") for option, name in REPORT_OPTIONS.items()}
    words = ["outcomes", "report"]
    others = []
    for name, value in parameters.items():
        if name in flags and type(value) is types.get(name):
            words += [flags[name], str(value)]
        else:
            others += ["-p", f"{name}={_cli_value(value)}"]
    out = Path(out_dir)
    with contextlib.suppress(ValueError, FileNotFoundError):
        out = Path(out_dir).resolve().relative_to(project_root())
    return shlex.join([*words, *others, "--out", out.as_posix()])


def _cli_value(value: Any) -> str:
    """VALUE of ``-p NAME=VALUE`` that ``outcomes report`` reads back as ``value``."""
    if isinstance(value, str):
        try:
            json.loads(value)
        except json.JSONDecodeError:
            return value  # not JSON: the CLI keeps it as this text
    return json.dumps(value, separators=(",", ":"))
