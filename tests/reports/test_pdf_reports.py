"""PDF reports on a real archive (SQLite and PostgreSQL): each report is written, read
back with pypdf, and its key figures (energy totals, badge names, session counts, KPI
verdicts) are found in the text."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine, insert

from evsuper.alarms.journal import write_entries
from evsuper.alarms.model import AlarmState, Category, JournalEntry, Priority, Transition
from evsuper.historian import schema
from evsuper.historian.archive import create_archive_engine
from evsuper.historian.migrate import upgrade_to_head
from evsuper.project.loader import load_project
from evsuper.project.model import Project
from evsuper.reports import pdf
from evsuper.reports.alarm_report import write_alarm_report
from evsuper.reports.billing import NOT_IN_PROJECT, write_billing_report
from evsuper.reports.daily import write_daily_report

ZONE = "Europe/Paris"  # UTC+1 in November: local 2026-11-21 = 2026-11-20 23:00Z .. 21 23:00Z
DAY = date(2026, 11, 21)

PROJECT_TOML = """\
format_version = 1
name = "Depot Nord"

[archive]
url = "{archive_url}"

[[badges]]
id_tag = "FLEET"
name = "Fleet account"

[[badges]]
id_tag = "BADGE-A"
name = "Fleet van 1"
parent_id_tag = "FLEET"

[[badges]]
id_tag = "BADGE-B"
name = "Visitor Dupont"

[[chargers]]
id = "CP-001"
connectors = 2

[[chargers]]
id = "CP-002"
connectors = 2

