"""``[[devices]]`` in project.toml: read by the loader, checked by building the drivers,
every problem at its file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from evsuper.drivers.base import DeviceSettings
from evsuper.project.check import check_project
from evsuper.project.loader import ProjectError, load_project
from evsuper.project.model import ChargerProtocol

HEAD = """format_version = 2
name = "Drivers"

[[sites]]
id = "S1"

[[areas]]
id = "A1"
site = "S1"
"""


def write(tmp_path: Path, body: str) -> Path:
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "project.toml").write_text(HEAD + body, encoding="utf-8")
    return folder


def line_of(folder: Path, text: str, occurrence: int = 1) -> int:
    lines = (folder / "project.toml").read_text().splitlines()
    found = [i for i, line in enumerate(lines, start=1) if line.strip().startswith(text)]
    return found[occurrence - 1]


def test_devices_are_read_with_their_options_and_source(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        """
[[devices]]
name = "site-meter"
address = "modbus://127.0.0.1:5020/1"
profile = "energy-meter"
prefix = "DEMO/meter"
poll_s = 1.0

[[devices]]
name = "dso"
address = "sim://dso"
enabled = false
tags = [{ name = "limit_kw", value = 100.0 }]

[[devices]]
name = "wallbox-1"
address = "modbus://10.0.0.11"
profile = "ev-charger"

[[chargers]]
id = "MB-01"
protocol = "modbus"
device = "wallbox-1"
connectors = 1
""",
    )
    project = load_project(folder)
    meter, dso, wallbox = project.devices
    assert meter == DeviceSettings(
        "site-meter",
        "modbus://127.0.0.1:5020/1",
        True,
        {"profile": "energy-meter", "prefix": "DEMO/meter", "poll_s": 1.0},
        f"project.toml:{line_of(folder, '[[devices]]')}",
    )
    assert (dso.scheme, dso.enabled) == ("sim", False)
    assert project.charger("MB-01").protocol is ChargerProtocol.MODBUS  # type: ignore[union-attr]
    # the charger binds its device: the driver gets the charger's id as an option
    bound = {d.name: d for d in project.driver_devices()}
    assert bound["wallbox-1"].options["charger"] == "MB-01"
    assert "charger" not in bound["site-meter"].options
    assert wallbox.options == {"profile": "ev-charger"}


@pytest.mark.parametrize(
    ("body", "anchor", "field", "reason"),
    [
        (
            '[[devices]]\nname = "m"\naddress = "modbus://h/1"\nprofile = "energy-meter"\n'
            "poll_s = -1\n",
            "poll_s",
            "devices[0].poll_s",
            "must be a number of seconds > 0",
        ),
        (
            '[[devices]]\nname = "m"\naddress = "modbus://h/300"\nprofile = "energy-meter"\n',
            "address",
            "devices[0].address",
            "unit id '300' is not 0..255",
        ),
        (
            '[[devices]]\nname = "m"\naddress = "modbus://h/1"\nprofile = "energy-meter"\n'
            'colour = "red"\n',
            "colour",
            "devices[0].colour",
            "unknown option",
        ),
        (
            '[[devices]]\nname = "b"\naddress = "bacnet://h/1"\n',
            "address",
            "devices[0].address",
            "no driver for scheme 'bacnet' (known: ",
        ),
        (
            '[[devices]]\nname = "d"\naddress = "sim://d"\n'
            'tags = [{ name = "a", value = 1, waveform = "square" }]\n',
            "tags",
            "devices[0].tags.a",
            "waveform is one of constant, sine, ramp, random_walk",
        ),
        (
            '[[devices]]\nname = "m"\naddress = "modbus://h/1"\n'
            "[[devices.points]]\n"
            'name = "x"\nfunction = "coil"\naddress = 1\ntype = "float32"\n',
            "[[devices]]",
            "devices[0].points",
            "a coil point must have type bool",
        ),
        (
            '[[devices]]\nname = "m"\naddress = "modbus"\n',
            "address",
            "devices[0].address",
            "a URL such as",
        ),
        (
            '[[devices]]\nname = "m/x"\naddress = "sim://m"\n',
            'name = "m/x"',
            "devices[0].name",
            "1 to 48 letters",
        ),
    ],
)
def test_a_bad_device_is_reported_at_its_line_and_field(
    tmp_path: Path, body: str, anchor: str, field: str, reason: str
) -> None:
    folder = write(tmp_path, "\n" + body)
    with pytest.raises(ProjectError) as caught:
        load_project(folder)
    error = caught.value
    assert (error.line, error.field) == (line_of(folder, anchor), field), error
    assert reason in error.message


def test_modbus_chargers_and_their_devices_are_checked(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        """
[[devices]]
name = "m"
address = "modbus://h/1"
profile = "energy-meter"

[[devices]]
name = "m"
address = "sim://m"
charger = "X"
tags = [{ name = "a", value = 1 }]

[[chargers]]
id = "MB-01"
protocol = "modbus"
device = "nowhere"
connectors = 1

[[chargers]]
id = "MB-02"
protocol = "modbus"
device = "m"

[[chargers]]
id = "CP-01"
device = "m"
""",
    )
    found = [(p.line, p.field, p.message) for p in check_project(folder)]
    assert (line_of(folder, 'name = "m"', 2), "devices[1].name", "duplicate device 'm'") in found
    assert (
        line_of(folder, 'charger = "X"'),
        "devices[1].charger",
        "set by the [[chargers]] entry naming this device (device =)",
    ) in found
    assert (
        line_of(folder, 'device = "nowhere"'),
        "chargers[0].device",
        "'nowhere' is not a modbus device (known: m)",
    ) in found
    assert (
        line_of(folder, "[[chargers]]", 2),
        "chargers[1].connectors",
        "a Modbus wallbox has 1 connector",
    ) in found
    assert (
        line_of(folder, 'device = "m"', 2),
        "chargers[2].device",
        'only a charger with protocol = "modbus" names a device',
    ) in found


def test_two_drivers_may_not_publish_the_same_tag(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        """
[[devices]]
name = "meter"
address = "modbus://h/1"
profile = "energy-meter"
prefix = "SITE"

[[devices]]
name = "fake"
address = "sim://fake"
prefix = "SITE"
tags = [{ name = "power_kw", value = 1.0 }]
""",
    )
    (problem,) = [p for p in check_project(folder) if p.field.startswith("devices")]
    assert problem.field == "devices[1].address"
    assert "tag SITE/power_kw is also published by a modbus device" in problem.message
