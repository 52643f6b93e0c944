"""Trends: several pens over the archive (historical) or scrolling with the tags (live).

Pens are chosen per charger from the measurands its samples hold and its historised tags
(``[[archive.tags]]``), or among every historised tag. Historical mode reads
the period of the period picker; zooming or panning reads the visible range again at the
resolution the plot can show (debounced), the database down-sampling long ranges to
min/max buckets (``historian/samples.py``). Live mode starts from the archive's last
minutes, then appends the live tags of the pens that have one (power, SoC), each pen in a
bounded ring, and scrolls. kW-like pens use the left axis, % pens the right one.

ISA-101: pens are greys told apart by weight and dash; the first pen alone is the accent.
Queries and the CSV export run on a worker thread; the GUI thread never waits.
"""

from __future__ import annotations

import functools
import math
import os
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from evsuper.core.tags import Sample, TagPath
from evsuper.core.timeutil import utcnow
from evsuper.historian.samples import POWER, SOC, Pen, Series, gaps_broken, pen_of
from evsuper.hmi.theme import Emphasis, Palette, role_label, set_emphasis
from evsuper.hmi.widgets.period_picker import PeriodPicker
from evsuper.hmi.widgets.plots import PlotLegend
from evsuper.hmi.worker import Worker
from evsuper.reports.tables import write_csv

PenLister = Callable[[str], list[Pen]]
SeriesReader = Callable[[Pen, datetime, datetime, int], Series]

HISTORICAL = "Historical"
LIVE = "Live"
LIVE_WINDOW = timedelta(minutes=10)
LIVE_POINTS = 3600  # ring per pen: an hour at one value a second
ALL_TIME_SPAN = timedelta(days=365)  # "All time" reads the last year
REQUERY_DELAY_MS = 300
MIN_POINTS, MAX_POINTS = 200, 4000
RIGHT_UNITS = frozenset({"%"})
CSV_HEADERS = ("Time (UTC)", "Charger", "Connector", "Measurand", "Phase", "Value", "Unit")


@dataclass(frozen=True, slots=True)
class TrendLoader:
    """Blocking reads of the archive, run on the view's worker thread."""

    pens: PenLister  # charger id → its pens
    series: SeriesReader  # (pen, since, until, max_points) → series


@dataclass(frozen=True, slots=True)
class PenStyle:
    color: QColor
    width: float
    dash: Qt.PenStyle


def pen_style(index: int) -> PenStyle:
    """The look of the ``index``-th pen: the first the accent, then calm greys by dash."""
    if index == 0:
        return PenStyle(Palette.TREND_ACCENT, 2.0, Qt.PenStyle.SolidLine)
    greys = (Palette.TEXT, Palette.TEXT_SECONDARY, Palette.BAR_FILL, Palette.TEXT_MUTED)
    dashes = (
        Qt.PenStyle.SolidLine,
        Qt.PenStyle.DashLine,
        Qt.PenStyle.DotLine,
        Qt.PenStyle.DashDotLine,
        Qt.PenStyle.DashDotDotLine,
    )
    i = index - 1
    # 4 greys by 5 dashes (coprime): the first 20 pens all differ
    return PenStyle(greys[i % len(greys)], 1.5, dashes[i % len(dashes)])


def value_at(times: Sequence[float], values: Sequence[float], x: float) -> float | None:
    """The last value at or before ``x`` (None: none yet, or a gap)."""
    i = bisect_right(times, x) - 1
    if i < 0:
        return None
    value = values[i]
    return None if math.isnan(value) else value


def _caption(pen: Pen) -> str:
    """A pen's name in the legend, with its unit and, on the right axis, that side."""
    if pen.unit in RIGHT_UNITS:
        return f"{pen.label} ({pen.unit}, right)"
    return f"{pen.label} ({pen.unit})" if pen.unit else pen.label


def _qpen(style: PenStyle) -> QPen:
    pen: QPen = pg.mkPen(color=style.color, width=style.width, style=style.dash)
    pen.setCosmetic(True)
    return pen


