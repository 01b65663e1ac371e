"""A team's ``patients`` file: read, validate and put it in the suite's canonical form.

:func:`read_patients` accepts a CSV or Parquet ``patients`` file (columns and roles in
``docs/data_dictionary.md``, made by
:func:`outcomes.tables.dictionary.data_dictionary_markdown`). Anything wrong raises one
:class:`outcomes.tables.problems.DataValidationError` whose first line names the file, the column,
up to 10 offending rows and how many there are, e.g.::

    my_patients.csv: column 'pain_nrs': 2 rows out of range 0–10 (rows 3, 17: 14, -1)

Rows are counted as data rows of the file, from 1, header not counted. Inputs are never
modified.

The file is streamed (:func:`outcomes.tables.files.open_table`), each column arriving
dictionary-encoded, so a column is validated by parsing its few distinct texts once and
mapping the verdicts back to the rows with numpy. Only the typed result is kept (yes/no as
booleans, numbers as small integers, categories as codes, ids and extra columns as Arrow
strings), so five million patients are read within 2 GB.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from outcomes.knowledge import Knowledge, load_knowledge
from outcomes.tables.columns import Column, patient_columns
from outcomes.tables.files import (
    arrow_text,
    distinct_texts,
    duplicate_positions,
    encode_cells,
    open_table,
    readable_file,
)
from outcomes.tables.problems import (
    MAX_ROWS_SHOWN,
    DataValidationError,
    ProblemLog,
    match_columns,
    problem_line,
    show_values,
)
from outcomes.tables.schema import RANGES, column_roles, patients_schema

#: Cell texts read as yes, no, and not recorded (compared in lower case, trimmed).
TRUE_TEXT = frozenset({"true", "1", "yes", "y", "t"})
FALSE_TEXT = frozenset({"false", "0", "no", "n", "f"})
MISSING_TEXT = frozenset({"", "na", "n/a", "nan", "<na>", "null", "none"})


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
    def merge(
        cls,
        old: _Verdicts | None,
        texts: pa.Array,
        values: np.ndarray,
        problems: dict[str, tuple[np.ndarray, np.ndarray | None]],
    ) -> _Verdicts:
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
        return cls(
            pa.concat_arrays([old.texts, texts]), np.concatenate([old.values, values]), merged
        )

    def fine(self) -> np.ndarray:
        """Which judged texts have no problem."""
        bad = np.zeros(len(self.values), dtype=bool)
        for flagged, _ in self.problems.values():
            bad |= flagged
        return ~bad


class _Columns:
    """Parses the batches of a team's patients file into typed columns, allocated once."""

    def __init__(
        self,
        file: str,
        names: list[str],
        kb: Knowledge,
        roles: dict[str, str],
        rows_at_most: int,
        require: frozenset[str] = frozenset(),
    ) -> None:
        self.file = file
        self.require_truth = "pathway" in require
        self.kb = kb
        self.roles = roles
        # Every column a team may give, and those of a generated cohort's hidden ones present.
        self.columns = {
            c.name: c
            for c in patient_columns(kb)
            if roles[c.name] != "generator only" or c.name in names
        }
        self.needed = {c for c, role in roles.items() if role == "required"} | set(require)
        self.missable = {f.name for f in kb.findings if f.can_be_missing}
        self.names = names
        self.checker = ProblemLog(file)
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
                self.pieces[name].append(arrow_text(array, self.file, name))
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
        ids = arrow_text(array, self.file, "patient_id")
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
                numbers = pc.cast(arrow_text(array, self.file, name), pa.float64())
                return self._typed_numbers(name, column, numbers, offset)  # every cell a number
        codes, dictionary = encode_cells(array, self.file, name)
        texts = distinct_texts(dictionary, self.file, name)  # distinct texts, then "" for missing
        table = self._verdicts.get(name)
        where = None if table is None else pc.index_in(pa.array(texts, pa.string()), table.texts)
        if table is None or where is None or where.null_count:  # table is None iff where is
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

    def _typed_numbers(self, name: str, column: Column, array: pa.Array, offset: int) -> _Parsed:
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
            usable, what = (
                finite & (numbers == np.floor(np.where(finite, numbers, 0))),
                ("not a whole number"),
            )
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
                first = (
                    None if quote is None else show_values(texts(positions[:MAX_ROWS_SHOWN]), quote)
                )
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
            self.checker.flag(
                name,
                "not yes/no (true/false, 1/0, yes/no; this finding is required)",
                empty,
                offset,
                ["''"] * min(len(empty), MAX_ROWS_SHOWN),
            )
            values = np.maximum(values, 0)

        def texts(at: np.ndarray) -> list[str]:
            return pc.cast(array.take(pa.array(at, pa.int64())), pa.string()).to_pylist()

        return _Parsed(values, fine=lambda: values >= 0, texts=texts)

    def _judge(self, name: str, column: Column, texts: pd.Series) -> tuple[np.ndarray, dict]:
        """Value of each distinct text, and each possible problem: what -> (bad, shown)."""
        stripped = texts.str.strip()
        lower = stripped.str.lower()
        missing = lower.isin(MISSING_TEXT).to_numpy()
        quoted = np.array(show_values(texts), dtype=object)
        problems: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}

        def flag(bad: np.ndarray, what: str, shown: np.ndarray | None = quoted) -> None:
            problems[what] = (bad, shown)

        if column.dtype in ("bool", "boolean"):
            optional = name in self.missable or name == "chronic"
            true, false = lower.isin(TRUE_TEXT).to_numpy(), lower.isin(FALSE_TEXT).to_numpy()
            empty = {"chronic": "; empty = derived from symptom_duration_weeks)"}.get(
                name, "; empty = not recorded)" if optional else "; this finding is required)"
            )
            flag(
                ~(true | false | (missing if optional else False)),
                "not yes/no (true/false, 1/0, yes/no" + empty,
            )
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
            flag(
                finite & ((numbers < low) | (numbers > high)),
                f"out of range {low:g}–{high:g}",
                stripped.to_numpy(),
            )
            return np.where(finite, numbers, np.nan), problems
        if column.dtype in ("int8", "int16"):
            numbers = pd.to_numeric(stripped.where(~missing), errors="coerce").to_numpy(float)
            finite = np.isfinite(numbers)
            whole = finite & (numbers == np.floor(np.where(finite, numbers, 0)))
            flag(~whole & ~missing, "not a whole number")
            flag(missing, "empty (a value is required)", None)
            low, high = RANGES[name]
            flag(
                whole & ((numbers < low) | (numbers > high)),
                f"out of range {low:g}–{high:g}",
                stripped.to_numpy(),
            )
            values = np.where(whole, np.clip(numbers, low, high), low).astype(column.dtype)
            return values, problems
        # A category.
        allowed = list(column.categories or ())
        known = stripped.isin(allowed).to_numpy()
        missing &= ~known  # 'none' is a category of secondary_condition, not a missing cell
        flag(
            ~known & ~missing,
            f"not one of: {', '.join(allowed)}",
            np.array(show_values(stripped), dtype=object),
        )
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
            shown = [
                f"{text!r} with {weeks[i]} week" + ("" if weeks[i] == 1 else "s")
                for text, i in zip(parsed["chronic"].texts(first), first, strict=True)
            ]
            what = (
                f"contradict column 'symptom_duration_weeks' (chronic means more than "
                f"{self.chronic_weeks} weeks)"
            )
            self.checker.flag("chronic", what, bad, offset, shown)
        return np.where(given, flag, derived).astype(np.int8)

    def _fill_pathway(
        self, condition: np.ndarray, pathway: np.ndarray | None, offset: int
    ) -> np.ndarray:
        """The confirmed pathway, from the condition where absent or empty (``pathway`` is
        None without a pathway column); given ones are checked against the condition."""
        known = condition >= 0
        implied = np.where(known, self._pathway_of_condition[np.where(known, condition, 0)], -1)
        named = "condition" in self.needed  # an empty condition is named in its own column
        if pathway is None:
            if self.require_truth and not named:
                what = (
                    "empty (there is no 'pathway' column: the confirmed pathway comes from "
                    "the condition)"
                )
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
            shown = [
                f"{pathways[pathway[i]]!r} ({conditions[condition[i]]} → {pathways[expected[i]]!r})"
                for i in bad[:MAX_ROWS_SHOWN]
            ]
            what = "contradict column 'condition' (each condition has one pathway)"
            self.checker.flag("pathway", what, bad, offset, shown)

    def column(self, name: str, rows: int) -> Any:
        """The whole column (``rows`` long), typed; the reader lets go of it."""
        if name in self.pieces:
            pieces = self.pieces.pop(name)
            return pd.arrays.ArrowStringArray(pa.chunked_array(pieces, pa.large_string()))
        targets = [t[:rows] for t in self.arrays.pop(name)]
        column = self.columns[name]
        if column.dtype == "boolean":
            return pd.arrays.BooleanArray(targets[0], targets[1])
        if column.dtype == "category":
            return pd.Categorical.from_codes(targets[0], categories=list(column.categories or ()))
        return targets[0]


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
    >>> from outcomes.analysis.userdata import write_template
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
    header, rows_at_most, batches = open_table(path)
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
    duplicated = duplicate_positions(ids)
    if len(duplicated):
        shown = show_values(ids.take(pa.array(duplicated[:MAX_ROWS_SHOWN])).to_pylist())
        problems.append(
            problem_line(
                path.name,
                "patient_id",
                "share an id with another row",
                len(duplicated),
                duplicated[:MAX_ROWS_SHOWN].tolist(),
                shown,
            )
        )
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
        problems.append(
            f"{file}: missing required column(s) {shown}{more} "
            f"({len(missing)} missing; see docs/data_dictionary.md)"
        )
    if "pathway" in needed and "pathway" not in header and "condition" not in header:
        problems.append(
            f"{file}: missing column 'pathway' (the confirmed pathway, needed to "
            "evaluate triage; or 'condition', the confirmed diagnosis, which gives "
            "it)"
        )
    absent = [c for c in REQUIRABLE if c in needed and c != "pathway" and c not in header]
    if absent:
        shown = ", ".join(f"{c!r} ({REQUIRABLE[c]})" for c in absent)
        problems.append(f"{file}: missing column(s) {shown}, needed here")
    if problems:
        raise DataValidationError(problems)


# --------------------------------------------------------------------------------------------
# Predictions
