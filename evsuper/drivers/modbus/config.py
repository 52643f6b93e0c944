"""Typed configuration of Modbus TCP devices and their points.

Addresses are protocol addresses (0-based, as sent on the wire), not the 1-based
"40001" register numbers of some data sheets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from evsuper.core.tags import TagPath

MAX_READ_REGISTERS = 125
MAX_READ_BITS = 2000
MAX_WRITE_REGISTERS = 123


class ConfigError(ValueError):
    """A device or point definition that cannot work."""


class Function(StrEnum):
    COIL = "coil"
    DISCRETE_INPUT = "discrete_input"
    HOLDING_REGISTER = "holding_register"
    INPUT_REGISTER = "input_register"

    @property
    def is_bit(self) -> bool:
        return self in (Function.COIL, Function.DISCRETE_INPUT)

    @property
    def is_writable(self) -> bool:
        return self in (Function.COIL, Function.HOLDING_REGISTER)


class DataType(StrEnum):
    BOOL = "bool"
    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    INT64 = "int64"
    UINT64 = "uint64"
    FLOAT32 = "float32"
    FLOAT64 = "float64"
    STRING = "string"

    @property
    def registers(self) -> int:
        """Registers taken by one value (0 for ``string``: its length is per point)."""
        return _REGISTERS[self]

    @property
    def is_integer(self) -> bool:
        return self.value.startswith(("int", "uint"))


_REGISTERS = {
    DataType.BOOL: 1,
    DataType.INT16: 1,
    DataType.UINT16: 1,
    DataType.INT32: 2,
    DataType.UINT32: 2,
    DataType.INT64: 4,
    DataType.UINT64: 4,
    DataType.FLOAT32: 2,
    DataType.FLOAT64: 4,
    DataType.STRING: 0,
}


class Order(StrEnum):
    """Word order (of a multi-register value) or byte order (inside each register)."""

    BIG = "big"  # most significant first: the Modbus default
    LITTLE = "little"


def parse_data_type(text: str) -> tuple[DataType, int]:
    """``"float32"`` → ``(FLOAT32, 0)``; ``"string(8)"`` → ``(STRING, 8)`` (8 registers)."""
    name = text.strip().lower()
    if name.startswith("string(") and name.endswith(")"):
        digits = name[len("string(") : -1]
        if not digits.isdigit() or int(digits) < 1:
            raise ConfigError(f"string length must be a positive register count: {text!r}")
        return DataType.STRING, int(digits)
    try:
        return DataType(name), 0
    except ValueError:
        known = ", ".join(t.value for t in DataType if t is not DataType.STRING)
        raise ConfigError(f"unknown data type {text!r} (known: {known}, string(n))") from None


@dataclass(frozen=True, slots=True)
class Point:
    """One value of a device bound to a logical tag.

    The engineering value is ``raw * scale + offset``. ``length`` is the register count of
    a ``string`` point (two characters per register) and unused otherwise.
    """

    tag: TagPath
    function: Function
    address: int
    data_type: DataType = DataType.UINT16
    length: int = 0
    word_order: Order = Order.BIG
    byte_order: Order = Order.BIG
    scale: float = 1.0
    offset: float = 0.0
    unit: str = ""
    writable: bool = False
    group: str = "default"

    def __post_init__(self) -> None:
        where = f"point {self.tag!r}"
        if not self.tag:
            raise ConfigError("a point needs a tag path")
        if not 0 <= self.address <= 0xFFFF:
            raise ConfigError(f"{where}: address {self.address} outside 0..65535")
        if self.function.is_bit and self.data_type is not DataType.BOOL:
            raise ConfigError(f"{where}: a {self.function} point must have type bool")
        if self.data_type is DataType.STRING:
            if self.length < 1:
                raise ConfigError(f"{where}: a string needs its length in registers")
        elif self.length:
            raise ConfigError(f"{where}: length applies to string points only")
        if self.address + self.count - 1 > 0xFFFF:
            raise ConfigError(f"{where}: its {self.count} registers run past address 65535")
        if self.count > MAX_READ_REGISTERS:
            raise ConfigError(f"{where}: longer than one read ({MAX_READ_REGISTERS} registers)")
        if not (math.isfinite(self.scale) and self.scale != 0):
            raise ConfigError(f"{where}: scale must be a finite non-zero number")
        if not math.isfinite(self.offset):
            raise ConfigError(f"{where}: offset must be finite")
        scaled = self.scale != 1.0 or self.offset != 0.0
        if scaled and self.data_type in (DataType.BOOL, DataType.STRING):
            raise ConfigError(f"{where}: scale and offset apply to numbers only")
        if self.writable and not self.function.is_writable:
            raise ConfigError(f"{where}: a {self.function} cannot be written")
        if self.writable and self.count > MAX_WRITE_REGISTERS:
            raise ConfigError(f"{where}: too long for one write ({MAX_WRITE_REGISTERS} registers)")

    @property
    def count(self) -> int:
        """Bits (bit functions) or registers this point occupies."""
        if self.function.is_bit:
            return 1
        return self.length if self.data_type is DataType.STRING else self.data_type.registers

    @property
    def end(self) -> int:
        """First address after the point."""
        return self.address + self.count


@dataclass(frozen=True, slots=True)
class PollGroup:
    name: str
    period_s: float

    def __post_init__(self) -> None:
        if not self.name:
            raise ConfigError("a poll group needs a name")
        if not (math.isfinite(self.period_s) and self.period_s > 0):
            raise ConfigError(f"poll group {self.name!r}: period must be > 0 s")


@dataclass(frozen=True, slots=True)
class Device:
    """A Modbus TCP server (or gateway + unit id) and the points read from it.

    ``max_gap`` is the number of unused registers (or bits) a merged read may span
    between two points; 0 merges strictly contiguous points only.
    """

    name: str
    host: str
    port: int = 502
    unit_id: int = 1
    timeout_s: float = 1.0
    connect_timeout_s: float = 2.0
    reconnect_min_s: float = 0.5
    reconnect_max_s: float = 30.0
    max_gap: int = 8
    groups: tuple[PollGroup, ...] = (PollGroup("default", 1.0),)
    points: tuple[Point, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        where = f"device {self.name!r}"
        if not self.name:
            raise ConfigError("a device needs a name")
        if not self.host:
            raise ConfigError(f"{where}: host is empty")
        if not 1 <= self.port <= 65535:
            raise ConfigError(f"{where}: port {self.port} outside 1..65535")
        if not 0 <= self.unit_id <= 255:
            raise ConfigError(f"{where}: unit id {self.unit_id} outside 0..255")
        for label in ("timeout_s", "connect_timeout_s", "reconnect_min_s", "reconnect_max_s"):
            value = getattr(self, label)
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"{where}: {label} must be > 0")
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ConfigError(f"{where}: reconnect_max_s is below reconnect_min_s")
        if self.max_gap < 0:
            raise ConfigError(f"{where}: max_gap must be >= 0")
        if not self.points:
            raise ConfigError(f"{where}: no points")
        names = [g.name for g in self.groups]
        if len(set(names)) != len(names):
            raise ConfigError(f"{where}: poll group names must be unique")
        tags = [p.tag for p in self.points]
        if len(set(tags)) != len(tags):
            dupes = sorted({t for t in tags if tags.count(t) > 1})
            raise ConfigError(f"{where}: tag bound twice: {', '.join(dupes)}")
        for point in self.points:
            if point.group not in names:
                raise ConfigError(
                    f"{where}: point {point.tag!r} uses unknown poll group {point.group!r}"
                )

    def group_points(self, group: str) -> tuple[Point, ...]:
        return tuple(p for p in self.points if p.group == group)

    def point(self, tag: TagPath) -> Point | None:
        return next((p for p in self.points if p.tag == tag), None)
