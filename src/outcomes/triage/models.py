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

Fitted models are saved with :mod:`skops.io`, never pickle. :func:`save_model` also records
the SHA-256 digest of every member of the archive (:data:`INTEGRITY_MEMBER`), and
:func:`load_model` first checks them: a file whose numbers were edited (negated
coefficients, say) or corrupted after saving is refused before anything in it is read. This
detects edits and corruption; it is not a signature: whoever rewrites a member can rewrite
its digest too. Against such a file, and against a foreign one, the loader then accepts only
the types skops trusts by default plus the exact names in :data:`TRUSTED_TYPES`, and checks
that it holds one of our pipelines. Anything else — a changed file, a different object, a
file that is not a model — raises :class:`ModelFileError`.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
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
from outcomes.infra.io import atomic_path
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
#: The types, beyond those skops trusts by default (NumPy arrays, scikit-learn estimators,
#: builtins), that a model saved by :func:`save_model` contains: our encoding functions, the
#: boosted model's fitted trees and our recalibrating wrapper. Exactly these names:
#: a prefix such as ``numpy.`` would also admit ``numpy.save`` swapped in for an encoder.
TRUSTED_TYPES: frozenset[str] = frozenset(
    {
        "outcomes.triage.models._SuffixNames",
        "outcomes.triage.models.findings_as_float",
        "outcomes.triage.models.findings_as_signed",
        "outcomes.triage.models.findings_recorded",
        "outcomes.triage.models.FoldRecalibrated",
        "outcomes.triage.models.DropUnrecorded",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    }
)


#: The archive member in which :func:`save_model` records the SHA-256 digest of every other
#: member: ``{"format": INTEGRITY_FORMAT, "sha256": {member name: hex digest}}``.
INTEGRITY_MEMBER = "outcomes-integrity.json"
INTEGRITY_FORMAT = "outcomes model file digests, version 1"


class ModelFileError(ValueError):
    """A model file that is missing, corrupt, tampered with, or not a triage model."""


# --------------------------------------------------------------------------------------------
# Encoding


def _binary_columns() -> tuple[list[str], list[str]]:
    """History flags (always recorded) and findings that may be missing (exam, red flags)."""
    kb = load_knowledge()
    always, missable = [], []
    for finding in kb.findings:
        (missable if finding.can_be_missing else always).append(finding.name)
    return ["chronic", *always], missable


def findings_as_signed(X: pd.DataFrame) -> np.ndarray:
    """Recorded findings as +1 (present) / -1 (absent) / 0 (not recorded).

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

    Examples
    --------
    >>> frame = pd.DataFrame({"exam_fair_test": pd.array([True, None], "boolean")})
    >>> findings_recorded(frame).ravel().tolist()
    [1.0, 0.0]
    """
    return (~np.isnan(_as_float(X))).astype(float)


def findings_as_float(X: pd.DataFrame) -> np.ndarray:
    """Findings as 1.0 / 0.0 with NaN where not recorded (for models that handle NaN).

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
            ]  # fmt: skip
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
            ("history", FunctionTransformer(findings_as_float, feature_names_out="one-to-one"),
             always),
            ("finding", FunctionTransformer(findings_as_signed, feature_names_out="one-to-one"),
             missable),
            ("recorded", FunctionTransformer(findings_recorded,
                                             feature_names_out=_suffix("_recorded")), missable),
        ]  # fmt: skip
    else:
        parts = [
            ("category", onehot, list(CATEGORICAL)),
            ("number", "passthrough", list(NUMERIC)),
            ("finding", FunctionTransformer(findings_as_float, feature_names_out="one-to-one"),
             [*always, *missable]),
        ]  # fmt: skip
    return ColumnTransformer(parts, remainder="drop", verbose_feature_names_out=False)


class DropUnrecorded(TransformerMixin, BaseEstimator):
    """Drop the columns that were never recorded (all missing) in the training data.

    A finding that no training patient had recorded carries no information, and
    scikit-learn's histogram binning cannot bin a column without a single value (it raises
    "window shape cannot be larger than input array shape"): small training sets with sparse
    records, such as 50 patients with 95% of exams unrecorded, hit this. Columns with at least
    one recorded value pass through unchanged, so on ordinary data the model is the same.

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
        """Fit one copy and one calibrator per fold (see the class notes)."""
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
        """Mean of the folds' calibrated probabilities (columns follow ``classes_``)."""
        check_is_fitted(self, "calibrators_")
        return np.mean(
            [c.predict_proba(log_probabilities(m.predict_proba(X)))
             for m, c in zip(self.models_, self.calibrators_, strict=True)],
            axis=0,
        )  # fmt: skip

    def predict(self, X: Any) -> np.ndarray:
        """The most probable pathway of each row."""
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

    Returns the fitted :class:`~sklearn.model_selection.GridSearchCV` (``best_params_``,
    ``best_score_``, ``cv_results_``).

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
    search = GridSearchCV(make_model(name, seed=seed, calibrate=calibrate), grid, cv=folds,
                          scoring="neg_log_loss")  # fmt: skip
    with threadpool_limits(limits=1):
        return search.fit(X, y)


