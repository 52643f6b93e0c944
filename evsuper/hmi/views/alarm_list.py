"""The alarm list window: filter, sort, acknowledge, reset, shelve, take out of service.

Two tabs: the alarms that need the operator (ISA-18.2 states B to E) and those set aside
(shelved, suppressed by design, out of service). Unacknowledged alarms blink — only their
priority symbol, following the model's one shared phase —; acknowledged ones are steady;
an alarm that returned to normal unacknowledged is written grey and italic.

Every action is a command (``evsuper.engine.commands``) sent through ``send``; its answer
is shown on the result line. Buttons are on only for a selection they apply to and a user
who may use them. Export writes the alarms shown, in the shown order (``widgets/export.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTabBar,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from evsuper.alarms.model import AlarmRecord, AlarmState, Category, Priority
from evsuper.engine.commands import (
    AcknowledgeAlarms,
    AlarmCommand,
    ResetAlarms,
    SetAlarmsInService,
    ShelveAlarms,
    UnshelveAlarms,
)
from evsuper.hmi.bridge import CommandSender
from evsuper.hmi.library.alarm_glyph import paint_priority_glyph, priority_pixmap
from evsuper.hmi.models.alarms import (
    NEEDS_ACTION,
    RECORD_ROLE,
    SET_ASIDE,
    STATE_LABELS,
    AlarmFilterProxy,
    AlarmListModel,
    Column,
)
from evsuper.hmi.models.table import Index
from evsuper.hmi.theme import Palette, font, named_button, priority_style, role_label
from evsuper.hmi.widgets.command_result import CommandResultLine
from evsuper.hmi.widgets.export import ExportControl, ExportTable
from evsuper.hmi.widgets.permission_gate import PermissionGates
from evsuper.reports.alarms import ALARM_LIST_HEADERS, alarm_list_rows
from evsuper.users.permissions import NOBODY, Actor, Permission

Confirm = Callable[[str], bool]

NEEDS_ACTION_TAB = 0
SET_ASIDE_TAB = 1
_TAB_STATES = {NEEDS_ACTION_TAB: NEEDS_ACTION, SET_ASIDE_TAB: SET_ASIDE}
SYSTEM_SOURCE = "System (no charger)"


def glyph_filled(record: AlarmRecord, blink_on: bool) -> bool:
    """Unacknowledged alarms follow the blink phase; the others are drawn steady."""
    return blink_on or not record.state.unacknowledged


def common_charger(records: Iterable[AlarmRecord]) -> str:
    """The charger all ``records`` belong to, else "" (what an alarm command names)."""
    chargers = {r.charger_id for r in records}
    if len(chargers) == 1:
        (charger,) = chargers
        return charger or ""
    return ""


class AlarmDelegate(QStyledItemDelegate):
    """Draws the priority cell: symbol (blinking while unacknowledged) and label."""

    GLYPH = 16

    def __init__(self, model: AlarmListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self._bold = font(9.5, bold=True)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        if index.column() != Column.PRIORITY:
            super().paint(painter, option, index)
            return
        record: AlarmRecord = index.data(RECORD_ROLE)
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        rect = QRectF(opt.rect)
        glyph = QRectF(rect.left() + 4, rect.center().y() - self.GLYPH / 2, self.GLYPH, self.GLYPH)
        filled = glyph_filled(record, self._model.blink_on)
        paint_priority_glyph(painter, glyph, record.priority, filled=filled)
        painter.save()
        unacknowledged = record.state.unacknowledged
        painter.setFont(self._bold if unacknowledged else opt.font)
        muted = record.state is AlarmState.RTN_UNACKNOWLEDGED
        painter.setPen(Palette.TEXT_MUTED if muted else Palette.TEXT)
        text = rect.adjusted(glyph.width() + 10, 0, -2, 0)
        painter.drawText(
            text,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            priority_style(record.priority).label,
        )
        painter.restore()


class ShelveDialog(QDialog):
    """How long to shelve and why (the reason is required)."""

    DURATIONS: tuple[tuple[str, float | None], ...] = (
        ("15 minutes", 15 * 60.0),
        ("1 hour", 3600.0),
        ("8 hours", 8 * 3600.0),
        ("Until it clears (one-shot)", None),
    )

    def __init__(self, count: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Shelve alarms")
        self.setObjectName("shelveDialog")
        layout = QVBoxLayout(self)
        noun = "alarm" if count == 1 else "alarms"
        intro = QLabel(
            f"Shelve {count} {noun}: hidden from the list and silent for a while; "
            "they come back by themselves."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addWidget(role_label("section", "For"))
        self._group = QButtonGroup(self)
        self.duration_buttons: list[QRadioButton] = []
        for i, (label, _seconds) in enumerate(self.DURATIONS):
            button = QRadioButton(label)
            button.setObjectName(f"shelveDuration{i}")
            self._group.addButton(button, i)
            self.duration_buttons.append(button)
            layout.addWidget(button)
        self.duration_buttons[0].setChecked(True)
        layout.addWidget(role_label("section", "Reason (required)"))
        self.reason = QLineEdit()
        self.reason.setObjectName("shelveReason")
        self.reason.setPlaceholderText("e.g. sensor replaced tomorrow, ticket 1234")
        layout.addWidget(self.reason)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Shelve")
        self.ok.setEnabled(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.reason.textChanged.connect(lambda text: self.ok.setEnabled(bool(text.strip())))
        self.setMinimumWidth(420)

    @property
    def duration_s(self) -> float | None:
        return self.DURATIONS[max(self._group.checkedId(), 0)][1]

    @property
    def duration_label(self) -> str:
        return self.DURATIONS[max(self._group.checkedId(), 0)][0]

    def choose(self, index: int) -> None:
        self.duration_buttons[index].setChecked(True)


class AlarmListWindow(QWidget):
    """The alarm list; ``chargerRequested`` asks the main window to show a charger."""

    chargerRequested = Signal(str)

    def __init__(
        self,
        model: AlarmListModel,
        send: CommandSender,
        chargers: Sequence[str] = (),
        parent: QWidget | None = None,
        *,
        confirm: Confirm | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Alarms")
        self.setObjectName("alarmList")
        self.resize(1400, 640)
        self._model = model
        self._send = send
        self._confirm = confirm or self._ask
        self._actor = NOBODY
        self.shelve_dialog: ShelveDialog | None = None
        self.proxy = AlarmFilterProxy(model, self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 10)
        layout.setSpacing(6)

        self.tabs = QTabBar()
        self.tabs.setObjectName("alarmTabs")
        self.tabs.setExpanding(False)
        self.tabs.setDrawBase(False)
        self.tabs.addTab("Needs action")
        self.tabs.addTab("Shelved · suppressed · out of service")
        layout.addWidget(self.tabs)
        layout.addLayout(self._filter_bar(chargers))

        self.table = QTableView()
        self.table.setObjectName("alarmTable")
        self.table.setModel(self.proxy)
        self.table.setItemDelegate(AlarmDelegate(model, self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        rows = self.table.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        for column, width in (
            (Column.PRIORITY, 96),
            (Column.STATE, 130),
            (Column.ACTIVATED, 160),
            (Column.SOURCE, 110),
            (Column.MESSAGE, 280),
            (Column.VALUE, 80),
            (Column.CATEGORY, 110),
            (Column.ACKNOWLEDGED_BY, 80),
            (Column.COMMENT, 120),
        ):
            header.resizeSection(column, width)
        self.table.setSortingEnabled(True)
        self.sort_by_urgency()  # after setSortingEnabled, which sorts by a column
        layout.addWidget(self.table, 1)

        layout.addLayout(self._action_bar())
        self.result = CommandResultLine("No alarm command sent yet.")
        bottom = QHBoxLayout()
        bottom.addWidget(self.result, 1)
        bottom.addWidget(self.exporter)
        layout.addLayout(bottom)

        self._gates = PermissionGates(
            {
                self.acknowledge: AcknowledgeAlarms.permission,
                self.acknowledge_all: AcknowledgeAlarms.permission,
                self.comment: AcknowledgeAlarms.permission,
                self.reset_latched: ResetAlarms.permission,
                self.shelve: ShelveAlarms.permission,
                self.unshelve: UnshelveAlarms.permission,
                self.remove_from_service: SetAlarmsInService.permission,
                self.return_to_service: SetAlarmsInService.permission,
                self.go_to_charger: Permission.VIEW,
            }
        )

        self.tabs.currentChanged.connect(self._on_tab)
        self.table.selectionModel().selectionChanged.connect(self._refresh)
        self.table.doubleClicked.connect(lambda _index: self._go_to_charger())
        self.proxy.modelReset.connect(self._refresh)
        model.changed.connect(self._on_model_changed)
        model.blinkChanged.connect(self._on_blink)
        self._on_model_changed()

    # ---- construction

    def _filter_bar(self, chargers: Sequence[str]) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.setSpacing(6)
        bar.addWidget(role_label("caption", "Priority"))
        self.priority_buttons: dict[Priority, QToolButton] = {}
        for priority in Priority:
            button = QToolButton()
            button.setObjectName(f"priorityFilter{int(priority)}")
            button.setProperty("role", "filterToggle")
            button.setCheckable(True)
            button.setChecked(True)
            button.setText(priority_style(priority).label)
            button.setIcon(QIcon(priority_pixmap(priority, QSize(16, 16))))
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setToolTip(f"Show {priority.label.lower()} alarms")
            button.toggled.connect(self._on_priorities)
            self.priority_buttons[priority] = button
            bar.addWidget(button)
        bar.addSpacing(8)
        self.state_filter = QComboBox()
        self.state_filter.setObjectName("stateFilter")
        self.state_filter.currentIndexChanged.connect(self._on_state)
        bar.addWidget(self.state_filter)
        self.category_filter = QComboBox()
        self.category_filter.setObjectName("categoryFilter")
        self.category_filter.addItem("All categories", None)
        for category in Category:
            self.category_filter.addItem(category.value, category)
        self.category_filter.currentIndexChanged.connect(self._on_category)
        bar.addWidget(self.category_filter)
        self.charger_filter = QComboBox()
        self.charger_filter.setObjectName("chargerFilter")
        self.charger_filter.addItem("All sources", None)
        self.charger_filter.addItem(SYSTEM_SOURCE, "")
        for charger in chargers:
            self.charger_filter.addItem(charger, charger)
        self.charger_filter.currentIndexChanged.connect(self._on_charger)
        bar.addWidget(self.charger_filter)
        self.text_filter = QLineEdit()
        self.text_filter.setObjectName("textFilter")
        self.text_filter.setPlaceholderText("Search message, source, value, comment…")
        self.text_filter.setClearButtonEnabled(True)
        self.text_filter.textChanged.connect(self._on_text)
        bar.addWidget(self.text_filter, 1)
        self.default_order = QPushButton("Default order")
        self.default_order.setObjectName("defaultOrder")
        self.default_order.setToolTip("Unacknowledged first, then priority, then newest")
        self.default_order.clicked.connect(self.sort_by_urgency)
        bar.addWidget(self.default_order)
        self.exporter = ExportControl("alarmList", "alarms", "alarms", self._export_table, self)
        bar.addWidget(self.exporter.button)
        self.shown = role_label("caption")
        self.shown.setObjectName("alarmsShown")
        bar.addWidget(self.shown)
        self._fill_states(NEEDS_ACTION_TAB)
        return bar

    def _action_bar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.setSpacing(6)
        self.comment = QLineEdit()
        self.comment.setObjectName("ackComment")
        self.comment.setPlaceholderText("Comment for the acknowledgement (optional)")
        self.comment.setToolTip("Stored with the acknowledgement in the alarm journal")
        bar.addWidget(self.comment, 1)
        self.acknowledge = named_button("acknowledge", "Acknowledge", "Acknowledge the selection")
        self.acknowledge_all = named_button(
            "acknowledgeAll", "Acknowledge all visible…", "Every unacknowledged alarm shown"
        )
        self.reset_latched = named_button(
            "resetLatched", "Reset latched", "Reset the selected latched alarms that cleared"
        )
        self.shelve = named_button("shelve", "Shelve…", "Hide the selection for a while")
        self.unshelve = named_button("unshelve", "Unshelve", "Bring shelved alarms back")
        self.remove_from_service = named_button(
            "removeFromService", "Remove from service", "Maintenance: the alarm stays off"
        )
        self.return_to_service = named_button(
            "returnToService", "Return to service", "The alarm is evaluated again"
        )
        self.go_to_charger = named_button(
            "goToCharger", "Go to charger", "Show the charger of the selected alarm"
        )
        for button in (
            self.acknowledge,
            self.acknowledge_all,
            self.reset_latched,
            self.shelve,
            self.unshelve,
            self.remove_from_service,
            self.return_to_service,
            self.go_to_charger,
        ):
            bar.addWidget(button)
        self.acknowledge.clicked.connect(self._acknowledge_selected)
        self.acknowledge_all.clicked.connect(self._acknowledge_all_visible)
        self.reset_latched.clicked.connect(self._reset_latched)
        self.shelve.clicked.connect(self.open_shelve)
        self.unshelve.clicked.connect(self._unshelve)
        self.remove_from_service.clicked.connect(lambda: self._set_in_service(False))
        self.return_to_service.clicked.connect(lambda: self._set_in_service(True))
        self.go_to_charger.clicked.connect(self._go_to_charger)
        return bar

    def sort_by_urgency(self) -> None:
        """The default order; the header shows it as the priority column, ascending."""
        header = self.table.horizontalHeader()
        header.blockSignals(True)  # the indicator alone must not sort by the column
        header.setSortIndicator(Column.PRIORITY, Qt.SortOrder.AscendingOrder)
        header.blockSignals(False)
        self.proxy.sort_by_urgency()

    def _export_table(self) -> ExportTable:
        """The alarms shown, in the shown order."""
        records = self.proxy.visible_records()
        return ExportTable(
            "Alarms", ALARM_LIST_HEADERS, lambda: alarm_list_rows(records), len(records)
        )

    # ---- state

    def set_actor(self, actor: Actor) -> None:
        self._actor = actor
        self._refresh()

    def selected_records(self) -> list[AlarmRecord]:
        rows = self.table.selectionModel().selectedRows()
        return [self.proxy.record_at(index.row()) for index in sorted(rows, key=lambda i: i.row())]

    def select_keys(self, keys: Iterable[str]) -> None:
        """Select the rows of ``keys`` (tests, go-to-alarm)."""
        wanted = set(keys)
        selection = self.table.selectionModel()
        selection.clearSelection()
        flags = selection.SelectionFlag.Select | selection.SelectionFlag.Rows
        for row in range(self.proxy.rowCount()):
            if self.proxy.record_at(row).key in wanted:
                selection.select(self.proxy.index(row, 0), flags)

    def _on_blink(self, _on: bool) -> None:
        self.table.viewport().update()  # repaint what is shown; the delegate reads the phase

    def _on_model_changed(self) -> None:
        records = self._model.records
        needs = sum(r.state in NEEDS_ACTION for r in records)
        aside = sum(r.state in SET_ASIDE for r in records)
        self.tabs.setTabText(NEEDS_ACTION_TAB, f"Needs action ({needs})")
        self.tabs.setTabText(SET_ASIDE_TAB, f"Shelved · suppressed · out of service ({aside})")
        self._refresh()

    def _refresh(self) -> None:
        selected = self.selected_records()
        visible = self.proxy.rowCount()
        any_unacked_visible = any(
            self.proxy.record_at(row).state.unacknowledged for row in range(visible)
        )
        self.shown.setText(f"{visible} of {self._model.rowCount()} shown")
        charger = common_charger(selected) if selected else ""
        self._gates.show(
            self._actor,
            {
                self.acknowledge: any(r.state.unacknowledged for r in selected),
                self.acknowledge_all: any_unacked_visible,
                self.comment: True,
                self.reset_latched: any(r.state is AlarmState.LATCHED for r in selected),
                self.shelve: any(r.state in NEEDS_ACTION for r in selected),
                self.unshelve: any(r.state is AlarmState.SHELVED for r in selected),
                self.remove_from_service: any(
                    r.state is not AlarmState.OUT_OF_SERVICE for r in selected
                ),
                self.return_to_service: any(r.state is AlarmState.OUT_OF_SERVICE for r in selected),
                self.go_to_charger: bool(charger),
            },
        )

    # ---- filters

    def _fill_states(self, tab: int) -> None:
        self.state_filter.blockSignals(True)
        self.state_filter.clear()
        states = _TAB_STATES[tab]
        self.state_filter.addItem("All states", None)
        for state in AlarmState:
            if state in states:
                self.state_filter.addItem(STATE_LABELS[state], state)
        self.state_filter.blockSignals(False)

    def _on_tab(self, tab: int) -> None:
        self._fill_states(tab)
        self.proxy.set_filter(states=_TAB_STATES[tab])
        self._refresh()

    def _on_state(self, _index: int) -> None:
        state = self.state_filter.currentData()
        tab_states = _TAB_STATES[self.tabs.currentIndex()]
        self.proxy.set_filter(states=tab_states if state is None else {state})
        self._refresh()

    def _on_text(self, text: str) -> None:
        self.proxy.set_filter(text=text)
        self._refresh()

    def _on_priorities(self) -> None:
        chosen = [p for p, b in self.priority_buttons.items() if b.isChecked()]
        self.proxy.set_filter(priorities=chosen if len(chosen) < len(Priority) else ())
        if not chosen:
            self.proxy.set_filter(states=())  # nothing chosen: nothing shown
            self._refresh()
        else:
            self._on_state(0)

    def _on_category(self, _index: int) -> None:
        category = self.category_filter.currentData()
        self.proxy.set_filter(categories=() if category is None else (category,))
        self._refresh()

    def _on_charger(self, _index: int) -> None:
        self.proxy.set_charger(self.charger_filter.currentData())
        self._refresh()

    # ---- actions

    def _acknowledge_selected(self) -> None:
        records = [r for r in self.selected_records() if r.state.unacknowledged]
        self._acknowledge(records)

    def _acknowledge_all_visible(self) -> None:
        records = [r for r in self.proxy.visible_records() if r.state.unacknowledged]
        if not records:
            return
        noun = "alarm" if len(records) == 1 else "alarms"
        if not self._confirm(f"Acknowledge all {len(records)} visible unacknowledged {noun}?"):
            return
        self._acknowledge(records)

    def _acknowledge(self, records: list[AlarmRecord]) -> None:
        if not records:
            return
        comment = self.comment.text().strip()
        self._submit(
            f"Acknowledge {_count(records)}",
            AcknowledgeAlarms(
                charger_id=common_charger(records),
                alarm_keys=tuple(r.key for r in records),
                comment=comment,
            ),
        )
        self.comment.clear()

    def _reset_latched(self) -> None:
        records = [r for r in self.selected_records() if r.state is AlarmState.LATCHED]
        if records:
            self._submit(
                f"Reset {_count(records)}",
                ResetAlarms(
                    charger_id=common_charger(records),
                    alarm_keys=tuple(r.key for r in records),
                    comment=self.comment.text().strip(),
                ),
            )

    def open_shelve(self) -> ShelveDialog | None:
        records = [r for r in self.selected_records() if r.state in NEEDS_ACTION]
        if not records:
            return None
        dialog = ShelveDialog(len(records), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._shelve(records, dialog))
        self.shelve_dialog = dialog
        dialog.open()
        return dialog

    def _shelve(self, records: list[AlarmRecord], dialog: ShelveDialog) -> None:
        reason = dialog.reason.text().strip()
        if not reason:
            return
        self._submit(
            f"Shelve {_count(records)} ({dialog.duration_label.lower()})",
            ShelveAlarms(
                charger_id=common_charger(records),
                alarm_keys=tuple(r.key for r in records),
                comment=reason,
                duration_s=dialog.duration_s,
            ),
        )

    def _unshelve(self) -> None:
        records = [r for r in self.selected_records() if r.state is AlarmState.SHELVED]
        if records:
            self._submit(
                f"Unshelve {_count(records)}",
                UnshelveAlarms(
                    charger_id=common_charger(records), alarm_keys=tuple(r.key for r in records)
                ),
            )

    def _set_in_service(self, in_service: bool) -> None:
        out = AlarmState.OUT_OF_SERVICE
        records = [r for r in self.selected_records() if (r.state is out) == in_service]
        if records:
            action = "Return to service" if in_service else "Remove from service"
            self._submit(
                f"{action} {_count(records)}",
                SetAlarmsInService(
                    charger_id=common_charger(records),
                    alarm_keys=tuple(r.key for r in records),
                    in_service=in_service,
                ),
            )

    def _go_to_charger(self) -> None:
        charger = common_charger(self.selected_records())
        if charger:
            self.chargerRequested.emit(charger)

    def _submit(self, action: str, command: AlarmCommand) -> None:
        self._send(command, self.result.track(action))

    def _ask(self, question: str) -> bool:
        answer = QMessageBox.question(
            self,
            "Confirm",
            question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes


def _count(records: Sequence[AlarmRecord]) -> str:
    if len(records) == 1:
        return records[0].key
    return f"{len(records)} alarms"
