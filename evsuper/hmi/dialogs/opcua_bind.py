"""Give each OPC UA node picked in the browse dialog its tag, sampling, deadband and
writability; the drivers view sends them as one ``BindOpcUaPoints`` command.

Defaults: the tag is ``<device>/<browse name in snake_case>`` (made unique), sampling
1000 ms, no deadband, writable when the session user may write the node, the unit the
node declares. Nothing here writes a file: the command does, as a project version.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from evsuper.drivers.opcua.browse import BrowseEntry
from evsuper.engine.commands import PointBinding
from evsuper.hmi.theme import Emphasis, role_label, set_emphasis

COLUMNS = ("Node", "Node id", "Tag", "Sampling (ms)", "Deadband", "Unit", "Writable")
NODE, NODE_ID, TAG, SAMPLING, DEADBAND, UNIT, WRITABLE = range(len(COLUMNS))
DEFAULT_SAMPLING_MS = 1000
APPLIES = "The points are written to project.toml as a new version; they apply at the next start."


def snake_case(name: str) -> str:
    """``"2:BuildingLoad"`` → ``"building_load"``; ``"PV.Production"`` → ``"pv_production"``."""
    name = name.partition(":")[2] if re.match(r"^\d+:", name) else name
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    name = re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_").lower()
    return name or "value"


def default_tags(device: str, entries: Sequence[BrowseEntry]) -> list[str]:
    """``<device>/<browse name in snake_case>`` per entry, ``_2``, ``_3``... on repeats."""
    tags: list[str] = []
    for entry in entries:
        base = f"{device}/{snake_case(entry.browse_name or entry.display_name)}"
        tag, n = base, 1
        while tag in tags:
            n += 1
            tag = f"{base}_{n}"
        tags.append(tag)
    return tags


class OpcUaBindDialog(QDialog):
    """One row per picked variable; ``bindings()`` once accepted."""

    def __init__(
        self, device: str, entries: Sequence[BrowseEntry], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("opcuaBindDialog")
        self.setWindowTitle(f"{device} — bind OPC UA nodes to tags")
        self.resize(1060, 120 + 34 * max(len(entries), 3))
        self._device = device
        self._entries = list(entries)

        self.table = QTableWidget(len(self._entries), len(COLUMNS))
        self.table.setObjectName("opcuaBindTable")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(TAG, QHeaderView.ResizeMode.Stretch)

        self.tags: list[QLineEdit] = []
        self.sampling: list[QSpinBox] = []
        self.deadbands: list[QDoubleSpinBox] = []
        self.units: list[QLineEdit] = []
        self.writable: list[QCheckBox] = []
        for row, (entry, tag) in enumerate(
            zip(self._entries, default_tags(device, self._entries), strict=True)
        ):
            self._add_row(row, entry, tag)

        self.problem = role_label("caption")
        self.problem.setObjectName("opcuaBindProblem")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.bind = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.bind.setObjectName("opcuaBindConfirm")
        count = len(self._entries)
        self.bind.setText("Bind 1 node" if count == 1 else f"Bind {count} nodes")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.problem, 1)
        bottom.addWidget(self.buttons)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(8)
        layout.addWidget(role_label("title", "Bind OPC UA nodes"))
        layout.addWidget(role_label("subtitle", f"{device} · {APPLIES}"))
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self._check()

    def bindings(self) -> tuple[PointBinding, ...]:
        """The points as entered, in the order of the rows."""
        return tuple(
            PointBinding(
                tag=self.tags[row].text().strip(),
                node=entry.node_id,
                sampling_ms=float(self.sampling[row].value()),
                deadband=self.deadbands[row].value(),
                writable=self.writable[row].isChecked(),
                unit=self.units[row].text().strip(),
            )
            for row, entry in enumerate(self._entries)
        )

    # ---- rows

    def _add_row(self, row: int, entry: BrowseEntry, tag: str) -> None:
        node = QTableWidgetItem(entry.display_name)
        node.setToolTip(f"{entry.display_name} · {entry.data_type or 'unknown type'}")
        self.table.setItem(row, NODE, node)
        self.table.setItem(row, NODE_ID, QTableWidgetItem(entry.node_id))

        tag_edit = QLineEdit(tag)
        tag_edit.setObjectName(f"bindTag{row}")
        tag_edit.textChanged.connect(self._check)
        sampling = QSpinBox()
        sampling.setRange(10, 3_600_000)
        sampling.setSingleStep(100)
        sampling.setValue(DEFAULT_SAMPLING_MS)
        sampling.setAlignment(Qt.AlignmentFlag.AlignRight)
        deadband = QDoubleSpinBox()
        deadband.setRange(0.0, 1e9)
        deadband.setDecimals(3)
        deadband.setAlignment(Qt.AlignmentFlag.AlignRight)
        deadband.setToolTip("Absolute, in the node's units; 0: every change")
        unit = QLineEdit(entry.unit)
        unit.setMaximumWidth(70)
        writable = QCheckBox()
        writable.setChecked(entry.writable)
        writable.setEnabled(entry.writable)  # a read-only node cannot be written
        writable.setToolTip(
            "Writes allowed from evsuper" if entry.writable else "The server says read only"
        )
        cell = QWidget()
        box = QHBoxLayout(cell)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(writable, 0, Qt.AlignmentFlag.AlignCenter)

        for column, widget in (
            (TAG, tag_edit),
            (SAMPLING, sampling),
            (DEADBAND, deadband),
            (UNIT, unit),
            (WRITABLE, cell),
        ):
            self.table.setCellWidget(row, column, widget)
        self.tags.append(tag_edit)
        self.sampling.append(sampling)
        self.deadbands.append(deadband)
        self.units.append(unit)
        self.writable.append(writable)

    def _check(self) -> None:
        """The bind button is on when every tag is given once; the line says what is not."""
        tags = [edit.text().strip() for edit in self.tags]
        problem = ""
        if any(not tag for tag in tags):
            problem = "Every node needs a tag."
        elif any(" " in tag for tag in tags):
            problem = "A tag has no blanks."
        elif len(set(tags)) != len(tags):
            problem = "Each tag once: two rows have the same tag."
        self.problem.setText(problem)
        set_emphasis(self.problem, Emphasis.NOTABLE if problem else Emphasis.NORMAL)
        self.bind.setEnabled(not problem and bool(tags))
