"""The charging service in a real engine, with simulated bollards over OCPP on loopback."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from support import execute_as_admin, wait_until

from evsuper.charging.allocator import Objective
from evsuper.charging.profiles import ChargingProfilePurpose, ChargingRateUnit
from evsuper.charging.status import ChargingMode, ConnectorAllocation, SiteChargingStatus
from evsuper.core.domain import CommState, ConnectorStatus
from evsuper.core.tags import Quality, Sample
from evsuper.core.timeutil import utcnow
from evsuper.drivers.simulator.bollard import SimulatedBollard
from evsuper.drivers.simulator.ev import ConnectorModel, MeterSample
from evsuper.engine import commands as cmd
from evsuper.engine.runtime import Engine
from evsuper.project.model import (
    Badge,
    LimitScheduleEntry,
    Project,
    SmartChargingSettings,
    UsageProfile,
)
from evsuper.users.audit import AuditFilter, query_audit

SITE_KW = 30.0
FAST = SmartChargingSettings(
    enabled=True,
    period_s=30.0,  # what the tests see comes from events, not from the timer
    debounce_s=0.05,
    settle_s=60.0,  # no demand detection: setpoints depend on the limits alone
    failsafe=False,
    stagger_s=0.0,
)

EngineFactory = Callable[..., Any]


@pytest.fixture
async def start_engine(make_project: Any) -> AsyncIterator[EngineFactory]:
    """Start an engine for N one-connector 22 kW bollards under a 30 kW site."""
    engines: list[Engine] = []

    async def start(
        bollards: int = 3,
        simulate: bool = True,
        objective: Objective = Objective.FAIR,
        **settings: Any,
    ) -> Engine:
        project: Project = make_project(bollards=bollards, connectors=1)
        site = dataclasses.replace(project.sites[0], limit_kw=SITE_KW, objective=objective)
        smart = dataclasses.replace(FAST, **settings)
        project = dataclasses.replace(project, sites=(site,), smart_charging=smart)
        engine = Engine(project, ocpp_port=0, run_simulator=simulate)
        await engine.start()
        engines.append(engine)
        return engine

    yield start
    for engine in engines:
        await engine.stop()


def status(engine: Engine) -> SiteChargingStatus:
    return engine.charging.status(engine.project.sites[0].id)


def connector(engine: Engine, charger_id: str) -> ConnectorAllocation:
    return next(c for c in status(engine).connectors if c.charger_id == charger_id)


def settled(engine: Engine, expected: dict[str, tuple[str, float]]) -> bool:
    """Each charger's (state, setpoint) is as expected and was acknowledged."""
    shown = {c.charger_id: (c.state, c.current_a, c.sent_a) for c in status(engine).connectors}
    return all(
        shown.get(charger_id) == (state, current_a, current_a)
        for charger_id, (state, current_a) in expected.items()
    )


async def charge(engine: Engine, *charger_ids: str) -> None:
    for i, charger_id in enumerate(charger_ids):
        await wait_until(lambda c=charger_id: engine.bus.value(f"{c}/comm") is CommState.ONLINE)
        await wait_until(
            lambda c=charger_id: engine.bus.value(f"{c}/C1/status") is ConnectorStatus.AVAILABLE
        )
        started = await execute_as_admin(
            engine.router,
            cmd.RemoteStart(charger_id=charger_id, connector_id=1, id_tag=f"CAR-{i}"),
        )
        assert started.ok, started
    for charger_id in charger_ids:
        await wait_until(lambda c=charger_id: engine.bus.value(f"{c}/C1/transaction_id"))


async def site_limit(engine: Engine, limit_kw: float | None) -> None:
    site_id = engine.project.sites[0].id
    result = await execute_as_admin(
        engine.router, cmd.SetSiteLimit(site_id=site_id, limit_kw=limit_kw)
    )
    assert result.ok, result


def profile_frames(engine: Engine, charger_id: str) -> int:
    return sum(
        1
        for f in engine.central.frame_log(charger_id)
        if f.direction == "sent" and '"SetChargingProfile"' in f.frame
    )


