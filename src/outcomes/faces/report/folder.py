"""The report folder replaced as a whole: never partial, never deleting what a report did not
write, and put right after a run killed half-way."""

from __future__ import annotations

import json
import os
import secrets
import shutil
from glob import escape as glob_escape
from pathlib import Path

from outcomes.faces.report.render import MANIFEST_NAME
from outcomes.infra.io import (
    partial_name,
    process_running,
    remove_stale_partials,
)

#: Marks a previous report moved aside while the new one is renamed into place:
#: ``.<report folder>.previous-<pid>-<random>`` (see :func:`recover_interrupted_replacement`).
PREVIOUS_MARK = ".previous-"


def check_replaceable(out_dir: Path) -> None:
    """Refuse to replace ``out_dir`` unless it is absent, empty, or a previous report's own files.

    Parameters
    ----------
    out_dir
        The report folder a run will replace.

    Returns
    -------
    None

    Raises
    ------
    FileExistsError
        If ``out_dir`` is a file, or a folder holding anything but the files its
        ``manifest.json`` lists as written by a report (nothing is ever deleted that a report
        did not write).

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> check_replaceable(folder)
    >>> _ = (folder / "notes.txt").write_text("mine")
    >>> check_replaceable(folder)
    Traceback (most recent call last):
    FileExistsError: report folder ... is not empty and holds no report written by outcomes ...
    """
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise FileExistsError(f"report folder {out_dir} exists and is not a folder")
    present = sorted(p.name for p in out_dir.iterdir())
    if not present:
        return
    try:
        manifest = json.loads((out_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
        written = set(manifest["files"]) if manifest.get("package") == "outcomes" else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        written = None
    if written is None:
        raise FileExistsError(
            f"report folder {out_dir} is not empty and holds no report written by outcomes "
            f"(a {MANIFEST_NAME} listing its files); refusing to replace it: choose another "
            "--out, or empty the folder"
        )
    foreign = [name for name in present if name not in written]
    if foreign:
        raise FileExistsError(
            f"report folder {out_dir} holds {foreign[0]!r}, which no report wrote; refusing to "
            "replace it (and delete that file): move it, or choose another --out"
        )


def replace_folder(staging: Path, target: Path) -> None:
    """Rename ``staging`` onto ``target``, removing a previous ``target`` only afterwards.

    A process killed part-way leaves nothing the next run cannot put right
    (:func:`recover_interrupted_replacement`): between the two renames, the previous report
    waits, complete, under a ``.previous-`` name; it is renamed to a temporary (``.partial-``)
    name before it is deleted, so a half-deleted folder is never taken for a report.

    Parameters
    ----------
    staging
        The complete new report.
    target
        The report folder; a previous report there must pass :func:`check_replaceable`.

    Returns
    -------
    None

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "new").mkdir()
    >>> _ = (root / "new" / "index.html").write_text("hi")
    >>> replace_folder(root / "new", root / "report")
    >>> sorted(p.name for p in root.iterdir()), (root / "report" / "index.html").read_text()
    (['report'], 'hi')
    """
    check_replaceable(target)
    if not target.exists():
        os.replace(staging, target)
        return
    previous = target.with_name(
        f".{target.name}{PREVIOUS_MARK}{os.getpid()}-{secrets.token_hex(4)}"
    )
    os.replace(target, previous)
    try:
        os.replace(staging, target)
    except BaseException:
        os.replace(previous, target)
        raise
    discard = target.with_name(f"{partial_name(target)}old-{secrets.token_hex(4)}")
    os.replace(previous, discard)
    shutil.rmtree(discard)


def recover_interrupted_replacement(target: str | Path) -> list[Path]:
    """Put right what a run killed while replacing the report folder ``target`` left behind.

    Killed between moving the previous report aside and renaming the new one into place, a
    run leaves no report at ``target`` and the previous one under
    ``.<name>.previous-<pid>-<random>``: it is renamed back (the newest, if several). Killed
    while deleting the previous report (or while building its own), it leaves folders that
    are removed: other ``.previous-`` folders once ``target`` exists, and the temporaries of
    :func:`outcomes.infra.io.remove_stale_partials`. Only leftovers of processes that no longer run
    are touched, so a run in progress elsewhere on this machine is never disturbed.

    Parameters
    ----------
    target
        The report folder.

    Returns
    -------
    list of Path
        The folders restored (first, if any) or removed.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> (folder / ".run.previous-999999999-ab12").mkdir()
    >>> [p.name for p in recover_interrupted_replacement(folder / "run")]
    ['.run.previous-999999999-ab12']
    >>> sorted(p.name for p in folder.iterdir())
    ['run']
    """
    target = Path(target)
    stem = f".{target.name}{PREVIOUS_MARK}"
    stale = []
    for candidate in target.parent.glob(glob_escape(stem) + "*"):
        pid, dash, _ = candidate.name[len(stem) :].partition("-")
        if pid.isdigit() and dash and candidate.is_dir() and not process_running(int(pid)):
            stale.append(candidate)
    # Newest first: the report moved aside last is the one that was at the target last.
    stale.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    handled = []
    if stale and not target.exists():
        os.replace(stale[0], target)
        handled.append(stale.pop(0))
    for leftover in stale:
        shutil.rmtree(leftover, ignore_errors=True)
        handled.append(leftover)
    return handled + remove_stale_partials(target)
