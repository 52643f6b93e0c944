"""``sim://`` devices: tags held in memory, constant or moving, written like setpoints.

For tests and demos ("a DSO limit signal", "a building load"). One device::

    [[devices]]
    name = "dso"
    address = "sim://dso"          # anything after sim:// is free text
    prefix = "DSO"                 # tags are <prefix>/<name>; default: the device name
    period_s = 1.0                 # how often moving tags are recomputed
    seed = 1                       # random walks repeat with a seed

    [[devices.tags]]
    name = "limit_kw"
    value = 100.0                  # initial value: number, bool or string
    waveform = "sine"              # constant (default) | sine | ramp | random_walk
    amplitude = 20.0               # sine: value ± amplitude over period_s
    period_s = 60.0
    unit = "kW"

A ramp adds ``rate`` per second and wraps from ``max`` back to ``min``; a random walk
moves by at most ``step`` per update within ``min``..``max``. A tag is writable unless
``writable = false``: a write sets its value (the centre of a sine, the position of a ramp
or a walk), published at once.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from evsuper.core.tags import Quality, Sample, TagPath
from evsuper.core.timeutil import utcnow
from evsuper.drivers.base import (
    DeviceSettings,
    DeviceStatus,
    DriverContext,
    LinkState,
    Publish,
    WriteResult,
    WriteStatus,
    option_error,
)


class Waveform(StrEnum):
    CONSTANT = "constant"
    SINE = "sine"
    RAMP = "ramp"
    RANDOM_WALK = "random_walk"


_DEVICE_OPTIONS = {"prefix", "period_s", "seed", "tags"}
_TAG_KEYS = {
    "name",
    "value",
    "waveform",
    "amplitude",
    "period_s",
    "rate",
    "step",
    "min",
    "max",
    "writable",
    "unit",
}


@dataclass(slots=True)
class SimTag:
    """One memory tag; ``value`` is its base (constant, sine centre, ramp or walk position)."""

    path: TagPath
    value: Any
    waveform: Waveform = Waveform.CONSTANT
    amplitude: float = 0.0
    period_s: float = 60.0
    rate: float = 0.0
    step: float = 0.0
    low: float = -math.inf
    high: float = math.inf
    writable: bool = True
    unit: str = ""
    current: Any = field(default=None)

    def __post_init__(self) -> None:
        self.current = self.value

    def advance(self, t: float, dt: float, rng: random.Random) -> Any:
        """The value at ``t`` seconds since start, ``dt`` after the previous one."""
        if self.waveform is Waveform.SINE:
            self.current = self.value + self.amplitude * math.sin(2 * math.pi * t / self.period_s)
        elif self.waveform is Waveform.RAMP:
            moved = self.current + self.rate * dt
            if math.isfinite(self.low) and math.isfinite(self.high) and moved > self.high:
                moved = self.low + (moved - self.high)
            self.current = moved
        elif self.waveform is Waveform.RANDOM_WALK:
            self.current = min(
                self.high, max(self.low, self.current + rng.uniform(-1, 1) * self.step)
            )
        return self.current

    def accepts(self, value: Any) -> str:
        """Why ``value`` cannot be written here ("" when it can)."""
        kind = type(self.value)
        if kind is bool or isinstance(value, bool):
            return "" if kind is bool and isinstance(value, bool) else f"expected {kind.__name__}"
        if isinstance(self.value, int | float):
            if not isinstance(value, int | float) or not math.isfinite(value):
                return "expected a number"
            return "" if self.low <= value <= self.high else f"outside {self.low}..{self.high}"
        return "" if isinstance(value, kind) else f"expected {kind.__name__}"

    def set(self, value: Any) -> None:
        self.value = self.current = value


@dataclass(slots=True)
class SimDevice:
    name: str
    period_s: float
    tags: dict[TagPath, SimTag]
    rng: random.Random
    status: DeviceStatus = field(default_factory=DeviceStatus)
    task: asyncio.Task[None] | None = None

    @property
    def moving(self) -> bool:
        return any(t.waveform is not Waveform.CONSTANT for t in self.tags.values())


class SimDriver:
    """Every ``sim://`` device; moving tags are recomputed every ``period_s``."""

    def __init__(
        self, devices: Sequence[SimDevice], publish: Publish, disabled: Sequence[str]
    ) -> None:
        self.devices = {d.name: d for d in devices}
        self._publish = publish
        self._owner = {path: d for d in devices for path in d.tags}
        self._disabled = set(disabled)
        self._running = False

    async def start(self) -> None:
        self._running = True
        for name, device in self.devices.items():
            if name in self._disabled:
                device.status.state = LinkState.DISABLED
                self._publish_all(device, Quality.NOT_CONNECTED)
            else:
                self._run(device)

    async def stop(self) -> None:
        self._running = False
        for device in self.devices.values():
            await self._halt(device)
            device.status.state = LinkState.STOPPED

    def tags(self) -> Sequence[TagPath]:
        return list(self._owner)

    def owns(self, tag: TagPath) -> bool:
        return tag in self._owner

    def writable(self, tag: TagPath) -> bool:
        device = self._owner.get(tag)
        return device is not None and device.tags[tag].writable

    async def write(self, tag: TagPath, value: Any) -> WriteResult:
        device = self._owner.get(tag)
        if device is None:
            return WriteResult(tag, WriteStatus.UNKNOWN_TAG, value, detail="no sim device owns it")
        sim_tag = device.tags[tag]
        if not sim_tag.writable:
            return WriteResult(tag, WriteStatus.NOT_WRITABLE, value, detail="read-only tag")
        if device.status.state is not LinkState.CONNECTED:
            return WriteResult(tag, WriteStatus.COMM_FAILURE, value, detail="device not running")
        reason = sim_tag.accepts(value)
        if reason:
            return WriteResult(tag, WriteStatus.INVALID_VALUE, value, detail=reason)
        sim_tag.set(value)
        device.status.requests += 1
        self._publish(tag, Sample(value))
        return WriteResult(tag, WriteStatus.OK, value, value)

    def status(self) -> dict[str, DeviceStatus]:
        return {name: device.status for name, device in self.devices.items()}

    async def set_enabled(self, device: str, enabled: bool) -> None:
        sim = self.devices[device]
        if enabled:
            self._disabled.discard(device)
            if self._running and sim.status.state is not LinkState.CONNECTED:
                self._run(sim)
            return
        self._disabled.add(device)
        await self._halt(sim)
        sim.status.state = LinkState.DISABLED

    def _run(self, device: SimDevice) -> None:
        device.status.state = LinkState.CONNECTED
        device.status.connected_since = utcnow()
        device.status.connects += 1
        self._publish_all(device, Quality.GOOD)
        if device.moving:
            device.task = asyncio.create_task(self._tick(device), name=f"sim:{device.name}")

    async def _halt(self, device: SimDevice) -> None:
        task, device.task = device.task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if device.status.state is LinkState.CONNECTED:
            self._publish_all(device, Quality.NOT_CONNECTED)
        device.status.connected_since = None

    async def _tick(self, device: SimDevice) -> None:
        loop = asyncio.get_running_loop()
        start = last = loop.time()
        while True:
            await asyncio.sleep(device.period_s)
            now = loop.time()
            ts = utcnow()
            for path, tag in device.tags.items():
                if tag.waveform is not Waveform.CONSTANT:
                    self._publish(
                        path, Sample(tag.advance(now - start, now - last, device.rng), ts)
                    )
            device.status.requests += 1
            last = now

    def _publish_all(self, device: SimDevice, quality: Quality) -> None:
        ts = utcnow()
        for path, tag in device.tags.items():
            self._publish(path, Sample(tag.current, ts, quality))


