"""Reading and writing tables: atomic, deterministic, Parquet (pyarrow) or CSV.

Every write goes to a temporary file in the destination folder and is renamed into place only
when complete, so an interrupted or failed write leaves any previous file untouched and never
a partial one. Parquet files carry no timestamps, so the same table gives the same bytes.

A process killed outright (``kill -9``, power loss) cannot remove its temporary file. Such
files are named ``.<target>.partial-<pid>-<random>`` (ignored by git), and the next successful
write to the same target removes those whose process no longer runs
(:func:`remove_stale_partials`).
"""

from __future__ import annotations

import contextlib
import errno
import glob
import hashlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

FORMATS = ("parquet", "csv")
FORMAT_NAMES = {"parquet": "Parquet", "csv": "CSV"}
#: Marks a temporary file or folder beside its target: ``.<target>.partial-<pid>-<random>``.
PARTIAL_MARK = ".partial-"
#: Parquet rows per row group, whatever the sizes of the chunks written.
ROW_GROUP_ROWS = 65_536
#: Key under which generation parameters are stored in a Parquet file's metadata.
METADATA_KEY = b"outcomes"


#: Error numbers of a full disk or quota.
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


#: File suffixes (lower case, without the dot) that name a format.
SUFFIX_FORMATS = {"parquet": "parquet", "pq": "parquet", "csv": "csv"}


def suffix_format(path: str | Path) -> str | None:
    """The format a file name's suffix names (any case), or None if it names none.

    Parameters
    ----------
    path : str or pathlib.Path
        A file name or path.

    Returns
    -------
    str or None
        ``"parquet"``, ``"csv"`` or None.

    Examples
    --------
    >>> suffix_format("cohort.PQ"), suffix_format("cohort.data")
    ('parquet', None)
    """
    return SUFFIX_FORMATS.get(Path(path).suffix.lower().lstrip("."))


def infer_format(path: str | Path, fmt: str | None = None) -> str:
    """The table format: ``fmt`` if given, else from the file suffix.

    A ``fmt`` that contradicts a suffix naming a format (CSV text into ``x.parquet``) is an
    error, not a choice.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    fmt : {"parquet", "csv"}, optional
        The format asked for.

    Returns
    -------
    str
        ``"parquet"`` or ``"csv"``.

    Examples
    --------
    >>> infer_format("cohort.csv")
    'csv'
    >>> infer_format("cohort.data", "parquet")
    'parquet'
    >>> infer_format("cohort.parquet", "csv")
    Traceback (most recent call last):
    ValueError: format 'csv' contradicts the suffix of 'cohort.parquet' (a Parquet name)...
    """
    named = suffix_format(path)
    if fmt is not None:
        if fmt not in FORMATS:
            raise ValueError(f"format {fmt!r} is unknown; choose one of: {', '.join(FORMATS)}")
        if named is not None and named != fmt:
            raise ValueError(
                f"format {fmt!r} contradicts the suffix of {Path(path).name!r} (a "
                f"{FORMAT_NAMES[named]} name); name the file .{fmt} or write {named}"
            )
        return fmt
    if named is None:
        raise ValueError(f"cannot tell the format of {str(path)!r} from its suffix; use .parquet "
                         "or .csv")  # fmt: skip
    return named


def check_destination(path: str | Path, fmt: str | None = None) -> str:
    """Fail early, before any work, if ``path`` cannot receive a table; return its format.

    The path must not be a folder, its format must be known (:func:`infer_format`), and a
    file must be creatable beside it (:func:`check_writable`).

    Parameters
    ----------
    path : str or pathlib.Path
        The output file.
    fmt : {"parquet", "csv"}, optional
        The format; by default from the suffix.

    Returns
    -------
    str
        The format.

    Examples
    --------
    >>> import tempfile
    >>> check_destination("out/metrics.csv")
    'csv'
    >>> check_destination(tempfile.mkdtemp() + "/")
    Traceback (most recent call last):
    IsADirectoryError: [Errno 21] is a folder, not a file: '...'
    """
    if Path(path).is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(path))
    check_not_special(path)
    fmt = infer_format(path, fmt)
    check_writable(path)
    return fmt


#: Kinds of file an output path may name that are not regular files, by ``stat`` test.
SPECIAL_KINDS = {
    "a character device": stat.S_ISCHR,
    "a block device": stat.S_ISBLK,
    "a FIFO (named pipe)": stat.S_ISFIFO,
    "a socket": stat.S_ISSOCK,
}


def special_kind(path: str | Path) -> str | None:
    """What ``path`` (symbolic links followed) is when it is neither a regular file nor a
    folder, e.g. ``"a character device"``; None when it is one of those or does not exist.

    Parameters
    ----------
    path : str or pathlib.Path
        Any path.

    Returns
    -------
    str or None
        A description of the kind of file.

    Examples
    --------
    >>> special_kind("/dev/null"), special_kind("/no/such/file")
    ('a character device', None)
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    return next((kind for kind, test in SPECIAL_KINDS.items() if test(mode)), None)


def check_not_special(path: str | Path, label: str | None = None) -> None:
    """Refuse an output ``path`` that names (or links to) a device, FIFO or socket.

    Outputs are written to a temporary file and renamed into place, which would replace
    ``/dev/null`` or a named pipe with a regular file; such paths are refused instead.

    Parameters
    ----------
    path : str or pathlib.Path
        The output path.
    label : str, optional
        How the message names it (e.g. ``"--out"``).

    Examples
    --------
    >>> check_not_special("/dev/null", "--out")
    Traceback (most recent call last):
    ValueError: --out /dev/null is a character device, not a regular file; outcomes writes files...
    """
    kind = special_kind(path)
    if kind is not None:
        shown = f"{label} {path}" if label else str(path)
        raise ValueError(f"{shown} is {kind}, not a regular file; outcomes writes files whole "
                         "(renaming a finished file into place) and will not replace it: give "
                         "a file name")  # fmt: skip


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one file: after resolving symbolic links, ``..`` and relative
    parts, or as hard links to one inode.

    Parameters
    ----------
    a, b : str or pathlib.Path
        Two paths (either may not exist).

    Returns
    -------
    bool
        True when they name one file.

    Examples
    --------
    >>> same_file("data/../data/x.csv", "data/x.csv"), same_file("a.csv", "b.csv")
    (True, False)
    """
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): then they are not one file
        return False


def check_outputs(
    outputs: Mapping[str, str | Path | None], inputs: Mapping[str, str | Path | None] = {}
) -> None:
    """Refuse, before any work, outputs that would destroy an input or each other.

    The one check every command makes on its file arguments: an output that is one of the
    command's inputs (resolving symbolic links, relative paths and hard links), two outputs
    that are one file, and an output naming a device, FIFO or socket
    (:func:`check_not_special`) are refused with a message naming both arguments.

    Parameters
    ----------
    outputs, inputs
        Argument label (e.g. ``"--out"``) -> path; ``None`` values (options not given) are
        skipped.

    Raises
    ------
    ValueError
        Naming the arguments and the path.

    Examples
    --------
    >>> check_outputs({"--out": "c.parquet"}, {"--cohort": "data/../c.parquet"})
    Traceback (most recent call last):
    ValueError: --out c.parquet is the same file as --cohort data/../c.parquet: writing it...
    >>> check_outputs({"--out": "x.csv", "--visits": "x.csv"})
    Traceback (most recent call last):
    ValueError: --out and --visits both name x.csv; give each output its own file
    """
    given_out = [(label, Path(p)) for label, p in outputs.items() if p is not None]
    given_in = [(label, Path(p)) for label, p in inputs.items() if p is not None]
    for label, out in given_out:
        for in_label, source in given_in:
            if same_file(out, source):
                raise ValueError(f"{label} {out} is the same file as {in_label} {source}: "
                                 "writing it would destroy the input; choose another output "
                                 "name")  # fmt: skip
    for i, (label, out) in enumerate(given_out):
        for other_label, other in given_out[i + 1 :]:
            if same_file(out, other):
                raise ValueError(f"{label} and {other_label} both name {out}; give each "
                                 "output its own file")  # fmt: skip
    for label, out in given_out:
        check_not_special(out, label)


def check_writable(path: str | Path) -> None:
    """Fail, naming ``path``, if a file cannot be created there.

    The folder that will hold it (or, when that is still to be made, the nearest folder
    that exists: atomic writes create the rest) is probed by creating and removing a
    temporary file, as :func:`atomic_path` will: permission bits do not tell (root writes a
    read-only folder; ``/proc`` looks writable and refuses files).

    Parameters
    ----------
    path : str or pathlib.Path
        The file to create.

    Raises
    ------
    OSError
        With ``filename`` the given path and ``strerror`` saying where and why, e.g.
        ``cannot create a file in /proc (No such file or directory)``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> check_writable(folder / "new" / "m.csv")  # nothing is created
    >>> (folder / "notes.txt").write_text("x") and check_writable(folder / "notes.txt" / "m.csv")
    Traceback (most recent call last):
    NotADirectoryError: [Errno 20] cannot create a file in ... (it is a file, not a folder): ...
    """
    path = Path(path)
    folder = path.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    shown = path.parent if folder == path.absolute().parent else folder
    if not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, f"cannot create a file in {shown} (it is a "
                                 "file, not a folder)", str(path))  # fmt: skip
    try:
        fd, probe = tempfile.mkstemp(prefix=partial_name(path), dir=folder)
    except OSError as exc:
        raise type(exc)(exc.errno, f"cannot create a file in {shown} ({exc.strerror})",
                        str(path)) from None  # fmt: skip
    os.close(fd)
    os.unlink(probe)


def partial_name(path: str | Path) -> str:
    """Prefix of this process's temporary names for ``path``: ``.<name>.partial-<pid>-``.

    Parameters
    ----------
    path : str or pathlib.Path
        The destination file.

    Returns
    -------
    str
        The prefix.

    Examples
    --------
    >>> import os
    >>> partial_name("data/x.csv") == f".x.csv.partial-{os.getpid()}-"
    True
    """
    return f".{_short_name(Path(path).name)}{PARTIAL_MARK}{os.getpid()}-"


#: Longest file name most file systems allow (bytes).
NAME_MAX = 255
#: Room kept in a temporary's name for its dot, mark, process id and random part.
_PARTIAL_ROOM = 1 + len(PARTIAL_MARK) + 10 + 1 + 8 + 4


def _short_name(name: str) -> str:
    """``name``, shortened when the temporary named after it would exceed :data:`NAME_MAX`
    bytes (a legal 250-character name must still be writable): its first bytes, then a hash
    of the whole name, so two long names in one folder do not share temporaries."""
    encoded = name.encode()
    if len(encoded) + _PARTIAL_ROOM <= NAME_MAX:
        return name
    digest = hashlib.sha256(encoded).hexdigest()[:12]
    keep = NAME_MAX - _PARTIAL_ROOM - len(digest) - 1
    return encoded[:keep].decode(errors="ignore") + "~" + digest


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    Raises IsADirectoryError at once if ``path`` is a folder. After the rename, temporaries
    of earlier writes to ``path`` whose process is gone are removed
    (:func:`remove_stale_partials`).

    Parameters
    ----------
    path : str or pathlib.Path
        The destination file.

    Yields
    ------
    pathlib.Path
        The temporary to write; renamed onto ``path`` when the ``with`` block succeeds.

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

    Parameters
    ----------
    path : str or pathlib.Path
        The destination file whose temporaries are looked for.

    Returns
    -------
    list of Path
        What was removed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / ".x.csv.partial-999999999-abc").write_text("half a table")
    >>> [p.name for p in remove_stale_partials(folder / "x.csv")]
    ['.x.csv.partial-999999999-abc']
    """
    path = Path(path)
    stem = f".{_short_name(path.name)}{PARTIAL_MARK}"
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
    pid : int
        A process id.

    Returns
    -------
    bool
        False only when the process provably does not run.

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


def _metadata_bytes(metadata: Mapping[str, Any] | None) -> bytes | None:
    if metadata is None:
        return None
    return json.dumps(dict(metadata), sort_keys=True, default=str).encode()


def _arrow_table(df: pd.DataFrame, metadata: Mapping[str, Any] | None) -> pa.Table:
    table = pa.Table.from_pandas(df, preserve_index=False)
    extra = _metadata_bytes(metadata)
    if extra is not None:
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), METADATA_KEY: extra}
        )
    return table


def write_table(
    df: pd.DataFrame,
    path: str | Path,
    fmt: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``df`` atomically as Parquet or CSV; return the path.

    Parameters
    ----------
    df
        The table; it is not modified.
    path
        Destination file. Its folder is created if needed.
    fmt
        ``"parquet"`` or ``"csv"``; by default from the suffix.
    metadata
        JSON-serialisable provenance stored in the Parquet schema metadata (ignored for CSV).

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = write_table(pd.DataFrame({"a": [1, 2]}), pathlib.Path(tempfile.mkdtemp()) / "t.csv")
    >>> out.read_text().splitlines()
    ['a', '1', '2']
    """
    return write_chunks([df], path, fmt, metadata)


def write_chunks(
    chunks: Iterable[pd.DataFrame],
    path: str | Path,
    fmt: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    row_group_size: int | None = None,
) -> Path:
    """Stream consecutive DataFrames into one file, atomically.

    Rows are regrouped into Parquet row groups of ``row_group_size`` rows (default
    :data:`ROW_GROUP_ROWS`) whatever the chunk sizes, so the bytes do not depend on how the
    table was chunked. Nothing is left at ``path`` if any chunk fails.

    Parameters
    ----------
    chunks : iterable of pandas.DataFrame
        Consecutive parts of one table, same columns.
    path : str or pathlib.Path
        Destination file.
    fmt : {"parquet", "csv"}, optional
        The format; by default from the suffix.
    metadata : mapping, optional
        Provenance stored in the Parquet schema metadata (ignored for CSV).
    row_group_size : int, optional
        Rows per Parquet row group (default :data:`ROW_GROUP_ROWS`).

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pyarrow.parquet as pq
    >>> chunks = [pd.DataFrame({"a": range(i, i + 3)}) for i in (0, 3, 6)]
    >>> out = write_chunks(chunks, pathlib.Path(tempfile.mkdtemp()) / "t.parquet",
    ...                    row_group_size=4)
    >>> [pq.ParquetFile(out).metadata.row_group(g).num_rows for g in range(3)]
    [4, 4, 1]
    """
    path = Path(path)
    fmt = infer_format(path, fmt)
    row_group_size = row_group_size or ROW_GROUP_ROWS
    # A generator of chunks is closed at once if writing fails or is interrupted, so what it
    # holds (a process pool) is released now, not when it is garbage collected.
    try:
        return _write_chunks(chunks, path, fmt, metadata, row_group_size)
    except BaseException:
        closing = getattr(chunks, "close", None)
        if closing is not None:
            closing()
        raise


def _write_chunks(
    chunks: Iterable[pd.DataFrame],
    path: Path,
    fmt: str,
    metadata: Mapping[str, Any] | None,
    row_group_size: int,
) -> Path:
    with atomic_path(path) as tmp:
        if fmt == "csv":
            with tmp.open("w", encoding="utf-8", newline="") as fh:
                for i, chunk in enumerate(chunks):
                    chunk.to_csv(fh, index=False, header=i == 0, lineterminator="\n")
        else:
            writer: pq.ParquetWriter | None = None
            pending: list[pa.Table] = []
            pending_rows = 0
            try:
                for chunk in chunks:
                    table = _arrow_table(chunk, metadata)
                    if writer is None:
                        writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
                    pending.append(table)
                    pending_rows += table.num_rows
                    while pending_rows >= row_group_size:
                        combined = pa.concat_tables(pending)
                        writer.write_table(combined.slice(0, row_group_size))
                        rest = combined.slice(row_group_size)
                        pending, pending_rows = [rest], rest.num_rows
                if writer is None:
                    raise ValueError("nothing to write: no chunks were given")
                if pending_rows:
                    writer.write_table(pa.concat_tables(pending))
            finally:
                if writer is not None:
                    writer.close()
    return path


def write_tables(
    tables: Mapping[str | Path, pd.DataFrame],
    metadata: Mapping[str, Any] | None = None,
    *,
    remove: Iterable[str | Path] = (),
    record: bool = False,
) -> list[Path]:
    """Write several tables, each atomically, renaming them into place only once all are
    written: a failure while writing any of them leaves every destination as it was.

    Parameters
    ----------
    tables
        Destination path -> table.
    metadata
        Stored in each Parquet file, as by :func:`write_table`.
    remove
        Files to delete once every table is in place (those an earlier run wrote beside
        them and this one does not), so the set of files matches this run. Only files this
        suite provably wrote are deleted (:func:`remove_written`): a user's own file of the
        same name is kept. Absent ones are skipped; a failed write deletes nothing.
    record
        Record the written files as the suite's own (:func:`record_written`), so that a
        later call's ``remove`` may delete them.

    Returns
    -------
    list of pathlib.Path
        The files written, in the order of ``tables``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> paths = write_tables({folder / "a.csv": pd.DataFrame({"x": [1]}),
    ...                       folder / "b.parquet": pd.DataFrame({"y": [2]})}, record=True)
    >>> _ = write_tables({folder / "a.csv": pd.DataFrame({"x": [3]})},
    ...                  remove=[folder / "b.parquet"], record=True)
    >>> sorted(p.name for p in folder.iterdir())
    ['.outcomes-written.json', 'a.csv']
    """
    paths = [Path(p) for p in tables]
    stale = [Path(p) for p in remove]
    both = sorted({str(p) for p in paths} & {str(p) for p in stale})
    if both:
        raise ValueError(f"{both[0]} is both written and removed")
    check_outputs({str(p): p for p in paths})
    formats = [check_destination(p) for p in paths]
    with contextlib.ExitStack() as stack:
        for path, fmt, df in zip(paths, formats, tables.values(), strict=True):
            write_table(df, stack.enter_context(atomic_path(path)), fmt, metadata)
    if record:
        record_written(paths)
    # Every table renamed into place: now the files of an earlier run that this one replaces.
    remove_written(stale)
    return paths


