"""Reading a team's file: its header, then its rows as Arrow record batches, streamed.

Files are streamed (:func:`open_table`): CSV text is parsed :data:`CSV_BLOCK_BYTES` at a time
and Parquet read :data:`PARQUET_BATCH_ROWS` rows at a time (pyarrow), each column arriving
dictionary-encoded, so a column is validated by parsing its few distinct texts once
(:func:`encode_cells`, :func:`distinct_texts`) and mapping the verdicts back to the rows with
numpy. Ids are compared by sorting (:func:`duplicate_positions`, :func:`align_ids`), which
needs no Python object per patient. A file that cannot be read raises the
:class:`outcomes.tables.problems.DataValidationError` that says why.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from outcomes.tables.problems import MAX_ROWS_SHOWN, DataValidationError
from outcomes.tables.schema import column_roles

#: CSV text parsed per step (about 25,000 patients of the generator's columns).
CSV_BLOCK_BYTES = 2 << 20
#: Parquet rows read per step.
PARQUET_BATCH_ROWS = 65_536
_TEXT_CODES = pa.dictionary(pa.int32(), pa.string())
#: Longest CSV header accepted (bytes): a million-column file is refused at once, not parsed.
MAX_HEADER_BYTES = 1 << 20
#: Most columns accepted in a file (the template has about 60).
MAX_COLUMNS = 10_000


# --------------------------------------------------------------------------------------------
# Reading files: a header, then Arrow record batches


def _sniff(path: Path) -> str:
    """``"parquet"`` or ``"csv"``; raises DataValidationError for anything else."""
    if not path.exists():
        raise DataValidationError([f"{path}: no such file"])
    if path.is_dir():
        raise DataValidationError([f"{path}: is a folder, not a CSV or Parquet file"])
    with path.open("rb") as fh:
        head = fh.read(4096)
    if not head:
        raise DataValidationError([f"{path.name}: the file is empty (no header, no rows)"])
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataValidationError([f"{path.name}: not UTF-8 text: it is UTF-16 (save it as UTF-8)"])
    if b"\x00" in head:
        raise DataValidationError(
            [f"{path.name}: not a CSV or Parquet file (it holds binary data)"]
        )
    return "csv"


def _decode_error(path: Path) -> DataValidationError:
    """The first byte that is not UTF-8 and its line, found reading 1 MiB at a time."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with path.open("rb") as fh:
        while True:
            block = fh.read(1 << 20)
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                line += exc.object[: exc.start].count(b"\n")
                byte = exc.object[exc.start]
                return DataValidationError(
                    [
                        f"{path.name}: not UTF-8 text: byte 0x{byte:02x} on "
                        f"line {line} (save the file as UTF-8)"
                    ]
                )
            if not block:
                return DataValidationError([f"{path.name}: not UTF-8 text (save it as UTF-8)"])
            line += block.count(b"\n")


def _unreadable(path: Path, kind: str, exc: Exception) -> DataValidationError:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return DataValidationError([f"{path.name}: not a readable {kind} file ({reason})"])


def _check_names(path: Path, names: list[str]) -> list[str]:
    stripped = [str(n).strip() for n in names]
    if stripped.count("") > 1:
        raise DataValidationError(
            [f"{path.name}: {stripped.count('')} columns have no name in the header"]
        )
    repeated = sorted({n for n in stripped if stripped.count(n) > 1})
    if repeated:
        raise DataValidationError(
            [f"{path.name}: column {repeated[0]!r} appears more than once in the header"]
        )
    return stripped


