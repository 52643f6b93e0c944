"""Retention: rows older than a table's configured age are deleted, a chunk at a time.

``[archive] retention_days`` in project.toml names the tables (by default nothing is
deleted). Only tables of measurements and events may be pruned; transactions (billing),
reservations, users and the audit trail (append-only) never are.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, Table, delete, select

from evsuper.historian import schema

# table → its time column
PRUNABLE: dict[str, Table] = {
    t.name: t
    for t in (
        schema.meter_samples,
        schema.meter_minutes,
        schema.meter_hours,
        schema.connector_status,
        schema.charger_events,
        schema.anomalies,
        schema.alarm_journal,
    )
}
CHUNK_ROWS = 20_000  # per statement: the writer's other work waits no longer than that


def prune_chunk(connection: Connection, table: Table, before: datetime) -> int:
    """Delete up to CHUNK_ROWS of ``table``'s rows older than ``before``; how many."""
    oldest = select(table.c.id).where(table.c.ts < before).order_by(table.c.id).limit(CHUNK_ROWS)
    ids = list(connection.execute(oldest).scalars())
    if not ids:
        return 0
    connection.execute(delete(table).where(table.c.id.in_(ids)))
    return len(ids)


def cutoffs(retention_days: dict[str, int], now: datetime) -> dict[Table, datetime]:
    return {PRUNABLE[name]: now - timedelta(days=days) for name, days in retention_days.items()}
