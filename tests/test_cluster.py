"""Running tasks on Dask: every result with its task's index, and a failure stops the rest."""

from __future__ import annotations

import operator

import pytest

from outcomes.infra.cluster import completed, connect


def test_completed_yields_every_result_with_its_task_and_cancels_on_a_failure():
    with connect(workers=1) as client:
        tasks = [(2, 3), (3, 2), (5, 0)]
        assert sorted(completed(client, pow, tasks)) == [(0, 8), (1, 9), (2, 1)]
        with pytest.raises(ZeroDivisionError):
            list(completed(client, operator.truediv, [(1, 1), (1, 0), (2, 1)]))
        # Nothing is left running or queued after the failure.
        assert not client.processing() or not any(client.processing().values())


def test_partitions_drawn_on_a_running_scheduler_equal_the_in_memory_cohort(tmp_path):
    # The `--scheduler ADDRESS` path of partitioned generation: partitions drawn by the
    # workers of a scheduler this test starts, read back in order, equal generate().
    import logging

    import pandas as pd
    from distributed import LocalCluster

    from outcomes.engine.cohort import generate
    from outcomes.engine.partition_reading import read_partitioned
    from outcomes.engine.partitioned import write_partitioned

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      host="127.0.0.1", silence_logs=logging.ERROR) as cluster:  # fmt: skip
        write_partitioned(tmp_path / "big", 2500, 7, chunk_size=1000,
                          scheduler=cluster.scheduler_address)  # fmt: skip
    expected = generate(2500, seed=7)
    pd.testing.assert_frame_equal(read_partitioned(tmp_path / "big"), expected)
