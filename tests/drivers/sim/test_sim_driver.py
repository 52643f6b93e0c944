"""The ``sim://`` driver: memory tags, waveforms, writes, enabling, option errors."""

from __future__ import annotations

import itertools
import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from support import wait_until

from evsuper.core.tags import Quality, Sample, TagPath
from evsuper.drivers.base import (
    DeviceSettings,
    DriverConfigError,
    DriverContext,
    LinkState,
    WriteStatus,
)
from evsuper.drivers.sim import SimDriver, create_driver


class Samples(dict[TagPath, list[Sample]]):
    def publish(self, path: TagPath, sample: Sample) -> None:
        self.setdefault(path, []).append(sample)

    def last(self, path: TagPath) -> Sample:
        return self[path][-1]


def settings(name: str = "dso", **options: Any) -> DeviceSettings:
    return DeviceSettings(name, f"sim://{name}", options=options, source="project.toml:7")


def build(samples: Samples, *devices: DeviceSettings) -> SimDriver:
    return create_driver(devices, DriverContext(samples.publish, Path(".")))


@pytest.fixture
async def dso() -> AsyncIterator[tuple[SimDriver, Samples]]:
    samples = Samples()
    driver = build(
        samples,
        settings(
            prefix="DSO",
            period_s=0.02,
            seed=3,
            tags=[
                {"name": "limit_kw", "value": 100.0, "unit": "kW"},
                {
                    "name": "load_kw",
                    "value": 50.0,
                    "waveform": "sine",
                    "amplitude": 10.0,
                    "period_s": 0.5,
                },
                {
                    "name": "count",
                    "value": 0.0,
                    "waveform": "ramp",
                    "rate": 100.0,
                    "min": 0.0,
                    "max": 10.0,
                },
                {
                    "name": "walk",
                    "value": 5.0,
                    "waveform": "random_walk",
                    "step": 1.0,
                    "min": 0.0,
                    "max": 10.0,
                },
                {"name": "mode", "value": "auto", "writable": False},
                {"name": "on", "value": True},
            ],
        ),
    )
    await driver.start()
    yield driver, samples
    await driver.stop()


async def test_constants_are_published_good_at_start(dso: tuple[SimDriver, Samples]) -> None:
    driver, samples = dso
    assert samples.last("DSO/limit_kw") == Sample(100.0, samples.last("DSO/limit_kw").ts)
    assert samples.last("DSO/mode").value == "auto"
    assert samples.last("DSO/on").quality is Quality.GOOD
    assert set(driver.tags()) == {
        f"DSO/{n}" for n in ("limit_kw", "load_kw", "count", "walk", "mode", "on")
    }
    assert driver.status()["dso"].state is LinkState.CONNECTED


async def test_waveforms_move_within_their_bounds(dso: tuple[SimDriver, Samples]) -> None:
    _, samples = dso
    await wait_until(lambda: len(samples.get("DSO/walk", [])) > 40)
    sine = [s.value for s in samples["DSO/load_kw"]]
    assert all(40.0 - 1e-9 <= v <= 60.0 + 1e-9 for v in sine)
    assert max(sine) - min(sine) > 10  # it swings
    ramp = [s.value for s in samples["DSO/count"]]
    assert all(0.0 <= v <= 10.0 for v in ramp)
    assert any(b < a for a, b in itertools.pairwise(ramp))  # wrapped from max to min
    walk = [s.value for s in samples["DSO/walk"]]
    assert all(0.0 <= v <= 10.0 for v in walk)
    assert all(abs(b - a) <= 1.0 + 1e-9 for a, b in itertools.pairwise(walk))
    assert len(set(walk)) > 5


async def test_a_write_sets_the_value(dso: tuple[SimDriver, Samples]) -> None:
    driver, samples = dso
    result = await driver.write("DSO/limit_kw", 80)
    assert result.ok and result.read_back == 80
    assert samples.last("DSO/limit_kw").value == 80
    assert (await driver.write("DSO/on", False)).ok
    # a sine keeps moving around its new centre
    assert (await driver.write("DSO/load_kw", 500.0)).ok
    await wait_until(lambda: samples.last("DSO/load_kw").value > 400)


