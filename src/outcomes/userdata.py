"""A team's own records: read, validate and put them in the suite's canonical form.

:func:`read_patients` accepts a CSV or Parquet ``patients`` file (columns and roles in
``docs/data_dictionary.md``, made by :func:`data_dictionary_markdown`), and
:func:`read_predictions` the pathway each patient was triaged to (``patient_id``, ``pathway``,
optionally one ``p_<pathway>`` probability column per pathway). Anything wrong raises one
:class:`DataValidationError` whose first line names the file, the column, up to 10 offending
rows and how many there are, e.g.::

    my_patients.csv: column 'pain_nrs': 2 rows out of range 0–10 (rows 3, 17: 14, -1)

Rows are counted as data rows of the file, from 1, header not counted. Inputs are never
modified; CSV files are read in chunks, so a file of five million patients fits in memory.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from outcomes.cohort import Column, patient_columns
from outcomes.knowledge import load_knowledge
from outcomes.schema import RANGES, column_roles, patients_schema

MAX_ROWS_SHOWN = 10
CHUNK_ROWS = 50_000
TRUE_TEXT = frozenset({"true", "1", "yes", "y", "t"})
FALSE_TEXT = frozenset({"false", "0", "no", "n", "f"})
MISSING_TEXT = frozenset({"", "na", "n/a", "nan", "<na>", "null", "none"})
PROBABILITY_PREFIX = "p_"
SUM_TOLERANCE = 1e-3


class DataValidationError(ValueError):
    """A team's file cannot be used as it is. The first line says where and why."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        extra = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        super().__init__(problems[0] + extra + "".join(f"\n  {p}" for p in problems[1:]))


def _rows(positions: Iterable[int], values: Iterable[Any] | None = None) -> str:
    """``"rows 3, 17: 14, -1"`` for 0-based positions; at most :data:`MAX_ROWS_SHOWN`."""
    positions = list(positions)
    shown = [str(p + 1) for p in positions[:MAX_ROWS_SHOWN]]
    word = "row" if len(positions) == 1 else "rows"
    more = ", …" if len(positions) > MAX_ROWS_SHOWN else ""
    text = f"{word} {', '.join(shown)}{more}"
    if values is not None:
        vals = [repr(v) if isinstance(v, str) else str(v) for v in list(values)[:MAX_ROWS_SHOWN]]
        text += f": {', '.join(vals)}{more}"
    return text


def _problem(file: str, column: str, what: str, positions: np.ndarray, values: Any = None) -> str:
    count = len(positions)
    noun = "row" if count == 1 else "rows"
    return f"{file}: column '{column}': {count} {noun} {what} ({_rows(positions, values)})"


# --------------------------------------------------------------------------------------------
# Reading files


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


def _decode_error(path: Path, exc: UnicodeDecodeError) -> DataValidationError:
    with path.open("rb") as fh:
        data = fh.read()
    bad = data.find(exc.object[exc.start : exc.end]) if exc.object else -1
    line = data[: max(bad, 0)].count(b"\n") + 1
    return DataValidationError(
        [
            f"{path.name}: not UTF-8 text: byte 0x{exc.object[exc.start]:02x} on line {line} "
            "(save the file as UTF-8)"
        ]  # fmt: skip
    )


def read_table_text(path: str | Path) -> Iterable[pd.DataFrame]:
    """The file's cells as text, chunk by chunk (CSV), or typed columns as text (Parquet).

    Every cell is a string (empty = missing), so validation sees exactly what the file says.
    """
    path = Path(path)
    kind = _sniff(path)
    if kind == "parquet":
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types for a broken file
            raise DataValidationError(
                [f"{path.name}: not a readable Parquet file ({exc})"]
            ) from None
        text = frame.astype(object).where(frame.notna(), "").astype(str)
        yield text
        return
    try:
        with path.open("r", encoding="utf-8", newline="") as fh:
            # pandas renames a repeated header ("age", "age.1"); catch it on the raw line.
            header = next(csv.reader([fh.readline()]), [])
            repeated = sorted({h.strip() for h in header if header.count(h) > 1 and h.strip()})
            if repeated:
                raise DataValidationError(
                    [f"{path.name}: column {repeated[0]!r} appears more than once in the header"]
                )
            fh.seek(0)
            reader = pd.read_csv(fh, dtype=str, keep_default_na=False, chunksize=CHUNK_ROWS,
                                 skipinitialspace=True)  # fmt: skip
            yield from reader
    except UnicodeDecodeError as exc:
        raise _decode_error(path, exc) from None
    except pd.errors.EmptyDataError:
        raise DataValidationError(
            [f"{path.name}: the file is empty (no header, no rows)"]
        ) from None
    except pd.errors.ParserError as exc:
        raise DataValidationError([f"{path.name}: not a readable CSV file ({exc})"]) from None


