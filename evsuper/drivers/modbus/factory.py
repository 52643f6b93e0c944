"""The ``modbus://`` driver factory: a project's ``[[devices]]`` → a ``ModbusDriver``.

Address ``modbus://host[:port][/unit]`` (port 502, unit 1 by default). Options:

- ``profile``: a shipped profile name, or a ``.toml`` file relative to the project folder;
- ``points`` (``[[devices.points]]``, keys as in a profile) and ``groups`` (``name``,
  ``period_s``) added to the profile's, or alone;
- ``prefix``: tags are ``<prefix>/<point>`` (default: the device name);
- ``poll_s``: period of the fastest poll group, the others keep their ratio (points
  without a group are polled at ``poll_s``, 1 s by default); ``periods`` sets groups one
  by one (``periods = { slow = 30 }``);
- ``timeout_s``, ``connect_timeout_s``, ``reconnect_min_s``, ``reconnect_max_s``, ``max_gap``;
- ``simulate``: served by the driver's own simulator while the project's simulator runs;
- ``charger``: set by the project for a device a Modbus charger names (``mapping.py``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from evsuper.drivers.base import DeviceSettings, DriverContext, option_error
from evsuper.drivers.modbus.client import ModbusDriver
from evsuper.drivers.modbus.config import ConfigError, Device, Point, PollGroup
from evsuper.drivers.modbus.mapping import REQUIRED_POINT, point_tag
from evsuper.drivers.modbus.profiles import (
    Profile,
    load_profile,
    load_profile_file,
    parse_point,
)

DEFAULT_PORT = 502
_SECONDS = ("timeout_s", "connect_timeout_s", "reconnect_min_s", "reconnect_max_s")
OPTIONS = frozenset(
    {
        "profile",
        "points",
        "groups",
        "prefix",
        "poll_s",
        "periods",
        "max_gap",
        "simulate",
        "charger",
        *_SECONDS,
    }
)


def create_driver(devices: Sequence[DeviceSettings], context: DriverContext) -> ModbusDriver:
    """The driver of ``devices``; ``DriverConfigError`` names the device and the option."""
    configs: list[Device] = []
    owners: dict[str, str] = {}
    chargers: dict[str, str] = {}
    simulated: dict[str, str] = {}
    for settings in devices:
        device, profile = device_config(settings, context)
        for point in device.points:
            other = owners.setdefault(point.tag, settings.name)
            if other != settings.name:
                raise option_error(settings, "prefix", f"tag {point.tag} is also {other!r}'s")
        configs.append(device)
        charger = settings.options.get("charger")
        if isinstance(charger, str):
            chargers[settings.name] = charger
        if settings.options.get("simulate") is True:
            simulated[settings.name] = profile.name if profile is not None else ""
    return ModbusDriver(
        configs,
        context.publish,
        chargers=chargers,
        simulated=simulated,
        disabled=[s.name for s in devices if not s.enabled],
    )


def device_config(
    settings: DeviceSettings, context: DriverContext
) -> tuple[Device, Profile | None]:
    """The typed device of one ``[[devices]]`` entry, and its profile if it names one."""
    options = settings.options
    for key in options:
        if key not in OPTIONS:
            known = ", ".join(sorted(OPTIONS - {"charger"}))
            raise option_error(settings, key, f"unknown option (known: {known})")
    host, port, unit = _address(settings)
    profile = _profile(settings, context)
    groups = list(profile.groups) if profile is not None else []
    points = list(profile.points) if profile is not None else []
    groups += _groups(settings)
    points += _points(settings)
    if not points:
        raise option_error(settings, "profile", "no points: name a profile or give points")
    poll_s = _seconds(settings, "poll_s", None)
    if poll_s is not None and groups:
        factor = poll_s / min(g.period_s for g in groups)
        groups = [dataclasses.replace(g, period_s=g.period_s * factor) for g in groups]
    if any(p.group == "default" for p in points) and "default" not in {g.name for g in groups}:
        groups.append(PollGroup("default", poll_s if poll_s is not None else 1.0))
    groups = _periods(settings, groups)
    charger = options.get("charger")
    if charger is not None and not isinstance(charger, str):
        raise option_error(settings, "charger", "must be a charger id")
    if charger is not None and not any(p.tag == REQUIRED_POINT for p in points):
        raise option_error(
            settings, "profile", f"a charger's device needs a {REQUIRED_POINT!r} point"
        )
    prefix = options.get("prefix", charger or settings.name)
    if not isinstance(prefix, str) or not prefix.strip("/"):
        raise option_error(settings, "prefix", "must be a tag path such as SITE1/meter")
    prefix = prefix.strip("/")
    tagged = [
        dataclasses.replace(
            p, tag=point_tag(charger, p.tag, prefix) if charger else f"{prefix}/{p.tag}"
        )
        for p in points
    ]
    timing = {
        key: value for key in _SECONDS if (value := _seconds(settings, key, None)) is not None
    }
    max_gap = options.get("max_gap", 8)
    if not isinstance(max_gap, int) or isinstance(max_gap, bool) or max_gap < 0:
        raise option_error(settings, "max_gap", "must be an integer >= 0")
    simulate = options.get("simulate", False)
    if not isinstance(simulate, bool):
        raise option_error(settings, "simulate", "expected true or false")
    try:
        device = Device(
            settings.name,
            host,
            port=port,
            unit_id=unit,
            max_gap=max_gap,
            groups=tuple(groups),
            points=tuple(tagged),
            **timing,
        )
    except ConfigError as exc:
        field = next((key for key in _SECONDS if key in str(exc)), "points")
        raise option_error(settings, field, str(exc)) from None
    return device, profile


def _address(settings: DeviceSettings) -> tuple[str, int, int]:
    """``modbus://host[:port][/unit]`` → host, port, unit id."""
    try:
        parts = urlsplit(settings.address)
        port = parts.port or DEFAULT_PORT
    except ValueError as exc:
        raise option_error(settings, "address", f"{exc}") from None
    unit_text = parts.path.strip("/") or "1"
    if parts.scheme.lower() != "modbus" or not parts.hostname:
        raise option_error(settings, "address", "expected modbus://host[:port][/unit id]")
    if not unit_text.isdigit() or not 0 <= int(unit_text) <= 255:
        raise option_error(settings, "address", f"unit id {unit_text!r} is not 0..255")
    if parts.query or parts.fragment:
        raise option_error(settings, "address", "no query or fragment in a Modbus address")
    return parts.hostname, port, int(unit_text)


