"""A team's triage calls: read, validate and align them to the team's patients.

:func:`read_predictions` reads the pathway each patient was triaged to (``patient_id``,
``pathway``, optionally one ``p_<pathway>`` probability column per pathway), streamed and
checked as :func:`outcomes.tables.records.read_patients` reads the patients, with the same
one-error-naming-every-problem :class:`outcomes.tables.problems.DataValidationError`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from outcomes.knowledge import load_knowledge
from outcomes.tables.files import (
    align_ids,
    arrow_text,
    codes_and_texts,
    duplicate_positions,
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
from outcomes.tables.schema import column_roles

#: Name prefix of the probability columns, ``p_<pathway>``.
PROBABILITY_PREFIX = "p_"
#: How far a row's probabilities may sum from 1.
SUM_TOLERANCE = 1e-3


def _probabilities(
    array: pa.Array, file: str, column: str
) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """Numbers of a probability column (NaN where not a number), with codes and texts."""
    if pa.types.is_integer(array.type) or pa.types.is_floating(array.type):
        values = pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False)
        return values, np.arange(len(values)), pd.Series(values).astype(str)
    codes, texts = codes_and_texts(array, file, column)
    numbers = pd.to_numeric(texts.str.strip(), errors="coerce").to_numpy(float)
    return numbers[codes], codes, texts


def _id_text(ids: pd.Series) -> pa.ChunkedArray:
    """Patient ids as trimmed Arrow text, without a Python string per patient.

    Ids of :func:`read_patients` (Arrow-backed, trimmed already) are used as they are.
    """
    if isinstance(ids.dtype, pd.StringDtype) and ids.dtype.storage == "pyarrow":
        return pa.chunked_array(ids.array.__arrow_array__()).cast(pa.large_string())
    array = pa.array(ids.astype(str).to_numpy(dtype=object), pa.large_string())
    return pa.chunked_array([arrow_text(array, "patients", "patient_id")])


def read_predictions(path: str | Path, patients: pd.DataFrame) -> pd.DataFrame:
    """Read a team's triage calls and align them to ``patients`` (same order).

    The file holds ``patient_id`` and ``pathway`` and, optionally, one probability column
    ``p_<pathway>`` per pathway (each in [0, 1], summing to 1 per row). It is streamed like
    :func:`outcomes.tables.records.read_patients`; ids are matched by sorting in Arrow.

    Parameters
    ----------
    path
        The team's predictions file (CSV or Parquet).
    patients
        The team's patients (:func:`outcomes.tables.records.read_patients`).

    Returns
    -------
    pandas.DataFrame
        ``pathway`` (categorical) and the probability columns if given, indexed like
        ``patients``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from outcomes.analysis.userdata import write_template
    >>> from outcomes.tables.records import read_patients
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
    header, rows_at_most, batches = open_table(path)
    known = ["patient_id", "pathway", *(f"{PROBABILITY_PREFIX}{p}" for p in pathways)]
    header = match_columns(file, header, [*known, *TRUTH_IN_PREDICTIONS])
    truth = [c for c in TRUTH_IN_PREDICTIONS if c in header]
    required = [c for c, role in column_roles().items() if role == "required"]
    if truth or all(c in header for c in required):
        what = (
            f"the truth column(s) {', '.join(map(repr, truth))}"
            if truth
            else ("every required column of a patients file")
        )
        raise DataValidationError(
            [
                f"{file}: holds {what}: it looks like a patients file, not triage calls (the "
                "predictions must be your triage's calls, or every call would score as right)"
            ]
        )
    missing = [
        f"{file}: missing required column '{c}'"
        for c in ("patient_id", "pathway")
        if c not in header
    ]
    if missing:
        raise DataValidationError(missing)
    problems = []
    prob_columns = [c for c in header if c.startswith(PROBABILITY_PREFIX)]
    expected = [f"{PROBABILITY_PREFIX}{p}" for p in pathways]
    if prob_columns and sorted(prob_columns) != sorted(expected):
        problems.append(
            f"{file}: probability columns must be exactly {', '.join(expected)}; "
            f"got {', '.join(prob_columns)}"
        )
        prob_columns = []
    prob_columns = expected if prob_columns else []
    checker = ProblemLog(file)
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
        ids.append(arrow_text(batch.column(header.index("patient_id")), file, "patient_id"))
        codes, texts = codes_and_texts(batch.column(header.index("pathway")), file, "pathway")
        stripped = texts.str.strip()
        known = pd.Categorical(stripped, categories=pathways).codes.astype(np.int8)
        unknown = np.flatnonzero(known[codes] < 0)
        checker.flag(
            "pathway",
            f"not one of: {', '.join(pathways)}",
            unknown,
            rows,
            show_values(stripped.to_numpy()[codes[unknown[:MAX_ROWS_SHOWN]]]),
        )
        calls[rows:end] = known[codes]
        total = np.zeros(batch.num_rows)
        for column in prob_columns:
            values, p_codes, p_texts = _probabilities(
                batch.column(header.index(column)), file, column
            )
            bad = np.flatnonzero(~((values >= 0) & (values <= 1)))
            checker.flag(
                column,
                "not a probability in [0, 1]",
                bad,
                rows,
                show_values(p_texts.to_numpy()[p_codes[bad[:MAX_ROWS_SHOWN]]]),
            )
            proba[column][rows:end] = values
            total += values
        if prob_columns:
            off = np.flatnonzero(np.abs(total - 1) > SUM_TOLERANCE)
            checker.flag(
                "p_*",
                "probabilities not summing to 1",
                off,
                rows,
                show_values(np.round(total[off[:MAX_ROWS_SHOWN]], 3), quote=False),
            )
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
    dup = duplicate_positions(given)
    if len(dup):
        shown = show_values(given.take(pa.array(dup[:MAX_ROWS_SHOWN])).to_pylist())
        problems.append(
            problem_line(
                file,
                "patient_id",
                "share an id with another row",
                len(dup),
                dup[:MAX_ROWS_SHOWN].tolist(),
                shown,
            )
        )
    known_ids = _id_text(patients["patient_id"])
    order = None if len(dup) else align_ids(known_ids, given)
    if order is None:  # ids differ: say which, with hash tables (then give their memory back)
        position = pc.index_in(known_ids, value_set=given)
        matched = pc.is_in(given, value_set=known_ids).to_numpy(False)
        without = np.flatnonzero(pc.is_null(position).to_numpy(False))
        del position
        pa.default_memory_pool().release_unused()
        strangers = np.flatnonzero(~matched)
        if len(strangers):
            shown = show_values(given.take(pa.array(strangers[:MAX_ROWS_SHOWN])).to_pylist())
            problems.append(
                problem_line(
                    file,
                    "patient_id",
                    "are not patients of the data file",
                    len(strangers),
                    strangers[:MAX_ROWS_SHOWN].tolist(),
                    shown,
                )
            )
        if len(without):
            first = known_ids.take(pa.array(without[:MAX_ROWS_SHOWN])).to_pylist()
            more = ", …" if len(without) > MAX_ROWS_SHOWN else ""
            problems.append(
                f"{file}: column 'patient_id': {len(without)} patient(s) of the "
                f"data file have no prediction ({', '.join(first)}{more})"
            )
        if not problems:  # unreachable: differing ids leave a stranger or a patient without
            problems.append(f"{file}: column 'patient_id': the ids do not match the data file")
    if problems:
        raise DataValidationError(problems)
    assert order is not None  # ids that differ always leave a problem (above)
    take: np.ndarray | slice = order
    if len(order) == rows and (order == np.arange(rows)).all():
        take = slice(0, rows)  # the same order as the patients: no copy
    out = pd.DataFrame(
        {"pathway": pd.Categorical.from_codes(calls[take], categories=pathways)},
        index=patients.index,
    )
    for column in prob_columns:
        out[column] = proba.pop(column)[take]
    pa.default_memory_pool().release_unused()
    return out
