"""Saving and loading fitted triage models safely: skops, never pickle, digests checked.

Fitted models are saved with :mod:`skops.io`, never pickle
(:func:`save_model`). :func:`write_model_file` also records the SHA-256
digest of every member of the archive (:data:`INTEGRITY_MEMBER`), and :func:`read_model_file`
first checks them: a file whose numbers were edited (negated
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
from pathlib import Path
from typing import Any

import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from outcomes.infra.io import atomic_path
from outcomes.triage.models import DropUnrecorded, FoldRecalibrated

#: The types, beyond those skops trusts by default (NumPy arrays, scikit-learn estimators,
#: builtins), that a model saved by :func:`save_model` contains: our
#: encoding functions, the boosted model's fitted trees and our recalibrating wrapper. Exactly
#: these names: a prefix such as ``numpy.`` would also admit ``numpy.save`` swapped in for an
#: encoder.
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


#: The archive member in which :func:`write_model_file` records the SHA-256 digest of every
#: other member: ``{"format": INTEGRITY_FORMAT, "sha256": {member name: hex digest}}``.
INTEGRITY_MEMBER = "outcomes-integrity.json"
INTEGRITY_FORMAT = "outcomes model file digests, version 1"


class ModelFileError(ValueError):
    """A model file that is missing, corrupt, tampered with, or not a triage model.

    Its message says what is wrong and names the file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> junk = pathlib.Path(tempfile.mkdtemp()) / "m.skops"; _ = junk.write_text("not a model")
    >>> try:
    ...     verify_model_file(junk)
    ... except ModelFileError as error:
    ...     print(type(error).__name__)
    ModelFileError
    """


# --------------------------------------------------------------------------------------------
# Safe persistence


def write_model_file(model: Any, path: str | Path) -> Path:
    """Write ``model`` with :mod:`skops.io` atomically, its members' digests recorded.

    The SHA-256 digest of every archive member is written in :data:`INTEGRITY_MEMBER`, for
    :func:`verify_model_file` to check. Nothing is written at ``path`` unless the whole file
    is. :func:`save_model` checks first that the model is a triage
    pipeline.

    Parameters
    ----------
    model
        Any object skops can save.
    path
        The file to write.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = write_model_file([1, 2], pathlib.Path(tempfile.mkdtemp()) / "x.skops")
    >>> verify_model_file(path) is None
    True
    """
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
    """Check a model file against the digests :func:`write_model_file` recorded in it.

    Detects any change to the archive after it was saved (an edited number, a member added,
    removed or replaced, corruption); it cannot detect a file whose digests were rewritten
    to match its edits, which is why :func:`load_model` also checks
    types and structure.

    Parameters
    ----------
    path
        A model file.

    Returns
    -------
    None

    Raises
    ------
    ModelFileError
        If the file is missing or not a zip archive, has no integrity record (saved before
        outcomes recorded one: re-save it), or does not match its record.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.triage.models import fit_model
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
    for what, members in (
        ("differs from its recorded digest", edited),
        ("was added", added),
        ("is missing", removed),
    ):
        if members:
            more = f" (and {len(members) - 1} more)" if len(members) > 1 else ""
            raise ModelFileError(f"{changed}: member {members[0]!r} {what}{more}{refuse}")


def untrusted_types(path: str | Path) -> list[str]:
    """Types in a model file outside skops's defaults and :data:`TRUSTED_TYPES` (empty for
    our own models).

    Raises :class:`ModelFileError` if the file cannot be read as a skops file at all.

    Parameters
    ----------
    path
        A skops file.

    Returns
    -------
    list of str

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.triage.models import fit_model
    >>> path = save_model(fit_model("boosted", generate(900, seed=1)),
    ...                   pathlib.Path(tempfile.mkdtemp()) / "triage.skops")
    >>> untrusted_types(path)
    []
    """
    try:
        types = sio.get_untrusted_types(file=Path(path))
    except FileNotFoundError:
        raise ModelFileError(f"no such model file: {path}") from None
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
        raise ModelFileError(f"{path} is not a model file saved by outcomes ({exc})") from None
    return sorted(t for t in types if t not in TRUSTED_TYPES)


