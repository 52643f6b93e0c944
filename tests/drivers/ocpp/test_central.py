"""The OCPP 1.6J central system against real WebSocket clients on loopback."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from ocpp.exceptions import OCPPError
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
from support import wait_until
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from evsuper.charging.profiles import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    SchedulePeriod,
)
from evsuper.core.bus import TagBus
from evsuper.core.domain import CommState, ConnectorStatus
from evsuper.core.tags import Sample
from evsuper.core.timeutil import to_wire, utcnow
from evsuper.drivers.ocpp.central import CentralSystem
from evsuper.drivers.ocpp.data_transfer import DataTransferAnswer
from evsuper.drivers.ocpp.session_log import FRAMES_KEPT, Direction
from evsuper.engine import commands as cmd
from evsuper.historian.archive import Archive
from evsuper.project.loader import load_project
from evsuper.project.model import (
    AuthorizationMode,
    Badge,
    BadgeStatus,
    Project,
    UnknownChargerPolicy,
)


class FakeCharger(ChargePoint):
    """A scripted charge point: answers what the central system asks, records requests."""

    def __init__(self, charger_id: str, connection: ClientConnection) -> None:
        super().__init__(charger_id, connection, response_timeout=5)
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.reset_answer = "Accepted"
        self.reserve_answer = "Accepted"
        self.cancel_answer = "Accepted"
        self.local_list_answer = "Accepted"
        self.list_version = 0
        self.profile_answer = "Accepted"
        self.clear_profile_answer = "Accepted"
        self.composite_answer: dict[str, Any] = {"status": "Rejected"}
        self.on_request: Callable[[str], None] = lambda action: None  # runs before answering

    @on(Action.reset)
    def on_reset(self, type: str) -> call_result.Reset:
        self.requests.append(("Reset", {"type": type}))
        return call_result.Reset(status=self.reset_answer)

    @on(Action.reserve_now)
    def on_reserve_now(self, **kwargs: Any) -> call_result.ReserveNow:
        self.on_request("ReserveNow")
        self.requests.append(("ReserveNow", kwargs))
        return call_result.ReserveNow(status=self.reserve_answer)

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, reservation_id: int) -> call_result.CancelReservation:
        self.requests.append(("CancelReservation", {"reservation_id": reservation_id}))
        return call_result.CancelReservation(status=self.cancel_answer)

    @on(Action.remote_start_transaction)
    def on_remote_start(self, id_tag: str, **kwargs: Any) -> call_result.RemoteStartTransaction:
        self.requests.append(("RemoteStartTransaction", {"id_tag": id_tag, **kwargs}))
        return call_result.RemoteStartTransaction(status="Rejected")

    @on(Action.change_availability)
    def on_change_availability(
        self, connector_id: int, type: str
    ) -> call_result.ChangeAvailability:
        self.requests.append(("ChangeAvailability", {"connector_id": connector_id, "type": type}))
        return call_result.ChangeAvailability(status="Accepted")

    @on(Action.trigger_message)
    def on_trigger(self, requested_message: str, **_: Any) -> call_result.TriggerMessage:
        self.requests.append(("TriggerMessage", {"requested_message": requested_message}))
        return call_result.TriggerMessage(status="Accepted")

    @on(Action.update_firmware)
    def on_update_firmware(self, **kwargs: Any) -> call_result.UpdateFirmware:
        self.requests.append(("UpdateFirmware", kwargs))
        return call_result.UpdateFirmware()

    @on(Action.get_diagnostics)
    def on_get_diagnostics(self, **kwargs: Any) -> call_result.GetDiagnostics:
        self.requests.append(("GetDiagnostics", kwargs))
        return call_result.GetDiagnostics(file_name="diag-CP-001.zip")

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, **kwargs: Any) -> call_result.DataTransfer:
        self.requests.append(("DataTransfer", {"vendor_id": vendor_id, **kwargs}))
        return call_result.DataTransfer(status="Accepted", data=f"pong:{kwargs.get('data')}")

    @on(Action.send_local_list)
    def on_send_local_list(self, **kwargs: Any) -> call_result.SendLocalList:
        self.requests.append(("SendLocalList", kwargs))
        return call_result.SendLocalList(status=self.local_list_answer)

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self) -> call_result.GetLocalListVersion:
        return call_result.GetLocalListVersion(list_version=self.list_version)

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, **kwargs: Any) -> call_result.SetChargingProfile:
        self.requests.append(("SetChargingProfile", kwargs))
        return call_result.SetChargingProfile(status=self.profile_answer)

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(self, **kwargs: Any) -> call_result.ClearChargingProfile:
        self.requests.append(("ClearChargingProfile", kwargs))
        return call_result.ClearChargingProfile(status=self.clear_profile_answer)

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(self, **kwargs: Any) -> call_result.GetCompositeSchedule:
        self.requests.append(("GetCompositeSchedule", kwargs))
        return call_result.GetCompositeSchedule(**self.composite_answer)

    async def boot(self) -> Any:
        return await self.call(
            call.BootNotification(charge_point_model="T1", charge_point_vendor="Test")
        )


@dataclass
class Site:
    project: Project
    bus: TagBus
    archive: Archive
    central: CentralSystem

    def tag(self, path: str) -> Any:
        return self.bus.value(path)

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.project.directory / "archive.sqlite") as db:
            return db.execute(query).fetchall()

    @asynccontextmanager
    async def charger(
        self, charger_id: str = "CP-001", path: str | None = None
    ) -> AsyncIterator[FakeCharger]:
        url = self.central.url_for(charger_id) if path is None else self.ws_url(path)
        async with connect(url, subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
            charger = FakeCharger(charger_id, ws)
            task = asyncio.create_task(charger.start())
            try:
                yield charger
            finally:
                task.cancel()

    def ws_url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.central.port}/{path}"


SiteFactory = Callable[..., Any]


async def start_site(project: Project) -> Site:
    """Archive and central system of ``project`` running on this loop, as the engine does."""
    bus = TagBus()
    archive = Archive(project.archive_url(), bus)
    await archive.start()
    central = CentralSystem(project, bus, archive, host="127.0.0.1", port=0)
    await central.start()
    return Site(project, bus, archive, central)


@pytest.fixture
async def site(make_project: Any) -> AsyncIterator[SiteFactory]:
    started: list[Site] = []

    async def start(badges: tuple[Badge, ...] | None = None, **settings: Any) -> Site:
        project = make_project(**settings)
        if badges is not None:
            project = dataclasses.replace(project, badges=badges)
        started.append(await start_site(project))
        return started[-1]

    yield start
    for s in started:
        await s.central.stop()
        await s.archive.stop()


async def test_boot_status_and_heartbeat(site: SiteFactory) -> None:
    s = await site()
    async with s.charger() as cp:
        boot = await cp.boot()
        assert boot.status == "Accepted"
        assert boot.interval == 60
        assert boot.current_time.endswith("Z")
        await cp.call(
            call.StatusNotification(connector_id=1, error_code="NoError", status="Available")
        )
        await cp.call(
            call.StatusNotification(
                connector_id=2,
                error_code="GroundFailure",
                status="Faulted",
                info="RCD tripped",
                vendor_error_code="E42",
            )
        )
        heartbeat = await cp.call(call.Heartbeat())
        assert heartbeat.current_time.endswith("Z")
        assert s.tag("CP-001/comm") is CommState.ONLINE
        assert s.tag("CP-001/vendor") == "Test"
        assert s.tag("CP-001/C1/status") is ConnectorStatus.AVAILABLE
        assert s.tag("CP-001/C2/status") is ConnectorStatus.FAULTED
        assert s.tag("CP-001/C2/error_code") == "GroundFailure"
        assert s.tag("CP-001/C2/error_info") == "RCD tripped / E42"
    await wait_until(lambda: s.tag("CP-001/comm") is CommState.OFFLINE)
    await s.archive.run_durable(lambda c: None)  # everything queued before is committed
    assert s.rows("select status, error_code, vendor_error_code from connector_status") == [
        ("Available", "NoError", None),
        ("Faulted", "GroundFailure", "E42"),
    ]
    assert [k for (k,) in s.rows("select kind from charger_events order by id")] == [
        "connected",
        "booted",
        "disconnected",
    ]


async def test_charger_id_from_either_url_form(site: SiteFactory) -> None:
    s = await site()
    async with s.charger("CP-002", path="CP-002") as cp:
        assert (await cp.boot()).status == "Accepted"
    async with s.charger("CP-001", path="ocpp/CP-001") as cp:
        assert (await cp.boot()).status == "Accepted"


async def test_subprotocol_and_path_are_enforced(site: SiteFactory) -> None:
    s = await site()
    with pytest.raises(InvalidStatus) as no_protocol:
        async with connect(s.central.url_for("CP-001")):
            pass
    assert no_protocol.value.response.status_code == 400
    with pytest.raises(InvalidStatus) as bad_path:
        async with connect(s.ws_url("a/b/CP-001"), subprotocols=["ocpp1.6"]):  # type: ignore[list-item]
            pass
    assert bad_path.value.response.status_code == 404


async def test_transaction_is_archived_before_it_is_confirmed(site: SiteFactory) -> None:
    s = await site()
    async with s.charger() as cp:
        await cp.boot()
        start = await cp.call(
            call.StartTransaction(
                connector_id=1, id_tag="ANY", meter_start=1000, timestamp=to_wire(utcnow())
            )
        )
        # durable before acknowledged: the row exists as soon as the charger has its id
        assert s.rows(
            f"select id_tag, meter_start_wh from transactions where id = {start.transaction_id}"
        ) == [("ANY", 1000)]
        assert s.tag("CP-001/C1/transaction_id") == start.transaction_id
        await cp.call(
            call.MeterValues(
                connector_id=1,
                transaction_id=start.transaction_id,
                meter_value=[
                    {
                        "timestamp": to_wire(utcnow()),
                        "sampledValue": [
                            {
                                "value": "3500",
                                "measurand": "Energy.Active.Import.Register",
                                "unit": "Wh",
                            },
                            {
                                "value": "3.7",
                                "measurand": "Power.Active.Import",
                                "unit": "kW",
                                "phase": "L1",
                            },
                            {
                                "value": "3.6",
                                "measurand": "Power.Active.Import",
                                "unit": "kW",
                                "phase": "L2",
                            },
                            {
                                "value": "16",
                                "measurand": "Current.Import",
                                "unit": "A",
                                "phase": "L1",
                            },
                            {
                                "value": "231.5",
                                "measurand": "Voltage",
                                "unit": "V",
                                "phase": "L1-N",
                            },
                            {
                                "value": "41",
                                "measurand": "SoC",
                                "unit": "Percent",
                                "location": "EV",
                            },
                            {
                                "value": "21",
                                "measurand": "Temperature",
                                "unit": "Celsius",
                                "location": "Body",
                            },
                        ],
                    }
                ],
            )
        )
        assert s.tag("CP-001/C1/power_kw") == pytest.approx(7.3)
        assert s.tag("CP-001/C1/energy_kwh") == pytest.approx(2.5)
        assert s.tag("CP-001/C1/soc") == 41
        stop = await cp.call(
            call.StopTransaction(
                meter_stop=6000,
                timestamp=to_wire(utcnow()),
                transaction_id=start.transaction_id,
                reason="EVDisconnected",
                id_tag="ANY",
                transaction_data=[
                    {
                        "timestamp": to_wire(utcnow()),
                        "sampledValue": [{"value": "80", "measurand": "SoC", "unit": "Percent"}],
                    }
                ],
            )
        )
        assert stop.id_tag_info == {"status": "Accepted"}
        assert s.rows(
            "select energy_wh, soc_start, soc_stop, stop_reason, stop_ts is not null "
            f"from transactions where id = {start.transaction_id}"
        ) == [(5000, 41.0, 80.0, "EVDisconnected", 1)]
        assert s.tag("CP-001/C1/transaction_id") is None
        assert s.tag("CP-001/C1/energy_kwh") == pytest.approx(5.0)  # the last session's
        assert s.tag("CP-001/C1/soc") == 80  # from the StopTransaction's transactionData
        await cp.call(call.StatusNotification(1, "NoError", "Available"))
        assert s.tag("CP-001/C1/soc") is None  # the car has left
    measurands = {m for (m,) in s.rows("select distinct measurand from meter_samples")}
    assert measurands == {
        "Energy.Active.Import.Register",
        "Power.Active.Import",
        "Current.Import",
        "Voltage",
        "SoC",
        "Temperature",
    }
    assert s.rows(
        "select phase, unit, location from meter_samples where measurand = 'Voltage'"
    ) == [("L1-N", "V", "Outlet")]


async def test_transaction_ids_are_unique(site: SiteFactory) -> None:
    s = await site(bollards=3)
    async with s.charger("CP-001") as a, s.charger("CP-002") as b, s.charger("CP-003") as c:
        chargers = [a, b, c]
        for cp in chargers:
            await cp.boot()
        starts = await asyncio.gather(
            *(
                cp.call(
                    call.StartTransaction(
                        connector_id=n, id_tag="T", meter_start=0, timestamp=to_wire(utcnow())
                    )
                )
                for cp in chargers
                for n in (1, 2)
            )
        )
    ids = [r.transaction_id for r in starts]
    assert len(set(ids)) == 6


async def test_stop_for_unknown_transaction_is_accepted_and_recorded(site: SiteFactory) -> None:
    s = await site()
    async with s.charger() as cp:
        await cp.boot()
        stop = await cp.call(
            call.StopTransaction(
                meter_stop=10, timestamp=to_wire(utcnow()), transaction_id=4242, id_tag="X"
            )
        )
        assert stop.id_tag_info == {"status": "Accepted"}
        await s.archive.run_durable(lambda c: None)
        assert s.rows("select kind from anomalies") == [("stop-unknown-transaction",)]


@pytest.mark.parametrize(
    ("frame", "unique_id", "code"),
    [
        ("this is not json", "-1", "FormationViolation"),
        ('[2, "m1", "Heartbeat", {"unexpected": 1}]', "m1", "FormationViolation"),
        (
            '[2, "m2", "StatusNotification", {"connectorId": "one", "errorCode": "NoError", '
            '"status": "Available"}]',
            "m2",
            "TypeConstraintViolation",
        ),
        (
            '[2, "m6", "StatusNotification", {"connectorId": 1}]',
            "m6",
            "OccurenceConstraintViolation",
        ),
        (
            '[2, "m7", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", '
            '"status": "Sleeping"}]',
            "m7",
            "PropertyConstraintViolation",
        ),
        (
            '[2, "m8", "StartTransaction", {"connectorId": 1, "idTag": "A", "meterStart": 0, '
            '"timestamp": "yesterday"}]',
            "m8",
            "PropertyConstraintViolation",
        ),
        ('[7, "m9", "Heartbeat", {}]', "m9", "PropertyConstraintViolation"),
        ('[2, "m3", "NoSuchAction", {}]', "m3", "NotImplemented"),
        (
            '[2, "m4", "SignCertificate", {"csr": "x"}]',
            "m4",
            "NotSupported",
        ),
        (
            '[2, "m5", "StartTransaction", {"connectorId": 1, "meterStart": 0, '
            '"idTag": "this-id-tag-is-far-too-long", "timestamp": "2026-01-01T00:00:00Z"}]',
            "m5",
            "TypeConstraintViolation",
        ),
    ],
)
async def test_malformed_frame_gets_callerror_and_connection_lives(
    site: SiteFactory, frame: str, unique_id: str, code: str
) -> None:
    s = await site()
    url = s.central.url_for("CP-001")
    async with connect(url, subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        await ws.send(frame)
        reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert reply[0] == 4 and reply[1] == unique_id
        assert reply[2] == code
        assert reply[3]  # a description for the integrator reading the charger's log
        await ws.send('[2, "hb", "Heartbeat", {}]')
        answer = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert answer[:2] == [3, "hb"]
    assert s.tag("CP-001/comm") is not None


async def test_unknown_charger_rejected_by_default(site: SiteFactory) -> None:
    s = await site()
    async with s.charger("STRANGER") as cp:
        assert (await cp.boot()).status == "Rejected"
        reply = await cp.call(call.Heartbeat())  # allowed while rejected
        assert reply.current_time
        from ocpp.exceptions import SecurityError

        with pytest.raises(SecurityError):
            await cp.call(call.Authorize(id_tag="X"), suppress=False)


async def test_unknown_charger_pending_until_operator_accepts(site: SiteFactory) -> None:
    s = await site(unknown_chargers=UnknownChargerPolicy.PENDING)
    async with s.charger("NEWCOMER") as cp:
        assert (await cp.boot()).status == "Pending"
        result = await s.central.execute(cmd.AcceptCharger(charger_id="NEWCOMER"))
        assert result.ok
        await wait_until(
            lambda: ("TriggerMessage", {"requested_message": "BootNotification"}) in cp.requests
        )
        assert (await cp.boot()).status == "Accepted"
    reloaded = load_project(s.project.directory)
    assert reloaded.charger("NEWCOMER") is not None


async def test_pending_charger_can_be_accepted_while_offline(site: SiteFactory) -> None:
    s = await site(unknown_chargers=UnknownChargerPolicy.PENDING)
    never_seen = await s.central.execute(cmd.AcceptCharger(charger_id="NOBODY"))
    assert never_seen.outcome is cmd.Outcome.ERROR
    async with s.charger("LATE") as cp:
        assert (await cp.boot()).status == "Pending"
    await wait_until(lambda: "LATE" not in s.central.sessions)
    assert (await s.central.execute(cmd.AcceptCharger(charger_id="LATE"))).ok
    async with s.charger("LATE") as cp:
        assert (await cp.boot()).status == "Accepted"


async def test_unknown_charger_accepted_and_registered(site: SiteFactory) -> None:
    s = await site(unknown_chargers=UnknownChargerPolicy.ACCEPT)
    async with s.charger("AUTO-1") as cp:
        assert (await cp.boot()).status == "Accepted"
    assert load_project(s.project.directory).charger("AUTO-1") is not None


async def test_badge_authorization(site: SiteFactory) -> None:
    s = await site(authorization=AuthorizationMode.BADGES)
    async with s.charger() as cp:
        await cp.boot()
        assert (await cp.call(call.Authorize(id_tag="BADGE-0001"))).id_tag_info[
            "status"
        ] == "Accepted"
        assert (await cp.call(call.Authorize(id_tag="NOBODY"))).id_tag_info["status"] == "Invalid"
        first = await cp.call(
            call.StartTransaction(
                connector_id=1, id_tag="BADGE-0001", meter_start=0, timestamp=to_wire(utcnow())
            )
        )
        assert first.id_tag_info["status"] == "Accepted"
        second = await cp.call(
            call.StartTransaction(
                connector_id=2, id_tag="BADGE-0001", meter_start=0, timestamp=to_wire(utcnow())
            )
        )
        assert second.id_tag_info["status"] == "ConcurrentTx"
        assert second.transaction_id != first.transaction_id


async def test_commands_return_the_chargers_answer(site: SiteFactory) -> None:
    s = await site()
    offline = await s.central.execute(cmd.Reset(charger_id="CP-001"))
    assert offline.outcome is cmd.Outcome.OFFLINE
    async with s.charger() as cp:
        await cp.boot()
        result = await s.central.execute(cmd.Reset(charger_id="CP-001", kind=cmd.ResetKind.HARD))
        assert (result.outcome, result.status) == (cmd.Outcome.ACCEPTED, "Accepted")
        assert cp.requests == [("Reset", {"type": "Hard"})]
        cp.reset_answer = "Rejected"
        result = await s.central.execute(cmd.Reset(charger_id="CP-001"))
        assert (result.outcome, result.status) == (cmd.Outcome.REJECTED, "Rejected")
        result = await s.central.execute(cmd.ClearCache(charger_id="CP-001"))
        assert (result.outcome, result.status) == (cmd.Outcome.ERROR, "NotImplemented")


async def test_command_timeout(site: SiteFactory) -> None:
    s = await site(response_timeout_s=0.3)
    async with connect(s.central.url_for("CP-001"), subprotocols=["ocpp1.6"]):  # type: ignore[list-item]
        await wait_until(lambda: "CP-001" in s.central.sessions)
        result = await s.central.execute(cmd.Reset(charger_id="CP-001"))  # nobody answers
    assert result.outcome is cmd.Outcome.TIMEOUT


async def test_silent_charger_goes_offline_after_heartbeat_multiple(site: SiteFactory) -> None:
    s = await site(heartbeat_interval_s=1, offline_after_heartbeats=1.5)
    async with s.charger() as cp:
        await cp.boot()
        loop = asyncio.get_running_loop()
        silent_since = loop.time()
        await wait_until(lambda: s.tag("CP-001/comm") is CommState.OFFLINE, within=5)
        assert loop.time() - silent_since >= 1.5
    await s.archive.run_durable(lambda c: None)
    assert s.rows("select detail from charger_events where kind = 'disconnected'") == [
        ("close code 1001: heartbeat timeout",)
    ]


async def test_trigger_message_and_data_transfer_to_the_charger(site: SiteFactory) -> None:
    s = await site()
    async with s.charger() as cp:
        await cp.boot()
        triggered = await s.central.execute(
            cmd.TriggerMessage(
                charger_id="CP-001",
                message=cmd.TriggerableMessage.STATUS_NOTIFICATION,
                connector_id=2,
            )
        )
        assert (triggered.outcome, triggered.status) == (cmd.Outcome.ACCEPTED, "Accepted")
        exchanged = await s.central.execute(
            cmd.DataTransfer(charger_id="CP-001", vendor_id="Acme", message_id="ping", data="42")
        )
        assert (exchanged.outcome, exchanged.payload) == (cmd.Outcome.ACCEPTED, "pong:42")
    assert cp.requests == [
        ("TriggerMessage", {"requested_message": "StatusNotification"}),
        ("DataTransfer", {"vendor_id": "Acme", "message_id": "ping", "data": "42"}),
    ]


async def test_data_transfer_from_the_charger_is_routed(site: SiteFactory) -> None:
    s = await site()
    seen: list[tuple[str, str | None]] = []

    async def ping(charger_id: str, data: str | None) -> DataTransferAnswer:
        seen.append((charger_id, data))
        return DataTransferAnswer("Accepted", f"pong:{data}")

    s.central.data_transfer.register("Acme", "ping", ping)
    async with s.charger() as cp:
        await cp.boot()
        answer = await cp.call(call.DataTransfer(vendor_id="Acme", message_id="ping", data="7"))
        assert (answer.status, answer.data) == ("Accepted", "pong:7")
        other = await cp.call(call.DataTransfer(vendor_id="Acme", message_id="reboot"))
        assert other.status == "UnknownMessageId"
        stranger = await cp.call(call.DataTransfer(vendor_id="Globex", message_id="ping"))
        assert stranger.status == "UnknownVendorId"
    assert seen == [("CP-001", "7")]
    await s.archive.run_durable(lambda c: None)
    assert [k for (k,) in s.rows("select kind from anomalies")] == ["data-transfer-unhandled"] * 2


async def test_late_status_is_archived_but_does_not_override_a_newer_one(site: SiteFactory) -> None:
    s = await site()
    async with s.charger() as cp:
        await cp.boot()
        now = utcnow()
        await cp.call(call.StatusNotification(1, "NoError", "Charging", timestamp=to_wire(now)))
        earlier = to_wire(now - timedelta(seconds=30))  # queued while offline, sent late
        await cp.call(call.StatusNotification(1, "NoError", "Preparing", timestamp=earlier))
        assert s.tag("CP-001/C1/status") is ConnectorStatus.CHARGING
    await s.archive.run_durable(lambda c: None)
    assert s.rows("select status from connector_status order by ts") == [
        ("Preparing",),
        ("Charging",),
    ]


async def test_second_connection_with_the_same_id_replaces_the_first(site: SiteFactory) -> None:
    s = await site()
    async with s.charger() as first:
        await first.boot()
        async with s.charger() as second:
            await wait_until(lambda: first._connection.close_code is not None)
            assert first._connection.close_code == 1000
            assert (await second.boot()).status == "Accepted"
            assert s.tag("CP-001/comm") is CommState.ONLINE  # the old one's end is not an outage
            assert len(s.central.sessions) == 1


async def test_reserve_now_is_durable_before_it_is_sent_and_records_the_answer(
    site: SiteFactory,
) -> None:
    s = await site()
    expiry = utcnow() + timedelta(hours=1)
    async with s.charger() as cp:
        await cp.boot()
        states_when_sent: list[list[tuple[Any, ...]]] = []
        cp.on_request = lambda action: states_when_sent.append(
            s.rows("select id, state from reservations order by id")
        )
        reserved = await s.central.execute(
            cmd.ReserveNow(charger_id="CP-001", connector_id=1, id_tag="BADGE-0001", expiry=expiry)
        )
        assert (reserved.outcome, reserved.status) == (cmd.Outcome.ACCEPTED, "Accepted")
        first = reserved.payload
        assert states_when_sent == [[(first, "requested")]]
        assert cp.requests == [
            (
                "ReserveNow",
                {
                    "connector_id": 1,
                    "expiry_date": to_wire(expiry),
                    "id_tag": "BADGE-0001",
                    "reservation_id": first,
                },
            )
        ]
        assert cp.requests[0][1]["expiry_date"].endswith("Z")
        assert s.rows(f"select state, ended from reservations where id = {first}") == [
            ("active", None)
        ]
        assert s.tag("CP-001/C1/reservation_id") == first

        cp.reserve_answer = "Occupied"
        refused = await s.central.execute(
            cmd.ReserveNow(
                charger_id="CP-001",
                connector_id=1,
                id_tag="BADGE-0002",
                expiry=expiry,
                parent_id_tag="FLEET",
            )
        )
        assert (refused.outcome, refused.status) == (cmd.Outcome.REJECTED, "Occupied")
        assert refused.payload not in (None, first)
        assert cp.requests[-1][1]["parent_id_tag"] == "FLEET"
        assert s.rows(f"select state from reservations where id = {refused.payload}") == [
            ("rejected",)
        ]
        assert s.tag("CP-001/C1/reservation_id") == first

        cp.cancel_answer = "Rejected"
        kept = await s.central.execute(
            cmd.CancelReservation(charger_id="CP-001", reservation_id=first)
        )
        assert (kept.outcome, kept.status) == (cmd.Outcome.REJECTED, "Rejected")
        assert s.rows(f"select state from reservations where id = {first}") == [("active",)]
        cp.cancel_answer = "Accepted"
        cancelled = await s.central.execute(
            cmd.CancelReservation(charger_id="CP-001", reservation_id=first)
        )
        assert cancelled.ok
        assert cp.requests[-1] == ("CancelReservation", {"reservation_id": first})
        assert s.rows(f"select state, ended is not null from reservations where id = {first}") == [
            ("cancelled", 1)
        ]
        assert s.tag("CP-001/C1/reservation_id") is None


async def test_start_transaction_on_a_reservation_uses_it(site: SiteFactory) -> None:
    s = await site()
    async with s.charger() as cp:
        await cp.boot()
        reserved = await s.central.execute(
            cmd.ReserveNow(
                charger_id="CP-001",
                connector_id=2,
                id_tag="BADGE-0001",
                expiry=utcnow() + timedelta(hours=1),
            )
        )
        assert s.tag("CP-001/C2/reservation_id") == reserved.payload
        start = await cp.call(
            call.StartTransaction(
                connector_id=2,
                id_tag="BADGE-0001",
                meter_start=0,
                timestamp=to_wire(utcnow()),
                reservation_id=reserved.payload,
            )
        )
        assert s.rows(
            f"select state, transaction_id from reservations where id = {reserved.payload}"
        ) == [("used", start.transaction_id)]
        assert s.rows(
            f"select reservation_id from transactions where id = {start.transaction_id}"
        ) == [(reserved.payload,)]
        assert s.tag("CP-001/C2/reservation_id") is None
        await cp.call(
            call.StartTransaction(
                connector_id=1,
                id_tag="BADGE-0002",
                meter_start=0,
                timestamp=to_wire(utcnow()),
                reservation_id=reserved.payload,  # no longer open
            )
        )
    await s.archive.run_durable(lambda c: None)
    assert s.rows("select kind from anomalies") == [("reservation-not-open",)]


async def test_reservations_expire_and_survive_a_restart(site: SiteFactory) -> None:
    s = await site()
    async with s.charger() as cp:
        await cp.boot()
        soon = await s.central.execute(
            cmd.ReserveNow(
                charger_id="CP-001",
                connector_id=1,
                id_tag="BADGE-0001",
                expiry=utcnow() + timedelta(seconds=0.5),
            )
        )
        later = await s.central.execute(
            cmd.ReserveNow(
                charger_id="CP-001",
                connector_id=2,
                id_tag="BADGE-0002",
                expiry=utcnow() + timedelta(hours=1),
            )
        )
        assert s.tag("CP-001/C1/reservation_id") == soon.payload
    await wait_until(lambda: s.tag("CP-001/C1/reservation_id") is None)
    assert s.rows(f"select state from reservations where id = {soon.payload}") == [("expired",)]
    await s.central.stop()
    restarted = CentralSystem(s.project, TagBus(), s.archive, host="127.0.0.1", port=0)
    await restarted.start()
    try:
        assert restarted.bus.value("CP-001/C2/reservation_id") == later.payload
    finally:
        await restarted.stop()


async def test_a_transaction_open_at_a_restart_keeps_its_start_time(site: SiteFactory) -> None:
    # the charging service counts a usage profile's stay from the session's start
    s = await site()
    began = utcnow() - timedelta(hours=2)
    async with s.charger() as cp:
        await cp.boot()
        start = await cp.call(
            call.StartTransaction(
                connector_id=1, id_tag="ANY", meter_start=0, timestamp=to_wire(began)
            )
        )
        assert s.central.bus.get("CP-001/C1/transaction_id").ts > began + timedelta(hours=1)
    await s.central.stop()
    restarted = CentralSystem(s.project, TagBus(), s.archive, host="127.0.0.1", port=0)
    await restarted.start()
    try:
        sample = restarted.bus.get("CP-001/C1/transaction_id")
        assert sample is not None and sample.value == start.transaction_id
        assert abs(sample.ts - began) < timedelta(seconds=1)
    finally:
        await restarted.stop()


async def test_reserve_now_without_an_answer_stays_requested(site: SiteFactory) -> None:
    s = await site(response_timeout_s=0.3)
    offline = await s.central.execute(
        cmd.ReserveNow(
            charger_id="CP-001", connector_id=1, id_tag="X", expiry=utcnow() + timedelta(hours=1)
        )
    )
    assert offline.outcome is cmd.Outcome.OFFLINE
    async with connect(s.central.url_for("CP-001"), subprotocols=["ocpp1.6"]):  # type: ignore[list-item]
        await wait_until(lambda: "CP-001" in s.central.sessions)
        unanswered = await s.central.execute(
            cmd.ReserveNow(
                charger_id="CP-001",
                connector_id=1,
                id_tag="X",
                expiry=utcnow() + timedelta(hours=1),
            )
        )
    assert unanswered.outcome is cmd.Outcome.TIMEOUT
    assert s.rows("select id, state from reservations") == [(unanswered.payload, "requested")]
    assert s.tag("CP-001/C1/reservation_id") is None


BADGES = (
    Badge("FLEET", "Fleet"),
    Badge(
        "DRIVER-1",
        expiry=datetime(2099, 6, 30, 20, 0, tzinfo=timezone(timedelta(hours=2))),
        parent_id_tag="FLEET",
    ),
    Badge("LEFT", expiry=utcnow() - timedelta(minutes=1)),
    Badge("LOST", status=BadgeStatus.BLOCKED),
    Badge("OLD", status=BadgeStatus.EXPIRED),
    Badge("VOID", status=BadgeStatus.INVALID),
)


async def test_badge_status_and_expiry_decide_authorization(site: SiteFactory) -> None:
    s = await site(badges=BADGES, authorization=AuthorizationMode.BADGES)
    async with s.charger() as cp:
        await cp.boot()
        answers = {
            badge.id_tag: (await cp.call(call.Authorize(id_tag=badge.id_tag))).id_tag_info
            for badge in BADGES
        }
        start = await cp.call(
            call.StartTransaction(
                connector_id=1, id_tag="LOST", meter_start=0, timestamp=to_wire(utcnow())
            )
        )
    assert {tag: info["status"] for tag, info in answers.items()} == {
        "FLEET": "Accepted",
        "DRIVER-1": "Accepted",  # expires in 2099
        "LEFT": "Expired",
        "LOST": "Blocked",
        "OLD": "Expired",
        "VOID": "Invalid",
    }
    # the answer carries what the charger may cache: expiry (UTC) and group
    # (the ocpp client hands the payload over in snake_case)
    assert answers["DRIVER-1"] == {
        "status": "Accepted",
        "expiry_date": "2099-06-30T18:00:00.000Z",
        "parent_id_tag": "FLEET",
    }
    assert answers["FLEET"] == {"status": "Accepted"}
    assert start.id_tag_info["status"] == "Blocked"


async def test_send_local_list_sends_the_badge_table(site: SiteFactory) -> None:
    s = await site(badges=BADGES, local_list_version=4)
    async with s.charger() as cp:
        await cp.boot()
        empty = await s.central.execute(cmd.GetLocalListVersion(charger_id="CP-001"))
        assert (empty.outcome, empty.payload) == (cmd.Outcome.ACCEPTED, 0)
        assert s.tag("CP-001/local_list_version") == 0

        first = await s.central.execute(
            cmd.SendLocalList(charger_id="CP-001", update_type=cmd.LocalListUpdate.DIFFERENTIAL)
        )
        assert (first.outcome, first.status) == (cmd.Outcome.ACCEPTED, "Accepted")
        assert "sent Full" in first.detail
        assert s.tag("CP-001/local_list_version") == 4
        action, request = cp.requests[-1]
        assert action == "SendLocalList"
        assert (request["list_version"], request["update_type"]) == (4, "Full")
        entries = {e["id_tag"]: e["id_tag_info"] for e in request["local_authorization_list"]}
        assert list(entries) == [b.id_tag for b in BADGES]
        assert entries["FLEET"] == {"status": "Accepted"}
        assert entries["DRIVER-1"] == {
            "status": "Accepted",
            "expiry_date": "2099-06-30T18:00:00.000Z",
            "parent_id_tag": "FLEET",
        }
        assert entries["LOST"] == {"status": "Blocked"}

        second = await s.central.execute(
            cmd.SendLocalList(charger_id="CP-001", update_type=cmd.LocalListUpdate.DIFFERENTIAL)
        )
        assert second.ok and "sent Full" not in second.detail
        assert cp.requests[-1][1]["update_type"] == "Differential"
        assert len(cp.requests[-1][1]["local_authorization_list"]) == len(BADGES)

        cp.list_version = 9
        reported = await s.central.execute(cmd.GetLocalListVersion(charger_id="CP-001"))
        assert reported.payload == 9
        assert s.tag("CP-001/local_list_version") == 9


@pytest.mark.parametrize("answer", ["Failed", "NotSupported", "VersionMismatch"])
async def test_send_local_list_refusals_are_rejections(site: SiteFactory, answer: str) -> None:
    s = await site(badges=BADGES)
    async with s.charger() as cp:
        await cp.boot()
        assert (await s.central.execute(cmd.SendLocalList(charger_id="CP-001"))).ok
        cp.local_list_answer = answer
        differential = cmd.SendLocalList(
            charger_id="CP-001", update_type=cmd.LocalListUpdate.DIFFERENTIAL
        )
        refused = await s.central.execute(differential)
        assert (refused.outcome, refused.status) == (cmd.Outcome.REJECTED, answer)
        assert cp.requests[-1][1]["update_type"] == "Differential"
        assert s.tag("CP-001/local_list_version") == 1  # what the charger accepted before
        cp.local_list_answer = "Accepted"
        await s.central.execute(differential)
        # after a VersionMismatch the charger's list is unknown: the next one goes Full
        expected = "Full" if answer == "VersionMismatch" else "Differential"
        assert cp.requests[-1][1]["update_type"] == expected
    await wait_until(lambda: s.tag("CP-001/comm") is CommState.OFFLINE)
    offline = await s.central.execute(cmd.SendLocalList(charger_id="CP-001"))
    assert offline.outcome is cmd.Outcome.OFFLINE


# ---- service continuity, counters and frame log ----

INOPERATIVE_C1 = ("ChangeAvailability", {"connector_id": 1, "type": "Inoperative"})


def restored_events(s: Site) -> list[str]:
    return [d for (d,) in s.rows("select detail from charger_events where kind = 'restored'")]


async def barrier(s: Site, cp: FakeCharger) -> None:
    """A call from the central system after everything it was about to send before."""
    trigger = cmd.TriggerMessage(charger_id=cp.id, message=cmd.TriggerableMessage.HEARTBEAT)
    assert (await s.central.execute(trigger)).ok
    assert cp.requests[-1] == ("TriggerMessage", {"requested_message": "Heartbeat"})


async def test_availability_is_restored_after_a_reboot(site: SiteFactory) -> None:
    s = await site()
    async with s.charger() as cp:
        await cp.boot()
        await barrier(s, cp)
        assert not [r for r in cp.requests if r[0] == "ChangeAvailability"]  # nothing set yet
        off = cmd.ChangeAvailability(
            charger_id="CP-001", connector_id=1, kind=cmd.AvailabilityKind.INOPERATIVE
        )
        assert (await s.central.execute(off)).ok
        cp.requests.clear()
        await cp.boot()  # rebooted: the setting may be lost
        await wait_until(lambda: INOPERATIVE_C1 in cp.requests)
        await wait_until(lambda: restored_events(s))
        assert restored_events(s) == ["ChangeAvailability connector 1 Inoperative: Accepted"]
        # the statuses the charger reports after its boot do not make it send the same again
        await cp.call(call.StatusNotification(1, "NoError", "Available"))
        await barrier(s, cp)
        assert cp.requests.count(INOPERATIVE_C1) == 1


async def test_contradicting_status_after_a_reconnect_restores_once(site: SiteFactory) -> None:
    s = await site()
    async with s.charger() as cp:
        await cp.boot()
        whole = cmd.ChangeAvailability(
            charger_id="CP-001", connector_id=0, kind=cmd.AvailabilityKind.OPERATIVE
        )
        assert (await s.central.execute(whole)).ok
        off = cmd.ChangeAvailability(
            charger_id="CP-001", connector_id=1, kind=cmd.AvailabilityKind.INOPERATIVE
        )
        assert (await s.central.execute(off)).ok
    async with s.charger() as cp:  # reconnected without a boot
        await cp.call(call.StatusNotification(1, "NoError", "Unavailable"))  # as set
        await cp.call(call.StatusNotification(2, "NoError", "Available"))  # as set (connector 0)
        await barrier(s, cp)
        assert not [r for r in cp.requests if r[0] == "ChangeAvailability"]
        await cp.call(call.StatusNotification(1, "NoError", "Available"))  # contradiction
        await wait_until(lambda: INOPERATIVE_C1 in cp.requests)
        await cp.call(call.StatusNotification(1, "NoError", "Available"))
        await barrier(s, cp)
        assert cp.requests.count(INOPERATIVE_C1) == 1  # once per connection: no ping-pong
        await cp.call(call.StatusNotification(2, "NoError", "Unavailable"))  # contradicts 0
        operative = ("ChangeAvailability", {"connector_id": 0, "type": "Operative"})
        await wait_until(lambda: operative in cp.requests)
    await wait_until(lambda: len(restored_events(s)) == 2)
    assert restored_events(s) == [
        "ChangeAvailability connector 1 Inoperative: Accepted",
        "ChangeAvailability connector 0 Operative: Accepted",
    ]


async def test_local_list_is_sent_again_after_a_boot_when_the_charger_lost_it(
    site: SiteFactory,
) -> None:
    s = await site(badges=BADGES, local_list_version=4)
    async with s.charger() as cp:
        await cp.boot()
        assert (await s.central.execute(cmd.SendLocalList(charger_id="CP-001"))).ok
        cp.list_version = 4
        await cp.boot()  # the charger still has version 4: nothing to send
        await barrier(s, cp)
        assert [a for a, _ in cp.requests].count("SendLocalList") == 1
        cp.list_version = 0  # it lost its list, and said so
        lost = await s.central.execute(cmd.GetLocalListVersion(charger_id="CP-001"))
        assert lost.payload == 0
        await cp.boot()
        await wait_until(lambda: [a for a, _ in cp.requests].count("SendLocalList") == 2)
        assert cp.requests[-1][1]["list_version"] == 4
        await wait_until(lambda: s.tag("CP-001/local_list_version") == 4)
    await wait_until(lambda: restored_events(s))
    assert restored_events(s) == [f"SendLocalList ({len(BADGES)} badges, version 4): Accepted"]


async def test_session_counters_are_published_as_tags(site: SiteFactory) -> None:
    s = await site()
    published: list[Any] = []

    def count(path: str, sample: Sample) -> None:
        if path == "CP-001/frames_received":
            published.append(sample.value)

    s.bus.subscribe(count)
    async with s.charger() as cp:
        await cp.boot()  # 1 received, 1 sent
        for _ in range(20):  # 20 received, 20 sent, well within a second
            await cp.call(call.Heartbeat())
        await cp._send('[2, "bad", "Heartbeat"]')  # malformed: answered with a CALLERROR
        unlock = await s.central.execute(cmd.UnlockConnector(charger_id="CP-001", connector_id=1))
        assert unlock.outcome is cmd.Outcome.ERROR  # the fake charger answers NotImplemented

        def counters() -> tuple[Any, ...]:
            names = ("frames_received", "frames_sent", "callerrors_sent", "callerrors_received")
            return tuple(s.tag(f"CP-001/{name}") for name in names)

        await wait_until(lambda: counters() == (23, 23, 1, 1))
        assert len(published) <= 3  # at most once a second, not once a frame
        assert s.tag("CP-001/connects") == 1
        assert s.tag("CP-001/remote").startswith("127.0.0.1:")
        first_connect = s.tag("CP-001/last_connect")
        assert first_connect.tzinfo is not None
    async with s.charger():
        await wait_until(lambda: s.tag("CP-001/connects") == 2)
        assert s.tag("CP-001/last_connect") >= first_connect


async def test_frame_log_keeps_the_last_frames_of_both_directions(site: SiteFactory) -> None:
    s = await site()
    assert s.central.frame_log("CP-001") == []
    async with s.charger() as cp:
        await cp.boot()
        boot_in, boot_out = s.central.frame_log("CP-001")
        assert boot_in.direction is Direction.RECEIVED
        assert json.loads(boot_in.frame)[2] == "BootNotification"
        assert boot_out.direction is Direction.SENT
        assert json.loads(boot_out.frame)[0] == 3
        assert boot_in.ts <= boot_out.ts and boot_out.ts.tzinfo is not None
        for _ in range(FRAMES_KEPT // 2):
            await cp.call(call.Heartbeat())
        frames = s.central.frame_log("CP-001")
        assert len(frames) == FRAMES_KEPT  # the two boot frames went out of the ring
        assert json.loads(frames[0].frame)[2] == "Heartbeat"
        assert [f.direction for f in frames[-2:]] == [Direction.RECEIVED, Direction.SENT]


# ---- smart charging ----


def amps_profile(
    profile_id: int,
    purpose: ChargingProfilePurpose,
    limit: float,
    *,
    stack_level: int = 0,
    start: datetime | None = None,
) -> ChargingProfile:
    kind = ChargingProfileKind.RELATIVE if start is None else ChargingProfileKind.ABSOLUTE
    return ChargingProfile(
        profile_id=profile_id,
        stack_level=stack_level,
        purpose=purpose,
        kind=kind,
        schedule=ChargingSchedule(ChargingRateUnit.AMPS, (SchedulePeriod(0, limit),), start=start),
    )


def kept(s: Site) -> list[tuple[int, int]]:
    book = s.central.charging_profiles.get("CP-001", [])
    return sorted((i.connector_id, i.profile.profile_id) for i in book)


async def test_charging_profile_goes_out_in_utc_and_is_kept_once_accepted(
    site: SiteFactory,
) -> None:
    s = await site()
    paris = timezone(timedelta(hours=1))
    profile = amps_profile(
        5, ChargingProfilePurpose.TX_DEFAULT, 16.0, start=datetime(2026, 1, 5, 9, 0, tzinfo=paris)
    )
    async with s.charger() as cp:
        await cp.boot()
        result = await s.central.execute(
            cmd.SetChargingProfile(charger_id="CP-001", connector_id=1, profile=profile)
        )
        assert (result.outcome, result.status) == (cmd.Outcome.ACCEPTED, "Accepted")
        assert cp.requests[-1] == (
            "SetChargingProfile",
            {
                "connector_id": 1,
                "cs_charging_profiles": {
                    "charging_profile_id": 5,
                    "stack_level": 0,
                    "charging_profile_purpose": "TxDefaultProfile",
                    "charging_profile_kind": "Absolute",
                    "charging_schedule": {
                        "charging_rate_unit": "A",
                        "start_schedule": "2026-01-05T08:00:00.000Z",
                        "charging_schedule_period": [{"start_period": 0, "limit": 16.0}],
                    },
                },
            },
        )
        assert kept(s) == [(1, 5)]
        cp.profile_answer = "Rejected"
        refused = await s.central.execute(
            cmd.SetChargingProfile(
                charger_id="CP-001",
                connector_id=0,
                profile=amps_profile(6, ChargingProfilePurpose.CHARGE_POINT_MAX, 32.0),
            )
        )
        assert (refused.outcome, refused.status) == (cmd.Outcome.REJECTED, "Rejected")
        assert kept(s) == [(1, 5)]


async def test_profiles_that_cannot_apply_are_not_sent(site: SiteFactory) -> None:
    s = await site()
    async with s.charger() as cp:
        await cp.boot()
        for connector_id, purpose in (
            (1, ChargingProfilePurpose.CHARGE_POINT_MAX),
            (1, ChargingProfilePurpose.TX),  # no transaction runs
        ):
            result = await s.central.execute(
                cmd.SetChargingProfile(
                    charger_id="CP-001",
                    connector_id=connector_id,
                    profile=amps_profile(1, purpose, 10.0),
                )
            )
            assert (result.outcome, result.status) == (cmd.Outcome.ERROR, "InvalidRequest")
        assert cp.requests == []


async def test_tx_profile_targets_the_running_transaction_and_shapes_the_expectation(
    site: SiteFactory,
) -> None:
    s = await site()
    async with s.charger() as cp:
        await cp.boot()
        start = await cp.call(
            call.StartTransaction(
                connector_id=2, id_tag="ANY", meter_start=0, timestamp=to_wire(utcnow())
            )
        )
        for connector_id, profile in (
            (0, amps_profile(1, ChargingProfilePurpose.CHARGE_POINT_MAX, 20.0)),
            (0, amps_profile(2, ChargingProfilePurpose.TX_DEFAULT, 16.0)),
            (2, amps_profile(3, ChargingProfilePurpose.TX, 10.0)),
        ):
            result = await s.central.execute(
                cmd.SetChargingProfile(
                    charger_id="CP-001", connector_id=connector_id, profile=profile
                )
            )
            assert result.ok
        sent = cp.requests[-1][1]["cs_charging_profiles"]
        assert sent["transaction_id"] == start.transaction_id
        composite = await s.central.execute(
            cmd.GetCompositeSchedule(
                charger_id="CP-001", connector_id=2, duration_s=600, unit=ChargingRateUnit.AMPS
            )
        )
        assert composite.payload.expected == ((0, 10.0),)
        other = await s.central.execute(
            cmd.GetCompositeSchedule(charger_id="CP-001", connector_id=1, duration_s=600)
        )
        assert other.payload.expected == ((0, 16.0),)


async def test_composite_schedule_shows_the_chargers_answer_beside_evsupers(
    site: SiteFactory,
) -> None:
    s = await site()
    async with s.charger() as cp:
        await cp.boot()
        before = await s.central.execute(
            cmd.GetCompositeSchedule(charger_id="CP-001", connector_id=1, duration_s=600)
        )
        assert (before.outcome, before.status) == (cmd.Outcome.REJECTED, "Rejected")
        assert before.payload.expected == ()
        assert before.payload.charging_schedule is None
        profile = amps_profile(5, ChargingProfilePurpose.TX_DEFAULT, 16.0)
        assert (
            await s.central.execute(
                cmd.SetChargingProfile(charger_id="CP-001", connector_id=0, profile=profile)
            )
        ).ok
        cp.composite_answer = {
            "status": "Accepted",
            "connector_id": 1,
            "schedule_start": "2026-01-05T08:00:00Z",
            "charging_schedule": {
                "duration": 600,
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11040}],
            },
        }
        result = await s.central.execute(
            cmd.GetCompositeSchedule(
                charger_id="CP-001", connector_id=1, duration_s=600, unit=ChargingRateUnit.WATTS
            )
        )
        assert cp.requests[-1] == (
            "GetCompositeSchedule",
            {"connector_id": 1, "duration": 600, "charging_rate_unit": "W"},
        )
        assert (result.outcome, result.status) == (cmd.Outcome.ACCEPTED, "Accepted")
        answer = result.payload
        assert answer.schedule_start == datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
        assert answer.charging_schedule == ChargingSchedule(
            ChargingRateUnit.WATTS, (SchedulePeriod(0, 11040.0),), duration_s=600
        )
        assert answer.expected_unit is ChargingRateUnit.WATTS
        assert answer.expected == ((0, 11040.0),)
        assert answer.expected_start.tzinfo is not None


async def test_accepted_clear_forgets_the_matching_profiles(site: SiteFactory) -> None:
    s = await site()
    async with s.charger() as cp:
        await cp.boot()
        for connector_id, profile in (
            (0, amps_profile(1, ChargingProfilePurpose.CHARGE_POINT_MAX, 32.0)),
            (1, amps_profile(2, ChargingProfilePurpose.TX_DEFAULT, 16.0)),
            (2, amps_profile(3, ChargingProfilePurpose.TX_DEFAULT, 10.0, stack_level=1)),
        ):
            await s.central.execute(
                cmd.SetChargingProfile(
                    charger_id="CP-001", connector_id=connector_id, profile=profile
                )
            )
        assert kept(s) == [(0, 1), (1, 2), (2, 3)]
        cp.clear_profile_answer = "Unknown"
        unknown = await s.central.execute(
            cmd.ClearChargingProfile(charger_id="CP-001", profile_id=1)
        )
        assert (unknown.outcome, unknown.status) == (cmd.Outcome.REJECTED, "Unknown")
        assert kept(s) == [(0, 1), (1, 2), (2, 3)]
        cp.clear_profile_answer = "Accepted"
        cleared = await s.central.execute(
            cmd.ClearChargingProfile(
                charger_id="CP-001", purpose=ChargingProfilePurpose.TX_DEFAULT, stack_level=1
            )
        )
        assert cleared.ok
        assert cp.requests[-1] == (
            "ClearChargingProfile",
            {"charging_profile_purpose": "TxDefaultProfile", "stack_level": 1},
        )
        assert kept(s) == [(0, 1), (1, 2)]
        assert (await s.central.execute(cmd.ClearChargingProfile(charger_id="CP-001"))).ok
        assert kept(s) == []


async def test_firmware_update_and_diagnostics_with_their_status_history(site: SiteFactory) -> None:
    s = await site()
    async with s.charger() as cp:
        await cp.boot()
        at = datetime(2026, 12, 1, 3, 0, tzinfo=timezone(timedelta(hours=1)))
        update = await s.central.execute(
            cmd.UpdateFirmware(
                charger_id="CP-001", location="https://fw.example/cp-2.1.bin", retrieve_date=at
            )
        )
        assert update.ok
        diagnostics = await s.central.execute(
            cmd.GetDiagnostics(charger_id="CP-001", location="ftp://diag.example/", retries=2)
        )
        assert (diagnostics.ok, diagnostics.payload) == (True, "diag-CP-001.zip")
        for status in ("Downloading", "Downloaded", "Installing", "Installed"):
            await cp.call(call.FirmwareStatusNotification(status=status))
        await cp.call(call.DiagnosticsStatusNotification(status="Uploaded"))
        assert s.tag("CP-001/firmware_status") == "Installed"
        assert s.tag("CP-001/diagnostics_status") == "Uploaded"
    assert cp.requests[0] == (
        "UpdateFirmware",
        {"location": "https://fw.example/cp-2.1.bin", "retrieve_date": "2026-12-01T02:00:00.000Z"},
    )
    assert cp.requests[1] == ("GetDiagnostics", {"location": "ftp://diag.example/", "retries": 2})
    await s.archive.run_durable(lambda c: None)
    rows = s.rows("select kind, detail from charger_events where kind like '%-status' order by id")
    assert rows == [
        ("firmware-status", "Downloading"),
        ("firmware-status", "Downloaded"),
        ("firmware-status", "Installing"),
        ("firmware-status", "Installed"),
        ("diagnostics-status", "Uploaded"),
    ]


async def test_security_extension_notifications_are_recorded(site: SiteFactory) -> None:
    s = await site()
    async with s.charger() as cp:
        await cp.boot()
        await cp.call(
            call.SecurityEventNotification(
                type="InvalidCentralSystemCertificate",
                timestamp="2026-11-22T01:00:00Z",
                tech_info="issuer unknown",
            )
        )
        await cp.call(
            call.SignedFirmwareStatusNotification(status="SignatureVerified", request_id=7)
        )
        await cp.call(call.LogStatusNotification(status="Uploaded", request_id=8))
        assert s.tag("CP-001/firmware_status") == "SignatureVerified"
        assert s.tag("CP-001/diagnostics_status") == "Uploaded"
    await s.archive.run_durable(lambda c: None)
    assert s.rows("select kind, detail from anomalies") == [
        (
            "security-event",
            "InvalidCentralSystemCertificate at 2026-11-22T01:00:00Z: issuer unknown",
        )
    ]
    assert s.rows("select kind, detail from charger_events where kind like '%-status'") == [
        ("firmware-status", "SignatureVerified"),
        ("log-status", "Uploaded"),
    ]


async def test_oversize_frame_gets_a_callerror_and_the_connection_lives(site: SiteFactory) -> None:
    s = await site()
    url = s.central.url_for("CP-001")
    async with connect(url, subprotocols=["ocpp1.6"], max_size=None) as ws:  # type: ignore[list-item]
        big = json.dumps([2, "big", "DataTransfer", {"vendorId": "X", "data": "a" * 600_000}])
        await ws.send(big)
        reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert reply[:3] == [4, "big", "FormationViolation"]
        await ws.send(json.dumps([3, "late", {"data": "b" * 600_000}]))  # an answer: no reply
        await ws.send('[2, "hb", "Heartbeat", {}]')
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))[:2] == [3, "hb"]
    await s.archive.run_durable(lambda c: None)
    assert [k for (k,) in s.rows("select kind from anomalies")] == ["oversize-frame"] * 2


async def test_relaxed_validation_is_per_charger_and_recorded(make_project: Any) -> None:
    project = make_project(bollards=2)
    file = project.directory / "project.toml"
    file.write_text(
        file.read_text().replace('id = "CP-001"\n', 'id = "CP-001"\nrelaxed_validation = true\n')
    )
    loaded = load_project(project.directory)
    project = dataclasses.replace(loaded, ocpp=dataclasses.replace(loaded.ocpp, port=0))
    assert [c.relaxed_validation for c in project.chargers] == [True, False]
    s = await start_site(project)
    too_long = call.BootNotification(
        charge_point_vendor="Vendor",
        charge_point_model="M",
        charge_point_serial_number="S" * 40,  # the schema allows 25
    )
    try:
        async with s.charger("CP-001") as lax, s.charger("CP-002") as strict:
            answer = await lax.call(too_long, skip_schema_validation=True)
            assert answer.status == "Accepted"
            with pytest.raises(OCPPError) as refused:
                await strict.call(too_long, suppress=False, skip_schema_validation=True)
            assert refused.value.code == "TypeConstraintViolation"
        await s.archive.run_durable(lambda c: None)
        assert s.rows("select charger_id, kind from anomalies") == [("CP-001", "schema-relaxed")]
    finally:
        await s.central.stop()
        await s.archive.stop()


async def test_operator_settings_survive_an_engine_restart(site: SiteFactory) -> None:
    s = await site()
    profile = amps_profile(9, ChargingProfilePurpose.TX_DEFAULT, 10.0)
    async with s.charger() as cp:
        await cp.boot()
        off = cmd.ChangeAvailability(
            charger_id="CP-001", connector_id=1, kind=cmd.AvailabilityKind.INOPERATIVE
        )
        assert (await s.central.execute(off)).ok
        set_ = cmd.SetChargingProfile(charger_id="CP-001", connector_id=1, profile=profile)
        assert (await s.central.execute(set_)).ok
    await s.central.stop()
    await s.archive.stop()

    # a new engine on the same archive: it knows what the operator set and restores it
    again = await start_site(s.project)
    try:
        assert kept(again) == [(1, 9)]
        async with again.charger() as cp:
            await cp.boot()
            await wait_until(lambda: INOPERATIVE_C1 in cp.requests)
    finally:
        await again.central.stop()
        await again.archive.stop()
