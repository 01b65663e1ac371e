"""Sentences and display tables about validation and the headline's uncertainty.

The numbers come from :mod:`outcomes.analysis.validation`, :mod:`outcomes.analysis.trial` and
:mod:`outcomes.analysis.sensitivity`; this module only words and formats them, so every sentence the
CLI and notebook 05 show can be reviewed in one place.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from outcomes.analysis.sensitivity import METRICS
from outcomes.analysis.trial import Trial
from outcomes.analysis.validation import misses
from outcomes.infra.summary import Summary

#: How each basis is named in sentences and plots.
BASIS_NAMES = {
    "calibrated": "calibrated (inputs fitted to them)",
    "published": "published, held out (never fitted)",
    "input": "inputs echoed back",
}
#: Short names of the bases, in sentences.
SHORT_BASIS_NAMES = {
    "calibrated": "calibrated",
    "published": "held-out published",
    "input": "inputs echoed back",
}
#: A miss's direction (:func:`outcomes.analysis.validation.misses`) in a sentence.
TOO = {"higher": "high", "lower": "low"}
#: How each headline metric is named.
METRIC_NAMES = {
    "weeks_saved": "weeks of pain saved",
    "operations": "operations",
    "deficits_avoided": "lasting deficits avoided",
}


def _digits(*values: float) -> int:
    """Decimals for a figure: 3 for proportions, 2 for anything larger (ages, ratios, weeks)."""
    finite = [abs(v) for v in values if v is not None and np.isfinite(v)]
    return 3 if all(v <= 1 for v in finite) else 2


def number(value: float, digits: int) -> str:
    """A number with fixed decimals; a missing one as an en dash.

    Parameters
    ----------
    value : float
        The number; None or NaN give an en dash.
    digits : int
        Decimals.

    Returns
    -------
    str
        The number as text.

    Examples
    --------
    >>> number(0.12345, 3), number(float("nan"), 2)
    ('0.123', '–')
    """
    return "–" if value is None or pd.isna(value) else f"{value:.{digits}f}"


def _expected(row: pd.Series) -> float:
    return row["input"] if row["basis"] == "input" else row["published"]


def _status(row: pd.Series) -> str:
    if pd.isna(row["met"]):
        return "not checked"
    if row["met"]:
        return "yes"
    return "no (known gap)" if row["gap_flagged"] else "no"


def format_validation_table(table: pd.DataFrame) -> pd.DataFrame:
    """The validation table as text, one row per figure, for printing.

    Parameters
    ----------
    table
        From :func:`outcomes.analysis.validation.validate`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``target``: ``group``, ``basis``, ``expected`` (the published figure, or
        the input echoed back), ``accepted`` (``low``–``high``), ``synthetic (95%)`` (the
        estimate with its 95% interval, or the median of the simulated trials with their
        central 95%), ``n`` and ``met`` (``yes``, ``no``, ``no (known gap)`` or ``not
        checked``).

    Examples
    --------
    >>> t = pd.DataFrame({"group": ["trial"], "target": ["x.hazard_ratio"], "basis": ["published"],
    ...                   "published": [1.97], "input": [float("nan")], "low": [1.72],
    ...                   "high": [2.22], "observed": [2.3], "ci_low": [1.7], "ci_high": [3.1],
    ...                   "n": [283], "met": pd.array([True], dtype="boolean"),
    ...                   "gap_flagged": [False]})
    >>> format_validation_table(t).iloc[0].tolist()
    ['trial', 'published', '1.97', '1.72–2.22', '2.30 (1.70–3.10)', '283', 'yes']
    """
    rows = {}
    for _, r in table.iterrows():
        expected = _expected(r)
        d = _digits(expected, r["low"], r["high"], r["observed"])
        accepted = "–" if pd.isna(r["low"]) else f"{number(r['low'], d)}–{number(r['high'], d)}"
        synthetic = (
            "not computed" if pd.isna(r["observed"])
            else f"{number(r['observed'], d)} ({number(r['ci_low'], d)}–{number(r['ci_high'], d)})"
        )  # fmt: skip
        rows[r["target"]] = {
            "group": r["group"], "basis": r["basis"], "expected": number(expected, d),
            "accepted": accepted, "synthetic (95%)": synthetic, "n": f"{int(r['n']):,}",
            "met": _status(r),
        }  # fmt: skip
    columns = ["group", "basis", "expected", "accepted", "synthetic (95%)", "n", "met"]
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns).rename_axis("target")


def _count(rows: pd.DataFrame) -> tuple[int, int]:
    met = rows["met"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    return int(met.sum()), len(rows)


def validation_caption(table: pd.DataFrame) -> str:
    """One sentence: figures met by basis, and how many misses are documented known gaps.

    Parameters
    ----------
    table
        From :func:`outcomes.analysis.validation.validate`.

    Returns
    -------
    str

    Examples
    --------
    >>> t = pd.DataFrame({"basis": ["published", "published", "calibrated"],
    ...                   "met": pd.array([True, False, True], dtype="boolean"),
    ...                   "gap_flagged": [False, True, False]})
    >>> print(validation_caption(t))
    3 figures checked: 1 of 1 calibrated met; 1 of 2 held-out published met. 1 miss, a
    documented known gap.
    """
    parts = []
    for basis in BASIS_NAMES:
        rows = table[table["basis"] == basis]
        if len(rows):
            k, m = _count(rows)
            parts.append(f"{k} of {m} {SHORT_BASIS_NAMES[basis]} met")
    missed = table[~table["met"].astype("boolean").fillna(False).to_numpy(dtype=bool)]
    gaps = int(missed["gap_flagged"].astype(bool).sum())
    other = len(missed) - gaps
    if missed.empty:
        tail = "Every figure is met."
    elif other == 0:
        tail = f"{len(missed)} {'miss' if len(missed) == 1 else 'misses'}, " + (
            "a documented known gap." if gaps == 1 else "all documented known gaps."
        )
    else:
        tail = (
            f"{len(missed)} {'miss' if len(missed) == 1 else 'misses'}: {gaps} documented "
            f"known {'gap' if gaps == 1 else 'gaps'}, {other} not documented."
        )
    return f"{len(table)} figures checked: {'; '.join(parts)}. {tail}"


def miss_sentences(table: pd.DataFrame) -> list[str]:
    """One sentence per figure not met, naming it, the numbers and the reason.

    A documented known gap gives its reason from the targets file; any other miss says that
    it is not documented (the model misses the figure), and for a trial figure that the
    published value lies outside the central 95% of the simulated trials.

    Parameters
    ----------
    table
        From :func:`outcomes.analysis.validation.validate`.

    Returns
    -------
    list of str
        Empty when every figure is met.

    Examples
    --------
    >>> t = pd.DataFrame({"group": ["surgery"], "label": ["Operated on within a year"],
    ...                   "basis": ["published"], "rule": ["overlap"], "published": [0.05],
    ...                   "input": [float("nan")], "low": [0.03], "high": [0.10],
    ...                   "observed": [0.2], "ci_low": [0.18], "ci_high": [0.22],
    ...                   "met": pd.array([False], dtype="boolean"), "gap_flagged": [False],
    ...                   "known_gap": [""]})
    >>> print(miss_sentences(t)[0])
    Operated on within a year (surgery, published): synthetic 0.200 (0.180–0.220) against
    0.050 (accepted 0.030–0.100), too high. Not a documented known gap: the model misses this
    figure.
    """
    sentences = []
    for _, r in misses(table).iterrows():
        expected = _expected(r)
        d = _digits(expected, r["low"], r["high"], r["observed"])
        where = f"{r['label']} ({r['group']}, {r['basis']})"
        if r["direction"] == "unchecked":
            sentences.append(f"{where}: not checked (no patient of the cohort was counted).")
            continue
        accepted = "" if pd.isna(r["low"]) else (
            f" (accepted {number(r['low'], d)}–{number(r['high'], d)})"
        )  # fmt: skip
        if r["rule"] == "within":
            published_ci = "" if pd.isna(r["low"]) else (
                f" (95% CI {number(r['low'], d)}–{number(r['high'], d)})"
            )  # fmt: skip
            numbers = (
                f"published {number(expected, d)}{published_ci} lies outside the central 95% of "
                f"the simulated trials, {number(r['ci_low'], d)}–{number(r['ci_high'], d)} "
                f"(median {number(r['observed'], d)}), which are too {TOO[r['direction']]}"
            )
        else:
            numbers = (
                f"synthetic {number(r['observed'], d)} ({number(r['ci_low'], d)}–"
                f"{number(r['ci_high'], d)}) against {number(expected, d)}{accepted}, too "
                f"{TOO[r['direction']]}"
            )
        reason = (
            f"Known gap: {r['known_gap']}" if r["gap_flagged"] and r["known_gap"]
            else "Not a documented known gap: the model misses this figure."
        )  # fmt: skip
        sentences.append(f"{where}: {numbers}. {reason}")
    return sentences


def forest_title(table: pd.DataFrame) -> str:
    """Title of the forest plot stating what it shows: held-out and calibrated figures met.

    Parameters
    ----------
    table : pandas.DataFrame
        Validation rows with ``basis`` and ``met`` columns.

    Returns
    -------
    str
        The title.

    Examples
    --------
    >>> t = pd.DataFrame({"basis": ["published", "calibrated"],
    ...                   "met": pd.array([False, True], dtype="boolean")})
    >>> forest_title(t)
    'Held-out published figures: 0 of 1 met; calibrated: 1 of 1 met'
    """
    held = _count(table[table["basis"] == "published"])
    fitted = _count(table[table["basis"] == "calibrated"])
    return (
        f"Held-out published figures: {held[0]} of {held[1]} met; "
        f"calibrated: {fitted[0]} of {fitted[1]} met"
    )


def trial_title(t: Trial, replicates: pd.DataFrame) -> str:
    """Title of the trial plot: the simulated hazard ratio and where the published one lies.

    Parameters
    ----------
    t
        The trial.
    replicates
        From :func:`outcomes.analysis.trial.simulate_trials`.

    Returns
    -------
    str
        The title.

    Examples
    --------
    >>> from outcomes.analysis.trial import trial
    >>> trial_title(trial("peul2007"), pd.DataFrame({"hazard_ratio": [1.5, 2.0, 2.5]}))
    'Simulated trials: hazard ratio 2.00 (95% of trials 1.52–2.48); published 1.97 lies within'
    """
    hr = replicates["hazard_ratio"].dropna().to_numpy()
    if hr.size == 0:
        return "No simulated trial could be analysed"
    lo, mid, hi = np.percentile(hr, [2.5, 50, 97.5])
    where = "within" if lo <= t.hazard_ratio <= hi else "outside"
    return (
        f"Simulated trials: hazard ratio {mid:.2f} (95% of trials {lo:.2f}–{hi:.2f}); "
        f"published {t.hazard_ratio:.2f} lies {where}"
    )


def fixed(value: float, digits: int) -> str:
    """``value`` with ``digits`` decimals, never as a negative zero.

    Parameters
    ----------
    value : float
        The number.
    digits : int
        Decimals.

    Returns
    -------
    str
        The number as text.

    Examples
    --------
    >>> fixed(-0.01, 1), fixed(2.345, 2)
    ('0.0', '2.35')
    """
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _interval(row: pd.Series, which: str, digits: int) -> str:
    return f"{fixed(row[f'{which}_low'], digits)} to {fixed(row[f'{which}_high'], digits)}"


def format_headline(headline: pd.DataFrame, digits: int = 1) -> pd.DataFrame:
    """The headline with both intervals as text: one row per policy, one column per metric.

    Each cell reads ``estimate (sampling: low to high; parameters: low to high)``.

    Parameters
    ----------
    headline
        From :func:`outcomes.analysis.sensitivity.headline`.
    digits
        Decimals shown.

    Returns
    -------
    pandas.DataFrame
        Text cells, one row per policy and one column per metric.

    Examples
    --------
    >>> h = pd.DataFrame({"policy": ["oracle"], "metric": ["weeks_saved"], "estimate": [50.0],
    ...                   "sampling_low": [40.0], "sampling_high": [60.0],
    ...                   "parameter_low": [35.0], "parameter_high": [70.0]}
    ...                  ).set_index(["policy", "metric"])
    >>> format_headline(h).loc["oracle", "weeks of pain saved"]
    '50.0 (sampling: 40.0 to 60.0; parameters: 35.0 to 70.0)'
    """
    rows: dict[str, dict[str, str]] = {}
    for (policy, metric), r in headline.iterrows():
        rows.setdefault(str(policy), {})[METRIC_NAMES.get(str(metric), str(metric))] = (
            f"{fixed(r['estimate'], digits)} (sampling: {_interval(r, 'sampling', digits)}; "
            f"parameters: {_interval(r, 'parameter', digits)})"
        )
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("per 100 patients")


def headline_sentences(
    headline: pd.DataFrame, reference: str, exclude: Sequence[str] = ()
) -> list[str]:
    """One sentence per policy (other than ``reference`` and ``exclude``): its three
    per-100-patient numbers against ``reference``, each with both 95% intervals.

    Parameters
    ----------
    headline : pandas.DataFrame
        From :func:`outcomes.analysis.sensitivity.headline`.
    reference : str
        The policy the others are compared with.
    exclude : sequence of str, default ()
        Policies left out.

    Returns
    -------
    list of str
        One sentence per policy.

    Examples
    --------
    >>> idx = pd.MultiIndex.from_product([["oracle"], ["weeks_saved", "operations",
    ...                                   "deficits_avoided"]], names=["policy", "metric"])
    >>> h = pd.DataFrame({"estimate": [50.0, 12.0, 0.1], "sampling_low": [40.0, 11.0, 0.0],
    ...                   "sampling_high": [60.0, 13.0, 0.2], "parameter_low": [35.0, 9.0, 0.0],
    ...                   "parameter_high": [70.0, 15.0, 0.3]}, index=idx)
    >>> print(headline_sentences(h, "rules")[0])
    oracle against rules, per 100 patients: 50 weeks of pain saved (sampling 40 to 60,
    parameters 35 to 70); 12.0 operations (sampling 11.0 to 13.0, parameters 9.0 to 15.0);
    0.1 lasting deficits avoided (sampling 0.0 to 0.2, parameters 0.0 to 0.3).
    """
    sentences = []
    for policy in dict.fromkeys(headline.index.get_level_values("policy")):
        if policy == reference or policy in exclude:
            continue
        parts = []
        for metric in METRICS:
            if (policy, metric) not in headline.index:
                continue
            r = headline.loc[(policy, metric)]
            d = 0 if metric == "weeks_saved" else 1
            parts.append(
                f"{fixed(r['estimate'], d)} {METRIC_NAMES[metric]} (sampling "
                f"{_interval(r, 'sampling', d)}, parameters {_interval(r, 'parameter', d)})"
            )
        sentences.append(f"{policy} against {reference}, per 100 patients: {'; '.join(parts)}.")
    return sentences


def tornado_title(one_way: pd.DataFrame, policy: str, metric: str = "weeks_saved") -> str:
    """Title of the tornado plot naming the number the answer rests on most.

    Parameters
    ----------
    one_way
        From :func:`outcomes.analysis.sensitivity.one_way` (sorted by swing, largest first).
    policy, metric
        What was examined.

    Returns
    -------
    str
        The title.

    Examples
    --------
    >>> t = pd.DataFrame({"swing": [16.0, 3.0], "central": [48.0, 48.0]},
    ...                  index=pd.Index(["fit.aggravating.aggravation", "x"], name="key"))
    >>> print(tornado_title(t, "oracle"))
    Weeks of pain saved by oracle (48 per 100) moves most with fit.aggravating.aggravation
    (swing 16)
    """
    name = METRIC_NAMES.get(metric, metric)
    if one_way.empty:
        return f"{name.capitalize()} by {policy}: no ranged number to vary"
    top = one_way.iloc[0]
    d = 0 if metric == "weeks_saved" else 1
    return (
        f"{name.capitalize()} by {policy} ({fixed(top['central'], d)} per 100) moves most with "
        f"{one_way.index[0]} (swing {fixed(top['swing'], d)})"
    )


def validation_summary(
    table: pd.DataFrame,
    headline: pd.DataFrame | None = None,
    reference: str = "rules",
    exclude: Sequence[str] = ("perfect",),
) -> Summary:
    """The run's headline numbers for notebook 05's ``summary`` cell.

    Parameters
    ----------
    table
        From :func:`outcomes.analysis.validation.validate`.
    headline
        From :func:`outcomes.analysis.sensitivity.headline` (optional).
    reference
        The headline's reference policy.
    exclude
        Policies whose headline sentence is left out (default: perfect triage).

    Returns
    -------
    Summary
        The title and one finding per headline number.

    Examples
    --------
    >>> t = pd.DataFrame({"basis": ["published"], "met": pd.array([True], dtype="boolean"),
    ...                   "gap_flagged": [False]})
    >>> print(validation_summary(t))
    Every published figure checked on synthetic patients (1 figures)
    - 1 figures checked: 1 of 1 held-out published met. Every figure is met.
    """
    findings = [validation_caption(table)]
    if headline is not None:
        findings += headline_sentences(headline, reference, exclude)
    return Summary(
        f"Every published figure checked on synthetic patients ({len(table)} figures)", findings
    )


def assumption_caption(kinds: pd.Series, one_way: pd.DataFrame, top: int = 3) -> str:
    """How much of the headline rests on assumptions, in one sentence.

    Parameters
    ----------
    kinds
        :func:`outcomes.analysis.validation.source_kinds` of the ranged numbers.
    one_way
        From :func:`outcomes.analysis.sensitivity.one_way`, with a ``source`` column joined from
        :func:`outcomes.analysis.sensitivity.parameter_ranges` (sorted by swing, largest first).
    top
        How many of the numbers that move the answer most are named.

    Returns
    -------
    str
        The sentence.

    Examples
    --------
    >>> kinds = pd.Series({"study": 3, "seed": 0, "assumption": 23})
    >>> ow = pd.DataFrame({"source": ["assumption: why", "study:x"]}, index=["a.b", "c.d"])
    >>> print(assumption_caption(kinds, ow, top=2))
    23 of the 26 numbers drawn in the sensitivity analysis are assumptions (3 cite a study, 0 a
    seed text); of the 2 that move the answer most, 1 is an assumption: a.b.
    """
    total = int(kinds.sum())
    head = one_way.head(top)
    assumed = [str(k) for k, s in head["source"].items() if str(s).startswith("assumption")]
    which = f": {', '.join(assumed)}" if assumed else ""
    return (
        f"{int(kinds.get('assumption', 0))} of the {total} numbers drawn in the sensitivity "
        f"analysis are assumptions ({int(kinds.get('study', 0))} cite a study, "
        f"{int(kinds.get('seed', 0))} a seed text); of the {len(head)} that move the answer "
        f"most, {len(assumed)} {'is an assumption' if len(assumed) == 1 else 'are assumptions'}"
        f"{which}."
    )


def format_headline_table(table: pd.DataFrame, digits: int = 0) -> pd.DataFrame:
    """The headline as a long table to read: one row per policy and measure (per 100
    patients), the estimate and its sampling and parameter intervals.

    :func:`format_headline` gives the same numbers one row per policy, each cell a sentence.

    Parameters
    ----------
    table
        :func:`outcomes.analysis.sensitivity.headline` output.
    digits
        Decimals of weeks; operations get one more, lasting deficits two more.

    Returns
    -------
    pandas.DataFrame
        Index (policy, measure); columns ``estimate``, ``sampling 95%``, ``parameters 95%``.

    Examples
    --------
    >>> t = pd.DataFrame({"estimate": [12.3], "sampling_low": [4.0], "sampling_high": [20.6],
    ...                   "parameter_low": [-1.2], "parameter_high": [30.0],
    ...                   "parameter_median": [11.0]},
    ...                  index=pd.MultiIndex.from_tuples([("rules", "weeks_saved")],
    ...                                                  names=["policy", "metric"]))
    >>> format_headline_table(t).iloc[0].tolist()
    ['12', '4 to 21', '-1 to 30']
    """
    extra = {"weeks_saved": 0, "operations": 1, "deficits_avoided": 2}
    rows = {}
    for (name, metric), row in table.iterrows():
        f = f"{{:.{digits + extra.get(metric, 1)}f}}"
        key = (str(name).replace("_", " "), METRIC_NAMES.get(metric, metric))
        rows[key] = {
            "estimate": f.format(row["estimate"]),
            "sampling 95%": f"{f.format(row['sampling_low'])} to {f.format(row['sampling_high'])}",
            "parameters 95%": (
                f"{f.format(row['parameter_low'])} to {f.format(row['parameter_high'])}"
            ),
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index = pd.MultiIndex.from_tuples(out.index, names=["policy", "per 100 patients"])
    return out


def headline_caption(table: pd.DataFrame, reference: str) -> str:
    """One sentence on the headline: the realistic policy saving the most weeks (perfect
    triage and the oracle aside), with both intervals, and whether the parameter interval
    crosses zero.

    Parameters
    ----------
    table
        :func:`outcomes.analysis.sensitivity.headline` output.
    reference
        Its reference policy.

    Returns
    -------
    str
        The sentence.

    Examples
    --------
    >>> t = pd.DataFrame({"estimate": [0.0, 40.0, 90.0], "sampling_low": [0.0, 25.0, 70.0],
    ...                   "sampling_high": [0.0, 55.0, 110.0], "parameter_low": [0.0, -5.0, 60.0],
    ...                   "parameter_high": [0.0, 70.0, 120.0], "parameter_median": [0, 38, 91]},
    ...                  index=pd.MultiIndex.from_tuples(
    ...                      [("rules", "weeks_saved"), ("logistic", "weeks_saved"),
    ...                       ("perfect", "weeks_saved")], names=["policy", "metric"]))
    >>> print(headline_caption(t, "rules").replace("s (", "s\\n(").replace(": ", ":\\n"))
    Logistic saves 40 weeks of pain per 100 patients against rules
    (sampling 25 to 55; parameters -5 to 70):
    the parameter interval includes no saving, so this rests on assumptions.
    """
    weeks = table.xs("weeks_saved", level="metric")
    # Perfect triage and the oracle are ceilings, not policies a service could run.
    ceilings = ("perfect", "oracle", reference)
    realistic = weeks.drop(index=[p for p in ceilings if p in weeks.index])
    if realistic.empty:
        return "No policy other than the reference to compare."
    best = realistic["estimate"].idxmax()
    row = realistic.loc[best]
    text = (
        f"{str(best).replace('_', ' ').capitalize()} saves {row['estimate']:.0f} weeks of pain per "
        f"100 patients against {reference.replace('_', ' ')} (sampling {row['sampling_low']:.0f} "
        f"to {row['sampling_high']:.0f}; parameters {row['parameter_low']:.0f} to "
        f"{row['parameter_high']:.0f})"
    )
    if row["parameter_low"] <= 0 <= row["parameter_high"]:
        return text + ": the parameter interval includes no saving, so this rests on assumptions."
    return text + ": the saving holds across the plausible parameter ranges."
