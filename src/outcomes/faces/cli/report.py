"""The ``report`` subcommand: every notebook executed and rendered as an HTML report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from outcomes.faces.cli.common import CommandError
from outcomes.faces.report_options import REPORT_OPTIONS


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


#: Packages of the ``report`` extra (``pip install 'outcomes[report]'``).
REPORT_EXTRA = ("papermill", "nbconvert", "ipykernel")


def _run_report(args: argparse.Namespace) -> int:
    import importlib.util

    missing = [name for name in REPORT_EXTRA if importlib.util.find_spec(name) is None]
    if missing:
        raise CommandError(
            f"the report needs {', '.join(missing)}, which are not installed: "
            "pip install 'outcomes[report]' (or make venv)"
        )
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


#: The subcommands of this module, by name.
SUBCOMMANDS = {"report": _add_report}
