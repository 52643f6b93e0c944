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
import threading
from bisect import bisect_left
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from itertools import chain, compress, repeat
from operator import add, attrgetter, contains, lt, mul, neg, not_
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


@dataclass(frozen=True, slots=True)
class _Row:
    """One limit of a node: sum(coef[i] * x[members[i]]) <= its cap (members ascending)."""

    node: str
    phase: Phase | None  # None: the kW limit over all phases
    members: list[int]  # session indices
    coef: list[float]  # per member: A -> the limit's unit
    weight: float  # sum(coef)
    limited: str  # the reason given to the sessions it limits

    def load(self, x: Sequence[float], where: Sequence[bool] | None = None) -> float:
        """sum(coef * x) over the members (`where` true), in order (coefficients 1 skipped)."""
        members: Iterable[int] = self.members
        coef: Iterable[float] = self.coef
        if where is not None:
            members, coef = compress(members, where), compress(coef, where)
        return _weighted(members, coef, x, unit=self.phase is not None)


def _weighted(
    members: Iterable[int], coef: Iterable[float], x: Sequence[float], unit: bool
) -> float:
    """sum(coef * x) over `members`, in order; `unit`: every coefficient is 1 (a limit in A)."""
    values = map(x.__getitem__, members)
    return sum(values) if unit else sum(map(mul, coef, values))


@dataclass(frozen=True, slots=True)
class _Rows:
    """What the limits' rows depend on: the tree (not its limits) and the connectors that
    charge, on which phases. Kept from one allocation to the next (see `_rows`)."""

    connectors: list[Connector]  # of the sessions, in connector id order
    phases: list[tuple[Phase, ...]]  # the site phases each session loads
    watts_per_a: list[float]  # per session: W per A on each of its phases
    rows: list[_Row]  # per node limit: a row per loaded phase (A) or one row (kW), deepest first
    of: list[list[tuple[int, float]]]  # per session: (row, coefficient), deepest first


@dataclass(slots=True)
class _Problem:
    sessions: list[Session]
    phases: list[tuple[Phase, ...]]
    lo: list[float]
    hi: list[float]
    hi_reason: list[str]
    watts_per_a: list[float]
    rows: list[_Row]
    caps: list[float]  # per row, A or W; inf: no limit, or one that cannot bind
    tols: list[float]  # per row: slack under which it counts as full
    of: list[list[tuple[int, float]]]


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
        _fill_by_priority(p, x, admitted)
    elif objective is Objective.DEADLINE:
        _serve_deadlines(p, x, [s for s in order if s in admitted], now, site.voltage_v)
        _fill(p, x, sorted(admitted))
    else:
        _fill(p, x, sorted(admitted))
    return Allocation(_setpoints(site, p, x, paused))


def _problem(site: Site, sessions: Iterable[Session]) -> _Problem:
    ordered = sorted(sessions, key=attrgetter("connector_id"))
    limited = tuple((n.limit.amps is not None, n.limit.kw is not None) for n in site.nodes.values())
    tree = _rows(site, limited, tuple(map(attrgetter("connector_id", "phases"), ordered)))
    lo = list(map(attrgetter("min_a"), tree.connectors))
    hi: list[float] = []
    hi_reason: list[str] = []
    for session, c, ph in zip(ordered, tree.connectors, tree.phases, strict=True):
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
    caps: list[float] = []
    for row in tree.rows:
        limit = site.nodes[row.node].limit
        cap = limit.amps if row.phase else None if limit.kw is None else limit.kw * 1000
        # a limit that holds even with every session under it at its own maximum cannot bind
        caps.append(math.inf if cap is None or row.load(hi) <= cap else cap)
    tols = [_TIGHT * max(1.0, cap) if cap < math.inf else 0.0 for cap in caps]
    return _Problem(
        ordered, tree.phases, lo, hi, hi_reason, tree.watts_per_a, tree.rows, caps, tols, tree.of
    )


_KEPT_TREES = 8  # sites x session sets whose rows are kept
_Charging = tuple[tuple[str, int | None], ...]  # (connector id, phases used) per session
_trees: OrderedDict[tuple[object, tuple[tuple[bool, bool], ...], _Charging], _Rows] = OrderedDict()
_trees_lock = threading.Lock()


