"""Explain the triage of one patient: the rule that fired, the oracle's posterior, a model's view.

Teams reviewing a disputed triage call want to see, for one record, which rule fired and on
which recorded findings, what the exact Bayes posterior over pathways is under the
generator's model (:class:`outcomes.triage.oracle.BayesOracle`), and what a saved model says, side
by side. :func:`explain_patient` returns an :class:`Explanation` that prints as plain text
and shows as an HTML table in a notebook; ``outcomes explain`` prints the same text.

The patient is a row of a cohort (:func:`select_patient`) or findings typed as JSON
(:func:`patient_from_findings`), validated as a team's file is
(:func:`outcomes.tables.records.read_patients`).
"""

from __future__ import annotations

import html
import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from outcomes.engine.cohort import feature_columns
from outcomes.knowledge import Knowledge, load_knowledge
from outcomes.tables.records import read_patients
from outcomes.triage.oracle import BayesOracle
from outcomes.triage.rules import RulesTriage


@dataclass(frozen=True)
class Explanation:
    """Why one patient was sent where, by the rules, the oracle and (optionally) a model.

    Parameters
    ----------
    patient_id : str
        The record's id.
    present, not_recorded : tuple of str
        Labels of the findings recorded as present, and of those not recorded.
    rule, rule_pathway, fired_on, assumed_absent, skipped_for_missing : str
        The rules' explanation (:meth:`outcomes.triage.rules.RulesTriage.explain`).
    probabilities : pandas.DataFrame
        One row per pathway (emergency first): ``rules`` (1 on the rules' pathway, else 0),
        ``oracle`` (exact posterior) and, with a model, the model's probabilities.
    truth : str, optional
        The confirmed pathway when the record has one, else ``None``.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> cohort = generate(20, seed=1)
    >>> why = explain_patient(select_patient(cohort, cohort["patient_id"].iloc[0]))
    >>> sorted(why.calls)
    ['oracle', 'rules']
    """

    patient_id: str
    present: tuple[str, ...]
    not_recorded: tuple[str, ...]
    rule: str
    rule_pathway: str
    fired_on: str
    assumed_absent: str
    skipped_for_missing: str
    probabilities: pd.DataFrame
    truth: str | None = None

    @property
    def calls(self) -> dict[str, str]:
        """Each method's pathway: the rules' own, and the most probable for the others.

        Returns
        -------
        dict of str to str
            Method name to pathway.

        Examples
        --------
        >>> import pandas as pd
        >>> proba = pd.DataFrame({"rules": [1.0, 0.0], "oracle": [0.3, 0.7]},
        ...                      index=["emergency", "spinal"])
        >>> Explanation("p1", (), (), "r", "emergency", "", "", "", proba).calls
        {'rules': 'emergency', 'oracle': 'spinal'}
        """
        out = {"rules": self.rule_pathway}
        for column in self.probabilities.columns.drop("rules"):
            out[column] = str(self.probabilities[column].idxmax())
        return out

    def _lines(self) -> list[str]:
        lines = [f"Patient {self.patient_id}"]
        if self.truth is not None:
            lines.append(f"confirmed pathway: {self.truth}")
        lines.append("recorded present: " + (", ".join(self.present) or "none"))
        lines.append("not recorded: " + (", ".join(self.not_recorded) or "none"))
        lines.append(f"rule fired: {self.rule} -> {self.rule_pathway}, on: {self.fired_on}")
        if self.assumed_absent:
            lines.append(f"  counted as absent (not recorded): {self.assumed_absent}")
        if self.skipped_for_missing:
            lines.append(
                f"  earlier rules skipped for missing findings: {self.skipped_for_missing}"
            )
        lines.append("calls: " + ", ".join(f"{k} {v}" for k, v in self.calls.items()))
        table = self.probabilities.map(lambda p: f"{p:.3f}")
        lines += ["", "probability by pathway:", table.to_string()]
        return lines

    def __str__(self) -> str:
        return "\n".join(self._lines())

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        esc = html.escape
        items = [
            ("Confirmed pathway", self.truth or "not given"),
            ("Recorded present", ", ".join(self.present) or "none"),
            ("Not recorded", ", ".join(self.not_recorded) or "none"),
            ("Rule that fired", f"{self.rule} → {self.rule_pathway}"),
            ("It fired on", self.fired_on),
        ]
        if self.assumed_absent:
            items.append(("Counted as absent (not recorded)", self.assumed_absent))
        if self.skipped_for_missing:
            items.append(("Earlier rules skipped for missing findings", self.skipped_for_missing))
        rows = "".join(
            f"<tr><th style='text-align:left'>{esc(k)}</th><td style='text-align:left'>"
            f"{esc(v)}</td></tr>"
            for k, v in items
        )
        calls = self.calls
        head = "".join(
            f"<th>{esc(c)}<br><small>calls {esc(calls[c])}</small></th>"
            for c in self.probabilities.columns
        )
        body = ""
        for pathway, row in self.probabilities.iterrows():
            cells = ""
            for column, p in row.items():
                bold = calls[column] == pathway
                text = f"{p:.3f}"
                cells += f"<td>{'<b>' + text + '</b>' if bold else text}</td>"
            mark = " ✓" if self.truth == pathway else ""
            body += f"<tr><th style='text-align:left'>{esc(str(pathway))}{mark}</th>{cells}</tr>"
        return (
            f"<div><p><strong>Patient {esc(self.patient_id)}</strong></p>"
            f"<table>{rows}</table>"
            f"<p>Probability of each pathway (bold: each method's call"
            f"{'; ✓ the confirmed pathway' if self.truth else ''}):</p>"
            f"<table><thead><tr><th>pathway</th>{head}</tr></thead><tbody>{body}</tbody></table>"
            "</div>"
        )


