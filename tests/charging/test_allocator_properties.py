"""Properties of the allocator over random trees, checked against a plain reference."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from evsuper.charging.allocator import Allocation, Objective, Session, State, allocate
from evsuper.charging.topology import Connector, Group, Limit, Phase, Site

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
V = 230.0
EPS = 1e-6


def limits() -> st.SearchStrategy[Limit]:
    amps = st.none() | st.floats(0, 120).map(lambda a: round(a, 1))
    kw = st.none() | st.floats(0, 80).map(lambda k: round(k, 2))
    return st.builds(Limit, kw=kw, amps=amps)


@st.composite
def connectors(draw: st.DrawFn, cid: str) -> Connector:
    if draw(st.integers(0, 9)) == 0:
        max_kw = draw(st.sampled_from([20.0, 50.0]))
        return Connector(
            cid, max_a=100, min_a=draw(st.sampled_from([0.0, 2.0])), dc=True, max_kw=max_kw
        )
    max_a = draw(st.sampled_from([6.0, 10.0, 16.0, 32.0, 63.0]))
    min_a = draw(st.sampled_from([6.0, 6.0, 8.0]))
    return Connector(
        cid,
        max_a=max(max_a, min_a),
        min_a=min_a,
        phases=draw(st.sampled_from([1, 3])),
        phase=draw(st.sampled_from(list(Phase))),
    )


@st.composite
def sites(draw: st.DrawFn) -> Site:
    counter = iter(range(10_000))

    def group(depth: int) -> Group:
        n = next(counter)
        return Group(f"G{n:03d}", draw(limits()), children(depth))

    def children(depth: int) -> tuple[Group | Connector, ...]:
        kids: list[Group | Connector] = [
            draw(connectors(f"C{next(counter):03d}")) for _ in range(draw(st.integers(0, 8)))
        ]
        if depth > 1:
            kids += [group(depth - 1) for _ in range(draw(st.integers(0, 3)))]
        return tuple(kids)

    depth = draw(st.integers(1, 3))
    kids = children(depth)
    if not any(True for _ in _connectors_of(kids)):
        kids = (*kids, draw(connectors("C999")))
    return Site("S", draw(limits()), kids)


def _connectors_of(nodes: Sequence[Group | Connector]) -> list[Connector]:
    found: list[Connector] = []
    for node in nodes:
        found += [node] if isinstance(node, Connector) else _connectors_of(node.children)
    return found


@st.composite
def cases(draw: st.DrawFn) -> tuple[Site, list[Session]]:
    site = draw(sites())
    share = draw(st.integers(1, 10))  # in tenths of the connectors
    chosen = [c for c in sorted(site.connectors) if draw(st.integers(1, 10)) <= share][:50]
    sessions = []
    for cid in chosen:
        measured = draw(st.none() | st.floats(0, 40))
        departure = draw(
            st.none() | st.integers(-30, 600).map(lambda m: NOW + timedelta(minutes=m))
        )
        sessions.append(
            Session(
                cid,
                priority=draw(st.integers(0, 2)),
                measured_a=measured,
                offered_a=None if measured is None else draw(st.floats(0, 40)),
                max_a=draw(st.none() | st.floats(1, 64)),
                phases=draw(st.none() | st.sampled_from([1, 3])),
                energy_need_kwh=draw(st.none() | st.floats(0, 80)),
                departure=departure,
            )
        )
    return site, draw(st.permutations(sessions))


# --- an independent model of the limits --------------------------------------------------


@dataclass
class Row:
    """One linear limit: sum(coef[c] * current[c]) <= cap."""

    node: str
    cap: float
    coef: dict[str, float]


def rows(site: Site, sessions: Sequence[Session]) -> list[Row]:
    loads = {s.connector_id: phases_of(site, s) for s in sessions}
    result = []
    for node_id, node in site.nodes.items():
        under = [c for c in loads if node_id in site.paths[c]]
        if node.limit.amps is not None:
            for phase in Phase:
                coef = {c: 1.0 for c in under if phase in loads[c]}
                result.append(Row(node_id, node.limit.amps, coef))
        if node.limit.kw is not None:
            result.append(Row(node_id, node.limit.kw * 1000, {c: V * len(loads[c]) for c in under}))
    return result


def phases_of(site: Site, session: Session) -> tuple[Phase, ...]:
    c = site.connectors[session.connector_id]
    n = c.phases if c.dc or session.phases is None else min(session.phases, c.phases)
    return tuple(Phase((c.phase.value - 1 + k) % 3 + 1) for k in range(n))


def upper(site: Site, session: Session) -> float:
    c = site.connectors[session.connector_id]
    caps = [c.max_a]
    if c.max_kw is not None:
        caps.append(c.max_kw * 1000 / (V * len(phases_of(site, session))))
    if session.max_a is not None:
        caps.append(session.max_a)
    m, o = session.measured_a, session.offered_a
    if m is not None and o is not None and m < o - 1.0:
        caps.append(m + 1.0)
    return max(min(caps), c.min_a)


def used(row: Row, x: dict[str, float]) -> float:
    return sum(a * x.get(c, 0.0) for c, a in row.coef.items())


def _level_fn(
    x: dict[str, float], floor: dict[str, float], hi: dict[str, float], free: set[str]
) -> Callable[[float], dict[str, float]]:
    """The currents when the free sessions follow the level t between floor and maximum."""
    fixed, moving = dict(x), set(free)
    return lambda t: fixed | {c: min(max(t, floor[c]), hi[c]) for c in moving}


def reference_fill(
    limits_: list[Row], x: dict[str, float], active: list[str], hi: dict[str, float]
) -> dict[str, float]:
    """Progressive filling by bisection on the common level: plain and slow."""
    x = dict(x)
    floor = {c: x[c] for c in active}
    free = set(active)
    while free:
        at = _level_fn(x, floor, hi, free)

        def ok(t: float, at: Callable[[float], dict[str, float]] = at) -> bool:
            y = at(t)
            return all(used(r, y) <= r.cap + 1e-9 for r in limits_)

        top = max(hi[c] for c in free)
        if ok(top):
            x |= {c: hi[c] for c in free}
            break
        lo_t, hi_t = min(floor[c] for c in free), top
        for _ in range(100):
            mid = (lo_t + hi_t) / 2
            lo_t, hi_t = (mid, hi_t) if ok(mid) else (lo_t, mid)
        y = at(lo_t)
        tight = [r for r in limits_ if used(r, y) >= r.cap - 1e-7 and free & set(r.coef)]
        stuck = {c for r in tight for c in r.coef if c in free}
        stuck |= {c for c in free if y[c] >= hi[c]}
        x |= {c: y[c] for c in stuck}
        free -= stuck
    return x


# --- the properties ----------------------------------------------------------------------


def currents(allocation: Allocation) -> dict[str, float]:
    return {c: s.current_a for c, s in allocation.setpoints.items() if s.state is State.CHARGING}


def check_feasible_and_conserving(site: Site, sessions: list[Session], a: Allocation) -> None:
    x = currents(a)
    limits_ = rows(site, sessions)
    for r in limits_:
        assert used(r, x) <= r.cap * (1 + EPS) + EPS, f"{r.node} exceeded"
    requested = {s.connector_id: s for s in sessions}
    for cid, setpoint in a.setpoints.items():
        connector = site.connectors[cid]
        if cid not in requested:
            assert setpoint.state is State.NOT_REQUESTED
        if setpoint.state is not State.CHARGING:
            assert setpoint.current_a == 0.0
            assert setpoint.power_w == 0.0
            continue
        assert connector.min_a - EPS <= setpoint.current_a <= connector.max_a + EPS
        assert math.isclose(setpoint.power_w, V * len(setpoint.phases) * setpoint.current_a)
        hi = upper(site, requested[cid])
        assert setpoint.current_a <= hi + EPS
        if setpoint.current_a < hi - 1e-4:
            # work conservation: raising it by a little breaks a limit on its path
            raised = x | {cid: setpoint.current_a + 1e-4}
            assert any(used(r, raised) > r.cap + 1e-6 for r in limits_ if cid in r.coef), cid
            assert setpoint.binding is not None
            assert setpoint.reason.startswith("limited by ")
    # a paused session's minimum does not fit, even with everyone else at their minimum
    at_min = {c: site.connectors[c].min_a for c in x}
    for cid, setpoint in a.setpoints.items():
        if setpoint.state is State.PAUSED:
            with_it = at_min | {cid: site.connectors[cid].min_a}
            assert any(used(r, with_it) > r.cap + 1e-9 for r in limits_ if cid in r.coef)
            assert setpoint.reason.startswith("paused: below")


def check_matches_reference(
    site: Site,
    sessions: list[Session],
    a: Allocation,
    classes: Callable[[Session], int],
) -> None:
    x = currents(a)
    by_id = {s.connector_id: s for s in sessions}
    hi = {c: upper(site, by_id[c]) for c in x}
    expected = {c: site.connectors[c].min_a for c in x}
    for level in sorted({classes(by_id[c]) for c in x}, reverse=True):
        active = [c for c in x if classes(by_id[c]) == level]
        expected = reference_fill(rows(site, sessions), expected, active, hi)
    for c in x:
        assert math.isclose(x[c], expected[c], rel_tol=1e-5, abs_tol=1e-5), (c, x[c], expected[c])


@settings(max_examples=150, deadline=None)
@given(cases())
def test_fair_share_is_feasible_conserving_and_max_min_fair(
    case: tuple[Site, list[Session]],
) -> None:
    site, sessions = case
    allocation = allocate(site, sessions)
    check_feasible_and_conserving(site, sessions, allocation)
    check_matches_reference(site, sessions, allocation, lambda s: 0)


@settings(max_examples=100, deadline=None)
@given(cases())
def test_priority_fills_class_by_class(case: tuple[Site, list[Session]]) -> None:
    site, sessions = case
    allocation = allocate(site, sessions, Objective.PRIORITY)
    check_feasible_and_conserving(site, sessions, allocation)
    check_matches_reference(site, sessions, allocation, lambda s: s.priority)


@settings(max_examples=100, deadline=None)
@given(cases())
def test_deadline_is_feasible_and_conserving(case: tuple[Site, list[Session]]) -> None:
    site, sessions = case
    check_feasible_and_conserving(
        site, sessions, allocate(site, sessions, Objective.DEADLINE, now=NOW)
    )


@settings(max_examples=100, deadline=None)
@given(cases(), st.sampled_from(list(Objective)))
def test_deterministic_whatever_the_input_order(
    case: tuple[Site, list[Session]], objective: Objective
) -> None:
    site, sessions = case
    first = allocate(site, sessions, objective, now=NOW)
    shuffled = list(reversed(sessions))
    assert allocate(site, shuffled, objective, now=NOW) == first
    assert allocate(site, sessions, objective, now=NOW) == first
    assert list(first.setpoints) == sorted(site.connectors)
