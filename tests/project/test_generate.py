"""The generator: each template gives a project that loads and runs headless."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from support import wait_until

from evsuper.core.domain import CommState
from evsuper.engine.runtime import Engine
from evsuper.project.generate import GeneratorError, NewUser, Params, create_project, generate
from evsuper.project.layout import load_layout
from evsuper.project.loader import ProjectError, load_project, parse_project
from evsuper.project.model import ChargerKind
from evsuper.project.template import available_templates, load_template
from evsuper.users.permissions import Role
from evsuper.users.store import hash_password

TEMPLATES = ["depot-dc", "minimal", "office", "public-ac"]


def test_the_builtin_templates() -> None:
    assert set(TEMPLATES) <= set(available_templates())


@pytest.mark.parametrize("name", TEMPLATES)
@pytest.mark.parametrize("bollards", [5, 1000])
def test_each_template_gives_a_project_that_loads(name: str, bollards: int) -> None:
    template = load_template(name)
    text = generate(template, Params(bollards=bollards, site_name="Parking Nord"))
    project = parse_project(text, Path("site/project.toml"))

    ids = [c.id for c in project.chargers]
    assert len(ids) == len(set(ids)) == bollards
    per_area = template.naming.per_area or bollards
    assert len(project.areas) == -(-bollards // per_area)
    assert all(c.area in {a.id for a in project.areas} for c in project.chargers)
    assert sum(c.area == project.areas[0].id for c in project.chargers) == min(per_area, bollards)
    assert project.sites[0].name == "Parking Nord"
    assert text == generate(template, Params(bollards=bollards, site_name="Parking Nord"))


def test_public_ac_numbers_and_areas() -> None:
    text = generate(load_template("public-ac"), Params(bollards=45, site_name="P"))
    project = parse_project(text, Path("p/project.toml"))
    assert [a.id for a in project.areas] == ["LEVEL-1", "LEVEL-2", "LEVEL-3"]
    assert [c.id for c in project.chargers][:2] == ["PK-001", "PK-002"]
    last = project.chargers[-1]
    assert (last.id, last.area, last.label) == ("PK-045", "LEVEL-3", "L3-05")
    assert (last.kind, last.connectors, last.max_power_kw) == (ChargerKind.AC, 2, 22.0)
    assert project.ocpp.unknown_chargers.value == "pending"
    assert {t.name for t in project.tariffs} == {"Public", "Subscribers"}


def test_parameters_override_the_template() -> None:
    params = Params(
        bollards=10,
        site_name="Depot",
        site_id="DEPOT-1",
        areas=3,
        id_pattern="D{a}-{i:02d}",
        bollard_type="dc50",
        power_kw=60.0,
        archive_url="postgresql+psycopg://evsuper@db/depot",
    )
    project = parse_project(generate(load_template("depot-dc"), params), Path("d/project.toml"))
    assert [sum(c.area == a.id for c in project.chargers) for a in project.areas] == [4, 3, 3]
    assert [c.id for c in project.chargers][:5] == ["D1-01", "D1-02", "D1-03", "D1-04", "D2-01"]
    assert {(c.kind, c.connectors, c.max_power_kw) for c in project.chargers} == {
        (ChargerKind.DC, 1, 60.0)
    }
    assert project.sites[0].id == "DEPOT-1"
    assert project.archive.url == "postgresql+psycopg://evsuper@db/depot"
    assert project.tariffs[0].groups == ("FLEET-VANS", "FLEET-TRUCKS")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (Params(bollards=3, protocol="ocpp201"), "only 'ocpp16'"),
        (Params(bollards=3, id_pattern="CP"), "duplicate ids"),
        (Params(bollards=3, id_pattern="CP-{x}"), "bad pattern"),
        (Params(bollards=3, areas=4), "number of areas"),
        (Params(bollards=0), "number of bollards"),
        (Params(bollards=3, bollard_type="dc999"), "no bollard type"),
    ],
)
def test_bad_parameters_are_refused(params: Params, message: str) -> None:
    with pytest.raises(GeneratorError, match=message):
        generate(load_template("depot-dc"), params)


def test_initial_users_keep_only_hashes(tmp_path: Path) -> None:
    users = (NewUser("chief", Role.ADMIN, hash_password("s3cret-pass")),)
    project = create_project(
        tmp_path / "office", load_template("office"), Params(bollards=3, users=users)
    )
    assert [(u.name, u.role) for u in project.initial_users] == [("chief", Role.ADMIN)]
    layout = load_layout(project)  # the first ground-plan layout: every bollard placed
    assert sorted(o.id for o in layout.objects) == sorted(c.id for c in project.chargers)
    assert "s3cret-pass" not in project.file.read_text()
    with pytest.raises(FileExistsError):
        create_project(tmp_path / "office", load_template("office"), Params(bollards=3))


def test_a_project_library_template(tmp_path: Path) -> None:
    folder = tmp_path / "site" / "library" / "templates"
    folder.mkdir(parents=True)
    (folder / "mine.toml").write_text(
        'description = "mine"\n\n[[bollard_types]]\nname = "x"\nprotocol = "ocpp201"\n'
    )
    assert "mine" in available_templates(tmp_path / "site")
    with pytest.raises(ProjectError, match=r"mine\.toml:5: bollard_types\.0\.protocol"):
        load_template("mine", tmp_path / "site")


@pytest.mark.parametrize("name", TEMPLATES)
async def test_each_template_runs_headless(name: str, tmp_path: Path) -> None:
    project = create_project(tmp_path / name, load_template(name), Params(bollards=3))
    project = dataclasses.replace(project, ocpp=dataclasses.replace(project.ocpp, port=0))
    engine = Engine(project)
    await engine.start()
    try:
        await wait_until(
            lambda: all(
                engine.bus.value(f"{c.id}/comm") is CommState.ONLINE for c in project.chargers
            ),
            within=20,
        )
    finally:
        await engine.stop()
    assert load_project(tmp_path / name).chargers == project.chargers
