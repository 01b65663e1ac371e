"""Sampling one block of patients: the generator's random draws, vectorised.

Patients are drawn in fixed blocks of :data:`BLOCK_SIZE`; block ``b`` of a seed uses its own
random stream ``SeedSequence(seed, spawn_key=(b,))`` (:func:`draw_block`), so patient ``i`` of
a seed is the same patient whatever the number of patients, the chunk size or the number of
processes. :func:`outcomes.engine.cohort.generate` assembles the blocks into the ``patients``
table; patient ids derive from ``(seed, index)`` alone (:func:`patient_ids`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtri

from outcomes.engine.model import ODI_TRIALS, PAIN_NRS_TRIALS, PatientModel

#: Patients per random-stream block. Changing it changes every cohort: it is part of the format.
BLOCK_SIZE = 16_384


# --------------------------------------------------------------------------------------------
# Sampling one block


def _categorical(u: np.ndarray, cdf: np.ndarray, condition: np.ndarray) -> np.ndarray:
    """Inverse-CDF draw: row ``i`` picks a category from ``cdf[condition[i]]`` using ``u[i]``.

    The code is the number of cumulative probabilities at or below ``u``, counted one category
    at a time (the last cumulative probability is exactly 1 and ``u < 1``, so it never counts).
    """
    code = np.zeros(u.shape, dtype=np.int8)
    for k in range(cdf.shape[1] - 1):
        code += u >= np.take(cdf[:, k], condition)
    return code


def _category_of(u: np.ndarray, cdf: np.ndarray) -> np.ndarray:
    """Inverse-CDF draw from one distribution: the number of entries of ``cdf`` at or below
    each ``u`` (``np.searchsorted(cdf, u, side="right")``, counted one category at a time,
    which is several times faster for a handful of categories), as ``intp`` codes.
    """
    code = np.zeros(u.shape, dtype=np.intp)
    for k in range(cdf.shape[0] - 1):
        code += u >= cdf[k]
    return code


#: Patients whose uniforms are drawn and turned findings-first at a time: small enough to
#: stay in the processor's cache while being transposed. Any value gives the same stream.
_SUB_BLOCK = 512


class Workspace:
    """Arrays one block's draw writes into, reused from block to block.

    Fresh arrays of this size for every block would cost a page fault per 4 KiB each time
    (zeroed memory from the kernel): about a tenth of the generator's time.

    Parameters
    ----------
    model
        The patient model whose findings size the arrays.

    Examples
    --------
    >>> from outcomes.engine.model import build_model
    >>> model = build_model("primary_care")
    >>> space = Workspace(model)
    >>> space.fits(model), space.present.shape[1] == BLOCK_SIZE
    (True, True)
    """

    def __init__(self, model: PatientModel):
        m, n_findings, n_missable = BLOCK_SIZE, len(model.findings), model.missable_index.size
        self.shape = (n_findings, n_missable)
        self.sub_uniforms = np.empty((_SUB_BLOCK, n_findings))
        self.uniforms = np.empty((n_findings, m))
        self.probability = np.empty((n_findings, m))
        self.work = np.empty((n_findings, m))
        self.present = np.empty((n_findings, m), dtype=bool)
        self.sub_missing_uniforms = np.empty((_SUB_BLOCK, n_missable))
        self.missing_uniforms = np.empty((n_missable, m))
        self.missing = np.empty((n_missable, m), dtype=bool)

    def fits(self, model: PatientModel) -> bool:
        return self.shape == (len(model.findings), model.missable_index.size)


def _uniforms_by_column(rng: np.random.Generator, sub: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Fill ``out`` (columns, patients) with the uniforms ``rng.random((patients, columns))``
    would give (the same stream, in the same order), drawn ``len(sub)`` patients at a time.
    """
    m = out.shape[1]
    for start in range(0, m, len(sub)):
        chunk = sub[: min(len(sub), m - start)]
        rng.random(out=chunk)
        np.copyto(out[:, start : start + len(chunk)], chunk.T)
    return out


