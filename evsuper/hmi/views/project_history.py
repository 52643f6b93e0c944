"""The project history window: every version of the project's files, what changed between
two of them, and a restore.

Select one version to see what it changed, two to compare them. The history is read on a
worker thread; a restore is a command (``RestoreProjectVersion``: edit-project permission,
confirmation, audit) and applies at the next start of evsuper. The diff is drawn in calm
greys: ``+`` lines lighter, ``-`` lines darker, never in alarm colours.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontDatabase, QTextBlockFormat, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from evsuper.core.timeutil import utcnow
from evsuper.engine.commands import CommandResult, RestoreProjectVersion
from evsuper.hmi import formatting
from evsuper.hmi.bridge import CommandSender
from evsuper.hmi.theme import Emphasis, Palette, role_label, set_emphasis
from evsuper.hmi.widgets.command_result import CommandResultLine, SentCommand
from evsuper.hmi.widgets.permission_gate import PermissionGates
from evsuper.hmi.worker import Worker
from evsuper.project.history import FileChange, Version
from evsuper.users.permissions import NOBODY, Actor, Permission

HEADERS = ("Version", "Time", "Author", "Summary")


class HistorySource(Protocol):
    """Blocking reads of the project history (``evsuper.project.history.ProjectHistory``)."""

    def versions(self) -> list[Version]: ...

    def diff(self, a: int, b: int) -> list[FileChange]: ...


class ProjectHistoryView(QWidget):
    def __init__(
        self, history: HistorySource, send: CommandSender, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("projectHistory")
        self.setWindowTitle("Project history — evsuper")
        self.resize(1200, 680)
        self._history = history
        self._send = send
        self._worker = Worker("evsuper-project-history", self)
        self._actor = NOBODY
        self.versions: list[Version] = []
        self.compared: tuple[int, int] | None = None  # the versions the diff shows
        self._wanted: tuple[int, int] | None = None  # the versions asked for last

        self.table = QTableWidget(0, len(HEADERS))
        self.table.setObjectName("projectHistoryVersions")
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(26)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((64, 160, 100)):
            self.table.setColumnWidth(column, width)
        self.table.itemSelectionChanged.connect(self._selection_changed)

        self.diff_title = role_label("section", "Changes")
        self.diff_title.setObjectName("projectHistoryDiffTitle")
        self.diff = QPlainTextEdit()
        self.diff.setObjectName("projectHistoryDiff")
        self.diff.setReadOnly(True)
        self.diff.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSizeF(9.5)
        self.diff.setFont(mono)

        self.refresh = QPushButton("Refresh")
        self.refresh.setObjectName("projectHistoryRefresh")
        self.refresh.clicked.connect(self.query)
        self.restore = QPushButton("Restore version…")
        self.restore.setObjectName("projectHistoryRestore")
        self.restore.setToolTip(
            "Bring back the files of the selected version, as a new version; "
            "they apply at the next start of evsuper"
        )
        self.restore.clicked.connect(self.restore_selected)
        self._gates = PermissionGates({self.restore: Permission.EDIT_PROJECT})
        self.status = role_label("value")
        self.status.setObjectName("projectHistoryStatus")
        self.result_line = CommandResultLine("No version restored from this window yet.")

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(role_label("section", "Versions"))
        left_layout.addWidget(self.table, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.diff_title)
        right_layout.addWidget(self.diff, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([560, 640])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(8)
        title = QHBoxLayout()
        title.addWidget(role_label("title", "Project history"), 1)
        title.addWidget(self.refresh)
        title.addWidget(self.restore)
        layout.addLayout(title)
        layout.addWidget(
            role_label(
                "subtitle",
                "Every save of the project's files is a version. A restore is itself a new "
                "version; the running supervision keeps its project until the next start.",
            )
        )
        layout.addWidget(splitter, 1)
        layout.addWidget(self.result_line)
        layout.addWidget(self.status)
        self._show_restore()
        self.query()

    def set_actor(self, actor: Actor) -> None:
        self._actor = actor
        self._show_restore()

    def query(self) -> None:
        """Read the versions again (on the worker thread)."""
        self.status.setText("Loading…")
        set_emphasis(self.status, Emphasis.NORMAL)
        self._worker.run(self._history.versions, self._show_versions, self._failed)

    def selected_versions(self) -> list[int]:
        """The selected version numbers, oldest first."""
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        return sorted(self.versions[len(self.versions) - 1 - row].number for row in rows)

    def select_versions(self, numbers: Sequence[int]) -> None:
        """Select these versions in the list (as a user would, with Ctrl-click)."""
        self.table.clearSelection()
        model = self.table.selectionModel()
        for number in numbers:
            row = len(self.versions) - number
            index = self.table.model().index(row, 0)
            flags = model.SelectionFlag.Select | model.SelectionFlag.Rows
            model.select(index, flags)

    def compare(self, a: int, b: int) -> None:
        """Show what changed from version ``a`` to version ``b`` (read on the worker)."""
        self.compared = None
        self._wanted = (a, b)
        self.diff_title.setText(f"Changes from version {a} to version {b}")
        self.diff.setPlainText("Loading…")
        self._worker.run(lambda: (a, b, self._history.diff(a, b)), self._show_diff, self._failed)

    def restore_selected(self) -> None:
        selected = self.selected_versions()
        if len(selected) != 1:
            return
        command = RestoreProjectVersion(version=selected[0])
        sent = SentCommand(f"Restore version {selected[0]}", utcnow())
        self.result_line.show_sent(sent)
        self._send(command, lambda result: self._restored(sent, result))

    def _restored(self, sent: SentCommand, result: CommandResult) -> None:
        self.result_line.show_sent(sent.answered(result))
        if result.ok:
            self.query()

    def _show_versions(self, versions: list[Version]) -> None:
        selected = self.selected_versions()
        self.versions = versions
        self.table.setRowCount(len(versions))
        for row, version in enumerate(reversed(versions)):  # newest first
            cells = (
                str(version.number),
                formatting.timestamp(version.time),
                version.author,
                version.summary,
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if column == 0:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(row, column, item)
        count = len(versions)
        self.status.setText(
            f"{count} version{'s' if count != 1 else ''}" if count else "No project files yet"
        )
        known = [n for n in selected if n <= count]
        self.select_versions(known or ([count] if count else []))

    def _selection_changed(self) -> None:
        selected = self.selected_versions()
        self._show_restore()
        if len(selected) == 1 and selected[0] > 1:
            self.compare(selected[0] - 1, selected[0])
        elif len(selected) == 2:
            self.compare(*selected)
        elif len(selected) == 1:
            version = self.versions[0]
            self.compared = self._wanted = None
            self.diff_title.setText("Version 1: the files when the history began")
            self.diff.setPlainText("\n".join(sorted(version.files)))
        else:
            self.compared = self._wanted = None
            self.diff_title.setText("Changes")
            self.diff.setPlainText(
                "Select one version to see what it changed, two to compare them."
            )

    def _show_restore(self) -> None:
        selected = self.selected_versions() if self.versions else []
        latest = self.versions[-1].number if self.versions else None
        one = len(selected) == 1 and selected[0] != latest
        self.restore.setText(f"Restore version {selected[0]}…" if one else "Restore version…")
        self._gates.show(self._actor, {self.restore: one})

    def _show_diff(self, answer: tuple[int, int, list[FileChange]]) -> None:
        a, b, changes = answer
        if (a, b) != self._wanted:
            return  # an older request, answered after a newer one was made
        self.compared = (a, b)
        names = ", ".join(c.name for c in changes)
        self.diff_title.setText(
            f"Changes from version {a} to version {b}: "
            + (
                f"{len(changes)} file{'s' if len(changes) != 1 else ''} ({names})"
                if changes
                else "none"
            )
        )
        render_diff(self.diff, changes)

    def _failed(self, exc: Exception) -> None:
        self.status.setText(f"The project history cannot be read: {exc}")
        set_emphasis(self.status, Emphasis.ALARM)


def render_diff(view: QPlainTextEdit, changes: Sequence[FileChange]) -> None:
    """Unified diffs, full-width line backgrounds: added lighter, removed darker, in grey."""
    view.clear()
    if not changes:
        view.setPlainText("The files are the same.")
        return
    cursor = QTextCursor(view.document())
    plain, added, removed, header, hunk = (QTextBlockFormat() for _ in range(5))
    added.setBackground(Palette.DIFF_ADDED)
    removed.setBackground(Palette.DIFF_REMOVED)
    header.setBackground(Palette.PANEL)
    text, bold, muted = QTextCharFormat(), QTextCharFormat(), QTextCharFormat()
    bold.setFontWeight(QFont.Weight.Bold)
    muted.setForeground(Palette.TEXT_SECONDARY)
    first = True
    for change in changes:
        lines: list[tuple[str, QTextBlockFormat, QTextCharFormat]] = []
        if change.diff is None:
            lines.append((f"{change.name}: binary file {change.change}", header, bold))
        elif not change.diff:
            lines.append((f"{change.name}: empty file {change.change}", header, bold))
        for line in (change.diff or "").splitlines():
            if line.startswith(("+++", "---")):
                lines.append((line, header, bold))
            elif line.startswith("@@"):
                lines.append((line, hunk, muted))
            elif line.startswith("+"):
                lines.append((line, added, bold))
            elif line.startswith("-"):
                lines.append((line, removed, text))
            else:
                lines.append((line, plain, text))
        lines.append(("", plain, text))
        for line, block, chars in lines:
            if first:
                cursor.setBlockFormat(block)
                cursor.setBlockCharFormat(chars)
                first = False
            else:
                cursor.insertBlock(block, chars)
            cursor.insertText(line, chars)
    view.moveCursor(QTextCursor.MoveOperation.Start)
