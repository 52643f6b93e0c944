"""Changes to an existing project: more bollards from a template, a library from another
project. What was there stays byte for byte as it was (``layout.toml`` gets the new
bollards' places, appended in id order)."""

from __future__ import annotations

import shutil
from pathlib import Path

from evsuper.project.generate import (
    PLAN_WIDTH,
    Area,
    GeneratorError,
    Params,
    charger_lines,
    numbers_in_use,
    place_bollards,
)
from evsuper.project.history import save_project_files
from evsuper.project.layout import LAYOUT_FILE, auto_arrange, layout_text, load_layout
from evsuper.project.loader import load_project, parse_project
from evsuper.project.model import Project
from evsuper.project.template import Template

LIBRARY = "library"


def add_bollards(
    directory: Path, template: Template, params: Params, area_id: str, author: str
) -> list[str]:
    """Append ``params.bollards`` bollards of ``template`` to area ``area_id`` of the
    project in ``directory``, numbered on from the highest number in use; a version of the
    project history by ``author``. The ids added; GeneratorError if it cannot be done."""
    project = load_project(directory)
    config = project.area(area_id)
    if config is None:
        known = ", ".join(a.id for a in project.areas)
        raise GeneratorError(f"unknown area {area_id!r} (known: {known})")
    if params.bollards < 1:
        raise GeneratorError("add at least one bollard")
    try:
        kind = template.bollard_type(params.bollard_type)
    except KeyError as exc:
        raise GeneratorError(exc.args[0]) from None
    id_pattern = params.id_pattern or template.naming.id_pattern
    existing = [c.id for c in project.chargers]
    in_area = sum(1 for c in project.chargers if c.area == area_id)
    area = Area(area_id, config.name, _area_number(project, template, area_id))
    bollards = list(
        place_bollards(
            template,
            params,
            kind,
            [(area, params.bollards)],
            first=max(numbers_in_use(id_pattern, existing), default=0) + 1,
            first_in_area=in_area + 1,
            taken=frozenset(existing),
        )
    )
    file = directory / "project.toml"
    text = file.read_bytes().decode("utf-8")
    header = f"# added by evsuper add-bollards: {len(bollards)} x {kind.name} in {area_id}"
    added = "\n".join([header, *charger_lines(bollards)[1:]]) + "\n"
    new_text = text + ("" if text.endswith("\n") or not text else "\n") + "\n" + added
    grown = parse_project(new_text, file)  # never save a project that would not load
    files = {file.name: new_text}
    if (directory / LAYOUT_FILE).is_file():  # the new bollards get a place on the plan
        layout = auto_arrange(load_layout(project), grown, PLAN_WIDTH)
        files[LAYOUT_FILE] = layout_text(layout)
    ids = [b.id for b in bollards]
    summary = f"{len(ids)} bollards added to {area_id} ({ids[0]} to {ids[-1]})"
    save_project_files(directory, files, author, summary)
    return ids


def _area_number(project: Project, template: Template, area_id: str) -> int:
    """``{a}`` of an area: read from its id with the template's area id pattern, else its
    place among its site's areas (counted from the template's ``first_area``)."""
    naming = template.naming
    if found := numbers_in_use(naming.area_id_pattern, [area_id], field="a"):
        return found[0]
    site = next(a.site for a in project.areas if a.id == area_id)
    same_site = [a.id for a in project.areas if a.site == site]
    return naming.first_area + same_site.index(area_id)


class LibraryConflict(ValueError):
    """Files of the other library differ from the project's own."""


def import_library(directory: Path, source: Path, *, force: bool = False) -> list[str]:
    """Copy ``source/library/`` (templates, symbols) into ``directory/library/``; a file that
    exists with other contents is only replaced with ``force`` (else nothing is copied and
    LibraryConflict names them). The project-relative paths copied."""
    origin = source / LIBRARY
    if not origin.is_dir():
        raise FileNotFoundError(f"{origin} is not a folder")
    if not (directory / "project.toml").is_file():
        raise FileNotFoundError(f"no project.toml in {directory}")
    files = sorted(p for p in origin.rglob("*") if p.is_file())
    plan: list[tuple[Path, Path]] = []
    conflicts: list[str] = []
    for file in files:
        target = directory / LIBRARY / file.relative_to(origin)
        if target.is_file() and target.read_bytes() == file.read_bytes():
            continue
        if target.exists() and not force:
            conflicts.append(target.relative_to(directory).as_posix())
        plan.append((file, target))
    if conflicts:
        raise LibraryConflict(
            f"{len(conflicts)} files differ (use --force to replace them): {', '.join(conflicts)}"
        )
    for file, target in plan:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, target)
    return [target.relative_to(directory).as_posix() for _, target in plan]
