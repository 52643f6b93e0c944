"""Energy figures from a real archive (SQLite and PostgreSQL), checked against hand counts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert

from evsuper.historian import energy, schema
from evsuper.historian.archive import create_archive_engine
from evsuper.historian.migrate import upgrade_to_head
from evsuper.project.model import Place

DAY = datetime(2026, 11, 21, tzinfo=UTC)
H = timedelta(hours=1)


def at(hours: float) -> datetime:
    return DAY + timedelta(hours=hours)


@pytest.fixture
def archive(archive_url: str) -> Iterator[Engine]:
    engine = create_archive_engine(archive_url)
    with engine.begin() as db:
        upgrade_to_head(db)
        db.execute(
            insert(schema.transactions),
            [
                # CP-1: two sessions that day (badge A 10 kWh over 2 h, badge B 5 kWh over 1 h)
                _tx(1, "CP-1", 1, "A", at(8), at(10), 10_000),
                _tx(2, "CP-1", 2, "B", at(9), at(10), 5_000),
                # CP-2: one session from the day before, stopped that day (billed that day)
                _tx(3, "CP-2", 1, "A", at(-2), at(1), 3_000),
                # CP-2: still charging at the end of the day
                _tx(4, "CP-2", 1, "B", at(23), None, None),
                # the next day: not that day's
                _tx(5, "CP-1", 1, "A", at(25), at(26), 7_000),
            ],
        )
        samples = []
        for minute in range(0, 60, 5):  # 08:00-09:00: CP-1 C1 at 11 kW (in W), C2 at 7 kW
            ts = at(8) + timedelta(minutes=minute)
            samples.append(_power(ts, "CP-1", 1, 11_000.0, "W"))
            samples.append(_power(ts, "CP-1", 2, 7.0, "kW"))
        db.execute(insert(schema.meter_samples), samples)
        db.execute(
            insert(schema.charger_events),
            [
                {"ts": at(-5), "charger_id": "CP-1", "kind": "connected", "detail": ""},
                {"ts": at(12), "charger_id": "CP-1", "kind": "disconnected", "detail": ""},
                {"ts": at(18), "charger_id": "CP-1", "kind": "connected", "detail": ""},
                {"ts": at(-1), "charger_id": "CP-2", "kind": "connected", "detail": ""},
            ],
        )
        db.execute(
            insert(schema.connector_status),
            [_status(at(2), "CP-2", "Faulted"), _status(at(5), "CP-2", "Available")],
        )
    yield engine
    engine.dispose()


def _tx(
    id: int,
    charger: str,
    connector: int,
    tag: str,
    start: datetime,
    stop: datetime | None,
    energy_wh: int | None,
) -> dict[str, object]:
    return {
        "id": id,
        "charger_id": charger,
        "connector_id": connector,
        "id_tag": tag,
        "start_ts": start,
        "meter_start_wh": 0,
        "stop_ts": stop,
        "meter_stop_wh": energy_wh,
        "energy_wh": energy_wh,
    }


def _power(
    ts: datetime, charger: str, connector: int, value: float, unit: str
) -> dict[str, object]:
    return {
        "ts": ts,
        "charger_id": charger,
        "connector_id": connector,
        "transaction_id": None,
        "measurand": energy.POWER,
        "phase": None,
        "unit": unit,
        "context": "Sample.Periodic",
        "location": "Outlet",
        "value": value,
    }


def _status(ts: datetime, charger: str, status: str) -> dict[str, object]:
    return {
        "ts": ts,
        "charger_id": charger,
        "connector_id": 0,
        "status": status,
        "error_code": "NoError",
    }


def test_sessions_of_the_day_by_bollard_and_by_badge(archive: Engine) -> None:
    day = energy.sessions(archive, DAY, DAY + 24 * H)
    assert [s.id for s in day] == [3, 1, 2, 4]
    assert day[-1].stop is None and day[-1].duration_s is None
    by_charger = {t.key: t for t in energy.totals(day, "charger_id")}
    assert (by_charger["CP-1"].sessions, by_charger["CP-1"].energy_kwh) == (2, 15.0)
    assert by_charger["CP-1"].average_duration_s == 1.5 * 3600
    assert (by_charger["CP-2"].sessions, by_charger["CP-2"].energy_kwh) == (1, 3.0)
    by_badge = {t.key: (t.sessions, t.energy_kwh) for t in energy.totals(day, "id_tag")}
    assert by_badge == {"A": (2, 13.0), "B": (1, 5.0)}


def test_load_curve_sums_connectors_in_kw(archive: Engine) -> None:
    curve = energy.load_curve(archive, DAY, DAY + 24 * H, bucket_s=900)
    assert [(ts - DAY, round(kw, 6)) for ts, kw in curve] == [
        (timedelta(hours=8, minutes=m), 18.0) for m in (0, 15, 30, 45)
    ]


def test_utilisation_and_availability(archive: Engine) -> None:
    since, until = DAY, DAY + 24 * H
    day = energy.sessions(archive, since, until)
    used = energy.utilisation(day, {"CP-1": 2, "CP-2": 1, "CP-3": 2}, since, until)
    assert used["CP-1"] == pytest.approx((2 + 1) / 48)  # 3 connector-hours of 48
    assert used["CP-2"] == pytest.approx((1 + 1) / 24)  # 00-01 and 23-24
    assert used["CP-3"] == 0.0
    available = energy.availability(archive, ["CP-1", "CP-2", "CP-3"], since, until)
    assert available["CP-1"] == pytest.approx(1 - 6 / 24)  # offline 12:00-18:00
    assert available["CP-2"] == pytest.approx(1 - 3 / 24)  # faulted 02:00-05:00
    assert available["CP-3"] == 0.0  # never seen


def test_the_dashboard_of_a_day(archive: Engine) -> None:
    board = energy.dashboard(archive, {"CP-1": 2, "CP-2": 1}, DAY + 24 * H - timedelta(seconds=1))
    assert board.energy_today_kwh == 18.0  # sessions 1, 2, 3
    assert board.sessions_today == 3
    assert board.average_duration_today_s == pytest.approx((2 + 1 + 3) * 3600 / 3)
    assert [(b.charger_id, b.energy_kwh, b.sessions) for b in board.bollards] == [
        ("CP-1", 15.0, 2),
        ("CP-2", 3.0, 1),
    ]
    assert [(t.key, t.energy_kwh) for t in board.badges_month] == [("A", 13.0), ("B", 5.0)]
    assert [kw for _, kw in board.curve_today] == pytest.approx([18.0] * 4)
    assert board.curve_yesterday == []


def test_the_dashboard_per_site_area_and_badge_group(archive: Engine) -> None:
    places = [
        Place("Depot", ("CP-1", "CP-2")),
        Place("Bay 1", ("CP-1",), site="DEPOT"),
        Place("Bay 2", ("CP-2",), site="DEPOT"),
    ]
    board = energy.dashboard(
        archive,
        {"CP-1": 2, "CP-2": 1},
        DAY + 24 * H - timedelta(seconds=1),
        places,
        {"A": "FLEET"},  # B is in no group
    )
    assert [(p.place.name, p.today_kwh, p.month_kwh) for p in board.places] == [
        ("Depot", 18.0, 18.0),
        ("Bay 1", 15.0, 15.0),
        ("Bay 2", 3.0, 3.0),
    ]
    assert [(t.key, t.sessions, t.energy_kwh) for t in board.groups_month] == [("FLEET", 2, 13.0)]
