"""Faceplates of the site's devices (meter, PV, battery, feeder), fed by tag batches named
as the Modbus profiles name their points."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from evsuper.alarms.model import AlarmState, Category, Priority
from evsuper.core.domain import CommState
from evsuper.core.tags import Quality, Sample, TagPath, driver_state_tag
from evsuper.core.timeutil import utcnow
from evsuper.engine.commands import CommandResult, Outcome, SetDeviceEnabled
from evsuper.hmi.library.equipment import BatteryView, Breaker, FeederView, MeterView, PvView
from evsuper.hmi.models.alarms import AlarmListModel
from evsuper.hmi.widgets.device_faceplate import POINTS, DeviceFaceplate, DeviceState
from evsuper.project.layout import ObjectKind, PlacedObject
from evsuper.users.permissions import Actor, Role
from hmi.alarm_records import alarm, alarm_tags
from hmi.sender import Sender

METER = PlacedObject(
    "METER", "DEMO", 0, 0, label="Site meter", kind=ObjectKind.METER, prefix="DEMO/meter",
    device="site-meter", rating_kw=250.0,
)  # fmt: skip
INTEGRATOR = Actor("ida", Role.INTEGRATOR)


def meter_batch(power: float, quality: Quality = Quality.GOOD) -> dict[TagPath, Sample]:
    values = {
        "power_kw": power,
        "energy_import_kwh": 18234.5,
        "energy_export_kwh": 12.0,
        "frequency_hz": 50.01,
        **{f"voltage_l{n}_v": 229.0 + n for n in (1, 2, 3)},
        **{f"current_l{n}_a": 140.0 + n for n in (1, 2, 3)},
        **{f"power_l{n}_kw": power / 3 for n in (1, 2, 3)},
    }
    return {f"DEMO/meter/{k}": Sample(v, quality=quality) for k, v in values.items()}


@pytest.fixture
def faceplate(qtbot: Any, themed_app: Any, sender: Sender) -> DeviceFaceplate:
    alarms = AlarmListModel()
    faceplate = DeviceFaceplate(METER, sender, alarms)
    qtbot.addWidget(faceplate)
    faceplate.resize(380, 820)
    faceplate.show()
    return faceplate


def test_the_meter_shows_its_values_with_units_and_quality(faceplate: DeviceFaceplate) -> None:
    faceplate.apply({driver_state_tag("site-meter"): Sample("connected"), **meter_batch(96.4)})
    values = faceplate.values
    assert values["power_kw"].text() == "96.4 kW"
    assert values["energy_import_kwh"].text() == "18234.50 kWh"
    assert values["voltage_l2_v"].text() == "231.0 V"
    assert values["current_l3_a"].text() == "143.0 A"
    assert values["frequency_hz"].text() == "50.01 Hz"
    assert faceplate.header.comm.text() == "ONLINE"
    view = faceplate.symbol.view
    assert isinstance(view, MeterView) and view.limit_kw == 250.0 and view.power_kw == 96.4

    faceplate.apply(meter_batch(96.4, Quality.COMM_FAILURE))
    assert values["power_kw"].text() == "✕ 96.4 kW"
    assert "Communication failure" in values["power_kw"].toolTip()


def test_the_mini_trend_follows_the_power(faceplate: DeviceFaceplate) -> None:
    start = utcnow() - timedelta(minutes=5)
    for minute in range(5):
        stamp = start + timedelta(minutes=minute)
        faceplate.apply({"DEMO/meter/power_kw": Sample(50.0 + minute * 10, ts=stamp)})
    faceplate.apply({"DEMO/meter/power_kw": Sample(1.0, ts=start)})  # older: not drawn
    assert [v for _, v in faceplate.trend_points()] == [50.0, 60.0, 70.0, 80.0, 90.0]
    _, ys = faceplate.curve.getData()
    assert list(ys) == [50.0, 60.0, 70.0, 80.0, 90.0]


def test_the_device_alarms_are_listed_and_marked(faceplate: DeviceFaceplate) -> None:
    alarms = faceplate._alarms
    assert alarms is not None
    records = [
        alarm("meter-over-limit", None, source="DEMO/meter/power_kw", message="Over 250 kW",
              priority=Priority.CRITICAL, category=Category.SYSTEM),
        alarm("comm-lost", "CP-001"),  # a charger's: not the meter's
        alarm("driver-comm", None, source="site-meter", message="No answer",
              state=AlarmState.ACKNOWLEDGED, category=Category.SYSTEM),
    ]  # fmt: skip
    alarms.apply(alarm_tags(records))
    lines = faceplate.alarm_lines.text().splitlines()
    assert sorted(lines) == ["P1 Over 250 kW (unacknowledged)", "P2 No answer"]
    mark = faceplate.symbol.view.alarm
    assert mark is not None and mark.priority is Priority.CRITICAL and mark.count == 2


def test_stop_and_resume_communication_as_commands(
    faceplate: DeviceFaceplate, sender: Sender, qtbot: Any
) -> None:
    faceplate.apply({driver_state_tag("site-meter"): Sample("connected")})
    assert not faceplate.stop.isEnabled()  # the viewer may not
    faceplate.set_actor(INTEGRATOR)
    assert faceplate.stop.isEnabled() and not faceplate.resume.isEnabled()
    qtbot.mouseClick(faceplate.stop, Qt.MouseButton.LeftButton)
    command = sender.last
    assert isinstance(command, SetDeviceEnabled)
    assert (command.device, command.enabled) == ("site-meter", False)
    sender.answer(CommandResult(Outcome.ACCEPTED, "Accepted"))
    assert "Stop communication with site-meter" in faceplate.result.text()
    faceplate.apply({driver_state_tag("site-meter"): Sample("disabled")})
    assert faceplate.header.comm.text() != "ONLINE" and faceplate.resume.isEnabled()


@pytest.mark.parametrize(
    ("kind", "batch", "expected"),
    [
        (ObjectKind.PV, {"power_kw": 31.0, "energy_kwh": 5021.0}, PvView),
        (ObjectKind.BATTERY, {"soc": 64.0, "power_kw": -20.0}, BatteryView),
        (
            ObjectKind.FEEDER,
            {"power_kw": 130.0, "limit_kw": 120.0, "breaker": "closed"},
            FeederView,
        ),
    ],
)
def test_each_kind_has_its_view_and_values(
    qtbot: Any, themed_app: Any, sender: Sender, tmp_path: Path, kind: ObjectKind,
    batch: dict[str, Any], expected: type,
) -> None:  # fmt: skip
    placed = PlacedObject(kind.value.upper(), "DEMO", 0, 0, kind=kind, prefix=f"DEMO/{kind}")
    faceplate = DeviceFaceplate(placed, sender)
    qtbot.addWidget(faceplate)
    faceplate.resize(380, 640)
    faceplate.show()
    faceplate.apply({f"DEMO/{kind}/{k}": Sample(v) for k, v in batch.items()})
    view = faceplate.symbol.view
    assert isinstance(view, expected) and view.comm is CommState.ONLINE
    assert {p.name for p in POINTS[kind]} >= set(batch)
    if isinstance(view, FeederView):
        assert view.over_limit and view.breaker is Breaker.CLOSED
        assert faceplate.values["limit_kw"].text() == "120.0 kW"
    if isinstance(view, BatteryView):
        assert faceplate.values["soc"].text() == "64 %"
    assert not faceplate.stop.isVisible()  # no driver device named: no command
    assert faceplate.grab().save(str(tmp_path / f"faceplate_{kind}.png"))


def test_a_charger_is_not_a_device() -> None:
    with pytest.raises(ValueError, match="charger"):
        DeviceState(PlacedObject("CP-001", "DEMO", 0, 0))


def test_render_the_meter_faceplate(faceplate: DeviceFaceplate, tmp_path: Path) -> None:
    start = utcnow() - timedelta(minutes=10)
    faceplate.apply({driver_state_tag("site-meter"): Sample("connected")})
    for i in range(60):
        stamp = start + timedelta(seconds=10 * i)
        faceplate.apply({"DEMO/meter/power_kw": Sample(80 + 40 * ((i // 6) % 3), ts=stamp)})
    faceplate.apply(meter_batch(156.0))
    assert faceplate.grab().save(str(tmp_path / "faceplate_meter.png"))
    faceplate.grab().save("/tmp/faceplate_meter.png")
