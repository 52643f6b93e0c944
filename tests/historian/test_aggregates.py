"""1-minute and 1-hour aggregates, on SQLite and PostgreSQL: folded by the archive's writer,
each raw sample once (late ones too), and read by long trends instead of the raw rows."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from evsuper.core.bus import TagBus
from evsuper.historian import aggregates, schema
from evsuper.historian.archive import Archive
from evsuper.historian.samples import POWER, Pen, series

T0 = datetime(2026, 11, 2, tzinfo=UTC)


def sample(ts: datetime, value: float, unit: str = "W", phase: str | None = None) -> dict[str, Any]:
    return {
        "ts": ts, "charger_id": "CP-1", "connector_id": 1, "transaction_id": None,
        "measurand": POWER, "phase": phase, "unit": unit,
        "context": "Sample.Periodic", "location": "Outlet", "value": value,
    }  # fmt: skip


def insert_samples(engine: Engine, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as connection:
        connection.execute(insert(schema.meter_samples), rows)


def buckets(engine: Engine, level: aggregates.Level) -> dict[datetime, tuple[Any, ...]]:
    a = level.table.c
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                a.ts, a.unit, a.samples, a.total, a.low, a.high,
                a.first_ts, a.first_value, a.last_ts, a.last_value,
            ).where(a.phase == "")
        ).all()  # fmt: skip
    return {row[0]: tuple(row[1:]) for row in rows}


async def test_samples_fold_into_minutes_and_hours_in_display_units(archive: Archive) -> None:
    # 2 samples a minute for 90 minutes: 1000 W, 3000 W, 1000 W, ... and one in kW
    rows = [sample(T0 + timedelta(seconds=30 * i), 1000.0 + 2000.0 * (i % 2)) for i in range(180)]
    rows.append(sample(T0 + timedelta(minutes=5, seconds=45), 7.0, unit="kW"))
    insert_samples(archive.engine, rows)
    assert await archive.aggregate() == 181
    minutes = buckets(archive.engine, aggregates.MINUTES)
    assert len(minutes) == 90
    t5 = T0 + timedelta(minutes=5)
    assert minutes[t5] == (
        "kW", 3, 11.0, 1.0, 7.0,
        t5, 1.0, t5 + timedelta(seconds=45), 7.0,
    )  # fmt: skip
    hours = buckets(archive.engine, aggregates.HOURS)
    assert sorted(hours) == [T0, T0 + timedelta(hours=1)]
    count, total = hours[T0][1], hours[T0][2]
    assert (count, total) == (121, 60 * 4.0 + 7.0)
    assert hours[T0 + timedelta(hours=1)][1:4] == (60, 120.0, 1.0)
    assert await archive.aggregate() == 0  # nothing new: nothing counted twice


async def test_late_samples_merge_into_their_own_buckets_once(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(aggregates, "CHUNK_ROWS", 7)  # several writer jobs per round
    insert_samples(archive.engine, [sample(T0 + timedelta(seconds=s), 2000.0) for s in range(60)])
    await archive.aggregate()
    late = [
        sample(T0 + timedelta(seconds=59, milliseconds=500), 9000.0),  # newest of the minute
        sample(T0 - timedelta(seconds=1), 500.0),  # the minute before
        sample(T0 + timedelta(milliseconds=1), -1000.0),  # not the first: T0 is
    ]
    insert_samples(archive.engine, late)
    assert await archive.aggregate() == 3
    minutes = buckets(archive.engine, aggregates.MINUTES)
    assert minutes[T0] == (
        "kW", 62, 120.0 + 9.0 - 1.0, -1.0, 9.0,
        T0, 2.0, T0 + timedelta(seconds=59, milliseconds=500), 9.0,
    )  # fmt: skip
    assert minutes[T0 - timedelta(minutes=1)][1:3] == (1, 0.5)
    hours = buckets(archive.engine, aggregates.HOURS)
    assert hours[T0][1:5] == (62, 128.0, -1.0, 9.0)


async def test_phases_are_pens_of_their_own(archive: Archive) -> None:
    insert_samples(
        archive.engine,
        [sample(T0, 1000.0), sample(T0, 2000.0, phase="L1"), sample(T0, 3000.0, phase="L2")],
    )
    await archive.aggregate()
    a = aggregates.MINUTES.table.c
    with archive.engine.connect() as connection:
        rows = connection.execute(select(a.phase, a.total).order_by(a.phase)).all()
    assert [tuple(r) for r in rows] == [("", 1.0), ("L1", 2.0), ("L2", 3.0)]


async def test_a_month_long_trend_reads_the_hour_aggregates(archive: Archive) -> None:
    """Same min/max as the raw samples would give, from the 1-hour rows."""
    values = [1000.0 * (1 + math.sin(i / 50)) for i in range(31 * 24 * 12)]  # every 5 min
    rows = [sample(T0 + timedelta(minutes=5 * i), v) for i, v in enumerate(values)]
    insert_samples(archive.engine, rows)
    pen = Pen("CP-1", 1, POWER)
    until = T0 + timedelta(days=31)
    assert series(archive.engine, pen, T0, until, max_points=600).times == []  # not folded yet
    await archive.aggregate()
    result = series(archive.engine, pen, T0, until, max_points=600)
    width = result.bucket_s
    assert width >= 3600 and result.raw_count == len(values)
    per_bucket: dict[int, list[float]] = {}
    for row in rows:
        per_bucket.setdefault(int(row["ts"].timestamp()) // width, []).append(row["value"] / 1000)
    expected = [f(v) for v in per_bucket.values() for f in (min, max)]
    assert result.values == pytest.approx(expected)


async def test_aggregates_have_their_own_retention(archive_url: str) -> None:
    archive = Archive(archive_url, TagBus(), retention_days={"meter_minutes": 7})
    await archive.start()
    try:
        now = datetime.now(UTC)
        insert_samples(archive.engine, [sample(now - timedelta(days=10), 1.0), sample(now, 2.0)])
        await archive.aggregate()
        assert await archive.prune(now) == 1
        assert len(buckets(archive.engine, aggregates.MINUTES)) == 1
        assert len(buckets(archive.engine, aggregates.HOURS)) == 2  # kept: no retention
    finally:
        await archive.stop()
