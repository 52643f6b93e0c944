"""The audit trail as a table (for ``reports.tables``). No Qt."""

from __future__ import annotations

import json
from collections.abc import Iterable

from evsuper.reports.tables import Row
from evsuper.users.audit import AuditEntry

AUDIT_HEADERS = (
    "Time (UTC)",
    "User",
    "Role",
    "Origin",
    "Kind",
    "Action",
    "Target",
    "Parameters",
    "Result",
    "Detail",
)


def audit_rows(entries: Iterable[AuditEntry]) -> list[Row]:
    """One row per entry; parameters as a JSON object."""
    return [
        (
            e.ts,
            e.actor.user,
            e.actor.role,
            e.actor.origin,
            e.kind,
            e.action,
            e.target,
            json.dumps(dict(e.parameters), sort_keys=True),
            e.result,
            e.detail,
        )
        for e in entries
    ]
