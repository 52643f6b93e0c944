"""Simulated bollards of a security-profile-3 project connect over wss:// with client
certificates from [simulator] tls_client_dir."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path
from typing import Any

import trustme
from support import wait_until

from evsuper.core.domain import CommState
from evsuper.engine.runtime import Engine
from evsuper.project.model import SecurityProfile


def write_leaf(certificate: trustme.LeafCert, stem: Path) -> None:
    """``<stem>.pem`` (certificate chain) and ``<stem>.key`` (private key)."""
    chain = b"".join(blob.bytes() for blob in certificate.cert_chain_pems)
    stem.with_suffix(".pem").write_bytes(chain)
    certificate.private_key_pem.write_to_path(str(stem.with_suffix(".key")))


async def test_bollards_with_their_certificates_come_online(make_project: Any) -> None:
    project = make_project(
        bollards=3,
        security_profile=SecurityProfile.TLS_CLIENT_CERT,
        tls_certificate="tls/server.pem",
        tls_private_key="tls/server.key",
        tls_client_ca="tls/chargers-ca.pem",
    )
    project = dataclasses.replace(
        project,
        simulator=dataclasses.replace(
            project.simulator, tls_ca="tls/ca.pem", tls_client_dir="tls/bollards"
        ),
    )
    server_ca, charger_ca = trustme.CA(), trustme.CA()
    tls = project.directory / "tls"
    (tls / "bollards").mkdir(parents=True)
    server_ca.cert_pem.write_to_path(str(tls / "ca.pem"))
    charger_ca.cert_pem.write_to_path(str(tls / "chargers-ca.pem"))
    write_leaf(server_ca.issue_cert("127.0.0.1"), tls / "server")
    # CP-003 holds a certificate issued to CP-001
    for charger_id, common_name in (
        ("CP-001", "CP-001"),
        ("CP-002", "CP-002"),
        ("CP-003", "CP-001"),
    ):
        certificate = charger_ca.issue_cert(
            f"{common_name.lower()}.example", common_name=common_name
        )
        write_leaf(certificate, tls / "bollards" / charger_id)

    engine = Engine(project, ocpp_port=0)
    await engine.start()
    try:
        assert engine.central.url_for("CP-001").startswith("wss://")
        for charger_id in ("CP-001", "CP-002"):
            await wait_until(lambda c=charger_id: engine.bus.value(f"{c}/comm") is CommState.ONLINE)
            await wait_until(lambda c=charger_id: engine.bus.value(f"{c}/registration") is not None)
            assert engine.bus.value(f"{charger_id}/registration").value == "Accepted"

        def refusals() -> list[tuple[str, str]]:
            with sqlite3.connect(project.directory / "archive.sqlite") as db:
                return db.execute("select charger_id, kind from anomalies").fetchall()

        assert set(await wait_until(refusals)) == {("CP-003", "security-certificate-mismatch")}
        assert engine.bus.value("CP-003/comm") is not CommState.ONLINE
    finally:
        await engine.stop()
