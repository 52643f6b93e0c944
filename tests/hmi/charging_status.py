"""Site charging statuses for the power management and planning tests, made by the real
allocator: twelve bollards on two feeders under a 50 kW site limit."""

from __future__ import annotations

from datetime import UTC, datetime

from evsuper.charging.allocator import Session, allocate
from evsuper.charging.status import (
    ChargingMode,
    ConnectorAllocation,
    NodeKind,
    NodeStatus,
    SiteChargingStatus,
)
from evsuper.charging.topology import Connector, Group, Limit, Phase, Site

SITE_ID = "SITE"
CHARGERS = [f"CP-{n:03d}" for n in range(1, 13)]
# feeder F1 (32 A) feeds CP-001..006, feeder F2 (63 A) CP-007..012; the site: 50 kW
CHARGING = {
    "CP-001": 3,
    "CP-002": 3,
    "CP-003": 1,
    "CP-004": 3,
    "CP-005": 3,
    "CP-007": 3,
    "CP-008": 3,
    "CP-010": 1,
    "CP-011": 3,
}
PLANNED = "CP-002"  # its session fulfils a plan: a need and a departure
DEPARTURE = datetime(2026, 11, 22, 17, 30, tzinfo=UTC)


def topology() -> Site:
    def connectors(ids: list[str]) -> tuple[Connector, ...]:
        return tuple(
            Connector(f"{cid}/1", max_a=32, phase=Phase((n % 3) + 1)) for n, cid in enumerate(ids)
        )

    return Site(
        SITE_ID,
        Limit(kw=50),
        (
            Group("F1", Limit(amps=32), connectors(CHARGERS[:6])),
            Group("F2", Limit(amps=63), connectors(CHARGERS[6:])),
        ),
    )


def demo_status(
    *,
    mode: ChargingMode = ChargingMode.AUTO,
    healthy: bool = True,
    computed_at: datetime | None = None,
    limit_source: str = "static",
) -> SiteChargingStatus:
    """The status of the demo site as the charging service would give it."""
    site = topology()
    sessions = [Session(f"{cid}/1", phases=phases) for cid, phases in CHARGING.items()]
    setpoints = allocate(site, sessions).setpoints
    connectors = []
    for cid in CHARGERS:
        sp = setpoints[f"{cid}/1"]
        parent = "F1" if cid in CHARGERS[:6] else "F2"
        measured = round(sp.power_w / 1000 * 0.97, 2)
        connectors.append(
            ConnectorAllocation(
                charger_id=cid,
                connector_id=1,
                parent=parent,
                state="manual" if mode is ChargingMode.MANUAL else sp.state.value,
                current_a=round(sp.current_a, 1),
                power_kw=round(sp.power_w / 1000, 2),
                measured_kw=measured,
                reason="manual limit" if mode is ChargingMode.MANUAL else sp.reason,
                binding=sp.binding,
                sent_a=round(sp.current_a, 1),
                energy_need_kwh=12.5 if cid == PLANNED else None,
                departure=DEPARTURE if cid == PLANNED else None,
                need_source="plan 4" if cid == PLANNED else "",
            )
        )

    def under(node: str) -> list[ConnectorAllocation]:
        return [c for c in connectors if node == SITE_ID or c.parent == node]

    def node(
        node_id: str, name: str, kind: NodeKind, parent: str | None, limit: Limit
    ) -> NodeStatus:
        return NodeStatus(
            id=node_id,
            name=name,
            kind=kind,
            parent=parent,
            limit_kw=limit.kw,
            limit_a=limit.amps,
            power_kw=round(sum(c.measured_kw for c in under(node_id)), 2),
            allocated_kw=round(sum(c.power_kw for c in under(node_id)), 2),
            full=any(c.binding == node_id for c in connectors),
        )

    nodes = (
        node(SITE_ID, "Parking Nord", NodeKind.SITE, None, Limit(kw=50)),
        node("F1", "Feeder F1", NodeKind.GROUP, SITE_ID, Limit(amps=32)),
        node("F2", "Feeder F2", NodeKind.GROUP, SITE_ID, Limit(amps=63)),
    )
    return SiteChargingStatus(
        site_id=SITE_ID,
        mode=mode,
        objective="fair",
        limit_source=limit_source,
        nodes=nodes,
        connectors=tuple(connectors),
        computed_at=computed_at,
        healthy=healthy,
    )
