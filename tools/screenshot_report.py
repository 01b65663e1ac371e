"""Build the HTML report and take headless-Chromium screenshots of its index and notebook 01.

Usage (from the project root, in the venv)::

    .venv/bin/python tools/screenshot_report.py                 # notebooks' default parameters
    .venv/bin/python tools/screenshot_report.py -p N=20000 -p SETTING=sports_clinic
    .venv/bin/python tools/screenshot_report.py --report reports/   # reuse a built report

writes ``docs/screenshots/report_index.png`` and ``docs/screenshots/notebook_01.png`` (1280x1600
pixels: what a reader sees first). Chromium is a developer tool here, not a dependency of the
project; on Debian install it with ``apt-get install -y chromium``.

Chromium runs headless with a fresh profile and with its background networking off: this
machine's network is closed, and the report must render from the files alone anyway.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from outcomes.paths import project_root
from outcomes.report import INDEX_NAME, MANIFEST_NAME, run_report

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
WINDOW = (1280, 1600)
TIMEOUT_S = 180


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(chromium: str, page: str, out: Path, window: tuple[int, int] = WINDOW) -> None:
    """Render ``page`` (a file:// URL) headless into the PNG ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)  # so a stale file cannot pass for a new screenshot
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        command = [
            chromium,
            "--headless",
            "--no-sandbox",  # needed as root; the page is our own local file
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={window[0]},{window[1]}",
            f"--screenshot={out}",
            page,
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
    if result.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
        raise RuntimeError(
            f"chromium failed to write {out} (exit code {result.returncode}):\n{result.stderr}"
        )


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
        "--out", type=Path, default=project_root() / "docs" / "screenshots", help="PNG folder"
    )
    args = parser.parse_args(argv)

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
        shots = {
            "report_index.png": report / INDEX_NAME,
            "notebook_01.png": notebook_page(report, "01"),
        }
        for name, page in shots.items():
            screenshot(chromium, page.as_uri(), args.out / name)
            print(f"wrote {os.path.relpath(args.out / name)} ({page.name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
