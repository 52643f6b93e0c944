"""layout.toml: load, save, errors with file:line:field, and auto_arrange."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from evsuper.project.history import ProjectHistory
from evsuper.project.layout import (
    GRID,
    LAYOUT_FILE,
    DisplaySize,
    Layout,
    PlacedObject,
    ShownValue,
    auto_arrange,
    layout_text,
    load_layout,
    parse_layout,
    save_layout,
)
from evsuper.project.loader import ProjectError
from evsuper.project.model import AreaConfig, Project, SiteConfig


@pytest.fixture
def project(make_project: Any) -> Project:
    """Two sites: N (areas N0 with CP-001…CP-005, N1 with CP-006…CP-008), S (CP-009, CP-010)."""
    base: Project = make_project(10)
    areas = {**dict.fromkeys(range(5), "N0"), **dict.fromkeys(range(5, 8), "N1")}
    return dataclasses.replace(
        base,
        sites=(SiteConfig("N", "North"), SiteConfig("S", "South")),
        areas=(AreaConfig("N0", "N"), AreaConfig("N1", "N"), AreaConfig("S0", "S")),
        chargers=tuple(
            dataclasses.replace(c, area=areas.get(i, "S0")) for i, c in enumerate(base.chargers)
        ),
    )


SAMPLE = Layout(
    (
        PlacedObject("CP-001", "N", 60, 80),
        PlacedObject(
            "CP-009",
            "S",
            100.5,
            40,
            label='Bay "9" — visitors',
            size=DisplaySize.TILE,
            show=(ShownValue.SOC, ShownValue.ENERGY),
        ),
    )
)


def test_save_and_load_give_the_same_layout(project: Project) -> None:
    version = save_layout(project.directory, SAMPLE, "ian", "plan")

    assert load_layout(project) == SAMPLE
    assert (version.author, version.summary) == ("ian", "plan")
    assert ProjectHistory(project.directory).versions()[-1].files.get(LAYOUT_FILE)


def test_the_file_is_one_sorted_table_per_object(project: Project) -> None:
    text = layout_text(Layout(tuple(reversed(SAMPLE.objects))))

    assert text.count("[[objects]]") == 2
    assert text.index('id = "CP-001"') < text.index('id = "CP-009"')
    assert 'x = 60\ny = 80\nsize = "symbol"\nshow = ["power"]\n' in text
    assert 'label = "Bay \\"9\\" — visitors"' in text
    assert layout_text(SAMPLE) == text


def test_no_file_is_an_empty_layout(project: Project) -> None:
    assert load_layout(project) == Layout()


@pytest.mark.parametrize(
    ("body", "line", "field", "words"),
    [
        ('id = "CP-001"\nsite = "N"\nx = 1\ny = "top"', 7, "objects[0].y", "expected a number"),
        ('id = "CP-001"\nsite = "N"\nx = 1', 3, "objects[0].y", "required"),
        ('id = "CP-077"\nsite = "N"\nx = 1\ny = 2', 4, "objects[0].id", "not a charger"),
        ('id = "CP-009"\nsite = "N"\nx = 1\ny = 2', 5, "objects[0].site", "stands in S"),
        ('id = "CP-001"\nsite = "N"\nx = 1\ny = 2\nsize = "huge"', 8, "objects[0].size", "huge"),
        ('id = "CP-001"\nsite = "N"\nx = 1\ny = 2\nshow = ["volts"]', 8, "objects[0].show[0]", ""),
        ('id = "CP-001"\nsite = "N"\nx = 1\ny = 2\ncolour = 3', 8, "objects[0].colour", "unknown"),
    ],
)
def test_errors_name_the_line_and_the_field(
    project: Project, body: str, line: int, field: str, words: str
) -> None:
    text = f"format_version = 1\n\n[[objects]]\n{body}\n"
    with pytest.raises(ProjectError) as caught:
        parse_layout(text, project.directory / LAYOUT_FILE, project)
    assert (caught.value.line, caught.value.field) == (line, field)
    assert words in caught.value.message
    assert str(caught.value).startswith(f"{project.directory / LAYOUT_FILE}:{line}:")


def test_a_duplicate_object_is_refused_on_its_line(project: Project) -> None:
    one = '[[objects]]\nid = "CP-001"\nsite = "N"\nx = 1\ny = 2\n'
    text = f"format_version = 1\n{one}{one}"
    with pytest.raises(ProjectError) as caught:
        parse_layout(text, Path(LAYOUT_FILE), project)
    assert (caught.value.line, caught.value.field) == (8, "objects[1].id")


def test_bad_toml_and_versions_are_refused(project: Project) -> None:
    file = Path(LAYOUT_FILE)
    with pytest.raises(ProjectError, match=":3: not valid TOML"):
        parse_layout("format_version = 1\n\n[[objects]\n", file, project)
    with pytest.raises(ProjectError, match="format_version"):
        parse_layout("format_version = 9\n", file, project)


def test_auto_arrange_places_the_missing_in_rows_per_area_on_the_grid(project: Project) -> None:
    arranged = auto_arrange(Layout(), project, width=400)  # three symbols a row

    def at(charger_id: str) -> tuple[str, float, float]:
        placed = arranged.get(charger_id)
        assert placed is not None
        return placed.site, placed.x, placed.y

    assert [at(f"CP-00{n}") for n in (1, 2, 3, 4, 5)] == [
        ("N", 60, 80),
        ("N", 180, 80),
        ("N", 300, 80),
        ("N", 60, 220),
        ("N", 180, 220),
    ]
    assert [at(f"CP-00{n}") for n in (6, 7, 8)] == [
        ("N", 60, 360),
        ("N", 180, 360),
        ("N", 300, 360),
    ]
    assert [at("CP-009"), at("CP-010")] == [("S", 60, 80), ("S", 180, 80)]
    assert all(o.x % GRID == 0 and o.y % GRID == 0 for o in arranged.objects)


def test_auto_arrange_keeps_what_is_placed_and_goes_below_it(project: Project) -> None:
    layout = Layout((PlacedObject("CP-001", "N", 500, 300, label="Kept"),))

    arranged = auto_arrange(layout, project, width=1000)

    assert arranged.get("CP-001") == layout.objects[0]
    placed = arranged.get("CP-002")
    assert placed is not None and (placed.x, placed.y) == (60, 440)
    assert len(arranged.objects) == 10
    assert auto_arrange(arranged, project, width=1000) == arranged
