"""Property tests: whatever a team's file looks like, the reader either accepts it or raises
the one documented error, DataValidationError — never anything else — and a file that is
known to be broken is always rejected."""

from __future__ import annotations

import difflib
import tempfile
import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from outcomes.analysis.userdata import (
    DataValidationError,
    InputWarning,
    match_columns,
    read_patients,
    read_predictions,
    template_frame,
)
from outcomes.knowledge import load_knowledge
from outcomes.tables.schema import column_roles

BASE = template_frame(8).astype(str)
COLUMNS = list(BASE.columns)
ROLES = column_roles()
REQUIRED = [c for c, role in ROLES.items() if role == "required"]
KNOWN_BY_LOWER = {c.lower(): c for c in ROLES}
#: Wrong in every column a team's file may have, except the free-text patient id.
ALWAYS_BAD = ["maybe", "mars", "é", "inf", "-inf", "Infinity", "1e20"]
JUNK_VALUES = st.sampled_from(
    ["", "-1", "14", "1e9", "nan", "NA", "yes", "0.5", " ", "None", "10", "200",
     "primary_care", "true", "P0001", "\t", "'", '"', ",", "\n", *ALWAYS_BAD]
)  # fmt: skip
MUTATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("drop"), st.sampled_from(COLUMNS)),
        st.tuples(st.just("rename"), st.sampled_from(COLUMNS), st.text(max_size=8)),
        st.tuples(st.just("set"), st.sampled_from(COLUMNS), st.integers(0, 7), JUNK_VALUES),
        st.tuples(st.just("duplicate_row"), st.integers(0, 7)),
        st.tuples(st.just("truncate"), st.integers(0, 8)),
    ),
    max_size=6,
)


def apply(frame: pd.DataFrame, mutations) -> pd.DataFrame:
    frame = frame.copy()
    for mutation in mutations:
        kind = mutation[0]
        if kind == "drop" and mutation[1] in frame:
            frame = frame.drop(columns=[mutation[1]])
        elif kind == "rename" and mutation[1] in frame:
            frame = frame.rename(columns={mutation[1]: mutation[2]})
        elif kind == "set" and mutation[1] in frame and mutation[2] < len(frame):
            frame.iloc[mutation[2], frame.columns.get_loc(mutation[1])] = mutation[3]
        elif kind == "duplicate_row" and mutation[1] < len(frame):
            frame = pd.concat([frame, frame.iloc[[mutation[1]]]], ignore_index=True)
        elif kind == "truncate":
            frame = frame.iloc[: mutation[1]]
    return frame


def known_defect(frame: pd.DataFrame) -> str | None:
    """A reason the file must be rejected, judged independently of the reader (or None)."""
    # Names are matched to the known columns ignoring case (match_columns).
    names = [str(c).strip() for c in frame.columns]
    names = [n if n in ROLES else KNOWN_BY_LOWER.get(n.lower(), n) for n in names]
    if len(set(names)) < len(names):
        return "a column name appears twice"
    if len(frame) == 0:
        return "no data rows"
    if any(c not in names for c in REQUIRED):
        return "a required column is missing"
    cells = frame.set_axis(names, axis=1)
    for name in names:
        if (
            name in ROLES
            and name != "patient_id"
            and cells[name].str.strip().isin(ALWAYS_BAD).any()
        ):
            return f"column {name} holds a value it can never hold"
    ids = cells["patient_id"].str.strip()
    if ids.duplicated().any() or (ids == "").any():
        return "patient ids are not unique and non-empty"
    return None


PROFILE = settings(max_examples=120, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow])  # fmt: skip


@PROFILE
@given(MUTATIONS)
def test_malformed_patient_tables_raise_only_the_documented_error(mutations):
    frame = apply(BASE, mutations)
    defect = known_defect(frame)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mine.csv"
        frame.to_csv(path, index=False)
        try:
            read_patients(path)
        except DataValidationError as exc:
            assert str(exc).splitlines()[0].startswith("mine.csv")
        else:
            assert defect is None, f"accepted a file where {defect}"


