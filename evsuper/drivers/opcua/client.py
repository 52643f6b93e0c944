"""OPC UA client driver (asyncua): one task per endpoint, samples out through ``publish``.

Each endpoint has its own connection, timeouts and back-off, so a dead server never
delays another. A connection subscribes its points as monitored items of one
subscription (or polls them with Read requests, ``mode = "poll"``); when it breaks, every
point goes comm-failure once, and the next connection builds a fresh session and
subscription from the configuration: that is how subscriptions are restored.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeGuard

from asyncua import Client, ua
from asyncua.common.subscription import DataChangeEvent, StatusChangeEvent, Subscription
from asyncua.crypto import security_policies, uacrypto

from evsuper.core.tags import Quality, Sample, TagPath
from evsuper.core.timeutil import utcnow
from evsuper.drivers.base import (
    DeviceDriver,
    DeviceStatus,
    DriverConfigError,
    LinkState,
    Publish,
    WriteResult,
    WriteStatus,
)
from evsuper.drivers.opcua.config import (
    Authentication,
    DeadbandType,
    Endpoint,
    Mode,
    Point,
    SecurityMode,
)
from evsuper.drivers.opcua.simulator import OpcUaSimulator

log = logging.getLogger(__name__)

# what breaks the link (as opposed to a bad status for one node)
_LINK_ERRORS = (ConnectionError, OSError, TimeoutError, ua.UaError, DriverConfigError)


class _LinkLossAtDebug(logging.Filter):
    """A lost link is the driver's to report (comm-failure quality, device status, one
    INFO line per attempt). asyncua's client logs it again, as an ERROR with a traceback
    every second until the session is dropped, and as a WARNING on each close of the dead
    session: those records are kept at DEBUG level."""

    def filter(self, record: logging.LogRecord) -> bool:
        lost = record.exc_info is not None and isinstance(record.exc_info[1], _LINK_ERRORS)
        if lost or record.getMessage().endswith("was called but connection is closed"):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


for _name in ("asyncua.client.ua_session.UaSession", "asyncua.client.ua_client.UaClient"):
    logging.getLogger(_name).addFilter(_LinkLossAtDebug())

_MODES = {
    SecurityMode.SIGN: ua.MessageSecurityMode.Sign,
    SecurityMode.SIGN_AND_ENCRYPT: ua.MessageSecurityMode.SignAndEncrypt,
}

_INTEGER_RANGES = {
    ua.VariantType.SByte: (-(2**7), 2**7 - 1),
    ua.VariantType.Byte: (0, 2**8 - 1),
    ua.VariantType.Int16: (-(2**15), 2**15 - 1),
    ua.VariantType.UInt16: (0, 2**16 - 1),
    ua.VariantType.Int32: (-(2**31), 2**31 - 1),
    ua.VariantType.UInt32: (0, 2**32 - 1),
    ua.VariantType.Int64: (-(2**63), 2**63 - 1),
    ua.VariantType.UInt64: (0, 2**64 - 1),
}


def quality_of(status: ua.StatusCode | None) -> Quality:
    """Good → good, Uncertain → uncertain, Bad → bad (OPC UA Part 4, 7.39)."""
    if status is None or status.is_good():
        return Quality.GOOD
    return Quality.UNCERTAIN if status.is_uncertain() else Quality.BAD


def to_variant_value(value: Any, vtype: ua.VariantType) -> Any:
    """``value`` as the Python value a variant of ``vtype`` carries; ``ValueError`` if it
    does not fit."""
    if vtype is ua.VariantType.Boolean:
        if isinstance(value, bool) or value in (0, 1):
            return bool(value)
        raise ValueError(f"{value!r} is not a boolean")
    if vtype in _INTEGER_RANGES:
        if not _is_number(value) or not math.isfinite(value):
            raise ValueError(f"{value!r} is not a number")
        low, high = _INTEGER_RANGES[vtype]
        number = round(value)
        if not low <= number <= high:
            raise ValueError(f"{value!r} outside {vtype.name} ({low}..{high})")
        return number
    if vtype in (ua.VariantType.Float, ua.VariantType.Double):
        if not _is_number(value):
            raise ValueError(f"{value!r} is not a number")
        return float(value)
    if vtype is ua.VariantType.String:
        return str(value)
    return value


def _same(written: Any, read_back: Any, vtype: ua.VariantType) -> bool:
    if vtype is ua.VariantType.Float and isinstance(read_back, float):
        return math.isclose(written, read_back, rel_tol=1e-6, abs_tol=1e-9)
    return bool(written == read_back)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ua.UaStatusCodeError):
        return ua.StatusCode(exc.code).name
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def new_client(ep: Endpoint) -> Client:
    """An unconnected asyncua client for ``ep`` (its own supervisor probes every
    ``watchdog_s``; reconnecting is ours)."""
    client = Client(ep.url, timeout=ep.request_timeout_s, watchdog_intervall=ep.watchdog_s)
    client.name = client.description = f"evsuper ({ep.name})"
    client.application_uri = ep.application_uri
    # sessions are never resumed (each connection builds its own): let the server free
    # an orphaned one after a minute rather than asyncua's hour
    client.session_timeout = 60_000
    return client


async def connect(client: Client, ep: Endpoint) -> None:
    """Security, identity, then session: what the driver and the browser both do."""
    if ep.secure:
        assert ep.certificate is not None and ep.private_key is not None
        await client.set_security(
            security_policies.SecurityPolicyBasic256Sha256,
            certificate=_read(ep.certificate),
            private_key=_read(ep.private_key),
            server_certificate=_read(ep.server_certificate) if ep.server_certificate else None,
            mode=_MODES[ep.security_mode],
        )
    if ep.authentication is Authentication.USERNAME:
        client.set_user(ep.username)
        client.set_password(ep.password())
    elif ep.authentication is Authentication.CERTIFICATE:
        assert ep.certificate is not None and ep.private_key is not None
        certificate, key = _read(ep.certificate), _read(ep.private_key)
        client.user_certificate = await uacrypto.load_certificate(
            certificate.path_or_content, certificate.extension
        )
        client.user_private_key = await uacrypto.load_private_key(
            key.path_or_content, None, key.extension
        )
    await client.connect()


def _read(path: Path) -> uacrypto.CertProperties:
    """A certificate or key file's content (PEM when named ``*.pem``, else DER), read here:
    asyncua's own threaded reads leave the file open when a connection is cancelled."""
    return uacrypto.CertProperties(path.read_bytes(), "pem" if path.suffix == ".pem" else "der")


