"""Charger faceplate: details of one bollard and its operator commands.

The faceplate reads the charger's state from the overview model and sends typed
commands through a ``CommandSender``; the charger's answer is shown on a result line.
It also opens the charger's configuration dialog (one per charger, kept once made) and
the dialog that asks for a connector reservation's idTag and duration. Its maintenance
rows trigger a message from the charger, compare, check and send the local list, show
the firmware and diagnostics progress and open the dialogs that request them, and open
the charger's maintenance window (one per charger, kept once made) when the faceplate
was given an ``EngineReader``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from PySide6.QtCore import QModelIndex, QSize, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from evsuper.core.domain import ConnectorStatus
from evsuper.core.tags import Quality
from evsuper.core.timeutil import utcnow
from evsuper.engine.commands import (
    AvailabilityKind,
    CancelReservation,
    ChangeAvailability,
    ClearCache,
    Command,
    CommandResult,
    GetConfiguration,
    GetDiagnostics,
    GetLocalListVersion,
    LocalListUpdate,
    RemoteStart,
    RemoteStop,
    ReserveNow,
    Reset,
    ResetKind,
    SendLocalList,
    TriggerableMessage,
    TriggerMessage,
    UnlockConnector,
    UpdateFirmware,
)
from evsuper.hmi import formatting
from evsuper.hmi.bridge import CommandSender, EngineReader
from evsuper.hmi.dialogs.charger_maintenance import ChargerMaintenanceWindow
from evsuper.hmi.dialogs.configuration import ConfigurationDialog
from evsuper.hmi.dialogs.maintenance import DiagnosticsDialog, FirmwareDialog
from evsuper.hmi.dialogs.reservation import ReserveDialog
from evsuper.hmi.library.glyphs import connector_glyph_pixmap
from evsuper.hmi.models.overview import (
    ChargerState,
    ConnectorState,
    OverviewModel,
    alarm_text,
)
from evsuper.hmi.quality import show_value
from evsuper.hmi.theme import Emphasis, connector_style, role_label, set_emphasis
from evsuper.hmi.widgets.charger_header import ChargerHeader, show_identity
from evsuper.hmi.widgets.command_result import CommandResultLine, SentCommand
from evsuper.hmi.widgets.permission_gate import PermissionGates
from evsuper.users.permissions import NOBODY, Actor, Permission

FALLBACK_ID_TAG = "OPERATOR"  # offered for Remote Start when the project has no badges
UNSUPPORTED_LIST = -1  # GetLocalListVersion's answer from a charger without local lists

_STARTABLE = {
    None,
    ConnectorStatus.AVAILABLE,
    ConnectorStatus.PREPARING,
    ConnectorStatus.RESERVED,
}


def _value_grid(
    fields: Sequence[tuple[str, str]], columns: int
) -> tuple[QGridLayout, dict[str, QLabel]]:
    """Caption/value pairs laid out in ``columns`` columns; returns the value labels by key."""
    grid = QGridLayout()
    grid.setHorizontalSpacing(10)
    grid.setVerticalSpacing(2)
    values: dict[str, QLabel] = {}
    for i, (key, caption) in enumerate(fields):
        row, column = divmod(i, columns)
        value = role_label("value")
        values[key] = value
        grid.addWidget(role_label("caption", caption), row, 2 * column)
        grid.addWidget(value, row, 2 * column + 1)
    for column in range(columns):
        grid.setColumnStretch(2 * column + 1, 1)
    return grid, values


class _ConnectorPanel(QWidget):
    """Values and buttons of one connector."""

    def __init__(self, connector_id: int) -> None:
        super().__init__()
        self.connector_id = connector_id
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)

        header = QHBoxLayout()
        self._glyph = QLabel()
        header.addWidget(self._glyph)
        header.addWidget(role_label("section", f"Connector {connector_id}"), 1)
        layout.addLayout(header)

        grid, self._values = _value_grid(
            (
                ("status", "Status"),
                ("power", "Power"),
                ("error", "Error"),
                ("energy", "Energy"),
                ("info", "Info"),
                ("soc", "SoC"),
                ("transaction", "Transaction"),
                ("id_tag", "idTag"),
                ("reservation", "Reservation id"),
            ),
            columns=2,
        )
        layout.addLayout(grid)

        buttons = QGridLayout()
        buttons.setSpacing(4)
        self.start = self._button("start", "Remote Start", 0, 0, buttons)
        self.stop = self._button("stop", "Remote Stop", 0, 1, buttons)
        self.unlock = self._button("unlock", "Unlock", 1, 0, buttons)
        self.availability = self._button("availability", "Set Inoperative", 1, 1, buttons)
        self.reserve = self._button("reserve", "Reserve…", 2, 0, buttons)
        self.reserve.setToolTip("Hold this connector for one idTag for a while")
        self.cancel_reservation = self._button(
            "cancel_reservation", "Cancel reservation", 2, 1, buttons
        )
        layout.addLayout(buttons)
        self._state: ConnectorState | None = None
        self._gates = PermissionGates(
            {
                self.start: RemoteStart.permission,
                self.stop: RemoteStop.permission,
                self.unlock: UnlockConnector.permission,
                self.availability: ChangeAvailability.permission,
                self.reserve: ReserveNow.permission,
                self.cancel_reservation: CancelReservation.permission,
            }
        )

    def _button(
        self, name: str, text: str, row: int, column: int, grid: QGridLayout
    ) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(f"{name}_C{self.connector_id}")
        grid.addWidget(button, row, column)
        return button

    def show_state(self, charger: ChargerState, connector: ConnectorState, actor: Actor) -> None:
        """Show ``connector``; a value that is not fresh (its tag's quality, or the charger
        offline) is greyed with its quality marker and age (``hmi.quality``). A button stays
        off while the charger is offline or when ``actor`` may not use it (its tooltip says
        why)."""
        self._state = connector
        online = charger.online
        style = connector_style(connector.status)
        self._glyph.setPixmap(
            connector_glyph_pixmap(connector.connector_id, style, QSize(18, 18), live=online)
        )
        faulted = connector.faulted
        values = self._values
        now = utcnow()
        shown = (
            ("status", "status", style.label),
            ("error", "error_code", formatting.text(connector.error_code)),
            ("info", "error_info", formatting.text(connector.error_info)),
            ("power", "power_kw", formatting.kw(connector.power_kw)),
            ("energy", "energy_kwh", formatting.kwh(connector.energy_kwh)),
            ("soc", "soc", formatting.percent(connector.soc)),
            ("transaction", "transaction_id", formatting.text(connector.transaction_id)),
            ("id_tag", "id_tag", formatting.text(connector.id_tag)),
            ("reservation", "reservation_id", formatting.text(connector.reservation_id)),
        )
        for key, tag, text in shown:
            stale = charger.value_quality(tag, connector.connector_id)
            if stale is None:
                show_value(values[key], text, Quality.GOOD)
            else:
                show_value(values[key], text, stale.quality, stale.since, now, stale.reason)
        set_emphasis(values["status"], Emphasis.ALARM if faulted and online else Emphasis.NORMAL)
        set_emphasis(values["error"], Emphasis.ALARM if faulted and online else Emphasis.NORMAL)

        unavailable = connector.status is ConnectorStatus.UNAVAILABLE
        self.availability.setText("Set Operative" if unavailable else "Set Inoperative")
        reserved = connector.reservation_id is not None
        idle = connector.status is ConnectorStatus.AVAILABLE
        self._gates.show(
            actor,
            {
                self.start: online
                and connector.transaction_id is None
                and connector.status in _STARTABLE,
                self.stop: online and connector.transaction_id is not None,
                self.unlock: online,
                self.availability: online,
                self.reserve: online and idle and not reserved,
                self.cancel_reservation: online and reserved,
            },
        )

    def availability_kind(self) -> AvailabilityKind:
        unavailable = self._state is not None and self._state.status is ConnectorStatus.UNAVAILABLE
        return AvailabilityKind.OPERATIVE if unavailable else AvailabilityKind.INOPERATIVE

    def transaction_id(self) -> int | None:
        return None if self._state is None else self._state.transaction_id

    def reservation_id(self) -> int | None:
        return None if self._state is None else self._state.reservation_id


class Faceplate(QWidget):
    """Details and commands of the charger chosen with ``show_charger``."""

    trendRequested = Signal(str)  # charger id: open its trend (the main window does)
    diagnosticsOpened = Signal(str)  # charger id: its maintenance window was opened

    def __init__(
        self,
        model: OverviewModel,
        send: CommandSender,
        id_tags: Sequence[str],
        parent: QWidget | None = None,
        read: EngineReader | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("faceplate")
        self._model = model
        self._send = send
        self._read = read  # None: no maintenance window (no engine to read)
        self._maintenance: dict[str, ChargerMaintenanceWindow] = {}  # made on first use
        self._id_tags = list(id_tags) or [FALLBACK_ID_TAG]
        self._charger_id: str | None = None
        self._sent: dict[str, SentCommand] = {}  # last command per charger
        self._configuration: dict[str, ConfigurationDialog] = {}  # made on first use
        self.reserve_dialog: ReserveDialog | None = None  # the one last opened
        self.firmware_dialog: FirmwareDialog | None = None  # the one last opened
        self.diagnostics_dialog: DiagnosticsDialog | None = None  # the one last opened
        # the engine's file endpoint, proposed as the location of firmware and diagnostics
        self.files_url: str | None = None
        self.trends_available = False  # set by the owner that answers trendRequested
        self._connectors: list[_ConnectorPanel] = []
        self._actor = NOBODY
        model.dataChanged.connect(self._on_data_changed)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 12)
        layout.setSpacing(6)

        self.header = ChargerHeader()
        layout.addWidget(self.header)

        self.result = CommandResultLine("No command sent yet.")
        layout.addWidget(self.result)

        layout.addWidget(role_label("section", "Charger"))
        info, self._info = _value_grid(
            (
                ("registration", "Registration"),
                ("vendor", "Vendor"),
                ("model", "Model"),
                ("serial", "Serial number"),
                ("firmware", "Firmware"),
                ("last_seen", "Last seen"),
                ("status", "Charger status"),
                ("alarms", "Alarms"),
            ),
            columns=1,
        )
        layout.addLayout(info)

        commands = QGridLayout()
        commands.setHorizontalSpacing(6)
        commands.setVerticalSpacing(4)
        commands.addWidget(role_label("caption", "Reset"), 0, 0)
        self.reset_kind = QComboBox()
        self.reset_kind.setObjectName("reset_kind")
        self.reset_kind.addItems([kind.value for kind in ResetKind])
        commands.addWidget(self.reset_kind, 0, 1)
        self.reset = QPushButton("Reset")
        self.reset.setObjectName("reset")
        commands.addWidget(self.reset, 0, 2)
        commands.addWidget(role_label("caption", "Availability"), 1, 0)
        self.charger_operative = QPushButton("Set Operative")
        self.charger_operative.setObjectName("charger_operative")
        self.charger_inoperative = QPushButton("Set Inoperative")
        self.charger_inoperative.setObjectName("charger_inoperative")
        commands.addWidget(self.charger_operative, 1, 1)
        commands.addWidget(self.charger_inoperative, 1, 2)
        commands.addWidget(role_label("caption", "Start with idTag"), 2, 0)
        self.id_tag = QComboBox()
        self.id_tag.setObjectName("id_tag")
        self.id_tag.setEditable(True)
        self.id_tag.addItems(self._id_tags)
        commands.addWidget(self.id_tag, 2, 1, 1, 2)
        self._add_maintenance(commands, 3)
        commands.setColumnStretch(1, 1)
        commands.setColumnStretch(2, 1)
        layout.addLayout(commands)

        self._connector_area = QVBoxLayout()
        self._connector_area.setSpacing(10)
        layout.addLayout(self._connector_area)
        layout.addStretch(1)

        self.reset.clicked.connect(self._reset)
        self.charger_operative.clicked.connect(
            lambda: self._set_charger_availability(AvailabilityKind.OPERATIVE)
        )
        self.charger_inoperative.clicked.connect(
            lambda: self._set_charger_availability(AvailabilityKind.INOPERATIVE)
        )
        self.configuration.clicked.connect(self._open_configuration)
        self.clear_cache.clicked.connect(
            lambda: self._submit("Clear cache", lambda cid: ClearCache(charger_id=cid))
        )
        self.trigger.clicked.connect(self._trigger)
        self.check_list_version.clicked.connect(
            lambda: self._submit(
                "Check local list version",
                lambda cid: GetLocalListVersion(charger_id=cid),
                _with_list_version,
            )
        )
        self.send_full_list.triggered.connect(lambda: self._send_local_list(LocalListUpdate.FULL))
        self.send_list_changes.triggered.connect(
            lambda: self._send_local_list(LocalListUpdate.DIFFERENTIAL)
        )
        self.update_firmware.clicked.connect(self._open_firmware)
        self.get_diagnostics.clicked.connect(self._open_diagnostics)
        self.maintenance_window.clicked.connect(self.open_maintenance)
        self._gates = PermissionGates(
            {
                self.reset: Reset.permission,
                self.reset_kind: Reset.permission,
                self.charger_operative: ChangeAvailability.permission,
                self.charger_inoperative: ChangeAvailability.permission,
                self.id_tag: RemoteStart.permission,
                self.configuration: GetConfiguration.permission,
                self.clear_cache: ClearCache.permission,
                self.trigger: TriggerMessage.permission,
                self.trigger_message: TriggerMessage.permission,
                self.check_list_version: GetLocalListVersion.permission,
                self.send_list: SendLocalList.permission,
                self.update_firmware: UpdateFirmware.permission,
                self.get_diagnostics: GetDiagnostics.permission,
                self.maintenance_window: Permission.VIEW,
                self.trend: Permission.VIEW,
            }
        )
        self.setEnabled(False)

    def _add_maintenance(self, grid: QGridLayout, row: int) -> None:
        """Configuration, cache, triggers, local list, firmware and diagnostics from ``row`` on."""
        grid.addWidget(role_label("section", "Maintenance"), row, 0, 1, 3)
        self.configuration = self._named_button(
            "configuration",
            "Configuration…",
            "Read and change the charger's OCPP configuration keys",
        )
        self.clear_cache = self._named_button(
            "clear_cache", "Clear cache", "Clear the charger's authorization cache"
        )
        grid.addWidget(role_label("caption", "Charger data"), row + 1, 0)
        grid.addWidget(self.configuration, row + 1, 1)
        grid.addWidget(self.clear_cache, row + 1, 2)

        self.trigger_message = QComboBox()
        self.trigger_message.setObjectName("trigger_message")
        self.trigger_message.addItems([message.value for message in TriggerableMessage])
        self.trigger_message.setCurrentText(TriggerableMessage.HEARTBEAT.value)
        self.trigger_message.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.trigger_message.setMinimumContentsLength(6)
        self.trigger = self._named_button(
            "trigger", "Trigger", "Ask the charger to send the chosen message now"
        )
        grid.addWidget(role_label("caption", "Trigger"), row + 2, 0)
        grid.addWidget(self.trigger_message, row + 2, 1)
        grid.addWidget(self.trigger, row + 2, 2)

        self.local_list = role_label("value")
        self.local_list.setObjectName("local_list_version")
        self.local_list.setWordWrap(True)
        self.check_list_version = self._named_button(
            "check_list_version",
            "Check version",
            "Ask the charger which local authorization list version it holds",
        )
        self.send_list = self._named_button(
            "send_list", "Send list", "Send the project's badges as the charger's local list"
        )
        menu = QMenu(self.send_list)
        self.send_full_list = menu.addAction("Full list (replaces the charger's list)")
        self.send_list_changes = menu.addAction("Changes since the charger's version")
        self.send_list.setMenu(menu)
        grid.addWidget(role_label("caption", "Local list"), row + 3, 0)
        grid.addWidget(self.local_list, row + 3, 1, 1, 2)
        grid.addWidget(self.check_list_version, row + 4, 1)
        grid.addWidget(self.send_list, row + 4, 2)

        self.firmware_status = role_label("value")
        self.firmware_status.setObjectName("firmware_status")
        self.update_firmware = self._named_button(
            "update_firmware",
            "Update firmware…",
            "Have the charger fetch and install a firmware file from a URL",
        )
        grid.addWidget(role_label("caption", "Firmware"), row + 5, 0)
        grid.addWidget(self.firmware_status, row + 5, 1)
        grid.addWidget(self.update_firmware, row + 5, 2)

        self.diagnostics_status = role_label("value")
        self.diagnostics_status.setObjectName("diagnostics_status")
        self.get_diagnostics = self._named_button(
            "get_diagnostics",
            "Get diagnostics…",
            "Have the charger upload its diagnostics file to a URL",
        )
        grid.addWidget(role_label("caption", "Diagnostics"), row + 6, 0)
        grid.addWidget(self.diagnostics_status, row + 6, 1)
        grid.addWidget(self.get_diagnostics, row + 6, 2)

        self.maintenance_window = self._named_button(
            "maintenance_window",
            "Maintenance window…",
            "Identity and connection, the raw message log, charging profiles and the "
            "composite schedule of this charger",
        )
        self.maintenance_window.setEnabled(self._read is not None)
        grid.addWidget(role_label("caption", "Support"), row + 7, 0)
        grid.addWidget(self.maintenance_window, row + 7, 1)
        self.trend = self._named_button(
            "trend", "Trend…", "Power and SoC of this charger's connectors, last hour and live"
        )
        self.trend.setEnabled(False)
        self.trend.clicked.connect(self._request_trend)
        grid.addWidget(self.trend, row + 7, 2)

    def _request_trend(self) -> None:
        if self._charger_id is not None:
            self.trendRequested.emit(self._charger_id)

    @staticmethod
    def _named_button(name: str, text: str, tip: str) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setToolTip(tip)
        return button

    @property
    def charger_id(self) -> str | None:
        return self._charger_id

    def set_actor(self, actor: Actor) -> None:
        """Who uses the HMI now: controls they may not use are off, with the reason."""
        self._actor = actor
        for dialog in self._configuration.values():
            dialog.set_actor(actor)
        for window in self._maintenance.values():
            window.set_actor(actor)
        self._refresh()

    def configuration_dialog(self, charger_id: str) -> ConfigurationDialog | None:
        """The configuration dialog of ``charger_id``, once it has been opened."""
        return self._configuration.get(charger_id)

    def maintenance(self, charger_id: str) -> ChargerMaintenanceWindow | None:
        """The maintenance window of ``charger_id``, once it has been opened."""
        return self._maintenance.get(charger_id)

    def show_charger(self, charger_id: str) -> None:
        state = self._model.state(charger_id)
        if state is None:
            raise KeyError(charger_id)
        self._charger_id = charger_id
        self.setEnabled(True)
        self._refresh()

    def _fit_connectors(self, count: int) -> None:
        """One panel per connector: the count differs between chargers and may grow."""
        while len(self._connectors) > count:
            panel = self._connectors.pop()
            panel.hide()
            panel.deleteLater()
        for n in range(len(self._connectors) + 1, count + 1):
            panel = _ConnectorPanel(n)
            panel.start.clicked.connect(lambda _=False, p=panel: self._remote_start(p))
            panel.stop.clicked.connect(lambda _=False, p=panel: self._remote_stop(p))
            panel.unlock.clicked.connect(lambda _=False, p=panel: self._unlock(p))
            panel.availability.clicked.connect(
                lambda _=False, p=panel: self._set_connector_availability(p)
            )
            panel.reserve.clicked.connect(lambda _=False, p=panel: self._open_reserve(p))
            panel.cancel_reservation.clicked.connect(
                lambda _=False, p=panel: self._cancel_reservation(p)
            )
            self._connector_area.addWidget(panel)
            self._connectors.append(panel)

    # ---- commands (the widget's only job: build them and show their answers)

    def _open_configuration(self) -> None:
        charger_id = self._charger_id
        if charger_id is None:
            return
        dialog = self._configuration.get(charger_id)
        if dialog is None:
            dialog = ConfigurationDialog(charger_id, self._model, self._send, self)
            dialog.set_actor(self._actor)
            self._configuration[charger_id] = dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def open_maintenance(self) -> None:
        """Show the maintenance window of the charger shown (level 4, diagnostics)."""
        charger_id = self._charger_id
        if charger_id is None or self._read is None:
            return
        window = self._maintenance.get(charger_id)
        if window is None:
            window = ChargerMaintenanceWindow(charger_id, self._model, self._send, self._read, self)
            window.set_actor(self._actor)
            self._maintenance[charger_id] = window
        window.show()
        window.raise_()
        window.activateWindow()
        self.diagnosticsOpened.emit(charger_id)

    def close_maintenance(self) -> None:
        """Hide every maintenance window (they are kept for the next time)."""
        for window in self._maintenance.values():
            window.hide()

    def _reset(self) -> None:
        kind = ResetKind(self.reset_kind.currentText())
        self._submit(f"Reset {kind.value}", lambda cid: Reset(charger_id=cid, kind=kind))

    def _remote_start(self, panel: _ConnectorPanel) -> None:
        id_tag = self.id_tag.currentText().strip() or FALLBACK_ID_TAG
        self._submit(
            f"Remote Start C{panel.connector_id} ({id_tag})",
            lambda cid: RemoteStart(charger_id=cid, connector_id=panel.connector_id, id_tag=id_tag),
        )

    def _remote_stop(self, panel: _ConnectorPanel) -> None:
        transaction_id = panel.transaction_id()
        if transaction_id is None:
            return
        self._submit(
            f"Remote Stop C{panel.connector_id} (transaction {transaction_id})",
            lambda cid: RemoteStop(charger_id=cid, transaction_id=transaction_id),
        )

    def _unlock(self, panel: _ConnectorPanel) -> None:
        self._submit(
            f"Unlock C{panel.connector_id}",
            lambda cid: UnlockConnector(charger_id=cid, connector_id=panel.connector_id),
        )

    def _set_connector_availability(self, panel: _ConnectorPanel) -> None:
        kind = panel.availability_kind()
        self._submit(
            f"Set C{panel.connector_id} {kind.value}",
            lambda cid: ChangeAvailability(
                charger_id=cid, connector_id=panel.connector_id, kind=kind
            ),
        )

    def _open_reserve(self, panel: _ConnectorPanel) -> None:
        charger_id = self._charger_id
        if charger_id is None:
            return
        if self.reserve_dialog is not None:
            self.reserve_dialog.deleteLater()
        connector_id = panel.connector_id
        dialog = ReserveDialog(
            charger_id, connector_id, self._id_tags, self.id_tag.currentText().strip(), self
        )
        dialog.accepted.connect(lambda: self._reserve(charger_id, connector_id, dialog))
        self.reserve_dialog = dialog
        dialog.open()

    def _reserve(self, charger_id: str, connector_id: int, dialog: ReserveDialog) -> None:
        if charger_id != self._charger_id:  # the operator has moved to another charger
            return
        id_tag = dialog.chosen_id_tag()
        duration = dialog.chosen_duration()
        self._submit(
            f"Reserve C{connector_id} for {id_tag} ({duration.label})",
            lambda cid: ReserveNow(
                charger_id=cid,
                connector_id=connector_id,
                id_tag=id_tag,
                expiry=utcnow() + duration.span,
            ),
            _with_reservation_id,
        )

    def _cancel_reservation(self, panel: _ConnectorPanel) -> None:
        reservation_id = panel.reservation_id()
        if reservation_id is None:
            return
        self._submit(
            f"Cancel reservation {reservation_id} on C{panel.connector_id}",
            lambda cid: CancelReservation(charger_id=cid, reservation_id=reservation_id),
        )

    def _trigger(self) -> None:
        message = TriggerableMessage(self.trigger_message.currentText())
        self._submit(
            f"Trigger {message.value}",
            lambda cid: TriggerMessage(charger_id=cid, message=message),
        )

    def _send_local_list(self, update_type: LocalListUpdate) -> None:
        self._submit(
            f"Send local list ({update_type.value})",
            lambda cid: SendLocalList(charger_id=cid, update_type=update_type),
        )

    def _open_firmware(self) -> None:
        charger_id = self._charger_id
        if charger_id is None:
            return
        if self.firmware_dialog is not None:
            self.firmware_dialog.deleteLater()
        dialog = FirmwareDialog(charger_id, self)
        if self.files_url:
            dialog.location.setText(f"{self.files_url}firmware/")
        dialog.accepted.connect(lambda: self._update_firmware(charger_id, dialog))
        self.firmware_dialog = dialog
        dialog.open()

    def _update_firmware(self, charger_id: str, dialog: FirmwareDialog) -> None:
        if charger_id != self._charger_id:  # the operator has moved to another charger
            return
        location = dialog.chosen_location()
        retrieve_date = dialog.chosen_retrieve_date()
        retries = dialog.chosen_retries()
        self._submit(
            f"Update firmware (retrieve {dialog.retrieve_label()})",
            lambda cid: UpdateFirmware(
                charger_id=cid, location=location, retrieve_date=retrieve_date, retries=retries
            ),
        )

    def _open_diagnostics(self) -> None:
        charger_id = self._charger_id
        if charger_id is None:
            return
        if self.diagnostics_dialog is not None:
            self.diagnostics_dialog.deleteLater()
        dialog = DiagnosticsDialog(charger_id, self)
        if self.files_url:
            dialog.location.setText(f"{self.files_url}diagnostics/")
        dialog.accepted.connect(lambda: self._get_diagnostics(charger_id, dialog))
        self.diagnostics_dialog = dialog
        dialog.open()

    def _get_diagnostics(self, charger_id: str, dialog: DiagnosticsDialog) -> None:
        if charger_id != self._charger_id:  # the operator has moved to another charger
            return
        location = dialog.chosen_location()
        start_time, stop_time = dialog.chosen_times()
        retries = dialog.chosen_retries()
        self._submit(
            f"Get diagnostics ({dialog.chosen_window().label.lower()})",
            lambda cid: GetDiagnostics(
                charger_id=cid,
                location=location,
                start_time=start_time,
                stop_time=stop_time,
                retries=retries,
            ),
            _with_file_name,
        )

    def _set_charger_availability(self, kind: AvailabilityKind) -> None:
        self._submit(
            f"Set charger {kind.value}",
            lambda cid: ChangeAvailability(charger_id=cid, connector_id=0, kind=kind),
        )

    def _submit(
        self,
        action: str,
        build: Callable[[str], Command],
        explain: Callable[[CommandResult], CommandResult] | None = None,
    ) -> None:
        """Send ``build(charger_id)``; ``explain`` adds what the answer's payload tells."""
        charger_id = self._charger_id
        if charger_id is None:
            return
        sent = SentCommand(action, utcnow())
        self._sent[charger_id] = sent

        def on_result(result: CommandResult) -> None:
            if self._sent.get(charger_id) is sent:  # else a newer command replaced it
                shown = result if explain is None else explain(result)
                self._sent[charger_id] = sent.answered(shown)
                if charger_id == self._charger_id:
                    self._show_result()

        self._send(build(charger_id), on_result)
        self._show_result()

    # ---- display

    def _on_data_changed(self, top_left: QModelIndex, bottom_right: QModelIndex) -> None:
        if self._charger_id is None:
            return
        row = self._model.row_of(self._charger_id)
        if row is not None and top_left.row() <= row <= bottom_right.row():
            self._refresh()

    def _refresh(self) -> None:
        state = self._model.state(self._charger_id) if self._charger_id else None
        if state is None:
            return
        self.header.set_state(state.comm, self._describe(state), state.charger_id)
        info = self._info
        show_identity(info, state)
        info["last_seen"].setText(formatting.timestamp(state.last_seen))
        status = state.status
        status_text = connector_style(status).label if status else formatting.NO_VALUE
        stale = state.value_quality("status")
        if stale is None:
            show_value(info["status"], status_text, Quality.GOOD)
        else:
            show_value(info["status"], status_text, stale.quality, stale.since, None, stale.reason)
        faulted = status is ConnectorStatus.FAULTED and stale is None
        set_emphasis(info["status"], Emphasis.ALARM if faulted else Emphasis.NORMAL)
        info["alarms"].setText(alarm_text(state.alarm))
        unacknowledged = state.alarm is not None and state.alarm.unacknowledged
        alarm_emphasis = Emphasis.NOTABLE if state.alarm is not None else Emphasis.NORMAL
        set_emphasis(info["alarms"], Emphasis.ALARM if unacknowledged else alarm_emphasis)

        online = state.online
        conditions = dict.fromkeys(self._gates.widgets, online)
        conditions[self.maintenance_window] = self._read is not None  # offline too
        conditions[self.trend] = self.trends_available  # offline too
        self._gates.show(self._actor, conditions)
        may_configure = online and self._actor.may(SendLocalList.permission)
        self.send_full_list.setEnabled(may_configure)
        self.send_list_changes.setEnabled(may_configure)
        self._show_local_list(state)
        _show_progress(self.firmware_status, state.firmware_status)
        _show_progress(self.diagnostics_status, state.diagnostics_status)
        self._fit_connectors(len(state.connectors))
        for panel, connector in zip(self._connectors, state.connectors, strict=True):
            panel.show_state(state, connector, self._actor)
        self._show_result()

    def _show_local_list(self, state: ChargerState) -> None:
        """The charger's list version beside the project's; bold while they differ."""
        charger = state.local_list_version
        project = self._model.project_list_version
        self.local_list.setText(f"charger {formatting.list_version(charger)} · project v{project}")
        stale = charger is not None and charger != project and charger != UNSUPPORTED_LIST
        set_emphasis(self.local_list, Emphasis.NOTABLE if stale else Emphasis.NORMAL)

    @staticmethod
    def _describe(state: ChargerState) -> str:
        if state.online:
            count = len(state.connectors)
            return f"{count} connector{'s' if count > 1 else ''} · {formatting.kw(state.power_kw)}"
        if state.last_seen is not None:
            return f"No communication since {formatting.timestamp(state.last_seen)}"
        return "Not seen since the supervisor started"

    def _show_result(self) -> None:
        self.result.show_sent(self._sent.get(self._charger_id) if self._charger_id else None)


