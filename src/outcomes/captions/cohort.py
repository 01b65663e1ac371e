"""Captions of a cohort: the headline sentences of notebook 01, the oracle's ceiling in words,
and the published-target checks as a sentence and a table to read.

The numbers come from :mod:`outcomes.analysis.describe`, :mod:`outcomes.analysis.targets` and
:func:`outcomes.analysis.evaluate.ceiling`; this module only words and formats them.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

from outcomes.analysis.describe import NO_PATIENTS
from outcomes.infra.summary import Summary


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
        Optional published-target checks, :func:`outcomes.analysis.targets.check_targets`; only
        rows of the cohort's setting that could be checked count.

    Returns
    -------
    outcomes.infra.summary.Summary
        The title (patients, settings) and one sentence per headline number.

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
        checked = targets[targets["setting"].isin(settings) & targets["met"].notna()]
        if len(checked):
            findings.append(targets_caption(checked))
    return Summary(title, findings)


def ceiling_title(best: pd.DataFrame) -> str:
    """A title stating what the oracle's accuracy by pathway shows (notebook 01's bar chart).

    Parameters
    ----------
    best
        The oracle's accuracy table, :func:`outcomes.analysis.evaluate.ceiling.ceiling`.

    Returns
    -------
    str
        The title, on two lines when a hardest pathway is named.

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

    Parameters
    ----------
    misses
        :func:`outcomes.analysis.evaluate.ceiling.ceiling_misses` (with its ``n`` and ``missed``
        attributes).
    top
        How many of the commonest misses to name.

    Returns
    -------
    str
        The sentences, wrapped at 93 characters.

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


def targets_caption(checked: pd.DataFrame) -> str:
    """One sentence on a cohort's target checks: published figures met, how many of them the
    knowledge base was calibrated to (so that meeting those is not an independent check), the
    misses, and the inputs echoed back, counted apart.

    Parameters
    ----------
    checked
        Rows of :func:`outcomes.analysis.targets.check_targets` (``label`` a column or the
        index).

    Returns
    -------
    str
        The sentence; a fixed sentence when no row could be checked.

    Examples
    --------
    >>> rows = pd.DataFrame({"label": ["Women", "Mean age", "Disc age"],
    ...                      "basis": ["published", "calibrated", "input"],
    ...                      "met": pd.array([False, True, True], dtype="boolean")})
    >>> print(targets_caption(rows))
    Published figures met: 1 of 2; the knowledge base was calibrated to 1 of them, so 1 is an
    independent check; missed: Women. Inputs echoed back: 1 of 1.
    """
    rows = checked[checked["met"].notna()]
    if rows.empty:
        return "No target could be checked on this cohort (no patients it applies to)."
    published = rows[rows["basis"] != "input"]
    inputs = rows[rows["basis"] == "input"]
    parts = []
    if len(published):
        met = published["met"].astype(bool)
        fitted = int((published["basis"] == "calibrated").sum())
        text = f"Published figures met: {int(met.sum())} of {len(published)}"
        if fitted:
            independent = len(published) - fitted
            rest = {0: "none is an independent check", 1: "1 is an independent check"}.get(
                independent, f"{independent} are independent checks"
            )
            text += f"; the knowledge base was calibrated to {fitted} of them, so {rest}"
        labels = published["label"] if "label" in published else published.index.to_series()
        missed = labels[~met.to_numpy()].astype(str).tolist()
        text += f"; missed: {', '.join(missed)}." if missed else "."
        parts.append(text)
    if len(inputs):
        parts.append(
            f"Inputs echoed back: {int(inputs['met'].astype(bool).sum())} of {len(inputs)}."
        )
    return " ".join(parts)


def format_targets_table(checked: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """The target checks as a table to read: the expected figure (published or input, by
    basis), its accepted range, the observed value with its 95% interval, and whether it is
    met; nothing shows as ``NaN``.

    Parameters
    ----------
    checked
        Rows of :func:`outcomes.analysis.targets.check_targets` (``label`` a column or the
        index).
    digits
        Decimals of the proportions; means (ages) get one decimal.

    Returns
    -------
    pandas.DataFrame
        One row per target, every cell text.

    Examples
    --------
    >>> from outcomes.analysis.targets import check_targets
    >>> from outcomes.engine.cohort import generate
    >>> t = check_targets({"primary_care": generate(2000, seed=1)})
    >>> row = format_targets_table(t.set_index("label")).loc["Mean age with disc herniation"]
    >>> row["basis"], row["expected"]
    ('input', '48.3')
    """
    table = checked.set_index("label") if "label" in checked.columns else checked

    def number(value: float, mean: bool) -> str:
        return "–" if pd.isna(value) else f"{value:.{1 if mean else digits}f}"

    rows = {}
    for label, r in table.iterrows():
        mean = max(abs(r["low"]), abs(r["high"])) > 1  # a mean (years), not a proportion
        expected = r["input"] if r["basis"] == "input" else r["published"]
        observed = (
            NO_PATIENTS if pd.isna(r["observed"]) or not r["n"]
            else f"{number(r['observed'], mean)} ({number(r['ci_low'], mean)}–"
                 f"{number(r['ci_high'], mean)})"
        )  # fmt: skip
        rows[label] = {
            "basis": r["basis"],
            "expected": number(expected, mean),
            "accepted": f"{number(r['low'], mean)}–{number(r['high'], mean)}",
            "observed (95% CI)": observed,
            "patients": f"{int(r['n']):,}",
            "met": "–" if pd.isna(r["met"]) else ("yes" if r["met"] else "no"),
            "derived": "yes" if r["derived"] else "no",
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(table.index.name)