def create_driver(devices: Sequence[DeviceSettings], context: DriverContext) -> SimDriver:
    """The ``sim://`` driver of ``devices``; ``DriverConfigError`` names device and option."""
    built = [_device(settings) for settings in devices]
    seen: dict[TagPath, str] = {}
    for settings, device in zip(devices, built, strict=True):
        for path in device.tags:
            other = seen.setdefault(path, device.name)
            if other != device.name:
                raise option_error(settings, "prefix", f"tag {path} is also {other!r}'s")
    return SimDriver(built, context.publish, [s.name for s in devices if not s.enabled])


def _device(settings: DeviceSettings) -> SimDevice:
    options = settings.options
    for key in options:
        if key not in _DEVICE_OPTIONS:
            known = ", ".join(sorted(_DEVICE_OPTIONS))
            raise option_error(settings, key, f"unknown option (known: {known})")
    prefix = options.get("prefix", settings.name)
    if not isinstance(prefix, str) or not prefix.strip("/"):
        raise option_error(settings, "prefix", "must be a tag path such as DSO")
    period_s = _number(settings, "period_s", options.get("period_s", 1.0), positive=True)
    seed = options.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise option_error(settings, "seed", "must be an integer")
    raw = options.get("tags", [])
    if not isinstance(raw, list) or not raw:
        raise option_error(settings, "tags", "at least one [[devices.tags]] (name, value)")
    tags: dict[TagPath, SimTag] = {}
    for entry in raw:
        tag = _tag(settings, entry, prefix.strip("/"))
        if tag.path in tags:
            raise option_error(settings, "tags", f"tag {tag.path} defined twice")
        tags[tag.path] = tag
    return SimDevice(settings.name, period_s, tags, random.Random(seed))


