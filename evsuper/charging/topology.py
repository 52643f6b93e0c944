"""The electrical tree of a site, as typed values (no I/O).

A `Site` (the grid connection) holds nested `Group`s (feeders, sub-distributions) and
`Connector`s as leaves. Every node may have a limit in kW (all phases together) and/or in A
per phase. Limits here are plain numbers: the caller resolves scheduled or dynamic limits
into the current ones (`available_kw`, `scheduled_limit`, `with_limits`) before allocating.
Constructing a `Site` validates the whole tree; a ValueError says what is wrong.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import time
from enum import IntEnum

NOMINAL_VOLTAGE_V = 230.0
IEC_61851_MINIMUM_A = 6.0


class Phase(IntEnum):
    L1 = 1
    L2 = 2
    L3 = 3


_ROTATIONS = {
    (first, count): tuple(Phase((first - 1 + k) % 3 + 1) for k in range(count))
    for first in Phase
    for count in (1, 2, 3)
}


def amps_to_watts(current_a: float, phases: int, voltage_v: float) -> float:
    """Power of `current_a` per phase on `phases` phases (the one A ↔ W conversion)."""
    return current_a * phases * voltage_v


def watts_to_amps(power_w: float, phases: int, voltage_v: float) -> float:
    """Current per phase that carries `power_w` on `phases` phases."""
    return power_w / (phases * voltage_v)


@dataclass(frozen=True, slots=True)
class Limit:
    """A node's limit: kW over all phases and/or A on each phase; None: no such limit."""

    kw: float | None = None
    amps: float | None = None

    def __post_init__(self) -> None:
        for name, value in (("kW", self.kw), ("A", self.amps)):
            if value is not None and not value >= 0:
                raise ValueError(f"limit {value} {name} is negative")


@dataclass(frozen=True, slots=True)
class Connector:
    """A leaf. `phase` is the site phase the connector's L1 is wired to (the rotation)."""

    id: str
    max_a: float = 32.0
    min_a: float = IEC_61851_MINIMUM_A
    phases: int = 3
    phase: Phase = Phase.L1
    dc: bool = False
    max_kw: float | None = None  # required for DC; optional cap for AC

    def site_phases(self, used: int | None = None) -> tuple[Phase, ...]:
        """Site phases loaded by a vehicle using `used` of the connector's phases."""
        count = self.phases if used is None or self.dc else min(used, self.phases)
        return _ROTATIONS[self.phase, count]


@dataclass(frozen=True, slots=True)
class Group:
    """A feeder or sub-distribution; `label` names its kind in the allocator's reasons."""

    id: str
    limit: Limit = Limit()
    children: tuple[Group | Connector, ...] = ()
    label: str = "feeder"


class Shape:
    """Stands for a tree apart from its limits, compared by identity: `with_limits` passes
    it on, so what depends only on the tree can be worked out once and reused."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Site:
    """The grid connection: the root of the tree."""

    id: str
    limit: Limit = Limit()
    children: tuple[Group | Connector, ...] = ()
    voltage_v: float = NOMINAL_VOLTAGE_V  # phase to neutral
    ac_minimum_a: float = IEC_61851_MINIMUM_A  # lowest AC minimum a connector may have
    connectors: Mapping[str, Connector] = field(init=False, repr=False, compare=False)
    paths: Mapping[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)  # ancestors
    nodes: Mapping[str, Site | Group] = field(init=False, repr=False, compare=False)
    shape: Shape = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.voltage_v > 0:
            raise ValueError(f"site {self.id}: voltage {self.voltage_v} V is not positive")
        seen: set[str] = set()
        connectors: dict[str, Connector] = {}
        paths: dict[str, tuple[str, ...]] = {}
        nodes: dict[str, Site | Group] = {}
        for node, path in _walk(self, ()):
            if node.id in seen:
                raise ValueError(f"id {node.id!r} is used twice")
            seen.add(node.id)
            paths[node.id] = path
            if isinstance(node, Connector):
                self._check_connector(node)
                connectors[node.id] = node
            else:
                nodes[node.id] = node
        object.__setattr__(self, "connectors", connectors)
        object.__setattr__(self, "paths", paths)
        object.__setattr__(self, "nodes", nodes)
        object.__setattr__(self, "shape", Shape())

    def _check_connector(self, c: Connector) -> None:
        where = f"connector {c.id}"
        if c.phases not in (1, 3):
            raise ValueError(f"{where}: phases {c.phases} is not 1 or 3")
        if not 0 <= c.min_a <= c.max_a:
            raise ValueError(f"{where}: needs 0 <= minimum ({c.min_a} A) <= maximum ({c.max_a} A)")
        if c.max_kw is not None and not c.max_kw >= 0:
            raise ValueError(f"{where}: maximum power {c.max_kw} kW is negative")
        if c.dc and (c.max_kw is None or c.phases != 3):
            raise ValueError(f"{where}: a DC connector needs a maximum power and 3 phases")
        if not c.dc and c.min_a < self.ac_minimum_a:
            raise ValueError(
                f"{where}: minimum {c.min_a} A is below the AC minimum of {self.ac_minimum_a} A"
                " (IEC 61851; lower the site's ac_minimum_a to allow it)"
            )


def _walk(
    node: Site | Group | Connector, path: tuple[str, ...]
) -> Iterator[tuple[Site | Group | Connector, tuple[str, ...]]]:
    """Every node with the ids of its ancestors (root first), depth first."""
    yield node, path
    if not isinstance(node, Connector):
        for child in node.children:
            yield from _walk(child, (*path, node.id))


def with_limits(site: Site, limits: Mapping[str, Limit]) -> Site:
    """The same tree with the limits of the nodes named in `limits` replaced."""

    def rebuild(node: Group | Connector) -> Group | Connector:
        if isinstance(node, Connector):
            return node
        return replace(
            node,
            limit=limits.get(node.id, node.limit),
            children=tuple(rebuild(child) for child in node.children),
        )

    unknown = set(limits) - set(site.nodes)
    if unknown:
        raise ValueError(f"no site or group with id {', '.join(sorted(unknown))}")
    derived = replace(
        site,
        limit=limits.get(site.id, site.limit),
        children=tuple(rebuild(child) for child in site.children),
    )
    object.__setattr__(derived, "shape", site.shape)  # the same tree with other limits
    return derived


def available_kw(configured_kw: float, non_ev_load_kw: float) -> float:
    """What is left for charging: the configured limit less the building load, at least 0."""
    return max(0.0, configured_kw - non_ev_load_kw)


@dataclass(frozen=True, slots=True)
class ScheduleEntry:
    """From `start` (local time of day) until the next entry, the limit is `limit`."""

    start: time
    limit: Limit


def scheduled_limit(schedule: Sequence[ScheduleEntry], at: time) -> Limit:
    """The limit in force at time of day `at`; before the first entry, the last one's (wraps)."""
    if not schedule:
        raise ValueError("the schedule is empty")
    ordered = sorted(schedule, key=lambda entry: entry.start)
    current = ordered[-1]
    for entry in ordered:
        if entry.start <= at:
            current = entry
    return current.limit
