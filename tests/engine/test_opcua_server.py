"""evsuper's OPC UA server seen by an independent asyncua client: the model it exposes,
values following the simulated bollards, writes checked and audited as the HMI's are,
anonymous sessions read-only, an encrypted endpoint.

One engine for the module (the server's standard address space takes a second to build);
the tests act on different chargers (CP-001 a session, CP-002 its availability, CP-003 a
fault and a lost connection), so their order does not matter.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import stat
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from asyncua import Client, Node, ua
from asyncua.crypto import cert_gen
from asyncua.crypto.security_policies import SecurityPolicyBasic256Sha256
from asyncua.ua.uaerrors import BadUserAccessDenied, UaStatusCodeError
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID
from support import TEST_SIMULATOR, execute_as_admin, wait_until

from evsuper.core.domain import CommState, ConnectorStatus
from evsuper.engine import commands as cmd
from evsuper.engine import opcua_model as m
from evsuper.engine.runtime import Engine
from evsuper.project.model import AuthorizationMode, OpcUaSecurity, OpcUaServerSettings
from evsuper.project.new import write_new_project
from evsuper.users.audit import AuditEntry, AuditFilter, AuditKind, query_audit
from evsuper.users.permissions import ENGINE, Origin, Role

pytestmark = pytest.mark.asyncio(loop_scope="module")

PASSWORD = "opcua-test-password"
NAMESPACE = "urn:evsuper:test-site"
CLIENT_URI = "urn:evsuper:test-client"


@pytest.fixture(scope="module")
def trusted_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of the client certificate the server trusts."""
    folder = tmp_path_factory.mktemp("client")
    client_certificate(folder, CLIENT_URI)
    return folder


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def engine(
    tmp_path_factory: pytest.TempPathFactory, trusted_client: Path
) -> AsyncIterator[Engine]:
    folder = tmp_path_factory.mktemp("opcua") / "site"
    project = write_new_project(
        folder, bollards=3, connectors=2, authorization=AuthorizationMode.OPEN, badges=3
    )
    trusted = folder / "trusted-clients"
    trusted.mkdir()
    certificate, _ = client_certificate(trusted_client, CLIENT_URI)
    (trusted / "client.der").write_bytes(certificate.read_bytes())
    project = dataclasses.replace(
        project,
        ocpp=dataclasses.replace(project.ocpp, port=0),
        simulator=TEST_SIMULATOR,
        smart_charging=dataclasses.replace(project.smart_charging, enabled=True),
        opcua_server=OpcUaServerSettings(
            enabled=True,
            port=0,
            security=(OpcUaSecurity.NONE, OpcUaSecurity.BASIC256SHA256_SIGN_AND_ENCRYPT),
            allow_anonymous=True,
            namespace_uri=NAMESPACE,
            trusted_clients="trusted-clients",
        ),
    )
    engine = Engine(project)
    await engine.start()
    users = (("mia", Role.MAINTENANCE), ("olivia", Role.OPERATOR), ("victor", Role.VIEWER))
    await asyncio.gather(  # argon2 hashing, off the loop
        *(
            asyncio.to_thread(engine.users.add, name, role, PASSWORD, by=ENGINE)
            for name, role in users
        )
    )
    for charger in project.chargers:
        for n in (1, 2):
            await wait_until(
                lambda c=charger.id, n=n: (
                    engine.bus.value(f"{c}/C{n}/status") is ConnectorStatus.AVAILABLE
                )
            )
    yield engine
    await engine.stop()


@asynccontextmanager
async def session(
    engine: Engine, user: str | None = None, password: str = PASSWORD
) -> AsyncIterator[Client]:
    assert engine.opcua_server is not None
    client = Client(engine.opcua_server.url, timeout=10)
    if user is not None:
        client.set_user(user)
        client.set_password(password)
    async with client:
        yield client


async def node(client: Client, node_id: str) -> Node:
    ns = await client.get_namespace_index(NAMESPACE)
    return client.get_node(ua.NodeId(node_id, ns))


async def value(client: Client, node_id: str) -> Any:
    return await (await node(client, node_id)).read_value()


async def eventually(client: Client, node_id: str, wanted: Callable[[Any], bool]) -> Any:
    """The node's value once ``wanted(value)`` holds (None while it has no value)."""
    target = await node(client, node_id)
    deadline = asyncio.get_running_loop().time() + 10.0
    while True:
        current = (await target.read_data_value(raise_on_bad_status=False)).Value.Value
        if wanted(current):
            return current
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{node_id} is still {current!r}")
        await asyncio.sleep(0.02)


