from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton
from support import ADMIN

from evsuper.core.domain import CommState, ConnectorStatus
from evsuper.core.tags import Sample
from evsuper.core.timeutil import utcnow
from evsuper.engine.commands import (
    AvailabilityKind,
    CancelReservation,
    ChangeAvailability,
    ClearCache,
    CommandResult,
    GetLocalListVersion,
    LocalListUpdate,
    Outcome,
    RemoteStart,
    RemoteStop,
    ReserveNow,
    Reset,
    ResetKind,
    SendLocalList,
    TriggerableMessage,
    TriggerMessage,
    UnlockConnector,
)
from evsuper.hmi.dialogs.reservation import ReserveDialog
from evsuper.hmi.models.overview import OverviewModel
from evsuper.hmi.widgets.faceplate import Faceplate
from evsuper.project.model import Project
from evsuper.users.permissions import Actor, Role
from hmi.sender import Sender


@pytest.fixture
def model(qapp, project: Project, batch) -> OverviewModel:
    model = OverviewModel(project)
    batch.online("CP-001").online("CP-002").charging("CP-001", 1, 4711, 11.0)
    model.apply(batch.samples)
    return model


@pytest.fixture
def faceplate(qtbot, themed_app, model: OverviewModel, sender: Sender) -> Faceplate:
    faceplate = Faceplate(model, sender, ["BADGE-0001", "BADGE-0002"])
    faceplate.set_actor(ADMIN)
    qtbot.addWidget(faceplate)
    faceplate.show_charger("CP-001")
    faceplate.show()
    return faceplate


def button(faceplate: Faceplate, name: str) -> QPushButton:
    found = faceplate.findChild(QPushButton, name)
    assert found is not None, name
    return found


def click(qtbot, faceplate: Faceplate, name: str) -> None:
    qtbot.mouseClick(button(faceplate, name), Qt.MouseButton.LeftButton)


def test_remote_stop_sends_the_running_transaction_and_shows_the_answer(
    qtbot, faceplate: Faceplate, sender: Sender
) -> None:
    assert button(faceplate, "stop_C1").isEnabled()
    assert not button(faceplate, "stop_C2").isEnabled()  # nothing to stop there

    click(qtbot, faceplate, "stop_C1")

    command = sender.last
    assert isinstance(command, RemoteStop)
    assert (command.charger_id, command.transaction_id) == ("CP-001", 4711)
    assert "waiting" in faceplate.result.text()

    sender.answer(CommandResult(Outcome.REJECTED, "Rejected", "transaction unknown"))
    text = faceplate.result.text()
    assert "Remote Stop C1 (transaction 4711): Rejected" in text
    assert "transaction unknown" in text
    assert "waiting" not in text


def test_remote_start_uses_connector_and_chosen_id_tag(
    qtbot, faceplate: Faceplate, sender: Sender
) -> None:
    assert not button(faceplate, "start_C1").isEnabled()  # already charging
    click(qtbot, faceplate, "start_C2")
    assert sender.last == RemoteStart(
        charger_id="CP-001", connector_id=2, id_tag="BADGE-0001", issued_at=sender.last.issued_at
    )

    faceplate.id_tag.setEditText("FLEET-7")
    click(qtbot, faceplate, "start_C2")
    command = sender.last
    assert isinstance(command, RemoteStart) and command.id_tag == "FLEET-7"


def test_reset_unlock_and_availability_commands(
    qtbot, faceplate: Faceplate, model: OverviewModel, sender: Sender
) -> None:
    faceplate.reset_kind.setCurrentText("Hard")
    click(qtbot, faceplate, "reset")
    assert isinstance(sender.last, Reset) and sender.last.kind is ResetKind.HARD
    assert "Reset Hard: sent" in faceplate.result.text()

    click(qtbot, faceplate, "unlock_C2")
    assert isinstance(sender.last, UnlockConnector) and sender.last.connector_id == 2

    click(qtbot, faceplate, "charger_inoperative")
    command = sender.last
    assert isinstance(command, ChangeAvailability)
    assert (command.connector_id, command.kind) == (0, AvailabilityKind.INOPERATIVE)

    click(qtbot, faceplate, "availability_C2")
    command = sender.last
    assert isinstance(command, ChangeAvailability)
    assert (command.connector_id, command.kind) == (2, AvailabilityKind.INOPERATIVE)

    model.apply({"CP-001/C2/status": Sample(ConnectorStatus.UNAVAILABLE)})
    assert button(faceplate, "availability_C2").text() == "Set Operative"
    click(qtbot, faceplate, "availability_C2")
    command = sender.last
    assert isinstance(command, ChangeAvailability) and command.kind is AvailabilityKind.OPERATIVE
    assert all(c.charger_id == "CP-001" for c, _ in sender.sent)


