"""Decision curves: net benefit against threshold probability, one-vs-rest per pathway
(Vickers & Elkin 2006), and the threshold the stated costs imply."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from outcomes.analysis.evaluate.calibration import check_probabilities, emergency_first
from outcomes.analysis.evaluate.confusion import EMERGENCY
from outcomes.knowledge.costs import load_costs

#: Strategies drawn beside the methods: everyone sent to the pathway, or nobody.
REFER_ALL, REFER_NONE = "refer all", "refer none"


#: Threshold probabilities of a decision curve: 1% to 99% in steps of 1%.
DEFAULT_THRESHOLDS = np.round(np.arange(1, 100) / 100, 2)


def net_benefit(y_true: Any, proba: Any, thresholds: Any = DEFAULT_THRESHOLDS) -> np.ndarray:
    """Net benefit of sending a patient to a pathway when its probability is at least ``t``.

    The standard formula (Vickers & Elkin 2006): ``NB(t) = TP/n − FP/n · t/(1 − t)``, where
    the odds ``t/(1 − t)`` weigh a false positive against a true positive as a clinician who
    would refer at probability ``t`` does. Refer-all is ``NB`` with every probability 1;
    refer-none is 0.

    Parameters
    ----------
    y_true
        Whether each patient belongs on the pathway (booleans).
    proba
        Each patient's probability of belonging on it (a hard call: 0 or 1).
    thresholds
        Threshold probabilities, each strictly between 0 and 1.

    Returns
    -------
    numpy.ndarray
        Net benefit at each threshold (in true positives per patient).

    Examples
    --------
    >>> y = [True, True, False, False, False]
    >>> p = [0.9, 0.4, 0.6, 0.2, 0.1]
    >>> net_benefit(y, p, [0.1, 0.3, 0.5]).round(4).tolist()
    [0.3333, 0.3143, 0.0]
    """
    y = np.asarray(y_true, dtype=bool)
    p = np.asarray(proba, dtype=float)
    t = np.asarray(thresholds, dtype=float)
    if y.shape != p.shape or y.ndim != 1:
        raise ValueError(f"y_true and proba must be 1-D of one length; got {y.shape}, {p.shape}")
    if t.size and not ((t > 0) & (t < 1)).all():
        raise ValueError("thresholds must lie strictly between 0 and 1")
    n = len(y)
    if n == 0:
        return np.full(t.shape, np.nan)
    # Sorted once: the patients treated at threshold t are those with p >= t.
    order = np.sort(p[y]), np.sort(p[~y])
    tp = len(order[0]) - np.searchsorted(order[0], t, side="left")
    fp = len(order[1]) - np.searchsorted(order[1], t, side="left")
    return tp / n - fp / n * t / (1 - t)


def decision_curves(
    y_true: Any,
    probabilities: Mapping[str, tuple[Any, Sequence[str]]],
    *,
    pathways: Sequence[str] | None = None,
    thresholds: Any = DEFAULT_THRESHOLDS,
) -> pd.DataFrame:
    """Net benefit of every method, refer-all and refer-none, one-vs-rest per pathway.

    Parameters
    ----------
    y_true
        True pathway of each patient.
    probabilities
        Method name -> ``(proba, classes)``: one column per class, rows as ``y_true``
        (:func:`probabilities_of` gives it for a fitted method; hard calls can be given as
        one-hot probabilities, see :func:`one_hot`).
    pathways
        Pathways to compute (default: every class of the first method), emergency first.
    thresholds
        Threshold probabilities (default 0.01 to 0.99).

    Returns
    -------
    pandas.DataFrame
        ``pathway``, ``strategy`` (each method, then ``refer all`` and ``refer none``),
        ``threshold``, ``net_benefit``, ``prevalence`` (share of patients on the pathway).

    Examples
    --------
    >>> proba = np.array([[0.1, 0.9], [0.6, 0.4], [0.8, 0.2]])
    >>> t = decision_curves(["emergency", "spinal", "spinal"],
    ...                     {"m": (proba, ["spinal", "emergency"])}, thresholds=[0.5])
    >>> t[["pathway", "strategy", "net_benefit"]].round(3).values.tolist()
    ... # doctest: +NORMALIZE_WHITESPACE
    [['emergency', 'm', 0.333], ['emergency', 'refer all', -0.333],
     ['emergency', 'refer none', 0.0], ['spinal', 'm', 0.667],
     ['spinal', 'refer all', 0.333], ['spinal', 'refer none', 0.0]]
    """
    truth = np.asarray(pd.Series(y_true).astype(str))
    t = np.asarray(thresholds, dtype=float)
    if not probabilities:
        raise ValueError("decision_curves needs at least one method's probabilities")
    prepared = {}
    for name, (proba, classes) in probabilities.items():
        classes = [str(c) for c in classes]
        prepared[name] = (check_probabilities(proba, classes, len(truth)), classes)
    first_classes = next(iter(prepared.values()))[1]
    wanted = [str(c) for c in (pathways if pathways is not None else first_classes)]
    wanted = [wanted[i] for i in emergency_first(wanted)]
    frames = []
    for pathway in wanted:
        y = truth == pathway
        prevalence = float(y.mean()) if len(y) else np.nan
        curves = {}
        for name, (proba, classes) in prepared.items():
            if pathway not in classes:
                raise ValueError(f"method {name!r} gives no probability for pathway {pathway!r}")
            curves[name] = net_benefit(y, proba[:, classes.index(pathway)], t)
        curves[REFER_ALL] = net_benefit(y, np.ones(len(y)), t)
        curves[REFER_NONE] = np.zeros(t.shape)
        for name, values in curves.items():
            frames.append(
                pd.DataFrame(
                    {
                        "pathway": pathway,
                        "strategy": name,
                        "threshold": t,
                        "net_benefit": values,
                        "prevalence": prevalence,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def cost_threshold(pathway: str = EMERGENCY, costs: pd.DataFrame | None = None) -> float:
    """The threshold probability the stated costs imply for referring to ``pathway``.

    Referring a patient who belongs there avoids the cheapest miss, ``min cost[pathway, other]``;
    referring one who does not costs on average ``mean cost[other, pathway]``. Referral pays
    when ``p · avoided > (1 − p) · harm``, i.e. above ``harm / (harm + avoided)``.

    Parameters
    ----------
    pathway
        The pathway referred to.
    costs
        Cost matrix (default :func:`outcomes.knowledge.costs.load_costs`).

    Returns
    -------
    float
        The threshold probability.

    Examples
    --------
    >>> round(cost_threshold("emergency"), 3)  # 3 / (3 + 50) with knowledge/costs.toml
    0.057
    """
    costs = costs if costs is not None else load_costs()
    others = [c for c in costs.columns if c != pathway]
    avoided = float(costs.loc[pathway, others].min())
    harm = float(costs.loc[others, pathway].mean())
    if avoided + harm <= 0:
        raise ValueError(f"the costs of pathway {pathway!r} are all zero: no threshold follows")
    return harm / (harm + avoided)


def one_hot(calls: Any, classes: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Hard calls as probabilities of 0 and 1, for :func:`decision_curves`.

    Parameters
    ----------
    calls
        One pathway per patient.
    classes
        The classes, in column order.

    Returns
    -------
    (proba, classes)
        Probabilities of 0 and 1, one column per class, and the classes.

    Examples
    --------
    >>> proba, classes = one_hot(["hip", "spinal"], ["spinal", "hip"])
    >>> proba.tolist(), classes
    ([[0.0, 1.0], [1.0, 0.0]], ['spinal', 'hip'])
    """
    classes = [str(c) for c in classes]
    values = np.asarray(pd.Series(calls).astype(str))
    return (values[:, None] == np.array(classes)[None, :]).astype(float), classes
