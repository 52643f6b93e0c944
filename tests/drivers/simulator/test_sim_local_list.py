"""The simulated bollard's local authorization list (SendLocalList, GetLocalListVersion)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from evsuper.core.timeutil import to_wire, utcnow
from evsuper.drivers.simulator import config as cfg
from evsuper.drivers.simulator.bollard import LocalList, SimulatedBollard
from evsuper.project.model import ChargerConfig, SimulatorSettings


def entry(id_tag: str, status: str | None = "Accepted") -> dict[str, Any]:
    return (
        {"id_tag": id_tag}
        if status is None
        else {"id_tag": id_tag, "id_tag_info": {"status": status}}
    )


def update(lst: LocalList, version: int, kind: str, *items: dict[str, Any]) -> str:
    return lst.update(version, kind, items, max_length=3, max_send=2)


def test_full_replaces_and_differential_needs_a_newer_version() -> None:
    lst = LocalList()
    assert lst.reported_version == 0
    assert update(lst, 5, "Full", entry("A"), entry("B")) == "Accepted"
    assert (lst.reported_version, set(lst.entries)) == (5, {"A", "B"})
    assert update(lst, 5, "Differential", entry("C")) == "VersionMismatch"
    assert update(lst, 4, "Differential", entry("C")) == "VersionMismatch"
    assert update(lst, 6, "Differential", entry("A", "Blocked"), entry("B", None)) == "Accepted"
    assert lst.entries == {"A": {"status": "Blocked"}}
    assert lst.reported_version == 6
    assert update(lst, 2, "Full", entry("D")) == "Accepted"  # a Full takes any version
    assert (lst.reported_version, set(lst.entries)) == (2, {"D"})
    assert update(lst, 3, "Full") == "Accepted"
    assert lst.reported_version == 0  # an empty list is no list


def test_lists_longer_than_the_limits_fail_and_change_nothing() -> None:
    lst = LocalList()
    assert update(lst, 1, "Full", entry("A"), entry("B"), entry("C")) == "Failed"  # send limit
    assert update(lst, 1, "Full", entry("A"), entry("B")) == "Accepted"
    assert update(lst, 2, "Differential", entry("C"), entry("D")) == "Failed"  # list limit
    assert (lst.reported_version, set(lst.entries)) == (1, {"A", "B"})


def test_bollard_advertises_and_honours_its_local_list_keys() -> None:
    b = SimulatedBollard(ChargerConfig("SIM-1"), SimulatorSettings(autonomous=False, seed=3))
    keys = {kv["key"]: kv for kv in b.configuration.get()[0]}
    assert keys[cfg.LOCAL_AUTH_LIST_ENABLED]["value"] == "true"
    assert keys[cfg.LOCAL_AUTH_LIST_MAX_LENGTH] == {
        "key": cfg.LOCAL_AUTH_LIST_MAX_LENGTH,
        "readonly": True,
        "value": "100",
    }
    assert keys[cfg.SEND_LOCAL_LIST_MAX_LENGTH]["value"] == "100"
    assert "LocalAuthListManagement" in keys["SupportedFeatureProfiles"]["value"]
    too_many = [entry(f"T{i}") for i in range(101)]
    assert b._send_local_list(1, "Full", too_many) == "Failed"
    assert b._send_local_list(1, "Full", too_many[:100]) == "Accepted"
    assert b.configuration.change(cfg.LOCAL_AUTH_LIST_ENABLED, "false") == "Accepted"
    assert b._send_local_list(2, "Full", []) == "NotSupported"
    assert b.local_list.reported_version == 1


async def test_the_local_list_authorizes_offline_when_allowed() -> None:
    b = SimulatedBollard(ChargerConfig("SIM-1"), SimulatorSettings(autonomous=False, seed=3))
    past = to_wire(utcnow() - timedelta(minutes=1))
    later = to_wire(utcnow() + timedelta(hours=1))
    items = [
        entry("A"),
        {"id_tag": "B", "id_tag_info": {"status": "Accepted", "expiry_date": later}},
        {"id_tag": "C", "id_tag_info": {"status": "Accepted", "expiry_date": past}},
        entry("D", "Blocked"),
    ]
    assert b._send_local_list(1, "Full", items) == "Accepted"
    assert [b._locally_accepted(t) for t in "ABCDE"] == [True, True, False, False, False]
    assert not b.online
    assert b.configuration.change(cfg.LOCAL_AUTHORIZE_OFFLINE, "true") == "Accepted"
    assert await asyncio.wait_for(b._authorize("A"), 1.0)  # no central system needed
    assert b.configuration.change(cfg.LOCAL_AUTH_LIST_ENABLED, "false") == "Accepted"
    assert not b._locally_accepted("A")
