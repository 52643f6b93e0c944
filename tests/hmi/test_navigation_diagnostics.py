"""Level 4 of the display hierarchy: a bollard's diagnostics (its maintenance window) is a
place in the back / forward history."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from evsuper.hmi.main_window import MainWindow
from evsuper.hmi.navigation import History, Location
from evsuper.project.model import Project
from hmi.conftest import TagBatch
from hmi.test_charger_maintenance import FakeEngine, Reader

SEPARATOR = "  \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK}  "


def test_diagnostics_is_one_level_below_its_bollard() -> None:
    diagnostics = Location("S", "A", "CP-001", diagnostics=True)
    assert diagnostics.up() == Location("S", "A", "CP-001")
    history = History(Location())
    assert history.previous is None
    history.visit(Location("S", "A", "CP-001"))
    history.visit(diagnostics)
    assert history.previous == diagnostics.up()


@pytest.fixture
def window(qtbot: Any, themed_app: Any, project: Project, batch: TagBatch) -> MainWindow:
    window = MainWindow(project, lambda command, callback: None, read=Reader(FakeEngine(project)))
    qtbot.addWidget(window)
    window.show()
    window.apply_tags(batch.online("CP-001").samples)
    return window


def open_diagnostics(qtbot: Any, window: MainWindow) -> None:
    window.show_faceplate("CP-001")
    button = window.faceplate.findChild(QPushButton, "maintenance_window")
    assert button is not None
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_back_returns_from_diagnostics_and_forward_goes_there_again(
    qtbot: Any, window: MainWindow
) -> None:
    open_diagnostics(qtbot, window)
    maintenance = window.faceplate.maintenance("CP-001")
    assert maintenance is not None and maintenance.isVisible()
    assert window.history.current == Location(charger="CP-001", diagnostics=True)
    assert window.breadcrumb.text().split(SEPARATOR)[-2:] == ["CP-001", "Diagnostics"]

    window.go_back()
    assert window.history.current == Location(charger="CP-001")
    assert not maintenance.isVisible() and window.faceplate_dock.isVisible()
    assert window.breadcrumb.text().split(SEPARATOR)[-1] == "CP-001"

    window.go_forward()
    assert maintenance.isVisible()
    window.go_up()  # Alt+Up leaves level 4 too
    assert window.history.current == Location(charger="CP-001")
    assert not maintenance.isVisible()


def test_closing_the_window_by_hand_is_a_step_back(qtbot: Any, window: MainWindow) -> None:
    open_diagnostics(qtbot, window)
    maintenance = window.faceplate.maintenance("CP-001")
    assert maintenance is not None
    maintenance.close()
    assert window.history.current == Location(charger="CP-001")
    assert window.forward_action.isEnabled()  # forward opens it again
    window.go_forward()
    assert maintenance.isVisible()
    window.go_back()
