"""The alarm history view on a real archive: filters, read-only table, CSV / Excel export."""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import QDateTime, Qt
from sqlalchemy import Engine

from evsuper.alarms.journal import JournalFilter, query_journal, write_entries
from evsuper.alarms.model import AlarmState, Category, JournalEntry, Priority, Transition
from evsuper.core.timeutil import utcnow
from evsuper.historian.archive import create_archive_engine
from evsuper.historian.migrate import upgrade_to_head
from evsuper.hmi.views.alarm_history import AlarmHistoryView
from evsuper.hmi.widgets.period_picker import CUSTOM


def journal_entry(
    ts: datetime,
    key: str,
    transition: Transition,
    state: AlarmState,
    *,
    priority: Priority = Priority.HIGH,
    category: Category = Category.CHARGER_FAULT,
    user: str = "",
    comment: str = "",
) -> JournalEntry:
    definition_id, _, source = key.partition(":")
    return JournalEntry(
        ts=ts,
        key=key,
        definition_id=definition_id,
        source=source,
        charger_id=source.split("/")[0],
        priority=priority,
        category=category,
        transition=transition,
        state=state,
        value="GroundFailure" if transition is Transition.ACTIVATED else "",
        user=user,
        comment=comment,
        message=f"{source}: {definition_id}",
    )


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Engine]:
    engine = create_archive_engine(f"sqlite:///{tmp_path / 'archive.sqlite'}")
    now = utcnow()
    with engine.begin() as connection:
        upgrade_to_head(connection)
        write_entries(
            connection,
            [
                journal_entry(
                    now - timedelta(hours=30),
                    "comm-lost:CP-002",
                    Transition.ACTIVATED,
                    AlarmState.UNACKNOWLEDGED,
                    category=Category.COMMUNICATION,
                ),
                journal_entry(
                    now - timedelta(minutes=20),
                    "connector-faulted:CP-001/C1/GroundFailure",
                    Transition.ACTIVATED,
                    AlarmState.UNACKNOWLEDGED,
                    priority=Priority.CRITICAL,
                ),
                journal_entry(
                    now - timedelta(minutes=10),
                    "connector-faulted:CP-001/C1/GroundFailure",
                    Transition.ACKNOWLEDGED,
                    AlarmState.ACKNOWLEDGED,
                    priority=Priority.CRITICAL,
                    user="maria",
                    comment="electrician called",
                ),
                journal_entry(
                    now - timedelta(minutes=5),
                    "meter-stale:CP-003/C2",
                    Transition.ACTIVATED,
                    AlarmState.UNACKNOWLEDGED,
                    priority=Priority.LOW,
                ),
            ],
        )
    yield engine
    engine.dispose()


@pytest.fixture
def view(qtbot: Any, themed_app: Any, archive: Engine) -> AlarmHistoryView:
    view = AlarmHistoryView(functools.partial(query_journal, archive))
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: not view.loading and view.model.rowCount() > 0, timeout=5000)
    return view


def shown(view: AlarmHistoryView) -> list[tuple[str, str]]:
    return [(e.source, e.transition.value) for e in view.model.entries]


def requery(qtbot: Any, view: AlarmHistoryView) -> None:
    view.query()
    qtbot.waitUntil(lambda: not view.loading, timeout=5000)


def test_the_last_24_hours_newest_first_read_only(view: AlarmHistoryView) -> None:
    assert shown(view) == [
        ("CP-003/C2", "activated"),
        ("CP-001/C1/GroundFailure", "acknowledged"),
        ("CP-001/C1/GroundFailure", "activated"),
    ]
    model = view.model
    assert model.index(0, 0).flags() & Qt.ItemFlag.ItemIsEditable == Qt.ItemFlag(0)
    row = [model.index(1, c).data() for c in range(model.columnCount())]
    assert row[1:6] == [
        "1 Critical",
        "charger-fault",
        "acknowledged",
        "acknowledged",
        "CP-001/C1/GroundFailure",
    ]
    assert row[8:] == ["maria", "electrician called"]
    assert "3 entries" in view.status.text()


def test_filters_by_charger_priority_category_transition_text_and_period(
    qtbot: Any, view: AlarmHistoryView
) -> None:
    view.charger.setText("CP-001")
    requery(qtbot, view)
    assert [t for _, t in shown(view)] == ["acknowledged", "activated"]
    view.charger.clear()
    view.priority.setCurrentIndex(view.priority.findData(int(Priority.LOW)))
    qtbot.waitUntil(lambda: shown(view) == [("CP-003/C2", "activated")], timeout=5000)
    view.priority.setCurrentIndex(0)
    view.transition.setCurrentIndex(view.transition.findData(Transition.ACKNOWLEDGED.value))
    qtbot.waitUntil(
        lambda: shown(view) == [("CP-001/C1/GroundFailure", "acknowledged")], timeout=5000
    )
    view.transition.setCurrentIndex(0)
    view.text.setText("electrician")
    requery(qtbot, view)
    assert shown(view) == [("CP-001/C1/GroundFailure", "acknowledged")]
    view.text.clear()
    view.category.setCurrentIndex(view.category.findData(Category.COMMUNICATION.value))
    qtbot.waitUntil(lambda: not view.loading and shown(view) == [], timeout=5000)
    view.period.setCurrentText("All time")
    qtbot.waitUntil(lambda: shown(view) == [("CP-002", "activated")], timeout=5000)
    view.category.setCurrentIndex(0)
    view.period.setCurrentText(CUSTOM)
    assert view.since.isEnabled() and view.until.isEnabled()
    now = QDateTime.currentDateTime()
    view.since.setDateTime(now.addSecs(-31 * 3600))
    view.until.setDateTime(now.addSecs(-29 * 3600))
    qtbot.waitUntil(
        lambda: not view.loading and shown(view) == [("CP-002", "activated")], timeout=5000
    )


