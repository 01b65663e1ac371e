"""Progress bars appear on a terminal only, honour TQDM_DISABLE, and never change results."""

import io

import pytest

from outcomes.infra.progress import progress_bar


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def drawn(monkeypatch, environment: str | None, **kwargs) -> str:
    if environment is None:
        monkeypatch.delenv("TQDM_DISABLE", raising=False)
    else:
        monkeypatch.setenv("TQDM_DISABLE", environment)
    stream = FakeTerminal() if kwargs.pop("terminal", True) else io.StringIO()
    items = list(progress_bar(range(5), desc="work", unit="step", file=stream, **kwargs))
    assert items == list(range(5))  # the bar never alters what it counts
    return stream.getvalue()


def test_a_terminal_gets_a_bar(monkeypatch):
    assert "work" in drawn(monkeypatch, None)


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_tqdm_disable_silences_the_bar_even_on_a_terminal(monkeypatch, value):
    assert drawn(monkeypatch, value) == ""


@pytest.mark.parametrize("value", ["0", "false", ""])
def test_tqdm_disable_set_to_false_keeps_the_bar(monkeypatch, value):
    assert "work" in drawn(monkeypatch, value)


def test_no_bar_off_a_terminal_unless_asked(monkeypatch):
    assert drawn(monkeypatch, None, terminal=False) == ""
    assert "work" in drawn(monkeypatch, None, terminal=False, show=True)


def test_short_work_and_show_false_draw_nothing(monkeypatch):
    assert drawn(monkeypatch, None, min_total=6) == ""
    assert drawn(monkeypatch, None, show=False) == ""