async def audit(engine: Engine, **where: Any) -> list[AuditEntry]:
    await engine.archive.run_durable(lambda connection: None)  # the audit rows are written
    return await asyncio.to_thread(query_audit, engine.archive.engine, AuditFilter(**where))


def site_id(engine: Engine) -> str:
    return engine.project.sites[0].id


async def test_the_model_has_typed_values_with_units(engine: Engine) -> None:
    site = site_id(engine)
    async with session(engine) as client:
        objects = client.nodes.objects
        path = ["evsuper", "Sites", site, "Chargers", "CP-001", "Connectors", "C1"]
        ns = await client.get_namespace_index(NAMESPACE)
        connector = await objects.get_child([f"{ns}:{name}" for name in path])
        names = {(await child.read_browse_name()).Name for child in await connector.get_children()}
        assert names == {
            "status",
            "power_kw",
            "energy_kwh",
            "soc",
            "transaction_id",
            "availability",
        }
        power = await node(client, "CP-001/C1/power_kw")
        assert await power.read_data_type_as_variant_type() is ua.VariantType.Double
        assert await power.read_type_definition() == ua.NodeId(ua.ObjectIds.AnalogItemType)
        units = await (await power.get_child("0:EngineeringUnits")).read_value()
        assert (units.DisplayName.Text, units.UnitId) == (
            "kW",
            m.Unit.KILOWATT.eu_information().UnitId,
        )
        assert units.NamespaceUri == m.UNECE_NAMESPACE
        eu_range = await (await power.get_child("0:EURange")).read_value()
        assert (eu_range.Low, eu_range.High) == (0.0, 22.0)
        soc_units = await (await node(client, "CP-001/C1/soc")).get_child("0:EngineeringUnits")
        assert (await soc_units.read_value()).DisplayName.Text == "%"

        transaction = await node(client, "CP-001/C1/transaction_id")
        assert await transaction.read_data_type_as_variant_type() is ua.VariantType.Int32
        idle = await transaction.read_data_value(raise_on_bad_status=False)
        assert idle.StatusCode.is_bad() and idle.Value.Value is None  # no transaction yet
        assert await value(client, f"Sites/{site}/name") == engine.project.sites[0].name
        comm = await (await node(client, "CP-001/comm")).read_data_value()
        assert comm.Value.Value == CommState.ONLINE.value
        sample = engine.bus.get("CP-001/comm")
        assert sample is not None and comm.SourceTimestamp == sample.ts  # when it came online
        assert await value(client, "CP-001/online") is True
        assert await value(client, "CP-001/C1/availability") == "Operative"
        assert await value(client, f"Sites/{site}/chargers") == 3
        assert await value(client, f"Sites/{site}/available") == 3
        assert await value(client, "evsuper/Alarms/unacknowledged_critical") == 0


async def test_values_follow_the_simulated_bollards(engine: Engine) -> None:
    site = site_id(engine)
    async with session(engine) as client:
        status_node = await node(client, "CP-001/C2/status")
        changes: list[Any] = []

        class Handler:
            def datachange_notification(self, node: Node, val: Any, data: Any) -> None:
                changes.append(val)

        subscription = await client.create_subscription(50, Handler())
        await subscription.subscribe_data_change(status_node)

        started = await execute_as_admin(
            engine.router,
            cmd.RemoteStart(charger_id="CP-001", connector_id=2, id_tag="BADGE-0001"),
        )
        assert started.ok
        await wait_until(lambda: "Charging" in changes)
        transaction_id = engine.bus.value("CP-001/C2/transaction_id")
        assert transaction_id is not None
        assert await value(client, "CP-001/C2/transaction_id") == transaction_id

        # the simulated car draws power from its first meter values on
        await eventually(client, "CP-001/C2/power_kw", lambda kw: kw is not None and kw > 0)
        data = await (await node(client, "CP-001/C2/power_kw")).read_data_value()
        assert data.StatusCode.is_good()
        assert await value(client, f"Sites/{site}/charging") == 1
        assert await value(client, f"Sites/{site}/power_kw") > 0

        stopped = await execute_as_admin(
            engine.router, cmd.RemoteStop(charger_id="CP-001", transaction_id=transaction_id)
        )
        assert stopped.ok
        await wait_until(lambda: changes[-1] in ("Finishing", "Available"))
        await subscription.delete()


