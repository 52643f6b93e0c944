"""A charger's last OCPP frames as a table, and the filter the message log applies to it.

Rows are ``FrameRecord``s, oldest first, each read once into a ``FrameRow`` (message
type, id and action parsed from the OCPP-J array; a CALLRESULT or CALLERROR gets the
action of the CALL it answers when that CALL is still in the log).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QFont

from evsuper.drivers.ocpp.session_log import Direction, FrameRecord
from evsuper.hmi import formatting
from evsuper.hmi.models.table import Index, TableModel

FRAME_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's FrameRow
FRAME_PREVIEW_CHARS = 300  # of the frame text shown in the table; the detail pane has it all

_MESSAGE_TYPES = {2: "CALL", 3: "CALLRESULT", 4: "CALLERROR"}
_NOTABLE = ("CALLERROR", "?")  # errors and frames that do not parse: in bold (not an alarm)
_OPPOSITE = {Direction.RECEIVED: Direction.SENT, Direction.SENT: Direction.RECEIVED}
_DIRECTION_TEXT = {Direction.RECEIVED: "← in", Direction.SENT: "→ out"}


class Column(IntEnum):
    TIME = 0
    DIRECTION = 1
    TYPE = 2
    ACTION = 3
    MESSAGE_ID = 4
    FRAME = 5


_HEADERS = {
    Column.TIME: "Time",
    Column.DIRECTION: "Dir.",
    Column.TYPE: "Type",
    Column.ACTION: "Action",
    Column.MESSAGE_ID: "Message id",
    Column.FRAME: "Frame",
}


@dataclass(frozen=True, slots=True)
class FrameRow:
    record: FrameRecord
    message_type: str  # CALL, CALLRESULT, CALLERROR, or "?" for what does not parse
    message_id: str
    action: str  # the CALL's action (also for its answer, when known); "" if unknown
    parsed: Any  # the decoded JSON, None when the frame is not valid JSON

    def pretty(self) -> str:
        """The frame for reading: indented JSON, or the text as it came."""
        if self.parsed is None:
            return self.record.frame
        return json.dumps(self.parsed, indent=2, ensure_ascii=False)

    def searchable(self) -> str:
        return " ".join(
            (self.message_type, self.message_id, self.action, self.record.frame)
        ).casefold()


def frame_rows(records: list[FrameRecord]) -> list[FrameRow]:
    """Parse ``records`` (oldest first); answers are named after the CALLs they answer."""
    actions: dict[tuple[Direction, str], str] = {}  # (direction of the CALL, id) → action
    rows: list[FrameRow] = []
    for record in records:
        try:
            parsed: Any = json.loads(record.frame)
        except ValueError:
            parsed = None
        message_type, message_id, action = "?", "", ""
        if isinstance(parsed, list) and len(parsed) >= 3 and isinstance(parsed[0], int):
            message_type = _MESSAGE_TYPES.get(parsed[0], str(parsed[0]))
            message_id = str(parsed[1])
            if parsed[0] == 2 and isinstance(parsed[2], str):
                action = parsed[2]
                actions[(record.direction, message_id)] = action
            else:
                asked = _OPPOSITE[record.direction]  # an answer goes the other way
                action = actions.get((asked, message_id), "")
        rows.append(FrameRow(record, message_type, message_id, action, parsed))
    return rows


class FrameLogModel(TableModel):
    """The frames of one charger; ``set_records`` keeps rows (and selections) still there."""

    headers = tuple(_HEADERS[c] for c in Column)

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[FrameRow] = []

    def row_count(self) -> int:
        return len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == FRAME_ROLE:
            return row
        if role == Qt.ItemDataRole.DisplayRole:
            return _display(row, Column(index.column()))
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == Column.TIME:
            return formatting.timestamp(row.record.ts)
        if role == Qt.ItemDataRole.FontRole and row.message_type in _NOTABLE:
            font = QFont()
            font.setBold(True)
            return font
        return None

    def row(self, number: int) -> FrameRow:
        return self._rows[number]

    def set_records(self, records: list[FrameRecord]) -> None:
        """Show ``records``: drop the rows gone from the ring, append the new ones."""
        old = [r.record for r in self._rows]
        dropped = _dropped(old, records)
        if dropped is None:
            self.beginResetModel()
            self._rows = frame_rows(records)
            self.endResetModel()
            return
        if dropped:
            self.beginRemoveRows(QModelIndex(), 0, dropped - 1)
            del self._rows[:dropped]
            self.endRemoveRows()
        kept = len(old) - dropped
        if len(records) > kept:
            # parse the whole list again so that answers find their CALLs
            fresh = frame_rows(records)[kept:]
            self.beginInsertRows(QModelIndex(), kept, len(records) - 1)
            self._rows.extend(fresh)
            self.endInsertRows()


def _dropped(old: list[FrameRecord], new: list[FrameRecord]) -> int | None:
    """How many of ``old``'s first records ``new`` no longer has, when ``new`` continues
    ``old``; None when it does not (another charger, a restarted engine)."""
    if not old:
        return 0
    for dropped in range(len(old)):
        kept = old[dropped:]
        if new[: len(kept)] == kept:
            return dropped
    return None if new else len(old)


def _display(row: FrameRow, column: Column) -> str:
    record = row.record
    if column is Column.TIME:
        return formatting.precise_clock(record.ts)
    if column is Column.DIRECTION:
        return _DIRECTION_TEXT[record.direction]
    if column is Column.TYPE:
        return row.message_type
    if column is Column.ACTION:
        return row.action
    if column is Column.MESSAGE_ID:
        return row.message_id
    return record.frame[:FRAME_PREVIEW_CHARS]


class FrameFilter(QSortFilterProxyModel):
    """Rows of one direction (None: both) whose text contains every word typed."""

    def __init__(self) -> None:
        super().__init__()
        self._direction: Direction | None = None
        self._words: list[str] = []

    def set_direction(self, direction: Direction | None) -> None:
        self._refilter(lambda: setattr(self, "_direction", direction))

    def set_text(self, text: str) -> None:
        self._refilter(lambda: setattr(self, "_words", text.casefold().split()))

    def _refilter(self, change: Callable[[], None]) -> None:
        if hasattr(self, "endFilterChange"):  # Qt 6.10 on; invalidateRowsFilter deprecated
            self.beginFilterChange()
            change()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            change()
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        if not isinstance(model, FrameLogModel) or source_row >= model.rowCount():
            return False
        row = model.row(source_row)
        if self._direction is not None and row.record.direction is not self._direction:
            return False
        if not self._words:
            return True
        text = row.searchable()
        return all(word in text for word in self._words)
