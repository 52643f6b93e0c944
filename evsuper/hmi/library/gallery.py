"""The library's sample sheet: every object in every state at every size.

``python -m evsuper.hmi.library.gallery OUT.png`` renders it (no display needed).
``catalogue()`` is also what the tests paint.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter

from evsuper.alarms.model import ChargerAlarm, Priority
from evsuper.core.domain import CommState, ConnectorStatus
from evsuper.hmi.library.base import ObjectSize, ObjectView, paint_object, size_hint
from evsuper.hmi.library.charger import (
    BollardView,
    ChargePointView,
    ConnectorPoint,
    ConnectorView,
    Current,
    WallboxView,
)
from evsuper.hmi.library.equipment import (
    BatteryView,
    Breaker,
    DeviceView,
    FeederView,
    MeterView,
    PvView,
)
from evsuper.hmi.theme import Palette, font

Example = tuple[str, ObjectView]  # (state in words, the object in that state)

CRITICAL_UNACKED = ChargerAlarm(Priority.CRITICAL, unacknowledged=True, count=1)
MEDIUM_ACKED = ChargerAlarm(Priority.MEDIUM, unacknowledged=False, count=2)


def _charge_point_states(view: ChargePointView) -> list[Example]:
    """The first connector in each state (the others available), then the whole charger."""

    def first(
        status: ConnectorStatus, *, energy_kwh: float | None = None, error_code: str | None = None
    ) -> ChargePointView:
        c1 = replace(
            view.connectors[0], status=status, energy_kwh=energy_kwh, error_code=error_code
        )
        return replace(view, connectors=(c1, *view.connectors[1:]))

    c1 = view.connectors[0]
    power = replace(
        c1, status=ConnectorStatus.CHARGING, power_kw=c1.max_kw * 0.5, energy_kwh=12.4, soc=57.0
    )
    charging = replace(view, connectors=(power, *view.connectors[1:]))
    unavailable = tuple(replace(c, status=ConnectorStatus.UNAVAILABLE) for c in view.connectors)
    never = tuple(ConnectorPoint(c.number, max_kw=c.max_kw) for c in view.connectors)
    return [
        ("Available", view),
        ("Preparing", first(ConnectorStatus.PREPARING)),
        ("Charging", charging),
        ("Suspended EV", first(ConnectorStatus.SUSPENDED_EV, energy_kwh=8.1)),
        ("Suspended EVSE", first(ConnectorStatus.SUSPENDED_EVSE, energy_kwh=8.1)),
        ("Finishing", first(ConnectorStatus.FINISHING, energy_kwh=20.3)),
        ("Reserved", first(ConnectorStatus.RESERVED)),
        ("Unavailable", replace(view, status=ConnectorStatus.UNAVAILABLE, connectors=unavailable)),
        ("Faulted", first(ConnectorStatus.FAULTED, error_code="GroundFailure")),
        ("Offline", replace(charging, comm=CommState.OFFLINE)),
        ("Not seen", replace(view, comm=CommState.UNKNOWN, connectors=never)),
        ("Out of service", replace(view, out_of_service=True)),
        ("Alarm P1 unack.", replace(charging, alarm=CRITICAL_UNACKED)),
        ("Alarm P3 ack. (2)", replace(view, alarm=MEDIUM_ACKED)),
    ]


def _device_states(normal: list[Example]) -> list[Example]:
    """The device's normal states, then the states every device shares."""
    base = normal[0][1]
    assert isinstance(base, DeviceView)
    return [
        *normal,
        ("Offline", replace(base, comm=CommState.OFFLINE)),
        ("Not seen", replace(base, comm=CommState.UNKNOWN)),
        ("Faulted", replace(base, fault="Internal fault 0x21")),
        ("Out of service", replace(base, out_of_service=True)),
        ("Alarm P1 unack.", replace(base, alarm=CRITICAL_UNACKED)),
        ("Alarm P3 ack. (2)", replace(base, alarm=MEDIUM_ACKED)),
    ]


