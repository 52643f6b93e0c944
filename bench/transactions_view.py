"""Transaction history on a million sessions: fill, count, first page, sorted, filtered.

    .venv/bin/python bench/transactions_view.py [--count 1000000] [--url URL]

Fills a temporary SQLite archive (one recursive-CTE INSERT … SELECT), or the *empty*
PostgreSQL archive given by ``--url`` (generate_series), with meter samples (power and
SoC every 5 minutes) for the newest 2 000 sessions, then times the queries the history
window runs on its worker thread. Figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from evsuper.historian.archive import create_archive_engine
from evsuper.historian.migrate import upgrade_to_head
from evsuper.historian.transactions import (
    TransactionColumn,
    TransactionFilter,
    TransactionSort,
    count_transactions,
    page_transactions,
    session_curve,
)

PAGE = 200

FILL = """
INSERT INTO transactions (charger_id, connector_id, id_tag, start_ts, meter_start_wh,
    stop_ts, meter_stop_wh, energy_wh, soc_start, soc_stop, stop_reason)
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count)
SELECT
    printf('CP-%03d', i % 200),
    1 + i % 2,
    printf('BADGE-%04d', (i * 7919) % 5000),
    strftime('%Y-%m-%d %H:%M:%f000', '2024-01-01', '+' || (i * 60) || ' seconds'),
    i * 10,
    CASE WHEN i % 1000 = 0 THEN NULL ELSE strftime('%Y-%m-%d %H:%M:%f000', '2024-01-01',
        '+' || (i * 60 + 600 + (i * 37) % 7200) || ' seconds') END,
    CASE WHEN i % 1000 = 0 THEN NULL ELSE i * 10 + (i * 7907) % 60000 END,
    CASE WHEN i % 1000 = 0 THEN NULL ELSE (i * 7907) % 60000 END,
    CASE WHEN i % 7 = 0 THEN NULL ELSE 10 + i % 50 END,
    CASE WHEN i % 7 = 0 THEN NULL ELSE 60 + i % 40 END,
    CASE WHEN i % 1000 = 0 THEN NULL
         ELSE CASE i % 5 WHEN 0 THEN 'Remote' WHEN 1 THEN 'EVDisconnected'
              WHEN 2 THEN 'Local' WHEN 3 THEN 'PowerLoss' ELSE 'Other' END END
FROM n
"""

SAMPLES = """
INSERT INTO meter_samples (ts, charger_id, connector_id, transaction_id, measurand, phase,
    unit, context, location, value)
WITH RECURSIVE k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < 23)
SELECT strftime('%Y-%m-%d %H:%M:%f000', t.start_ts, '+' || (k.j * 300) || ' seconds'),
    t.charger_id, t.connector_id, t.id, m.measurand, NULL, m.unit, 'Sample.Periodic',
    'Outlet',
    CASE m.measurand WHEN 'SoC' THEN min(100, 20 + k.j * 3)
         ELSE 1000.0 * (3 + (t.id % 19) + (k.j % 5)) END
FROM transactions t, k,
    (SELECT 'Power.Active.Import' AS measurand, 'W' AS unit UNION ALL SELECT 'SoC', 'Percent') m
WHERE t.id > :first
"""


PG_FILL = """
INSERT INTO transactions (charger_id, connector_id, id_tag, start_ts, meter_start_wh,
    stop_ts, meter_stop_wh, energy_wh, soc_start, soc_stop, stop_reason)
SELECT
    'CP-' || lpad((i % 200)::text, 3, '0'),
    1 + i % 2,
    'BADGE-' || lpad(((i * 7919) % 5000)::text, 4, '0'),
    timestamptz '2024-01-01 00:00:00+00' + make_interval(secs => i * 60),
    i * 10,
    CASE WHEN i % 1000 = 0 THEN NULL ELSE timestamptz '2024-01-01 00:00:00+00'
        + make_interval(secs => i * 60 + 600 + (i * 37) % 7200) END,
    CASE WHEN i % 1000 = 0 THEN NULL ELSE i * 10 + (i * 7907) % 60000 END,
    CASE WHEN i % 1000 = 0 THEN NULL ELSE (i * 7907) % 60000 END,
    CASE WHEN i % 7 = 0 THEN NULL ELSE 10 + i % 50 END,
    CASE WHEN i % 7 = 0 THEN NULL ELSE 60 + i % 40 END,
    CASE WHEN i % 1000 = 0 THEN NULL
         ELSE CASE i % 5 WHEN 0 THEN 'Remote' WHEN 1 THEN 'EVDisconnected'
              WHEN 2 THEN 'Local' WHEN 3 THEN 'PowerLoss' ELSE 'Other' END END
