"""Vectorised generation of synthetic patients with leg or buttock pain.

``generate(n, seed, setting)`` returns the ``patients`` table of DESIGN.md. Patients are drawn
in fixed blocks of :data:`BLOCK_SIZE`; block ``b`` uses its own random stream
``SeedSequence(seed, spawn_key=(b,))``. So patient ``i`` of a seed is the same patient whatever
``n``, whatever ``chunk_size`` and however many processes draw the blocks, and patient ids
derive from ``(seed, index)`` alone.
"""

from __future__ import annotations

import copy
import signal
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtri
from tqdm import tqdm

from outcomes.engine.model import ODI_TRIALS, PAIN_NRS_TRIALS, PatientModel, build_model
from outcomes.infra.progress import progress_bar
from outcomes.knowledge import NO_SECONDARY, ONSETS, SEXES, SIDES, Knowledge, load_knowledge

# The patients table's columns are declared in outcomes.tables.columns; re-exported here for
# the code that imports them from the generator.
from outcomes.tables.columns import SENSITIVITY_CATEGORIES as SENSITIVITY_CATEGORIES
from outcomes.tables.columns import TRUTH_COLUMNS as TRUTH_COLUMNS
from outcomes.tables.columns import Column as Column
from outcomes.tables.columns import feature_columns as feature_columns
from outcomes.tables.columns import patient_columns as patient_columns

#: Patients per random-stream block. Changing it changes every cohort: it is part of the format.
BLOCK_SIZE = 16_384
#: Cohorts at least this large show a progress bar on a terminal (see :func:`generate`).
PROGRESS_MIN_ROWS = 1_000_000
#: Key of ``DataFrame.attrs`` under which generated tables record how they were made
#: (see :func:`generated_with`).
GENERATED_WITH_KEY = "outcomes.generated_with"


# --------------------------------------------------------------------------------------------
# Validation of arguments


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_seed(seed: Any) -> int:
    return _check_int("seed", seed, 0)


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


class _Workspace:
    """Arrays one block's draw writes into, reused from block to block.

    Fresh arrays of this size for every block would cost a page fault per 4 KiB each time
    (zeroed memory from the kernel): about a tenth of the generator's time.
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


def _draw_block(
    model: PatientModel, seed: int, block: int, space: _Workspace | None = None
) -> dict[str, np.ndarray]:
    """Draw :data:`BLOCK_SIZE` patients for ``block`` of ``seed``; raw arrays, fixed order.

    Arrays are indexed by patient last: ``present`` is (findings in ``model.row_order``,
    patients) and ``missing`` (missable findings, patients), so that each finding's values are
    contiguous. With a ``space``, ``present`` and ``missing`` are its arrays: the next draw
    into the same space overwrites them.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block,)))
    m = BLOCK_SIZE
    space = space if space is not None and space.fits(model) else _Workspace(model)
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


def _progress_bar(n: int, progress: bool | None) -> tqdm:
    """A progress bar over ``n`` patients: shown for big cohorts on a terminal only.

    ``progress=None`` shows it when ``n >= PROGRESS_MIN_ROWS``, stderr is a terminal and
    ``TQDM_DISABLE`` is unset (so notebooks' stored outputs and CI logs stay quiet); ``True``
    always, ``False`` never. See :func:`outcomes.infra.progress.progress_bar`.
    """
    return progress_bar(total=n, desc="generating", unit="patients", show=progress,
                        min_total=PROGRESS_MIN_ROWS, unit_scale=True)  # fmt: skip


class _BlockCache:
    """The last block drawn, kept so that consecutive chunks inside one block draw it once.

    Chunked generation asks for rows ``[start, stop)`` chunk by chunk; without the cache a
    chunk of 1,000 rows would redraw its whole :data:`BLOCK_SIZE` block each time. The block's
    arrays live in one :class:`_Workspace`, overwritten by the next draw: callers copy the rows
    they need before asking for another block (so reusing them cannot change data).
    """

    def __init__(self) -> None:
        self._key: tuple[PatientModel, int, int] | None = None
        self._raw: dict[str, np.ndarray] = {}
        self._space: _Workspace | None = None

    def draw(self, model: PatientModel, seed: int, block: int) -> dict[str, np.ndarray]:
        key = self._key
        if key is None or key[0] is not model or key[1:] != (seed, block):
            if self._space is None or not self._space.fits(model):
                self._space = _Workspace(model)
            self._key = None  # a failed draw must not leave a stale key behind
            self._raw = _draw_block(model, seed, block, self._space)
            self._key = (model, seed, block)
        return self._raw


