"""project.toml loading: valid projects load; every error names file, line and field."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from evsuper.project.loader import ProjectError, load_project
from evsuper.project.model import (
    AuthorizationMode,
    Badge,
    BadgeStatus,
    SecurityProfile,
    UnknownChargerPolicy,
)
from evsuper.project.new import write_new_project

ROOT = Path(__file__).resolve().parents[2]

GOOD = """\
format_version = 2
name = "Test site"

[ocpp]
port = 9100
unknown_chargers = "pending"
authorization = "open"

[[badges]]
id_tag = "B1"

[[chargers]]
id = "CP-1"
connectors = 2
max_power_kw = 22

[[chargers]]
id = "CP-2"
connectors = 1
max_power_kw = 7.4

[[sites]]
id = "S"

[[areas]]
id = "A"
site = "S"
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "project.toml").write_text(text)
    return tmp_path


def error_for(tmp_path: Path, text: str) -> ProjectError:
    with pytest.raises(ProjectError) as info:
        load_project(write(tmp_path, text))
    return info.value


def test_valid_project_loads_with_defaults(tmp_path: Path) -> None:
    project = load_project(write(tmp_path, GOOD))
    assert project.name == "Test site"
    assert project.ocpp.port == 9100
    assert project.ocpp.heartbeat_interval_s == 60
    assert project.ocpp.unknown_chargers is UnknownChargerPolicy.PENDING
    assert project.ocpp.authorization is AuthorizationMode.OPEN
    assert [(c.id, c.connectors, c.max_power_kw) for c in project.chargers] == [
        ("CP-1", 2, 22.0),
        ("CP-2", 1, 7.4),
    ]
    assert project.archive_url() == f"sqlite:///{tmp_path.resolve()}/archive.sqlite"


def test_demo_project_loads() -> None:
    project = load_project(ROOT / "projects" / "demo")
    assert len(project.chargers) == 16
    assert [s.id for s in project.sites] == ["DEMO", "DEPOT"]
    assert {c.connectors for c in project.chargers if c.area != "BAYS"} == {2}
    assert project.simulator.enabled


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "message"),
    [
        ("port = 9100", 'port = "x"', 5, "ocpp.port", "expected an integer"),
        ("port = 9100", "port = 70000", 5, "ocpp.port", "TCP port"),
        ('"pending"', '"maybe"', 6, "ocpp.unknown_chargers", "'maybe' is not one of"),
        ("max_power_kw = 7.4", "max_power_kw = -1", 20, "chargers[1].max_power_kw", "positive"),
        ('id = "CP-2"', 'id = "CP-1"', 18, "chargers[1].id", "duplicate"),
        ('id = "CP-2"', 'id = "CP 2/x"', 18, "chargers[1].id", "not a valid charge point id"),
        ("connectors = 1", "connectors = 0", 19, "chargers[1].connectors", "between 1 and 16"),
        ("connectors = 1", "conectors = 1", 19, "chargers[1].conectors", "unknown setting"),
        ('id_tag = "B1"', 'name = "B1"', 9, "badges[0].id_tag", "required setting is missing"),
        ("format_version = 2", "format_version = 99", 1, "format_version", "newer"),
        ('site = "S"', 'site = "T"', 27, "areas[0].site", "not a [[sites]] id"),
        (
            "max_power_kw = 7.4",
            'max_power_kw = 7.4\narea = "B"',
            21,
            "chargers[1].area",
            "not an area",
        ),
    ],
)
def test_bad_field_names_file_line_and_field(
    tmp_path: Path, old: str, new: str, line: int, field: str, message: str
) -> None:
    assert old in GOOD
    error = error_for(tmp_path, GOOD.replace(old, new, 1))
    assert error.file == tmp_path / "project.toml"
    assert (error.line, error.field) == (line, field)
    assert message in error.message
    assert str(error).startswith(f"{tmp_path / 'project.toml'}:{line}: {field}: ")


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    error = error_for(tmp_path, GOOD.replace("port = 9100", "port = = 9100"))
    assert error.line == 5
    assert "not valid TOML" in error.message


def test_missing_project_file(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match=r"no project\.toml"):
        load_project(tmp_path)


def test_new_project_round_trip(tmp_path: Path) -> None:
    project = write_new_project(
        tmp_path / "site",
        bollards=20,
        connectors=3,
        id_pattern="CP-{:03d}",
        authorization=AuthorizationMode.OPEN,
        unknown_chargers=UnknownChargerPolicy.ACCEPT,
    )
    assert [c.id for c in project.chargers][:2] == ["CP-001", "CP-002"]
    assert project.chargers[-1].id == "CP-020"
    assert {c.connectors for c in project.chargers} == {3}
    assert project.ocpp.authorization is AuthorizationMode.OPEN
    assert project.ocpp.unknown_chargers is UnknownChargerPolicy.ACCEPT
    assert project.ocpp.local_list_version == 1
    assert "raise it whenever a badge" in project.file.read_text()
    with pytest.raises(FileExistsError):
        write_new_project(tmp_path / "site", bollards=1)


