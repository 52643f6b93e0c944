"""Typed settings of OPC UA endpoints and their points, read from a project's ``[[devices]]``.

A device is one endpoint (``opc.tcp://host:port/path``); its points bind node ids to
tags. ``parse_endpoint`` validates a ``DeviceSettings`` and raises ``DriverConfigError``
naming the device, the field and the place in the project file.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from asyncua import ua

from evsuper.core.tags import TagPath
from evsuper.drivers.base import DeviceSettings, DriverConfigError

SCHEME = "opc.tcp"
DEFAULT_PORT = 4840
DEFAULT_APPLICATION_URI = "urn:evsuper:client"  # the SubjectAltName URI of its certificate


class SecurityPolicy(StrEnum):
    NONE = "None"
    BASIC256SHA256 = "Basic256Sha256"


class SecurityMode(StrEnum):
    NONE = "None"
    SIGN = "Sign"
    SIGN_AND_ENCRYPT = "SignAndEncrypt"


class Authentication(StrEnum):
    ANONYMOUS = "anonymous"
    USERNAME = "username"  # password from an environment variable, never from the file
    CERTIFICATE = "certificate"  # the client certificate and key are the user's identity


class DeadbandType(StrEnum):
    NONE = "none"
    ABSOLUTE = "absolute"  # in the node's (unscaled) units
    PERCENT = "percent"  # of the node's EURange span


class Mode(StrEnum):
    SUBSCRIBE = "subscribe"  # monitored items in one subscription (the default)
    POLL = "poll"  # periodic Read requests, for servers without subscriptions


@dataclass(frozen=True, slots=True)
class Point:
    """One variable of the server bound to a tag. The tag's value is ``raw * scale``."""

    tag: TagPath
    node: str  # "ns=2;s=Building.Load", "i=2258" or "nsu=urn:...;s=..."
    sampling_ms: float = 1000.0
    deadband: float = 0.0
    deadband_type: DeadbandType = DeadbandType.NONE
    writable: bool = False
    scale: float = 1.0
    unit: str = ""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One OPC UA server and what evsuper reads and writes there."""

    name: str
    url: str
    security_policy: SecurityPolicy = SecurityPolicy.NONE
    security_mode: SecurityMode = SecurityMode.NONE
    authentication: Authentication = Authentication.ANONYMOUS
    username: str = ""
    password_env: str = ""  # name of the environment variable holding the password
    certificate: Path | None = None  # client (application instance) certificate
    private_key: Path | None = None
    server_certificate: Path | None = None  # pins the server; else taken from its endpoint
    application_uri: str = DEFAULT_APPLICATION_URI
    connect_timeout_s: float = 5.0
    request_timeout_s: float = 4.0
    watchdog_s: float = 5.0  # a quiet connection is probed this often, answer due as soon
    reconnect_min_s: float = 1.0  # back-off doubles from here ...
    reconnect_max_s: float = 60.0  # ... up to here
    mode: Mode = Mode.SUBSCRIBE
    publishing_ms: float = 0.0  # 0: the smallest sampling interval of the points
    points: tuple[Point, ...] = ()
    simulate: bool = False  # served by the driver's own simulator (the address is ignored)

    @property
    def secure(self) -> bool:
        return self.security_policy is not SecurityPolicy.NONE

    @property
    def publishing_interval_ms(self) -> float:
        if self.publishing_ms:
            return self.publishing_ms
        return min((p.sampling_ms for p in self.points), default=1000.0)

    def password(self) -> str:
        """The password, read from the environment when connecting (never stored)."""
        value = os.environ.get(self.password_env)
        if value is None:
            raise DriverConfigError(
                f"device {self.name!r}: environment variable {self.password_env} is not set"
            )
        return value


_ENDPOINT_KEYS = {
    "security_policy",
    "security_mode",
    "authentication",
    "username",
    "password_env",
    "certificate",
    "private_key",
    "server_certificate",
    "application_uri",
    "connect_timeout_s",
    "request_timeout_s",
    "watchdog_s",
    "reconnect_min_s",
    "reconnect_max_s",
    "mode",
    "publishing_ms",
    "points",
    "simulate",
}
_POINT_KEYS = {
    "tag",
    "node",
    "sampling_ms",
    "deadband",
    "deadband_type",
    "writable",
    "scale",
    "unit",
}


class _Fields:
    """Reads typed fields of one table and names the device and field on errors."""

    def __init__(self, settings: DeviceSettings, table: Mapping[str, Any], prefix: str) -> None:
        self._settings = settings
        self._table = table
        self._prefix = prefix

    def error(self, name: str, message: str) -> DriverConfigError:
        where = f" ({self._settings.source})" if self._settings.source else ""
        return DriverConfigError(
            f"device {self._settings.name!r}{where}: field '{self._prefix}{name}': {message}"
        )

    def unknown(self, known: set[str]) -> None:
        extra = sorted(set(self._table) - known)
        if extra:
            raise self.error(extra[0], f"unknown field (known: {', '.join(sorted(known))})")

    def text(self, name: str, default: str = "") -> str:
        value = self._table.get(name, default)
        if not isinstance(value, str):
            raise self.error(name, f"must be a string, not {value!r}")
        return value

    def number(self, name: str, default: float, *, minimum: float = 0.0) -> float:
        value = self._table.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(name, f"must be a number, not {value!r}")
        if not math.isfinite(value) or value < minimum:
            raise self.error(name, f"must be a finite number >= {minimum:g}, not {value!r}")
        return float(value)

    def flag(self, name: str, default: bool) -> bool:
        value = self._table.get(name, default)
        if not isinstance(value, bool):
            raise self.error(name, f"must be true or false, not {value!r}")
        return value

    def choice(self, name: str, enum: type[StrEnum], default: StrEnum) -> Any:
        value = self._table.get(name, default.value)
        for member in enum:
            if isinstance(value, str) and value.lower() == member.value.lower():
                return member
        known = ", ".join(m.value for m in enum)
        raise self.error(name, f"{value!r} is not one of {known}")

    def path(self, name: str, project_dir: Path) -> Path | None:
        value = self.text(name)
        if not value:
            return None
        path = (project_dir / value).resolve()
        if not path.is_file():
            raise self.error(name, f"no such file: {path}")
        return path


def parse_endpoint(settings: DeviceSettings, project_dir: Path) -> Endpoint:
    """The typed endpoint of one ``[[devices]]`` entry whose address is ``opc.tcp://``."""
    fields = _Fields(settings, settings.options, "")
    fields.unknown(_ENDPOINT_KEYS)
    url = urlparse(settings.address)
    if url.scheme.lower() != SCHEME or not url.hostname:
        raise fields.error("address", f"{settings.address!r} is not opc.tcp://host:port/path")
    try:
        port = url.port or DEFAULT_PORT
    except ValueError:
        raise fields.error("address", f"bad port in {settings.address!r}") from None
    if url.username or url.password:
        raise fields.error("address", "credentials do not belong in the address")
    address = url._replace(scheme=SCHEME, netloc=f"{url.hostname}:{port}").geturl()

    policy: SecurityPolicy = fields.choice("security_policy", SecurityPolicy, SecurityPolicy.NONE)
    mode: SecurityMode = fields.choice(
        "security_mode",
        SecurityMode,
        SecurityMode.SIGN_AND_ENCRYPT if policy is not SecurityPolicy.NONE else SecurityMode.NONE,
    )
    if (policy is SecurityPolicy.NONE) != (mode is SecurityMode.NONE):
        raise fields.error(
            "security_mode", f"{mode.value} does not go with security_policy {policy.value}"
        )
    auth: Authentication = fields.choice("authentication", Authentication, Authentication.ANONYMOUS)
    username = fields.text("username")
    password_env = fields.text("password_env")
    if auth is Authentication.USERNAME:
        if not username:
            raise fields.error("username", "required with authentication = 'username'")
        if not password_env:
            raise fields.error("password_env", "name the environment variable holding the password")
    elif username or password_env:
        raise fields.error(
            "username" if username else "password_env",
            "only used with authentication = 'username'",
        )
    simulate = settings.options.get("simulate", False)
    if not isinstance(simulate, bool):
        raise fields.error("simulate", "expected true or false")
    if simulate and (policy is not SecurityPolicy.NONE or auth is not Authentication.ANONYMOUS):
        raise fields.error("simulate", "the simulator serves no security: leave security out")
    certificate = fields.path("certificate", project_dir)
    private_key = fields.path("private_key", project_dir)
    if (policy is not SecurityPolicy.NONE or auth is Authentication.CERTIFICATE) and not (
        certificate and private_key
    ):
        raise fields.error(
            "certificate" if certificate is None else "private_key",
            "a secure channel or certificate authentication needs the client certificate "
            "and its private key",
        )
    reconnect_min_s = fields.number("reconnect_min_s", 1.0, minimum=0.01)
    reconnect_max_s = fields.number("reconnect_max_s", 60.0, minimum=0.01)
    if reconnect_max_s < reconnect_min_s:
        raise fields.error("reconnect_max_s", "must be >= reconnect_min_s")
    raw_points = settings.options.get("points", [])
    if not isinstance(raw_points, list | tuple):
        raise fields.error("points", "must be an array of tables ([[devices.points]])")
    points = tuple(_parse_point(settings, i, raw) for i, raw in enumerate(raw_points))
    seen: set[str] = set()
    for i, point in enumerate(points):
        if point.tag in seen:
            where = _Fields(settings, {}, f"points[{i}].")
            raise where.error("tag", f"duplicate tag {point.tag!r}")
        seen.add(point.tag)
    return Endpoint(
        name=settings.name,
        url=address,
        security_policy=policy,
        security_mode=mode,
        authentication=auth,
        username=username,
        password_env=password_env,
        certificate=certificate,
        private_key=private_key,
        server_certificate=fields.path("server_certificate", project_dir),
        application_uri=fields.text("application_uri") or DEFAULT_APPLICATION_URI,
        connect_timeout_s=fields.number("connect_timeout_s", 5.0, minimum=0.01),
        request_timeout_s=fields.number("request_timeout_s", 4.0, minimum=0.01),
        watchdog_s=fields.number("watchdog_s", 5.0, minimum=0.05),
        reconnect_min_s=reconnect_min_s,
        reconnect_max_s=reconnect_max_s,
        mode=fields.choice("mode", Mode, Mode.SUBSCRIBE),
        publishing_ms=fields.number("publishing_ms", 0.0),
        points=points,
        simulate=simulate,
    )