def _raw_rows(
    model: PatientModel,
    seed: int,
    start: int,
    stop: int,
    bar: tqdm | None = None,
    blocks: _BlockCache | None = None,
) -> Iterator[tuple[int, dict]]:
    """Yield ``(offset, arrays)`` covering rows ``[start, stop)``, block by block.

    The arrays are valid until the next step (see :class:`_BlockCache`).
    """
    blocks = blocks if blocks is not None else _BlockCache()
    for block in range(start // BLOCK_SIZE, (stop - 1) // BLOCK_SIZE + 1):
        block_start = block * BLOCK_SIZE
        lo, hi = max(start, block_start), min(stop, block_start + BLOCK_SIZE)
        raw = blocks.draw(model, seed, block)
        if bar is not None:
            bar.update(hi - lo)
        yield lo - start, {k: v[..., lo - block_start : hi - block_start] for k, v in raw.items()}


#: Unicode code points of "0000" .. "9999": patient-id digits are written four at a time.
_DIGITS4 = (
    np.stack([np.arange(10_000) // 10**k % 10 for k in (3, 2, 1, 0)], axis=1) + ord("0")
).astype(np.uint32)


#: Patient ids built per this many rows: the digit codes of one step stay small and in cache.
_ID_ROWS = 65_536


def _patient_ids(seed: int, start: int, stop: int) -> pd.arrays.StringArray:
    """Ids ``'<seed>-<index>'``, the index zero-padded to 8 digits, for rows ``[start, stop)``.

    Built :data:`_ID_ROWS` rows at a time as fixed-width UCS-4 codes in numpy (one width per
    digit count), each step turned into Python strings straight into one object array:
    pandas' ``"string"`` dtype holds Python ``str`` objects, and that array becomes its storage.
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


def _frame(
    model: PatientModel,
    seed: int,
    start: int,
    stop: int,
    bar: tqdm | None = None,
    blocks: _BlockCache | None = None,
) -> pd.DataFrame:
    """Assemble rows ``[start, stop)`` into the ``patients`` table with explicit dtypes.

    ``blocks`` keeps the last block drawn between calls (consecutive chunks of one cohort).
    """
    n = stop - start
    kb = model.knowledge
    n_findings = len(model.findings)
    buffers: dict[str, np.ndarray] = {}
    for offset, raw in _raw_rows(model, seed, start, stop, bar, blocks):
        if not buffers:
            # Rows last: the (findings, rows) buffers give contiguous per-finding columns.
            buffers = {k: np.empty((*v.shape[:-1], n), dtype=v.dtype) for k, v in raw.items()}
        length = len(raw["condition"])
        for k, v in raw.items():
            buffers[k][..., offset : offset + length] = v
    b = buffers

    def categorical(codes: np.ndarray, categories: tuple[str, ...]) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, dtype=_categorical_dtype(tuple(categories)))

    setting_code = np.full(n, kb.setting_names.index(model.setting), dtype=np.int8)
    columns: dict[str, Any] = {
        "patient_id": _patient_ids(seed, start, stop),
        "setting": categorical(setting_code, kb.setting_names),
        "age": b["age"],
        "sex": categorical(_code_of_false(b["female"]), SEXES),
        "occupation": categorical(b["occupation"], kb.occupations),
        "onset": categorical(_code_of_false(b["sudden"]), ONSETS),
        "trigger": categorical(b["trigger"], kb.triggers),
        "symptom_duration_weeks": b["duration"],
        "chronic": b["chronic"],
        "side": categorical(b["side"], SIDES),
    }
    missable = list(model.missable_index)
    for j, finding in enumerate(kb.findings):
        values = b["present"][model.row_of_finding[j]]
        if j in missable:
            columns[finding.name] = pd.arrays.BooleanArray(values, b["missing"][missable.index(j)])
        else:
            columns[finding.name] = values
    assert len(kb.findings) == n_findings
    columns.update(
        {
            "pain_nrs": b["pain"],
            "odi": b["odi"],
            "condition": categorical(b["condition"], kb.condition_names),
            "secondary_condition": categorical(b["secondary"], (NO_SECONDARY, *kb.condition_names)),
            "pathway": categorical(b["pathway"], kb.pathways),
            "latent_severity": b["severity"],
            "pain_sensitivity": categorical(b["sensitivity"], SENSITIVITY_CATEGORIES),
        }
    )
    # copy=False: the columns are fresh arrays owned by this frame; no need to copy them again.
    return pd.DataFrame(columns, index=pd.RangeIndex(start, stop), copy=False)


@cache
def _categorical_dtype(categories: tuple[str, ...]) -> pd.CategoricalDtype:
    """One dtype object per category list: building it validates the categories each time."""
    return pd.CategoricalDtype(list(categories))


def _code_of_false(flag: np.ndarray) -> np.ndarray:
    """Category codes 0 where ``flag`` is True and 1 where it is False, as int8."""
    return np.logical_not(flag).view(np.int8)


def _resolve(
    n: Any, seed: Any, setting: str | None, knowledge: Knowledge | None, overrides: dict
) -> tuple[int, int, PatientModel]:
    n = _check_int("n", n, 1)
    seed = _check_seed(seed)
    return n, seed, build_model(setting, knowledge, **overrides)


def record_generated_with(
    df: pd.DataFrame, setting: str, overrides: Mapping[str, Any]
) -> pd.DataFrame:
    """Record on ``df`` (in place, returned) the setting and overrides it was generated with,
    as :func:`generate` does, for :func:`generated_with` and the oracle to read: e.g. for a
    cohort file read back with the parameters from its metadata
    (:func:`outcomes.infra.io.read_metadata`).

    Examples
    --------
    >>> df = record_generated_with(pd.DataFrame(), "sports_clinic", {"exam_missing_rate": 0.5})
    >>> generated_with(df)
    {'setting': 'sports_clinic', 'overrides': {'exam_missing_rate': 0.5}}
    """
    df.attrs[GENERATED_WITH_KEY] = {"setting": setting, "overrides": copy.deepcopy(dict(overrides))}
    return df


def _recorded(df: pd.DataFrame, model: PatientModel) -> pd.DataFrame:
    return record_generated_with(df, model.setting, model.overrides)


def generated_with(patients: pd.DataFrame) -> dict[str, Any] | None:
    """The care setting and generator overrides a ``patients`` table was generated with.

    :func:`generate`, :func:`iter_chunks` and :func:`generate_from_model` record them in the
    table's ``attrs``, which pandas carries through row and column selection (``.iloc``,
    ``.loc``, boolean masks, ``df[columns]``), ``.copy()``, ``.assign``, ``.sample``,
    ``pd.concat`` of tables that recorded the same thing, pickles, and Parquet files written
    from the table (:func:`outcomes.infra.io.write_table`, ``DataFrame.to_parquet``) and read back
    with :func:`outcomes.infra.io.read_table` or ``pandas.read_parquet``. Nothing is recorded
    (``None``) after ``pd.concat`` of cohorts made differently, in CSV files, in tables read
    by :func:`outcomes.analysis.userdata.read_patients` (a team's file), and in files written by
    :func:`write_cohort`, whose bytes do not depend on it (their generation parameters are
    in :func:`outcomes.infra.io.read_metadata`). ``df.equals`` ignores ``attrs``, and so does
    ``pandas.testing.assert_frame_equal`` in pandas 2.

    :class:`outcomes.triage.oracle.BayesOracle` reads the overrides from here when none are given.

    Returns
    -------
    dict or None
        ``{"setting": str, "overrides": dict}`` (a copy), or ``None`` if nothing is recorded.

    Raises
    ------
    ValueError
        If something is recorded under :data:`GENERATED_WITH_KEY` but is not of that form.

    Examples
    --------
    >>> df = generate(100, seed=1, setting="sports_clinic", exam_missing_rate=0.5)
    >>> generated_with(df.iloc[:10])
    {'setting': 'sports_clinic', 'overrides': {'exam_missing_rate': 0.5}}
    >>> generated_with(pd.concat([df, generate(100, seed=2)])) is None
    True
    """
    attrs = getattr(patients, "attrs", None) or {}
    if GENERATED_WITH_KEY not in attrs:
        return None
    recorded = attrs[GENERATED_WITH_KEY]
    if (
        not isinstance(recorded, Mapping)
        or not isinstance(recorded.get("setting"), str)
        or not isinstance(recorded.get("overrides"), Mapping)
    ):
        raise ValueError(
            f"attrs[{GENERATED_WITH_KEY!r}] must be a mapping with a 'setting' (text) and "
            f"'overrides' (a mapping), as generate records it; got {recorded!r}"
        )
    return {"setting": recorded["setting"], "overrides": copy.deepcopy(dict(recorded["overrides"]))}


def generate(
    n: int,
    seed: int,
    setting: str | None = None,
    *,
    chunk_size: int | None = None,
    knowledge: Knowledge | None = None,
    progress: bool | None = None,
    **overrides: Any,
) -> pd.DataFrame:
    """Generate ``n`` synthetic patients: the ``patients`` table.

    Parameters
    ----------
    n
        Number of patients (>= 1).
    seed
        Non-negative integer seed. Same ``(n, seed, setting, overrides)`` gives identical data.
    setting
        Care setting (``primary_care``, ``spine_clinic``, ``sports_clinic``, ...); ``None``
        for the knowledge base's default.
    chunk_size
        If given, build the table from chunks of this many rows (less peak memory in
        :func:`iter_chunks` pipelines). The result is identical to ``chunk_size=None``.
    knowledge
        A knowledge base other than the packaged one.
    progress
        Progress bar on stderr: ``None`` (default) shows one for cohorts of at least
        :data:`PROGRESS_MIN_ROWS` patients when stderr is a terminal; ``True``/``False``
        force it on/off. It never changes the data.
    **overrides
        Scenario overrides, see :data:`outcomes.engine.model.OVERRIDES`.

    Returns
    -------
    pandas.DataFrame
        One row per patient, columns as in :func:`patient_columns`. Its ``attrs`` record the
        setting and overrides (:func:`generated_with`), so that the oracle's default prior is
        the one the patients were drawn from.

    Raises
    ------
    ValueError
        Naming the argument that is wrong (``n``, ``seed``, ``setting``, an override).

    Examples
    --------
    >>> df = generate(1000, seed=7, setting="sports_clinic")
    >>> len(df), df["pathway"].dtype.name
    (1000, 'category')
    >>> df.equals(generate(1000, seed=7, setting="sports_clinic", chunk_size=300))
    True
    """
    n, seed, model = _resolve(n, seed, setting, knowledge, overrides)
    if chunk_size is None:
        with _progress_bar(n, progress) as bar:
            return _recorded(_frame(model, seed, 0, n, bar), model)
    chunk_size = _check_int("chunk_size", chunk_size, 1)
    return _recorded(pd.concat(list(_chunks(model, n, seed, chunk_size, progress))), model)


def _chunks(
    model: PatientModel, n: int, seed: int, chunk_size: int, progress: bool | None = False
) -> Iterator[pd.DataFrame]:
    blocks = _BlockCache()
    with _progress_bar(n, progress) as bar:
        for start in range(0, n, chunk_size):
            yield _frame(model, seed, start, min(n, start + chunk_size), bar, blocks=blocks)


def iter_chunks(
    n: int,
    seed: int,
    setting: str | None = None,
    *,
    chunk_size: int = 10 * BLOCK_SIZE,
    knowledge: Knowledge | None = None,
    **overrides: Any,
) -> Iterator[pd.DataFrame]:
    """Yield the cohort of :func:`generate` as consecutive DataFrames of ``chunk_size`` rows.

    Concatenated, the chunks equal ``generate(n, seed, setting, **overrides)``; each records
    the same :func:`generated_with`, so their concatenation does too.

    Examples
    --------
    >>> sizes = [len(c) for c in iter_chunks(2500, seed=1, chunk_size=1000)]
    >>> sizes
    [1000, 1000, 500]
    """
    n, seed, model = _resolve(n, seed, setting, knowledge, overrides)
    chunk_size = _check_int("chunk_size", chunk_size, 1)
    return (_recorded(chunk, model) for chunk in _chunks(model, n, seed, chunk_size))


def generate_from_model(model: PatientModel, n: int, seed: int, start: int = 0) -> pd.DataFrame:
    """Rows ``[start, start + n)`` of the cohort of ``seed`` under an already built model.

    Used to split generation across processes: each worker draws its own range and the
    concatenation equals :func:`generate`.

    Examples
    --------
    >>> from outcomes.engine.model import build_model
    >>> m = build_model("primary_care")
    >>> a = generate_from_model(m, 100, seed=3, start=50)
    >>> a.equals(generate(150, seed=3, setting="primary_care").iloc[50:])
    True
    """
    n = _check_int("n", n, 1)
    start = _check_int("start", start, 0)
    return _recorded(_frame(model, _check_seed(seed), start, start + n), model)


def write_cohort(
    path: str | Path,
    n: int,
    seed: int,
    setting: str | None = None,
    *,
    fmt: str | None = None,
    chunk_size: int = 10 * BLOCK_SIZE,
    knowledge: Knowledge | None = None,
    progress: bool | None = None,
    workers: int = 1,
    **overrides: Any,
) -> Path:
    """Generate a cohort and stream it to ``path`` (Parquet or CSV), atomically.

    Memory stays bounded by ``chunk_size`` rows; the file's bytes do not depend on it.
    ``progress`` is as in :func:`generate`. With ``workers > 1`` chunks are drawn in that
    many processes (each chunk's random streams depend only on the seed and the rows, see
    :data:`BLOCK_SIZE`), and written in order: the file is byte-identical to ``workers=1``.
    Parquet files record ``n``, ``seed``, ``setting``, overrides and the package version in
    their metadata (:func:`outcomes.infra.io.read_metadata`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = write_cohort(pathlib.Path(tempfile.mkdtemp()) / "c.parquet", 500, seed=3)
    >>> from outcomes.infra.io import read_metadata
    >>> read_metadata(out)["seed"]
    3
    """
    from outcomes import __version__
    from outcomes.infra.io import infer_format, write_chunks

    fmt = infer_format(path, fmt)  # fail on a bad format before any work
    n, seed, model = _resolve(n, seed, setting, knowledge, overrides)
    chunk_size = _check_int("chunk_size", chunk_size, 1)
    workers = _check_int("workers", workers, 1)
    metadata = {
        "generator": "outcomes.cohort.generate",
        "version": __version__,
        "n": n,
        "seed": seed,
        "setting": model.setting,
        "overrides": dict(model.overrides),
    }
    if workers == 1:
        chunks = _chunks(model, n, seed, chunk_size, progress)
    else:
        kb = knowledge if knowledge is not None else load_knowledge()
        recipe = (str(kb.directory), model.setting, dict(model.overrides))
        chunks = _parallel_chunks(recipe, n, seed, chunk_size, workers, progress)
    return write_chunks(chunks, path, fmt, metadata)


# Worker processes rebuild the model from its recipe once (the knowledge objects are frozen
# mapping proxies, which do not pickle) and then draw the row ranges they are sent, keeping
# their last block for the next range.
_WORKER_MODEL: PatientModel | None = None
_WORKER_BLOCKS = _BlockCache()


def _init_worker(recipe: tuple[str, str, dict[str, Any]]) -> None:
    global _WORKER_MODEL
    # Ctrl-C goes to the whole process group: the parent reports it once and shuts the pool
    # down; workers printing their own KeyboardInterrupt tracebacks would only add noise.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from outcomes.infra.processes import die_with_parent

    die_with_parent()  # a parent killed outright leaves no worker behind
    directory, setting, overrides = recipe
    _WORKER_MODEL = build_model(setting, load_knowledge(directory), **overrides)


def _worker_frame(seed: int, start: int, stop: int) -> pd.DataFrame:
    assert _WORKER_MODEL is not None, "worker not initialised"
    return _frame(_WORKER_MODEL, seed, start, stop, blocks=_WORKER_BLOCKS)


def _parallel_chunks(
    recipe: tuple[str, str, dict[str, Any]],
    n: int,
    seed: int,
    chunk_size: int,
    workers: int,
    progress: bool | None,
) -> Iterator[pd.DataFrame]:
    """Chunks drawn by a process pool, yielded in row order.

    At most ``2 * workers`` chunks are in flight, so memory stays bounded by the chunk size
    however far the writer lags.
    """
    import multiprocessing
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    starts = iter(range(0, n, chunk_size))
    # "spawn" is safe with threads in the parent (BLAS, Arrow); fork is not.
    context = multiprocessing.get_context("spawn")
    with (
        ProcessPoolExecutor(workers, context, _init_worker, (recipe,)) as pool,
        _progress_bar(n, progress) as bar,
    ):
        pending: deque = deque()
        try:
            for start in starts:
                pending.append(pool.submit(_worker_frame, seed, start, min(n, start + chunk_size)))
                if len(pending) >= 2 * workers:
                    break
            while pending:
                frame = pending.popleft().result()
                nxt = next(starts, None)
                if nxt is not None:
                    pending.append(pool.submit(_worker_frame, seed, nxt, min(n, nxt + chunk_size)))
                bar.update(len(frame))
                yield frame
        except BaseException:
            # Interrupted (Ctrl-C, SIGTERM), failed or abandoned: stop the workers now rather
            # than wait for chunks nobody will read.
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.terminate()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
