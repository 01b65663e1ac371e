"""Partitioned cohorts: one Parquet file per chunk, resumable, drawn in parallel if asked.

``write_partitioned(folder, n, seed, ...)`` writes the cohort of
:func:`outcomes.engine.cohort.generate` as a folder::

    part-00000.parquet   rows [0, chunk_size)
    part-00001.parquet   rows [chunk_size, 2 * chunk_size)
    ...
    _metadata            Parquet dataset metadata (every partition's footer, in row order)
    _common_metadata     the schema
    _datacard.md         the data card (how it was made, condition counts, column meanings)
    _manifest.json       the command (n, seed, setting, overrides, chunk size, version, a
                         digest of the knowledge base) and each partition's SHA-256 digest

Names starting with ``_`` are skipped by pyarrow, pandas and Dask when they read the folder as
a dataset, so ``pandas.read_parquet(folder)`` and ``dask.dataframe.read_parquet(folder)`` see
the partitions only, in row order. Read back in order, the rows equal those of the single-file
path to the value: each partition is ``generate``'s rows ``[start, stop)``, and patient ``i``
of a seed does not depend on how the rows are split (see :data:`outcomes.engine.cohort.BLOCK_SIZE`).

Every file is written atomically (:func:`outcomes.infra.io.atomic_path`), and the manifest records
a partition's digest only once the partition is in place. Running the same command again
verifies each recorded partition against its digest and draws only the partitions that are
missing or do not verify; a different command aimed at the same folder is refused. Peak memory
is one partition per process drawing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import signal
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from outcomes.engine.partition_reading import MANIFEST_FORMAT as MANIFEST_FORMAT
from outcomes.engine.partition_reading import MANIFEST_NAME as MANIFEST_NAME
from outcomes.engine.partition_reading import DatasetError as DatasetError
from outcomes.engine.partition_reading import Partition as Partition
from outcomes.engine.partition_reading import dataset_metadata as dataset_metadata
from outcomes.engine.partition_reading import is_partitioned as is_partitioned
from outcomes.engine.partition_reading import partition_paths as partition_paths
from outcomes.engine.partition_reading import partitions as partitions
from outcomes.engine.partition_reading import read_manifest as read_manifest
from outcomes.engine.partition_reading import read_partitioned as read_partitioned
from outcomes.knowledge import KNOWLEDGE_DIR

#: Rows per partition by default.
DEFAULT_PARTITION_ROWS = 1_000_000
DATACARD_NAME = "_datacard.md"
METADATA_NAME = "_metadata"
COMMON_METADATA_NAME = "_common_metadata"
#: Names the manifest's ``format`` field; a folder with another format is not ours to resume.
#: Keys of the recipe that identify the cohort a folder holds (its ``command``).
RECIPE_KEYS = ("generator", "version", "knowledge", "n", "seed", "setting", "overrides",
               "chunk_size")  # fmt: skip


def knowledge_digest(directory: str | Path | None = None) -> str:
    """SHA-256 over the knowledge base's ``*.toml`` files (names and bytes), in name order.

    A changed knowledge base draws different patients from the same seed, so a folder drawn
    under another one is not resumed.

    Parameters
    ----------
    directory : str or pathlib.Path, optional
        The knowledge base's folder (default: the packaged one).

    Returns
    -------
    str
        64 hexadecimal digits.

    Examples
    --------
    >>> len(knowledge_digest())
    64
    """
    folder = Path(directory) if directory is not None else KNOWLEDGE_DIR
    h = hashlib.sha256()
    for path in sorted(folder.glob("*.toml")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB steps.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.

    Returns
    -------
    str
        64 hexadecimal digits.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"
    >>> _ = p.write_bytes(b"abc")
    >>> file_digest(p)[:12]
    'ba7816bf8f01'
    """
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


# --------------------------------------------------------------------------------------------
# Drawing one partition (in this process, a worker process or a Dask worker)


@cache
def _model_of(directory: str, setting: str, overrides_json: str):
    from outcomes.engine.model import build_model
    from outcomes.knowledge import load_knowledge

    return build_model(setting, load_knowledge(directory), **json.loads(overrides_json))


