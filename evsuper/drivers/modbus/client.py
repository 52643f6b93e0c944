"""Modbus TCP polling client: one task per device, samples out through ``publish``.

Each device has its own connection, timeouts and back-off, so a dead or silent device
never delays another. ``publish(path, sample)`` is ``TagBus.publish`` in the engine.
``ModbusDriver`` is the ``modbus://`` driver of ``evsuper.drivers.base``; ``factory.py``
builds it from a project's ``[[devices]]``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException
from pymodbus.pdu import ModbusPDU

from evsuper.core.tags import Quality, Sample, TagPath
from evsuper.core.timeutil import utcnow
from evsuper.drivers.base import (
    DeviceDriver,
    DeviceStatus,
    LinkState,
    Publish,
    WriteResult,
    WriteStatus,
)
from evsuper.drivers.modbus import codec
from evsuper.drivers.modbus.config import Device, Function, Point
from evsuper.drivers.modbus.mapping import ChargerMapping
from evsuper.drivers.modbus.planner import ReadRequest, plan_reads
from evsuper.drivers.modbus.simulator import (
    ChargerModel,
    MeterModel,
    ModbusSimulator,
    PvInverterModel,
    UnitModel,
)

__all__ = [
    "DeviceStatus",
    "LinkState",
    "ModbusDevice",
    "ModbusDriver",
    "WriteResult",
    "WriteStatus",
]

log = logging.getLogger(__name__)

# what breaks the link (as opposed to an exception answer from the device)
_LINK_ERRORS = (ModbusException, TimeoutError, OSError)


class DeviceRejected(Exception):
    """The device answered a request with a Modbus exception code."""


async def _execute(client: AsyncModbusTcpClient, request: Any) -> ModbusPDU:
    response: ModbusPDU = await request
    if response.isError():
        raise DeviceRejected(f"Modbus exception code {response.exception_code}")
    return response


class ModbusDevice:
    """Polls one device's groups at their periods and writes its points."""

    def __init__(
        self, config: Device, publish: Publish, mapping: ChargerMapping | None = None
    ) -> None:
        self.config = config
        self.status = DeviceStatus()
        self.mapping = mapping
        self._publish = publish if mapping is None else mapping.publish
        self._client: AsyncModbusTcpClient | None = None
        self._last: dict[TagPath, Any] = {}
        self._polled_ok = False  # a read succeeded on the current connection
        self._failure_shown = False  # comm-failure published since the last good read
        self._plans = {
            group.name: plan_reads(config.group_points(group.name), config.max_gap)
            for group in config.groups
        }

    async def run(self) -> None:
        """Connect, poll, and on a broken link mark every point comm-failure and retry
        with an exponential back-off (doubling up to ``reconnect_max_s``). Cancelled,
        it marks every point not-connected."""
        cfg = self.config
        delay = cfg.reconnect_min_s
        self._failure_shown = False  # a run after a stop shows its first failure again
        try:
            while True:
                try:
                    await self._connect()
                    await self._poll_forever()
                except Exception as exc:  # the task must outlive any failure
                    if not isinstance(exc, _LINK_ERRORS):
                        log.exception("modbus device %s: unexpected failure", cfg.name)
                    self._fail(exc)
                self._close()
                if self._polled_ok:  # that connection worked: start the back-off again
                    delay = cfg.reconnect_min_s
                    self._polled_ok = False
                if not self._failure_shown:
                    self.publish_all(Quality.COMM_FAILURE)
                    self._failure_shown = True
                self.status.state = LinkState.WAITING
                self.status.next_retry_s = delay
                await asyncio.sleep(delay)
                delay = min(delay * 2, cfg.reconnect_max_s)
        finally:
            self._close()
            self.status.state = LinkState.STOPPED
            self.status.connected_since = None
            self.publish_all(Quality.NOT_CONNECTED)

    def writable(self, tag: TagPath) -> bool:
        point = self.config.point(tag)
        return point is not None and point.writable

    async def write(self, tag: TagPath, value: Any) -> WriteResult:
        """Write ``value`` to a writable point, read it back and say how it went."""
        point = self.config.point(tag)
        if point is None:
            return WriteResult(tag, WriteStatus.UNKNOWN_TAG, value, detail="no such point")
        if not point.writable:
            return WriteResult(tag, WriteStatus.NOT_WRITABLE, value, detail="read-only point")
        try:
            registers = [] if point.function.is_bit else codec.encode(point, value)
        except codec.CodecError as exc:
            return WriteResult(tag, WriteStatus.INVALID_VALUE, value, detail=str(exc))
        client = self._client
        if client is None or self.status.state is not LinkState.CONNECTED:
            return WriteResult(tag, WriteStatus.COMM_FAILURE, value, detail="not connected")
        unit = self.config.unit_id
        try:
            async with asyncio.timeout(self.config.timeout_s * 2):
                self.status.requests += 1
                if point.function is Function.COIL:
                    await _execute(
                        client, client.write_coil(point.address, bool(value), device_id=unit)
                    )
                elif len(registers) == 1:
                    await _execute(
                        client, client.write_register(point.address, registers[0], device_id=unit)
                    )
                else:
                    await _execute(
                        client, client.write_registers(point.address, registers, device_id=unit)
                    )
                request = ReadRequest(point.function, point.address, point.count, (point,))
                data = await self._read(client, request)
        except DeviceRejected as exc:
            self._error(exc)
            return WriteResult(tag, WriteStatus.REJECTED, value, detail=str(exc))
        except _LINK_ERRORS as exc:
            self._error(exc)
            return WriteResult(tag, WriteStatus.COMM_FAILURE, value, detail=_describe(exc))
        read_back = request.values(data)[point]
        self._publish_point(point, read_back)
        same = bool(data[0]) == bool(value) if point.function.is_bit else data == registers
        if same:
            return WriteResult(tag, WriteStatus.OK, value, read_back)
        return WriteResult(
            tag, WriteStatus.MISMATCH, value, read_back, detail=f"read back {read_back!r}"
        )

    async def _connect(self) -> None:
        cfg = self.config
        self.status.state = LinkState.CONNECTING
        client = AsyncModbusTcpClient(
            cfg.host,
            port=cfg.port,
            name=cfg.name,
            # a backstop only: our asyncio timeouts (timeout_s, connect_timeout_s) come first
            timeout=2 * max(cfg.timeout_s, cfg.connect_timeout_s),
            retries=0,
            reconnect_delay=0,  # our own back-off
        )
        self._client = client
        async with asyncio.timeout(cfg.connect_timeout_s):
            connected = await client.connect()
        if not connected:
            raise ConnectionRefusedError(f"cannot connect to {cfg.host}:{cfg.port}")
        self.status.state = LinkState.CONNECTED
        self.status.connected_since = utcnow()
        self.status.connects += 1

    async def _poll_forever(self) -> None:
        loop = asyncio.get_running_loop()
        periods = {g.name: g.period_s for g in self.config.groups if self._plans[g.name]}
        due = dict.fromkeys(periods, loop.time())
        while True:
            name = min(due, key=due.__getitem__)
            await asyncio.sleep(max(0.0, due[name] - loop.time()))
            await self._poll(self._plans[name])
            due[name] = max(due[name] + periods[name], loop.time())

    async def _poll(self, requests: list[ReadRequest]) -> None:
        client = self._client
        assert client is not None
        for request in requests:
            try:
                data = await self._read(client, request)
            except DeviceRejected as exc:
                self._error(exc)
                for point in request.points:
                    self._publish(point.tag, Sample(self._last.get(point.tag), quality=Quality.BAD))
                continue
            for point, value in request.values(data).items():
                self._publish_point(point, value)
            self._polled_ok = True
            self._failure_shown = False

    async def _read(self, client: AsyncModbusTcpClient, request: ReadRequest) -> list[Any]:
        unit = self.config.unit_id
        address, count = request.address, request.count
        calls = {
            Function.COIL: client.read_coils,
            Function.DISCRETE_INPUT: client.read_discrete_inputs,
            Function.HOLDING_REGISTER: client.read_holding_registers,
            Function.INPUT_REGISTER: client.read_input_registers,
        }
        self.status.requests += 1
        async with asyncio.timeout(self.config.timeout_s):
            response = await _execute(
                client, calls[request.function](address, count=count, device_id=unit)
            )
        data = list(response.bits if request.function.is_bit else response.registers)
        if len(data) < count:
            raise DeviceRejected(f"short answer: {len(data)} of {count}")
        return data[:count]

    def _publish_point(self, point: Point, value: Any) -> None:
        if isinstance(value, codec.CodecError):
            self._publish(point.tag, Sample(self._last.get(point.tag), quality=Quality.BAD))
            return
        self._last[point.tag] = value
        self._publish(point.tag, Sample(value))

    def publish_all(self, quality: Quality) -> None:
        """Every point's last value with ``quality`` (the link is lost, the device stopped)."""
        ts = utcnow()
        for point in self.config.points:
            self._publish(point.tag, Sample(self._last.get(point.tag), ts, quality))

    def _error(self, exc: BaseException) -> None:
        self.status.errors += 1
        self.status.last_error = _describe(exc)

    def _fail(self, exc: BaseException) -> None:
        self._error(exc)
        log.info("modbus device %s: %s", self.config.name, self.status.last_error)
        self.status.connected_since = None

    def _close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timeout"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class ModbusDriver(DeviceDriver[ModbusDevice]):
    """Every configured device, each polled by its own task.

    ``chargers`` binds devices (by name) to the charger whose tags their points are
    (``mapping.py``); ``simulated`` devices (name → profile name, "" for none) are served
    by a ``ModbusSimulator`` the driver runs on 127.0.0.1 while it runs; ``disabled``
    devices start switched off."""

    scheme = "modbus"

    def __init__(
        self,
        devices: Iterable[Device],
        publish: Publish,
        *,
        chargers: Mapping[str, str] | None = None,
        simulated: Mapping[str, str] | None = None,
        disabled: Collection[str] = (),
    ) -> None:
        chargers = chargers or {}
        built = {
            d.name: ModbusDevice(
                d,
                publish,
                ChargerMapping(chargers[d.name], publish) if d.name in chargers else None,
            )
            for d in devices
        }
        owner = {p.tag: dev for dev in built.values() for p in dev.config.points}
        super().__init__(built, owner, disabled)
        self._extra = [
            tag
            for dev in self.devices.values()
            if dev.mapping
            for tag in dev.mapping.derived_tags()
        ]
        self._simulated = dict(simulated or {})
        self.simulator: ModbusSimulator | None = None

    def tags(self) -> Sequence[TagPath]:
        return [*super().tags(), *self._extra]

    async def _serve(self) -> None:
        if self._simulated:
            await self._start_simulator()
        for dev in self.devices.values():
            if dev.mapping is not None:
                dev.mapping.start()

    async def _unserve(self) -> None:
        if self.simulator is not None:
            await self.simulator.stop()
            self.simulator = None

    async def _start_simulator(self) -> None:
        """Serve the simulated devices, one unit each, and point them at it."""
        units: dict[int, UnitModel] = {}
        for unit_id, name in enumerate(self._simulated, start=1):
            units[unit_id] = simulator_model(self._simulated[name])
        self.simulator = ModbusSimulator(units, host="127.0.0.1", port=0)
        await self.simulator.start()
        for unit_id, name in enumerate(self._simulated, start=1):
            dev = self.devices[name]
            dev.config = dataclasses.replace(
                dev.config, host="127.0.0.1", port=self.simulator.port, unit_id=unit_id
            )


def simulator_model(profile: str) -> UnitModel:
    """The moving model of a shipped profile; a plain register image for any other."""
    models: dict[str, type[UnitModel]] = {
        "ev-charger": ChargerModel,
        "energy-meter": MeterModel,
        "pv-inverter": PvInverterModel,
    }
    return models.get(profile, UnitModel)()