def _rows(site: Site, limited: tuple[tuple[bool, bool], ...], charging: _Charging) -> _Rows:
    """The rows for sessions on `charging`, in connector id order; `limited`: per node,
    whether it has a limit in A and one in kW.

    Building them costs about a third of an allocation; the charging service allocates
    the same sessions round after round on sites that `with_limits` derives from one tree
    (same `shape`), so the last few are kept.
    """
    key = (site.shape, limited, charging)
    with _trees_lock:
        tree = _trees.get(key)
        if tree is not None:
            _trees.move_to_end(key)
            return tree
    tree = _build_rows(site, charging)
    with _trees_lock:
        _trees[key] = tree
        while len(_trees) > _KEPT_TREES:
            _trees.popitem(last=False)
    return tree


def _build_rows(site: Site, charging: _Charging) -> _Rows:
    """Every node limit's rows, deepest nodes first, and each session's; sessions with the
    same parent and phases share their list of rows."""
    seen: set[str] = set()
    for cid, _ in charging:
        if cid not in site.connectors:
            raise ValueError(f"session on unknown connector {cid!r}")
        if cid in seen:
            raise ValueError(f"two sessions on connector {cid!r}")
        seen.add(cid)
    connectors = [site.connectors[cid] for cid, _ in charging]
    phases = [c.site_phases(used) for c, (_, used) in zip(connectors, charging, strict=True)]
    per_phase_count = {n: amps_to_watts(1.0, n, site.voltage_v) for n in (1, 2, 3)}
    watts_per_a = list(map(per_phase_count.__getitem__, map(len, phases)))
    on_phase = {phase: list(map(contains, phases, repeat(phase))) for phase in _PHASES}
    paths = [site.paths[cid] for cid, _ in charging]
    under: defaultdict[str, list[int]] = defaultdict(list)
    for s, path in enumerate(paths):
        for ancestor in path:
            under[ancestor].append(s)
    rows: list[_Row] = []
    rows_of: dict[str, list[tuple[int, Phase | None]]] = {}  # per node: its rows
    for node_id in sorted(under, key=lambda n: -len(site.paths[n])):
        node = site.nodes[node_id]
        name = f"{node.label} {node_id}" if isinstance(node, Group) else "the site limit"
        members = under[node_id]
        by_phase = [list(compress(members, map(on_phase[p].__getitem__, members))) for p in _PHASES]
        if by_phase[0] == by_phase[1] == by_phase[2]:
            by_phase = by_phase[:1]  # every session under it loads all three phases: one row
        mine = [
            _Row(node_id, phase, on, [1.0] * len(on), len(on), f"limited by {name} on L{phase:d}")
            for phase, on in zip(_PHASES, by_phase, strict=False)
            if on and node.limit.amps is not None
        ]
        if node.limit.kw is not None:
            per_a = list(map(watts_per_a.__getitem__, members))
            mine.append(_Row(node_id, None, members, per_a, sum(per_a), f"limited by {name} (kW)"))
        rows_of[node_id] = [(len(rows) + i, row.phase) for i, row in enumerate(mine)]
        rows += mine
    # a session's rows are its parent's own rows for its phases, then the parent's parent's...
    rows_for: dict[tuple[str, tuple[Phase, ...]], list[tuple[int, float]]] = {}

    def rows_above(node_id: str, ph: tuple[Phase, ...]) -> list[tuple[int, float]]:
        found = rows_for.get((node_id, ph))
        if found is None:
            watts = per_phase_count[len(ph)]
            found = [
                (k, watts if phase is None else 1.0)
                for k, phase in rows_of[node_id]
                if phase is None or phase in ph
            ]
            path = site.paths[node_id]
            if path:
                found += rows_above(path[-1], ph)
            rows_for[node_id, ph] = found
        return found

    of = [rows_above(path[-1], ph) for path, ph in zip(paths, phases, strict=True)]
    return _Rows(connectors, phases, watts_per_a, rows, of)


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
    if all(
        row.load(p.lo) * _ANY_ORDER <= cap + tol
        for row, cap, tol in zip(p.rows, p.caps, p.tols, strict=True)
        if cap < math.inf
    ):
        x[:] = p.lo
        return set(range(len(x))), {}
    load = [0.0] * len(p.rows)
    admitted: set[int] = set()
    paused: dict[int, int] = {}
    room = list(map(add, p.caps, p.tols))
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


