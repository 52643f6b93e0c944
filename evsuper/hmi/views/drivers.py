"""The drivers view: every driver device (Modbus, OPC UA, ...) and the OCPP central
system, with link state and counters, read every 2 s while the window is shown; a device
can be disabled (confirmed: its values go not-connected) and enabled again."""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, Qt, QTimer
from PySide6.QtGui import QHideEvent, QShowEvent
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
from evsuper.drivers.base import LinkState
from evsuper.engine.commands import CommandResult, SetDeviceEnabled
from evsuper.hmi import formatting
from evsuper.hmi.bridge import CommandSender
from evsuper.hmi.models.drivers import (
    CentralLine,
    Column,
    DriversModel,
    DriverStatuses,
    DriverStatusSource,
)
from evsuper.hmi.models.overview import OverviewModel
from evsuper.hmi.theme import role_label
from evsuper.hmi.widgets.command_result import CommandResultLine, SentCommand
from evsuper.hmi.widgets.permission_gate import PermissionGates
from evsuper.users.permissions import NOBODY, Actor

REFRESH_MS = 2000
NO_DRIVERS = "No drivers configured: this project has no Modbus, OPC UA or other device."
NO_ENGINE = "No engine to read the drivers from."


class DriversView(QWidget):
    """``source`` reads the devices (None: no engine); ``overview`` gives the chargers'
    comm state for the OCPP line."""

    def __init__(
        self,
        source: DriverStatusSource | None,
        send: CommandSender,
        overview: OverviewModel | None = None,
        parent: QWidget | None = None,
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
        self._sent: SentCommand | None = None
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
        self.enable.clicked.connect(lambda: self._set_enabled(True))
        self.disable.clicked.connect(lambda: self._set_enabled(False))
        self._gates = PermissionGates(
            {self.enable: SetDeviceEnabled.permission, self.disable: SetDeviceEnabled.permission}
        )
        self.result = CommandResultLine("No command sent yet.")

        buttons = QHBoxLayout()
        buttons.addWidget(self.enable)
        buttons.addWidget(self.disable)
        buttons.addStretch(1)
        buttons.addWidget(self.updated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.addWidget(role_label("title", "Drivers"))
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.result)

        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
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

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()
        self._timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        self._timer.stop()
        super().hideEvent(event)

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
            },
        )

    # ---- command

    def _set_enabled(self, enabled: bool) -> None:
        device = self._selected_device()
        if device is None:
            return
        action = f"{'Enable' if enabled else 'Disable'} {device}"
        sent = SentCommand(action, utcnow())
        self._sent = sent
        self.result.show_sent(sent)

        def answered(result: CommandResult) -> None:
            if self._sent is sent:
                self._sent = sent.answered(result)
                self.result.show_sent(self._sent)
            self.refresh()

        self._send(SetDeviceEnabled(device=device, enabled=enabled), answered)