def test_commands_are_disabled_while_the_charger_is_offline(
    qtbot, faceplate: Faceplate, model: OverviewModel, sender: Sender
) -> None:
    buttons = faceplate.findChildren(QPushButton)
    assert len(buttons) == 12 + 2 * 6
    # off: start and reserve C1 (charging), stop C2, cancel reservation (none held), the
    # maintenance window (this faceplate has no engine reader) and the trend (no archive)
    assert sum(b.isEnabled() for b in buttons) == len(buttons) - 7

    model.apply({"CP-001/comm": Sample(CommState.OFFLINE)})
    assert not any(b.isEnabled() for b in buttons)
    assert not faceplate.trigger_message.isEnabled()
    for b in buttons:
        qtbot.mouseClick(b, Qt.MouseButton.LeftButton)
    faceplate.send_full_list.trigger()
    faceplate.send_list_changes.trigger()
    assert sender.sent == []

    model.apply({"CP-001/comm": Sample(CommState.ONLINE)})
    assert button(faceplate, "stop_C1").isEnabled()


def test_clear_cache_sends_the_command_and_shows_the_answer(
    qtbot, faceplate: Faceplate, sender: Sender
) -> None:
    click(qtbot, faceplate, "clear_cache")
    assert sender.last == ClearCache(charger_id="CP-001", issued_at=sender.last.issued_at)
    assert "Clear cache: sent, waiting" in faceplate.result.text()

    sender.answer(CommandResult(Outcome.ACCEPTED, "Accepted"))
    assert "Clear cache: Accepted" in faceplate.result.text()
    click(qtbot, faceplate, "clear_cache")
    sender.answer(CommandResult(Outcome.REJECTED, "Rejected"))
    assert "Clear cache: Rejected" in faceplate.result.text()


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (CommandResult(Outcome.ACCEPTED, "Accepted"), "Reset Soft: Accepted"),
        (CommandResult(Outcome.TIMEOUT, "Timeout", "no answer in 30 s"), "no answer in 30 s"),
        (CommandResult(Outcome.OFFLINE, "NotConnected"), "Reset Soft: Offline (NotConnected)"),
        (CommandResult(Outcome.ERROR, "NotImplemented", "CALLERROR"), "Error (NotImplemented)"),
    ],
)
def test_every_outcome_is_shown(
    qtbot, faceplate: Faceplate, sender: Sender, result: CommandResult, expected: str
) -> None:
    click(qtbot, faceplate, "reset")
    sender.answer(result)
    assert expected in faceplate.result.text()


def test_results_belong_to_their_charger(qtbot, faceplate: Faceplate, sender: Sender) -> None:
    click(qtbot, faceplate, "reset")
    faceplate.show_charger("CP-002")
    assert faceplate.result.text() == "No command sent yet."
    assert not button(faceplate, "stop_C1").isEnabled()

    sender.answer(CommandResult(Outcome.ACCEPTED, "Accepted"))  # CP-001 answers meanwhile
    assert faceplate.result.text() == "No command sent yet."

    faceplate.show_charger("CP-001")
    assert "Reset Soft: Accepted" in faceplate.result.text()


def test_remote_start_falls_back_to_the_operator_id_tag(
    qtbot, themed_app, model: OverviewModel, sender: Sender
) -> None:
    faceplate = Faceplate(model, sender, [])
    faceplate.set_actor(ADMIN)
    qtbot.addWidget(faceplate)
    faceplate.show_charger("CP-002")
    click(qtbot, faceplate, "start_C1")
    command = sender.last
    assert isinstance(command, RemoteStart) and command.id_tag == "OPERATOR"


def test_a_late_answer_does_not_hide_a_newer_command(
    qtbot, faceplate: Faceplate, sender: Sender
) -> None:
    click(qtbot, faceplate, "reset")
    click(qtbot, faceplate, "unlock_C1")
    sender.answer(CommandResult(Outcome.TIMEOUT, "Timeout"), index=0)
    assert "Unlock C1: sent, waiting" in faceplate.result.text()
    sender.answer(CommandResult(Outcome.ACCEPTED, "Unlocked"), index=1)
    assert "Unlock C1: Accepted (Unlocked)" in faceplate.result.text()


