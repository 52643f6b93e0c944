"""`evsuper run` tells in one line why it cannot open a window, before Qt is loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from evsuper.hmi import display


@pytest.fixture
def x11(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)


def test_missing_x11_libraries_are_named_with_the_fix(
    x11: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(display, "_missing_libraries", lambda plugin: ["libxcb-icccm.so.4"])
    problem = display.display_problem(Path("projects/demo"))
    assert problem is not None
    assert "missing libxcb-icccm.so.4" in problem
    assert "apt-get install libxcb-cursor0" in problem
    assert "evsuper serve projects/demo" in problem
    assert "\n" not in problem


def test_complete_x11_setup_has_no_problem(x11: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(display, "_missing_libraries", lambda plugin: [])
    assert display.display_problem(Path("projects/demo")) is None


def test_offscreen_platform_needs_no_display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert display.display_problem(Path("projects/demo")) is None
