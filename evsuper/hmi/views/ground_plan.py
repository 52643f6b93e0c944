"""The ground plan: each site's plan image with its bollards at their places, live.

One ``QGraphicsScene`` per site: the plan (PNG or SVG) at the back, one ``BollardItem``
per placed bollard, painted by the object library (``paint_object``) from the overview
model's ``ChargerState``. Wheel or +/- zooms, dragging pans, F (or 0) fits; a click opens
the faceplate (``chargerSelected``), a hover tells the live values. Site devices (meter,
PV, battery, feeder: ``kind`` in layout.toml) are ``DeviceItem``s painted from the tags
under their prefix (``apply_tags``); a click asks for their faceplate (``deviceSelected``).

Edit mode (``edit-project`` only): drag symbols (they snap to the grid), place the
bollards that have no place yet (Auto-arrange), change an object's label, size and shown
values, then Save — a ``SaveLayout`` command (permission, history, audit) — or Discard.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QHelpEvent,
    QHideEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
    QPixmap,
    QShowEvent,
    QWheelEvent,
)
from PySide6.QtSvgWidgets import QGraphicsSvgItem
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGraphicsItem,
    QGraphicsObject,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsSceneMouseEvent,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QStyleOptionGraphicsItem,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from evsuper.alarms.model import AlarmRecord
from evsuper.core.tags import Sample, TagPath
from evsuper.core.timeutil import utcnow
from evsuper.engine.commands import CommandResult, SaveLayout
from evsuper.hmi import formatting
from evsuper.hmi.bridge import CommandSender
from evsuper.hmi.library.base import ObjectSize, ObjectView, paint_object, size_hint
from evsuper.hmi.library.bound import charge_point_view
from evsuper.hmi.library.charger import ChargePointView, Current
from evsuper.hmi.library.equipment import DeviceView
from evsuper.hmi.library.widget import flow_clock
from evsuper.hmi.models.overview import ChargerState, OverviewModel, alarm_text
from evsuper.hmi.quality import marked
from evsuper.hmi.theme import (
    Emphasis,
    Palette,
    comm_label,
    connector_style,
    font,
    named_button,
    set_emphasis,
)
from evsuper.hmi.widgets.command_result import CommandResultLine, SentCommand
from evsuper.hmi.widgets.device_faceplate import DeviceState
from evsuper.hmi.widgets.permission_gate import PermissionGates
from evsuper.project.layout import (
    GRID,
    DisplaySize,
    Layout,
    ObjectKind,
    PlacedObject,
    ShownValue,
    auto_arrange,
    load_layout,
    moved,
    snap,
)
from evsuper.project.loader import ProjectError
from evsuper.project.model import ChargerKind, Project
from evsuper.users.permissions import NOBODY, Actor, Permission

VALUE_LINE = 13.0  # height of one shown value under a symbol
NO_PLAN = QRectF(0, 0, 1600, 1000)  # the area a site without a plan image is drawn on
NO_SAVE = "No layout change saved yet."
ZOOM_STEP = 1.25
ZOOM_LIMITS = (0.05, 8.0)
_SIZES = {DisplaySize.SYMBOL: ObjectSize.SYMBOL, DisplaySize.TILE: ObjectSize.TILE}
_VALUE_NAMES = {ShownValue.POWER: "Power", ShownValue.SOC: "SoC", ShownValue.ENERGY: "Energy"}


def value_lines(state: ChargerState, show: tuple[ShownValue, ...]) -> list[str]:
    """The values written under a symbol, in the order of ``show``."""
    live = state.online
    in_session = [c for c in state.connectors if (c.power_kw or 0.0) > 0.0 or c.transaction_id]
    lines = []
    for value in show:
        if value is ShownValue.POWER:
            lines.append(formatting.kw(state.power_kw if live else None))
        elif value is ShownValue.SOC:
            socs = [formatting.percent(c.soc) for c in in_session if c.soc is not None]
            lines.append(f"SoC {' · '.join(socs) if socs and live else '—'}")
        else:
            energies = [c.energy_kwh for c in in_session if c.energy_kwh is not None]
            lines.append(formatting.kwh(sum(energies) if energies and live else None))
    return lines


def tooltip_text(state: ChargerState, view: ChargePointView) -> str:
    """Everything live about a bollard, one line per fact, for the plan's tooltip."""
    lines = [f"{view.name} — {view.kind()}", comm_label(state.comm)]
    for c in state.connectors:
        parts = [connector_style(c.status).label]
        if c.power_kw:
            parts.append(formatting.kw(c.power_kw))
        if c.soc is not None and c.transaction_id:
            parts.append(f"SoC {formatting.percent(c.soc)}")
        if c.energy_kwh is not None and c.transaction_id:
            parts.append(formatting.kwh(c.energy_kwh))
        if c.faulted and c.error_code:
            parts.append(c.error_code)
        lines.append(f"Connector {c.connector_id}: {', '.join(parts)}")
    lines.append(f"Alarms: {alarm_text(state.alarm)}")
    return "\n".join(lines)


