"""The transaction history: one row per charging session, for billing and for checks.

Filters (period on the start, charger, badge, stop reason, free text) and sorting on
any header run in SQL; the table is lazy (``models/transactions.py``), so a million
sessions open, sort and filter without the window waiting. Selecting a session draws its
power and SoC curve below the table. Export writes every session the filters select
(not only the rows loaded) to Excel or CSV on a thread of its own, with progress and
cancel. Read-only.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import pyqtgraph as pg
from PySide6.QtCore import QItemSelection, Qt, QTimer
from PySide6.QtGui import QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
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
from evsuper.hmi.models.transactions import (
    WIDTHS,
    TransactionSource,
    TransactionTableModel,
)
from evsuper.hmi.theme import Emphasis, Palette, role_label, set_emphasis
from evsuper.hmi.widgets.period_picker import PeriodPicker, filter_grid
from evsuper.hmi.worker import Worker
from evsuper.reports.tables import write_csv, write_xlsx

ANY_REASON = "Any stop reason"
# OCPP 1.6 StopTransaction reasons (a charger may send others; the text filter finds them)
STOP_REASONS = (
    "EmergencyStop",
    "EVDisconnected",
    "HardReset",
    "Local",
    "Other",
    "PowerLoss",
    "Reboot",
    "Remote",
    "SoftReset",
    "UnlockCommand",
    "DeAuthorized",
)
EXPORT_FILTERS = "Excel workbook (*.xlsx);;CSV files (*.csv)"
EXPORT_HEADERS = tuple(
    "Start (UTC)"
    if c is TransactionColumn.START
    else "Stop (UTC)"
    if c is TransactionColumn.STOP
    else HEADERS[c]
    for c in TransactionColumn
)


class ExportCancelled(Exception):
    pass


def write_transactions(
    path: Path,
    rows: Iterable[TransactionRow],
    *,
    progress: list[int] | None = None,
    cancel: threading.Event | None = None,
) -> int:
    """``rows`` to ``path``: an Excel workbook for ``.xlsx``, CSV otherwise. ``progress[0]``
    counts the rows written so far; ``cancel`` set stops it (ExportCancelled)."""

    def cells() -> Iterator[tuple[Any, ...]]:
        for n, row in enumerate(rows, start=1):
            if cancel is not None and cancel.is_set():
                raise ExportCancelled
            if progress is not None:
                progress[0] = n
            yield row.cells()

    if path.suffix.lower() == ".xlsx":
        return write_xlsx(path, "Transactions", EXPORT_HEADERS, cells())
    return write_csv(path, EXPORT_HEADERS, cells())


class SessionChart(QWidget):
    """A session's power (kW, left axis, solid) and SoC (%, right axis, dashed)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = role_label("section", "Select a session to see its power and SoC")
        self.title.setObjectName("transactionDetailTitle")
        self.summary = role_label("value")
        self.summary.setObjectName("transactionDetailSummary")
        self.plot = pg.PlotWidget(
            background=Palette.TILE, axisItems={"bottom": pg.DateAxisItem(utcOffset=None)}
        )
        self.plot.setObjectName("transactionChart")
        self.plot.setMinimumHeight(180)
        item = self.plot.getPlotItem()
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setMenuEnabled(False)
        item.showAxis("right")
        for name in ("left", "bottom", "right"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen(Palette.TEXT_SECONDARY))
            axis.setTextPen(pg.mkPen(Palette.TEXT))
        item.setLabel("left", "Power (kW)", color=Palette.TEXT_SECONDARY.name())
        item.setLabel("right", "SoC (%)", color=Palette.TEXT_SECONDARY.name())
        self._soc_box = pg.ViewBox()
        item.scene().addItem(self._soc_box)
        item.getAxis("right").linkToView(self._soc_box)
        self._soc_box.setXLink(item)
        self._soc_box.setYRange(0, 100)
        item.getViewBox().sigResized.connect(self._align_views)
        legend = item.addLegend(
            offset=(-10, 10), brush=pg.mkBrush(Palette.PANEL), pen=pg.mkPen(Palette.TILE_BORDER)
        )
        legend.setLabelTextColor(Palette.TEXT)
        self.power = item.plot([], [], pen=_pen(Palette.BAR_FILL, 2.0), name="Power (kW)")
        self.soc = pg.PlotDataItem([], [], pen=_pen(Palette.TEXT, 1.5, Qt.PenStyle.DashLine))
        self._soc_box.addItem(self.soc)
        legend.addItem(self.soc, "SoC (%)")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addStretch(1)
        head.addWidget(self.summary)
        layout.addLayout(head)
        layout.addWidget(self.plot, 1)

    def _align_views(self) -> None:
        self._soc_box.setGeometry(self.plot.getPlotItem().getViewBox().sceneBoundingRect())
        self._soc_box.linkedViewChanged(self.plot.getPlotItem().getViewBox(), self._soc_box.XAxis)

    def show_session(self, row: TransactionRow, curve: SessionCurve) -> None:
        self.title.setText(
            f"Session {row.id} · {row.charger_id} connector {row.connector_id} · {row.id_tag}"
        )
        self.summary.setText(
            f"{formatting.timestamp(row.start)} → {formatting.timestamp(row.stop)} · "
            f"{formatting.duration(row.duration_s)} · {formatting.kwh(row.energy_kwh)} · "
            f"max {formatting.kw(row.max_power_kw)}"
        )
        self.power.setData(
            [ts.timestamp() for ts, _ in curve.power_kw], [v for _, v in curve.power_kw]
        )
        self.soc.setData([ts.timestamp() for ts, _ in curve.soc], [v for _, v in curve.soc])
        item = self.plot.getPlotItem()
        item.enableAutoRange(x=True)
        # power from zero: a session's peak reads against nothing, not against its dip
        peak = max((v for _, v in curve.power_kw), default=0.0)
        item.getViewBox().setYRange(0.0, max(1.0, peak * 1.1), padding=0)
        if not curve.power_kw and not curve.soc:
            self.summary.setText(self.summary.text() + " · no samples archived")

    def clear(self) -> None:
        self.title.setText("Select a session to see its power and SoC")
        self.summary.setText("")
        self.power.setData([], [])
        self.soc.setData([], [])

    @property
    def shown(self) -> tuple[int, int]:
        """Points drawn: (power, SoC)."""
        x_power, _ = self.power.getData()
        x_soc, _ = self.soc.getData()
        return (0 if x_power is None else len(x_power)), (0 if x_soc is None else len(x_soc))