async def close(client: Client) -> None:
    """Close the session politely if the server still answers, else just the socket."""
    try:
        async with asyncio.timeout(1.0):
            await client.disconnect()
    except BaseException as exc:  # the link is gone, or we are cancelled: drop the socket
        client.disconnect_socket()
        if not isinstance(exc, Exception):
            raise


class OpcUaDevice:
    """One endpoint: its connection loop, its points and their last samples."""

    def __init__(self, endpoint: Endpoint, publish: Publish) -> None:
        self.endpoint = endpoint
        self.status = DeviceStatus()
        self._publish = publish
        self._points = {p.tag: p for p in endpoint.points}
        self._last: dict[TagPath, Sample] = {}
        self._client: Client | None = None
        # per connection: resolved node ids, absolute deadbands (node units), write types
        self._node_ids: dict[TagPath, ua.NodeId] = {}
        self._deadbands: dict[TagPath, float] = {}
        self._write_types: dict[TagPath, ua.VariantType] = {}
        self._delivered = False  # data came on the current connection
        self._failure_shown = False  # comm-failure published since the last good data

    def point(self, tag: TagPath) -> Point | None:
        return self._points.get(tag)

    def writable(self, tag: TagPath) -> bool:
        point = self.point(tag)
        return point is not None and point.writable

    async def run(self) -> None:
        """Connect, subscribe (or poll), and on a broken link mark every point
        comm-failure once and retry after a back-off doubling from ``reconnect_min_s`` to
        ``reconnect_max_s``. Cancelled, it marks every point not-connected."""
        ep = self.endpoint
        delay = ep.reconnect_min_s
        try:
            while True:
                try:
                    await self._session()
                except Exception as exc:  # the task must outlive any failure
                    if not isinstance(exc, _LINK_ERRORS):
                        log.exception("opcua device %s: unexpected failure", ep.name)
                    self._error(exc)
                    log.info("opcua device %s: %s", ep.name, self.status.last_error)
                self.status.connected_since = None
                if self._delivered:  # that connection worked: start the back-off again
                    delay = ep.reconnect_min_s
                    self._delivered = False
                if not self._failure_shown:
                    self.publish_all(Quality.COMM_FAILURE)
                    self._failure_shown = True
                self.status.state = LinkState.WAITING
                self.status.next_retry_s = delay
                await asyncio.sleep(delay)
                delay = min(delay * 2, ep.reconnect_max_s)
        finally:
            self.status.state = LinkState.STOPPED
            self.status.connected_since = None
            self.publish_all(Quality.NOT_CONNECTED)

    async def write(self, tag: TagPath, value: Any) -> WriteResult:
        """Write ``value`` (engineering units) with the node's variant type, read it back
        and say how it went; the read-back value is published."""
        point = self._points.get(tag)
        if point is None:
            return WriteResult(tag, WriteStatus.UNKNOWN_TAG, value, detail="no such point")
        if not point.writable:
            return WriteResult(tag, WriteStatus.NOT_WRITABLE, value, detail="read-only point")
        client = self._client
        if client is None or self.status.state is not LinkState.CONNECTED:
            return WriteResult(tag, WriteStatus.COMM_FAILURE, value, detail="not connected")
        node = client.get_node(self._node_ids[tag])
        try:
            async with asyncio.timeout(self.endpoint.request_timeout_s * 2):
                vtype = self._write_types.get(tag)
                if vtype is None:
                    vtype = self._write_types[tag] = await _variant_type(node)
                try:
                    raw_value = value / point.scale if point.scale != 1.0 else value
                    raw = to_variant_value(raw_value, vtype)
                except (TypeError, ValueError) as exc:
                    return WriteResult(tag, WriteStatus.INVALID_VALUE, value, detail=str(exc))
                self.status.requests += 1
                await node.write_value(ua.DataValue(ua.Variant(raw, vtype)))
                data = await node.read_data_value(raise_on_bad_status=False)
        except ua.UaStatusCodeError as exc:
            self._error(exc)
            return WriteResult(tag, WriteStatus.REJECTED, value, detail=_describe(exc))
        except _LINK_ERRORS as exc:
            self._error(exc)
            return WriteResult(tag, WriteStatus.COMM_FAILURE, value, detail=_describe(exc))
        sample = self._sample(point, data)
        self._emit(point.tag, sample)
        read_raw = data.Value.Value if data.Value is not None else None
        if sample.quality is Quality.GOOD and _same(raw, read_raw, vtype):
            return WriteResult(tag, WriteStatus.OK, value, sample.value)
        return WriteResult(
            tag, WriteStatus.MISMATCH, value, sample.value, detail=f"read back {sample.value!r}"
        )

    # ---- one connection

    async def _session(self) -> None:
        ep = self.endpoint
        self.status.state = LinkState.CONNECTING
        client = new_client(ep)
        lost = asyncio.Event()  # set by asyncua's supervisor (closed socket, failed probe)

        async def on_lost(_exc: Exception) -> None:
            lost.set()

        client.connection_lost_callback = on_lost
        self._client = client
        try:
            async with asyncio.timeout(ep.connect_timeout_s):
                await connect(client, ep)
                await self._prepare(client)
            self.status.state = LinkState.CONNECTED
            self.status.connected_since = utcnow()
            self.status.connects += 1
            if ep.mode is Mode.POLL:
                await self._poll_forever(client, lost)
            else:
                await self._subscribe_forever(client)
        finally:
            self._client = None
            await close(client)

    async def _prepare(self, client: Client) -> None:
        """Resolve node ids (``nsu=`` through the namespace array) and percent deadbands."""
        self._write_types = {}
        namespaces: list[str] | None = None
        for point in self.endpoint.points:
            node_id = ua.NodeId.from_string(point.node)
            if isinstance(node_id, ua.ExpandedNodeId) and node_id.NamespaceUri:
                if namespaces is None:
                    namespaces = await client.get_namespace_array()
                if node_id.NamespaceUri not in namespaces:
                    raise DriverConfigError(
                        f"point {point.tag!r}: the server has no namespace {node_id.NamespaceUri}"
                    )
                index = namespaces.index(node_id.NamespaceUri)
                node_id = ua.NodeId(node_id.Identifier, ua.Int16(index), node_id.NodeIdType)
            self._node_ids[point.tag] = node_id
        self._deadbands = {}
        for point in self.endpoint.points:
            if point.deadband_type is DeadbandType.ABSOLUTE:
                self._deadbands[point.tag] = point.deadband
            elif point.deadband_type is DeadbandType.PERCENT:
                span = await _eu_span(client, self._node_ids[point.tag])
                if span is None:
                    self._error(ValueError(f"point {point.tag!r}: percent deadband needs EURange"))
                else:
                    self._deadbands[point.tag] = point.deadband / 100.0 * span

    async def _subscribe_forever(self, client: Client) -> None:
        ep = self.endpoint
        subscription = await client.create_subscription(
            ep.publishing_interval_ms, None, queue_maxsize=0
        )
        points = list(ep.points)
        failed = await self._monitor(subscription, points, with_filter=True)
        # a server refusing deadband filters still delivers: the deadband is also kept here
        refused = [p for p, code in failed if self._deadbands.get(p.tag) and _filter_refused(code)]
        if refused:
            failed = [(p, c) for p, c in failed if p not in refused]
            failed += await self._monitor(subscription, refused, with_filter=False)
        for point, code in failed:
            self._error(ua.UaStatusCodeError(code.value))
            self._emit(point.tag, Sample(self._value_of(point.tag), utcnow(), Quality.BAD))
        by_handle = dict(enumerate(points))
        async for event in subscription:
            if isinstance(event, DataChangeEvent):
                item = event.data.monitored_item
                self._deliver(by_handle[item.ClientHandle], item.Value)
            elif isinstance(event, StatusChangeEvent) and not event.notification.Status.is_good():
                raise ConnectionError(f"subscription {event.notification.Status.name}")

    async def _monitor(
        self, subscription: Subscription, points: Sequence[Point], *, with_filter: bool
    ) -> list[tuple[Point, ua.StatusCode]]:
        """Create monitored items (client handle = index in the endpoint's points); return
        the points the server refused, with its status."""
        handles = {p.tag: i for i, p in enumerate(self.endpoint.points)}
        requests = []
        for point in points:
            params = ua.MonitoringParameters(
                ClientHandle=handles[point.tag],
                SamplingInterval=point.sampling_ms,
                QueueSize=1,
                DiscardOldest=True,
            )
            deadband = self._deadbands.get(point.tag, 0.0)
            if with_filter and deadband:
                params.Filter = ua.DataChangeFilter(
                    Trigger=ua.DataChangeTrigger.StatusValue,
                    DeadbandType=ua.DeadbandType.Absolute,
                    DeadbandValue=deadband,
                )
            requests.append(
                ua.MonitoredItemCreateRequest(
                    ItemToMonitor=ua.ReadValueId(
                        NodeId=self._node_ids[point.tag], AttributeId=ua.AttributeIds.Value
                    ),
                    MonitoringMode=ua.MonitoringMode.Reporting,
                    RequestedParameters=params,
                )
            )
        results = await subscription.create_monitored_items(requests)
        return [
            (point, result)
            for point, result in zip(points, results, strict=True)
            if isinstance(result, ua.StatusCode)
        ]

    async def _poll_forever(self, client: Client, lost: asyncio.Event) -> None:
        """Read each group of points sharing a sampling interval in one request, at that
        interval (scheduled from the previous due time, no backlog); a loss noticed by
        the supervisor between two reads ends the session at once."""
        loop = asyncio.get_running_loop()
        groups: dict[float, list[Point]] = {}
        for point in self.endpoint.points:
            groups.setdefault(point.sampling_ms, []).append(point)
        due = dict.fromkeys(groups, loop.time())
        while True:
            period = min(due, key=due.__getitem__, default=None)
            wait_s = None if period is None else max(0.0, due[period] - loop.time())
            if await _set_within(lost, wait_s):
                raise ConnectionError("connection lost")
            assert period is not None  # without points only a loss ends the wait
            points = groups[period]
            params = ua.ReadParameters(
                NodesToRead=[
                    ua.ReadValueId(NodeId=self._node_ids[p.tag], AttributeId=ua.AttributeIds.Value)
                    for p in points
                ],
                TimestampsToReturn=ua.TimestampsToReturn.Both,
            )
            values = await client.uaclient.read(params)
            for point, data in zip(points, values, strict=True):
                self._deliver(point, data)
            due[period] = max(due[period] + period / 1000.0, loop.time())

    # ---- samples

    def _sample(self, point: Point, data: ua.DataValue | None) -> Sample:
        status = data.StatusCode if data is not None else None
        raw = data.Value.Value if data is not None and data.Value is not None else None
        value = raw * point.scale if point.scale != 1.0 and _is_number(raw) else raw
        ts = (data.SourceTimestamp or data.ServerTimestamp) if data is not None else None
        return Sample(value, ts or utcnow(), quality_of(status))

    def _deliver(self, point: Point, data: ua.DataValue | None) -> None:
        """Publish a notification or read result unless it stays within the deadband of
        what was last published (or repeats it)."""
        self.status.requests += 1
        self._delivered = True
        self._failure_shown = False
        sample = self._sample(point, data)
        last = self._last.get(point.tag)
        if last is not None and last.quality is sample.quality:
            if last.value == sample.value:
                return
            deadband = self._deadbands.get(point.tag, 0.0) * abs(point.scale)
            if (
                deadband
                and _is_number(sample.value)
                and _is_number(last.value)
                and abs(sample.value - last.value) <= deadband
            ):
                return
        self._emit(point.tag, sample)

    def _emit(self, tag: TagPath, sample: Sample) -> None:
        self._last[tag] = sample
        self._publish(tag, sample)

    def _value_of(self, tag: TagPath) -> Any:
        last = self._last.get(tag)
        return None if last is None else last.value

    def publish_all(self, quality: Quality) -> None:
        ts = utcnow()
        for point in self.endpoint.points:
            self._emit(point.tag, Sample(self._value_of(point.tag), ts, quality))

    def _error(self, exc: BaseException) -> None:
        self.status.errors += 1
        self.status.last_error = _describe(exc)


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


