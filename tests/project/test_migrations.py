"""Upward compatibility: a project of every earlier format loads, upgraded on disk with its
original kept and a note of what changed."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from evsuper.project.history import ProjectHistory
from evsuper.project.loader import load_project
from evsuper.project.migrations import MIGRATIONS, upgrade_text
from evsuper.project.model import FORMAT_VERSION

FORMATS = Path(__file__).parent / "formats"


def test_every_earlier_format_has_a_sample_and_a_migration() -> None:
    assert sorted(MIGRATIONS) == list(range(1, FORMAT_VERSION))
    assert sorted(p.name for p in FORMATS.iterdir()) == [f"v{n}" for n in MIGRATIONS]


@pytest.mark.parametrize("version", sorted(MIGRATIONS))
def test_an_earlier_format_loads_upgraded_with_a_backup_and_a_note(
    tmp_path: Path, version: int
) -> None:
    folder = tmp_path / "site"
    shutil.copytree(FORMATS / f"v{version}", folder)
    original = (folder / "project.toml").read_text()
    project = load_project(folder)
    assert project.format_version == FORMAT_VERSION
    assert [(c.id, c.area) for c in project.chargers] == [("CP-1", "AREA"), ("CP-2", "AREA")]
    assert [(s.id, s.name) for s in project.sites] == [("SITE", "Format one car park")]
    upgraded = (folder / "project.toml").read_text()
    assert tomllib.loads(upgraded)["format_version"] == FORMAT_VERSION
    assert "# per connector" in upgraded and "# reject | pending | accept" in upgraded
    (backup,) = (folder / ".evsuper" / "backups").glob(f"project.v{version}.*Z.toml")
    assert backup.read_text() == original
    notes = backup.with_suffix(".notes.txt").read_text()
    assert "format 1 → 2: added site 'SITE'" in notes
    assert "set area = 'AREA' on 2 [[chargers]] entries" in notes
    initial, upgrade = ProjectHistory(folder).versions()
    assert ProjectHistory(folder).snapshot(initial.number)["project.toml"] == original.encode()
    assert upgrade.summary.startswith(f"upgraded from format {version}: format 1 → 2")
    assert load_project(folder) == project  # once upgraded, loaded as it is
    assert len(list((folder / ".evsuper" / "backups").iterdir())) == 2


def test_a_project_that_cannot_be_written_is_upgraded_in_memory(tmp_path: Path) -> None:
    folder = tmp_path / "site"
    shutil.copytree(FORMATS / "v1", folder)
    (folder / ".evsuper").write_text("not a folder: no backup can be written")
    assert load_project(folder).format_version == FORMAT_VERSION
    assert "format_version = 1" in (folder / "project.toml").read_text()


def test_upgrade_text_keeps_what_it_does_not_change() -> None:
    text, notes = upgrade_text('format_version = 1\nname = "X"  # the name\n', 1)
    assert text.startswith('format_version = 2\nname = "X"  # the name\n')
    assert "[[sites]]" in text and "[[areas]]" in text and len(notes) == 2
