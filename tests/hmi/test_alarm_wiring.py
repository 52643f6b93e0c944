"""Alarm state on every bollard (tile, faceplate) and the main window's alarm wiring."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QImage

from evsuper.alarms.model import SUMMARY_TAG, AlarmState, AlarmSummary, ChargerAlarm, Priority
from evsuper.core.tags import Sample, charger_tag
from evsuper.engine.commands import AcknowledgeAlarms
from evsuper.hmi.library.bound import charge_point_view
from evsuper.hmi.main_window import MainWindow
from evsuper.hmi.models.overview import OverviewModel, alarm_text
from evsuper.hmi.theme import priority_style
from evsuper.project.model import Project
from hmi.alarm_records import alarm, alarm_tags, cleared
from hmi.sender import Sender


def count_color(image: QImage, color: QColor) -> int:
    rgb = color.rgb()
    return sum(
        image.pixel(x, y) == rgb for y in range(image.height()) for x in range(image.width())
    )


def test_overview_model_keeps_the_charger_alarm(qapp, project: Project, batch) -> None:
    model = OverviewModel(project)
    batch.online("CP-001")
    model.apply(batch.samples)
    standing = ChargerAlarm(Priority.HIGH, True, 2)
    model.apply({charger_tag("CP-001", "alarm"): Sample(standing)})
    state = model.state("CP-001")
    assert state is not None and state.alarm == standing
    tooltip = charge_point_view(state).description()  # the tile's tooltip
    assert "alarms 2 (highest: High, unacknowledged)" in tooltip
    model.apply({charger_tag("CP-001", "alarm"): Sample("nonsense")})
    assert state.alarm == standing  # a wrong type is logged, not stored
    model.apply({charger_tag("CP-001", "alarm"): Sample(None)})
    assert state.alarm is None
    assert alarm_text(None) == "none"
    assert alarm_text(ChargerAlarm(Priority.LOW, False, 1)) == ("1 (highest: Low, acknowledged)")


@pytest.fixture
def sender() -> Sender:
    return Sender()


@pytest.fixture
def window(qtbot, themed_app, project: Project, sender: Sender) -> MainWindow:
    window = MainWindow(project, sender, sound=lambda _priority: None)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def tile_image(window: MainWindow, charger_id: str) -> QImage:
    row = window.overview_panel.rows.row_of(charger_id)
    assert row is not None
    rect = window.overview.visualRect(window.overview.model().index(row, 0))
    return window.overview.viewport().grab(rect).toImage()


def test_tile_shows_the_alarm_priority(window: MainWindow, batch) -> None:
    batch.online("CP-001").online("CP-002")
    window.apply_tags(batch.samples)
    high = priority_style(Priority.HIGH).color
    assert count_color(tile_image(window, "CP-001"), high) == 0
    window.apply_tags(
        {charger_tag("CP-001", "alarm"): Sample(ChargerAlarm(Priority.HIGH, True, 1))}
    )
    unacknowledged = tile_image(window, "CP-001")
    assert count_color(unacknowledged, high) > 20
    assert count_color(tile_image(window, "CP-002"), high) == 0
    window.apply_tags(
        {charger_tag("CP-001", "alarm"): Sample(ChargerAlarm(Priority.HIGH, False, 1))}
    )
    acknowledged = tile_image(window, "CP-001")
    assert count_color(acknowledged, high) > 20
    assert acknowledged != unacknowledged  # the unacknowledged frame is gone


def test_faceplate_tells_the_alarms(window: MainWindow, batch) -> None:
    batch.online("CP-001")
    window.apply_tags(batch.samples)
    window.show_faceplate("CP-001")
    line = window.faceplate._info["alarms"]
    assert line.text() == "none"
    window.apply_tags(
        {charger_tag("CP-001", "alarm"): Sample(ChargerAlarm(Priority.HIGH, True, 3))}
    )
    assert line.text() == "3 (highest: High, unacknowledged)"


def test_main_window_routes_alarm_tags(window: MainWindow, batch, sender: Sender, qtbot) -> None:
    batch.online("CP-003")
    changes = dict(batch.samples)
    changes.update(
        alarm_tags(
            [
                alarm("fault", "CP-003", priority=Priority.CRITICAL, message="Ground failure"),
                alarm("backlog", None, priority=Priority.MEDIUM, state=AlarmState.ACKNOWLEDGED),
            ]
        )
    )
    changes[SUMMARY_TAG] = Sample(
        AlarmSummary(
            active={Priority.CRITICAL: 1, Priority.MEDIUM: 1},
            unacknowledged={Priority.CRITICAL: 1},
        )
    )
    window.apply_tags(changes)
    assert window.alarms.rowCount() == 2
    assert window.model.unlisted() == []  # nothing of it reached the overview as a charger
    assert window.model.state("CP-003").online
    banner = window.alarm_banner
    assert "Ground failure" in banner.message.text()
    assert banner.counts[Priority.CRITICAL].text() == "Critical 1/1"
    assert banner.isVisible()
    assert banner.width() > window.width() * 0.9  # full width under the session bar

    window.alarms_button.click()
    assert window.alarm_list.isVisible()
    alarm_list = window.alarm_list
    alarm_list.select_keys(["fault:CP-003"])
    assert not alarm_list.acknowledge.isEnabled()  # nobody logged in
    window.session.changed.emit(window.session.actor)  # set_actor reaches the list
    with qtbot.waitSignal(alarm_list.chargerRequested):
        alarm_list.go_to_charger.click()
    assert window.faceplate.charger_id == "CP-003"
    assert window.faceplate_dock.isVisible()

    window.apply_tags(cleared("fault:CP-003"))
    assert window.alarms.rowCount() == 1
    assert banner.message.text() == "No alarm"


def test_main_window_sends_alarm_commands_as_the_user(
    qtbot, themed_app, project: Project, session, sender: Sender
) -> None:
    window = MainWindow(project, sender, session=session, sound=lambda _priority: None)
    qtbot.addWidget(window)
    window.apply_tags(alarm_tags([alarm("fault", "CP-001")]))
    window.alarm_list.select_keys(["fault:CP-001"])
    window.alarm_list.acknowledge.click()
    command = sender.last
    assert isinstance(command, AcknowledgeAlarms)
    assert command.actor.user == session.actor.user
    assert command.charger_id == "CP-001"
