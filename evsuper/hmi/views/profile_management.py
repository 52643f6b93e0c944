"""Charging profile management (RFP 6.1.2): every profile on every charger, its conflicts,
and the project's library of profile templates.

The window reads the engine every ``REFRESH_MS`` while shown (``profiles_snapshot``: the
profiles each charger accepted, the library, the allocator's stack level), checks the
profiles for conflicts (``evsuper.charging.conflicts``) and lists both; conflicting rows are
bold on a darker grey and selecting a conflict selects its rows. Templates are created and
edited with ``ChargingProfileDialog`` and saved at once (``SaveProfileLibrary``: each save a
version of the project); a template is uploaded to chosen chargers and connectors with
one ``SetChargingProfile`` each, every answer on its own line; profiles are cleared by id
after a confirmation. The window never touches the engine itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from evsuper.charging.conflicts import (
    Conflict,
    ProfileEntry,
    ProfileOrigin,
    after_upload,
    entries_of,
    find_conflicts,
    replaced_by,
)
from evsuper.charging.profiles import ChargingProfilePurpose, InstalledProfile
from evsuper.core.timeutil import utcnow
from evsuper.engine.commands import (
    ClearChargingProfile,
    Command,
    CommandResult,
    SaveProfileLibrary,
    SetChargingProfile,
)
from evsuper.hmi.bridge import CommandSender, EngineReader
from evsuper.hmi.dialogs.charger_maintenance import periods_summary
from evsuper.hmi.dialogs.charging_profile import ChargingProfileDialog
from evsuper.hmi.models.profiles import (
    ROW_ROLE,
    Column,
    InstalledProfilesModel,
    ProfileFilter,
    ProfileRow,
    kind_text,
    profile_rows,
)
from evsuper.hmi.theme import Emphasis, Palette, named_button, role_label, set_emphasis
from evsuper.hmi.widgets.command_result import CommandResultLine, SentCommand
from evsuper.hmi.widgets.permission_gate import PermissionGates
from evsuper.hmi.widgets.refresh import RefreshWhileShown
from evsuper.project.model import Project
from evsuper.project.profile_library import ProfileLibrary, ProfileTemplate
from evsuper.users.permissions import NOBODY, Actor

if TYPE_CHECKING:
    from evsuper.engine.runtime import Engine

REFRESH_MS = 2000
RECHECK = timedelta(minutes=1)  # unchanged profiles are checked again (one may expire)
ALL = ""  # the filters' "all" item data
EVERY_CONNECTOR = -1  # the upload dialog's "every connector" choice


@dataclass(frozen=True, slots=True)
class ProfilesSnapshot:
    """What the window reads from the engine, in one hop."""

    installed: dict[str, tuple[InstalledProfile, ...]]  # charger id → its profiles
    library: ProfileLibrary
    library_problem: str  # why charging_profiles.toml did not load; "" when it did
    allocator_stack_level: int
    allocator_enabled: bool


def profiles_snapshot(engine: Engine) -> ProfilesSnapshot:
    """The query (run on the engine thread) behind the window's refresh."""
    settings = engine.project.smart_charging
    return ProfilesSnapshot(
        installed={
            charger_id: tuple(held)
            for charger_id, held in engine.central.charging_profiles.items()
            if len(held)
        },
        library=engine.profile_library.library,
        library_problem=engine.profile_library.problem,
        allocator_stack_level=settings.stack_level,
        allocator_enabled=settings.enabled,
    )


def snapshot_entries(snapshot: ProfilesSnapshot) -> list[ProfileEntry]:
    """Every installed profile; the allocator's (by its stack levels) only while it runs."""
    level = snapshot.allocator_stack_level if snapshot.allocator_enabled else None
    return [
        entry
        for charger_id, installed in sorted(snapshot.installed.items())
        for entry in entries_of(charger_id, installed, level)
    ]


def upload_conflicts(
    entries: Sequence[ProfileEntry], upload: ProfileEntry, allocator_stack_level: int
) -> list[Conflict]:
    """The conflicts ``upload`` would bring to its charger, new ones only."""
    now = utcnow()
    mine = [e for e in entries if e.charger_id == upload.charger_id]
    before = {c.message for c in find_conflicts(mine, now, allocator_stack_level)}
    after = find_conflicts(after_upload(mine, upload), now, allocator_stack_level)
    return [
        c
        for c in after
        if c.message not in before and c.involves(upload.charger_id, upload.profile.profile_id)
    ]


