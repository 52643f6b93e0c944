"""The audit trail: who did what, to which target, with which parameters and result.

Rows are only ever inserted (the database refuses UPDATE and DELETE, see migration
0004). Commands are written through the archive's writer; user administration and
logins write their row in the same database transaction as their own change.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, insert, or_, select

from evsuper.core.timeutil import to_wire, utcnow
from evsuper.historian import schema
from evsuper.users.permissions import Actor, Origin, Role


class AuditKind(StrEnum):
    COMMAND = "command"
    PERMISSION_DENIED = "permission-denied"
    LOGIN = "login"
    LOGOUT = "logout"
    LOGIN_FAILED = "login-failed"
    USER_ADMIN = "user-admin"
    PROJECT_CHANGE = "project-change"
    ALARM_ACKNOWLEDGE = "alarm-acknowledge"
    ALARM_SHELVE = "alarm-shelve"


@dataclass(frozen=True, kw_only=True)
class AuditEntry:
    actor: Actor
    kind: AuditKind
    action: str
    target: str = ""
    parameters: Mapping[str, Any] = field(default_factory=dict)
    result: str = ""
    detail: str = ""
    ts: datetime = field(default_factory=utcnow)
    id: int | None = None  # given by the database


def audit_row(entry: AuditEntry) -> dict[str, Any]:
    """The ``audit_log`` row of ``entry`` (parameters as a JSON object)."""
    return {
        "ts": entry.ts,
        "user_name": entry.actor.user,
        "role": entry.actor.role.value,
        "origin": entry.actor.origin.value,
        "kind": entry.kind.value,
        "action": entry.action,
        "target": entry.target,
        "parameters": json.dumps(jsonable(dict(entry.parameters)), sort_keys=True),
        "result": entry.result,
        "detail": entry.detail,
    }


def write_entry(connection: Connection, entry: AuditEntry) -> None:
    connection.execute(insert(schema.audit_log), audit_row(entry))


def jsonable(value: Any) -> Any:
    """Parameters as JSON values: enums by value, times in OCPP form, dataclasses as objects."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return to_wire(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


@dataclass(frozen=True, kw_only=True)
class AuditFilter:
    """What the event log shows; empty fields do not filter. ``text`` searches every column."""

    user: str = ""
    target: str = ""
    kinds: frozenset[AuditKind] = frozenset()
    since: datetime | None = None
    until: datetime | None = None
    text: str = ""
    limit: int = 10_000  # newest first


def query_audit(engine: Engine, where: AuditFilter) -> list[AuditEntry]:
    """The entries matching ``where``, newest first (safe from any thread)."""
    a = schema.audit_log
    query = select(a).order_by(a.c.ts.desc(), a.c.id.desc()).limit(where.limit)
    if where.user:
        query = query.where(a.c.user_name == where.user)
    if where.target:
        query = query.where(a.c.target == where.target)
    if where.kinds:
        query = query.where(a.c.kind.in_(sorted(k.value for k in where.kinds)))
    if where.since is not None:
        query = query.where(a.c.ts >= where.since)
    if where.until is not None:
        query = query.where(a.c.ts < where.until)
    if where.text:
        pattern = f"%{where.text}%"
        columns = (a.c.user_name, a.c.action, a.c.target, a.c.parameters, a.c.result, a.c.detail)
        query = query.where(or_(*(c.ilike(pattern) for c in columns)))
    with engine.connect() as connection:
        return [_entry(row) for row in connection.execute(query).mappings()]


def _entry(row: RowMapping) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        ts=row["ts"],
        actor=Actor(row["user_name"], Role(row["role"]), Origin(row["origin"])),
        kind=AuditKind(row["kind"]),
        action=row["action"],
        target=row["target"],
        parameters=json.loads(row["parameters"]),
        result=row["result"],
        detail=row["detail"],
    )
