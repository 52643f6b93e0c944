"""The driver registry: schemes found through the ``evsuper.drivers`` entry points."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

import pytest

from evsuper.drivers import registry
from evsuper.drivers.base import (
    DeviceSettings,
    DeviceStatus,
    DriverConfigError,
    DriverContext,
    WriteResult,
    WriteStatus,
)
from evsuper.drivers.modbus.factory import create_driver as modbus_factory
from evsuper.drivers.registry import ENTRY_POINT_GROUP, driver_factory, known_schemes
from evsuper.drivers.sim import create_driver as sim_factory


def test_evsuper_drivers_are_found_through_the_installed_metadata() -> None:
    assert {"modbus", "sim", "opc.tcp"} <= set(known_schemes())
    assert driver_factory("modbus") is modbus_factory
    assert driver_factory("MODBUS") is modbus_factory  # schemes are case-insensitive
    assert driver_factory("sim") is sim_factory


def test_an_unknown_scheme_names_the_known_ones() -> None:
    with pytest.raises(DriverConfigError) as caught:
        driver_factory("bacnet")
    message = str(caught.value)
    assert "no driver for scheme 'bacnet'" in message
    assert "modbus" in message and "sim" in message


class AcmeDriver:
    """A third party's driver: nothing in evsuper knows it."""

    def __init__(self, devices: Sequence[DeviceSettings], context: DriverContext) -> None:
        self.devices = list(devices)

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def tags(self) -> Sequence[str]:
        return [f"{d.name}/x" for d in self.devices]

    def owns(self, tag: str) -> bool:
        return tag in self.tags()

    def writable(self, tag: str) -> bool:
        return False

    async def write(self, tag: str, value: Any) -> WriteResult:
        return WriteResult(tag, WriteStatus.NOT_WRITABLE, value)

    def status(self) -> dict[str, DeviceStatus]:
        return {d.name: DeviceStatus() for d in self.devices}

    async def set_enabled(self, device: str, enabled: bool) -> None:
        pass


def acme_factory(devices: Sequence[DeviceSettings], context: DriverContext) -> AcmeDriver:
    return AcmeDriver(devices, context)


def _with(monkeypatch: pytest.MonkeyPatch, *extra: EntryPoint) -> None:
    """The installed entry points plus ``extra``, as if another distribution declared them."""

    def patched(*, group: str) -> list[EntryPoint]:
        return [*entry_points(group=group), *extra]

    monkeypatch.setattr(registry, "entry_points", patched)


def test_a_third_party_adds_a_scheme_without_editing_evsuper(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _with(monkeypatch, EntryPoint("acme", f"{__name__}:acme_factory", ENTRY_POINT_GROUP))
    assert "acme" in known_schemes()
    factory = driver_factory("acme")
    device = DeviceSettings("line-1", "acme://plc/1")
    driver = factory([device], DriverContext(lambda path, sample: None, Path(".")))
    assert driver.tags() == ["line-1/x"]


def test_a_broken_plugin_is_reported_not_raised_as_is(monkeypatch: pytest.MonkeyPatch) -> None:
    _with(monkeypatch, EntryPoint("broken", "no_such_module_here:factory", ENTRY_POINT_GROUP))
    with pytest.raises(DriverConfigError, match=r"'broken'.*cannot be loaded: ModuleNotFound"):
        driver_factory("broken")


def test_a_second_declaration_of_a_scheme_does_not_replace_the_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _with(monkeypatch, EntryPoint("modbus", f"{__name__}:acme_factory", ENTRY_POINT_GROUP))
    assert driver_factory("modbus") is modbus_factory
