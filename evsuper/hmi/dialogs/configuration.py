"""A charger's OCPP configuration: read all keys, change a read-write value in place."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from evsuper.core.domain import CommState
from evsuper.core.timeutil import utcnow
from evsuper.engine.commands import ChangeConfiguration, Command, CommandResult, GetConfiguration
from evsuper.hmi import formatting
from evsuper.hmi.bridge import CommandSender
from evsuper.hmi.models.configuration import Column, ConfigurationModel
from evsuper.hmi.models.overview import OverviewModel
from evsuper.hmi.theme import role_label
from evsuper.hmi.widgets.charger_header import ChargerHeader
from evsuper.hmi.widgets.command_result import CommandResultLine, SentCommand
from evsuper.users.permissions import NOBODY, Actor, refusal

READ_ACTION = "Read configuration"
_EDIT_TRIGGERS = (
    QAbstractItemView.EditTrigger.DoubleClicked
    | QAbstractItemView.EditTrigger.EditKeyPressed
    | QAbstractItemView.EditTrigger.SelectedClicked
)


class ConfigurationDialog(QDialog):
    """Non-modal, one per charger; reads the keys each time it is opened.

    One request at a time: Read and editing are off while an answer is awaited and
    while the charger is offline.
    """

    def __init__(
        self,
        charger_id: str,
        overview: OverviewModel,
        send: CommandSender,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("configurationDialog")
        self.setWindowTitle(f"{charger_id} — OCPP configuration")
        self.resize(820, 640)
        self._charger_id = charger_id
        self._overview = overview
        self._send = send
        self._sent: SentCommand | None = None  # the last request, answered or not
        self._read_at: datetime | None = None  # when the shown keys were read
        self._read_pending = False  # an automatic read is due once the charger can answer
        self._actor = NOBODY

        self.model = ConfigurationModel()
        self.model.changeRequested.connect(self._change)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterKeyColumn(Column.KEY)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

        self.header = ChargerHeader(charger_id)

        self.filter = QLineEdit()
        self.filter.setObjectName("configurationFilter")
        self.filter.setPlaceholderText("Filter keys by name")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.read = QPushButton("Read")
        self.read.setObjectName("readConfiguration")
        self.read.setToolTip("Ask the charger for all its configuration keys")
        self.read.clicked.connect(self._read)
        tools = QHBoxLayout()
        tools.setSpacing(6)
        tools.addWidget(self.filter, 1)
        tools.addWidget(self.read)

        self.table = QTableView()
        self.table.setObjectName("configurationTable")
        self.table.setModel(self.proxy)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(26)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(Column.VALUE, QHeaderView.ResizeMode.Stretch)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

        self.unknown = role_label("caption")
        self.unknown.setObjectName("unknownKeys")
        self.unknown.setWordWrap(True)
        self.unknown.hide()
        hint = role_label("caption", "Double-click a read-write value to change it on the charger.")
        self.result_line = CommandResultLine("Not read yet.")

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(8)
        layout.addWidget(self.header)
        layout.addLayout(tools)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.unknown)
        layout.addWidget(hint)
        layout.addWidget(self.result_line)
        layout.addWidget(buttons)

        overview.dataChanged.connect(self._on_overview_changed)
        self._update()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not event.spontaneous():  # opened by the operator, not restored by the system
            self._read_pending = True
            self._update()

    # ---- commands (the dialog's only job: build them and show the answers)

    def _read(self) -> None:
        self._read_pending = False
        self._submit(READ_ACTION, GetConfiguration(charger_id=self._charger_id), self._on_read)

    def _change(self, key: str, value: str) -> None:
        if not self._can_send():  # an editor opened before the dialog became busy
            return
        self._submit(
            f'Change {key} to "{value}"',
            ChangeConfiguration(charger_id=self._charger_id, key=key, value=value),
            lambda result, at: self.model.confirm_change(key, value, result.status, at),
        )

    def _submit(
        self,
        action: str,
        command: Command,
        on_answer: Callable[[CommandResult, datetime], None],
    ) -> None:
        sent = SentCommand(action, utcnow())
        self._sent = sent

        def on_result(result: CommandResult) -> None:
            answered = sent.answered(result)
            self._sent = answered
            if result.ok:
                on_answer(result, answered.at)
            self._update()

        self._update()
        self._send(command, on_result)

    def _on_read(self, result: CommandResult, at: datetime) -> None:
        self.model.load(result.payload)
        self._read_at = at
        unknown = self.model.unknown_keys
        self.unknown.setText(f"Unknown to the charger: {', '.join(unknown)}")
        self.unknown.setVisible(bool(unknown))

    def set_actor(self, actor: Actor) -> None:
        """Who uses the HMI now: values are editable only for those who may change them."""
        self._actor = actor
        self._update()

    # ---- display

    def _online(self) -> bool:
        state = self._overview.state(self._charger_id)
        return state is not None and state.online

    def _waiting(self) -> bool:
        return self._sent is not None and self._sent.result is None

    def _can_send(self) -> bool:
        return self._online() and not self._waiting()

    def _on_overview_changed(self, top_left: QModelIndex, bottom_right: QModelIndex) -> None:
        row = self._overview.row_of(self._charger_id)
        if row is not None and top_left.row() <= row <= bottom_right.row():
            self._update()

    def _update(self) -> None:
        if self._read_pending and self._can_send() and self.isVisible():
            self._read()  # comes back here through _submit
            return
        state = self._overview.state(self._charger_id)
        online = self._online()
        can_send = self._can_send()
        self.read.setEnabled(can_send)
        may_change = self._actor.may(ChangeConfiguration.permission)
        self.table.setEditTriggers(
            _EDIT_TRIGGERS
            if can_send and may_change
            else QAbstractItemView.EditTrigger.NoEditTriggers
        )
        self.table.setToolTip("" if may_change else refusal(ChangeConfiguration.permission))
        self.header.set_state(state.comm if state else CommState.UNKNOWN, self._describe(online))
        self.result_line.show_sent(self._sent)

    def _describe(self, online: bool) -> str:
        if self._read_at is None:
            read = "Not read yet"
        else:
            count = self.model.rowCount()
            read = f"{count} keys read at {formatting.clock(self._read_at)}"
        return f"OCPP configuration · {read}" + ("" if online else " · charger offline")
