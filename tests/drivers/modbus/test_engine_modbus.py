"""The engine with Modbus devices from ``project.toml``, against a real pymodbus server on
127.0.0.1 (the Modbus simulator): a site meter and a wallbox supervised as charger MB-01."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from support import as_admin, wait_until

from evsuper.alarms.model import ALARM_PREFIX
from evsuper.core.domain import CommState, ConnectorStatus
from evsuper.core.tags import Quality, driver_state_tag
from evsuper.drivers.base import LinkState, WriteResult
from evsuper.drivers.modbus.simulator import ChargerModel, MeterModel, ModbusSimulator
from evsuper.engine.commands import Outcome, SetDeviceEnabled, WriteTag
from evsuper.engine.runtime import Engine
from evsuper.project.loader import load_project
from evsuper.project.model import ChargerProtocol, Project
from evsuper.users.permissions import Actor, Role

FAST = """poll_s = 0.05
timeout_s = 0.5
connect_timeout_s = 0.5
reconnect_min_s = 0.05
reconnect_max_s = 0.2
"""


def modbus_project(make_project: Any, port: int, *, simulate: bool = False) -> Project:
    """A generated project plus a Modbus meter and a Modbus wallbox charger, as TOML."""
    project: Project = make_project(bollards=1)
    host = "192.0.2.1:1502" if simulate else f"127.0.0.1:{port}"  # TEST-NET: never reached
    extra = "simulate = true\n" if simulate else ""
    text = (
        project.file.read_text(encoding="utf-8")
        + f"""
[[devices]]
name = "site-meter"
address = "modbus://{host}/1"
profile = "energy-meter"
prefix = "SITE1/meter"
{FAST}{extra}
[[devices]]
name = "wallbox-1"
address = "modbus://{host}/11"
profile = "ev-charger"
{FAST}{extra}
[[chargers]]
id = "MB-01"
protocol = "modbus"
device = "wallbox-1"
connectors = 1

