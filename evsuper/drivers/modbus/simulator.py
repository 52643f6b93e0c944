"""Modbus TCP simulator: a pymodbus server whose units serve the shipped profiles with
values that move.

Every unit keeps the four Modbus tables in a ``RegisterImage``; the server reads and
writes them, and the unit models step every ``step_s``: a charger's power follows its
current-limit setpoint through a simple session cycle, the site meter adds a building
load to the chargers' power less the PV production, the PV inverter follows a day curve.

Standalone: ``python -m evsuper.drivers.modbus.simulator --port 5020 --chargers 2``;
in tests: ``async with ModbusSimulator(units, port=0) as sim: ... sim.port``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import time
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType as SimType
from pymodbus.simulator import SimData, SimDevice

from evsuper.drivers.modbus import codec
from evsuper.drivers.modbus.config import Function, Point
from evsuper.drivers.modbus.profiles import Profile, load_profile

_SIZE = 0x10000
_FUNCTIONS = {
    1: Function.COIL,
    5: Function.COIL,
    15: Function.COIL,
    2: Function.DISCRETE_INPUT,
    3: Function.HOLDING_REGISTER,
    6: Function.HOLDING_REGISTER,
    16: Function.HOLDING_REGISTER,
    22: Function.HOLDING_REGISTER,
    23: Function.HOLDING_REGISTER,
    4: Function.INPUT_REGISTER,
}


class RegisterImage:
    """The four Modbus tables of one unit, addresses 0..65535."""

    def __init__(self) -> None:
        self.tables: dict[Function, list[Any]] = {
            Function.COIL: [False] * _SIZE,
            Function.DISCRETE_INPUT: [False] * _SIZE,
            Function.HOLDING_REGISTER: [0] * _SIZE,
            Function.INPUT_REGISTER: [0] * _SIZE,
        }

    def set(self, point: Point, value: Any) -> None:
        table = self.tables[point.function]
        if point.function.is_bit:
            table[point.address] = bool(value)
        else:
            table[point.address : point.end] = codec.encode(point, value)

    def get(self, point: Point) -> Any:
        table = self.tables[point.function]
        if point.function.is_bit:
            return table[point.address]
        return codec.decode(point, table[point.address : point.end])


class UnitModel:
    """A unit serving a register image; subclasses make the values move.

    ``load_kw`` is what the unit draws from the site (negative when it produces);
    ``requests`` counts the requests the unit answered."""

    def __init__(self, profile: Profile | None = None) -> None:
        self.profile = profile
        self.image = RegisterImage()
        self.load_kw = 0.0
        self.requests = 0

    def set(self, name: str, value: Any) -> None:
        assert self.profile is not None
        self.image.set(self.profile.point(name), value)

    def get(self, name: str) -> Any:
        assert self.profile is not None
        return self.image.get(self.profile.point(name))

    def served(self, function: Function) -> tuple[int, int]:
        """The addresses of a table the server answers: those of the profile's points,
        everything without a profile; other addresses answer "illegal address"."""
        if self.profile is None:
            return 0, _SIZE
        points = [p for p in self.profile.points if p.function is function]
        if not points:
            return 0, 1
        return min(p.address for p in points), max(p.end for p in points)

    def written(self, function: Function, address: int, count: int) -> None:
        """A client wrote ``count`` values at ``address`` (already in the image)."""

    def step(self, now: float, dt: float, site_load_kw: float) -> None:
        """Advance to ``now`` (seconds since start); ``site_load_kw`` is the other units'."""


