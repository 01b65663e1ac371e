"""The README's Python examples run as printed (in a scratch folder, in order, one namespace)."""

from __future__ import annotations

import re

import matplotlib
import pytest

from outcomes.infra.paths import project_root

matplotlib.use("agg")

PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def readme_examples() -> list[str]:
    return PYTHON_BLOCK.findall((project_root() / "README.md").read_text(encoding="utf-8"))


def test_the_readme_has_python_examples():
    # The extraction itself can fail: a renamed fence would silently leave nothing to run.
    assert len(readme_examples()) >= 3


@pytest.mark.slow
def test_readme_python_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    namespace: dict = {}
    for number, block in enumerate(readme_examples(), start=1):
        try:
            exec(compile(block, f"README.md python example {number}", "exec"), namespace)
        except Exception as exc:  # name the example, keep the original traceback
            raise AssertionError(f"README python example {number} failed: {exc!r}") from exc
    assert (tmp_path / "boosted.skops").is_file()  # the last example saves its model
