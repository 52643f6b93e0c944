"""Conflicts among installed charging profiles: exact cases."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from evsuper.charging.conflicts import (
    Conflict,
    ConflictKind,
    ProfileEntry,
    ProfileOrigin,
    after_upload,
    entries_of,
    find_conflicts,
    origin_of,
    replaced_by,
)
from evsuper.charging.profiles import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    InstalledProfile,
    RecurrencyKind,
    SchedulePeriod,
)

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
MAX = ChargingProfilePurpose.CHARGE_POINT_MAX
DEFAULT = ChargingProfilePurpose.TX_DEFAULT
TX = ChargingProfilePurpose.TX
AMPS = ChargingRateUnit.AMPS
WATTS = ChargingRateUnit.WATTS


def profile(
    profile_id: int,
    purpose: ChargingProfilePurpose = DEFAULT,
    *,
    stack_level: int = 0,
    limits: tuple[tuple[int, float], ...] = ((0, 16.0),),
    unit: ChargingRateUnit = AMPS,
    start: datetime = NOW,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
    daily: bool = False,
) -> ChargingProfile:
    return ChargingProfile(
        profile_id=profile_id,
        stack_level=stack_level,
        purpose=purpose,
        kind=ChargingProfileKind.RECURRING if daily else ChargingProfileKind.ABSOLUTE,
        recurrency=RecurrencyKind.DAILY if daily else None,
        schedule=ChargingSchedule(
            unit, tuple(SchedulePeriod(s, limit) for s, limit in limits), start=start
        ),
        valid_from=valid_from,
        valid_to=valid_to,
    )


def entry(
    p: ChargingProfile,
    connector: int = 1,
    charger: str = "CP-001",
    origin: ProfileOrigin = ProfileOrigin.OPERATOR,
) -> ProfileEntry:
    return ProfileEntry(charger, connector, p, origin)


def at(hour: int, minute: int = 0, day: int = 22) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def test_no_conflict_in_an_ordinary_set() -> None:
    entries = [
        entry(profile(1, MAX, limits=((0, 32.0),)), connector=0),
        entry(profile(2, DEFAULT, stack_level=1)),
        entry(profile(3, DEFAULT, stack_level=2, limits=((0, 10.0),))),
        entry(profile(4, DEFAULT, stack_level=1), connector=2),
    ]
    assert find_conflicts(entries, NOW, allocator_stack_level=20) == []


def test_same_purpose_and_stack_level_with_overlapping_validity() -> None:
    a = profile(3, stack_level=2, valid_from=at(6), valid_to=at(18))
    b = profile(7, stack_level=2, valid_from=at(12))
    assert find_conflicts([entry(b), entry(a)], NOW) == [
        Conflict(
            ConflictKind.SAME_STACK_LEVEL,
            "CP-001",
            1,
            (3, 7),
            at(12),
            at(18),
            "CP-001 connector 1: profiles 3 and 7 are both TxDefaultProfile at stack level 2, "
            "from 2026-11-22 12:00 UTC to 2026-11-22 18:00 UTC; the charger keeps only the "
            "last one sent",
        )
    ]


def test_same_stack_level_without_validity_is_a_conflict_at_all_times() -> None:
    (conflict,) = find_conflicts([entry(profile(1)), entry(profile(2))], NOW)
    assert conflict.kind is ConflictKind.SAME_STACK_LEVEL
    assert (conflict.start, conflict.end) == (None, None)
    assert "at all times" in conflict.message


def test_same_stack_level_is_no_conflict_when_valid_one_after_the_other() -> None:
    a = profile(3, stack_level=2, valid_to=at(12))
    b = profile(7, stack_level=2, valid_from=at(12))
    assert find_conflicts([entry(a), entry(b)], NOW) == []


def test_same_stack_level_on_other_connectors_chargers_or_purposes_is_no_conflict() -> None:
    entries = [
        entry(profile(1)),
        entry(profile(2), connector=2),
        entry(profile(3), charger="CP-002"),
        entry(profile(4, MAX), connector=0),
    ]
    assert find_conflicts(entries, NOW) == []


def test_tx_default_above_charge_point_max_names_the_span() -> None:
    cap = profile(1, MAX, limits=((0, 32.0), (3600, 16.0), (7200, 32.0)))
    tx_default = profile(5, limits=((0, 20.0),))
    assert find_conflicts([entry(cap, connector=0), entry(tx_default)], NOW) == [
        Conflict(
            ConflictKind.ABOVE_CHARGE_POINT_MAX,
            "CP-001",
            1,
            (5, 1),
            at(9),
            at(10),
            "CP-001 connector 1: TxDefaultProfile 5 allows 20 A above the 16 A of "
            "ChargePointMaxProfile 1 from 2026-11-22 09:00 UTC to 2026-11-22 10:00 UTC; "
            "the charger caps it",
        )
    ]


def test_above_charge_point_max_with_no_end_in_the_horizon() -> None:
    cap = profile(1, MAX, limits=((0, 16.0),))
    tx_default = profile(5, limits=((0, 10.0), (1800, 32.0)))
    (conflict,) = find_conflicts([entry(cap, connector=0), entry(tx_default)], NOW)
    assert (conflict.start, conflict.end) == (at(8, 30), None)
    assert "allows 32 A above the 16 A" in conflict.message
    assert "from 2026-11-22 08:30 UTC on" in conflict.message


def test_above_charge_point_max_compares_across_units_on_connector_zero() -> None:
    # 11,040 W = 16 A * 3 phases * 230 V; a TxDefault of 20 A on connector 0 exceeds it.
    cap = profile(1, MAX, limits=((0, 11040.0),), unit=WATTS)
    below = profile(4, stack_level=1, limits=((0, 16.0),))
    above = profile(5, stack_level=2, limits=((0, 20.0),))
    conflicts = find_conflicts(
        [entry(cap, connector=0), entry(below, connector=0), entry(above, connector=0)], NOW
    )
    assert [(c.kind, c.profile_ids) for c in conflicts] == [
        (ConflictKind.ABOVE_CHARGE_POINT_MAX, (5, 1)),
        (ConflictKind.MIXED_UNITS, (1, 4, 5)),
    ]
    assert "allows 20 A above the 16 A" in conflicts[0].message


def test_a_tx_profile_above_the_cap_and_a_recurring_cap() -> None:
    # The cap is 10 A every night from 22:00 to 08:00 (a daily profile started yesterday).
    cap = profile(1, MAX, limits=((0, 32.0), (14 * 3600, 10.0)), start=at(8, day=21), daily=True)
    tx = profile(9, TX, limits=((0, 16.0),))
    (conflict,) = find_conflicts([entry(cap, connector=0), entry(tx)], NOW)
    assert conflict.kind is ConflictKind.ABOVE_CHARGE_POINT_MAX
    assert (conflict.start, conflict.end) == (at(22), at(8, day=23))
    assert "TxProfile 9 allows 16 A above the 10 A" in conflict.message


def test_a_profile_valid_only_outside_the_cap_is_not_above_it() -> None:
    cap = profile(1, MAX, limits=((0, 16.0),), valid_to=at(12))
    late = profile(5, limits=((0, 32.0),), valid_from=at(12))
    assert find_conflicts([entry(cap, connector=0), entry(late)], NOW) == []


def test_stale_profile() -> None:
    old = profile(4, valid_from=at(6, day=20), valid_to=at(7, day=21))
    assert find_conflicts([entry(old, connector=2)], NOW) == [
        Conflict(
            ConflictKind.STALE,
            "CP-001",
            2,
            (4,),
            at(6, day=20),
            at(7, day=21),
            "CP-001 connector 2: TxDefaultProfile 4 expired at 2026-11-21 07:00 UTC; it no "
            "longer applies and can be cleared",
        )
    ]
    # valid until exactly now: no longer valid (validTo is exclusive)
    (edge,) = find_conflicts([entry(replace(old, valid_to=NOW))], NOW)
    assert edge.kind is ConflictKind.STALE


def test_mixed_units_on_one_connector() -> None:
    entries = [
        entry(profile(2, stack_level=1, unit=WATTS, limits=((0, 7400.0),))),
        entry(profile(3, stack_level=2)),
        entry(profile(8, stack_level=3, unit=WATTS, limits=((0, 3700.0),))),
    ]
    assert find_conflicts(entries, NOW) == [
        Conflict(
            ConflictKind.MIXED_UNITS,
            "CP-001",
            1,
            (2, 3, 8),
            None,
            None,
            "CP-001 connector 1: profiles in A and in W (A: 3; W: 2, 8); the charger "
            "converts them at a voltage and phase count it assumes",
        )
    ]


def test_a_manual_profile_at_the_allocators_stack_level() -> None:
    manual = profile(30, stack_level=20, valid_to=at(20))
    allocators = profile(1000, TX, stack_level=20)
    entries = [entry(manual, connector=2), entry(allocators, origin=ProfileOrigin.ALLOCATOR)]
    assert find_conflicts(entries, NOW, allocator_stack_level=20) == [
        Conflict(
            ConflictKind.RESERVED_STACK_LEVEL,
            "CP-001",
            2,
            (30,),
            None,
            at(20),
            "CP-001 connector 2: TxDefaultProfile 30 set by hand is at stack level 20, "
            "reserved for the allocator, until 2026-11-22 20:00 UTC; the allocator's next "
            "profile replaces it",
        )
    ]
    assert find_conflicts(entries, NOW, allocator_stack_level=None) == []


def test_origin_and_entries_of_installed_profiles() -> None:
    installed = [InstalledProfile(1, profile(1, stack_level=20)), InstalledProfile(0, profile(2))]
    assert origin_of(profile(1, stack_level=20), 20) is ProfileOrigin.ALLOCATOR
    assert origin_of(profile(1, stack_level=20), None) is ProfileOrigin.OPERATOR
    assert entries_of("CP-007", installed, 20) == [
        ProfileEntry("CP-007", 1, installed[0].profile, ProfileOrigin.ALLOCATOR),
        ProfileEntry("CP-007", 0, installed[1].profile, ProfileOrigin.OPERATOR),
    ]


def test_conflicts_are_ordered_by_charger_connector_and_kind() -> None:
    old = profile(4, valid_to=at(7))
    entries = [
        entry(old, charger="CP-002"),
        entry(profile(1, stack_level=20), connector=2),
        entry(profile(2, stack_level=1, valid_to=at(7)), connector=2),
        entry(profile(3, stack_level=1), connector=1),
        entry(profile(5, stack_level=1), connector=1),
    ]
    found = find_conflicts(entries, NOW, allocator_stack_level=20)
    assert [(c.charger_id, c.connector_id, c.kind) for c in found] == [
        ("CP-001", 1, ConflictKind.SAME_STACK_LEVEL),
        ("CP-001", 2, ConflictKind.STALE),
        ("CP-001", 2, ConflictKind.RESERVED_STACK_LEVEL),
        ("CP-002", 1, ConflictKind.STALE),
    ]
    assert found[0].involves("CP-001", 5) and not found[0].involves("CP-002", 5)


def test_after_upload_replaces_as_the_charger_does() -> None:
    same_id = entry(profile(7, stack_level=1))
    same_slot = entry(profile(8, stack_level=3))
    kept = entry(profile(9, stack_level=3), connector=2)
    elsewhere = entry(profile(7, stack_level=3), charger="CP-002")
    upload = entry(profile(7, stack_level=3, limits=((0, 10.0),)))
    result = after_upload([same_id, same_slot, kept, elsewhere], upload)
    assert result == [kept, elsewhere, upload]
    assert replaced_by([same_id, same_slot, kept, elsewhere], upload) == [same_id, same_slot]


def test_recurring_profiles_over_a_week() -> None:
    cap = profile(1, MAX, limits=tuple((h * 3600, 32.0 - h) for h in range(24)), daily=True)
    entries = [entry(cap, connector=0)] + [
        entry(profile(i, stack_level=i, limits=((0, 16.0),), daily=True), connector=1)
        for i in range(2, 12)
    ]
    found = find_conflicts(entries, NOW, horizon=timedelta(days=7))
    assert {c.kind for c in found} == {ConflictKind.ABOVE_CHARGE_POINT_MAX}
    assert len(found) == 10


def test_the_allocators_fail_safe_level_is_reserved_too() -> None:
    fail_safe = profile(50, MAX, stack_level=19, limits=((0, 32.0),))
    manual_cap = profile(51, MAX, stack_level=19, limits=((0, 32.0),))
    tx_default_at_19 = profile(52, stack_level=19)
    assert origin_of(fail_safe, 20) is ProfileOrigin.ALLOCATOR
    assert origin_of(tx_default_at_19, 20) is ProfileOrigin.OPERATOR
    (conflict,) = find_conflicts([entry(manual_cap, connector=0)], NOW, allocator_stack_level=20)
    assert conflict.kind is ConflictKind.RESERVED_STACK_LEVEL
    assert conflict.message.startswith(
        "CP-001 connector 0 (whole charger): ChargePointMaxProfile 51 set by hand is at "
        "stack level 19, reserved for the allocator"
    )
