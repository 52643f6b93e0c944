"""Planning a site's next 24 hours: the forecast load and whether a new vehicle fits (no I/O).

The forecast runs the site forward in time from `now`: every session present (running now,
or planned between its arrival and its departure) draws up to its own maximum power until
its energy need is delivered or it leaves, and when the site limit (static or scheduled by
time of day) is full, the sessions present share it fairly (water-filling in kW, like the
allocator's fair share at the site level). The simulation is event-driven (arrivals,
departures, completions, limit changes), so its answers are exact, not sampled.

A new plan fits when the vehicle alone can take its energy in its window, a connector is
free for the whole window, and in the forecast with it the vehicle gets its energy by its
departure without leaving any other session shorter than before. When it does not fit,
`Fit.reason` says why in one line for the operator.

The site limit is planned against, then each feeder (group) above the vehicle's connector
with its own limit, the sessions under it sharing it the same way. Each node is forecast on
its own: the interplay of nested limits, phases and minimum currents is the live
allocator's business (docs/smart_charging.md, "Power management and planning views").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo

from evsuper.charging.status import SiteChargingStatus
from evsuper.charging.topology import (
    NOMINAL_VOLTAGE_V,
    Limit,
    ScheduleEntry,
    amps_to_watts,
    scheduled_limit,
)

HORIZON = timedelta(hours=24)
# A running session with neither an energy need nor a departure is assumed to go on this long.
UNKNOWN_DURATION = timedelta(hours=2)
ARRIVAL_MARGIN = timedelta(hours=1)  # a planned vehicle may come this early
ENERGY_TOLERANCE_KWH = 0.01  # shortfalls below this are rounding, not a missing charge
_DONE_KWH = 1e-6  # remaining energy under which a session is complete


@dataclass(frozen=True, slots=True)
class Bay:
    """A connector a vehicle may be planned on, with the power it delivers at most."""

    charger_id: str
    connector_id: int
    max_kw: float

    @property
    def label(self) -> str:
        return f"{self.charger_id}/{self.connector_id}"


@dataclass(frozen=True, slots=True)
class PlannedSession:
    """A vehicle expected on a connector between `arrival` and `departure` (aware UTC)."""

    id: int  # given by the store; 0 for a plan not saved yet
    site_id: str
    badge: str
    charger_id: str
    connector_id: int
    arrival: datetime
    departure: datetime
    energy_kwh: float
    max_kw: float  # the power it can take (the connector's maximum)
    created_by: str = ""

    def __post_init__(self) -> None:
        if self.arrival.tzinfo is None or self.departure.tzinfo is None:
            raise ValueError("arrival and departure must be aware datetimes")
        if not self.departure > self.arrival:
            raise ValueError("the departure must be after the arrival")
        if not self.energy_kwh > 0:
            raise ValueError(f"energy {self.energy_kwh} kWh is not positive")
        if not self.max_kw > 0:
            raise ValueError(f"maximum power {self.max_kw} kW is not positive")

    @property
    def bay_label(self) -> str:
        return f"{self.charger_id}/{self.connector_id}"


@dataclass(frozen=True, slots=True)
class Feeder:
    """A group of the electrical tree with a limit, and the connectors ("CP-001/1") under
    it, at any depth."""

    id: str
    name: str  # "feeder F1", for the operator
    limit: SiteLimit
    bays: frozenset[str]


@dataclass(frozen=True, slots=True)
class RunningSession:
    """A session charging now; what is not known is assumed (see `running_window`)."""

    charger_id: str
    connector_id: int
    badge: str
    max_kw: float  # the power it is expected to keep drawing
    energy_need_kwh: float | None = None  # still to deliver
    departure: datetime | None = None
    delivered_kwh: float = 0.0  # since the session began

    @property
    def bay_label(self) -> str:
        return f"{self.charger_id}/{self.connector_id}"


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """What the operator asks: a badge on a bollard (None: any) for an energy in a window."""

    site_id: str
    badge: str
    charger_id: str | None
    arrival: datetime
    departure: datetime
    energy_kwh: float


@dataclass(frozen=True, slots=True)
class SiteLimit:
    """The site's connection limit over time: static, or scheduled by local time of day.

    A limit in A per phase counts as that current on three phases at `voltage_v`; with both,
    the lower applies. None: no limit.
    """

    static: Limit = field(default_factory=Limit)
    schedule: tuple[ScheduleEntry, ...] = ()
    tz: tzinfo = UTC  # the time zone of the schedule's times of day
    voltage_v: float = NOMINAL_VOLTAGE_V

    def at(self, when: datetime) -> float | None:
        limit = (
            scheduled_limit(self.schedule, when.astimezone(self.tz).time())
            if self.schedule
            else self.static
        )
        values = [v for v in (limit.kw, _amps_kw(limit.amps, self.voltage_v)) if v is not None]
        return min(values) if values else None

    def changes(self, start: datetime, end: datetime) -> list[datetime]:
        """The moments in (start, end) where a schedule entry begins."""
        if not self.schedule:
            return []
        result: list[datetime] = []
        day = start.astimezone(self.tz).date() - timedelta(days=1)
        while day <= end.astimezone(self.tz).date():
            for entry in self.schedule:
                moment = datetime.combine(day, entry.start, self.tz).astimezone(UTC)
                if start < moment < end:
                    result.append(moment)
            day += timedelta(days=1)
        return sorted(set(result))


def _amps_kw(amps: float | None, voltage_v: float) -> float | None:
    return None if amps is None else amps_to_watts(amps, 3, voltage_v) / 1000.0


@dataclass(frozen=True, slots=True)
class Load:
    """One session as the forecast sees it: a window, a power cap, an energy (None: no end)."""

    key: str
    bay: str  # "CP-001/1"
    badge: str
    start: datetime
    end: datetime
    max_kw: float
    energy_kwh: float | None
    planned: bool


@dataclass(frozen=True, slots=True)
class LoadStep:
    """The site's load between `start` and `end`, and the limit then (None: no limit)."""

    start: datetime
    end: datetime
    load_kw: float
    limit_kw: float | None

    @property
    def full(self) -> bool:
        return self.limit_kw is not None and self.load_kw >= self.limit_kw - 1e-6


@dataclass(frozen=True, slots=True)
class SessionForecast:
    delivered_kwh: float
    shortfall_kwh: float  # energy still missing when it leaves (0 without a need)
    finished_at: datetime | None  # when its need was delivered


@dataclass(frozen=True, slots=True)
class Forecast:
    steps: tuple[LoadStep, ...]
    sessions: Mapping[str, SessionForecast] = field(default_factory=dict)

    @property
    def peak_kw(self) -> float:
        return max((s.load_kw for s in self.steps), default=0.0)

    def load_at(self, when: datetime) -> float:
        return next((s.load_kw for s in self.steps if s.start <= when < s.end), 0.0)


def fulfils(
    plan: PlannedSession, charger_id: str, connector_id: int, badge: str | None, at: datetime
) -> bool:
    """Whether a session on this connector with `badge`, begun (or seen) at `at`, is the
    planned vehicle: the plan's connector and badge (any badge when the plan has none),
    inside the plan's window from `ARRIVAL_MARGIN` before its arrival."""
    return (
        (plan.charger_id, plan.connector_id) == (charger_id, connector_id)
        and (not plan.badge or plan.badge == badge)
        and plan.arrival - ARRIVAL_MARGIN <= at < plan.departure
    )


def arrived(
    running: Sequence[RunningSession], planned: Sequence[PlannedSession], now: datetime
) -> tuple[list[RunningSession], list[PlannedSession]]:
    """A planned vehicle that has arrived is one session, not two: a running session that
    `fulfils` a plan takes the plan's departure, the plan's energy less what it has had,
    and the connector's power; the plan leaves the forecast."""
    used: set[int] = set()
    result = []
    for r in running:
        plan = next(
            (
                p
                for p in planned
                if p.id not in used and fulfils(p, r.charger_id, r.connector_id, r.badge, now)
            ),
            None,
        )
        if plan is None:
            result.append(r)
            continue
        used.add(plan.id)
        need = max(0.0, plan.energy_kwh - r.delivered_kwh)
        result.append(
            replace(r, max_kw=plan.max_kw, energy_need_kwh=need, departure=plan.departure)
        )
    return result, [p for p in planned if p.id not in used]


