"""A team's own records: read, validate and put them in the suite's canonical form.

:func:`read_patients` accepts a CSV or Parquet ``patients`` file (columns and roles in
``docs/data_dictionary.md``, made by :func:`data_dictionary_markdown`), and
:func:`read_predictions` the pathway each patient was triaged to (``patient_id``, ``pathway``,
optionally one ``p_<pathway>`` probability column per pathway). Anything wrong raises one
:class:`DataValidationError` whose first line names the file, the column, up to 10 offending
rows and how many there are, e.g.::

    my_patients.csv: column 'pain_nrs': 2 rows out of range 0–10 (rows 3, 17: 14, -1)

Rows are counted as data rows of the file, from 1, header not counted. Inputs are never
modified.

Files are streamed: CSV text is parsed :data:`CSV_BLOCK_BYTES` at a time and Parquet read
:data:`PARQUET_BATCH_ROWS` rows at a time (pyarrow), each column arriving dictionary-encoded,
so a column is validated by parsing its few distinct texts once and mapping the verdicts back
to the rows with numpy. Only the typed result is kept (yes/no as booleans, numbers as small
integers, categories as codes, ids and extra columns as Arrow strings), so five million
patients are read within 2 GB.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import difflib
import os
import shutil
import stat
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from outcomes.engine.cohort import Column, patient_columns
from outcomes.knowledge import Knowledge, load_knowledge
from outcomes.knowledge.red_flags import red_flag_columns
from outcomes.tables.schema import RANGES, column_roles, patients_schema

MAX_ROWS_SHOWN = 10
#: CSV text parsed per step (about 25,000 patients of the generator's columns).
CSV_BLOCK_BYTES = 2 << 20
#: Parquet rows read per step.
PARQUET_BATCH_ROWS = 65_536
TRUE_TEXT = frozenset({"true", "1", "yes", "y", "t"})
FALSE_TEXT = frozenset({"false", "0", "no", "n", "f"})
MISSING_TEXT = frozenset({"", "na", "n/a", "nan", "<na>", "null", "none"})
PROBABILITY_PREFIX = "p_"
SUM_TOLERANCE = 1e-3
_TEXT_CODES = pa.dictionary(pa.int32(), pa.string())


#: Longest CSV header accepted (bytes): a million-column file is refused at once, not parsed.
MAX_HEADER_BYTES = 1 << 20
#: Most columns accepted in a file (the template has about 60).
MAX_COLUMNS = 10_000
#: Name prefixes of the knowledge base's findings (pain map, aggravating factors, exam signs,
#: red flags): a column starting with one of them is meant as a finding.
FINDING_PREFIXES = ("pain_", "paresthesia_", "agg_", "eased_", "exam_", "rf_")


class InputWarning(UserWarning):
    """Something in a user's file that may make a result wrong without being an error: a
    column that looks like a finding but matches none, a cohort without recorded provenance.
    The command line prints each as one line; ``--strict`` makes it an error."""


class DataValidationError(ValueError):
    """A team's file cannot be used as it is. The first line says where and why."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        extra = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        super().__init__(problems[0] + extra + "".join(f"\n  {p}" for p in problems[1:]))


def _problem(file: str, column: str, what: str, count: int, rows: list[int],
             shown: list[str] | None = None) -> str:  # fmt: skip
    """One problem line; ``rows`` are the first 0-based positions, ``shown`` their values."""
    noun = "row" if count == 1 else "rows"
    more = ", …" if count > len(rows) else ""
    text = f"{noun} {', '.join(str(r + 1) for r in rows)}{more}"
    if shown:
        text += f": {', '.join(shown)}{more}"
    return f"{file}: column '{column}': {count} {noun} {what} ({text})"


def _show(values: Any, quote: bool = True) -> list[str]:
    return [repr(str(v)) if quote else str(v) for v in values]


class _Checker:
    """Collects problems over a file's batches: count and first rows of each, file-wide."""

    def __init__(self, file: str):
        self.file = file
        self.found: dict[tuple[str, str], list[Any]] = {}

    def flag(self, column: str, what: str, positions: np.ndarray, offset: int,
             shown: list[str] | None = None) -> None:  # fmt: skip
        """Record rows ``positions`` (of a batch starting at row ``offset``) as bad."""
        if len(positions) == 0:
            return
        entry = self.found.setdefault((column, what), [0, [], []])
        room = MAX_ROWS_SHOWN - len(entry[1])
        entry[0] += len(positions)
        if room > 0:
            entry[1].extend((positions[:room] + offset).tolist())
            entry[2].extend((shown or [])[:room])

    def problems(self) -> list[str]:
        return [
            _problem(self.file, column, what, count, rows, shown or None)
            for (column, what), (count, rows, shown) in self.found.items()
        ]


# --------------------------------------------------------------------------------------------
# Column names: matched ignoring case, near misses reported


def _looks_like_finding(name: str, findings: list[str]) -> bool:
    lower = name.strip().lower()
    return lower.startswith(FINDING_PREFIXES) or bool(
        difflib.get_close_matches(lower, findings, n=1, cutoff=0.8)
    )


def match_columns(
    file: str, header: list[str], known: Iterable[str], findings: Iterable[str] = (),
    *, strict: bool = False,
) -> list[str]:  # fmt: skip
    """The header with each name matched to a ``known`` column, ignoring case.

    A name that is not a known column but equals one ignoring case (``RF_BOWEL_BLADDER``,
    ``Exam_Fair_Test``) is renamed to it, when that is unambiguous: two names of the file
    that are one column ignoring case are an error. A remaining name that looks like one of
    ``findings`` (it starts like them, e.g. ``rf_``, or nearly spells one) but matches none
    would be silently ignored, so it is reported: an :class:`InputWarning` naming it and the
    closest known name, or with ``strict`` a :class:`DataValidationError`.

    Examples
    --------
    >>> match_columns("f.csv", ["Patient_ID", "RF_BOWEL_BLADDER"],
    ...               ["patient_id", "rf_bowel_bladder"])
    ['patient_id', 'rf_bowel_bladder']
    >>> match_columns("f.csv", ["rf_bowel_bladder_dysfunction"], ["rf_bowel_bladder"],
    ...               ["rf_bowel_bladder"], strict=True)
    Traceback (most recent call last):
    outcomes.analysis.userdata.DataValidationError: f.csv: column 'rf_bowel_bladder_dysf...
    """
    known = list(known)
    by_lower: dict[str, list[str]] = {}
    for name in known:
        by_lower.setdefault(name.lower(), []).append(name)
    exact = set(header) & set(known)
    out, claimed = [], {}
    for name in header:
        target = name
        if name not in exact:
            candidates = by_lower.get(name.lower(), [])
            if len(candidates) == 1:
                target = candidates[0]
        if target in claimed:
            raise DataValidationError(
                [f"{file}: columns {claimed[target]!r} and {name!r} both name column {target!r} "
                 "(names are matched ignoring case); keep one"]
            )  # fmt: skip
        if target in known:
            claimed[target] = name
        out.append(target)
    findings = list(findings)
    problems = []
    for name in out:
        if name in known or not findings or not _looks_like_finding(name, findings):
            continue
        closest = difflib.get_close_matches(name.strip().lower(), findings, n=1, cutoff=0.0)
        hint = f" (closest: {closest[0]!r})" if closest else ""
        problems.append(f"{file}: column {name!r} looks like a finding or red flag but matches "
                        f"no known column{hint}; it is ignored: rename it to use it "
                        "(docs/data_dictionary.md lists the names)")  # fmt: skip
    if problems and strict:
        raise DataValidationError(problems)
    for problem in problems:
        warnings.warn(problem, InputWarning, stacklevel=3)
    return out


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
                return DataValidationError([f"{path.name}: not UTF-8 text: byte 0x{byte:02x} on "
                                            f"line {line} (save the file as UTF-8)"])  # fmt: skip
            if not block:
                return DataValidationError([f"{path.name}: not UTF-8 text (save it as UTF-8)"])
            line += block.count(b"\n")


