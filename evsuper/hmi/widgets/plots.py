"""One look for every pyqtgraph chart of the HMI (ISA-101: calm greys, thin grid)."""

from __future__ import annotations

import os

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPen

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
