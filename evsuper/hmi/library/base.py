"""What every library object shares: its sizes, its frame, its rows and one layout per size.

An object is a frozen *view* dataclass (its state, no Qt object) that knows its words,
its short code, its detail rows and how to draw its pictogram. ``paint_object`` lays any
view out at any size on any painter, so a delegate (overview tiles, no widget per bollard)
or a graphics item (ground plan) paints the same object as the ``LibraryObject`` widget.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import Enum

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen, QPolygonF

from evsuper.alarms.model import ChargerAlarm
from evsuper.core.domain import CommState
from evsuper.core.tags import Quality
from evsuper.hmi.library.alarm_glyph import paint_priority_glyph
from evsuper.hmi.library.glyphs import paint_connector_glyph
from evsuper.hmi.models.overview import alarm_text
from evsuper.hmi.quality import marked, quality_look
from evsuper.hmi.theme import ConnectorStyle, Palette, comm_style, font

LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
CENTER = Qt.AlignmentFlag.AlignCenter


class ObjectSize(Enum):
    """Symbol: a ground-plan mark; tile: an overview tile; header: a faceplate's top."""

    SYMBOL = "symbol"
    TILE = "tile"
    HEADER = "header"


SYMBOL_SIZE = QSize(84, 100)
TILE_WIDTH = 236  # the overview's tile width
TILE_HEADER = 28
TILE_ROW = 40
HEADER_SIZE = QSize(560, 128)
HEADER_ROW = 28


@dataclass(frozen=True, slots=True)
class Frame:
    """How the whole object is framed: communication, maintenance, charger-level fault."""

    badge: str  # the one abnormal word on the object, "" when normal
    badge_color: QColor
    background: QColor
    text: QColor
    outline: QColor  # pictogram lines
    hatch: Qt.BrushStyle = Qt.BrushStyle.NoBrush
    hatch_color: QColor = field(default_factory=lambda: Palette.OFFLINE_HATCH)
    dashed: bool = False
    alarm_border: bool = False  # faulted: the frame is drawn in the alarm colour

    @property
    def live(self) -> bool:
        """Values shown are current (not last-known, not unknown)."""
        return self.background != Palette.OFFLINE_TILE and not self.dashed


def frame_for(
    comm: CommState,
    *,
    out_of_service: bool = False,
    faulted: bool = False,
    badge: str = "",
    badge_color: QColor = Palette.TEXT_SECONDARY,
) -> Frame:
    """The frame for a communication state; maintenance, then lost communication, take the
    badge first; ``faulted`` draws the frame in the alarm colour."""
    if out_of_service:
        return Frame(
            "OUT OF SERVICE",
            Palette.TEXT_SECONDARY,
            Palette.TILE,
            Palette.TEXT_SECONDARY,
            Palette.TEXT_SECONDARY,
            Qt.BrushStyle.DiagCrossPattern,
            Palette.SEPARATOR,
        )
    style = comm_style(comm)
    if comm is not CommState.ONLINE:
        return Frame(
            style.label,
            style.label_color,
            style.background,
            style.text,
            style.dim,
            Qt.BrushStyle.BDiagPattern if style.hatched else Qt.BrushStyle.NoBrush,
            dashed=style.dashed_border,
        )
    return Frame(
        badge, badge_color, Palette.TILE, Palette.TEXT, Palette.BAR_FILL, alarm_border=faulted
    )


@dataclass(frozen=True, slots=True)
class Glyph:
    """A connector symbol drawn at the start of a row."""

    number: int
    style: ConnectorStyle
    live: bool = True


@dataclass(frozen=True, slots=True)
class Row:
    """One detail line of an object: a connector or a measured value."""

    text: str
    value: str = ""  # main value, right-aligned ("11.0 kW")
    detail: str = ""  # small text right of the bar ("4.20 kWh  SoC 55 %")
    glyph: Glyph | None = None
    fraction: float | None = None  # bar fill (may exceed 1: over the limit); None: no bar
    limit: float | None = None  # a limit mark on the bar, as a fraction of its length
    flowing: bool = False  # energy flows: the bar carries the moving marker
    color: QColor = field(default_factory=lambda: Palette.TEXT)
    bold: bool = False
    quality: Quality = Quality.GOOD  # of the value: not good → greyed, with its marker


