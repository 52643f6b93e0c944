"""A simulated charge point's configuration keys (GetConfiguration, ChangeConfiguration)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum, auto
from typing import Any

HEARTBEAT_INTERVAL = "HeartbeatInterval"
METER_VALUE_SAMPLE_INTERVAL = "MeterValueSampleInterval"
METER_VALUES_SAMPLED_DATA = "MeterValuesSampledData"
STOP_TXN_SAMPLED_DATA = "StopTxnSampledData"
AUTHORIZE_REMOTE_TX_REQUESTS = "AuthorizeRemoteTxRequests"
STOP_TRANSACTION_ON_INVALID_ID = "StopTransactionOnInvalidId"
LOCAL_AUTH_LIST_ENABLED = "LocalAuthListEnabled"
LOCAL_AUTH_LIST_MAX_LENGTH = "LocalAuthListMaxLength"
SEND_LOCAL_LIST_MAX_LENGTH = "SendLocalListMaxLength"
LOCAL_AUTHORIZE_OFFLINE = "LocalAuthorizeOffline"
LOCAL_PRE_AUTHORIZE = "LocalPreAuthorize"

# What the simulated meter can measure, in the order it reports them.
MEASURANDS = (
    "Energy.Active.Import.Register",
    "Power.Active.Import",
    "Current.Import",
    "Voltage",
    "SoC",
)
MAX_CHARGING_PROFILES = 16
MAX_LOCAL_LIST_LENGTH = 100  # entries held, and entries in one SendLocalList


class Kind(Enum):
    NUMBER = auto()  # seconds, counts: a number >= 0
    BOOL = auto()
    MEASURANDS = auto()  # comma-separated list of MEASURANDS
    TEXT = auto()


@dataclass(slots=True)
class _Entry:
    key: str
    value: str
    kind: Kind
    readonly: bool = False


def _number(value: float) -> str:
    return f"{value:g}"


class Configuration:
    """The key/value table; the values the bollard acts on have typed accessors."""

    def __init__(self, *, connectors: int, heartbeat_interval_s: float, meter_interval_s: float):
        sampled = ",".join(MEASURANDS)
        entries = [
            _Entry("AllowOfflineTxForUnknownId", "false", Kind.BOOL),
            _Entry("AuthorizationCacheEnabled", "false", Kind.BOOL),
            _Entry(AUTHORIZE_REMOTE_TX_REQUESTS, "false", Kind.BOOL),
            _Entry("ChargeProfileMaxStackLevel", "8", Kind.NUMBER, readonly=True),
            _Entry("ChargingScheduleAllowedChargingRateUnit", "Current,Power", Kind.TEXT, True),
            _Entry("ChargingScheduleMaxPeriods", "24", Kind.NUMBER, readonly=True),
            _Entry("ClockAlignedDataInterval", "0", Kind.NUMBER),
            _Entry("ConnectionTimeOut", "60", Kind.NUMBER),
            _Entry("GetConfigurationMaxKeys", "50", Kind.NUMBER, readonly=True),
            _Entry(HEARTBEAT_INTERVAL, _number(heartbeat_interval_s), Kind.NUMBER),
            _Entry(LOCAL_AUTH_LIST_ENABLED, "true", Kind.BOOL),
            _Entry(LOCAL_AUTH_LIST_MAX_LENGTH, str(MAX_LOCAL_LIST_LENGTH), Kind.NUMBER, True),
            _Entry(LOCAL_AUTHORIZE_OFFLINE, "false", Kind.BOOL),
            _Entry(LOCAL_PRE_AUTHORIZE, "false", Kind.BOOL),
            _Entry("MaxChargingProfilesInstalled", str(MAX_CHARGING_PROFILES), Kind.NUMBER, True),
            _Entry("MeterValuesAlignedData", MEASURANDS[0], Kind.MEASURANDS),
            _Entry(METER_VALUES_SAMPLED_DATA, sampled, Kind.MEASURANDS),
            _Entry(METER_VALUE_SAMPLE_INTERVAL, _number(meter_interval_s), Kind.NUMBER),
            _Entry("NumberOfConnectors", str(connectors), Kind.NUMBER, readonly=True),
            _Entry("ResetRetries", "1", Kind.NUMBER),
            _Entry(SEND_LOCAL_LIST_MAX_LENGTH, str(MAX_LOCAL_LIST_LENGTH), Kind.NUMBER, True),
            _Entry("StopTransactionOnEVSideDisconnect", "true", Kind.BOOL),
            _Entry(STOP_TRANSACTION_ON_INVALID_ID, "true", Kind.BOOL),
            _Entry("StopTxnAlignedData", "", Kind.MEASURANDS),
            _Entry(STOP_TXN_SAMPLED_DATA, sampled, Kind.MEASURANDS),
            _Entry(
                "SupportedFeatureProfiles",
                "Core,SmartCharging,RemoteTrigger,LocalAuthListManagement",
                Kind.TEXT,
                True,
            ),
            _Entry("TransactionMessageAttempts", "3", Kind.NUMBER),
            _Entry("TransactionMessageRetryInterval", "10", Kind.NUMBER),
            _Entry("UnlockConnectorOnEVSideDisconnect", "true", Kind.BOOL),
            _Entry("WebSocketPingInterval", "0", Kind.NUMBER),
        ]
        # Keys are case-insensitive in OCPP (CiString).
        self._entries = {e.key.lower(): e for e in entries}

    def get(self, keys: Iterable[str] | None = None) -> tuple[list[dict[str, Any]], list[str]]:
        """GetConfiguration: (known keys as ``KeyValue`` dicts, unknown keys); all if no keys."""
        if not keys:
            return [self._key_value(e) for e in self._entries.values()], []
        known: list[dict[str, Any]] = []
        unknown: list[str] = []
        for key in keys:
            entry = self._entries.get(key.lower())
            if entry is None:
                unknown.append(key)
            else:
                known.append(self._key_value(entry))
        return known, unknown

    def change(self, key: str, value: str) -> str:
        """ChangeConfiguration: the OCPP ConfigurationStatus of the request."""
        entry = self._entries.get(key.lower())
        if entry is None:
            return "NotSupported"
        if entry.readonly:
            return "Rejected"
        normalised = _normalise(entry.kind, value)
        if normalised is None:
            return "Rejected"
        entry.value = normalised
        return "Accepted"

    def set_heartbeat_interval(self, seconds: float) -> None:
        """Take the interval the central system gave in its BootNotification answer."""
        self._entries[HEARTBEAT_INTERVAL.lower()].value = _number(seconds)

    def number(self, key: str) -> float:
        return float(self._entries[key.lower()].value)

    def flag(self, key: str) -> bool:
        return self._entries[key.lower()].value == "true"

    def measurands(self, key: str) -> frozenset[str]:
        return frozenset(m for m in self._entries[key.lower()].value.split(",") if m)

    @staticmethod
    def _key_value(entry: _Entry) -> dict[str, Any]:
        return {"key": entry.key, "readonly": entry.readonly, "value": entry.value}


def _normalise(kind: Kind, value: str) -> str | None:
    """The value as stored, or None if it is not valid for the key."""
    text = value.strip()
    match kind:
        case Kind.NUMBER:
            try:
                number = float(text)
            except ValueError:
                return None
            return _number(number) if math.isfinite(number) and number >= 0 else None
        case Kind.BOOL:
            lowered = text.lower()
            return lowered if lowered in ("true", "false") else None
        case Kind.MEASURANDS:
            items = [item.strip() for item in text.split(",") if item.strip()]
            return ",".join(items) if all(item in MEASURANDS for item in items) else None
        case Kind.TEXT:
            return text
