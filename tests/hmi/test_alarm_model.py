"""The alarm list model and its filter/sort proxy, fed by ``_alarms/`` tag batches."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from evsuper.alarms.model import AlarmState, Category, Priority
from evsuper.core.tags import Sample
from evsuper.hmi.models.alarms import (
    SET_ASIDE,
    AlarmFilterProxy,
    AlarmListModel,
    Column,
    activations_text,
)
from hmi.alarm_records import alarm, alarm_tags, cleared


@pytest.fixture
def model(qapp) -> Iterator[AlarmListModel]:
    model = AlarmListModel()
    yield model
    model.deleteLater()  # its blink timer stops with it, on this thread


def keys(proxy: AlarmFilterProxy) -> list[str]:
    return [r.key for r in proxy.visible_records()]


def test_apply_adds_updates_and_removes_records(model: AlarmListModel, qtbot) -> None:
    a, b = alarm("comm-lost", "CP-001"), alarm("fault", "CP-002")
    model.apply(alarm_tags([a, b]))
    assert model.rowCount() == 2
    assert model.record(a.key) == a

    acknowledged = replace(a, state=AlarmState.ACKNOWLEDGED, acknowledged_by="anna")
    with qtbot.waitSignal(model.dataChanged) as changed:
        model.apply(alarm_tags([acknowledged]))
    assert changed.args[0].row() == model.row_of(a.key)
    assert model.rowCount() == 2
    assert model.data(model.index(model.row_of(a.key), Column.ACKNOWLEDGED_BY)) == "anna"
    assert a.key not in model.unacknowledged

    model.apply(cleared(a.key))
    assert model.rowCount() == 1
    assert model.record(a.key) is None
    assert model.row_of(b.key) == 0
    model.apply(cleared("never:seen"))  # unknown keys leave quietly
    assert model.rowCount() == 1


def test_only_alarm_paths_are_taken(model: AlarmListModel) -> None:
    model.apply({"CP-001/comm": Sample("online"), "_system/alarms/summary": Sample(None)})
    assert model.rowCount() == 0


def test_a_burst_is_applied_in_runs(model: AlarmListModel) -> None:
    records = [alarm(f"a{i}", f"CP-{i % 50:03d}", minute=i % 600) for i in range(10_000)]
    inserts: list[tuple[int, int]] = []
    removes: list[tuple[int, int]] = []
    resets: list[bool] = []
    model.rowsInserted.connect(lambda _p, first, last: inserts.append((first, last)))
    model.rowsRemoved.connect(lambda _p, first, last: removes.append((first, last)))
    model.modelReset.connect(lambda: resets.append(True))
    proxy = AlarmFilterProxy(model)

    model.apply(alarm_tags(records))
    assert inserts == [(0, 9_999)]
    assert proxy.rowCount() == 10_000

    # acknowledge every other one, remove a contiguous block and a few scattered ones
    changes = alarm_tags(replace(r, state=AlarmState.ACKNOWLEDGED) for r in records[::2])
    changes.update(cleared(*(r.key for r in records[1000:3000])))
    changes.update(cleared(records[5001].key, records[7001].key))
    model.apply(changes)
    assert not resets
    assert sorted(removes) == [(1000, 2999), (5001, 5001), (7001, 7001)]
    assert model.rowCount() == 10_000 - 2_002
    assert all(model.row_of(r.key) == row for row, r in enumerate(model.records))
    assert len(model.unacknowledged) == sum(
        1 for r in model.records if r.state is AlarmState.UNACKNOWLEDGED
    )
    assert proxy.rowCount() == model.rowCount()


def test_many_scattered_removals_reset_once(model: AlarmListModel) -> None:
    records = [alarm(f"a{i}") for i in range(2_000)]
    model.apply(alarm_tags(records))
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    model.apply(cleared(*(r.key for r in records[::2])))
    assert resets == [True]
    assert [r.key for r in model.records] == [r.key for r in records[1::2]]
    assert model.row_of(records[-1].key) == 999


def test_default_order_is_unacknowledged_then_priority_then_newest(
    model: AlarmListModel,
) -> None:
    proxy = AlarmFilterProxy(model)
    model.apply(
        alarm_tags(
            [
                alarm("ack-critical", priority=Priority.CRITICAL, state=AlarmState.ACKNOWLEDGED),
                alarm("low-new", priority=Priority.LOW, minute=9),
                alarm("high-old", priority=Priority.HIGH, minute=1),
                alarm("high-new", priority=Priority.HIGH, minute=5),
                alarm("rtn-medium", priority=Priority.MEDIUM, state=AlarmState.RTN_UNACKNOWLEDGED),
            ]
        )
    )
    assert keys(proxy) == [
        "high-new:CP-001",
        "high-old:CP-001",
        "rtn-medium:CP-001",
        "low-new:CP-001",
        "ack-critical:CP-001",
    ]
    # a change re-sorts: acknowledging moves it down
    model.apply(alarm_tags([alarm("high-new", minute=5, state=AlarmState.ACKNOWLEDGED)]))
    assert keys(proxy)[-2:] == ["ack-critical:CP-001", "high-new:CP-001"]


def test_every_column_sorts_and_default_order_returns(model: AlarmListModel) -> None:
    proxy = AlarmFilterProxy(model)
    model.apply(
        alarm_tags(
            [
                alarm("b", "CP-002", message="Bravo", minute=2, activations=3),
                alarm("a", "CP-001", message="alpha", minute=1, priority=Priority.LOW),
                alarm("c", "CP-003", message="Charlie", minute=3, chattering=True, activations=9),
            ]
        )
    )
    for column in Column:
        proxy.sort(column)
        assert not proxy.by_urgency
        assert proxy.rowCount() == 3
    proxy.sort(Column.MESSAGE)
    assert keys(proxy) == ["a:CP-001", "b:CP-002", "c:CP-003"]
    proxy.sort(Column.ACTIVATED, proxy.sortOrder().DescendingOrder)
    assert keys(proxy) == ["c:CP-003", "b:CP-002", "a:CP-001"]
    proxy.sort_by_urgency()
    assert proxy.by_urgency
    assert keys(proxy) == ["c:CP-003", "b:CP-002", "a:CP-001"]  # high first, then newest
    assert model.data(model.index(model.row_of("c:CP-003"), Column.ACTIVATIONS)) == (
        "\u00d79 chattering"
    )
    assert activations_text(alarm("x", activations=0)) == ""


def test_filters(model: AlarmListModel) -> None:
    proxy = AlarmFilterProxy(model)
    model.apply(
        alarm_tags(
            [
                alarm("comm", "CP-001", category=Category.COMMUNICATION, message="No contact"),
                alarm("fault", "CP-002", priority=Priority.CRITICAL, value="GroundFailure"),
                alarm("disk", None, priority=Priority.LOW, category=Category.SYSTEM),
                alarm("shelved", "CP-002", state=AlarmState.SHELVED),
                alarm("oos", "CP-003", state=AlarmState.OUT_OF_SERVICE),
            ]
        )
    )
    # the default: what needs action
    assert sorted(keys(proxy)) == ["comm:CP-001", "disk:_system", "fault:CP-002"]
    proxy.set_filter(priorities=[Priority.CRITICAL, Priority.LOW])
    assert sorted(keys(proxy)) == ["disk:_system", "fault:CP-002"]
    proxy.set_filter(priorities=())
    proxy.set_filter(categories=[Category.COMMUNICATION])
    assert keys(proxy) == ["comm:CP-001"]
    proxy.set_filter(categories=())
    proxy.set_charger("CP-002")
    assert keys(proxy) == ["fault:CP-002"]
    proxy.set_charger("")
    assert keys(proxy) == ["disk:_system"]
    proxy.set_charger(None)
    proxy.set_filter(text="groundfail")
    assert keys(proxy) == ["fault:CP-002"]
    proxy.set_filter(text="")
    proxy.set_filter(states=SET_ASIDE)
    assert sorted(keys(proxy)) == ["oos:CP-003", "shelved:CP-002"]


def test_banner_facts(model: AlarmListModel) -> None:
    model.apply(
        alarm_tags(
            [
                alarm("old-critical", priority=Priority.CRITICAL, minute=1),
                alarm("new-critical", priority=Priority.CRITICAL, minute=8),
                alarm("newest-high", priority=Priority.HIGH, minute=9),
                alarm(
                    "acked", priority=Priority.CRITICAL, minute=10, state=AlarmState.ACKNOWLEDGED
                ),
            ]
        )
    )
    top = model.top_unacknowledged()
    assert top is not None and top.key == "new-critical:CP-001"
    assert model.unacknowledged_counts()[Priority.CRITICAL] == 2
    model.apply(cleared("old-critical:CP-001", "new-critical:CP-001", "newest-high:CP-001"))
    assert model.top_unacknowledged() is None


def test_blinking_runs_only_while_an_alarm_is_unacknowledged(model: AlarmListModel, qtbot) -> None:
    model.apply(alarm_tags([alarm("acked", state=AlarmState.ACKNOWLEDGED)]))
    assert not model.blinking
    model.apply(alarm_tags([alarm("fresh")]))
    assert model.blinking
    model._blink.setInterval(10)
    phases: list[bool] = []
    model.blinkChanged.connect(phases.append)
    qtbot.waitUntil(lambda: len(phases) >= 3)
    assert phases[:3] in ([False, True, False], [True, False, True])
    model.apply(alarm_tags([alarm("fresh", state=AlarmState.ACKNOWLEDGED)]))
    assert not model.blinking
    assert model.blink_on  # steady, drawn filled
