"""Vectorised generation of synthetic patients with leg or buttock pain.

``generate(n, seed, setting)`` returns the ``patients`` table of DESIGN.md. Patients are drawn
in fixed blocks of :data:`BLOCK_SIZE`; block ``b`` uses its own random stream
``SeedSequence(seed, spawn_key=(b,))``. So patient ``i`` of a seed is the same patient whatever
``n``, whatever ``chunk_size`` and however many processes draw the blocks, and patient ids
derive from ``(seed, index)`` alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.special import ndtr, ndtri
from tqdm import tqdm

from outcomes.knowledge import NO_SECONDARY, ONSETS, SEXES, SIDES, Knowledge, load_knowledge
from outcomes.model import ODI_TRIALS, PAIN_NRS_TRIALS, PatientModel, build_model
from outcomes.progress import progress_bar

#: Patients per random-stream block. Changing it changes every cohort: it is part of the format.
BLOCK_SIZE = 16_384
#: Cohorts at least this large show a progress bar on a terminal (see :func:`generate`).
PROGRESS_MIN_ROWS = 1_000_000
#: Columns that hold the truth the generator knows and a triage method must not see.
TRUTH_COLUMNS = ("condition", "secondary_condition", "pathway", "latent_severity")


@dataclass(frozen=True)
class Column:
    """One column of the ``patients`` table: name, pandas dtype and meaning."""

    name: str
    dtype: str
    meaning: str
    categories: tuple[str, ...] | None = None


def patient_columns(knowledge: Knowledge | None = None) -> list[Column]:
    """The ``patients`` table's columns in order, with dtypes and meanings.

    Examples
    --------
    >>> cols = patient_columns()
    >>> cols[0].name, cols[0].dtype
    ('patient_id', 'string')
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    cat = "category"
    cols = [
        Column("patient_id", "string", "Patient id, '<seed>-<index>' (8-digit zero-padded index)"),
        Column("setting", cat, "Care setting the patient presented to", kb.setting_names),
        Column("age", "int16", "Age in whole years"),
        Column("sex", cat, "Sex", SEXES),
        Column("occupation", cat, "Main occupation or activity", kb.occupations),
        Column("onset", cat, "How symptoms began", ONSETS),
        Column("trigger", cat, "What the patient links the onset to", kb.triggers),
        Column("symptom_duration_weeks", "int16", "Weeks since symptoms began"),
        Column(
            "chronic",
            "bool",
            f"Symptoms for more than {int(kb.shared['chronic_threshold_weeks'])} weeks",
        ),
        Column("side", cat, "Side of the leg (or arm) symptoms", SIDES),
    ]
    for f in kb.findings:
        if f.can_be_missing:
            cols.append(Column(f.name, "boolean", f"{f.label} ({f.kind}; <NA> = not recorded)"))
        else:
            cols.append(Column(f.name, "bool", f"{f.label} ({f.kind})"))
    cols += [
        Column("pain_nrs", "int8", "Baseline pain, numeric rating scale 0-10"),
        Column("odi", "int8", "Baseline Oswestry Disability Index 0-100 (steps of 2)"),
        Column("condition", cat, "True condition (hidden from triage)", kb.condition_names),
        Column(
            "secondary_condition",
            cat,
            "Secondary contributor to the presentation, or 'none' (hidden from triage)",
            (NO_SECONDARY, *kb.condition_names),
        ),
        Column("pathway", cat, "Care pathway that fits the true condition", kb.pathways),
        Column("latent_severity", "float64", "Latent severity 0-1 (hidden from triage)"),
    ]
    return cols


def feature_columns(knowledge: Knowledge | None = None) -> list[str]:
    """Columns a triage method may use: everything recorded at presentation.

    Examples
    --------
    >>> "exam_fair_test" in feature_columns() and "condition" not in feature_columns()
    True
    """
    return [
        c.name
        for c in patient_columns(knowledge)
        if c.name not in TRUTH_COLUMNS and c.name != "patient_id"
    ]


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


def _categorical(u: np.ndarray, cdf: np.ndarray) -> np.ndarray:
    """Inverse-CDF draw: row ``i`` picks a category from ``cdf[i]`` using uniform ``u[i]``."""
    return (u[:, None] >= cdf).sum(axis=1, dtype=np.int8)


