"""The transaction history window on a real SQLite archive: rows load lazily page by page,
sorting and filters re-query in SQL, the detail curve shows, export writes what is
filtered (and can be cancelled), and a million sessions open and sort without waiting."""

from __future__ import annotations

import csv
import functools
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from PySide6.QtCore import QPoint, Qt
from sqlalchemy import Engine, insert, text

from evsuper.alarms.journal import query_journal
from evsuper.core.timeutil import utcnow
from evsuper.historian import schema
from evsuper.historian.archive import create_archive_engine
from evsuper.historian.migrate import upgrade_to_head
from evsuper.historian.transactions import (
    TransactionColumn,
    TransactionFilter,
    TransactionReader,
    TransactionRow,
    TransactionSort,
    page_transactions,
)
from evsuper.hmi.main_window import ArchiveReaders, MainWindow
from evsuper.hmi.models.transactions import NOT_LOADED, PAGE_SIZE
from evsuper.hmi.views.transactions import TransactionHistoryView
from evsuper.project.model import Place, Project
from evsuper.users.audit import query_audit

SESSIONS = 650  # a little over three pages
CHARGERS = 7


def _fill(engine: Engine) -> None:
    now = utcnow()
    first = now - timedelta(hours=20)
    rows: list[dict[str, Any]] = []
    for i in range(1, SESSIONS + 1):
        start = first + timedelta(minutes=i)
        minutes = 20 + (i * 37) % 100
        rows.append(
            {
                "charger_id": f"CP-{i % CHARGERS:03d}",
                "connector_id": 1 + i % 2,
                "id_tag": f"BADGE-{i % 40:02d}",
                "start_ts": start,
                "meter_start_wh": i * 100,
                "stop_ts": start + timedelta(minutes=minutes),
                "meter_stop_wh": i * 100 + (i * 7907) % 60000,
                "energy_wh": (i * 7907) % 60000,
                "soc_start": float(10 + i % 50),
                "soc_stop": float(60 + i % 40),
                "stop_reason": ("Remote", "EVDisconnected", "Local")[i % 3],
            }
        )
    with engine.begin() as connection:
        connection.execute(insert(schema.transactions), rows)
        newest = connection.execute(text("SELECT max(id) FROM transactions")).scalar_one()
        samples = [
            {
                "ts": first + timedelta(minutes=SESSIONS, seconds=60 * n),
                "charger_id": rows[-1]["charger_id"],
                "connector_id": rows[-1]["connector_id"],
                "transaction_id": newest,
                "measurand": measurand,
                "phase": None,
                "unit": unit,
                "context": "Sample.Periodic",
                "location": "Outlet",
                "value": value,
            }
            for n in range(30)
            for measurand, unit, value in (
                ("Power.Active.Import", "W", 11000.0 - 100 * n),
                ("SoC", "Percent", 40.0 + n),
            )
        ]
        connection.execute(insert(schema.meter_samples), samples)


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Engine]:
    engine = create_archive_engine(f"sqlite:///{tmp_path / 'archive.sqlite'}")
    with engine.begin() as connection:
        upgrade_to_head(connection)
    _fill(engine)
    yield engine
    engine.dispose()


def _open(qtbot: Any, source: Any) -> TransactionHistoryView:
    view = TransactionHistoryView(source)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: not view.loading, timeout=20_000)
    return view


def _cell(view: TransactionHistoryView, row: int, column: TransactionColumn) -> Any:
    return view.model.data(view.model.index(row, int(column)))


def test_rows_load_lazily_page_by_page(qtbot: Any, themed_app: Any, archive: Engine) -> None:
    view = _open(qtbot, TransactionReader(archive))
    model = view.model
    assert model.rowCount() == SESSIONS
    assert "650 sessions" in view.status.text()
    # the first page came with the count: the first screen needs no other query
    assert model.page_fetches == 0 and model.is_loaded(0) and model.is_loaded(PAGE_SIZE - 1)
    assert not model.is_loaded(PAGE_SIZE)
    newest = page_transactions(archive, TransactionFilter(), TransactionSort(), 0, 1)[0]
    assert _cell(view, 0, TransactionColumn.ID) == str(newest.id)
    far = 2 * PAGE_SIZE + 17
    with qtbot.waitSignal(model.dataChanged, timeout=10_000):
        assert _cell(view, far, TransactionColumn.CHARGER) == NOT_LOADED
    assert model.is_loaded(far) and model.page_fetches == 1
    expected = page_transactions(archive, TransactionFilter(), TransactionSort(), far, 1)[0]
    assert _cell(view, far, TransactionColumn.ID) == str(expected.id)
    assert _cell(view, far, TransactionColumn.BADGE) == expected.id_tag
    # scrolling to the end asks for the last page, which repaints when it arrives
    view.table.scrollToBottom()
    qtbot.waitUntil(lambda: model.is_loaded(SESSIONS - 1), timeout=10_000)
    assert _cell(view, SESSIONS - 1, TransactionColumn.ID) != NOT_LOADED


