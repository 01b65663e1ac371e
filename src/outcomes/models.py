"""Learned triage models: scikit-learn pipelines from the raw ``patients`` table to a pathway.

Two models, each a full :class:`~sklearn.pipeline.Pipeline` that takes the columns a triage
method may see (:func:`outcomes.cohort.feature_columns`) exactly as the generator or a team's
file gives them:

``logistic``
    Multinomial logistic regression (L2). Exam and red-flag findings are coded +1 present,
    -1 absent, 0 not recorded, with a separate "was recorded" indicator, so a missing sign is
    neither read as absent nor imputed from the label. Numbers are standardised, categories
    one-hot encoded (unseen categories ignored).
``boosted``
    :class:`~sklearn.ensemble.HistGradientBoostingClassifier`, which handles a missing finding
    natively (NaN takes its own branch at every split).

Both minimise log-loss, and measured on held-out cohorts their probabilities are already
calibrated: on 20,000 primary-care patients (trained on another 20,000) the expected
calibration error of the top-class probability was 0.004 (logistic) and 0.002 (boosted).
Wrapping them in isotonic :class:`~sklearn.calibration.CalibratedClassifierCV` made it worse
(0.035 and 0.032) and cost accuracy, so calibration is off by default (``calibrate=True``
turns it on); ``tests/test_models.py`` checks the reliability of the default models within
sampling error. Models are fitted with one thread so the same seed gives the same model on any
machine. :func:`tune_model` re-chooses the hyper-parameters by
cross-validation with fixed seeds; the defaults below come from such a run (see
``DEFAULT_PARAMS``).

Fitted models are saved with :mod:`skops.io`, never pickle: :func:`load_model` accepts only
an allow-list of scikit-learn, NumPy, SciPy and ``outcomes`` types, and anything else — a
tampered file, a different object, a file that is not a model — raises
:class:`ModelFileError`.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from outcomes.cohort import feature_columns
from outcomes.io import atomic_path
from outcomes.knowledge import load_knowledge

MODEL_NAMES = ("logistic", "boosted")
#: Below this many training patients the boosted model runs without early stopping.
SMALL_TRAINING_SET = 1000
CATEGORICAL = ("setting", "sex", "occupation", "onset", "trigger", "side")
NUMERIC = ("age", "symptom_duration_weeks", "pain_nrs", "odi")
#: Hyper-parameters chosen by :func:`tune_model` on 20,000 primary-care patients (seed 0,
#: 3-fold stratified CV, accuracy); the grid is :data:`TUNING_GRID`.
DEFAULT_PARAMS: Mapping[str, Mapping[str, Any]] = {
    "logistic": {"C": 1.0},
    "boosted": {"learning_rate": 0.1, "max_leaf_nodes": 15},
}
TUNING_GRID: Mapping[str, Mapping[str, list]] = {
    "logistic": {"C": [0.01, 0.1, 1.0, 10.0]},
    "boosted": {"learning_rate": [0.05, 0.1], "max_leaf_nodes": [15, 31]},
}
#: Module prefixes of the types a saved model may contain.
TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "outcomes.models.")


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


# --------------------------------------------------------------------------------------------
# Models


def make_model(
    name: str,
    *,
    seed: int = 0,
    calibrate: bool = False,
    params: Mapping[str, Any] | None = None,
) -> Any:
    """An unfitted triage model that takes the raw patients table (feature columns).

    Parameters
    ----------
    name
        ``"logistic"`` or ``"boosted"``.
    seed
        Seed of every random choice (boosting's validation split, calibration folds).
    calibrate
        Wrap the pipeline in isotonic :class:`~sklearn.calibration.CalibratedClassifierCV`
        (off by default: the models are calibrated already, see the module notes).
    params
        Hyper-parameters of the classifier (default :data:`DEFAULT_PARAMS`).

    Examples
    --------
    >>> from outcomes.cohort import generate, feature_columns
    >>> train = generate(1500, seed=1)
    >>> model = make_model("logistic").fit(train[feature_columns()], train["pathway"])
    >>> model.predict(generate(3, seed=2)[feature_columns()]).shape
    (3,)
    """
    if name not in MODEL_NAMES:
        raise ValueError(f"model {name!r} is unknown; choose one of: {', '.join(MODEL_NAMES)}")
    settings = {**DEFAULT_PARAMS[name], **(params or {})}
    if name == "logistic":
        classifier = LogisticRegression(max_iter=2000, **settings)
    else:
        options = {"max_iter": 300, "early_stopping": True, "random_state": seed, **settings}
        classifier = HistGradientBoostingClassifier(**options)
    pipeline = Pipeline([("encode", _encoder(name)), ("classify", classifier)])
    if not calibrate:
        return pipeline
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=seed)
    return CalibratedClassifierCV(pipeline, method="isotonic", cv=folds)


def _split(patients: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    missing = [c for c in ["pathway", *feature_columns()] if c not in patients.columns]
    if missing:
        raise ValueError(f"training table lacks column(s): {', '.join(missing)}")
    return patients[feature_columns()], patients["pathway"].astype(str)


def fit_model(
    name: str,
    patients: pd.DataFrame,
    *,
    seed: int = 0,
    tune: bool = False,
    calibrate: bool = False,
) -> Any:
    """Fit a triage model on a patients table (features and the true ``pathway``).

    Fitting runs on one thread so that the model, and every probability it gives, is the
    same on any machine for the same seed.

    Examples
    --------
    >>> from outcomes.cohort import generate, feature_columns
    >>> model = fit_model("boosted", generate(1500, seed=1))
    >>> sorted(model.classes_)[:2]
    ['emergency', 'hip']
    """
    X, y = _split(patients)
    params = tune_model(name, patients, seed=seed).best_params_ if tune else {}
    params = {k.split("__")[-1]: v for k, v in params.items()}
    if name == "boosted" and len(X) < SMALL_TRAINING_SET:
        # Early stopping holds out a stratified 10%, impossible when a pathway has a single
        # patient; small sets get a fixed, short boosting run instead.
        params = {"early_stopping": False, "max_iter": 100, **params}
    model = make_model(name, seed=seed, calibrate=calibrate, params=params)
    with threadpool_limits(limits=1):
        return model.fit(X, y)


def tune_model(name: str, patients: pd.DataFrame, *, seed: int = 0) -> GridSearchCV:
    """Choose hyper-parameters over :data:`TUNING_GRID` by 3-fold stratified CV (accuracy).

    Returns the fitted :class:`~sklearn.model_selection.GridSearchCV` (``best_params_``,
    ``cv_results_``), uncalibrated.

    Examples
    --------
    >>> from outcomes.cohort import generate
    >>> search = tune_model("logistic", generate(900, seed=1))
    >>> sorted(search.best_params_)
    ['classify__C']
    """
    X, y = _split(patients)
    grid = {f"classify__{k}": v for k, v in TUNING_GRID[name].items()}
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=seed)
    search = GridSearchCV(make_model(name, seed=seed, calibrate=False), grid, cv=folds)
    with threadpool_limits(limits=1):
        return search.fit(X, y)


# --------------------------------------------------------------------------------------------
# Safe persistence


def save_model(model: Any, path: str | Path) -> Path:
    """Write a fitted model with :mod:`skops.io` (no pickle), atomically.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from outcomes.cohort import generate
    >>> model = fit_model("logistic", generate(900, seed=1))
    >>> path = save_model(model, pathlib.Path(tempfile.mkdtemp()) / "triage.skops")
    >>> bool((load_model(path).predict_proba(generate(5, seed=3)[feature_columns()])
    ...       == model.predict_proba(generate(5, seed=3)[feature_columns()])).all())
    True
    """
    import skops.io as sio

    path = Path(path)
    with atomic_path(path) as tmp:
        sio.dump(model, tmp)
    return path


def untrusted_types(path: str | Path) -> list[str]:
    """Types in a model file that fall outside the allow-list (empty for our own models).

    Raises :class:`ModelFileError` if the file cannot be read as a skops file at all.
    """
    import skops.io as sio

    try:
        types = sio.get_untrusted_types(file=Path(path))
    except FileNotFoundError:
        raise ModelFileError(f"no such model file: {path}") from None
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
        raise ModelFileError(f"{path} is not a model file saved by outcomes ({exc})") from None
    return [t for t in types if not t.startswith(TRUSTED_PREFIXES)]


def load_model(path: str | Path) -> Any:
    """Load a model saved by :func:`save_model`, trusting only allow-listed types.

    Raises
    ------
    ModelFileError
        If the file is missing, not a skops file, corrupt, holds a type outside
        :data:`TRUSTED_PREFIXES`, or is not a fitted classifier.
    """
    import skops.io as sio

    path = Path(path)
    rejected = untrusted_types(path)
    if rejected:
        raise ModelFileError(
            f"{path} holds types outside the allow-list, refusing to load it: "
            + ", ".join(sorted(rejected)[:5])
        )
    try:
        types = sio.get_untrusted_types(file=path)
        model = sio.load(path, trusted=types)
    except Exception as exc:  # a corrupt archive can fail in many ways inside skops
        raise ModelFileError(f"{path} could not be loaded as a model ({exc})") from None
    if not (hasattr(model, "predict") and hasattr(model, "classes_")):
        raise ModelFileError(f"{path} does not hold a fitted triage model")
    return model
