"""Main window: site overview in the centre, faceplate at the right, site health below.

The toolbar shows who is logged in (always), with login / logout and the event log. The
status bar also offers the chargers waiting for acceptance, when there are any. Every
command leaves through the session's sender: stamped with the user, confirmed if it is
dangerous.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QToolBar,
    QToolButton,
    QWidget,
)

from evsuper.alarms.model import ALARM_PREFIX, SUMMARY_TAG
from evsuper.core.domain import ArchiveState
from evsuper.core.tags import Sample, TagPath
from evsuper.historian.samples import TAGS_SOURCE
from evsuper.hmi import formatting
from evsuper.hmi.annunciator import Annunciator, Sound, beep
from evsuper.hmi.bridge import CommandSender, EngineReader
from evsuper.hmi.dialogs.login import LoginDialog
from evsuper.hmi.dialogs.opcua_browse import Submit
from evsuper.hmi.dialogs.pending import PendingChargersDialog
from evsuper.hmi.models.alarms import AlarmListModel
from evsuper.hmi.models.drivers import engine_driver_source
from evsuper.hmi.models.overview import OverviewModel, SiteSummary
from evsuper.hmi.models.pending import PendingChargersModel
from evsuper.hmi.models.system import SystemStatus
from evsuper.hmi.models.tag_browser import TagBrowserModel, engine_writable_tags
from evsuper.hmi.navigation import History, Location
from evsuper.hmi.session import Confirm, Session
from evsuper.hmi.theme import Emphasis, archive_emphasis, named_button, set_emphasis
from evsuper.hmi.views.alarm_history import AlarmHistoryView, JournalLoader
from evsuper.hmi.views.alarm_kpi import AlarmKpiView
from evsuper.hmi.views.alarm_list import AlarmListWindow
from evsuper.hmi.views.drivers import DriversView
from evsuper.hmi.views.energy_dashboard import DashboardLoader, EnergyDashboardView
from evsuper.hmi.views.event_log import AuditLoader, EventLogView
from evsuper.hmi.views.ground_plan import GroundPlanView
from evsuper.hmi.views.hypervision import HypervisionView
from evsuper.hmi.views.overview import OverviewPanel
from evsuper.hmi.views.planning import EnginePlanningSource, PlanningView
from evsuper.hmi.views.power_management import EngineChargingSource, PowerManagementView
from evsuper.hmi.views.profile_management import ProfileManagementView
from evsuper.hmi.views.project_history import HistorySource, ProjectHistoryView
from evsuper.hmi.views.reports import ReportsView, ReportWriter
from evsuper.hmi.views.tag_browser import TagBrowserView
from evsuper.hmi.views.transactions import TransactionHistoryView, TransactionSource
from evsuper.hmi.views.trends import TrendLoader, TrendView
from evsuper.hmi.widgets.alarm_banner import AlarmBanner
from evsuper.hmi.widgets.device_faceplate import DeviceFaceplate
from evsuper.hmi.widgets.faceplate import Faceplate
from evsuper.project.model import Project
from evsuper.users.permissions import Actor


class MainWindow(QMainWindow):
    """Feed it tag batches with ``apply_tags``; it sends commands with ``send`` as the
    ``session``'s user (no session: nobody can log in, everything is read-only).

    ``confirm`` asks the question of a dangerous command (default: a message box);
    ``archive`` reads the audit trail and the alarm journal for the event log, the alarm
    history and the alarm KPIs (None: those windows are not offered);
    ``sound(priority)`` is the alarm annunciation (default: the system beep);
    ``submit`` runs a coroutine on the engine loop (``EngineThread.submit``: the OPC UA
    browse sessions of the drivers view; None: no browsing).
    """

    def __init__(
        self,
        project: Project,
        send: CommandSender,
        parent: QWidget | None = None,
        *,
        read: EngineReader | None = None,
        session: Session | None = None,
        confirm: Confirm | None = None,
        archive: ArchiveReaders | None = None,
        sound: Sound = beep,
        submit: Submit | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{project.name} — evsuper")
        self.resize(1400, 900)
        self.session = session if session is not None else Session(None, parent=self)
        send = self.session.command_sender(send, confirm or self._ask)
        self._send = send
        self._readers = archive
        self._project = project
        self.ground_plan: GroundPlanView | None = None
        self.device_faceplates: dict[str, DeviceFaceplate] = {}  # by layout object id
        self.project_history: ProjectHistoryView | None = None
        self.event_log: EventLogView | None = None
        self.alarm_history: AlarmHistoryView | None = None
        self.alarm_kpis: AlarmKpiView | None = None
        self.transactions: TransactionHistoryView | None = None
        self.energy: EnergyDashboardView | None = None
        self.reports: ReportsView | None = None
        self._badge_names = {b.id_tag: b.name for b in project.badges}
        self._historised_tags = bool(project.archive.tags)
        self._places = project.places()
        self.trends: TrendView | None = None
        self._read = read
        self._submit = submit  # EngineThread.submit: sessions on the engine loop (browse)
        self.profile_management: ProfileManagementView | None = None
        self.power_management: PowerManagementView | None = None
        self.planning: PlanningView | None = None
        self.drivers_view: DriversView | None = None
        self.tag_browser: TagBrowserView | None = None
        self.tag_values = TagBrowserModel(self)  # every tag, from every batch
        self._add_session_bar()
        self.model = OverviewModel(project)
        self.pending = PendingChargersModel(self.model)
        self.system = SystemStatus()
        self.alarms = AlarmListModel(self)
        self.annunciator = Annunciator(sound, parent=self)
        self.alarms.changed.connect(self._annunciate)
        self.alarm_banner = AlarmBanner(self.alarms, self.annunciator)
        self._add_alarm_bar()
        self.alarm_list = AlarmListWindow(
            self.alarms, send, [c.id for c in project.chargers], self, confirm=confirm
        )
        self.alarm_list.chargerRequested.connect(self.show_faceplate)
        self.alarm_banner.openRequested.connect(self.show_alarms)

        self.overview_panel = OverviewPanel(self.model)
        self.overview = self.overview_panel.view
        # several sites: the hypervision above the sites' overviews (ISA-101 level 1)
        self.hypervision: HypervisionView | None = None
        self.pages = QStackedWidget()
        self.pages.setObjectName("pages")
        if len(project.sites) > 1:
            self.hypervision = HypervisionView(self.model, self.alarms)
            self.hypervision.siteSelected.connect(lambda site: self.navigate(Location(site)))
            self.pages.addWidget(self.hypervision)
        self.pages.addWidget(self.overview_panel)
        self.setCentralWidget(self.pages)
        self.history = History(Location())
        self._navigating = False
        self._watched: set[QObject] = set()  # maintenance windows whose closing is followed
        self._add_navigation_bar()
        self.overview_panel.site.currentIndexChanged.connect(self._overview_moved)
        self.overview_panel.area.currentIndexChanged.connect(self._overview_moved)

        self.faceplate = Faceplate(self.model, send, [b.id_tag for b in project.badges], read=read)
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
        self.faceplate.trendRequested.connect(self.show_trends)
        self.faceplate.diagnosticsOpened.connect(self._diagnostics_opened)
        self.faceplate.trends_available = archive is not None and archive.trends is not None

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
        self.session.changed.connect(self._show_actor)
        self._show_actor(self.session.actor)

    def _add_session_bar(self) -> None:
        bar = QToolBar("Session", self)
        bar.setObjectName("sessionBar")
        bar.setMovable(False)
        bar.setFloatable(False)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.event_log_button = self._archive_button(
            "Event log", "eventLogButton", "Who did what and when: commands, logins, refusals"
        )
        self.event_log_button.clicked.connect(self.show_event_log)
        self.alarm_history_button = self._archive_button(
            "Alarm history", "alarmHistoryButton", "Every alarm transition, filtered and exported"
        )
        self.alarm_history_button.clicked.connect(self.show_alarm_history)
        self.alarm_kpis_button = self._archive_button(
            "Alarm KPIs",
            "alarmKpisButton",
            "Alarm rates, floods, bad actors against the ISA-18.2 / EEMUA 191 targets",
        )
        self.alarm_kpis_button.clicked.connect(self.show_alarm_kpis)
        self.transactions_button = self._archive_button(
            "Transactions",
            "transactionsButton",
            "Every charging session: filter, sort, curve, export for billing",
        )
        self.transactions_button.setEnabled(
            self._readers is not None and self._readers.transactions is not None
        )
        self.transactions_button.clicked.connect(self.show_transactions)
        self.trends_button = self._archive_button(
            "Trends", "trendsButton", "Power, SoC and every archived measurand: history and live"
        )
        self.trends_button.setEnabled(
            self._readers is not None and self._readers.trends is not None
        )
        self.trends_button.clicked.connect(lambda: self.show_trends())
        self.energy_button = self._archive_button(
            "Energy", "energyButton", "Site power, energy per bollard and badge, load curve"
        )
        self.energy_button.setEnabled(
            self._readers is not None and self._readers.dashboard is not None
        )
        self.energy_button.clicked.connect(self.show_energy)
        self.reports_button = self._archive_button(
            "Reports", "reportsButton", "Daily energy, monthly billing and alarm KPI reports (PDF)"
        )
        self.reports_button.setEnabled(
            self._readers is not None and self._readers.reports is not None
        )
        self.reports_button.clicked.connect(self.show_reports)
        self.project_history_button = self._archive_button(
            "Project history",
            "projectHistoryButton",
            "Every saved version of the project: who, when, what changed; restore one",
        )
        self.project_history_button.setEnabled(
            self._readers is not None and self._readers.history is not None
        )
        self.project_history_button.clicked.connect(self.show_project_history)
        # views grouped by subject: each view adds its own entry to one of these menus
        self.charging_menu = QMenu("Smart charging", self)
        self.charging_button = self._menu_button(
            "Smart charging",
            "chargingButton",
            self.charging_menu,
            "Power management, charging profiles and planning",
        )
        power = self.charging_menu.addAction("Power management", self.show_power_management)
        power.setEnabled(self._read is not None)
        profiles = self.charging_menu.addAction("Charging profiles", self.show_profile_management)
        profiles.setEnabled(self._read is not None)
        planning = self.charging_menu.addAction("Planning", self.show_planning)
        planning.setEnabled(self._read is not None)
        self.system_menu = QMenu("System", self)
        self.system_button = self._menu_button(
            "System",
            "systemButton",
            self.system_menu,
            "Drivers, devices and every tag with its quality",
        )
        self.system_menu.addAction("Drivers", self.show_drivers)
        self.system_menu.addAction("Tag browser", self.show_tag_browser)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.user_label = QLabel()
        self.user_label.setObjectName("currentUser")
        self.login_button = QPushButton()
        self.login_button.setObjectName("loginButton")
        self.login_button.clicked.connect(self.show_login)
        self.logout_button = QPushButton("Log out")
        self.logout_button.setObjectName("logoutButton")
        self.logout_button.clicked.connect(lambda: self.session.logout())
        self.alarms_button = QPushButton("Alarms")
        self.alarms_button.setObjectName("alarmsButton")
        self.alarms_button.setToolTip("The alarm list: acknowledge, shelve, go to the charger")
        self.alarms_button.clicked.connect(self.show_alarms)
        self.ground_plan_button = QPushButton("Ground plan")
        self.ground_plan_button.setObjectName("groundPlanButton")
        self.ground_plan_button.setToolTip("The site plan, every bollard live; edit the layout")
        self.ground_plan_button.clicked.connect(self.show_ground_plan)
        bar.addWidget(self.ground_plan_button)
        bar.addWidget(self.alarms_button)
        bar.addWidget(self.alarm_history_button)
        bar.addWidget(self.alarm_kpis_button)
        bar.addWidget(self.transactions_button)
        bar.addWidget(self.trends_button)
        bar.addWidget(self.energy_button)
        bar.addWidget(self.reports_button)
        bar.addWidget(self.event_log_button)
        bar.addWidget(self.project_history_button)
        bar.addWidget(spacer)
        bar.addWidget(self.user_label)
        bar.addWidget(self.login_button)
        # a widget in a toolbar is shown and hidden through its action
        self._logout_action = bar.addWidget(self.logout_button)

    def _add_alarm_bar(self) -> None:
        """The alarm banner, full width under the session bar."""
        self.addToolBarBreak(Qt.ToolBarArea.TopToolBarArea)
        bar = QToolBar("Alarms", self)
        bar.setObjectName("alarmBar")
        bar.setMovable(False)
        bar.setFloatable(False)
        bar.toggleViewAction().setEnabled(False)  # always visible
        self.alarm_banner.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(self.alarm_banner)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)

    def _annunciate(self) -> None:
        self.annunciator.update(self.alarms.unacknowledged)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing the main window closes the windows opened from it (views, faceplates)."""
        for window in self.findChildren(QWidget):
            if window.isWindow() and window.isVisible():
                window.close()
        super().closeEvent(event)

    def show_alarms(self) -> None:
        self.alarm_list.show()
        self.alarm_list.raise_()
        self.alarm_list.activateWindow()

    def show_drivers(self) -> DriversView:
        """The drivers view (one, kept once made)."""
        if self.drivers_view is None:
            source = engine_driver_source(self._read) if self._read is not None else None
            self.drivers_view = DriversView(
                source,
                self._send,
                self.model,
                self,
                project=self._project,
                submit=self._submit,
                read=self._read,
            )
            self.drivers_view.set_actor(self.session.actor)
        self.drivers_view.show()
        self.drivers_view.raise_()
        self.drivers_view.activateWindow()
        return self.drivers_view

    def show_tag_browser(self) -> TagBrowserView:
        """The tag browser (one, kept once made)."""
        if self.tag_browser is None:
            writable = engine_writable_tags(self._read) if self._read is not None else None
            self.tag_browser = TagBrowserView(self.tag_values, self._send, writable, self)
            self.tag_browser.set_actor(self.session.actor)
        self.tag_browser.show()
        self.tag_browser.raise_()
        self.tag_browser.activateWindow()
        return self.tag_browser

    def show_profile_management(self) -> ProfileManagementView | None:
        """The charging profiles window (one, kept once made); None without engine reads."""
        if self._read is None:
            return None
        if self.profile_management is None:
            self.profile_management = ProfileManagementView(
                self._project, self._send, self._read, self
            )
            self.profile_management.set_actor(self.session.actor)
        self.profile_management.show()
        self.profile_management.raise_()
        self.profile_management.activateWindow()
        return self.profile_management

    def show_power_management(self) -> PowerManagementView | None:
        """The power management window (one, kept once made); None without engine reads."""
        if self._read is None:
            return None
        if self.power_management is None:
            source = EngineChargingSource(self._read)
            self.power_management = PowerManagementView(source, self._send, self)
            self.power_management.set_actor(self.session.actor)
        self.power_management.show()
        self.power_management.raise_()
        self.power_management.activateWindow()
        return self.power_management

    def show_planning(self) -> PlanningView | None:
        """The planning tool (one, kept once made); None without engine reads."""
        if self._read is None:
            return None
        if self.planning is None:
            source = EnginePlanningSource(self._read)
            self.planning = PlanningView(self._project, source, self._send, self)
            self.planning.set_actor(self.session.actor)
        self.planning.show()
        self.planning.raise_()
        self.planning.activateWindow()
        return self.planning

    def show_ground_plan(self) -> GroundPlanView:
        if self.ground_plan is None:
            self.ground_plan = GroundPlanView(self._project, self.model, self._send, self)
            self.ground_plan.chargerSelected.connect(self.show_faceplate)
            self.ground_plan.deviceSelected.connect(self.show_device)
            self.ground_plan.set_actor(self.session.actor)
            plan = self.ground_plan
            plan.apply_tags(self._known(plan.device_tags()))
            plan.show_alarms(self.alarms.records)
            self.alarms.changed.connect(lambda: plan.show_alarms(self.alarms.records))
        self.ground_plan.show()
        self.ground_plan.raise_()
        self.ground_plan.activateWindow()
        return self.ground_plan

    def show_device(self, object_id: str) -> DeviceFaceplate | None:
        """The faceplate of a device placed on the ground plan (one each, kept once made)."""
        faceplate = self.device_faceplates.get(object_id)
        placed = self.ground_plan.device(object_id) if self.ground_plan is not None else None
        if faceplate is None and placed is not None:
            faceplate = DeviceFaceplate(placed, self._send, self.alarms, self)
            faceplate.setWindowFlag(Qt.WindowType.Window)
            faceplate.set_actor(self.session.actor)
            faceplate.apply(self._known(faceplate.state.tags()))
            self.device_faceplates[object_id] = faceplate
        if faceplate is not None:
            faceplate.show()
            faceplate.raise_()
            faceplate.activateWindow()
        return faceplate

    def _known(self, tags: list[TagPath]) -> dict[TagPath, Sample]:
        """The last samples of ``tags`` seen in the batches so far."""
        return {t: s for t in tags if (s := self.tag_values.sample(t)) is not None}

    def show_login(self) -> LoginDialog:
        """The login dialog; a project without any user first gets its administrator."""
        first_admin = self.session.needs_first_admin()
        dialog = LoginDialog(self.session, first_admin=first_admin, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _archive_button(self, text: str, name: str, tip: str) -> QPushButton:
        button = named_button(name, text, tip)
        button.setEnabled(self._readers is not None)
        return button

    def _menu_button(self, text: str, name: str, menu: QMenu, tip: str) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setObjectName(name)
        button.setToolTip(tip)
        button.setMenu(menu)
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        return button

    def show_event_log(self) -> None:
        if self._readers is not None:
            if self.event_log is None:
                self.event_log = EventLogView(self._readers.audit, self)
            _reopen(self.event_log)

    def show_alarm_history(self) -> None:
        if self._readers is not None:
            if self.alarm_history is None:
                self.alarm_history = AlarmHistoryView(self._readers.journal, self)
            _reopen(self.alarm_history)

    def show_alarm_kpis(self) -> None:
        if self._readers is not None:
            if self.alarm_kpis is None:
                self.alarm_kpis = AlarmKpiView(self._readers.journal, self)
            _reopen(self.alarm_kpis)

    def show_transactions(self) -> None:
        if self._readers is not None and self._readers.transactions is not None:
            if self.transactions is None:
                self.transactions = TransactionHistoryView(
                    self._readers.transactions, self, self._places
                )
            _reopen(self.transactions)

    def show_energy(self) -> None:
        if self._readers is not None and self._readers.dashboard is not None:
            if self.energy is None:
                self.energy = EnergyDashboardView(self._readers.dashboard, self._badge_names, self)
                self.energy.set_site_power(self.model.summary.power_kw)
            self.energy.show()
            self.energy.raise_()
            self.energy.activateWindow()

    def show_reports(self) -> None:
        if self._readers is not None and self._readers.reports is not None:
            if self.reports is None:
                self.reports = ReportsView(self._readers.reports, self)
            self.reports.show()
            self.reports.raise_()
            self.reports.activateWindow()

    def show_project_history(self) -> None:
        if self._readers is not None and self._readers.history is not None:
            if self.project_history is None:
                self.project_history = ProjectHistoryView(self._readers.history, self._send, self)
                self.project_history.set_actor(self.session.actor)
            elif self.project_history.isVisible():
                self.project_history.query()
            self.project_history.show()
            self.project_history.raise_()
            self.project_history.activateWindow()

    def show_trends(self, charger_id: str | None = None) -> TrendView | None:
        """The trend window; with ``charger_id``: its connectors' power and SoC, last hour."""
        if self._readers is None or self._readers.trends is None:
            return None
        states = [self.model.state_at(row) for row in range(self.model.rowCount())]
        if self.trends is None:
            sources = [s.charger_id for s in states]
            if self._historised_tags:
                sources.append(TAGS_SOURCE)
            self.trends = TrendView(self._readers.trends, sources, self)
        state = self.model.state(charger_id) if charger_id is not None else None
        if state is not None:
            self.trends.open_charger(state.charger_id, range(1, len(state.connectors) + 1))
        self.trends.show()
        self.trends.raise_()
        self.trends.activateWindow()
        return self.trends

    def _show_actor(self, actor: Actor) -> None:
        logged_in = self.session.logged_in
        who = f"{actor.user} ({actor.role.value})" if logged_in else "viewer (not logged in)"
        self.user_label.setText(f"User: {who}")
        self.login_button.setText("Switch user…" if logged_in else "Log in…")
        self.login_button.setEnabled(self.session.can_log_in)
        self._logout_action.setVisible(logged_in)
        self.faceplate.set_actor(actor)
        self.pending_dialog.set_actor(actor)
        self.alarm_list.set_actor(actor)
        if self.project_history is not None:
            self.project_history.set_actor(actor)
        if self.ground_plan is not None:
            self.ground_plan.set_actor(actor)
        for device in self.device_faceplates.values():
            device.set_actor(actor)
        if self.drivers_view is not None:
            self.drivers_view.set_actor(actor)
        if self.tag_browser is not None:
            self.tag_browser.set_actor(actor)
        if self.profile_management is not None:
            self.profile_management.set_actor(actor)
        if self.power_management is not None:
            self.power_management.set_actor(actor)
        if self.planning is not None:
            self.planning.set_actor(actor)

    def _ask(self, question: str) -> bool:
        answer = QMessageBox.question(
            self,
            "Confirm",
            question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def apply_tags(self, changes: Mapping[TagPath, Sample]) -> None:
        """Slot for ``EngineBridge.tagsChanged``."""
        self.tag_values.apply(changes)
        alarms = {p: s for p, s in changes.items() if p.startswith(ALARM_PREFIX)}
        summary = changes.get(SUMMARY_TAG)
        if alarms or summary is not None:
            changes = {p: s for p, s in changes.items() if p != SUMMARY_TAG and p not in alarms}
            self.alarms.apply(alarms)
            if summary is not None:
                self.alarm_banner.show_summary(summary.value)
        self.model.apply(changes)
        self.system.apply(changes)
        self.faceplate.files_url = self.system.files_url
        if self.trends is not None and self.trends.isVisible():
            self.trends.apply_tags(changes)
        if self.ground_plan is not None:
            self.ground_plan.apply_tags(changes)
        for device in self.device_faceplates.values():
            device.apply(changes)

    def show_faceplate(self, charger_id: str) -> None:
        state = self.model.state(charger_id)
        if state is not None and not self._navigating:
            here = self.history.current
            # stays in the area (or site) shown when the bollard is in it
            area = here.area if here.area == state.area else ""
            site = here.site if here.site == state.site or area else ""
            self._visit(Location(site, area, charger_id))
        self.faceplate.show_charger(charger_id)
        self.faceplate_dock.show()
        self.overview.select_charger(charger_id)

    # ---- navigation (evsuper/hmi/navigation.py)

    def _add_navigation_bar(self) -> None:
        bar = QToolBar("Navigation", self)
        bar.setObjectName("navigationBar")
        bar.setMovable(False)
        self.back_action = bar.addAction("◀ Back", self.go_back)
        self.back_action.setShortcut(QKeySequence("Alt+Left"))
        self.back_action.setToolTip("Back to the previous display (Alt+Left)")
        self.forward_action = bar.addAction("Forward ▶", self.go_forward)
        self.forward_action.setShortcut(QKeySequence("Alt+Right"))
        self.forward_action.setToolTip("Forward again (Alt+Right)")
        self.up_action = bar.addAction("▲ Up", self.go_up)
        self.up_action.setShortcut(QKeySequence("Alt+Up"))
        self.up_action.setToolTip("One level up: bollard → area → site → all sites (Alt+Up)")
        self.home_action = bar.addAction(
            "All sites" if self.hypervision is not None else "Whole site",
            lambda: self.navigate(Location()),
        )
        self.home_action.setShortcut(QKeySequence("Alt+Home"))
        self.home_action.setToolTip("The top display (Alt+Home)")
        self.breadcrumb = QLabel()
        self.breadcrumb.setObjectName("breadcrumb")
        bar.addSeparator()
        bar.addWidget(self.breadcrumb)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        bar.addWidget(self.charging_button)
        bar.addWidget(self.system_button)
        self.addToolBarBreak(Qt.ToolBarArea.TopToolBarArea)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self._show_location()

    def navigate(self, place: Location) -> None:
        """Show ``place`` and remember it (back / forward)."""
        self._visit(place)
        self._apply(place)

    def go_back(self) -> None:
        self._apply(self.history.back())

    def go_forward(self) -> None:
        self._apply(self.history.forward())

    def go_up(self) -> None:
        self.navigate(self.history.current.up())

    def _visit(self, place: Location) -> None:
        self.history.visit(place)
        self._show_location()

    def _apply(self, place: Location) -> None:
        self._navigating = True
        try:
            top = self.hypervision if not place.site else None
            self.pages.setCurrentWidget(top if top is not None else self.overview_panel)
            if self.hypervision is not None and place.site:
                self.overview_panel.select_site(place.site)
            self.overview_panel.select_area(place.area)
            if place.charger:
                self.show_faceplate(place.charger)
            else:
                self.faceplate_dock.hide()
            if place.diagnostics:
                self.faceplate.open_maintenance()
            else:
                self.faceplate.close_maintenance()
        finally:
            self._navigating = False
        self._show_location()

    def _diagnostics_opened(self, charger_id: str) -> None:
        """Level 4: the faceplate opened the bollard's maintenance window."""
        window = self.faceplate.maintenance(charger_id)
        if window is not None and window not in self._watched:
            window.installEventFilter(self)
            self._watched.add(window)
        if not self._navigating:
            here = self.history.current
            self._visit(Location(here.site, here.area, charger_id, diagnostics=True))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """A maintenance window closed by hand leaves level 4, as Back would."""
        here = self.history.current
        if (
            event.type() == QEvent.Type.Close
            and not self._navigating
            and here.diagnostics
            and watched is self.faceplate.maintenance(here.charger)
        ):
            if self.history.previous == here.up():
                self.go_back()
            else:
                self.navigate(here.up())
        return super().eventFilter(watched, event)

    def _overview_moved(self) -> None:
        """The operator picked a site or an area in the overview's selectors."""
        if not self._navigating:
            panel = self.overview_panel
            site = panel.selected_site() if self.hypervision is not None else ""
            self._visit(Location(site, panel.selected_area()))

    def _show_location(self) -> None:
        here = self.history.current
        project = self.model.project
        parts = ["All sites" if self.hypervision is not None else project.name]
        if here.site and (site := project.site(here.site)) is not None:
            parts.append(site.name or site.id)
        if here.area and (area := project.area(here.area)) is not None:
            parts.append(area.name or area.id)
        if here.charger:
            parts.append(here.charger)
        if here.diagnostics:
            parts.append("Diagnostics")
        self.breadcrumb.setText("  \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK}  ".join(parts))
        self.back_action.setEnabled(self.history.can_go_back)
        self.forward_action.setEnabled(self.history.can_go_forward)
        self.up_action.setEnabled(here != Location())

    def show_pending(self) -> None:
        self.pending_dialog.show()
        self.pending_dialog.raise_()
        self.pending_dialog.activateWindow()

    def _show_pending_count(self, count: int) -> None:
        self.pending_button.setText(f"Pending chargers: {count}")
        self.pending_button.setVisible(count > 0)

    def _show_summary(self, summary: SiteSummary) -> None:
        if self.energy is not None:
            self.energy.set_site_power(summary.power_kw)
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


@dataclass(frozen=True, slots=True)
class ArchiveReaders:
    """Blocking reads of the archive, run by the windows on their worker threads."""

    audit: AuditLoader
    journal: JournalLoader
    transactions: TransactionSource | None = None
    trends: TrendLoader | None = None
    dashboard: DashboardLoader | None = None
    reports: ReportWriter | None = None
    history: HistorySource | None = None  # the project history (not the archive's)


def _reopen(
    window: EventLogView | AlarmHistoryView | AlarmKpiView | TransactionHistoryView,
) -> None:
    """Show an archive window, read again if it was open before."""
    if window.isVisible():
        window.query()
    window.show()
    window.raise_()
    window.activateWindow()