async def test_hysteresis_pause_and_site_limit(start_engine: EngineFactory) -> None:
    engine = await start_engine()
    chargers = ("CP-001", "CP-002", "CP-003")
    await charge(engine, *chargers)
    # 30 kW over three three-phase sessions: 14.49 A each, sent as 14.4 A
    await wait_until(lambda: settled(engine, dict.fromkeys(chargers, ("charging", 14.4))))
    assert engine.bus.value("CP-001/C1/setpoint_a") == 14.4
    assert status(engine).nodes[0].allocated_kw == pytest.approx(3 * 14.4 * 0.69)
    sent = {c: profile_frames(engine, c) for c in chargers}

    # +0.5 A is within the 1 A hysteresis: computed, not sent
    before = status(engine).computed_at
    await site_limit(engine, 31.0)
    await wait_until(lambda: status(engine).computed_at != before)
    assert {connector(engine, c).current_a for c in chargers} == {14.9}
    assert {connector(engine, c).sent_a for c in chargers} == {14.4}
    assert status(engine).limit_source == "operator"
    assert {c: profile_frames(engine, c) for c in chargers} == sent

    # -0.2 A is within the hysteresis too, but 3 x 14.4 A would break 29.5 kW: sent
    await site_limit(engine, 29.5)
    await wait_until(lambda: settled(engine, dict.fromkeys(chargers, ("charging", 14.2))))

    # 10 kW: two sessions at their 6 A minimum, the third paused with a 0 A profile
    await site_limit(engine, 10.0)
    paused = {"CP-001": ("charging", 7.2), "CP-002": ("charging", 7.2), "CP-003": ("paused", 0)}
    await wait_until(lambda: settled(engine, paused))
    assert connector(engine, "CP-003").reason.startswith("paused: below 6 A minimum")
    await wait_until(lambda: engine.bus.value("CP-003/C1/power_kw") == 0.0)
    await wait_until(lambda: engine.bus.value("CP-003/C1/status") is ConnectorStatus.SUSPENDED_EVSE)
    installed = [
        i.profile
        for i in engine.central.installed_profiles("CP-003")
        if i.profile.purpose is ChargingProfilePurpose.TX
    ]
    assert [p.schedule.periods[0].limit for p in installed] == [0.0]

    # the override cleared: back to the static 30 kW, the paused session resumes
    await site_limit(engine, None)
    await wait_until(lambda: settled(engine, dict.fromkeys(chargers, ("charging", 14.4))))
    assert status(engine).limit_source == "static"


async def test_residual_power_goes_to_the_others_up_to_their_maximum(
    start_engine: EngineFactory,
) -> None:
    engine = await start_engine()
    await charge(engine, "CP-001")
    # one session alone: its own 22 kW maximum (31.88 A), not the site's 30 kW
    await wait_until(lambda: settled(engine, {"CP-001": ("charging", 31.8)}))
    assert connector(engine, "CP-001").reason == "limited by its maximum power"
    await charge(engine, "CP-002")
    await wait_until(
        lambda: settled(engine, {"CP-001": ("charging", 21.7), "CP-002": ("charging", 21.7)})
    )
    assert status(engine).nodes[0].full


