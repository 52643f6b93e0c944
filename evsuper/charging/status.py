"""What the charging service shows of a site: the tree with power against limit at every
node, each connector's allocation with its reason, the mode. Plain data, no behaviour:
the power management view, the OPC UA server and the tests read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ChargingMode(StrEnum):
    AUTO = "auto"  # the allocator sets every connector's limit
    MANUAL = "manual"  # the operator sets limits per connector; the site limit still holds


class NodeKind(StrEnum):
    SITE = "site"
    GROUP = "group"  # board, feeder, ... (its label says which)


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """One node of the electrical tree (site or group)."""

    id: str
    name: str
    kind: NodeKind
    parent: str | None  # None for the site
    limit_kw: float | None  # in force now (static, scheduled or from a tag); None: none
    limit_a: float | None  # per phase
    power_kw: float  # measured under the node (offline chargers counted at their maximum)
    allocated_kw: float  # what the setpoints under it allow
    full: bool  # one of its limits binds now


@dataclass(frozen=True, slots=True)
class ConnectorAllocation:
    charger_id: str
    connector_id: int
    parent: str  # the node it hangs from
    # allocator Setpoint.state: charging | paused | not requested, or offline | manual |
    # uncontrolled (it refused its limit: counted at its maximum)
    state: str
    current_a: float  # setpoint per loaded phase
    power_kw: float  # setpoint as power
    measured_kw: float
    reason: str  # "limited by feeder F2 on L1", "manual limit", ...
    binding: str | None  # node id of the limit named in the reason
    sent_a: float | None  # the limit the charger last accepted; None: none sent yet
    priority: int = 0
    usage_profile: str = ""  # the badge group's usage profile, when one applies
    # charging/needs.py: energy still to deliver and departure, when known, and from where
    energy_need_kwh: float | None = None
    departure: datetime | None = None
    need_source: str = ""  # "plan 12", "usage profile fleet"


@dataclass(frozen=True, slots=True)
class SiteChargingStatus:
    site_id: str
    mode: ChargingMode
    objective: str  # fair | priority | deadline
    limit_source: str  # "static", "schedule 07:00-19:00", "tag DEMO/meter/power_kw", "operator"
    nodes: tuple[NodeStatus, ...]  # the site first, then groups depth first
    connectors: tuple[ConnectorAllocation, ...]
    computed_at: datetime | None  # last allocation; None before the first
    healthy: bool  # the watchdog saw an allocation within its period
    last_error: str = ""
