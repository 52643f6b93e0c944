"""The time range of an archive view: a preset (last hour … all time) or a custom range.

``period`` (the preset combo), ``since`` and ``until`` (the custom range, enabled only for
it) are laid out by the view; ``changed`` fires when the range the user means changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QDateTime, QObject, Signal
from PySide6.QtWidgets import QComboBox, QDateTimeEdit, QGridLayout, QWidget

from evsuper.core.timeutil import utcnow
from evsuper.hmi.theme import role_label


@dataclass(frozen=True, slots=True)
class Period:
    label: str
    span: timedelta | None  # None: all time


PERIODS = (
    Period("Last hour", timedelta(hours=1)),
    Period("Last 24 hours", timedelta(hours=24)),
    Period("Last 7 days", timedelta(days=7)),
    Period("Last 30 days", timedelta(days=30)),
    Period("All time", None),
)
CUSTOM = "Custom range"
DEFAULT_PERIOD = 1


class PeriodPicker(QObject):
    changed = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.period = QComboBox()
        self.period.setObjectName(f"{name}Period")
        self.period.addItems([p.label for p in PERIODS] + [CUSTOM])
        self.period.setCurrentIndex(DEFAULT_PERIOD)
        now = QDateTime.currentDateTime()
        self.since = QDateTimeEdit(now.addDays(-1))
        self.until = QDateTimeEdit(now.addSecs(3600))
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd HH:mm")
            edit.dateTimeChanged.connect(self.changed)
        self.period.currentIndexChanged.connect(self._period_changed)
        self._period_changed()

    @property
    def custom(self) -> bool:
        return self.period.currentText() == CUSTOM

    def range(self) -> tuple[datetime | None, datetime | None]:
        """(since, until) in aware UTC; None: open on that side."""
        if self.custom:
            return _utc(self.since.dateTime()), _utc(self.until.dateTime())
        span = PERIODS[self.period.currentIndex()].span
        return (None if span is None else utcnow() - span), None

    def _period_changed(self) -> None:
        self.since.setEnabled(self.custom)
        self.until.setEnabled(self.custom)
        self.changed.emit()


def _utc(value: QDateTime) -> datetime:
    return datetime.fromtimestamp(value.toSecsSinceEpoch(), UTC)


def filter_grid(
    fields: Sequence[tuple[str, QWidget]],
    periods: PeriodPicker,
    buttons: Sequence[QWidget],
    stretch: int,
) -> QGridLayout:
    """The filter bar of an archive view: a caption over each field, the custom range's
    From and To under the period field, the buttons at the end; column ``stretch`` grows."""
    grid = QGridLayout()
    grid.setHorizontalSpacing(8)
    grid.setVerticalSpacing(4)
    for column, (caption, widget) in enumerate(fields):
        grid.addWidget(role_label("caption", caption), 0, column)
        grid.addWidget(widget, 1, column)
    at = next(i for i, (_, widget) in enumerate(fields) if widget is periods.period)
    for offset, (caption, edit) in enumerate((("From", periods.since), ("To", periods.until))):
        grid.addWidget(role_label("caption", caption), 2, at + offset)
        grid.addWidget(edit, 3, at + offset)
    for offset, button in enumerate(buttons):
        grid.addWidget(button, 1, len(fields) + offset)
    grid.setColumnStretch(stretch, 1)
    return grid
