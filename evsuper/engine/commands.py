"""Operator commands: typed requests, their results, and the router that executes them.

Every action from the HMI or the CLI is one of the command dataclasses below, handed to
``CommandRouter.execute``; the result always comes back to the caller (never an exception).
Each command class names the permission it needs (the roles are in
``evsuper.users.permissions``) and, for dangerous ones, the question its caller must have
asked the operator (``confirmed``). The router refuses what the actor may not do or did
not confirm, and writes every command, refused or not, to the audit trail.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from evsuper.charging.composite import CompositePeriod
from evsuper.charging.profiles import (
    ChargingProfile,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
)
from evsuper.charging.status import ChargingMode
from evsuper.core.timeutil import utcnow
from evsuper.project.layout import LAYOUT_FILE, Layout
from evsuper.project.profile_library import PROFILE_LIBRARY_FILE, ProfileLibrary
from evsuper.users.audit import AuditEntry, AuditKind
from evsuper.users.permissions import NOBODY, Actor, Permission

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
    """Who asks (``actor``), when, for which charger; subclasses add the parameters."""

    permission: ClassVar[Permission]
    charger_id: str
    actor: Actor = NOBODY
    issued_at: datetime = field(default_factory=utcnow)
    confirmed: bool = False  # the operator answered ``confirmation()`` with yes

    def confirmation(self) -> str | None:
        """The question to ask before sending, for commands that can hurt; else None."""
        return None

    @property
    def target(self) -> str:
        """What the audit trail names as the command's target."""
        return self.charger_id

    def parameters(self) -> dict[str, Any]:
        """The command's own fields, for the audit trail."""
        common = {"charger_id", "actor", "issued_at", "confirmed"}
        return {k: v for k, v in vars(self).items() if k not in common}


@dataclass(frozen=True, kw_only=True)
class RemoteStart(Command):
    permission = Permission.CONTROL_CHARGING
    connector_id: int | None
    id_tag: str


@dataclass(frozen=True, kw_only=True)
class RemoteStop(Command):
    permission = Permission.CONTROL_CHARGING
    transaction_id: int


@dataclass(frozen=True, kw_only=True)
class Reset(Command):
    permission = Permission.RESET
    kind: ResetKind = ResetKind.SOFT

    def confirmation(self) -> str | None:
        if self.kind is ResetKind.HARD:
            return (
                f"Hard reset {self.charger_id}? It reboots at once: "
                "a running charging session is cut without a clean stop."
            )
        return None


@dataclass(frozen=True, kw_only=True)
class UnlockConnector(Command):
    permission = Permission.UNLOCK
    connector_id: int

    def confirmation(self) -> str | None:
        return (
            f"Unlock connector {self.connector_id} of {self.charger_id}? "
            "A cable still in use is released and its session stops."
        )


@dataclass(frozen=True, kw_only=True)
class ChangeAvailability(Command):
    permission = Permission.SET_AVAILABILITY
    connector_id: int  # 0 = the whole charger
    kind: AvailabilityKind

    def confirmation(self) -> str | None:
        if self.connector_id == 0 and self.kind is AvailabilityKind.INOPERATIVE:
            return f"Take the whole of {self.charger_id} out of service?"
        return None


@dataclass(frozen=True, kw_only=True)
class GetConfiguration(Command):
    permission = Permission.VIEW
    keys: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ChangeConfiguration(Command):
    permission = Permission.CONFIGURE_CHARGERS
    key: str
    value: str


@dataclass(frozen=True, kw_only=True)
class ClearCache(Command):
    permission = Permission.CONFIGURE_CHARGERS


@dataclass(frozen=True, kw_only=True)
class TriggerMessage(Command):
    permission = Permission.CONFIGURE_CHARGERS
    message: TriggerableMessage
    connector_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class DataTransfer(Command):
    """Vendor-specific exchange; the charger's answer data is the result's payload."""

    permission = Permission.CONFIGURE_CHARGERS

    vendor_id: str
    message_id: str | None = None
    data: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReserveNow(Command):
    """Hold a connector (0 = any) for ``id_tag`` until ``expiry`` (aware UTC).

    The central system allocates the reservation id; it is the result's payload.
    """

    permission = Permission.RESERVE

    connector_id: int
    id_tag: str
    expiry: datetime
    parent_id_tag: str | None = None


@dataclass(frozen=True, kw_only=True)
class CancelReservation(Command):
    permission = Permission.RESERVE
    reservation_id: int


@dataclass(frozen=True, kw_only=True)
class SendLocalList(Command):
    """Send the project's badge table, with its ``local_list_version``, as the local list."""

    permission = Permission.CONFIGURE_CHARGERS

    update_type: LocalListUpdate = LocalListUpdate.FULL


@dataclass(frozen=True, kw_only=True)
class GetLocalListVersion(Command):
    """The charger's list version is the payload (0: no list, -1: lists not supported)."""

    permission = Permission.VIEW


@dataclass(frozen=True, kw_only=True)
class SetChargingProfile(Command):
    """Install ``profile`` on a connector (0: the charger); a TxProfile gets the running
    transaction's id. The central system keeps the profiles the charger accepts."""

    permission = Permission.SMART_CHARGING

    connector_id: int
    profile: ChargingProfile


@dataclass(frozen=True, kw_only=True)
class ClearChargingProfile(Command):
    """Remove the profile ``profile_id``, or those matching the other criteria (none: all)."""

    permission = Permission.SMART_CHARGING

    profile_id: int | None = None
    connector_id: int | None = None
    purpose: ChargingProfilePurpose | None = None
    stack_level: int | None = None


@dataclass(frozen=True, kw_only=True)
class GetCompositeSchedule(Command):
    """The charger's composite schedule beside evsuper's own (a ``CompositeSchedules``)."""

    permission = Permission.VIEW

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

    permission = Permission.FIRMWARE

    location: str
    retrieve_date: datetime
    retries: int | None = None
    retry_interval_s: int | None = None

    def confirmation(self) -> str | None:
        return (
            f"Install the firmware at {self.location} on {self.charger_id}? "
            "The charger reboots and is unavailable while it installs."
        )


@dataclass(frozen=True, kw_only=True)
class GetDiagnostics(Command):
    """Ask the charger to upload diagnostics to ``location``; the payload is the file name."""

    permission = Permission.DIAGNOSTICS

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

    permission = Permission.RAW_OCPP

    action: str
    payload: dict[str, Any]

    def confirmation(self) -> str | None:
        if self.action in DANGEROUS_ACTIONS:
            return f"Send {self.action} to {self.charger_id} as it is, unchecked?"
        return None


# Raw OCPP actions that can interrupt charging or take a charger out of service.
DANGEROUS_ACTIONS = frozenset(
    {"Reset", "UnlockConnector", "UpdateFirmware", "SignedUpdateFirmware", "ChangeAvailability"}
)


@dataclass(frozen=True, kw_only=True)
class AcceptCharger(Command):
    """Register a charger that booted while unknown (policy ``pending``)."""

    permission = Permission.EDIT_PROJECT


@dataclass(frozen=True, kw_only=True)
class RestoreProjectVersion(Command):
    """Bring back the project files of history version ``version`` (a new version); the
    running engine keeps its project: the restored one applies at the next start."""

    permission = Permission.EDIT_PROJECT
    charger_id: str = ""
    version: int

    @property
    def target(self) -> str:
        return "project"

    def confirmation(self) -> str | None:
        return (
            f"Restore the project files of version {self.version}? The current files stay "
            "in the history; the restored project applies at the next start of evsuper."
        )


@dataclass(frozen=True, kw_only=True)
class SaveLayout(Command):
    """Save the ground-plan layout (positions, labels, sizes, shown values) as
    ``layout.toml``, a new version of the project history."""

    permission = Permission.EDIT_PROJECT
    charger_id: str = ""
    layout: Layout
    summary: str = "ground plan layout"

    @property
    def target(self) -> str:
        return LAYOUT_FILE

    def parameters(self) -> dict[str, Any]:
        return {"objects": len(self.layout.objects), "summary": self.summary}


@dataclass(frozen=True, kw_only=True)
class SaveProfileLibrary(Command):
    """Save the charging profile library (named templates) as ``charging_profiles.toml``,
    a new version of the project history. SMART_CHARGING, the permission of sending a
    profile: a template does nothing until it is uploaded (docs/smart_charging.md)."""

    permission = Permission.SMART_CHARGING
    charger_id: str = ""
    library: ProfileLibrary
    summary: str = "charging profile library"

    @property
    def target(self) -> str:
        return PROFILE_LIBRARY_FILE

    def parameters(self) -> dict[str, Any]:
        return {"templates": len(self.library.templates), "summary": self.summary}


@dataclass(frozen=True, kw_only=True)
class SetChargingMode(Command):
    """Switch a site between automatic allocation and manual limits per connector."""

    permission = Permission.SMART_CHARGING
    charger_id: str = ""
    site_id: str
    mode: ChargingMode

    @property
    def target(self) -> str:
        return f"site {self.site_id}"

    def confirmation(self) -> str | None:
        if self.mode is ChargingMode.MANUAL:
            return (
                f"Switch site {self.site_id} to manual power limits? The allocator stops "
                "sharing power; the site limit still holds."
            )
        return None


