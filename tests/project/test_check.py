"""``check_project``: every problem, each with file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from evsuper.project.check import check_project
from evsuper.project.generate import Params, create_project
from evsuper.project.loader import ProjectError, load_project
from evsuper.project.template import load_template


def write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "project.toml").write_text(text)
    return folder


BAD = """\
format_version = 2
name = "Bad"
colour = "blue"

[ocpp]
port = 70000
heartbeat_interval_s = "often"

[[sites]]
id = "S"
plan = "plan/ground.png"

[[areas]]
id = "A"
site = "S"

[[areas]]
id = "EMPTY"
site = "S"

[[chargers]]
id = "CP-1"
area = "A"
label = "Gate"

[[chargers]]
id = "CP-1"
area = "A"
label = "Gate"
connectors = 0
"""


def test_every_problem_is_listed_with_its_line(tmp_path: Path) -> None:
    folder = write(tmp_path / "bad", BAD)
    (folder / "layout.toml").write_text("[symbols\n")

    found = [(p.file.name, p.line, p.field) for p in check_project(folder)]

    assert found == [
        ("layout.toml", 1, ""),
        ("project.toml", 3, "colour"),
        ("project.toml", 6, "ocpp.port"),
        ("project.toml", 7, "ocpp.heartbeat_interval_s"),
        ("project.toml", 11, "sites[0].plan"),
        ("project.toml", 18, "areas[1].id"),
        ("project.toml", 24, "chargers[0].label"),
        ("project.toml", 27, "chargers[1].id"),
        ("project.toml", 29, "chargers[1].label"),
        ("project.toml", 30, "chargers[1].connectors"),
    ]
    with pytest.raises(ProjectError) as first:  # loading still stops at the first error
        load_project(folder)
    assert (first.value.line, first.value.field) == (3, "colour")


def test_a_structural_error_ends_the_list(tmp_path: Path) -> None:
    folder = write(tmp_path / "s", 'format_version = 2\nname = ""\n')
    assert [(p.line, p.field) for p in check_project(folder)] == [(2, "name"), (1, "sites")]


def test_a_generated_project_is_clean(tmp_path: Path) -> None:
    create_project(tmp_path / "p", load_template("office"), Params(bollards=30))
    assert check_project(tmp_path / "p") == []


def test_no_project_file(tmp_path: Path) -> None:
    [problem] = check_project(tmp_path)
    assert "no project.toml" in problem.message
