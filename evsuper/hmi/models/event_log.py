"""The audit trail as a read-only table: newest first, one row per entry."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from evsuper.hmi import formatting
from evsuper.users.audit import AuditEntry

Index = QModelIndex | QPersistentModelIndex

COLUMNS = ("Time", "User", "Role", "Kind", "Action", "Target", "Parameters", "Result", "Detail")


def _cells(entry: AuditEntry) -> tuple[str, ...]:
    parameters = json.dumps(dict(entry.parameters), sort_keys=True, ensure_ascii=False)
    return (
        formatting.timestamp(entry.ts),
        entry.actor.user,
        entry.actor.role.value,
        entry.kind.value,
        entry.action,
        entry.target,
        "" if parameters == "{}" else parameters,
        entry.result,
        entry.detail,
    )


class EventLogModel(QAbstractTableModel):
    """Entries are replaced as a whole by each query; cells are computed once."""

    def __init__(self) -> None:
        super().__init__()
        self._entries: list[AuditEntry] = []
        self._cells: list[tuple[str, ...]] = []

    def set_entries(self, entries: Sequence[AuditEntry]) -> None:
        self.beginResetModel()
        self._entries = list(entries)
        self._cells = [_cells(e) for e in self._entries]
        self.endResetModel()

    def entry(self, row: int) -> AuditEntry:
        return self._entries[row]

    @property
    def entries(self) -> list[AuditEntry]:
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
