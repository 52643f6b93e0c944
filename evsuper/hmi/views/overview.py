"""Site overview: every charger as the object library's tile, in a reflowing grid, filtered.

Tiles are painted by a delegate with ``library.paint_object``, not built from widgets, so
a display of a thousand bollards costs one view and one delegate. The delegate reads the
model's state objects directly: besides being quicker, this stays clear of
``QModelIndex.data()`` from Python, which in PySide6 6.12 loses a reference to ``None``
whenever the answer is empty.

Above the grid, ``OverviewPanel`` adapts to N: a site selector (several sites only), an
area selector with the bollards per area (large from ``MANY`` bollards on), a search box
and a strip of counts per state that is also the state filter.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QHelpEvent, QKeySequence, QPainter, QPaintEvent, QPen, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from evsuper.hmi.library.base import TILE_HEADER, TILE_ROW, TILE_WIDTH, ObjectSize, paint_object
from evsuper.hmi.library.bound import charge_point_view
from evsuper.hmi.models.overview import OverviewModel
from evsuper.hmi.models.overview_filter import OverviewFilter, StateFilter
from evsuper.hmi.models.table import Index
from evsuper.hmi.theme import Emphasis, Palette, font, set_emphasis

# From this many chargers on, the area selector is the bar's first, large control.
MANY = 100


class TileDelegate(QStyledItemDelegate):
    """Paints a charger as the library's tile (kind and label from the project), with the
    selection and hover frames of the grid. Tiles do not animate: the overview stays calm
    and a thousand tiles cost nothing between batches."""

    def __init__(self, rows: OverviewFilter, model: OverviewModel, parent: QWidget) -> None:
        super().__init__(parent)
        self._rows = rows
        self._model = model
        self._size = self._tile_size(model.max_connectors)
        model.maxConnectorsChanged.connect(self._on_max_connectors_changed)

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return self._size

    @staticmethod
    def _tile_size(connectors: int) -> QSize:
        """All tiles share one size, tall enough for the charger with the most connectors."""
        return QSize(TILE_WIDTH, TILE_HEADER + connectors * TILE_ROW + 6)

    def _on_max_connectors_changed(self, connectors: int) -> None:
        self._size = self._tile_size(connectors)
        self.sizeHintChanged.emit(self._rows.index(0, 0))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        view = charge_point_view(self._rows.state_at(index.row()))
        rect = QRectF(option.rect)
        paint_object(painter, rect, view, ObjectSize.TILE)
        state = option.state
        if state & QStyle.StateFlag.State_Selected:
            pen = QPen(Palette.SELECTION, 2.0)
        elif state & QStyle.StateFlag.State_MouseOver:
            pen = QPen(Palette.TEXT_SECONDARY, 1.0)
        else:
            return
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        painter.save()
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(rect.adjusted(1, 1, -1, -1))
        painter.restore()

    def helpEvent(
        self,
        event: QHelpEvent,
        view: QAbstractItemView,
        option: QStyleOptionViewItem,
        index: Index,
    ) -> bool:
        """The tile's tooltip: the object's state in words and where the charger stands."""
        if not index.isValid():
            return False
        state = self._rows.state_at(index.row())
        text = charge_point_view(state).description()
        if state.area:
            text += f"\nArea: {self._area_name(state.area)}"
        QToolTip.showText(event.globalPos(), text, view)
        return True

    def _area_name(self, area_id: str) -> str:
        area = self._model.project.area(area_id)
        return area.name or area.id if area is not None else area_id


class OverviewView(QListView):
    """Reflowing grid of charger tiles; emits the id of the charger the operator picks."""

    chargerSelected = Signal(str)

    def __init__(
        self, rows: OverviewFilter, model: OverviewModel, parent: QWidget | None = None
    ) -> None:
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
        self._rows = rows
        self.setItemDelegate(TileDelegate(rows, model, self))
        self.setModel(rows)
        # Selection, not the current index: the view makes the first tile current on
        # focus, and that must not count as the operator's choice.
        self.clicked.connect(self._on_activated)
        self.selectionModel().selectionChanged.connect(self._on_selection_changed)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self._rows.rowCount() == 0:  # say so rather than show an empty grid
            painter = QPainter(self.viewport())
            painter.setFont(font(11))
            painter.setPen(Palette.TEXT_SECONDARY)
            painter.drawText(
                self.viewport().rect(),
                Qt.AlignmentFlag.AlignCenter,
                "No charger matches the filters",
            )
            painter.end()

    def select_charger(self, charger_id: str) -> None:
        """Select the charger's tile, if the filters show it."""
        row = self._rows.row_of(charger_id)
        if row is None:
            self.clearSelection()
        elif self.currentIndex().row() != row:
            self.setCurrentIndex(self._rows.index(row, 0))

    def _on_selection_changed(self) -> None:
        selected = self.selectionModel().selectedIndexes()
        if selected:
            self._on_activated(selected[0])

    def _on_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.chargerSelected.emit(self._rows.state_at(index.row()).charger_id)


