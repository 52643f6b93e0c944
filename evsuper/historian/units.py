"""Display units of the archived measurands: the one table of unit conversions.

Chargers send W or kW, Wh or kWh, ... as they please; trends, aggregates and reports show
one unit per quantity.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, case, literal

from evsuper.historian import schema

# archived unit → (display unit, factor); units not listed are shown as they are
DISPLAY_UNITS: dict[str, tuple[str, float]] = {
    "W": ("kW", 0.001),
    "kW": ("kW", 1.0),
    "Wh": ("kWh", 0.001),
    "kWh": ("kWh", 1.0),
    "varh": ("kvarh", 0.001),
    "kvarh": ("kvarh", 1.0),
    "var": ("kvar", 0.001),
    "kvar": ("kvar", 1.0),
    "Percent": ("%", 1.0),
    "Celcius": ("°C", 1.0),  # the OCPP 1.6 spelling
    "Celsius": ("°C", 1.0),
}


def display_unit(unit: str) -> str:
    return DISPLAY_UNITS.get(unit, (unit, 1.0))[0]


def to_display(value: float, unit: str) -> tuple[float, str]:
    """``value`` in ``unit`` → (value, unit) for display, e.g. (7400, "W") → (7.4, "kW")."""
    display, factor = DISPLAY_UNITS.get(unit, (unit, 1.0))
    return value * factor, display


def display_value() -> ColumnElement[float]:
    """``meter_samples.value`` in its display unit, computed by the database."""
    m = schema.meter_samples
    factors = {unit: factor for unit, (_, factor) in DISPLAY_UNITS.items() if factor != 1.0}
    return case(
        *((m.c.unit == unit, m.c.value * factor) for unit, factor in factors.items()),
        else_=m.c.value,
    )


def display_unit_of_row() -> ColumnElement[str]:
    """``meter_samples.unit``'s display unit, computed by the database."""
    m = schema.meter_samples
    return case(
        *((m.c.unit == unit, literal(shown)) for unit, (shown, _) in DISPLAY_UNITS.items()),
        else_=m.c.unit,
    )
