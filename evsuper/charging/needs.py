"""A running session's charging need: the energy still to deliver and the departure (no I/O).

The deadline objective serves sessions by departure; this is where a session gets one. In
order of precedence:

1. what the operator set for the running session (``SetSessionNeed``, an `OperatorNeed`
   the charging service keeps until the session ends);
2. the operator's plan (planning tool) the session `fulfils` (its connector and badge, begun
   inside its window): its departure, and its energy less what the session has delivered;
3. the usage profile of the badge's group, when it gives a typical stay and energy
   (``stay_h``, ``energy_kwh``): departure = session start + stay.

Otherwise the need is unknown (None) and the session is shared as under fair share.
OCPP 2.0.1 charging needs (NotifyEVChargingNeeds) will come first when the central speaks
2.0.1.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from evsuper.charging.planning import PlannedSession, fulfils
from evsuper.project.model import UsageProfile


@dataclass(frozen=True, slots=True)
class ChargingNeed:
    energy_kwh: float  # still to deliver, never negative
    departure: datetime  # aware
    source: str  # for the operator: "operator ann", "plan 12", "usage profile fleet"


@dataclass(frozen=True, slots=True)
class OperatorNeed:
    """What an operator asked for a running session: "`energy_kwh` more by `departure`",
    said when the session had delivered `delivered_kwh`."""

    energy_kwh: float
    departure: datetime  # aware
    delivered_kwh: float
    user: str

    def __post_init__(self) -> None:
        if self.departure.tzinfo is None:
            raise ValueError("the departure must be an aware datetime")
        if not self.energy_kwh >= 0:
            raise ValueError(f"energy {self.energy_kwh} kWh is negative")


def charging_need(
    charger_id: str,
    connector_id: int,
    badge: str | None,
    started_at: datetime,
    delivered_kwh: float,
    plans: Iterable[PlannedSession] = (),
    usage: UsageProfile | None = None,
    operator: OperatorNeed | None = None,
) -> ChargingNeed | None:
    """The need of the session that began at `started_at` on this connector with `badge`,
    which has delivered `delivered_kwh` so far."""
    if operator is not None:
        since = max(0.0, delivered_kwh - operator.delivered_kwh)
        left = max(0.0, operator.energy_kwh - since)
        return ChargingNeed(left, operator.departure, f"operator {operator.user}".rstrip())
    matching = [p for p in plans if fulfils(p, charger_id, connector_id, badge, started_at)]
    if matching:
        plan = min(matching, key=lambda p: (p.arrival, p.id))
        left = max(0.0, plan.energy_kwh - delivered_kwh)
        return ChargingNeed(left, plan.departure, f"plan {plan.id}")
    if usage is not None and usage.energy_kwh is not None and usage.stay_h is not None:
        left = max(0.0, usage.energy_kwh - delivered_kwh)
        departure = started_at + timedelta(hours=usage.stay_h)
        return ChargingNeed(left, departure, f"usage profile {usage.name or usage.group}")
    return None
