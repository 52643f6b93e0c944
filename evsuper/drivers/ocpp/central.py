"""The OCPP central system: WebSocket endpoint, charger registry, live state and commands.

Chargers connect to ``ws://host:port/<prefix>/<id>`` or ``ws://host:port/<id>`` (``wss://``
under security profiles 2 and 3, see ``security.py``) with the ``ocpp1.6`` subprotocol.
Each connection gets its own ``ChargePoint16``; what must outlive a connection
(registration, open transactions, live figures) is kept here.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Coroutine
from dataclasses import dataclass, field, replace
from datetime import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

import ocpp.messages
from ocpp.exceptions import OCPPError
from ocpp.v16 import call
from ocpp.v16.enums import AuthorizationStatus, AvailabilityType, MessageTrigger, UpdateStatus
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from evsuper.charging.composite import composite_schedule
from evsuper.charging.profiles import (
    ChargingProfile,
    ChargingRateUnit,
    InstalledProfile,
    InstalledProfiles,
    for_connector,
)
from evsuper.core.bus import TagBus
from evsuper.core.domain import (
    Anomaly,
    ChargerBooted,
    ChargerConnected,
    ChargerDisconnected,
    ChargerRestored,
    CommState,
    ConnectorStatus,
    ConnectorStatusChanged,
    MaintenanceStatus,
    MeterValuesReceived,
    RegistrationStatus,
    Reservation,
    ReservationState,
    TransactionStarted,
    TransactionStopped,
    TransactionStore,
)
from evsuper.core.tags import ChargerTag, ConnectorTag, Sample, charger_tag, connector_tag
from evsuper.core.timeutil import to_wire, utcnow
from evsuper.drivers.ocpp.data_transfer import DataTransferRouter
from evsuper.drivers.ocpp.local_list import LocalLists
from evsuper.drivers.ocpp.mapping import (
    composite_answer,
    live_figures,
    parse_meter_values,
    request_for,
    reserve_now_request,
    result_of,
)
from evsuper.drivers.ocpp.security import (
    REALM,
    FailureThrottle,
    VerifiedPasswords,
    basic_password,
    certificate_common_name,
    server_tls_context,
    verify_password,
)
from evsuper.drivers.ocpp.session_log import FrameRecord, SessionLog
from evsuper.drivers.ocpp.v16 import ChargePoint16
from evsuper.engine import commands as cmd
from evsuper.project.model import (
    AuthorizationMode,
    BadgeStatus,
    ChargerConfig,
    ChargerProtocol,
    Project,
    SecurityProfile,
    UnknownChargerPolicy,
)
from evsuper.project.registry import append_charger
from evsuper.users.permissions import ENGINE

log = logging.getLogger("evsuper.ocpp")

SUBPROTOCOL = "ocpp1.6"
LAST_SEEN_PUBLISH_PERIOD_S = 5.0
# Pending TCP connections the kernel keeps: a whole site reconnecting at once (after a
# network cut) must not overflow asyncio's default of 100 and wait for SYN retries.
LISTEN_BACKLOG = 4096
# Names of the operator settings kept in the archive (charger_settings)
AVAILABILITY_SETTING = "availability"
PROFILES_SETTING = "charging_profiles"
# Above this a frame closes the connection (1009); between MAX_FRAME_CHARS (v16.py) and this
# it is answered with a CALLERROR and the connection stays up.
MAX_WEBSOCKET_MESSAGE = 4 * 2**20
COUNTERS_PUBLISH_PERIOD_S = 1.0
# argon2 verifications at once (each takes ~0.1 s of CPU and 64 MiB): a reconnect storm
# queues instead of exhausting the machine.
PASSWORD_CHECKS_AT_ONCE = 2

# The status a connector cannot have under the availability the operator set (Charging
# and the like may go on until the transaction ends: ChangeAvailability answers Scheduled).
_CONTRADICTING = {
    cmd.AvailabilityKind.INOPERATIVE: ConnectorStatus.AVAILABLE,
    cmd.AvailabilityKind.OPERATIVE: ConnectorStatus.UNAVAILABLE,
}

# Schema validation inline rather than through a thread executor: measured cheaper
# (see docs/architecture.md, "OCPP throughput").
ocpp.messages.ASYNC_VALIDATION = False


@dataclass(slots=True)
class _ConnectorRuntime:
    transaction_id: int | None = None
    id_tag: str | None = None
    meter_start_wh: int = 0
    status_ts: datetime | None = None  # charger's timestamp of the status shown


@dataclass(slots=True)
class _ChargerRuntime:
    connectors: dict[int, _ConnectorRuntime] = field(default_factory=dict)
    # loop clock (monotonic) of the last frame, and of the last LAST_SEEN tag published
    last_frame: float = 0.0
    last_seen_published: float = 0.0
    session_log: SessionLog = field(default_factory=SessionLog)
    counters_published: float = -math.inf  # loop clock
    counters_due: bool = False  # a publication of the counters is scheduled
    # Operator intent, in memory only (kept across engine restarts: later): the last
    # ChangeAvailability the charger accepted per connector (0 = whole charger), and
    # whether it accepted the project's local list.
    availability: dict[int, cmd.AvailabilityKind] = field(default_factory=dict)
    local_list_sent: bool = False
    restored: set[int] = field(default_factory=set)  # availabilities re-sent this connection
    # connectors with an operator's ChangeAvailability awaiting its answer: the charger may
    # report the new status before the answer is handled, which is no contradiction
    availability_changing: set[int] = field(default_factory=set)

    def connector(self, connector_id: int) -> _ConnectorRuntime:
        return self.connectors.setdefault(connector_id, _ConnectorRuntime())


class CentralSystem:
    def __init__(
        self, project: Project, bus: TagBus, store: TransactionStore, *, host: str, port: int
    ) -> None:
        self.project = project
        self.bus = bus
        self.store = store
        self.host = host
        self.port = port
        self.sessions: dict[str, ChargePoint16] = {}
        # Modbus chargers are the Modbus driver's (evsuper/drivers/modbus/mapping.py)
        self._registered = {c.id for c in project.chargers if c.protocol is ChargerProtocol.OCPP}
        self._relaxed = {c.id for c in project.chargers if c.relaxed_validation}
        self._unregistered: set[str] = set()  # booted while unknown: an operator may accept them
        self._badges = {b.id_tag: b for b in project.badges}
        self.local_lists = LocalLists()
        self._runtime: dict[str, _ChargerRuntime] = {}
        self._server: Server | None = None
        self.data_transfer = DataTransferRouter()
        self._background: set[asyncio.Task[None]] = set()
        self._reservations: dict[int, Reservation] = {}  # requested or active
        # per charger, the charging profiles it accepted: in memory only for now (lost at a
        # restart; a GetCompositeSchedule then compares against nothing until profiles are set)
        self.charging_profiles: dict[str, InstalledProfiles] = {}
        self._expiry_timers: dict[int, asyncio.TimerHandle] = {}
        self._password_hashes = {c.id: c.password_hash for c in project.chargers}
        self._auth_failures = FailureThrottle()
        self._password_checks = asyncio.Semaphore(PASSWORD_CHECKS_AT_ONCE)
        self._verified = VerifiedPasswords()

    # ---- lifecycle ----

    async def start(self) -> None:
        for transaction in await self.store.open_transactions():
            conn = self._charger(transaction.charger_id).connector(transaction.connector_id)
            conn.transaction_id = transaction.id
            conn.id_tag = transaction.id_tag
            conn.meter_start_wh = transaction.meter_start_wh
            self._publish_transaction(
                transaction.charger_id, transaction.connector_id, since=transaction.start_ts
            )
        for reservation in await self.store.open_reservations():
            self._track_reservation(reservation)
            self._publish_reservation(reservation.charger_id, reservation.connector_id)
        await self._load_operator_settings()
        for charger in self.project.chargers:
            if charger.id in self._registered:
                comm = charger_tag(charger.id, ChargerTag.COMM)
                self.bus.publish(comm, Sample(CommState.UNKNOWN))
        ocpp_settings = self.project.ocpp
        self._server = await serve(
            self._serve_connection,
            self.host,
            self.port,
            subprotocols=[SUBPROTOCOL],  # type: ignore[list-item]
            process_request=self._check_request,
            ssl=server_tls_context(self.project),
            ping_interval=ocpp_settings.ping_interval_s,
            ping_timeout=ocpp_settings.ping_timeout_s,
            compression=None,
            max_size=MAX_WEBSOCKET_MESSAGE,
            backlog=LISTEN_BACKLOG,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("OCPP 1.6J central system listening on %s", self.endpoint)

    async def stop(self) -> None:
        for timer in self._expiry_timers.values():
            timer.cancel()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    @property
    def endpoint(self) -> str:
        prefix = self.project.ocpp.path_prefix
        return f"{self._scheme}://{self.host}:{self.port}/{prefix}/<charger id>"

    def url_for(self, charger_id: str) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host
        return f"{self._scheme}://{host}:{self.port}/{self.project.ocpp.path_prefix}/{charger_id}"

    @property
    def _scheme(self) -> str:
        return "wss" if self.project.ocpp.security_profile.tls else "ws"

    # ---- connections ----

    def _charger_id_from_path(self, path: str) -> str | None:
        parts = [unquote(p) for p in path.split("?", 1)[0].strip("/").split("/")]
        if len(parts) == 2 and parts[0] == self.project.ocpp.path_prefix:
            parts = parts[1:]
        return parts[0] if len(parts) == 1 and parts[0] else None

    async def _check_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        charger_id = self._charger_id_from_path(request.path)
        if charger_id is None:
            prefix = self.project.ocpp.path_prefix
            return connection.respond(
                HTTPStatus.NOT_FOUND, f"connect to /{prefix}/<charger id> or /<charger id>\n"
            )
        offered = request.headers.get("Sec-WebSocket-Protocol", "")
        if SUBPROTOCOL not in [p.strip() for p in offered.split(",")]:
            return connection.respond(
                HTTPStatus.BAD_REQUEST, f"this central system speaks subprotocol {SUBPROTOCOL}\n"
            )
        profile = self.project.ocpp.security_profile
        if profile.basic_auth:
            return await self._authenticate(connection, request, charger_id)
        if profile is SecurityProfile.TLS_CLIENT_CERT:
            return self._check_certificate(connection, charger_id)
        return None

    def _check_certificate(self, connection: ServerConnection, charger_id: str) -> Response | None:
        """Security profile 3: the TLS layer verified the client certificate; its subject CN
        must be the charger of the path, else 403. Basic credentials are ignored."""
        common_name = certificate_common_name(connection.transport.get_extra_info("peercert"))
        if common_name == charger_id:
            return None
        remote = _peer(connection)
        shown = charger_id[:64]
        reason = f"certificate CN {common_name!r} is not the charge point id of the path"
        log.warning("%r: connection from %s refused: %s", shown, remote, reason)
        self.anomaly(shown, "security-certificate-mismatch", f"{reason} (from {remote})")
        return connection.respond(HTTPStatus.FORBIDDEN, "certificate not issued to this id\n")

    async def _authenticate(
        self, connection: ServerConnection, request: Request, charger_id: str
    ) -> Response | None:
        """Security profile 1: Basic auth as the charger of the path, else 401 (429 when
        an address keeps failing). Chargers without a password hash (not in the project)
        are refused too. The password is never logged."""
        address = str(connection.remote_address[0])
        remote = _peer(connection)
        blocked_s = self._auth_failures.blocked(address)
        if blocked_s:
            response = connection.respond(
                HTTPStatus.TOO_MANY_REQUESTS, "too many failed authentications\n"
            )
            response.headers["Retry-After"] = str(int(blocked_s) + 1)
            return response
        header = request.headers.get("Authorization")
        password = basic_password(header, charger_id)
        password_hash = self._password_hashes.get(charger_id)
        if header is None:
            reason = "no Authorization header"
        elif password is None:
            reason = "not Basic credentials of this charge point id"
        elif password_hash is None:
            reason = "no password_hash in the project for this charge point id"
        elif self._verified.known(charger_id, password_hash, password):
            return None
        else:
            async with self._password_checks:
                if await asyncio.to_thread(verify_password, password_hash, password):
                    self._verified.remember(charger_id, password_hash, password)
                    return None
            reason = "wrong password"
        self._auth_failures.failed(address)
        shown = charger_id[:64]  # whatever an unauthenticated client put in the path
        log.warning("%r: authentication from %s refused: %s", shown, remote, reason)
        self.anomaly(shown, "security-auth-failed", f"{reason} (from {remote})")
        response = connection.respond(HTTPStatus.UNAUTHORIZED, "authentication required\n")
        response.headers["WWW-Authenticate"] = f'Basic realm="{REALM}"'
        return response

    async def _serve_connection(self, connection: ServerConnection) -> None:
        charger_id = self._charger_id_from_path(connection.request.path)  # type: ignore[union-attr]
        assert charger_id is not None  # _check_request refused the others
        previous = self.sessions.get(charger_id)
        if previous is not None:
            log.warning("%s: new connection replaces the previous one", charger_id)
            await previous._connection.close(1000, "replaced by a new connection")
        session = ChargePoint16(charger_id, connection, self)
        self.sessions[charger_id] = session
        remote = _peer(connection)
        log.info("%s: connected from %s (%s)", charger_id, remote, connection.subprotocol)
        self.touch(charger_id)
        self._connected(charger_id, remote)
        self.bus.publish(charger_tag(charger_id, ChargerTag.COMM), Sample(CommState.ONLINE))
        self.bus.emit(ChargerConnected(charger_id, remote, str(connection.subprotocol)))
        watchdog = asyncio.create_task(self._watch(charger_id, connection))
        reason = "closed by the charger"
        try:
            await session.start()
        except ConnectionClosed as closed:
            reason = _close_reason(closed)
        finally:
            watchdog.cancel()
            if self.sessions.get(charger_id) is session:
                del self.sessions[charger_id]
                self.bus.publish(
                    charger_tag(charger_id, ChargerTag.COMM), Sample(CommState.OFFLINE)
                )
            log.info("%s: disconnected (%s)", charger_id, reason)
            self.bus.emit(ChargerDisconnected(charger_id, reason))

    async def _watch(self, charger_id: str, connection: ServerConnection) -> None:
        """Close a connection that stays silent longer than N heartbeat intervals."""
        settings = self.project.ocpp
        limit = settings.heartbeat_interval_s * settings.offline_after_heartbeats
        while True:
            await asyncio.sleep(min(limit / 4, 5.0))
            silence = asyncio.get_running_loop().time() - self._charger(charger_id).last_frame
            if silence > limit:
                log.warning("%s: silent for more than %.1f s, closing", charger_id, limit)
                await connection.close(1001, "heartbeat timeout")
                return

    def touch(self, charger_id: str) -> None:
        runtime = self._charger(charger_id)
        runtime.last_frame = clock = asyncio.get_running_loop().time()
        if clock - runtime.last_seen_published >= LAST_SEEN_PUBLISH_PERIOD_S:
            runtime.last_seen_published = clock
            self.bus.publish(charger_tag(charger_id, ChargerTag.LAST_SEEN), Sample(utcnow()))

    def frame_received(self, charger_id: str, frame: str | bytes) -> None:
        """Every incoming frame: a sign of life, logged and counted."""
        self.touch(charger_id)
        runtime = self._runtime[charger_id]
        runtime.session_log.received(frame)
        self._counters_changed(charger_id, runtime)

    def frame_sent(self, charger_id: str, frame: str) -> None:
        runtime = self._charger(charger_id)
        runtime.session_log.sent(frame)
        self._counters_changed(charger_id, runtime)

    def callerror_received(self, charger_id: str) -> None:
        runtime = self._charger(charger_id)
        runtime.session_log.error_received()
        self._counters_changed(charger_id, runtime)

    def frame_log(self, charger_id: str) -> list[FrameRecord]:
        """The last frames exchanged with ``charger_id`` (both directions), oldest first."""
        runtime = self._runtime.get(charger_id)
        return [] if runtime is None else runtime.session_log.frames()

    def _connected(self, charger_id: str, remote: str) -> None:
        runtime = self._charger(charger_id)
        runtime.restored.clear()
        session_log = runtime.session_log
        session_log.connected(remote)
        for name, value in (
            (ChargerTag.CONNECTS, session_log.connects),
            (ChargerTag.LAST_CONNECT, session_log.last_connect),
            (ChargerTag.REMOTE, remote),
        ):
            self.bus.publish(charger_tag(charger_id, name), Sample(value))

    def _counters_changed(self, charger_id: str, runtime: _ChargerRuntime) -> None:
        """Publish the frame counters within a second, at most once a second."""
        if runtime.counters_due:
            return
        runtime.counters_due = True
        loop = asyncio.get_running_loop()
        delay = runtime.counters_published + COUNTERS_PUBLISH_PERIOD_S - loop.time()
        loop.call_later(max(delay, 0.0), self._publish_counters, charger_id, runtime)

    def _publish_counters(self, charger_id: str, runtime: _ChargerRuntime) -> None:
        runtime.counters_due = False
        runtime.counters_published = asyncio.get_running_loop().time()
        session_log = runtime.session_log
        for name, value in (
            (ChargerTag.FRAMES_RECEIVED, session_log.frames_received),
            (ChargerTag.FRAMES_SENT, session_log.frames_sent),
            (ChargerTag.CALLERRORS_SENT, session_log.errors_sent),
            (ChargerTag.CALLERRORS_RECEIVED, session_log.errors_received),
        ):
            self.bus.publish(charger_tag(charger_id, name), Sample(value))

    def _charger(self, charger_id: str) -> _ChargerRuntime:
        runtime = self._runtime.get(charger_id)
        if runtime is None:
            runtime = self._runtime[charger_id] = _ChargerRuntime()
        return runtime

    # ---- registry and authorization ----

    def validation_relaxed(self, charger_id: str) -> bool:
        """The project relaxes schema validation for this charger (a known non-compliant model)."""
        return charger_id in self._relaxed

    def is_registered(self, charger_id: str) -> bool:
        return charger_id in self._registered

    async def boot(
        self, charger_id: str, *, vendor: str, model: str, serial: str | None, firmware: str | None
    ) -> RegistrationStatus:
        if self.is_registered(charger_id):
            status = RegistrationStatus.ACCEPTED
        elif self.project.ocpp.unknown_chargers is UnknownChargerPolicy.ACCEPT:
            await self._register(charger_id)
            status = RegistrationStatus.ACCEPTED
        elif self.project.ocpp.unknown_chargers is UnknownChargerPolicy.PENDING:
            status = RegistrationStatus.PENDING
        else:
            status = RegistrationStatus.REJECTED
        if status is not RegistrationStatus.ACCEPTED:
            self._unregistered.add(charger_id)
        for name, value in (
            (ChargerTag.VENDOR, vendor),
            (ChargerTag.MODEL, model),
            (ChargerTag.SERIAL, serial),
            (ChargerTag.FIRMWARE, firmware),
            (ChargerTag.REGISTRATION, status),
        ):
            self.bus.publish(charger_tag(charger_id, name), Sample(value))
        log.info("%s: booted %s %s fw %s: %s", charger_id, vendor, model, firmware, status.value)
        if status is RegistrationStatus.PENDING:
            log.info("%s: not in the project, waiting for an operator to accept it", charger_id)
        self.bus.emit(ChargerBooted(charger_id, vendor, model, serial, firmware, status))
        return status

    async def _register(self, charger_id: str) -> None:
        """Add a charger to the registry and to the project file (kept on restart)."""
        self._registered.add(charger_id)
        self._unregistered.discard(charger_id)
        await asyncio.to_thread(append_charger, self.project.directory, ChargerConfig(charger_id))
        log.info("%s: registered in the project", charger_id)

    def authorize(self, id_tag: str, *, starting: bool = False) -> AuthorizationStatus:
        if self.project.ocpp.authorization is AuthorizationMode.OPEN:
            return AuthorizationStatus.accepted
        badge = self._badges.get(id_tag)
        if badge is None:
            return AuthorizationStatus.invalid
        if badge.status is not BadgeStatus.ACCEPTED:
            return AuthorizationStatus(badge.status.value)
        if badge.expiry is not None and badge.expiry <= utcnow():
            return AuthorizationStatus.expired
        if starting and any(
            c.transaction_id is not None and c.id_tag == id_tag
            for r in self._runtime.values()
            for c in r.connectors.values()
        ):
            return AuthorizationStatus.concurrent_tx
        return AuthorizationStatus.accepted

    def id_tag_info(self, id_tag: str, *, starting: bool = False) -> dict[str, str]:
        """OCPP IdTagInfo for ``id_tag``: status, and the badge's expiry and parent if any."""
        info = {"status": self.authorize(id_tag, starting=starting).value}
        badge = self._badges.get(id_tag)
        if badge is not None and self.project.ocpp.authorization is AuthorizationMode.BADGES:
            if badge.expiry is not None:
                info["expiry_date"] = to_wire(badge.expiry)
            if badge.parent_id_tag is not None:
                info["parent_id_tag"] = badge.parent_id_tag
        return info

    # ---- what chargers report ----

    def connector_status(self, ev: ConnectorStatusChanged) -> None:
        """Archive every status; show it unless a newer one (by its timestamp) is shown already."""
        self.bus.emit(ev)
        conn = self._charger(ev.charger_id).connector(ev.connector_id)
        if conn.status_ts is not None and ev.ts < conn.status_ts:
            log.info(
                "%s: connector %d status %s of %s is older than the one shown; archived only",
                ev.charger_id,
                ev.connector_id,
                ev.status.value,
                ev.ts.isoformat(),
            )
            return
        conn.status_ts = ev.ts
        self._check_availability(ev.charger_id, ev.connector_id, ev.status)
        if ev.connector_id == 0:
            self.bus.publish(
                charger_tag(ev.charger_id, ChargerTag.STATUS), Sample(ev.status, ev.ts)
            )
            self.bus.publish(
                charger_tag(ev.charger_id, ChargerTag.ERROR_CODE), Sample(ev.error_code, ev.ts)
            )
        else:
            info = " / ".join(x for x in (ev.info, ev.vendor_error_code) if x) or None
            for name, value in (
                (ConnectorTag.STATUS, ev.status),
                (ConnectorTag.ERROR_CODE, ev.error_code),
                (ConnectorTag.ERROR_INFO, info),
            ):
                self.bus.publish(
                    connector_tag(ev.charger_id, ev.connector_id, name), Sample(value, ev.ts)
                )
            if ev.status is ConnectorStatus.AVAILABLE:  # the car has left: so has its SoC
                soc = connector_tag(ev.charger_id, ev.connector_id, ConnectorTag.SOC)
                self.bus.publish(soc, Sample(None, ev.ts))

    def meter_values(self, ev: MeterValuesReceived) -> None:
        conn = self._charger(ev.charger_id).connector(ev.connector_id)
        transaction_id = ev.transaction_id if ev.transaction_id is not None else conn.transaction_id
        if transaction_id != ev.transaction_id:
            ev = MeterValuesReceived(ev.charger_id, ev.connector_id, transaction_id, ev.readings)
        self.bus.emit(ev)
        if ev.connector_id == 0:
            return
        figures = live_figures(list(ev.readings))
        ts = figures.ts or utcnow()

        def publish(name: ConnectorTag, value: Any) -> None:
            self.bus.publish(connector_tag(ev.charger_id, ev.connector_id, name), Sample(value, ts))

        if figures.power_w is not None:
            publish(ConnectorTag.POWER_KW, round(figures.power_w / 1000.0, 3))
        if figures.energy_register_wh is not None and conn.transaction_id is not None:
            session_wh = max(0.0, figures.energy_register_wh - conn.meter_start_wh)
            publish(ConnectorTag.ENERGY_KWH, round(session_wh / 1000.0, 3))
        if figures.soc is not None:
            publish(ConnectorTag.SOC, figures.soc)

    def maintenance_status(self, charger_id: str, kind: str, status: str) -> None:
        """Firmware / diagnostics / log upload progress: a charger tag, kept as history."""
        name = ChargerTag.FIRMWARE_STATUS if kind == "firmware" else ChargerTag.DIAGNOSTICS_STATUS
        self.bus.publish(charger_tag(charger_id, name), Sample(status))
        log.info("%s: %s status %s", charger_id, kind, status)
        self.bus.emit(MaintenanceStatus(charger_id, kind, status))

    def anomaly(self, charger_id: str, kind: str, detail: str) -> None:
        self.bus.emit(Anomaly(charger_id, kind, detail))

    # ---- transactions (durable before answered) ----

    async def start_transaction(
        self,
        charger_id: str,
        connector_id: int,
        id_tag: str,
        start_ts: datetime,
        meter_start_wh: int,
        reservation_id: int | None,
    ) -> Any:
        transaction = await self.store.start_transaction(
            charger_id, connector_id, id_tag, start_ts, meter_start_wh, reservation_id
        )
        conn = self._charger(charger_id).connector(connector_id)
        if conn.transaction_id is not None:
            self.anomaly(
                charger_id,
                "transaction-overlap",
                f"connector {connector_id} started {transaction.id} while {conn.transaction_id} "
                "was still open",
            )
        conn.transaction_id = transaction.id
        conn.id_tag = id_tag
        conn.meter_start_wh = meter_start_wh
        self._publish_transaction(charger_id, connector_id)
        self.bus.publish(
            connector_tag(charger_id, connector_id, ConnectorTag.ENERGY_KWH), Sample(0.0)
        )
        # the SoC belongs to a car: unknown until this session's meter values report it
        self.bus.publish(connector_tag(charger_id, connector_id, ConnectorTag.SOC), Sample(None))
        log.info(
            "%s: transaction %d started on connector %d by %s (meter %d Wh)",
            charger_id,
            transaction.id,
            connector_id,
            id_tag,
            meter_start_wh,
        )
        if reservation_id is not None:
            self._reservation_used(charger_id, reservation_id, transaction.id)
        self.bus.emit(TransactionStarted(transaction))
        return transaction

    async def stop_transaction(
        self,
        charger_id: str,
        transaction_id: int,
        stop_ts: datetime,
        meter_stop_wh: int,
        reason: str,
        id_tag: str | None,
        transaction_data: list[dict[str, Any]],
    ) -> None:
        connector_id = next(
            (
                n
                for n, c in self._charger(charger_id).connectors.items()
                if c.transaction_id == transaction_id
            ),
            None,
        )
        readings, _ = parse_meter_values(transaction_data)
        if readings:  # archived and shown like any meter values, before the stop is written
            self.meter_values(
                MeterValuesReceived(charger_id, connector_id or 0, transaction_id, tuple(readings))
            )
        transaction = await self.store.stop_transaction(
            transaction_id, stop_ts, meter_stop_wh, reason, id_tag
        )
        if transaction is None:
            log.warning("%s: stop of unknown transaction %d accepted", charger_id, transaction_id)
            self.anomaly(
                charger_id,
                "stop-unknown-transaction",
                f"StopTransaction for unknown or closed transaction {transaction_id} "
                f"(meterStop {meter_stop_wh} Wh, reason {reason})",
            )
            return
        if transaction.energy_wh is not None and transaction.energy_wh < 0:
            self.anomaly(
                charger_id,
                "negative-energy",
                f"transaction {transaction_id}: meterStop {meter_stop_wh} Wh is below "
                f"meterStart, energy {transaction.energy_wh} Wh",
            )
        conn = self._charger(charger_id).connector(transaction.connector_id)
        if conn.transaction_id == transaction_id:
            conn.transaction_id = None
            self._publish_transaction(charger_id, transaction.connector_id)
        n = transaction.connector_id
        self.bus.publish(connector_tag(charger_id, n, ConnectorTag.POWER_KW), Sample(0.0))
        self.bus.publish(
            connector_tag(charger_id, n, ConnectorTag.ENERGY_KWH),
            Sample(round((transaction.energy_wh or 0) / 1000.0, 3)),
        )
        log.info(
            "%s: transaction %d stopped on connector %d (%s), %.3f kWh",
            charger_id,
            transaction_id,
            n,
            reason,
            (transaction.energy_wh or 0) / 1000.0,
        )
        self.bus.emit(TransactionStopped(transaction))

    def _publish_transaction(
        self, charger_id: str, connector_id: int, since: datetime | None = None
    ) -> None:
        """The connector's transaction tags; `since`: when the transaction began, when it
        did not begin now (one still open when the engine starts)."""
        conn = self._charger(charger_id).connector(connector_id)
        self.bus.publish(
            connector_tag(charger_id, connector_id, ConnectorTag.TRANSACTION_ID),
            Sample(conn.transaction_id, since or utcnow()),
        )
        self.bus.publish(
            connector_tag(charger_id, connector_id, ConnectorTag.ID_TAG),
            Sample(conn.id_tag if conn.transaction_id is not None else None),
        )

    # ---- commands (the CommandTarget protocol) ----

    def accepts(self, command: cmd.Command) -> bool:
        return not isinstance(command, cmd.AlarmCommand) and self.owns(command.charger_id)

    def owns(self, charger_id: str) -> bool:
        known = (self._registered, self._unregistered, self.sessions)
        return any(charger_id in group for group in known)

    async def execute(self, command: cmd.Command) -> cmd.CommandResult:
        if isinstance(command, cmd.AcceptCharger):
            return await self._accept(command.charger_id)
        session = self.sessions.get(command.charger_id)
        if session is None:
            return cmd.CommandResult(cmd.Outcome.OFFLINE, "Offline", "the charger is not connected")
        if isinstance(command, cmd.ReserveNow):
            return await self._reserve(session, command)
        if isinstance(command, cmd.SendLocalList):
            return await self._send_local_list(session, command)
        if isinstance(command, cmd.SetChargingProfile):
            return await self._set_charging_profile(session, command)
        if isinstance(command, cmd.GetCompositeSchedule):
            return await self._get_composite_schedule(session, command)
        try:
            request = request_for(command)
        except ValueError as invalid:  # a raw call that is not OCPP 1.6
            return cmd.CommandResult(cmd.Outcome.ERROR, "InvalidRequest", str(invalid))
        changing = self._charger(command.charger_id).availability_changing
        if isinstance(command, cmd.ChangeAvailability):
            changing.add(command.connector_id)
        try:
            response = await self._send(session, request)
        finally:
            if isinstance(command, cmd.ChangeAvailability):
                changing.discard(command.connector_id)
        if isinstance(response, cmd.CommandResult):
            return response
        result = result_of(command, response)
        if isinstance(command, cmd.ChangeAvailability) and result.ok:
            self._remember_availability(command)
        if isinstance(command, cmd.CancelReservation) and result.ok:
            await self._close_reservation(command.reservation_id, ReservationState.CANCELLED)
        if isinstance(command, cmd.GetLocalListVersion):
            self._publish_local_list_version(command.charger_id, result.payload)
        if isinstance(command, cmd.ClearChargingProfile) and result.ok:
            self._profiles_of(command.charger_id).cleared(
                profile_id=command.profile_id,
                connector_id=command.connector_id,
                purpose=command.purpose,
                stack_level=command.stack_level,
            )
            self._save_profiles(command.charger_id)
        return result

    @staticmethod
    async def _send(session: ChargePoint16, payload: Any) -> Any:
        """The charger's answer to ``payload``, or the CommandResult saying why there is none."""
        try:
            return await session.request(payload)
        except TimeoutError:
            return cmd.CommandResult(cmd.Outcome.TIMEOUT, "Timeout", "no answer from the charger")
        except OCPPError as error:
            return cmd.CommandResult(cmd.Outcome.ERROR, error.code, error.description)
        except ConnectionClosed:
            return cmd.CommandResult(cmd.Outcome.OFFLINE, "Offline", "connection lost")

    async def _accept(self, charger_id: str) -> cmd.CommandResult:
        if self.is_registered(charger_id):
            return cmd.CommandResult(cmd.Outcome.ACCEPTED, "AlreadyRegistered")
        if charger_id not in self._unregistered:
            return cmd.CommandResult(
                cmd.Outcome.ERROR, "UnknownCharger", f"{charger_id} has not asked to be accepted"
            )
        await self._register(charger_id)
        session = self.sessions.get(charger_id)
        if session is not None:  # ask for a new boot now rather than at its retry interval
            trigger = call.TriggerMessage(requested_message=MessageTrigger.boot_notification)
            self._spawn(self._request_quietly(session, trigger))
        return cmd.CommandResult(cmd.Outcome.ACCEPTED, "Registered")

    # ---- local authorization list (the project's badge table) ----

    async def _send_local_list(
        self, session: ChargePoint16, command: cmd.SendLocalList
    ) -> cmd.CommandResult:
        version = self.project.ocpp.local_list_version
        update = self.local_lists.update(
            command.charger_id, self._badges.values(), version, command.update_type
        )
        response = await self._send(session, update.request)
        if isinstance(response, cmd.CommandResult):
            return response
        result = replace(result_of(command, response), detail=update.detail)
        if result.ok:
            self._charger(command.charger_id).local_list_sent = True
            self.local_lists.accepted(command.charger_id, version)
            self._publish_local_list_version(command.charger_id, version)
        elif result.status == UpdateStatus.version_mismatch:
            self.local_lists.forget(command.charger_id)
        log.info("%s: SendLocalList %s: %s", command.charger_id, update.detail, result.status)
        return result

    def _publish_local_list_version(self, charger_id: str, version: int) -> None:
        self.bus.publish(charger_tag(charger_id, ChargerTag.LOCAL_LIST_VERSION), Sample(version))

    # ---- service continuity: what the operator set survives reboots and reconnects ----

    def _remember_availability(self, command: cmd.ChangeAvailability) -> None:
        wanted = self._charger(command.charger_id).availability
        if command.connector_id == 0:  # applies to every connector
            wanted.clear()
        wanted[command.connector_id] = command.kind
        document = {str(n): kind.value for n, kind in wanted.items()}
        self.store.save_setting(command.charger_id, AVAILABILITY_SETTING, document)

    def _save_profiles(self, charger_id: str) -> None:
        document = [
            {"connector_id": i.connector_id, "profile": i.profile.to_wire()}
            for i in self._profiles_of(charger_id)
        ]
        self.store.save_setting(charger_id, PROFILES_SETTING, document)

    async def _load_operator_settings(self) -> None:
        """What operators set before the engine (re)started: availability, charging profiles."""
        for charger_id, document in (await self.store.settings(AVAILABILITY_SETTING)).items():
            wanted = self._charger(charger_id).availability
            wanted.update({int(n): cmd.AvailabilityKind(kind) for n, kind in document.items()})
        for charger_id, document in (await self.store.settings(PROFILES_SETTING)).items():
            installed = self._profiles_of(charger_id)
            for entry in document:
                profile = ChargingProfile.from_wire(entry["profile"])
                installed.accepted(int(entry["connector_id"]), profile)

    def after_boot(self, charger_id: str) -> None:
        """An accepted boot (already answered): re-apply what the operator set, if any."""
        runtime = self._charger(charger_id)
        session = self.sessions.get(charger_id)
        version = self.project.ocpp.local_list_version
        known = self.bus.value(charger_tag(charger_id, ChargerTag.LOCAL_LIST_VERSION))
        resend_list = runtime.local_list_sent and isinstance(known, int) and known != version
        if session is None or not (runtime.availability or resend_list):
            return
        runtime.restored.update(runtime.availability)
        self._spawn(self._restore(session, sorted(runtime.availability.items()), resend_list))

    def _check_availability(
        self, charger_id: str, connector_id: int, status: ConnectorStatus
    ) -> None:
        """A status contradicting the operator's availability (e.g. Available where
        Inoperative was set) has it re-sent, once per connection and connector."""
        runtime = self._charger(charger_id)
        if not runtime.availability or {0, connector_id} & runtime.availability_changing:
            return
        key = connector_id if connector_id in runtime.availability else 0
        wanted = runtime.availability.get(key)
        session = self.sessions.get(charger_id)
        if wanted is None or status is not _CONTRADICTING[wanted] or session is None:
            return
        if key in runtime.restored:
            return
        runtime.restored.add(key)
        self._spawn(self._restore(session, [(key, wanted)], resend_list=False))

    async def _restore(
        self,
        session: ChargePoint16,
        availability: list[tuple[int, cmd.AvailabilityKind]],
        resend_list: bool,
    ) -> None:
        """Send the operator's settings again and record each answer (runs as its own task)."""
        for connector_id, kind in availability:
            request = call.ChangeAvailability(
                connector_id=connector_id, type=AvailabilityType(kind.value)
            )
            response = await self._send(session, request)  # an answer or a CommandResult
            what = f"ChangeAvailability connector {connector_id} {kind.value}"
            self._restored(session.id, what, str(response.status))
        if resend_list:
            command = cmd.SendLocalList(charger_id=session.id, actor=ENGINE)
            result = await self._send_local_list(session, command)
            self._restored(session.id, f"SendLocalList ({result.detail})", result.status)

    def _restored(self, charger_id: str, what: str, answer: str) -> None:
        log.info("%s: restored %s: %s", charger_id, what, answer)
        self.bus.emit(ChargerRestored(charger_id, what, answer))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ---- smart charging (the accepted profiles are kept in memory) ----

    def _profiles_of(self, charger_id: str) -> InstalledProfiles:
        return self.charging_profiles.setdefault(charger_id, InstalledProfiles())

    def installed_profiles(self, charger_id: str) -> tuple[InstalledProfile, ...]:
        """The charging profiles ``charger_id`` accepted (and not cleared), oldest first."""
        installed = self.charging_profiles.get(charger_id)
        return () if installed is None else tuple(installed)

    async def _set_charging_profile(
        self, session: ChargePoint16, command: cmd.SetChargingProfile
    ) -> cmd.CommandResult:
        """Send the profile (a TxProfile for the running transaction); keep it if accepted."""
        running = self._charger(command.charger_id).connector(command.connector_id).transaction_id
        try:
            profile = for_connector(command.profile, command.connector_id, running)
        except ValueError as invalid:
            return cmd.CommandResult(cmd.Outcome.ERROR, "InvalidRequest", str(invalid))
        sent = replace(command, profile=profile)
        response = await self._send(session, request_for(sent))
        if isinstance(response, cmd.CommandResult):
            return response
        result = result_of(sent, response)
        if result.ok:
            self._profiles_of(command.charger_id).accepted(command.connector_id, profile)
            self._save_profiles(command.charger_id)
        log.info(
            "%s: charging profile %d (%s) on connector %d: %s",
            command.charger_id,
            profile.profile_id,
            profile.purpose.value,
            command.connector_id,
            result.status,
        )
        return result

    async def _get_composite_schedule(
        self, session: ChargePoint16, command: cmd.GetCompositeSchedule
    ) -> cmd.CommandResult:
        """The charger's composite schedule and evsuper's, from the profiles it accepted."""
        if command.duration_s <= 0:
            return cmd.CommandResult(cmd.Outcome.ERROR, "InvalidRequest", "duration must be > 0")
        start = utcnow()
        response = await self._send(session, request_for(command))
        if isinstance(response, cmd.CommandResult):
            return response
        status, schedule_start, schedule = composite_answer(response)
        unit = command.unit or (schedule.unit if schedule else ChargingRateUnit.AMPS)
        transaction_id = None
        transaction_start = None
        if command.connector_id > 0:
            conn = self._charger(command.charger_id).connector(command.connector_id)
            transaction_id = conn.transaction_id
            transaction_start = next(
                (
                    t.start_ts
                    for t in await self.store.open_transactions()
                    if t.id == transaction_id
                ),
                None,
            )
        installed = self._profiles_of(command.charger_id).applicable(
            command.connector_id, transaction_id
        )
        expected = composite_schedule(
            installed, command.connector_id, start, command.duration_s, unit, transaction_start
        )
        payload = cmd.CompositeSchedules(
            status=status,
            schedule_start=schedule_start,
            charging_schedule=schedule,
            expected_start=start,
            expected_unit=unit,
            expected=tuple(expected),
        )
        outcome = cmd.Outcome.ACCEPTED if status == "Accepted" else cmd.Outcome.REJECTED
        return cmd.CommandResult(outcome, status, payload=payload)

    # ---- reservations (ids allocated by the archive, durable before ReserveNow is sent) ----

    async def _reserve(self, session: ChargePoint16, command: cmd.ReserveNow) -> cmd.CommandResult:
        """Record the reservation, ask the charger, record its answer; the id is the payload."""
        if command.expiry.tzinfo is None:
            return cmd.CommandResult(cmd.Outcome.ERROR, "InvalidRequest", "expiry must be aware")
        reservation = await self.store.create_reservation(
            command.charger_id,
            command.connector_id,
            command.id_tag,
            command.parent_id_tag,
            command.expiry,
        )
        self._track_reservation(reservation)
        response = await self._send(session, reserve_now_request(command, reservation.id))
        if isinstance(response, cmd.CommandResult):
            # a CALLERROR is a refusal; without an answer it stays requested until its expiry
            if response.outcome is cmd.Outcome.ERROR:
                await self._close_reservation(reservation.id, ReservationState.REJECTED)
            return replace(response, payload=reservation.id)
        result = result_of(command, response)
        if not result.ok:
            await self._close_reservation(reservation.id, ReservationState.REJECTED)
        elif await self.store.set_reservation_state(reservation.id, ReservationState.ACTIVE):
            active = replace(reservation, state=ReservationState.ACTIVE)
            self._reservations[reservation.id] = active
            self._publish_reservation(reservation.charger_id, reservation.connector_id)
        log.info(
            "%s: reservation %d of connector %d for %s until %s: %s",
            reservation.charger_id,
            reservation.id,
            reservation.connector_id,
            reservation.id_tag,
            reservation.expiry.isoformat(),
            result.status,
        )
        return replace(result, payload=reservation.id)

    def _track_reservation(self, reservation: Reservation) -> None:
        """Hold an open reservation until it ends; at its expiry it ends as expired."""
        self._reservations[reservation.id] = reservation
        delay = max((reservation.expiry - utcnow()).total_seconds(), 0.0)
        self._expiry_timers[reservation.id] = asyncio.get_running_loop().call_later(
            delay, self._expire, reservation.id
        )

    def _expire(self, reservation_id: int) -> None:
        self._spawn(self._close_reservation(reservation_id, ReservationState.EXPIRED))

    async def _close_reservation(self, reservation_id: int, state: ReservationState) -> None:
        """Record that an open reservation was rejected, cancelled or expired."""
        if await self.store.set_reservation_state(reservation_id, state):
            log.info("reservation %d %s", reservation_id, state.value)
        self._forget_reservation(reservation_id)

    def _reservation_used(self, charger_id: str, reservation_id: int, transaction_id: int) -> None:
        """The archive marked it used with the transaction; a stale id is an anomaly."""
        reservation = self._reservations.get(reservation_id)
        if reservation is None or reservation.charger_id != charger_id:
            self.anomaly(
                charger_id,
                "reservation-not-open",
                f"transaction {transaction_id} started on reservation {reservation_id}, "
                "which is not open on this charger",
            )
            return
        self._forget_reservation(reservation_id)

    def _forget_reservation(self, reservation_id: int) -> None:
        timer = self._expiry_timers.pop(reservation_id, None)
        if timer is not None:
            timer.cancel()
        reservation = self._reservations.pop(reservation_id, None)
        if reservation is not None:
            self._publish_reservation(reservation.charger_id, reservation.connector_id)

    def _publish_reservation(self, charger_id: str, connector_id: int) -> None:
        active = next(
            (
                r.id
                for r in self._reservations.values()
                if r.charger_id == charger_id
                and r.connector_id == connector_id
                and r.state is ReservationState.ACTIVE
            ),
            None,
        )
        path = connector_tag(charger_id, connector_id, ConnectorTag.RESERVATION_ID)
        self.bus.publish(path, Sample(active))

    @staticmethod
    async def _request_quietly(session: ChargePoint16, payload: Any) -> None:
        try:
            await session.request(payload)
        except (TimeoutError, OCPPError, ConnectionClosed) as exc:
            log.info("%s: %s not honoured (%s)", session.id, type(payload).__name__, exc)


def _close_reason(closed: ConnectionClosed) -> str:
    frame = closed.rcvd or closed.sent
    if frame is None:
        return "connection lost (no close frame)"
    return f"close code {frame.code}" + (f": {frame.reason}" if frame.reason else "")


def _peer(connection: ServerConnection) -> str:
    """``host:port`` of the other end, for logs and anomalies."""
    return ":".join(str(part) for part in connection.remote_address[:2])