def _read_one(
    read: SeriesReader,
    generation: int,
    pen: Pen,
    since: datetime,
    until: datetime,
    points: int,
) -> tuple[int, list[Series]]:
    return generation, [read(pen, since, until, points)]


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class _Curve:
    """One pen on the plot: its item, the points shown and its live ring."""

    def __init__(self, pen: Pen, item: Any, style: PenStyle) -> None:
        self.pen = pen
        self.item = item
        self.style = style
        self.times: list[float] = []
        self.values: list[float] = []
        self.ring: deque[tuple[float, float]] = deque(maxlen=LIVE_POINTS)
        self.downsampled = False

    def show(self, times: list[float], values: list[float]) -> None:
        self.times, self.values = times, values
        self.item.setData(times, values, connect="finite")

    def show_ring(self) -> None:
        self.show([t for t, _ in self.ring], [v for _, v in self.ring])


class TrendView(QWidget):
    """``load`` reads the archive; ``chargers`` are offered in the pen chooser."""

    def __init__(
        self, load: TrendLoader, chargers: Sequence[str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("trends")
        self.setWindowTitle("Trends — evsuper")
        self.resize(1300, 720)
        self._load = load
        self._worker = Worker("evsuper-trends", self)
        self._curves: dict[Pen, _Curve] = {}
        self._generation = 0  # answers of older queries are dropped
        self._queries = 0  # in flight
        self._queried: tuple[float, float] | None = None  # the x range last read
        self._applying_range = False

        self.charger = QComboBox()
        self.charger.setObjectName("trendsCharger")
        self.charger.addItems(list(chargers))
        self.pen_list = QListWidget()
        self.pen_list.setObjectName("trendsPens")
        self.pen_list.setToolTip("Tick a measurand to draw it")
        self.mode = QComboBox()
        self.mode.setObjectName("trendsMode")
        self.mode.addItems([HISTORICAL, LIVE])
        self.periods = PeriodPicker("trends", self)
        self.refresh = QPushButton("Refresh")
        self.refresh.setObjectName("trendsRefresh")
        self.save_png_button = QPushButton("Save PNG…")
        self.save_png_button.setObjectName("trendsSavePng")
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setObjectName("trendsExport")
        self.export_button.setToolTip("The points of the visible range, every pen")
        self.status = role_label("value")
        self.status.setObjectName("trendsStatus")
        self.readout = role_label("value", "Move the mouse over the plot to read the pens.")
        self.readout.setObjectName("trendsReadout")
        self.readout.setWordWrap(True)

        self._build_plot()

        chooser = QVBoxLayout()
        chooser.addWidget(role_label("caption", "Charger or tags"))
        chooser.addWidget(self.charger)
        chooser.addWidget(role_label("caption", "Pens"))
        chooser.addWidget(self.pen_list, 1)
        side = QWidget()
        side.setLayout(chooser)
        side.setFixedWidth(280)

        controls = QGridLayout()
        controls.setHorizontalSpacing(8)
        for column, (caption, widget) in enumerate(
            (
                ("Mode", self.mode),
                ("Period", self.periods.period),
                ("From", self.periods.since),
                ("To", self.periods.until),
            )
        ):
            controls.addWidget(role_label("caption", caption), 0, column)
            controls.addWidget(widget, 1, column)
        controls.addWidget(self.refresh, 1, 4)
        controls.setColumnStretch(5, 1)
        controls.addWidget(self.save_png_button, 1, 6)
        controls.addWidget(self.export_button, 1, 7)

        right = QVBoxLayout()
        right.addLayout(controls)
        right.addWidget(self.legend)
        right.addWidget(self.plot, 1)
        right.addWidget(self.readout)
        right.addWidget(self.status)
        body = QHBoxLayout()
        body.addWidget(side)
        body.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addWidget(role_label("title", "Trends"))
        layout.addLayout(body, 1)

        self._requery = QTimer(self)
        self._requery.setSingleShot(True)
        self._requery.setInterval(REQUERY_DELAY_MS)
        self._requery.timeout.connect(self._visible_range_changed)
        self.charger.currentTextChanged.connect(self._list_pens)
        self.pen_list.itemChanged.connect(self._pen_toggled)
        self.mode.currentTextChanged.connect(self._mode_changed)
        self.periods.changed.connect(self.query)
        self.refresh.clicked.connect(self.query)
        self.save_png_button.clicked.connect(self._choose_png)
        self.export_button.clicked.connect(self._choose_csv)
        self._list_pens(self.charger.currentText())

    # ---- the plot ----

    def _build_plot(self) -> None:
        self.legend = PlotLegend()  # the pens, named with their unit and axis
        self.plot = pg.PlotWidget(
            background=Palette.TILE, axisItems={"bottom": pg.DateAxisItem(orientation="bottom")}
        )
        self.plot.setObjectName("trendsPlot")
        item = self.plot.getPlotItem()
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setMenuEnabled(False)
        item.hideButtons()
        item.showAxis("right")
        for name in ("left", "bottom", "right"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen(Palette.TEXT_SECONDARY))
            axis.setTextPen(pg.mkPen(Palette.TEXT))
        # the right axis (%) has its own view box, sharing the x axis
        self.right_view = pg.ViewBox()
        item.scene().addItem(self.right_view)
        item.getAxis("right").linkToView(self.right_view)
        self.right_view.setXLink(item)
        item.vb.sigResized.connect(self._sync_views)
        self.cursor_line = pg.InfiniteLine(
            angle=90, movable=True, pen=pg.mkPen(Palette.TEXT_MUTED, width=1)
        )
        self.cursor_line.setVisible(False)
        item.addItem(self.cursor_line, ignoreBounds=True)
        self.cursor_line.sigPositionChanged.connect(
            lambda: self._show_readout(self.cursor_line.value())
        )
        self.plot.scene().sigMouseMoved.connect(self._mouse_moved)
        item.vb.sigXRangeChanged.connect(self._range_moved)
        self._set_axis_labels()

    def _sync_views(self) -> None:
        item = self.plot.getPlotItem()
        self.right_view.setGeometry(item.vb.sceneBoundingRect())
        self.right_view.linkedViewChanged(item.vb, self.right_view.XAxis)

    def _set_axis_labels(self) -> None:
        item = self.plot.getPlotItem()
        left = sorted({c.pen.unit for c in self._curves.values() if c.pen.unit not in RIGHT_UNITS})
        right = sorted({c.pen.unit for c in self._curves.values() if c.pen.unit in RIGHT_UNITS})
        colour = Palette.TEXT_SECONDARY.name()
        item.setLabel("left", ", ".join(u or "value" for u in left) or " ", color=colour)
        item.setLabel("right", ", ".join(right) or " ", color=colour)
        item.getAxis("right").setStyle(showValues=bool(right))
        item.setLabel("bottom", "Local time", color=colour)
        self.legend.set_entries(
            [(_caption(c.pen), _qpen(c.style), None) for c in self._curves.values()]
        )

    # ---- pens ----

    @property
    def pens(self) -> list[Pen]:
        return list(self._curves)

    @property
    def live(self) -> bool:
        return self.mode.currentText() == LIVE

    @property
    def loading(self) -> bool:
        return self._queries > 0

    def curve(self, pen: Pen) -> tuple[list[float], list[float]]:
        """The points drawn for ``pen`` (times in POSIX seconds)."""
        c = self._curves[pen]
        return c.times, c.values

    def add_pen(self, pen: Pen, *, read: bool = True) -> None:
        if pen in self._curves:
            return
        style = pen_style(len(self._curves))
        item = pg.PlotDataItem([], [], pen=_qpen(style))
        if pen.unit in RIGHT_UNITS:
            self.right_view.addItem(item)
        else:
            self.plot.getPlotItem().addItem(item)
        self._curves[pen] = _Curve(pen, item, style)
        self._check(pen, True)
        self._set_axis_labels()
        if read:
            self._read([pen])

    def remove_pen(self, pen: Pen) -> None:
        curve = self._curves.pop(pen, None)
        if curve is None:
            return
        if pen.unit in RIGHT_UNITS:
            self.right_view.removeItem(curve.item)
        else:
            self.plot.getPlotItem().removeItem(curve.item)
        self._check(pen, False)
        self._set_axis_labels()

    def clear_pens(self) -> None:
        for pen in list(self._curves):
            self.remove_pen(pen)

    def open_charger(self, charger_id: str, connectors: Sequence[int]) -> None:
        """Power and SoC of ``connectors`` of ``charger_id`` over the last hour."""
        if self.live:
            self._set_mode(HISTORICAL)
        self.periods.period.blockSignals(True)
        self.periods.period.setCurrentIndex(0)  # last hour
        self.periods.period.blockSignals(False)
        self.periods.since.setEnabled(False)
        self.periods.until.setEnabled(False)
        self.clear_pens()
        if self.charger.findText(charger_id) < 0:
            self.charger.addItem(charger_id)
        self.charger.setCurrentText(charger_id)
        for connector in connectors:
            for measurand in (POWER, SOC):
                self.add_pen(pen_of(charger_id, connector, measurand), read=False)
        self.query()

    def _list_pens(self, charger_id: str) -> None:
        self.pen_list.clear()
        if not charger_id:
            return
        load = self._load.pens
        self._worker.run(
            lambda: (charger_id, load(charger_id)), self._show_pen_list, self._pens_failed
        )

    def _pens_failed(self, exc: Exception) -> None:
        self.status.setText(f"The archive cannot be read: {exc}")
        set_emphasis(self.status, Emphasis.ALARM)

    def _show_pen_list(self, answer: tuple[str, list[Pen]]) -> None:
        charger_id, pens = answer
        if charger_id != self.charger.currentText():
            return
        self.pen_list.blockSignals(True)
        self.pen_list.clear()
        for pen in pens:
            self._list_item(pen, charger_id)
        for pen in self._curves:  # drawn pens the archive has no sample of yet
            if pen.charger_id == charger_id and self._item_of(pen) is None:
                self._list_item(pen, charger_id)
        self.pen_list.blockSignals(False)

    def _list_item(self, pen: Pen, source: str) -> None:
        unit = f" ({pen.unit})" if pen.unit else ""
        name = pen.short_label if pen.charger_id == source else pen.label
        item = QListWidgetItem(f"{name}{unit}")
        item.setData(Qt.ItemDataRole.UserRole, pen)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(
            Qt.CheckState.Checked if pen in self._curves else Qt.CheckState.Unchecked
        )
        self.pen_list.addItem(item)

    def _item_of(self, pen: Pen) -> QListWidgetItem | None:
        for row in range(self.pen_list.count()):
            item = self.pen_list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == pen:
                return item
        return None

    def _check(self, pen: Pen, checked: bool) -> None:
        item = self._item_of(pen)
        if item is not None:
            self.pen_list.blockSignals(True)
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            self.pen_list.blockSignals(False)

    def _pen_toggled(self, item: QListWidgetItem) -> None:
        pen = item.data(Qt.ItemDataRole.UserRole)
        if item.checkState() == Qt.CheckState.Checked:
            self.add_pen(pen)
        else:
            self.remove_pen(pen)

    # ---- historical ----

    def history_range(self) -> tuple[datetime, datetime]:
        since, until = self.periods.range()
        until = until or utcnow()
        return since or until - ALL_TIME_SPAN, until

    def query(self) -> None:
        """Read every pen over the picked period (historical) or the live window (live)."""
        if self.live:
            self._start_live()
            return
        since, until = self.history_range()
        self._queried = None
        self._apply_x_range(since.timestamp(), until.timestamp())
        self._read(self.pens, since, until)

    def _points(self) -> int:
        width = self.plot.getPlotItem().vb.width()
        return int(min(MAX_POINTS, max(MIN_POINTS, 2 * width)))

    def _read(
        self, pens: Sequence[Pen], since: datetime | None = None, until: datetime | None = None
    ) -> None:
        if not pens:
            return
        if since is None or until is None:
            if self.live:
                until = utcnow()
                since = until - LIVE_WINDOW
            elif self._queried is not None:
                since, until = _utc(self._queried[0]), _utc(self._queried[1])
            else:
                since, until = self.history_range()
        self._queried = (since.timestamp(), until.timestamp())
        generation = self._generation
        points = LIVE_POINTS if self.live else self._points()
        read = self._load.series
        self.status.setText("Loading…")
        set_emphasis(self.status, Emphasis.NORMAL)
        for pen in pens:  # one job per pen: the curves appear one after the other
            self._queries += 1
            self._worker.run(
                functools.partial(_read_one, read, generation, pen, since, until, points),
                self._show_series,
                self._failed,
            )

    def _show_series(self, answer: tuple[int, list[Series]]) -> None:
        generation, found = answer
        self._queries -= 1
        if generation != self._generation:
            return
        for s in found:
            curve = self._curves.get(s.pen)
            if curve is None:
                continue
            curve.downsampled = s.downsampled
            if self.live:
                newer = [(t, v) for t, v in curve.ring if not s.times or t > s.times[-1]]
                curve.ring.clear()
                curve.ring.extend(zip(s.times, s.values, strict=True))
                curve.ring.extend(newer)
                curve.show_ring()
            else:
                curve.show(*gaps_broken(s.times, s.values, s.bucket_s))
        self._auto_range_y()
        points = sum(len(c.times) for c in self._curves.values())
        reduced = any(c.downsampled for c in self._curves.values())
        loading = " (loading…)" if self._queries else ""
        self.status.setText(
            f"{len(self._curves)} pens, {points} points{loading}"
            + (" (min/max per time bucket: zoom in for every sample)" if reduced else "")
        )
        if self.cursor_line.isVisible():
            self._show_readout(self.cursor_line.value())

    def _failed(self, exc: Exception) -> None:
        self._queries = max(0, self._queries - 1)
        self.status.setText(f"The archive cannot be read: {exc}")
        set_emphasis(self.status, Emphasis.ALARM)

    def _auto_range_y(self) -> None:
        self.plot.getPlotItem().vb.enableAutoRange(axis=pg.ViewBox.YAxis)
        self.right_view.enableAutoRange(axis=pg.ViewBox.YAxis)

    def _apply_x_range(self, lo: float, hi: float) -> None:
        self._applying_range = True
        try:
            self.plot.getPlotItem().setXRange(lo, hi, padding=0)
        finally:
            self._applying_range = False

    def _range_moved(self) -> None:
        if not self._applying_range and not self.live:
            self._requery.start()

    def _visible_range_changed(self) -> None:
        """After a zoom or a pan: read the visible range at the plot's resolution."""
        lo, hi = self.plot.getPlotItem().vb.viewRange()[0]
        if self._queried is not None:
            q_lo, q_hi = self._queried
            tolerance = 0.01 * (q_hi - q_lo)
            if abs(lo - q_lo) <= tolerance and abs(hi - q_hi) <= tolerance:
                return
        self._read(self.pens, _utc(lo), _utc(hi))

    # ---- live ----

    def _set_mode(self, mode: str) -> None:
        self.mode.blockSignals(True)
        self.mode.setCurrentText(mode)
        self.mode.blockSignals(False)
        self._mode_changed()

    def _mode_changed(self) -> None:
        self._generation += 1
        live = self.live
        for widget in (self.periods.period, self.refresh):
            widget.setEnabled(not live)
        self.periods.since.setEnabled(not live and self.periods.custom)
        self.periods.until.setEnabled(not live and self.periods.custom)
        self.query()

    def set_live(self, live: bool) -> None:
        self.mode.setCurrentText(LIVE if live else HISTORICAL)

    def _start_live(self) -> None:
        for curve in self._curves.values():
            curve.ring.clear()
        self._scroll(utcnow().timestamp())
        self._read(self.pens)

    def apply_tags(self, changes: Mapping[TagPath, Sample]) -> None:
        """Slot for the tag batches: appends to the live pens and scrolls (live mode)."""
        if not self.live or not self._curves:
            return
        latest = 0.0
        for curve in self._curves.values():
            tag = curve.pen.live_tag
            sample = changes.get(tag) if tag is not None else None
            if sample is None:
                continue
            t = sample.ts.timestamp()
            value = sample.value
            number = math.nan if not isinstance(value, int | float) else float(value)
            curve.ring.append((t, number))
            curve.show_ring()
            latest = max(latest, t)
        if latest:
            self._scroll(max(latest, utcnow().timestamp()))
            self._auto_range_y()
            if self.cursor_line.isVisible():
                self._show_readout(self.cursor_line.value())

    def _scroll(self, now: float) -> None:
        self._apply_x_range(now - LIVE_WINDOW.total_seconds(), now)

    # ---- cursor ----

    def _mouse_moved(self, position: QPointF) -> None:
        vb = self.plot.getPlotItem().vb
        if vb.sceneBoundingRect().contains(position):
            self.set_cursor(vb.mapSceneToView(position).x())

    def set_cursor(self, x: float) -> None:
        """Put the cursor at ``x`` (POSIX seconds) and read every pen there."""
        self.cursor_line.setVisible(True)
        self.cursor_line.setValue(x)
        self._show_readout(x)

    def cursor_text(self) -> str:
        return self.readout.text()

    def _show_readout(self, x: float) -> None:
        parts = [_utc(x).astimezone().strftime("%Y-%m-%d %H:%M:%S")]
        for curve in self._curves.values():
            value = value_at(curve.times, curve.values, x)
            shown = "—" if value is None else f"{value:.2f} {curve.pen.unit}".rstrip()
            parts.append(f"{curve.pen.label}: {shown}")
        self.readout.setText("   ·   ".join(parts))

    # ---- files ----

    def shown_rows(self) -> list[tuple[datetime, str, int, str, str, float, str]]:
        """The points inside the visible range, pen after pen (for the CSV export)."""
        lo, hi = self.plot.getPlotItem().vb.viewRange()[0]
        rows = []
        for curve in self._curves.values():
            pen = curve.pen
            for t, v in zip(curve.times, curve.values, strict=True):
                if lo <= t <= hi and not math.isnan(v):
                    rows.append(
                        (
                            _utc(t),
                            pen.charger_id,
                            pen.connector_id,
                            pen.measurand,
                            pen.phase or "",
                            v,
                            pen.unit,
                        )
                    )
        return rows

    def export_csv(self, path: Path) -> int:
        """Write the shown points to ``path`` (on the calling thread); the row count."""
        count = write_csv(path, CSV_HEADERS, self.shown_rows())
        self._saved(f"Exported {count} points to {path}")
        return count

    def save_png(self, path: Path) -> bool:
        ok = self.plot.grab().save(str(path), "PNG")
        self._saved(f"Saved {path}" if ok else f"Could not save {path}")
        return bool(ok)

    def _saved(self, text: str) -> None:
        self.status.setText(text)
        set_emphasis(self.status, Emphasis.NORMAL)

    def _choose_png(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Save the trend", "trend.png", "PNG (*.png)")
        if name:
            path = Path(name) if name.lower().endswith(".png") else Path(name + ".png")
            self.save_png(path)

    def _choose_csv(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Export the trend", "trend.csv", "CSV files (*.csv)"
        )
        if not name:
            return
        path = Path(name) if name.lower().endswith(".csv") else Path(name + ".csv")
        rows = self.shown_rows()
        self.status.setText(f"Exporting {len(rows)} points…")
        self._worker.run(
            lambda: (path, write_csv(path, CSV_HEADERS, rows)),
            lambda done: self._saved(f"Exported {done[1]} points to {done[0]}"),
            self._failed,
        )

    def closeEvent(self, event: Any) -> None:
        self._requery.stop()
        super().closeEvent(event)
