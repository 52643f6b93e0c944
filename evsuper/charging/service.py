"""The charging service: the allocator applied to the chargers of each site.

Per site an allocation loop runs on every relevant bus event (a session starting or ending,
a power change beyond the threshold, a limit or building-load tag, a charger going on- or
offline), debounced, and at least every ``period_s``. A round resolves the limits in force
(operator override > limit tag > schedule > static, less the building load and the chargers
whose communication is lost, counted at their maximum), allocates, and sends each setpoint
that moved by more than the hysteresis: an OCPP charging profile (0 A pauses) through the
command router as the engine, or a tag write for Modbus chargers. Decreases are sent and
answered before increases go out. Each OCPP charger gets a fail-safe ChargePointMaxProfile
(its share of the site's lowest limit) whenever it (re)connects or boots, and its setpoints
are sent again. A watchdog restarts a loop that has not completed a round for three periods.
Sessions paused for lack of power take turns every ``restart_after_s``; a charger that did not
take a limit is counted at what it may draw until it does; a vehicle's phases come from its
per-phase meter values; a session's energy need and departure (deadline objective) from the
plan it fulfils or its badge group's usage profile (charging/needs.py).
docs/smart_charging.md, "Charging service".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from evsuper.charging.allocator import (
    Allocation,
    Objective,
    Session,
    Setpoint,
    State,
    allocate,
)
from evsuper.charging.needs import ChargingNeed, OperatorNeed, charging_need
from evsuper.charging.planning import PlannedSession
from evsuper.charging.profiles import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    SchedulePeriod,
)
from evsuper.charging.site_model import (
    SiteTree,
    charger_max_kw,
    connector_key,
    connector_node,
    site_trees,
)
from evsuper.charging.status import (
    ChargingMode,
    ConnectorAllocation,
    NodeKind,
    NodeStatus,
    SiteChargingStatus,
)
from evsuper.charging.topology import (
    Connector,
    Limit,
    Phase,
    Site,
    amps_to_watts,
    scheduled_limit,
    watts_to_amps,
    with_limits,
)
from evsuper.core.bus import TagBus
from evsuper.core.domain import (
    ChargerBooted,
    CommState,
    ConnectorStatus,
    MeterValuesReceived,
    RegistrationStatus,
)
from evsuper.core.tags import (
    ChargerTag,
    ConnectorTag,
    Quality,
    Sample,
    SiteChargingTag,
    TagPath,
    connector_tag,
    site_charging_tag,
    split_tag,
)
from evsuper.core.timeutil import utcnow
from evsuper.engine import commands as cmd
from evsuper.project.model import (
    ChargerConfig,
    ChargerKind,
    ChargerProtocol,
    Project,
    SiteConfig,
    UsageProfile,
)
from evsuper.users.permissions import ENGINE

log = logging.getLogger(__name__)

WATCHDOG_PERIODS = 3  # a loop silent this many periods is restarted
PROFILE_ID_BASE = 700_000_000  # the service's profiles: base + 100 * charger index + connector
MODBUS_LIMIT_TAG = "current_limit_a"  # <charger>/C<n>/current_limit_a of a Modbus charger
# An OCPP session takes limits once its transaction runs and the connector says so (a
# TxProfile sent before the charger has the StartTransaction answer is refused); a Modbus
# wallbox has no transaction: a car is there in these states.
_OCPP_SESSION = frozenset(
    {ConnectorStatus.CHARGING, ConnectorStatus.SUSPENDED_EV, ConnectorStatus.SUSPENDED_EVSE}
)
_MODBUS_SESSION = _OCPP_SESSION | {ConnectorStatus.PREPARING}
CURRENT_IMPORT = "Current.Import"  # OCPP measurand, per phase with phase L1, L2, L3
# a vehicle's phases from its per-phase currents: a phase is loaded when it carries at least
# this share of the most loaded one, once that one carries LOADED_MIN_A
LOADED_SHARE = 0.25
LOADED_MIN_A = 2.0
RETRY_MIN_S = 1.0  # after a refusal: asked again after 1, 2, 4 ... s, at most a period
_EPSILON = 1e-6

Execute = Callable[[cmd.Command], Any]
SITE_SETTING = "charging_site"  # per site: the operator's mode and limit override
MANUAL_SETTING = "charging_manual_a"  # per charger: manual limits by connector


class SettingsStore(Protocol):
    """Where operator intent outlives the engine (the archive's ``charger_settings``)."""

    def save_setting(self, charger_id: str, name: str, value: Any) -> None: ...

    async def settings(self, name: str) -> dict[str, Any]: ...


def floor_tenth(value: float) -> float:
    """Down to a multiple of 0.1 (OCPP 1.6 limits), never up."""
    return math.floor(value * 10 + 1e-9) / 10


@dataclass(slots=True)
class _Connector:
    key: str  # "<charger>/C<n>", its topology id
    charger_id: str
    n: int
    node: Connector
    parent: str  # the site or [[groups]] id it hangs from
    modbus: bool = False
    transaction_id: int | None = None
    status: ConnectorStatus | None = None
    id_tag: str | None = None
    power_kw: float = 0.0
    power_ts: datetime | None = None
    trigger_kw: float = 0.0  # power at the last change that woke the loop
    sent_a: float | None = None  # last limit the charger accepted since it (re)connected
    sent_at: datetime | None = None
    sending: bool = False
    sending_a: float | None = None  # the limit in flight
    retry_at: float = 0.0  # loop clock: after a refusal, not asked again before
    refusals: int = 0  # in a row
    manual_a: float | None = None  # operator limit (manual mode); None: its maximum
    session: bool = False  # a transaction runs (OCPP), a car is plugged in (Modbus)
    target_a: float | None = None  # this round's setpoint; None: no session
    setpoint: Setpoint | None = None
    reason: str = ""
    zero_since: float | None = None  # loop clock since its session is held at 0 A
    running_since: float | None = None  # loop clock since its session has current
    resting_until: float = 0.0  # loop clock: paused for another's turn until then
    vehicle_phases: int | None = None  # phases its vehicle draws on (meter values); None: unknown
    started_at: datetime | None = None  # when its session began (its transaction tag's time)
    energy_kwh: float = 0.0  # delivered in its session
    need: ChargingNeed | None = None  # energy still to deliver and departure, when known
    operator_need: OperatorNeed | None = None  # SetSessionNeed, until the session ends


@dataclass(slots=True)
class _Charger:
    config: ChargerConfig
    index: int
    site_id: str
    comm: CommState = CommState.UNKNOWN
    failsafe_kw: float | None = None
    failsafe_sent: bool = False
    failsafe_sending: bool = False
    failsafe_retry_at: float = 0.0
    failsafe_refusals: int = 0

    @property
    def online(self) -> bool:
        return self.comm is CommState.ONLINE


@dataclass(slots=True)
class _Site:
    config: SiteConfig
    tree: SiteTree
    mode: ChargingMode
    connectors: dict[str, _Connector]
    status: SiteChargingStatus
    override_kw: float | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    last_done: float = 0.0  # loop clock of the last completed round
    last_start: float = -math.inf  # loop clock of the last staggered start
    turn_timer: asyncio.TimerHandle | None = None  # wakes the loop for the next turn
    healthy: bool = True
    last_error: str = ""


class ChargingService:
    """Runs on the engine loop; ``sites`` and ``status`` may be called on the engine thread."""

    def __init__(
        self,
        project: Project,
        bus: TagBus,
        execute: Execute,
        store: SettingsStore | None = None,
        plans: Callable[[], Iterable[PlannedSession]] = tuple,
    ) -> None:
        self.project = project
        self._store = store
        self._plans = plans  # the planning tool's plans: sessions' needs (charging/needs.py)
        self.settings = project.smart_charging
        self.bus = bus
        self._execute = execute
        self._usage = {u.group: u for u in project.usage_profiles}
        self._parents = {b.id_tag: b.parent_id_tag for b in project.badges}
        tz = project.notifications.timezone
        self._zone = ZoneInfo(tz) if tz else None
        self._chargers: dict[str, _Charger] = {}
        self._connectors: dict[str, _Connector] = {}
        self._sites: dict[str, _Site] = {}
        self._limit_tags: dict[TagPath, list[str]] = {}
        self._unsubscribe: list[Callable[[], None]] = []
        self._watchdog: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        if not self.settings.enabled:
            return
        for index, charger in enumerate(project.chargers):
            site = project.site_of(charger)
            self._chargers[charger.id] = _Charger(charger, index, site.id if site else "")
        for site_id, tree in site_trees(project).items():
            config = project.site(site_id)
            assert config is not None
            connectors: dict[str, _Connector] = {}
            for charger in tree.chargers:
                self._chargers[charger.id].failsafe_kw = tree.failsafe_kw.get(charger.id)
                for n in range(1, charger.connectors + 1):
                    node = connector_node(charger, n, tree.site.voltage_v)
                    modbus = charger.protocol is ChargerProtocol.MODBUS
                    parent = charger.group or site_id
                    c = _Connector(node.id, charger.id, n, node, parent, modbus=modbus)
                    connectors[c.key] = self._connectors[c.key] = c
            status = SiteChargingStatus(
                site_id, config.charging_mode, config.objective.value, "static", (), (), None, True
            )
            self._sites[site_id] = _Site(config, tree, config.charging_mode, connectors, status)
            for tag in (config.limit_tag, config.base_load_tag):
                if tag:
                    self._limit_tags.setdefault(tag, []).append(site_id)

    # ---- what the HMI and the OPC UA server read (engine thread) ----

    def sites(self) -> list[str]:
        return list(self._sites)

    def status(self, site_id: str) -> SiteChargingStatus:
        return self._sites[site_id].status

    def acknowledged_at(self, charger_id: str, connector_id: int) -> datetime | None:
        """When the charger last accepted a limit for this connector (None: not since it
        connected or since its session began): meter values older than that show the
        transition, not the limit."""
        c = self._connectors.get(connector_key(charger_id, connector_id))
        return None if c is None else c.sent_at

    # ---- lifecycle ----

    async def start(self) -> None:
        if not self._sites:
            return
        await self._load_operator_settings()
        for path, sample in self.bus.snapshot().items():
            self._tag_changed(path, sample)
        self._unsubscribe = [
            self.bus.subscribe(self._tag_changed),
            self.bus.subscribe_events(self._event),
        ]
        loop = asyncio.get_running_loop()
        for site in self._sites.values():
            site.last_done = loop.time()
            self._publish_site(site)
            site.task = asyncio.create_task(
                self._site_loop(site), name=f"charging:{site.config.id}"
            )
            site.wake.set()
        self._watchdog = asyncio.create_task(self._watch(), name="charging:watchdog")
        log.info("charging service started for sites %s", ", ".join(self._sites))

    async def _load_operator_settings(self) -> None:
        """Mode, site limit override and manual limits set before the engine (re)started."""
        if self._store is None:
            return
        for site_id, document in (await self._store.settings(SITE_SETTING)).items():
            site = self._sites.get(site_id)
            if site is not None:
                site.mode = ChargingMode(document["mode"])
                site.override_kw = document.get("override_kw")
                site.status = replace(site.status, mode=site.mode)
        for charger_id, document in (await self._store.settings(MANUAL_SETTING)).items():
            for n, limit in document.items():
                c = self._connectors.get(connector_key(charger_id, int(n)))
                if c is not None:
                    c.manual_a = limit

    def _save_site(self, site: _Site) -> None:
        if self._store is not None:
            document = {"mode": site.mode.value, "override_kw": site.override_kw}
            self._store.save_setting(site.config.id, SITE_SETTING, document)

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        tasks = [s.task for s in self._sites.values() if s.task is not None]
        tasks += [self._watchdog] if self._watchdog is not None else []
        tasks += list(self._background)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for site in self._sites.values():
            site.task = None
            if site.turn_timer is not None:
                site.turn_timer.cancel()
                site.turn_timer = None
        self._watchdog = None

    # ---- bus ----

    def _tag_changed(self, path: TagPath, sample: Sample) -> None:
        for site_id in self._limit_tags.get(path, ()):
            self._sites[site_id].wake.set()
        charger_id, n, name = split_tag(path)
        charger = self._chargers.get(charger_id)
        if charger is None or not charger.site_id:
            return
        site = self._sites[charger.site_id]
        if n is None:
            comm = sample.value if name == ChargerTag.COMM else None
            if isinstance(comm, CommState) and comm is not charger.comm:
                charger.comm = comm
                self._forget_sent(charger)  # (re)connected or lost: send everything again
                site.wake.set()
            return
        c = site.connectors.get(connector_key(charger_id, n))
        if c is None:
            return
        if name == ConnectorTag.TRANSACTION_ID:
            c.transaction_id = sample.value
        elif name == ConnectorTag.STATUS:
            c.status = sample.value if isinstance(sample.value, ConnectorStatus) else None
        if name in (ConnectorTag.TRANSACTION_ID, ConnectorTag.STATUS):
            if c.modbus:
                session = c.status in _MODBUS_SESSION
            else:
                session = c.transaction_id is not None and c.status in _OCPP_SESSION
            if session != c.session or name == ConnectorTag.TRANSACTION_ID:
                if name == ConnectorTag.TRANSACTION_ID or not session:
                    c.vehicle_phases = None  # another vehicle
                    c.started_at = sample.ts if session else None
                    c.energy_kwh, c.need, c.operator_need = 0.0, None, None
                if session and c.started_at is None:
                    c.started_at = sample.ts
                c.session = session
                c.sent_a = c.sent_at = None  # a Tx profile ends with its transaction
                site.wake.set()
        elif name == ConnectorTag.ID_TAG:
            c.id_tag = sample.value
        elif name == ConnectorTag.ENERGY_KWH and isinstance(sample.value, int | float):
            c.energy_kwh = float(sample.value)
        elif name == ConnectorTag.POWER_KW and isinstance(sample.value, int | float):
            c.power_kw = float(sample.value)
            c.power_ts = sample.ts
            if abs(c.power_kw - c.trigger_kw) > self.settings.meter_threshold_kw:
                c.trigger_kw = c.power_kw
                site.wake.set()

    def _event(self, event: Any) -> None:
        if isinstance(event, MeterValuesReceived) and event.readings:
            # the power tag changes only when the value does: a meter value also dates it
            c = self._connectors.get(connector_key(event.charger_id, event.connector_id))
            latest = max(r.ts for r in event.readings)
            if c is not None and (c.power_ts is None or latest > c.power_ts):
                c.power_ts = latest
            if c is not None:
                self._vehicle_phases(c, event)
            return
        if isinstance(event, ChargerBooted) and event.registration is RegistrationStatus.ACCEPTED:
            charger = self._chargers.get(event.charger_id)
            if charger is not None and charger.site_id:  # a reboot loses what it was sent
                self._forget_sent(charger)
                self._sites[charger.site_id].wake.set()

    def _vehicle_phases(self, c: _Connector, event: MeterValuesReceived) -> None:
        """The phases a vehicle on a three-phase AC connector draws on, from the latest
        per-phase Current.Import of a meter value (a single-phase car loads one phase)."""
        if c.node.dc or c.node.phases != 3 or not c.session:
            return
        per_phase: dict[str, tuple[datetime, float]] = {}
        for r in event.readings:
            if r.measurand != CURRENT_IMPORT or r.phase not in ("L1", "L2", "L3"):
                continue
            if r.phase not in per_phase or r.ts >= per_phase[r.phase][0]:
                per_phase[r.phase] = (r.ts, r.value)
        if len(per_phase) < 3:
            return  # not every phase measured
        currents = [amps for _, amps in per_phase.values()]
        peak = max(currents)
        if peak < LOADED_MIN_A:
            return  # not drawing: keep what was seen
        phases = sum(1 for amps in currents if amps >= LOADED_SHARE * peak)
        if phases != c.vehicle_phases:
            c.vehicle_phases = phases
            self._sites[self._chargers[c.charger_id].site_id].wake.set()

    def _forget_sent(self, charger: _Charger) -> None:
        charger.failsafe_sent = False
        site = self._sites[charger.site_id]
        for n in range(1, charger.config.connectors + 1):
            c = site.connectors[connector_key(charger.config.id, n)]
            c.sent_a = c.sent_at = None

    # ---- the loop and its watchdog ----

    async def _site_loop(self, site: _Site) -> None:
        loop = asyncio.get_running_loop()
        while True:
            # not wait_for: under Python 3.11 it drops a cancellation (stop, watchdog) that
            # comes while the wake-up completes, and the loop would never end
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.period_s):
                    await site.wake.wait()
            if self.settings.debounce_s > 0:
                await asyncio.sleep(self.settings.debounce_s)
            site.wake.clear()
            site.last_error = ""
            try:
                await self._round(site)
            except Exception as exc:  # one bad round must not end the service
                log.exception("charging: allocation for site %s failed", site.config.id)
                site.last_error = f"allocation failed: {exc}"
                self._set_healthy(site, False)
            else:
                self._set_healthy(site, True)
            site.last_done = loop.time()

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        period = self.settings.period_s
        while True:
            await asyncio.sleep(period)
            for site in self._sites.values():
                silent = loop.time() - site.last_done
                if silent <= WATCHDOG_PERIODS * period:
                    continue
                log.error(
                    "charging: site %s allocated nothing for %.1f s, restarting its loop",
                    site.config.id,
                    silent,
                )
                site.last_error = f"watchdog: no allocation for {silent:.1f} s, loop restarted"
                self._set_healthy(site, False)
                if site.task is not None:
                    site.task.cancel()
                site.last_done = loop.time()
                site.task = asyncio.create_task(
                    self._site_loop(site), name=f"charging:{site.config.id}"
                )
                site.wake.set()

    def _set_healthy(self, site: _Site, healthy: bool) -> None:
        site.healthy = healthy
        site.status = replace(site.status, healthy=healthy, last_error=site.last_error)
        self._publish(site_charging_tag(site.config.id, SiteChargingTag.HEALTHY), healthy)

    # ---- one round ----

    async def _round(self, site: _Site) -> None:
        loop = asyncio.get_running_loop()
        now = utcnow()
        limit_kw, limit_a, source, load_kw = self._limit_in_force(site, now)
        counted = self._uncontrolled(site, loop.time())
        counted_ids = {ch.config.id for ch in counted}
        held = self._held(site, loop.time(), counted_ids)
        limits = self._limits(site, limit_kw, limit_a, load_kw, counted, held)
        tree = with_limits(site.tree.site, limits)
        sessions, manual_zero = self._sessions(site, now, counted_ids, held)
        allocation, turns = self._allocate_in_turns(site, tree, sessions, now, loop.time())
        self._targets(site, allocation, manual_zero, counted_ids, held, turns, loop.time())
        self._next_turn(site, loop.time())
        sends = self._to_send(site, tree, loop.time())
        failsafe = [
            ch
            for ch in self._site_chargers(site)
            if ch.online
            and ch.failsafe_kw is not None
            and ch.config.protocol is ChargerProtocol.OCPP
            and not (ch.failsafe_sent or ch.failsafe_sending)
            and loop.time() >= ch.failsafe_retry_at
        ]
        # what the charger draws now is unknown before its first setpoint: a decrease too
        lowers = [c.sent_a is None or t < c.sent_a - _EPSILON for c, t in sends]
        decreases = [pair for pair, low in zip(sends, lowers, strict=True) if low]
        increases = [pair for pair, low in zip(sends, lowers, strict=True) if not low]
        await self._wait(
            [self._send_failsafe(ch) for ch in failsafe] + [self._send(c, t) for c, t in decreases]
        )
        if any(c.sent_a is None or abs(c.sent_a - t) > _EPSILON for c, t in decreases):
            # a charger refused (or has not yet answered) a decrease: it holds its old limit,
            # so the increases wait for the next round, which counts it at that limit
            site.wake.set()
        else:
            await self._wait([self._send(c, t) for c, t in increases])
        site.status = self._status(site, tree, allocation, limit_kw, limit_a, source, counted)
        self._publish_site(site, limit_kw, tree.limit.kw)

    def _site_chargers(self, site: _Site) -> list[_Charger]:
        return [self._chargers[c.id] for c in site.tree.chargers]

    def _uncontrolled(self, site: _Site, clock: float) -> list[_Charger]:
        """Chargers counted at their maximum: communication lost, or a session whose
        charger refused its limit in the last period (it draws what it wants)."""
        counted = []
        for ch in self._site_chargers(site):
            if ch.comm is CommState.OFFLINE:
                if self.settings.comm_loss_at_max:
                    counted.append(ch)
                continue
            connectors = (
                site.connectors[connector_key(ch.config.id, n)]
                for n in range(1, ch.config.connectors + 1)
            )
            if any(
                c.session and c.sent_a is None and (c.sending or clock < c.retry_at)
                for c in connectors
            ):
                counted.append(ch)
        return counted

    def _held(self, site: _Site, clock: float, counted: set[str]) -> dict[str, float]:
        """Connectors whose charger did not take its last limit (refused, unanswered or
        still in flight) and holds one it accepted before: the current it may draw (A per
        phase), the highest of the limit it accepted and the one in flight."""
        held: dict[str, float] = {}
        for c in site.connectors.values():
            if (
                not c.session
                or c.sent_a is None
                or c.charger_id in counted
                or not self._chargers[c.charger_id].online
            ):
                continue
            if c.sending:
                held[c.key] = max(c.sent_a, c.sending_a or 0.0)
            elif clock < c.retry_at:
                held[c.key] = c.sent_a
        return held

    def _limit_in_force(
        self, site: _Site, now: datetime
    ) -> tuple[float | None, float | None, str, float]:
        """The limit (kW, A) in force, where it comes from, and the building load (kW)."""
        config = site.config
        kw, amps, source = config.limit_kw, config.limit_a, "static"
        if site.tree.schedule:
            local = now.astimezone(self._zone).time()
            entry_limit = scheduled_limit(site.tree.schedule, local)
            start = next(e.start for e in site.tree.schedule if e.limit is entry_limit)
            kw = entry_limit.kw if entry_limit.kw is not None else kw
            amps = entry_limit.amps if entry_limit.amps is not None else amps
            source = f"schedule from {start:%H:%M}"
        if config.limit_tag:
            value = self._good_number(config.limit_tag)
            if value is not None:
                kw, source = value, f"tag {config.limit_tag}"
            else:
                source += f" (tag {config.limit_tag} unavailable)"
        if site.override_kw is not None:
            kw, source = site.override_kw, "operator"
        load = self._good_number(config.base_load_tag) if config.base_load_tag else None
        if config.base_load_tag and load is None:
            source += f" (building load tag {config.base_load_tag} unavailable)"
        elif config.base_load_tag and load is not None:
            limit = f"{kw:g} kW" if kw is not None else f"{amps:g} A" if amps is not None else ""
            taken = f"building load {round(max(load, 0.0), 2):g} kW ({config.base_load_tag})"
            source = f"{source} {limit} - {taken}" if limit else f"{source}, {taken}"
        return kw, amps, source, max(load or 0.0, 0.0)

    def _good_number(self, path: TagPath) -> float | None:
        sample = self.bus.get(path)
        if sample is None or sample.quality is not Quality.GOOD:
            return None
        value = sample.value
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            return None
        return float(value)

    def _limits(
        self,
        site: _Site,
        limit_kw: float | None,
        limit_a: float | None,
        load_kw: float,
        counted: list[_Charger],
        held: dict[str, float],
    ) -> dict[str, Limit]:
        """Node limits less the building load (site), the uncontrolled chargers at their
        maximum and the connectors held at a limit they did not leave."""
        tree = site.tree.site
        voltage = tree.voltage_v
        used_kw: dict[str, float] = {tree.id: load_kw}
        used_a: dict[str, float] = {tree.id: watts_to_amps(load_kw * 1000, 3, voltage)}
        for ch in counted:
            kw = self._charger_max_kw(ch)
            amps = watts_to_amps(kw * 1000, ch.config.phases, voltage)
            for node_id in tree.paths[ch.config.id]:
                used_kw[node_id] = used_kw.get(node_id, 0.0) + kw
                used_a[node_id] = used_a.get(node_id, 0.0) + amps
        for key, current in held.items():
            c = site.connectors[key]
            phases = c.setpoint.phases if c.setpoint is not None else c.node.site_phases()
            kw = amps_to_watts(current, len(phases), voltage) / 1000
            for node_id in tree.paths[key]:  # its charger's own limit included
                used_kw[node_id] = used_kw.get(node_id, 0.0) + kw
                used_a[node_id] = used_a.get(node_id, 0.0) + current
        held_chargers = {site.connectors[key].charger_id for key in held}
        limits: dict[str, Limit] = {}
        for node_id, node in tree.nodes.items():
            if node_id in self._chargers and node_id not in held_chargers:
                continue  # a charger's own (fail-safe) limit stays
            cap_kw, cap_a = (
                (limit_kw, limit_a) if node_id == tree.id else (node.limit.kw, node.limit.amps)
            )
            limits[node_id] = Limit(
                kw=None if cap_kw is None else max(0.0, cap_kw - used_kw.get(node_id, 0.0)),
                amps=None if cap_a is None else max(0.0, cap_a - used_a.get(node_id, 0.0)),
            )
        return limits

    def _charger_max_kw(self, ch: _Charger) -> float:
        kw = charger_max_kw(ch.config)
        return kw if ch.failsafe_kw is None else min(kw, ch.failsafe_kw)

    def _sessions(
        self, site: _Site, now: datetime, counted: set[str], held: dict[str, float]
    ) -> tuple[list[Session], set[str]]:
        """The allocator's sessions, and the connectors an operator set to 0 A (manual)."""
        sessions: list[Session] = []
        manual_zero: set[str] = set()
        settle = timedelta(seconds=self.settings.settle_s)
        plans: dict[tuple[str, int], list[PlannedSession]] = {}
        for plan in self._plans():
            plans.setdefault((plan.charger_id, plan.connector_id), []).append(plan)
        for c in site.connectors.values():
            if not c.session or c.charger_id in counted or not self._chargers[c.charger_id].online:
                continue
            if c.key in held:
                continue
            usage = self._usage_of(c)
            max_a = usage.max_current_a if usage is not None else None
            if site.mode is ChargingMode.MANUAL and c.manual_a is not None:
                if c.manual_a <= 0:
                    manual_zero.add(c.key)
                    continue
                max_a = c.manual_a if max_a is None else min(max_a, c.manual_a)
            measured = offered = None
            if (
                c.sent_a is not None
                and c.sent_at is not None
                and c.power_ts is not None
                and c.power_ts >= c.sent_at + settle
            ):
                # AC: on the phases its vehicle was seen drawing on; unknown, as if on one
                # phase (a single-phase car keeps its current; a three-phase car's demand
                # is then overestimated: it frees less than it could, never too much)
                phases = 3 if c.node.dc else (c.vehicle_phases or 1)
                measured = watts_to_amps(c.power_kw * 1000, phases, site.tree.site.voltage_v)
                offered = c.sent_a
            priority = usage.priority if usage is not None else 0
            phases_used = c.vehicle_phases if not c.node.dc else None
            c.need = charging_need(
                c.charger_id,
                c.n,
                c.id_tag,
                c.started_at or now,
                c.energy_kwh,
                plans.get((c.charger_id, c.n), ()),
                usage,
                c.operator_need,
            )
            sessions.append(
                Session(
                    c.key,
                    priority,
                    measured,
                    offered,
                    max_a,
                    phases=phases_used,
                    energy_need_kwh=c.need.energy_kwh if c.need else None,
                    departure=c.need.departure if c.need else None,
                )
            )
        return sessions, manual_zero

    def _usage_of(self, c: _Connector) -> UsageProfile | None:
        if c.id_tag is None:
            return None
        parent = self._parents.get(c.id_tag)
        return self._usage.get(parent) if parent else None

    def _targets(
        self,
        site: _Site,
        allocation: Allocation,
        manual_zero: set[str],
        counted: set[str],
        held: dict[str, float],
        turns: dict[str, str],
        clock: float,
    ) -> None:
        """Each connector's setpoint this round, with the staggered starts held back."""
        for c in site.connectors.values():
            self._target(site, c, allocation, manual_zero, counted, held, turns, clock)
            if c.target_a is None:
                c.zero_since = c.running_since = None
                c.resting_until = 0.0
            elif c.target_a > 0:
                c.zero_since = None
                c.running_since = clock if c.running_since is None else c.running_since
            else:
                c.running_since = None
                c.zero_since = clock if c.zero_since is None else c.zero_since

    def _target(
        self,
        site: _Site,
        c: _Connector,
        allocation: Allocation,
        manual_zero: set[str],
        counted: set[str],
        held: dict[str, float],
        turns: dict[str, str],
        clock: float,
    ) -> None:
        stagger = self.settings.stagger_s
        setpoint = allocation.setpoints.get(c.key)
        c.setpoint = setpoint
        if c.key in manual_zero:
            c.target_a, c.reason = 0.0, "manual limit 0 A"
            return
        if c.charger_id in counted:
            lost = self._chargers[c.charger_id].comm is CommState.OFFLINE
            waiting = any(
                o.sending and o.sent_a is None
                for o in site.connectors.values()
                if o.charger_id == c.charger_id
            )
            why = (
                "communication lost"
                if lost
                else "its limit is not answered yet"
                if waiting
                else "it refused its limit"
            )
            c.target_a, c.reason = None, f"{why}: counted at its maximum"
            return
        if c.key in held:
            c.target_a = held[c.key]
            c.reason = f"its charger did not take its limit: counted at {c.target_a:g} A"
            return
        if c.key in turns:
            c.target_a, c.reason = 0.0, turns[c.key]
            return
        if setpoint is None or setpoint.state is State.NOT_REQUESTED:
            c.target_a, c.reason = None, setpoint.reason if setpoint else "not requested"
            return
        c.reason = setpoint.reason
        target = floor_tenth(setpoint.current_a) if setpoint.state is State.CHARGING else 0.0
        if target > 0 and c.sent_a == 0 and stagger > 0:
            wait = site.last_start + stagger - clock
            if wait > 0:
                target, c.reason = 0.0, f"staggered start in {wait:.1f} s"
                asyncio.get_running_loop().call_later(wait, site.wake.set)
            else:
                site.last_start = clock
        c.target_a = target

    def _allocate_in_turns(
        self, site: _Site, tree: Site, sessions: list[Session], now: datetime, clock: float
    ) -> tuple[Allocation, dict[str, str]]:
        """The allocation, with the sessions it pauses taking turns (automatic mode): a
        session paused for ``restart_after_s`` takes the place of the session of its priority
        that has charged longest (also at least ``restart_after_s``), if that lets its minimum
        fit; the one it replaces rests, paused, for ``restart_after_s`` unless there is room
        for both. Returns the connectors held paused for another's turn, with their reason."""
        objective = site.config.objective
        allocation = allocate(tree, sessions, objective, now=now)
        if site.mode is not ChargingMode.AUTO:
            return allocation, {}
        turns: dict[str, str] = {}

        def paused(a: Allocation) -> list[str]:
            return [k for k, sp in a.setpoints.items() if sp.state is State.PAUSED]

        resting = {
            s.connector_id
            for s in sessions
            if site.connectors[s.connector_id].resting_until > clock
        }
        blocked = set(paused(allocation)) - resting
        if resting and blocked:  # the resting sessions step aside if that lets others in
            others = [s for s in sessions if s.connector_id not in resting]
            trial = allocate(tree, others, objective, now=now)
            if set(paused(trial)) < blocked:
                sessions, allocation = others, trial
                for key in resting:
                    wait = site.connectors[key].resting_until - clock
                    turns[key] = f"paused: taking turns, its turn in {wait:.0f} s"
        restart = self.settings.restart_after_s
        waited = [
            (c.zero_since, key)
            for key in paused(allocation)
            if (c := site.connectors[key]).zero_since is not None
            and clock - c.zero_since >= restart - _EPSILON
        ]
        if not waited:
            return allocation, turns
        _, waiting = min(waited)
        priority = {s.connector_id: s.priority for s in sessions}
        running = sorted(
            (c.running_since, key)
            for key, sp in allocation.setpoints.items()
            if sp.state is State.CHARGING
            and (objective is not Objective.PRIORITY or priority.get(key) == priority[waiting])
            and (c := site.connectors[key]).running_since is not None
            and clock - c.running_since >= restart - _EPSILON
        )
        for _, key in running[:3]:  # the longest charging first; a few tries at most
            trial = allocate(
                tree, [s for s in sessions if s.connector_id != key], objective, now=now
            )
            if trial.setpoints[waiting].state is State.CHARGING:
                site.connectors[key].resting_until = clock + restart
                turns[key] = f"paused: taking turns with {waiting}, its turn in {restart:.0f} s"
                return trial, turns
        return allocation, turns

    def _next_turn(self, site: _Site, clock: float) -> None:
        """Wake the loop when the next paused session may take its turn."""
        if site.turn_timer is not None:
            site.turn_timer.cancel()
            site.turn_timer = None
        restart = self.settings.restart_after_s
        waiting = [c for c in site.connectors.values() if c.target_a == 0 and c.session]
        if site.mode is not ChargingMode.AUTO or not waiting:
            return
        times = [c.zero_since + restart for c in waiting if c.zero_since is not None]
        times += [c.resting_until for c in waiting]
        times += [
            c.running_since + restart
            for c in site.connectors.values()
            if c.running_since is not None
        ]
        later = [t for t in times if t > clock]
        if later:
            site.turn_timer = asyncio.get_running_loop().call_later(
                min(later) - clock, site.wake.set
            )

    def _to_send(self, site: _Site, tree: Site, clock: float) -> list[tuple[_Connector, float]]:
        """Setpoints that moved beyond the hysteresis, and the smaller decreases some limit
        needs: a charger keeps its old value only while every limit holds with it."""
        sends: dict[str, tuple[_Connector, float]] = {}
        held: list[_Connector] = []  # small decreases held back
        effective: dict[str, float] = {}
        for c in site.connectors.values():
            target = c.target_a
            if target is None or not self._chargers[c.charger_id].online:
                continue
            effective[c.key] = target
            if c.sending or clock < c.retry_at:
                effective[c.key] = max(target, c.sent_a or 0.0)
                continue
            sent = c.sent_a
            if (
                sent is None
                or (target == 0) != (sent == 0)
                or abs(target - sent) > self.settings.hysteresis_a + _EPSILON
            ):
                sends[c.key] = (c, target)
            elif abs(target - sent) > _EPSILON:
                effective[c.key] = sent
                if target < sent:
                    held.append(c)
        for node_id in self._overloaded(tree, effective, site) if held else ():
            for c in held:
                if node_id in tree.paths[c.key]:
                    assert c.target_a is not None
                    sends[c.key] = (c, c.target_a)
                    effective[c.key] = c.target_a
        return list(sends.values())

    def _overloaded(self, tree: Site, currents: dict[str, float], site: _Site) -> list[str]:
        """The nodes whose limit these currents (A per phase, by connector) would break."""
        kw: dict[str, float] = {}
        amps: dict[str, list[float]] = {}
        for key, current in currents.items():
            c = site.connectors[key]
            setpoint = c.setpoint
            phases = setpoint.phases if setpoint is not None else c.node.site_phases()
            watts = amps_to_watts(current, len(phases), tree.voltage_v)
            for node_id in tree.paths[key]:
                kw[node_id] = kw.get(node_id, 0.0) + watts / 1000
                per_phase = amps.setdefault(node_id, [0.0, 0.0, 0.0])
                for phase in phases:
                    per_phase[phase - Phase.L1] += current
        over = []
        for node_id, node in tree.nodes.items():
            limit = node.limit
            over_kw = limit.kw is not None and kw.get(node_id, 0.0) > limit.kw + _EPSILON
            peak_a = max(amps.get(node_id, [0.0]))
            if over_kw or (limit.amps is not None and peak_a > limit.amps + _EPSILON):
                over.append(node_id)
        return over

    # ---- sending ----

    async def _wait(self, sends: list[Any]) -> None:
        """Run the sends together; those not answered within a period go on by themselves."""
        if not sends:
            return
        tasks = [asyncio.create_task(send) for send in sends]
        for task in tasks:
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        await asyncio.wait(tasks, timeout=self.settings.period_s)

    async def _send(self, c: _Connector, target: float) -> None:
        charger = self._chargers[c.charger_id]
        c.sending, c.sending_a = True, target
        try:
            command: cmd.Command
            if charger.config.protocol is ChargerProtocol.MODBUS:
                tag = connector_tag(c.charger_id, c.n, MODBUS_LIMIT_TAG)
                command = cmd.WriteTag(actor=ENGINE, tag=tag, value=target)
            else:
                profile = self._profile(charger, c, target)
                command = cmd.SetChargingProfile(
                    charger_id=c.charger_id, actor=ENGINE, connector_id=c.n, profile=profile
                )
            result: cmd.CommandResult = await self._execute(command)
        finally:
            c.sending = False
        if result.ok:
            c.sent_a, c.sent_at, c.refusals = target, utcnow(), 0
        elif self._failed(charger, f"{c.key} {target} A", result):
            c.retry_at = self._retry_at(charger, c.refusals)
            c.refusals += 1

    async def _send_failsafe(self, charger: _Charger) -> None:
        assert charger.failsafe_kw is not None
        charger.failsafe_sending = True
        config = charger.config
        voltage = self._sites[charger.site_id].tree.site.voltage_v
        dc = config.kind is ChargerKind.DC
        watts = charger.failsafe_kw * 1000
        limit = (
            math.floor(watts) if dc else floor_tenth(watts_to_amps(watts, config.phases, voltage))
        )
        profile = ChargingProfile(
            profile_id=PROFILE_ID_BASE + 100 * charger.index,
            stack_level=self.settings.stack_level - 1,
            purpose=ChargingProfilePurpose.CHARGE_POINT_MAX,
            kind=ChargingProfileKind.ABSOLUTE,
            schedule=ChargingSchedule(
                ChargingRateUnit.WATTS if dc else ChargingRateUnit.AMPS,
                (SchedulePeriod(0, limit, None if dc else config.phases),),
                start=utcnow().replace(microsecond=0),
            ),
        )
        command = cmd.SetChargingProfile(
            charger_id=config.id, actor=ENGINE, connector_id=0, profile=profile
        )
        try:
            result: cmd.CommandResult = await self._execute(command)
        finally:
            charger.failsafe_sending = False
        if result.ok:
            charger.failsafe_sent, charger.failsafe_refusals = True, 0
        elif self._failed(charger, "fail-safe profile", result):
            charger.failsafe_retry_at = self._retry_at(charger, charger.failsafe_refusals)
            charger.failsafe_refusals += 1

    def _retry_at(self, charger: _Charger, refusals: int) -> float:
        """When to ask again after a refusal; a round is due then (not only at the next
        event or period)."""
        delay = min(RETRY_MIN_S * 2 ** min(refusals, 20), self.settings.period_s)
        loop = asyncio.get_running_loop()
        loop.call_later(delay, self._sites[charger.site_id].wake.set)
        return loop.time() + delay

    def _profile(self, charger: _Charger, c: _Connector, target: float) -> ChargingProfile:
        voltage = self._sites[charger.site_id].tree.site.voltage_v
        if c.node.dc:
            unit = ChargingRateUnit.WATTS
            period = SchedulePeriod(0, math.floor(amps_to_watts(target, 3, voltage)))
        else:
            phases = len(c.setpoint.phases) if c.setpoint is not None else c.node.phases
            unit, period = ChargingRateUnit.AMPS, SchedulePeriod(0, target, phases)
        return ChargingProfile(
            profile_id=PROFILE_ID_BASE + 100 * charger.index + c.n,
            stack_level=self.settings.stack_level,
            purpose=self.settings.profile_purpose,
            kind=ChargingProfileKind.RELATIVE,
            schedule=ChargingSchedule(unit, (period,)),
        )

    def _failed(self, charger: _Charger, what: str, result: cmd.CommandResult) -> bool:
        """Log and show a refusal; True when the charger answered (then it is asked again
        only after a period, not at every event)."""
        site = self._sites[charger.site_id]
        site.last_error = f"{charger.config.id}: {what}: {result.status} {result.detail}".strip()
        if result.outcome is cmd.Outcome.OFFLINE:
            return False
        log.warning(
            "charging: %s to %s: %s %s %s",
            what,
            charger.config.id,
            result.outcome.value,
            result.status,
            result.detail,
        )
        return True

    # ---- operator commands (the CommandTarget protocol) ----

    def accepts(self, command: cmd.Command) -> bool:
        return isinstance(
            command,
            cmd.SetChargingMode | cmd.SetManualLimit | cmd.SetSiteLimit | cmd.SetSessionNeed,
        )

    async def execute(self, command: cmd.Command) -> cmd.CommandResult:
        if isinstance(command, cmd.SetManualLimit):
            return self._manual_limit(command)
        if isinstance(command, cmd.SetSessionNeed):
            return self._session_need(command)
        assert isinstance(command, cmd.SetChargingMode | cmd.SetSiteLimit)
        site = self._sites.get(command.site_id)
        if site is None:
            return _error("UnknownSite", f"no site {command.site_id!r} with smart charging")
        if isinstance(command, cmd.SetChargingMode):
            site.mode = command.mode
            site.status = replace(site.status, mode=command.mode)
            self._publish(site_charging_tag(site.config.id, SiteChargingTag.MODE), site.mode)
        else:
            if command.limit_kw is not None and not command.limit_kw >= 0:
                return _error("InvalidValue", "a site limit is 0 kW or more")
            site.override_kw = command.limit_kw
        self._save_site(site)
        site.wake.set()
        return cmd.CommandResult(cmd.Outcome.ACCEPTED, "Accepted")

    def _session_need(self, command: cmd.SetSessionNeed) -> cmd.CommandResult:
        c = self._connectors.get(connector_key(command.charger_id, command.connector_id))
        if c is None:
            return _error("UnknownConnector", "no such connector under smart charging")
        if not c.session:
            return _error("NoSession", "no session runs on this connector")
        if command.energy_kwh is None and command.departure is None:
            c.operator_need = None
        elif command.energy_kwh is None or command.departure is None:
            return _error("InvalidValue", "give both the energy and the departure, or neither")
        else:
            try:
                need = OperatorNeed(
                    command.energy_kwh, command.departure, c.energy_kwh, command.actor.user
                )
            except ValueError as exc:
                return _error("InvalidValue", str(exc))
            if need.departure <= command.issued_at:
                return _error("InvalidValue", "the departure is already past")
            c.operator_need = need
        site = self._sites[self._chargers[c.charger_id].site_id]
        site.wake.set()
        return cmd.CommandResult(cmd.Outcome.ACCEPTED, "Accepted")

    def _manual_limit(self, command: cmd.SetManualLimit) -> cmd.CommandResult:
        c = self._connectors.get(connector_key(command.charger_id, command.connector_id))
        if c is None:
            return _error("UnknownConnector", "no such connector under smart charging")
        limit = command.limit_a
        if limit is not None and limit != 0 and not c.node.min_a <= limit <= c.node.max_a:
            return _error(
                "InvalidValue",
                f"0 A (paused) or {c.node.min_a:g} to {c.node.max_a:g} A per phase",
            )
        c.manual_a = limit
        if self._store is not None:
            charger = self._chargers[c.charger_id]
            limits = {
                str(n): self._connectors[connector_key(c.charger_id, n)].manual_a
                for n in range(1, charger.config.connectors + 1)
            }
            self._store.save_setting(c.charger_id, MANUAL_SETTING, limits)
        self._sites[self._chargers[c.charger_id].site_id].wake.set()
        return cmd.CommandResult(cmd.Outcome.ACCEPTED, "Accepted")

    # ---- what is shown ----

    def _status(
        self,
        site: _Site,
        tree: Site,
        allocation: Allocation,
        limit_kw: float | None,
        limit_a: float | None,
        source: str,
        counted: list[_Charger],
    ) -> SiteChargingStatus:
        counted_ids = {ch.config.id for ch in counted}
        voltage = tree.voltage_v
        measured: dict[str, float] = {}
        allocated: dict[str, float] = {}

        def add(into: dict[str, float], key: str, kw: float) -> None:
            for node_id in tree.paths[key]:
                into[node_id] = into.get(node_id, 0.0) + kw

        for ch in counted:
            add(measured, ch.config.id, self._charger_max_kw(ch))
            add(allocated, ch.config.id, self._charger_max_kw(ch))
        connectors: list[ConnectorAllocation] = []
        for c in site.connectors.values():
            phases = c.setpoint.phases if c.setpoint is not None else c.node.site_phases()
            power = amps_to_watts(c.target_a or 0.0, len(phases), voltage) / 1000
            if c.charger_id not in counted_ids:
                add(measured, c.key, c.power_kw)
                add(allocated, c.key, power)
            usage = self._usage_of(c) if c.session else None
            need = c.need if c.session else None
            connectors.append(
                ConnectorAllocation(
                    charger_id=c.charger_id,
                    connector_id=c.n,
                    parent=c.parent,
                    state=self._state(site, c, counted_ids),
                    current_a=c.target_a or 0.0,
                    power_kw=power,
                    measured_kw=c.power_kw,
                    reason=c.reason,
                    binding=c.setpoint.binding if c.setpoint is not None else None,
                    sent_a=c.sent_a,
                    priority=usage.priority if usage is not None else 0,
                    usage_profile=(usage.name or usage.group) if usage is not None else "",
                    energy_need_kwh=need.energy_kwh if need is not None else None,
                    departure=need.departure if need is not None else None,
                    need_source=need.source if need is not None else "",
                )
            )
        binding = {s.binding for s in allocation.setpoints.values() if s.binding}
        nodes = [
            NodeStatus(
                tree.id,
                site.config.name or tree.id,
                NodeKind.SITE,
                None,
                limit_kw,
                limit_a,
                measured.get(tree.id, 0.0),
                allocated.get(tree.id, 0.0),
                tree.id in binding,
            )
        ]
        for g in site.tree.groups:
            nodes.append(
                NodeStatus(
                    g.id,
                    g.name or g.id,
                    NodeKind.GROUP,
                    g.parent or tree.id,
                    g.limit_kw,
                    g.limit_a,
                    measured.get(g.id, 0.0),
                    allocated.get(g.id, 0.0),
                    g.id in binding,
                )
            )
        return SiteChargingStatus(
            site_id=tree.id,
            mode=site.mode,
            objective=site.config.objective.value,
            limit_source=source,
            nodes=tuple(nodes),
            connectors=tuple(connectors),
            computed_at=utcnow(),
            healthy=site.healthy,
            last_error=site.last_error,
        )

    def _state(self, site: _Site, c: _Connector, counted: set[str]) -> str:
        if c.charger_id in counted or c.reason.startswith("its charger did not take"):
            online = self._chargers[c.charger_id].online
            return "uncontrolled" if online else "offline"
        if c.target_a is None:
            return State.NOT_REQUESTED.value
        if c.target_a <= 0:
            return State.PAUSED.value
        return "manual" if site.mode is ChargingMode.MANUAL else State.CHARGING.value

    def _publish_site(
        self,
        site: _Site,
        limit_kw: float | None = None,
        available_kw: float | None = None,
    ) -> None:
        status = site.status
        site_node = status.nodes[0] if status.nodes else None
        figures: dict[SiteChargingTag, Any] = {
            SiteChargingTag.LIMIT_KW: limit_kw,
            SiteChargingTag.AVAILABLE_KW: available_kw,
            SiteChargingTag.ALLOCATED_KW: round(site_node.allocated_kw, 3) if site_node else None,
            SiteChargingTag.MEASURED_KW: round(site_node.power_kw, 3) if site_node else None,
            SiteChargingTag.MODE: site.mode,
            SiteChargingTag.HEALTHY: site.healthy,
        }
        for name, value in figures.items():
            self._publish(site_charging_tag(site.config.id, name), value)
        for c in site.connectors.values():
            self._publish(connector_tag(c.charger_id, c.n, ConnectorTag.SETPOINT_A), c.target_a)

    def _publish(self, path: TagPath, value: Any) -> None:
        self.bus.publish(path, Sample(value))


def _error(status: str, detail: str) -> cmd.CommandResult:
    return cmd.CommandResult(cmd.Outcome.ERROR, status, detail)
