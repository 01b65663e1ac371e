"""Accuracy as conditions change: by training-set size against a reference (the learning
curve), and on other cohorts (another setting, sparser records: shift)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from outcomes.analysis.evaluate.comparison import compare_paired
from outcomes.analysis.evaluate.confusion import predictions_of
from outcomes.analysis.evaluate.resampling import LEVEL, bootstrap_mean, percentile_interval
from outcomes.knowledge import Knowledge, load_knowledge

#: Learning-curve verdict when the paired interval of the difference includes 0.
NOT_DISTINGUISHABLE = "not distinguishable"


def learning_curve(
    fit: Callable[[pd.DataFrame], Any],
    train: pd.DataFrame,
    test: pd.DataFrame,
    sizes: Sequence[int],
    reference: Any,
    *,
    n_boot: int = 500,
    seed: int = 0,
    level: float = LEVEL,
) -> pd.DataFrame:
    """Accuracy of a learned model by training-set size, against a reference on the same test.

    Parameters
    ----------
    fit
        Called with the first ``size`` rows of ``train``; returns a fitted method.
    train : pandas.DataFrame
        The training patients, in the order they are taken.
    test : pandas.DataFrame
        The test patients, with their true ``pathway``.
    sizes : sequence of int
        The training-set sizes.
    reference
        The reference method (e.g. the fitted rules) or its predictions on ``test``.
    n_boot : int, optional
        Bootstrap replicates of each interval.
    seed : int, optional
        Seed of the bootstrap.
    level : float, optional
        Coverage of the intervals.

    Returns
    -------
    pandas.DataFrame
        One row per size: ``size``, ``accuracy`` with ``low``/``high``, ``difference`` from the
        reference with its paired interval ``diff_low``/``diff_high``, and ``verdict``:
        ``"below"`` (upper bound under 0), ``"not distinguishable"`` (the interval of the
        difference includes 0: the data cannot tell the two apart, which is not proof that
        they are equal) or ``"beats"`` (lower bound above 0). :func:`crossover` reads off the
        sizes.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.triage.models import fit_model
    >>> train, test = generate(600, seed=1), generate(300, seed=2)
    >>> curve = learning_curve(lambda d: fit_model("logistic", d), train, test, [200, 600],
    ...                        test["pathway"], n_boot=50)
    >>> curve["verdict"].tolist()
    ['below', 'below']
    """
    if max(sizes) > len(train):
        raise ValueError(f"largest size {max(sizes)} exceeds the {len(train)} training patients")
    truth = test["pathway"].astype(str).to_numpy()
    ref_right = predictions_of(reference, test) == truth
    rows = []
    for size in sizes:
        right = predictions_of(fit(train.iloc[:size]), test) == truth
        paired = compare_paired(
            truth,
            np.where(right, truth, "~"),
            np.where(ref_right, truth, "~"),
            n_boot=n_boot,
            seed=seed,
            level=level,
        )
        boot = bootstrap_mean(right.astype(float), n_boot, seed)
        lo, hi = percentile_interval(boot[:, None], level)
        d_lo, d_hi = float(paired["low"].iloc[0]), float(paired["high"].iloc[0])
        verdict = "beats" if d_lo > 0 else NOT_DISTINGUISHABLE if d_hi >= 0 else "below"
        rows.append(
            (
                int(size),
                right.mean(),
                lo[0],
                hi[0],
                float(paired["difference"].iloc[0]),
                d_lo,
                d_hi,
                verdict,
            )
        )
    columns = ["size", "accuracy", "low", "high", "difference", "diff_low", "diff_high", "verdict"]
    return pd.DataFrame(rows, columns=columns)


def crossover(curve: pd.DataFrame) -> dict[str, int | None]:
    """Smallest training size no longer below the reference, and smallest that beats it.

    ``"not_distinguishable"``: the first size whose paired interval reaches 0 or above (or
    that beats the reference); ``"beats"``: the first whose interval lies above 0. ``None``
    when no size qualifies.

    Parameters
    ----------
    curve
        :func:`learning_curve` (``size`` and ``verdict``).

    Returns
    -------
    dict
        ``not_distinguishable`` and ``beats``: a training size or ``None``.

    Examples
    --------
    >>> crossover(pd.DataFrame({"size": [10, 20, 40],
    ...                         "verdict": ["below", "not distinguishable", "beats"]}))
    {'not_distinguishable': 20, 'beats': 40}
    """

    def first(verdicts: tuple[str, ...]) -> int | None:
        hit = curve[curve["verdict"].isin(verdicts)]
        return int(hit["size"].iloc[0]) if len(hit) else None

    return {
        "not_distinguishable": first((NOT_DISTINGUISHABLE, "matches", "beats")),
        "beats": first(("beats",)),
    }


def _same_patients(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Whether two cohorts hold the same patients in the same order (so they can be paired)."""
    return (
        "patient_id" in a
        and "patient_id" in b
        and len(a) == len(b)
        and bool((a["patient_id"].to_numpy() == b["patient_id"].to_numpy()).all())
        and bool((a["pathway"].astype(str).to_numpy() == b["pathway"].astype(str).to_numpy()).all())
    )


