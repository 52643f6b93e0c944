"""The top of every charger window: its id, its communication badge, and a line under them."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from evsuper.core.domain import CommState
from evsuper.hmi import formatting
from evsuper.hmi.models.overview import ChargerState
from evsuper.hmi.theme import Emphasis, comm_label, role_label, set_emphasis


class ChargerHeader(QWidget):
    def __init__(self, charger_id: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = role_label("title", charger_id)
        self.comm = role_label("commBadge")
        self.subtitle = role_label("subtitle")
        row = QHBoxLayout()
        row.addWidget(self.title, 1)
        row.addWidget(self.comm)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(row)
        layout.addWidget(self.subtitle)

    def set_state(self, comm: CommState, subtitle: str, charger_id: str | None = None) -> None:
        """The badge is calm while online and notable otherwise (never an alarm colour)."""
        if charger_id is not None:
            self.title.setText(charger_id)
        self.comm.setText(comm_label(comm).upper())
        set_emphasis(self.comm, Emphasis.NORMAL if comm is CommState.ONLINE else Emphasis.NOTABLE)
        self.subtitle.setText(subtitle)


IDENTITY = ("registration", "vendor", "model", "serial", "firmware")


def show_identity(labels: Mapping[str, QLabel], state: ChargerState) -> None:
    """What the charger said of itself at boot, into the labels named as in ``IDENTITY``."""
    for name in IDENTITY:
        labels[name].setText(formatting.text(getattr(state, name)))
