"""pyproject.toml is the one list of dependencies; the other packaging files must agree with it.

- environment.yml (conda) is exactly what tools/sync_environment.py generates from it;
- every dependency has a lower bound (so an old, untested version is never accepted);
- requirements/constraints.txt pins every dependency it names, to a version it allows.
"""

from __future__ import annotations

import importlib.util
import re
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
    assert {canonicalize_name(r.name) for r in ALL} <= conda_names
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
        sync_environment.conda_spec("dask[dataframe]>=2024.1")
    with pytest.raises(ValueError, match="bounds"):
        sync_environment.conda_spec("numpy~=2.0")
    assert sync_environment.conda_spec("Scikit_Learn >= 1.6") == "scikit-learn >=1.6"


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
