"""Faceplates of the site's devices: site meter, PV inverter, battery, feeder.

A device is a ground-plan object (``layout.toml``, ``kind`` meter | pv | battery |
feeder) reading the tags under its ``prefix``, named as the Modbus profiles and OPC UA
sources name their points (``DEMO/meter/power_kw``, ``DEMO/meter/voltage_l1_v`` ...).
``DeviceState`` keeps a device's last samples and makes the library's view from them (the
plan symbol paints it); ``DeviceFaceplate`` shows the same device as the charger
faceplate shows a bollard: the library object, its values with units and quality, a
mini-trend, its active alarms and the commands the user may send (stop / resume the
communication with its driver device).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from evsuper.alarms.model import AlarmRecord, ChargerAlarm
from evsuper.core.domain import CommState
from evsuper.core.tags import Quality, Sample, TagPath, driver_state_tag
from evsuper.core.timeutil import utcnow
from evsuper.engine.commands import CommandResult, SetDeviceEnabled
from evsuper.hmi import formatting
from evsuper.hmi.bridge import CommandSender
from evsuper.hmi.library.base import ObjectSize
from evsuper.hmi.library.equipment import (
    BatteryView,
    Breaker,
    DeviceView,
    FeederView,
    MeterView,
    PvView,
)
from evsuper.hmi.library.widget import LibraryObject
from evsuper.hmi.models.alarms import AlarmListModel
from evsuper.hmi.quality import show_value, worst
from evsuper.hmi.theme import Emphasis, Palette, role_label, set_emphasis
from evsuper.hmi.widgets.charger_header import ChargerHeader
from evsuper.hmi.widgets.command_result import CommandResultLine, SentCommand
from evsuper.hmi.widgets.permission_gate import PermissionGates
from evsuper.hmi.widgets.plots import calm_pen, calm_plot
from evsuper.project.layout import ObjectKind, PlacedObject
from evsuper.users.permissions import NOBODY, Actor, Permission

TREND_S = 15 * 60  # the mini-trend: the last 15 minutes seen
TREND_POINTS = 2000  # at most this many samples kept per device
_LINK_COMM = {"connected": CommState.ONLINE, "disabled": CommState.OFFLINE}


def _number(unit: str, decimals: int) -> Callable[[Any], str]:
    def text(value: Any) -> str:
        if value is None or isinstance(value, bool) or not isinstance(value, int | float):
            return formatting.NO_VALUE
        return f"{value:.{decimals}f} {unit}"

    return text


_FORMATS: dict[str, Callable[[Any], str]] = {
    "kW": lambda v: formatting.kw(_float(v)),
    "kWh": lambda v: formatting.kwh(_float(v)),
    "%": lambda v: formatting.percent(_float(v)),
    "V": _number("V", 1),
    "A": _number("A", 1),
    "Hz": _number("Hz", 2),
    "": formatting.text,
}


@dataclass(frozen=True, slots=True)
class Point:
    """One value of a device: ``<prefix>/<name>`` shown as ``caption`` in ``unit``."""

    name: str
    caption: str
    unit: str = ""

    def text(self, value: Any) -> str:
        return _FORMATS[self.unit](value)


_PHASES = ("l1", "l2", "l3")
POINTS: dict[ObjectKind, tuple[Point, ...]] = {
    ObjectKind.METER: (
        Point("power_kw", "Power (+ import)", "kW"),
        Point("energy_import_kwh", "Energy imported", "kWh"),
        Point("energy_export_kwh", "Energy exported", "kWh"),
        *(Point(f"voltage_{p}_v", f"Voltage {p.upper()}", "V") for p in _PHASES),
        *(Point(f"current_{p}_a", f"Current {p.upper()}", "A") for p in _PHASES),
        *(Point(f"power_{p}_kw", f"Power {p.upper()}", "kW") for p in _PHASES),
        Point("frequency_hz", "Frequency", "Hz"),
    ),
    ObjectKind.PV: (
        Point("power_kw", "Power", "kW"),
        Point("energy_kwh", "Energy produced", "kWh"),
        Point("ac_current_a", "AC current", "A"),
        Point("voltage_an_v", "Voltage", "V"),
        Point("frequency_hz", "Frequency", "Hz"),
        Point("status", "Inverter status"),
    ),
    ObjectKind.BATTERY: (
        Point("soc", "State of charge", "%"),
        Point("power_kw", "Power (+ charging)", "kW"),
        Point("energy_kwh", "Energy stored", "kWh"),
    ),
    ObjectKind.FEEDER: (
        Point("power_kw", "Load", "kW"),
        Point("limit_kw", "Limit", "kW"),
        Point("breaker", "Breaker"),
        *(Point(f"current_{p}_a", f"Current {p.upper()}", "A") for p in _PHASES),
    ),
}
TREND_POINT = {kind: "soc" if kind is ObjectKind.BATTERY else "power_kw" for kind in POINTS}


def _float(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


class DeviceState:
    """The last samples of one placed device, and its library view made from them."""

    def __init__(self, placed: PlacedObject) -> None:
        if not placed.is_device:
            raise ValueError(f"{placed.id} is a charger, not a device")
        self.placed = placed
        self.points = POINTS[placed.kind]
        prefix = placed.prefix.strip("/")
        self._paths: dict[TagPath, str] = {f"{prefix}/{p.name}": p.name for p in self.points}
        self._link = driver_state_tag(placed.device) if placed.device else None
        self.samples: dict[str, Sample] = {}
        self.link: str | None = None  # the driver device's LinkState, when it has one
        self.alarms: list[AlarmRecord] = []  # its alarms active or unacknowledged
        self.seen: dict[TagPath, Sample] = {}  # the last sample of each of its tags

    def tags(self) -> list[TagPath]:
        """Every tag this device reads."""
        return [*self._paths, *([self._link] if self._link else [])]

    def apply(self, changes: Mapping[TagPath, Sample]) -> bool:
        """Take this device's tags out of a batch; True when one of them changed."""
        changed = False
        for path, name in self._paths.items():
            sample = changes.get(path)
            if sample is not None:
                self.samples[name] = self.seen[path] = sample
                changed = True
        if self._link is not None and (link := changes.get(self._link)) is not None:
            self.link = str(link.value)
            self.seen[self._link] = link
            changed = True
        return changed

    def value(self, name: str) -> Any:
        sample = self.samples.get(name)
        return None if sample is None else sample.value

    def quality(self) -> Quality:
        return worst(s.quality for s in self.samples.values())

    def comm(self) -> CommState:
        """From the driver device's link state; without one, from the values' quality."""
        if self.link is not None:
            return _LINK_COMM.get(self.link, CommState.OFFLINE)
        if not self.samples:
            return CommState.UNKNOWN
        lost = self.quality() in (Quality.COMM_FAILURE, Quality.NOT_CONNECTED)
        return CommState.OFFLINE if lost else CommState.ONLINE

    def set_alarms(self, records: list[AlarmRecord]) -> bool:
        """Keep the device's own standing alarms out of the alarm list; True if changed."""
        mine = [r for r in records if r.state.in_list and self.owns(r)]
        changed = mine != self.alarms
        self.alarms = mine
        return changed

    def alarm(self) -> ChargerAlarm | None:
        """The most urgent standing alarm, as the library's alarm mark shows it."""
        if not self.alarms:
            return None
        top = min(self.alarms, key=lambda r: (not r.state.unacknowledged, r.priority))
        unacknowledged = any(r.state.unacknowledged for r in self.alarms)
        return ChargerAlarm(top.priority, unacknowledged, len(self.alarms))

    def view(self) -> DeviceView:
        placed = self.placed
        common: dict[str, Any] = {
            "name": placed.label or placed.id,
            "comm": self.comm(),
            "out_of_service": self.link == "disabled",
            "quality": self.quality(),
            "alarm": self.alarm(),
        }
        power = _float(self.value("power_kw"))
        rating = placed.rating_kw
        if placed.kind is ObjectKind.METER:
            energy = _float(self.value("energy_import_kwh"))
            return MeterView(**common, power_kw=power, energy_kwh=energy, limit_kw=rating)
        if placed.kind is ObjectKind.PV:
            return PvView(**common, power_kw=power, rated_kw=rating)
        if placed.kind is ObjectKind.BATTERY:
            soc = _float(self.value("soc"))
            return BatteryView(**common, power_kw=power, soc=soc, rated_kw=rating)
        limit = _float(self.value("limit_kw"))
        breaker = self.value("breaker")
        return FeederView(
            **common,
            power_kw=power,
            limit_kw=limit if limit is not None else rating,
            breaker=Breaker(breaker) if breaker in set(Breaker) else Breaker.CLOSED,
        )

    def owns(self, record: AlarmRecord) -> bool:
        """Whether an alarm is this device's: raised on one of its tags or its device."""
        prefix = self.placed.prefix.strip("/")
        source = record.source
        mine = source == prefix or source.startswith(prefix + "/")
        return mine or (bool(self.placed.device) and source == self.placed.device)


