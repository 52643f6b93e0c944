"""The planning tool (RFP 6.1.1): the next 24 hours of a site, per connector, with the
site's forecast load against its limit; plan a vehicle and see at once whether it fits.

A `PlanningSnapshot` (running sessions, planned ones, the site limit over time, the
engine's now) is read through a `PlanningSource` every `REFRESH_MS` while the window is
shown; the form's request is checked against it on every change with
`evsuper.charging.planning.check_plan`. Plans are saved and cancelled by command
(`PlanSession`, `CancelPlannedSession`, kept by `engine/planning_target.py`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import pyqtgraph as pg
from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateTimeEdit,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from evsuper.charging.planning import (
    HORIZON,
    Feeder,
    Fit,
    Forecast,
    PlannedSession,
    PlanRequest,
    RunningSession,
    SiteLimit,
    arrived,
    check_plan,
    forecast,
    loads,
    running_from_status,
)
from evsuper.charging.status import SiteChargingStatus
from evsuper.charging.topology import Limit, ScheduleEntry
from evsuper.core.tags import ConnectorTag, connector_tag
from evsuper.core.timeutil import utcnow
from evsuper.engine.commands import CancelPlannedSession, Command, CommandResult, PlanSession
from evsuper.hmi.bridge import CommandSender, EngineReader
from evsuper.hmi.models.planning import (
    BarKind,
    GanttBar,
    PlanTableModel,
    gantt_bars,
    load_steps,
    site_bays,
    site_feeders,
)
from evsuper.hmi.theme import Emphasis, Palette, role_label, set_emphasis
from evsuper.hmi.views.power_management import charging_status
from evsuper.hmi.widgets.command_result import CommandResultLine
from evsuper.hmi.widgets.number_field import DecimalField
from evsuper.hmi.widgets.permission_gate import PermissionGates
from evsuper.hmi.widgets.plots import PlotLegend, calm_pen, calm_plot
from evsuper.hmi.widgets.refresh import RefreshWhileShown
from evsuper.project.model import Project
from evsuper.users.permissions import NOBODY, Actor, Permission

if TYPE_CHECKING:
    from evsuper.engine.runtime import Engine

REFRESH_MS = 2000
ANY_BOLLARD = "Any free bollard"
_ROW_HEIGHT = 0.64  # of a Gantt row


@dataclass(frozen=True, slots=True)
class PlanningSnapshot:
    """What the planning tool works on, read in one hop."""

    now: datetime
    running: tuple[RunningSession, ...]
    plans: tuple[PlannedSession, ...]
    limit: SiteLimit
    note: str = ""  # what the operator should know about it ("smart charging not running")


class PlanningSource(Protocol):
    def snapshot(
        self,
        site_id: str,
        done: Callable[[PlanningSnapshot], None],
        failed: Callable[[str], None],
    ) -> None: ...


def project_limit(project: Project, site_id: str) -> SiteLimit:
    """The site's limit over time as the project sets it (static and time-of-day schedule)."""
    site = project.site(site_id)
    zone = project.notifications.timezone
    tz: tzinfo = ZoneInfo(zone) if zone else (datetime.now().astimezone().tzinfo or UTC)
    if site is None:
        return SiteLimit(tz=tz)
    schedule = tuple(
        ScheduleEntry(datetime.strptime(e.start, "%H:%M").time(), Limit(e.limit_kw, e.limit_a))
        for e in site.limit_schedule
    )
    return SiteLimit(Limit(site.limit_kw, site.limit_a), schedule, tz)


def live_limit(base: SiteLimit, status: SiteChargingStatus | None) -> SiteLimit:
    """An operator's override or a limit from a tag cannot be foreseen: it is taken to hold
    for the whole day. Otherwise the project's static or scheduled limit."""
    if status is None or not status.nodes:
        return base
    source = status.limit_source
    if source.startswith(("operator", "tag")):
        site = status.nodes[0]
        return SiteLimit(Limit(site.limit_kw, site.limit_a), (), base.tz, base.voltage_v)
    return base


