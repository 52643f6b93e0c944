"""Which driver serves which address scheme: the ``evsuper.drivers`` entry point group.

Each entry point is named by a scheme (``modbus``, ``opc.tcp``, ``sim``) and points at a
``DriverFactory``. evsuper registers its own drivers in its ``pyproject.toml``; a third
party adds a scheme by declaring the same group in its own distribution, without editing
evsuper (docs/drivers.md).
"""

from __future__ import annotations

import logging
from importlib.metadata import EntryPoint, entry_points

from evsuper.drivers.base import DriverConfigError, DriverFactory

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "evsuper.drivers"


def _entry_points() -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        scheme = entry.name.lower()
        if scheme in found and found[scheme].value != entry.value:
            log.warning(
                "driver scheme %r declared twice (%s, %s): the first is used",
                scheme,
                found[scheme].value,
                entry.value,
            )
            continue
        found.setdefault(scheme, entry)
    return found


def known_schemes() -> list[str]:
    """Every scheme an installed distribution declares a driver for, sorted."""
    return sorted(_entry_points())


def driver_factory(scheme: str) -> DriverFactory:
    """The factory of the driver for ``scheme`` (``modbus``, ``opc.tcp``, ...).

    Raises ``DriverConfigError`` naming the known schemes when none is declared, or saying
    why the declared one cannot be loaded."""
    points = _entry_points()
    entry = points.get(scheme.lower())
    if entry is None:
        known = ", ".join(sorted(points)) or "none installed"
        raise DriverConfigError(f"no driver for scheme {scheme!r} (known: {known})")
    try:
        factory = entry.load()
    except Exception as exc:  # a broken plugin must be reported, not crash the loader
        raise DriverConfigError(
            f"the driver for scheme {scheme!r} ({entry.value}) cannot be loaded: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if not callable(factory):
        raise DriverConfigError(f"the driver for scheme {scheme!r} ({entry.value}) is not callable")
    result: DriverFactory = factory
    return result
