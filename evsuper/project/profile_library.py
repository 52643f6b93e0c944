"""The charging profile library: ``charging_profiles.toml`` beside ``project.toml``.

Named profile templates an operator creates, edits and uploads to chargers again and
again (docs/smart_charging.md, "Profile management"). One ``[[profiles]]`` table per
template, sorted by name: the fields of an OCPP 1.6 ``ChargingProfile`` (``profile_id``,
``stack_level``, ``purpose``, ``kind``, ``recurrency``, ``start_schedule``, ``unit``,
``duration_s``, ``valid_from``, ``valid_to``, ``min_charging_rate``) and its ``periods``
(``start_s``, ``limit``, ``number_phases``). A template names no charger: the operator
chooses where it goes when uploading it. Errors name the file, the line and the field, as
``project.toml``'s do; the file is written through ``history.save_project_files`` only,
so every save is a version of the project.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from evsuper.charging.profiles import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    RecurrencyKind,
    SchedulePeriod,
)
from evsuper.core.timeutil import to_wire
from evsuper.project.history import Version, save_project_files
from evsuper.project.layout import _string
from evsuper.project.loader import FieldPath, _Reader, read_toml

PROFILE_LIBRARY_FILE = "charging_profiles.toml"
PROFILE_LIBRARY_FORMAT = 1


@dataclass(frozen=True, slots=True)
class ProfileTemplate:
    name: str  # unique in the library
    profile: ChargingProfile
    description: str = ""


@dataclass(frozen=True, slots=True)
class ProfileLibrary:
    templates: tuple[ProfileTemplate, ...] = ()  # sorted by name

    def get(self, name: str) -> ProfileTemplate | None:
        return next((t for t in self.templates if t.name == name), None)

    def with_template(self, template: ProfileTemplate, replacing: str = "") -> ProfileLibrary:
        """This library with ``template`` added, or replacing the one named ``replacing``
        (a rename) or of the same name."""
        kept = [t for t in self.templates if t.name not in (template.name, replacing)]
        return ProfileLibrary(tuple(sorted([*kept, template], key=lambda t: t.name)))

    def without(self, name: str) -> ProfileLibrary:
        return ProfileLibrary(tuple(t for t in self.templates if t.name != name))


# ---- the file's shape (read with the project loader's typed reader)


@dataclass(frozen=True, slots=True)
class _PeriodRecord:
    start_s: int
    limit: float
    number_phases: int | None = None


@dataclass(frozen=True, slots=True)
class _TemplateRecord:
    name: str
    profile_id: int
    stack_level: int
    purpose: ChargingProfilePurpose
    kind: ChargingProfileKind
    unit: ChargingRateUnit
    periods: tuple[_PeriodRecord, ...]
    description: str = ""
    recurrency: RecurrencyKind | None = None
    start_schedule: datetime | None = None
    duration_s: int | None = None
    min_charging_rate: float | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None


# Where the profile's own validation names a wire field, the file's field it comes from.
_FIELDS = {
    "stackLevel": "stack_level",
    "recurrencyKind": "recurrency",
    "startSchedule": "start_schedule",
    "validFrom": "valid_from",
    "validTo": "valid_to",
    "duration": "duration_s",
    "minChargingRate": "min_charging_rate",
}


def load_profile_library(directory: Path) -> ProfileLibrary:
    """The library of the project in ``directory`` (empty when it has no file)."""
    file = directory / PROFILE_LIBRARY_FILE
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ProfileLibrary()
    return parse_profile_library(text, file)


def parse_profile_library(text: str, file: Path) -> ProfileLibrary:
    """The library in ``text``; ``ProjectError`` (file, line, field) for the first problem."""
    data = read_toml(text, file)
    reader = _Reader(text, file)
    for key in data:
        if key not in ("format_version", "profiles"):
            reader.fail((key,), "unknown setting (expected format_version, profiles)")
    if data.get("format_version") != PROFILE_LIBRARY_FORMAT:
        reader.fail(("format_version",), f"missing, or not {PROFILE_LIBRARY_FORMAT}")
    items = data.get("profiles", [])
    if not isinstance(items, list):
        reader.fail(("profiles",), "must be an array of tables ([[profiles]])")
    library = ProfileLibrary()
    for i, item in enumerate(items):
        path: FieldPath = ("profiles", i)
        record: _TemplateRecord = reader.build(_TemplateRecord, item, path)
        if not record.name.strip():
            reader.fail((*path, "name"), "a template needs a name")
        if library.get(record.name) is not None:
            reader.fail((*path, "name"), f"duplicate template {record.name!r}")
        template = ProfileTemplate(record.name, _profile(reader, record, path), record.description)
        library = library.with_template(template)
    return library


def _profile(reader: _Reader, record: _TemplateRecord, path: FieldPath) -> ChargingProfile:
    periods = []
    for j, period in enumerate(record.periods):
        try:
            periods.append(SchedulePeriod(period.start_s, period.limit, period.number_phases))
        except ValueError as invalid:
            reader.fail((*path, "periods", j), str(invalid))
    try:
        schedule = ChargingSchedule(
            unit=record.unit,
            periods=tuple(periods),
            duration_s=record.duration_s,
            start=record.start_schedule,
            min_charging_rate=record.min_charging_rate,
        )
        return ChargingProfile(
            profile_id=record.profile_id,
            stack_level=record.stack_level,
            purpose=record.purpose,
            kind=record.kind,
            schedule=schedule,
            recurrency=record.recurrency,
            valid_from=record.valid_from,
            valid_to=record.valid_to,
        )
    except ValueError as invalid:
        text = str(invalid)
        field = next((f for wire, f in _FIELDS.items() if wire in text), "periods")
        reader.fail((*path, field), text)


def library_text(library: ProfileLibrary) -> str:
    """``library`` as ``charging_profiles.toml``: one table per template, by name."""
    lines = [
        "# Charging profile library (docs/smart_charging.md, Profile management): named",
        "# OCPP 1.6 profile templates, uploaded to chargers from evsuper's Charging profiles",
        "# window. Times are UTC; period starts and durations in seconds.",
        f"format_version = {PROFILE_LIBRARY_FORMAT}",
    ]
    for template in sorted(library.templates, key=lambda t: t.name):
        profile = template.profile
        schedule = profile.schedule
        lines += ["", "[[profiles]]", f"name = {_string(template.name)}"]
        if template.description:
            lines.append(f"description = {_string(template.description)}")
        lines += [
            f"profile_id = {profile.profile_id}",
            f"stack_level = {profile.stack_level}",
            f"purpose = {_string(profile.purpose.value)}",
            f"kind = {_string(profile.kind.value)}",
        ]
        if profile.recurrency is not None:
            lines.append(f"recurrency = {_string(profile.recurrency.value)}")
        if schedule.start is not None:
            lines.append(f"start_schedule = {_time(schedule.start)}")
        lines.append(f"unit = {_string(schedule.unit.value)}")
        if schedule.duration_s is not None:
            lines.append(f"duration_s = {schedule.duration_s}")
        if schedule.min_charging_rate is not None:
            lines.append(f"min_charging_rate = {_number(schedule.min_charging_rate)}")
        if profile.valid_from is not None:
            lines.append(f"valid_from = {_time(profile.valid_from)}")
        if profile.valid_to is not None:
            lines.append(f"valid_to = {_time(profile.valid_to)}")
        lines.append("periods = [")
        for period in schedule.periods:
            phases = (
                "" if period.number_phases is None else f", number_phases = {period.number_phases}"
            )
            lines.append(
                f"  {{ start_s = {period.start_s}, limit = {_number(period.limit)}{phases} }},"
            )
        lines.append("]")
    return "\n".join(lines) + "\n"


def save_profile_library(
    directory: Path, library: ProfileLibrary, author: str, summary: str
) -> Version:
    """Write ``charging_profiles.toml`` as a new version of the project's history."""
    return save_project_files(
        directory, {PROFILE_LIBRARY_FILE: library_text(library)}, author, summary
    )


def _time(ts: datetime) -> str:
    """A TOML offset date-time in UTC, to the second when that is exact."""
    if ts.microsecond:
        return to_wire(ts)
    return ts.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _number(value: float) -> str:
    return repr(float(value))
