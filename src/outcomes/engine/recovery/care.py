"""Care relative to each part of a presentation: care plans and how a pathway fits.

A *policy* is one care pathway per patient, or a *care plan* (:func:`care_plan`) that also
names a pathway for the secondary contributor of a combined presentation. The *fit* of a
pathway to a condition (:data:`FITS`, :func:`fit_table`) decides which effects of
``recovery.toml`` apply. Fixed policies that need no triage method (:data:`FIXED_POLICIES`)
are built here; policies that fit a triage method are built by
:mod:`outcomes.triage.policies`, above the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from outcomes.engine.recovery.params import RecoveryParams, load_recovery
from outcomes.knowledge import Knowledge, load_knowledge
from outcomes.tables.columns import FITS, NO_SECONDARY_PATHWAY, feature_columns

EMERGENCY = "emergency"
#: Policies that need no triage method, in report order.
FIXED_POLICIES = ("perfect", "everyone_spinal")


def fit_table(
    knowledge: Knowledge | None = None, params: RecoveryParams | None = None
) -> pd.DataFrame:
    """How each pathway fits each condition (rows conditions, columns pathways).

    Parameters
    ----------
    knowledge
        The knowledge base (default: the packaged one).
    params
        Recovery parameters (default: :func:`load_recovery`); their ``aggravating`` lists say
        which pathways aggravate which condition.

    Returns
    -------
    pandas.DataFrame
        Fit names (:data:`FITS`).

    Examples
    --------
    >>> table = fit_table()
    >>> table.loc["piriformis_syndrome", "spinal"], table.loc["serious_pathology", "hip"]
    ('aggravating', 'harmful')
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    params = params if params is not None else load_recovery(kb)
    codes = _fit_codes(kb, params)
    return pd.DataFrame(
        np.asarray(FITS, dtype=object)[codes],
        index=pd.Index(kb.condition_names, name="condition"),
        columns=pd.Index(kb.pathways, name="pathway"),
    )


def _fit_codes(kb: Knowledge, params: RecoveryParams) -> np.ndarray:
    codes = np.empty((len(kb.condition_names), len(kb.pathways)), dtype=np.int8)
    for i, condition in enumerate(kb.conditions):
        for j, pathway in enumerate(kb.pathways):
            if pathway == condition.pathway:
                fit = "matched"
            elif condition.pathway == EMERGENCY:
                fit = "harmful"
            elif pathway == EMERGENCY:
                fit = "redirected"
            elif pathway in params.aggravating.get(condition.name, ()):
                fit = "aggravating"
            else:
                fit = "mismatched"
            codes[i, j] = FITS.index(fit)
    return codes


