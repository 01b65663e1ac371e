"""The ``outcomes`` argument parser: every subcommand registered, in the order ``--help`` lists
them.

Adding a subcommand: in the module of its group, write ``_add_NAME(subparsers)`` that registers
the parser with ``set_defaults(handler=...)``, list it in that module's ``SUBCOMMANDS``, and add
its name to :data:`ORDER`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import NoReturn

from outcomes import __version__
from outcomes.faces.cli.common import EXIT_BAD_INPUT
from outcomes.faces.cli.data import SUBCOMMANDS as DATA_COMMANDS
from outcomes.faces.cli.recovery import SUBCOMMANDS as RECOVERY_COMMANDS
from outcomes.faces.cli.report import SUBCOMMANDS as REPORT_COMMANDS
from outcomes.faces.cli.study import SUBCOMMANDS as STUDY_COMMANDS
from outcomes.faces.cli.triage import SUBCOMMANDS as TRIAGE_COMMANDS


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (``outcomes CMD: error: ...``);
    ``--help`` shows the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")

    def parse_args(self, args=None, namespace=None):
        # Unknown options are found by the top parser; name the subcommand they were given to.
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            command = getattr(parsed, "command", None)
            prog = f"{self.prog} {command}" if command else self.prog
            self.exit(
                EXIT_BAD_INPUT, f"{prog}: error: unrecognized arguments: {' '.join(extras)}\n"
            )
        return parsed


#: Subcommands in the order ``outcomes --help`` lists them.
ORDER = (
    "generate",
    "datacard",
    "report",
    "simulate",
    "triage",
    "explain",
    "template",
    "evaluate",
    "study",
    "validate",
)
_REGISTRARS = {
    **DATA_COMMANDS,
    **RECOVERY_COMMANDS,
    **REPORT_COMMANDS,
    **STUDY_COMMANDS,
    **TRIAGE_COMMANDS,
}
#: The function registering each subcommand's parser, in :data:`ORDER`.
COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [_REGISTRARS[n] for n in ORDER]


class _HelpFormatter(argparse.HelpFormatter):
    """Wraps descriptions as usual but keeps ``example:`` lines whole, so they can be copied."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("example"):
            return "\n".join(indent + line for line in text.splitlines())
        return super()._fill_text(text, width, indent)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``outcomes``, with every subcommand of :data:`COMMANDS` registered.

    Returns
    -------
    argparse.ArgumentParser
        A parser whose usage errors are one line and exit code 2; each parsed subcommand
        carries its runner as ``handler``.

    Examples
    --------
    >>> args = build_parser().parse_args(["datacard", "--cohort", "c.parquet", "--out", "d.md"])
    >>> args.command, args.handler.__name__
    ('datacard', '_run_datacard')
    """
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
