"""The patient model as arrays: one engine shared by the generator and the Bayes oracle.

:func:`build_model` turns the :class:`~outcomes.knowledge.Knowledge` for one care setting (plus
any overrides a researcher passes) into a :class:`PatientModel` of numpy arrays. The generator
samples from it; the oracle evaluates the same likelihoods exactly. Neither reads the
knowledge files again, so the two cannot disagree.

The model, per patient:

1. condition ~ the setting's case mix; secondary contributor ~ the condition's ``secondary``
   distribution ("none" or another condition);
2. latent severity ~ Beta(a, b) of the condition;
3. chronic ~ Bernoulli(chronic fraction); symptom duration uniform on 1..12 weeks if acute,
   12 + Geometric(1 / mean extra weeks) if chronic;
4. each finding ~ Bernoulli(p) independently given the above, where
   ``logit p = logit(p_typical) + slope * (severity - mean severity) + shift * chronic``,
   combined by noisy-OR with ``secondary_weight * p_typical`` of the secondary contributor;
5. exam findings and red flags are missing completely at random at the setting's rates;
6. age ~ normal truncated to [age_min, age_max + 1), floored to whole years; sex, side,
   occupation, onset and trigger ~ categorical given the condition;
7. pain NRS ~ Binomial(10, lo + (hi - lo) * severity); ODI ~ 2 x Binomial(50, same form).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import expit, logit

from outcomes.knowledge import NO_SECONDARY, Knowledge, load_knowledge

#: Overrides accepted by :func:`build_model` (and so by ``cohort.generate``), with their meaning.
OVERRIDES: Mapping[str, str] = {
    "case_mix": "mapping condition -> probability replacing the setting's case mix (sums to 1)",
    "exam_missing_rate": "probability that each exam finding is not recorded (replaces setting)",
    "red_flag_missing_rate": "probability that each red flag is not recorded (replaces setting)",
    "chronic_fraction": "probability that symptoms have lasted > 12 weeks, for every condition",
    "combined_fraction": "probability of a secondary contributor, for conditions that have one",
}

PAIN_NRS_TRIALS = 10
ODI_TRIALS = 50  # ODI is scored in steps of 2 from 0 to 100


@dataclass(frozen=True, eq=False)
class PatientModel:
    """Arrays of the patient model for one setting. Build with :func:`build_model`.

    Condition axes follow ``conditions``; finding axes follow ``findings``; the secondary
    axis is ``("none", *conditions)``.
    """

    knowledge: Knowledge
    setting: str
    overrides: Mapping[str, Any]
    conditions: tuple[str, ...]
    findings: tuple[str, ...]
    prior: np.ndarray  # (C,)
    secondary: np.ndarray  # (C, C + 1)
    typical_p: np.ndarray  # (C, F)
    severity_slope: np.ndarray  # (F,)
    chronic_shift: np.ndarray  # (F,)
    beta_a: np.ndarray  # (C,)
    beta_b: np.ndarray  # (C,)
    missing: np.ndarray  # (F,), 0 for findings that are always recorded
    age_mean: np.ndarray
    age_sd: np.ndarray
    female: np.ndarray
    onset_sudden: np.ndarray
    chronic_fraction: np.ndarray
    bilateral: np.ndarray
    occupation: np.ndarray  # (C, n_occupations)
    trigger: np.ndarray  # (C, n_triggers)
    pain_range: np.ndarray  # (C, 2)
    odi_range: np.ndarray  # (C, 2)
    secondary_weight: float
    chronic_threshold_weeks: int
    chronic_extra_weeks_mean: float
    age_min: int
    age_max: int
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def mean_severity(self) -> np.ndarray:
        return self.beta_a / (self.beta_a + self.beta_b)

    @property
    def missable(self) -> np.ndarray:
        """Boolean mask over findings: which ones a setting may leave unrecorded."""
        return np.array([f.can_be_missing for f in self.knowledge.findings])

    @property
    def secondary_p(self) -> np.ndarray:
        """(C + 1, F): what a secondary contributor adds by noisy-OR; row 0 ("none") is 0."""
        if "secondary_p" not in self._cache:
            rows = np.zeros((len(self.conditions) + 1, len(self.findings)))
            rows[1:] = self.secondary_weight * self.typical_p
            self._cache["secondary_p"] = rows
        return self._cache["secondary_p"]

    def finding_probability(
        self,
        condition: np.ndarray,
        secondary: np.ndarray,
        severity: np.ndarray,
        chronic: np.ndarray,
    ) -> np.ndarray:
        """P(finding present) for each case; inputs broadcast together, findings last.

        Parameters
        ----------
        condition, secondary
            Integer codes (``secondary`` 0 means none, ``k + 1`` means condition ``k``).
        severity
            Latent severity in [0, 1].
        chronic
            Boolean: symptoms for more than the chronic threshold.

        Examples
        --------
        >>> m = build_model("primary_care")
        >>> p = m.finding_probability(np.array([0]), np.array([0]), np.array([0.5]),
        ...                           np.array([False]))
        >>> p.shape == (1, len(m.findings))
        True
        """
        condition = np.asarray(condition)
        secondary = np.asarray(secondary)
        # Findings whose probability ignores severity and chronicity are a table lookup;
        # only the others need the logistic transform (most of the generator's time).
        pair = condition * (len(self.conditions) + 1) + secondary
        p = np.take(self._typical_table.reshape(-1, len(self.findings)), pair, axis=0)
        dynamic = self._dynamic
        if dynamic.size:
            centred = np.asarray(severity, dtype=float) - np.take(self.mean_severity, condition)
            z = np.take(self._typical_logit[:, dynamic], condition, axis=0)
            z += centred[..., None] * self.severity_slope[dynamic]
            z += np.asarray(chronic, dtype=float)[..., None] * self.chronic_shift[dynamic]
            primary = expit(z, out=z)
            secondary_part = np.take(self.secondary_p[:, dynamic], secondary, axis=0)
            p[..., dynamic] = 1.0 - (1.0 - primary) * (1.0 - secondary_part)
        return p

    def cdf(self, name: str) -> np.ndarray:
        """Cumulative distribution of ``prior``, ``secondary``, ``occupation`` or ``trigger``.

        Normalised so the last entry is exactly 1: a zero-probability category can never be
        drawn by inverse-CDF sampling, even with rounding in the cumulative sum.
        """
        key = f"cdf:{name}"
        if key not in self._cache:
            cum = np.cumsum(getattr(self, name), axis=-1)
            self._cache[key] = cum / cum[..., -1:]
        return self._cache[key]

    @property
    def _dynamic(self) -> np.ndarray:
        """Indices of findings whose probability depends on severity or chronicity."""
        if "dynamic" not in self._cache:
            self._cache["dynamic"] = np.flatnonzero(
                (self.severity_slope != 0) | (self.chronic_shift != 0)
            )
        return self._cache["dynamic"]

    @property
    def _typical_table(self) -> np.ndarray:
        """(C, C + 1, F): P(finding) for a typical case of each condition x secondary pair."""
        if "typical_table" not in self._cache:
            self._cache["typical_table"] = 1.0 - (1.0 - self.typical_p[:, None, :]) * (
                1.0 - self.secondary_p[None, :, :]
            )
        return self._cache["typical_table"]

    @property
    def _typical_logit(self) -> np.ndarray:
        if "typical_logit" not in self._cache:
            # Clip so that p = 0 or 1 stays finite on the logit scale (and exactly 0/1 after).
            clipped = np.clip(self.typical_p, 1e-12, 1 - 1e-12)
            self._cache["typical_logit"] = np.where(
                self.typical_p <= 0, -np.inf, np.where(self.typical_p >= 1, np.inf, logit(clipped))
            )
        return self._cache["typical_logit"]


def _probability(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"override {name!r} must be a probability in [0, 1], got {value!r}")
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"override {name!r} must be a probability in [0, 1], got {value!r}")
    return float(value)


def _case_mix_override(kb: Knowledge, value: Any) -> np.ndarray:
    if not isinstance(value, Mapping):
        raise ValueError(
            f"override 'case_mix' must be a mapping of condition to probability, got {value!r}"
        )
    unknown = sorted(set(value) - set(kb.condition_names))
    if unknown:
        raise ValueError(
            f"override 'case_mix' names unknown condition {unknown[0]!r}; "
            f"choose from: {', '.join(kb.condition_names)}"
        )
    prior = np.array(
        [_probability(f"case_mix[{c}]", value.get(c, 0.0)) for c in kb.condition_names]
    )
    if abs(prior.sum() - 1.0) > 1e-9:
        raise ValueError(f"override 'case_mix' must sum to 1, got {prior.sum():.6g}")
    return prior


def build_model(
    setting: str | None = None, knowledge: Knowledge | None = None, **overrides: Any
) -> PatientModel:
    """Resolve the knowledge base for one setting into a :class:`PatientModel`.

    Parameters
    ----------
    setting
        A setting name from ``settings.toml``; ``None`` means the knowledge base's default.
    knowledge
        A loaded knowledge base; defaults to the packaged one.
    **overrides
        Any of :data:`OVERRIDES`. Each is validated and a ``ValueError`` names the bad one.
        A value of ``None`` means "the setting's own value", so a notebook parameter or a
        command-line option can pass an override unconditionally.

    Examples
    --------
    >>> m = build_model("sports_clinic", exam_missing_rate=0.5)
    >>> float(m.missing[m.findings.index("exam_fair_test")])
    0.5
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    setting = kb.default_setting if setting is None else setting
    if not isinstance(setting, str):
        raise ValueError(f"setting must be a string, got {setting!r}")
    site = kb.setting(setting)
    unknown = sorted(set(overrides) - set(OVERRIDES))
    if unknown:
        raise ValueError(f"override {unknown[0]!r} is unknown; choose from: {', '.join(OVERRIDES)}")
    overrides = {key: value for key, value in overrides.items() if value is not None}
    conds = kb.conditions
    names = kb.condition_names
    findings = kb.finding_names

    prior = np.array([site.case_mix[c] for c in names])
    if "case_mix" in overrides:
        prior = _case_mix_override(kb, overrides["case_mix"])

    secondary = np.array([[c.secondary.get(s, 0.0) for s in (NO_SECONDARY, *names)] for c in conds])
    if "combined_fraction" in overrides:
        share = _probability("combined_fraction", overrides["combined_fraction"])
        others = secondary[:, 1:]
        has = others.sum(axis=1) > 0
        scaled = np.divide(
            others, others.sum(axis=1, keepdims=True), where=has[:, None], out=np.zeros_like(others)
        )
        secondary = np.where(
            has[:, None],
            np.column_stack([np.full(len(conds), 1.0 - share), share * scaled]),
            secondary,
        )

    missing = np.array(
        [site.missing.get(f.name, 0.0) if f.can_be_missing else 0.0 for f in kb.findings]
    )
    kinds = np.array([f.kind for f in kb.findings])
    if "exam_missing_rate" in overrides:
        rate = _probability("exam_missing_rate", overrides["exam_missing_rate"])
        missing = np.where(kinds == "exam", rate, missing)
    if "red_flag_missing_rate" in overrides:
        rate = _probability("red_flag_missing_rate", overrides["red_flag_missing_rate"])
        missing = np.where(kinds == "red_flag", rate, missing)

    chronic = np.array([c.chronic_fraction for c in conds])
    if "chronic_fraction" in overrides:
        chronic = np.full(
            len(conds), _probability("chronic_fraction", overrides["chronic_fraction"])
        )

    shared = kb.shared
    arr = lambda attr: np.array([getattr(c, attr) for c in conds], dtype=float)  # noqa: E731
    return PatientModel(
        knowledge=kb,
        setting=setting,
        overrides=dict(overrides),
        conditions=names,
        findings=findings,
        prior=prior,
        secondary=secondary,
        typical_p=np.array([[c.findings[f] for f in findings] for c in conds]),
        severity_slope=np.array([f.severity_slope for f in kb.findings]),
        chronic_shift=np.array([f.chronic_shift for f in kb.findings]),
        beta_a=np.array([c.severity_beta[0] for c in conds]),
        beta_b=np.array([c.severity_beta[1] for c in conds]),
        missing=missing,
        age_mean=arr("age_mean"),
        age_sd=arr("age_sd"),
        female=arr("female"),
        onset_sudden=arr("onset_sudden"),
        chronic_fraction=chronic,
        bilateral=arr("bilateral"),
        occupation=np.array([[c.occupation[o] for o in kb.occupations] for c in conds]),
        trigger=np.array([[c.trigger[t] for t in kb.triggers] for c in conds]),
        pain_range=np.array([c.pain_nrs_range for c in conds]),
        odi_range=np.array([c.odi_range for c in conds]),
        secondary_weight=float(shared["secondary_weight"]),
        chronic_threshold_weeks=int(shared["chronic_threshold_weeks"]),
        chronic_extra_weeks_mean=float(shared["chronic_extra_weeks_mean"]),
        age_min=int(shared["age_min"]),
        age_max=int(shared["age_max"]),
    )
