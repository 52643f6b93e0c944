"""Site equipment: the site meter, a PV inverter, a battery and a feeder with its breaker.

They share the device frame (communication, maintenance, fault); each adds its values and
its pictogram. Power is signed where energy can flow both ways (meter: + import;
battery: + charging).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, replace
from enum import StrEnum

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPolygonF

from evsuper.alarms.model import ChargerAlarm
from evsuper.core.domain import CommState
from evsuper.core.tags import Quality
from evsuper.hmi import formatting
from evsuper.hmi.library.base import (
    CENTER,
    Frame,
    ObjectView,
    Row,
    body_pen,
    fill_body,
    frame_for,
    paint_flow,
)
from evsuper.hmi.quality import quality_look
from evsuper.hmi.theme import Palette, font

IDLE_KW = 0.05  # below this, no energy is said to flow
_SCALE = 1.25  # bars run to 125 % of a limit, so that an overload shows


@dataclass(frozen=True, slots=True)
class DeviceView(ObjectView):
    """What every device shows besides its values."""

    name: str
    comm: CommState = CommState.ONLINE
    fault: str | None = None  # the device's own fault, in words
    out_of_service: bool = False
    alarm: ChargerAlarm | None = None
    quality: Quality = Quality.GOOD  # of its values (the worst): not good → greyed, marked

    @property
    def normal(self) -> bool:
        """Online, in service and not faulted: its values and flows are shown."""
        return self.comm is CommState.ONLINE and not self.out_of_service and self.fault is None

    def frame(self) -> Frame:
        badge, color = self._badge()
        faulted = self.fault is not None
        if faulted:
            badge, color = "FAULTED", Palette.ALARM
        return frame_for(
            self.comm,
            out_of_service=self.out_of_service,
            faulted=faulted,
            badge=badge,
            badge_color=color,
        )

    def _badge(self) -> tuple[str, QColor]:
        """An abnormal word of the device itself while online (tripped, over limit)."""
        return "", Palette.TEXT_SECONDARY

    def code(self) -> str:
        if self.out_of_service:
            return "OOS"
        if self.comm is not CommState.ONLINE or self.fault is not None:
            return self.frame().badge
        return self._code()

    def words(self) -> str:
        frame = self.frame()
        parts = [frame.badge.capitalize()] if frame.badge else []
        if self.fault is not None:
            parts.append(self.fault)
        if self.normal or not frame.badge:
            parts.append(self._words())
            if self.quality is not Quality.GOOD:
                parts.append(f"values {quality_look(self.quality).label.lower()}")
        return ", ".join(parts)

    def flowing(self) -> bool:
        return self.normal and self.quality is Quality.GOOD and self._flowing()

    def rows(self) -> list[Row]:
        """The device's values, under its fault when it has one."""
        fault = [] if self.fault is None else [Row(self.fault, color=Palette.ALARM, bold=True)]
        values = self._rows()
        if self.quality is not Quality.GOOD:
            values = [replace(row, quality=self.quality, flowing=False) for row in values]
        return fault + values

    @abstractmethod
    def _code(self) -> str:
        """The code while normal."""

    @abstractmethod
    def _words(self) -> str:
        """The values in words."""

    @abstractmethod
    def _flowing(self) -> bool:
        """Energy flows (when normal)."""

    @abstractmethod
    def _rows(self) -> list[Row]:
        """The value rows."""


def _fraction(value: float | None, full: float | None) -> float | None:
    if value is None or not full:
        return None
    return abs(value) / full


@dataclass(frozen=True, slots=True)
class MeterView(DeviceView):
    """The site's grid meter: + import, - export, against the site's limit."""

    power_kw: float | None = None
    energy_kwh: float | None = None  # imported, as the meter counts it
    limit_kw: float | None = None

    def kind(self) -> str:
        return "site meter"

    def _direction(self) -> str:
        power = self.power_kw or 0.0
        return "Import" if power > IDLE_KW else "Export" if power < -IDLE_KW else "No flow"

    def _code(self) -> str:
        short = {"Import": "IMP", "Export": "EXP", "No flow": "NO FLOW"}[self._direction()]
        return f"{short} {abs(self.power_kw or 0.0):.0f} kW"

    def _words(self) -> str:
        return f"{self._direction().lower()} {formatting.kw(abs(self.power_kw or 0.0))}"

    def _flowing(self) -> bool:
        return abs(self.power_kw or 0.0) > IDLE_KW

    def _rows(self) -> list[Row]:
        full = None if self.limit_kw is None else self.limit_kw * _SCALE
        return [
            Row(
                self._direction(),
                formatting.kw(None if self.power_kw is None else abs(self.power_kw)),
                detail="" if self.limit_kw is None else f"limit {formatting.kw(self.limit_kw)}",
                fraction=_fraction(self.power_kw, full),
                limit=None if full is None else 1 / _SCALE,
                flowing=self.flowing(),
            ),
            Row("Energy in", formatting.kwh(self.energy_kwh)),
        ]

    def paint_pictogram(self, painter: QPainter, rect: QRectF, phase: float) -> None:
        frame = self.frame()
        side = min(rect.width(), rect.height()) * 0.8
        box = QRectF(rect.center().x() - side / 2, rect.top() + 1, side, side)
        path = QPainterPath()
        path.addRoundedRect(box, 3, 3)
        fill_body(painter, path, frame)
        window = box.adjusted(side * 0.15, side * 0.18, -side * 0.15, -side * 0.5)
        painter.setPen(body_pen(frame, 1.0))
        painter.drawRect(window)
        painter.setFont(font(max(5.5, side * 0.14), bold=True))
        painter.setPen(frame.text if frame.live else frame.outline)
        painter.drawText(window, CENTER, "kWh")
        # the grid connection: a line through the meter, the flow runs along it
        x = box.center().x()
        painter.setPen(body_pen(frame, 2.0))
        painter.drawLine(QPointF(x, box.bottom()), QPointF(x, rect.bottom()))
        if self.flowing():
            down = (self.power_kw or 0.0) > 0  # import: into the site, downwards
            top, bottom = QPointF(x + 7, box.bottom() - 2), QPointF(x + 7, rect.bottom())
            paint_flow(painter, top if down else bottom, bottom if down else top, phase)


