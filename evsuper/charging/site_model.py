"""A project's smart-charging settings as electrical trees (pure, no I/O).

`site_trees` builds one `topology.Site` per project site: the site's connection, its
`[[groups]]` nested by `parent`, and under them one group per charger (label "charger",
id = the charger id) holding its connectors (ids ``<charger>/C<n>``, as their tags). The
charger group carries the charger's fail-safe share when `[smart_charging] failsafe` is on,
so that the allocator never asks for more than the ChargePointMaxProfile lets through.
`config_problems` says what in the settings is wrong, as (field path, message) pairs for
the project loader.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from evsuper.charging.profiles import ChargingProfilePurpose
from evsuper.charging.topology import (
    NOMINAL_VOLTAGE_V,
    Connector,
    Group,
    Limit,
    Phase,
    ScheduleEntry,
    Site,
    amps_to_watts,
    watts_to_amps,
)
from evsuper.project.model import (
    AreaConfig,
    ChargerConfig,
    ChargerKind,
    GroupConfig,
    Project,
    SiteConfig,
    SmartChargingSettings,
    UsageProfile,
    parse_time_of_day,
)

FieldPath = tuple[str | int, ...]
CHARGER_LABEL = "charger"


def connector_key(charger_id: str, connector_id: int) -> str:
    """The topology id of a connector: its tag prefix."""
    return f"{charger_id}/C{connector_id}"


def charger_max_kw(charger: ChargerConfig, voltage_v: float = NOMINAL_VOLTAGE_V) -> float:
    """What a charger can draw with every connector at its maximum."""
    per_connector = charger.max_power_kw
    if charger.kind is ChargerKind.AC:
        amps_kw = amps_to_watts(charger.max_current_a, charger.phases, voltage_v) / 1000
        per_connector = min(per_connector, amps_kw)
    return per_connector * charger.connectors


def charger_min_kw(charger: ChargerConfig, voltage_v: float = NOMINAL_VOLTAGE_V) -> float:
    """What one connector of a charger draws at its minimum current."""
    node = connector_node(charger, 1, voltage_v)
    return amps_to_watts(node.min_a, 3 if node.dc else node.phases, voltage_v) / 1000


def connector_node(charger: ChargerConfig, n: int, voltage_v: float) -> Connector:
    key = connector_key(charger.id, n)
    if charger.kind is ChargerKind.DC:
        max_a = watts_to_amps(charger.max_power_kw * 1000, 3, voltage_v)
        return Connector(
            key,
            max_a=max_a,
            min_a=min(charger.min_current_a, max_a),
            phases=3,
            dc=True,
            max_kw=charger.max_power_kw,
        )
    return Connector(
        key,
        max_a=charger.max_current_a,
        min_a=charger.min_current_a,
        phases=charger.phases,
        phase=Phase[charger.phase_rotation.value],
        max_kw=charger.max_power_kw,
    )


@dataclass(frozen=True, slots=True)
class SiteTree:
    """A site's static tree and what the service needs besides it."""

    site: Site  # static limits; the service replaces them by those in force
    chargers: tuple[ChargerConfig, ...]
    groups: tuple[GroupConfig, ...]  # depth first
    failsafe_kw: Mapping[str, float]  # per charger id, when the fail-safe applies
    schedule: tuple[ScheduleEntry, ...]


def lowest_limit_kw(site: SiteConfig, voltage_v: float = NOMINAL_VOLTAGE_V) -> float | None:
    """The lowest static or scheduled limit of a site in kW (a limit in A over 3 phases)."""
    figures: list[float] = []
    for kw, amps in [
        (site.limit_kw, site.limit_a),
        *((e.limit_kw, e.limit_a) for e in site.limit_schedule),
    ]:
        if kw is not None:
            figures.append(kw)
        if amps is not None:
            figures.append(amps_to_watts(amps, 3, voltage_v) / 1000)
    return min(figures) if figures else None


def site_trees(project: Project) -> dict[str, SiteTree]:
    """One tree per site of the project."""
    trees: dict[str, SiteTree] = {}
    for site in project.sites:
        chargers = tuple(c for c in project.chargers if _site_of(project.areas, c) == site.id)
        groups = tuple(g for g in project.groups if g.site == site.id)
        trees[site.id] = _tree(site, groups, chargers, project.smart_charging.failsafe)
    return trees


