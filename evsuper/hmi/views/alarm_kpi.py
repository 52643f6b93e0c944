"""Alarm KPIs over the last day, week or month, against the ISA-18.2 / EEMUA 191 targets.

The journal is read and the KPIs computed on a worker thread (``evsuper.alarms.kpi``);
the view draws alarms per 10 minutes as bars with the target lines, lists every metric
with its target and verdict, and the details behind them (bad actors, flood periods,
chattering and stale alarms, priorities). Calm grey throughout: a target not met is said
in bold words, never in alarm colours (these are not alarms).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from evsuper.alarms.journal import JournalFilter
from evsuper.alarms.kpi import WINDOW, AlarmKpis, compute_kpis
from evsuper.core.timeutil import utcnow
from evsuper.hmi import formatting
from evsuper.hmi.theme import Emphasis, Palette, role_label, set_emphasis
from evsuper.hmi.views.alarm_history import JournalLoader
from evsuper.hmi.widgets.export import FILE_FILTERS
from evsuper.hmi.widgets.plots import calm_plot
from evsuper.hmi.worker import Worker
from evsuper.reports.alarms import METRIC_HEADERS, kpi_sheets, metric_rows, result_text
from evsuper.reports.tables import write_csv, write_workbook

# Read this much journal before the period, to find the alarms standing since then (stale).
STALE_LOOKBACK = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class KpiPeriod:
    label: str
    span: timedelta


KPI_PERIODS = (
    KpiPeriod("Last 24 hours", timedelta(hours=24)),
    KpiPeriod("Last 7 days", timedelta(days=7)),
    KpiPeriod("Last 30 days", timedelta(days=30)),
)
DEFAULT_KPI_PERIOD = 1


def write_kpi_report(path: Path, kpis: AlarmKpis) -> int:
    """``.xlsx``: every table on its own sheet; otherwise the metrics as CSV. Returns the
    number of metric rows."""
    if path.suffix.lower() == ".xlsx":
        return write_workbook(path, kpi_sheets(kpis))[0]
    return write_csv(path, METRIC_HEADERS, metric_rows(kpis.metrics))


class AlarmRateChart(QWidget):
    """Alarms per 10 minutes as bars, with the 1 and 2 per 10 min and the flood lines."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plot = calm_plot(
            "alarmRateChart", min_height=240, time_axis=True, x_grid=False, zoom_x=True
        )
        item = self.plot.getPlotItem()
        item.setLabel("left", "Alarms per 10 min", color=Palette.TEXT_SECONDARY.name())
        self.bars = pg.BarGraphItem(
            x=[],
            height=[],
            width=WINDOW.total_seconds() * 0.8,
            pen=None,
            brush=Palette.SUSPENDED_FILL,
        )
        self.flood_bars = pg.BarGraphItem(
            x=[], height=[], width=WINDOW.total_seconds() * 0.8, pen=None, brush=Palette.TEXT
        )
        item.addItem(self.bars)
        item.addItem(self.flood_bars)
        self.target_lines: dict[str, pg.InfiniteLine] = {}
        # labels at both ends so that the close 1 and 2 lines keep theirs readable
        for key, value, text, pen, at in (
            ("acceptable", 1.0, "≤ 1: acceptable", _pen(1.0, Qt.PenStyle.DashLine), 0.99),
            ("manageable", 2.0, "≤ 2: manageable", _pen(1.0, Qt.PenStyle.DotLine), 0.01),
            ("flood", 10.0, "> 10: flood", _pen(1.5, Qt.PenStyle.SolidLine), 0.01),
        ):
            line = pg.InfiniteLine(
                pos=value,
                angle=0,
                pen=pen,
                movable=False,
                label=text,
                labelOpts={
                    "position": at,
                    "anchors": [(at, 1), (at, 1)],
                    "color": Palette.TEXT,
                    "fill": pg.mkBrush(Palette.TILE),
                },
            )
            item.addItem(line, ignoreBounds=True)
            self.target_lines[key] = line
        layout.addWidget(self.plot)

    def show_kpis(self, kpis: AlarmKpis) -> None:
        half = WINDOW.total_seconds() / 2
        flood = kpis.targets.flood_above * kpis.positions
        calm = [b for b in kpis.per_10min if b.count <= flood]
        floods = [b for b in kpis.per_10min if b.count > flood]
        self.bars.setOpts(
            x=[b.start.timestamp() + half for b in calm], height=[b.count for b in calm]
        )
        self.flood_bars.setOpts(
            x=[b.start.timestamp() + half for b in floods], height=[b.count for b in floods]
        )
        positions = kpis.positions
        self.target_lines["acceptable"].setValue(kpis.targets.acceptable_per_10min * positions)
        self.target_lines["manageable"].setValue(kpis.targets.manageable_per_10min * positions)
        self.target_lines["flood"].setValue(flood)
        item = self.plot.getPlotItem()
        item.setXRange(kpis.since.timestamp(), kpis.until.timestamp(), padding=0.01)
        item.setYRange(0, max(kpis.peak_per_10min, flood + 1) * 1.1, padding=0)


