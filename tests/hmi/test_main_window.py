"""The main window rendered offscreen with a project built in code."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QLabel, QPushButton

from evsuper.alarms.journal import query_journal
from evsuper.core.domain import ArchiveState, CommState, ConnectorStatus
from evsuper.core.tags import Sample, SystemTag, system_tag
from evsuper.core.timeutil import utcnow
from evsuper.engine.commands import Command, CommandResult, Outcome, RemoteStop
from evsuper.historian import energy
from evsuper.hmi.dialogs.login import LoginDialog
from evsuper.hmi.main_window import ArchiveReaders, MainWindow
from evsuper.hmi.session import Session
from evsuper.hmi.theme import Palette
from evsuper.project.model import Project
from evsuper.users.audit import query_audit
from evsuper.users.permissions import ENGINE, Role
from evsuper.users.store import Authenticator, UserStore


@pytest.fixture
def window(qtbot, themed_app, project: Project) -> MainWindow:
    window = MainWindow(project, lambda command, callback: None)  # nobody logged in
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def varied_site(batch) -> dict:
    for n in range(1, 13):
        batch.online(f"CP-{n:03d}")
    batch.charging("CP-001", 1, 101, 11.0).charging("CP-001", 2, 102, 21.0)
    batch.charging("CP-002", 2, 103, 7.4)
    batch.connector("CP-003", 1, status=ConnectorStatus.FAULTED, error_code="GroundFailure")
    batch.charger("CP-004", comm=CommState.OFFLINE)
    batch.connector("CP-005", 1, status=ConnectorStatus.UNAVAILABLE)
    batch.connector("CP-005", 2, status=ConnectorStatus.UNAVAILABLE)
    batch.connector("CP-006", 1, status=ConnectorStatus.PREPARING)
    batch.charger("CP-009", comm=CommState.UNKNOWN)
    batch.samples[system_tag(SystemTag.ARCHIVE_STATE)] = Sample(ArchiveState.OK)
    return batch.samples


def count_color(image: QImage, color: QColor) -> int:
    rgb = color.rgb()
    return sum(
        image.pixel(x, y) == rgb
        for y in range(0, image.height(), 2)
        for x in range(0, image.width(), 2)
    )


def label(window: MainWindow, name: str) -> str:
    found = window.findChild(QLabel, name)
    assert found is not None, name
    return found.text()


def test_window_renders_the_site(window: MainWindow, batch, tmp_path: Path) -> None:
    assert "Parking Nord" in window.windowTitle()
    window.apply_tags(varied_site(batch))
    window.show_faceplate("CP-001")

    path = tmp_path / "main_window.png"
    assert window.grab().save(str(path))
    assert path.stat().st_size > 10_000
    image = QImage(str(path))
    assert (image.width(), image.height()) == (1400, 900)
    overview = window.overview.grab().toImage()
    assert count_color(overview, Palette.ALARM) > 50  # the faulted connector and its tile
    assert count_color(overview, Palette.OFFLINE_TILE) > 1000  # the offline tile
    assert count_color(overview, Palette.BAR_FILL) > 100  # charging glyphs and power bars


def test_healthy_site_shows_no_alarm_colour(window: MainWindow, batch) -> None:
    for n in range(1, 13):
        batch.online(f"CP-{n:03d}")
    batch.charging("CP-007", 1, 1, 22.0)
    window.apply_tags(batch.samples)
    overview = window.overview.grab().toImage()
    assert count_color(overview, Palette.ALARM) == 0
    assert count_color(overview, Palette.OFFLINE_TILE) == 0
    assert count_color(overview, Palette.BAR_FILL) > 50


def test_status_bar_counts_and_archive(window: MainWindow, batch) -> None:
    assert label(window, "onlineCount") == "Chargers online: 0 / 12"
    assert label(window, "archiveState") == "Archive: NO DATA"
    window.apply_tags(varied_site(batch))
    assert label(window, "onlineCount") == "Chargers online: 10 / 12"
    assert label(window, "faultedCount") == "Faulted: 1"
    assert "Charging: 3" in label(window, "siteActivity")
    assert "39.4 kW" in label(window, "siteActivity")
    assert label(window, "archiveState") == "Archive: OK"
    window.apply_tags({system_tag(SystemTag.ARCHIVE_BACKLOG): Sample(40)})
    assert label(window, "archiveState") == "Archive: OK"

    window.apply_tags(
        {
            system_tag(SystemTag.ARCHIVE_STATE): Sample(ArchiveState.BACKLOG),
            system_tag(SystemTag.ARCHIVE_BACKLOG): Sample(1234),
        }
    )
    assert label(window, "archiveState") == "Archive: BACKLOG · 1234 queued"


def test_clicking_a_tile_opens_its_faceplate(qtbot, window: MainWindow, batch) -> None:
    window.apply_tags(varied_site(batch))
    assert not window.faceplate_dock.isVisible()
    view = window.overview
    rect = view.visualRect(view.model().index(4, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(window.faceplate_dock.isVisible)
    assert window.faceplate.charger_id == "CP-005"
    assert view.currentIndex().row() == 4

    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert window.faceplate.charger_id == "CP-006"


def test_tiles_reflow_with_the_width(qtbot, window: MainWindow) -> None:
    view = window.overview
    first, second = view.model().index(0, 0), view.model().index(1, 0)
    assert view.visualRect(second).top() == view.visualRect(first).top()

    window.resize(320, 900)
    qtbot.waitUntil(lambda: view.visualRect(second).top() > view.visualRect(first).bottom())
    assert view.visualRect(second).left() == view.visualRect(first).left()


def test_window_sends_through_the_given_sender_as_the_logged_in_user(
    qtbot, themed_app, project: Project, batch, session: Session
) -> None:
    sent: list[tuple[Command, Callable[[CommandResult], None]]] = []
    window = MainWindow(
        project, lambda command, callback: sent.append((command, callback)), session=session
    )
    qtbot.addWidget(window)
    window.apply_tags(varied_site(batch))
    window.show_faceplate("CP-002")
    stop = window.faceplate.findChild(QPushButton, "stop_C2")
    assert stop is not None
    qtbot.mouseClick(stop, Qt.MouseButton.LeftButton)

    [(command, callback)] = sent
    assert isinstance(command, RemoteStop) and command.transaction_id == 103
    assert command.actor == session.actor and command.actor.user == "test-admin"
    callback(CommandResult(Outcome.ACCEPTED, "Accepted"))
    assert "Remote Stop C2 (transaction 103): Accepted" in window.faceplate.result.text()


def test_the_toolbar_shows_who_is_logged_in_and_logs_out(
    qtbot, themed_app, project: Project, batch, session: Session
) -> None:
    window = MainWindow(project, lambda command, callback: None, session=session)
    qtbot.addWidget(window)
    window.show()
    window.apply_tags(varied_site(batch))
    window.show_faceplate("CP-007")
    start = window.faceplate.findChild(QPushButton, "start_C1")
    assert start is not None and start.isEnabled()
    assert window.user_label.text() == "User: test-admin (admin)"
    assert window.logout_button.isVisible() and window.login_button.text() == "Switch user…"

    qtbot.mouseClick(window.logout_button, Qt.MouseButton.LeftButton)
    assert window.user_label.text() == "User: viewer (not logged in)"
    assert window.login_button.text() == "Log in…"
    qtbot.waitUntil(lambda: not window.logout_button.isVisible())  # the toolbar lays out later
    assert not start.isEnabled()


def test_logging_in_from_the_toolbar_enables_what_the_role_allows(
    qtbot, themed_app, project: Project, batch, user_store: UserStore
) -> None:
    user_store.add("olivia", Role.OPERATOR, "operator-demo", by=ENGINE)
    session = Session(Authenticator(user_store))
    window = MainWindow(
        project,
        lambda command, callback: None,
        session=session,
        archive=ArchiveReaders(
            audit=functools.partial(query_audit, user_store.engine),
            journal=functools.partial(query_journal, user_store.engine),
            dashboard=functools.partial(
                energy.dashboard, user_store.engine, {"CP-001": 2}, utcnow()
            ),
        ),
    )
    qtbot.addWidget(window)
    window.show()
    window.apply_tags(varied_site(batch))
    window.show_faceplate("CP-007")
    qtbot.mouseClick(window.login_button, Qt.MouseButton.LeftButton)
    dialog = window.findChild(LoginDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.keyClicks(dialog.user, "olivia")
    qtbot.keyClicks(dialog.password, "operator-demo")
    qtbot.mouseClick(dialog.submit, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.user_label.text() == "User: olivia (operator)", timeout=5000)
    enabled = {b.objectName() for b in window.faceplate.findChildren(QPushButton) if b.isEnabled()}
    assert {"start_C1", "start_C2", "charger_inoperative"} <= enabled
    assert not enabled & {"reset", "unlock_C1", "update_firmware", "clear_cache"}

    qtbot.mouseClick(window.event_log_button, Qt.MouseButton.LeftButton)
    log = window.event_log
    assert log is not None
    qtbot.waitUntil(
        lambda: [(e.actor.user, e.action) for e in log.model.entries][:1] == [("olivia", "login")],
        timeout=5000,
    )
    qtbot.mouseClick(window.alarm_history_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.alarm_kpis_button, Qt.MouseButton.LeftButton)
    history, kpis = window.alarm_history, window.alarm_kpis
    assert history is not None and history.isVisible()
    assert kpis is not None and kpis.isVisible()
    qtbot.waitUntil(lambda: not history.loading and kpis.kpis is not None, timeout=5000)
    qtbot.mouseClick(window.energy_button, Qt.MouseButton.LeftButton)
    dashboard = window.energy
    assert dashboard is not None and dashboard.isVisible()
    qtbot.waitUntil(lambda: dashboard.board is not None, timeout=5000)
    assert dashboard.figures["today"].text() == "0.00 kWh"
    session.close()