def test_the_defect_oracle_sees_each_kind_of_defect():
    # The property above is only as strong as known_defect: check it on one case of each kind.
    assert known_defect(BASE) is None
    assert known_defect(apply(BASE, [("set", "age", 0, "inf")])) is not None
    assert known_defect(apply(BASE, [("set", "sex", 3, "mars")])) is not None
    assert known_defect(apply(BASE, [("drop", "odi")])) is not None
    assert known_defect(apply(BASE, [("duplicate_row", 2)])) is not None
    assert known_defect(apply(BASE, [("rename", "odi", " age ")])) is not None
    assert known_defect(apply(BASE, [("truncate", 0)])) is not None
    assert known_defect(apply(BASE, [("rename", "odi", "ODI")])) is None  # matched ignoring case
    assert known_defect(apply(BASE, [("rename", "odi", "AGE")])) is not None


@PROFILE
@given(st.binary(max_size=300))
def test_random_bytes_raise_only_the_documented_error(content):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mine.csv"
        path.write_bytes(content)
        try:
            read_patients(path)
        except DataValidationError:
            pass


@PROFILE
@given(
    st.lists(st.sampled_from(["P0001", "P0002", "P0003", "P0009", "", "x"]), max_size=6),
    st.lists(st.sampled_from(["hip", "spinal", "surgery", "", "emergency"]), max_size=6),
)
def test_predictions_are_accepted_exactly_when_they_are_right(ids, pathways):
    patients = read_patients_once()
    n = min(len(ids), len(pathways))
    ids, pathways = ids[:n], pathways[:n]
    right = (
        sorted(ids) == sorted(patients["patient_id"])  # every patient once, nobody else
        and all(p in ("hip", "spinal", "emergency") for p in pathways)
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "calls.csv"
        pd.DataFrame({"patient_id": ids, "pathway": pathways}).to_csv(path, index=False)
        try:
            calls = read_predictions(path, patients)
        except DataValidationError:
            assert not right
        else:
            assert right
            by_id = dict(zip(ids, pathways, strict=True))
            assert calls["pathway"].tolist() == [by_id[i] for i in patients["patient_id"]]


_PATIENTS: list[pd.DataFrame] = []


def read_patients_once() -> pd.DataFrame:
    if not _PATIENTS:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "p.csv"
            template_frame(3).to_csv(path, index=False)
            _PATIENTS.append(read_patients(path))
    return _PATIENTS[0]


# --------------------------------------------------------------------------------------------
# Column names: matched ignoring case; near misses reported, never silently dropped

FINDINGS = [f.name for f in load_knowledge().findings]


@st.composite
def recased(draw, names=tuple(ROLES)):
    """A known column and a spelling of it in any mix of upper and lower case."""
    name = draw(st.sampled_from(names))
    upper = draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
    return name, "".join(c.upper() if u else c for c, u in zip(name, upper, strict=True))


@PROFILE
@given(st.lists(recased(), min_size=1, max_size=8, unique_by=lambda pair: pair[0]))
def test_known_columns_are_matched_in_any_case(pairs):
    known, spelled = [k for k, _ in pairs], [s for _, s in pairs]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a matched name is never reported
        assert match_columns("f.csv", spelled, ROLES, FINDINGS) == known


@PROFILE
@given(recased(tuple(FINDINGS)))
def test_two_spellings_of_one_column_are_refused_not_guessed(pair):
    name, spelled = pair
    other = name.upper() if spelled != name.upper() else name
    with pytest.raises(DataValidationError, match="both name column"):
        match_columns("f.csv", [spelled, other], ROLES, FINDINGS)


@PROFILE
@given(st.sampled_from(["rf_", "RF_", "exam_", "Exam_", "pain_", "agg_"]),
       st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=30))  # fmt: skip
def test_a_finding_like_column_that_matches_none_is_reported_with_the_closest_name(prefix, rest):
    name = prefix + rest
    assume(name.lower() not in KNOWN_BY_LOWER)
    with pytest.warns(InputWarning) as record:
        assert match_columns("f.csv", [name], ROLES, FINDINGS) == [name]  # kept, not renamed
    (message,) = [str(w.message) for w in record]
    closest = message.split("closest: ")[1].split(")")[0].strip("'")
    assert repr(name) in message and closest in FINDINGS
    assert closest == difflib.get_close_matches(name.lower(), FINDINGS, n=1, cutoff=0)[0]
    with pytest.raises(DataValidationError, match="matches no known column"):
        match_columns("f.csv", [name], ROLES, FINDINGS, strict=True)
