"""Reading and writing tables: atomic, deterministic, Parquet (pyarrow) or CSV.

Every write goes to a temporary file in the destination folder and is renamed into place only
when complete, so an interrupted or failed write leaves any previous file untouched and never
a partial one. Parquet files carry no timestamps, so the same table gives the same bytes.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

FORMATS = ("parquet", "csv")
#: Key under which generation parameters are stored in a Parquet file's metadata.
METADATA_KEY = b"outcomes"


def infer_format(path: str | Path, fmt: str | None = None) -> str:
    """The table format: ``fmt`` if given, else from the file suffix.

    Examples
    --------
    >>> infer_format("cohort.csv")
    'csv'
    >>> infer_format("cohort.data", "parquet")
    'parquet'
    """
    if fmt is not None:
        if fmt not in FORMATS:
            raise ValueError(f"format {fmt!r} is unknown; choose one of: {', '.join(FORMATS)}")
        return fmt
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix in ("parquet", "pq"):
        return "parquet"
    if suffix == "csv":
        return "csv"
    raise ValueError(
        f"cannot tell the format of {str(path)!r} from its suffix; use .parquet or .csv "
        "(or pass the format explicitly)"
    )


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp creates the file private (0600); give it the mode a plain open() would.
        if tmp.exists():
            os.chmod(tmp, 0o666 & ~_current_umask())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


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

    Rows are regrouped into Parquet row groups of ``row_group_size`` rows (default: one per
    65,536 rows) whatever the chunk sizes, so the bytes do not depend on how the table was
    chunked. Nothing is left at ``path`` if any chunk fails.
    """
    path = Path(path)
    fmt = infer_format(path, fmt)
    row_group_size = row_group_size or 65_536
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


def read_table(path: str | Path, fmt: str | None = None) -> pd.DataFrame:
    """Read a Parquet or CSV table (CSV columns are not typed: validate before use).

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
    """The provenance stored by :func:`write_table` in a Parquet file ({} if none)."""
    schema = pq.read_schema(path)
    raw = (schema.metadata or {}).get(METADATA_KEY)
    return json.loads(raw) if raw else {}
