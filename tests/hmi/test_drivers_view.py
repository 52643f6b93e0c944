"""The drivers view: devices from a status source, the OCPP line, enable / disable, and
an OPC UA device browsed (a real simulator) and its nodes bound."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from support import ADMIN

from evsuper.core.domain import CommState
from evsuper.core.tags import Sample
from evsuper.drivers.base import DeviceSettings, DeviceStatus, LinkState
from evsuper.drivers.opcua.simulator import OpcUaSimulator, node_id
from evsuper.engine.commands import (
    BindOpcUaPoints,
    CommandResult,
    CommandRouter,
    Outcome,
    PointBinding,
    SetDeviceEnabled,
)
from evsuper.engine.device_points_target import DevicePointsTarget
from evsuper.engine.runtime import Engine, EngineThread
from evsuper.hmi.bridge import EngineBridge, ReadFailed
from evsuper.hmi.main_window import MainWindow
from evsuper.hmi.models.drivers import (
    CENTRAL_NAME,
    Column,
    DriverStatuses,
    engine_driver_source,
)
from evsuper.hmi.models.overview import OverviewModel
from evsuper.hmi.session import Session
from evsuper.hmi.views.drivers import NO_DRIVERS, DriversView
from evsuper.project.loader import load_project
from evsuper.project.model import Project
from evsuper.users.permissions import Actor, Role
from hmi.conftest import admin_session
from hmi.sender import Sender
from hmi.test_opcua_browse import LoopSubmit, expand

SINCE = datetime(2026, 11, 22, 7, 30, tzinfo=UTC)


@dataclass
class Devices:
    """A status source as the engine's drivers answer it; counts the reads."""

    statuses: DriverStatuses | None = field(default_factory=dict)
    reads: int = 0

    def __call__(
        self, callback: Callable[[DriverStatuses | None], None], failed: ReadFailed
    ) -> None:
        self.reads += 1
        callback(self.statuses)


def site_devices() -> DriverStatuses:
    return {
        "site-meter": (
            "modbus",
            DeviceStatus(
                LinkState.CONNECTED, requests=1200, errors=2, connected_since=SINCE, connects=1
            ),
        ),
        "building": (
            "opc.tcp",
            DeviceStatus(
                LinkState.WAITING,
                requests=40,
                errors=7,
                last_error="ConnectionRefusedError: [Errno 111] Connection refused",
                next_retry_s=8.0,
            ),
        ),
        "pv": ("modbus", DeviceStatus(LinkState.DISABLED, requests=10)),
    }


def text(view: DriversView, row: int, column: Column) -> str:
    return str(view.model.index(row, column).data())


@pytest.fixture
def overview(qapp: Any, project: Project, batch: Any) -> OverviewModel:
    model = OverviewModel(project)
    batch.online("CP-001").online("CP-002").charger("CP-003", comm=CommState.OFFLINE)
    model.apply(batch.samples)
    return model


@pytest.fixture
def devices() -> Devices:
    return Devices(site_devices())


@pytest.fixture
def view(qtbot: Any, themed_app: Any, devices: Devices, sender: Sender, overview: OverviewModel):
    view = DriversView(devices, sender, overview)
    view.set_actor(ADMIN)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_every_device_and_the_central_system_are_listed(view: DriversView) -> None:
    assert view.model.rowCount() == 4
    assert text(view, 0, Column.DEVICE) == CENTRAL_NAME
    assert text(view, 0, Column.STATE) == "✕ 2 / 12 chargers online"  # 10 not seen or offline
    assert [text(view, row, Column.DEVICE) for row in (1, 2, 3)] == [
        "building",
        "pv",
        "site-meter",
    ]
    assert text(view, 1, Column.STATE) == "✕ No connection, retrying"
    assert text(view, 1, Column.NEXT_RETRY) == "in 8 s"
    assert text(view, 1, Column.ERRORS) == "7"
    assert text(view, 1, Column.LAST_ERROR).startswith("ConnectionRefusedError")
    assert view.model.index(1, Column.STATE).data(Qt.ItemDataRole.FontRole).bold()
    assert text(view, 2, Column.STATE) == "— Disabled"
    assert text(view, 3, Column.STATE) == "Connected"  # normal: no marker, plain
    assert text(view, 3, Column.SINCE) != "—"
    assert text(view, 3, Column.REQUESTS) == "1\u202f200"
    assert text(view, 3, Column.NEXT_RETRY) == "—"
    view.grab().save("/tmp/drivers_view.png")


