"""The expected composite schedule (OCPP 1.6 §3.13): exact answers and properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evsuper.charging.composite import CompositePeriod, composite_schedule
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

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday
A = ChargingRateUnit.AMPS
W = ChargingRateUnit.WATTS
TX = ChargingProfilePurpose.TX
TX_DEFAULT = ChargingProfilePurpose.TX_DEFAULT
CP_MAX = ChargingProfilePurpose.CHARGE_POINT_MAX
ABSOLUTE = ChargingProfileKind.ABSOLUTE
RELATIVE = ChargingProfileKind.RELATIVE
RECURRING = ChargingProfileKind.RECURRING


def installed(
    connector_id: int,
    purpose: ChargingProfilePurpose,
    *periods: tuple[int, float],
    stack_level: int = 0,
    kind: ChargingProfileKind = ABSOLUTE,
    start: datetime | None = T0 - timedelta(hours=1),
    duration_s: int | None = None,
    unit: ChargingRateUnit = A,
    phases: int | None = None,
    recurrency: RecurrencyKind | None = None,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
) -> InstalledProfile:
    schedule = ChargingSchedule(
        unit,
        tuple(SchedulePeriod(s, limit, phases) for s, limit in periods),
        duration_s=duration_s,
        start=None if kind is RELATIVE else start,
    )
    profile = ChargingProfile(
        profile_id=0,
        stack_level=stack_level,
        purpose=purpose,
        kind=kind,
        schedule=schedule,
        recurrency=recurrency,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    return InstalledProfile(connector_id, profile)


def test_nothing_installed_gives_an_empty_schedule() -> None:
    assert composite_schedule([], 1, T0, 3600, A) == []


def test_a_charger_wide_default_applies_to_each_connector() -> None:
    profiles = [installed(0, TX_DEFAULT, (0, 16.0))]
    assert composite_schedule(profiles, 1, T0, 3600, A) == [(0, 16.0)]
    assert composite_schedule(profiles, 2, T0, 3600, A) == [(0, 16.0)]


def test_connector_default_overrides_the_charger_default_while_valid() -> None:
    profiles = [
        installed(0, TX_DEFAULT, (0, 16.0)),
        installed(1, TX_DEFAULT, (0, 10.0), valid_to=T0 + timedelta(seconds=600)),
    ]
    assert composite_schedule(profiles, 1, T0, 3600, A) == [(0, 10.0), (600, 16.0)]


def test_highest_stack_level_valid_at_each_instant_wins() -> None:
    profiles = [
        installed(1, TX_DEFAULT, (0, 16.0)),
        installed(1, TX_DEFAULT, (0, 8.0), stack_level=1, valid_from=T0 + timedelta(seconds=900)),
    ]
    assert composite_schedule(profiles, 1, T0, 3600, A) == [(0, 16.0), (900, 8.0)]


def test_tx_profile_runs_from_the_transaction_start_then_defaults_take_over() -> None:
    profiles = [
        installed(0, TX_DEFAULT, (0, 16.0)),
        installed(1, TX, (0, 6.0), (300, 20.0), kind=RELATIVE, duration_s=900),
        installed(0, CP_MAX, (0, 18.0)),
    ]
    started = T0 - timedelta(seconds=100)
    assert composite_schedule(profiles, 1, T0, 3600, A, started) == [
        (0, 6.0),
        (200, 18.0),  # 20 A capped by the charge point maximum
        (800, 16.0),
    ]
    assert composite_schedule(profiles, 1, T0, 3600, A) == [(0, 16.0)]  # no transaction
    assert composite_schedule(profiles, 0, T0, 3600, A, started) == [(0, 18.0)]


def test_daily_recurrence_repeats_from_start_schedule() -> None:
    profiles = [
        installed(
            1,
            TX_DEFAULT,
            (0, 6.0),
            (8 * 3600, 32.0),
            kind=RECURRING,
            recurrency=RecurrencyKind.DAILY,
            start=datetime(2026, 1, 1, 22, 0, tzinfo=UTC),
        )
    ]
    start = datetime(2026, 1, 5, 20, 0, tzinfo=UTC)
    assert composite_schedule(profiles, 1, start, 12 * 3600, A) == [
        (0, 32.0),
        (2 * 3600, 6.0),
        (10 * 3600, 32.0),
    ]


def test_weekly_recurrence_leaves_the_rest_of_the_week_unlimited() -> None:
    profiles = [
        installed(
            1,
            TX_DEFAULT,
            (0, 10.0),
            kind=RECURRING,
            recurrency=RecurrencyKind.WEEKLY,
            start=T0,
            duration_s=3600,
        )
    ]
    start = T0 + timedelta(days=7, seconds=-1800)
    assert composite_schedule(profiles, 1, start, 7200, A) == [
        (0, None),
        (1800, 10.0),
        (5400, None),
    ]
    assert composite_schedule(profiles, 1, T0 - timedelta(days=7), 7200, A) == []


def test_units_convert_with_voltage_and_phases() -> None:
    watts = [installed(1, TX_DEFAULT, (0, 11040.0), unit=W)]
    assert composite_schedule(watts, 1, T0, 60, A) == [(0, 16.0)]
    assert composite_schedule(watts, 1, T0, 60, A, phases=1) == [(0, 48.0)]
    one_phase = [installed(1, TX_DEFAULT, (0, 16.0), phases=1)]
    assert composite_schedule(one_phase, 1, T0, 60, W) == [(0, 3680.0)]
    assert composite_schedule(one_phase, 1, T0, 60, A, phases=1) == [(0, 16.0)]
    assert composite_schedule(one_phase, 1, T0, 60, W, voltage_v=240.0) == [(0, 3840.0)]


def test_equal_neighbours_are_merged_and_a_zero_limit_counts() -> None:
    profiles = [
        installed(1, TX_DEFAULT, (0, 16.0), (600, 16.0), (1200, 0.0), start=T0),
        installed(0, TX_DEFAULT, (0, 16.0)),
    ]
    assert composite_schedule(profiles, 1, T0, 3600, A) == [(0, 16.0), (1200, 0.0)]


def test_duration_must_be_positive() -> None:
    with pytest.raises(ValueError, match="duration 0"):
        composite_schedule([], 1, T0, 0, A)


# ---- properties ----

WINDOW_S = 4 * 3600


@st.composite
def profiles_strategy(draw: st.DrawFn) -> InstalledProfile:
    purpose = draw(st.sampled_from(list(ChargingProfilePurpose)))
    connector = (
        0
        if purpose is CP_MAX
        else draw(st.sampled_from([0, 1]) if purpose is TX_DEFAULT else st.just(1))
    )
    kind = draw(st.sampled_from(list(ChargingProfileKind)))
    starts = sorted(draw(st.sets(st.integers(1, WINDOW_S), max_size=3)))
    limits = draw(st.lists(st.integers(0, 64), min_size=len(starts) + 1, max_size=len(starts) + 1))
    offset = timedelta(seconds=draw(st.integers(-WINDOW_S, WINDOW_S)))
    valid_from = draw(st.none() | st.integers(-WINDOW_S, WINDOW_S))
    return installed(
        connector,
        purpose,
        *zip([0, *starts], [float(x) for x in limits], strict=True),
        stack_level=draw(st.integers(0, 2)),
        kind=kind,
        start=T0 + offset,
        duration_s=draw(st.none() | st.integers(1, WINDOW_S)),
        recurrency=RecurrencyKind.DAILY if kind is RECURRING else None,
        valid_from=None if valid_from is None else T0 + timedelta(seconds=valid_from),
    )


def value_at(schedule: list[CompositePeriod], offset: int) -> float | None:
    return next((limit for start, limit in reversed(schedule) if start <= offset), None)


@settings(max_examples=200, deadline=None)
@given(
    profiles=st.lists(profiles_strategy(), max_size=6),
    transaction=st.none() | st.integers(-WINDOW_S, 0),
    probes=st.lists(st.integers(0, WINDOW_S - 1), max_size=10),
)
def test_composite_is_piecewise_constant_and_never_above_the_charge_point_maximum(
    profiles: list[InstalledProfile], transaction: int | None, probes: list[int]
) -> None:
    started = None if transaction is None else T0 + timedelta(seconds=transaction)
    result = composite_schedule(profiles, 1, T0, WINDOW_S, A, started)
    cap = composite_schedule(profiles, 0, T0, WINDOW_S, A, started)
    if result:
        offsets = [start for start, _ in result]
        assert offsets[0] == 0
        assert all(a < b for a, b in pairwise(offsets))
        assert offsets[-1] < WINDOW_S
        values = [limit for _, limit in result]
        assert all(a != b for a, b in pairwise(values))
    for offset in {*probes, *(s for s, _ in result), *(s for s, _ in cap)}:
        value = value_at(result, offset)
        maximum = value_at(cap, offset)
        if maximum is not None:
            assert value is not None and value <= maximum
        if started is None and any(p.profile.kind is RELATIVE for p in profiles):
            continue  # these start with the window: shifting it shifts them
        # the value in force at an instant is the one a schedule starting there begins with
        later = composite_schedule(profiles, 1, T0 + timedelta(seconds=offset), 1, A, started)
        assert value == (later[0][1] if later else None)
