"""Main window: site overview in the centre, faceplate at the right, site health below.

The status bar also offers the chargers waiting for acceptance, when there are any.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QWidget,
)

from evsuper.core.domain import ArchiveState
from evsuper.core.tags import Sample, TagPath
from evsuper.hmi import formatting
from evsuper.hmi.bridge import CommandSender
from evsuper.hmi.dialogs.pending import PendingChargersDialog
from evsuper.hmi.models.overview import OverviewModel, SiteSummary
from evsuper.hmi.models.pending import PendingChargersModel
from evsuper.hmi.models.system import SystemStatus
from evsuper.hmi.theme import Emphasis, archive_emphasis, set_emphasis
from evsuper.hmi.views.overview import OverviewView
from evsuper.hmi.widgets.faceplate import Faceplate
from evsuper.project.model import Project


class MainWindow(QMainWindow):
    """Feed it tag batches with ``apply_tags``; it sends commands with ``send``."""

    def __init__(
        self, project: Project, send: CommandSender, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{project.name} — evsuper")
        self.resize(1400, 900)
        self.model = OverviewModel(project)
        self.pending = PendingChargersModel(self.model)
        self.system = SystemStatus()

        self.overview = OverviewView(self.model)
        self.setCentralWidget(self.overview)

        self.faceplate = Faceplate(self.model, send, [b.id_tag for b in project.badges])
        scroll = QScrollArea()
        scroll.setObjectName("faceplateScroll")
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.faceplate)
        self.faceplate_dock = QDockWidget("Faceplate", self)
        self.faceplate_dock.setObjectName("faceplateDock")
        self.faceplate_dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetMovable
        )
        self.faceplate_dock.setWidget(scroll)
        # Wide enough for the faceplate beside the scroll bar it gets when it is too long.
        scroll_bar = scroll.verticalScrollBar().sizeHint().width()
        self.faceplate_dock.setMinimumWidth(
            max(380, self.faceplate.minimumSizeHint().width() + scroll_bar)
        )
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.faceplate_dock)
        self.faceplate_dock.hide()
        self.overview.chargerSelected.connect(self.show_faceplate)

        self._online = QLabel()
        self._online.setObjectName("onlineCount")
        self._activity = QLabel()
        self._activity.setObjectName("siteActivity")
        self._faulted = QLabel()
        self._faulted.setObjectName("faultedCount")
        self._archive = QLabel()
        self._archive.setObjectName("archiveState")
        self.pending_button = QPushButton()
        self.pending_button.setObjectName("pendingChargers")
        self.pending_button.setToolTip("Chargers waiting for acceptance: review them")
        self.pending_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.pending_button.clicked.connect(self.show_pending)
        self.pending_dialog = PendingChargersDialog(self.pending, send, self)
        status_bar = self.statusBar()
        status_bar.setSizeGripEnabled(False)
        status_bar.addWidget(self._online)
        status_bar.addWidget(self.pending_button)
        status_bar.addWidget(self._faulted)
        status_bar.addWidget(self._activity)
        status_bar.addPermanentWidget(self._archive)
        self.model.summaryChanged.connect(self._show_summary)
        self.system.changed.connect(self._show_system)
        self.pending.countChanged.connect(self._show_pending_count)
        self._show_summary(self.model.summary)
        self._show_pending_count(self.pending.count)
        self._show_system()

    def apply_tags(self, changes: Mapping[TagPath, Sample]) -> None:
        """Slot for ``EngineBridge.tagsChanged``."""
        self.model.apply(changes)
        self.system.apply(changes)
        self.faceplate.files_url = self.system.files_url

    def show_faceplate(self, charger_id: str) -> None:
        self.faceplate.show_charger(charger_id)
        self.faceplate_dock.show()
        row = self.model.row_of(charger_id)
        if row is not None and self.overview.currentIndex().row() != row:
            self.overview.select_charger(row)

    def show_pending(self) -> None:
        self.pending_dialog.show()
        self.pending_dialog.raise_()
        self.pending_dialog.activateWindow()

    def _show_pending_count(self, count: int) -> None:
        self.pending_button.setText(f"Pending chargers: {count}")
        self.pending_button.setVisible(count > 0)

    def _show_summary(self, summary: SiteSummary) -> None:
        self._online.setText(f"Chargers online: {summary.online} / {summary.total}")
        set_emphasis(
            self._online, Emphasis.NOTABLE if summary.online < summary.total else Emphasis.NORMAL
        )
        self._faulted.setText(f"Faulted: {summary.faulted}")
        set_emphasis(self._faulted, Emphasis.ALARM if summary.faulted else Emphasis.NORMAL)
        self._activity.setText(
            f"Charging: {summary.charging}   Site power: {formatting.kw(summary.power_kw)}"
        )

    def _show_system(self) -> None:
        state = self.system.archive_state
        text = f"Archive: {state.value.upper() if state else 'NO DATA'}"
        if state not in (ArchiveState.OK, None) and self.system.archive_backlog:
            text += f" · {self.system.archive_backlog} queued"  # the normal queue is noise
        self._archive.setText(text)
        set_emphasis(self._archive, archive_emphasis(state))
