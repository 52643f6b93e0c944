"""The paint-only widget of every library object, and the one clock that animates them all.

``LibraryObject`` holds a view (a frozen dataclass) and paints it; it does no I/O and
knows no engine. The ``FlowClock`` is shared by all objects: its timer runs only while
at least one visible object has energy flowing, so a thousand idle symbols cost nothing.
"""

from __future__ import annotations

from typing import Generic, TypeVar

import shiboken6
from PySide6.QtCore import QObject, QRectF, QSize, QTimer
from PySide6.QtGui import QHideEvent, QPainter, QPaintEvent, QShowEvent
from PySide6.QtWidgets import QWidget

from evsuper.hmi.library.base import ObjectSize, ObjectView, paint_object, size_hint


class FlowClock(QObject):
    """A phase from 0 to 1 that advances while some visible object shows flowing energy."""

    INTERVAL_MS = 90
    STEPS = 16

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._step = 0
        self._followers: set[QWidget] = set()
        self._timer = QTimer(self)
        self._timer.setInterval(self.INTERVAL_MS)
        self._timer.timeout.connect(self._tick)

    @property
    def phase(self) -> float:
        return self._step / self.STEPS

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def follow(self, widget: QWidget, animate: bool) -> None:
        """Repaint ``widget`` on every step while ``animate``; the timer runs while anyone is."""
        if animate:
            self._followers.add(widget)
        else:
            self._followers.discard(widget)
        # objects deleted while animating (a closed window) leave with the next change
        self._followers = {w for w in self._followers if shiboken6.isValid(w)}
        if self._followers and not self._timer.isActive():
            self._timer.start()
        elif not self._followers:
            self._timer.stop()

    def _tick(self) -> None:
        self._step = (self._step + 1) % self.STEPS
        for widget in list(self._followers):
            if shiboken6.isValid(widget):
                widget.update()
            else:
                self.follow(widget, False)


_clock: FlowClock | None = None


def flow_clock() -> FlowClock:
    """The application's one flow clock (made on first use, after the QApplication)."""
    global _clock
    if _clock is None or not shiboken6.isValid(_clock):
        _clock = FlowClock()
    return _clock


V = TypeVar("V", bound=ObjectView)


class LibraryObject(QWidget, Generic[V]):
    """Paints one object view at one size; set a new view to change what it shows."""

    def __init__(
        self, view: V, size: ObjectSize = ObjectSize.TILE, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._view = view
        self._size = size
        self._describe()

    @property
    def view(self) -> V:
        return self._view

    @property
    def object_size(self) -> ObjectSize:
        return self._size

    def set_view(self, view: V) -> None:
        if view == self._view:
            return
        grows = size_hint(view, self._size) != size_hint(self._view, self._size)
        self._view = view
        self._describe()
        if grows:
            self.updateGeometry()
        self._follow_clock()
        self.update()

    def set_object_size(self, size: ObjectSize) -> None:
        self._size = size
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        return size_hint(self._view, self._size)

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        paint_object(painter, QRectF(self.rect()), self._view, self._size, flow_clock().phase)
        painter.end()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._follow_clock()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        flow_clock().follow(self, False)

    def _follow_clock(self) -> None:
        flow_clock().follow(self, self.isVisible() and self._view.flowing())

    def _describe(self) -> None:
        text = self._view.description()
        self.setAccessibleName(text)
        self.setToolTip(text)
