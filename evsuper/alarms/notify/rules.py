"""Who is told about an alarm, and when an escalation is due: pure functions, no I/O.

``deliveries`` answers "which (recipient, channel) get this record and transition now";
``escalations_to_start`` and ``due_escalations`` are the escalation bookkeeping, driven by
the notifier with the time it is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from fnmatch import fnmatchcase

from evsuper.alarms.model import AlarmRecord, Transition
from evsuper.project.model import (
    NotificationChannel,
    NotificationRule,
    NotificationSettings,
    Recipient,
    parse_time_range,
)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message to send: to ``recipient`` by ``channel``, because of rule ``rule``."""

    recipient: Recipient
    channel: NotificationChannel
    rule: str
    escalation: bool = False  # sent because the alarm stayed unacknowledged

    @property
    def address(self) -> str:
        return (
            self.recipient.email
            if self.channel is NotificationChannel.EMAIL
            else (self.recipient.phone)
        )


@dataclass(frozen=True, slots=True)
class PendingEscalation:
    """Rule ``rule`` escalates alarm ``key`` at ``due`` unless it is acknowledged by then."""

    key: str
    rule: str
    due: datetime
    after_min: float


@dataclass(frozen=True, slots=True)
class EscalationCheck:
    due: list[tuple[PendingEscalation, AlarmRecord]] = field(default_factory=list)
    waiting: list[PendingEscalation] = field(default_factory=list)
    cancelled: list[PendingEscalation] = field(default_factory=list)


def in_time_range(text: str, at: time) -> bool:
    """``at`` lies within ``"22:00-06:00"`` (start included, end excluded; may wrap midnight)."""
    start, end = parse_time_range(text)
    at = at.replace(tzinfo=None)
    if start < end:
        return start <= at < end
    return at >= start or at < end


def local_time(now: datetime, tz: tzinfo | None) -> datetime:
    """``now`` (aware) in ``tz``; ``None``: the system's local time zone."""
    return now.astimezone(tz) if tz is not None else now.astimezone()


def rule_matches(rule: NotificationRule, record: AlarmRecord) -> bool:
    """Priority, category and charger of ``record`` are among the rule's (empty: all)."""
    if rule.priorities and record.priority not in rule.priorities:
        return False
    if rule.categories and record.category not in rule.categories:
        return False
    if rule.chargers:
        name = record.charger_id or record.source
        if not any(fnmatchcase(name, pattern) for pattern in rule.chargers):
            return False
    return True


def quiet_allows(rule: NotificationRule, record: AlarmRecord, local: datetime) -> bool:
    """Outside the rule's quiet hours anything goes; inside, only urgent enough priorities."""
    if not rule.quiet_hours or not in_time_range(rule.quiet_hours, local.time()):
        return True
    return record.priority <= rule.quiet_max_priority


def deliveries(
    settings: NotificationSettings,
    record: AlarmRecord,
    transition: Transition,
    now: datetime,
    tz: tzinfo | None = None,
) -> list[Delivery]:
    """The messages ``transition`` of ``record`` causes at ``now``, one per (recipient,
    channel) whatever the number of rules that ask for it (the first rule names it).

    Activations of an alarm that is shelved, suppressed or out of service, or of a
    chattering alarm, notify nobody (ISA-18.2: not annunciated / shown once)."""
    if not settings.enabled:
        return []
    if transition is Transition.ACTIVATED and (not record.state.in_list or record.chattering):
        return []
    local = local_time(now, tz)
    found: dict[tuple[str, NotificationChannel], Delivery] = {}
    for rule in settings.rules:
        if transition not in rule.on or not rule_matches(rule, record):
            continue
        if not quiet_allows(rule, record, local):
            continue
        _add(found, settings, rule, rule.recipients, escalation=False)
    return list(found.values())


def escalations_to_start(
    settings: NotificationSettings, record: AlarmRecord, transition: Transition, now: datetime
) -> list[PendingEscalation]:
    """Escalations an activation starts: one per matching rule with ``escalate_after_min``,
    due that many minutes after the activation."""
    if not settings.enabled or transition is not Transition.ACTIVATED:
        return []
    if not record.state.unacknowledged:
        return []
    start = record.activated or now
    return [
        PendingEscalation(
            record.key,
            rule.name,
            start + timedelta(minutes=rule.escalate_after_min),
            rule.escalate_after_min,
        )
        for rule in settings.rules
        if rule.escalate_after_min > 0 and rule.escalate_to and rule_matches(rule, record)
    ]


def due_escalations(
    pending: Iterable[PendingEscalation], latest: Mapping[str, AlarmRecord], now: datetime
) -> EscalationCheck:
    """Sort ``pending`` at ``now``: due (still unacknowledged, time reached), waiting, or
    cancelled (acknowledged, cleared, shelved, suppressed or out of service meanwhile)."""
    check = EscalationCheck()
    for escalation in pending:
        record = latest.get(escalation.key)
        if record is None or not record.state.unacknowledged:
            check.cancelled.append(escalation)
        elif now >= escalation.due:
            check.due.append((escalation, record))
        else:
            check.waiting.append(escalation)
    return check


def escalation_deliveries(
    settings: NotificationSettings,
    escalation: PendingEscalation,
    record: AlarmRecord,
    now: datetime,
    tz: tzinfo | None = None,
) -> list[Delivery]:
    """The messages a due escalation sends: its rule's ``escalate_to`` on its channels,
    subject to the rule's quiet hours like any other message."""
    rule = next((r for r in settings.rules if r.name == escalation.rule), None)
    if rule is None or not quiet_allows(rule, record, local_time(now, tz)):
        return []
    found: dict[tuple[str, NotificationChannel], Delivery] = {}
    _add(found, settings, rule, rule.escalate_to, escalation=True)
    return list(found.values())


def _add(
    found: dict[tuple[str, NotificationChannel], Delivery],
    settings: NotificationSettings,
    rule: NotificationRule,
    names: Iterable[str],
    *,
    escalation: bool,
) -> None:
    for name in names:
        recipient = settings.recipient(name)
        if recipient is None:
            continue  # the loader refuses this; a hand-made settings object may not
        for channel in rule.channels:
            has_address = (
                recipient.email if channel is NotificationChannel.EMAIL else (recipient.phone)
            )
            if has_address and (name, channel) not in found:
                found[(name, channel)] = Delivery(recipient, channel, rule.name, escalation)
