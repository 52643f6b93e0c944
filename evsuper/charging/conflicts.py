"""Conflicts among the charging profiles installed on chargers (pure, no I/O).

Given every profile chargers hold (``ProfileEntry``: charger, connector, profile, who sent
it), ``find_conflicts`` names what an operator should look at, each with a message naming
the charger, the connector, the profile ids and the time span:

- two profiles with the same purpose and stack level on one connector whose validity
  periods overlap: OCPP forbids it, the charger keeps only the last one sent;
- a TxProfile or TxDefaultProfile whose limit exceeds the ChargePointMaxProfile at some
  instant of the horizon: the excess is useless, the charger caps it;
- a profile whose validTo is past: it no longer applies (stale);
- A and W profiles on one connector: their composite depends on an assumed voltage and
  phase count;
- an operator's profile at a stack level reserved for the allocator (its own, and the one
  below for its fail-safe ChargePointMaxProfile): one replaces the other.

``replaced_by`` and ``after_upload`` give what a charger drops and holds once it accepts a
profile (the replacement rule of ``InstalledProfiles``), to check an upload before it is
sent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from itertools import combinations

from evsuper.charging.composite import CompositePeriod, composite_schedule
from evsuper.charging.profiles import (
    ChargingProfile,
    ChargingProfilePurpose,
    ChargingRateUnit,
    InstalledProfile,
)

HORIZON = timedelta(days=7)  # a weekly recurrence repeats within it
LIMIT_TOLERANCE = 0.05  # limits are multiples of 0.1 on the wire


class ProfileOrigin(StrEnum):
    ALLOCATOR = "allocator"  # the charging service, at its reserved stack level
    OPERATOR = "operator"  # set by hand


class ConflictKind(StrEnum):
    SAME_STACK_LEVEL = "same stack level"
    ABOVE_CHARGE_POINT_MAX = "above ChargePointMax"
    STALE = "stale"
    MIXED_UNITS = "mixed units"
    RESERVED_STACK_LEVEL = "allocator's stack level"


@dataclass(frozen=True, slots=True)
class ProfileEntry:
    """One profile on one connector of one charger (0: the whole charger)."""

    charger_id: str
    connector_id: int
    profile: ChargingProfile
    origin: ProfileOrigin = ProfileOrigin.OPERATOR


@dataclass(frozen=True, slots=True)
class Conflict:
    kind: ConflictKind
    charger_id: str
    connector_id: int
    profile_ids: tuple[int, ...]  # the profiles at fault, on ``connector_id`` or on 0
    start: datetime | None  # the span concerned; None: unbounded on that side
    end: datetime | None
    message: str

    def involves(self, charger_id: str, profile_id: int) -> bool:
        return charger_id == self.charger_id and profile_id in self.profile_ids


def reserved_for_allocator(profile: ChargingProfile, allocator_stack_level: int) -> bool:
    """Whether ``profile`` sits where the allocator puts its own: its stack level, and the
    one below for its fail-safe ChargePointMaxProfile (``[smart_charging] stack_level``)."""
    if profile.stack_level == allocator_stack_level:
        return True
    fail_safe = profile.purpose is ChargingProfilePurpose.CHARGE_POINT_MAX
    return fail_safe and profile.stack_level == allocator_stack_level - 1


def origin_of(profile: ChargingProfile, allocator_stack_level: int | None) -> ProfileOrigin:
    """Who sent an installed profile, as far as the profile tells: the allocator owns its
    reserved stack levels (None: no allocator runs, every profile was set by hand)."""
    if allocator_stack_level is not None and reserved_for_allocator(profile, allocator_stack_level):
        return ProfileOrigin.ALLOCATOR
    return ProfileOrigin.OPERATOR


def entries_of(
    charger_id: str,
    installed: Iterable[InstalledProfile],
    allocator_stack_level: int | None,
) -> list[ProfileEntry]:
    """The entries of one charger's installed profiles, origin told by the stack level."""
    return [
        ProfileEntry(
            charger_id, i.connector_id, i.profile, origin_of(i.profile, allocator_stack_level)
        )
        for i in installed
    ]


def replaced_by(entries: Sequence[ProfileEntry], upload: ProfileEntry) -> list[ProfileEntry]:
    """The entries ``upload`` replaces once accepted: on its charger, the profile with its
    id and the one with its connector, purpose and stack level (OCPP 1.6, as
    ``InstalledProfiles.accepted``)."""
    key = (upload.connector_id, upload.profile.purpose, upload.profile.stack_level)
    return [
        e
        for e in entries
        if e.charger_id == upload.charger_id
        and (
            e.profile.profile_id == upload.profile.profile_id
            or (e.connector_id, e.profile.purpose, e.profile.stack_level) == key
        )
    ]