def test_sorting_any_header_requeries_in_sql(qtbot: Any, themed_app: Any, archive: Engine) -> None:
    view = _open(qtbot, TransactionReader(archive))
    for column in (TransactionColumn.ENERGY, TransactionColumn.DURATION, TransactionColumn.BADGE):
        for descending in (True, False):
            with qtbot.waitSignal(view.model.loaded, timeout=10_000):
                view.sort_by(column, descending=descending)
            sort = TransactionSort(column, descending)
            assert view.model.current_sort == sort
            expected = page_transactions(archive, TransactionFilter(), sort, 0, 3)
            shown = [view.model.transaction(r) for r in range(3)]
            assert [r.id for r in shown if r is not None] == [r.id for r in expected]
    # clicking a header sorts too, and says so while it loads
    header = view.table.horizontalHeader()
    x = header.sectionViewportPosition(int(TransactionColumn.SOC_STOP)) + 10
    with qtbot.waitSignal(view.model.loaded, timeout=10_000):
        qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))
        assert view.status.text() == "Loading…"
    assert view.model.current_sort.column is TransactionColumn.SOC_STOP
    assert "sorted by Stop SoC (%)" in view.status.text()


def test_a_site_or_an_area_selects_its_chargers_sessions(
    qtbot: Any, themed_app: Any, archive: Engine
) -> None:
    places = [
        Place("North site", ("CP-001", "CP-002")),
        Place("Level 0", ("CP-001",), site="NORTH"),
        Place("Level 1", ("CP-002",), site="NORTH"),
        Place("South site", ("CP-003",)),
    ]
    view = TransactionHistoryView(TransactionReader(archive), places=places)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: not view.loading, timeout=20_000)
    assert [view.place.itemText(i) for i in range(5)] == [
        "All sites", "North site", "    Level 0", "    Level 1", "South site",
    ]  # fmt: skip
    for index, chargers in ((1, {1, 2}), (3, {2}), (4, {3})):
        with qtbot.waitSignal(view.model.loaded, timeout=10_000):
            view.place.setCurrentIndex(index)
        expected = sum(1 for i in range(1, SESSIONS + 1) if i % CHARGERS in chargers)
        assert view.model.count == expected


def test_filters_requery(qtbot: Any, themed_app: Any, archive: Engine) -> None:
    view = _open(qtbot, TransactionReader(archive))
    with qtbot.waitSignal(view.model.loaded, timeout=10_000):
        view.charger.setText("CP-003")
        view.charger.returnPressed.emit()
    expected = sum(1 for i in range(1, SESSIONS + 1) if i % CHARGERS == 3)
    assert view.model.rowCount() == expected
    assert {view.model.transaction(r).charger_id for r in range(expected)} == {"CP-003"}  # type: ignore[union-attr]
    with qtbot.waitSignal(view.model.loaded, timeout=10_000):
        view.reason.setCurrentIndex(view.reason.findData("Local"))
    assert view.model.rowCount() == sum(
        1 for i in range(1, SESSIONS + 1) if i % CHARGERS == 3 and i % 3 == 2
    )
    with qtbot.waitSignal(view.model.loaded, timeout=10_000):
        view.charger.setText("")
        view.reason.setCurrentIndex(0)
    with qtbot.waitSignal(view.model.loaded, timeout=10_000):
        view.text.setText("badge-07")
        view.text.returnPressed.emit()
    assert view.model.rowCount() == sum(1 for i in range(1, SESSIONS + 1) if i % 40 == 7)
    with qtbot.waitSignal(view.model.loaded, timeout=10_000):
        view.text.setText("")
        view.badge.setText("BADGE-11")
        view.badge.returnPressed.emit()
    assert view.model.rowCount() == sum(1 for i in range(1, SESSIONS + 1) if i % 40 == 11)


def test_selecting_a_session_draws_its_curve(qtbot: Any, themed_app: Any, archive: Engine) -> None:
    view = _open(qtbot, TransactionReader(archive))
    view.table.selectRow(0)  # the newest session: it has samples
    qtbot.waitUntil(lambda: view.chart.shown == (30, 30), timeout=10_000)
    row = view.model.transaction(0)
    assert row is not None
    assert f"Session {row.id}" in view.chart.title.text()
    assert row.max_power_kw == pytest.approx(11.0)
    assert _cell(view, 0, TransactionColumn.MAX_POWER) == "11.0"
    view.table.selectRow(1)  # no samples
    qtbot.waitUntil(lambda: "no samples" in view.chart.summary.text(), timeout=10_000)
    assert view.chart.shown == (0, 0)


