"""The charger maintenance window: identity from tags, the frame log, charging profiles and
the composite schedule chart, with a recorded sender and a fake engine reader."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox, QPushButton

from evsuper.charging.profiles import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    InstalledProfile,
    RecurrencyKind,
    SchedulePeriod,
)
from evsuper.core.domain import CommState
from evsuper.core.tags import Sample
from evsuper.drivers.ocpp.session_log import Direction, FrameRecord
from evsuper.engine.commands import (
    ClearChargingProfile,
    CommandResult,
    CompositeSchedules,
    GetCompositeSchedule,
    Outcome,
    SetChargingProfile,
    TriggerableMessage,
    TriggerMessage,
)
from evsuper.hmi.dialogs.charger_maintenance import ChargerMaintenanceWindow, periods_summary
from evsuper.hmi.dialogs.charging_profile import ChargingProfileDialog
from evsuper.hmi.models.frame_log import Column, FrameFilter, FrameLogModel, frame_rows
from evsuper.hmi.models.overview import OverviewModel
from evsuper.hmi.widgets.faceplate import Faceplate
from evsuper.hmi.widgets.schedule_chart import ScheduleChart, compare, step_points
from evsuper.project.model import Project, SecurityProfile
from evsuper.users.permissions import NOBODY, Actor, Role
from hmi.conftest import TagBatch
from hmi.sender import Sender

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
MAINTAINER = Actor("maintainer", Role.MAINTENANCE)


def frame(seconds: int, direction: Direction, message: list[Any]) -> FrameRecord:
    return FrameRecord(T0 + timedelta(seconds=seconds), direction, json.dumps(message))


FRAMES = [
    frame(0, Direction.RECEIVED, [2, "b1", "BootNotification", {"chargePointVendor": "Alfen"}]),
    frame(1, Direction.SENT, [3, "b1", {"status": "Accepted", "interval": 60}]),
    frame(2, Direction.RECEIVED, [2, "h1", "Heartbeat", {}]),
    frame(3, Direction.SENT, [3, "h1", {"currentTime": "2026-11-22T08:00:03Z"}]),
    frame(4, Direction.SENT, [2, "t1", "TriggerMessage", {"requestedMessage": "Heartbeat"}]),
    frame(5, Direction.RECEIVED, [4, "t1", "NotSupported", "no", {}]),
    FrameRecord(T0 + timedelta(seconds=6), Direction.RECEIVED, '[2, "x1", "Heartb'),
]


def profile(
    profile_id: int = 7,
    purpose: ChargingProfilePurpose = ChargingProfilePurpose.TX_DEFAULT,
    limits: tuple[tuple[int, float], ...] = ((0, 16.0), (3600, 10.0)),
) -> ChargingProfile:
    return ChargingProfile(
        profile_id=profile_id,
        stack_level=1,
        purpose=purpose,
        kind=ChargingProfileKind.ABSOLUTE,
        schedule=ChargingSchedule(
            ChargingRateUnit.AMPS, tuple(SchedulePeriod(s, x) for s, x in limits), start=T0
        ),
    )


class FakeEngine:
    """What the window's query reads of the engine: the central system and the project."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.central = self
        self.frames: list[FrameRecord] = []
        self.profiles: tuple[InstalledProfile, ...] = ()

    def frame_log(self, charger_id: str) -> list[FrameRecord]:
        return list(self.frames) if charger_id == "CP-001" else []

    def installed_profiles(self, charger_id: str) -> tuple[InstalledProfile, ...]:
        return self.profiles if charger_id == "CP-001" else ()


class Reader:
    """An ``EngineReader`` that answers at once from a ``FakeEngine`` (or fails as told)."""

    def __init__(self, engine: FakeEngine) -> None:
        self.engine = engine
        self.reads = 0
        self.failure: str | None = None

    def __call__(
        self,
        query: Callable[[Any], Any],
        callback: Callable[[Any], None],
        failed: Callable[[str], None] | None = None,
    ) -> None:
        self.reads += 1
        if self.failure is not None:
            assert failed is not None
            failed(self.failure)
            return
        callback(query(self.engine))


@pytest.fixture
def model(project: Project, batch: TagBatch) -> OverviewModel:
    model = OverviewModel(project)
    model.apply(batch.online("CP-001").samples)
    return model


@pytest.fixture
def engine(project: Project) -> FakeEngine:
    return FakeEngine(project)


@pytest.fixture
def reader(engine: FakeEngine) -> Reader:
    return Reader(engine)


