"""A simulated OCPP 1.6J charge point: a WebSocket client, its connectors and their cars.

Tasks: ``run`` (connect, boot, heartbeat, reconnect) and one task per connector (its
sessions), plus the receive loop of the current connection. Requests from the central
system are answered at once by ``_Link``; whatever they set in motion happens after the
answer is sent (``@after`` handlers), because a ``call`` made inside an ``@on`` handler
would wait for an answer that the blocked receive loop can never deliver.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import math
import random
import ssl
import urllib.request
import zlib
from collections.abc import Coroutine, Sequence
from datetime import datetime
from typing import Any

from ocpp.exceptions import OCPPError, UnknownCallErrorCodeError
from ocpp.messages import Call, MessageType
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.typing import Subprotocol

from evsuper.core.domain import ConnectorStatus
from evsuper.core.timeutil import from_wire, to_wire, utcnow
from evsuper.drivers.ocpp.security import basic_authorization
from evsuper.drivers.simulator import config as cfg
from evsuper.drivers.simulator.config import Configuration
from evsuper.drivers.simulator.ev import ConnectorModel, Fault, MeterSample
from evsuper.drivers.simulator.profiles import (
    CHARGE_POINT_MAX,
    TX,
    ChargingProfiles,
    limit_in_watts,
    parse_profile,
)
from evsuper.project.model import Badge, ChargerConfig, SimulatorSettings

log = logging.getLogger(__name__)
# The ocpp library logs every frame at INFO, and CallErrors that ``_call`` logs anyway:
# give it a logger of ours that only lets errors through unless configured otherwise.
_frames_log = logging.getLogger(f"{__name__}.frames")
if _frames_log.level == logging.NOTSET:
    _frames_log.setLevel(logging.ERROR)

SUBPROTOCOL = Subprotocol("ocpp1.6")
FIRMWARE_VERSION = "sim-1.0"
BACKOFF_MIN_S = 0.5
BACKOFF_MAX_S = 10.0
TRANSFER_TIMEOUT_S = 30.0  # firmware download, diagnostics upload
RESET_REBOOT_S = 1.0  # a reset charger is back this long after it closed its socket
RESET_STOP_TIMEOUT_S = 10.0
MIN_BOOT_RETRY_S = 1.0
RESPONSE_TIMEOUT_S = 30.0
CLOSE_TIMEOUT_S = 0.5  # for the closing handshake, after which the socket is dropped
BADGE_DELAY_S = (0.5, 2.0)  # from plugging in to presenting the badge
FINISHING_S = (1.0, 3.0)  # from the end of a transaction to the cable being unplugged
REJECTED_LINGER_S = 2.0  # a driver whose badge was refused unplugs after this
IDLE_TICK_S = 5.0  # how often a session is checked when periodic meter values are off
FAULT_STOP_REASON = "Other"  # OCPP 1.6 has no stop reason for a charger fault
TRIGGERABLE = frozenset({"BootNotification", "Heartbeat", "StatusNotification", "MeterValues"})


class _Alarm:
    """A sleep that ``wake()`` cuts short; a wake with nobody asleep ends the next sleep."""

    __slots__ = ("_pending", "_waiter")

    def __init__(self) -> None:
        self._waiter: asyncio.Future[None] | None = None
        self._pending = False

    async def sleep(self, delay: float | None) -> None:
        """Sleep ``delay`` seconds, or until woken if ``delay`` is None."""
        if self._pending:
            self._pending = False
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiter = waiter
        timer = None if delay is None else loop.call_later(max(delay, 0.0), _resolve, waiter)
        try:
            await waiter
        finally:
            if timer is not None:
                timer.cancel()
            self._waiter = None

    def wake(self) -> None:
        if self._waiter is None:
            self._pending = True
        else:
            _resolve(self._waiter)


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


@dataclasses.dataclass(frozen=True, slots=True)
class _WireCall:
    """A request already in wire form (camelCase keys, no None values).

    Sent without the library's generic serialisation (``asdict``, key conversion) and
    schema validation, which cost more than everything else together on the hot path,
    MeterValues; the tests check its shape against the OCPP schema instead.
    """

    action: str
    payload: dict[str, Any]


@dataclasses.dataclass(slots=True)
class _RemoteStart:
    id_tag: str
    profile: dict[str, Any] | None
    confirmed: bool = False  # set once the answer has gone out


@dataclasses.dataclass(slots=True)
class _Reservation:
    id: int
    id_tag: str
    expiry: asyncio.TimerHandle  # ends the reservation when it fires


@dataclasses.dataclass(slots=True)
class LocalList:
    """The charge point's local authorization list: idTagInfo by idTag, and its version."""

    version: int = 0
    entries: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)

    @property
    def reported_version(self) -> int:
        """What GetLocalListVersion answers: 0 stands for no (or an empty) list."""
        return self.version if self.entries else 0

    def update(
        self,
        version: int,
        update_type: str,
        items: Sequence[dict[str, Any]],
        *,
        max_length: float,
        max_send: float,
    ) -> str:
        """Status of a SendLocalList: Full replaces the list; Differential must bring a
        newer version, and removes the entries that come without idTagInfo."""
        if len(items) > max_send:
            return "Failed"
        if update_type == "Full":
            entries: dict[str, dict[str, Any]] = {}
        elif version <= self.reported_version:
            return "VersionMismatch"
        else:
            entries = dict(self.entries)
        for item in items:
            info = item.get("id_tag_info")
            if info is None:
                entries.pop(item["id_tag"], None)
            else:
                entries[item["id_tag"]] = info
        if len(entries) > max_length:
            return "Failed"
        self.version, self.entries = version, entries
        return "Accepted"