@dataclass(frozen=True, kw_only=True)
class SetManualLimit(Command):
    """The operator's limit for one connector in manual mode (None: its maximum)."""

    permission = Permission.SMART_CHARGING
    connector_id: int
    limit_a: float | None


@dataclass(frozen=True, kw_only=True)
class SetSessionNeed(Command):
    """The operator's charging need for the session running on one connector: the energy
    still to deliver by ``departure`` (both None: back to its plan or usage profile). It
    ends with the session (evsuper/charging/needs.py)."""

    permission = Permission.SMART_CHARGING
    connector_id: int
    energy_kwh: float | None
    departure: datetime | None


@dataclass(frozen=True, kw_only=True)
class SetSiteLimit(Command):
    """Override a site's connection limit in kW until cleared (None: back to the project's
    static, scheduled or tag-driven limit)."""

    permission = Permission.SMART_CHARGING
    charger_id: str = ""
    site_id: str
    limit_kw: float | None

    @property
    def target(self) -> str:
        return f"site {self.site_id}"


@dataclass(frozen=True, kw_only=True)
class PlanSession(Command):
    """Plan a vehicle on a connector of ``charger_id`` (evsuper/charging/planning.py); the
    saved ``PlannedSession``, with its id, is the result's payload."""

    permission = Permission.SMART_CHARGING
    site_id: str
    connector_id: int
    badge: str
    arrival: datetime
    departure: datetime
    energy_kwh: float
    max_kw: float


@dataclass(frozen=True, kw_only=True)
class CancelPlannedSession(Command):
    permission = Permission.SMART_CHARGING
    charger_id: str = ""
    plan_id: int

    @property
    def target(self) -> str:
        return f"plan {self.plan_id}"


@dataclass(frozen=True, kw_only=True)
class WriteTag(Command):
    """Write a value to a driver tag (a Modbus register, an OPC UA node, ...)."""

    permission = Permission.CONTROL_CHARGING
    charger_id: str = ""
    tag: str
    value: Any

    @property
    def target(self) -> str:
        return self.tag


@dataclass(frozen=True, kw_only=True)
class SetDeviceEnabled(Command):
    """Stop or resume the communication with one driver device."""

    permission = Permission.EDIT_PROJECT
    charger_id: str = ""
    device: str
    enabled: bool

    @property
    def target(self) -> str:
        return f"device {self.device}"

    def confirmation(self) -> str | None:
        if not self.enabled:
            return f"Stop communicating with {self.device}? Its values go not-connected."
        return None


@dataclass(frozen=True, slots=True)
class PointBinding:
    """One OPC UA node to bind to a tag: a ``[[devices.points]]`` entry to be."""

    tag: str
    node: str  # "ns=2;s=Building.Load"
    sampling_ms: float = 1000.0
    deadband: float = 0.0  # absolute, in the node's units; 0: every change
    writable: bool = False
    unit: str = ""


@dataclass(frozen=True, kw_only=True)
class BindOpcUaPoints(Command):
    """Append ``points`` to the ``[[devices]]`` entry ``device`` (an OPC UA endpoint) of
    ``project.toml``, a new version of the project history; the running engine keeps its
    points: the new ones apply at the next start."""

    permission = Permission.EDIT_PROJECT
    charger_id: str = ""
    device: str
    points: tuple[PointBinding, ...]

    @property
    def target(self) -> str:
        return f"device {self.device}"

    def confirmation(self) -> str | None:
        count = len(self.points)
        nodes = "1 OPC UA node" if count == 1 else f"{count} OPC UA nodes"
        return (
            f"Bind {nodes} to tags of {self.device} in project.toml? The change is a new "
            "version of the project history; it applies at the next start of evsuper."
        )


@dataclass(frozen=True, kw_only=True)
class AlarmCommand(Command):
    """An operator's action on alarms (``evsuper.alarms``); ``charger_id`` is the charger
    of the alarms when they share one, else empty."""

    permission = Permission.ACKNOWLEDGE_ALARMS
    charger_id: str = ""
    alarm_keys: tuple[str, ...]
    comment: str = ""

    @property
    def target(self) -> str:
        if self.charger_id:
            return self.charger_id
        return self.alarm_keys[0][:64] if len(self.alarm_keys) == 1 else "alarms"