class ChargerModel(UnitModel):
    """A wallbox of the ``ev-charger`` profile running sessions back to back: charging
    for 80 % of ``cycle_s`` (at the current limit while enabled), finishing for 10 %,
    then available."""

    def __init__(
        self,
        serial: str = "SIM-0001",
        max_current_a: int = 32,
        cycle_s: float = 600.0,
        voltage_v: float = 230.0,
    ) -> None:
        super().__init__(load_profile("ev-charger"))
        self.cycle_s = cycle_s
        self.voltage_v = voltage_v
        self.max_current_a = max_current_a
        self.session_wh = 0.0
        self.total_wh = 0.0
        self._session = -1
        self.set("serial", serial)
        self.set("firmware", "1.0.0")
        self.set("max_current_a", max_current_a)
        self.set("current_limit_a", 16.0)
        self.set("failsafe_current_a", 6.0)
        self.set("charging_enabled", True)
        self.step(0.0, 0.0, 0.0)

    def written(self, function: Function, address: int, count: int) -> None:
        """Like real wallboxes, clamp the current limit to the hardware maximum."""
        if float(self.get("current_limit_a")) > self.max_current_a:
            self.set("current_limit_a", float(self.max_current_a))

    def step(self, now: float, dt: float, site_load_kw: float) -> None:
        session, phase = divmod(now / self.cycle_s, 1.0)
        if session != self._session:
            self._session = int(session)
            self.session_wh = 0.0
        current = 0.0
        if phase < 0.8:
            limit = min(float(self.get("current_limit_a")), self.max_current_a)
            if self.get("charging_enabled") and limit >= 6.0:
                status, current = 3, limit
            else:
                status = 4
        else:
            status = 5 if phase < 0.9 else 1
        power_w = 3 * self.voltage_v * current
        self.session_wh += power_w * dt / 3600
        self.total_wh += power_w * dt / 3600
        self.load_kw = power_w / 1000
        self.set("status", status)
        self.set("vehicle_connected", status != 1)
        self.set("power_kw", power_w / 1000)
        self.set("session_energy_kwh", round(self.session_wh) / 1000)
        self.set("energy_total_kwh", round(self.total_wh) / 1000)
        for phase_name in ("l1", "l2", "l3"):
            self.set(f"current_{phase_name}_a", current)


class MeterModel(UnitModel):
    """The site meter (``energy-meter`` profile): a building load swinging ±20 % around
    ``base_kw`` plus every other unit's load, split over three phases."""

    def __init__(self, base_kw: float = 15.0) -> None:
        super().__init__(load_profile("energy-meter"))
        self.base_kw = base_kw
        self.import_kwh = 0.0
        self.export_kwh = 0.0
        self.step(0.0, 0.0, 0.0)

    def step(self, now: float, dt: float, site_load_kw: float) -> None:
        total_kw = self.base_kw * (1 + 0.2 * math.sin(2 * math.pi * now / 300)) + site_load_kw
        if total_kw >= 0:
            self.import_kwh += total_kw * dt / 3600
        else:
            self.export_kwh -= total_kw * dt / 3600
        for index, name in enumerate(("l1", "l2", "l3")):
            volts = 230 + 2 * math.sin(2 * math.pi * now / 60 + index)
            self.set(f"voltage_{name}_v", volts)
            self.set(f"current_{name}_a", abs(total_kw) / 3 * 1000 / volts)
            self.set(f"power_{name}_kw", total_kw / 3)
        self.set("power_kw", total_kw)
        self.set("frequency_hz", 50 + 0.02 * math.sin(2 * math.pi * now / 45))
        self.set("energy_import_kwh", self.import_kwh)
        self.set("energy_export_kwh", self.export_kwh)


class PvInverterModel(UnitModel):
    """A PV inverter (``pv-inverter`` profile) following a half-sine day curve from 06:00
    to 18:00. ``day_length_s`` compresses a day, starting at 06:00; without it the
    local wall clock sets the hour."""

    def __init__(self, peak_kw: float = 10.0, day_length_s: float | None = None) -> None:
        super().__init__(load_profile("pv-inverter"))
        self.peak_kw = peak_kw
        self.day_length_s = day_length_s
        self.energy_wh = 0.0
        registers = self.image.tables[Function.HOLDING_REGISTER]
        registers[40002:40004] = [1, 66]  # common model, length
        registers[40069:40071] = [103, 50]  # three-phase inverter model, length
        for address, sf in ((40075, -2), (40082, -1), (40084, 0), (40086, -2), (40095, 0)):
            registers[address] = sf & 0xFFFF
        self.set("sunspec_id", 0x53756E53)  # "SunS"
        self.set("manufacturer", "evsuper")
        self.set("model", "SIM-PV")
        self.set("serial", "PV-0001")
        self.step(0.0, 0.0, 0.0)

    def hour(self, now: float) -> float:
        if self.day_length_s is not None:
            return (6 + 24 * now / self.day_length_s) % 24
        local = time.localtime()
        return local.tm_hour + local.tm_min / 60 + local.tm_sec / 3600

    def step(self, now: float, dt: float, site_load_kw: float) -> None:
        sun = max(0.0, math.sin(math.pi * (self.hour(now) - 6) / 12))
        power_kw = self.peak_kw * sun * (0.9 + 0.1 * math.sin(2 * math.pi * now / 90))
        self.energy_wh += power_kw * 1000 * dt / 3600
        self.load_kw = -power_kw
        self.set("power_kw", round(power_kw, 3))
        self.set("ac_current_a", power_kw * 1000 / 230 / 3)
        self.set("voltage_an_v", 230.0)
        self.set("frequency_hz", 50.0)
        self.set("energy_kwh", round(self.energy_wh) / 1000)
        self.set("status", 4 if power_kw > 0 else 2)