[[alarms]]
id = "comm-lost"
on_delay_s = 0.0
"""
    )
    project.file.write_text(text, encoding="utf-8")
    loaded = load_project(project.file.parent)
    return dataclasses.replace(loaded, ocpp=dataclasses.replace(loaded.ocpp, port=0))


@pytest.fixture
async def sim() -> AsyncIterator[ModbusSimulator]:
    async with ModbusSimulator({1: MeterModel(), 11: ChargerModel()}, step_s=0.05) as server:
        yield server


@pytest.fixture
async def engine(make_project: Any, sim: ModbusSimulator) -> AsyncIterator[Engine]:
    engine = Engine(modbus_project(make_project, sim.port), run_simulator=False, ocpp_port=0)
    await engine.start()
    yield engine
    await engine.stop()


def quality(engine: Engine, tag: str) -> Quality | None:
    sample = engine.bus.get(tag)
    return None if sample is None else sample.quality


async def test_meter_and_wallbox_tags_flow_good(engine: Engine) -> None:
    bus = engine.bus
    await wait_until(lambda: quality(engine, "SITE1/meter/power_kw") is Quality.GOOD)
    assert isinstance(bus.value("SITE1/meter/power_kw"), float)
    assert 220 < bus.value("SITE1/meter/voltage_l1_v") < 240
    # the wallbox is charger MB-01 with the standard tags
    await wait_until(lambda: bus.value("MB-01/comm") is CommState.ONLINE)
    assert bus.value("MB-01/C1/status") is ConnectorStatus.CHARGING
    assert bus.value("MB-01/C1/current_limit_a") == pytest.approx(16.0)
    await wait_until(lambda: (bus.value("MB-01/C1/power_kw") or 0) > 10)  # 16 A x 3 x 230 V
    assert bus.value("MB-01/C1/error_code") == "NoError"
    await wait_until(lambda: bus.value("MB-01/serial") == "SIM-0001")
    assert quality(engine, "MB-01/current_l1_a") is Quality.GOOD  # unmapped: <prefix>/<point>
    statuses = engine.drivers.status()
    assert {name: scheme for name, (scheme, _) in statuses.items()} == {
        "site-meter": "modbus",
        "wallbox-1": "modbus",
    }
    await wait_until(lambda: bus.value(driver_state_tag("wallbox-1")) is LinkState.CONNECTED)
    assert "MB-01/C1/current_limit_a" in engine.drivers.tags()
    assert engine.central.owns("MB-01") is False  # not an OCPP charger


async def test_server_stopped_then_restarted(engine: Engine, sim: ModbusSimulator) -> None:
    bus = engine.bus
    await wait_until(lambda: bus.value("MB-01/comm") is CommState.ONLINE)
    await wait_until(lambda: quality(engine, "SITE1/meter/power_kw") is Quality.GOOD)
    await sim.stop()
    await wait_until(lambda: quality(engine, "SITE1/meter/power_kw") is Quality.COMM_FAILURE)
    await wait_until(lambda: bus.value("MB-01/comm") is CommState.OFFLINE)
    assert quality(engine, "MB-01/C1/status") is Quality.COMM_FAILURE
    assert bus.value("MB-01/C1/status") is ConnectorStatus.CHARGING  # the last value, marked
    await wait_until(lambda: bus.value(ALARM_PREFIX + "comm-lost:MB-01") is not None)
    await wait_until(lambda: bus.value(driver_state_tag("site-meter")) is LinkState.WAITING)
    await sim.start()
    await wait_until(lambda: quality(engine, "SITE1/meter/power_kw") is Quality.GOOD)
    await wait_until(lambda: bus.value("MB-01/comm") is CommState.ONLINE)
    assert engine.drivers.status()["site-meter"][1].connects >= 2


async def test_current_limit_written_through_the_router(
    engine: Engine, sim: ModbusSimulator
) -> None:
    bus, charger = engine.bus, sim.units[11]
    await wait_until(lambda: bus.value("MB-01/comm") is CommState.ONLINE)
    tag = "MB-01/C1/current_limit_a"
    result = await engine.router.execute(as_admin(WriteTag(tag=tag, value=10.0)))
    assert (result.outcome, result.status) == (Outcome.ACCEPTED, "ok"), result
    assert isinstance(result.payload, WriteResult)
    assert result.payload.read_back == pytest.approx(10.0)
    assert charger.get("current_limit_a") == pytest.approx(10.0)
    assert bus.value(tag) == pytest.approx(10.0)
    await wait_until(lambda: abs(bus.value("MB-01/C1/power_kw") - 6.9) < 0.01)  # 10 A x 690 V
    # the wallbox clamps to its 32 A: the read-back says so
    clamped = await engine.router.execute(as_admin(WriteTag(tag=tag, value=40.0)))
    assert (clamped.outcome, clamped.status) == (Outcome.REJECTED, "read-back-mismatch")
    assert "32" in clamped.detail
    # a viewer may not write
    viewer = Actor("vera", Role.VIEWER)
    denied = await engine.router.execute(WriteTag(tag=tag, value=6.0, actor=viewer))
    assert denied.outcome is Outcome.DENIED
    assert charger.get("current_limit_a") == pytest.approx(32.0)
    read_only = await engine.router.execute(as_admin(WriteTag(tag="MB-01/C1/power_kw", value=1)))
    assert (read_only.outcome, read_only.status) == (Outcome.ERROR, "not-writable")


async def test_device_disabled_and_enabled(engine: Engine, sim: ModbusSimulator) -> None:
    bus, router = engine.bus, engine.router
    await wait_until(lambda: bus.value("MB-01/comm") is CommState.ONLINE)
    result = await router.execute(as_admin(SetDeviceEnabled(device="wallbox-1", enabled=False)))
    assert result.ok, result
    assert bus.value("MB-01/comm") is CommState.OFFLINE
    assert quality(engine, "MB-01/C1/power_kw") is Quality.NOT_CONNECTED
    assert bus.value(driver_state_tag("wallbox-1")) is LinkState.DISABLED
    requests = sim.units[11].requests
    write = await router.execute(as_admin(WriteTag(tag="MB-01/C1/current_limit_a", value=8.0)))
    assert write.outcome is Outcome.OFFLINE
    assert sim.units[11].requests == requests  # nothing sent to a disabled device
    assert quality(engine, "SITE1/meter/power_kw") is Quality.GOOD  # the meter runs on
    await router.execute(as_admin(SetDeviceEnabled(device="wallbox-1", enabled=True)))
    await wait_until(lambda: bus.value("MB-01/comm") is CommState.ONLINE)
    await wait_until(lambda: quality(engine, "MB-01/C1/power_kw") is Quality.GOOD)


async def test_simulated_devices_are_served_by_the_engine(make_project: Any) -> None:
    project = modbus_project(make_project, 0, simulate=True)
    assert project.charger("MB-01").protocol is ChargerProtocol.MODBUS  # type: ignore[union-attr]
    engine = Engine(project, run_simulator=True, ocpp_port=0)
    await engine.start()
    try:
        bus = engine.bus
        await wait_until(lambda: quality(engine, "SITE1/meter/power_kw") is Quality.GOOD)
        await wait_until(lambda: bus.value("MB-01/C1/status") is ConnectorStatus.CHARGING)
        assert engine.simulator is not None and "MB-01" not in engine.simulator.bollards
    finally:
        await engine.stop()


def test_the_project_check_points_at_the_bad_option(make_project: Any, tmp_path: Path) -> None:
    from evsuper.project.loader import ProjectError

    project: Project = make_project(bollards=1)
    text = project.file.read_text(encoding="utf-8")
    bad = text + '\n[[devices]]\nname = "m"\naddress = "modbus://h/1"\nprofile = "toaster"\n'
    project.file.write_text(bad, encoding="utf-8")
    with pytest.raises(ProjectError) as caught:
        load_project(project.file.parent)
    line = len(text.splitlines()) + 5
    assert caught.value.line == line
    assert caught.value.field == "devices[0].profile"
    assert "no Modbus profile 'toaster'" in caught.value.message
