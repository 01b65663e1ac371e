"""Explainable rules triage: the seed texts' differential diagnosis as an ordered decision list.

The rules live in ``knowledge/triage_rules.toml`` (grammar and sources there);
:func:`outcomes.triage.rule_book.load_triage_rules` reads them (re-exported here) and
:class:`RulesTriage`, a scikit-learn classifier, applies them, so the rules are evaluated
exactly like a learned model (``cross_val_score``, ``Pipeline``, the metrics of
``outcomes.analysis.evaluate``).

Rules are tried in order; the first whose conditions hold assigns its pathway, and the stated
default applies when none does. Evaluation is vectorised: one pass over the rules, each a few
array operations over all patients at once.

**Missing findings.** Exam signs and red flags may be *not recorded* (``<NA>``). A finding
that is not recorded never counts as positive, so a rule that needs it (in ``all`` or ``any``)
does not fire; in a ``none`` condition it counts as absent. :meth:`RulesTriage.explain` shows
both: the rules skipped because a needed finding was missing, and the findings assumed absent.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from outcomes.knowledge import (
    Knowledge,
    load_knowledge,
)
from outcomes.triage.rule_book import DEFAULT_KEYS as DEFAULT_KEYS
from outcomes.triage.rule_book import RULE_KEYS as RULE_KEYS
from outcomes.triage.rule_book import RULES_FILE as RULES_FILE
from outcomes.triage.rule_book import SEPARATOR as SEPARATOR
from outcomes.triage.rule_book import DecisionList, TriageRule, load_triage_rules, rules_table

# Why some scikit-learn estimator checks cannot apply. The checks train on numeric arrays
# with integer labels; a fixed rule set answers with care-pathway names whatever y holds.
_NAMES_NOT_NUMBERS = (
    "predictions are care-pathway names, which this check compares with numeric tolerances "
    "(assert_allclose) or scores against its integer labels; tests/test_triage.py checks the "
    "same property on a patients table"
)
_NOTHING_LEARNED = (
    "the rules learn nothing from y: classes_ are the knowledge base's care pathways, not the "
    "labels of y, and on numeric blobs no finding is recognisable, so every row gets the default"
)

#: scikit-learn estimator checks that cannot apply to a fixed rule set over named clinical
#: columns (check name -> reason). Passed as ``expected_failed_checks`` in the tests.
EXPECTED_FAILED_CHECKS: dict[str, str] = {
    "check_classifiers_train": _NOTHING_LEARNED,
    "check_classifiers_classes": _NOTHING_LEARNED,
    "check_classifiers_one_label": _NOTHING_LEARNED,
    "check_fit_score_takes_y": _NAMES_NOT_NUMBERS,
    "check_pipeline_consistency": _NAMES_NOT_NUMBERS,
    "check_estimators_pickle": _NAMES_NOT_NUMBERS,
    "check_classifier_data_not_an_array": _NAMES_NOT_NUMBERS,
    "check_supervised_y_2d": _NAMES_NOT_NUMBERS,
    "check_methods_sample_order_invariance": _NAMES_NOT_NUMBERS,
    "check_methods_subset_invariance": _NAMES_NOT_NUMBERS,
    "check_fit_idempotent": _NAMES_NOT_NUMBERS,
}


# --------------------------------------------------------------------------------------------
# The estimator


@dataclass(frozen=True)
class _Evaluation:
    """The decision list applied to a set of patients (all arrays have one row per patient)."""

    chosen: np.ndarray  # index of the rule that fired; len(rules) means the default
    positive: np.ndarray  # (n, findings) recorded positive
    recorded: np.ndarray  # (n, findings) recorded at all
    skipped: np.ndarray  # (n, rules) would have fired had the missing findings been positive


class RulesTriage(ClassifierMixin, BaseEstimator):
    """Rules triage: the ordered decision list of ``triage_rules.toml`` as a classifier.

    Follows the scikit-learn classifier contract. ``fit`` learns nothing: it loads and
    validates the rules, sets ``classes_`` (the care pathways, in knowledge order) and checks
    the input; ``y`` is validated if given (a 1-d classification target) and otherwise ignored.

    ``predict_proba`` is **one-hot**: the rules make a decision and state no probability, so
    the chosen pathway gets 1 and the others 0 (calibration measures then describe the hard
    decisions honestly rather than an invented confidence).

    Input is the patients table (a DataFrame) holding at least the finding columns the rules
    read (:attr:`DecisionList.findings`); a missing column is an error naming it. A value that
    is missing (``<NA>``/``NaN``/``None``) means *not recorded* (see the module docstring). A
    plain array is read column by column in the order of the DataFrame seen by ``fit``; an
    array fitted without column names carries no recognisable finding, so every patient falls
    through to the default rule (``fit`` warns).

    Parameters
    ----------
    knowledge
        A knowledge base other than the packaged one: a :class:`~outcomes.knowledge.Knowledge`
        or the folder holding its TOML files. Its folder's ``triage_rules.toml`` is used if it
        has one. Prefer the folder wherever the estimator is cloned or pickled
        (``cross_val_score``, ``GridSearchCV``, saving a fitted model): a folder path copies
        and pickles, the frozen ``Knowledge`` object does not.

    Attributes
    ----------
    classes_ : ndarray of str
        The care pathways.
    rules_ : DecisionList
        The validated decision list.
    n_features_in_, feature_names_in_
        As in scikit-learn.

    Examples
    --------
    >>> from outcomes.engine.cohort import feature_columns, generate
    >>> patients = generate(500, seed=3)
    >>> X, y = patients[feature_columns()], patients["pathway"].astype(str)
    >>> rules = RulesTriage().fit(X, y)
    >>> rules.predict(X).shape, list(rules.classes_[:2])
    ((500,), ['emergency', 'spinal'])
    >>> bool(rules.predict_proba(X).sum(axis=1).min() == 1.0)
    True
    """

    def __init__(self, knowledge: Knowledge | str | Path | None = None):
        self.knowledge = knowledge

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Missing findings are part of the input: NaN/<NA> means "not recorded".
        tags.input_tags.allow_nan = True
        return tags

    def fit(self, X: Any, y: Any = None) -> RulesTriage:
        """Load the rules, set ``classes_`` and validate ``X`` (and ``y`` if given).

        Parameters
        ----------
        X
            The patients table (DataFrame) with the finding columns the rules read.
        y
            Ignored apart from validation; accepted so the estimator fits in scikit-learn
            tools that pass labels.

        Returns
        -------
        RulesTriage
            ``self``.

        Examples
        --------
        >>> from outcomes.engine.cohort import generate
        >>> RulesTriage().fit(generate(10, seed=1)).n_features_in_ > 40
        True
        """
        if self.knowledge is None or isinstance(self.knowledge, Knowledge):
            kb = self.knowledge if self.knowledge is not None else load_knowledge()
        else:
            kb = load_knowledge(self.knowledge)
        rules = load_triage_rules(kb)
        if isinstance(X, pd.DataFrame):
            absent = [f for f in rules.findings if f not in X.columns]
            if absent:
                raise ValueError(
                    f"the patients table lacks the finding column(s) the rules read: "
                    f"{', '.join(absent)}"
                )
            _finding_matrices(X, rules.findings)  # a value that is not yes/no fails here
            validate_data(self, X, skip_check_array=True, reset=True)
            n_rows = len(X)
        else:
            # Without names the values are never read; they only need to be a numeric array.
            X = validate_data(self, X, reset=True, ensure_all_finite="allow-nan")
            n_rows = X.shape[0]
            warnings.warn(
                "X has no column names, so no finding can be recognised: every patient "
                f"falls through to the default rule {rules.default.name!r} "
                f"({rules.default.pathway}). Pass the patients table as a DataFrame.",
                UserWarning,
                stacklevel=2,
            )
        if y is not None:
            y = check_array(y, ensure_2d=False, dtype=None, input_name="y")
            y = column_or_1d(y, warn=True)
            check_consistent_length(np.empty(n_rows), y)
            check_classification_targets(y)
        self.rules_ = rules
        self.classes_ = np.array(kb.pathways, dtype=object)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """The pathway of the first rule that fires for each patient (or the default's).

        Parameters
        ----------
        X
            Patients, as for :meth:`fit`.

        Returns
        -------
        numpy.ndarray
            One pathway name per patient (object array).

        Examples
        --------
        >>> from outcomes.engine.cohort import generate
        >>> patients = generate(200, seed=2)
        >>> predicted = RulesTriage().fit(patients).predict(patients)
        >>> set(predicted) <= set(load_triage_rules().pathways)
        True
        """
        evaluation = self._evaluate(X)
        return self._rule_pathways()[evaluation.chosen]

    def predict_proba(self, X: Any) -> np.ndarray:
        """One-hot probabilities over ``classes_``: 1 for the chosen pathway, 0 elsewhere.

        The rules state no confidence, so none is invented (see the class docstring).

        Parameters
        ----------
        X
            Patients, as for :meth:`fit`.

        Returns
        -------
        numpy.ndarray
            Shape ``(n_patients, n_pathways)``, columns in the order of ``classes_``.

        Examples
        --------
        >>> from outcomes.engine.cohort import generate
        >>> patients = generate(5, seed=2)
        >>> RulesTriage().fit(patients).predict_proba(patients).sum(axis=1).tolist()
        [1.0, 1.0, 1.0, 1.0, 1.0]
        """
        predicted = self.predict(X)
        return (predicted[:, None] == self.classes_[None, :]).astype(float)

    def explain(self, X: Any) -> pd.DataFrame:
        """Why each patient got their pathway, as a table a clinician can read.

        Parameters
        ----------
        X
            Patients, as for :meth:`fit`.

        Returns
        -------
        pandas.DataFrame
            One row per patient (index aligned with ``X``) with columns ``rule`` (the rule that
            fired), ``pathway``, ``fired_on`` (the recorded findings that made it fire),
            ``assumed_absent`` (findings of its ``none`` condition that were not recorded and
            so counted as absent) and ``skipped_for_missing`` (earlier rules that did not fire
            only because a finding they need was not recorded, with those findings).

        Examples
        --------
        >>> from outcomes.engine.cohort import generate
        >>> patients = generate(300, seed=4)
        >>> why = RulesTriage().fit(patients).explain(patients)
        >>> list(why.columns)
        ['rule', 'pathway', 'fired_on', 'assumed_absent', 'skipped_for_missing']
        >>> bool((why.index == patients.index).all())
        True
        """
        evaluation = self._evaluate(X)
        rules = (*self.rules_.rules, self.rules_.default)
        column = {name: i for i, name in enumerate(self.rules_.findings)}
        labels = self.rules_.labels
        chosen, positive, recorded = evaluation.chosen, evaluation.positive, evaluation.recorded
        n = len(chosen)
        fired_on = _Texts(n)
        assumed_absent = _Texts(n)
        skipped = _Texts(n)
        for r, rule in enumerate(rules):
            fired = chosen == r
            for finding in (*rule.all_of, *rule.any_of):
                fired_on.add(fired & positive[:, column[finding]], labels[finding])
            for finding in rule.none_of:
                assumed_absent.add(fired & ~recorded[:, column[finding]], labels[finding])
            if r == len(self.rules_.rules):
                fired_on.add(fired, "no earlier rule matched")
                continue
            # Only rules before the one that fired were tried; later ones do not matter.
            was_skipped = evaluation.skipped[:, r] & (chosen > r)
            missing = _Texts(n)
            for finding in (*rule.all_of, *rule.any_of):
                missing.add(was_skipped & ~recorded[:, column[finding]], labels[finding], ", ")
            skipped.add(was_skipped, missing.wrap(f"{rule.name} (not recorded: ", ")"))
        index = X.index if isinstance(X, pd.DataFrame) else pd.RangeIndex(n)
        return pd.DataFrame(
            {
                "rule": np.array([rule.name for rule in rules], dtype=object)[chosen],
                "pathway": self._rule_pathways()[chosen],
                "fired_on": fired_on.text(),
                "assumed_absent": assumed_absent.text(),
                "skipped_for_missing": skipped.text(),
            },
            index=index,
        )

    def rules_table(self) -> pd.DataFrame:
        """The fitted decision list as a table (see :func:`rules_table`).

        Returns
        -------
        pandas.DataFrame
            One row per rule, in order, the default rule last.

        Examples
        --------
        >>> from outcomes.engine.cohort import generate
        >>> len(RulesTriage().fit(generate(5, seed=1)).rules_table()) == len(rules_table())
        True
        """
        check_is_fitted(self, "rules_")
        return rules_table(self.rules_)

    # ----------------------------------------------------------------------------------------

    def _rule_pathways(self) -> np.ndarray:
        rules = (*self.rules_.rules, self.rules_.default)
        return np.array([rule.pathway for rule in rules], dtype=object)

    def _findings(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """``positive`` and ``recorded`` matrices (patients x findings the rules read)."""
        check_is_fitted(self, "rules_")
        names = self.rules_.findings
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, skip_check_array=True, reset=False)
            frame = X
        else:
            named = hasattr(self, "feature_names_in_")
            # An array is read by position as the columns seen by fit (object values allowed).
            array = validate_data(
                self,
                X,
                reset=False,
                dtype=None if named else "numeric",
                ensure_all_finite="allow-nan",
            )
            if not named:
                # Fitted without names: no finding is recognisable, so none is recorded.
                shape = (array.shape[0], len(names))
                return np.zeros(shape, dtype=bool), np.zeros(shape, dtype=bool)
            frame = pd.DataFrame(array, columns=self.feature_names_in_)
        return _finding_matrices(frame, names)

    def _evaluate(self, X: Any) -> _Evaluation:
        positive, recorded = self._findings(X)
        column = {name: i for i, name in enumerate(self.rules_.findings)}
        # A finding that is not recorded could still be positive: the optimistic view is used
        # only to report rules skipped because of missing findings, never to decide.
        possible = positive | ~recorded
        n, n_rules = positive.shape[0], len(self.rules_.rules)
        fires = np.ones((n, n_rules + 1), dtype=bool)  # the last column is the default rule
        skipped = np.zeros((n, n_rules), dtype=bool)
        for r, rule in enumerate(self.rules_.rules):
            all_cols = [column[f] for f in rule.all_of]
            any_cols = [column[f] for f in rule.any_of]
            none_cols = [column[f] for f in rule.none_of]
            holds_none = ~positive[:, none_cols].any(axis=1)
            holds = positive[:, all_cols].all(axis=1) & holds_none
            could = possible[:, all_cols].all(axis=1) & holds_none
            if any_cols:
                holds &= positive[:, any_cols].sum(axis=1) >= rule.min_any
                could &= possible[:, any_cols].sum(axis=1) >= rule.min_any
            fires[:, r] = holds
            skipped[:, r] = could & ~holds
        return _Evaluation(
            chosen=np.argmax(fires, axis=1),  # the first rule that fires
            positive=positive,
            recorded=recorded,
            skipped=skipped,
        )


def _finding_matrices(frame: pd.DataFrame, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """``positive`` and ``recorded`` boolean matrices (patients x ``names``) of a table."""
    positive = np.zeros((len(frame), len(names)), dtype=bool)
    recorded = np.zeros((len(frame), len(names)), dtype=bool)
    for j, name in enumerate(names):
        values = _as_boolean(frame[name], name)
        recorded[:, j] = ~values.isna().to_numpy()
        positive[:, j] = values.fillna(False).to_numpy(dtype=bool)
    return positive, recorded


def _as_boolean(values: pd.Series, name: str) -> pd.Series:
    """A finding column as pandas nullable booleans (missing = not recorded)."""
    if isinstance(values.dtype, pd.BooleanDtype):
        return values
    try:
        return values.astype("boolean")
    except (TypeError, ValueError):
        bad = values[~values.isna() & ~values.isin([True, False, 0, 1])]
        rows = ", ".join(map(str, bad.index[:5].tolist()))
        raise ValueError(
            f"column {name!r} must hold yes/no values (True/False, 1/0, or missing for not "
            f"recorded); rows {rows} hold {bad.iloc[:5].tolist()!r}"
        ) from None


class _Texts:
    """Per-patient text built from labelled masks, vectorised over patients."""

    def __init__(self, n: int):
        self.parts = np.full(n, "", dtype=object)

    def add(self, mask: np.ndarray, text: str | np.ndarray, separator: str = SEPARATOR) -> None:
        if not mask.any():
            return
        current = self.parts[mask]
        addition = text[mask] if isinstance(text, np.ndarray) else text
        glue = np.where(current == "", "", separator).astype(object)
        self.parts[mask] = current + glue + addition

    def wrap(self, before: str, after: str) -> np.ndarray:
        """Each non-empty text as ``before + text + after``; empty ones stay empty."""
        out = np.full(len(self.parts), "", dtype=object)
        filled = self.parts != ""
        out[filled] = before + self.parts[filled] + after
        return out

    def text(self) -> np.ndarray:
        return self.parts


__all__ = [
    "EXPECTED_FAILED_CHECKS",
    "DecisionList",
    "RulesTriage",
    "TriageRule",
    "load_triage_rules",
    "rules_table",
]


def explain_misses(
    rules: RulesTriage, patients: pd.DataFrame, n: int = 5, seed: int = 0
) -> pd.DataFrame:
    """The rules' explanation for ``n`` misclassified patients (a seeded sample), with truth.

    Parameters
    ----------
    rules
        A fitted :class:`RulesTriage`.
    patients
        The patients table, including the true ``condition`` and ``pathway``.
    n : int, optional
        How many misclassified patients to show (all of them if fewer).
    seed : int, optional
        Seed of the sample.

    Returns
    -------
    pandas.DataFrame
        Columns ``true condition``, ``true pathway``, ``assigned``, ``rule``, ``fired on``,
        ``skipped for missing findings``; indexed by ``patient_id``.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> patients = generate(400, seed=1)
    >>> misses = explain_misses(RulesTriage().fit(patients), patients, n=3)
    >>> len(misses), bool((misses["true pathway"] != misses["assigned"]).all())
    (3, True)
    """
    # Show the rules the columns they were fitted on (the table also holds the truth).
    seen = getattr(rules, "feature_names_in_", None)
    why = rules.explain(patients[list(seen)] if seen is not None else patients)
    wrong = why["pathway"].astype(str).to_numpy() != patients["pathway"].astype(str).to_numpy()
    rows = np.flatnonzero(wrong)
    if len(rows) > n:
        rows = np.sort(np.random.default_rng(seed).choice(rows, size=n, replace=False))
    picked = why.iloc[rows]
    out = pd.DataFrame(
        {
            "true condition": patients["condition"].astype(str).iloc[rows].str.replace("_", " "),
            "true pathway": patients["pathway"].astype(str).iloc[rows],
            "assigned": picked["pathway"].astype(str),
            "rule": picked["rule"],
            "fired on": picked["fired_on"],
            "skipped for missing findings": picked["skipped_for_missing"],
        }
    )
    out.index = (
        patients["patient_id"].iloc[rows].astype(str) if "patient_id" in patients else out.index
    )
    out.index.name = "patient_id"
    return out
