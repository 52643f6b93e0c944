"""The transaction history: one row per charging session, for billing and for checks.

Filters (period on the start, charger, badge, stop reason, free text) and sorting on
any header run in SQL; the table is lazy (``models/transactions.py``), so a million
sessions open, sort and filter without the window waiting. Selecting a session draws its
power and SoC curve below the table. Export writes every session the filters select
(not only the rows loaded) to Excel or CSV (``widgets/export.py``). Read-only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import pyqtgraph as pg
from PySide6.QtCore import QItemSelection, Qt
from PySide6.QtGui import QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
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
from evsuper.hmi.widgets.export import ExportControl, ExportTable
from evsuper.hmi.widgets.period_picker import PeriodPicker, filter_grid
from evsuper.hmi.widgets.plots import PlotLegend
from evsuper.hmi.worker import Worker
from evsuper.project.model import Place
from evsuper.reports.tables import Row

ANY_REASON = "Any stop reason"
ALL_PLACES = "All sites"
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
EXPORT_HEADERS = tuple(
    "Start (UTC)"
    if c is TransactionColumn.START
    else "Stop (UTC)"
    if c is TransactionColumn.STOP
    else HEADERS[c]
    for c in TransactionColumn
)


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
        power_pen = _pen(Palette.BAR_FILL, 2.0)
        soc_pen = _pen(Palette.TEXT, 1.5, Qt.PenStyle.DashLine)
        self.power = item.plot([], [], pen=power_pen)
        self.soc = pg.PlotDataItem([], [], pen=soc_pen)
        self._soc_box.addItem(self.soc)
        legend = PlotLegend()
        legend.set_entries([("Power (kW)", power_pen, None), ("SoC (%)", soc_pen, None)])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addStretch(1)
        head.addWidget(self.summary)
        layout.addLayout(head)
        layout.addWidget(legend)
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
    def __init__(
        self,
        load: TransactionSource,
        parent: QWidget | None = None,
        places: Sequence[Place] = (),
    ) -> None:
        """``places``: the project's sites and areas, offered as a filter when more than one."""
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("transactionHistory")
        self.setWindowTitle("Transaction history — evsuper")
        self.resize(1600, 900)
        self._load = load
        self._detail_worker = Worker("evsuper-transaction-detail", self)
        self._shown_id: int | None = None

        self.periods = PeriodPicker("transactionHistory", self)
        self.period, self.since, self.until = (
            self.periods.period,
            self.periods.since,
            self.periods.until,
        )
        self.place = QComboBox()
        self.place.setObjectName("transactionHistoryPlace")
        self.place.addItem(ALL_PLACES, ())
        for place in places:
            indent = "    " if place.site else ""
            self.place.addItem(f"{indent}{place.name}", place.chargers)
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
        self.exporter = ExportControl(
            "transactionHistory", "sessions", "transactions", self._export_table, self
        )
        self.status = role_label("value")
        self.status.setObjectName("transactionHistoryStatus")

        shown_filters = [("Period (start)", self.period)]
        if len(places) > 1:
            shown_filters.append(("Site / area", self.place))
        filters = filter_grid(
            (
                *shown_filters,
                ("Charger", self.charger),
                ("Badge", self.badge),
                ("Stop reason", self.reason),
                ("Text", self.text),
            ),
            self.periods,
            (
                self.refresh,
                self.exporter.button,
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
        bottom.addWidget(self.exporter)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(8)
        layout.addWidget(role_label("title", "Transaction history"))
        layout.addLayout(filters)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)

        self.model.querying.connect(self._querying)
        self.model.loaded.connect(self._loaded)
        self.model.failed.connect(self._failed)
        self.model.modelReset.connect(self._reset_detail)
        self.model.dataChanged.connect(self._maybe_detail)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.refresh.clicked.connect(self.query)
        for field in (self.charger, self.badge, self.text):
            field.returnPressed.connect(self.query)
        self.reason.currentIndexChanged.connect(self.query)
        self.place.currentIndexChanged.connect(self.query)
        self.periods.changed.connect(self.query)
        self.query()

    # ---- queries ----

    def current_filter(self) -> TransactionFilter:
        since, until = self.periods.range()
        return TransactionFilter(
            since=since,
            until=until,
            chargers=tuple(self.place.currentData() or ()),
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

    def _export_table(self) -> ExportTable:
        """Every session the filters select, in the shown order, read on the export thread."""
        load, where, sort = self._load, self.model.current_filter, self.model.current_sort
        return ExportTable(
            "Transactions", EXPORT_HEADERS, lambda: _cells(load, where, sort), self.model.count
        )


def _cells(
    load: TransactionSource, where: TransactionFilter, sort: TransactionSort
) -> Iterator[Row]:
    for row in load.rows(where, sort):
        yield row.cells()
