"""Published figures the generator must reproduce, checked on a cohort.

The targets are data (``knowledge/targets.toml``, each number with its source). Each statistic
is reported separately with its 95% interval — never averaged into one fidelity score that could
hide a miss. Each target says what its expected figure is (its *basis*):

- ``published``: a published figure that no input of the knowledge base was fitted to;
- ``calibrated``: a published figure that some inputs were fitted to (those numbers carry a
  ``calibrated`` note saying how), so meeting it shows the fit holds rather than independent
  agreement;
- ``input``: the knowledge base's own value echoed back, which is not a published figure and
  is shown in the table's ``input`` column, never in ``published``.

A target is *derived* when the model has to produce it (a mixture over conditions, severities
and settings) rather than echo one input of the knowledge base. A target may carry a
``known_gap``: a published figure the knowledge base is known not to reproduce, with the reason.
Known gaps stay in the table; :func:`check_targets` gives the reason beside a miss only (a
small cohort can meet a known gap by chance, and the status shown is always the one computed
on the cohort given), and the tests check on large cohorts that each flagged gap is still a
miss, so that a fixed gap cannot stay flagged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from outcomes.analysis.intervals import wilson_interval
from outcomes.knowledge import (
    Knowledge,
    KnowledgeError,
    Reader,
    file_reader,
    load_knowledge,
    provenance,
)

_STUDY = re.compile(r"study:[a-z0-9]+")
STATISTICS = (
    "sensitivity", "specificity", "share", "mean_age", "proportion", "auc", "interrater_kappa"
)  # fmt: skip
#: What an ``auc`` target's oracle may read: everything recorded, or the history alone (the
#: exam signs treated as not recorded).
AUC_RECORDS = ("history_and_exam", "history")
#: Where a target's expected figure comes from (see the module docstring).
BASES = ("published", "calibrated", "input")
#: What each statistic needs besides ``setting``: ``conditions`` names the condition(s) of
#: interest, ``finding`` a recorded yes/no finding, ``column`` any column of the table.
REQUIRED = {
    "sensitivity": ("conditions", "finding"),
    "specificity": ("conditions", "finding"),
    "share": ("conditions",),
    "mean_age": (),
    "proportion": ("column",),
    "auc": ("conditions",),
    "interrater_kappa": ("finding",),
}


@dataclass(frozen=True)
class Target:
    """One published figure: what to compute, on which patients, and the accepted range.

    ``population`` (conditions; empty = every patient of the setting) restricts the patients
    the statistic is computed on. ``conditions`` are the condition(s) of interest: those whose
    share is counted, whose patients are the positives of a sensitivity, or whose mean age is
    taken (empty = the whole population). A specificity is computed on ``against`` (default:
    the population's other conditions). A proportion is the share of the population whose
    ``column`` is true, or is one of ``values`` for a categorical column. ``most_severe``
    (sensitivity only) keeps, of the patients of ``conditions``, only that fraction with the
    highest latent severity: the patients a surgical series enrols. ``basis`` is one of
    :data:`BASES` and ``source`` the source of the expected figure.

    Parameters
    ----------
    name, label : str
        Key in ``targets.toml`` and a readable name.
    statistic : str
        What is computed (a proportion, sensitivity, specificity, mean age, ...).
    setting : str
        Care setting of the cohort checked.
    conditions : tuple of str
        The condition(s) of interest (see above).
    finding : str or None
        The finding whose sensitivity or specificity is computed.
    target, low, high : float
        The expected figure and its accepted range.
    population, against : tuple of str, default ()
        The conditions computed on, and the comparison conditions of a specificity.
    column : str, optional
        Column of a proportion.
    values : tuple of str, default ()
        Categories counted by a proportion of a categorical column.
    derived : bool, default False
        Whether the figure was derived from the publication rather than stated in it.
    known_gap : str, optional
        Why the knowledge base is known to miss the figure, if it does.
    basis : str, default "published"
        One of :data:`BASES`.
    source : str, default ""
        Source of the expected figure.
    records : str, default "history_and_exam"
        Which records the statistic reads.
    most_severe : float, optional
        Fraction (0, 1] of the most severe patients of ``conditions`` a sensitivity is
        computed on (default: all of them).

    Examples
    --------
    >>> t = Target("women", "Women", "proportion", "primary_care", (), None, 0.5, 0.4, 0.6,
    ...            column="sex", values=("female",))
    >>> t.basis
    'published'
    """

    name: str
    label: str
    statistic: str
    setting: str
    conditions: tuple[str, ...]
    finding: str | None
    target: float
    low: float
    high: float
    population: tuple[str, ...] = ()
    against: tuple[str, ...] = ()
    column: str | None = None
    values: tuple[str, ...] = ()
    derived: bool = False
    known_gap: str | None = None
    basis: str = "published"
    source: str = ""
    records: str = "history_and_exam"
    most_severe: float | None = None


def _names(reader: Reader, node: dict, key: str, field: str, allowed: tuple[str, ...]) -> tuple:
    """A condition or category name, or a list of them, checked against ``allowed``."""
    value = node.get(field, [])
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise reader.fail(f"{key}.{field}", f"must be a name or a list of names, got {value!r}")
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise reader.fail(
            f"{key}.{field}", f"{unknown[0]!r} is unknown; choose from: {', '.join(allowed)}"
        )
    return tuple(names)


def load_targets(knowledge: Knowledge | None = None) -> tuple[Target, ...]:
    """Read and validate ``targets.toml`` against the knowledge base.

    Parameters
    ----------
    knowledge : Knowledge, optional
        Knowledge base (default: the packaged one).

    Returns
    -------
    tuple of Target
        In the file's order.

    Raises
    ------
    KnowledgeError
        Naming the file, the target and the bad value.

    Examples
    --------
    >>> targets = {t.name: t for t in load_targets()}
    >>> surgical = targets["slr_sensitivity"]
    >>> surgical.conditions, surgical.derived, surgical.most_severe
    (('disc_herniation',), True, 0.1)
    """
    from outcomes.engine.cohort import patient_columns

    kb = knowledge if knowledge is not None else load_knowledge()
    reader = file_reader(kb, "targets.toml")
    columns = {c.name: c for c in patient_columns(kb)}
    sourced = provenance(kb.directory)
    calibrated_studies = set(sourced.loc[sourced["calibrated"] != "", "source"])
    targets = []
    for name, node in reader.data.items():
        node = reader.table(node, name)
        statistic = reader.text(node, name, "statistic")
        if statistic not in STATISTICS:
            raise reader.fail(f"{name}.statistic", f"{statistic!r} is not one of {STATISTICS}")
        missing = [field for field in REQUIRED[statistic] if field not in node]
        if missing:
            raise reader.fail(f"{name}.{missing[0]}", f"is needed by a {statistic} target")
        setting = reader.text(node, name, "setting")
        kb.setting(setting)
        conditions = _names(reader, node, name, "conditions", kb.condition_names)
        population = _names(reader, node, name, "population", kb.condition_names)
        against = _names(reader, node, name, "against", kb.condition_names)
        finding = node.get("finding")
        if finding is not None and finding not in kb.finding_names:
            raise reader.fail(f"{name}.finding", f"{finding!r} is not a finding")
        column = node.get("column")
        if column is not None and column not in columns:
            raise reader.fail(f"{name}.column", f"{column!r} is not a column of the patients table")
        values = ()
        if column is not None:
            categories = columns[column].categories
            values = _names(reader, node, name, "values", categories or ())
            if (categories is None) != (not values):
                raise reader.fail(
                    f"{name}.values", "lists the categories counted, for a categorical column only"
                )
        derived = node.get("derived")
        if not isinstance(derived, bool):
            raise reader.fail(f"{name}.derived", f"must be true or false, got {derived!r}")
        basis = node.get("basis")
        if basis not in BASES:
            raise reader.fail(f"{name}.basis", f"must be one of {', '.join(BASES)}, got {basis!r}")
        gap = node.get("known_gap")
        if gap is not None and (not isinstance(gap, str) or not gap.strip()):
            raise reader.fail(f"{name}.known_gap", f"must be a sentence saying why, got {gap!r}")
        records = node.get("records", "history_and_exam")
        if records not in AUC_RECORDS or (statistic != "auc" and "records" in node):
            raise reader.fail(
                f"{name}.records",
                f"is for auc targets only and one of {', '.join(AUC_RECORDS)}, got {records!r}",
            )
        most_severe = None
        if "most_severe" in node:
            if statistic != "sensitivity":
                raise reader.fail(f"{name}.most_severe", "is for sensitivity targets only")
            most_severe = reader.number(
                node, name, "most_severe", low=0, high=1, what="a fraction of the patients"
            )
            if most_severe == 0:
                raise reader.fail(f"{name}.most_severe", "must be above 0")
        bound = 120.0 if statistic == "mean_age" else 1.0
        value, low, high = (
            reader.number(node, name, k, low=0, high=bound) for k in ("target", "low", "high")
        )
        if not low <= value <= high:
            raise KnowledgeError(
                f"targets.toml: [{name}] target {value} is outside [{low}, {high}]"
            )
        source = node["target"]["source"]
        check_basis(reader, name, basis, derived, source, calibrated_studies)
        targets.append(
            Target(
                name=name,
                label=reader.text(node, name, "label"),
                statistic=statistic,
                setting=setting,
                conditions=conditions,
                finding=finding,
                target=value,
                low=low,
                high=high,
                population=population,
                against=against,
                column=column,
                values=values,
                derived=derived,
                known_gap=gap,
                basis=basis,
                source=source,
                records=records,
                most_severe=most_severe,
            )
        )
    return tuple(targets)


def check_basis(
    reader: Reader, name: str, basis: str, derived: bool, source: str, calibrated: set[str]
) -> None:
    """A target's basis agrees with its source and with the knowledge base's calibrations.

    Used by every file of targets (``targets.toml``, ``recovery_targets.toml``): an input
    echoed back is not derived; a published or calibrated figure cites a study; a calibrated
    one cites a study that some number of the knowledge base is calibrated to.

    Parameters
    ----------
    reader
        The reader of the targets file (for the error message).
    name, basis, derived, source
        The target's name, basis, derived flag and the source of its expected figure.
    calibrated
        Sources of the knowledge base's calibrated numbers.

    Examples
    --------
    >>> from outcomes.knowledge import KNOWLEDGE_DIR, Reader, References
    >>> refs = References(KNOWLEDGE_DIR / "references.toml")
    >>> r = Reader(KNOWLEDGE_DIR / "targets.toml", refs, {})
    >>> check_basis(r, "x", "published", True, "study:capra2011", set()) is None
    True
    """
    if basis == "input":
        if derived:
            raise reader.fail(
                f"{name}.basis", "an input echoed back cannot be derived; set derived = false"
            )
        return
    studies = [s for s in _STUDY.findall(source)]
    if not studies:
        raise reader.fail(
            f"{name}.basis",
            f"is {basis!r}, so the target's source must name a study, not {source!r} "
            '(use basis = "input" for the knowledge base\'s own value)',
        )
    if basis == "calibrated" and not calibrated.intersection(studies):
        raise reader.fail(
            f"{name}.basis",
            f"is 'calibrated', but no number of the knowledge base is calibrated to {studies[0]}",
        )


def interrater_kappa(
    recorded_rate: float | np.ndarray, false_positive: float, false_negative: float
) -> float | np.ndarray:
    """Cohen's kappa of two examiners who record a finding independently with these errors.

    Among patients in whom the finding is recorded present at ``recorded_rate``, the true
    prevalence is ``(rate - fp) / (1 - fp - fn)``; each examiner records a true finding
    present with probability ``1 - fn`` and an absent one with ``fp``, independently, so
    they agree with probability ``p_o`` against ``p_e = rate^2 + (1 - rate)^2`` by chance.

    Parameters
    ----------
    recorded_rate : float or numpy.ndarray
        Share of patients in whom the finding is recorded present.
    false_positive, false_negative : float
        Each examiner's probability of recording an absent finding present, and a present one
        absent.

    Returns
    -------
    float or numpy.ndarray
        Kappa, shaped like ``recorded_rate``.

    Examples
    --------
    >>> round(float(interrater_kappa(0.5, 0.1, 0.1)), 4)  # (1 - 2 x 0.1)^2
    0.64
    >>> float(interrater_kappa(0.3, 0.0, 0.0))
    1.0
    """
    rate = np.asarray(recorded_rate, dtype=float)
    scale = 1.0 - false_positive - false_negative
    truth = np.clip((rate - false_positive) / scale, 0.0, 1.0)
    agree = truth * ((1 - false_negative) ** 2 + false_negative**2) + (1 - truth) * (
        false_positive**2 + (1 - false_positive) ** 2
    )
    chance = rate**2 + (1 - rate) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = np.where(chance < 1, (agree - chance) / (1 - chance), np.nan)
    return float(kappa) if kappa.ndim == 0 else kappa


def auc_ci(scores: np.ndarray, positive: np.ndarray) -> tuple[float, float, float]:
    """Area under the ROC curve with a 95% interval (Hanley and McNeil's standard error).

    Parameters
    ----------
    scores : numpy.ndarray
        A score per patient, higher for the positives.
    positive : numpy.ndarray
        Whether each patient is a positive.

    Returns
    -------
    tuple of float
        ``(auc, low, high)``; NaN for all three without both positives and negatives.

    Examples
    --------
    >>> auc_ci(np.array([0.1, 0.4, 0.35, 0.8]), np.array([False, False, True, True]))[0]
    0.75
    """
    from sklearn.metrics import roc_auc_score

    positive = np.asarray(positive, dtype=bool)
    n1, n0 = int(positive.sum()), int((~positive).sum())
    if n1 == 0 or n0 == 0:
        return (np.nan, np.nan, np.nan)
    a = float(roc_auc_score(positive, scores))
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    se = np.sqrt((a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n0 - 1) * (q2 - a * a)) / (n1 * n0))
    return (a, max(0.0, a - 1.959964 * se), min(1.0, a + 1.959964 * se))


def oracle_score(
    cohort: pd.DataFrame,
    records: pd.DataFrame,
    conditions: tuple[str, ...] | list[str],
    *,
    setting: str | None = None,
    knowledge: Knowledge | None = None,
) -> np.ndarray:
    """The Bayes oracle's posterior probability that each record has one of ``conditions``.

    Parameters
    ----------
    cohort : pandas.DataFrame
        The cohort the oracle is fitted on (it reads the overrides the cohort records).
    records : pandas.DataFrame
        The records scored (rows of ``cohort``, or copies with signs left unrecorded).
    conditions : sequence of str
        The conditions whose probabilities are summed.
    setting : str, optional
        Care setting whose case mix is the prior (default: each record's own ``setting``).
    knowledge : Knowledge, optional
        Knowledge base (default: the packaged one).

    Returns
    -------
    numpy.ndarray
        One probability per record.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> cohort = generate(200, seed=1)
    >>> score = oracle_score(cohort, cohort, ["disc_herniation", "spinal_stenosis"])
    >>> score.shape, bool(((score >= 0) & (score <= 1)).all())
    ((200,), True)
    """
    from outcomes.triage.oracle import BayesOracle

    oracle = BayesOracle(setting=setting, knowledge=knowledge).fit(cohort)
    return oracle.condition_proba(records)[list(conditions)].sum(axis=1).to_numpy()


def _oracle_auc(df: pd.DataFrame, t: Target, rows: np.ndarray, of_interest: np.ndarray, kb):
    records = df.loc[rows]
    if t.records == "history":
        records = records.copy()
        for f in kb.findings:
            if f.kind == "exam":
                records[f.name] = pd.array([pd.NA] * len(records), dtype="boolean")
    score = oracle_score(df, records, t.conditions, setting=t.setting, knowledge=kb)
    return (*auc_ci(score, of_interest[rows]), int(rows.sum()))


def _most_severe(df: pd.DataFrame, rows: np.ndarray, fraction: float) -> np.ndarray:
    """Mask of the ``fraction`` of ``rows`` with the highest latent severity (ties kept)."""
    severity = df["latent_severity"].to_numpy(dtype=float)
    if not rows.any():
        return rows
    threshold = np.quantile(severity[rows], 1.0 - fraction)
    return rows & (severity >= threshold)


def _statistic(
    df: pd.DataFrame, t: Target, kb: Knowledge | None = None
) -> tuple[float, float, float, int]:
    condition = df["condition"].astype(str).to_numpy()
    in_population = np.isin(condition, t.population) if t.population else np.ones(len(df), bool)
    of_interest = np.isin(condition, t.conditions) if t.conditions else in_population
    if t.most_severe is not None:
        of_interest = of_interest & _most_severe(df, of_interest & in_population, t.most_severe)
    kb = kb if kb is not None else load_knowledge()
    if t.statistic == "auc":
        return _oracle_auc(df, t, in_population, of_interest, kb)
    if t.statistic == "interrater_kappa":
        finding = next(f for f in kb.findings if f.name == t.finding)
        values = df.loc[in_population, t.finding].astype("float64").to_numpy()
        values = values[~np.isnan(values)]
        k, n = int((values == 1.0).sum()), int(values.size)
        if n == 0:
            return (np.nan, np.nan, np.nan, 0)
        low, high = wilson_interval(k, n)
        grid = np.linspace(low, high, 201)
        kappas = interrater_kappa(grid, finding.false_positive, finding.false_negative)
        est = interrater_kappa(k / n, finding.false_positive, finding.false_negative)
        # A scalar rate gives a float (interrater_kappa); float() says so to the type checker.
        return (float(est), float(np.nanmin(kappas)), float(np.nanmax(kappas)), n)
    if t.statistic == "share":
        k, n = int((of_interest & in_population).sum()), int(in_population.sum())
        return (k / n if n else np.nan, *wilson_interval(k, n), n)
    if t.statistic == "mean_age":
        ages = df.loc[of_interest & in_population, "age"].to_numpy(dtype=float)
        if ages.size < 2:
            return (np.nan, np.nan, np.nan, int(ages.size))
        half = 1.959964 * ages.std(ddof=1) / np.sqrt(ages.size)
        return (ages.mean(), ages.mean() - half, ages.mean() + half, int(ages.size))
    if t.statistic == "proportion":
        values = df[t.column]
        if t.values:
            hit = values.isin(t.values).to_numpy() & values.notna().to_numpy()
            recorded = values.notna().to_numpy()
        else:
            numeric = values.astype("float64").to_numpy()
            recorded, hit = ~np.isnan(numeric), numeric == 1.0
        rows = in_population & recorded
        k, n = int((hit & rows).sum()), int(rows.sum())
        return (k / n if n else np.nan, *wilson_interval(k, n), n)
    values = df[t.finding].astype("float64").to_numpy()
    if t.statistic == "sensitivity":
        rows, wanted = of_interest & in_population, 1.0
    else:
        others = np.isin(condition, t.against) if t.against else ~of_interest
        rows, wanted = others & in_population, 0.0
    recorded = values[rows & ~np.isnan(values)]
    hits = int((recorded == wanted).sum())
    n = int(recorded.size)
    return (hits / n if n else np.nan, *wilson_interval(hits, n), n)


#: Columns of a table of target checks (:func:`check_targets`, and the recovery targets' of
#: :func:`outcomes.analysis.natural_history.check_recovery_targets`).
CHECK_COLUMNS = (
    "target", "label", "setting", "basis", "published", "input", "low", "high", "observed",
    "ci_low", "ci_high", "n", "met", "derived", "known_gap", "gap_flagged",
)  # fmt: skip


def check_table(rows: list[tuple]) -> pd.DataFrame:
    """Rows of target checks (in :data:`CHECK_COLUMNS` order) as one table, ``met`` nullable.

    Parameters
    ----------
    rows
        One tuple per target.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> row = ("t", "T", "primary_care", "published", 0.5, float("nan"), 0.4, 0.6, 0.55, 0.5,
    ...        0.6, 100, True, True, "", False)
    >>> check_table([row])["met"].dtype
    BooleanDtype
    """
    return pd.DataFrame(rows, columns=list(CHECK_COLUMNS)).astype({"met": "boolean"})


def check_targets(
    cohorts: dict[str, pd.DataFrame], knowledge: Knowledge | None = None
) -> pd.DataFrame:
    """Compare cohorts with the published targets, one row per target.

    Parameters
    ----------
    cohorts
        Setting name -> cohort generated in that setting. Targets for settings not given are
        reported with ``met`` = NA.
    knowledge
        Knowledge base (default: the packaged one).

    Returns
    -------
    pandas.DataFrame
        ``target, label, setting, basis, published, input, low, high, observed, ci_low,
        ci_high, n, met, derived, known_gap, gap_flagged``. The expected figure is in
        ``published`` for a published or calibrated target and in ``input`` for one that
        echoes the knowledge base's own value (the other column is NaN). A target is met when
        the observed 95% interval overlaps the accepted range ``[low, high]``, on the cohort
        given. ``gap_flagged`` says whether the knowledge base is known to miss the figure;
        ``known_gap`` gives the reason only where this cohort misses it (or could not be
        checked), so the table never shows a met figure as a gap.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> table = check_targets({"primary_care": generate(5000, seed=1, setting="primary_care")})
    >>> row = table.set_index("target").loc["disc_age"]
    >>> row["basis"], bool(pd.isna(row["published"])), float(row["input"]), bool(row["met"])
    ('input', True, 48.3, True)
    """
    rows = []
    kb = knowledge if knowledge is not None else load_knowledge()
    for t in load_targets(kb):
        df = cohorts.get(t.setting)
        observed = (np.nan, np.nan, np.nan, 0) if df is None else _statistic(df, t, kb)
        est, lo, hi, n = observed
        met = pd.NA if df is None or n == 0 else bool(hi >= t.low and lo <= t.high)
        published, given = (np.nan, t.target) if t.basis == "input" else (t.target, np.nan)
        reason = t.known_gap if t.known_gap and met is not True else ""
        rows.append(
            (t.name, t.label, t.setting, t.basis, published, given, t.low, t.high, est, lo, hi,
             n, met, t.derived, reason, t.known_gap is not None)
        )  # fmt: skip
    return check_table(rows)