async def test_manual_mode_uses_the_operator_limits_under_the_site_limit(
    start_engine: EngineFactory,
) -> None:
    engine = await start_engine()
    site_id = engine.project.sites[0].id
    await charge(engine, "CP-001", "CP-002", "CP-003")
    refused = await engine.router.execute(
        cmd.SetChargingMode(site_id=site_id, mode=ChargingMode.MANUAL)
    )
    assert refused.outcome is cmd.Outcome.DENIED  # nobody logged in, not confirmed
    for charger_id, limit in (("CP-001", 10.0), ("CP-002", 0.0)):
        result = await execute_as_admin(
            engine.router,
            cmd.SetManualLimit(charger_id=charger_id, connector_id=1, limit_a=limit),
        )
        assert result.ok, result
    invalid = await execute_as_admin(
        engine.router, cmd.SetManualLimit(charger_id="CP-003", connector_id=1, limit_a=3.0)
    )
    assert (invalid.outcome, invalid.status) == (cmd.Outcome.ERROR, "InvalidValue")
    # the limits wait for manual mode
    await wait_until(lambda: settled(engine, dict.fromkeys(connectors(engine), ("charging", 14.4))))
    manual = await execute_as_admin(
        engine.router, cmd.SetChargingMode(site_id=site_id, mode=ChargingMode.MANUAL)
    )
    assert manual.ok
    # CP-003 has no limit (its maximum): what the site has left, 30 - 6.9 kW
    expected = {
        "CP-001": ("manual", 10.0),
        "CP-002": ("paused", 0.0),
        "CP-003": ("manual", 31.8),
    }
    await wait_until(lambda: settled(engine, expected))
    assert connector(engine, "CP-002").reason == "manual limit 0 A"
    assert engine.bus.value(f"_system/charging/{site_id}/mode") is ChargingMode.MANUAL
    # a lower site limit still holds in manual mode
    await site_limit(engine, 20.0)
    await wait_until(
        lambda: settled(
            engine,
            {"CP-001": ("manual", 10.0), "CP-002": ("paused", 0), "CP-003": ("manual", 18.9)},
        )
    )


def connectors(engine: Engine) -> list[str]:
    return [c.charger_id for c in status(engine).connectors]


async def test_failsafe_profile_on_connect_and_restore_after_reconnect(
    start_engine: EngineFactory,
) -> None:
    engine = await start_engine(failsafe=True)
    # 30 kW shared by three 22 kW bollards: 10 kW each, 14.4 A on 3 phases
    for charger_id in ("CP-001", "CP-002", "CP-003"):
        await wait_until(
            lambda c=charger_id: any(
                i.profile.purpose is ChargingProfilePurpose.CHARGE_POINT_MAX
                for i in engine.central.installed_profiles(c)
            )
        )
    (failsafe,) = engine.central.installed_profiles("CP-001")
    assert failsafe.connector_id == 0
    assert failsafe.profile.stack_level == FAST.stack_level - 1
    schedule = failsafe.profile.schedule
    assert schedule.unit is ChargingRateUnit.AMPS
    assert (schedule.periods[0].limit, schedule.periods[0].number_phases) == (14.4, 3)

    await charge(engine, "CP-001")
    # alone on the site, yet held to its fail-safe share: the allocator knows the cap
    await wait_until(lambda: settled(engine, {"CP-001": ("charging", 14.4)}))
    assert connector(engine, "CP-001").binding == "CP-001"
    acknowledged = engine.charging.acknowledged_at("CP-001", 1)
    frames = profile_frames(engine, "CP-001")

    assert engine.simulator is not None
    engine.simulator.bollards["CP-001"].abort()  # the connection drops, the session goes on
    await wait_until(lambda: engine.bus.value("CP-001/comm") is CommState.OFFLINE)
    await wait_until(lambda: engine.bus.value("CP-001/comm") is CommState.ONLINE)
    # both profiles are sent again once it is back
    await wait_until(lambda: profile_frames(engine, "CP-001") >= frames + 2)
    await wait_until(
        lambda: (engine.charging.acknowledged_at("CP-001", 1) or acknowledged) > acknowledged
    )
    await wait_until(lambda: settled(engine, {"CP-001": ("charging", 14.4)}))


