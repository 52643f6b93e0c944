"""The site overview model: one row per charger, fed by tag batches.

Rows start with the project's chargers. A charger outside the project is tracked
"unlisted" from its first tag on; it becomes a row (appended) once its registration
is Accepted, i.e. when an operator accepted it or the policy registered it. Pending
and rejected chargers stay unlisted: ``PendingChargersModel`` lists the pending ones.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    Qt,
    Signal,
)

from evsuper.alarms.model import ChargerAlarm
from evsuper.core.domain import CommState, ConnectorStatus, RegistrationStatus
from evsuper.core.tags import ChargerTag, ConnectorTag, Quality, Sample, TagPath, split_tag
from evsuper.hmi.models.rows import row_runs
from evsuper.hmi.models.table import Index
from evsuper.project.model import ChargerConfig, ChargerKind, Project

log = logging.getLogger(__name__)

STATE_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's ChargerState
# Connectors a charger outside the project may grow to (the project loader's limit).
MAX_CONNECTORS = 16


@dataclass(frozen=True, slots=True)
class ValueQuality:
    """Why a shown value is not fresh: its quality, since when, and what caused it."""

    quality: Quality
    since: datetime | None  # the sample's time, or when the charger was last seen
    reason: str = ""  # "charger offline", ...


@dataclass(slots=True)
class ConnectorState:
    connector_id: int
    status: ConnectorStatus | None = None
    error_code: str | None = None
    error_info: str | None = None
    power_kw: float | None = None
    energy_kwh: float | None = None
    soc: float | None = None
    transaction_id: int | None = None
    id_tag: str | None = None
    reservation_id: int | None = None  # the connector's active reservation
    # the fields whose last sample was not good (a driver's bad, uncertain, ... value)
    qualities: dict[str, ValueQuality] = field(default_factory=dict)

    @property
    def faulted(self) -> bool:
        return self.status is ConnectorStatus.FAULTED


@dataclass(slots=True)
class ChargerState:
    """Last known state of one charger, as the tags describe it."""

    charger_id: str
    max_power_kw: float  # per connector, from the project
    connectors: list[ConnectorState]
    label: str = ""  # from the project: shown instead of the id when set
    kind: ChargerKind = ChargerKind.AC
    area: str = ""  # the project's area id ("" when the project has none)
    site: str = ""  # the project's site id of that area
    comm: CommState = CommState.UNKNOWN
    registration: RegistrationStatus | None = None
    vendor: str | None = None
    model: str | None = None
    serial: str | None = None
    firmware: str | None = None
    last_seen: datetime | None = None
    status: ConnectorStatus | None = None  # connector 0: the charger as a whole
    error_code: str | None = None
    local_list_version: int | None = None  # as last reported or accepted; None: not known
    firmware_status: str | None = None  # last FirmwareStatusNotification, e.g. "Installing"
    diagnostics_status: str | None = None  # last DiagnosticsStatusNotification, e.g. "Uploaded"
    # the session log's counters (published at most once a second) and last connection
    frames_received: int | None = None
    frames_sent: int | None = None
    callerrors_sent: int | None = None  # answers to malformed or invalid requests
    callerrors_received: int | None = None
    connects: int | None = None
    last_connect: datetime | None = None
    remote: str | None = None  # address:port of the last connection
    alarm: ChargerAlarm | None = None  # its most urgent standing alarm (evsuper.alarms)
    qualities: dict[str, ValueQuality] = field(default_factory=dict)  # as ConnectorState's

    @property
    def name(self) -> str:
        return self.label or self.charger_id

    @property
    def online(self) -> bool:
        return self.comm is CommState.ONLINE

    @property
    def faulted(self) -> bool:
        return self.status is ConnectorStatus.FAULTED or any(c.faulted for c in self.connectors)

    @property
    def power_kw(self) -> float:
        return sum(c.power_kw or 0.0 for c in self.connectors)

    def value_quality(self, name: str, connector_id: int | None = None) -> ValueQuality | None:
        """Why the value ``name`` (of a connector, or of the charger) is not fresh; None when
        it is. The values of a charger that is offline or never seen are all last-known,
        whatever quality their tags had when they came."""
        if self.comm is CommState.OFFLINE:
            return ValueQuality(Quality.COMM_FAILURE, self.last_seen, "charger offline")
        if self.comm is CommState.UNKNOWN:
            return ValueQuality(Quality.NOT_CONNECTED, None, "charger not seen")
        target = self if connector_id is None else self.connector(connector_id)
        return None if target is None else target.qualities.get(name)

    def connector(self, connector_id: int) -> ConnectorState | None:
        if 1 <= connector_id <= len(self.connectors):
            return self.connectors[connector_id - 1]
        return None

    def grow_to(self, count: int) -> bool:
        """Add connectors up to ``count``; True if any was added."""
        added = range(len(self.connectors) + 1, count + 1)
        self.connectors.extend(ConnectorState(n) for n in added)
        return bool(added)


@dataclass(frozen=True, slots=True)
class SiteSummary:
    total: int = 0
    online: int = 0
    charging: int = 0  # connectors
    faulted: int = 0  # chargers with a faulted connector (or faulted as a whole)
    power_kw: float = 0.0


def _optional(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else convert(value)


def _charger_alarm(value: Any) -> ChargerAlarm | None:
    if value is not None and not isinstance(value, ChargerAlarm):
        raise TypeError(f"expected a ChargerAlarm, got {type(value).__name__}")
    return value


def alarm_text(alarm: ChargerAlarm | None) -> str:
    """A charger's alarms in words: "2 (highest: High, unacknowledged)", or "none"."""
    if alarm is None:
        return "none"
    acknowledged = "unacknowledged" if alarm.unacknowledged else "acknowledged"
    return f"{alarm.count} (highest: {alarm.priority.label}, {acknowledged})"


