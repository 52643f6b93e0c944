"""Charge points: the bollard (1 to 4 connectors, AC or DC), the wallbox and a single connector.

Each connector is the overview's glyph (its fill is the state's shape code); the object
adds its outline, a short state code for plan symbols and the state in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QPainter, QPainterPath, QPen

from evsuper.alarms.model import ChargerAlarm
from evsuper.core.domain import CommState, ConnectorStatus
from evsuper.core.tags import Quality
from evsuper.hmi import formatting
from evsuper.hmi.library.base import (
    CENTER,
    Frame,
    Glyph,
    ObjectView,
    Row,
    body_pen,
    fill_body,
    frame_for,
    paint_flow,
)
from evsuper.hmi.library.glyphs import paint_connector_glyph
from evsuper.hmi.quality import quality_look
from evsuper.hmi.theme import OUT_OF_SERVICE, ConnectorStyle, Palette, connector_style, font


class Current(StrEnum):
    AC = "AC"
    DC = "DC"


# Short codes for plan symbols, where a connector's words do not fit.
_CODES: dict[ConnectorStatus | None, str] = {
    ConnectorStatus.AVAILABLE: "AVAIL",
    ConnectorStatus.PREPARING: "PREP",
    ConnectorStatus.CHARGING: "CHG",
    ConnectorStatus.SUSPENDED_EV: "SUSP EV",
    ConnectorStatus.SUSPENDED_EVSE: "SUSP EVSE",
    ConnectorStatus.FINISHING: "FIN",
    ConnectorStatus.RESERVED: "RSVD",
    ConnectorStatus.UNAVAILABLE: "UNAVAIL",
    ConnectorStatus.FAULTED: "FAULT",
    None: "NO STATUS",
}
# Which connector state speaks for the whole charge point on a symbol (first wins).
_SIGNIFICANCE: tuple[ConnectorStatus | None, ...] = (
    ConnectorStatus.FAULTED,
    ConnectorStatus.UNAVAILABLE,
    ConnectorStatus.CHARGING,
    ConnectorStatus.SUSPENDED_EVSE,
    ConnectorStatus.SUSPENDED_EV,
    ConnectorStatus.PREPARING,
    ConnectorStatus.FINISHING,
    ConnectorStatus.RESERVED,
    None,
    ConnectorStatus.AVAILABLE,
)


@dataclass(frozen=True, slots=True)
class ConnectorPoint:
    """One connector as its tags describe it."""

    number: int
    status: ConnectorStatus | None = None
    power_kw: float | None = None
    max_kw: float = 22.0
    energy_kwh: float | None = None
    soc: float | None = None
    error_code: str | None = None
    quality: Quality = Quality.GOOD  # of its measured values (the worst): not good → greyed

    @property
    def flowing(self) -> bool:
        """Charging with power, as fresh values say (a stale value does not animate)."""
        fresh = self.quality is Quality.GOOD
        return fresh and self.status is ConnectorStatus.CHARGING and (self.power_kw or 0.0) > 0.0


@dataclass(frozen=True, slots=True)
class ChargePointView(ObjectView):
    """A charger with its connectors; the forms below differ by outline only."""

    name: str
    connectors: tuple[ConnectorPoint, ...]
    current: Current = Current.AC
    comm: CommState = CommState.ONLINE
    status: ConnectorStatus | None = None  # connector 0: the charger as a whole
    out_of_service: bool = False  # taken out of service for maintenance by the operator
    alarm: ChargerAlarm | None = None

    form = "charge point"

    def style(self, connector: ConnectorPoint) -> ConnectorStyle:
        return OUT_OF_SERVICE if self.out_of_service else connector_style(connector.status)

    @property
    def live(self) -> bool:
        return self.comm is CommState.ONLINE

    def frame(self) -> Frame:
        faulted = self.status is ConnectorStatus.FAULTED or any(
            c.status is ConnectorStatus.FAULTED for c in self.connectors
        )
        if self.status is ConnectorStatus.FAULTED:
            badge, color = "FAULTED", Palette.ALARM
        elif self.status is ConnectorStatus.UNAVAILABLE:
            badge, color = "UNAVAILABLE", Palette.TEXT_SECONDARY
        else:
            badge, color = "", Palette.TEXT_SECONDARY
        return frame_for(
            self.comm,
            out_of_service=self.out_of_service,
            faulted=faulted,
            badge=badge,
            badge_color=color,
        )

    def kind(self) -> str:
        count = len(self.connectors)
        plural = "connector" if count == 1 else "connectors"
        return f"{self.current} {self.form} · {count} {plural}"

    def code(self) -> str:
        if self.out_of_service:
            return "OOS"
        if not self.live:
            return self.frame().badge
        if self.status in (ConnectorStatus.FAULTED, ConnectorStatus.UNAVAILABLE):
            return _CODES[self.status]
        statuses = {c.status for c in self.connectors}
        status = next((s for s in _SIGNIFICANCE if s in statuses), None)
        if status is ConnectorStatus.CHARGING:
            power = sum(c.power_kw or 0.0 for c in self.connectors)
            return f"CHG {power:.0f} kW"
        return _CODES[status]

    def words(self) -> str:
        frame = self.frame()
        parts = [frame.badge.capitalize()] if frame.badge else []
        for c in self.connectors:
            text = f"connector {c.number} {self.style(c).label.lower()}"
            if self.live and c.flowing:
                text += f" {formatting.kw(c.power_kw)}"
            if self.live and c.quality is not Quality.GOOD:
                text += f" (values {quality_look(c.quality).label.lower()})"
            if self.live and c.status is ConnectorStatus.FAULTED and c.error_code:
                text += f" ({c.error_code})"
            parts.append(text)
        return ", ".join(parts)

    def rows(self) -> list[Row]:
        return [self._row(c) for c in self.connectors]

    def _row(self, c: ConnectorPoint) -> Row:
        style = self.style(c)
        in_session = (c.power_kw or 0.0) > 0.0 or c.status is ConnectorStatus.CHARGING
        detail = ""
        if c.status is ConnectorStatus.FAULTED:
            detail = c.error_code or "Fault"
        elif in_session:
            detail = formatting.kwh(c.energy_kwh)
            if c.soc is not None:
                detail += f"   SoC {formatting.percent(c.soc)}"
        return Row(
            style.label,
            value=formatting.kw(c.power_kw) if in_session else "",
            detail=detail,
            glyph=Glyph(c.number, style, self.live),
            fraction=(c.power_kw or 0.0) / c.max_kw if in_session and c.max_kw > 0 else None,
            flowing=c.flowing,
            color=style.text,
            bold=style.bold,
            quality=c.quality,
        )

    def flowing(self) -> bool:
        return self.live and not self.out_of_service and any(c.flowing for c in self.connectors)

    def _paint_glyphs(self, painter: QPainter, area: QRectF) -> None:
        """The connectors in ``area``: one column up to two, two columns for three or four."""
        count = len(self.connectors)
        cols = 1 if count <= 2 else 2
        rows = (count + cols - 1) // cols
        side = min(area.width() / cols, area.height() / rows) * 0.82
        side = float(int(min(side, 24.0)))
        for i, c in enumerate(self.connectors):
            col, row = i % cols, i // cols
            cx = area.left() + area.width() * (col + 0.5) / cols
            cy = area.top() + area.height() * (row + 0.5) / rows
            box = QRectF(int(cx - side / 2), int(cy - side / 2), side, side)
            paint_connector_glyph(painter, box, c.number, self.style(c), live=self.live)

    def _paint_current(self, painter: QPainter, rect: QRectF, frame: Frame) -> None:
        painter.setFont(font(max(6.0, rect.height() * 0.5), bold=True))
        painter.setPen(frame.text if frame.live else frame.outline)
        painter.drawText(rect, CENTER, str(self.current))


@dataclass(frozen=True, slots=True)
class BollardView(ChargePointView):
    """A free-standing charger; the DC bollard is broader and square-shouldered."""

    form = "bollard"

    def paint_pictogram(self, painter: QPainter, rect: QRectF, phase: float) -> None:
        frame = self.frame()
        dc = self.current is Current.DC
        width = min(rect.width() * (0.8 if dc else 0.62), rect.height() * (0.68 if dc else 0.52))
        body = QRectF(rect.center().x() - width / 2, rect.top() + 1, width, rect.height() - 4)
        path = QPainterPath()
        radius = width * (0.08 if dc else 0.3)
        path.addRoundedRect(body, radius, radius)
        fill_body(painter, path, frame)
        painter.setPen(body_pen(frame, 2.0))
        base = rect.bottom() - 1
        painter.drawLine(QPointF(body.left() - 4, base), QPointF(body.right() + 4, base))
        screen = QRectF(
            body.left() + width * 0.16,
            body.top() + width * 0.2,
            width * 0.68,
            max(6.0, body.height() * 0.17),
        )
        painter.setPen(body_pen(frame, 1.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(screen)
        self._paint_current(painter, screen, frame)
        if rect.width() >= 48:  # large enough for the connectors themselves
            area = QRectF(
                body.left() + 3, screen.bottom() + 4, width - 6, body.bottom() - screen.bottom() - 8
            )
            self._paint_glyphs(painter, area)
        if self.flowing():
            x = body.right() + 4
            paint_flow(painter, QPointF(x, body.top() + 8), QPointF(x, body.bottom() - 6), phase)


@dataclass(frozen=True, slots=True)
class WallboxView(ChargePointView):
    """A charger on a wall (shown hatched on its left), its cable hanging below."""

    form = "wallbox"

    def paint_pictogram(self, painter: QPainter, rect: QRectF, phase: float) -> None:
        frame = self.frame()
        wall = QRectF(rect.left(), rect.top(), max(4.0, rect.width() * 0.12), rect.height())
        painter.fillRect(wall, QBrush(Palette.TEXT_MUTED, Qt.BrushStyle.BDiagPattern))
        painter.setPen(QPen(Palette.TEXT_MUTED, 1.0))
        painter.drawLine(wall.topRight(), wall.bottomRight())
        box = QRectF(
            wall.right() + 2,
            rect.top() + rect.height() * 0.08,
            rect.width() - wall.width() - 4,
            rect.height() * 0.62,
        )
        path = QPainterPath()
        path.addRoundedRect(box, box.width() * 0.12, box.width() * 0.12)
        fill_body(painter, path, frame)
        screen = QRectF(
            box.left() + box.width() * 0.2,
            box.top() + box.height() * 0.1,
            box.width() * 0.6,
            max(6.0, box.height() * 0.2),
        )
        painter.setPen(body_pen(frame, 1.0))
        painter.drawRect(screen)
        self._paint_current(painter, screen, frame)
        if rect.width() >= 48:
            area = QRectF(
                box.left() + 2,
                screen.bottom() + 2,
                box.width() - 4,
                box.bottom() - screen.bottom() - 4,
            )
            self._paint_glyphs(painter, area)
        cable = QPainterPath(QPointF(box.center().x(), box.bottom()))
        cable.cubicTo(
            QPointF(box.center().x(), rect.bottom()),
            QPointF(box.right(), rect.bottom() - 2),
            QPointF(box.right(), rect.bottom() - 8),
        )
        painter.strokePath(cable, body_pen(frame, 2.0))
        if self.flowing():
            x = box.center().x() - 5
            paint_flow(painter, QPointF(x, box.bottom() + 3), QPointF(x, rect.bottom()), phase)


@dataclass(frozen=True, slots=True)
class ConnectorView(ChargePointView):
    """One connector of a charger, drawn as its socket with the state glyph inside."""

    form = "connector"

    def kind(self) -> str:
        return f"{self.current} {self.form}"

    def paint_pictogram(self, painter: QPainter, rect: QRectF, phase: float) -> None:
        frame = self.frame()
        side = min(rect.width(), rect.height()) * 0.86
        socket = QRectF(rect.center().x() - side / 2, rect.top() + 1, side, side)
        path = QPainterPath()
        path.addEllipse(socket)
        fill_body(painter, path, frame)
        if rect.width() >= 48:
            glyph = float(int(min(side * 0.5, 24.0)))
            box = QRectF(0, 0, glyph, glyph)
            box.moveCenter(QPointF(int(socket.center().x()), int(socket.center().y())))
            connector = self.connectors[0]
            paint_connector_glyph(
                painter, box, connector.number, self.style(connector), live=self.live
            )
        else:  # the socket's pins
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(frame.outline)
            for dx in (-0.2, 0.2):
                pin = QPointF(socket.center().x() + side * dx, socket.center().y())
                painter.drawEllipse(pin, side * 0.09, side * 0.09)
        if self.flowing():
            x = socket.right() + 1
            paint_flow(painter, QPointF(x, socket.top()), QPointF(x, socket.bottom()), phase)
