"""How a value's quality is shown: the one place mapping ``Quality`` to its marker, its
words and its greying, for every widget, tile and table.

ISA-101: a good value is drawn plainly; a value that is not good is greyed and carries a
marker ("?" uncertain, "✕" bad or lost communication, "—" not connected), so it never
reads as fresh, and colour is never the only cue. The tooltip names the quality and how
old the value is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel

from evsuper.core.tags import Quality
from evsuper.core.timeutil import utcnow
from evsuper.hmi import formatting
from evsuper.hmi.theme import Palette


@dataclass(frozen=True, slots=True)
class QualityLook:
    marker: str  # drawn before the value; "" when good
    label: str  # the quality in words
    variant: str  # the style-sheet variant of a value label: "good" or "stale"

    @property
    def good(self) -> bool:
        return not self.marker

    @property
    def color(self) -> QColor:
        """Text colour of a painted value (tiles, tables)."""
        return Palette.TEXT if self.good else Palette.TEXT_MUTED


_LOOKS: dict[Quality, QualityLook] = {
    Quality.GOOD: QualityLook("", "Good", "good"),
    Quality.UNCERTAIN: QualityLook("?", "Uncertain", "stale"),
    Quality.BAD: QualityLook("✕", "Bad", "stale"),
    Quality.COMM_FAILURE: QualityLook("✕", "Communication failure", "stale"),
    Quality.NOT_CONNECTED: QualityLook("—", "Not connected", "stale"),
}


def quality_look(quality: Quality) -> QualityLook:
    return _LOOKS[quality]


_SEVERITY = (
    Quality.GOOD,
    Quality.UNCERTAIN,
    Quality.BAD,
    Quality.COMM_FAILURE,
    Quality.NOT_CONNECTED,
)


def worst(qualities: Iterable[Quality]) -> Quality:
    """The quality that speaks for several values shown as one (good when there are none)."""
    return max(qualities, key=_SEVERITY.index, default=Quality.GOOD)


def marked(text: str, quality: Quality) -> str:
    """``text`` with the quality's marker before it: ``✕ 11.0 kW``."""
    marker = _LOOKS[quality].marker
    return f"{marker} {text}" if marker else text


def quality_tip(quality: Quality, since: datetime | None, now: datetime, reason: str = "") -> str:
    """``Communication failure (charger offline) — value from 10:42:03, 2 min 5 s old``."""
    text = _LOOKS[quality].label
    if reason:
        text += f" ({reason})"
    if since is not None:
        age = max(0.0, (now - since).total_seconds())
        text += f" — value from {formatting.timestamp(since)}, {formatting.duration(age)} old"
    return text


def show_value(
    label: QLabel,
    text: str,
    quality: Quality,
    since: datetime | None = None,
    now: datetime | None = None,
    reason: str = "",
) -> None:
    """Put ``text`` in a value label, greyed with its marker and a tooltip when not good.

    The greying is the label's ``quality`` style-sheet property (theme.py).
    """
    look = _LOOKS[quality]
    label.setText(marked(text, quality))
    label.setToolTip("" if look.good else quality_tip(quality, since, now or utcnow(), reason))
    label.setProperty("quality", look.variant)
    label.style().unpolish(label)
    label.style().polish(label)
