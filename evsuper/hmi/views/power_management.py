"""Dynamic power management (RFP figure 7): a site's electrical tree with live power against
limit at every node, each connector's allocation, need and the allocator's reason, the
mode switch, manual limits, the site limit override and sessions' needs.

The window reads a `SiteChargingStatus` through a `ChargingSource` every `REFRESH_MS`
while it is shown (`EngineChargingSource` in the HMI; tests feed hand-built statuses) and
sends `SetChargingMode`, `SetManualLimit`, `SetSiteLimit` and `SetSessionNeed` through a
`CommandSender`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QModelIndex, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from evsuper.charging.status import ChargingMode, SiteChargingStatus
from evsuper.engine.commands import (
    Command,
    CommandResult,
    SetChargingMode,
    SetManualLimit,
    SetSessionNeed,
    SetSiteLimit,
)
from evsuper.hmi import formatting
from evsuper.hmi.bridge import CommandSender, EngineReader
from evsuper.hmi.dialogs.session_need import SessionNeedDialog
from evsuper.hmi.models.power_management import (
    BAR_ROLE,
    Bar,
    Column,
    PowerTreeModel,
    has_session,
)
from evsuper.hmi.models.table import Index
from evsuper.hmi.theme import Emphasis, Palette, role_label, set_emphasis
from evsuper.hmi.widgets.command_result import CommandResultLine
from evsuper.hmi.widgets.number_field import DecimalField
from evsuper.hmi.widgets.permission_gate import PermissionGates
from evsuper.hmi.widgets.refresh import RefreshWhileShown
from evsuper.users.permissions import NOBODY, Actor, Permission

if TYPE_CHECKING:
    from evsuper.engine.runtime import Engine

REFRESH_MS = 2000
ROW_HEIGHT = 24  # room for the load bars
LEGEND = (
    "Bars: dark core = measured, grey band = allocated, tick = limit (heavy: the limit binds);"
    " hatched = measured above the limit. In manual mode, double-click a connector's setpoint"
    " to set its limit."
)
NOT_RUNNING = "Smart charging is not running in this engine."
NOT_ENABLED = "Smart charging is not enabled for any site of this project."
Failed = Callable[[str], None]


class ChargingSource(Protocol):
    """Reads of the charging service; None: the service is not running."""

    def sites(self, done: Callable[[list[str] | None], None], failed: Failed) -> None: ...

    def status(
        self, site_id: str, done: Callable[[SiteChargingStatus | None], None], failed: Failed
    ) -> None: ...


def charging_sites(engine: Engine) -> list[str] | None:
    charging = getattr(engine, "charging", None)
    return None if charging is None else list(charging.sites())


def charging_status(site_id: str) -> Callable[[Engine], SiteChargingStatus | None]:
    def query(engine: Engine) -> SiteChargingStatus | None:
        charging = getattr(engine, "charging", None)
        if charging is None or site_id not in charging.sites():
            return None
        status: SiteChargingStatus = charging.status(site_id)
        return status

    return query


class EngineChargingSource:
    """`ChargingSource` over the engine's charging service (``engine.charging``)."""

    def __init__(self, read: EngineReader) -> None:
        self._read = read

    def sites(self, done: Callable[[list[str] | None], None], failed: Failed) -> None:
        self._read(charging_sites, done, failed)

    def status(
        self, site_id: str, done: Callable[[SiteChargingStatus | None], None], failed: Failed
    ) -> None:
        self._read(charging_status(site_id), done, failed)


