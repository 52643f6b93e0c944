"""The read planner: merging, gaps, protocol limits."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from evsuper.drivers.modbus.codec import CodecError, encode
from evsuper.drivers.modbus.config import DataType, Function, Point
from evsuper.drivers.modbus.planner import ReadRequest, plan_reads

HR = Function.HOLDING_REGISTER
IR = Function.INPUT_REGISTER


def reg(name: str, address: int, dtype: DataType = DataType.UINT16, fn: Function = HR) -> Point:
    return Point(f"d/{name}", fn, address, dtype)


def spans(requests: list[ReadRequest]) -> list[tuple[str, int, int]]:
    return [(r.function.value, r.address, r.count) for r in requests]


def test_contiguous_points_merge() -> None:
    points = [reg("a", 0), reg("b", 1, DataType.FLOAT32), reg("c", 3, DataType.INT64)]
    assert spans(plan_reads(points)) == [("holding_register", 0, 7)]


def test_gap_and_functions() -> None:
    points = [reg("a", 0), reg("b", 5), reg("c", 20), reg("i", 0, fn=IR)]
    assert spans(plan_reads(points)) == [
        ("holding_register", 0, 1),
        ("holding_register", 5, 1),
        ("holding_register", 20, 1),
        ("input_register", 0, 1),
    ]
    assert spans(plan_reads(points, max_gap=4)) == [
        ("holding_register", 0, 6),
        ("holding_register", 20, 1),
        ("input_register", 0, 1),
    ]


def test_register_limit() -> None:
    points = [reg(str(i), i * 2, DataType.FLOAT32) for i in range(100)]  # 200 registers
    assert spans(plan_reads(points)) == [
        ("holding_register", 0, 124),
        ("holding_register", 124, 76),
    ]


def test_bit_limit() -> None:
    coils = [Point(f"d/c{i}", Function.COIL, i, DataType.BOOL) for i in range(0, 2500)]
    assert spans(plan_reads(coils)) == [("coil", 0, 2000), ("coil", 2000, 500)]


def test_overlapping_points_share_a_request() -> None:
    whole = reg("whole", 10, DataType.UINT32)
    high = reg("high", 10)
    low = reg("low", 11)
    (request,) = plan_reads([low, whole, high])
    assert (request.address, request.count) == (10, 2)
    values = request.values(encode(whole, 0x00010002))
    assert values == {whole: 0x00010002, high: 1, low: 2}


def test_values_of_bits_and_bad_registers() -> None:
    coils = [
        Point("d/c0", Function.COIL, 0, DataType.BOOL),
        Point("d/c3", Function.COIL, 3, DataType.BOOL),
    ]
    (request,) = plan_reads(coils, max_gap=2)
    assert request.values([True, False, False, True, False, False, False, False]) == {
        coils[0]: True,
        coils[1]: True,
    }
    text = Point("d/s", HR, 0, DataType.STRING, length=1)
    (request,) = plan_reads([text])
    assert request.values([0x41FF])[text] == "A\ufffd"
    short = ReadRequest(HR, 0, 1, (reg("f", 0, DataType.FLOAT32),))
    assert isinstance(short.values([1])[short.points[0]], CodecError)


@given(
    st.lists(
        st.tuples(
            st.integers(0, 3000),
            st.sampled_from([DataType.UINT16, DataType.FLOAT32, DataType.FLOAT64]),
        ),
        min_size=1,
        max_size=60,
    ),
    st.integers(0, 20),
)
def test_plan_covers_every_point_within_limits(specs: list[tuple[int, DataType]], gap: int) -> None:
    points = [reg(f"p{i}", address, dtype) for i, (address, dtype) in enumerate(specs)]
    requests = plan_reads(points, gap)
    covered = [p for r in requests for p in r.points]
    assert sorted(covered, key=lambda p: p.tag) == sorted(points, key=lambda p: p.tag)
    for request in requests:
        assert 1 <= request.count <= 125
        assert all(
            request.address <= p.address and p.end <= request.address + request.count
            for p in request.points
        )
