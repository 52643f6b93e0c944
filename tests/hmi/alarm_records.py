"""``AlarmRecord`` builders for the alarm viewer tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from evsuper.alarms.model import ALARM_PREFIX, AlarmRecord, AlarmState, Category, Priority
from evsuper.core.tags import Sample, TagPath

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def alarm(
    name: str,
    charger: str | None = "CP-001",
    *,
    priority: Priority = Priority.HIGH,
    state: AlarmState = AlarmState.UNACKNOWLEDGED,
    minute: int = 0,
    category: Category = Category.CHARGER_FAULT,
    message: str | None = None,
    **more: Any,
) -> AlarmRecord:
    """An alarm ``name`` on ``charger`` (None: a system alarm) activated at T0 + minute."""
    source = charger or "_system"
    values: dict[str, Any] = {
        "key": f"{name}:{source}",
        "definition_id": name,
        "source": source,
        "charger_id": charger,
        "priority": priority,
        "category": category,
        "message": message if message is not None else f"{name} on {source}",
        "state": state,
        "active": state in (AlarmState.UNACKNOWLEDGED, AlarmState.ACKNOWLEDGED),
        "activated": T0 + timedelta(minutes=minute),
        "changed": T0 + timedelta(minutes=minute),
        "activations": 1,
    }
    values.update(more)
    return AlarmRecord(**values)


def alarm_tags(records: Iterable[AlarmRecord]) -> dict[TagPath, Sample]:
    return {f"{ALARM_PREFIX}{r.key}": Sample(r) for r in records}


def cleared(*keys: str) -> dict[TagPath, Sample]:
    """The alarms ``keys`` left the list."""
    return {f"{ALARM_PREFIX}{key}": Sample(None) for key in keys}
