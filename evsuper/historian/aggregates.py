"""1-minute and 1-hour aggregates of ``meter_samples``, so that trends over months stay fast.

Each aggregate row is one pen (charger, connector, measurand, phase) over one minute or
one hour: sample count, sum, minimum, maximum, first and last value, in the pen's display
unit (kW, kWh, %: see ``units.DISPLAY_UNITS``). The archive's writer folds new raw
samples in every minute, a chunk at a time, grouped by the database (one INSERT of the
buckets per chunk), reading ``meter_samples`` by id after the watermark kept in
``aggregate_progress``: late rows (a charger's queued meter values, rows
spooled during an outage) are folded into their own bucket when they arrive, each once.
A bucket that receives rows in several passes is merged in SQL (upsert).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    Select,
    Table,
    case,
    func,
    literal,
    literal_column,
    select,
)

from evsuper.historian import schema
from evsuper.historian.sql import epoch_seconds, timestamp_of_epoch, upsert
from evsuper.historian.units import display_unit_of_row, display_value

CHUNK_ROWS = 5_000  # raw samples folded per writer job


@dataclass(frozen=True, slots=True)
class Level:
    table: Table
    seconds: int


MINUTES = Level(schema.meter_minutes, 60)
HOURS = Level(schema.meter_hours, 3600)
LEVELS = (MINUTES, HOURS)  # finest first

_KEY = ["charger_id", "connector_id", "measurand", "phase", "ts"]
# in the order of the SELECT that fills them (_buckets)
_COLUMNS = ["ts", "charger_id", "connector_id", "measurand", "phase", "unit", "samples", "total",
            "low", "high", "first_ts", "first_value", "last_ts", "last_value"]  # fmt: skip


def aggregate_chunk(connection: Connection) -> int:
    """Fold the next CHUNK_ROWS raw samples into every level; how many were read (0: all
    caught up). The grouping runs in the database: no Python loop over the samples holds
    the interpreter while the engine answers chargers."""
    marks = {level: _watermark(connection, level) for level in LEVELS}
    m = schema.meter_samples
    first = min(marks.values())
    chunk = select(m.c.id).where(m.c.id > first).order_by(m.c.id).limit(CHUNK_ROWS).subquery()
    read, last = connection.execute(select(func.count(), func.max(chunk.c.id))).one()
    if not read:
        return 0
    for level in LEVELS:
        if marks[level] < last:
            buckets = _buckets(level, marks[level], last)
            upsert(connection, level.table, (_COLUMNS, buckets), _KEY, _merge)
            _set_watermark(connection, level, last)
    return int(read)


def _buckets(level: Level, after: int, last: int) -> Select[Any]:
    """The buckets of the samples with ids in (after, last], each with its first and last
    value (a window numbers each bucket's samples both ways)."""
    m = schema.meter_samples
    phase = func.coalesce(m.c.phase, literal(""))
    bucket = epoch_seconds(m.c.ts) // literal_column(str(level.seconds), Integer)
    pen = [m.c.charger_id, m.c.connector_id, m.c.measurand, phase, bucket]
    samples = (
        select(
            m.c.charger_id,
            m.c.connector_id,
            m.c.measurand,
            phase.label("phase"),
            bucket.label("bucket"),
            display_unit_of_row().label("unit"),
            m.c.ts,
            display_value().label("value"),
            func.row_number().over(partition_by=pen, order_by=[m.c.ts, m.c.id]).label("nth"),
            func.row_number()
            .over(partition_by=pen, order_by=[m.c.ts.desc(), m.c.id.desc()])
            .label("nth_last"),
        )
        .where(m.c.id > after, m.c.id <= last)
        .subquery()
    )
    s = samples.c
    return select(
        timestamp_of_epoch(s.bucket * level.seconds).label("ts"),
        s.charger_id,
        s.connector_id,
        s.measurand,
        s.phase,
        func.max(s.unit).label("unit"),
        func.count().label("samples"),
        func.sum(s.value).label("total"),
        func.min(s.value).label("low"),
        func.max(s.value).label("high"),
        func.min(s.ts).label("first_ts"),
        func.max(case((s.nth == 1, s.value))).label("first_value"),
        func.max(s.ts).label("last_ts"),
        func.max(case((s.nth_last == 1, s.value))).label("last_value"),
    ).group_by(s.charger_id, s.connector_id, s.measurand, s.phase, s.bucket)


def _merge(table: Table, new: Any) -> dict[str, Any]:
    """An existing bucket combined with the new rows of the same bucket."""
    c = table.c
    return {
        "unit": new.unit,
        "samples": c.samples + new.samples,
        "total": c.total + new.total,
        "low": case((new.low < c.low, new.low), else_=c.low),
        "high": case((new.high > c.high, new.high), else_=c.high),
        "first_ts": case((new.first_ts < c.first_ts, new.first_ts), else_=c.first_ts),
        "first_value": case((new.first_ts < c.first_ts, new.first_value), else_=c.first_value),
        "last_ts": case((new.last_ts >= c.last_ts, new.last_ts), else_=c.last_ts),
        "last_value": case((new.last_ts >= c.last_ts, new.last_value), else_=c.last_value),
    }


def _watermark(connection: Connection, level: Level) -> int:
    p = schema.aggregate_progress
    mark = connection.execute(
        select(p.c.last_sample_id).where(p.c.table_name == level.table.name)
    ).scalar_one_or_none()
    return int(mark) if mark is not None else 0


def _set_watermark(connection: Connection, level: Level, last_id: int) -> None:
    upsert(
        connection,
        schema.aggregate_progress,
        [{"table_name": level.table.name, "last_sample_id": last_id}],
        ["table_name"],
        lambda _table, new: {"last_sample_id": new.last_sample_id},
    )