def test_statuses_are_read_every_two_seconds_while_shown(
    qtbot: Any, view: DriversView, devices: Devices
) -> None:
    assert devices.reads == 1  # when shown
    assert view.refresher.isActive() and view.refresher.interval() == 2000
    statuses = site_devices()
    statuses["building"] = ("opc.tcp", DeviceStatus(LinkState.CONNECTED, connected_since=SINCE))
    devices.statuses = statuses
    view.refresher.timeout.emit()
    assert devices.reads == 2
    assert text(view, 1, Column.STATE) == "Connected"
    view.hide()
    assert not view.refresher.isActive()


def test_a_new_device_is_added_and_the_selection_kept(view: DriversView, devices: Devices) -> None:
    view.table.selectRow(3)  # site-meter
    statuses = site_devices()
    statuses["a-gateway"] = ("modbus", DeviceStatus(LinkState.CONNECTING))
    devices.statuses = statuses
    view.refresh()
    assert text(view, 1, Column.DEVICE) == "a-gateway"
    assert text(view, 1, Column.STATE) == "? Connecting…"
    selected = view.table.selectionModel().selectedRows()
    assert [index.row() for index in selected] == [4]


def test_the_central_line_follows_the_chargers(view: DriversView, overview: OverviewModel) -> None:
    overview.apply({f"CP-{n:03}/comm": Sample(CommState.ONLINE) for n in range(1, 13)})
    overview.apply({"CP-001/frames_received": Sample(120), "CP-002/callerrors_sent": Sample(3)})
    view.refresh()
    assert text(view, 0, Column.STATE) == "12 / 12 chargers online"
    assert text(view, 0, Column.REQUESTS) == "120"
    assert text(view, 0, Column.ERRORS) == "3"


def test_no_drivers_configured(qtbot: Any, themed_app: Any, sender: Sender) -> None:
    view = DriversView(Devices(None), sender)
    qtbot.addWidget(view)
    view.show()
    assert view.note.text() == NO_DRIVERS
    assert view.model.rowCount() == 1  # the central system only


def test_disable_is_confirmed_sent_and_answered(
    qtbot: Any, view: DriversView, devices: Devices, sender: Sender, session: Session
) -> None:
    questions: list[str] = []

    def confirm(question: str) -> bool:
        questions.append(question)
        return True

    view._send = session.command_sender(sender, confirm)
    view.table.selectRow(3)  # site-meter, connected
    assert view.disable.isEnabled() and not view.enable.isEnabled()
    qtbot.mouseClick(view.disable, Qt.MouseButton.LeftButton)
    command = sender.last
    assert isinstance(command, SetDeviceEnabled)
    assert (command.device, command.enabled, command.confirmed) == ("site-meter", False, True)
    assert questions == ["Stop communicating with site-meter? Its values go not-connected."]
    assert "waiting for the answer" in view.result.text()
    reads = devices.reads
    sender.answer(CommandResult(Outcome.ACCEPTED, "Accepted"))
    assert "Disable site-meter: Accepted" in view.result.text()
    assert devices.reads == reads + 1  # read again at once

    view.table.selectRow(2)  # pv, disabled
    assert view.enable.isEnabled() and not view.disable.isEnabled()
    qtbot.mouseClick(view.enable, Qt.MouseButton.LeftButton)
    assert sender.last == SetDeviceEnabled(
        device="pv", enabled=True, actor=sender.last.actor, issued_at=sender.last.issued_at
    )
    assert len(questions) == 1  # enabling asks nothing


def test_buttons_need_the_permission(view: DriversView) -> None:
    view.set_actor(Actor("op", Role.OPERATOR))
    view.table.selectRow(3)
    assert not view.disable.isEnabled()
    assert "edit" in view.disable.toolTip().lower()


@pytest.fixture
def engine_thread(make_project: Any) -> Iterator[EngineThread]:
    thread = EngineThread(Engine(make_project(bollards=1), ocpp_port=0))
    thread.start()
    yield thread
    thread.stop()


def test_the_engine_adapter_reads_on_the_engine_thread(
    qtbot: Any, themed_app: Any, engine_thread: EngineThread, sender: Sender
) -> None:
    bridge = EngineBridge(engine_thread)
    try:
        view = DriversView(engine_driver_source(bridge.fetch), sender)
        qtbot.addWidget(view)
        view.show()
        qtbot.waitUntil(lambda: view.model.configured is not None, timeout=5000)
        assert view.note.text() == NO_DRIVERS  # a project without devices
    finally:
        bridge.close()


