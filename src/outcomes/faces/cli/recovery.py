"""The ``simulate`` subcommand: recovery of a cohort under one triage policy."""

from __future__ import annotations

import argparse
from pathlib import Path

from outcomes.engine.recovery_file import recovery_settings
from outcomes.faces.cli.common import (
    SEED,
    add_input_options,
    read_cohort,
)

#: What simulating recovery reads beyond a team's required columns: the truth and a generated
#: cohort's hidden columns (the confirmed pathway follows from the condition).
SIMULATE_REQUIRES = ("condition", "secondary_condition", "latent_severity")


def _add_simulate(sub: argparse._SubParsersAction) -> None:
    settings = recovery_settings()  # validated, and cheap: no numpy import for --help
    weeks, dropout = settings["follow_up_weeks"], settings["dropout"]
    p = sub.add_parser(
        "simulate",
        help=f"simulate {weeks} weeks of recovery for a cohort under one triage policy",
        description="Triage a cohort with a policy, simulate weekly pain and disability, and "
        "write the outcomes table (and optionally the long visits table) atomically.",
        epilog="example: outcomes simulate --cohort data/synthetic/default_cohort.parquet "
        "--policy rules --out outcomes.parquet",
    )
    p.add_argument(
        "--cohort",
        type=Path,
        required=True,
        help="patients table, Parquet or CSV, with the truth and the hidden columns "
        "of a generated cohort (" + ", ".join(SIMULATE_REQUIRES) + ")",
    )
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
    add_input_options(p)
    p.set_defaults(handler=_run_simulate)


def _run_simulate(args: argparse.Namespace) -> int:
    from outcomes.engine.recovery import simulate
    from outcomes.infra.io import check_destination, check_outputs, write_tables
    from outcomes.triage.policies import policy

    check_outputs({"--out": args.out, "--visits": args.visits}, {"--cohort": args.cohort})
    for out in (args.out, args.visits):
        if out is not None:
            check_destination(out)
    patients = read_cohort(args.cohort, "cohort", args, require=SIMULATE_REQUIRES)
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


#: The subcommands of this module, by name.
SUBCOMMANDS = {"simulate": _add_simulate}
