"""The ground-plan layout: ``layout.toml`` beside ``project.toml``.

One ``[[objects]]`` table per object on a plan, sorted by id: its site, its position
(``x``, ``y``: the centre of its symbol, in plan image pixels) and how it is shown
(``label``, ``size``, ``show``). A bollard's id is its charger id; a site meter, PV
inverter, battery or feeder (``kind``) has an id of its own and reads the tags under its
``prefix`` (``<prefix>/power_kw`` ...; docs/ground_plan.md). An object of the
project without a table has no place yet: ``auto_arrange`` gives it one. Errors name the
file, the line and the field, as ``project.toml``'s do (``loader.ProjectError``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from evsuper.project.history import Version, save_project_files
from evsuper.project.loader import _Reader, read_toml
from evsuper.project.model import Project

LAYOUT_FILE = "layout.toml"
LAYOUT_FORMAT = 1
GRID = 20.0  # plan pixels between snap positions
PITCH = (120.0, 140.0)  # auto_arrange: from one symbol's centre to the next, in a row / a column


class DisplaySize(StrEnum):
    SYMBOL = "symbol"  # the plan pictogram with its code and name
    TILE = "tile"  # the overview's tile: a row per connector


class ObjectKind(StrEnum):
    CHARGER = "charger"  # a bollard of the project: the id is its charger id
    METER = "meter"  # the site meter
    PV = "pv"  # a PV inverter
    BATTERY = "battery"  # a stationary battery
    FEEDER = "feeder"  # a feeder with its breaker


class ShownValue(StrEnum):
    """A live value written under a plan symbol."""

    POWER = "power"
    SOC = "soc"
    ENERGY = "energy"


@dataclass(frozen=True, slots=True)
class PlacedObject:
    id: str
    site: str
    x: float
    y: float
    label: str = ""  # shown instead of the id (and of the project's label) when set
    size: DisplaySize = DisplaySize.SYMBOL
    show: tuple[ShownValue, ...] = (ShownValue.POWER,)
    kind: ObjectKind = ObjectKind.CHARGER
    prefix: str = ""  # a device: its tags are <prefix>/<point>, e.g. DEMO/meter/power_kw
    device: str = ""  # a device: its [[devices]] name (link state, stop / resume)
    rating_kw: float | None = None  # a device: limit (meter, feeder) or rated power

    @property
    def is_device(self) -> bool:
        return self.kind is not ObjectKind.CHARGER


@dataclass(frozen=True, slots=True)
class Layout:
    objects: tuple[PlacedObject, ...] = ()  # sorted by id

    def get(self, object_id: str) -> PlacedObject | None:
        return next((o for o in self.objects if o.id == object_id), None)

    def on_site(self, site_id: str) -> list[PlacedObject]:
        return [o for o in self.objects if o.site == site_id]

    def with_objects(self, objects: Iterable[PlacedObject]) -> Layout:
        """This layout with ``objects`` added or replacing those of the same id."""
        merged = {o.id: o for o in self.objects} | {o.id: o for o in objects}
        return Layout(tuple(merged[key] for key in sorted(merged)))


def snap(value: float, grid: float = GRID) -> float:
    return round(value / grid) * grid


def load_layout(project: Project) -> Layout:
    """The layout of ``project`` (empty when it has no ``layout.toml``)."""
    file = project.directory / LAYOUT_FILE
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Layout()
    return parse_layout(text, file, project)


def parse_layout(text: str, file: Path, project: Project) -> Layout:
    data = read_toml(text, file)
    reader = _Reader(text, file)
    for key in data:
        if key not in ("format_version", "objects"):
            reader.fail((key,), "unknown setting (expected format_version, objects)")
    if data.get("format_version") != LAYOUT_FORMAT:
        reader.fail(("format_version",), f"missing, or not {LAYOUT_FORMAT}")
    items = data.get("objects", [])
    if not isinstance(items, list):
        reader.fail(("objects",), "must be an array of tables ([[objects]])")
    chargers = {c.id: c for c in project.chargers}
    objects: dict[str, PlacedObject] = {}
    for i, item in enumerate(items):
        placed: PlacedObject = reader.build(PlacedObject, item, ("objects", i))
        if placed.id in objects:
            reader.fail(("objects", i, "id"), f"duplicate object {placed.id!r}")
        if placed.is_device:
            _check_device(reader, project, placed, i, set(chargers))
        else:
            charger = chargers.get(placed.id)
            if charger is None:
                reader.fail(("objects", i, "id"), f"{placed.id!r} is not a charger of the project")
            site = project.site_of(charger)
            if site is None or placed.site != site.id:
                where = site.id if site is not None else "no site"
                reader.fail(
                    ("objects", i, "site"), f"{placed.id} stands in {where}, not {placed.site}"
                )
        if len(set(placed.show)) != len(placed.show):
            reader.fail(("objects", i, "show"), "a value is named twice")
        objects[placed.id] = placed
    return Layout().with_objects(objects.values())


def _check_device(
    reader: _Reader, project: Project, placed: PlacedObject, i: int, chargers: set[str]
) -> None:
    if placed.id in chargers:
        reader.fail(("objects", i, "id"), f"{placed.id!r} is a charger, not a {placed.kind}")
    if project.site(placed.site) is None:
        reader.fail(("objects", i, "site"), f"{placed.site!r} is not a [[sites]] id")
    if not placed.prefix.strip("/"):
        reader.fail(("objects", i, "prefix"), "a device needs the prefix of its tags")
    if placed.rating_kw is not None and placed.rating_kw <= 0:
        reader.fail(("objects", i, "rating_kw"), "must be positive")


def layout_text(layout: Layout) -> str:
    """``layout`` as ``layout.toml``: one table per object, sorted, defaults left out."""
    lines = [
        "# Ground-plan layout (docs/ground_plan.md): x, y = the centre of the object on the",
        "# site's plan, in plan pixels. Written by evsuper's ground plan in edit mode.",
        f"format_version = {LAYOUT_FORMAT}",
    ]
    for placed in sorted(layout.objects, key=lambda o: o.id):
        lines += ["", "[[objects]]", f"id = {_string(placed.id)}", f"site = {_string(placed.site)}"]
        lines += [f"x = {_number(placed.x)}", f"y = {_number(placed.y)}"]
        if placed.label:
            lines.append(f"label = {_string(placed.label)}")
        lines.append(f"size = {_string(placed.size.value)}")
        lines.append(f"show = [{', '.join(_string(v.value) for v in placed.show)}]")
        if placed.is_device:
            lines += [f"kind = {_string(placed.kind.value)}", f"prefix = {_string(placed.prefix)}"]
            if placed.device:
                lines.append(f"device = {_string(placed.device)}")
            if placed.rating_kw is not None:
                lines.append(f"rating_kw = {_number(placed.rating_kw)}")
    return "\n".join(lines) + "\n"


def save_layout(directory: Path, layout: Layout, author: str, summary: str) -> Version:
    """Write ``layout.toml`` as a new version of the project's history."""
    return save_project_files(directory, {LAYOUT_FILE: layout_text(layout)}, author, summary)