def test_the_filter_reaches_the_loader(qtbot: Any) -> None:
    # without a database: what the view asks for
    asked: list[JournalFilter] = []

    def load(where: JournalFilter) -> list[JournalEntry]:
        asked.append(where)
        return []

    view = AlarmHistoryView(load)
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: not view.loading, timeout=5000)
    assert len(asked) == 1
    view.priority.blockSignals(True)
    view.priority.setCurrentIndex(view.priority.findData(int(Priority.MEDIUM)))
    view.charger.setText(" CP-009 ")
    where = view.current_filter()
    assert where.priorities == {Priority.MEDIUM}
    assert where.charger_id == "CP-009"
    assert where.categories == frozenset() and where.transitions == frozenset()
    assert where.since is not None and where.until is None
    assert where.limit == 10_000


def export(qtbot: Any, view: AlarmHistoryView, path: Path) -> None:
    view.exporter.export_to(path)
    qtbot.waitUntil(lambda: not view.exporter.exporting, timeout=10_000)


def test_export_csv_and_excel_write_what_is_shown(
    qtbot: Any, view: AlarmHistoryView, tmp_path: Path
) -> None:
    out = tmp_path / "alarms.csv"
    export(qtbot, view, out)
    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["Source"], r["Transition"], r["User"]) for r in rows] == [
        ("CP-003/C2", "activated", ""),
        ("CP-001/C1/GroundFailure", "acknowledged", "maria"),
        ("CP-001/C1/GroundFailure", "activated", ""),
    ]
    assert rows[0]["Time (UTC)"].endswith("Z")
    assert rows[1]["Priority"] == "1" and rows[1]["Priority name"] == "Critical"
    assert view.exporter.status.text() == f"Exported 3 entries to {out}"

    book = tmp_path / "alarms.xlsx"
    export(qtbot, view, book)
    ws = load_workbook(book)["Alarm history"]
    assert ws["A1"].value == "Time (UTC)" and ws["A1"].font.bold
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:N4"
    newest = view.model.entry(0).ts.astimezone(UTC).replace(tzinfo=None)
    assert ws["A2"].is_date and abs(ws["A2"].value - newest) < timedelta(milliseconds=1)
    assert ws["B3"].value == 1 and ws["C3"].value == "Critical"  # a number and its name
    assert ws.max_row == 4
    assert [ws.cell(row=3, column=c).value for c in (5, 7, 12, 13)] == [
        "acknowledged",
        "CP-001/C1/GroundFailure",
        "maria",
        "electrician called",
    ]


def test_a_cancelled_export_leaves_no_file(
    qtbot: Any, themed_app: Any, archive: Engine, tmp_path: Path
) -> None:
    now = utcnow()
    many = [
        journal_entry(
            now - timedelta(seconds=n),
            f"meter-stale:CP-{n % 50:03d}/C1",
            Transition.ACTIVATED,
            AlarmState.UNACKNOWLEDGED,
        )
        for n in range(1, 10_001)
    ]
    with archive.begin() as connection:
        write_entries(connection, many)
    view = AlarmHistoryView(functools.partial(query_journal, archive))
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: view.model.rowCount() == 10_000, timeout=20_000)
    exporter = view.exporter
    exporter.export_to(tmp_path / "many.xlsx")
    assert exporter.progress.maximum() == 10_000 and not exporter.button.isEnabled()
    qtbot.waitUntil(lambda: exporter.progress.value() > 0, timeout=20_000)
    exporter.cancel_button.click()
    qtbot.waitUntil(lambda: not exporter.exporting, timeout=20_000)
    assert exporter.status.text() == "Export cancelled"
    assert not [p for p in tmp_path.iterdir() if "many" in p.name]
    view.query()  # and the window answers as before
    qtbot.waitUntil(lambda: not view.loading, timeout=20_000)
    assert "10000 entries" in view.status.text()


def test_an_unreadable_archive_is_said(qtbot: Any, themed_app: Any) -> None:
    def load(where: JournalFilter) -> list[JournalEntry]:
        raise OSError("disk gone")

    view = AlarmHistoryView(load)
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: not view.loading, timeout=5000)
    assert "cannot be read: disk gone" in view.status.text()
