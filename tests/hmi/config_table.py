"""Reading and editing the configuration dialog's table as the operator does."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QWidget

from evsuper.hmi.dialogs.configuration import ConfigurationDialog
from evsuper.hmi.models.configuration import Column


def value_of(dialog: ConfigurationDialog, key: str) -> str | None:
    """The value the table holds for ``key``; None if the key is not listed."""
    row = dialog.model.row_of(key)
    return None if row is None else dialog.model.key_at(row).value


def source_index(dialog: ConfigurationDialog, key: str, column: Column) -> QModelIndex:
    """The index of ``key``'s cell in the dialog's model."""
    row = dialog.model.row_of(key)
    assert row is not None, key
    return dialog.model.index(row, column)


def view_index(dialog: ConfigurationDialog, key: str, column: Column) -> QModelIndex:
    """The index of ``key``'s cell in the table (through the filter)."""
    return dialog.proxy.mapFromSource(source_index(dialog, key, column))


def double_click(qtbot: Any, dialog: ConfigurationDialog, key: str) -> QWidget | None:
    """Double-click the Value cell of ``key``; returns the editor it opened, if any."""
    index = view_index(dialog, key, Column.VALUE)
    dialog.table.scrollTo(index)
    center = dialog.table.visualRect(index).center()
    # QTest's double click lacks the first press and release a real one starts with.
    qtbot.mouseClick(dialog.table.viewport(), Qt.MouseButton.LeftButton, pos=center)
    qtbot.mouseDClick(dialog.table.viewport(), Qt.MouseButton.LeftButton, pos=center)
    return dialog.table.indexWidget(index)


def edit_value(qtbot: Any, dialog: ConfigurationDialog, key: str, text: str) -> None:
    """Open the Value editor of ``key``, type ``text`` over the value and press Enter."""
    editor = double_click(qtbot, dialog, key)
    assert editor is not None, f"{key} did not open an editor"
    qtbot.keyClick(editor, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    # The delegate commits the editor's text from the event loop.
    qtbot.waitUntil(lambda: dialog.table.state() is not QAbstractItemView.State.EditingState)
