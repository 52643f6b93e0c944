"""The words of a notification: e-mail subject and body, SMS text. Pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from evsuper.alarms.model import AlarmRecord, Transition
from evsuper.alarms.notify.rules import local_time

SMS_MAX = 160

_WHAT: dict[Transition, str] = {
    Transition.ACTIVATED: "",
    Transition.RETURNED: "Returned to normal",
    Transition.ACKNOWLEDGED: "Acknowledged",
    Transition.RESET: "Reset",
    Transition.SHELVED: "Shelved",
    Transition.UNSHELVED: "Unshelved",
    Transition.SUPPRESSED: "Suppressed",
    Transition.UNSUPPRESSED: "Unsuppressed",
    Transition.REMOVED_FROM_SERVICE: "Removed from service",
    Transition.RETURNED_TO_SERVICE: "Returned to service",
    Transition.CLEARED: "Cleared",
}
_SMS_WHAT: dict[Transition, str] = {
    Transition.RETURNED: "RTN",
    Transition.ACKNOWLEDGED: "ACK",
    Transition.CLEARED: "CLR",
}

HOW_TO_ACKNOWLEDGE = (
    "To acknowledge: in the evsuper HMI open the alarm list (click the alarm banner), select "
    "this alarm and press Acknowledge (a comment is optional); or open the bollard's "
    "faceplate. Acknowledging needs a user with the acknowledge permission."
)


@dataclass(frozen=True, slots=True)
class Notice:
    """What one notification is about."""

    record: AlarmRecord
    transition: Transition
    escalated_after_min: float | None = None  # set for an escalation
    site: str = ""


def priority_label(record: AlarmRecord) -> str:
    return f"P{int(record.priority)} {record.priority.label}"


def _who_what(record: AlarmRecord) -> str:
    who = record.charger_id or record.source
    if record.message.startswith(who):
        return record.message
    return f"{who}: {record.message}"


def subject(notice: Notice) -> str:
    """``[P1 Critical] CP-003: Connector 1 faulted (GroundFailure)``, with what happened
    for other transitions and ``ESCALATION`` when nobody acknowledged it in time."""
    record = notice.record
    text = f"[{priority_label(record)}] {_who_what(record)}"
    if what := _WHAT.get(notice.transition):
        text = f"{what}: {text}"
    if notice.escalated_after_min is not None:
        text = f"ESCALATION, unacknowledged for {notice.escalated_after_min:g} min: {text}"
    if notice.site:
        text = f"{text} ({notice.site})"
    return " ".join(text.split())  # no line breaks in a header


def _when(ts: datetime | None, tz: tzinfo | None) -> str:
    """``2026-11-22 02:53:10 UTC (2026-11-22 03:53:10 CET local)``."""
    if ts is None:
        return "-"
    utc = ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    local = local_time(ts, tz)
    if not local.utcoffset():
        return utc
    return f"{utc} ({local.strftime('%Y-%m-%d %H:%M:%S %Z')} local)"


def body(notice: Notice, now: datetime, tz: tzinfo | None = None) -> str:
    """The plain-text e-mail body: every fact an on-call technician needs, then how to
    acknowledge."""
    record = notice.record
    lines = []
    if notice.escalated_after_min is not None:
        lines += [
            f"This alarm is still unacknowledged {notice.escalated_after_min:g} minutes after "
            "it was raised.",
            "",
        ]
    what = _WHAT.get(notice.transition) or "Alarm raised"
    lines += [
        f"{what}: {record.message}",
        "",
        f"Priority:   {priority_label(record)}",
        f"Category:   {record.category.value}",
        f"State:      {record.state.value}" + (" (chattering)" if record.chattering else ""),
        f"Source:     {record.source}",
    ]
    if record.charger_id:
        lines.append(f"Charger:    {record.charger_id}")
    if notice.site:
        lines.append(f"Site:       {notice.site}")
    lines += [
        f"Value:      {record.value or '-'}",
        f"Time:       {_when(record.changed or now, tz)}",
        f"Activated:  {_when(record.activated, tz)}",
    ]
    if record.acknowledged_by:
        lines.append(f"Acknowledged by: {record.acknowledged_by}")
    if record.comment:
        lines.append(f"Comment:    {record.comment}")
    if record.shelved_by:
        lines.append(f"Shelved by: {record.shelved_by}")
    lines += [f"Alarm:      {record.key}", ""]
    if record.state.unacknowledged:
        lines += [HOW_TO_ACKNOWLEDGE, ""]
    lines.append(f"Sent by evsuper at {_when(now, tz)}.")
    return "\n".join(lines) + "\n"


def sms_text(notice: Notice, tz: tzinfo | None = None) -> str:
    """At most 160 characters: ``P1 CP-003: Connector 1 faulted (GroundFailure) 03:53``."""
    record = notice.record
    head = f"P{int(record.priority)}"
    if what := _SMS_WHAT.get(notice.transition):
        head = f"{head} {what}"
    elif notice.transition is not Transition.ACTIVATED:
        head = f"{head} {_WHAT[notice.transition]}"
    if notice.escalated_after_min is not None:
        head = f"ESC {notice.escalated_after_min:g}min {head}"
    ts = record.changed or record.activated
    tail = f" {local_time(ts, tz).strftime('%H:%M')}" if ts is not None else ""
    text = " ".join(f"{head} {_who_what(record)}".split())
    room = SMS_MAX - len(tail)
    if len(text) > room:
        text = text[: room - 3].rstrip() + "..."
    return text + tail
