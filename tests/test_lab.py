"""JupyterLab on the project's environment: the notebooks are listed and their kernel runs code.

One JupyterLab server is started for the module, the way ``make lab`` starts it (the venv's
``jupyter lab``, kernel environment :data:`outcomes.faces.report.KERNEL_ENV`, the notebooks' kernel
registered by the very ``ipykernel install`` command ``make lab`` runs), but on a free loopback
port, with a random token and with every Jupyter/IPython folder it could write to pointed at a
temporary directory, so nothing leaks into the user's home or the venv (the kernel is
registered into a temporary prefix on ``JUPYTER_PATH`` instead of ``--sys-prefix``). The checks
go through the server's REST API and the kernel's websocket channel, i.e. the same routes the
browser front end uses.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
import websocket  # websocket-client: a requirement of jupyter_server, so always installed

import outcomes
from outcomes.faces.report import (
    KERNEL_DISPLAY_NAME,
    KERNEL_ENV,
    KERNEL_NAME,
    KERNELSPEC,
    discover_notebooks,
)
from outcomes.infra.paths import project_root

# The server answers in ~6 s on an idle machine; the deadline only bounds a failure.
STARTUP_DEADLINE_S = 120.0
REQUEST_TIMEOUT_S = 30.0
EXECUTE_DEADLINE_S = 60.0


@dataclass(frozen=True)
class Lab:
    url: str  # http://127.0.0.1:PORT
    token: str
    process: subprocess.Popen
    log: Path

    def request(self, method: str, path: str, body: object = None) -> tuple[int, object]:
        """Call the REST API with the token; returns (status, decoded JSON body or None)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=REQUEST_TIMEOUT_S) as response:
            raw = response.read()
            return response.status, (json.loads(raw) if raw else None)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def free_loopback_port() -> int:
    """A port the OS considers free right now (bind to port 0, read it, release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_lab_kernel_install() -> list[str]:
    """The ``ipykernel install`` command ``make lab`` runs (read from ``make -n lab``), as words."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    dry_run = subprocess.run(
        [make, "-n", "lab"], cwd=project_root(), capture_output=True, text=True, check=True
    ).stdout
    installs = [line for line in dry_run.splitlines() if "ipykernel install" in line]
    assert len(installs) == 1, f"expected one `ipykernel install` in `make -n lab`:\n{dry_run}"
    return shlex.split(installs[0])


def register_kernel_as_make_lab_does(prefix: Path) -> Path:
    """Run ``make lab``'s kernel registration into ``prefix``; its kernels folder for Jupyter.

    The same words, but with the tests' own Python (the venv's, in CI) and ``--prefix`` for
    ``--sys-prefix``, so the venv the tests run in is not changed.
    """
    words = make_lab_kernel_install()
    assert words[:4] == [".venv/bin/python", "-m", "ipykernel", "install"], words
    assert "--sys-prefix" in words, words
    words = [
        sys.executable,
        *[f"--prefix={prefix}" if w == "--sys-prefix" else w for w in words[1:]],
    ]
    subprocess.run(words, cwd=project_root(), capture_output=True, text=True, check=True)
    return prefix / "share" / "jupyter"


def notebook_kernel_names() -> dict[str, str]:
    """Notebook file name -> the kernelspec name stored in its metadata."""
    names = {}
    for path in discover_notebooks():
        spec = nbformat.read(path, as_version=4).metadata.get("kernelspec", {})
        names[path.name] = spec.get("name")
    return names


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Lab:
    home = tmp_path_factory.mktemp("lab_home")
    token = secrets.token_hex(24)
    port = free_loopback_port()
    env = dict(os.environ)
    env.update(KERNEL_ENV)
    # Runtime files (connection files, server info), config, lab settings/workspaces and the
    # kernel's IPython profile all go to the temporary folder. JUPYTER_DATA_DIR also hides any
    # kernelspec the user installed in ~/.local/share/jupyter: only the environment's own
    # kernels (those a fresh clone's `make lab` offers) are visible.
    for name in ("JUPYTER_RUNTIME_DIR", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR"):
        env[name] = str(home / name.lower())
    # The kernel `make lab` registers, registered the way it does (JUPYTER_PATH comes first).
    env["JUPYTER_PATH"] = str(register_kernel_as_make_lab_does(home / "kernel_prefix"))
    command = [
        sys.executable,  # the venv's Python when tests run from the venv, as in CI
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        # Fail instead of silently moving to another port if ours was taken meanwhile.
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={project_root()}",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = home / "server.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command, cwd=home, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    server = Lab(f"http://127.0.0.1:{port}", token, process, log)
    try:
        wait_until_up(server)
        yield server
    finally:
        stop(process)


def wait_until_up(server: Lab) -> None:
    """Poll /api/status until it answers; fail with the server's log if it never does."""
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    delay = 0.1
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(
                f"jupyter lab exited with code {server.process.returncode} before answering;"
                f" its log:\n{server.log_text()}"
            )
        try:
            status, body = server.request("GET", "/api/status")
            if status == 200:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            last_error = exc
        time.sleep(delay)  # polling interval, backing off; not a fixed wait for readiness
        delay = min(delay * 1.5, 1.0)
    pytest.fail(
        f"jupyter lab did not answer /api/status within {STARTUP_DEADLINE_S:.0f} s "
        f"(last error: {last_error!r}); its log:\n{server.log_text()}"
    )


def stop(process: subprocess.Popen) -> None:
    """Terminate the server we started (by its PID); kill it if it does not exit."""
    if process.poll() is None:
        process.terminate()  # SIGTERM: jupyter_server shuts its kernels down, then exits
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def execute(ws: websocket.WebSocket, code: str) -> dict[str, list]:
    """Run ``code`` over the kernel's websocket channel, as the Lab front end does.

    Returns the replies to this request, grouped by message type (``execute_result``,
    ``stream``, ``error``, ``execute_reply``), once the kernel reports idle for it.
    """
    msg_id = uuid.uuid4().hex
    ws.send(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "username": "test",
                    "session": uuid.uuid4().hex,
                    "date": dt.datetime.now(dt.UTC).isoformat(),
                    "version": "5.3",
                },
                "parent_header": {},
                "metadata": {},
                "content": {
                    "code": code,
                    "silent": False,
                    "store_history": False,
                    "user_expressions": {},
                    "allow_stdin": False,
                    "stop_on_error": True,
                },
                "channel": "shell",
                "buffers": [],
            }
        )
    )
    replies: dict[str, list] = {}
    deadline = time.monotonic() + EXECUTE_DEADLINE_S
    idle = replied = False
    while not (idle and replied):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            pytest.fail(f"no complete reply to {code!r} within {EXECUTE_DEADLINE_S:.0f} s")
        ws.settimeout(remaining)
        msg = json.loads(ws.recv())
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue  # e.g. the kernel_info exchange the server starts on connect
        kind = msg["header"]["msg_type"]
        replies.setdefault(kind, []).append(msg["content"])
        if kind == "status" and msg["content"]["execution_state"] == "idle":
            idle = True
        if kind == "execute_reply":
            replied = True
    return replies


