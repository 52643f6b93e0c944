"""A read-only table of records from the archive (audit entries, journal entries, ...).

Each query replaces the records as a whole; the cells of a record are computed once, by
``cells(record)``, so scrolling and repainting cost nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import Qt

from evsuper.hmi.models.table import Index, TableModel

R = TypeVar("R")


class RecordTableModel(TableModel, Generic[R]):
    def __init__(self, columns: Sequence[str], cells: Callable[[R], tuple[str, ...]]) -> None:
        super().__init__()
        self.headers = tuple(columns)
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

    def row_count(self) -> int:
        return len(self._entries)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._cells[index.row()][index.column()]
        return None