def draw_block(
    model: PatientModel, seed: int, block: int, space: Workspace | None = None
) -> dict[str, np.ndarray]:
    """Draw :data:`BLOCK_SIZE` patients for ``block`` of ``seed``; raw arrays, fixed order.

    Arrays are indexed by patient last: ``present`` is (findings in ``model.row_order``,
    patients) and ``missing`` (missable findings, patients), so that each finding's values are
    contiguous. With a ``space``, ``present`` and ``missing`` are its arrays: the next draw
    into the same space overwrites them.

    Parameters
    ----------
    model
        The patient model.
    seed
        The cohort's seed.
    block
        Which block: patients ``block * BLOCK_SIZE`` onwards.
    space
        Arrays to draw into (:class:`Workspace`), or None for fresh ones.

    Returns
    -------
    dict of str to numpy.ndarray
        The raw draws (condition codes, severity, findings present and missing, ...).

    Examples
    --------
    >>> from outcomes.engine.model import build_model
    >>> raw = draw_block(build_model("primary_care"), seed=1, block=0)
    >>> raw["condition"].shape == (BLOCK_SIZE,)
    True
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block,)))
    m = BLOCK_SIZE
    space = space if space is not None and space.fits(model) else Workspace(model)
    per = model.per_condition  # condition-level constants, looked up by condition code

    condition = _category_of(rng.random(m), model.cdf("prior"))
    secondary = _categorical(rng.random(m), model.cdf("secondary"), condition)
    severity = rng.beta(np.take(model.beta_a, condition), np.take(model.beta_b, condition))
    chronic = rng.random(m) < np.take(model.chronic_fraction, condition)
    threshold = model.chronic_threshold_weeks
    acute_weeks = rng.integers(1, threshold + 1, size=m)
    extra_weeks = rng.geometric(1.0 / model.chronic_extra_weeks_mean, size=m)
    duration = np.where(chronic, threshold + extra_weeks, acute_weeks)
    # Shared pain-sensitivity factor: code 0, 1, 2 for levels -1, 0, +1.
    sensitivity = _category_of(rng.random(m), model.cdf("sensitivity_prior")).astype(np.int8)
    level = sensitivity - 1.0

    # Findings: the stream gives the uniforms patients x findings; they are laid out findings
    # x patients (each finding's values contiguous) and compared with the probabilities.
    uniforms = _uniforms_by_column(rng, space.sub_uniforms, space.uniforms)
    p = model.finding_rows(
        condition, secondary, severity, chronic, level, space.probability, space.work
    )
    present = space.present
    for row, finding in enumerate(model.row_order):
        np.less(uniforms[finding], p[row], out=present[row])
    missable = model.missable_index
    uniforms = _uniforms_by_column(rng, space.sub_missing_uniforms, space.missing_uniforms)
    missing = np.less(uniforms, model.missing[missable, None], out=space.missing)
    present[model.row_of_finding[missable]] &= ~missing  # irrelevant under the mask: False

    # Side: 2 (both) below P(both), else 0 (left) below the left/right threshold, else 1. The
    # threshold is at least P(both), so the two tests never both add.
    u_side = rng.random(m)
    side = np.less(u_side, np.take(model.bilateral, condition)).view(np.int8) * np.int8(2)
    side += np.greater_equal(u_side, np.take(per["one_side"], condition)).view(np.int8)

    # Age: normal truncated to [age_min, age_max + 1) by inverse CDF, floored to years.
    mu, sd = np.take(model.age_mean, condition), np.take(model.age_sd, condition)
    lo = np.take(per["age_cdf_low"], condition)
    age = np.floor(mu + sd * ndtri(lo + rng.random(m) * np.take(per["age_cdf_span"], condition)))
    age = np.clip(age, model.age_min, model.age_max)

    female = rng.random(m) < np.take(model.female, condition)
    occupation = _categorical(rng.random(m), model.cdf("occupation"), condition)
    sudden = rng.random(m) < np.take(model.onset_sudden, condition)
    trigger = _categorical(rng.random(m), model.cdf("trigger"), condition)
    p_pain = np.take(per["pain_low"], condition) + np.take(per["pain_span"], condition) * severity
    p_odi = np.take(per["odi_low"], condition) + np.take(per["odi_span"], condition) * severity
    pain = rng.binomial(PAIN_NRS_TRIALS, p_pain)
    odi = 2 * rng.binomial(ODI_TRIALS, p_odi)

    return {
        "condition": condition.astype(np.int8),
        "pathway": np.take(model.pathway_code, condition),
        "secondary": secondary,
        "severity": severity,
        "sensitivity": sensitivity,
        "chronic": chronic,
        "duration": duration.astype(np.int16),
        "present": present,
        "missing": missing,
        "side": side,
        "age": age.astype(np.int16),
        "female": female,
        "occupation": occupation,
        "sudden": sudden,
        "trigger": trigger,
        "pain": pain.astype(np.int8),
        "odi": odi.astype(np.int8),
    }


#: Unicode code points of "0000" .. "9999": patient-id digits are written four at a time.
_DIGITS4 = (
    np.stack([np.arange(10_000) // 10**k % 10 for k in (3, 2, 1, 0)], axis=1) + ord("0")
).astype(np.uint32)


#: Patient ids built per this many rows: the digit codes of one step stay small and in cache.
_ID_ROWS = 65_536


def patient_ids(seed: int, start: int, stop: int) -> pd.arrays.StringArray:
    """Ids ``'<seed>-<index>'``, the index zero-padded to 8 digits, for rows ``[start, stop)``.

    Built :data:`_ID_ROWS` rows at a time as fixed-width UCS-4 codes in numpy (one width per
    digit count), each step turned into Python strings straight into one object array:
    pandas' ``"string"`` dtype holds Python ``str`` objects, and that array becomes its storage.

    Parameters
    ----------
    seed
        The cohort's seed.
    start, stop
        The rows.

    Returns
    -------
    pandas.arrays.StringArray

    Examples
    --------
    >>> patient_ids(42, 99_999_999, 100_000_001).tolist()
    ['42-99999999', '42-100000000']
    """
    prefix = np.array([ord(ch) for ch in f"{seed}-"], dtype=np.uint32)
    ids = np.empty(stop - start, dtype=object)
    lo = start
    while lo < stop:
        digits = max(8, len(str(lo)))
        hi = min(stop, 10**digits, lo + _ID_ROWS)
        groups = -(-digits // 4)
        skip = 4 * groups - digits  # leading zeros of the four-digit groups that are not shown
        codes = np.empty((hi - lo, prefix.size + 4 * groups), dtype=np.uint32)
        rest = np.arange(lo, hi, dtype=np.int64)
        for g in range(groups - 1, -1, -1):
            rest, low = np.divmod(rest, 10_000)
            at = prefix.size + 4 * g
            codes[:, at : at + 4] = np.take(_DIGITS4, low, axis=0)
        codes[:, skip : skip + prefix.size] = prefix
        codes = np.ascontiguousarray(codes[:, skip:])
        ids[lo - start : hi - start] = codes.view(f"U{codes.shape[1]}").ravel()
        lo = hi
    # pandas "string" (not string[pyarrow]) so that a Parquet round trip gives equal frames;
    # copy=False: the object array is fresh, so it becomes the column's storage as it is.
    return pd.array(ids, dtype="string", copy=False)