def running_window(session: RunningSession, now: datetime) -> tuple[datetime, datetime]:
    """When a running session is expected to leave: its departure; without one, when its
    need is delivered at its power (capped at the horizon); without either, after
    `UNKNOWN_DURATION`."""
    if session.departure is not None:
        return now, max(now, session.departure)
    if session.energy_need_kwh is not None and session.max_kw > 0:
        hours = session.energy_need_kwh / session.max_kw
        return now, now + min(HORIZON, timedelta(hours=hours))
    return now, now + UNKNOWN_DURATION


def loads(
    running: Iterable[RunningSession], planned: Iterable[PlannedSession], now: datetime
) -> list[Load]:
    result = []
    for r in running:
        start, end = running_window(r, now)
        result.append(
            Load(
                f"running {r.bay_label}",
                r.bay_label,
                r.badge,
                start,
                end,
                r.max_kw,
                r.energy_need_kwh,
                False,
            )
        )
    for p in planned:
        result.append(
            Load(
                f"plan {p.id}",
                p.bay_label,
                p.badge,
                p.arrival,
                p.departure,
                p.max_kw,
                p.energy_kwh,
                True,
            )
        )
    return result


def water_fill(caps: Sequence[float], capacity: float | None) -> list[float]:
    """Fair shares of `capacity` among loads capped at `caps` (None: no limit)."""
    if capacity is None or sum(caps) <= capacity:
        return list(caps)
    shares = [0.0] * len(caps)
    left = max(0.0, capacity)
    order = sorted(range(len(caps)), key=lambda i: caps[i])
    for n, i in enumerate(order):
        level = left / (len(order) - n)
        shares[i] = min(caps[i], level)
        left -= shares[i]
    return shares


def forecast(
    limit: SiteLimit, sessions: Sequence[Load], start: datetime, end: datetime
) -> Forecast:
    """The site's load from `start` to `end`, sessions sharing the limit fairly."""
    if end <= start:
        return Forecast(())

    def at(t: datetime) -> float:
        return (t - start).total_seconds()

    horizon = at(end)
    remaining = [math.inf if s.energy_kwh is None else s.energy_kwh for s in sessions]
    delivered = [0.0] * len(sessions)
    finished: list[float | None] = [None] * len(sessions)
    bounds = [(at(s.start), at(s.end)) for s in sessions]
    changes = [at(c) for c in limit.changes(start, end)]
    edges = sorted({b for pair in bounds for b in pair if 0 < b < horizon} | set(changes))
    steps: list[LoadStep] = []
    t = 0.0
    while t < horizon:
        when = start + timedelta(seconds=t)
        cap = limit.at(when)
        active = [i for i, (a, b) in enumerate(bounds) if a <= t < b and remaining[i] > _DONE_KWH]
        rates = water_fill([sessions[i].max_kw for i in active], cap)
        following = next((e for e in edges if e > t), horizon)
        for i, rate in zip(active, rates, strict=True):
            if rate > 0 and math.isfinite(remaining[i]):
                following = min(following, t + remaining[i] / rate * 3600.0)
        following = max(following, t + 1e-6)  # always move on
        hours = (following - t) / 3600.0
        for i, rate in zip(active, rates, strict=True):
            energy = min(remaining[i], rate * hours)
            delivered[i] += energy
            remaining[i] -= energy
            if remaining[i] <= _DONE_KWH and finished[i] is None:
                finished[i] = following
        load = sum(rates)
        stop = start + timedelta(seconds=following)
        if steps and steps[-1].load_kw == load and steps[-1].limit_kw == cap:
            steps[-1] = LoadStep(steps[-1].start, stop, load, cap)
        else:
            steps.append(LoadStep(when, stop, load, cap))
        t = following
    result = {}
    for i, s in enumerate(sessions):
        done = finished[i]
        short = 0.0 if s.energy_kwh is None else max(0.0, s.energy_kwh - delivered[i])
        result[s.key] = SessionForecast(
            delivered[i],
            short if short > _DONE_KWH else 0.0,
            None if done is None else start + timedelta(seconds=done),
        )
    return Forecast(tuple(steps), result)


