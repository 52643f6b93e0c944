"""Session costs end to end: a project with tariffs, a charger speaking OCPP 1.6J over a
real WebSocket, and the cost the archive stored with the stop (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from ocpp.v16 import ChargePoint, call
from sqlalchemy import create_engine, select
from websockets.asyncio.client import connect

from evsuper.core.bus import TagBus
from evsuper.core.tariffs import Pricing
from evsuper.engine.runtime import Engine
from evsuper.historian import schema
from evsuper.historian.archive import Archive
from evsuper.project.loader import load_project
from evsuper.project.model import TariffSetting

PROJECT = """\
format_version = 1
name = "Tariff site"

[ocpp]
port = 0
authorization = "open"

[archive]
url = "{url}"

[simulator]
enabled = false

[notifications]
timezone = "UTC"

[[chargers]]
id = "CP-1"
connectors = 1

[[badges]]
id_tag = "CAR-1"
parent_id_tag = "FLEET"

[[tariffs]]
name = "Fleet"
session_fee = 0.25
energy_price_per_kwh = 0.30
groups = ["FLEET"]
periods = [{{ hours = "22:00-06:00", energy_price_per_kwh = 0.10 }}]

[[tariffs]]
name = "Public"
currency = "CHF"
session_fee = 0.50
energy_price_per_kwh = 0.40
time_price_per_hour = 1
default = true
"""


@pytest.fixture
async def engine(archive_url: str, tmp_path: Path) -> AsyncIterator[Engine]:
    (tmp_path / "project.toml").write_text(PROJECT.format(url=archive_url))
    engine = Engine(load_project(tmp_path), run_simulator=False)
    await engine.start()
    yield engine
    await engine.stop()


async def session(
    cp: ChargePoint,
    id_tag: str,
    start: str,
    stop: str,
    meter: tuple[int, int],
    samples: tuple[tuple[str, dict[str, str]], ...] = (),
) -> int:
    """Start, meter values (time, sampledValue), stop; returns the transaction id."""
    started = await cp.call(
        call.StartTransaction(connector_id=1, id_tag=id_tag, meter_start=meter[0], timestamp=start)
    )
    transaction_id: int = started.transaction_id
    for ts, sampled in samples:
        await cp.call(
            call.MeterValues(
                connector_id=1,
                transaction_id=transaction_id,
                meter_value=[{"timestamp": ts, "sampledValue": [sampled]}],
            )
        )
    await cp.call(
        call.StopTransaction(
            meter_stop=meter[1], timestamp=stop, transaction_id=transaction_id, id_tag=id_tag
        )
    )
    return transaction_id


async def test_the_cost_is_stored_with_the_stop(engine: Engine) -> None:
    async with connect(engine.central.url_for("CP-1"), subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        cp = ChargePoint("CP-1", ws)
        task = asyncio.create_task(cp.start())
        try:
            await cp.call(call.BootNotification(charge_point_model="T", charge_point_vendor="T"))
            # Fleet: 3 kWh before 22:00 at 0.30, 1 kWh after at 0.10, + 0.25 (the register
            # sample, in kWh, decides the split: prorated by time it would be 1.05)
            register = {"value": "4.0", "unit": "kWh", "measurand": "Energy.Active.Import.Register"}
            fleet = await session(
                cp,
                "CAR-1",
                "2026-11-20T21:30:00Z",
                "2026-11-20T22:30:00Z",
                (1000, 5000),
                (("2026-11-20T22:00:00Z", register),),
            )
            # Public (default): 0.50 + 7.5 kWh at 0.40 + 1.5 h at 1.00
            public = await session(
                cp, "GUEST", "2026-11-21T10:00:00Z", "2026-11-21T11:30:00Z", (0, 7500)
            )
        finally:
            task.cancel()
    t = schema.transactions
    with engine.archive.engine.connect() as connection:
        rows = connection.execute(
            select(t.c.id, t.c.cost, t.c.currency, t.c.tariff).order_by(t.c.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        (fleet, Decimal("1.25"), "EUR", "Fleet"),
        (public, Decimal("5.00"), "CHF", "Public"),
    ]


async def test_no_tariff_no_cost_and_a_new_price_leaves_history_alone(archive_url: str) -> None:
    fleet = TariffSetting("Fleet", energy_price_per_kwh=Decimal("0.30"), groups=("FLEET",))
    start, stop = datetime(2026, 11, 20, 8, tzinfo=UTC), datetime(2026, 11, 20, 9, tzinfo=UTC)

    async def charge(price: str, id_tag: str) -> None:
        tariff = dataclasses.replace(fleet, energy_price_per_kwh=Decimal(price))
        archive = Archive(archive_url, TagBus(), pricing=Pricing((tariff,), {"CAR-1": "FLEET"}))
        await archive.start()
        try:
            opened = await archive.start_transaction("CP-1", 1, id_tag, start, 0, None)
            await archive.stop_transaction(opened.id, stop, 10_000, "Local", id_tag)
        finally:
            await archive.stop()

    await charge("0.30", "CAR-1")
    await charge("0.30", "GUEST")  # no group tariff and no default: no cost
    await charge("0.50", "CAR-1")  # the price changed (an engine restart with the new project)
    t = schema.transactions
    engine = create_engine(archive_url)
    try:
        with engine.connect() as connection:
            query = select(t.c.id_tag, t.c.cost, t.c.currency, t.c.tariff).order_by(t.c.id)
            rows = [tuple(r) for r in connection.execute(query)]
    finally:
        engine.dispose()
    assert rows == [
        ("CAR-1", Decimal("3.00"), "EUR", "Fleet"),
        ("GUEST", None, None, None),
        ("CAR-1", Decimal("5.00"), "EUR", "Fleet"),
    ]