def select_patient(cohort: pd.DataFrame, patient_id: str) -> pd.DataFrame:
    """The one-row table of ``patient_id`` in ``cohort`` (what it recorded is kept).

    Parameters
    ----------
    cohort : pandas.DataFrame
        A patients table with a ``patient_id`` column.
    patient_id : str
        The id to find.

    Returns
    -------
    pandas.DataFrame
        The patient's row, with its index in ``cohort``.

    Raises
    ------
    ValueError
        If the id is missing or appears more than once, with examples of the ids present.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> cohort = generate(5, seed=1)
    >>> select_patient(cohort, cohort["patient_id"].iloc[2]).index.tolist()
    [2]
    """
    ids = cohort["patient_id"].astype(str)
    rows = cohort[ids == str(patient_id)]
    if len(rows) != 1:
        some = ", ".join(ids.iloc[:3])
        found = "is not in the cohort" if rows.empty else f"appears {len(rows)} times"
        raise ValueError(f"patient_id {patient_id!r} {found} (ids look like: {some}, ...)")
    return rows


def _csv_value(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def patient_from_findings(findings: Mapping[str, Any] | str) -> pd.DataFrame:
    """A one-row patients table from findings typed as a mapping or a JSON object.

    Validated exactly as a team's file (:func:`outcomes.tables.records.read_patients`): the
    required columns must be given (the error names them); an exam sign or red flag left out
    is "not recorded". ``patient_id`` defaults to ``"typed"``.

    Parameters
    ----------
    findings : mapping or str
        Column name to value, or the same as a JSON object.

    Returns
    -------
    pandas.DataFrame
        One validated row, as :func:`outcomes.tables.records.read_patients` returns it.

    Examples
    --------
    >>> from outcomes.analysis.userdata import template_frame
    >>> record = template_frame(1).iloc[0].to_dict()
    >>> record["rf_saddle_numbness"] = True
    >>> bool(patient_from_findings(record)["rf_saddle_numbness"].iloc[0])
    True
    """
    if isinstance(findings, str):
        try:
            findings = json.loads(findings)
        except json.JSONDecodeError as exc:
            raise ValueError(f"findings are not valid JSON: {exc}") from None
    if not isinstance(findings, Mapping):
        raise ValueError("findings must be a JSON object of column: value")
    record = {"patient_id": "typed", **findings}
    frame = pd.DataFrame({k: [_csv_value(v)] for k, v in record.items()})
    with tempfile.TemporaryDirectory(prefix="outcomes-explain-") as folder:
        path = Path(folder) / "findings.csv"
        frame.to_csv(path, index=False)
        return read_patients(path)


def explain_patient(
    patient: pd.DataFrame,
    model: Any = None,
    model_name: str = "model",
    *,
    knowledge: Knowledge | None = None,
) -> Explanation:
    """Explain one patient's triage: the rules, the oracle and optionally a fitted model.

    Parameters
    ----------
    patient
        A one-row patients table (:func:`select_patient`, :func:`patient_from_findings`).
        A row of a generated cohort keeps the overrides it was generated with, which the
        oracle uses.
    model
        A fitted model with ``predict_proba`` and ``classes_`` (e.g.
        :func:`outcomes.triage.model_files.load_model`), or ``None``.
    model_name
        Its column name in the table.
    knowledge
        Knowledge base (default: the packaged one).

    Returns
    -------
    Explanation
        Prints as text; shows as HTML in a notebook.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> cohort = generate(50, seed=2)
    >>> why = explain_patient(select_patient(cohort, cohort["patient_id"].iloc[0]))
    >>> list(why.probabilities.columns), why.probabilities.index[0]
    (['rules', 'oracle'], 'emergency')
    >>> bool(abs(why.probabilities["oracle"].sum() - 1) < 1e-9)
    True
    """
    if len(patient) != 1:
        raise ValueError(f"explain_patient needs exactly one patient, got {len(patient)} rows")
    kb = knowledge if knowledge is not None else load_knowledge()
    features = patient[feature_columns(kb)]
    rules = RulesTriage(knowledge=kb).fit(features)
    why = rules.explain(features).iloc[0]
    pathways = list(kb.pathways)
    pathways.sort(key=lambda p: p != "emergency")
    table = pd.DataFrame(index=pd.Index(pathways, name="pathway"))
    table["rules"] = [1.0 if p == why["pathway"] else 0.0 for p in pathways]
    oracle = BayesOracle(knowledge=kb).fit(patient)
    posterior = pd.Series(oracle.predict_proba(patient)[0], index=oracle.classes_.astype(str))
    table["oracle"] = posterior.reindex(pathways).to_numpy()
    if model is not None:
        proba = np.asarray(model.predict_proba(features), dtype=float)[0]
        given = pd.Series(proba, index=[str(c) for c in model.classes_])
        table[model_name] = given.reindex(pathways).fillna(0.0).to_numpy()
    labels = {f.name: f.label for f in kb.findings}
    recorded = patient.iloc[0]
    present, missing = [], []
    for finding in kb.findings:
        if finding.name not in patient.columns:
            continue
        value = recorded[finding.name]
        if pd.isna(value):
            missing.append(labels[finding.name])
        elif bool(value):
            present.append(labels[finding.name])
    truth = None
    if "pathway" in patient.columns and not pd.isna(recorded["pathway"]):
        truth = str(recorded["pathway"])
    return Explanation(
        patient_id=str(recorded["patient_id"]) if "patient_id" in patient.columns else "?",
        present=tuple(present),
        not_recorded=tuple(missing),
        rule=str(why["rule"]),
        rule_pathway=str(why["pathway"]),
        fired_on=str(why["fired_on"]),
        assumed_absent=str(why["assumed_absent"]),
        skipped_for_missing=str(why["skipped_for_missing"]),
        probabilities=table,
        truth=truth,
    )