def after_upload(entries: Sequence[ProfileEntry], upload: ProfileEntry) -> list[ProfileEntry]:
    """``entries`` once ``upload`` is accepted."""
    replaced = replaced_by(entries, upload)
    return [*(e for e in entries if e not in replaced), upload]


def find_conflicts(
    entries: Iterable[ProfileEntry],
    now: datetime,
    allocator_stack_level: int | None = None,
    horizon: timedelta = HORIZON,
) -> list[Conflict]:
    """Every conflict among ``entries`` at ``now`` (limits compared over ``horizon``),
    ordered by charger, connector, kind and profile ids. ``allocator_stack_level``: the
    allocator's reserved level (None: no operator profile is checked against it)."""
    by_charger: dict[str, list[ProfileEntry]] = defaultdict(list)
    for entry in entries:
        by_charger[entry.charger_id].append(entry)
    found: list[Conflict] = []
    for charger_id, mine in by_charger.items():
        found += _same_stack_level(mine)
        found += _above_cap(charger_id, mine, now, horizon)
        found += [_stale(e) for e in mine if e.profile.valid_to and e.profile.valid_to <= now]
        found += _mixed_units(charger_id, mine)
        if allocator_stack_level is not None:
            found += [
                _reserved(e)
                for e in mine
                if e.origin is ProfileOrigin.OPERATOR
                and reserved_for_allocator(e.profile, allocator_stack_level)
            ]
    order = list(ConflictKind)
    return sorted(
        found, key=lambda c: (c.charger_id, c.connector_id, order.index(c.kind), c.profile_ids)
    )


# ---- the checks


def _same_stack_level(entries: list[ProfileEntry]) -> list[Conflict]:
    found = []
    for a, b in combinations(entries, 2):
        pa, pb = a.profile, b.profile
        if (a.connector_id, pa.purpose, pa.stack_level) != (
            b.connector_id,
            pb.purpose,
            pb.stack_level,
        ):
            continue
        start = _latest(pa.valid_from, pb.valid_from)
        end = _earliest(pa.valid_to, pb.valid_to)
        if start is not None and end is not None and start >= end:
            continue  # valid one after the other
        ids = tuple(sorted((pa.profile_id, pb.profile_id)))
        found.append(
            Conflict(
                ConflictKind.SAME_STACK_LEVEL,
                a.charger_id,
                a.connector_id,
                ids,
                start,
                end,
                f"{_where(a.charger_id, a.connector_id)}: profiles {ids[0]} and {ids[1]} are "
                f"both {pa.purpose.value} at stack level {pa.stack_level}, "
                f"{_span(start, end)}; the charger keeps only the last one sent",
            )
        )
    return found


def _above_cap(
    charger_id: str, entries: list[ProfileEntry], now: datetime, horizon: timedelta
) -> list[Conflict]:
    caps = [
        InstalledProfile(0, e.profile)
        for e in entries
        if e.connector_id == 0 and e.profile.purpose is ChargingProfilePurpose.CHARGE_POINT_MAX
    ]
    if not caps:
        return []
    cap_ids = tuple(sorted(i.profile.profile_id for i in caps))
    duration = int(horizon.total_seconds())
    cap_in: dict[ChargingRateUnit, list[CompositePeriod]] = {}  # the cap in each unit
    found = []
    for entry in entries:
        profile = entry.profile
        if profile.purpose is ChargingProfilePurpose.CHARGE_POINT_MAX:
            continue
        unit = profile.schedule.unit
        if unit not in cap_in:
            cap_in[unit] = composite_schedule(caps, 0, now, duration, unit)
        cap = cap_in[unit]
        connector = entry.connector_id or 1  # connector 0's TxDefault bears on each connector
        own = composite_schedule(
            [InstalledProfile(entry.connector_id, profile)],
            connector,
            now,
            duration,
            unit,
            transaction_start=now if profile.purpose is ChargingProfilePurpose.TX else None,
        )
        span = _first_excess(own, cap, duration)
        if span is None:
            continue
        begin, end, limit, capped = span
        start_at = now + timedelta(seconds=begin)
        end_at = None if end >= duration else now + timedelta(seconds=end)
        u = unit.value
        caps_text = f"ChargePointMaxProfile {', '.join(map(str, cap_ids))}"
        found.append(
            Conflict(
                ConflictKind.ABOVE_CHARGE_POINT_MAX,
                charger_id,
                entry.connector_id,
                (profile.profile_id, *cap_ids),
                start_at,
                end_at,
                f"{_where(charger_id, entry.connector_id)}: {profile.purpose.value} "
                f"{profile.profile_id} allows {limit:g} {u} above the {capped:g} {u} of "
                f"{caps_text} {_span(start_at, end_at)}; the charger caps it",
            )
        )
    return found