def _pen(color: object, width: float, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    pen: QPen = pg.mkPen(color=color, width=width, style=style)
    pen.setCosmetic(True)
    return pen


class TransactionHistoryView(QWidget):
    def __init__(self, load: TransactionSource, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("transactionHistory")
        self.setWindowTitle("Transaction history — evsuper")
        self.resize(1600, 900)
        self._load = load
        self._detail_worker = Worker("evsuper-transaction-detail", self)
        self._export_worker = Worker("evsuper-transaction-export", self)
        self._export_progress = [0]
        self._export_total = 0
        self._cancel: threading.Event | None = None
        self._shown_id: int | None = None

        self.periods = PeriodPicker("transactionHistory", self)
        self.period, self.since, self.until = (
            self.periods.period,
            self.periods.since,
            self.periods.until,
        )
        self.charger = QLineEdit()
        self.charger.setObjectName("transactionHistoryCharger")
        self.charger.setPlaceholderText("any charger")
        self.badge = QLineEdit()
        self.badge.setObjectName("transactionHistoryBadge")
        self.badge.setPlaceholderText("any badge")
        self.reason = QComboBox()
        self.reason.setObjectName("transactionHistoryReason")
        self.reason.addItem(ANY_REASON, "")
        for reason in STOP_REASONS:
            self.reason.addItem(reason, reason)
        self.text = QLineEdit()
        self.text.setObjectName("transactionHistoryText")
        self.text.setPlaceholderText("charger, badge, stop reason")
        self.refresh = QPushButton("Refresh")
        self.refresh.setObjectName("transactionHistoryRefresh")
        self.export = QPushButton("Export…")
        self.export.setObjectName("transactionHistoryExport")
        self.export.setToolTip("Export every session the filters select to Excel (.xlsx) or CSV")
        self.cancel_export = QPushButton("Cancel export")
        self.cancel_export.setObjectName("transactionHistoryCancelExport")
        self.cancel_export.hide()
        self.progress = QProgressBar()
        self.progress.setObjectName("transactionHistoryProgress")
        self.progress.setMaximumWidth(240)
        self.progress.hide()
        self.status = role_label("value")
        self.status.setObjectName("transactionHistoryStatus")

        filters = filter_grid(
            (
                ("Period (start)", self.period),
                ("Charger", self.charger),
                ("Badge", self.badge),
                ("Stop reason", self.reason),
                ("Text", self.text),
            ),
            self.periods,
            (
                self.refresh,
                self.export,
            ),
            stretch=4,
        )

        self.model = TransactionTableModel(load, self)
        self.table = QTableView()
        self.table.setObjectName("transactionHistoryTable")
        self.table.setModel(self.model)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        # a million rows: fixed row heights, never measured one by one
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(50)
        metrics = header.fontMetrics()
        for column, width in enumerate(WIDTHS):
            caption = str(self.model.headerData(column, Qt.Orientation.Horizontal))
            # room for the caption and the sort indicator beside it
            self.table.setColumnWidth(column, max(width, metrics.horizontalAdvance(caption) + 40))
        sort = self.model.current_sort
        header.setSortIndicator(
            int(sort.column),
            Qt.SortOrder.DescendingOrder if sort.descending else Qt.SortOrder.AscendingOrder,
        )
        header.setSortIndicatorShown(True)
        self.table.setSortingEnabled(True)  # calls model.sort with the indicator: no-op

        self.chart = SessionChart()
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setObjectName("transactionHistorySplitter")
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.table)
        splitter.addWidget(self.chart)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([520, 280])

        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.progress)
        bottom.addWidget(self.cancel_export)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(8)
        layout.addWidget(role_label("title", "Transaction history"))
        layout.addLayout(filters)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)

        self._progress_timer = QTimer(self)
        self._progress_timer.setInterval(200)
        self._progress_timer.timeout.connect(self._show_progress)

        self.model.querying.connect(self._querying)
        self.model.loaded.connect(self._loaded)
        self.model.failed.connect(self._failed)
        self.model.modelReset.connect(self._reset_detail)
        self.model.dataChanged.connect(self._maybe_detail)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.refresh.clicked.connect(self.query)
        self.export.clicked.connect(self._choose_export_file)
        self.cancel_export.clicked.connect(self.cancel)
        for field in (self.charger, self.badge, self.text):
            field.returnPressed.connect(self.query)
        self.reason.currentIndexChanged.connect(self.query)
        self.periods.changed.connect(self.query)
        self.query()

    # ---- queries ----

    def current_filter(self) -> TransactionFilter:
        since, until = self.periods.range()
        return TransactionFilter(
            since=since,
            until=until,
            charger_id=self.charger.text().strip(),
            id_tag=self.badge.text().strip(),
            stop_reason=str(self.reason.currentData() or ""),
            text=self.text.text().strip(),
        )

    def query(self) -> None:
        """Count and load the first page for the filters (on the model's worker)."""
        self.model.query(self.current_filter())

    def sort_by(self, column: TransactionColumn, *, descending: bool = False) -> None:
        self.table.sortByColumn(
            int(column),
            Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder,
        )

    @property
    def loading(self) -> bool:
        return self.model.loading

    def _querying(self) -> None:
        self.status.setText("Loading…")
        set_emphasis(self.status, Emphasis.NORMAL)

    def _loaded(self, count: int, seconds: float) -> None:
        sort = self.model.current_sort
        direction = "descending" if sort.descending else "ascending"
        self.status.setText(
            f"{formatting.count(count)} sessions · sorted by {HEADERS[sort.column]} "
            f"({direction}) · {seconds * 1000:.0f} ms"
        )
        set_emphasis(self.status, Emphasis.NORMAL)

    def _failed(self, text: str) -> None:
        self.status.setText(f"The archive cannot be read: {text}")
        set_emphasis(self.status, Emphasis.ALARM)

    # ---- detail ----

    def _reset_detail(self) -> None:
        self._shown_id = None
        self.chart.clear()

    def _selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._show_detail()

    def _maybe_detail(self, *_: Any) -> None:
        if self._shown_id is None:  # the selected row's page just arrived
            self._show_detail()

    def _show_detail(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        row = self.model.transaction(rows[0].row())
        if row is None or row.id == self._shown_id:
            return
        self._shown_id = row.id
        load = self._load
        self._detail_worker.run(
            lambda: (row, load.curve(row.id)), self._detail_arrived, self._detail_failed
        )

    def _detail_arrived(self, answer: tuple[TransactionRow, SessionCurve]) -> None:
        row, curve = answer
        if row.id == self._shown_id:
            self.chart.show_session(row, curve)

    def _detail_failed(self, exc: Exception) -> None:
        self._shown_id = None
        self._failed(str(exc))

    # ---- export ----

    @property
    def exporting(self) -> bool:
        return self._cancel is not None

    def export_to(self, path: Path) -> None:
        """Write every session the current filters select, in the shown order, to
        ``path`` (``.xlsx``: Excel, else CSV) on the export thread."""
        if self._cancel is not None:
            return
        where, sort = self.model.current_filter, self.model.current_sort
        cancel = threading.Event()
        self._cancel = cancel
        progress = self._export_progress = [0]
        self._export_total = self.model.count
        self.progress.setRange(0, max(1, self._export_total))
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_export.show()
        self.export.setEnabled(False)
        self.status.setText(f"Exporting {formatting.count(self._export_total)} sessions…")
        set_emphasis(self.status, Emphasis.NORMAL)
        self._progress_timer.start()
        load = self._load

        def work() -> tuple[Path, int | None]:
            try:
                rows = _rows(load, where, sort)
                return path, write_transactions(path, rows, progress=progress, cancel=cancel)
            except ExportCancelled:
                path.unlink(missing_ok=True)  # no half file left to be mistaken for a whole
                return path, None  # an answer, not a failure to log

        self._export_worker.run(work, self._exported, self._export_failed)

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    def _show_progress(self) -> None:
        self.progress.setValue(min(self._export_progress[0], self.progress.maximum()))

    def _export_done(self) -> None:
        self._cancel = None
        self._progress_timer.stop()
        self.progress.hide()
        self.cancel_export.hide()
        self.export.setEnabled(True)

    def _exported(self, done: tuple[Path, int | None]) -> None:
        path, count = done
        self._export_done()
        if count is None:
            self.status.setText("Export cancelled")
            set_emphasis(self.status, Emphasis.NOTABLE)
            return
        self.status.setText(f"Exported {formatting.count(count)} sessions to {path}")
        set_emphasis(self.status, Emphasis.NORMAL)

    def _export_failed(self, exc: Exception) -> None:
        self._export_done()
        self.status.setText(f"Export failed: {exc}")
        set_emphasis(self.status, Emphasis.ALARM)

    def _choose_export_file(self) -> None:
        name, chosen = QFileDialog.getSaveFileName(
            self, "Export the transaction history", "transactions.xlsx", EXPORT_FILTERS
        )
        if not name:
            return
        path = Path(name)
        if path.suffix.lower() not in (".xlsx", ".csv"):
            path = path.with_name(path.name + (".csv" if "csv" in chosen.lower() else ".xlsx"))
        self.export_to(path)

    def closeEvent(self, event: Any) -> None:
        self.cancel()
        super().closeEvent(event)


def _rows(
    load: TransactionSource, where: TransactionFilter, sort: TransactionSort
) -> Iterator[TransactionRow]:
    yield from load.rows(where, sort)
