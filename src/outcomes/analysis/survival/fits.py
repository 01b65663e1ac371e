"""Kaplan–Meier by group, fitted once: curves, at-risk counts, medians, RMST and log-rank tests.

:class:`KaplanMeierByGroup` fits one lifelines :class:`~lifelines.KaplanMeierFitter` per group
and every table of this module reads those fits (lifelines' "fit once, read many"): the curve
with its band and at-risk counts (:func:`kaplan_meier`), the median with its interval
(:func:`median_times`), the restricted mean. All return numbers; their reading versions are in
:mod:`outcomes.captions.survival`. See :mod:`outcomes.analysis.survival` for the rule of one
row per patient in a group and for the follow-up length.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test, multivariate_logrank_test
from lifelines.utils import median_survival_times

from outcomes.engine.recovery import load_recovery

DURATION = "weeks_to_recovery"
EVENT = "recovered"
#: Columns of :func:`kaplan_meier`.
CURVE_COLUMNS = ["group", "week", "survival", "lower", "upper", "at_risk"]
#: Columns of :func:`median_times`.
MEDIAN_COLUMNS = ["patients", "recovered", "median", "lower", "upper"]


def follow_up_weeks(outcomes: pd.DataFrame | None = None) -> int:
    """Length of follow-up in weeks: the last week any patient of ``outcomes`` was seen.

    Parameters
    ----------
    outcomes
        An outcomes table; without it (or without a ``last_visit_week`` column, or with no
        rows) the length is ``follow_up_weeks`` of ``recovery.toml``.

    Returns
    -------
    int
        Weeks of follow-up.

    Examples
    --------
    >>> follow_up_weeks()
    52
    >>> follow_up_weeks(pd.DataFrame({"last_visit_week": [10, 26, 3]}))
    26
    """
    if outcomes is not None and "last_visit_week" in outcomes.columns and len(outcomes):
        return int(outcomes["last_visit_week"].max())
    return load_recovery().follow_up_weeks


def at_risk_weeks(horizon: int) -> tuple[int, ...]:
    """Weeks at which at-risk counts are shown under a Kaplan–Meier plot: five, evenly spaced.

    Parameters
    ----------
    horizon
        Weeks of follow-up.

    Returns
    -------
    tuple of int
        The weeks, from 0 to ``horizon`` (fewer than five when ``horizon`` is under 4).

    Examples
    --------
    >>> at_risk_weeks(52)
    (0, 13, 26, 39, 52)
    >>> at_risk_weeks(26)
    (0, 6, 13, 20, 26)
    """
    return tuple(dict.fromkeys(int(round(horizon * k / 4)) for k in range(5)))


def group_rows(outcomes: pd.DataFrame, by: str) -> list[tuple[str, pd.DataFrame]]:
    """The rows of each group of column ``by``, in the column's order.

    Parameters
    ----------
    outcomes
        Any table with column ``by``.
    by
        The grouping column.

    Returns
    -------
    list of (str, pandas.DataFrame)
        ``(label, rows)`` per group: its categories for a categorical column (empty groups
        included), else its sorted values (``False`` before ``True``). The label is
        ``str(value)``, the same in every table of this package; rows with a missing value
        belong to no group.

    Examples
    --------
    >>> t = pd.DataFrame({"fit": pd.Categorical(["b", "a"], categories=["b", "a", "c"])})
    >>> [(label, len(rows)) for label, rows in group_rows(t, "fit")]
    [('b', 1), ('a', 1), ('c', 0)]
    """
    column = outcomes[by]
    if isinstance(column.dtype, pd.CategoricalDtype):
        names = list(column.cat.categories)
    else:
        names = sorted(pd.unique(column.dropna()))
    return [(str(name), outcomes[(column == name).to_numpy()]) for name in names]


def check_one_row_per_patient(table: pd.DataFrame, by: str, *also: str) -> None:
    """Refuse a table that counts a patient more than once in a group.

    Kaplan–Meier bands, medians and log-rank tests assume independent patients; policies
    pooled and then grouped by another column count each patient once per policy.

    Parameters
    ----------
    table
        A table with ``patient_id`` (without it, or empty, nothing is checked).
    by, *also
        The columns that define a group.

    Raises
    ------
    ValueError
        Naming the first repeated patient, its group and the number of repeated rows.

    Examples
    --------
    >>> t = pd.DataFrame({"patient_id": ["p1", "p1"], "policy": ["a", "b"], "fit": ["x", "x"]})
    >>> check_one_row_per_patient(t, "policy")
    >>> check_one_row_per_patient(t, "fit")
    Traceback (most recent call last):
    ...
    ValueError: patient 'p1' appears more than once in group 'x' of 'fit' (2 rows are repeats): ...
    """
    if "patient_id" not in table.columns or table.empty:
        return
    keys = ["patient_id", by, *also]
    repeated = table.duplicated(keys, keep=False).to_numpy()
    if repeated.any():
        row = table[repeated].iloc[0]
        count = int(repeated.sum())
        raise ValueError(
            f"patient {row['patient_id']!r} appears more than once in group {str(row[by])!r} "
            f"of {by!r} ({count} rows are repeats): pooling policies run on the same patients "
            "counts each patient once per policy and makes bands and p-values too narrow; "
            "analyse one policy at a time (e.g. outcomes[outcomes['policy'] == 'rules'])"
        )


class KaplanMeierByGroup:
    """One Kaplan–Meier fit per group of an outcomes table, read by every table of survival.

    Parameters
    ----------
    by
        The grouping column (``condition``, ``fit``, ``policy``, …).
    horizon
        Weeks of follow-up the curves span; default :func:`follow_up_weeks` of the outcomes.

    Attributes
    ----------
    horizon_ : int
        The horizon used.
    groups_ : list of (str, pandas.DataFrame)
        :func:`group_rows` of the outcomes, empty groups included.
    fitters_ : dict of str to lifelines.KaplanMeierFitter
        One fit per non-empty group (its timeline holds every week 0..horizon and every
        observed time, so curves and medians read the same fit).
    empty_groups_ : tuple of str
        Labels of groups with no patients.

    Examples
    --------
    >>> out = pd.DataFrame({"fit": ["a", "a", "b", "b"], "weeks_to_recovery": [2, 4, 3, 52],
    ...                     "recovered": [True, True, True, False], "last_visit_week": 52})
    >>> km = KaplanMeierByGroup("fit").fit(out)
    >>> km.medians()["median"].tolist()
    [2.0, 3.0]
    >>> km.rmst().round(1).tolist()
    [3.0, 27.5]
    """

    def __init__(self, by: str, horizon: int | None = None):
        self.by = by
        self.horizon = horizon

    def fit(self, outcomes: pd.DataFrame) -> KaplanMeierByGroup:
        """Fit one Kaplan–Meier curve per group of ``outcomes``.

        Parameters
        ----------
        outcomes
            An outcomes table (``weeks_to_recovery``, ``recovered``, column ``by``); each
            patient may appear once per group.

        Returns
        -------
        KaplanMeierByGroup
            ``self``, fitted.

        Examples
        --------
        >>> out = pd.DataFrame({"fit": ["a", "b"], "weeks_to_recovery": [2, 4],
        ...                     "recovered": True})
        >>> sorted(KaplanMeierByGroup("fit").fit(out).fitters_)
        ['a', 'b']
        """
        check_one_row_per_patient(outcomes, self.by)
        self.horizon_ = follow_up_weeks(outcomes) if self.horizon is None else int(self.horizon)
        weeks = np.arange(self.horizon_ + 1)
        self.groups_ = group_rows(outcomes, self.by)
        self.fitters_ = {}
        for name, group in self.groups_:
            if group.empty:
                continue
            durations = group[DURATION].to_numpy(float)
            self.fitters_[name] = KaplanMeierFitter().fit(
                durations, group[EVENT].to_numpy(bool), timeline=np.union1d(weeks, durations)
            )
        self.empty_groups_ = tuple(name for name, group in self.groups_ if group.empty)
        return self

    def curves(self) -> pd.DataFrame:
        """The share not yet recovered per group at every week 0..horizon (see
        :func:`kaplan_meier`).

        Returns
        -------
        pandas.DataFrame
            ``group``, ``week``, ``survival``, ``lower``, ``upper``, ``at_risk``; empty groups
            listed in ``attrs["empty_groups"]``.

        Examples
        --------
        >>> out = pd.DataFrame({"fit": ["a", "a"], "weeks_to_recovery": [1, 2],
        ...                     "recovered": True})
        >>> KaplanMeierByGroup("fit", horizon=2).fit(out).curves()["survival"].tolist()
        [1.0, 0.5, 0.0]
        """
        weeks = np.arange(self.horizon_ + 1)
        frames = []
        for name, group in self.groups_:
            if name not in self.fitters_:
                continue
            kmf = self.fitters_[name]
            at = weeks.astype(float)
            ci = kmf.confidence_interval_survival_function_.reindex(at)
            durations = group[DURATION].to_numpy()
            frames.append(
                pd.DataFrame(
                    {
                        "group": name,
                        "week": weeks,
                        "survival": kmf.survival_function_.iloc[:, 0].reindex(at).to_numpy(),
                        "lower": ci.iloc[:, 0].to_numpy(),
                        "upper": ci.iloc[:, 1].to_numpy(),
                        "at_risk": (durations[None, :] >= weeks[:, None]).sum(axis=1),
                    }
                )
            )
        km = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=CURVE_COLUMNS)
        km.attrs["empty_groups"] = self.empty_groups_
        return km

    def medians(self) -> pd.DataFrame:
        """Median weeks to recovery per group with its 95% interval (see :func:`median_times`).

        Returns
        -------
        pandas.DataFrame
            Index: group labels (name ``by``), every group; columns ``patients``,
            ``recovered`` (share), ``median``, ``lower``, ``upper`` (inf: not reached within
            follow-up; NaN for an empty group).

        Examples
        --------
        >>> out = pd.DataFrame({"fit": ["a", "a"], "weeks_to_recovery": [1, 2],
        ...                     "recovered": True})
        >>> KaplanMeierByGroup("fit").fit(out).medians()["median"].tolist()
        [1.0]
        """
        rows = {}
        for name, group in self.groups_:
            if name not in self.fitters_:
                rows[name] = (0, np.nan, np.nan, np.nan, np.nan)
                continue
            kmf = self.fitters_[name]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ci = median_survival_times(kmf.confidence_interval_).to_numpy(dtype=float)[0]
            median = float(kmf.median_survival_time_)
            rows[name] = (len(group), group[EVENT].mean(), median, ci[0], ci[1])
        table = pd.DataFrame.from_dict(rows, orient="index", columns=MEDIAN_COLUMNS)
        table["patients"] = table["patients"].astype(int)
        table.index.name = self.by
        return table

    def rmst(self) -> pd.Series:
        """Restricted mean weeks to recovery up to the horizon, per non-empty group.

        The area under the curve from week 0 to the horizon (the curve is a step function of
        whole weeks), as :func:`outcomes.analysis.survival.rmst` computes it for bootstrap
        weights.

        Returns
        -------
        pandas.Series
            Weeks, indexed by group label.

        Examples
        --------
        >>> out = pd.DataFrame({"fit": ["a", "a"], "weeks_to_recovery": [2, 4],
        ...                     "recovered": True})
        >>> float(KaplanMeierByGroup("fit", horizon=10).fit(out).rmst()["a"])
        3.0
        """
        at = np.arange(self.horizon_, dtype=float)
        return pd.Series(
            {
                name: float(kmf.survival_function_.iloc[:, 0].reindex(at).sum())
                for name, kmf in self.fitters_.items()
            },
            dtype=float,
        )


def kaplan_meier(outcomes: pd.DataFrame, by: str, horizon: int | None = None) -> pd.DataFrame:
    """Kaplan–Meier share not yet recovered, by group, at every week 0..horizon.

    Parameters
    ----------
    outcomes
        An outcomes table; each patient may appear once per group.
    by
        The grouping column.
    horizon
        Weeks shown; default :func:`follow_up_weeks`.

    Returns
    -------
    pandas.DataFrame
        A long table: ``group``, ``week``, ``survival``, ``lower``, ``upper`` (95% pointwise
        band, lifelines' exponential Greenwood) and ``at_risk`` (patients still followed and
        not recovered at the start of the week). Groups with no patients have no rows; their
        labels are listed in ``attrs["empty_groups"]`` (so a figure can say "no patients" for
        them).

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.engine.recovery import simulate
    >>> patients = generate(500, seed=1)
    >>> out = simulate(patients, patients["pathway"], seed=0, visits=False).outcomes
    >>> km = kaplan_meier(out, by="pathway")
    >>> float(km.loc[km["week"] == 0, "survival"].min())
    1.0
    """
    return KaplanMeierByGroup(by, horizon).fit(outcomes).curves()


def median_times(outcomes: pd.DataFrame, by: str) -> pd.DataFrame:
    """Median weeks to recovery by group with its 95% CI, as numbers.

    Parameters
    ----------
    outcomes
        An outcomes table; each patient may appear once per group.
    by
        The grouping column.

    Returns
    -------
    pandas.DataFrame
        One row per group (index name ``by``; empty groups included): ``patients``,
        ``recovered`` (share), ``median``, ``lower``, ``upper`` in weeks. A median or limit
        beyond follow-up is ``inf``; an empty group has NaN. The CI is lifelines' (from the
        pointwise band of the curve, as :func:`lifelines.utils.median_survival_times` gives
        it). :func:`outcomes.captions.survival.format_median_times` renders it for reading.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.engine.recovery import simulate
    >>> patients = generate(500, seed=1)
    >>> out = simulate(patients, patients["pathway"], seed=0, visits=False).outcomes
    >>> list(median_times(out, by="pathway").columns)
    ['patients', 'recovered', 'median', 'lower', 'upper']
    """
    return KaplanMeierByGroup(by).fit(outcomes).medians()


def logrank(outcomes: pd.DataFrame, by: str, reference: str | None = None) -> pd.DataFrame:
    """Log-rank tests of time to recovery between groups, as numbers.

    The test assumes the groups hold different, independent patients. Grouped by condition or
    by fit *within one policy*, they do. Grouped by policy on the same patients (common random
    numbers), the groups are the same patients, positively correlated: the test ignores the
    pairing and its p-values are conservative; the paired bootstrap of
    :func:`outcomes.analysis.survival.weeks_saved` is the primary comparison of policies. A
    table that repeats a patient within a group (several policies pooled, then grouped by fit)
    is refused: there the p-values would be too small.

    Parameters
    ----------
    outcomes
        An outcomes table; each patient may appear once per group.
    by
        The grouping column.
    reference
        A group's label, as :func:`kaplan_meier` and :func:`median_times` show it, or its
        value (``True`` for a boolean column): adds one row per other non-empty group
        comparing it with the reference.

    Returns
    -------
    pandas.DataFrame
        ``comparison``, ``chi2`` (float), ``df`` (int), ``p`` (float). The first row tests all
        non-empty groups together. A test with fewer than two non-empty groups has nothing to
        compare: ``chi2`` and ``p`` are NaN. :func:`outcomes.captions.survival.format_logrank`
        renders it for reading.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.engine.recovery import simulate
    >>> patients = generate(500, seed=1)
    >>> out = simulate(patients, patients["pathway"], seed=0, visits=False).outcomes
    >>> logrank(out, by="pathway")["comparison"].iloc[0]
    'all groups'
    >>> logrank(out, by="chronic", reference=False)["comparison"].tolist()
    ['all groups', 'True vs False']
    """
    check_one_row_per_patient(outcomes, by)
    groups = group_rows(outcomes, by)
    labels = [name for name, _ in groups]
    present = [(name, group) for name, group in groups if len(group)]
    rows = []
    if len(present) >= 2:
        durations = np.concatenate([g[DURATION].to_numpy(float) for _, g in present])
        events = np.concatenate([g[EVENT].to_numpy(bool) for _, g in present])
        names = np.repeat([name for name, _ in present], [len(g) for _, g in present])
        overall = multivariate_logrank_test(durations, names, events)
        rows.append(
            ("all groups", overall.test_statistic, overall.degrees_of_freedom, overall.p_value)
        )
    else:
        rows.append(("all groups", np.nan, 0, np.nan))
    if reference is not None:
        ref_label = str(reference)
        if ref_label not in labels:
            raise ValueError(
                f"reference {reference!r} is not a group of {by!r}; choose one of: "
                f"{', '.join(labels)}"
            )
        ref = dict(groups)[ref_label]
        for name, other in present:
            if name == ref_label:
                continue
            if ref.empty:
                rows.append((f"{name} vs {ref_label}", np.nan, 1, np.nan))
                continue
            res = logrank_test(ref[DURATION], other[DURATION], ref[EVENT], other[EVENT])
            rows.append((f"{name} vs {ref_label}", res.test_statistic, 1, res.p_value))
    table = pd.DataFrame(rows, columns=["comparison", "chi2", "df", "p"])
    table["chi2"] = table["chi2"].astype(float)
    table["df"] = table["df"].astype(int)
    table["p"] = table["p"].astype(float)
    return table
