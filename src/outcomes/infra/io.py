"""Reading and writing tables: atomic, deterministic, Parquet (pyarrow) or CSV.

Every write goes through :func:`outcomes.infra.atomic.atomic_path` (a temporary file in the
destination folder, renamed into place only when complete, so an interrupted or failed write
leaves any previous file untouched and never a partial one). Parquet files carry no
timestamps, so the same table gives the same bytes. Where a table may be written (its format,
the checks made before any work) is :mod:`outcomes.infra.destinations`; the names of both
modules are importable from here too.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from outcomes.infra.atomic import atomic_path, process_running, remove_stale_partials
from outcomes.infra.destinations import (
    FORMAT_NAMES,
    FORMATS,
    NAME_MAX,
    PARTIAL_MARK,
    SPECIAL_KINDS,
    SUFFIX_FORMATS,
    check_destination,
    check_not_special,
    check_outputs,
    check_writable,
    infer_format,
    partial_name,
    same_file,
    special_kind,
    suffix_format,
)

__all__ = [
    "FORMATS",
    "FORMAT_NAMES",
    "METADATA_KEY",
    "NAME_MAX",
    "PARTIAL_MARK",
    "ROW_GROUP_ROWS",
    "SPECIAL_KINDS",
    "SUFFIX_FORMATS",
    "WRITTEN_RECORD",
    "atomic_path",
    "check_destination",
    "check_not_special",
    "check_outputs",
    "check_writable",
    "infer_format",
    "partial_name",
    "process_running",
    "read_metadata",
    "read_table",
    "record_written",
    "remove_stale_partials",
    "remove_written",
    "same_file",
    "special_kind",
    "suffix_format",
    "write_chunks",
    "write_table",
    "write_tables",
]

#: Parquet rows per row group, whatever the sizes of the chunks written.
ROW_GROUP_ROWS = 65_536
#: Key under which generation parameters are stored in a Parquet file's metadata.
METADATA_KEY = b"outcomes"


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
        ``path``.

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
    chunks
        Consecutive parts of one table (same columns and dtypes).
    path, fmt, metadata
        As for :func:`write_table`.
    row_group_size
        Parquet rows per row group.

    Returns
    -------
    pathlib.Path
        ``path``.

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
        The paths written, in the order given.

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
    paths
        Files this suite has just written.

    Returns
    -------
    None

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
    paths
        Files to delete if this suite wrote them (absent ones are skipped).

    Returns
    -------
    list of pathlib.Path
        What was deleted.

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
    path
        A Parquet or CSV file.
    fmt
        As for :func:`outcomes.infra.destinations.infer_format`.

    Returns
    -------
    pandas.DataFrame

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
    path
        A Parquet file.

    Returns
    -------
    dict
        The ``metadata`` given to :func:`write_table`, as JSON gives it back.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.parquet"
    >>> read_metadata(write_table(pd.DataFrame({"a": [1]}), path, metadata={"seed": 3}))
    {'seed': 3}
    """
    schema = pq.read_schema(path)
    raw = (schema.metadata or {}).get(METADATA_KEY)
    return json.loads(raw) if raw else {}
