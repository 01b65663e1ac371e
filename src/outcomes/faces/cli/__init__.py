"""The ``outcomes`` command line: one subcommand per verb of the project.

Every subcommand turns a bad argument or bad input into one line on stderr and exit code 2,
writes no partial output, and shows the traceback only with ``--debug``.

The subcommands live in modules by group, each registering its parsers (``SUBCOMMANDS``):
:mod:`~outcomes.faces.cli.data` (generate, datacard, template),
:mod:`~outcomes.faces.cli.triage` (triage, explain, evaluate),
:mod:`~outcomes.faces.cli.recovery` (simulate), :mod:`~outcomes.faces.cli.study` (study,
validate) and :mod:`~outcomes.faces.cli.report` (report); :mod:`~outcomes.faces.cli.parser`
assembles them in the order ``--help`` lists them, :mod:`~outcomes.faces.cli.common` holds
what they share, and :mod:`~outcomes.faces.cli.reference` writes the README's CLI reference.

Imports inside the subcommands' runners (``_run_NAME``) are deliberate: numpy, pandas,
scikit-learn, papermill and Dask load only when a subcommand that needs them runs, so
``outcomes --help`` answers at once and a missing optional extra fails only the command that
needs it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import warnings
from collections.abc import Sequence

from outcomes.faces.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_BROKEN_PIPE,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    CommandError,
    Terminated,
)
from outcomes.faces.cli.parser import COMMANDS, build_parser
from outcomes.faces.cli.recovery import SIMULATE_REQUIRES
from outcomes.faces.cli.reference import (
    REFERENCE_END,
    REFERENCE_START,
    reference_markdown,
    replace_reference,
)
from outcomes.faces.cli.study import EXIT_NOT_VALIDATED
from outcomes.faces.cli.triage import evaluate_outputs

__all__ = [
    "COMMANDS",
    "EXIT_BAD_INPUT",
    "EXIT_BROKEN_PIPE",
    "EXIT_INTERRUPTED",
    "EXIT_NOT_VALIDATED",
    "EXIT_TERMINATED",
    "REFERENCE_END",
    "REFERENCE_START",
    "SIMULATE_REQUIRES",
    "CommandError",
    "Terminated",
    "build_parser",
    "evaluate_outputs",
    "main",
    "reference_markdown",
    "replace_reference",
]


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

    Parameters
    ----------
    argv
        The arguments after ``outcomes`` (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code: 0 on success, 2 on bad input, 130 after Ctrl-C, 143 after SIGTERM,
        141 when stdout's reader went away; ``validate`` returns 1 when a figure is missed.

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
        print(
            f"outcomes {args.command}: {what}; nothing partial was written (files are "
            "replaced whole or not at all)",
            file=sys.stderr,
        )
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
