"""Checks of the Qt binding the HMI runs on."""

from __future__ import annotations

import sys

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QObject

BROKEN_BINDING_TEXT = (
    f"PySide6 {pyside_version} on Python {sys.version_info.major}.{sys.version_info.minor} "
    "loses a reference to None on every Qt call that returns nothing; the supervisor "
    "would abort within minutes.\n\n"
    "Install PySide6-Essentials < 6.12 (6.11.3 is known good), or run on Python 3.12 or newer."
)


def binding_leaks_none() -> bool:
    """True when void Qt calls drop references to ``None`` (PySide6 6.12.0 on Python 3.11).

    On Python 3.12+ ``None`` is immortal and its count never moves, so this is False there.
    """
    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(64):
        probe.setObjectName("probe")
    return sys.getrefcount(None) < before - 32