class PlanItem(QGraphicsObject):
    """One object on the plan, centred on its layout position; paints its library view,
    the values chosen under a symbol, and its selection in edit mode."""

    moved = Signal(str)  # object id: dropped at a new place (snapped to the grid)

    def __init__(self, placed: PlacedObject) -> None:
        super().__init__()
        self.object_id = placed.id
        self.placed = placed
        self._dragging = False
        self._rect = QRectF()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)

    def view(self) -> ObjectView:
        raise NotImplementedError

    def value_texts(self) -> list[str]:
        """The values written under the symbol, in the order of ``placed.show``."""
        raise NotImplementedError

    def tool_tip(self) -> str:
        raise NotImplementedError

    def set_placed(self, placed: PlacedObject) -> None:
        self.placed = placed
        self.setZValue(2 if placed.size is DisplaySize.TILE else 1)  # a tile covers symbols
        self.setPos(placed.x, placed.y)
        self.refresh()

    def refresh(self) -> None:
        """Repaint with the live state (a tile grows with its rows)."""
        size = size_hint(self.view(), _SIZES[self.placed.size])
        height = size.height() + self._values_height()
        rect = QRectF(-size.width() / 2, -size.height() / 2, size.width(), height)
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = rect
        self.update()

    def set_editable(self, editable: bool) -> None:
        for flag in (
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable,
            QGraphicsItem.GraphicsItemFlag.ItemIsSelectable,
        ):
            self.setFlag(flag, editable)
        self.setCursor(Qt.CursorShape.SizeAllCursor if editable else Qt.CursorShape.ArrowCursor)

    def flowing(self) -> bool:
        return self.view().flowing()

    def boundingRect(self) -> QRectF:
        return self._rect

    def _values_height(self) -> float:
        if self.placed.size is not DisplaySize.SYMBOL or not self.placed.show:
            return 0.0
        return VALUE_LINE * len(self.placed.show) + 4

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        view = self.view()
        rect = self.boundingRect()
        size = _SIZES[self.placed.size]
        if size is ObjectSize.SYMBOL:  # a calm plate, so the plan's lines never cross text
            painter.setPen(QPen(Palette.TILE_BORDER, 1.0))
            painter.setBrush(Palette.TILE)
            painter.drawRoundedRect(rect.adjusted(0.5, 0.5, -0.5, -0.5), 3, 3)
        object_rect = QRectF(rect.topLeft(), size_hint(view, size).toSizeF())
        paint_object(painter, object_rect, view, size, flow_clock().phase)
        if size is ObjectSize.SYMBOL and self.placed.show:
            painter.setFont(font(7.5))
            y = object_rect.bottom()
            painter.setPen(QPen(Palette.SEPARATOR, 1.0))
            painter.drawLine(QPointF(rect.left() + 6, y), QPointF(rect.right() - 6, y))
            painter.setPen(Palette.TEXT if view.frame().live else Palette.TEXT_MUTED)
            for i, text in enumerate(self.value_texts()):
                line = QRectF(rect.left(), y + 2 + i * VALUE_LINE, rect.width(), VALUE_LINE)
                painter.drawText(line, Qt.AlignmentFlag.AlignCenter, text)
        if self.isSelected():
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(Palette.SELECTION, 1.5, Qt.PenStyle.DashLine))
            painter.drawRect(rect.adjusted(-3, -3, 3, 3))

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        if change is QGraphicsItem.GraphicsItemChange.ItemPositionChange and self._dragging:
            return QPointF(snap(value.x()), snap(value.y()))
        return super().itemChange(change, value)

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        self._dragging = True
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        self._dragging = False
        if (self.pos().x(), self.pos().y()) != (self.placed.x, self.placed.y):
            self.moved.emit(self.object_id)


