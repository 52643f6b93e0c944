"""Reading the engine again while a window is on screen, and not while it is hidden."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget


class RefreshWhileShown(QTimer):
    """Calls ``refresh`` when ``widget`` is shown, then every ``interval_ms`` until it is
    hidden again: the timer runs only while the widget is shown.

    Hiding only stops the timer, a Qt call that needs none of this object's Python
    attributes: a window freed by Python's garbage collector is hidden by its destructor
    after those attributes are gone."""

    def __init__(self, widget: QWidget, refresh: Callable[[], None], interval_ms: int) -> None:
        super().__init__(widget)
        self._refresh = refresh
        self.setInterval(interval_ms)
        self.timeout.connect(refresh)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Hide:
            self.stop()
        elif event.type() == QEvent.Type.Show:
            self._refresh()
            self.start()
        return False
