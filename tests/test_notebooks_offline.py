"""The notebooks make no network calls: each runs to the end with sockets blocked."""

from __future__ import annotations

import nbclient
import nbformat
import pytest

from outcomes.faces.report import (
    KERNEL_NAME,
    declared_parameters,
    discover_notebooks,
    kernel_environment,
)

# First cell of every run: block socket creation in the kernel (pytest-socket), and prove the
# block is in force, so a notebook that reaches the network fails instead of passing quietly.
# Unix sockets stay allowed: they never leave the machine. (The kernel's own channels are
# ZeroMQ sockets created before this cell runs.)
GUARD = """\
import socket
from pytest_socket import SocketBlockedError, disable_socket
disable_socket(allow_unix_socket=True)
try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM)
except SocketBlockedError:
    print("network blocked")
else:
    raise AssertionError("sockets are not blocked")
"""


@pytest.mark.parametrize("notebook", discover_notebooks(), ids=lambda p: p.stem)
def test_notebook_runs_with_the_network_blocked(notebook):
    nb = nbformat.read(notebook, as_version=4)
    position = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    # A small cohort keeps this quick; the committed outputs are checked by nbval separately.
    declared = declared_parameters(notebook)
    cheap = {"N": 400, "N_TRAIN": 2000, "N_TRIALS": 10, "N_PSA": 500, "N_DRAWS": 5}
    small = {k: v for k, v in cheap.items() if k in declared}
    overrides = "\n".join(f"{k} = {v!r}" for k, v in small.items())
    nb.cells.insert(position + 1, nbformat.v4.new_code_cell(overrides))
    nb.cells.insert(0, nbformat.v4.new_code_cell(GUARD))
    client = nbclient.NotebookClient(
        nb, kernel_name=KERNEL_NAME, resources={"metadata": {"path": str(notebook.parent)}}
    )
    with kernel_environment():
        client.execute()
    assert nb.cells[0].outputs[0]["text"] == "network blocked\n"
