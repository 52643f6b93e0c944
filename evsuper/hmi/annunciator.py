"""Audible alarm annunciation: a sound per priority that repeats until acknowledged or silenced.

Fed with the unacknowledged alarms (``update``). While one of a priority switched on
stands, the sound of the most urgent such priority repeats every ``interval_ms``.
``silence()`` stops it until a *new* alarm arrives (a key that was not unacknowledged
before, or an alarm activated again) — silencing is not acknowledging.

The sound is an injected callable (tests count calls); the default is
``QApplication.beep()``: QtMultimedia is not part of PySide6-Essentials.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from evsuper.alarms.model import AlarmRecord, Priority

Sound = Callable[[Priority], None]
REPEAT_INTERVAL_MS = 4000
DEFAULT_AUDIBLE = frozenset({Priority.CRITICAL, Priority.HIGH})


def beep(_priority: Priority) -> None:
    QApplication.beep()


class Annunciator(QObject):
    """Sounds while an audible unacknowledged alarm stands and nobody silenced it."""

    changed = Signal()  # sounding or silenced changed

    def __init__(
        self,
        sound: Sound = beep,
        *,
        interval_ms: int = REPEAT_INTERVAL_MS,
        audible: Iterable[Priority] = DEFAULT_AUDIBLE,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._sound = sound
        self._audible = set(audible)
        self._standing: dict[str, tuple[Priority, datetime | None]] = {}
        self._silenced = False
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._repeat)

    # ---- settings

    def is_audible(self, priority: Priority) -> bool:
        return priority in self._audible

    def set_audible(self, priority: Priority, on: bool) -> None:
        if on:
            self._audible.add(priority)
        else:
            self._audible.discard(priority)
        self._follow()

    # ---- state

    @property
    def silenced(self) -> bool:
        return self._silenced

    @property
    def sounding(self) -> bool:
        return self._timer.isActive()

    def loudest(self) -> Priority | None:
        """The most urgent audible priority with an unacknowledged alarm, None if none."""
        audible = [p for p, _ in self._standing.values() if p in self._audible]
        return min(audible, default=None)

    def update(self, unacknowledged: Mapping[str, AlarmRecord]) -> None:
        """The unacknowledged alarms now; a new audible one sounds at once, even silenced."""
        standing = {key: (r.priority, r.activated) for key, r in unacknowledged.items()}
        new = [
            priority
            for key, (priority, activated) in standing.items()
            if priority in self._audible
            and (key not in self._standing or self._standing[key][1] != activated)
        ]
        self._standing = standing
        if new:
            self._silenced = False
            self._sound(min(new))
            self._timer.start()  # the next repeat a full interval after this one
            self.changed.emit()
            return
        self._follow()

    def silence(self) -> None:
        """Quiet until a new alarm arrives; the alarms stay unacknowledged."""
        if self._silenced:
            return
        self._silenced = True
        self._timer.stop()
        self.changed.emit()

    def _follow(self) -> None:
        should = not self._silenced and self.loudest() is not None
        if should != self._timer.isActive():
            if should:
                self._timer.start()
            else:
                self._timer.stop()
            self.changed.emit()

    def _repeat(self) -> None:
        loudest = self.loudest()
        if loudest is None or self._silenced:
            self._timer.stop()
            self.changed.emit()
            return
        self._sound(loudest)
