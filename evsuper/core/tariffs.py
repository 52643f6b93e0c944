"""Tariffs: which one applies to a badge and what a charging session costs. Pure: no I/O.

Money is Decimal, rounded to cents once, at the end (half up). A session costs its tariff's
``session_fee``, plus its duration (start to stop) times ``time_price_per_hour``, plus its
energy priced per kWh. Time-of-day ``periods`` are local wall-clock hours (the project's
``[notifications] timezone``; empty: the machine's zone); the energy is split across them
along the session's energy register samples (linear between two samples), or in
proportion to time without samples.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

from evsuper.project.model import Project, TariffSetting, parse_time_range

CENT = Decimal("0.01")
_WH_PER_KWH = Decimal(1000)
_US_PER_HOUR = Decimal(3_600_000_000)

Register = Sequence[tuple[datetime, float]]  # (time, energy register in Wh)


@dataclass(frozen=True, slots=True)
class Pricing:
    """The project's tariffs, who belongs to which badge group, and the local zone."""

    tariffs: tuple[TariffSetting, ...]
    groups: Mapping[str, str]  # badge idTag → parent idTag
    zone: tzinfo | None = None  # None: the machine's zone

    @classmethod
    def for_project(cls, project: Project) -> Pricing | None:
        """None when the project has no tariff."""
        if not project.tariffs:
            return None
        name = project.notifications.timezone
        return cls(
            project.tariffs,
            {b.id_tag: b.parent_id_tag for b in project.badges if b.parent_id_tag},
            ZoneInfo(name) if name else None,
        )

    def tariff_for(self, id_tag: str) -> TariffSetting | None:
        """The tariff of the badge's group, else the default one, else None."""
        group = self.groups.get(id_tag)
        chosen = next((t for t in self.tariffs if group is not None and group in t.groups), None)
        return chosen or next((t for t in self.tariffs if t.default), None)


def session_cost(
    tariff: TariffSetting,
    start: datetime,
    stop: datetime,
    meter_start_wh: float,
    meter_stop_wh: float,
    register: Register = (),
    zone: tzinfo | None = None,
) -> Decimal:
    """What the session costs under ``tariff``, rounded to cents. ``register``: the energy
    register samples of the session (used with time-of-day periods only)."""
    hours = _microseconds(stop - start) / _US_PER_HOUR if stop > start else Decimal(0)
    energy = Decimal(0)
    for a, b, wh in _segments(start, stop, meter_start_wh, meter_stop_wh, register):
        energy += _energy_cost(tariff, a, b, wh, zone)
    total = tariff.session_fee + hours * tariff.time_price_per_hour + energy
    return total.quantize(CENT, rounding=ROUND_HALF_UP)


def _segments(
    start: datetime, stop: datetime, meter_start: float, meter_stop: float, register: Register
) -> list[tuple[datetime, datetime, Decimal]]:
    """(from, to, Wh) pieces of the session: between register samples when they rise
    steadily from meter start to meter stop, else the whole session at once."""
    start, stop = start.astimezone(UTC), stop.astimezone(UTC)
    inside = sorted((ts.astimezone(UTC), wh) for ts, wh in register if start < ts < stop)
    points = [(start, meter_start), *inside, (stop, meter_stop)]
    values = [wh for _, wh in points]
    if any(later < earlier for earlier, later in pairwise(values)):
        points = [(start, meter_start), (stop, meter_stop)]
    return [
        (a, b, max(Decimal(0), _decimal(wh_b) - _decimal(wh_a)))
        for (a, wh_a), (b, wh_b) in pairwise(points)
    ]


def _energy_cost(
    tariff: TariffSetting, a: datetime, b: datetime, wh: Decimal, zone: tzinfo | None
) -> Decimal:
    """``wh`` spread evenly over [a, b), priced by the local hour it falls in."""
    kwh = wh / _WH_PER_KWH
    if b <= a or not tariff.periods:
        return kwh * _price_at(tariff, a, zone)
    span = _microseconds(b - a)
    cuts = [a, *_boundaries(tariff, a, b, zone), b]
    cost = Decimal(0)
    for x, y in pairwise(cuts):
        share = _microseconds(y - x) / span
        cost += kwh * share * _price_at(tariff, x + (y - x) / 2, zone)
    return cost


def _boundaries(
    tariff: TariffSetting, a: datetime, b: datetime, zone: tzinfo | None
) -> list[datetime]:
    """The instants in (a, b) where a period begins or ends, in order."""
    times = {bound for p in tariff.periods for bound in parse_time_range(p.hours)}
    day = _local(a, zone).date() - timedelta(days=1)
    last = _local(b, zone).date() + timedelta(days=1)
    found: set[datetime] = set()
    while day <= last:
        for t in times:
            instant = _instant(datetime.combine(day, t), zone)
            if a < instant < b:
                found.add(instant)
        day += timedelta(days=1)
    return sorted(found)


def _price_at(tariff: TariffSetting, instant: datetime, zone: tzinfo | None) -> Decimal:
    now = _local(instant, zone).time()
    for period in tariff.periods:
        if _within(now, *parse_time_range(period.hours)):
            return period.energy_price_per_kwh
    return tariff.energy_price_per_kwh


def _within(now: time, start: time, end: time) -> bool:
    return start <= now < end if start < end else (now >= start or now < end)


def _local(instant: datetime, zone: tzinfo | None) -> datetime:
    return instant.astimezone(zone)  # None: the machine's zone, DST included


def _instant(wall: datetime, zone: tzinfo | None) -> datetime:
    """The UTC instant of a local wall-clock time."""
    aware = wall.replace(tzinfo=zone) if zone is not None else wall.astimezone()
    return aware.astimezone(UTC)


def _microseconds(span: timedelta) -> Decimal:
    return Decimal(span // timedelta(microseconds=1))


def _decimal(value: float) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
