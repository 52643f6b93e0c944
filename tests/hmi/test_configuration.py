"""The configuration dialog against a recording sender: read, edit, every answer."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from support import ADMIN

from evsuper.core.domain import CommState
from evsuper.core.tags import Sample
from evsuper.engine.commands import (
    ChangeConfiguration,
    CommandResult,
    GetConfiguration,
    Outcome,
)
from evsuper.hmi.dialogs.configuration import ConfigurationDialog
from evsuper.hmi.models.configuration import Column
from evsuper.hmi.models.overview import OverviewModel
from evsuper.hmi.theme import Palette
from evsuper.hmi.widgets.faceplate import Faceplate
from evsuper.project.model import Project
from hmi.config_table import double_click, edit_value, source_index, value_of, view_index
from hmi.sender import Sender

CONFIGURATION: dict[str, Any] = {
    "keys": [
        {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
        {"key": "HeartbeatInterval", "readonly": False, "value": "60"},
        {"key": "AuthorizationKey", "readonly": False},  # a charger may leave the value out
        {"key": "MeterValueSampleInterval", "readonly": False, "value": "10"},
    ],
    "unknown": [],
}
READ = CommandResult(Outcome.ACCEPTED, "Accepted", payload=CONFIGURATION)


@pytest.fixture
def model(qapp, project: Project, batch) -> OverviewModel:
    model = OverviewModel(project)
    model.apply(batch.online("CP-001").online("CP-002").samples)
    return model


@pytest.fixture
def faceplate(qtbot, themed_app, model: OverviewModel, sender: Sender) -> Faceplate:
    faceplate = Faceplate(model, sender, [])
    faceplate.set_actor(ADMIN)
    qtbot.addWidget(faceplate)
    faceplate.show_charger("CP-001")
    faceplate.show()
    return faceplate


def open_dialog(qtbot, faceplate: Faceplate) -> ConfigurationDialog:
    qtbot.mouseClick(faceplate.configuration, Qt.MouseButton.LeftButton)
    dialog = faceplate.configuration_dialog("CP-001")
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    return dialog


@pytest.fixture
def dialog(qtbot, faceplate: Faceplate, sender: Sender) -> ConfigurationDialog:
    """The dialog of CP-001, opened and filled with ``CONFIGURATION``."""
    dialog = open_dialog(qtbot, faceplate)
    sender.answer(READ)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 4)
    return dialog


def keys(dialog: ConfigurationDialog) -> list[str]:
    return [dialog.model.key_at(row).key for row in range(dialog.model.rowCount())]


def test_opening_reads_all_keys_and_the_answer_fills_the_table(
    qtbot, faceplate: Faceplate, sender: Sender
) -> None:
    dialog = open_dialog(qtbot, faceplate)
    assert dialog.windowTitle() == "CP-001 — OCPP configuration"
    assert not dialog.isModal()
    command = sender.last
    assert isinstance(command, GetConfiguration)
    assert (command.charger_id, command.keys) == ("CP-001", ())
    assert len(sender.sent) == 1
    assert "Read configuration: sent, waiting" in dialog.result_line.text()
    assert not dialog.read.isEnabled()

    sender.answer(READ)
    qtbot.waitUntil(dialog.read.isEnabled)
    assert keys(dialog) == [
        "AuthorizationKey",
        "HeartbeatInterval",
        "MeterValueSampleInterval",
        "NumberOfConnectors",
    ]
    assert value_of(dialog, "HeartbeatInterval") == "60"
    assert value_of(dialog, "AuthorizationKey") is None
    source = dialog.model
    texts = [source.data(source.index(1, column)) for column in Column]
    assert texts == ["HeartbeatInterval", "60", "read-write", ""]
    assert source.data(source.index(0, Column.VALUE)) == "—"
    assert source.data(source.index(3, Column.ACCESS)) == "read-only"
    assert "Read configuration: Accepted" in dialog.result_line.text()
    assert dialog.header.subtitle.text().startswith("OCPP configuration · 4 keys read at ")
    assert dialog.unknown.isHidden()


def test_the_button_brings_back_the_same_dialog_and_reads_again(
    qtbot, faceplate: Faceplate, dialog: ConfigurationDialog, sender: Sender
) -> None:
    qtbot.mouseClick(faceplate.configuration, Qt.MouseButton.LeftButton)
    assert len(sender.sent) == 1  # already open: only raised
    dialog.close()
    assert open_dialog(qtbot, faceplate) is dialog
    assert len(sender.sent) == 2 and isinstance(sender.last, GetConfiguration)


def test_unknown_keys_are_listed(qtbot, faceplate: Faceplate, sender: Sender) -> None:
    dialog = open_dialog(qtbot, faceplate)
    sender.answer(
        CommandResult(
            Outcome.ACCEPTED, "Accepted", payload={**CONFIGURATION, "unknown": ["X", "Y"]}
        )
    )
    qtbot.waitUntil(dialog.unknown.isVisible)
    assert dialog.unknown.text() == "Unknown to the charger: X, Y"


def test_read_only_rows_are_greyed_and_not_editable(
    qtbot, dialog: ConfigurationDialog, sender: Sender
) -> None:
    source = dialog.model
    readonly = source_index(dialog, "NumberOfConnectors", Column.VALUE)
    writable = source_index(dialog, "HeartbeatInterval", Column.VALUE)
    assert source.data(readonly, Qt.ItemDataRole.ForegroundRole) == Palette.TEXT_MUTED
    assert source.data(writable, Qt.ItemDataRole.ForegroundRole) is None
    assert not source.flags(readonly) & Qt.ItemFlag.ItemIsEditable
    assert source.flags(writable) & Qt.ItemFlag.ItemIsEditable
    assert not source.flags(source.index(0, Column.KEY)) & Qt.ItemFlag.ItemIsEditable

    assert double_click(qtbot, dialog, "NumberOfConnectors") is None
    assert not source.setData(readonly, "4")
    assert len(sender.sent) == 1  # only the read


def test_editing_a_value_sends_change_configuration(
    qtbot, dialog: ConfigurationDialog, sender: Sender
) -> None:
    edit_value(qtbot, dialog, "HeartbeatInterval", "120")

    command = sender.last
    assert isinstance(command, ChangeConfiguration)
    assert (command.charger_id, command.key, command.value) == (
        "CP-001",
        "HeartbeatInterval",
        "120",
    )
    assert 'Change HeartbeatInterval to "120": sent, waiting' in dialog.result_line.text()
    assert value_of(dialog, "HeartbeatInterval") == "60"  # until the charger accepts
    assert not dialog.read.isEnabled()
    assert double_click(qtbot, dialog, "MeterValueSampleInterval") is None  # one at a time

    sender.answer(CommandResult(Outcome.ACCEPTED, "Accepted"))
    assert value_of(dialog, "HeartbeatInterval") == "120"
    assert dialog.read.isEnabled()
    note = source_index(dialog, "HeartbeatInterval", Column.NOTE)
    assert dialog.model.data(note).startswith("Changed ")


def test_an_unchanged_value_sends_nothing(
    qtbot, dialog: ConfigurationDialog, sender: Sender
) -> None:
    edit_value(qtbot, dialog, "HeartbeatInterval", "60")
    assert len(sender.sent) == 1


@pytest.mark.parametrize(
    ("result", "expected", "value"),
    [
        (CommandResult(Outcome.ACCEPTED, "Accepted"), "Accepted", "15"),
        (CommandResult(Outcome.ACCEPTED, "RebootRequired"), "Accepted (RebootRequired)", "15"),
        (CommandResult(Outcome.REJECTED, "Rejected"), "Rejected", "10"),
        (CommandResult(Outcome.REJECTED, "NotSupported"), "Rejected (NotSupported)", "10"),
        (CommandResult(Outcome.TIMEOUT, "Timeout", "no answer in 30 s"), "Timeout — no", "10"),
        (CommandResult(Outcome.OFFLINE, "NotConnected"), "Offline (NotConnected)", "10"),
        (
            CommandResult(Outcome.ERROR, "FormationViolation", "CALLERROR"),
            "Error (FormationViolation) — CALLERROR",
            "10",
        ),
    ],
)
def test_every_answer_to_a_change_is_shown(
    qtbot,
    dialog: ConfigurationDialog,
    sender: Sender,
    result: CommandResult,
    expected: str,
    value: str,
) -> None:
    edit_value(qtbot, dialog, "MeterValueSampleInterval", "15")
    sender.answer(result)
    assert f'Change MeterValueSampleInterval to "15": {expected}' in dialog.result_line.text()
    assert value_of(dialog, "MeterValueSampleInterval") == value
    assert dialog.read.isEnabled()


def test_reboot_required_is_noted_on_the_row(
    qtbot, dialog: ConfigurationDialog, sender: Sender
) -> None:
    edit_value(qtbot, dialog, "MeterValueSampleInterval", "15")
    sender.answer(CommandResult(Outcome.ACCEPTED, "RebootRequired"))
    source = dialog.model
    note = source_index(dialog, "MeterValueSampleInterval", Column.NOTE)
    assert source.data(note) == "Reboot required"
    assert source.data(note, Qt.ItemDataRole.FontRole).bold()
    assert "applies it after a reboot" in source.data(note, Qt.ItemDataRole.ToolTipRole)

    dialog.read.click()  # the note outlives a new read: the reboot is still to be done
    assert isinstance(sender.last, GetConfiguration)
    sender.answer(READ)
    assert value_of(dialog, "MeterValueSampleInterval") == "10"  # what the charger now says
    note = source_index(dialog, "MeterValueSampleInterval", Column.NOTE)
    assert source.data(note) == "Reboot required"


def test_actions_are_disabled_while_the_charger_is_offline(
    qtbot, dialog: ConfigurationDialog, model: OverviewModel, sender: Sender
) -> None:
    assert dialog.read.isEnabled()
    model.apply({"CP-001/comm": Sample(CommState.OFFLINE)})
    assert not dialog.read.isEnabled()
    assert double_click(qtbot, dialog, "HeartbeatInterval") is None
    qtbot.mouseClick(dialog.read, Qt.MouseButton.LeftButton)
    assert len(sender.sent) == 1
    assert value_of(dialog, "HeartbeatInterval") == "60"  # last read values stay readable

    model.apply({"CP-001/comm": Sample(CommState.ONLINE)})
    assert dialog.read.isEnabled()
    assert double_click(qtbot, dialog, "HeartbeatInterval") is not None


def test_opened_offline_reads_when_the_charger_is_back(
    qtbot, faceplate: Faceplate, model: OverviewModel, sender: Sender
) -> None:
    dialog = open_dialog(qtbot, faceplate)
    sender.answer(READ)
    dialog.close()
    model.apply({"CP-001/comm": Sample(CommState.OFFLINE)})
    assert not faceplate.configuration.isEnabled()
    dialog.show()  # e.g. left open on another screen: the read waits for the charger
    assert len(sender.sent) == 1
    model.apply({"CP-001/comm": Sample(CommState.ONLINE)})
    assert len(sender.sent) == 2 and isinstance(sender.last, GetConfiguration)


def test_the_filter_finds_a_key_by_name(dialog: ConfigurationDialog) -> None:
    dialog.filter.setText("interval")
    shown = [
        dialog.model.key_at(dialog.proxy.mapToSource(dialog.proxy.index(row, 0)).row()).key
        for row in range(dialog.proxy.rowCount())
    ]
    assert shown == ["HeartbeatInterval", "MeterValueSampleInterval"]
    dialog.filter.clear()
    assert dialog.proxy.rowCount() == 4
    assert view_index(dialog, "HeartbeatInterval", Column.VALUE).isValid()
