"""pyproject.toml is the one list of dependencies; the other packaging files must agree with it.

- environment.yml (conda) is exactly what tools/sync_environment.py generates from it;
- every dependency has a lower bound (so an old, untested version is never accepted);
- requirements/constraints.txt pins every dependency it names, to a version it allows;
- `make venv` replaces a broken .venv and says what to install when Python cannot make one.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
CONSTRAINTS = ROOT / "requirements" / "constraints.txt"
ENVIRONMENT = ROOT / "environment.yml"


def load_sync_environment():
    spec = importlib.util.spec_from_file_location(
        "sync_environment", ROOT / "tools" / "sync_environment.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sync_environment = load_sync_environment()

with PYPROJECT.open("rb") as _fh:
    PROJECT = tomllib.load(_fh)["project"]
RUNTIME = [Requirement(r) for r in PROJECT["dependencies"]]
DEV = [Requirement(r) for r in PROJECT["optional-dependencies"]["dev"]]
ALL = RUNTIME + DEV


def pinned_versions() -> dict[str, str]:
    pins = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line.strip())
        assert match, f"constraints line is not an exact pin: {line!r}"
        pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def test_environment_yml_is_generated_from_pyproject():
    with PYPROJECT.open("rb") as fh:
        expected = sync_environment.render(tomllib.load(fh))
    assert ENVIRONMENT.read_text(encoding="utf-8") == expected, "run `make environment`"


def test_environment_yml_lists_python_every_dependency_and_the_project():
    yaml = pytest.importorskip("yaml")
    env = yaml.safe_load(ENVIRONMENT.read_text(encoding="utf-8"))
    assert env["channels"] == ["conda-forge"]
    deps = env["dependencies"]
    assert deps[0] == "python=3.11"
    assert deps[-1] == {"pip": ["-e ."]}
    conda_names = {d.split()[0] for d in deps if isinstance(d, str)}
    # Each requirement under its conda-forge name (dask[dataframe] is dask-core there).
    assert {sync_environment.conda_spec(str(r)).split()[0] for r in ALL} <= conda_names
    assert "pandas >=2.2,<3" in deps, "version bounds are kept"


def test_check_mode_reports_a_stale_environment_file(tmp_path, capsys):
    stale = tmp_path / "environment.yml"
    stale.write_text(ENVIRONMENT.read_text(encoding="utf-8").replace("numpy", "numpyy"))
    args = ["--pyproject", str(PYPROJECT), "--output", str(stale)]
    assert sync_environment.main([*args, "--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    assert sync_environment.main(args) == 0
    assert sync_environment.main([*args, "--check"]) == 0
    assert stale.read_text(encoding="utf-8") == ENVIRONMENT.read_text(encoding="utf-8")


def test_requirements_conda_cannot_express_are_refused():
    with pytest.raises(ValueError, match="marker"):
        sync_environment.conda_spec('tomli>=2; python_version < "3.11"')
    with pytest.raises(ValueError, match="extras"):
        sync_environment.conda_spec("dask[complete]>=2024.1")
    with pytest.raises(ValueError, match="bounds"):
        sync_environment.conda_spec("numpy~=2.0")
    assert sync_environment.conda_spec("Scikit_Learn >= 1.6") == "scikit-learn >=1.6"
    # An extra with a known conda-forge translation: dask's dataframe extra is dask-core.
    assert sync_environment.conda_spec("dask[dataframe]>=2024.8") == "dask-core >=2024.8"


@pytest.mark.parametrize("requirement", ALL, ids=[r.name for r in ALL])
def test_every_dependency_has_a_lower_bound(requirement):
    operators = {spec.operator for spec in requirement.specifier}
    assert operators & {">=", ">", "==", "~="}, f"{requirement} needs a lower bound"


@pytest.mark.parametrize("requirement", ALL, ids=[r.name for r in ALL])
def test_constraints_pin_every_dependency_to_an_allowed_version(requirement):
    pins = pinned_versions()
    name = canonicalize_name(requirement.name)
    assert name in pins, f"{name} is not pinned in {CONSTRAINTS.name}: run `make lock`"
    assert requirement.specifier.contains(pins[name], prereleases=True), (
        f"{name}=={pins[name]} is outside pyproject's {requirement.specifier}: run `make lock`"
    )


# `make venv` on a machine whose Python cannot make a working venv. Stand-in interpreters (shell
# scripts) play the parts, so the Makefile's own recipe runs without creating a real venv or
# reaching the package index: the real Python answers the version check, everything else is
# logged to CALLS.
REAL_PYTHON = shutil.which("python3") or sys.executable
# Debian's python3 without python3-venv: `-m venv` creates .venv/bin/python, then fails.
HALF_VENV_PYTHON = """#!/usr/bin/env bash
echo "system $*" >> CALLS
case "$1 $2" in
  "-m venv") mkdir -p "$3/bin"; printf '#!/usr/bin/env bash\\nexit 1\\n' > "$3/bin/python"
             chmod +x "$3/bin/python"; echo "ensurepip is not available" >&2; exit 1 ;;
  "-m ensurepip") exit 1 ;;
  *) exec {real} "$@" ;;
esac
"""
# A Python that makes a working venv whose pip and uv install nothing but succeed.
GOOD_PYTHON = """#!/usr/bin/env bash
echo "system $*" >> CALLS
case "$1 $2" in
  "-m venv") mkdir -p "$3/bin"
             printf '#!/usr/bin/env bash\\necho "venv $*" >> CALLS\\n' > "$3/bin/python"
             printf '#!/usr/bin/env bash\\necho "uv $*" >> CALLS\\n' > "$3/bin/uv"
             chmod +x "$3/bin/python" "$3/bin/uv" ;;
  *) exec {real} "$@" ;;
