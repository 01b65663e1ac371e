"""The table schemas: generated data passes them, and they catch what they should."""

from __future__ import annotations

import pandas as pd
import pandera.errors
import pytest

from outcomes.engine.cohort import generate
from outcomes.engine.recovery import policy_pathways, simulate_policies
from outcomes.knowledge import load_knowledge
from outcomes.tables.schema import (
    column_roles,
    patients_schema,
    validate_outcomes,
    validate_patients,
    validate_visits,
)


@pytest.mark.parametrize("setting", load_knowledge().setting_names)
def test_generated_patients_visits_and_outcomes_pass_their_schemas(setting):
    patients = generate(1500, seed=3, setting=setting, exam_missing_rate=0.5)
    assert validate_patients(patients) is not None
    sims = simulate_policies(patients, policy_pathways(patients), seed=1)
    for sim in sims.values():
        validate_visits(sim.visits)
        validate_outcomes(sim.outcomes)


def test_the_schema_catches_bad_generated_data():
    patients = generate(50, seed=3)
    broken = patients.copy()
    broken.loc[broken.index[:2], "pain_nrs"] = 14
    broken.loc[broken.index[3], "patient_id"] = broken["patient_id"].iloc[0]
    with pytest.raises(pandera.errors.SchemaErrors) as info:
        validate_patients(broken)
    failed = set(info.value.failure_cases["column"])
    assert {"pain_nrs", "patient_id"} <= failed
    with pytest.raises(pandera.errors.SchemaErrors):
        validate_patients(patients.drop(columns=["odi"]))


def test_roles_cover_every_column_and_truth_is_optional_for_teams():
    roles = column_roles()
    assert set(roles.values()) == {"required", "optional", "truth", "generator only"}
    assert roles["patient_id"] == "required" and roles["rf_saddle_numbness"] == "optional"
    team = patients_schema(generated=False)
    assert not team.columns["pathway"].required
    assert patients_schema(generated=False, require_truth=True).columns["pathway"].required
    # A generated cohort's hidden columns may be present, and are required only when asked.
    assert not team.columns["latent_severity"].required
    simulated = patients_schema(generated=False, require=["condition", "latent_severity"])
    assert simulated.columns["latent_severity"].required
    assert not simulated.columns["latent_severity"].nullable
    # A team's table may carry extra columns; the generator's may not.
    assert not team.strict and patients_schema().strict


def test_schema_does_not_modify_its_input():
    patients = generate(30, seed=4)
    before = patients.copy()
    validate_patients(patients)
    pd.testing.assert_frame_equal(patients, before)


def test_every_table_is_declared_once_in_tables_columns():
    from outcomes.tables import columns
    from outcomes.tables.schema import outcomes_schema, visits_schema

    for schema, declared in ((patients_schema(), columns.patient_columns()),
                             (outcomes_schema(), columns.outcome_columns()),
                             (visits_schema(), columns.visit_columns())):  # fmt: skip
        assert list(schema.columns) == [c.name for c in declared]
        assert [schema.columns[c.name].description for c in declared] == [
            c.meaning for c in declared
        ]
    patients = generate(30, seed=2)
    assert list(patients.columns) == [c.name for c in columns.patient_columns()]
    sim = simulate_policies(patients, policy_pathways(patients), seed=0)["perfect"]
    assert list(sim.outcomes.columns) == [c.name for c in columns.outcome_columns()]
    assert list(sim.visits.columns) == [c.name for c in columns.visit_columns()]
