"""evsuper as an OPC UA server: the live model for a BMS or another SCADA (asyncua).

The address space is described in ``opcua_model.py``; this module runs it on a thread
and loop of its own, so that what asyncua costs (a second to build the standard address
space, seconds to add the nodes of a large site, encoding notifications, an argon2 check
per session login) never stalls the engine loop. Values come from the tag bus: the bus
listener (engine thread) only keeps the latest sample per tag under a lock, and the server
thread writes what changed into the address space every ``FLUSH_PERIOD_S`` (a burst of
10 000 changes costs one write per node, never one per sample). Writes from clients to
the writable nodes become commands executed on the engine loop by the ``CommandRouter``
with the client's evsuper account: the same permissions and audit as the HMI.
docs/opcua_server.md.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import ipaddress
import logging
import math
import os
import socket
import threading
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asyncua import Server, ua
from asyncua.crypto import cert_gen
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.crypto.truststore import TrustStore
from asyncua.crypto.validator import CertificateValidator, CertificateValidatorOptions
from asyncua.server.address_space import AddressSpace, AttributeService
from asyncua.server.internal_server import InternalServer
from asyncua.server.user_managers import UserManager
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from evsuper.alarms.model import ALARM_PREFIX, SUMMARY_TAG, AlarmRecord, AlarmSummary, Priority
from evsuper.core.domain import CommState
from evsuper.core.tags import (
    ChargerTag,
    ConnectorTag,
    Quality,
    Sample,
    TagPath,
    charger_tag,
    connector_tag,
    split_tag,
)
from evsuper.core.timeutil import utcnow
from evsuper.engine import opcua_model as m
from evsuper.engine.commands import (
    AvailabilityKind,
    ChangeAvailability,
    Command,
    CommandResult,
    Outcome,
    SetSiteLimit,
)
from evsuper.project.model import OpcUaSecurity, Project
from evsuper.users.permissions import Actor, Origin, Role
from evsuper.users.store import Authenticator

if TYPE_CHECKING:
    from evsuper.engine.runtime import Engine

log = logging.getLogger(__name__)

FLUSH_PERIOD_S = 0.1
BUILD_SLICE = 2000  # nodes added between two gc.freeze()
STOP_TIMEOUT_S = 10.0
WRITES_PER_SLICE = 500  # node writes between two yields to the loop
CERTIFICATE_DAYS = 5 * 365
# Sessions without a user name act as this viewer: every write is refused and audited.
ANONYMOUS = Actor("opcua-anonymous", Role.VIEWER, Origin.OPCUA)

_POLICIES = {
    OpcUaSecurity.NONE: ua.SecurityPolicyType.NoSecurity,
    OpcUaSecurity.BASIC256SHA256_SIGN: ua.SecurityPolicyType.Basic256Sha256_Sign,
    OpcUaSecurity.BASIC256SHA256_SIGN_AND_ENCRYPT: (
        ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt
    ),
}
# Errors saying that nothing in this engine executes the command: no driver owns the
# charger (router), smart charging is off for the site (charging service).
_NOT_HERE = frozenset({"UnknownCharger", "UnknownSite"})
_OUTCOME_STATUS = {
    Outcome.ACCEPTED: ua.StatusCodes.Good,
    Outcome.DENIED: ua.StatusCodes.BadUserAccessDenied,
    Outcome.REJECTED: ua.StatusCodes.BadRequestNotAllowed,
    Outcome.TIMEOUT: ua.StatusCodes.BadTimeout,
    Outcome.OFFLINE: ua.StatusCodes.BadNotConnected,
    Outcome.ERROR: ua.StatusCodes.BadInternalError,
}


def application_uri() -> str:
    return f"urn:{socket.gethostname()}:evsuper"


def status_for(result: CommandResult) -> int:
    """The write's status code for a command's result."""
    if result.outcome is Outcome.ERROR and result.status in _NOT_HERE:
        return ua.StatusCodes.BadNotSupported
    return _OUTCOME_STATUS[result.outcome]


def command_for(target: m.WriteTarget, value: Any, actor: Actor) -> Command | int:
    """The command a client's write of ``value`` asks for, or the status refusing it."""
    if isinstance(target, m.SiteLimitWrite):
        if value is None:
            return SetSiteLimit(site_id=target.site_id, limit_kw=None, actor=actor)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return ua.StatusCodes.BadTypeMismatch
        if not math.isfinite(value) or value < 0:
            return ua.StatusCodes.BadOutOfRange
        return SetSiteLimit(site_id=target.site_id, limit_kw=float(value), actor=actor)
    if not isinstance(value, str):
        return ua.StatusCodes.BadTypeMismatch
    kind = next((k for k in AvailabilityKind if k.value.lower() == value.strip().lower()), None)
    if kind is None:
        return ua.StatusCodes.BadOutOfRange
    return ChangeAvailability(
        charger_id=target.charger_id, connector_id=target.connector_id, kind=kind, actor=actor
    )


