"""Descriptive tables of a cohort: Table 1, finding prevalence, case mix.

The computations behind the figures of notebook 01 live here (tested); ``plots.py`` only draws.
A condition with no patients in a cohort keeps its row, marked "no patients", rather than
disappearing or crashing a table.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

from outcomes.infra.summary import Summary
from outcomes.knowledge import Knowledge, load_knowledge

NO_PATIENTS = "no patients"


def _format_mean_sd(values: pd.Series) -> str:
    if values.empty:
        return NO_PATIENTS
    return f"{values.mean():.1f} ({values.std(ddof=1) if len(values) > 1 else 0.0:.1f})"


def _format_percent(flags: pd.Series) -> str:
    if flags.empty:
        return NO_PATIENTS
    return f"{100 * flags.mean():.1f}%"


def table_one(df: pd.DataFrame, knowledge: Knowledge | None = None) -> pd.DataFrame:
    """Table 1: demographics and baseline scores by true condition, formatted for reading.

    Columns are the conditions (in knowledge-base order) plus "All"; a condition that drew no
    patients shows "no patients".

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> t = table_one(generate(500, seed=1))
    >>> t.loc["Patients, n", "All"]
    '500'
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    groups = [(kb.condition(c).label, df[df["condition"] == c]) for c in kb.condition_names]
    groups.append(("All", df))
    rows = {
        "Patients, n": lambda g: f"{len(g)}",
        "Age, years: mean (SD)": lambda g: _format_mean_sd(g["age"]),
        "Female": lambda g: _format_percent(g["sex"] == "female"),
        "Runner or cyclist": lambda g: _format_percent(g["occupation"].isin(["runner", "cyclist"])),
        "Desk-based": lambda g: _format_percent(g["occupation"] == "desk_based"),
        "Sudden onset": lambda g: _format_percent(g["onset"] == "sudden"),
        "Chronic (> 12 weeks)": lambda g: _format_percent(g["chronic"]),
        "Both sides": lambda g: _format_percent(g["side"] == "both"),
        "Pain NRS 0-10: mean (SD)": lambda g: _format_mean_sd(g["pain_nrs"]),
        "ODI 0-100: mean (SD)": lambda g: _format_mean_sd(g["odi"]),
    }
    table = pd.DataFrame(
        {label: [fmt(g) for fmt in rows.values()] for label, g in groups}, index=list(rows)
    )
    table.columns.name = "condition"
    return table


