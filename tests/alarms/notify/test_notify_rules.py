"""Who gets which alarm, when (quiet hours, chargers patterns), escalation bookkeeping and
the words of the messages: pure functions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from evsuper.alarms.model import AlarmRecord, AlarmState, Category, Priority, Transition
from evsuper.alarms.notify.message import SMS_MAX, Notice, body, sms_text, subject
from evsuper.alarms.notify.rules import (
    deliveries,
    due_escalations,
    escalation_deliveries,
    escalations_to_start,
    in_time_range,
)
from evsuper.project.model import (
    NotificationChannel,
    NotificationRule,
    NotificationSettings,
    Recipient,
)

EMAIL, SMS = NotificationChannel.EMAIL, NotificationChannel.SMS
ZURICH = ZoneInfo("Europe/Zurich")
NOON = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)  # 12:00 in Zurich (CET, UTC+1)
NIGHT = datetime(2026, 11, 22, 22, 30, tzinfo=UTC)  # 23:30 in Zurich

SETTINGS = NotificationSettings(
    enabled=True,
    timezone="Europe/Zurich",
    recipients=(
        Recipient("ops", email="ops@example.org", phone="+41790000001"),
        Recipient("boss", email="boss@example.org"),
        Recipient("night", phone="+41790000002"),
    ),
    rules=(
        NotificationRule(
            name="faults",
            recipients=("ops", "night"),
            priorities=(Priority.CRITICAL, Priority.HIGH),
            categories=(Category.CHARGER_FAULT, Category.SAFETY),
            chargers=("CP-0*",),
            channels=(EMAIL, SMS),
            quiet_hours="22:00-06:00",
            quiet_max_priority=Priority.CRITICAL,
            escalate_after_min=30,
            escalate_to=("boss",),
        ),
        NotificationRule(
            name="critical",
            recipients=("boss", "ops"),
            priorities=(Priority.CRITICAL,),
            channels=(EMAIL,),
            on=(Transition.ACTIVATED, Transition.RETURNED),
        ),
    ),
)


def record(
    *,
    priority: Priority = Priority.HIGH,
    category: Category = Category.CHARGER_FAULT,
    charger: str | None = "CP-003",
    state: AlarmState = AlarmState.UNACKNOWLEDGED,
    message: str = "Connector 1 faulted (GroundFailure)",
    at: datetime = NOON,
    **more: object,
) -> AlarmRecord:
    source = f"{charger}/C1/GroundFailure" if charger else "_system"
    return AlarmRecord(
        key=f"connector-faulted:{source}",
        definition_id="connector-faulted",
        source=source,
        charger_id=charger,
        priority=priority,
        category=category,
        message=message,
        state=state,
        active=True,
        value="GroundFailure",
        activated=at,
        changed=at,
        **more,  # type: ignore[arg-type]
    )


def who(items: list) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    return {(d.recipient.name, d.channel.value) for d in items}


def test_a_matching_rule_sends_on_each_channel_the_recipient_has() -> None:
    found = deliveries(SETTINGS, record(), Transition.ACTIVATED, NOON, ZURICH)
    # "night" has no e-mail address: SMS only; "boss" only gets P1 by rule "critical"
    assert who(found) == {("ops", "email"), ("ops", "sms"), ("night", "sms")}
    assert {d.rule for d in found} == {"faults"} and not any(d.escalation for d in found)
    assert {d.address for d in found} == {"ops@example.org", "+41790000001", "+41790000002"}


def test_one_message_per_recipient_and_channel_whatever_the_rules() -> None:
    found = deliveries(
        SETTINGS, record(priority=Priority.CRITICAL), Transition.ACTIVATED, NOON, ZURICH
    )
    assert who(found) == {("ops", "email"), ("ops", "sms"), ("night", "sms"), ("boss", "email")}
    assert len(found) == 4


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"priority": Priority.MEDIUM}, set()),  # not a priority of any rule
        ({"category": Category.COMMUNICATION}, set()),
        ({"charger": "XY-1"}, set()),  # pattern CP-0*
        ({"charger": "CP-012"}, {("ops", "email"), ("ops", "sms"), ("night", "sms")}),
        ({"charger": None}, set()),  # a system alarm: source "_system" is no CP-0*
        (
            {"charger": None, "priority": Priority.CRITICAL, "category": Category.SYSTEM},
            {("boss", "email"), ("ops", "email")},  # rule "critical" has no charger filter
        ),
    ],
)
def test_priorities_categories_and_charger_patterns_filter(
    changes: dict[str, object], expected: set[tuple[str, str]]
) -> None:
    found = deliveries(SETTINGS, record(**changes), Transition.ACTIVATED, NOON, ZURICH)  # type: ignore[arg-type]
    assert who(found) == expected


def test_quiet_hours_in_local_time_let_only_urgent_priorities_through() -> None:
    high = record(at=NIGHT)
    assert deliveries(SETTINGS, high, Transition.ACTIVATED, NIGHT, ZURICH) == []
    critical = record(priority=Priority.CRITICAL, at=NIGHT)
    assert ("ops", "sms") in who(
        deliveries(SETTINGS, critical, Transition.ACTIVATED, NIGHT, ZURICH)
    )
    # 21:30 UTC is 22:30 in Zurich: quiet; the same instant in UTC would not be
    evening = datetime(2026, 11, 22, 21, 30, tzinfo=UTC)
    assert deliveries(SETTINGS, high, Transition.ACTIVATED, evening, ZURICH) == []
    assert deliveries(SETTINGS, high, Transition.ACTIVATED, evening, UTC) != []
    # the end is excluded: 06:00 local sends again
    morning = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
    assert deliveries(SETTINGS, high, Transition.ACTIVATED, morning, ZURICH) != []


@pytest.mark.parametrize(
    ("text", "at", "inside"),
    [
        ("22:00-06:00", time(22, 0), True),
        ("22:00-06:00", time(3, 15), True),
        ("22:00-06:00", time(5, 59, 59), True),
        ("22:00-06:00", time(6, 0), False),
        ("22:00-06:00", time(21, 59), False),
        ("12:00-13:30", time(12, 45), True),
        ("12:00-13:30", time(13, 30), False),
        ("12:00-13:30", time(0, 0), False),
    ],
)
def test_time_ranges_may_wrap_midnight(text: str, at: time, inside: bool) -> None:
    assert in_time_range(text, at) is inside


def test_only_the_transitions_a_rule_names_notify() -> None:
    critical = record(priority=Priority.CRITICAL, state=AlarmState.RTN_UNACKNOWLEDGED)
    found = deliveries(SETTINGS, critical, Transition.RETURNED, NOON, ZURICH)
    assert who(found) == {("boss", "email"), ("ops", "email")}  # rule "critical" only
    assert deliveries(SETTINGS, record(), Transition.RETURNED, NOON, ZURICH) == []
    assert deliveries(SETTINGS, record(), Transition.ACKNOWLEDGED, NOON, ZURICH) == []


@pytest.mark.parametrize(
    "changes",
    [
        {"state": AlarmState.SHELVED},
        {"state": AlarmState.SUPPRESSED},
        {"state": AlarmState.OUT_OF_SERVICE},
        {"chattering": True},
    ],
)
def test_hidden_or_chattering_activations_notify_nobody(changes: dict[str, object]) -> None:
    assert deliveries(SETTINGS, record(**changes), Transition.ACTIVATED, NOON, ZURICH) == []  # type: ignore[arg-type]


def test_disabled_settings_notify_nobody() -> None:
    off = replace(SETTINGS, enabled=False)
    assert deliveries(off, record(), Transition.ACTIVATED, NOON, ZURICH) == []
    assert escalations_to_start(off, record(), Transition.ACTIVATED, NOON) == []


def test_escalation_is_due_after_the_minutes_unless_acknowledged() -> None:
    raised = record()
    (pending,) = escalations_to_start(SETTINGS, raised, Transition.ACTIVATED, NOON)
    assert (pending.key, pending.rule, pending.due) == (
        raised.key,
        "faults",
        NOON + timedelta(minutes=30),
    )
    latest = {raised.key: raised}
    check = due_escalations([pending], latest, NOON + timedelta(minutes=29, seconds=59))
    assert (check.due, check.waiting, check.cancelled) == ([], [pending], [])
    check = due_escalations([pending], latest, NOON + timedelta(minutes=30))
    assert check.due == [(pending, raised)]
    (message,) = escalation_deliveries(SETTINGS, pending, raised, pending.due, ZURICH)
    assert (message.recipient.name, message.channel, message.escalation) == ("boss", EMAIL, True)

    acknowledged = replace(raised, state=AlarmState.ACKNOWLEDGED, acknowledged_by="max")
    check = due_escalations([pending], {raised.key: acknowledged}, NOON + timedelta(hours=1))
    assert check.cancelled == [pending] and check.due == []
    assert due_escalations([pending], {}, NOON + timedelta(hours=1)).cancelled == [pending]


def test_escalation_starts_only_at_an_unacknowledged_activation_of_a_matching_alarm() -> None:
    assert escalations_to_start(SETTINGS, record(), Transition.RETURNED, NOON) == []
    assert escalations_to_start(SETTINGS, record(charger="XY-1"), Transition.ACTIVATED, NOON) == []
    no_ack = record(state=AlarmState.ACKNOWLEDGED)  # an alarm that needs no acknowledgement
    assert escalations_to_start(SETTINGS, no_ack, Transition.ACTIVATED, NOON) == []


def test_escalations_respect_the_rules_quiet_hours() -> None:
    raised = record(at=NIGHT)
    (pending,) = escalations_to_start(SETTINGS, raised, Transition.ACTIVATED, NIGHT)
    assert escalation_deliveries(SETTINGS, pending, raised, pending.due, ZURICH) == []


def test_subject_body_and_sms_say_what_where_when() -> None:
    raised = record(
        priority=Priority.CRITICAL,
        at=datetime(2026, 11, 22, 2, 53, 10, tzinfo=UTC),
        comment="",
    )
    notice = Notice(raised, Transition.ACTIVATED)
    assert subject(notice) == "[P1 Critical] CP-003: Connector 1 faulted (GroundFailure)"
    text = body(notice, raised.changed or NOON, ZURICH)
    for expected in (
        "Alarm raised: Connector 1 faulted (GroundFailure)",
        "State:      unacknowledged",
        "Source:     CP-003/C1/GroundFailure",
        "Value:      GroundFailure",
        "2026-11-22 02:53:10 UTC (2026-11-22 03:53:10 CET local)",
        "To acknowledge:",
    ):
        assert expected in text
    assert sms_text(notice, ZURICH) == "P1 CP-003: Connector 1 faulted (GroundFailure) 03:53"

    acknowledged = replace(
        raised, state=AlarmState.ACKNOWLEDGED, acknowledged_by="max", comment="on my way"
    )
    text = body(Notice(acknowledged, Transition.ACKNOWLEDGED, site="Depot"), NOON, ZURICH)
    assert "Acknowledged by: max" in text and "Comment:    on my way" in text
    assert "To acknowledge:" not in text and "Site:       Depot" in text
    escalated = Notice(raised, Transition.ACTIVATED, escalated_after_min=30)
    assert subject(escalated).startswith("ESCALATION, unacknowledged for 30 min: [P1 Critical]")
    assert sms_text(escalated, ZURICH).startswith("ESC 30min P1 CP-003")
    assert subject(Notice(raised, Transition.RETURNED)).startswith("Returned to normal: [P1")


def test_sms_text_is_at_most_160_characters() -> None:
    long = record(message="Connector 1 faulted " + "x" * 300)
    text = sms_text(Notice(long, Transition.ACTIVATED), ZURICH)
    assert len(text) == SMS_MAX and text.endswith("... 12:00")
