"""The export control on its own: failures are said, a closed window cancels, and a
table longer than its count still ends at its true size."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QVBoxLayout, QWidget

from evsuper.hmi.widgets.export import ExportControl, ExportTable
from evsuper.reports.tables import Row


class Rows:
    """``count`` rows; the first ``hold`` pass, then the stream waits until released."""

    def __init__(self, count: int, hold: int | None = None) -> None:
        self.count, self.hold = count, hold
        self.held = threading.Event()
        self.release = threading.Event()

    def __call__(self) -> Iterator[Row]:
        for n in range(self.count):
            if n == self.hold:
                self.held.set()
                self.release.wait(10)
            yield (n, f"row {n}")


def _window(qtbot: Any, rows: Rows, total: int) -> tuple[QWidget, ExportControl]:
    window = QWidget()
    control = ExportControl(
        "test", "rows", "test", lambda: ExportTable("Test", ("N", "Text"), rows, total), window
    )
    layout = QVBoxLayout(window)
    layout.addWidget(control.button)
    layout.addWidget(control)
    qtbot.addWidget(window)
    window.show()
    return window, control


def test_more_rows_than_counted_end_at_the_true_size(
    qtbot: Any, themed_app: Any, tmp_path: Path
) -> None:
    rows = Rows(50, hold=40)
    _, control = _window(qtbot, rows, total=10)
    control.export_to(tmp_path / "more.csv")
    qtbot.waitUntil(rows.held.is_set, timeout=5000)
    qtbot.waitUntil(lambda: control.progress.value() == 40, timeout=5000)
    assert control.progress.maximum() == 40 and control.progress.text() == "40 / 40 rows"
    rows.release.set()
    qtbot.waitUntil(lambda: not control.exporting, timeout=5000)
    assert control.status.text() == f"Exported 50 rows to {tmp_path / 'more.csv'}"
    assert len((tmp_path / "more.csv").read_text().splitlines()) == 51


def test_a_failure_is_said_and_leaves_no_file(qtbot: Any, themed_app: Any, tmp_path: Path) -> None:
    _, control = _window(qtbot, Rows(5), total=5)
    target = tmp_path / "missing" / "out.xlsx"
    control.export_to(target)
    qtbot.waitUntil(lambda: not control.exporting, timeout=5000)
    assert control.status.text() == f"Export to {target} failed: No such file or directory"
    assert control.button.isEnabled() and not control.progress.isVisible()
    assert list(tmp_path.iterdir()) == []


def test_closing_the_window_cancels(qtbot: Any, themed_app: Any, tmp_path: Path) -> None:
    rows = Rows(100, hold=3)
    window, control = _window(qtbot, rows, total=100)
    control.export_to(tmp_path / "closed.xlsx")
    control.export_to(tmp_path / "second.xlsx")  # ignored while one runs
    qtbot.waitUntil(rows.held.is_set, timeout=5000)
    window.close()
    rows.release.set()
    qtbot.waitUntil(lambda: not control.exporting, timeout=5000)
    assert control.status.text() == "Export cancelled"
    assert list(tmp_path.iterdir()) == []