class BollardItem(PlanItem):
    """A bollard, painted from the overview model's state of its charger."""

    def __init__(self, model: OverviewModel, project: Project, placed: PlacedObject) -> None:
        super().__init__(placed)
        self.model = model
        charger = project.charger(placed.id)
        self._label = charger.label if charger is not None else ""
        dc = charger is not None and charger.kind is ChargerKind.DC
        self._current = Current.DC if dc else Current.AC
        self.charger_id = placed.id
        self.set_placed(placed)

    def state(self) -> ChargerState:
        state = self.model.state(self.charger_id)
        return state if state is not None else ChargerState(self.charger_id, 0.0, [])

    def view(self) -> ChargePointView:
        view = charge_point_view(self.state(), current=self._current)
        label = self.placed.label or self._label
        return replace(view, name=label) if label else view

    def value_texts(self) -> list[str]:
        return value_lines(self.state(), self.placed.show)

    def tool_tip(self) -> str:
        return tooltip_text(self.state(), self.view())


class DeviceItem(PlanItem):
    """A site meter, PV inverter, battery or feeder, painted from its tags."""

    def __init__(self, placed: PlacedObject) -> None:
        super().__init__(placed)
        self.device = DeviceState(placed)
        self.set_placed(placed)

    def set_placed(self, placed: PlacedObject) -> None:
        self.device.placed = placed
        super().set_placed(placed)

    def view(self) -> DeviceView:
        return self.device.view()

    def value_texts(self) -> list[str]:
        names = {
            ShownValue.POWER: "power_kw",
            ShownValue.SOC: "soc",
            ShownValue.ENERGY: "energy_import_kwh"
            if self.placed.kind is ObjectKind.METER
            else "energy_kwh",
        }
        points = {p.name: p for p in self.device.points}
        texts = []
        for value in self.placed.show:
            point = points.get(names[value])
            if point is not None:
                texts.append(
                    marked(point.text(self.device.value(point.name)), self.device.quality())
                )
        return texts

    def _values_height(self) -> float:
        shown = len(self.value_texts()) if self.placed.size is DisplaySize.SYMBOL else 0
        return VALUE_LINE * shown + 4 if shown else 0.0

    def tool_tip(self) -> str:
        view = self.view()
        lines = [f"{view.name} — {view.kind()}", view.words()]
        for point in self.device.points:
            sample = self.device.samples.get(point.name)
            if sample is not None:
                lines.append(f"{point.caption}: {marked(point.text(sample.value), sample.quality)}")
        alarms = self.device.alarms
        lines.append(f"Alarms: {len(alarms) if alarms else 'none'}")
        return "\n".join(lines)


