"""Project templates as data: ``evsuper/project/templates/<name>.toml`` and a project's own
``library/templates/<name>.toml`` (docs/templates.md describes the format)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evsuper.project.loader import ProjectError, field_line, parse_dataclass, read_toml
from evsuper.project.model import ChargerKind
from evsuper.users.permissions import Role

BUILTIN_DIR = Path(__file__).with_name("templates")
LIBRARY_DIR = Path("library") / "templates"  # inside a project folder
PROTOCOLS = ("ocpp16",)  # OCPP 1.6J; the only protocol evsuper speaks today
# sections of [settings] copied into project.toml, in the order they are written
SETTINGS_TABLES = ("ocpp", "archive", "simulator", "hmi", "notifications", "reports")
SETTINGS_ARRAYS = ("badges", "tariffs", "alarms")


@dataclass(frozen=True, slots=True)
class BollardType:
    """``[[bollard_types]]``: a kind of bollard the template can place."""

    name: str
    kind: ChargerKind = ChargerKind.AC
    connectors: int = 2
    max_power_kw: float = 22.0  # per connector
    vendor: str = "Simulated"
    model: str = "SIM-AC22"
    protocol: str = "ocpp16"


@dataclass(frozen=True, slots=True)
class Naming:
    """``[naming]``: ids, labels and areas. Fields: ``{n}`` the bollard's number in the
    project, ``{a}`` its area's number, ``{i}`` its number in the area, ``{site}`` the
    site id."""

    id_pattern: str = "CP-{n:03d}"
    label_pattern: str = ""  # empty: no label (the id is shown)
    area_id_pattern: str = "AREA-{a}"
    area_name_pattern: str = "Area {a}"
    per_area: int = 0  # bollards per area; 0: all in one area
    first_area: int = 1  # {a} of the first area (0 for parking levels from the ground floor)


@dataclass(frozen=True, slots=True)
class BadgeGroup:
    """``[[badge_groups]]``: ``count`` badges; with ``parent`` they share that parent idTag
    (a tariff's group), and a badge for the parent itself comes first."""

    count: int
    id_pattern: str = "BADGE-{n:04d}"
    name_pattern: str = "Badge {n}"
    parent: str = ""
    name: str = ""  # the parent badge's name


@dataclass(frozen=True, slots=True)
class UserSpec:
    """``[[users]]``: an initial account; its password is asked for or generated."""

    name: str
    role: Role


@dataclass(frozen=True, slots=True)
class _TemplateFile:
    description: str
    bollard_types: tuple[BollardType, ...]
    naming: Naming = field(default_factory=Naming)
    badge_groups: tuple[BadgeGroup, ...] = ()
    users: tuple[UserSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    file: Path
    description: str
    bollard_types: tuple[BollardType, ...]
    naming: Naming
    badge_groups: tuple[BadgeGroup, ...]
    users: tuple[UserSpec, ...]
    settings: dict[str, Any]  # [settings]: project.toml sections, written as they are

    def bollard_type(self, name: str | None) -> BollardType:
        """The type called ``name``; None: the first one. KeyError if unknown."""
        if name is None:
            return self.bollard_types[0]
        for kind in self.bollard_types:
            if kind.name == name:
                return kind
        known = ", ".join(k.name for k in self.bollard_types)
        raise KeyError(f"template {self.name!r} has no bollard type {name!r} (known: {known})")


def template_dirs(project: Path | None = None) -> list[Path]:
    """Where templates are looked for: the project's library first, then the built-in ones."""
    return ([project / LIBRARY_DIR] if project is not None else []) + [BUILTIN_DIR]


def available_templates(project: Path | None = None) -> list[str]:
    """Names of the templates found (a project's own hide built-in ones of the same name)."""
    return sorted({f.stem for d in template_dirs(project) for f in d.glob("*.toml")})


def load_template(name: str, project: Path | None = None) -> Template:
    """The template ``name`` (or a path to a template file). ProjectError if bad."""
    candidates = [Path(name)] if name.endswith(".toml") else []
    candidates += [d / f"{name}.toml" for d in template_dirs(project)]
    file = next((c for c in candidates if c.is_file()), None)
    if file is None:
        known = ", ".join(available_templates(project))
        raise ProjectError(Path(name), 0, "", f"no template {name!r} (known: {known})")
    return parse_template(file.read_text(encoding="utf-8"), file)


def parse_template(text: str, file: Path) -> Template:
    data = read_toml(text, file)
    settings = data.pop("settings", {})
    body: _TemplateFile = parse_dataclass(_TemplateFile, data, text, file)

    def fail(path: tuple[str | int, ...], message: str) -> ProjectError:
        dotted = ".".join(map(str, path))
        return ProjectError(file, field_line(text, path), dotted, message)

    if not body.bollard_types:
        raise fail(("bollard_types",), "a template needs at least one [[bollard_types]]")
    for i, kind in enumerate(body.bollard_types):
        if kind.protocol not in PROTOCOLS:
            raise fail(("bollard_types", i, "protocol"), protocol_message(kind.protocol))
    if not isinstance(settings, dict):
        raise fail(("settings",), "must be a table")
    for key in settings:
        if key not in SETTINGS_TABLES + SETTINGS_ARRAYS:
            known = ", ".join(SETTINGS_TABLES + SETTINGS_ARRAYS)
            raise fail(("settings", key), f"not a project section (one of {known})")
    return Template(
        name=file.stem,
        file=file,
        description=body.description,
        bollard_types=body.bollard_types,
        naming=body.naming,
        badge_groups=body.badge_groups,
        users=body.users,
        settings=settings,
    )


def protocol_message(protocol: str) -> str:
    return (
        f"protocol {protocol!r} is not supported: only 'ocpp16' (OCPP 1.6J over WebSocket) "
        "exists today"
    )
