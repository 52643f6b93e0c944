"""Reading the engine again while a window is on screen, and not while it is hidden."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget


class RefreshWhileShown(QObject):
    """Calls ``refresh`` when ``widget`` is shown, then every ``interval_ms`` until it is
    hidden again (its ``timer`` runs only while the widget is shown)."""

    def __init__(self, widget: QWidget, refresh: Callable[[], None], interval_ms: int) -> None:
        super().__init__(widget)
        self._refresh = refresh
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(refresh)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Show:
            self._refresh()
            self.timer.start()
        elif event.type() == QEvent.Type.Hide:
            self.timer.stop()
        return False
