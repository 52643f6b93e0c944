"""The event log: the audit trail filtered by user, target, kind, time and text, and
exported to Excel or CSV. Read-only: nothing here can change what was recorded.

Queries run on a worker thread (``load`` blocks on the database); the table shows the
newest entries first, up to ``AuditFilter.limit``. Export: ``widgets/export.py``.
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

from evsuper.hmi.models.event_log import EventLogModel
from evsuper.hmi.theme import Emphasis, role_label, set_emphasis
from evsuper.hmi.widgets.export import ExportControl, ExportTable
from evsuper.hmi.widgets.period_picker import PeriodPicker, filter_grid
from evsuper.hmi.worker import Worker
from evsuper.reports.audit import AUDIT_HEADERS, audit_rows
from evsuper.users.audit import AuditEntry, AuditFilter, AuditKind

AuditLoader = Callable[[AuditFilter], list[AuditEntry]]


ALL_KINDS = "All kinds"


class EventLogView(QWidget):
    def __init__(self, load: AuditLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("eventLog")
        self.setWindowTitle("Event log — evsuper")
        self.resize(1200, 640)
        self._load = load
        self._worker = Worker("evsuper-event-log", self)
        self._query_pending = False

        self.user = QLineEdit()
        self.user.setObjectName("eventLogUser")
        self.user.setPlaceholderText("any user")
        self.target = QLineEdit()
        self.target.setObjectName("eventLogTarget")
        self.target.setPlaceholderText("any charger or user")
        self.kind = QComboBox()
        self.kind.setObjectName("eventLogKind")
        self.kind.addItems([ALL_KINDS, *(k.value for k in AuditKind)])
        self.periods = PeriodPicker("eventLog", self)
        self.period, self.since, self.until = (
            self.periods.period,
            self.periods.since,
            self.periods.until,
        )
        self.text = QLineEdit()
        self.text.setObjectName("eventLogText")
        self.text.setPlaceholderText("search every column")
        self.refresh = QPushButton("Refresh")
        self.refresh.setObjectName("eventLogRefresh")
        self.exporter = ExportControl("eventLog", "entries", "event-log", self._export_table, self)
        self.status = role_label("value")
        self.status.setObjectName("eventLogStatus")

        filters = filter_grid(
            (
                ("User", self.user),
                ("Charger / target", self.target),
                ("Kind", self.kind),
                ("Period", self.period),
                ("Text", self.text),
            ),
            self.periods,
            (
                self.refresh,
                self.exporter.button,
            ),
            stretch=4,
        )

        self.model = EventLogModel()
        self.table = QTableView()
        self.table.setObjectName("eventLogTable")
        self.table.setModel(self.model)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((160, 100, 100, 130, 150, 110, 260, 80)):
            self.table.setColumnWidth(column, width)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(8)
        layout.addWidget(role_label("title", "Event log"))
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.exporter)
        layout.addLayout(bottom)

        self.refresh.clicked.connect(self.query)
        for field in (self.user, self.target, self.text):
            field.returnPressed.connect(self.query)
        self.kind.currentIndexChanged.connect(self.query)
        self.periods.changed.connect(self.query)
        self.query()

    def current_filter(self) -> AuditFilter:
        kind = self.kind.currentText()
        since, until = self.periods.range()
        return AuditFilter(
            user=self.user.text().strip(),
            target=self.target.text().strip(),
            kinds=frozenset() if kind == ALL_KINDS else frozenset({AuditKind(kind)}),
            since=since,
            until=until,
            text=self.text.text().strip(),
        )

    def query(self) -> None:
        """Load the entries matching the filters (on the worker thread)."""
        where = self.current_filter()
        self._query_pending = True
        self.status.setText("Loading…")
        set_emphasis(self.status, Emphasis.NORMAL)
        self._worker.run(lambda: (where, self._load(where)), self._show, self._failed)

    @property
    def loading(self) -> bool:
        return self._query_pending

    def _export_table(self) -> ExportTable:
        """The entries shown, newest first."""
        entries = self.model.entries
        return ExportTable("Event log", AUDIT_HEADERS, lambda: audit_rows(entries), len(entries))

    def _show(self, answer: tuple[AuditFilter, list[AuditEntry]]) -> None:
        where, entries = answer
        self._query_pending = False
        self.model.set_entries(entries)
        shown = f"{len(entries)} entries"
        if len(entries) >= where.limit:
            shown += " (the newest; narrow the filters to see older ones)"
        self.status.setText(shown)

    def _failed(self, exc: Exception) -> None:
        self._query_pending = False
        self.status.setText(f"The archive cannot be read: {exc}")
        set_emphasis(self.status, Emphasis.ALARM)
