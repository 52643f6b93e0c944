"""The HMI on a real engine: simulated bollards over loopback WebSockets, real archive."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from evsuper.core.domain import CommState, ConnectorStatus, RegistrationStatus
from evsuper.drivers.simulator.bollard import SimulatedBollard
from evsuper.engine.runtime import Engine, EngineThread
from evsuper.hmi.bridge import EngineBridge
from evsuper.hmi.main_window import MainWindow
from evsuper.project.loader import load_project
from evsuper.project.model import ChargerConfig, Project, UnknownChargerPolicy
from hmi.config_table import edit_value, value_of
from hmi.conftest import admin_session


@contextmanager
def running(qtbot: Any, project: Project) -> Iterator[tuple[EngineThread, MainWindow]]:
    """The engine on its thread and the main window fed by a bridge, as ``evsuper run``."""
    engine_thread = EngineThread(Engine(project, ocpp_port=0))
    engine_thread.start()
    session = admin_session(qtbot, engine_thread.engine.users)  # before the first tag batch
    bridge = EngineBridge(engine_thread)
    try:
        window = MainWindow(
            engine_thread.engine.project,
            bridge.execute,
            session=session,
            confirm=lambda question: True,
        )
        bridge.tagsChanged.connect(window.apply_tags)
        qtbot.addWidget(window)
        window.resize(1400, 900)
        window.show()
        yield engine_thread, window
    finally:
        session.close()
        bridge.close()
        engine_thread.stop()


@pytest.fixture
def live(qtbot: Any, themed_app: Any, make_project: Any) -> Iterator[MainWindow]:
    with running(qtbot, make_project(bollards=4)) as (_, window):
        yield window


def connector_status(window: MainWindow, charger_id: str, n: int) -> ConnectorStatus | None:
    state = window.model.state(charger_id)
    connector = state.connector(n) if state is not None else None
    return connector.status if connector is not None else None


def test_overview_follows_a_real_simulated_charger(qtbot: Any, live: MainWindow) -> None:
    window = live
    qtbot.waitUntil(lambda: window.model.summary.online == 4, timeout=15000)
    qtbot.waitUntil(
        lambda: connector_status(window, "CP-002", 1) is ConnectorStatus.AVAILABLE, timeout=15000
    )
    state = window.model.state("CP-002")
    assert state is not None and state.comm is CommState.ONLINE

    # The operator opens CP-002's faceplate and starts a session on connector 1.
    view = window.overview
    rect = view.visualRect(view.model().index(1, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(window.faceplate_dock.isVisible)
    start = window.faceplate.findChild(QPushButton, "start_C1")
    assert start is not None and start.isEnabled()
    qtbot.mouseClick(start, Qt.MouseButton.LeftButton)

    # The charger answers, starts charging, and the tile shows power and energy moving.
    qtbot.waitUntil(lambda: "Accepted" in window.faceplate.result.text(), timeout=15000)
    qtbot.waitUntil(
        lambda: connector_status(window, "CP-002", 1) is ConnectorStatus.CHARGING, timeout=15000
    )
    qtbot.waitUntil(lambda: window.model.summary.power_kw > 0, timeout=15000)
    qtbot.waitUntil(
        lambda: (window.model.state("CP-002").connector(1).energy_kwh or 0) > 0,  # type: ignore[union-attr]
        timeout=15000,
    )
    shots = os.environ.get("EVSUPER_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        window.grab().save(str(Path(shots) / "live_overview.png"))

    stop = window.faceplate.findChild(QPushButton, "stop_C1")
    assert stop is not None
    qtbot.waitUntil(stop.isEnabled)
    qtbot.mouseClick(stop, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: (
            connector_status(window, "CP-002", 1)
            in (ConnectorStatus.FINISHING, ConnectorStatus.AVAILABLE)
        ),
        timeout=15000,
    )
    qtbot.waitUntil(lambda: "Remote Stop" in window.faceplate.result.text())


def test_operator_changes_the_configuration_and_clears_the_cache(
    qtbot: Any, live: MainWindow
) -> None:
    window = live
    qtbot.waitUntil(lambda: window.model.summary.online == 4, timeout=15000)
    window.show_faceplate("CP-001")
    faceplate = window.faceplate
    qtbot.mouseClick(faceplate.configuration, Qt.MouseButton.LeftButton)
    dialog = faceplate.configuration_dialog("CP-001")
    assert dialog is not None

    # Opening reads the keys; the operator sets HeartbeatInterval to 120 in the table.
    qtbot.waitUntil(lambda: value_of(dialog, "HeartbeatInterval") is not None, timeout=15000)
    assert value_of(dialog, "HeartbeatInterval") != "120"
    assert value_of(dialog, "NumberOfConnectors") == "2"
    qtbot.waitUntil(dialog.read.isEnabled)
    edit_value(qtbot, dialog, "HeartbeatInterval", "120")
    qtbot.waitUntil(
        lambda: 'Change HeartbeatInterval to "120": Accepted' in dialog.result_line.text(),
        timeout=15000,
    )

    # A new read shows what the charger now holds.
    with qtbot.waitSignal(dialog.model.modelReset, timeout=15000):
        qtbot.mouseClick(dialog.read, Qt.MouseButton.LeftButton)
    assert value_of(dialog, "HeartbeatInterval") == "120"
    assert "Read configuration: Accepted" in dialog.result_line.text()

    qtbot.mouseClick(faceplate.clear_cache, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Clear cache: Accepted" in faceplate.result.text(), timeout=15000)
    shots = os.environ.get("EVSUPER_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        dialog.grab().save(str(Path(shots) / "live_configuration_dialog.png"))
        window.faceplate_dock.grab().save(str(Path(shots) / "live_configuration_faceplate.png"))


def test_operator_reserves_a_connector_and_cancels_the_reservation(
    qtbot: Any, live: MainWindow
) -> None:
    window = live
    qtbot.waitUntil(lambda: window.model.summary.online == 4, timeout=15000)
    qtbot.waitUntil(
        lambda: connector_status(window, "CP-001", 1) is ConnectorStatus.AVAILABLE, timeout=15000
    )
    window.show_faceplate("CP-001")
    faceplate = window.faceplate
    reserve = faceplate.findChild(QPushButton, "reserve_C1")
    cancel = faceplate.findChild(QPushButton, "cancel_reservation_C1")
    assert reserve is not None and cancel is not None
    qtbot.waitUntil(reserve.isEnabled)
    assert not cancel.isEnabled()

    # The operator reserves connector 1 for the faceplate's badge, for the default 30 min.
    qtbot.mouseClick(reserve, Qt.MouseButton.LeftButton)
    dialog = faceplate.reserve_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    shots = os.environ.get("EVSUPER_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        dialog.grab().save(str(Path(shots) / "live_reserve_dialog.png"))
    qtbot.mouseClick(dialog.reserve, Qt.MouseButton.LeftButton)

    def reservation_id() -> int | None:
        state = window.model.state("CP-001")
        connector = state.connector(1) if state is not None else None
        return connector.reservation_id if connector is not None else None

    qtbot.waitUntil(lambda: "Accepted — reservation id" in faceplate.result.text(), timeout=15000)
    qtbot.waitUntil(lambda: reservation_id() is not None, timeout=15000)
    qtbot.waitUntil(
        lambda: connector_status(window, "CP-001", 1) is ConnectorStatus.RESERVED, timeout=15000
    )
    held = reservation_id()
    assert f"reservation id {held}" in faceplate.result.text()
    assert not reserve.isEnabled() and cancel.isEnabled()
    if shots:
        window.faceplate_dock.grab().save(str(Path(shots) / "live_reserve_faceplate.png"))
        window.grab().save(str(Path(shots) / "live_reserve_window.png"))

    # Cancelled, the connector is free again and the id is gone.
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: f"Cancel reservation {held} on C1: Accepted" in faceplate.result.text(),
        timeout=15000,
    )
    qtbot.waitUntil(lambda: reservation_id() is None, timeout=15000)
    qtbot.waitUntil(
        lambda: connector_status(window, "CP-001", 1) is ConnectorStatus.AVAILABLE, timeout=15000
    )
    qtbot.waitUntil(reserve.isEnabled)
    assert not cancel.isEnabled()


def test_operator_sends_the_local_list_and_triggers_a_heartbeat(
    qtbot: Any, themed_app: Any, make_project: Any
) -> None:
    with running(qtbot, make_project(bollards=2, local_list_version=4)) as (_, window):
        qtbot.waitUntil(lambda: window.model.summary.online == 2, timeout=15000)
        window.show_faceplate("CP-002")
        faceplate = window.faceplate
        qtbot.waitUntil(faceplate.check_list_version.isEnabled)

        # The charger's version is unknown until asked; a fresh bollard holds no list.
        assert faceplate.local_list.text() == "charger unknown · project v4"
        qtbot.mouseClick(faceplate.check_list_version, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(
            lambda: "Check local list version: Accepted" in faceplate.result.text(),
            timeout=15000,
        )
        assert "the charger holds no list" in faceplate.result.text()
        qtbot.waitUntil(lambda: faceplate.local_list.text() == "charger no list · project v4")
        assert faceplate.local_list.font().bold()

        # The operator sends the project's badges; the charger now holds the project's version.
        faceplate.send_full_list.trigger()
        qtbot.waitUntil(
            lambda: "Send local list (Full): Accepted" in faceplate.result.text(), timeout=15000
        )
        assert "version 4" in faceplate.result.text()  # the engine's own detail
        qtbot.waitUntil(lambda: faceplate.local_list.text() == "charger v4 · project v4")
        assert not faceplate.local_list.font().bold()
        other = window.model.state("CP-001")
        assert other is not None and other.local_list_version is None

        faceplate.trigger_message.setCurrentText("Heartbeat")
        qtbot.mouseClick(faceplate.trigger, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(
            lambda: "Trigger Heartbeat: Accepted" in faceplate.result.text(), timeout=15000
        )
        shots = os.environ.get("EVSUPER_SCREENSHOTS")
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            window.faceplate_dock.grab().save(str(Path(shots) / "live_local_list_faceplate.png"))


def test_operator_updates_firmware_from_the_engines_own_file_endpoint(
    qtbot: Any, themed_app: Any, make_project: Any
) -> None:
    with running(qtbot, make_project(bollards=1)) as (engine_thread, window):
        files = engine_thread.engine.files
        (files.firmware_dir / "fw-3.0.bin").write_bytes(b"image")
        qtbot.waitUntil(lambda: window.model.summary.online == 1, timeout=15000)
        window.show_faceplate("CP-001")
        faceplate = window.faceplate
        update = faceplate.findChild(QPushButton, "update_firmware")
        assert update is not None
        qtbot.waitUntil(update.isEnabled)
        qtbot.mouseClick(update, Qt.MouseButton.LeftButton)
        dialog = faceplate.firmware_dialog
        assert dialog is not None
        qtbot.waitUntil(dialog.isVisible)
        # the engine's endpoint is proposed; the operator only adds the file name
        assert dialog.location.text() == files.url("firmware/")
        dialog.location.setText(files.firmware_url("fw-3.0.bin"))
        qtbot.mouseClick(dialog.confirm, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "Update firmware" in faceplate.result.text(), timeout=15000)
        qtbot.waitUntil(lambda: faceplate.firmware_status.text() == "Installed", timeout=15000)
        qtbot.waitUntil(
            lambda: (window.model.state("CP-001").firmware or "").startswith("fw-3.0.bin-"),  # type: ignore[union-attr]
            timeout=15000,
        )


@contextmanager
def newcomer(engine_thread: EngineThread, project: Project) -> Iterator[None]:
    """A simulated bollard NEWCOMER, not in the project, connected while the block runs."""
    bollard = SimulatedBollard(
        ChargerConfig("NEWCOMER", connectors=2), project.simulator, project.badges
    )
    url = engine_thread.engine.central.url_for("NEWCOMER")

    async def start() -> asyncio.Task[None]:
        return asyncio.create_task(bollard.run(url), name="test:NEWCOMER")

    task = engine_thread.submit(start()).result(5)

    async def stop() -> None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    try:
        yield
    finally:
        engine_thread.submit(stop()).result(10)


def test_operator_accepts_a_pending_charger(qtbot: Any, themed_app: Any, make_project: Any) -> None:
    # The default 60 s boot retry interval stands: acceptance must trigger the new boot at once.
    project = make_project(bollards=1, unknown_chargers=UnknownChargerPolicy.PENDING)
    with running(qtbot, project) as (engine_thread, window), newcomer(engine_thread, project):
        qtbot.waitUntil(lambda: window.pending.count == 1, timeout=15000)
        qtbot.waitUntil(window.pending_button.isVisible)
        assert window.pending_button.text() == "Pending chargers: 1"
        assert window.model.row_of("NEWCOMER") is None
        assert window.model.summary.total == 1

        qtbot.mouseClick(window.pending_button, Qt.MouseButton.LeftButton)
        dialog = window.pending_dialog
        qtbot.waitUntil(dialog.isVisible)
        state = window.pending.state_at(0)
        assert (state.charger_id, state.vendor) == ("NEWCOMER", "Simulated")
        assert state.registration is RegistrationStatus.PENDING
        shots = os.environ.get("EVSUPER_SCREENSHOTS")
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            window.grab().save(str(Path(shots) / "live_pending_window.png"))
            dialog.grab().save(str(Path(shots) / "live_pending_dialog.png"))
        accept = dialog.accept_button("NEWCOMER")
        assert accept is not None
        qtbot.waitUntil(accept.isEnabled)
        qtbot.mouseClick(accept, Qt.MouseButton.LeftButton)

        qtbot.waitUntil(lambda: "Accepted" in dialog.result_line.text(), timeout=15000)
        qtbot.waitUntil(lambda: window.model.row_of("NEWCOMER") == 1, timeout=15000)
        for n in (1, 2):
            qtbot.waitUntil(
                lambda n=n: connector_status(window, "NEWCOMER", n) is ConnectorStatus.AVAILABLE,
                timeout=15000,
            )
        qtbot.waitUntil(lambda: not window.pending_button.isVisible())
        assert window.pending.count == 0 and dialog.empty.isVisible()
        assert window.model.summary.total == 2
        qtbot.waitUntil(lambda: window.model.summary.online == 2, timeout=15000)
        assert window.overview.visualRect(window.overview.model().index(1, 0)).isValid()
    assert load_project(project.directory).charger("NEWCOMER") is not None
