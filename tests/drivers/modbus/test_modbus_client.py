"""The polling client against a real pymodbus server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from modbus_support import Recorder, free_port

from evsuper.core.tags import Quality
from evsuper.drivers.modbus.client import LinkState, ModbusDriver, WriteStatus
from evsuper.drivers.modbus.config import DataType, Device, Function, Order, Point, PollGroup
from evsuper.drivers.modbus.simulator import ModbusSimulator, UnitModel

HR = Function.HOLDING_REGISTER
IR = Function.INPUT_REGISTER
VALUES = {
    DataType.BOOL: True,
    DataType.INT16: -12345,
    DataType.UINT16: 54321,
    DataType.INT32: -1_234_567_890,
    DataType.UINT32: 3_456_789_012,
    DataType.INT64: -9_000_000_000_000_000_001,
    DataType.UINT64: 18_000_000_000_000_000_001,
    DataType.FLOAT32: -1234.5,
    DataType.FLOAT64: 3.141592653589793,
    DataType.STRING: "EVSE-42",
}


def device(port: int, points: tuple[Point, ...], **options: Any) -> Device:
    fields: dict[str, Any] = {
        "timeout_s": 0.5,
        "reconnect_min_s": 0.05,
        "reconnect_max_s": 0.2,
        "groups": (PollGroup("default", 0.1),),
    } | options
    return Device("dev", "127.0.0.1", port, unit_id=7, points=points, **fields)


@pytest.fixture
async def unit() -> UnitModel:
    return UnitModel()


@pytest.fixture
async def server(unit: UnitModel) -> AsyncIterator[ModbusSimulator]:
    async with ModbusSimulator({7: unit}) as sim:
        yield sim


def all_types_and_orders() -> tuple[Point, ...]:
    points = []
    address = 0
    for function, dtype, word, byte in itertools.product((HR, IR), DataType, Order, Order):
        if dtype is DataType.STRING and word is Order.LITTLE:
            continue  # strings have a byte order only
        length = 4 if dtype is DataType.STRING else 0
        tag = f"dev/{function.value}/{dtype.value}/{word.value}-{byte.value}"
        point = Point(tag, function, address, dtype, length, word, byte)
        points.append(point)
        address = point.end
    bits = [
        Point(f"dev/{fn.value}/{i}", fn, 3 + i * 5, DataType.BOOL)
        for fn in (Function.COIL, Function.DISCRETE_INPUT)
        for i in range(4)
    ]
    return (*points, *bits)


async def test_every_data_type_and_order(
    server: ModbusSimulator, unit: UnitModel, recorder: Recorder
) -> None:
    points = all_types_and_orders()
    for point in points:
        value = VALUES[point.data_type] if not point.function.is_bit else point.address % 2 == 1
        unit.image.set(point, value)
    # one value laid out by hand: float32 1.0 with little-endian words and bytes
    manual = Point("dev/manual", HR, 1000, DataType.FLOAT32, 0, Order.LITTLE, Order.LITTLE)
    unit.image.tables[HR][1000:1002] = [0x0000, 0x803F]
    async with ModbusDriver([device(server.port, (*points, manual), max_gap=0)], recorder.publish):
        await recorder.wait_for(lambda: all(recorder.good(p.tag) for p in (*points, manual)))
    for point in points:
        sample = recorder.last(point.tag)
        assert sample is not None
        expected = VALUES[point.data_type] if not point.function.is_bit else point.address % 2 == 1
        assert sample.value == expected, point.tag
    assert recorder.value("dev/manual") == 1.0


async def test_merged_reads(server: ModbusSimulator, unit: UnitModel, recorder: Recorder) -> None:
    points = (
        Point("dev/a", HR, 0),
        Point("dev/b", HR, 1, DataType.FLOAT32),
        Point("dev/c", HR, 10),  # 7 unused registers after b: merged with max_gap 8
        Point("dev/d", HR, 200),
        Point("dev/e", IR, 0),
    )
    config = device(server.port, points, max_gap=8, groups=(PollGroup("default", 3600),))
    async with ModbusDriver([config], recorder.publish) as driver:
        await recorder.wait_for(lambda: all(recorder.good(p.tag) for p in points))
        assert driver.status()["dev"].requests == 3
    assert unit.requests == 3


async def test_groups_poll_at_their_own_period(server: ModbusSimulator, recorder: Recorder) -> None:
    points = (Point("dev/fast", HR, 0, group="fast"), Point("dev/slow", HR, 1, group="slow"))
    groups = (PollGroup("fast", 0.05), PollGroup("slow", 3600))
    async with ModbusDriver([device(server.port, points, groups=groups)], recorder.publish):
        await recorder.wait_for(lambda: len(recorder.samples.get("dev/fast", [])) >= 10)
        assert len(recorder.samples["dev/slow"]) == 1


class SmallUnit(UnitModel):
    """Answers addresses 0..999 only."""

    def served(self, function: Function) -> tuple[int, int]:
        return 0, 1000


@pytest.fixture
async def small_unit() -> AsyncIterator[tuple[ModbusSimulator, UnitModel]]:
    unit = SmallUnit()
    async with ModbusSimulator({7: unit}) as sim:
        yield sim, unit


async def test_writes_with_read_back(
    small_unit: tuple[ModbusSimulator, UnitModel], recorder: Recorder
) -> None:
    server, unit = small_unit
    setpoint = Point("dev/setpoint", HR, 10, DataType.INT16, scale=0.1, writable=True)
    wide = Point("dev/wide", HR, 20, DataType.FLOAT64, word_order=Order.LITTLE, writable=True)
    coil = Point("dev/enable", Function.COIL, 5, DataType.BOOL, writable=True)
    reading = Point("dev/reading", IR, 0)
    outside = Point("dev/outside", HR, 65000, writable=True)  # the unit answers "illegal address"
    config = device(server.port, (setpoint, wide, coil, reading))
    other = Device("other", "127.0.0.1", server.port, unit_id=7, points=(outside,))
    async with ModbusDriver([config, other], recorder.publish) as driver:
        await recorder.wait_for(lambda: recorder.good("dev/setpoint"))

        result = await driver.write("dev/setpoint", -12.3)
        assert (result.status, result.read_back) == (WriteStatus.OK, pytest.approx(-12.3))
        assert unit.image.tables[HR][10] == (-123) & 0xFFFF
        assert (await driver.write("dev/wide", 1e300)).ok
        assert unit.image.get(wide) == 1e300
        assert (await driver.write("dev/enable", True)).ok
        assert unit.image.tables[Function.COIL][5] is True
        await recorder.wait_for(lambda: recorder.value("dev/enable") is True)

        assert (await driver.write("dev/reading", 1)).status is WriteStatus.NOT_WRITABLE
        assert (await driver.write("dev/nothing", 1)).status is WriteStatus.UNKNOWN_TAG
        invalid = await driver.write("dev/setpoint", 5000)
        assert invalid.status is WriteStatus.INVALID_VALUE
        assert "out of range for int16" in invalid.detail
        await recorder.wait_for(lambda: driver.status()["other"].errors > 0)
        rejected = await driver.write("dev/outside", 1)
        assert rejected.status is WriteStatus.REJECTED
        assert "exception code 2" in rejected.detail
        assert recorder.quality("dev/outside") is Quality.BAD
        assert recorder.quality("dev/setpoint") is Quality.GOOD


async def test_server_restart(server: ModbusSimulator, unit: UnitModel, recorder: Recorder) -> None:
    point = Point("dev/value", HR, 0, writable=True)
    unit.image.set(point, 42)
    async with ModbusDriver([device(server.port, (point,))], recorder.publish) as driver:
        await recorder.wait_for(lambda: recorder.good("dev/value"))
        status = driver.status()["dev"]
        assert status.state is LinkState.CONNECTED
        assert status.connected_since is not None

        await server.stop()
        await recorder.wait_for(lambda: recorder.quality("dev/value") is Quality.COMM_FAILURE)
        failed = recorder.last("dev/value")
        assert failed is not None and failed.value == 42  # last value kept, marked
        assert status.errors >= 1 and status.last_error
        offline = await driver.write("dev/value", 1)
        assert (offline.status, offline.detail) == (WriteStatus.COMM_FAILURE, "not connected")

        unit.image.set(point, 43)
        await server.start()
        await recorder.wait_for(lambda: recorder.good("dev/value"))
        assert recorder.value("dev/value") == 43
        assert status.connects >= 2


async def test_back_off_is_capped(recorder: Recorder) -> None:
    with_nothing = free_port()
    config = device(
        with_nothing, (Point("dev/x", HR, 0),), reconnect_min_s=0.01, reconnect_max_s=0.04
    )
    async with ModbusDriver([config], recorder.publish) as driver:
        status = driver.status()["dev"]
        await recorder.wait_for(lambda: recorder.last("dev/x") is not None)
        assert recorder.quality("dev/x") is Quality.COMM_FAILURE
        async with asyncio.timeout(5):
            while status.errors < 6:  # noqa: ASYNC110 (a counter, no event)
                await asyncio.sleep(0.01)
        assert status.next_retry_s == 0.04
        assert status.connects == 0
        assert len(recorder.samples["dev/x"]) == 1  # comm-failure published once, not per retry
    assert recorder.quality("dev/x") is Quality.NOT_CONNECTED
    assert status.state is LinkState.STOPPED


async def test_silent_device_does_not_delay_others(
    server: ModbusSimulator, recorder: Recorder
) -> None:
    """One device accepts the connection and never answers; the other keeps its period."""

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(1024):
            pass
        writer.close()

    silent = await asyncio.start_server(swallow, "127.0.0.1", 0)
    silent_port = silent.sockets[0].getsockname()[1]
    good = device(server.port, (Point("good/v", HR, 0),), groups=(PollGroup("default", 0.05),))
    mute = Device(
        "mute",
        "127.0.0.1",
        silent_port,
        timeout_s=0.5,
        reconnect_min_s=0.01,
        reconnect_max_s=0.01,
        groups=(PollGroup("default", 0.05),),
        points=(Point("mute/v", HR, 0),),
    )
    try:
        async with ModbusDriver([good, mute], recorder.publish) as driver:
            mute_status = driver.status()["mute"]
            await recorder.wait_for(lambda: recorder.good("good/v"))
            loop = asyncio.get_running_loop()
            start = loop.time()
            async with asyncio.timeout(10):
                while mute_status.errors < 3:  # noqa: ASYNC110 (three request timeouts of 0.5 s)
                    await asyncio.sleep(0.05)
            end = loop.time()
            assert mute_status.last_error == "timeout"
            assert recorder.quality("mute/v") is Quality.COMM_FAILURE
            assert mute_status.connects >= 3  # it did connect: the silence is after that
    finally:
        silent.close()
        await silent.wait_closed()
    times = [t for t, s in recorder.samples["good/v"] if start <= t <= end]
    assert end - start >= 1.0
    assert len(times) >= (end - start) / 0.05 * 0.5
    assert max(b - a for a, b in itertools.pairwise([start, *times, end])) < 0.3
