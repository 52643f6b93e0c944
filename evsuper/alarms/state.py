"""The ISA-18.2 alarm state machine, as pure functions on ``AlarmRecord``.

An alarm keeps its own state — condition active or not, acknowledged or not, latched or
not — underneath three masks an operator or the design puts on it: shelved, suppressed
by design, out of service. The state shown (``AlarmRecord.state``) is derived from all of
that by ``derive_state``, so that lifting a mask shows exactly where the alarm stands.

Each function returns the new record and the transitions it made, for the journal.
Nothing here reads a clock: ``now`` is always given.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from evsuper.alarms.model import AlarmDefinition, AlarmRecord, AlarmState, Transition

CHATTER_ACTIVATIONS = 3  # this many activations ...
CHATTER_WINDOW = timedelta(seconds=60)  # ... within this window: chattering

Change = tuple[AlarmRecord, list[Transition]]


def derive_state(record: AlarmRecord) -> AlarmState:
    if record.out_of_service:
        return AlarmState.OUT_OF_SERVICE
    if record.suppressed_by:
        return AlarmState.SUPPRESSED
    if record.shelved:
        return AlarmState.SHELVED
    if record.active:
        return AlarmState.ACKNOWLEDGED if record.acknowledged else AlarmState.UNACKNOWLEDGED
    if record.latched:
        return AlarmState.LATCHED
    return AlarmState.NORMAL if record.acknowledged else AlarmState.RTN_UNACKNOWLEDGED


def new_record(
    definition: AlarmDefinition, source: str, charger_id: str | None, message: str
) -> AlarmRecord:
    """The alarm of ``definition`` at ``source``, normal."""
    return AlarmRecord(
        key=f"{definition.id}:{source}",
        definition_id=definition.id,
        source=source,
        charger_id=charger_id,
        priority=definition.priority,
        category=definition.category,
        message=message,
        state=AlarmState.NORMAL,
        active=False,
        ack_required=definition.ack_required,
        latching=definition.latching,
    )


def _settle(record: AlarmRecord, now: datetime, transitions: list[Transition]) -> Change:
    state = derive_state(record)
    if transitions or state is not record.state:
        record = replace(record, state=state, changed=now)
    return record, transitions


def activate(record: AlarmRecord, now: datetime, value: str = "", message: str = "") -> Change:
    """The (debounced) condition became true."""
    if record.active:
        return record, []
    recent = (*(t for t in record.recent_activations if now - t < CHATTER_WINDOW), now)
    record = replace(
        record,
        active=True,
        activated=now,
        value=value,
        message=message or record.message,
        acknowledged=not record.ack_required,
        acknowledged_by="",
        comment="" if not record.shelved else record.comment,
        latched=record.latching,
        activations=record.activations + 1,
        recent_activations=recent,
        chattering=len(recent) >= CHATTER_ACTIVATIONS,
    )
    return _settle(record, now, [Transition.ACTIVATED])


def clear(record: AlarmRecord, now: datetime, value: str = "") -> Change:
    """The (debounced) condition became false. A one-shot shelve ends with it."""
    if not record.active:
        return record, []
    record = replace(record, active=False, value=value or record.value)
    transitions = [Transition.RETURNED]
    if record.shelved and record.shelved_until is None:
        record = replace(record, shelved=False, shelved_by="")
        transitions.append(Transition.UNSHELVED)
    return _settle(record, now, transitions)


def acknowledge(record: AlarmRecord, now: datetime, user: str, comment: str = "") -> Change:
    """An operator acknowledged; a latched alarm stays latched until reset."""
    if record.acknowledged:
        return record, []
    record = replace(record, acknowledged=True, acknowledged_by=user, comment=comment)
    return _settle(record, now, [Transition.ACKNOWLEDGED])


def reset(record: AlarmRecord, now: datetime, user: str, comment: str = "") -> Change:
    """An operator resets a latched alarm whose condition is gone (acknowledging it too)."""
    if not record.latched or record.active:
        return record, []
    transitions = []
    if not record.acknowledged:
        record = replace(record, acknowledged=True, acknowledged_by=user, comment=comment)
        transitions.append(Transition.ACKNOWLEDGED)
    record = replace(record, latched=False)
    transitions.append(Transition.RESET)
    return _settle(record, now, transitions)


def shelve(
    record: AlarmRecord, now: datetime, user: str, reason: str, until: datetime | None
) -> Change:
    """Hide the alarm until ``until``, or (None) until its condition clears."""
    if record.shelved or record.out_of_service:
        return record, []
    record = replace(record, shelved=True, shelved_until=until, shelved_by=user, comment=reason)
    return _settle(record, now, [Transition.SHELVED])


def unshelve(record: AlarmRecord, now: datetime, user: str = "") -> Change:
    """By an operator, or (``user`` empty) because a timed shelve expired."""
    if not record.shelved:
        return record, []
    record = replace(record, shelved=False, shelved_until=None, shelved_by=user)
    return _settle(record, now, [Transition.UNSHELVED])


def shelve_expired(record: AlarmRecord, now: datetime) -> bool:
    until = record.shelved_until
    return record.shelved and until is not None and now >= until


def suppress(record: AlarmRecord, now: datetime, by: str) -> Change:
    """Suppressed by design while ``by`` (another alarm's key, or a reason) stands."""
    if record.suppressed_by == by:
        return record, []
    transitions = [] if record.suppressed_by else [Transition.SUPPRESSED]
    return _settle(replace(record, suppressed_by=by), now, transitions)


def unsuppress(record: AlarmRecord, now: datetime) -> Change:
    if not record.suppressed_by:
        return record, []
    return _settle(replace(record, suppressed_by=""), now, [Transition.UNSUPPRESSED])


def set_in_service(
    record: AlarmRecord, now: datetime, in_service: bool, user: str, comment: str = ""
) -> Change:
    if record.out_of_service != in_service:
        return record, []
    transition = Transition.RETURNED_TO_SERVICE if in_service else Transition.REMOVED_FROM_SERVICE
    record = replace(record, out_of_service=not in_service, comment=comment)
    if not in_service:  # nothing is left to acknowledge of an alarm taken out of service
        record = replace(record, acknowledged=True, acknowledged_by=user, latched=False)
    return _settle(record, now, [transition])


def update_chattering(record: AlarmRecord, now: datetime) -> AlarmRecord:
    """Forget activations older than the window; chattering while enough are left."""
    recent = tuple(t for t in record.recent_activations if now - t < CHATTER_WINDOW)
    if recent == record.recent_activations:
        return record
    chattering = len(recent) >= CHATTER_ACTIVATIONS
    return replace(record, recent_activations=recent, chattering=chattering)


def leaves_list(record: AlarmRecord) -> bool:
    """Normal, acknowledged and with no mask: nothing for anybody to see or do."""
    return record.state is AlarmState.NORMAL