@dataclass(frozen=True, kw_only=True)
class AcknowledgeAlarms(AlarmCommand):
    """Acknowledge; durable in the journal before the result comes back."""

    permission = Permission.ACKNOWLEDGE_ALARMS


@dataclass(frozen=True, kw_only=True)
class ResetAlarms(AlarmCommand):
    """Reset latched alarms (acknowledging them too) once their condition is gone."""

    permission = Permission.ACKNOWLEDGE_ALARMS


@dataclass(frozen=True, kw_only=True)
class ShelveAlarms(AlarmCommand):
    """Hide alarms from the list for ``duration_s`` (None: until each one clears); the
    comment is the reason, required."""

    permission = Permission.SHELVE_ALARMS
    duration_s: float | None = None


@dataclass(frozen=True, kw_only=True)
class UnshelveAlarms(AlarmCommand):
    permission = Permission.SHELVE_ALARMS


@dataclass(frozen=True, kw_only=True)
class SetAlarmsInService(AlarmCommand):
    """Remove alarms from service (maintenance on their source) or return them."""

    permission = Permission.SHELVE_ALARMS
    in_service: bool


class Outcome(StrEnum):
    ACCEPTED = "Accepted"  # the charger (or the engine) accepted the request
    REJECTED = "Rejected"  # the charger answered with a refusal
    TIMEOUT = "Timeout"  # no answer within the response timeout
    OFFLINE = "Offline"  # the charger is not connected
    ERROR = "Error"  # CALLERROR, invalid request, or an internal failure
    DENIED = "Denied"  # refused by evsuper: no permission, or not confirmed


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
    """A part of the engine able to execute some commands (a driver for its chargers)."""

    def accepts(self, command: Command) -> bool: ...

    async def execute(self, command: Command) -> CommandResult: ...


AuditSink = Callable[[AuditEntry], None]


class CommandRouter:
    """Checks, routes and audits commands: the one door to the chargers.

    A command is refused (``Outcome.DENIED``) when its actor lacks its permission or when
    it needs a confirmation the caller did not get; otherwise the driver owning its
    charger executes it. Every command, refused or not, goes to ``audit``.
    """

    def __init__(self, audit: AuditSink | None = None) -> None:
        self._targets: list[CommandTarget] = []
        self._audit = audit

    def add_target(self, target: CommandTarget) -> None:
        self._targets.append(target)

    async def execute(self, command: Command) -> CommandResult:
        actor = command.actor
        if not actor.may(command.permission):
            result = CommandResult(
                Outcome.DENIED,
                "PermissionDenied",
                f"{actor.user} ({actor.role.value}) may not: {command.permission.value}",
            )
        elif command.confirmation() is not None and not command.confirmed:
            result = CommandResult(
                Outcome.DENIED, "ConfirmationRequired", "this command must be confirmed first"
            )
        else:
            result = await self._route(command)
        log.info(
            "command %s on %s by %s: %s %s",
            type(command).__name__,
            command.charger_id,
            actor.user,
            result.outcome,
            result.status,
        )
        if self._audit is not None:
            self._audit(audit_entry(command, result))
        return result

    async def _route(self, command: Command) -> CommandResult:
        target = next((t for t in self._targets if t.accepts(command)), None)
        if target is None:
            return CommandResult(
                Outcome.ERROR, "UnknownCharger", f"no driver owns {command.charger_id}"
            )
        try:
            return await target.execute(command)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the caller always gets an answer
            log.exception("command %r failed", command)
            return CommandResult(Outcome.ERROR, "InternalError", str(exc))


# Commands audited under a kind of their own, by the permission they need.
_AUDIT_KINDS = {
    Permission.EDIT_PROJECT: AuditKind.PROJECT_CHANGE,  # e.g. a charger added to project.toml
    Permission.ACKNOWLEDGE_ALARMS: AuditKind.ALARM_ACKNOWLEDGE,
    Permission.SHELVE_ALARMS: AuditKind.ALARM_SHELVE,
}


def audit_entry(command: Command, result: CommandResult) -> AuditEntry:
    if result.outcome is Outcome.DENIED and result.status == "PermissionDenied":
        kind = AuditKind.PERMISSION_DENIED
    else:
        kind = _AUDIT_KINDS.get(command.permission, AuditKind.COMMAND)
    detail = result.status if not result.detail else f"{result.status}: {result.detail}"
    return AuditEntry(
        ts=command.issued_at,
        actor=command.actor,
        kind=kind,
        action=type(command).__name__,
        target=command.target,
        parameters={**command.parameters(), "confirmed": command.confirmed},
        result=result.outcome.value,
        detail=detail,
    )
