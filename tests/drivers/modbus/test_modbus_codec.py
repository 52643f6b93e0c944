"""The codec: every data type in every word and byte order, scale and offset."""

from __future__ import annotations

import math
import struct
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evsuper.drivers.modbus.codec import CodecError, decode, encode
from evsuper.drivers.modbus.config import DataType, Function, Order, Point

ORDERS = [(w, b) for w in Order for b in Order]
RANGES = {
    DataType.INT16: (-(2**15), 2**15 - 1),
    DataType.UINT16: (0, 2**16 - 1),
    DataType.INT32: (-(2**31), 2**31 - 1),
    DataType.UINT32: (0, 2**32 - 1),
    DataType.INT64: (-(2**63), 2**63 - 1),
    DataType.UINT64: (0, 2**64 - 1),
}


def point(dtype: DataType, word: Order = Order.BIG, byte: Order = Order.BIG, **kw: Any) -> Point:
    return Point("d/p", Function.HOLDING_REGISTER, 0, dtype, word_order=word, byte_order=byte, **kw)


@pytest.mark.parametrize(("word", "byte"), ORDERS)
@pytest.mark.parametrize("dtype", list(RANGES))
@given(data=st.data())
def test_integers_round_trip(
    dtype: DataType, word: Order, byte: Order, data: st.DataObject
) -> None:
    low, high = RANGES[dtype]
    value = data.draw(st.integers(low, high))
    p = point(dtype, word, byte)
    registers = encode(p, value)
    assert len(registers) == dtype.registers
    assert all(0 <= r <= 0xFFFF for r in registers)
    assert decode(p, registers) == value


@pytest.mark.parametrize(("word", "byte"), ORDERS)
@given(value=st.floats(width=32, allow_nan=False))
def test_float32_round_trip(word: Order, byte: Order, value: float) -> None:
    p = point(DataType.FLOAT32, word, byte)
    assert decode(p, encode(p, value)) == value


@pytest.mark.parametrize(("word", "byte"), ORDERS)
@given(value=st.floats(allow_nan=False))
def test_float64_round_trip(word: Order, byte: Order, value: float) -> None:
    p = point(DataType.FLOAT64, word, byte)
    assert decode(p, encode(p, value)) == value


@pytest.mark.parametrize("dtype", [DataType.FLOAT32, DataType.FLOAT64])
def test_nan_decodes_to_nan(dtype: DataType) -> None:
    p = point(dtype)
    assert math.isnan(decode(p, encode(p, math.nan)))


@pytest.mark.parametrize(("word", "byte"), ORDERS)
@pytest.mark.parametrize(
    "dtype", [t for t in DataType if t not in (DataType.STRING, DataType.BOOL)]
)
@given(data=st.data())
def test_any_registers_round_trip(
    dtype: DataType, word: Order, byte: Order, data: st.DataObject
) -> None:
    """Registers read from a device encode back to the same registers (no NaN payloads)."""
    p = point(dtype, word, byte)
    registers = data.draw(
        st.lists(st.integers(0, 0xFFFF), min_size=dtype.registers, max_size=dtype.registers)
    )
    value = decode(p, registers)
    if isinstance(value, float) and math.isnan(value):
        return
    assert encode(p, value) == registers


@pytest.mark.parametrize("byte", list(Order))
@given(text=st.text(st.characters(min_codepoint=1, max_codepoint=0x7F), max_size=10))
def test_string_round_trip(byte: Order, text: str) -> None:
    p = point(DataType.STRING, byte=byte, length=5)
    registers = encode(p, text)
    assert len(registers) == 5
    assert decode(p, registers) == text


@given(value=st.booleans())
def test_bool_register_round_trip(value: bool) -> None:
    p = point(DataType.BOOL)
    assert decode(p, encode(p, value)) is value


