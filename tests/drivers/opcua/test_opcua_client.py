"""The OPC UA client driver against the real asyncua simulator on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import pytest_asyncio
from asyncua import ua
from opcua_support import Recorder, endpoint
from support import wait_until

from evsuper.core.tags import Quality
from evsuper.drivers.base import (
    DeviceSettings,
    DriverConfigError,
    DriverContext,
    LinkState,
    WriteStatus,
)
from evsuper.drivers.opcua import create_driver
from evsuper.drivers.opcua.client import OpcUaDriver
from evsuper.drivers.opcua.simulator import (
    APPLICATION_URI,
    OpcUaSimulator,
    SimulatorSecurity,
    node_id,
    self_signed_certificate,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

LOAD = node_id("Building.Load")
PV = node_id("PV.Production")
LIMIT = node_id("DSO.Limit")


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sim() -> AsyncIterator[OpcUaSimulator]:
    """One frozen simulator for the module: tests set the values they look for."""
    async with OpcUaSimulator(step_s=0) as simulator:
        yield simulator


async def test_values_flow_through_the_subscription(sim: OpcUaSimulator, recorder: Recorder):
    ep = endpoint(
        sim.url,
        [
            {"tag": "B/load_kw", "node": LOAD, "sampling_ms": 50, "unit": "kW"},
            # by namespace URI: resolved through the server's namespace array
            {"tag": "B/pv_kw", "node": "nsu=urn:evsuper:simulator;s=PV.Production"},
        ],
    )
    await sim.set_value("PV.Production", 12.5)
    async with OpcUaDriver([ep], recorder.publish) as driver:
        await recorder.wait_for(lambda: recorder.value("B/pv_kw") == 12.5)
        for value in (100.0, 101.0, 102.5):
            await sim.set_value("Building.Load", value)
            await recorder.wait_for(lambda v=value: recorder.value("B/load_kw") == v)
        assert recorder.values("B/load_kw")[-3:] == [100.0, 101.0, 102.5]
        sample = recorder.last("B/load_kw")
        assert sample is not None and sample.quality is Quality.GOOD
        assert sample.ts.tzinfo is not None and sample.ts.utcoffset() == UTC.utcoffset(None)
        status = driver.status()["bms"]
        assert status.state is LinkState.CONNECTED and status.connects == 1
        assert status.requests >= 4 and status.errors == 0


async def test_deadband_suppresses_small_changes(sim: OpcUaSimulator, recorder: Recorder):
    ep = endpoint(
        sim.url,
        [
            {"tag": "B/load_kw", "node": LOAD, "sampling_ms": 50, "deadband": 5.0},
            # 2 % of the EURange 0..200 kW: 4 kW
            {"tag": "B/pv_kw", "node": PV, "deadband": 2.0, "deadband_type": "percent"},
        ],
    )
    await sim.set_value("Building.Load", 100.0)
    await sim.set_value("PV.Production", 50.0)
    async with OpcUaDriver([ep], recorder.publish):
        await recorder.wait_for(lambda: recorder.value("B/load_kw") == 100.0)
        await recorder.wait_for(lambda: recorder.value("B/pv_kw") == 50.0)
        for load, pv in ((103.0, 53.0), (104.0, 51.0), (111.0, 60.0)):
            await sim.set_value("Building.Load", load)
            await sim.set_value("PV.Production", pv)
        await recorder.wait_for(lambda: recorder.value("B/load_kw") == 111.0)
        await recorder.wait_for(lambda: recorder.value("B/pv_kw") == 60.0)
    assert recorder.values("B/load_kw")[:2] == [100.0, 111.0]
    assert recorder.values("B/pv_kw")[:2] == [50.0, 60.0]


async def test_poll_mode_reads_and_keeps_the_deadband(sim: OpcUaSimulator, recorder: Recorder):
    ep = endpoint(
        sim.url,
        [{"tag": "B/load_kw", "node": LOAD, "sampling_ms": 20, "deadband": 5.0, "scale": 1000}],
        mode="poll",
    )
    await sim.set_value("Building.Load", 10.0)
    async with OpcUaDriver([ep], recorder.publish) as driver:
        await recorder.wait_for(lambda: recorder.value("B/load_kw") == 10_000.0)
        await sim.set_value("Building.Load", 10.002)  # 2 W: within 5 kW times the scale
        status = driver.status()["bms"]
        reads = status.requests
        await wait_until(lambda: status.requests >= reads + 3)  # read it three times
        await sim.set_value("Building.Load", 20.0)
        await recorder.wait_for(lambda: recorder.value("B/load_kw") == 20_000.0)
    assert recorder.values("B/load_kw")[:2] == [10_000.0, 20_000.0]


async def test_quality_follows_the_status_code(sim: OpcUaSimulator, recorder: Recorder):
    ep = endpoint(sim.url, [{"tag": "B/load_kw", "node": LOAD, "sampling_ms": 50}])
    await sim.set_value("Building.Load", 1.0)
    async with OpcUaDriver([ep], recorder.publish):
        await recorder.wait_for(lambda: recorder.value("B/load_kw") == 1.0)
        cases = (
            (ua.StatusCodes.UncertainLastUsableValue, Quality.UNCERTAIN),
            (ua.StatusCodes.BadSensorFailure, Quality.BAD),
            (ua.StatusCodes.Good, Quality.GOOD),
        )
        for status, quality in cases:
            await sim.set_value("Building.Load", 1.0, status)
            await recorder.wait_for(lambda q=quality: recorder.quality("B/load_kw") is q)


async def test_an_unknown_node_is_bad_and_the_others_flow(sim: OpcUaSimulator, recorder: Recorder):
    ep = endpoint(
        sim.url,
        [
            {"tag": "B/missing", "node": "ns=2;s=No.Such.Node"},
            {"tag": "B/load_kw", "node": LOAD, "sampling_ms": 50},
        ],
    )
    await sim.set_value("Building.Load", 7.0)
    async with OpcUaDriver([ep], recorder.publish) as driver:
        await recorder.wait_for(lambda: recorder.quality("B/missing") is Quality.BAD)
        await recorder.wait_for(lambda: recorder.value("B/load_kw") == 7.0)
        status = driver.status()["bms"]
        assert status.state is LinkState.CONNECTED
        assert status.last_error == "BadNodeIdUnknown"


async def test_writes_are_typed_read_back_and_refused_when_they_must(
    sim: OpcUaSimulator, recorder: Recorder
):
    ep = endpoint(
        sim.url,
        [
            {"tag": "B/limit_kw", "node": LIMIT, "writable": True},
            {"tag": "B/limit_w", "node": LIMIT, "writable": True, "scale": 1000, "unit": "W"},
            # the project says writable, the server says no
            {"tag": "B/load_kw", "node": LOAD, "writable": True},
            {"tag": "B/pv_kw", "node": PV},
        ],
    )
    async with OpcUaDriver([ep], recorder.publish) as driver:
        await wait_until(lambda: driver.status()["bms"].state is LinkState.CONNECTED)
        result = await driver.write("B/limit_kw", 250)  # an int, written as the node's Double
        assert result.status is WriteStatus.OK, result
        assert result.read_back == 250.0 and sim.value("DSO.Limit") == 250.0
        assert recorder.value("B/limit_kw") == 250.0

        result = await driver.write("B/limit_w", 321_000)
        assert result.ok and result.read_back == 321_000.0
        assert sim.value("DSO.Limit") == 321.0

        rejected = await driver.write("B/load_kw", 5.0)
        assert rejected.status is WriteStatus.REJECTED
        assert rejected.detail.startswith("Bad")
        assert (await driver.write("B/pv_kw", 1.0)).status is WriteStatus.NOT_WRITABLE
        assert (await driver.write("B/limit_kw", "high")).status is WriteStatus.INVALID_VALUE
        assert (await driver.write("B/nothing", 1.0)).status is WriteStatus.UNKNOWN_TAG
        assert driver.writable("B/limit_kw") and not driver.writable("B/pv_kw")
    assert recorder.quality("B/limit_kw") is Quality.NOT_CONNECTED
    result = await driver.write("B/limit_kw", 1.0)
    assert result.status is WriteStatus.COMM_FAILURE


async def test_reconnect_after_a_server_restart_restores_the_subscription(
    recorder: Recorder, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO)
    async with OpcUaSimulator(step_s=0) as own:
        points = [
            {"tag": "B/load_kw", "node": LOAD, "sampling_ms": 50},
            {"tag": "B/limit_kw", "node": LIMIT, "writable": True},
        ]
        ep = endpoint(own.url, points)
        polled = endpoint(own.url, [{"tag": "P/load_kw", "node": LOAD}], name="poll", mode="poll")
        await own.set_value("Building.Load", 1.0)
        async with OpcUaDriver([ep, polled], recorder.publish) as driver:
            status = driver.status()["bms"]
            await recorder.wait_for(lambda: recorder.value("B/load_kw") == 1.0)
            assert (await driver.write("B/limit_kw", 222.0)).ok
            await own.stop()
            await recorder.wait_for(lambda: recorder.quality("B/load_kw") is Quality.COMM_FAILURE)
            assert recorder.value("B/load_kw") == 1.0  # the last value, marked
            errors = status.errors
            await wait_until(lambda: status.errors >= errors + 2)  # refused retries
            assert status.state in (LinkState.WAITING, LinkState.CONNECTING)
            await own.start()  # same port, the written limit kept
            await recorder.wait_for(lambda: recorder.quality("B/load_kw") is Quality.GOOD)
            await recorder.wait_for(lambda: recorder.quality("B/limit_kw") is Quality.GOOD)
            assert recorder.value("B/limit_kw") == 222.0
            await own.set_value("Building.Load", 42.0)
            await recorder.wait_for(lambda: recorder.value("B/load_kw") == 42.0)
            await recorder.wait_for(lambda: recorder.value("P/load_kw") == 42.0)
            assert status.connects == 2 and driver.status()["poll"].connects == 2
    for tag in ("B/load_kw", "P/load_kw"):
        assert recorder.qualities(tag).count(Quality.COMM_FAILURE) == 1
    # the lost link is the driver's to report: asyncua's report of it is at debug level
    lost = [
        r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("asyncua")
    ]
    assert lost == []
    # nor at debug level when the log shows INFO and above (the records are dropped)
    assert not [r for r in caplog.records if "Publish iteration crashed" in r.getMessage()]
    assert any("opcua device bms" in r.getMessage() for r in caplog.records)


async def test_a_dead_endpoint_does_not_delay_another(sim: OpcUaSimulator, recorder: Recorder):
    # accepts TCP connections and never answers: the OPC UA Hello waits forever
    held: list[asyncio.StreamWriter] = []

    async def black_hole(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(black_hole, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    dead = endpoint(
        f"opc.tcp://127.0.0.1:{port}/",
        [{"tag": "D/x", "node": LOAD}],
        name="dead",
        connect_timeout_s=60,
    )
    live = endpoint(sim.url, [{"tag": "B/load_kw", "node": LOAD, "sampling_ms": 50}])
    try:
        async with OpcUaDriver([dead, live], recorder.publish) as driver:
            await recorder.wait_for(lambda: held)
            for value in (11.0, 12.0, 13.0):
                await sim.set_value("Building.Load", value)
                await recorder.wait_for(lambda v=value: recorder.value("B/load_kw") == v)
            assert driver.status()["dead"].state is LinkState.CONNECTING
            assert recorder.last("D/x") is None
        # stopping cancels the connection attempt stuck in its Hello
        assert recorder.quality("D/x") is Quality.NOT_CONNECTED
    finally:
        for writer in held:
            writer.close()
        server.close()


async def test_disable_enable_and_stop(sim: OpcUaSimulator, recorder: Recorder):
    points = [
        {"tag": "B/load_kw", "node": LOAD, "sampling_ms": 50},
        {"tag": "B/limit_kw", "node": LIMIT, "writable": True},
    ]
    ep = endpoint(sim.url, points)
    await sim.set_value("Building.Load", 3.0)
    driver = OpcUaDriver([ep], recorder.publish)
    await driver.start()
    await recorder.wait_for(lambda: recorder.quality("B/load_kw") is Quality.GOOD)
    await driver.set_enabled("bms", False)
    assert recorder.quality("B/load_kw") is Quality.NOT_CONNECTED
    assert driver.status()["bms"].state is LinkState.DISABLED
    refused = await driver.write("B/limit_kw", 5.0)
    assert (refused.status, refused.detail) == (WriteStatus.COMM_FAILURE, "device disabled")
    await driver.set_enabled("bms", True)
    await recorder.wait_for(lambda: recorder.quality("B/load_kw") is Quality.GOOD)
    await driver.stop()
    assert recorder.quality("B/load_kw") is Quality.NOT_CONNECTED
    assert driver.status()["bms"].state is LinkState.STOPPED


async def test_the_factory_is_the_opc_tcp_entry_point(sim: OpcUaSimulator, recorder: Recorder):
    (entry,) = entry_points(group="evsuper.drivers", name="opc.tcp")
    assert entry.load() is create_driver
    devices = [
        DeviceSettings("bms", sim.url, options={"points": [{"tag": "B/load_kw", "node": LOAD}]}),
        DeviceSettings(
            "spare",
            sim.url,
            enabled=False,
            options={"points": [{"tag": "S/pv_kw", "node": PV, "writable": True}]},
        ),
    ]
    driver = create_driver(devices, DriverContext(recorder.publish, Path(".")))
    assert sorted(driver.tags()) == ["B/load_kw", "S/pv_kw"]
    assert driver.owns("S/pv_kw") and not driver.owns("X/y")
    assert driver.writable("S/pv_kw") and not driver.writable("B/load_kw")
    async with driver:
        await recorder.wait_for(lambda: recorder.quality("B/load_kw") is Quality.GOOD)
        assert driver.status()["spare"].state is LinkState.DISABLED
        assert recorder.quality("S/pv_kw") is Quality.NOT_CONNECTED

    twice = [devices[0], DeviceSettings("other", sim.url, options=devices[0].options)]
    with pytest.raises(DriverConfigError, match="'B/load_kw' is already bound by device 'bms'"):
        create_driver(twice, DriverContext(recorder.publish, Path(".")))


async def test_a_simulated_device_is_served_by_the_drivers_own_simulator(recorder: Recorder):
    # the address names a host nobody serves: a simulated device never goes there
    options = {"simulate": True, "points": [{"tag": "B/limit_kw", "node": LIMIT, "writable": True}]}
    device = DeviceSettings("dso", "opc.tcp://192.0.2.1:4840", options=options)
    driver = create_driver([device], DriverContext(recorder.publish, Path(".")))
    async with driver:
        await recorder.wait_for(lambda: recorder.quality("B/limit_kw") is Quality.GOOD)
        assert driver.simulator is not None
        assert driver.devices["dso"].endpoint.url == driver.simulator.url
        assert (await driver.write("B/limit_kw", 150.0)).ok
        assert driver.simulator.value("DSO.Limit") == 150.0
    assert driver.simulator is None
    secure = {**options, "security_policy": "Basic256Sha256"}
    with pytest.raises(DriverConfigError, match="simulate"):
        create_driver(
            [DeviceSettings("dso", device.address, options=secure)],
            DriverContext(recorder.publish, Path(".")),
        )


async def test_basic256sha256_with_a_user_or_a_certificate(
    tmp_path: Path, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
):
    server_cert, server_key = self_signed_certificate(
        tmp_path / "server", "simulator", APPLICATION_URI, client=False
    )
    self_signed_certificate(tmp_path / "pki", "evsuper", "urn:evsuper:client", client=True)
    security = SimulatorSecurity(server_cert, server_key, users={"operator": "s3cret"})
    monkeypatch.setenv("EVSUPER_TEST_OPCUA_PASSWORD", "s3cret")
    monkeypatch.setenv("EVSUPER_TEST_OPCUA_WRONG", "guess")
    secure = {
        "security_policy": "Basic256Sha256",
        "security_mode": "SignAndEncrypt",
        "certificate": "pki/evsuper.der",  # relative to the project directory
        "private_key": "pki/evsuper.pem",
    }
    async with OpcUaSimulator(step_s=0, security=security) as own:
        points = [{"tag": "B/limit_kw", "node": LIMIT, "writable": True}]
        good = endpoint(
            own.url,
            points,
            project_dir=tmp_path,
            authentication="username",
            username="operator",
            password_env="EVSUPER_TEST_OPCUA_PASSWORD",
            **secure,
        )
        wrong = endpoint(
            own.url,
            [{"tag": "W/limit_kw", "node": LIMIT}],
            name="wrong",
            project_dir=tmp_path,
            authentication="username",
            username="operator",
            password_env="EVSUPER_TEST_OPCUA_WRONG",
            **secure,
        )
        anonymous = endpoint(
            own.url,
            [{"tag": "A/limit_kw", "node": LIMIT}],
            name="anon",
            **{"project_dir": tmp_path, **secure},
        )
        by_certificate = endpoint(
            own.url,
            [{"tag": "C/limit_kw", "node": LIMIT}],
            name="cert",
            project_dir=tmp_path,
            authentication="certificate",
            **{**secure, "security_mode": "Sign"},
        )
        devices = [good, wrong, anonymous, by_certificate]
        async with OpcUaDriver(devices, recorder.publish) as driver:
            await recorder.wait_for(lambda: recorder.value("B/limit_kw") == 400.0)
            await recorder.wait_for(lambda: recorder.value("C/limit_kw") == 400.0)
            result = await driver.write("B/limit_kw", 180.0)
            assert result.ok, result
            await wait_until(lambda: driver.status()["wrong"].errors >= 1)
            await wait_until(lambda: driver.status()["anon"].errors >= 1)
            status = driver.status()
            assert status["bms"].state is LinkState.CONNECTED
            assert status["wrong"].last_error == "BadUserAccessDenied"
            assert status["anon"].last_error == "BadIdentityTokenRejected"
            assert recorder.quality("W/limit_kw") is Quality.COMM_FAILURE
