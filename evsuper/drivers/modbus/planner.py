"""Merge the points of a poll group into as few read requests as the protocol allows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from evsuper.drivers.modbus import codec
from evsuper.drivers.modbus.config import MAX_READ_BITS, MAX_READ_REGISTERS, Function, Point


@dataclass(frozen=True, slots=True)
class ReadRequest:
    """One read of ``count`` bits or registers from ``address``, covering ``points``."""

    function: Function
    address: int
    count: int
    points: tuple[Point, ...]

    def values(self, data: list[int] | list[bool]) -> dict[Point, Any]:
        """Each point's value from the request's answer; a point that fails decodes to
        its ``CodecError``."""
        result: dict[Point, Any] = {}
        for point in self.points:
            start = point.address - self.address
            if self.function.is_bit:
                result[point] = bool(data[start])
                continue
            try:
                result[point] = codec.decode(
                    point, [int(r) for r in data[start : point.end - self.address]]
                )
            except codec.CodecError as exc:
                result[point] = exc
        return result


def plan_reads(points: Iterable[Point], max_gap: int = 0) -> list[ReadRequest]:
    """Requests reading ``points``: points of one function whose addresses are at most
    ``max_gap`` apart are merged while the request stays within 125 registers / 2000 bits.
    Overlapping points share a request."""
    by_function: dict[Function, list[Point]] = {}
    for point in points:
        by_function.setdefault(point.function, []).append(point)
    requests: list[ReadRequest] = []
    for function in Function:
        limit = MAX_READ_BITS if function.is_bit else MAX_READ_REGISTERS
        batch: list[Point] = []
        start = end = 0
        for point in sorted(by_function.get(function, []), key=lambda p: (p.address, p.end)):
            new_end = max(end, point.end)
            if batch and point.address - end <= max_gap and new_end - start <= limit:
                batch.append(point)
                end = new_end
                continue
            if batch:
                requests.append(ReadRequest(function, start, end - start, tuple(batch)))
            batch, start, end = [point], point.address, point.end
        if batch:
            requests.append(ReadRequest(function, start, end - start, tuple(batch)))
    return requests
