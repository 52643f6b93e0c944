"""The address space evsuper's OPC UA server exposes, and how tag samples become values.

Pure description, no server: ``describe_project`` turns the project into a tree of
``ObjectSpec`` / ``VariableSpec`` (browse names, data types, engineering units, ranges,
which nodes are writable and what a write means); ``data_value`` turns a sample into an
OPC UA ``DataValue`` with its source timestamp and a status code from its quality;
``SiteTotals`` computes a site's power, charger counts and unacknowledged alarms from the
bus. The server (``opcua_server.py``) builds the nodes and keeps them up to date.

Node ids are strings in the project's namespace: a value that is a tag has the tag's path
as its id (``CP-001/C1/power_kw``), so a client that knows evsuper's tags knows the ids.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, cast

from asyncua import ua

from evsuper.alarms.model import ALARM_PREFIX, SUMMARY_TAG, AlarmRecord, AlarmSummary, Priority
from evsuper.core.domain import ChargerCondition, ConnectorStatus, charger_condition
from evsuper.core.tags import (
    ChargerTag,
    ConnectorTag,
    Quality,
    SiteChargingTag,
    TagPath,
    charger_tag,
    connector_tag,
    site_charging_tag,
)
from evsuper.core.timeutil import utcnow
from evsuper.engine.commands import AvailabilityKind
from evsuper.project.model import ChargerConfig, Project, SiteConfig

ROOT = "evsuper"
# UNECE Recommendation 20 codes, the units OPC UA's EUInformation names (Part 8, 5.6.3)
UNECE_NAMESPACE = "http://www.opcfoundation.org/UA/units/un/cefact"


class Unit(Enum):
    """Engineering units of the exposed values: (UNECE common code, symbol, description)."""

    KILOWATT = ("KWT", "kW", "kilowatt")
    KILOWATT_HOUR = ("KWH", "kWh", "kilowatt hour")
    PERCENT = ("P1", "%", "percent")
    AMPERE = ("AMP", "A", "ampere")

    @property
    def symbol(self) -> str:
        return self.value[1]

    def eu_information(self) -> ua.EUInformation:
        code, symbol, description = self.value
        unit_id = 0
        for char in code:  # OPC UA Part 8: the code's characters, one byte each
            unit_id = (unit_id << 8) | ord(char)
        return ua.EUInformation(
            NamespaceUri=UNECE_NAMESPACE,
            UnitId=unit_id,
            DisplayName=ua.LocalizedText(symbol),
            Description=ua.LocalizedText(description),
        )


class ValueType(Enum):
    DOUBLE = ua.VariantType.Double
    INT32 = ua.VariantType.Int32
    STRING = ua.VariantType.String
    BOOLEAN = ua.VariantType.Boolean


@dataclass(frozen=True, slots=True)
class SiteLimitWrite:
    """A write to a site's limit_kw: ``SetSiteLimit``."""

    site_id: str


@dataclass(frozen=True, slots=True)
class AvailabilityWrite:
    """A write to a connector's availability: ``ChangeAvailability``."""

    charger_id: str
    connector_id: int


WriteTarget = SiteLimitWrite | AvailabilityWrite


@dataclass(frozen=True, slots=True)
class VariableSpec:
    node_id: str
    name: str  # browse name
    value_type: ValueType
    description: str
    unit: Unit | None = None
    eu_range: tuple[float, float] | None = None
    write: WriteTarget | None = None  # None: read-only
    initial: Any = None  # a constant (names); None: waits for its first value
    tag: bool = False  # the node id is a bus tag whose samples are its values


@dataclass(frozen=True, slots=True)
class ObjectSpec:
    node_id: str
    name: str  # browse name
    display_name: str
    description: str = ""
    folder: bool = False
    children: tuple[ObjectSpec | VariableSpec, ...] = ()

    def variables(self) -> Iterable[VariableSpec]:
        for child in self.children:
            if isinstance(child, VariableSpec):
                yield child
            else:
                yield from child.variables()


# ---- the tree ----


def site_node(site_id: str, name: str = "") -> str:
    return f"Sites/{site_id}" + (f"/{name}" if name else "")


def charger_node(charger_id: str) -> str:
    return f"Chargers/{charger_id}"


class SiteValue(Enum):
    """A site's values computed by ``SiteTotals`` (node ``Sites/<site>/<name>``)."""

    POWER_KW = "power_kw"
    CHARGERS = "chargers"
    CHARGING = "charging"
    AVAILABLE = "available"
    FAULTED = "faulted"
    OFFLINE = "offline"


