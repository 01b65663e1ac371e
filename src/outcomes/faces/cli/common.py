"""What every subcommand shares: exit codes, size limits, argument types, the error a user
can fix, and reading a cohort file as the commands do."""

from __future__ import annotations

import argparse
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

EXIT_BAD_INPUT = 2


#: Exit code after Ctrl-C (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130


#: Exit code when stdout's reader went away (128 + SIGPIPE, as shells report it).
EXIT_BROKEN_PIPE = 141


#: Exit code after SIGTERM (128 + SIGTERM), handled like Ctrl-C.
EXIT_TERMINATED = 143


#: Upper bounds of sizes, checked before anything is allocated (each beyond what the suite's
#: memory and time allow on a workstation; the messages say so).
MAX_N = 1_000_000_000


MAX_N_BOOT = 100_000


MAX_N_TRAIN = 2_000_000


MAX_EXAMPLES = 1_000_000


MAX_WORKERS = 64


MAX_SEED = 2**63 - 1


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so it unwinds like Ctrl-C: temporaries removed,
    worker processes shut down, previous files untouched. It takes no arguments.

    Examples
    --------
    >>> isinstance(Terminated(), KeyboardInterrupt)
    True
    """


class CommandError(Exception):
    """An error a user can fix; printed as one line, exit code 2.

    Its message is the line printed: what is wrong and what would be right.

    Examples
    --------
    >>> str(CommandError("--workers must be at most 64, got 65"))
    '--workers must be at most 64, got 65'
    """


def whole_number(minimum: int, maximum: int, why: str = "") -> Callable[[str], int]:
    """An argparse type: a whole number from ``minimum`` to ``maximum``; argparse names the
    option in its message (``argument --seed: must be a whole number >= 0, got -1``).

    Parameters
    ----------
    minimum, maximum
        The smallest and largest values accepted.
    why
        Why the maximum, added to the message of a value above it.

    Returns
    -------
    callable
        Text -> int, raising :class:`argparse.ArgumentTypeError` with a one-line reason.

    Examples
    --------
    >>> whole_number(1, 10)("7")
    7
    >>> whole_number(1, 10, " (memory)")("11")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: must be at most 10 (memory), got 11
    """

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be a whole number >= {minimum}, got {value}")
        if value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum:,}{why}, got {value:,}")
        return value

    parse.__name__ = "whole number"
    return parse


#: Argument types of seeds, bootstrap replicates and synthetic training sizes.
SEED = whole_number(0, MAX_SEED)
N_BOOT = whole_number(1, MAX_N_BOOT, " (the bootstrap keeps every replicate in memory)")
N_TRAIN = whole_number(100, MAX_N_TRAIN, " (a larger synthetic training set needs several GB)")


def check_overrides(overrides: dict, option: str = "--overrides") -> None:
    """Only the documented override keys (:data:`outcomes.engine.model.OVERRIDES`) are accepted.

    Parameters
    ----------
    overrides
        Scenario overrides given on the command line.
    option
        The option that gave them, named in the error.

    Returns
    -------
    None
        Raises :class:`CommandError` naming the first unknown key, if any.

    Examples
    --------
    >>> check_overrides({"exam_missing_rate": 0.6})
    >>> check_overrides({"speed": 2})
    Traceback (most recent call last):
    outcomes.faces.cli.common.CommandError: --overrides: 'speed' is not a scenario override; ...
    """
    from outcomes.engine.model import OVERRIDES

    unknown = sorted(set(overrides) - set(OVERRIDES))
    if unknown:
        raise CommandError(
            f"{option}: {unknown[0]!r} is not a scenario override; the "
            f"documented keys are: {', '.join(OVERRIDES)}"
        )


def json_mapping(text: str) -> dict:
    """An argparse type: a JSON object, such as scenario overrides.

    Parameters
    ----------
    text
        The option's value.

    Returns
    -------
    dict
        The object; anything else raises :class:`argparse.ArgumentTypeError`.

    Examples
    --------
    >>> json_mapping('{"chronic_fraction": 0.4}')
    {'chronic_fraction': 0.4}
    >>> json_mapping("[1]")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: must be a JSON object, e.g. '{"chronic_fraction": 0.4}'
    """
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(
            "must be a JSON object, e.g. '{\"chronic_fraction\": 0.4}'"
        )
    return value


def add_input_options(p: argparse.ArgumentParser) -> None:
    """``--strict`` and ``--overrides``, for commands that read a cohort or a team's file.

    Parameters
    ----------
    p
        The subcommand's parser; the options are added to it.

    Returns
    -------
    None

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_input_options(p)
    >>> vars(p.parse_args(["--strict", "--overrides", '{"exam_missing_rate": 0.5}']))
    {'strict': True, 'overrides': {'exam_missing_rate': 0.5}}
    """
    p.add_argument(
        "--strict",
        action="store_true",
        help="make warnings about the input (a column that looks like a finding "
        "but matches none; a cohort without recorded provenance) errors",
    )
    p.add_argument(
        "--overrides",
        type=json_mapping,
        default=None,
        help="for a generated cohort that does not record how it was made (a CSV): "
        "the scenario overrides it was generated with, as JSON",
    )


def read_cohort(path: Path, what: str, args: argparse.Namespace | None = None, **require: Any):
    """A cohort with the confirmed pathway, validated as a team's patients file is.

    A Parquet file written by ``outcomes generate`` keeps its setting and overrides (from the
    file's metadata) in the table's ``attrs``, as :func:`outcomes.engine.cohort.generate` records
    them: so the oracle of a cohort generated with ``--overrides`` uses that cohort's own case
    mix and missingness (:func:`outcomes.engine.cohort.generated_with`).

    Parameters
    ----------
    path
        The cohort file (Parquet or CSV) with the truth.
    what
        What the file is for (``"test"``, ``"training"``), named in errors.
    args
        The parsed arguments: their ``strict`` and ``overrides`` are honoured.
    **require
        Passed to :func:`outcomes.analysis.userdata.read_patients` (e.g. ``require=``
        columns a command needs beyond a team's required ones).

    Returns
    -------
    pandas.DataFrame
        The patients, with how they were generated recorded in ``attrs`` when known.

    Examples
    --------
    >>> read_cohort(Path("nowhere.parquet"), "test")
    Traceback (most recent call last):
    outcomes.faces.cli.common.CommandError: no such test file: nowhere.parquet
    """
    from outcomes.analysis.userdata import InputWarning, read_patients
    from outcomes.engine.cohort import record_generated_with

    strict = bool(getattr(args, "strict", False))
    overrides = getattr(args, "overrides", None)
    if not path.exists():
        raise CommandError(f"no such {what} file: {path}")
    patients = read_patients(path, require_truth=True, strict=strict, **require)
    meta = _recorded_provenance(path)
    if meta.get("generator") == "outcomes.cohort.generate" and isinstance(meta.get("setting"), str):
        if overrides is not None:
            raise CommandError(
                f"--overrides: {path.name} records how it was generated; --overrides is only "
                "for a cohort that does not (a CSV)"
            )
        record_generated_with(patients, meta["setting"], meta.get("overrides") or {})
    elif overrides is not None:
        check_overrides(overrides)
        counts = patients["setting"].value_counts()
        setting = min(str(s) for s in counts.index[counts == counts.max()])
        record_generated_with(patients, setting, overrides)
    elif {"secondary_condition", "latent_severity"} <= set(patients.columns):
        message = (
            f"{path.name} looks like a generated cohort (it has the hidden columns) but "
            "records no provenance (a CSV keeps none): the oracle assumes the setting's "
            "own case mix and missingness; if it was generated with --overrides, give "
            "the same --overrides here (or use the Parquet file)"
        )
        if strict:
            raise CommandError(message)
        warnings.warn(message, InputWarning, stacklevel=2)
    return patients


def _recorded_provenance(path: Path) -> dict[str, Any]:
    """How a cohort file records it was generated: ``outcomes generate``'s metadata, or the
    table attributes pandas stores (``generate(...).to_parquet(...)``); {} if neither."""
    import pyarrow.parquet as pq

    from outcomes.engine.cohort import GENERATED_WITH_KEY

    try:
        stored = pq.read_schema(path).metadata or {}
    except Exception:  # a CSV, a pipe, anything not Parquet: it records nothing
        return {}
    try:
        meta = json.loads(stored.get(b"outcomes") or b"{}")
        attrs = json.loads(stored.get(b"PANDAS_ATTRS") or b"{}")
    except (ValueError, TypeError):
        return {}
    recorded = attrs.get(GENERATED_WITH_KEY) if isinstance(attrs, dict) else None
    if not (isinstance(meta, dict) and meta.get("generator")) and isinstance(recorded, dict):
        meta = {"generator": "outcomes.cohort.generate", **recorded}
    return meta if isinstance(meta, dict) else {}
