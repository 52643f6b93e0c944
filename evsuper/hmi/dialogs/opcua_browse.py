"""Browse an OPC UA server and pick variables to bind to tags.

The tree loads one level at a time, when a node is first expanded; the selected node
is read afresh for the panel on the right (value, quality, type, unit, writability).
All OPC UA work is a coroutine of an ``OpcUaBrowser`` run off the GUI thread by a
``Runner`` (``FutureRunner(engine_thread.submit)`` in the HMI); answers come back here
by queued signal. ``picked()`` gives the selected variables once the dialog is accepted.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Protocol, TypeVar

from PySide6.QtCore import QItemSelection, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QCloseEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from evsuper.drivers.base import DeviceSettings
from evsuper.drivers.opcua.browse import OBJECTS, BrowseEntry, OpcUaBrowser
from evsuper.drivers.opcua.config import parse_endpoint
from evsuper.hmi import formatting
from evsuper.hmi.quality import marked, quality_look, show_value
from evsuper.hmi.theme import Emphasis, role_label, set_emphasis

T = TypeVar("T")
ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1  # the node's BrowseEntry, on column 0
LOADED_ROLE = Qt.ItemDataRole.UserRole + 2  # its children were asked for
LOADING = "Loading…"
COLUMNS = ("Name", "Data type", "Value", "Access")


class Browser(Protocol):
    """What the dialog needs of ``evsuper.drivers.opcua.browse.OpcUaBrowser``."""

    def children(self, node_id: str = OBJECTS) -> Coroutine[Any, Any, list[BrowseEntry]]: ...

    def read(self, node_id: str) -> Coroutine[Any, Any, BrowseEntry]: ...

    def close(self) -> Coroutine[Any, Any, None]: ...


class Runner(Protocol):
    """Runs ``coro`` off the GUI thread; ``done(value)`` or ``failed(reason)`` later runs
    on the GUI thread."""

    def __call__(
        self,
        coro: Coroutine[Any, Any, T],
        done: Callable[[T], None],
        failed: Callable[[str], None],
    ) -> None: ...


class FutureRunner(QObject):
    """A ``Runner`` over ``submit(coro) -> concurrent.futures.Future`` (the engine
    thread's ``submit``, or ``asyncio.run_coroutine_threadsafe`` on any loop)."""

    _finished = Signal(object)  # a function delivering one answer, any thread → GUI

    def __init__(self, submit: Submit, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._submit = submit
        self._finished.connect(lambda deliver: deliver(), Qt.ConnectionType.QueuedConnection)

    def __call__(
        self,
        coro: Coroutine[Any, Any, T],
        done: Callable[[T], None],
        failed: Callable[[str], None],
    ) -> None:
        try:
            future = self._submit(coro)
        except RuntimeError as exc:  # the loop is closed
            coro.close()
            failed(str(exc))
            return

        def finished(f: concurrent.futures.Future[T]) -> None:
            if f.cancelled():
                self._finished.emit(lambda: failed("cancelled"))
            elif (exc := f.exception()) is not None:
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                self._finished.emit(lambda: failed(reason))
            else:
                value = f.result()
                self._finished.emit(lambda: done(value))

        future.add_done_callback(finished)


Submit = Callable[[Coroutine[Any, Any, Any]], concurrent.futures.Future[Any]]


def browse_dialog_for(
    device: DeviceSettings, project_dir: Path, submit: Submit, parent: QWidget | None = None
) -> OpcUaBrowseDialog:
    """The dialog for a project's ``opc.tcp`` device, its session run by ``submit``
    (``EngineThread.submit``); raises ``DriverConfigError`` for unusable settings."""
    browser = OpcUaBrowser(parse_endpoint(device, project_dir))
    runner = FutureRunner(submit)
    dialog = OpcUaBrowseDialog(browser, runner, f"{device.name} — {device.address}", parent)
    runner.setParent(dialog)
    return dialog


class OpcUaBrowseDialog(QDialog):
    """Modal or not; one browser session per dialog, closed with the dialog."""

    def __init__(
        self,
        browser: Browser,
        run: Runner,
        title: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("opcuaBrowseDialog")
        self.setWindowTitle(f"{title} — browse OPC UA server")
        self.resize(900, 560)
        self._browser = browser
        self._run = run
        self._open = True
        self._shown: BrowseEntry | None = None

        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.tree = QTreeView()
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(0, 260)
        header.setStretchLastSection(True)
        self.tree.expanded.connect(self._on_expanded)
        self.tree.selectionModel().selectionChanged.connect(self._on_selection)
        self.tree.selectionModel().currentChanged.connect(self._on_current)

        details = QWidget()
        form = QFormLayout(details)
        self.detail_labels: dict[str, QLabel] = {}
        for key, caption in (
            ("display_name", "Name"),
            ("node_id", "Node id"),
            ("browse_name", "Browse name"),
            ("node_class", "Class"),
            ("data_type", "Data type"),
            ("value", "Value"),
            ("source_ts", "Source time"),
            ("writable", "Access"),
        ):
            label = role_label("value")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.detail_labels[key] = label
            form.addRow(role_label("caption", caption), label)
        self.refresh_button = QPushButton("Read again")
        self.refresh_button.setEnabled(False)
        self.refresh_button.clicked.connect(self._refresh)
        form.addRow("", self.refresh_button)

        splitter = QSplitter()
        splitter.addWidget(self.tree)
        panel = QWidget()
        panel_layout = QVBoxLayout(panel)
        panel_layout.addWidget(role_label("section", "Selected node"))
        panel_layout.addWidget(details)
        panel_layout.addStretch(1)
        splitter.addWidget(panel)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)

        self.status_label = role_label("caption", "Connecting…")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.bind_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.bind_button.setText("Bind selected")
        self.bind_button.setEnabled(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(self.buttons)

        layout = QVBoxLayout(self)
        layout.addWidget(role_label("subtitle", title))
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)

        root = self.model.invisibleRootItem()
        root.setData(True, LOADED_ROLE)
        self._load(root, OBJECTS)

    # ---- results

    def picked(self) -> list[BrowseEntry]:
        """The selected variables, in tree order; those read afresh (each node made
        current is) carry their unit."""
        rows = sorted(
            self.tree.selectionModel().selectedRows(0),
            key=lambda index: self._path(index),
        )
        entries = [index.data(ENTRY_ROLE) for index in rows]
        return [e for e in entries if isinstance(e, BrowseEntry) and e.is_variable]

    def item_for(self, node_id: str) -> QStandardItem | None:
        """The loaded tree item of ``node_id`` (tests and callers that preselect)."""
        return self._find(self.model.invisibleRootItem(), node_id)

    # ---- loading

    def _load(self, item: QStandardItem, node_id: str) -> None:
        self._set_status("Browsing…", Emphasis.NORMAL)
        self._run(
            self._browser.children(node_id),
            lambda entries: self._loaded(item, entries),
            lambda reason: self._load_failed(item, reason),
        )

    def _loaded(self, item: QStandardItem, entries: list[BrowseEntry]) -> None:
        if not self._open:
            return
        if item.rowCount() == 1 and item.child(0, 0).data(ENTRY_ROLE) is None:
            item.removeRow(0)  # the "Loading…" placeholder
        for entry in entries:
            item.appendRow(self._row(entry))
        self._set_status(f"{self._count()} nodes loaded", Emphasis.NORMAL)

    def _load_failed(self, item: QStandardItem, reason: str) -> None:
        if self._open:
            item.setData(False, LOADED_ROLE)  # expanding it again tries again
            self._failed(reason)

    def _row(self, entry: BrowseEntry) -> list[QStandardItem]:
        name = QStandardItem(entry.display_name)
        name.setData(entry, ENTRY_ROLE)
        name.setToolTip(entry.node_id)
        if entry.has_children:
            name.appendRow([QStandardItem(LOADING)] + [QStandardItem() for _ in COLUMNS[1:]])
        cells = [name, QStandardItem(entry.data_type), QStandardItem(_value_text(entry))]
        cells.append(QStandardItem(_access_text(entry)))
        if entry.quality is not None and not quality_look(entry.quality).good:
            cells[2].setForeground(quality_look(entry.quality).color)
        return cells

    def _on_expanded(self, index: QModelIndex) -> None:
        item = self.model.itemFromIndex(index.siblingAtColumn(0))
        entry = item.data(ENTRY_ROLE)
        if isinstance(entry, BrowseEntry) and not item.data(LOADED_ROLE):
            item.setData(True, LOADED_ROLE)
            self._load(item, entry.node_id)

    # ---- the selected node

    def _on_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        count = len(self.picked())
        self.bind_button.setEnabled(count > 0)
        self.bind_button.setText(f"Bind {count} selected" if count else "Bind selected")

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        entry = current.siblingAtColumn(0).data(ENTRY_ROLE)
        if isinstance(entry, BrowseEntry):
            self._show(entry)
            self._refresh()

    def _refresh(self) -> None:
        if self._shown is None:
            return
        self.refresh_button.setEnabled(False)
        self._run(self._browser.read(self._shown.node_id), self._read, self._failed)

    def _read(self, entry: BrowseEntry) -> None:
        if not self._open or self._shown is None or entry.node_id != self._shown.node_id:
            return
        item = self.item_for(entry.node_id)
        if item is not None:  # picked() then gives what was read afresh (the unit)
            item.setData(entry, ENTRY_ROLE)
        self._show(entry)
        self._set_status(f"{entry.display_name} read", Emphasis.NORMAL)

    def _show(self, entry: BrowseEntry) -> None:
        self._shown = entry
        labels = self.detail_labels
        labels["display_name"].setText(entry.display_name)
        labels["node_id"].setText(entry.node_id)
        labels["browse_name"].setText(entry.browse_name)
        labels["node_class"].setText(entry.node_class.value)
        labels["data_type"].setText(formatting.text(entry.data_type))
        if entry.quality is None:
            labels["value"].setText(formatting.NO_VALUE)
        else:
            show_value(labels["value"], _value_text(entry, marker=False), entry.quality)
        labels["source_ts"].setText(formatting.timestamp(entry.source_ts))
        labels["writable"].setText(formatting.text(_access_text(entry)))
        self.refresh_button.setEnabled(entry.is_variable)

    # ---- status and closing

    def _failed(self, reason: str) -> None:
        if self._open:
            self._set_status(f"Cannot browse: {reason}", Emphasis.NOTABLE)
            self.refresh_button.setEnabled(self._shown is not None and self._shown.is_variable)

    def _set_status(self, text: str, emphasis: Emphasis) -> None:
        self.status_label.setText(text)
        set_emphasis(self.status_label, emphasis)

    def done(self, result: int) -> None:
        self._close_session()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._close_session()
        super().closeEvent(event)

    def _close_session(self) -> None:
        if self._open:
            self._open = False
            self._run(self._browser.close(), lambda _: None, lambda _: None)

    # ---- helpers

    def _count(self) -> int:
        def count(item: QStandardItem) -> int:
            return sum(
                1 + count(item.child(row, 0))
                for row in range(item.rowCount())
                if item.child(row, 0).data(ENTRY_ROLE) is not None
            )

        return count(self.model.invisibleRootItem())

    def _find(self, item: QStandardItem, node_id: str) -> QStandardItem | None:
        for row in range(item.rowCount()):
            child = item.child(row, 0)
            entry = child.data(ENTRY_ROLE)
            if isinstance(entry, BrowseEntry) and entry.node_id == node_id:
                return child
            found = self._find(child, node_id)
            if found is not None:
                return found
        return None

    def _path(self, index: QModelIndex) -> list[int]:
        path: list[int] = []
        while index.isValid():
            path.insert(0, index.row())
            index = index.parent()
        return path


def _value_text(entry: BrowseEntry, *, marker: bool = True) -> str:
    if not entry.is_variable:
        return ""
    value = entry.value
    text = f"{value:.6g}" if isinstance(value, float) else formatting.text(value)
    if entry.unit:
        text = f"{text} {entry.unit}"
    if marker and entry.quality is not None:
        return marked(text, entry.quality)
    return text


def _access_text(entry: BrowseEntry) -> str:
    if not entry.is_variable:
        return ""
    return "Read / write" if entry.writable else "Read only"
