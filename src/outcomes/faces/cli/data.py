"""Subcommands that write data: ``generate`` (a synthetic cohort), ``datacard`` (its data card)
and ``template`` (a patients-file template for a team's own data)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from outcomes.faces.cli.common import (
    MAX_EXAMPLES,
    MAX_N,
    MAX_WORKERS,
    SEED,
    CommandError,
    check_overrides,
    json_mapping,
    whole_number,
)

#: Fewest bytes per patient a generated file takes (measured: Parquet 21.6, CSV 317); the
#: disk check of ``generate`` refuses only what surely cannot fit.
BYTES_PER_PATIENT = {"parquet": 15, "csv": 250}


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
    p.add_argument(
        "--out",
        required=True,
        help="output file (.parquet or .csv), or folder (ending in /) for a partitioned cohort",
    )
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
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="partitioned cohorts: draw the partitions on this Dask scheduler's "
        "workers (tcp://HOST:PORT; the folder must be shared with them)",
    )
    p.add_argument(
        "--overrides",
        type=json_mapping,
        default={},
        help="scenario overrides as JSON, e.g. '{\"exam_missing_rate\": 0.6}'",
    )
    p.set_defaults(handler=_run_generate)


def _run_generate_partitioned(args: argparse.Namespace) -> int:
    from outcomes.engine.partitioned import DEFAULT_PARTITION_ROWS, write_partitioned

    if args.format not in (None, "parquet"):
        raise CommandError(
            f"--format {args.format}: a partitioned cohort (--out {args.out}/) "
            "is written as Parquet only"
        )
    if args.scheduler is not None and args.workers != 1:
        raise CommandError("give --workers or --scheduler, not both")
    chunk = DEFAULT_PARTITION_ROWS if args.chunk_size is None else args.chunk_size
    done = write_partitioned(
        args.out,
        args.n,
        args.seed,
        args.setting,
        chunk_size=chunk,
        workers=args.workers,
        scheduler=args.scheduler,
        **args.overrides,
    )
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
    check_overrides(args.overrides)
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


def _add_template(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "template",
        help="write a patients-file template (header and example rows) for your own data",
        description="Write a CSV (or Parquet) file with every column a team's patients file "
        "may have and a few example rows. Column meanings: docs/data_dictionary.md.",
        epilog="example: outcomes template --out my_patients.csv",
    )
    p.add_argument("--out", type=Path, required=True, help="file to write (.csv or .parquet)")
    p.add_argument(
        "--n-examples",
        type=whole_number(1, MAX_EXAMPLES),
        default=3,
        help=f"example rows (1 to {MAX_EXAMPLES:,})",
    )
    p.set_defaults(handler=_run_template)


def _run_template(args: argparse.Namespace) -> int:
    from outcomes.analysis.userdata import write_template
    from outcomes.infra.io import check_outputs

    check_outputs({"--out": args.out})
    print(f"wrote {write_template(args.out, args.n_examples)}")
    return 0


#: The subcommands of this module, by name.
SUBCOMMANDS = {"generate": _add_generate, "datacard": _add_datacard, "template": _add_template}
