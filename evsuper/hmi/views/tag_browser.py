"""The tag browser: every tag of the bus, filtered by path and quality, live; a driver tag
that can be written is written through the command router (``WriteTag``) with a typed
input, and the answer is shown on the result line."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QItemSelection, Qt, QTimer
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from evsuper.core.tags import TagPath
from evsuper.engine.commands import WriteTag
from evsuper.hmi import formatting
from evsuper.hmi.bridge import CommandSender
from evsuper.hmi.models.tag_browser import (
    Column,
    TagBrowserModel,
    TagFilter,
    WritableSource,
    tag_unit,
    value_text,
)
from evsuper.hmi.theme import Emphasis, role_label, set_emphasis
from evsuper.hmi.widgets.command_result import CommandResultLine
from evsuper.hmi.widgets.permission_gate import PermissionGates
from evsuper.users.permissions import NOBODY, Actor

AGE_REFRESH_MS = 1000  # the age column is computed when painted: repaint once a second
_TRUE = {"true", "1", "on", "yes"}
_FALSE = {"false", "0", "off", "no"}


def value_kind(current: Any) -> type:
    """The type a new value of a tag must have: that of its current value (float when
    the tag has none yet, or an integer value of a float tag would be refused)."""
    for kind in (bool, int, str):  # bool first: a bool is an int too
        if isinstance(current, kind):
            return kind
    return float


def parse_value(text: str, kind: type) -> Any:
    """``text`` as a value of ``kind`` (bool, int, float, str); raises ValueError."""
    text = text.strip()
    if kind is bool:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ValueError("true or false")
    if kind is int:
        return int(text)
    if kind is float:
        value = float(text.replace(",", "."))
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("a finite number")
        return value
    return text


_KIND_WORDS = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}


class WriteDialog(QDialog):
    """Asks for the value to write to one tag, typed as the tag's current value."""

    def __init__(self, path: TagPath, current: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("writeTagDialog")
        self.setWindowTitle(f"Write {path}")
        self.kind = value_kind(current)
        self.value: Any = None
        unit = tag_unit(path)
        self.input = QLineEdit()
        self.input.setObjectName("writeValue")
        self.input.setPlaceholderText(_KIND_WORDS[self.kind])
        if current is not None:
            self.input.setText(value_text(current) if self.kind is not bool else str(current))
        self.problem = role_label("caption")
        self.problem.setObjectName("writeProblem")
        form = QFormLayout()
        form.addRow(role_label("caption", "Tag"), role_label("value", path))
        now = value_text(current) + (f" {unit}" if unit and current is not None else "")
        form.addRow(role_label("caption", "Current value"), role_label("value", now))
        form.addRow(role_label("caption", f"New value ({_KIND_WORDS[self.kind]})"), self.input)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Write")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.input.textChanged.connect(self._check)
        self._check()

    def _check(self) -> None:
        try:
            self.value = parse_value(self.input.text(), self.kind)
        except ValueError:
            self.value = None
            self.problem.setText(f"Enter {_KIND_WORDS[self.kind]}.")
            set_emphasis(self.problem, Emphasis.NOTABLE)
            self.ok.setEnabled(False)
            return
        self.problem.setText("")
        self.ok.setEnabled(True)


class TagBrowserView(QWidget):
    """``model`` is fed by the main window's batches; ``writable`` reads which tags the
    drivers can write (None: none can)."""

    def __init__(
        self,
        model: TagBrowserModel,
        send: CommandSender,
        writable: WritableSource | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("tagBrowser")
        self.setWindowTitle("Tag browser — evsuper")
        self.resize(1150, 700)
        self.model = model
        self.rows = TagFilter(model, self)
        self._send = send
        self._writable = writable
        self._actor = NOBODY
        self.dialog: WriteDialog | None = None  # the one open

        self.pattern = QLineEdit()
        self.pattern.setObjectName("tagPattern")
        self.pattern.setPlaceholderText("Path starts with… (or a glob: */power_kw)")
        self.pattern.setClearButtonEnabled(True)
        self.pattern.textChanged.connect(self._filter)
        self.only_bad = QCheckBox("Only bad quality")
        self.only_bad.setObjectName("onlyBad")
        self.only_bad.setToolTip("Only the tags whose quality is not good")
        self.only_bad.toggled.connect(self._filter)
        self.count = role_label("caption")
        self.count.setObjectName("tagCount")

        self.table = QTableView()
        self.table.setObjectName("tagTable")
        self.table.setModel(self.rows)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        vertical = self.table.verticalHeader()
        vertical.hide()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # no per-row measuring
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in (
            (Column.TAG, 300),
            (Column.VALUE, 170),
            (Column.UNIT, 60),
            (Column.QUALITY, 190),
            (Column.TIME, 170),
            (Column.AGE, 90),
        ):
            self.table.setColumnWidth(column, width)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.table.doubleClicked.connect(lambda _index: self.open_write())

        self.write = QPushButton("Write…")
        self.write.setObjectName("writeTag")
        self.write.setToolTip("Write a new value to the selected driver tag")
        self.write.clicked.connect(self.open_write)
        self._gates = PermissionGates({self.write: WriteTag.permission})
        self.result = CommandResultLine("No value written yet.")

        bar = QHBoxLayout()
        bar.addWidget(self.pattern, 1)
        bar.addWidget(self.only_bad)
        bar.addWidget(self.count)
        buttons = QHBoxLayout()
        buttons.addWidget(self.write)
        buttons.addWidget(self.result, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.addWidget(role_label("title", "Tag browser"))
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

        self._ages = QTimer(self)
        self._ages.setInterval(AGE_REFRESH_MS)
        self._ages.timeout.connect(self.table.viewport().update)
        for signal in (self.rows.rowsInserted, self.rows.rowsRemoved, self.rows.modelReset):
            signal.connect(self._show_count)
        model.dataChanged.connect(self._on_data_changed)
        self._show_count()
        self._show_buttons()

    def set_actor(self, actor: Actor) -> None:
        self._actor = actor
        self._show_buttons()

    def selected_path(self) -> TagPath | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.path_at(self.rows.mapToSource(rows[0]).row()) if rows else None

    def select(self, path: TagPath) -> None:
        row = self.model.row_of(path)
        if row is not None:
            index = self.rows.mapFromSource(self.model.index(row, 0))
            if index.isValid():
                self.table.selectRow(index.row())
                self.table.scrollTo(index)

    # ---- events

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self.model.watched:
            self.model.set_watched(True)
            self.rows.refilter()
            self._show_count()
        self._ages.start()
        if self._writable is not None:
            self._writable(self._on_writable, self._on_writable_failed)

    def hideEvent(self, event: QHideEvent) -> None:
        self._ages.stop()
        self.model.set_watched(False)
        super().hideEvent(event)

    def _on_writable(self, tags: frozenset[TagPath]) -> None:
        self.model.set_writable(tags)
        self._show_buttons()

    def _on_writable_failed(self, reason: str) -> None:
        self.result.setText(f"Which tags can be written is unknown: {reason}")

    def _on_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._show_buttons()

    def _on_data_changed(self) -> None:
        if self.rows.only_bad:  # a tag's quality may have moved it in or out
            self._show_count()

    # ---- display

    def _filter(self) -> None:
        self.rows.set_pattern(self.pattern.text())
        self.rows.set_only_bad(self.only_bad.isChecked())
        self._show_count()
        self._show_buttons()

    def _show_count(self) -> None:
        shown, total = self.rows.rowCount(), self.model.rowCount()
        if shown == total:
            self.count.setText(f"{formatting.count(total)} tags")
        else:
            self.count.setText(f"{formatting.count(shown)} of {formatting.count(total)} tags")

    def _show_buttons(self) -> None:
        path = self.selected_path()
        self._gates.show(self._actor, {self.write: path is not None and self.model.writable(path)})

    # ---- command

    def open_write(self) -> WriteDialog | None:
        path = self.selected_path()
        if path is None or not self.write.isEnabled():
            return None
        sample = self.model.sample(path)
        dialog = WriteDialog(path, None if sample is None else sample.value, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._write(path, dialog.value))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _write(self, path: TagPath, value: Any) -> None:
        answered = self.result.track(f"Write {value_text(value)} to {path}")
        self._send(WriteTag(tag=path, value=value), answered)
