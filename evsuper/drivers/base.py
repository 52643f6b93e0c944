"""What every tag driver (Modbus, OPC UA, simulated sources, third-party plugins) offers.

A driver owns the devices of one address scheme (``modbus://``, ``opc.tcp://``, ``sim://``),
publishes their points on the tag bus and writes setpoints. The engine builds one per
scheme present in the project through the registry (``evsuper.drivers.registry``) and
talks to it only through this protocol; docs/drivers.md explains how to write one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Generic, Protocol, Self, TypeVar

from evsuper.core.tags import Quality, Sample, TagPath

Publish = Callable[[TagPath, Sample], None]


class LinkState(StrEnum):
    STOPPED = "stopped"
    DISABLED = "disabled"  # switched off by an operator
    CONNECTING = "connecting"
    CONNECTED = "connected"
    WAITING = "waiting"  # connection lost or refused, retrying after a back-off


@dataclass(slots=True)
class DeviceStatus:
    """Communication state and counters of one device since it started."""

    state: LinkState = LinkState.STOPPED
    requests: int = 0  # reads / notifications handled
    errors: int = 0
    last_error: str = ""
    connected_since: datetime | None = None
    connects: int = 0  # successful connections
    next_retry_s: float = 0.0  # current back-off


class WriteStatus(StrEnum):
    OK = "ok"  # written and read back equal
    MISMATCH = "read-back-mismatch"
    REJECTED = "rejected"  # the device refused it (Modbus exception, OPC UA bad status)
    COMM_FAILURE = "comm-failure"
    NOT_WRITABLE = "not-writable"
    UNKNOWN_TAG = "unknown-tag"
    INVALID_VALUE = "invalid-value"


@dataclass(frozen=True, slots=True)
class WriteResult:
    tag: TagPath
    status: WriteStatus
    requested: Any
    read_back: Any = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status is WriteStatus.OK


@dataclass(frozen=True, slots=True)
class DeviceSettings:
    """One ``[[devices]]`` entry of the project: a name, an address whose scheme chooses
    the driver, and the rest of the table, which only that driver reads."""

    name: str
    address: str  # modbus://host:port/unit, opc.tcp://host:port/path, sim://...
    enabled: bool = True
    options: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""  # "project.toml:42", for messages

    @property
    def scheme(self) -> str:
        return self.address.partition("://")[0].lower()


class DriverConfigError(ValueError):
    """A device's settings that its driver cannot use; the message names the device, the
    field and, when known, the file and line (``DeviceSettings.source``)."""

    device: str = ""  # set by ``option_error``: the project loader points at the option's
    field: str = ""  # own line and shows ``reason`` there
    reason: str = ""


def option_error(settings: DeviceSettings, field: str, reason: str) -> DriverConfigError:
    """The error for option ``field`` of device ``settings`` (``"address"`` included)."""
    where = f"{settings.source}: " if settings.source else ""
    error = DriverConfigError(f"{where}device {settings.name!r}: {field}: {reason}")
    error.device, error.field, error.reason = settings.name, field, reason
    return error


@dataclass(frozen=True, slots=True)
class DriverContext:
    publish: Publish  # TagBus.publish
    project_dir: Path  # profiles, certificates and keys are relative to it


class Driver(Protocol):
    """The devices of one scheme, behind the bus."""

    async def start(self) -> None: ...

    async def stop(self) -> None:
        """Stop every device; their points are published ``NOT_CONNECTED``."""

    def tags(self) -> Sequence[TagPath]:
        """Every tag the driver publishes."""

    def owns(self, tag: TagPath) -> bool: ...

    def writable(self, tag: TagPath) -> bool: ...

    async def write(self, tag: TagPath, value: Any) -> WriteResult: ...

    def status(self) -> dict[str, DeviceStatus]:
        """Per device name."""

    async def set_enabled(self, device: str, enabled: bool) -> None:
        """Stop polling / subscribing a device (its points go ``NOT_CONNECTED``) or start
        it again."""


DriverFactory = Callable[[Sequence[DeviceSettings], DriverContext], Driver]
"""Builds a driver for the devices of its scheme; raises ``DriverConfigError``."""


async def cancel_devices(tasks: Iterable[asyncio.Task[None]]) -> None:
    """Cancel a driver's device tasks and wait until they have ended.

    Again and again: a cancellation that arrives with a device's answer can be swallowed by
    a ``wait_for`` inside the protocol library (pymodbus, asyncua) under Python 3.11."""
    pending = set(tasks)
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.5)


class Device(Protocol):
    """One device of a `DeviceDriver`: its connection loop (``run``, until cancelled) and
    its points."""

    status: DeviceStatus

    async def run(self) -> None: ...

    async def write(self, tag: TagPath, value: Any) -> WriteResult: ...

    def writable(self, tag: TagPath) -> bool: ...

    def publish_all(self, quality: Quality) -> None: ...


D = TypeVar("D", bound=Device)


class DeviceDriver(Generic[D]):
    """A `Driver` whose devices each run in their own task (Modbus, OPC UA): starting and
    stopping them, switching one off and on, routing a write to the device of its tag.
    A subclass builds the devices; it may serve simulated ones around them (``_serve``,
    ``_unserve``)."""

    scheme = ""  # names the devices' tasks, "modbus:<device>"

    def __init__(
        self, devices: Mapping[str, D], owner: Mapping[TagPath, D], disabled: Collection[str]
    ) -> None:
        self.devices = dict(devices)
        self._owner = dict(owner)  # tag -> the device whose point it is
        self._disabled = set(disabled)
        self._tasks: dict[str, asyncio.Task[None]] = {}

    async def start(self) -> None:
        await self._serve()
        for name, device in self.devices.items():
            if name in self._disabled:
                device.status.state = LinkState.DISABLED
                device.publish_all(Quality.NOT_CONNECTED)
            else:
                self._start(name)

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, {}
        await cancel_devices(tasks.values())
        for device in self.devices.values():
            device.status.state = LinkState.STOPPED
        await self._unserve()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def tags(self) -> Sequence[TagPath]:
        return list(self._owner)

    def owns(self, tag: TagPath) -> bool:
        return tag in self._owner

    def writable(self, tag: TagPath) -> bool:
        device = self._owner.get(tag)
        return device is not None and device.writable(tag)

    async def write(self, tag: TagPath, value: Any) -> WriteResult:
        device = self._owner.get(tag)
        if device is None:
            return WriteResult(tag, WriteStatus.UNKNOWN_TAG, value, detail="no device owns it")
        if device.status.state is LinkState.DISABLED:
            return WriteResult(tag, WriteStatus.COMM_FAILURE, value, detail="device disabled")
        return await device.write(tag, value)

    def status(self) -> dict[str, DeviceStatus]:
        return {name: device.status for name, device in self.devices.items()}

    async def set_enabled(self, device: str, enabled: bool) -> None:
        chosen = self.devices[device]
        if enabled:
            self._disabled.discard(device)
            if device not in self._tasks:
                self._start(device)
            return
        self._disabled.add(device)
        task = self._tasks.pop(device, None)
        if task is not None:
            await cancel_devices([task])
        chosen.status.state = LinkState.DISABLED

    async def _serve(self) -> None:
        """Before the devices start (simulated devices: their server)."""

    async def _unserve(self) -> None:
        """After the devices stopped."""

    def _start(self, name: str) -> None:
        self._tasks[name] = asyncio.create_task(
            self.devices[name].run(), name=f"{self.scheme}:{name}"
        )
