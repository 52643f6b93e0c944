"""The alarm journal in the archive: rows in, filtered history out (any thread)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, insert, or_, select

from evsuper.alarms.model import AlarmState, Category, JournalEntry, Priority, Transition
from evsuper.historian import schema


def journal_row(entry: JournalEntry) -> dict[str, Any]:
    return {
        "ts": entry.ts,
        "alarm_key": entry.key,
        "definition_id": entry.definition_id,
        "source": entry.source,
        "charger_id": entry.charger_id,
        "priority": int(entry.priority),
        "category": entry.category.value,
        "transition": entry.transition.value,
        "state": entry.state.value,
        "value": entry.value,
        "user_name": entry.user,
        "comment": entry.comment,
        "message": entry.message,
    }


def write_entries(connection: Connection, entries: Iterable[JournalEntry]) -> None:
    rows = [journal_row(e) for e in entries]
    if rows:
        connection.execute(insert(schema.alarm_journal), rows)


@dataclass(frozen=True, kw_only=True)
class JournalFilter:
    """Empty fields do not filter; ``text`` searches message, source, user and comment."""

    since: datetime | None = None
    until: datetime | None = None
    charger_id: str = ""
    priorities: frozenset[Priority] = frozenset()
    categories: frozenset[Category] = frozenset()
    transitions: frozenset[Transition] = frozenset()
    text: str = ""
    limit: int | None = 10_000  # newest first; None: all (KPIs)


def query_journal(engine: Engine, where: JournalFilter) -> list[JournalEntry]:
    """Entries matching ``where``, newest first."""
    j = schema.alarm_journal
    query = select(j).order_by(j.c.ts.desc(), j.c.id.desc())
    if where.limit is not None:
        query = query.limit(where.limit)
    if where.since is not None:
        query = query.where(j.c.ts >= where.since)
    if where.until is not None:
        query = query.where(j.c.ts < where.until)
    if where.charger_id:
        query = query.where(j.c.charger_id == where.charger_id)
    if where.priorities:
        query = query.where(j.c.priority.in_(sorted(int(p) for p in where.priorities)))
    if where.categories:
        query = query.where(j.c.category.in_(sorted(c.value for c in where.categories)))
    if where.transitions:
        query = query.where(j.c.transition.in_(sorted(t.value for t in where.transitions)))
    if where.text:
        pattern = f"%{where.text}%"
        columns = (j.c.message, j.c.source, j.c.user_name, j.c.comment)
        query = query.where(or_(*(c.ilike(pattern) for c in columns)))
    with engine.connect() as connection:
        return [_entry(row) for row in connection.execute(query).mappings()]


def _entry(row: RowMapping) -> JournalEntry:
    return JournalEntry(
        ts=row["ts"],
        key=row["alarm_key"],
        definition_id=row["definition_id"],
        source=row["source"],
        charger_id=row["charger_id"],
        priority=Priority(row["priority"]),
        category=Category(row["category"]),
        transition=Transition(row["transition"]),
        state=AlarmState(row["state"]),
        value=row["value"],
        user=row["user_name"],
        comment=row["comment"],
        message=row["message"],
    )
