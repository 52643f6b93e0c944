"""The operator's charging need for a running session: "this much more energy by then".

Opened from the power management view (double-click on a charging connector's Need); the
view sends what is chosen as one ``SetSessionNeed``. Under the deadline objective the
allocator then serves the session by that departure; the need ends with the session.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QDateTime, Signal
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from evsuper.charging.status import ConnectorAllocation
from evsuper.core.timeutil import utcnow
from evsuper.hmi import formatting
from evsuper.hmi.theme import role_label
from evsuper.hmi.widgets.number_field import DecimalField

DEFAULT_STAY = timedelta(hours=2)
MAX_ENERGY_KWH = 500.0


class SessionNeedDialog(QDialog):
    """``needChosen(energy_kwh, departure)``: both None to go back to the session's plan or
    usage profile."""

    needChosen = Signal(object, object)

    def __init__(self, connector: ConnectorAllocation, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        where = f"{connector.charger_id} · {connector.connector_id}"
        self.setWindowTitle(f"Charging need: {where}")
        self.setObjectName("sessionNeedDialog")
        now = utcnow()
        if connector.energy_need_kwh is not None and connector.departure is not None:
            known = (
                f"Now: {formatting.kwh(connector.energy_need_kwh)} by"
                f" {formatting.clock(connector.departure, seconds=False)},"
                f" from {connector.need_source}."
            )
        else:
            known = "Now: no need known; the session is shared like the others."
        self.energy = DecimalField(0.1, MAX_ENERGY_KWH, connector.energy_need_kwh, 1)
        self.energy.setObjectName("needEnergy")
        self.energy.setPlaceholderText("kWh still to deliver")
        self.departure = QDateTimeEdit(_qt(connector.departure or now + DEFAULT_STAY))
        self.departure.setObjectName("needDeparture")
        self.departure.setCalendarPopup(True)
        self.departure.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.departure.setMinimumDateTime(_qt(now))

        form = QFormLayout()
        form.addRow("Energy (kWh)", self.energy)
        form.addRow("Departure", self.departure)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.set_button = QPushButton("Set need")
        self.set_button.setObjectName("needSet")
        self.clear_button = QPushButton("Back to plan / usage profile")
        self.clear_button.setObjectName("needClear")
        buttons.addButton(self.set_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.clear_button, QDialogButtonBox.ButtonRole.ResetRole)
        buttons.rejected.connect(self.reject)
        self.set_button.clicked.connect(self._set)
        self.clear_button.clicked.connect(self._clear)
        self.energy.textChanged.connect(self._enable)

        layout = QVBoxLayout(self)
        layout.addWidget(role_label("value", known))
        layout.addWidget(
            role_label(
                "caption",
                "Under the deadline objective the session is served by its departure."
                " The need ends with the session.",
            )
        )
        layout.addLayout(form)
        layout.addWidget(buttons)
        self._enable()

    def _enable(self) -> None:
        self.set_button.setEnabled(self.energy.value() is not None)

    def _set(self) -> None:
        energy = self.energy.value()
        if energy is None:
            return
        departure = self.departure.dateTime().toSecsSinceEpoch()
        self.needChosen.emit(energy, datetime.fromtimestamp(departure, UTC))
        self.accept()

    def _clear(self) -> None:
        self.needChosen.emit(None, None)
        self.accept()


def _qt(when: datetime) -> QDateTime:
    return QDateTime.fromSecsSinceEpoch(int(when.timestamp()))