def read_model_file(path: str | Path) -> Any:
    """The object of a model file, its digests checked and only allow-listed types trusted.

    First the file must match the SHA-256 digests recorded when it was saved
    (:func:`verify_model_file`): an edit or corruption is refused before anything is
    unpacked. Then only the types skops trusts by default and the exact names of
    :data:`TRUSTED_TYPES` are allowed. :func:`load_model` checks
    besides that the object is one of our pipelines.

    Parameters
    ----------
    path
        A file written by :func:`write_model_file`.

    Returns
    -------
    object
        What the file holds.

    Raises
    ------
    ModelFileError
        If the file is missing, not a skops file, corrupt, was changed after it was saved,
        has no integrity record, or holds a type outside :data:`TRUSTED_TYPES`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> read_model_file(write_model_file([1, 2], pathlib.Path(tempfile.mkdtemp()) / "x.skops"))
    [1, 2]
    """
    path = Path(path)
    verify_model_file(path)
    rejected = untrusted_types(path)
    if rejected:
        raise ModelFileError(
            f"{path} holds {len(rejected)} type(s) outside the allow-list, refusing to load "
            "it (a tampered file or not a model saved by outcomes): " + ", ".join(rejected[:5])
        )
    try:
        return sio.load(path, trusted=sorted(TRUSTED_TYPES))
    except Exception as exc:  # a corrupt archive can fail in many ways inside skops
        raise ModelFileError(f"{path} could not be loaded as a model ({exc})") from None


def save_model(model: Any, path: str | Path) -> Path:
    """Write a fitted model with :mod:`skops.io` (no pickle), atomically, with the SHA-256
    digest of every archive member recorded in :data:`INTEGRITY_MEMBER` for
    :func:`load_model` to check (see the module notes for what that does and does not
    protect against). Nothing is written at ``path`` unless the whole file is.

    Parameters
    ----------
    model
        A model of :func:`outcomes.triage.models.fit_model` (the rules and the oracle learn
        nothing to save).
    path
        The file to write.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from outcomes.engine.cohort import feature_columns, generate
    >>> from outcomes.triage.models import fit_model
    >>> model = fit_model("logistic", generate(900, seed=1))
    >>> path = save_model(model, pathlib.Path(tempfile.mkdtemp()) / "triage.skops")
    >>> bool((load_model(path).predict_proba(generate(5, seed=3)[feature_columns()])
    ...       == model.predict_proba(generate(5, seed=3)[feature_columns()])).all())
    True
    """
    if not _is_triage_pipeline(model):
        raise ValueError(
            f"only a fitted logistic or boosted model from fit_model can be saved, not "
            f"{type(model).__name__} (the rules and the oracle learn nothing to save)"
        )
    return write_model_file(model, path)


def load_model(path: str | Path) -> Any:
    """Load a model saved by :func:`save_model`, checking its digests, then trusting only
    allow-listed types.

    First the file must match the SHA-256 digests recorded when it was saved
    (:func:`verify_model_file`): an edit or corruption is refused before anything is
    unpacked. Then only the types skops trusts by default and the exact names of
    :data:`TRUSTED_TYPES` are allowed, and the loaded object must be one of our pipelines
    (or its calibrated wrapper) with its two steps, so a file rebuilt around other objects
    (with its digests rewritten to match: they are a check, not a signature) is refused too.

    Parameters
    ----------
    path
        A file written by :func:`save_model`.

    Returns
    -------
    sklearn.pipeline.Pipeline or FoldRecalibrated
        The fitted model.

    Raises
    ------
    ModelFileError
        If the file is missing, not a skops file, corrupt, was changed after it was saved,
        has no integrity record (saved by an older outcomes: re-save it), holds a type
        outside :data:`TRUSTED_TYPES` (the message names it), or is not a fitted triage
        pipeline.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.triage.models import fit_model
    >>> path = save_model(fit_model("logistic", generate(900, seed=1)),
    ...                   pathlib.Path(tempfile.mkdtemp()) / "triage.skops")
    >>> list(load_model(path).classes_)[:2]
    ['emergency', 'hip']
    """
    model = read_model_file(path)
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
            isinstance(models, list)
            and isinstance(calibrators, list)
            and len(models) > 0
            and len(models) == len(calibrators)
            and all(_is_triage_pipeline(m) for m in models)
            and all(isinstance(c, LogisticRegression) for c in calibrators)
        )
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