def _unreadable(path: Path, kind: str, exc: Exception) -> DataValidationError:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return DataValidationError([f"{path.name}: not a readable {kind} file ({reason})"])


def _check_names(path: Path, names: list[str]) -> list[str]:
    stripped = [str(n).strip() for n in names]
    if stripped.count("") > 1:
        raise DataValidationError([f"{path.name}: {stripped.count('')} columns have no name in "
                                   "the header"])  # fmt: skip
    repeated = sorted({n for n in stripped if stripped.count(n) > 1})
    if repeated:
        raise DataValidationError(
            [f"{path.name}: column {repeated[0]!r} appears more than once in the header"]
        )
    return stripped


def _open_table(path: Path) -> tuple[list[str], int, Iterator[pa.RecordBatch]]:
    """The header (names stripped), a bound on the number of rows, and the record batches.

    The bound is exact for Parquet and the number of line breaks for CSV, so columns can be
    allocated once. CSV cells arrive as text, dictionary-encoded (``patient_id`` as plain
    text); a row with the wrong number of cells, text that is not UTF-8 or a broken Parquet
    file raises DataValidationError while iterating.
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
        raise DataValidationError([f"{path.name}: {len(raw):,} columns in the header; at most "
                                   f"{MAX_COLUMNS:,} are read (the template has "
                                   f"{len(column_roles())})"])  # fmt: skip
    if len(raw) == 1 and raw[0].count(";") >= 2:
        raise DataValidationError([f"{path.name}: the file looks ';'-separated (as Excel writes "
                                   "CSV in many locales); save it comma-separated (\"CSV UTF-8\") "
                                   "and try again"])  # fmt: skip
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
            [f"{path.name}: the header is longer than {MAX_HEADER_BYTES >> 20} MiB; is this a "
             "CSV of patients?"]
        )  # fmt: skip
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
    """``path`` as a regular file that can be read twice: a pipe or device (``--data
    /dev/stdin``) is first copied to a temporary file of the same name, removed afterwards.

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
            parse_options=pacsv.ParseOptions(newlines_in_values=True,
                                              invalid_row_handler=skip_ragged),
            convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=False,
                                                 quoted_strings_can_be_null=False),
        )  # fmt: skip
        if _check_names(path, reader.schema.names) != [n.strip() for n in raw_names]:
            raise DataValidationError([f"{path.name}: the header cannot be read consistently "
                                       "(check its quotes)"])  # fmt: skip
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
            [f"{path.name}: {what} another number of cells than the {len(raw_names)} columns "
             f"of the header (lines {', '.join(lines)}{more}: {', '.join(cells)}{more})"]
        )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Column parsing: distinct texts once, verdicts mapped to rows


def _encode(array: pa.Array, file: str, column: str) -> tuple[np.ndarray, pa.Array]:
    """Each cell as a code into the column's distinct values: ``(codes, dictionary)``.

    A missing cell gets the code ``len(dictionary)``.
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


def _texts(dictionary: pa.Array, file: str, column: str) -> pd.Series:
    """The distinct values as written (Parquet values in their text form), then ``""`` for a
    missing cell (the code :func:`_encode` gives it)."""
    if not (pa.types.is_string(dictionary.type) or pa.types.is_large_string(dictionary.type)):
        try:
            dictionary = pc.cast(dictionary, pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise DataValidationError(
                [f"{file}: column '{column}': values of type {dictionary.type} cannot be read"]
            ) from None
    return pd.Series([*dictionary.to_pylist(), ""], dtype=object).fillna("")


def _codes_and_texts(array: pa.Array, file: str, column: str) -> tuple[np.ndarray, pd.Series]:
    codes, dictionary = _encode(array, file, column)
    return codes, _texts(dictionary, file, column)


def _arrow_text(array: pa.Array, file: str = "", column: str = "") -> pa.Array:
    """Cells as trimmed ``large_string`` text; missing cells as ``""``."""
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    try:
        text = pc.cast(array, pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise DataValidationError(
            [f"{file}: column '{column}': values of type {array.type} cannot be read as text"]
        ) from None
    return pc.utf8_trim_whitespace(pc.fill_null(text, ""))


@dataclass
class _Parsed:
    """A column of one batch: row values, and on demand which rows have no problem and the
    text of some rows as the file holds it."""

    values: np.ndarray
    fine: Callable[[], np.ndarray]
    texts: Callable[[np.ndarray], list[str]]


@dataclass
class _Verdicts:
    """What a column's distinct texts mean: a value each, and per problem which are bad."""

    texts: pa.Array
    values: np.ndarray
    problems: dict[str, tuple[np.ndarray, np.ndarray | None]]

    @classmethod
    def merge(cls, old: _Verdicts | None, texts: pa.Array, values: np.ndarray,
              problems: dict[str, tuple[np.ndarray, np.ndarray | None]]) -> _Verdicts:  # fmt: skip
        """``old`` with newly judged texts appended."""
        if old is None:
            return cls(texts, values, problems)
        merged = {}
        for what, (bad, shown) in problems.items():
            old_bad, old_shown = old.problems[what]
            merged[what] = (
                np.concatenate([old_bad, bad]),
                None if shown is None else np.concatenate([old_shown, shown]),
            )
        return cls(pa.concat_arrays([old.texts, texts]), np.concatenate([old.values, values]),
                   merged)  # fmt: skip

    def fine(self) -> np.ndarray:
        """Which judged texts have no problem."""
        bad = np.zeros(len(self.values), dtype=bool)
        for flagged, _ in self.problems.values():
            bad |= flagged
        return ~bad


