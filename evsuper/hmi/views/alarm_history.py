"""The alarm history: the journal of every alarm transition, filtered by time, charger,
priority, category, transition and text, and exported to CSV or Excel. Read-only.

Queries run on a worker thread (``load`` blocks on the database); the table shows the
newest entries first, up to ``JournalFilter.limit``. Export: ``widgets/export.py``.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from evsuper.alarms.journal import JournalFilter
from evsuper.alarms.model import Category, JournalEntry, Priority, Transition
from evsuper.hmi.models.alarm_history import MESSAGE_COLUMN, WIDTHS, AlarmHistoryModel
from evsuper.hmi.theme import Emphasis, role_label, set_emphasis
from evsuper.hmi.widgets.export import ExportControl, ExportTable
from evsuper.hmi.widgets.period_picker import PeriodPicker, filter_grid
from evsuper.hmi.worker import Worker
from evsuper.reports.alarms import JOURNAL_HEADERS, journal_rows

JournalLoader = Callable[[JournalFilter], list[JournalEntry]]

ALL_PRIORITIES = "All priorities"
ALL_CATEGORIES = "All categories"
ALL_TRANSITIONS = "All transitions"


class AlarmHistoryView(QWidget):
    def __init__(self, load: JournalLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("alarmHistory")
        self.setWindowTitle("Alarm history — evsuper")
        self.resize(1400, 700)
        self._load = load
        self._worker = Worker("evsuper-alarm-history", self)
        self._queries = 0  # in flight (the worker answers them in order)
        self._last_filter: JournalFilter | None = None

        self.charger = QLineEdit()
        self.charger.setObjectName("alarmHistoryCharger")
        self.charger.setPlaceholderText("any charger")
        self.priority = QComboBox()
        self.priority.setObjectName("alarmHistoryPriority")
        self.priority.addItem(ALL_PRIORITIES, None)
        for p in Priority:
            self.priority.addItem(f"{int(p)} {p.label}", int(p))
        self.category = QComboBox()
        self.category.setObjectName("alarmHistoryCategory")
        self.category.addItem(ALL_CATEGORIES, None)
        for c in Category:
            self.category.addItem(c.value, c.value)
        self.transition = QComboBox()
        self.transition.setObjectName("alarmHistoryTransition")
        self.transition.addItem(ALL_TRANSITIONS, None)
        for t in Transition:
            self.transition.addItem(t.value, t.value)
        self.periods = PeriodPicker("alarmHistory", self)
        self.period, self.since, self.until = (
            self.periods.period,
            self.periods.since,
            self.periods.until,
        )
        self.text = QLineEdit()
        self.text.setObjectName("alarmHistoryText")
        self.text.setPlaceholderText("message, source, user, comment")
        self.refresh = QPushButton("Refresh")
        self.refresh.setObjectName("alarmHistoryRefresh")
        self.exporter = ExportControl(
            "alarmHistory", "entries", "alarm-history", self._export_table, self
        )
        self.status = role_label("value")
        self.status.setObjectName("alarmHistoryStatus")

        filters = filter_grid(
            (
                ("Period", self.period),
                ("Charger", self.charger),
                ("Priority", self.priority),
                ("Category", self.category),
                ("Transition", self.transition),
                ("Text", self.text),
            ),
            self.periods,
            (
                self.refresh,
                self.exporter.button,
            ),
            stretch=5,
        )

        self.model = AlarmHistoryModel()
        self.table = QTableView()
        self.table.setObjectName("alarmHistoryTable")
        self.table.setModel(self.model)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        for column, width in enumerate(WIDTHS):
            self.table.setColumnWidth(column, width)
        header.setSectionResizeMode(MESSAGE_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(50)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(8)
        layout.addWidget(role_label("title", "Alarm history"))
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.exporter)
        layout.addLayout(bottom)

        self.refresh.clicked.connect(self.query)
        for field in (self.charger, self.text):
            field.returnPressed.connect(self.query)
        for combo in (self.priority, self.category, self.transition):
            combo.currentIndexChanged.connect(self.query)
        self.periods.changed.connect(self.query)
        self.query()

    def current_filter(self) -> JournalFilter:
        since, until = self.periods.range()
        # item data comes back from Qt as plain int / str
        priority = self.priority.currentData()
        category = self.category.currentData()
        transition = self.transition.currentData()
        return JournalFilter(
            since=since,
            until=until,
            charger_id=self.charger.text().strip(),
            priorities=frozenset() if priority is None else frozenset({Priority(priority)}),
            categories=frozenset() if category is None else frozenset({Category(category)}),
            transitions=(
                frozenset() if transition is None else frozenset({Transition(transition)})
            ),
            text=self.text.text().strip(),
        )

    def query(self) -> None:
        """Load the entries matching the filters (on the worker thread)."""
        where = self.current_filter()
        self._queries += 1
        self.status.setText("Loading…")
        set_emphasis(self.status, Emphasis.NORMAL)
        load = self._load  # the job holds no reference to the widget
        self._worker.run(lambda: (where, load(where)), self._show, self._failed)

    @property
    def loading(self) -> bool:
        return self._queries > 0

    def _export_table(self) -> ExportTable:
        """The entries shown, newest first."""
        entries = self.model.entries
        return ExportTable(
            "Alarm history", JOURNAL_HEADERS, lambda: journal_rows(entries), len(entries)
        )

    def _show(self, answer: tuple[JournalFilter, list[JournalEntry]]) -> None:
        where, entries = answer
        self._queries -= 1
        self._last_filter = where
        self.model.set_entries(entries)
        shown = f"{len(entries)} entries, newest first"
        if where.limit is not None and len(entries) >= where.limit:
            shown += " (the newest only; narrow the filters to see older ones)"
        self.status.setText(shown)

    def _failed(self, exc: Exception) -> None:
        self._queries -= 1
        self.status.setText(f"The archive cannot be read: {exc}")
        set_emphasis(self.status, Emphasis.ALARM)