@pytest.fixture
def window(
    qtbot: Any, themed_app: Any, model: OverviewModel, sender: Sender, reader: Reader
) -> ChargerMaintenanceWindow:
    window = ChargerMaintenanceWindow("CP-001", model, sender, reader)
    window.set_actor(MAINTAINER)
    qtbot.addWidget(window)
    return window


# ---- frame log model


def test_frame_rows_name_answers_after_the_calls_they_answer() -> None:
    rows = frame_rows(FRAMES)
    assert [(r.message_type, r.action, r.message_id) for r in rows] == [
        ("CALL", "BootNotification", "b1"),
        ("CALLRESULT", "BootNotification", "b1"),
        ("CALL", "Heartbeat", "h1"),
        ("CALLRESULT", "Heartbeat", "h1"),
        ("CALL", "TriggerMessage", "t1"),
        ("CALLERROR", "TriggerMessage", "t1"),
        ("?", "", ""),  # cut or malformed: shown as it came
    ]
    assert json.loads(rows[1].pretty()) == [3, "b1", {"status": "Accepted", "interval": 60}]
    assert "\n  " in rows[1].pretty()
    assert rows[6].pretty() == '[2, "x1", "Heartb'


def test_frame_filter_by_direction_and_words(qapp: Any) -> None:
    model = FrameLogModel()
    model.set_records(FRAMES)
    proxy = FrameFilter()
    proxy.setSourceModel(model)
    assert proxy.rowCount() == 7

    proxy.set_direction(Direction.SENT)
    assert proxy.rowCount() == 3
    proxy.set_text("heartbeat")  # case-insensitive, in the action or the frame
    assert [proxy.index(r, Column.MESSAGE_ID).data() for r in range(proxy.rowCount())] == [
        "h1",
        "t1",
    ]
    proxy.set_direction(None)
    proxy.set_text("heartbeat CALLRESULT")  # every word must be there
    assert proxy.rowCount() == 1
    proxy.set_text("")
    assert proxy.rowCount() == 7


def test_frame_log_model_follows_the_ring_without_a_reset(qtbot: Any, qapp: Any) -> None:
    model = FrameLogModel()
    model.set_records(FRAMES[:4])
    with qtbot.assertNotEmitted(model.modelReset):
        model.set_records(FRAMES[2:6])  # two dropped at the front, two appended
    assert model.rowCount() == 4
    assert model.index(0, Column.MESSAGE_ID).data() == "h1"
    assert model.index(3, Column.ACTION).data() == "TriggerMessage"
    assert model.index(0, Column.DIRECTION).data() == "← in"
    with qtbot.waitSignal(model.modelReset):
        model.set_records(FRAMES[:1])  # not a continuation (another engine)
    assert model.rowCount() == 1


# ---- identity and connection


def test_identity_and_counters_come_from_the_tags_and_follow_them(
    window: ChargerMaintenanceWindow, model: OverviewModel, batch: TagBatch
) -> None:
    connected = datetime(2026, 11, 22, 7, 30, tzinfo=UTC)
    model.apply(
        TagBatch()
        .charger(
            "CP-001",
            serial="SN-4711",
            remote="10.0.0.12:50412",
            last_connect=connected,
            connects=3,
            frames_received=120,
            frames_sent=118,
            callerrors_sent=2,
            callerrors_received=0,
        )
        .samples
    )
    info = window.info
    assert info["vendor"].text() == "Alfen"
    assert info["model"].text() == "Eve Double"
    assert info["serial"].text() == "SN-4711"
    assert info["firmware"].text() == "6.3.1"
    assert info["remote"].text() == "10.0.0.12:50412"
    assert info["since"].text() == connected.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    assert info["connects"].text() == "3"
    assert info["frames_received"].text() == "120"
    assert info["frames_sent"].text() == "118"
    assert info["callerrors_sent"].text() == "2"
    assert info["callerrors_received"].text() == "0"

    model.apply({"CP-001/frames_received": Sample(121), "CP-001/comm": Sample(CommState.OFFLINE)})
    assert info["frames_received"].text() == "121"
    assert info["since"].text().startswith("not connected")
    assert not window.trigger_buttons[TriggerableMessage.HEARTBEAT].isEnabled()


def test_security_profile_is_read_from_the_engine(
    window: ChargerMaintenanceWindow, engine: FakeEngine, reader: Reader
) -> None:
    window.show()
    assert reader.reads == 1
    assert window.info["security"].text().startswith("0 ")
    ocpp = replace(engine.project.ocpp, security_profile=SecurityProfile.TLS_BASIC_AUTH)
    engine.project = replace(engine.project, ocpp=ocpp)
    window.refresh()
    assert window.info["security"].text() == "2 — TLS + Basic auth"