def planning_snapshot(site_id: str) -> Callable[[Engine], PlanningSnapshot]:
    """The query behind `EnginePlanningSource` (runs on the engine thread)."""
    status_of = charging_status(site_id)

    def query(engine: Engine) -> PlanningSnapshot:
        status = status_of(engine)
        badges: dict[tuple[str, int], str] = {}
        delivered: dict[tuple[str, int], float] = {}
        running: list[RunningSession] = []
        if status is not None:
            for c in status.connectors:
                key = (c.charger_id, c.connector_id)
                badge = engine.bus.value(connector_tag(*key, ConnectorTag.ID_TAG))
                energy = engine.bus.value(connector_tag(*key, ConnectorTag.ENERGY_KWH))
                badges[key] = badge if isinstance(badge, str) else ""
                delivered[key] = float(energy) if isinstance(energy, int | float) else 0.0
            running = running_from_status(status, badges, delivered)
        return PlanningSnapshot(
            now=utcnow(),
            running=tuple(running),
            plans=engine.planning.sessions(site_id),
            limit=live_limit(project_limit(engine.project, site_id), status),
            note="" if status is not None else "Smart charging is not running: no live sessions.",
        )

    return query


class EnginePlanningSource:
    def __init__(self, read: EngineReader) -> None:
        self._read = read

    def snapshot(
        self,
        site_id: str,
        done: Callable[[PlanningSnapshot], None],
        failed: Callable[[str], None],
    ) -> None:
        self._read(planning_snapshot(site_id), done, failed)


def _qt(ts: datetime) -> QDateTime:
    return QDateTime.fromSecsSinceEpoch(int(ts.timestamp()))


def _utc(value: QDateTime) -> datetime:
    return datetime.fromtimestamp(value.toSecsSinceEpoch(), UTC)