def finding_prevalence(df: pd.DataFrame, knowledge: Knowledge | None = None) -> pd.DataFrame:
    """Share of patients with each finding, by condition, among those where it was recorded.

    Rows are findings (knowledge-base order), columns conditions; a condition with no patients
    (or a finding never recorded for it) gives NaN.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> p = finding_prevalence(generate(2000, seed=1))
    >>> bool(p.loc["exam_fair_test", "piriformis_syndrome"] > p.loc["exam_fair_test",
    ...                                                         "disc_herniation"])
    True
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    findings = list(kb.finding_names)
    values = df[findings].astype("float64")
    means = values.groupby(df["condition"].astype(str)).mean()
    return means.reindex(index=list(kb.condition_names)).T.reindex(findings)


def case_mix(knowledge: Knowledge | None = None, df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Case mix per setting: the knowledge base's, and the cohort's observed share if given.

    Returns a long table with columns ``setting``, ``condition``, ``expected`` and (when ``df``
    is given) ``observed`` — the share in ``df`` for the settings it contains, NaN elsewhere.

    Examples
    --------
    >>> mix = case_mix()
    >>> bool(np.isclose(mix.groupby("setting")["expected"].sum(), 1).all())
    True
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    rows = [(s.name, c, s.case_mix[c]) for s in kb.settings.values() for c in kb.condition_names]
    mix = pd.DataFrame(rows, columns=["setting", "condition", "expected"])
    if df is not None:
        observed = (
            df.groupby([df["setting"].astype(str), df["condition"].astype(str)])
            .size()
            .groupby(level=0)
            .transform(lambda s: s / s.sum())
            .rename("observed")
        )
        mix = mix.join(observed, on=["setting", "condition"])
    return mix


def format_estimate(estimate: float, low: float, high: float, digits: int = 2) -> str:
    """Format an estimate with its interval as ``"0.91 (0.89–0.93)"``.

    Examples
    --------
    >>> format_estimate(0.912, 0.889, 0.934)
    '0.91 (0.89–0.93)'
    """
    if any(np.isnan(v) for v in (estimate, low, high)):
        return NO_PATIENTS
    return f"{estimate:.{digits}f} ({low:.{digits}f}–{high:.{digits}f})"


def cohort_summary(
    patients: pd.DataFrame, best: pd.DataFrame, targets: pd.DataFrame | None = None
) -> Summary:
    """Headline numbers of a cohort for the top of notebook 01's report page.

    Parameters
    ----------
    patients
        The patients table.
    best
        The oracle's accuracy table, :func:`outcomes.analysis.evaluate.ceiling.ceiling`.
    targets
        Optional published-target checks, :func:`outcomes.analysis.targets.check_targets`; only rows
        of the cohort's setting that could be checked count.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> from outcomes.analysis.evaluate import ceiling
    >>> patients = generate(300, seed=1)
    >>> print(cohort_summary(patients, ceiling(patients)).findings[0])
    300 patients; most common condition: disc herniation (52.7%); red-flag conditions: 0.3%.
    """
    settings = sorted(patients["setting"].astype(str).unique()) if len(patients) else []
    title = f"Cohort of {len(patients):,} patients" + (
        f" in {', '.join(s.replace('_', ' ') for s in settings)}" if settings else ""
    )
    if len(patients) == 0:
        return Summary(title, [NO_PATIENTS])
    shares = patients["condition"].value_counts(normalize=True)
    top = str(shares.index[0])
    emergency = patients["pathway"].astype(str).eq("emergency").mean()
    findings = [
        f"{len(patients):,} patients; most common condition: {top.replace('_', ' ')} "
        f"({shares.iloc[0]:.1%}); red-flag conditions: {emergency:.1%}."
    ]
    overall = best.loc["all patients"]
    findings.append(
        f"Best achievable triage accuracy (Bayes oracle): {overall['summary']}, "
        f"{int(overall['correct']):,} of {int(overall['patients']):,} patients."
    )
    hardest = best.drop(index="all patients").dropna(subset=["accuracy"])
    if not hardest.empty:
        worst = hardest["accuracy"].idxmin()
        findings.append(
            f"Hardest pathway even for the oracle: {worst}, accuracy "
            f"{hardest.loc[worst, 'summary']}."
        )
    if targets is not None:
        from outcomes.analysis.targets import targets_finding  # targets builds on this module

        checked = targets[targets["setting"].isin(settings) & targets["met"].notna()]
        if len(checked):
            findings.append(targets_finding(checked))
    return Summary(title, findings)


def ceiling_title(best: pd.DataFrame) -> str:
    """A title stating what the oracle's accuracy by pathway shows (notebook 01's bar chart).

    Parameters
    ----------
    best
        The oracle's accuracy table, :func:`outcomes.analysis.evaluate.ceiling.ceiling`.

    Examples
    --------
    >>> best = pd.DataFrame({"patients": [100, 60, 40], "correct": [95, 59, 36],
    ...                      "accuracy": [0.95, 59 / 60, 0.9]},
    ...                     index=["all patients", "spinal", "hip"])
    >>> print(ceiling_title(best))
    Even the oracle misses 5% of patients: findings overlap
    (hardest: hip, 90% right)
    """
    overall = best.loc["all patients"]
    if not overall["patients"]:
        return NO_PATIENTS
    missed = 1 - overall["correct"] / overall["patients"]
    groups = best.drop(index="all patients")
    groups = groups[groups["patients"] > 0]
    if missed == 0:
        return "The oracle triages every patient of this cohort correctly"
    head = f"Even the oracle misses {_share(missed)} of patients: findings overlap"
    if groups.empty:
        return head
    accuracy = groups["correct"] / groups["patients"]
    worst = accuracy.idxmin()
    return f"{head}\n(hardest: {str(worst).replace('_', ' ')}, {_share(accuracy[worst])} right)"


def _share(value: float) -> str:
    """A share as a whole percentage, or with one decimal when it would round to 0% or 100%."""
    text = f"{value:.0%}"
    return f"{value:.1%}" if text in ("0%", "100%") else text


def ceiling_reason(misses: pd.DataFrame, top: int = 2) -> str:
    """Why the ceiling is below 1, in one or two sentences, from
    :func:`outcomes.analysis.evaluate.ceiling.ceiling_misses`.

    Examples
    --------
    >>> misses = pd.DataFrame({"condition": ["piriformis_syndrome", "somatic_referred"],
    ...                        "chosen": ["spinal", "muscular"], "patients": [30, 10],
    ...                        "share_of_misses": [0.75, 0.25],
    ...                        "true_pathway_probability": [0.31, 0.22]})
    >>> misses.attrs.update({"n": 1000, "missed": 40})
    >>> print(ceiling_reason(misses))
    The ceiling is below 1 because records overlap: the oracle misses 4.0% of patients (40 of
    1,000), most often piriformis syndrome sent to spinal (75% of misses) and somatic referred
    sent to muscular (25%). Their recorded findings, read exactly, are more probable under
    another pathway (on average the oracle gave their own 0.29): findings are shared across
    conditions, move together with pain sensitivity and are recorded with examiner and reporting
    error, so no triage method can place them better.
    """
    n, missed = int(misses.attrs.get("n", 0)), int(misses.attrs.get("missed", 0))
    if n == 0:
        return NO_PATIENTS
    if missed == 0:
        return "The oracle triages every patient of this cohort correctly: nothing overlaps."
    rows = misses.head(top)
    parts = [
        f"{str(r.condition).replace('_', ' ')} sent to {str(r.chosen).replace('_', ' ')} "
        f"({_share(r.share_of_misses)}{' of misses' if i == 0 else ''})"
        for i, r in enumerate(rows.itertuples())
    ]
    own = float(np.average(misses["true_pathway_probability"], weights=misses["patients"]))
    text = (
        f"The ceiling is below 1 because records overlap: the oracle misses "
        f"{missed / n:.1%} of patients ({missed:,} of {n:,}), most often "
        f"{' and '.join(parts)}. Their recorded findings, read exactly, are more probable under "
        f"another pathway (on average the oracle gave their own {own:.2f}): findings are "
        "shared across conditions, move together with pain sensitivity and are recorded with "
        "examiner and reporting error, so no triage method can place them better."
    )
    return "\n".join(textwrap.wrap(text, 93))