def _with_reservation_id(result: CommandResult) -> CommandResult:
    """An accepted ReserveNow names its reservation id on the result line."""
    if result.ok and isinstance(result.payload, int) and not result.detail:
        return replace(result, detail=f"reservation id {result.payload}")
    return result


def _show_progress(label: QLabel, status: str | None) -> None:
    """A firmware or diagnostics status; a failure in bold, calm (it is not an alarm)."""
    label.setText(formatting.text(status))
    failed = status is not None and status.endswith("Failed")
    set_emphasis(label, Emphasis.NOTABLE if failed else Emphasis.NORMAL)


def _with_file_name(result: CommandResult) -> CommandResult:
    """An accepted GetDiagnostics names the file to come, or that there is none."""
    if not result.ok or result.detail:
        return result
    name = result.payload
    detail = f"file {name}" if isinstance(name, str) and name else "nothing to upload"
    return replace(result, detail=detail)


def _with_list_version(result: CommandResult) -> CommandResult:
    """An answered GetLocalListVersion says on the result line what the charger holds."""
    version = result.payload
    if not result.ok or not isinstance(version, int) or result.detail:
        return result
    if version == UNSUPPORTED_LIST:
        detail = "the charger does not support local lists"
    elif version == 0:
        detail = "the charger holds no list"
    else:
        detail = f"the charger holds list v{version}"
    return replace(result, detail=detail)
