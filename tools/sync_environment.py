"""Generate ``environment.yml`` (conda, conda-forge) from ``pyproject.toml``.

pyproject.toml is the one list of dependencies; environment.yml is derived from it so the two
cannot disagree (``tests/test_packaging.py`` regenerates it and compares). The conda
environment holds Python, every runtime and ``dev`` dependency with pyproject's version
bounds, and the project itself installed editable by pip.

Usage (standard library only, so any Python 3.11+ can run it, with or without the venv)::

    python tools/sync_environment.py            # rewrite environment.yml
    python tools/sync_environment.py --check    # exit 1 if environment.yml is out of date
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON_VERSION = "3.11"
CHANNEL = "conda-forge"
#: Optional-dependency groups of pyproject.toml that the conda environment also installs.
EXTRAS = ("dev",)
#: PyPI name -> conda-forge name, for packages named differently there. Every current
#: dependency has the same name on both; add an entry when one does not.
CONDA_NAMES: dict[str, str] = {}
#: PyPI name with extras -> conda-forge name. ``dask[dataframe]`` is conda-forge's
#: ``dask-core``: the extra's own requirements (pandas, pyarrow) are listed in pyproject anyway.
CONDA_EXTRAS: dict[str, str] = {"dask[dataframe]": "dask-core"}

_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;]*?)\s*(;.*)?$")


def normalize(name: str) -> str:
    """The canonical form of a package name (PEP 503), which conda-forge also uses.

    >>> normalize("Scikit_Learn")
    'scikit-learn'
    """
    return re.sub(r"[-_.]+", "-", name).lower()


def conda_spec(requirement: str) -> str:
    """A conda match spec for one PEP 508 requirement, keeping its version bounds.

    >>> conda_spec("pandas>=2.2,<3")
    'pandas >=2.2,<3'
    >>> conda_spec("tqdm")
    'tqdm'
    """
    match = _REQUIREMENT.match(requirement)
    if match is None:
        raise ValueError(f"cannot parse requirement {requirement!r}")
    name, extras, specifier, marker = match.groups()
    if extras and not marker and f"{normalize(name)}{extras}" in CONDA_EXTRAS:
        name, extras = CONDA_EXTRAS[f"{normalize(name)}{extras}"], None
    if extras or marker:
        raise ValueError(
            f"requirement {requirement!r} has extras or an environment marker, which conda "
            "specs cannot express; translate it in tools/sync_environment.py"
        )
    if "~=" in specifier or "===" in specifier or "@" in specifier:
        raise ValueError(f"requirement {requirement!r}: use only >=, <=, <, >, ==, != bounds")
    name = normalize(name)
    name = CONDA_NAMES.get(name, name)
    specifier = specifier.replace(" ", "")
    return f"{name} {specifier}" if specifier else name


def render(pyproject: dict) -> str:
    """The text of environment.yml for a parsed pyproject.toml."""
    project = pyproject["project"]
    lines = [
        "# Generated from pyproject.toml by tools/sync_environment.py: do not edit by hand.",
        "# Regenerate with `make environment`; tests/test_packaging.py checks it is current.",
        f"name: {project['name']}",
        "channels:",
        f"  - {CHANNEL}",
        "dependencies:",
        f"  - python={PYTHON_VERSION}",
    ]
    lines += [f"  - {conda_spec(req)}" for req in project.get("dependencies", [])]
    optional = project.get("optional-dependencies", {})
    for extra in EXTRAS:
        if extra not in optional:
            raise ValueError(f"pyproject.toml has no optional-dependencies group {extra!r}")
        lines.append(f"  # [{extra}] extra")
        lines += [f"  - {conda_spec(req)}" for req in optional[extra]]
    lines += ["  - pip", "  - pip:", "      - -e ."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml")
    parser.add_argument("--output", type=Path, default=ROOT / "environment.yml")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the output file is not up to date"
    )
    args = parser.parse_args(argv)
    with args.pyproject.open("rb") as fh:
        text = render(tomllib.load(fh))
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else None
        if current != text:
            print(f"{args.output} is out of date: run `make environment`", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    tmp = args.output.with_name(f".{args.output.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(args.output)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
