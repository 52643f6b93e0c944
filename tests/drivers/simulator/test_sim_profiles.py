"""Charging profiles of the simulated bollards, reduced to power limits."""

from __future__ import annotations

from typing import Any

import pytest

from evsuper.drivers.simulator.profiles import (
    CHARGE_POINT_MAX,
    TX,
    TX_DEFAULT,
    ChargingProfiles,
    InstalledProfile,
    limit_in_watts,
    parse_profile,
)


def profile(
    profile_id: int, connector_id: int, purpose: str, limit_w: float, stack_level: int = 0
) -> InstalledProfile:
    return InstalledProfile(profile_id, connector_id, purpose, stack_level, limit_w)


def test_amps_are_converted_at_230_v_on_three_phases_unless_told() -> None:
    assert limit_in_watts(16.0, "A") == pytest.approx(16 * 230 * 3)
    assert limit_in_watts(16.0, "A", 1) == pytest.approx(16 * 230)
    assert limit_in_watts(7400.0, "W") == 7400.0


def test_parse_takes_the_first_schedule_period() -> None:
    payload: dict[str, Any] = {
        "charging_profile_id": 7,
        "stack_level": 2,
        "charging_profile_purpose": TX_DEFAULT,
        "charging_profile_kind": "Absolute",
        "charging_schedule": {
            "charging_rate_unit": "A",
            "charging_schedule_period": [
                {"start_period": 0, "limit": 10.0},
                {"start_period": 600, "limit": 32.0},
            ],
        },
    }
    assert parse_profile(1, payload) == InstalledProfile(7, 1, TX_DEFAULT, 2, 6900.0)


def test_no_profile_means_no_limit() -> None:
    assert ChargingProfiles(8).limit_w(1, sharing=1) is None


def test_tx_profile_overrides_defaults_and_connector_default_overrides_station_default() -> None:
    p = ChargingProfiles(8)
    p.install(profile(1, 0, TX_DEFAULT, 11_000.0))
    assert p.limit_w(1, 1) == 11_000.0
    assert p.limit_w(2, 1) == 11_000.0
    p.install(profile(2, 1, TX_DEFAULT, 20_000.0))
    assert p.limit_w(1, 1) == 20_000.0
    assert p.limit_w(2, 1) == 11_000.0
    p.install(profile(3, 1, TX, 4_000.0))
    assert p.limit_w(1, 1) == 4_000.0


def test_highest_stack_level_wins() -> None:
    p = ChargingProfiles(8)
    p.install(profile(1, 1, TX_DEFAULT, 3_000.0, stack_level=1))
    p.install(profile(2, 1, TX_DEFAULT, 9_000.0, stack_level=3))
    assert p.limit_w(1, 1) == 9_000.0


def test_station_maximum_is_shared_by_the_connectors_drawing_power() -> None:
    p = ChargingProfiles(8)
    p.install(profile(1, 0, CHARGE_POINT_MAX, 30_000.0))
    assert p.limit_w(1, sharing=1) == 30_000.0
    assert p.limit_w(1, sharing=2) == 15_000.0
    p.install(profile(2, 1, TX, 5_000.0))
    assert p.limit_w(1, sharing=2) == 5_000.0


def test_same_id_or_same_slot_replaces() -> None:
    p = ChargingProfiles(8)
    p.install(profile(1, 1, TX_DEFAULT, 3_000.0))
    p.install(profile(1, 1, TX_DEFAULT, 5_000.0, stack_level=4))
    p.install(profile(9, 1, TX_DEFAULT, 6_000.0, stack_level=4))
    assert p.limit_w(1, 1) == 6_000.0
    assert p.clear(connector_id=1) == 1


def test_clear_by_id_ignores_the_other_criteria() -> None:
    p = ChargingProfiles(8)
    p.install(profile(1, 1, TX_DEFAULT, 3_000.0))
    p.install(profile(2, 2, TX_DEFAULT, 3_000.0))
    assert p.clear(profile_id=1, connector_id=2) == 1
    assert p.limit_w(1, 1) is None
    assert p.limit_w(2, 1) == 3_000.0


def test_clear_by_purpose_and_clear_all() -> None:
    p = ChargingProfiles(8)
    p.install(profile(1, 1, TX, 3_000.0))
    p.install(profile(2, 0, CHARGE_POINT_MAX, 9_000.0))
    assert p.clear(purpose=TX) == 1
    assert p.limit_w(1, 1) == 9_000.0
    assert p.clear() == 1
    assert p.limit_w(1, 1) is None


def test_a_full_store_refuses_new_profiles() -> None:
    p = ChargingProfiles(2)
    assert p.install(profile(1, 1, TX_DEFAULT, 1.0))
    assert p.install(profile(2, 2, TX_DEFAULT, 1.0))
    assert not p.install(profile(3, 3, TX_DEFAULT, 1.0))
    assert p.install(profile(2, 2, TX_DEFAULT, 2.0))  # a replacement still fits


def test_composite_limit_of_connector_zero_is_the_station_maximum_alone() -> None:
    p = ChargingProfiles(8)
    p.install(profile(1, 0, TX_DEFAULT, 11_000.0))
    assert p.composite_limit_w(0, 1) is None
    assert p.composite_limit_w(1, 1) == 11_000.0
    p.install(profile(2, 0, CHARGE_POINT_MAX, 30_000.0))
    assert p.composite_limit_w(0, 2) == 30_000.0
    assert p.composite_limit_w(1, 1) == 11_000.0
