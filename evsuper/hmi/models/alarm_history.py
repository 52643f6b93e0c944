"""The alarm journal as a read-only table: newest first, one row per transition.

A record, not live alarms: priorities read as number and name, in the calm grey of the
rest of the display (alarm colours belong to alarms that stand now).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from evsuper.alarms.model import JournalEntry
from evsuper.hmi import formatting

Index = QModelIndex | QPersistentModelIndex

COLUMNS = (
    "Time",
    "Priority",
    "Category",
    "Transition",
    "State after",
    "Source",
    "Message",
    "Value",
    "User",
    "Comment",
)
WIDTHS = (165, 80, 115, 150, 160, 170, 300, 60, 80, 140)
MESSAGE_COLUMN = 6  # takes the width left


def _cells(entry: JournalEntry) -> tuple[str, ...]:
    return (
        formatting.timestamp(entry.ts),
        f"{int(entry.priority)} {entry.priority.label}",
        entry.category.value,
        entry.transition.value,
        entry.state.value,
        entry.source,
        entry.message,
        entry.value,
        entry.user,
        entry.comment,
    )


class AlarmHistoryModel(QAbstractTableModel):
    """Entries are replaced as a whole by each query; cells are computed once."""

    def __init__(self) -> None:
        super().__init__()
        self._entries: list[JournalEntry] = []
        self._cells: list[tuple[str, ...]] = []

    def set_entries(self, entries: Sequence[JournalEntry]) -> None:
        self.beginResetModel()
        self._entries = list(entries)
        self._cells = [_cells(e) for e in self._entries]
        self.endResetModel()

    def entry(self, row: int) -> JournalEntry:
        return self._entries[row]

    @property
    def entries(self) -> list[JournalEntry]:
        return list(self._entries)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._cells[index.row()][index.column()]
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None
