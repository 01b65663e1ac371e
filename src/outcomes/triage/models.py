"""Learned triage models: scikit-learn pipelines from the raw ``patients`` table to a pathway.

Two models, each a full :class:`~sklearn.pipeline.Pipeline` that takes the columns a triage
method may see (:func:`outcomes.engine.cohort.feature_columns`) exactly as the generator or a team's
file gives them:

``logistic``
    Multinomial logistic regression (L2). Exam and red-flag findings are coded +1 present,
    -1 absent, 0 not recorded, with a separate "was recorded" indicator, so a missing sign is
    neither read as absent nor imputed from the label. Numbers are standardised, categories
    one-hot encoded (unseen categories ignored).
``boosted``
    :class:`~sklearn.ensemble.HistGradientBoostingClassifier`, which handles a missing finding
    natively (NaN takes its own branch at every split), followed by a multinomial
    recalibration (below).

**Calibration.** Probabilities feed the least-cost decisions of :mod:`outcomes.triage.decision`,
where a missed emergency costs 50 times a wrong routine pathway, so they are checked one
pathway at a time (one-vs-rest, emergency first) with
:func:`outcomes.analysis.evaluate.calibration_check`: in every probability bin, the number of
patients who truly belong to the pathway must agree with the number the probabilities promise within
binomial sampling error (``tests/test_models.py``). The logistic model passes as it is. The
boosted model alone did not: it pushed the rare emergency pathway's probability towards 0 for
patients without a recorded red flag (several times more of them were emergencies than it
promised): without a penalty, a Newton step for a rare class in a leaf it barely occupies is
large however small its probability already is, so boosting keeps pushing it down. So the
boosted model is (a) L2-regularised on its leaf values (``l2_regularization``) and (b)
recalibrated by :class:`FoldRecalibrated`: on each of 3 folds, a copy is fitted on the other
two and a multinomial logistic regression on its log-probabilities ("matrix scaling") is
fitted on the held-out fold; predictions average the three calibrated copies. Unlike
scikit-learn's one-vs-rest sigmoid or isotonic calibration, this keeps the pathways'
probabilities one coherent distribution (one-vs-rest calibration followed by renormalisation
was tried and left the boosted model further from calibrated), and unlike stacking, each
calibrator is applied to the very model whose held-out errors it learned (stacking, which
applies it to a refit on all the data, failed the check on 20,000-patient cohorts where this
passed). ``calibrate=False`` gives the
bare pipeline; a training set where a pathway has fewer than :data:`MIN_TO_CALIBRATE` patients
is never recalibrated (too few to hold out).

**Tuning.** :func:`tune_model` re-chooses the hyper-parameters of the deployed pipeline
(recalibration included) over :data:`TUNING_GRID` by 3-fold stratified cross-validation of
the log-loss, a proper scoring rule (accuracy barely separates the candidates and says
nothing about probabilities). :data:`DEFAULT_PARAMS` are its choice on the data named by
:data:`TUNED_ON`, which a slow test re-runs. Models are fitted with one thread so the same
seed gives the same model on any machine.

Fitted models are saved and loaded by :mod:`outcomes.triage.model_files` (``save_model``,
``load_model``: skops, never pickle, every archive member's digest checked).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted, column_or_1d
from threadpoolctl import threadpool_limits

from outcomes.engine.cohort import feature_columns
from outcomes.knowledge import load_knowledge

MODEL_NAMES = ("logistic", "boosted")
#: Below this many training patients the boosted model runs without early stopping.
SMALL_TRAINING_SET = 1000
#: Recalibration needs this many patients in every pathway (3 folds, each holding out a third).
MIN_TO_CALIBRATE = 10
#: Whether each model is recalibrated unless told otherwise (see the module notes).
CALIBRATED_BY_DEFAULT: Mapping[str, bool] = {"logistic": False, "boosted": True}
CATEGORICAL = ("setting", "sex", "occupation", "onset", "trigger", "side")
NUMERIC = ("age", "symptom_duration_weeks", "pain_nrs", "odi")
#: Data the defaults were tuned on: ``generate(20_000, seed=0, setting="primary_care")``.
TUNED_ON = {"n": 20_000, "seed": 0, "setting": "primary_care"}
#: Hyper-parameters :func:`tune_model` chooses on :data:`TUNED_ON` (seed 0): the best 3-fold
#: stratified CV log-loss over :data:`TUNING_GRID` (``tests/test_models.py`` re-runs it,
#: marked slow). The boosted candidates with 15 leaves and an L2 penalty of 0 to 30 scored
#: within 0.0005 of each other (a third of a fold's standard deviation); 31 leaves scored
#: worse.
DEFAULT_PARAMS: Mapping[str, Mapping[str, Any]] = {
    "logistic": {"C": 1.0},
    "boosted": {"learning_rate": 0.1, "max_leaf_nodes": 15, "l2_regularization": 10.0},
}
#: The learning rate is not tuned: on the bare boosted model 0.05 scored within 0.0005 of 0.1
#: in log-loss (a fifth of a standard error) at twice the fitting time.
TUNING_GRID: Mapping[str, Mapping[str, list]] = {
    "logistic": {"C": [0.01, 0.1, 1.0, 10.0]},
    "boosted": {"l2_regularization": [0.0, 1.0, 10.0, 30.0], "max_leaf_nodes": [15, 31]},
}
#: Smallest probability the recalibration reads (its log is -13.8): keeps log(0) finite.
PROBABILITY_FLOOR = 1e-6
# --------------------------------------------------------------------------------------------
# Encoding


def _binary_columns() -> tuple[list[str], list[str]]:
    """History flags (always recorded) and findings that may be missing (exam, red flags)."""
    kb = load_knowledge()
    always: list[str] = []
    missable: list[str] = []
    for finding in kb.findings:
        (missable if finding.can_be_missing else always).append(finding.name)
    return ["chronic", *always], missable


def findings_as_signed(X: pd.DataFrame) -> np.ndarray:
    """Recorded findings as +1 (present) / -1 (absent) / 0 (not recorded).

    Parameters
    ----------
    X
        Finding columns (booleans, nullable ``boolean`` or numbers; missing as ``<NA>``/NaN).

    Returns
    -------
    numpy.ndarray
        Float array, one column per finding.

    Examples
    --------
    >>> frame = pd.DataFrame({"exam_fair_test": pd.array([True, False, None], "boolean")})
    >>> findings_as_signed(frame).ravel().tolist()
    [1.0, -1.0, 0.0]
    """
    values = _as_float(X)
    return np.nan_to_num(2.0 * values - 1.0, nan=0.0)


def findings_recorded(X: pd.DataFrame) -> np.ndarray:
    """1.0 where a finding was recorded, 0.0 where it is missing.

    Parameters
    ----------
    X
        Finding columns (booleans, nullable ``boolean`` or numbers; missing as ``<NA>``/NaN).

    Returns
    -------
    numpy.ndarray
        Float array, one column per finding.

    Examples
    --------
    >>> frame = pd.DataFrame({"exam_fair_test": pd.array([True, None], "boolean")})
    >>> findings_recorded(frame).ravel().tolist()
    [1.0, 0.0]
    """
    return (~np.isnan(_as_float(X))).astype(float)


def findings_as_float(X: pd.DataFrame) -> np.ndarray:
    """Findings as 1.0 / 0.0 with NaN where not recorded (for models that handle NaN).

    Parameters
    ----------
    X
        Finding columns (booleans, nullable ``boolean`` or numbers; missing as ``<NA>``/NaN).

    Returns
    -------
    numpy.ndarray
        Float array, one column per finding.

    Examples
    --------
    >>> frame = pd.DataFrame({"exam_fair_test": pd.array([True, None], "boolean")})
    >>> findings_as_float(frame).ravel().tolist()
    [1.0, nan]
    """
    return _as_float(X)


def log_probabilities(P: Any) -> np.ndarray:
    """Natural log of probabilities, floored at :data:`PROBABILITY_FLOOR` (the recalibration's
    input).

    Parameters
    ----------
    P
        Probabilities (any array-like).

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> np.round(log_probabilities(np.array([[1.0, 0.0]])), 2).tolist()
    [[0.0, -13.82]]
    """
    return np.log(np.clip(np.asarray(P, dtype=float), PROBABILITY_FLOOR, 1.0))


def _as_float(X: Any) -> np.ndarray:
    frame = pd.DataFrame(X)
    return (
        np.column_stack(
            [
                pd.to_numeric(frame[c].astype("Float64"), errors="raise").to_numpy(
                    float, na_value=np.nan
                )
                for c in frame.columns
            ]
        )
        if frame.shape[1]
        else np.empty((len(frame), 0))
    )


def _suffix(suffix: str):
    """A ``feature_names_out`` callable appending ``suffix`` to each input name."""
    return _SuffixNames(suffix)


class _SuffixNames:
    # A small class rather than a lambda, so a fitted pipeline can be saved with skops.
    def __init__(self, suffix: str):
        self.suffix = suffix

    def __call__(self, transformer: Any, names: Any) -> np.ndarray:
        return np.asarray([f"{n}{self.suffix}" for n in names], dtype=object)


def _encoder(name: str) -> ColumnTransformer:
    always, missable = _binary_columns()
    onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    if name == "logistic":
        parts = [
            ("category", onehot, list(CATEGORICAL)),
            ("number", StandardScaler(), list(NUMERIC)),
            (
                "history",
                FunctionTransformer(findings_as_float, feature_names_out="one-to-one"),
                always,
            ),
            (
                "finding",
                FunctionTransformer(findings_as_signed, feature_names_out="one-to-one"),
                missable,
            ),
            (
                "recorded",
                FunctionTransformer(findings_recorded, feature_names_out=_suffix("_recorded")),
                missable,
            ),
        ]
    else:
        parts = [
            ("category", onehot, list(CATEGORICAL)),
            ("number", "passthrough", list(NUMERIC)),
            (
                "finding",
                FunctionTransformer(findings_as_float, feature_names_out="one-to-one"),
                [*always, *missable],
            ),
        ]
    return ColumnTransformer(parts, remainder="drop", verbose_feature_names_out=False)


class DropUnrecorded(TransformerMixin, BaseEstimator):
    """Drop the columns that were never recorded (all missing) in the training data.

    A finding that no training patient had recorded carries no information, and
    scikit-learn's histogram binning cannot bin a column without a single value (it raises
    "window shape cannot be larger than input array shape"): small training sets with sparse
    records, such as 50 patients with 95% of exams unrecorded, hit this. Columns with at least
    one recorded value pass through unchanged, so on ordinary data the model is the same.

    Attributes
    ----------
    keep_ : numpy.ndarray
        Which columns had at least one recorded value in the training data (set by ``fit``).

    Examples
    --------
    >>> X = np.array([[1.0, np.nan], [0.0, np.nan]])
    >>> DropUnrecorded().fit(X).transform(X).shape
    (2, 1)
    """

    def fit(self, X: Any, y: Any = None) -> DropUnrecorded:
        values = np.asarray(X, dtype=float)
        self.keep_ = ~np.isnan(values).all(axis=0)
        self.n_features_in_ = values.shape[1]
        if hasattr(X, "columns"):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "keep_")
        values = np.asarray(X, dtype=float)
        if values.shape[1] != self.keep_.size:
            raise ValueError(f"expected {self.keep_.size} columns, got {values.shape[1]}")
        return values[:, self.keep_]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "keep_")
        if input_features is None:
            input_features = getattr(
                self, "feature_names_in_", [f"x{i}" for i in range(self.keep_.size)]
            )
        return np.asarray(input_features, dtype=object)[self.keep_]


# --------------------------------------------------------------------------------------------
# Models


class FoldRecalibrated(ClassifierMixin, BaseEstimator):
    """A classifier recalibrated by cross-fitting: multinomial matrix scaling per fold.

    On each of ``n_folds`` stratified folds, a clone of ``estimator`` is fitted on the other
    folds, and a multinomial logistic regression on its log-probabilities
    (:func:`log_probabilities`) is fitted on the held-out fold. ``predict_proba`` averages the
    calibrated probabilities of the ``n_folds`` copies, so every calibrator is used on the
    model whose held-out errors it learned.

    What it is, precisely: a scikit-learn meta-estimator (like
    :class:`~sklearn.calibration.CalibratedClassifierCV`), **not** a
    :class:`~sklearn.pipeline.Pipeline`: it has no ``steps`` or ``named_steps``, and no
    single fitted pipeline inside (look at ``models_[i].named_steps``). It honours the
    classifier contract: its hyper-parameters are those of ``__init__`` (nested ones reached
    as ``estimator__classify__l2_regularization``), ``fit`` returns ``self``, what it learned
    ends with an underscore, ``predict_proba``'s columns follow ``classes_`` and ``score``
    is accuracy, so ``clone``, ``check_is_fitted``, ``cross_val_score``, ``GridSearchCV``
    and an enclosing ``Pipeline`` work with it. It takes the same input as ``estimator``
    (for ours, the raw patients table: extra columns are ignored, as by the pipeline).

    Parameters
    ----------
    estimator
        A probabilistic classifier (e.g. a pipeline from :func:`make_model` with
        ``calibrate=False``).
    n_folds
        Number of folds (each pathway needs at least this many patients).
    seed
        Seed of the fold split.

    Attributes
    ----------
    models_, calibrators_
        The fitted copies and their calibrators, one per fold.
    classes_
        The pathways, as in ``estimator``.
    n_features_in_, feature_names_in_
        The columns seen in ``fit``, as the fitted copies report them (for our pipelines,
        the input table's columns; ``feature_names_in_`` only when they had string names).

    Examples
    --------
    >>> from outcomes.engine.cohort import generate, feature_columns
    >>> train = generate(1500, seed=1)
    >>> model = FoldRecalibrated(make_model("logistic", calibrate=False))
    >>> model = model.fit(train[feature_columns()], train["pathway"])
    >>> len(model.models_), model.predict_proba(train[feature_columns()].head(2)).shape
    (3, (2, 5))
    >>> model.n_features_in_ == len(feature_columns()), list(model.feature_names_in_[:2])
    (True, ['setting', 'age'])
    """

    def __init__(self, estimator: Any = None, n_folds: int = 3, seed: int = 0):
        self.estimator = estimator
        self.n_folds = n_folds
        self.seed = seed

    def fit(self, X: Any, y: Any) -> FoldRecalibrated:
        """Fit one copy and one calibrator per fold (see the class notes).

        Parameters
        ----------
        X : pandas.DataFrame or array-like
            The input ``estimator`` takes (for ours, the patients table).
        y : array-like
            The pathway of each row.

        Returns
        -------
        FoldRecalibrated
            ``self``, fitted.

        Examples
        --------
        >>> from outcomes.engine.cohort import generate, feature_columns
        >>> train = generate(1500, seed=1)
        >>> X, y = train[feature_columns()], train["pathway"]
        >>> model = FoldRecalibrated(make_model("logistic", calibrate=False))
        >>> model.fit(X, y) is model
        True
        """
        y = np.asarray(column_or_1d(y), dtype=object)
        folds = StratifiedKFold(n_splits=self.n_folds, shuffle=True, random_state=self.seed)
        models, calibrators = [], []
        for fit_rows, held_out in folds.split(np.zeros(len(y)), y):
            model = clone(self.estimator).fit(_rows(X, fit_rows), y[fit_rows])
            scores = log_probabilities(model.predict_proba(_rows(X, held_out)))
            calibrator = LogisticRegression(max_iter=2000).fit(scores, y[held_out])
            if list(calibrator.classes_) != list(model.classes_):
                raise ValueError("a held-out fold lacks a pathway; use more patients per pathway")
            models.append(model)
            calibrators.append(calibrator)
        self.models_, self.calibrators_ = models, calibrators
        self.classes_ = np.asarray(models[0].classes_, dtype=object)
        # The input the copies saw (every fold sees the same columns): scikit-learn's fitted
        # attributes, taken from the copies rather than re-derived, so they agree with them.
        self.n_features_in_ = int(models[0].n_features_in_)
        if hasattr(models[0], "feature_names_in_"):
            self.feature_names_in_ = np.asarray(models[0].feature_names_in_, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_  # refitted on unnamed columns
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Mean of the folds' calibrated probabilities (columns follow ``classes_``).

        Parameters
        ----------
        X : pandas.DataFrame or array-like
            The input, as in :meth:`fit`.

        Returns
        -------
        numpy.ndarray
            One row per row of ``X``, one column per pathway; each row sums to 1.

        Examples
        --------
        >>> from outcomes.engine.cohort import generate, feature_columns
        >>> train = generate(1500, seed=1)
        >>> X, y = train[feature_columns()], train["pathway"]
        >>> model = FoldRecalibrated(make_model("logistic", calibrate=False))
        >>> proba = model.fit(X, y).predict_proba(X.head(3))
        >>> proba.shape, bool(np.allclose(proba.sum(axis=1), 1))
        ((3, 5), True)
        """
        check_is_fitted(self, "calibrators_")
        return np.mean(
            [
                c.predict_proba(log_probabilities(m.predict_proba(X)))
                for m, c in zip(self.models_, self.calibrators_, strict=True)
            ],
            axis=0,
        )

    def predict(self, X: Any) -> np.ndarray:
        """The most probable pathway of each row.

        Parameters
        ----------
        X : pandas.DataFrame or array-like
            The input, as in :meth:`fit`.

        Returns
        -------
        numpy.ndarray
            The pathway of each row of ``X``, one of ``classes_``.

        Examples
        --------
        >>> from outcomes.engine.cohort import generate, feature_columns
        >>> train = generate(1500, seed=1)
        >>> X, y = train[feature_columns()], train["pathway"]
        >>> model = FoldRecalibrated(make_model("logistic", calibrate=False))
        >>> predicted = model.fit(X, y).predict(X.head(3))
        >>> len(predicted), set(predicted) <= set(model.classes_)
        (3, True)
        """
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def _rows(X: Any, rows: np.ndarray) -> Any:
    return X.iloc[rows] if hasattr(X, "iloc") else np.asarray(X)[rows]


def _recalibrated(pipeline: Pipeline, seed: int) -> FoldRecalibrated:
    """``pipeline`` recalibrated by :class:`FoldRecalibrated` (3 folds)."""
    return FoldRecalibrated(pipeline, n_folds=3, seed=seed)


def make_model(
    name: str,
    *,
    seed: int = 0,
    calibrate: bool | None = None,
    params: Mapping[str, Any] | None = None,
) -> Any:
    """An unfitted triage model that takes the raw patients table (feature columns).

    Parameters
    ----------
    name
        ``"logistic"`` or ``"boosted"``.
    seed
        Seed of every random choice (boosting's validation split, recalibration folds).
    calibrate
        Recalibrate on held-out folds (module notes); ``None`` (default) does so where
        :data:`CALIBRATED_BY_DEFAULT` says (the boosted model).
    params
        Hyper-parameters of the classifier (default :data:`DEFAULT_PARAMS`).

    Returns
    -------
    Pipeline or FoldRecalibrated
        Uncalibrated (the logistic model by default): a :class:`~sklearn.pipeline.Pipeline`
        ``encode`` -> ``classify``. Calibrated (the boosted model by default): a
        :class:`FoldRecalibrated` wrapping that pipeline, which is not itself a pipeline
        but follows the same classifier contract (its class notes say exactly what it is).

    Examples
    --------
    >>> from outcomes.engine.cohort import generate, feature_columns
    >>> train = generate(1500, seed=1)
    >>> model = make_model("logistic").fit(train[feature_columns()], train["pathway"])
    >>> model.predict(generate(3, seed=2)[feature_columns()]).shape
    (3,)
    >>> type(make_model("boosted")).__name__, type(make_model("boosted", calibrate=False)).__name__
    ('FoldRecalibrated', 'Pipeline')
    """
    if name not in MODEL_NAMES:
        raise ValueError(f"model {name!r} is unknown; choose one of: {', '.join(MODEL_NAMES)}")
    settings = {**DEFAULT_PARAMS[name], **(params or {})}
    if name == "logistic":
        classifier = LogisticRegression(max_iter=2000, **settings)
    else:
        options = {"max_iter": 300, "early_stopping": True, "random_state": seed, **settings}
        classifier = HistGradientBoostingClassifier(**options)
    steps = [("encode", _encoder(name)), ("classify", classifier)]
    if name == "boosted":  # the boosted model reads missing findings as NaN (module notes)
        steps.insert(1, ("drop_unrecorded", DropUnrecorded()))
    pipeline = Pipeline(steps)
    if not (CALIBRATED_BY_DEFAULT[name] if calibrate is None else calibrate):
        return pipeline
    return _recalibrated(pipeline, seed)


def _split(patients: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    missing = [c for c in ["pathway", *feature_columns()] if c not in patients.columns]
    if missing:
        raise ValueError(f"training table lacks column(s): {', '.join(missing)}")
    return patients[feature_columns()], patients["pathway"].astype(str)


def _calibrate(name: str, y: pd.Series, calibrate: bool | None) -> bool:
    """Whether to recalibrate: as asked (or the model's default), if every pathway has enough
    patients to hold out."""
    wanted = CALIBRATED_BY_DEFAULT[name] if calibrate is None else calibrate
    return bool(wanted) and int(y.value_counts().min()) >= MIN_TO_CALIBRATE


def fit_model(
    name: str,
    patients: pd.DataFrame,
    *,
    seed: int = 0,
    tune: bool = False,
    calibrate: bool | None = None,
) -> Any:
    """Fit a triage model on a patients table (features and the true ``pathway``).

    Fitting runs on one thread so that the model, and every probability it gives, is the
    same on any machine for the same seed. ``calibrate`` is as in :func:`make_model`; a
    pathway with fewer than :data:`MIN_TO_CALIBRATE` patients turns recalibration off.

    Parameters
    ----------
    name
        One of :data:`MODEL_NAMES`.
    patients
        Training patients: the feature columns and the true ``pathway``.
    seed
        Seed of the model's randomness (folds, early stopping).
    tune
        Choose hyper-parameters first (:func:`tune_model`) instead of :data:`DEFAULT_PARAMS`.
    calibrate
        As in :func:`make_model`.

    Returns
    -------
    sklearn.pipeline.Pipeline or FoldRecalibrated
        The fitted model.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate, feature_columns
    >>> model = fit_model("boosted", generate(1500, seed=1))
    >>> sorted(model.classes_)[:2]
    ['emergency', 'hip']
    """
    X, y = _split(patients)
    calibrate = _calibrate(name, y, calibrate)
    params = tune_model(name, patients, seed=seed, calibrate=calibrate).best_params_ if tune else {}
    params = {k.split("__")[-1]: v for k, v in params.items()}
    if name == "boosted" and len(X) < SMALL_TRAINING_SET:
        # Early stopping holds out a stratified 10%, impossible when a pathway has a single
        # patient; small sets get a fixed, short boosting run instead.
        params = {"early_stopping": False, "max_iter": 100, **params}
    model = make_model(name, seed=seed, calibrate=calibrate, params=params)
    with threadpool_limits(limits=1):
        return model.fit(X, y)


def tune_model(
    name: str, patients: pd.DataFrame, *, seed: int = 0, calibrate: bool | None = None
) -> GridSearchCV:
    """Choose hyper-parameters over :data:`TUNING_GRID`: the best 3-fold stratified CV
    log-loss of the deployed pipeline (recalibrated as :func:`fit_model` would).

    Parameters
    ----------
    name, patients, seed, calibrate
        As for :func:`fit_model`.

    Returns
    -------
    sklearn.model_selection.GridSearchCV
        The fitted search (``best_params_``, ``best_score_``, ``cv_results_``).

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> search = tune_model("logistic", generate(900, seed=1))
    >>> sorted(search.best_params_)
    ['classify__C']
    """
    X, y = _split(patients)
    calibrate = _calibrate(name, y, calibrate)
    prefix = "estimator__classify__" if calibrate else "classify__"
    grid = {f"{prefix}{k}": v for k, v in TUNING_GRID[name].items()}
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=seed)
    search = GridSearchCV(
        make_model(name, seed=seed, calibrate=calibrate), grid, cv=folds, scoring="neg_log_loss"
    )
    with threadpool_limits(limits=1):
        return search.fit(X, y)


# --------------------------------------------------------------------------------------------
# Loading: the archive checked (outcomes.triage.model_files), then the pipeline it holds