# --------------------------------------------------------------------------------------------
# Column parsing


def _parse_bool(text: pd.Series, missing_allowed: bool) -> tuple[pd.Series, np.ndarray]:
    low = text.str.strip().str.lower()
    true, false, missing = low.isin(TRUE_TEXT), low.isin(FALSE_TEXT), low.isin(MISSING_TEXT)
    values = pd.array(np.where(true, True, False), dtype="boolean")
    values[missing.to_numpy()] = pd.NA
    bad = ~(true | false | (missing if missing_allowed else False))
    return pd.Series(values, index=text.index), np.flatnonzero(bad.to_numpy())


def _parse_int(text: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Integers; positions that are not whole numbers, and that are empty."""
    stripped = text.str.strip()
    empty = stripped.isin(MISSING_TEXT) | (stripped == "")
    numbers = pd.to_numeric(stripped.where(~empty), errors="coerce")
    not_number = numbers.isna() & ~empty
    not_whole = numbers.notna() & (numbers != np.floor(numbers.fillna(0)))
    bad = np.flatnonzero((not_number | not_whole).to_numpy())
    return numbers, bad, np.flatnonzero(empty.to_numpy())


class _Checker:
    """Parses one chunk column by column, collecting problems with file-wide row numbers."""

    def __init__(self, file: str):
        self.file = file
        self.found: dict[tuple[str, str], tuple[list[int], list[Any]]] = {}

    def flag(self, column: str, what: str, positions: np.ndarray, offset: int, values=()) -> None:
        if len(positions) == 0:
            return
        rows, vals = self.found.setdefault((column, what), ([], []))
        rows.extend((positions + offset).tolist())
        if len(vals) < MAX_ROWS_SHOWN:
            vals.extend(list(values)[: MAX_ROWS_SHOWN - len(vals)])

    def problems(self) -> list[str]:
        out = []
        for (column, what), (rows, vals) in self.found.items():
            out.append(_problem(self.file, column, what, np.asarray(rows), vals or None))
        return out


def _canonical_chunk(
    text: pd.DataFrame, columns: dict[str, Column], roles: dict[str, str], checker: _Checker,
    offset: int, kb: Any,
) -> pd.DataFrame:  # fmt: skip
    out: dict[str, Any] = {}
    missable = {f.name for f in kb.findings if f.can_be_missing}
    for name, column in columns.items():
        if name not in text.columns:
            continue
        cells = text[name].astype(str)
        role = roles[name]
        if column.dtype in ("bool", "boolean"):
            values, bad = _parse_bool(cells, missing_allowed=name in missable)
            what = "not yes/no (true/false, 1/0, yes/no" + (
                "; empty = not recorded)" if name in missable else "; this finding is required)"
            )
            checker.flag(name, what, bad, offset, cells.iloc[bad])
            out[name] = values if name in missable else values.fillna(False).astype(bool)
        elif column.dtype in ("int8", "int16"):
            numbers, bad, empty = _parse_int(cells)
            checker.flag(name, "not a whole number", bad, offset, cells.iloc[bad])
            checker.flag(name, "empty (a value is required)", empty, offset)
            low, high = RANGES[name]
            outside = np.flatnonzero(((numbers < low) | (numbers > high)).to_numpy())
            checker.flag(name, f"out of range {low:g}–{high:g}", outside, offset,
                         numbers.iloc[outside].astype(int))  # fmt: skip
            out[name] = numbers.fillna(0).clip(low, high).astype(column.dtype)
        elif column.dtype == "category":
            stripped = cells.str.strip()
            empty = stripped.isin(MISSING_TEXT) | (stripped == "")
            allowed = list(column.categories or ())
            unknown = np.flatnonzero((~stripped.isin(allowed) & ~empty).to_numpy())
            checker.flag(name, f"not one of: {', '.join(allowed)}", unknown, offset,
                         stripped.iloc[unknown])  # fmt: skip
            if role == "required" or (role == "truth" and name == "pathway"):
                checker.flag(
                    name,
                    "empty (a value is required)"
                    if role == "required"
                    else "empty (the confirmed pathway)",  # fmt: skip
                    np.flatnonzero(empty.to_numpy()),
                    offset,
                )
            values = stripped.where(stripped.isin(allowed))
            out[name] = pd.Categorical(values, categories=allowed)
        elif name == "patient_id":
            stripped = cells.str.strip()
            empty = np.flatnonzero((stripped == "").to_numpy())
            checker.flag(name, "empty (every patient needs an id)", empty, offset)
            out[name] = pd.array(stripped.to_numpy(dtype=object), dtype="string")
    return pd.DataFrame(out, index=text.index)


def read_patients(path: str | Path, *, require_truth: bool = False) -> pd.DataFrame:
    """Read and validate a team's ``patients`` file (CSV or Parquet) into canonical dtypes.

    Parameters
    ----------
    path
        The file. CSV booleans may be true/false, 1/0 or yes/no; an empty cell in an exam or
        red-flag column means "not recorded".
    require_truth
        The confirmed ``pathway`` must be present for every patient (needed to evaluate).

    Returns
    -------
    pandas.DataFrame
        The ``patients`` table: required and present optional columns with the generator's
        dtypes (absent exam signs and red flags added as not recorded; ``chronic`` derived
        from the symptom duration when absent), then any extra columns of the file, as text.

    Raises
    ------
    DataValidationError
        Naming the file, the column, up to 10 rows and the count of each problem.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = write_template(pathlib.Path(tempfile.mkdtemp()) / "mine.csv")
    >>> read_patients(path)["pain_nrs"].dtype.name
    'int8'
    """
    path = Path(path)
    kb = load_knowledge()
    roles = column_roles(kb)
    columns = {c.name: c for c in patient_columns(kb) if roles[c.name] != "generator only"}
    checker = _Checker(path.name)
    frames, extras, offset, header = [], [], 0, None
    for chunk in read_table_text(path):
        if header is None:
            header = [str(c).strip() for c in chunk.columns]
            _check_header(path.name, header, roles, require_truth)
        chunk.columns = header
        chunk = chunk.reset_index(drop=True)
        frames.append(_canonical_chunk(chunk, columns, roles, checker, offset, kb))
        extras.append(chunk[[c for c in header if c not in columns]])
        offset += len(chunk)
    if header is None or offset == 0:
        raise DataValidationError([f"{path.name}: the file has a header but no data rows"])
    problems = checker.problems()
    data = pd.concat(frames, ignore_index=True)
    duplicated = np.flatnonzero(data["patient_id"].duplicated(keep=False).to_numpy())
    if len(duplicated):
        problems.append(_problem(path.name, "patient_id", "share an id with another row",
                                 duplicated, data["patient_id"].iloc[duplicated]))  # fmt: skip
    if problems:
        raise DataValidationError(problems)
    for finding in kb.findings:
        if finding.can_be_missing and finding.name not in data:
            data[finding.name] = pd.array([pd.NA] * len(data), dtype="boolean")
    for name in ("occupation", "onset", "trigger", "side"):
        if name not in data:
            data[name] = pd.Categorical([None] * len(data), categories=columns[name].categories)
    if "chronic" not in data:
        threshold = kb.shared["chronic_threshold_weeks"]
        data["chronic"] = data["symptom_duration_weeks"] > threshold
    order = [c for c in columns if c in data]
    data = data[order]
    extra = pd.concat(extras, ignore_index=True)
    if not extra.empty and extra.shape[1]:
        data = pd.concat([data, extra], axis=1)
    return patients_schema(generated=False, require_truth=require_truth).validate(data)


def _check_header(file: str, header: list[str], roles: dict[str, str], require_truth: bool):
    problems = []
    seen = [h for h in header if header.count(h) > 1]
    if seen:
        problems.append(f"{file}: column {sorted(set(seen))[0]!r} appears more than once")
    missing = [c for c, role in roles.items() if role == "required" and c not in header]
    if missing:
        shown = ", ".join(repr(c) for c in missing[:MAX_ROWS_SHOWN])
        more = ", …" if len(missing) > MAX_ROWS_SHOWN else ""
        problems.append(f"{file}: missing required column(s) {shown}{more} "
                        f"({len(missing)} missing; see docs/data_dictionary.md)")  # fmt: skip
    if require_truth and "pathway" not in header:
        problems.append(f"{file}: missing column 'pathway' (the confirmed pathway, needed to "
                        "evaluate triage)")  # fmt: skip
    if problems:
        raise DataValidationError(problems)


# --------------------------------------------------------------------------------------------
# Predictions


def read_predictions(path: str | Path, patients: pd.DataFrame) -> pd.DataFrame:
    """Read a team's triage calls and align them to ``patients`` (same order).

    The file holds ``patient_id`` and ``pathway`` and, optionally, one probability column
    ``p_<pathway>`` per pathway (each in [0, 1], summing to 1 per row).

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
    path = Path(path)
    pathways = list(load_knowledge().pathways)
    frames = list(read_table_text(path))
    text = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    text.columns = [str(c).strip() for c in text.columns]
    problems = []
    for needed in ("patient_id", "pathway"):
        if needed not in text.columns:
            problems.append(f"{path.name}: missing required column '{needed}'")
    if problems:
        raise DataValidationError(problems)
    if text.empty:
        raise DataValidationError([f"{path.name}: the file has a header but no data rows"])
    ids = text["patient_id"].str.strip()
    calls = text["pathway"].str.strip()
    unknown = np.flatnonzero(~calls.isin(pathways).to_numpy())
    if len(unknown):
        problems.append(_problem(path.name, "pathway", f"not one of: {', '.join(pathways)}",
                                 unknown, calls.iloc[unknown]))  # fmt: skip
    dup = np.flatnonzero(ids.duplicated(keep=False).to_numpy())
    if len(dup):
        problems.append(_problem(path.name, "patient_id", "share an id with another row", dup,
                                 ids.iloc[dup]))  # fmt: skip
    known = patients["patient_id"].astype(str)
    strangers = np.flatnonzero(~ids.isin(known).to_numpy())
    if len(strangers):
        problems.append(_problem(path.name, "patient_id", "are not patients of the data file",
                                 strangers, ids.iloc[strangers]))  # fmt: skip
    without = np.flatnonzero(~known.isin(ids).to_numpy())
    if len(without):
        problems.append(
            f"{path.name}: column 'patient_id': {len(without)} patient(s) of the data file have "
            f"no prediction ({', '.join(known.iloc[without][:MAX_ROWS_SHOWN])}"
            f"{', …' if len(without) > MAX_ROWS_SHOWN else ''})"
        )
    prob_columns = [c for c in text.columns if c.startswith(PROBABILITY_PREFIX)]
    proba = None
    if prob_columns:
        expected = [f"{PROBABILITY_PREFIX}{p}" for p in pathways]
        if sorted(prob_columns) != sorted(expected):
            problems.append(f"{path.name}: probability columns must be exactly "
                            f"{', '.join(expected)}; got {', '.join(prob_columns)}")  # fmt: skip
        else:
            proba = text[expected].apply(pd.to_numeric, errors="coerce")
            for column in expected:
                bad = np.flatnonzero((proba[column].isna() | (proba[column] < 0)
                                      | (proba[column] > 1)).to_numpy())  # fmt: skip
                if len(bad):
                    problems.append(_problem(path.name, column, "not a probability in [0, 1]",
                                             bad, text[column].iloc[bad]))  # fmt: skip
            totals = proba.sum(axis=1)
            off = np.flatnonzero(((totals - 1).abs() > SUM_TOLERANCE).to_numpy())
            if len(off) and not problems:
                problems.append(_problem(path.name, "p_*", "probabilities not summing to 1",
                                         off, totals.iloc[off].round(3)))  # fmt: skip
    if problems:
        raise DataValidationError(problems)
    position = pd.Series(np.arange(len(ids)), index=ids.to_numpy())
    order = position.loc[known.to_numpy()].to_numpy()
    out = pd.DataFrame(
        {"pathway": pd.Categorical(calls.iloc[order].to_numpy(), categories=pathways)},
        index=patients.index,
    )
    if proba is not None:
        for column in proba.columns:
            out[column] = proba[column].iloc[order].to_numpy(dtype=float)
    return out


# --------------------------------------------------------------------------------------------
# Template and data dictionary


def template_frame(n_examples: int = 3, seed: int = 0) -> pd.DataFrame:
    """Example rows of a team's ``patients`` file: every column a team may supply.

    Examples
    --------
    >>> template_frame(2).shape[0]
    2
    """
    from outcomes.cohort import generate

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
    from outcomes.io import write_table

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
            allowed = "true/false, 1/0 or yes/no" + ("; empty = not recorded" if c.name in missable
                                                       else "")  # fmt: skip
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
            meaning += "; derived from symptom_duration_weeks when absent"
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
        "Generated from `outcomes.schema` by `make docs` (do not edit). `outcomes template "
        "--out my_patients.csv` writes a file with these columns and a few example rows;",
        "`outcomes evaluate --data my_patients.csv --predictions my_triage.csv` checks it and",
        "evaluates the team's triage calls.",
        "",
        "- **required**: must be present, with a value in every row.",
        "- **optional**: may be absent; an empty cell (or an absent column) means not recorded.",
        "- **truth**: the confirmed pathway (needed to evaluate) and diagnosis, if known.",
        "- Any other column is kept and ignored. Rows in error messages are data rows counted",
        "  from 1 (the header is not counted).",
        "",
        "Predictions file: `patient_id`, `pathway` (one of "
        + ", ".join(load_knowledge().pathways)
        + "), and optionally `p_<pathway>` probabilities for every pathway, summing to 1.",
        "",
        "| column | type | role | allowed values | meaning |",
        "|---|---|---|---|---|",
    ]
    for r in table.itertuples(index=False):
        lines.append("| " + " | ".join(str(v).replace("|", "/") for v in r) + " |")
    return "\n".join(lines) + "\n"