def _tree(
    config: SiteConfig,
    groups: tuple[GroupConfig, ...],
    chargers: tuple[ChargerConfig, ...],
    failsafe: bool,
) -> SiteTree:
    voltage = NOMINAL_VOLTAGE_V
    children_of: dict[str, list[GroupConfig]] = {}
    for g in groups:
        children_of.setdefault(g.parent, []).append(g)
    chargers_of: dict[str, list[ChargerConfig]] = {}
    for c in chargers:
        chargers_of.setdefault(c.group, []).append(c)

    # fail-safe shares: each node shares its budget fairly (water-filling) between its
    # children, none getting more than it can draw; a charger's share is never below what
    # one of its connectors needs to charge at its minimum, or it could never charge
    def capacity(group_id: str) -> float:
        total = sum(charger_max_kw(c, voltage) for c in chargers_of.get(group_id, []))
        total += sum(capacity(g.id) for g in children_of.get(group_id, []))
        limit = next((_limit_kw(g, voltage) for g in groups if g.id == group_id), None)
        return total if limit is None else min(total, limit)

    shares: dict[str, float] = {}

    def share(group_id: str, budget: float) -> None:
        parts = [(c.id, charger_max_kw(c, voltage)) for c in chargers_of.get(group_id, [])]
        parts += [(g.id, capacity(g.id)) for g in children_of.get(group_id, [])]
        minimum = {c.id: charger_min_kw(c, voltage) for c in chargers_of.get(group_id, [])}
        left, count = budget, len(parts)
        for node_id, kw in sorted(parts, key=lambda part: part[1]):
            part = min(kw, left / count)
            left, count = left - part, count - 1
            if node_id in minimum:
                shares[node_id] = min(kw, max(part, minimum[node_id]))
            else:
                share(node_id, part)

    lowest = lowest_limit_kw(config, voltage)
    if failsafe and lowest is not None:
        share("", lowest)

    def charger_group(c: ChargerConfig) -> Group:
        connectors = tuple(connector_node(c, n, voltage) for n in range(1, c.connectors + 1))
        return Group(c.id, Limit(kw=shares.get(c.id)), connectors, CHARGER_LABEL)

    ordered: list[GroupConfig] = []

    def build(parent: str) -> tuple[Group, ...]:
        nodes: list[Group] = []
        for g in children_of.get(parent, []):
            ordered.append(g)
            limit = Limit(kw=g.limit_kw, amps=g.limit_a)
            nodes.append(Group(g.id, limit, (*build(g.id), *_charger_groups(g.id)), g.label))
        return tuple(nodes)

    def _charger_groups(group_id: str) -> tuple[Group, ...]:
        return tuple(charger_group(c) for c in chargers_of.get(group_id, []))

    children = (*build(""), *_charger_groups(""))
    site = Site(
        config.id, Limit(kw=config.limit_kw, amps=config.limit_a), children, voltage_v=voltage
    )
    schedule = tuple(
        ScheduleEntry(parse_time_of_day(e.start), Limit(kw=e.limit_kw, amps=e.limit_a))
        for e in config.limit_schedule
    )
    return SiteTree(site, chargers, tuple(ordered), shares, schedule)


def _limit_kw(group: GroupConfig, voltage_v: float) -> float | None:
    figures = [x for x in (group.limit_kw,) if x is not None]
    if group.limit_a is not None:
        figures.append(amps_to_watts(group.limit_a, 3, voltage_v) / 1000)
    return min(figures) if figures else None


def _site_of(areas: Sequence[AreaConfig], charger: ChargerConfig) -> str:
    return next((a.site for a in areas if a.id == charger.area), "")


def with_area_groups(
    groups: Sequence[GroupConfig], chargers: Sequence[ChargerConfig]
) -> tuple[ChargerConfig, ...]:
    """The chargers, each that names no group given the group that lists its area."""
    group_of_area = {area: g.id for g in reversed(groups) for area in g.areas}
    return tuple(
        c if c.group or c.area not in group_of_area else replace(c, group=group_of_area[c.area])
        for c in chargers
    )