def _datetime(value: Any) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    return value


# Tag name → converter; the attribute of the state dataclass has the tag's name.
_CHARGER_FIELDS: dict[str, Callable[[Any], Any]] = {
    ChargerTag.COMM: lambda v: CommState.UNKNOWN if v is None else CommState(v),
    ChargerTag.REGISTRATION: _optional(RegistrationStatus),
    ChargerTag.VENDOR: _optional(str),
    ChargerTag.MODEL: _optional(str),
    ChargerTag.SERIAL: _optional(str),
    ChargerTag.FIRMWARE: _optional(str),
    ChargerTag.LAST_SEEN: _optional(_datetime),
    ChargerTag.STATUS: _optional(ConnectorStatus),
    ChargerTag.ERROR_CODE: _optional(str),
    ChargerTag.LOCAL_LIST_VERSION: _optional(int),
    ChargerTag.FIRMWARE_STATUS: _optional(str),
    ChargerTag.DIAGNOSTICS_STATUS: _optional(str),
    ChargerTag.FRAMES_RECEIVED: _optional(int),
    ChargerTag.FRAMES_SENT: _optional(int),
    ChargerTag.CALLERRORS_SENT: _optional(int),
    ChargerTag.CALLERRORS_RECEIVED: _optional(int),
    ChargerTag.CONNECTS: _optional(int),
    ChargerTag.LAST_CONNECT: _optional(_datetime),
    ChargerTag.REMOTE: _optional(str),
    ChargerTag.ALARM: _charger_alarm,
}
_CONNECTOR_FIELDS: dict[str, Callable[[Any], Any]] = {
    ConnectorTag.STATUS: _optional(ConnectorStatus),
    ConnectorTag.ERROR_CODE: _optional(str),
    ConnectorTag.ERROR_INFO: _optional(str),
    ConnectorTag.POWER_KW: _optional(float),
    ConnectorTag.ENERGY_KWH: _optional(float),
    ConnectorTag.SOC: _optional(float),
    ConnectorTag.TRANSACTION_ID: _optional(int),
    ConnectorTag.ID_TAG: _optional(str),
    ConnectorTag.RESERVATION_ID: _optional(int),
}


