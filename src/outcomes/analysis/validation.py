"""Every published figure the suite is checked against, in one tidy table.

:func:`validate` gathers three kinds of figure and reports each in the same columns:

- the **patient-table targets** of ``targets.toml`` (diagnostic accuracy, case mix), checked
  by :func:`outcomes.analysis.targets.check_targets` on one generated cohort per care setting they
  name;
- the **recovery targets** of ``recovery_targets.toml`` (natural history, surgery, relapse,
  lasting harm), checked by :func:`outcomes.analysis.natural_history.check_recovery_targets`;
- the **in-silico trials** of ``trials.toml``: each trial is replayed many times at its
  published size (:func:`outcomes.analysis.trial.simulate_trials`) and each figure of
  :func:`outcomes.analysis.trial.trial_summary` becomes a row.

Each row's ``group`` is derived from what the figure measures (:data:`STATISTIC_GROUPS`: a
target's ``statistic``; every figure of a replayed trial is in the ``trial`` group), so a new
statistic must be given a group here before it can be validated. Each row keeps its own
``basis`` (``published``: held out, never fitted; ``calibrated``: inputs were fitted to it;
``input``: the knowledge base's own value echoed back), so the groups can be shown apart.

A row is **met** by one of two rules (column ``rule``):

- ``overlap`` (targets): the synthetic 95% interval (``ci_low``–``ci_high``) overlaps the
  accepted range ``low``–``high``;
- ``within`` (trial figures): the published figure lies within the central 95% of the
  simulated trials (``ci_low``–``ci_high`` are their 2.5th and 97.5th percentiles,
  ``observed`` their median). ``low``–``high`` is the published 95% interval where the trial
  gives one.

``met`` is missing (NA) when a figure could not be checked (no patient of the cohort was
counted). :func:`validation_passed` is True only when every row that is not a documented
known gap (``gap_flagged``) is met; a row that could not be checked does not pass. Sentences
about the table live in :mod:`outcomes.captions.validation`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from outcomes.analysis.natural_history import check_recovery_targets, load_recovery_targets
from outcomes.analysis.targets import check_targets, load_targets
from outcomes.analysis.trial import Trial, load_trials, simulate_trials, trial_pool, trial_summary
from outcomes.engine.cohort import generate
from outcomes.engine.recovery import RecoveryParams
from outcomes.knowledge import Knowledge, load_knowledge

#: Groups in report order.
GROUPS = ("diagnosis", "case mix", "natural history", "surgery", "relapse", "harm", "trial")
#: The group of each target statistic (``targets.toml`` and ``recovery_targets.toml``).
STATISTIC_GROUPS: Mapping[str, str] = {
    "sensitivity": "diagnosis",
    "specificity": "diagnosis",
    "auc": "diagnosis",
    "interrater_kappa": "diagnosis",
    "share": "case mix",
    "mean_age": "case mix",
    "proportion": "case mix",
    "class_share": "natural history",
    "improved_at": "natural history",
    "recovered_by": "natural history",
    "surgery_share": "surgery",
    "relapse_within": "relapse",
    "deficit_share": "harm",
}
#: Group of every figure of a replayed trial.
TRIAL_GROUP = "trial"
#: How a row is judged met (see the module docstring).
RULES = ("overlap", "within")
#: Columns of :func:`validate`, in order.
COLUMNS = (
    "group", "target", "label", "setting", "basis", "rule", "published", "input", "low",
    "high", "observed", "ci_low", "ci_high", "n", "met", "derived", "gap_flagged", "known_gap",
)  # fmt: skip
#: Labels of a trial's figures (``{experimental}``/``{control}``: the arms' labels).
TRIAL_FIGURES: Mapping[str, str] = {
    "hazard_ratio": "hazard ratio, {experimental} vs {control}",
    "control_surgery_share": "share of the {control} arm operated on",
    "control_mean_surgery_week": "mean week of operation in the {control} arm",
    "recovered_at_one_year": "share of the {control} arm recovered by the end of follow-up",
}
#: Patients generated for each trial's eligible pool (:func:`outcomes.analysis.trial.trial_pool`).
DEFAULT_POOL = 40_000


def group_of(statistic: str) -> str:
    """The group of a target statistic (:data:`STATISTIC_GROUPS`).

    Parameters
    ----------
    statistic
        A ``statistic`` of ``targets.toml`` or ``recovery_targets.toml``.

    Returns
    -------
    str
        One of :data:`GROUPS`.

    Raises
    ------
    ValueError
        For a statistic without a group.

    Examples
    --------
    >>> group_of("specificity"), group_of("deficit_share")
    ('diagnosis', 'harm')
    """
    try:
        return STATISTIC_GROUPS[statistic]
    except KeyError:
        raise ValueError(
            f"target statistic {statistic!r} has no validation group; add it to "
            "outcomes.analysis.validation.STATISTIC_GROUPS"
        ) from None


def _positive(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")
    return int(value)


def trial_rows(t: Trial, replicates: pd.DataFrame) -> pd.DataFrame:
    """The figures of one replayed trial as rows of the validation table.

    Parameters
    ----------
    t
        The trial.
    replicates
        From :func:`outcomes.analysis.trial.simulate_trials` (one row per simulated trial).

    Returns
    -------
    pandas.DataFrame
        :data:`COLUMNS`; ``target`` is ``"<trial>.<figure>"``, ``rule`` is ``within``,
        ``observed`` the median of the simulated trials and ``ci_low``/``ci_high`` their
        central 95%; ``n`` is the trial's published size.

    Examples
    --------
    >>> t = load_trials()[0]
    >>> fake = pd.DataFrame({"hazard_ratio": [1.5, 2.0, 2.5], "control_surgery_share": 0.4,
    ...                      "control_mean_surgery_week": 18.0, "control_outcome_share": 0.95})
    >>> rows = trial_rows(t, fake).set_index("target")
    >>> bool(rows.loc["peul2007.hazard_ratio", "met"]), rows.loc["peul2007.hazard_ratio", "group"]
    (True, 'trial')
    """
    summary = trial_summary(t, replicates)
    names = {"experimental": t.experimental.label, "control": t.control.label}
    rows = []
    for figure, r in summary.iterrows():
        template = TRIAL_FIGURES.get(str(figure), str(figure).replace("_", " "))
        computed = not pd.isna(r["median"])
        rows.append({
            "group": TRIAL_GROUP, "target": f"{t.name}.{figure}",
            "label": f"Trial {t.name}: {template.format(**names)}", "setting": t.setting,
            "basis": r["basis"], "rule": "within", "published": float(r["published"]),
            "input": np.nan, "low": float(r["low"]), "high": float(r["high"]),
            "observed": float(r["median"]), "ci_low": float(r["p2_5"]),
            "ci_high": float(r["p97_5"]), "n": int(t.size),
            "met": bool(r["within"]) if computed else pd.NA, "derived": True,
            "gap_flagged": False, "known_gap": "",
        })  # fmt: skip
    return _typed(pd.DataFrame(rows, columns=list(COLUMNS)))


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    return table.astype({
        "met": "boolean", "derived": bool, "gap_flagged": bool, "n": "int64",
        **{c: "float64" for c in ("published", "input", "low", "high", "observed", "ci_low",
                                  "ci_high")},
    })  # fmt: skip


def _target_rows(checked: pd.DataFrame, statistics: Mapping[str, str]) -> pd.DataFrame:
    table = checked.copy()
    table.insert(0, "group", [group_of(statistics[name]) for name in table["target"]])
    table.insert(list(table.columns).index("published"), "rule", "overlap")
    return table[list(COLUMNS)]


def validate(
    n: int = 20_000,
    seed: int = 0,
    n_trials: int = 200,
    *,
    pool: int = DEFAULT_POOL,
    params: RecoveryParams | None = None,
    knowledge: Knowledge | None = None,
    replicates: Mapping[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Check every published figure: targets, recovery targets and replayed trials.

    Parameters
    ----------
    n
        Patients generated per care setting for the targets (one cohort per setting the
        targets name, seeded with ``seed``).
    seed
        Seed of the cohorts, the policies, the recovery draws and the simulated trials.
    n_trials
        Simulated trials per trial of ``trials.toml``.
    pool
        Patients generated for each trial's pool (the eligible ones are kept).
    params
        Recovery parameters (default: :func:`outcomes.engine.recovery.load_recovery`).
    knowledge
        The knowledge base (default: the packaged one).
    replicates
        Trial name -> simulated trials already made (:func:`simulate_trial_replicates`), so
        that a caller who also plots them simulates them once; default: simulated here.

    Returns
    -------
    pandas.DataFrame
        One row per figure, columns :data:`COLUMNS` (see the module docstring), ordered by
        :data:`GROUPS` and, within a group, as in the knowledge files.

    Raises
    ------
    ValueError
        When ``n``, ``n_trials`` or ``pool`` is not a whole number >= 1 or ``seed`` < 0.

    Examples
    --------
    >>> table = validate(n=1000, n_trials=3, pool=3000)
    >>> list(dict.fromkeys(table["group"])) == list(GROUPS)
    True
    >>> sorted(set(table["basis"]))
    ['calibrated', 'input', 'published']
    """
    n = _positive("n", n, 1)
    n_trials = _positive("n_trials", n_trials, 1)
    pool = _positive("pool", pool, 1)
    seed = _positive("seed", seed, 0)
    kb = knowledge if knowledge is not None else load_knowledge()
    targets = load_targets(kb)
    cohorts = {
        s: generate(n, seed=seed, setting=s, knowledge=kb)
        for s in dict.fromkeys(t.setting for t in targets)
    }
    parts = [_target_rows(check_targets(cohorts, kb), {t.name: t.statistic for t in targets})]
    recovery = load_recovery_targets(kb)
    checked = check_recovery_targets(n, seed, params=params, knowledge=kb)
    parts.append(_target_rows(checked, {t.name: t.statistic for t in recovery}))
    if replicates is None:
        replicates = simulate_trial_replicates(n_trials, seed, pool=pool, params=params,
                                               knowledge=kb)  # fmt: skip
    for t in load_trials(kb):
        if t.name not in replicates:
            raise ValueError(f"replicates: no simulated trials of {t.name!r}")
        parts.append(trial_rows(t, replicates[t.name]))
    table = _typed(pd.concat([_typed(p) for p in parts], ignore_index=True))
    order = table["group"].map({g: i for i, g in enumerate(GROUPS)})
    return table.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)


