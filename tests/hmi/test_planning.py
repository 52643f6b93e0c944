"""The planning tool: plan a vehicle, see at once whether it fits, save it through the
command to the real planning file, see it on the time line, cancel it."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import QApplication
from support import ADMIN, as_admin

from evsuper.charging.planning import (
    Forecast,
    LoadStep,
    PlannedSession,
    RunningSession,
    SiteLimit,
)
from evsuper.charging.status import SiteChargingStatus
from evsuper.charging.topology import Limit, ScheduleEntry
from evsuper.core.bus import TagBus
from evsuper.core.tags import ConnectorTag, Sample, connector_tag
from evsuper.core.timeutil import utcnow
from evsuper.engine.commands import (
    Command,
    CommandResult,
    CommandRouter,
    PlanSession,
)
from evsuper.engine.planning_target import PLANS_FILE, PlanningTarget
from evsuper.engine.runtime import Engine, EngineThread
from evsuper.hmi.bridge import EngineBridge, ResultCallback
from evsuper.hmi.main_window import MainWindow
from evsuper.hmi.models.planning import (
    BarKind,
    GanttBar,
    PlanColumn,
    PlanTableModel,
    gantt_bars,
    load_steps,
    site_bays,
    site_feeders,
)
from evsuper.hmi.views.planning import (
    EnginePlanningSource,
    PlanningSnapshot,
    PlanningView,
    live_limit,
    project_limit,
)
from evsuper.project.model import GroupConfig, LimitScheduleEntry, Project
from evsuper.users.permissions import NOBODY, Actor, Role
from hmi.charging_status import demo_status

NOW = utcnow().replace(second=0, microsecond=0)


def at(hours: float) -> datetime:
    return NOW + timedelta(hours=hours)


class TargetSource:
    """A `PlanningSource` over the real planning target, with the running sessions and the
    limit the test sets."""

    def __init__(self, target: PlanningTarget) -> None:
        self.target = target
        self.running: tuple[RunningSession, ...] = ()
        self.limit = SiteLimit(Limit(kw=50))

    def snapshot(self, site_id: str, done: Callable[[PlanningSnapshot], None], failed: Any) -> None:
        done(PlanningSnapshot(NOW, self.running, self.target.sessions(site_id, NOW), self.limit))


@pytest.fixture
def target(project: Project) -> PlanningTarget:
    return PlanningTarget(project)


@pytest.fixture
def source(target: PlanningTarget) -> TargetSource:
    return TargetSource(target)


@pytest.fixture
def sent() -> list[Command]:
    return []


@pytest.fixture
def view(
    qtbot: Any,
    themed_app: QApplication,
    project: Project,
    target: PlanningTarget,
    source: TargetSource,
    sent: list[Command],
) -> PlanningView:
    router = CommandRouter()
    router.add_target(target)

    def send(command: Command, callback: Callable[[CommandResult], None]) -> None:
        sent.append(command)
        callback(asyncio.run(router.execute(as_admin(command))))

    window = PlanningView(project, source, send)
    qtbot.addWidget(window)
    window.set_actor(ADMIN)
    window.show()
    return window


def fill(
    view: PlanningView, badge: str, bollard: str | None, hours: tuple[float, float], kwh: str
) -> None:
    view.badge.setCurrentText(badge)
    view.bollard.setCurrentIndex(view.bollard.findData(bollard) if bollard else 0)
    view.arrival.setDateTime(QDateTime.fromSecsSinceEpoch(int(at(hours[0]).timestamp())))
    view.departure.setDateTime(QDateTime.fromSecsSinceEpoch(int(at(hours[1]).timestamp())))
    view.energy.setText(kwh)


def clock(ts: datetime) -> str:
    return ts.astimezone().strftime("%H:%M")


def test_a_plan_that_fits_is_saved_to_the_file_and_drawn(
    qtbot: Any, view: PlanningView, project: Project, sent: list[Command]
) -> None:
    fill(view, "BADGE-0005", "CP-003", (2, 6), "44")
    # 44 kWh at 22 kW: two hours
    assert view.verdict.text() == f"Fits on CP-003/1: 44.0 kWh by {clock(at(4))}"
    assert view.plan_button.isEnabled()
    row = next(i for i, b in enumerate(view.bays) if b.label == "CP-003/1")
    assert GanttBar(row, at(2), at(6), "new plan", BarKind.CANDIDATE) in view.bars

    qtbot.mouseClick(view.plan_button, Qt.MouseButton.LeftButton)

    command = sent[-1]
    assert isinstance(command, PlanSession)
    assert (command.charger_id, command.connector_id, command.energy_kwh) == ("CP-003", 1, 44.0)
    saved = json.loads((project.directory / PLANS_FILE).read_text())["plans"]
    assert [(p["badge"], p["charger_id"], p["connector_id"]) for p in saved] == [
        ("BADGE-0005", "CP-003", 1)
    ]
    assert "Planned" in view.result.text()
    [plan] = view.table_model.plans  # read again after the answer
    assert (plan.id, plan.bay_label) == (1, "CP-003/1")
    assert any(b.kind is BarKind.PLANNED and b.row == row for b in view.bars)
    # the same request again takes the bollard's other connector
    assert view.verdict.text() == f"Fits on CP-003/2: 44.0 kWh by {clock(at(4))}"


def test_a_plan_that_does_not_fit_says_why_and_cannot_be_saved(
    view: PlanningView, source: TargetSource
) -> None:
    source.limit = SiteLimit(Limit(kw=22))
    source.running = (RunningSession("CP-001", 1, "BADGE-0001", 22.0, departure=at(6)),)
    view.refresh()
    fill(view, "BADGE-0002", "CP-002", (1, 3), "30")
    # 11 kW each from +1 h to +3 h: 22 kWh of 30
    assert view.verdict.text() == (
        f"Does not fit: the site limit is full from {clock(at(1))} to {clock(at(3))}:"
        f" 8.0 kWh short at departure {clock(at(3))}"
    )
    assert not view.plan_button.isEnabled()
    assert view.with_plan_line.getData()[1] is not None
    assert max(view.with_plan_line.getData()[1]) == 22.0
    fill(view, "BADGE-0002", "CP-002", (1, 2), "120")
    assert view.verdict.text().startswith("Does not fit: needs 120.0 kWh")
    view.energy.setText("")
    assert view.verdict.text() == "Give a badge and the energy to deliver."


def test_a_plan_is_cancelled_through_the_command(
    qtbot: Any, view: PlanningView, target: PlanningTarget, project: Project
) -> None:
    fill(view, "BADGE-0007", None, (1, 4), "20")
    assert view.verdict.text().startswith("Fits on CP-001/1")
    view.plan_button.click()
    assert len(view.table_model.plans) == 1
    assert not view.cancel_button.isEnabled()  # nothing selected
    view.table.selectRow(0)
    assert view.cancel_button.isEnabled()
    qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    assert "Cancelled" in view.result.text()
    assert view.table_model.plans == []
    assert target.sessions() == ()
    assert json.loads((project.directory / PLANS_FILE).read_text())["plans"] == []


def test_a_viewer_sees_whether_it_fits_but_cannot_plan(view: PlanningView) -> None:
    view.set_actor(NOBODY)
    fill(view, "BADGE-0005", "CP-003", (2, 6), "10")
    assert view.verdict.text().startswith("Fits")
    assert not view.plan_button.isEnabled()
    assert "smart-charging" in view.plan_button.toolTip()


def test_the_window_paints(view: PlanningView) -> None:
    fill(view, "BADGE-0005", None, (2, 6), "10")
    assert not view.grab().toImage().isNull()


def test_bays_bars_steps_and_table(project: Project) -> None:
    bays = site_bays(project, "SITE")
    assert len(bays) == 24 and bays[1].label == "CP-001/2" and bays[1].max_kw == 22.0
    running = [RunningSession("CP-001", 2, "B1", 11.0, departure=at(2))]
    plan = PlannedSession(3, "SITE", "B2", "CP-002", 1, at(1), at(4), 20.0, 22.0, "ann")
    assert gantt_bars(bays, running, [plan], None, NOW) == [
        GanttBar(1, NOW, at(2), "B1", BarKind.RUNNING),
        GanttBar(2, at(1), at(4), "B2 20 kWh", BarKind.PLANNED),
    ]
    steps = Forecast((LoadStep(NOW, at(1), 11.0, 50.0), LoadStep(at(1), at(2), 33.0, None)))
    xs, load, limit = load_steps(steps)
    assert xs == [NOW.timestamp(), at(1).timestamp(), at(1).timestamp(), at(2).timestamp()]
    assert load == [11.0, 11.0, 33.0, 33.0]
    assert limit[:2] == [50.0, 50.0] and all(v != v for v in limit[2:])  # NaN: no limit
    table = PlanTableModel()
    table.set_plans([plan])
    assert table.rowCount() == 1
    assert table.data(table.index(0, PlanColumn.BOLLARD)) == "CP-002/1"
    assert table.data(table.index(0, PlanColumn.ENERGY)) == "20.0 kWh"


def test_the_limit_comes_from_the_project_or_from_the_live_override(project: Project) -> None:
    site = dataclasses.replace(
        project.sites[0],
        limit_kw=50.0,
        limit_schedule=(LimitScheduleEntry("07:00", 30.0), LimitScheduleEntry("19:00", 60.0)),
    )
    scheduled = dataclasses.replace(
        project,
        sites=(site,),
        notifications=dataclasses.replace(project.notifications, timezone="Europe/Paris"),
    )
    limit = project_limit(scheduled, "SITE")
    assert limit.schedule == (
        ScheduleEntry(time(7), Limit(kw=30.0)),
        ScheduleEntry(time(19), Limit(kw=60.0)),
    )
    assert limit.at(datetime(2026, 11, 22, 7, 0, tzinfo=UTC)) == 30.0  # 08:00 in Paris
    status = demo_status(limit_source="operator")
    overridden = live_limit(limit, status)
    assert (overridden.static, overridden.schedule) == (Limit(kw=50), ())
    assert live_limit(limit, demo_status()) is limit


class Charging:
    def sites(self) -> list[str]:
        return ["SITE"]

    def status(self, site_id: str) -> SiteChargingStatus:
        return demo_status()


async def test_the_engine_source_reads_sessions_badges_plans_and_limit(
    project: Project, target: PlanningTarget
) -> None:
    router = CommandRouter()
    router.add_target(target)
    plan = await router.execute(
        as_admin(
            PlanSession(
                charger_id="CP-004",
                site_id="SITE",
                connector_id=2,
                badge="BADGE-0009",
                arrival=at(1),
                departure=at(3),
                energy_kwh=10.0,
                max_kw=22.0,
            )
        )
    )
    bus = TagBus()
    bus.publish(connector_tag("CP-001", 1, ConnectorTag.ID_TAG), Sample("BADGE-0003"))
    bus.publish(connector_tag("CP-001", 1, ConnectorTag.ENERGY_KWH), Sample(3.5))
    engine = SimpleNamespace(bus=bus, planning=target, project=project)
    got: list[PlanningSnapshot] = []

    def read(query: Any, callback: Any, failed: Any = None) -> None:
        callback(query(engine))

    source = EnginePlanningSource(read)
    source.snapshot("SITE", got.append, got.append)
    engine.charging = Charging()
    source.snapshot("SITE", got.append, got.append)

    idle, live = got
    assert idle.note.startswith("Smart charging is not running")
    assert idle.running == () and idle.plans == (plan.payload,)
    assert live.note == ""
    assert len(live.running) == 9  # the charging connectors of the demo status
    assert live.running[0].badge == "BADGE-0003" and live.running[1].badge == ""
    assert live.running[0].max_kw == pytest.approx(4.42)
    assert (live.running[0].delivered_kwh, live.running[1].delivered_kwh) == (3.5, 0.0)


MAINTAINER = Actor("maintenance-test", Role.MAINTENANCE)


def test_planning_and_power_management_on_a_real_engine(
    qtbot: Any, themed_app: QApplication, make_project: Any
) -> None:
    """Opened from the main window's Smart charging menu, read through a real bridge; the
    plan is saved by the engine's planning target into the project's file."""
    engine_thread = EngineThread(Engine(make_project(bollards=2), ocpp_port=0))
    engine_thread.start()
    bridge = EngineBridge(engine_thread)

    def send(command: Command, callback: ResultCallback) -> None:
        bridge.execute(dataclasses.replace(command, actor=MAINTAINER), callback)

    try:
        main = MainWindow(engine_thread.engine.project, send, read=bridge.fetch)
        qtbot.addWidget(main)
        entries = [a.text() for a in main.charging_menu.actions()]
        assert {"Power management", "Planning"} <= set(entries)
        planning = main.show_planning()
        assert planning is not None and main.show_planning() is planning
        planning.set_actor(MAINTAINER)
        qtbot.waitUntil(lambda: planning.snapshot is not None, timeout=5000)
        now = utcnow().replace(second=0, microsecond=0)
        planning.badge.setCurrentText("BADGE-0001")
        planning.bollard.setCurrentIndex(planning.bollard.findData("CP-002"))
        planning.arrival.setDateTime(QDateTime.fromSecsSinceEpoch(int(now.timestamp()) + 3600))
        planning.departure.setDateTime(QDateTime.fromSecsSinceEpoch(int(now.timestamp()) + 18000))
        planning.energy.setText("15")
        assert planning.verdict.text().startswith("Fits on CP-002/1")
        planning.plan_button.click()
        qtbot.waitUntil(lambda: len(planning.table_model.plans) == 1, timeout=5000)
        assert engine_thread.engine.planning.sessions()[0].created_by == MAINTAINER.user
        file = engine_thread.engine.project.directory / PLANS_FILE
        assert json.loads(file.read_text())["plans"][0]["charger_id"] == "CP-002"

        power = main.show_power_management()
        assert power is not None and main.show_power_management() is power
        qtbot.waitUntil(lambda: power.status is not None or power.message.text() != "")
    finally:
        bridge.close()
        engine_thread.stop()


def test_an_arrived_plan_is_drawn_as_its_running_session(
    view: PlanningView, source: TargetSource
) -> None:
    fill(view, "BADGE-0004", "CP-002", (0.5, 5), "30")
    view.plan_button.click()
    assert len(view.table_model.plans) == 1
    source.running = (RunningSession("CP-002", 1, "BADGE-0004", 7.0, delivered_kwh=1.0),)
    view.refresh()
    row = next(i for i, b in enumerate(view.bays) if b.label == "CP-002/1")
    assert [b for b in view.bars if b.row == row] == [
        GanttBar(row, NOW, at(5), "BADGE-0004", BarKind.RUNNING)
    ]
    assert len(view.table_model.plans) == 1  # still listed: it may be cancelled


def test_the_form_refuses_a_plan_its_feeder_cannot_carry(
    qtbot: Any, themed_app: QApplication, project: Project, tmp_path: Path
) -> None:
    row_a = GroupConfig("F1", "SITE", name="Row A", limit_kw=22.0)
    chargers = tuple(
        dataclasses.replace(c, group="F1" if c.id in ("CP-001", "CP-002") else "")
        for c in project.chargers
    )
    grouped = dataclasses.replace(project, groups=(row_a,), chargers=chargers)
    source = TargetSource(PlanningTarget(grouped))  # the site: 50 kW
    source.running = (RunningSession("CP-001", 1, "BADGE-0001", 22.0, departure=at(6)),)
    view = PlanningView(grouped, source, lambda command, callback: None)
    qtbot.addWidget(view)
    view.show()
    fill(view, "BADGE-0002", "CP-002", (1, 3), "30")
    # Row A's 22 kW shared from +1 h to +3 h: 22 kWh of 30; the site has room
    assert view.verdict.text() == (
        f"Does not fit: the limit of feeder Row A is full from {clock(at(1))} to"
        f" {clock(at(3))}: 8.0 kWh short at departure {clock(at(3))}"
    )
    fill(view, "BADGE-0002", "CP-003", (1, 3), "30")  # not under Row A
    assert view.verdict.text().startswith("Fits on CP-003/1")
    assert view.grab().save(str(tmp_path / "planning_feeder.png"))


def test_feeders_with_a_limit_and_the_connectors_under_them(project: Project) -> None:
    groups = (
        GroupConfig("F1", "SITE", name="Row A", limit_a=32.0),
        GroupConfig("F2", "SITE", parent="F1", label="board"),  # no limit of its own
        GroupConfig("F3", "SITE", limit_kw=20.0),
    )
    under = {"CP-001": "F2", "CP-002": "F1"}
    chargers = tuple(dataclasses.replace(c, group=under.get(c.id, "")) for c in project.chargers)
    with_groups = dataclasses.replace(project, groups=groups, chargers=chargers)
    feeders = site_feeders(with_groups, "SITE", SiteLimit())
    assert [(f.id, f.name, sorted(f.bays)) for f in feeders] == [
        ("F1", "feeder Row A", ["CP-001/1", "CP-001/2", "CP-002/1", "CP-002/2"]),
        ("F3", "feeder F3", []),
    ]
    assert feeders[0].limit.at(NOW) == pytest.approx(32 * 3 * 0.23)
