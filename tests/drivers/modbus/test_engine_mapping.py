"""The Modbus wallbox ↔ charger tag mapping, sample by sample."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from evsuper.core.domain import CommState, ConnectorStatus
from evsuper.core.tags import Quality, Sample, TagPath
from evsuper.drivers.modbus.mapping import ChargerMapping, point_tag

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


class Published(dict[TagPath, Sample]):
    def publish(self, path: TagPath, sample: Sample) -> None:
        self[path] = sample


@pytest.fixture
def mapped() -> tuple[ChargerMapping, Published]:
    published = Published()
    mapping = ChargerMapping("MB-01", published.publish)
    mapping.start()
    return mapping, published


def test_points_become_the_charger_tags() -> None:
    assert point_tag("MB-01", "status", "P") == "MB-01/C1/status"
    assert point_tag("MB-01", "session_energy_kwh", "P") == "MB-01/C1/energy_kwh"
    assert point_tag("MB-01", "current_limit_a", "P") == "MB-01/C1/current_limit_a"
    assert point_tag("MB-01", "serial", "P") == "MB-01/serial"
    assert point_tag("MB-01", "current_l1_a", "P") == "P/current_l1_a"


@pytest.mark.parametrize(
    ("code", "status", "quality"),
    [
        (1, ConnectorStatus.AVAILABLE, Quality.GOOD),
        (3, ConnectorStatus.CHARGING, Quality.GOOD),
        (4, ConnectorStatus.SUSPENDED_EVSE, Quality.GOOD),
        (9, ConnectorStatus.FAULTED, Quality.GOOD),
        (7, ConnectorStatus.UNAVAILABLE, Quality.UNCERTAIN),  # no such code
    ],
)
def test_status_codes(
    mapped: tuple[ChargerMapping, Published], code: int, status: ConnectorStatus, quality: Quality
) -> None:
    mapping, published = mapped
    mapping.publish("MB-01/C1/status", Sample(code, T0))
    assert published["MB-01/C1/status"] == Sample(status, T0, quality)
    assert published["MB-01/comm"].value is CommState.ONLINE


def test_error_codes(mapped: tuple[ChargerMapping, Published]) -> None:
    mapping, published = mapped
    mapping.publish("MB-01/C1/error_code", Sample(12, T0))
    assert published["MB-01/C1/error_code"].value == "OtherError"
    assert published["MB-01/C1/error_info"].value == "code 12"
    mapping.publish("MB-01/C1/error_code", Sample(0, T0))
    assert published["MB-01/C1/error_code"].value == "NoError"
    assert published["MB-01/C1/error_info"].value is None


def test_comm_and_last_seen_follow_the_status_quality(
    mapped: tuple[ChargerMapping, Published],
) -> None:
    mapping, published = mapped
    assert published["MB-01/comm"].value is CommState.UNKNOWN
    mapping.publish("MB-01/C1/status", Sample(3, T0))
    mapping.publish("MB-01/C1/status", Sample(3, T0 + timedelta(seconds=1)))
    lost = T0 + timedelta(seconds=5)
    mapping.publish("MB-01/C1/status", Sample(3, lost, Quality.COMM_FAILURE))
    assert published["MB-01/comm"] == Sample(CommState.OFFLINE, lost)
    assert published["MB-01/last_seen"].value == T0 + timedelta(seconds=1)
    # the last value stays, marked
    assert published["MB-01/C1/status"] == Sample(
        ConnectorStatus.CHARGING, lost, Quality.COMM_FAILURE
    )
    mapping.publish("MB-01/C1/status", Sample(1, lost, Quality.BAD))  # answered: online
    assert published["MB-01/comm"].value is CommState.ONLINE
    mapping.publish("MB-01/C1/power_kw", Sample(7.5, T0))  # other points pass through
    assert published["MB-01/C1/power_kw"] == Sample(7.5, T0)