class OverviewPanel(QWidget):
    """The filter bar, the counts per state and the grid (``view``)."""

    def __init__(self, model: OverviewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("overviewPanel")
        self._model = model
        self._project = model.project
        self.rows = OverviewFilter(model)
        self.view = OverviewView(self.rows, model)

        # Ids kept here, not as item data: no QVariant round trip (see the module's note).
        self._site_ids = ["", *(site.id for site in self._project.sites)]
        self._area_ids: list[str] = []
        self.site = QComboBox()
        self.site.setObjectName("overviewSite")
        self.site.addItems(["All sites", *(s.name or s.id for s in self._project.sites)])
        self.site.currentIndexChanged.connect(self._on_site)
        self.area = QComboBox()
        self.area.setObjectName("overviewArea")
        self.area.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.area.currentIndexChanged.connect(self._on_area)
        self.search = QLineEdit()
        self.search.setObjectName("overviewSearch")
        self.search.setPlaceholderText("Search id, label, badge (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setFixedWidth(220)
        self.search.textChanged.connect(self.rows.set_text)
        QShortcut(QKeySequence.StandardKey.Find, self, self.search.setFocus)

        self.states: dict[StateFilter, QToolButton] = {}
        group = QButtonGroup(self)
        for state_filter in StateFilter:
            button = QToolButton()
            button.setObjectName(f"overviewCount{state_filter.name.title().replace('_', '')}")
            button.setProperty("role", "stateCount")
            button.setCheckable(True)
            button.setToolTip(f"Show the chargers {_HINTS[state_filter]}")
            button.clicked.connect(lambda _=False, f=state_filter: self.rows.set_state(f))
            group.addButton(button)
            self.states[state_filter] = button
        self.states[StateFilter.ALL].setChecked(True)
        self._emphasis: dict[StateFilter, Emphasis] = {}

        bar = QWidget()
        bar.setObjectName("overviewFilterBar")
        # Never wider than the window: a narrow window clips the bar, the grid reflows.
        bar.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        lines = QVBoxLayout(bar)
        lines.setContentsMargins(8, 5, 8, 5)
        lines.setSpacing(4)
        selectors = QHBoxLayout()
        selectors.setSpacing(6)
        self._site_label = QLabel("Site")
        area_label = QLabel("Area")
        if model.rowCount() > MANY:  # hundreds: the area decides what the grid shows
            for widget in (area_label, self.area):
                widget.setFont(font(11, bold=True))
        for label, box in ((self._site_label, self.site), (area_label, self.area)):
            selectors.addWidget(label)
            selectors.addWidget(box)
        selectors.addStretch(1)
        selectors.addWidget(self.search)
        strip = QHBoxLayout()
        strip.setSpacing(4)
        for button in self.states.values():
            strip.addWidget(button)
        strip.addStretch(1)
        lines.addLayout(selectors)
        lines.addLayout(strip)
        several_sites = len(self._project.sites) > 1
        self._site_label.setVisible(several_sites)
        self.site.setVisible(several_sites)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(bar)
        layout.addWidget(self.view, 1)

        self._fill_areas()
        self.rows.countsChanged.connect(self._show_counts)
        model.rowsInserted.connect(self._fill_areas)
        self._show_counts()

    def selected_site(self) -> str:
        """The site shown ("": every site)."""
        return self._site_ids[max(self.site.currentIndex(), 0)]

    def selected_area(self) -> str:
        """The area shown ("": every area of the site)."""
        return self._area_ids[self.area.currentIndex()] if self.area.currentIndex() >= 0 else ""

    def _on_site(self) -> None:
        self.rows.set_site(self.selected_site())
        self._fill_areas()

    def _on_area(self) -> None:
        if self.area.currentIndex() >= 0:
            self.rows.set_area(self._area_ids[self.area.currentIndex()])

    def select_site(self, site_id: str) -> None:
        self.site.setCurrentIndex(self._site_ids.index(site_id))

    def select_area(self, area_id: str) -> None:
        """Show one area ("": all areas of the selected site)."""
        self.area.setCurrentIndex(self._area_ids.index(area_id))

    def _fill_areas(self) -> None:
        """ "All areas" and each area of the selected site(s), with their bollard counts."""
        site = self.selected_site()
        per_area: dict[str, int] = {}
        for row in range(self._model.rowCount()):
            state = self._model.state_at(row)
            if not site or state.site == site:
                per_area[state.area] = per_area.get(state.area, 0) + 1
        index = self.area.currentIndex()
        chosen = self._area_ids[index] if index >= 0 else ""
        areas = [a for a in self._project.areas if not site or a.site == site]
        self._area_ids = ["", *(a.id for a in areas)]
        self.area.blockSignals(True)
        self.area.clear()
        self.area.addItem(f"All areas ({sum(per_area.values())})")
        for area in areas:
            self.area.addItem(f"{area.name or area.id} ({per_area.get(area.id, 0)})")
        self.area.setCurrentIndex(self._area_ids.index(chosen) if chosen in self._area_ids else 0)
        self.area.blockSignals(False)
        self._on_area()

    def _show_counts(self) -> None:
        for state_filter, button in self.states.items():
            count = self.rows.count(state_filter)
            button.setText(f"{state_filter.value} {count}")
            emphasis = _emphasis(state_filter, count)
            if self._emphasis.get(state_filter) is not emphasis:  # re-polishing costs
                self._emphasis[state_filter] = emphasis
                set_emphasis(button, emphasis)


_HINTS: dict[StateFilter, str] = {
    StateFilter.ALL: "the site, area and search select",
    StateFilter.CHARGING: "with a connector charging",
    StateFilter.AVAILABLE: "with a connector available",
    StateFilter.UNAVAILABLE: "taken out of service (unavailable), or with a connector so",
    StateFilter.FAULTED: "faulted, or with a faulted connector",
    StateFilter.OFFLINE: "that lost communication",
    StateFilter.NOT_SEEN: "never seen since the start",
    StateFilter.IN_ALARM: "with a standing alarm",
}


def _emphasis(state_filter: StateFilter, count: int) -> Emphasis:
    """Counts stay grey; faulted chargers get the alarm colour, lost ones bold."""
    if count and state_filter is StateFilter.FAULTED:
        return Emphasis.ALARM
    if count and state_filter in (StateFilter.OFFLINE, StateFilter.IN_ALARM):
        return Emphasis.NOTABLE
    return Emphasis.NORMAL
