"""The archive: schema from alembic equals the model; writes are batched and durable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from evsuper.core.bus import TagBus
from evsuper.core.domain import (
    ArchiveState,
    ConnectorStatus,
    ConnectorStatusChanged,
    MeterReading,
    MeterValuesReceived,
)
from evsuper.historian import schema
from evsuper.historian.archive import Archive
from evsuper.historian.migrate import current_revision, head_revision


@pytest.fixture
async def archive(tmp_path: Path) -> Archive:
    bus = TagBus()
    archive = Archive(f"sqlite:///{tmp_path / 'archive.sqlite'}", bus)
    await archive.start()
    yield archive  # type: ignore[misc]
    await archive.stop()


async def test_migrations_build_exactly_the_model(archive: Archive) -> None:
    with archive.engine.connect() as connection:
        assert current_revision(connection) == head_revision() == "0005"
        diff = compare_metadata(MigrationContext.configure(connection), schema.metadata)
    assert diff == []


async def test_sqlite_runs_in_wal_mode(archive: Archive) -> None:
    with archive.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


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


async def test_events_are_written_in_batches_and_flushed_on_stop(tmp_path: Path) -> None:
    bus = TagBus()
    archive = Archive(f"sqlite:///{tmp_path / 'a.sqlite'}", bus)
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
