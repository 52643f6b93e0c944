"""The one place where a table becomes a file: CSV or Excel (xlsx).

A table is a list of headers and rows of plain cells (text, numbers, booleans, enums,
aware datetimes, None). Times are UTC: ISO 8601 text ending in ``Z`` in CSV, real Excel
date-times (naive, in UTC, the header saying so) in xlsx. An xlsx sheet gets a bold,
frozen header row, a filter on the header and column widths fitted to the content.

``write_table`` writes a file whole or not at all: through a hidden ``.part`` sibling
renamed over the target when complete, with a ``Progress`` to count the rows written
(from any thread) and to cancel.
"""

from __future__ import annotations

import csv
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from os import PathLike
from pathlib import Path
from typing import TextIO

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from evsuper.core.timeutil import to_wire

Cell = str | int | float | Decimal | bool | datetime | date | timedelta | Enum | None
Row = Sequence[Cell]

DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DATE_FORMAT = "yyyy-mm-dd"
MIN_WIDTH = 6
MAX_WIDTH = 60
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True, slots=True)
class Sheet:
    """One table of a workbook."""

    title: str
    headers: Sequence[str]
    rows: Iterable[Row]


class ExportCancelled(Exception):
    """The export was cancelled through its ``Progress``."""


class Progress:
    """Rows written so far (read from any thread) and the flag that cancels the export."""

    def __init__(self) -> None:
        self.rows = 0
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def track(self, rows: Iterable[Row]) -> Iterator[Row]:
        """``rows``, each counted once written; raises ExportCancelled once cancelled."""
        for row in rows:
            if self.cancelled:
                raise ExportCancelled
            yield row
            self.rows += 1


def _utc(ts: datetime) -> datetime:
    """Aware UTC (a naive time is taken as UTC already)."""
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def csv_text(value: Cell) -> str:
    """How a cell reads in CSV."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return to_wire(_utc(value))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return f"{value.total_seconds():g}"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_csv(
    target: str | PathLike[str] | TextIO, headers: Sequence[str], rows: Iterable[Row]
) -> int:
    """Write ``headers`` and ``rows`` as CSV to a path or an open text stream (opened
    with ``newline=""``); returns the number of rows written."""
    if isinstance(target, str | PathLike):
        with Path(target).open("w", encoding="utf-8", newline="") as out:
            return _write_csv(out, headers, rows)
    return _write_csv(target, headers, rows)


def _write_csv(out: TextIO, headers: Sequence[str], rows: Iterable[Row]) -> int:
    writer = csv.writer(out)
    writer.writerow(headers)
    count = 0
    for row in rows:
        writer.writerow([csv_text(v) for v in row])
        count += 1
    return count


def write_xlsx(
    path: str | PathLike[str], sheet_title: str, headers: Sequence[str], rows: Iterable[Row]
) -> int:
    """Write one table as a one-sheet workbook; returns the number of rows written."""
    return write_workbook(path, [Sheet(sheet_title, headers, rows)])[0]


def write_table(
    path: str | PathLike[str],
    title: str,
    headers: Sequence[str],
    rows: Iterable[Row],
    progress: Progress | None = None,
) -> int:
    """One table to ``path``: an Excel workbook (sheet ``title``) for ``.xlsx``, CSV
    otherwise; returns the row count. A failed or cancelled export leaves no file behind
    (and a file already at ``path`` as it was)."""
    target = Path(path)
    partial = target.with_name(f".{target.name}.part")
    tracked = rows if progress is None else progress.track(rows)
    try:
        if target.suffix.lower() == ".xlsx":
            count = write_xlsx(partial, title, headers, tracked)
        else:
            count = write_csv(partial, headers, tracked)
        if progress is not None and progress.cancelled:  # while the workbook was saved
            raise ExportCancelled
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return count


def write_workbook(path: str | PathLike[str], sheets: Sequence[Sheet]) -> list[int]:
    """Write each table on its own sheet, in order; returns the row count of each."""
    book = Workbook()
    default = book.active
    if default is not None:
        book.remove(default)
    counts: list[int] = []
    used: set[str] = set()
    for sheet in sheets:
        title = _sheet_title(sheet.title, used)
        used.add(title.lower())
        counts.append(_fill(book.create_sheet(title), sheet.headers, sheet.rows))
    if not sheets:
        book.create_sheet("Empty")
    book.save(Path(path))
    return counts


def _sheet_title(title: str, used: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of ``[]:*?/\\``, unique in the book."""
    base = _SHEET_FORBIDDEN.sub("-", title).strip("'") or "Sheet"
    base = base[:31]
    candidate, n = base, 2
    while candidate.lower() in used:
        suffix = f" ({n})"
        candidate = base[: 31 - len(suffix)] + suffix
        n += 1
    return candidate


def _excel_value(value: Cell) -> str | int | float | Decimal | bool | datetime | date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return _utc(value).replace(tzinfo=None)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value  # type: ignore[return-value]


def _display_length(value: Cell) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return len(DATETIME_FORMAT)
    text = csv_text(value)
    return max((len(line) for line in text.splitlines()), default=0)


def _fill(ws: Worksheet, headers: Sequence[str], rows: Iterable[Row]) -> int:
    bold = Font(bold=True)
    widths = [len(h) for h in headers]
    time_columns: set[int] = set()
    count = 0
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c)
            cell.value = _excel_value(value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # text, never a formula
            elif isinstance(value, datetime):
                cell.number_format = DATETIME_FORMAT
                time_columns.add(c)
            elif isinstance(value, date):
                cell.number_format = DATE_FORMAT
            if c <= len(widths):
                widths[c - 1] = max(widths[c - 1], _display_length(value))
            else:
                widths.append(_display_length(value))
        count += 1
    for c, header in enumerate(headers, start=1):
        text = header if c not in time_columns or "UTC" in header else f"{header} (UTC)"
        cell = ws.cell(row=1, column=c, value=text)
        cell.font = bold
        widths[c - 1] = max(widths[c - 1], len(text))
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = min(MAX_WIDTH, max(MIN_WIDTH, width + 2))
    ws.freeze_panes = "A2"
    if headers:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{count + 1}"
    return count