# ---- users and writes ----


@dataclass
class OpcUaUser(User):
    """An asyncua session user carrying the evsuper actor it acts as."""

    actor: Actor = ANONYMOUS


class _Users(UserManager):
    """Sessions log in with evsuper accounts (``Authenticator``: throttle, audit)."""

    def __init__(self, authenticator: Authenticator, allow_anonymous: bool) -> None:
        self._authenticator = authenticator
        self._allow_anonymous = allow_anonymous

    def get_user(
        self,
        iserver: InternalServer,
        username: str | None = None,
        password: str | None = None,
        certificate: Any = None,
    ) -> User | None:
        if username is None:
            if not self._allow_anonymous:
                return None
            return OpcUaUser(role=UserRole.User, name=ANONYMOUS.user, actor=ANONYMOUS)
        # asyncua asks synchronously: one argon2 check (~0.1 s) on the server thread.
        result = self._authenticator.login(username, password or "", Origin.OPCUA)
        if result.user is None:
            log.warning("OPC UA login refused for %r: %s", username, result.message)
            return None
        actor = result.user.actor(Origin.OPCUA)
        return OpcUaUser(role=UserRole.User, name=actor.user, actor=actor)


_INTERNAL = User(role=UserRole.Admin)  # asyncua's default: its own internal session
WriteHandler = Callable[[m.VariableSpec, Any, Actor], Awaitable[int]]


class _WriteGate(AttributeService):
    """asyncua's attribute service with writes to evsuper's nodes turned into commands.

    A write to a writable node goes to ``handler``; any other write to evsuper's
    namespace is BadNotWritable; writes elsewhere (the standard nodes) keep asyncua's rules.
    """

    def __init__(
        self,
        aspace: AddressSpace,
        namespace: int,
        variables: dict[ua.NodeId, m.VariableSpec],
        handler: WriteHandler,
    ) -> None:
        super().__init__(aspace)
        self._namespace = namespace
        self._variables = variables
        self._handler = handler

    async def write(
        self, params: ua.WriteParameters, user: User = _INTERNAL
    ) -> list[ua.StatusCode]:
        if user.role is UserRole.Admin:  # asyncua's own internal session
            return await super().write(params, user)
        results: list[ua.StatusCode] = []
        for item in params.NodesToWrite:
            if item.NodeId.NamespaceIndex != self._namespace:
                single = ua.WriteParameters(NodesToWrite=[item])
                results += await super().write(single, user)
                continue
            spec = self._variables.get(item.NodeId)
            if spec is None or spec.write is None or item.AttributeId != ua.AttributeIds.Value:
                results.append(m.status_code(ua.StatusCodes.BadNotWritable))
                continue
            actor = user.actor if isinstance(user, OpcUaUser) else ANONYMOUS
            value = item.Value.Value.Value if item.Value.Value is not None else None
            results.append(m.status_code(await self._handler(spec, value, actor)))
        return results


