"""The cost columns of a transaction as it stops (run in the archive writer's batch)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, select

from evsuper.core.tariffs import Pricing, session_cost
from evsuper.historian import schema

ENERGY_REGISTER = "Energy.Active.Import.Register"


def stop_cost(
    connection: Connection,
    pricing: Pricing,
    row: RowMapping,
    stop_ts: datetime,
    meter_stop_wh: int,
) -> dict[str, Any]:
    """``cost``, ``currency`` and ``tariff`` of the stopping transaction ``row``; empty when
    no tariff applies to its badge. Register samples are read only for time-of-day prices."""
    tariff = pricing.tariff_for(row["id_tag"])
    if tariff is None:
        return {}
    register = _register(connection, row["id"]) if tariff.periods else []
    cost = session_cost(
        tariff,
        row["start_ts"],
        stop_ts,
        row["meter_start_wh"],
        meter_stop_wh,
        register,
        pricing.zone,
    )
    return {"cost": cost, "currency": tariff.currency, "tariff": tariff.name}


def _register(connection: Connection, transaction_id: int) -> list[tuple[datetime, float]]:
    """The session's total energy register samples (Wh), oldest first."""
    m = schema.meter_samples
    query = (
        select(m.c.ts, m.c.unit, m.c.value)
        .where(
            m.c.transaction_id == transaction_id,
            m.c.measurand == ENERGY_REGISTER,
            m.c.phase.is_(None),
        )
        .order_by(m.c.ts, m.c.id)
    )
    return [
        (ts, value * 1000.0 if unit == "kWh" else value)
        for ts, unit, value in connection.execute(query)
    ]