def _pen(width: float, style: Qt.PenStyle) -> QPen:
    pen: QPen = pg.mkPen(color=Palette.TEXT, width=width, style=style)
    pen.setCosmetic(True)
    return pen


class AlarmKpiView(QWidget):
    def __init__(
        self, load: JournalLoader, parent: QWidget | None = None, *, positions: int = 1
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("alarmKpi")
        self.setWindowTitle("Alarm KPIs — evsuper")
        self.resize(1400, 900)
        self._load = load
        self._positions = positions
        self._worker = Worker("evsuper-alarm-kpi", self)
        self._queries = 0  # in flight (the worker answers them in order)
        self.kpis: AlarmKpis | None = None

        self.period = QComboBox()
        self.period.setObjectName("alarmKpiPeriod")
        self.period.addItems([p.label for p in KPI_PERIODS])
        self.period.setCurrentIndex(DEFAULT_KPI_PERIOD)
        self.refresh = QPushButton("Refresh")
        self.refresh.setObjectName("alarmKpiRefresh")
        self.export = QPushButton("Export…")
        self.export.setObjectName("alarmKpiExport")
        self.export.setToolTip("The KPI report to Excel (one sheet per table) or CSV (metrics)")
        self.export.setEnabled(False)
        self.summary = role_label("value")
        self.summary.setObjectName("alarmKpiSummary")
        self.summary.setWordWrap(True)
        self.status = role_label("value")
        self.status.setObjectName("alarmKpiStatus")

        top = QHBoxLayout()
        top.setSpacing(8)
        top.addWidget(role_label("title", "Alarm KPIs"))
        top.addStretch(1)
        top.addWidget(role_label("caption", "Period"))
        top.addWidget(self.period)
        top.addWidget(self.refresh)
        top.addWidget(self.export)

        self.chart = AlarmRateChart()
        self.metrics = _table("alarmKpiMetrics", ("Metric", "Value", "Result", "Target"))
        self.bad_actors = _table(
            "alarmKpiBadActors", ("#", "Alarm", "Source", "Priority", "Category", "Alarms", "Share")
        )
        self.floods = _table(
            "alarmKpiFloods", ("Start", "End", "Duration", "Alarms", "Peak / 10 min")
        )
        self.chattering = _table(
            "alarmKpiChattering",
            ("Alarm", "Source", "Priority", "Activations", "Bursts", "Peak / min", "First"),
        )
        self.stale = _table(
            "alarmKpiStale", ("Alarm", "Source", "Priority", "Active since", "For", "State")
        )
        self.priorities = _table(
            "alarmKpiPriorities", ("Priority", "Alarms", "Share", "Recommended")
        )
        self.details = QTabWidget()
        self.details.setObjectName("alarmKpiDetails")
        for table, title in (
            (self.bad_actors, "Bad actors"),
            (self.floods, "Floods"),
            (self.chattering, "Chattering"),
            (self.stale, "Stale"),
            (self.priorities, "Priorities"),
        ):
            self.details.addTab(table, title)

        metrics_box = QWidget()
        metrics_layout = QVBoxLayout(metrics_box)
        metrics_layout.setContentsMargins(0, 0, 0, 0)
        metrics_layout.setSpacing(4)
        metrics_layout.addWidget(role_label("section", "Metrics against the targets"))
        metrics_layout.addWidget(self.metrics, 1)
        details_box = QWidget()
        details_layout = QVBoxLayout(details_box)
        details_layout.setContentsMargins(0, 0, 0, 0)
        details_layout.setSpacing(4)
        details_layout.addWidget(role_label("section", "Details"))
        details_layout.addWidget(self.details, 1)
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.setChildrenCollapsible(False)
        lower.addWidget(metrics_box)
        lower.addWidget(details_box)
        lower.setSizes([720, 640])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.chart, 2)
        layout.addWidget(lower, 3)
        layout.addWidget(self.status)

        self.refresh.clicked.connect(self.query)
        self.export.clicked.connect(self._choose_export_file)
        self.period.currentIndexChanged.connect(self.query)
        self.query()

    @property
    def loading(self) -> bool:
        return self._queries > 0

    def query(self) -> None:
        """Read the journal of the period and compute its KPIs (on the worker thread)."""
        span = KPI_PERIODS[self.period.currentIndex()].span
        until = utcnow()
        since = until - span
        where = JournalFilter(since=since - STALE_LOOKBACK, until=until, limit=None)
        load, positions = self._load, self._positions
        self._queries += 1
        self.status.setText("Computing…")
        set_emphasis(self.status, Emphasis.NORMAL)
        self._worker.run(
            lambda: compute_kpis(load(where), since, until, positions=positions),
            self._show,
            self._failed,
        )

    def export_to(self, path: Path) -> int:
        """Write the KPI report shown to ``path`` (``.xlsx``: every table, else the metrics
        as CSV); returns the number of metrics."""
        if self.kpis is None:
            raise RuntimeError("no KPIs computed yet")
        count = write_kpi_report(path, self.kpis)
        self._exported(path)
        return count

    def _exported(self, path: Path) -> None:
        self.status.setText(f"Exported the KPI report to {path}")
        set_emphasis(self.status, Emphasis.NORMAL)

    def _show(self, kpis: AlarmKpis) -> None:
        self._queries -= 1
        self.kpis = kpis
        self.export.setEnabled(True)
        self.chart.show_kpis(kpis)
        failed = kpis.failed
        judged = sum(1 for m in kpis.metrics if m.ok is not None)
        verdict = (
            f"{len(failed)} of {judged} targets not met" if failed else f"All {judged} targets met"
        )
        per = "" if kpis.positions == 1 else f" ({kpis.positions} operator positions)"
        self.summary.setText(
            f"{formatting.count(kpis.alarms)} alarms from {formatting.timestamp(kpis.since)} "
            f"to {formatting.timestamp(kpis.until)}{per}: {verdict}."
        )
        set_emphasis(self.summary, Emphasis.NOTABLE if failed else Emphasis.NORMAL)
        _fill(
            self.metrics,
            [(m.name, m.value_text, result_text(m.ok), m.target_text) for m in kpis.metrics],
            bold_rows={i for i, m in enumerate(kpis.metrics) if m.ok is False},
        )
        _fill(
            self.bad_actors,
            [
                (
                    str(rank),
                    a.definition_id,
                    a.source,
                    f"{int(a.priority)} {a.priority.label}",
                    a.category.value,
                    formatting.count(a.count),
                    f"{a.share:.1%}",
                )
                for rank, a in enumerate(kpis.bad_actors, start=1)
            ],
            tooltips=[a.message for a in kpis.bad_actors],
        )
        _fill(
            self.floods,
            [
                (
                    formatting.timestamp(p.start),
                    formatting.timestamp(p.end),
                    formatting.duration(p.duration.total_seconds()),
                    formatting.count(p.count),
                    str(p.peak),
                )
                for p in kpis.flood_periods
            ],
        )
        _fill(
            self.chattering,
            [
                (
                    c.definition_id,
                    c.source,
                    f"{int(c.priority)} {c.priority.label}",
                    formatting.count(c.activations),
                    str(c.bursts),
                    str(c.peak_per_window),
                    formatting.timestamp(c.first),
                )
                for c in kpis.chattering
            ],
        )
        _fill(
            self.stale,
            [
                (
                    s.definition_id,
                    s.source,
                    f"{int(s.priority)} {s.priority.label}",
                    formatting.timestamp(s.activated),
                    formatting.duration(round(s.age.total_seconds() / 60) * 60),
                    s.state.value,
                )
                for s in kpis.stale
            ],
        )
        _fill(
            self.priorities,
            [
                (
                    f"{int(p.priority)} {p.priority.label}",
                    formatting.count(p.count),
                    f"{p.share:.1%}",
                    f"{'<' if p.recommended <= 0.01 else '~'}{p.recommended:.0%}",
                )
                for p in kpis.priorities
            ],
        )
        for index, count in enumerate(
            (
                len(kpis.bad_actors),
                len(kpis.flood_periods),
                len(kpis.chattering),
                len(kpis.stale),
            )
        ):
            title = self.details.tabText(index).split(" (")[0]
            self.details.setTabText(index, f"{title} ({count})")
        self.status.setText(f"Computed at {formatting.clock(kpis.until)}")

    def _failed(self, exc: Exception) -> None:
        self._queries -= 1
        self.status.setText(f"The archive cannot be read: {exc}")
        set_emphasis(self.status, Emphasis.ALARM)

    def _choose_export_file(self) -> None:
        kpis = self.kpis
        if kpis is None:
            return
        name, chosen = QFileDialog.getSaveFileName(
            self, "Export the alarm KPI report", "alarm-kpis.xlsx", FILE_FILTERS
        )
        if not name:
            return
        path = Path(name)
        if path.suffix.lower() not in (".xlsx", ".csv"):
            path = path.with_name(path.name + (".csv" if "csv" in chosen.lower() else ".xlsx"))
        self.status.setText("Exporting…")
        self._worker.run(
            lambda: write_kpi_report(path, kpis),
            lambda _count: self._exported(path),
            self._export_failed,
        )

    def _export_failed(self, exc: Exception) -> None:
        self.status.setText(f"Export failed: {exc}")
        set_emphasis(self.status, Emphasis.ALARM)


def _table(name: str, headers: Sequence[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(headers))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.verticalHeader().hide()
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setMinimumSectionSize(36)
    header.setDefaultSectionSize(60)
    header.setStretchLastSection(True)
    return table


def _fill(
    table: QTableWidget,
    rows: Sequence[Sequence[str]],
    bold_rows: frozenset[int] | set[int] = frozenset(),
    tooltips: Sequence[str] = (),
) -> None:
    """Replace the rows; ``tooltips``: one per row (else each cell shows its own text)."""
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            item.setToolTip(tooltips[r] if r < len(tooltips) else text)
            if r in bold_rows:
                bold = item.font()
                bold.setBold(True)
                item.setFont(bold)
            table.setItem(r, c, item)
    for c in range(table.columnCount() - 1):  # the last one takes the width left
        table.resizeColumnToContents(c)
        table.setColumnWidth(c, min(table.columnWidth(c) + 4, 320))
