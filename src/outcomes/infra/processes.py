"""Worker processes that never outlive the command that started them.

A process pool's workers wait for work from their parent; if the parent is killed (SIGKILL,
or SIGTERM before its handler runs) they would wait, or finish a chunk of a large cohort,
for nobody. :func:`die_with_parent`, called first in each worker, makes a worker exit as
soon as its parent is gone.
"""

from __future__ import annotations

import os
import threading
import time

#: Seconds between a worker's checks that its parent still runs.
POLL_SECONDS = 0.2


def die_with_parent(poll: float = POLL_SECONDS) -> threading.Thread | None:
    """Make this process exit as soon as its parent process is gone.

    A daemon thread checks the parent's process id every ``poll`` seconds: when the parent
    dies, the process is re-parented (its parent id changes) and exits at once
    (``os._exit``: a worker has nothing of its own to save; the parent's writes are atomic).
    Off POSIX (no re-parenting to observe) this does nothing and returns None.

    Parameters
    ----------
    poll : float, default POLL_SECONDS
        Seconds between two checks of the parent process id.

    Returns
    -------
    threading.Thread or None
        The watching thread.

    Examples
    --------
    >>> watcher = die_with_parent()  # in a worker; harmless in a process whose parent runs
    >>> watcher is None or watcher.daemon
    True
    """
    if os.name != "posix":
        return None
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(poll)
            if os.getppid() != parent:
                os._exit(1)

    thread = threading.Thread(target=watch, name="die-with-parent", daemon=True)
    thread.start()
    return thread