esac
"""


def make_venv(folder: Path, python_script: str) -> subprocess.CompletedProcess:
    """Run `make venv` in a copy of the project's build files, with this stand-in python3."""
    (folder / "requirements").mkdir(parents=True, exist_ok=True)
    for name in ("Makefile", "pyproject.toml", "requirements/constraints.txt"):
        shutil.copy(ROOT / name, folder / name)
    fake = folder / "fake-python3"
    fake.write_text(python_script.format(real=shlex.quote(REAL_PYTHON)), encoding="utf-8")
    fake.chmod(0o755)
    return subprocess.run(
        ["make", "venv", f"PYTHON={fake}"], cwd=folder, capture_output=True, text=True
    )


needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


@needs_make
def test_make_venv_without_ensurepip_fails_with_a_hint_and_leaves_no_venv(tmp_path):
    result = make_venv(tmp_path, HALF_VENV_PYTHON)
    assert result.returncode != 0
    hints = [line for line in result.stdout.splitlines() if line.startswith("hint:")]
    assert len(hints) == 1 and "apt-get install python3-venv" in hints[0], result.stdout
    # Nothing half-made is left for the next `make` to mistake for a venv.
    assert not (tmp_path / ".venv").exists()


@needs_make
def test_make_venv_recreates_a_venv_whose_pip_does_not_run(tmp_path):
    broken = tmp_path / ".venv" / "bin"
    broken.mkdir(parents=True)
    (broken / "python").write_text("#!/usr/bin/env bash\nexit 1\n", encoding="utf-8")
    (broken / "python").chmod(0o755)
    (tmp_path / ".venv" / "left-over").write_text("from the failed attempt", encoding="utf-8")

    result = make_venv(tmp_path, GOOD_PYTHON)

    assert result.returncode == 0, result.stdout + result.stderr
    assert ".venv is incomplete (its pip does not run): recreating it" in result.stdout
    assert not (tmp_path / ".venv" / "left-over").exists()
    calls = (tmp_path / "CALLS").read_text(encoding="utf-8").splitlines()
    assert "system -m venv .venv" in calls
    assert any(c.startswith("uv pip install --python .venv/bin/python") for c in calls), calls
    assert (tmp_path / ".venv" / ".installed").is_file()
    # A working venv is kept as it is: the next `make venv` does not make it again.
    (tmp_path / "CALLS").unlink()
    (tmp_path / ".venv" / ".installed").unlink()
    assert make_venv(tmp_path, GOOD_PYTHON).returncode == 0
    assert "system -m venv .venv" not in (tmp_path / "CALLS").read_text(encoding="utf-8")


def test_citation_file_parses_and_matches_the_package():
    yaml = pytest.importorskip("yaml")  # PyYAML: installed with jupytext and jupyter-events
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    # The keys the Citation File Format 1.2.0 requires, and what it says about the release.
    assert citation["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors"):
        assert citation[key], f"CITATION.cff needs {key!r}"
    assert str(citation["version"]) == PROJECT["version"], "CITATION.cff and pyproject disagree"
    assert citation["license"] == PROJECT["license"]["text"]
    assert [a["name"] for a in citation["authors"]] == [a["name"] for a in PROJECT["authors"]]
    # How to cite generated data: the data card's command for the committed default cohort.
    from outcomes.engine.datacard import DEFAULT_COMMAND

    assert DEFAULT_COMMAND in citation["message"]


def test_license_file_matches_the_metadata_and_ships_in_the_wheel(tmp_path):
    assert PROJECT["license"]["text"] == "MIT"
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")
    uv = Path(sys.executable).with_name("uv")
    if not uv.exists():
        pytest.skip("uv is not installed in this venv")
    # Build from a copy: setuptools writes build/ and egg-info beside the sources.
    source = tmp_path / "source"
    shutil.copytree(ROOT / "src" / "outcomes", source / "src" / "outcomes",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    result = subprocess.run([str(uv), "build", "--wheel", "--out-dir", str(tmp_path / "dist"),
                             "-q", str(source)], capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stderr
    (wheel,) = (tmp_path / "dist").glob("outcomes-*.whl")
    import zipfile

    with zipfile.ZipFile(wheel) as archive:
        licenses = [n for n in archive.namelist() if n.endswith("/LICENSE")]
        assert licenses, "LICENSE is not in the wheel"
        assert archive.read(licenses[0]) == (ROOT / "LICENSE").read_bytes()


def test_one_version_in_the_package_citation_changelog_report_and_data_card(tmp_path):

    from outcomes import __version__
    from outcomes.engine.cohort import write_cohort
    from outcomes.engine.datacard import render_datacard

    yaml = pytest.importorskip("yaml")
    version = PROJECT["version"]
    assert __version__ == version, "the installed package is stale: make venv"
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert str(citation["version"]) == version
    released = re.findall(r"^## \[(\d[^\]]*)\]", (ROOT / "CHANGELOG.md").read_text("utf-8"), re.M)
    assert released and released[0] == version, "CHANGELOG.md's latest release is not pyproject's"
    card = render_datacard(write_cohort(tmp_path / "c.parquet", 50, seed=1))
    assert f"- package version: `{version}`" in card
    report = pytest.importorskip("outcomes.faces.report")
    assert report.build_manifest({}, [])["version"] == version
