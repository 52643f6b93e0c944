"""The site overview model: one row per charger of the project, fed by tag batches."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from evsuper.core.domain import CommState, ConnectorStatus, RegistrationStatus
from evsuper.core.tags import ChargerTag, ConnectorTag, Sample, TagPath, split_tag
from evsuper.project.model import Project

log = logging.getLogger(__name__)

STATE_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's ChargerState

_ModelIndex = QModelIndex | QPersistentModelIndex


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

    @property
    def faulted(self) -> bool:
        return self.status is ConnectorStatus.FAULTED


@dataclass(slots=True)
class ChargerState:
    """Last known state of one charger, as the tags describe it."""

    charger_id: str
    max_power_kw: float  # per connector, from the project
    connectors: list[ConnectorState]
    comm: CommState = CommState.UNKNOWN
    registration: RegistrationStatus | None = None
    vendor: str | None = None
    model: str | None = None
    serial: str | None = None
    firmware: str | None = None
    last_seen: datetime | None = None
    status: ConnectorStatus | None = None  # connector 0: the charger as a whole
    error_code: str | None = None

    @property
    def online(self) -> bool:
        return self.comm is CommState.ONLINE

    @property
    def faulted(self) -> bool:
        return self.status is ConnectorStatus.FAULTED or any(c.faulted for c in self.connectors)

    @property
    def power_kw(self) -> float:
        return sum(c.power_kw or 0.0 for c in self.connectors)

    def connector(self, connector_id: int) -> ConnectorState | None:
        if 1 <= connector_id <= len(self.connectors):
            return self.connectors[connector_id - 1]
        return None


@dataclass(frozen=True, slots=True)
class SiteSummary:
    total: int = 0
    online: int = 0
    charging: int = 0  # connectors
    faulted: int = 0  # chargers with a faulted connector (or faulted as a whole)
    power_kw: float = 0.0


def _optional(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else convert(value)


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
}


class OverviewModel(QAbstractListModel):
    """Rows follow ``project.chargers``; tags of chargers not in the project are ignored."""

    summaryChanged = Signal(object)  # SiteSummary

    def __init__(self, project: Project) -> None:
        super().__init__()
        self._states = [
            ChargerState(
                c.id,
                c.max_power_kw,
                [ConnectorState(n) for n in range(1, c.connectors + 1)],
            )
            for c in project.chargers
        ]
        self._rows = {state.charger_id: row for row, state in enumerate(self._states)}
        self._summary = self._compute_summary()

    # ---- Qt model interface

    def rowCount(self, parent: _ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._states)

    def data(self, index: _ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._states):
            return None
        state = self._states[index.row()]
        if role == STATE_ROLE:
            return state
        if role == Qt.ItemDataRole.DisplayRole:
            return state.charger_id
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{state.charger_id}: {state.comm.value}, {len(state.connectors)} connectors"
        return None

    # ---- state

    @property
    def summary(self) -> SiteSummary:
        return self._summary

    @property
    def max_connectors(self) -> int:
        return max((len(s.connectors) for s in self._states), default=1)

    def state_at(self, row: int) -> ChargerState:
        return self._states[row]

    def state(self, charger_id: str) -> ChargerState | None:
        row = self._rows.get(charger_id)
        return None if row is None else self._states[row]

    def row_of(self, charger_id: str) -> int | None:
        return self._rows.get(charger_id)

    def apply(self, changes: Mapping[TagPath, Sample]) -> None:
        """Apply a batch of tag changes; emits dataChanged for the rows that changed."""
        changed_rows: set[int] = set()
        for path, sample in changes.items():
            charger_id, connector_id, name = split_tag(path)
            row = self._rows.get(charger_id)
            if row is None:
                continue
            state = self._states[row]
            if connector_id is None:
                target: ChargerState | ConnectorState | None = state
                fields = _CHARGER_FIELDS
            else:
                target = state.connector(connector_id)
                fields = _CONNECTOR_FIELDS
            convert = fields.get(name)
            if target is None or convert is None:
                continue
            try:
                value = convert(sample.value)
            except (TypeError, ValueError):
                log.warning("tag %s: unexpected value %r", path, sample.value)
                continue
            if getattr(target, name) != value:
                setattr(target, name, value)
                changed_rows.add(row)
        for first, last in _runs(sorted(changed_rows)):
            self.dataChanged.emit(self.index(first), self.index(last))
        if changed_rows:
            summary = self._compute_summary()
            if summary != self._summary:
                self._summary = summary
                self.summaryChanged.emit(summary)

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


def _runs(rows: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted row numbers → contiguous (first, last) ranges."""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and runs[-1][1] == row - 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs
