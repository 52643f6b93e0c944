"""Dynamic power allocation over a site's electrical tree: a pure function, no I/O.

`allocate` gives every connector of a `Site` a setpoint in A per phase (and W), a state and
the reason it is limited. Every node limit becomes linear constraints on the sessions'
currents: one per phase for a limit in A (a session loads the site phases its vehicle uses)
and one over all phases for a limit in kW. Fairness is in A per phase, the unit of the
IEC 61851 pilot signal and of OCPP profiles in A.

1. Admission: in the objective's order, a session is admitted if its minimum current still
   fits every limit above it with the minimums of those admitted before; otherwise it is
   paused (never a setpoint between 0 and the minimum).
2. Sharing: progressive filling (water-filling) raises the admitted sessions' currents
   together from their minimum; a session stops when a limit on its path fills or it
   reaches its own maximum (connector, vehicle, demand). Fair share fills everyone at once;
   priority fills class by class (higher first, the lower ones held at their minimum);
   deadline first raises, earliest departure first, each session to the current that
   delivers its energy need by its departure, then fills everyone with what is left.
Ties are broken by connector id, so the result does not depend on the input order.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from itertools import chain, compress, repeat
from operator import attrgetter, contains, itemgetter, lt, mul, neg, not_
from typing import NamedTuple

from evsuper.charging.topology import (
    Connector,
    Group,
    Phase,
    Site,
    amps_to_watts,
    watts_to_amps,
)

DEMAND_MARGIN_A = 1.0  # a vehicle drawing this far below its offer is taken to want no more
_TIGHT = 1e-7  # relative slack under which a limit counts as full
_PHASES = tuple(Phase)
_ANY_ORDER = 1 + 1e-9  # bound on the relative change of a float sum when reordered


class Objective(StrEnum):
    FAIR = "fair"
    PRIORITY = "priority"
    DEADLINE = "deadline"


class State(StrEnum):
    CHARGING = "charging"
    PAUSED = "paused"  # requested, but its minimum does not fit
    NOT_REQUESTED = "not requested"


@dataclass(frozen=True, slots=True)
class Session:
    """An active session on a connector; currents are per phase."""

    connector_id: str
    priority: int = 0  # higher classes are served first (priority objective)
    measured_a: float | None = None  # what the vehicle draws now
    offered_a: float | None = None  # the setpoint in force when it was measured
    max_a: float | None = None  # the vehicle's own maximum, when declared
    phases: int | None = None  # phases the vehicle uses; None: all of the connector's
    energy_need_kwh: float | None = None
    departure: datetime | None = None

    def __post_init__(self) -> None:
        if self.phases not in (None, 1, 2, 3):
            raise ValueError(f"session on {self.connector_id}: phases {self.phases} is not 1-3")

    def demand_a(self) -> float | None:
        """What the vehicle takes: its measured current when well below its offer, else None."""
        if self.measured_a is None or self.offered_a is None:
            return None
        if self.measured_a < self.offered_a - DEMAND_MARGIN_A:
            return self.measured_a + DEMAND_MARGIN_A
        return None


class Setpoint(NamedTuple):
    """A connector's result (a named tuple: a frozen dataclass costs 0.6 µs more each)."""

    connector_id: str
    state: State
    current_a: float  # on each loaded phase
    phases: tuple[Phase, ...]  # the site phases it loads
    power_w: float
    reason: str  # "limited by feeder F2 on L1", "paused: below 6 A minimum, ..."
    binding: str | None  # the node whose limit binds it, if any

    @property
    def phase_currents(self) -> tuple[float, float, float]:
        """Current on site phases L1, L2, L3."""
        a = self.current_a
        return (
            a if Phase.L1 in self.phases else 0.0,
            a if Phase.L2 in self.phases else 0.0,
            a if Phase.L3 in self.phases else 0.0,
        )


@dataclass(frozen=True, slots=True)
class Allocation:
    setpoints: Mapping[str, Setpoint]  # by connector id, every connector of the site


@dataclass(slots=True)
class _Constraint:
    """sum(coef[i] * x[members[i]]) <= cap, members in ascending session order."""

    node: str
    name: str  # "the site limit", "feeder F2"
    phase: Phase | None  # None: the kW limit over all phases
    cap: float  # A, or W for a kW limit
    members: list[int]  # session indices
    coef: list[float]  # per member: A -> constraint unit
    tol: float = field(init=False)  # slack under which it counts as full
    weight: float = field(init=False)  # sum(coef)
    limited: str = field(init=False)  # the reason given to the sessions it limits

    def __post_init__(self) -> None:
        self.tol = _TIGHT * max(1.0, self.cap)
        self.weight = sum(self.coef)
        where = f"{self.name} on L{self.phase:d}" if self.phase else f"{self.name} (kW)"
        self.limited = f"limited by {where}"

    def load(self, x: Sequence[float], where: Sequence[bool] | None = None) -> float:
        """sum(coef * x) over the members (`where` true), in order (coefficients 1 skipped)."""
        members: Iterable[int] = self.members
        coef: Iterable[float] = self.coef
        if where is not None:
            members, coef = compress(members, where), compress(coef, where)
        values = map(x.__getitem__, members)
        return sum(values) if self.phase else sum(map(mul, coef, values))


@dataclass(slots=True)
class _Problem:
    sessions: list[Session]
    phases: list[tuple[Phase, ...]]
    lo: list[float]
    hi: list[float]
    hi_reason: list[str]
    constraints: list[_Constraint]
    of: list[list[tuple[int, float]]]  # per session: (constraint index, coefficient), deepest first


def allocate(
    site: Site,
    sessions: Iterable[Session],
    objective: Objective = Objective.FAIR,
    now: datetime | None = None,
) -> Allocation:
    """Setpoints for every connector of `site` (`now` is needed for departures)."""
    p = _problem(site, sessions)
    x = [0.0] * len(p.sessions)
    order = _order(p.sessions, objective)
    admitted, paused = _admit(p, order, x)
    if objective is Objective.PRIORITY:
        for level in sorted({p.sessions[s].priority for s in admitted}, reverse=True):
            _fill(p, x, [s for s in admitted if p.sessions[s].priority == level])
    elif objective is Objective.DEADLINE:
        _serve_deadlines(p, x, [s for s in order if s in admitted], now, site.voltage_v)
        _fill(p, x, sorted(admitted))
    else:
        _fill(p, x, sorted(admitted))
    return Allocation(_setpoints(site, p, x, paused))


def _problem(site: Site, sessions: Iterable[Session]) -> _Problem:
    by_connector: dict[str, Session] = {}
    for session in sessions:
        if session.connector_id not in site.connectors:
            raise ValueError(f"session on unknown connector {session.connector_id!r}")
        if session.connector_id in by_connector:
            raise ValueError(f"two sessions on connector {session.connector_id!r}")
        by_connector[session.connector_id] = session
    ids = sorted(by_connector)
    ordered = list(map(by_connector.__getitem__, ids))
    connectors = list(map(site.connectors.__getitem__, ids))
    phases = list(map(Connector.site_phases, connectors, map(attrgetter("phases"), ordered)))
    lo = list(map(attrgetter("min_a"), connectors))
    hi: list[float] = []
    hi_reason: list[str] = []
    for session, c, ph in zip(ordered, connectors, phases, strict=True):
        value, reason = c.max_a, "limited by its own maximum"
        if c.max_kw is not None:
            dc = watts_to_amps(c.max_kw * 1000, len(ph), site.voltage_v)
            value, reason = min((value, reason), (dc, "limited by its maximum power"))
        if session.max_a is not None and session.max_a < value:
            value, reason = session.max_a, "limited by the vehicle's maximum"
        demand = session.demand_a()
        if demand is not None and demand < value:
            value, reason = demand, "limited by what the vehicle takes"
        hi.append(max(value, c.min_a))
        hi_reason.append(reason)
    constraints, of = _constraints(site, ordered, phases, hi)
    return _Problem(ordered, phases, lo, hi, hi_reason, constraints, of)