@pytest.mark.parametrize(
    ("tag", "value", "status"),
    [
        ("DSO/mode", "manual", WriteStatus.NOT_WRITABLE),
        ("DSO/limit_kw", "high", WriteStatus.INVALID_VALUE),
        ("DSO/limit_kw", math.nan, WriteStatus.INVALID_VALUE),
        ("DSO/on", 1, WriteStatus.INVALID_VALUE),
        ("DSO/walk", 11.0, WriteStatus.INVALID_VALUE),
        ("DSO/nothing", 1, WriteStatus.UNKNOWN_TAG),
    ],
)
async def test_refused_writes(
    dso: tuple[SimDriver, Samples], tag: str, value: Any, status: WriteStatus
) -> None:
    driver, _ = dso
    result = await driver.write(tag, value)
    assert result.status is status
    assert result.detail


async def test_disabled_device_goes_not_connected_and_back(
    dso: tuple[SimDriver, Samples],
) -> None:
    driver, samples = dso
    await driver.set_enabled("dso", False)
    assert driver.status()["dso"].state is LinkState.DISABLED
    assert samples.last("DSO/limit_kw").quality is Quality.NOT_CONNECTED
    assert (await driver.write("DSO/limit_kw", 1.0)).status is WriteStatus.COMM_FAILURE
    count = len(samples["DSO/walk"])
    await driver.set_enabled("dso", True)
    assert samples.last("DSO/limit_kw").quality is Quality.GOOD
    await wait_until(lambda: len(samples["DSO/walk"]) > count + 3)
    assert driver.status()["dso"].connects == 2


async def test_a_device_disabled_in_the_project_starts_disabled() -> None:
    samples = Samples()
    device = DeviceSettings("x", "sim://x", False, {"tags": [{"name": "a", "value": 1}]})
    driver = build(samples, device)
    await driver.start()
    assert driver.status()["x"].state is LinkState.DISABLED
    assert samples.last("x/a").quality is Quality.NOT_CONNECTED
    await driver.set_enabled("x", True)
    assert samples.last("x/a").quality is Quality.GOOD
    await driver.stop()
    assert driver.status()["x"].state is LinkState.STOPPED
    assert samples.last("x/a").quality is Quality.NOT_CONNECTED


@pytest.mark.parametrize(
    ("options", "field", "reason"),
    [
        ({"tags": [{"name": "a", "value": 1}], "colour": "red"}, "colour", "unknown option"),
        ({}, "tags", "at least one"),
        ({"tags": [{"name": "a"}]}, "tags.a", "initial value"),
        ({"tags": [{"name": "a", "value": 1, "waveform": "square"}]}, "tags.a", "waveform"),
        ({"tags": [{"name": "a", "value": "x", "waveform": "sine"}]}, "tags.a", "numeric"),
        ({"tags": [{"name": "a", "value": 1, "period_s": 0}]}, "tags.a.period_s", "> 0"),
        ({"tags": [{"name": "a", "value": 1, "min": 2, "max": 1}]}, "tags.a", "min is above"),
        ({"tags": [{"name": "a", "value": 1}, {"name": "a", "value": 2}]}, "tags", "twice"),
        ({"tags": [{"name": "a", "value": 1}], "period_s": "fast"}, "period_s", "number"),
    ],
)
def test_option_errors_name_the_source_device_and_field(
    options: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(DriverConfigError) as caught:
        build(Samples(), settings(**options))
    error = caught.value
    assert (error.device, error.field) == ("dso", field)
    assert reason in error.reason
    assert str(error).startswith(f"project.toml:7: device 'dso': {field}: ")


def test_two_devices_may_not_publish_the_same_tag() -> None:
    tags = [{"name": "a", "value": 1}]
    with pytest.raises(DriverConfigError, match="also 'one'"):
        build(
            Samples(),
            settings("one", prefix="P", tags=tags),
            settings("two", prefix="P", tags=tags),
        )