def catalogue() -> list[tuple[str, list[Example]]]:
    """Every object of the library with a sample of each of its states."""
    ac = tuple(ConnectorPoint(n, ConnectorStatus.AVAILABLE, 0.0, 22.0) for n in (1, 2))
    dc = tuple(ConnectorPoint(n, ConnectorStatus.AVAILABLE, 0.0, 150.0) for n in (1, 2, 3, 4))
    meter = MeterView("Grid meter", power_kw=182.0, energy_kwh=48_210.0, limit_kw=250.0)
    pv = PvView("PV roof", power_kw=38.5, rated_kw=60.0)
    battery = BatteryView("Battery 1", power_kw=45.0, soc=62.0, rated_kw=100.0)
    feeder = FeederView("Feeder A", power_kw=180.0, limit_kw=250.0)
    return [
        ("AC bollard", _charge_point_states(BollardView("CP-001", ac))),
        ("DC bollard", _charge_point_states(BollardView("DC-01", dc, Current.DC))),
        ("Wallbox", _charge_point_states(WallboxView("WB-07", ac[:1]))),
        ("Connector", _charge_point_states(ConnectorView("CP-002 · 1", ac[:1]))),
        (
            "Site meter",
            _device_states([("Import", meter), ("Export", replace(meter, power_kw=-35.0))]),
        ),
        ("PV inverter", _device_states([("Producing", pv), ("Idle", replace(pv, power_kw=0.0))])),
        (
            "Battery",
            _device_states(
                [
                    ("Charging", battery),
                    ("Discharging", replace(battery, power_kw=-30.0)),
                    ("Idle", replace(battery, power_kw=0.0)),
                ]
            ),
        ),
        (
            "Feeder / breaker",
            _device_states(
                [
                    ("Closed", feeder),
                    ("Over limit", replace(feeder, power_kw=282.0)),
                    ("Open", replace(feeder, breaker=Breaker.OPEN, power_kw=0.0)),
                    ("Tripped", replace(feeder, breaker=Breaker.TRIPPED, power_kw=0.0)),
                ]
            ),
        ),
    ]


MARGIN = 24
COLUMN = 248  # one state: its symbol above its tile
HEADER_COLUMNS = 5
PHASE = 0.4  # where the flow markers stand on the sheet


def render_sheet() -> QImage:
    """The whole sheet as one image."""
    objects = catalogue()
    states = max(len(samples) for _, samples in objects)
    header = size_hint(objects[0][1][0][1], ObjectSize.HEADER)
    width = MARGIN * 2 + max(states * COLUMN, HEADER_COLUMNS * (header.width() + 12))
    height = MARGIN + 40 + sum(_section_height(samples) for _, samples in objects)
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(Palette.BACKGROUND)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
    painter.setPen(Palette.TEXT)
    painter.setFont(font(16, bold=True))
    painter.drawText(
        QRectF(MARGIN, MARGIN, width, 30),
        Qt.AlignmentFlag.AlignLeft,
        "evsuper object library · every state at every size (symbol, tile, faceplate header)",
    )
    y = MARGIN + 40.0
    for title, samples in objects:
        y = _paint_section(painter, y, title, samples)
    painter.end()
    return image


def _section_height(samples: list[Example]) -> int:
    tile = max(size_hint(view, ObjectSize.TILE).height() for _, view in samples)
    header = size_hint(samples[0][1], ObjectSize.HEADER)
    header_rows = (len(samples) + HEADER_COLUMNS - 1) // HEADER_COLUMNS
    return 34 + 18 + 104 + tile + 24 + header_rows * (header.height() + 26) + 24


def _paint_section(painter: QPainter, top: float, title: str, samples: list[Example]) -> float:
    painter.setPen(Palette.TEXT)
    painter.setFont(font(13, bold=True))
    painter.drawText(QRectF(MARGIN, top, 600, 26), Qt.AlignmentFlag.AlignVCenter, title)
    painter.setPen(Palette.SEPARATOR)
    painter.drawLine(MARGIN, int(top + 29), MARGIN + len(samples) * COLUMN, int(top + 29))
    y = top + 34
    tile_height = max(size_hint(view, ObjectSize.TILE).height() for _, view in samples)
    for i, (state, view) in enumerate(samples):
        x = MARGIN + i * COLUMN
        _caption(painter, QRectF(x, y, COLUMN - 12, 16), state)
        symbol = size_hint(view, ObjectSize.SYMBOL)
        rect = QRectF(x + 2, y + 18, symbol.width(), symbol.height())
        paint_object(painter, rect, view, ObjectSize.SYMBOL, PHASE)
        tile = size_hint(view, ObjectSize.TILE)
        rect = QRectF(x, y + 18 + 104, tile.width(), tile.height())
        paint_object(painter, rect, view, ObjectSize.TILE, PHASE)
    y += 18 + 104 + tile_height + 24
    header = size_hint(samples[0][1], ObjectSize.HEADER)
    for i, (state, view) in enumerate(samples):
        row, col = divmod(i, HEADER_COLUMNS)
        x = MARGIN + col * (header.width() + 12)
        cell_y = y + row * (header.height() + 26)
        _caption(painter, QRectF(x, cell_y, header.width(), 16), state)
        rect = QRectF(x, cell_y + 18, header.width(), header.height())
        paint_object(painter, rect, view, ObjectSize.HEADER, PHASE)
    rows = (len(samples) + HEADER_COLUMNS - 1) // HEADER_COLUMNS
    return y + rows * (header.height() + 26) + 24


def _caption(painter: QPainter, rect: QRectF, text: str) -> None:
    painter.setPen(Palette.TEXT_SECONDARY)
    painter.setFont(font(8.5, bold=True))
    painter.drawText(rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m evsuper.hmi.library.gallery OUT.png", file=sys.stderr)
        return 2
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _app = QGuiApplication.instance() or QGuiApplication(argv[:1])
    if not render_sheet().save(argv[1]):
        print(f"could not write {argv[1]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