class LoadBarDelegate(QStyledItemDelegate):
    """Draws a `Bar`: the allocation as a light band, the measured power as a dark core,
    the limit as a tick (heavy when it binds); measured power beyond the limit hatched."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: Index,
    ) -> None:
        super().paint(painter, option, index)
        bar = index.data(BAR_ROLE)
        if not isinstance(bar, Bar):
            return
        rect = QRectF(option.rect).adjusted(6, 5, -8, -5)
        scale = bar.scale if bar.scale > 0 else 1.0

        def x(value: float) -> float:
            return rect.left() + rect.width() * max(0.0, min(value / scale, 1.0))

        painter.save()
        painter.fillRect(rect, Palette.BAR_TRACK)
        painter.fillRect(
            QRectF(rect.left(), rect.top(), x(bar.allocated) - rect.left(), rect.height()),
            Palette.SUSPENDED_FILL,
        )
        core = rect.adjusted(0, rect.height() * 0.25, 0, -rect.height() * 0.25)
        painter.fillRect(
            QRectF(core.left(), core.top(), x(bar.measured) - core.left(), core.height()),
            Palette.BAR_FILL,
        )
        if bar.limit is not None:
            if bar.measured > bar.limit:
                over = QRectF(
                    x(bar.limit), rect.top(), x(bar.measured) - x(bar.limit), rect.height()
                )
                painter.fillRect(over, QBrush(Palette.TEXT, Qt.BrushStyle.BDiagPattern))
            pen = QPen(Palette.TEXT, 3.0 if bar.binding else 1.5)
            painter.setPen(pen)
            tick = x(bar.limit)
            painter.drawLine(QPointF(tick, rect.top() - 3), QPointF(tick, rect.bottom() + 3))
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        hint = super().sizeHint(option, index)
        return QSize(hint.width(), max(hint.height(), ROW_HEIGHT))


class SetpointDelegate(QStyledItemDelegate):
    """Manual limits are typed in A per phase; empty: the connector's maximum."""

    def createEditor(
        self,
        parent: QWidget,
        option: QStyleOptionViewItem,
        index: Index,
    ) -> QWidget:
        editor = DecimalField(0.0, 1000.0, None, 1, parent)
        editor.setObjectName("manualLimitEditor")
        return editor


