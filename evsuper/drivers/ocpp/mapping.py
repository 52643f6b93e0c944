"""OCPP 1.6 ↔ evsuper translation: sampled values, live figures, error codes, commands."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ocpp.charge_point import remove_nones, serialize_as_dict
from ocpp.exceptions import OCPPError
from ocpp.v16 import call
from ocpp.v16.enums import AvailabilityType, MessageTrigger, ResetType

from evsuper.charging.profiles import ChargingSchedule
from evsuper.core.domain import MeterReading
from evsuper.core.timeutil import from_wire, to_wire
from evsuper.drivers.ocpp.keycase import camel_to_snake_case, snake_to_camel_case
from evsuper.engine import commands as cmd

ENERGY_REGISTER = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"
SOC = "SoC"

# Error codes whose OCPP 1.6 spelling differs from the one the ocpp library raises (2.0.1's).
_CALLERROR_CODES_16 = {
    "FormatViolation": "FormationViolation",
    "OccurrenceConstraintViolation": "OccurenceConstraintViolation",
}
_RESPONSE_START = re.compile(r"^\s*\[\s*[34]\s*,")
_UNIQUE_ID = re.compile(r'^\s*\[\s*\d+\s*,\s*"([^"]{1,36})"')


def callerror_code_16(error: OCPPError) -> str:
    return _CALLERROR_CODES_16.get(error.code, error.code)


def _as_text(raw: str | bytes) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw


def unique_id_of(raw: str | bytes) -> str:
    """The message id of a frame that could not be parsed, or ``"-1"`` if unreadable."""
    try:
        frame = json.loads(raw)
    except ValueError:  # broken JSON: the id may still be readable at the start
        text = _as_text(raw)
        m = _UNIQUE_ID.match(text)
        return m.group(1) if m else "-1"
    readable = isinstance(frame, list) and len(frame) >= 2 and isinstance(frame[1], str)
    return frame[1] if readable and 0 < len(frame[1]) <= 36 else "-1"


def is_response_frame(raw: str | bytes) -> bool:
    """A CALLRESULT (3) or CALLERROR (4) frame, also when it is otherwise malformed."""
    try:
        frame = json.loads(raw)
    except ValueError:  # broken or cut JSON: judge by its start
        text = _as_text(raw)
        return _RESPONSE_START.match(text) is not None
    if not isinstance(frame, list) or not frame or isinstance(frame[0], bool):
        return False
    return frame[0] in (3, 4)


def parse_meter_values(meter_values: Iterable[dict[str, Any]]) -> tuple[list[MeterReading], int]:
    """Readings of an OCPP ``meterValue`` array; also counts values skipped as non-numeric.

    Defaults are those of the 1.6 spec: measurand Energy.Active.Import.Register, unit Wh,
    context Sample.Periodic, location Outlet.
    """
    readings: list[MeterReading] = []
    skipped = 0
    for meter_value in meter_values:
        ts = from_wire(meter_value["timestamp"])
        for sampled in meter_value.get("sampled_value", []):
            if sampled.get("format") == "SignedData":
                skipped += 1
                continue
            try:
                value = float(sampled["value"])
            except (KeyError, ValueError):
                skipped += 1
                continue
            measurand = sampled.get("measurand", ENERGY_REGISTER)
            readings.append(
                MeterReading(
                    ts=ts,
                    measurand=measurand,
                    value=value,
                    unit=sampled.get("unit", "Wh" if measurand.startswith("Energy") else ""),
                    phase=sampled.get("phase"),
                    context=sampled.get("context", "Sample.Periodic"),
                    location=sampled.get("location", "Outlet"),
                )
            )
    return readings, skipped


@dataclass(frozen=True, slots=True)
class LiveFigures:
    """What a batch of readings says about the connector now (None: not reported)."""

    power_w: float | None = None
    energy_register_wh: float | None = None
    soc: float | None = None
    ts: datetime | None = None


def live_figures(readings: list[MeterReading]) -> LiveFigures:
    """Latest power (total, or sum of phases), energy register and SoC of the readings."""
    if not readings:
        return LiveFigures()
    latest = max(r.ts for r in readings)
    current = [r for r in readings if r.ts == latest and r.location != "Inlet"]
    power_total = [r for r in current if r.measurand == POWER and r.phase is None]
    power_phases = [r for r in current if r.measurand == POWER and r.phase is not None]
    power: float | None = None
    if power_total:
        power = _to_base(power_total[0])
    elif power_phases:
        power = sum(_to_base(r) for r in power_phases if r.phase != "N")
    energy = next(
        (_to_base(r) for r in current if r.measurand == ENERGY_REGISTER and r.phase is None), None
    )
    soc = next((r.value for r in current if r.measurand == SOC), None)
    return LiveFigures(power_w=power, energy_register_wh=energy, soc=soc, ts=latest)


def _to_base(reading: MeterReading) -> float:
    """W / Wh from the kilo units a charger may report."""
    return reading.value * 1000.0 if reading.unit in ("kW", "kWh") else reading.value


# OCPP 1.6 messages a central system may send: Core, the five optional profiles, and the
# security extension (whitepaper edition 3).
CENTRAL_SYSTEM_ACTIONS = frozenset(
    {
        "CancelReservation",
        "ChangeAvailability",
        "ChangeConfiguration",
        "ClearCache",
        "ClearChargingProfile",
        "DataTransfer",
        "GetCompositeSchedule",
        "GetConfiguration",
        "GetDiagnostics",
        "GetLocalListVersion",
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "ReserveNow",
        "Reset",
        "SendLocalList",
        "SetChargingProfile",
        "TriggerMessage",
        "UnlockConnector",
        "UpdateFirmware",
        "CertificateSigned",
        "DeleteCertificate",
        "ExtendedTriggerMessage",
        "GetInstalledCertificateIds",
        "GetLog",
        "InstallCertificate",
        "SignedUpdateFirmware",
    }
)


def raw_request(command: cmd.RawCall) -> Any:
    """The CALL payload of a raw call; ValueError when action or fields are not OCPP 1.6."""
    if command.action not in CENTRAL_SYSTEM_ACTIONS:
        known = ", ".join(sorted(CENTRAL_SYSTEM_ACTIONS))
        raise ValueError(f"{command.action!r} is not sent by a central system (one of {known})")
    try:
        return getattr(call, command.action)(**camel_to_snake_case(command.payload))
    except TypeError as exc:  # missing or unknown fields
        raise ValueError(f"{command.action}: {exc}") from None


def raw_result(response: Any) -> cmd.CommandResult:
    """A charger's answer as the wire payload (camelCase), its status word kept."""
    payload = snake_to_camel_case(remove_nones(serialize_as_dict(response)))
    status = str(payload.get("status", "Answered"))
    positive = status in ("Accepted", "Answered") or status in _POSITIVE
    outcome = cmd.Outcome.ACCEPTED if positive else cmd.Outcome.REJECTED
    return cmd.CommandResult(outcome, status, payload=payload)


