"""Firmware update and diagnostics upload from the faceplate: status lines, dialogs, commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import QPushButton
from support import ADMIN

from evsuper.core.domain import CommState
from evsuper.core.tags import Sample
from evsuper.core.timeutil import utcnow
from evsuper.engine.commands import CommandResult, GetDiagnostics, Outcome, UpdateFirmware
from evsuper.hmi.dialogs.maintenance import DiagnosticsDialog, FirmwareDialog, valid_location
from evsuper.hmi.models.overview import OverviewModel
from evsuper.hmi.theme import Palette
from evsuper.hmi.widgets.faceplate import Faceplate
from evsuper.project.model import Project
from hmi.sender import Sender


@pytest.fixture
def model(qapp, project: Project, batch) -> OverviewModel:
    model = OverviewModel(project)
    model.apply(batch.online("CP-001").online("CP-002").samples)
    return model


@pytest.fixture
def faceplate(qtbot, themed_app, model: OverviewModel, sender: Sender) -> Faceplate:
    faceplate = Faceplate(model, sender, ["BADGE-0001"])
    faceplate.set_actor(ADMIN)
    qtbot.addWidget(faceplate)
    faceplate.show_charger("CP-001")
    faceplate.show()
    return faceplate


def button(faceplate: Faceplate, name: str) -> QPushButton:
    found = faceplate.findChild(QPushButton, name)
    assert found is not None, name
    return found


def open_firmware(qtbot, faceplate: Faceplate) -> FirmwareDialog:
    qtbot.mouseClick(button(faceplate, "update_firmware"), Qt.MouseButton.LeftButton)
    dialog = faceplate.firmware_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    return dialog


def open_diagnostics(qtbot, faceplate: Faceplate) -> DiagnosticsDialog:
    qtbot.mouseClick(button(faceplate, "get_diagnostics"), Qt.MouseButton.LeftButton)
    dialog = faceplate.diagnostics_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    return dialog


def confirm(qtbot, dialog: FirmwareDialog | DiagnosticsDialog) -> None:
    assert dialog.confirm.isEnabled()
    qtbot.mouseClick(dialog.confirm, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible())


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("https://fw.example.net/eve-7.0.0.bin", True),
        ("http://10.0.0.5:8080/fw.bin", True),
        ("ftp://user:pw@diag.example.net/uploads/", True),
        ("  HTTPS://fw.example.net/a.bin  ", True),
        ("", False),
        ("fw.example.net/eve.bin", False),
        ("file:///tmp/fw.bin", False),
        ("sftp://diag.example.net/", False),
        ("https://", False),
        ("https://fw.example.net/my file.bin", False),
    ],
)
def test_location_must_be_an_http_https_or_ftp_url(text: str, valid: bool) -> None:
    assert valid_location(text) is valid


def test_status_lines_follow_the_charger_and_failures_are_bold_not_red(
    faceplate: Faceplate, model: OverviewModel
) -> None:
    firmware, diagnostics = faceplate.firmware_status, faceplate.diagnostics_status
    assert (firmware.text(), diagnostics.text()) == ("—", "—")

    model.apply(
        {
            "CP-001/firmware_status": Sample("Downloading"),
            "CP-001/diagnostics_status": Sample("Uploading"),
        }
    )
    assert (firmware.text(), diagnostics.text()) == ("Downloading", "Uploading")
    assert not firmware.font().bold() and not diagnostics.font().bold()

    model.apply(
        {
            "CP-001/firmware_status": Sample("InstallationFailed"),
            "CP-001/diagnostics_status": Sample("UploadFailed"),
        }
    )
    assert (firmware.text(), diagnostics.text()) == ("InstallationFailed", "UploadFailed")
    for label in (firmware, diagnostics):
        assert label.font().bold()  # calm emphasis: a failed transfer is not an alarm
        assert label.palette().color(label.foregroundRole()) != Palette.ALARM

    model.apply({"CP-001/firmware_status": Sample("DownloadFailed")})
    assert firmware.font().bold()
    model.apply({"CP-001/firmware_status": Sample("Installed")})
    assert firmware.text() == "Installed" and not firmware.font().bold()

    faceplate.show_charger("CP-002")  # each charger its own progress
    assert (firmware.text(), diagnostics.text()) == ("—", "—")
    assert not diagnostics.font().bold()


def test_buttons_are_enabled_only_while_the_charger_is_online(
    qtbot, faceplate: Faceplate, model: OverviewModel, sender: Sender
) -> None:
    names = ("update_firmware", "get_diagnostics")
    assert all(button(faceplate, name).isEnabled() for name in names)

    model.apply({"CP-001/comm": Sample(CommState.OFFLINE)})
    assert not any(button(faceplate, name).isEnabled() for name in names)
    for name in names:
        qtbot.mouseClick(button(faceplate, name), Qt.MouseButton.LeftButton)
    assert faceplate.firmware_dialog is None and faceplate.diagnostics_dialog is None
    assert sender.sent == []

    model.apply({"CP-001/comm": Sample(CommState.ONLINE)})
    assert all(button(faceplate, name).isEnabled() for name in names)


def test_an_invalid_location_keeps_ok_disabled(qtbot, faceplate: Faceplate) -> None:
    for dialog in (open_firmware(qtbot, faceplate), open_diagnostics(qtbot, faceplate)):
        assert not dialog.confirm.isEnabled()  # empty
        assert not dialog.location_hint.font().bold()  # not yet a mistake
        dialog.location.setText("diag.example.net/upload")
        assert not dialog.confirm.isEnabled()
        assert dialog.location_hint.font().bold()
        dialog.location.setText("ftp://diag.example.net/upload/")
        assert dialog.confirm.isEnabled() and not dialog.location_hint.font().bold()
        dialog.location.setText("ftp://")
        assert not dialog.confirm.isEnabled()
        dialog.reject()


def test_update_firmware_now_sends_the_url_and_the_current_utc_time(
    qtbot, faceplate: Faceplate, sender: Sender
) -> None:
    dialog = open_firmware(qtbot, faceplate)
    assert dialog.now.isChecked() and not dialog.retrieve_at.isEnabled()
    assert dialog.retries.currentText() == "Charger default"
    dialog.location.setText("  https://fw.example.net/eve-7.0.0.bin ")
    before = utcnow()
    confirm(qtbot, dialog)
    after = utcnow()

    command = sender.last
    assert isinstance(command, UpdateFirmware)
    assert command.charger_id == "CP-001"
    assert command.location == "https://fw.example.net/eve-7.0.0.bin"
    assert command.retrieve_date.tzinfo is UTC
    assert before <= command.retrieve_date <= after
    assert (command.retries, command.retry_interval_s) == (None, None)
    assert "Update firmware (retrieve now): sent, waiting" in faceplate.result.text()

    sender.answer(CommandResult(Outcome.ACCEPTED, "Accepted"))
    assert "Update firmware (retrieve now): Accepted" in faceplate.result.text()


def test_update_firmware_later_sends_the_picked_time_in_utc_and_the_retries(
    qtbot, faceplate: Faceplate, sender: Sender
) -> None:
    dialog = open_firmware(qtbot, faceplate)
    dialog.location.setText("ftp://fw.example.net/eve.bin")
    dialog.later.setChecked(True)
    assert dialog.retrieve_at.isEnabled()
    at = (utcnow() + timedelta(hours=3)).replace(second=0, microsecond=0)
    dialog.retrieve_at.setDateTime(QDateTime.fromSecsSinceEpoch(int(at.timestamp())))
    dialog.retries.setCurrentText("3")
    confirm(qtbot, dialog)

    command = sender.last
    assert isinstance(command, UpdateFirmware)
    assert command.retrieve_date == at and command.retrieve_date.tzinfo is UTC
    assert command.retries == 3
    local = at.astimezone().strftime("%Y-%m-%d %H:%M")
    assert f"Update firmware (retrieve {local}): sent" in faceplate.result.text()

    sender.answer(CommandResult(Outcome.TIMEOUT, "Timeout", "no answer in 30 s"))
    assert "Timeout — no answer in 30 s" in faceplate.result.text()


def test_no_retry_is_not_the_charger_default(qtbot, faceplate: Faceplate, sender: Sender) -> None:
    dialog = open_firmware(qtbot, faceplate)
    dialog.location.setText("https://fw.example.net/eve.bin")
    dialog.retries.setCurrentText("No retry")
    confirm(qtbot, dialog)
    command = sender.last
    assert isinstance(command, UpdateFirmware) and command.retries == 0


@pytest.mark.parametrize(
    ("window", "span"),
    [
        ("Last hour", timedelta(hours=1)),
        ("Last 24 hours", timedelta(hours=24)),
        ("Last 7 days", timedelta(days=7)),
    ],
)
def test_get_diagnostics_sends_the_time_window_in_utc(
    qtbot, faceplate: Faceplate, sender: Sender, window: str, span: timedelta
) -> None:
    dialog = open_diagnostics(qtbot, faceplate)
    dialog.location.setText("ftp://diag.example.net/uploads/")
    dialog.period.setCurrentText(window)
    dialog.retries.setCurrentText("2")
    before = utcnow()
    confirm(qtbot, dialog)
    after = utcnow()

    command = sender.last
    assert isinstance(command, GetDiagnostics)
    assert (command.charger_id, command.location) == ("CP-001", "ftp://diag.example.net/uploads/")
    assert isinstance(command.start_time, datetime) and isinstance(command.stop_time, datetime)
    assert command.start_time.tzinfo is UTC and command.stop_time.tzinfo is UTC
    assert before <= command.stop_time <= after
    assert command.stop_time - command.start_time == span
    assert command.retries == 2
    assert f"Get diagnostics ({window.lower()}): sent, waiting" in faceplate.result.text()


def test_get_diagnostics_of_all_sends_no_window(
    qtbot, faceplate: Faceplate, sender: Sender
) -> None:
    dialog = open_diagnostics(qtbot, faceplate)
    assert dialog.period.currentText() == "All available"
    dialog.location.setText("https://diag.example.net/upload")
    confirm(qtbot, dialog)
    command = sender.last
    assert isinstance(command, GetDiagnostics)
    assert (command.start_time, command.stop_time, command.retries) == (None, None, None)


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (
            CommandResult(Outcome.ACCEPTED, "Accepted", payload="CP-001_diag.zip"),
            "Get diagnostics (all available): Accepted — file CP-001_diag.zip",
        ),
        (
            CommandResult(Outcome.ACCEPTED, "Accepted", payload=None),
            "Get diagnostics (all available): Accepted — nothing to upload",
        ),
        (CommandResult(Outcome.TIMEOUT, "Timeout", "no answer"), ": Timeout — no answer"),
        (CommandResult(Outcome.OFFLINE, "Offline"), "(all available): Offline"),
        (CommandResult(Outcome.ERROR, "NotSupported", "CALLERROR"), "Error (NotSupported)"),
    ],
)
def test_every_diagnostics_answer_is_shown(
    qtbot, faceplate: Faceplate, sender: Sender, result: CommandResult, expected: str
) -> None:
    dialog = open_diagnostics(qtbot, faceplate)
    dialog.location.setText("https://diag.example.net/upload")
    confirm(qtbot, dialog)
    sender.answer(result)
    text = faceplate.result.text()
    assert expected in text
    if not result.ok:
        assert "nothing to upload" not in text and "file" not in text


def test_cancelled_dialogs_send_nothing(qtbot, faceplate: Faceplate, sender: Sender) -> None:
    for dialog in (open_firmware(qtbot, faceplate), open_diagnostics(qtbot, faceplate)):
        dialog.location.setText("https://example.net/x")
        dialog.reject()
        qtbot.waitUntil(lambda d=dialog: not d.isVisible())
    assert sender.sent == []
    assert faceplate.result.text() == "No command sent yet."


def test_a_dialog_confirmed_after_moving_to_another_charger_sends_nothing(
    qtbot, faceplate: Faceplate, sender: Sender
) -> None:
    dialog = open_firmware(qtbot, faceplate)
    dialog.location.setText("https://fw.example.net/eve.bin")
    faceplate.show_charger("CP-002")
    confirm(qtbot, dialog)
    assert sender.sent == []
