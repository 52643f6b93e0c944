"""The drivers view: every driver device (Modbus, OPC UA, ...) and the OCPP central
system, with link state and counters, read every 2 s while the window is shown; a device
can be disabled (confirmed: its values go not-connected) and enabled again.

"Browse…" opens the OPC UA browse dialog of the selected ``opc.tcp`` device (its session
on the engine loop through ``submit``); the nodes picked there get their tags in the bind
dialog and are sent as one ``BindOpcUaPoints`` (confirmed; applies at the next start)."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QItemSelection, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from evsuper.core.timeutil import utcnow
from evsuper.drivers.base import DeviceSettings, DriverConfigError, LinkState
from evsuper.drivers.opcua.browse import BrowseEntry
from evsuper.engine.commands import (
    BindOpcUaPoints,
    CommandResult,
    Outcome,
    PointBinding,
    SetDeviceEnabled,
)
from evsuper.hmi import formatting
from evsuper.hmi.bridge import CommandSender, EngineReader
from evsuper.hmi.dialogs.opcua_bind import OpcUaBindDialog
from evsuper.hmi.dialogs.opcua_browse import OpcUaBrowseDialog, Submit, browse_dialog_for
from evsuper.hmi.models.drivers import (
    CentralLine,
    Column,
    DriversModel,
    DriverStatuses,
    DriverStatusSource,
    live_opcua_address,
)
from evsuper.hmi.models.overview import OverviewModel
from evsuper.hmi.theme import role_label
from evsuper.hmi.widgets.command_result import CommandResultLine, SentCommand
from evsuper.hmi.widgets.permission_gate import PermissionGates
from evsuper.hmi.widgets.refresh import RefreshWhileShown
from evsuper.project.model import Project
from evsuper.users.permissions import NOBODY, Actor

REFRESH_MS = 2000
NO_DRIVERS = "No drivers configured: this project has no Modbus, OPC UA or other device."
NO_ENGINE = "No engine to read the drivers from."
OPC_UA = "opc.tcp"


class DriversView(QWidget):
    """``source`` reads the devices (None: no engine); ``overview`` gives the chargers'
    comm state for the OCPP line; ``project`` (its ``[[devices]]`` settings and folder) and
    ``submit`` (``EngineThread.submit``) make "Browse…" possible for OPC UA devices;
    ``read`` finds where a simulated one is served (else its address is browsed)."""

    def __init__(
        self,
        source: DriverStatusSource | None,
        send: CommandSender,
        overview: OverviewModel | None = None,
        parent: QWidget | None = None,
        *,
        project: Project | None = None,
        submit: Submit | None = None,
        read: EngineReader | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("driversView")
        self.setWindowTitle("Drivers — evsuper")
        self.resize(1100, 420)
        self._source = source
        self._send = send
        self._overview = overview
        self._actor = NOBODY
        self._reading = False
        self._project = project
        self._submit = submit
        self._read = read
        self._settings: dict[str, DeviceSettings] = (
            {d.name: d for d in project.driver_devices()} if project is not None else {}
        )
        self.browse_dialog: OpcUaBrowseDialog | None = None
        self.bind_dialog: OpcUaBindDialog | None = None
        self.model = DriversModel(self)

        self.table = QTableView()
        self.table.setObjectName("driversTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(Column.LAST_ERROR, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)

        self.note = role_label("caption")
        self.note.setObjectName("driversNote")
        self.updated = role_label("caption")
        self.updated.setObjectName("driversUpdated")
        self.enable = QPushButton("Enable")
        self.enable.setObjectName("enableDevice")
        self.enable.setToolTip("Start communicating with the selected device again")
        self.disable = QPushButton("Disable…")
        self.disable.setObjectName("disableDevice")
        self.disable.setToolTip("Stop communicating with the selected device")
        self.browse = QPushButton("Browse…")
        self.browse.setObjectName("browseDevice")
        self.browse.setToolTip("Browse the selected OPC UA server and bind its nodes to tags")
        self.enable.clicked.connect(lambda: self._set_enabled(True))
        self.disable.clicked.connect(lambda: self._set_enabled(False))
        self.browse.clicked.connect(self.open_browse)
        self._gates = PermissionGates(
            {
                self.enable: SetDeviceEnabled.permission,
                self.disable: SetDeviceEnabled.permission,
                self.browse: BindOpcUaPoints.permission,
            }
        )
        self.result = CommandResultLine("No command sent yet.")

        buttons = QHBoxLayout()
        buttons.addWidget(self.enable)
        buttons.addWidget(self.disable)
        buttons.addWidget(self.browse)
        buttons.addStretch(1)
        buttons.addWidget(self.updated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.addWidget(role_label("title", "Drivers"))
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.result)

        self.refresher = RefreshWhileShown(self, self.refresh, REFRESH_MS)
        if overview is not None:
            overview.summaryChanged.connect(self._show_central)
        self._show_central()
        self._show_note()
        self._show_buttons()

    def set_actor(self, actor: Actor) -> None:
        self._actor = actor
        self._show_buttons()

    def refresh(self) -> None:
        """Read the statuses again (one read at a time) and the chargers' counters."""
        self._show_central()
        if self._source is None or self._reading:
            return
        self._reading = True
        self._source(self._on_statuses, self._on_failed)

    # ---- events

    def _on_statuses(self, statuses: DriverStatuses | None) -> None:
        self._reading = False
        selected = self._selected_device()
        self.model.set_statuses(statuses)
        if selected is not None and (row := self.model.row_of(selected)) is not None:
            self.table.selectRow(row)
        self.updated.setText(f"Updated {formatting.clock(utcnow())}")
        self._show_note()
        self._show_buttons()

    def _on_failed(self, reason: str) -> None:
        self._reading = False
        self.updated.setText(f"Read failed at {formatting.clock(utcnow())}: {reason}")

    def _on_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._show_buttons()

    # ---- display

    def _show_central(self) -> None:
        overview = self._overview
        if overview is None:
            return
        summary = overview.summary
        states = [overview.state_at(row) for row in range(overview.rowCount())]
        self.model.set_central(
            CentralLine(
                online=summary.online,
                known=summary.total,
                frames=sum(s.frames_received or 0 for s in states),
                errors=sum((s.callerrors_sent or 0) + (s.callerrors_received or 0) for s in states),
            )
        )

    def _show_note(self) -> None:
        if self._source is None:
            text = NO_ENGINE
        elif self.model.configured is False:
            text = NO_DRIVERS
        else:
            text = "Every driver device and the OCPP central system; refreshed every 2 s."
        self.note.setText(text)

    def _selected_device(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        device = self.model.device_at(rows[0].row()) if rows else None
        return None if device is None else device.name

    def _show_buttons(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        device = self.model.device_at(rows[0].row()) if rows else None
        disabled = device is not None and device.status.state is LinkState.DISABLED
        self._gates.show(
            self._actor,
            {
                self.enable: device is not None and disabled,
                self.disable: device is not None and not disabled,
                self.browse: device is not None and self._browsable(device.name),
            },
        )

    def _browsable(self, name: str) -> bool:
        settings = self._settings.get(name)
        return self._submit is not None and settings is not None and settings.scheme == OPC_UA

    # ---- command

    def _set_enabled(self, enabled: bool) -> None:
        device = self._selected_device()
        if device is None:
            return
        shown = self.result.track(f"{'Enable' if enabled else 'Disable'} {device}")

        def answered(result: CommandResult) -> None:
            shown(result)
            self.refresh()

        self._send(SetDeviceEnabled(device=device, enabled=enabled), answered)

    # ---- OPC UA: browse, give tags, bind

    def open_browse(self) -> OpcUaBrowseDialog | None:
        """The browse dialog of the selected OPC UA device (window-modal, not blocking);
        once accepted, the bind dialog of the nodes picked. A simulated device's dialog
        opens once the engine said where its simulator is (None returned then)."""
        name = self._selected_device()
        settings = self._settings.get(name) if name is not None else None
        if settings is None or not self._browsable(settings.name):
            return None
        if settings.options.get("simulate") is True and self._read is not None:
            device = settings.name

            def served(address: str | None) -> None:
                live = settings if not address else dataclasses.replace(settings, address=address)
                self._open_browse(live)

            self._read(lambda engine: live_opcua_address(engine, device), served, self._no_browse)
            return None
        return self._open_browse(settings)

    def _no_browse(self, reason: str) -> None:
        refused = CommandResult(Outcome.ERROR, "ReadFailed", reason)
        self.result.show_sent(SentCommand("Browse", utcnow(), refused))

    def _open_browse(self, settings: DeviceSettings) -> OpcUaBrowseDialog | None:
        if self._project is None or self._submit is None:
            return None
        try:
            dialog = browse_dialog_for(settings, self._project.directory, self._submit, self)
        except DriverConfigError as exc:
            refused = CommandResult(Outcome.ERROR, "InvalidSettings", str(exc))
            self.result.show_sent(SentCommand(f"Browse {settings.name}", utcnow(), refused))
            return None
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.open_bind(settings.name, dialog.picked()))
        self.browse_dialog = dialog
        dialog.open()
        return dialog

    def open_bind(self, device: str, entries: list[BrowseEntry]) -> OpcUaBindDialog | None:
        """The dialog giving each picked node its tag; once accepted the command is sent."""
        if not entries:
            return None
        dialog = OpcUaBindDialog(device, entries, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._bind(device, dialog.bindings()))
        self.bind_dialog = dialog
        dialog.open()
        return dialog

    def _bind(self, device: str, points: tuple[PointBinding, ...]) -> None:
        count = len(points)
        answered = self.result.track(f"Bind {count} node{'s' if count != 1 else ''} to {device}")
        self._send(BindOpcUaPoints(device=device, points=points), answered)
