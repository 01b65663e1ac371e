"""The patient model as arrays: one engine shared by the generator and the Bayes oracle.

:func:`build_model` turns the :class:`~outcomes.knowledge.Knowledge` for one care setting (plus
any overrides a researcher passes) into a :class:`PatientModel` of numpy arrays. The generator
samples from it; the oracle evaluates the same likelihoods exactly. Neither reads the
knowledge files again, so the two cannot disagree.

One piece: this module is longer than the others (about 700 lines, half of them docstrings)
because it is one algorithm, the generative model, read top to bottom in the order it draws a
patient; splitting it would put the arrays in one file and the probabilities they feed in
another, where a reader checking the oracle against the generator needs both side by side.

The model, per patient:

1. condition ~ the setting's case mix; secondary contributor ~ the condition's ``secondary``
   distribution ("none" or another condition);
2. latent severity ~ Beta(a, b) of the condition;
3. chronic ~ Bernoulli(chronic fraction); symptom duration uniform on 1..12 weeks if acute,
   12 + Geometric(1 / mean extra weeks) if chronic;
4. pain sensitivity ~ one of three levels (-1 low, 0 typical, +1 high), the same for every
   finding of the patient: a shared latent factor (how readily a patient's tissues are
   provoked and how a patient reports it) that raises or lowers several provocation findings
   together, across conditions;
5. each true finding ~ Bernoulli(p) independently given the above, where
   ``logit p = logit(p_typical) + slope * (severity - mean severity) + shift * chronic
   + loading * sensitivity``, combined by noisy-OR with ``secondary_weight * p_typical`` of
   the secondary contributor;
6. what is recorded is not the true finding: a present finding is recorded absent with
   probability ``false_negative`` and an absent one present with ``false_positive``
   (examiner error for signs, reporting error for history items), independently. The
   recorded finding is therefore Bernoulli(``false_positive + (1 - false_positive -
   false_negative) * p``): the generator draws it in one step (the true finding is never
   needed), and the oracle uses the same probability;
7. exam findings and red flags are missing completely at random at the setting's rates;
8. age ~ normal truncated to [age_min, age_max + 1), floored to whole years; sex, side,
   occupation, onset and trigger ~ categorical given the condition;
9. pain NRS ~ Binomial(10, lo + (hi - lo) * severity); ODI ~ 2 x Binomial(50, same form).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import expit, logit, ndtr

from outcomes.knowledge import NO_SECONDARY, Knowledge, load_knowledge

#: Overrides accepted by :func:`build_model` (and so by ``cohort.generate``), with their meaning.
OVERRIDES: Mapping[str, str] = {
    "case_mix": "mapping condition -> probability replacing the setting's case mix (sums to 1)",
    "exam_missing_rate": "probability that each exam finding is not recorded (replaces setting)",
    "red_flag_missing_rate": "probability that each red flag is not recorded (replaces setting)",
    "chronic_fraction": "probability that symptoms have lasted > 12 weeks, for every condition",
    "combined_fraction": "probability of a secondary contributor, for conditions that have one",
}

#: The levels of the shared pain-sensitivity factor (low, typical, high), in log-odds units
#: multiplied by each finding's ``sensitivity_loading``.
SENSITIVITY_LEVELS = np.array([-1.0, 0.0, 1.0])

PAIN_NRS_TRIALS = 10
ODI_TRIALS = 50  # ODI is scored in steps of 2 from 0 to 100


@dataclass(frozen=True, eq=False)
class PatientModel:
    """Arrays of the patient model for one setting. Build with :func:`build_model`.

    Condition axes follow ``conditions``; finding axes follow ``findings``; the secondary
    axis is ``("none", *conditions)``.

    Parameters
    ----------
    knowledge : Knowledge
        The knowledge base the arrays come from.
    setting : str
        The care setting.
    overrides : mapping
        The overrides applied (:data:`OVERRIDES`).
    conditions, findings : tuple of str
        Names along the condition (C) and finding (F) axes.
    prior : numpy.ndarray
        (C,) case mix of the setting.
    secondary : numpy.ndarray
        (C, C + 1) probability of each secondary contributor (``"none"`` first).
    typical_p : numpy.ndarray
        (C, F) probability of each finding at typical severity.
    severity_slope, chronic_shift, sensitivity_loading : numpy.ndarray
        (F,) log-odds change of each finding per unit severity, when chronic, and per level
        of pain sensitivity.
    sensitivity_prior : numpy.ndarray
        (3,) P(low), P(typical), P(high) pain sensitivity.
    false_positive, false_negative : numpy.ndarray
        (F,) recording errors: present when truly absent, absent when truly present.
    beta_a, beta_b : numpy.ndarray
        (C,) Beta distribution of latent severity.
    missing : numpy.ndarray
        (F,) probability a finding is not recorded (0 where always recorded).
    age_mean, age_sd, female, onset_sudden, chronic_fraction, bilateral : numpy.ndarray
        (C,) demographics and history of each condition.
    occupation, trigger : numpy.ndarray
        (C, n_occupations) and (C, n_triggers) category probabilities.
    pain_range, odi_range : numpy.ndarray
        (C, 2) range of pain score and ODI.
    secondary_weight : float
        Share of a secondary contributor's typical findings it adds (noisy-OR).
    chronic_threshold_weeks : int
        Symptom duration from which a patient is chronic.
    chronic_extra_weeks_mean : float
        Mean weeks beyond the threshold of a chronic patient.
    age_min, age_max : int
        Bounds of the ages drawn.
    _cache : dict, optional
        Internal memo of derived arrays; leave it empty.

    Examples
    --------
    >>> m = build_model()
    >>> m.typical_p.shape == (len(m.conditions), len(m.findings))
    True
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
    sensitivity_loading: np.ndarray  # (F,)
    sensitivity_prior: np.ndarray  # (3,): P(low), P(typical), P(high)
    false_positive: np.ndarray  # (F,): P(recorded present | truly absent)
    false_negative: np.ndarray  # (F,): P(recorded absent | truly present)
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
        """Boolean mask over findings: which ones a setting may leave unrecorded.

        Examples
        --------
        >>> m = build_model()
        >>> m.missable.dtype == bool and m.missable.shape == (len(m.findings),)
        True
        """
        return np.array([f.can_be_missing for f in self.knowledge.findings])

    @property
    def missable_index(self) -> np.ndarray:
        """Positions of the findings a setting may leave unrecorded (see :attr:`missable`).

        Examples
        --------
        >>> m = build_model()
        >>> bool(m.missable[m.missable_index].all())
        True
        """
        if "missable_index" not in self._cache:
            self._cache["missable_index"] = np.flatnonzero(self.missable)
        return self._cache["missable_index"]

    @property
    def per_condition(self) -> Mapping[str, np.ndarray]:
        """Constants the generator looks up by condition code, computed once per model.

        ``age_cdf_low`` and ``age_cdf_span``: the normal CDF at the lower age bound and the
        probability mass inside [age_min, age_max + 1); ``one_side``: P(both sides) plus half of
        the rest (the threshold between left and right); ``pain_low``/``pain_span`` and
        ``odi_low``/``odi_span``: the severity-to-score lines.

        Examples
        --------
        >>> m = build_model("primary_care")
        >>> bool((m.per_condition["age_cdf_span"] <= 1).all())
        True
        """
        if "per_condition" not in self._cache:
            low = ndtr((self.age_min - self.age_mean) / self.age_sd)
            high = ndtr((self.age_max + 1 - self.age_mean) / self.age_sd)
            self._cache["per_condition"] = {
                "age_cdf_low": low,
                "age_cdf_span": high - low,
                "one_side": self.bilateral + (1 - self.bilateral) / 2,
                "pain_low": self.pain_range[:, 0].copy(),
                "pain_span": np.diff(self.pain_range, axis=1)[:, 0],
                "odi_low": self.odi_range[:, 0].copy(),
                "odi_span": np.diff(self.odi_range, axis=1)[:, 0],
            }
        return self._cache["per_condition"]

    @property
    def pathway_code(self) -> np.ndarray:
        """(C,) int8: position in ``knowledge.pathways`` of each condition's care pathway.

        Examples
        --------
        >>> m = build_model()
        >>> m.knowledge.pathways[m.pathway_code[0]] == m.knowledge.conditions[0].pathway
        True
        """
        if "pathway_code" not in self._cache:
            pathways = self.knowledge.pathways
            self._cache["pathway_code"] = np.array(
                [pathways.index(c.pathway) for c in self.knowledge.conditions], dtype=np.int8
            )
        return self._cache["pathway_code"]

    @property
    def secondary_p(self) -> np.ndarray:
        """(C + 1, F): what a secondary contributor adds by noisy-OR; row 0 ("none") is 0.

        Examples
        --------
        >>> m = build_model()
        >>> m.secondary_p.shape == (len(m.conditions) + 1, len(m.findings))
        True
        >>> float(m.secondary_p[0].max())
        0.0
        """
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
        sensitivity: np.ndarray | float = 0.0,
    ) -> np.ndarray:
        """P(finding recorded present) for each case; inputs broadcast together, findings last.

        Parameters
        ----------
        condition, secondary
            Integer codes (``secondary`` 0 means none, ``k + 1`` means condition ``k``).
        severity
            Latent severity in [0, 1].
        chronic
            Boolean: symptoms for more than the chronic threshold.
        sensitivity
            Level of the shared pain-sensitivity factor (-1, 0 or +1; see
            :data:`SENSITIVITY_LEVELS`).

        Returns
        -------
        numpy.ndarray
            Shape ``(*broadcast shape, n_findings)``. The same numbers as
            :meth:`finding_probability_rows`, laid out findings last.

        Examples
        --------
        >>> m = build_model("primary_care")
        >>> p = m.finding_probability(np.array([0]), np.array([0]), np.array([0.5]),
        ...                           np.array([False]))
        >>> p.shape == (1, len(m.findings))
        True
        """
        arrays = np.broadcast_arrays(
            np.asarray(condition),
            np.asarray(secondary),
            np.asarray(severity),
            np.asarray(chronic),
            np.asarray(sensitivity, dtype=float),
        )
        shape = arrays[0].shape
        rows = self.finding_rows(*(a.ravel() for a in arrays))
        return np.ascontiguousarray(rows[self.row_of_finding].T).reshape(*shape, len(self.findings))

    @property
    def row_order(self) -> np.ndarray:
        """Finding indices in the order of :meth:`finding_rows`' rows.

        Findings whose probability is a plain table lookup come first, then those that depend
        on severity (the ones shifted by chronicity leading), so that each group is one
        contiguous slice of rows. ``row_of_finding`` is the inverse permutation.

        Examples
        --------
        >>> m = build_model()
        >>> sorted(m.row_order.tolist()) == list(range(len(m.findings)))
        True
        """
        if "row_order" not in self._cache:
            moves = self._moves
            shifted = self.chronic_shift != 0
            # Stable sort on (moves, not shifted): static, then shifted dynamic, then the rest.
            key = np.where(~moves, 0, np.where(shifted, 1, 2))
            self._cache["row_order"] = np.argsort(key, kind="stable")
        return self._cache["row_order"]

    @property
    def row_of_finding(self) -> np.ndarray:
        """Row of :meth:`finding_rows` holding each finding (inverse of :attr:`row_order`).

        Examples
        --------
        >>> m = build_model()
        >>> bool((m.row_order[m.row_of_finding] == np.arange(len(m.findings))).all())
        True
        """
        if "row_of_finding" not in self._cache:
            self._cache["row_of_finding"] = np.argsort(self.row_order, kind="stable")
        return self._cache["row_of_finding"]

    @property
    def _moves(self) -> np.ndarray:
        """Findings whose probability depends on severity or chronicity (the others are a
        table lookup by condition, secondary contributor and pain-sensitivity level)."""
        return (self.severity_slope != 0) | (self.chronic_shift != 0)

    def finding_rows(
        self,
        condition: np.ndarray,
        secondary: np.ndarray,
        severity: np.ndarray,
        chronic: np.ndarray,
        sensitivity: np.ndarray | None = None,
        out: np.ndarray | None = None,
        work: np.ndarray | None = None,
    ) -> np.ndarray:
        """P(finding recorded present) as one contiguous row per finding: ``(n_findings, n)``.

        The generator's layout. Rows follow :attr:`row_order` (not the findings' order);
        inputs are 1-D arrays of length ``n``, as in :meth:`finding_probability`, which gives
        the same numbers findings last.

        Parameters
        ----------
        condition, secondary, severity, chronic, sensitivity
            As in :meth:`finding_probability`, 1-D (``sensitivity`` ``None`` means all 0).
        out
            Optional float array ``(n_findings, n)`` to write into.
        work
            Optional float scratch array of at least ``(n_dynamic, n)``, where ``n_dynamic``
            is the number of findings that depend on severity, chronicity or pain
            sensitivity. The generator
            passes the same ``out`` and ``work`` for every block, sparing fresh memory.

        Returns
        -------
        numpy.ndarray
            ``(n_findings, n)``: ``out`` when given.

        Examples
        --------
        >>> m = build_model("primary_care")
        >>> rows = m.finding_rows(np.array([0, 2]), np.array([0, 0]), np.array([0.5, 0.1]),
        ...                       np.array([False, True]), np.array([0.0, 0.0]))
        >>> j = m.findings.index("exam_fair_test")
        >>> bool(rows[m.row_of_finding[j], 1] > rows[m.row_of_finding[j], 0])  # piriformis
        True
        """
        condition = np.asarray(condition, dtype=np.intp)
        secondary = np.asarray(secondary, dtype=np.intp)
        n = condition.shape[0]
        if out is None:
            out = np.empty((len(self.findings), n))
        n_static, n_shifted, n_dynamic = self._row_groups
        # Findings whose probability ignores severity and chronicity are a table lookup per
        # (condition, secondary, pain-sensitivity level); only the others need the logistic
        # transform. mode="clip" never clips here (codes are valid); it only avoids a
        # buffered copy.
        if n_static:
            n_levels = len(SENSITIVITY_LEVELS)
            pair = condition * (len(self.conditions) + 1) + secondary
            pair *= n_levels
            if sensitivity is None:
                pair += 1  # the typical level
            else:
                pair += (np.asarray(sensitivity) + 1).astype(np.intp)
            np.take(self._static_table, pair, axis=1, out=out[:n_static], mode="clip")
        if n_dynamic:
            # logit p = logit(p_typical) + slope * (severity - mean) + shift * chronic, then
            # noisy-OR with the secondary contributor: p = 1 - (1 - p_primary) (1 - p_second).
            # Each step is the same floating-point operation whatever the layout, so the
            # generator and the oracle get bit-identical probabilities.
            if work is None:
                work = np.empty((n_dynamic, n))
            work = work[:n_dynamic, :n]
            z = out[n_static:]
            centred = np.asarray(severity, dtype=float) - np.take(self.mean_severity, condition)
            np.take(self._dynamic_logit, condition, axis=1, out=z, mode="clip")
            z += np.multiply(self._dynamic_slope[:, None], centred, out=work)
            if sensitivity is not None:
                level = np.asarray(sensitivity, dtype=float)
                z += np.multiply(self._dynamic_loading[:, None], level, out=work)
            if n_shifted:
                # Only these rows have a chronic shift; for the others it would add exactly 0.
                chronic_f = np.asarray(chronic, dtype=float)
                shift = self._dynamic_shift[:n_shifted, None]
                z[:n_shifted] += np.multiply(shift, chronic_f, out=work[:n_shifted])
            expit(z, out=z)
            np.subtract(1.0, z, out=z)
            z *= np.take(self._dynamic_not_secondary, secondary, axis=1, out=work, mode="clip")
            np.subtract(1.0, z, out=z)
            # Recording error: P(recorded) = false_positive + (1 - fp - fn) * P(true).
            z *= self._dynamic_record_scale[:, None]
            z += self._dynamic_false_positive[:, None]
        return out

    def cdf(self, name: str) -> np.ndarray:
        """Cumulative distribution of ``prior``, ``secondary``, ``occupation``, ``trigger`` or
        ``sensitivity_prior``.

        Normalised so the last entry is exactly 1: a zero-probability category can never be
        drawn by inverse-CDF sampling, even with rounding in the cumulative sum.

        Parameters
        ----------
        name : {"prior", "secondary", "occupation", "trigger", "sensitivity_prior"}
            The distribution.

        Returns
        -------
        numpy.ndarray
            Cumulative sums along the last axis, ending at exactly 1.

        Examples
        --------
        >>> m = build_model()
        >>> float(m.cdf("prior")[-1])
        1.0
        """
        key = f"cdf:{name}"
        if key not in self._cache:
            cum = np.cumsum(getattr(self, name), axis=-1)
            self._cache[key] = cum / cum[..., -1:]
        return self._cache[key]

    @property
    def _row_groups(self) -> tuple[int, int, int]:
        """Rows of :meth:`finding_rows`: (static, dynamic with a chronic shift, dynamic)."""
        if "row_groups" not in self._cache:
            order = self.row_order
            moves = self._moves[order]
            shifted = (self.chronic_shift != 0)[order]
            self._cache["row_groups"] = (
                int((~moves).sum()),
                int(shifted.sum()),
                int(moves.sum()),
            )
        return self._cache["row_groups"]

    def _dynamic_table(self, name: str, table: np.ndarray) -> np.ndarray:
        """Columns of ``table`` (last axis = findings) for the dynamic rows, rows first."""
        if name not in self._cache:
            n_static = self._row_groups[0]
            columns = self.row_order[n_static:]
            self._cache[name] = np.ascontiguousarray(np.moveaxis(table[..., columns], -1, 0))
        return self._cache[name]

    @property
    def _static_table(self) -> np.ndarray:
        """(static findings, C x (C + 1) x levels): P(finding recorded) of each (condition,
        secondary, pain-sensitivity level)."""
        if "static_table" not in self._cache:
            # logit p = logit(p_typical) + loading * level (p itself where unloaded), then
            # noisy-OR with the secondary contributor and the recording error.
            shifted = expit(
                self._typical_logit[:, None, :]
                + SENSITIVITY_LEVELS[None, :, None] * self.sensitivity_loading[None, None, :]
            )
            primary = np.where(
                self.sensitivity_loading[None, None, :] != 0, shifted, self.typical_p[:, None, :]
            )  # (C, levels, F)
            true_p = 1.0 - (1.0 - primary[:, None, :, :]) * (
                1.0 - self.secondary_p[None, :, None, :]
            )  # (C, C + 1, levels, F)
            true_p = true_p.reshape(-1, len(self.findings))
            flat = self.false_positive + self._record_scale * true_p
            columns = self.row_order[: self._row_groups[0]]
            self._cache["static_table"] = np.ascontiguousarray(flat[:, columns].T)
        return self._cache["static_table"]

    @property
    def _dynamic_logit(self) -> np.ndarray:
        """(dynamic findings, C): typical log-odds."""
        return self._dynamic_table("dynamic_logit", self._typical_logit)

    @property
    def _dynamic_not_secondary(self) -> np.ndarray:
        """(dynamic findings, C + 1): 1 - what a secondary contributor adds."""
        return self._dynamic_table("dynamic_not_secondary", 1.0 - self.secondary_p)

    @property
    def _record_scale(self) -> np.ndarray:
        """(F,): 1 - false_positive - false_negative, the slope of recorded on true."""
        return 1.0 - self.false_positive - self.false_negative

    @property
    def _dynamic_record_scale(self) -> np.ndarray:
        return self._dynamic_table("dynamic_record_scale", self._record_scale)

    @property
    def _dynamic_false_positive(self) -> np.ndarray:
        return self._dynamic_table("dynamic_false_positive", self.false_positive)

    @property
    def _dynamic_loading(self) -> np.ndarray:
        return self._dynamic_table("dynamic_loading", self.sensitivity_loading)

    @property
    def _dynamic_slope(self) -> np.ndarray:
        return self._dynamic_table("dynamic_slope", self.severity_slope)

    @property
    def _dynamic_shift(self) -> np.ndarray:
        return self._dynamic_table("dynamic_shift", self.chronic_shift)

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
    # Any real number (numpy scalars included) but not a boolean, which is a number in Python.
    if (
        isinstance(value, bool | np.bool_)
        or not isinstance(value, numbers.Real)
        or math.isnan(value)
        or not 0.0 <= float(value) <= 1.0
    ):
        raise ValueError(f"override {name!r} must be a probability in [0, 1], got {value!r}")
    return float(value)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python number it holds (mappings converted value by value), so
    that recorded overrides are plain JSON numbers."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    return value.item() if isinstance(value, np.generic) else value


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

    Returns
    -------
    PatientModel
        The arrays of the model.

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
    overrides = {key: _plain(value) for key, value in overrides.items() if value is not None}
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
    low, high = shared.get("sensitivity_low", 0.0), shared.get("sensitivity_high", 0.0)
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
        sensitivity_loading=np.array([f.sensitivity_loading for f in kb.findings]),
        sensitivity_prior=np.array([low, 1.0 - low - high, high]),
        false_positive=np.array([f.false_positive for f in kb.findings]),
        false_negative=np.array([f.false_negative for f in kb.findings]),
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
