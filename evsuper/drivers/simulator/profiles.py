"""Charging profiles installed on a simulated charge point, reduced to power limits.

The simulator keeps one figure per profile, the limit of its first schedule period, and
stacks them as OCPP 1.6 does (§3.13): per connector a TxProfile overrides a
TxDefaultProfile, the highest stack level wins, and a ChargePointMaxProfile caps the whole
charge point, shared equally by the connectors drawing power.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from evsuper.drivers.simulator.ev import NOMINAL_VOLTAGE_V, PHASES

CHARGE_POINT_MAX = "ChargePointMaxProfile"
TX_DEFAULT = "TxDefaultProfile"
TX = "TxProfile"


@dataclass(frozen=True, slots=True)
class InstalledProfile:
    profile_id: int
    connector_id: int
    purpose: str
    stack_level: int
    limit_w: float
    transaction_id: int | None = None


def limit_in_watts(limit: float, unit: str, number_phases: int | None = None) -> float:
    """A schedule limit in W: ``unit`` "W", or "A" per phase at the nominal voltage."""
    if unit == "A":
        return limit * NOMINAL_VOLTAGE_V * (number_phases or PHASES)
    return limit


def parse_profile(connector_id: int, profile: Mapping[str, Any]) -> InstalledProfile:
    """A ``csChargingProfiles`` payload as the ocpp library hands it over (snake_case keys)."""
    schedule = profile["charging_schedule"]
    first = schedule["charging_schedule_period"][0]
    return InstalledProfile(
        profile_id=profile["charging_profile_id"],
        connector_id=connector_id,
        purpose=profile["charging_profile_purpose"],
        stack_level=profile["stack_level"],
        limit_w=max(
            limit_in_watts(
                float(first["limit"]), schedule["charging_rate_unit"], first.get("number_phases")
            ),
            0.0,
        ),
        transaction_id=profile.get("transaction_id"),
    )


class ChargingProfiles:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._profiles: list[InstalledProfile] = []

    def install(self, profile: InstalledProfile) -> bool:
        """Add or replace (same id, or same connector, purpose and stack level); False if full."""
        kept = [
            p
            for p in self._profiles
            if p.profile_id != profile.profile_id
            and (p.connector_id, p.purpose, p.stack_level)
            != (profile.connector_id, profile.purpose, profile.stack_level)
        ]
        if len(kept) >= self.capacity:
            return False
        self._profiles = [*kept, profile]
        return True

    def clear(
        self,
        *,
        profile_id: int | None = None,
        connector_id: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
    ) -> int:
        """ClearChargingProfile: remove what matches (an id overrides the other criteria)."""

        def matches(p: InstalledProfile) -> bool:
            if profile_id is not None:
                return p.profile_id == profile_id
            return (
                (connector_id is None or p.connector_id == connector_id)
                and (purpose is None or p.purpose == purpose)
                and (stack_level is None or p.stack_level == stack_level)
            )

        before = len(self._profiles)
        self._profiles = [p for p in self._profiles if not matches(p)]
        return before - len(self._profiles)

    def limit_w(self, connector_id: int, sharing: int) -> float | None:
        """The power limit of a connector (None: unlimited); ``sharing`` connectors draw power."""
        tx_level = (
            self._top(connector_id, TX)
            or self._top(connector_id, TX_DEFAULT)
            or self._top(0, TX_DEFAULT)
        )
        station = self._top(0, CHARGE_POINT_MAX)
        limits = []
        if tx_level is not None:
            limits.append(tx_level.limit_w)
        if station is not None:
            limits.append(station.limit_w / max(sharing, 1))
        return min(limits) if limits else None

    def composite_limit_w(self, connector_id: int, sharing: int) -> float | None:
        """What GetCompositeSchedule reports: connector 0 the station maximum alone."""
        if connector_id == 0:
            station = self._top(0, CHARGE_POINT_MAX)
            return None if station is None else station.limit_w
        return self.limit_w(connector_id, sharing)

    def _top(self, connector_id: int, purpose: str) -> InstalledProfile | None:
        candidates = [
            p for p in self._profiles if p.connector_id == connector_id and p.purpose == purpose
        ]
        return max(candidates, key=lambda p: p.stack_level, default=None)
