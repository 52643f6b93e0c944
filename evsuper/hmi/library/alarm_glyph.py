"""The alarm priority symbol: a shape per priority (◆ ▲ ● ▼) with its number inside.

Filled in the priority's alarm colour; ``filled=False`` draws the outline only (the dark
phase of a blinking unacknowledged alarm, an acknowledged alarm on a tile).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPainterPath, QPen, QPixmap, QPolygonF

from evsuper.alarms.model import Priority
from evsuper.hmi.theme import Palette, PriorityShape, font, priority_style


def _shape_path(shape: PriorityShape, box: QRectF) -> QPainterPath:
    path = QPainterPath()
    left, top, right, bottom = box.left(), box.top(), box.right(), box.bottom()
    cx, cy = box.center().x(), box.center().y()
    if shape is PriorityShape.DIAMOND:
        path.addPolygon(
            QPolygonF(
                [QPointF(cx, top), QPointF(right, cy), QPointF(cx, bottom), QPointF(left, cy)]
            )
        )
    elif shape is PriorityShape.TRIANGLE:
        path.addPolygon(
            QPolygonF([QPointF(cx, top), QPointF(right, bottom), QPointF(left, bottom)])
        )
    elif shape is PriorityShape.TRIANGLE_DOWN:
        path.addPolygon(QPolygonF([QPointF(left, top), QPointF(right, top), QPointF(cx, bottom)]))
    else:
        path.addEllipse(box)
    path.closeSubpath()
    return path


def paint_priority_glyph(
    painter: QPainter, rect: QRectF, priority: Priority, *, filled: bool = True
) -> None:
    """Paint the symbol of ``priority`` centred in ``rect`` (a square fitted inside it)."""
    style = priority_style(priority)
    side = min(rect.width(), rect.height())
    box = QRectF(0, 0, side, side)
    box.moveCenter(rect.center())
    box = box.adjusted(1, 1, -1, -1)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    path = _shape_path(style.shape, box)
    painter.setPen(QPen(Palette.TEXT, 1.0))
    painter.setBrush(style.color if filled else Qt.BrushStyle.NoBrush)
    painter.drawPath(path)
    painter.setFont(font(max(6.0, side * 0.36), bold=True))
    painter.setPen(style.on_color if filled else Palette.TEXT)
    text = box
    if style.shape is PriorityShape.TRIANGLE:  # the number sits in the wide lower part
        text = box.adjusted(0, side * 0.25, 0, 0)
    elif style.shape is PriorityShape.TRIANGLE_DOWN:
        text = box.adjusted(0, 0, 0, -side * 0.3)
    painter.drawText(text, Qt.AlignmentFlag.AlignCenter, str(int(priority)))
    painter.restore()


def priority_pixmap(priority: Priority, size: QSize, *, filled: bool = True) -> QPixmap:
    """The symbol as a pixmap, for labels and buttons."""
    pixmap = QPixmap(size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    paint_priority_glyph(
        painter, QRectF(0, 0, size.width(), size.height()), priority, filled=filled
    )
    painter.end()
    return pixmap
