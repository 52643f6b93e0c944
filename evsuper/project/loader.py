"""Load and validate ``project.toml``; every error names the file, the line and the field."""

from __future__ import annotations

import dataclasses
import functools
import re
import tomllib
import types
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from enum import Enum
from pathlib import Path
from typing import Any, NoReturn, TypeVar, get_args, get_origin, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from argon2 import extract_parameters
from argon2.exceptions import InvalidHashError

from evsuper.alarms.defaults import DEFAULT_DEFINITIONS
from evsuper.alarms.model import ConditionKind
from evsuper.charging.site_model import config_problems, with_area_groups
from evsuper.core.timeutil import from_wire
from evsuper.drivers.base import DeviceSettings, DriverConfigError, DriverContext
from evsuper.drivers.registry import driver_factory
from evsuper.historian.retention import PRUNABLE
from evsuper.project.migrations import upgrade_file, upgrade_text
from evsuper.project.model import (
    FORMAT_VERSION,
    ID_TAG_MAX_LENGTH,
    AlarmSetting,
    ArchiveSettings,
    AreaConfig,
    Badge,
    ChargerConfig,
    ChargerProtocol,
    GroupConfig,
    HmiSettings,
    InitialUser,
    NotificationChannel,
    NotificationSettings,
    OcppSettings,
    OpcUaServerSettings,
    Project,
    ReportSettings,
    SecurityProfile,
    SimulatorSettings,
    SiteConfig,
    SmartChargingSettings,
    TariffSetting,
    UsageProfile,
    bind_devices,
    parse_time_of_day,
    parse_time_range,
)
from evsuper.users.store import NAME_PATTERN

FieldPath = tuple[str | int, ...]
_T = TypeVar("_T")


class ProjectError(Exception):
    """A project file that cannot be used, with where and why."""

    def __init__(self, file: Path, line: int, field: str, message: str) -> None:
        super().__init__(
            f"{file}:{line}: {field}: {message}" if field else f"{file}:{line}: {message}"
        )
        self.file = file
        self.line = line
        self.field = field
        self.message = message