def test_a_real_sim_device_is_disabled_written_and_browsed(
    qtbot: Any, themed_app: Any, make_project: Any
) -> None:
    """The engine with a ``sim://`` device: the drivers view disables and enables it
    through the router; the tag browser shows its tag go not-connected and writes it."""
    device = DeviceSettings(
        "dso",
        "sim://dso",
        options={"prefix": "DSO", "tags": [{"name": "limit_kw", "value": 100.0}]},
    )
    project = dataclasses.replace(make_project(bollards=1), devices=(device,))
    thread = EngineThread(Engine(project, ocpp_port=0))
    thread.start()
    session = admin_session(qtbot, thread.engine.users)
    bridge = EngineBridge(thread)
    try:
        window = MainWindow(
            project, bridge.execute, read=bridge.fetch, session=session, confirm=lambda q: True
        )
        bridge.tagsChanged.connect(window.apply_tags)
        qtbot.addWidget(window)
        view = window.show_drivers()
        qtbot.waitUntil(lambda: view.model.rowCount() == 2, timeout=5000)
        assert text(view, 1, Column.DEVICE) == "dso" and text(view, 1, Column.STATE) == "Connected"

        browser = window.show_tag_browser()
        qtbot.waitUntil(lambda: browser.model.row_of("DSO/limit_kw") is not None, timeout=5000)
        view.table.selectRow(1)
        qtbot.mouseClick(view.disable, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: text(view, 1, Column.STATE) == "— Disabled", timeout=5000)
        assert "Disable dso: Accepted" in view.result.text()
        row = browser.model.row_of("DSO/limit_kw")
        assert row is not None
        qtbot.waitUntil(lambda: str(browser.model.index(row, 1).data()) == "— 100", timeout=5000)
        qtbot.mouseClick(view.enable, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: text(view, 1, Column.STATE) == "Connected", timeout=5000)

        browser.select("DSO/limit_kw")
        qtbot.waitUntil(browser.write.isEnabled, timeout=5000)
        dialog = browser.open_write()
        assert dialog is not None
        dialog.input.setText("80")
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "Accepted" in browser.result.text(), timeout=5000)
        qtbot.waitUntil(lambda: str(browser.model.index(row, 1).data()) == "80", timeout=5000)
    finally:
        session.close()
        bridge.close()
        thread.stop()


# ---- OPC UA: browse a real server, give tags, send the bind


@pytest.fixture
def engine_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop on its own thread, as the engine's."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="engine-loop", daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


@pytest.fixture
def opcua_server(engine_loop: asyncio.AbstractEventLoop) -> Iterator[OpcUaSimulator]:
    sim = OpcUaSimulator(step_s=0)
    asyncio.run_coroutine_threadsafe(sim.start(), engine_loop).result(10)
    yield sim
    asyncio.run_coroutine_threadsafe(sim.stop(), engine_loop).result(10)


def with_bms(project: Project, url: str) -> Project:
    """``project`` with an OPC UA device ``bms`` at ``url`` in its project.toml."""
    with project.file.open("a", encoding="utf-8") as f:
        f.write(f'\n[[devices]]\nname = "bms"\naddress = "{url}"\n')
        f.write('\n[[devices]]\nname = "dso"\naddress = "sim://dso"\nprefix = "DSO"\n')
        f.write('tags = [{ name = "limit_kw", value = 100.0 }]\n')
    return load_project(project.directory)