@dataclass(frozen=True, slots=True)
class Fit:
    """The answer for a plan: whether it fits, why (not), and the forecast with it."""

    fits: bool
    reason: str
    plan: PlannedSession | None  # the plan on the connector chosen; None when none is free
    forecast: Forecast | None  # with the plan (None when it never got that far)


def occupied(
    running: Iterable[RunningSession], planned: Iterable[PlannedSession], now: datetime
) -> dict[str, list[tuple[datetime, datetime, str]]]:
    """For each connector ("CP-001/1"): the windows already taken, with the badge."""
    taken: dict[str, list[tuple[datetime, datetime, str]]] = {}
    for r in running:
        start, end = running_window(r, now)
        taken.setdefault(r.bay_label, []).append((start, end, r.badge))
    for p in planned:
        taken.setdefault(p.bay_label, []).append((p.arrival, p.departure, p.badge))
    return taken


def conflict(
    bay: str,
    arrival: datetime,
    departure: datetime,
    taken: Mapping[str, Sequence[tuple[datetime, datetime, str]]],
) -> tuple[datetime, datetime, str] | None:
    """The first window on `bay` overlapping [arrival, departure), if any."""
    return next(
        (w for w in sorted(taken.get(bay, ())) if w[0] < departure and arrival < w[1]), None
    )


def check_plan(
    request: PlanRequest,
    bays: Sequence[Bay],
    running: Sequence[RunningSession],
    planned: Sequence[PlannedSession],
    limit: SiteLimit,
    now: datetime,
    feeders: Sequence[Feeder] = (),
) -> Fit:
    """Whether `request` fits the site and the `feeders` above its connector: on which
    connector, and if not, why.

    `bays` are the connectors of the site in the order of preference (the first free one
    is taken when the request names no bollard).
    """
    tz = limit.tz
    end = now + HORIZON
    running, planned = arrived(running, planned, now)
    if not request.energy_kwh > 0:
        return Fit(False, "the energy to deliver must be more than 0 kWh", None, None)
    if request.departure <= request.arrival:
        return Fit(False, "the departure must be after the arrival", None, None)
    if request.departure <= now:
        return Fit(False, "the departure is already past", None, None)
    if request.arrival >= end:
        return Fit(False, "the arrival is beyond the next 24 h", None, None)
    arrival = max(request.arrival, now)
    candidates = [
        b for b in bays if request.charger_id is None or b.charger_id == request.charger_id
    ]
    if not candidates:
        return Fit(False, f"{request.charger_id} is not a bollard of this site", None, None)
    taken = occupied(running, planned, now)
    free = [b for b in candidates if conflict(b.label, arrival, request.departure, taken) is None]
    window = _span(arrival, request.departure, tz)
    if not free:
        if request.charger_id is None:
            return Fit(False, f"no bollard is free {window}", None, None)
        first = candidates[0]
        busy = conflict(first.label, arrival, request.departure, taken)
        assert busy is not None
        return Fit(
            False,
            f"{first.label} is taken {_span(busy[0], busy[1], tz)} ({busy[2] or 'no badge'})",
            None,
            None,
        )
    bay = free[0]
    plan = PlannedSession(
        0,
        request.site_id,
        request.badge,
        bay.charger_id,
        bay.connector_id,
        arrival,
        request.departure,
        request.energy_kwh,
        bay.max_kw,
    )
    hours = (request.departure - arrival).total_seconds() / 3600.0
    most = bay.max_kw * hours
    if request.energy_kwh > most + ENERGY_TOLERANCE_KWH:
        return Fit(
            False,
            f"needs {request.energy_kwh:.1f} kWh {window}: at most {most:.1f} kWh"
            f" at {bay.max_kw:.1f} kW on {bay.label}",
            plan,
            None,
        )
    others = loads(running, planned, now)
    mine = loads((), (plan,), now)[0]
    after = forecast(limit, [*others, mine], now, end)
    refusal = _refusal("the site limit", limit, others, mine, after, now, tz)
    if refusal is not None:
        return Fit(False, refusal, plan, after)
    for feeder in feeders:
        if bay.label in feeder.bays:
            under = [o for o in others if o.bay in feeder.bays]
            alone = forecast(feeder.limit, [*under, mine], now, end)
            refusal = _refusal(
                f"the limit of {feeder.name}", feeder.limit, under, mine, alone, now, tz
            )
            if refusal is not None:
                return Fit(False, refusal, plan, after)
    done = after.sessions[mine.key].finished_at
    by = f" by {_clock(done, tz)}" if done is not None else ""
    return Fit(True, f"fits on {bay.label}: {request.energy_kwh:.1f} kWh{by}", plan, after)


