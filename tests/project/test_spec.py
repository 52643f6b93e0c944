"""Generation specs: projects of several sites, and the demo, which its spec must give."""

from __future__ import annotations

from pathlib import Path

import pytest

from evsuper.cli import main
from evsuper.project.generate import GeneratorError, NewUser, Params
from evsuper.project.history import ProjectHistory, is_tracked
from evsuper.project.integrate import add_bollards
from evsuper.project.layout import ObjectKind, load_layout
from evsuper.project.loader import ProjectError, load_project
from evsuper.project.spec import SpecUser, accounts, load_spec, spec_files
from evsuper.project.template import load_template

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "projects" / "demo"
DEMO_SPEC = ROOT / "projects" / "specs" / "demo.toml"


# a real argon2 hash (of "viewer-demo"), for the users without one
HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$ojrKPmWfWvxFwn28sOQoFw"
    "$/t0FwMagF/EK5EmzJGYUVOiG6noHsL5hA7k9tsE+kS8"
)


def hashed(users: list[SpecUser]) -> tuple[NewUser, ...]:
    return tuple(NewUser(u.name, u.role, u.password_hash or HASH) for u in users)


def project_files(directory: Path) -> dict[str, bytes]:
    """The files of a project folder that its spec makes (those its history keeps)."""
    found = [*directory.glob("*.toml"), *(directory / "plan").rglob("*")]
    names = (p.relative_to(directory).as_posix() for p in found if p.is_file())
    return {name: (directory / name).read_bytes() for name in names if is_tracked(name)}


def test_the_demo_is_exactly_what_its_spec_generates() -> None:
    spec = load_spec(DEMO_SPEC)
    users = accounts(spec)
    assert all(u.password_hash for u in users)  # fixed hashes: the same bytes every time
    _, files = spec_files(spec, DEMO, hashed(users))
    assert files == project_files(DEMO), (
        "projects/demo differs from projects/specs/demo.toml: change the spec (or "
        "demo-extra.toml), then `make demo`"
    )


def test_the_demo_has_two_sites_a_plan_and_its_content() -> None:
    demo = load_project(DEMO)
    assert [(s.id, s.plan, s.limit_kw) for s in demo.sites] == [
        ("DEMO", "plan/demo.svg", 250.0),
        ("DEPOT", "", 300.0),
    ]
    assert [a.id for a in demo.areas] == ["L0", "L1", "BAYS"]
    assert [c.id for c in demo.chargers][-5:] == ["CP-012", "DC-01", "DC-02", "DC-03", "DC-04"]
    assert {u.role.value for u in demo.initial_users} >= {"viewer", "admin"}
    assert {t.name for t in demo.tariffs} == {"Public", "Subscribers"}
    assert len(demo.badges) == 15  # ten named, the subscribers' parent and four subscribers
    placed = load_layout(demo)
    assert (placed.get("CP-007").x, placed.get("CP-007").y) == (920, 200)  # type: ignore[union-attr]
    meter = placed.get("METER")
    assert meter is not None and (meter.kind, meter.prefix) == (ObjectKind.METER, "DEMO/meter")


def write_spec(folder: Path, body: str, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if extra:
        (folder / "extra.toml").write_text(extra)
    spec = folder / "spec.toml"
    spec.write_text(body)
    return spec


TWO_CAR_PARKS = """
name = "Two car parks"
template = "public-ac"
{extra_line}

[[sites]]
id = "NORTH"
name = "North"
bollards = 3
naming = {{ area_id_pattern = "N-{{a}}" }}

[[sites]]
id = "SOUTH"
name = "South"
bollards = 2
{south}
"""


def test_sites_of_one_pattern_number_on_and_extra_text_is_kept(tmp_path: Path) -> None:
    extra = '# ours\n[[badges]]\nid_tag = "NIGHT-1"  # kept as written\n'
    body = TWO_CAR_PARKS.format(extra_line='extra = "extra.toml"', south="")
    spec = load_spec(write_spec(tmp_path / "spec", body, extra))
    project, files = spec_files(spec, tmp_path / "p", hashed(accounts(spec)))
    assert [c.id for c in project.chargers] == ["PK-001", "PK-002", "PK-003", "PK-004", "PK-005"]
    assert [(a.id, a.site) for a in project.areas] == [("N-1", "NORTH"), ("LEVEL-1", "SOUTH")]
    assert files["project.toml"].decode().endswith("\n" + extra)
    assert project.badges[-1].id_tag == "NIGHT-1"
    assert {o.site for o in load_layout_of(files, project)} == {"NORTH", "SOUTH"}


def load_layout_of(files: dict[str, bytes], project: object) -> list[object]:
    from evsuper.project.layout import parse_layout

    layout = parse_layout(files["layout.toml"].decode(), Path("layout.toml"), project)  # type: ignore[arg-type]
    return list(layout.objects)


def test_two_sites_may_not_share_an_area_id(tmp_path: Path) -> None:
    body = TWO_CAR_PARKS.format(extra_line="", south='naming = { area_id_pattern = "N-{a}" }')
    spec = load_spec(write_spec(tmp_path, body))
    with pytest.raises(GeneratorError, match="area ids used by two sites: N-1"):
        spec_files(spec, tmp_path / "p", hashed(accounts(spec)))


@pytest.mark.parametrize(
    ("south", "line", "field", "message"),
    [
        ('template = "castle"', 16, "sites[1].template", "no template 'castle'"),
        ("bollards_x = 1", 16, "sites[1].bollards_x", "unknown setting"),
        ('naming = { per_area = "x" }', 16, "sites[1].naming.per_area", "an integer"),
        ('plan = "none.svg"', 16, "sites[1].plan", "no file"),
    ],
)
def test_spec_errors_name_the_line_and_the_field(
    tmp_path: Path, south: str, line: int, field: str, message: str
) -> None:
    spec = write_spec(tmp_path, TWO_CAR_PARKS.format(extra_line="", south=south))
    with pytest.raises(ProjectError) as error:
        load_spec(spec)
    assert (error.value.line, error.value.field) == (line, field)
    assert message in error.value.message


def test_new_from_a_spec_then_replace_as_a_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path / "spec", TWO_CAR_PARKS.format(extra_line="", south=""))
    site = tmp_path / "site"
    assert main(["new", str(site), "--spec", str(spec)]) == 0
    out = capsys.readouterr().out
    assert "5 bollards in 2 sites" in out
    assert out.count("password ") == 2  # the template's admin and operator, generated
    assert main(["new", str(site), "--spec", str(spec)]) == 2
    assert "already exists" in capsys.readouterr().err

    spec.write_text(spec.read_text().replace("bollards = 2", "bollards = 4"))
    assert main(["new", str(site), "--spec", str(spec), "--replace"]) == 0
    assert len(load_project(site).chargers) == 7
    latest = ProjectHistory(site).versions()[-1]
    assert latest.summary == "generated again from spec.toml"
    assert main(["new", str(site), "--spec", str(spec), "--bollards", "3"]) == 2
    assert "--spec takes everything else from the spec" in capsys.readouterr().err


def test_bollards_added_to_a_second_site_take_its_area_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path / "spec", TWO_CAR_PARKS.format(extra_line="", south=""))
    site = tmp_path / "site"
    assert main(["new", str(site), "--spec", str(spec)]) == 0
    added = add_bollards(site, load_template("public-ac"), Params(bollards=1), "LEVEL-1", "ian")
    assert added == ["PK-006"]
    charger = load_project(site).charger("PK-006")
    assert charger is not None and (charger.label, charger.area) == ("L1-03", "LEVEL-1")