@dataclass(frozen=True, slots=True)
class PvView(DeviceView):
    """A PV inverter with its array, against its rated power."""

    power_kw: float | None = None
    rated_kw: float | None = None

    def kind(self) -> str:
        return "PV inverter"

    def _code(self) -> str:
        return f"PV {self.power_kw or 0.0:.0f} kW" if self._flowing() else "PV IDLE"

    def _words(self) -> str:
        return f"producing {formatting.kw(self.power_kw)}" if self._flowing() else "idle"

    def _flowing(self) -> bool:
        return (self.power_kw or 0.0) > IDLE_KW

    def _rows(self) -> list[Row]:
        return [
            Row(
                "Producing" if self._flowing() else "Idle",
                formatting.kw(self.power_kw),
                detail="" if self.rated_kw is None else f"rated {formatting.kw(self.rated_kw)}",
                fraction=_fraction(self.power_kw, self.rated_kw),
                flowing=self.flowing(),
            )
        ]

    def paint_pictogram(self, painter: QPainter, rect: QRectF, phase: float) -> None:
        frame = self.frame()
        w, h = rect.width(), rect.height()
        top, bottom = rect.top() + h * 0.06, rect.top() + h * 0.52
        left, right = rect.left() + w * 0.08, rect.right() - w * 0.08
        skew = w * 0.14
        panel = QPolygonF(
            [
                QPointF(left + skew, top),
                QPointF(right, top),
                QPointF(right - skew, bottom),
                QPointF(left, bottom),
            ]
        )
        path = QPainterPath()
        path.addPolygon(panel)
        path.closeSubpath()
        fill_body(painter, path, frame)
        painter.setPen(body_pen(frame, 0.8))
        for i in (1, 2):  # cell grid: two columns lines, one row line
            t = i / 3
            painter.drawLine(
                QPointF(left + skew + (right - left - skew) * t, top),
                QPointF(left + (right - skew - left) * t, bottom),
            )
        mid = (top + bottom) / 2
        painter.drawLine(QPointF(left + skew / 2, mid), QPointF(right - skew / 2, mid))
        x = rect.center().x()
        painter.setPen(body_pen(frame, 2.0))
        painter.drawLine(QPointF(x, bottom), QPointF(x, rect.bottom()))
        if self.flowing():
            paint_flow(painter, QPointF(x + 7, bottom + 2), QPointF(x + 7, rect.bottom()), phase)


@dataclass(frozen=True, slots=True)
class BatteryView(DeviceView):
    """A stationary battery: state of charge, + charging / - discharging power."""

    power_kw: float | None = None
    soc: float | None = None
    rated_kw: float | None = None

    def kind(self) -> str:
        return "battery storage"

    def _mode(self) -> str:
        power = self.power_kw or 0.0
        return "Charging" if power > IDLE_KW else "Discharging" if power < -IDLE_KW else "Idle"

    def _code(self) -> str:
        short = {"Charging": "CHG", "Discharging": "DIS", "Idle": "IDLE"}[self._mode()]
        return f"{short} {formatting.percent(self.soc)}"

    def _words(self) -> str:
        power = formatting.kw(abs(self.power_kw or 0.0))
        mode = self._mode().lower()
        text = mode if mode == "idle" else f"{mode} {power}"
        return f"{text}, state of charge {formatting.percent(self.soc)}"

    def _flowing(self) -> bool:
        return abs(self.power_kw or 0.0) > IDLE_KW

    def _rows(self) -> list[Row]:
        return [
            Row(
                self._mode(),
                formatting.kw(None if self.power_kw is None else abs(self.power_kw)),
                fraction=_fraction(self.power_kw, self.rated_kw),
                flowing=self.flowing(),
            ),
            Row(
                "State of charge",
                formatting.percent(self.soc),
                fraction=None if self.soc is None else self.soc / 100,
            ),
        ]

    def paint_pictogram(self, painter: QPainter, rect: QRectF, phase: float) -> None:
        frame = self.frame()
        width = min(rect.width() * 0.56, rect.height() * 0.5)
        body = QRectF(
            rect.center().x() - width / 2,
            rect.top() + rect.height() * 0.1,
            width,
            rect.height() * 0.86,
        )
        cap = QRectF(
            body.center().x() - width * 0.2, rect.top() + 1, width * 0.4, body.top() - rect.top()
        )
        painter.fillRect(cap, frame.outline)
        path = QPainterPath()
        path.addRoundedRect(body, 2, 2)
        fill_body(painter, path, frame)
        if self.soc is not None and frame.live:
            level = body.adjusted(3, 3, -3, -3)
            level.setTop(level.bottom() - level.height() * min(max(self.soc, 0.0), 100.0) / 100)
            painter.fillRect(level, QBrush(Palette.SUSPENDED_FILL))
            painter.setPen(body_pen(frame, 1.0))
            for i in (1, 2, 3):  # quarter marks
                y = body.bottom() - 3 - (body.height() - 6) * i / 4
                painter.drawLine(QPointF(body.left(), y), QPointF(body.left() + 4, y))
        if self.flowing():
            x = body.right() + 5
            charging = (self.power_kw or 0.0) > 0
            start, end = QPointF(x, body.top()), QPointF(x, body.bottom())
            paint_flow(painter, start if charging else end, end if charging else start, phase)