def _ignore_interrupt() -> None:
    # Ctrl-C reaches the whole process group: the parent reports it once.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def write_partition(
    recipe: Mapping[str, Any], partition: Partition, folder: str | Path
) -> dict[str, Any]:
    """Draw one partition of the cohort ``recipe`` describes and write it atomically.

    A module-level function of plain arguments, so that worker processes and Dask workers
    can run it (on a cluster, ``folder`` must be on a file system every worker shares).

    Parameters
    ----------
    recipe : mapping
        The cohort: ``knowledge_dir``, ``setting``, ``overrides``, ``seed``, ``n`` and what the
        files record (``generator``, ``version``).
    partition : Partition
        The rows to draw.
    folder : str or pathlib.Path
        Folder of the cohort.

    Returns
    -------
    dict
        ``name``, ``rows``, ``digest`` (SHA-256 of the file) and ``conditions`` (patients
        per condition, for the data card).

    Examples
    --------
    >>> import tempfile
    >>> from outcomes import __version__
    >>> from outcomes.knowledge import KNOWLEDGE_DIR
    >>> recipe = {"knowledge_dir": str(KNOWLEDGE_DIR), "setting": "primary_care",
    ...           "overrides": {}, "seed": 1, "n": 100, "generator": "outcomes.cohort.generate",
    ...           "version": __version__}
    >>> write_partition(recipe, partitions(100, 60)[1], tempfile.mkdtemp())["rows"]
    40
    """
    from outcomes.engine.cohort import generate_from_model
    from outcomes.infra.io import write_table

    model = _model_of(recipe["knowledge_dir"], recipe["setting"],
                      json.dumps(recipe["overrides"], sort_keys=True))  # fmt: skip
    rows = partition.stop - partition.start
    frame = generate_from_model(model, rows, recipe["seed"], start=partition.start)
    meta = {k: recipe[k] for k in ("generator", "version", "n", "seed", "setting", "overrides")}
    meta["partition"] = {"index": partition.index, "start": partition.start,
                         "stop": partition.stop}  # fmt: skip
    path = write_table(frame, Path(folder) / partition.name, "parquet", meta)
    counts = frame["condition"].value_counts(sort=False)
    return {
        "name": partition.name,
        "rows": rows,
        "digest": file_digest(path),
        "conditions": {str(k): int(v) for k, v in counts.items()},
    }


# --------------------------------------------------------------------------------------------
# The manifest


def _write_manifest(folder: Path, manifest: Mapping[str, Any]) -> None:
    from outcomes.infra.io import atomic_path

    with atomic_path(folder / MANIFEST_NAME) as tmp:
        tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _describe(recipe: Mapping[str, Any]) -> str:
    return (f"n {recipe.get('n')}, seed {recipe.get('seed')}, setting {recipe.get('setting')}, "
            f"chunk size {recipe.get('chunk_size')}")  # fmt: skip


