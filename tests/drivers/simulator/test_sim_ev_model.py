"""The pure connector / car model of the simulated bollards."""

from __future__ import annotations

import random

import pytest

from evsuper.core.domain import ConnectorStatus
from evsuper.drivers.simulator.ev import FAULTS, Car, ConnectorModel, battery_power_w
from evsuper.project.model import SimulatorSettings

MAX_W = 22_000.0
SETTINGS = SimulatorSettings(seed=1, time_scale=20.0, mean_session_s=120.0, fault_probability=0.0)


def model(settings: SimulatorSettings = SETTINGS, seed: int = 1) -> ConnectorModel:
    return ConnectorModel(MAX_W, settings, random.Random(seed))


def car(soc: float = 20.0, *, capacity_wh: float = 60_000.0, target_soc: float = 100.0) -> Car:
    return Car(
        capacity_wh=capacity_wh,
        soc=soc,
        target_soc=target_soc,
        stay_s=1e9,
        linger_s=1e9,
        fault_after_s=None,
    )


def charging(c: Car, settings: SimulatorSettings = SETTINGS) -> ConnectorModel:
    m = model(settings)
    m.plug_in(c)
    m.start_charging()
    return m


def test_full_power_up_to_80_percent_then_linear_taper() -> None:
    assert battery_power_w(10.0, MAX_W) == MAX_W
    assert battery_power_w(80.0, MAX_W) == MAX_W
    assert battery_power_w(90.0, MAX_W) == pytest.approx(MAX_W * 0.55)
    assert battery_power_w(100.0, MAX_W) == pytest.approx(MAX_W * 0.1)
    # linear: equal steps in SoC give equal steps in power
    p85, p90, p95 = (battery_power_w(s, MAX_W) for s in (85.0, 90.0, 95.0))
    assert p85 - p90 == pytest.approx(p90 - p95)
    assert p85 > p90 > p95


def test_connector_power_follows_the_taper() -> None:
    m = charging(car(soc=90.0))
    assert m.power_w == pytest.approx(MAX_W * 0.55)
    assert m.status is ConnectorStatus.CHARGING


def test_limit_caps_power_and_zero_suspends_the_evse() -> None:
    m = charging(car())
    m.set_limit(7_000.0)
    assert m.power_w == 7_000.0
    assert m.sample().power_w == 7_000.0
    m.set_limit(0.0)
    assert m.power_w == 0.0
    assert m.status is ConnectorStatus.SUSPENDED_EVSE
    m.set_limit(None)
    assert m.power_w == MAX_W
    assert m.status is ConnectorStatus.CHARGING


def test_limit_above_the_connector_maximum_changes_nothing() -> None:
    m = charging(car())
    m.set_limit(50_000.0)
    assert m.power_w == MAX_W


def test_energy_is_power_times_real_time_and_the_battery_fills_time_scale_faster() -> None:
    m = charging(car(soc=20.0, capacity_wh=100_000.0))
    m.set_limit(10_000.0)
    m.advance(36.0)  # 10 kW for 36 s = 100 Wh on the meter, 2000 Wh in the battery
    assert m.energy_wh == pytest.approx(100.0)
    assert m.meter_wh == 100
    assert m.car is not None
    assert m.car.soc == pytest.approx(22.0)


def test_integration_does_not_depend_on_the_step() -> None:
    one, many = charging(car()), charging(car())
    one.advance(60.0)
    for _ in range(600):
        many.advance(0.1)
    assert many.energy_wh == pytest.approx(one.energy_wh)


def test_soc_stops_at_the_target_and_never_exceeds_100() -> None:
    m = charging(car(soc=95.0, capacity_wh=40_000.0, target_soc=100.0))
    for _ in range(100):
        m.advance(3600.0)
    assert m.car is not None
    assert m.car.soc == 100.0
    assert m.power_w == 0.0
    assert m.status is ConnectorStatus.SUSPENDED_EV
    # the meter saw exactly what the battery took, scaled back to real energy
    assert m.energy_wh == pytest.approx(0.05 * 40_000.0 / SETTINGS.time_scale)


def test_random_cars_stay_within_their_ranges() -> None:
    m = model()
    for _ in range(500):
        c = m.new_car()
        assert 40_000.0 <= c.capacity_wh <= 100_000.0
        assert 10.0 <= c.soc <= 60.0
        assert 80.0 <= c.target_soc <= 100.0
        assert c.stay_s > 0


def test_seeded_models_draw_the_same_cars_however_often_the_meter_is_read() -> None:
    quiet, busy = model(seed=5), model(seed=5)
    for _ in range(10):
        busy.sample()
    assert quiet.new_car() == busy.new_car()