def care_fits(
    kb: Knowledge,
    params: RecoveryParams,
    cond: np.ndarray,
    sec: np.ndarray,
    path: np.ndarray,
    chosen: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """How the care fits each part of the presentation: codes into :data:`FITS`.

    ``sec`` is the secondary condition (-1: none), ``path`` the chosen pathway and ``chosen``
    the plan's secondary pathway (-1: none). The primary part is judged against ``path``. The
    secondary part is judged against the plan's secondary pathway when it gives one (-1 in
    the result for a single presentation). Otherwise it is treated only by the care the
    primary part ends up on: an unneeded emergency referral is redirected to the primary
    condition's own pathway, and the secondary part is judged against that pathway (from the
    start, as under correct single-pathway triage: the detour never helps it). A serious
    secondary part is addressed by the emergency referral itself, and emergency care of a
    serious primary condition does not treat a secondary part that is not serious
    (``mismatched``). So over-referral never treats a secondary part better than the right
    single pathway would.

    Parameters
    ----------
    kb
        The knowledge base.
    params
        Recovery parameters.
    cond, sec, path, chosen
        Codes per patient, as described above.

    Returns
    -------
    tuple of numpy.ndarray
        The primary part's fit and the secondary part's fit (-1: no secondary part).

    Examples
    --------
    >>> kb = load_knowledge()
    >>> spinal, disc = kb.pathways.index("spinal"), kb.condition_names.index("disc_herniation")
    >>> fit, sec_fit = care_fits(kb, load_recovery(kb), np.array([disc]), np.array([-1]),
    ...                          np.array([spinal]), np.array([-1]))
    >>> FITS[fit[0]], int(sec_fit[0])
    ('matched', -1)
    """
    codes = _fit_codes(kb, params)
    emergency = kb.pathways.index(EMERGENCY)
    own = np.array([kb.pathways.index(c.pathway) for c in kb.conditions], dtype=np.int64)
    fit = codes[cond, path]
    part = np.maximum(sec, 0)
    referred = path == emergency
    landing = np.where(referred & (own[cond] != emergency), own[cond], path)
    single = codes[part, landing]
    single = np.where(referred & (own[part] == emergency), FITS.index("matched"), single)
    single = np.where(single == FITS.index("redirected"), FITS.index("mismatched"), single)
    sec_fit = np.where(chosen >= 0, codes[part, np.maximum(chosen, 0)], single)
    return fit, np.where(sec >= 0, sec_fit, -1)


def care_plan(pathways: Any, secondary: Any = None) -> pd.DataFrame:
    """The care a policy gives each patient: a pathway, and one for the secondary contributor.

    Parameters
    ----------
    pathways
        One care pathway per patient, in row order; or a care plan (a DataFrame with a
        ``pathway`` and optionally a ``secondary_pathway`` column), returned as a copy.
    secondary
        The pathway that addresses the secondary contributor of a combined presentation, one
        per patient; ``"none"`` (the default, for everyone) means it is not addressed
        separately, and the secondary part follows ``pathway``. Ignored for patients without a
        secondary contributor. Values are checked by :func:`simulate`.

    Returns
    -------
    pandas.DataFrame
        Columns ``pathway`` and ``secondary_pathway`` (strings), one row per patient.

    Examples
    --------
    >>> care_plan(["spinal", "hip"], secondary=["muscular", "none"])
      pathway secondary_pathway
    0  spinal          muscular
    1     hip              none
    """
    if isinstance(pathways, pd.DataFrame):
        if "pathway" not in pathways.columns:
            raise ValueError("a care plan needs a 'pathway' column")
        if secondary is None and "secondary_pathway" in pathways.columns:
            secondary = pathways["secondary_pathway"]
        pathways = pathways["pathway"]
    primary = np.asarray(pathways, dtype=object)
    if primary.ndim != 1:
        raise ValueError(f"pathways must hold one pathway per patient, got shape {primary.shape}")
    if secondary is None:
        second = np.full(len(primary), NO_SECONDARY_PATHWAY, dtype=object)
    else:
        second = np.asarray(secondary, dtype=object)
        if second.shape != primary.shape:
            raise ValueError(
                f"secondary pathways must hold one value per patient ({len(primary)}), "
                f"got shape {second.shape}"
            )
    return pd.DataFrame({"pathway": primary, "secondary_pathway": second})


def perfect_plan(patients: pd.DataFrame, knowledge: Knowledge | None = None) -> pd.DataFrame:
    """Care plan of perfect triage: each part of the presentation on its own pathway.

    Parameters
    ----------
    patients
        The ``patients`` table (its true ``pathway`` and ``secondary_condition``).
    knowledge
        The knowledge base (default: the packaged one).

    Returns
    -------
    pandas.DataFrame
        A care plan (:func:`care_plan`).

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> patients = generate(300, seed=1)
    >>> plan = perfect_plan(patients)
    >>> bool((plan["pathway"] == patients["pathway"].astype(str)).all())
    True
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    own = {c.name: c.pathway for c in kb.conditions}
    secondary = patients["secondary_condition"].astype(str).map(own)
    return care_plan(
        patients["pathway"].astype(str).to_numpy(dtype=object),
        secondary.fillna(NO_SECONDARY_PATHWAY).to_numpy(dtype=object),
    )


def policy_pathways(
    patients: pd.DataFrame,
    estimators: Mapping[str, Any] | None = None,
    knowledge: Knowledge | None = None,
) -> dict[str, pd.DataFrame]:
    """Policies to compare: a care plan (:func:`care_plan`) per triage approach.

    Always includes ``perfect`` (the true pathway, and the secondary contributor's own pathway
    for combined presentations) and ``everyone_spinal``; each fitted estimator (anything with
    ``predict`` returning pathways: rules, a learned model, the oracle) adds a policy under
    its name that addresses the secondary contributor only through its single pathway.
    Estimators see only the columns a triage method may use
    (:func:`outcomes.tables.columns.feature_columns`), never the truth. To build policies by
    name (fitting the triage methods), see :func:`outcomes.triage.policies.build_policies`.

    Parameters
    ----------
    patients
        The ``patients`` table.
    estimators
        Policy name -> fitted triage method (anything with ``predict``).
    knowledge
        The knowledge base (default: the packaged one).

    Returns
    -------
    dict
        Policy name -> care plan (:func:`care_plan`): the estimators' first, then the fixed
        policies.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.triage.oracle import BayesOracle
    >>> patients = generate(200, seed=1)
    >>> policies = policy_pathways(patients, {"oracle": BayesOracle().fit(patients)})
    >>> sorted(policies)
    ['everyone_spinal', 'oracle', 'perfect']
    >>> list(policies["perfect"].columns)
    ['pathway', 'secondary_pathway']
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    features = patients[feature_columns(kb)]
    policies = {name: care_plan(est.predict(features)) for name, est in (estimators or {}).items()}
    for name in FIXED_POLICIES:
        policies[name] = fixed_plan(name, patients, kb)
    return policies


def fixed_plan(
    name: str, patients: pd.DataFrame, knowledge: Knowledge | None = None
) -> pd.DataFrame:
    """The care plan of a fixed policy, one that needs no triage method (:data:`FIXED_POLICIES`).

    ``perfect`` is :func:`perfect_plan`; ``everyone_spinal`` sends everyone to the spinal
    pathway (and does not address a secondary contributor separately).

    Parameters
    ----------
    name
        One of :data:`FIXED_POLICIES`.
    patients
        The ``patients`` table.
    knowledge
        The knowledge base (default: the packaged one).

    Returns
    -------
    pandas.DataFrame
        A care plan (:func:`care_plan`).

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> fixed_plan("everyone_spinal", generate(3, seed=1))["pathway"].tolist()
    ['spinal', 'spinal', 'spinal']
    """
    if name == "perfect":
        return perfect_plan(patients, knowledge)
    if name == "everyone_spinal":
        return care_plan(np.full(len(patients), "spinal", dtype=object))
    raise ValueError(f"{name!r} is not a fixed policy; choose one of: {', '.join(FIXED_POLICIES)}")
