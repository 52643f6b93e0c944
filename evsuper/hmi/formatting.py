"""Display formatting of values, units and times: the one place for how numbers read."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

NO_VALUE = "—"


def kw(value: float | None) -> str:
    return NO_VALUE if value is None else f"{value:.1f} kW"


def kwh(value: float | None) -> str:
    return NO_VALUE if value is None else f"{value:.2f} kWh"


def money(amount: Decimal | None, currency: str | None) -> str:
    """``12.34 EUR``: cents always shown."""
    return NO_VALUE if amount is None else f"{amount:.2f} {currency or ''}".rstrip()


def percent(value: float | None) -> str:
    return NO_VALUE if value is None else f"{value:.0f} %"


def text(value: object) -> str:
    return NO_VALUE if value is None or value == "" else str(value)


def clock(ts: datetime, *, seconds: bool = True) -> str:
    """Local wall-clock time, for result lines and recent events."""
    return ts.astimezone().strftime("%H:%M:%S" if seconds else "%H:%M")


def precise_clock(ts: datetime) -> str:
    """Local wall-clock time to the millisecond, for message logs."""
    return ts.astimezone().strftime("%H:%M:%S.%f")[:-3]


def count(value: int | None) -> str:
    return NO_VALUE if value is None else f"{value:,}".replace(",", "\u202f")


def duration(seconds: float | None) -> str:
    """A span in the largest units that read well: ``45 s``, ``15 min``, ``2 h 30 min``."""
    if seconds is None:
        return NO_VALUE
    s = round(seconds)
    if s < 60 or s % 60:
        return f"{s} s" if s < 60 else f"{s // 60} min {s % 60} s"
    minutes = s // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h" if rest == 0 else f"{hours} h {rest} min"


def list_version(version: int | None) -> str:
    """A charger's local list version in words (GetLocalListVersion: 0 none, -1 unsupported)."""
    if version is None:
        return "unknown"
    if version == -1:
        return "unsupported"
    if version == 0:
        return "no list"
    return f"v{version}"


def timestamp(ts: datetime | None) -> str:
    """Local date and time, for values that may be days old (last seen, ...)."""
    return NO_VALUE if ts is None else ts.astimezone().strftime("%Y-%m-%d %H:%M:%S")