async def _set_within(event: asyncio.Event, timeout_s: float | None) -> bool:
    """Whether ``event`` is set within ``timeout_s`` (``None``: however long it takes)."""
    try:
        async with asyncio.timeout(timeout_s):
            await event.wait()
    except TimeoutError:
        return False
    return True


def _filter_refused(code: ua.StatusCode) -> bool:
    return code.value in (
        ua.StatusCodes.BadFilterNotAllowed,
        ua.StatusCodes.BadMonitoredItemFilterUnsupported,
        ua.StatusCodes.BadDeadbandFilterInvalid,
        ua.StatusCodes.BadMonitoredItemFilterInvalid,
    )


async def _variant_type(node: Any) -> ua.VariantType:
    """The variant type a write to ``node`` must carry: its current value's, or its data
    type's when the value is empty."""
    data = await node.read_data_value(raise_on_bad_status=False)
    if data.Value is not None and data.Value.VariantType is not ua.VariantType.Null:
        vtype: ua.VariantType = data.Value.VariantType
        return vtype
    result: ua.VariantType = await node.read_data_type_as_variant_type()
    return result


async def _eu_span(client: Client, node_id: ua.NodeId) -> float | None:
    """High - Low of the variable's EURange property, ``None`` when it has none."""
    try:
        prop = await client.get_node(node_id).get_child("0:EURange")
        eu_range = await prop.read_value()
    except ua.UaError:
        return None
    if not isinstance(eu_range, ua.Range):
        return None
    return float(eu_range.High - eu_range.Low)


class OpcUaDriver(DeviceDriver[OpcUaDevice]):
    """Every configured endpoint, each served by its own task (``Driver`` protocol)."""

    scheme = "opcua"

    def __init__(
        self,
        endpoints: Iterable[Endpoint],
        publish: Publish,
        enabled: Mapping[str, bool] | None = None,
    ) -> None:
        built = {e.name: OpcUaDevice(e, publish) for e in endpoints}
        owner = {p.tag: dev for dev in built.values() for p in dev.endpoint.points}
        disabled = {name for name, on in (enabled or {}).items() if not on}
        super().__init__(built, owner, disabled)
        # serves the endpoints with ``simulate = true`` on 127.0.0.1 while the driver runs
        self.simulator: OpcUaSimulator | None = None

    async def _serve(self) -> None:
        simulated = [d for d in self.devices.values() if d.endpoint.simulate]
        if simulated:
            self.simulator = OpcUaSimulator("127.0.0.1", 0)
            await self.simulator.start()
            for device in simulated:
                device.endpoint = dataclasses.replace(device.endpoint, url=self.simulator.url)

    async def _unserve(self) -> None:
        if self.simulator is not None:
            await self.simulator.stop()
            self.simulator = None
