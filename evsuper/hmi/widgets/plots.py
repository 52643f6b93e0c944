"""One look for every pyqtgraph chart of the HMI (ISA-101: calm greys, thin grid)."""

from __future__ import annotations

import os
from collections.abc import Sequence

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from evsuper.hmi.theme import Palette


def calm_plot(
    name: str,
    *,
    min_height: int = 200,
    time_axis: bool = False,
    x_grid: bool = True,
    zoom_x: bool = False,
    zoom_y: bool = False,
) -> pg.PlotWidget:
    """A plot on the tile grey, grey axes and grid, no context menu. ``time_axis``: x in
    epoch seconds shown as dates and times; ``zoom_x`` / ``zoom_y``: mouse zoom and pan."""
    axes = {"bottom": pg.DateAxisItem(orientation="bottom")} if time_axis else None
    plot = pg.PlotWidget(background=Palette.TILE, axisItems=axes)
    plot.setObjectName(name)
    plot.setMinimumHeight(min_height)
    item = plot.getPlotItem()
    item.showGrid(x=x_grid, y=True, alpha=0.15)
    item.setMenuEnabled(False)
    item.hideButtons()
    plot.setMouseEnabled(x=zoom_x, y=zoom_y)
    for side in ("left", "bottom"):
        axis = item.getAxis(side)
        axis.setPen(pg.mkPen(Palette.TEXT_SECONDARY))
        axis.setTextPen(pg.mkPen(Palette.TEXT))
    return plot


def calm_pen(color: QColor, width: float, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    pen: QPen = pg.mkPen(color=color, width=width, style=style)
    pen.setCosmetic(True)
    return pen


class PlotLegend(QWidget):
    """A chart's legend as a row of Qt labels beside it: a sample of each curve's pen (and
    fill) and its caption.

    Not pyqtgraph's LegendItem: its entries are LabelItems that call back into Python while
    the chart is being destroyed, after their Python state is gone (an AttributeError in
    LabelItem.sizeHint each time a window holding one is freed)."""

    SAMPLE = QSize(26, 12)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("plotLegend")
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(0, 0, 0, 0)
        self._row.setSpacing(6)
        self._row.addStretch(1)
        self.entries: list[str] = []

    def set_entries(self, entries: Sequence[tuple[str, QPen, QBrush | None]]) -> None:
        """The curves to name, in order: (caption, pen, fill under the line or None)."""
        while self._row.count() > 1:  # all but the stretch
            item = self._row.takeAt(0)
            if item is not None and (widget := item.widget()) is not None:
                widget.deleteLater()
        for i, (caption, pen, fill) in enumerate(entries):
            sample = QLabel()
            sample.setPixmap(self._sample(pen, fill))
            text = QLabel(caption)
            text.setObjectName("plotLegendEntry")
            self._row.insertWidget(3 * i, sample)
            self._row.insertWidget(3 * i + 1, text)
            self._row.insertSpacing(3 * i + 2, 12)
        self.entries = [caption for caption, _, _ in entries]

    def _sample(self, pen: QPen, fill: QBrush | None) -> QPixmap:
        ratio = self.devicePixelRatioF()
        pixmap = QPixmap(self.SAMPLE * ratio)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        middle = self.SAMPLE.height() / 2
        if fill is not None:
            painter.fillRect(QRectF(0, middle, self.SAMPLE.width(), middle), fill)
        line = QPen(pen)
        line.setCosmetic(True)
        painter.setPen(line)
        painter.drawLine(QPointF(0, middle), QPointF(self.SAMPLE.width(), middle))
        painter.end()
        return pixmap
