"""The ``outcomes`` command line: one subcommand per verb of the project.

Every subcommand turns a bad argument or bad input into one line on stderr and exit code 2,
writes no partial output, and shows the traceback only with ``--debug``.

Adding a subcommand: write ``_add_NAME(subparsers)`` that registers the parser with
``set_defaults(handler=...)`` and add it to :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tomllib
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from outcomes import __version__

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
#: Fewest bytes per patient a generated file takes (measured: Parquet 21.6, CSV 317); the
#: disk check of ``generate`` refuses only what surely cannot fit.
BYTES_PER_PATIENT = {"parquet": 15, "csv": 250}


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so it unwinds like Ctrl-C: temporaries removed,
    worker processes shut down, previous files untouched."""


class CommandError(Exception):
    """An error a user can fix; printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (``outcomes CMD: error: ...``);
    ``--help`` shows the usage."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")

    def parse_args(self, args=None, namespace=None):  # type: ignore[override]
        # Unknown options are found by the top parser; name the subcommand they were given to.
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            command = getattr(parsed, "command", None)
            prog = f"{self.prog} {command}" if command else self.prog
            self.exit(
                EXIT_BAD_INPUT, f"{prog}: error: unrecognized arguments: {' '.join(extras)}\n"
            )
        return parsed


def _whole(minimum: int, maximum: int, why: str = "") -> Callable[[str], int]:
    """An argparse type: a whole number from ``minimum`` to ``maximum``; argparse names the
    option in its message (``argument --seed: must be a whole number >= 0, got -1``)."""

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


SEED = _whole(0, MAX_SEED)


def _check_overrides(overrides: dict, option: str = "--overrides") -> None:
    """Only the documented override keys (:data:`outcomes.engine.model.OVERRIDES`) are accepted."""
    from outcomes.engine.model import OVERRIDES

    unknown = sorted(set(overrides) - set(OVERRIDES))
    if unknown:
        raise CommandError(f"{option}: {unknown[0]!r} is not a scenario override; the "
                           f"documented keys are: {', '.join(OVERRIDES)}")  # fmt: skip


def _json_mapping(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(
            "must be a JSON object, e.g. '{\"chronic_fraction\": 0.4}'"
        )
    return value


# --------------------------------------------------------------------------------------------
# generate


def _add_generate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate",
        help="generate a synthetic cohort (the patients table)",
        description="Generate a synthetic cohort and write it atomically as Parquet or CSV. "
        "An --out ending in / (or naming a folder) writes a partitioned cohort: one Parquet file "
        "per chunk, _metadata, a data card and a manifest of digests; re-running the same "
        "command verifies the finished partitions and draws only the rest.",
        epilog="example: outcomes generate --n 100000 --seed 7 --setting primary_care "
        "--out data/synthetic/x.parquet\n"
        "example: outcomes generate --n 50000000 --seed 7 --chunk-size 1000000 --workers 2 "
        "--out data/synthetic/big/",
    )
    p.add_argument("--n", type=int, required=True, help=f"number of patients (1 to {MAX_N:,})")
    p.add_argument("--seed", type=SEED, required=True, help="random seed (>= 0)")
    p.add_argument("--setting", default=None, help="care setting (default: primary_care)")
    p.add_argument("--out", required=True,
                   help="output file (.parquet or .csv), or folder (ending in /) for a "
                   "partitioned cohort")  # fmt: skip
    p.add_argument(
        "--format",
        choices=("parquet", "csv"),
        default=None,
        help="file format (default: from the --out suffix)",
    )
    p.add_argument(
        "--chunk-size",
        type=int,
        default=None,
        help="rows generated per step; bounds memory, never changes the data",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help=f"processes drawing chunks in parallel (1 to {MAX_WORKERS}); never changes the "
        "file's bytes",
    )
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="partitioned cohorts: draw the partitions on this Dask scheduler's "
                   "workers (tcp://HOST:PORT; the folder must be shared with them)")  # fmt: skip
    p.add_argument(
        "--overrides",
        type=_json_mapping,
        default={},
        help="scenario overrides as JSON, e.g. '{\"exam_missing_rate\": 0.6}'",
    )
    p.set_defaults(handler=_run_generate)


def _run_generate_partitioned(args: argparse.Namespace) -> int:
    from outcomes.engine.partitioned import DEFAULT_PARTITION_ROWS, write_partitioned

    if args.format not in (None, "parquet"):
        raise CommandError(f"--format {args.format}: a partitioned cohort (--out {args.out}/) "
                           "is written as Parquet only")  # fmt: skip
    if args.scheduler is not None and args.workers != 1:
        raise CommandError("give --workers or --scheduler, not both")
    chunk = DEFAULT_PARTITION_ROWS if args.chunk_size is None else args.chunk_size
    done = write_partitioned(args.out, args.n, args.seed, args.setting, chunk_size=chunk,
                             workers=args.workers, scheduler=args.scheduler,
                             **args.overrides)  # fmt: skip
    kept = f", {done.kept} kept after verifying their digests" if done.kept else ""
    print(f"wrote {args.n} patients to {done.folder}/ ({done.drawn} partitions drawn{kept})")
    return 0


def _run_generate(args: argparse.Namespace) -> int:
    from outcomes.engine.cohort import write_cohort
    from outcomes.infra.io import check_destination, check_outputs, suffix_format

    folder = args.out.endswith(("/", os.sep))  # Path() would drop the slash
    args.out = Path(args.out)
    # A folder named like a file (x.parquet/ without the slash) is still refused below.
    if folder or (args.out.is_dir() and suffix_format(args.out) is None):
        return _run_generate_partitioned(args)
    if args.scheduler is not None:
        raise CommandError("--scheduler draws a partitioned cohort: give a folder, --out DIR/")
    named = suffix_format(args.out)
    if args.format is not None and named is not None and named != args.format:
        raise CommandError(
            f"--format {args.format} contradicts the suffix of {args.out.name} (a {named} "
            f"name); name the file .{args.format} or leave out --format"
        )
    if args.format is None and named is None:
        raise CommandError(
            f"cannot tell the format of {str(args.out)!r} from its suffix; use .parquet or "
            ".csv, or give --format parquet or --format csv"
        )
    check_outputs({"--out": args.out})
    check_destination(args.out, args.format)  # a folder fails before any work
    _check_overrides(args.overrides)
    if args.workers > MAX_WORKERS:
        raise CommandError(f"--workers must be at most {MAX_WORKERS}, got {args.workers}")
    if args.n > MAX_N:
        raise CommandError(f"--n must be at most {MAX_N:,}, got {args.n:,}")
    _check_room(args.out, args.n, args.format or named or "parquet")
    extra = {} if args.chunk_size is None else {"chunk_size": args.chunk_size}
    extra["workers"] = args.workers
    path = write_cohort(
        args.out, args.n, args.seed, args.setting, fmt=args.format, **extra, **args.overrides
    )
    print(f"wrote {args.n} patients to {path}")
    return 0


def _check_room(out: Path, n: int, fmt: str) -> None:
    """Refuse a cohort that surely cannot fit the free space of ``out``'s disk."""
    import shutil

    folder = out.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    need = n * BYTES_PER_PATIENT[fmt]
    if need > free:
        raise CommandError(
            f"--n {n:,}: the {fmt} file would take at least {need / 1e9:,.1f} GB and {folder} "
            f"has {free / 1e9:,.1f} GB free; choose a smaller --n"
        )


# --------------------------------------------------------------------------------------------
# datacard


def _add_datacard(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "datacard",
        help="write the data card (provenance and column meanings) of a cohort file",
        description="Render the Markdown data card of a Parquet cohort written by `outcomes "
        "generate`, from the file's own recorded metadata (n, seed, setting, overrides, "
        "version); a file that records none is refused.",
        epilog="example: outcomes datacard --cohort data/synthetic/default_cohort.parquet "
        "--out data/synthetic/DATACARD.md",
    )
    p.add_argument("--cohort", type=Path, required=True, help="Parquet cohort file")
    p.add_argument("--out", type=Path, required=True, help="Markdown file to write")
    p.set_defaults(handler=_run_datacard)


def _run_datacard(args: argparse.Namespace) -> int:
    from outcomes.engine.datacard import write_datacard
    from outcomes.infra.io import check_outputs

    if not args.cohort.exists():
        raise CommandError(f"no such cohort file: {args.cohort}")
    check_outputs({"--out": args.out}, {"--cohort": args.cohort})
    print(f"wrote {write_datacard(args.cohort, args.out)}")
    return 0


# --------------------------------------------------------------------------------------------
# report


def _parameter(text: str) -> tuple[str, object]:
    """``NAME=VALUE`` from the command line; VALUE is read as JSON, else kept as text."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE, e.g. N_BOOT=200")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return name.strip(), value


def _add_report(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="execute every notebook and render an HTML report",
        description="Execute the notebooks in order with the given parameters (papermill) and "
        "render each to HTML with an index page. --n, --seed, --setting and "
        "--exam-missing-rate set the notebooks' N, SEED, SETTING and EXAM_MISSING_RATE; any "
        "other parameter a notebook declares is set with -p NAME=VALUE.",
        epilog="example: outcomes report --n 20000 --seed 3 --setting sports_clinic "
        "--out reports/sports/",
    )
    p.add_argument("--out", type=Path, default=Path("reports"), help="output folder")
    p.add_argument("--n", type=int, default=None, help="cohort size (N)")
    p.add_argument("--seed", type=int, default=None, help="random seed (SEED)")
    p.add_argument("--setting", default=None, help="care setting (SETTING)")
    p.add_argument(
        "--exam-missing-rate",
        type=float,
        default=None,
        help="share of exam findings not recorded (EXAM_MISSING_RATE; default: the setting's)",
    )
    p.add_argument(
        "-p",
        "--parameter",
        dest="parameters",
        type=_parameter,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="any other notebook parameter, e.g. -p N_BOOT=200 (repeatable)",
    )
    p.set_defaults(handler=_run_report)


#: Report options and the notebook parameters they set.
REPORT_OPTIONS = {"n": "N", "seed": "SEED", "setting": "SETTING",
                  "exam_missing_rate": "EXAM_MISSING_RATE"}  # fmt: skip


#: Packages of the ``report`` extra (``pip install 'outcomes[report]'``).
REPORT_EXTRA = ("papermill", "nbconvert", "ipykernel")


def _run_report(args: argparse.Namespace) -> int:
    import importlib.util

    missing = [name for name in REPORT_EXTRA if importlib.util.find_spec(name) is None]
    if missing:
        raise CommandError(f"the report needs {', '.join(missing)}, which are not installed: "
                           "pip install 'outcomes[report]' (or make venv)")  # fmt: skip
    from outcomes.faces.report import run_report

    parameters = {
        name: getattr(args, option)
        for option, name in REPORT_OPTIONS.items()
        if getattr(args, option) is not None
    }
    for name, value in args.parameters:
        if name in parameters:
            raise CommandError(f"parameter {name} given twice")
        parameters[name] = value
    from papermill.exceptions import PapermillExecutionError

    try:
        index = run_report(args.out, parameters)
    except PapermillExecutionError as exc:
        if args.debug:
            raise
        raise CommandError(
            f"a notebook failed ({exc.ename}: {str(exc.evalue).splitlines()[0]}); the report "
            "folder is unchanged (--debug shows the traceback)"
        ) from None
    print(f"report written: {index}")
    return 0


# --------------------------------------------------------------------------------------------
# simulate


def _recovery_defaults() -> tuple[int, float]:
    """Follow-up weeks and default dropout, read from recovery.toml (cheap: no numpy import)."""
    with (Path(__file__).parents[1] / "knowledge" / "recovery.toml").open("rb") as fh:
        recovery = tomllib.load(fh)["recovery"]
    return int(recovery["follow_up_weeks"]["value"]), float(recovery["dropout"]["value"])


#: What simulating recovery reads beyond a team's required columns: the truth and a generated
#: cohort's hidden columns (the confirmed pathway follows from the condition).
SIMULATE_REQUIRES = ("condition", "secondary_condition", "latent_severity")


def _add_simulate(sub: argparse._SubParsersAction) -> None:
    weeks, dropout = _recovery_defaults()
    p = sub.add_parser(
        "simulate",
        help=f"simulate {weeks} weeks of recovery for a cohort under one triage policy",
        description="Triage a cohort with a policy, simulate weekly pain and disability, and "
        "write the outcomes table (and optionally the long visits table) atomically.",
        epilog="example: outcomes simulate --cohort data/synthetic/default_cohort.parquet "
        "--policy rules --out outcomes.parquet",
    )
    p.add_argument("--cohort", type=Path, required=True,
                   help="patients table, Parquet or CSV, with the truth and the hidden columns "
                   "of a generated cohort (" + ", ".join(SIMULATE_REQUIRES) + ")")  # fmt: skip
    p.add_argument(
        "--policy",
        required=True,
        help="perfect, everyone_spinal, oracle, rules, logistic or boosted",
    )
    p.add_argument("--out", type=Path, required=True, help="outcomes file (.parquet or .csv)")
    p.add_argument("--visits", type=Path, default=None, help="also write the visits table here")
    p.add_argument("--seed", type=SEED, default=0, help="seed of the recovery draws (>= 0)")
    p.add_argument(
        "--dropout", type=float, default=None, help=f"share lost to follow-up (default {dropout:g})"
    )
    _add_input_options(p)
    p.set_defaults(handler=_run_simulate)


def _run_simulate(args: argparse.Namespace) -> int:
    from outcomes.engine.recovery import policy, simulate
    from outcomes.infra.io import check_destination, check_outputs, write_tables

    check_outputs({"--out": args.out, "--visits": args.visits}, {"--cohort": args.cohort})
    for out in (args.out, args.visits):
        if out is not None:
            check_destination(out)
    patients = _read_cohort(args.cohort, "cohort", args, require=SIMULATE_REQUIRES)
    pathways = policy(args.policy, patients, seed=args.seed)
    sim = simulate(
        patients, pathways, seed=args.seed, dropout=args.dropout, visits=args.visits is not None
    )
    tables = {args.out: sim.outcomes}
    if args.visits is not None:
        tables[args.visits] = sim.visits
    meta = {"policy": args.policy, "seed": args.seed, "cohort": args.cohort.name}
    write_tables(tables, metadata=meta)
    print(
        f"wrote outcomes of {len(sim.outcomes)} patients under policy '{args.policy}' to {args.out}"
    )
    return 0


# --------------------------------------------------------------------------------------------
# triage

TRIAGE_METHODS = ("rules", "logistic", "boosted", "oracle")
#: Triage methods that learn from --train (and so can be saved).
LEARNED_METHODS = ("logistic", "boosted")


def _add_triage(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "triage",
        help="evaluate a triage method on a test cohort: metric table with 95%% CIs",
        description="Fit a triage method (rules and the oracle learn nothing; logistic and "
        "boosted learn from --train) and print its metric table (accuracy, balanced accuracy, "
        "macro-F1, per-pathway sensitivity/specificity/PPV/NPV, with bootstrap 95% CIs) and "
        "red-flag safety on --test.",
        epilog="example: outcomes triage --model rules --test "
        "data/synthetic/default_cohort.parquet\n"
        "example: outcomes generate --n 20000 --seed 1 --out train.parquet && outcomes triage "
        "--model boosted --train train.parquet --test data/synthetic/default_cohort.parquet\n"
        "example: outcomes generate --n 200000 --seed 7 --chunk-size 50000 --out big/ && "
        "outcomes triage --engine dask --model rules --test big/",
    )
    p.add_argument("--model", choices=TRIAGE_METHODS, required=True, help="triage method")
    p.add_argument("--test", type=Path, required=True, help="patients to triage (with truth)")
    p.add_argument("--train", type=Path, default=None, help="training cohort (learned models)")
    p.add_argument("--n-boot", type=N_BOOT, default=1000,
                   help=f"bootstrap replicates (1 to {MAX_N_BOOT:,})")  # fmt: skip
    p.add_argument("--seed", type=SEED, default=0, help="seed of the bootstrap and the model")
    p.add_argument("--out", type=Path, default=None, help="also write the tidy metric table")
    p.add_argument("--save-model", type=Path, default=None,
                   help="save the fitted model (skops format, .skops)")  # fmt: skip
    p.add_argument("--load-model", type=Path, default=None,
                   help="a model saved with --save-model, not fitted on --train")  # fmt: skip
    p.add_argument("--engine", choices=("memory", "dask"), default="memory",
                   help="memory (default) reads --test whole; dask scores a partitioned "
                   "cohort (--test DIR/, from generate --out DIR/) partition by partition, "
                   "in bounded memory, with the same tables")  # fmt: skip
    p.add_argument("--predictions", type=Path, default=None, metavar="DIR",
                   help="--engine dask: folder for the assigned pathways (default: beside "
                   "--test, DIR_MODEL_predictions)")  # fmt: skip
    _add_input_options(p)
    p.set_defaults(handler=_run_triage)


N_BOOT = _whole(1, MAX_N_BOOT, " (the bootstrap keeps every replicate in memory)")
N_TRAIN = _whole(100, MAX_N_TRAIN, " (a larger synthetic training set needs several GB)")


def _add_input_options(p: argparse.ArgumentParser) -> None:
    """``--strict`` and ``--overrides``, for commands that read a cohort or a team's file."""
    p.add_argument("--strict", action="store_true",
                   help="make warnings about the input (a column that looks like a finding "
                   "but matches none; a cohort without recorded provenance) errors")  # fmt: skip
    p.add_argument("--overrides", type=_json_mapping, default=None,
                   help="for a generated cohort that does not record how it was made (a CSV): "
                   "the scenario overrides it was generated with, as JSON")  # fmt: skip


