"""Partitioned cohorts: same rows as one file, resumable, refusing another command's folder."""

from __future__ import annotations

import json

import dask
import dask.dataframe as dd
import pandas as pd
import pyarrow.parquet as pq
import pytest

from outcomes.engine.cohort import generate, write_cohort
from outcomes.engine.partitioned import (
    DATACARD_NAME,
    MANIFEST_NAME,
    DatasetError,
    dataset_metadata,
    partition_paths,
    read_partitioned,
    write_partitioned,
)
from outcomes.faces import cli
from outcomes.infra.io import read_metadata

N, SEED, CHUNK = 25_000, 11, 7_000
OVERRIDES = {"exam_missing_rate": 0.4}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("big") / "cohort"
    write_partitioned(out, N, SEED, "spine_clinic", chunk_size=CHUNK, **OVERRIDES)
    return out


def test_rows_in_order_equal_the_single_file_path(folder, tmp_path):
    single = write_cohort(tmp_path / "one.parquet", N, SEED, "spine_clinic", chunk_size=5000,
                          **OVERRIDES)  # fmt: skip
    expected = pd.read_parquet(single)
    pd.testing.assert_frame_equal(read_partitioned(folder), expected)
    # Any reader of the folder as a dataset sees the partitions only, in row order.
    pd.testing.assert_frame_equal(pd.read_parquet(folder), expected)
    with dask.config.set({"dataframe.convert-string": False}):  # pandas' own string dtype
        lazy = dd.read_parquet(str(folder))
        assert lazy.npartitions == 4
        pd.testing.assert_frame_equal(lazy.compute().reset_index(drop=True), expected)


def test_partition_names_metadata_and_datacard(folder):
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["_common_metadata", DATACARD_NAME, MANIFEST_NAME, "_metadata",
                     *[f"part-{i:05d}.parquet" for i in range(4)]]  # fmt: skip
    meta = pq.read_metadata(folder / "_metadata")
    assert meta.num_rows == N
    assert [meta.row_group(g).column(0).file_path for g in range(meta.num_row_groups)] == [
        f"part-{i:05d}.parquet" for i in range(4)
    ]
    assert dataset_metadata(folder)["seed"] == SEED
    assert read_metadata(folder / "part-00001.parquet")["partition"] == {
        "index": 1, "start": CHUNK, "stop": 2 * CHUNK}  # fmt: skip
    card = (folder / DATACARD_NAME).read_text()
    counts = generate(N, SEED, "spine_clinic", **OVERRIDES)["condition"].value_counts()
    assert f"| disc_herniation | spinal | {counts['disc_herniation']} |" in card
    assert "--chunk-size 7000" in card and "exam_missing_rate" in card


def test_resume_redraws_only_missing_or_unverified_partitions(folder, tmp_path):
    out = tmp_path / "copy"
    write_partitioned(out, N, SEED, "spine_clinic", chunk_size=CHUNK, **OVERRIDES)
    before = {p.name: p.read_bytes() for p in out.glob("part-*.parquet")}
    (out / "part-00001.parquet").unlink()
    damaged = out / "part-00002.parquet"
    damaged.write_bytes(damaged.read_bytes()[:-10] + b"0123456789")  # same size, other bytes
    # As a killed run leaves it: a partition in place whose digest was never recorded.
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    del manifest["partitions"]["part-00003.parquet"]
    manifest["complete"] = False
    (out / MANIFEST_NAME).write_text(json.dumps(manifest))
    with pytest.raises(DatasetError, match="incomplete"):
        partition_paths(out)
    done = write_partitioned(out, N, SEED, "spine_clinic", chunk_size=CHUNK, **OVERRIDES)
    assert (done.drawn, done.kept) == (3, 1)
    assert {p.name: p.read_bytes() for p in out.glob("part-*.parquet")} == before
    pd.testing.assert_frame_equal(read_partitioned(out), read_partitioned(folder))
    again = write_partitioned(out, N, SEED, "spine_clinic", chunk_size=CHUNK, **OVERRIDES)
    assert (again.drawn, again.kept) == (0, 4)


@pytest.mark.parametrize(
    "change",
    [{"seed": SEED + 1}, {"chunk_size": CHUNK + 1}, {"n": N + 1}, {"exam_missing_rate": 0.5}],
    ids=["seed", "chunk_size", "n", "overrides"],
)
def test_a_different_command_is_refused_and_nothing_changes(folder, change):
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    args = {"n": N, "seed": SEED, "chunk_size": CHUNK, **OVERRIDES, **change}
    with pytest.raises(DatasetError, match="holds a different cohort.*another command"):
        write_partitioned(folder, setting="spine_clinic", **args)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_a_folder_of_other_files_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(DatasetError, match="not empty and holds no partitioned cohort"):
        write_partitioned(tmp_path, 100, seed=1, chunk_size=50)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_worker_processes_write_the_same_bytes(folder, tmp_path):
    out = tmp_path / folder.name  # the data card names the folder
    write_partitioned(out, N, SEED, "spine_clinic", chunk_size=CHUNK, workers=2, **OVERRIDES)
    for name in ["_metadata", "_common_metadata", DATACARD_NAME,
                 *[f"part-{i:05d}.parquet" for i in range(4)]]:  # fmt: skip
        assert (out / name).read_bytes() == (folder / name).read_bytes().replace(
            str(folder).encode(), str(out).encode()
        ), name


def test_cli_generate_to_a_folder_and_errors(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("outcomes.infra.cluster.CONNECT_TIMEOUT", 1)
    out = tmp_path / "big"
    args = ["generate", "--n", "3000", "--seed", "5", "--chunk-size", "1000", "--out", f"{out}/"]
    assert cli.main(args) == 0
    assert "3 partitions drawn" in capsys.readouterr().out
    assert cli.main(args) == 0
    assert "0 partitions drawn, 3 kept after verifying their digests" in capsys.readouterr().out
    pd.testing.assert_frame_equal(read_partitioned(out), generate(3000, seed=5))
    assert cli.main([*args[:4], "6", *args[5:]]) == 2
    assert "holds a different cohort" in capsys.readouterr().err
    assert cli.main([*args, "--format", "csv"]) == 2
    assert "Parquet only" in capsys.readouterr().err
    unreachable = tmp_path / "never"
    assert cli.main([*args[:-1], f"{unreachable}/", "--scheduler", "tcp://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert (
        err.count("\n") == 1
        and "cannot reach the Dask scheduler at tcp://127.0.0.1:9 within 1 s" in err
    )
    assert not unreachable.exists()
