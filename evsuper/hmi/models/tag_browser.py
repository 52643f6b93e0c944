"""Every tag of the bus with its live value, unit, quality, time and age.

Rows are kept sorted by path, so no sorting proxy is needed; a batch changes the rows of
the tags it carries (``dataChanged`` per run of rows) and inserts the tags it is the first
to carry — never a reset, except when thousands of tags appear at once (the start
snapshot). ``TagFilter`` selects by path prefix or glob and by quality.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from enum import Enum, IntEnum
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QFont

from evsuper.core.tags import Quality, Sample, TagPath
from evsuper.core.timeutil import utcnow
from evsuper.hmi import formatting
from evsuper.hmi.bridge import EngineReader, ReadFailed
from evsuper.hmi.models.rows import row_runs
from evsuper.hmi.models.table import Index, TableModel
from evsuper.hmi.quality import marked, quality_look, quality_tip

if TYPE_CHECKING:
    from evsuper.engine.runtime import Engine


SAMPLE_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's Sample
PATH_ROLE = Qt.ItemDataRole.UserRole + 2  # the row's tag path
RESET_ABOVE = 256  # more new tags than this in one batch: one reset, not many inserts
# Changed rows this close are signalled as one range: a signal costs more than re-reading a
# few unchanged rows (a charger's tags are neighbours and change together).
MERGE_GAP = 8


class Column(IntEnum):
    TAG = 0
    VALUE = 1
    UNIT = 2
    QUALITY = 3
    TIME = 4
    AGE = 5
    WRITABLE = 6


HEADERS = {
    Column.TAG: "Tag",
    Column.VALUE: "Value",
    Column.UNIT: "Unit",
    Column.QUALITY: "Quality",
    Column.TIME: "Time",
    Column.AGE: "Age",
    Column.WRITABLE: "Write",
}

# The unit a tag's name says (evsuper's own tags end with it: power_kw, energy_kwh, ...).
_SUFFIX_UNITS = (
    ("_kwh", "kWh"),
    ("_kw", "kW"),
    ("_wh", "Wh"),
    ("_w", "W"),
    ("_a", "A"),
    ("_v", "V"),
    ("_hz", "Hz"),
    ("_pct", "%"),
    ("_s", "s"),
)
_NAME_UNITS = {"soc": "%"}


def tag_unit(path: TagPath) -> str:
    """The unit of a tag from its name (``CP-001/C1/power_kw`` → kW); "" when unknown."""
    name = path.rpartition("/")[2].lower()
    if name in _NAME_UNITS:
        return _NAME_UNITS[name]
    return next((unit for suffix, unit in _SUFFIX_UNITS if name.endswith(suffix)), "")


def value_text(value: Any) -> str:
    """A tag value as the browser shows it: enums by value, floats to 3 decimals."""
    if value is None:
        return formatting.NO_VALUE
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    if isinstance(value, datetime):
        return formatting.timestamp(value)
    return str(value)


# ``source(callback, failed)``: the tags the drivers can write, later, on the GUI thread
WritableSource = Callable[[Callable[[frozenset[TagPath]], None], ReadFailed], None]


def engine_writable_tags(read: EngineReader) -> WritableSource:
    """The driver tags that can be written, read on the engine thread."""

    def source(callback: Callable[[frozenset[TagPath]], None], failed: ReadFailed) -> None:
        read(writable_tags, callback, failed)

    return source


def writable_tags(engine: Engine) -> frozenset[TagPath]:
    """On the engine thread: every tag a driver can write (none without drivers)."""
    drivers: Any = getattr(engine, "drivers", None)
    if drivers is None:
        return frozenset()
    return frozenset(
        tag
        for tag in drivers.tags()
        if (driver := drivers.driver_of(tag)) is not None and driver.writable(tag)
    )


class TagBrowserModel(TableModel):
    """Feed it the bridge's batches with ``apply`` (the first one is the bus snapshot)."""

    headers = tuple(HEADERS[c] for c in Column)

    def __init__(self, parent: QObject | None = None, now: Callable[[], datetime] = utcnow):
        super().__init__(parent)
        self._paths: list[TagPath] = []  # sorted
        self._samples: dict[TagPath, Sample] = {}
        self._writable: frozenset[TagPath] = frozenset()
        self._watched = False  # a view shows the rows: changed rows are signalled
        self._now = now
        self._stale_font = QFont()
        self._stale_font.setItalic(True)

    # ---- state

    def row_count(self) -> int:
        return len(self._paths)

    def sample(self, path: TagPath) -> Sample | None:
        return self._samples.get(path)

    def path_at(self, row: int) -> TagPath:
        return self._paths[row]

    def sample_at(self, row: int) -> Sample:
        return self._samples[self._paths[row]]

    def row_of(self, path: TagPath) -> int | None:
        row = bisect_left(self._paths, path)
        return row if row < len(self._paths) and self._paths[row] == path else None

    def writable(self, path: TagPath) -> bool:
        return path in self._writable

    def set_writable(self, tags: Iterable[TagPath]) -> None:
        writable = frozenset(tags)
        if writable != self._writable:
            self._writable = writable
            if self._paths:
                last = len(self._paths) - 1
                column = Column.WRITABLE
                self.dataChanged.emit(self.index(0, column), self.index(last, column))

    @property
    def watched(self) -> bool:
        return self._watched

    def set_watched(self, watched: bool) -> None:
        """While no view shows the rows (the browser closed), a batch only stores its
        samples and inserts its new tags: no ``dataChanged``, which would cost the GUI
        thread for nothing. The view refilters when it shows them again."""
        self._watched = watched

    def apply(self, changes: Mapping[TagPath, Sample]) -> None:
        """Take a batch: changed rows signalled in runs, new tags inserted in order."""
        samples = self._samples
        new = [path for path in changes if path not in samples]
        samples.update(changes)
        if new:
            self._insert(sorted(new))
        if len(new) == len(changes) or not self._watched:
            return
        fresh = set(new)
        rows = sorted(r for p in changes if p not in fresh and (r := self.row_of(p)) is not None)
        last = len(Column) - 1
        for first, end in row_runs(rows, MERGE_GAP):
            self.dataChanged.emit(self.index(first, Column.VALUE), self.index(end, last))

    def _insert(self, new: list[TagPath]) -> None:
        if len(new) > RESET_ABOVE:
            self.beginResetModel()
            self._paths = sorted(self._paths + new)
            self.endResetModel()
            return
        for path in new:
            row = bisect_left(self._paths, path)
            self.beginInsertRows(QModelIndex(), row, row)
            self._paths.insert(row, path)
            self.endInsertRows()

    # ---- Qt model interface

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = index.row()
        if not index.isValid() or row >= len(self._paths):
            return None
        path = self._paths[row]
        sample = self._samples[path]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(path, sample, column)
        if role == SAMPLE_ROLE:
            return sample
        if role == PATH_ROLE:
            return path
        good = sample.quality is Quality.GOOD
        if good or column == Column.TAG:
            if role == Qt.ItemDataRole.TextAlignmentRole and column == Column.AGE:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            return quality_look(sample.quality).color
        if role == Qt.ItemDataRole.FontRole and column == Column.VALUE:
            return self._stale_font
        if role == Qt.ItemDataRole.ToolTipRole:
            return quality_tip(sample.quality, sample.ts, self._now())
        if role == Qt.ItemDataRole.TextAlignmentRole and column == Column.AGE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _text(self, path: TagPath, sample: Sample, column: int) -> str:
        if column == Column.TAG:
            return path
        if column == Column.VALUE:
            return marked(value_text(sample.value), sample.quality)
        if column == Column.UNIT:
            return tag_unit(path)
        if column == Column.QUALITY:
            return marked(quality_look(sample.quality).label, sample.quality)
        if column == Column.TIME:
            return formatting.timestamp(sample.ts)
        if column == Column.AGE:
            return formatting.duration(max(0.0, (self._now() - sample.ts).total_seconds()))
        return "✎ writable" if path in self._writable else ""


