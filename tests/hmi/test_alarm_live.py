"""End to end: a simulated bollard faults, the alarm reaches the viewer, a maintenance user
acknowledges it with a comment, the journal has it, the bollard recovers and the alarm
leaves the list; communication loss suppresses the bollard's fault alarms."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt

from evsuper.alarms.journal import JournalFilter, query_journal
from evsuper.alarms.model import AlarmState, Transition
from evsuper.core.domain import ConnectorStatus
from evsuper.engine.runtime import Engine, EngineThread
from evsuper.hmi.bridge import EngineBridge
from evsuper.hmi.main_window import MainWindow
from evsuper.hmi.session import Session
from evsuper.project.model import AlarmSetting
from evsuper.users.permissions import ENGINE, Role
from evsuper.users.store import Authenticator
from hmi.conftest import TEST_PASSWORD, log_in


@pytest.fixture
def live(
    qtbot: Any, themed_app: Any, make_project: Any
) -> Iterator[tuple[EngineThread, MainWindow]]:
    project = dataclasses.replace(
        make_project(bollards=2), alarms=(AlarmSetting(id="comm-lost", on_delay_s=0.0),)
    )
    engine_thread = EngineThread(Engine(project, ocpp_port=0))
    engine_thread.start()
    users = engine_thread.engine.users
    users.add("max", Role.MAINTENANCE, TEST_PASSWORD, by=ENGINE)
    session = log_in(qtbot, Session(Authenticator(users)), "max")  # before the first batch
    bridge = EngineBridge(engine_thread)
    try:
        window = MainWindow(project, bridge.execute, session=session, confirm=lambda q: True)
        bridge.tagsChanged.connect(window.apply_tags)
        qtbot.addWidget(window)
        window.show()
        yield engine_thread, window
    finally:
        session.close()
        bridge.close()
        engine_thread.stop()


def connector_status(window: MainWindow, charger_id: str, n: int) -> ConnectorStatus | None:
    state = window.model.state(charger_id)
    connector = state.connector(n) if state is not None else None
    return connector.status if connector is not None else None


def test_fault_acknowledge_recover_and_suppression(
    qtbot: Any, live: tuple[EngineThread, MainWindow]
) -> None:
    engine_thread, window = live
    engine = engine_thread.engine
    assert engine.simulator is not None
    bollard = engine.simulator.bollards["CP-001"]
    qtbot.waitUntil(
        lambda: connector_status(window, "CP-001", 1) is ConnectorStatus.AVAILABLE, timeout=15000
    )

    code = engine_thread.call(lambda: bollard.break_down(1))
    key = f"connector-faulted:CP-001/C1/{code}"
    qtbot.waitUntil(lambda: window.alarms.record(key) is not None, timeout=10000)
    record = window.alarms.record(key)
    assert record is not None and record.state is AlarmState.UNACKNOWLEDGED
    qtbot.waitUntil(lambda: window.alarm_banner.isVisible())
    qtbot.waitUntil(lambda: (s := window.model.state("CP-001")) is not None and s.alarm is not None)

    # The maintenance user selects it in the alarm list and acknowledges with a comment.
    window.alarms_button.click()
    alarm_list = window.alarm_list
    qtbot.waitUntil(alarm_list.isVisible)
    alarm_list.select_keys([key])
    alarm_list.comment.setText("technician on site")
    qtbot.mouseClick(alarm_list.acknowledge, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: (r := window.alarms.record(key)) is not None and r.state is AlarmState.ACKNOWLEDGED,
        timeout=10000,
    )
    acknowledged = query_journal(
        engine.archive.engine, JournalFilter(transitions=frozenset({Transition.ACKNOWLEDGED}))
    )
    assert [(e.key, e.user, e.comment) for e in acknowledged] == [
        (key, "max", "technician on site")
    ]
    assert "Accepted" in alarm_list.result.text()

    # The bollard recovers: the alarm returns to normal and leaves the list.
    engine_thread.call(lambda: bollard.repair(1))
    qtbot.waitUntil(lambda: window.alarms.record(key) is None, timeout=10000)
    qtbot.waitUntil(lambda: (s := window.model.state("CP-001")) is not None and s.alarm is None)

    # It faults again, then its communication is lost: the fault alarm is suppressed.
    code = engine_thread.call(lambda: bollard.break_down(2))
    key2 = f"connector-faulted:CP-001/C2/{code}"
    qtbot.waitUntil(lambda: window.alarms.record(key2) is not None, timeout=10000)
    engine_thread.call(bollard.abort)
    qtbot.waitUntil(
        lambda: (r := window.alarms.record(key2)) is not None and r.state is AlarmState.SUPPRESSED,
        timeout=10000,
    )
    comm = window.alarms.record("comm-lost:CP-001")  # the bollard may be back already
    assert comm is not None and comm.state.unacknowledged

    def journal() -> list[tuple[str, Transition]]:
        entries = query_journal(engine.archive.engine, JournalFilter(charger_id="CP-001"))
        return [(e.key, e.transition) for e in reversed(entries)]

    qtbot.waitUntil(lambda: len(journal()) >= 4, timeout=5000)  # committed within a second
    transitions = journal()
    assert transitions[:4] == [
        (key, Transition.ACTIVATED),
        (key, Transition.ACKNOWLEDGED),
        (key, Transition.RETURNED),
        (key2, Transition.ACTIVATED),
    ]
