"""Vectorised generation of synthetic patients with leg or buttock pain.

``generate(n, seed, setting)`` returns the ``patients`` table of DESIGN.md. Patients are drawn
in fixed blocks of :data:`BLOCK_SIZE`; block ``b`` uses its own random stream
``SeedSequence(seed, spawn_key=(b,))``. So patient ``i`` of a seed is the same patient whatever
``n``, whatever ``chunk_size`` and however many processes draw the blocks, and patient ids
derive from ``(seed, index)`` alone.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from outcomes import __version__
from outcomes.engine.generation_record import GENERATED_WITH_KEY as GENERATED_WITH_KEY
from outcomes.engine.generation_record import generated_with as generated_with
from outcomes.engine.generation_record import record_generated_with
from outcomes.engine.model import PatientModel, build_model
from outcomes.engine.sampling import BLOCK_SIZE as BLOCK_SIZE
from outcomes.engine.sampling import Workspace, draw_block, patient_ids
from outcomes.infra.io import infer_format, write_chunks
from outcomes.infra.processes import die_with_parent
from outcomes.infra.progress import progress_bar
from outcomes.knowledge import NO_SECONDARY, ONSETS, SEXES, SIDES, Knowledge, load_knowledge

# The patients table's columns are declared in outcomes.tables.columns; re-exported here for
# the code that imports them from the generator.
from outcomes.tables.columns import SENSITIVITY_CATEGORIES as SENSITIVITY_CATEGORIES
from outcomes.tables.columns import TRUTH_COLUMNS as TRUTH_COLUMNS
from outcomes.tables.columns import Column as Column
from outcomes.tables.columns import feature_columns as feature_columns
from outcomes.tables.columns import patient_columns as patient_columns

#: Cohorts at least this large show a progress bar on a terminal (see :func:`generate`).
PROGRESS_MIN_ROWS = 1_000_000


# --------------------------------------------------------------------------------------------
# Validation of arguments


def check_int(name: str, value: Any, minimum: int) -> int:
    """``value`` as an ``int``, or a ``ValueError`` naming the argument.

    Parameters
    ----------
    name
        The argument's name, for the message.
    value
        What the caller gave (an ``int`` or numpy integer; ``bool`` is refused).
    minimum
        The smallest allowed value.

    Returns
    -------
    int

    Examples
    --------
    >>> check_int("n", 5, 1)
    5
    >>> check_int("n", 0, 1)
    Traceback (most recent call last):
    ValueError: n must be an integer >= 1, got 0
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_seed(seed: Any) -> int:
    return check_int("seed", seed, 0)


def _progress_bar(n: int, progress: bool | None) -> tqdm:
    """A progress bar over ``n`` patients: shown for big cohorts on a terminal only.

    ``progress=None`` shows it when ``n >= PROGRESS_MIN_ROWS``, stderr is a terminal and
    ``TQDM_DISABLE`` is unset (so notebooks' stored outputs and CI logs stay quiet); ``True``
    always, ``False`` never. See :func:`outcomes.infra.progress.progress_bar`.
    """
    return progress_bar(
        total=n,
        desc="generating",
        unit="patients",
        show=progress,
        min_total=PROGRESS_MIN_ROWS,
        unit_scale=True,
    )


class _BlockCache:
    """The last block drawn, kept so that consecutive chunks inside one block draw it once.

    Chunked generation asks for rows ``[start, stop)`` chunk by chunk; without the cache a
    chunk of 1,000 rows would redraw its whole :data:`BLOCK_SIZE` block each time. The block's
    arrays live in one :class:`Workspace`, overwritten by the next draw: callers copy the rows
    they need before asking for another block (so reusing them cannot change data).
    """

    def __init__(self) -> None:
        self._key: tuple[PatientModel, int, int] | None = None
        self._raw: dict[str, np.ndarray] = {}
        self._space: Workspace | None = None

    def draw(self, model: PatientModel, seed: int, block: int) -> dict[str, np.ndarray]:
        key = self._key
        if key is None or key[0] is not model or key[1:] != (seed, block):
            if self._space is None or not self._space.fits(model):
                self._space = Workspace(model)
            self._key = None  # a failed draw must not leave a stale key behind
            self._raw = draw_block(model, seed, block, self._space)
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
        "patient_id": patient_ids(seed, start, stop),
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