class TagFilter(QSortFilterProxyModel):
    """Rows whose path starts with the pattern (a glob when it has ``*?[``, any case),
    and with ``only_bad`` only those whose quality is not good."""

    def __init__(self, model: TagBrowserModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self._pattern = ""
        self._glob = False
        self._only_bad = False
        self.setSourceModel(model)
        self.setDynamicSortFilter(True)  # a quality change moves a row in or out

    @property
    def only_bad(self) -> bool:
        return self._only_bad

    def set_pattern(self, pattern: str) -> None:
        pattern = pattern.strip().lower()
        if pattern != self._pattern:
            self._refilter(lambda: self._set(pattern, self._only_bad))

    def set_only_bad(self, only_bad: bool) -> None:
        if only_bad != self._only_bad:
            self._refilter(lambda: self._set(self._pattern, only_bad))

    def _set(self, pattern: str, only_bad: bool) -> None:
        self._pattern = pattern
        self._glob = any(c in pattern for c in "*?[")
        self._only_bad = only_bad

    def _refilter(self, change: Callable[[], None]) -> None:
        if hasattr(self, "endFilterChange"):  # Qt 6.10 on; invalidateRowsFilter deprecated
            self.beginFilterChange()
            change()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            change()
            self.invalidateRowsFilter()

    def refilter(self) -> None:
        """Filter every row again (after batches the proxy did not see)."""
        self._refilter(lambda: None)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self._model
        if self._only_bad and model.sample_at(source_row).quality is Quality.GOOD:
            return False
        if not self._pattern:
            return True
        path = model.path_at(source_row).lower()
        return fnmatchcase(path, self._pattern) if self._glob else path.startswith(self._pattern)
