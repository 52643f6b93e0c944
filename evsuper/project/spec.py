"""Generation specs: a whole project of one or more sites, each from its template, written
by ``evsuper new DIR --spec FILE`` (docs/templates.md, "Projects of several sites").

A spec is a TOML file: the project's template and name, settings laid over the template's,
initial users (with fixed password hashes, or generated), the sites (each with its
template, bollards, naming, plan image, connection limit and where its areas' rows start
on the plan), and ``extra``, a TOML fragment appended to ``project.toml`` verbatim (for
sections the generator does not write itself: devices, groups, smart charging...). The
same spec always gives the same files: ``projects/specs/demo.toml`` makes
``projects/demo``, and a test keeps the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from evsuper.project.generate import (
    PLAN_WIDTH,
    GeneratorError,
    NewUser,
    Params,
    SitePart,
    generate,
    merge_settings,
    write_new_files,
)
from evsuper.project.history import PLAN_DIR, SYSTEM_AUTHOR, save_project_files
from evsuper.project.layout import (
    LAYOUT_FILE,
    Layout,
    PlacedObject,
    ShownValue,
    auto_arrange,
    layout_text,
    parse_layout,
)
from evsuper.project.loader import ProjectError, _Reader, parse_project, read_toml
from evsuper.project.model import Project
from evsuper.project.template import (
    SETTINGS_ARRAYS,
    SETTINGS_TABLES,
    Naming,
    Template,
    load_template,
)
from evsuper.users.permissions import Role


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class SpecUser:
    """``[[users]]``: an initial account; without ``password_hash`` its password is
    generated (or asked for) when the project is written."""

    name: str
    role: Role
    password_hash: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class SpecSite:
    """``[[sites]]``: one site, generated like ``evsuper new`` generates a project's one."""

    id: str
    name: str
    bollards: int
    template: str = ""  # empty: the spec's template
    type: str = ""  # bollard type of the template; empty: its first
    areas: int | None = None
    per_area: int | None = None
    connectors: int | None = None
    power_kw: float | None = None
    plan: str = ""  # plan image, relative to the spec; copied to plan/<its name>
    limit_kw: float | None = None
    base_load_tag: str = ""  # the building's load in kW (a meter's tag), for smart charging
    area_origins: tuple[Point, ...] = ()  # per area, in order: its first symbol's centre
    show: tuple[ShownValue, ...] = (ShownValue.POWER,)  # values under the plan symbols
    devices: tuple[PlacedObject, ...] = ()  # meters, PV, ... on the plan (layout.toml)


@dataclass(frozen=True, slots=True)
class _SpecFile:
    name: str
    sites: tuple[SpecSite, ...]
    template: str = "minimal"
    description: str = ""  # comment lines at the top of project.toml
    badges: int | None = None  # badges per badge group of the template
    users: tuple[SpecUser, ...] = ()  # empty: the template's, passwords generated
    extra: str = ""  # TOML fragment file (relative to the spec) appended verbatim


@dataclass(frozen=True, slots=True)
class Site:
    part: SitePart
    plan_source: Path | None
    origins: tuple[Point, ...]
    show: tuple[ShownValue, ...]
    devices: tuple[PlacedObject, ...]


@dataclass(frozen=True, slots=True)
class Spec:
    file: Path
    name: str
    template: Template  # with the spec's [settings] laid over
    description: str
    badges: int | None
    users: tuple[SpecUser, ...]
    sites: tuple[Site, ...]
    extra: str  # the fragment's text


