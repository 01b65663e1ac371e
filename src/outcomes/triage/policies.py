"""Triage policies: one way to build any policy, from its name and the patients.

A policy is the care each patient receives (a care plan,
:func:`outcomes.engine.recovery.care_plan`). Fixed policies need no triage method
(``perfect``, ``everyone_spinal``: :func:`outcomes.engine.recovery.fixed_plan`); the others fit
one: the rules, a learned model (trained on a synthetic cohort of its own that shares no
patient with those it triages, :func:`training_cohort`) or the Bayes oracle. :data:`POLICIES`
lists them all in report order; :func:`policy` builds one and :func:`build_policies` several.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from outcomes.engine.cohort import generate
from outcomes.engine.recovery import FIXED_POLICIES, care_plan, fixed_plan
from outcomes.tables.columns import feature_columns
from outcomes.triage.models import fit_model
from outcomes.triage.oracle import BayesOracle
from outcomes.triage.rules import RulesTriage

#: Policies that fit a triage method.
FITTED_POLICIES = ("oracle", "rules", "logistic", "boosted")
#: Every policy, in report order: the realistic triage methods, the oracle, the fixed ones.
POLICIES = ("rules", "logistic", "boosted", "oracle", *FIXED_POLICIES)
#: Policy names in the order error messages list them.
CHOICES = (*FIXED_POLICIES, *FITTED_POLICIES)
#: First element of the spawn key of training-cohort seeds (learned policies, :func:`fit_policy`).
TRAIN_STREAM = 0x7EA1
#: Minimum size of the training cohort of a learned policy.
MIN_TRAINING_PATIENTS = 2000


def _cohort_seeds(patients: pd.DataFrame) -> set[int]:
    """Seeds of the generated cohorts the patients come from (ids ``'<seed>-<index>'``)."""
    if "patient_id" not in patients.columns or patients.empty:
        return set()
    prefixes = patients["patient_id"].astype(str).str.extract(r"^(\d+)-\d+$")[0].dropna()
    return {int(s) for s in prefixes.unique()}


def training_seed(seed: int, patients: pd.DataFrame, stream: int = 0) -> int:
    """Seed of a training cohort that shares no patient with ``patients``.

    Derived from ``seed`` through its own spawn key (:data:`TRAIN_STREAM`, ``stream``), so it
    is reproducible yet unrelated to the small integers cohorts are usually generated with;
    and it is checked against the seeds in the patients' ids (``'<seed>-<index>'``): should it
    equal one of them, the next candidate is taken. Training on ``generate(n, seed=s)`` then
    can never mean training on the evaluated patients.

    Parameters
    ----------
    seed
        The policy's seed.
    patients
        The patients the policy will triage (their ids name their cohorts' seeds).
    stream
        Which training stream (one per care setting of :func:`training_cohort`).

    Returns
    -------
    int

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> patients = generate(10, seed=1)
    >>> s = training_seed(0, patients)
    >>> s != 1 and s == training_seed(0, patients)
    True
    """
    used = _cohort_seeds(patients)
    for k in range(len(used) + 1):
        key = (TRAIN_STREAM, int(stream), k)
        candidate = int(np.random.SeedSequence(int(seed), spawn_key=key).generate_state(1)[0])
        if candidate not in used:
            return candidate
    raise AssertionError("unreachable: more candidates than used seeds")  # pragma: no cover


def training_cohort(patients: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """A synthetic cohort to train a learned policy for ``patients``, disjoint from them.

    At least :data:`MIN_TRAINING_PATIENTS` patients and at least as many as ``patients``,
    with the same mix of care settings (``setting`` column; each setting's share by largest
    remainder, every setting present at least once). Each setting's part has its own
    :func:`training_seed`, so no training patient is an evaluated one.

    Parameters
    ----------
    patients
        The patients the policy will triage.
    seed
        The policy's seed.

    Returns
    -------
    pandas.DataFrame
        A generated ``patients`` table.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> mixed = pd.concat([generate(30, seed=1, setting="primary_care"),
    ...                    generate(10, seed=2, setting="sports_clinic")], ignore_index=True)
    >>> training_cohort(mixed)["setting"].astype(str).value_counts().to_dict()
    {'primary_care': 1500, 'sports_clinic': 500}
    """
    total = max(len(patients), MIN_TRAINING_PATIENTS)
    if "setting" not in patients.columns or patients["setting"].isna().all():
        return generate(total, seed=training_seed(seed, patients))
    counts = patients["setting"].astype(str).value_counts().sort_index()
    exact = counts.to_numpy() / counts.sum() * total
    sizes = np.maximum(np.floor(exact).astype(int), 1)
    order = np.argsort(-(exact - np.floor(exact)), kind="stable")
    for i in order[: max(total - int(sizes.sum()), 0)]:
        sizes[i] += 1
    parts = [
        generate(int(size), seed=training_seed(seed, patients, stream=i), setting=setting)
        for i, (setting, size) in enumerate(zip(counts.index, sizes, strict=True))
    ]
    return pd.concat(parts, ignore_index=True)


def fit_policy(name: str, patients: pd.DataFrame, seed: int = 0) -> Any:
    """A fitted triage method for policy ``name`` (one of :data:`FITTED_POLICIES`).

    The oracle and the rules learn nothing from outcomes; learned models are trained on
    :func:`training_cohort` (same size and setting mix, never the patients they triage).

    Parameters
    ----------
    name
        ``oracle``, ``rules``, ``logistic`` or ``boosted``.
    patients
        The patients the policy will triage (the oracle and the rules are fitted on them; they
        learn nothing from outcomes).
    seed
        Seed of the training cohort and of the learned model.

    Returns
    -------
    estimator
        A fitted triage method with ``predict`` on :func:`outcomes.tables.columns.feature_columns`.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> patients = generate(100, seed=1)
    >>> fit_policy("oracle", patients).predict(patients).shape
    (100,)
    """
    if name == "oracle":
        return BayesOracle().fit(patients)
    if name == "rules":
        return RulesTriage().fit(patients[feature_columns()], patients["pathway"].astype(str))
    if name in ("logistic", "boosted"):
        return fit_model(name, training_cohort(patients, seed), seed=seed)
    raise ValueError(f"policy {name!r} is unknown; choose one of: {', '.join(CHOICES)}")


def policy(name: str, patients: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """The care plan each patient receives under policy ``name`` (one of :data:`POLICIES`).

    Fixed policies come from :func:`outcomes.engine.recovery.fixed_plan`; the others fit
    their triage method (:func:`fit_policy`) and send each patient down the one pathway it
    predicts. Only ``perfect`` addresses the secondary contributor of a combined
    presentation.

    Parameters
    ----------
    name
        A policy of :data:`POLICIES`.
    patients
        The ``patients`` table.
    seed
        Seed of a learned policy's training (:func:`fit_policy`).

    Returns
    -------
    pandas.DataFrame
        A care plan (:func:`outcomes.engine.recovery.care_plan`).

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> patients = generate(5, seed=1)
    >>> policy("everyone_spinal", patients)["pathway"].tolist()
    ['spinal', 'spinal', 'spinal', 'spinal', 'spinal']
    """
    if name in FIXED_POLICIES:
        return fixed_plan(name, patients)
    estimator = fit_policy(name, patients, seed)
    return care_plan(estimator.predict(patients[feature_columns()]))


def build_policies(
    patients: pd.DataFrame, names: Sequence[str] = POLICIES, seed: int = 0
) -> dict[str, pd.DataFrame]:
    """The care plans of the named policies, in the given order (see :func:`policy`).

    Parameters
    ----------
    patients
        The ``patients`` table.
    names
        Policies of :data:`POLICIES` (default: all of them, in report order).
    seed
        Seed of the learned policies' training.

    Returns
    -------
    dict
        Policy name -> care plan.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> patients = generate(50, seed=1)
    >>> list(build_policies(patients, ["perfect", "oracle"]))
    ['perfect', 'oracle']
    """
    return {name: policy(name, patients, seed) for name in names}