def _constraints(
    site: Site,
    sessions: Sequence[Session],
    phases: Sequence[tuple[Phase, ...]],
    hi: Sequence[float],
) -> tuple[list[_Constraint], list[list[tuple[int, float]]]]:
    """The linear constraints of every node limit, deepest nodes first, and each session's.

    A limit that holds even with every session under it at its own maximum cannot bind,
    and is left out. Sessions with the same path and phases share their list of constraints.
    """
    per_phase_count = {n: amps_to_watts(1.0, n, site.voltage_v) for n in (1, 2, 3)}
    watts_per_a = list(map(per_phase_count.__getitem__, map(len, phases)))
    on_phase = {phase: list(map(contains, phases, repeat(phase))) for phase in _PHASES}
    paths = list(map(site.paths.__getitem__, map(attrgetter("connector_id"), sessions)))
    under: defaultdict[str, list[int]] = defaultdict(list)
    for s, path in enumerate(paths):
        for ancestor in path:
            under[ancestor].append(s)
    constraints: list[_Constraint] = []
    rows_of: dict[str, list[tuple[int, Phase | None]]] = {}  # per node: its kept rows
    for node_id in sorted(under, key=lambda n: -len(site.paths[n])):
        node = site.nodes[node_id]
        name = f"{node.label} {node_id}" if isinstance(node, Group) else "the site limit"
        members = under[node_id]
        kept: list[_Constraint] = []
        amps, kw = node.limit.amps, node.limit.kw
        if amps is not None:
            rows = [list(compress(members, map(on_phase[p].__getitem__, members))) for p in _PHASES]
            if rows[0] == rows[1] == rows[2]:
                rows = rows[:1]  # every session under it loads all three phases: one row is enough
            for phase, on in zip(_PHASES, rows, strict=False):
                if sum(map(hi.__getitem__, on)) > amps:  # (coefficients 1)
                    kept.append(_Constraint(node_id, name, phase, amps, on, [1.0] * len(on)))
        if kw is not None:
            per_a = list(map(watts_per_a.__getitem__, members))
            if sum(map(mul, per_a, map(hi.__getitem__, members))) > kw * 1000:
                kept.append(_Constraint(node_id, name, None, kw * 1000, members, per_a))
        rows_of[node_id] = [(len(constraints) + i, c.phase) for i, c in enumerate(kept)]
        constraints += kept
    # a session's rows are its parent's own rows for its phases, then the parent's parent's...
    rows_for: dict[tuple[str, tuple[Phase, ...]], list[tuple[int, float]]] = {}

    def rows_above(node_id: str, ph: tuple[Phase, ...]) -> list[tuple[int, float]]:
        rows = rows_for.get((node_id, ph))
        if rows is None:
            watts = per_phase_count[len(ph)]
            rows = [
                (k, watts if phase is None else 1.0)
                for k, phase in rows_of[node_id]
                if phase is None or phase in ph
            ]
            path = site.paths[node_id]
            if path:
                rows += rows_above(path[-1], ph)
            rows_for[node_id, ph] = rows
        return rows

    keys = list(zip(map(itemgetter(-1), paths), phases, strict=True))
    for parent, ph in dict.fromkeys(keys):
        rows_above(parent, ph)
    return constraints, list(map(rows_for.__getitem__, keys))


def _order(sessions: Sequence[Session], objective: Objective) -> list[int]:
    """Admission order: priority class, then departure (deadline objective), then id.

    The sessions are in id order and the sort is stable, so ties keep it.
    """
    if objective is Objective.PRIORITY:
        keys: list[float] = [-session.priority for session in sessions]
    elif objective is Objective.DEADLINE:
        keys = [math.inf if s.departure is None else s.departure.timestamp() for s in sessions]
    else:
        return list(range(len(sessions)))
    return sorted(range(len(sessions)), key=keys.__getitem__)