class _Columns:
    """Parses the batches of a team's patients file into typed columns, allocated once."""

    def __init__(self, file: str, names: list[str], kb: Knowledge, roles: dict[str, str],
                 rows_at_most: int, require: frozenset[str] = frozenset()) -> None:  # fmt: skip
        self.file = file
        self.require_truth = "pathway" in require
        self.kb = kb
        self.roles = roles
        # Every column a team may give, and those of a generated cohort's hidden ones present.
        self.columns = {c.name: c for c in patient_columns(kb)
                        if roles[c.name] != "generator only" or c.name in names}  # fmt: skip
        self.needed = {c for c, role in roles.items() if role == "required"} | set(require)
        self.missable = {f.name for f in kb.findings if f.can_be_missing}
        self.names = names
        self.checker = _Checker(file)
        self._verdicts: dict[str, _Verdicts] = {}
        # Extra columns of nested values (Parquet lists, structs): ignored, as extra columns
        # are, but not kept (they have no text form).
        self.ignored: set[str] = set()
        # Text columns (ids, extras) as Arrow pieces; the others straight into numpy arrays
        # (np.empty touches no memory until rows are written).
        self.pieces: dict[str, list[pa.Array]] = {}
        self.arrays: dict[str, list[np.ndarray]] = {}
        # The confirmed pathway follows from the confirmed condition when not given.
        self.derive_pathway = "condition" in names and "pathway" not in names
        for name in [*names, *(["pathway"] if self.derive_pathway else [])]:
            column = self.columns.get(name)
            if column is None or column.dtype == "string":
                self.pieces[name] = []
            else:
                dtype = {"bool": bool, "boolean": bool, "category": np.int8}.get(
                    column.dtype, column.dtype
                )
                parts = 2 if column.dtype == "boolean" else 1  # values and mask
                self.arrays[name] = [np.empty(rows_at_most, dtype) for _ in range(parts)]
        conditions = list(self.columns["condition"].categories or ())
        pathways = list(self.columns["pathway"].categories or ())
        pathway_of = kb.pathway_of()
        self.chronic_weeks = int(kb.shared["chronic_threshold_weeks"])
        self._pathway_of_condition = np.array(
            [pathways.index(pathway_of[c]) for c in conditions], dtype=np.int8
        )

    def add(self, batch: pa.RecordBatch, offset: int) -> None:
        codes, parsed = {}, {}
        for i, name in enumerate(self.names):
            array = batch.column(i)
            column = self.columns.get(name)
            if column is None:
                if name in self.ignored or pa.types.is_nested(array.type):
                    self.ignored.add(name)
                    self.pieces.pop(name, None)
                    continue
                self.pieces[name].append(_arrow_text(array, self.file, name))
            elif name == "patient_id":
                self.pieces[name].append(self._ids(array, offset))
            else:
                parsed[name] = self._parse(name, column, array, offset)
                codes[name] = parsed[name].values
        if "chronic" in codes:
            codes["chronic"] = self._check_chronic(parsed, offset)
        if "condition" in codes:
            codes["pathway"] = self._fill_pathway(codes["condition"], codes.get("pathway"), offset)
        for name, values in codes.items():
            self._store(name, self.columns[name], values, offset)

    def _store(self, name: str, column: Column, values: np.ndarray, offset: int) -> None:
        targets = self.arrays[name]
        end = offset + len(values)
        if end > len(targets[0]):  # the file grew while being read
            targets[:] = [np.concatenate([t, np.empty(end - len(t), t.dtype)]) for t in targets]
        if column.dtype == "boolean":
            targets[0][offset:end] = values == 1
            targets[1][offset:end] = values < 0
        elif column.dtype == "bool":
            targets[0][offset:end] = values == 1
        else:
            targets[0][offset:end] = values

    def _ids(self, array: pa.Array, offset: int) -> pa.Array:
        ids = _arrow_text(array, self.file, "patient_id")
        empty = np.flatnonzero(pc.equal(ids, "").to_numpy(zero_copy_only=False))
        self.checker.flag("patient_id", "empty (every patient needs an id)", empty, offset)
        return ids

    def _parse(self, name: str, column: Column, array: pa.Array, offset: int) -> _Parsed:
        """Row values as numpy: booleans (int8, -1 = missing), numbers, or category codes.

        Each distinct text of a column is judged once, when a batch first brings it (a table
        of verdicts grows per column); the verdicts reach the rows by indexing with codes.
        Typed Parquet numbers and booleans are judged as they are, without text.
        """
        if column.dtype in ("int8", "int16", "float64") and (
            pa.types.is_integer(array.type) or pa.types.is_floating(array.type)
        ):
            return self._typed_numbers(name, column, array, offset)
        if column.dtype in ("bool", "boolean") and pa.types.is_boolean(array.type):
            return self._typed_booleans(name, array, offset)
        if column.dtype == "float64":  # texts nearly all distinct: no table of verdicts
            self._verdicts.pop(name, None)
            with contextlib.suppress(pa.ArrowInvalid, pa.ArrowNotImplementedError):
                numbers = pc.cast(_arrow_text(array, self.file, name), pa.float64())
                return self._typed_numbers(name, column, numbers, offset)  # every cell a number
        codes, dictionary = _encode(array, self.file, name)
        texts = _texts(dictionary, self.file, name)  # distinct texts, then "" for missing
        table = self._verdicts.get(name)
        where = None if table is None else pc.index_in(pa.array(texts, pa.string()), table.texts)
        if where is None or where.null_count:
            new = texts if where is None else texts[pc.is_null(where).to_numpy(False)]
            values, problems = self._judge(name, column, new.reset_index(drop=True))
            table = _Verdicts.merge(table, pa.array(new, pa.string()), values, problems)
            self._verdicts[name] = table
            where = pc.index_in(pa.array(texts, pa.string()), table.texts)
        rows = where.to_numpy(False).astype(np.int64)[codes]  # row -> judged text
        for what, (bad, shown) in table.problems.items():
            positions = np.flatnonzero(bad[rows])
            first = None if shown is None else list(shown[rows[positions[:MAX_ROWS_SHOWN]]])
            self.checker.flag(name, what, positions, offset, first)
        return _Parsed(
            table.values[rows],
            fine=lambda: table.fine()[rows],
            texts=lambda at: [table.texts[rows[i]].as_py().strip() for i in at],
        )

    def _typed_numbers(self, name: str, column: Column, array: pa.Array,
                       offset: int) -> _Parsed:  # fmt: skip
        """A Parquet column of numbers, checked as :meth:`_judge` checks their texts."""
        if array.null_count:
            missing = array.is_null().to_numpy(zero_copy_only=False)
            numbers = pc.fill_null(pc.cast(array, pa.float64()), np.nan).to_numpy(False)
        else:  # the common case, without Arrow's masks
            missing = np.zeros(len(array), dtype=bool)
            numbers = array.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
        finite = np.isfinite(numbers)
        low, high = RANGES[name]
        if column.dtype == "float64":
            usable, what = finite, "not a number"
            needed = name in self.needed
        else:
            usable, what = finite & (numbers == np.floor(np.where(finite, numbers, 0))), (
                "not a whole number")  # fmt: skip
            needed = True
        out_of_range = usable & ((numbers < low) | (numbers > high))

        def texts(at: np.ndarray) -> list[str]:
            return pc.cast(array.take(pa.array(at, pa.int64())), pa.string()).to_pylist()

        for bad, problem, quote in [
            (~usable & ~missing, what, True),
            (missing if needed else np.zeros(0, bool), "empty (a value is required)", None),
            (out_of_range, f"out of range {low:g}–{high:g}", False),
        ]:
            positions = np.flatnonzero(bad)
            if len(positions):
                first = None if quote is None else _show(texts(positions[:MAX_ROWS_SHOWN]), quote)
                self.checker.flag(name, problem, positions, offset, first)
        if column.dtype == "float64":
            values = np.where(finite, numbers, np.nan)
        else:
            values = np.where(usable, np.clip(numbers, low, high), low).astype(column.dtype)
        fine = usable & ~out_of_range
        return _Parsed(values, fine=lambda: fine, texts=texts)

    def _typed_booleans(self, name: str, array: pa.Array, offset: int) -> _Parsed:
        """A Parquet column of booleans: -1 where missing, unless the finding is required."""
        if array.null_count:
            values = pc.fill_null(pc.cast(array, pa.int8()), -1).to_numpy(zero_copy_only=False)
        else:
            values = array.to_numpy(zero_copy_only=False).view(np.int8)
        if name not in self.missable and name != "chronic":
            empty = np.flatnonzero(values < 0)
            self.checker.flag(name, "not yes/no (true/false, 1/0, yes/no; this finding is "
                              "required)", empty, offset, ["''"] * min(len(empty),
                                                           MAX_ROWS_SHOWN))  # fmt: skip
            values = np.maximum(values, 0)

        def texts(at: np.ndarray) -> list[str]:
            return pc.cast(array.take(pa.array(at, pa.int64())), pa.string()).to_pylist()

        return _Parsed(values, fine=lambda: values >= 0, texts=texts)

    def _judge(self, name: str, column: Column, texts: pd.Series) -> tuple[np.ndarray, dict]:
        """Value of each distinct text, and each possible problem: what -> (bad, shown)."""
        stripped = texts.str.strip()
        lower = stripped.str.lower()
        missing = lower.isin(MISSING_TEXT).to_numpy()
        quoted = np.array(_show(texts), dtype=object)
        problems: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}

        def flag(bad: np.ndarray, what: str, shown: np.ndarray | None = quoted) -> None:
            problems[what] = (bad, shown)

        if column.dtype in ("bool", "boolean"):
            optional = name in self.missable or name == "chronic"
            true, false = lower.isin(TRUE_TEXT).to_numpy(), lower.isin(FALSE_TEXT).to_numpy()
            empty = {"chronic": "; empty = derived from symptom_duration_weeks)"}.get(
                name, "; empty = not recorded)" if optional else "; this finding is required)"
            )
            flag(~(true | false | (missing if optional else False)),
                 "not yes/no (true/false, 1/0, yes/no" + empty)  # fmt: skip
            values = np.where(true, 1, np.where(false | (not optional), 0, -1)).astype(np.int8)
            return values, problems
        if column.dtype == "float64":
            numbers = pd.to_numeric(stripped.where(~missing), errors="coerce").to_numpy(float)
            parsed = ~np.isnan(numbers)
            with contextlib.suppress(pa.ArrowInvalid):  # Arrow's parser is exact; pandas's not
                exact = pc.cast(pa.array(stripped[parsed], pa.string()), pa.float64())
                numbers[parsed] = exact.to_numpy(zero_copy_only=False)
            finite = np.isfinite(numbers)
            flag(~finite & ~missing, "not a number")
            if name in self.needed:
                flag(missing, "empty (a value is required)", None)
            low, high = RANGES[name]
            flag(finite & ((numbers < low) | (numbers > high)), f"out of range {low:g}–{high:g}",
                 stripped.to_numpy())  # fmt: skip
            return np.where(finite, numbers, np.nan), problems
        if column.dtype in ("int8", "int16"):
            numbers = pd.to_numeric(stripped.where(~missing), errors="coerce").to_numpy(float)
            finite = np.isfinite(numbers)
            whole = finite & (numbers == np.floor(np.where(finite, numbers, 0)))
            flag(~whole & ~missing, "not a whole number")
            flag(missing, "empty (a value is required)", None)
            low, high = RANGES[name]
            flag(whole & ((numbers < low) | (numbers > high)), f"out of range {low:g}–{high:g}",
                 stripped.to_numpy())  # fmt: skip
            values = np.where(whole, np.clip(numbers, low, high), low).astype(column.dtype)
            return values, problems
        # A category.
        allowed = list(column.categories or ())
        known = stripped.isin(allowed).to_numpy()
        missing &= ~known  # 'none' is a category of secondary_condition, not a missing cell
        flag(~known & ~missing, f"not one of: {', '.join(allowed)}",
             np.array(_show(stripped), dtype=object))  # fmt: skip
        if name in self.needed and name != "pathway":
            flag(missing, "empty (a value is required)", None)
        elif name == "pathway" and "condition" not in self.names:
            flag(missing, "empty (the confirmed pathway)", None)
        codes = pd.Categorical(stripped.where(known), categories=allowed).codes
        return codes.astype(np.int8), problems

    def _check_chronic(self, parsed: dict[str, _Parsed], offset: int) -> np.ndarray:
        """``chronic`` filled where empty from the symptom duration (more than the knowledge
        base's threshold of weeks); a given flag contradicting a valid duration is flagged."""
        flag, duration = parsed["chronic"].values, parsed["symptom_duration_weeks"]
        weeks = duration.values
        derived = weeks > self.chronic_weeks
        given = flag >= 0
        bad = np.flatnonzero(given & ((flag == 1) != derived) & duration.fine())
        if len(bad):
            first = bad[:MAX_ROWS_SHOWN]
            shown = [f"{text!r} with {weeks[i]} week" + ("" if weeks[i] == 1 else "s")
                     for text, i in zip(parsed["chronic"].texts(first), first,
                                        strict=True)]  # fmt: skip
            what = (f"contradict column 'symptom_duration_weeks' (chronic means more than "
                    f"{self.chronic_weeks} weeks)")  # fmt: skip
            self.checker.flag("chronic", what, bad, offset, shown)
        return np.where(given, flag, derived).astype(np.int8)

    def _fill_pathway(self, condition: np.ndarray, pathway: np.ndarray | None,
                      offset: int) -> np.ndarray:  # fmt: skip
        """The confirmed pathway, from the condition where absent or empty (``pathway`` is
        None without a pathway column); given ones are checked against the condition."""
        known = condition >= 0
        implied = np.where(known, self._pathway_of_condition[np.where(known, condition, 0)], -1)
        named = "condition" in self.needed  # an empty condition is named in its own column
        if pathway is None:
            if self.require_truth and not named:
                what = ("empty (there is no 'pathway' column: the confirmed pathway comes from "
                        "the condition)")  # fmt: skip
                self.checker.flag("condition", what, np.flatnonzero(~known), offset)
            return implied.astype(np.int8)
        self._check_truth(condition, pathway, offset)
        if not named:
            neither = np.flatnonzero((pathway < 0) & ~known)
            what = "empty (the confirmed pathway), and so is column 'condition'"
            self.checker.flag("pathway", what, neither, offset)
        return np.where(pathway >= 0, pathway, implied).astype(np.int8)

    def _check_truth(self, condition: np.ndarray, pathway: np.ndarray, offset: int) -> None:
        both = (condition >= 0) & (pathway >= 0)
        expected = self._pathway_of_condition[np.where(both, condition, 0)]
        bad = np.flatnonzero(both & (pathway != expected))
        if len(bad):
            conditions = self.columns["condition"].categories or ()
            pathways = self.columns["pathway"].categories or ()
            shown = [f"{pathways[pathway[i]]!r} ({conditions[condition[i]]} → "
                     f"{pathways[expected[i]]!r})" for i in bad[:MAX_ROWS_SHOWN]]  # fmt: skip
            what = "contradict column 'condition' (each condition has one pathway)"
            self.checker.flag("pathway", what, bad, offset, shown)

    def column(self, name: str, rows: int) -> Any:
        """The whole column (``rows`` long), typed; the reader lets go of it."""
        column = self.columns.get(name)
        if name in self.pieces:
            pieces = self.pieces.pop(name)
            return pd.arrays.ArrowStringArray(pa.chunked_array(pieces, pa.large_string()))
        targets = [t[:rows] for t in self.arrays.pop(name)]
        if column.dtype == "boolean":
            return pd.arrays.BooleanArray(targets[0], targets[1])
        if column.dtype == "category":
            return pd.Categorical.from_codes(targets[0], categories=list(column.categories or ()))
        return targets[0]