def shift_table(
    methods: Mapping[str, Any],
    cohorts: Mapping[str, pd.DataFrame],
    *,
    reference: str | None = None,
    n_boot: int = 500,
    seed: int = 0,
    level: float = LEVEL,
) -> pd.DataFrame:
    """Accuracy of fitted methods on several test cohorts (e.g. another setting, more missing
    exam findings): ``cohort``, ``method``, ``accuracy``, ``low``, ``high``, ``n``.

    Parameters
    ----------
    methods : mapping of str to method
        Name -> a fitted method (with ``predict``).
    cohorts : mapping of str to pandas.DataFrame
        Name -> a test cohort, with its true ``pathway``.
    reference
        A key of ``cohorts`` (e.g. the in-setting test cohort). If given, each other cohort's
        row also has the change in accuracy from the reference for the same method,
        ``difference`` with ``diff_low``/``diff_high``, and ``paired``: ``True`` when the
        cohort holds the same patients as the reference (same ``patient_id`` in the same
        order, e.g. the same seed with more exam findings unrecorded), so the interval is a
        paired bootstrap of per-patient differences; ``False`` for different patients (another
        setting), whose interval combines two independent bootstraps and is wider. The
        reference's own rows have NaN there.
    n_boot : int, optional
        Bootstrap replicates of each interval.
    seed : int, optional
        Seed of the bootstrap.
    level : float, optional
        Coverage of the intervals.

    Returns
    -------
    pandas.DataFrame
        One row per cohort and method, the columns above.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.triage.oracle import BayesOracle
    >>> cohorts = {"same": generate(300, seed=2), "sparse": generate(300, seed=2,
    ...                                                             exam_missing_rate=0.9)}
    >>> t = shift_table({"oracle": BayesOracle().fit(cohorts["same"])}, cohorts, n_boot=20)
    >>> t["cohort"].tolist()
    ['same', 'sparse']
    >>> t = shift_table({"oracle": BayesOracle().fit(cohorts["same"])}, cohorts,
    ...                 reference="same", n_boot=20)
    >>> t["paired"].tolist()
    [None, True]
    """
    if reference is not None and reference not in cohorts:
        raise ValueError(f"reference cohort {reference!r} is not one of: {', '.join(cohorts)}")
    rows = []
    rights: dict[tuple[str, str], np.ndarray] = {}
    for cohort_name, patients in cohorts.items():
        truth = patients["pathway"].astype(str).to_numpy()
        for method_name, method in methods.items():
            right = predictions_of(method, patients) == truth
            rights[cohort_name, method_name] = right
            boot = bootstrap_mean(right.astype(float), n_boot, seed)
            lo, hi = percentile_interval(boot[:, None], level)
            rows.append((cohort_name, method_name, right.mean(), lo[0], hi[0], len(right), boot))
    table = pd.DataFrame(rows, columns=["cohort", "method", "accuracy", "low", "high", "n", "boot"])
    if reference is None:
        return table.drop(columns="boot")
    ref_boot = {r.method: r.boot for r in table[table["cohort"] == reference].itertuples()}
    index = {name: c for c, name in enumerate(cohorts)}
    diffs: list[tuple[float, float, float, bool | None]] = []
    for r in table.itertuples():
        if r.cohort == reference:
            diffs.append((np.nan, np.nan, np.nan, None))
            continue
        paired = _same_patients(cohorts[r.cohort], cohorts[reference])
        if paired:
            delta = rights[r.cohort, r.method].astype(float) - rights[reference, r.method]
            boot = bootstrap_mean(delta, n_boot, seed)
        else:
            # Different patients: the cohort is resampled on its own stream, independent of
            # the reference's replicates, and the difference of replicates is taken.
            stream = int(np.random.SeedSequence([seed, index[r.cohort]]).generate_state(1)[0])
            own = bootstrap_mean(rights[r.cohort, r.method].astype(float), n_boot, stream)
            boot = own - ref_boot[r.method]
        lo, hi = percentile_interval(boot[:, None], level)
        diffs.append(
            (
                r.accuracy
                - table.loc[
                    (table["cohort"] == reference) & (table["method"] == r.method), "accuracy"
                ].iloc[0],
                lo[0],
                hi[0],
                paired,
            )
        )
    extra = pd.DataFrame(diffs, columns=["difference", "diff_low", "diff_high", "paired"])
    extra["paired"] = extra["paired"].astype(object)
    return pd.concat([table.drop(columns="boot"), extra], axis=1)


def shift_setting(
    setting: str, requested: str | None = None, knowledge: Knowledge | None = None
) -> str | None:
    """The setting a shift analysis compares ``setting`` with: always a different one.

    ``requested`` is used when it differs from ``setting``; ``None`` picks the last of the
    other settings in the knowledge's order, so the choice is deterministic and follows
    ``--setting``. A request equal to ``setting`` returns ``None``: there is no shift
    to measure, and the caller says so instead of comparing a setting with itself.

    Parameters
    ----------
    setting
        The setting the methods were trained and tested in.
    requested
        The setting asked for (``TEST_SETTING``), or ``None`` for the default.
    knowledge
        Knowledge base (default: the packaged one).

    Returns
    -------
    str or None
        A setting different from ``setting``, or ``None`` when the request equals it.

    Examples
    --------
    >>> shift_setting("primary_care")
    'sports_clinic'
    >>> shift_setting("sports_clinic")
    'spine_clinic'
    >>> shift_setting("sports_clinic", "spine_clinic")
    'spine_clinic'
    >>> shift_setting("sports_clinic", "sports_clinic") is None
    True
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    names = list(kb.setting_names)
    kb.setting(setting)  # a clear error for an unknown setting
    if requested is not None:
        kb.setting(requested)
        return None if requested == setting else requested
    return [name for name in names if name != setting][-1]
