"""Typed OCPP 1.6 charging profiles: validation, wire form, the set a charger holds."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from evsuper.charging.profiles import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    InstalledProfile,
    InstalledProfiles,
    RecurrencyKind,
    SchedulePeriod,
    for_connector,
)

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
ABSOLUTE = ChargingProfileKind.ABSOLUTE
TX = ChargingProfilePurpose.TX
TX_DEFAULT = ChargingProfilePurpose.TX_DEFAULT
CP_MAX = ChargingProfilePurpose.CHARGE_POINT_MAX


def schedule(*periods: tuple[int, float], start: datetime | None = T0) -> ChargingSchedule:
    return ChargingSchedule(
        ChargingRateUnit.AMPS, tuple(SchedulePeriod(s, limit) for s, limit in periods), start=start
    )


def profile(
    profile_id: int = 1,
    purpose: ChargingProfilePurpose = TX_DEFAULT,
    stack_level: int = 0,
    **changes: Any,
) -> ChargingProfile:
    base = ChargingProfile(profile_id, stack_level, purpose, ABSOLUTE, schedule((0, 16.0)))
    return replace(base, **changes)


def test_wire_form_is_camel_case_with_utc_z_times_and_round_trips() -> None:
    p = ChargingProfile(
        profile_id=7,
        stack_level=2,
        purpose=ChargingProfilePurpose.TX_DEFAULT,
        kind=ChargingProfileKind.RECURRING,
        recurrency=RecurrencyKind.DAILY,
        valid_to=datetime(2026, 2, 1, tzinfo=UTC),
        schedule=ChargingSchedule(
            ChargingRateUnit.WATTS,
            (SchedulePeriod(0, 11000.0), SchedulePeriod(3600, 3680.0, number_phases=1)),
            duration_s=7200,
            start=T0,
            min_charging_rate=1000.0,
        ),
    )
    wire = p.to_wire()
    assert wire == {
        "chargingProfileId": 7,
        "stackLevel": 2,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Recurring",
        "recurrencyKind": "Daily",
        "validTo": "2026-02-01T00:00:00.000Z",
        "chargingSchedule": {
            "chargingRateUnit": "W",
            "duration": 7200,
            "startSchedule": "2026-01-05T08:00:00.000Z",
            "minChargingRate": 1000.0,
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 11000.0},
                {"startPeriod": 3600, "limit": 3680.0, "numberPhases": 1},
            ],
        },
    }
    assert ChargingProfile.from_wire(wire) == p


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: schedule(), "at least one period"),
        (lambda: schedule((5, 16.0)), "first period must start at 0"),
        (lambda: schedule((0, 16.0), (600, 8.0), (600, 6.0)), "not strictly ascending"),
        (lambda: schedule((0, -1.0)), "limit -1.0 is negative"),
        (lambda: SchedulePeriod(0, 6.0, number_phases=4), "numberPhases 4"),
        (lambda: schedule((0, 16.0), start=datetime(2026, 1, 5)), "aware"),
        (lambda: profile(stack_level=-1), "stackLevel -1"),
        (lambda: profile(transaction_id=3), "only allowed on a TxProfile"),
        (lambda: profile(kind=ChargingProfileKind.RECURRING), "recurrencyKind is required"),
        (lambda: profile(recurrency=RecurrencyKind.DAILY), "recurrencyKind is required"),
        (lambda: profile(schedule=schedule((0, 16.0), start=None)), "needs a startSchedule"),
        (lambda: profile(kind=ChargingProfileKind.RELATIVE), "has no startSchedule"),
        (lambda: profile(valid_from=T0, valid_to=T0), "validFrom must be before validTo"),
    ],
)
def test_invalid_profiles_say_why(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_for_connector_checks_the_target_and_fills_the_transaction() -> None:
    with pytest.raises(ValueError, match="connector 0 only"):
        for_connector(profile(purpose=CP_MAX), 1, None)
    assert for_connector(profile(purpose=CP_MAX), 0, None) == profile(purpose=CP_MAX)
    with pytest.raises(ValueError, match="needs a transaction running on connector 2"):
        for_connector(profile(purpose=TX), 2, None)
    with pytest.raises(ValueError, match="transaction 4 is not the one running"):
        for_connector(profile(purpose=TX, transaction_id=4), 2, 5)
    assert for_connector(profile(purpose=TX), 2, 5).transaction_id == 5
    assert for_connector(profile(), 2, 5).transaction_id is None
    with pytest.raises(ValueError, match=r"multiples of 0\.1"):
        for_connector(profile(schedule=schedule((0, 7.37))), 1, None)
    assert (
        for_connector(profile(schedule=schedule((0, 5.3))), 1, None).schedule.periods[0].limit
        == 5.3
    )


def test_installed_profiles_replace_by_id_or_by_connector_purpose_and_level() -> None:
    book = InstalledProfiles()
    book.accepted(1, profile(1))
    book.accepted(2, profile(2))
    book.accepted(1, profile(3, stack_level=1))
    book.accepted(2, profile(1, stack_level=5))  # same id: replaces the one on connector 1
    book.accepted(2, profile(4))  # same connector, purpose and level as id 2
    assert sorted((i.connector_id, i.profile.profile_id) for i in book) == [(1, 3), (2, 1), (2, 4)]


def test_clearing_by_id_overrides_the_criteria_and_nothing_means_everything() -> None:
    book = InstalledProfiles()
    book.accepted(0, profile(1, CP_MAX))
    book.accepted(1, profile(2))
    book.accepted(1, profile(3, stack_level=1))
    book.accepted(2, profile(4, stack_level=1))
    assert book.cleared(profile_id=2, connector_id=2) == 1
    assert book.cleared(connector_id=1, purpose=CP_MAX) == 0
    assert book.cleared(stack_level=1) == 2
    assert [i.profile.profile_id for i in book] == [1]
    assert book.cleared() == 1
    assert len(book) == 0


def test_applicable_profiles_leave_out_other_connectors_and_transactions() -> None:
    book = InstalledProfiles()
    book.accepted(0, profile(1, CP_MAX))
    book.accepted(1, profile(2, TX, transaction_id=10))
    book.accepted(1, profile(3))
    book.accepted(2, profile(4))
    assert [i.profile.profile_id for i in book.applicable(1, 10)] == [1, 2, 3]
    assert [i.profile.profile_id for i in book.applicable(1, None)] == [1, 3]
    assert book.applicable(2, None) == [InstalledProfile(0, profile(1, CP_MAX)), *list(book)[3:]]