# ---- certificates ----


def server_certificate(project: Project) -> tuple[Path, Path]:
    """The server's certificate and private key files; a self-signed pair is made in
    ``.evsuper/opcua/`` when the project names none and none was made yet (blocking)."""
    settings = project.opcua_server
    if settings.certificate is not None and settings.private_key is not None:
        return project.path(settings.certificate), project.path(settings.private_key)
    folder = project.directory / ".evsuper" / "opcua"
    certificate, key = folder / "server-certificate.der", folder / "server-key.pem"
    if not (certificate.is_file() and key.is_file()):
        folder.mkdir(parents=True, exist_ok=True)
        private_key = cert_gen.generate_private_key()
        names: list[x509.GeneralName] = [
            x509.UniformResourceIdentifier(application_uri()),
            x509.DNSName(socket.gethostname()),
        ]
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(settings.host)))
        except ValueError:
            names.append(x509.DNSName(settings.host))
        cert = cert_gen.generate_self_signed_app_certificate(
            private_key,
            f"evsuper {project.name}",
            {"organizationName": "evsuper"},
            names,
            extended=[ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH],
            days=CERTIFICATE_DAYS,
        )
        descriptor = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(cert_gen.dump_private_key_as_pem(private_key))
        certificate.write_bytes(cert.public_bytes(Encoding.DER))
        log.info("made a self-signed OPC UA server certificate in %s", folder)
    return certificate, key


# ---- the server ----


