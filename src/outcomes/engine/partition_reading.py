"""Reading a partitioned cohort: is a folder one, its partitions in row order, its recorded
metadata, and its rows as one table.

The folder's layout and how it is written are in :mod:`outcomes.engine.partitioned`, which
re-exports these functions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

#: The manifest of a partitioned cohort: its command and each partition's digest.
MANIFEST_NAME = "_manifest.json"
#: The manifest format this version writes and reads.
MANIFEST_FORMAT = "outcomes partitioned cohort, version 1"


class DatasetError(ValueError):
    """A folder that cannot receive or provide the partitioned cohort asked for.

    Examples
    --------
    >>> import tempfile
    >>> partition_paths(tempfile.mkdtemp())
    Traceback (most recent call last):
    ...
    outcomes.engine.partition_reading.DatasetError: ... holds no partitioned cohort (no _manif...
    """


@dataclass(frozen=True)
class Partition:
    """One partition: its index, file name and rows ``[start, stop)`` of the cohort.

    Parameters
    ----------
    index : int
        Position of the partition, from 0.
    name : str
        Its file name.
    start, stop : int
        Its first row and one past its last, in the cohort.

    Examples
    --------
    >>> p = Partition(0, "part-00000.parquet", 0, 1000)
    >>> p.stop - p.start
    1000
    """

    index: int
    name: str
    start: int
    stop: int


def partitions(n: int, chunk_size: int) -> list[Partition]:
    """The partitions of an ``n``-row cohort in chunks of ``chunk_size`` rows, in row order.

    Names are zero-padded to at least five digits (more when there are more partitions), so
    that their lexicographic order is the row order.

    Parameters
    ----------
    n : int
        Rows of the cohort.
    chunk_size : int
        Rows per partition (the last may hold fewer).

    Returns
    -------
    list of Partition
        In row order.

    Examples
    --------
    >>> [(p.name, p.start, p.stop) for p in partitions(2500, 1000)]
    [('part-00000.parquet', 0, 1000), ('part-00001.parquet', 1000, 2000), ('part-00002.parquet', 2000, 2500)]
    """  # noqa: E501
    count = -(-n // chunk_size)
    width = max(5, len(str(count - 1)))
    return [
        Partition(i, f"part-{i:0{width}d}.parquet", start, min(n, start + chunk_size))
        for i, start in enumerate(range(0, n, chunk_size))
    ]


def read_manifest(folder: str | Path) -> dict[str, Any] | None:
    """The manifest of a partitioned cohort folder, or ``None`` if it has none.

    Parameters
    ----------
    folder : str or pathlib.Path
        The cohort's folder.

    Returns
    -------
    dict or None
        The manifest: the recipe, the partitions written with their digests, ``complete``.

    Raises
    ------
    DatasetError
        If the manifest cannot be read or is not one of a partitioned cohort.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "c"
    >>> from outcomes.engine.partitioned import write_partitioned
    >>> _ = write_partitioned(out, 1500, seed=1, chunk_size=1000)
    >>> read_manifest(out)["complete"], read_manifest(out.parent) is None
    (True, True)
    """
    path = Path(folder) / MANIFEST_NAME
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: not a readable manifest ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise DatasetError(f"{path}: not a manifest of an outcomes partitioned cohort")
    return manifest


def is_partitioned(path: str | Path) -> bool:
    """Whether ``path`` is a folder holding a partitioned cohort's manifest.

    Parameters
    ----------
    path : str or pathlib.Path
        A file or folder.

    Returns
    -------
    bool
        True for a folder with a manifest.

    Examples
    --------
    >>> is_partitioned("data/synthetic/default_cohort.parquet")
    False
    """
    return Path(path).is_dir() and (Path(path) / MANIFEST_NAME).is_file()


def partition_paths(folder: str | Path) -> list[Path]:
    """The partition files of a complete partitioned cohort, in row order.

    Parameters
    ----------
    folder : str or pathlib.Path
        The cohort's folder.

    Returns
    -------
    list of pathlib.Path
        One file per partition.

    Raises
    ------
    DatasetError
        If the folder's cohort is not complete (an interrupted run: re-run its command).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "c"
    >>> from outcomes.engine.partitioned import write_partitioned
    >>> _ = write_partitioned(out, 1500, seed=1, chunk_size=1000)
    >>> [p.name for p in partition_paths(out)]
    ['part-00000.parquet', 'part-00001.parquet']
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is None:
        raise DatasetError(f"{folder} holds no partitioned cohort (no {MANIFEST_NAME})")
    if not manifest.get("complete"):
        raise DatasetError(f"{folder}: the cohort is incomplete (an interrupted run); re-run "
                           "the command that made it to finish it")  # fmt: skip
    recipe = manifest["recipe"]
    return [folder / p.name for p in partitions(recipe["n"], recipe["chunk_size"])]


def dataset_metadata(folder: str | Path) -> dict[str, Any]:
    """How a complete partitioned cohort was made: generator, version, n, seed, setting,
    overrides, chunk size (as :func:`outcomes.infra.io.read_metadata` gives for one file).

    Parameters
    ----------
    folder : str or pathlib.Path
        The cohort's folder.

    Returns
    -------
    dict
        ``generator``, ``version``, ``n``, ``seed``, ``setting``, ``overrides``, ``chunk_size``.

    Raises
    ------
    DatasetError
        If the folder holds no partitioned cohort.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "c"
    >>> from outcomes.engine.partitioned import write_partitioned
    >>> _ = write_partitioned(out, 1500, seed=1, chunk_size=1000)
    >>> dataset_metadata(out)["chunk_size"]
    1000
    """
    manifest = read_manifest(folder)
    if manifest is None:
        raise DatasetError(f"{folder} holds no partitioned cohort (no {MANIFEST_NAME})")
    recipe = manifest["recipe"]
    return {k: recipe[k] for k in ("generator", "version", "n", "seed", "setting", "overrides",
                                   "chunk_size")}  # fmt: skip


def read_partitioned(folder: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """A complete partitioned cohort read into one table, rows in order (index ``0..n-1``),
    recording how it was generated (:func:`outcomes.engine.cohort.generated_with`).

    Parameters
    ----------
    folder : str or pathlib.Path
        The cohort's folder.
    columns : list of str, optional
        Columns to read (default: all).

    Returns
    -------
    pandas.DataFrame
        The whole cohort.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "c"
    >>> from outcomes.engine.partitioned import write_partitioned
    >>> _ = write_partitioned(out, 1500, seed=1, chunk_size=1000)
    >>> len(read_partitioned(out, columns=["patient_id"]))
    1500
    """
    from outcomes.engine.cohort import record_generated_with

    frames = [pd.read_parquet(p, columns=columns) for p in partition_paths(folder)]
    df = pd.concat(frames, ignore_index=True)
    df.attrs = {}
    meta = dataset_metadata(folder)
    return record_generated_with(df, meta["setting"], meta["overrides"])
