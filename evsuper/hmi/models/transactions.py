"""The transaction history as a lazy table: ``count`` rows, pages fetched on demand.

The model knows how many sessions match the filters and holds a few pages of
``PAGE_SIZE`` rows (least recently shown evicted first). A row not loaded yet reads
``…`` and asks for its page; the page is read on the model's worker thread and its rows
repaint (``dataChanged``) when it arrives. Sorting and filtering re-query in SQL: the
count and the first page come back together and replace the table in one reset. A
query's generation number drops the answers of queries that were replaced meanwhile,
and a page request that scrolled out of the recent ones is skipped before it runs.
The GUI thread never waits on the database.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from typing import Any, Protocol

from PySide6.QtCore import (
    QObject,
    Qt,
    Signal,
)

from evsuper.historian.transactions import (
    HEADERS,
    SessionCurve,
    TransactionColumn,
    TransactionFilter,
    TransactionRow,
    TransactionSort,
)
from evsuper.hmi import formatting
from evsuper.hmi.models.table import Index, TableModel
from evsuper.hmi.worker import Worker

PAGE_SIZE = 200
CACHED_PAGES = 8
NOT_LOADED = "…"

# the view reads durations as "1 h 15 min" and costs as "12.34 EUR": no unit in its
# headers (the export's have them), and no currency column (the export's last one)
COLUMNS = tuple(
    "Duration" if c is TransactionColumn.DURATION else HEADERS[c]
    for c in TransactionColumn
    if c is not TransactionColumn.CURRENCY
)
WIDTHS = (80, 100, 95, 120, 160, 160, 110, 115, 115, 115, 130, 150, 110, 120)
_RIGHT = {
    TransactionColumn.ID,
    TransactionColumn.CONNECTOR,
    TransactionColumn.DURATION,
    TransactionColumn.SOC_START,
    TransactionColumn.SOC_STOP,
    TransactionColumn.ENERGY,
    TransactionColumn.MAX_POWER,
    TransactionColumn.COST,
}


class TransactionSource(Protocol):
    """Blocking reads of the archive (``evsuper.historian.transactions.TransactionReader``)."""

    def count(self, where: TransactionFilter) -> int: ...

    def page(
        self, where: TransactionFilter, sort: TransactionSort, offset: int, limit: int
    ) -> list[TransactionRow]: ...

    def rows(self, where: TransactionFilter, sort: TransactionSort) -> Any: ...

    def curve(self, transaction_id: int) -> SessionCurve: ...


def _number(value: float | None, digits: int) -> str:
    return formatting.NO_VALUE if value is None else f"{value:.{digits}f}"


def display_cells(row: TransactionRow) -> tuple[str, ...]:
    return (
        str(row.id),
        row.charger_id,
        str(row.connector_id),
        row.id_tag,
        formatting.timestamp(row.start),
        formatting.timestamp(row.stop),
        formatting.duration(row.duration_s),
        _number(row.soc_start, 0),
        _number(row.soc_stop, 0),
        _number(row.energy_kwh, 2),
        _number(row.max_power_kw, 1),
        formatting.text(row.stop_reason),
        formatting.money(row.cost, row.currency),
        formatting.text(row.tariff),
    )


class TransactionTableModel(TableModel):
    """``query(where)`` and ``sort(column, order)`` re-query: ``querying`` when one
    starts, ``loaded`` with the count and the seconds it took, ``failed`` the error text."""

    querying = Signal()
    loaded = Signal(int, float)
    failed = Signal(str)

    headers = COLUMNS

    def __init__(self, source: TransactionSource, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._source = source
        self._worker = Worker("evsuper-transactions", self)
        self._filter = TransactionFilter()
        self._sort = TransactionSort()
        self._count = 0
        self._generation = 0
        self._pages: OrderedDict[int, list[tuple[str, ...]]] = OrderedDict()
        self._rows: dict[int, list[TransactionRow]] = {}
        self._pending: set[int] = set()
        self._wanted: deque[int] = deque(maxlen=CACHED_PAGES)
        self._wanted_lock = threading.Lock()
        self._queries = 0
        self.page_fetches = 0  # pages read (not counting the first page of a query)

    # ---- queries ----

    def row_count(self) -> int:
        return self._count

    @property
    def current_filter(self) -> TransactionFilter:
        return self._filter

    @property
    def current_sort(self) -> TransactionSort:
        return self._sort

    @property
    def loading(self) -> bool:
        return self._queries > 0 or bool(self._pending)

    @property
    def count(self) -> int:
        return self._count

    def query(self, where: TransactionFilter | None = None) -> None:
        """Count and read the first page again (new filters if given), off this thread."""
        if where is not None:
            self._filter = where
        self._generation += 1
        self._queries += 1
        generation, where, sort, source = self._generation, self._filter, self._sort, self._source
        with self._wanted_lock:
            self._wanted.clear()

        def work() -> tuple[int, int, list[TransactionRow], float]:
            started = time.perf_counter()
            count = source.count(where)
            first = source.page(where, sort, 0, PAGE_SIZE) if count else []
            return generation, count, first, time.perf_counter() - started

        self._worker.run(work, self._answered, self._query_failed)
        self.querying.emit()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        wanted = TransactionSort(TransactionColumn(column), order == Qt.SortOrder.DescendingOrder)
        if wanted != self._sort:
            self._sort = wanted
            self.query()

    def _answered(self, answer: tuple[int, int, list[TransactionRow], float]) -> None:
        generation, count, first, seconds = answer
        self._queries -= 1
        if generation != self._generation:
            return
        self.beginResetModel()
        self._count = count
        self._pages.clear()
        self._rows.clear()
        self._pending.clear()
        if first:
            self._store(0, first)
        self.endResetModel()
        self.loaded.emit(count, seconds)

    def _query_failed(self, exc: Exception) -> None:
        self._queries -= 1
        self.failed.emit(str(exc))

    # ---- pages ----

    def _store(self, page: int, rows: list[TransactionRow]) -> None:
        self._rows[page] = rows
        self._pages[page] = [display_cells(r) for r in rows]
        while len(self._pages) > CACHED_PAGES:
            old, _ = self._pages.popitem(last=False)
            self._rows.pop(old, None)

    def _request(self, page: int) -> None:
        if page in self._pending:
            return
        self._pending.add(page)
        with self._wanted_lock:
            self._wanted.append(page)
        generation, where, sort, source = self._generation, self._filter, self._sort, self._source
        wanted, lock = self._wanted, self._wanted_lock

        def work() -> tuple[int, int, list[TransactionRow] | None]:
            with lock:
                still = page in wanted
            if not still:  # scrolled past before its turn came
                return generation, page, None
            return generation, page, source.page(where, sort, page * PAGE_SIZE, PAGE_SIZE)

        self._worker.run(work, self._page_arrived, self._page_failed(page, generation))

    def _page_failed(self, page: int, generation: int) -> Any:
        def failed(exc: Exception) -> None:
            if generation == self._generation:
                self._pending.discard(page)
                self.failed.emit(str(exc))

        return failed

    def _page_arrived(self, answer: tuple[int, int, list[TransactionRow] | None]) -> None:
        generation, page, rows = answer
        if generation != self._generation:
            return
        self._pending.discard(page)
        first = page * PAGE_SIZE
        if rows is None:
            # skipped: if its rows are on screen again, repainting them asks anew
            last = min(self._count, first + PAGE_SIZE) - 1
        else:
            self.page_fetches += 1
            self._store(page, rows)
            last = min(self._count, first + len(rows)) - 1
        if last >= first:
            self.dataChanged.emit(
                self.index(first, 0),
                self.index(last, len(COLUMNS) - 1),
                [Qt.ItemDataRole.DisplayRole],
            )

    def _cells(self, row: int) -> tuple[str, ...] | None:
        page, at = divmod(row, PAGE_SIZE)
        cells = self._pages.get(page)
        if cells is None:
            self._request(page)
            return None
        self._pages.move_to_end(page)
        return cells[at] if at < len(cells) else None

    def transaction(self, row: int) -> TransactionRow | None:
        """The row's transaction if its page is loaded."""
        page, at = divmod(row, PAGE_SIZE)
        rows = self._rows.get(page)
        return rows[at] if rows is not None and at < len(rows) else None

    def is_loaded(self, row: int) -> bool:
        return self.transaction(row) is not None

    # ---- Qt ----

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            cells = self._cells(index.row())
            return NOT_LOADED if cells is None else cells[index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = (
                Qt.AlignmentFlag.AlignRight
                if index.column() in _RIGHT
                else Qt.AlignmentFlag.AlignLeft
            )
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        return None

    def close(self) -> None:
        self._worker.close()
