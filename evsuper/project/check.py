"""``evsuper check``: every problem of a project, each with file, line and field."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from evsuper.project.layout import load_layout
from evsuper.project.loader import ProjectError, field_line, parse_project
from evsuper.project.model import Project


def check_project(directory: Path) -> list[ProjectError]:
    """The problems of the project in ``directory``, in file and line order; none: clean.
    Reads only (an older format is checked as upgraded in memory, not on disk)."""
    file = directory / "project.toml"
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [ProjectError(file, 0, "", "no project.toml in this folder")]
    problems: list[ProjectError] = []
    try:
        project = parse_project(text, file, problems)
    except ProjectError as error:  # a structural error: nothing more can be said
        return [*problems, error]
    problems += _project_problems(project, text)
    try:
        load_layout(project)
    except ProjectError as error:
        problems.append(error)
    return sorted(problems, key=lambda p: (str(p.file), p.line))


def _project_problems(project: Project, text: str) -> list[ProjectError]:
    """What loading accepts but a working site does not have."""
    problems: list[ProjectError] = []

    def problem(path: tuple[str | int, ...], field: str, message: str) -> None:
        problems.append(ProjectError(project.file, field_line(text, path), field, message))

    for i, site in enumerate(project.sites):
        if site.plan and not project.path(site.plan).is_file():
            problem(("sites", i, "plan"), f"sites[{i}].plan", f"no such file: {site.plan}")
    used = Counter(c.area for c in project.chargers)
    for i, area in enumerate(project.areas):
        if not used[area.id]:
            problem(("areas", i, "id"), f"areas[{i}].id", f"area {area.id!r} has no bollards")
    labels = Counter(c.label for c in project.chargers if c.label)
    for i, charger in enumerate(project.chargers):
        if labels[charger.label] > 1:
            message = f"label {charger.label!r} is used by {labels[charger.label]} bollards"
            problem(("chargers", i, "label"), f"chargers[{i}].label", message)
    return problems