def load_spec(file: Path) -> Spec:
    """The spec in ``file``; ProjectError (file, line, field) if it is bad."""
    text = file.read_text(encoding="utf-8")
    data = read_toml(text, file)
    reader = _Reader(text, file)
    settings = data.pop("settings", {})
    namings = [s.pop("naming", {}) if isinstance(s, dict) else {} for s in data.get("sites", [])]
    for site in data.get("sites", []):  # a device stands on the site it is listed in
        for device in site.get("devices", []) if isinstance(site, dict) else []:
            if isinstance(device, dict):
                device.setdefault("site", site.get("id"))
    body: _SpecFile = reader.build(_SpecFile, data, ())
    if not body.sites:
        reader.fail(("sites",), "a spec needs at least one [[sites]]")
    if not isinstance(settings, dict):
        reader.fail(("settings",), "must be a table")
    for key in settings:
        if key not in SETTINGS_TABLES + SETTINGS_ARRAYS:
            known = ", ".join(SETTINGS_TABLES + SETTINGS_ARRAYS)
            reader.fail(("settings", key), f"not a project section (one of {known})")
    folder = file.parent
    template = _template(body.template, folder, reader, ("template",))
    template = replace(template, settings=merge_settings(template.settings, settings))
    sites = []
    for i, (site, naming) in enumerate(zip(body.sites, namings, strict=True)):
        own = template
        if site.template:
            own = _template(site.template, folder, reader, ("sites", i, "template"))
        if not isinstance(naming, dict):
            reader.fail(("sites", i, "naming"), "must be a table")
        fields = {f: getattr(own.naming, f) for f in Naming.__dataclass_fields__}
        merged = reader.build(Naming, fields | naming, ("sites", i, "naming"))
        own = replace(own, naming=merged)
        plan = PurePosixPath(PLAN_DIR, Path(site.plan).name).as_posix() if site.plan else ""
        source = folder / site.plan if site.plan else None
        if source is not None and not source.is_file():
            reader.fail(("sites", i, "plan"), f"no file {source}")
        params = Params(
            bollards=site.bollards,
            site_name=site.name,
            site_id=site.id,
            areas=site.areas,
            per_area=site.per_area,
            bollard_type=site.type or None,
            connectors=site.connectors,
            power_kw=site.power_kw,
        )
        part = SitePart(own, params, plan, site.limit_kw, site.base_load_tag)
        sites.append(Site(part, source, site.area_origins, site.show, site.devices))
    extra = ""
    if body.extra:
        try:
            extra = (folder / body.extra).read_text(encoding="utf-8")
        except OSError as exc:
            reader.fail(("extra",), f"cannot read {folder / body.extra}: {exc.strerror}")
    return Spec(
        file=file,
        name=body.name,
        template=template,
        description=body.description,
        badges=body.badges,
        users=body.users,
        sites=tuple(sites),
        extra=extra,
    )


def accounts(spec: Spec) -> list[SpecUser]:
    """The project's initial users: the spec's, or its template's (without passwords)."""
    if spec.users:
        return list(spec.users)
    return [SpecUser(u.name, u.role) for u in spec.template.users]


def spec_files(
    spec: Spec, directory: Path, users: tuple[NewUser, ...]
) -> tuple[Project, dict[str, bytes]]:
    """The project the spec makes in ``directory`` and its files by relative name:
    ``project.toml``, ``layout.toml`` and the sites' plan images. ``users``: the initial
    accounts with their hashes (``accounts`` says which)."""
    params = Params(
        bollards=sum(s.part.params.bollards for s in spec.sites),
        site_name=spec.name,
        project_name=spec.name,
        badges=spec.badges,
        users=users,
    )
    spec_name = f"{spec.file.parent.name}/{spec.file.name}"  # the same wherever it runs
    header = [
        f"# {spec.name}: generated by `evsuper new --spec {spec_name}`. Change the spec",
        "# and generate again rather than editing this file (docs/templates.md).",
        *(f"# {line}".rstrip() for line in spec.description.strip().splitlines()),
    ]
    parts = [site.part for site in spec.sites]
    try:
        text = generate(spec.template, params, parts, header=header, extra=spec.extra)
    except GeneratorError as exc:
        raise GeneratorError(f"{spec.file}: {exc}") from None
    project = parse_project(text, directory / "project.toml")
    origins: dict[str, tuple[float, float]] = {}
    for site in spec.sites:
        areas = [a.id for a in project.areas if a.site == site.part.params.site_id]
        origins |= {a: (p.x, p.y) for a, p in zip(areas, site.origins, strict=False)}
    layout = auto_arrange(Layout(), project, PLAN_WIDTH, origins)
    shown = {s.part.params.site_id: s.show for s in spec.sites}
    layout = Layout(tuple(replace(o, show=shown[o.site]) for o in layout.objects))
    layout = layout.with_objects(d for s in spec.sites for d in s.devices)
    layout_file = layout_text(layout)
    parse_layout(layout_file, directory / LAYOUT_FILE, project)  # a device as the plan takes it
    files = {"project.toml": text.encode(), LAYOUT_FILE: layout_file.encode()}
    for site in spec.sites:
        if site.plan_source is not None:
            files[site.part.plan] = site.plan_source.read_bytes()
    return project, files


def _template(name: str, folder: Path, reader: _Reader, path: tuple[Any, ...]) -> Template:
    """A template by name, or by a path relative to the spec's folder."""
    try:
        return load_template(str(folder / name) if name.endswith(".toml") else name)
    except ProjectError as exc:
        if exc.file.name.endswith(".toml") and exc.line:  # a bad template: its own place
            raise
        reader.fail(path, exc.message)


def write_spec_project(
    spec: Spec,
    directory: Path,
    users: tuple[NewUser, ...],
    *,
    replace: bool = False,
    author: str = SYSTEM_AUTHOR,
) -> Project:
    """Write the project ``spec`` makes into ``directory``: a new folder (FileExistsError
    if it holds a project), or with ``replace`` over an existing project, as a version of
    its history by ``author`` (the archive and the rest of the folder stay)."""
    project, files = spec_files(spec, directory, users)
    if replace:
        summary = f"generated again from {spec.file.name}"
        save_project_files(directory, files, author, summary)
    else:
        write_new_files(directory, files)
    return project
