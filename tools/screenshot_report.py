"""Build the HTML report and take headless-Chromium screenshots of every page of it.

Usage (from the project root, in the venv)::

    .venv/bin/python tools/screenshot_report.py                 # notebooks' default parameters
    .venv/bin/python tools/screenshot_report.py -p N=20000 -p SETTING=sports_clinic
    .venv/bin/python tools/screenshot_report.py --report reports/   # reuse a built report

photographs every page of the report (the index, the data card and each notebook's page),
top to bottom, one 1280x1600 PNG per screenful, into ``--pages-out`` (default
``reports/screenshots/``, not committed: look at them before calling a change to a figure or
table done), named ``<page>-<NN>.png``; and writes the two PNGs the README shows into
``docs/screenshots/``:

- ``report_index.png``: the top of the report's ``index.html`` (what a reader sees first);
- ``notebook_figure.png``: a notebook's page (``--notebook``, default notebook 02) scrolled to
  one of its figures (``--figure``, default the first), with the text just above it, as a
  reader meets it in the page rather than only the page's top.

Chromium is a developer tool here, not a dependency of the project; on Debian install it with
``apt-get install -y chromium``. It runs headless with a fresh profile and with its background
networking off (this machine's network is closed, and the report must render from the files
alone anyway), driven over its DevTools protocol on a loopback port so that a page can be
scrolled before it is captured.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import websocket  # websocket-client, installed with jupyter_server

from outcomes.faces.report import INDEX_NAME, MANIFEST_NAME, run_report
from outcomes.infra.paths import project_root

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
WINDOW = (1280, 1600)
TIMEOUT_S = 180
#: Context kept above the figure's cell when scrolling to it, in CSS pixels.
ABOVE_FIGURE_PX = 160
INDEX_SHOT = "report_index.png"
FIGURE_SHOT = "notebook_figure.png"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # needed as root; the pages are our own local files
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",  # any free port; Chromium writes it to DevToolsActivePort
)
# Where the chosen embedded figure's cell starts in the page, minus some context above it;
# null when the page has no such figure.
FIGURE_TOP_SCRIPT = """(() => {
  const figure = document.querySelectorAll(".jp-OutputArea-output img")[%(index)d];
  if (!figure) return null;
  const cell = figure.closest(".jp-Cell") || figure;
  return Math.max(0, cell.getBoundingClientRect().top + window.scrollY - %(above)d);
})()"""
# Resolves after two frames have been drawn, i.e. once a scroll has been painted.
PAINTED_SCRIPT = "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


class DevTools:
    """A headless Chromium driven over its DevTools protocol (websocket), for one page.

    ``chromium --screenshot`` can only photograph a page's top (a page scrolled by its own
    script came out blank here), so the page is loaded, scrolled and captured through the
    protocol instead: ``Page.navigate``, ``Runtime.evaluate``, ``Page.captureScreenshot``.
    """

    def __init__(self, chromium: str, window: tuple[int, int] = WINDOW):
        self._profile = tempfile.TemporaryDirectory(prefix="chromium-profile-")
        profile = Path(self._profile.name)
        self._log = (profile / "chromium.log").open("wb")
        self.process = subprocess.Popen(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
             f"--window-size={window[0]},{window[1]}", "about:blank"],
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self._next_id = 0
        try:
            port = self._wait_for_port(profile / "DevToolsActivePort")
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as r:
                targets = json.load(r)
            page = next(t for t in targets if t.get("type") == "page")
            self._ws = websocket.create_connection(
                page["webSocketDebuggerUrl"], timeout=TIMEOUT_S, suppress_origin=True
            )
            self.call("Page.enable")
            self.call("Emulation.setDeviceMetricsOverride", width=window[0], height=window[1],
                      deviceScaleFactor=1, mobile=False)  # fmt: skip
        except BaseException:
            self.close()
            raise

    def _wait_for_port(self, port_file: Path) -> int:
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chromium exited with code {self.process.returncode}")
            with contextlib.suppress(FileNotFoundError, ValueError, IndexError):
                return int(port_file.read_text().splitlines()[0])
            time.sleep(0.1)  # polling for the file Chromium writes once it listens
        raise RuntimeError(f"chromium did not open its DevTools port within {TIMEOUT_S} s")

    def call(self, method: str, **params: object) -> dict:
        """Send one protocol command and return its result (events in between are skipped)."""
        self._next_id += 1
        self._ws.send(json.dumps({"id": self._next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv())
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method} failed: {message['error']}")
                return message.get("result", {})

    def wait_for_event(self, method: str) -> None:
        while json.loads(self._ws.recv()).get("method") != method:
            pass

    def open(self, url: str) -> None:
        """Load ``url`` and wait until it (with its embedded images) has loaded."""
        self._next_id += 1
        self._ws.send(json.dumps({"id": self._next_id, "method": "Page.navigate",
                                  "params": {"url": url}}))  # fmt: skip
        self.wait_for_event("Page.loadEventFired")

    def evaluate(self, expression: str) -> object:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)  # fmt: skip
        if "exceptionDetails" in result:
            raise RuntimeError(f"script failed in the page: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, out: Path) -> None:
        """Write what the window shows now as the PNG ``out``."""
        self.evaluate(PAINTED_SCRIPT)
        data = base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out.parent, prefix=f".{out.name}.", delete=False) as f:
            f.write(data)
        os.chmod(f.name, 0o644)  # as an ordinary file (the temporary is private)
        os.replace(f.name, out)  # whole or not at all

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._ws.close()
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                # The browser we started and its helper processes (its own session).
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        self._log.close()
        self._profile.cleanup()

    def __enter__(self) -> DevTools:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def shoot_index(browser: DevTools, report: Path, out: Path) -> None:
    """The top of the report's index page."""
    browser.open((report / INDEX_NAME).as_uri())
    browser.screenshot(out)


