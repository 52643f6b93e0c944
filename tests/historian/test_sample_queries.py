"""Trend queries on a real archive, SQLite and PostgreSQL: raw and down-sampled series,
range edges, units, the pens a charger has."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from evsuper.historian import schema
from evsuper.historian.aggregates import aggregate_chunk
from evsuper.historian.archive import create_archive_engine
from evsuper.historian.migrate import upgrade_to_head
from evsuper.historian.samples import (
    ENERGY_REGISTER,
    POWER,
    SOC,
    Pen,
    available_pens,
    gaps_broken,
    series,
)
from evsuper.historian.units import display_unit

T0 = datetime(2026, 11, 1, tzinfo=UTC)
PEN = Pen("CP-1", 1, POWER)


@pytest.fixture
def engine(archive_url: str) -> Iterator[Engine]:
    engine = create_archive_engine(archive_url)
    with engine.begin() as connection:
        upgrade_to_head(connection)
    yield engine
    engine.dispose()


def sample(
    ts: datetime,
    value: float,
    *,
    measurand: str = POWER,
    unit: str = "W",
    charger_id: str = "CP-1",
    connector_id: int = 1,
    phase: str | None = None,
) -> dict[str, Any]:
    return {
        "ts": ts,
        "charger_id": charger_id,
        "connector_id": connector_id,
        "transaction_id": None,
        "measurand": measurand,
        "phase": phase,
        "unit": unit,
        "context": "Sample.Periodic",
        "location": "Outlet",
        "value": value,
    }


def insert_samples(engine: Engine, rows: list[dict[str, Any]]) -> None:
    """Rows as the archive writes them, folded into the aggregates as it does each minute."""
    with engine.begin() as connection:
        connection.execute(insert(schema.meter_samples), rows)
        while aggregate_chunk(connection):
            pass


def test_few_samples_come_back_raw_in_display_units(engine: Engine) -> None:
    insert_samples(engine, [sample(T0 + timedelta(seconds=10 * i), 1000.0 * i) for i in range(5)])
    result = series(engine, PEN, T0, T0 + timedelta(hours=1), max_points=100)
    assert not result.downsampled
    assert result.raw_count == 5
    assert result.times == [(T0 + timedelta(seconds=10 * i)).timestamp() for i in range(5)]
    assert result.values == [0.0, 1.0, 2.0, 3.0, 4.0]  # W → kW


def test_range_edges_are_inclusive_and_other_pens_excluded(engine: Engine) -> None:
    insert_samples(
        engine,
        [sample(T0 + timedelta(minutes=i), float(i)) for i in range(10)]
        + [
            sample(T0 + timedelta(minutes=3), 99.0, connector_id=2),
            sample(T0 + timedelta(minutes=3), 98.0, charger_id="CP-2"),
            sample(T0 + timedelta(minutes=3), 97.0, phase="L1"),
            sample(T0 + timedelta(minutes=3), 50.0, measurand=SOC, unit="Percent"),
        ],
    )
    result = series(engine, PEN, T0 + timedelta(minutes=2), T0 + timedelta(minutes=5))
    assert [v * 1000 for v in result.values] == pytest.approx([2.0, 3.0, 4.0, 5.0])
    phase = series(engine, Pen("CP-1", 1, POWER, "L1"), T0, T0 + timedelta(hours=1))
    assert phase.values == [pytest.approx(0.097)]


def test_long_ranges_are_down_sampled_in_buckets_keeping_min_and_max(engine: Engine) -> None:
    # one day at one sample a minute: a flat 7 kW with one spike and one dip
    rows = []
    for i in range(24 * 60):
        value = 7000.0
        if i == 600:
            value = 22000.0
        elif i == 900:
            value = 0.0
        rows.append(sample(T0 + timedelta(minutes=i), value))
    insert_samples(engine, rows)
    result = series(engine, PEN, T0, T0 + timedelta(days=1), max_points=100)
    assert result.downsampled
    assert result.raw_count == 24 * 60
    assert len(result.times) <= 100
    assert len(result.times) // 2 <= 50  # buckets
    assert result.bucket_s == 1740  # 24 h / 50, in whole minutes: read from meter_minutes
    assert max(result.values) == 22.0  # the spike survives
    assert min(result.values) == 0.0  # so does the dip
    assert result.times == sorted(result.times)
    # each bucket: its minimum then its maximum, at the time of its first sample
    pairs = list(zip(result.values[::2], result.values[1::2], strict=True))
    assert all(low <= high for low, high in pairs)
    assert result.times[0] == T0.timestamp()
    spike_time = (T0 + timedelta(minutes=600)).timestamp()
    spike_bucket = next(i for i, (_, high) in enumerate(pairs) if high == 22.0)
    first = result.times[2 * spike_bucket]
    assert first <= spike_time < first + result.bucket_s


def test_a_bucketed_range_only_reads_inside_its_edges(engine: Engine) -> None:
    insert_samples(engine, [sample(T0 + timedelta(seconds=i), 1000.0 * i) for i in range(1000)])
    result = series(
        engine, PEN, T0 + timedelta(seconds=100), T0 + timedelta(seconds=199), max_points=20
    )
    assert result.raw_count == 100
    assert min(result.values) == pytest.approx(100.0)
    assert max(result.values) == pytest.approx(199.0)
    assert result.downsampled
    assert min(result.times) >= (T0 + timedelta(seconds=100)).timestamp()


def test_kilo_units_and_mixed_units_are_normalised_in_one_place(engine: Engine) -> None:
    insert_samples(
        engine,
        [
            sample(T0, 7000.0, unit="W"),
            sample(T0 + timedelta(seconds=10), 7.5, unit="kW"),
            sample(T0, 12000.0, measurand=ENERGY_REGISTER, unit="Wh"),
            sample(T0, 42.0, measurand=SOC, unit="Percent"),
        ],
    )
    assert series(engine, PEN, T0, T0 + timedelta(minutes=1)).values == [7.0, 7.5]
    energy = series(engine, Pen("CP-1", 1, ENERGY_REGISTER), T0, T0 + timedelta(minutes=1))
    assert energy.values == [12.0]
    assert display_unit("W") == "kW"
    assert display_unit("Wh") == "kWh"
    assert display_unit("Percent") == "%"
    assert display_unit("A") == "A"


def test_available_pens_list_the_measurands_present(engine: Engine) -> None:
    insert_samples(
        engine,
        [
            sample(T0, 7000.0),
            sample(T0, 7.0, unit="kW"),  # same pen in another unit: listed once
            sample(T0, 42.0, measurand=SOC, unit="Percent"),
            sample(T0, 16.0, measurand="Current.Import", unit="A", phase="L1"),
            sample(T0, 1.0, connector_id=2),
            sample(T0, 1.0, charger_id="CP-2"),
        ],
    )
    pens = available_pens(engine, "CP-1")
    assert [(p.connector_id, p.measurand, p.phase, p.unit) for p in pens] == [
        (1, "Current.Import", "L1", "A"),
        (1, POWER, None, "kW"),
        (1, SOC, None, "%"),
        (2, POWER, None, "kW"),
    ]
    assert pens[1].live_tag == "CP-1/C1/power_kw"
    assert pens[2].live_tag == "CP-1/C1/soc"
    assert pens[0].live_tag is None
    assert available_pens(engine, "CP-1", since=T0 + timedelta(seconds=1)) == []


def test_silences_are_drawn_as_gaps() -> None:
    # samples every 10 s, then nothing for an hour (no session), then again
    times = [0.0, 10.0, 20.0, 30.0, 3630.0, 3640.0]
    values = [7.0, 7.0, 6.0, 5.0, 11.0, 11.0]
    t, v = gaps_broken(times, values)
    assert t == [0.0, 10.0, 20.0, 30.0, 1830.0, 3630.0, 3640.0]
    assert math.isnan(v[4]) and v[:4] + v[5:] == values
    assert gaps_broken(times[:4], values[:4]) == (times[:4], values[:4])
    # down-sampled: consecutive buckets are less than two widths apart
    t, v = gaps_broken([0.0, 0.0, 100.0, 100.0, 190.0, 190.0, 500.0, 500.0], [1.0] * 8, 100)
    assert len(t) == 9 and math.isnan(v[6])
