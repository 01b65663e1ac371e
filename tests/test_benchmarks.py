"""The benchmark scripts still import what they measure (they run by hand, not in CI)."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

BENCHMARKS = sorted((Path(__file__).parents[1] / "benchmarks").glob("bench_*.py"))


def test_there_are_benchmarks():
    assert len(BENCHMARKS) >= 5


@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda p: p.name)
def test_a_benchmark_script_imports_and_defines_its_entry_point(script):
    # Run as a module, not as __main__: the imports and definitions execute, the timing does
    # not. A name moved or renamed in the library fails here, not in someone's hand-run.
    namespace = runpy.run_path(str(script), run_name="benchmark_import_check")
    assert callable(namespace.get("main")), f"{script.name} has no main()"