AVAILABILITY = "availability"
ONLINE = "online"
LIMIT_KW = "limit_kw"


def unacknowledged_node(priority: Priority, site_id: str | None = None) -> str:
    name = f"Alarms/unacknowledged_{priority.name.lower()}"
    return site_node(site_id, name) if site_id is not None else f"{ROOT}/{name}"


def active_node(priority: Priority) -> str:
    return f"{ROOT}/Alarms/active_{priority.name.lower()}"


def alarms_node(site_id: str | None = None) -> str:
    return site_node(site_id, "Alarms") if site_id is not None else f"{ROOT}/Alarms"


def describe_project(project: Project) -> ObjectSpec:
    """The tree under Objects: evsuper / Sites / <site> / Chargers / <charger> / Connectors."""
    sites = tuple(_site(project, site) for site in project.sites)
    return ObjectSpec(
        ROOT,
        ROOT,
        "evsuper",
        f"evsuper supervision of {project.name}",
        children=(
            ObjectSpec("Sites", "Sites", "Sites", folder=True, children=sites),
            _alarms(None),
        ),
    )


def _site(project: Project, site: SiteConfig) -> ObjectSpec:
    chargers = [c for c in project.chargers if (s := project.site_of(c)) and s.id == site.id]
    max_kw = sum(c.max_power_kw * c.connectors for c in chargers)

    def count(value: SiteValue, what: str) -> VariableSpec:
        return VariableSpec(site_node(site.id, value.value), value.value, ValueType.INT32, what)

    return ObjectSpec(
        site_node(site.id),
        site.id,
        site.name or site.id,
        children=(
            VariableSpec(
                site_node(site.id, "name"),
                "name",
                ValueType.STRING,
                "Site name",
                initial=site.name or site.id,
            ),
            VariableSpec(
                site_node(site.id, LIMIT_KW),
                LIMIT_KW,
                ValueType.DOUBLE,
                "Connection limit in force; write to override it (null: back to the project's)",
                Unit.KILOWATT,
                write=SiteLimitWrite(site.id),
            ),
            VariableSpec(
                site_node(site.id, SiteValue.POWER_KW.value),
                SiteValue.POWER_KW.value,
                ValueType.DOUBLE,
                "Charging power of the site's connectors",
                Unit.KILOWATT,
                (0.0, max_kw),
            ),
            count(SiteValue.CHARGERS, "Chargers of the site"),
            count(SiteValue.CHARGING, "Chargers with a connector charging"),
            count(SiteValue.AVAILABLE, "Chargers with a connector available"),
            count(SiteValue.FAULTED, "Chargers with a fault"),
            count(SiteValue.OFFLINE, "Chargers not connected"),
            _alarms(site.id),
            ObjectSpec(
                f"{site_node(site.id)}/Chargers",
                "Chargers",
                "Chargers",
                folder=True,
                children=tuple(_charger(c) for c in chargers),
            ),
        ),
    )


def _alarms(site_id: str | None) -> ObjectSpec:
    where = "the site's chargers" if site_id is not None else "the whole project"
    unacknowledged = tuple(
        VariableSpec(
            unacknowledged_node(p, site_id),
            f"unacknowledged_{p.name.lower()}",
            ValueType.INT32,
            f"Unacknowledged {p.label.lower()} alarms of {where}",
        )
        for p in Priority
    )
    active: tuple[VariableSpec, ...] = ()
    if site_id is None:
        active = tuple(
            VariableSpec(
                active_node(p),
                f"active_{p.name.lower()}",
                ValueType.INT32,
                f"{p.label} alarms in the list (active or unacknowledged)",
            )
            for p in Priority
        )
    return ObjectSpec(alarms_node(site_id), "Alarms", "Alarms", children=unacknowledged + active)