def _sorted(ids: pa.ChunkedArray) -> tuple[np.ndarray, pa.ChunkedArray]:
    """Order that sorts ``ids``, and the sorted ids.

    Sorting needs a fraction of the memory of a hash table over millions of ids (about
    220 MB against 770 MB for five million), and no Python object per id.
    """
    order = pc.sort_indices(ids)
    return order.to_numpy(), ids.take(order)


def _duplicates(ids: pa.ChunkedArray) -> np.ndarray:
    """Positions of ids that occur more than once, in file order."""
    if len(ids) < 2:
        return np.empty(0, dtype=np.int64)
    order, ordered = _sorted(ids)
    same = pc.equal(ordered.slice(1), ordered.slice(0, len(ids) - 1))
    same = same.to_numpy(zero_copy_only=False) if isinstance(same, pa.Array) else np.concatenate(
        [c.to_numpy(zero_copy_only=False) for c in same.chunks])  # fmt: skip
    if not same.any():
        return np.empty(0, dtype=np.int64)
    repeated = np.zeros(len(ids), dtype=bool)
    repeated[1:] |= same
    repeated[:-1] |= same
    return np.sort(order[repeated]).astype(np.int64)


def _align(known: pa.ChunkedArray, given: pa.ChunkedArray) -> np.ndarray | None:
    """Row of ``given`` holding each id of ``known``, when both hold the same ids once each
    (found by sorting both); None otherwise."""
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