def test_values_follow_the_model(faceplate: Faceplate, model: OverviewModel) -> None:
    def texts() -> str:
        return " | ".join(label.text() for label in faceplate.findChildren(QLabel))

    assert "11.0 kW" in texts() and "4711" in texts()
    model.apply(
        {
            "CP-001/C1/power_kw": Sample(7.34),
            "CP-001/C2/status": Sample(ConnectorStatus.FAULTED),
            "CP-001/C2/error_code": Sample("GroundFailure"),
            "CP-001/firmware": Sample("7.0.0"),
        }
    )
    assert "7.3 kW" in texts()
    assert "FAULTED" in texts() and "GroundFailure" in texts() and "7.0.0" in texts()


def reserved(model: OverviewModel, connector_id: int, reservation_id: int | None) -> None:
    """The engine's tags for connector ``connector_id`` of CP-001 reserved (or freed again)."""
    status = ConnectorStatus.AVAILABLE if reservation_id is None else ConnectorStatus.RESERVED
    model.apply(
        {
            f"CP-001/C{connector_id}/status": Sample(status),
            f"CP-001/C{connector_id}/reservation_id": Sample(reservation_id),
        }
    )


def open_reserve(qtbot, faceplate: Faceplate, connector_id: int) -> ReserveDialog:
    click(qtbot, faceplate, f"reserve_C{connector_id}")
    dialog = faceplate.reserve_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    return dialog


def test_reservation_buttons_follow_the_connector(
    faceplate: Faceplate, model: OverviewModel
) -> None:
    def enabled(name: str) -> bool:
        return button(faceplate, name).isEnabled()

    assert not enabled("reserve_C1")  # charging
    assert enabled("reserve_C2") and not enabled("cancel_reservation_C2")

    reserved(model, 2, 17)
    assert not enabled("reserve_C2") and enabled("cancel_reservation_C2")
    assert any(label.text() == "17" for label in faceplate.findChildren(QLabel))
    assert any(label.text() == "Reserved" for label in faceplate.findChildren(QLabel))

    reserved(model, 2, None)
    assert enabled("reserve_C2") and not enabled("cancel_reservation_C2")
    model.apply({"CP-001/C2/status": Sample(ConnectorStatus.FAULTED)})
    assert not enabled("reserve_C2")
    model.apply({"CP-001/C2/status": Sample(ConnectorStatus.AVAILABLE)})
    model.apply({"CP-001/comm": Sample(CommState.OFFLINE)})
    assert not enabled("reserve_C2")


def test_reserve_sends_the_chosen_id_tag_and_expiry(
    qtbot, faceplate: Faceplate, sender: Sender
) -> None:
    faceplate.id_tag.setCurrentText("BADGE-0002")
    dialog = open_reserve(qtbot, faceplate, 2)
    assert dialog.id_tag.currentText() == "BADGE-0002"  # the faceplate's choice
    assert dialog.duration.currentText() == "30 min"
    assert [dialog.id_tag.itemText(i) for i in range(dialog.id_tag.count())] == [
        "BADGE-0001",
        "BADGE-0002",
    ]
    before = utcnow()
    qtbot.mouseClick(dialog.reserve, Qt.MouseButton.LeftButton)
    after = utcnow()
    command = sender.last
    assert isinstance(command, ReserveNow)
    assert (command.charger_id, command.connector_id, command.id_tag) == ("CP-001", 2, "BADGE-0002")
    assert command.expiry.utcoffset() == timedelta(0) and command.expiry.tzinfo is UTC
    assert before + timedelta(minutes=30) <= command.expiry <= after + timedelta(minutes=30)
    assert "Reserve C2 for BADGE-0002 (30 min): sent, waiting" in faceplate.result.text()

    dialog = open_reserve(qtbot, faceplate, 2)
    dialog.id_tag.setEditText("FLEET-7")
    dialog.duration.setCurrentText("2 h")
    assert "in 2 h" in dialog.expiry.text()
    before = utcnow()
    qtbot.mouseClick(dialog.reserve, Qt.MouseButton.LeftButton)
    command = sender.last
    assert isinstance(command, ReserveNow) and command.id_tag == "FLEET-7"
    assert before + timedelta(hours=2) <= command.expiry <= utcnow() + timedelta(hours=2)

    sender.answer(CommandResult(Outcome.ACCEPTED, "Accepted", payload=17))
    assert "Reserve C2 for FLEET-7 (2 h): Accepted — reservation id 17" in faceplate.result.text()


