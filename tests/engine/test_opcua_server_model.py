"""The OPC UA server's pure parts: the [opcua_server] settings, values and their status
codes, engineering units, what a client's write becomes, site totals."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from asyncua import ua

from evsuper.core.domain import CommState, ConnectorStatus
from evsuper.core.tags import Quality
from evsuper.engine import opcua_model as m
from evsuper.engine.commands import (
    AvailabilityKind,
    ChangeAvailability,
    CommandResult,
    Outcome,
    SetSiteLimit,
)
from evsuper.engine.opcua_server import ANONYMOUS, command_for, status_for
from evsuper.project.loader import ProjectError, parse_project
from evsuper.project.model import ChargerConfig, OpcUaSecurity

PROJECT = """\
format_version = 2
name = "Test site"

[[sites]]
id = "S"

[[areas]]
id = "A"
site = "S"

[[chargers]]
id = "CP-1"
"""
TS = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def parse(tmp_path: Path, section: str) -> Any:
    return parse_project(PROJECT + section, tmp_path / "project.toml")


def test_the_section_is_off_by_default_and_read_when_given(tmp_path: Path) -> None:
    assert parse(tmp_path, "").opcua_server.enabled is False
    settings = parse(
        tmp_path,
        '\n[opcua_server]\nenabled = true\nport = 4841\nsecurity = ["None", '
        '"Basic256Sha256_Sign"]\nallow_anonymous = true\n',
    ).opcua_server
    assert (settings.enabled, settings.port, settings.allow_anonymous) == (True, 4841, True)
    assert settings.security == (OpcUaSecurity.NONE, OpcUaSecurity.BASIC256SHA256_SIGN)


@pytest.mark.parametrize(
    ("section", "field", "message"),
    [
        ("port = 70000", "opcua_server.port", "TCP port"),
        ('security = ["Basic128"]', "opcua_server.security[0]", "not one of"),
        ('certificate = "cert.der"', "opcua_server.certificate", "and private_key"),
        ('trusted_clients = "pki"', "opcua_server.trusted_clients", "no such folder"),
        ('enabled = true\nsecurity = ["None"]', "opcua_server.security", "in clear"),
        (
            'enabled = true\nsecurity = ["None", "Basic256Sha256_Sign"]',
            "opcua_server.security",
            "in clear",
        ),
    ],
)
def test_bad_settings_name_their_line_and_field(
    tmp_path: Path, section: str, field: str, message: str
) -> None:
    with pytest.raises(ProjectError) as error:
        parse(tmp_path, f"\n[opcua_server]\n{section}\n")
    assert error.value.field == field
    assert message in error.value.message
    assert error.value.line > PROJECT.count("\n")


def test_units_are_unece_codes() -> None:
    kw = m.Unit.KILOWATT.eu_information()
    assert (kw.UnitId, kw.DisplayName.Text) == (4937556, "kW")  # "KWT"
    assert m.Unit.KILOWATT_HOUR.eu_information().UnitId == 4937544  # "KWH"
    assert m.Unit.PERCENT.eu_information().UnitId == 20529  # "P1"


@pytest.mark.parametrize(
    ("quality", "code"),
    [
        (Quality.GOOD, ua.StatusCodes.Good),
        (Quality.UNCERTAIN, ua.StatusCodes.Uncertain),
        (Quality.BAD, ua.StatusCodes.Bad),
        (Quality.COMM_FAILURE, ua.StatusCodes.BadCommunicationError),
        (Quality.NOT_CONNECTED, ua.StatusCodes.BadNotConnected),
    ],
)
def test_a_sample_quality_becomes_a_status_code(quality: Quality, code: int) -> None:
    value = m.data_value(7.5, m.ValueType.DOUBLE, TS, quality)
    assert value.StatusCode is not None and value.StatusCode.value == code
    assert value.SourceTimestamp == TS
    good = value.StatusCode.is_good() or value.StatusCode.is_uncertain()
    assert value.Value == (ua.Variant(7.5, ua.VariantType.Double) if good else ua.Variant())


def test_missing_and_stale_values() -> None:
    missing = m.data_value(None, m.ValueType.DOUBLE, TS, Quality.GOOD)
    assert missing.StatusCode == ua.StatusCode(ua.StatusCodes.BadNoValue)
    assert missing.Value == ua.Variant()
    stale = m.data_value(3, m.ValueType.INT32, TS, Quality.GOOD, stale=True)
    assert stale.StatusCode == ua.StatusCode(m.STALE)
    assert stale.Value == ua.Variant(3, ua.VariantType.Int32)
    status = m.data_value(ConnectorStatus.CHARGING, m.ValueType.STRING, TS, Quality.GOOD)
    assert status.Value == ua.Variant("Charging", ua.VariantType.String)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (40, SetSiteLimit(site_id="S", limit_kw=40.0, actor=ANONYMOUS)),
        (None, SetSiteLimit(site_id="S", limit_kw=None, actor=ANONYMOUS)),
        (-1.0, ua.StatusCodes.BadOutOfRange),
        (float("nan"), ua.StatusCodes.BadOutOfRange),
        (True, ua.StatusCodes.BadTypeMismatch),
        ("40", ua.StatusCodes.BadTypeMismatch),
    ],
)
def test_a_limit_write_becomes_a_set_site_limit(value: Any, expected: Any) -> None:
    command = command_for(m.SiteLimitWrite("S"), value, ANONYMOUS)
    if isinstance(expected, int):
        assert command == expected
    else:
        assert isinstance(command, SetSiteLimit)
        assert (command.site_id, command.limit_kw) == (expected.site_id, expected.limit_kw)


def test_an_availability_write_becomes_a_change_availability() -> None:
    command = command_for(m.AvailabilityWrite("CP-1", 2), " inoperative", ANONYMOUS)
    assert isinstance(command, ChangeAvailability)
    assert (command.charger_id, command.connector_id) == ("CP-1", 2)
    assert command.kind is AvailabilityKind.INOPERATIVE
    target = m.AvailabilityWrite("CP-1", 2)
    assert command_for(target, "Off", ANONYMOUS) == ua.StatusCodes.BadOutOfRange
    assert command_for(target, 0, ANONYMOUS) == ua.StatusCodes.BadTypeMismatch


@pytest.mark.parametrize(
    ("result", "code"),
    [
        (CommandResult(Outcome.ACCEPTED, "Scheduled"), ua.StatusCodes.Good),
        (CommandResult(Outcome.DENIED, "PermissionDenied"), ua.StatusCodes.BadUserAccessDenied),
        (CommandResult(Outcome.REJECTED, "Rejected"), ua.StatusCodes.BadRequestNotAllowed),
        (CommandResult(Outcome.OFFLINE, "Offline"), ua.StatusCodes.BadNotConnected),
        (CommandResult(Outcome.TIMEOUT, "Timeout"), ua.StatusCodes.BadTimeout),
        (CommandResult(Outcome.ERROR, "UnknownCharger"), ua.StatusCodes.BadNotSupported),
        (CommandResult(Outcome.ERROR, "UnknownSite"), ua.StatusCodes.BadNotSupported),
        (CommandResult(Outcome.ERROR, "InternalError"), ua.StatusCodes.BadInternalError),
    ],
)
def test_a_command_result_becomes_the_write_status(result: CommandResult, code: int) -> None:
    assert status_for(result) == code


def test_site_totals_count_chargers_like_the_overview() -> None:
    chargers = tuple(ChargerConfig(f"CP-{i}", area="A", connectors=2) for i in range(1, 5))
    tags: dict[str, Any] = {
        "CP-1/comm": CommState.ONLINE,
        "CP-1/C1/status": ConnectorStatus.CHARGING,
        "CP-1/C1/power_kw": 11.0,
        "CP-1/C2/status": ConnectorStatus.AVAILABLE,
        "CP-2/comm": CommState.ONLINE,
        "CP-2/status": ConnectorStatus.FAULTED,
        "CP-2/C1/status": ConnectorStatus.AVAILABLE,
        "CP-3/comm": CommState.OFFLINE,
        "CP-3/C1/power_kw": 7.0,  # its last value: not counted
        # CP-4 never seen: in no count
    }
    totals = m.SiteTotals("S", chargers).values(tags.get)
    assert totals == {
        m.SiteValue.POWER_KW: 11.0,
        m.SiteValue.CHARGERS: 4,
        m.SiteValue.CHARGING: 1,
        m.SiteValue.AVAILABLE: 1,
        m.SiteValue.FAULTED: 1,
        m.SiteValue.OFFLINE: 1,
    }
