"""The electrical tree of one site as a Qt tree model, from a `SiteChargingStatus`.

Rows: the site, its groups (boards, feeders) nested as in the project, and each connector
under the node it hangs from. Every row has a bar (`BAR_ROLE`: measured, allocated and
limit in kW); a node whose limit binds now is marked (`BINDING_ROLE`, bold, "LIMIT" in the
State column). In manual mode the connectors' setpoint cells are editable: an edit does
not change the model, it asks for the command (`manualLimitRequested`) and the cell says
"sent" until the next status shows the limit in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QObject,
    Qt,
    Signal,
)

from evsuper.charging.allocator import State
from evsuper.charging.status import (
    ChargingMode,
    ConnectorAllocation,
    NodeKind,
    NodeStatus,
    SiteChargingStatus,
)
from evsuper.charging.topology import NOMINAL_VOLTAGE_V, amps_to_watts
from evsuper.hmi import formatting
from evsuper.hmi.models.table import Index
from evsuper.hmi.theme import font

BAR_ROLE = Qt.ItemDataRole.UserRole + 1  # a Bar, on the Load column
BINDING_ROLE = Qt.ItemDataRole.UserRole + 2  # True on a node whose limit binds
KEY_ROLE = Qt.ItemDataRole.UserRole + 3  # node id, or (charger id, connector id)


class Column(IntEnum):
    NAME = 0
    LOAD = 1
    MEASURED = 2
    ALLOCATED = 3
    LIMIT = 4  # a node's limit; a connector's setpoint (editable in manual mode)
    SENT = 5
    STATE = 6
    NEED = 7  # energy still to deliver by the departure (deadline objective)
    REASON = 8


HEADERS = {
    Column.NAME: "Electrical tree",
    Column.LOAD: "Power against limit",
    Column.MEASURED: "Measured",
    Column.ALLOCATED: "Allocated",
    Column.LIMIT: "Limit / setpoint",
    Column.SENT: "Sent to charger",
    Column.STATE: "State",
    Column.NEED: "Need",
    Column.REASON: "Reason",
}
LIMIT_TEXT = "LIMIT"  # the State of a node whose limit binds
NOTABLE_STATES = frozenset({"paused", "offline"})  # a vehicle that gets nothing: in bold


@dataclass(frozen=True, slots=True)
class Bar:
    """What the Load column draws, in kW: `scale` is the full width."""

    measured: float
    allocated: float
    limit: float | None
    scale: float
    binding: bool


@dataclass(slots=True)
class _Row:
    parent: int  # row id of the parent, -1 for the top
    children: list[int]
    node: NodeStatus | None = None
    connector: ConnectorAllocation | None = None

    @property
    def key(self) -> str | tuple[str, int]:
        if self.node is not None:
            return self.node.id
        assert self.connector is not None
        return (self.connector.charger_id, self.connector.connector_id)


def node_name(node: NodeStatus) -> str:
    if node.kind is NodeKind.SITE:
        return f"Site {node.name or node.id}"
    return node.name or node.id


def connector_name(c: ConnectorAllocation) -> str:
    return f"{c.charger_id} · {c.connector_id}"


def limit_text(limit_kw: float | None, limit_a: float | None) -> str:
    parts = []
    if limit_kw is not None:
        parts.append(formatting.kw(limit_kw))
    if limit_a is not None:
        parts.append(f"{limit_a:.0f} A/phase")
    return " · ".join(parts) if parts else "no limit"


def bar_limit_kw(node: NodeStatus) -> float | None:
    """The limit a node's bar shows in kW: its kW limit, else its A limit on three phases."""
    if node.limit_kw is not None or node.limit_a is None:
        return node.limit_kw
    return amps_to_watts(node.limit_a, 3, NOMINAL_VOLTAGE_V) / 1000.0


def has_session(c: ConnectorAllocation) -> bool:
    return c.state != State.NOT_REQUESTED


def need_text(c: ConnectorAllocation) -> str:
    """ "12.50 kWh by 17:30", or nothing when the session's need is not known."""
    if c.energy_need_kwh is None or c.departure is None:
        return ""
    return f"{formatting.kwh(c.energy_need_kwh)} by {formatting.clock(c.departure, seconds=False)}"


def amps(value: float | None) -> str:
    return formatting.NO_VALUE if value is None else f"{value:.1f} A"


