"""Subcommands over many runs: ``study`` (a simulation study on Dask) and ``validate`` (every
published figure checked on synthetic patients)."""

from __future__ import annotations

import argparse
from pathlib import Path

from outcomes.faces.cli.common import CommandError


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
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="a running Dask scheduler (tcp://HOST:PORT); default: a new local cluster",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="workers of the local cluster (default: one per core)",
    )
    p.add_argument(
        "--local",
        action="store_true",
        help="run in this process, one replicate after another (no Dask)",
    )
    p.set_defaults(handler=_run_study)


def _run_study(args: argparse.Namespace) -> int:
    from outcomes.analysis.study import read_spec, read_study, run_study, summarise

    if args.workers is not None and args.workers < 1:
        raise CommandError(f"--workers must be >= 1, got {args.workers}")
    if (
        sum(
            x is not None and x is not False
            for x in (args.scheduler, args.workers, args.local or None)
        )
        > 1
    ):
        raise CommandError("give at most one of --scheduler, --workers and --local")
    spec = read_spec(args.spec)  # a bad spec fails before anything is written
    done = run_study(
        spec, args.out, scheduler=args.scheduler, workers=args.workers, local=args.local
    )
    table = summarise(read_study(args.out)).round(3)
    print(table.to_string(index=False))
    kept = f"; {done.kept} kept from an earlier run" if done.kept else ""
    print(
        f"\nwrote {spec.replicates} replicates x {len(spec.points())} grid points to "
        f"{args.out}/ ({done.ran} blocks run{kept})"
    )
    return 0


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
    p.add_argument(
        "--trials", type=int, default=200, help="simulated trials per published trial (>= 1)"
    )
    p.add_argument(
        "--out", type=Path, default=None, help="also write the tidy table (.csv or .parquet)"
    )
    p.set_defaults(handler=_run_validate)


def _run_validate(args: argparse.Namespace) -> int:
    for option, value, low in (
        ("--n", args.n, 1),
        ("--trials", args.trials, 1),
        ("--seed", args.seed, 0),
    ):
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
    print(
        f"{len(table)} published figures checked on {args.n:,} patients per setting and "
        f"{args.trials} simulated trials (seed {args.seed})\n"
    )
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


#: The subcommands of this module, by name.
SUBCOMMANDS = {"study": _add_study, "validate": _add_validate}