def _draw_block(model: PatientModel, seed: int, block: int) -> dict[str, np.ndarray]:
    """Draw :data:`BLOCK_SIZE` patients for ``block`` of ``seed``; raw arrays, fixed order."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block,)))
    m = BLOCK_SIZE
    n_findings = len(model.findings)

    condition = np.searchsorted(model.cdf("prior"), rng.random(m), side="right").astype(np.int8)
    secondary = _categorical(rng.random(m), np.take(model.cdf("secondary"), condition, axis=0))
    severity = rng.beta(model.beta_a[condition], model.beta_b[condition])
    chronic = rng.random(m) < model.chronic_fraction[condition]
    threshold = model.chronic_threshold_weeks
    acute_weeks = rng.integers(1, threshold + 1, size=m)
    extra_weeks = rng.geometric(1.0 / model.chronic_extra_weeks_mean, size=m)
    duration = np.where(chronic, threshold + extra_weeks, acute_weeks)

    p_finding = model.finding_probability(condition, secondary, severity, chronic)
    present = rng.random((m, n_findings)) < p_finding
    missable = model.missable
    missing = np.zeros((m, n_findings), dtype=bool)
    missing[:, missable] = rng.random((m, int(missable.sum()))) < model.missing[missable]
    present &= ~missing  # values under a missing mask are irrelevant; keep them False

    u_side = rng.random(m)
    both = model.bilateral[condition]
    side = np.where(u_side < both, 2, np.where(u_side < both + (1 - both) / 2, 0, 1))

    # Age: normal truncated to [age_min, age_max + 1) by inverse CDF, floored to years.
    mu, sd = model.age_mean[condition], model.age_sd[condition]
    lo = ndtr((model.age_min - mu) / sd)
    hi = ndtr((model.age_max + 1 - mu) / sd)
    age = np.floor(mu + sd * ndtri(lo + rng.random(m) * (hi - lo)))
    age = np.clip(age, model.age_min, model.age_max)

    female = rng.random(m) < model.female[condition]
    occupation = _categorical(rng.random(m), np.take(model.cdf("occupation"), condition, axis=0))
    sudden = rng.random(m) < model.onset_sudden[condition]
    trigger = _categorical(rng.random(m), np.take(model.cdf("trigger"), condition, axis=0))
    p_pain = (
        model.pain_range[condition, 0] + np.diff(model.pain_range, axis=1)[condition, 0] * severity
    )
    p_odi = (
        model.odi_range[condition, 0] + np.diff(model.odi_range, axis=1)[condition, 0] * severity
    )
    pain = rng.binomial(PAIN_NRS_TRIALS, p_pain)
    odi = 2 * rng.binomial(ODI_TRIALS, p_odi)

    return {
        "condition": condition,
        "secondary": secondary,
        "severity": severity,
        "chronic": chronic,
        "duration": duration.astype(np.int16),
        # Findings are stored one row per finding so that each column is contiguous.
        "present": present.T,
        "missing": missing.T,
        "side": side.astype(np.int8),
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
    always, ``False`` never. See :func:`outcomes.progress.progress_bar`.
    """
    return progress_bar(total=n, desc="generating", unit="patients", show=progress,
                        min_total=PROGRESS_MIN_ROWS, unit_scale=True)  # fmt: skip


def _raw_rows(
    model: PatientModel, seed: int, start: int, stop: int, bar: tqdm | None = None
) -> Iterator[tuple[int, dict]]:
    """Yield ``(offset, arrays)`` covering rows ``[start, stop)``, block by block."""
    for block in range(start // BLOCK_SIZE, (stop - 1) // BLOCK_SIZE + 1):
        block_start = block * BLOCK_SIZE
        lo, hi = max(start, block_start), min(stop, block_start + BLOCK_SIZE)
        raw = _draw_block(model, seed, block)
        if bar is not None:
            bar.update(hi - lo)
        yield lo - start, {k: v[..., lo - block_start : hi - block_start] for k, v in raw.items()}


def _patient_ids(seed: int, start: int, stop: int) -> pd.arrays.StringArray:
    index = pa.array(np.arange(start, stop, dtype=np.int64))
    digits = pc.utf8_lpad(pc.cast(index, pa.string()), width=8, padding="0")
    ids = pc.binary_join_element_wise(pa.scalar(f"{seed}-"), digits, "")
    # pandas "string" (not string[pyarrow]) so that a Parquet round trip gives equal frames.
    return pd.array(ids.to_numpy(zero_copy_only=False), dtype="string")


def _frame(
    model: PatientModel, seed: int, start: int, stop: int, bar: tqdm | None = None
) -> pd.DataFrame:
    """Assemble rows ``[start, stop)`` into the ``patients`` table with explicit dtypes."""
    n = stop - start
    kb = model.knowledge
    n_findings = len(model.findings)
    buffers: dict[str, np.ndarray] = {}
    for offset, raw in _raw_rows(model, seed, start, stop, bar):
        if not buffers:
            # Rows last: the (findings, rows) buffers give contiguous per-finding columns.
            buffers = {k: np.empty((*v.shape[:-1], n), dtype=v.dtype) for k, v in raw.items()}
        length = len(raw["condition"])
        for k, v in raw.items():
            buffers[k][..., offset : offset + length] = v
    b = buffers

    def categorical(codes: np.ndarray, categories: tuple[str, ...]) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, categories=list(categories))

    setting_code = np.full(n, kb.setting_names.index(model.setting), dtype=np.int8)
    columns: dict[str, Any] = {
        "patient_id": _patient_ids(seed, start, stop),
        "setting": categorical(setting_code, kb.setting_names),
        "age": b["age"],
        "sex": categorical(np.where(b["female"], 0, 1).astype(np.int8), SEXES),
        "occupation": categorical(b["occupation"], kb.occupations),
        "onset": categorical(np.where(b["sudden"], 0, 1).astype(np.int8), ONSETS),
        "trigger": categorical(b["trigger"], kb.triggers),
        "symptom_duration_weeks": b["duration"],
        "chronic": b["chronic"],
        "side": categorical(b["side"], SIDES),
    }
    missable = model.missable
    for j, finding in enumerate(kb.findings):
        values = b["present"][j]
        if missable[j]:
            columns[finding.name] = pd.arrays.BooleanArray(values, b["missing"][j])
        else:
            columns[finding.name] = values
    assert len(kb.findings) == n_findings
    columns.update(
        {
            "pain_nrs": b["pain"],
            "odi": b["odi"],
            "condition": categorical(b["condition"], kb.condition_names),
            "secondary_condition": categorical(b["secondary"], (NO_SECONDARY, *kb.condition_names)),
            "pathway": categorical(
                np.array([kb.pathways.index(c.pathway) for c in kb.conditions], dtype=np.int8)[
                    b["condition"]
                ],
                kb.pathways,
            ),
            "latent_severity": b["severity"],
        }
    )
    # copy=False: the columns are fresh arrays owned by this frame; no need to copy them again.
    return pd.DataFrame(columns, index=pd.RangeIndex(start, stop), copy=False)


