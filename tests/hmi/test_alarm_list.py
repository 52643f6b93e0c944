"""The alarm list window: actions send the right commands, gated by the user's role."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from support import ADMIN

from evsuper.alarms.model import AlarmState, Priority
from evsuper.engine.commands import (
    AcknowledgeAlarms,
    CommandResult,
    Outcome,
    ResetAlarms,
    SetAlarmsInService,
    ShelveAlarms,
    UnshelveAlarms,
)
from evsuper.hmi.models.alarms import AlarmListModel
from evsuper.hmi.views.alarm_list import (
    SET_ASIDE_TAB,
    AlarmListWindow,
    common_charger,
    glyph_filled,
)
from evsuper.users.permissions import NOBODY, Actor, Role
from hmi.alarm_records import alarm, alarm_tags
from hmi.sender import Sender

OPERATOR = Actor("olga", Role.OPERATOR)
MAINTENANCE = Actor("max", Role.MAINTENANCE)


class Asker:
    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.questions: list[str] = []

    def __call__(self, question: str) -> bool:
        self.questions.append(question)
        return self.answer


@pytest.fixture
def model(qapp) -> Iterator[AlarmListModel]:
    model = AlarmListModel()
    model.apply(
        alarm_tags(
            [
                alarm("fault", "CP-001", priority=Priority.CRITICAL, minute=5),
                alarm("comm", "CP-002", minute=4),
                alarm("meter", "CP-001", state=AlarmState.ACKNOWLEDGED, minute=3),
                alarm("backlog", None, state=AlarmState.LATCHED, minute=2),
                alarm("shelved", "CP-003", state=AlarmState.SHELVED),
                alarm("oos", "CP-004", state=AlarmState.OUT_OF_SERVICE),
            ]
        )
    )
    yield model
    model.deleteLater()  # its blink timer stops with it, on this thread


@pytest.fixture
def asker() -> Asker:
    return Asker(True)


@pytest.fixture
def window(qtbot, themed_app, model: AlarmListModel, sender: Sender, asker: Asker):
    window = AlarmListWindow(model, sender, ["CP-001", "CP-002"], confirm=asker)
    qtbot.addWidget(window)
    window.set_actor(ADMIN)
    window.show()
    return window


def test_acknowledge_selected_with_comment_and_result(window: AlarmListWindow, sender) -> None:
    window.select_keys(["fault:CP-001", "meter:CP-001"])
    assert window.acknowledge.isEnabled()
    window.comment.setText("technician on the way")
    window.acknowledge.click()
    command = sender.last
    assert isinstance(command, AcknowledgeAlarms)
    assert command.alarm_keys == ("fault:CP-001",)  # the acknowledged one is left out
    assert command.charger_id == "CP-001"
    assert command.comment == "technician on the way"
    assert window.comment.text() == ""
    assert "waiting" in window.result.text()
    sender.answer(CommandResult(Outcome.ACCEPTED, "Accepted"))
    assert "Accepted" in window.result.text()
    assert "fault:CP-001" in window.result.text()


def test_acknowledge_all_visible_asks_with_the_count(
    window: AlarmListWindow, sender, asker: Asker
) -> None:
    window.acknowledge_all.click()
    assert asker.questions == ["Acknowledge all 3 visible unacknowledged alarms?"]
    command = sender.last
    assert isinstance(command, AcknowledgeAlarms)
    assert set(command.alarm_keys) == {"fault:CP-001", "comm:CP-002", "backlog:_system"}
    assert command.charger_id == ""  # several chargers

    asker.answer = False
    window.acknowledge_all.click()
    assert len(sender.sent) == 1


def test_reset_latched(window: AlarmListWindow, sender) -> None:
    window.select_keys(["fault:CP-001"])
    assert not window.reset_latched.isEnabled()
    window.select_keys(["backlog:_system"])
    window.reset_latched.click()
    assert isinstance(sender.last, ResetAlarms)
    assert sender.last.alarm_keys == ("backlog:_system",)
    assert sender.last.charger_id == ""


@pytest.mark.parametrize(("choice", "duration"), [(0, 900.0), (2, 28_800.0), (3, None)])
def test_shelve_needs_a_reason_and_sends_the_duration(
    window: AlarmListWindow, sender, choice: int, duration: float | None
) -> None:
    window.select_keys(["comm:CP-002"])
    dialog = window.open_shelve()
    assert dialog is not None
    assert not dialog.ok.isEnabled()
    dialog.choose(choice)
    dialog.reason.setText("   ")
    assert not dialog.ok.isEnabled()
    dialog.reason.setText("contractor on site")
    assert dialog.ok.isEnabled()
    dialog.ok.click()
    command = sender.last
    assert isinstance(command, ShelveAlarms)
    assert command.alarm_keys == ("comm:CP-002",)
    assert command.comment == "contractor on site"
    assert command.duration_s == duration
    assert command.charger_id == "CP-002"


def test_set_aside_tab_unshelve_and_return_to_service(window: AlarmListWindow, sender) -> None:
    assert "fault:CP-001" in [r.key for r in window.proxy.visible_records()]
    window.tabs.setCurrentIndex(SET_ASIDE_TAB)
    assert sorted(r.key for r in window.proxy.visible_records()) == [
        "oos:CP-004",
        "shelved:CP-003",
    ]
    window.select_keys(["shelved:CP-003"])
    assert window.unshelve.isEnabled()
    assert not window.return_to_service.isEnabled()
    window.unshelve.click()
    assert isinstance(sender.last, UnshelveAlarms)
    assert sender.last.alarm_keys == ("shelved:CP-003",)
    window.select_keys(["oos:CP-004"])
    window.return_to_service.click()
    command = sender.last
    assert isinstance(command, SetAlarmsInService)
    assert command.in_service
    assert command.charger_id == "CP-004"


def test_remove_from_service(window: AlarmListWindow, sender) -> None:
    window.select_keys(["comm:CP-002"])
    window.remove_from_service.click()
    command = sender.last
    assert isinstance(command, SetAlarmsInService)
    assert not command.in_service
    assert command.alarm_keys == ("comm:CP-002",)


def test_go_to_charger(window: AlarmListWindow, qtbot) -> None:
    window.select_keys(["backlog:_system"])
    assert not window.go_to_charger.isEnabled()
    window.select_keys(["comm:CP-002"])
    with qtbot.waitSignal(window.chargerRequested) as requested:
        window.go_to_charger.click()
    assert requested.args == ["CP-002"]


@pytest.mark.parametrize(
    ("actor", "acknowledge", "shelve"),
    [(NOBODY, False, False), (OPERATOR, True, False), (MAINTENANCE, True, True)],
)
def test_buttons_follow_the_role(
    window: AlarmListWindow, actor: Actor, acknowledge: bool, shelve: bool
) -> None:
    window.set_actor(actor)
    window.select_keys(["fault:CP-001"])
    assert window.acknowledge.isEnabled() is acknowledge
    assert window.acknowledge_all.isEnabled() is acknowledge
    assert window.comment.isEnabled() is acknowledge
    assert window.shelve.isEnabled() is shelve
    assert window.remove_from_service.isEnabled() is shelve
    assert window.go_to_charger.isEnabled()  # viewing is enough
    if not shelve:
        assert "shelve-alarms" in window.shelve.toolTip()


def test_filter_bar_filters(window: AlarmListWindow) -> None:
    window.priority_buttons[Priority.HIGH].setChecked(False)
    assert [r.key for r in window.proxy.visible_records()] == ["fault:CP-001"]
    window.priority_buttons[Priority.HIGH].setChecked(True)
    window.charger_filter.setCurrentIndex(window.charger_filter.findData("CP-001"))
    assert sorted(r.key for r in window.proxy.visible_records()) == [
        "fault:CP-001",
        "meter:CP-001",
    ]
    window.text_filter.setText("meter")
    assert [r.key for r in window.proxy.visible_records()] == ["meter:CP-001"]
    assert window.shown.text() == "1 of 6 shown"


def test_only_unacknowledged_alarms_blink(window: AlarmListWindow, model) -> None:
    unacknowledged = model.record("fault:CP-001")
    acknowledged = model.record("meter:CP-001")
    assert glyph_filled(unacknowledged, True) != glyph_filled(unacknowledged, False)
    assert glyph_filled(acknowledged, True) == glyph_filled(acknowledged, False) is True
    assert model.blinking
    model._toggle_blink()  # the dark phase paints without error
    window.table.viewport().repaint()
    image = window.table.viewport().grab().toImage()
    assert not image.isNull()


def test_common_charger() -> None:
    assert common_charger([alarm("a", "CP-001"), alarm("b", "CP-001")]) == "CP-001"
    assert common_charger([alarm("a", "CP-001"), alarm("b", "CP-002")]) == ""
    assert common_charger([alarm("a", None)]) == ""


def test_double_click_goes_to_the_charger(window: AlarmListWindow, qtbot) -> None:
    window.select_keys(["comm:CP-002"])
    index = window.table.selectionModel().selectedRows()[0]
    rect = window.table.visualRect(index)
    qtbot.mouseClick(window.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    with qtbot.waitSignal(window.chargerRequested) as requested:
        qtbot.mouseDClick(window.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert requested.args == ["CP-002"]


def test_header_sorts_and_default_order_returns(window: AlarmListWindow) -> None:
    assert window.proxy.by_urgency
    window.table.sortByColumn(4, Qt.SortOrder.AscendingOrder)  # message
    assert not window.proxy.by_urgency
    window.default_order.click()
    assert window.proxy.by_urgency
    assert [r.key for r in window.proxy.visible_records()][:2] == ["fault:CP-001", "comm:CP-002"]
