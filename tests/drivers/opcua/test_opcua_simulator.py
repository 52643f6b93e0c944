"""The OPC UA simulator, read by a plain asyncua client (not the driver under test)."""

from __future__ import annotations

import asyncio
import socket
import sys

import pytest
from asyncua import Client, ua

from evsuper.drivers.opcua.simulator import (
    NAMESPACE,
    OpcUaSimulator,
    extra_value_name,
    node_id,
)


async def test_address_space_units_ranges_and_moving_values():
    async with (
        OpcUaSimulator(step_s=0.02, period_s=1.0, day_length_s=2.0, test_values=3) as sim,
        Client(sim.url) as client,
    ):
        assert await client.get_namespace_index(NAMESPACE) == 2
        load = client.get_node(node_id("Building.Load"))
        eu = await (await load.get_child("0:EngineeringUnits")).read_value()
        assert eu.DisplayName.Text == "kW" and eu.UnitId == int.from_bytes(b"KWT", "big")
        eu_range = await (await load.get_child("0:EURange")).read_value()
        assert (eu_range.Low, eu_range.High) == (0.0, 400.0)
        assert await load.read_data_type_as_variant_type() == ua.VariantType.Double

        seen: set[float] = set()
        pv: set[float] = set()
        values = client.get_node(node_id(extra_value_name(3)))
        async with asyncio.timeout(10):
            while len(seen) < 5 or not any(v > 0 for v in pv) or 0.0 not in pv:
                seen.add(await load.read_value())
                pv.add(await client.get_node(node_id("PV.Production")).read_value())
                await asyncio.sleep(0.02)
        assert all(85.0 <= v <= 155.0 for v in seen)  # 120 kW, ± 25 % and a little noise
        read = {await values.read_value()}
        async with asyncio.timeout(10):
            while len(read) < 2:  # the extra values step too
                await asyncio.sleep(0.02)
                read.add(await values.read_value())

        # only the DSO limit is writable
        limit = client.get_node(node_id("DSO.Limit"))
        await limit.write_value(ua.Variant(123.0, ua.VariantType.Double))
        assert sim.value("DSO.Limit") == 123.0
        with pytest.raises(ua.UaStatusCodeError) as refused:
            await load.write_value(ua.Variant(1.0, ua.VariantType.Double))
        # asyncua checks the user access level first
        assert refused.value.code == ua.StatusCodes.BadUserAccessDenied


async def test_standalone():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "evsuper.drivers.opcua.simulator",
        "--port",
        str(port),
        "--step",
        "0.1",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(30):
            line = (await process.stdout.readline()).decode()
        assert line.strip() == f"OPC UA simulator on opc.tcp://127.0.0.1:{port}/evsuper/sim"
        async with Client(f"opc.tcp://127.0.0.1:{port}/evsuper/sim") as client:
            value = await client.get_node(node_id("Building.Load")).read_value()
            assert isinstance(value, float) and value > 0
    finally:
        process.terminate()
        await process.wait()