def _resolve(
    n: Any, seed: Any, setting: str | None, knowledge: Knowledge | None, overrides: dict
) -> tuple[int, int, PatientModel]:
    n = _check_int("n", n, 1)
    seed = _check_seed(seed)
    return n, seed, build_model(setting, knowledge, **overrides)


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
        Scenario overrides, see :data:`outcomes.model.OVERRIDES`.

    Returns
    -------
    pandas.DataFrame
        One row per patient, columns as in :func:`patient_columns`.

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
            return _frame(model, seed, 0, n, bar)
    chunk_size = _check_int("chunk_size", chunk_size, 1)
    return pd.concat(list(_chunks(model, n, seed, chunk_size, progress)))


def _chunks(
    model: PatientModel, n: int, seed: int, chunk_size: int, progress: bool | None = False
) -> Iterator[pd.DataFrame]:
    with _progress_bar(n, progress) as bar:
        for start in range(0, n, chunk_size):
            yield _frame(model, seed, start, min(n, start + chunk_size), bar)


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

    Concatenated, the chunks equal ``generate(n, seed, setting, **overrides)``.

    Examples
    --------
    >>> sizes = [len(c) for c in iter_chunks(2500, seed=1, chunk_size=1000)]
    >>> sizes
    [1000, 1000, 500]
    """
    n, seed, model = _resolve(n, seed, setting, knowledge, overrides)
    chunk_size = _check_int("chunk_size", chunk_size, 1)
    return _chunks(model, n, seed, chunk_size)


def generate_from_model(model: PatientModel, n: int, seed: int, start: int = 0) -> pd.DataFrame:
    """Rows ``[start, start + n)`` of the cohort of ``seed`` under an already built model.

    Used to split generation across processes: each worker draws its own range and the
    concatenation equals :func:`generate`.

    Examples
    --------
    >>> from outcomes.model import build_model
    >>> m = build_model("primary_care")
    >>> a = generate_from_model(m, 100, seed=3, start=50)
    >>> a.equals(generate(150, seed=3, setting="primary_care").iloc[50:])
    True
    """
    n = _check_int("n", n, 1)
    start = _check_int("start", start, 0)
    return _frame(model, _check_seed(seed), start, start + n)


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
    their metadata (:func:`outcomes.io.read_metadata`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = write_cohort(pathlib.Path(tempfile.mkdtemp()) / "c.parquet", 500, seed=3)
    >>> from outcomes.io import read_metadata
    >>> read_metadata(out)["seed"]
    3
    """
    from outcomes import __version__
    from outcomes.io import infer_format, write_chunks

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
# mapping proxies, which do not pickle) and then draw the row ranges they are sent.
_WORKER_MODEL: PatientModel | None = None


def _init_worker(recipe: tuple[str, str, dict[str, Any]]) -> None:
    global _WORKER_MODEL
    directory, setting, overrides = recipe
    _WORKER_MODEL = build_model(setting, load_knowledge(directory), **overrides)


def _worker_frame(seed: int, start: int, stop: int) -> pd.DataFrame:
    assert _WORKER_MODEL is not None, "worker not initialised"
    return _frame(_WORKER_MODEL, seed, start, stop)


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