def _first_excess(
    own: list[CompositePeriod], cap: list[CompositePeriod], duration: int
) -> tuple[int, int, float, float] | None:
    """The first span ``[begin, end)`` where ``own`` is above ``cap``, with the two limits
    at its start; None when never."""
    edges = sorted({0, *(s for s, _ in own), *(s for s, _ in cap)})

    def at(periods: list[CompositePeriod], t: int) -> float | None:
        value = None
        for start, limit in periods:
            if start <= t:
                value = limit
        return value

    begin: tuple[int, float, float] | None = None
    for t in edges:
        mine, top = at(own, t), at(cap, t)
        above = mine is not None and top is not None and mine > top + LIMIT_TOLERANCE
        if above and begin is None:
            assert mine is not None and top is not None
            begin = (t, mine, top)
        elif not above and begin is not None:
            return begin[0], t, begin[1], begin[2]
    return None if begin is None else (begin[0], duration, begin[1], begin[2])


def _stale(entry: ProfileEntry) -> Conflict:
    profile = entry.profile
    assert profile.valid_to is not None
    return Conflict(
        ConflictKind.STALE,
        entry.charger_id,
        entry.connector_id,
        (profile.profile_id,),
        profile.valid_from,
        profile.valid_to,
        f"{_where(entry.charger_id, entry.connector_id)}: {profile.purpose.value} "
        f"{profile.profile_id} expired at {_time(profile.valid_to)}; it no longer applies "
        "and can be cleared",
    )


def _mixed_units(charger_id: str, entries: list[ProfileEntry]) -> list[Conflict]:
    by_connector: dict[int, list[ProfileEntry]] = defaultdict(list)
    for entry in entries:
        by_connector[entry.connector_id].append(entry)
    found = []
    for connector_id, mine in sorted(by_connector.items()):
        units = {e.profile.schedule.unit for e in mine}
        if len(units) < 2:
            continue
        ids = tuple(sorted(e.profile.profile_id for e in mine))
        per_unit = "; ".join(
            f"{unit.value}: "
            + ", ".join(
                str(i) for i in sorted(_id(e) for e in mine if e.profile.schedule.unit is unit)
            )
            for unit in sorted(units)
        )
        found.append(
            Conflict(
                ConflictKind.MIXED_UNITS,
                charger_id,
                connector_id,
                ids,
                None,
                None,
                f"{_where(charger_id, connector_id)}: profiles in A and in W ({per_unit}); "
                "the charger converts them at a voltage and phase count it assumes",
            )
        )
    return found


def _reserved(entry: ProfileEntry) -> Conflict:
    profile = entry.profile
    level = profile.stack_level
    return Conflict(
        ConflictKind.RESERVED_STACK_LEVEL,
        entry.charger_id,
        entry.connector_id,
        (profile.profile_id,),
        profile.valid_from,
        profile.valid_to,
        f"{_where(entry.charger_id, entry.connector_id)}: {profile.purpose.value} "
        f"{profile.profile_id} set by hand is at stack level {level}, reserved for the "
        f"allocator, {_span(profile.valid_from, profile.valid_to)}; the allocator's next "
        "profile replaces it",
    )


# ---- words


def _id(entry: ProfileEntry) -> int:
    return entry.profile.profile_id


def _where(charger_id: str, connector_id: int) -> str:
    return f"{charger_id} connector {connector_id}" + (
        " (whole charger)" if not connector_id else ""
    )


def _time(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _span(start: datetime | None, end: datetime | None) -> str:
    if start is None and end is None:
        return "at all times"
    if end is None:
        assert start is not None
        return f"from {_time(start)} on"
    if start is None:
        return f"until {_time(end)}"
    return f"from {_time(start)} to {_time(end)}"


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return max((x for x in (a, b) if x is not None), default=None)


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return min((x for x in (a, b) if x is not None), default=None)
