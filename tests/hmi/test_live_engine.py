"""The HMI on a real engine: simulated bollards over loopback WebSockets, real archive."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from evsuper.core.domain import CommState, ConnectorStatus
from evsuper.engine.runtime import Engine, EngineThread
from evsuper.hmi.bridge import EngineBridge
from evsuper.hmi.main_window import MainWindow


@pytest.fixture
def live(qtbot: Any, themed_app: Any, make_project: Any) -> Iterator[MainWindow]:
    engine_thread = EngineThread(Engine(make_project(bollards=4), ocpp_port=0))
    engine_thread.start()
    bridge = EngineBridge(engine_thread)
    window = MainWindow(engine_thread.engine.project, bridge.execute)
    bridge.tagsChanged.connect(window.apply_tags)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    yield window
    bridge.close()
    engine_thread.stop()


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
    rect = view.visualRect(window.model.index(1))
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