def open_table(path: Path) -> tuple[list[str], int, Iterator[pa.RecordBatch]]:
    """The header (names stripped), a bound on the number of rows, and the record batches.

    The bound is exact for Parquet and the number of line breaks for CSV, so columns can be
    allocated once. CSV cells arrive as text, dictionary-encoded (``patient_id`` as plain
    text); a row with the wrong number of cells, text that is not UTF-8 or a broken Parquet
    file raises DataValidationError while iterating.

    Parameters
    ----------
    path
        A CSV or Parquet file (what it is is read from its first bytes, not its name).

    Returns
    -------
    (header, rows_at_most, batches)
        The column names, the bound, and an iterator of ``pyarrow.RecordBatch``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv"; _ = p.write_text("a, b\\n1,2\\n")
    >>> header, bound, batches = open_table(p)
    >>> header, bound, [b.num_rows for b in batches]
    (['a', 'b'], 3, [1])
    """
    if _sniff(path) == "parquet":
        try:
            parquet = pq.ParquetFile(path)
            names = parquet.schema_arrow.names
        except Exception as exc:  # pyarrow raises several types for a broken file
            raise _unreadable(path, "Parquet", exc) from None
        bound = parquet.metadata.num_rows
        return _check_names(path, names), bound, _parquet_batches(path, parquet)
    raw = _csv_header(path)
    if len(raw) > MAX_COLUMNS:
        raise DataValidationError(
            [
                f"{path.name}: {len(raw):,} columns in the header; at most "
                f"{MAX_COLUMNS:,} are read (the template has "
                f"{len(column_roles())})"
            ]
        )
    if len(raw) == 1 and raw[0].count(";") >= 2:
        raise DataValidationError(
            [
                f"{path.name}: the file looks ';'-separated (as Excel writes "
                'CSV in many locales); save it comma-separated ("CSV UTF-8") '
                "and try again"
            ]
        )
    names = _check_names(path, raw)
    return names, _line_breaks(path) + 1, _csv_batches(path, raw)


def _csv_header(path: Path) -> list[str]:
    """The first non-empty row of a CSV file, read from at most :data:`MAX_HEADER_BYTES`."""
    with path.open("rb") as fh:
        head = fh.read(MAX_HEADER_BYTES + 1)
    # utf-8-sig: a byte order mark (Excel's "CSV UTF-8") is not part of the first name;
    # pyarrow skips it too.
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    lines = head.split(b"\n")
    while lines and not lines[0].strip(b"\r"):
        lines.pop(0)  # blank lines before the header, as csv.reader skips them
    if len(head) > MAX_HEADER_BYTES and len(lines) < 2:
        raise DataValidationError(
            [
                f"{path.name}: the header is longer than {MAX_HEADER_BYTES >> 20} MiB; is this a "
                "CSV of patients?"
            ]
        )
    try:
        text = b"\n".join(lines[:-1] if len(head) > MAX_HEADER_BYTES else lines).decode("utf-8")
    except UnicodeDecodeError:
        raise _decode_error(path) from None
    try:
        raw = next((row for row in csv.reader(text.splitlines(keepends=True)) if row), None)
    except csv.Error as exc:
        raise _unreadable(path, "CSV", exc) from None
    if raw is None:
        raise DataValidationError([f"{path.name}: the file is empty (no header, no rows)"])
    return raw


@contextlib.contextmanager
def readable_file(path: str | Path) -> Iterator[Path]:
    """``path`` as a regular file that can be read twice.

    A pipe or device (``--data /dev/stdin``) is first copied to a temporary file of the same
    name, removed afterwards; a regular file, a folder or an absent path is given as it is
    (the reader names what is wrong).

    Parameters
    ----------
    path
        The file a user named.

    Returns
    -------
    contextlib.AbstractContextManager of pathlib.Path
        A context manager giving the path to read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv"; _ = p.write_text("a\\n1\\n")
    >>> with readable_file(p) as same:
    ...     same == p
    True
    """
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except OSError:
        yield path  # absent: the reader says so
        return
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        yield path
        return
    folder = Path(tempfile.mkdtemp(prefix="outcomes-input-"))
    try:
        copy = folder / (path.name or "input")
        with path.open("rb") as source, copy.open("wb") as target:
            shutil.copyfileobj(source, target, 1 << 20)
        yield copy
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _line_breaks(path: Path) -> int:
    count = 0
    with path.open("rb") as fh:
        while block := fh.read(16 << 20):
            count += block.count(b"\n")
    return count


def _parquet_batches(path: Path, parquet: pq.ParquetFile) -> Iterator[pa.RecordBatch]:
    try:
        yield from parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS)
    except Exception as exc:
        raise _unreadable(path, "Parquet", exc) from None