class GridItem(QGraphicsItem):
    """The snap grid, drawn over the plan and under the symbols in edit mode."""

    def __init__(self, rect: QRectF) -> None:
        super().__init__()
        self._rect = rect
        self.setZValue(0)
        self.setVisible(False)

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        fine, coarse = QColor(Palette.TEXT_MUTED), QColor(Palette.TEXT_SECONDARY)
        fine.setAlpha(40)
        coarse.setAlpha(70)
        left, top = self._rect.left(), self._rect.top()
        steps_x = int(self._rect.width() // GRID)
        steps_y = int(self._rect.height() // GRID)
        for i in range(steps_x + 1):
            painter.setPen(QPen(coarse if i % 5 == 0 else fine, 0))
            x = left + i * GRID
            painter.drawLine(QPointF(x, top), QPointF(x, self._rect.bottom()))
        for i in range(steps_y + 1):
            painter.setPen(QPen(coarse if i % 5 == 0 else fine, 0))
            y = top + i * GRID
            painter.drawLine(QPointF(left, y), QPointF(self._rect.right(), y))


class PlanView(QGraphicsView):
    """Zoom (wheel, +/-), pan (drag), fit (F or 0), tooltips, click → ``chargerActivated``
    (a bollard) or ``deviceActivated`` (a device: its object id)."""

    chargerActivated = Signal(str)
    deviceActivated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("groundPlanView")
        self.setRenderHints(
            QPainter.RenderHint.Antialiasing
            | QPainter.RenderHint.TextAntialiasing
            | QPainter.RenderHint.SmoothPixmapTransform
        )
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setBackgroundBrush(Palette.BACKGROUND)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.editing = False
        self._pressed: tuple[QPoint, PlanItem] | None = None

    def zoom(self, factor: float) -> None:
        scale = self.transform().m11() * factor
        if ZOOM_LIMITS[0] <= scale <= ZOOM_LIMITS[1]:
            self.scale(factor, factor)

    def fit(self) -> None:
        scene = self.scene()
        if scene is not None:
            rect = scene.itemsBoundingRect().adjusted(-GRID, -GRID, GRID, GRID)
            self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)

    def item_at(self, pos: QPoint) -> PlanItem | None:
        return next((i for i in self.items(pos) if isinstance(i, PlanItem)), None)

    def _activate(self, item: PlanItem) -> None:
        if isinstance(item, DeviceItem):
            self.deviceActivated.emit(item.object_id)
        else:
            self.chargerActivated.emit(item.object_id)

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom(ZOOM_STEP**steps)
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom(ZOOM_STEP)
        elif key == Qt.Key.Key_Minus:
            self.zoom(1 / ZOOM_STEP)
        elif key in (Qt.Key.Key_F, Qt.Key.Key_0):
            self.fit()
        else:
            super().keyPressEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        item = self.item_at(event.position().toPoint())
        self._pressed = (event.position().toPoint(), item) if item else None
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        pressed, self._pressed = self._pressed, None
        if pressed is None or self.editing or event.button() != Qt.MouseButton.LeftButton:
            return
        travel = (event.position().toPoint() - pressed[0]).manhattanLength()
        if travel < QApplication.startDragDistance():
            self._activate(pressed[1])

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        item = self.item_at(event.position().toPoint())
        if item is not None:
            self._activate(item)
        super().mouseDoubleClickEvent(event)

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            item = self.item_at(event.pos())
            if item is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), item.tool_tip(), self.viewport())
            return True
        return super().viewportEvent(event)


