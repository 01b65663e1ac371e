"""`outcomes explain` and explain_patient: rule, oracle posterior and a model, side by side."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from outcomes.analysis.userdata import template_frame
from outcomes.engine.cohort import feature_columns, generate
from outcomes.faces import cli
from outcomes.knowledge import load_knowledge
from outcomes.triage.explain import explain_patient, patient_from_findings, select_patient
from outcomes.triage.oracle import BayesOracle


@pytest.fixture(scope="module")
def cohort():
    return generate(1500, seed=31)


def _flagged_emergency(cohort):
    flags = cohort.filter(like="rf_").fillna(False).astype(bool).any(axis=1)
    return cohort[(cohort["pathway"] == "emergency") & flags]["patient_id"].iloc[0]


def test_a_red_flag_patient_is_explained_by_the_rule_and_the_oracle_agrees_with_the_cohort(cohort):
    pid = _flagged_emergency(cohort)
    why = explain_patient(select_patient(cohort, pid))
    assert why.rule == "red_flag" and why.rule_pathway == "emergency"
    row = cohort[cohort["patient_id"] == pid].iloc[0]
    recorded = [c for c in cohort.filter(like="rf_") if not pd.isna(row[c]) and bool(row[c])]
    labels = {f.name: f.label for f in load_knowledge().findings}
    assert recorded and any(labels[c] in why.fired_on for c in recorded)
    assert all(labels[c] in why.present for c in recorded)
    # The posterior of the one row equals the oracle's on the whole cohort (same setting).
    oracle = BayesOracle().fit(cohort)
    full = pd.DataFrame(oracle.predict_proba(cohort), columns=oracle.classes_)
    expected = full[cohort["patient_id"] == pid].iloc[0]
    assert why.probabilities["oracle"].to_numpy() == pytest.approx(
        expected[why.probabilities.index].to_numpy()
    )
    assert why.probabilities.index[0] == "emergency"
    assert why.truth == "emergency"
    text = str(why)
    assert "rule fired: red_flag -> emergency" in text


def test_a_model_s_probabilities_stand_beside_the_rules_and_oracle(cohort):
    from outcomes.triage.models import fit_model

    model = fit_model("logistic", generate(1500, seed=32), seed=0)
    pid = cohort["patient_id"].iloc[5]
    why = explain_patient(select_patient(cohort, pid), model, model_name="logistic")
    assert list(why.probabilities.columns) == ["rules", "oracle", "logistic"]
    features = cohort[cohort["patient_id"] == pid][feature_columns()]
    given = pd.Series(model.predict_proba(features)[0], index=model.classes_)
    assert why.probabilities["logistic"].to_numpy() == pytest.approx(
        given[why.probabilities.index].to_numpy()
    )
    assert why.calls["logistic"] == given.idxmax()
    page = why._repr_html_()
    assert page.count("<table>") == 2 and "<b>" in page and "calls " in page


def test_typed_findings_are_validated_and_explained(tmp_path, capsys):
    record = template_frame(1).iloc[0].to_dict()
    record = {k: (None if pd.isna(v) else v.item() if hasattr(v, "item") else v)
              for k, v in record.items() if k not in ("pathway", "condition")}  # fmt: skip
    record["rf_saddle_numbness"] = True
    why = explain_patient(patient_from_findings(json.dumps(record)))
    assert why.rule == "red_flag" and "Saddle" in why.fired_on
    # The CLI takes the same JSON, inline or from a file.
    (tmp_path / "p.json").write_text(json.dumps(record), encoding="utf-8")
    assert cli.main(["explain", "--findings", f"@{tmp_path / 'p.json'}"]) == 0
    assert "rule fired: red_flag -> emergency" in capsys.readouterr().out
    # A required column left out is named.
    del record["pain_nrs"]
    with pytest.raises(ValueError, match="pain_nrs"):
        patient_from_findings(record)


def test_the_cli_explains_a_row_by_id_and_refuses_bad_requests(cohort, tmp_path, capsys):
    path = tmp_path / "c.parquet"
    cohort.to_parquet(path)
    pid = _flagged_emergency(cohort)
    assert cli.main(["explain", "--cohort", str(path), "--id", pid]) == 0
    out = capsys.readouterr().out
    assert f"Patient {pid}" in out and "confirmed pathway: emergency" in out
    assert "oracle" in out and "rules" in out
    assert cli.main(["explain", "--cohort", str(path), "--id", "nobody"]) == 2
    assert "'nobody' is not in the cohort" in capsys.readouterr().err
    assert cli.main(["explain"]) == 2
    assert "give either --cohort FILE --id ID, or --findings JSON" in capsys.readouterr().err