def calm_selection(view: QAbstractItemView) -> None:
    """Item views on the tile grey with a dark grey selection, not the platform's hue."""
    palette = view.palette()
    palette.setColor(QPalette.ColorRole.Base, Palette.TILE)
    palette.setColor(QPalette.ColorRole.Highlight, Palette.BAR_FILL)
    palette.setColor(QPalette.ColorRole.HighlightedText, Palette.TILE)
    view.setPalette(palette)


class UploadDialog(QDialog):
    """Where a template goes: chargers (checked) and a connector; the conflicts it would
    bring are listed before anything is sent."""

    def __init__(
        self,
        template: ProfileTemplate,
        project: Project,
        chargers: Sequence[str],
        entries: Sequence[ProfileEntry],
        allocator_stack_level: int,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("uploadProfileDialog")
        self.setWindowTitle(f"Upload {template.name}")
        self.setMinimumSize(620, 480)
        self.template = template
        self._entries = list(entries)
        self._level = allocator_stack_level
        self._connectors = {c.id: c.connectors for c in project.chargers}
        profile = template.profile

        self.chargers = QListWidget()
        self.chargers.setObjectName("uploadChargers")
        calm_selection(self.chargers)
        for charger_id in chargers:
            item = QListWidgetItem(charger_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.chargers.addItem(item)
        self.connector = QComboBox()
        self.connector.setObjectName("uploadConnector")
        most = max(self._connectors.values(), default=1)
        if profile.purpose is ChargingProfilePurpose.CHARGE_POINT_MAX:
            self.connector.addItem("0 (whole charger)", 0)
            self.connector.setEnabled(False)
        else:
            if profile.purpose is ChargingProfilePurpose.TX_DEFAULT:
                self.connector.addItem("0 (every connector, one profile)", 0)
            for n in range(1, most + 1):
                self.connector.addItem(str(n), n)
            self.connector.addItem("Each connector", EVERY_CONNECTOR)
        self.conflicts = QListWidget()
        self.conflicts.setObjectName("uploadConflicts")
        calm_selection(self.conflicts)
        self.conflicts.setWordWrap(True)
        self.conflicts.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.verdict = role_label("caption")
        self.verdict.setObjectName("uploadVerdict")
        self.verdict.setWordWrap(True)
        self.verdict.setMinimumHeight(2 * self.verdict.fontMetrics().lineSpacing() + 4)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.confirm = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.confirm.setText("Upload")
        self.confirm.setObjectName("uploadConfirm")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(8)
        layout.addWidget(role_label("title", f"Upload {template.name}"))
        layout.addWidget(
            role_label(
                "subtitle",
                f"Profile {profile.profile_id} · {profile.purpose.value} · stack level "
                f"{profile.stack_level} · {kind_text(profile)} · "
                f"{periods_summary(InstalledProfile(0, profile))}",
            )
        )
        if profile.purpose is ChargingProfilePurpose.TX:
            note = role_label(
                "caption", "A TxProfile goes to the transaction running on the connector."
            )
            layout.addWidget(note)
        row = QHBoxLayout()
        row.addWidget(role_label("caption", "Connector"))
        row.addWidget(self.connector, 1)
        layout.addLayout(row)
        layout.addWidget(role_label("section", "Chargers"))
        layout.addWidget(self.chargers, 2)
        layout.addWidget(role_label("section", "What the upload would replace and bring"))
        layout.addWidget(self.conflicts, 1)
        layout.addWidget(self.verdict)
        layout.addWidget(buttons)
        self.chargers.itemChanged.connect(self._check)
        self.connector.currentIndexChanged.connect(self._check)
        self._check()

    def check(self, charger_id: str, checked: bool = True) -> None:
        items = self.chargers.findItems(charger_id, Qt.MatchFlag.MatchExactly)
        for item in items:
            state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
            item.setCheckState(state)

    def targets(self) -> list[tuple[str, int]]:
        """(charger, connector) pairs chosen, in list order."""
        chosen = self.connector.currentData()
        result = []
        for row in range(self.chargers.count()):
            item = self.chargers.item(row)
            if item.checkState() is not Qt.CheckState.Checked:
                continue
            charger_id = item.text()
            if chosen == EVERY_CONNECTOR:
                count = self._connectors.get(charger_id, 1)
                result += [(charger_id, n) for n in range(1, count + 1)]
            elif chosen <= self._connectors.get(charger_id, 1):
                result.append((charger_id, chosen))
        return result

    def _check(self) -> None:
        targets = self.targets()
        self.conflicts.clear()
        replacing = 0
        for charger_id, connector in targets:
            upload = ProfileEntry(charger_id, connector, self.template.profile)
            for conflict in upload_conflicts(self._entries, upload, self._level):
                self.conflicts.addItem(conflict.message)
            for old in replaced_by(self._entries, upload):
                replacing += 1
                self.conflicts.addItem(
                    f"{charger_id} connector {old.connector_id}: replaces the "
                    f"{old.origin.value}'s {old.profile.purpose.value} "
                    f"{old.profile.profile_id} at stack level {old.profile.stack_level}"
                )
        conflicts = self.conflicts.count() - replacing
        if not targets:
            self.verdict.setText("Check the chargers to upload to.")
            set_emphasis(self.verdict, Emphasis.NORMAL)
        elif conflicts:
            self.verdict.setText(
                f"{len(targets)} connector(s), {conflicts} conflict(s): upload anyway, or "
                "cancel and change the template."
            )
            set_emphasis(self.verdict, Emphasis.NOTABLE)
        else:
            replaces = f", {replacing} profile(s) replaced" if replacing else ""
            self.verdict.setText(f"{len(targets)} connector(s); no conflict{replaces}.")
            set_emphasis(self.verdict, Emphasis.NORMAL)
        self.confirm.setEnabled(bool(targets))


class ProfileManagementView(QWidget):
    """One window, reused (the main window keeps it)."""

    def __init__(
        self,
        project: Project,
        send: CommandSender,
        read: EngineReader,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("profileManagement")
        self.setWindowTitle(f"{project.name} — Charging profiles")
        self.resize(1300, 820)
        self._project = project
        self._send = send
        self._read = read
        self._reading = False
        self._actor = NOBODY
        self._sites = {c.id: (s.id if (s := project.site_of(c)) else "") for c in project.chargers}
        self.snapshot: ProfilesSnapshot | None = None
        self.entries: list[ProfileEntry] = []
        self.conflicts: list[Conflict] = []
        self.template_dialog: ChargingProfileDialog | None = None
        self.upload_dialog: UploadDialog | None = None
        self.clear_box: QMessageBox | None = None
        self._pending_uploads = 0
        self._checked_at = utcnow()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(6)
        layout.addWidget(role_label("title", "Charging profiles"))
        layout.addWidget(
            role_label(
                "subtitle",
                "Every profile the chargers accepted, their conflicts, and the project's "
                "library of profile templates",
            )
        )
        self.result_line = CommandResultLine("No command sent from this window yet.")
        layout.addWidget(self.result_line)
        self.read_problem = role_label("caption")
        self.read_problem.setObjectName("readProblem")
        self.read_problem.setWordWrap(True)
        self.read_problem.hide()
        layout.addWidget(self.read_problem)

        layout.addLayout(self._filter_bar())
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self._installed_panel())
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self._conflicts_panel())
        bottom.addWidget(self._library_panel())
        bottom.setStretchFactor(0, 3)
        bottom.setStretchFactor(1, 2)
        split.addWidget(bottom)
        split.addWidget(self._results_panel())
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setStretchFactor(2, 1)
        layout.addWidget(split, 1)

        self._gates = PermissionGates(
            {
                self.clear_selected: ClearChargingProfile.permission,
                self.copy_to_library: SaveProfileLibrary.permission,
                self.new_template: SaveProfileLibrary.permission,
                self.edit_template: SaveProfileLibrary.permission,
                self.delete_template: SaveProfileLibrary.permission,
                self.upload: SetChargingProfile.permission,
            }
        )
        self.refresher = RefreshWhileShown(self, self.refresh, REFRESH_MS)
        self._show_buttons()

    # ---- panels

    def _filter_bar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.setSpacing(6)
        self.site = QComboBox()
        self.site.setObjectName("profileSite")
        self.site.addItem("All sites", ALL)
        for site in self._project.sites:
            self.site.addItem(site.name or site.id, site.id)
        self.site.setVisible(len(self._project.sites) > 1)
        self.charger = QComboBox()
        self.charger.setObjectName("profileCharger")
        self._fill_chargers()
        self.conflicts_only = QCheckBox("Conflicts only")
        self.conflicts_only.setObjectName("conflictsOnly")
        self.count = role_label("caption")
        self.count.setObjectName("profileCount")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("profileRefresh")
        self.refresh_button.setToolTip(
            f"Read now (the list refreshes every {REFRESH_MS // 1000} s)"
        )
        bar.addWidget(self.site)
        bar.addWidget(self.charger)
        bar.addWidget(self.conflicts_only)
        bar.addStretch(1)
        bar.addWidget(self.count)
        bar.addWidget(self.refresh_button)
        self.site.currentIndexChanged.connect(self._site_changed)
        self.charger.currentIndexChanged.connect(self._filter_changed)
        self.conflicts_only.toggled.connect(self._filter_changed)
        self.refresh_button.clicked.connect(self.refresh)
        return bar

    def _installed_panel(self) -> QWidget:
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.model = InstalledProfilesModel(self)
        self.filter = ProfileFilter(self)
        self.filter.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setObjectName("installedProfiles")
        calm_selection(self.table)
        self.table.setModel(self.filter)
        self.table.setWordWrap(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        for column in Column:
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(Column.PERIODS, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        self.clear_selected = named_button(
            "clearProfiles", "Clear selected…", "ClearChargingProfile of each selected profile"
        )
        self.copy_to_library = named_button(
            "copyToLibrary", "Copy to library…", "A new template from the selected profile"
        )
        buttons.addWidget(self.clear_selected)
        buttons.addWidget(self.copy_to_library)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.clear_selected.clicked.connect(self._confirm_clear)
        self.copy_to_library.clicked.connect(self._copy_to_library)
        self.table.selectionModel().selectionChanged.connect(self._show_buttons)
        return panel

    def _conflicts_panel(self) -> QWidget:
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(4)
        self.conflicts_title = role_label("section", "Conflicts")
        layout.addWidget(self.conflicts_title)
        self.conflict_list = QListWidget()
        self.conflict_list.setObjectName("profileConflicts")
        calm_selection(self.conflict_list)
        self.conflict_list.setWordWrap(True)
        layout.addWidget(self.conflict_list, 1)
        self.conflict_list.currentRowChanged.connect(self._select_conflict_rows)
        return panel

    def _library_panel(self) -> QWidget:
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(role_label("section", "Library (charging_profiles.toml)"))
        self.library_problem = role_label("caption")
        self.library_problem.setObjectName("libraryProblem")
        self.library_problem.setWordWrap(True)
        self.library_problem.hide()
        layout.addWidget(self.library_problem)
        self.templates = QListWidget()
        self.templates.setObjectName("profileTemplates")
        calm_selection(self.templates)
        layout.addWidget(self.templates, 1)
        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        self.new_template = named_button("newTemplate", "New…", "A new profile template")
        self.edit_template = named_button("editTemplate", "Edit…", "Change the template")
        self.delete_template = named_button(
            "deleteTemplate", "Delete", "Remove the template (the project history keeps it)"
        )
        self.upload = named_button(
            "uploadTemplate", "Upload…", "SetChargingProfile of the template on chosen chargers"
        )
        for button in (self.new_template, self.edit_template, self.delete_template):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.upload)
        layout.addLayout(buttons)
        self.new_template.clicked.connect(lambda: self._open_template(None))
        self.edit_template.clicked.connect(lambda: self._open_template(self.selected_template()))
        self.delete_template.clicked.connect(self._delete_template)
        self.upload.clicked.connect(self._open_upload)
        self.templates.currentRowChanged.connect(self._show_buttons)
        self.templates.itemDoubleClicked.connect(
            lambda _: self._open_template(self.selected_template())
        )
        return panel

    def _results_panel(self) -> QWidget:
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(2)
        self.results_title = role_label("section", "Answers per charger")
        layout.addWidget(self.results_title)
        self.results = QWidget()
        self.results.setObjectName("chargerResults")
        palette = self.results.palette()
        palette.setColor(QPalette.ColorRole.Window, Palette.PANEL)
        self.results.setPalette(palette)
        self.results.setAutoFillBackground(True)
        self._result_layout = QVBoxLayout(self.results)
        self._result_layout.setContentsMargins(4, 2, 4, 2)
        self._result_layout.setSpacing(2)
        self._result_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.results)
        layout.addWidget(scroll, 1)
        self.result_lines: dict[tuple[str, int], CommandResultLine] = {}
        return panel

    # ---- filters

    def _fill_chargers(self) -> None:
        site = self.site.currentData() or ALL
        self.charger.blockSignals(True)
        chosen = self.charger.currentData()
        self.charger.clear()
        self.charger.addItem("All chargers", ALL)
        for charger in self._project.chargers:
            if site == ALL or self._sites.get(charger.id) == site:
                self.charger.addItem(charger.id, charger.id)
        index = self.charger.findData(chosen)
        self.charger.setCurrentIndex(max(index, 0))
        self.charger.blockSignals(False)

    def _site_changed(self) -> None:
        self._fill_chargers()
        self._filter_changed()

    def _filter_changed(self) -> None:
        self.filter.set_filter(
            self.site.currentData() or ALL,
            self.charger.currentData() or ALL,
            self.conflicts_only.isChecked(),
        )
        self._show_conflicts()
        self._show_count()

    def _shown(self, conflict: Conflict) -> bool:
        site, charger = self.site.currentData() or ALL, self.charger.currentData() or ALL
        return (site == ALL or self._sites.get(conflict.charger_id) == site) and (
            charger == ALL or conflict.charger_id == charger
        )

    def _show_count(self) -> None:
        shown, total = self.filter.rowCount(), self.model.rowCount()
        chargers = len({e.charger_id for e in self.entries})
        text = f"{total} profiles on {chargers} chargers"
        if shown != total:
            text = f"{shown} of {text}"
        self.count.setText(text)

    # ---- engine reads

    def refresh(self) -> None:
        """Read the installed profiles and the library again (one read at a time)."""
        if self._reading:
            return
        self._reading = True
        self._read(profiles_snapshot, self._on_snapshot, self._on_read_failed)

    def _on_read_failed(self, reason: str) -> None:
        self._reading = False
        self.read_problem.setText(f"Could not read the engine: {reason}")
        set_emphasis(self.read_problem, Emphasis.NOTABLE)
        self.read_problem.show()

    def _on_snapshot(self, snapshot: ProfilesSnapshot) -> None:
        self._reading = False
        self.read_problem.hide()
        previous, self.snapshot = self.snapshot, snapshot
        if previous is None or previous.library != snapshot.library:
            self._show_library(snapshot.library)
        self.library_problem.setText(f"The library file did not load: {snapshot.library_problem}")
        set_emphasis(self.library_problem, Emphasis.NOTABLE)
        self.library_problem.setVisible(bool(snapshot.library_problem))
        now = utcnow()
        unchanged = previous is not None and previous.installed == snapshot.installed
        if unchanged and now - self._checked_at < RECHECK:
            return
        self._checked_at = now
        self.entries = snapshot_entries(snapshot)
        self.conflicts = find_conflicts(self.entries, now, snapshot.allocator_stack_level)
        selected = self.selected_rows()
        self.model.set_rows(profile_rows(self.entries, self.conflicts, self._sites))
        self._reselect(selected)
        self._show_conflicts()
        self._show_count()
        self._show_buttons()

    # ---- installed profiles and conflicts

    def selected_rows(self) -> list[ProfileRow]:
        rows = self.table.selectionModel().selectedRows()
        result = []
        for index in sorted(rows, key=lambda i: i.row()):
            row = index.data(ROW_ROLE)
            if isinstance(row, ProfileRow):
                result.append(row)
        return result

    def _reselect(self, rows: list[ProfileRow]) -> None:
        keys = {(r.charger_id, r.connector_id, r.profile.profile_id) for r in rows}
        self._select(lambda r: (r.charger_id, r.connector_id, r.profile.profile_id) in keys)

    def _select(self, wanted: Callable[[ProfileRow], bool]) -> None:
        selection = QItemSelection()
        for proxy_row in range(self.filter.rowCount()):
            index = self.filter.index(proxy_row, 0)
            row = index.data(ROW_ROLE)
            if isinstance(row, ProfileRow) and wanted(row):
                last = self.filter.index(proxy_row, self.filter.columnCount() - 1)
                selection.select(index, last)
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        self.table.selectionModel().select(selection, flags)
        if selection.indexes():
            self.table.scrollTo(selection.indexes()[0])

    def _show_conflicts(self) -> None:
        shown = [c for c in self.conflicts if self._shown(c)]
        self.conflict_list.blockSignals(True)
        self.conflict_list.clear()
        for conflict in shown:
            item = QListWidgetItem(conflict.message)
            item.setData(Qt.ItemDataRole.UserRole, conflict)
            item.setToolTip(conflict.kind.value)
            self.conflict_list.addItem(item)
        self.conflict_list.blockSignals(False)
        title = f"Conflicts ({len(shown)})" if shown else "Conflicts: none"
        self.conflicts_title.setText(title)

    def _select_conflict_rows(self, row: int) -> None:
        item = self.conflict_list.item(row)
        if item is None:
            return
        conflict = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(conflict, Conflict):
            self._select(lambda r: conflict in r.conflicts)

    # ---- clearing

    def _confirm_clear(self) -> None:
        rows = self.selected_rows()
        if not rows:
            return
        if self.clear_box is not None:
            self.clear_box.deleteLater()
        listed = "\n".join(
            f"{r.charger_id} connector {r.connector_id}: profile {r.profile.profile_id} "
            f"({r.profile.purpose.value}, stack level {r.profile.stack_level})"
            for r in rows[:12]
        )
        if len(rows) > 12:
            listed += f"\n… and {len(rows) - 12} more"
        allocators = any(r.entry.origin is ProfileOrigin.ALLOCATOR for r in rows)
        after = (
            "The allocator sends its own again at its next allocation."
            if allocators
            else "Without them the chargers follow their other profiles, or their maximum."
        )
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Clear charging profiles",
            f"Clear {len(rows)} charging profile(s)?\n\n{listed}\n\n{after}",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("clearProfilesBox")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        yes = box.button(QMessageBox.StandardButton.Yes)
        yes.setText("Clear")
        yes.clicked.connect(lambda: self.clear_profiles(rows))
        self.clear_box = box
        box.open()

    def clear_profiles(self, rows: Sequence[ProfileRow]) -> None:
        """ClearChargingProfile of each row's profile id, each answer on its line."""
        self._start_results("Clear")
        for row in rows:
            profile_id = row.profile.profile_id
            self._send_to(
                row.charger_id,
                row.connector_id,
                f"Clear profile {profile_id}",
                ClearChargingProfile(charger_id=row.charger_id, profile_id=profile_id),
            )

    # ---- the library

    def library(self) -> ProfileLibrary:
        return self.snapshot.library if self.snapshot is not None else ProfileLibrary()

    def _show_library(self, library: ProfileLibrary) -> None:
        chosen = self.selected_template()
        self.templates.blockSignals(True)
        self.templates.clear()
        for template in library.templates:
            profile = template.profile
            item = QListWidgetItem(
                f"{template.name} — {profile.purpose.value}, stack {profile.stack_level}, "
                f"{periods_summary(InstalledProfile(0, profile))}"
            )
            item.setData(Qt.ItemDataRole.UserRole, template.name)
            item.setToolTip(template.description or template.name)
            self.templates.addItem(item)
            if chosen is not None and template.name == chosen.name:
                self.templates.setCurrentItem(item)
        self.templates.blockSignals(False)
        self._show_buttons()

    def selected_template(self) -> ProfileTemplate | None:
        item = self.templates.currentItem()
        if item is None:
            return None
        return self.library().get(str(item.data(Qt.ItemDataRole.UserRole)))

    def select_template(self, name: str) -> None:
        for row in range(self.templates.count()):
            if self.templates.item(row).data(Qt.ItemDataRole.UserRole) == name:
                self.templates.setCurrentRow(row)

    def _next_profile_id(self) -> int:
        ids = [t.profile.profile_id for t in self.library().templates]
        ids += [e.profile.profile_id for e in self.entries]
        return max(ids, default=0) + 1

    def _open_template(self, template: ProfileTemplate | None) -> ChargingProfileDialog:
        """The editor of ``template`` (None: a new one); saved into the library on OK."""
        if self.template_dialog is not None:
            self.template_dialog.deleteLater()
        names = [t.name for t in self.library().templates]
        dialog = ChargingProfileDialog(
            "", 1, self._next_profile_id(), self, template=template, taken_names=names
        )
        replacing = template.name if template is not None else ""
        dialog.accepted.connect(lambda: self._save_template(dialog, replacing))
        self.template_dialog = dialog
        dialog.open()
        return dialog

    def _copy_to_library(self) -> None:
        rows = self.selected_rows()
        if not rows:
            return
        row = rows[0]
        dialog = self._open_template(None)
        dialog.load(row.profile)
        dialog.name.setText(f"{row.charger_id} profile {row.profile.profile_id}")

    def _save_template(self, dialog: ChargingProfileDialog, replacing: str) -> None:
        try:
            template = dialog.chosen_template()
        except ValueError:  # OK is off while invalid
            return
        verb = "changed" if replacing else "added"
        self.save_library(
            self.library().with_template(template, replacing=replacing),
            f"template {template.name!r} {verb}",
        )

    def _delete_template(self) -> None:
        template = self.selected_template()
        if template is not None:
            self.save_library(
                self.library().without(template.name), f"template {template.name!r} removed"
            )

    def save_library(self, library: ProfileLibrary, summary: str) -> None:
        self._submit(
            f"Save library: {summary}",
            SaveProfileLibrary(library=library, summary=summary),
        )

    # ---- uploading

    def _open_upload(self) -> None:
        template = self.selected_template()
        snapshot = self.snapshot
        if template is None or snapshot is None:
            return
        if self.upload_dialog is not None:
            self.upload_dialog.deleteLater()
        site = self.site.currentData() or ALL
        chargers = [
            c.id for c in self._project.chargers if site == ALL or self._sites.get(c.id) == site
        ]
        dialog = UploadDialog(
            template,
            self._project,
            chargers,
            self.entries,
            snapshot.allocator_stack_level,
            self,
        )
        for row in self.selected_rows():
            dialog.check(row.charger_id)
        dialog.accepted.connect(lambda: self.upload_template(template, dialog.targets()))
        self.upload_dialog = dialog
        dialog.open()

    def upload_template(
        self, template: ProfileTemplate, targets: Sequence[tuple[str, int]]
    ) -> None:
        """SetChargingProfile of ``template`` on each (charger, connector)."""
        self._start_results(f"Upload {template.name}")
        profile = template.profile
        for charger_id, connector in targets:
            self._send_to(
                charger_id,
                connector,
                f"Set profile {profile.profile_id} ({profile.purpose.value})",
                SetChargingProfile(charger_id=charger_id, connector_id=connector, profile=profile),
            )

    # ---- commands and their answers

    def _start_results(self, title: str) -> None:
        for line in self.result_lines.values():
            line.deleteLater()
        self.result_lines = {}
        self.results_title.setText(f"Answers per charger: {title}")

    def _send_to(self, charger_id: str, connector: int, action: str, command: Command) -> None:
        """Send ``command``; its answer shows on its own line, then the list is read again."""
        line = CommandResultLine("")
        line.setObjectName(f"result_{charger_id}_{connector}")
        self._result_layout.insertWidget(self._result_layout.count() - 1, line)
        self.result_lines[(charger_id, connector)] = line
        sent = SentCommand(f"{charger_id} connector {connector}: {action}", utcnow())
        line.show_sent(sent)
        self._pending_uploads += 1

        def on_result(result: CommandResult) -> None:
            line.show_sent(sent.answered(result))
            self._pending_uploads -= 1
            if self._pending_uploads == 0:
                self.refresh()

        self._send(command, on_result)

    def _submit(self, action: str, command: Command) -> None:
        sent = SentCommand(action, utcnow())

        def on_result(result: CommandResult) -> None:
            self.result_line.show_sent(sent.answered(result))
            self.refresh()

        self._send(command, on_result)
        self.result_line.show_sent(sent)

    # ---- permissions

    def set_actor(self, actor: Actor) -> None:
        """Who uses the HMI now: what they may not do is off, with the reason."""
        self._actor = actor
        self._show_buttons()

    def _show_buttons(self, *_: object) -> None:
        rows = bool(self.table.selectionModel().selectedRows())
        template = self.templates.currentItem() is not None
        self._gates.show(
            self._actor,
            {
                self.clear_selected: rows,
                self.copy_to_library: rows,
                self.new_template: self.snapshot is not None,
                self.edit_template: template,
                self.delete_template: template,
                self.upload: template and self.snapshot is not None,
            },
        )
