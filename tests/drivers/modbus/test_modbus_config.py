"""Configuration validation and the shipped profiles."""

from __future__ import annotations

from typing import Any

import pytest

from evsuper.drivers.modbus.config import (
    ConfigError,
    DataType,
    Device,
    Function,
    Point,
    PollGroup,
    parse_data_type,
)
from evsuper.drivers.modbus.planner import plan_reads
from evsuper.drivers.modbus.profiles import available_profiles, load_profile, parse_profile

HR = Function.HOLDING_REGISTER


def test_parse_data_type() -> None:
    assert parse_data_type("float32") == (DataType.FLOAT32, 0)
    assert parse_data_type(" String(8) ") == (DataType.STRING, 8)
    with pytest.raises(ConfigError, match=r"unknown data type 'float16' \(known: bool, int16"):
        parse_data_type("float16")
    with pytest.raises(ConfigError, match="positive register count"):
        parse_data_type("string(0)")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"address": 70000}, "address 70000 outside 0..65535"),
        ({"address": 65535, "data_type": DataType.FLOAT32}, "run past address 65535"),
        ({"function": Function.COIL, "data_type": DataType.UINT16}, "must have type bool"),
        ({"data_type": DataType.STRING}, "needs its length"),
        ({"length": 3}, "length applies to string points only"),
        ({"data_type": DataType.STRING, "length": 126}, "longer than one read"),
        ({"scale": 0.0}, "scale must be a finite non-zero"),
        ({"offset": float("nan")}, "offset must be finite"),
        ({"data_type": DataType.BOOL, "scale": 2.0}, "numbers only"),
        ({"function": Function.INPUT_REGISTER, "writable": True}, "cannot be written"),
    ],
)
def test_point_validation(kwargs: dict[str, Any], message: str) -> None:
    fields: dict[str, Any] = {"tag": "d/p", "function": HR, "address": 0} | kwargs
    with pytest.raises(ConfigError, match=message):
        Point(**fields)


def test_point_counts() -> None:
    assert Point("d/a", HR, 10, DataType.FLOAT64).end == 14
    assert Point("d/b", HR, 10, DataType.STRING, length=5).count == 5
    assert Point("d/c", Function.COIL, 10, DataType.BOOL).count == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"port": 0}, "port 0 outside"),
        ({"unit_id": 256}, "unit id 256"),
        ({"timeout_s": 0.0}, "timeout_s must be > 0"),
        ({"reconnect_min_s": 5.0, "reconnect_max_s": 1.0}, "below reconnect_min_s"),
        ({"points": ()}, "no points"),
        ({"groups": (PollGroup("a", 1), PollGroup("a", 2))}, "names must be unique"),
        ({"points": (Point("x/p", HR, 0), Point("x/p", HR, 1))}, "tag bound twice: x/p"),
        ({"points": (Point("x/p", HR, 0, group="fast"),)}, "unknown poll group 'fast'"),
    ],
)
def test_device_validation(kwargs: dict[str, Any], message: str) -> None:
    fields: dict[str, Any] = {"points": (Point("x/p", HR, 0),)} | kwargs
    with pytest.raises(ConfigError, match=message):
        Device("dev", "127.0.0.1", **fields)
    with pytest.raises(ConfigError, match="period must be > 0"):
        PollGroup("g", 0)


def test_shipped_profiles_load_and_plan() -> None:
    assert available_profiles() == ["energy-meter", "ev-charger", "pv-inverter"]
    for name in available_profiles():
        profile = load_profile(name)
        device = profile.device("B07", "10.0.0.7", tag_prefix="SITE1/B07", unit_id=3)
        assert device.unit_id == 3
        assert all(p.tag.startswith("SITE1/B07/") for p in device.points)
        for group in device.groups:
            assert plan_reads(device.group_points(group.name), device.max_gap)
    charger = load_profile("ev-charger")
    limit = charger.point("current_limit_a")
    assert (limit.function, limit.address, limit.scale, limit.writable) == (HR, 100, 0.1, True)
    assert load_profile("ev-charger").device("CP1", "h").point("CP1/power_kw") is not None


def test_unknown_profile() -> None:
    with pytest.raises(ConfigError, match=r"no Modbus profile 'nope' \(known: energy-meter"):
        load_profile("nope")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[profile\n", "p.toml: "),
        ('[profile]\n[[points]]\nname="a"\nfunction="coil"\naddress=0', "needs a name"),
        (
            '[profile]\nname="x"\n[[points]]\nname="a"\nfunction="register"\naddress=1',
            "point 'a': unknown function 'register'",
        ),
        (
            '[profile]\nname="x"\n[[points]]\nname="a"\nfunction="coil"\naddress=1\ncolour=1',
            "point 'a': unknown keys colour",
        ),
        (
            '[profile]\nname="x"\n[[points]]\nname="a"\nfunction="coil"\naddress=1\ntype="int16"',
            "point 'a': a coil point must have type bool",
        ),
        (
            '[profile]\nname="x"\n[[points]]\nname="a"\nfunction="coil"',
            "point 'a': missing 'address'",
        ),
        (
            '[profile]\nname="x"\n[[points]]\nname="a"\nfunction="coil"\naddress=0\ngroup="g"',
            "unknown poll group 'g'",
        ),
    ],
)
def test_profile_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_profile(text, "p.toml")
