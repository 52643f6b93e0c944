"""Every transition of the ISA-18.2 state diagram, shelving, latching, suppression."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from evsuper.alarms import state as sm
from evsuper.alarms.model import (
    AlarmDefinition,
    AlarmRecord,
    AlarmState,
    Category,
    ConditionKind,
    Priority,
    Transition,
)

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
S = AlarmState
FAULT = AlarmDefinition(
    id="fault",
    condition=ConditionKind.CONNECTOR_FAULTED,
    priority=Priority.HIGH,
    category=Category.CHARGER_FAULT,
    message="faulted",
)


def alarm(*, latching: bool = False, ack_required: bool = True) -> AlarmRecord:
    definition = replace(FAULT, latching=latching, ack_required=ack_required)
    return sm.new_record(definition, "CP-001/C1", "CP-001", "faulted")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_normal_b_unacknowledged_c_acknowledged_a_normal() -> None:
    record = alarm()
    assert record.state is S.NORMAL and record.key == "fault:CP-001/C1"
    record, t = sm.activate(record, at(0), value="GroundFailure")
    assert (record.state, t) == (S.UNACKNOWLEDGED, [Transition.ACTIVATED])
    assert record.activated == at(0) and record.value == "GroundFailure"
    record, t = sm.acknowledge(record, at(5), "max", "on my way")
    assert (record.state, t) == (S.ACKNOWLEDGED, [Transition.ACKNOWLEDGED])
    assert (record.acknowledged_by, record.comment) == ("max", "on my way")
    record, t = sm.clear(record, at(9))
    assert (record.state, t) == (S.NORMAL, [Transition.RETURNED])
    assert sm.leaves_list(record)


def test_b_to_d_returned_unacknowledged_then_a_or_back_to_b() -> None:
    record, _ = sm.activate(alarm(), at(0))
    record, t = sm.clear(record, at(1))
    assert (record.state, t) == (S.RTN_UNACKNOWLEDGED, [Transition.RETURNED])
    assert not sm.leaves_list(record)
    again, t = sm.activate(record, at(2))
    assert (again.state, t) == (S.UNACKNOWLEDGED, [Transition.ACTIVATED])
    done, t = sm.acknowledge(record, at(3), "max")
    assert (done.state, t) == (S.NORMAL, [Transition.ACKNOWLEDGED])


def test_repeated_inputs_change_nothing() -> None:
    record, _ = sm.activate(alarm(), at(0))
    assert sm.activate(record, at(1)) == (record, [])
    acked, _ = sm.acknowledge(record, at(2), "max")
    assert sm.acknowledge(acked, at(3), "eve") == (acked, [])
    normal, _ = sm.clear(acked, at(4))
    assert sm.clear(normal, at(5)) == (normal, [])


def test_latched_alarm_stays_until_reset() -> None:
    record, _ = sm.activate(alarm(latching=True), at(0))
    record, _ = sm.acknowledge(record, at(1), "max")
    record, _ = sm.clear(record, at(2))
    assert record.state is S.LATCHED and not sm.leaves_list(record)
    active, _ = sm.activate(record, at(3))
    assert sm.reset(active, at(4), "max") == (active, [])  # never while active
    record, t = sm.reset(record, at(5), "max")
    assert (record.state, t) == (S.NORMAL, [Transition.RESET])


def test_reset_of_an_unacknowledged_latched_alarm_acknowledges_it() -> None:
    record, _ = sm.activate(alarm(latching=True), at(0))
    record, _ = sm.clear(record, at(1))
    assert record.state is S.LATCHED and not record.acknowledged
    record, t = sm.reset(record, at(2), "max", "cable replaced")
    assert t == [Transition.ACKNOWLEDGED, Transition.RESET] and record.state is S.NORMAL
    assert record.acknowledged_by == "max"


def test_an_alarm_without_acknowledgement_comes_and_goes() -> None:
    record, _ = sm.activate(alarm(ack_required=False), at(0))
    assert record.state is S.ACKNOWLEDGED
    record, _ = sm.clear(record, at(1))
    assert record.state is S.NORMAL


def test_timed_shelving_hides_and_expiry_shows_where_the_alarm_stands() -> None:
    record, _ = sm.activate(alarm(), at(0))
    record, t = sm.shelve(record, at(1), "max", "known, waiting for parts", at(3601))
    assert (record.state, t) == (S.SHELVED, [Transition.SHELVED])
    assert (record.shelved_by, record.comment) == ("max", "known, waiting for parts")
    record, _ = sm.clear(record, at(10))  # the condition goes on underneath
    assert record.state is S.SHELVED
    record, _ = sm.activate(record, at(20))
    assert record.state is S.SHELVED
    assert not sm.shelve_expired(record, at(3600)) and sm.shelve_expired(record, at(3601))
    record, t = sm.unshelve(record, at(3601))
    assert (record.state, t) == (S.UNACKNOWLEDGED, [Transition.UNSHELVED])


def test_one_shot_shelving_ends_when_the_alarm_clears() -> None:
    record, _ = sm.activate(alarm(), at(0))
    record, _ = sm.shelve(record, at(1), "max", "flapping sensor", None)
    assert not sm.shelve_expired(record, at(10**6))
    record, t = sm.clear(record, at(2))
    assert t == [Transition.RETURNED, Transition.UNSHELVED]
    assert record.state is S.RTN_UNACKNOWLEDGED and not record.shelved


def test_an_operator_unshelves() -> None:
    record, _ = sm.activate(alarm(), at(0))
    record, _ = sm.shelve(record, at(1), "max", "x", at(100))
    record, t = sm.unshelve(record, at(2), "eve")
    assert (record.state, t, record.shelved_by) == (S.UNACKNOWLEDGED, [Transition.UNSHELVED], "eve")
    assert sm.unshelve(record, at(3)) == (record, [])


def test_suppression_by_design_masks_and_restores() -> None:
    record, _ = sm.activate(alarm(), at(0))
    record, t = sm.suppress(record, at(1), "comm-lost:CP-001")
    assert (record.state, t) == (S.SUPPRESSED, [Transition.SUPPRESSED])
    record, t = sm.suppress(record, at(2), "out-of-service:CP-001")  # another reason: no row
    assert t == [] and record.suppressed_by == "out-of-service:CP-001"
    record, _ = sm.clear(record, at(3))
    record, t = sm.unsuppress(record, at(4))
    assert (record.state, t) == (S.RTN_UNACKNOWLEDGED, [Transition.UNSUPPRESSED])


def test_out_of_service_takes_precedence_and_leaves_nothing_to_acknowledge() -> None:
    record, _ = sm.activate(alarm(latching=True), at(0))
    record, _ = sm.suppress(record, at(1), "comm-lost:CP-001")
    record, t = sm.set_in_service(record, at(2), False, "max", "bollard replaced")
    assert (record.state, t) == (S.OUT_OF_SERVICE, [Transition.REMOVED_FROM_SERVICE])
    assert sm.shelve(record, at(3), "max", "x", None) == (record, [])
    record, _ = sm.unsuppress(record, at(4))
    record, _ = sm.clear(record, at(5))
    record, t = sm.set_in_service(record, at(6), True, "max")
    assert (record.state, t) == (S.NORMAL, [Transition.RETURNED_TO_SERVICE])


def test_three_activations_in_a_minute_is_chattering() -> None:
    record = alarm()
    for second in (0, 20, 40):
        record, _ = sm.activate(record, at(second))
        record, _ = sm.clear(record, at(second + 1))
    assert record.chattering and record.activations == 3
    assert sm.update_chattering(record, at(50)).chattering
    calm = sm.update_chattering(record, at(75))  # the first one left the window
    assert not calm.chattering and len(calm.recent_activations) == 2
    slow = alarm()
    for second in (0, 40, 80):
        slow, _ = sm.activate(slow, at(second))
        slow, _ = sm.clear(slow, at(second + 1))
    assert not slow.chattering and slow.activations == 3
