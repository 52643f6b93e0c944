"""Domain types shared by the engine, the drivers, the archive and the HMI (no Qt here)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Flag, StrEnum, auto
from typing import Any, Protocol

from evsuper.core.timeutil import utcnow


class CommState(StrEnum):
    UNKNOWN = "unknown"  # never seen since the engine started
    ONLINE = "online"
    OFFLINE = "offline"


class RegistrationStatus(StrEnum):
    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


class ConnectorStatus(StrEnum):
    """OCPP 1.6 ChargePointStatus."""

    AVAILABLE = "Available"
    PREPARING = "Preparing"
    CHARGING = "Charging"
    SUSPENDED_EVSE = "SuspendedEVSE"
    SUSPENDED_EV = "SuspendedEV"
    FINISHING = "Finishing"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"


class ChargerCondition(Flag):
    """How a charger counts in the overview, the hypervision and the OPC UA server's site
    counts: each is a filter and a count, so one charger may be in several."""

    CHARGING = auto()  # a connector charges
    AVAILABLE = auto()  # a connector is free and the charger is usable
    UNAVAILABLE = auto()  # the charger or a connector is out of service
    FAULTED = auto()  # the charger or a connector is faulted
    OFFLINE = auto()  # its connection was lost
    NOT_SEEN = auto()  # not seen since the engine started


_UNUSABLE = (ConnectorStatus.FAULTED, ConnectorStatus.UNAVAILABLE)
_FAULTED = ChargerCondition.FAULTED.value
_UNAVAILABLE = ChargerCondition.UNAVAILABLE.value
_CHARGING = ChargerCondition.CHARGING.value
_AVAILABLE = ChargerCondition.AVAILABLE.value


def charger_condition(
    comm: Any, status: Any, connector_statuses: Iterable[Any]
) -> ChargerCondition:
    """The conditions of a charger from its comm state, its own (connector 0) status and
    its connectors' statuses (values as the tags hold them: None when unknown)."""
    if comm == CommState.OFFLINE:
        return ChargerCondition.OFFLINE
    if comm != CommState.ONLINE:
        return ChargerCondition.NOT_SEEN
    statuses = set(connector_statuses)
    bits = 0  # plain ints: combining Flag members is several times slower (overview batches)
    if status == ConnectorStatus.FAULTED or ConnectorStatus.FAULTED in statuses:
        bits |= _FAULTED
    if status == ConnectorStatus.UNAVAILABLE or ConnectorStatus.UNAVAILABLE in statuses:
        bits |= _UNAVAILABLE
    if ConnectorStatus.CHARGING in statuses:
        bits |= _CHARGING
    if ConnectorStatus.AVAILABLE in statuses and status not in _UNUSABLE:
        bits |= _AVAILABLE
    return ChargerCondition(bits)


class ReservationState(StrEnum):
    """Life of a reservation as the central system records it."""

    REQUESTED = "requested"  # durable, ReserveNow sent, no answer yet
    ACTIVE = "active"  # the charger accepted it
    REJECTED = "rejected"  # the charger refused it (Faulted, Occupied, Rejected, Unavailable)
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    USED = "used"  # a transaction started on it

    @property
    def open(self) -> bool:
        return self in (ReservationState.REQUESTED, ReservationState.ACTIVE)


class ArchiveState(StrEnum):
    OK = "ok"
    BACKLOG = "backlog"
    ERROR = "error"
    STOPPED = "stopped"


@dataclass(slots=True)
class Transaction:
    id: int
    charger_id: str
    connector_id: int
    id_tag: str
    start_ts: datetime
    meter_start_wh: int
    reservation_id: int | None = None
    stop_ts: datetime | None = None
    meter_stop_wh: int | None = None
    stop_reason: str | None = None
    stop_id_tag: str | None = None
    soc_start: float | None = None
    soc_stop: float | None = None

    @property
    def energy_wh(self) -> int | None:
        if self.meter_stop_wh is None:
            return None
        return self.meter_stop_wh - self.meter_start_wh


@dataclass(frozen=True, slots=True)
class Reservation:
    """A connector (0 = any) held for an idTag until ``expiry``; the id is the archive's."""

    id: int
    charger_id: str
    connector_id: int
    id_tag: str
    parent_id_tag: str | None
    expiry: datetime
    created: datetime
    state: ReservationState = ReservationState.REQUESTED
    transaction_id: int | None = None
    ended: datetime | None = None


