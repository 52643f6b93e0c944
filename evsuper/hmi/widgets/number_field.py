"""Numbers typed in plain fields.

The theme frames entry fields in a way that leaves Qt's spin-box step buttons without
their arrows, so numbers are typed in a line edit that accepts only what fits.
"""

from __future__ import annotations

from PySide6.QtCore import QLocale
from PySide6.QtGui import QDoubleValidator, QIntValidator
from PySide6.QtWidgets import QLineEdit, QWidget

_C = QLocale(QLocale.Language.C)  # a dot for decimals, whatever the desktop's language


class IntField(QLineEdit):
    """A whole number in ``[low, high]``; ``value()`` is None while empty or out of range."""

    def __init__(
        self, low: int, high: int, value: int | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        validator = QIntValidator(low, high, self)
        validator.setLocale(_C)
        self.setValidator(validator)
        self._low, self._high = low, high
        self.setValue(value)

    def value(self) -> int | None:
        try:
            number = int(self.text())
        except ValueError:
            return None
        return number if self._low <= number <= self._high else None

    def setValue(self, value: int | None) -> None:
        self.setText("" if value is None else str(value))


class DecimalField(QLineEdit):
    """A number in ``[low, high]`` with up to ``decimals`` decimals; None when not valid."""

    def __init__(
        self,
        low: float,
        high: float,
        value: float | None = None,
        decimals: int = 1,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        validator = QDoubleValidator(low, high, decimals, self)
        validator.setNotation(QDoubleValidator.Notation.StandardNotation)
        validator.setLocale(_C)
        self.setValidator(validator)
        self._low, self._high, self._decimals = low, high, decimals
        self.setValue(value)

    def value(self) -> float | None:
        try:
            number = float(self.text())
        except ValueError:
            return None
        return number if self._low <= number <= self._high else None

    def setValue(self, value: float | None) -> None:
        self.setText("" if value is None else f"{value:.{self._decimals}f}")
