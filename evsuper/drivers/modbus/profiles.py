"""Device profiles: the register map of a device model, shipped as TOML data.

A profile's points are named relative to the device (``power_kw``); ``Profile.device``
binds them to a host and a tag prefix (``SITE1/B07/power_kw``).
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from evsuper.drivers.modbus.config import (
    ConfigError,
    Device,
    Function,
    Order,
    Point,
    PollGroup,
    parse_data_type,
)

_POINT_KEYS = {
    "name",
    "function",
    "address",
    "type",
    "word_order",
    "byte_order",
    "scale",
    "offset",
    "unit",
    "writable",
    "group",
}


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    description: str
    groups: tuple[PollGroup, ...]
    points: tuple[Point, ...]

    def point(self, name: str) -> Point:
        found = next((p for p in self.points if p.tag == name), None)
        if found is None:
            raise KeyError(f"profile {self.name!r} has no point {name!r}")
        return found

    def device(
        self, name: str, host: str, *, tag_prefix: str | None = None, **options: Any
    ) -> Device:
        """A device of this profile; its tags are ``<tag_prefix or name>/<point>``."""
        prefix = tag_prefix if tag_prefix is not None else name
        points = tuple(dataclasses.replace(p, tag=f"{prefix}/{p.tag}") for p in self.points)
        return Device(name, host, groups=self.groups, points=points, **options)


def available_profiles() -> list[str]:
    """Names of the profiles shipped with evsuper."""
    folder = resources.files(__package__) / "profiles"
    return sorted(
        f.name.removesuffix(".toml") for f in folder.iterdir() if f.name.endswith(".toml")
    )


def load_profile(name: str) -> Profile:
    """A shipped profile by name (``ev-charger``, ``energy-meter``, ``pv-inverter``)."""
    source = resources.files(__package__) / "profiles" / f"{name}.toml"
    if not source.is_file():
        raise ConfigError(f"no Modbus profile {name!r} (known: {', '.join(available_profiles())})")
    return parse_profile(source.read_text(encoding="utf-8"), f"{name}.toml")


def load_profile_file(path: Path) -> Profile:
    return parse_profile(path.read_text(encoding="utf-8"), str(path))


def parse_profile(text: str, source: str = "<profile>") -> Profile:
    """A profile from TOML text; errors name the source and the offending entry."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    head = data.get("profile", {})
    try:
        groups = tuple(
            PollGroup(str(g["name"]), float(g["period_s"])) for g in data.get("groups", [])
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: groups: {exc}") from None
    points = []
    for index, entry in enumerate(data.get("points", [])):
        label = repr(entry.get("name", f"#{index + 1}"))
        try:
            points.append(parse_point(dict(entry), label))
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None
        except KeyError as exc:
            raise ConfigError(f"{source}: point {label}: missing {exc}") from None
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{source}: point {label}: {exc}") from None
    if "name" not in head:
        raise ConfigError(f"{source}: [profile] needs a name")
    profile = Profile(str(head["name"]), str(head.get("description", "")), groups, tuple(points))
    try:  # checks groups and duplicates as a device would
        profile.device("check", "localhost")
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    return profile


def parse_point(entry: dict[str, Any], label: str) -> Point:
    """A point from its profile table (``name`` is its tag); ``label`` names it in errors."""
    unknown = set(entry) - _POINT_KEYS
    if unknown:
        raise ConfigError(f"point {label}: unknown keys {', '.join(sorted(unknown))}")
    try:
        function = Function(entry["function"])
    except ValueError:
        known = ", ".join(f.value for f in Function)
        raise ConfigError(
            f"point {label}: unknown function {entry['function']!r} (known: {known})"
        ) from None
    default_type = "bool" if function.is_bit else "uint16"
    try:
        data_type, length = parse_data_type(str(entry.get("type", default_type)))
    except ConfigError as exc:
        raise ConfigError(f"point {label}: {exc}") from None
    return Point(
        tag=str(entry["name"]),
        function=function,
        address=int(entry["address"]),
        data_type=data_type,
        length=length,
        word_order=Order(entry.get("word_order", "big")),
        byte_order=Order(entry.get("byte_order", "big")),
        scale=float(entry.get("scale", 1.0)),
        offset=float(entry.get("offset", 0.0)),
        unit=str(entry.get("unit", "")),
        writable=bool(entry.get("writable", False)),
        group=str(entry.get("group", "default")),
    )