@dataclass(frozen=True, slots=True)
class MeterReading:
    """One OCPP sampledValue, with the attributes the 1.6 spec defines."""

    ts: datetime
    measurand: str
    value: float
    unit: str
    phase: str | None = None
    context: str = "Sample.Periodic"
    location: str = "Outlet"


# ---- domain events (published on the TagBus event stream) ----


@dataclass(frozen=True, slots=True)
class ChargerConnected:
    charger_id: str
    remote: str
    protocol: str
    ts: datetime = field(default_factory=utcnow)


@dataclass(frozen=True, slots=True)
class ChargerDisconnected:
    charger_id: str
    reason: str
    ts: datetime = field(default_factory=utcnow)


@dataclass(frozen=True, slots=True)
class ChargerBooted:
    charger_id: str
    vendor: str
    model: str
    serial: str | None
    firmware: str | None
    registration: RegistrationStatus
    ts: datetime = field(default_factory=utcnow)


@dataclass(frozen=True, slots=True)
class ConnectorStatusChanged:
    charger_id: str
    connector_id: int  # 0 = the charger as a whole
    status: ConnectorStatus
    error_code: str
    info: str | None
    vendor_id: str | None
    vendor_error_code: str | None
    ts: datetime


@dataclass(frozen=True, slots=True)
class TransactionStarted:
    transaction: Transaction


@dataclass(frozen=True, slots=True)
class TransactionStopped:
    transaction: Transaction


@dataclass(frozen=True, slots=True)
class MeterValuesReceived:
    charger_id: str
    connector_id: int
    transaction_id: int | None
    readings: tuple[MeterReading, ...]


@dataclass(frozen=True, slots=True)
class Anomaly:
    """Something a charger did that the spec or the site does not expect; archived."""

    charger_id: str
    kind: str
    detail: str
    ts: datetime = field(default_factory=utcnow)


@dataclass(frozen=True, slots=True)
class MaintenanceStatus:
    """A firmware update's or a diagnostics upload's progress reported by a charger."""

    charger_id: str
    kind: str  # "firmware" | "diagnostics" | "log" (GetLog uploads of the security extension)
    status: str  # as the charger says, e.g. "Downloading", "Installed", "UploadFailed"
    ts: datetime = field(default_factory=utcnow)


@dataclass(frozen=True, slots=True)
class ChargerRestored:
    """The central system re-applied an operator setting a charger had lost; archived."""

    charger_id: str
    what: str  # e.g. "ChangeAvailability connector 1 Inoperative"
    answer: str  # the charger's status word, or why there is none
    ts: datetime = field(default_factory=utcnow)


class TransactionStore(Protocol):
    """Durable transaction bookkeeping: each call returns once the change is committed."""

    async def start_transaction(
        self,
        charger_id: str,
        connector_id: int,
        id_tag: str,
        start_ts: datetime,
        meter_start_wh: int,
        reservation_id: int | None,
    ) -> Transaction:
        """Open a transaction; the reservation it carries, if any, becomes ``used``."""
        ...

    async def stop_transaction(
        self,
        transaction_id: int,
        stop_ts: datetime,
        meter_stop_wh: int,
        reason: str | None,
        id_tag: str | None,
    ) -> Transaction | None:
        """Close the transaction; ``None`` if the id is unknown (already closed or never opened)."""
        ...

    async def open_transactions(self) -> list[Transaction]: ...

    async def create_reservation(
        self,
        charger_id: str,
        connector_id: int,
        id_tag: str,
        parent_id_tag: str | None,
        expiry: datetime,
    ) -> Reservation:
        """A new reservation in state ``requested``, with a unique id."""
        ...

    async def set_reservation_state(self, reservation_id: int, state: ReservationState) -> bool:
        """Move an open (requested or active) reservation to ``state``; False if not open."""
        ...

    async def open_reservations(self) -> list[Reservation]: ...

    def save_setting(self, charger_id: str, name: str, value: Any) -> None:
        """Keep what an operator set for a charger (JSON-able), queued like any archive row."""
        ...

    async def settings(self, name: str) -> dict[str, Any]:
        """Every charger's kept setting ``name``, by charger id."""
        ...