#: Name of the record, in a folder, of the files ``outcomes`` wrote there (with their SHA-256)
#: for clean-up to prove a file is its own: see :func:`record_written`.
WRITTEN_RECORD = ".outcomes-written.json"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _read_record(folder: Path) -> dict[str, str]:
    try:
        record = json.loads((folder / WRITTEN_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = record.get("files") if isinstance(record, dict) else None
    return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}


def record_written(paths: Iterable[str | Path]) -> None:
    """Record, in each file's folder (:data:`WRITTEN_RECORD`), that ``outcomes`` wrote these
    files and what they held (SHA-256), so a later clean-up can prove a file is its own.

    Parameters
    ----------
    paths : iterable of str or pathlib.Path
        Files this process has just written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = write_table(pd.DataFrame({"a": [1]}), pathlib.Path(tempfile.mkdtemp()) / "t.csv")
    >>> record_written([out]); sorted(p.name for p in out.parent.iterdir())
    ['.outcomes-written.json', 't.csv']
    """
    by_folder: dict[Path, list[Path]] = {}
    for path in paths:
        path = Path(os.path.realpath(path))
        by_folder.setdefault(path.parent, []).append(path)
    for folder, files in by_folder.items():
        record = _read_record(folder)
        record.update({p.name: _sha256(p) for p in files})
        record = {name: h for name, h in sorted(record.items()) if (folder / name).is_file()}
        with atomic_path(folder / WRITTEN_RECORD) as tmp:
            tmp.write_text(json.dumps({"files": record}, indent=1) + "\n", encoding="utf-8")


def remove_written(paths: Iterable[str | Path]) -> list[Path]:
    """Delete those of ``paths`` that ``outcomes`` provably wrote: listed in their folder's
    :data:`WRITTEN_RECORD` with the content they still hold. A user's own file of the same
    name, or one edited since, is kept. Returns the paths kept (absent ones are skipped).

    Parameters
    ----------
    paths : iterable of str or pathlib.Path
        Candidate files.

    Returns
    -------
    list of pathlib.Path
        The paths kept.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> mine = write_table(pd.DataFrame({"a": [1]}), folder / "mine.csv")
    >>> ours = write_table(pd.DataFrame({"a": [2]}), folder / "ours.csv")
    >>> record_written([ours])
    >>> [p.name for p in remove_written([mine, ours])], ours.exists()
    (['mine.csv'], False)
    """
    kept = []
    for path in (Path(p) for p in paths):
        if not path.is_file() or path.is_symlink():
            if path.is_symlink():
                kept.append(path)
            continue
        folder = Path(os.path.realpath(path)).parent
        record = _read_record(folder)
        if record.get(path.name) != _sha256(path):
            kept.append(path)
            continue
        path.unlink()
        record.pop(path.name)
        with atomic_path(folder / WRITTEN_RECORD) as tmp:
            tmp.write_text(json.dumps({"files": record}, indent=1) + "\n", encoding="utf-8")
    return kept


def read_table(path: str | Path, fmt: str | None = None) -> pd.DataFrame:
    """Read a Parquet or CSV table (CSV columns are not typed: validate before use).

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    fmt : {"parquet", "csv"}, optional
        The format; by default from the suffix.

    Returns
    -------
    pandas.DataFrame
        The table.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_table(pd.DataFrame({"a": [1]}), pathlib.Path(tempfile.mkdtemp()) / "t.parquet")
    >>> read_table(p)["a"].tolist()
    [1]
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    fmt = infer_format(path, fmt)
    if fmt == "csv":
        return pd.read_csv(path)
    return pd.read_parquet(path)


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The provenance stored by :func:`write_table` in a Parquet file ({} if none).

    Parameters
    ----------
    path : str or pathlib.Path
        A Parquet file.

    Returns
    -------
    dict
        The provenance, or an empty dict.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = write_table(pd.DataFrame({"a": [1]}), pathlib.Path(tempfile.mkdtemp()) / "t.parquet",
    ...                   metadata={"seed": 3})
    >>> read_metadata(out)
    {'seed': 3}
    """
    schema = pq.read_schema(path)
    raw = (schema.metadata or {}).get(METADATA_KEY)
    return json.loads(raw) if raw else {}
