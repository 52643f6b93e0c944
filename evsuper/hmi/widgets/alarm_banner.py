"""The alarm banner, always visible under the toolbar: counts per priority, the newest
most urgent unacknowledged alarm, Silence and the way to the alarm list.

Calm when there is nothing: "No alarm" in grey. Colour appears only in the priority
symbols of alarms that stand.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from evsuper.alarms.model import AlarmRecord, AlarmState, AlarmSummary, Priority
from evsuper.hmi import formatting
from evsuper.hmi.annunciator import Annunciator
from evsuper.hmi.library.alarm_glyph import priority_pixmap
from evsuper.hmi.models.alarms import AlarmListModel
from evsuper.hmi.theme import Emphasis, priority_style, role_label, set_emphasis

GLYPH = QSize(18, 18)
NO_ALARM = "No alarm"


class _ElidedLabel(QLabel):
    """One line that elides at the right instead of growing the banner."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setText(text)
        self.setToolTip(text)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.contentsRect()
        painter.setFont(self.font())
        painter.setPen(self.palette().color(self.foregroundRole()))
        text = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
        painter.end()


class AlarmBanner(QFrame):
    """Emits ``openRequested`` when clicked or its Alarm list button is pressed."""

    openRequested = Signal()

    def __init__(
        self, model: AlarmListModel, annunciator: Annunciator, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("alarmBanner")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Open the alarm list")
        self._model = model
        self._annunciator = annunciator
        self._summary: AlarmSummary | None = None
        self.top: AlarmRecord | None = None

        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 3, 8, 3)
        layout.setSpacing(6)
        caption = role_label("caption", "Alarms")
        caption.setToolTip("Per priority: unacknowledged / in the list")
        layout.addWidget(caption)
        self._count_icons: dict[Priority, QLabel] = {}
        self.counts: dict[Priority, QLabel] = {}
        for priority in Priority:
            icon = QLabel()
            icon.setFixedSize(GLYPH)
            label = QLabel()
            label.setObjectName(f"alarmCount{int(priority)}")
            label.setToolTip(f"{priority.label}: unacknowledged / in the list")
            label.setMinimumWidth(label.fontMetrics().horizontalAdvance("Critical 00/00") + 4)
            self._count_icons[priority] = icon
            self.counts[priority] = label
            layout.addWidget(icon)
            layout.addWidget(label)
        separator = QFrame()
        separator.setFrameShape(QFrame.Shape.VLine)
        separator.setObjectName("alarmBannerSeparator")
        layout.addWidget(separator)
        self._top_icon = QLabel()
        self._top_icon.setFixedSize(GLYPH)
        layout.addWidget(self._top_icon)
        self.message = _ElidedLabel()
        self.message.setObjectName("alarmBannerMessage")
        layout.addWidget(self.message, 1)
        self.set_aside = role_label("caption")
        self.set_aside.setObjectName("alarmSetAside")
        layout.addWidget(self.set_aside)

        self.sound = QPushButton("Sound")
        self.sound.setObjectName("alarmSound")
        self.sound.setToolTip("Which priorities sound")
        menu = QMenu(self.sound)
        self.sound_actions: dict[Priority, QAction] = {}
        for priority in Priority:
            action = menu.addAction(f"Sound for {priority.label.lower()} alarms")
            action.setCheckable(True)
            action.setChecked(annunciator.is_audible(priority))
            action.toggled.connect(lambda on, p=priority: self._annunciator.set_audible(p, on))
            self.sound_actions[priority] = action
        self.sound.setMenu(menu)
        layout.addWidget(self.sound)
        self.silence = QPushButton("Silence")
        self.silence.setObjectName("alarmSilence")
        self.silence.setToolTip("Stop the sound until a new alarm comes (does not acknowledge)")
        self.silence.clicked.connect(annunciator.silence)
        layout.addWidget(self.silence)
        self.open_list = QPushButton("Alarm list")
        self.open_list.setObjectName("alarmListButton")
        self.open_list.clicked.connect(self.openRequested)
        layout.addWidget(self.open_list)

        # A narrow main window must stay possible: the banner clips instead of forcing width.
        self.setMinimumWidth(1)
        model.changed.connect(self._show)
        annunciator.changed.connect(self._show_sound)
        self._show()
        self._show_sound()

    def show_summary(self, summary: AlarmSummary | None) -> None:
        self._summary = summary if isinstance(summary, AlarmSummary) else None
        self._show()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.openRequested.emit()
        super().mousePressEvent(event)

    def _counts(self) -> tuple[dict[Priority, int], dict[Priority, int]]:
        """(in the list, unacknowledged) per priority: the engine's summary, else the model's."""
        if self._summary is not None:
            return self._summary.active, self._summary.unacknowledged
        listed = dict.fromkeys(Priority, 0)
        for record in self._model.records:
            if record.state.in_list:
                listed[record.priority] += 1
        return listed, self._model.unacknowledged_counts()

    def _show(self) -> None:
        listed, unacknowledged = self._counts()
        for priority in Priority:
            total = listed.get(priority, 0)
            unacked = unacknowledged.get(priority, 0)
            label = self.counts[priority]
            label.setText(f"{priority_style(priority).label} {unacked}/{total}")
            label.setEnabled(total > 0)
            set_emphasis(label, Emphasis.NOTABLE if unacked else Emphasis.NORMAL)
            self._count_icons[priority].setPixmap(
                priority_pixmap(priority, GLYPH, filled=total > 0)
            )
            self._count_icons[priority].setEnabled(total > 0)

        self.top = self._model.top_unacknowledged()
        top = self.top
        if top is None:
            self._top_icon.clear()
            self.message.set_full_text(NO_ALARM)
            self.message.setEnabled(False)
            set_emphasis(self.message, Emphasis.NORMAL)
        else:
            self._top_icon.setPixmap(priority_pixmap(top.priority, GLYPH))
            when = formatting.clock(top.activated) if top.activated else formatting.NO_VALUE
            returned = " (cleared)" if top.state is AlarmState.RTN_UNACKNOWLEDGED else ""
            self.message.set_full_text(f"{when}   {top.source}   {top.message}{returned}")
            self.message.setEnabled(True)
            set_emphasis(self.message, Emphasis.NOTABLE)

        summary = self._summary
        parts = []
        if summary is not None:
            for count, word in (
                (summary.shelved, "shelved"),
                (summary.suppressed, "suppressed"),
                (summary.out_of_service, "out of service"),
            ):
                if count:
                    parts.append(f"{count} {word}")
        self.set_aside.setText(" · ".join(parts))
        self.set_aside.setVisible(bool(parts))

    def _show_sound(self) -> None:
        self.silence.setEnabled(self._annunciator.sounding)
        quiet = self._annunciator.silenced and self._annunciator.loudest() is not None
        self.silence.setText("Silenced" if quiet else "Silence")
