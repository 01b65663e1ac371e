"""Where the project's files live: one place that resolves every path.

papermill starts kernels in the caller's working directory while nbval and nbconvert use the
notebook's folder, so nothing in ``outcomes`` may resolve a data file relative to the working
directory. Everything goes through :func:`project_root` instead: the ``OUTCOMES_ROOT``
environment variable if set, otherwise the nearest folder above this file that holds the
project's ``pyproject.toml``.

Examples
--------
>>> from outcomes.infra import paths
>>> paths.default_cohort_path().relative_to(paths.project_root()).as_posix()
'data/synthetic/default_cohort.parquet'
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

#: Environment variable that, when set, names the project root and skips the search.
ROOT_ENV_VAR = "OUTCOMES_ROOT"
#: The committed default cohort, relative to the project root.
DEFAULT_COHORT_RELATIVE = Path("data/synthetic/default_cohort.parquet")

_PROJECT_NAME = "outcomes"


def _is_project_root(folder: Path) -> bool:
    pyproject = folder / "pyproject.toml"
    if not pyproject.is_file():
        return False
    with pyproject.open("rb") as fh:
        name = tomllib.load(fh).get("project", {}).get("name")
    return name == _PROJECT_NAME


def project_root() -> Path:
    """The project's root folder (the one holding its ``pyproject.toml``).

    Returns
    -------
    Path
        An absolute path: ``$OUTCOMES_ROOT`` if that variable is set, else the nearest folder
        above this module whose ``pyproject.toml`` declares the ``outcomes`` project.

    Raises
    ------
    FileNotFoundError
        If ``OUTCOMES_ROOT`` names no folder, or no project folder is found (for example when
        the package is installed from a wheel rather than from a source tree).

    Examples
    --------
    >>> (project_root() / "pyproject.toml").is_file()
    True
    """
    override = os.environ.get(ROOT_ENV_VAR)
    if override:
        root = Path(override).expanduser().resolve()
        if not root.is_dir():
            raise FileNotFoundError(f"{ROOT_ENV_VAR}={override!r} is not a folder")
        return root
    here = Path(__file__).resolve().parent
    for folder in (here, *here.parents):
        if _is_project_root(folder):
            return folder
    raise FileNotFoundError(
        f"cannot find the outcomes project folder above {here}; "
        f"set {ROOT_ENV_VAR} to the folder that holds its pyproject.toml"
    )


def data_dir() -> Path:
    """The ``data/`` folder of the project.

    Returns
    -------
    pathlib.Path
        Absolute path of the ``data/`` folder.

    Examples
    --------
    >>> data_dir().name
    'data'
    """
    return project_root() / "data"


def notebooks_dir() -> Path:
    """The ``notebooks/`` folder of the project.

    Returns
    -------
    pathlib.Path
        Absolute path of the ``notebooks/`` folder.

    Examples
    --------
    >>> notebooks_dir().name
    'notebooks'
    """
    return project_root() / "notebooks"


def reports_dir() -> Path:
    """The ``reports/`` folder of the project (generated output, not committed).

    Returns
    -------
    pathlib.Path
        Absolute path of the ``reports/`` folder (it may not exist yet).

    Examples
    --------
    >>> reports_dir().name
    'reports'
    """
    return project_root() / "reports"


def default_cohort_path() -> Path:
    """The committed default cohort, ``data/synthetic/default_cohort.parquet``.

    Returns
    -------
    pathlib.Path
        Absolute path of the default cohort's Parquet file.

    Examples
    --------
    >>> default_cohort_path().name
    'default_cohort.parquet'
    """
    return project_root() / DEFAULT_COHORT_RELATIVE


def resolve(path: str | Path) -> Path:
    """An absolute path: relative paths are taken from the project root, not the working
    directory (notebook parameters such as ``DATA`` work under papermill and nbval alike).

    Parameters
    ----------
    path : str or pathlib.Path
        Absolute, or relative to the project root.

    Returns
    -------
    pathlib.Path
        The absolute path.

    Examples
    --------
    >>> resolve("data/synthetic").relative_to(project_root()).as_posix()
    'data/synthetic'
    >>> resolve("/tmp/x.csv").as_posix()
    '/tmp/x.csv'
    """
    path = Path(path).expanduser()
    return path if path.is_absolute() else project_root() / path