def test_reserve_dialog_cancelled_or_without_id_tag_sends_nothing(
    qtbot, faceplate: Faceplate, sender: Sender
) -> None:
    dialog = open_reserve(qtbot, faceplate, 2)
    dialog.id_tag.setEditText("  ")
    assert not dialog.reserve.isEnabled()
    dialog.id_tag.setEditText("X" * 30)
    assert dialog.chosen_id_tag() == "X" * 20  # OCPP 1.6 idTag: at most 20 characters
    dialog.reject()
    assert not dialog.isVisible()
    assert sender.sent == []
    assert faceplate.result.text() == "No command sent yet."


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (CommandResult(Outcome.REJECTED, "Occupied", payload=18), "Rejected (Occupied)"),
        (CommandResult(Outcome.REJECTED, "Faulted", payload=18), "Rejected (Faulted)"),
        (CommandResult(Outcome.REJECTED, "Rejected", payload=18), ": Rejected"),
        (CommandResult(Outcome.REJECTED, "Unavailable", payload=18), "Rejected (Unavailable)"),
        (CommandResult(Outcome.TIMEOUT, "Timeout", "no answer", payload=18), "Timeout — no answer"),
        (CommandResult(Outcome.OFFLINE, "Offline"), "(30 min): Offline"),
        (CommandResult(Outcome.ERROR, "NotSupported", "CALLERROR"), "Error (NotSupported)"),
    ],
)
def test_every_reservation_outcome_is_shown(
    qtbot, faceplate: Faceplate, sender: Sender, result: CommandResult, expected: str
) -> None:
    qtbot.mouseClick(open_reserve(qtbot, faceplate, 2).reserve, Qt.MouseButton.LeftButton)
    sender.answer(result)
    text = faceplate.result.text()
    assert expected in text
    assert "reservation id" not in text  # only an accepted reservation holds its id


def test_cancel_reservation_sends_the_connector_reservation_id(
    qtbot, faceplate: Faceplate, model: OverviewModel, sender: Sender
) -> None:
    reserved(model, 2, 17)
    click(qtbot, faceplate, "cancel_reservation_C2")
    assert sender.last == CancelReservation(
        charger_id="CP-001", reservation_id=17, issued_at=sender.last.issued_at
    )
    assert "Cancel reservation 17 on C2: sent, waiting" in faceplate.result.text()
    sender.answer(CommandResult(Outcome.REJECTED, "Rejected"))
    assert "Cancel reservation 17 on C2: Rejected" in faceplate.result.text()

    click(qtbot, faceplate, "cancel_reservation_C2")
    sender.answer(CommandResult(Outcome.ACCEPTED, "Accepted"))
    assert "Cancel reservation 17 on C2: Accepted" in faceplate.result.text()


def test_trigger_asks_for_the_chosen_message_of_the_whole_charger(
    qtbot, faceplate: Faceplate, sender: Sender
) -> None:
    choices = faceplate.trigger_message
    assert [choices.itemText(i) for i in range(choices.count())] == [
        m.value for m in TriggerableMessage
    ]
    assert choices.currentText() == "Heartbeat"
    click(qtbot, faceplate, "trigger")
    assert sender.last == TriggerMessage(
        charger_id="CP-001", message=TriggerableMessage.HEARTBEAT, issued_at=sender.last.issued_at
    )
    assert "Trigger Heartbeat: sent, waiting" in faceplate.result.text()

    choices.setCurrentText("DiagnosticsStatusNotification")
    click(qtbot, faceplate, "trigger")
    command = sender.last
    assert isinstance(command, TriggerMessage)
    assert command.message is TriggerableMessage.DIAGNOSTICS_STATUS_NOTIFICATION
    assert command.connector_id is None


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (CommandResult(Outcome.ACCEPTED, "Accepted"), "Trigger MeterValues: Accepted"),
        (CommandResult(Outcome.REJECTED, "Rejected"), "Trigger MeterValues: Rejected"),
        (CommandResult(Outcome.REJECTED, "NotImplemented"), "Rejected (NotImplemented)"),
        (CommandResult(Outcome.TIMEOUT, "Timeout", "no answer"), "Timeout — no answer"),
        (CommandResult(Outcome.OFFLINE, "Offline", "connection lost"), "Offline — connection"),
        (CommandResult(Outcome.ERROR, "NotSupported", "CALLERROR"), "Error (NotSupported)"),
    ],
)
def test_every_trigger_outcome_is_shown(
    qtbot, faceplate: Faceplate, sender: Sender, result: CommandResult, expected: str
) -> None:
    faceplate.trigger_message.setCurrentText("MeterValues")
    click(qtbot, faceplate, "trigger")
    sender.answer(result)
    assert expected in faceplate.result.text()


