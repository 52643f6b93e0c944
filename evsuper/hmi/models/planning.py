"""What the planning tool draws and lists: the Gantt rows and bars, the load curve, and the
table of planned sessions. The arithmetic is plain Python (evsuper/charging/planning.py
decides what fits); only the table is a Qt model."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum, IntEnum
from typing import Any

from PySide6.QtCore import QObject, Qt

from evsuper.charging.planning import (
    Bay,
    Feeder,
    Forecast,
    PlannedSession,
    RunningSession,
    SiteLimit,
    running_window,
)
from evsuper.charging.site_model import connector_key, site_trees
from evsuper.charging.topology import Limit
from evsuper.hmi import formatting
from evsuper.hmi.models.table import Index, TableModel
from evsuper.project.model import Project


class BarKind(Enum):
    RUNNING = "running"
    PLANNED = "planned"
    CANDIDATE = "candidate"  # the plan in the form, not saved


@dataclass(frozen=True, slots=True)
class GanttBar:
    row: int  # index in the bays
    start: datetime
    end: datetime
    label: str
    kind: BarKind


def site_bays(project: Project, site_id: str) -> list[Bay]:
    """Every connector of the site's chargers, in the project's order."""
    bays = []
    for charger in project.chargers:
        site = project.site_of(charger)
        if site is not None and site.id == site_id:
            bays += [
                Bay(charger.id, n, charger.max_power_kw) for n in range(1, charger.connectors + 1)
            ]
    return bays


def site_feeders(project: Project, site_id: str, site_limit: SiteLimit) -> list[Feeder]:
    """The groups of the site's electrical tree that have a limit, each with the connectors
    under it at any depth (`site_limit` gives the time zone and the voltage)."""
    tree = site_trees(project).get(site_id)
    if tree is None:
        return []
    paths = {
        f"{charger.id}/{n}": tree.site.paths[connector_key(charger.id, n)]
        for charger in tree.chargers
        for n in range(1, charger.connectors + 1)
    }
    feeders = []
    for group in tree.groups:
        if group.limit_kw is None and group.limit_a is None:
            continue
        limit = SiteLimit(
            Limit(group.limit_kw, group.limit_a), (), site_limit.tz, site_limit.voltage_v
        )
        bays = frozenset(bay for bay, path in paths.items() if group.id in path)
        name = f"{group.label} {group.name or group.id}"
        feeders.append(Feeder(group.id, name, limit, bays))
    return feeders


def gantt_bars(
    bays: Sequence[Bay],
    running: Sequence[RunningSession],
    plans: Sequence[PlannedSession],
    candidate: PlannedSession | None,
    now: datetime,
) -> list[GanttBar]:
    """The bars of the time line, one row per connector (sessions on unknown connectors are
    left out)."""
    rows = {bay.label: i for i, bay in enumerate(bays)}
    bars = []
    for r in running:
        if r.bay_label in rows:
            start, end = running_window(r, now)
            bars.append(GanttBar(rows[r.bay_label], start, end, r.badge, BarKind.RUNNING))
    for p in plans:
        if p.bay_label in rows:
            label = f"{p.badge} {p.energy_kwh:.0f} kWh"
            bars.append(GanttBar(rows[p.bay_label], p.arrival, p.departure, label, BarKind.PLANNED))
    if candidate is not None and candidate.bay_label in rows:
        bars.append(
            GanttBar(
                rows[candidate.bay_label],
                candidate.arrival,
                candidate.departure,
                "new plan",
                BarKind.CANDIDATE,
            )
        )
    return bars


def load_steps(forecast: Forecast) -> tuple[list[float], list[float], list[float]]:
    """x (epoch seconds), load (kW) and limit (kW, NaN: none) as step-line corners."""
    xs: list[float] = []
    load: list[float] = []
    limit: list[float] = []
    for step in forecast.steps:
        for moment in (step.start, step.end):
            xs.append(moment.timestamp())
            load.append(step.load_kw)
            limit.append(math.nan if step.limit_kw is None else step.limit_kw)
    return xs, load, limit


class PlanColumn(IntEnum):
    ID = 0
    BADGE = 1
    BOLLARD = 2
    ARRIVAL = 3
    DEPARTURE = 4
    ENERGY = 5
    BY = 6


_HEADERS = ("#", "Badge", "Bollard", "Arrival", "Departure", "Energy", "By")


def _when(ts: datetime) -> str:
    return ts.astimezone().strftime("%a %H:%M")


class PlanTableModel(TableModel):
    """The planned sessions of the site, by arrival."""

    headers = _HEADERS

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.plans: list[PlannedSession] = []

    def row_count(self) -> int:
        return len(self.plans)

    def set_plans(self, plans: Sequence[PlannedSession]) -> None:
        if list(plans) == self.plans:
            return
        self.beginResetModel()
        self.plans = list(plans)
        self.endResetModel()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        p = self.plans[index.row()]
        return {
            PlanColumn.ID: str(p.id),
            PlanColumn.BADGE: p.badge,
            PlanColumn.BOLLARD: p.bay_label,
            PlanColumn.ARRIVAL: _when(p.arrival),
            PlanColumn.DEPARTURE: _when(p.departure),
            PlanColumn.ENERGY: f"{p.energy_kwh:.1f} kWh",
            PlanColumn.BY: formatting.text(p.created_by),
        }[PlanColumn(index.column())]