def _admit(p: _Problem, order: Sequence[int], x: list[float]) -> tuple[set[int], dict[int, int]]:
    """Admitted sessions (x set to their minimum) and the paused ones with the full limit."""
    # A float sum of nonnegative terms, in any order, is within a factor _ANY_ORDER of
    # the sum in member order (below a million sessions): if every limit holds with that
    # margin at everyone's minimum, the loop below admits everyone.
    if all(c.load(p.lo) * _ANY_ORDER <= c.cap + c.tol for c in p.constraints):
        x[:] = p.lo
        return set(range(len(x))), {}
    load = [0.0] * len(p.constraints)
    admitted: set[int] = set()
    paused: dict[int, int] = {}
    room = [c.cap + c.tol for c in p.constraints]
    for s in order:
        lo = p.lo[s]
        for k, a in p.of[s]:
            if load[k] + a * lo > room[k]:
                paused[s] = k
                break
        else:
            admitted.add(s)
            x[s] = lo
            for k, a in p.of[s]:
                load[k] += a * lo
    return admitted, paused


def _level(room: float, a: list[float], lo: list[float], hi: list[float]) -> float:
    """The level t at which sum(a * clamp(t, lo, hi)) reaches `room` (inf: never)."""
    if sum(map(mul, a, hi)) <= room:
        return math.inf
    value = sum(map(mul, a, lo))
    if value >= room:
        return -math.inf
    events = sorted(chain(zip(lo, a, strict=True), zip(hi, map(neg, a), strict=True)))
    slope, previous = 0.0, events[0][0]
    for at, change in events:
        reached = value + slope * (at - previous)
        if reached >= room:
            return previous + (room - value) / slope
        value, previous = reached, at
        slope += change
    return math.inf


def _fill(p: _Problem, x: list[float], active: Sequence[int]) -> None:
    """Progressive filling: raise the `active` sessions together from where they are.

    Each active session follows clamp(t, x_s, hi_s) as the level t rises; when a limit
    fills, its active sessions freeze at that level. A lazy heap finds the next limit to
    fill: a limit's level only rises when some of its sessions freeze, so an entry computed
    before the last freeze is a lower bound, recomputed when it comes out first.
    """
    hi = p.hi
    moving = [False] * len(x)
    for s in active:
        moving[s] = True
    floor = list(x)
    frozen = [False] * len(x)
    live: dict[int, tuple[list[int], list[float]]] = {}  # per limit: its moving sessions
    base: dict[int, float] = {}  # per limit: the load of the sessions that do not move
    heap: list[tuple[float, int, int]] = []
    everyone = len(active) == len(x)
    for k, c in enumerate(p.constraints):
        mine, coef, weight = c.members, c.coef, c.weight
        flags = [] if everyone else list(map(moving.__getitem__, mine))  # []: all move
        base[k] = 0.0
        if not all(flags):  # (with all of them moving, it can fill: _constraints)
            if not any(flags):
                continue
            base[k] = c.load(x, list(map(not_, flags)))
            if c.load(hi, flags) <= c.cap - base[k]:
                continue  # never fills
            mine, coef = list(compress(mine, flags)), list(compress(coef, flags))
            weight = sum(coef)
        room = c.cap - base[k]
        live[k] = mine, coef
        # a cheap lower bound of its level, made exact when it first comes out: the load
        # sum(a * clamp(t, x_s, hi_s)) is at most both sum(a) * max(t, max x_s) and
        # sum(a) * t + sum(a * x_s)
        even = room / weight
        if even < max(map(x.__getitem__, mine)):
            even = (room - sum(map(mul, coef, map(x.__getitem__, mine)))) / weight
        heap.append((even, k, -1))

    def level(k: int) -> float:
        """Its exact level; its sessions frozen since the last time move into its base."""
        mine, coef = live[k]
        done = list(map(frozen.__getitem__, mine))
        if any(done):
            base[k] += sum(map(mul, compress(coef, done), map(x.__getitem__, compress(mine, done))))
            left = list(map(not_, done))
            mine, coef = list(compress(mine, left)), list(compress(coef, left))
            live[k] = mine, coef
            if not mine:
                return math.inf
        lo, top = list(map(floor.__getitem__, mine)), list(map(hi.__getitem__, mine))
        return _level(p.constraints[k].cap - base[k], coef, lo, top)

    freezes, moving_left = 0, len(active)
    heapq.heapify(heap)
    while heap and moving_left:
        t, k, stamp = heapq.heappop(heap)
        if stamp != freezes:
            heapq.heappush(heap, (level(k), k, freezes))
            continue
        if t == math.inf:
            break
        freezes += 1
        for s in live.pop(k)[0]:
            if not frozen[s]:
                frozen[s] = True
                moving_left -= 1
                x[s] = min(max(t, floor[s]), hi[s])
    for s in active:
        if not frozen[s]:
            x[s] = hi[s]


