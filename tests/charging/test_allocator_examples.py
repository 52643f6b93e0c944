"""The allocator on small sites with exact answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from evsuper.charging.allocator import Objective, Session, State, allocate
from evsuper.charging.topology import Connector, Group, Limit, Phase, Site, with_limits

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def feeder_site(*connectors: Connector, amps: float = 32.0) -> Site:
    return Site("S", Limit(), (Group("F1", Limit(amps=amps), connectors),))


def test_three_cars_share_a_32_a_feeder_equally() -> None:
    site = feeder_site(*(Connector(f"C{i}") for i in range(1, 4)))
    allocation = allocate(site, [Session(f"C{i}") for i in range(1, 4)])
    for i in range(1, 4):
        setpoint = allocation.setpoints[f"C{i}"]
        assert setpoint.state is State.CHARGING
        assert setpoint.current_a == pytest.approx(32 / 3)
        assert setpoint.power_w == pytest.approx(32 / 3 * 3 * 230)
        assert setpoint.reason == "limited by feeder F1 on L1"
        assert setpoint.binding == "F1"


def test_a_connector_without_session_is_not_requested() -> None:
    site = feeder_site(Connector("C1"), Connector("C2"))
    setpoint = allocate(site, [Session("C1")]).setpoints["C2"]
    assert (setpoint.state, setpoint.current_a, setpoint.reason) == (
        State.NOT_REQUESTED,
        0.0,
        "not requested",
    )
    assert allocate(site, [Session("C1")]).setpoints["C1"].reason == "limited by its own maximum"


def test_a_single_phase_car_loads_only_its_phase() -> None:
    # C1 is single-phase wired to L2; C2 is a three-phase car. L2 carries both.
    site = feeder_site(Connector("C1", phases=1, phase=Phase.L2), Connector("C2"), amps=40)
    setpoints = allocate(site, [Session("C1"), Session("C2")]).setpoints
    assert setpoints["C1"].phase_currents == pytest.approx((0, 20, 0))
    assert setpoints["C2"].phase_currents == pytest.approx((20, 20, 20))
    assert setpoints["C1"].reason == "limited by feeder F1 on L2"


def test_single_phase_vehicles_spread_over_a_rotated_site() -> None:
    # Three single-phase vehicles on three-phase connectors with rotations L1, L2, L3.
    connectors = [Connector(f"C{p.value}", phase=p) for p in Phase]
    site = feeder_site(*connectors, amps=16)
    setpoints = allocate(site, [Session(c.id, phases=1) for c in connectors]).setpoints
    assert [s.phase_currents for s in setpoints.values()] == [
        (16, 0, 0),
        (0, 16, 0),
        (0, 0, 16),
    ]
    assert {s.reason for s in setpoints.values()} == {"limited by feeder F1 on L1"} | {
        "limited by feeder F1 on L2",
        "limited by feeder F1 on L3",
    }


def test_a_kw_site_limit_binds_before_the_feeders() -> None:
    # 11.04 kW = 16 A on three phases at 230 V, shared by two three-phase cars.
    site = Site(
        "S",
        Limit(kw=11.04),
        (
            Group("F1", Limit(amps=32), (Connector("C1"),)),
            Group("F2", Limit(amps=32), (Connector("C2"),)),
        ),
    )
    setpoints = allocate(site, [Session("C1"), Session("C2")]).setpoints
    assert setpoints["C1"].current_a == pytest.approx(8)
    assert setpoints["C2"].power_w == pytest.approx(5520)
    assert setpoints["C1"].reason == "limited by the site limit (kW)"


def test_residual_goes_to_the_others() -> None:
    # C1's vehicle draws 4 A of the 16 A offered: it gets 5 A, the two others share the rest.
    site = feeder_site(*(Connector(f"C{i}") for i in range(1, 4)), amps=32)
    sessions = [Session("C1", measured_a=4, offered_a=16), Session("C2"), Session("C3")]
    setpoints = allocate(site, sessions).setpoints
    assert setpoints["C1"].current_a == pytest.approx(6)  # its demand, floored at the minimum
    assert setpoints["C1"].reason == "limited by what the vehicle takes"
    assert setpoints["C2"].current_a == pytest.approx(13)
    assert setpoints["C3"].current_a == pytest.approx(13)


def test_below_the_minimum_one_session_is_paused_and_the_rest_redistributed() -> None:
    # 16 A for three cars would be 5.33 A each: below 6 A, so the last (by id) pauses.
    site = feeder_site(*(Connector(f"C{i}") for i in range(1, 4)), amps=16)
    setpoints = allocate(site, [Session(f"C{i}") for i in range(3, 0, -1)]).setpoints
    assert setpoints["C1"].current_a == pytest.approx(8)
    assert setpoints["C2"].current_a == pytest.approx(8)
    paused = setpoints["C3"]
    assert (paused.state, paused.current_a, paused.power_w) == (State.PAUSED, 0.0, 0.0)
    assert paused.reason == "paused: below 6 A minimum, limited by feeder F1 on L1"
    assert paused.binding == "F1"


def test_priority_classes_are_served_first_and_fair_within_a_class() -> None:
    site = feeder_site(*(Connector(f"C{i}") for i in range(1, 5)), amps=40)
    sessions = [Session("C1", priority=1), Session("C2", priority=1), Session("C3"), Session("C4")]
    setpoints = allocate(site, sessions, Objective.PRIORITY).setpoints
    # The low class keeps its minimum; the high class shares the rest: (40 - 12) / 2.
    assert [setpoints[f"C{i}"].current_a for i in range(1, 5)] == pytest.approx([14, 14, 6, 6])
    fair = allocate(site, sessions, Objective.FAIR).setpoints
    assert [fair[f"C{i}"].current_a for i in range(1, 5)] == pytest.approx([10, 10, 10, 10])


def test_priority_decides_who_is_paused() -> None:
    site = feeder_site(*(Connector(f"C{i}") for i in range(1, 4)), amps=12)
    sessions = [Session("C1"), Session("C2"), Session("C3", priority=2)]
    setpoints = allocate(site, sessions, Objective.PRIORITY).setpoints
    assert [setpoints[f"C{i}"].state for i in range(1, 4)] == [
        State.CHARGING,
        State.PAUSED,
        State.CHARGING,
    ]
    assert setpoints["C3"].current_a == pytest.approx(6)


def test_deadline_serves_the_earliest_departure_its_need() -> None:
    # C2 leaves in 1 h needing 11.04 kWh (16 A on 3 phases); C1 leaves in 8 h needing 10 kWh.
    site = feeder_site(Connector("C1"), Connector("C2"), amps=24)
    sessions = [
        Session("C1", energy_need_kwh=10, departure=NOW + timedelta(hours=8)),
        Session("C2", energy_need_kwh=11.04, departure=NOW + timedelta(hours=1)),
    ]
    setpoints = allocate(site, sessions, Objective.DEADLINE, now=NOW).setpoints
    assert setpoints["C2"].current_a == pytest.approx(16)
    assert setpoints["C1"].current_a == pytest.approx(8)
    fair = allocate(site, sessions, Objective.FAIR).setpoints
    assert fair["C2"].current_a == pytest.approx(12)


def test_deadline_shares_what_is_left_fairly() -> None:
    site = feeder_site(Connector("C1"), Connector("C2"), Connector("C3"), amps=32)
    sessions = [
        Session("C1", energy_need_kwh=6.9, departure=NOW + timedelta(hours=1)),  # 10 A
        Session("C2"),
        Session("C3"),
    ]
    setpoints = allocate(site, sessions, Objective.DEADLINE, now=NOW).setpoints
    # C1 gets its 10 A first; the filling then raises C2 and C3 from 6 A to meet it.
    assert [setpoints[f"C{i}"].current_a for i in range(1, 4)] == pytest.approx([32 / 3] * 3)


def test_dc_connector_is_capped_by_its_power() -> None:
    site = Site("S", Limit(amps=400), (Connector("D1", max_a=400, min_a=0, dc=True, max_kw=50),))
    setpoint = allocate(site, [Session("D1")]).setpoints["D1"]
    assert setpoint.power_w == pytest.approx(50_000)
    assert setpoint.reason == "limited by its maximum power"


def test_zero_limit_pauses_everyone() -> None:
    site = feeder_site(Connector("C1"), amps=0)
    assert allocate(site, [Session("C1")]).setpoints["C1"].state is State.PAUSED


def test_bad_sessions_are_refused() -> None:
    site = feeder_site(Connector("C1"))
    with pytest.raises(ValueError, match="unknown connector"):
        allocate(site, [Session("C9")])
    with pytest.raises(ValueError, match="two sessions"):
        allocate(site, [Session("C1"), Session("C1")])
    with pytest.raises(ValueError, match="needs `now`"):
        allocate(site, [Session("C1", energy_need_kwh=1, departure=NOW)], Objective.DEADLINE)


def test_each_round_follows_its_own_limits_on_the_same_tree() -> None:
    # the rows of a tree are kept between allocations; the limits are read each time
    site = feeder_site(Connector("C1"), Connector("C2", phases=1, phase=Phase.L3), amps=40)
    sessions = [Session("C1"), Session("C2")]
    tighter = with_limits(site, {"F1": Limit(amps=16)})
    kw_only = with_limits(site, {"F1": Limit(kw=8.28)})  # 690 + 230 W per A: 9 A each
    for _ in range(2):
        assert allocate(site, sessions).setpoints["C1"].current_a == pytest.approx(20)
        assert allocate(tighter, sessions).setpoints["C1"].current_a == pytest.approx(8)
        three = allocate(kw_only, sessions).setpoints
        assert three["C1"].reason == "limited by feeder F1 (kW)"
        assert three["C1"].current_a == pytest.approx(9)
    one = allocate(site, [Session("C1")]).setpoints
    assert one["C1"].current_a == pytest.approx(32) and one["C2"].state is State.NOT_REQUESTED
    # the same connectors, a single-phase car on C1 now (on L1): L3 carries only C2
    single = allocate(tighter, [Session("C1", phases=1), Session("C2")]).setpoints
    assert single["C1"].phase_currents == pytest.approx((16, 0, 0))
    assert single["C2"].phase_currents == pytest.approx((0, 0, 16))
