"""The maintenance window on a real engine: simulated bollards over loopback WebSockets,
read through a real EngineBridge; set EVSUPER_SCREENSHOTS=DIR to keep a PNG per tab."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from evsuper.core.domain import CommState
from evsuper.drivers.ocpp.session_log import Direction
from evsuper.engine.commands import Command, TriggerableMessage
from evsuper.engine.runtime import Engine, EngineThread
from evsuper.hmi.bridge import EngineBridge, ResultCallback
from evsuper.hmi.dialogs.charger_maintenance import ChargerMaintenanceWindow
from evsuper.hmi.main_window import MainWindow
from evsuper.users.permissions import Actor, Role

MAINTAINER = Actor("maintenance-test", Role.MAINTENANCE)


@pytest.fixture
def live(qtbot: Any, themed_app: Any, make_project: Any) -> Iterator[MainWindow]:
    """The main window on a running engine; its commands are sent as a maintainer's."""
    engine_thread = EngineThread(Engine(make_project(bollards=2), ocpp_port=0))
    engine_thread.start()
    bridge = EngineBridge(engine_thread)

    def send(command: Command, callback: ResultCallback) -> None:
        bridge.execute(replace(command, actor=MAINTAINER), callback)

    try:
        window = MainWindow(engine_thread.engine.project, send, read=bridge.fetch)
        bridge.tagsChanged.connect(window.apply_tags)
        qtbot.addWidget(window)
        window.show()
        yield window
    finally:
        bridge.close()
        engine_thread.stop()


def shoot(widget: ChargerMaintenanceWindow, name: str) -> None:
    shots = os.environ.get("EVSUPER_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(shots) / f"maint_{name}.png"))


def log_has(window: ChargerMaintenanceWindow, action: str, direction: Direction) -> bool:
    model = window.frames
    return any(
        model.row(r).action == action
        and model.row(r).message_type == "CALL"
        and model.row(r).record.direction is direction
        for r in range(model.rowCount())
    )


def test_maintenance_window_on_a_real_engine(qtbot: Any, live: MainWindow) -> None:
    main = live
    qtbot.waitUntil(
        lambda: (s := main.model.state("CP-001")) is not None and s.comm is CommState.ONLINE,
        timeout=15000,
    )
    main.show_faceplate("CP-001")
    main.faceplate.set_actor(MAINTAINER)
    button = main.faceplate.findChild(QPushButton, "maintenance_window")
    assert button is not None
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    window = main.faceplate.maintenance("CP-001")
    assert window is not None
    window.resize(1000, 700)

    # Identity and connection: from the tags, security profile from the engine.
    qtbot.waitUntil(lambda: window.info["remote"].text().startswith("127.0.0.1"), timeout=15000)
    qtbot.waitUntil(lambda: window.info["frames_received"].text() not in ("—", "0"))
    assert window.info["vendor"].text() != "—"
    qtbot.waitUntil(lambda: window.info["security"].text().startswith("0 "))
    shoot(window, "identity")

    # Message log: the boot is in it (asked again, the ring keeps only the last frames).
    window.tabs.setCurrentIndex(1)
    qtbot.mouseClick(
        window.trigger_buttons[TriggerableMessage.BOOT_NOTIFICATION], Qt.MouseButton.LeftButton
    )
    qtbot.waitUntil(
        lambda: (
            log_has(window, "TriggerMessage", Direction.SENT)
            and log_has(window, "BootNotification", Direction.RECEIVED)
        ),
        timeout=15000,
    )
    window.filter_text.setText("BootNotification")
    window.log_table.selectRow(window.frame_filter.rowCount() - 1)
    assert "BootNotification" in window.detail.toPlainText()
    shoot(window, "log")

    # Charging profiles: a TxDefaultProfile of 10 A on connector 1, accepted and listed.
    window.tabs.setCurrentIndex(2)
    qtbot.waitUntil(window.set_profile.isEnabled)
    qtbot.mouseClick(window.set_profile, Qt.MouseButton.LeftButton)
    dialog = window.profile_dialog
    assert dialog is not None
    _, limit, _ = dialog.period_widgets(0)
    limit.setValue(10.0)
    qtbot.mouseClick(dialog.confirm, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.profile_table.rowCount() == 1, timeout=15000)
    assert "Accepted" in window.result_line.text()
    assert window.profile_table.item(0, 2).text() == "TxDefaultProfile"
    assert window.profile_table.item(0, 8).text() == "0: 10 A"

    # Composite schedule of connector 1: the charger's and evsuper's, both drawn, agreeing.
    window.composite_connector.setCurrentIndex(1)
    qtbot.mouseClick(window.get_composite, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.chart.last_verdict is not None, timeout=15000)
    theirs = window.chart.charger_line.getData()
    ours = window.chart.expected_line.getData()
    assert len(theirs[0]) >= 2 and len(ours[0]) >= 2
    assert set(theirs[1]) == {10.0} and set(ours[1]) == {10.0}
    verdict = window.chart.last_verdict
    assert verdict is not None and verdict.match, verdict
    shoot(window, "profiles")
