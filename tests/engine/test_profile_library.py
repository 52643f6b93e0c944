"""The charging profile library: the file, its errors, and saving it through the router."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from evsuper.charging.profiles import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    RecurrencyKind,
    SchedulePeriod,
)
from evsuper.engine.commands import CommandRouter, Outcome, SaveProfileLibrary
from evsuper.engine.profile_library_target import ProfileLibraryTarget
from evsuper.engine.runtime import Engine
from evsuper.project.history import ProjectHistory
from evsuper.project.loader import ProjectError
from evsuper.project.model import Project
from evsuper.project.profile_library import (
    PROFILE_LIBRARY_FILE,
    ProfileLibrary,
    ProfileTemplate,
    library_text,
    load_profile_library,
    parse_profile_library,
)
from evsuper.users.audit import AuditEntry, AuditKind
from evsuper.users.permissions import Actor, Origin, Role

OPERATOR = Actor("olivia", Role.OPERATOR, Origin.HMI)
MAINTAINER = Actor("max", Role.MAINTENANCE, Origin.HMI)

NIGHT = ProfileTemplate(
    "Night 16 A",
    ChargingProfile(
        profile_id=101,
        stack_level=2,
        purpose=ChargingProfilePurpose.TX_DEFAULT,
        kind=ChargingProfileKind.RECURRING,
        recurrency=RecurrencyKind.DAILY,
        schedule=ChargingSchedule(
            ChargingRateUnit.AMPS,
            (SchedulePeriod(0, 16.0), SchedulePeriod(3600, 10.0, 1)),
            duration_s=8 * 3600,
            start=datetime(2026, 11, 22, 21, 0, tzinfo=UTC),
            min_charging_rate=6.0,
        ),
        valid_from=datetime(2026, 11, 1, tzinfo=UTC),
        valid_to=datetime(2027, 3, 1, tzinfo=UTC),
    ),
    'Winter nights, "quoted"',
)
CAP = ProfileTemplate(
    "Cap 22 kW",
    ChargingProfile(
        profile_id=1,
        stack_level=0,
        purpose=ChargingProfilePurpose.CHARGE_POINT_MAX,
        kind=ChargingProfileKind.RELATIVE,
        schedule=ChargingSchedule(ChargingRateUnit.WATTS, (SchedulePeriod(0, 22000.0),)),
    ),
)
LIBRARY = ProfileLibrary().with_template(NIGHT).with_template(CAP)
FILE = Path("/p/charging_profiles.toml")


def test_a_library_round_trips_through_its_file() -> None:
    text = library_text(LIBRARY)
    assert parse_profile_library(text, FILE) == LIBRARY
    assert [t.name for t in LIBRARY.templates] == ["Cap 22 kW", "Night 16 A"]
    assert "start_schedule = 2026-11-22T21:00:00Z" in text
    assert "  { start_s = 3600, limit = 10.0, number_phases = 1 }," in text


def test_templates_are_added_renamed_and_removed() -> None:
    renamed = ProfileTemplate("Nights", NIGHT.profile)
    library = LIBRARY.with_template(renamed, replacing="Night 16 A")
    assert [t.name for t in library.templates] == ["Cap 22 kW", "Nights"]
    assert library.get("Nights") == renamed and library.get("Night 16 A") is None
    assert library.without("Cap 22 kW").templates == (renamed,)


def test_a_missing_file_is_an_empty_library(tmp_path: Path) -> None:
    assert load_profile_library(tmp_path) == ProfileLibrary()


def error_of(text: str) -> ProjectError:
    with pytest.raises(ProjectError) as caught:
        parse_profile_library(text, FILE)
    return caught.value


HEAD = 'format_version = 1\n\n[[profiles]]\nname = "A"\nprofile_id = 1\nstack_level = 0\n'


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        (
            HEAD + 'purpose = "TxDefaultProfile"\nkind = "Absolute"\nunit = "A"\n'
            "periods = [{ start_s = 0, limit = 16.0 }]\n",
            3,  # not set: the line of its table
            "profiles[0].start_schedule",
            "an Absolute profile needs a startSchedule",
        ),
        (
            HEAD + 'purpose = "Bogus"\nkind = "Relative"\nunit = "A"\n'
            "periods = [{ start_s = 0, limit = 16.0 }]\n",
            7,
            "profiles[0].purpose",
            "'Bogus' is not one of 'ChargePointMaxProfile', 'TxDefaultProfile', 'TxProfile'",
        ),
        (
            HEAD + 'purpose = "TxDefaultProfile"\nkind = "Relative"\nunit = "A"\n'
            "periods = [{ start_s = 0, limit = -1.0 }]\n",
            10,
            "profiles[0].periods[0]",
            "limit -1.0 is negative",
        ),
        (
            HEAD + 'purpose = "TxDefaultProfile"\nkind = "Relative"\nunit = "A"\n'
            "periods = [{ start_s = 0, limit = 16.0 }]\n"
            "valid_from = 2027-01-02T00:00:00Z\nvalid_to = 2027-01-01T00:00:00Z\n",
            11,
            "profiles[0].valid_from",
            "validFrom must be before validTo",
        ),
        (
            HEAD + 'purpose = "TxDefaultProfile"\nkind = "Relative"\nunit = "A"\n',
            3,
            "profiles[0].periods",
            "required setting is missing",
        ),
        ("format_version = 2\n", 1, "format_version", "missing, or not 1"),
    ],
)
def test_errors_name_the_line_and_the_field(text: str, line: int, field: str, message: str) -> None:
    error = error_of(text)
    assert (error.line, error.field, error.message) == (line, field, message)
    assert str(error).startswith(f"{FILE}:{line}: {field}: ")


def test_duplicate_names_are_refused() -> None:
    text = library_text(LIBRARY).replace('name = "Cap 22 kW"', 'name = "Night 16 A"')
    error = error_of(text)
    assert (error.field, error.message) == ("profiles[1].name", "duplicate template 'Night 16 A'")


@pytest.fixture
def project(make_project: Any) -> Project:
    made: Project = make_project()
    return made


def router_for(project: Project, audit: list[AuditEntry]) -> CommandRouter:
    router = CommandRouter(audit=audit.append)
    router.add_target(ProfileLibraryTarget(project.directory))
    return router


async def test_an_operator_may_not_save(project: Project) -> None:
    audit: list[AuditEntry] = []
    command = SaveProfileLibrary(library=LIBRARY, actor=OPERATOR)
    result = await router_for(project, audit).execute(command)
    assert (result.outcome, result.status) == (Outcome.DENIED, "PermissionDenied")
    assert [e.kind for e in audit] == [AuditKind.PERMISSION_DENIED]
    assert not (project.directory / PROFILE_LIBRARY_FILE).exists()


async def test_a_maintainer_saves_a_version_and_is_audited(project: Project) -> None:
    audit: list[AuditEntry] = []
    target = ProfileLibraryTarget(project.directory)
    router = CommandRouter(audit=audit.append)
    router.add_target(target)
    command = SaveProfileLibrary(library=LIBRARY, actor=MAINTAINER, summary="night profile")

    result = await router.execute(command)

    assert (result.outcome, result.status) == (Outcome.ACCEPTED, "Saved")
    assert load_profile_library(project.directory) == LIBRARY == target.library
    latest = ProjectHistory(project.directory).versions()[-1]
    assert (latest.author, latest.summary) == ("max", "night profile")
    assert PROFILE_LIBRARY_FILE in latest.files
    assert result.payload == latest
    [entry] = audit
    assert (entry.action, entry.target) == ("SaveProfileLibrary", PROFILE_LIBRARY_FILE)
    assert entry.parameters == {"templates": 2, "summary": "night profile", "confirmed": False}


async def test_a_library_file_that_does_not_load_leaves_it_empty_until_saved(
    project: Project,
) -> None:
    (project.directory / PROFILE_LIBRARY_FILE).write_text("format_version = 7\n")
    target = ProfileLibraryTarget(project.directory)
    assert target.library == ProfileLibrary()
    assert target.problem.endswith(f"{PROFILE_LIBRARY_FILE}:1: format_version: missing, or not 1")

    result = await target.execute(SaveProfileLibrary(library=LIBRARY, actor=MAINTAINER))
    assert result.ok and target.problem == ""
    assert load_profile_library(project.directory) == LIBRARY


async def test_the_engine_holds_and_routes_the_library(project: Project) -> None:
    engine = Engine(project, ocpp_port=0)
    assert engine.profile_library.library == ProfileLibrary()
    result = await engine.router.execute(SaveProfileLibrary(library=LIBRARY, actor=MAINTAINER))
    assert result.ok, result
    assert engine.profile_library.library == LIBRARY