class GroundPlanView(QWidget):
    """The ground-plan window: a site selector, the plan, and the integrator's edit mode."""

    chargerSelected = Signal(str)
    deviceSelected = Signal(str)  # a device's object id (layout.toml)

    def __init__(
        self,
        project: Project,
        model: OverviewModel,
        send: CommandSender,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("groundPlan")
        self.setWindowTitle(f"Ground plan — {project.name} — evsuper")
        self.resize(1280, 820)
        self._project = project
        self.model = model
        self._send = send
        self._actor = NOBODY
        self.editing = False
        self._fitted = False
        self.load_error = ""
        try:
            self.saved = load_layout(project)
        except ProjectError as exc:
            self.saved, self.load_error = Layout(), str(exc)
        self.draft = self.saved
        self.site_id = project.sites[0].id
        self.items: dict[str, PlanItem] = {}
        self.scenes: dict[str, QGraphicsScene] = {}
        self.plans: dict[str, QRectF | None] = {}
        self._grids: dict[str, GridItem] = {}
        for site in project.sites:
            self._build_scene(site.id, project.path(site.plan) if site.plan else None)
        self._sync_items()
        self._flowing = {i for i, item in self.items.items() if item.flowing()}

        self.site_box = QComboBox()
        self.site_box.setObjectName("groundPlanSite")
        for site in project.sites:
            self.site_box.addItem(site.name or site.id, site.id)
        self.site_box.currentIndexChanged.connect(
            lambda index: self.show_site(self.site_box.itemData(index))
        )
        self.plan = PlanView()
        self.plan.chargerActivated.connect(self.chargerSelected)
        self.plan.deviceActivated.connect(self.deviceSelected)
        fit = named_button("groundPlanFit", "Fit", "Show the whole site (F)")
        fit.clicked.connect(self.plan.fit)
        zoom_out = named_button("groundPlanZoomOut", "Zoom out", "Zoom out (- key, or the wheel)")
        zoom_out.clicked.connect(lambda: self.plan.zoom(1 / ZOOM_STEP))
        zoom_in = named_button("groundPlanZoomIn", "Zoom in", "Zoom in (+ key, or the wheel)")
        zoom_in.clicked.connect(lambda: self.plan.zoom(ZOOM_STEP))
        self.edit_button = named_button(
            "groundPlanEdit",
            "Edit layout",
            "Place, size and label the objects (save or discard first to leave)",
        )
        self.edit_button.setCheckable(True)
        self.edit_button.toggled.connect(self.set_edit_mode)
        self.arrange_button = named_button(
            "groundPlanArrange",
            "Auto-arrange",
            "Place the bollards without a place in rows per area",
        )
        self.arrange_button.clicked.connect(self.arrange)
        self.save_button = named_button(
            "groundPlanSave", "Save", "Save layout.toml as a new version of the project"
        )
        self.save_button.clicked.connect(self.save)
        self.discard_button = named_button(
            "groundPlanDiscard", "Discard", "Forget the changes since the last save"
        )
        self.discard_button.clicked.connect(self.discard)
        self._gates = PermissionGates(
            {
                self.edit_button: Permission.EDIT_PROJECT,
                self.arrange_button: Permission.EDIT_PROJECT,
                self.save_button: Permission.EDIT_PROJECT,
                self.discard_button: Permission.EDIT_PROJECT,
            }
        )
        bar = QHBoxLayout()
        self._site_label = QLabel("Site")
        for widget in (self._site_label, self.site_box, fit, zoom_out, zoom_in):
            bar.addWidget(widget)
        bar.addStretch(1)
        for widget in (
            self.edit_button,
            self.arrange_button,
            self.save_button,
            self.discard_button,
        ):
            bar.addWidget(widget)
        self._site_label.setVisible(len(project.sites) > 1)
        self.site_box.setVisible(len(project.sites) > 1)

        self.properties = self._properties_panel()
        middle = QHBoxLayout()
        middle.addWidget(self.plan, 1)
        middle.addWidget(self.properties)
        self.status = QLabel()
        self.status.setObjectName("groundPlanStatus")
        self.status.setWordWrap(True)
        self.result_line = CommandResultLine(NO_SAVE)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(middle, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.result_line)
        model.dataChanged.connect(self._repaint_rows)
        self.show_site(self.site_id)
        self._show_controls()

    # ---- building

    def _build_scene(self, site_id: str, plan: Path | None) -> None:
        scene = QGraphicsScene(self)
        background = _plan_item(plan) if plan is not None else None
        if background is not None:
            background.setZValue(-1)
            scene.addItem(background)
        self.plans[site_id] = background.boundingRect() if background is not None else None
        grid = GridItem(self.plans[site_id] or NO_PLAN)
        scene.addItem(grid)
        scene.selectionChanged.connect(self._show_properties)
        self.scenes[site_id] = scene
        self._grids[site_id] = grid

    def _properties_panel(self) -> QWidget:
        panel = QWidget()
        panel.setObjectName("groundPlanProperties")
        panel.setFixedWidth(240)
        self.object_label = QLabel("Select an object on the plan.")
        self.object_label.setWordWrap(True)
        self.label_edit = QLineEdit()
        self.label_edit.setObjectName("groundPlanLabel")
        self.label_edit.setPlaceholderText("the charger's id")
        self.label_edit.textEdited.connect(lambda text: self._edit_selected(label=text.strip()))
        self.size_box = QComboBox()
        self.size_box.setObjectName("groundPlanSize")
        for size in DisplaySize:
            self.size_box.addItem(size.value.capitalize(), size)
        self.size_box.activated.connect(
            lambda index: self._edit_selected(size=self.size_box.itemData(index))
        )
        self.value_boxes: dict[ShownValue, QCheckBox] = {}
        values = QVBoxLayout()
        for value in ShownValue:
            box = QCheckBox(_VALUE_NAMES[value])
            box.setObjectName(f"groundPlanShow_{value.value}")
            box.clicked.connect(lambda _checked: self._edit_selected(show=self._shown_values()))
            self.value_boxes[value] = box
            values.addWidget(box)
        form = QFormLayout(panel)
        form.addRow(self.object_label)
        form.addRow("Label", self.label_edit)
        form.addRow("Size", self.size_box)
        form.addRow("Values", values)
        return panel

    def _sync_items(self) -> None:
        """Make the items match ``self.draft``: move, restyle, add or remove."""
        wanted = {o.id for o in self.draft.objects}
        for object_id in list(self.items):
            if object_id not in wanted:
                gone = self.items.pop(object_id)
                gone.scene().removeItem(gone)
        for placed in self.draft.objects:
            item = self.items.get(placed.id)
            if item is None:
                item = (
                    DeviceItem(placed)
                    if placed.is_device
                    else BollardItem(self.model, self._project, placed)
                )
                item.moved.connect(self._moved)
                item.set_editable(self.editing)
                self.scenes[placed.site].addItem(item)
                self.items[placed.id] = item
            elif item.placed != placed:
                item.set_placed(placed)

    # ---- navigation

    def show_site(self, site_id: str) -> None:
        self.site_id = site_id
        self.site_box.setCurrentIndex(self.site_box.findData(site_id))
        self.plan.setScene(self.scenes[site_id])
        self.plan.fit()
        self._show_status()
        self._follow_clock()

    def unplaced(self) -> list[str]:
        """The chargers of the shown site that have no place on its plan."""
        site = self._project.site(self.site_id)
        placed = {o.id for o in self.draft.objects}
        return [
            c.id
            for c in self._project.chargers
            if c.id not in placed and self._project.site_of(c) == site
        ]

    # ---- edit mode

    def set_actor(self, actor: Actor) -> None:
        self._actor = actor
        if self.editing and not actor.may(Permission.EDIT_PROJECT):
            self.discard()
            self.set_edit_mode(False)
        self._show_controls()

    def set_edit_mode(self, on: bool) -> bool:
        """Enter or leave edit mode; False when refused (no permission, unsaved changes)."""
        allowed = not on or self._actor.may(Permission.EDIT_PROJECT)
        if on == self.editing or not allowed or (not on and self.dirty):
            self.edit_button.setChecked(self.editing)
            self._show_controls()
            return on == self.editing
        self.editing = on
        self.plan.editing = on
        for item in self.items.values():
            item.set_editable(on)
            item.setSelected(False)
        for grid in self._grids.values():
            grid.setVisible(on)
        self.edit_button.setChecked(on)
        self._show_controls()
        self.plan.fit()
        return True

    @property
    def dirty(self) -> bool:
        return self.draft != self.saved

    def arrange(self) -> None:
        """Place every bollard without a place, on its site's plan (edit mode)."""
        if self.editing:
            width = (self.plans[self.site_id] or NO_PLAN).width()
            self._set_draft(auto_arrange(self.draft, self._project, width))
            self.plan.fit()

    def save(self) -> None:
        if not self.editing or not self.dirty:
            return
        layout = self.draft
        sent = SentCommand("Save ground plan", utcnow())
        self.result_line.show_sent(sent)
        self._send(SaveLayout(layout=layout), lambda result: self._saved(sent, layout, result))

    def discard(self) -> None:
        self._set_draft(self.saved)

    def _saved(self, sent: SentCommand, layout: Layout, result: CommandResult) -> None:
        self.result_line.show_sent(sent.answered(result))
        if result.ok:
            self.saved = layout
            self.load_error = ""
            self._show_controls()

    def _set_draft(self, layout: Layout) -> None:
        self.draft = layout
        self._sync_items()
        self._show_properties()
        self._show_controls()

    def _moved(self, object_id: str) -> None:
        item = self.items[object_id]
        item.placed = moved(item.placed, item.pos().x(), item.pos().y())
        self.draft = self.draft.with_objects([item.placed])
        self._show_properties()
        self._show_controls()

    def selected(self) -> PlanItem | None:
        items = [i for i in self.scenes[self.site_id].selectedItems() if isinstance(i, PlanItem)]
        return items[0] if len(items) == 1 else None

    def _edit_selected(self, **changes: Any) -> None:
        item = self.selected()
        if item is None or not self.editing:
            return
        placed = replace(item.placed, **changes)
        item.set_placed(placed)
        self.draft = self.draft.with_objects([placed])
        self._show_controls()

    def _shown_values(self) -> tuple[ShownValue, ...]:
        return tuple(v for v, box in self.value_boxes.items() if box.isChecked())

    def _show_properties(self) -> None:
        item = self.selected() if self.editing else None
        for widget in (self.label_edit, self.size_box, *self.value_boxes.values()):
            widget.setEnabled(item is not None)
        if item is None:
            self.object_label.setText("Select an object on the plan.")
            self.label_edit.clear()
            return
        placed = item.placed
        self.object_label.setText(f"<b>{placed.id}</b><br>x {placed.x:.0f}, y {placed.y:.0f}")
        self.label_edit.setText(placed.label)
        self.size_box.setCurrentIndex(self.size_box.findData(placed.size))
        for value, box in self.value_boxes.items():
            box.setChecked(value in placed.show)

    def _show_controls(self) -> None:
        editing = self.editing
        for widget in (self.arrange_button, self.save_button, self.discard_button):
            widget.setVisible(editing)
        self.properties.setVisible(editing)
        self.result_line.setVisible(editing or self.result_line.text() != NO_SAVE)
        self.edit_button.setText("Leave edit mode" if editing else "Edit layout")
        self._gates.show(
            self._actor,
            {
                self.edit_button: not self.dirty,
                self.arrange_button: editing and bool(self.unplaced()),
                self.save_button: editing and self.dirty,
                self.discard_button: editing and self.dirty,
            },
        )
        self._show_status()

    def _show_status(self) -> None:
        parts = []
        if self.load_error:
            parts.append(f"layout.toml not loaded: {self.load_error}")
        plan = self._project.site(self.site_id)
        if self.plans.get(self.site_id) is None and plan is not None:
            parts.append(
                f"The plan image {plan.plan} cannot be read."
                if plan.plan
                else "This site has no plan image (plan = … in its [[sites]] entry)."
            )
        waiting = self.unplaced()
        if waiting:
            noun = "bollard has" if len(waiting) == 1 else "bollards have"
            parts.append(
                f"{len(waiting)} {noun} no place on this plan yet ({', '.join(waiting[:6])}"
                f"{'…' if len(waiting) > 6 else ''}): Auto-arrange in edit mode."
            )
        if self.editing:
            parts.append(
                "Unsaved changes."
                if self.dirty
                else "Edit mode: drag objects; they snap to the grid."
            )
        self.status.setText("  ".join(parts))
        set_emphasis(self.status, Emphasis.NOTABLE if self.load_error else Emphasis.NORMAL)

    # ---- live state

    def device(self, object_id: str) -> PlacedObject | None:
        """A device placed on a plan (as saved or being edited)."""
        placed = self.draft.get(object_id)
        return placed if placed is not None and placed.is_device else None

    def device_tags(self) -> list[TagPath]:
        """Every tag the placed devices read."""
        return [
            t for i in self.items.values() if isinstance(i, DeviceItem) for t in i.device.tags()
        ]

    def apply_tags(self, changes: Mapping[TagPath, Sample]) -> None:
        """The devices' tags out of a batch (bollards follow the overview model)."""
        for item in self.items.values():
            if isinstance(item, DeviceItem) and item.device.apply(changes):
                self._repaint(item)
        self._follow_clock()

    def show_alarms(self, records: list[AlarmRecord]) -> None:
        """The alarm list changed: the devices' alarm marks follow (bollards have theirs)."""
        for item in self.items.values():
            if isinstance(item, DeviceItem) and item.device.set_alarms(records):
                self._repaint(item)

    def _repaint(self, item: PlanItem) -> None:
        item.refresh()
        self._flowing.discard(item.object_id)
        if item.flowing():
            self._flowing.add(item.object_id)

    def _repaint_rows(self, top: QModelIndex, bottom: QModelIndex) -> None:
        for row in range(top.row(), bottom.row() + 1):
            item = self.items.get(self.model.state_at(row).charger_id)
            if item is not None:
                self._repaint(item)
        self._follow_clock()

    def _follow_clock(self) -> None:
        """Animate the plan on the shared clock while something shown charges."""
        shown = self.scenes[self.site_id]
        animate = self.isVisible() and any(
            self.items[i].scene() is shown for i in self._flowing if i in self.items
        )
        flow_clock().follow(self.plan.viewport(), animate)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._fitted:
            self._fitted = True
            self.plan.fit()
        self._follow_clock()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        flow_clock().follow(self.plan.viewport(), False)


def _plan_item(path: Path) -> QGraphicsItem | None:
    """The plan image as a scene item (SVG drawn as vectors), None if it cannot be read."""
    if path.suffix.lower() == ".svg":
        svg = QGraphicsSvgItem(str(path))
        return svg if svg.renderer().isValid() else None
    pixmap = QPixmap(str(path))
    if pixmap.isNull():
        return None
    item = QGraphicsPixmapItem(pixmap)
    item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
    return item