def _level(room: float, a: list[float] | None, lo: list[float], hi: list[float]) -> float:
    """The level t at which sum(a * clamp(t, lo, hi)) reaches `room` (inf: never); a None:
    every coefficient 1 (a limit in A)."""
    if (sum(hi) if a is None else sum(map(mul, a, hi))) <= room:
        return math.inf
    value = sum(lo) if a is None else sum(map(mul, a, lo))
    if value >= room:
        return -math.inf
    if min(lo) == max(lo):
        # one floor, below the level: the load is sum(a * min(t, hi)); walk up the tops
        below = 0.0
        rest = float(len(hi)) if a is None else sum(a)
        tops = zip(sorted(hi), repeat(1.0)) if a is None else sorted(zip(hi, a, strict=True))
        for top, weight in tops:
            level = (room - below) / rest
            if level <= top:
                return level
            below += weight * top
            rest -= weight
        return max(hi)  # (reached only through rounding: the load meets room at the top)
    coef = [1.0] * len(lo) if a is None else a
    events = sorted(chain(zip(lo, coef, strict=True), zip(hi, map(neg, coef), strict=True)))
    slope, previous = 0.0, events[0][0]
    for at, change in events:
        reached = value + slope * (at - previous)
        if reached >= room:
            return previous + (room - value) / slope
        value, previous = reached, at
        slope += change
    return math.inf


# per row that may fill: its moving sessions, their coefficients, sum(coef), and the room
# the sessions that do not move leave them
_Moving = dict[int, tuple[list[int], list[float], float, float]]


def _fill(p: _Problem, x: list[float], active: Sequence[int]) -> None:
    """Raise the `active` sessions together from where they are (see `_raise`)."""
    everyone = len(active) == len(x)
    moving = [False] * len(x)
    for s in active:
        moving[s] = True
    rows: _Moving = {}
    for k, (c, cap) in enumerate(zip(p.rows, p.caps, strict=True)):
        if cap == math.inf:
            continue
        if everyone:  # (with all of them moving, it can fill: _problem)
            rows[k] = c.members, c.coef, c.weight, cap
            continue
        flags = list(map(moving.__getitem__, c.members))
        if not any(flags):
            continue
        room = cap - c.load(x, list(map(not_, flags)))
        if c.load(p.hi, flags) > room:  # else it never fills
            coef = list(compress(c.coef, flags))
            rows[k] = list(compress(c.members, flags)), coef, sum(coef), room
    _raise(p, x, active, rows)


def _fill_by_priority(p: _Problem, x: list[float], admitted: set[int]) -> None:
    """Class by class, highest first: each class is filled with what the classes above
    left, the classes below held at their minimum. Every row is split by class once."""
    classes = sorted({p.sessions[s].priority for s in admitted}, reverse=True)
    if len(classes) < 2:
        _fill(p, x, sorted(admitted))
        return
    index = {priority: i for i, priority in enumerate(classes)}
    rank = [len(classes)] * len(x)  # paused: after every class
    for s in admitted:
        rank[s] = index[p.sessions[s].priority]
    split = []  # per row that can bind: its members by class, their coefficients, class bounds
    loads: dict[int, float] = {}
    for k, (c, cap) in enumerate(zip(p.rows, p.caps, strict=True)):
        if cap < math.inf:
            members = sorted(c.members, key=rank.__getitem__)  # (stable: ascending in a class)
            coef = c.coef if c.phase else list(map(p.watts_per_a.__getitem__, members))
            ranks = list(map(rank.__getitem__, members))
            bounds = [bisect_left(ranks, i) for i in range(len(classes) + 1)]
            split.append((k, cap, members, coef, bounds))
            loads[k] = c.load(x)

    for i in range(len(classes)):
        rows: _Moving = {}
        moved = []
        for k, cap, members, coef, bounds in split:
            if bounds[i] == bounds[i + 1]:
                continue
            mine, mine_coef = members[bounds[i] : bounds[i + 1]], coef[bounds[i] : bounds[i + 1]]
            unit = p.rows[k].phase is not None
            before = _weighted(mine, mine_coef, x, unit)
            room = cap - (loads[k] - before)
            if _weighted(mine, mine_coef, p.hi, unit) > room:  # else it never fills
                rows[k] = mine, mine_coef, sum(mine_coef), room
            moved.append((k, mine, mine_coef, before, unit))
        _raise(p, x, [s for s in sorted(admitted) if rank[s] == i], rows)
        for k, mine, mine_coef, before, unit in moved:
            loads[k] += _weighted(mine, mine_coef, x, unit) - before