def request_for(command: cmd.Command) -> Any:
    """The OCPP 1.6 CALL payload for an operator command."""
    match command:
        case cmd.RawCall():
            return raw_request(command)
        case cmd.UpdateFirmware():
            return call.UpdateFirmware(
                location=command.location,
                retrieve_date=to_wire(command.retrieve_date),
                retries=command.retries,
                retry_interval=command.retry_interval_s,
            )
        case cmd.GetDiagnostics():
            return call.GetDiagnostics(
                location=command.location,
                start_time=None if command.start_time is None else to_wire(command.start_time),
                stop_time=None if command.stop_time is None else to_wire(command.stop_time),
                retries=command.retries,
                retry_interval=command.retry_interval_s,
            )
        case cmd.RemoteStart():
            return call.RemoteStartTransaction(
                id_tag=command.id_tag, connector_id=command.connector_id
            )
        case cmd.RemoteStop():
            return call.RemoteStopTransaction(transaction_id=command.transaction_id)
        case cmd.Reset():
            return call.Reset(type=ResetType(command.kind.value))
        case cmd.UnlockConnector():
            return call.UnlockConnector(connector_id=command.connector_id)
        case cmd.ChangeAvailability():
            return call.ChangeAvailability(
                connector_id=command.connector_id, type=AvailabilityType(command.kind.value)
            )
        case cmd.GetConfiguration():
            return call.GetConfiguration(key=list(command.keys) or None)
        case cmd.ChangeConfiguration():
            return call.ChangeConfiguration(key=command.key, value=command.value)
        case cmd.ClearCache():
            return call.ClearCache()
        case cmd.TriggerMessage():
            return call.TriggerMessage(
                requested_message=MessageTrigger(command.message.value),
                connector_id=command.connector_id,
            )
        case cmd.DataTransfer():
            return call.DataTransfer(
                vendor_id=command.vendor_id, message_id=command.message_id, data=command.data
            )
        case cmd.CancelReservation():
            return call.CancelReservation(reservation_id=command.reservation_id)
        case cmd.GetLocalListVersion():
            return call.GetLocalListVersion()
        case cmd.SetChargingProfile():
            return call.SetChargingProfile(
                connector_id=command.connector_id, cs_charging_profiles=command.profile.to_wire()
            )
        case cmd.ClearChargingProfile():
            return call.ClearChargingProfile(
                id=command.profile_id,
                connector_id=command.connector_id,
                charging_profile_purpose=command.purpose,
                stack_level=command.stack_level,
            )
        case cmd.GetCompositeSchedule():
            return call.GetCompositeSchedule(
                connector_id=command.connector_id,
                duration=command.duration_s,
                charging_rate_unit=command.unit,
            )
    raise ValueError(f"{type(command).__name__} is not an OCPP 1.6 request")