def test_local_list_line_compares_the_charger_with_the_project(
    faceplate: Faceplate, model: OverviewModel, project: Project
) -> None:
    line = faceplate.local_list
    assert project.ocpp.local_list_version == model.project_list_version == 1
    assert line.text() == "charger unknown · project v1"
    assert not line.font().bold()  # not reported is not a difference

    model.apply({"CP-001/local_list_version": Sample(3)})
    assert line.text() == "charger v3 · project v1"
    assert line.font().bold()  # calm emphasis: bold, the alarm colour stays for alarms
    assert line.palette().color(line.foregroundRole()).name() != "#d40f1c"

    model.apply({"CP-001/local_list_version": Sample(0)})
    assert line.text() == "charger no list · project v1" and line.font().bold()
    model.apply({"CP-001/local_list_version": Sample(-1)})
    assert line.text() == "charger unsupported · project v1" and not line.font().bold()
    model.apply({"CP-001/local_list_version": Sample(1)})
    assert line.text() == "charger v1 · project v1" and not line.font().bold()

    faceplate.show_charger("CP-002")  # each charger its own version
    assert line.text() == "charger unknown · project v1"


def test_check_version_shows_what_the_charger_holds(
    qtbot, faceplate: Faceplate, sender: Sender
) -> None:
    click(qtbot, faceplate, "check_list_version")
    assert sender.last == GetLocalListVersion(charger_id="CP-001", issued_at=sender.last.issued_at)
    assert "Check local list version: sent, waiting" in faceplate.result.text()
    sender.answer(CommandResult(Outcome.ACCEPTED, "Accepted", payload=4))
    text = faceplate.result.text()
    assert "Check local list version: Accepted — the charger holds list v4" in text

    click(qtbot, faceplate, "check_list_version")
    sender.answer(CommandResult(Outcome.ACCEPTED, "Accepted", payload=0))
    assert "Accepted — the charger holds no list" in faceplate.result.text()
    click(qtbot, faceplate, "check_list_version")
    sender.answer(CommandResult(Outcome.ACCEPTED, "Accepted", payload=-1))
    assert "Accepted — the charger does not support local lists" in faceplate.result.text()

    click(qtbot, faceplate, "check_list_version")
    sender.answer(CommandResult(Outcome.ERROR, "NotSupported", "CALLERROR"))
    assert "Check local list version: Error (NotSupported) — CALLERROR" in faceplate.result.text()


def test_send_list_full_or_changes_shows_the_engine_detail(
    qtbot, faceplate: Faceplate, sender: Sender
) -> None:
    assert button(faceplate, "send_list").menu() is not None
    faceplate.send_full_list.trigger()
    assert sender.last == SendLocalList(
        charger_id="CP-001", update_type=LocalListUpdate.FULL, issued_at=sender.last.issued_at
    )
    assert "Send local list (Full): sent, waiting" in faceplate.result.text()
    sender.answer(CommandResult(Outcome.ACCEPTED, "Accepted", "20 badges, version 1"))
    assert "Send local list (Full): Accepted — 20 badges, version 1" in faceplate.result.text()

    faceplate.send_list_changes.trigger()
    command = sender.last
    assert isinstance(command, SendLocalList)
    assert command.update_type is LocalListUpdate.DIFFERENTIAL
    sender.answer(CommandResult(Outcome.REJECTED, "VersionMismatch", "2 badges, version 1"))
    text = faceplate.result.text()
    assert "Send local list (Differential): Rejected (VersionMismatch) — 2 badges" in text


def enabled_buttons(faceplate: Faceplate) -> set[str]:
    return {b.objectName() for b in faceplate.findChildren(QPushButton) if b.isEnabled()}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.VIEWER, {"configuration", "check_list_version"}),
        (
            Role.OPERATOR,
            {"configuration", "check_list_version", "charger_operative", "charger_inoperative"}
            | {"stop_C1", "availability_C1", "start_C2", "availability_C2", "reserve_C2"},
        ),
    ],
)
def test_controls_follow_the_users_permissions(
    qtbot, faceplate: Faceplate, sender: Sender, role: Role, expected: set[str]
) -> None:
    everything = enabled_buttons(faceplate)
    faceplate.set_actor(Actor("someone", role))
    assert enabled_buttons(faceplate) == expected
    reset = button(faceplate, "reset")
    assert reset.toolTip() == "Needs the reset permission (maintenance or above)"
    for name in everything - expected:
        qtbot.mouseClick(button(faceplate, name), Qt.MouseButton.LeftButton)
    assert sender.sent == []  # a disabled control sends nothing
    faceplate.set_actor(ADMIN)
    assert enabled_buttons(faceplate) == everything
    assert reset.toolTip() == ""
