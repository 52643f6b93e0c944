"""What the simulated bollards put on the wire without the ocpp library's checks."""

from __future__ import annotations

import asyncio
import random

import pytest
from ocpp.exceptions import FormatViolationError
from ocpp.messages import Call, validate_payload

from evsuper.core.timeutil import from_wire
from evsuper.drivers.simulator.bollard import _Alarm, meter_values_call, sampled_values
from evsuper.drivers.simulator.config import MEASURANDS
from evsuper.drivers.simulator.ev import ConnectorModel, MeterSample
from evsuper.project.model import SimulatorSettings

ALL = frozenset(MEASURANDS)


def charging_sample() -> MeterSample:
    m = ConnectorModel(11_000.0, SimulatorSettings(seed=1), random.Random(1))
    m.plug_in()
    m.start_charging()
    m.advance(60.0)
    return m.sample()


@pytest.mark.parametrize("transaction_id", [17, None])
async def test_meter_values_match_the_ocpp_schema(transaction_id: int | None) -> None:
    request = meter_values_call(2, transaction_id, charging_sample(), ALL, "Sample.Periodic")
    await validate_payload(Call("1", request.action, request.payload), "1.6")
    assert request.payload.get("transactionId") == transaction_id
    assert from_wire(request.payload["meterValue"][0]["timestamp"]).tzinfo is not None


async def test_the_schema_check_would_catch_a_wrong_shape() -> None:
    request = meter_values_call(1, 3, charging_sample(), ALL, "Sample.Periodic")
    request.payload["meterValue"][0]["sampledValue"][0]["unit"] = "Joule"
    with pytest.raises(FormatViolationError):
        await validate_payload(Call("1", request.action, request.payload), "1.6")


def test_sampled_values_carry_every_measurand_with_its_unit_and_phase() -> None:
    sample = charging_sample()
    values = sampled_values(sample, ALL, "Sample.Periodic")
    described = [(v["measurand"], v.get("phase"), v["unit"], v["location"]) for v in values]
    assert described == [
        ("Energy.Active.Import.Register", None, "Wh", "Outlet"),
        ("Power.Active.Import", None, "W", "Outlet"),
        ("Current.Import", "L1", "A", "Outlet"),
        ("Current.Import", "L2", "A", "Outlet"),
        ("Current.Import", "L3", "A", "Outlet"),
        ("Voltage", "L1-N", "V", "Outlet"),
        ("Voltage", "L2-N", "V", "Outlet"),
        ("Voltage", "L3-N", "V", "Outlet"),
        ("SoC", None, "Percent", "EV"),
    ]
    assert {v["context"] for v in values} == {"Sample.Periodic"}
    assert values[0]["value"] == str(sample.energy_wh)
    assert float(values[1]["value"]) == pytest.approx(11_000.0)


def test_sampled_values_follow_the_configured_measurands_and_skip_soc_without_a_car() -> None:
    sample = charging_sample()
    values = sampled_values(sample, frozenset({"Power.Active.Import"}), "Transaction.End")
    assert [(v["measurand"], v["context"]) for v in values] == [
        ("Power.Active.Import", "Transaction.End")
    ]
    idle = MeterSample(10, 0.0, (0.0, 0.0, 0.0), (230.0, 230.0, 230.0), soc=None)
    assert [v["measurand"] for v in sampled_values(idle, frozenset({"SoC"}), "Trigger")] == []


async def test_a_wake_ends_a_sleep_even_when_it_comes_first() -> None:
    alarm = _Alarm()
    alarm.wake()  # nobody asleep: the next sleep must not miss it
    await asyncio.wait_for(alarm.sleep(None), timeout=1.0)

    sleeper = asyncio.create_task(alarm.sleep(None))
    await asyncio.sleep(0)  # let it start sleeping
    assert not sleeper.done()
    alarm.wake()
    await asyncio.wait_for(sleeper, timeout=1.0)


async def test_an_alarm_sleep_ends_on_its_own() -> None:
    await asyncio.wait_for(_Alarm().sleep(0.01), timeout=1.0)