def _tag(settings: DeviceSettings, entry: Any, prefix: str) -> SimTag:
    if not isinstance(entry, dict):
        raise option_error(settings, "tags", "each tag is a table (name, value, ...)")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip("/"):
        raise option_error(settings, "tags", "a tag needs a name")
    field_name = f"tags.{name}"
    unknown = set(entry) - _TAG_KEYS
    if unknown:
        raise option_error(settings, field_name, f"unknown keys {', '.join(sorted(unknown))}")
    if "value" not in entry:
        raise option_error(settings, field_name, "needs an initial value")
    value = entry["value"]
    if not isinstance(value, bool | int | float | str):
        raise option_error(settings, field_name, "value must be a number, a bool or a string")
    try:
        waveform = Waveform(entry.get("waveform", "constant"))
    except ValueError:
        known = ", ".join(w.value for w in Waveform)
        raise option_error(settings, field_name, f"waveform is one of {known}") from None
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if waveform is not Waveform.CONSTANT and not numeric:
        raise option_error(settings, field_name, f"a {waveform} needs a numeric value")

    def number(key: str, default: float, positive: bool = False) -> float:
        return _number(settings, f"{field_name}.{key}", entry.get(key, default), positive)

    writable = entry.get("writable", True)
    unit = entry.get("unit", "")
    if not isinstance(writable, bool) or not isinstance(unit, str):
        raise option_error(settings, field_name, "writable is true or false, unit a string")
    tag = SimTag(
        f"{prefix}/{name.strip('/')}",
        float(value) if waveform is not Waveform.CONSTANT else value,
        waveform,
        amplitude=number("amplitude", 0.0),
        period_s=number("period_s", 60.0, positive=True),
        rate=number("rate", 0.0),
        step=number("step", 0.0),
        low=number("min", -math.inf),
        high=number("max", math.inf),
        writable=writable,
        unit=unit,
    )
    if tag.low > tag.high:
        raise option_error(settings, field_name, "min is above max")
    return tag


def _number(settings: DeviceSettings, key: str, value: Any, positive: bool = False) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
        raise option_error(settings, key, f"expected a number, got {value!r}")
    if positive and not value > 0:
        raise option_error(settings, key, "must be > 0")
    return float(value)
