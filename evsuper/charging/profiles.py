"""OCPP 1.6 charging profiles as typed values, their wire form, and the set a charger holds.

Wire dicts are those of the 1.6 JSON schemas (camelCase keys, times in UTC with ``Z``).
Constructing a value validates it; a ValueError says what is wrong.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from itertools import pairwise
from typing import Any

from evsuper.core.timeutil import from_wire, to_wire


class ChargingProfilePurpose(StrEnum):
    CHARGE_POINT_MAX = "ChargePointMaxProfile"  # the whole charge point (connector 0)
    TX_DEFAULT = "TxDefaultProfile"  # any transaction on the connector (0: every connector)
    TX = "TxProfile"  # one running transaction


class ChargingProfileKind(StrEnum):
    ABSOLUTE = "Absolute"  # periods from startSchedule
    RECURRING = "Recurring"  # periods from startSchedule, repeated daily or weekly
    RELATIVE = "Relative"  # periods from the start of the transaction


class RecurrencyKind(StrEnum):
    DAILY = "Daily"
    WEEKLY = "Weekly"


class ChargingRateUnit(StrEnum):
    AMPS = "A"  # per phase
    WATTS = "W"


@dataclass(frozen=True, slots=True)
class SchedulePeriod:
    start_s: int  # seconds from the start of the schedule
    limit: float  # in the schedule's unit
    number_phases: int | None = None  # None: 3 (OCPP 1.6 default)

    def __post_init__(self) -> None:
        if self.start_s < 0:
            raise ValueError(f"startPeriod {self.start_s} is negative")
        if self.limit < 0:
            raise ValueError(f"limit {self.limit} is negative")
        if self.number_phases is not None and self.number_phases not in (1, 2, 3):
            raise ValueError(f"numberPhases {self.number_phases} is not 1, 2 or 3")

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"startPeriod": self.start_s, "limit": self.limit}
        if self.number_phases is not None:
            wire["numberPhases"] = self.number_phases
        return wire

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> SchedulePeriod:
        return cls(int(wire["startPeriod"]), float(wire["limit"]), wire.get("numberPhases"))


@dataclass(frozen=True, slots=True)
class ChargingSchedule:
    unit: ChargingRateUnit
    periods: tuple[SchedulePeriod, ...]
    duration_s: int | None = None  # None: the last period lasts as long as the profile
    start: datetime | None = None  # startSchedule, aware
    min_charging_rate: float | None = None

    def __post_init__(self) -> None:
        if not self.periods:
            raise ValueError("a schedule needs at least one period")
        if self.periods[0].start_s != 0:
            raise ValueError("the first period must start at 0")
        starts = [p.start_s for p in self.periods]
        if any(a >= b for a, b in pairwise(starts)):
            raise ValueError(f"period starts {starts} are not strictly ascending")
        if self.duration_s is not None and self.duration_s <= 0:
            raise ValueError(f"duration {self.duration_s} is not positive")
        if self.start is not None and self.start.tzinfo is None:
            raise ValueError("startSchedule must be an aware time")
        if self.min_charging_rate is not None and self.min_charging_rate < 0:
            raise ValueError(f"minChargingRate {self.min_charging_rate} is negative")

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "chargingRateUnit": self.unit.value,
            "chargingSchedulePeriod": [p.to_wire() for p in self.periods],
        }
        if self.duration_s is not None:
            wire["duration"] = self.duration_s
        if self.start is not None:
            wire["startSchedule"] = to_wire(self.start)
        if self.min_charging_rate is not None:
            wire["minChargingRate"] = self.min_charging_rate
        return wire

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> ChargingSchedule:
        start = wire.get("startSchedule")
        return cls(
            unit=ChargingRateUnit(wire["chargingRateUnit"]),
            periods=tuple(SchedulePeriod.from_wire(p) for p in wire["chargingSchedulePeriod"]),
            duration_s=wire.get("duration"),
            start=None if start is None else from_wire(start),
            min_charging_rate=wire.get("minChargingRate"),
        )


@dataclass(frozen=True, slots=True)
class ChargingProfile:
    profile_id: int
    stack_level: int
    purpose: ChargingProfilePurpose
    kind: ChargingProfileKind
    schedule: ChargingSchedule
    transaction_id: int | None = None  # TxProfile only
    recurrency: RecurrencyKind | None = None  # Recurring only
    valid_from: datetime | None = None  # aware
    valid_to: datetime | None = None  # aware

    def __post_init__(self) -> None:
        if self.stack_level < 0:
            raise ValueError(f"stackLevel {self.stack_level} is negative")
        if self.transaction_id is not None and self.purpose is not ChargingProfilePurpose.TX:
            raise ValueError("a transactionId is only allowed on a TxProfile")
        recurring = self.kind is ChargingProfileKind.RECURRING
        if recurring != (self.recurrency is not None):
            raise ValueError("recurrencyKind is required for Recurring profiles, and only there")
        if self.kind is not ChargingProfileKind.RELATIVE and self.schedule.start is None:
            raise ValueError(f"an {self.kind.value} profile needs a startSchedule")
        if self.kind is ChargingProfileKind.RELATIVE and self.schedule.start is not None:
            raise ValueError("a Relative profile has no startSchedule")
        for name, ts in (("validFrom", self.valid_from), ("validTo", self.valid_to)):
            if ts is not None and ts.tzinfo is None:
                raise ValueError(f"{name} must be an aware time")
        if self.valid_from and self.valid_to and self.valid_from >= self.valid_to:
            raise ValueError("validFrom must be before validTo")

    def to_wire(self) -> dict[str, Any]:
        """The ``csChargingProfiles`` object of SetChargingProfile."""
        wire: dict[str, Any] = {
            "chargingProfileId": self.profile_id,
            "stackLevel": self.stack_level,
            "chargingProfilePurpose": self.purpose.value,
            "chargingProfileKind": self.kind.value,
            "chargingSchedule": self.schedule.to_wire(),
        }
        if self.transaction_id is not None:
            wire["transactionId"] = self.transaction_id
        if self.recurrency is not None:
            wire["recurrencyKind"] = self.recurrency.value
        if self.valid_from is not None:
            wire["validFrom"] = to_wire(self.valid_from)
        if self.valid_to is not None:
            wire["validTo"] = to_wire(self.valid_to)
        return wire

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> ChargingProfile:
        recurrency = wire.get("recurrencyKind")
        valid_from = wire.get("validFrom")
        valid_to = wire.get("validTo")
        return cls(
            profile_id=int(wire["chargingProfileId"]),
            stack_level=int(wire["stackLevel"]),
            purpose=ChargingProfilePurpose(wire["chargingProfilePurpose"]),
            kind=ChargingProfileKind(wire["chargingProfileKind"]),
            schedule=ChargingSchedule.from_wire(wire["chargingSchedule"]),
            transaction_id=wire.get("transactionId"),
            recurrency=None if recurrency is None else RecurrencyKind(recurrency),
            valid_from=None if valid_from is None else from_wire(valid_from),
            valid_to=None if valid_to is None else from_wire(valid_to),
        )

    def is_valid_at(self, ts: datetime) -> bool:
        after_start = self.valid_from is None or ts >= self.valid_from
        return after_start and (self.valid_to is None or ts < self.valid_to)


def for_connector(
    profile: ChargingProfile, connector_id: int, running_transaction: int | None
) -> ChargingProfile:
    """The profile as sent to ``connector_id``; ValueError when it cannot be sent there.

    A TxProfile needs a transaction running on the connector and gets its id.
    """
    if connector_id < 0:
        raise ValueError(f"connector {connector_id} does not exist")
    schedule = profile.schedule
    rates = [p.limit for p in schedule.periods] + [schedule.min_charging_rate or 0.0]
    if any(abs(rate * 10 - round(rate * 10)) > 1e-9 for rate in rates):
        raise ValueError("limits and minChargingRate must be multiples of 0.1 (OCPP 1.6)")
    purpose = profile.purpose
    if purpose is ChargingProfilePurpose.CHARGE_POINT_MAX and connector_id != 0:
        raise ValueError("a ChargePointMaxProfile goes on connector 0 only")
    if purpose is not ChargingProfilePurpose.TX:
        return profile
    if connector_id == 0 or running_transaction is None:
        raise ValueError(f"a TxProfile needs a transaction running on connector {connector_id}")
    if profile.transaction_id not in (None, running_transaction):
        raise ValueError(
            f"transaction {profile.transaction_id} is not the one running on connector "
            f"{connector_id} ({running_transaction})"
        )
    return replace(profile, transaction_id=running_transaction)


@dataclass(frozen=True, slots=True)
class InstalledProfile:
    connector_id: int
    profile: ChargingProfile


class InstalledProfiles:
    """The profiles one charger accepted, replaced and cleared as OCPP 1.6 says."""

    def __init__(self) -> None:
        self._installed: list[InstalledProfile] = []

    def __iter__(self) -> Iterator[InstalledProfile]:
        return iter(self._installed)

    def __len__(self) -> int:
        return len(self._installed)

    def accepted(self, connector_id: int, profile: ChargingProfile) -> None:
        """Keep it; it replaces one with the same id or connector, purpose and stack level."""
        key = (connector_id, profile.purpose, profile.stack_level)
        self._installed = [
            i
            for i in self._installed
            if i.profile.profile_id != profile.profile_id
            and (i.connector_id, i.profile.purpose, i.profile.stack_level) != key
        ]
        self._installed.append(InstalledProfile(connector_id, profile))

    def cleared(
        self,
        *,
        profile_id: int | None = None,
        connector_id: int | None = None,
        purpose: ChargingProfilePurpose | None = None,
        stack_level: int | None = None,
    ) -> int:
        """Forget what an accepted ClearChargingProfile removed (an id overrides the rest)."""

        def matches(i: InstalledProfile) -> bool:
            if profile_id is not None:
                return i.profile.profile_id == profile_id
            return (
                (connector_id is None or i.connector_id == connector_id)
                and (purpose is None or i.profile.purpose is purpose)
                and (stack_level is None or i.profile.stack_level == stack_level)
            )

        before = len(self._installed)
        self._installed = [i for i in self._installed if not matches(i)]
        return before - len(self._installed)

    def applicable(self, connector_id: int, transaction_id: int | None) -> list[InstalledProfile]:
        """The profiles bearing on ``connector_id``; TxProfiles of other transactions left out."""
        return [
            i
            for i in self._installed
            if i.connector_id in (0, connector_id)
            and (
                i.profile.purpose is not ChargingProfilePurpose.TX
                or i.profile.transaction_id == transaction_id
            )
        ]