class ObjectView(ABC):
    """The state of one object, with everything its layouts need."""

    name: str
    alarm: ChargerAlarm | None

    @abstractmethod
    def frame(self) -> Frame: ...

    @abstractmethod
    def kind(self) -> str:
        """What the object is, in words: "DC bollard · 2 connectors"."""

    @abstractmethod
    def code(self) -> str:
        """The state as a short code for symbols: "CHG 11 kW", "OFFLINE"."""

    @abstractmethod
    def words(self) -> str:
        """The state in words, for tooltips, screen readers and the header."""

    @abstractmethod
    def rows(self) -> list[Row]: ...

    @abstractmethod
    def flowing(self) -> bool:
        """Energy flows: the object animates (on the shared flow clock)."""

    @abstractmethod
    def paint_pictogram(self, painter: QPainter, rect: QRectF, phase: float) -> None:
        """Draw the object's outline and state marks in ``rect`` (square-ish)."""

    def description(self) -> str:
        """Everything in words, for ``accessibleName`` and the tooltip."""
        text = f"{self.name}, {self.kind()}: {self.words()}"
        if self.alarm is not None:
            text += f"; alarms {alarm_text(self.alarm)}"
        return text


def size_hint(view: ObjectView, size: ObjectSize) -> QSize:
    if size is ObjectSize.SYMBOL:
        return SYMBOL_SIZE
    if size is ObjectSize.HEADER:
        return HEADER_SIZE
    return QSize(TILE_WIDTH, TILE_HEADER + max(1, len(view.rows())) * TILE_ROW + 6)


