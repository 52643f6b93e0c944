"""The audit trail as a read-only table: newest first, one row per entry."""

from __future__ import annotations

import json

from evsuper.hmi import formatting
from evsuper.hmi.models.record_table import RecordTableModel
from evsuper.users.audit import AuditEntry

COLUMNS = ("Time", "User", "Role", "Kind", "Action", "Target", "Parameters", "Result", "Detail")


def _cells(entry: AuditEntry) -> tuple[str, ...]:
    parameters = json.dumps(dict(entry.parameters), sort_keys=True, ensure_ascii=False)
    return (
        formatting.timestamp(entry.ts),
        entry.actor.user,
        entry.actor.role.value,
        entry.kind.value,
        entry.action,
        entry.target,
        "" if parameters == "{}" else parameters,
        entry.result,
        entry.detail,
    )


class EventLogModel(RecordTableModel[AuditEntry]):
    def __init__(self) -> None:
        super().__init__(COLUMNS, _cells)
