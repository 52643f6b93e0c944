"""Transaction history queries on a real archive (SQLite and PostgreSQL): filters, sort by
every column with ties and empty values, paging without gaps or duplicates, max power."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from evsuper.historian import schema
from evsuper.historian.archive import create_archive_engine
from evsuper.historian.migrate import upgrade_to_head
from evsuper.historian.transactions import (
    TransactionColumn,
    TransactionFilter,
    TransactionRow,
    TransactionSort,
    count_transactions,
    iter_transactions,
    page_transactions,
    session_curve,
)

BASE = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)

# id, charger, connector, badge, start (min), duration (min) or None, soc start, soc stop,
# energy Wh or None, stop reason
SESSIONS = [
    (1, "CP-01", 1, "B-01", 0, 60, 20.0, 80.0, 30000, "EVDisconnected"),
    (2, "CP-01", 2, "B-02", 10, 30, None, None, 12000, "Local"),
    (3, "CP-02", 1, "B-01", 20, 60, 20.0, 90.0, 30000, "Remote"),
    (4, "CP-02", 1, "B-03", 30, None, 35.0, None, None, None),
    (5, "CP-03", 2, "B-02", 40, 90, 10.0, 80.0, 45000, "EVDisconnected"),
    (6, "CP-01", 1, "B-04", 50, 30, 50.0, 70.0, 5000, "PowerLoss"),
    (7, "CP-03", 1, "B-01", 60, 15, None, 55.0, 2000, "Local"),
    (8, "CP-02", 2, "B_5%", 70, 60, 20.0, 80.0, 30000, "Remote"),
    (9, "CP-04", 1, "B-02", 80, 45, 40.0, 95.0, 25000, "EVDisconnected"),
    (10, "CP-01", 2, "B-03", 90, None, None, None, None, None),
]
# transaction id → total power samples (value, unit), plus noise that must not count
POWER = {1: [(7000.0, "W"), (11000.0, "W")], 3: [(22.0, "kW"), (11.0, "kW")], 5: [(7400.0, "W")]}


def _fill(engine: Engine) -> None:
    rows: list[dict[str, Any]] = []
    for tid, charger, connector, badge, start, minutes, soc0, soc1, energy, reason in SESSIONS:
        start_ts = BASE + timedelta(minutes=start)
        stop_ts = None if minutes is None else start_ts + timedelta(minutes=minutes)
        rows.append(
            {
                "id": tid,
                "charger_id": charger,
                "connector_id": connector,
                "id_tag": badge,
                "start_ts": start_ts,
                "meter_start_wh": 1000 * tid,
                "stop_ts": stop_ts,
                "meter_stop_wh": None if energy is None else 1000 * tid + energy,
                "energy_wh": energy,
                "soc_start": soc0,
                "soc_stop": soc1,
                "stop_reason": reason,
            }
        )
    samples: list[dict[str, Any]] = []

    def sample(
        tid: int, n: int, measurand: str, unit: str, value: float, phase: Any = None
    ) -> None:
        samples.append(
            {
                "ts": BASE + timedelta(minutes=SESSIONS[tid - 1][4] + n),
                "charger_id": SESSIONS[tid - 1][1],
                "connector_id": SESSIONS[tid - 1][2],
                "transaction_id": tid,
                "measurand": measurand,
                "phase": phase,
                "unit": unit,
                "context": "Sample.Periodic",
                "location": "Outlet",
                "value": value,
            }
        )

    for tid, values in POWER.items():
        for n, (value, unit) in enumerate(values):
            sample(tid, n, "Power.Active.Import", unit, value)
            sample(tid, n, "SoC", "Percent", 20.0 + 10 * n)
            sample(tid, n, "Power.Active.Import", "W", 99000.0, phase="L1")  # a phase
            sample(tid, n, "Power.Offered", "W", 99000.0)  # not the power used
    with engine.begin() as connection:
        connection.execute(insert(schema.transactions), rows)
        connection.execute(insert(schema.meter_samples), samples)


@pytest.fixture
def archive(archive_url: str) -> Iterator[Engine]:
    engine = create_archive_engine(archive_url)
    with engine.begin() as connection:
        upgrade_to_head(connection)
    _fill(engine)
    yield engine
    engine.dispose()


def _ids(rows: list[TransactionRow]) -> list[int]:
    return [r.id for r in rows]


def _all(engine: Engine, where: TransactionFilter, sort: TransactionSort) -> list[int]:
    return _ids(page_transactions(engine, where, sort, 0, 1000))


def _key(row: TransactionRow, column: TransactionColumn) -> Any:
    return row.cells()[column]


def _expected(rows: list[TransactionRow], sort: TransactionSort) -> list[int]:
    """Empty values last whatever the direction; ties by id in the same direction."""
    present = [r for r in rows if _key(r, sort.column) is not None]
    empty = [r for r in rows if _key(r, sort.column) is None]
    present.sort(key=lambda r: (_key(r, sort.column), r.id), reverse=sort.descending)
    empty.sort(key=lambda r: r.id, reverse=sort.descending)
    return _ids(present + empty)


def test_rows_carry_the_columns_of_the_view(archive: Engine) -> None:
    rows = {
        r.id: r for r in page_transactions(archive, TransactionFilter(), TransactionSort(), 0, 50)
    }
    first = rows[1]
    assert (first.charger_id, first.connector_id, first.id_tag) == ("CP-01", 1, "B-01")
    assert first.start == BASE and first.stop == BASE + timedelta(minutes=60)
    assert first.duration_s == 3600
    assert (first.soc_start, first.soc_stop) == (20.0, 80.0)
    assert first.energy_kwh == pytest.approx(30.0)
    assert first.max_power_kw == pytest.approx(11.0)  # W → kW, phases and offers left out
    assert rows[3].max_power_kw == pytest.approx(22.0)  # already kW
    assert rows[2].max_power_kw is None  # no samples
    assert rows[4].stop is None and rows[4].duration_s is None and rows[4].energy_kwh is None


def test_count_and_filters(archive: Engine) -> None:
    every = TransactionFilter()
    assert count_transactions(archive, every) == len(SESSIONS)
    cases: list[tuple[TransactionFilter, set[int]]] = [
        (TransactionFilter(charger_id="CP-01"), {1, 2, 6, 10}),
        (TransactionFilter(id_tag="B-02"), {2, 5, 9}),
        (TransactionFilter(stop_reason="Remote"), {3, 8}),
        (
            TransactionFilter(
                since=BASE + timedelta(minutes=20), until=BASE + timedelta(minutes=50)
            ),
            {3, 4, 5},
        ),
        (TransactionFilter(since=BASE + timedelta(minutes=80)), {9, 10}),
        (TransactionFilter(text="evdisc"), {1, 5, 9}),  # any case
        (TransactionFilter(text="cp-03"), {5, 7}),
        (TransactionFilter(text="_5%"), {8}),  # wildcards are plain characters
        (TransactionFilter(text="%"), {8}),
        (TransactionFilter(charger_id="CP-02", text="remote"), {3, 8}),
        (TransactionFilter(charger_id="CP-02", id_tag="B-01", stop_reason="Remote"), {3}),
        (TransactionFilter(charger_id="CP-99"), set()),
        (TransactionFilter(chargers=("CP-01", "CP-03")), {1, 2, 5, 6, 7, 10}),  # a site
        (TransactionFilter(chargers=("CP-01", "CP-03"), id_tag="B-02"), {2, 5}),
        (TransactionFilter(chargers=("CP-04",), id_tag="B-01"), set()),
    ]
    for where, expected in cases:
        assert set(_all(archive, where, TransactionSort())) == expected, where
        assert count_transactions(archive, where) == len(expected), where


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("column", list(TransactionColumn), ids=lambda c: c.name.lower())
def test_sort_by_every_column(archive: Engine, column: TransactionColumn, descending: bool) -> None:
    sort = TransactionSort(column, descending)
    rows = page_transactions(archive, TransactionFilter(), TransactionSort(), 0, 1000)
    assert _all(archive, TransactionFilter(), sort) == _expected(rows, sort)


@pytest.mark.parametrize("column", list(TransactionColumn), ids=lambda c: c.name.lower())
def test_pages_have_no_gaps_nor_duplicates(archive: Engine, column: TransactionColumn) -> None:
    for descending in (False, True):
        sort = TransactionSort(column, descending)
        whole = _all(archive, TransactionFilter(), sort)
        paged: list[int] = []
        for offset in range(0, len(SESSIONS) + 3, 3):
            paged += _ids(page_transactions(archive, TransactionFilter(), sort, offset, 3))
        assert paged == whole
        assert sorted(paged) == sorted(s[0] for s in SESSIONS)


def test_filtered_and_sorted_together(archive: Engine) -> None:
    where = TransactionFilter(text="b-0")
    sort = TransactionSort(TransactionColumn.ENERGY, descending=True)
    assert _all(archive, where, sort) == [5, 3, 1, 9, 2, 6, 7, 10, 4]
    assert _ids(list(iter_transactions(archive, where, sort, chunk=2))) == _all(
        archive, where, sort
    )


def test_session_curve(archive: Engine) -> None:
    curve = session_curve(archive, 1)
    assert [v for _, v in curve.power_kw] == [7.0, 11.0]
    assert [v for _, v in curve.soc] == [20.0, 30.0]
    assert curve.power_kw[0][0] == BASE
    assert session_curve(archive, 3).power_kw[0][1] == 22.0
    empty = session_curve(archive, 2)
    assert empty.power_kw == [] and empty.soc == []
