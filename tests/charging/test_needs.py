"""Where a running session's energy need and departure come from: its plan, else its usage
profile, else nowhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from evsuper.charging.needs import ChargingNeed, OperatorNeed, charging_need
from evsuper.charging.planning import PlannedSession
from evsuper.project.model import UsageProfile

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)
FLEET = UsageProfile("FLEET", "fleet", energy_kwh=30.0, stay_h=8.0)


def plan(
    plan_id: int, badge: str = "VAN-1", arrival: datetime = T0, **kw: object
) -> PlannedSession:
    fields: dict[str, object] = dict(
        id=plan_id,
        site_id="S",
        badge=badge,
        charger_id="CP-1",
        connector_id=1,
        arrival=arrival,
        departure=arrival + 4 * H,
        energy_kwh=20.0,
        max_kw=11.0,
    )
    return PlannedSession(**(fields | kw))  # type: ignore[arg-type]


def test_a_session_in_its_plans_window_takes_its_departure_and_the_energy_left() -> None:
    need = charging_need("CP-1", 1, "VAN-1", T0 + 0.25 * H, 6.5, [plan(7)], FLEET)
    assert need == ChargingNeed(13.5, T0 + 4 * H, "plan 7")


def test_a_plan_matches_its_connector_badge_and_window_only() -> None:
    plans = [plan(1)]
    assert charging_need("CP-1", 2, "VAN-1", T0, 0.0, plans) is None  # other connector
    assert charging_need("CP-2", 1, "VAN-1", T0, 0.0, plans) is None  # other bollard
    assert charging_need("CP-1", 1, "VAN-2", T0, 0.0, plans) is None  # other badge
    assert charging_need("CP-1", 1, "VAN-1", T0 + 4 * H, 0.0, plans) is None  # after it
    assert charging_need("CP-1", 1, "VAN-1", T0 - 2 * H, 0.0, plans) is None  # long before
    early = charging_need("CP-1", 1, "VAN-1", T0 - 0.5 * H, 0.0, plans)  # within the margin
    assert early is not None and early.source == "plan 1"
    anyone = charging_need("CP-1", 1, "VISITOR", T0, 0.0, [plan(2, badge="")])
    assert anyone is not None and anyone.source == "plan 2"  # a plan without badge


def test_the_earliest_of_two_matching_plans_applies() -> None:
    plans = [plan(5, arrival=T0 + 0.5 * H), plan(3, arrival=T0)]
    need = charging_need("CP-1", 1, "VAN-1", T0 + 0.6 * H, 0.0, plans)
    assert need is not None and need.source == "plan 3"


def test_without_a_plan_the_usage_profile_gives_a_typical_stay() -> None:
    need = charging_need("CP-1", 1, "FLEET-9", T0, 45.0, [], FLEET)
    assert need == ChargingNeed(0.0, T0 + 8 * H, "usage profile fleet")  # never negative
    assert charging_need("CP-1", 1, "X", T0, 0.0, [], UsageProfile("FLEET", priority=2)) is None
    assert charging_need("CP-1", 1, None, T0, 0.0) is None


def test_the_operators_need_comes_first_and_counts_from_when_it_was_given() -> None:
    # "12 kWh more by 12:00", said when the session had 5 kWh; it has 8 kWh now
    operator = OperatorNeed(12.0, T0 + 4 * H, 5.0, "ann")
    need = charging_need("CP-1", 1, "VAN-1", T0, 8.0, [plan(7)], FLEET, operator)
    assert need == ChargingNeed(9.0, T0 + 4 * H, "operator ann")
    assert charging_need("CP-1", 1, "VAN-1", T0, 30.0, [], None, operator) == ChargingNeed(
        0.0, T0 + 4 * H, "operator ann"
    )


def test_an_operators_need_is_checked() -> None:
    with pytest.raises(ValueError, match="aware"):
        OperatorNeed(5.0, datetime(2026, 11, 22, 12, 0), 0.0, "ann")
    with pytest.raises(ValueError, match="negative"):
        OperatorNeed(-1.0, T0, 0.0, "ann")
