"""The alarm list: one row per alarm the engine publishes under ``_alarms/<key>``.

``AlarmListModel.apply`` takes a tag batch (other paths are ignored). A burst of ten
thousand changes stays one pass: records are replaced in place (``dataChanged`` per run of
rows), removed rows leave in runs from the bottom up, new alarms are appended in one run.
Only a batch that would remove rows in very many separate runs resets the model once.

``AlarmFilterProxy`` filters (priority, state — "needs action" by default —, category,
charger, free text) and sorts; its default order is urgency: unacknowledged first, then
priority, then newest.

The model also keeps what the banner and the annunciator need — the unacknowledged
alarms — and the one blink phase every view of unacknowledged alarms follows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)

from evsuper.alarms.model import ALARM_PREFIX, AlarmRecord, AlarmState, Category, Priority
from evsuper.core.tags import Sample, TagPath
from evsuper.hmi import formatting
from evsuper.hmi.models.rows import row_runs
from evsuper.hmi.models.table import Index, TableModel
from evsuper.hmi.theme import Palette, font, priority_style

RECORD_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's AlarmRecord
BLINK_INTERVAL_MS = 500  # one phase: on 0.5 s, off 0.5 s (1 Hz)
# A batch removing rows in more separate runs than this resets the model once instead.
MAX_REMOVE_RUNS = 256


class Column(IntEnum):
    PRIORITY = 0
    STATE = 1
    ACTIVATED = 2
    SOURCE = 3
    MESSAGE = 4
    VALUE = 5
    CATEGORY = 6
    ACKNOWLEDGED_BY = 7
    COMMENT = 8
    ACTIVATIONS = 9


_COLUMN_COUNT = len(Column)

HEADERS = {
    Column.PRIORITY: "Priority",
    Column.STATE: "State",
    Column.ACTIVATED: "Activated",
    Column.SOURCE: "Source",
    Column.MESSAGE: "Message",
    Column.VALUE: "Value",
    Column.CATEGORY: "Category",
    Column.ACKNOWLEDGED_BY: "Ack. by",
    Column.COMMENT: "Comment",
    Column.ACTIVATIONS: "Activations",
}

STATE_LABELS = {
    AlarmState.NORMAL: "Normal",
    AlarmState.UNACKNOWLEDGED: "Unacknowledged",
    AlarmState.ACKNOWLEDGED: "Acknowledged",
    AlarmState.RTN_UNACKNOWLEDGED: "Cleared, unack.",
    AlarmState.LATCHED: "Latched (reset)",
    AlarmState.SHELVED: "Shelved",
    AlarmState.SUPPRESSED: "Suppressed",
    AlarmState.OUT_OF_SERVICE: "Out of service",
}

NEEDS_ACTION = frozenset(s for s in AlarmState if s.in_list)
SET_ASIDE = frozenset({AlarmState.SHELVED, AlarmState.SUPPRESSED, AlarmState.OUT_OF_SERVICE})

_STATE_RANK = {state: rank for rank, state in enumerate(AlarmState)}
_NO_TIME = 0.0


def _ts(value: datetime | None) -> float:
    return _NO_TIME if value is None else value.timestamp()


def urgency_key(record: AlarmRecord) -> tuple[bool, int, float]:
    """Unacknowledged first, then the most urgent priority, then the newest."""
    return (not record.state.unacknowledged, int(record.priority), -_ts(record.activated))


def activations_text(record: AlarmRecord) -> str:
    if record.chattering:
        return f"\u00d7{record.activations} chattering"
    return str(record.activations) if record.activations else ""


def state_text(record: AlarmRecord) -> str:
    label = STATE_LABELS[record.state]
    if record.state is AlarmState.SHELVED:
        until = record.shelved_until
        label += f" until {formatting.clock(until, seconds=False)}" if until else " until it clears"
    elif record.state is AlarmState.SUPPRESSED and record.suppressed_by:
        label += f" ({record.suppressed_by})"
    return label


def _cell(record: AlarmRecord, column: int) -> str:
    if column == Column.PRIORITY:
        return priority_style(record.priority).label
    if column == Column.STATE:
        return state_text(record)
    if column == Column.ACTIVATED:
        return formatting.timestamp(record.activated)
    if column == Column.SOURCE:
        return record.source
    if column == Column.MESSAGE:
        return record.message
    if column == Column.VALUE:
        return record.value
    if column == Column.CATEGORY:
        return record.category.value
    if column == Column.ACKNOWLEDGED_BY:
        return record.acknowledged_by
    if column == Column.COMMENT:
        return record.comment
    return activations_text(record)


def _sort_key(record: AlarmRecord, column: int) -> Any:
    """Each column's order; ties fall back to urgency, so equal cells stay in a useful order."""
    urgency = urgency_key(record)
    if column == Column.PRIORITY:
        return (int(record.priority), urgency)
    if column == Column.STATE:
        return (_STATE_RANK[record.state], urgency)
    if column == Column.ACTIVATED:
        return (_ts(record.activated), urgency)
    if column == Column.ACTIVATIONS:
        return (record.activations, record.chattering, urgency)
    return (_cell(record, column).casefold(), urgency)


