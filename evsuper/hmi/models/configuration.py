"""A charger's OCPP configuration keys, as its last GetConfiguration answer gave them.

Edits are requests: ``setData`` on a read-write value emits ``changeRequested`` and
leaves the value alone; the value changes with ``confirm_change`` once the charger has
accepted it, so the table always shows what the charger holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    Qt,
    Signal,
)
from PySide6.QtGui import QFont

from evsuper.hmi import formatting
from evsuper.hmi.models.table import Index, TableModel
from evsuper.hmi.theme import Palette

REBOOT_REQUIRED = "RebootRequired"


class Column(IntEnum):
    KEY = 0
    VALUE = 1
    ACCESS = 2
    NOTE = 3


_HEADERS = {
    Column.KEY: "Key",
    Column.VALUE: "Value",
    Column.ACCESS: "Access",
    Column.NOTE: "Note",
}


@dataclass(frozen=True, slots=True)
class ConfigurationKey:
    key: str
    value: str | None  # None: the charger gave no value
    readonly: bool


@dataclass(frozen=True, slots=True)
class Change:
    """A change the charger accepted while this table was shown."""

    at: datetime
    reboot_required: bool

    @property
    def note(self) -> str:
        return "Reboot required" if self.reboot_required else f"Changed {formatting.clock(self.at)}"

    @property
    def explanation(self) -> str:
        when = formatting.clock(self.at)
        if self.reboot_required:
            return f"Changed at {when}; the charger applies it after a reboot"
        return f"Changed at {when}"


def parse_configuration(payload: Mapping[str, Any]) -> tuple[list[ConfigurationKey], list[str]]:
    """The keys (sorted by name) and unknown keys of a GetConfiguration result payload."""
    keys = [
        ConfigurationKey(
            key=str(item["key"]),
            value=None if item.get("value") is None else str(item["value"]),
            readonly=bool(item.get("readonly", False)),
        )
        for item in payload.get("keys", [])
    ]
    keys.sort(key=lambda k: k.key.lower())
    return keys, [str(key) for key in payload.get("unknown", [])]


class ConfigurationModel(TableModel):
    """One row per configuration key; the Value of read-write keys is editable."""

    changeRequested = Signal(str, str)  # key, new value

    headers = tuple(_HEADERS[c] for c in Column)

    def __init__(self) -> None:
        super().__init__()
        self._keys: list[ConfigurationKey] = []
        self._unknown: list[str] = []
        self._changes: dict[str, Change] = {}  # kept across reads: the session's history
        self._bold = QFont()
        self._bold.setBold(True)

    # ---- Qt model interface

    def row_count(self) -> int:
        return len(self._keys)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._keys):
            return None
        entry = self._keys[index.row()]
        column = Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(entry, column)
        if role == Qt.ItemDataRole.EditRole:
            return (entry.value or "") if column is Column.VALUE else self._text(entry, column)
        if role == Qt.ItemDataRole.ForegroundRole and entry.readonly:
            return Palette.TEXT_MUTED
        if column is Column.NOTE and (change := self._changes.get(entry.key)) is not None:
            if role == Qt.ItemDataRole.FontRole and change.reboot_required:
                return self._bold
            if role == Qt.ItemDataRole.ToolTipRole:
                return change.explanation
        if role == Qt.ItemDataRole.ToolTipRole and column is Column.VALUE:
            access = "read-only" if entry.readonly else "double-click to change it"
            return f"{entry.key} = {formatting.text(entry.value)}\n({access})"
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if not index.isValid() or not 0 <= index.row() < len(self._keys):
            return flags
        if index.column() == Column.VALUE and not self._keys[index.row()].readonly:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        """Ask for the change (``changeRequested``); the shown value stays until confirmed."""
        if role != Qt.ItemDataRole.EditRole or not self.flags(index) & Qt.ItemFlag.ItemIsEditable:
            return False
        entry = self._keys[index.row()]
        text = str(value)
        if text != (entry.value or ""):
            self.changeRequested.emit(entry.key, text)
        return False

    # ---- state

    @property
    def unknown_keys(self) -> list[str]:
        return list(self._unknown)

    def key_at(self, row: int) -> ConfigurationKey:
        return self._keys[row]

    def row_of(self, key: str) -> int | None:
        return next((row for row, k in enumerate(self._keys) if k.key == key), None)

    def change_of(self, key: str) -> Change | None:
        return self._changes.get(key)

    def load(self, payload: Mapping[str, Any]) -> None:
        """Replace the table with a GetConfiguration answer."""
        self.beginResetModel()
        self._keys, self._unknown = parse_configuration(payload)
        self.endResetModel()

    def confirm_change(self, key: str, value: str, status: str, at: datetime) -> None:
        """The charger accepted ``key = value`` (``status`` Accepted or RebootRequired)."""
        row = self.row_of(key)
        if row is None:
            return
        entry = self._keys[row]
        self._keys[row] = ConfigurationKey(entry.key, value, entry.readonly)
        self._changes[key] = Change(at, status == REBOOT_REQUIRED)
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(Column) - 1))

    def _text(self, entry: ConfigurationKey, column: Column) -> str:
        match column:
            case Column.KEY:
                return entry.key
            case Column.VALUE:
                return formatting.text(entry.value)
            case Column.ACCESS:
                return "read-only" if entry.readonly else "read-write"
        change = self._changes.get(entry.key)
        return "" if change is None else change.note
