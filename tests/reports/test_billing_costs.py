"""The monthly billing report with session costs: per badge, per badge group, in total."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine, insert

from evsuper.historian import schema
from evsuper.historian.archive import create_archive_engine
from evsuper.historian.migrate import upgrade_to_head
from evsuper.project.model import Badge, Project
from evsuper.reports.billing import money, write_billing_report

BADGES = (
    Badge("VAN-1", "Van 1", parent_id_tag="FLEET"),
    Badge("VAN-2", "Van 2", parent_id_tag="FLEET"),
    Badge("GUEST", "Guest"),
)
# badge, day of November 2026, cost, currency
SESSIONS: list[tuple[str, int, str | None, str | None]] = [
    ("VAN-1", 3, "4.25", "EUR"),
    ("VAN-1", 4, "1.10", "EUR"),
    ("VAN-2", 5, "2.00", "EUR"),
    ("GUEST", 6, "7.50", "CHF"),
    ("GUEST", 7, None, None),  # stopped while no tariff applied
]


@pytest.fixture
def archive(archive_url: str) -> Iterator[Engine]:
    engine = create_archive_engine(archive_url)
    with engine.begin() as connection:
        upgrade_to_head(connection)
        rows: list[dict[str, Any]] = []
        for id_tag, day, cost, currency in SESSIONS:
            start = datetime(2026, 11, day, 9, tzinfo=UTC)
            rows.append(
                {
                    "charger_id": "CP-1",
                    "connector_id": 1,
                    "id_tag": id_tag,
                    "start_ts": start,
                    "meter_start_wh": 0,
                    "stop_ts": start + timedelta(hours=1),
                    "meter_stop_wh": 10_000,
                    "energy_wh": 10_000,
                    "cost": None if cost is None else Decimal(cost),
                    "currency": currency,
                    "tariff": None if cost is None else "T",
                }
            )
        connection.execute(insert(schema.transactions), rows)
    yield engine
    engine.dispose()


def test_costs_per_badge_group_and_total(archive: Engine, tmp_path: Path) -> None:
    project = Project(directory=tmp_path, name="Depot", badges=BADGES)
    out = tmp_path / "billing.pdf"
    data = write_billing_report(out, archive, project, 2026, 11, "UTC")
    bills = {b.id_tag: b for b in data.badges}
    assert bills["VAN-1"].costs == {"EUR": Decimal("5.35")}
    assert bills["GUEST"].costs == {"CHF": Decimal("7.50")}  # the uncosted session left out
    assert data.costed
    assert money({"EUR": Decimal("7.35"), "CHF": Decimal("7.5")}) == "7.50 CHF + 7.35 EUR"

    text = "\n".join(page.extract_text() or "" for page in PdfReader(str(out)).pages)
    assert "Cost" in text
    assert "5.35 EUR" in text  # VAN-1
    assert "7.35 EUR" in text  # the FLEET group
    assert "7.50 CHF + 7.35 EUR" in " ".join(text.split())  # all badges: never converted
    assert "4.25 EUR" in text and "1.10 EUR" in text  # the sessions


def test_no_cost_column_without_costs(archive: Engine, tmp_path: Path) -> None:
    project = Project(directory=tmp_path, name="Depot", badges=BADGES)
    out = tmp_path / "october.pdf"
    data = write_billing_report(out, archive, project, 2026, 10, "UTC")
    assert not data.costed
    text = "\n".join(page.extract_text() or "" for page in PdfReader(str(out)).pages)
    assert "Cost" not in text
