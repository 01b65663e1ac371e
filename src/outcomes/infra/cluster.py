"""Dask clusters: connect to a running scheduler, or start a local one for the duration.

Everything that runs on Dask in ``outcomes`` (partitioned generation, studies) goes through
:func:`connect`, so the same code path serves a laptop's ``LocalCluster`` and a cluster that
someone already runs.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

#: Seconds to wait for a scheduler to answer before calling it unreachable.
CONNECT_TIMEOUT = 10


class SchedulerError(ValueError):
    """A scheduler that cannot be reached (one line, for the command line).

    Examples
    --------
    >>> raise SchedulerError("cannot reach the Dask scheduler at tcp://host:8786")
    Traceback (most recent call last):
    ...
    outcomes.infra.cluster.SchedulerError: cannot reach the Dask scheduler at tcp://host:8786
    """


def default_workers() -> int:
    """Workers of a local cluster by default: one per core this process may use.

    Returns
    -------
    int
        At least 1.

    Examples
    --------
    >>> default_workers() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def connect(
    scheduler: str | None = None, workers: int | None = None, timeout: float | None = None
) -> Iterator[Any]:
    """A ``distributed.Client``: on the scheduler at ``scheduler`` (``tcp://host:port``), or on
    a new ``LocalCluster`` of ``workers`` single-threaded worker processes (default: one per
    core), closed on exit.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler, ``tcp://HOST:PORT``; None starts a local cluster.
    workers : int, optional
        Worker processes of the local cluster (default :func:`default_workers`); ignored with
        ``scheduler``.
    timeout : float, optional
        Seconds to wait for ``scheduler`` (default :data:`CONNECT_TIMEOUT`).

    Yields
    ------
    distributed.Client
        The client, closed (with its local cluster) when the ``with`` block ends.

    Raises
    ------
    SchedulerError
        If ``scheduler`` does not answer within ``timeout`` seconds (default
        :data:`CONNECT_TIMEOUT`), naming the address.

    Examples
    --------
    >>> with connect(workers=1) as client:  # doctest: +SKIP
    ...     client.submit(sum, [1, 2]).result()
    3
    """
    from distributed import Client, LocalCluster

    timeout = CONNECT_TIMEOUT if timeout is None else timeout

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise SchedulerError(
                f"cannot reach the Dask scheduler at {scheduler} within {timeout:g} s "
                f"({type(exc).__name__}); is it running, and is the address tcp://HOST:PORT?"
            ) from None
        with client:
            yield client
        return
    n = default_workers() if workers is None else workers
    if n < 1:
        raise ValueError(f"workers must be >= 1, got {n}")
    with (
        LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            host="127.0.0.1",
            silence_logs=logging.ERROR,  # not the nanny's warnings on an ordinary shutdown
        ) as cluster,  # fmt: skip
        Client(cluster, set_as_default=False) as client,
    ):
        yield client


def completed(
    client: Any, function: Callable[..., Any], tasks: Sequence[Sequence[Any]]
) -> Iterator[tuple[int, Any]]:
    """Run ``function(*task)`` for every task on ``client``; yield ``(index, result)`` as each
    finishes, in any order. If a task fails, or the caller stops early (an interrupt, an error
    while handling a result), the tasks not yet finished are cancelled.

    Parameters
    ----------
    client : distributed.Client
        From :func:`connect`.
    function : callable
        A module-level function (it is sent to the workers).
    tasks : sequence of sequences
        The positional arguments of each call.

    Yields
    ------
    tuple of (int, object)
        The task's index in ``tasks`` and its result.

    Examples
    --------
    >>> with connect(workers=1) as client:  # doctest: +SKIP
    ...     sorted(completed(client, pow, [(2, 3), (3, 2)]))
    [(0, 8), (1, 9)]
    """
    from distributed import as_completed

    futures = {client.submit(function, *task, pure=False): i for i, task in enumerate(tasks)}
    try:
        with client.as_current():  # as_completed finds its client there
            done = as_completed(futures)
        for future in done:
            yield futures[future], future.result()
    except BaseException:
        client.cancel(list(futures))
        raise
