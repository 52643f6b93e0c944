"""Security profile 1 (HTTP Basic auth of charge points) against real WebSocket clients."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import logging
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import pytest
from ocpp.v16 import ChargePoint, call
from support import wait_until
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from evsuper.core.bus import TagBus
from evsuper.drivers.ocpp.central import CentralSystem
from evsuper.drivers.ocpp.security import (
    BLOCK_S,
    FAILURE_WINDOW_S,
    MAX_FAILURES,
    FailureThrottle,
    VerifiedPasswords,
    basic_authorization,
    basic_password,
    hash_password,
    password_problem,
    verify_password,
)
from evsuper.historian.archive import Archive
from evsuper.project.model import SecurityProfile

PASSWORDS = {"CP-001": "correct horse battery", "CP-002": "another long secret!"}
HASHES = {charger_id: hash_password(p) for charger_id, p in PASSWORDS.items()}


@pytest.fixture
async def central(make_project: Any) -> AsyncIterator[CentralSystem]:
    """A profile-1 central system whose chargers CP-001 and CP-002 have password hashes."""
    project = make_project(bollards=2, security_profile=SecurityProfile.BASIC_AUTH)
    chargers = tuple(dataclasses.replace(c, password_hash=HASHES[c.id]) for c in project.chargers)
    project = dataclasses.replace(project, chargers=chargers)
    bus = TagBus()
    archive = Archive(project.archive_url(), bus)
    await archive.start()
    central = CentralSystem(project, bus, archive, host="127.0.0.1", port=0)
    await central.start()
    yield central
    await central.stop()
    await archive.stop()


async def refused(central: CentralSystem, path_id: str, authorization: str | None) -> Any:
    """The HTTP response refusing the upgrade (fails if the upgrade succeeds)."""
    headers = None if authorization is None else {"Authorization": authorization}
    with pytest.raises(InvalidStatus) as refusal:
        async with connect(
            central.url_for(path_id),
            subprotocols=["ocpp1.6"],  # type: ignore[list-item]
            additional_headers=headers,
        ):
            pass
    return refusal.value.response


def anomalies(central: CentralSystem) -> list[tuple[str, str, str]]:
    with sqlite3.connect(central.project.directory / "archive.sqlite") as db:
        return db.execute("select charger_id, kind, detail from anomalies order by id").fetchall()


async def test_right_credentials_boot_accepted(central: CentralSystem) -> None:
    authorization = basic_authorization("CP-001", PASSWORDS["CP-001"])
    async with connect(
        central.url_for("CP-001"),
        subprotocols=["ocpp1.6"],  # type: ignore[list-item]
        additional_headers={"Authorization": authorization},
    ) as ws:
        charger = ChargePoint("CP-001", ws)
        task = asyncio.create_task(charger.start())
        try:
            boot = await charger.call(
                call.BootNotification(charge_point_model="T1", charge_point_vendor="Test")
            )
        finally:
            task.cancel()
    assert boot.status == "Accepted"


async def test_bad_credentials_get_401_and_are_archived(
    central: CentralSystem, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    wrong = "not the right one, no"
    cases = {
        "missing": ("CP-001", None),
        "wrong password": ("CP-001", basic_authorization("CP-001", wrong)),
        # CP-002's own credentials on CP-001's path
        "id mismatch": ("CP-001", basic_authorization("CP-002", PASSWORDS["CP-002"])),
        "unknown charger": ("CP-999", basic_authorization("CP-999", PASSWORDS["CP-001"])),
        "overlong id": ("X" * 100, None),  # archived cut to the column's 64 characters
    }
    for path_id, authorization in cases.values():
        response = await refused(central, path_id, authorization)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Basic realm="evsuper"'
    await wait_until(lambda: len(anomalies(central)) >= 5)
    rows = anomalies(central)
    assert [(charger_id, kind) for charger_id, kind, _ in rows] == [
        ("CP-001", "security-auth-failed"),
        ("CP-001", "security-auth-failed"),
        ("CP-001", "security-auth-failed"),
        ("CP-999", "security-auth-failed"),
        ("X" * 64, "security-auth-failed"),
    ]
    assert all("127.0.0.1" in detail for _, _, detail in rows)
    assert [detail.split(" (from")[0] for _, _, detail in rows] == [
        "no Authorization header",
        "wrong password",
        "not Basic credentials of this charge point id",
        "no password_hash in the project for this charge point id",
        "no Authorization header",
    ]
    logged = caplog.text + "".join(detail for _, _, detail in rows)
    for secret in (wrong, *PASSWORDS.values()):
        assert secret not in logged


async def test_an_address_that_keeps_failing_gets_429(central: CentralSystem) -> None:
    wrong = basic_authorization("CP-001", "x" * 16)
    for _ in range(MAX_FAILURES):
        assert (await refused(central, "CP-001", wrong)).status_code == 401
    right = basic_authorization("CP-001", PASSWORDS["CP-001"])
    response = await refused(central, "CP-001", right)
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= BLOCK_S + 1


def test_throttle_window_and_block_expire() -> None:
    now = [0.0]
    throttle = FailureThrottle(clock=lambda: now[0])
    for _ in range(MAX_FAILURES - 1):
        throttle.failed("10.0.0.1")
    now[0] += FAILURE_WINDOW_S + 1  # those fall out of the window
    throttle.failed("10.0.0.1")
    assert throttle.blocked("10.0.0.1") == 0
    for _ in range(MAX_FAILURES - 1):
        throttle.failed("10.0.0.1")
    assert throttle.blocked("10.0.0.1") == BLOCK_S
    assert throttle.blocked("10.0.0.2") == 0
    now[0] += BLOCK_S
    assert throttle.blocked("10.0.0.1") == 0


def test_basic_header_parsing() -> None:
    assert basic_password(basic_authorization("a:b", "pass:word"), "a:b") == "pass:word"
    assert basic_password(basic_authorization("a", "pw"), "a:b") is None
    token = base64.b64encode(b"CP-1:pw").decode()
    assert basic_password(f"basic {token}", "CP-1") == "pw"
    assert basic_password(f"Bearer {token}", "CP-1") is None
    assert basic_password("Basic !!!", "CP-1") is None
    assert basic_password(None, "CP-1") is None


def test_password_rules_and_hash() -> None:
    assert password_problem("x" * 15) is not None
    assert password_problem("x" * 41) is not None
    assert password_problem("x" * 16) is None and password_problem("x" * 40) is None
    with pytest.raises(ValueError, match="16 to 40"):
        hash_password("short")
    assert verify_password(HASHES["CP-001"], PASSWORDS["CP-001"])
    assert not verify_password(HASHES["CP-001"], PASSWORDS["CP-002"])
    assert not verify_password("$argon2id$garbage", PASSWORDS["CP-001"])


def test_verified_passwords_spare_argon2_only_for_the_same_password_and_hash() -> None:
    verified = VerifiedPasswords()
    first = hash_password("correct horse battery")
    assert not verified.known("CP-001", first, "correct horse battery")
    verified.remember("CP-001", first, "correct horse battery")
    assert verified.known("CP-001", first, "correct horse battery")
    assert not verified.known("CP-001", first, "correct horse battery!")  # another password
    assert not verified.known("CP-002", first, "correct horse battery")  # another charger
    changed = hash_password("correct horse battery")  # the integrator set it again
    assert not verified.known("CP-001", changed, "correct horse battery")