def test_new_project_rejects_pattern_without_field(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="duplicate ids"):
        write_new_project(tmp_path / "site", bollards=3, id_pattern="CP")


BADGES = """\
format_version = 1
name = "Badges"

[ocpp]
local_list_version = 7

[[badges]]
id_tag = "FLEET"
name = "Fleet"

[[badges]]
id_tag = "DRIVER-1"
status = "Blocked"
expiry = "2027-01-31T23:00:00+01:00"
parent_id_tag = "FLEET"

[[badges]]
id_tag = "DRIVER-2"
expiry = 2027-02-01T08:30:00Z
"""


def test_badge_fields_and_local_list_version_load(tmp_path: Path) -> None:
    project = load_project(write(tmp_path, BADGES))
    assert project.ocpp.local_list_version == 7
    fleet, driver1, driver2 = project.badges
    assert fleet == Badge("FLEET", "Fleet")
    assert (fleet.status, fleet.expiry, fleet.parent_id_tag) == (BadgeStatus.ACCEPTED, None, None)
    assert driver1.status is BadgeStatus.BLOCKED
    assert driver1.expiry == datetime(2027, 1, 31, 22, 0, tzinfo=UTC)
    assert driver1.parent_id_tag == "FLEET"
    assert driver2.expiry == datetime(2027, 2, 1, 8, 30, tzinfo=UTC)
    assert load_project(write(tmp_path, GOOD)).ocpp.local_list_version == 1


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "message"),
    [
        ('"DRIVER-1"', '"' + "X" * 21 + '"', 12, "badges[1].id_tag", "1 to 20 characters"),
        ('id_tag = "FLEET"', 'id_tag = ""', 8, "badges[0].id_tag", "1 to 20 characters"),
        (
            'parent_id_tag = "FLEET"',
            f'parent_id_tag = "{"P" * 21}"',
            15,
            "badges[1].parent_id_tag",
            "1 to 20",
        ),
        ('"DRIVER-2"', '"DRIVER-1"', 18, "badges[2].id_tag", "duplicate badge"),
        ('"Blocked"', '"Lost"', 13, "badges[1].status", "'Lost' is not one of"),
        ("+01:00", "", 14, "badges[1].expiry", "with a time zone"),
        ('"2027-01-31T23:00:00+01:00"', '"2027-01-31"', 14, "badges[1].expiry", "ISO 8601"),
        ("T23:00:00", "T25:00:00", 14, "badges[1].expiry", "ISO 8601 date-time"),
        ('"2027-01-31T23:00:00+01:00"', "20270131", 14, "badges[1].expiry", "ISO 8601"),
        ("2027-02-01T08:30:00Z", "2027-02-01T08:30:00", 19, "badges[2].expiry", "time zone"),
        ("version = 7", "version = 0", 5, "ocpp.local_list_version", "at least 1"),
    ],
)
def test_bad_badge_names_file_line_and_field(
    tmp_path: Path, old: str, new: str, line: int, field: str, message: str
) -> None:
    assert old in BADGES
    error = error_for(tmp_path, BADGES.replace(old, new, 1))
    assert (error.line, error.field) == (line, field)
    assert message in error.message


# a real argon2id hash (of "x" * 16), as `evsuper charger-password` writes it
ARGON2_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$VCmk2dLoAHHBkZ0cnOj/3Q"
    "$CVSYdCXaLlFAhTEjHQFFu6Wn+Kd5qYkec0EphHajX+w"
)
SECURE = GOOD.replace(
    'authorization = "open"', 'authorization = "open"\nsecurity_profile = 1'
).replace('id = "CP-1"', f'id = "CP-1"\npassword_hash = "{ARGON2_HASH}"')


