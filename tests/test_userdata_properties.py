"""Property test: whatever a team's file looks like, the reader either accepts it or raises
the one documented error, DataValidationError — never anything else."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outcomes.userdata import DataValidationError, read_patients, read_predictions, template_frame

BASE = template_frame(8).astype(str)
COLUMNS = list(BASE.columns)
JUNK_VALUES = st.sampled_from(
    ["", "-1", "14", "1e9", "nan", "NA", "yes", "maybe", "é", "0.5", " ", "None", "10", "200",
     "primary_care", "mars", "true", "P0001", "\t", "'", '"', ",", "\n"]
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


PROFILE = settings(max_examples=120, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow])  # fmt: skip


@PROFILE
@given(MUTATIONS)
def test_malformed_patient_tables_raise_only_the_documented_error(mutations):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mine.csv"
        apply(BASE, mutations).to_csv(path, index=False)
        try:
            read_patients(path)
        except DataValidationError as exc:
            assert str(exc).splitlines()[0].startswith("mine.csv")


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
    st.lists(st.sampled_from(["P0001", "P0002", "P0009", "", "x"]), max_size=10),
    st.lists(st.sampled_from(["hip", "spinal", "surgery", "", "emergency"]), max_size=10),
)
def test_malformed_predictions_raise_only_the_documented_error(ids, pathways):
    patients = read_patients_once()
    n = min(len(ids), len(pathways))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "calls.csv"
        pd.DataFrame({"patient_id": ids[:n], "pathway": pathways[:n]}).to_csv(path, index=False)
        try:
            read_predictions(path, patients)
        except DataValidationError:
            pass


_PATIENTS: list[pd.DataFrame] = []


def read_patients_once() -> pd.DataFrame:
    if not _PATIENTS:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "p.csv"
            template_frame(3).to_csv(path, index=False)
            _PATIENTS.append(read_patients(path))
    return _PATIENTS[0]