async def test_comm_loss_counts_the_charger_at_its_maximum_until_it_returns(
    start_engine: EngineFactory,
) -> None:
    engine = await start_engine(bollards=2, simulate=False)
    project = engine.project

    def run(charger_id: str) -> asyncio.Task[None]:
        config = project.charger(charger_id)
        assert config is not None
        bollard = SimulatedBollard(config, project.simulator, project.badges)
        return asyncio.create_task(bollard.run(engine.central.url_for(charger_id)))

    tasks = {c.id: run(c.id) for c in project.chargers}
    try:
        await charge(engine, "CP-002")
        await wait_until(lambda: settled(engine, {"CP-002": ("charging", 31.8)}))
        tasks["CP-001"].cancel()  # CP-001 (idle) drops off the network
        await asyncio.gather(tasks["CP-001"], return_exceptions=True)
        await wait_until(lambda: engine.bus.value("CP-001/comm") is CommState.OFFLINE)
        # it may be charging on its own: counted at its 22 kW, CP-002 gets 8 kW
        await wait_until(lambda: settled(engine, {"CP-002": ("charging", 11.5)}))
        assert connector(engine, "CP-001").state == "offline"
        assert connector(engine, "CP-001").reason == "communication lost: counted at its maximum"
        assert status(engine).nodes[0].power_kw >= 22.0
        tasks["CP-001"] = run("CP-001")
        await wait_until(lambda: settled(engine, {"CP-002": ("charging", 31.8)}))
        assert connector(engine, "CP-001").state == "not requested"
    finally:
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)


async def test_staggered_start_after_a_mode_change(start_engine: EngineFactory) -> None:
    engine = await start_engine(stagger_s=0.3)
    site_id = engine.project.sites[0].id
    chargers = ("CP-001", "CP-002", "CP-003")
    await charge(engine, *chargers)
    for charger_id in chargers:
        result = await execute_as_admin(
            engine.router, cmd.SetManualLimit(charger_id=charger_id, connector_id=1, limit_a=0.0)
        )
        assert result.ok
    await execute_as_admin(
        engine.router, cmd.SetChargingMode(site_id=site_id, mode=ChargingMode.MANUAL)
    )
    await wait_until(lambda: settled(engine, dict.fromkeys(chargers, ("paused", 0.0))))
    await execute_as_admin(
        engine.router, cmd.SetChargingMode(site_id=site_id, mode=ChargingMode.AUTO)
    )
    # one session restarts per 0.3 s: the first round lifts one and holds the others
    seen: set[tuple[str, ...]] = set()

    def states() -> bool:
        seen.add(tuple(connector(engine, c).state for c in chargers))
        return settled(engine, dict.fromkeys(chargers, ("charging", 14.4)))

    await wait_until(states)
    assert ("charging", "paused", "paused") in seen
    assert ("charging", "charging", "paused") in seen
    starts = [engine.charging.acknowledged_at(c, 1) for c in chargers]
    assert len(set(starts)) == 3 and None not in starts


