"""Configuration keys of the simulated bollards."""

from __future__ import annotations

import pytest

from evsuper.drivers.simulator.config import (
    HEARTBEAT_INTERVAL,
    MEASURANDS,
    METER_VALUE_SAMPLE_INTERVAL,
    METER_VALUES_SAMPLED_DATA,
    Configuration,
)


@pytest.fixture
def configuration() -> Configuration:
    return Configuration(connectors=2, heartbeat_interval_s=60, meter_interval_s=0.2)


def test_get_all_keys(configuration: Configuration) -> None:
    known, unknown = configuration.get()
    keys = {kv["key"]: kv for kv in known}
    assert unknown == []
    assert keys["NumberOfConnectors"] == {
        "key": "NumberOfConnectors",
        "readonly": True,
        "value": "2",
    }
    assert keys[HEARTBEAT_INTERVAL]["value"] == "60"
    assert keys[METER_VALUE_SAMPLE_INTERVAL]["value"] == "0.2"
    assert keys[METER_VALUES_SAMPLED_DATA]["value"] == ",".join(MEASURANDS)
    assert {"AuthorizeRemoteTxRequests", "ConnectionTimeOut"} <= keys.keys()


def test_get_some_keys_reports_the_unknown_ones(configuration: Configuration) -> None:
    known, unknown = configuration.get(["heartbeatinterval", "NoSuchKey"])
    assert [kv["key"] for kv in known] == [HEARTBEAT_INTERVAL]
    assert unknown == ["NoSuchKey"]


@pytest.mark.parametrize(
    ("key", "value", "status"),
    [
        ("NumberOfConnectors", "4", "Rejected"),
        ("NoSuchKey", "1", "NotSupported"),
        (HEARTBEAT_INTERVAL, "ten", "Rejected"),
        (HEARTBEAT_INTERVAL, "-5", "Rejected"),
        (HEARTBEAT_INTERVAL, "inf", "Rejected"),
        ("AuthorizeRemoteTxRequests", "maybe", "Rejected"),
        (METER_VALUES_SAMPLED_DATA, "Energy.Active.Import.Register,Frequency", "Rejected"),
        (HEARTBEAT_INTERVAL, "30", "Accepted"),
        ("AuthorizeRemoteTxRequests", "True", "Accepted"),
        (METER_VALUES_SAMPLED_DATA, "Power.Active.Import, SoC", "Accepted"),
    ],
)
def test_change_status(configuration: Configuration, key: str, value: str, status: str) -> None:
    assert configuration.change(key, value) == status


def test_accepted_changes_are_what_the_bollard_reads(configuration: Configuration) -> None:
    configuration.change("heartbeatInterval", "30")
    configuration.change(METER_VALUE_SAMPLE_INTERVAL, "5")
    configuration.change("AuthorizeRemoteTxRequests", "TRUE")
    configuration.change(METER_VALUES_SAMPLED_DATA, "Power.Active.Import, SoC")
    assert configuration.number(HEARTBEAT_INTERVAL) == 30.0
    assert configuration.number(METER_VALUE_SAMPLE_INTERVAL) == 5.0
    assert configuration.flag("AuthorizeRemoteTxRequests")
    assert configuration.measurands(METER_VALUES_SAMPLED_DATA) == {"Power.Active.Import", "SoC"}


def test_rejected_changes_leave_the_value(configuration: Configuration) -> None:
    configuration.change(HEARTBEAT_INTERVAL, "-1")
    assert configuration.number(HEARTBEAT_INTERVAL) == 60.0


def test_boot_interval_is_taken(configuration: Configuration) -> None:
    configuration.set_heartbeat_interval(300)
    assert configuration.get([HEARTBEAT_INTERVAL])[0][0]["value"] == "300"
