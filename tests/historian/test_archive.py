"""The archive, on SQLite and on a real PostgreSQL: schema from alembic equals the model;
writes are batched and durable; a database outage loses nothing."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from databases import PostgresServer
from sqlalchemy import func, insert, select
from support import wait_until

from evsuper.core.bus import TagBus
from evsuper.core.domain import (
    Anomaly,
    ArchiveState,
    ConnectorStatus,
    ConnectorStatusChanged,
    MeterReading,
    MeterValuesReceived,
)
from evsuper.historian import archive as archive_module
from evsuper.historian import schema
from evsuper.historian.archive import Archive
from evsuper.historian.migrate import current_revision, head_revision


async def test_migrations_build_exactly_the_model(archive: Archive) -> None:
    with archive.engine.connect() as connection:
        assert current_revision(connection) == head_revision()
        diff = compare_metadata(MigrationContext.configure(connection), schema.metadata)
    assert diff == []


async def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    archive = Archive(f"sqlite:///{tmp_path / 'archive.sqlite'}", TagBus())
    await archive.start()
    with archive.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    await archive.stop()


async def test_durable_transaction_round_trip_keeps_utc(archive: Archive) -> None:
    start = datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    opened = await archive.start_transaction("CP-1", 2, "TAG", start, 1200, None)
    assert [t.id for t in await archive.open_transactions()] == [opened.id]
    closed = await archive.stop_transaction(
        opened.id, start + timedelta(hours=1), 9200, "Local", None
    )
    assert closed is not None
    assert closed.start_ts == start and closed.start_ts.tzinfo is UTC
    assert closed.energy_wh == 8000
    assert await archive.open_transactions() == []
    assert await archive.stop_transaction(opened.id, start, 9300, "Local", None) is None


async def test_events_are_written_in_batches_and_flushed_on_stop(archive_url: str) -> None:
    bus = TagBus()
    archive = Archive(archive_url, bus)
    await archive.start()
    now = datetime.now(UTC)
    for i in range(2000):
        bus.emit(
            MeterValuesReceived(
                "CP-1", 1, None, (MeterReading(now, "Power.Active.Import", float(i), "W"),)
            )
        )
    bus.emit(
        ConnectorStatusChanged(
            "CP-1", 1, ConnectorStatus.CHARGING, "NoError", None, None, None, now
        )
    )
    await archive.stop()
    assert bus.value("_system/archive/state") is ArchiveState.STOPPED
    with archive.engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(schema.meter_samples)).scalar()
        status = connection.execute(select(schema.connector_status.c.status)).scalar()
    assert count == 2000
    assert status == "Charging"


async def test_a_postgresql_outage_loses_nothing_and_writes_each_sample_once(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.database()
    bus = TagBus()
    archive = Archive(url, bus)
    await archive.start()
    now = datetime.now(UTC)

    def produce(first: int, count: int) -> None:
        for i in range(first, first + count):
            reading = MeterReading(now, "Power.Active.Import", float(i), "W")
            bus.emit(MeterValuesReceived("CP-1", 1, None, (reading,)))

    def values() -> list[float]:
        with archive.engine.connect() as connection:
            return list(connection.execute(select(schema.meter_samples.c.value)).scalars())

    try:
        produce(0, 500)
        await archive.run_durable(lambda connection: None)
        postgres_server.stop()
        produce(500, 500)  # while the database is down
        await wait_until(lambda: bus.value("_system/archive/state") is ArchiveState.ERROR)
        postgres_server.start()
        produce(1000, 500)
        await wait_until(lambda: bus.value("_system/archive/state") is ArchiveState.OK, within=30)
        await archive.run_durable(lambda connection: None)
        assert sorted(values()) == [float(i) for i in range(1500)]  # all, each once
    finally:
        await archive.stop()
        postgres_server.drop(url)


def test_the_table_reference_lists_every_table_and_column() -> None:
    reference = (Path(__file__).parents[2] / "docs" / "archive.md").read_text(encoding="utf-8")
    for table in schema.metadata.sorted_tables:
        section = reference.split(f"### `{table.name}`\n", 1)
        assert len(section) == 2, f"docs/archive.md has no section for {table.name}"
        body = section[1].split("### ", 1)[0]
        for column in table.columns:
            assert f"| `{column.name}` |" in body, f"{table.name}.{column.name} undocumented"


async def test_rows_spooled_during_an_outage_survive_a_restart(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    url, spool = postgres_server.database(), tmp_path / "spool.jsonl"
    bus = TagBus()
    archive = Archive(url, bus, spool)
    await archive.start()
    now = datetime.now(UTC)
    for i in range(600):
        if i == 300:
            await archive.run_durable(lambda connection: None)
            postgres_server.stop()
        reading = MeterReading(now + timedelta(seconds=i), "Power.Active.Import", float(i), "W")
        bus.emit(MeterValuesReceived("CP-1", 1, None, (reading,)))
    await wait_until(lambda: spool.exists())
    await archive.stop()  # the database is still down: the rest is spooled too
    assert spool.read_text().count("\n") == 300
    postgres_server.start()
    again = Archive(url, TagBus(), spool)
    await again.start()  # writes the spool before anything else
    try:
        with again.engine.connect() as connection:
            rows = connection.execute(
                select(schema.meter_samples.c.value, schema.meter_samples.c.ts)
            ).all()
        assert sorted(value for value, _ in rows) == [float(i) for i in range(600)]
        assert {ts.tzinfo for _, ts in rows} == {UTC}
        assert not spool.exists()
    finally:
        await again.stop()
        postgres_server.drop(url)


async def test_retention_deletes_old_rows_in_chunks_and_keeps_the_rest(archive_url: str) -> None:
    archive = Archive(archive_url, TagBus(), retention_days={"meter_samples": 30})
    await archive.start()
    now = datetime.now(UTC)
    old, recent = now - timedelta(days=40), now - timedelta(days=10)

    def sample(ts: datetime, value: float) -> dict[str, object]:
        return {
            "ts": ts, "charger_id": "CP-1", "connector_id": 1, "transaction_id": None,
            "measurand": "Power.Active.Import", "phase": None, "unit": "W",
            "context": "Sample.Periodic", "location": "Outlet", "value": value,
        }  # fmt: skip

    try:
        with archive.engine.begin() as connection:
            rows = [sample(old, float(i)) for i in range(25_000)] + [sample(recent, -1.0)]
            connection.execute(insert(schema.meter_samples), rows)
            connection.execute(
                insert(schema.anomalies),
                [{"ts": old, "charger_id": "CP-1", "kind": "x", "detail": "kept: no retention"}],
            )
        assert await archive.prune(now) == 25_000  # more than one chunk of 20,000
        with archive.engine.connect() as connection:
            values = connection.execute(select(schema.meter_samples.c.value)).scalars().all()
            anomalies = connection.execute(select(func.count()).select_from(schema.anomalies))
            assert (values, anomalies.scalar()) == ([-1.0], 1)
        assert await archive.prune(now) == 0
    finally:
        await archive.stop()


async def test_an_overloaded_writer_spools_to_disk_and_loses_nothing(
    archive_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(archive_module, "QUEUE_LIMIT", 200)
    spool = tmp_path / "spool.jsonl"
    bus = TagBus()
    archive = Archive(archive_url, bus, spool)
    await archive.start()
    writing, database_slow = threading.Event(), threading.Event()

    def slow_write(_: object) -> None:
        writing.set()
        database_slow.wait(30)

    blocked = asyncio.ensure_future(archive.run_durable(slow_write))
    now = datetime.now(UTC)
    try:
        await wait_until(writing.is_set)  # the writer is busy: what follows queues up
        for i in range(6000):  # the next batch takes 5,000: the rest is over the limit
            reading = MeterReading(now + timedelta(seconds=i), "Power.Active.Import", float(i), "W")
            bus.emit(MeterValuesReceived("CP-1", 1, None, (reading,)))
        assert archive.backlog >= 6000
        database_slow.set()
        await blocked
        await archive.run_durable(lambda _: None)  # after every sample queued before it
        await wait_until(lambda: archive.backlog == 0)
        with archive.engine.connect() as connection:
            values = connection.execute(select(schema.meter_samples.c.value)).scalars().all()
        assert sorted(values) == [float(i) for i in range(6000)]  # all, each once
        assert "rows spooled to disk" in caplog.text
        assert not spool.exists()
    finally:
        database_slow.set()
        await archive.stop()


async def test_rows_the_database_refuses_are_set_aside_and_the_rest_written(
    archive_url: str, tmp_path: Path
) -> None:
    bus = TagBus()
    archive = Archive(archive_url, bus, tmp_path / "spool.jsonl")
    await archive.start()
    try:
        refused = {3: None}  # NOT NULL: refused by every database
        if archive_url.startswith("postgresql"):
            refused[7] = "vendor text with a NUL\x00"  # PostgreSQL text cannot hold one
        for i in range(10):
            bus.emit(Anomaly("CP-1", "odd", refused.get(i, f"detail {i}")))  # type: ignore[arg-type]
        await archive.run_durable(lambda _: None)
        bus.emit(Anomaly("CP-1", "odd", "after"))
        await archive.run_durable(lambda _: None)
        with archive.engine.connect() as connection:
            details = connection.execute(select(schema.anomalies.c.detail)).scalars().all()
        kept = [f"detail {i}" for i in range(10) if i not in refused]
        assert sorted(details) == sorted([*kept, "after"])
        lines = (tmp_path / "rejected.jsonl").read_text().splitlines()
        assert len(lines) == len(refused) == archive.rows_rejected
        assert all('"table": "anomalies"' in line for line in lines)
    finally:
        await archive.stop()