async def test_watchdog_restarts_a_stuck_allocation_loop(
    start_engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = await start_engine(period_s=0.2)
    site_id = engine.project.sites[0].id
    healthy = f"_system/charging/{site_id}/healthy"
    await wait_until(lambda: status(engine).computed_at is not None)
    service = engine.charging
    real_round = service._round
    stuck = asyncio.Event()

    async def hang(site: Any) -> None:  # a round that never ends (fault injection)
        stuck.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(service, "_round", hang)
    await wait_until(lambda: stuck.is_set())
    await wait_until(lambda: engine.bus.value(healthy) is False)
    assert not status(engine).healthy
    assert status(engine).last_error.startswith("watchdog: no allocation for")
    monkeypatch.setattr(service, "_round", real_round)
    before = status(engine).computed_at
    await wait_until(lambda: engine.bus.value(healthy) is True)  # the restarted loop runs
    await wait_until(lambda: status(engine).computed_at != before)
    assert status(engine).healthy


async def test_commands_for_unknown_sites_and_connectors_are_errors(
    start_engine: EngineFactory,
) -> None:
    engine = await start_engine(bollards=1)
    result = await execute_as_admin(
        engine.router, cmd.SetSiteLimit(site_id="NOWHERE", limit_kw=10.0)
    )
    assert (result.outcome, result.status) == (cmd.Outcome.ERROR, "UnknownSite")
    result = await execute_as_admin(
        engine.router, cmd.SetManualLimit(charger_id="CP-001", connector_id=9, limit_a=10.0)
    )
    assert (result.outcome, result.status) == (cmd.Outcome.ERROR, "UnknownConnector")
    assert engine.charging.sites() == [engine.project.sites[0].id]


async def test_limit_in_force_from_schedule_building_load_and_tag(
    make_project: Any,
) -> None:
    project: Project = make_project(bollards=1, connectors=1)
    site = dataclasses.replace(
        project.sites[0],
        limit_kw=SITE_KW,
        limit_schedule=(LimitScheduleEntry("00:00", limit_kw=20.0),),  # all day
        base_load_tag="SITE/meter/building_kw",
        limit_tag="SITE/dso/limit_kw",
    )
    project = dataclasses.replace(project, sites=(site,), smart_charging=FAST)
    engine = Engine(project, ocpp_port=0)
    await engine.start()
    try:
        await charge(engine, "CP-001")
        # no tag value yet: the schedule's 20 kW, 28.98 A
        await wait_until(lambda: settled(engine, {"CP-001": ("charging", 28.9)}))
        assert status(engine).limit_source == (
            "schedule from 00:00 (tag SITE/dso/limit_kw unavailable)"
            " (building load tag SITE/meter/building_kw unavailable)"
        )
        engine.bus.publish("SITE/meter/building_kw", Sample(5.0))  # 15 kW left
        await wait_until(lambda: settled(engine, {"CP-001": ("charging", 21.7)}))
        assert engine.bus.value("_system/charging/SITE/available_kw") == pytest.approx(15.0)
        assert status(engine).limit_source == (
            "schedule from 00:00 (tag SITE/dso/limit_kw unavailable) 20 kW"
            " - building load 5 kW (SITE/meter/building_kw)"
        )
        engine.bus.publish("SITE/dso/limit_kw", Sample(12.0))  # 12 - 5 kW
        await wait_until(lambda: settled(engine, {"CP-001": ("charging", 10.1)}))
        assert status(engine).limit_source == (
            "tag SITE/dso/limit_kw 12 kW - building load 5 kW (SITE/meter/building_kw)"
        )
        engine.bus.publish("SITE/dso/limit_kw", Sample(12.0, quality=Quality.COMM_FAILURE))
        await wait_until(lambda: settled(engine, {"CP-001": ("charging", 21.7)}))
    finally:
        await engine.stop()


async def test_usage_profiles_give_badge_groups_priority_and_a_maximum(
    make_project: Any,
) -> None:
    project: Project = make_project(bollards=3, connectors=1)
    site = dataclasses.replace(project.sites[0], limit_kw=10.0, objective=Objective.PRIORITY)
    badges = (
        Badge("VISITOR-1", parent_id_tag="VISITORS"),
        Badge("FLEET-1", parent_id_tag="FLEET"),
        Badge("FLEET-2", parent_id_tag="FLEET"),
    )
    project = dataclasses.replace(
        project,
        sites=(site,),
        badges=badges,
        smart_charging=FAST,
        usage_profiles=(UsageProfile("FLEET", "fleet", priority=1, max_current_a=7.0),),
    )
    engine = Engine(project, ocpp_port=0)
    await engine.start()
    try:
        for charger_id, badge in (
            ("CP-001", "VISITOR-1"),
            ("CP-002", "FLEET-1"),
            ("CP-003", "FLEET-2"),
        ):
            await wait_until(
                lambda c=charger_id: engine.bus.value(f"{c}/C1/status") is ConnectorStatus.AVAILABLE
            )
            started = await execute_as_admin(
                engine.router, cmd.RemoteStart(charger_id=charger_id, connector_id=1, id_tag=badge)
            )
            assert started.ok
        # 10 kW = 14.49 A: the two fleet sessions first (at most 7 A), the visitor is paused
        expected = {
            "CP-001": ("paused", 0.0),
            "CP-002": ("charging", 7.0),
            "CP-003": ("charging", 7.0),
        }
        await wait_until(lambda: settled(engine, expected))
        fleet = connector(engine, "CP-002")
        assert (fleet.priority, fleet.usage_profile) == (1, "fleet")
        assert connector(engine, "CP-001").usage_profile == ""
    finally:
        await engine.stop()


async def test_operator_mode_and_limits_outlive_a_restart(start_engine: EngineFactory) -> None:
    engine = await start_engine(bollards=1)
    site_id = engine.project.sites[0].id
    for command in (
        cmd.SetChargingMode(site_id=site_id, mode=ChargingMode.MANUAL),
        cmd.SetSiteLimit(site_id=site_id, limit_kw=12.0),
        cmd.SetManualLimit(charger_id="CP-001", connector_id=1, limit_a=8.0),
    ):
        result = await execute_as_admin(engine.router, command)
        assert result.ok, result
    await engine.stop()  # (stopping twice at teardown is harmless)

    again = Engine(engine.project, ocpp_port=0)
    await again.start()
    try:
        await charge(again, "CP-001")
        await wait_until(lambda: settled(again, {"CP-001": ("manual", 8.0)}))
        assert status(again).mode is ChargingMode.MANUAL
        assert status(again).limit_source == "operator"
    finally:
        await again.stop()


async def test_tx_default_profiles_when_the_project_asks_for_them(
    start_engine: EngineFactory,
) -> None:
    engine = await start_engine(bollards=2, profile_purpose=ChargingProfilePurpose.TX_DEFAULT)
    await charge(engine, "CP-001", "CP-002")
    await wait_until(
        lambda: settled(engine, {"CP-001": ("charging", 21.7), "CP-002": ("charging", 21.7)})
    )
    (installed,) = engine.central.installed_profiles("CP-001")
    assert (installed.connector_id, installed.profile.purpose) == (
        1,
        ChargingProfilePurpose.TX_DEFAULT,
    )
    assert installed.profile.transaction_id is None
    assert installed.profile.stack_level == FAST.stack_level


async def test_a_refused_profile_is_shown_and_not_retried_at_every_event(
    start_engine: EngineFactory,
) -> None:
    engine = await start_engine(bollards=2)
    assert engine.simulator is not None
    engine.simulator.bollards["CP-001"].profiles.capacity = 0  # it refuses every profile
    await charge(engine, "CP-001", "CP-002")
    await wait_until(lambda: "CP-001/C1" in status(engine).last_error)
    assert "Rejected" in status(engine).last_error
    # until it accepts a limit, it draws what it wants: counted at its 22 kW (30 - 22 kW)
    await wait_until(lambda: settled(engine, {"CP-002": ("charging", 11.5)}))
    assert connector(engine, "CP-001").state == "uncontrolled"
    assert connector(engine, "CP-001").reason == "it refused its limit: counted at its maximum"
    assert connector(engine, "CP-001").sent_a is None
    refused = profile_frames(engine, "CP-001")
    rounds = 8
    for i in range(rounds):  # events: each makes a round, the refusing charger waits 1, 2, 4 s
        before = status(engine).computed_at
        await site_limit(engine, 29.0 - i / 10)
        await wait_until(lambda b=before: status(engine).computed_at != b)
    assert profile_frames(engine, "CP-001") - refused < rounds / 2


async def test_paused_sessions_take_turns_after_restart_after_s(
    start_engine: EngineFactory,
) -> None:
    engine = await start_engine(bollards=2, restart_after_s=0.8, stagger_s=0.2)
    await charge(engine, "CP-001", "CP-002")
    # 5 kW: one session at its 6 A minimum (4.1 kW), the other paused
    await site_limit(engine, 5.0)
    first = {"CP-001": ("charging", 7.2), "CP-002": ("paused", 0.0)}
    await wait_until(lambda: settled(engine, first))
    loop = asyncio.get_running_loop()
    paused_at = loop.time()
    # paused for restart_after_s: CP-002 takes CP-001's turn (its decrease first)
    second = {"CP-001": ("paused", 0.0), "CP-002": ("charging", 7.2)}
    await wait_until(lambda: settled(engine, second), within=5.0)
    assert loop.time() - paused_at >= 0.8 - 0.1
    assert connector(engine, "CP-001").reason == (
        "paused: taking turns with CP-002/C1, its turn in 1 s"
    )
    assert engine.charging.acknowledged_at("CP-002", 1) is not None
    # and back again after another restart_after_s
    await wait_until(lambda: settled(engine, first), within=5.0)
    # power for both: the resting session restarts at once, without waiting for its turn
    await site_limit(engine, None)
    both = {"CP-001": ("charging", 21.7), "CP-002": ("charging", 21.7)}
    await wait_until(lambda: settled(engine, both), within=2.0)


async def test_a_refused_decrease_is_counted_at_the_limit_the_charger_keeps(
    start_engine: EngineFactory,
) -> None:
    engine = await start_engine(bollards=2)
    assert engine.simulator is not None
    await charge(engine, "CP-001", "CP-002")
    both = {"CP-001": ("charging", 21.7), "CP-002": ("charging", 21.7)}
    await wait_until(lambda: settled(engine, both))
    profiles = engine.simulator.bollards["CP-001"].profiles
    capacity, profiles.capacity = profiles.capacity, 0  # it refuses every profile from now
    # 20 kW: 14.4 A each, but CP-001 keeps 21.7 A (15 kW): CP-002 gets the 5 kW left, and
    # its increase is never sent before the refusal is known
    await site_limit(engine, 20.0)
    await wait_until(lambda: settled(engine, {"CP-002": ("charging", 7.2)}))
    held = connector(engine, "CP-001")
    assert (held.state, held.current_a, held.sent_a) == ("uncontrolled", 21.7, 21.7)
    assert held.reason == "its charger did not take its limit: counted at 21.7 A"
    # asked again (after 1, 2, 4 ... s): once it accepts, both share the 20 kW
    profiles.capacity = capacity
    await wait_until(
        lambda: settled(engine, {"CP-001": ("charging", 14.4), "CP-002": ("charging", 14.4)}),
        within=6.0,
    )


class _SinglePhaseCar(ConnectorModel):
    """A simulated connector whose car draws on L1 only (its meter values say so)."""

    def sample(self) -> MeterSample:
        sample = super().sample()
        volts = sample.voltage_v[0]
        return dataclasses.replace(sample, current_a=(sample.power_w / volts, 0.0, 0.0))


async def test_a_single_phase_vehicle_is_allocated_on_one_phase(
    start_engine: EngineFactory,
) -> None:
    engine = await start_engine(bollards=2)
    assert engine.simulator is not None
    engine.simulator.bollards["CP-001"].connectors[1].model.__class__ = _SinglePhaseCar
    await charge(engine, "CP-001", "CP-002")
    # 10 kW: two three-phase sessions would get 7.2 A each; CP-001's car loads L1 only,
    # so both get 10 kW / (230 + 690 W/A) = 10.87 A per phase
    await site_limit(engine, 10.0)
    expected = {"CP-001": ("charging", 10.8), "CP-002": ("charging", 10.8)}
    await wait_until(lambda: settled(engine, expected))
    (installed,) = [
        i.profile
        for i in engine.central.installed_profiles("CP-001")
        if i.profile.purpose is ChargingProfilePurpose.TX
    ]
    assert installed.schedule.periods[0].number_phases == 1
    assert connector(engine, "CP-001").power_kw == pytest.approx(10.8 * 0.23)
    assert status(engine).nodes[0].allocated_kw == pytest.approx(10.8 * 0.92)
    # the car follows its one-phase limit: 10.8 A on L1 is 2.5 kW
    await wait_until(
        lambda: engine.bus.value("CP-001/C1/power_kw") == pytest.approx(10.8 * 0.23, abs=0.05)
    )


async def test_a_planned_vehicle_gets_its_need_served_first_under_the_deadline_objective(
    start_engine: EngineFactory,
) -> None:
    engine = await start_engine(bollards=2, objective=Objective.DEADLINE)
    now = utcnow()
    planned = await execute_as_admin(
        engine.router,
        cmd.PlanSession(
            site_id=engine.project.sites[0].id,
            charger_id="CP-001",
            connector_id=1,
            badge="CAR-0",
            arrival=now,
            departure=now + timedelta(hours=1),
            energy_kwh=20.0,
            max_kw=22.0,
        ),
    )
    assert planned.ok, planned
    await charge(engine, "CP-001", "CP-002")  # CP-001 with badge CAR-0
    # 30 kW = 43.5 A: 20 kWh in an hour takes 29 A; fair share would give 21.7 A each

    def served() -> bool:
        current = {c.charger_id: c.current_a for c in status(engine).connectors}
        return current.get("CP-001", 0.0) > 28.0 and current.get("CP-002", 0.0) > 14.0

    await wait_until(served)
    first, second = connector(engine, "CP-001"), connector(engine, "CP-002")
    assert first.need_source == f"plan {planned.payload.id}"
    assert first.departure == now + timedelta(hours=1)
    assert first.energy_need_kwh is not None and 19.0 < first.energy_need_kwh <= 20.0
    assert (second.need_source, second.departure, second.energy_need_kwh) == ("", None, None)
    assert first.current_a + second.current_a <= 43.48


async def test_the_operator_gives_a_running_session_its_need_until_it_ends(
    start_engine: EngineFactory,
) -> None:
    engine = await start_engine(bollards=2, objective=Objective.DEADLINE)

    def need(**given: Any) -> cmd.SetSessionNeed:
        fields: dict[str, Any] = {"energy_kwh": None, "departure": None} | given
        return cmd.SetSessionNeed(charger_id="CP-002", connector_id=1, **fields)

    idle = await execute_as_admin(engine.router, need(energy_kwh=5.0, departure=utcnow()))
    assert idle.status == "NoSession"
    await charge(engine, "CP-001", "CP-002")
    half = await execute_as_admin(engine.router, need(energy_kwh=5.0))
    assert (half.status, half.detail) == (
        "InvalidValue",
        "give both the energy and the departure, or neither",
    )
    past = await execute_as_admin(
        engine.router, need(energy_kwh=5.0, departure=utcnow() - timedelta(minutes=1))
    )
    assert past.detail == "the departure is already past"
    departure = utcnow() + timedelta(hours=1)
    given = await execute_as_admin(engine.router, need(energy_kwh=20.0, departure=departure))
    assert given.ok, given
    await engine.archive.run_durable(lambda connection: None)  # the audit queue written
    trail = query_audit(engine.archive.engine, AuditFilter(target="CP-002"))
    needs = [e for e in trail if e.action == "SetSessionNeed"]  # newest first
    assert [(e.result, e.parameters["energy_kwh"]) for e in needs] == [
        (cmd.Outcome.ACCEPTED.value, 20.0),
        (cmd.Outcome.ERROR.value, 5.0),
        (cmd.Outcome.ERROR.value, 5.0),
        (cmd.Outcome.ERROR.value, 5.0),
    ]

    def current() -> dict[str, float]:
        return {c.charger_id: c.current_a for c in status(engine).connectors}

    # 20 kWh in an hour takes 29 A of the 43.5 A; the other session gets the rest
    await wait_until(lambda: current().get("CP-002", 0.0) > 28.0)
    shown = connector(engine, "CP-002")
    assert (shown.need_source, shown.departure) == ("operator test-admin", departure)
    assert current()["CP-001"] < 15.0
    cleared = await execute_as_admin(engine.router, need())
    assert cleared.ok
    await wait_until(lambda: connector(engine, "CP-002").need_source == "")
    await wait_until(lambda: abs(current()["CP-001"] - current()["CP-002"]) < 0.2)  # fair
