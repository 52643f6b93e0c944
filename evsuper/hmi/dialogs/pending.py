"""Chargers waiting for acceptance: the list, an Accept button per charger, the answer."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from evsuper.engine.commands import AcceptCharger, CommandResult
from evsuper.hmi.bridge import CommandSender
from evsuper.hmi.models.pending import Column, PendingChargersModel
from evsuper.hmi.models.table import Index
from evsuper.hmi.widgets.command_result import CommandResultLine
from evsuper.users.permissions import NOBODY, Actor, refusal

INTRO = (
    "These chargers connected but are not in the project, so they are answered "
    "Pending. Accept adds a charger to the project file and asks it to boot again; "
    "it then appears in the overview."
)


class PendingChargersDialog(QDialog):
    """Non-modal; the list follows ``model`` live, Accept sends ``AcceptCharger``."""

    def __init__(
        self, model: PendingChargersModel, send: CommandSender, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("pendingChargersDialog")
        self.setWindowTitle("Pending chargers")
        self.resize(1040, 340)
        self._model = model
        self._send = send
        self._buttons: dict[str, QPushButton] = {}
        self._waiting: set[str] = set()  # Accept sent, no answer yet
        self._actor = NOBODY

        title = QLabel("Chargers waiting for acceptance")
        title.setProperty("role", "section")
        intro = QLabel(INTRO)
        intro.setProperty("role", "subtitle")
        intro.setWordWrap(True)

        self.table = QTableView()
        self.table.setObjectName("pendingTable")
        self.table.setModel(model)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(32)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(Column.COMM, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(Column.ACTION, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(Column.ACTION, 110)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

        self.empty = QLabel("No charger is waiting for acceptance.")
        self.empty.setObjectName("pendingEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.result_line = CommandResultLine("No charger accepted yet.")

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(8)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty, 1)
        layout.addWidget(self.result_line)
        layout.addWidget(buttons)

        model.rowsInserted.connect(self._on_rows_inserted)
        model.rowsAboutToBeRemoved.connect(self._on_rows_removed)
        model.dataChanged.connect(self._update_buttons)
        model.countChanged.connect(self._show_count)
        if model.count:
            self._on_rows_inserted(QModelIndex(), 0, model.count - 1)
        self._show_count(model.count)

    def accept_button(self, charger_id: str) -> QPushButton | None:
        return self._buttons.get(charger_id)

    def set_actor(self, actor: Actor) -> None:
        """Who uses the HMI now: Accept is only on for those who may edit the project."""
        self._actor = actor
        self._update_buttons()

    # ---- the command (the dialog's only job: build it and show the answer)

    def _accept(self, charger_id: str) -> None:
        answered = self.result_line.track(f"Accept {charger_id}")
        self._waiting.add(charger_id)
        self._update_buttons()

        def on_result(result: CommandResult) -> None:
            self._waiting.discard(charger_id)
            answered(result)
            self._update_buttons()

        self._send(AcceptCharger(charger_id=charger_id), on_result)

    # ---- display

    def _on_rows_inserted(self, parent: Index, first: int, last: int) -> None:
        for row in range(first, last + 1):
            charger_id = self._model.state_at(row).charger_id
            button = QPushButton("Accept")
            button.setObjectName(f"accept_{charger_id}")
            button.clicked.connect(lambda _=False, cid=charger_id: self._accept(cid))
            self._buttons[charger_id] = button
            self.table.setIndexWidget(self._model.index(row, Column.ACTION), button)
        self._update_buttons()

    def _on_rows_removed(self, parent: Index, first: int, last: int) -> None:
        # The view deletes the index widgets of removed rows itself.
        for row in range(first, last + 1):
            self._buttons.pop(self._model.state_at(row).charger_id, None)

    def _update_buttons(self) -> None:
        """One request at a time; an offline charger is accepted when it boots again."""
        for row in range(self._model.count):
            state = self._model.state_at(row)
            button = self._buttons.get(state.charger_id)
            if button is None:
                continue
            allowed = self._actor.may(AcceptCharger.permission)
            button.setEnabled(allowed and state.charger_id not in self._waiting)
            if not allowed:
                button.setToolTip(refusal(AcceptCharger.permission))
            elif state.online:
                button.setToolTip(
                    f"Add {state.charger_id} to the project; it is asked to boot again now"
                )
            else:
                button.setToolTip(
                    f"Add {state.charger_id} to the project; accepted when it reconnects"
                )

    def _show_count(self, count: int) -> None:
        self.table.setVisible(count > 0)
        self.empty.setVisible(count == 0)
