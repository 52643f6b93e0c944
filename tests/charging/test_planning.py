"""The planning module: forecast load and plan fit, on small cases with exact answers."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from evsuper.charging.planning import (
    UNKNOWN_DURATION,
    Bay,
    Feeder,
    LoadStep,
    PlannedSession,
    PlanRequest,
    RunningSession,
    SiteLimit,
    arrived,
    check_plan,
    forecast,
    loads,
    pending,
    running_window,
    water_fill,
)
from evsuper.charging.topology import Limit, ScheduleEntry

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
END = NOW + timedelta(hours=24)


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return NOW.replace(hour=hour, minute=minute, second=second)


def plan(
    id: int,
    arrival: datetime,
    departure: datetime,
    energy_kwh: float,
    max_kw: float = 22.0,
    bay: tuple[str, int] = ("CP-001", 1),
    badge: str = "",
) -> PlannedSession:
    return PlannedSession(
        id, "S", badge or f"B{id}", bay[0], bay[1], arrival, departure, energy_kwh, max_kw
    )


def request(
    arrival: datetime,
    departure: datetime,
    energy_kwh: float,
    charger_id: str | None = "CP-001",
) -> PlanRequest:
    return PlanRequest("S", "NEW", charger_id, arrival, departure, energy_kwh)


BAYS = [Bay("CP-001", 1, 22.0), Bay("CP-002", 1, 22.0)]


def test_water_fill_shares_fairly_under_caps() -> None:
    assert water_fill([11.0, 22.0, 22.0], 40.0) == [11.0, 14.5, 14.5]
    assert water_fill([11.0, 22.0], None) == [11.0, 22.0]
    assert water_fill([11.0, 22.0], 50.0) == [11.0, 22.0]
    assert water_fill([11.0, 22.0], 0.0) == [0.0, 0.0]


def test_site_limit_in_amps_counts_three_phases_and_the_lower_limit_applies() -> None:
    assert SiteLimit(Limit(amps=32)).at(NOW) == pytest.approx(22.08)
    assert SiteLimit(Limit(kw=20, amps=32)).at(NOW) == 20.0
    assert SiteLimit().at(NOW) is None


def test_scheduled_limit_changes_at_local_times_of_day() -> None:
    limit = SiteLimit(
        schedule=(ScheduleEntry(time(0), Limit(kw=50)), ScheduleEntry(time(7), Limit(kw=11)))
    )
    assert limit.at(at(6, 59)) == 50
    assert limit.at(at(7)) == 11
    assert limit.changes(NOW, END) == [at(0) + timedelta(days=1), at(7) + timedelta(days=1)]


def test_two_vehicles_share_the_limit_and_finish_together() -> None:
    limit = SiteLimit(Limit(kw=22))
    sessions = loads((), [plan(1, at(10), at(12), 11), plan(2, at(10), at(12), 11)], NOW)
    result = forecast(limit, sessions, NOW, END)
    assert result.steps == (
        LoadStep(NOW, at(10), 0.0, 22),
        LoadStep(at(10), at(11), 22.0, 22),
        LoadStep(at(11), END, 0.0, 22),
    )
    assert result.sessions["plan 1"].finished_at == at(11)
    assert result.sessions["plan 2"].delivered_kwh == pytest.approx(11)
    assert result.peak_kw == 22.0


def test_power_left_by_a_finished_vehicle_goes_to_the_other() -> None:
    limit = SiteLimit(Limit(kw=20))
    small = plan(1, at(10), at(14), 5.5, max_kw=11)
    big = plan(2, at(10), at(14), 20, bay=("CP-002", 1))
    result = forecast(limit, loads((), [small, big], NOW), NOW, END)
    # 10 kW each until the small one has 5.5 kWh (33 min), then 20 kW for the 14.5 left
    assert result.sessions["plan 1"].finished_at == at(10, 33)
    assert result.sessions["plan 2"].finished_at == at(11, 16, 30)
    assert result.load_at(at(10, 40)) == 20.0
    assert result.load_at(at(11, 17)) == 0.0
    assert [s.load_kw for s in result.steps] == [0.0, 20.0, 0.0]  # one step at 20 kW


def test_a_lower_scheduled_limit_slows_the_vehicle() -> None:
    limit = SiteLimit(
        schedule=(ScheduleEntry(time(0), Limit(kw=50)), ScheduleEntry(time(7), Limit(kw=11)))
    )
    now = at(5)
    result = forecast(limit, loads((), [plan(1, at(6), at(9), 33)], now), now, now + timedelta(1))
    # 22 kWh from 06:00 to 07:00, then 11 kW for the 11 kWh left
    assert result.sessions["plan 1"].finished_at == at(8)
    assert result.load_at(at(6, 30)) == 22.0
    assert result.load_at(at(7, 30)) == 11.0


def test_running_sessions_end_at_their_departure_need_or_an_assumed_duration() -> None:
    assert running_window(RunningSession("A", 1, "", 11, departure=at(9)), NOW) == (NOW, at(9))
    assert running_window(RunningSession("A", 1, "", 11, energy_need_kwh=22), NOW) == (
        NOW,
        at(10),
    )
    assert running_window(RunningSession("A", 1, "", 11), NOW) == (NOW, NOW + UNKNOWN_DURATION)


def test_a_plan_that_fits_says_where_and_by_when() -> None:
    fit = check_plan(request(at(10), at(12), 11), BAYS, [], [], SiteLimit(Limit(kw=22)), NOW)
    assert fit.fits
    assert fit.reason == "fits on CP-001/1: 11.0 kWh by 10:30"
    assert fit.plan is not None
    assert (fit.plan.charger_id, fit.plan.connector_id, fit.plan.max_kw) == ("CP-001", 1, 22.0)


def test_more_energy_than_the_connector_gives_in_the_window_does_not_fit() -> None:
    fit = check_plan(request(at(10), at(11), 40), BAYS, [], [], SiteLimit(), NOW)
    assert not fit.fits
    assert fit.reason == (
        "needs 40.0 kWh from 10:00 to 11:00: at most 22.0 kWh at 22.0 kW on CP-001/1"
    )


def test_a_taken_bollard_is_named_and_any_bollard_takes_the_next_free_one() -> None:
    taken = [plan(1, at(9), at(12), 10, badge="BADGE-A")]
    fit = check_plan(request(at(10), at(11), 5), BAYS, [], taken, SiteLimit(), NOW)
    assert not fit.fits
    assert fit.reason == "CP-001/1 is taken from 09:00 to 12:00 (BADGE-A)"
    fit = check_plan(request(at(10), at(11), 5, None), BAYS, [], taken, SiteLimit(), NOW)
    assert fit.fits and fit.plan is not None and fit.plan.charger_id == "CP-002"
    both = [*taken, plan(2, at(10, 30), at(13), 10, bay=("CP-002", 1))]
    fit = check_plan(request(at(10), at(11), 5, None), BAYS, [], both, SiteLimit(), NOW)
    assert fit.reason == "no bollard is free from 10:00 to 11:00"


def test_a_running_session_holds_its_connector_until_it_leaves() -> None:
    running = [RunningSession("CP-001", 1, "BADGE-R", 11, departure=at(10))]
    fit = check_plan(request(at(9), at(11), 5), BAYS, running, [], SiteLimit(), NOW)
    assert fit.reason == "CP-001/1 is taken from 08:00 to 10:00 (BADGE-R)"


def test_a_full_site_limit_leaves_the_new_vehicle_short() -> None:
    running = [RunningSession("CP-002", 1, "BADGE-R", 22, departure=at(12))]
    fit = check_plan(request(at(10), at(12), 30), BAYS, running, [], SiteLimit(Limit(kw=22)), NOW)
    # 11 kW each from 10:00 to 12:00: 22 kWh of 30
    assert not fit.fits
    assert (
        fit.reason == "the site limit is full from 10:00 to 12:00: 8.0 kWh short at departure 12:00"
    )
    assert fit.forecast is not None and fit.forecast.load_at(at(11)) == 22.0


def test_a_plan_that_would_leave_another_vehicle_short_does_not_fit() -> None:
    other = plan(1, at(10), at(12), 40, bay=("CP-002", 1), badge="BADGE-A")
    fit = check_plan(request(at(10), at(11), 10), BAYS, [], [other], SiteLimit(Limit(kw=30)), NOW)
    # alone, A is done at 11:49; with the new one (15 kW each until 10:40) A gets
    # 10 + 22 * 4/3 = 39.33 kWh by 12:00
    assert not fit.fits
    assert fit.reason == "it would leave BADGE-A on CP-002/1 0.7 kWh short at 12:00"


@pytest.mark.parametrize(
    ("arrival", "departure", "energy", "reason"),
    [
        (at(10), at(9), 5.0, "the departure must be after the arrival"),
        (at(6), at(7), 5.0, "the departure is already past"),
        (
            at(9) + timedelta(days=1),
            at(10) + timedelta(days=1),
            5.0,
            "the arrival is beyond the next 24 h",
        ),
        (at(10), at(11), 0.0, "the energy to deliver must be more than 0 kWh"),
    ],
)
def test_requests_that_make_no_sense_say_why(
    arrival: datetime, departure: datetime, energy: float, reason: str
) -> None:
    fit = check_plan(request(arrival, departure, energy), BAYS, [], [], SiteLimit(), NOW)
    assert (fit.fits, fit.reason) == (False, reason)


def test_an_arrival_already_past_starts_now() -> None:
    fit = check_plan(request(at(7), at(9), 11), BAYS, [], [], SiteLimit(), NOW)
    assert fit.fits and fit.plan is not None and fit.plan.arrival == NOW
    assert fit.reason == "fits on CP-001/1: 11.0 kWh by 08:30"


def test_unknown_bollard_and_plan_checks() -> None:
    fit = check_plan(request(at(10), at(11), 5, "CP-099"), BAYS, [], [], SiteLimit(), NOW)
    assert fit.reason == "CP-099 is not a bollard of this site"
    with pytest.raises(ValueError, match="after the arrival"):
        plan(1, at(10), at(10), 5)


def test_pending_plans_are_those_not_yet_gone_by_arrival() -> None:
    a, b, c = plan(1, at(11), at(12), 5), plan(2, at(6), at(7), 5), plan(3, at(9), at(13), 5)
    assert pending([a, b, c], NOW) == [c, a]


def test_a_planned_vehicle_that_arrived_is_one_session_with_the_plans_need() -> None:
    booked = plan(1, at(10), at(12), 22, badge="BADGE-A")
    now = at(9, 30)  # a little early
    mine = RunningSession("CP-001", 1, "BADGE-A", 7.0, delivered_kwh=2.0)
    other = RunningSession("CP-002", 1, "BADGE-B", 11.0)
    running, planned = arrived([mine, other], [booked], now)
    assert planned == []
    assert running == [
        RunningSession("CP-001", 1, "BADGE-A", 22.0, 20.0, at(12), 2.0),
        other,
    ]
    fit = check_plan(request(at(10), at(11), 5), BAYS, [mine, other], [booked], SiteLimit(), now)
    assert fit.reason == "CP-001/1 is taken from 09:30 to 12:00 (BADGE-A)"
    # another badge on the plan's connector, or too early: two sessions
    stranger = RunningSession("CP-001", 1, "BADGE-Z", 7.0)
    assert arrived([stranger], [booked], now) == ([stranger], [booked])
    assert arrived([mine], [booked], at(8, 59)) == ([mine], [booked])


def test_a_plan_must_also_fit_the_feeders_above_its_connector() -> None:
    bays = [*BAYS, Bay("CP-003", 1, 22.0)]
    feeder = Feeder(
        "F1", "feeder F1", SiteLimit(Limit(amps=32)), frozenset({"CP-001/1", "CP-002/1"})
    )
    # BADGE-R alone gets 4 h x 22 kW = 88 kWh of its 80 by 12:00
    running = [RunningSession("CP-002", 1, "BADGE-R", 22, 80.0, at(12))]
    site = SiteLimit(Limit(kw=100))
    # the site has room, but F1 (32 A: 22.08 kW) gives 11.04 kW each from 10:00 to 12:00
    fit = check_plan(request(at(10), at(12), 30), bays, running, [], site, NOW, [feeder])
    assert not fit.fits
    assert fit.reason == (
        "the limit of feeder F1 is full from 10:00 to 12:00: 7.9 kWh short at departure 12:00"
    )
    assert check_plan(request(at(10), at(12), 30), bays, running, [], site, NOW).fits
    # under F1, a plan that leaves the running session short is refused too: sharing F1
    # while the new vehicle takes its 10 kWh (54 min), BADGE-R gets 78.1 kWh
    small = check_plan(request(at(10), at(11), 10), bays, running, [], site, NOW, [feeder])
    assert small.reason == "it would leave BADGE-R on CP-002/1 1.9 kWh short at 12:00"
    # a connector outside F1 is not limited by it
    elsewhere = request(at(10), at(12), 30, charger_id="CP-003")
    assert check_plan(elsewhere, bays, running, [], site, NOW, [feeder]).fits