def test_export_writes_every_filtered_session(
    qtbot: Any, themed_app: Any, archive: Engine, tmp_path: Path
) -> None:
    view = _open(qtbot, TransactionReader(archive))
    with qtbot.waitSignal(view.model.loaded, timeout=10_000):
        view.charger.setText("CP-002")
        view.charger.returnPressed.emit()
    with qtbot.waitSignal(view.model.loaded, timeout=10_000):
        view.sort_by(TransactionColumn.ENERGY, descending=True)
    expected = [
        r.id
        for r in page_transactions(
            archive,
            view.model.current_filter,
            TransactionSort(TransactionColumn.ENERGY, True),
            0,
            SESSIONS,
        )
    ]
    assert len(expected) == view.model.rowCount() > PAGE_SIZE // 4

    exporter = view.exporter
    out = tmp_path / "sessions.csv"
    exporter.export_to(out)
    qtbot.waitUntil(lambda: not exporter.exporting, timeout=10_000)
    assert exporter.status.text() == f"Exported {len(expected)} sessions to {out}"
    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0][:2] == ["Id", "Charger"] and "Energy (kWh)" in rows[0]
    assert [int(r[0]) for r in rows[1:]] == expected
    assert {r[1] for r in rows[1:]} == {"CP-002"}
    assert rows[1][4].endswith("Z")  # UTC start

    book = tmp_path / "sessions.xlsx"
    exporter.export_to(book)
    qtbot.waitUntil(lambda: not exporter.exporting, timeout=10_000)
    sheet = load_workbook(book)["Transactions"]
    assert sheet.freeze_panes == "A2"
    last = get_column_letter(sheet.max_column)
    assert sheet.auto_filter.ref == f"A1:{last}{len(expected) + 1}"
    values = list(sheet.iter_rows(values_only=True))
    header = values[0]
    assert header[:10] == (
        "Id",
        "Charger",
        "Connector",
        "Badge",
        "Start (UTC)",
        "Stop (UTC)",
        "Duration (s)",
        "Start SoC (%)",
        "Stop SoC (%)",
        "Energy (kWh)",
    )
    assert [v[0] for v in values[1:]] == expected
    first = values[1]
    assert isinstance(first[2], int)  # connector
    assert isinstance(first[4], datetime) and isinstance(first[5], datetime)  # real times
    assert sheet["E2"].is_date
    assert isinstance(first[6], int) and 20 * 60 <= first[6] < 120 * 60  # seconds
    assert isinstance(first[7], int | float) and isinstance(first[9], float)  # SoC %, kWh
    assert sorted(p.name for p in tmp_path.iterdir() if "sessions" in p.name) == [
        "sessions.csv",
        "sessions.xlsx",
    ]


class _SlowRows:
    """A source whose export stream stops after its first row until released."""

    def __init__(self, reader: TransactionReader) -> None:
        self._reader = reader
        self.started = threading.Event()
        self.release = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)

    def rows(self, where: TransactionFilter, sort: TransactionSort) -> Iterator[TransactionRow]:
        for n, row in enumerate(self._reader.rows(where, sort)):
            if n == 1:
                self.started.set()
                self.release.wait(10)
            yield row


def test_export_can_be_cancelled(
    qtbot: Any, themed_app: Any, archive: Engine, tmp_path: Path
) -> None:
    source = _SlowRows(TransactionReader(archive))
    view = _open(qtbot, source)
    exporter = view.exporter
    exporter.export_to(tmp_path / "cancelled.csv")
    assert exporter.exporting and exporter.cancel_button.isVisible()
    assert not exporter.button.isEnabled()
    qtbot.waitUntil(source.started.is_set, timeout=10_000)
    exporter.cancel_button.click()
    source.release.set()
    qtbot.waitUntil(lambda: not exporter.exporting, timeout=10_000)
    assert exporter.status.text() == "Export cancelled"
    assert not [p for p in tmp_path.iterdir() if "cancelled" in p.name]
    assert exporter.button.isEnabled() and not exporter.cancel_button.isVisible()


def test_the_toolbar_opens_the_history(
    qtbot: Any, themed_app: Any, archive: Engine, project: Project
) -> None:
    window = MainWindow(
        project,
        lambda command, callback: None,
        archive=ArchiveReaders(
            audit=functools.partial(query_audit, archive),
            journal=functools.partial(query_journal, archive),
            transactions=TransactionReader(archive),
        ),
    )
    qtbot.addWidget(window)
    window.show()
    assert window.transactions_button.isEnabled()
    window.transactions_button.click()
    history = window.transactions
    assert history is not None and history.isVisible()
    qtbot.waitUntil(lambda: history.model.rowCount() == SESSIONS, timeout=10_000)
    without = MainWindow(
        project,
        lambda command, callback: None,
        archive=ArchiveReaders(
            audit=functools.partial(query_audit, archive),
            journal=functools.partial(query_journal, archive),
        ),
    )
    qtbot.addWidget(without)
    assert not without.transactions_button.isEnabled()