@dataclasses.dataclass(eq=False, slots=True)
class _Connector:
    """A connector's model plus what the protocol needs to know about it."""

    id: int
    model: ConnectorModel
    alarm: _Alarm = dataclasses.field(default_factory=_Alarm)
    report_lock: asyncio.Lock = dataclasses.field(default_factory=asyncio.Lock)
    reported: tuple[ConnectorStatus, Fault | None] | None = None  # last status sent
    no_session: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    remote: _RemoteStart | None = None
    reservation: _Reservation | None = None
    transaction_id: int | None = None
    id_tag: str | None = None
    stop_reason: str | None = None
    next_arrival: float | None = None  # loop time at which the next car comes
    fault_until: float | None = None
    last_advance: float | None = None  # loop time the model was last advanced to
    last_sample: float = 0.0  # loop time of the last periodic MeterValues


class SimulatedBollard:
    """One charge point; ``run(url)`` keeps it connected until cancelled."""

    def __init__(
        self,
        config: ChargerConfig,
        settings: SimulatorSettings,
        badges: Sequence[Badge] = (),
        *,
        index: int = 0,
        badges_in_use: set[str] | None = None,
        password: str | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """``badges_in_use``: shared by the bollards of a site, so that a driver plugs in
        one car at a time (the central system would answer ConcurrentTx). ``password``:
        sent with HTTP Basic auth (security profiles 1 and 2). ``tls``: the client context
        for wss:// (profiles 2 and 3)."""
        self.config = config
        self.password = password
        self.tls = tls
        self.settings = settings
        self.badges = list(badges)
        self.badges_in_use = set() if badges_in_use is None else badges_in_use
        self.rng = (
            random.Random(settings.seed + index) if settings.seed is not None else random.Random()
        )
        self.configuration = Configuration(
            connectors=config.connectors,
            heartbeat_interval_s=60,
            meter_interval_s=settings.meter_interval_s,
        )
        self.profiles = ChargingProfiles(cfg.MAX_CHARGING_PROFILES)
        self.local_list = LocalList()
        self.operative = True  # connector 0: the charge point as a whole
        # Each connector draws from its own generator, so that a seeded run gives the same
        # cars whatever the order in which connectors happen to run.
        self.connectors = {
            n: _Connector(
                n,
                ConnectorModel(
                    config.max_power_kw * 1000.0,
                    settings,
                    random.Random(self.rng.getrandbits(64)),
                ),
            )
            for n in range(1, config.connectors + 1)
        }
        for connector in self.connectors.values():
            connector.no_session.set()
        self._ws: ClientConnection | None = None
        self._link: _Link | None = None  # the connection, once the central system accepted us
        self._online = asyncio.Event()
        self._beat = _Alarm()
        self._reset_requested = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.firmware = FIRMWARE_VERSION

    # ---- public view ----

    @property
    def id(self) -> str:
        return self.config.id

    @property
    def online(self) -> bool:
        """Connected and accepted by the central system."""
        return self._link is not None

    def status(self, connector_id: int) -> ConnectorStatus:
        return self.connectors[connector_id].model.status

    def transaction_id(self, connector_id: int) -> int | None:
        return self.connectors[connector_id].transaction_id

    def break_down(self, connector_id: int) -> str:
        """Fault an idle connector now, until ``repair`` (fault injection for demos and
        tests; sessions fault on their own by the model). Returns the errorCode."""
        c = self.connectors[connector_id]
        if c.transaction_id is not None:
            raise RuntimeError(f"connector {connector_id} is charging: stop it first")
        fault = c.model.break_down()
        c.fault_until = math.inf
        c.alarm.wake()
        return fault.error_code

    def repair(self, connector_id: int) -> None:
        """End the fault of a connector now."""
        c = self.connectors[connector_id]
        c.fault_until = asyncio.get_running_loop().time()
        c.alarm.wake()

    def abort(self) -> None:
        """Drop the connection at once, without waiting for the closing handshake."""
        if self._ws is not None:
            self._ws.transport.abort()

    # ---- connection ----

    async def run(self, url: str) -> None:
        """Connect, boot and serve; reconnect with capped exponential back-off. Cancel to stop."""
        workers = [
            asyncio.create_task(self._connector_loop(c), name=f"sim:{self.id}:{c.id}")
            for c in self.connectors.values()
        ]
        backoff = BACKOFF_MIN_S
        try:
            while True:
                try:
                    ws = await connect(
                        url,
                        subprotocols=[SUBPROTOCOL],
                        additional_headers=(
                            None
                            if self.password is None
                            else {"Authorization": basic_authorization(self.id, self.password)}
                        ),
                        compression=None,
                        proxy=None,
                        ssl=self.tls,
                        # The heartbeat detects a dead central system: no ping task needed.
                        ping_interval=None,
                        close_timeout=CLOSE_TIMEOUT_S,
                    )
                    self._ws = ws
                    try:
                        if await self._serve(ws):
                            backoff = BACKOFF_MIN_S
                    finally:
                        # A normal closure, also when cancelled (``async with`` would send 1011).
                        await ws.close()
                        self._ws = None
                except (OSError, TimeoutError, WebSocketException, OCPPError) as exc:
                    log.debug("%s: connection to %s ended: %r", self.id, url, exc)
                except Exception:  # a bug must not take the charger off the site for good
                    log.exception("%s: connection to %s failed", self.id, url)
                if self._reset_requested:
                    self._reset_requested = False
                    delay = RESET_REBOOT_S
                else:
                    delay = min(backoff * self.rng.uniform(1.0, 1.25), BACKOFF_MAX_S)
                    backoff = min(backoff * 2, BACKOFF_MAX_S)
                await asyncio.sleep(delay)
        finally:
            pending = [*workers, *self._tasks]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _serve(self, ws: ClientConnection) -> bool:
        """One connection; True if the central system accepted the boot."""
        if ws.subprotocol != SUBPROTOCOL:
            log.warning("%s: server did not agree to %s", self.id, SUBPROTOCOL)
            return False
        link = _Link(self, ws)
        receiver = asyncio.create_task(link.start(), name=f"sim:{self.id}:receive")
        receiver.add_done_callback(lambda _: self._lost(link))
        try:
            if not await self._boot(link) or link.closed.is_set():
                return False
            self._link = link
            self._online.set()
            await self._report_everything()
            for connector in self.connectors.values():
                connector.alarm.wake()
            await self._heartbeat(link)
            return True
        finally:
            receiver.cancel()
            await asyncio.gather(receiver, return_exceptions=True)
            self._go_offline(link)

    def _lost(self, link: _Link) -> None:
        link.lost()
        self._go_offline(link)
        self._beat.wake()

    def _go_offline(self, link: _Link) -> None:
        if self._link is link:
            self._link = None
            self._online.clear()

    def _boot_request(self) -> call.BootNotification:
        return call.BootNotification(
            # Schema limits: vendor and model 20 characters, serial number 25.
            charge_point_vendor=self.config.vendor[:20],
            charge_point_model=self.config.model[:20],
            charge_point_serial_number=f"SIM{zlib.crc32(self.id.encode()):08X}",
            firmware_version=self.firmware,
        )

    async def _boot(self, link: _Link) -> bool:
        request = self._boot_request()
        while not link.closed.is_set():
            answer = await link.request(request)
            if answer.status == "Accepted":
                if answer.interval > 0:
                    self.configuration.set_heartbeat_interval(answer.interval)
                return True
            log.info("%s: boot %s, retrying in %s s", self.id, answer.status, answer.interval)
            await self._beat.sleep(max(answer.interval, MIN_BOOT_RETRY_S))
        return False

    async def _heartbeat(self, link: _Link) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while not link.closed.is_set():
            interval = self.configuration.number(cfg.HEARTBEAT_INTERVAL)
            due = last + interval if interval > 0 else None
            if due is not None and loop.time() >= due:
                try:
                    await link.request(call.Heartbeat())
                except TimeoutError:
                    if not link.closed.is_set():
                        log.info("%s: no answer to a heartbeat, reconnecting", self.id)
                        await link.ws.close()
                    return
                except OCPPError as exc:
                    log.warning("%s: heartbeat answered with %r", self.id, exc)
                last = loop.time()
                continue
            await self._beat.sleep(None if due is None else due - loop.time())

    async def _call(self, payload: Any, *, persistent: bool = False) -> Any:
        """Send a request; the answer, or None if it failed. ``persistent`` requests
        (transactions) wait for a connection and are repeated until answered."""
        while True:
            link = self._link
            if link is None:
                if not persistent:
                    return None
                await self._online.wait()
                continue
            try:
                return await link.request(payload)
            except (OCPPError, UnknownCallErrorCodeError) as exc:
                log.warning("%s: %s answered with %r", self.id, _action(payload), exc)
                return None
            except (TimeoutError, ConnectionClosed) as exc:
                if not persistent:
                    return None
                log.info("%s: %s failed (%r), repeating", self.id, _action(payload), exc)
                if isinstance(exc, ConnectionClosed):
                    await link.closed.wait()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run what a request set in motion, cancelled with the bollard."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._spawned_done)

    def _spawned_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("%s: follow-up of a request failed", self.id, exc_info=exc)

    # ---- status notifications ----

    async def _report(self, c: _Connector, *, force: bool = False) -> None:
        """Send the connector's status if it changed since it was last sent."""
        async with c.report_lock:
            state = (c.model.status, c.model.fault)
            if state == c.reported and not force:
                return
            fault = c.model.fault
            request = call.StatusNotification(
                connector_id=c.id,
                error_code=fault.error_code if fault else "NoError",
                status=c.model.status.value,
                timestamp=to_wire(utcnow()),
                info=fault.info if fault else None,
                vendor_error_code=fault.vendor_error_code if fault else None,
            )
            if await self._call(request) is not None:
                c.reported = state

    async def _report_station(self) -> None:
        status = ConnectorStatus.AVAILABLE if self.operative else ConnectorStatus.UNAVAILABLE
        await self._call(
            call.StatusNotification(
                connector_id=0,
                error_code="NoError",
                status=status.value,
                timestamp=to_wire(utcnow()),
            )
        )

    async def _report_everything(self) -> None:
        await self._report_station()
        for connector in self.connectors.values():
            await self._report(connector, force=True)

    # ---- connectors ----

    async def _connector_loop(self, c: _Connector) -> None:
        while True:
            try:
                await self._connector_step(c)
            except Exception:  # a bug in one session must not silence the connector for good
                log.exception("%s: connector %d failed", self.id, c.id)
                if c.model.car is not None:
                    c.model.unplug()
                await asyncio.sleep(1.0)

    async def _connector_step(self, c: _Connector) -> None:
        """One turn of a connector outside of sessions: report, then wait for what comes."""
        await self._report(c)
        model = c.model
        now = asyncio.get_running_loop().time()
        if model.status is ConnectorStatus.FAULTED:
            if c.fault_until is None or now >= c.fault_until:
                c.fault_until = None
                model.recover()
            else:
                await c.alarm.sleep(c.fault_until - now)
            return
        remote = c.remote
        if remote is not None:
            if not remote.confirmed:
                await c.alarm.sleep(None)
            elif model.is_free or self._reserved_for(c, remote.id_tag):
                c.remote = None
                await self._session(c, remote.id_tag, remote)
            else:  # made unavailable between the answer and now
                c.remote = None
                log.info(
                    "%s: remote start on connector %d dropped (%s)", self.id, c.id, model.status
                )
            return
        reserved = c.reservation is not None and model.status is ConnectorStatus.RESERVED
        free_or_held = model.is_free or reserved
        if self.settings.autonomous and free_or_held and self.online and not self._reset_requested:
            if c.next_arrival is None:
                c.next_arrival = now + model.idle_s()
            if now >= c.next_arrival:
                c.next_arrival = None
                if c.reservation is not None:  # the driver who reserved it arrives
                    await self._session(c, c.reservation.id_tag, None)
                    return
                free = [b.id_tag for b in self.badges if b.id_tag not in self.badges_in_use]
                await self._session(c, model.pick_id_tag(free), None)
            else:
                await c.alarm.sleep(c.next_arrival - now)
            return
        await c.alarm.sleep(None)

    async def _session(self, c: _Connector, id_tag: str, remote: _RemoteStart | None) -> None:
        """A car from plug-in to unplugging: authorisation, transaction, charging."""
        loop = asyncio.get_running_loop()
        model = c.model
        c.no_session.clear()
        c.stop_reason = None
        self.badges_in_use.add(id_tag)
        try:
            reservation_id = self._take_reservation(c, id_tag)
            model.plug_in()
            await self._report(c)
            if remote is None:
                await c.alarm.sleep(model.rng.uniform(*BADGE_DELAY_S))
            needs_authorize = remote is None or self.configuration.flag(
                cfg.AUTHORIZE_REMOTE_TX_REQUESTS
            )
            if c.stop_reason is None and needs_authorize and not await self._authorize(id_tag):
                await asyncio.sleep(REJECTED_LINGER_S)
                model.unplug()
                return
            if c.stop_reason is not None:
                model.unplug()
                return
            started = await self._call(
                call.StartTransaction(
                    connector_id=c.id,
                    id_tag=id_tag,
                    meter_start=model.meter_wh,
                    timestamp=to_wire(utcnow()),
                    reservation_id=reservation_id,
                ),
                persistent=True,
            )
            if started is None:
                model.unplug()
                return
            c.transaction_id = started.transaction_id
            c.id_tag = id_tag
            if remote is not None and remote.profile is not None:
                self.profiles.install(
                    parse_profile(c.id, {**remote.profile, "transaction_id": c.transaction_id})
                )
            model.start_charging()
            c.last_advance = c.last_sample = loop.time()
            self._apply_limits()
            refused = started.id_tag_info["status"] != "Accepted" and self.configuration.flag(
                cfg.STOP_TRANSACTION_ON_INVALID_ID
            )
            reason = "DeAuthorized" if refused else await self._charge(c)
            self._advance(c)
            model.stop_charging()
            final = model.sample()
            if reason == FAULT_STOP_REASON:
                fault = model.break_down()
                c.fault_until = loop.time() + fault.duration_s
                await self._report(c)
            await self._stop_transaction(c, reason, final)
            if model.car is not None:
                await self._report(c)
                await asyncio.sleep(model.rng.uniform(*FINISHING_S))
                model.unplug()
        finally:
            self.badges_in_use.discard(id_tag)
            c.transaction_id = None
            c.id_tag = None
            c.last_advance = None
            c.no_session.set()

    async def _authorize(self, id_tag: str) -> bool:
        """Ask the central system, unless the local list may decide (LocalPreAuthorize
        when online, LocalAuthorizeOffline when not) and accepts ``id_tag``."""
        local = cfg.LOCAL_PRE_AUTHORIZE if self.online else cfg.LOCAL_AUTHORIZE_OFFLINE
        if self.configuration.flag(local) and self._locally_accepted(id_tag):
            return True
        answer = await self._call(call.Authorize(id_tag=id_tag), persistent=True)
        return answer is not None and answer.id_tag_info["status"] == "Accepted"

    async def _charge(self, c: _Connector) -> str:
        """Charge, sending meter values, until something ends the session; the stop reason."""
        loop = asyncio.get_running_loop()
        model = c.model
        while True:
            self._advance(c)
            if c.stop_reason is not None:
                return c.stop_reason
            if model.fault_due():
                return FAULT_STOP_REASON
            if self.settings.autonomous and model.wants_to_leave():
                return model.leave_reason()
            await self._report(c)
            interval = self.configuration.number(cfg.METER_VALUE_SAMPLE_INTERVAL)
            if interval <= 0:
                await c.alarm.sleep(IDLE_TICK_S)
                continue
            if loop.time() >= c.last_sample + interval:
                c.last_sample = loop.time()
                await self._send_meter_values(c, "Sample.Periodic")
            await c.alarm.sleep(c.last_sample + interval - loop.time())

    async def _stop_transaction(self, c: _Connector, reason: str, final: MeterSample) -> None:
        transaction_id = c.transaction_id
        measurands = self.configuration.measurands(cfg.STOP_TXN_SAMPLED_DATA)
        await self._call(
            call.StopTransaction(
                meter_stop=final.energy_wh,
                timestamp=to_wire(utcnow()),
                transaction_id=transaction_id,
                reason=reason,
                id_tag=c.id_tag if reason == "Local" else None,
                transaction_data=[
                    {
                        "timestamp": to_wire(utcnow()),
                        "sampled_value": sampled_values(final, measurands, "Transaction.End"),
                    }
                ]
                if measurands
                else None,
            ),
            persistent=True,
        )
        self.profiles.clear(connector_id=c.id, purpose=TX)
        c.transaction_id = None
        c.no_session.set()
        self._apply_limits()

    async def _send_meter_values(self, c: _Connector, context: str) -> None:
        measurands = self.configuration.measurands(cfg.METER_VALUES_SAMPLED_DATA)
        if not measurands:
            return
        await self._call(
            meter_values_call(c.id, c.transaction_id, c.model.sample(), measurands, context)
        )

    def _advance(self, c: _Connector) -> None:
        """Bring the connector's model up to now."""
        if c.last_advance is None:
            return
        now = asyncio.get_running_loop().time()
        c.model.advance(now - c.last_advance)
        c.last_advance = now

    def _apply_limits(self) -> None:
        """Hand each connector the limit its profiles allow; wake those whose limit changed."""
        sharing = sum(1 for c in self.connectors.values() if c.model.charging)
        for c in self.connectors.values():
            limit = self.profiles.limit_w(c.id, sharing)
            if limit != c.model.limit_w:
                self._advance(c)  # energy so far at the old limit
                c.model.set_limit(limit)
                c.alarm.wake()

    def _request_stop(self, c: _Connector, reason: str) -> None:
        if not c.no_session.is_set():
            c.stop_reason = reason
            c.alarm.wake()

    # ---- what central system requests set in motion ----

    def _reserve_remote_start(
        self, id_tag: str, connector_id: int | None, profile: dict[str, Any] | None
    ) -> bool:
        if profile is not None and profile.get("charging_profile_purpose") != TX:
            return False
        if connector_id is None:  # a connector reserved for this idTag first
            candidates = sorted(self.connectors.values(), key=lambda c: c.reservation is None)
            c = next((c for c in candidates if self._startable(c, id_tag)), None)
        else:
            c = self.connectors.get(connector_id)
        if c is None or not self._startable(c, id_tag):
            return False
        c.remote = _RemoteStart(id_tag, profile)
        return True

    def _startable(self, c: _Connector, id_tag: str) -> bool:
        free = c.model.is_free or self._reserved_for(c, id_tag)
        return free and c.remote is None and c.no_session.is_set()

    def _locally_accepted(self, id_tag: str) -> bool:
        """The enabled local list holds ``id_tag`` as Accepted and not expired."""
        info = self.local_list.entries.get(id_tag)
        if not self.configuration.flag(cfg.LOCAL_AUTH_LIST_ENABLED) or info is None:
            return False
        expiry = info.get("expiry_date")
        return info["status"] == "Accepted" and (expiry is None or from_wire(expiry) > utcnow())

    def _send_local_list(
        self, version: int, update_type: str, items: Sequence[dict[str, Any]]
    ) -> str:
        """Status of a SendLocalList; NotSupported while LocalAuthListEnabled is false."""
        if not self.configuration.flag(cfg.LOCAL_AUTH_LIST_ENABLED):
            return "NotSupported"
        return self.local_list.update(
            version,
            update_type,
            items,
            max_length=self.configuration.number(cfg.LOCAL_AUTH_LIST_MAX_LENGTH),
            max_send=self.configuration.number(cfg.SEND_LOCAL_LIST_MAX_LENGTH),
        )

    # ---- reservations (connector 0, the charge point as a whole, is not supported) ----

    def _reserved_for(self, c: _Connector, id_tag: str) -> bool:
        r = c.reservation
        return r is not None and r.id_tag == id_tag and c.model.status is ConnectorStatus.RESERVED

    def _reserve(
        self, connector_id: int, expiry: datetime, id_tag: str, reservation_id: int
    ) -> str:
        """Status of a ReserveNow; an id given again replaces its reservation (§5.13)."""
        c = self.connectors.get(connector_id)
        if c is None:
            return "Rejected"
        model = c.model
        if model.status is ConnectorStatus.FAULTED:
            return "Faulted"
        if model.status is ConnectorStatus.UNAVAILABLE:
            return "Unavailable"
        again = c.reservation is not None and c.reservation.id == reservation_id
        free = model.is_free and c.remote is None and c.no_session.is_set()
        if not (again or free):
            return "Occupied"
        previous = self._connector_with_reservation(reservation_id)
        if previous is not None:
            self._end_reservation(previous)
        model.reserve()
        delay = max((expiry - utcnow()).total_seconds(), 0.0)
        timer = asyncio.get_running_loop().call_later(
            delay, self._expire_reservation, c, reservation_id
        )
        c.reservation = _Reservation(reservation_id, id_tag, timer)
        return "Accepted"

    def _connector_with_reservation(self, reservation_id: int) -> _Connector | None:
        return next(
            (
                c
                for c in self.connectors.values()
                if c.reservation is not None and c.reservation.id == reservation_id
            ),
            None,
        )

    def _end_reservation(self, c: _Connector) -> None:
        if c.reservation is not None:
            c.reservation.expiry.cancel()
            c.reservation = None
        c.model.unreserve()

    def _expire_reservation(self, c: _Connector, reservation_id: int) -> None:
        if c.reservation is not None and c.reservation.id == reservation_id:
            log.info("%s: reservation %d expired", self.id, reservation_id)
            self._end_reservation(c)
            c.alarm.wake()

    def _take_reservation(self, c: _Connector, id_tag: str) -> int | None:
        """The reservation a session for ``id_tag`` uses up, if the connector holds one."""
        if c.reservation is None or not self._reserved_for(c, id_tag):
            return None
        reservation_id = c.reservation.id
        self._end_reservation(c)
        return reservation_id

    def _confirm_remote_starts(self) -> None:
        for c in self.connectors.values():
            if c.remote is not None and not c.remote.confirmed:
                c.remote.confirmed = True
                c.alarm.wake()

    def _connector_with_transaction(self, transaction_id: int) -> _Connector | None:
        return next(
            (c for c in self.connectors.values() if c.transaction_id == transaction_id), None
        )

    async def _reset(self, link: _Link, kind: str) -> None:
        """Stop the transactions, close the socket; ``run`` reconnects after a reboot delay."""
        self._reset_requested = True
        busy = [c for c in self.connectors.values() if not c.no_session.is_set()]
        for c in busy:
            self._request_stop(c, f"{kind}Reset")
        try:
            async with asyncio.timeout(RESET_STOP_TIMEOUT_S):
                for c in busy:
                    await c.no_session.wait()
        except TimeoutError:
            log.warning("%s: transactions not stopped before the reset", self.id)
        await link.ws.close()

    async def _update_firmware(self, link: _Link, location: str, retrieve_date: str) -> None:
        """Download at the retrieve date, report each step, "install", reboot on the new image."""
        delay = (from_wire(retrieve_date) - utcnow()).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)
        await self._call(call.FirmwareStatusNotification(status="Downloading"))
        try:
            image = await asyncio.to_thread(_download, location)
        except OSError as exc:
            log.info("%s: firmware download from %s failed: %s", self.id, location, exc)
            await self._call(call.FirmwareStatusNotification(status="DownloadFailed"))
            return
        await self._call(call.FirmwareStatusNotification(status="Downloaded"))
        await self._call(call.FirmwareStatusNotification(status="Installing"))
        name = location.rstrip("/").rsplit("/", 1)[-1]
        self.firmware = f"{name[:40]}-{zlib.crc32(image):08x}"[:50]
        await self._call(call.FirmwareStatusNotification(status="Installed"))
        await self._reset(link, "Hard")  # boots again, announcing the new firmware

    def diagnostics_file_name(self) -> str:
        return f"diag-{self.id}-{utcnow():%Y%m%dT%H%M}.log"

    async def _upload_diagnostics(self, location: str, file_name: str) -> None:
        await self._call(call.DiagnosticsStatusNotification(status="Uploading"))
        report = "\n".join(
            f"{self.id} connector {c.id}: {self.status(c.id).value}"
            for c in self.connectors.values()
        )
        url = location if location.endswith("/") else location + "/"
        try:
            await asyncio.to_thread(_upload, url + file_name, report.encode())
        except OSError as exc:
            log.info("%s: diagnostics upload to %s failed: %s", self.id, url, exc)
            await self._call(call.DiagnosticsStatusNotification(status="UploadFailed"))
            return
        await self._call(call.DiagnosticsStatusNotification(status="Uploaded"))

    def _change_availability(self, connector_id: int, operative: bool) -> str | None:
        """Status of a ChangeAvailability, or None if there is no such connector."""
        if connector_id == 0:
            self.operative = operative
            targets = list(self.connectors.values())
        elif connector_id in self.connectors:
            targets = [self.connectors[connector_id]]
        else:
            return None
        applied = [c.model.set_operative(operative) for c in targets]
        return "Accepted" if all(applied) else "Scheduled"

    async def _after_availability(self, connector_id: int) -> None:
        if connector_id == 0:
            await self._report_station()
            for c in self.connectors.values():
                c.alarm.wake()
        elif (connector := self.connectors.get(connector_id)) is not None:
            connector.alarm.wake()

    def _set_charging_profile(self, connector_id: int, payload: dict[str, Any]) -> str:
        if connector_id != 0 and connector_id not in self.connectors:
            return "Rejected"
        profile = parse_profile(connector_id, payload)
        if profile.purpose == CHARGE_POINT_MAX and connector_id != 0:
            return "Rejected"
        if profile.purpose == TX:
            c = self.connectors.get(connector_id)
            if c is None or c.transaction_id is None:
                return "Rejected"
            if profile.transaction_id not in (None, c.transaction_id):
                return "Rejected"
            profile = dataclasses.replace(profile, transaction_id=c.transaction_id)
        return "Accepted" if self.profiles.install(profile) else "Rejected"

    def _composite_schedule(
        self, connector_id: int, duration: int, unit: str | None
    ) -> call_result.GetCompositeSchedule:
        """The limit its profiles set now, as one period over ``duration`` (Rejected: none)."""
        if connector_id != 0 and connector_id not in self.connectors:
            return call_result.GetCompositeSchedule(status="Rejected")
        sharing = sum(1 for c in self.connectors.values() if c.model.charging)
        limit_w = self.profiles.composite_limit_w(connector_id, max(sharing, 1))
        if limit_w is None:
            return call_result.GetCompositeSchedule(status="Rejected")
        unit = unit or "A"
        limit = limit_w if unit == "W" else limit_w / limit_in_watts(1.0, "A")
        return call_result.GetCompositeSchedule(
            status="Accepted",
            connector_id=connector_id,
            schedule_start=to_wire(utcnow()),
            charging_schedule={
                "duration": duration,
                "chargingRateUnit": unit,
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": round(limit, 1)}],
            },
        )

    async def _trigger(self, message: str, connector_id: int | None) -> None:
        targets = (
            list(self.connectors.values())
            if connector_id is None
            else [self.connectors[connector_id]]
        )
        if message == "BootNotification":
            if self._link is None:  # pending or rejected: boot again now, not at the interval
                self._beat.wake()
            else:
                await self._call(self._boot_request())
        elif message == "Heartbeat":
            await self._call(call.Heartbeat())
        elif message == "StatusNotification":
            if connector_id is None:
                await self._report_station()
            for c in targets:
                await self._report(c, force=True)
        elif message == "MeterValues":
            for c in targets:
                self._advance(c)
                await self._send_meter_values(c, "Trigger")