def shoot_figure(browser: DevTools, page: Path, figure: int, out: Path) -> int:
    """``page`` scrolled to its ``figure``-th figure (from 1); returns the scroll offset."""
    browser.open(page.as_uri())
    top = browser.evaluate(FIGURE_TOP_SCRIPT % {"index": figure - 1, "above": ABOVE_FIGURE_PX})
    if top is None:
        raise SystemExit(f"{page.name} has no figure {figure}")
    browser.evaluate(f"window.scrollTo(0, {top})")
    scrolled = browser.evaluate("Math.round(window.scrollY)")
    if top > 0 and not scrolled:
        raise SystemExit(f"could not scroll {page.name} to figure {figure}")
    browser.screenshot(out)
    return int(scrolled)


def shoot_pages(browser: DevTools, report: Path, out: Path) -> list[Path]:
    """Every HTML page of ``report``, one screenful at a time; returns the files written.

    Pages in reading order: the index, the data card, then the notebooks as the manifest
    lists them. Old screenshots of a page are removed first, so the folder shows one run.
    """
    manifest = json.loads((report / MANIFEST_NAME).read_text(encoding="utf-8"))
    pages = [report / INDEX_NAME]
    if manifest.get("datacard"):
        pages.append(report / manifest["datacard"])
    pages += [report / entry["html"] for entry in manifest["notebooks"]]
    written = []
    out.mkdir(parents=True, exist_ok=True)
    for page in pages:
        for old in out.glob(f"{page.stem}-*.png"):
            old.unlink()
        browser.open(page.as_uri())
        height = int(browser.evaluate("document.documentElement.scrollHeight"))
        step = WINDOW[1] - 80  # a little overlap, so no line is cut in two unseen
        for k, top in enumerate(range(0, max(height, 1), step), start=1):
            browser.evaluate(f"window.scrollTo(0, {top})")
            target = out / f"{page.stem}-{k:02d}.png"
            browser.screenshot(target)
            written.append(target)
            if top + WINDOW[1] >= height:
                break
    return written


def parse_parameter(text: str) -> tuple[str, object]:
    """``NAME=VALUE``, the value read as JSON when it parses (``N=400``), else as a string."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name, json.loads(value)
    except json.JSONDecodeError:
        return name, value


def notebook_page(report: Path, prefix: str) -> Path:
    """The HTML page of the report's notebook whose name starts with ``prefix``."""
    manifest = json.loads((report / MANIFEST_NAME).read_text(encoding="utf-8"))
    for entry in manifest["notebooks"]:
        if entry["name"].startswith(prefix):
            return report / entry["html"]
    names = [entry["name"] for entry in manifest["notebooks"]]
    raise SystemExit(f"no notebook named {prefix}* in the report at {report}: {names}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "-p",
        "--param",
        action="append",
        type=parse_parameter,
        default=[],
        metavar="NAME=VALUE",
        help="a notebook parameter for the report (repeatable), e.g. -p N=20000",
    )
    parser.add_argument("--report", type=Path, help="use this built report instead of running one")
    parser.add_argument(
        "--notebook", default="02", help="name prefix of the notebook to show (default: 02)"
    )
    parser.add_argument(
        "--figure", type=int, default=1, help="which of its figures to scroll to (default: 1)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=project_root() / "docs" / "screenshots",
        help="folder of the README's two PNGs",
    )
    parser.add_argument(
        "--pages-out",
        type=Path,
        default=project_root() / "reports" / "screenshots",
        help="folder of the screenshots of every page (default: reports/screenshots)",
    )
    args = parser.parse_args(argv)
    if args.figure < 1:
        parser.error("--figure counts from 1")

    chromium = find_chromium()
    if chromium is None:
        print(
            "screenshot_report: Chromium is not installed (looked for "
            f"{', '.join(CHROMIUM_NAMES)} on PATH).\n"
            "On Debian/Ubuntu: apt-get install -y chromium  (a developer tool, not a project "
            "dependency)",
            file=sys.stderr,
        )
        return 1

    with tempfile.TemporaryDirectory(prefix="outcomes-report-") as tmp:
        if args.report is None:
            report = Path(tmp) / "report"
            print(f"building the report in {report} …", flush=True)
            run_report(report, dict(args.param))
        else:
            report = args.report.resolve()
        page = notebook_page(report, args.notebook)
        with DevTools(chromium) as browser:
            shoot_index(browser, report, args.out / INDEX_SHOT)
            print(f"wrote {os.path.relpath(args.out / INDEX_SHOT)} ({INDEX_NAME})")
            scrolled = shoot_figure(browser, page, args.figure, args.out / FIGURE_SHOT)
            print(
                f"wrote {os.path.relpath(args.out / FIGURE_SHOT)} ({page.name} scrolled "
                f"{scrolled} px down to figure {args.figure})"
            )
            shots = shoot_pages(browser, report, args.pages_out)
            pages = len({p.stem.rsplit("-", 1)[0] for p in shots})
            print(f"wrote {len(shots)} screenshots of {pages} pages to "
                  f"{os.path.relpath(args.pages_out)}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