class OpcUaServer:
    """The engine's OPC UA server (``[opcua_server]``); ``start`` and ``stop`` are called
    on the engine loop, everything else runs on the server thread."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._project = engine.project
        self.settings = engine.project.opcua_server
        self._model = m.describe_project(self._project)
        self._server: Server | None = None
        self._ns = 0
        self._specs = {v.node_id: v for v in self._model.variables()}
        self._tags = {v.node_id for v in self._specs.values() if v.tag}
        self._site_of: dict[str, str] = {}
        self._totals: dict[str, m.SiteTotals] = {}
        for site in self._project.sites:
            chargers = tuple(
                c for c in self._project.chargers if (s := self._project.site_of(c)) and s == site
            )
            self._totals[site.id] = m.SiteTotals(site.id, chargers)
            self._site_of.update({c.id: site.id for c in chargers})
        self._limit_tags = {m.limit_tag(site.id): site.id for site in self._project.sites}
        # per charger, its tags that a lost connection makes stale
        self._charger_tags = {
            c.id: [
                path
                for path in [
                    charger_tag(c.id, ChargerTag.STATUS),
                    *(
                        connector_tag(c.id, n, name)
                        for n in range(1, c.connectors + 1)
                        for name in ConnectorTag
                    ),
                ]
                if path in self._tags
            ]
            for c in self._project.chargers
        }
        self._alarms: dict[str, AlarmRecord] = {}
        # tag samples handed over by the engine thread (under the lock), and the latest
        # sample of every tag the server shows, kept by the server thread
        self._lock = threading.Lock()
        self._pending: dict[TagPath, Sample] = {}
        self._current: dict[TagPath, Sample] = {}
        self._written: dict[str, Any] = {}  # computed node id → value last written
        self._unsubscribe: Callable[[], None] | None = None
        self._thread: threading.Thread | None = None
        self._stop_requested = threading.Event()
        self._engine_loop: asyncio.AbstractEventLoop | None = None
        self.url = ""

    async def start(self) -> None:
        """Start the server thread; returns once clients can connect."""
        self._engine_loop = asyncio.get_running_loop()
        with self._lock:  # what is known now, then every change (same engine-loop step)
            snapshot = self._engine.bus.snapshot()
            self._pending = {path: s for path, s in snapshot.items() if self._wants(path)}
            self._unsubscribe = self._engine.bus.subscribe(self._on_tag)
        ready = concurrent.futures.Future[str]()
        self._stop_requested.clear()
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._serve(ready)), name="evsuper-opcua", daemon=True
        )
        self._thread.start()
        try:
            self.url = await asyncio.wrap_future(ready)
        except BaseException:
            await self.stop()
            raise
        log.info("OPC UA server on %s (%s)", self.url, ", ".join(self.settings.security))

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._stop_requested.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, STOP_TIMEOUT_S)
            if self._thread.is_alive():
                log.warning("the OPC UA server thread did not stop within %s s", STOP_TIMEOUT_S)
            self._thread = None

    async def _serve(self, ready: concurrent.futures.Future[str]) -> None:
        """The server thread's loop: open the server, then flush changes until stopped."""
        try:
            server = await self._open()
            try:
                await self._flush(everything=True)
            except BaseException:
                await server.stop()
                raise
        except BaseException as exc:
            self._server = None
            gc.unfreeze()  # what _build froze
            ready.set_exception(exc)
            return
        ready.set_result(self.url)
        try:
            while not self._stop_requested.is_set():
                await asyncio.sleep(FLUSH_PERIOD_S)
                try:
                    await self._flush()
                except Exception:  # a bad value must not stop the server's updates
                    log.exception("OPC UA server update failed")
        finally:
            await server.stop()
            self._server = None
            gc.unfreeze()  # the address space may be collected now (see _build)

    async def _open(self) -> Server:
        settings = self.settings
        server = Server(user_manager=_Users(self._engine.authenticator, settings.allow_anonymous))
        await server.init()  # the standard address space: about a second of CPU
        server.set_server_name(f"evsuper {self._project.name}")
        server.product_uri = "urn:evsuper"
        server.manufacturer_name = "evsuper"
        await server.set_application_uri(application_uri())
        server.set_endpoint(f"opc.tcp://{settings.host}:{settings.port}/{settings.path}")
        server.set_security_policy([_POLICIES[s] for s in settings.security])
        tokens: list[type] = [ua.UserNameIdentityToken] if settings.user_logins else []
        if settings.allow_anonymous:
            tokens.append(ua.AnonymousIdentityToken)
        server.set_identity_tokens(tokens)
        if any(s is not OpcUaSecurity.NONE for s in settings.security):
            certificate, key = server_certificate(self._project)
            await server.load_certificate(str(certificate))
            await server.load_private_key(str(key))
        if settings.trusted_clients is not None:
            trusted = TrustStore([self._project.path(settings.trusted_clients)], [])
            await trusted.load()
            checks = CertificateValidatorOptions
            validator = CertificateValidator(
                checks.TRUSTED_VALIDATION | checks.PEER_CLIENT, trusted
            )
            server.set_certificate_validator(validator)
        self._ns = await server.register_namespace(settings.namespace_uri)
        self._build(server)
        iserver = server.iserver
        variables = {self._node_id(i): spec for i, spec in self._specs.items()}
        iserver.attribute_service = _WriteGate(iserver.aspace, self._ns, variables, self._write)
        await server.start()
        self._server = server
        assert server.bserver is not None
        self.url = f"opc.tcp://{settings.host}:{server.bserver.port}/{settings.path}"
        return server

    # ---- the address space ----

    def _node_id(self, node_id: str) -> ua.NodeId:
        return m.string_node(node_id, self._ns)

    def _build(self, server: Server) -> None:
        """Add evsuper's nodes (~5 s of CPU for 1 000 chargers: the server thread's).

        The address space is a million long-lived objects: every full pass of Python's
        cyclic garbage collector would walk them again, holding the GIL (and so every
        thread, the engine loop's too) for half a second at 1 000 chargers. They are moved
        out of its sight (``gc.freeze``) as they are made; ``stop`` gives them back.
        """
        items: list[ua.AddNodesItem] = []
        self._add_object(items, self._model, m.standard_node(ua.ObjectIds.ObjectsFolder), True)
        service = server.iserver.node_mgt_service
        gc.freeze()  # asyncua's standard address space
        for start in range(0, len(items), BUILD_SLICE):
            for result in service.add_nodes(items[start : start + BUILD_SLICE]):
                result.StatusCode.check()
            gc.freeze()

    def _add_object(
        self, items: list[ua.AddNodesItem], spec: m.ObjectSpec, parent: ua.NodeId, organized: bool
    ) -> None:
        item = ua.AddNodesItem()
        item.RequestedNewNodeId = self._node_id(spec.node_id)
        item.BrowseName = ua.QualifiedName(spec.name, self._ns)
        item.NodeClass = ua.NodeClass.Object
        item.ParentNodeId = parent
        item.ReferenceTypeId = m.standard_node(
            ua.ObjectIds.Organizes if organized else ua.ObjectIds.HasComponent
        )
        item.TypeDefinition = m.standard_node(
            ua.ObjectIds.FolderType if spec.folder else ua.ObjectIds.BaseObjectType
        )
        attributes = ua.ObjectAttributes()
        attributes.DisplayName = ua.LocalizedText(spec.display_name)
        attributes.Description = ua.LocalizedText(spec.description or spec.display_name)
        item.NodeAttributes = attributes
        items.append(item)
        for child in spec.children:
            if isinstance(child, m.ObjectSpec):
                self._add_object(items, child, item.RequestedNewNodeId, spec.folder)
            else:
                self._add_variable(items, child, item.RequestedNewNodeId)

    def _add_variable(
        self, items: list[ua.AddNodesItem], spec: m.VariableSpec, parent: ua.NodeId
    ) -> None:
        item = ua.AddNodesItem()
        item.RequestedNewNodeId = self._node_id(spec.node_id)
        item.BrowseName = ua.QualifiedName(spec.name, self._ns)
        item.NodeClass = ua.NodeClass.Variable
        item.ParentNodeId = parent
        item.ReferenceTypeId = m.standard_node(ua.ObjectIds.HasComponent)
        if spec.eu_range is not None:
            kind = ua.ObjectIds.AnalogItemType
        elif spec.unit is not None:
            kind = ua.ObjectIds.BaseAnalogType
        else:
            kind = ua.ObjectIds.BaseDataVariableType
        item.TypeDefinition = m.standard_node(kind)
        access = ua.AccessLevel.CurrentRead.mask
        if spec.write is not None:
            access |= ua.AccessLevel.CurrentWrite.mask
        attributes = ua.VariableAttributes()
        attributes.DisplayName = ua.LocalizedText(spec.name)
        attributes.Description = ua.LocalizedText(spec.description)
        attributes.DataType = m.standard_node(spec.value_type.value.value)
        attributes.ValueRank = ua.ValueRank.Scalar
        attributes.ArrayDimensions = []
        attributes.AccessLevel = access
        attributes.UserAccessLevel = access
        attributes.Historizing = False
        if spec.initial is not None:
            attributes.Value = ua.Variant(spec.initial, spec.value_type.value)
        item.NodeAttributes = attributes
        items.append(item)
        if spec.unit is not None:
            items.append(
                self._property(
                    spec, "EngineeringUnits", spec.unit.eu_information(), "EUInformation"
                )
            )
        if spec.eu_range is not None:
            low, high = spec.eu_range
            items.append(self._property(spec, "EURange", ua.Range(low, high), "Range"))

    def _property(self, spec: m.VariableSpec, name: str, value: Any, type_name: str) -> Any:
        item = ua.AddNodesItem()
        item.RequestedNewNodeId = self._node_id(f"{spec.node_id}/{name}")
        item.BrowseName = ua.QualifiedName(name, 0)
        item.NodeClass = ua.NodeClass.Variable
        item.ParentNodeId = self._node_id(spec.node_id)
        item.ReferenceTypeId = m.standard_node(ua.ObjectIds.HasProperty)
        item.TypeDefinition = m.standard_node(ua.ObjectIds.PropertyType)
        attributes = ua.VariableAttributes()
        attributes.DisplayName = ua.LocalizedText(name)
        attributes.DataType = m.standard_node(getattr(ua.ObjectIds, type_name))
        attributes.ValueRank = ua.ValueRank.Scalar
        attributes.ArrayDimensions = []
        attributes.AccessLevel = ua.AccessLevel.CurrentRead.mask
        attributes.UserAccessLevel = ua.AccessLevel.CurrentRead.mask
        attributes.Historizing = False
        attributes.Value = ua.Variant(value, ua.VariantType.ExtensionObject)
        item.NodeAttributes = attributes
        return item

    # ---- values ----

    def _wants(self, path: TagPath) -> bool:
        return path in self._tags or path in self._limit_tags or m.is_alarm_tag(path)

    def _on_tag(self, path: TagPath, sample: Sample) -> None:
        """Engine thread: keep the latest sample for the next flush, nothing more."""
        if self._wants(path):
            with self._lock:
                self._pending[path] = sample

    async def _flush(self, *, everything: bool = False) -> None:
        """Write what changed since the last flush: tags, then what is computed from them
        (``everything``: the first time, each computed value and the static limits too)."""
        with self._lock:
            pending, self._pending = self._pending, {}
        self._current.update(pending)
        writes: list[tuple[str, ua.DataValue]] = []
        sites: set[str] = set(self._totals) if everything else set()
        alarms_changed = everything
        if everything:
            waiting = ua.DataValue(
                ua.Variant(),
                m.status_code(ua.StatusCodes.BadWaitingForInitialData),
                ServerTimestamp=m.timestamp(utcnow()),
            )
            writes += [
                (node_id, waiting)
                for node_id, spec in self._specs.items()
                if spec.initial is None and node_id not in pending
            ]
            writes += self._summary(pending.get(SUMMARY_TAG, Sample(None)))
            writes += [self._static_limit(s) for s in self._totals if m.limit_tag(s) not in pending]
        for path, sample in pending.items():
            if path.startswith(ALARM_PREFIX):
                key = path[len(ALARM_PREFIX) :]
                if isinstance(sample.value, AlarmRecord):
                    self._alarms[key] = sample.value
                else:
                    self._alarms.pop(key, None)
                alarms_changed = True
            elif path == SUMMARY_TAG:
                writes += self._summary(sample)
            elif path in self._limit_tags:
                writes.append(self._limit_value(self._limit_tags[path], sample))
            else:
                writes += self._tag_values(path, sample, pending)
                site = self._site_of.get(split_tag(path)[0])
                if site is not None:
                    sites.add(site)
        if alarms_changed:
            writes += self._site_alarms()
        for site in sites:
            writes += self._site_values(site)
        await self._write_all(writes)

    async def _write_all(self, writes: Iterable[tuple[str, ua.DataValue]]) -> None:
        server = self._server
        if server is None:
            return
        for count, (node_id, value) in enumerate(writes, start=1):
            await server.write_attribute_value(self._node_id(node_id), value)
            if count % WRITES_PER_SLICE == 0:
                await asyncio.sleep(0)

    def _tag_values(
        self, path: TagPath, sample: Sample, pending: dict[TagPath, Sample]
    ) -> list[tuple[str, ua.DataValue]]:
        """The node of tag ``path`` and the nodes derived from it (online, availability);
        values of a charger that is not connected are marked stale."""
        charger_id, connector_id, name = split_tag(path)
        if connector_id is None and name == ChargerTag.COMM:
            online = Sample(sample.value == CommState.ONLINE, sample.ts, sample.quality)
            writes = [(path, self._dv(path, sample))]
            writes.append(self._derived(charger_tag(charger_id, m.ONLINE), online, False))
            for other in self._charger_tags.get(charger_id, ()):  # now stale, or fresh again
                if other not in pending and (current := self._current.get(other)) is not None:
                    writes += self._tag_values(other, current, pending)
            return writes
        stale = self._stale(charger_id)
        writes = [(path, self._dv(path, sample, stale=stale))]
        if connector_id is not None and name == ConnectorTag.STATUS:
            availability = Sample(m.availability_of(sample.value), sample.ts, sample.quality)
            node = connector_tag(charger_id, connector_id, m.AVAILABILITY)
            writes.append(self._derived(node, availability, stale))
        return writes

    def _derived(self, node_id: str, sample: Sample, stale: bool) -> tuple[str, ua.DataValue]:
        return node_id, self._dv(node_id, sample, stale=stale)

    def _stale(self, charger_id: str) -> bool:
        return self._value(charger_tag(charger_id, ChargerTag.COMM)) != CommState.ONLINE

    def _value(self, path: TagPath) -> Any:
        sample = self._current.get(path)
        return None if sample is None else sample.value

    def _dv(self, node_id: str, sample: Sample, *, stale: bool = False) -> ua.DataValue:
        spec = self._specs[node_id]
        return m.data_value(sample.value, spec.value_type, sample.ts, sample.quality, stale=stale)

    def _computed(self, node_id: str, value: Any, ts: datetime) -> list[tuple[str, ua.DataValue]]:
        """A computed value's write, only when it changed."""
        if node_id in self._written and self._written[node_id] == value:
            return []
        self._written[node_id] = value
        spec = self._specs[node_id]
        return [(node_id, m.data_value(value, spec.value_type, ts, Quality.GOOD))]

    def _site_values(self, site_id: str) -> list[tuple[str, ua.DataValue]]:
        now = utcnow()
        values = self._totals[site_id].values(self._value)
        writes = []
        for key, value in values.items():
            writes += self._computed(m.site_node(site_id, key.value), value, now)
        return writes

    def _site_alarms(self) -> list[tuple[str, ua.DataValue]]:
        now = utcnow()
        counts = m.unacknowledged_by_site(self._alarms.values(), self._site_of)
        writes = []
        for site in self._project.sites:
            by_priority = counts.get(site.id, {})
            for priority in Priority:
                node = m.unacknowledged_node(priority, site.id)
                writes += self._computed(node, by_priority.get(priority, 0), now)
        return writes

    def _summary(self, sample: Sample) -> list[tuple[str, ua.DataValue]]:
        summary = sample.value if isinstance(sample.value, AlarmSummary) else None
        writes = []
        for node, value in m.summary_values(summary).items():
            writes += self._computed(node, value, sample.ts)
        return writes

    def _limit_value(self, site_id: str, sample: Sample) -> tuple[str, ua.DataValue]:
        node = m.site_node(site_id, m.LIMIT_KW)
        return node, self._dv(node, sample)

    def _static_limit(self, site_id: str) -> tuple[str, ua.DataValue]:
        site = self._project.site(site_id)
        return self._limit_value(site_id, Sample(site.limit_kw if site else None))

    # ---- writes ----

    async def _write(self, spec: m.VariableSpec, value: Any, actor: Actor) -> int:
        assert spec.write is not None
        command = command_for(spec.write, value, actor)
        if isinstance(command, int):
            return command
        assert self._engine_loop is not None
        execution = self._engine.router.execute(command)  # on the engine loop, awaited here
        result = await asyncio.wrap_future(
            asyncio.run_coroutine_threadsafe(execution, self._engine_loop)
        )
        if result.ok and isinstance(command, SetSiteLimit):
            # shown at once; the charging service's limit tag follows with what is in force
            if command.limit_kw is None:
                await self._write_all([self._static_limit(command.site_id)])
            else:
                await self._write_all([self._limit_value(command.site_id, Sample(value))])
        return status_for(result)