class PowerTreeModel(QAbstractItemModel):
    manualLimitRequested = Signal(str, int, object)  # charger id, connector id, A or None

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.status: SiteChargingStatus | None = None
        self._rows: list[_Row] = []
        self._top: list[int] = []
        self._shape: tuple[tuple[object, int], ...] = ()
        # manual limits asked per connector: (limit in A or None, answered by the engine)
        self._pending: dict[tuple[str, int], tuple[float | None, bool]] = {}
        self._connector_scale = 1.0
        self.editable = False  # the user may set manual limits

    # ---- content

    def set_status(self, status: SiteChargingStatus | None) -> None:
        """Show ``status``: values in place when the tree is the same, else a new tree."""
        self.status = status
        # requests the engine answered are in force (or overruled) in this status
        self._pending = {k: v for k, v in self._pending.items() if not v[1]}
        rows, top = self._build(status)
        shape = tuple((r.key, r.parent) for r in rows)
        self._connector_scale = max(
            (max(c.power_kw, c.measured_kw) for c in (status.connectors if status else ())),
            default=0.0,
        )
        if shape != self._shape:
            self.beginResetModel()
            self._rows, self._top, self._shape = rows, top, shape
            self.endResetModel()
            return
        self._rows = rows
        last = len(Column) - 1
        for siblings in [r.children for r in rows if r.children] + [self._top] * bool(self._top):
            first = self.createIndex(0, 0, siblings[0])
            end = self.createIndex(len(siblings) - 1, last, siblings[-1])
            self.dataChanged.emit(first, end)

    @staticmethod
    def _build(status: SiteChargingStatus | None) -> tuple[list[_Row], list[int]]:
        if status is None:
            return [], []
        rows: list[_Row] = []
        ids: dict[str, int] = {}
        top: list[int] = []
        for node in status.nodes:
            parent = ids.get(node.parent, -1) if node.parent is not None else -1
            ids[node.id] = len(rows)
            rows.append(_Row(parent, [], node=node))
        for c in status.connectors:
            rows.append(_Row(ids.get(c.parent, -1), [], connector=c))
        for row_id, row in enumerate(rows):
            (rows[row.parent].children if row.parent >= 0 else top).append(row_id)
        return rows, top

    def is_manual(self) -> bool:
        return self.status is not None and self.status.mode is ChargingMode.MANUAL

    def connector_at(self, index: QModelIndex) -> ConnectorAllocation | None:
        """The connector of a row (None on a site or group row)."""
        return self._rows[index.internalId()].connector if index.isValid() else None

    def connector_index(self, charger_id: str, connector_id: int, column: Column) -> QModelIndex:
        for row_id, row in enumerate(self._rows):
            if row.key == (charger_id, connector_id):
                return self._index_of(row_id, column)
        return QModelIndex()

    def node_index(self, node_id: str, column: Column = Column.NAME) -> QModelIndex:
        for row_id, row in enumerate(self._rows):
            if row.key == node_id:
                return self._index_of(row_id, column)
        return QModelIndex()

    def _index_of(self, row_id: int, column: int) -> QModelIndex:
        parent = self._rows[row_id].parent
        siblings = self._rows[parent].children if parent >= 0 else self._top
        return self.createIndex(siblings.index(row_id), column, row_id)

    # ---- QAbstractItemModel

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        siblings = self._rows[parent.internalId()].children if parent.isValid() else self._top
        if not (0 <= row < len(siblings) and 0 <= column < len(Column)):
            return QModelIndex()
        return self.createIndex(row, column, siblings[row])

    def parent(self, child: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not child.isValid():
            return QModelIndex()
        parent = self._rows[child.internalId()].parent
        return QModelIndex() if parent < 0 else self._index_of(parent, 0)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._top)
        if parent.column() != 0:
            return 0
        return len(self._rows[parent.internalId()].children)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(Column)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[Column(section)]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if (
            index.isValid()
            and index.column() == Column.LIMIT
            and self._rows[index.internalId()].connector is not None
            and self.is_manual()
            and self.editable
        ):
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.internalId()]
        column = Column(index.column())
        if row.node is not None:
            return self._node_data(row.node, column, role)
        assert row.connector is not None
        return self._connector_data(row.connector, column, role)

    def _node_data(self, node: NodeStatus, column: Column, role: int) -> Any:
        if role == BINDING_ROLE:
            return node.full
        if role == KEY_ROLE:
            return node.id
        if role == Qt.ItemDataRole.FontRole and node.full:
            return font(9.5, bold=True)
        if role == BAR_ROLE and column is Column.LOAD:
            limit = bar_limit_kw(node)
            scale = max(limit or 0.0, node.allocated_kw, node.power_kw)
            return Bar(node.power_kw, node.allocated_kw, limit, scale, node.full)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._node_tip(node, column)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return {
            Column.NAME: node_name(node),
            Column.MEASURED: formatting.kw(node.power_kw),
            Column.ALLOCATED: formatting.kw(node.allocated_kw),
            Column.LIMIT: limit_text(node.limit_kw, node.limit_a),
            Column.STATE: LIMIT_TEXT if node.full else "",
            Column.REASON: self._bound_text(node),
        }.get(column)

    @staticmethod
    def _node_tip(node: NodeStatus, column: Column) -> str | None:
        if column is Column.STATE and node.full:
            return "One of this node's limits is full: the connectors under it get no more."
        if column is Column.LOAD:
            limit = limit_text(node.limit_kw, node.limit_a)
            tip = (
                f"Measured {formatting.kw(node.power_kw)}, "
                f"allocated {formatting.kw(node.allocated_kw)}, limit {limit}"
            )
            if node.limit_kw is None and node.limit_a is not None:
                tip += f" (the tick: {formatting.kw(bar_limit_kw(node))} on three phases)"
            return tip
        return None

    def _bound_text(self, node: NodeStatus) -> str:
        if self.status is None:
            return ""
        bound = sum(1 for c in self.status.connectors if c.binding == node.id)
        return "" if not bound else f"limits {bound} connector{'s' if bound > 1 else ''}"

    def _connector_data(self, c: ConnectorAllocation, column: Column, role: int) -> Any:
        key = (c.charger_id, c.connector_id)
        if role == BINDING_ROLE:
            return False
        if role == KEY_ROLE:
            return key
        if role == BAR_ROLE and column is Column.LOAD:
            return Bar(c.measured_kw, c.power_kw, None, self._connector_scale, False)
        if role == Qt.ItemDataRole.FontRole and c.state in NOTABLE_STATES:
            return font(9.5, bold=True)
        if role == Qt.ItemDataRole.EditRole and column is Column.LIMIT:
            return f"{c.current_a:.1f}"
        if role == Qt.ItemDataRole.ToolTipRole and column is Column.LIMIT and self.is_manual():
            return "Manual limit in A per phase (empty: the connector's maximum)"
        if role == Qt.ItemDataRole.ToolTipRole and column is Column.NEED:
            known = (
                f"Energy still to deliver and departure, from {c.need_source}."
                if c.need_source
                else "No energy need or departure known for this session."
            )
            if self.editable and has_session(c):
                known += " Double-click to set them."
            return known
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        setpoint = f"{amps(c.current_a)} ({formatting.kw(c.power_kw)})"
        if key in self._pending:
            asked = self._pending[key][0]
            setpoint = f"{'maximum' if asked is None else amps(asked)}: sent…"
        return {
            Column.NAME: connector_name(c),
            Column.MEASURED: formatting.kw(c.measured_kw),
            Column.ALLOCATED: formatting.kw(c.power_kw),
            Column.LIMIT: setpoint,
            Column.SENT: "not yet" if c.sent_a is None else amps(c.sent_a),
            Column.STATE: c.state,
            Column.NEED: need_text(c),
            Column.REASON: c.reason,
        }.get(column)

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not (self.flags(index) & Qt.ItemFlag.ItemIsEditable):
            return False
        connector = self._rows[index.internalId()].connector
        assert connector is not None
        text = str(value).strip()
        try:
            limit = None if not text else float(text)
        except ValueError:
            return False
        if limit is not None and limit < 0:
            return False
        key = (connector.charger_id, connector.connector_id)
        self._pending[key] = (limit, False)
        self.dataChanged.emit(index, index)
        self.manualLimitRequested.emit(connector.charger_id, connector.connector_id, limit)
        return True

    def request_answered(self, charger_id: str, connector_id: int, accepted: bool) -> None:
        """The answer to a manual limit: accepted, it is shown as sent until the next
        status; refused, the setpoint in force is shown again at once."""
        key = (charger_id, connector_id)
        if key not in self._pending:
            return
        if accepted:
            self._pending[key] = (self._pending[key][0], True)
            return
        del self._pending[key]
        index = self.connector_index(charger_id, connector_id, Column.LIMIT)
        self.dataChanged.emit(index, index)