[[chargers]]
id = "CP-003"
connectors = 1
"""


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# id, charger, connector, badge, start, stop, energy Wh, stop reason
SESSIONS: list[tuple[int, str, int, str, str, str | None, int | None, str | None]] = [
    (1, "CP-001", 1, "BADGE-A", "2026-11-21 07:00", "2026-11-21 09:00", 20000, "EVDisconnected"),
    (2, "CP-001", 2, "BADGE-B", "2026-11-21 10:00", "2026-11-21 10:45", 7500, "Local"),
    # stops at 02:00 local on the 21st: counts on the 21st
    (3, "CP-002", 1, "BADGE-A", "2026-11-20 22:30", "2026-11-21 01:00", 12340, "Remote"),
    # the day before (local 20th)
    (4, "CP-002", 1, "BADGE-B", "2026-11-20 12:00", "2026-11-20 13:00", 11000, "PowerLoss"),
    # still open at the end of the day (and the month)
    (5, "CP-002", 2, "BADGE-A", "2026-11-21 20:00", None, None, None),
    # October: not in November's bill
    (6, "CP-001", 1, "BADGE-A", "2026-10-15 08:00", "2026-10-15 09:00", 99999, "Local"),
    # a badge the project does not know
    (7, "CP-001", 2, "STRANGER", "2026-11-05 08:00", "2026-11-05 08:30", 3000, "Local"),
]


def _fill_energy(engine: Engine) -> None:
    transactions: list[dict[str, Any]] = []
    for tid, charger, connector, badge, start, stop, wh, reason in SESSIONS:
        transactions.append(
            {
                "id": tid,
                "charger_id": charger,
                "connector_id": connector,
                "id_tag": badge,
                "start_ts": _utc(start),
                "meter_start_wh": 1000,
                "stop_ts": None if stop is None else _utc(stop),
                "meter_stop_wh": None if wh is None else 1000 + wh,
                "energy_wh": wh,
                "stop_reason": reason,
            }
        )
    samples: list[dict[str, Any]] = []

    def power(tid: int, charger: str, connector: int, start: str, minutes: int, w: float) -> None:
        for i in range(0, minutes, 5):
            samples.append(
                {
                    "ts": _utc(start) + timedelta(minutes=i),
                    "charger_id": charger,
                    "connector_id": connector,
                    "transaction_id": tid,
                    "measurand": "Power.Active.Import",
                    "phase": None,
                    "unit": "W",
                    "context": "Sample.Periodic",
                    "location": "Outlet",
                    "value": w,
                }
            )

    power(1, "CP-001", 1, "2026-11-21 07:00", 120, 11000.0)
    power(1, "CP-001", 1, "2026-11-21 08:02", 5, 22000.0)  # the peak: 22.0 kW
    power(2, "CP-001", 2, "2026-11-21 10:00", 45, 7400.0)
    power(4, "CP-002", 1, "2026-11-20 12:00", 60, 11000.0)
    with engine.begin() as connection:
        connection.execute(insert(schema.transactions), transactions)
        connection.execute(insert(schema.meter_samples), samples)


def _entry(ts: datetime, definition: str, source: str, **kw: Any) -> JournalEntry:
    fields: dict[str, Any] = {
        "priority": Priority.HIGH,
        "category": Category.CHARGER_FAULT,
        "transition": Transition.ACTIVATED,
        "state": AlarmState.UNACKNOWLEDGED,
        "message": f"{definition} at {source}",
    }
    fields.update(kw)
    return JournalEntry(
        ts=ts,
        key=f"{source}/{definition}",
        definition_id=definition,
        source=source,
        charger_id=source,
        **fields,
    )


def _fill_alarms(engine: Engine) -> None:
    base = _utc("2026-11-21 08:00")
    entries = []
    # a flood: 14 alarms within one 10-minute window
    for i in range(14):
        entries.append(_entry(base + timedelta(seconds=30 * i), "connector-fault", f"CP-{i:03d}"))
        entries.append(
            _entry(
                base + timedelta(seconds=30 * i + 10),
                "connector-fault",
                f"CP-{i:03d}",
                transition=Transition.RETURNED,
                state=AlarmState.RTN_UNACKNOWLEDGED,
            )
        )
    # chattering: 4 activations of one alarm within a minute
    for i in range(4):
        entries.append(_entry(base + timedelta(hours=3, seconds=10 * i), "comm-lost", "CP-CHATTY"))
    # stale: active since two days before the end of the period, never returned
    entries.append(
        _entry(_utc("2026-11-19 12:00"), "meter-frozen", "CP-STALE", priority=Priority.LOW)
    )
    with engine.begin() as connection:
        write_entries(connection, entries)


@pytest.fixture
def site(tmp_path: Path, archive_url: str) -> Iterator[tuple[Project, Engine]]:
    """The project and its filled archive, on SQLite and on PostgreSQL."""
    folder = tmp_path / "site"
    folder.mkdir()
    toml = PROJECT_TOML.replace("{archive_url}", archive_url)
    (folder / "project.toml").write_text(toml, encoding="utf-8")
    project = load_project(folder)
    engine = create_archive_engine(project.archive_url())
    with engine.begin() as connection:
        upgrade_to_head(connection)
    _fill_energy(engine)
    _fill_alarms(engine)
    yield project, engine
    engine.dispose()


def pdf_text(path: Path) -> str:
    reader = PdfReader(str(path))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def test_daily_report_totals_per_site_and_bollard(
    site: tuple[Project, Engine], tmp_path: Path
) -> None:
    project, engine = site
    out = tmp_path / "daily.pdf"
    data = write_daily_report(out, engine, project, DAY, ZONE)
    assert data.site.sessions == 3
    assert data.site.energy_kwh == pytest.approx(39.84)
    assert data.previous.sessions == 1
    assert data.site.open_sessions == 1
    by_id = {b.charger_id: b for b in data.bollards}
    assert by_id["CP-001"].sessions == 2
    assert by_id["CP-001"].energy_kwh == pytest.approx(27.5)
    assert by_id["CP-001"].peak_kw == pytest.approx(22.0)
    assert by_id["CP-003"].sessions == 0  # a bollard of the project with nothing that day
    assert data.site.curve and data.previous.curve

    text = pdf_text(out)
    assert "Depot Nord" in text
    assert "Daily energy report" in text
    assert "Europe/Paris" in text and "UTC 2026-11-20 23:00" in text
    assert "39.84" in text  # site energy
    assert "27.50" in text and "12.34" in text  # per bollard
    assert "11.00" in text  # the day before
    assert "22.0" in text  # peak power of CP-001
    assert "CP-003" in text
    assert "Page 1 of" in text and "Generated" in text


def test_daily_report_of_an_empty_day(site: tuple[Project, Engine], tmp_path: Path) -> None:
    project, engine = site
    out = tmp_path / "empty.pdf"
    data = write_daily_report(out, engine, project, date(2025, 1, 1), ZONE)
    assert data.site.sessions == 0
    text = pdf_text(out)
    assert "no samples" in text
    assert "0.00" in text


def test_monthly_billing_per_badge_with_names_and_details(
    site: tuple[Project, Engine], tmp_path: Path
) -> None:
    project, engine = site
    out = tmp_path / "billing.pdf"
    data = write_billing_report(out, engine, project, 2026, 11, ZONE)
    bills = {b.id_tag: b for b in data.badges}
    assert set(bills) == {"BADGE-A", "BADGE-B", "STRANGER"}
    assert bills["BADGE-A"].total.sessions == 2
    assert bills["BADGE-A"].total.energy_kwh == pytest.approx(32.34)  # not October's
    assert bills["BADGE-B"].total.energy_kwh == pytest.approx(18.5)
    assert bills["STRANGER"].name == NOT_IN_PROJECT
    assert bills["BADGE-A"].group == "FLEET"
    assert [r.id for r in bills["BADGE-A"].sessions] == [3, 1]
    assert data.sessions == 5
    assert len(data.open_sessions) == 1

    text = pdf_text(out)
    assert "Monthly billing report" in text and "November 2026" in text
    assert "Fleet van 1" in text and "Visitor Dupont" in text and NOT_IN_PROJECT in text
    assert "32.34" in text and "18.50" in text and "3.00" in text
    assert "53.84" in text  # all badges
    assert "99" not in text.split("Per badge")[1].split("Badge BADGE-A")[0]  # no October
    assert "EVDisconnected" in text and "PowerLoss" in text  # stop reasons in the details
    assert "FLEET" in text  # the badge group
    assert "2:00" in text  # BADGE-A's 2 h session, h:mm
    assert "not billed" in text


def test_alarm_kpi_report_verdicts_floods_chattering_stale(
    site: tuple[Project, Engine], tmp_path: Path
) -> None:
    project, engine = site
    out = tmp_path / "alarms.pdf"
    period = pdf.Period.days(DAY, DAY, pdf.zone_of(ZONE))
    kpis = write_alarm_report(out, engine, project, period)
    assert kpis.alarms == 14 + 4  # the stale one was activated before the period
    assert len(kpis.flood_periods) == 1
    assert [c.source for c in kpis.chattering] == ["CP-CHATTY"]
    assert [s.source for s in kpis.stale] == ["CP-STALE"]

    text = pdf_text(out)
    assert "Alarm KPI report" in text
    assert "18 alarms annunciated" in text
    assert "NOT OK" in text and "OK" in text
    assert "Most alarms in 10 minutes" in text and "14" in text
    assert "CP-CHATTY" in text and "comm-lost" in text  # bad actor and chattering
    assert "CP-STALE" in text and "meter-frozen" in text
    assert f"{len(kpis.failed)} metrics NOT OK" in text


def test_period_of_a_month_follows_the_local_zone() -> None:
    period = pdf.Period.month(2026, 3, pdf.zone_of(ZONE))  # DST starts on 29 March
    assert period.since == _utc("2026-02-28 23:00")
    assert period.until == _utc("2026-03-31 22:00")
    assert "Europe/Paris" in period.describe()
