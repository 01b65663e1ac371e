"""Where a table may be written: its format from its name, and checks made before any work.

A command checks every destination before it computes anything (:func:`check_outputs`): the
format is known (:func:`infer_format`), the path is not a device, pipe or socket
(:func:`check_not_special`), no two outputs are one file (:func:`same_file`) and the folder
is writable (:func:`check_writable`), so a long run never fails at its last step.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

FORMATS = ("parquet", "csv")
FORMAT_NAMES = {"parquet": "Parquet", "csv": "CSV"}
#: Marks a temporary file or folder beside its target: ``.<target>.partial-<pid>-<random>``.
PARTIAL_MARK = ".partial-"

#: File suffixes (lower case, without the dot) that name a format.
SUFFIX_FORMATS = {"parquet": "parquet", "pq": "parquet", "csv": "csv"}


def suffix_format(path: str | Path) -> str | None:
    """The format a file name's suffix names (any case), or None if it names none.

    Parameters
    ----------
    path
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
    path
        The file to read or write.
    fmt
        ``"parquet"``, ``"csv"`` or None (from the suffix).

    Returns
    -------
    str
        The format.

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
        raise ValueError(
            f"cannot tell the format of {str(path)!r} from its suffix; use .parquet or .csv"
        )
    return named


def check_destination(path: str | Path, fmt: str | None = None) -> str:
    """Fail early, before any work, if ``path`` cannot receive a table; return its format.

    The path must not be a folder, its format must be known (:func:`infer_format`), and a
    file must be creatable beside it (:func:`check_writable`).

    Parameters
    ----------
    path
        The file a table will be written to.
    fmt
        As for :func:`infer_format`.

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
    path
        Any path.

    Returns
    -------
    str or None
        A key of :data:`SPECIAL_KINDS`, or None.

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
    path
        An output path.
    label
        The argument that named it (e.g. ``"--out"``), for the message.

    Returns
    -------
    None

    Examples
    --------
    >>> check_not_special("/dev/null", "--out")
    Traceback (most recent call last):
    ValueError: --out /dev/null is a character device, not a regular file; outcomes writes files...
    """
    kind = special_kind(path)
    if kind is not None:
        shown = f"{label} {path}" if label else str(path)
        raise ValueError(
            f"{shown} is {kind}, not a regular file; outcomes writes files whole "
            "(renaming a finished file into place) and will not replace it: give "
            "a file name"
        )


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one file: after resolving symbolic links, ``..`` and relative
    parts, or as hard links to one inode.

    Parameters
    ----------
    a, b
        Two paths (either may not exist yet).

    Returns
    -------
    bool

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

    Returns
    -------
    None

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
                raise ValueError(
                    f"{label} {out} is the same file as {in_label} {source}: "
                    "writing it would destroy the input; choose another output "
                    "name"
                )
    for i, (label, out) in enumerate(given_out):
        for other_label, other in given_out[i + 1 :]:
            if same_file(out, other):
                raise ValueError(
                    f"{label} and {other_label} both name {out}; give each output its own file"
                )
    for label, out in given_out:
        check_not_special(out, label)


def check_writable(path: str | Path) -> None:
    """Fail, naming ``path``, if a file cannot be created there.

    The folder that will hold it (or, when that is still to be made, the nearest folder
    that exists: atomic writes create the rest) is probed by creating and removing a
    temporary file, as :func:`outcomes.infra.atomic.atomic_path` will: permission bits do
    not tell (root writes a read-only folder; ``/proc`` looks writable and refuses files).

    Parameters
    ----------
    path
        The file to be written.

    Returns
    -------
    None

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
        raise NotADirectoryError(
            errno.ENOTDIR,
            f"cannot create a file in {shown} (it is a file, not a folder)",
            str(path),
        )
    try:
        fd, probe = tempfile.mkstemp(prefix=partial_name(path), dir=folder)
    except OSError as exc:
        raise type(exc)(
            exc.errno, f"cannot create a file in {shown} ({exc.strerror})", str(path)
        ) from None
    os.close(fd)
    os.unlink(probe)


def partial_name(path: str | Path) -> str:
    """Prefix of this process's temporary names for ``path``: ``.<name>.partial-<pid>-``.

    Parameters
    ----------
    path
        The target file.

    Returns
    -------
    str

    Examples
    --------
    >>> import os
    >>> partial_name("data/x.csv") == f".x.csv.partial-{os.getpid()}-"
    True
    """
    return f".{short_name(Path(path).name)}{PARTIAL_MARK}{os.getpid()}-"


#: Longest file name most file systems allow (bytes).
NAME_MAX = 255
#: Room kept in a temporary's name for its dot, mark, process id and random part.
_PARTIAL_ROOM = 1 + len(PARTIAL_MARK) + 10 + 1 + 8 + 4


def short_name(name: str) -> str:
    """A file name short enough that the temporary named after it fits :data:`NAME_MAX` bytes.

    A legal 250-character name must still be writable: a long name keeps its first bytes,
    then a hash of the whole name, so two long names in one folder do not share temporaries.

    Parameters
    ----------
    name
        A file name (no folder).

    Returns
    -------
    str
        ``name`` itself when short enough, else its shortened form.

    Examples
    --------
    >>> short_name("cohort.csv")
    'cohort.csv'
    >>> len(short_name("x" * 250).encode()) <= NAME_MAX - _PARTIAL_ROOM
    True
    """
    encoded = name.encode()
    if len(encoded) + _PARTIAL_ROOM <= NAME_MAX:
        return name
    digest = hashlib.sha256(encoded).hexdigest()[:12]
    keep = NAME_MAX - _PARTIAL_ROOM - len(digest) - 1
    return encoded[:keep].decode(errors="ignore") + "~" + digest