def _charger(charger: ChargerConfig) -> ObjectSpec:
    cid = charger.id
    connectors = tuple(_connector(charger, n) for n in range(1, charger.connectors + 1))
    return ObjectSpec(
        charger_node(cid),
        cid,
        charger.label or cid,
        f"{charger.kind.value.upper()} charger {charger.vendor} {charger.model}",
        children=(
            VariableSpec(
                charger_tag(cid, ChargerTag.COMM),
                ChargerTag.COMM.value,
                ValueType.STRING,
                "Communication: online, offline or unknown (never seen)",
                tag=True,
            ),
            VariableSpec(
                charger_tag(cid, ONLINE), ONLINE, ValueType.BOOLEAN, "Connected to evsuper now"
            ),
            VariableSpec(
                charger_tag(cid, ChargerTag.STATUS),
                ChargerTag.STATUS.value,
                ValueType.STRING,
                "Status of the whole charger (OCPP ChargePointStatus of connector 0)",
                tag=True,
            ),
            ObjectSpec(
                f"{charger_node(cid)}/Connectors",
                "Connectors",
                "Connectors",
                folder=True,
                children=connectors,
            ),
        ),
    )


def _connector(charger: ChargerConfig, n: int) -> ObjectSpec:
    cid = charger.id

    def tag(name: ConnectorTag | str) -> str:
        return connector_tag(cid, n, name)

    return ObjectSpec(
        f"{charger_node(cid)}/C{n}",
        f"C{n}",
        f"Connector {n}",
        children=(
            VariableSpec(
                tag(ConnectorTag.STATUS),
                ConnectorTag.STATUS.value,
                ValueType.STRING,
                "OCPP ChargePointStatus: Available, Charging, Faulted, ...",
                tag=True,
            ),
            VariableSpec(
                tag(ConnectorTag.POWER_KW),
                ConnectorTag.POWER_KW.value,
                ValueType.DOUBLE,
                "Charging power",
                Unit.KILOWATT,
                (0.0, charger.max_power_kw),
                tag=True,
            ),
            VariableSpec(
                tag(ConnectorTag.ENERGY_KWH),
                ConnectorTag.ENERGY_KWH.value,
                ValueType.DOUBLE,
                "Energy of the running (or last) session",
                Unit.KILOWATT_HOUR,
                tag=True,
            ),
            VariableSpec(
                tag(ConnectorTag.SOC),
                ConnectorTag.SOC.value,
                ValueType.DOUBLE,
                "Vehicle state of charge (no value when the vehicle does not report it)",
                Unit.PERCENT,
                (0.0, 100.0),
                tag=True,
            ),
            VariableSpec(
                tag(ConnectorTag.TRANSACTION_ID),
                ConnectorTag.TRANSACTION_ID.value,
                ValueType.INT32,
                "Running transaction (no value when idle)",
                tag=True,
            ),
            VariableSpec(
                tag(AVAILABILITY),
                AVAILABILITY,
                ValueType.STRING,
                "Operative or Inoperative as the charger reports it; write to change it",
                write=AvailabilityWrite(cid, n),
            ),
        ),
    )


# ---- asyncua's typed scalars ----


def status_code(code: int) -> ua.StatusCode:
    return ua.StatusCode(ua.UInt32(code))


def standard_node(identifier: int) -> ua.NodeId:
    """A node of namespace 0 (``ua.ObjectIds``)."""
    return ua.NodeId(ua.Int32(identifier))


def string_node(name: str, namespace: int) -> ua.NodeId:
    return ua.NodeId(ua.String(name), ua.Int16(namespace))


def timestamp(ts: datetime) -> ua.DateTime:
    return cast(ua.DateTime, ts)


# ---- values ----

# A value that is not there (SoC not reported, no transaction): a null with this status.
NO_VALUE = ua.StatusCodes.BadNoValue
# Values of a charger that is not connected: the last one received, marked as such.
STALE = ua.StatusCodes.UncertainNoCommunicationLastUsableValue

_QUALITY_STATUS = {
    Quality.GOOD: ua.StatusCodes.Good,
    Quality.UNCERTAIN: ua.StatusCodes.Uncertain,
    Quality.BAD: ua.StatusCodes.Bad,
    Quality.COMM_FAILURE: ua.StatusCodes.BadCommunicationError,
    Quality.NOT_CONNECTED: ua.StatusCodes.BadNotConnected,
}


def status_of(quality: Quality) -> int:
    return _QUALITY_STATUS[quality]