def test_meter_register_never_goes_back_across_sessions() -> None:
    m = model(SimulatorSettings(seed=3, time_scale=50.0, mean_session_s=600.0))
    readings = [m.meter_wh]
    for _ in range(20):
        m.plug_in()
        m.start_charging()
        for _ in range(50):
            m.advance(7.0)
            readings.append(m.meter_wh)
        m.stop_charging()
        m.unplug()
        readings.append(m.meter_wh)
    assert readings == sorted(readings)
    assert readings[-1] > readings[0]


def test_session_lifecycle_statuses() -> None:
    m = model()
    assert m.is_free
    m.plug_in()
    assert m.status is ConnectorStatus.PREPARING
    m.start_charging()
    assert m.status is ConnectorStatus.CHARGING
    m.stop_charging()
    assert m.status is ConnectorStatus.FINISHING
    assert m.power_w == 0.0
    m.unplug()
    assert m.status is ConnectorStatus.AVAILABLE
    assert m.car is None


def test_cannot_plug_into_a_busy_connector() -> None:
    m = model()
    m.plug_in()
    with pytest.raises(RuntimeError):
        m.plug_in()


def test_driver_leaves_after_the_stay_or_once_full_for_a_while() -> None:
    m = model()
    m.plug_in(Car(60_000.0, 50.0, 90.0, stay_s=100.0, linger_s=1e9, fault_after_s=None))
    m.start_charging()
    m.advance(99.0)
    assert not m.wants_to_leave()
    m.advance(1.0)
    assert m.wants_to_leave()

    m = model()
    m.plug_in(Car(60_000.0, 89.9, 90.0, stay_s=1e9, linger_s=10.0, fault_after_s=None))
    m.start_charging()
    m.advance(1.0)  # now full
    assert m.status is ConnectorStatus.SUSPENDED_EV
    assert not m.wants_to_leave()
    m.advance(10.0)
    assert m.wants_to_leave()


def test_fault_path_ends_available_again() -> None:
    settings = SimulatorSettings(seed=2, fault_probability=1.0, fault_duration_s=20.0)
    m = model(settings)
    c = m.plug_in()
    assert c.fault_after_s is not None
    m.start_charging()
    m.advance(c.fault_after_s)
    assert m.fault_due()
    fault = m.break_down()
    assert m.status is ConnectorStatus.FAULTED
    assert (fault.error_code, fault.vendor_error_code, fault.info) in FAULTS
    assert 10.0 <= fault.duration_s <= 30.0
    assert m.car is None
    assert not m.is_free
    m.recover()
    assert m.status is ConnectorStatus.AVAILABLE
    assert m.fault is None
    assert m.is_free


def test_no_fault_is_drawn_when_the_probability_is_zero() -> None:
    m = model()
    assert all(m.new_car().fault_after_s is None for _ in range(200))


def test_inoperative_is_scheduled_while_a_car_is_plugged_in() -> None:
    m = model()
    m.plug_in()
    m.start_charging()
    assert m.set_operative(False) is False
    assert m.status is ConnectorStatus.CHARGING
    m.stop_charging()
    m.unplug()
    assert m.status is ConnectorStatus.UNAVAILABLE
    assert not m.is_free
    assert m.set_operative(True) is True
    assert m.status is ConnectorStatus.AVAILABLE


def test_inoperative_during_a_fault_applies_on_recovery() -> None:
    m = model()
    m.plug_in()
    m.break_down()
    assert m.set_operative(False) is True
    assert m.status is ConnectorStatus.FAULTED
    m.recover()
    assert m.status is ConnectorStatus.UNAVAILABLE


def test_sample_reports_phases_consistent_with_power() -> None:
    m = charging(car(soc=42.0))
    s = m.sample()
    assert s.power_w == MAX_W
    assert sum(i * u for i, u in zip(s.current_a, s.voltage_v, strict=True)) == pytest.approx(MAX_W)
    assert all(225.0 <= u <= 235.0 for u in s.voltage_v)
    assert s.soc == 42.0
    m.stop_charging()
    m.unplug()
    idle = m.sample()
    assert idle.power_w == 0.0
    assert idle.soc is None


def test_id_tags_come_from_the_badges_or_are_unknown_cards() -> None:
    m = model()
    assert m.pick_id_tag(["A", "B"]) in {"A", "B"}
    unknown = m.pick_id_tag([])
    assert unknown.startswith("SIM-")
    assert len(unknown) == len("SIM-") + 8
