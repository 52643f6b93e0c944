"""Chargers waiting for acceptance: their model, the dialog and the status-bar entry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from support import ADMIN

from evsuper.core.domain import CommState, ConnectorStatus, RegistrationStatus
from evsuper.core.tags import Sample, TagPath
from evsuper.engine.commands import AcceptCharger, CommandResult, Outcome
from evsuper.hmi import formatting
from evsuper.hmi.dialogs.pending import PendingChargersDialog
from evsuper.hmi.main_window import MainWindow
from evsuper.hmi.models.overview import OverviewModel
from evsuper.hmi.models.pending import Column, PendingChargersModel
from evsuper.hmi.session import Session
from evsuper.project.model import Project
from evsuper.users.permissions import Actor, Role
from hmi.sender import Sender

SEEN = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)


def booted(
    charger_id: str,
    registration: RegistrationStatus = RegistrationStatus.PENDING,
    comm: CommState = CommState.ONLINE,
) -> dict[TagPath, Sample]:
    """The tags of an unknown charger that connected and booted."""
    return {
        f"{charger_id}/comm": Sample(comm),
        f"{charger_id}/last_seen": Sample(SEEN),
        f"{charger_id}/vendor": Sample("Alfen"),
        f"{charger_id}/model": Sample("Eve Single"),
        f"{charger_id}/serial": Sample(f"SN-{charger_id}"),
        f"{charger_id}/firmware": Sample("6.3.1"),
        f"{charger_id}/registration": Sample(registration),
    }


def accepted(charger_id: str) -> dict[TagPath, Sample]:
    return {f"{charger_id}/registration": Sample(RegistrationStatus.ACCEPTED)}


@pytest.fixture
def overview(qapp, project: Project) -> OverviewModel:
    return OverviewModel(project)


@pytest.fixture
def pending(overview: OverviewModel) -> PendingChargersModel:
    return PendingChargersModel(overview)


def ids(model: PendingChargersModel) -> list[str]:
    return [model.state_at(row).charger_id for row in range(model.count)]


def test_only_pending_chargers_are_listed(
    overview: OverviewModel, pending: PendingChargersModel
) -> None:
    counts: list[int] = []
    pending.countChanged.connect(counts.append)
    overview.apply(booted("NEWCOMER"))
    overview.apply(booted("INTRUDER", RegistrationStatus.REJECTED))
    overview.apply({"QUIET/comm": Sample(CommState.ONLINE)})  # connected, not booted yet
    overview.apply(booted("GARAGE-7", comm=CommState.OFFLINE))

    assert ids(pending) == ["NEWCOMER", "GARAGE-7"]
    assert counts == [1, 2]
    assert pending.rowCount() == 2 and pending.columnCount() == len(Column)
    texts = [pending.data(pending.index(0, c)) for c in Column]
    assert texts == [
        "NEWCOMER",
        "Alfen",
        "Eve Single",
        "SN-NEWCOMER",
        "6.3.1",
        formatting.timestamp(SEEN),
        "Online",
        "",
    ]
    assert pending.data(pending.index(1, Column.COMM)) == "OFFLINE"
    headers = [pending.headerData(c, Qt.Orientation.Horizontal) for c in Column]
    assert headers[:3] == ["Charger", "Vendor", "Model"]


def test_the_list_follows_boots_and_acceptances(
    overview: OverviewModel, pending: PendingChargersModel
) -> None:
    overview.apply(booted("A") | booted("B") | booted("C"))
    removed: list[tuple[int, int]] = []
    pending.rowsRemoved.connect(lambda _parent, first, last: removed.append((first, last)))
    counts: list[int] = []
    pending.countChanged.connect(counts.append)

    overview.apply(accepted("B"))
    assert ids(pending) == ["A", "C"] and removed == [(1, 1)] and counts == [2]
    assert overview.row_of("B") == 12

    changed: list[int] = []
    pending.dataChanged.connect(lambda top_left, _bottom_right: changed.append(top_left.row()))
    overview.apply({"C/comm": Sample(CommState.OFFLINE)})
    assert changed and pending.data(pending.index(1, Column.COMM)) == "OFFLINE"

    overview.apply(booted("D") | accepted("A") | accepted("C"))
    assert ids(pending) == ["D"] and counts == [2, 1]
    assert [overview.state_at(row).charger_id for row in (12, 13, 14)] == ["B", "A", "C"]


# ---- the dialog


@pytest.fixture
def dialog(
    qtbot, themed_app, pending: PendingChargersModel, sender: Sender
) -> PendingChargersDialog:
    dialog = PendingChargersDialog(pending, sender)
    dialog.set_actor(ADMIN)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_accept_sends_the_command_and_shows_the_answer(
    qtbot, overview: OverviewModel, dialog: PendingChargersDialog, sender: Sender
) -> None:
    assert not dialog.table.isVisible() and dialog.empty.isVisible()
    overview.apply(booted("NEWCOMER"))
    assert dialog.table.isVisible() and not dialog.empty.isVisible()
    button = dialog.accept_button("NEWCOMER")
    assert button is not None and button.isEnabled()

    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    [(command, _)] = sender.sent
    assert isinstance(command, AcceptCharger) and command.charger_id == "NEWCOMER"
    assert "Accept NEWCOMER: sent, waiting" in dialog.result_line.text()
    assert not button.isEnabled()  # one request at a time

    sender.answer(CommandResult(Outcome.ACCEPTED, "Registered"))
    assert "Accept NEWCOMER: Accepted (Registered)" in dialog.result_line.text()
    assert button.isEnabled()

    # The charger boots again and is accepted: it leaves the list, the answer stays.
    overview.apply(accepted("NEWCOMER"))
    assert dialog.accept_button("NEWCOMER") is None
    assert dialog.empty.isVisible() and not dialog.table.isVisible()
    assert "Accepted (Registered)" in dialog.result_line.text()


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (
            CommandResult(Outcome.ERROR, "UnknownCharger", "no driver owns NEWCOMER"),
            "Accept NEWCOMER: Error (UnknownCharger) — no driver owns NEWCOMER",
        ),
        (CommandResult(Outcome.TIMEOUT, "Timeout", "no answer"), "Timeout — no answer"),
        (CommandResult(Outcome.OFFLINE, "Offline", "connection lost"), "Offline — connection lost"),
        (CommandResult(Outcome.REJECTED, "Rejected"), "Accept NEWCOMER: Rejected"),
    ],
)
def test_refusals_are_shown_with_status_and_detail(
    qtbot,
    overview: OverviewModel,
    dialog: PendingChargersDialog,
    sender: Sender,
    result: CommandResult,
    expected: str,
) -> None:
    overview.apply(booted("NEWCOMER"))
    button = dialog.accept_button("NEWCOMER")
    assert button is not None
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    sender.answer(result)
    assert expected in dialog.result_line.text()
    assert button.isEnabled()  # the operator may try again
    assert dialog.accept_button("NEWCOMER") is button  # still pending


def test_buttons_follow_rows_and_connection(
    qtbot, overview: OverviewModel, dialog: PendingChargersDialog, sender: Sender
) -> None:
    overview.apply(booted("A") | booted("B", comm=CommState.OFFLINE))
    a, b = dialog.accept_button("A"), dialog.accept_button("B")
    assert a is not None and b is not None
    assert a.isEnabled() and b.isEnabled()
    assert "boot again now" in a.toolTip()
    assert "accepted when it reconnects" in b.toolTip()

    overview.apply({"B/comm": Sample(CommState.ONLINE)} | accepted("A") | booted("C"))
    assert dialog.accept_button("A") is None
    assert "boot again now" in b.toolTip()
    c = dialog.accept_button("C")
    assert c is not None
    qtbot.mouseClick(c, Qt.MouseButton.LeftButton)
    assert sender.last == AcceptCharger(charger_id="C", issued_at=sender.last.issued_at)


def test_only_a_user_who_may_edit_the_project_can_accept(
    qtbot, overview: OverviewModel, dialog: PendingChargersDialog, sender: Sender
) -> None:
    overview.apply(booted("NEWCOMER"))
    button = dialog.accept_button("NEWCOMER")
    assert button is not None and button.isEnabled()
    dialog.set_actor(Actor("max", Role.MAINTENANCE))
    assert not button.isEnabled()
    assert button.toolTip() == "Needs the edit-project permission (integrator or above)"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert sender.sent == []


def test_a_dialog_opened_late_lists_what_is_already_pending(
    qtbot, themed_app, overview: OverviewModel, pending: PendingChargersModel, sender: Sender
) -> None:
    overview.apply(booted("A") | booted("B"))
    dialog = PendingChargersDialog(pending, sender)
    qtbot.addWidget(dialog)
    assert dialog.accept_button("A") is not None and dialog.accept_button("B") is not None
    assert dialog.table.indexWidget(pending.index(1, Column.ACTION)) is dialog.accept_button("B")


# ---- the main window


@pytest.fixture
def window(qtbot, themed_app, project: Project, sender: Sender, session: Session) -> MainWindow:
    window = MainWindow(project, sender, session=session)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_status_bar_offers_pending_chargers_only_when_there_are_some(
    qtbot, window: MainWindow, batch
) -> None:
    button = window.pending_button
    assert not button.isVisible()
    window.apply_tags(booted("NEWCOMER"))
    assert button.isVisible() and button.text() == "Pending chargers: 1"
    window.apply_tags(booted("GARAGE-7"))
    assert button.text() == "Pending chargers: 2"

    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(window.pending_dialog.isVisible)

    window.apply_tags(accepted("NEWCOMER") | accepted("GARAGE-7"))
    assert not button.isVisible()
    assert window.model.rowCount() == 14
    assert window.model.summary.total == 14
    assert window.pending_dialog.empty.isVisible()


def test_a_charger_added_at_run_time_gets_a_tile_and_a_faceplate(
    qtbot, window: MainWindow, batch
) -> None:
    window.apply_tags(booted("NEWCOMER") | accepted("NEWCOMER"))
    view = window.overview
    index = view.model().index(12, 0)
    rect = view.visualRect(index)
    assert rect.isValid()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(window.faceplate_dock.isVisible)
    assert window.faceplate.charger_id == "NEWCOMER"
    assert window.faceplate.findChild(QPushButton, "start_C1") is not None
    assert window.faceplate.findChild(QPushButton, "start_C2") is None

    # Its statuses name three connectors: the faceplate and every tile make room for them.
    height = rect.height()
    batch.connector("NEWCOMER", 3, status=ConnectorStatus.AVAILABLE)
    window.apply_tags(batch.samples)
    assert window.faceplate.findChild(QPushButton, "start_C3") is not None
    qtbot.waitUntil(lambda: view.visualRect(view.model().index(0, 0)).height() > height)
    assert view.visualRect(index).height() == view.visualRect(view.model().index(0, 0)).height()

    # Another charger with fewer connectors: the faceplate shows only its own.
    window.show_faceplate("CP-001")
    qtbot.waitUntil(lambda: window.faceplate.findChild(QPushButton, "start_C3") is None)
