"""Writing tables: atomic, all-or-nothing, byte-identical whatever the chunking, and nothing
stale left behind by a writer that was killed."""

from __future__ import annotations

import fnmatch
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from outcomes.infra.io import (
    PARTIAL_MARK,
    WRITTEN_RECORD,
    atomic_path,
    check_destination,
    check_outputs,
    remove_stale_partials,
    write_chunks,
    write_table,
    write_tables,
)

ROOT = Path(__file__).resolve().parents[1]


def table(n: int, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame(
        {"i": range(start, start + n), "x": [f"r{k}" for k in range(start, start + n)]}
    )


def test_regrouping_makes_the_bytes_independent_of_the_chunk_sizes(tmp_path):
    # 18 rows in uneven chunks, row groups of 4: the pending-rows path of write_chunks runs
    # (chunks smaller than, straddling and larger than a row group).
    sizes = [3, 5, 1, 9]
    starts = [sum(sizes[:k]) for k in range(len(sizes))]
    chunked = write_chunks([table(n, s) for n, s in zip(sizes, starts, strict=True)],
                           tmp_path / "chunked.parquet", row_group_size=4)  # fmt: skip
    whole = write_chunks([table(18)], tmp_path / "whole.parquet", row_group_size=4)
    assert chunked.read_bytes() == whole.read_bytes()
    meta = pq.ParquetFile(chunked).metadata
    assert [meta.row_group(g).num_rows for g in range(meta.num_row_groups)] == [4, 4, 4, 4, 2]
    pd.testing.assert_frame_equal(pd.read_parquet(chunked), table(18))


def test_a_folder_is_refused_before_anything_is_written(tmp_path):
    folder = tmp_path / "d.csv"
    folder.mkdir()
    with pytest.raises(IsADirectoryError):
        check_destination(folder)
    with pytest.raises(IsADirectoryError):
        write_table(table(3), folder)
    assert list(tmp_path.iterdir()) == [folder] and list(folder.iterdir()) == []


def test_write_tables_renames_nothing_unless_every_table_is_written(tmp_path):
    first = write_table(table(2), tmp_path / "a.csv")
    before = first.read_bytes()
    broken = pd.DataFrame({"x": [object()]})  # Parquet cannot store an arbitrary object
    with pytest.raises(Exception):  # noqa: B017 (pyarrow's error type is not the point)
        write_tables({tmp_path / "a.csv": table(5), tmp_path / "b.parquet": broken})
    assert first.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]


KILLED_WRITER = """
import os, signal, sys
from outcomes.infra.io import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    tmp.write_text("half a tab")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_writer_leaves_a_named_ignored_temporary_that_the_next_write_removes(tmp_path):
    target = tmp_path / "cohort.csv"
    write_table(table(4), target)
    before = target.read_bytes()
    killed = subprocess.run([sys.executable, "-c", textwrap.dedent(KILLED_WRITER), str(target)])
    assert killed.returncode == -9
    assert target.read_bytes() == before  # the previous output is intact
    (left,) = [p for p in tmp_path.iterdir() if p != target]
    assert left.name.startswith(".cohort.csv.partial-")
    ignore = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert any(fnmatch.fnmatch(left.name, pattern) for pattern in ignore), "not git-ignored"
    # A temporary of a writer still running (this process) is left alone.
    alive = tmp_path / f".cohort.csv{PARTIAL_MARK}{os.getpid()}-busy"
    alive.write_text("in progress")
    write_table(table(6), target)
    assert sorted(p.name for p in tmp_path.iterdir()) == [alive.name, "cohort.csv"]
    assert len(pd.read_csv(target)) == 6
    assert remove_stale_partials(target) == []


def test_atomic_path_leaves_nothing_when_the_write_fails(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("partial")
        raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []


def test_write_tables_removes_stale_files_only_once_every_table_is_in_place(tmp_path):
    (stale,) = write_tables({tmp_path / "m_brier.csv": table(2)}, record=True)
    broken = pd.DataFrame({"x": [object()]})
    with pytest.raises(Exception):  # noqa: B017 (pyarrow's error type is not the point)
        write_tables({tmp_path / "m.parquet": broken}, remove=[stale])
    assert stale.exists()  # a failed write keeps the earlier run's files
    written = write_tables({tmp_path / "m.csv": table(3)}, remove=[stale, tmp_path / "none.csv"])
    assert written == [tmp_path / "m.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [WRITTEN_RECORD, "m.csv"]
    with pytest.raises(ValueError, match="both written and removed"):
        write_tables({tmp_path / "m.csv": table(3)}, remove=[tmp_path / "m.csv"])


def test_a_format_contradicting_a_known_suffix_is_refused(tmp_path):
    from outcomes.infra.io import infer_format

    assert infer_format("x.data", "csv") == "csv"  # an unknown suffix: the format decides
    assert infer_format("x.CSV", "csv") == "csv"
    with pytest.raises(ValueError, match="format 'csv' contradicts the suffix of 'e.parquet'"):
        write_table(table(2), tmp_path / "e.parquet", fmt="csv")
    with pytest.raises(ValueError, match="contradicts"):
        check_destination(tmp_path / "e.csv", "parquet")
    assert list(tmp_path.iterdir()) == []


def test_a_destination_that_cannot_be_written_is_named_before_any_work(tmp_path):
    """The folder is probed (a file created and removed there), since permission bits do not
    tell: root may write a read-only folder, and /proc refuses files while looking writable."""
    regular = tmp_path / "notes.txt"
    regular.write_text("keep me")
    for target in [regular / "m.csv", regular / "sub" / "m.csv"]:
        with pytest.raises(OSError) as info:
            check_destination(target)
        assert info.value.filename == str(target)
        assert f"cannot create a file in {regular}" in info.value.strerror
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    # A missing folder is fine: writes create it (here, nothing is created yet).
    assert check_destination(tmp_path / "new" / "m.csv") == "csv"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    # atomic_path names the target too, not its temporary file.
    with pytest.raises(OSError) as info, atomic_path(regular / "m.csv"):
        pass
    assert info.value.filename == str(regular / "m.csv")


def test_a_read_only_folder_is_refused(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK) and _can_create_in(folder):
            pytest.skip("chmod cannot make a folder unwritable for this user (root)")
        with pytest.raises(PermissionError) as info:
            check_destination(folder / "m.csv")
        assert info.value.filename == str(folder / "m.csv")
        assert f"cannot create a file in {folder}" in info.value.strerror
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


def _can_create_in(folder: Path) -> bool:
    try:
        (folder / "probe").write_text("")
    except OSError:
        return False
    (folder / "probe").unlink()
    return True


# --------------------------------------------------------------------------------------------
# Never lose a user's file


def test_clean_up_removes_only_files_the_suite_provably_wrote(tmp_path):
    """A user's own ``m_brier.csv``, or one of ours the user has since edited, is kept."""
    mine = tmp_path / "m_brier.csv"
    mine.write_text("my own notes\n")
    write_tables({tmp_path / "m.csv": table(3)}, remove=[mine], record=True)
    assert mine.read_text() == "my own notes\n"
    ours = write_tables({tmp_path / "m_reliability.csv": table(2)}, record=True)[0]
    edited = write_tables({tmp_path / "m_safety.csv": table(2)}, record=True)[0]
    edited.write_text(edited.read_text() + "9,r9\n")
    write_tables({tmp_path / "m.csv": table(3)}, remove=[ours, edited], record=True)
    assert not ours.exists() and edited.exists()
    # A record copied in by hand for a file of other content proves nothing either.
    (tmp_path / WRITTEN_RECORD).write_text('{"files": {"m_brier.csv": "0"}}')
    write_tables({tmp_path / "m.csv": table(3)}, remove=[mine])
    assert mine.exists()


@pytest.mark.parametrize("spell", ["same", "relative", "dotdot", "symlink", "hardlink"])
def test_an_output_that_is_an_input_is_refused_however_it_is_spelled(tmp_path, spell,
                                                                     monkeypatch):  # fmt: skip
    source = write_table(table(3), tmp_path / "in" / "c.csv")
    before = source.read_bytes()
    monkeypatch.chdir(tmp_path)
    out = {
        "same": source,
        "relative": Path("in/c.csv"),
        "dotdot": tmp_path / "in" / ".." / "in" / "c.csv",
        "symlink": tmp_path / "link.csv",
        "hardlink": tmp_path / "hard.csv",
    }[spell]
    if spell == "symlink":
        out.symlink_to(source)
    if spell == "hardlink":
        os.link(source, out)
    with pytest.raises(ValueError, match="is the same file as --cohort"):
        check_outputs({"--out": out}, {"--cohort": source})
    assert source.read_bytes() == before


def test_two_outputs_naming_one_file_are_refused(tmp_path):
    with pytest.raises(ValueError, match="--out and --visits both name"):
        check_outputs({"--out": tmp_path / "x.csv", "--visits": tmp_path / "." / "x.csv"})
    check_outputs({"--out": tmp_path / "x.csv", "--visits": tmp_path / "y.csv", "--z": None})


def test_a_device_or_fifo_is_never_replaced_by_a_regular_file(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    link = tmp_path / "null.csv"
    link.symlink_to(os.devnull)
    for target in (Path(os.devnull), fifo, link):
        with pytest.raises(ValueError, match="not a regular file"):
            check_destination(target)
        with pytest.raises(ValueError, match="not a regular file"):
            write_table(table(2), target, "csv")
    assert Path(os.devnull).is_char_device() and fifo.is_fifo() and link.is_symlink()


def test_a_symlink_to_a_file_is_written_through_and_stays_a_link(tmp_path):
    target = write_table(table(2), tmp_path / "real.csv")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    write_table(table(5), link)
    assert link.is_symlink() and len(pd.read_csv(target)) == 5


def test_a_legal_long_file_name_is_written(tmp_path):
    name = "x" * 246 + ".csv"  # 250 characters: legal, but too long with a temporary's mark
    out = write_table(table(2), tmp_path / name)
    assert out.name == name and sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_atomic_writes_flush_the_file_before_renaming_it(tmp_path, monkeypatch):
    """The docstring promises survival of power loss: fsync comes before the rename."""
    import outcomes.infra.io as io

    calls = []
    monkeypatch.setattr(io.os, "fsync", lambda fd: calls.append("fsync"))
    real_replace = io.os.replace
    monkeypatch.setattr(io.os, "replace", lambda a, b: (calls.append("replace"),
                                                         real_replace(a, b)))  # fmt: skip
    write_table(table(2), tmp_path / "t.csv")
    assert calls[:2] == ["fsync", "replace"]


def test_a_full_disk_names_the_file(tmp_path):
    import errno

    target = tmp_path / "big.csv"
    with pytest.raises(OSError) as info, atomic_path(target) as tmp:
        tmp.write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert info.value.filename == str(target) and "No space left" in info.value.strerror
    assert list(tmp_path.iterdir()) == []
