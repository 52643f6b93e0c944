"""Operator commands: typed requests, their results, and the router that executes them.

Every action from the HMI or the CLI is one of the command dataclasses below, handed to
``CommandRouter.execute``; the result always comes back to the caller (never an exception).
Permissions, confirmation and the audit trail hook in here (issue 4).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from evsuper.charging.composite import CompositePeriod
from evsuper.charging.profiles import (
    ChargingProfile,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
)
from evsuper.core.timeutil import utcnow

log = logging.getLogger(__name__)


class ResetKind(StrEnum):
    SOFT = "Soft"
    HARD = "Hard"


class TriggerableMessage(StrEnum):
    """What a central system may ask a charger to send now (OCPP 1.6 TriggerMessage)."""

    BOOT_NOTIFICATION = "BootNotification"
    DIAGNOSTICS_STATUS_NOTIFICATION = "DiagnosticsStatusNotification"
    FIRMWARE_STATUS_NOTIFICATION = "FirmwareStatusNotification"
    HEARTBEAT = "Heartbeat"
    METER_VALUES = "MeterValues"
    STATUS_NOTIFICATION = "StatusNotification"


class LocalListUpdate(StrEnum):
    FULL = "Full"  # the charger's list is replaced
    DIFFERENTIAL = "Differential"  # entries added or updated; needs a newer version


class AvailabilityKind(StrEnum):
    OPERATIVE = "Operative"
    INOPERATIVE = "Inoperative"


@dataclass(frozen=True, kw_only=True)
class Command:
    charger_id: str
    issued_by: str = "local"
    issued_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True, kw_only=True)
class RemoteStart(Command):
    connector_id: int | None
    id_tag: str


@dataclass(frozen=True, kw_only=True)
class RemoteStop(Command):
    transaction_id: int


@dataclass(frozen=True, kw_only=True)
class Reset(Command):
    kind: ResetKind = ResetKind.SOFT


@dataclass(frozen=True, kw_only=True)
class UnlockConnector(Command):
    connector_id: int


@dataclass(frozen=True, kw_only=True)
class ChangeAvailability(Command):
    connector_id: int  # 0 = the whole charger
    kind: AvailabilityKind


@dataclass(frozen=True, kw_only=True)
class GetConfiguration(Command):
    keys: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ChangeConfiguration(Command):
    key: str
    value: str


@dataclass(frozen=True, kw_only=True)
class ClearCache(Command):
    pass


@dataclass(frozen=True, kw_only=True)
class TriggerMessage(Command):
    message: TriggerableMessage
    connector_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class DataTransfer(Command):
    """Vendor-specific exchange; the charger's answer data is the result's payload."""

    vendor_id: str
    message_id: str | None = None
    data: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReserveNow(Command):
    """Hold a connector (0 = any) for ``id_tag`` until ``expiry`` (aware UTC).

    The central system allocates the reservation id; it is the result's payload.
    """

    connector_id: int
    id_tag: str
    expiry: datetime
    parent_id_tag: str | None = None


@dataclass(frozen=True, kw_only=True)
class CancelReservation(Command):
    reservation_id: int


@dataclass(frozen=True, kw_only=True)
class SendLocalList(Command):
    """Send the project's badge table, with its ``local_list_version``, as the local list."""

    update_type: LocalListUpdate = LocalListUpdate.FULL


@dataclass(frozen=True, kw_only=True)
class GetLocalListVersion(Command):
    """The charger's list version is the payload (0: no list, -1: lists not supported)."""


@dataclass(frozen=True, kw_only=True)
class SetChargingProfile(Command):
    """Install ``profile`` on a connector (0: the charger); a TxProfile gets the running
    transaction's id. The central system keeps the profiles the charger accepts."""

    connector_id: int
    profile: ChargingProfile


