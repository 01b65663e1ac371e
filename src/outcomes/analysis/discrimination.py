"""How well each method tells radicular leg pain from the other causes of leg pain: an AUC.

Published multivariable models of history and examination (Vroomen 2002, the target
``radicular_auc_history_exam`` in ``targets.toml``) discriminate nerve-root compression from
the other causes of sciatica-like pain with an AUC of about 0.83. The Bayes oracle's AUC is
checked against that figure; this module puts the learned models beside it, on the target's
own patients: its ``conditions`` are the positives (radicular pain) and its ``population``
the patients scored (leg pain), so the knowledge base says once what counts as radicular.

Each learned model is the triage model's own pipeline
(:func:`outcomes.triage.models.make_model`: the same encoding and classifier) refitted to the
yes/no question "radicular or not?" on a training cohort, because a triage model predicts
pathways and the spinal pathway also takes somatic referred leg pain, which is not radicular.
The oracle scores the summed posterior probability of the radicular conditions
(:func:`outcomes.analysis.targets.oracle_score`, as the target check does). Every score is
computed on the same test patients, and each AUC carries a 95% interval (Hanley and McNeil).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from outcomes.analysis.targets import Target, auc_ci, load_targets, oracle_score

#: The target whose conditions and population the discrimination is measured on.
TARGET = "radicular_auc_history_exam"
#: Methods :func:`radicular_discrimination` scores.
DISCRIMINATION_METHODS = ("oracle", "logistic", "boosted")
#: Columns of :func:`radicular_discrimination`'s table.
DISCRIMINATION_COLUMNS = ("auc", "low", "high", "n", "radicular")


def discrimination_target(name: str = TARGET) -> Target:
    """The published target whose patients and positives the discrimination uses.

    Parameters
    ----------
    name : str
        A target of ``targets.toml`` with ``statistic = "auc"``.

    Returns
    -------
    Target

    Raises
    ------
    ValueError
        If there is no such AUC target.

    Examples
    --------
    >>> t = discrimination_target()
    >>> t.conditions, "upper_limb_nerve" in t.population
    (('disc_herniation', 'spinal_stenosis'), False)
    """
    found = [t for t in load_targets() if t.name == name and t.statistic == "auc"]
    if not found:
        raise ValueError(f"{name!r} is not an auc target of targets.toml")
    return found[0]


def radicular_discrimination(
    train: pd.DataFrame,
    test: pd.DataFrame,
    methods: Sequence[str] = DISCRIMINATION_METHODS,
    *,
    target: str = TARGET,
    setting: str | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """AUC of each method for radicular versus other leg pain, on the test cohort's leg pain
    (the ``conditions`` and ``population`` of the published ``target``).

    Parameters
    ----------
    train : pandas.DataFrame
        Cohort the learned models are fitted on (its leg-pain patients; needs ``condition``).
    test : pandas.DataFrame
        Cohort scored (its leg-pain patients).
    methods : sequence of str
        Any of :data:`DISCRIMINATION_METHODS`.
    target : str
        The AUC target of ``targets.toml`` whose patients and positives are used.
    setting : str, optional
        Care setting whose case mix is the oracle's prior (default: each patient's own
        ``setting``).
    seed : int
        Seed of the learned models' random choices.

    Returns
    -------
    pandas.DataFrame
        Indexed by method: ``auc``, ``low``, ``high`` (95% interval), ``n`` (test patients) and
        ``radicular`` (how many of them have radicular pain).

    Raises
    ------
    ValueError
        For an unknown method, or a test or training cohort without both radicular and other
        leg pain.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> train = generate(3000, seed=1, setting="spine_clinic")
    >>> test = generate(3000, seed=2, setting="spine_clinic")
    >>> table = radicular_discrimination(train, test, ["oracle", "logistic"])
    >>> bool(table.loc["oracle", "auc"] > table.loc["logistic", "auc"] - 0.05)
    True
    """
    from outcomes.engine.cohort import feature_columns
    from outcomes.triage.models import make_model

    unknown = [m for m in methods if m not in DISCRIMINATION_METHODS]
    if unknown:
        raise ValueError(
            f"method {unknown[0]!r} is unknown; choose from: {', '.join(DISCRIMINATION_METHODS)}"
        )
    t = discrimination_target(target)
    scored, fitted = (c[c["condition"].astype(str).isin(t.population)] for c in (test, train))
    positive = scored["condition"].astype(str).isin(t.conditions).to_numpy()
    learned = fitted["condition"].astype(str).isin(t.conditions).to_numpy()
    for name, labels in (("test", positive), ("training", learned)):
        if labels.all() or not labels.any():
            raise ValueError(f"the {name} cohort needs patients with and without radicular pain")
    rows = {}
    for method in methods:
        if method == "oracle":
            score = oracle_score(test, scored, t.conditions, setting=setting)
        else:
            labels = np.where(learned, "radicular", "other")
            model = make_model(method, seed=seed).fit(fitted[feature_columns()], labels)
            column = list(model.classes_).index("radicular")
            score = model.predict_proba(scored[feature_columns()])[:, column]
        auc, low, high = auc_ci(np.asarray(score, dtype=float), positive)
        rows[method] = (auc, low, high, len(scored), int(positive.sum()))
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(DISCRIMINATION_COLUMNS))
    table.index.name = "method"
    return table
