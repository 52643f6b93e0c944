"""Chargers waiting for an operator to accept them (project policy ``pending``).

A table over the overview model's unlisted chargers whose registration is Pending: a
charger joins the table when it boots and leaves it once its registration tag says
Accepted (it is then an overview row) or anything else.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    Qt,
    Signal,
)

from evsuper.core.domain import RegistrationStatus
from evsuper.hmi import formatting
from evsuper.hmi.models.overview import ChargerState, OverviewModel
from evsuper.hmi.models.table import Index, TableModel
from evsuper.hmi.theme import comm_label


class Column(IntEnum):
    CHARGER = 0
    VENDOR = 1
    MODEL = 2
    SERIAL = 3
    FIRMWARE = 4
    LAST_SEEN = 5
    COMM = 6
    ACTION = 7  # room for the view's Accept button


# Header and text of each column.
_COLUMNS: dict[Column, tuple[str, Callable[[ChargerState], str]]] = {
    Column.CHARGER: ("Charger", lambda s: s.charger_id),
    Column.VENDOR: ("Vendor", lambda s: formatting.text(s.vendor)),
    Column.MODEL: ("Model", lambda s: formatting.text(s.model)),
    Column.SERIAL: ("Serial number", lambda s: formatting.text(s.serial)),
    Column.FIRMWARE: ("Firmware", lambda s: formatting.text(s.firmware)),
    Column.LAST_SEEN: ("Last seen", lambda s: formatting.timestamp(s.last_seen)),
    Column.COMM: ("Connection", lambda s: comm_label(s.comm)),
    Column.ACTION: ("", lambda s: ""),
}


class PendingChargersModel(TableModel):
    """One row per pending charger, in the order they asked; follows the overview model."""

    countChanged = Signal(int)

    headers = tuple(_COLUMNS[c][0] for c in Column)

    def __init__(self, overview: OverviewModel) -> None:
        super().__init__()
        self._overview = overview
        self._states: list[ChargerState] = []
        overview.unlistedChanged.connect(self._sync)
        self._sync()

    # ---- Qt model interface

    def row_count(self) -> int:
        return len(self._states)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._states):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return _COLUMNS[Column(index.column())][1](self._states[index.row()])
        return None

    # ---- state

    @property
    def count(self) -> int:
        return len(self._states)

    def state_at(self, row: int) -> ChargerState:
        return self._states[row]

    def _sync(self) -> None:
        """Drop the chargers no longer pending, append the new ones, refresh the rest."""
        pending = {
            s.charger_id: s
            for s in self._overview.unlisted()
            if s.registration is RegistrationStatus.PENDING
        }
        before = len(self._states)
        for row in reversed(range(before)):
            if self._states[row].charger_id not in pending:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._states[row]
                self.endRemoveRows()
        kept = {s.charger_id for s in self._states}
        if self._states:
            last = self.index(len(self._states) - 1, len(Column) - 1)
            self.dataChanged.emit(self.index(0, 0), last)
        added = [s for cid, s in pending.items() if cid not in kept]
        if added:
            first = len(self._states)
            self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
            self._states.extend(added)
            self.endInsertRows()
        if len(self._states) != before:
            self.countChanged.emit(len(self._states))