class DeviceFaceplate(QWidget):
    """One device's faceplate; feed it tag batches with ``apply`` and alarm changes with
    ``show_alarms`` (the main window does both)."""

    def __init__(
        self,
        placed: PlacedObject,
        send: CommandSender,
        alarms: AlarmListModel | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("deviceFaceplate")
        self.setWindowTitle(f"{placed.label or placed.id} — {placed.kind.value}")
        self.state = DeviceState(placed)
        self._send = send
        self._alarms = alarms
        self._actor = NOBODY
        self._sent: SentCommand | None = None
        self._trend_name = TREND_POINT[placed.kind]
        self._trend: deque[tuple[float, float]] = deque(maxlen=TREND_POINTS)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 12)
        layout.setSpacing(6)
        self.header = ChargerHeader(placed.label or placed.id)
        layout.addWidget(self.header)
        self.symbol = LibraryObject(self.state.view(), ObjectSize.HEADER)
        layout.addWidget(self.symbol)
        self.result = CommandResultLine("No command sent yet.")
        layout.addWidget(self.result)

        layout.addWidget(role_label("section", "Values"))
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        self.values: dict[str, QLabel] = {}
        for row, point in enumerate(self.state.points):
            self.values[point.name] = role_label("value")
            grid.addWidget(role_label("caption", point.caption), row, 0)
            grid.addWidget(self.values[point.name], row, 1)
        grid.setColumnStretch(1, 1)
        layout.addLayout(grid)

        caption = next(p.caption for p in self.state.points if p.name == self._trend_name)
        layout.addWidget(role_label("section", f"{caption}, last {TREND_S // 60} minutes"))
        self.plot = calm_plot("deviceTrend", min_height=120, time_axis=True, x_grid=False)
        self.curve = self.plot.plot(pen=calm_pen(Palette.TEXT, 1.5))
        layout.addWidget(self.plot)

        layout.addWidget(role_label("section", "Active alarms"))
        self.alarm_lines = role_label("value", "None")
        self.alarm_lines.setWordWrap(True)
        layout.addWidget(self.alarm_lines)

        self.stop = QPushButton("Stop communication")
        self.stop.setObjectName("deviceStop")
        self.resume = QPushButton("Resume communication")
        self.resume.setObjectName("deviceResume")
        self.stop.clicked.connect(lambda: self._set_enabled(False))
        self.resume.clicked.connect(lambda: self._set_enabled(True))
        commands = QHBoxLayout()
        commands.addWidget(self.stop)
        commands.addWidget(self.resume)
        self._gates = PermissionGates(
            {self.stop: Permission.EDIT_PROJECT, self.resume: Permission.EDIT_PROJECT}
        )
        if placed.device:
            layout.addWidget(role_label("section", f"Driver device {placed.device}"))
            layout.addLayout(commands)
        else:
            self.stop.hide()
            self.resume.hide()
        layout.addStretch(1)
        if alarms is not None:
            alarms.changed.connect(self.show_alarms)
        self._refresh()
        self.show_alarms()

    @property
    def object_id(self) -> str:
        return self.state.placed.id

    def set_actor(self, actor: Actor) -> None:
        self._actor = actor
        self._refresh()

    def apply(self, changes: Mapping[TagPath, Sample]) -> None:
        """Slot for the bridge's batches: this device's values, trend and link state."""
        if not self.state.apply(changes):
            return
        trend = self.state.samples.get(self._trend_name)
        if trend is not None and (value := _float(trend.value)) is not None:
            stamp = trend.ts.timestamp()
            if not self._trend or stamp > self._trend[-1][0]:
                self._trend.append((stamp, value))
        self._refresh()

    def trend_points(self) -> list[tuple[float, float]]:
        """The mini-trend's (epoch seconds, value) points within its window."""
        start = time.time() - TREND_S
        return [p for p in self._trend if p[0] >= start]

    def show_alarms(self) -> None:
        """The device's alarms in the alarm list (active or waiting for an acknowledgement)."""
        self.state.set_alarms(self._alarms.records if self._alarms is not None else [])
        mine = self.state.alarms
        lines = [
            f"P{r.priority.value} {r.message}"
            + (" (unacknowledged)" if r.state.unacknowledged else "")
            for r in mine
        ]
        self.alarm_lines.setText("\n".join(lines) or "None")
        unacknowledged = any(r.state.unacknowledged for r in mine)
        emphasis = Emphasis.NOTABLE if mine else Emphasis.NORMAL
        set_emphasis(self.alarm_lines, Emphasis.ALARM if unacknowledged else emphasis)
        self.symbol.set_view(self.state.view())

    def _refresh(self) -> None:
        state = self.state
        comm = state.comm()
        self.header.set_state(comm, state.view().words())
        self.symbol.set_view(state.view())
        for point in state.points:
            sample = state.samples.get(point.name)
            label = self.values[point.name]
            if sample is None and point.name == "limit_kw" and state.placed.rating_kw:
                label.setText(f"{point.text(state.placed.rating_kw)} (fixed)")
            elif sample is None:
                show_value(label, formatting.NO_VALUE, Quality.GOOD)
            else:
                show_value(label, point.text(sample.value), sample.quality, since=sample.ts)
        points = self.trend_points()
        self.curve.setData([p[0] for p in points], [p[1] for p in points])
        now = time.time()
        self.plot.setXRange(now - TREND_S, now, padding=0)
        disabled = state.link == "disabled"
        self._gates.show(self._actor, {self.stop: not disabled, self.resume: disabled})
        self.result.show_sent(self._sent)

    def _set_enabled(self, enabled: bool) -> None:
        device = self.state.placed.device
        sent = SentCommand(
            f"{'Resume' if enabled else 'Stop'} communication with {device}", utcnow()
        )
        self._sent = sent

        def on_result(result: CommandResult) -> None:
            if self._sent is sent:
                self._sent = sent.answered(result)
                self._refresh()

        self._send(SetDeviceEnabled(device=device, enabled=enabled), on_result)
        self._refresh()