FROM generate_series(1::bigint, :count) AS i
"""

PG_SAMPLES = """
INSERT INTO meter_samples (ts, charger_id, connector_id, transaction_id, measurand, phase,
    unit, context, location, value)
SELECT t.start_ts + make_interval(secs => k.j * 300), t.charger_id, t.connector_id, t.id,
    m.measurand, NULL, m.unit, 'Sample.Periodic', 'Outlet',
    CASE m.measurand WHEN 'SoC' THEN least(100, 20 + k.j * 3)
         ELSE 1000.0 * (3 + (t.id % 19) + (k.j % 5)) END
FROM transactions t CROSS JOIN generate_series(0, 23) AS k(j)
    CROSS JOIN (VALUES ('Power.Active.Import', 'W'), ('SoC', 'Percent')) AS m(measurand, unit)
WHERE t.id > :first
"""


def fill(connection: Connection, count: int, sampled: int = 2000) -> None:
    postgres = connection.dialect.name == "postgresql"
    connection.execute(text(PG_FILL if postgres else FILL), {"count": count})
    first = max(0, count - sampled)
    connection.execute(text(PG_SAMPLES if postgres else SAMPLES), {"first": first})
    if postgres:
        connection.execute(text("ANALYZE transactions"))
        connection.execute(text("ANALYZE meter_samples"))


def timed(label: str, fn: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    value = fn()
    print(f"{label:<42} {(time.perf_counter() - started) * 1000:9.1f} ms")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--url", help="an empty PostgreSQL archive (default: temporary SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = args.url or f"sqlite:///{Path(directory) / 'archive.sqlite'}"
        engine = create_archive_engine(url)
        print(f"archive: {engine.dialect.name}")
        with engine.begin() as connection:
            upgrade_to_head(connection)
            if connection.execute(text("SELECT count(*) FROM transactions")).scalar_one():
                raise SystemExit("the archive given by --url must hold no transaction")

        def do_fill() -> None:
            with engine.begin() as connection:
                fill(connection, args.count)

        timed(f"fill {args.count:,} transactions", do_fill)
        every = TransactionFilter()
        newest = TransactionSort()
        n = timed("count (no filter)", lambda: count_transactions(engine, every))
        print(f"{'':<42} {n:,} rows")
        timed(
            "first page (start, newest first)",
            lambda: page_transactions(engine, every, newest, 0, PAGE),
        )
        timed(
            "page at the middle (OFFSET 500 000)",
            lambda: page_transactions(engine, every, newest, args.count // 2, PAGE),
        )
        for column in (
            TransactionColumn.ENERGY,
            TransactionColumn.DURATION,
            TransactionColumn.BADGE,
            TransactionColumn.MAX_POWER,
        ):
            timed(
                f"sort by {column.name.lower()}, first page",
                functools.partial(
                    page_transactions, engine, every, TransactionSort(column, True), 0, PAGE
                ),
            )
        timed(
            "sort by energy, page at OFFSET 500 000",
            lambda: page_transactions(
                engine,
                every,
                TransactionSort(TransactionColumn.ENERGY, True),
                args.count // 2,
                PAGE,
            ),
        )
        one = TransactionFilter(charger_id="CP-042")
        timed("filter charger: count", lambda: count_transactions(engine, one))
        timed("filter charger: first page", lambda: page_transactions(engine, one, newest, 0, PAGE))
        text_filter = TransactionFilter(text="badge-12")
        timed("free text: count", lambda: count_transactions(engine, text_filter))
        timed(
            "free text: first page", lambda: page_transactions(engine, text_filter, newest, 0, PAGE)
        )
        timed("session curve", lambda: session_curve(engine, args.count - 1))
        engine.dispose()


if __name__ == "__main__":
    main()