def _refusal(
    name: str,
    limit: SiteLimit,
    others: Sequence[Load],
    mine: Load,
    after: Forecast,
    now: datetime,
    tz: tzinfo,
) -> str | None:
    """Why the vehicle `mine` does not fit under the limit `name`, forecast with it in
    `after`: it would leave short, or leave another session shorter than without it."""
    outcome = after.sessions[mine.key]
    if outcome.shortfall_kwh > ENERGY_TOLERANCE_KWH:
        full = [s for s in after.steps if s.full and s.start < mine.end and mine.start < s.end]
        where = (
            f"{name} is full "
            + _span(max(full[0].start, mine.start), min(full[-1].end, mine.end), tz)
            if full
            else f"{name} is full"
        )
        return f"{where}: {outcome.shortfall_kwh:.1f} kWh short at departure {_clock(mine.end, tz)}"
    before = forecast(limit, others, now, now + HORIZON)
    for other in others:
        lost = after.sessions[other.key].shortfall_kwh - before.sessions[other.key].shortfall_kwh
        if lost > ENERGY_TOLERANCE_KWH:
            return (
                f"it would leave {other.badge or 'the session'} on {other.bay}"
                f" {lost:.1f} kWh short at {_clock(other.end, tz)}"
            )
    return None


def pending(plans: Iterable[PlannedSession], now: datetime) -> list[PlannedSession]:
    """The plans not yet over (departure after `now`), by arrival."""
    return sorted((p for p in plans if p.departure > now), key=lambda p: (p.arrival, p.id))


def _span(start: datetime, end: datetime, tz: tzinfo) -> str:
    return f"from {_clock(start, tz)} to {_clock(end, tz)}"


def _clock(when: datetime, tz: tzinfo) -> str:
    return when.astimezone(tz).strftime("%H:%M")


def running_from_status(
    status: SiteChargingStatus,
    badges: Mapping[tuple[str, int], str],
    delivered: Mapping[tuple[str, int], float] | None = None,
) -> list[RunningSession]:
    """The sessions charging now, from the charging service's status: each is expected to
    keep the power it has now (its setpoint, or what it draws when that is more), with its
    energy need and departure when the service knows them (charging/needs.py).
    `badges` and `delivered` (kWh so far) by (charger id, connector id)."""
    return [
        RunningSession(
            c.charger_id,
            c.connector_id,
            badges.get((c.charger_id, c.connector_id), ""),
            max(c.power_kw, c.measured_kw),
            energy_need_kwh=c.energy_need_kwh,
            departure=c.departure,
            delivered_kwh=(delivered or {}).get((c.charger_id, c.connector_id), 0.0),
        )
        for c in status.connectors
        if c.state in ("charging", "manual") or c.measured_kw > 0
    ]