def demo_files(folder: str | Path, n: int = 400, seed: int = 20261122) -> tuple[Path, Path]:
    """Write the demo ``patients`` and ``predictions`` CSVs of notebook 04 into ``folder``.

    The predictions imitate a team's clinicians: the rules' call, with one patient in ten
    re-triaged at random (seeded), so they are mostly right with some errors.

    Examples
    --------
    >>> import tempfile
    >>> patients, calls = demo_files(tempfile.mkdtemp(), n=50)
    >>> len(read_predictions(calls, read_patients(patients)))
    50
    """
    from outcomes.cohort import feature_columns, generate
    from outcomes.io import write_table
    from outcomes.triage import RulesTriage

    folder = Path(folder)
    cohort = generate(n, seed=seed)
    roles = column_roles()
    keep = [c for c, role in roles.items() if role != "generator only"]
    patients = cohort[keep].copy()
    rules = RulesTriage().fit(cohort[feature_columns()])
    calls = rules.predict(cohort[feature_columns()])
    rng = np.random.default_rng(seed)
    changed = rng.random(n) < 0.1
    calls[changed] = rng.choice(list(load_knowledge().pathways), size=int(changed.sum()))
    predictions = pd.DataFrame({"patient_id": cohort["patient_id"], "pathway": calls})
    return (
        write_table(patients, folder / "demo_patients.csv"),
        write_table(predictions, folder / "demo_predictions.csv"),
    )