class PlanningView(QWidget):
    """The planning window (one, reused); ``set_actor`` gates planning and cancelling."""

    def __init__(
        self,
        project: Project,
        source: PlanningSource,
        send: CommandSender,
        parent: QWidget | None = None,
        *,
        refresh_ms: int = REFRESH_MS,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("planning")
        self.setWindowTitle("Planning — evsuper")
        self.resize(1500, 860)
        self._project = project
        self._source = source
        self._send = send
        self._actor = NOBODY
        self._reading = False
        self._asked = ""  # the site of the read under way
        self.snapshot: PlanningSnapshot | None = None
        self.base: Forecast | None = None  # the forecast without the form's plan
        self.fit: Fit | None = None
        self.bars: list[GanttBar] = []  # what the time line shows

        self.site = QComboBox()
        self.site.setObjectName("planningSite")
        for site in project.sites:
            self.site.addItem(site.name or site.id, site.id)
        self.site.currentIndexChanged.connect(self._site_changed)
        self.bays = site_bays(project, self.site_id)
        self.feeders = self._feeders()

        self.gantt = calm_plot("planningGantt", min_height=320, time_axis=True)
        self.gantt.getPlotItem().invertY(True)
        self.gantt.getPlotItem().setLabel("bottom", "")
        self.load_plot = calm_plot("planningLoad", min_height=200, time_axis=True)
        self.load_plot.setXLink(self.gantt)
        self.load_plot.getPlotItem().setLabel("left", "kW")
        self._gantt_items: list[pg.GraphicsObject] = []
        load_pen, load_fill = calm_pen(Palette.BAR_FILL, 1.5), pg.mkBrush(Palette.SUSPENDED_FILL)
        plan_pen = calm_pen(Palette.TEXT, 2.0)
        limit_pen = calm_pen(Palette.TEXT, 2.0, Qt.PenStyle.DashLine)
        self.load_line = self.load_plot.plot([], [], pen=load_pen, fillLevel=0, brush=load_fill)
        self.with_plan_line = self.load_plot.plot([], [], pen=plan_pen)
        self.limit_line = self.load_plot.plot([], [], pen=limit_pen, connect="finite")
        self.load_legend = PlotLegend()
        self.load_legend.set_entries(
            [
                ("Forecast load", load_pen, load_fill),
                ("With the new plan", plan_pen, None),
                ("Site limit", limit_pen, None),
            ]
        )
        self.gantt.getPlotItem().getAxis("left").setWidth(80)
        self.load_plot.getPlotItem().getAxis("left").setWidth(80)
        self.now_lines = [
            pg.InfiniteLine(
                angle=90, pen=calm_pen(Palette.TEXT_SECONDARY, 1.0, Qt.PenStyle.DotLine)
            )
            for _ in range(2)
        ]
        self.gantt.addItem(self.now_lines[0])
        self.load_plot.addItem(self.now_lines[1])

        # the form
        self.badge = QComboBox()
        self.badge.setObjectName("planBadge")
        self.badge.setEditable(True)
        self.badge.addItems([b.id_tag for b in project.badges])
        self.bollard = QComboBox()
        self.bollard.setObjectName("planBollard")
        self.arrival = QDateTimeEdit()
        self.arrival.setObjectName("planArrival")
        self.departure = QDateTimeEdit()
        self.departure.setObjectName("planDeparture")
        for edit in (self.arrival, self.departure):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.energy = DecimalField(0.1, 1000.0, 20.0, 1)
        self.energy.setObjectName("planEnergy")
        self.verdict = role_label("value", "")
        self.verdict.setObjectName("planVerdict")
        self.verdict.setWordWrap(True)
        self.plan_button = QPushButton("Plan this vehicle")
        self.plan_button.setObjectName("planButton")
        self.plan_button.setToolTip("Save the plan: it is kept and drawn on the time line")
        self.plan_button.clicked.connect(self.save_plan)
        self.table_model = PlanTableModel(self)
        self.table = QTableView()
        self.table.setObjectName("plannedSessions")
        self.table.setModel(self.table_model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._show_gates())
        self.cancel_button = QPushButton("Cancel plan")
        self.cancel_button.setObjectName("cancelPlanButton")
        self.cancel_button.setToolTip("Remove the selected plan")
        self.cancel_button.clicked.connect(self.cancel_plan)
        self._gates = PermissionGates(
            {
                self.plan_button: Permission.SMART_CHARGING,
                self.cancel_button: Permission.SMART_CHARGING,
            }
        )
        self.note = role_label("value", "")
        self.note.setObjectName("planningNote")
        self.note.setWordWrap(True)
        self.result = CommandResultLine("No plan saved from this window yet.")

        self.refresher = RefreshWhileShown(self, self.refresh, refresh_ms)

        form = QFormLayout()
        form.addRow("Badge", self.badge)
        form.addRow("Bollard", self.bollard)
        form.addRow("Arrival", self.arrival)
        form.addRow("Departure", self.departure)
        form.addRow("Energy (kWh)", self.energy)
        side = QVBoxLayout()
        side.addWidget(role_label("section", "Plan a vehicle"))
        side.addLayout(form)
        side.addWidget(self.verdict)
        side.addWidget(self.plan_button)
        side.addWidget(role_label("section", "Planned sessions"))
        side.addWidget(self.table, 1)
        side.addWidget(self.cancel_button)
        panel = QWidget()
        panel.setLayout(side)
        panel.setMinimumWidth(560)
        load = QWidget()
        load_box = QVBoxLayout(load)
        load_box.setContentsMargins(0, 0, 0, 0)
        load_box.addWidget(self.load_legend)
        load_box.addWidget(self.load_plot, 1)
        charts = QSplitter(Qt.Orientation.Vertical)
        charts.addWidget(self.gantt)
        charts.addWidget(load)
        charts.setStretchFactor(0, 3)
        charts.setStretchFactor(1, 2)
        body = QSplitter(Qt.Orientation.Horizontal)
        body.addWidget(charts)
        body.addWidget(panel)
        body.setStretchFactor(0, 1)
        top = QHBoxLayout()
        self.site_caption = role_label("caption", "Site")
        top.addWidget(self.site_caption)
        top.addWidget(self.site)
        top.addWidget(self.note, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(body, 1)
        layout.addWidget(self.result)
        several = len(project.sites) > 1
        self.site.setVisible(several)
        self.site_caption.setVisible(several)

        self._fill_bollards()
        self._set_form_times(utcnow())
        for signal in (
            self.badge.currentTextChanged,
            self.bollard.currentIndexChanged,
            self.arrival.dateTimeChanged,
            self.departure.dateTimeChanged,
            self.energy.textChanged,
        ):
            signal.connect(self.check)
        self._set_rows()
        self.check()

    @property
    def site_id(self) -> str:
        site = self.site.currentData()
        return site if isinstance(site, str) else ""

    def _fill_bollards(self) -> None:
        self.bollard.blockSignals(True)
        self.bollard.clear()
        self.bollard.addItem(ANY_BOLLARD, None)
        for charger_id in dict.fromkeys(b.charger_id for b in self.bays):
            self.bollard.addItem(charger_id, charger_id)
        self.bollard.blockSignals(False)

    def _set_form_times(self, now: datetime) -> None:
        """Arrival at the next full hour, departure four hours later."""
        arrival = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        self.arrival.setDateTime(_qt(arrival))
        self.departure.setDateTime(_qt(arrival + timedelta(hours=4)))

    def _feeders(self) -> list[Feeder]:
        """The site's groups with a limit, which a plan must fit under too."""
        limit = project_limit(self._project, self.site_id)
        return site_feeders(self._project, self.site_id, limit)

    def _site_changed(self) -> None:
        self.bays = site_bays(self._project, self.site_id)
        self.feeders = self._feeders()
        self._fill_bollards()
        self.snapshot = None
        self._set_rows()
        self.refresh()

    # ---- reading

    def refresh(self) -> None:
        if self._reading or not self.site_id:
            return
        self._reading = True
        self._asked = self.site_id
        self._source.snapshot(self.site_id, self._on_snapshot, self._on_failed)

    def _on_snapshot(self, snapshot: PlanningSnapshot) -> None:
        self._reading = False
        if self._asked != self.site_id:  # another site was chosen meanwhile
            self.refresh()
            return
        self.show_snapshot(snapshot)

    def _on_failed(self, reason: str) -> None:
        self._reading = False
        self.note.setText(f"Could not read the site: {reason}")
        set_emphasis(self.note, Emphasis.NOTABLE)

    def show_snapshot(self, snapshot: PlanningSnapshot) -> None:
        self.snapshot = snapshot
        self.note.setText(snapshot.note)
        set_emphasis(self.note, Emphasis.NOTABLE if snapshot.note else Emphasis.NORMAL)
        self.base = forecast(
            snapshot.limit,
            loads(*arrived(snapshot.running, snapshot.plans, snapshot.now), snapshot.now),
            snapshot.now,
            snapshot.now + HORIZON,
        )
        self.table_model.set_plans(snapshot.plans)
        start = snapshot.now.timestamp()
        self.gantt.setXRange(start, start + HORIZON.total_seconds(), padding=0.01)
        for line in self.now_lines:
            line.setValue(start)
        self.check()

    # ---- the form

    def request(self) -> PlanRequest | None:
        energy = self.energy.value()
        badge = self.badge.currentText().strip()
        if energy is None or not badge:
            return None
        charger = self.bollard.currentData()
        return PlanRequest(
            self.site_id,
            badge,
            charger if isinstance(charger, str) else None,
            _utc(self.arrival.dateTime()),
            _utc(self.departure.dateTime()),
            energy,
        )

    def check(self) -> Fit | None:
        """Check the form's plan against the last snapshot and show the answer."""
        snapshot = self.snapshot
        request = self.request()
        if snapshot is None:
            self.fit = None
            self._show_verdict("Reading the site…", Emphasis.NORMAL)
        elif request is None:
            self.fit = None
            self._show_verdict("Give a badge and the energy to deliver.", Emphasis.NORMAL)
        else:
            self.fit = check_plan(
                request,
                self.bays,
                snapshot.running,
                snapshot.plans,
                snapshot.limit,
                snapshot.now,
                self.feeders,
            )
            reason = self.fit.reason
            verdict = (
                reason[:1].upper() + reason[1:] if self.fit.fits else f"Does not fit: {reason}"
            )
            self._show_verdict(verdict, Emphasis.NORMAL if self.fit.fits else Emphasis.NOTABLE)
        self._draw()
        self._show_gates()
        return self.fit

    def _show_verdict(self, text: str, emphasis: Emphasis) -> None:
        self.verdict.setText(text)
        set_emphasis(self.verdict, emphasis)

    # ---- drawing

    def _set_rows(self) -> None:
        axis = self.gantt.getPlotItem().getAxis("left")
        axis.setTicks([[(i, bay.label) for i, bay in enumerate(self.bays)]])
        self.gantt.setYRange(-0.6, max(len(self.bays), 1) - 0.4, padding=0)

    def _draw(self) -> None:
        for item in self._gantt_items:
            self.gantt.removeItem(item)
        self._gantt_items = []
        self.bars = []
        snapshot = self.snapshot
        if snapshot is None:
            for line in (self.load_line, self.with_plan_line, self.limit_line):
                line.setData([], [])
            return
        candidate = self.fit.plan if self.fit is not None else None
        running, plans = arrived(snapshot.running, snapshot.plans, snapshot.now)
        self.bars = gantt_bars(self.bays, running, plans, candidate, snapshot.now)
        for kind in BarKind:
            self._add_bars([b for b in self.bars if b.kind is kind], kind)
        if self.base is not None:
            xs, load, limit = load_steps(self.base)
            self.load_line.setData(xs, load)
            self.limit_line.setData(xs, limit)
        after = self.fit.forecast if self.fit is not None else None
        if after is not None:
            xs, load, _ = load_steps(after)
            self.with_plan_line.setData(xs, load)
        else:
            self.with_plan_line.setData([], [])

    def _add_bars(self, bars: list[GanttBar], kind: BarKind) -> None:
        if not bars:
            return
        styles = {
            BarKind.RUNNING: (pg.mkBrush(Palette.BAR_FILL), calm_pen(Palette.BAR_FILL, 1.0)),
            BarKind.PLANNED: (pg.mkBrush(Palette.SUSPENDED_FILL), calm_pen(Palette.TEXT, 1.0)),
            BarKind.CANDIDATE: (
                pg.mkBrush(Palette.TILE_HOVER),
                calm_pen(Palette.TEXT, 2.0, Qt.PenStyle.DashLine),
            ),
        }
        brush, pen = styles[kind]
        item = pg.BarGraphItem(
            x0=[b.start.timestamp() for b in bars],
            width=[(b.end - b.start).total_seconds() for b in bars],
            y0=[b.row - _ROW_HEIGHT / 2 for b in bars],
            height=_ROW_HEIGHT,
            brush=brush,
            pen=pen,
        )
        self.gantt.addItem(item)
        self._gantt_items.append(item)
        for bar in bars:
            if not bar.label:
                continue
            # a running bar is dark: its badge is written after it
            at = bar.end if kind is BarKind.RUNNING else bar.start
            label = pg.TextItem(bar.label, color=Palette.TEXT, anchor=(0, 0.5))
            label.setPos(at.timestamp(), bar.row)
            self.gantt.addItem(label)
            self._gantt_items.append(label)

    # ---- commands

    def set_actor(self, actor: Actor) -> None:
        self._actor = actor
        self._show_gates()

    def _show_gates(self) -> None:
        fits = self.fit is not None and self.fit.fits
        self._gates.show(
            self._actor,
            {
                self.plan_button: fits,
                self.cancel_button: self.selected_plan() is not None,
            },
        )

    def selected_plan(self) -> PlannedSession | None:
        rows = self.table.selectionModel().selectedRows()
        return self.table_model.plans[rows[0].row()] if rows else None

    def save_plan(self) -> None:
        fit = self.fit
        if fit is None or not fit.fits or fit.plan is None:
            return
        plan = fit.plan
        self._submit(
            f"Plan {plan.badge} on {plan.bay_label}",
            PlanSession(
                charger_id=plan.charger_id,
                site_id=plan.site_id,
                connector_id=plan.connector_id,
                badge=plan.badge,
                arrival=plan.arrival,
                departure=plan.departure,
                energy_kwh=plan.energy_kwh,
                max_kw=plan.max_kw,
            ),
        )

    def cancel_plan(self) -> None:
        plan = self.selected_plan()
        if plan is not None:
            self._submit(
                f"Cancel plan {plan.id} ({plan.badge} on {plan.bay_label})",
                CancelPlannedSession(plan_id=plan.id),
            )

    def _submit(self, action: str, command: Command) -> None:
        answered = self.result.track(action)

        def on_result(result: CommandResult) -> None:
            answered(result)
            if result.ok:
                self.refresh()

        self._send(command, on_result)