def test_security_profile_1_with_password_hashes_loads(tmp_path: Path) -> None:
    text = SECURE.replace('id = "CP-2"', f'id = "CP-2"\npassword_hash = "{ARGON2_HASH}"')
    project = load_project(write(tmp_path, text))
    assert project.ocpp.security_profile is SecurityProfile.BASIC_AUTH
    assert [c.password_hash for c in project.chargers] == [ARGON2_HASH, ARGON2_HASH]
    assert ARGON2_HASH not in repr(project)
    assert load_project(write(tmp_path, GOOD)).ocpp.security_profile is SecurityProfile.NONE


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "message"),
    [
        # profile 1 and CP-2 has no hash: the line of its [[chargers]] table
        ("", "", 19, "chargers[1].password_hash", "required by security_profile = 1"),
        (ARGON2_HASH, "hunter2-in-clear", 15, "chargers[0].password_hash", "not an argon2 hash"),
        (ARGON2_HASH, "$argon2id$v=19$nonsense", 15, "chargers[0].password_hash", "argon2"),
        ("security_profile = 1", "security_profile = 4", 8, "ocpp.security_profile", "0, 1, 2, 3"),
        ("security_profile = 1", "security_profile = true", 8, "ocpp.security_profile", "0, 1"),
        # profile 2 keeps the password rules of profile 1
        ("security_profile = 1", "security_profile = 2", 19, "chargers[1].password_hash", "= 2"),
    ],
)
def test_security_errors_name_file_line_and_field(
    tmp_path: Path, old: str, new: str, line: int, field: str, message: str
) -> None:
    assert old in SECURE
    error = error_for(tmp_path, SECURE.replace(old, new, 1))
    assert (error.line, error.field) == (line, field)
    assert message in error.message


TLS = GOOD.replace(
    'authorization = "open"',
    'authorization = "open"\nsecurity_profile = 3\ntls_certificate = "tls/server.pem"\n'
    'tls_private_key = "tls/server.key"\ntls_client_ca = "tls/ca.pem"\n\n'
    '[simulator]\ntls_ca = "tls/ca.pem"\ntls_client_dir = "tls/bollards"',
)


def write_tls_files(directory: Path) -> None:
    (directory / "tls" / "bollards").mkdir(parents=True)
    for name in ("server.pem", "server.key", "ca.pem"):
        (directory / "tls" / name).write_text("PEM\n")


def test_tls_profiles_load(tmp_path: Path) -> None:
    write_tls_files(tmp_path)
    project = load_project(write(tmp_path, TLS))
    assert project.ocpp.security_profile is SecurityProfile.TLS_CLIENT_CERT
    assert project.path(project.ocpp.tls_client_ca or "") == tmp_path / "tls" / "ca.pem"
    assert project.simulator.tls_client_dir == "tls/bollards"
    text = TLS.replace("security_profile = 3", "security_profile = 2").replace(
        'id = "CP-2"', f'id = "CP-2"\npassword_hash = "{ARGON2_HASH}"'
    )
    text = text.replace('id = "CP-1"', f'id = "CP-1"\npassword_hash = "{ARGON2_HASH}"')
    assert load_project(write(tmp_path, text)).ocpp.security_profile.tls


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "message"),
    [
        ('tls_certificate = "tls/server.pem"', "", 4, "ocpp.tls_certificate", "required by"),
        ('tls_private_key = "tls/server.key"', "", 4, "ocpp.tls_private_key", "required by"),
        ('tls_client_ca = "tls/ca.pem"', "", 4, "ocpp.tls_client_ca", "security_profile = 3"),
        ("tls/server.pem", "tls/absent.pem", 9, "ocpp.tls_certificate", "no such file"),
        ("tls/server.key", "tls", 10, "ocpp.tls_private_key", "no such file"),
        ('tls_ca = "tls/ca.pem"', 'tls_ca = "nope.pem"', 14, "simulator.tls_ca", "no such file"),
        ("tls/bollards", "tls/ca.pem", 15, "simulator.tls_client_dir", "no such folder"),
    ],
)
def test_tls_errors_name_file_line_and_field(
    tmp_path: Path, old: str, new: str, line: int, field: str, message: str
) -> None:
    write_tls_files(tmp_path)
    assert old in TLS
    error = error_for(tmp_path, TLS.replace(old, new, 1))
    assert (error.line, error.field) == (line, field)
    assert message in error.message
    assert str(tmp_path / "project.toml") in str(error)


@pytest.mark.parametrize(
    ("retention", "field", "message"),
    [
        ("meter_samples = 90\naudit_log = 30", "archive.retention_days.audit_log", "may be pruned"),
        ("meter_samples = 0", "archive.retention_days.meter_samples", "at least 1 day"),
    ],
)
def test_retention_names_prunable_tables_only(
    tmp_path: Path, retention: str, field: str, message: str
) -> None:
    text = GOOD + f"\n[archive.retention_days]\n{retention}\n"
    error = error_for(tmp_path, text)
    assert error.field == field and message in error.message
    assert error.line == text.splitlines().index(retention.splitlines()[-1]) + 1


def test_retention_is_read(tmp_path: Path) -> None:
    (tmp_path / "project.toml").write_text(
        GOOD + "\n[archive.retention_days]\nmeter_samples = 90\nalarm_journal = 730\n"
    )
    assert load_project(tmp_path).archive.retention_days == {
        "meter_samples": 90,
        "alarm_journal": 730,
    }