def _csv_batches(path: Path, raw_names: list[str]) -> Iterator[pa.RecordBatch]:
    ragged: list[Any] = []

    def skip_ragged(row: Any) -> str:
        ragged.append(row)
        return "skip"

    types = {n: pa.string() if n.strip() == "patient_id" else _TEXT_CODES for n in raw_names}
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES, use_threads=False),
            parse_options=pacsv.ParseOptions(
                newlines_in_values=True, invalid_row_handler=skip_ragged
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=types, strings_can_be_null=False, quoted_strings_can_be_null=False
            ),
        )
        if _check_names(path, reader.schema.names) != [n.strip() for n in raw_names]:
            raise DataValidationError(
                [f"{path.name}: the header cannot be read consistently (check its quotes)"]
            )
        for batch in reader:
            if not ragged:
                yield batch
    except pa.ArrowInvalid as exc:
        if "UTF8" in str(exc) or "UTF-8" in str(exc):
            raise _decode_error(path) from None
        if "Empty CSV file" in str(exc):
            raise DataValidationError(
                [f"{path.name}: the file is empty (no header, no rows)"]
            ) from None
        raise _unreadable(path, "CSV", exc) from None
    if ragged:
        # pyarrow numbers a row by its line in the file (the header is line 1).
        lines = [str(r.number) if r.number else "?" for r in ragged[:MAX_ROWS_SHOWN]]
        cells = [f"{r.actual_columns} cells" for r in ragged[:MAX_ROWS_SHOWN]]
        what = "1 row has" if len(ragged) == 1 else f"{len(ragged)} rows have"
        more = ", …" if len(ragged) > MAX_ROWS_SHOWN else ""
        raise DataValidationError(
            [
                f"{path.name}: {what} another number of cells than the {len(raw_names)} columns "
                f"of the header (lines {', '.join(lines)}{more}: {', '.join(cells)}{more})"
            ]
        )


# --------------------------------------------------------------------------------------------
# Column parsing: distinct texts once, verdicts mapped to rows


def encode_cells(array: pa.Array, file: str, column: str) -> tuple[np.ndarray, pa.Array]:
    """Each cell as a code into the column's distinct values.

    Parameters
    ----------
    array
        A column of a batch, dictionary-encoded or not.
    file, column
        Named in the error if the values cannot be read.

    Returns
    -------
    (codes, dictionary)
        A code per cell (numpy) and the distinct values (Arrow); a missing cell gets the
        code ``len(dictionary)``.

    Examples
    --------
    >>> codes, values = encode_cells(pa.array(["a", None, "b", "a"]), "f.csv", "x")
    >>> codes.tolist(), values.to_pylist()
    ([0, 2, 1, 0], ['a', 'b'])
    """
    if not pa.types.is_dictionary(array.type):
        try:
            array = pc.dictionary_encode(array)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise DataValidationError(
                [f"{file}: column '{column}': values of type {array.type} cannot be read"]
            ) from None
    indices = array.indices
    if indices.null_count:
        indices = pc.fill_null(indices, len(array.dictionary))
    codes = indices.to_numpy(zero_copy_only=False)
    return codes, array.dictionary


