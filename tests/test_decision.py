"""Minimum-expected-cost decisions (outcomes.triage.decision), checked against hand arithmetic.

Fast and self-contained (a stub classifier, small cost matrices), so `make mutate` can run these
against every mutant of the module.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from outcomes.triage.decision import MinimumCostClassifier, expected_costs, minimum_cost_decision

PATHWAYS = ["emergency", "spinal", "physio"]
# Rows: the true pathway; columns: the one assigned. Asymmetric on purpose, so a transposed
# matrix gives different numbers.
COSTS = pd.DataFrame(
    [[0.0, 40.0, 60.0], [4.0, 0.0, 2.0], [5.0, 1.0, 0.0]], index=PATHWAYS, columns=PATHWAYS
)


class Fixed(ClassifierMixin, BaseEstimator):
    """A classifier whose probabilities are given: fit learns the classes only."""

    def __init__(self, proba=None, classes=("emergency", "spinal", "physio")):
        self.proba = proba
        self.classes = classes

    def fit(self, X, y=None, **fit_params):
        self.classes_ = np.asarray(self.classes, dtype=object)
        self.fit_params_ = fit_params
        self.saw_y_ = y is not None
        self.rows_seen_ = len(X)
        self.n_features_in_ = 2
        if isinstance(X, pd.DataFrame):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    def predict_proba(self, X):
        return np.asarray(self.proba, dtype=float)[: len(X)]


def test_expected_costs_are_probabilities_times_the_cost_of_each_assignment():
    proba = np.array([[0.2, 0.5, 0.3], [0.0, 0.0, 1.0]])
    got = expected_costs(proba, PATHWAYS, COSTS)
    # Assign emergency: 0.2*0 + 0.5*4 + 0.3*5 = 3.5; spinal: 0.2*40 + 0 + 0.3*1 = 8.3;
    # physio: 0.2*60 + 0.5*2 + 0 = 13.
    np.testing.assert_allclose(got, [[3.5, 8.3, 13.0], [5.0, 1.0, 0.0]])
    # Whole-number inputs still give float costs (integer matrix products would too, but the
    # result must not depend on the caller's dtypes).
    whole = expected_costs([[0, 1, 0]], PATHWAYS, COSTS.astype(int))
    assert whole.dtype == np.float64
    assert expected_costs(np.array([[0, 1, 0]]), PATHWAYS, COSTS).dtype == np.float64


def test_the_classes_order_selects_rows_and_columns_of_the_cost_matrix():
    proba = np.array([[0.5, 0.5]])
    got = expected_costs(proba, ["physio", "emergency"], COSTS)
    # Assign physio: 0.5*0 + 0.5*60 = 30; emergency: 0.5*5 + 0.5*0 = 2.5.
    np.testing.assert_allclose(got, [[30.0, 2.5]])


def test_the_decision_is_the_least_expected_cost_not_the_most_probable():
    proba = np.array([[0.2, 0.5, 0.3], [0.0, 0.0, 1.0], [0.01, 0.98, 0.01]])
    got = minimum_cost_decision(proba, PATHWAYS, COSTS)
    # Row 3: emergency 0.98*4 + 0.01*5 = 3.97; spinal 0.4 + 0.01 = 0.41; physio 0.6 + 1.96.
    assert got.tolist() == ["emergency", "physio", "spinal"]
    assert got.dtype == object


def test_a_tie_goes_to_the_first_pathway_in_the_classes_order():
    costs = pd.DataFrame([[0.0, 1.0], [1.0, 0.0]], index=["a", "b"], columns=["a", "b"])
    assert minimum_cost_decision(np.array([[0.5, 0.5]]), ["a", "b"], costs).tolist() == ["a"]
    assert minimum_cost_decision(np.array([[0.5, 0.5]]), ["b", "a"], costs).tolist() == ["b"]


def test_the_classifier_predicts_least_cost_and_passes_probabilities_through():
    proba = [[0.2, 0.5, 0.3], [0.01, 0.98, 0.01]]
    X = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    model = MinimumCostClassifier(Fixed(proba), costs=COSTS).fit(X, ["spinal", "physio"], w=1)
    np.testing.assert_array_equal(model.predict_proba(X), np.asarray(proba))
    assert model.predict(X).tolist() == ["emergency", "spinal"]
    assert model.classes_.tolist() == PATHWAYS
    assert model.n_features_in_ == 2
    assert model.costs_ is COSTS
    assert model.estimator_.saw_y_ and model.estimator_.rows_seen_ == 2
    assert model.estimator_.fit_params_ == {"w": 1}
    assert list(model.feature_names_in_) == ["a", "b"]
    assert model.estimator.__dict__.get("classes_") is None, "the given estimator is not fitted"


def test_fit_without_y_and_with_fit_params_reaches_the_wrapped_estimator():
    model = MinimumCostClassifier(Fixed([[1, 0, 0]]), costs=COSTS).fit([[0, 0]], weight=3)
    assert not model.estimator_.saw_y_ and model.estimator_.rows_seen_ == 1
    assert model.estimator_.fit_params_ == {"weight": 3}


def test_a_pathway_missing_from_the_cost_matrix_is_refused():
    estimator = Fixed([[1, 0]], classes=("emergency", "elsewhere"))
    with pytest.raises(ValueError, match=r"no row for pathway\(s\) \['elsewhere'\]"):
        MinimumCostClassifier(estimator, costs=COSTS).fit([[0, 0]])


def test_the_default_costs_are_the_knowledge_base_s():
    from outcomes.knowledge.costs import load_costs

    pathways = tuple(load_costs().index)
    model = MinimumCostClassifier(Fixed([[1] + [0] * (len(pathways) - 1)], pathways))
    pd.testing.assert_frame_equal(model.fit([[0, 0]]).costs_, load_costs())