MILLION = 1_000_000
FILL = """
INSERT INTO transactions (charger_id, connector_id, id_tag, start_ts, meter_start_wh,
    stop_ts, meter_stop_wh, energy_wh, soc_start, soc_stop, stop_reason)
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count)
SELECT printf('CP-%03d', i % 200), 1 + i % 2, printf('BADGE-%04d', (i * 7919) % 5000),
    strftime('%Y-%m-%d %H:%M:%f000', :base, '+' || (i * 30) || ' seconds'), i * 10,
    strftime('%Y-%m-%d %H:%M:%f000', :base, '+' || (i * 30 + 600 + (i * 37) % 7200) || ' seconds'),
    i * 10 + (i * 7907) % 60000, (i * 7907) % 60000, 10 + i % 50, 60 + i % 40,
    CASE i % 3 WHEN 0 THEN 'Remote' WHEN 1 THEN 'EVDisconnected' ELSE 'Local' END
FROM n
"""


def test_a_million_sessions_open_and_sort_without_waiting(
    qtbot: Any, themed_app: Any, tmp_path: Path
) -> None:
    engine = create_archive_engine(f"sqlite:///{tmp_path / 'million.sqlite'}")
    with engine.begin() as connection:
        upgrade_to_head(connection)
        base = (utcnow() - timedelta(days=365)).strftime("%Y-%m-%d %H:%M:%S")
        connection.execute(text(FILL), {"count": MILLION, "base": base})
    try:
        view = TransactionHistoryView(TransactionReader(engine))
        qtbot.addWidget(view)
        # building the window does not wait on the database: the count is still to come
        assert view.loading and view.model.rowCount() == 0
        with qtbot.waitSignal(view.model.loaded, timeout=30_000):
            view.period.setCurrentIndex(view.period.findText("All time"))
        view.show()
        model = view.model
        assert model.rowCount() == MILLION
        # the first screen is answered by the first page, fetched with the count
        visible = view.table.rowAt(view.table.viewport().height() - 1)
        assert 0 < visible < PAGE_SIZE
        assert all(model.is_loaded(r) for r in range(visible + 1)) and model.page_fetches == 0
        assert _cell(view, 0, TransactionColumn.ID) == str(MILLION)  # newest first

        with qtbot.waitSignal(model.loaded, timeout=30_000):
            view.sort_by(TransactionColumn.ENERGY, descending=True)
        assert model.rowCount() == MILLION
        top = model.transaction(0)
        assert top is not None and top.energy_kwh == pytest.approx(59.999)

        middle = MILLION // 2
        view.table.scrollTo(model.index(middle, 0))
        qtbot.waitUntil(lambda: model.is_loaded(middle), timeout=30_000)

        with qtbot.waitSignal(model.loaded, timeout=30_000):
            view.charger.setText("CP-042")
            view.charger.returnPressed.emit()
        assert model.rowCount() == MILLION // 200
    finally:
        engine.dispose()


LARGE = 60_000


def test_a_large_export_advances_and_cancels_leaving_no_file(
    qtbot: Any, themed_app: Any, archive: Engine, tmp_path: Path
) -> None:
    with archive.begin() as connection:
        base = (utcnow() - timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S")
        connection.execute(text(FILL), {"count": LARGE, "base": base})
    view = _open(qtbot, TransactionReader(archive))
    with qtbot.waitSignal(view.model.loaded, timeout=30_000):
        view.period.setCurrentIndex(view.period.findText("All time"))
    total = view.model.count
    assert total == LARGE + SESSIONS
    exporter = view.exporter
    exporter.export_to(tmp_path / "large.xlsx")
    assert exporter.progress.isVisible() and exporter.progress.maximum() == total
    assert exporter.status.text() == "Exporting to large.xlsx…"
    qtbot.waitUntil(lambda: exporter.progress.value() > 0, timeout=20_000)
    first = exporter.progress.value()
    qtbot.waitUntil(lambda: exporter.progress.value() > first, timeout=20_000)
    view.table.scrollToBottom()  # the window still answers: a page query during the export
    qtbot.waitUntil(lambda: view.model.is_loaded(total - 1), timeout=20_000)
    exporter.cancel_button.click()
    qtbot.waitUntil(lambda: not exporter.exporting, timeout=20_000)

    assert exporter.status.text() == "Export cancelled"
    assert exporter.progress.value() < total
    assert not [p for p in tmp_path.iterdir() if "large" in p.name]  # nor the .part file
    assert exporter.button.isEnabled() and not exporter.progress.isVisible()
