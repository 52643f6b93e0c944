"""The site tree: validation, phases, and the helpers that resolve limits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time

import pytest

from evsuper.charging.topology import (
    Connector,
    Group,
    Limit,
    Phase,
    ScheduleEntry,
    Site,
    amps_to_watts,
    available_kw,
    scheduled_limit,
    watts_to_amps,
    with_limits,
)


def test_the_tree_is_indexed() -> None:
    site = Site(
        "S", Limit(kw=50), (Group("F1", Limit(amps=32), (Connector("C1"),)), Connector("C2"))
    )
    assert list(site.connectors) == ["C1", "C2"]
    assert site.paths["C1"] == ("S", "F1")
    assert site.paths["C2"] == ("S",)
    assert set(site.nodes) == {"S", "F1"}


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Site("S", children=(Connector("C1"), Connector("C1"))), "'C1' is used twice"),
        (lambda: Site("S", children=(Group("S"),)), "'S' is used twice"),
        (lambda: Limit(amps=-1), "limit -1 A is negative"),
        (lambda: Limit(kw=-0.5), "limit -0.5 kW is negative"),
        (lambda: Site("S", children=(Connector("C1", min_a=20, max_a=16),)), "minimum .20 A"),
        (lambda: Site("S", children=(Connector("C1", min_a=4),)), "below the AC minimum of 6"),
        (lambda: Site("S", children=(Connector("C1", phases=2),)), "phases 2 is not 1 or 3"),
        (lambda: Site("S", children=(Connector("D1", dc=True),)), "DC connector needs"),
        (lambda: Site("S", voltage_v=0), "voltage 0 V"),
    ],
)
def test_invalid_trees_are_refused_with_a_clear_message(
    build: Callable[[], object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_the_ac_minimum_can_be_lowered() -> None:
    site = Site("S", children=(Connector("C1", min_a=4),), ac_minimum_a=0)
    assert site.connectors["C1"].min_a == 4


def test_phases_follow_the_rotation() -> None:
    assert Connector("C", phase=Phase.L2).site_phases() == (Phase.L2, Phase.L3, Phase.L1)
    assert Connector("C", phase=Phase.L3).site_phases(1) == (Phase.L3,)
    assert Connector("C", phases=1, phase=Phase.L2).site_phases(3) == (Phase.L2,)
    assert Connector("D", dc=True, max_kw=50).site_phases(1) == (Phase.L1, Phase.L2, Phase.L3)


def test_one_conversion_between_amps_and_watts() -> None:
    assert amps_to_watts(16, 3, 230) == pytest.approx(11_040)
    assert watts_to_amps(7_360, 1, 230) == pytest.approx(32)


def test_dynamic_and_scheduled_limits_resolve_to_numbers() -> None:
    assert available_kw(100, 30) == 70
    assert available_kw(100, 130) == 0
    schedule = [
        ScheduleEntry(time(7), Limit(kw=50)),
        ScheduleEntry(time(22), Limit(kw=120)),
    ]
    assert scheduled_limit(schedule, time(12)) == Limit(kw=50)
    assert scheduled_limit(schedule, time(23, 30)) == Limit(kw=120)
    assert scheduled_limit(schedule, time(3)) == Limit(kw=120)  # wraps from the day before
    with pytest.raises(ValueError, match="empty"):
        scheduled_limit([], time(3))


def test_with_limits_replaces_the_named_nodes() -> None:
    site = Site("S", Limit(kw=50), (Group("F1", Limit(amps=32), (Connector("C1"),)),))
    changed = with_limits(site, {"S": Limit(kw=available_kw(50, 20)), "F1": Limit(amps=16)})
    assert changed.limit == Limit(kw=30)
    assert changed.nodes["F1"].limit == Limit(amps=16)
    assert site.nodes["F1"].limit == Limit(amps=32)
    assert changed.shape is site.shape  # the same tree: what depends only on it is reused
    rebuilt = Site("S", Limit(kw=50), (Group("F1", Limit(amps=32), (Connector("C1", max_a=16),)),))
    assert rebuilt.shape is not site.shape
    with pytest.raises(ValueError, match="no site or group with id C1"):
        with_limits(site, {"C1": Limit()})
