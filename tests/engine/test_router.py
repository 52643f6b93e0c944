"""The command router on a real engine: permissions, confirmations, and the audit trail."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from support import ADMIN, as_admin, wait_until

from evsuper.charging.profiles import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    SchedulePeriod,
)
from evsuper.core.domain import ConnectorStatus
from evsuper.core.timeutil import utcnow
from evsuper.engine import commands as cmd
from evsuper.engine.runtime import Engine
from evsuper.users.audit import AuditEntry, AuditFilter, AuditKind, query_audit
from evsuper.users.permissions import Actor, Origin, Role

VIEWER = Actor("vic", Role.VIEWER, Origin.HMI)
OPERATOR = Actor("olivia", Role.OPERATOR, Origin.HMI)


@pytest.fixture
async def engine(make_project: Any) -> AsyncIterator[Engine]:
    engine = Engine(make_project(bollards=2), ocpp_port=0)
    await engine.start()
    await wait_until(lambda: engine.bus.value("CP-002/C1/status") is ConnectorStatus.AVAILABLE)
    yield engine
    await engine.stop()


async def audit_trail(engine: Engine, **where: Any) -> list[AuditEntry]:
    await engine.archive.run_durable(lambda connection: None)  # what was queued is written
    return list(reversed(query_audit(engine.archive.engine, AuditFilter(**where))))


async def test_a_viewers_remote_stop_is_refused_and_audited(engine: Engine) -> None:
    stop = cmd.RemoteStop(charger_id="CP-001", transaction_id=1, actor=VIEWER)
    result = await engine.router.execute(stop)
    assert (result.outcome, result.status) == (cmd.Outcome.DENIED, "PermissionDenied")
    assert "vic (viewer) may not: control-charging" in result.detail
    (entry,) = await audit_trail(engine, user="vic")
    assert (entry.kind, entry.action, entry.target, entry.result) == (
        AuditKind.PERMISSION_DENIED,
        "RemoteStop",
        "CP-001",
        "Denied",
    )
    assert entry.parameters == {"transaction_id": 1, "confirmed": False}
    assert entry.actor == VIEWER


async def test_an_operator_may_start_but_not_reset(engine: Engine) -> None:
    start = cmd.RemoteStart(
        charger_id="CP-002", connector_id=1, id_tag="BADGE-0001", actor=OPERATOR
    )
    assert (await engine.router.execute(start)).ok
    reset = cmd.Reset(charger_id="CP-002", actor=OPERATOR)
    assert (await engine.router.execute(reset)).status == "PermissionDenied"
    entries = await audit_trail(engine, user="olivia")
    assert [(e.kind, e.action, e.result) for e in entries] == [
        (AuditKind.COMMAND, "RemoteStart", "Accepted"),
        (AuditKind.PERMISSION_DENIED, "Reset", "Denied"),
    ]


async def test_a_dangerous_command_without_confirmation_is_not_sent(engine: Engine) -> None:
    maintenance = Actor("max", Role.MAINTENANCE, Origin.HMI)
    hard = cmd.Reset(charger_id="CP-001", kind=cmd.ResetKind.HARD, actor=maintenance)
    refused = await engine.router.execute(hard)
    assert (refused.outcome, refused.status) == (cmd.Outcome.DENIED, "ConfirmationRequired")
    assert engine.bus.value("CP-001/comm").value == "online"  # nothing reached the charger
    done = await engine.router.execute(dataclasses.replace(hard, confirmed=True))
    assert done.ok
    entries = await audit_trail(engine, user="max")
    assert [(e.result, e.parameters["confirmed"]) for e in entries] == [
        ("Denied", False),
        ("Accepted", True),
    ]


def one_of_each_command() -> list[cmd.Command]:
    """Every command kind, for CP-001 (a real simulated bollard)."""
    profile = ChargingProfile(
        profile_id=5,
        stack_level=1,
        purpose=ChargingProfilePurpose.TX_DEFAULT,
        kind=ChargingProfileKind.ABSOLUTE,
        schedule=ChargingSchedule(
            unit=ChargingRateUnit.AMPS, periods=(SchedulePeriod(0, 16.0),), start=utcnow()
        ),
    )
    c = "CP-001"
    return [
        cmd.GetConfiguration(charger_id=c),
        cmd.ChangeConfiguration(charger_id=c, key="MeterValueSampleInterval", value="10"),
        cmd.ClearCache(charger_id=c),
        cmd.TriggerMessage(charger_id=c, message=cmd.TriggerableMessage.HEARTBEAT),
        cmd.DataTransfer(charger_id=c, vendor_id="evsuper.test"),
        cmd.GetLocalListVersion(charger_id=c),
        cmd.SendLocalList(charger_id=c),
        cmd.SetChargingProfile(charger_id=c, connector_id=1, profile=profile),
        cmd.GetCompositeSchedule(charger_id=c, connector_id=1, duration_s=600),
        cmd.ClearChargingProfile(charger_id=c, profile_id=5),
        cmd.ReserveNow(
            charger_id=c, connector_id=2, id_tag="BADGE-0001", expiry=utcnow() + timedelta(hours=1)
        ),
        cmd.CancelReservation(charger_id=c, reservation_id=1),
        cmd.RemoteStart(charger_id=c, connector_id=1, id_tag="BADGE-0001"),
        cmd.RemoteStop(charger_id=c, transaction_id=999),
        cmd.ChangeAvailability(charger_id=c, connector_id=2, kind=cmd.AvailabilityKind.INOPERATIVE),
        cmd.UnlockConnector(charger_id=c, connector_id=2),
        cmd.GetDiagnostics(charger_id=c, location="http://127.0.0.1:9/diagnostics/"),
        cmd.RawCall(charger_id=c, action="GetConfiguration", payload={}),
        cmd.AcceptCharger(charger_id=c),
        cmd.UpdateFirmware(
            charger_id=c, location="http://127.0.0.1:9/firmware/x.bin", retrieve_date=utcnow()
        ),
        cmd.Reset(charger_id=c),
    ]


async def test_every_command_kind_is_audited_with_its_parameters(engine: Engine) -> None:
    commands = one_of_each_command()
    kinds = {type(c) for c in commands}
    # RestoreProjectVersion: tests/engine/test_restore_project_version.py
    # SaveLayout: tests/engine/test_save_layout.py
    # SaveProfileLibrary: tests/engine/test_profile_library.py
    # SetChargingMode, SetSiteLimit, SetManualLimit, SetSessionNeed: tests/charging/test_service.py
    # PlanSession, CancelPlannedSession: tests/engine/test_planning_target.py
    # WriteTag, SetDeviceEnabled: tests/drivers/test_manager.py
    # BindOpcUaPoints: tests/engine/test_device_points_target.py
    not_charger = {
        cmd.AlarmCommand,
        cmd.RestoreProjectVersion,
        cmd.SaveLayout,
        cmd.SaveProfileLibrary,
        cmd.SetChargingMode,
        cmd.SetSiteLimit,
        cmd.SetManualLimit,
        cmd.SetSessionNeed,
        cmd.PlanSession,
        cmd.CancelPlannedSession,
        cmd.WriteTag,
        cmd.SetDeviceEnabled,
        cmd.BindOpcUaPoints,
    }
    charger_commands = set(cmd.Command.__subclasses__()) - not_charger
    assert kinds == charger_commands and len(commands) == len(kinds)
    results = [await engine.router.execute(as_admin(c)) for c in commands]
    entries = await audit_trail(engine, user=ADMIN.user)
    assert [e.action for e in entries] == [type(c).__name__ for c in commands]
    for command, result, entry in zip(commands, results, entries, strict=True):
        project = isinstance(command, cmd.AcceptCharger)
        assert entry.kind is (AuditKind.PROJECT_CHANGE if project else AuditKind.COMMAND)
        assert entry.target == "CP-001"
        assert entry.result == result.outcome.value
        assert entry.detail.startswith(result.status)
        assert entry.ts == command.issued_at
    by_action = {e.action: e for e in entries}
    assert by_action["ChangeConfiguration"].parameters == {
        "key": "MeterValueSampleInterval",
        "value": "10",
        "confirmed": True,
    }
    schedule = by_action["SetChargingProfile"].parameters["profile"]["schedule"]
    assert schedule["unit"] == "A" and schedule["periods"][0]["limit"] == 16.0
    assert by_action["ReserveNow"].parameters["expiry"].endswith("Z")