def data_value(
    value: Any, value_type: ValueType, ts: datetime, quality: Quality, *, stale: bool = False
) -> ua.DataValue:
    """A DataValue for ``value`` (a tag value or a computed one) of ``value_type``.

    Bad qualities carry no value (OPC UA Part 4, 7.7.1); a good value of a charger that is
    not connected (``stale``) is UncertainNoCommunicationLastUsableValue.
    """
    code = status_of(quality)
    if code == ua.StatusCodes.Good and stale:
        code = STALE
    bad = status_code(code).is_bad()
    converted = None if bad else _convert(value, value_type)
    if converted is None:
        code = code if bad else NO_VALUE
        variant = ua.Variant()
    else:
        variant = ua.Variant(converted, value_type.value)
    return ua.DataValue(
        variant,
        status_code(code),
        SourceTimestamp=timestamp(ts),
        ServerTimestamp=timestamp(utcnow()),
    )


def _convert(value: Any, value_type: ValueType) -> Any:
    if value is None:
        return None
    match value_type:
        case ValueType.DOUBLE:
            number = float(value)
            return None if math.isnan(number) else number
        case ValueType.INT32:
            return int(value)
        case ValueType.BOOLEAN:
            return bool(value)
        case ValueType.STRING:
            return value.value if isinstance(value, Enum) else str(value)


def availability_of(status: Any) -> AvailabilityKind | None:
    """What a connector's status says of its availability (None: no status yet)."""
    if status is None:
        return None
    return (
        AvailabilityKind.INOPERATIVE
        if status == ConnectorStatus.UNAVAILABLE
        else AvailabilityKind.OPERATIVE
    )


def limit_tag(site_id: str) -> TagPath:
    """The charging service's limit in force for a site (absent without the service)."""
    return site_charging_tag(site_id, SiteChargingTag.LIMIT_KW)


def is_alarm_tag(path: TagPath) -> bool:
    return path.startswith(ALARM_PREFIX) or path == SUMMARY_TAG


_COUNTED = {
    SiteValue.CHARGING: ChargerCondition.CHARGING,
    SiteValue.AVAILABLE: ChargerCondition.AVAILABLE,
    SiteValue.FAULTED: ChargerCondition.FAULTED,
    SiteValue.OFFLINE: ChargerCondition.OFFLINE,
}


@dataclass(slots=True)
class SiteTotals:
    """A site's computed values from the tags of its chargers and the alarm records.

    The counts are the HMI overview's (``core.domain.charger_condition``): a charger counts
    as charging when a connector charges, available when a connector is available and the
    charger is usable, faulted when it or a connector is faulted, offline when its
    connection was lost (a charger never seen since the start is in none of these).
    """

    site_id: str
    chargers: tuple[ChargerConfig, ...]
    unacknowledged: dict[Priority, int] = field(default_factory=dict)

    def values(self, value: Callable[[TagPath], Any]) -> dict[SiteValue, float | int]:
        """The totals from ``value(tag path)``, the tags' current values."""
        counts = dict.fromkeys(_COUNTED, 0)
        power = 0.0
        for charger in self.chargers:
            connectors = range(1, charger.connectors + 1)
            condition = charger_condition(
                value(charger_tag(charger.id, ChargerTag.COMM)),
                value(charger_tag(charger.id, ChargerTag.STATUS)),
                (value(connector_tag(charger.id, n, ConnectorTag.STATUS)) for n in connectors),
            )
            for count, member in _COUNTED.items():
                counts[count] += member in condition
            if ChargerCondition.OFFLINE in condition or ChargerCondition.NOT_SEEN in condition:
                continue
            for n in connectors:
                power += value(connector_tag(charger.id, n, ConnectorTag.POWER_KW)) or 0.0
        return {
            SiteValue.POWER_KW: round(power, 3),
            SiteValue.CHARGERS: len(self.chargers),
            **counts,
        }


def unacknowledged_by_site(
    records: Iterable[AlarmRecord], site_of_charger: Mapping[str, str]
) -> dict[str, dict[Priority, int]]:
    """Unacknowledged alarms per site and priority (system alarms belong to no site)."""
    counts: dict[str, dict[Priority, int]] = {}
    for record in records:
        site = site_of_charger.get(record.charger_id or "")
        if site is not None and record.state.unacknowledged:
            by_priority = counts.setdefault(site, dict.fromkeys(Priority, 0))
            by_priority[record.priority] += 1
    return counts


def summary_values(summary: AlarmSummary | None) -> dict[str, int]:
    """The project's alarm summary as node id → value."""
    if summary is None:
        summary = AlarmSummary()
    values = {unacknowledged_node(p): summary.unacknowledged.get(p, 0) for p in Priority}
    values.update({active_node(p): summary.active.get(p, 0) for p in Priority})
    return values
