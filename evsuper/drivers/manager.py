"""Every tag driver of a project behind one object: ``engine.drivers``.

The manager builds one driver per address scheme present in ``[[devices]]`` through the
registry, starts and stops them, publishes each device's link state as
``_system/drivers/<device>/state`` (a ``LinkState``), and is the command router's target
for ``WriteTag`` (the driver owning the tag writes it) and ``SetDeviceEnabled``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable, Sequence
from typing import Any

from evsuper.core.tags import Sample, TagPath, driver_state_tag
from evsuper.drivers.base import (
    DeviceSettings,
    DeviceStatus,
    Driver,
    DriverConfigError,
    DriverContext,
    DriverFactory,
    LinkState,
    WriteResult,
    WriteStatus,
)
from evsuper.drivers.registry import driver_factory
from evsuper.engine.commands import (
    Command,
    CommandResult,
    Outcome,
    SetDeviceEnabled,
    WriteTag,
)

log = logging.getLogger(__name__)

SIMULATE = "simulate"  # the device option a driver with a simulator honours

# how a write's status reads as a command outcome
_OUTCOMES = {
    WriteStatus.OK: Outcome.ACCEPTED,
    WriteStatus.MISMATCH: Outcome.REJECTED,
    WriteStatus.REJECTED: Outcome.REJECTED,
    WriteStatus.COMM_FAILURE: Outcome.OFFLINE,
    WriteStatus.NOT_WRITABLE: Outcome.ERROR,
    WriteStatus.UNKNOWN_TAG: Outcome.ERROR,
    WriteStatus.INVALID_VALUE: Outcome.ERROR,
}


def for_simulation(devices: Sequence[DeviceSettings], simulate: bool) -> list[DeviceSettings]:
    """``devices`` with option ``simulate`` kept only while the project's simulators run:
    otherwise every device talks to its own address."""
    if simulate:
        return list(devices)
    return [
        dataclasses.replace(d, options={k: v for k, v in d.options.items() if k != SIMULATE})
        if SIMULATE in d.options
        else d
        for d in devices
    ]


class DriverManager:
    """The drivers of ``devices``, one per scheme; ``DriverConfigError`` if one refuses its
    devices, a device name repeats or two devices publish the same tag.

    ``watch_s`` is how often link states are compared with the last published ones."""

    def __init__(
        self,
        devices: Sequence[DeviceSettings],
        context: DriverContext,
        *,
        factory: Callable[[str], DriverFactory] = driver_factory,
        watch_s: float = 0.25,
    ) -> None:
        self._publish = context.publish
        self._watch_s = watch_s
        by_scheme: dict[str, list[DeviceSettings]] = {}
        self._scheme_of: dict[str, str] = {}
        for device in devices:
            if device.name in self._scheme_of:
                raise DriverConfigError(f"{device.source}: device {device.name!r} defined twice")
            self._scheme_of[device.name] = device.scheme
            by_scheme.setdefault(device.scheme, []).append(device)
        self.drivers: dict[str, Driver] = {
            scheme: factory(scheme)(members, context) for scheme, members in by_scheme.items()
        }
        self._owner: dict[TagPath, Driver] = {}
        for scheme, driver in self.drivers.items():
            for tag in driver.tags():
                if self._owner.setdefault(tag, driver) is not driver:
                    raise DriverConfigError(f"tag {tag} is published by two drivers ({scheme})")
        self._shown: dict[str, LinkState] = {}
        self._watcher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start every driver; one that fails to start is logged, the others run."""
        for scheme, driver in self.drivers.items():
            try:
                await driver.start()
            except Exception:
                log.exception("the %s driver did not start", scheme)
        self._publish_states()
        self._watcher = asyncio.create_task(self._watch(), name="drivers:watch")

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        for scheme, driver in self.drivers.items():
            try:
                await driver.stop()
            except Exception:
                log.exception("the %s driver did not stop cleanly", scheme)
        self._publish_states()

    def status(self) -> dict[str, tuple[str, DeviceStatus]]:
        """Per device: its scheme and its driver's status of it."""
        result: dict[str, tuple[str, DeviceStatus]] = {}
        for scheme, driver in self.drivers.items():
            for device, status in driver.status().items():
                result[device] = (scheme, status)
        return result

    def tags(self) -> list[TagPath]:
        """Every tag the drivers publish."""
        return list(self._owner)

    def driver_of(self, tag: TagPath) -> Driver | None:
        return self._owner.get(tag)

    async def write(self, tag: TagPath, value: Any) -> WriteResult:
        """Write through the owning driver (what ``WriteTag`` does, without the router)."""
        driver = self._owner.get(tag)
        if driver is None:
            return WriteResult(tag, WriteStatus.UNKNOWN_TAG, value, detail="no driver owns it")
        if not driver.writable(tag):
            return WriteResult(tag, WriteStatus.NOT_WRITABLE, value, detail="read-only tag")
        return await driver.write(tag, value)

    # ---- command target ----

    def accepts(self, command: Command) -> bool:
        return isinstance(command, WriteTag | SetDeviceEnabled)

    async def execute(self, command: Command) -> CommandResult:
        if isinstance(command, WriteTag):
            result = await self.write(command.tag, command.value)
            detail = result.detail
            if result.ok and not detail:
                detail = f"read back {result.read_back!r}"
            return CommandResult(_OUTCOMES[result.status], result.status.value, detail, result)
        assert isinstance(command, SetDeviceEnabled)
        scheme = self._scheme_of.get(command.device)
        if scheme is None:
            known = ", ".join(sorted(self._scheme_of)) or "none"
            return CommandResult(
                Outcome.ERROR, "UnknownDevice", f"no device {command.device!r} (known: {known})"
            )
        await self.drivers[scheme].set_enabled(command.device, command.enabled)
        self._publish_states()
        word = "Enabled" if command.enabled else "Disabled"
        return CommandResult(Outcome.ACCEPTED, word)

    # ---- link states ----

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._watch_s)
            self._publish_states()

    def _publish_states(self) -> None:
        for device, (_, status) in self.status().items():
            if self._shown.get(device) is not status.state:
                self._shown[device] = status.state
                self._publish(driver_state_tag(device), Sample(status.state))