class AlarmListModel(TableModel):
    """Every alarm the engine publishes, in arrival order (the proxy sorts)."""

    changed = Signal()  # after each batch that changed something
    blinkChanged = Signal(bool)  # the shared blink phase of unacknowledged alarms

    headers = tuple(HEADERS[c] for c in Column)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._records: list[AlarmRecord] = []
        self.urgency: list[tuple[bool, int, float]] = []  # urgency_key of each row, for sorting
        self._rows: dict[str, int] = {}
        self._unacknowledged: dict[str, AlarmRecord] = {}  # in the list and unacknowledged
        self._italic = font(9.5)
        self._italic.setItalic(True)
        self.blink_on = True  # phase: True shows unacknowledged alarms filled
        self._blink = QTimer(self)
        self._blink.setInterval(BLINK_INTERVAL_MS)
        self._blink.timeout.connect(self._toggle_blink)

    # ---- Qt model interface

    def row_count(self) -> int:
        return len(self._records)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        record = self._records[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return _cell(record, index.column())
        if role == RECORD_ROLE:
            return record
        if role == Qt.ItemDataRole.ToolTipRole:
            style = priority_style(record.priority)
            return (
                f"{style.symbol} {style.label} · {STATE_LABELS[record.state]}\n"
                f"{record.source}: {record.message}"
            )
        if role == Qt.ItemDataRole.ForegroundRole and record.state is (
            AlarmState.RTN_UNACKNOWLEDGED
        ):
            return Palette.TEXT_MUTED
        if role == Qt.ItemDataRole.FontRole and record.state is AlarmState.RTN_UNACKNOWLEDGED:
            return self._italic
        return None

    # ---- state

    def record_at(self, row: int) -> AlarmRecord:
        return self._records[row]

    def record(self, key: str) -> AlarmRecord | None:
        row = self._rows.get(key)
        return None if row is None else self._records[row]

    def row_of(self, key: str) -> int | None:
        return self._rows.get(key)

    @property
    def records(self) -> list[AlarmRecord]:
        return list(self._records)

    @property
    def unacknowledged(self) -> dict[str, AlarmRecord]:
        """The alarms in the list that are not acknowledged, by key."""
        return dict(self._unacknowledged)

    def unacknowledged_counts(self) -> dict[Priority, int]:
        counts = dict.fromkeys(Priority, 0)
        for record in self._unacknowledged.values():
            counts[record.priority] += 1
        return counts

    def top_unacknowledged(self) -> AlarmRecord | None:
        """The newest alarm of the most urgent priority among the unacknowledged ones."""
        return min(self._unacknowledged.values(), key=urgency_key, default=None)

    @staticmethod
    def sort_key(record: AlarmRecord, column: int) -> Any:
        return _sort_key(record, column)

    def apply(self, changes: Mapping[TagPath, Sample]) -> None:
        """Apply the ``_alarms/`` changes of a tag batch."""
        updated: list[int] = []
        removed: list[int] = []
        added: dict[str, AlarmRecord] = {}
        for path, sample in changes.items():
            if not path.startswith(ALARM_PREFIX):
                continue
            key = path[len(ALARM_PREFIX) :]
            record = sample.value
            if record is not None and not isinstance(record, AlarmRecord):
                continue
            row = self._rows.get(key)
            if record is None:
                if row is not None:
                    removed.append(row)
                self._unacknowledged.pop(key, None)
                added.pop(key, None)
                continue
            if record.state.unacknowledged:
                self._unacknowledged[key] = record
            else:
                self._unacknowledged.pop(key, None)
            if row is None:
                added[key] = record
            else:
                self._records[row] = record
                self.urgency[row] = urgency_key(record)
                updated.append(row)
        if not (updated or removed or added):
            return
        last_column = _COLUMN_COUNT - 1
        for first, last in row_runs(sorted(updated)):
            self.dataChanged.emit(self.index(first, 0), self.index(last, last_column))
        if removed:
            self._remove_rows(sorted(removed))
        if added:
            first = len(self._records)
            self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
            for row, (key, record) in enumerate(added.items(), start=first):
                self._records.append(record)
                self.urgency.append(urgency_key(record))
                self._rows[key] = row
            self.endInsertRows()
        self._update_blinking()
        self.changed.emit()

    def _remove_rows(self, rows: list[int]) -> None:
        runs = row_runs(rows)
        if len(runs) > MAX_REMOVE_RUNS:
            self.beginResetModel()
            gone = set(rows)
            self._records = [r for i, r in enumerate(self._records) if i not in gone]
            self.urgency = [urgency_key(r) for r in self._records]
            self._reindex()
            self.endResetModel()
            return
        for first, last in reversed(runs):
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._records[first : last + 1]
            del self.urgency[first : last + 1]
            self.endRemoveRows()
        self._reindex()

    def _reindex(self) -> None:
        self._rows = {record.key: row for row, record in enumerate(self._records)}

    # ---- blinking

    @property
    def blinking(self) -> bool:
        return self._blink.isActive()

    def _update_blinking(self) -> None:
        if self._unacknowledged and not self._blink.isActive():
            self._blink.start()
        elif not self._unacknowledged and self._blink.isActive():
            self._blink.stop()
            if not self.blink_on:
                self.blink_on = True
                self.blinkChanged.emit(True)

    def _toggle_blink(self) -> None:
        self.blink_on = not self.blink_on
        self.blinkChanged.emit(self.blink_on)


class AlarmFilterProxy(QSortFilterProxyModel):
    """Filters and sorts an ``AlarmListModel``; reads its records, not display text."""

    def __init__(self, source: AlarmListModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._source = source
        self.priorities: frozenset[Priority] = frozenset()  # empty: all
        self.states: frozenset[AlarmState] = NEEDS_ACTION
        self.categories: frozenset[Category] = frozenset()  # empty: all
        self.charger: str | None = None  # None: all; "": system alarms (no charger)
        self.text = ""
        self._urgency = True
        self._sorting_by_urgency = False
        self.setSourceModel(source)
        self.setDynamicSortFilter(True)
        self.sort_by_urgency()

    def set_filter(
        self,
        *,
        priorities: Iterable[Priority] | None = None,
        states: Iterable[AlarmState] | None = None,
        categories: Iterable[Category] | None = None,
        text: str | None = None,
    ) -> None:
        """Change the given filters (the others stay) and filter again once."""
        self._begin_filter_change()
        if priorities is not None:
            self.priorities = frozenset(priorities)
        if states is not None:
            self.states = frozenset(states)
        if categories is not None:
            self.categories = frozenset(categories)
        if text is not None:
            self.text = text.strip().casefold()
        self._end_filter_change()

    def set_charger(self, charger: str | None) -> None:
        """Only the alarms of ``charger``; "" only system alarms; None all."""
        self._begin_filter_change()
        self.charger = charger
        self._end_filter_change()

    def _begin_filter_change(self) -> None:
        if hasattr(self, "endFilterChange"):  # Qt 6.10 on; invalidateFilter deprecated
            self.beginFilterChange()

    def _end_filter_change(self) -> None:
        if hasattr(self, "endFilterChange"):
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.invalidateRowsFilter()

    def accepts(self, record: AlarmRecord) -> bool:
        if record.state not in self.states:
            return False
        if self.priorities and record.priority not in self.priorities:
            return False
        if self.categories and record.category not in self.categories:
            return False
        if self.charger is not None:
            if self.charger == "":
                if record.charger_id is not None:
                    return False
            elif record.charger_id != self.charger:
                return False
        if self.text:
            haystack = " ".join(
                (
                    record.message,
                    record.source,
                    record.value,
                    record.comment,
                    record.category.value,
                    record.definition_id,
                    record.acknowledged_by,
                )
            ).casefold()
            if self.text not in haystack:
                return False
        return True

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        return self.accepts(self._source.record_at(source_row))

    def lessThan(self, left: Index, right: Index) -> bool:
        if self._urgency:
            urgency = self._source.urgency
            return urgency[left.row()] < urgency[right.row()]
        column = left.column()
        a = self._source.record_at(left.row())
        b = self._source.record_at(right.row())
        return bool(_sort_key(a, column) < _sort_key(b, column))

    @property
    def by_urgency(self) -> bool:
        return self._urgency

    def sort_by_urgency(self) -> None:
        """The default order: unacknowledged first, then priority, then newest."""
        self._urgency = True
        self._sorting_by_urgency = True
        try:
            self.sort(Column.PRIORITY, Qt.SortOrder.AscendingOrder)
            self.invalidate()
        finally:
            self._sorting_by_urgency = False

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not self._sorting_by_urgency:
            self._urgency = False  # the operator chose a column
        super().sort(column, order)

    def record_at(self, row: int) -> AlarmRecord:
        """The record of proxy row ``row``."""
        return self._source.record_at(self.mapToSource(self.index(row, 0)).row())

    def visible_records(self) -> list[AlarmRecord]:
        return [self.record_at(row) for row in range(self.rowCount())]
