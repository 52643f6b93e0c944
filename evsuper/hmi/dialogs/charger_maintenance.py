"""The maintenance window of one charger, for support: who it is, how it talks, what it
was told to charge.

Three tabs: identity and connection (from the overview model's tags, live), the last
OCPP frames both ways (read from the engine every ``REFRESH_MS`` while the window is
shown), and the charging profiles the charger accepted with the composite schedule drawn
against evsuper's expectation. Commands go through a ``CommandSender`` and engine state
is read through an ``EngineReader``: the window never touches the engine itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelection, QModelIndex, Qt, QTimer
from PySide6.QtGui import QFont, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from evsuper.charging.profiles import ChargingRateUnit, InstalledProfile
from evsuper.drivers.ocpp.session_log import Direction, FrameRecord
from evsuper.engine.commands import (
    ClearChargingProfile,
    Command,
    CommandResult,
    CompositeSchedules,
    GetCompositeSchedule,
    SetChargingProfile,
    TriggerableMessage,
    TriggerMessage,
)
from evsuper.hmi import formatting
from evsuper.hmi.bridge import CommandSender, EngineReader
from evsuper.hmi.dialogs.charging_profile import ChargingProfileDialog, fill_connectors
from evsuper.hmi.models.frame_log import FRAME_ROLE, Column, FrameFilter, FrameLogModel, FrameRow
from evsuper.hmi.models.overview import ChargerState, OverviewModel
from evsuper.hmi.theme import Emphasis, comm_label, named_button, role_label, set_emphasis
from evsuper.hmi.widgets.charger_header import ChargerHeader, show_identity
from evsuper.hmi.widgets.command_result import CommandResultLine
from evsuper.hmi.widgets.permission_gate import PermissionGates
from evsuper.hmi.widgets.refresh import RefreshWhileShown
from evsuper.hmi.widgets.schedule_chart import ScheduleChart
from evsuper.project.model import SecurityProfile
from evsuper.users.permissions import NOBODY, Actor

if TYPE_CHECKING:
    from evsuper.engine.runtime import Engine

REFRESH_MS = 2000  # engine reads (frames, profiles) while the window is shown
# Composite schedule spans offered: (seconds, label)
DURATIONS = tuple((s, formatting.duration(s)) for s in (900, 3600, 4 * 3600, 12 * 3600, 86400))
CHARGER_UNIT = "Charger's choice"

_SECURITY = {
    SecurityProfile.NONE: "0 — no authentication",
    SecurityProfile.BASIC_AUTH: "1 — HTTP Basic auth",
    SecurityProfile.TLS_BASIC_AUTH: "2 — TLS + Basic auth",
    SecurityProfile.TLS_CLIENT_CERT: "3 — TLS + client certificate",
}
_DIRECTIONS: tuple[tuple[str, Direction | None], ...] = (
    ("Both directions", None),
    ("Received (charger → evsuper)", Direction.RECEIVED),
    ("Sent (evsuper → charger)", Direction.SENT),
)
_TRIGGERS = (
    (TriggerableMessage.BOOT_NOTIFICATION, "Boot"),
    (TriggerableMessage.HEARTBEAT, "Heartbeat"),
    (TriggerableMessage.STATUS_NOTIFICATION, "Status"),
    (TriggerableMessage.METER_VALUES, "Meter values"),
    (TriggerableMessage.FIRMWARE_STATUS_NOTIFICATION, "Firmware status"),
    (TriggerableMessage.DIAGNOSTICS_STATUS_NOTIFICATION, "Diagnostics status"),
)
_PROFILE_COLUMNS = (
    "Id",
    "Connector",
    "Purpose",
    "Kind",
    "Stack",
    "Unit",
    "Valid from",
    "Valid to",
    "Periods",
)


@dataclass(frozen=True, slots=True)
class EngineView:
    """What the window reads from the engine for one charger, in one hop."""

    frames: list[FrameRecord]
    profiles: tuple[InstalledProfile, ...]
    security_profile: SecurityProfile


def engine_view(charger_id: str) -> Callable[[Engine], EngineView]:
    """The query (run on the engine thread) behind the window's refresh."""

    def query(engine: Engine) -> EngineView:
        central = engine.central
        return EngineView(
            frames=central.frame_log(charger_id),
            profiles=central.installed_profiles(charger_id),
            security_profile=engine.project.ocpp.security_profile,
        )

    return query


