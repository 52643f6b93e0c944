"""The Reports window on a real SQLite archive: a daily report generated on the worker
thread is previewed page by page, saved as a valid PDF, printed; the window stays
responsive while a report is generated; the main window's toolbar opens it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QTimer
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QFileDialog
from sqlalchemy import Engine, insert

from evsuper.historian import schema
from evsuper.historian.archive import create_archive_engine
from evsuper.historian.migrate import upgrade_to_head
from evsuper.hmi.main_window import ArchiveReaders, MainWindow
from evsuper.hmi.views.reports import ReportsView
from evsuper.project.loader import load_project
from evsuper.project.model import Project
from evsuper.reports.make import ReportKind, ReportRequest, write_report

DAY = date(2026, 11, 21)
CHARGERS = 60  # enough bollards for the per-bollard table to run over a second page

PROJECT_TOML = """\
format_version = 1
name = "Depot Nord"

[notifications]
timezone = "Europe/Paris"
""" + "".join(f'\n[[chargers]]\nid = "CP-{n:03d}"\nconnectors = 2\n' for n in range(CHARGERS))


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Project, Engine]]:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "project.toml").write_text(PROJECT_TOML, encoding="utf-8")
    project = load_project(folder)
    engine = create_archive_engine(project.archive_url())
    start = datetime(2026, 11, 21, 8, tzinfo=UTC)
    with engine.begin() as connection:
        upgrade_to_head(connection)
        connection.execute(
            insert(schema.transactions),
            [
                {
                    "id": n + 1,
                    "charger_id": f"CP-{n:03d}",
                    "connector_id": 1,
                    "id_tag": "BADGE-A",
                    "start_ts": start + timedelta(minutes=n),
                    "meter_start_wh": 0,
                    "stop_ts": start + timedelta(hours=1, minutes=n),
                    "meter_stop_wh": 5000,
                    "energy_wh": 5000,
                    "stop_reason": "Local",
                }
                for n in range(CHARGERS)
            ],
        )
    yield project, engine
    engine.dispose()


def writer(site: tuple[Project, Engine]) -> Any:
    project, engine = site
    return lambda request, path: write_report(path, engine, project, request)


def generated(qtbot: Any, view: ReportsView) -> None:
    view.generate()
    qtbot.waitUntil(lambda: not view.generating and view.page_count > 0, timeout=20000)


def test_daily_report_is_previewed_saved_and_printed(
    qtbot: Any, themed_app: Any, site: tuple[Project, Engine], tmp_path: Path, monkeypatch: Any
) -> None:
    view = ReportsView(writer(site), today=DAY + timedelta(days=1))
    qtbot.addWidget(view)
    view.resize(1100, 860)
    view.show()
    assert view.current_request() == ReportRequest(ReportKind.DAILY, DAY)
    generated(qtbot, view)
    expected = len(PdfReader(_write(site, tmp_path / "reference.pdf").open("rb")).pages)
    assert expected >= 2
    assert view.page_count == expected
    assert "60 sessions, 300.00 kWh" in view.status.text()
    assert view.heading.text() == "Daily energy report — Saturday 21 November 2026"
    image = view.page_label.pixmap()
    assert not image.isNull() and image.width() > 500  # fit to the width
    view.next_button.click()
    assert view.page == 1 and view.page_spin.value() == 2
    view.previous_button.click()
    assert view.page == 0 and not view.previous_button.isEnabled()
    assert not view.grab().isNull()

    target = tmp_path / "saved" / "my-report"
    target.parent.mkdir()
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *args, **kw: (str(target), "PDF documents (*.pdf)")
    )
    view.save_button.click()
    saved = target.with_suffix(".pdf")
    reader = PdfReader(saved.open("rb"))
    assert len(reader.pages) == expected
    assert "Depot Nord" in (reader.pages[0].extract_text() or "")
    assert "Saved as" in view.status.text()

    printer = QPrinter(QPrinter.PrinterMode.ScreenResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    assert view.print_to(printer) == expected
    assert len(PdfReader((tmp_path / "printed.pdf").open("rb")).pages) == expected


def _write(site: tuple[Project, Engine], path: Path) -> Path:
    writer(site)(ReportRequest(ReportKind.DAILY, DAY), path)
    return path


def test_window_stays_responsive_while_generating(
    qtbot: Any, themed_app: Any, site: tuple[Project, Engine]
) -> None:
    release = threading.Event()
    write = writer(site)

    def slow(request: ReportRequest, path: Path) -> str:
        assert release.wait(20)
        summary: str = write(request, path)
        return summary

    view = ReportsView(slow, today=DAY + timedelta(days=1))
    qtbot.addWidget(view)
    view.show()
    view.kind.setCurrentIndex(2)  # alarm KPIs
    assert view.parameters.currentIndex() == 2
    view.generate_button.click()  # returns at once: the work runs on the worker thread
    assert view.generating and "Generating the alarm KPI report" in view.status.text()
    with qtbot.waitSignal(view.kind.currentIndexChanged, timeout=2000):  # events flow
        QTimer.singleShot(10, lambda: view.kind.setCurrentIndex(0))
    view.zoom.setCurrentText("100 %")  # the controls answer meanwhile
    assert view.generating
    release.set()
    qtbot.waitUntil(lambda: not view.generating and view.page_count > 0, timeout=20000)
    assert "0 alarms" in view.status.text()


def test_bad_alarm_period_is_refused(qtbot: Any, themed_app: Any) -> None:
    view = ReportsView(lambda request, path: "", today=DAY)
    qtbot.addWidget(view)
    view.kind.setCurrentIndex(2)
    view.first.setDate(view.last.date().addDays(3))
    assert view.current_request() is None
    assert "before 'From'" in view.status.text()


def test_toolbar_opens_the_reports_window(
    qtbot: Any, themed_app: Any, project: Project, site: tuple[Project, Engine]
) -> None:
    readers = ArchiveReaders(audit=lambda *_: [], journal=lambda *_: [], reports=writer(site))
    window = MainWindow(project, lambda *_: None, archive=readers)
    qtbot.addWidget(window)
    assert window.reports_button.isEnabled()
    window.reports_button.click()
    assert window.reports is not None and window.reports.isVisible()
    bare = MainWindow(project, lambda *_: None)
    qtbot.addWidget(bare)
    assert not bare.reports_button.isEnabled()