def test_trigger_buttons_send_trigger_message(
    qtbot: Any, window: ChargerMaintenanceWindow, sender: Sender
) -> None:
    qtbot.mouseClick(
        window.trigger_buttons[TriggerableMessage.STATUS_NOTIFICATION], Qt.MouseButton.LeftButton
    )
    command = sender.last
    assert isinstance(command, TriggerMessage)
    assert command.message is TriggerableMessage.STATUS_NOTIFICATION
    assert "waiting" in window.result_line.text()
    sender.answer(CommandResult(Outcome.ACCEPTED, "Accepted"))
    assert "Trigger StatusNotification: Accepted" in window.result_line.text()


# ---- message log


def test_message_log_shows_filters_details_and_copies(
    qtbot: Any, window: ChargerMaintenanceWindow, engine: FakeEngine, reader: Reader
) -> None:
    engine.frames = FRAMES[:4]
    window.show()
    window.tabs.setCurrentIndex(1)
    table = window.log_table
    assert table.model().rowCount() == 4
    assert window.log_count.text() == "4 frames"

    engine.frames = FRAMES
    qtbot.mouseClick(window.refresh_button, Qt.MouseButton.LeftButton)
    assert table.model().rowCount() == 7

    window.direction.setCurrentIndex(1)  # received only
    window.filter_text.setText("boot")
    assert table.model().rowCount() == 1
    assert window.log_count.text() == "1 of 7 frames"

    table.selectRow(0)
    detail = window.detail.toPlainText()
    assert "BootNotification" in detail and '"chargePointVendor": "Alfen"' in detail

    qtbot.mouseClick(window.copy_button, Qt.MouseButton.LeftButton)
    copied = QGuiApplication.clipboard().text()
    assert copied.split("\t")[1:5] == ["received", "CALL", "BootNotification", "b1"]


def test_message_log_refreshes_by_itself_while_shown(
    qtbot: Any, window: ChargerMaintenanceWindow, engine: FakeEngine, reader: Reader
) -> None:
    window.show()
    reads = reader.reads
    engine.frames = FRAMES[:2]
    qtbot.waitUntil(lambda: window.frames.rowCount() == 2, timeout=5000)
    assert reader.reads > reads
    window.hide()
    assert not window.refresher.isActive()


def test_a_failed_read_is_shown(
    window: ChargerMaintenanceWindow, reader: Reader, engine: FakeEngine
) -> None:
    reader.failure = "the engine stopped first"
    window.show()
    assert not window.read_problem.isHidden()
    assert "the engine stopped first" in window.read_problem.text()
    reader.failure = None
    window.refresh()
    assert window.read_problem.isHidden()


# ---- charging profiles


def test_profile_dialog_builds_the_typed_profile(qtbot: Any, themed_app: Any) -> None:
    dialog = ChargingProfileDialog("CP-001", connectors=2, profile_id=12)
    qtbot.addWidget(dialog)
    dialog.connector.setCurrentIndex(2)
    dialog.purpose.setCurrentText("TxDefaultProfile")
    dialog.kind.setCurrentText("Recurring")
    dialog.recurrency.setCurrentText("Daily")
    dialog.unit.setCurrentText("W")
    dialog.stack_level.setValue(3)
    dialog.duration.setValue(120)
    _, first_limit, _ = dialog.period_widgets(0)
    assert first_limit.value() == 11000.0  # the default follows the unit
    first_limit.setValue(7400.0)
    qtbot.mouseClick(dialog.add_period, Qt.MouseButton.LeftButton)
    start, limit, phases = dialog.period_widgets(1)
    start.setValue(30)
    limit.setValue(3700.0)
    phases.setCurrentText("1")
    dialog.valid_to_on.setChecked(True)

    assert dialog.confirm.isEnabled()
    built = dialog.chosen_profile()
    assert dialog.chosen_connector() == 2
    assert built.profile_id == 12
    assert built.purpose is ChargingProfilePurpose.TX_DEFAULT
    assert built.kind is ChargingProfileKind.RECURRING
    assert built.recurrency is RecurrencyKind.DAILY
    assert built.stack_level == 3
    assert built.schedule.unit is ChargingRateUnit.WATTS
    assert built.schedule.duration_s == 7200
    assert built.schedule.start is not None and built.schedule.start.tzinfo is not None
    assert built.schedule.periods == (
        SchedulePeriod(0, 7400.0),
        SchedulePeriod(1800, 3700.0, 1),
    )
    assert built.valid_from is None and built.valid_to is not None

    dialog.kind.setCurrentText("Relative")
    assert dialog.chosen_profile().schedule.start is None

    dialog.purpose.setCurrentText("ChargePointMaxProfile")  # only on connector 0
    assert not dialog.confirm.isEnabled()
    assert "connector 0" in dialog.problem.text()
    dialog.connector.setCurrentIndex(0)
    assert dialog.confirm.isEnabled()
    start.setValue(0)  # two periods starting at 0
    assert not dialog.confirm.isEnabled()


