"""Atomic writes: a temporary file beside the target, renamed into place only when complete.

An interrupted or failed write leaves any previous file untouched and never a partial one. A
process killed outright (``kill -9``, power loss) cannot remove its temporary file. Such
files are named ``.<target>.partial-<pid>-<random>`` (ignored by git), and the next successful
write to the same target removes those whose process no longer runs
(:func:`remove_stale_partials`).
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from outcomes.infra.destinations import (
    PARTIAL_MARK,
    check_not_special,
    check_writable,
    partial_name,
    short_name,
)

#: Error numbers of a full disk or quota.
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    Raises IsADirectoryError at once if ``path`` is a folder. After the rename, temporaries
    of earlier writes to ``path`` whose process is gone are removed
    (:func:`remove_stale_partials`).

    Parameters
    ----------
    path
        The file to write.

    Returns
    -------
    contextlib.AbstractContextManager of pathlib.Path
        A context manager giving the temporary path to write.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text(), [p.name for p in target.parent.iterdir()]
    ('done', ['out.txt'])
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(path))
    check_not_special(path)
    if path.is_symlink():
        # A link to a file: replace the file it names and keep the link (renaming onto the
        # link itself would turn it into a regular file).
        path = Path(os.path.realpath(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=partial_name(path), dir=path.parent)
    except OSError:
        check_writable(path)  # names the target and says why, not the temporary file
        raise
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        try:
            yield tmp
        except OSError as exc:
            if exc.errno in _DISK_FULL or "No space left" in str(exc):
                # Name the file the user asked for, not the temporary (or nothing).
                code = exc.errno if exc.errno in _DISK_FULL else errno.ENOSPC
                raise OSError(
                    code,
                    f"{os.strerror(code)} while writing it; nothing was "
                    "written (any previous file is unchanged)",
                    str(path),
                ) from None
            raise
        # mkstemp creates the file private (0600); give it the mode a plain open() would.
        if tmp.exists():
            os.chmod(tmp, 0o666 & ~_current_umask())
            _fsync(tmp)
        os.replace(tmp, path)
        _fsync_folder(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    remove_stale_partials(path)


def remove_stale_partials(path: str | Path) -> list[Path]:
    """Remove the temporaries left beside ``path`` by writers that no longer run.

    Only names of the form ``.<name>.partial-<pid>-<random>`` are considered, and only those
    whose process id is not running on this machine: a write in progress elsewhere in this
    machine is never disturbed. Files and folders are both removed.

    Returns
    -------
    list of Path
        What was removed.

    Parameters
    ----------
    path
        The target whose leftover temporaries are removed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / ".x.csv.partial-999999999-abc").write_text("half a table")
    >>> [p.name for p in remove_stale_partials(folder / "x.csv")]
    ['.x.csv.partial-999999999-abc']
    """
    path = Path(path)
    stem = f".{short_name(path.name)}{PARTIAL_MARK}"
    removed = []
    for candidate in sorted(path.parent.glob(glob.escape(stem) + "*")):
        pid, dash, _ = candidate.name[len(stem) :].partition("-")
        if not (pid.isdigit() and dash) or process_running(int(pid)):
            continue
        with contextlib.suppress(FileNotFoundError):
            if candidate.is_dir() and not candidate.is_symlink():
                shutil.rmtree(candidate)
            else:
                candidate.unlink()
            removed.append(candidate)
    return removed


def process_running(pid: int) -> bool:
    """Whether process ``pid`` runs here (unknowable off POSIX: then assume it does).

    A temporary left by a process that still runs is its work in progress, never removed.

    Parameters
    ----------
    pid
        A process id.

    Returns
    -------
    bool

    Examples
    --------
    >>> process_running(os.getpid())
    True
    """
    if os.name != "posix" or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process (or an id no process can have: keep it)
    return True


def _fsync(path: Path) -> None:
    """Flush a finished temporary file to the disk before it is renamed into place: the
    rename then never makes visible a file whose data a power loss could still lose."""
    if path.is_dir():
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    """Flush a folder's entries (the rename itself); not possible everywhere (Windows)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