def simulate_trial_replicates(
    n_trials: int = 200,
    seed: int = 0,
    *,
    pool: int = DEFAULT_POOL,
    params: RecoveryParams | None = None,
    knowledge: Knowledge | None = None,
) -> dict[str, pd.DataFrame]:
    """Replay every trial of ``trials.toml`` ``n_trials`` times at its published size.

    Parameters
    ----------
    n_trials, seed, pool, params, knowledge
        As :func:`validate`.

    Returns
    -------
    dict
        Trial name -> :func:`outcomes.analysis.trial.simulate_trials` table.

    Examples
    --------
    >>> reps = simulate_trial_replicates(2, pool=3000)
    >>> sorted(reps), len(reps["peul2007"])
    (['peul2007'], 2)
    """
    n_trials = _positive("n_trials", n_trials, 1)
    pool = _positive("pool", pool, 1)
    return {
        t.name: simulate_trials(
            trial_pool(t, pool=pool, seed=seed, params=params, knowledge=knowledge), n_trials, seed
        )
        for t in load_trials(knowledge)
    }


def source_kinds(ranges: pd.DataFrame) -> pd.Series:
    """How many numbers of a table cite a study, a seed text, or are assumptions.

    Parameters
    ----------
    ranges
        A table with a ``source`` column, e.g.
        :func:`outcomes.analysis.sensitivity.parameter_ranges` (every number the probabilistic
        sensitivity analysis draws).

    Returns
    -------
    pandas.Series
        Counts indexed ``study``, ``seed``, ``assumption`` (a source citing several kinds
        counts as the first of these it names; an assumption informed by a study is an
        assumption).

    Examples
    --------
    >>> t = pd.DataFrame({"source": ["study:x", "assumption: why (study:y)", "seed:001 §A"]})
    >>> source_kinds(t).to_dict()
    {'study': 1, 'seed': 1, 'assumption': 1}
    """
    text = ranges["source"].astype(str).str.strip()
    kind = np.where(text.str.startswith("assumption"), "assumption",
                    np.where(text.str.startswith("seed:"), "seed", "study"))  # fmt: skip
    return pd.Series(kind).value_counts().reindex(["study", "seed", "assumption"], fill_value=0)


