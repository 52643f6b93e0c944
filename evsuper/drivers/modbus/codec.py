"""Values ↔ Modbus registers for every data type, word order and byte order (no I/O).

A value of n registers is first laid out big-endian (most significant byte first);
``word_order = little`` then reverses the registers and ``byte_order = little`` swaps the
two bytes inside each register. Strings take byte order only (characters stay in reading
order), are ASCII/UTF-8, padded with NULs and read up to the first NUL.
"""

from __future__ import annotations

import math
import struct
from typing import Any

from evsuper.drivers.modbus.config import DataType, Order, Point

_FORMATS = {
    DataType.INT16: ">h",
    DataType.UINT16: ">H",
    DataType.INT32: ">i",
    DataType.UINT32: ">I",
    DataType.INT64: ">q",
    DataType.UINT64: ">Q",
    DataType.FLOAT32: ">f",
    DataType.FLOAT64: ">d",
}


class CodecError(ValueError):
    """A value that does not fit its point, or registers that do not decode."""


def _to_words(data: bytes, word_order: Order, byte_order: Order) -> list[int]:
    words = [data[i : i + 2] for i in range(0, len(data), 2)]
    if word_order is Order.LITTLE:
        words.reverse()
    if byte_order is Order.LITTLE:
        words = [w[::-1] for w in words]
    return [int.from_bytes(w, "big") for w in words]


def _from_words(registers: list[int], word_order: Order, byte_order: Order) -> bytes:
    words = [r.to_bytes(2, "big") for r in registers]
    if byte_order is Order.LITTLE:
        words = [w[::-1] for w in words]
    if word_order is Order.LITTLE:
        words.reverse()
    return b"".join(words)


def encode(point: Point, value: Any) -> list[int]:
    """Registers holding ``value`` (an engineering value) for a register point."""
    dtype = point.data_type
    if dtype is DataType.BOOL:
        return [1 if value else 0]
    if dtype is DataType.STRING:
        data = str(value).encode()
        if len(data) > 2 * point.length:
            raise CodecError(f"{point.tag}: {value!r} is longer than {2 * point.length} bytes")
        return _to_words(data.ljust(2 * point.length, b"\0"), Order.BIG, point.byte_order)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CodecError(f"{point.tag}: {value!r} is not a number")
    raw: float = value
    if point.scale != 1.0 or point.offset != 0.0:  # keeps 64-bit integers exact otherwise
        raw = (value - point.offset) / point.scale
    fmt = _FORMATS[dtype]
    if dtype.is_integer:
        if not math.isfinite(raw):
            raise CodecError(f"{point.tag}: {value!r} is not finite")
        raw = round(raw)
    try:
        data = struct.pack(fmt, raw)
    except (struct.error, OverflowError):
        raise CodecError(f"{point.tag}: {value!r} is out of range for {dtype}") from None
    return _to_words(data, point.word_order, point.byte_order)


def decode(point: Point, registers: list[int]) -> Any:
    """The engineering value of a register point from its registers."""
    if len(registers) != point.count:
        raise CodecError(f"{point.tag}: {len(registers)} registers, expected {point.count}")
    dtype = point.data_type
    if dtype is DataType.BOOL:
        return registers[0] != 0
    if dtype is DataType.STRING:
        data = _from_words(registers, Order.BIG, point.byte_order).split(b"\0", 1)[0]
        return data.decode(errors="replace")
    (raw,) = struct.unpack(
        _FORMATS[dtype], _from_words(registers, point.word_order, point.byte_order)
    )
    if point.scale == 1.0 and point.offset == 0.0:
        return raw
    return raw * point.scale + point.offset
