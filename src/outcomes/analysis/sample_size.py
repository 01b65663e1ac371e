"""How many patients must a validation study enrol? Closed forms beside simulation.

Two questions a team planning to validate a triage tool asks, each answered twice:

- **Precision of emergency sensitivity.** The 95% interval of a sensitivity estimated from
  ``m`` emergencies has half-width about ``z * sqrt(p (1 - p) / m)``; a study of ``n``
  patients sees about ``m = n * prevalence`` emergencies (:func:`sensitivity_halfwidth`,
  :func:`n_for_halfwidth`). Simulated: studies of ``n`` patients drawn from a pilot cohort's
  prevalence and sensitivity, the spread of their estimates and their Wilson intervals
  (:func:`simulate_sensitivity`).
- **Power of a paired comparison.** Two methods read the same patients; McNemar's test looks
  at the discordant ones (only one method right). With discordant shares ``p10`` and ``p01``
  (difference ``delta = p10 - p01``, discordance ``psi = p10 + p01``), Connor's (1987) normal
  approximation gives the power at ``n`` (:func:`mcnemar_power`) and the ``n`` for a target
  power (:func:`mcnemar_n`). Simulated: multinomial studies of ``n`` patients and the exact
  McNemar test that :func:`outcomes.analysis.evaluate.compare_paired` uses
  (:func:`simulate_mcnemar`).

Simulated studies resample the counts that matter (emergencies and those caught; the four
agreement cells), which is exactly what drawing ``n`` patients from a large pilot cohort does
to them: fast enough for thousands of replicates at every size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binom, norm

from outcomes.analysis.intervals import wilson_interval


def _z(level: float) -> float:
    return float(norm.ppf(0.5 + level / 2))


def sensitivity_halfwidth(
    sensitivity: float, prevalence: float, n: Any, level: float = 0.95
) -> np.ndarray:
    """Closed-form (Wald) half-width of a sensitivity's interval in a study of ``n`` patients:
    ``z * sqrt(p (1 - p) / (n * prevalence))``.

    Parameters
    ----------
    sensitivity : float
        The sensitivity expected (e.g. the rules' for emergencies).
    prevalence : float
        Share of the study's patients who are positives (emergencies).
    n : int or array-like
        Patients in the study.
    level : float, default 0.95
        Confidence level of the interval.

    Returns
    -------
    numpy.ndarray
        The half-width, shaped like ``n``.

    Examples
    --------
    >>> round(float(sensitivity_halfwidth(0.9, 0.01, 13830)), 4)
    0.05
    """
    m = np.asarray(n, dtype=float) * prevalence
    return _z(level) * np.sqrt(sensitivity * (1 - sensitivity) / m)


def n_for_halfwidth(
    sensitivity: float, prevalence: float, halfwidth: float, level: float = 0.95
) -> int:
    """Smallest study size whose closed-form half-width (:func:`sensitivity_halfwidth`) is at
    most ``halfwidth``: ``ceil(z^2 p (1 - p) / (halfwidth^2 * prevalence))``.

    Parameters
    ----------
    sensitivity : float
        The sensitivity expected (e.g. the rules' for emergencies).
    prevalence : float
        Share of the study's patients who are positives (emergencies).
    halfwidth : float
        The largest half-width accepted, in (0, 1).
    level : float, default 0.95
        Confidence level of the interval.

    Returns
    -------
    int
        Patients to enrol.

    Examples
    --------
    >>> n_for_halfwidth(0.9, 0.01, 0.05)
    13830
    """
    if not 0 < prevalence <= 1 or not 0 < halfwidth < 1:
        raise ValueError("prevalence must be in (0, 1] and halfwidth in (0, 1)")
    m = _z(level) ** 2 * sensitivity * (1 - sensitivity) / halfwidth**2
    return int(np.ceil(m / prevalence - 1e-9))


def simulate_sensitivity(
    sensitivity: float,
    prevalence: float,
    sizes: Sequence[int],
    *,
    replicates: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    target: float = 0.05,
) -> pd.DataFrame:
    """Simulated studies of each size: emergencies ``m ~ Binomial(n, prevalence)``, caught
    ``k ~ Binomial(m, sensitivity)``.

    Parameters
    ----------
    sensitivity : float
        The sensitivity expected (e.g. the rules' for emergencies).
    prevalence : float
        Share of the study's patients who are positives (emergencies).
    sizes : sequence of int
        Study sizes simulated.
    replicates : int, default 2000
        Studies simulated per size.
    seed : int, default 0
        Seed of the random generator.
    level : float, default 0.95
        Confidence level of the interval.
    target : float, default 0.05
        Half-width that ``wilson_within`` counts against.

    Returns
    -------
    pandas.DataFrame
        One row per size: ``n``, ``closed_form`` (:func:`sensitivity_halfwidth`),
        ``simulated`` (``z`` times the standard deviation of the estimates ``k / m``: the
        half-width an interval needs to cover the truth), ``simulated_se`` (its simulation
        standard error, ``simulated / sqrt(2 (R - 1))``), ``wilson_mean`` (mean half-width
        of the Wilson intervals a study would report) and ``wilson_within`` (share of studies
        whose Wilson half-width is at most ``target``). Studies with no emergency are left
        out of the estimates.

    Examples
    --------
    >>> t = simulate_sensitivity(0.9, 0.05, [2000], replicates=500)
    >>> bool(abs(t.simulated[0] - t.closed_form[0]) < 4 * t.simulated_se[0])
    True
    """
    rng = np.random.default_rng(seed)
    z = _z(level)
    rows = []
    for n in sizes:
        m = rng.binomial(int(n), prevalence, size=replicates)
        k = rng.binomial(m, sensitivity)
        seen = m > 0
        estimate = k[seen] / m[seen]
        lo, hi = wilson_interval(k[seen], m[seen], level)
        wilson = (hi - lo) / 2
        simulated = z * estimate.std(ddof=1)
        rows.append({
            "n": int(n),
            "closed_form": float(sensitivity_halfwidth(sensitivity, prevalence, n, level)),
            "simulated": simulated,
            "simulated_se": simulated / np.sqrt(2 * (seen.sum() - 1)),
            "wilson_mean": float(wilson.mean()),
            "wilson_within": float((wilson <= target).mean()),
        })  # fmt: skip
    return pd.DataFrame(rows)


def mcnemar_power(n: Any, delta: float, discordance: float, alpha: float = 0.05) -> np.ndarray:
    """Closed-form power of McNemar's test (Connor 1987) at ``n`` patients, for a difference
    in accuracy ``delta`` and a share ``discordance`` of patients on whom the methods
    disagree about being right.

    Parameters
    ----------
    n : int or array-like
        Patients in the study.
    delta : float
        Difference in accuracy between the two methods.
    discordance : float
        Share of patients on whom exactly one method is right (bounds ``|delta|``).
    alpha : float, default 0.05
        Two-sided significance level.

    Returns
    -------
    numpy.ndarray
        Power, shaped like ``n``.

    Examples
    --------
    >>> round(float(mcnemar_power(1000, 0.03, 0.10)), 3)
    0.852
    """
    n = np.asarray(n, dtype=float)
    _check_cells(delta, discordance)
    z = _z(1 - alpha)
    root = np.sqrt(n) * abs(delta) - z * np.sqrt(discordance)
    return norm.cdf(root / np.sqrt(discordance - delta**2))


def mcnemar_n(delta: float, discordance: float, power: float = 0.8, alpha: float = 0.05) -> int:
    """Patients McNemar's test needs for ``power`` (Connor 1987):
    ``ceil((z_a sqrt(psi) + z_b sqrt(psi - delta^2))^2 / delta^2)``.

    Parameters
    ----------
    delta : float
        Difference in accuracy between the two methods.
    discordance : float
        Share of patients on whom exactly one method is right (bounds ``|delta|``).
    power : float, default 0.8
        Power wanted.
    alpha : float, default 0.05
        Two-sided significance level.

    Returns
    -------
    int
        Patients to enrol.

    Examples
    --------
    >>> mcnemar_n(0.03, 0.10)
    870
    """
    _check_cells(delta, discordance)
    z_a, z_b = _z(1 - alpha), float(norm.ppf(power))
    n = (z_a * np.sqrt(discordance) + z_b * np.sqrt(discordance - delta**2)) ** 2 / delta**2
    return int(np.ceil(n - 1e-9))


def _check_cells(delta: float, discordance: float) -> None:
    if not 0 < discordance <= 1 or not 0 < abs(delta) < discordance:
        raise ValueError(
            f"need 0 < |delta| < discordance <= 1 (the share on which only one method is right "
            f"bounds the difference); got delta={delta}, discordance={discordance}"
        )


def mcnemar_pvalues(only_a: np.ndarray, only_b: np.ndarray) -> np.ndarray:
    """Two-sided exact McNemar p-values (binomial test of the discordant patients, as
    :func:`outcomes.analysis.evaluate.compare_paired`), vectorised; 1 where there is no discordance.

    Parameters
    ----------
    only_a, only_b : numpy.ndarray
        Patients on whom only method A, and only method B, is right (one per study).

    Returns
    -------
    numpy.ndarray
        One p-value per study.

    Examples
    --------
    >>> mcnemar_pvalues(np.array([2, 9]), np.array([0, 1])).round(4).tolist()
    [0.5, 0.0215]
    """
    only_a, only_b = np.asarray(only_a), np.asarray(only_b)
    total = only_a + only_b
    small = np.minimum(only_a, only_b)
    p = 2 * binom.cdf(small, np.maximum(total, 1), 0.5)
    return np.where(total > 0, np.minimum(p, 1.0), 1.0)


def simulate_mcnemar(
    delta: float,
    discordance: float,
    sizes: Sequence[int],
    *,
    replicates: int = 2000,
    alpha: float = 0.05,
    seed: int = 0,
) -> pd.DataFrame:
    """Simulated paired studies of each size: patients fall in 'only A right' with share
    ``(discordance + delta) / 2``, 'only B right' with ``(discordance - delta) / 2``, else
    concordant; the exact McNemar test at ``alpha``.

    Parameters
    ----------
    delta : float
        Difference in accuracy between the two methods.
    discordance : float
        Share of patients on whom exactly one method is right (bounds ``|delta|``).
    sizes : sequence of int
        Study sizes simulated.
    replicates : int, default 2000
        Studies simulated per size.
    alpha : float, default 0.05
        Two-sided significance level.
    seed : int, default 0
        Seed of the random generator.

    Returns
    -------
    pandas.DataFrame
        One row per size: ``n``, ``closed_form`` (:func:`mcnemar_power`), ``simulated``
        (share of studies with p < ``alpha``) and ``simulated_se`` (its binomial standard
        error).

    Examples
    --------
    >>> t = simulate_mcnemar(0.03, 0.10, [1000], replicates=2000)
    >>> bool(abs(t.simulated[0] - t.closed_form[0]) < 4 * t.simulated_se[0] + 0.02)
    True
    """
    _check_cells(delta, discordance)
    rng = np.random.default_rng(seed)
    shares = [(discordance + delta) / 2, (discordance - delta) / 2, 1 - discordance]
    rows = []
    for n in sizes:
        cells = rng.multinomial(int(n), shares, size=replicates)
        p = mcnemar_pvalues(cells[:, 0], cells[:, 1])
        power = float((p < alpha).mean())
        se = float(np.sqrt(max(power * (1 - power), 1e-12) / replicates))
        closed = float(mcnemar_power(n, delta, discordance, alpha))
        rows.append({"n": int(n), "closed_form": closed, "simulated": power, "simulated_se": se})
    return pd.DataFrame(rows)


def first_size(table: pd.DataFrame, column: str, target: float, below: bool) -> int | None:
    """Smallest ``n`` of a table whose ``column`` is at most (``below``) or at least
    ``target``; ``None`` if none is.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows by study size, with an ``n`` column.
    column : str
        The column compared with ``target``.
    target : float
        The value to reach.
    below : bool
        True: the column must be at most ``target``; False: at least.

    Returns
    -------
    int or None
        The size, or None when no row reaches the target.

    Examples
    --------
    >>> first_size(pd.DataFrame({"n": [10, 20, 40], "p": [0.5, 0.85, 0.9]}), "p", 0.8, False)
    20
    """
    hit = table[table[column] <= target] if below else table[table[column] >= target]
    return int(hit["n"].min()) if len(hit) else None


def size_grid(low: int, high: int, points: int = 12) -> list[int]:
    """Study sizes from ``low`` to ``high``, evenly spaced on a log scale, rounded to 2
    significant figures.

    Parameters
    ----------
    low, high : int
        Smallest and largest size.
    points : int, default 12
        Sizes before rounding (rounding may merge some).

    Returns
    -------
    list of int
        Increasing sizes.

    Examples
    --------
    >>> size_grid(100, 10000, 5)
    [100, 320, 1000, 3200, 10000]
    """
    raw = np.geomspace(low, high, points)
    digits = np.floor(np.log10(raw)).astype(int) - 1
    return sorted({int(round(x / 10.0**d) * 10**d) for x, d in zip(raw, digits, strict=True)})


# --------------------------------------------------------------------------------------------
# Plots


def plot_against_n(
    table: pd.DataFrame,
    target: float,
    chosen: int | None,
    *,
    ylabel: str,
    simulated_label: str = "simulated",
    extra: str | None = None,
    extra_label: str | None = None,
    ax=None,
):
    """Closed form and simulation (with a ±2 SE band) against study size, a dashed line at
    the target and the chosen size marked.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`simulate_sensitivity` or :func:`simulate_mcnemar`.
    target : float
        The target drawn as a dashed line.
    chosen : int or None
        The chosen size, marked when given.
    ylabel : str
        Label of the y axis.
    simulated_label : str, default "simulated"
        Legend label of the simulated points.
    extra, extra_label : str, optional
        A further column of ``table`` to plot, and its legend label.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> t = simulate_mcnemar(0.03, 0.10, [500, 1000], replicates=200)
    >>> plot_against_n(t, 0.8, 870, ylabel="power").get_xscale()
    'log'
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.0))
    n = table["n"]
    ax.plot(n, table["closed_form"], color="0.2", label="closed form")
    ax.plot(n, table["simulated"], "o", color="C0", label=simulated_label)
    ax.fill_between(n, table["simulated"] - 2 * table["simulated_se"],
                    table["simulated"] + 2 * table["simulated_se"], color="C0", alpha=0.2,
                    linewidth=0)  # fmt: skip
    if extra is not None:
        ax.plot(n, table[extra], "s", color="C1", markersize=4, label=extra_label)
    ax.axhline(target, color="C3", linestyle="--", linewidth=1, label=f"target {target:g}")
    if chosen is not None:
        ax.axvline(chosen, color="C2", linewidth=1.5, label=f"chosen n = {chosen:,}")
    ax.set_xscale("log")
    ax.set_xlabel("patients enrolled (log scale)")
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False, fontsize="small")
    return ax