@dataclass(frozen=True, kw_only=True)
class ClearChargingProfile(Command):
    """Remove the profile ``profile_id``, or those matching the other criteria (none: all)."""

    profile_id: int | None = None
    connector_id: int | None = None
    purpose: ChargingProfilePurpose | None = None
    stack_level: int | None = None


@dataclass(frozen=True, kw_only=True)
class GetCompositeSchedule(Command):
    """The charger's composite schedule beside evsuper's own (a ``CompositeSchedules``)."""

    connector_id: int
    duration_s: int
    unit: ChargingRateUnit | None = None  # None: the charger chooses; evsuper follows


@dataclass(frozen=True, kw_only=True)
class CompositeSchedules:
    """GetCompositeSchedule's payload: what the charger answered and what evsuper expects
    from the profiles the charger accepted (same start, duration and unit)."""

    status: str  # the charger's: Accepted or Rejected
    schedule_start: datetime | None  # the charger's
    charging_schedule: ChargingSchedule | None  # the charger's
    expected_start: datetime
    expected_unit: ChargingRateUnit
    expected: tuple[CompositePeriod, ...]  # empty: no profile limits the connector


@dataclass(frozen=True, kw_only=True)
class UpdateFirmware(Command):
    """Ask the charger to fetch firmware from ``location`` (a URL) from ``retrieve_date`` on."""

    location: str
    retrieve_date: datetime
    retries: int | None = None
    retry_interval_s: int | None = None


@dataclass(frozen=True, kw_only=True)
class GetDiagnostics(Command):
    """Ask the charger to upload diagnostics to ``location``; the payload is the file name."""

    location: str
    start_time: datetime | None = None
    stop_time: datetime | None = None
    retries: int | None = None
    retry_interval_s: int | None = None


@dataclass(frozen=True, kw_only=True)
class RawCall(Command):
    """Any central-system-initiated OCPP message, payload as on the wire (camelCase).

    For integrators and support scripts (``evsuper call``): the engine's own bookkeeping
    (reservations, local list versions) does not follow what a raw call changes.
    """

    action: str
    payload: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class AcceptCharger(Command):
    """Register a charger that booted while unknown (policy ``pending``)."""


class Outcome(StrEnum):
    ACCEPTED = "Accepted"  # the charger (or the engine) accepted the request
    REJECTED = "Rejected"  # the charger answered with a refusal
    TIMEOUT = "Timeout"  # no answer within the response timeout
    OFFLINE = "Offline"  # the charger is not connected
    ERROR = "Error"  # CALLERROR, invalid request, or an internal failure


@dataclass(frozen=True)
class CommandResult:
    outcome: Outcome
    status: str  # the charger's own status word (e.g. "Scheduled", "RebootRequired")
    detail: str = ""
    payload: Any = None  # structured answer, e.g. the configuration for GetConfiguration

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.ACCEPTED


class CommandTarget(Protocol):
    """A driver able to execute commands for the chargers it owns."""

    def owns(self, charger_id: str) -> bool: ...

    async def execute(self, command: Command) -> CommandResult: ...


class CommandRouter:
    """Routes a command to the driver that owns its charger and returns the result."""

    def __init__(self) -> None:
        self._targets: list[CommandTarget] = []

    def add_target(self, target: CommandTarget) -> None:
        self._targets.append(target)

    async def execute(self, command: Command) -> CommandResult:
        target = next((t for t in self._targets if t.owns(command.charger_id)), None)
        if target is None:
            result = CommandResult(
                Outcome.ERROR, "UnknownCharger", f"no driver owns {command.charger_id}"
            )
        else:
            try:
                result = await target.execute(command)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the caller always gets an answer
                log.exception("command %r failed", command)
                result = CommandResult(Outcome.ERROR, "InternalError", str(exc))
        log.info(
            "command %s on %s by %s: %s %s",
            type(command).__name__,
            command.charger_id,
            command.issued_by,
            result.outcome,
            result.status,
        )
        return result