class ModbusSimulator:
    """A pymodbus TCP server for ``units`` (unit id → model), stepping them every
    ``step_s``. ``port=0`` picks a free port (``self.port`` once started); a stopped
    simulator starts again on the same port."""

    def __init__(
        self,
        units: dict[int, UnitModel],
        host: str = "127.0.0.1",
        port: int = 0,
        step_s: float = 0.2,
    ) -> None:
        self.units = units
        self.host = host
        self.port = port
        self.step_s = step_s
        self._server: ModbusTcpServer | None = None
        self._ticker: asyncio.Task[None] | None = None

    async def start(self) -> None:
        devices = [_device(unit_id, model) for unit_id, model in self.units.items()]
        self._server = ModbusTcpServer(devices, address=(self.host, self.port))
        await self._server.serve_forever(background=True)
        self.port = self._server.transport.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self._ticker = asyncio.create_task(self._tick())

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        if self._server is not None:
            await self._server.shutdown()
            self._server = None

    async def __aenter__(self) -> ModbusSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        start = last = loop.time()
        # meters last: they add up the others
        order = sorted(self.units.values(), key=lambda m: isinstance(m, MeterModel))
        while True:
            await asyncio.sleep(self.step_s)
            now = loop.time()
            for model in order:
                others = sum(m.load_kw for m in self.units.values() if m is not model)
                model.step(now - start, now - last, others)
            last = now


def _block(model: UnitModel, function: Function) -> list[SimData]:
    start, end = model.served(function)
    if function.is_bit:  # bit blocks are counted in 16-bit registers
        first = start // 16 * 16
        count = (end - first + 15) // 16
        return [SimData(first, count=count, values=False, datatype=SimType.BITS)]
    return [SimData(start, count=end - start, values=0, datatype=SimType.REGISTERS)]


def _device(unit_id: int, model: UnitModel) -> SimDevice:
    blocks = (
        _block(model, Function.COIL),
        _block(model, Function.DISCRETE_INPUT),
        _block(model, Function.HOLDING_REGISTER),
        _block(model, Function.INPUT_REGISTER),
    )
    return SimDevice(unit_id, simdata=blocks, action=_action(model))


def _action(model: UnitModel) -> Any:
    """The pymodbus hook: fill its registers from the image before a read, copy writes
    into the image."""
    image = model.image

    async def action(
        func_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        model.requests += 1
        function = _FUNCTIONS[func_code]
        table = image.tables[function]
        if values is not None:
            table[address : address + len(values)] = list(values)
            model.written(function, address, len(values))
            return None
        if function.is_bit:
            first = address // 16
            bits = table[first * 16 : (first + count) * 16]
            for i in range(count):
                word = sum(1 << b for b, on in enumerate(bits[16 * i : 16 * i + 16]) if on)
                registers[first - start_address + i] = word
        else:
            registers[address - start_address : address - start_address + count] = table[
                address : address + count
            ]
        return None

    return action


def demo_site(chargers: int = 2, day_length_s: float | None = None) -> dict[int, UnitModel]:
    """Unit 1 the site meter, unit 2 a PV inverter, units 11.. the chargers."""
    units: dict[int, UnitModel] = {1: MeterModel(), 2: PvInverterModel(day_length_s=day_length_s)}
    for index in range(chargers):
        units[11 + index] = ChargerModel(serial=f"SIM-{index + 1:04d}")
    return units


async def _serve(args: argparse.Namespace) -> None:
    units = demo_site(args.chargers, args.day_length)
    async with ModbusSimulator(units, args.host, args.port) as sim:
        print(f"Modbus simulator on {sim.host}:{sim.port}")
        for unit_id, model in units.items():
            print(f"  unit {unit_id}: {model.profile.name if model.profile else '-'}")
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Modbus TCP simulator of a site: unit 1 meter, unit 2 PV, units 11.. chargers"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5020)
    parser.add_argument("--chargers", type=int, default=2, help="number of chargers")
    parser.add_argument("--day-length", type=float, default=None, help="seconds per PV day")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