def _raise(p: _Problem, x: list[float], active: Sequence[int], rows: _Moving) -> None:
    """Progressive filling: raise the `active` sessions together from where they are.

    Each active session follows clamp(t, x_s, hi_s) as the level t rises; when one of
    `rows` fills, its active sessions freeze at that level. A lazy heap finds the next
    limit to fill: a limit's level only rises when some of its sessions freeze, so an entry
    computed before the last freeze is a lower bound, recomputed when it comes out first.
    """
    hi = p.hi
    floor = list(x)
    frozen = [False] * len(x)
    live = {k: (mine, coef) for k, (mine, coef, _, _) in rows.items()}
    room = {k: left for k, (_, _, _, left) in rows.items()}
    heap: list[tuple[float, int, int]] = []
    for k, (mine, coef, weight, left) in rows.items():
        # a cheap lower bound of its level, made exact when it first comes out: the load
        # sum(a * clamp(t, x_s, hi_s)) is at most both sum(a) * max(t, max x_s) and
        # sum(a) * t + sum(a * x_s)
        even = left / weight
        if even < max(map(x.__getitem__, mine)):
            even = (left - sum(map(mul, coef, map(x.__getitem__, mine)))) / weight
        heap.append((even, k, -1))

    def level(k: int) -> float:
        """Its exact level; its sessions frozen since the last time leave it less room."""
        mine, coef = live[k]
        done = list(map(frozen.__getitem__, mine))
        if any(done):
            room[k] -= sum(map(mul, compress(coef, done), map(x.__getitem__, compress(mine, done))))
            left = list(map(not_, done))
            mine, coef = list(compress(mine, left)), list(compress(coef, left))
            live[k] = mine, coef
            if not mine:
                return math.inf
        lo, top = list(map(floor.__getitem__, mine)), list(map(hi.__getitem__, mine))
        return _level(room[k], None if p.rows[k].phase else coef, lo, top)

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
    caps = p.caps
    load = [row.load(x) if cap < math.inf else 0.0 for row, cap in zip(p.rows, caps, strict=True)]
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
        rows, room = p.of[s], math.inf
        for k, a in rows:
            if (left := (caps[k] - load[k]) / a) < room:
                room = left
        raised = max(x[s], min(target, x[s] + max(room, 0.0)))
        step = raised - x[s]
        for k, a in rows:
            load[k] += a * step
        x[s] = raised


def _setpoints(
    site: Site, p: _Problem, x: Sequence[float], paused: Mapping[int, int]
) -> dict[str, Setpoint]:
    rows = p.rows
    full = [
        cap < math.inf and row.load(x) >= cap - tol
        for row, cap, tol in zip(rows, p.caps, p.tols, strict=True)
    ]
    voltage = site.voltage_v
    reasons = list(p.hi_reason)
    bindings: list[str | None] = [None] * len(x)
    below = map(lt, x, map(mul, p.hi, repeat(1 - _TIGHT)))
    for s in compress(range(len(x)), below):
        # the deepest full limit on its path (work conservation: there is one)
        for k, _ in p.of[s]:
            if full[k]:
                break
        else:  # (only through rounding) its deepest limit
            k = next(k for k, _ in p.of[s] if p.caps[k] < math.inf)
        bindings[s], reasons[s] = rows[k].node, rows[k].limited
    ids = list(map(attrgetter("connector_id"), p.sessions))
    power = map(amps_to_watts, x, map(len, p.phases), repeat(voltage))
    charging = map(Setpoint, ids, repeat(State.CHARGING), x, p.phases, power, reasons, bindings)
    result: dict[str, Setpoint] = dict(zip(ids, charging, strict=True))
    for s, k in paused.items():
        c, cid = rows[k], ids[s]
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
