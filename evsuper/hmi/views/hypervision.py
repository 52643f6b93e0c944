"""Hypervision: every site of the project as a card — its bollards by state, its power
against its limit, its unacknowledged alarms by priority. A click opens the site's
overview (ISA-101 level 1 of a multi-site project).

The cards are painted (no child widgets) and refreshed at most twice a second from the
overview model's batches and the alarm list's changes.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QGridLayout, QScrollArea, QVBoxLayout, QWidget

from evsuper.alarms.model import Priority
from evsuper.hmi import formatting
from evsuper.hmi.library.alarm_glyph import paint_priority_glyph
from evsuper.hmi.models.alarms import AlarmListModel
from evsuper.hmi.models.hypervision import CARD_STATES, SiteCardData, site_cards
from evsuper.hmi.models.overview import OverviewModel
from evsuper.hmi.models.overview_filter import StateFilter
from evsuper.hmi.theme import Palette, font, priority_style, role_label

REFRESH_MS = 500
CARD_SIZE = QSize(400, 142)
COLUMNS = 3


class SiteCard(QWidget):
    """One site, painted; ``clicked`` with its id."""

    clicked = Signal(str)

    def __init__(self, data: SiteCardData, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"siteCard_{data.site.id}")
        self.setFixedSize(CARD_SIZE)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.data = data
        self.set_data(data)

    def set_data(self, data: SiteCardData) -> None:
        self.data = data
        counts = ", ".join(f"{f.value.lower()} {data.counts[f]}" for f in CARD_STATES)
        alarms = sum(data.unacknowledged.values())
        text = f"{data.name}: {data.chargers} bollards, {counts}; {alarms} unacknowledged alarms"
        self.setToolTip(f"{text}\nClick to open the site")
        self.setAccessibleName(text)
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() is Qt.MouseButton.LeftButton:
            self.clicked.emit(self.data.site.id)

    def paintEvent(self, event: QPaintEvent) -> None:
        data = self.data
        painter = QPainter(self)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        urgent = min((p for p, n in data.unacknowledged.items() if n), default=None)
        border = priority_style(urgent).color if urgent is not None else Palette.TILE_BORDER
        painter.setPen(QPen(border, 2.0 if urgent is not None else 1.0))
        painter.setBrush(Palette.TILE)
        painter.drawRect(rect)
        inner = rect.adjusted(14, 10, -14, -10)

        painter.setPen(Palette.TEXT)
        painter.setFont(font(13, bold=True))
        painter.drawText(inner, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, data.name)
        painter.setFont(font(9))
        painter.setPen(Palette.TEXT_SECONDARY)
        painter.drawText(
            inner,
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
            f"{data.chargers} bollards",
        )
        painter.setPen(Palette.SEPARATOR)
        painter.drawLine(
            int(inner.left()), int(inner.top() + 28), int(inner.right()), int(inner.top() + 28)
        )

        # the bollards by state: a figure each, colour only for faulted
        width = inner.width() / len(CARD_STATES)
        for i, state in enumerate(CARD_STATES):
            cell = QRectF(inner.left() + i * width, inner.top() + 36, width, 44)
            count = data.counts[state]
            painter.setPen(
                Palette.ALARM if state is StateFilter.FAULTED and count else Palette.TEXT
            )
            painter.setFont(font(16, bold=bool(count) and state is not StateFilter.AVAILABLE))
            painter.drawText(
                cell, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, str(count)
            )
            painter.setPen(Palette.TEXT_SECONDARY)
            painter.setFont(font(8.5))
            painter.drawText(
                cell, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, state.value
            )

        # power against the limit, left; unacknowledged alarms by priority, right
        glyph, step = 18.0, 44.0
        alarms_left = inner.right() - 4 * step + 8
        top = inner.top() + 88
        limit = data.site.limit_kw
        power = f"{formatting.kw(data.power_kw)}" + (f" of {formatting.kw(limit)}" if limit else "")
        painter.setPen(Palette.TEXT)
        painter.setFont(font(9.5, bold=True))
        painter.drawText(
            QRectF(inner.left(), top - 2, inner.width(), 18), Qt.AlignmentFlag.AlignLeft, power
        )
        bar = QRectF(inner.left(), top + 20, alarms_left - inner.left() - 24, 8)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(Palette.BAR_TRACK)
        painter.drawRect(bar)
        if limit:
            share = min(data.power_kw / limit, 1.0)
            over = data.power_kw > limit
            painter.setBrush(Palette.ALARM if over else Palette.BAR_FILL)
            painter.drawRect(QRectF(bar.left(), bar.top(), bar.width() * share, bar.height()))

        x = alarms_left
        for priority in Priority:
            count = data.unacknowledged[priority]
            box = QRectF(x, top + 14, glyph, glyph)
            paint_priority_glyph(painter, box, priority, filled=bool(count))
            painter.setPen(Palette.TEXT if count else Palette.TEXT_MUTED)
            painter.setFont(font(9.5, bold=bool(count)))
            painter.drawText(
                QRectF(x + glyph + 3, top + 14, 22, glyph),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                str(count),
            )
            x += step
        painter.setPen(Palette.TEXT_SECONDARY)
        painter.setFont(font(8.5))
        painter.drawText(
            QRectF(alarms_left, top - 2, inner.right() - alarms_left, 16),
            Qt.AlignmentFlag.AlignLeft,
            "Unacknowledged alarms",
        )
        painter.end()


class HypervisionView(QWidget):
    """Every site as a card; ``siteSelected`` with the id of the one clicked."""

    siteSelected = Signal(str)

    def __init__(
        self, model: OverviewModel, alarms: AlarmListModel, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("hypervision")
        self._model = model
        self._alarms = alarms
        self.cards: dict[str, SiteCard] = {}
        grid = QGridLayout()
        grid.setSpacing(14)
        for i, data in enumerate(self._compute()):
            card = SiteCard(data)
            card.clicked.connect(self.siteSelected)
            grid.addWidget(card, i // COLUMNS, i % COLUMNS)
            self.cards[data.site.id] = card
        grid.setRowStretch(len(self.cards) // COLUMNS + 1, 1)
        grid.setColumnStretch(COLUMNS, 1)
        body = QWidget()
        body.setObjectName("hypervisionBody")
        body.setLayout(grid)
        scroll = QScrollArea()
        scroll.setObjectName("hypervisionSites")
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addWidget(role_label("title", "Sites"))
        layout.addWidget(scroll, 1)

        self._refresh = QTimer(self)
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(REFRESH_MS)
        self._refresh.timeout.connect(self.refresh)
        model.rowsChanged.connect(self._refresh.start)
        model.rowsInserted.connect(self._refresh.start)
        alarms.changed.connect(self._refresh.start)

    def _compute(self) -> list[SiteCardData]:
        states = [self._model.state_at(row) for row in range(self._model.rowCount())]
        return site_cards(self._model.project, states, self._alarms.records)

    def refresh(self) -> None:
        for data in self._compute():
            self.cards[data.site.id].set_data(data)