def test_every_notebook_is_listed(lab):
    status, body = lab.request("GET", "/api/contents/notebooks")
    assert status == 200
    listed = {item["name"]: item["type"] for item in body["content"]}
    expected = {path.name for path in discover_notebooks()}
    assert expected, "no notebooks found in notebooks/"
    missing = sorted(expected - listed.keys())
    assert not missing, f"notebooks not listed by JupyterLab: {missing}"
    assert {listed[name] for name in expected} == {"notebook"}


def test_the_notebooks_kernel_is_offered_under_the_name_make_lab_gives_it(lab):
    status, body = lab.request("GET", "/api/kernelspecs")
    assert status == 200
    offered = body["kernelspecs"]
    wanted = notebook_kernel_names()
    unknown = {nb: name for nb, name in wanted.items() if name not in offered}
    assert not unknown, f"kernels the notebooks ask for but Lab does not offer: {unknown}"
    # What a researcher sees in Lab's launcher and kernel picker for the notebooks' kernel:
    # the registered display name, running the project's Python.
    for name in set(wanted.values()):
        spec = offered[name]["spec"]
        assert spec["display_name"] == KERNEL_DISPLAY_NAME
        assert Path(spec["argv"][0]) == Path(sys.executable)


def test_a_kernel_starts_executes_and_stops(lab):
    names = set(notebook_kernel_names().values())
    assert len(names) == 1, f"the notebooks should share one kernel, found {sorted(names)}"
    (name,) = names
    status, kernel = lab.request("POST", "/api/kernels", {"name": name})
    assert status == 201
    kernel_id = kernel["id"]
    try:
        ws = websocket.create_connection(
            lab.url.replace("http://", "ws://", 1) + f"/api/kernels/{kernel_id}/channels",
            header=[f"Authorization: token {lab.token}"],
            timeout=REQUEST_TIMEOUT_S,
        )
        try:
            result = execute(ws, "1 + 1")
            assert "error" not in result, result["error"]
            assert result["execute_result"][0]["data"]["text/plain"] == "2"

            # The kernel is the project's environment: `outcomes` imports, from the venv the
            # tests run in, with the deterministic kernel environment `make lab` gives it.
            probe = (
                "import os, sys, outcomes\n"
                "print(outcomes.__version__, sys.prefix, os.environ.get('PYTHONHASHSEED'))"
            )
            result = execute(ws, probe)
            assert "error" not in result, result["error"]
            printed = "".join(s["text"] for s in result["stream"] if s["name"] == "stdout")
            assert printed.split() == [outcomes.__version__, sys.prefix, "0"]
        finally:
            ws.close()
    finally:
        status, _ = lab.request("DELETE", f"/api/kernels/{kernel_id}")
        assert status == 204
    _, running = lab.request("GET", "/api/kernels")
    assert kernel_id not in {k["id"] for k in running}


def test_make_lab_registers_the_notebooks_kernel():
    """`make lab` registers, under a clear display name, the kernel the notebooks ask for."""
    words = make_lab_kernel_install()
    registered = words[words.index("--name") + 1]
    display = words[words.index("--display-name") + 1]
    assert registered == KERNEL_NAME
    assert display == KERNEL_DISPLAY_NAME == KERNELSPEC["display_name"]
    assert "outcomes" in display
    assert set(notebook_kernel_names().values()) == {registered}
