"""Python's cyclic garbage collection on the GUI thread only.

The collector runs in whichever thread happens to allocate. When it frees a cycle that
holds Qt objects (a window and a lambda connected to one of its signals) in a worker or
the engine thread, Qt destroys them on the wrong thread and the process may crash. The
HMI turns automatic collection off and collects from a GUI-thread timer instead, each
generation when its threshold is reached, as the automatic collector would.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 500


class GuiThreadCollector(QObject):
    """Created on the GUI thread; turns automatic collection off for the process."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.collect)
        self._timer.start()

    @staticmethod
    def collect() -> None:
        counts = gc.get_count()
        for generation in (2, 1, 0):  # the oldest generation due includes the younger ones
            if counts[generation] > gc.get_threshold()[generation]:
                gc.collect(generation)
                return
