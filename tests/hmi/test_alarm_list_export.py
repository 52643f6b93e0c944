"""The alarm list exports the alarms shown, in the shown order, to CSV and Excel."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from evsuper.alarms.model import AlarmState, Priority
from evsuper.hmi.models.alarms import AlarmListModel
from evsuper.hmi.views.alarm_list import AlarmListWindow
from evsuper.reports.alarms import ALARM_LIST_HEADERS
from hmi.alarm_records import T0, alarm, alarm_tags
from hmi.sender import Sender


@pytest.fixture
def model(qapp: Any) -> Iterator[AlarmListModel]:
    model = AlarmListModel()
    model.apply(
        alarm_tags(
            [
                alarm("comm", "CP-002", minute=4),
                alarm("fault", "CP-001", priority=Priority.CRITICAL, minute=5, activations=3),
                alarm("meter", "CP-001", state=AlarmState.ACKNOWLEDGED, minute=3),
                alarm("backlog", None, state=AlarmState.LATCHED, minute=2, chattering=True),
                alarm("shelved", "CP-003", state=AlarmState.SHELVED),
            ]
        )
    )
    yield model
    model.deleteLater()


@pytest.fixture
def window(qtbot: Any, themed_app: Any, model: AlarmListModel, sender: Sender) -> AlarmListWindow:
    window = AlarmListWindow(model, sender, ["CP-001", "CP-002"])
    qtbot.addWidget(window)
    window.show()
    return window


def export(qtbot: Any, window: AlarmListWindow, path: Path) -> None:
    window.exporter.export_to(path)
    qtbot.waitUntil(lambda: not window.exporter.exporting, timeout=10_000)


def test_csv_has_the_alarms_shown_in_the_shown_order(
    qtbot: Any, window: AlarmListWindow, tmp_path: Path
) -> None:
    shown = [r.key for r in window.proxy.visible_records()]
    assert shown == ["fault:CP-001", "comm:CP-002", "backlog:_system", "meter:CP-001"]
    out = tmp_path / "alarms.csv"
    export(qtbot, window, out)
    assert window.exporter.status.text() == f"Exported 4 alarms to {out}"
    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["Alarm key"] for r in rows] == shown  # not the shelved one: not shown
    fault = rows[0]
    assert fault["Priority"] == "1" and fault["Priority name"] == "Critical"
    assert fault["State"] == "unacknowledged" and fault["Activations"] == "3"
    assert fault["Activated (UTC)"] == "2026-11-22T08:05:00.000Z"
    assert rows[2]["Charger"] == "" and rows[2]["Chattering"] == "true"


def test_excel_has_typed_cells_a_frozen_header_and_a_filter(
    qtbot: Any, window: AlarmListWindow, tmp_path: Path
) -> None:
    window.text_filter.setText("CP-001")
    book = tmp_path / "alarms.xlsx"
    export(qtbot, window, book)
    ws = load_workbook(book)["Alarms"]
    assert tuple(c.value for c in ws[1]) == ALARM_LIST_HEADERS
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:Q3"
    assert ws.max_row == 3
    row = {h: ws.cell(2, c).value for c, h in enumerate(ALARM_LIST_HEADERS, start=1)}
    assert row["Alarm key"] == "fault:CP-001" and row["Priority"] == 1
    assert (
        row["Activated (UTC)"] == datetime(2026, 11, 22, 8, 5) == T0.replace(tzinfo=None, minute=5)
    )
    assert ws["D2"].is_date
    assert row["Activations"] == 3 and row["Chattering"] is False
    assert row["Shelved until (UTC)"] is None
