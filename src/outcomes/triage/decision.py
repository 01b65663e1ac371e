"""Turn probabilities into triage decisions by stated costs, not by the most probable pathway.

Choosing the most probable pathway maximises accuracy, and so treats a missed emergency like
any other error. With a cost matrix (``knowledge/costs.toml``, rows the true pathway, columns
the one assigned) the Bayes decision is the pathway of least *expected* cost:
``argmin_j sum_i P(i | record) * cost[i, j]``. The threshold this implies comes from the stated
costs, never from the evaluation set (TRIPOD+AI practice).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from outcomes.knowledge.costs import load_costs


def expected_costs(proba: np.ndarray, classes: Any, costs: pd.DataFrame) -> np.ndarray:
    """Expected cost of assigning each pathway, per patient: ``proba @ cost``.

    Parameters
    ----------
    proba : numpy.ndarray
        Probabilities, shape ``(n, k)``, columns in the order of ``classes``.
    classes : sequence of str
        The pathways of the columns of ``proba``.
    costs : pandas.DataFrame
        Cost matrix: true pathway (index) by assigned pathway (columns).

    Returns
    -------
    numpy.ndarray
        Shape ``(n, k)``: the expected cost of assigning each pathway of ``classes``.

    Examples
    --------
    >>> costs = pd.DataFrame([[0, 50], [3, 0]], index=["emergency", "spinal"],
    ...                      columns=["emergency", "spinal"])
    >>> expected_costs(np.array([[0.1, 0.9]]), ["emergency", "spinal"], costs).tolist()
    [[2.7, 5.0]]
    """
    classes = [str(c) for c in classes]
    matrix = costs.loc[classes, classes].to_numpy(dtype=float)
    return np.asarray(proba, dtype=float) @ matrix


def minimum_cost_decision(proba: np.ndarray, classes: Any, costs: pd.DataFrame) -> np.ndarray:
    """The pathway of least expected cost for each patient.

    Parameters
    ----------
    proba : numpy.ndarray
        Probabilities, shape ``(n, k)``, columns in the order of ``classes``.
    classes : sequence of str
        The pathways of the columns of ``proba``.
    costs : pandas.DataFrame
        Cost matrix: true pathway (index) by assigned pathway (columns).

    Returns
    -------
    numpy.ndarray
        One pathway (object array of str) per patient; ties go to the first in ``classes``.

    Examples
    --------
    >>> costs = pd.DataFrame([[0, 50], [3, 0]], index=["emergency", "spinal"],
    ...                      columns=["emergency", "spinal"])
    >>> minimum_cost_decision(np.array([[0.1, 0.9], [0.01, 0.99]]), ["emergency", "spinal"],
    ...                       costs).tolist()
    ['emergency', 'spinal']
    """
    classes = np.asarray([str(c) for c in classes], dtype=object)
    return classes[expected_costs(proba, classes, costs).argmin(axis=1)]


class MinimumCostClassifier(ClassifierMixin, BaseEstimator):
    """Wrap a probabilistic classifier so that ``predict`` minimises expected cost.

    Parameters
    ----------
    estimator
        Any classifier with ``predict_proba`` (a learned model or the Bayes oracle).
    costs
        Cost matrix with pathways as index (true) and columns (assigned); default
        :func:`outcomes.knowledge.costs.load_costs`.

    Attributes
    ----------
    estimator_, classes_, costs_
        The fitted clone, its pathways and the cost matrix in use.
    n_features_in_, feature_names_in_
        As the fitted clone reports them (absent when it does not).

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.triage.oracle import BayesOracle
    >>> patients = generate(400, seed=1)
    >>> safe = MinimumCostClassifier(BayesOracle()).fit(patients)
    >>> bool((safe.predict(patients) == "emergency").sum()
    ...      >= (BayesOracle().fit(patients).predict(patients) == "emergency").sum())
    True
    """

    def __init__(self, estimator: Any, costs: pd.DataFrame | None = None):
        self.estimator = estimator
        self.costs = costs

    def fit(self, X: Any, y: Any = None, **fit_params: Any) -> MinimumCostClassifier:
        """Fit a clone of ``estimator``; the decision rule itself learns nothing.

        Parameters
        ----------
        X : array-like or pandas.DataFrame
            What the wrapped estimator takes.
        y : array-like, optional
            Targets, passed on when given.
        **fit_params
            Passed to the wrapped estimator's ``fit``.

        Returns
        -------
        MinimumCostClassifier
            This classifier, fitted.

        Raises
        ------
        ValueError
            If the cost matrix has no row for one of the estimator's classes.

        Examples
        --------
        >>> from outcomes.engine.cohort import generate
        >>> from outcomes.triage.oracle import BayesOracle
        >>> patients = generate(30, seed=4)
        >>> safe = MinimumCostClassifier(BayesOracle()).fit(patients)
        >>> list(safe.classes_) == list(safe.estimator_.classes_)
        True
        """
        self.estimator_ = clone(self.estimator)
        if y is None:
            self.estimator_.fit(X, **fit_params)
        else:
            self.estimator_.fit(X, y, **fit_params)
        self.classes_ = np.asarray(self.estimator_.classes_, dtype=object)
        for name in ("n_features_in_", "feature_names_in_"):  # the input, as the wrapped saw it
            if hasattr(self.estimator_, name):
                setattr(self, name, getattr(self.estimator_, name))
        self.costs_ = load_costs() if self.costs is None else self.costs
        missing = sorted(set(map(str, self.classes_)) - set(self.costs_.index))
        if missing:
            raise ValueError(f"the cost matrix has no row for pathway(s) {missing}")
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """The wrapped estimator's probabilities (unchanged).

        Parameters
        ----------
        X : array-like or pandas.DataFrame
            What the wrapped estimator takes.

        Returns
        -------
        numpy.ndarray
            Shape ``(n, len(classes_))``.

        Examples
        --------
        >>> from outcomes.engine.cohort import generate
        >>> from outcomes.triage.oracle import BayesOracle
        >>> patients = generate(30, seed=4)
        >>> safe = MinimumCostClassifier(BayesOracle()).fit(patients)
        >>> safe.predict_proba(patients).shape == (30, len(safe.classes_))
        True
        """
        return self.estimator_.predict_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        """The pathway of least expected cost for each row.

        Parameters
        ----------
        X : array-like or pandas.DataFrame
            What the wrapped estimator takes.

        Returns
        -------
        numpy.ndarray
            One pathway per row.

        Examples
        --------
        >>> from outcomes.engine.cohort import generate
        >>> from outcomes.triage.oracle import BayesOracle
        >>> patients = generate(30, seed=4)
        >>> safe = MinimumCostClassifier(BayesOracle()).fit(patients)
        >>> len(safe.predict(patients))
        30
        """
        return minimum_cost_decision(self.predict_proba(X), self.classes_, self.costs_)
