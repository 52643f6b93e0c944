"""The alarm vocabulary shared by the alarm engine, the archive journal, notifications and
the HMI: definitions, ISA-18.2 states, the record of one alarm and the site summary.

How alarms reach the HMI: the alarm engine publishes, on the tag bus,
- ``_alarms/<key>``: the ``AlarmRecord`` of every alarm that is in the list (not normal,
  or normal but unacknowledged), and ``None`` once it left the list;
- ``<charger>/alarm``: a ``ChargerAlarm`` (the highest priority standing on that charger,
  and whether any is unacknowledged), ``None`` when it has none;
- ``_system/alarms/summary``: an ``AlarmSummary``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum

from evsuper.core.tags import TagPath

ALARM_PREFIX = "_alarms/"
SUMMARY_TAG: TagPath = "_system/alarms/summary"


class Priority(IntEnum):
    """1 is the most urgent. ISA-18.2 asks for few priorities, used in a known ratio."""

    CRITICAL = 1
    HIGH = 2
    MEDIUM = 3
    LOW = 4

    @property
    def label(self) -> str:
        return self.name.capitalize()


class Category(StrEnum):
    COMMUNICATION = "communication"
    CHARGER_FAULT = "charger-fault"
    SAFETY = "safety"
    ENERGY = "energy"  # energy / grid: power limits
    FIRMWARE = "firmware"
    SECURITY = "security"
    SYSTEM = "system"
    PROCESS = "process"  # limit alarms on any tag


class AlarmState(StrEnum):
    """ISA-18.2 alarm states (the standard's letters in comments)."""

    NORMAL = "normal"  # A
    UNACKNOWLEDGED = "unacknowledged"  # B: active, not acknowledged
    ACKNOWLEDGED = "acknowledged"  # C: active, acknowledged
    RTN_UNACKNOWLEDGED = "rtn-unacknowledged"  # D: returned to normal, not acknowledged
    LATCHED = "latched"  # E: returned to normal, stays until acknowledged and reset
    SHELVED = "shelved"  # F: hidden by an operator for a while or once
    SUPPRESSED = "suppressed"  # G: suppressed by design (a condition makes it meaningless)
    OUT_OF_SERVICE = "out-of-service"  # H: removed from service (maintenance)

    @property
    def in_list(self) -> bool:
        """Shown in the alarm list (shelved, suppressed and out-of-service alarms are
        listed separately, never among the alarms that need the operator)."""
        return self in _NEEDS_OPERATOR

    @property
    def unacknowledged(self) -> bool:
        return self in (
            AlarmState.UNACKNOWLEDGED,
            AlarmState.RTN_UNACKNOWLEDGED,
            AlarmState.LATCHED,
        )


_NEEDS_OPERATOR = frozenset(
    {
        AlarmState.UNACKNOWLEDGED,
        AlarmState.ACKNOWLEDGED,
        AlarmState.RTN_UNACKNOWLEDGED,
        AlarmState.LATCHED,
    }
)


class ConditionKind(StrEnum):
    """What makes an alarm active; each kind is evaluated by ``evsuper.alarms.conditions``."""

    COMM_LOST = "comm-lost"  # charger offline
    CONNECTOR_FAULTED = "connector-faulted"  # one alarm per connector and errorCode
    REGISTRATION_REFUSED = "registration-refused"  # boot answered Rejected or Pending
    FIRMWARE_FAILED = "firmware-failed"  # DownloadFailed / InstallationFailed
    DIAGNOSTICS_FAILED = "diagnostics-failed"  # UploadFailed
    SECURITY_EVENT = "security-event"  # a security anomaly (momentary)
    TRANSACTION_ANOMALY = "transaction-anomaly"  # stop for unknown transaction, ... (momentary)
    METER_STALE = "meter-stale"  # charging, but no meter value for a while
    CONNECTOR_POWER_HIGH = "connector-power-high"  # above the connector's max power
    ARCHIVE_BACKLOG = "archive-backlog"
    ARCHIVE_UNREACHABLE = "archive-unreachable"
    DISK_NEARLY_FULL = "disk-nearly-full"
    NOTIFICATION_FAILED = "notification-failed"
    REPORT_FAILED = "report-failed"  # the scheduled daily report cannot be written or mailed
    LIMIT_HIGH = "limit-high"  # any numeric tag above ``limit``
    LIMIT_LOW = "limit-low"  # any numeric tag below ``limit``


@dataclass(frozen=True, slots=True)
class AlarmDefinition:
    """One alarm of a template; ``message`` may use ``{source}``, ``{charger}``,
    ``{connector}``, ``{value}``, ``{limit}``, ``{detail}`` placeholders."""

    id: str
    condition: ConditionKind
    priority: Priority
    category: Category
    message: str
    on_delay_s: float = 0.0  # active only once the condition held this long
    off_delay_s: float = 0.0  # normal only once the condition was gone this long
    deadband: float = 0.0  # limit alarms: return to normal only this far inside the limit
    ack_required: bool = True
    latching: bool = False  # stays latched after return to normal until reset
    tag: str = ""  # limit alarms: the tag name ("power_kw") or full path ("_system/x")
    limit: float | None = None  # limit alarms, power-high (None: the configured maximum)
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class AlarmRecord:
    """Everything the viewer shows of one alarm (an alarm = a definition at a source)."""

    key: str  # "<definition id>:<source>", unique
    definition_id: str
    source: str  # "CP-001", "CP-001/C1", "CP-001/C1/GroundFailure", "_system"
    charger_id: str | None  # for go-to-bollard; None for system alarms
    priority: Priority
    category: Category
    message: str
    state: AlarmState
    active: bool  # the (debounced) condition holds now
    value: str = ""  # the value that raised it, as text
    activated: datetime | None = None  # last activation
    changed: datetime | None = None  # last state change
    acknowledged_by: str = ""
    comment: str = ""  # of the acknowledgement or the shelving
    shelved_until: datetime | None = None  # None while shelved: one-shot (until it clears)
    shelved_by: str = ""
    suppressed_by: str = ""  # why suppressed by design, e.g. "comm-lost:CP-001"
    chattering: bool = False  # activated CHATTER_ACTIVATIONS times within CHATTER_WINDOW_S
    activations: int = 0  # since the engine started
    # The alarm's own state under shelving, suppression and removal from service, from
    # which ``state`` is derived (evsuper.alarms.state):
    acknowledged: bool = True  # nothing left to acknowledge
    latched: bool = False  # a latching alarm that was active and is not reset yet
    shelved: bool = False
    out_of_service: bool = False
    ack_required: bool = True
    latching: bool = False
    recent_activations: tuple[datetime, ...] = ()  # within the chattering window


@dataclass(frozen=True, slots=True)
class ChargerAlarm:
    """What a bollard widget shows: its most urgent standing alarm."""

    priority: Priority
    unacknowledged: bool
    count: int


@dataclass(frozen=True, slots=True)
class AlarmSummary:
    """Counts for the banner: alarms in the list per priority, and the unacknowledged ones."""

    active: dict[Priority, int] = field(default_factory=dict)
    unacknowledged: dict[Priority, int] = field(default_factory=dict)
    shelved: int = 0
    suppressed: int = 0
    out_of_service: int = 0

    @property
    def total_unacknowledged(self) -> int:
        return sum(self.unacknowledged.values())


class Transition(StrEnum):
    """What the journal records (``alarm_journal.transition``)."""

    ACTIVATED = "activated"
    RETURNED = "returned"  # the condition cleared
    ACKNOWLEDGED = "acknowledged"
    RESET = "reset"  # a latched alarm reset by an operator
    SHELVED = "shelved"
    UNSHELVED = "unshelved"  # by an operator, or when a timed shelve expires
    SUPPRESSED = "suppressed"
    UNSUPPRESSED = "unsuppressed"
    REMOVED_FROM_SERVICE = "removed-from-service"
    RETURNED_TO_SERVICE = "returned-to-service"
    CLEARED = "cleared"  # left the list (normal and acknowledged)


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One row of ``alarm_journal``."""

    ts: datetime
    key: str
    definition_id: str
    source: str
    charger_id: str | None
    priority: Priority
    category: Category
    transition: Transition
    state: AlarmState  # after the transition
    value: str = ""
    user: str = ""  # who acknowledged, shelved, ...; empty for the process
    comment: str = ""
    message: str = ""
