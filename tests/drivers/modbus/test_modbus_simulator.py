"""The Modbus simulator: moving values, and the profiles end to end through the client."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest
from modbus_support import Recorder, free_port

from evsuper.core.tags import Quality
from evsuper.drivers.modbus.client import ModbusDriver, WriteStatus
from evsuper.drivers.modbus.profiles import load_profile
from evsuper.drivers.modbus.simulator import (
    ChargerModel,
    MeterModel,
    ModbusSimulator,
    PvInverterModel,
    demo_site,
)

FAST: dict[str, Any] = {"timeout_s": 1.0, "reconnect_min_s": 0.05, "reconnect_max_s": 0.2}


def test_charger_session_cycle() -> None:
    charger = ChargerModel(cycle_s=100)
    assert charger.get("status") == 3
    assert charger.get("power_kw") == pytest.approx(3 * 230 * 16 / 1000)
    charger.step(50, 3600, 0)  # an hour at 11.04 kW
    assert charger.get("session_energy_kwh") == pytest.approx(11.04)
    charger.step(85, 1, 0)
    assert (charger.get("status"), charger.get("power_kw")) == (5, 0)
    charger.step(95, 1, 0)
    assert (charger.get("status"), charger.get("vehicle_connected")) == (1, False)
    charger.step(101, 1, 0)
    assert charger.get("status") == 3
    assert charger.get("session_energy_kwh") < 0.01
    assert charger.get("energy_total_kwh") > 11
    charger.set("charging_enabled", False)
    charger.step(102, 1, 0)
    assert (charger.get("status"), charger.load_kw) == (4, 0)


def test_meter_adds_building_load_and_others() -> None:
    meter = MeterModel(base_kw=10)
    meter.step(0, 3600, 22.08 - 4.0)  # chargers minus PV
    assert meter.get("power_kw") == pytest.approx(28.08, abs=1e-3)
    phases = sum(meter.get(f"power_l{n}_kw") for n in (1, 2, 3))
    assert phases == pytest.approx(28.08, abs=1e-3)
    assert meter.get("current_l1_a") == pytest.approx(
        28080 / 3 / meter.get("voltage_l1_v"), rel=1e-4
    )
    assert meter.get("energy_import_kwh") == pytest.approx(28.08, abs=1e-3)
    meter.step(0, 3600, -40)
    assert meter.get("energy_export_kwh") == pytest.approx(30, abs=1e-3)


def test_pv_follows_the_day() -> None:
    pv = PvInverterModel(peak_kw=10, day_length_s=240)
    pv.step(0, 1, 0)  # 06:00
    assert (pv.get("power_kw"), pv.get("status")) == (0, 2)
    pv.step(60, 1, 0)  # 12:00
    assert 8 <= pv.get("power_kw") <= 10  # clouds take up to 20 %
    assert (pv.get("status"), pv.load_kw) == (4, pytest.approx(-pv.get("power_kw"), abs=1e-3))
    pv.step(180, 1, 0)  # 00:00
    assert pv.get("power_kw") == 0


async def test_every_profile_served(recorder: Recorder) -> None:
    async with ModbusSimulator(demo_site(chargers=1, day_length_s=240)) as sim:
        devices = [
            load_profile("energy-meter").device("M", "127.0.0.1", port=sim.port, unit_id=1, **FAST),
            load_profile("pv-inverter").device("PV", "127.0.0.1", port=sim.port, unit_id=2, **FAST),
            load_profile("ev-charger").device("CP", "127.0.0.1", port=sim.port, unit_id=11, **FAST),
        ]
        tags = [p.tag for d in devices for p in d.points]
        async with ModbusDriver(devices, recorder.publish):
            await recorder.wait_for(lambda: all(recorder.good(t) for t in tags))
    value = {t: recorder.value(t) for t in tags}
    assert value["PV/sunspec_id"] == 0x53756E53
    assert (value["PV/manufacturer"], value["CP/serial"]) == ("evsuper", "SIM-0001")
    assert value["M/voltage_l1_v"] == pytest.approx(230, abs=3)
    assert value["M/power_kw"] > value["CP/power_kw"] > 11


async def test_charger_end_to_end(recorder: Recorder) -> None:
    """The setpoint written over Modbus sets the power the charger draws."""
    charger = ChargerModel()
    async with ModbusSimulator({11: charger}, step_s=0.05) as sim:
        device = load_profile("ev-charger").device(
            "CP-7", "127.0.0.1", tag_prefix="SITE/CP-7", port=sim.port, unit_id=11, **FAST
        )
        async with ModbusDriver([device], recorder.publish) as driver:
            power = "SITE/CP-7/power_kw"

            def power_is(kw: float) -> bool:
                sample = recorder.last(power)
                return sample is not None and sample.value == pytest.approx(kw, abs=0.01)

            await recorder.wait_for(lambda: power_is(11.04))
            assert recorder.value("SITE/CP-7/status") == 3

            result = await driver.write("SITE/CP-7/current_limit_a", 10)
            assert result.status is WriteStatus.OK, result
            await recorder.wait_for(lambda: power_is(6.9))
            assert recorder.value("SITE/CP-7/current_l1_a") == pytest.approx(10)

            clamped = await driver.write("SITE/CP-7/current_limit_a", 40)
            assert (clamped.status, clamped.read_back) == (WriteStatus.MISMATCH, 32)
            assert "read back 32" in clamped.detail

            assert (await driver.write("SITE/CP-7/charging_enabled", False)).ok
            await recorder.wait_for(lambda: power_is(0))
            assert recorder.value("SITE/CP-7/status") == 4
        stopped = recorder.last(power)
        assert stopped is not None and stopped.quality is Quality.NOT_CONNECTED
        assert stopped.value == 0  # the last value, marked


async def test_runs_standalone(recorder: Recorder) -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "evsuper.drivers.modbus.simulator",
        "--port",
        str(port),
        "--chargers",
        "1",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(20):
            line = await process.stdout.readline()
        assert f"127.0.0.1:{port}" in line.decode()
        meter = load_profile("energy-meter").device("M", "127.0.0.1", port=port, unit_id=1, **FAST)
        async with ModbusDriver([meter], recorder.publish):
            await recorder.wait_for(lambda: recorder.good("M/power_kw"))
    finally:
        process.kill()
        await process.wait()