@pytest.mark.parametrize(
    ("dtype", "word", "byte", "value", "registers"),
    [
        (DataType.FLOAT32, Order.BIG, Order.BIG, 1.0, [0x3F80, 0x0000]),
        (DataType.FLOAT32, Order.LITTLE, Order.BIG, 1.0, [0x0000, 0x3F80]),
        (DataType.FLOAT32, Order.BIG, Order.LITTLE, 1.0, [0x803F, 0x0000]),
        (DataType.FLOAT32, Order.LITTLE, Order.LITTLE, 1.0, [0x0000, 0x803F]),
        (DataType.INT32, Order.BIG, Order.BIG, 0x01020304, [0x0102, 0x0304]),
        (DataType.INT32, Order.LITTLE, Order.BIG, 0x01020304, [0x0304, 0x0102]),
        (DataType.INT32, Order.BIG, Order.LITTLE, 0x01020304, [0x0201, 0x0403]),
        (DataType.INT32, Order.LITTLE, Order.LITTLE, 0x01020304, [0x0403, 0x0201]),
        (DataType.INT16, Order.BIG, Order.BIG, -2, [0xFFFE]),
        (DataType.INT16, Order.BIG, Order.LITTLE, -2, [0xFEFF]),
        (DataType.UINT64, Order.LITTLE, Order.BIG, 0x0001000200030004, [4, 3, 2, 1]),
        (DataType.FLOAT64, Order.BIG, Order.BIG, 1.0, [0x3FF0, 0, 0, 0]),
        (DataType.FLOAT64, Order.LITTLE, Order.LITTLE, 1.0, [0, 0, 0, 0xF03F]),
    ],
)
def test_known_layouts(
    dtype: DataType, word: Order, byte: Order, value: object, registers: list[int]
) -> None:
    p = point(dtype, word, byte)
    assert encode(p, value) == registers
    assert decode(p, registers) == value


def test_string_layout_and_byte_order() -> None:
    big = point(DataType.STRING, length=3)
    assert encode(big, "ABC") == [0x4142, 0x4300, 0x0000]
    little = point(DataType.STRING, byte=Order.LITTLE, length=3)
    assert encode(little, "ABC") == [0x4241, 0x0043, 0x0000]
    assert decode(big, [0x4142, 0x4344, 0x4500]) == "ABCDE"
    with pytest.raises(CodecError, match="longer than 6 bytes"):
        encode(big, "ABCDEFG")


def test_scale_and_offset() -> None:
    p = point(DataType.INT16, scale=0.1, offset=-40.0)
    assert encode(p, 21.5) == [615]
    assert decode(p, [615]) == pytest.approx(21.5)
    kw = point(DataType.FLOAT32, scale=0.001)
    assert decode(kw, encode(kw, 11.04)) == pytest.approx(11.04)
    assert struct.unpack(">f", struct.pack(">HH", *encode(kw, 11.04)))[0] == pytest.approx(11040)


@given(raw=st.integers(-(2**31), 2**31 - 1))
def test_scaled_integers_round_trip(raw: int) -> None:
    p = point(DataType.INT32, Order.LITTLE, scale=0.01, offset=5.0)
    registers = encode(point(DataType.INT32, Order.LITTLE), raw)
    assert encode(p, decode(p, registers)) == registers


@pytest.mark.parametrize(
    ("dtype", "value", "message"),
    [
        (DataType.UINT16, 65536, "out of range for uint16"),
        (DataType.UINT16, -1, "out of range"),
        (DataType.INT16, "12", "not a number"),
        (DataType.INT16, True, "not a number"),
        (DataType.INT32, math.inf, "not finite"),
        (DataType.FLOAT32, 1e39, "out of range for float32"),
    ],
)
def test_values_that_do_not_fit(dtype: DataType, value: object, message: str) -> None:
    with pytest.raises(CodecError, match=message):
        encode(point(dtype), value)


def test_wrong_register_count() -> None:
    with pytest.raises(CodecError, match="1 registers, expected 2"):
        decode(point(DataType.FLOAT32), [0])