def resolve_cohort(
    n: Any, seed: Any, setting: str | None, knowledge: Knowledge | None, overrides: dict
) -> tuple[int, int, PatientModel]:
    """The checked size and seed of a cohort, and the patient model that draws it.

    Parameters
    ----------
    n, seed
        As given to :func:`generate` (checked with :func:`check_int`).
    setting, knowledge, overrides
        As given to :func:`generate` (:func:`outcomes.engine.model.build_model`).

    Returns
    -------
    (n, seed, model)

    Examples
    --------
    >>> n, seed, model = resolve_cohort(10, 3, "primary_care", None, {})
    >>> n, seed, model.setting
    (10, 3, 'primary_care')
    """
    n = check_int("n", n, 1)
    seed = _check_seed(seed)
    return n, seed, build_model(setting, knowledge, **overrides)


def _recorded(df: pd.DataFrame, model: PatientModel) -> pd.DataFrame:
    return record_generated_with(df, model.setting, model.overrides)


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
    n, seed, model = resolve_cohort(n, seed, setting, knowledge, overrides)
    if chunk_size is None:
        with _progress_bar(n, progress) as bar:
            return _recorded(_frame(model, seed, 0, n, bar), model)
    chunk_size = check_int("chunk_size", chunk_size, 1)
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

    Parameters
    ----------
    n, seed, setting, knowledge, **overrides
        As for :func:`generate`.
    chunk_size
        Rows per chunk (the last may be shorter).

    Returns
    -------
    iterator of pandas.DataFrame

    Examples
    --------
    >>> sizes = [len(c) for c in iter_chunks(2500, seed=1, chunk_size=1000)]
    >>> sizes
    [1000, 1000, 500]
    """
    n, seed, model = resolve_cohort(n, seed, setting, knowledge, overrides)
    chunk_size = check_int("chunk_size", chunk_size, 1)
    return (_recorded(chunk, model) for chunk in _chunks(model, n, seed, chunk_size))


def generate_from_model(model: PatientModel, n: int, seed: int, start: int = 0) -> pd.DataFrame:
    """Rows ``[start, start + n)`` of the cohort of ``seed`` under an already built model.

    Used to split generation across processes: each worker draws its own range and the
    concatenation equals :func:`generate`.

    Parameters
    ----------
    model
        A model of :func:`outcomes.engine.model.build_model`.
    n
        Rows to draw (>= 1).
    seed
        The cohort's seed.
    start
        The first row.

    Returns
    -------
    pandas.DataFrame
        Indexed ``start`` to ``start + n - 1``.

    Examples
    --------
    >>> from outcomes.engine.model import build_model
    >>> m = build_model("primary_care")
    >>> a = generate_from_model(m, 100, seed=3, start=50)
    >>> a.equals(generate(150, seed=3, setting="primary_care").iloc[50:])
    True
    """
    n = check_int("n", n, 1)
    start = check_int("start", start, 0)
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

    Parameters
    ----------
    path
        The file to write.
    n, seed, setting, knowledge, progress, **overrides
        As for :func:`generate`.
    fmt
        ``"parquet"`` or ``"csv"``; by default from the suffix.
    chunk_size
        Rows generated and written per step.
    workers
        Processes drawing the chunks.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = write_cohort(pathlib.Path(tempfile.mkdtemp()) / "c.parquet", 500, seed=3)
    >>> from outcomes.infra.io import read_metadata
    >>> read_metadata(out)["seed"]
    3
    """
    fmt = infer_format(path, fmt)  # fail on a bad format before any work
    n, seed, model = resolve_cohort(n, seed, setting, knowledge, overrides)
    chunk_size = check_int("chunk_size", chunk_size, 1)
    workers = check_int("workers", workers, 1)
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