def _action(payload: Any) -> str:
    return payload.action if isinstance(payload, _WireCall) else type(payload).__name__


def meter_values_call(
    connector_id: int,
    transaction_id: int | None,
    sample: MeterSample,
    measurands: frozenset[str],
    context: str,
) -> _WireCall:
    """A MeterValues request with one meter value, the sample taken now."""
    payload: dict[str, Any] = {
        "connectorId": connector_id,
        "meterValue": [
            {
                "timestamp": to_wire(utcnow()),
                "sampledValue": sampled_values(sample, measurands, context),
            }
        ],
    }
    if transaction_id is not None:
        payload["transactionId"] = transaction_id
    return _WireCall("MeterValues", payload)


def sampled_values(
    sample: MeterSample, measurands: frozenset[str], context: str
) -> list[dict[str, str]]:
    """OCPP 1.6 ``sampledValue`` entries of a sample, for the measurands asked for."""
    values: list[dict[str, str]] = []

    def add(measurand: str, value: str, unit: str, **extra: str) -> None:
        values.append(
            {"measurand": measurand, "value": value, "unit": unit, "context": context, **extra}
        )

    if "Energy.Active.Import.Register" in measurands:
        add("Energy.Active.Import.Register", str(sample.energy_wh), "Wh", location="Outlet")
    if "Power.Active.Import" in measurands:
        add("Power.Active.Import", f"{sample.power_w:.1f}", "W", location="Outlet")
    if "Current.Import" in measurands:
        for phase, amps in zip(("L1", "L2", "L3"), sample.current_a, strict=True):
            add("Current.Import", f"{amps:.2f}", "A", phase=phase, location="Outlet")
    if "Voltage" in measurands:
        for phase, volts in zip(("L1-N", "L2-N", "L3-N"), sample.voltage_v, strict=True):
            add("Voltage", f"{volts:.1f}", "V", phase=phase, location="Outlet")
    if "SoC" in measurands and sample.soc is not None:
        add("SoC", f"{sample.soc:.1f}", "Percent", location="EV")
    return values


