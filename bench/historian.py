"""Historian throughput: sustained meter samples per second into SQLite and PostgreSQL.

The real archive (batched writer thread, one database transaction per batch) is fed
MeterValues events as a site sends them: C connectors, each with 4 readings (power, energy,
current, SoC) per event, for D seconds of wall clock at the highest rate the engine loop
can produce. Figures: samples/s offered and written (committed), the writer's largest
backlog, and the check that every sample arrived. PostgreSQL runs on a server started
from the ``pgserver`` wheel (the test extra). A one-month trend query is measured by
bench/trend_query.py.

    .venv/bin/python bench/historian.py --seconds 10

It prints figures; it does not pass or fail.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil
from sqlalchemy import func, select

from evsuper.core.bus import TagBus
from evsuper.core.domain import MeterReading, MeterValuesReceived
from evsuper.historian import schema
from evsuper.historian.archive import Archive

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
MEASURANDS = (
    ("Power.Active.Import", "W"),
    ("Energy.Active.Import.Register", "Wh"),
    ("Current.Import", "A"),
    ("SoC", "Percent"),
)


async def run(url: str, seconds: float, connectors: int, spool: Path) -> None:
    bus = TagBus()
    archive = Archive(url, bus, spool)
    await archive.start()
    offered = 0
    peak_backlog = peak_rss = 0
    process = psutil.Process()
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        now = datetime.now(UTC)
        for c in range(connectors):
            readings = tuple(MeterReading(now, m, float(c), u) for m, u in MEASURANDS)
            bus.emit(MeterValuesReceived(f"CP-{c // 2:04d}", c % 2 + 1, None, readings))
        offered += connectors * len(MEASURANDS)
        peak_backlog = max(peak_backlog, archive.backlog)
        peak_rss = max(peak_rss, process.memory_info().rss)
        await asyncio.sleep(0)  # let the loop breathe, as a real engine would
    produced = time.perf_counter() - start
    await archive.run_durable(lambda connection: None)
    while archive.backlog:  # the spooled rows are written a slice per writer round
        await archive.run_durable(lambda connection: None)
    committed = time.perf_counter() - start
    with archive.engine.connect() as connection:
        rows = connection.execute(select(func.count()).select_from(schema.meter_samples)).scalar()
    await archive.stop()
    print(
        f"  offered {offered / produced:,.0f} samples/s for {produced:.1f} s; "
        f"written {offered / committed:,.0f} samples/s (all committed after {committed:.1f} s); "
        f"peak backlog {peak_backlog:,} rows (memory + spool file); "
        f"peak RSS {peak_rss / 2**20:,.0f} MiB; rows {rows:,} of {offered:,}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connectors", type=int, default=200, help="events per round")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="evsuper-historian-"))
    print(f"SQLite ({args.connectors} connectors x 4 readings per round):")
    sqlite = f"sqlite:///{folder / 'archive.sqlite'}"
    asyncio.run(run(sqlite, args.seconds, args.connectors, folder / "sqlite-spool.jsonl"))
    from databases import PostgresServer  # tests/databases.py: pgserver from the test extra

    server = PostgresServer(folder / "postgres")
    try:
        print("PostgreSQL:")
        spool = folder / "postgres-spool.jsonl"
        asyncio.run(run(server.database(), args.seconds, args.connectors, spool))
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
