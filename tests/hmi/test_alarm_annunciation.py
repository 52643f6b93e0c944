"""The alarm banner and the audible annunciator."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from PySide6.QtCore import Qt

from evsuper.alarms.model import AlarmState, AlarmSummary, Priority
from evsuper.hmi.annunciator import Annunciator
from evsuper.hmi.models.alarms import AlarmListModel
from evsuper.hmi.widgets.alarm_banner import NO_ALARM, AlarmBanner
from hmi.alarm_records import T0, alarm, alarm_tags, cleared


class Sounds:
    def __init__(self) -> None:
        self.played: list[Priority] = []

    def __call__(self, priority: Priority) -> None:
        self.played.append(priority)


@pytest.fixture
def sounds() -> Sounds:
    return Sounds()


@pytest.fixture
def model(qapp) -> Iterator[AlarmListModel]:
    model = AlarmListModel()
    yield model
    model.deleteLater()  # its blink timer stops with it, on this thread


@pytest.fixture
def annunciator(model: AlarmListModel, sounds: Sounds) -> Iterator[Annunciator]:
    annunciator = Annunciator(sounds, interval_ms=20, parent=model)
    model.changed.connect(lambda: annunciator.update(model.unacknowledged))
    yield annunciator
    annunciator.silence()


@pytest.fixture
def banner(qtbot, themed_app, model, annunciator) -> AlarmBanner:
    banner = AlarmBanner(model, annunciator)
    qtbot.addWidget(banner)
    banner.resize(1200, 32)
    banner.show()
    return banner


def test_banner_is_calm_without_alarms(banner: AlarmBanner) -> None:
    assert banner.message.text() == NO_ALARM
    assert not banner.message.isEnabled()
    assert banner.counts[Priority.CRITICAL].text() == "Critical 0/0"
    assert not banner.silence.isEnabled()


def test_banner_shows_counts_and_the_newest_most_urgent_alarm(
    banner: AlarmBanner, model: AlarmListModel
) -> None:
    model.apply(
        alarm_tags(
            [
                alarm("old", "CP-001", priority=Priority.CRITICAL, minute=1, message="Old fault"),
                alarm("new", "CP-002", priority=Priority.CRITICAL, minute=7, message="New fault"),
                alarm("newest-high", "CP-003", minute=9),
                alarm("acked", priority=Priority.MEDIUM, state=AlarmState.ACKNOWLEDGED),
            ]
        )
    )
    assert banner.top is not None and banner.top.key == "new:CP-002"
    assert "New fault" in banner.message.text()
    assert "CP-002" in banner.message.text()
    assert banner.counts[Priority.CRITICAL].text() == "Critical 2/2"  # from the model
    assert banner.counts[Priority.MEDIUM].text() == "Medium 0/1"

    banner.show_summary(
        AlarmSummary(
            active={Priority.CRITICAL: 5, Priority.LOW: 1},
            unacknowledged={Priority.CRITICAL: 3},
            shelved=2,
            out_of_service=1,
        )
    )
    assert banner.counts[Priority.CRITICAL].text() == "Critical 3/5"  # the engine's summary
    assert banner.counts[Priority.LOW].text() == "Low 0/1"
    assert banner.set_aside.text() == "2 shelved · 1 out of service"


def test_banner_click_opens_the_list(banner: AlarmBanner, qtbot) -> None:
    with qtbot.waitSignal(banner.openRequested):
        qtbot.mouseClick(banner, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(banner.openRequested):
        banner.open_list.click()


def test_sound_repeats_until_acknowledged(
    model: AlarmListModel, annunciator: Annunciator, sounds: Sounds, qtbot
) -> None:
    fault = alarm("fault", priority=Priority.CRITICAL)
    model.apply(alarm_tags([fault]))
    assert sounds.played == [Priority.CRITICAL]  # at once
    qtbot.waitUntil(lambda: len(sounds.played) >= 3)
    assert annunciator.sounding
    model.apply(alarm_tags([replace(fault, state=AlarmState.ACKNOWLEDGED)]))
    assert not annunciator.sounding


def test_silence_until_a_new_alarm(
    model: AlarmListModel, annunciator: Annunciator, banner: AlarmBanner, sounds: Sounds, qtbot
) -> None:
    model.apply(alarm_tags([alarm("fault", priority=Priority.HIGH)]))
    qtbot.waitUntil(lambda: len(sounds.played) >= 2)
    assert banner.silence.isEnabled()
    banner.silence.click()
    assert annunciator.silenced and not annunciator.sounding
    assert banner.silence.text() == "Silenced"
    assert model.unacknowledged  # silencing is not acknowledging
    played = len(sounds.played)
    model.apply(alarm_tags([alarm("fault", priority=Priority.HIGH, value="again")]))
    assert len(sounds.played) == played  # the same alarm changing is not new
    assert not annunciator.sounding

    model.apply(alarm_tags([alarm("other", "CP-002", priority=Priority.HIGH)]))
    assert len(sounds.played) == played + 1
    assert annunciator.sounding and not annunciator.silenced
    qtbot.waitUntil(lambda: len(sounds.played) >= played + 3)


def test_reactivation_is_new(
    model: AlarmListModel, annunciator: Annunciator, sounds: Sounds
) -> None:
    model.apply(alarm_tags([alarm("fault", priority=Priority.CRITICAL)]))
    annunciator.silence()
    model.apply(
        alarm_tags([alarm("fault", priority=Priority.CRITICAL, activated=T0.replace(hour=9))])
    )
    assert sounds.played == [Priority.CRITICAL, Priority.CRITICAL]
    assert annunciator.sounding


def test_only_audible_priorities_sound(
    model: AlarmListModel, annunciator: Annunciator, sounds: Sounds, banner: AlarmBanner
) -> None:
    model.apply(alarm_tags([alarm("minor", priority=Priority.MEDIUM)]))
    assert sounds.played == []
    assert not annunciator.sounding
    banner.sound_actions[Priority.MEDIUM].setChecked(True)
    assert annunciator.sounding  # repeats from now on
    banner.sound_actions[Priority.MEDIUM].setChecked(False)
    assert not annunciator.sounding
    model.apply(alarm_tags([alarm("major", priority=Priority.HIGH)]))
    assert sounds.played == [Priority.HIGH]
    model.apply(cleared("major:CP-001"))
    assert not annunciator.sounding
