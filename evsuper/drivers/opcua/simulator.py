"""An OPC UA server (asyncua) with a building/PV/DSO address space, for demos and tests.

Nodes (namespace ``urn:evsuper:simulator``, index 2 on this server):

- ``ns=2;s=Building.Load`` — building load, kW, read-only, moving ±25 % around a base;
- ``ns=2;s=PV.Production`` — PV production, kW, read-only, a half-sine day;
- ``ns=2;s=DSO.Limit`` — the grid operator's limit, kW, writable (static unless written);
- ``ns=2;s=Test.Value0001`` ... — optional load-test values changing every step.

Each variable has its ``EURange`` and ``EngineeringUnits`` properties. Run standalone:
``python -m evsuper.drivers.opcua.simulator --port 4841 [--secure DIR] [--user u:p]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asyncua import Server, ua
from asyncua.crypto import cert_gen
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.user_managers import UserManager
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

NAMESPACE = "urn:evsuper:simulator"
APPLICATION_URI = "urn:evsuper:simulator:server"
PATH = "/evsuper/sim"


@dataclass(frozen=True, slots=True)
class Variable:
    name: str  # the string identifier, e.g. "Building.Load"
    unit: str
    unece: str  # UNECE Rec. 20 code of the unit
    low: float
    high: float
    writable: bool = False


BUILDING_LOAD = Variable("Building.Load", "kW", "KWT", 0.0, 400.0)
PV_PRODUCTION = Variable("PV.Production", "kW", "KWT", 0.0, 200.0)
DSO_LIMIT = Variable("DSO.Limit", "kW", "KWT", 0.0, 1000.0, writable=True)
SITE_VARIABLES = (BUILDING_LOAD, PV_PRODUCTION, DSO_LIMIT)
_UNITS_NAMESPACE = "http://www.opcfoundation.org/UA/units/un/cefact"


def node_id(name: str) -> str:
    """The node id string of a simulator variable: ``ns=2;s=<name>``."""
    return f"ns=2;s={name}"


def extra_value_name(index: int) -> str:
    return f"Test.Value{index:04d}"


@dataclass(frozen=True, slots=True)
class SimulatorSecurity:
    """Basic256Sha256 (Sign and SignAndEncrypt) with this server certificate; ``users``
    maps user names to passwords. Anonymous sessions are refused when there are users."""

    certificate: Path
    private_key: Path
    users: Mapping[str, str] | None = None
    allow_unsecured: bool = False  # also offer the None policy (for browsing demos)


class _UserManager(UserManager):
    """Users by name and password; any client certificate; anonymous only without users."""

    def __init__(self, users: Mapping[str, str] | None) -> None:
        self._users = dict(users or {})

    def get_user(
        self,
        iserver: Any,
        username: str | None = None,
        password: str | None = None,
        certificate: Any = None,
    ) -> User | None:
        if username is not None:
            if self._users.get(username) == password:
                return User(role=UserRole.User, name=username)
            return None
        if certificate is not None:
            return User(role=UserRole.User, name="certificate")
        return None if self._users else User(role=UserRole.User)


class OpcUaSimulator:
    """The simulated building/PV/DSO server on ``host:port`` (0: a free port, kept for
    restarts). ``step_s = 0`` freezes the values (tests set them with ``set_value``)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        step_s: float = 1.0,
        period_s: float = 600.0,
        day_length_s: float | None = None,
        building_base_kw: float = 120.0,
        pv_peak_kw: float = 150.0,
        dso_limit_kw: float = 400.0,
        test_values: int = 0,
        security: SimulatorSecurity | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.step_s = step_s
        self.period_s = period_s
        self.day_length_s = day_length_s
        self.building_base_kw = building_base_kw
        self.pv_peak_kw = pv_peak_kw
        self.test_values = test_values
        self.security = security
        self.steps = 0
        self._values: dict[str, float] = {DSO_LIMIT.name: dso_limit_kw}
        self._server: Server | None = None
        self._ids: dict[str, ua.NodeId] = {}
        self._stepper: asyncio.Task[None] | None = None
        self._rng = random.Random(7)

    @property
    def url(self) -> str:
        return f"opc.tcp://{self.host}:{self.port}{PATH}"

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        """Build a fresh server (the address space keeps the values) and listen."""
        server = Server()
        await server.init()
        server.set_endpoint(f"opc.tcp://{self.host}:{self.port}{PATH}")
        server.set_server_name("evsuper OPC UA simulator")
        await server.set_application_uri(APPLICATION_URI)
        server.disable_clock()
        if self.security is not None:
            await server.load_certificate(str(self.security.certificate))
            await server.load_private_key(self.security.private_key)
            policies = [
                ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
                ua.SecurityPolicyType.Basic256Sha256_Sign,
            ]
            if self.security.allow_unsecured:
                policies.append(ua.SecurityPolicyType.NoSecurity)
            server.set_security_policy(policies)
            server.iserver.set_user_manager(_UserManager(self.security.users))
            tokens: list[type] = [ua.UserNameIdentityToken, ua.X509IdentityToken]
            if not self.security.users:
                tokens.append(ua.AnonymousIdentityToken)
            server.set_identity_tokens(tokens)
        else:
            server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
            server.set_identity_tokens([ua.AnonymousIdentityToken])
        await self._build(server)
        await server.start()
        assert server.bserver is not None
        self.port = server.bserver.port
        self._server = server
        if self.step_s > 0:
            self._stepper = asyncio.create_task(self._step_forever(), name="opcua-simulator")
        await self._step()

    async def stop(self) -> None:
        if self._stepper is not None:
            self._stepper.cancel()
            await asyncio.gather(self._stepper, return_exceptions=True)
            self._stepper = None
        if self._server is not None:
            self._values[DSO_LIMIT.name] = self.value(DSO_LIMIT.name)  # as last written
            server, self._server = self._server, None
            await server.stop()

    async def __aenter__(self) -> OpcUaSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def value(self, name: str) -> Any:
        """The server's current value of a variable (``"DSO.Limit"``)."""
        assert self._server is not None
        data = self._server.read_attribute_value(self._ids[name])
        return None if data.Value is None else data.Value.Value

    async def set_value(self, name: str, value: float, status: int = ua.StatusCodes.Good) -> None:
        """Set a variable as its source would (a status other than Good included)."""
        self._values[name] = value
        await self._write(name, value, status)

    # ---- address space

    async def _build(self, server: Server) -> None:
        ns = await server.register_namespace(NAMESPACE)
        site = await server.nodes.objects.add_folder(
            f"ns={ns};s=Site", ua.QualifiedName("Site", ns)
        )
        folders = {}
        for folder in ("Building", "PV", "DSO") + (("Test",) if self.test_values else ()):
            folders[folder] = await site.add_object(
                f"ns={ns};s={folder}", ua.QualifiedName(folder, ns)
            )
        variables = list(SITE_VARIABLES) + [
            Variable(extra_value_name(i), "", "", 0.0, 100.0)
            for i in range(1, self.test_values + 1)
        ]
        self._ids = {}
        for var in variables:
            folder, _, leaf = var.name.partition(".")
            initial = self._values.get(var.name, 0.0)
            node = await folders[folder].add_variable(
                f"ns={ns};s={var.name}", ua.QualifiedName(leaf, ns), initial, ua.VariantType.Double
            )
            await node.add_property(
                f"ns={ns};s={var.name}.EURange",
                ua.QualifiedName("EURange", 0),
                ua.Range(Low=var.low, High=var.high),
                datatype=ua.ObjectIds.Range,
            )
            if var.unit:
                await node.add_property(
                    f"ns={ns};s={var.name}.EngineeringUnits",
                    ua.QualifiedName("EngineeringUnits", 0),
                    _eu_information(var),
                    datatype=ua.ObjectIds.EUInformation,
                )
            if var.writable:
                await node.set_writable()
            self._ids[var.name] = node.nodeid

    async def _write(self, name: str, value: float, status: int = ua.StatusCodes.Good) -> None:
        if self._server is None:
            return
        data = ua.DataValue(
            ua.Variant(value, ua.VariantType.Double),
            StatusCode=ua.StatusCode(ua.UInt32(status)),
            SourceTimestamp=ua.DateTime.now(dt.UTC),
        )
        await self._server.write_attribute_value(self._ids[name], data)

    # ---- moving values

    async def _step_forever(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            due = max(due + self.step_s, loop.time())
            await asyncio.sleep(due - loop.time())
            self.steps += 1
            await self._step()

    async def _step(self) -> None:
        t = self.steps * self.step_s
        swing = math.sin(2 * math.pi * t / self.period_s) if self.period_s > 0 else 0.0
        load = self.building_base_kw * (1 + 0.25 * swing + 0.02 * self._rng.uniform(-1, 1))
        self._values[BUILDING_LOAD.name] = round(load, 3)
        self._values[PV_PRODUCTION.name] = round(self._pv_kw(t), 3)
        for i in range(1, self.test_values + 1):
            self._values[extra_value_name(i)] = float((self.steps + i) % 100)
        for name, value in self._values.items():
            if name != DSO_LIMIT.name:
                await self._write(name, value)

    def _pv_kw(self, t: float) -> float:
        if self.day_length_s:
            hour = 24.0 * (t % self.day_length_s) / self.day_length_s
        else:
            now = dt.datetime.now()
            hour = now.hour + now.minute / 60 + now.second / 3600
        if not 6.0 <= hour <= 18.0:
            return 0.0
        sun = math.sin(math.pi * (hour - 6.0) / 12.0)
        clouds = 0.9 + 0.1 * math.sin(t / 37.0)
        return self.pv_peak_kw * sun * clouds


def _eu_information(var: Variable) -> ua.EUInformation:
    code = var.unece.encode("ascii")
    unit_id = int.from_bytes(code, "big") if code else -1
    return ua.EUInformation(
        NamespaceUri=_UNITS_NAMESPACE,
        UnitId=unit_id,
        DisplayName=ua.LocalizedText(var.unit),
        Description=ua.LocalizedText(var.unit),
    )


def self_signed_certificate(
    directory: Path, name: str, application_uri: str, *, client: bool
) -> tuple[Path, Path]:
    """Write ``<name>.der`` and ``<name>.pem`` (its private key) into ``directory``: an OPC
    UA application instance certificate for ``application_uri`` on localhost (for tests
    and demos; never commit the key)."""
    key = cert_gen.generate_private_key()
    usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
    certificate = cert_gen.generate_self_signed_app_certificate(
        key,
        name,
        {},
        [
            x509.UniformResourceIdentifier(application_uri),
            x509.DNSName("localhost"),
        ],
        extended=[usage],
        days=30,
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / f"{name}.der", directory / f"{name}.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.DER))
    key_path.write_bytes(cert_gen.dump_private_key_as_pem(key))
    key_path.chmod(0o600)
    return cert_path, key_path


async def _serve(args: argparse.Namespace) -> None:
    security = None
    if args.secure:
        cert, key = self_signed_certificate(
            Path(args.secure), "simulator", APPLICATION_URI, client=False
        )
        users = dict(u.split(":", 1) for u in args.user)
        security = SimulatorSecurity(cert, key, users, allow_unsecured=not users)
    sim = OpcUaSimulator(
        args.host,
        args.port,
        step_s=args.step,
        day_length_s=args.day_length,
        test_values=args.test_values,
        security=security,
    )
    async with sim:
        print(f"OPC UA simulator on {sim.url}", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="evsuper OPC UA simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4841)
    parser.add_argument("--step", type=float, default=1.0, help="seconds between value steps")
    parser.add_argument("--day-length", type=float, default=None, help="seconds in a PV day")
    parser.add_argument("--test-values", type=int, default=0, help="extra moving values")
    parser.add_argument("--secure", metavar="DIR", help="Basic256Sha256 with a certificate in DIR")
    parser.add_argument("--user", action="append", default=[], metavar="NAME:PASSWORD")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