def plot_learning_curve(summary: pd.DataFrame, crossing: int | None, ax=None):
    """Mean accuracy (±1 SD over replicates) of each method by training size, with the size
    where the learned model overtakes the rules marked.

    ``summary`` has columns ``n_train``, ``method``, ``mean``, ``sd`` (as from
    :func:`outcomes.analysis.study.summarise`).

    Parameters
    ----------
    summary : pandas.DataFrame
        Mean and SD of accuracy by method and training size.
    crossing : int or None
        Size where the learned model overtakes the rules (:func:`overtaking_size`), marked
        when given.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> s = pd.DataFrame({"n_train": [10, 10, 20, 20], "method": ["rules", "m"] * 2,
    ...                   "mean": [0.8, 0.7, 0.8, 0.85], "sd": [0.01] * 4})
    >>> plot_learning_curve(s, 20).get_xlabel()
    'training patients (log scale)'
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.0))
    for i, (method, rows) in enumerate(summary.groupby("method", sort=True)):
        rows = rows.sort_values("n_train")
        ax.errorbar(rows["n_train"], rows["mean"], yerr=rows["sd"].fillna(0), marker="o",
                    capsize=3, color=f"C{i}", label=method)  # fmt: skip
    if crossing is not None:
        ax.axvline(crossing, color="C2", linewidth=1.5,
                   label=f"overtakes at n_train = {crossing:,}")  # fmt: skip
    ax.set_xscale("log")
    ax.set_xlabel("training patients (log scale)")
    ax.set_ylabel("accuracy on held-out patients")
    ax.legend(frameon=False, fontsize="small")
    return ax


def overtaking_size(summary: pd.DataFrame, learned: str, reference: str = "rules") -> int | None:
    """Smallest training size at which ``learned``'s mean accuracy exceeds ``reference``'s
    and stays above it at every larger size; ``None`` if it never does.

    Parameters
    ----------
    summary : pandas.DataFrame
        Columns ``n_train``, ``method`` and ``mean``.
    learned : str
        The learned method.
    reference : str, default "rules"
        The method it must overtake.

    Returns
    -------
    int or None
        The training size.

    Examples
    --------
    >>> s = pd.DataFrame({"n_train": [10, 10, 20, 20, 40, 40], "method": ["rules", "m"] * 3,
    ...                   "mean": [0.8, 0.7, 0.8, 0.85, 0.8, 0.9]})
    >>> overtaking_size(s, "m")
    20
    """
    wide = summary.pivot_table(index="n_train", columns="method", values="mean").sort_index()
    ahead = (wide[learned] > wide[reference]).to_numpy()
    for i, size in enumerate(wide.index):
        if ahead[i:].all():
            return int(size)
    return None


# --------------------------------------------------------------------------------------------
# Sentences (kept apart from the statistics above)


def design_findings(
    halfwidth: float,
    n_halfwidth: int,
    prevalence: float,
    sensitivity: float,
    delta: float,
    power: float,
    n_power: int,
    crossing: int | None,
    learned: str = "logistic",
) -> list[str]:
    """The notebook's answers as sentences, from its numbers.

    Parameters
    ----------
    halfwidth : float
        Target half-width of the emergency sensitivity's interval.
    n_halfwidth : int
        Patients that half-width needs.
    prevalence, sensitivity : float
        Share of emergencies, and the rules' sensitivity for them.
    delta, power : float
        Accuracy difference to detect, and the power wanted.
    n_power : int
        Patients that power needs.
    crossing : int or None
        Training size where the learned model overtakes the rules.
    learned : str, default "logistic"
        Name of the learned model.

    Returns
    -------
    list of str
        Three sentences: precision, power, learning curve.

    Examples
    --------
    >>> design_findings(0.05, 13830, 0.01, 0.9, 0.03, 0.8, 870, 100)[1]
    'Detecting an accuracy difference of 3.0 points between the rules and a model with 80% power (paired, McNemar, two-sided 5%) needs 870 patients.'
    """  # noqa: E501
    crossed = (
        f"The {learned} model overtakes the rules from about {crossing:,} training patients."
        if crossing is not None
        else f"The {learned} model did not overtake the rules at any training size tried."
    )
    return [
        f"A 95% interval of emergency sensitivity no wider than ±{100 * halfwidth:.1f} points "
        f"needs about {n_halfwidth:,} patients: emergencies are {100 * prevalence:.2f}% of "
        f"them and the rules catch {100 * sensitivity:.1f}%.",
        f"Detecting an accuracy difference of {100 * delta:.1f} points between the rules and a "
        f"model with {100 * power:.0f}% power (paired, McNemar, two-sided 5%) needs "
        f"{n_power:,} patients.",
        crossed,
    ]
