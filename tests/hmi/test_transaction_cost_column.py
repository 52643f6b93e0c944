"""The cost column of the transaction history: "12.34 EUR", right-aligned, sorted in SQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import Engine, insert

from evsuper.historian import schema
from evsuper.historian.archive import create_archive_engine
from evsuper.historian.migrate import upgrade_to_head
from evsuper.historian.transactions import TransactionColumn, TransactionReader
from evsuper.hmi.formatting import NO_VALUE
from evsuper.hmi.models.transactions import COLUMNS, TransactionTableModel

START = datetime(2026, 11, 20, 8, tzinfo=UTC)


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Engine]:
    engine = create_archive_engine(f"sqlite:///{tmp_path / 'archive.sqlite'}")
    with engine.begin() as connection:
        upgrade_to_head(connection)
        connection.execute(
            insert(schema.transactions),
            [
                {
                    "charger_id": "CP-1",
                    "connector_id": 1,
                    "id_tag": "B1",
                    "start_ts": START + timedelta(hours=i),
                    "meter_start_wh": 0,
                    "cost": cost,
                    "currency": None if cost is None else "EUR",
                    "tariff": None if cost is None else "Public",
                }
                for i, cost in enumerate((Decimal("12.34"), None, Decimal("2.50")))
            ],
        )
    yield engine
    engine.dispose()


def column(model: TransactionTableModel, which: TransactionColumn) -> list[Any]:
    return [model.data(model.index(r, int(which))) for r in range(model.rowCount())]


def test_cost_reads_with_its_currency_and_sorts_in_sql(qtbot: Any, archive: Engine) -> None:
    assert COLUMNS[-2:] == ("Cost", "Tariff")  # the currency is in the cell, not a column
    model = TransactionTableModel(TransactionReader(archive))
    try:
        with qtbot.waitSignal(model.loaded, timeout=10_000):
            model.sort(int(TransactionColumn.COST), Qt.SortOrder.AscendingOrder)
        assert column(model, TransactionColumn.COST) == ["2.50 EUR", "12.34 EUR", NO_VALUE]
        assert column(model, TransactionColumn.TARIFF) == ["Public", "Public", NO_VALUE]
        alignment = model.data(
            model.index(0, int(TransactionColumn.COST)), Qt.ItemDataRole.TextAlignmentRole
        )
        assert alignment & Qt.AlignmentFlag.AlignRight
        with qtbot.waitSignal(model.loaded, timeout=10_000):
            model.sort(int(TransactionColumn.COST), Qt.SortOrder.DescendingOrder)
        assert column(model, TransactionColumn.COST) == ["12.34 EUR", "2.50 EUR", NO_VALUE]
    finally:
        model.close()
