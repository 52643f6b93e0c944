"""The alarms every project gets, as data; ``[[alarms]]`` in project.toml changes them by id
(priority, delays, limits, message, enabled) or adds limit alarms on any numeric tag."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from evsuper.alarms.model import AlarmDefinition, Category, ConditionKind, Priority
from evsuper.project.model import AlarmSetting

C, P, K = ConditionKind, Priority, Category

DEFAULT_DEFINITIONS: tuple[AlarmDefinition, ...] = (
    AlarmDefinition(
        "comm-lost",
        C.COMM_LOST,
        P.HIGH,
        K.COMMUNICATION,
        "Communication lost with {charger}",
        on_delay_s=30.0,  # a reboot reconnects within this; a dead link does not
    ),
    AlarmDefinition(
        "connector-faulted",
        C.CONNECTOR_FAULTED,
        P.HIGH,
        K.CHARGER_FAULT,
        "{charger} connector {connector} faulted: {detail}",
    ),
    AlarmDefinition(
        "registration-refused",
        C.REGISTRATION_REFUSED,
        P.MEDIUM,
        K.SECURITY,
        "{charger} not accepted at boot ({value})",
    ),
    AlarmDefinition(
        "firmware-failed",
        C.FIRMWARE_FAILED,
        P.MEDIUM,
        K.FIRMWARE,
        "Firmware update of {charger} failed ({value})",
    ),
    AlarmDefinition(
        "diagnostics-failed",
        C.DIAGNOSTICS_FAILED,
        P.LOW,
        K.FIRMWARE,
        "Diagnostics upload of {charger} failed",
    ),
    AlarmDefinition(
        "security-event",
        C.SECURITY_EVENT,
        P.HIGH,
        K.SECURITY,
        "Security event on {charger}: {detail}",
    ),
    AlarmDefinition(
        "transaction-anomaly",
        C.TRANSACTION_ANOMALY,
        P.MEDIUM,
        K.CHARGER_FAULT,
        "Transaction anomaly on {charger}: {detail}",
    ),
    AlarmDefinition(
        "meter-stale",
        C.METER_STALE,
        P.MEDIUM,
        K.CHARGER_FAULT,
        "{charger} connector {connector} charging without meter values for {limit} s",
        limit=300.0,
    ),
    AlarmDefinition(
        "connector-power-high",
        C.CONNECTOR_POWER_HIGH,
        P.MEDIUM,
        K.ENERGY,
        "{charger} connector {connector} power {value} kW above its {limit} kW",
        on_delay_s=10.0,
        deadband=0.5,
    ),
    AlarmDefinition(
        "archive-backlog",
        C.ARCHIVE_BACKLOG,
        P.MEDIUM,
        K.SYSTEM,
        "Archive writer backlog: {value} items waiting",
        on_delay_s=30.0,
    ),
    AlarmDefinition(
        "archive-unreachable",
        C.ARCHIVE_UNREACHABLE,
        P.CRITICAL,
        K.SYSTEM,
        "Archive database unreachable: data is kept in memory",
        on_delay_s=5.0,
    ),
    AlarmDefinition(
        "disk-nearly-full",
        C.DISK_NEARLY_FULL,
        P.HIGH,
        K.SYSTEM,
        "Disk of the archive nearly full: {value} % free (below {limit} %)",
        limit=5.0,
        deadband=1.0,
    ),
    AlarmDefinition(
        "notification-failed",
        C.NOTIFICATION_FAILED,
        P.MEDIUM,
        K.SYSTEM,
        "Alarm notifications cannot be sent: {detail}",
    ),
    AlarmDefinition(
        "report-failed",
        C.REPORT_FAILED,
        P.LOW,
        K.SYSTEM,
        "Scheduled report failed: {detail}",
    ),
)


def project_definitions(settings: Iterable[AlarmSetting]) -> list[AlarmDefinition]:
    """The defaults changed by the project's ``[[alarms]]``, then its new alarms; enabled only.

    A setting with a default's id changes the fields it gives; another id is a new alarm
    (the loader checked it gives condition, priority, category and message).
    """
    by_id = {d.id: d for d in DEFAULT_DEFINITIONS}
    for setting in settings:
        given = {
            f.name: getattr(setting, f.name)
            for f in dataclasses.fields(setting)
            if f.name != "id" and getattr(setting, f.name) is not None
        }
        base = by_id.get(setting.id)
        if base is None:
            by_id[setting.id] = AlarmDefinition(id=setting.id, **given)
        else:
            by_id[setting.id] = dataclasses.replace(base, **given)
    return [d for d in by_id.values() if d.enabled]