def reserve_now_request(command: cmd.ReserveNow, reservation_id: int) -> call.ReserveNow:
    """ReserveNow with the id the central system allocated; the expiry in UTC."""
    return call.ReserveNow(
        connector_id=command.connector_id,
        expiry_date=to_wire(command.expiry),
        id_tag=command.id_tag,
        reservation_id=reservation_id,
        parent_id_tag=command.parent_id_tag,
    )


def composite_answer(response: Any) -> tuple[str, datetime | None, ChargingSchedule | None]:
    """Status, scheduleStart and chargingSchedule of a GetCompositeSchedule answer."""
    start = response.schedule_start
    schedule = response.charging_schedule
    return (
        str(response.status),
        None if start is None else from_wire(start),
        None if schedule is None else ChargingSchedule.from_wire(snake_to_camel_case(schedule)),
    )


# Answers that mean the charger did what was asked (besides "Accepted").
_POSITIVE = {"Unlocked", "Scheduled", "RebootRequired"}


def result_of(command: cmd.Command, response: Any) -> cmd.CommandResult:
    """Map a charger's answer to a CommandResult, keeping its own status word."""
    if isinstance(command, cmd.RawCall):
        return raw_result(response)
    if isinstance(command, cmd.UpdateFirmware):  # UpdateFirmware.conf has no status
        return cmd.CommandResult(cmd.Outcome.ACCEPTED, "Accepted")
    if isinstance(command, cmd.GetDiagnostics):  # no file name: nothing to upload
        return cmd.CommandResult(cmd.Outcome.ACCEPTED, "Accepted", payload=response.file_name)
    if isinstance(command, cmd.GetConfiguration):
        configuration = {
            "keys": response.configuration_key or [],
            "unknown": response.unknown_key or [],
        }
        return cmd.CommandResult(cmd.Outcome.ACCEPTED, "Accepted", payload=configuration)
    if isinstance(command, cmd.GetLocalListVersion):
        return cmd.CommandResult(cmd.Outcome.ACCEPTED, "Accepted", payload=response.list_version)
    if isinstance(command, cmd.DataTransfer):
        status = str(response.status)
        outcome = cmd.Outcome.ACCEPTED if status == "Accepted" else cmd.Outcome.REJECTED
        return cmd.CommandResult(outcome, status, payload=response.data)
    status = str(response.status)
    positive = status == "Accepted" or status in _POSITIVE
    outcome = cmd.Outcome.ACCEPTED if positive else cmd.Outcome.REJECTED
    return cmd.CommandResult(outcome, status)