def distinct_texts(dictionary: pa.Array, file: str, column: str) -> pd.Series:
    """The distinct values as written, then ``""`` for a missing cell.

    Parameters
    ----------
    dictionary
        The distinct values of :func:`encode_cells` (Parquet values are cast to text).
    file, column
        Named in the error if the values have no text form.

    Returns
    -------
    pandas.Series
        Object text, one per distinct value, then ``""`` (the code :func:`encode_cells`
        gives a missing cell).

    Examples
    --------
    >>> distinct_texts(pa.array([1, 2]), "f.csv", "x").tolist()
    ['1', '2', '']
    """
    if not (pa.types.is_string(dictionary.type) or pa.types.is_large_string(dictionary.type)):
        try:
            dictionary = pc.cast(dictionary, pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise DataValidationError(
                [f"{file}: column '{column}': values of type {dictionary.type} cannot be read"]
            ) from None
    return pd.Series([*dictionary.to_pylist(), ""], dtype=object).fillna("")


def codes_and_texts(array: pa.Array, file: str, column: str) -> tuple[np.ndarray, pd.Series]:
    """:func:`encode_cells` and :func:`distinct_texts` of a column in one call.

    Parameters
    ----------
    array
        A column of a batch.
    file, column
        Named in an error.

    Returns
    -------
    (codes, texts)
        A code per cell, and the text of each code (``""`` for a missing cell).

    Examples
    --------
    >>> codes, texts = codes_and_texts(pa.array(["hip", None]), "f.csv", "pathway")
    >>> texts[codes].tolist()
    ['hip', '']
    """
    codes, dictionary = encode_cells(array, file, column)
    return codes, distinct_texts(dictionary, file, column)


def arrow_text(array: pa.Array, file: str = "", column: str = "") -> pa.Array:
    """Cells as trimmed text; missing cells as ``""``.

    Parameters
    ----------
    array
        A column of a batch, of any type with a text form.
    file, column
        Named in the error if it has none.

    Returns
    -------
    pyarrow.Array
        ``large_string`` cells.

    Examples
    --------
    >>> arrow_text(pa.array([" P1 ", None])).to_pylist()
    ['P1', '']
    """
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    try:
        text = pc.cast(array, pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise DataValidationError(
            [f"{file}: column '{column}': values of type {array.type} cannot be read as text"]
        ) from None
    return pc.utf8_trim_whitespace(pc.fill_null(text, ""))


def _sorted(ids: pa.ChunkedArray) -> tuple[np.ndarray, pa.ChunkedArray]:
    """Order that sorts ``ids``, and the sorted ids.

    Sorting needs a fraction of the memory of a hash table over millions of ids (about
    220 MB against 770 MB for five million), and no Python object per id.
    """
    order = pc.sort_indices(ids)
    return order.to_numpy(), ids.take(order)


def duplicate_positions(ids: pa.ChunkedArray) -> np.ndarray:
    """Positions of ids that occur more than once, in file order.

    Found by sorting: a fraction of the memory of a hash table over millions of ids.

    Parameters
    ----------
    ids
        The ids of a file, as Arrow text.

    Returns
    -------
    numpy.ndarray
        0-based positions (int64) of every id that is not unique.

    Examples
    --------
    >>> duplicate_positions(pa.chunked_array([["a", "b", "a", "c"]])).tolist()
    [0, 2]
    """
    if len(ids) < 2:
        return np.empty(0, dtype=np.int64)
    order, ordered = _sorted(ids)
    same = pc.equal(ordered.slice(1), ordered.slice(0, len(ids) - 1))
    same = (
        same.to_numpy(zero_copy_only=False)
        if isinstance(same, pa.Array)
        else np.concatenate([c.to_numpy(zero_copy_only=False) for c in same.chunks])
    )
    if not same.any():
        return np.empty(0, dtype=np.int64)
    repeated = np.zeros(len(ids), dtype=bool)
    repeated[1:] |= same
    repeated[:-1] |= same
    return np.sort(order[repeated]).astype(np.int64)


def align_ids(known: pa.ChunkedArray, given: pa.ChunkedArray) -> np.ndarray | None:
    """Row of ``given`` holding each id of ``known``, when both hold the same ids once each.

    Parameters
    ----------
    known, given
        Two columns of unique ids, as Arrow text.

    Returns
    -------
    numpy.ndarray or None
        For each id of ``known`` its position in ``given`` (found by sorting both); None when
        the two do not hold the same ids.

    Examples
    --------
    >>> align_ids(pa.chunked_array([["a", "b"]]), pa.chunked_array([["b", "a"]])).tolist()
    [1, 0]
    >>> align_ids(pa.chunked_array([["a"]]), pa.chunked_array([["b"]])) is None
    True
    """
    if len(known) != len(given):
        return None
    if pc.all(pc.equal(known, given)).as_py():  # the same order: nothing to sort
        return np.arange(len(known))
    known_order, known_sorted = _sorted(known)
    given_order, given_sorted = _sorted(given)
    if not pc.all(pc.equal(known_sorted, given_sorted)).as_py():
        return None
    position = np.empty(len(known), dtype=np.int64)
    position[known_order] = given_order
    return position
