"""Adding bollards to an existing project, importing another project's library."""

from __future__ import annotations

from pathlib import Path

import pytest

from evsuper.project.generate import GeneratorError, Params, create_project
from evsuper.project.history import ProjectHistory
from evsuper.project.integrate import LibraryConflict, add_bollards, import_library
from evsuper.project.layout import load_layout
from evsuper.project.loader import load_project
from evsuper.project.template import load_template


@pytest.fixture
def site(tmp_path: Path) -> Path:
    params = Params(bollards=25, site_name="P")
    create_project(tmp_path / "site", load_template("public-ac"), params)
    return tmp_path / "site"


def test_added_bollards_continue_the_numbering_and_keep_the_text(site: Path) -> None:
    before = (site / "project.toml").read_bytes()

    ids = add_bollards(site, load_template("public-ac"), Params(bollards=3), "LEVEL-2", "alice")

    assert ids == ["PK-026", "PK-027", "PK-028"]
    after = (site / "project.toml").read_bytes()
    assert after.startswith(before)
    assert b"[[sites]]" not in after[len(before) :]
    project = load_project(site)
    added = [c for c in project.chargers if c.id in ids]
    assert [(c.area, c.label) for c in added] == [
        ("LEVEL-2", "L2-06"),
        ("LEVEL-2", "L2-07"),
        ("LEVEL-2", "L2-08"),
    ]
    placed = load_layout(project)
    assert [placed.get(i) is not None for i in ids] == [True] * 3
    assert len(placed.objects) == 28
    latest = ProjectHistory(site).versions()[-1]
    assert (latest.author, latest.summary) == (
        "alice",
        "3 bollards added to LEVEL-2 (PK-026 to PK-028)",
    )


def test_another_template_and_pattern_skip_ids_in_use(site: Path) -> None:
    params = Params(bollards=2, id_pattern="PK-{n:03d}", bollard_type="dc50")
    add_bollards(site, load_template("depot-dc"), Params(bollards=1), "LEVEL-1", "bob")
    ids = add_bollards(site, load_template("depot-dc"), params, "LEVEL-1", "bob")
    assert ids == ["PK-026", "PK-027"]
    assert {c.model for c in load_project(site).chargers if c.id in ids} == {"SIM-DC50"}


def test_an_unknown_area_is_refused(site: Path) -> None:
    before = (site / "project.toml").read_bytes()
    with pytest.raises(GeneratorError, match="unknown area 'LEVEL-9'"):
        add_bollards(site, load_template("public-ac"), Params(bollards=1), "LEVEL-9", "alice")
    assert (site / "project.toml").read_bytes() == before


def test_import_library_refuses_to_overwrite_unless_forced(tmp_path: Path, site: Path) -> None:
    other = tmp_path / "other"
    (other / "library" / "templates").mkdir(parents=True)
    (other / "library" / "symbols").mkdir()
    (other / "library" / "templates" / "mine.toml").write_text("a = 1\n")
    (other / "library" / "symbols" / "bollard.svg").write_text("<svg/>")

    assert import_library(site, other) == [
        "library/symbols/bollard.svg",
        "library/templates/mine.toml",
    ]
    assert import_library(site, other) == []  # identical files: nothing to do

    (other / "library" / "templates" / "mine.toml").write_text("a = 2\n")
    (other / "library" / "symbols" / "new.svg").write_text("<svg/>")
    with pytest.raises(LibraryConflict, match=r"library/templates/mine\.toml"):
        import_library(site, other)
    assert not (site / "library" / "symbols" / "new.svg").exists()  # all or nothing

    copied = import_library(site, other, force=True)
    assert copied == ["library/symbols/new.svg", "library/templates/mine.toml"]
    assert (site / "library" / "templates" / "mine.toml").read_text() == "a = 2\n"
