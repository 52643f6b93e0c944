"""The cost columns of the history: read, sorted and filtered in SQL (SQLite, PostgreSQL),
and exported with the currency beside the amount."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, insert

from evsuper.historian import schema
from evsuper.historian.archive import create_archive_engine
from evsuper.historian.migrate import upgrade_to_head
from evsuper.historian.transactions import (
    HEADERS,
    TransactionColumn,
    TransactionFilter,
    TransactionSort,
    iter_transactions,
    page_transactions,
)
from evsuper.reports.tables import write_csv, write_xlsx

START = datetime(2026, 11, 20, 8, tzinfo=UTC)
COSTS = (
    ("12.34", "EUR", "Public"),
    (None, None, None),
    ("3.10", "CHF", "Fleet"),
    ("7.05", "EUR", "Public"),
)


def fill(engine: Engine) -> None:
    rows = [
        {
            "charger_id": "CP-1",
            "connector_id": 1,
            "id_tag": f"B{i}",
            "start_ts": START + timedelta(hours=i),
            "meter_start_wh": 0,
            "stop_ts": START + timedelta(hours=i, minutes=30),
            "meter_stop_wh": 1000,
            "energy_wh": 1000,
            "cost": None if cost is None else Decimal(cost),
            "currency": currency,
            "tariff": tariff,
        }
        for i, (cost, currency, tariff) in enumerate(COSTS)
    ]
    with engine.begin() as connection:
        connection.execute(insert(schema.transactions), rows)


@pytest.fixture
def archive(archive_url: str) -> Iterator[Engine]:
    engine = create_archive_engine(archive_url)
    with engine.begin() as connection:
        upgrade_to_head(connection)
    fill(engine)
    yield engine
    engine.dispose()


Costs = list[tuple[Decimal | None, str | None, str | None]]


def costs(engine: Engine, sort: TransactionSort, where: TransactionFilter | None = None) -> Costs:
    rows = page_transactions(engine, where or TransactionFilter(), sort, 0, 10)
    return [(r.cost, r.currency, r.tariff) for r in rows]


def test_costs_sort_as_numbers_with_the_empty_ones_last(archive: Engine) -> None:
    ascending = costs(archive, TransactionSort(TransactionColumn.COST, False))
    assert [c for c, _, _ in ascending] == [
        Decimal("3.10"),
        Decimal("7.05"),
        Decimal("12.34"),
        None,
    ]
    descending = costs(archive, TransactionSort(TransactionColumn.COST, True))
    assert [c for c, _, _ in descending] == [
        Decimal("12.34"),
        Decimal("7.05"),
        Decimal("3.10"),
        None,
    ]
    assert costs(archive, TransactionSort(), TransactionFilter(tariff="Fleet")) == [
        (Decimal("3.10"), "CHF", "Fleet")
    ]


def test_the_export_has_the_amount_and_its_currency(archive: Engine, tmp_path: Path) -> None:
    headers = [HEADERS[c] for c in TransactionColumn]
    assert headers[-3:] == ["Cost", "Tariff", "Currency"]
    sort = TransactionSort(TransactionColumn.START, False)
    write_csv(
        tmp_path / "t.csv",
        headers,
        (r.cells() for r in iter_transactions(archive, TransactionFilter(), sort)),
    )
    with (tmp_path / "t.csv").open(newline="") as f:
        rows = list(csv.reader(f))
    assert [row[-3:] for row in rows[1:]] == [
        ["12.34", "Public", "EUR"],
        ["", "", ""],
        ["3.10", "Fleet", "CHF"],
        ["7.05", "Public", "EUR"],
    ]
    write_xlsx(
        tmp_path / "t.xlsx",
        "T",
        headers,
        (r.cells() for r in iter_transactions(archive, TransactionFilter(), sort)),
    )
    sheet = load_workbook(tmp_path / "t.xlsx").active
    assert sheet is not None
    assert sheet.cell(row=2, column=len(headers) - 2).value == pytest.approx(12.34)  # a number
