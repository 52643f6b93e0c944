"""One OCPP 1.6J charge point session, central system side: the Core profile handlers.

A ``ChargePoint16`` lives as long as one WebSocket connection; everything that must outlive
it (registry, transactions, live values) belongs to the ``CentralSystem``.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

from ocpp.exceptions import (
    FormationViolationError,
    InternalError,
    NotSupportedError,
    OCPPError,
    SecurityError,
)
from ocpp.exceptions import NotImplementedError as OcppNotImplemented
from ocpp.messages import CallError, MessageType, unpack
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action, DataTransferStatus
from websockets.exceptions import ConnectionClosed

from evsuper.core.domain import (
    ConnectorStatus,
    ConnectorStatusChanged,
    MeterValuesReceived,
    RegistrationStatus,
)
from evsuper.core.timeutil import from_wire, to_wire, utcnow
from evsuper.drivers.ocpp.mapping import (
    callerror_code_16,
    is_response_frame,
    parse_meter_values,
    unique_id_of,
)
from evsuper.drivers.ocpp.schemas import validate_request

if TYPE_CHECKING:
    from evsuper.drivers.ocpp.central import CentralSystem

log = logging.getLogger("evsuper.ocpp")

# Requests are validated by evsuper.drivers.ocpp.schemas before dispatch, and the answers
# are built here from typed payloads: the library's own (slower) validation is skipped.
handles = functools.partial(on, skip_schema_validation=True)

# OCPP messages are small; a MeterValues with hundreds of sampled values is tens of KiB.
MAX_FRAME_CHARS = 512 * 1024

# Requests a charger may send before it is accepted (OCPP 1.6 §4.2: Pending / Rejected).
_ALLOWED_UNREGISTERED = {Action.boot_notification, Action.heartbeat}


class ChargePoint16(ChargePoint):
    def __init__(self, charger_id: str, connection: Any, central: CentralSystem) -> None:
        super().__init__(
            charger_id, connection, response_timeout=central.project.ocpp.response_timeout_s
        )
        self.central = central
        self.logger = logging.getLogger("ocpp.frames")
        self._boot_status: RegistrationStatus | None = None  # of the last BootNotification

    # ---- framing: every frame counts as a sign of life; malformed ones get a CALLERROR ----

    async def _send(self, message: str) -> None:
        self.central.frame_sent(self.id, message)
        await super()._send(message)

    async def route_message(self, raw_msg: str | bytes) -> None:
        self.central.frame_received(self.id, raw_msg)
        if len(raw_msg) > MAX_FRAME_CHARS:  # not even parsed: answered from its first bytes
            too_big = FormationViolationError(
                description=f"frame of {len(raw_msg)} characters, over {MAX_FRAME_CHARS}"
            )
            self.central.anomaly(self.id, "oversize-frame", too_big.description)
            if not is_response_frame(raw_msg[:64]):
                await self._send(_call_error(unique_id_of(raw_msg[:128]), too_big))
            return
        try:
            msg = unpack(raw_msg)
        except OCPPError as error:
            self.central.anomaly(self.id, "malformed-frame", f"{error.code}: {str(raw_msg)[:200]}")
            if is_response_frame(raw_msg):  # never answer an answer: no error ping-pong
                log.warning("%s: malformed response ignored: %.200r", self.id, raw_msg)
                return
            log.warning(
                "%s: malformed frame answered with %s: %.200r", self.id, error.code, raw_msg
            )
            await self._send(_call_error(unique_id_of(raw_msg), error))
            return
        if msg.message_type_id != MessageType.Call:
            if msg.message_type_id == MessageType.CallError:
                self.central.callerror_received(self.id)
            self._response_queue.put_nowait(msg)
            return
        if not isinstance(msg.unique_id, str) or not isinstance(msg.action, str):
            malformed = FormationViolationError(description="message id and action must be strings")
            self.central.anomaly(self.id, "malformed-frame", f"{malformed.code}: {raw_msg!s:.200}")
            await self._send(_call_error(str(msg.unique_id), malformed))
            return
        try:
            if msg.action not in _ALLOWED_UNREGISTERED and not self.central.is_registered(self.id):
                raise SecurityError(
                    description="charge point is not accepted by the central system"
                )
            if msg.action not in self.route_map:
                raise _unknown_action(msg.action)
            self._validate(msg.action, msg.payload)
            await self._handle_call(msg)
        except OCPPError as error:
            log.warning("%s: %s answered with %s: %s", self.id, msg.action, error.code, error)
            await self._send(_call_error(msg.unique_id, error))
        except ConnectionClosed:  # gone before its answer was sent: a disconnect, not a bug
            raise
        except Exception:  # a bug of ours must not cost the charger its connection
            log.exception("%s: %s failed", self.id, msg.action)
            failure = InternalError(description=f"{msg.action} could not be processed")
            await self._send(_call_error(msg.unique_id, failure))

    def _validate(self, action: str, payload: Any) -> None:
        try:
            validate_request(action, payload)
        except OCPPError as violation:
            if not self.central.validation_relaxed(self.id):
                raise
            log.warning("%s: %s accepted despite %s (relaxed)", self.id, action, violation)
            self.central.anomaly(
                self.id, "schema-relaxed", f"{action}: {violation.code}: {violation.description}"
            )

    # ---- Core profile, charger → central system ----

    @handles(Action.boot_notification)
    async def on_boot_notification(
        self, charge_point_vendor: str, charge_point_model: str, **info: Any
    ) -> call_result.BootNotification:
        status = await self.central.boot(
            self.id,
            vendor=charge_point_vendor,
            model=charge_point_model,
            serial=info.get("charge_point_serial_number") or info.get("charge_box_serial_number"),
            firmware=info.get("firmware_version"),
        )
        self._boot_status = status
        ocpp = self.central.project.ocpp
        interval = ocpp.heartbeat_interval_s
        if status is not RegistrationStatus.ACCEPTED:
            interval = min(interval, 60)  # the delay before the charger boots again
        return call_result.BootNotification(
            current_time=to_wire(utcnow()), interval=interval, status=status.value
        )

    @after(Action.boot_notification)
    def after_boot_notification(self, **_: Any) -> None:
        """Runs once the answer is sent: the central system may now send its own calls."""
        if self._boot_status is RegistrationStatus.ACCEPTED:
            self.central.after_boot(self.id)

    @handles(Action.heartbeat)
    async def on_heartbeat(self) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=to_wire(utcnow()))

    @handles(Action.status_notification)
    async def on_status_notification(
        self,
        connector_id: int,
        error_code: str,
        status: str,
        timestamp: str | None = None,
        info: str | None = None,
        vendor_id: str | None = None,
        vendor_error_code: str | None = None,
    ) -> call_result.StatusNotification:
        self.central.connector_status(
            ConnectorStatusChanged(
                charger_id=self.id,
                connector_id=connector_id,
                status=ConnectorStatus(status),
                error_code=error_code,
                info=info,
                vendor_id=vendor_id,
                vendor_error_code=vendor_error_code,
                ts=from_wire(timestamp) if timestamp else utcnow(),
            )
        )
        return call_result.StatusNotification()

    @handles(Action.authorize)
    async def on_authorize(self, id_tag: str) -> call_result.Authorize:
        return call_result.Authorize(id_tag_info=self.central.id_tag_info(id_tag))

    @handles(Action.start_transaction)
    async def on_start_transaction(
        self,
        connector_id: int,
        id_tag: str,
        meter_start: int,
        timestamp: str,
        reservation_id: int | None = None,
    ) -> call_result.StartTransaction:
        id_tag_info = self.central.id_tag_info(id_tag, starting=True)
        transaction = await self.central.start_transaction(
            self.id, connector_id, id_tag, from_wire(timestamp), meter_start, reservation_id
        )
        return call_result.StartTransaction(transaction_id=transaction.id, id_tag_info=id_tag_info)

    @handles(Action.stop_transaction)
    async def on_stop_transaction(
        self,
        meter_stop: int,
        timestamp: str,
        transaction_id: int,
        reason: str | None = None,
        id_tag: str | None = None,
        transaction_data: list[dict[str, Any]] | None = None,
    ) -> call_result.StopTransaction:
        await self.central.stop_transaction(
            self.id,
            transaction_id,
            from_wire(timestamp),
            meter_stop,
            reason or "Local",
            id_tag,
            transaction_data or [],
        )
        if id_tag is None:
            return call_result.StopTransaction()
        return call_result.StopTransaction(id_tag_info=self.central.id_tag_info(id_tag))

    @handles(Action.meter_values)
    async def on_meter_values(
        self,
        connector_id: int,
        meter_value: list[dict[str, Any]],
        transaction_id: int | None = None,
    ) -> call_result.MeterValues:
        readings, skipped = parse_meter_values(meter_value)
        if skipped:
            self.central.anomaly(self.id, "meter-value-skipped", f"{skipped} non-numeric values")
        self.central.meter_values(
            MeterValuesReceived(self.id, connector_id, transaction_id, tuple(readings))
        )
        return call_result.MeterValues()

    @handles(Action.firmware_status_notification)
    async def on_firmware_status_notification(
        self, status: str
    ) -> call_result.FirmwareStatusNotification:
        self.central.maintenance_status(self.id, "firmware", status)
        return call_result.FirmwareStatusNotification()

    @handles(Action.diagnostics_status_notification)
    async def on_diagnostics_status_notification(
        self, status: str
    ) -> call_result.DiagnosticsStatusNotification:
        self.central.maintenance_status(self.id, "diagnostics", status)
        return call_result.DiagnosticsStatusNotification()

    # ---- OCPP 1.6 security extension (whitepaper edition 3) ----

    @handles(Action.security_event_notification)
    async def on_security_event_notification(
        self, type: str, timestamp: str, tech_info: str | None = None
    ) -> call_result.SecurityEventNotification:
        log.warning("%s: security event %s at %s: %s", self.id, type, timestamp, tech_info)
        detail = f"{type} at {timestamp}" + (f": {tech_info}" if tech_info else "")
        self.central.anomaly(self.id, "security-event", detail)
        return call_result.SecurityEventNotification()

    @handles(Action.signed_firmware_status_notification)
    async def on_signed_firmware_status_notification(
        self, status: str, request_id: int
    ) -> call_result.SignedFirmwareStatusNotification:
        self.central.maintenance_status(self.id, "firmware", status)
        return call_result.SignedFirmwareStatusNotification()

    @handles(Action.log_status_notification)
    async def on_log_status_notification(
        self, status: str, request_id: int
    ) -> call_result.LogStatusNotification:
        self.central.maintenance_status(self.id, "log", status)
        return call_result.LogStatusNotification()

    @handles(Action.data_transfer)
    async def on_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None
    ) -> call_result.DataTransfer:
        answer = await self.central.data_transfer.dispatch(self.id, vendor_id, message_id, data)
        log.info(
            "%s: DataTransfer %s/%s answered %s", self.id, vendor_id, message_id, answer.status
        )
        if answer.status in ("UnknownVendorId", "UnknownMessageId"):
            detail = f"{vendor_id}/{message_id}: {data!s:.200}"
            self.central.anomaly(self.id, "data-transfer-unhandled", detail)
        return call_result.DataTransfer(status=DataTransferStatus(answer.status), data=answer.data)

    # ---- central system → charger ----

    async def request(self, payload: Any) -> Any:
        """Send a CALL; raises TimeoutError, OCPPError (CALLERROR) or ConnectionClosed."""
        return await self.call(payload, suppress=False)


def _unknown_action(action: str) -> OCPPError:
    """OCPP-J 1.6 §4.2.3: NotImplemented = action not known; NotSupported = known, not handled."""
    if action in {a.value for a in Action}:
        return NotSupportedError(description=f"{action} is not supported by this central system")
    return OcppNotImplemented(description=f"{action} is not an OCPP 1.6 action")


def _call_error(unique_id: str, error: OCPPError) -> str:
    cause = error.details.get("cause") if isinstance(error.details, dict) else None
    details = {"cause": cause} if isinstance(cause, str) else {}
    return str(CallError(unique_id, callerror_code_16(error), error.description, details).to_json())
