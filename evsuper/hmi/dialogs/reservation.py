"""Reserve a connector: for whom (idTag) and for how long; the faceplate sends ReserveNow."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QVBoxLayout,
    QWidget,
)

from evsuper.core.timeutil import utcnow
from evsuper.hmi import formatting
from evsuper.hmi.theme import role_label

ID_TAG_LENGTH = 20  # OCPP 1.6 IdToken is a CiString20


@dataclass(frozen=True, slots=True)
class Duration:
    label: str
    span: timedelta


DURATIONS = (
    Duration("15 min", timedelta(minutes=15)),
    Duration("30 min", timedelta(minutes=30)),
    Duration("1 h", timedelta(hours=1)),
    Duration("2 h", timedelta(hours=2)),
)
DEFAULT_DURATION = 1  # 30 min


class ReserveDialog(QDialog):
    """Asks the idTag and the duration of a reservation; the caller sends it on ``accepted``."""

    def __init__(
        self,
        charger_id: str,
        connector_id: int,
        id_tags: Sequence[str],
        id_tag: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("reserveDialog")
        self.setWindowTitle(f"{charger_id} — Reserve connector {connector_id}")
        self.setMinimumWidth(360)

        self.id_tag = QComboBox()
        self.id_tag.setObjectName("reserveIdTag")
        self.id_tag.setEditable(True)  # any idTag, not only the project's badges
        editor = self.id_tag.lineEdit()
        assert editor is not None  # an editable combo has one
        editor.setMaxLength(ID_TAG_LENGTH)
        self.id_tag.addItems(list(id_tags))
        self.id_tag.setEditText(id_tag)
        self.id_tag.setToolTip("The badge the connector is held for (up to 20 characters)")

        self.duration = QComboBox()
        self.duration.setObjectName("reserveDuration")
        self.duration.addItems([d.label for d in DURATIONS])
        self.duration.setCurrentIndex(DEFAULT_DURATION)
        self.expiry = role_label("value")
        self.expiry.setObjectName("reserveExpiry")

        form = QFormLayout()
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(6)
        form.addRow(role_label("caption", "idTag"), self.id_tag)
        form.addRow(role_label("caption", "Duration"), self.duration)
        form.addRow(role_label("caption", "Expires"), self.expiry)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.reserve = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.reserve.setText("Reserve")
        self.reserve.setObjectName("reserveConfirm")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(8)
        layout.addWidget(role_label("title", f"Reserve connector {connector_id}"))
        layout.addWidget(role_label("subtitle", f"{charger_id} · held for one idTag until expiry"))
        layout.addLayout(form)
        layout.addWidget(self.buttons)

        self.id_tag.editTextChanged.connect(self._update)
        self.duration.currentIndexChanged.connect(self._update)
        self._update()

    def chosen_id_tag(self) -> str:
        return self.id_tag.currentText().strip()

    def chosen_duration(self) -> Duration:
        return DURATIONS[self.duration.currentIndex()]

    def _update(self) -> None:
        self.reserve.setEnabled(bool(self.chosen_id_tag()))
        duration = self.chosen_duration()
        expiry = formatting.clock(utcnow() + duration.span, seconds=False)
        self.expiry.setText(f"in {duration.label}, about {expiry}")