def _read_cohort(path: Path, what: str, args: argparse.Namespace | None = None,
                 **require: Any):  # fmt: skip
    """A cohort with the confirmed pathway, validated as a team's patients file is.

    A Parquet file written by ``outcomes generate`` keeps its setting and overrides (from the
    file's metadata) in the table's ``attrs``, as :func:`outcomes.engine.cohort.generate` records
    them: so the oracle of a cohort generated with ``--overrides`` uses that cohort's own case
    mix and missingness (:func:`outcomes.engine.cohort.generated_with`).
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
        _check_overrides(overrides)
        counts = patients["setting"].value_counts()
        setting = min(str(s) for s in counts.index[counts == counts.max()])
        record_generated_with(patients, setting, overrides)
    elif {"secondary_condition", "latent_severity"} <= set(patients.columns):
        message = (f"{path.name} looks like a generated cohort (it has the hidden columns) but "
                   "records no provenance (a CSV keeps none): the oracle assumes the setting's "
                   "own case mix and missingness; if it was generated with --overrides, give "
                   "the same --overrides here (or use the Parquet file)")  # fmt: skip
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


def _run_triage(args: argparse.Namespace) -> int:
    from outcomes.analysis import evaluate as ev
    from outcomes.engine.cohort import feature_columns
    from outcomes.infra.io import check_outputs

    check_outputs({"--out": args.out, "--save-model": args.save_model},
                  {"--test": args.test, "--train": args.train})  # fmt: skip
    if args.out is not None:
        from outcomes.infra.io import check_destination

        check_destination(args.out)  # fails before any work
    if args.save_model is not None:
        if args.model not in LEARNED_METHODS:
            raise CommandError(
                f"--save-model: only a fitted logistic or boosted model can be saved; "
                f"--model {args.model} learns nothing to save"
            )
        if args.save_model.is_dir():
            raise CommandError(f"--save-model {args.save_model} is a folder, not a file")
        from outcomes.infra.io import check_writable

        check_writable(args.save_model)
    if args.load_model is not None and args.model not in LEARNED_METHODS:
        raise CommandError(f"--load-model: --model {args.model} learns nothing to load")
    if args.load_model is not None and args.train is not None:
        raise CommandError("give --train (fit a model) or --load-model (a saved one), not both")
    if args.engine == "dask":
        return _run_triage_dask(args)
    if args.predictions is not None:
        raise CommandError("--predictions writes the dask engine's predictions: add --engine dask")
    test = _read_cohort(args.test, "test", args)
    if args.load_model is not None:
        from outcomes.triage.model_files import load_model

        method = load_model(args.load_model)
    elif args.model in LEARNED_METHODS:
        if args.train is None:
            raise CommandError(f"--model {args.model} needs --train (a cohort to learn from)")
        from outcomes.triage.models import fit_model

        training = _read_cohort(args.train, "training", args)
        method = fit_model(args.model, training, seed=args.seed)
    elif args.model == "rules":
        from outcomes.triage.rules import RulesTriage

        method = RulesTriage().fit(test[feature_columns()])
    else:
        from outcomes.triage.oracle import BayesOracle

        method = BayesOracle().fit(test)
    predicted = ev.predictions_of(method, test)
    metrics = ev.metric_table(test["pathway"], predicted, n_boot=args.n_boot, seed=args.seed)
    safety = ev.safety_table(test["pathway"], predicted, patients=test, n_boot=args.n_boot,
                             seed=args.seed)  # fmt: skip
    print(f"{args.model} on {len(test):,} patients of {args.test.name}\n")
    print(ev.format_metric_table(metrics.assign(method=args.model)).to_string())
    print()
    print(ev.format_safety_table(safety.assign(method=args.model)).T.to_string())
    if args.model != "rules":
        from outcomes.triage.rules import RulesTriage

        rules_pred = RulesTriage().fit(test[feature_columns()]).predict(test[feature_columns()])
        misses = ev.red_flag_misses(test["pathway"], predicted, test, rules_pred)
        warning = ev.red_flag_warning(args.model, misses)
        if warning is not None:
            print(f"\n{warning}")
    if args.out is not None:
        from outcomes.infra.io import write_table

        write_table(metrics.assign(method=args.model), args.out)
        print(f"\nwrote {args.out}")
    if args.save_model is not None:
        from outcomes.triage.model_files import save_model

        print(f"saved model to {save_model(method, args.save_model)}")
    return 0


def _run_triage_dask(args: argparse.Namespace) -> int:
    """``triage --engine dask``: a partitioned cohort scored out of core (triage.scoring)."""
    from outcomes.analysis import evaluate as ev
    from outcomes.engine.partitioned import is_partitioned, partition_paths
    from outcomes.triage.scoring import fit_on_head, predictions_folder, score_partitioned

    if not is_partitioned(args.test):
        raise CommandError(f"--engine dask: --test {args.test} is not a partitioned cohort (a "
                           "folder written by outcomes generate --out DIR/)")  # fmt: skip
    partition_paths(args.test)  # an incomplete cohort fails before any work
    out = args.predictions or predictions_folder(args.test, args.model)
    if out.exists() and not out.is_dir():
        raise CommandError(f"--predictions {out} is a file, not a folder")
    if args.load_model is not None:
        from outcomes.triage.model_files import load_model

        method = load_model(args.load_model)
    elif args.model in LEARNED_METHODS:
        if args.train is None:
            raise CommandError(f"--model {args.model} needs --train (a cohort to learn from) "
                               "or --load-model")  # fmt: skip
        from outcomes.triage.models import fit_model

        method = fit_model(args.model, _read_cohort(args.train, "training"), seed=args.seed)
    else:
        method = fit_on_head(args.model, args.test)
    result = score_partitioned(args.test, method, predictions=out, n_boot=args.n_boot,
                               seed=args.seed)  # fmt: skip
    print(f"{args.model} on {result.n:,} patients of {args.test.name} (dask, by partition)\n")
    print(ev.format_metric_table(result.metrics.assign(method=args.model)).to_string())
    print()
    print(ev.format_safety_table(result.safety.assign(method=args.model)).T.to_string())
    print(f"\nwrote predictions to {out}/")
    if args.out is not None:
        from outcomes.infra.io import write_table

        write_table(result.metrics.assign(method=args.model), args.out)
        print(f"wrote {args.out}")
    if args.save_model is not None:
        from outcomes.triage.model_files import save_model

        print(f"saved model to {save_model(method, args.save_model)}")
    return 0


# --------------------------------------------------------------------------------------------
# template, evaluate (a team's own data)


def _add_template(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "template",
        help="write a patients-file template (header and example rows) for your own data",
        description="Write a CSV (or Parquet) file with every column a team's patients file "
        "may have and a few example rows. Column meanings: docs/data_dictionary.md.",
        epilog="example: outcomes template --out my_patients.csv",
    )
    p.add_argument("--out", type=Path, required=True, help="file to write (.csv or .parquet)")
    p.add_argument("--n-examples", type=_whole(1, MAX_EXAMPLES), default=3,
                   help=f"example rows (1 to {MAX_EXAMPLES:,})")  # fmt: skip
    p.set_defaults(handler=_run_template)


def _run_template(args: argparse.Namespace) -> int:
    from outcomes.analysis.userdata import write_template
    from outcomes.infra.io import check_outputs

    check_outputs({"--out": args.out})
    print(f"wrote {write_template(args.out, args.n_examples)}")
    return 0


def _add_evaluate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="evaluate your own triage calls on your own patients, beside the rules and a model",
        description="Validate a team's patients file (with the confirmed pathway) and its "
        "triage calls, then print the metric table (95% CIs) and red-flag safety for the "
        "team's calls, the rules, and a boosted model trained on a synthetic cohort of the "
        "same setting; with p_<pathway> probabilities, also their Brier scores and "
        "calibration error. Files of millions of patients are read and triaged in bounded "
        "memory.",
        epilog="example: outcomes evaluate --data data/synthetic/demo_patients.csv "
        "--predictions data/synthetic/demo_predictions.csv --out metrics.csv",
    )
    p.add_argument("--data", type=Path, required=True, help="patients file (.csv or .parquet)")
    p.add_argument("--predictions", type=Path, required=True,
                   help="triage calls: patient_id, pathway[, p_<pathway> ...]")  # fmt: skip
    p.add_argument("--n-train", type=N_TRAIN, default=20_000,
                   help=f"synthetic training patients (100 to {MAX_N_TRAIN:,})")  # fmt: skip
    p.add_argument("--n-boot", type=N_BOOT, default=1000,
                   help=f"bootstrap replicates (1 to {MAX_N_BOOT:,})")  # fmt: skip
    p.add_argument("--seed", type=SEED, default=0, help="seed of the model and the bootstrap")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="also write the tidy tables: OUT (metrics), OUT_safety (red-flag safety) and, "
        "with probabilities, OUT_brier (Brier score, calibration error) and OUT_reliability "
        "(observed against predicted, by bin; removed when a run has no probabilities, if "
        "outcomes wrote it and it is unchanged); e.g. metrics.csv, metrics_safety.csv",
    )
    p.add_argument("--strict", action="store_true",
                   help="make a column that looks like a finding or red flag but matches none "
                   "an error (it is a warning)")  # fmt: skip
    p.set_defaults(handler=_run_evaluate)


def evaluate_outputs(out: Path, probabilities: bool) -> dict[str, Path]:
    """The files ``outcomes evaluate --out OUT`` writes, by table.

    Examples
    --------
    >>> {k: v.name for k, v in evaluate_outputs(Path("m.csv"), probabilities=False).items()}
    {'metrics': 'm.csv', 'safety': 'm_safety.csv'}
    """
    tables = ["metrics", "safety", *(["brier", "reliability"] if probabilities else [])]
    return {t: out if t == "metrics" else out.with_name(f"{out.stem}_{t}{out.suffix}")
            for t in tables}  # fmt: skip


def _run_evaluate(args: argparse.Namespace) -> int:
    from outcomes.analysis import evaluate as ev
    from outcomes.analysis.userdata import (
        PROBABILITY_PREFIX,
        compare_calls,
        probability_tables,
        read_patients,
        read_predictions,
        scoring_table,
    )
    from outcomes.engine.cohort import feature_columns
    from outcomes.infra.io import check_outputs, same_file

    if args.out is not None:
        from outcomes.infra.io import check_destination

        companions = evaluate_outputs(args.out, probabilities=True).items()
        outputs = {("--out" if table == "metrics" else f"--out's {table} table"): path
                   for table, path in companions}  # fmt: skip
        check_outputs(outputs, {"--data": args.data, "--predictions": args.predictions})
        for path in outputs.values():
            check_destination(path)  # a bad output name fails before any work
    if same_file(args.data, args.predictions):
        raise CommandError(f"--predictions {args.predictions} is the same file as --data: the "
                           "predictions must be your triage's calls")  # fmt: skip
    patients = read_patients(args.data, require_truth=True, strict=args.strict)
    predictions = read_predictions(args.predictions, patients)
    n, name = len(patients), args.data.name
    # Memory, for files of millions of patients: keep only what the next step reads.
    tables = {}
    probabilities = [c for c in predictions.columns if c.startswith(PROBABILITY_PREFIX)]
    if probabilities:
        brier, reliability = probability_tables(patients["pathway"], predictions)
        tables["brier"] = brier.assign(method="your triage")
        tables["reliability"] = reliability.assign(method="your triage")
        predictions = predictions.drop(columns=probabilities)
    for column in [c for c in patients.columns if c not in feature_columns() + ["pathway"]]:
        del patients[column]  # ids (matched already) and extra columns
    methods = compare_calls(patients, predictions, n_train=args.n_train, seed=args.seed)
    scored = scoring_table(patients)  # the same tables as from patients, in less memory
    del patients, predictions
    tables = {
        "metrics": ev.evaluate_methods(methods, scored, n_boot=args.n_boot, seed=args.seed),
        "safety": ev.safety_by_method(methods, scored, n_boot=args.n_boot, seed=args.seed),
        **tables,
    }
    print(f"{n:,} patients of {name}\n")
    print(ev.format_metric_table(tables["metrics"]).to_string())
    print()
    print(ev.format_safety_table(tables["safety"]).T.to_string())
    if probabilities:
        print("\nyour triage's probabilities (lower Brier score and calibration error are "
              "better):")  # fmt: skip
        print(tables["brier"].drop(columns="method").round(4).to_string(index=False))
    if args.out is not None:
        from outcomes.infra.io import write_tables

        paths = evaluate_outputs(args.out, probabilities=bool(probabilities))
        # Companions of an earlier run with probabilities go when this one has none.
        stale = [p for p in evaluate_outputs(args.out, probabilities=True).values()
                 if p not in paths.values()]  # fmt: skip
        written = write_tables({paths[name]: table for name, table in tables.items()},
                               remove=stale, record=True)  # fmt: skip
        print(f"\nwrote {', '.join(str(p) for p in written)}")
        for kept in [p for p in stale if p.exists()]:
            print(
                f"kept {kept}: an earlier table's name, but outcomes cannot prove it wrote "
                "this file (or it was changed since), so it is not this run's",
                file=sys.stderr,
            )
    return 0


# --------------------------------------------------------------------------------------------
# explain


def _add_explain(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explain",
        help="explain one patient's triage: the rule that fired, the oracle, a saved model",
        description="For one patient (a row of a cohort by id, or findings typed as JSON): "
        "which rule fired and on which recorded findings, the oracle's posterior over "
        "pathways and, with --model, a saved model's probabilities, side by side.",
        epilog="example: outcomes explain --cohort data/synthetic/default_cohort.parquet "
        "--id 20261122-00000007",
    )
    p.add_argument("--cohort", type=Path, default=None, help="patients file (.csv or .parquet)")
    p.add_argument("--id", default=None, help="patient_id of the row to explain (with --cohort)")
    p.add_argument(
        "--findings",
        default=None,
        help="the patient as a JSON object of column: value, or @FILE holding one (columns as "
        "in docs/data_dictionary.md; an exam sign or red flag left out is not recorded)",
    )
    p.add_argument("--model", type=Path, default=None, help="a model saved by outcomes triage")
    p.set_defaults(handler=_run_explain)


def _run_explain(args: argparse.Namespace) -> int:
    from outcomes.triage.explain import explain_patient, patient_from_findings, select_patient

    if (args.cohort is None) == (args.findings is None):
        raise CommandError("give either --cohort FILE --id ID, or --findings JSON")
    if args.cohort is not None:
        if args.id is None:
            raise CommandError("--cohort needs --id (the patient_id of the row to explain)")
        if not args.cohort.exists():
            raise CommandError(f"no such cohort file: {args.cohort}")
        from outcomes.analysis.userdata import read_patients
        from outcomes.engine.cohort import record_generated_with
        from outcomes.infra.io import read_metadata

        patients = read_patients(args.cohort)
        meta = read_metadata(args.cohort) if args.cohort.suffix.lower() == ".parquet" else {}
        if meta.get("generator") == "outcomes.cohort.generate":
            record_generated_with(patients, meta["setting"], meta.get("overrides") or {})
        patient = select_patient(patients, args.id)
    else:
        text = args.findings
        if text.startswith("@"):
            text = Path(text[1:]).read_text(encoding="utf-8")
        patient = patient_from_findings(text)
    model = None
    if args.model is not None:
        from outcomes.triage.model_files import load_model

        model = load_model(args.model)
    print(explain_patient(patient, model, model_name=args.model.stem if model else "model"))
    return 0


# --------------------------------------------------------------------------------------------
# study


def _add_study(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "study",
        help="run a simulation study: replicates of generate, fit, evaluate over a grid",
        description="Run R replicates of generate -> fit -> evaluate for every point of a "
        "parameter grid on Dask (a local cluster, one worker per core, or --scheduler), "
        "writing tidy results (replicate x method x metric) to --out as Parquet parts; an "
        "interrupted study resumes where it stopped. Each replicate's seeds are spawned from "
        "the study's seed, so results do not depend on scheduling. The "
        "spec format is in outcomes.analysis.study (docs: README, Simulation studies).",
        epilog="example: outcomes study --spec study.toml --out studies/x/\n"
        "example: outcomes study --spec study.toml --out studies/x/ --scheduler "
        "tcp://127.0.0.1:8786",
    )
    p.add_argument("--spec", type=Path, required=True, help="study spec (TOML)")
    p.add_argument("--out", type=Path, required=True, help="results folder")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="a running Dask scheduler (tcp://HOST:PORT); default: a new local "
                   "cluster")  # fmt: skip
    p.add_argument("--workers", type=int, default=None,
                   help="workers of the local cluster (default: one per core)")  # fmt: skip
    p.add_argument("--local", action="store_true",
                   help="run in this process, one replicate after another (no Dask)")  # fmt: skip
    p.set_defaults(handler=_run_study)


def _run_study(args: argparse.Namespace) -> int:
    from outcomes.analysis.study import read_spec, read_study, run_study, summarise

    if args.workers is not None and args.workers < 1:
        raise CommandError(f"--workers must be >= 1, got {args.workers}")
    if sum(x is not None and x is not False for x in (args.scheduler, args.workers,
                                                      args.local or None)) > 1:  # fmt: skip
        raise CommandError("give at most one of --scheduler, --workers and --local")
    spec = read_spec(args.spec)  # a bad spec fails before anything is written
    done = run_study(spec, args.out, scheduler=args.scheduler, workers=args.workers,
                     local=args.local)  # fmt: skip
    table = summarise(read_study(args.out)).round(3)
    print(table.to_string(index=False))
    kept = f"; {done.kept} kept from an earlier run" if done.kept else ""
    print(f"\nwrote {spec.replicates} replicates x {len(spec.points())} grid points to "
          f"{args.out}/ ({done.ran} blocks run{kept})")  # fmt: skip
    return 0


# --------------------------------------------------------------------------------------------
# validate

#: Exit code of ``outcomes validate`` when a figure that is not a documented known gap is missed.
EXIT_NOT_VALIDATED = 1


def _add_validate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate",
        help="check every published figure (targets, natural history, the trial) on synthetic "
        "patients",
        description="Check every published figure the suite is built against: diagnostic "
        "accuracy and case mix on a generated cohort per care setting, natural history, "
        "surgery, relapse and lasting harm on a simulated year, and the in-silico trials "
        "replayed many times at their published size. Prints one row per figure (its basis: "
        "calibrated, held-out published, or an input echoed back) and the misses with their "
        "reasons. Exit code 0 when every figure that is not a documented known gap is met, 1 "
        "otherwise, 2 on bad arguments.",
        epilog="example: outcomes validate --n 20000 --seed 0 --trials 200 --out validation.csv",
    )
    p.add_argument("--n", type=int, default=20_000, help="patients per care setting (>= 1)")
    p.add_argument("--seed", type=int, default=0, help="seed of cohorts, simulations, trials")
    p.add_argument("--trials", type=int, default=200,
                   help="simulated trials per published trial (>= 1)")  # fmt: skip
    p.add_argument("--out", type=Path, default=None,
                   help="also write the tidy table (.csv or .parquet)")  # fmt: skip
    p.set_defaults(handler=_run_validate)


def _run_validate(args: argparse.Namespace) -> int:
    for option, value, low in (("--n", args.n, 1), ("--trials", args.trials, 1),
                               ("--seed", args.seed, 0)):  # fmt: skip
        if value < low:
            raise CommandError(f"{option} must be >= {low}, got {value}")
    if args.out is not None:
        from outcomes.infra.io import check_destination
        from outcomes.knowledge import KNOWLEDGE_DIR

        if args.out.resolve().is_relative_to(KNOWLEDGE_DIR.resolve()):
            raise CommandError(
                f"--out {args.out} is inside the knowledge base ({KNOWLEDGE_DIR}); write the "
                "table elsewhere"
            )
        check_destination(args.out)  # fails before any work
    from outcomes.analysis.validation import validate, validation_passed
    from outcomes.captions.validation import (
        format_validation_table,
        miss_sentences,
        validation_caption,
    )

    table = validate(n=args.n, seed=args.seed, n_trials=args.trials)
    print(f"{len(table)} published figures checked on {args.n:,} patients per setting and "
          f"{args.trials} simulated trials (seed {args.seed})\n")  # fmt: skip
    print(format_validation_table(table).to_string())
    print(f"\n{validation_caption(table)}")
    for sentence in miss_sentences(table):
        print(f"- {sentence}")
    if args.out is not None:
        from outcomes.infra.io import write_table

        meta = {"command": "validate", "n": args.n, "seed": args.seed, "trials": args.trials}
        write_table(table, args.out, metadata=meta)
        print(f"\nwrote {args.out}")
    return 0 if validation_passed(table) else EXIT_NOT_VALIDATED


COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_generate,
    _add_datacard,
    _add_report,
    _add_simulate,
    _add_triage,
    _add_explain,
    _add_template,
    _add_evaluate,
    _add_study,
    _add_validate,
]


class _HelpFormatter(argparse.HelpFormatter):
    """Wraps descriptions as usual but keeps ``example:`` lines whole, so they can be copied."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("example"):
            return "\n".join(indent + line for line in text.splitlines())
        return super()._fill_text(text, width, indent)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = _Parser(
        prog="outcomes",
        description="Sciatica and its mimics: synthetic cohorts, triage and recovery timelines.",
    )
    parser.add_argument("--version", action="version", version=f"outcomes {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    for command in sub.choices.values():
        command.formatter_class = _HelpFormatter
    return parser


#: Markers around the generated CLI reference in README.md (``make readme`` rewrites it).
REFERENCE_START = "<!-- cli-reference:start (generated by `make readme`; do not edit) -->"
REFERENCE_END = "<!-- cli-reference:end -->"


def reference_markdown(width: int = 100) -> str:
    """Markdown reference of every subcommand: its ``--help`` text, which ends with an example.

    Help is formatted at a fixed ``width`` so the text does not depend on the terminal.

    Examples
    --------
    >>> text = reference_markdown()
    >>> "### `outcomes generate`" in text and "example: outcomes generate" in text
    True
    """
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)  # argparse sizes its help to the terminal
    try:
        parser = build_parser()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parts = ["```text", parser.format_help().rstrip(), "```"]
        for name, command in sub.choices.items():
            parts += ["", f"### `outcomes {name}`", "", "```text", command.format_help().rstrip(),
                      "```"]  # fmt: skip
    finally:
        if saved is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved
    return "\n".join(parts) + "\n"


