"""Settings of OPC UA devices: defaults, and errors naming device, field and place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from evsuper.drivers.base import DeviceSettings, DriverConfigError
from evsuper.drivers.opcua.config import (
    Authentication,
    DeadbandType,
    Mode,
    SecurityMode,
    SecurityPolicy,
    parse_endpoint,
)

URL = "opc.tcp://10.0.0.5:4840/bms"


def parse(options: dict[str, Any], address: str = URL, project_dir: Path = Path(".")) -> Any:
    settings = DeviceSettings("bms", address, options=options, source="project.toml:42")
    return parse_endpoint(settings, project_dir)


def test_defaults_and_points():
    ep = parse(
        {
            "points": [
                {"tag": "S/load_kw", "node": "ns=2;s=Building.Load", "sampling_ms": 250},
                {"tag": "S/pv_kw", "node": "i=2258", "deadband": 1.5, "unit": "kW"},
                {
                    "tag": "S/limit_w",
                    "node": "nsu=urn:evsuper:simulator;s=DSO.Limit",
                    "deadband": 2,
                    "deadband_type": "Percent",
                    "writable": True,
                    "scale": 1000,
                },
            ]
        }
    )
    assert ep.url == URL and ep.mode is Mode.SUBSCRIBE
    assert ep.security_policy is SecurityPolicy.NONE and ep.security_mode is SecurityMode.NONE
    assert ep.authentication is Authentication.ANONYMOUS
    assert ep.publishing_interval_ms == 250  # the fastest sampling when not given
    load, pv, limit = ep.points
    assert load.deadband_type is DeadbandType.NONE and not load.writable
    assert (pv.deadband, pv.deadband_type, pv.sampling_ms) == (1.5, DeadbandType.ABSOLUTE, 1000)
    assert (limit.deadband_type, limit.writable, limit.scale) == (DeadbandType.PERCENT, True, 1000)


def test_a_missing_port_is_the_opc_ua_default():
    assert parse({}, "opc.tcp://bms.local/path").url == "opc.tcp://bms.local:4840/path"


def test_secure_settings_resolve_files_in_the_project(tmp_path: Path, monkeypatch):
    (tmp_path / "pki").mkdir()
    for name in ("client.der", "client.pem", "server.der"):
        (tmp_path / "pki" / name).write_bytes(b"x")
    ep = parse(
        {
            "security_policy": "Basic256Sha256",
            "authentication": "username",
            "username": "evsuper",
            "password_env": "EVSUPER_TEST_BMS_PASSWORD",
            "certificate": "pki/client.der",
            "private_key": "pki/client.pem",
            "server_certificate": "pki/server.der",
            "mode": "poll",
        },
        project_dir=tmp_path,
    )
    assert ep.security_mode is SecurityMode.SIGN_AND_ENCRYPT  # the default when secure
    assert ep.certificate == tmp_path / "pki" / "client.der"
    assert ep.mode is Mode.POLL
    monkeypatch.delenv("EVSUPER_TEST_BMS_PASSWORD", raising=False)
    with pytest.raises(DriverConfigError, match="EVSUPER_TEST_BMS_PASSWORD is not set"):
        ep.password()
    monkeypatch.setenv("EVSUPER_TEST_BMS_PASSWORD", "s3cret")
    assert ep.password() == "s3cret"


@pytest.mark.parametrize(
    ("options", "address", "field", "message"),
    [
        ({}, "http://bms/", "address", "is not opc.tcp://host:port/path"),
        ({}, "opc.tcp://bms:99999/", "address", "bad port"),
        ({}, "opc.tcp://me:pw@bms:4840/", "address", "credentials do not belong"),
        ({"colour": "red"}, URL, "colour", "unknown field"),
        ({"security_policy": "Basic128"}, URL, "security_policy", "is not one of"),
        ({"security_mode": "Sign"}, URL, "security_mode", "does not go with"),
        ({"security_policy": "Basic256Sha256"}, URL, "certificate", "needs the client"),
        ({"authentication": "certificate"}, URL, "certificate", "needs the client"),
        ({"authentication": "username"}, URL, "username", "required"),
        (
            {"authentication": "username", "username": "u"},
            URL,
            "password_env",
            "environment variable",
        ),
        ({"password_env": "X"}, URL, "password_env", "only used with"),
        ({"certificate": "no/such.der"}, URL, "certificate", "no such file"),
        ({"request_timeout_s": -1}, URL, "request_timeout_s", "finite number"),
        ({"reconnect_min_s": 5, "reconnect_max_s": 1}, URL, "reconnect_max_s", ">= reconnect"),
        ({"mode": "push"}, URL, "mode", "is not one of"),
        ({"points": {"tag": "a"}}, URL, "points", "array of tables"),
        ({"points": [{"node": "i=1"}]}, URL, "points[0].tag", "required"),
        ({"points": [{"tag": "a", "node": "Building.Load"}]}, URL, "points[0].node", "node id"),
        (
            {"points": [{"tag": "a", "node": "i=1", "deadband": 120, "deadband_type": "percent"}]},
            URL,
            "points[0].deadband",
            "at most 100",
        ),
        (
            {"points": [{"tag": "a", "node": "i=1", "scale": 0}]},
            URL,
            "points[0].scale",
            "must not be 0",
        ),
        (
            {"points": [{"tag": "a", "node": "i=1", "writable": "yes"}]},
            URL,
            "points[0].writable",
            "true or false",
        ),
        (
            {"points": [{"tag": "a", "node": "i=1"}, {"tag": "a", "node": "i=2"}]},
            URL,
            "points[1].tag",
            "duplicate tag 'a'",
        ),
    ],
)
def test_errors_name_the_device_the_field_and_the_place(options, address, field, message):
    with pytest.raises(DriverConfigError) as raised:
        parse(options, address)
    text = str(raised.value)
    assert text.startswith(f"device 'bms' (project.toml:42): field '{field}': "), text
    assert message in text