class Breaker(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    TRIPPED = "tripped"


@dataclass(frozen=True, slots=True)
class FeederView(DeviceView):
    """A feeder: its breaker and its load against its limit (the hatched part is over it)."""

    power_kw: float | None = None
    limit_kw: float | None = None
    breaker: Breaker = Breaker.CLOSED

    @property
    def over_limit(self) -> bool:
        return self.limit_kw is not None and (self.power_kw or 0.0) > self.limit_kw

    def kind(self) -> str:
        return "feeder"

    def _badge(self) -> tuple[str, QColor]:
        if self.breaker is Breaker.TRIPPED:
            return "TRIPPED", Palette.TEXT
        if self.over_limit:
            return "OVER LIMIT", Palette.TEXT
        return "", Palette.TEXT_SECONDARY

    def _load(self) -> str:
        load = f"{self.power_kw or 0.0:.0f}"
        return load if self.limit_kw is None else f"{load}/{self.limit_kw:.0f} kW"

    def _code(self) -> str:
        if self.breaker is not Breaker.CLOSED:
            return self.breaker.upper()
        return f"OVER {self.power_kw or 0.0:.0f} kW" if self.over_limit else self._load()

    def _words(self) -> str:
        limit = "" if self.limit_kw is None else f" of {formatting.kw(self.limit_kw)}"
        return f"breaker {self.breaker}, load {formatting.kw(self.power_kw)}{limit}"

    def _flowing(self) -> bool:
        return self.breaker is Breaker.CLOSED and (self.power_kw or 0.0) > IDLE_KW

    def _rows(self) -> list[Row]:
        full = None if self.limit_kw is None else self.limit_kw * _SCALE
        return [
            Row(
                f"Breaker {self.breaker}",
                color=Palette.TEXT,
                bold=self.breaker is Breaker.TRIPPED,
            ),
            Row(
                "Over limit" if self.over_limit else "Load",
                formatting.kw(self.power_kw),
                detail="" if self.limit_kw is None else f"limit {formatting.kw(self.limit_kw)}",
                fraction=_fraction(self.power_kw, full),
                limit=None if full is None else 1 / _SCALE,
                flowing=self.flowing(),
                bold=self.over_limit,
            ),
        ]

    def paint_pictogram(self, painter: QPainter, rect: QRectF, phase: float) -> None:
        frame = self.frame()
        x = rect.center().x()
        side = min(rect.width() * 0.42, rect.height() * 0.32)
        box = QRectF(x - side / 2, rect.center().y() - side / 2, side, side)
        pen = body_pen(frame, 2.0)
        painter.setPen(pen)
        painter.drawLine(QPointF(x, rect.top() + 1), QPointF(x, box.top()))
        painter.drawLine(QPointF(x, box.bottom()), QPointF(x, rect.bottom() - 1))
        path = QPainterPath()
        path.addRect(box)
        fill_body(painter, path, frame, width=2.0)
        if self.breaker is Breaker.CLOSED:
            if frame.live:
                painter.fillRect(box.adjusted(3, 3, -3, -3), frame.outline)
        else:  # open: the blade swung out; tripped: and the box cross-hatched
            if self.breaker is Breaker.TRIPPED:
                painter.fillRect(box, QBrush(Palette.TEXT, Qt.BrushStyle.DiagCrossPattern))
            painter.setPen(body_pen(frame, 2.0))
            painter.drawLine(QPointF(x, box.bottom()), QPointF(x + side * 0.9, box.top()))
        if self.flowing():
            fx = x + side / 2 + 6
            paint_flow(painter, QPointF(fx, rect.top() + 2), QPointF(fx, rect.bottom() - 2), phase)