async def test_a_site_limit_written_by_maintenance_is_applied_and_audited(engine: Engine) -> None:
    site = site_id(engine)
    async with session(engine, "mia") as client:
        limit = await node(client, f"Sites/{site}/limit_kw")
        await limit.write_value(ua.DataValue(ua.Variant(37.5, ua.VariantType.Double)))
        await eventually(client, f"Sites/{site}/limit_kw", lambda kw: kw == 37.5)
    entries = await audit(engine, user="mia", kinds=frozenset({AuditKind.COMMAND}))
    entry = next(e for e in entries if e.action == "SetSiteLimit")
    assert entry.actor.origin is Origin.OPCUA
    assert entry.actor.role is Role.MAINTENANCE
    assert (entry.result, entry.parameters["limit_kw"]) == ("Accepted", 37.5)
    logins = await audit(engine, user="mia", kinds=frozenset({AuditKind.LOGIN}))
    assert logins and logins[0].actor.origin is Origin.OPCUA


@pytest.mark.parametrize("user", ["victor", "olivia"])  # viewer; operator: no smart charging
async def test_a_site_limit_write_without_the_permission_is_refused_and_audited(
    engine: Engine, user: str
) -> None:
    site = site_id(engine)
    async with session(engine, user) as client:
        limit = await node(client, f"Sites/{site}/limit_kw")
        with pytest.raises(BadUserAccessDenied):
            await limit.write_value(ua.DataValue(ua.Variant(5.0, ua.VariantType.Double)))
    denied = await audit(engine, user=user, kinds=frozenset({AuditKind.PERMISSION_DENIED}))
    assert [(e.action, e.target, e.actor.origin) for e in denied] == [
        ("SetSiteLimit", f"site {site}", Origin.OPCUA)
    ]


async def test_an_availability_write_reaches_the_charger(engine: Engine) -> None:
    async with session(engine, "olivia") as client:
        availability = await node(client, "CP-002/C1/availability")
        await availability.write_value(ua.DataValue(ua.Variant("Inoperative")))
        await wait_until(
            lambda: engine.bus.value("CP-002/C1/status") is ConnectorStatus.UNAVAILABLE
        )
        await eventually(client, "CP-002/C1/availability", lambda kind: kind == "Inoperative")
        assert await value(client, "CP-002/C1/status") == "Unavailable"

        with pytest.raises(UaStatusCodeError) as bad_value:
            await availability.write_value(ua.DataValue(ua.Variant("Broken")))
        assert bad_value.value.code == ua.StatusCodes.BadOutOfRange
    entries = await audit(engine, user="olivia", kinds=frozenset({AuditKind.COMMAND}))
    kinds = [e.parameters["kind"] for e in entries if e.action == "ChangeAvailability"]
    assert kinds == ["Inoperative"]  # the refused value never became a command


async def test_anonymous_sessions_only_read(engine: Engine) -> None:
    site = site_id(engine)
    async with session(engine) as client:
        limit = await node(client, f"Sites/{site}/limit_kw")
        with pytest.raises(BadUserAccessDenied):
            await limit.write_value(ua.DataValue(ua.Variant(1.0, ua.VariantType.Double)))
        power = await node(client, "CP-002/C2/power_kw")
        with pytest.raises(UaStatusCodeError) as read_only:
            await power.write_value(ua.DataValue(ua.Variant(1.0, ua.VariantType.Double)))
        assert read_only.value.code == ua.StatusCodes.BadNotWritable
        assert await value(client, "CP-002/comm") == "online"
    denied = await audit(engine, user="opcua-anonymous")
    assert [(e.kind, e.action) for e in denied] == [(AuditKind.PERMISSION_DENIED, "SetSiteLimit")]


async def test_a_wrong_password_opens_no_session_and_is_audited(engine: Engine) -> None:
    with pytest.raises(BadUserAccessDenied):
        async with session(engine, "mia", "not-the-password"):
            pass
    failed = await audit(engine, user="mia", kinds=frozenset({AuditKind.LOGIN_FAILED}))
    assert [e.actor.origin for e in failed] == [Origin.OPCUA]


async def test_a_fault_shows_in_the_counts_and_the_alarm_summaries(engine: Engine) -> None:
    site = site_id(engine)
    assert engine.simulator is not None
    bollard = engine.simulator.bollards["CP-003"]
    high = "Alarms/unacknowledged_high"  # connector-faulted is a high priority alarm
    async with session(engine) as client:
        bollard.break_down(1)
        await eventually(client, f"Sites/{site}/{high}", lambda count: count == 1)
        await eventually(client, f"evsuper/{high}", lambda count: count >= 1)
        assert await value(client, "evsuper/Alarms/active_high") >= 1
        assert await value(client, "CP-003/C1/status") == "Faulted"
        assert await value(client, f"Sites/{site}/faulted") == 1
        bollard.repair(1)
        await wait_until(lambda: engine.bus.value("CP-003/C1/status") is ConnectorStatus.AVAILABLE)