class OverviewModel(QAbstractListModel):
    """Rows: the project's chargers, then chargers accepted at run time (in that order).

    A project charger keeps the connectors the project gives it; a charger added at run
    time starts with one and grows with the highest ``C<n>`` its tags name.
    """

    summaryChanged = Signal(object)  # SiteSummary
    maxConnectorsChanged = Signal(int)
    unlistedChanged = Signal()  # a charger that is not a row changed, or became a row
    rowsChanged = Signal()  # once per batch that changed or added rows, after their signals

    def __init__(self, project: Project) -> None:
        super().__init__()
        self._project = project
        self._states = [self._new_state(c) for c in project.chargers]
        self._rows = {state.charger_id: row for row, state in enumerate(self._states)}
        self._project_list_version = project.ocpp.local_list_version
        self._configured = frozenset(self._rows)  # connector counts fixed by the project
        self._unlisted: dict[str, ChargerState] = {}  # seen, not (yet) accepted; first seen first
        self._max_connectors = self._compute_max_connectors()
        self._summary = self._compute_summary()

    # ---- Qt model interface

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._states)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._states):
            return None
        state = self._states[index.row()]
        if role == STATE_ROLE:
            return state
        if role == Qt.ItemDataRole.DisplayRole:
            return state.charger_id
        return None

    # ---- state

    @property
    def project(self) -> Project:
        return self._project

    @property
    def summary(self) -> SiteSummary:
        return self._summary

    @property
    def max_connectors(self) -> int:
        return self._max_connectors

    @property
    def project_list_version(self) -> int:
        """The version of the project's badge table, as SendLocalList sends it."""
        return self._project_list_version

    def state_at(self, row: int) -> ChargerState:
        return self._states[row]

    def state(self, charger_id: str) -> ChargerState | None:
        row = self._rows.get(charger_id)
        return None if row is None else self._states[row]

    def row_of(self, charger_id: str) -> int | None:
        return self._rows.get(charger_id)

    def unlisted(self) -> list[ChargerState]:
        """Chargers seen on the bus that are not rows (pending, rejected, not booted yet)."""
        return list(self._unlisted.values())

    def apply(self, changes: Mapping[TagPath, Sample]) -> None:
        """Apply a batch of tag changes; emits dataChanged for the rows that changed.

        Unlisted chargers that reached registration Accepted are then appended as rows.
        """
        changed_rows: set[int] = set()
        unlisted: dict[str, ChargerState] = {}  # the unlisted chargers this batch changed
        for path, sample in changes.items():
            charger_id, connector_id, name = split_tag(path)
            row = self._rows.get(charger_id)
            if row is not None:
                state: ChargerState | None = self._states[row]
            else:
                state = self._unlisted_state(charger_id, connector_id, name)
            if state is None:
                continue
            if connector_id is not None and charger_id not in self._configured:
                growable = connector_id <= MAX_CONNECTORS and name in _CONNECTOR_FIELDS
                if growable and state.grow_to(connector_id) and row is not None:
                    changed_rows.add(row)
            if not _apply_tag(state, connector_id, name, sample, path):
                continue
            if row is None:
                unlisted[charger_id] = state
            else:
                changed_rows.add(row)
        for first, last in row_runs(sorted(changed_rows)):
            self.dataChanged.emit(self.index(first), self.index(last))
        accepted = [s for s in unlisted.values() if s.registration is RegistrationStatus.ACCEPTED]
        if accepted:
            self._append_rows(accepted)
        if unlisted:
            self.unlistedChanged.emit()
        if changed_rows or accepted:
            self.rowsChanged.emit()
            self._update_max_connectors()
            summary = self._compute_summary()
            if summary != self._summary:
                self._summary = summary
                self.summaryChanged.emit(summary)

    def _unlisted_state(
        self, charger_id: str, connector_id: int | None, name: str
    ) -> ChargerState | None:
        """The state of a charger that is not a row, made on its first tag; None if no charger."""
        state = self._unlisted.get(charger_id)
        if state is not None:
            return state
        fields = _CHARGER_FIELDS if connector_id is None else _CONNECTOR_FIELDS
        if "/" in charger_id or name not in fields:  # engine tags (_system/…), foreign names
            return None
        # What the engine registers an accepted charger with (in the first area, as the
        # loader places it); connectors follow its tags.
        area = self._project.areas[0].id if self._project.areas else ""
        config = ChargerConfig(charger_id, area=area, connectors=1)
        state = self._unlisted[charger_id] = self._new_state(config)
        return state

    def _new_state(self, config: ChargerConfig) -> ChargerState:
        site = self._project.site_of(config)
        return ChargerState(
            config.id,
            config.max_power_kw,
            [ConnectorState(n) for n in range(1, config.connectors + 1)],
            label=config.label,
            kind=config.kind,
            area=config.area,
            site=site.id if site is not None else "",
        )

    def _append_rows(self, states: list[ChargerState]) -> None:
        first = len(self._states)
        self.beginInsertRows(QModelIndex(), first, first + len(states) - 1)
        for row, state in enumerate(states, start=first):
            del self._unlisted[state.charger_id]
            self._states.append(state)
            self._rows[state.charger_id] = row
        self.endInsertRows()
        log.info("overview: %s added", ", ".join(s.charger_id for s in states))

    def _update_max_connectors(self) -> None:
        count = self._compute_max_connectors()
        if count != self._max_connectors:
            self._max_connectors = count
            self.maxConnectorsChanged.emit(count)

    def _compute_max_connectors(self) -> int:
        return max((len(s.connectors) for s in self._states), default=1)

    def _compute_summary(self) -> SiteSummary:
        online = [s for s in self._states if s.online]
        return SiteSummary(
            total=len(self._states),
            online=len(online),
            charging=sum(
                c.status is ConnectorStatus.CHARGING for s in online for c in s.connectors
            ),
            faulted=sum(s.faulted for s in online),
            power_kw=sum(s.power_kw for s in online),
        )


def _apply_tag(
    state: ChargerState, connector_id: int | None, name: str, sample: Sample, path: TagPath
) -> bool:
    """Store one tag value and its quality in ``state``; True if it changed something."""
    if connector_id is None:
        target: ChargerState | ConnectorState | None = state
        fields = _CHARGER_FIELDS
    else:
        target = state.connector(connector_id)
        fields = _CONNECTOR_FIELDS
    convert = fields.get(name)
    if target is None or convert is None:
        return False
    try:
        value = convert(sample.value)
    except (TypeError, ValueError):
        log.warning("tag %s: unexpected value %r", path, sample.value)
        return False
    changed = _apply_quality(target.qualities, name, sample)
    if getattr(target, name) == value:
        return changed
    setattr(target, name, value)
    return True


def _apply_quality(qualities: dict[str, ValueQuality], name: str, sample: Sample) -> bool:
    """Remember a value that is not good (kept from its first bad sample on); True if the
    value's quality changed."""
    if sample.quality is Quality.GOOD:
        return qualities.pop(name, None) is not None
    known = qualities.get(name)
    if known is not None and known.quality is sample.quality:
        return False
    qualities[name] = ValueQuality(sample.quality, sample.ts)
    return True
