"""A read-only table of records from the archive (audit entries, journal entries, ...).

Each query replaces the records as a whole; the cells of a record are computed once, by
``cells(record)``, so scrolling and repainting cost nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

Index = QModelIndex | QPersistentModelIndex
R = TypeVar("R")


class RecordTableModel(QAbstractTableModel, Generic[R]):
    def __init__(self, columns: Sequence[str], cells: Callable[[R], tuple[str, ...]]) -> None:
        super().__init__()
        self._columns = tuple(columns)
        self._to_cells = cells
        self._entries: list[R] = []
        self._cells: list[tuple[str, ...]] = []

    def set_entries(self, entries: Sequence[R]) -> None:
        self.beginResetModel()
        self._entries = list(entries)
        self._cells = [self._to_cells(e) for e in self._entries]
        self.endResetModel()

    def entry(self, row: int) -> R:
        return self._entries[row]

    @property
    def entries(self) -> list[R]:
        return list(self._entries)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

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
            return self._columns[section]
        return None
