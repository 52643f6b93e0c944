"""The alarm engine in a real engine: a scripted OCPP 1.6 charge point over a loopback
WebSocket, the real archive (journal) and the command router (acknowledge, shelve)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from ocpp.v16 import ChargePoint, call
from support import wait_until
from websockets.asyncio.client import connect

from evsuper.alarms.journal import JournalFilter, query_journal
from evsuper.alarms.model import (
    ALARM_PREFIX,
    SUMMARY_TAG,
    AlarmRecord,
    AlarmState,
    Category,
    ConditionKind,
    Priority,
    Transition,
)
from evsuper.alarms.notify import FAILING_TAG, LAST_ERROR_TAG
from evsuper.core.domain import ArchiveState
from evsuper.core.tags import Sample
from evsuper.core.timeutil import to_wire, utcnow
from evsuper.engine import commands as cmd
from evsuper.engine.runtime import Engine
from evsuper.project.model import AlarmSetting, UnknownChargerPolicy
from evsuper.users.audit import AuditFilter, AuditKind, query_audit
from evsuper.users.permissions import Actor, Origin, Role

MAX = Actor("max", Role.MAINTENANCE, Origin.HMI)
VIC = Actor("vic", Role.VIEWER, Origin.HMI)
FAULT_KEY = "connector-faulted:CP-001/C1/GroundFailure"


class ScriptedCharger(ChargePoint):
    async def boot(self) -> None:
        await self.call(call.BootNotification(charge_point_model="T1", charge_point_vendor="Test"))

    async def status(self, connector_id: int, status: str, error_code: str = "NoError") -> None:
        await self.call(
            call.StatusNotification(
                connector_id=connector_id, error_code=error_code, status=status, info="E42"
            )
        )


@pytest.fixture
async def engine(make_project: Any) -> AsyncIterator[Engine]:
    project = make_project(bollards=2, unknown_chargers=UnknownChargerPolicy.REJECT)
    alarms = (
        AlarmSetting(id="comm-lost", on_delay_s=0.0),
        AlarmSetting(id="archive-unreachable", on_delay_s=0.3),
        AlarmSetting(id="meter-stale", limit=0.5),
        AlarmSetting(
            id="soc-high",
            condition=ConditionKind.LIMIT_HIGH,
            priority=Priority.LOW,
            category=Category.PROCESS,
            message="{source} at {value} %, above {limit} %",
            tag="soc",
            limit=90.0,
            deadband=2.0,
        ),
    )
    engine = Engine(dataclasses.replace(project, alarms=alarms), run_simulator=False, ocpp_port=0)
    await engine.start()
    yield engine
    await engine.stop()


@asynccontextmanager
async def charger(engine: Engine, charger_id: str = "CP-001") -> AsyncIterator[ScriptedCharger]:
    url = engine.central.url_for(charger_id)
    async with connect(url, subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        cp = ScriptedCharger(charger_id, ws, response_timeout=5)
        task = asyncio.create_task(cp.start())
        try:
            await cp.boot()
            yield cp
        finally:
            task.cancel()


def record(engine: Engine, key: str) -> AlarmRecord | None:
    value: AlarmRecord | None = engine.bus.value(ALARM_PREFIX + key)
    return value


async def journal(engine: Engine, **where: Any) -> list[tuple[str, Transition, AlarmState, str]]:
    await engine.archive.run_durable(lambda connection: None)
    entries = query_journal(engine.archive.engine, JournalFilter(**where))
    return [(e.key, e.transition, e.state, e.user) for e in reversed(entries)]


async def test_fault_acknowledged_then_returned_leaves_the_list(engine: Engine) -> None:
    async with charger(engine) as cp:
        await cp.status(1, "Faulted", "GroundFailure")
        alarm = await wait_until(lambda: record(engine, FAULT_KEY))
        assert alarm.state is AlarmState.UNACKNOWLEDGED and alarm.priority is Priority.HIGH
        assert alarm.message == "CP-001 connector 1 faulted: GroundFailure (E42)"
        assert alarm.charger_id == "CP-001"
        charger_alarm = await wait_until(lambda: engine.bus.value("CP-001/alarm"))
        assert charger_alarm.unacknowledged and charger_alarm.priority is Priority.HIGH
        summary = await wait_until(
            lambda: (s := engine.bus.value(SUMMARY_TAG)) and s.total_unacknowledged and s
        )
        assert summary.unacknowledged[Priority.HIGH] == 1

        refused = await engine.router.execute(
            cmd.AcknowledgeAlarms(alarm_keys=(FAULT_KEY,), actor=VIC)
        )
        assert refused.status == "PermissionDenied"
        ack = cmd.AcknowledgeAlarms(
            charger_id="CP-001", alarm_keys=(FAULT_KEY,), comment="on my way", actor=MAX
        )
        result = await engine.router.execute(ack)
        assert result.ok and result.detail == "1 alarm"
        # durable before shown: the journal already holds the acknowledgement
        rows = query_journal(
            engine.archive.engine, JournalFilter(transitions=frozenset({Transition.ACKNOWLEDGED}))
        )
        assert [(r.key, r.user, r.comment) for r in rows] == [(FAULT_KEY, "max", "on my way")]
        acked = record(engine, FAULT_KEY)
        assert acked is not None and acked.state is AlarmState.ACKNOWLEDGED
        assert (acked.acknowledged_by, acked.comment) == ("max", "on my way")

        await cp.status(1, "Available")
        await wait_until(lambda: record(engine, FAULT_KEY) is None)
        await wait_until(lambda: engine.bus.value("CP-001/alarm") is None)
    await wait_until(lambda: record(engine, "comm-lost:CP-001"))  # the charger went away
    assert await journal(engine, charger_id="CP-001") == [
        (FAULT_KEY, Transition.ACTIVATED, AlarmState.UNACKNOWLEDGED, ""),
        (FAULT_KEY, Transition.ACKNOWLEDGED, AlarmState.ACKNOWLEDGED, "max"),
        (FAULT_KEY, Transition.RETURNED, AlarmState.NORMAL, ""),
        ("comm-lost:CP-001", Transition.ACTIVATED, AlarmState.UNACKNOWLEDGED, ""),
    ]
    await engine.archive.run_durable(lambda connection: None)
    audit = query_audit(engine.archive.engine, AuditFilter(user="max"))
    assert [(a.kind, a.action, a.target) for a in audit] == [
        (AuditKind.ALARM_ACKNOWLEDGE, "AcknowledgeAlarms", "CP-001")
    ]


async def test_a_new_error_code_is_a_new_alarm(engine: Engine) -> None:
    async with charger(engine) as cp:
        await cp.status(1, "Faulted", "GroundFailure")
        await wait_until(lambda: record(engine, FAULT_KEY))
        await cp.status(1, "Faulted", "HighTemperature")
        hot = "connector-faulted:CP-001/C1/HighTemperature"
        await wait_until(lambda: record(engine, hot))
        ground = await wait_until(lambda: (r := record(engine, FAULT_KEY)) and not r.active and r)
        assert ground.state is AlarmState.RTN_UNACKNOWLEDGED  # still to be acknowledged


async def test_communication_loss_suppresses_the_chargers_other_alarms(engine: Engine) -> None:
    async with charger(engine) as cp:
        await cp.status(1, "Faulted", "GroundFailure")
        await wait_until(lambda: record(engine, FAULT_KEY))
    comm = await wait_until(lambda: record(engine, "comm-lost:CP-001"))
    assert (
        comm.state is AlarmState.UNACKNOWLEDGED and comm.message == "Communication lost with CP-001"
    )
    fault = await wait_until(
        lambda: (r := record(engine, FAULT_KEY)) and r.state is AlarmState.SUPPRESSED and r
    )
    assert fault.suppressed_by == "comm-lost:CP-001"
    async with charger(engine):
        back = await wait_until(
            lambda: (r := record(engine, FAULT_KEY)) and r.state is not AlarmState.SUPPRESSED and r
        )
        assert back.state is AlarmState.UNACKNOWLEDGED
        comm_back = await wait_until(
            lambda: (r := record(engine, "comm-lost:CP-001")) and not r.active and r
        )
        assert comm_back.state is AlarmState.RTN_UNACKNOWLEDGED


async def test_a_security_event_stands_until_acknowledged(engine: Engine) -> None:
    engine.central.anomaly("CP-002", "security-auth-failed", "wrong password (from 127.0.0.1)")
    key = "security-event:CP-002"
    alarm = await wait_until(lambda: record(engine, key))
    assert alarm.state is AlarmState.RTN_UNACKNOWLEDGED and not alarm.active
    assert "security-auth-failed: wrong password" in alarm.message
    await engine.router.execute(cmd.AcknowledgeAlarms(alarm_keys=(key,), actor=MAX))
    await wait_until(lambda: record(engine, key) is None)


async def test_limit_alarm_with_deadband_on_any_tag(engine: Engine) -> None:
    key = "soc-high:CP-001/C1/soc"
    engine.bus.publish("CP-001/C1/soc", Sample(95.0))
    alarm = await wait_until(lambda: record(engine, key))
    assert alarm.message == "CP-001/C1/soc at 95 %, above 90 %" and alarm.priority is Priority.LOW
    engine.bus.publish("CP-001/C1/soc", Sample(89.0))  # inside the limit, not the deadband
    engine.bus.publish("CP-001/C1/soc", Sample(88.5))
    assert (r := record(engine, key)) is not None and r.active
    engine.bus.publish("CP-001/C1/soc", Sample(87.9))
    cleared = await wait_until(lambda: (r := record(engine, key)) and not r.active and r)
    assert cleared.value == "87.9"


async def test_timed_shelving_expires_and_shelving_needs_a_reason(engine: Engine) -> None:
    engine.bus.publish("CP-001/C1/soc", Sample(99.0))
    key = "soc-high:CP-001/C1/soc"
    await wait_until(lambda: record(engine, key))
    no_reason = await engine.router.execute(
        cmd.ShelveAlarms(alarm_keys=(key,), duration_s=1.0, actor=MAX)
    )
    assert no_reason.status == "InvalidRequest"
    shelve = cmd.ShelveAlarms(alarm_keys=(key,), duration_s=1.0, comment="sensor test", actor=MAX)
    assert (await engine.router.execute(shelve)).ok
    shelved = record(engine, key)
    assert shelved is not None and shelved.state is AlarmState.SHELVED
    assert shelved.shelved_by == "max" and shelved.comment == "sensor test"
    back = await wait_until(
        lambda: (r := record(engine, key)) and r.state is AlarmState.UNACKNOWLEDGED and r,
        within=5,
    )
    assert not back.shelved
    transitions = [t for _, t, _, _ in await journal(engine)]
    assert transitions == [Transition.ACTIVATED, Transition.SHELVED, Transition.UNSHELVED]


async def test_on_delay_ignores_a_short_flap(make_project: Any) -> None:
    project = dataclasses.replace(
        make_project(bollards=1), alarms=(AlarmSetting(id="comm-lost", on_delay_s=0.5),)
    )
    engine = Engine(project, run_simulator=False, ocpp_port=0)
    await engine.start()
    try:
        async with charger(engine):
            pass
        async with charger(engine):  # back (booted) within the delay: no alarm
            pass
        assert record(engine, "comm-lost:CP-001") is None
        await wait_until(lambda: record(engine, "comm-lost:CP-001"), within=5)
    finally:
        await engine.stop()


async def test_negative_energy_is_a_transaction_anomaly(engine: Engine) -> None:
    async with charger(engine) as cp:
        started = await cp.call(
            call.StartTransaction(
                connector_id=1, id_tag="BADGE-0001", meter_start=5000, timestamp=to_wire(utcnow())
            )
        )
        await cp.call(
            call.StopTransaction(
                transaction_id=started.transaction_id, meter_stop=4200, timestamp=to_wire(utcnow())
            )
        )
        alarm = await wait_until(lambda: record(engine, "transaction-anomaly:CP-001"))
    assert alarm.state is AlarmState.RTN_UNACKNOWLEDGED
    assert "meterStop 4200 Wh is below meterStart, energy -800 Wh" in alarm.message


async def test_failing_notifications_and_archive_raise_system_alarms(engine: Engine) -> None:
    engine.bus.publish(LAST_ERROR_TAG, Sample("smtp.example.org: connection refused"))
    engine.bus.publish(FAILING_TAG, Sample(True))
    alarm = await wait_until(lambda: record(engine, "notification-failed:_system"))
    assert alarm.charger_id is None and alarm.priority is Priority.MEDIUM
    assert (
        alarm.message == "Alarm notifications cannot be sent: smtp.example.org: connection refused"
    )
    engine.bus.publish(FAILING_TAG, Sample(False))
    await wait_until(lambda: (r := record(engine, "notification-failed:_system")) and not r.active)
    engine.bus.publish("_system/disk/free_percent", Sample(3.5))
    disk = await wait_until(lambda: record(engine, "disk-nearly-full:_system"))
    assert disk.message == "Disk of the archive nearly full: 3.5 % free (below 5 %)"
    engine.bus.publish("_system/archive/backlog", Sample(12000))
    engine.bus.publish("_system/archive/state", Sample(ArchiveState.ERROR))
    assert record(engine, "archive-unreachable:_system") is None  # on-delay 0.3 s
    down = await wait_until(lambda: record(engine, "archive-unreachable:_system"))
    assert down.priority is Priority.CRITICAL


async def test_charging_without_meter_values_is_stale_until_they_come(engine: Engine) -> None:
    key = "meter-stale:CP-001/C1"
    async with charger(engine) as cp:
        await cp.status(1, "Charging")
        alarm = await wait_until(lambda: record(engine, key))  # after 0.5 s and a tick
        assert alarm.active and alarm.message == (
            "CP-001 connector 1 charging without meter values for 0.5 s"
        )
        await cp.call(
            call.MeterValues(
                connector_id=1,
                meter_value=[
                    {"timestamp": to_wire(utcnow()), "sampled_value": [{"value": "7400"}]}
                ],
            )
        )
        cleared = await wait_until(lambda: (r := record(engine, key)) and not r.active and r)
        assert cleared.state is AlarmState.RTN_UNACKNOWLEDGED