def _serve_deadlines(
    p: _Problem, x: list[float], order: Sequence[int], now: datetime | None, voltage_v: float
) -> None:
    """Earliest departure first, raise each session towards the current meeting its need."""
    load = [c.load(x) for c in p.constraints]
    for s in order:
        session = p.sessions[s]
        if session.departure is None or session.energy_need_kwh is None:
            continue
        if now is None:
            raise ValueError("the deadline objective needs `now` for sessions with a departure")
        hours = (session.departure - now).total_seconds() / 3600
        need_w = session.energy_need_kwh * 1000 / hours if hours > 0 else math.inf
        target = min(watts_to_amps(need_w, len(p.phases[s]), voltage_v), p.hi[s])
        if target <= x[s]:
            continue
        room = min(((p.constraints[k].cap - load[k]) / a for k, a in p.of[s]), default=math.inf)
        raised = max(x[s], min(target, x[s] + max(room, 0.0)))
        for k, a in p.of[s]:
            load[k] += a * (raised - x[s])
        x[s] = raised


def _setpoints(
    site: Site, p: _Problem, x: Sequence[float], paused: Mapping[int, int]
) -> dict[str, Setpoint]:
    constraints = p.constraints
    full = [c.load(x) >= c.cap - c.tol for c in constraints]
    voltage = site.voltage_v
    reasons = list(p.hi_reason)
    bindings: list[str | None] = [None] * len(x)
    below = map(lt, x, map(mul, p.hi, repeat(1 - _TIGHT)))
    for s in compress(range(len(x)), below):
        # the deepest full limit on its path (work conservation: there is one)
        rows = p.of[s]
        k = rows[0][0]
        for row, _ in rows:
            if full[row]:
                k = row
                break
        bindings[s], reasons[s] = constraints[k].node, constraints[k].limited
    ids = list(map(attrgetter("connector_id"), p.sessions))
    power = map(amps_to_watts, x, map(len, p.phases), repeat(voltage))
    charging = map(Setpoint, ids, repeat(State.CHARGING), x, p.phases, power, reasons, bindings)
    result: dict[str, Setpoint] = dict(zip(ids, charging, strict=True))
    for s, k in paused.items():
        c, cid = constraints[k], ids[s]
        reason = f"paused: below {p.lo[s]:g} A minimum, {c.limited}"
        result[cid] = Setpoint(cid, State.PAUSED, 0.0, p.phases[s], 0.0, reason, c.node)
    if len(result) == len(site.connectors):
        return result  # in connector id order, as the sessions
    for cid, connector in site.connectors.items():
        if cid not in result:
            phases = connector.site_phases()
            result[cid] = Setpoint(
                cid, State.NOT_REQUESTED, 0.0, phases, 0.0, "not requested", None
            )
    return dict(sorted(result.items()))
