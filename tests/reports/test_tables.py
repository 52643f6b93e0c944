"""Tables to CSV and xlsx: UTC times, text that stays text, a usable sheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from evsuper.alarms.model import Priority, Transition
from evsuper.reports.tables import (
    MAX_WIDTH,
    ExportCancelled,
    Progress,
    Row,
    Sheet,
    write_csv,
    write_table,
    write_workbook,
    write_xlsx,
)

TS = datetime(2026, 11, 22, 8, 30, 15, 250000, tzinfo=UTC)
PARIS = timezone(timedelta(hours=1))
HEADERS = ("Time", "Source", "Transition", "Priority", "Count", "Share", "Comment")
ROWS = [
    (TS, "CP-001/C1", Transition.ACTIVATED, int(Priority.HIGH), 3, 0.25, None),
    (
        datetime(2026, 11, 22, 10, 0, tzinfo=PARIS),  # 09:00 UTC
        "CP-002",
        Transition.ACKNOWLEDGED,
        int(Priority.LOW),
        0,
        0.0,
        '=HYPERLINK("x") and a\x07bell',
    ),
]


def test_csv_to_a_stream_and_a_path(tmp_path: Path) -> None:
    out = io.StringIO(newline="")
    assert write_csv(out, HEADERS, ROWS) == 2
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert rows[0] == list(HEADERS)
    assert rows[1] == ["2026-11-22T08:30:15.250Z", "CP-001/C1", "activated", "2", "3", "0.25", ""]
    assert rows[2][0] == "2026-11-22T09:00:00.000Z"
    assert rows[2][6] == '=HYPERLINK("x") and a\x07bell'
    path = tmp_path / "t.csv"
    assert write_csv(path, HEADERS, iter(ROWS)) == 2
    assert path.read_text(encoding="utf-8").splitlines()[1].startswith("2026-11-22T08:30:15")
    assert write_csv(str(tmp_path / "empty.csv"), HEADERS, []) == 0


def test_xlsx_cells_types_and_layout(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    assert write_xlsx(path, "Alarm history: CP/1", HEADERS, ROWS) == 2
    book = load_workbook(path)
    assert book.sheetnames == ["Alarm history- CP-1"]
    ws = book.active
    assert ws is not None
    assert [c.value for c in ws[1]] == ["Time (UTC)", *HEADERS[1:]]
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:G3"
    time = ws["A2"].value
    assert isinstance(time, datetime) and time.tzinfo is None
    assert time == datetime(2026, 11, 22, 8, 30, 15, 250000)
    assert ws["A3"].value == datetime(2026, 11, 22, 9, 0)
    assert ws["A2"].is_date and ws["A2"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert ws["C2"].value == "activated"
    assert ws["D2"].value == 2 and ws["E2"].value == 3 and ws["F2"].value == 0.25
    assert ws["G2"].value is None
    assert ws["G3"].data_type == "s"  # text, not a formula
    assert ws["G3"].value == '=HYPERLINK("x") and abell'  # control characters dropped
    widths = {col: ws.column_dimensions[col].width for col in "ABCDEFG"}
    assert widths["A"] >= len("yyyy-mm-dd hh:mm:ss")
    assert widths["B"] >= len("CP-001/C1")
    assert all(6 <= w <= MAX_WIDTH for w in widths.values())


def test_a_long_text_column_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "long.xlsx"
    write_xlsx(path, "Long", ["Message"], [("x" * 500,)])
    ws = load_workbook(path).active
    assert ws is not None
    assert ws.column_dimensions["A"].width == MAX_WIDTH
    assert ws["A2"].value == "x" * 500


def test_a_workbook_with_one_sheet_per_table(tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    counts = write_workbook(
        path,
        [
            Sheet("Metrics", ["Metric", "Value"], [("Alarms", 12), ("OK", True)]),
            Sheet("Days", ["Day", "Alarms"], [(date(2026, 11, 22), 12)]),
            Sheet("Metrics", ["Empty"], []),
        ],
    )
    assert counts == [2, 1, 0]
    book = load_workbook(path)
    assert book.sheetnames == ["Metrics", "Days", "Metrics (2)"]
    assert book["Metrics"]["B3"].value is True
    assert book["Days"]["A2"].is_date
    assert [c.value for c in book["Metrics (2)"][1]] == ["Empty"]


def test_write_table_chooses_the_format_by_suffix_and_counts(tmp_path: Path) -> None:
    progress = Progress()
    book = tmp_path / "t.xlsx"
    assert write_table(book, "Alarms", HEADERS, ROWS, progress) == 2
    assert progress.rows == 2
    ws = load_workbook(book)["Alarms"]
    assert ws["A2"].is_date and ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:G3"
    text = tmp_path / "t.csv"
    assert write_table(text, "Alarms", HEADERS, iter(ROWS)) == 2
    assert text.read_text(encoding="utf-8").startswith("Time,Source")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.xlsx"]


def _cancelled_after(rows: int, progress: Progress) -> Iterator[Row]:
    for n in range(10 * rows):
        if n == rows:
            progress.cancel()
        yield (TS, f"CP-{n:03d}", n)


@pytest.mark.parametrize("name", ["big.xlsx", "big.csv"])
def test_a_cancelled_or_failed_table_leaves_no_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    progress = Progress()
    with pytest.raises(ExportCancelled):
        write_table(
            path, "Big", ("Time", "Charger", "N"), _cancelled_after(100, progress), progress
        )
    assert progress.rows == 100
    assert list(tmp_path.iterdir()) == []

    def failing() -> Iterator[Row]:
        yield (TS, "CP-001", 1)
        raise OSError("archive gone")

    path.write_text("an older export")
    with pytest.raises(OSError, match="archive gone"):
        write_table(path, "Big", ("Time", "Charger", "N"), failing())
    assert [p.name for p in tmp_path.iterdir()] == [name]  # the older file, untouched
    assert path.read_text() == "an older export"


def test_decimal_money_is_a_number_cell(tmp_path: Path) -> None:
    path = tmp_path / "cost.xlsx"
    write_xlsx(path, "Cost", ["Cost", "Currency"], [(Decimal("12.34"), "EUR")])
    ws = load_workbook(path).active
    assert ws is not None
    assert ws["A2"].data_type == "n" and ws["A2"].value == 12.34
    out = io.StringIO(newline="")
    write_csv(out, ["Cost"], [(Decimal("12.30"),)])
    assert out.getvalue().splitlines()[1] == "12.30"
