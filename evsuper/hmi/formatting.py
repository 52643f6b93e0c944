"""Display formatting of values, units and times: the one place for how numbers read."""

from __future__ import annotations

from datetime import datetime

NO_VALUE = "—"


def kw(value: float | None) -> str:
    return NO_VALUE if value is None else f"{value:.1f} kW"


def kwh(value: float | None) -> str:
    return NO_VALUE if value is None else f"{value:.2f} kWh"


def percent(value: float | None) -> str:
    return NO_VALUE if value is None else f"{value:.0f} %"


def text(value: object) -> str:
    return NO_VALUE if value is None or value == "" else str(value)


def clock(ts: datetime, *, seconds: bool = True) -> str:
    """Local wall-clock time, for result lines and recent events."""
    return ts.astimezone().strftime("%H:%M:%S" if seconds else "%H:%M")


def timestamp(ts: datetime | None) -> str:
    """Local date and time, for values that may be days old (last seen, ...)."""
    return NO_VALUE if ts is None else ts.astimezone().strftime("%Y-%m-%d %H:%M:%S")
