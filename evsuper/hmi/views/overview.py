"""Site overview: one painted tile per charger in a reflowing grid.

Tiles are painted by a delegate, not built from widgets, so a display of a thousand
bollards costs one view and one delegate. The delegate reads the model's state objects
directly: besides being quicker, this stays clear of ``QModelIndex.data()`` from Python,
which in PySide6 6.12 loses a reference to ``None`` whenever the answer is empty.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from evsuper.alarms.model import ChargerAlarm
from evsuper.core.domain import ConnectorStatus, RegistrationStatus
from evsuper.hmi import formatting
from evsuper.hmi.library.alarm_glyph import paint_priority_glyph
from evsuper.hmi.library.glyphs import paint_connector_glyph
from evsuper.hmi.models.overview import (
    ChargerState,
    ConnectorState,
    OverviewModel,
)
from evsuper.hmi.theme import CommStyle, Palette, comm_style, connector_style, font

_ModelIndex = QModelIndex | QPersistentModelIndex

_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class TileDelegate(QStyledItemDelegate):
    """Paints a charger tile: header (id, abnormal comm/charger state), a line per connector."""

    WIDTH = 236
    HEADER = 28
    ROW = 40
    MARGIN = 8
    GLYPH = 18
    BAR_WIDTH = 50
    ALARM_BOX = 20

    def __init__(self, model: OverviewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self._size = self._tile_size(model.max_connectors)
        model.maxConnectorsChanged.connect(self._on_max_connectors_changed)
        self._title_font = font(10.5, bold=True)
        self._badge_font = font(8.5, bold=True)
        self._body_font = font(9)
        self._body_bold_font = font(9, bold=True)
        self._small_font = font(8)

    def sizeHint(self, option: QStyleOptionViewItem, index: _ModelIndex) -> QSize:
        return self._size

    def _tile_size(self, connectors: int) -> QSize:
        """All tiles share one size, tall enough for the charger with the most connectors."""
        return QSize(self.WIDTH, self.HEADER + connectors * self.ROW + 6)

    def _on_max_connectors_changed(self, connectors: int) -> None:
        self._size = self._tile_size(connectors)
        self.sizeHintChanged.emit(self._model.index(0))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _ModelIndex) -> None:
        state = self._model.state_at(index.row())
        comm = comm_style(state.comm)
        rect = QRectF(option.rect).adjusted(2, 2, -2, -2)
        opt_state = option.state
        painter.save()

        hovered = bool(opt_state & QStyle.StateFlag.State_MouseOver)
        background = Palette.TILE_HOVER if hovered and state.online else comm.background
        painter.fillRect(rect, background)
        if comm.hatched:
            painter.fillRect(rect, QBrush(Palette.OFFLINE_HATCH, Qt.BrushStyle.BDiagPattern))

        alarm = state.online and state.faulted
        border = QPen(Palette.ALARM if alarm else Palette.TILE_BORDER, 2.0 if alarm else 1.0)
        if comm.dashed_border:
            border.setStyle(Qt.PenStyle.DashLine)
        border.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        painter.setPen(border)
        painter.drawRect(rect.adjusted(0.5, 0.5, -0.5, -0.5))
        if opt_state & QStyle.StateFlag.State_Selected:
            selection = QPen(Palette.SELECTION, 2.0)
            selection.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            painter.setPen(selection)
            painter.drawRect(QRectF(option.rect).adjusted(1, 1, -1, -1))

        self._paint_header(painter, rect, state, comm)
        for i, connector in enumerate(state.connectors):
            row = QRectF(
                rect.left(), rect.top() + self.HEADER + i * self.ROW, rect.width(), self.ROW
            )
            self._paint_connector(painter, row, state, connector, comm)
        painter.restore()

    def _paint_header(
        self, painter: QPainter, rect: QRectF, state: ChargerState, comm: CommStyle
    ) -> None:
        header = QRectF(
            rect.left() + self.MARGIN, rect.top(), rect.width() - 2 * self.MARGIN, self.HEADER
        )
        badge, badge_color = self._header_badge(state, comm)
        painter.setFont(self._badge_font)
        badge_width = painter.fontMetrics().horizontalAdvance(badge) + 4.0 if badge else 0.0
        if badge:
            painter.setPen(badge_color)
            painter.drawText(header, _RIGHT, badge)
        if state.alarm is not None:
            badge_width = self._paint_alarm(painter, header, badge_width, state.alarm, comm)
        painter.setFont(self._title_font)
        painter.setPen(comm.text)
        title = painter.fontMetrics().elidedText(
            state.charger_id, Qt.TextElideMode.ElideRight, int(header.width() - badge_width)
        )
        painter.drawText(header, _LEFT, title)
        painter.setPen(QPen(comm.dim if not state.online else Palette.SEPARATOR, 1.0))
        y = rect.top() + self.HEADER - 0.5
        painter.drawLine(QPointF(header.left(), y), QPointF(header.right(), y))

    def _paint_alarm(
        self,
        painter: QPainter,
        header: QRectF,
        right_offset: float,
        alarm: ChargerAlarm,
        comm: CommStyle,
    ) -> float:
        """The charger's most urgent alarm left of the badge: its priority symbol, the count
        when more than one, and a frame while unacknowledged; returns the width used."""
        painter.setFont(self._badge_font)
        count = str(alarm.count) if alarm.count > 1 else ""
        count_width = painter.fontMetrics().horizontalAdvance(count) + 2 if count else 0
        right = header.right() - right_offset - (6 if right_offset else 0)
        side = self.ALARM_BOX
        box = QRectF(right - side, header.center().y() - side / 2, side, side)
        paint_priority_glyph(painter, box.adjusted(2, 2, -2, -2), alarm.priority)
        if alarm.unacknowledged:
            frame = QPen(comm.text, 1.5)
            frame.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            painter.setPen(frame)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(box.adjusted(0.5, 0.5, -0.5, -0.5))
        if count:
            painter.setPen(comm.text)
            painter.drawText(
                QRectF(box.left() - count_width, header.top(), count_width, header.height()),
                _RIGHT,
                count,
            )
        return right_offset + (6 if right_offset else 0) + self.ALARM_BOX + count_width

    @staticmethod
    def _header_badge(state: ChargerState, comm: CommStyle) -> tuple[str, QColor]:
        """The one abnormal fact about the whole charger worth a word on its tile."""
        if comm.label:
            return comm.label, comm.label_color
        if state.status is ConnectorStatus.FAULTED:
            return "FAULTED", Palette.ALARM
        if state.registration not in (None, RegistrationStatus.ACCEPTED):
            return str(state.registration).upper(), Palette.TEXT
        if state.status is ConnectorStatus.UNAVAILABLE:
            return "UNAVAILABLE", Palette.TEXT_SECONDARY
        return "", Palette.TEXT

    def _paint_connector(
        self,
        painter: QPainter,
        row: QRectF,
        state: ChargerState,
        connector: ConnectorState,
        comm: CommStyle,
    ) -> None:
        live = state.online
        style = connector_style(connector.status)
        glyph = QRectF(row.left() + self.MARGIN, row.top() + 7, self.GLYPH, self.GLYPH)
        paint_connector_glyph(painter, glyph, connector.connector_id, style, live=live)

        left = glyph.right() + 8
        width = row.right() - self.MARGIN - left
        line1 = QRectF(left, row.top() + 5, width, 18)
        line2 = QRectF(left, row.top() + 23, width, 13)

        painter.setFont(self._body_bold_font if live and style.bold else self._body_font)
        painter.setPen(style.text if live else comm.dim)
        painter.drawText(line1, _LEFT, style.label)
        if not live:
            return

        in_session = connector.transaction_id is not None or (connector.power_kw or 0.0) > 0
        if connector.faulted:
            painter.setFont(self._small_font)
            painter.setPen(Palette.ALARM)
            detail = connector.error_code or "Fault"
            if connector.error_info:
                detail += f" · {connector.error_info}"
            painter.drawText(
                line2,
                _LEFT,
                painter.fontMetrics().elidedText(
                    detail, Qt.TextElideMode.ElideRight, int(line2.width())
                ),
            )
        elif in_session:
            painter.setFont(self._body_bold_font)
            painter.setPen(Palette.TEXT)
            painter.drawText(line1, _RIGHT, formatting.kw(connector.power_kw))
            self._paint_power_bar(painter, line2, connector.power_kw, state.max_power_kw)
            painter.setFont(self._small_font)
            painter.setPen(Palette.TEXT_SECONDARY)
            session = formatting.kwh(connector.energy_kwh)
            if connector.soc is not None:
                session += f"   SoC {formatting.percent(connector.soc)}"
            painter.drawText(line2, _RIGHT, session)

    def _paint_power_bar(
        self, painter: QPainter, line: QRectF, power_kw: float | None, max_kw: float
    ) -> None:
        track = QRectF(line.left(), line.center().y() - 2.5, self.BAR_WIDTH, 5)
        painter.fillRect(track, Palette.BAR_TRACK)
        fraction = min(max((power_kw or 0.0) / max_kw, 0.0), 1.0) if max_kw > 0 else 0.0
        if fraction > 0:
            painter.fillRect(
                QRectF(track.left(), track.top(), track.width() * fraction, track.height()),
                Palette.BAR_FILL,
            )


class OverviewView(QListView):
    """Reflowing grid of charger tiles; emits the id of the charger the operator picks."""

    chargerSelected = Signal(str)

    def __init__(self, model: OverviewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("overview")
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setSpacing(4)
        self.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.setMouseTracking(True)
        self._model = model
        self.setItemDelegate(TileDelegate(model, self))
        self.setModel(model)
        # Selection, not the current index: the view makes the first tile current on
        # focus, and that must not count as the operator's choice.
        self.clicked.connect(self._on_activated)
        self.selectionModel().selectionChanged.connect(self._on_selection_changed)

    def select_charger(self, row: int) -> None:
        self.setCurrentIndex(self.model().index(row, 0))

    def _on_selection_changed(self) -> None:
        selected = self.selectionModel().selectedIndexes()
        if selected:
            self._on_activated(selected[0])

    def _on_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.chargerSelected.emit(self._model.state_at(index.row()).charger_id)
