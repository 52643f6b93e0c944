"""Tag paths, samples and quality codes: the vocabulary shared by drivers, engine and HMI.

A tag path names one live value, e.g. ``CP-001/comm`` or ``CP-001/C1/power_kw``.
Charger-level tags are ``<charger>/<name>``; connector-level tags are
``<charger>/C<n>/<name>``; engine tags live under ``_system/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from evsuper.core.timeutil import utcnow

TagPath = str


class Quality(StrEnum):
    GOOD = "good"
    UNCERTAIN = "uncertain"
    BAD = "bad"
    COMM_FAILURE = "comm-failure"
    NOT_CONNECTED = "not-connected"


@dataclass(frozen=True, slots=True)
class Sample:
    value: Any
    ts: datetime = field(default_factory=utcnow)
    quality: Quality = Quality.GOOD


def charger_tag(charger_id: str, name: str) -> TagPath:
    return f"{charger_id}/{name}"


def connector_tag(charger_id: str, connector_id: int, name: str) -> TagPath:
    return f"{charger_id}/C{connector_id}/{name}"


def system_tag(name: str) -> TagPath:
    return f"_system/{name}"


def split_tag(path: TagPath) -> tuple[str, int | None, str]:
    """``CP-001/C2/power_kw`` → ``("CP-001", 2, "power_kw")``; charger tags give ``None``."""
    parts = path.split("/")
    if len(parts) == 3 and parts[1].startswith("C") and parts[1][1:].isdigit():
        return parts[0], int(parts[1][1:]), parts[2]
    head, _, name = path.rpartition("/")
    return head, None, name


class ChargerTag(StrEnum):
    """Names of charger-level tags published by every charger driver."""

    COMM = "comm"  # CommState
    REGISTRATION = "registration"  # RegistrationStatus
    VENDOR = "vendor"
    MODEL = "model"
    SERIAL = "serial"
    FIRMWARE = "firmware"
    LAST_SEEN = "last_seen"  # datetime
    STATUS = "status"  # connector 0 status (ConnectorStatus)
    ERROR_CODE = "error_code"
    LOCAL_LIST_VERSION = "local_list_version"  # as the charger last reported or accepted it
    FIRMWARE_STATUS = "firmware_status"  # last FirmwareStatusNotification status
    DIAGNOSTICS_STATUS = "diagnostics_status"  # last DiagnosticsStatusNotification status
    # session counters since the engine started, published at most once per second
    FRAMES_RECEIVED = "frames_received"
    FRAMES_SENT = "frames_sent"
    CALLERRORS_SENT = "callerrors_sent"  # answers to malformed or invalid requests
    CALLERRORS_RECEIVED = "callerrors_received"
    CONNECTS = "connects"  # WebSocket connections accepted
    LAST_CONNECT = "last_connect"  # datetime
    REMOTE = "remote"  # address:port of the last connection
    ALARM = "alarm"  # ChargerAlarm | None: its most urgent standing alarm (evsuper.alarms)


class ConnectorTag(StrEnum):
    """Names of connector-level tags published by every charger driver."""

    STATUS = "status"  # ConnectorStatus
    ERROR_CODE = "error_code"
    ERROR_INFO = "error_info"  # info / vendor code, free text
    POWER_KW = "power_kw"
    ENERGY_KWH = "energy_kwh"  # energy of the running (or last) session
    SOC = "soc"  # percent, None when not reported
    TRANSACTION_ID = "transaction_id"  # None when idle
    ID_TAG = "id_tag"
    RESERVATION_ID = "reservation_id"  # the active reservation, None when none
    SETPOINT_A = "setpoint_a"  # the charging service's limit per phase (None: no session)


class SystemTag(StrEnum):
    ARCHIVE_STATE = "archive/state"  # ArchiveState
    ARCHIVE_BACKLOG = "archive/backlog"  # rows waiting in the writer queue and the spool
    FILES_URL = "files/url"  # base URL of the engine's HTTP file endpoint
    REPORTS_FAILING = "reports/failing"  # bool: the scheduled report cannot be written or mailed
    REPORTS_LAST_ERROR = "reports/last_error"  # str: its last failure


class SiteChargingTag(StrEnum):
    """Per-site tags of the charging service: ``_system/charging/<site>/<name>``."""

    LIMIT_KW = "limit_kw"  # the limit in force (override, tag, schedule or static)
    AVAILABLE_KW = "available_kw"  # the limit less the building load and offline chargers
    ALLOCATED_KW = "allocated_kw"  # what the setpoints allow
    MEASURED_KW = "measured_kw"  # the connectors' power
    MODE = "mode"  # ChargingMode
    HEALTHY = "healthy"  # bool: the allocation loop runs within its period


def site_charging_tag(site_id: str, name: str) -> TagPath:
    return system_tag(f"charging/{site_id}/{name}")


def driver_state_tag(device: str) -> TagPath:
    """``_system/drivers/<device>/state``: the LinkState of a driver device."""
    return system_tag(f"drivers/{device}/state")