class PowerManagementView(QWidget):
    """The power management window (one, reused); ``set_actor`` gates the commands."""

    def __init__(
        self,
        source: ChargingSource,
        send: CommandSender,
        parent: QWidget | None = None,
        *,
        refresh_ms: int = REFRESH_MS,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("powerManagement")
        self.setWindowTitle("Power management — evsuper")
        self.resize(1400, 760)
        self._source = source
        self._send = send
        self._actor = NOBODY
        self._reading = False
        self._asked: str | None = None  # the site of the read under way
        self.status: SiteChargingStatus | None = None
        self.model = PowerTreeModel(self)
        self.model.manualLimitRequested.connect(self._send_manual_limit)

        self.site = QComboBox()
        self.site.setObjectName("powerSite")
        self.site.currentIndexChanged.connect(lambda _: self.refresh())
        self.site_caption = role_label("caption", "Site")
        self.mode = self._value("powerMode")
        self.objective = self._value("powerObjective")
        self.limit_source = self._value("powerLimitSource")
        self.health = self._value("powerHealth")
        self.computed = self._value("powerComputedAt")
        self.mode_button = QPushButton("Switch to manual")
        self.mode_button.setObjectName("modeButton")
        self.mode_button.setToolTip("Automatic: the allocator shares the power; manual: you do")
        self.mode_button.clicked.connect(self.switch_mode)
        self.site_limit = DecimalField(0.0, 100000.0, None, 1)
        self.site_limit.setObjectName("siteLimitField")
        self.site_limit.setPlaceholderText("kW")
        self.site_limit.setMaximumWidth(90)
        self.site_limit.returnPressed.connect(self.override_site_limit)
        self.override_button = QPushButton("Override site limit")
        self.override_button.setObjectName("overrideButton")
        self.override_button.setToolTip("Hold the site at this limit until the override is cleared")
        self.override_button.clicked.connect(self.override_site_limit)
        self.clear_button = QPushButton("Clear override")
        self.clear_button.setObjectName("clearOverrideButton")
        self.clear_button.setToolTip("Back to the project's static, scheduled or measured limit")
        self.clear_button.clicked.connect(self.clear_site_limit)
        self._gates = PermissionGates(
            {
                self.mode_button: Permission.SMART_CHARGING,
                self.site_limit: Permission.SMART_CHARGING,
                self.override_button: Permission.SMART_CHARGING,
                self.clear_button: Permission.SMART_CHARGING,
            }
        )

        self.tree = QTreeView()
        self.tree.setObjectName("powerTree")
        self.tree.setModel(self.model)
        self.tree.doubleClicked.connect(self._double_clicked)
        self.tree.setAlternatingRowColors(True)
        tree_palette = self.tree.palette()
        tree_palette.setColor(QPalette.ColorRole.Base, Palette.TILE)
        tree_palette.setColor(QPalette.ColorRole.AlternateBase, Palette.TILE_HOVER)
        self.tree.setPalette(tree_palette)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        self._bar_delegate = LoadBarDelegate(self.tree)
        self._setpoint_delegate = SetpointDelegate(self.tree)
        self.tree.setItemDelegateForColumn(Column.LOAD, self._bar_delegate)
        self.tree.setItemDelegateForColumn(Column.LIMIT, self._setpoint_delegate)
        header = self.tree.header()
        header.setStretchLastSection(True)
        for column, width in (
            (Column.NAME, 170),
            (Column.LOAD, 200),
            (Column.MEASURED, 90),
            (Column.ALLOCATED, 90),
            (Column.LIMIT, 150),
            (Column.SENT, 130),
            (Column.STATE, 110),
            (Column.NEED, 150),
        ):
            header.resizeSection(column, width)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.model.modelReset.connect(self.tree.expandAll)

        self.message = role_label("value", "")
        self.message.setObjectName("powerMessage")
        self.message.setWordWrap(True)
        self.result = CommandResultLine("No command sent from this window yet.")

        self.refresher = RefreshWhileShown(self, self.refresh, refresh_ms)

        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(4)
        fields: tuple[tuple[QLabel, QWidget], ...] = (
            (self.site_caption, self.site),
            *(
                (role_label("caption", caption), widget)
                for caption, widget in (
                    ("Mode", self.mode),
                    ("Objective", self.objective),
                    ("Limit source", self.limit_source),
                    ("Allocator", self.health),
                    ("Last allocation", self.computed),
                )
            ),
        )
        for place, (label, widget) in enumerate(fields):
            grid.addWidget(label, 0, place)
            grid.addWidget(widget, 1, place)
        grid.setColumnStretch(6, 1)
        controls = QHBoxLayout()
        controls.addWidget(self.mode_button)
        controls.addSpacing(24)
        controls.addWidget(role_label("caption", "Site limit"))
        controls.addWidget(self.site_limit)
        controls.addWidget(self.override_button)
        controls.addWidget(self.clear_button)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addLayout(controls)
        layout.addWidget(self.message)
        layout.addWidget(self.tree, 1)
        legend = role_label("caption", LEGEND)
        legend.setWordWrap(True)
        layout.addWidget(legend)
        layout.addWidget(self.result)
        self._show_status()

    @staticmethod
    def _value(name: str) -> QLabel:
        label = role_label("value", formatting.NO_VALUE)
        label.setObjectName(name)
        return label

    # ---- reading

    @property
    def site_id(self) -> str | None:
        site = self.site.currentData()
        return site if isinstance(site, str) else None

    def refresh(self) -> None:
        """Read the site list first, then the chosen site's status (one read at a time)."""
        if self._reading:
            return
        self._reading = True
        site_id = self._asked = self.site_id
        if site_id is None:
            self._source.sites(self._on_sites, self._on_failed)
        else:
            self._source.status(site_id, self._on_status, self._on_failed)

    def _on_sites(self, sites: list[str] | None) -> None:
        self._reading = False
        if not sites:
            self._set_status(None, NOT_RUNNING if sites is None else NOT_ENABLED)
            return
        self.site.blockSignals(True)
        self.site.clear()
        for site in sites:
            self.site.addItem(site, site)
        self.site.blockSignals(False)
        several = len(sites) > 1
        self.site.setVisible(several)
        self.site_caption.setVisible(several)
        self.refresh()

    def _on_status(self, status: SiteChargingStatus | None) -> None:
        self._reading = False
        if self._asked != self.site_id:  # another site was chosen meanwhile
            self.refresh()
            return
        self._set_status(status, NOT_RUNNING if status is None else "")

    def _on_failed(self, reason: str) -> None:
        self._reading = False
        self.message.setText(f"Could not read the charging status: {reason}")
        set_emphasis(self.message, Emphasis.NOTABLE)

    def show_status(self, status: SiteChargingStatus | None) -> None:
        """Show ``status`` as if read (for callers that already have it)."""
        self._set_status(status, NOT_RUNNING if status is None else "")

    def _set_status(self, status: SiteChargingStatus | None, message: str) -> None:
        self.status = status
        self.model.set_status(status)
        self.message.setText(message)
        set_emphasis(self.message, Emphasis.NOTABLE if message else Emphasis.NORMAL)
        self.message.setVisible(bool(message))
        self._show_status()

    def _show_status(self) -> None:
        status = self.status
        if status is None:
            for label in (self.mode, self.objective, self.limit_source, self.health, self.computed):
                label.setText(formatting.NO_VALUE)
                set_emphasis(label, Emphasis.NORMAL)
        else:
            manual = status.mode is ChargingMode.MANUAL
            self.mode.setText("MANUAL limits" if manual else "Automatic")
            set_emphasis(self.mode, Emphasis.NOTABLE if manual else Emphasis.NORMAL)
            self.objective.setText(status.objective)
            self.limit_source.setText(status.limit_source)
            set_emphasis(
                self.limit_source,
                Emphasis.NOTABLE if self._overridden(status) else Emphasis.NORMAL,
            )
            health = "healthy" if status.healthy else "WATCHDOG: no allocation in time"
            if status.last_error:
                health += f" — {status.last_error}"
            self.health.setText(health)
            set_emphasis(self.health, Emphasis.NORMAL if status.healthy else Emphasis.ALARM)
            when = status.computed_at
            self.computed.setText("never" if when is None else formatting.clock(when))
            self.mode_button.setText("Switch to automatic" if manual else "Switch to manual")
        self._show_gates()

    @staticmethod
    def _overridden(status: SiteChargingStatus) -> bool:
        return status.limit_source.startswith("operator")

    # ---- commands

    def set_actor(self, actor: Actor) -> None:
        self._actor = actor
        self._show_gates()

    def _show_gates(self) -> None:
        status = self.status
        live = status is not None
        self._gates.show(
            self._actor,
            {
                self.mode_button: live,
                self.site_limit: live,
                self.override_button: live,
                self.clear_button: live and status is not None and self._overridden(status),
            },
        )
        self.model.editable = self._actor.may(Permission.SMART_CHARGING)

    def switch_mode(self) -> None:
        status = self.status
        if status is None:
            return
        mode = ChargingMode.AUTO if status.mode is ChargingMode.MANUAL else ChargingMode.MANUAL
        words = "manual limits" if mode is ChargingMode.MANUAL else "automatic allocation"
        self._submit(
            f"Site {status.site_id}: {words}",
            SetChargingMode(site_id=status.site_id, mode=mode),
        )

    def override_site_limit(self) -> None:
        limit = self.site_limit.value()
        if self.status is None or limit is None:
            return
        self._submit(
            f"Site {self.status.site_id} limit {formatting.kw(limit)}",
            SetSiteLimit(site_id=self.status.site_id, limit_kw=limit),
        )

    def clear_site_limit(self) -> None:
        if self.status is not None:
            self._submit(
                f"Site {self.status.site_id}: limit override cleared",
                SetSiteLimit(site_id=self.status.site_id, limit_kw=None),
            )

    def _double_clicked(self, index: QModelIndex) -> None:
        connector = self.model.connector_at(index)
        if index.column() == Column.NEED and connector is not None:
            self.edit_need(connector.charger_id, connector.connector_id)

    def edit_need(self, charger_id: str, connector_id: int) -> SessionNeedDialog | None:
        """The dialog setting a running session's need; None when it has no session or the
        user may not."""
        index = self.model.connector_index(charger_id, connector_id, Column.NEED)
        connector = self.model.connector_at(index)
        if connector is None or not has_session(connector) or not self.model.editable:
            return None
        dialog = SessionNeedDialog(connector, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        where = f"{charger_id} · {connector_id}"

        def send(energy: float | None, departure: datetime | None) -> None:
            if energy is None or departure is None:
                words = "need back to its plan or usage profile"
            else:
                by = formatting.clock(departure, seconds=False)
                words = f"needs {formatting.kwh(energy)} by {by}"
            self._submit(
                f"{where} {words}",
                SetSessionNeed(
                    charger_id=charger_id,
                    connector_id=connector_id,
                    energy_kwh=energy,
                    departure=departure,
                ),
            )

        dialog.needChosen.connect(send)
        dialog.open()
        return dialog

    def _send_manual_limit(self, charger_id: str, connector_id: int, limit: Any) -> None:
        words = "its maximum" if limit is None else f"{limit:.1f} A"
        self._submit(
            f"{charger_id} · {connector_id} manual limit {words}",
            SetManualLimit(charger_id=charger_id, connector_id=connector_id, limit_a=limit),
            lambda result: self.model.request_answered(charger_id, connector_id, result.ok),
        )

    def _submit(
        self, action: str, command: Command, then: Callable[[CommandResult], None] | None = None
    ) -> None:
        answered = self.result.track(action)

        def on_result(result: CommandResult) -> None:
            if then is not None:
                then(result)
            answered(result)
            if result.ok:
                self.refresh()

        self._send(command, on_result)
