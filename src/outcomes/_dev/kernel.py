"""The kernel every notebook runs on, its environment, and where the notebooks are.

Project tooling shared by ``make notebooks``, ``make lab``, nbval and the report: a notebook
must give the same bytes whoever runs it, so every kernel gets :data:`KERNEL_ENV`."""

from __future__ import annotations

import contextlib
import os
import platform
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from outcomes.infra.paths import notebooks_dir

#: Kernel every notebook runs on (inside the project's venv, this is the venv's Python).
KERNEL_NAME = "python3"


#: How JupyterLab shows that kernel once ``make lab`` registered it (its ``--display-name``).
KERNEL_DISPLAY_NAME = "outcomes (.venv)"


#: The kernelspec :func:`execute_in_place` stores in each notebook: what JupyterLab writes when
#: it saves a notebook open on the kernel ``make lab`` registers, so a save changes nothing.
KERNELSPEC: Mapping[str, str] = {
    "display_name": KERNEL_DISPLAY_NAME,
    "language": "python",
    "name": KERNEL_NAME,
}


def _cpu_pins() -> dict[str, str]:
    """Environment that makes floating-point results the same on every x86-64 machine we use.

    numpy's AVX-512 loops (exp, log, ...) and OpenBLAS's kernels for AVX-512 processors round
    differently, in the last bit, from their AVX2 versions. A last bit can move a patient across
    a reliability-bin edge or flip a near-tie between two pathways, so notebooks executed on one
    processor failed strict nbval on another. Kernels therefore use numpy's AVX2 loops (its
    AVX-512 targets disabled) and OpenBLAS's Haswell (AVX2) kernels, on any processor with AVX2;
    elsewhere (no AVX2, or not x86-64) nothing is pinned. ``Makefile`` sets the same values.
    """
    pins = {"NPY_DISABLE_CPU_FEATURES": "X86_V4,AVX512_ICL,AVX512_SPR"}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        cpuinfo = ""
    if platform.machine().lower() in {"x86_64", "amd64"} and re.search(r"\bavx2\b", cpuinfo):
        pins["OPENBLAS_CORETYPE"] = "Haswell"
    return pins


#: Environment of every kernel: results must not depend on hash seeds, thread counts, clocks
#: or the processor's vector extensions (see :func:`_cpu_pins`).
#: (``MPLBACKEND`` is deliberately absent: with ``agg`` the inline figures vanish.)
KERNEL_ENV: Mapping[str, str] = {
    "PYTHONHASHSEED": "0",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "SOURCE_DATE_EPOCH": "0",
    "TQDM_DISABLE": "1",
    **_cpu_pins(),
}


#: Arguments of every kernel: its own warnings (e.g. "Kernel is running over TCP without
#: encryption", about a local kernel the run starts and stops itself) are not the user's
#: business; its errors still show.
KERNEL_ARGUMENTS = ("--IPKernelApp.log_level=ERROR",)


@contextlib.contextmanager
def kernel_environment() -> Iterator[None]:
    """Set :data:`KERNEL_ENV` in ``os.environ`` while kernels start; restore it afterwards.

    Kernels inherit the environment of the process that starts them, so this is how every
    kernel started by this module gets the same hash seed and thread counts.

    Parameters
    ----------
    None

    Returns
    -------
    contextlib.AbstractContextManager
        Inside it, ``os.environ`` holds :data:`KERNEL_ENV`; the previous values come back on
        leaving.

    Examples
    --------
    >>> with kernel_environment():
    ...     os.environ["PYTHONHASHSEED"]
    '0'
    """
    saved = {name: os.environ.get(name) for name in KERNEL_ENV}
    os.environ.update(KERNEL_ENV)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


_LEADING_NUMBER = re.compile(r"^(\d+)")


def notebook_order_key(path: str | Path) -> tuple[float, str]:
    """Sort key putting notebooks in numeric order of their prefix (``2_x`` before ``10_y``).

    Notebooks without a numeric prefix come last, by name.

    Parameters
    ----------
    path
        A notebook's path or name.

    Returns
    -------
    tuple
        (numeric prefix, or infinity without one; name).

    Examples
    --------
    >>> sorted(["10_b.ipynb", "2_a.ipynb", "intro.ipynb"], key=notebook_order_key)
    ['2_a.ipynb', '10_b.ipynb', 'intro.ipynb']
    """
    name = Path(path).name
    match = _LEADING_NUMBER.match(name)
    return (int(match.group(1)) if match else float("inf"), name)


def discover_notebooks(folder: str | Path | None = None) -> list[Path]:
    """The ``*.ipynb`` files directly in ``folder`` (default: the project's ``notebooks/``).

    Parameters
    ----------
    folder
        Where to look (default: the project's ``notebooks/``).

    Returns
    -------
    list of Path
        In numeric order (:func:`notebook_order_key`); checkpoints are not included.

    Examples
    --------
    >>> [p.name for p in discover_notebooks()][:1]
    ['01_cohort.ipynb']
    """
    folder = notebooks_dir() if folder is None else Path(folder)
    return sorted(folder.glob("*.ipynb"), key=notebook_order_key)
