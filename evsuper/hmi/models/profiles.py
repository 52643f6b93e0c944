"""The charging profiles installed on every charger, as a table with their conflicts.

``profile_rows`` (pure) turns what the engine holds into rows with who sent each profile
and the conflicts it is part of; ``InstalledProfilesModel`` shows them (conflicting rows
in bold on a darker grey, with the conflict named in the last column); ``ProfileFilter``
selects by site, charger and "conflicts only".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

from PySide6.QtCore import (
    QObject,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush

from evsuper.charging.conflicts import Conflict, ProfileEntry, ProfileOrigin
from evsuper.charging.profiles import ChargingProfile, InstalledProfile
from evsuper.hmi import formatting
from evsuper.hmi.dialogs.charger_maintenance import periods_summary
from evsuper.hmi.models.table import Index, TableModel
from evsuper.hmi.theme import Palette, font

ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's ``ProfileRow``


class Column(IntEnum):
    CHARGER = 0
    CONNECTOR = 1
    ID = 2
    STACK = 3
    PURPOSE = 4
    KIND = 5
    VALIDITY = 6
    UNIT = 7
    PERIODS = 8
    SENT_BY = 9
    CHECK = 10


HEADERS = {
    Column.CHARGER: "Charger",
    Column.CONNECTOR: "Connector",
    Column.ID: "Id",
    Column.STACK: "Stack",
    Column.PURPOSE: "Purpose",
    Column.KIND: "Kind",
    Column.VALIDITY: "Valid",
    Column.UNIT: "Unit",
    Column.PERIODS: "Periods",
    Column.SENT_BY: "Sent by",
    Column.CHECK: "Check",
}


@dataclass(frozen=True, slots=True)
class ProfileRow:
    site_id: str
    entry: ProfileEntry
    conflicts: tuple[Conflict, ...]  # those this profile is part of

    @property
    def charger_id(self) -> str:
        return self.entry.charger_id

    @property
    def connector_id(self) -> int:
        return self.entry.connector_id

    @property
    def profile(self) -> ChargingProfile:
        return self.entry.profile


def profile_rows(
    entries: Iterable[ProfileEntry],
    conflicts: Sequence[Conflict],
    sites: Mapping[str, str],
) -> list[ProfileRow]:
    """Rows by charger, connector, stack level (highest first) and id; ``sites`` maps a
    charger to its site."""

    def order(e: ProfileEntry) -> tuple[str, int, int, int]:
        return (e.charger_id, e.connector_id, -e.profile.stack_level, e.profile.profile_id)

    return [
        ProfileRow(
            sites.get(e.charger_id, ""),
            e,
            tuple(c for c in conflicts if c.involves(e.charger_id, e.profile.profile_id)),
        )
        for e in sorted(entries, key=order)
    ]


def validity_text(valid_from: datetime | None, valid_to: datetime | None) -> str:
    if valid_from is None and valid_to is None:
        return "always"
    if valid_to is None:
        return f"from {formatting.timestamp(valid_from)}"
    if valid_from is None:
        return f"until {formatting.timestamp(valid_to)}"
    return f"from {formatting.timestamp(valid_from)} to {formatting.timestamp(valid_to)}"


def kind_text(profile: ChargingProfile) -> str:
    if profile.recurrency is None:
        return profile.kind.value
    return f"{profile.kind.value} ({profile.recurrency.value.lower()})"


def _cell(row: ProfileRow, column: Column) -> str:
    profile = row.profile
    match column:
        case Column.CHARGER:
            return row.charger_id
        case Column.CONNECTOR:
            return "0 (charger)" if row.connector_id == 0 else str(row.connector_id)
        case Column.ID:
            return str(profile.profile_id)
        case Column.STACK:
            return str(profile.stack_level)
        case Column.PURPOSE:
            return profile.purpose.value
        case Column.KIND:
            return kind_text(profile)
        case Column.VALIDITY:
            return validity_text(profile.valid_from, profile.valid_to)
        case Column.UNIT:
            return profile.schedule.unit.value
        case Column.PERIODS:
            return periods_summary(InstalledProfile(row.connector_id, profile))
        case Column.SENT_BY:
            return "allocator" if row.entry.origin is ProfileOrigin.ALLOCATOR else "operator"
        case Column.CHECK:
            kinds = dict.fromkeys(c.kind.value for c in row.conflicts)
            return "⚠ " + ", ".join(kinds) if kinds else "OK"


class InstalledProfilesModel(TableModel):
    headers = tuple(HEADERS[c] for c in Column)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[ProfileRow] = []
        self._bold = font(9.0, bold=True)
        self._conflict_brush = QBrush(Palette.SUSPENDED_FILL)

    def row_count(self) -> int:
        return len(self._rows)

    def set_rows(self, rows: list[ProfileRow]) -> None:
        if rows == self._rows:
            return
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def row(self, row: int) -> ProfileRow:
        return self._rows[row]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return _cell(row, Column(index.column()))
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.ToolTipRole and row.conflicts:
            return "\n".join(c.message for c in row.conflicts)
        if role == Qt.ItemDataRole.FontRole and row.conflicts:
            return self._bold
        if role == Qt.ItemDataRole.BackgroundRole and row.conflicts:
            return self._conflict_brush
        return None


class ProfileFilter(QSortFilterProxyModel):
    """By site and charger ("" : all), and conflicting rows only."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._site = ""
        self._charger = ""
        self._conflicts_only = False

    def set_filter(self, site: str, charger: str, conflicts_only: bool) -> None:
        self.beginFilterChange()
        self._site, self._charger, self._conflicts_only = site, charger, conflicts_only
        self.endFilterChange()

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        assert isinstance(model, InstalledProfilesModel)
        row = model.row(source_row)
        return (
            (not self._site or row.site_id == self._site)
            and (not self._charger or row.charger_id == self._charger)
            and (not self._conflicts_only or bool(row.conflicts))
        )
