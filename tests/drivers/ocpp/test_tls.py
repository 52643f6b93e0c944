"""Security profiles 2 (TLS + Basic auth) and 3 (TLS client certificates) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trustme
from ocpp.v16 import ChargePoint, call
from support import wait_until
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidMessage, InvalidStatus

from evsuper.core.bus import TagBus
from evsuper.drivers.ocpp.central import CentralSystem
from evsuper.drivers.ocpp.security import (
    basic_authorization,
    certificate_common_name,
    hash_password,
    server_tls_context,
)
from evsuper.historian.archive import Archive
from evsuper.project.model import SecurityProfile

PASSWORD = "correct horse battery"
HASH = hash_password(PASSWORD)
TLS_SETTINGS = {
    "tls_certificate": "tls/server.pem",
    "tls_private_key": "tls/server.key",
    "tls_client_ca": "tls/chargers-ca.pem",
}
# what a failed TLS handshake looks like to a websockets client
HANDSHAKE_FAILED = (ssl.SSLError, ConnectionError, InvalidMessage)


@dataclasses.dataclass
class Pki:
    server_ca: trustme.CA  # signs the central system's certificate
    charger_ca: trustme.CA  # signs the chargers' certificates (tls_client_ca)


def write_pki(directory: Path) -> Pki:
    """The certificate files TLS_SETTINGS names, for a server on 127.0.0.1."""
    pki = Pki(trustme.CA(), trustme.CA())
    server = pki.server_ca.issue_cert("127.0.0.1")
    folder = directory / "tls"
    folder.mkdir()
    (folder / "server.pem").write_bytes(b"".join(b.bytes() for b in server.cert_chain_pems))
    server.private_key_pem.write_to_path(str(folder / "server.key"))
    pki.charger_ca.cert_pem.write_to_path(str(folder / "chargers-ca.pem"))
    return pki


CentralFactory = Callable[[SecurityProfile], Any]


@pytest.fixture
async def tls_central(make_project: Any) -> AsyncIterator[CentralFactory]:
    """Start a central system of the given TLS profile; yields (central, pki)."""
    stack: list[tuple[CentralSystem, Archive]] = []

    async def start(profile: SecurityProfile) -> tuple[CentralSystem, Pki]:
        project = make_project(bollards=2, security_profile=profile, **TLS_SETTINGS)
        chargers = tuple(dataclasses.replace(c, password_hash=HASH) for c in project.chargers)
        project = dataclasses.replace(project, chargers=chargers)
        pki = write_pki(project.directory)
        bus = TagBus()
        archive = Archive(project.archive_url(), bus)
        await archive.start()
        central = CentralSystem(project, bus, archive, host="127.0.0.1", port=0)
        await central.start()
        stack.append((central, archive))
        return central, pki

    yield start
    for central, archive in stack:
        await central.stop()
        await archive.stop()


def client_context(trusted: trustme.CA | None, certificate: trustme.LeafCert | None = None) -> Any:
    """A charge point's TLS context: trusts ``trusted`` (None: the system's CAs only)."""
    context = ssl.create_default_context()
    if trusted is not None:
        trusted.configure_trust(context)
    if certificate is not None:
        certificate.configure_cert(context)
    return context


@asynccontextmanager
async def connected(url: str, context: Any, headers: dict[str, str] | None = None) -> Any:
    async with connect(
        url,
        subprotocols=["ocpp1.6"],  # type: ignore[list-item]
        additional_headers=headers,
        ssl=context,
    ) as ws:
        yield ws


async def boot_status(
    url: str, charger_id: str, context: Any, headers: dict[str, str] | None = None
) -> str:
    async with connected(url, context, headers) as ws:
        charger = ChargePoint(charger_id, ws)
        task = asyncio.create_task(charger.start())
        try:
            boot = await charger.call(
                call.BootNotification(charge_point_model="T1", charge_point_vendor="Test")
            )
        finally:
            task.cancel()
    return str(boot.status)


async def refused(url: str, context: Any, headers: dict[str, str] | None = None) -> Any:
    """The HTTP response refusing the upgrade (fails if the upgrade succeeds)."""
    with pytest.raises(InvalidStatus) as refusal:
        async with connected(url, context, headers):
            pass
    return refusal.value.response


async def handshake_fails(url: str, context: Any) -> None:
    with pytest.raises(HANDSHAKE_FAILED):
        async with connected(url, context):
            pass


def anomalies(central: CentralSystem) -> list[tuple[str, str, str]]:
    with sqlite3.connect(central.project.directory / "archive.sqlite") as db:
        return db.execute("select charger_id, kind, detail from anomalies order by id").fetchall()


# ---- profile 2 ----


async def test_profile_2_right_password_over_wss_boots(tls_central: CentralFactory) -> None:
    central, pki = await tls_central(SecurityProfile.TLS_BASIC_AUTH)
    url = central.url_for("CP-001")
    assert url.startswith("wss://127.0.0.1:") and central.endpoint.startswith("wss://")
    headers = {"Authorization": basic_authorization("CP-001", PASSWORD)}
    assert await boot_status(url, "CP-001", client_context(pki.server_ca), headers) == "Accepted"


async def test_profile_2_wrong_password_gets_401(tls_central: CentralFactory) -> None:
    central, pki = await tls_central(SecurityProfile.TLS_BASIC_AUTH)
    headers = {"Authorization": basic_authorization("CP-001", "not the right one, no")}
    response = await refused(central.url_for("CP-001"), client_context(pki.server_ca), headers)
    assert response.status_code == 401
    await wait_until(lambda: anomalies(central))
    assert anomalies(central)[0][:2] == ("CP-001", "security-auth-failed")


async def test_profile_2_refuses_plain_websocket(tls_central: CentralFactory) -> None:
    central, _ = await tls_central(SecurityProfile.TLS_BASIC_AUTH)
    plain = central.url_for("CP-001").replace("wss://", "ws://", 1)
    headers = {"Authorization": basic_authorization("CP-001", PASSWORD)}
    with pytest.raises(HANDSHAKE_FAILED):
        async with connect(plain, subprotocols=["ocpp1.6"], additional_headers=headers):  # type: ignore[list-item]
            pass


async def test_profile_2_client_not_trusting_the_server_ca_fails(
    tls_central: CentralFactory,
) -> None:
    central, _ = await tls_central(SecurityProfile.TLS_BASIC_AUTH)
    with pytest.raises(ssl.SSLCertVerificationError):
        async with connected(central.url_for("CP-001"), client_context(None)):
            pass


def test_server_context_per_profile(make_project: Any) -> None:
    project = make_project(security_profile=SecurityProfile.TLS_CLIENT_CERT, **TLS_SETTINGS)
    write_pki(project.directory)

    def context(profile: SecurityProfile) -> ssl.SSLContext | None:
        ocpp = dataclasses.replace(project.ocpp, security_profile=profile)
        return server_tls_context(dataclasses.replace(project, ocpp=ocpp))

    assert context(SecurityProfile.BASIC_AUTH) is None
    profile_2 = context(SecurityProfile.TLS_BASIC_AUTH)
    assert profile_2 is not None and profile_2.verify_mode is ssl.CERT_NONE
    profile_3 = context(SecurityProfile.TLS_CLIENT_CERT)
    assert profile_3 is not None and profile_3.verify_mode is ssl.CERT_REQUIRED
    for tls in (profile_2, profile_3):
        assert tls.minimum_version is ssl.TLSVersion.TLSv1_2
    no_ca = dataclasses.replace(project.ocpp, tls_client_ca=None)
    with pytest.raises(ValueError, match="tls_client_ca"):
        server_tls_context(dataclasses.replace(project, ocpp=no_ca))


# ---- profile 3 ----


async def test_profile_3_certificate_of_the_charger_boots(tls_central: CentralFactory) -> None:
    central, pki = await tls_central(SecurityProfile.TLS_CLIENT_CERT)
    certificate = pki.charger_ca.issue_cert("cp-001.example", common_name="CP-001")
    context = client_context(pki.server_ca, certificate)
    # Basic credentials, even wrong ones, play no part in profile 3
    headers = {"Authorization": basic_authorization("CP-001", "ignored in profile 3")}
    assert await boot_status(central.url_for("CP-001"), "CP-001", context, headers) == "Accepted"
    assert anomalies(central) == []


async def test_profile_3_certificate_of_another_charger_gets_403(
    tls_central: CentralFactory,
) -> None:
    central, pki = await tls_central(SecurityProfile.TLS_CLIENT_CERT)
    certificate = pki.charger_ca.issue_cert("cp-001.example", common_name="CP-001")
    context = client_context(pki.server_ca, certificate)
    response = await refused(central.url_for("CP-002"), context)
    assert response.status_code == 403
    rows = await wait_until(lambda: anomalies(central))
    assert [(charger_id, kind) for charger_id, kind, _ in rows] == [
        ("CP-002", "security-certificate-mismatch")
    ]
    assert "'CP-001'" in rows[0][2] and "127.0.0.1" in rows[0][2]


async def test_profile_3_without_client_certificate_fails(tls_central: CentralFactory) -> None:
    central, pki = await tls_central(SecurityProfile.TLS_CLIENT_CERT)
    await handshake_fails(central.url_for("CP-001"), client_context(pki.server_ca))


async def test_profile_3_certificate_from_another_ca_fails(tls_central: CentralFactory) -> None:
    central, pki = await tls_central(SecurityProfile.TLS_CLIENT_CERT)
    stranger = trustme.CA().issue_cert("cp-001.example", common_name="CP-001")
    await handshake_fails(central.url_for("CP-001"), client_context(pki.server_ca, stranger))


def test_certificate_common_name() -> None:
    subject = ((("organizationName", "Site"),), (("commonName", "CP-001"),))
    assert certificate_common_name({"subject": subject}) == "CP-001"
    assert certificate_common_name({"subject": ((("organizationName", "Site"),),)}) is None
    assert certificate_common_name({}) is None
    assert certificate_common_name(None) is None
