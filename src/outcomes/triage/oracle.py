"""The exact Bayes posterior P(condition | findings) under the generator's own model.

Because the generator's likelihoods are known, the posterior over conditions given everything
recorded about a patient can be computed exactly: sum over the secondary contributor and the
three levels of the shared pain-sensitivity factor, integrate the latent severity
(Gauss-Jacobi quadrature matched to each condition's Beta severity, so the integral is exact
for polynomial integrands and converges fast otherwise), use the probability that a finding is
*recorded* present (true finding and recording error together, exactly as the generator draws
it) and skip findings that were not recorded (they are missing completely at random, so
skipping them is exact).

Deciding by the largest posterior pathway probability gives the highest expected accuracy any
triage method can reach on a cohort from the same model: the **ceiling** every method is
compared with.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import log_ndtr, roots_jacobi
from scipy.stats import binom
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from outcomes.engine.cohort import GENERATED_WITH_KEY, generated_with
from outcomes.engine.model import (
    ODI_TRIALS,
    PAIN_NRS_TRIALS,
    SENSITIVITY_LEVELS,
    PatientModel,
    build_model,
)
from outcomes.knowledge import ONSETS, SEXES, SIDES, Knowledge, load_knowledge

#: Rows evaluated together; bounds memory at about ``BATCH_ROWS x components x 8`` bytes.
BATCH_ROWS = 8192
#: Log-probability used instead of log(0), so that 0 x log(0) terms stay finite in matmuls.
LOG_ZERO = -1e6


def _log(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(x), LOG_ZERO)


def _log_interval_mass(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """log(Phi(hi) - Phi(lo)) for lo < hi, accurate in both tails."""
    flip = lo > 0  # in the upper tail use the mirror image to avoid 1 - 1 cancellation
    a = np.where(flip, -hi, lo)
    b = np.where(flip, -lo, hi)
    log_b, log_a = log_ndtr(b), log_ndtr(a)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = log_b + np.log1p(-np.exp(log_a - log_b))
    return np.maximum(np.nan_to_num(out, nan=LOG_ZERO, neginf=LOG_ZERO), LOG_ZERO)


class _Components:
    """Mixture components (condition, secondary, severity node) and their likelihood tables."""

    def __init__(self, model: PatientModel, n_nodes: int):
        self.model = model
        n_cond = len(model.conditions)
        # (condition, secondary) pairs that can occur under some setting: the condition's own
        # secondary distribution decides, the case mix is applied per row later.
        pairs = [
            (c, s) for c in range(n_cond) for s in range(n_cond + 1) if model.secondary[c, s] > 0
        ]
        # Components run pair by pair, then pain-sensitivity level (only levels with mass),
        # then severity node: a condition's components stay contiguous.
        levels = np.flatnonzero(model.sensitivity_prior > 0)
        per_pair = len(levels) * n_nodes
        self.pair_condition = np.repeat([c for c, _ in pairs], per_pair)
        self.pair_secondary = np.repeat([s for _, s in pairs], per_pair)
        level_index = np.tile(np.repeat(levels, n_nodes), len(pairs))
        self.sensitivity = SENSITIVITY_LEVELS[level_index]
        nodes = np.empty((n_cond, n_nodes))
        log_weights = np.empty((n_cond, n_nodes))
        for c in range(n_cond):
            a, b = model.beta_a[c], model.beta_b[c]
            t, w = roots_jacobi(n_nodes, b - 1.0, a - 1.0)  # weight (1-t)^(b-1) (1+t)^(a-1)
            nodes[c] = (t + 1.0) / 2.0
            log_weights[c] = np.log(w / w.sum())
        node_index = np.tile(np.arange(n_nodes), len(pairs) * len(levels))
        self.severity = nodes[self.pair_condition, node_index]
        self.log_prior = (
            _log(model.secondary[self.pair_condition, self.pair_secondary])
            + _log(model.sensitivity_prior[level_index])
            + log_weights[self.pair_condition, node_index]
        )
        # Columns of the same condition are contiguous: reduceat sums them.
        self.starts = np.searchsorted(self.pair_condition, np.arange(n_cond))
        present = np.isin(np.arange(n_cond), self.pair_condition)
        if not present.all():  # pragma: no cover - every condition has a 'none' or a secondary
            raise ValueError("every condition needs a secondary distribution with some mass")
        self.finding_tables = {}
        for chronic in (False, True):
            p = model.finding_probability(
                self.pair_condition,
                self.pair_secondary,
                self.severity,
                np.full(len(self.severity), chronic),
                self.sensitivity,
            )
            self.finding_tables[chronic] = (_log(p).T.copy(), _log(1.0 - p).T.copy())
        # Score tables, one row per score and a last row of zeros for "not recorded".
        self.log_pain = self._score_table(model.pain_range, PAIN_NRS_TRIALS)
        self.log_odi = self._score_table(model.odi_range, ODI_TRIALS)

    def _score_table(self, score_range: np.ndarray, trials: int) -> np.ndarray:
        """(trials + 2, components): log P(score | component), then 0 for a missing score."""
        lo, span = score_range[:, 0], np.diff(score_range, axis=1)[:, 0]
        p = lo[self.pair_condition] + span[self.pair_condition] * self.severity
        table = np.zeros((trials + 2, len(self.severity)))
        table[:-1] = _log(binom.pmf(np.arange(trials + 1)[:, None], trials, p[None, :]))
        return table


class BayesOracle(ClassifierMixin, BaseEstimator):
    """Exact Bayes triage under the generator's model: the accuracy ceiling.

    Follows the scikit-learn classifier contract: ``fit`` learns nothing but ``classes_``
    (the care pathways, or the conditions with ``target="condition"``); ``predict_proba``
    gives exact posterior probabilities in the order of ``classes_``; ``predict`` picks the
    most probable class.

    Parameters
    ----------
    setting
        Setting whose case mix is the prior. ``None`` uses each row's ``setting`` column.
    overrides
        The generator overrides the cohort was made with (only ``case_mix``,
        ``chronic_fraction`` and ``combined_fraction`` change the posterior). ``None``
        (default): those :func:`outcomes.engine.cohort.generate` recorded on the table given to
        ``fit`` (:func:`outcomes.engine.cohort.generated_with`), or none if it recorded nothing (a
        team's file, a CSV, cohorts made differently and concatenated). A mapping, ``{}``
        included, is used as given whatever the table recorded. ``overrides_`` holds the
        overrides used.
    target
        ``"pathway"`` (default) or ``"condition"``.
    n_nodes
        Quadrature nodes per condition for the latent severity.
    knowledge
        A knowledge base other than the packaged one.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> df = generate(2000, seed=1)
    >>> oracle = BayesOracle().fit(df)
    >>> proba = oracle.predict_proba(df)
    >>> proba.shape, bool(np.allclose(proba.sum(axis=1), 1))
    ((2000, 5), True)

    A cohort made with overrides carries them to the oracle:

    >>> mix = {"disc_herniation": 0.5, "piriformis_syndrome": 0.5}
    >>> BayesOracle().fit(generate(100, seed=1, case_mix=mix)).overrides_
    {'case_mix': {'disc_herniation': 0.5, 'piriformis_syndrome': 0.5}}
    """

    def __init__(
        self,
        setting: str | None = None,
        overrides: Mapping[str, Any] | None = None,
        target: str = "pathway",
        n_nodes: int = 48,
        knowledge: Knowledge | None = None,
    ):
        self.setting = setting
        self.overrides = overrides
        self.target = target
        self.n_nodes = n_nodes
        self.knowledge = knowledge

    def fit(self, X: pd.DataFrame, y: Any = None) -> BayesOracle:
        """Validate the parameters and set ``classes_``; nothing is learned from the data
        but, when ``overrides`` is ``None``, the overrides recorded on ``X`` (see above).

        Parameters
        ----------
        X : pandas.DataFrame
            Patients with the findings columns (a generated cohort or a team's table).
        y : ignored
            Present for scikit-learn compatibility.

        Returns
        -------
        BayesOracle
            This oracle, fitted.

        Examples
        --------
        >>> from outcomes.engine.cohort import generate
        >>> "emergency" in BayesOracle().fit(generate(30, seed=4)).classes_
        True
        """
        if self.target not in ("pathway", "condition"):
            raise ValueError(f"target must be 'pathway' or 'condition', got {self.target!r}")
        if not isinstance(self.n_nodes, int) or self.n_nodes < 2:
            raise ValueError(f"n_nodes must be an integer >= 2, got {self.n_nodes!r}")
        kb = self.knowledge if self.knowledge is not None else load_knowledge()
        settings = kb.setting_names if self.setting is None else (self.setting,)
        if self.overrides is not None:
            overrides = dict(self.overrides)
            self.models_ = {s: build_model(s, kb, **overrides) for s in settings}
        else:
            recorded = generated_with(X) if isinstance(X, pd.DataFrame) else None
            overrides = recorded["overrides"] if recorded is not None else {}
            try:
                self.models_ = {s: build_model(s, kb, **overrides) for s in settings}
            except ValueError as error:
                raise ValueError(
                    f"the overrides recorded on the table (attrs[{GENERATED_WITH_KEY!r}]) do not "
                    f"fit this knowledge base: {error}; pass overrides= explicitly"
                ) from error
        self.overrides_ = copy.deepcopy(dict(next(iter(self.models_.values())).overrides))
        self.knowledge_ = kb
        model = next(iter(self.models_.values()))
        self.components_ = _Components(model, self.n_nodes)
        self.conditions_ = np.array(kb.condition_names, dtype=object)
        self.classes_ = np.array(
            kb.pathways if self.target == "pathway" else kb.condition_names, dtype=object
        )
        return self

    # ----------------------------------------------------------------------------------------

    def condition_log_posterior(self, X: pd.DataFrame) -> np.ndarray:
        """Log posterior over conditions, shape ``(n, n_conditions)``, rows normalised.

        Parameters
        ----------
        X : pandas.DataFrame
            Patients with the findings columns (a generated cohort or a team's table).

        Returns
        -------
        numpy.ndarray
            One row per patient, one column per condition of ``conditions_``.

        Examples
        --------
        >>> from outcomes.engine.cohort import generate
        >>> patients = generate(30, seed=4)
        >>> oracle = BayesOracle().fit(patients)
        >>> logp = oracle.condition_log_posterior(patients)
        >>> bool(np.allclose(np.exp(logp).sum(axis=1), 1))
        True
        """
        check_is_fitted(self, "components_")
        X = self._check_frame(X)
        out = np.empty((len(X), len(self.conditions_)))
        # Work arrays of batch x components, reused by every batch (fresh ones of this size
        # would cost the kernel zeroing their memory again for each batch).
        shape = (min(len(X), BATCH_ROWS), len(self.components_.log_prior))
        work = (np.empty(shape), np.empty(shape))
        for start in range(0, len(X), BATCH_ROWS):
            rows = X.iloc[start : start + BATCH_ROWS]
            out[start : start + len(rows)] = self._log_joint(rows, work)
        out -= np.logaddexp.reduce(out, axis=1, keepdims=True)
        return out

    def condition_proba(self, X: pd.DataFrame) -> pd.DataFrame:
        """Posterior P(condition | findings) as a DataFrame with one column per condition.

        Parameters
        ----------
        X : pandas.DataFrame
            Patients with the findings columns (a generated cohort or a team's table).

        Returns
        -------
        pandas.DataFrame
            Same index as ``X``; rows sum to 1.

        Examples
        --------
        >>> from outcomes.engine.cohort import generate
        >>> df = generate(50, seed=2)
        >>> BayesOracle().fit(df).condition_proba(df).columns[0]
        'disc_herniation'
        """
        proba = np.exp(self.condition_log_posterior(X))
        return pd.DataFrame(proba, index=X.index, columns=list(self.conditions_))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Posterior probabilities over ``classes_`` (pathways by default).

        Parameters
        ----------
        X : pandas.DataFrame
            Patients with the findings columns (a generated cohort or a team's table).

        Returns
        -------
        numpy.ndarray
            Shape ``(n, len(classes_))``; rows sum to 1.

        Examples
        --------
        >>> from outcomes.engine.cohort import generate
        >>> patients = generate(30, seed=4)
        >>> oracle = BayesOracle().fit(patients)
        >>> oracle.predict_proba(patients).shape == (30, len(oracle.classes_))
        True
        """
        proba = np.exp(self.condition_log_posterior(X))
        if self.target == "condition":
            return proba
        kb = self.knowledge_
        to_pathway = np.zeros((len(self.conditions_), len(self.classes_)))
        for i, c in enumerate(kb.conditions):
            to_pathway[i, list(self.classes_).index(c.pathway)] = 1.0
        return proba @ to_pathway

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """The most probable class for each row (Bayes-optimal for accuracy).

        Parameters
        ----------
        X : pandas.DataFrame
            Patients with the findings columns (a generated cohort or a team's table).

        Returns
        -------
        numpy.ndarray
            One class per patient.

        Examples
        --------
        >>> from outcomes.engine.cohort import generate
        >>> patients = generate(30, seed=4)
        >>> oracle = BayesOracle().fit(patients)
        >>> len(oracle.predict(patients))
        30
        """
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    # ----------------------------------------------------------------------------------------

    def _required_columns(self) -> list[str]:
        return [
            "age", "sex", "occupation", "onset", "trigger", "symptom_duration_weeks", "side",
            "pain_nrs", "odi", *self.knowledge_.finding_names,
        ]  # fmt: skip

    def _check_frame(self, X: Any) -> pd.DataFrame:
        if not isinstance(X, pd.DataFrame):
            raise TypeError("BayesOracle needs the patients table as a pandas DataFrame")
        needed = self._required_columns() + (["setting"] if self.setting is None else [])
        absent = [c for c in needed if c not in X.columns]
        if absent:
            raise ValueError(f"the patients table lacks column(s): {', '.join(absent)}")
        if self.setting is None:
            unknown = sorted(set(X["setting"].dropna().astype(str)) - set(self.models_))
            if unknown or X["setting"].isna().any():
                raise ValueError(
                    f"column 'setting' has unknown or missing values {unknown}; "
                    f"choose from: {', '.join(self.models_)}"
                )
        for column, top, step in (("pain_nrs", PAIN_NRS_TRIALS, 1), ("odi", 2 * ODI_TRIALS, 2)):
            score = X[column].to_numpy(dtype=float, na_value=np.nan)
            bad = ~np.isnan(score) & ((score < 0) | (score > top) | (score % step != 0))
            if bad.any():
                rows = ", ".join(str(r) for r in X.index[bad][:5])
                raise ValueError(
                    f"column {column!r} must hold multiples of {step} from 0 to {top} or be "
                    f"missing; {int(bad.sum())} row(s) do not, e.g. row(s) {rows}"
                )
        return X

    def _log_prior(self, X: pd.DataFrame) -> np.ndarray:
        if self.setting is not None:
            prior = self.models_[self.setting].prior
            return np.broadcast_to(_log(prior), (len(X), len(prior)))
        names = list(self.models_)
        table = _log(np.stack([self.models_[s].prior for s in names]))
        codes = pd.Categorical(X["setting"].astype(str), categories=names).codes
        return table[codes]

    def _log_joint(self, X: pd.DataFrame, work: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """log P(condition, recorded findings) for each row, shape (n, C).

        ``work`` holds two arrays of at least (n, components) to compute in.
        """
        comp = self.components_
        model = comp.model
        n = len(X)
        values = X[list(model.findings)].astype("float64").to_numpy(na_value=np.nan)
        duration = X["symptom_duration_weeks"].to_numpy(dtype=float, na_value=np.nan)
        chronic = duration > model.chronic_threshold_weeks
        # Rows of acute cases first, then chronic ones: each group is one slice of the work
        # arrays (undone on the (n, C) result at the end).
        order = np.argsort(chronic, kind="stable")
        n_acute = int(n - chronic.sum())
        values = values[order]
        positive = (values == 1.0).astype(np.float64)
        negative = (values == 0.0).astype(np.float64)

        # Mixture over (condition, secondary, severity node): findings, pain and ODI.
        joint, term = work[0][:n], work[1][:n]
        for rows, is_chronic in ((slice(0, n_acute), False), (slice(n_acute, n), True)):
            log_p, log_q = comp.finding_tables[is_chronic]
            np.matmul(positive[rows], log_p, out=joint[rows])
            joint[rows] += np.matmul(negative[rows], log_q, out=term[rows])
        joint += comp.log_prior
        for column, table, scale in (("pain_nrs", comp.log_pain, 1), ("odi", comp.log_odi, 2)):
            score = X[column].to_numpy(dtype=float, na_value=np.nan)[order] / scale
            index = np.where(np.isnan(score), len(table) - 1, score).astype(np.intp)
            joint += np.take(table, index, axis=0, out=term, mode="clip")
        peak = joint.max(axis=1, keepdims=True)
        joint -= peak
        mixed = np.add.reduceat(np.exp(joint, out=joint), comp.starts, axis=1)
        log_joint = np.empty_like(mixed)
        log_joint[order] = np.log(mixed) + peak

        return log_joint + self._log_prior(X) + self._log_background(X, duration)

    def _log_background(self, X: pd.DataFrame, duration: np.ndarray) -> np.ndarray:
        """Condition-dependent terms that do not depend on severity: (n, C)."""
        model = self.components_.model
        kb = self.knowledge_
        n, n_cond = len(X), len(model.conditions)
        out = np.zeros((n, n_cond))

        def add_categorical(column: str, categories: tuple[str, ...], table: np.ndarray) -> None:
            codes = pd.Categorical(X[column], categories=list(categories)).codes
            known = codes >= 0
            out[known] += _log(table).T[codes[known]]

        add_categorical("sex", SEXES, np.column_stack([model.female, 1 - model.female]))
        add_categorical(
            "onset", ONSETS, np.column_stack([model.onset_sudden, 1 - model.onset_sudden])
        )
        add_categorical("occupation", kb.occupations, model.occupation)
        add_categorical("trigger", kb.triggers, model.trigger)
        one_side = (1 - model.bilateral) / 2
        add_categorical("side", SIDES, np.column_stack([one_side, one_side, model.bilateral]))

        age = X["age"].to_numpy(dtype=float, na_value=np.nan)
        known = ~np.isnan(age)
        mu, sd = model.age_mean[None, :], model.age_sd[None, :]
        a = age[known, None]
        out[known] += _log_interval_mass((a - mu) / sd, (a + 1 - mu) / sd) - _log_interval_mass(
            (model.age_min - mu) / sd, (model.age_max + 1 - mu) / sd
        )

        known = ~np.isnan(duration)
        d = duration[known, None]
        threshold = model.chronic_threshold_weeks
        p_geo = 1.0 / model.chronic_extra_weeks_mean
        acute = _log(1 - model.chronic_fraction)[None, :] - np.log(threshold)
        chronic = (
            _log(model.chronic_fraction)[None, :]
            + np.log(p_geo)
            + (d - threshold - 1) * np.log1p(-p_geo)
        )
        in_acute = (d >= 1) & (d <= threshold)
        out[known] += np.where(in_acute, acute, np.where(d > threshold, chronic, LOG_ZERO))
        return out