# --------------------------------------------------------------------------------------------
# Safe persistence


def save_model(model: Any, path: str | Path) -> Path:
    """Write a fitted model with :mod:`skops.io` (no pickle), atomically, with the SHA-256
    digest of every archive member recorded in :data:`INTEGRITY_MEMBER` for
    :func:`load_model` to check (see the module notes for what that does and does not
    protect against). Nothing is written at ``path`` unless the whole file is.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from outcomes.engine.cohort import generate
    >>> model = fit_model("logistic", generate(900, seed=1))
    >>> path = save_model(model, pathlib.Path(tempfile.mkdtemp()) / "triage.skops")
    >>> bool((load_model(path).predict_proba(generate(5, seed=3)[feature_columns()])
    ...       == model.predict_proba(generate(5, seed=3)[feature_columns()])).all())
    True
    """
    import skops.io as sio

    if not _is_triage_pipeline(model):
        raise ValueError(
            f"only a fitted logistic or boosted model from fit_model can be saved, not "
            f"{type(model).__name__} (the rules and the oracle learn nothing to save)"
        )
    path = Path(path)
    with atomic_path(path) as tmp:
        sio.dump(model, tmp)
        with zipfile.ZipFile(tmp) as archive:
            digests = _member_digests(archive)
        record = {"format": INTEGRITY_FORMAT, "sha256": digests}
        with zipfile.ZipFile(tmp, "a") as archive:
            archive.writestr(INTEGRITY_MEMBER, json.dumps(record, indent=0, sort_keys=True))
    return path


def _member_digests(archive: zipfile.ZipFile) -> dict[str, str]:
    """SHA-256 of each member's content but the integrity record's (read in chunks)."""
    digests = {}
    for info in archive.infolist():
        if info.filename == INTEGRITY_MEMBER:
            continue
        digest = hashlib.sha256()
        with archive.open(info) as member:
            for chunk in iter(lambda: member.read(1 << 20), b""):
                digest.update(chunk)
        digests[info.filename] = digest.hexdigest()
    return digests


def verify_model_file(path: str | Path) -> None:
    """Check a model file against the digests :func:`save_model` recorded in it.

    Detects any change to the archive after it was saved (an edited number, a member added,
    removed or replaced, corruption); it cannot detect a file whose digests were rewritten
    to match its edits, which is why :func:`load_model` also checks types and structure.

    Raises
    ------
    ModelFileError
        If the file is missing or not a zip archive, has no integrity record (saved before
        outcomes recorded one: re-save it), or does not match its record.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from outcomes.engine.cohort import generate
    >>> path = save_model(fit_model("logistic", generate(900, seed=1)),
    ...                   pathlib.Path(tempfile.mkdtemp()) / "triage.skops")
    >>> verify_model_file(path) is None
    True
    """
    path = Path(path)
    changed = f"{path} was changed after it was saved"
    refuse = "; refusing to load it (re-save the model from its training data)"
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise ModelFileError(f"no such model file: {path}") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
        raise ModelFileError(f"{path} is not a model file saved by outcomes ({exc})") from None
    with archive:
        names = Counter(archive.namelist())
        twice = sorted(name for name, count in names.items() if count > 1)
        if twice:
            raise ModelFileError(f"{changed}: it holds member {twice[0]!r} more than once{refuse}")
        if INTEGRITY_MEMBER not in names:
            raise ModelFileError(
                f"{path} has no integrity record; re-save the model with save_model (files "
                "saved before outcomes recorded digests of their contents cannot be checked, "
                "so they are refused)"
            )
        try:
            record = json.loads(archive.read(INTEGRITY_MEMBER))
            recorded = record["sha256"]
            valid = record["format"] == INTEGRITY_FORMAT and isinstance(recorded, dict)
        except (ValueError, KeyError, TypeError, zipfile.BadZipFile, OSError, EOFError):
            valid = False
        if not valid:
            raise ModelFileError(f"{changed}: its integrity record is unreadable{refuse}")
        try:
            actual = _member_digests(archive)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:  # a CRC mismatch
            raise ModelFileError(f"{changed}: a member is corrupt ({exc}){refuse}") from None
    added, removed = sorted(set(actual) - set(recorded)), sorted(set(recorded) - set(actual))
    edited = sorted(n for n in set(actual) & set(recorded) if actual[n] != recorded[n])
    for what, members in (("differs from its recorded digest", edited),
                          ("was added", added), ("is missing", removed)):  # fmt: skip
        if members:
            more = f" (and {len(members) - 1} more)" if len(members) > 1 else ""
            raise ModelFileError(f"{changed}: member {members[0]!r} {what}{more}{refuse}")


