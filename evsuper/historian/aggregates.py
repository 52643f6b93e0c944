"""1-minute and 1-hour aggregates of ``meter_samples``, so that trends over months stay fast.

Each aggregate row is one pen (charger, connector, measurand, phase) over one minute or
one hour: sample count, sum, minimum, maximum, first and last value, in the pen's display
unit (kW, kWh, %: see ``units.DISPLAY_UNITS``). The archive's writer folds new raw
samples in every minute, a chunk at a time, reading ``meter_samples`` by id after the
watermark kept in ``aggregate_progress``: late rows (a charger's queued meter values, rows
spooled during an outage) are folded into their own bucket when they arrive, each once.
A bucket that receives rows in several passes is merged in SQL (upsert).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, case, select

from evsuper.historian import schema
from evsuper.historian.sql import upsert
from evsuper.historian.units import to_display

CHUNK_ROWS = 20_000  # raw samples folded per writer job


@dataclass(frozen=True, slots=True)
class Level:
    table: Table
    seconds: int


MINUTES = Level(schema.meter_minutes, 60)
HOURS = Level(schema.meter_hours, 3600)
LEVELS = (MINUTES, HOURS)  # finest first

_KEY = ["charger_id", "connector_id", "measurand", "phase", "ts"]


@dataclass(slots=True)
class _Bucket:
    unit: str
    samples: int
    total: float
    low: float
    high: float
    first_ts: datetime
    first_value: float
    last_ts: datetime
    last_value: float

    def add(self, ts: datetime, value: float) -> None:
        self.samples += 1
        self.total += value
        self.low = min(self.low, value)
        self.high = max(self.high, value)
        if ts < self.first_ts:
            self.first_ts, self.first_value = ts, value
        if ts >= self.last_ts:
            self.last_ts, self.last_value = ts, value


def aggregate_chunk(connection: Connection) -> int:
    """Fold the next CHUNK_ROWS raw samples into every level; how many were read (0: all
    caught up)."""
    marks = {level: _watermark(connection, level) for level in LEVELS}
    m = schema.meter_samples
    rows = connection.execute(
        select(
            m.c.id,
            m.c.ts,
            m.c.charger_id,
            m.c.connector_id,
            m.c.measurand,
            m.c.phase,
            m.c.unit,
            m.c.value,
        )
        .where(m.c.id > min(marks.values()))
        .order_by(m.c.id)
        .limit(CHUNK_ROWS)
    ).all()
    if not rows:
        return 0
    for level in LEVELS:
        buckets: dict[tuple[Any, ...], _Bucket] = {}
        for id_, ts, charger_id, connector_id, measurand, phase, unit, value in rows:
            if id_ <= marks[level]:
                continue
            value, unit = to_display(value, unit)
            start = _bucket_start(ts, level.seconds)
            key = (charger_id, connector_id, measurand, phase or "", start)
            bucket = buckets.get(key)
            if bucket is None:
                buckets[key] = _Bucket(unit, 1, value, value, value, ts, value, ts, value)
            else:
                bucket.add(ts, value)
        if buckets:
            upsert(connection, level.table, [_row(k, b) for k, b in buckets.items()], _KEY, _merge)
        _set_watermark(connection, level, rows[-1].id)
    return len(rows)


def _bucket_start(ts: datetime, seconds: int) -> datetime:
    epoch = int(ts.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def _row(key: tuple[Any, ...], bucket: _Bucket) -> dict[str, Any]:
    charger_id, connector_id, measurand, phase, start = key
    return {
        "ts": start,
        "charger_id": charger_id,
        "connector_id": connector_id,
        "measurand": measurand,
        "phase": phase,
        "unit": bucket.unit,
        "samples": bucket.samples,
        "total": bucket.total,
        "low": bucket.low,
        "high": bucket.high,
        "first_ts": bucket.first_ts,
        "first_value": bucket.first_value,
        "last_ts": bucket.last_ts,
        "last_value": bucket.last_value,
    }


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
