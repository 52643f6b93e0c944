"""Smart-charging settings of project.toml: loaded, checked, turned into electrical trees."""

from __future__ import annotations

from pathlib import Path

import pytest

from evsuper.charging.profiles import ChargingProfilePurpose
from evsuper.charging.site_model import site_trees
from evsuper.charging.status import ChargingMode
from evsuper.charging.topology import Limit, Phase
from evsuper.project.loader import ProjectError, parse_project

BASE = """\
format_version = 2
name = "Depot"

[[sites]]
id = "S"
limit_kw = 100.0
charging_mode = "manual"
objective = "priority"
limit_tag = "S/dso/limit_kw"
base_load_tag = "S/meter/building_kw"
limit_schedule = [
  { start = "07:00", limit_kw = 40.0 },
  { start = "19:00", limit_kw = 120.0, limit_a = 200.0 },
]

[[areas]]
id = "A"
site = "S"

[[groups]]
id = "B1"
site = "S"
label = "board"
limit_kw = 80.0

[[groups]]
id = "F1"
site = "S"
parent = "B1"
limit_a = 63.0

[[chargers]]
id = "CP-1"
area = "A"
group = "F1"
connectors = 2
phases = 1
phase_rotation = "L2"
max_current_a = 16.0

[[chargers]]
id = "DC-1"
area = "A"
kind = "dc"
connectors = 1
max_power_kw = 50.0

[[badges]]
id_tag = "TECH-1"
parent_id_tag = "TECHNICIANS"

[smart_charging]
enabled = true
period_s = 5.0
profile_purpose = "TxDefaultProfile"

[[usage_profiles]]
group = "TECHNICIANS"
name = "technicians"
priority = 2
max_current_a = 16.0
"""


def problems(text: str) -> list[str]:
    found: list[ProjectError] = []
    parse_project(text, Path("/p/project.toml"), found)
    return [str(p) for p in found]


def test_the_settings_load_and_make_the_tree() -> None:
    project = parse_project(BASE, Path("/p/project.toml"))
    site = project.sites[0]
    assert (site.charging_mode, site.objective.value) == (ChargingMode.MANUAL, "priority")
    assert [e.start for e in site.limit_schedule] == ["07:00", "19:00"]
    assert project.smart_charging.profile_purpose is ChargingProfilePurpose.TX_DEFAULT
    assert project.smart_charging.restart_after_s == 900.0
    assert project.usage_profiles[0].priority == 2
    tree = site_trees(project)["S"]
    assert tree.site.paths["CP-1/C2"] == ("S", "B1", "F1", "CP-1")
    assert tree.site.paths["DC-1/C1"] == ("S", "DC-1")
    c = tree.site.connectors["CP-1/C1"]
    assert (c.phases, c.phase, c.max_a, c.min_a) == (1, Phase.L2, 16.0, 6.0)
    assert tree.site.connectors["DC-1/C1"].dc
    assert tree.site.nodes["F1"].limit == Limit(amps=63.0)
    assert [g.id for g in tree.groups] == ["B1", "F1"]
    # fail-safe shares of the lowest limit (40 kW from 07:00), water-filled: CP-1 gets all
    # it can draw (2 x 16 A x 230 V = 7.36 kW), DC-1 (50 kW) the rest
    assert tree.failsafe_kw["CP-1"] == pytest.approx(7.36)
    assert tree.failsafe_kw["DC-1"] == pytest.approx(40 - 7.36)
    assert sum(tree.failsafe_kw.values()) == pytest.approx(40.0)


def test_a_fail_safe_share_never_falls_below_a_connector_minimum() -> None:
    # 4 kW for 2 chargers: 2 kW each would keep them from ever charging (1 phase, 6 A at
    # 230 V is 1.38 kW per connector, CP-1 may draw 7.36 kW); a tiny limit leaves each
    # charger its one connector's minimum
    project = parse_project(BASE.replace("limit_kw = 40.0", "limit_kw = 1.0"), Path("/p.toml"))
    tree = site_trees(project)["S"]
    assert tree.failsafe_kw["CP-1"] == pytest.approx(6 * 230 / 1000)


def test_a_project_without_these_settings_keeps_smart_charging_off() -> None:
    text = BASE.split("[[groups]]")[0] + '[[chargers]]\nid = "CP-1"\narea = "A"\n'
    text = text.replace('charging_mode = "manual"\n', "")
    project = parse_project(text, Path("/p/project.toml"))
    assert not project.smart_charging.enabled
    assert project.sites[0].charging_mode is ChargingMode.AUTO
    assert project.chargers[0].phases == 3 and project.groups == ()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('site = "S"\nparent = "B1"', 'site = "X"\nparent = "B1"'),
            ":28: groups[1].site: 'X' is not",
        ),
        (('group = "F1"', 'group = "F9"'), ":35: chargers[0].group: 'F9' is not"),
        (('site = "S"\nlabel', 'site = "S"\nparent = "F1"\nlabel'), "groups form a cycle"),
        (('"07:00"', '"7h"'), ":11: sites[0].limit_schedule[0].start:"),
        (('"TxDefaultProfile"', '"ChargePointMaxProfile"'), "smart_charging.profile_purpose"),
        (("phases = 1", "phases = 2"), ":37: chargers[0].phases: must be 1 or 3"),
        (("max_current_a = 16.0\n\n", "max_current_a = 4.0\n\n"), "chargers[0].min_current_a"),
        (('group = "TECHNICIANS"\nname', 'group = ""\nname'), "usage_profiles[0].group"),
        (("period_s = 5.0", "period_s = 0"), "smart_charging.period_s: must be positive"),
        (
            ("period_s = 5.0", "period_s = 5.0\nrestart_after_s = 0"),
            "smart_charging.restart_after_s: must be positive",
        ),
    ],
)
def test_mistakes_are_reported_with_file_line_and_field(
    change: tuple[str, str], expected: str
) -> None:
    old, new = change
    assert BASE.count(old) == 1
    found = problems(BASE.replace(old, new))
    assert any(expected in p for p in found), found
    assert all(p.startswith("/p/project.toml:") for p in found)


def test_a_group_takes_the_chargers_of_its_areas() -> None:
    text = BASE.replace('group = "F1"\n', "").replace(
        'id = "F1"\nsite = "S"', 'id = "F1"\nsite = "S"\nareas = ["A"]'
    )
    project = parse_project(text, Path("/p/project.toml"))
    assert {c.id: c.group for c in project.chargers}["CP-1"] == "F1"
    assert site_trees(project)["S"].site.paths["CP-1/C1"] == ("S", "B1", "F1", "CP-1")
    unknown = text.replace('areas = ["A"]', 'areas = ["A", "Z"]')
    assert any("groups[1].areas[1]: 'Z' is not an [[areas]] id" in p for p in problems(unknown))
