"""What the hypervision shows of each site: its chargers by state, its power against its
limit and its unacknowledged alarms by priority, from the overview's charger states and
the alarm list (no Qt)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from evsuper.alarms.model import AlarmRecord, Priority
from evsuper.core.domain import CommState
from evsuper.hmi.models.overview import ChargerState
from evsuper.hmi.models.overview_filter import StateFilter
from evsuper.project.model import Project, SiteConfig

CARD_STATES = (
    StateFilter.CHARGING,
    StateFilter.AVAILABLE,
    StateFilter.FAULTED,
    StateFilter.OFFLINE,
)


@dataclass(slots=True)
class SiteCardData:
    site: SiteConfig
    chargers: int = 0
    counts: dict[StateFilter, int] = field(default_factory=lambda: dict.fromkeys(CARD_STATES, 0))
    power_kw: float = 0.0
    unacknowledged: dict[Priority, int] = field(default_factory=lambda: dict.fromkeys(Priority, 0))

    @property
    def name(self) -> str:
        return self.site.name or self.site.id


def site_cards(
    project: Project, states: Iterable[ChargerState], alarms: Iterable[AlarmRecord]
) -> list[SiteCardData]:
    """One card per site of the project, in the project's order."""
    cards = {site.id: SiteCardData(site) for site in project.sites}
    site_of: dict[str, str] = {}
    for state in states:
        card = cards.get(state.site)
        if card is None:
            continue
        site_of[state.charger_id] = state.site
        card.chargers += 1
        for state_filter in CARD_STATES:
            card.counts[state_filter] += state_filter.matches(state)
        if state.comm is CommState.ONLINE:
            card.power_kw += sum(c.power_kw or 0.0 for c in state.connectors)
    for alarm in alarms:
        site = site_of.get(alarm.charger_id or "")
        if site is not None and alarm.state.unacknowledged:
            cards[site].unacknowledged[alarm.priority] += 1
    return list(cards.values())
