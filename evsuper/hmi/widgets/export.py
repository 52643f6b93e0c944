"""The one export control of the table views (transactions, alarm history, event log,
alarm list).

``button`` ("Export…", placed by the view among its actions) asks for a file, Excel
(.xlsx) or CSV; the table is written on the control's worker thread by
``reports.tables.write_table`` while the control shows rows written / total on a
progress bar with a Cancel button, then the result on its status line. A cancelled or
failed export leaves no file behind. Closing the window cancels the export.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QWidget,
)

from evsuper.hmi import formatting
from evsuper.hmi.theme import Emphasis, role_label, set_emphasis
from evsuper.hmi.worker import Worker
from evsuper.reports.tables import ExportCancelled, Progress, Row, write_table

FILE_FILTERS = "Excel workbook (*.xlsx);;CSV files (*.csv)"
PROGRESS_INTERVAL_MS = 200


@dataclass(frozen=True, slots=True)
class ExportTable:
    """What an export writes, taken on the GUI thread when it starts; ``rows()`` runs on
    the export thread (over a snapshot, or a query of its own)."""

    title: str  # of the Excel sheet
    headers: Sequence[str]  # units and "(UTC)" in the header, plain values in the cells
    rows: Callable[[], Iterable[Row]]
    total: int  # rows expected: the progress bar's end


class ExportControl(QWidget):
    """Status, progress and Cancel of one view's exports; ``button`` starts one."""

    def __init__(
        self,
        name: str,
        noun: str,
        file_stem: str,
        table: Callable[[], ExportTable],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(f"{name}ExportControl")
        self._noun = noun
        self._file_stem = file_stem
        self._table = table
        self._worker = Worker(f"evsuper-{file_stem}-export", self)
        self._progress: Progress | None = None
        self._total = 0

        self.button = QPushButton("Export…")
        self.button.setObjectName(f"{name}Export")
        self.button.setToolTip(f"Export the {noun} to Excel (.xlsx) or CSV")
        self.status = role_label("value")
        self.status.setObjectName(f"{name}ExportStatus")
        self.progress = QProgressBar()
        self.progress.setObjectName(f"{name}ExportProgress")
        self.progress.setFixedWidth(260)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName(f"{name}CancelExport")
        self.cancel_button.setToolTip("Stop the export; no file is left behind")
        self.cancel_button.hide()

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self.status)
        layout.addWidget(self.progress)
        layout.addWidget(self.cancel_button)

        self._timer = QTimer(self)
        self._timer.setInterval(PROGRESS_INTERVAL_MS)
        self._timer.timeout.connect(self._show_progress)
        self.button.clicked.connect(self.choose_file)
        self.cancel_button.clicked.connect(self.cancel)
        if parent is not None:
            parent.installEventFilter(self)  # the view's window closing cancels

    @property
    def exporting(self) -> bool:
        return self._progress is not None

    def export_to(self, path: Path) -> None:
        """Write the view's table to ``path`` (``.xlsx``: Excel, else CSV) on the export
        thread; nothing happens while an export runs."""
        if self._progress is not None:
            return
        table = self._table()
        progress = self._progress = Progress()
        self._total = table.total
        self.progress.setRange(0, max(1, table.total))
        self._show_progress()
        self.progress.show()
        self.cancel_button.show()
        self.button.setEnabled(False)
        self._say(f"Exporting to {path.name}…", Emphasis.NORMAL)
        self._timer.start()

        def work() -> int | None:
            try:
                return write_table(path, table.title, table.headers, table.rows(), progress)
            except ExportCancelled:
                return None  # an answer, not a failure to log

        self._worker.run(
            work, lambda count: self._exported(path, count), lambda exc: self._failed(path, exc)
        )

    def cancel(self) -> None:
        if self._progress is not None:
            self._progress.cancel()

    def choose_file(self) -> None:
        name, chosen = QFileDialog.getSaveFileName(
            self, f"Export the {self._noun}", f"{self._file_stem}.xlsx", FILE_FILTERS
        )
        if not name:
            return
        path = Path(name)
        if path.suffix.lower() not in (".xlsx", ".csv"):
            path = path.with_name(path.name + (".csv" if "csv" in chosen.lower() else ".xlsx"))
        self.export_to(path)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Close:
            self.cancel()
        return False

    def _show_progress(self) -> None:
        """Rows written / total, read from the export thread's counter."""
        if self._progress is None:
            return
        written = self._progress.rows
        if written > self._total:  # rows archived since the count
            self._total = written
            self.progress.setMaximum(written)
        self.progress.setValue(written)
        count = formatting.count
        self.progress.setFormat(f"{count(written)} / {count(self._total)} {self._noun}")

    def _finish(self) -> None:
        self._progress = None
        self._timer.stop()
        self.progress.hide()
        self.cancel_button.hide()
        self.button.setEnabled(True)

    def _exported(self, path: Path, count: int | None) -> None:
        self._finish()
        if count is None:
            self._say("Export cancelled", Emphasis.NOTABLE)
        else:
            self._say(f"Exported {formatting.count(count)} {self._noun} to {path}", Emphasis.NORMAL)

    def _failed(self, path: Path, exc: Exception) -> None:
        self._finish()
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        self._say(f"Export to {path} failed: {reason}", Emphasis.ALARM)

    def _say(self, text: str, emphasis: Emphasis) -> None:
        self.status.setText(text)
        set_emphasis(self.status, emphasis)
