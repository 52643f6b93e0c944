"""The alarm KPI view on a real archive: a flood, a chattering and a stale alarm found,
drawn, listed against their targets and exported."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from PySide6.QtWidgets import QTableWidget
from sqlalchemy import Engine

from evsuper.alarms.journal import JournalFilter, query_journal, write_entries
from evsuper.alarms.kpi import floor_window
from evsuper.alarms.model import AlarmState, JournalEntry, Priority, Transition
from evsuper.core.timeutil import utcnow
from evsuper.historian.archive import create_archive_engine
from evsuper.historian.migrate import upgrade_to_head
from evsuper.hmi.views.alarm_kpi import STALE_LOOKBACK, AlarmKpiView
from hmi.test_alarm_history import journal_entry

ACTIVE = AlarmState.UNACKNOWLEDGED


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Engine]:
    engine = create_archive_engine(f"sqlite:///{tmp_path / 'archive.sqlite'}")
    now = utcnow()
    flood_at = floor_window(now - timedelta(hours=3)) + timedelta(minutes=2)
    chatter_at = now - timedelta(hours=1)
    entries: list[JournalEntry] = [
        # 12 chargers lose communication within a minute: a flood
        *(
            journal_entry(
                flood_at + timedelta(seconds=5 * i),
                f"comm-lost:CP-{i:03}",
                Transition.ACTIVATED,
                ACTIVE,
            )
            for i in range(1, 13)
        ),
        # CP-020's meter goes stale three times in 40 s: chattering
        *(
            journal_entry(
                chatter_at + timedelta(seconds=20 * i),
                "meter-stale:CP-020/C1",
                Transition.ACTIVATED,
                ACTIVE,
                priority=Priority.LOW,
            )
            for i in range(3)
        ),
        # a ground failure standing for 30 hours (before the last 24 h): stale
        journal_entry(
            now - timedelta(hours=30),
            "connector-faulted:CP-030/C1/GroundFailure",
            Transition.ACTIVATED,
            ACTIVE,
            priority=Priority.CRITICAL,
        ),
    ]
    with engine.begin() as connection:
        upgrade_to_head(connection)
        write_entries(connection, entries)
    yield engine
    engine.dispose()


def cells(table: QTableWidget) -> list[list[str]]:
    return [
        [table.item(r, c).text() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]


@pytest.fixture
def view(qtbot: Any, themed_app: Any, archive: Engine) -> AlarmKpiView:
    asked: list[JournalFilter] = []

    def load(where: JournalFilter) -> list[JournalEntry]:
        asked.append(where)
        return query_journal(archive, where)

    view = AlarmKpiView(load)
    view.asked = asked  # type: ignore[attr-defined]
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: not view.loading and view.kpis is not None, timeout=5000)
    view.period.setCurrentText("Last 24 hours")
    qtbot.waitUntil(
        lambda: not view.loading and view.kpis is not None and view.kpis.per_day[-1:] != (),
        timeout=5000,
    )
    qtbot.waitUntil(
        lambda: view.kpis is not None and view.kpis.until - view.kpis.since == timedelta(hours=24),
        timeout=5000,
    )
    return view


def test_kpis_of_the_last_24_hours(view: AlarmKpiView) -> None:
    kpis = view.kpis
    assert kpis is not None
    assert kpis.alarms == 15  # 12 + 3: the stale one was activated before the period
    assert len(kpis.per_10min) in (144, 145)  # the first window starts before the period
    assert kpis.peak_per_10min == 12
    assert [(p.count, p.windows) for p in kpis.flood_periods] == [(12, 1)]
    assert [c.key for c in kpis.chattering] == ["meter-stale:CP-020/C1"]
    assert [s.key for s in kpis.stale] == ["connector-faulted:CP-030/C1/GroundFailure"]
    # the journal is read from a week before the period, whole
    where = view.asked[-1]  # type: ignore[attr-defined]
    assert where.limit is None and where.until == kpis.until
    assert where.since == kpis.since - STALE_LOOKBACK


def test_metrics_with_targets_and_verdicts(view: AlarmKpiView) -> None:
    rows = {r[0]: r[1:] for r in cells(view.metrics)}
    assert rows["Alarms in the period"] == ["15", "—", "—"]
    assert rows["Most alarms in 10 minutes"] == ["12", "NOT OK", "≤ 10"]
    assert rows["Chattering alarms"] == ["1", "NOT OK", "0"]
    assert rows["Stale alarms (active > 24 h)"] == ["1", "OK", "< 5"]
    assert rows["Average alarms per 10 minutes"][:2] == ["0.10", "OK"]
    assert view.metrics.item(1, 0).font().bold() is False
    failing = [
        r for r in range(view.metrics.rowCount()) if view.metrics.item(r, 2).text() == "NOT OK"
    ]
    assert failing and all(view.metrics.item(r, 0).font().bold() for r in failing)
    assert "15 alarms" in view.summary.text()
    assert f"{len(failing)} of 8 targets not met" in view.summary.text()


def test_details_and_chart(view: AlarmKpiView) -> None:
    actors = cells(view.bad_actors)
    assert len(actors) == 10
    assert actors[0][1:] == ["meter-stale", "CP-020/C1", "4 Low", "charger-fault", "3", "20.0%"]
    assert view.bad_actors.item(0, 1).toolTip() == "CP-020/C1: meter-stale"
    assert len(cells(view.floods)) == 1 and cells(view.floods)[0][3:] == ["12", "12"]
    assert cells(view.chattering)[0][:6] == ["meter-stale", "CP-020/C1", "4 Low", "3", "1", "3"]
    stale = cells(view.stale)
    assert stale[0][:3] == ["connector-faulted", "CP-030/C1/GroundFailure", "1 Critical"]
    assert stale[0][4] == "30 h" and stale[0][5] == "unacknowledged"
    assert [view.details.tabText(i) for i in range(4)] == [
        "Bad actors (10)",
        "Floods (1)",
        "Chattering (1)",
        "Stale (1)",
    ]
    assert [r[:2] for r in cells(view.priorities)] == [
        ["1 Critical", "0"],
        ["2 High", "12"],
        ["3 Medium", "0"],
        ["4 Low", "3"],
    ]
    chart = view.chart
    assert list(chart.flood_bars.opts["height"]) == [12]
    assert sum(chart.bars.opts["height"]) == 3
    assert {k: line.value() for k, line in chart.target_lines.items()} == {
        "acceptable": 1.0,
        "manageable": 2.0,
        "flood": 10.0,
    }


def test_export_the_report_to_excel_and_csv(view: AlarmKpiView, tmp_path: Path) -> None:
    book_path = tmp_path / "kpis.xlsx"
    assert view.export_to(book_path) == len(view.kpis.metrics)  # type: ignore[union-attr]
    book = load_workbook(book_path)
    assert book.sheetnames == [
        "Metrics",
        "Period",
        "Bad actors",
        "Flood periods",
        "Chattering",
        "Stale",
        "Priorities",
        "Per day",
        "Per 10 minutes",
    ]
    metrics = book["Metrics"]
    assert [c.value for c in metrics[1]] == ["Metric", "Value", "Target", "Result", "Source"]
    assert metrics["A5"].value == "Most alarms in 10 minutes" and metrics["D5"].value == "NOT OK"
    floods = book["Flood periods"]
    assert floods["A1"].value == "Start (UTC)" and floods["A2"].is_date
    assert floods["D2"].value == 12
    assert book["Stale"]["B2"].value == "CP-030/C1/GroundFailure"
    assert sum(row[1].value for row in book["Per 10 minutes"].iter_rows(min_row=2)) == 15
    assert "Exported the KPI report" in view.status.text()

    csv_path = tmp_path / "kpis.csv"
    view.export_to(csv_path)
    with csv_path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[0] == {
        "Metric": "Alarms in the period",
        "Value": "15",
        "Target": "—",
        "Result": "—",
        "Source": "",
    }
    assert {r["Metric"]: r["Result"] for r in rows}["Chattering alarms"] == "NOT OK"


def test_no_report_before_the_first_computation(qtbot: Any, themed_app: Any) -> None:
    def load(where: JournalFilter) -> list[JournalEntry]:
        raise OSError("archive offline")

    view = AlarmKpiView(load)
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: not view.loading, timeout=5000)
    assert "cannot be read: archive offline" in view.status.text()
    assert not view.export.isEnabled()
    with pytest.raises(RuntimeError):
        view.export_to(Path("never.xlsx"))