def untrusted_types(path: str | Path) -> list[str]:
    """Types in a model file outside skops's defaults and :data:`TRUSTED_TYPES` (empty for
    our own models).

    Raises :class:`ModelFileError` if the file cannot be read as a skops file at all.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from outcomes.engine.cohort import generate
    >>> path = save_model(fit_model("boosted", generate(900, seed=1)),
    ...                   pathlib.Path(tempfile.mkdtemp()) / "triage.skops")
    >>> untrusted_types(path)
    []
    """
    import skops.io as sio

    try:
        types = sio.get_untrusted_types(file=Path(path))
    except FileNotFoundError:
        raise ModelFileError(f"no such model file: {path}") from None
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
        raise ModelFileError(f"{path} is not a model file saved by outcomes ({exc})") from None
    return sorted(t for t in types if t not in TRUSTED_TYPES)


def load_model(path: str | Path) -> Any:
    """Load a model saved by :func:`save_model`, checking its digests, then trusting only
    allow-listed types.

    First the file must match the SHA-256 digests recorded when it was saved
    (:func:`verify_model_file`): an edit or corruption is refused before anything is
    unpacked. Then only the types skops trusts by default and the exact names of
    :data:`TRUSTED_TYPES` are allowed, and the loaded object must be one of our pipelines
    (or its calibrated wrapper) with its two steps, so a file rebuilt around other objects
    (with its digests rewritten to match: they are a check, not a signature) is refused too.

    Raises
    ------
    ModelFileError
        If the file is missing, not a skops file, corrupt, was changed after it was saved,
        has no integrity record (saved by an older outcomes: re-save it), holds a type
        outside :data:`TRUSTED_TYPES` (the message names it), or is not a fitted triage
        pipeline.
    """
    import skops.io as sio

    path = Path(path)
    verify_model_file(path)
    rejected = untrusted_types(path)
    if rejected:
        raise ModelFileError(
            f"{path} holds {len(rejected)} type(s) outside the allow-list, refusing to load "
            "it (a tampered file or not a model saved by outcomes): " + ", ".join(rejected[:5])
        )
    try:
        model = sio.load(path, trusted=sorted(TRUSTED_TYPES))
    except Exception as exc:  # a corrupt archive can fail in many ways inside skops
        raise ModelFileError(f"{path} could not be loaded as a model ({exc})") from None
    if not _is_triage_pipeline(model):
        raise ModelFileError(
            f"{path} does not hold a fitted triage model saved by outcomes (found "
            f"{type(model).__name__})"
        )
    return model


def _is_triage_pipeline(model: Any) -> bool:
    """A fitted pipeline ``encode`` -> ``classify`` of ours, bare or recalibrated."""
    if isinstance(model, FoldRecalibrated):
        models = getattr(model, "models_", None)
        calibrators = getattr(model, "calibrators_", None)
        return (
            isinstance(models, list) and isinstance(calibrators, list) and len(models) > 0
            and len(models) == len(calibrators)
            and all(_is_triage_pipeline(m) for m in models)
            and all(isinstance(c, LogisticRegression) for c in calibrators)
        )  # fmt: skip
    if not isinstance(model, Pipeline):
        return False
    names = [name for name, _ in model.steps]
    classify = model.named_steps.get("classify")
    shape = {
        ("encode", "classify"): LogisticRegression,
        ("encode", "drop_unrecorded", "classify"): HistGradientBoostingClassifier,
    }.get(tuple(names))
    return (
        shape is not None
        and isinstance(model.named_steps["encode"], ColumnTransformer)
        and isinstance(classify, shape)
        and (len(names) == 2 or isinstance(model.named_steps["drop_unrecorded"], DropUnrecorded))
        and hasattr(model, "classes_")
    )