def _profile(settings: DeviceSettings, context: DriverContext) -> Profile | None:
    name = settings.options.get("profile")
    if name is None:
        return None
    if not isinstance(name, str):
        raise option_error(settings, "profile", "a profile name or a .toml file")
    try:
        if name.endswith(".toml"):
            return load_profile_file(context.project_dir / name)
        return load_profile(name)
    except OSError as exc:
        raise option_error(settings, "profile", f"cannot read {name}: {exc.strerror}") from None
    except ConfigError as exc:
        raise option_error(settings, "profile", str(exc)) from None


def _groups(settings: DeviceSettings) -> list[PollGroup]:
    raw = settings.options.get("groups", [])
    if not isinstance(raw, list):
        raise option_error(settings, "groups", "an array of tables (name, period_s)")
    try:
        return [PollGroup(str(g["name"]), float(g["period_s"])) for g in raw]
    except (KeyError, TypeError, ValueError, ConfigError) as exc:
        raise option_error(settings, "groups", f"{type(exc).__name__}: {exc}") from None


def _points(settings: DeviceSettings) -> list[Point]:
    raw = settings.options.get("points", [])
    if not isinstance(raw, list):
        raise option_error(settings, "points", "an array of tables ([[devices.points]])")
    points = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise option_error(settings, "points", f"entry {index + 1} is not a table")
        label = repr(entry.get("name", f"#{index + 1}"))
        try:
            points.append(parse_point(dict(entry), label))
        except ConfigError as exc:
            raise option_error(settings, "points", str(exc)) from None
        except KeyError as exc:
            raise option_error(settings, "points", f"point {label}: missing {exc}") from None
        except (TypeError, ValueError) as exc:
            raise option_error(settings, "points", f"point {label}: {exc}") from None
    return points


def _periods(settings: DeviceSettings, groups: list[PollGroup]) -> list[PollGroup]:
    raw = settings.options.get("periods", {})
    if not isinstance(raw, dict):
        raise option_error(settings, "periods", "a table of group = seconds")
    names = {g.name for g in groups}
    for name, value in raw.items():
        if name not in names:
            raise option_error(settings, "periods", f"no poll group {name!r} ({', '.join(names)})")
        if not _positive(value):
            raise option_error(settings, "periods", f"{name}: must be a number of seconds > 0")
    return [
        dataclasses.replace(g, period_s=float(raw[g.name])) if g.name in raw else g for g in groups
    ]


def _seconds(settings: DeviceSettings, key: str, default: float | None) -> float | None:
    value = settings.options.get(key)
    if value is None:
        return default
    if not _positive(value):
        raise option_error(settings, key, "must be a number of seconds > 0")
    return float(value)


def _positive(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )
