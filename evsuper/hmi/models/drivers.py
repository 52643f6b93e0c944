"""The drivers table: every driver device with its link state and counters, and the OCPP
central system as one more line, so that the view covers every protocol.

Device statuses are read from the engine (``engine.drivers.status()``) every few seconds
by the view through a ``DriverStatusSource``; the central system's line comes from the
chargers' comm tags (the overview model's summary and states).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from evsuper.core.tags import Quality
from evsuper.drivers.base import DeviceStatus, LinkState
from evsuper.hmi import formatting
from evsuper.hmi.bridge import EngineReader, ReadFailed
from evsuper.hmi.models.table import Index, TableModel
from evsuper.hmi.quality import marked
from evsuper.hmi.theme import Palette, font

if TYPE_CHECKING:
    from evsuper.engine.runtime import Engine


# device name → (address scheme, status); None: the engine has no drivers at all
DriverStatuses = dict[str, tuple[str, DeviceStatus]]


class DriverStatusSource(Protocol):
    """Reads the devices' statuses: ``source(callback, failed)``; ``callback`` gets them
    (or None when the engine has no drivers) later, on the GUI thread."""

    def __call__(
        self, callback: Callable[[DriverStatuses | None], None], failed: ReadFailed
    ) -> None: ...


def engine_driver_source(read: EngineReader) -> DriverStatusSource:
    """The statuses of the engine's drivers, read on the engine thread."""

    def source(callback: Callable[[DriverStatuses | None], None], failed: ReadFailed) -> None:
        read(driver_statuses, callback, failed)

    return source


def driver_statuses(engine: Engine) -> DriverStatuses | None:
    """On the engine thread: copies of the statuses (the drivers keep changing theirs)."""
    drivers: Any = getattr(engine, "drivers", None)
    if drivers is None:
        return None
    statuses: Mapping[str, tuple[str, DeviceStatus]] = drivers.status()
    return {name: (scheme, replace(status)) for name, (scheme, status) in statuses.items()}


def live_opcua_address(engine: Engine, device: str) -> str | None:
    """On the engine thread: the address the OPC UA driver talks to for ``device`` now (a
    ``simulate = true`` device's is its simulator's on 127.0.0.1); None if it has none."""
    drivers: Any = getattr(engine, "drivers", None)
    driver: Any = drivers.drivers.get("opc.tcp") if drivers is not None else None
    found: Any = getattr(driver, "devices", {}).get(device)
    return None if found is None else str(found.endpoint.url)


@dataclass(frozen=True, slots=True)
class CentralLine:
    """The OCPP central system, from the chargers' comm tags."""

    online: int = 0
    known: int = 0
    frames: int = 0  # frames received from the chargers since the engine started
    errors: int = 0  # CALLERRORs both ways


@dataclass(frozen=True, slots=True)
class LinkLook:
    words: str
    quality: Quality  # the state's marker: that of the quality its values get
    color: QColor
    bold: bool = False  # abnormal: needs a look


# Link states share the quality markers: connected is plain, lost is "✕" in bold (the one
# abnormal state), switched off is "—" and muted; no hue (ISA-101: lost is not an alarm).
_LINK_LOOKS: dict[LinkState, LinkLook] = {
    LinkState.CONNECTED: LinkLook("Connected", Quality.GOOD, Palette.TEXT),
    LinkState.CONNECTING: LinkLook("Connecting…", Quality.UNCERTAIN, Palette.TEXT_SECONDARY),
    LinkState.WAITING: LinkLook(
        "No connection, retrying", Quality.COMM_FAILURE, Palette.TEXT, bold=True
    ),
    LinkState.DISABLED: LinkLook("Disabled", Quality.NOT_CONNECTED, Palette.TEXT_MUTED),
    LinkState.STOPPED: LinkLook("Stopped", Quality.NOT_CONNECTED, Palette.TEXT_MUTED),
}


def link_look(state: LinkState) -> LinkLook:
    return _LINK_LOOKS[state]


class Column(IntEnum):
    DEVICE = 0
    PROTOCOL = 1
    STATE = 2
    SINCE = 3
    REQUESTS = 4
    ERRORS = 5
    LAST_ERROR = 6
    NEXT_RETRY = 7


HEADERS = {
    Column.DEVICE: "Device",
    Column.PROTOCOL: "Protocol",
    Column.STATE: "State",
    Column.SINCE: "Connected since",
    Column.REQUESTS: "Requests",
    Column.ERRORS: "Errors",
    Column.LAST_ERROR: "Last error",
    Column.NEXT_RETRY: "Next retry",
}
CENTRAL_NAME = "OCPP central system"
_NUMBERS = (Column.REQUESTS, Column.ERRORS, Column.NEXT_RETRY)


@dataclass(frozen=True, slots=True)
class DeviceLine:
    name: str
    scheme: str
    status: DeviceStatus


class DriversModel(TableModel):
    """Row 0: the OCPP central system; then the driver devices by name."""

    headers = tuple(HEADERS[c] for c in Column)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._central = CentralLine()
        self._devices: list[DeviceLine] = []
        self._configured: bool | None = None  # None: not read yet

    # ---- state

    def row_count(self) -> int:
        return 1 + len(self._devices)

    @property
    def configured(self) -> bool | None:
        """Whether the engine has drivers; None before the first read."""
        return self._configured

    def set_statuses(self, statuses: DriverStatuses | None) -> None:
        self._configured = bool(statuses)
        lines = [
            DeviceLine(name, scheme, status)
            for name, (scheme, status) in sorted((statuses or {}).items())
        ]
        if [d.name for d in lines] != [d.name for d in self._devices]:
            self.beginResetModel()
            self._devices = lines
            self.endResetModel()
        elif lines:
            self._devices = lines
            self.dataChanged.emit(self.index(1, 0), self.index(len(lines), len(Column) - 1))

    def set_central(self, central: CentralLine) -> None:
        if central != self._central:
            self._central = central
            self.dataChanged.emit(self.index(0, 0), self.index(0, len(Column) - 1))

    def device_at(self, row: int) -> DeviceLine | None:
        """The device of ``row``; None for the central system's line."""
        return self._devices[row - 1] if 1 <= row <= len(self._devices) else None

    def row_of(self, device: str) -> int | None:
        return next((i + 1 for i, d in enumerate(self._devices) if d.name == device), None)

    # ---- Qt model interface

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        column = Column(index.column())
        device = self.device_at(index.row())
        if role == Qt.ItemDataRole.TextAlignmentRole and column in _NUMBERS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if device is None:
            return self._central_data(column, role)
        status = device.status
        look = link_look(status.state)
        if role == Qt.ItemDataRole.DisplayRole:
            return _device_text(device, column)
        if role == Qt.ItemDataRole.ForegroundRole and column is Column.STATE:
            return look.color
        if role == Qt.ItemDataRole.FontRole and column is Column.STATE and look.bold:
            return font(9.5, bold=True)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column is Column.LAST_ERROR and status.last_error:
                return status.last_error
            if column is Column.STATE:
                return f"{device.name}: {look.words}"
        return None

    def _central_data(self, column: Column, role: int) -> Any:
        central = self._central
        lost = central.online < central.known
        if role == Qt.ItemDataRole.DisplayRole:
            return _central_text(central, column)
        if role == Qt.ItemDataRole.FontRole and column is Column.STATE and lost:
            return font(9.5, bold=True)
        if role == Qt.ItemDataRole.ToolTipRole and column is Column.STATE:
            return "Chargers connected over OCPP, of the chargers the supervisor knows"
        return None


def _device_text(device: DeviceLine, column: Column) -> str:
    status = device.status
    look = link_look(status.state)
    if column is Column.DEVICE:
        return device.name
    if column is Column.PROTOCOL:
        return device.scheme
    if column is Column.STATE:
        return marked(look.words, look.quality)
    if column is Column.SINCE:
        connected = status.state is LinkState.CONNECTED
        return formatting.timestamp(status.connected_since if connected else None)
    if column is Column.REQUESTS:
        return formatting.count(status.requests)
    if column is Column.ERRORS:
        return formatting.count(status.errors)
    if column is Column.LAST_ERROR:
        return formatting.text(status.last_error)
    waiting = status.state is LinkState.WAITING
    return f"in {formatting.duration(status.next_retry_s)}" if waiting else formatting.NO_VALUE


def _central_text(central: CentralLine, column: Column) -> str:
    if column is Column.DEVICE:
        return CENTRAL_NAME
    if column is Column.PROTOCOL:
        return "ocpp"
    if column is Column.STATE:
        words = f"{central.online} / {central.known} chargers online"
        lost = central.online < central.known
        return marked(words, Quality.COMM_FAILURE if lost else Quality.GOOD)
    if column is Column.REQUESTS:
        return formatting.count(central.frames)
    if column is Column.ERRORS:
        return formatting.count(central.errors)
    return formatting.NO_VALUE
