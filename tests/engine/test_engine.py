"""The whole engine: central system, archive and real simulated bollards on loopback."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from support import execute_as_admin, wait_until

from evsuper.charging.profiles import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    SchedulePeriod,
)
from evsuper.core.domain import (
    ChargerBooted,
    ChargerRestored,
    CommState,
    ConnectorStatus,
    ConnectorStatusChanged,
)
from evsuper.core.timeutil import utcnow
from evsuper.engine import commands as cmd
from evsuper.engine.runtime import Engine, EngineThread


@pytest.fixture
async def engine(make_project: Any) -> AsyncIterator[Engine]:
    engine = Engine(make_project(bollards=3), ocpp_port=0)
    await engine.start()
    yield engine
    await engine.stop()


def tag(engine: Engine, path: str) -> Any:
    return engine.bus.value(path)


async def all_available(engine: Engine) -> None:
    for charger in engine.project.chargers:
        for n in range(1, charger.connectors + 1):
            await wait_until(
                lambda c=charger.id, n=n: (
                    tag(engine, f"{c}/C{n}/status") is ConnectorStatus.AVAILABLE
                )
            )


async def test_bollards_boot_and_go_available(engine: Engine) -> None:
    await all_available(engine)
    for charger in engine.project.chargers:
        assert tag(engine, f"{charger.id}/comm") is CommState.ONLINE
        assert tag(engine, f"{charger.id}/registration").value == "Accepted"
        assert tag(engine, f"{charger.id}/vendor") == charger.vendor


async def test_remote_start_stop_round_trip_ends_in_archive(engine: Engine) -> None:
    await all_available(engine)
    started = await execute_as_admin(
        engine.router, cmd.RemoteStart(charger_id="CP-002", connector_id=2, id_tag="BADGE-0002")
    )
    assert (started.outcome, started.status) == (cmd.Outcome.ACCEPTED, "Accepted")
    transaction_id = await wait_until(lambda: tag(engine, "CP-002/C2/transaction_id"))
    await wait_until(lambda: tag(engine, "CP-002/C2/status") is ConnectorStatus.CHARGING)
    await wait_until(lambda: (tag(engine, "CP-002/C2/energy_kwh") or 0) > 0)
    assert tag(engine, "CP-002/C2/power_kw") > 0
    assert tag(engine, "CP-002/C2/id_tag") == "BADGE-0002"

    stopped = await execute_as_admin(
        engine.router, cmd.RemoteStop(charger_id="CP-002", transaction_id=transaction_id)
    )
    assert stopped.ok
    await wait_until(lambda: tag(engine, "CP-002/C2/transaction_id") is None)
    await engine.archive.run_durable(lambda c: None)
    with sqlite3.connect(engine.project.directory / "archive.sqlite") as db:
        row = db.execute(
            "select charger_id, connector_id, id_tag, energy_wh, stop_reason, soc_start, soc_stop "
            "from transactions where id = ?",
            (transaction_id,),
        ).fetchone()
        samples = db.execute(
            "select count(distinct measurand) from meter_samples where transaction_id = ?",
            (transaction_id,),
        ).fetchone()[0]
    charger_id, connector_id, id_tag, energy_wh, reason, soc_start, soc_stop = row
    assert (charger_id, connector_id, id_tag, reason) == ("CP-002", 2, "BADGE-0002", "Remote")
    assert energy_wh > 0
    assert soc_start is not None and soc_stop >= soc_start
    assert samples >= 4  # energy, power, current, voltage, SoC ...


async def test_reset_round_trip(engine: Engine) -> None:
    await all_available(engine)
    boots: list[ChargerBooted] = []
    engine.bus.subscribe_events(
        lambda ev: boots.append(ev) if isinstance(ev, ChargerBooted) else None
    )
    result = await execute_as_admin(
        engine.router, cmd.Reset(charger_id="CP-001", kind=cmd.ResetKind.HARD)
    )
    assert (result.outcome, result.status) == (cmd.Outcome.ACCEPTED, "Accepted")
    await wait_until(lambda: any(b.charger_id == "CP-001" for b in boots))
    await wait_until(lambda: tag(engine, "CP-001/comm") is CommState.ONLINE)
    await wait_until(lambda: tag(engine, "CP-001/C1/status") is ConnectorStatus.AVAILABLE)


async def test_availability_and_unlock(engine: Engine) -> None:
    await all_available(engine)
    restored: list[ChargerRestored] = []
    engine.bus.subscribe_events(
        lambda ev: restored.append(ev) if isinstance(ev, ChargerRestored) else None
    )
    off = await execute_as_admin(
        engine.router,
        cmd.ChangeAvailability(
            charger_id="CP-003", connector_id=1, kind=cmd.AvailabilityKind.INOPERATIVE
        ),
    )
    assert off.ok
    await wait_until(lambda: tag(engine, "CP-003/C1/status") is ConnectorStatus.UNAVAILABLE)
    on = await execute_as_admin(
        engine.router,
        cmd.ChangeAvailability(
            charger_id="CP-003", connector_id=1, kind=cmd.AvailabilityKind.OPERATIVE
        ),
    )
    assert on.ok
    await wait_until(lambda: tag(engine, "CP-003/C1/status") is ConnectorStatus.AVAILABLE)
    unlock = await execute_as_admin(
        engine.router, cmd.UnlockConnector(charger_id="CP-003", connector_id=2)
    )
    assert (unlock.outcome, unlock.status) == (cmd.Outcome.ACCEPTED, "Unlocked")
    # the statuses the charger reported while each change was being answered were not taken
    # for contradictions of the operator's setting (a restore is sent before the unlock)
    assert restored == []
    assert tag(engine, "CP-003/C1/status") is ConnectorStatus.AVAILABLE


async def test_configuration_read_and_change(engine: Engine) -> None:
    await all_available(engine)
    read = await execute_as_admin(engine.router, cmd.GetConfiguration(charger_id="CP-001"))
    assert read.ok
    keys = {entry["key"]: entry for entry in read.payload["keys"]}
    assert "HeartbeatInterval" in keys
    changed = await execute_as_admin(
        engine.router,
        cmd.ChangeConfiguration(charger_id="CP-001", key="HeartbeatInterval", value="120"),
    )
    assert changed.ok
    missing = await execute_as_admin(
        engine.router, cmd.ChangeConfiguration(charger_id="CP-001", key="NoSuchKey", value="1")
    )
    assert (missing.outcome, missing.status) == (cmd.Outcome.REJECTED, "NotSupported")
    cleared = await execute_as_admin(engine.router, cmd.ClearCache(charger_id="CP-001"))
    assert cleared.ok
    unknown = await execute_as_admin(engine.router, cmd.Reset(charger_id="CP-404"))
    assert unknown.outcome is cmd.Outcome.ERROR


def test_engine_thread_serves_commands_from_another_thread(make_project: Any) -> None:
    thread = EngineThread(Engine(make_project(bollards=1), ocpp_port=0))
    thread.start()
    try:
        future = thread.submit(all_available(thread.engine))
        future.result(timeout=15)
        result = thread.submit(
            execute_as_admin(
                thread.engine.router, cmd.UnlockConnector(charger_id="CP-001", connector_id=1)
            )
        ).result(timeout=15)
        assert result.status == "Unlocked"
    finally:
        thread.stop()
    assert not thread.loop.is_running()


def test_engine_thread_reports_a_port_in_use_and_releases_the_rest(make_project: Any) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        thread = EngineThread(Engine(make_project(bollards=1), ocpp_port=port))
        with pytest.raises(OSError):
            thread.start()
    thread.stop()
    assert not thread.engine.archive._thread.is_alive()


async def test_reservation_round_trip_with_a_simulated_bollard(engine: Engine) -> None:
    await all_available(engine)

    def reserve(charger_id: str, connector_id: int, id_tag: str, seconds: float) -> Any:
        return execute_as_admin(
            engine.router,
            cmd.ReserveNow(
                charger_id=charger_id,
                connector_id=connector_id,
                id_tag=id_tag,
                expiry=utcnow() + timedelta(seconds=seconds),
            ),
        )

    reserved = await reserve("CP-001", 1, "BADGE-0001", 600)
    assert (reserved.outcome, reserved.status) == (cmd.Outcome.ACCEPTED, "Accepted")
    await wait_until(lambda: tag(engine, "CP-001/C1/status") is ConnectorStatus.RESERVED)
    assert tag(engine, "CP-001/C1/reservation_id") == reserved.payload
    taken = await reserve("CP-001", 1, "BADGE-0002", 600)
    assert (taken.outcome, taken.status) == (cmd.Outcome.REJECTED, "Occupied")
    whole = await reserve("CP-001", 0, "BADGE-0002", 600)
    assert (whole.outcome, whole.status) == (cmd.Outcome.REJECTED, "Rejected")
    stranger = await execute_as_admin(
        engine.router, cmd.RemoteStart(charger_id="CP-001", connector_id=1, id_tag="BADGE-0002")
    )
    assert (stranger.outcome, stranger.status) == (cmd.Outcome.REJECTED, "Rejected")

    started = await execute_as_admin(
        engine.router, cmd.RemoteStart(charger_id="CP-001", connector_id=1, id_tag="BADGE-0001")
    )
    assert started.ok
    transaction_id = await wait_until(lambda: tag(engine, "CP-001/C1/transaction_id"))
    await wait_until(lambda: tag(engine, "CP-001/C1/status") is ConnectorStatus.CHARGING)
    assert tag(engine, "CP-001/C1/reservation_id") is None
    with sqlite3.connect(engine.project.directory / "archive.sqlite") as db:
        assert db.execute(
            "select reservation_id from transactions where id = ?", (transaction_id,)
        ).fetchall() == [(reserved.payload,)]
        assert db.execute(
            "select state, transaction_id from reservations where id = ?", (reserved.payload,)
        ).fetchall() == [("used", transaction_id)]


async def test_reservations_cancelled_expired_and_refused_by_a_simulated_bollard(
    engine: Engine,
) -> None:
    await all_available(engine)

    def reserve(connector_id: int, seconds: float) -> Any:
        return execute_as_admin(
            engine.router,
            cmd.ReserveNow(
                charger_id="CP-002",
                connector_id=connector_id,
                id_tag="BADGE-0003",
                expiry=utcnow() + timedelta(seconds=seconds),
            ),
        )

    def state(reservation_id: int) -> str:
        with sqlite3.connect(engine.project.directory / "archive.sqlite") as db:
            row = db.execute("select state from reservations where id = ?", (reservation_id,))
            return str(row.fetchone()[0])

    held = await reserve(1, 600)
    assert held.ok
    await wait_until(lambda: tag(engine, "CP-002/C1/status") is ConnectorStatus.RESERVED)
    cancelled = await execute_as_admin(
        engine.router, cmd.CancelReservation(charger_id="CP-002", reservation_id=held.payload)
    )
    assert cancelled.ok
    await wait_until(lambda: tag(engine, "CP-002/C1/status") is ConnectorStatus.AVAILABLE)
    assert state(held.payload) == "cancelled"
    again = await execute_as_admin(
        engine.router, cmd.CancelReservation(charger_id="CP-002", reservation_id=held.payload)
    )
    assert (again.outcome, again.status) == (cmd.Outcome.REJECTED, "Rejected")

    brief = await reserve(2, 1.0)
    assert brief.ok
    await wait_until(lambda: tag(engine, "CP-002/C2/status") is ConnectorStatus.RESERVED)
    await wait_until(lambda: tag(engine, "CP-002/C2/status") is ConnectorStatus.AVAILABLE)
    await wait_until(lambda: state(brief.payload) == "expired")
    # the tag follows once the engine has the archive's answer
    await wait_until(lambda: tag(engine, "CP-002/C2/reservation_id") is None)

    off = await execute_as_admin(
        engine.router,
        cmd.ChangeAvailability(
            charger_id="CP-002", connector_id=1, kind=cmd.AvailabilityKind.INOPERATIVE
        ),
    )
    assert off.ok
    unavailable = await reserve(1, 600)
    assert (unavailable.outcome, unavailable.status) == (cmd.Outcome.REJECTED, "Unavailable")
    assert state(unavailable.payload) == "rejected"


async def test_local_list_round_trip_with_a_simulated_bollard(engine: Engine) -> None:
    await all_available(engine)
    assert engine.simulator is not None
    bollard = engine.simulator.bollards["CP-001"]

    def send(update_type: cmd.LocalListUpdate) -> Any:
        return execute_as_admin(
            engine.router, cmd.SendLocalList(charger_id="CP-001", update_type=update_type)
        )

    async def charger_version() -> Any:
        return (
            await execute_as_admin(engine.router, cmd.GetLocalListVersion(charger_id="CP-001"))
        ).payload

    assert await charger_version() == 0
    full = await send(cmd.LocalListUpdate.FULL)
    assert (full.outcome, full.status) == (cmd.Outcome.ACCEPTED, "Accepted")
    assert await charger_version() == engine.project.ocpp.local_list_version == 1
    assert tag(engine, "CP-001/local_list_version") == 1
    assert set(bollard.local_list.entries) == {b.id_tag for b in engine.project.badges}

    same = await send(cmd.LocalListUpdate.DIFFERENTIAL)  # version 1 is not newer than 1
    assert (same.outcome, same.status) == (cmd.Outcome.REJECTED, "VersionMismatch")
    again = await send(cmd.LocalListUpdate.DIFFERENTIAL)
    assert again.ok and "sent Full" in again.detail

    # someone else gave the charger a newer list: the project's version is now older
    other = [{"id_tag": "OTHER", "id_tag_info": {"status": "Accepted"}}]
    assert bollard.local_list.update(5, "Full", other, max_length=9, max_send=9) == "Accepted"
    assert await charger_version() == 5
    assert tag(engine, "CP-001/local_list_version") == 5
    older = await send(cmd.LocalListUpdate.DIFFERENTIAL)
    assert (older.outcome, older.status) == (cmd.Outcome.REJECTED, "VersionMismatch")
    assert tag(engine, "CP-001/local_list_version") == 5

    disabled = await execute_as_admin(
        engine.router,
        cmd.ChangeConfiguration(charger_id="CP-001", key="LocalAuthListEnabled", value="false"),
    )
    assert disabled.ok
    refused = await send(cmd.LocalListUpdate.FULL)
    assert (refused.outcome, refused.status) == (cmd.Outcome.REJECTED, "NotSupported")


async def test_availability_is_restored_after_a_hard_reset(engine: Engine) -> None:
    await all_available(engine)
    assert engine.simulator is not None
    bollard = engine.simulator.bollards["CP-001"]
    c1: list[ConnectorStatus] = []
    engine.bus.subscribe_events(
        lambda ev: (
            c1.append(ev.status)
            if isinstance(ev, ConnectorStatusChanged)
            and (ev.charger_id, ev.connector_id) == ("CP-001", 1)
            else None
        )
    )
    off = await execute_as_admin(
        engine.router,
        cmd.ChangeAvailability(
            charger_id="CP-001", connector_id=1, kind=cmd.AvailabilityKind.INOPERATIVE
        ),
    )
    assert off.ok
    await wait_until(lambda: tag(engine, "CP-001/C1/status") is ConnectorStatus.UNAVAILABLE)
    reset = await execute_as_admin(
        engine.router, cmd.Reset(charger_id="CP-001", kind=cmd.ResetKind.HARD)
    )
    assert reset.ok
    await wait_until(lambda: tag(engine, "CP-001/comm") is CommState.OFFLINE)
    c1.clear()
    bollard.connectors[1].model.set_operative(True)  # this charger forgets it when rebooting
    # after the reboot the central system sets it Inoperative again, before or after the
    # bollard reported it Available
    await wait_until(lambda: c1 and c1[-1] is ConnectorStatus.UNAVAILABLE)
    assert not bollard.connectors[1].model.operative
    assert tag(engine, "CP-001/C1/status") is ConnectorStatus.UNAVAILABLE
    assert tag(engine, "CP-001/comm") is CommState.ONLINE

    def restored() -> list[tuple[str, str]]:
        with sqlite3.connect(engine.project.directory / "archive.sqlite") as db:
            query = "select charger_id, detail from charger_events where kind = 'restored'"
            return db.execute(query).fetchall()

    await wait_until(restored)
    assert restored() == [("CP-001", "ChangeAvailability connector 1 Inoperative: Accepted")]


async def test_charging_profile_round_trip_with_a_simulated_bollard(engine: Engine) -> None:
    await all_available(engine)
    assert engine.simulator is not None
    bollard = engine.simulator.bollards["CP-001"]
    default_16a = ChargingProfile(
        profile_id=41,
        stack_level=0,
        purpose=ChargingProfilePurpose.TX_DEFAULT,
        kind=ChargingProfileKind.ABSOLUTE,
        schedule=ChargingSchedule(
            ChargingRateUnit.AMPS,
            (SchedulePeriod(0, 16.0),),
            start=utcnow() - timedelta(minutes=1),
        ),
    )
    set_result = await execute_as_admin(
        engine.router,
        cmd.SetChargingProfile(charger_id="CP-001", connector_id=0, profile=default_16a),
    )
    assert (set_result.outcome, set_result.status) == (cmd.Outcome.ACCEPTED, "Accepted")
    await wait_until(lambda: bollard.profiles.limit_w(1, 1) == 16 * 230 * 3)

    def composite() -> cmd.GetCompositeSchedule:
        return cmd.GetCompositeSchedule(
            charger_id="CP-001", connector_id=1, duration_s=900, unit=ChargingRateUnit.AMPS
        )

    shown = await execute_as_admin(engine.router, composite())
    assert (shown.outcome, shown.status) == (cmd.Outcome.ACCEPTED, "Accepted")
    answer = shown.payload
    assert answer.charging_schedule is not None
    assert answer.charging_schedule.unit is ChargingRateUnit.AMPS
    assert answer.charging_schedule.duration_s == 900
    assert [(p.start_s, p.limit) for p in answer.charging_schedule.periods] == [(0, 16.0)]
    assert answer.schedule_start is not None and answer.schedule_start.tzinfo is not None
    assert answer.expected == ((0, 16.0),)

    cleared = await execute_as_admin(
        engine.router, cmd.ClearChargingProfile(charger_id="CP-001", profile_id=41)
    )
    assert cleared.ok
    await wait_until(lambda: bollard.profiles.limit_w(1, 1) is None)
    gone = await execute_as_admin(engine.router, composite())
    assert (gone.outcome, gone.status) == (cmd.Outcome.REJECTED, "Rejected")
    assert gone.payload.charging_schedule is None
    assert gone.payload.expected == ()