def paint_object(
    painter: QPainter, rect: QRectF, view: ObjectView, size: ObjectSize, phase: float = 0.0
) -> None:
    """Paint ``view`` at ``size`` in ``rect``; ``phase`` (0…1) places the flow markers."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
    if size is ObjectSize.SYMBOL:
        _paint_symbol(painter, rect, view, phase)
    elif size is ObjectSize.TILE:
        _paint_tile(painter, rect, view, phase)
    else:
        _paint_header(painter, rect, view, phase)
    painter.restore()


# ---- layouts


def _paint_symbol(painter: QPainter, rect: QRectF, view: ObjectView, phase: float) -> None:
    frame = view.frame()
    side = min(rect.width() - 8, rect.height() - 36)
    picture = QRectF(rect.center().x() - side / 2, rect.top() + 4, side, side)
    view.paint_pictogram(painter, picture, phase)
    code = QRectF(rect.left(), picture.bottom() + 3, rect.width(), 14)
    painter.setFont(font(7.5, bold=True))
    text = _elided(painter, view.code(), code.width() - 6)
    if frame.badge:  # an abnormal code stands on a plate, as on the tile
        plate = QRectF(0, 0, painter.fontMetrics().horizontalAdvance(text) + 8, code.height())
        plate.moveCenter(code.center())
        _paint_background(painter, plate, frame)
    painter.setPen(frame.badge_color if frame.badge else Palette.TEXT)
    painter.drawText(code, CENTER, text)
    name = QRectF(rect.left(), code.bottom(), rect.width(), 14)
    painter.setFont(font(7.5))
    painter.setPen(Palette.TEXT)
    painter.drawText(name, CENTER, _elided(painter, view.name, name.width()))
    if view.alarm is not None:
        mark = QRectF(picture.right() - 9, picture.top() - 3, 18, 18)
        paint_alarm_mark(painter, mark, view.alarm, Palette.TEXT)


def _paint_tile(painter: QPainter, rect: QRectF, view: ObjectView, phase: float) -> None:
    frame = view.frame()
    tile = rect.adjusted(2, 2, -2, -2)
    # Straight lines on whole and half pixels look the same without antialiasing, at a
    # third less time for a grid of tiles; the pictogram and the alarm mark keep it.
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    _paint_background(painter, tile, frame)
    header = QRectF(tile.left() + 8, tile.top(), tile.width() - 16, TILE_HEADER)
    right = _paint_badges(painter, header, view, frame, 8.5)
    painter.setFont(font(10.5, bold=True))
    painter.setPen(frame.text)
    painter.drawText(
        QRectF(header.left(), header.top(), right - header.left(), header.height()),
        LEFT,
        _elided(painter, view.name, right - header.left()),
    )
    painter.setPen(QPen(frame.outline if not frame.live else Palette.SEPARATOR, 1.0))
    y = tile.top() + TILE_HEADER - 0.5
    painter.drawLine(QPointF(header.left(), y), QPointF(header.right(), y))
    body = QRectF(tile.left(), y + 4, tile.width(), tile.bottom() - y - 6)
    picture = QRectF(body.left() + 6, body.top() + 2, 34, min(body.height() - 4, 62))
    rows = view.rows()
    for i, row in enumerate(rows):
        line = QRectF(
            picture.right() + 6, y + i * TILE_ROW, tile.right() - picture.right() - 14, TILE_ROW
        )
        _paint_tile_row(painter, line, row, frame, phase)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    view.paint_pictogram(painter, picture, phase)


def _paint_header(painter: QPainter, rect: QRectF, view: ObjectView, phase: float) -> None:
    frame = view.frame()
    panel = rect.adjusted(1, 1, -1, -1)
    _paint_background(painter, panel, frame)
    inner = panel.adjusted(12, 10, -12, -10)
    picture = QRectF(inner.left(), inner.top(), 84, inner.height())
    view.paint_pictogram(painter, picture, phase)
    rows_width = 236.0
    text = QRectF(picture.right() + 14, inner.top(), 0, inner.height())
    text.setRight(inner.right() - rows_width - 14)
    painter.setFont(font(15, bold=True))
    painter.setPen(frame.text)
    title = QRectF(text.left(), text.top(), text.width(), 28)
    painter.drawText(title, LEFT, _elided(painter, view.name, title.width()))
    painter.setFont(font(9.5))
    painter.setPen(Palette.TEXT_SECONDARY if frame.live else frame.text)
    kind = QRectF(text.left(), title.bottom(), text.width(), 20)
    painter.drawText(kind, LEFT, _elided(painter, view.kind(), kind.width()))
    status = QRectF(text.left(), kind.bottom() + 10, text.width(), 24)
    if view.alarm is not None:
        mark = QRectF(status.left(), status.top(), status.height(), status.height())
        used = paint_alarm_mark(painter, mark, view.alarm, frame.text)
        status.setLeft(status.left() + used + 8)
    painter.setFont(font(11, bold=True))
    painter.setPen(frame.badge_color if frame.badge else frame.text)
    painter.drawText(status, LEFT, _elided(painter, frame.badge or view.code(), status.width()))
    rows = view.rows()
    for i, row in enumerate(rows):
        line = QRectF(
            inner.right() - rows_width, inner.top() + i * HEADER_ROW, rows_width, HEADER_ROW
        )
        _paint_header_row(painter, line, row, frame, phase)


def _paint_background(painter: QPainter, rect: QRectF, frame: Frame) -> None:
    painter.fillRect(rect, frame.background)
    if frame.hatch is not Qt.BrushStyle.NoBrush:
        painter.fillRect(rect, QBrush(frame.hatch_color, frame.hatch))
    border = QPen(
        Palette.ALARM if frame.alarm_border else Palette.TILE_BORDER,
        2.0 if frame.alarm_border else 1.0,
    )
    if frame.dashed:
        border.setStyle(Qt.PenStyle.DashLine)
    border.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
    painter.setPen(border)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(rect.adjusted(0.5, 0.5, -0.5, -0.5))


def _paint_badges(
    painter: QPainter, line: QRectF, view: ObjectView, frame: Frame, size: float
) -> float:
    """The badge and the alarm mark, right-aligned in ``line``; returns their left edge."""
    right = line.right()
    if frame.badge:
        painter.setFont(font(size, bold=True))
        painter.setPen(frame.badge_color)
        painter.drawText(line, RIGHT, frame.badge)
        right -= painter.fontMetrics().horizontalAdvance(frame.badge) + 10
    if view.alarm is not None:
        mark = QRectF(right - 20, line.center().y() - 10, 20, 20)
        right -= paint_alarm_mark(painter, mark, view.alarm, frame.text, count_left=True) + 4
    return right


def paint_alarm_mark(
    painter: QPainter,
    box: QRectF,
    alarm: ChargerAlarm,
    frame_color: QColor,
    *,
    count_left: bool = False,
) -> float:
    """The alarm overlay: priority symbol, a frame while unacknowledged, the count when more
    than one; returns the width used."""
    paint_priority_glyph(painter, box.adjusted(2, 2, -2, -2), alarm.priority)
    if alarm.unacknowledged:
        pen = QPen(frame_color, 1.5)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(box.adjusted(0.75, 0.75, -0.75, -0.75))
    if alarm.count <= 1:
        return box.width()
    painter.setFont(font(8, bold=True))
    painter.setPen(frame_color)
    text = str(alarm.count)
    width = painter.fontMetrics().horizontalAdvance(text) + 3
    left = box.left() - width if count_left else box.right() + 3
    painter.drawText(QRectF(left, box.top(), width, box.height()), LEFT, text)
    return box.width() + width


def _paint_tile_row(painter: QPainter, line: QRectF, row: Row, frame: Frame, phase: float) -> None:
    left = line.left()
    if row.glyph is not None:
        glyph = QRectF(left, line.top() + 7, 18, 18)
        paint_connector_glyph(
            painter, glyph, row.glyph.number, row.glyph.style, live=row.glyph.live
        )
        left = glyph.right() + 7
    first = QRectF(left, line.top() + 5, line.right() - left, 18)
    second = QRectF(left, line.top() + 23, line.right() - left, 13)
    color = row.color if frame.live else frame.text
    painter.setPen(color)
    painter.setFont(font(9, bold=row.bold and frame.live))
    painter.drawText(first, LEFT, row.text)
    if row.value and frame.live:
        _paint_value(painter, first, row)
    if not frame.live:
        return
    detail_width = 0.0
    if row.detail:
        painter.setFont(font(8))
        good = row.quality is Quality.GOOD
        painter.setPen(Palette.TEXT_SECONDARY if good else quality_look(row.quality).color)
        painter.drawText(second, RIGHT, row.detail)
        detail_width = painter.fontMetrics().horizontalAdvance(row.detail) + 8
    bar_width = min(50.0, second.width() - detail_width)  # shorter rather than under the text
    # a bar draws a value as a length: only for a good value (a stale one is text, greyed)
    if row.fraction is not None and bar_width >= 16 and row.quality is Quality.GOOD:
        bar = QRectF(second.left(), second.center().y() - 2.5, bar_width, 5)
        paint_bar(painter, bar, row.fraction, row.limit, row.flowing, phase)


def _paint_header_row(
    painter: QPainter, line: QRectF, row: Row, frame: Frame, phase: float
) -> None:
    left = line.left()
    if row.glyph is not None:
        glyph = QRectF(left, line.top() + 3, 18, 18)
        paint_connector_glyph(
            painter, glyph, row.glyph.number, row.glyph.style, live=row.glyph.live
        )
        left = glyph.right() + 7
    text = QRectF(left, line.top(), line.right() - left, 24)
    painter.setPen(row.color if frame.live else frame.text)
    painter.setFont(font(9, bold=row.bold and frame.live))
    painter.drawText(text, LEFT, row.text)
    if not frame.live:
        return
    if row.value:
        _paint_value(painter, text, row)
    if row.fraction is not None and row.quality is Quality.GOOD:
        bar = QRectF(left + 96, text.center().y() - 2.5, 56, 5)
        paint_bar(painter, bar, row.fraction, row.limit, row.flowing, phase)


def _paint_value(painter: QPainter, line: QRectF, row: Row) -> None:
    """A row's main value, right-aligned: bold when good, else greyed after its marker."""
    good = row.quality is Quality.GOOD
    value_font = font(9, bold=good)
    value_font.setItalic(not good)
    painter.setFont(value_font)
    painter.setPen(quality_look(row.quality).color)
    painter.drawText(line, RIGHT, marked(row.value, row.quality))


