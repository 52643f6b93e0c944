"""The event log view on a real archive: filters, read-only table, CSV / Excel export."""

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

from evsuper.core.timeutil import utcnow
from evsuper.historian.archive import create_archive_engine
from evsuper.historian.migrate import upgrade_to_head
from evsuper.hmi.views.event_log import EventLogView
from evsuper.hmi.widgets.period_picker import CUSTOM
from evsuper.users.audit import AuditEntry, AuditKind, query_audit, write_entry
from evsuper.users.permissions import Actor, Origin, Role

OLIVIA = Actor("olivia", Role.OPERATOR, Origin.HMI)
VIC = Actor("vic", Role.VIEWER, Origin.HMI)


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Engine]:
    engine = create_archive_engine(f"sqlite:///{tmp_path / 'archive.sqlite'}")
    with engine.begin() as connection:
        upgrade_to_head(connection)
        now = utcnow()
        for entry in (
            AuditEntry(
                actor=OLIVIA,
                kind=AuditKind.LOGIN,
                action="login",
                target="olivia",
                result="Accepted",
                ts=now - timedelta(hours=30),
            ),
            AuditEntry(
                actor=OLIVIA,
                kind=AuditKind.COMMAND,
                action="RemoteStop",
                target="CP-004",
                parameters={"transaction_id": 12},
                result="Accepted",
                detail="Accepted",
                ts=now - timedelta(minutes=5),
            ),
            AuditEntry(
                actor=VIC,
                kind=AuditKind.PERMISSION_DENIED,
                action="RemoteStop",
                target="CP-007",
                parameters={"transaction_id": 3},
                result="Denied",
                detail="PermissionDenied",
                ts=now - timedelta(minutes=2),
            ),
        ):
            write_entry(connection, entry)
    yield engine
    engine.dispose()


@pytest.fixture
def view(qtbot: Any, themed_app: Any, archive: Engine) -> EventLogView:
    view = EventLogView(functools.partial(query_audit, archive))
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: not view.loading and view.model.rowCount() > 0, timeout=5000)
    return view


def shown(view: EventLogView) -> list[tuple[str, str, str]]:
    return [(e.actor.user, e.action, e.target) for e in view.model.entries]


def requery(qtbot: Any, view: EventLogView) -> None:
    view.query()
    qtbot.waitUntil(lambda: not view.loading, timeout=5000)


def test_the_last_24_hours_newest_first(view: EventLogView) -> None:
    assert shown(view) == [("vic", "RemoteStop", "CP-007"), ("olivia", "RemoteStop", "CP-004")]
    assert view.model.index(0, 0).flags() & Qt.ItemFlag.ItemIsEditable == Qt.ItemFlag(0)
    assert "2 entries" in view.status.text()


def test_filters_by_user_target_kind_text_and_period(qtbot: Any, view: EventLogView) -> None:
    view.user.setText("olivia")
    requery(qtbot, view)
    assert shown(view) == [("olivia", "RemoteStop", "CP-004")]
    view.user.clear()
    view.target.setText("CP-007")
    requery(qtbot, view)
    assert shown(view) == [("vic", "RemoteStop", "CP-007")]
    view.target.clear()
    view.kind.setCurrentText(AuditKind.PERMISSION_DENIED.value)
    qtbot.waitUntil(lambda: shown(view) == [("vic", "RemoteStop", "CP-007")], timeout=5000)
    view.kind.setCurrentIndex(0)
    view.text.setText('transaction_id": 12')
    requery(qtbot, view)
    assert shown(view) == [("olivia", "RemoteStop", "CP-004")]
    view.text.clear()
    view.period.setCurrentText("All time")
    qtbot.waitUntil(lambda: len(shown(view)) == 3, timeout=5000)
    view.period.setCurrentText(CUSTOM)
    assert view.since.isEnabled()
    now = QDateTime.currentDateTime()
    view.since.setDateTime(now.addSecs(-31 * 3600))
    view.until.setDateTime(now.addSecs(-29 * 3600))
    qtbot.waitUntil(lambda: shown(view) == [("olivia", "login", "olivia")], timeout=5000)


def test_export_writes_what_is_shown_to_csv_and_excel(
    qtbot: Any, view: EventLogView, tmp_path: Path
) -> None:
    exporter = view.exporter
    out = tmp_path / "events.csv"
    exporter.export_to(out)
    qtbot.waitUntil(lambda: not exporter.exporting, timeout=10_000)
    assert exporter.status.text() == f"Exported 2 entries to {out}"
    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["User"], r["Kind"], r["Target"], r["Result"]) for r in rows] == [
        ("vic", "permission-denied", "CP-007", "Denied"),
        ("olivia", "command", "CP-004", "Accepted"),
    ]
    assert rows[1]["Parameters"] == '{"transaction_id": 12}'
    assert rows[0]["Time (UTC)"].endswith("Z") and rows[0]["Role"] == "viewer"

    book = tmp_path / "events.xlsx"
    exporter.export_to(book)
    qtbot.waitUntil(lambda: not exporter.exporting, timeout=10_000)
    ws = load_workbook(book)["Event log"]
    assert [c.value for c in ws[1]] == [
        "Time (UTC)",
        "User",
        "Role",
        "Origin",
        "Kind",
        "Action",
        "Target",
        "Parameters",
        "Result",
        "Detail",
    ]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:J3"
    assert ws["A2"].is_date and isinstance(ws["A2"].value, datetime)
    newest = view.model.entry(0).ts.astimezone(UTC).replace(tzinfo=None)
    assert abs(ws["A2"].value - newest) < timedelta(milliseconds=1)
    assert [ws.cell(3, c).value for c in (2, 5, 7, 8)] == [
        "olivia",
        "command",
        "CP-004",
        '{"transaction_id": 12}',
    ]