_SECTIONS: dict[str, type] = {
    "ocpp": OcppSettings,
    "archive": ArchiveSettings,
    "simulator": SimulatorSettings,
    "hmi": HmiSettings,
    "notifications": NotificationSettings,
    "reports": ReportSettings,
    "opcua_server": OpcUaServerSettings,
    "smart_charging": SmartChargingSettings,
}
_LISTS: dict[str, type] = {
    "sites": SiteConfig,
    "areas": AreaConfig,
    "chargers": ChargerConfig,
    "badges": Badge,
    "initial_users": InitialUser,
    "alarms": AlarmSetting,
    "tariffs": TariffSetting,
    "groups": GroupConfig,
    "usage_profiles": UsageProfile,
}
_TOP_LEVEL = {"format_version", "name", "devices", *_SECTIONS, *_LISTS}
_CHARGER_ID = re.compile(r"^[A-Za-z0-9._:-]{1,48}$")  # OCPP 1.6: CiString, safe in a URL path
# a time of day followed by a zone: what makes an ISO 8601 date-time unambiguous
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]{3,32}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TIME_WITH_ZONE = re.compile(r"[T ]\d{2}:\d{2}.*(Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)


def load_project(directory: str | Path) -> Project:
    """The project of ``directory``; a file of an older format is upgraded first, on disk,
    its original kept (see ``migrations.upgrade_file``)."""
    directory = Path(directory)
    file = directory / "project.toml"
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProjectError(file, 0, "", "no project.toml in this folder") from None
    try:
        version = tomllib.loads(text).get("format_version")
    except tomllib.TOMLDecodeError:
        version = None  # parse_project says where
    if isinstance(version, int) and not isinstance(version, bool) and version < FORMAT_VERSION:
        text = upgrade_file(file, text, version)
    return parse_project(text, file)


def read_toml(text: str, file: Path) -> dict[str, Any]:
    """The tables of a project file's ``text``; ProjectError with the line when it is not
    TOML."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = int(m.group(1)) if (m := re.search(r"line (\d+)", str(exc))) else 0
        raise ProjectError(file, line, "", f"not valid TOML: {exc}") from None


def parse_project(text: str, file: Path, problems: list[ProjectError] | None = None) -> Project:
    """The project ``text`` of ``file`` describes. Without ``problems`` the first error is
    raised; with it, independent problems are appended to it and reading goes on (a
    structural error that makes going on meaningless is still raised)."""
    data = read_toml(text, file)
    reader = _Reader(text, file, problems)

    for key in data:
        if key not in _TOP_LEVEL:
            reader.problem(
                (key,), f"unknown setting (expected one of {', '.join(sorted(_TOP_LEVEL))})"
            )
    version = data.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        reader.fail(("format_version",), "missing or not an integer")
    if version > FORMAT_VERSION:
        reader.fail(
            ("format_version",),
            f"format {version} is newer than this evsuper understands ({FORMAT_VERSION})",
        )
    if version < FORMAT_VERSION:  # not from a file load_project could upgrade
        return parse_project(upgrade_text(text, version)[0], file, problems)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        reader.problem(("name",), "missing or empty site name")

    sections = {key: reader.build(cls, data.get(key, {}), (key,)) for key, cls in _SECTIONS.items()}
    lists: dict[str, tuple[Any, ...]] = {}
    for key, cls in _LISTS.items():
        items = data.get(key, [])
        if not isinstance(items, list):
            reader.fail((key,), f"must be an array of tables ([[{key}]])")
        lists[key] = tuple(reader.build(cls, item, (key, i)) for i, item in enumerate(items))

    sites, areas = _checked_sites_and_areas(lists["sites"], lists["areas"], reader)
    chargers: tuple[ChargerConfig, ...] = lists["chargers"]
    # a charger that names no area (one registered at run time) stands in the first one
    chargers = tuple(c if c.area else dataclasses.replace(c, area=areas[0].id) for c in chargers)
    area_ids = [a.id for a in areas]
    seen: set[str] = set()
    for i, charger in enumerate(chargers):
        if charger.area not in area_ids:
            reader.problem(
                ("chargers", i, "area"),
                f"{charger.area!r} is not an area (one of {', '.join(area_ids)})",
            )
        if not _CHARGER_ID.match(charger.id):
            reader.problem(("chargers", i, "id"), f"{charger.id!r} is not a valid charge point id")
        if charger.id in seen:
            reader.problem(("chargers", i, "id"), f"duplicate charger id {charger.id!r}")
        seen.add(charger.id)
        if not 1 <= charger.connectors <= 16:
            reader.problem(("chargers", i, "connectors"), "must be between 1 and 16")
        if charger.max_power_kw <= 0:
            reader.problem(("chargers", i, "max_power_kw"), "must be positive")
        if charger.password_hash is not None and not _is_argon2_hash(charger.password_hash):
            reader.problem(
                ("chargers", i, "password_hash"),
                "not an argon2 hash; set it with: evsuper charger-password PROJECT_DIR "
                f"{charger.id}",
            )
    badges: tuple[Badge, ...] = lists["badges"]
    id_tags: set[str] = set()
    for i, badge in enumerate(badges):
        for key, value in (("id_tag", badge.id_tag), ("parent_id_tag", badge.parent_id_tag)):
            if value is not None and not 0 < len(value) <= ID_TAG_MAX_LENGTH:
                reader.problem(("badges", i, key), f"must be 1 to {ID_TAG_MAX_LENGTH} characters")
        if badge.id_tag in id_tags:
            reader.problem(("badges", i, "id_tag"), f"duplicate badge {badge.id_tag!r}")
        id_tags.add(badge.id_tag)
    initial_users: tuple[InitialUser, ...] = lists["initial_users"]
    names: set[str] = set()
    for i, user in enumerate(initial_users):
        if not NAME_PATTERN.fullmatch(user.name):
            reader.problem(("initial_users", i, "name"), "1 to 32 letters, digits, '.', '_' or '-'")
        if user.name in names:
            reader.problem(("initial_users", i, "name"), f"duplicate user {user.name!r}")
        names.add(user.name)
        if not _is_argon2_hash(user.password_hash):
            reader.problem(
                ("initial_users", i, "password_hash"),
                "not an argon2 hash; make one with: evsuper users hash",
            )
    hmi: HmiSettings = sections["hmi"]
    if hmi.idle_logout_min < 0:
        reader.problem(("hmi", "idle_logout_min"), "must be 0 (never) or more minutes")
    archive: ArchiveSettings = sections["archive"]
    for table, days in archive.retention_days.items():
        if table not in PRUNABLE:
            reader.problem(
                ("archive", "retention_days", table),
                f"not a table that may be pruned (one of {', '.join(sorted(PRUNABLE))})",
            )
        if days < 1:
            reader.problem(("archive", "retention_days", table), "must be at least 1 day")
    for rules in ("recording", "tags"):
        for i, rule in enumerate(getattr(archive, rules)):
            where: FieldPath = ("archive", rules, i)
            if not rule.match.strip():
                reader.problem((*where, "match"), 'a name or a glob such as "Power.*"')
            if rule.deadband < 0:
                reader.problem((*where, "deadband"), "must be 0 or more")
            if rule.max_interval_s <= 0:
                reader.problem((*where, "max_interval_s"), "must be positive")
    ocpp: OcppSettings = sections["ocpp"]
    for port_field in ("port", "file_port"):
        if not 0 <= getattr(ocpp, port_field) <= 65535:
            reader.problem(("ocpp", port_field), "must be a TCP port (0-65535)")
    if ocpp.heartbeat_interval_s <= 0:
        reader.problem(("ocpp", "heartbeat_interval_s"), "must be positive")
    if ocpp.offline_after_heartbeats < 1:
        reader.problem(("ocpp", "offline_after_heartbeats"), "must be at least 1")
    if ocpp.local_list_version < 1:
        reader.problem(("ocpp", "local_list_version"), "must be at least 1 (0 means no list)")
    profile = ocpp.security_profile
    if profile.basic_auth:
        for i, charger in enumerate(chargers):
            if charger.password_hash is None:
                reader.problem(
                    ("chargers", i, "password_hash"),
                    f"required by security_profile = {profile.value}; set it with: evsuper "
                    f"charger-password PROJECT_DIR {charger.id}",
                )
    if profile.tls:
        required = ["tls_certificate", "tls_private_key"]
        if profile is SecurityProfile.TLS_CLIENT_CERT:
            required.append("tls_client_ca")
        for key in required:
            if getattr(ocpp, key) is None:
                reader.problem(("ocpp", key), f"required by security_profile = {profile.value}")
    simulator: SimulatorSettings = sections["simulator"]
    for section, key, value, is_dir in (
        ("ocpp", "tls_certificate", ocpp.tls_certificate, False),
        ("ocpp", "tls_private_key", ocpp.tls_private_key, False),
        ("ocpp", "tls_client_ca", ocpp.tls_client_ca, False),
        ("simulator", "tls_ca", simulator.tls_ca, False),
        ("simulator", "tls_client_dir", simulator.tls_client_dir, True),
    ):
        target = file.parent / value if value is not None else None
        if target is not None and not (target.is_dir() if is_dir else target.is_file()):
            kind = "folder" if is_dir else "file"
            reader.problem((section, key), f"no such {kind}: {target}")
    notifications: NotificationSettings = sections["notifications"]
    _check_notifications(reader, notifications, file.parent)
    reports: ReportSettings = sections["reports"]
    _check_reports(reader, reports, notifications)
    opcua_server: OpcUaServerSettings = sections["opcua_server"]
    _check_opcua_server(reader, opcua_server, file.parent)
    smart_charging: SmartChargingSettings = sections["smart_charging"]
    chargers = with_area_groups(lists["groups"], chargers)
    for where, message in config_problems(
        sites, areas, lists["groups"], chargers, smart_charging, lists["usage_profiles"]
    ):
        reader.problem(where, message)

    devices = _checked_devices(data.get("devices", []), chargers, reader)
    return Project(
        directory=file.parent,
        devices=devices,
        name=name.strip() if isinstance(name, str) else "",
        ocpp=ocpp,
        archive=archive,
        simulator=simulator,
        hmi=hmi,
        sites=sites,
        areas=areas,
        chargers=chargers,
        badges=badges,
        initial_users=initial_users,
        notifications=notifications,
        reports=reports,
        opcua_server=opcua_server,
        groups=lists["groups"],
        smart_charging=smart_charging,
        usage_profiles=lists["usage_profiles"],
        alarms=_checked_alarms(lists["alarms"], reader),
        tariffs=_checked_tariffs(lists["tariffs"], badges, reader),
        format_version=version,
    )


_NEW_ALARM_FIELDS = ("condition", "priority", "category", "message")
_LIMIT_CONDITIONS = (ConditionKind.LIMIT_HIGH, ConditionKind.LIMIT_LOW)


def _checked_sites_and_areas(
    sites: tuple[SiteConfig, ...], areas: tuple[AreaConfig, ...], reader: _Reader
) -> tuple[tuple[SiteConfig, ...], tuple[AreaConfig, ...]]:
    """At least one site and one area; ids unique; each area in a known site."""
    if not sites:
        reader.fail(("sites",), "a project needs at least one [[sites]] entry")
    if not areas:
        reader.fail(("areas",), "a project needs at least one [[areas]] entry")
    site_ids = _unique_ids("sites", [site.id for site in sites], reader)
    _unique_ids("areas", [area.id for area in areas], reader)
    for i, area in enumerate(areas):
        if area.site not in site_ids:
            reader.problem(("areas", i, "site"), f"{area.site!r} is not a [[sites]] id")
    return sites, areas


def _unique_ids(key: str, ids: list[str], reader: _Reader) -> set[str]:
    """The ids of the ``[[key]]`` entries, each checked well formed and unique."""
    seen: set[str] = set()
    for i, id_ in enumerate(ids):
        if not _CHARGER_ID.match(id_):
            reader.problem((key, i, "id"), "1 to 48 letters, digits, '.', '_', ':' or '-'")
        if id_ in seen:
            reader.problem((key, i, "id"), f"duplicate {key[:-1]} {id_!r}")
        seen.add(id_)
    return seen


def _checked_alarms(alarms: tuple[AlarmSetting, ...], reader: _Reader) -> tuple[AlarmSetting, ...]:
    """A new alarm (an id no default has) names everything a definition needs."""
    known = {d.id for d in DEFAULT_DEFINITIONS}
    seen: set[str] = set()
    for i, alarm in enumerate(alarms):
        if alarm.id in seen:
            reader.problem(("alarms", i, "id"), f"duplicate alarm {alarm.id!r}")
        seen.add(alarm.id)
        if alarm.id in known:
            continue
        for name in _NEW_ALARM_FIELDS:
            if getattr(alarm, name) is None:
                reader.problem(
                    ("alarms", i, "id"),
                    f"a new alarm needs {name!r} ({alarm.id!r} is no default alarm)",
                )
        if alarm.condition in _LIMIT_CONDITIONS and (alarm.tag is None or alarm.limit is None):
            reader.problem(("alarms", i, "condition"), "a limit alarm needs 'tag' and 'limit'")
    return alarms


_CURRENCY = re.compile(r"^[A-Z]{3}$")
_TARIFF_NAME_MAX = 48  # transactions.tariff


def _checked_tariffs(
    tariffs: tuple[TariffSetting, ...], badges: tuple[Badge, ...], reader: _Reader
) -> tuple[TariffSetting, ...]:
    """Names unique, prices not negative, periods valid and apart, each badge group in one
    tariff at most, one default tariff at most."""
    names: set[str] = set()
    grouped: set[str] = set()
    parents = {b.parent_id_tag for b in badges if b.parent_id_tag}
    defaults = 0
    for i, tariff in enumerate(tariffs):
        where: FieldPath = ("tariffs", i)
        if not 0 < len(tariff.name.strip()) <= _TARIFF_NAME_MAX:
            reader.problem((*where, "name"), f"1 to {_TARIFF_NAME_MAX} characters")
        if tariff.name in names:
            reader.problem((*where, "name"), f"duplicate tariff {tariff.name!r}")
        names.add(tariff.name)
        if not _CURRENCY.fullmatch(tariff.currency):
            reader.problem((*where, "currency"), 'an ISO 4217 code in capitals, e.g. "EUR"')
        for key in ("session_fee", "energy_price_per_kwh", "time_price_per_hour"):
            if getattr(tariff, key) < 0:
                reader.problem((*where, key), "must be 0 or more")
        hours: list[tuple[time, time]] = []
        for j, period in enumerate(tariff.periods):
            try:
                start, end = parse_time_range(period.hours)
            except ValueError as exc:
                reader.problem((*where, "periods", j, "hours"), str(exc))
                continue
            if any(_overlap((start, end), other) for other in hours):
                reader.problem((*where, "periods", j, "hours"), "overlaps another period")
            hours.append((start, end))
            if period.energy_price_per_kwh < 0:
                reader.problem((*where, "periods", j, "energy_price_per_kwh"), "must be 0 or more")
        for j, group in enumerate(tariff.groups):
            if group not in parents:
                reader.problem((*where, "groups", j), f"no badge has parent_id_tag {group!r}")
            if group in grouped:
                reader.problem((*where, "groups", j), f"group {group!r} is in another tariff")
            grouped.add(group)
        defaults += tariff.default
        if defaults > 1:
            reader.problem((*where, "default"), "only one tariff may be the default")
        if not tariff.groups and not tariff.default:
            reader.problem((*where, "groups"), "a tariff needs groups, or default = true")
    return tariffs


def _overlap(a: tuple[time, time], b: tuple[time, time]) -> bool:
    """Two local time ranges (each may wrap midnight) share a minute."""

    def minutes(r: tuple[time, time]) -> set[int]:
        start, end = (t.hour * 60 + t.minute for t in r)
        return set(range(start, end)) if start < end else set(range(start, 1440)) | set(range(end))

    return bool(minutes(a) & minutes(b))


def parse_dataclass(cls: type[_T], table: Any, text: str, file: Path) -> _T:
    """Dataclass ``cls`` from a TOML table of ``text`` (read from ``file``), its names and
    types checked like a project's; ProjectError at the first problem."""
    built: _T = _Reader(text, file).build(cls, table, ())
    return built


def field_line(text: str, path: FieldPath) -> int:
    """1-based line of ``text`` where ``path`` (e.g. ``("sites", 0, "plan")``) is set."""
    return _Reader(text, Path()).locate(path)


class _Reader:
    def __init__(self, text: str, file: Path, problems: list[ProjectError] | None = None) -> None:
        self.lines = text.splitlines()
        self.file = file
        self.problems = problems

    def fail(self, path: FieldPath, message: str) -> NoReturn:
        """A problem that makes reading on meaningless: always raised."""
        raise ProjectError(self.file, self.locate(path), _dotted(path), message)

    def problem(self, path: FieldPath, message: str) -> None:
        """An independent problem: raised, or collected when the reader collects."""
        self.report(ProjectError(self.file, self.locate(path), _dotted(path), message))

    def report(self, error: ProjectError) -> None:
        if self.problems is None:
            raise error
        self.problems.append(error)

    def build(self, cls: type, table: Any, path: FieldPath) -> Any:
        """Build dataclass ``cls`` from a TOML table, checking names and types."""
        if not isinstance(table, dict):
            self.fail(path, "must be a table")
        hints, fields = _shape(cls)
        values: dict[str, Any] = {}
        for key, raw in table.items():
            if key not in fields:
                self.problem((*path, key), f"unknown setting (expected one of {', '.join(fields)})")
                continue
            try:
                values[key] = self.convert(hints[key], raw, (*path, key))
            except ProjectError as error:  # the default stands in for the bad value
                self.report(error)
        for name, f in fields.items():
            no_default = (
                f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            )
            if no_default and name not in values:
                self.fail((*path, name), "required setting is missing")
        return cls(**values)

    def convert(self, kind: Any, raw: Any, path: FieldPath) -> Any:
        if isinstance(kind, types.UnionType) and type(None) in get_args(kind):
            (inner,) = (a for a in get_args(kind) if a is not type(None))
            return self.convert(inner, raw, path)  # TOML has no null: present means set
        if isinstance(kind, type) and issubclass(kind, Enum):
            allowed = [m.value for m in kind]
            if isinstance(raw, bool) or raw not in allowed:
                self.fail(path, f"{raw!r} is not one of {', '.join(map(repr, allowed))}")
            return kind(raw)
        if kind is bool:
            if not isinstance(raw, bool):
                self.fail(path, f"expected true or false, got {raw!r}")
            return raw
        if kind is int:
            if not isinstance(raw, int) or isinstance(raw, bool):
                self.fail(path, f"expected an integer, got {raw!r}")
            return raw
        if kind is float:
            if not isinstance(raw, int | float) or isinstance(raw, bool):
                self.fail(path, f"expected a number, got {raw!r}")
            return float(raw)
        if kind is str:
            if not isinstance(raw, str):
                self.fail(path, f"expected a string, got {raw!r}")
            return raw
        if kind is datetime:
            return self.timestamp(raw, path)
        if kind is Decimal:
            return self.decimal(raw, path)
        if dataclasses.is_dataclass(kind) and isinstance(kind, type):
            return self.build(kind, raw, path)  # a sub-table or an array of tables
        origin, args = get_origin(kind), get_args(kind)
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            if not isinstance(raw, list):
                self.fail(path, f"expected an array, got {raw!r}")
            return tuple(self.convert(args[0], item, (*path, i)) for i, item in enumerate(raw))
        if origin is dict and args[0] is str:
            if not isinstance(raw, dict):
                self.fail(path, f"expected a table, got {raw!r}")
            return {key: self.convert(args[1], value, (*path, key)) for key, value in raw.items()}
        raise TypeError(f"unsupported field type {kind!r} at {_dotted(path)}")

    def decimal(self, raw: Any, path: FieldPath) -> Decimal:
        """An exact amount: a TOML number (as written) or a string like "0.35"."""
        if isinstance(raw, int | float | str) and not isinstance(raw, bool):
            try:
                value = Decimal(str(raw).strip())
            except InvalidOperation:
                pass
            else:
                if value.is_finite():
                    return value
        self.fail(path, f"expected a number, got {raw!r}")

    def timestamp(self, raw: Any, path: FieldPath) -> datetime:
        """An aware date-time: a TOML offset date-time or an ISO 8601 string with a zone."""
        expected = "an ISO 8601 date-time with a time zone, e.g. 2027-01-31T23:59:59Z"
        if isinstance(raw, datetime) and raw.tzinfo is not None:
            return raw
        if isinstance(raw, str) and _TIME_WITH_ZONE.search(raw.strip()):
            try:
                return from_wire(raw.strip())
            except ValueError:
                pass
        self.fail(path, f"expected {expected}, got {raw!r}")

    def locate(self, path: FieldPath) -> int:
        """1-based line where ``path`` is set, else the line of its table, else 1."""
        table: FieldPath = ()
        counts: dict[str, int] = {}
        table_line: dict[FieldPath, int] = {(): 1}
        for number, line in enumerate(self.lines, start=1):
            stripped = line.strip()
            if m := re.match(r"^\[\[\s*([\w.-]+)\s*\]\]", stripped):
                name = m.group(1)
                counts[name] = counts.get(name, -1) + 1
                table = (*name.split("."), counts[name])
                table_line[table] = number
            elif m := re.match(r"^\[\s*([\w.-]+)\s*\]", stripped):
                table = tuple(m.group(1).split("."))
                table_line[table] = number
            elif (m := re.match(r"^([\w-]+)\s*=", stripped)) and (
                (*table, m.group(1)) == path[: len(table) + 1]
            ):
                return number  # the key itself, or an element of its array or inline table
        for length in range(len(path), 0, -1):
            if path[:length] in table_line:
                return table_line[path[:length]]
        return 1


@functools.cache
def _shape(cls: type) -> tuple[dict[str, Any], dict[str, dataclasses.Field[Any]]]:
    """The type hints and fields of dataclass ``cls`` (read once: get_type_hints is slow)."""
    return get_type_hints(cls), {f.name: f for f in dataclasses.fields(cls)}


def _check_notifications(reader: _Reader, settings: NotificationSettings, folder: Path) -> None:
    """What the types alone cannot say about ``[notifications]``."""
    base: FieldPath = ("notifications",)
    if settings.timezone:
        try:
            ZoneInfo(settings.timezone)
        except (ValueError, ZoneInfoNotFoundError):
            reader.problem((*base, "timezone"), f"unknown time zone {settings.timezone!r}")
    names: set[str] = set()
    for i, recipient in enumerate(settings.recipients):
        where: FieldPath = (*base, "recipients", i)
        if not recipient.name.strip():
            reader.problem((*where, "name"), "must not be empty")
        if recipient.name in names:
            reader.problem((*where, "name"), f"duplicate recipient {recipient.name!r}")
        names.add(recipient.name)
        if recipient.email and not _EMAIL.fullmatch(recipient.email):
            reader.problem((*where, "email"), f"{recipient.email!r} is not an e-mail address")
        if recipient.phone and not _PHONE.fullmatch(recipient.phone):
            reader.problem((*where, "phone"), f"{recipient.phone!r} is not a phone number")
        if not recipient.email and not recipient.phone:
            reader.problem((*where, "name"), "a recipient needs an email or a phone (or both)")
    rule_names: set[str] = set()
    used: set[NotificationChannel] = set()
    for i, rule in enumerate(settings.rules):
        where = (*base, "rules", i)
        if rule.name in rule_names:
            reader.problem((*where, "name"), f"duplicate rule {rule.name!r}")
        rule_names.add(rule.name)
        if not rule.recipients:
            reader.problem((*where, "recipients"), "a rule needs at least one recipient")
        if not rule.channels:
            reader.problem((*where, "channels"), 'at least one of "email", "sms"')
        if not rule.on:
            reader.problem((*where, "on"), 'at least one transition, e.g. "activated"')
        used.update(rule.channels)
        for key, listed in (("recipients", rule.recipients), ("escalate_to", rule.escalate_to)):
            for j, name in enumerate(listed):
                target = settings.recipient(name)
                if target is None:
                    known = ", ".join(sorted(names)) or "none defined"
                    reader.problem((*where, key, j), f"unknown recipient {name!r} (known: {known})")
                    continue
                reachable = (NotificationChannel.EMAIL in rule.channels and target.email) or (
                    NotificationChannel.SMS in rule.channels and target.phone
                )
                if not reachable:
                    channels = ", ".join(rule.channels)
                    reader.problem((*where, key, j), f"{name!r} has no address for {channels}")
        for j, pattern in enumerate(rule.chargers):
            if not pattern.strip():
                reader.problem((*where, "chargers", j), "empty pattern")
        if rule.quiet_hours:
            try:
                parse_time_range(rule.quiet_hours)
            except ValueError as exc:
                reader.problem((*where, "quiet_hours"), str(exc))
        if rule.escalate_after_min < 0:
            reader.problem((*where, "escalate_after_min"), "must be 0 (no escalation) or more")
        if rule.escalate_to and rule.escalate_after_min <= 0:
            reader.problem((*where, "escalate_after_min"), "required (> 0) with escalate_to")
        if rule.escalate_after_min > 0 and not rule.escalate_to:
            reader.problem((*where, "escalate_to"), "required with escalate_after_min")
    smtp, sms = settings.smtp, settings.sms
    if not 0 <= smtp.port <= 65535:
        reader.problem((*base, "smtp", "port"), "must be a TCP port (0: the usual one)")
    for section, key, value in (
        ("smtp", "timeout_s", smtp.timeout_s),
        ("sms", "timeout_s", sms.timeout_s),
    ):
        if value <= 0:
            reader.problem((*base, section, key), "must be positive")
    for section, key, env in (
        ("smtp", "password_env", smtp.password_env),
        ("sms", "token_env", sms.token_env),
    ):
        if env and not _ENV_NAME.fullmatch(env):
            reader.problem(
                (*base, section, key),
                f"{env!r} is not an environment variable name (the NAME of the variable "
                "holding the secret: the secret itself never goes into project.toml)",
            )
    if smtp.username and not smtp.password_env:
        reader.problem(
            (*base, "smtp", "password_env"),
            "required with username: the NAME of the environment variable holding the password",
        )
    if smtp.ca_file is not None and not (folder / smtp.ca_file).is_file():
        reader.problem((*base, "smtp", "ca_file"), f"no such file: {folder / smtp.ca_file}")
    if NotificationChannel.EMAIL in used:
        if not smtp.host:
            reader.problem((*base, "smtp", "host"), "required: a rule sends e-mail")
        if not _EMAIL.fullmatch(smtp.sender):
            reader.problem((*base, "smtp", "sender"), "required: the From address of the e-mails")
    if NotificationChannel.SMS in used and not sms.url_template.startswith(("http://", "https://")):
        reader.problem((*base, "sms", "url_template"), "required: the http(s) URL of the gateway")
    templates: list[tuple[FieldPath, str]] = [
        (("url_template",), sms.url_template),
        (("body_template",), sms.body_template),
    ]
    templates += [(("headers", name), value) for name, value in sms.headers.items()]
    for place, template in templates:
        try:
            template.format(to="", text="", token="")
        except (KeyError, IndexError, ValueError) as exc:
            reader.problem(
                (*base, "sms", *place),
                f"bad placeholder {exc} (known: {{to}}, {{text}}, {{token}}; "
                "write {{ and }} for braces)",
            )
    if any(delay < 0 for delay in settings.retry_delays_s):
        reader.problem((*base, "retry_delays_s"), "delays must be 0 or more seconds")
    for key, number in (
        ("max_concurrent_sends", settings.max_concurrent_sends),
        ("queue_limit", settings.queue_limit),
        ("escalation_check_s", settings.escalation_check_s),
    ):
        if number <= 0:
            reader.problem((*base, key), "must be positive")


def _check_reports(
    reader: _Reader, settings: ReportSettings, notifications: NotificationSettings
) -> None:
    """What the types alone cannot say about ``[reports]``."""
    try:
        parse_time_of_day(settings.daily_at)
    except ValueError as exc:
        reader.problem(("reports", "daily_at"), str(exc))
    if not settings.folder.strip():
        reader.problem(("reports", "folder"), "must not be empty")
    for i, address in enumerate(settings.email_to):
        if not _EMAIL.fullmatch(address):
            reader.problem(("reports", "email_to", i), f"{address!r} is not an e-mail address")
    smtp = notifications.smtp
    if settings.email_to and not smtp.host:
        reader.problem(("notifications", "smtp", "host"), "required: [reports] email_to is set")
    if settings.email_to and not _EMAIL.fullmatch(smtp.sender):
        reader.problem(
            ("notifications", "smtp", "sender"), "required: the From address of the reports"
        )


def _check_opcua_server(reader: _Reader, settings: OpcUaServerSettings, folder: Path) -> None:
    where = "opcua_server"
    if not 0 <= settings.port <= 65535:
        reader.problem((where, "port"), "must be a TCP port (0-65535)")
    if not settings.security:
        reader.problem((where, "security"), "at least one security policy")
    if not settings.namespace_uri.strip():
        reader.problem((where, "namespace_uri"), "must not be empty")
    if (settings.certificate is None) != (settings.private_key is None):
        reader.problem((where, "certificate"), "give both certificate and private_key, or neither")
    for key in ("certificate", "private_key"):
        value = getattr(settings, key)
        if value is not None and not (folder / value).is_file():
            reader.problem((where, key), f"no such file: {folder / value}")
    trusted = settings.trusted_clients
    if trusted is not None and not (folder / trusted).is_dir():
        reader.problem((where, "trusted_clients"), f"no such folder: {folder / trusted}")
    if settings.enabled and not settings.user_logins and not settings.allow_anonymous:
        reader.problem(
            (where, "security"),
            "nobody could log in: passwords are never sent in clear over the None endpoint; "
            'add "Basic256Sha256_SignAndEncrypt"',
        )


def _is_argon2_hash(text: str) -> bool:
    if not text.startswith("$argon2"):
        return False
    try:
        extract_parameters(text)
    except InvalidHashError:
        return False
    return True


def _dotted(path: FieldPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


_DEVICE_KEYS = ("name", "address", "enabled")


def _checked_devices(
    raw: Any, chargers: tuple[ChargerConfig, ...], reader: _Reader
) -> tuple[DeviceSettings, ...]:
    """``[[devices]]``: name, address and enabled are checked here, the other keys are the
    driver's options, checked by building the drivers through the registry (nothing
    connects before ``start``). Modbus chargers must name a Modbus device."""
    if not isinstance(raw, list):
        reader.fail(("devices",), "must be an array of tables ([[devices]])")
    devices: list[DeviceSettings] = []
    for i, table in enumerate(raw):
        where: FieldPath = ("devices", i)
        if not isinstance(table, dict):
            reader.fail(where, "must be a table")
        name, address = table.get("name"), table.get("address")
        enabled = table.get("enabled", True)
        if not isinstance(name, str) or not _CHARGER_ID.match(name):
            reader.fail((*where, "name"), "1 to 48 letters, digits, '.', '_', ':' or '-'")
        if any(d.name == name for d in devices):
            reader.problem((*where, "name"), f"duplicate device {name!r}")
        if not isinstance(address, str) or "://" not in address:
            reader.fail((*where, "address"), 'a URL such as "modbus://192.168.1.50:502/1"')
        if not isinstance(enabled, bool):
            reader.problem((*where, "enabled"), f"expected true or false, got {enabled!r}")
            enabled = True
        if "charger" in table:
            reader.problem(
                (*where, "charger"), "set by the [[chargers]] entry naming this device (device =)"
            )
        options = {k: v for k, v in table.items() if k not in _DEVICE_KEYS and k != "charger"}
        source = f"{reader.file.name}:{reader.locate(where)}"
        devices.append(DeviceSettings(name, address, enabled, options, source))
    by_name = {d.name: d for d in devices}
    used: set[str] = set()
    for i, charger in enumerate(chargers):
        where = ("chargers", i, "device")
        if charger.protocol is not ChargerProtocol.MODBUS:
            if charger.device:
                reader.problem(where, 'only a charger with protocol = "modbus" names a device')
            continue
        device = by_name.get(charger.device)
        if device is None or device.scheme != "modbus":
            known = ", ".join(d.name for d in devices if d.scheme == "modbus") or "none"
            reader.problem(where, f"{charger.device!r} is not a modbus device (known: {known})")
        elif charger.device in used:
            reader.problem(where, f"device {charger.device!r} is another charger's")
        used.add(charger.device)
        if charger.connectors != 1:
            reader.problem(("chargers", i, "connectors"), "a Modbus wallbox has 1 connector")
    result = tuple(devices)
    _check_drivers(bind_devices(result, chargers), reader)
    return result


def _check_drivers(devices: tuple[DeviceSettings, ...], reader: _Reader) -> None:
    """Each scheme's driver built (not started) from its devices: what it refuses, where."""
    index = {d.name: i for i, d in enumerate(devices)}
    schemes: dict[str, list[DeviceSettings]] = {}
    for device in devices:
        schemes.setdefault(device.scheme, []).append(device)
    context = DriverContext(publish=lambda path, sample: None, project_dir=reader.file.parent)
    owners: dict[str, str] = {}
    for scheme, members in schemes.items():
        first = index[members[0].name]
        try:
            driver = driver_factory(scheme)(members, context)
            for tag in driver.tags():
                if owners.setdefault(tag, scheme) != scheme:
                    path: FieldPath = ("devices", first, "address")
                    reader.problem(path, f"tag {tag} is also published by a {owners[tag]} device")
        except DriverConfigError as exc:
            if exc.device in index:  # at the line of the option (of "tags" for "tags.a")
                i = index[exc.device]
                line = reader.locate(("devices", i, exc.field.split(".")[0]))
                field = f"{_dotted(('devices', i))}.{exc.field}"
                reader.report(ProjectError(reader.file, line, field, exc.reason))
            else:
                reader.problem(("devices", first, "address"), str(exc))