#: What each column a caller may require (beyond the required ones) holds.
REQUIRABLE = {
    "pathway": "the confirmed pathway",
    "condition": "the confirmed condition",
    "secondary_condition": "a generated cohort's secondary contributor",
    "latent_severity": "a generated cohort's latent severity",
}


def read_patients(
    path: str | Path,
    *,
    require_truth: bool = False,
    require: Iterable[str] = (),
    strict: bool = False,
) -> pd.DataFrame:
    """Read and validate a team's ``patients`` file (CSV or Parquet) into canonical dtypes.

    A generated cohort is read the same way: its columns hidden from triage
    (``secondary_condition``, ``latent_severity``), when present, are checked and kept with
    the generator's dtypes.

    Parameters
    ----------
    path
        The file. CSV booleans may be true/false, 1/0 or yes/no; an empty cell in an exam or
        red-flag column means "not recorded", and in ``chronic`` "derived from the symptom
        duration".
    require_truth
        The confirmed ``pathway`` must be known for every patient (needed to evaluate): given,
        or filled from the confirmed ``condition`` (the knowledge base's condition ->
        pathway map) where the column is absent or the cell empty.
    require
        Further columns that must be present with a value for every patient, from
        :data:`REQUIRABLE`: simulating recovery needs the condition and a generated cohort's
        hidden columns.
    strict
        Column names are matched to the known ones ignoring case (:func:`match_columns`); a
        column that looks like a finding or red flag but matches none is reported as an
        :class:`InputWarning`, or with ``strict`` as an error.

    Returns
    -------
    pandas.DataFrame
        The ``patients`` table: required and present optional columns with the generator's
        dtypes (absent exam signs and red flags added as not recorded; ``chronic`` derived
        from the symptom duration when absent or empty; ``patient_id`` as Arrow-backed
        text), then any extra columns of the file, as Arrow-backed text.

    Raises
    ------
    DataValidationError
        Naming the file, the column, up to 10 rows and the count of each problem; a
        confirmed ``pathway`` that is not the ``condition``'s pathway is one, and so is a
        ``chronic`` flag that contradicts the symptom duration.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = write_template(pathlib.Path(tempfile.mkdtemp()) / "mine.csv")
    >>> read_patients(path)["pain_nrs"].dtype.name
    'int8'
    """
    path = Path(path)
    needed = frozenset(require) | ({"pathway"} if require_truth else frozenset())
    unknown = sorted(needed - set(REQUIRABLE))
    if unknown:
        raise ValueError(f"require: {unknown[0]!r} is not one of {', '.join(REQUIRABLE)}")
    with readable_file(path) as readable:
        return _read_patients(readable, needed, strict)


def _read_patients(path: Path, needed: frozenset[str], strict: bool) -> pd.DataFrame:
    kb = load_knowledge()
    roles = column_roles(kb)
    header, rows_at_most, batches = _open_table(path)
    header = match_columns(path.name, header, roles, [f.name for f in kb.findings], strict=strict)
    _check_header(path.name, header, roles, needed)
    columns = _Columns(path.name, header, kb, roles, rows_at_most, needed)
    rows = 0
    for batch in batches:
        columns.add(batch, rows)
        rows += batch.num_rows
    if rows == 0:
        raise DataValidationError([f"{path.name}: the file has a header but no data rows"])
    problems = columns.checker.problems()
    ids = pa.chunked_array(columns.pieces["patient_id"], pa.large_string())
    duplicated = _duplicates(ids)
    if len(duplicated):
        shown = _show(ids.take(pa.array(duplicated[:MAX_ROWS_SHOWN])).to_pylist())
        problems.append(_problem(path.name, "patient_id", "share an id with another row",
                                 len(duplicated), duplicated[:MAX_ROWS_SHOWN].tolist(),
                                 shown))  # fmt: skip
    del ids
    if problems:
        raise DataValidationError(problems)
    present = {*header, *(["pathway"] if columns.derive_pathway else [])}
    data: dict[str, Any] = {c: columns.column(c, rows) for c in columns.columns if c in present}
    for finding in kb.findings:
        if finding.can_be_missing and finding.name not in data:
            data[finding.name] = pd.arrays.BooleanArray(np.zeros(rows, bool), np.ones(rows, bool))
    for name in ("occupation", "onset", "trigger", "side"):
        if name not in data:
            data[name] = pd.Categorical.from_codes(
                np.full(rows, -1, np.int8), categories=columns.columns[name].categories
            )
    if "chronic" not in data:
        data["chronic"] = data["symptom_duration_weeks"] > columns.chronic_weeks
    order = [c for c in columns.columns if c in data]
    for extra in [c for c in header if c not in columns.columns and c not in columns.ignored]:
        data[extra] = columns.column(extra, rows)
        order.append(extra)
    # copy=False: no block consolidation, so the columns are not copied once more.
    frame = pd.DataFrame({c: data.pop(c) for c in order}, index=pd.RangeIndex(rows), copy=False)
    pa.default_memory_pool().release_unused()  # what the batches used, back to the system
    schema = patients_schema(generated=False, require=needed)
    # Ids were checked unique above (by sorting); pandera's own check would hold on to some
    # 730 MB for five million Arrow-backed ids.
    schema = schema.update_column("patient_id", unique=False)
    return schema.validate(frame, inplace=True)


def _check_header(file: str, header: list[str], roles: dict[str, str], needed: frozenset[str]):
    problems = []
    missing = [c for c, role in roles.items() if role == "required" and c not in header]
    if missing:
        shown = ", ".join(repr(c) for c in missing[:MAX_ROWS_SHOWN])
        more = ", …" if len(missing) > MAX_ROWS_SHOWN else ""
        problems.append(f"{file}: missing required column(s) {shown}{more} "
                        f"({len(missing)} missing; see docs/data_dictionary.md)")  # fmt: skip
    if "pathway" in needed and "pathway" not in header and "condition" not in header:
        problems.append(f"{file}: missing column 'pathway' (the confirmed pathway, needed to "
                        "evaluate triage; or 'condition', the confirmed diagnosis, which gives "
                        "it)")  # fmt: skip
    absent = [c for c in REQUIRABLE if c in needed and c != "pathway" and c not in header]
    if absent:
        shown = ", ".join(f"{c!r} ({REQUIRABLE[c]})" for c in absent)
        problems.append(f"{file}: missing column(s) {shown}, needed here")
    if problems:
        raise DataValidationError(problems)


# --------------------------------------------------------------------------------------------
# Predictions


def _probabilities(array: pa.Array, file: str, column: str) -> tuple[np.ndarray, np.ndarray,
                                                                       pd.Series]:  # fmt: skip
    """Numbers of a probability column (NaN where not a number), with codes and texts."""
    if pa.types.is_integer(array.type) or pa.types.is_floating(array.type):
        values = pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False)
        return values, np.arange(len(values)), pd.Series(values).astype(str)
    codes, texts = _codes_and_texts(array, file, column)
    numbers = pd.to_numeric(texts.str.strip(), errors="coerce").to_numpy(float)
    return numbers[codes], codes, texts


def _id_text(ids: pd.Series) -> pa.ChunkedArray:
    """Patient ids as trimmed Arrow text, without a Python string per patient.

    Ids of :func:`read_patients` (Arrow-backed, trimmed already) are used as they are.
    """
    if isinstance(ids.dtype, pd.StringDtype) and ids.dtype.storage == "pyarrow":
        return pa.chunked_array(ids.array.__arrow_array__()).cast(pa.large_string())
    array = pa.array(ids.astype(str).to_numpy(dtype=object), pa.large_string())
    return pa.chunked_array([_arrow_text(array, "patients", "patient_id")])


def read_predictions(path: str | Path, patients: pd.DataFrame) -> pd.DataFrame:
    """Read a team's triage calls and align them to ``patients`` (same order).

    The file holds ``patient_id`` and ``pathway`` and, optionally, one probability column
    ``p_<pathway>`` per pathway (each in [0, 1], summing to 1 per row). It is streamed like
    :func:`read_patients`; ids are matched by hashing in Arrow.

    Returns
    -------
    pandas.DataFrame
        ``pathway`` (categorical) and the probability columns if given, indexed like
        ``patients``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> patients = read_patients(write_template(folder / "p.csv"))
    >>> _ = (folder / "t.csv").write_text(
    ...     "patient_id,pathway\\n" + "".join(f"{i},spinal\\n" for i in patients["patient_id"]))
    >>> read_predictions(folder / "t.csv", patients)["pathway"].tolist()
    ['spinal', 'spinal', 'spinal']
    """
    with readable_file(path) as readable:
        return _read_predictions(readable, patients)


#: Columns that only a patients file holds: predictions carrying them are the truth.
TRUTH_IN_PREDICTIONS = ("condition", "secondary_condition", "latent_severity")


def _read_predictions(path: Path, patients: pd.DataFrame) -> pd.DataFrame:
    file = path.name
    pathways = list(load_knowledge().pathways)
    header, rows_at_most, batches = _open_table(path)
    known = ["patient_id", "pathway", *(f"{PROBABILITY_PREFIX}{p}" for p in pathways)]
    header = match_columns(file, header, [*known, *TRUTH_IN_PREDICTIONS])
    truth = [c for c in TRUTH_IN_PREDICTIONS if c in header]
    required = [c for c, role in column_roles().items() if role == "required"]
    if truth or all(c in header for c in required):
        what = f"the truth column(s) {', '.join(map(repr, truth))}" if truth else (
            "every required column of a patients file")  # fmt: skip
        raise DataValidationError(
            [f"{file}: holds {what}: it looks like a patients file, not triage calls (the "
             "predictions must be your triage's calls, or every call would score as right)"]
        )  # fmt: skip
    missing = [f"{file}: missing required column '{c}'" for c in ("patient_id", "pathway")
               if c not in header]  # fmt: skip
    if missing:
        raise DataValidationError(missing)
    problems = []
    prob_columns = [c for c in header if c.startswith(PROBABILITY_PREFIX)]
    expected = [f"{PROBABILITY_PREFIX}{p}" for p in pathways]
    if prob_columns and sorted(prob_columns) != sorted(expected):
        problems.append(f"{file}: probability columns must be exactly {', '.join(expected)}; "
                        f"got {', '.join(prob_columns)}")  # fmt: skip
        prob_columns = []
    prob_columns = expected if prob_columns else []
    checker = _Checker(file)
    ids = []
    # Allocated once (np.empty touches no memory until written), as for the patients.
    calls = np.empty(rows_at_most, np.int8)
    proba = {c: np.empty(rows_at_most) for c in prob_columns}
    rows = 0
    for batch in batches:
        end = rows + batch.num_rows
        if end > len(calls):  # the file grew while being read
            calls = np.concatenate([calls, np.empty(end - len(calls), np.int8)])
            proba = {c: np.concatenate([v, np.empty(end - len(v))]) for c, v in proba.items()}
        ids.append(_arrow_text(batch.column(header.index("patient_id")), file, "patient_id"))
        codes, texts = _codes_and_texts(batch.column(header.index("pathway")), file, "pathway")
        stripped = texts.str.strip()
        known = pd.Categorical(stripped, categories=pathways).codes.astype(np.int8)
        unknown = np.flatnonzero(known[codes] < 0)
        checker.flag("pathway", f"not one of: {', '.join(pathways)}", unknown, rows,
                     _show(stripped.to_numpy()[codes[unknown[:MAX_ROWS_SHOWN]]]))  # fmt: skip
        calls[rows:end] = known[codes]
        total = np.zeros(batch.num_rows)
        for column in prob_columns:
            values, p_codes, p_texts = _probabilities(batch.column(header.index(column)), file,
                                                      column)  # fmt: skip
            bad = np.flatnonzero(~((values >= 0) & (values <= 1)))
            checker.flag(column, "not a probability in [0, 1]", bad, rows,
                         _show(p_texts.to_numpy()[p_codes[bad[:MAX_ROWS_SHOWN]]]))  # fmt: skip
            proba[column][rows:end] = values
            total += values
        if prob_columns:
            off = np.flatnonzero(np.abs(total - 1) > SUM_TOLERANCE)
            checker.flag("p_*", "probabilities not summing to 1", off, rows,
                         _show(np.round(total[off[:MAX_ROWS_SHOWN]], 3), quote=False))  # fmt: skip
        rows = end
    if rows == 0:
        raise DataValidationError([f"{file}: the file has a header but no data rows"])
    found = checker.problems()
    sums = [p for p in found if "not summing to 1" in p]
    problems += [p for p in found if p not in sums]
    if not problems:
        problems += sums  # a sum is only worth checking once every probability is one
    given = pa.chunked_array(ids, pa.large_string())
    del ids
    dup = _duplicates(given)
    if len(dup):
        shown = _show(given.take(pa.array(dup[:MAX_ROWS_SHOWN])).to_pylist())
        problems.append(_problem(file, "patient_id", "share an id with another row", len(dup),
                                 dup[:MAX_ROWS_SHOWN].tolist(), shown))  # fmt: skip
    known_ids = _id_text(patients["patient_id"])
    order = None if len(dup) else _align(known_ids, given)
    if order is None:  # ids differ: say which, with hash tables (then give their memory back)
        position = pc.index_in(known_ids, value_set=given)
        matched = pc.is_in(given, value_set=known_ids).to_numpy(False)
        without = np.flatnonzero(pc.is_null(position).to_numpy(False))
        del position
        pa.default_memory_pool().release_unused()
        strangers = np.flatnonzero(~matched)
        if len(strangers):
            shown = _show(given.take(pa.array(strangers[:MAX_ROWS_SHOWN])).to_pylist())
            problems.append(_problem(file, "patient_id", "are not patients of the data file",
                                     len(strangers), strangers[:MAX_ROWS_SHOWN].tolist(),
                                     shown))  # fmt: skip
        if len(without):
            first = known_ids.take(pa.array(without[:MAX_ROWS_SHOWN])).to_pylist()
            more = ", …" if len(without) > MAX_ROWS_SHOWN else ""
            problems.append(f"{file}: column 'patient_id': {len(without)} patient(s) of the "
                            f"data file have no prediction ({', '.join(first)}{more})")  # fmt: skip
        if not problems:  # unreachable: differing ids leave a stranger or a patient without
            problems.append(f"{file}: column 'patient_id': the ids do not match the data file")
    if problems:
        raise DataValidationError(problems)
    if len(order) == rows and (order == np.arange(rows)).all():
        order = slice(0, rows)  # the same order as the patients: no copy
    out = pd.DataFrame(
        {"pathway": pd.Categorical.from_codes(calls[order], categories=pathways)},
        index=patients.index,
    )
    for column in prob_columns:
        out[column] = proba.pop(column)[order]
    pa.default_memory_pool().release_unused()
    return out


# --------------------------------------------------------------------------------------------
# The team's calls beside the rules and a model, for any number of patients

#: Patients triaged per step by :func:`compare_calls` (bounds the memory of the model's
#: feature matrix: about 50 MB at this size).
BATCH_ROWS = 100_000


def compare_calls(
    patients: pd.DataFrame,
    predictions: pd.DataFrame,
    *,
    n_train: int = 20_000,
    seed: int = 0,
    batch_rows: int = BATCH_ROWS,
) -> dict[str, np.ndarray]:
    """A team's calls, the rules' and a synthetic-trained boosted model's, in bounded memory.

    The same three methods as :func:`outcomes.analysis.evaluate.team_methods` (a boosted model
    trained on ``n_train`` synthetic patients of the team's most common setting), giving
    the same calls (tested), but the patients are triaged ``batch_rows`` at a time: a
    model's feature matrix for five million patients would take 2.4 GB.

    Parameters
    ----------
    patients, predictions
        :func:`read_patients` and :func:`read_predictions` of the team's files.

    Returns
    -------
    dict
        ``your triage``, ``rules`` and ``boosted (synthetic)``: one pathway per patient each.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> team = generate(300, seed=5)
    >>> calls = compare_calls(team, pd.DataFrame({"pathway": team["pathway"]}), n_train=1000,
    ...                       batch_rows=128)
    >>> {name: len(c) for name, c in calls.items()}
    {'your triage': 300, 'rules': 300, 'boosted (synthetic)': 300}
    """
    from outcomes.engine.cohort import feature_columns, generate
    from outcomes.infra.progress import progress_bar
    from outcomes.triage.models import fit_model
    from outcomes.triage.rules import RulesTriage

    if batch_rows < 1:
        raise ValueError(f"batch_rows must be >= 1, got {batch_rows}")
    counts = patients["setting"].value_counts()
    setting = min(str(s) for s in counts.index[counts == counts.max()])  # as Series.mode()
    model = fit_model("boosted", generate(n_train, seed=seed, setting=setting), seed=seed)
    features = feature_columns()
    rules = RulesTriage().fit(patients.iloc[:batch_rows][features])
    n = len(patients)
    out = {name: np.empty(n, dtype=object) for name in ("rules", "boosted (synthetic)")}
    starts = range(0, n, batch_rows)
    for start in progress_bar(starts, desc="triage", unit="batch", min_total=10):
        batch = patients.iloc[start : start + batch_rows][features]  # rows first: no copy of all
        out["rules"][start : start + len(batch)] = rules.predict(batch)
        out["boosted (synthetic)"][start : start + len(batch)] = model.predict(batch)
    return {"your triage": shared_text(predictions["pathway"]), **out}


def shared_text(values: pd.Series) -> np.ndarray:
    """Values as an object array of text in which equal values are one Python string.

    ``Series.astype(str)`` on a categorical makes a new string per row (about 130 MB per
    million patients); this takes the category names instead (8 bytes per row).

    Examples
    --------
    >>> out = shared_text(pd.Series(["hip", "spinal", "hip"], dtype="category"))
    >>> out.tolist(), out[0] is out[2]
    (['hip', 'spinal', 'hip'], True)
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        names = np.asarray([str(c) for c in values.cat.categories], dtype=object)
        codes = values.cat.codes.to_numpy()
        if (codes < 0).any():
            raise ValueError(f"column {values.name!r} has missing values")
        return names[codes]
    return np.asarray(values.astype(str), dtype=object)


def scoring_table(patients: pd.DataFrame) -> pd.DataFrame:
    """What the metric and safety tables read of the patients: the confirmed ``pathway`` (as
    :func:`shared_text`) and the red flags, without copying the rest of the table.

    :func:`outcomes.analysis.evaluate.evaluate_methods` and
    :func:`outcomes.analysis.evaluate.safety_by_method` give the same tables with it as with
    ``patients``, for a fraction of the memory when the patients are millions.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> list(scoring_table(generate(5, seed=1)).columns)[:2]
    ['pathway', 'rf_bowel_bladder']
    """
    # Only the knowledge base's red flags: a team's extra "rf_..." column is not one.
    flags = {c: patients[c] for c in red_flag_columns() if c in patients.columns}
    table = pd.DataFrame({"pathway": shared_text(patients["pathway"]), **flags}, copy=False)
    return table.set_axis(patients.index)


def probability_tables(
    truth: Any, predictions: pd.DataFrame, *, batch_rows: int = BATCH_ROWS
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Brier scores and reliability bins of a team's ``p_<pathway>`` columns, in bounded memory.

    :func:`outcomes.analysis.evaluate.brier_scores` and
    :func:`outcomes.analysis.evaluate.calibration_table` run on ``batch_rows`` patients at a time
    and their sums are combined: the same tables
    as one call on every patient (tested), without the matrices a single call builds for
    millions of patients.

    Parameters
    ----------
    truth
        The confirmed pathway of each patient.
    predictions
        :func:`read_predictions` of a file with probabilities.

    Returns
    -------
    (brier, reliability)
        As :func:`outcomes.analysis.evaluate.brier_scores` and
        :func:`outcomes.analysis.evaluate.calibration_table`.

    Examples
    --------
    >>> calls = pd.DataFrame({"p_hip": [0.9, 0.2, 0.6], "p_spinal": [0.1, 0.8, 0.4]})
    >>> brier, bins = probability_tables(["hip", "spinal", "spinal"], calls, batch_rows=2)
    >>> brier["brier"].round(3).tolist()
    [0.137, 0.137, 0.273]
    """
    from outcomes.analysis import evaluate as ev
    from outcomes.analysis.intervals import wilson_interval as proportion_ci

    columns = [c for c in predictions.columns if str(c).startswith(PROBABILITY_PREFIX)]
    if not columns:
        raise ValueError(f"no probability columns ({PROBABILITY_PREFIX}<pathway>) to score")
    classes = [c.removeprefix(PROBABILITY_PREFIX) for c in columns]
    truth = pd.Series(truth).reset_index(drop=True)
    n = len(truth)
    sums, parts = None, []
    for start in range(0, n, batch_rows):
        t = truth.iloc[start : start + batch_rows]
        p = predictions.iloc[start : start + batch_rows][columns].to_numpy(dtype=float)
        brier = ev.brier_scores(t, p, classes)
        sums = brier["brier"] * len(t) if sums is None else sums + brier["brier"] * len(t)
        part = ev.calibration_table(t, p, classes)
        parts.append(part.assign(sum_p=part["mean_predicted"] * part["n"],
                                 hits=np.rint(part["observed"] * part["n"])))  # fmt: skip
    # Emergency first, then the classes' order, bins ascending: as calibration_table orders.
    order = {c: i for i, c in enumerate(sorted(classes, key=lambda c: c != ev.EMERGENCY))}
    bins = pd.concat(parts).groupby(["pathway", "bin"], sort=False)[["n", "sum_p", "hits"]].sum()
    bins = bins.reset_index().assign(rank=lambda f: f["pathway"].map(order))
    bins = bins.sort_values(["rank", "bin"]).reset_index(drop=True)
    intervals = [proportion_ci(int(h), int(k)) for h, k in zip(bins["hits"], bins["n"],
                                                                strict=True)]  # fmt: skip
    reliability = pd.DataFrame({
        "pathway": bins["pathway"], "bin": bins["bin"].astype(int),
        "mean_predicted": bins["sum_p"] / bins["n"], "observed": bins["hits"] / bins["n"],
        "low": [lo for lo, _ in intervals], "high": [hi for _, hi in intervals],
        "n": bins["n"].astype(int),
    })  # fmt: skip
    gap = reliability["n"] * (reliability["mean_predicted"] - reliability["observed"]).abs()
    error = gap.groupby(reliability["pathway"]).sum() / max(n, 1)
    error[ev.OVERALL] = error.mean()  # classwise ECE, as ev.brier_scores gives the "all" row
    brier = brier.assign(brier=sums / max(n, 1),
                         calibration_error=brier["pathway"].map(error).astype(float))  # fmt: skip
    return brier, reliability