def periods_summary(installed: InstalledProfile) -> str:
    """``0 min 16 A · 1 h 10 A, for 2 h`` — the periods of a profile in one line."""
    schedule = installed.profile.schedule
    unit = schedule.unit.value
    parts = []
    for period in schedule.periods:
        phases = "" if period.number_phases is None else f" ({period.number_phases} ph)"
        start = "0" if period.start_s == 0 else formatting.duration(period.start_s)
        parts.append(f"{start}: {period.limit:g} {unit}{phases}")
    text = " · ".join(parts)
    if schedule.duration_s is not None:
        text += f", for {formatting.duration(schedule.duration_s)}"
    return text


def _profile_cells(installed: InstalledProfile) -> list[str]:
    profile = installed.profile
    kind = profile.kind.value
    if profile.recurrency is not None:
        kind += f" ({profile.recurrency.value.lower()})"
    return [
        str(profile.profile_id),
        "0 (charger)" if installed.connector_id == 0 else str(installed.connector_id),
        profile.purpose.value,
        kind,
        str(profile.stack_level),
        profile.schedule.unit.value,
        formatting.timestamp(profile.valid_from),
        formatting.timestamp(profile.valid_to),
        periods_summary(installed),
    ]


_SECTIONS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Identity",
        (
            ("vendor", "Vendor"),
            ("model", "Model"),
            ("serial", "Serial number"),
            ("firmware", "Firmware version"),
            ("registration", "Registration"),
            ("status", "Charger status"),
        ),
    ),
    (
        "Connection",
        (
            ("comm", "Communication"),
            ("since", "Connected since"),
            ("remote", "Remote address"),
            ("security", "Security profile"),
            ("last_seen", "Last frame received"),
            ("connects", "Connections accepted"),
        ),
    ),
    (
        "Messages since the supervisor started",
        (
            ("frames_received", "Frames received"),
            ("frames_sent", "Frames sent"),
            ("callerrors_received", "CALLERRORs received"),
            ("callerrors_sent", "CALLERRORs sent"),
        ),
    ),
    (
        "Firmware, diagnostics, local list",
        (
            ("firmware_status", "Firmware update"),
            ("diagnostics_status", "Diagnostics upload"),
            ("local_list", "Local list version"),
        ),
    ),
)


def _sections_grid(values: dict[str, QLabel]) -> QGridLayout:
    """``_SECTIONS`` in one grid (captions aligned across sections), two pairs a row."""
    grid = QGridLayout()
    grid.setHorizontalSpacing(16)
    grid.setVerticalSpacing(4)
    row = 0
    for title, fields in _SECTIONS:
        grid.addWidget(role_label("section", title), row, 0, 1, 4)
        row += 1
        for i, (key, caption) in enumerate(fields):
            line, column = divmod(i, 2)
            value = role_label("value")
            value.setObjectName(f"info_{key}")
            value.setToolTip(caption)
            values[key] = value
            grid.addWidget(role_label("caption", caption), row + line, 2 * column)
            grid.addWidget(value, row + line, 2 * column + 1)
        row += (len(fields) + 1) // 2
    grid.setColumnStretch(1, 1)
    grid.setColumnStretch(3, 1)
    return grid