def paint_bar(
    painter: QPainter,
    track: QRectF,
    fraction: float,
    limit: float | None,
    flowing: bool,
    phase: float,
) -> None:
    """A value bar: grey fill, a limit mark, the part over the limit hatched, and while
    energy flows a small marker running along the fill."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.fillRect(track, Palette.BAR_TRACK)
    shown = min(max(fraction, 0.0), 1.0)
    fill = QRectF(track.left(), track.top(), track.width() * shown, track.height())
    painter.fillRect(fill, Palette.BAR_FILL)
    if limit is not None and fraction > limit:
        over = QRectF(
            track.left() + track.width() * limit,
            track.top() - 1,
            track.width() * (shown - limit),
            track.height() + 2,
        )
        painter.fillRect(over, Palette.TILE)
        painter.fillRect(over, QBrush(Palette.TEXT, Qt.BrushStyle.DiagCrossPattern))
    if limit is not None:
        x = track.left() + track.width() * min(limit, 1.0)
        painter.setPen(QPen(Palette.TEXT, 2.0))
        painter.drawLine(QPointF(x, track.top() - 3), QPointF(x, track.bottom() + 3))
    if flowing and phase > 0 and fill.width() > 6:  # phase 0: at rest (still displays)
        x = fill.left() + (fill.width() - 4) * phase
        painter.fillRect(QRectF(x, track.top() + 1, 4, track.height() - 2), Palette.TILE)
    painter.restore()


def paint_flow(painter: QPainter, start: QPointF, end: QPointF, phase: float) -> None:
    """Three small chevrons moving from ``start`` to ``end``: energy flowing."""
    painter.save()
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(Palette.BAR_FILL)
    dx, dy = end.x() - start.x(), end.y() - start.y()
    length = max((dx * dx + dy * dy) ** 0.5, 1.0)
    ux, uy = dx / length, dy / length
    for i in range(3):
        t = ((phase + i / 3) % 1.0) * length
        cx, cy = start.x() + ux * t, start.y() + uy * t
        tip = QPointF(cx + ux * 3, cy + uy * 3)
        a = QPointF(cx - ux * 2 - uy * 3, cy - uy * 2 + ux * 3)
        b = QPointF(cx - ux * 2 + uy * 3, cy - uy * 2 - ux * 3)
        painter.drawPolygon(QPolygonF([tip, a, b]))
    painter.restore()


def body_pen(frame: Frame, width: float = 1.5) -> QPen:
    """The pen of a pictogram's outline: dashed while never seen, red when faulted."""
    pen = QPen(Palette.ALARM if frame.alarm_border else frame.outline, width)
    if frame.dashed:
        pen.setStyle(Qt.PenStyle.DashLine)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


def fill_body(painter: QPainter, path: QPainterPath, frame: Frame, *, width: float = 1.5) -> None:
    """Fill and outline a pictogram body the way the frame says (hatched when offline,
    cross-hatched out of service)."""
    painter.fillPath(path, frame.background)
    if frame.hatch is not Qt.BrushStyle.NoBrush:
        painter.fillPath(path, QBrush(frame.outline, frame.hatch))
    painter.strokePath(path, body_pen(frame, width))


def _elided(painter: QPainter, text: str, width: float) -> str:
    return painter.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, int(width))
