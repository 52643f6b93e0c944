"""A Modbus wallbox seen as a charger: its points ↔ the standard charger and connector tags.

A device bound to a charger (``[[chargers]] protocol = "modbus", device = ...``) publishes
the points below under the charger's own tags, with OCPP-like values, so the overview, the
faceplate, the alarms and the charging service treat it like any bollard; its other points
keep ``<prefix>/<point>``. The wallbox has one connector (``C1``).

| point (``ev-charger`` profile) | tag                                  |
|--------------------------------|--------------------------------------|
| ``status`` (code)              | ``<id>/C1/status`` (ConnectorStatus) |
| ``error_code`` (number)        | ``<id>/C1/error_code`` + ``error_info`` |
| ``power_kw``                   | ``<id>/C1/power_kw``                 |
| ``session_energy_kwh``         | ``<id>/C1/energy_kwh``               |
| ``current_limit_a`` (writable) | ``<id>/C1/current_limit_a``          |
| ``serial``, ``firmware``       | ``<id>/serial``, ``<id>/firmware``   |

``<id>/comm`` is derived from the quality of the status point: online while the device
answers, offline on a communication failure or when the device is stopped or disabled;
``<id>/last_seen`` is the time of its last answer, published when comm changes.
"""

from __future__ import annotations

from datetime import datetime

from evsuper.core.domain import CommState, ConnectorStatus
from evsuper.core.tags import (
    ChargerTag,
    ConnectorTag,
    Quality,
    Sample,
    TagPath,
    charger_tag,
    connector_tag,
)
from evsuper.drivers.base import Publish

CONNECTOR = 1
CURRENT_LIMIT = "current_limit_a"  # the connector tag the charging service writes

# status register codes of the ev-charger profile
STATUS_CODES = {
    1: ConnectorStatus.AVAILABLE,
    2: ConnectorStatus.PREPARING,
    3: ConnectorStatus.CHARGING,
    4: ConnectorStatus.SUSPENDED_EVSE,  # limit below 6 A or charging disabled
    5: ConnectorStatus.FINISHING,
    9: ConnectorStatus.FAULTED,
}
NO_ERROR = "NoError"  # OCPP ChargePointErrorCode of error register 0
OTHER_ERROR = "OtherError"  # of any other value; error_info gives the number

_CONNECTOR_POINTS = {
    "status": ConnectorTag.STATUS.value,
    "error_code": ConnectorTag.ERROR_CODE.value,
    "power_kw": ConnectorTag.POWER_KW.value,
    "session_energy_kwh": ConnectorTag.ENERGY_KWH.value,
    CURRENT_LIMIT: CURRENT_LIMIT,
}
_CHARGER_POINTS = {"serial": ChargerTag.SERIAL.value, "firmware": ChargerTag.FIRMWARE.value}
REQUIRED_POINT = "status"  # a bound device needs it: the charger's comm follows it


def point_tag(charger_id: str, point: str, prefix: str) -> TagPath:
    """The tag of profile point ``point`` of a device bound to ``charger_id``."""
    if point in _CONNECTOR_POINTS:
        return connector_tag(charger_id, CONNECTOR, _CONNECTOR_POINTS[point])
    if point in _CHARGER_POINTS:
        return charger_tag(charger_id, _CHARGER_POINTS[point])
    return f"{prefix}/{point}"


def connector_status(code: object) -> ConnectorStatus | None:
    """The ConnectorStatus of a status register value (None: unknown code)."""
    return STATUS_CODES.get(code) if isinstance(code, int) else None


class ChargerMapping:
    """Stands between a bound device and the bus: converts status and error codes,
    derives ``comm`` and ``error_info``."""

    def __init__(self, charger_id: str, publish: Publish) -> None:
        self.charger_id = charger_id
        self._publish = publish
        self._status = connector_tag(charger_id, CONNECTOR, ConnectorTag.STATUS)
        self._error = connector_tag(charger_id, CONNECTOR, ConnectorTag.ERROR_CODE)
        self._info = connector_tag(charger_id, CONNECTOR, ConnectorTag.ERROR_INFO)
        self._comm = charger_tag(charger_id, ChargerTag.COMM)
        self._last_seen = charger_tag(charger_id, ChargerTag.LAST_SEEN)
        self._online: bool | None = None
        self._answered: datetime | None = None  # ts of the last status read

    def derived_tags(self) -> list[TagPath]:
        """Tags published beside the points."""
        return [self._comm, self._last_seen, self._info]

    def start(self) -> None:
        self._online = None
        self._publish(self._comm, Sample(CommState.UNKNOWN))

    def publish(self, tag: TagPath, sample: Sample) -> None:
        if tag == self._status:
            status = connector_status(sample.value)
            quality = sample.quality
            if status is None and sample.value is not None:
                status, quality = ConnectorStatus.UNAVAILABLE, Quality.UNCERTAIN
            self._publish(tag, Sample(status, sample.ts, quality))
            self._set_comm(sample)
        elif tag == self._error:
            code = sample.value
            if isinstance(code, int):
                error, info = (NO_ERROR, None) if code == 0 else (OTHER_ERROR, f"code {code}")
                self._publish(self._info, Sample(info, sample.ts, sample.quality))
            else:
                error = None
            self._publish(tag, Sample(error, sample.ts, sample.quality))
        else:
            self._publish(tag, sample)

    def _set_comm(self, sample: Sample) -> None:
        online = sample.quality not in (Quality.COMM_FAILURE, Quality.NOT_CONNECTED)
        if online:
            self._answered = sample.ts
        if online != self._online:
            self._online = online
            if self._answered is not None:
                self._publish(self._last_seen, Sample(self._answered, sample.ts))
            state = CommState.ONLINE if online else CommState.OFFLINE
            self._publish(self._comm, Sample(state, sample.ts))