class ChargerMaintenanceWindow(QDialog):
    """Non-modal, one per charger (the faceplate keeps it once made)."""

    def __init__(
        self,
        charger_id: str,
        overview: OverviewModel,
        send: CommandSender,
        read: EngineReader,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("chargerMaintenance")
        self.setWindowTitle(f"{charger_id} — Maintenance")
        self.setModal(False)
        self.resize(1000, 700)
        self._charger_id = charger_id
        self._overview = overview
        self._send = send
        self._read = read
        self._reading = False
        self._online = False
        self._profiles: tuple[InstalledProfile, ...] = ()
        self.view: EngineView | None = None  # the last engine read
        self.profile_dialog: ChargingProfileDialog | None = None
        self.clear_all_box: QMessageBox | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(6)
        self.header = ChargerHeader(charger_id)
        layout.addWidget(self.header)
        self.result_line = CommandResultLine("No command sent from this window yet.")
        layout.addWidget(self.result_line)
        self.read_problem = role_label("caption")
        self.read_problem.setObjectName("readProblem")
        self.read_problem.setWordWrap(True)
        self.read_problem.hide()
        layout.addWidget(self.read_problem)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("maintenanceTabs")
        self.tabs.addTab(self._identity_tab(), "Identity && connection")
        self.tabs.addTab(self._log_tab(), "Message log")
        self.tabs.addTab(self._profiles_tab(), "Charging profiles")
        layout.addWidget(self.tabs, 1)

        self._actor = NOBODY
        self._gates = PermissionGates(
            {
                **{b: TriggerMessage.permission for b in self.trigger_buttons.values()},
                self.set_profile: SetChargingProfile.permission,
                self.clear_selected: ClearChargingProfile.permission,
                self.clear_all: ClearChargingProfile.permission,
                self.get_composite: GetCompositeSchedule.permission,
            }
        )
        self.refresher = RefreshWhileShown(self, self.refresh, REFRESH_MS)
        overview.dataChanged.connect(self._on_data_changed)
        self._show_state()

    @property
    def charger_id(self) -> str:
        return self._charger_id

    def set_actor(self, actor: Actor) -> None:
        """Who uses the HMI now: commands they may not send are off, with the reason."""
        self._actor = actor
        self._show_buttons()

    # ---- tabs

    def _identity_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(10, 6, 10, 10)
        layout.setSpacing(4)
        self.info: dict[str, QLabel] = {}
        layout.addLayout(_sections_grid(self.info))
        layout.addWidget(role_label("section", "Trigger a message from the charger"))
        triggers = QHBoxLayout()
        triggers.setSpacing(6)
        self.trigger_buttons: dict[TriggerableMessage, QPushButton] = {}
        for message, text in _TRIGGERS:
            button = QPushButton(text)
            button.setObjectName(f"trigger_{message.value}")
            button.setToolTip(f"TriggerMessage {message.value}")
            button.clicked.connect(lambda _=False, m=message: self._trigger(m))
            triggers.addWidget(button)
            self.trigger_buttons[message] = button
        triggers.addStretch(1)
        layout.addLayout(triggers)
        layout.addStretch(1)
        return tab

    def _log_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(10, 8, 10, 10)
        layout.setSpacing(6)

        tools = QHBoxLayout()
        tools.setSpacing(6)
        self.direction = QComboBox()
        self.direction.setObjectName("logDirection")
        self.direction.addItems([text for text, _ in _DIRECTIONS])
        self.filter_text = QLineEdit()
        self.filter_text.setObjectName("logFilter")
        self.filter_text.setPlaceholderText("Filter: action, message id or any text of the frame")
        self.filter_text.setClearButtonEnabled(True)
        self.log_count = role_label("caption")
        self.log_count.setObjectName("logCount")
        self.log_count.setMinimumWidth(self.fontMetrics().horizontalAdvance("000 of 000 frames"))
        self.log_count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("logRefresh")
        self.refresh_button.setToolTip(
            f"Read the log now (it refreshes every {REFRESH_MS // 1000} s)"
        )
        self.copy_button = QPushButton("Copy")
        self.copy_button.setObjectName("logCopy")
        self.copy_button.setToolTip("Copy the selected frames (all shown when none is selected)")
        tools.addWidget(self.direction)
        tools.addWidget(self.filter_text, 1)
        tools.addWidget(self.log_count)
        tools.addWidget(self.refresh_button)
        tools.addWidget(self.copy_button)
        layout.addLayout(tools)

        self.frames = FrameLogModel()
        self.frame_filter = FrameFilter()
        self.frame_filter.setSourceModel(self.frames)
        self.log_table = QTableView()
        self.log_table.setObjectName("frameLog")
        self.log_table.setModel(self.frame_filter)
        self.log_table.setAlternatingRowColors(True)
        self.log_table.setWordWrap(False)
        self.log_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.log_table.verticalHeader().setVisible(False)
        self.log_table.verticalHeader().setDefaultSectionSize(22)
        header = self.log_table.horizontalHeader()
        header.setHighlightSections(False)
        for column in (Column.TIME, Column.DIRECTION, Column.TYPE, Column.ACTION):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(Column.MESSAGE_ID, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(Column.MESSAGE_ID, 150)  # UUIDs: the start tells them apart
        header.setSectionResizeMode(Column.FRAME, QHeaderView.ResizeMode.Stretch)
        mono = QFont("DejaVu Sans Mono")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        mono.setPointSizeF(9.0)
        self.detail = QPlainTextEdit()
        self.detail.setObjectName("frameDetail")
        self.detail.setReadOnly(True)
        self.detail.setFont(mono)
        self.detail.setPlaceholderText("Select a frame to read it in full.")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.log_table)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout.addWidget(split, 1)

        self.direction.currentIndexChanged.connect(
            lambda i: self._filter_changed(
                lambda: self.frame_filter.set_direction(_DIRECTIONS[i][1])
            )
        )
        self.filter_text.textChanged.connect(
            lambda text: self._filter_changed(lambda: self.frame_filter.set_text(text))
        )
        self.refresh_button.clicked.connect(self.refresh)
        self.copy_button.clicked.connect(self.copy_selection)
        copy = QShortcut(QKeySequence.StandardKey.Copy, self.log_table)
        copy.setContext(Qt.ShortcutContext.WidgetShortcut)
        copy.activated.connect(self.copy_selection)
        self.log_table.selectionModel().selectionChanged.connect(self._show_detail)
        self._show_log_count()
        return tab

    def _profiles_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(10, 6, 10, 10)
        layout.setSpacing(6)
        layout.addWidget(role_label("section", "Profiles the charger accepted"))
        self.profile_table = QTableWidget(0, len(_PROFILE_COLUMNS))
        self.profile_table.setObjectName("profileTable")
        self.profile_table.setHorizontalHeaderLabels(list(_PROFILE_COLUMNS))
        self.profile_table.verticalHeader().setVisible(False)
        self.profile_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.profile_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.profile_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.profile_table.setAlternatingRowColors(True)
        header = self.profile_table.horizontalHeader()
        header.setHighlightSections(False)
        for column in range(len(_PROFILE_COLUMNS) - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(_PROFILE_COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.profile_table.setMinimumHeight(110)
        layout.addWidget(self.profile_table, 1)

        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        self.set_profile = named_button("setProfile", "Set profile…", "SetChargingProfile")
        self.clear_selected = named_button(
            "clearSelectedProfile", "Clear selected", "ClearChargingProfile of the selected id"
        )
        self.clear_all = named_button(
            "clearAllProfiles", "Clear all…", "ClearChargingProfile with no criteria"
        )
        buttons.addWidget(self.set_profile)
        buttons.addWidget(self.clear_selected)
        buttons.addWidget(self.clear_all)
        buttons.addStretch(1)
        layout.addLayout(buttons)

        layout.addWidget(role_label("section", "Composite schedule: the charger's and evsuper's"))
        ask = QHBoxLayout()
        ask.setSpacing(6)
        self.composite_connector = QComboBox()
        self.composite_connector.setObjectName("compositeConnector")
        self.composite_duration = QComboBox()
        self.composite_duration.setObjectName("compositeDuration")
        self.composite_duration.addItems([text for _, text in DURATIONS])
        self.composite_duration.setCurrentIndex(1)
        self.composite_unit = QComboBox()
        self.composite_unit.setObjectName("compositeUnit")
        self.composite_unit.addItems([CHARGER_UNIT, *(u.value for u in ChargingRateUnit)])
        self.get_composite = named_button(
            "getComposite", "Get composite schedule", "GetCompositeSchedule"
        )
        ask.addWidget(role_label("caption", "Connector"))
        ask.addWidget(self.composite_connector)
        ask.addWidget(role_label("caption", "Duration"))
        ask.addWidget(self.composite_duration)
        ask.addWidget(role_label("caption", "Unit"))
        ask.addWidget(self.composite_unit)
        ask.addWidget(self.get_composite)
        ask.addStretch(1)
        layout.addLayout(ask)
        self.chart = ScheduleChart()
        layout.addWidget(self.chart, 2)

        self.set_profile.clicked.connect(self._open_profile_dialog)
        self.clear_selected.clicked.connect(self._clear_selected)
        self.clear_all.clicked.connect(self._confirm_clear_all)
        self.get_composite.clicked.connect(self._get_composite)
        self.profile_table.itemSelectionChanged.connect(self._show_buttons)
        return tab

    # ---- engine reads

    def refresh(self) -> None:
        """Read the frame log and the profiles again (one read at a time)."""
        if self._reading:
            return
        self._reading = True
        self._read(engine_view(self._charger_id), self._on_view, self._on_read_failed)

    def _on_view(self, view: EngineView) -> None:
        self._reading = False
        self.view = view
        self.read_problem.hide()
        self.info["security"].setText(
            _SECURITY.get(view.security_profile, str(view.security_profile))
        )
        self._show_frames(view.frames)
        if view.profiles != self._profiles:
            self._show_profiles(view.profiles)

    def _on_read_failed(self, reason: str) -> None:
        self._reading = False
        self.read_problem.setText(f"Could not read the engine: {reason}")
        set_emphasis(self.read_problem, Emphasis.NOTABLE)
        self.read_problem.show()

    # ---- message log

    def _show_frames(self, frames: list[FrameRecord]) -> None:
        scroll = self.log_table.verticalScrollBar()
        at_end = scroll.value() >= scroll.maximum()
        self.frames.set_records(frames)
        if at_end:
            self.log_table.scrollToBottom()
        self._show_log_count()

    def _filter_changed(self, change: Callable[[], None]) -> None:
        change()
        self._show_log_count()

    def _show_log_count(self) -> None:
        shown, total = self.frame_filter.rowCount(), self.frames.rowCount()
        text = f"{total} frames" if shown == total else f"{shown} of {total} frames"
        self.log_count.setText(text)

    def selected_frames(self) -> list[FrameRow]:
        rows = self.log_table.selectionModel().selectedRows()
        return [row.data(FRAME_ROLE) for row in sorted(rows, key=QModelIndex.row)]

    def _show_detail(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = self.selected_frames()
        if not rows:
            self.detail.clear()
            return
        row = rows[-1]
        head = (
            f"{formatting.timestamp(row.record.ts)}  {row.record.direction.value}  "
            f"{row.message_type} {row.action} {row.message_id}".rstrip()
        )
        self.detail.setPlainText(f"{head}\n\n{row.pretty()}")

    def copy_selection(self) -> None:
        """The selected frames (else all shown) as tab-separated lines, to the clipboard."""
        rows = self.selected_frames()
        if not rows:
            proxy = self.frame_filter
            rows = [proxy.index(r, 0).data(FRAME_ROLE) for r in range(proxy.rowCount())]
        lines = [
            "\t".join(
                (
                    row.record.ts.isoformat(timespec="milliseconds"),
                    row.record.direction.value,
                    row.message_type,
                    row.action,
                    row.message_id,
                    row.record.frame,
                )
            )
            for row in rows
        ]
        QGuiApplication.clipboard().setText("\n".join(lines))

    # ---- charging profiles

    def _show_profiles(self, profiles: tuple[InstalledProfile, ...]) -> None:
        selected = self.selected_profile_id()
        self._profiles = profiles
        table = self.profile_table
        table.setRowCount(len(profiles))
        for row, installed in enumerate(sorted(profiles, key=_profile_order)):
            for column, text in enumerate(_profile_cells(installed)):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, installed.profile.profile_id)
                table.setItem(row, column, item)
            if installed.profile.profile_id == selected:
                table.selectRow(row)
        self._show_buttons()

    def selected_profile_id(self) -> int | None:
        items = self.profile_table.selectedItems()
        if not items:
            return None
        value = items[0].data(Qt.ItemDataRole.UserRole)
        return value if isinstance(value, int) else None

    def _next_profile_id(self) -> int:
        return max((i.profile.profile_id for i in self._profiles), default=0) + 1

    def _open_profile_dialog(self) -> None:
        state = self._overview.state(self._charger_id)
        connectors = len(state.connectors) if state is not None else 1
        if self.profile_dialog is not None:
            self.profile_dialog.deleteLater()
        dialog = ChargingProfileDialog(self._charger_id, connectors, self._next_profile_id(), self)
        dialog.accepted.connect(lambda: self._set_profile(dialog))
        self.profile_dialog = dialog
        dialog.open()

    def _set_profile(self, dialog: ChargingProfileDialog) -> None:
        try:
            profile = dialog.chosen_profile()
        except ValueError:  # OK is off while invalid; nothing to send
            return
        connector = dialog.chosen_connector()
        self._submit(
            f"Set profile {profile.profile_id} ({profile.purpose.value}) on connector {connector}",
            SetChargingProfile(
                charger_id=self._charger_id, connector_id=connector, profile=profile
            ),
            then=lambda _: self.refresh(),
        )

    def _clear_selected(self) -> None:
        profile_id = self.selected_profile_id()
        if profile_id is None:
            return
        self._submit(
            f"Clear profile {profile_id}",
            ClearChargingProfile(charger_id=self._charger_id, profile_id=profile_id),
            then=lambda _: self.refresh(),
        )

    def _confirm_clear_all(self) -> None:
        if self.clear_all_box is not None:
            self.clear_all_box.deleteLater()
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Clear all charging profiles",
            f"Clear every charging profile on {self._charger_id}?\n"
            "The charger then charges at its own maximum.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("clearAllBox")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        yes = box.button(QMessageBox.StandardButton.Yes)
        yes.setText("Clear all")
        yes.clicked.connect(self.clear_all_profiles)
        self.clear_all_box = box
        box.open()

    def clear_all_profiles(self) -> None:
        self._submit(
            "Clear all profiles",
            ClearChargingProfile(charger_id=self._charger_id),
            then=lambda _: self.refresh(),
        )

    def _get_composite(self) -> None:
        duration_s, label = DURATIONS[self.composite_duration.currentIndex()]
        unit_text = self.composite_unit.currentText()
        unit = None if unit_text == CHARGER_UNIT else ChargingRateUnit(unit_text)
        connector = self.composite_connector.currentIndex()
        self.chart.clear("Waiting for the charger's composite schedule…")
        self._submit(
            f"Composite schedule of connector {connector} for {label}",
            GetCompositeSchedule(
                charger_id=self._charger_id,
                connector_id=connector,
                duration_s=duration_s,
                unit=unit,
            ),
            then=lambda result: self._show_composite(result, duration_s),
        )

    def _show_composite(self, result: CommandResult, duration_s: int) -> None:
        payload = result.payload
        if isinstance(payload, CompositeSchedules):
            self.chart.show_schedules(payload, duration_s)
        else:
            self.chart.clear("No composite schedule: see the command's result above.")

    # ---- commands

    def _trigger(self, message: TriggerableMessage) -> None:
        self._submit(
            f"Trigger {message.value}",
            TriggerMessage(charger_id=self._charger_id, message=message),
            then=lambda _: QTimer.singleShot(500, self, self.refresh),
        )

    def _submit(
        self,
        action: str,
        command: Command,
        then: Callable[[CommandResult], None] | None = None,
    ) -> None:
        """Send ``command``; its progress and answer show on the result line."""
        answered = self.result_line.track(action)

        def on_result(result: CommandResult) -> None:
            answered(result)
            if then is not None:
                then(result)

        self._send(command, on_result)

    # ---- charger state (tags)

    def _on_data_changed(self, top_left: QModelIndex, bottom_right: QModelIndex) -> None:
        row = self._overview.row_of(self._charger_id)
        if row is not None and top_left.row() <= row <= bottom_right.row():
            self._show_state()

    def _show_state(self) -> None:
        state = self._overview.state(self._charger_id)
        if state is None:
            return
        self.header.set_state(state.comm, _subtitle(state))
        info = self.info
        show_identity(info, state)
        info["status"].setText(formatting.text(state.status))
        info["comm"].setText(comm_label(state.comm))
        set_emphasis(info["comm"], Emphasis.NORMAL if state.online else Emphasis.NOTABLE)
        if state.online:
            info["since"].setText(formatting.timestamp(state.last_connect))
        elif state.last_connect is not None:
            last = formatting.timestamp(state.last_connect)
            info["since"].setText(f"not connected (last connection {last})")
        else:
            info["since"].setText("not connected")
        info["remote"].setText(formatting.text(state.remote))
        info["last_seen"].setText(formatting.timestamp(state.last_seen))
        info["connects"].setText(formatting.count(state.connects))
        info["frames_received"].setText(formatting.count(state.frames_received))
        info["frames_sent"].setText(formatting.count(state.frames_sent))
        info["callerrors_received"].setText(formatting.count(state.callerrors_received))
        info["callerrors_sent"].setText(formatting.count(state.callerrors_sent))
        for key in ("callerrors_received", "callerrors_sent"):
            errors = getattr(state, key) or 0
            set_emphasis(info[key], Emphasis.NOTABLE if errors else Emphasis.NORMAL)
        info["firmware_status"].setText(formatting.text(state.firmware_status))
        info["diagnostics_status"].setText(formatting.text(state.diagnostics_status))
        version = state.local_list_version
        project = self._overview.project_list_version
        info["local_list"].setText(
            f"charger {formatting.list_version(version)} · project v{project}"
        )
        fill_connectors(self.composite_connector, len(state.connectors))
        self._online = state.online
        self._show_buttons()

    def _show_buttons(self) -> None:
        """Commands need the charger online and the user's permission (reads stay on)."""
        online = self._online
        self._gates.show(
            self._actor,
            {
                **dict.fromkeys(self.trigger_buttons.values(), online),
                self.set_profile: online,
                self.clear_selected: online and self.selected_profile_id() is not None,
                self.clear_all: online,
                self.get_composite: online,
            },
        )


def _profile_order(installed: InstalledProfile) -> tuple[int, int, int]:
    return (installed.connector_id, -installed.profile.stack_level, installed.profile.profile_id)


def _subtitle(state: ChargerState) -> str:
    parts = [p for p in (state.vendor, state.model) if p]
    if state.firmware:
        parts.append(f"firmware {state.firmware}")
    count = len(state.connectors)
    parts.append(f"{count} connector{'s' if count > 1 else ''}")
    return " · ".join(parts)
