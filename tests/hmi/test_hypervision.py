"""Hypervision and navigation: a project of several sites opens on its site cards; a card
opens the site's overview; back, forward and up walk the ISA-101 hierarchy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from evsuper.alarms.model import AlarmState, Priority
from evsuper.hmi.main_window import MainWindow
from evsuper.hmi.models.hypervision import site_cards
from evsuper.hmi.models.overview_filter import StateFilter
from evsuper.hmi.navigation import History, Location
from evsuper.project.loader import load_project
from evsuper.project.model import Project
from hmi.alarm_records import alarm, alarm_tags
from hmi.conftest import TagBatch

SEPARATOR = "  \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK}  "
DEMO = Path(__file__).resolve().parents[2] / "projects" / "demo"


@pytest.fixture
def demo() -> Project:
    return load_project(DEMO)


def live(batch: TagBatch) -> TagBatch:
    """The car park: CP-001 charging 11 kW, CP-002 faulted; the depot: DC-01 charging 50 kW."""
    for charger in ("CP-001", "CP-002", "CP-003"):
        batch.online(charger)
    batch.online("DC-01", connectors=1)
    batch.charging("CP-001", 1, 7, 11.0)
    batch.charging("DC-01", 1, 8, 50.0)
    return batch.connector("CP-002", 1, status="Faulted", error_code="GroundFailure")


@pytest.fixture
def window(qtbot: Any, themed_app: Any, demo: Project) -> MainWindow:
    window = MainWindow(demo, lambda command, callback: None)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    window.apply_tags(live(TagBatch()).samples)
    window.apply_tags(
        alarm_tags(
            [
                alarm("connector-faulted", "CP-002", priority=Priority.CRITICAL),
                alarm("comm-lost", "DC-02", priority=Priority.HIGH),
                alarm("stale", "CP-003", state=AlarmState.ACKNOWLEDGED),
            ]
        )
    )
    return window


def test_site_cards_count_states_power_and_unacknowledged_alarms(window: MainWindow) -> None:
    states = [window.model.state_at(r) for r in range(window.model.rowCount())]
    car_park, depot = site_cards(window.model.project, states, window.alarms.records)
    assert (car_park.name, car_park.chargers, depot.chargers) == ("Demo car park", 12, 4)
    assert car_park.counts[StateFilter.CHARGING] == 1 and car_park.counts[StateFilter.FAULTED] == 1
    assert car_park.power_kw == 11.0 and depot.power_kw == 50.0
    assert car_park.unacknowledged[Priority.CRITICAL] == 1  # the acknowledged one not
    assert sum(car_park.unacknowledged.values()) == 1
    assert depot.unacknowledged[Priority.HIGH] == 1


def test_a_multi_site_project_opens_on_its_sites_and_walks_the_hierarchy(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    assert window.hypervision is not None
    assert window.pages.currentWidget() is window.hypervision
    window.hypervision.refresh()  # (else within half a second of the batch)
    depot = window.hypervision.cards["DEPOT"]
    assert "Fleet depot: 4 bollards, charging 1" in depot.accessibleName()
    assert window.grab().save(str(tmp_path / "hypervision.png"))

    qtbot.mouseClick(depot, Qt.MouseButton.LeftButton)  # level 1 → the site's overview
    assert window.pages.currentWidget() is window.overview_panel
    assert window.overview_panel.rows.rowCount() == 4
    assert window.breadcrumb.text().split(SEPARATOR) == ["All sites", "Fleet depot"]
    window.overview_panel.select_area("BAYS")  # level 2: an area
    window.show_faceplate("DC-01")  # level 3: a bollard
    assert window.history.current == Location("DEPOT", "BAYS", "DC-01")
    assert window.breadcrumb.text().endswith(f"Fast-charging bays{SEPARATOR}DC-01")

    window.go_up()
    assert window.history.current == Location("DEPOT", "BAYS")
    assert window.faceplate_dock.isHidden()
    window.go_back()
    assert window.history.current.charger == "DC-01" and not window.faceplate_dock.isHidden()
    for _ in range(3):
        window.go_back()
    assert window.history.current == Location()
    assert window.pages.currentWidget() is window.hypervision
    assert not window.back_action.isEnabled() and window.forward_action.isEnabled()
    window.go_forward()
    assert window.pages.currentWidget() is window.overview_panel
    assert window.overview_panel.selected_site() == "DEPOT"


def test_navigation_has_keyboard_shortcuts(window: MainWindow) -> None:
    shortcuts = {
        a.shortcut().toString(QKeySequence.SequenceFormat.PortableText)
        for a in (window.back_action, window.forward_action, window.up_action, window.home_action)
    }
    assert shortcuts == {"Alt+Left", "Alt+Right", "Alt+Up", "Alt+Home"}


def test_a_single_site_project_has_no_hypervision(
    qtbot: Any, themed_app: Any, make_project: Any
) -> None:
    window = MainWindow(make_project(3), lambda command, callback: None)
    qtbot.addWidget(window)
    assert window.hypervision is None
    assert window.pages.currentWidget() is window.overview_panel
    assert window.home_action.text().endswith("Whole site")


def test_history_forgets_what_was_ahead_and_up_climbs_the_levels() -> None:
    history = History(Location())
    for place in (Location("A"), Location("A", "a1"), Location("A", "a1", "CP-1")):
        assert history.visit(place)
    assert not history.visit(Location("A", "a1", "CP-1"))  # already there
    assert history.back() == Location("A", "a1")
    history.visit(Location("B"))
    assert not history.can_go_forward
    assert [Location("A", "a1", "CP-1").up().up().up()] == [Location()]
