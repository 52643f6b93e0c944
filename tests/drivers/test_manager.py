"""The driver manager: drivers built per scheme through the registry, link states on the
bus, and the command router's WriteTag / SetDeviceEnabled, on ``sim://`` devices."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from support import ADMIN, as_admin

from evsuper.core.bus import TagBus
from evsuper.core.tags import Quality, driver_state_tag
from evsuper.drivers.base import (
    DeviceSettings,
    DriverConfigError,
    DriverContext,
    LinkState,
    WriteResult,
    WriteStatus,
)
from evsuper.drivers.manager import DriverManager, for_simulation
from evsuper.drivers.sim import SimDriver, create_driver
from evsuper.engine.commands import CommandRouter, Outcome, SetDeviceEnabled, WriteTag
from evsuper.users.audit import AuditEntry, AuditKind
from evsuper.users.permissions import Actor, Role

DSO = DeviceSettings(
    "dso",
    "sim://dso",
    options={
        "prefix": "DSO",
        "tags": [
            {"name": "limit_kw", "value": 100.0},
            {"name": "signal", "value": 1, "writable": False},
        ],
    },
)
PLANT = DeviceSettings("plant", "sim://plant", options={"tags": [{"name": "load_kw", "value": 5}]})


class Setup:
    def __init__(self) -> None:
        self.bus = TagBus()
        self.audit: list[AuditEntry] = []
        self.manager = DriverManager(
            [DSO, PLANT], DriverContext(self.bus.publish, Path(".")), watch_s=0.01
        )
        self.router = CommandRouter(audit=self.audit.append)
        self.router.add_target(self.manager)


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    s = Setup()
    await s.manager.start()
    yield s
    await s.manager.stop()


async def test_status_tags_and_states(setup: Setup) -> None:
    manager, bus = setup.manager, setup.bus
    assert {name: (scheme, st.state) for name, (scheme, st) in manager.status().items()} == {
        "dso": ("sim", LinkState.CONNECTED),
        "plant": ("sim", LinkState.CONNECTED),
    }
    assert set(manager.tags()) == {"DSO/limit_kw", "DSO/signal", "plant/load_kw"}
    assert bus.value(driver_state_tag("dso")) is LinkState.CONNECTED
    assert bus.get("DSO/limit_kw").quality is Quality.GOOD  # type: ignore[union-attr]


async def test_write_tag_through_the_router_is_audited(setup: Setup) -> None:
    result = await setup.router.execute(as_admin(WriteTag(tag="DSO/limit_kw", value=60.0)))
    assert result.ok, result
    assert result.status == WriteStatus.OK.value
    assert isinstance(result.payload, WriteResult) and result.payload.read_back == 60.0
    assert setup.bus.value("DSO/limit_kw") == 60.0
    entry = setup.audit[-1]
    assert (entry.action, entry.target, entry.result) == ("WriteTag", "DSO/limit_kw", "Accepted")
    assert entry.parameters["value"] == 60.0


async def test_write_tag_needs_the_permission(setup: Setup) -> None:
    viewer = Actor("vera", Role.VIEWER)
    result = await setup.router.execute(
        WriteTag(tag="DSO/limit_kw", value=1.0, actor=viewer, confirmed=True)
    )
    assert result.outcome is Outcome.DENIED
    assert setup.bus.value("DSO/limit_kw") == 100.0
    assert setup.audit[-1].kind is AuditKind.PERMISSION_DENIED


@pytest.mark.parametrize(
    ("tag", "value", "outcome", "status"),
    [
        ("DSO/signal", 2, Outcome.ERROR, "not-writable"),
        ("DSO/limit_kw", "much", Outcome.ERROR, "invalid-value"),
        ("nowhere/x", 1, Outcome.ERROR, "unknown-tag"),
    ],
)
async def test_refused_writes_say_why(
    setup: Setup, tag: str, value: Any, outcome: Outcome, status: str
) -> None:
    result = await setup.router.execute(as_admin(WriteTag(tag=tag, value=value)))
    assert (result.outcome, result.status) == (outcome, status)
    assert result.detail


async def test_set_device_enabled(setup: Setup) -> None:
    bus, router = setup.bus, setup.router
    unconfirmed = SetDeviceEnabled(device="dso", enabled=False, actor=ADMIN)
    assert (await router.execute(unconfirmed)).status == "ConfirmationRequired"
    result = await router.execute(as_admin(SetDeviceEnabled(device="dso", enabled=False)))
    assert (result.outcome, result.status) == (Outcome.ACCEPTED, "Disabled")
    assert bus.value(driver_state_tag("dso")) is LinkState.DISABLED
    assert bus.get("DSO/limit_kw").quality is Quality.NOT_CONNECTED  # type: ignore[union-attr]
    write = await router.execute(as_admin(WriteTag(tag="DSO/limit_kw", value=1.0)))
    assert write.outcome is Outcome.OFFLINE
    assert bus.value(driver_state_tag("plant")) is LinkState.CONNECTED  # the other runs on
    result = await router.execute(as_admin(SetDeviceEnabled(device="dso", enabled=True)))
    assert result.status == "Enabled"
    assert bus.value(driver_state_tag("dso")) is LinkState.CONNECTED
    assert setup.audit[-1].kind is AuditKind.PROJECT_CHANGE
    unknown = await router.execute(as_admin(SetDeviceEnabled(device="dsx", enabled=True)))
    assert (unknown.outcome, unknown.status) == (Outcome.ERROR, "UnknownDevice")
    assert "dso, plant" in unknown.detail


async def test_stop_publishes_stopped_states() -> None:
    s = Setup()
    await s.manager.start()
    await s.manager.stop()
    assert s.bus.value(driver_state_tag("plant")) is LinkState.STOPPED
    assert s.bus.get("plant/load_kw").quality is Quality.NOT_CONNECTED  # type: ignore[union-attr]


def test_duplicate_names_and_unknown_schemes_are_refused() -> None:
    context = DriverContext(lambda path, sample: None, Path("."))
    with pytest.raises(DriverConfigError, match="'dso' defined twice"):
        DriverManager([DSO, DSO], context)
    with pytest.raises(DriverConfigError, match="no driver for scheme 'bacnet'"):
        DriverManager([DeviceSettings("b", "bacnet://1")], context)


def test_simulate_is_kept_only_while_simulating() -> None:
    device = DeviceSettings("m", "modbus://10.0.0.5/1", options={"simulate": True, "poll_s": 1})
    assert for_simulation([device], True) == [device]
    (real,) = for_simulation([device], False)
    assert real.options == {"poll_s": 1}


async def test_a_driver_that_fails_to_start_does_not_stop_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken(SimDriver):
        async def start(self) -> None:
            raise OSError("port in use")

    def factory(scheme: str) -> Any:
        if scheme == "broken":
            return lambda devices, context: Broken([], context.publish, [])
        return create_driver

    bus = TagBus()
    devices = [DeviceSettings("x", "broken://x"), PLANT]
    manager = DriverManager(devices, DriverContext(bus.publish, Path(".")), factory=factory)
    await manager.start()
    try:
        assert "the broken driver did not start" in caplog.text
        assert bus.value(driver_state_tag("plant")) is LinkState.CONNECTED
    finally:
        await manager.stop()