def _parse_point(settings: DeviceSettings, index: int, raw: Any) -> Point:
    if not isinstance(raw, Mapping):
        raise _Fields(settings, {}, "").error(f"points[{index}]", "must be a table")
    fields = _Fields(settings, raw, f"points[{index}].")
    fields.unknown(_POINT_KEYS)
    tag = fields.text("tag")
    if not tag:
        raise fields.error("tag", "required")
    node = fields.text("node")
    try:
        ua.NodeId.from_string(node)
    except Exception:
        example = "e.g. 'ns=2;s=Building.Load'"
        raise fields.error("node", f"{node!r} is not a node id ({example})") from None
    deadband = fields.number("deadband", 0.0)
    deadband_type: DeadbandType = fields.choice(
        "deadband_type", DeadbandType, DeadbandType.ABSOLUTE if deadband else DeadbandType.NONE
    )
    if deadband_type is DeadbandType.PERCENT and deadband > 100:
        raise fields.error("deadband", "a percent deadband is at most 100")
    scale = fields.number("scale", 1.0, minimum=-math.inf)
    if scale == 0:
        raise fields.error("scale", "must not be 0")
    return Point(
        tag=tag,
        node=node,
        sampling_ms=fields.number("sampling_ms", 1000.0),
        deadband=deadband if deadband_type is not DeadbandType.NONE else 0.0,
        deadband_type=deadband_type,
        writable=fields.flag("writable", False),
        scale=scale,
        unit=fields.text("unit"),
    )