def test_set_clear_and_composite_buttons_send_their_commands(
    qtbot: Any, window: ChargerMaintenanceWindow, sender: Sender, engine: FakeEngine, reader: Reader
) -> None:
    engine.profiles = (InstalledProfile(1, profile(7)),)
    window.show()
    window.tabs.setCurrentIndex(2)
    table = window.profile_table
    assert table.rowCount() == 1
    assert table.item(0, 0).text() == "7"
    assert table.item(0, 2).text() == "TxDefaultProfile"
    assert table.item(0, 8).text() == "0: 16 A · 1 h: 10 A"

    # Set profile…: the dialog proposes the next id; the command carries the typed profile.
    qtbot.mouseClick(window.set_profile, Qt.MouseButton.LeftButton)
    dialog = window.profile_dialog
    assert dialog is not None and dialog.profile_id.value() == 8
    qtbot.mouseClick(dialog.confirm, Qt.MouseButton.LeftButton)
    command = sender.last
    assert isinstance(command, SetChargingProfile)
    assert command.charger_id == "CP-001" and command.connector_id == 1
    assert command.profile.profile_id == 8
    assert command.profile.schedule.periods == (SchedulePeriod(0, 16.0),)
    reads = reader.reads
    engine.profiles = (*engine.profiles, InstalledProfile(1, command.profile))
    sender.answer(CommandResult(Outcome.ACCEPTED, "Accepted"))
    assert reader.reads == reads + 1  # the table is read again after the answer
    assert table.rowCount() == 2
    assert "Set profile 8" in window.result_line.text()

    # Clear selected: by id.
    assert not window.clear_selected.isEnabled()
    table.selectRow(1)
    chosen = window.selected_profile_id()
    qtbot.mouseClick(window.clear_selected, Qt.MouseButton.LeftButton)
    command = sender.last
    assert isinstance(command, ClearChargingProfile) and command.profile_id == chosen

    # Clear all…: asks first, then clears with no criteria.
    count = len(sender.sent)
    qtbot.mouseClick(window.clear_all, Qt.MouseButton.LeftButton)
    box = window.clear_all_box
    assert box is not None and len(sender.sent) == count
    box.button(QMessageBox.StandardButton.Yes).click()
    command = sender.last
    assert isinstance(command, ClearChargingProfile)
    assert (command.profile_id, command.connector_id, command.purpose) == (None, None, None)

    # Composite schedule: connector, duration, unit; the answer is drawn.
    window.composite_connector.setCurrentIndex(2)
    window.composite_unit.setCurrentText("A")
    qtbot.mouseClick(window.get_composite, Qt.MouseButton.LeftButton)
    command = sender.last
    assert isinstance(command, GetCompositeSchedule)
    assert (command.connector_id, command.duration_s, command.unit) == (
        2,
        3600,
        ChargingRateUnit.AMPS,
    )
    assert "Waiting" in window.chart.verdict.text()
    sender.answer(
        CommandResult(Outcome.ACCEPTED, "Accepted", payload=schedules(((0, 16.0),), ((0, 16.0),)))
    )
    assert window.chart.last_verdict is not None and window.chart.last_verdict.match


def test_profile_buttons_follow_the_connection(
    window: ChargerMaintenanceWindow, model: OverviewModel
) -> None:
    assert window.set_profile.isEnabled() and window.get_composite.isEnabled()
    model.apply({"CP-001/comm": Sample(CommState.OFFLINE)})
    assert not window.set_profile.isEnabled()
    assert not window.clear_all.isEnabled()
    assert not window.get_composite.isEnabled()


def test_commands_need_the_users_permission(window: ChargerMaintenanceWindow) -> None:
    window.set_actor(Actor("olivia", Role.OPERATOR))
    assert not window.set_profile.isEnabled()
    assert not window.clear_all.isEnabled()
    assert not window.trigger_buttons[TriggerableMessage.HEARTBEAT].isEnabled()
    assert "maintenance" in window.set_profile.toolTip()
    assert window.get_composite.isEnabled()  # a read: anyone may look
    window.set_actor(MAINTAINER)
    assert window.set_profile.isEnabled()


def test_periods_summary_reads_like_a_sentence() -> None:
    installed = InstalledProfile(0, profile(limits=((0, 32.0), (5400, 16.0))))
    assert periods_summary(installed) == "0: 32 A · 1 h 30 min: 16 A"


# ---- step chart


def schedules(
    theirs: tuple[tuple[int, float], ...] | None,
    ours: tuple[tuple[int, float | None], ...],
    *,
    delay_s: int = 1,
    unit: ChargingRateUnit = ChargingRateUnit.AMPS,
) -> CompositeSchedules:
    return CompositeSchedules(
        status="Accepted" if theirs is not None else "Rejected",
        schedule_start=T0 + timedelta(seconds=delay_s) if theirs is not None else None,
        charging_schedule=(
            ChargingSchedule(unit, tuple(SchedulePeriod(s, x) for s, x in theirs), 3600)
            if theirs is not None
            else None
        ),
        expected_start=T0,
        expected_unit=ChargingRateUnit.AMPS,
        expected=ours,
    )


def test_step_points_draw_flat_then_vertical() -> None:
    xs, ys = step_points(((0, 16.0), (600, 10.0), (1800, None)), 0.0, 3600.0)
    assert xs == [0.0, 10.0, 10.0, 30.0, 30.0, 60.0]
    assert ys[:4] == [16.0, 16.0, 10.0, 10.0]
    assert all(y != y for y in ys[4:])  # NaN: no limit, a gap in the line
    shifted, _ = step_points(((0, 16.0),), 60.0, 3600.0)
    assert shifted == [1.0, 60.0]


def test_compare_tells_match_and_mismatch() -> None:
    assert compare(schedules(((0, 16.0),), ((0, 16.0),)), 3600).match
    # the round trip (a second) is not a difference
    assert compare(schedules(((0, 16.0), (599, 10.0)), ((0, 16.0), (600, 10.0))), 3600).match
    differ = compare(schedules(((0, 16.0),), ((0, 16.0), (1800, 10.0))), 3600)
    assert not differ.match
    assert "+30 min" in differ.text and "16 A" in differ.text and "10 A" in differ.text
    assert compare(schedules(None, ()), 3600).match
    assert not compare(schedules(None, ((0, 16.0),)), 3600).match
    assert not compare(schedules(((0, 16.0),), ()), 3600).match
    assert not compare(
        schedules(((0, 11000.0),), ((0, 16.0),), unit=ChargingRateUnit.WATTS), 3600
    ).match


def test_chart_draws_both_lines_and_the_verdict(qtbot: Any, themed_app: Any) -> None:
    chart = ScheduleChart()
    qtbot.addWidget(chart)
    verdict = chart.show_schedules(schedules(((0, 16.0),), ((0, 16.0), (1800, 10.0))), 3600)
    assert not verdict.match and chart.verdict.text() == verdict.text
    xs, ys = chart.expected_line.getData()
    assert list(xs) == [0.0, 30.0, 30.0, 60.0] and list(ys) == [16.0, 16.0, 10.0, 10.0]
    xs, ys = chart.charger_line.getData()
    assert list(ys) == [16.0, 16.0]
    assert xs[0] == pytest.approx(1 / 60) and xs[-1] == 60.0  # clipped to the window
    chart.clear("nothing yet")
    assert chart.last_verdict is None and chart.verdict.text() == "nothing yet"


# ---- the faceplate opens it


def test_faceplate_opens_one_maintenance_window_per_charger(
    qtbot: Any, themed_app: Any, model: OverviewModel, sender: Sender, reader: Reader
) -> None:
    faceplate = Faceplate(model, sender, ["BADGE-0001"], read=reader)
    qtbot.addWidget(faceplate)
    faceplate.show_charger("CP-001")
    faceplate.set_actor(NOBODY)  # looking needs no permission
    button = faceplate.findChild(QPushButton, "maintenance_window")
    assert button is not None and button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    window = faceplate.maintenance("CP-001")
    assert window is not None and window.isVisible() and window.charger_id == "CP-001"
    assert not window.set_profile.isEnabled()  # the window acts as the faceplate's user
    faceplate.set_actor(MAINTAINER)
    assert window.set_profile.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert faceplate.maintenance("CP-001") is window
    window.close()

    # still useful offline (log, identity): the button stays on
    model.apply({"CP-001/comm": Sample(CommState.OFFLINE)})
    assert button.isEnabled()

    without = Faceplate(model, sender, [])
    qtbot.addWidget(without)
    without.show_charger("CP-001")
    other = without.findChild(QPushButton, "maintenance_window")
    assert other is not None and not other.isEnabled()