def config_problems(
    sites: Sequence[SiteConfig],
    areas: Sequence[AreaConfig],
    groups: Sequence[GroupConfig],
    chargers: Sequence[ChargerConfig],
    settings: SmartChargingSettings,
    usage_profiles: Sequence[UsageProfile],
) -> list[tuple[FieldPath, str]]:
    """What is wrong in the smart-charging settings, each with the field it is about."""
    problems: list[tuple[FieldPath, str]] = []
    site_ids = {s.id for s in sites}
    charger_ids = {c.id for c in chargers}
    group_site = {g.id: g.site for g in groups}
    seen: set[str] = set()
    for i, g in enumerate(groups):
        where: FieldPath = ("groups", i)
        if g.id in seen:
            problems.append(((*where, "id"), f"duplicate group {g.id!r}"))
        elif g.id in site_ids or g.id in charger_ids:
            problems.append(((*where, "id"), f"{g.id!r} is already a site or charger id"))
        seen.add(g.id)
        if g.site not in site_ids:
            problems.append(((*where, "site"), f"{g.site!r} is not a [[sites]] id"))
        if g.parent and g.parent not in group_site:
            problems.append(((*where, "parent"), f"{g.parent!r} is not a [[groups]] id"))
        elif g.parent and group_site[g.parent] != g.site:
            problems.append(((*where, "parent"), f"group {g.parent!r} is in another site"))
        for key, value in (("limit_kw", g.limit_kw), ("limit_a", g.limit_a)):
            if value is not None and value < 0:
                problems.append(((*where, key), "must be 0 or more"))
    parents = {g.id: g.parent for g in groups}
    for i, g in enumerate(groups):
        chain, node = [g.id], g.parent
        while node and node in parents:
            if node in chain:
                cycle = " -> ".join([*chain, node])
                problems.append((("groups", i, "parent"), f"groups form a cycle: {cycle}"))
                break
            chain.append(node)
            node = parents[node]
    area_site = {a.id: a.site for a in areas}
    claimed: dict[str, str] = {}
    for i, g in enumerate(groups):
        for j, area in enumerate(g.areas):
            where = ("groups", i, "areas", j)
            if area not in area_site:
                problems.append((where, f"{area!r} is not an [[areas]] id"))
            elif area_site[area] != g.site:
                problems.append((where, f"area {area!r} is in another site"))
            elif area in claimed:
                problems.append((where, f"area {area!r} is already in group {claimed[area]!r}"))
            claimed.setdefault(area, g.id)
    for i, c in enumerate(chargers):
        where = ("chargers", i)
        if c.group and c.group not in group_site:
            problems.append(((*where, "group"), f"{c.group!r} is not a [[groups]] id"))
        elif c.group and group_site[c.group] != area_site.get(c.area):
            problems.append(((*where, "group"), f"group {c.group!r} is in another site"))
        if c.phases not in (1, 3):
            problems.append(((*where, "phases"), "must be 1 or 3"))
        if c.kind is ChargerKind.AC and not 6.0 <= c.min_current_a <= c.max_current_a:
            problems.append(
                (
                    (*where, "min_current_a"),
                    "needs 6 A (IEC 61851) <= min_current_a <= max_current_a",
                )
            )
    for i, s in enumerate(sites):
        where = ("sites", i)
        if s.limit_a is not None and s.limit_a < 0:
            problems.append(((*where, "limit_a"), "must be 0 or more"))
        starts: set[str] = set()
        for j, entry in enumerate(s.limit_schedule):
            at: FieldPath = (*where, "limit_schedule", j)
            try:
                start = parse_time_of_day(entry.start).isoformat()
            except ValueError as exc:
                problems.append(((*at, "start"), str(exc)))
                continue
            if start in starts:
                problems.append(((*at, "start"), f"two entries start at {entry.start}"))
            starts.add(start)
            if entry.limit_kw is None and entry.limit_a is None:
                problems.append(((*at, "limit_kw"), "an entry needs limit_kw or limit_a"))
            for key, value in (("limit_kw", entry.limit_kw), ("limit_a", entry.limit_a)):
                if value is not None and value < 0:
                    problems.append(((*at, key), "must be 0 or more"))
    where = ("smart_charging",)
    for key, value, positive in (
        ("period_s", settings.period_s, True),
        ("debounce_s", settings.debounce_s, False),
        ("hysteresis_a", settings.hysteresis_a, False),
        ("meter_threshold_kw", settings.meter_threshold_kw, False),
        ("settle_s", settings.settle_s, False),
        ("stagger_s", settings.stagger_s, False),
        ("restart_after_s", settings.restart_after_s, True),
    ):
        if (value <= 0) if positive else (value < 0):
            problems.append(
                ((*where, key), "must be positive" if positive else "must be 0 or more")
            )
    if settings.stack_level < 1:
        problems.append(
            ((*where, "stack_level"), "must be 1 or more (the fail-safe uses the one below)")
        )
    if settings.profile_purpose is ChargingProfilePurpose.CHARGE_POINT_MAX:
        problems.append(((*where, "profile_purpose"), "TxProfile or TxDefaultProfile"))
    groups_seen: set[str] = set()
    for i, u in enumerate(usage_profiles):
        if not u.group.strip():
            problems.append((("usage_profiles", i, "group"), "the parent idTag of a badge group"))
        if u.group in groups_seen:
            problems.append((("usage_profiles", i, "group"), f"duplicate group {u.group!r}"))
        groups_seen.add(u.group)
        for name in ("max_current_a", "energy_kwh", "stay_h"):
            value = getattr(u, name)
            if value is not None and not value > 0:
                problems.append((("usage_profiles", i, name), "must be positive"))
        if (u.energy_kwh is None) != (u.stay_h is None):
            name = "stay_h" if u.stay_h is None else "energy_kwh"
            problems.append((("usage_profiles", i, name), "energy_kwh and stay_h go together"))
    if problems or not settings.enabled or len(charger_ids) < len(chargers):
        return problems  # (duplicate charger ids are the loader's to report)
    # what only the whole tree can tell (ids used twice across kinds, limits of connectors)
    for i, s in enumerate(sites):
        in_site = tuple(c for c in chargers if area_site.get(c.area) == s.id)
        try:
            _tree(s, tuple(g for g in groups if g.site == s.id), in_site, settings.failsafe)
        except ValueError as exc:
            problems.append((("sites", i, "id"), f"electrical tree: {exc}"))
    return problems
