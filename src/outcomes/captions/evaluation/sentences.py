"""Sentences and figure titles computed from an evaluation run (true for any N, seed,
setting), apart from the numbers so a clinician can review every sentence in one place."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from outcomes.analysis.describe import format_estimate
from outcomes.analysis.evaluate import CALIBRATION_ALPHA, OVERALL, crossover, worst_confusion
from outcomes.captions.evaluation.tables import signed_interval
from outcomes.infra.summary import Summary


def _plain(name: Any) -> str:
    return str(name).replace("_", " ")


def _names(items: Sequence[str]) -> str:
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _share_word(part: int, whole: int) -> str:
    """ "all", "most", "half", "some" or "none" of ``whole``, from the counts."""
    if whole == 0 or part == 0:
        return "none"
    if part == whole:
        return "all"
    return "most" if part > whole / 2 else "half" if 2 * part == whole else "some"


def red_flag_warning(method: str, misses: Mapping[str, int]) -> str | None:
    """A warning when ``method`` missed red-flag emergencies that the rules caught, else ``None``.

    Parameters
    ----------
    method
        The method's name.
    misses
        :func:`~outcomes.analysis.evaluate.red_flag_misses` of the method.

    Returns
    -------
    str or None

    Examples
    --------
    >>> print(red_flag_warning("boosted", {"emergencies_flagged": 47, "missed": 26,
    ...                                    "rules_caught": 26}))
    warning: boosted sent 26 of 47 emergencies with a red flag on record down a routine
    pathway; the rules send 26 of them to emergency. Check this method before relying on it.
    >>> red_flag_warning("rules", {"emergencies_flagged": 47, "missed": 0, "rules_caught": 0})
    """
    if misses["rules_caught"] == 0:
        return None
    return (
        f"warning: {method} sent {misses['missed']} of {misses['emergencies_flagged']} "
        "emergencies with a red flag on record down a routine pathway; the rules send "
        f"{misses['rules_caught']} of them to emergency. Check this method before relying on it."
    )


def sensitivity_caption(
    metrics: pd.DataFrame,
    focus: str = "rules",
    reference: str = "oracle",
    k: int = 2,
    short: bool = False,
) -> str:
    """Where ``focus`` is weakest (its ``k`` lowest sensitivities) and how far the other
    methods are from ``reference`` on their worst pathway (``short``: two lines, for a figure
    title).

    Parameters
    ----------
    metrics
        :func:`~outcomes.analysis.evaluate.evaluate_methods`.
    focus, reference
        The method described and the one the others are measured against.
    k
        How many of ``focus``'s weakest pathways to name.
    short
        Two lines, for a figure title.

    Returns
    -------
    str

    Examples
    --------
    >>> t = pd.DataFrame({"method": ["r", "r", "o", "o", "m", "m"], "metric": "sensitivity",
    ...                   "pathway": ["hip", "spinal"] * 3,
    ...                   "estimate": [0.5, 0.9, 0.9, 0.95, 0.88, 0.95], "low": 0.0, "high": 1.0})
    >>> sensitivity_caption(t, "r", "o", k=1)
    'r: weakest on hip (0.50); m within 0.02 of the o on every pathway'
    """
    rows = metrics[(metrics["metric"] == "sensitivity")].dropna(subset=["estimate"])
    own = rows[rows["method"] == focus].nsmallest(k, "estimate")
    if own.empty:
        return f"{focus}: no sensitivity could be computed"
    text = f"{focus}: weakest on " + _names(
        [f"{_plain(r.pathway)} ({r.estimate:.2f})" for r in own.itertuples()]
    )
    ref = rows[rows["method"] == reference].set_index("pathway")["estimate"]
    others = [m for m in dict.fromkeys(rows["method"]) if m not in (focus, reference)]
    if len(ref) and others:
        gaps = {
            m: float((ref - rows[rows["method"] == m].set_index("pathway")["estimate"]).abs().max())
            for m in others
        }
        worst = max(gaps.values())
        text += ("\n" if short else "; ") + (
            f"{_names(others)} within {worst:.2f} of the {reference} on every pathway"
        )
    return text


def confusion_caption(y_true: Any, predictions: Mapping[str, Any]) -> str:
    """One sentence: each method's commonest wrong call and its share.

    Parameters
    ----------
    y_true
        True pathway of each patient.
    predictions
        Method name -> its pathways for the same patients.

    Returns
    -------
    str

    Examples
    --------
    >>> confusion_caption(["hip", "hip"], {"a": ["spinal", "hip"], "b": ["hip", "hip"]})
    'Commonest wrong call: a hip → spinal (50% of hip); b none'
    """
    parts = []
    for name, predicted in predictions.items():
        w = worst_confusion(y_true, predicted)
        parts.append(
            f"{name} none"
            if w is None
            else f"{name} {_plain(w['true'])} → {_plain(w['assigned'])} ({w['share']:.0%} "
            f"of {_plain(w['true'])})"
        )
    return "Commonest wrong call: " + "; ".join(parts)


def safety_sentences(
    safety: pd.DataFrame,
    least_cost: Mapping[str, str] | None = None,
    methods: Sequence[str] | None = None,
) -> list[str]:
    """Sentences on red-flag safety from :func:`~outcomes.analysis.evaluate.safety_by_method`, with
    their counts.

    One sentence per method: emergencies missed, those among them with a red flag on record
    (when the table has that row) and referrals to emergency of patients who did not need
    it. Then, for each ``least_cost`` pair, how many of the plain method's missed emergencies
    the least-expected-cost decision recovers, and at how many more referrals.

    Parameters
    ----------
    safety
        :func:`~outcomes.analysis.evaluate.safety_by_method` of the methods.
    least_cost
        Plain method -> its least-expected-cost variant (e.g. ``{"oracle": "oracle, least
        cost"}``).
    methods
        The methods that get their own sentence (default: every method in the table).

    Returns
    -------
    list of str

    Examples
    --------
    >>> t = pd.DataFrame({"method": ["a", "a", "b", "b"],
    ...                   "measure": ["emergencies missed", "over-triage to emergency"] * 2,
    ...                   "estimate": 0.0, "low": 0.0, "high": 0.0,
    ...                   "count": [10, 3, 4, 20], "of": [50, 950, 50, 950]})
    >>> for line in safety_sentences(t, {"a": "b"}):
    ...     print(line)
    a missed 10 of 50 emergencies and sent 3 of 950 other patients to emergency.
    b missed 4 of 50 emergencies and sent 20 of 950 other patients to emergency.
    Deciding by least expected cost, a misses 4 of 50 emergencies instead of 10 (recovering 6
    of the 10 it missed: most), at 17 more referrals to emergency.
    """
    table = safety.set_index(["method", "measure"])
    measures = set(safety["measure"])

    def count(method: str, measure: str) -> tuple[int, int]:
        row = table.loc[(method, measure)]
        return int(row["count"]), int(row["of"])

    out = []
    for method in dict.fromkeys(safety["method"] if methods is None else methods):
        missed, of = count(method, "emergencies missed")
        text = f"{method} missed {missed:,} of {of:,} emergencies"
        if "missed with a red flag recorded" in measures:
            flagged, with_flag = count(method, "missed with a red flag recorded")
            text += f" ({flagged:,} of the {with_flag:,} with a red flag on record)"
        over, others = count(method, "over-triage to emergency")
        out.append(f"{text} and sent {over:,} of {others:,} other patients to emergency.")
    for plain, safe in (least_cost or {}).items():
        if (plain, "emergencies missed") not in table.index or (
            safe,
            "emergencies missed",
        ) not in table.index:
            continue
        before, of = count(plain, "emergencies missed")
        after, _ = count(safe, "emergencies missed")
        more = count(safe, "over-triage to emergency")[0]
        more -= count(plain, "over-triage to emergency")[0]
        plural = "" if abs(more) == 1 else "s"
        referrals = (
            f"{more:,} more referral{plural} to emergency"
            if more >= 0
            else f"{-more:,} fewer referral{plural} to emergency"
        )
        recovered = max(before - after, 0)
        change = (
            "(none missed before)"
            if before == 0
            else f"instead of {before:,} (recovering {recovered:,} of the {before:,} it missed: "
            f"{_share_word(recovered, before)})"
        )
        out.append(
            f"Deciding by least expected cost, {plain} misses {after:,} of {of:,} "
            f"emergencies {change}, at {referrals}."
        )
    return out


def oracle_gap_caption(gap: pd.DataFrame, oracle: str = "oracle") -> str:
    """One sentence on :func:`~outcomes.analysis.evaluate.oracle_gap`: the oracle's accuracy and
    each method's share of it with its interval, best first.

    Parameters
    ----------
    gap
        :func:`~outcomes.analysis.evaluate.oracle_gap`.
    oracle
        The oracle's name in ``gap``.

    Returns
    -------
    str

    Examples
    --------
    >>> gap = pd.DataFrame({"method": ["rules", "boosted", "oracle"],
    ...                     "accuracy": [0.70, 0.86, 0.90],
    ...                     "fraction_of_oracle": [0.70 / 0.9, 0.86 / 0.9, 1.0],
    ...                     "low": [0.75, 0.94, 1.0], "high": [0.80, 0.97, 1.0]})
    >>> print(oracle_gap_caption(gap))  # doctest: +NORMALIZE_WHITESPACE
    The oracle (the ceiling) triages 90.0% correctly; boosted reaches 95.6% of it
    (94.0%–97.0%), rules 77.8% (75.0%–80.0%).
    """
    table = gap.set_index("method")
    ceiling = float(table.loc[oracle, "accuracy"])
    others = table.drop(index=oracle).sort_values("fraction_of_oracle", ascending=False)
    parts = [
        f"{name} {'reaches ' if i == 0 else ''}{r.fraction_of_oracle:.1%}"
        f"{' of it' if i == 0 else ''} ({r.low:.1%}–{r.high:.1%})"
        for i, (name, r) in enumerate(others.iterrows())
    ]
    return f"The {oracle} (the ceiling) triages {ceiling:.1%} correctly; " + ", ".join(parts) + "."


def discrimination_caption(
    table: pd.DataFrame, published: float, low: float, high: float, source: str
) -> str:
    """One sentence on :func:`~outcomes.analysis.discrimination.radicular_discrimination`
    beside the published figure it is judged against.

    Parameters
    ----------
    table
        The AUC table, indexed by method (``auc``, ``low``, ``high``, ``n``).
    published, low, high
        The published AUC and its accepted range.
    source
        Who published it (for the reader).

    Returns
    -------
    str

    Examples
    --------
    >>> t = pd.DataFrame({"auc": [0.88, 0.86], "low": [0.87, 0.85], "high": [0.89, 0.87],
    ...                   "n": [9000, 9000]}, index=["oracle", "boosted"])
    >>> print(discrimination_caption(t, 0.83, 0.78, 0.88, "Vroomen 2002"))
    ... # doctest: +NORMALIZE_WHITESPACE
    Radicular versus other leg pain on 9,000 patients (AUC, 95% interval): oracle 0.88
    (0.87–0.89), boosted 0.86 (0.85–0.87); 2 of 2 within the published 0.78–0.88
    (0.83, Vroomen 2002).
    """
    parts = [f"{name} {r.auc:.2f} ({r.low:.2f}–{r.high:.2f})" for name, r in table.iterrows()]
    within = int(((table["high"] >= low) & (table["low"] <= high)).sum())
    n = int(table["n"].max())
    return (
        f"Radicular versus other leg pain on {n:,} patients (AUC, 95% interval): "
        + ", ".join(parts)
        + f"; {within} of {len(table)} within the published {low:.2f}–{high:.2f} "
        f"({published:.2f}, {source})."
    )


def calibration_caption(
    check: pd.DataFrame, method: str, alpha: float = CALIBRATION_ALPHA, short: bool = False
) -> str:
    """One sentence from :func:`~outcomes.analysis.evaluate.calibration_check`: calibrated within
    sampling error, or the worst bin (predicted against observed). ``short`` gives a figure title.

    Parameters
    ----------
    check
        :func:`~outcomes.analysis.evaluate.calibration_check` of one method.
    method
        The method's name.
    alpha
        Per-bin significance level.
    short
        A figure title instead of a sentence.

    Returns
    -------
    str

    Examples
    --------
    >>> t = pd.DataFrame({"pathway": ["emergency", "hip"], "bin_low": [0.01, 0.1],
    ...                   "bin_high": [0.05, 0.2], "n": [92, 300], "mean_predicted": [0.023, 0.15],
    ...                   "observed": [0.141, 0.16], "p_value": [1e-9, 0.5]})
    >>> print(calibration_caption(t, "boosted"))
    boosted: 1 of 2 bins off beyond sampling error; worst emergency, predicted 0.023 vs
    observed 0.141 (92 patients).
    >>> calibration_caption(t, "boosted", short=True)
    'boosted: 1 of 2 bins off'
    """
    if check.empty:
        return f"{method}: no patients to check"
    bad = check[check["p_value"] < alpha]
    if short:
        return (
            f"{method}: within sampling error in all {len(check)} bins"
            if bad.empty
            else f"{method}: {len(bad)} of {len(check)} bins off"
        )
    if bad.empty:
        return (
            f"{method}: predicted and observed shares agree within sampling error in all "
            f"{len(check)} bins (smallest p = {check['p_value'].min():.3f})."
        )
    w = bad.loc[bad["p_value"].idxmin()]
    return (
        f"{method}: {len(bad)} of {len(check)} bins off beyond sampling error; worst "
        f"{_plain(w['pathway'])}, predicted {w['mean_predicted']:.3f} vs observed "
        f"{w['observed']:.3f} ({int(w['n'])} patients)."
    )


def learning_curve_caption(
    curve: pd.DataFrame, model: str = "boosted", reference: str = "rules", short: bool = False
) -> str:
    """When a learned model stops being distinguishable from, then beats, the reference
    (``short``: only when it beats it, for a figure title).

    Parameters
    ----------
    curve
        :func:`~outcomes.analysis.evaluate.learning_curve`.
    model, reference
        Names of the learned model and the reference.
    short
        A figure title instead of a sentence.

    Returns
    -------
    str

    Examples
    --------
    >>> c = pd.DataFrame({"size": [50, 100, 200],
    ...                   "verdict": ["below", "not distinguishable", "beats"]})
    >>> print(learning_curve_caption(c))
    The boosted model is below the rules at 50 training patients, not distinguishable from
    them from 100 and beats them from 200.
    >>> learning_curve_caption(c, short=True)
    'The boosted model beats the rules from 200 training patients'
    """
    if curve.empty:
        return f"No training sizes were tried for the {model} model."
    cross = crossover(curve)
    if short:
        if cross["beats"] is not None:
            return (
                f"The {model} model beats the {reference} from {cross['beats']:,} training patients"
            )
        largest = int(curve["size"].max())
        return f"The {model} model does not beat the {reference} at up to {largest:,} patients"
    level, beats = cross["not_distinguishable"], cross["beats"]
    # Each clause names the reference until one has, and the unit on the first size given.
    parts: list[str] = []

    def clause(text: str, size: int, at: str = "from") -> None:
        target = "them" if parts else f"the {reference}"
        unit = "" if parts else " training patients"
        parts.append(text.format(target=target) + f" {at} {size:,}{unit}")

    if curve.iloc[0]["verdict"] == "below":
        clause("is below {target}", int(curve.iloc[0]["size"]), at="at")
    if level is not None and level != beats:
        clause(("" if parts else "is ") + "not distinguishable from {target}", level)
    if beats is not None:
        clause("beats {target}", beats)
    else:
        clause("does not beat {target}", int(curve["size"].max()), at="at up to")
    return f"The {model} model " + _names(parts) + "."


def oracle_share_caption(
    curve: pd.DataFrame, oracle_accuracy: float, share: float = 0.97, model: str = "boosted"
) -> str:
    """Training size from which a learned model reaches ``share`` of the oracle's accuracy,
    and what the largest size adds beyond it.

    Parameters
    ----------
    curve
        :func:`~outcomes.analysis.evaluate.learning_curve` (``size``, ``accuracy``).
    oracle_accuracy
        The oracle's accuracy on the same test patients.
    share
        The share of it asked for.
    model
        The learned model's name.

    Returns
    -------
    str

    Examples
    --------
    >>> c = pd.DataFrame({"size": [100, 1000, 10000], "accuracy": [0.8, 0.94, 0.95]})
    >>> print(oracle_share_caption(c, 0.96))
    The boosted model reaches 97% of the oracle's accuracy (0.960) from 1,000 training
    patients (0.940); 10,000 patients add 0.010.
    """
    if curve.empty:
        return f"No training sizes were tried for the {model} model."
    enough = curve[curve["accuracy"] >= share * oracle_accuracy]
    largest = curve.iloc[-1]
    if enough.empty:
        return (
            f"The {model} model stays below {share:.0%} of the oracle's accuracy "
            f"({oracle_accuracy:.3f}) at up to {int(largest['size']):,} training patients "
            f"({largest['accuracy']:.3f})."
        )
    first = enough.iloc[0]
    text = (
        f"The {model} model reaches {share:.0%} of the oracle's accuracy "
        f"({oracle_accuracy:.3f}) from {int(first['size']):,} training patients "
        f"({first['accuracy']:.3f})"
    )
    if int(largest["size"]) > int(first["size"]):
        gain = largest["accuracy"] - first["accuracy"]
        text += f"; {int(largest['size']):,} patients add {gain:.3f}"
    return text + "."


def _change(row: Any) -> str:
    return signed_interval(row["difference"], row["diff_low"], row["diff_high"], 3)


def shift_sentences(shift: pd.DataFrame) -> list[str]:
    """For each shifted cohort of :func:`~outcomes.analysis.evaluate.shift_table` (with a
    reference): which method's accuracy changed the most and which the least (by the size of the
    change), with the paired or independent interval.

    The words follow the signs: "lost" when every method lost accuracy, "gained" when every
    method gained, "changed" otherwise; "the most" is always the largest absolute change.

    Parameters
    ----------
    shift
        :func:`~outcomes.analysis.evaluate.shift_table` with a reference cohort.

    Returns
    -------
    list of str
        One sentence per shifted cohort (none without a reference).

    Examples
    --------
    >>> t = pd.DataFrame({"cohort": ["a", "a", "b", "b"], "method": ["r", "o"] * 2,
    ...                   "accuracy": [0.8, 0.9, 0.7, 0.88], "difference": [None, None, -0.1,
    ...                   -0.02], "diff_low": [None, None, -0.12, -0.03],
    ...                   "diff_high": [None, None, -0.08, -0.01], "paired": [None, None,
    ...                   False, False]})
    >>> print(*shift_sentences(t))
    On b (other patients), r lost the most accuracy, −0.100 (−0.120 to −0.080), and o the
    least, −0.020 (−0.030 to −0.010).
    >>> t["difference"], t["diff_low"], t["diff_high"] = ([None, None, 0.001, 0.016],
    ...     [None, None, -0.02, -0.004], [None, None, 0.022, 0.036])
    >>> print(*shift_sentences(t))
    On b (other patients), o gained the most accuracy, +0.016 (−0.004 to +0.036), and r the
    least, +0.001 (−0.020 to +0.022).
    """
    if "difference" not in shift:
        return []
    out = []
    for cohort, rows in shift.dropna(subset=["difference"]).groupby("cohort", sort=False):
        size = rows["difference"].astype(float).abs()
        rows = rows.assign(_size=size).sort_values("_size", ascending=False, kind="stable")
        most, least = rows.iloc[0], rows.iloc[-1]
        kind = "same patients, paired" if bool(most["paired"]) else "other patients"
        diffs = rows["difference"].astype(float)
        verb = "lost" if (diffs < 0).all() else "gained" if (diffs > 0).all() else "changed"
        what = f"{verb} the most accuracy" if verb != "changed" else "changed accuracy the most"
        out.append(
            f"On {cohort} ({kind}), {most['method']} {what}, {_change(most)}, "
            f"and {least['method']} the least, {_change(least)}."
        )
    return out


def decision_curve_caption(curves: pd.DataFrame, pathway: str, threshold: float) -> str:
    """One sentence: each strategy's net benefit for ``pathway`` at ``threshold``, per 1,000
    patients (true referrals net of the harm of unnecessary ones), best first.

    Parameters
    ----------
    curves
        :func:`~outcomes.analysis.evaluate.decision_curves`.
    pathway
        The pathway described.
    threshold
        The threshold probability (one of the curves').

    Returns
    -------
    str

    Examples
    --------
    >>> c = pd.DataFrame({"pathway": "emergency", "strategy": ["m", "refer all", "refer none"],
    ...                   "threshold": 0.05, "net_benefit": [0.008, -0.03, 0.0],
    ...                   "prevalence": 0.01})
    >>> print(decision_curve_caption(c, "emergency", 0.05))
    Emergency at a 5% threshold, net benefit per 1,000 patients: m 8.0, refer none 0.0,
    refer all −30.0.
    """
    rows = curves[(curves["pathway"] == pathway) & np.isclose(curves["threshold"], threshold)]
    if rows.empty:
        raise ValueError(f"no decision curve for pathway {pathway!r} at threshold {threshold}")
    rows = rows.sort_values("net_benefit", ascending=False, kind="stable")
    parts = [
        f"{r.strategy} {1000 * r.net_benefit:.1f}".replace("-", "\N{MINUS SIGN}")
        for r in rows.itertuples()
    ]
    return (
        f"{_plain(pathway).capitalize()} at a {threshold:.0%} threshold, net benefit per "
        f"1,000 patients: {', '.join(parts)}."
    )


def triage_summary(
    metrics: pd.DataFrame,
    safety: pd.DataFrame,
    gap: pd.DataFrame | None = None,
    *,
    crossover_size: int | None = None,
    title: str = "Triage",
) -> Summary:
    """Headline numbers of notebook 02 for the top of its report page.

    Parameters
    ----------
    metrics, safety, gap
        :func:`~outcomes.analysis.evaluate.evaluate_methods`,
        :func:`~outcomes.analysis.evaluate.safety_by_method` and
        :func:`~outcomes.analysis.evaluate.oracle_gap` of the same methods on the same patients
        (``gap`` is optional: a team's data has no oracle).
    crossover_size
        Training patients the boosted model needed to beat the rules
        (:func:`~outcomes.analysis.evaluate.crossover`).
    title
        The summary's title.

    Returns
    -------
    outcomes.infra.summary.Summary
        The title and one sentence per headline.

    Examples
    --------
    >>> from outcomes.engine.cohort import generate
    >>> patients = generate(300, seed=1)
    >>> methods = {"oracle": patients["pathway"], "rules": ["spinal"] * 300}
    >>> from outcomes.analysis import evaluate as ev
    >>> s = triage_summary(ev.evaluate_methods(methods, patients, n_boot=20),
    ...                    ev.safety_by_method(methods, patients, n_boot=20),
    ...                    ev.oracle_gap(patients["pathway"], methods, n_boot=20))
    >>> s.findings[0].startswith("Accuracy: oracle 1.00")
    True
    """
    overall = metrics[(metrics["metric"] == "accuracy") & (metrics["pathway"] == OVERALL)]
    accuracy = "; ".join(
        f"{r.method} {format_estimate(r.estimate, r.low, r.high)}" for r in overall.itertuples()
    )
    findings = [f"Accuracy: {accuracy}."]
    fractions = gap[gap["method"] != "oracle"] if gap is not None else pd.DataFrame()
    if not fractions.empty:
        findings.append(
            "Share of the oracle's accuracy: "
            + "; ".join(f"{r.method} {r.fraction_of_oracle:.1%}" for r in fractions.itertuples())
            + "."
        )
    missed = safety[safety["measure"] == "emergencies missed"]
    if len(missed) and missed["of"].max() > 0:
        findings.append(
            f"Emergencies missed (of {int(missed['of'].max())}): "
            + "; ".join(f"{r.method} {int(r.count)}" for r in missed.itertuples())
            + "."
        )
    if crossover_size is not None:
        findings.append(
            f"The boosted model beat the rules from {crossover_size:,} training patients."
        )
    return Summary(title, findings)