# --------------------------------------------------------------------------------------------
# Template and data dictionary


def template_frame(n_examples: int = 3, seed: int = 0) -> pd.DataFrame:
    """Example rows of a team's ``patients`` file: every column a team may supply.

    Examples
    --------
    >>> template_frame(2).shape[0]
    2
    """
    from outcomes.engine.cohort import generate

    if n_examples < 1:
        raise ValueError(f"n_examples must be >= 1, got {n_examples}")
    roles = column_roles()
    example = generate(n_examples, seed=seed)
    keep = [c for c, role in roles.items() if role != "generator only"]
    frame = example[keep].copy()
    frame["patient_id"] = [f"P{i + 1:04d}" for i in range(n_examples)]
    return frame


def write_template(path: str | Path, n_examples: int = 3) -> Path:
    """Write a CSV template (header and a few example rows) atomically; returns the path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = write_template(pathlib.Path(tempfile.mkdtemp()) / "t.csv", n_examples=2)
    >>> len(out.read_text().splitlines())
    3
    """
    from outcomes.infra.io import write_table

    path = Path(path)
    if path.suffix.lower() not in (".csv", ".parquet"):
        raise ValueError(f"template must be .csv or .parquet, got {path.name!r}")
    return write_table(template_frame(n_examples), path)


def data_dictionary() -> pd.DataFrame:
    """Every column of a team's ``patients`` file: type, role, allowed values, meaning.

    Examples
    --------
    >>> d = data_dictionary().set_index("column")
    >>> d.loc["pain_nrs", "allowed values"]
    'whole number 0–10'
    """
    roles = column_roles()
    kb = load_knowledge()
    missable = {f.name for f in kb.findings if f.can_be_missing}
    rows = []
    for c in patient_columns(kb):
        role = roles[c.name]
        if role == "generator only":
            continue
        if c.dtype in ("bool", "boolean"):
            kind = "yes/no"
            allowed = "true/false, 1/0 or yes/no" + (
                "; empty = derived from symptom_duration_weeks" if c.name == "chronic"
                else "; empty = not recorded" if c.name in missable else "")  # fmt: skip
        elif c.dtype in ("int8", "int16"):
            kind = "integer"
            low, high = RANGES[c.name]
            allowed = f"whole number {low:g}–{high:g}"
        elif c.dtype == "category":
            kind = "category"
            allowed = ", ".join(c.categories or ())
        else:
            kind, allowed = "text", "any non-empty text, unique per patient"
        meaning = c.meaning.replace(" (hidden from triage)", "")
        if c.name == "chronic":
            meaning += ("; must agree with symptom_duration_weeks, and is derived from it when "
                        "absent or empty")  # fmt: skip
        rows.append((c.name, kind, role, allowed, meaning))
    return pd.DataFrame(rows, columns=["column", "type", "role", "allowed values", "meaning"])


def data_dictionary_markdown() -> str:
    """The data dictionary as Markdown (``docs/data_dictionary.md``; ``make docs``).

    Examples
    --------
    >>> data_dictionary_markdown().startswith("# Data dictionary")
    True
    """
    table = data_dictionary()
    lines = [
        "# Data dictionary: a team's patients file",
        "",
        "Generated from `outcomes.tables.schema` by `make docs` (do not edit). `outcomes template "
        "--out my_patients.csv` writes a file with these columns and a few example rows;",
        "`outcomes evaluate --data my_patients.csv --predictions my_triage.csv` checks it and",
        "evaluates the team's triage calls.",
        "",
        "- **required**: must be present, with a value in every row.",
        "- **optional**: may be absent; an empty cell (or an absent column) means not recorded.",
        "- **truth**: the confirmed pathway (needed to evaluate) and diagnosis, if known; when",
        "  both are given, the pathway must be the one the condition belongs to, and where only",
        "  the condition is given (no `pathway` column, or an empty cell) the pathway is filled",
        "  from it.",
        "- A generated cohort's columns hidden from triage (`secondary_condition`,",
        "  `latent_severity`) are checked like the others when present (`outcomes simulate`",
        "  needs them, and the condition).",
        "- Any other column is kept and ignored. Rows in error messages are data rows counted",
        "  from 1 (the header is not counted).",
        "",
        "Predictions file: `patient_id`, `pathway` (one of "
        + ", ".join(load_knowledge().pathways)
        + "), and optionally `p_<pathway>` probabilities for every pathway, summing to 1.",
        "",
        "Files are read in a stream (CSV or Parquet), so millions of patients fit in memory; a",
        "row with more or fewer cells than the header is named by its line in the file.",
        "",
        "| column | type | role | allowed values | meaning |",
        "|---|---|---|---|---|",
    ]
    for r in table.itertuples(index=False):
        lines.append("| " + " | ".join(str(v).replace("|", "/") for v in r) + " |")
    return "\n".join(lines) + "\n"


#: How the demo team's judgement departs from the exact posterior: flattened to this power...
DEMO_FLATTEN = 0.5
#: ...and perturbed by normal noise of this standard deviation on the log scale (seeded).
DEMO_NOISE = 2.0


def demo_files(folder: str | Path, n: int = 400, seed: int = 20261122) -> tuple[Path, Path]:
    """Write the demo ``patients`` and ``predictions`` CSVs of notebook 04 into ``folder``.

    The predictions imitate a team whose clinical judgement is sound but noisy: their
    ``p_<pathway>`` are the exact posterior (:class:`outcomes.triage.oracle.BayesOracle`) flattened
    (to the power :data:`DEMO_FLATTEN`) and perturbed by seeded noise on the log scale
    (standard deviation :data:`DEMO_NOISE`), rounded to 3 decimals; their call is the most
    probable pathway. So they are right more often than the rules and less often than the
    oracle, and their probabilities are slightly over-confident, as a real team's often are
    (a reliability curve that rises with the probability, a little below the diagonal).

    Examples
    --------
    >>> import tempfile
    >>> patients, calls = demo_files(tempfile.mkdtemp(), n=50)
    >>> table = read_predictions(calls, read_patients(patients))
    >>> len(table), list(table.columns)[:2]
    (50, ['pathway', 'p_emergency'])
    """
    from outcomes.engine.cohort import generate
    from outcomes.infra.io import write_table
    from outcomes.triage.oracle import BayesOracle

    folder = Path(folder)
    cohort = generate(n, seed=seed)
    roles = column_roles()
    keep = [c for c, role in roles.items() if role != "generator only"]
    patients = cohort[keep].copy()
    pathways = list(load_knowledge().pathways)
    oracle = BayesOracle().fit(cohort)
    posterior = pd.DataFrame(oracle.predict_proba(cohort), columns=oracle.classes_)[pathways]
    rng = np.random.default_rng(seed)
    logit = DEMO_FLATTEN * np.log(np.clip(posterior.to_numpy(), 1e-9, 1.0))
    logit += rng.normal(0.0, DEMO_NOISE, size=logit.shape)
    judged = np.exp(logit - logit.max(axis=1, keepdims=True))
    judged /= judged.sum(axis=1, keepdims=True)
    choice = judged.argmax(axis=1)
    calls = np.array(pathways, dtype=object)[choice]
    called = np.eye(len(pathways))[choice]
    proba = np.round(judged, 3)
    proba += called * (1.0 - proba.sum(axis=1, keepdims=True))  # rounding left on the call
    predictions = pd.DataFrame({"patient_id": cohort["patient_id"], "pathway": calls})
    for j, pathway in enumerate(pathways):
        predictions[f"{PROBABILITY_PREFIX}{pathway}"] = np.round(proba[:, j], 3)
    return (
        write_table(patients, folder / "demo_patients.csv"),
        write_table(predictions, folder / "demo_predictions.csv"),
    )
