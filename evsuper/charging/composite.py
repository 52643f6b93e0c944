"""The composite schedule a charger should report for its profiles (OCPP 1.6 §3.13).

Pure: the same profiles and times always give the same schedule. For a connector the
limit at an instant comes from the first of these that has one: the TxProfile (only while a
transaction runs), the connector's TxDefaultProfile, connector 0's TxDefaultProfile; the
ChargePointMaxProfile of connector 0 then caps it. Within one of these the highest stack
level that is valid and inside its schedule at that instant wins. Connector 0 reports the
ChargePointMaxProfile alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta

from evsuper.charging.profiles import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    InstalledProfile,
    RecurrencyKind,
)

NOMINAL_VOLTAGE_V = 230.0
DEFAULT_PHASES = 3

# (seconds from the schedule's start, limit in its unit; None: no limit in that span)
CompositePeriod = tuple[int, float | None]

_RECURRENCE = {RecurrencyKind.DAILY: timedelta(days=1), RecurrencyKind.WEEKLY: timedelta(days=7)}


def composite_schedule(
    profiles: Iterable[InstalledProfile],
    connector_id: int,
    start: datetime,
    duration_s: int,
    unit: ChargingRateUnit,
    transaction_start: datetime | None = None,
    voltage_v: float = NOMINAL_VOLTAGE_V,
    phases: int = DEFAULT_PHASES,
) -> list[CompositePeriod]:
    """Periods with ascending offsets covering ``[0, duration_s)``, equal neighbours merged;
    empty when no profile limits any instant of the window.

    ``transaction_start`` (None: no transaction) enables TxProfiles and anchors Relative
    profiles, which otherwise start at ``start``. Amps are per phase: a limit changes unit
    through ``voltage_v`` times the period's numberPhases (``phases`` when it has none).
    """
    if duration_s <= 0:
        raise ValueError(f"duration {duration_s} is not positive")
    layers = _layers(list(profiles), connector_id, transaction_start is not None)
    cap = [i.profile for i in layers.pop()]
    relative_start = transaction_start or start
    end = start + timedelta(seconds=duration_s)
    offsets = {0}
    for profile in [*cap, *(i.profile for layer in layers for i in layer)]:
        for change in _changes(profile, relative_start, start, end):
            seconds = math.ceil((change - start).total_seconds())
            if 0 < seconds < duration_s:
                offsets.add(seconds)

    def limit(profile: ChargingProfile, at: datetime) -> float | None:
        return _limit(profile, at, relative_start, unit, voltage_v, phases)

    result: list[CompositePeriod] = []
    for offset in sorted(offsets):
        at = start + timedelta(seconds=offset)
        connector_limit = None
        for layer in layers:
            connector_limit = _top([i.profile for i in layer], at, limit)
            if connector_limit is not None:
                break
        figures = [x for x in (connector_limit, _top(cap, at, limit)) if x is not None]
        value = min(figures) if figures else None
        if not result or result[-1][1] != value:
            result.append((offset, value))
    return [] if all(value is None for _, value in result) else result


def _layers(
    profiles: list[InstalledProfile], connector_id: int, transaction: bool
) -> list[list[InstalledProfile]]:
    """The connector's layers in order of precedence, then the cap (last)."""

    def of(connector: int, purpose: ChargingProfilePurpose) -> list[InstalledProfile]:
        return [i for i in profiles if i.connector_id == connector and i.profile.purpose is purpose]

    cap = of(0, ChargingProfilePurpose.CHARGE_POINT_MAX)
    if connector_id == 0:
        return [cap]
    layers = [of(connector_id, ChargingProfilePurpose.TX)] if transaction else []
    layers += [
        of(connector_id, ChargingProfilePurpose.TX_DEFAULT),
        of(0, ChargingProfilePurpose.TX_DEFAULT),
    ]
    return [*layers, cap]


def _top(
    profiles: list[ChargingProfile],
    at: datetime,
    limit: Callable[[ChargingProfile, datetime], float | None],
) -> float | None:
    """The limit of the highest stack level that has one at ``at``."""
    for profile in sorted(profiles, key=lambda p: p.stack_level, reverse=True):
        value = limit(profile, at)
        if value is not None:
            return value
    return None


def _origin(profile: ChargingProfile, at: datetime, relative_start: datetime) -> datetime:
    """Where the schedule in force at ``at`` began (or, before it began, will begin)."""
    if profile.kind is ChargingProfileKind.RELATIVE:
        return relative_start
    first = profile.schedule.start
    assert first is not None  # checked when the profile was made
    if profile.kind is ChargingProfileKind.ABSOLUTE or at < first:
        return first
    assert profile.recurrency is not None
    every = _RECURRENCE[profile.recurrency]
    return first + every * ((at - first) // every)


def _limit(
    profile: ChargingProfile,
    at: datetime,
    relative_start: datetime,
    unit: ChargingRateUnit,
    voltage_v: float,
    phases: int,
) -> float | None:
    """The profile's limit at ``at`` in ``unit`` (None: not valid or outside its schedule)."""
    if not profile.is_valid_at(at):
        return None
    origin = _origin(profile, at, relative_start)
    if at < origin:
        return None
    elapsed = (at - origin).total_seconds()
    schedule = profile.schedule
    if schedule.duration_s is not None and elapsed >= schedule.duration_s:
        return None
    period = next(p for p in reversed(schedule.periods) if p.start_s <= elapsed)
    own_phases = period.number_phases or DEFAULT_PHASES
    if schedule.unit is unit and (unit is ChargingRateUnit.WATTS or own_phases == phases):
        return period.limit
    if schedule.unit is ChargingRateUnit.AMPS:
        watts = period.limit * voltage_v * own_phases
    else:
        watts = period.limit
    converted = watts if unit is ChargingRateUnit.WATTS else watts / (voltage_v * phases)
    return round(converted, 3)


def _changes(
    profile: ChargingProfile, relative_start: datetime, start: datetime, end: datetime
) -> Iterator[datetime]:
    """Instants in ``[start, end)`` or around it where the profile's limit may change."""
    for bound in (profile.valid_from, profile.valid_to):
        if bound is not None:
            yield bound
    schedule = profile.schedule
    origin = _origin(profile, start, relative_start)
    every = _RECURRENCE[profile.recurrency] if profile.recurrency is not None else None
    while origin < end:
        yield from (origin + timedelta(seconds=p.start_s) for p in schedule.periods)
        if schedule.duration_s is not None:
            yield origin + timedelta(seconds=schedule.duration_s)
        if every is None:
            return
        origin += every