def _check_folder(folder: Path, recipe: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest to continue from: the folder's own if it records the same command, a new
    one if the folder is new or empty; anything else is refused."""
    fresh = {"format": MANIFEST_FORMAT, "recipe": dict(recipe), "partitions": {},
             "complete": False}  # fmt: skip
    if folder.exists() and not folder.is_dir():
        raise DatasetError(f"{folder} is a file; a partitioned cohort needs a folder")
    manifest = read_manifest(folder) if folder.is_dir() else None
    if manifest is None:
        if folder.is_dir() and any(not p.name.startswith(".") for p in folder.iterdir()):
            raise DatasetError(
                f"{folder} is not empty and holds no partitioned cohort (no {MANIFEST_NAME}); "
                "choose a new or empty folder"
            )
        return fresh
    theirs = manifest.get("recipe", {})
    differ = [k for k in RECIPE_KEYS if theirs.get(k) != recipe.get(k)]
    if differ:
        raise DatasetError(
            f"{folder} holds a different cohort ({_describe(theirs)}; differs in "
            f"{', '.join(differ)}): it was made by another command; choose another folder or "
            "remove it"
        )
    return {**fresh, "partitions": dict(manifest.get("partitions", {}))}


def _verified(folder: Path, manifest: Mapping[str, Any], parts: list[Partition]) -> dict:
    """The recorded partitions whose file is present and matches its digest."""
    from outcomes.infra.io import remove_stale_partials

    good = {}
    for part in parts:
        remove_stale_partials(folder / part.name)
        record = manifest["partitions"].get(part.name)
        path = folder / part.name
        if record and path.is_file() and file_digest(path) == record.get("digest"):
            good[part.name] = record
    return good


# --------------------------------------------------------------------------------------------
# Writing the whole folder


@dataclass(frozen=True)
class WriteReport:
    """What :func:`write_partitioned` did: the folder, partitions drawn and kept.

    Parameters
    ----------
    folder : pathlib.Path
        The cohort's folder.
    drawn : int
        Partitions drawn by this call.
    kept : int
        Partitions an earlier run had written, verified and kept.

    Examples
    --------
    >>> import pathlib
    >>> WriteReport(pathlib.Path("big"), 3, 0).drawn
    3
    """

    folder: Path
    drawn: int
    kept: int


def _run_local(recipe, todo, folder, workers) -> Iterator[dict[str, Any]]:
    if workers == 1:
        for part in todo:
            yield write_partition(recipe, part, folder)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # "spawn": safe with threads in the parent (BLAS, Arrow); fork is not.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, context, _ignore_interrupt) as pool:
        futures = [pool.submit(write_partition, recipe, part, str(folder)) for part in todo]
        try:
            for future in as_completed(futures):
                yield future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def _run_dask(recipe, todo, folder, client) -> Iterator[dict[str, Any]]:
    from outcomes.infra.cluster import completed

    tasks = [(recipe, part, str(folder)) for part in todo]
    for _, record in completed(client, write_partition, tasks):
        yield record


def write_partitioned(
    folder: str | Path,
    n: int,
    seed: int,
    setting: str | None = None,
    *,
    chunk_size: int = DEFAULT_PARTITION_ROWS,
    workers: int = 1,
    scheduler: str | None = None,
    knowledge_dir: str | Path | None = None,
    command: str | None = None,
    progress: bool | None = None,
    **overrides: Any,
) -> WriteReport:
    """Write (or finish) the cohort ``generate(n, seed, setting, **overrides)`` as a folder of
    Parquet partitions of ``chunk_size`` rows; see the module's description.

    Parameters
    ----------
    folder
        New or empty folder, or one an earlier run of the same command left (finished or not).
    n, seed, setting
        As in :func:`outcomes.engine.cohort.generate`.
    chunk_size
        Rows per partition.
    workers
        Processes drawing partitions at once (each holds one partition in memory).
    scheduler
        Address of a Dask scheduler (``tcp://host:port``) whose workers draw the partitions
        instead; ``folder`` must then be on a file system they share.
    knowledge_dir
        Folder of the knowledge base (default: the packaged one).
    command
        The command line recorded in the data card.
    progress
        Progress bar over patients, as in :func:`outcomes.engine.cohort.generate`.
    **overrides
        As in :func:`outcomes.engine.cohort.generate`.

    Returns
    -------
    WriteReport
        Partitions drawn now, and those kept from an earlier run (verified by digest).

    Raises
    ------
    DatasetError
        If the folder holds something else: another command's cohort, or files that are not a
        partitioned cohort.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "big"
    >>> write_partitioned(out, 2500, seed=1, chunk_size=1000).drawn
    3
    >>> write_partitioned(out, 2500, seed=1, chunk_size=1000).kept  # verified, not redrawn
    3
    >>> from outcomes.engine.cohort import generate
    >>> read_partitioned(out).equals(generate(2500, seed=1))
    True
    """
    from outcomes import __version__
    from outcomes.engine.cohort import check_int, resolve_cohort

    kdir = Path(knowledge_dir) if knowledge_dir is not None else KNOWLEDGE_DIR
    from outcomes.knowledge import load_knowledge

    n, seed, model = resolve_cohort(n, seed, setting, load_knowledge(kdir), overrides)
    chunk_size = check_int("chunk_size", chunk_size, 1)
    workers = check_int("workers", workers, 1)
    folder = Path(folder)
    recipe = {
        "generator": "outcomes.cohort.generate",
        "version": __version__,
        "knowledge": knowledge_digest(kdir),
        "n": n,
        "seed": seed,
        "setting": model.setting,
        "overrides": json.loads(json.dumps(dict(model.overrides), sort_keys=True)),
        "chunk_size": chunk_size,
    }
    manifest = _check_folder(folder, recipe)
    with contextlib.ExitStack() as stack:
        client = None
        if scheduler is not None:  # an unreachable scheduler fails before anything is written
            from outcomes.infra.cluster import connect

            client = stack.enter_context(connect(scheduler))
        drawn, kept = _write_all(folder, manifest, recipe, kdir, chunk_size, workers, client,
                                 progress)  # fmt: skip
    _finish(folder, manifest, partitions(n, chunk_size), command)
    return WriteReport(folder, drawn, kept)


def _write_all(
    folder: Path,
    manifest: dict[str, Any],
    recipe: dict[str, Any],
    kdir: Path,
    chunk_size: int,
    workers: int,
    client: Any,
    progress: bool | None,
) -> tuple[int, int]:
    """Verify what an earlier run left, draw the rest; partitions drawn and kept."""
    from outcomes.engine.cohort import PROGRESS_MIN_ROWS
    from outcomes.infra.progress import progress_bar

    n = recipe["n"]
    parts = partitions(n, chunk_size)
    done = _verified(folder, manifest, parts) if folder.is_dir() else {}
    kept = len(done)
    manifest["partitions"] = done
    folder.mkdir(parents=True, exist_ok=True)
    _write_manifest(folder, manifest)  # the command is recorded before any partition
    todo = [p for p in parts if p.name not in done]
    task_recipe = {**recipe, "knowledge_dir": str(kdir)}
    results: Iterator[dict[str, Any]]
    if client is not None:
        results = _run_dask(task_recipe, todo, folder, client)
    else:
        results = _run_local(task_recipe, todo, folder, workers)
    with progress_bar(total=n, desc="generating", unit="patients", show=progress,
                      min_total=PROGRESS_MIN_ROWS, unit_scale=True) as bar:  # fmt: skip
        bar.update(sum(p.stop - p.start for p in parts if p.name in done))
        for result in results:
            name = result.pop("name")
            manifest["partitions"][name] = result
            _write_manifest(folder, manifest)  # recorded only once the file is in place
            bar.update(result["rows"])
    return len(todo), kept


def _finish(folder: Path, manifest: dict, parts: list[Partition], command: str | None) -> None:
    """Dataset metadata, data card, and the manifest marked complete."""
    from outcomes.engine.datacard import render_datacard
    from outcomes.infra.io import METADATA_KEY, atomic_path

    footers = []
    for part in parts:
        meta = pq.read_metadata(folder / part.name)
        meta.set_file_path(part.name)
        footers.append(meta)
    schema = pq.read_schema(folder / parts[0].name)
    recipe = manifest["recipe"]
    dataset_meta = {k: recipe[k] for k in ("generator", "version", "n", "seed", "setting",
                                           "overrides", "chunk_size")}  # fmt: skip
    extra = {METADATA_KEY: json.dumps(dataset_meta, sort_keys=True)}
    schema = schema.with_metadata({**(schema.metadata or {}), **extra})
    with atomic_path(folder / COMMON_METADATA_NAME) as tmp:
        pq.write_metadata(schema, tmp)
    with atomic_path(folder / METADATA_NAME) as tmp:
        pq.write_metadata(schema, tmp, metadata_collector=footers)
    counts: dict[str, int] = {}
    for record in manifest["partitions"].values():
        for condition, count in record["conditions"].items():
            counts[condition] = counts.get(condition, 0) + count
    if command is None:
        command = (
            f"outcomes generate --n {recipe['n']} --seed {recipe['seed']} --setting "
            f"{recipe['setting']} --chunk-size {recipe['chunk_size']} --out {folder}/"
        )
        if recipe["overrides"]:
            command += f" --overrides '{json.dumps(recipe['overrides'], sort_keys=True)}'"
    card = render_datacard(folder, command=command, metadata=dataset_meta, condition_counts=counts)
    with atomic_path(folder / DATACARD_NAME) as tmp:
        tmp.write_text(card, encoding="utf-8")
    manifest["complete"] = True
    _write_manifest(folder, manifest)


# --------------------------------------------------------------------------------------------
# Reading
