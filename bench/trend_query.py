"""One-month trend of 10 tags: query time of the down-sampled series (figures printed).

10 pens (5 chargers, power and SoC) over 30 days at one sample every 10 s (2.6 million
rows) go into a temporary SQLite archive (or the PostgreSQL archive given by ``--url``,
whose rows of the bench chargers are deleted first) and are folded into the 1-minute and
1-hour aggregates (timed); then each pen's whole month is read down-sampled to 2,000
points, as the trend window does; then one day and one hour of one pen (raw, or buckets
from the raw samples or the aggregates as the counts and the range decide).

    .venv/bin/python bench/trend_query.py [--days 30] [--period 10] [--points 2000] [--url URL]
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, insert

from evsuper.historian import aggregates, schema
from evsuper.historian.aggregates import aggregate_chunk
from evsuper.historian.archive import create_archive_engine
from evsuper.historian.migrate import upgrade_to_head
from evsuper.historian.samples import POWER, SOC, Pen, series

T0 = datetime(2026, 10, 1, tzinfo=UTC)
CHARGERS = [f"BENCH-{n:02d}" for n in range(1, 6)]
CHUNK = 50_000


def rows(days: int, period_s: int):  # type: ignore[no-untyped-def]
    """Sessions of ~2 h every ~5 h per charger: power in W, SoC in percent."""
    steps = days * 86400 // period_s
    for c, charger in enumerate(CHARGERS):
        for i in range(steps):
            t = i * period_s
            ts = T0 + timedelta(seconds=t)
            phase = ((t + c * 3600) % 18000) / 7200.0  # 0..2.5, charging while < 1
            charging = phase < 1.0
            power = 11000.0 * (1.0 - 0.3 * phase) + 300.0 * math.sin(t / 60) if charging else 0.0
            soc = 20.0 + 70.0 * min(phase, 1.0)
            for measurand, unit, value in ((POWER, "W", power), (SOC, "Percent", soc)):
                yield {
                    "ts": ts,
                    "charger_id": charger,
                    "connector_id": 1,
                    "transaction_id": None,
                    "measurand": measurand,
                    "phase": None,
                    "unit": unit,
                    "context": "Sample.Periodic",
                    "location": "Outlet",
                    "value": value,
                }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--period", type=int, default=10, help="seconds between samples")
    parser.add_argument("--points", type=int, default=2000, help="points per pen")
    parser.add_argument("--url", help="archive URL (default: a temporary SQLite file)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        engine = create_archive_engine(url)
        with engine.begin() as connection:
            upgrade_to_head(connection)
            for table in (schema.meter_samples, *(level.table for level in aggregates.LEVELS)):
                connection.execute(delete(table).where(table.c.charger_id.in_(CHARGERS)))
        started = time.perf_counter()
        count = 0
        batch = []
        for row in rows(args.days, args.period):
            batch.append(row)
            if len(batch) == CHUNK:
                with engine.begin() as connection:
                    connection.execute(insert(schema.meter_samples), batch)
                count += len(batch)
                batch = []
        if batch:
            with engine.begin() as connection:
                connection.execute(insert(schema.meter_samples), batch)
            count += len(batch)
        fill_s = time.perf_counter() - started
        print(f"archive: {engine.dialect.name}, {count:,} rows written in {fill_s:.1f} s")
        started = time.perf_counter()
        folded = 0
        while True:  # as the archive's writer does every minute, a chunk per batch
            with engine.begin() as connection:
                chunk = aggregate_chunk(connection)
            if not chunk:
                break
            folded += chunk
        fold_s = time.perf_counter() - started
        print(
            f"1-minute and 1-hour aggregates: {folded:,} samples folded in {fold_s:.1f} s "
            f"({folded / fold_s:,.0f} samples/s)"
        )

        pens = [Pen(c, 1, m_) for c in CHARGERS for m_ in (POWER, SOC)]
        until = T0 + timedelta(days=args.days)
        timings = []
        points = 0
        for pen in pens:
            started = time.perf_counter()
            result = series(engine, pen, T0, until, args.points)
            timings.append(time.perf_counter() - started)
            points += len(result.times)
            assert result.downsampled and len(result.times) <= args.points
        median = sorted(timings)[len(timings) // 2]
        print(
            f"whole month, {len(pens)} pens down-sampled to ≤ {args.points} points each: "
            f"{sum(timings):.2f} s in all ({points:,} points), per pen "
            f"min {min(timings) * 1000:.0f} ms / median {median * 1000:.0f} ms"
            f" / max {max(timings) * 1000:.0f} ms"
        )
        for label, span in (("one day", timedelta(days=1)), ("one hour", timedelta(hours=1))):
            since = until - span
            started = time.perf_counter()
            result = series(engine, pens[0], since, until, args.points)
            elapsed = time.perf_counter() - started
            kind = f"buckets of {result.bucket_s} s" if result.downsampled else "raw"
            print(
                f"{label}, one pen: {elapsed * 1000:.0f} ms "
                f"({result.raw_count:,} samples → {len(result.times):,} points, {kind})"
            )
        engine.dispose()


if __name__ == "__main__":
    main()