class _Link(ChargePoint):
    """The OCPP session of one connection: a new one per connection, never reused."""

    def __init__(self, bollard: SimulatedBollard, ws: ClientConnection) -> None:
        super().__init__(bollard.id, ws, response_timeout=RESPONSE_TIMEOUT_S, logger=_frames_log)
        self.bollard = bollard
        self.ws = ws
        self.closed = asyncio.Event()
        self._scopes: set[asyncio.Timeout] = set()
        self._wire_ids = itertools.count(1)

    async def request(self, payload: Any) -> Any:
        """``call`` or ``_wire_call``; fails with TimeoutError once the connection is lost."""
        if self.closed.is_set():
            raise TimeoutError("connection lost")
        async with asyncio.timeout(None) as scope:
            self._scopes.add(scope)
            try:
                if isinstance(payload, _WireCall):
                    return await self._wire_call(payload)
                return await self.call(payload, suppress=False)
            finally:
                self._scopes.discard(scope)

    async def _wire_call(self, request: _WireCall) -> dict[str, Any]:
        """What ``call`` does, minus serialisation and validation; the answer's raw payload."""
        message = Call(f"w{next(self._wire_ids)}", request.action, request.payload)
        async with self._call_lock:
            await self._send(message.to_json())
            response = await self._get_specific_response(message.unique_id, self._response_timeout)
        if response.message_type_id == MessageType.CallError:
            raise response.to_exception()
        payload: dict[str, Any] = response.payload
        return payload

    def lost(self) -> None:
        """The receive loop ended: fail the requests still waiting for an answer."""
        self.closed.set()
        now = asyncio.get_running_loop().time()
        for scope in self._scopes:
            scope.reschedule(now)

    # ---- remote control ----

    @on(Action.remote_start_transaction)
    def on_remote_start_transaction(
        self,
        id_tag: str,
        connector_id: int | None = None,
        charging_profile: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        ok = self.bollard._reserve_remote_start(id_tag, connector_id, charging_profile)
        return call_result.RemoteStartTransaction(status="Accepted" if ok else "Rejected")

    @after(Action.remote_start_transaction)
    def after_remote_start_transaction(self, **_: Any) -> None:
        self.bollard._confirm_remote_starts()

    @on(Action.remote_stop_transaction)
    def on_remote_stop_transaction(self, transaction_id: int, **_: Any) -> Any:
        found = self.bollard._connector_with_transaction(transaction_id) is not None
        return call_result.RemoteStopTransaction(status="Accepted" if found else "Rejected")

    @after(Action.remote_stop_transaction)
    def after_remote_stop_transaction(self, transaction_id: int, **_: Any) -> None:
        c = self.bollard._connector_with_transaction(transaction_id)
        if c is not None:
            self.bollard._request_stop(c, "Remote")

    @on(Action.reserve_now)
    def on_reserve_now(
        self, connector_id: int, expiry_date: str, id_tag: str, reservation_id: int, **_: Any
    ) -> Any:
        status = self.bollard._reserve(connector_id, from_wire(expiry_date), id_tag, reservation_id)
        return call_result.ReserveNow(status=status)

    @after(Action.reserve_now)
    def after_reserve_now(self, **_: Any) -> None:
        for c in self.bollard.connectors.values():  # report Reserved after the answer
            c.alarm.wake()

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, reservation_id: int, **_: Any) -> Any:
        c = self.bollard._connector_with_reservation(reservation_id)
        if c is not None:
            self.bollard._end_reservation(c)
        return call_result.CancelReservation(status="Rejected" if c is None else "Accepted")

    @after(Action.cancel_reservation)
    def after_cancel_reservation(self, **_: Any) -> None:
        for c in self.bollard.connectors.values():  # report Available after the answer
            c.alarm.wake()

    @on(Action.reset)
    def on_reset(self, **_: Any) -> Any:
        return call_result.Reset(status="Accepted")

    @after(Action.reset)
    def after_reset(self, type: str, **_: Any) -> None:
        self.bollard._spawn(self.bollard._reset(self, type))

    @on(Action.update_firmware)
    def on_update_firmware(self, **_: Any) -> Any:
        return call_result.UpdateFirmware()

    @after(Action.update_firmware)
    def after_update_firmware(self, location: str, retrieve_date: str, **_: Any) -> None:
        self.bollard._spawn(self.bollard._update_firmware(self, location, retrieve_date))

    @on(Action.get_diagnostics)
    def on_get_diagnostics(self, **_: Any) -> Any:
        return call_result.GetDiagnostics(file_name=self.bollard.diagnostics_file_name())

    @after(Action.get_diagnostics)
    def after_get_diagnostics(self, location: str, **_: Any) -> None:
        name = self.bollard.diagnostics_file_name()
        self.bollard._spawn(self.bollard._upload_diagnostics(location, name))

    @on(Action.unlock_connector)
    def on_unlock_connector(self, connector_id: int, **_: Any) -> Any:
        known = connector_id in self.bollard.connectors
        return call_result.UnlockConnector(status="Unlocked" if known else "NotSupported")

    @after(Action.unlock_connector)
    def after_unlock_connector(self, connector_id: int, **_: Any) -> None:
        c = self.bollard.connectors.get(connector_id)
        if c is not None:
            self.bollard._request_stop(c, "UnlockCommand")

    @on(Action.change_availability)
    def on_change_availability(self, connector_id: int, type: str, **_: Any) -> Any:
        status = self.bollard._change_availability(connector_id, type == "Operative")
        return call_result.ChangeAvailability(status=status or "Rejected")

    @after(Action.change_availability)
    def after_change_availability(self, connector_id: int, **_: Any) -> None:
        self.bollard._spawn(self.bollard._after_availability(connector_id))

    @on(Action.trigger_message)
    def on_trigger_message(
        self, requested_message: str, connector_id: int | None = None, **_: Any
    ) -> Any:
        if connector_id is not None and connector_id not in self.bollard.connectors:
            return call_result.TriggerMessage(status="Rejected")
        supported = requested_message in TRIGGERABLE
        return call_result.TriggerMessage(status="Accepted" if supported else "NotImplemented")

    @after(Action.trigger_message)
    def after_trigger_message(
        self, requested_message: str, connector_id: int | None = None, **_: Any
    ) -> None:
        valid = connector_id is None or connector_id in self.bollard.connectors
        if valid and requested_message in TRIGGERABLE:
            self.bollard._spawn(self.bollard._trigger(requested_message, connector_id))

    # ---- configuration ----

    @on(Action.get_configuration)
    def on_get_configuration(self, key: list[str] | None = None, **_: Any) -> Any:
        known, unknown = self.bollard.configuration.get(key)
        return call_result.GetConfiguration(configuration_key=known, unknown_key=unknown or None)

    @on(Action.change_configuration)
    def on_change_configuration(self, key: str, value: str, **_: Any) -> Any:
        return call_result.ChangeConfiguration(status=self.bollard.configuration.change(key, value))

    @after(Action.change_configuration)
    def after_change_configuration(self, key: str, **_: Any) -> None:
        """Let a new interval take effect now rather than after the current one."""
        if key.lower() == cfg.HEARTBEAT_INTERVAL.lower():
            self.bollard._beat.wake()
        elif key.lower() == cfg.METER_VALUE_SAMPLE_INTERVAL.lower():
            for c in self.bollard.connectors.values():
                c.alarm.wake()

    @on(Action.clear_cache)
    def on_clear_cache(self, **_: Any) -> Any:
        return call_result.ClearCache(status="Accepted")

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, **_: Any) -> Any:
        return call_result.DataTransfer(status="UnknownVendorId")

    # ---- local authorization list ----

    @on(Action.send_local_list)
    def on_send_local_list(
        self,
        list_version: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> Any:
        items = local_authorization_list or []
        status = self.bollard._send_local_list(list_version, update_type, items)
        return call_result.SendLocalList(status=status)

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self, **_: Any) -> Any:
        version = self.bollard.local_list.reported_version
        return call_result.GetLocalListVersion(list_version=version)

    # ---- smart charging ----

    @on(Action.set_charging_profile)
    def on_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any], **_: Any
    ) -> Any:
        status = self.bollard._set_charging_profile(connector_id, cs_charging_profiles)
        return call_result.SetChargingProfile(status=status)

    @after(Action.set_charging_profile)
    def after_set_charging_profile(self, **_: Any) -> None:
        self.bollard._apply_limits()

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(
        self,
        id: int | None = None,
        connector_id: int | None = None,
        charging_profile_purpose: str | None = None,
        stack_level: int | None = None,
        **_: Any,
    ) -> Any:
        self.bollard.profiles.clear(
            profile_id=id,
            connector_id=connector_id,
            purpose=charging_profile_purpose,
            stack_level=stack_level,
        )
        return call_result.ClearChargingProfile(status="Accepted")

    @after(Action.clear_charging_profile)
    def after_clear_charging_profile(self, **_: Any) -> None:
        self.bollard._apply_limits()

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(
        self, connector_id: int, duration: int, charging_rate_unit: str | None = None, **_: Any
    ) -> Any:
        return self.bollard._composite_schedule(connector_id, duration, charging_rate_unit)


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=TRANSFER_TIMEOUT_S) as response:
        data: bytes = response.read()
    return data


def _upload(url: str, body: bytes) -> None:
    request = urllib.request.Request(url, data=body, method="PUT")
    with urllib.request.urlopen(request, timeout=TRANSFER_TIMEOUT_S):
        pass