def test_an_opc_ua_device_is_browsed_and_its_nodes_bound(
    qtbot: Any,
    themed_app: Any,
    project: Project,
    sender: Sender,
    session: Session,
    engine_loop: asyncio.AbstractEventLoop,
    opcua_server: OpcUaSimulator,
) -> None:
    project = with_bms(project, opcua_server.url)
    questions: list[str] = []

    def confirm(question: str) -> bool:
        questions.append(question)
        return True

    devices = Devices(
        {
            "bms": ("opc.tcp", DeviceStatus(LinkState.CONNECTED, connected_since=SINCE)),
            "dso": ("sim", DeviceStatus(LinkState.CONNECTED, connected_since=SINCE)),
        }
    )
    submit = LoopSubmit(engine_loop).submit
    view = DriversView(
        devices, session.command_sender(sender, confirm), project=project, submit=submit
    )
    view.set_actor(ADMIN)
    qtbot.addWidget(view)
    view.show()
    assert [text(view, row, Column.DEVICE) for row in (1, 2)] == ["bms", "dso"]
    view.table.selectRow(2)  # sim: nothing to browse
    assert not view.browse.isEnabled()
    view.table.selectRow(1)
    assert view.browse.isEnabled()
    view.set_actor(Actor("op", Role.OPERATOR))
    assert not view.browse.isEnabled() and "edit" in view.browse.toolTip().lower()
    view.set_actor(ADMIN)

    qtbot.mouseClick(view.browse, Qt.MouseButton.LeftButton)
    browse = view.browse_dialog
    assert browse is not None and browse.isVisible()
    assert browse.windowTitle().startswith(f"bms — {opcua_server.url}")
    qtbot.waitUntil(lambda: browse.item_for("ns=2;s=Site") is not None, timeout=10000)
    expand(qtbot, browse, "ns=2;s=Site", "ns=2;s=DSO")
    expand(qtbot, browse, "ns=2;s=DSO", node_id("DSO.Limit"))
    expand(qtbot, browse, "ns=2;s=Building", node_id("Building.Load"))
    load, limit = browse.item_for(node_id("Building.Load")), browse.item_for(node_id("DSO.Limit"))
    assert load is not None and limit is not None
    browse.tree.setCurrentIndex(load.index())  # each node made current is read afresh
    qtbot.waitUntil(lambda: browse.detail_labels["value"].text().endswith("kW"))
    selection = browse.tree.selectionModel()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    selection.setCurrentIndex(limit.index(), flags)
    qtbot.waitUntil(lambda: browse.detail_labels["value"].text() == "400 kW")
    assert [(e.node_id, e.unit) for e in browse.picked()] == [
        (node_id("Building.Load"), "kW"),
        (node_id("DSO.Limit"), "kW"),
    ]
    qtbot.mouseClick(browse.bind_button, Qt.MouseButton.LeftButton)

    bind = view.bind_dialog
    assert bind is not None and bind.isVisible()
    assert [edit.text() for edit in bind.tags] == ["bms/load", "bms/limit"]
    assert [box.isChecked() for box in bind.writable] == [False, True]
    assert [box.isEnabled() for box in bind.writable] == [False, True]  # Load is read-only
    assert [unit.text() for unit in bind.units] == ["kW", "kW"]
    assert bind.bind.isEnabled() and bind.bind.text() == "Bind 2 nodes"
    bind.tags[1].setText("bms/load")
    assert not bind.bind.isEnabled() and "same tag" in bind.problem.text()
    bind.tags[1].setText("bms/dso_limit")
    bind.tags[0].setText("bms/building_load_kw")
    bind.sampling[0].setValue(500)
    bind.deadbands[0].setValue(0.5)
    assert bind.bind.isEnabled() and bind.problem.text() == ""
    bind.grab().save("/tmp/opcua_bind.png")
    qtbot.mouseClick(bind.bind, Qt.MouseButton.LeftButton)

    command = sender.last
    assert isinstance(command, BindOpcUaPoints)
    assert (command.device, command.confirmed, command.actor.user) == ("bms", True, ADMIN.user)
    assert command.points == (
        PointBinding("bms/building_load_kw", node_id("Building.Load"), 500.0, 0.5, False, "kW"),
        PointBinding("bms/dso_limit", node_id("DSO.Limit"), 1000.0, 0.0, True, "kW"),
    )
    assert questions == [command.confirmation()]
    assert "next start" in questions[0]
    assert "Bind 2 nodes to bms: sent" in view.result.text()

    # the engine's target writes them; its answer comes back to the view
    router = CommandRouter()
    router.add_target(DevicePointsTarget(project.directory))
    result = asyncio.run_coroutine_threadsafe(router.execute(command), engine_loop).result(10)
    sender.answer(result)
    assert "Bind 2 nodes to bms: Accepted (Saved)" in view.result.text()
    assert "apply at the next start" in view.result.text()
    bms = next(d for d in load_project(project.directory).devices if d.name == "bms")
    assert [p["tag"] for p in bms.options["points"]] == ["bms/building_load_kw", "bms/dso_limit"]


def test_a_simulated_opc_ua_device_is_browsed_where_the_engine_serves_it(
    qtbot: Any, themed_app: Any, make_project: Any
) -> None:
    """From the main window with a real engine: a ``simulate = true`` device is browsed
    on the driver's own simulator, not at the project's address."""
    device = DeviceSettings(
        "building", "opc.tcp://192.0.2.1:4840/nowhere", options={"simulate": True}
    )
    project = dataclasses.replace(make_project(bollards=1), devices=(device,))
    thread = EngineThread(Engine(project, ocpp_port=0, run_simulator=True))
    thread.start()
    session = admin_session(qtbot, thread.engine.users)
    bridge = EngineBridge(thread)
    try:
        window = MainWindow(
            project,
            bridge.execute,
            read=bridge.fetch,
            session=session,
            confirm=lambda q: True,
            submit=thread.submit,
        )
        qtbot.addWidget(window)
        view = window.show_drivers()
        qtbot.waitUntil(lambda: view.model.rowCount() == 2, timeout=5000)
        view.table.selectRow(1)
        assert view.browse.isEnabled()
        qtbot.mouseClick(view.browse, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: view.browse_dialog is not None, timeout=5000)
        browse = view.browse_dialog
        assert browse is not None
        assert "127.0.0.1" in browse.windowTitle()
        qtbot.waitUntil(lambda: browse.item_for("ns=2;s=Site") is not None, timeout=10000)
        browse.reject()
    finally:
        session.close()
        bridge.close()
        thread.stop()