def auto_arrange(
    layout: Layout,
    project: Project,
    width: float,
    origins: Mapping[str, tuple[float, float]] | None = None,
) -> Layout:
    """``layout`` with every charger it lacks placed on its site: rows of at most ``width``
    plan pixels, one block of rows per area (in project order), below what is placed; an
    area in ``origins`` starts its rows there instead (the centre of its first symbol)."""
    placed = {o.id for o in layout.objects}
    new: list[PlacedObject] = []
    per_row = max(1, int(width // PITCH[0]))
    origins = origins or {}
    for site in project.sites:
        bottom = max((o.y for o in layout.on_site(site.id)), default=None)
        y = GRID * 4 if bottom is None else snap(bottom + PITCH[1])
        for area in (a for a in project.areas if a.site == site.id):
            waiting = [c.id for c in project.chargers if c.area == area.id and c.id not in placed]
            left, top = origins.get(area.id, (PITCH[0] / 2, y))
            for i, charger_id in enumerate(waiting):
                row, column = divmod(i, per_row)
                x = snap(left + column * PITCH[0])
                new.append(PlacedObject(charger_id, site.id, x, snap(top + row * PITCH[1])))
            if waiting and area.id not in origins:
                y = snap(y + ((len(waiting) - 1) // per_row + 1) * PITCH[1])
    return layout.with_objects(new)


def moved(placed: PlacedObject, x: float, y: float) -> PlacedObject:
    """``placed`` at (x, y) on the grid."""
    return replace(placed, x=snap(x), y=snap(y))


def _string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's; DEL must be escaped too)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