def validation_passed(table: pd.DataFrame) -> bool:
    """Whether every figure that is not a documented known gap is met.

    A figure that could not be checked (``met`` missing) is not met.

    Parameters
    ----------
    table
        From :func:`validate`.

    Returns
    -------
    bool

    Examples
    --------
    >>> t = pd.DataFrame({"met": pd.array([True, False], dtype="boolean"),
    ...                   "gap_flagged": [False, True]})
    >>> validation_passed(t)
    True
    >>> validation_passed(t.assign(gap_flagged=False))
    False
    """
    checked = table.loc[~table["gap_flagged"].astype(bool), "met"].astype("boolean")
    return bool(checked.fillna(False).all())


def misses(table: pd.DataFrame) -> pd.DataFrame:
    """The rows not met (or not checked), each with the direction of the miss.

    Parameters
    ----------
    table
        From :func:`validate`.

    Returns
    -------
    pandas.DataFrame
        The rows of ``table`` whose ``met`` is not True, with a column ``direction``:
        ``"higher"`` or ``"lower"`` when the synthetic figure lies above or below the
        published one, ``"unchecked"`` when it could not be computed.

    Examples
    --------
    >>> t = pd.DataFrame({"met": pd.array([True, False], dtype="boolean"),
    ...                   "published": [0.5, 0.2], "input": [float("nan")] * 2,
    ...                   "observed": [0.5, 0.6]})
    >>> misses(t)["direction"].tolist()
    ['higher']
    """
    rows = table[~table["met"].astype("boolean").fillna(False).to_numpy(dtype=bool)].copy()
    expected = rows["published"].fillna(rows["input"])
    rows["direction"] = np.where(
        rows["observed"].isna(), "unchecked",
        np.where(rows["observed"] > expected, "higher", "lower"),
    )  # fmt: skip
    return rows


def tornado_policy(
    headline: pd.DataFrame, exclude: tuple[str, ...] = ("perfect",), metric: str = "weeks_saved"
) -> str:
    """The policy with the largest ``metric`` estimate, leaving out ``exclude``.

    Parameters
    ----------
    headline
        From :func:`outcomes.analysis.sensitivity.headline` (index policy, metric).
    exclude
        Policies not considered (default: perfect triage, which no service can run).
    metric
        The headline metric compared.

    Returns
    -------
    str

    Examples
    --------
    >>> h = pd.DataFrame({"policy": ["rules", "oracle", "perfect"], "metric": "weeks_saved",
    ...                   "estimate": [0.0, 50.0, 80.0]}).set_index(["policy", "metric"])
    >>> tornado_policy(h)
    'oracle'
    """
    values = headline.xs(metric, level="metric")["estimate"]
    values = values[[p not in exclude for p in values.index]]
    if values.empty:
        raise ValueError(f"no policy is left once {', '.join(exclude)} are left out")
    return str(values.idxmax())