def replace_reference(readme: str) -> str:
    """``readme`` with the text between the reference markers replaced by a fresh reference.

    Examples
    --------
    >>> doc = "\\n".join(["intro", REFERENCE_START, "STALE", REFERENCE_END, "end"])
    >>> new = replace_reference(doc)
    >>> new.startswith("intro") and new.endswith("end") and "STALE" not in new
    True
    """
    start, end = readme.find(REFERENCE_START), readme.find(REFERENCE_END)
    if start < 0 or end < start:
        raise ValueError("README has no CLI reference markers")
    head = readme[: start + len(REFERENCE_START)]
    return f"{head}\n{reference_markdown()}{readme[end:]}"


def _one_line(exc: BaseException) -> str:
    """The first line of an error's message; a system error as ``FILE: what went wrong``."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        text = f"{exc.filename}: {exc.strerror}"
    else:
        text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``outcomes`` command; returns the exit code.

    A bad argument or bad input prints one line, ``outcomes COMMAND: error: ...``, on
    stderr and returns 2, having written nothing; Ctrl-C prints one line and returns 130,
    leaving every file whole (writes are atomic); ``--debug`` shows the traceback instead.

    Examples
    --------
    >>> main(["generate", "--n", "0", "--seed", "1", "--out", "x.parquet"])
    2
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (already printed)
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    with _terminate_like_interrupt(), warnings.catch_warnings():
        _one_line_warnings(args.command)
        return _run(args)


@contextlib.contextmanager
def _terminate_like_interrupt():
    """SIGTERM (sent by ``timeout``, containers, service managers) unwinds like Ctrl-C while
    a command runs; the previous handler is restored after."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum, frame):
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _one_line_warnings(command: str) -> None:
    """Warnings about a user's input (:class:`outcomes.analysis.userdata.InputWarning`) as one line
    each on stderr: ``outcomes COMMAND: warning: ...``."""
    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if category.__name__ == "InputWarning":
            print(f"outcomes {command}: warning: {message}", file=sys.stderr)
        else:
            default(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    warnings.simplefilter("always", UserWarning)  # each run shows its own warnings


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args.handler(args) or 0)
    except BrokenPipeError:
        # The reader of stdout went away (`outcomes triage ... | head`): not an error of ours
        # to report. Exit as a program stopped by SIGPIPE would, silencing further output.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except (CommandError, ValueError, OSError) as exc:
        if args.debug:
            raise
        print(f"outcomes {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt as exc:
        if args.debug:
            raise
        # True of every command: each file is renamed into place only once complete.
        what = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
        print(f"outcomes {args.command}: {what}; nothing partial was written (files are "
              "replaced whole or not at all)", file=sys.stderr)  # fmt: skip
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
