"""A generated project from template to first painted frame: figures, no verdict.

For each size (default 50 and 1,000 bollards) and template: the time to generate and
write the project (``create_project``: project.toml, the first ground-plan layout, the
history's first version), to load it back, and for the HMI (offscreen Qt, no engine: the
main window as ``evsuper run`` builds it, fed the tags the engine would publish) the time
from building the window to its first painted frame; then the process's memory once
every bollard is live (online, a session on connector 1 of two in three, meter values).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/project.py [--sizes 50 1000]

Run each size in a fresh process for clean memory figures (``--sizes 1000``).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import psutil
from overview import meter_batches, online  # bench/overview.py: the same live tags
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication

from evsuper.hmi.main_window import MainWindow
from evsuper.hmi.theme import apply_theme
from evsuper.project.generate import Params, create_project
from evsuper.project.loader import load_project
from evsuper.project.template import load_template


class FirstPaint(QObject):
    """Notes the time of the first paint event of the watched widget."""

    def __init__(self) -> None:
        super().__init__()
        self.at: float | None = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self.at is None:
            self.at = time.perf_counter()
        return False


def run(app: QApplication, template: str, bollards: int, folder: Path) -> None:
    started = time.perf_counter()
    create_project(folder, load_template(template), Params(bollards=bollards, site_name="Bench"))
    generated = time.perf_counter() - started
    started = time.perf_counter()
    project = load_project(folder)
    loaded = time.perf_counter() - started

    process = psutil.Process()
    before = process.memory_info().rss
    paint = FirstPaint()
    started = time.perf_counter()
    window = MainWindow(project, lambda command, callback: None)
    window.overview.viewport().installEventFilter(paint)
    window.resize(1600, 1000)
    window.show()
    while paint.at is None:
        app.processEvents()
    first_frame = paint.at - started
    window.apply_tags(online(project))
    batches = meter_batches(project, per_second=1)
    for _ in range(5):  # a few seconds of meter values
        window.apply_tags(next(batches))
        app.processEvents()
    live = process.memory_info().rss
    print(
        f"  {template:<10} {bollards:>6} bollards: generate {generated * 1000:7.1f} ms, "
        f"load {loaded * 1000:6.1f} ms, HMI first frame {first_frame * 1000:7.1f} ms, "
        f"RSS {live / 2**20:6.0f} MiB live (+{(live - before) / 2**20:.0f} MiB for the window)"
    )
    window.close()
    window.deleteLater()
    app.processEvents()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 1000])
    parser.add_argument("--templates", nargs="+", default=["public-ac", "depot-dc"])
    args = parser.parse_args()
    app = QApplication([])
    apply_theme(app)
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            for template in args.templates:
                run(app, template, size, Path(tmp) / f"{template}-{size}")


if __name__ == "__main__":
    main()