async def test_values_of_a_charger_that_lost_its_connection_are_marked(engine: Engine) -> None:
    assert engine.simulator is not None
    seen: list[tuple[str, int]] = []  # (node, status code) as notified

    class Handler:
        def datachange_notification(self, node: Node, val: Any, data: Any) -> None:
            seen.append((node.nodeid.Identifier, data.monitored_item.Value.StatusCode.value))

    def codes(node_id: str) -> list[int]:
        return [code for notified, code in seen if notified == node_id]

    async with session(engine) as client:
        subscription = await client.create_subscription(20, Handler())
        await subscription.subscribe_data_change(
            [await node(client, "CP-003/C2/status"), await node(client, "CP-003/online")]
        )
        await wait_until(lambda: codes("CP-003/C2/status") == [ua.StatusCodes.Good])
        engine.simulator.bollards["CP-003"].abort()  # it reconnects after its back-off
        await wait_until(lambda: m.STALE in codes("CP-003/C2/status"))
        await wait_until(lambda: codes("CP-003/C2/status")[-1] == ua.StatusCodes.Good)
        assert len(codes("CP-003/online")) >= 3  # online, offline, online again
        await subscription.delete()


def client_certificate(folder: Path, uri: str) -> tuple[Path, Path]:
    """A client's self-signed application certificate, made here (never committed); the
    same folder always gets the same one."""
    certificate_file, key_file = folder / "client.der", folder / "client-key.pem"
    if certificate_file.is_file():
        return certificate_file, key_file
    key = cert_gen.generate_private_key()
    certificate = cert_gen.generate_self_signed_app_certificate(
        key,
        "evsuper test client",
        {"organizationName": "evsuper tests"},
        [x509.UniformResourceIdentifier(uri), x509.DNSName("localhost")],
        extended=[ExtendedKeyUsageOID.CLIENT_AUTH],
    )
    certificate_file.write_bytes(certificate.public_bytes(Encoding.DER))
    key_file.write_bytes(cert_gen.dump_private_key_as_pem(key))
    return certificate_file, key_file


async def encrypted_client(engine: Engine, folder: Path) -> Client:
    """A client for the SignAndEncrypt endpoint with the certificate of ``folder``."""
    assert engine.opcua_server is not None
    made = engine.project.directory / ".evsuper" / "opcua"
    client = Client(engine.opcua_server.url, timeout=10)
    client.application_uri = CLIENT_URI
    certificate, key = client_certificate(folder, CLIENT_URI)
    await client.set_security(
        SecurityPolicyBasic256Sha256,
        str(certificate),
        str(key),
        server_certificate=str(made / "server-certificate.der"),
        mode=ua.MessageSecurityMode.SignAndEncrypt,
    )
    client.set_user("mia")
    client.set_password(PASSWORD)
    return client


async def test_the_sign_and_encrypt_endpoint_works_for_a_trusted_client(
    engine: Engine, trusted_client: Path
) -> None:
    made = engine.project.directory / ".evsuper" / "opcua"
    assert stat.S_IMODE((made / "server-key.pem").stat().st_mode) == 0o600
    async with await encrypted_client(engine, trusted_client) as client:
        assert client.security_policy.Mode == ua.MessageSecurityMode.SignAndEncrypt
        ns = await client.get_namespace_index(NAMESPACE)
        comm = client.get_node(ua.NodeId("CP-001/comm", ns))
        assert await comm.read_value() == "online"


async def test_a_client_certificate_not_trusted_is_refused(engine: Engine, tmp_path: Path) -> None:
    client = await encrypted_client(engine, tmp_path)  # a certificate made for this test
    with pytest.raises(UaStatusCodeError) as refused:
        async with client:
            pass
    assert refused.value.code == ua.StatusCodes.BadCertificateUntrusted


async def test_a_busy_port_fails_the_engine_start_and_leaves_no_thread(
    make_project: Any,
) -> None:
    running = set(threading.enumerate())  # the module's engine has its server thread
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        settings = OpcUaServerSettings(
            enabled=True,
            port=taken.getsockname()[1],
            security=(OpcUaSecurity.NONE,),
            allow_anonymous=True,
        )
        project = dataclasses.replace(make_project(bollards=1), opcua_server=settings)
        engine = Engine(project, run_simulator=False)
        with pytest.raises(OSError):
            await engine.start()
        await engine.stop()  # as EngineThread does after a failed start
    assert not [t for t in threading.enumerate() if t.name == "evsuper-opcua" and t not in running]
