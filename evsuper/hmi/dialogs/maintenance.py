"""Firmware update and diagnostics upload: where, when and how often the charger tries.

The dialogs only gather the operator's choices; the faceplate builds UpdateFirmware or
GetDiagnostics from them on ``accepted``. Times come back as aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from evsuper.core.timeutil import utcnow
from evsuper.hmi.theme import Emphasis, role_label, set_emphasis

URL_SCHEMES = ("http://", "https://", "ftp://")
LOCATION_HINT = "A URL starting with http://, https:// or ftp://"
# Retry counts offered; None leaves it to the charger.
RETRIES = (None, 0, 1, 2, 3, 5, 10)


def valid_location(text: str) -> bool:
    """True for a URL with one of ``URL_SCHEMES``, a host part and no blanks."""
    location = text.strip()
    scheme = next((s for s in URL_SCHEMES if location.lower().startswith(s)), None)
    return (
        scheme is not None
        and len(location) > len(scheme)
        and not any(c.isspace() for c in location)
    )


def _retries_label(retries: int | None) -> str:
    if retries is None:
        return "Charger default"
    return "No retry" if retries == 0 else str(retries)


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """How far back the diagnostics go; ``span`` None: all the charger has."""

    label: str
    span: timedelta | None


TIME_WINDOWS = (
    TimeWindow("All available", None),
    TimeWindow("Last hour", timedelta(hours=1)),
    TimeWindow("Last 24 hours", timedelta(hours=24)),
    TimeWindow("Last 7 days", timedelta(days=7)),
)


class _MaintenanceDialog(QDialog):
    """The common frame: title, location field with its hint, retries, OK and Cancel."""

    def __init__(
        self,
        name: str,
        charger_id: str,
        heading: str,
        subtitle: str,
        confirm: str,
        parent: QWidget | None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(f"{name}Dialog")
        self.setWindowTitle(f"{charger_id} — {heading}")
        self.setMinimumWidth(440)

        self.location = QLineEdit()
        self.location.setObjectName(f"{name}Location")
        self.location.setPlaceholderText("https://")
        self.location.setToolTip(LOCATION_HINT)
        self.location_hint = role_label("caption", LOCATION_HINT)
        self.location_hint.setObjectName(f"{name}LocationHint")

        self.retries = QComboBox()
        self.retries.setObjectName(f"{name}Retries")
        self.retries.addItems([_retries_label(n) for n in RETRIES])
        self.retries.setToolTip("How often the charger tries again after a failed transfer")

        self.form = QFormLayout()
        self.form.setHorizontalSpacing(12)
        self.form.setVerticalSpacing(6)
        self.form.addRow(role_label("caption", "Location"), self.location)
        self.form.addRow(QLabel(), self.location_hint)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.confirm: QPushButton = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.confirm.setText(confirm)
        self.confirm.setObjectName(f"{name}Confirm")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(8)
        layout.addWidget(role_label("title", heading))
        layout.addWidget(role_label("subtitle", f"{charger_id} · {subtitle}"))
        layout.addLayout(self.form)
        layout.addWidget(self.buttons)

        self.location.textChanged.connect(self._check_location)

    def _finish_form(self) -> None:
        """Retries go last, after the fields of the subclass."""
        self.form.addRow(role_label("caption", "Retries"), self.retries)
        self._check_location()

    def chosen_location(self) -> str:
        return self.location.text().strip()

    def chosen_retries(self) -> int | None:
        return RETRIES[self.retries.currentIndex()]

    def _check_location(self) -> None:
        text = self.location.text()
        ok = valid_location(text)
        self.confirm.setEnabled(ok)
        # Bold only once something wrong was typed: an empty field is not yet a mistake.
        set_emphasis(self.location_hint, Emphasis.NOTABLE if text and not ok else Emphasis.NORMAL)


class FirmwareDialog(_MaintenanceDialog):
    """Asks where the firmware is, when to fetch it (now or later) and the retries."""

    def __init__(self, charger_id: str, parent: QWidget | None = None) -> None:
        super().__init__(
            "firmware",
            charger_id,
            "Update firmware",
            "fetches the file, installs it and reboots",
            "Update",
            parent,
        )
        self.now = QRadioButton("Now")
        self.now.setObjectName("firmwareNow")
        self.later = QRadioButton("At")
        self.later.setObjectName("firmwareLater")
        self.now.setChecked(True)
        self.retrieve_at = QDateTimeEdit()
        self.retrieve_at.setObjectName("firmwareRetrieveAt")
        self.retrieve_at.setCalendarPopup(True)
        self.retrieve_at.setDisplayFormat("yyyy-MM-dd HH:mm")
        start = QDateTime.currentDateTime()
        self.retrieve_at.setMinimumDateTime(start)
        self.retrieve_at.setDateTime(start.addSecs(3600))
        self.retrieve_at.setEnabled(False)
        self.retrieve_at.setToolTip("Local time; the charger fetches the file from then on")
        when = QHBoxLayout()
        when.setSpacing(8)
        when.addWidget(self.now)
        when.addWidget(self.later)
        when.addWidget(self.retrieve_at, 1)
        self.form.addRow(role_label("caption", "Retrieve"), when)
        self._finish_form()
        self.later.toggled.connect(self.retrieve_at.setEnabled)

    def chosen_retrieve_date(self) -> datetime:
        """Now, or the picked local time, as aware UTC."""
        if self.now.isChecked():
            return utcnow()
        return datetime.fromtimestamp(self.retrieve_at.dateTime().toSecsSinceEpoch(), UTC)

    def retrieve_label(self) -> str:
        """The retrieve time in words, for the result line."""
        if self.now.isChecked():
            return "now"
        return self.retrieve_at.dateTime().toString("yyyy-MM-dd HH:mm")


class DiagnosticsDialog(_MaintenanceDialog):
    """Asks where to upload the diagnostics, which period they cover, and the retries."""

    def __init__(self, charger_id: str, parent: QWidget | None = None) -> None:
        super().__init__(
            "diagnostics",
            charger_id,
            "Get diagnostics",
            "uploads its diagnostics file to the location",
            "Request upload",
            parent,
        )
        self.period = QComboBox()
        self.period.setObjectName("diagnosticsWindow")
        self.period.addItems([w.label for w in TIME_WINDOWS])
        self.period.setToolTip("The period the diagnostics should cover")
        self.form.addRow(role_label("caption", "Period"), self.period)
        self._finish_form()

    def chosen_window(self) -> TimeWindow:
        return TIME_WINDOWS[self.period.currentIndex()]

    def chosen_times(self) -> tuple[datetime | None, datetime | None]:
        """(start_time, stop_time) in aware UTC; both None for all available."""
        span = self.chosen_window().span
        if span is None:
            return None, None
        stop = utcnow()
        return stop - span, stop
