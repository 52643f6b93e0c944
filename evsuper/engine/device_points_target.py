"""The command target that binds OPC UA nodes to tags in ``project.toml`` (off the loop).

``BindOpcUaPoints`` appends ``[[devices.points]]`` entries to one ``opc.tcp`` device with
tomlkit (comments and layout of the file kept), read and written under the project
history's lock (``ProjectHistory.update``, the writer behind ``save_project_files``): each
bind is a version. The file is read afresh for every command, so binds made since the
engine started count. Refused: an unknown device, a device of another protocol, a tag
already published in the project (by any device or charger) or given twice, and a
result that would not load. The running engine keeps its points: they apply at the next
start.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from pathlib import Path

import tomlkit
from tomlkit.items import AoT, Table

from evsuper.drivers.base import DeviceSettings, DriverConfigError, DriverContext
from evsuper.drivers.registry import driver_factory
from evsuper.engine.commands import (
    BindOpcUaPoints,
    Command,
    CommandResult,
    Outcome,
    PointBinding,
)
from evsuper.project.history import HistoryError, ProjectHistory, Version
from evsuper.project.loader import ProjectError, parse_project
from evsuper.project.model import Project

PROJECT_FILE = "project.toml"
OPC_UA_SCHEME = "opc.tcp"
_TAG = re.compile(r"^[^\s/_][^\s/]*(/[^\s/]+)*$")  # segments, no blanks, not "_system/..."


class BindRefused(Exception):
    """Why points cannot be bound: ``status`` is the result's status word."""

    def __init__(self, status: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class DevicePointsTarget:
    """Executes ``BindOpcUaPoints`` for the project in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def accepts(self, command: Command) -> bool:
        return isinstance(command, BindOpcUaPoints)

    async def execute(self, command: Command) -> CommandResult:
        assert isinstance(command, BindOpcUaPoints)
        try:
            version = await asyncio.to_thread(
                bind_points, self.directory, command.device, command.points, command.actor.user
            )
        except BindRefused as exc:
            return CommandResult(Outcome.ERROR, exc.status, exc.detail)
        except (OSError, HistoryError) as exc:
            return CommandResult(Outcome.ERROR, "WriteFailed", str(exc))
        count = len(command.points)
        points = "1 point" if count == 1 else f"{count} points"
        return CommandResult(
            Outcome.ACCEPTED,
            "Saved",
            f"{points} bound to {command.device} in {PROJECT_FILE} (version {version.number}); "
            "they apply at the next start of evsuper",
            payload=version,
        )


def bind_points(
    directory: Path, device: str, points: Sequence[PointBinding], author: str
) -> Version:
    """Append ``points`` to ``device`` in ``directory``'s project.toml as a version of the
    project history by ``author``; raises ``BindRefused`` (nothing written)."""
    file = directory / PROJECT_FILE
    count = len(points)
    summary = f"{count} OPC UA point{'s' if count != 1 else ''} bound to {device}"
    return ProjectHistory(directory).update(
        PROJECT_FILE, lambda text: points_appended(text, file, device, points), author, summary
    )


def points_appended(text: str, file: Path, device: str, points: Sequence[PointBinding]) -> str:
    """``text`` (the project file ``file``) with ``points`` appended to ``device``."""
    if not points:
        raise BindRefused("InvalidPoints", "no point to bind")
    before: list[ProjectError] = []
    try:
        project = parse_project(text, file, before)
    except ProjectError as exc:
        raise BindRefused("InvalidProject", f"{PROJECT_FILE} does not load: {exc}") from None
    settings = next((d for d in project.devices if d.name == device), None)
    if settings is None:
        known = ", ".join(d.name for d in project.devices) or "none"
        raise BindRefused("UnknownDevice", f"no device {device!r} in the project (known: {known})")
    if settings.scheme != OPC_UA_SCHEME:
        raise BindRefused(
            "NotOpcUa", f"device {device!r} is not an OPC UA ({OPC_UA_SCHEME}) device"
        )
    _check_tags(project, points)

    document = tomlkit.parse(text)
    entry = _device_table(document["devices"], device)
    existing = entry.get("points")
    if existing is None:
        if not entry.as_string().endswith("\n\n"):
            entry.add(tomlkit.nl())  # the device's last line, then a blank one
        existing = tomlkit.aot()
        entry.append("points", existing)
    for point in points:
        existing.append(_point_table(point))
    result = tomlkit.dumps(document)

    after: list[ProjectError] = []
    try:
        parse_project(result, file, after)
    except ProjectError as exc:
        after.append(exc)
    already = {(p.field, p.message) for p in before}
    new = [p for p in after if (p.field, p.message) not in already]
    if new:  # never write a file that would not load
        raise BindRefused("InvalidPoints", "; ".join(f"{p.field}: {p.message}" for p in new))
    return result


def used_tags(project: Project) -> set[str]:
    """Every tag the project's devices publish (Modbus chargers' tags included)."""
    schemes: dict[str, list[DeviceSettings]] = {}
    for settings in project.driver_devices():
        schemes.setdefault(settings.scheme, []).append(settings)
    context = DriverContext(publish=lambda path, sample: None, project_dir=project.directory)
    tags: set[str] = set()
    for scheme, members in schemes.items():
        try:
            tags.update(driver_factory(scheme)(members, context).tags())
        except (DriverConfigError, LookupError):
            continue  # the project's own problem, said by evsuper check
    return tags


def _check_tags(project: Project, points: Sequence[PointBinding]) -> None:
    used = used_tags(project)
    chargers = {c.id for c in project.chargers}
    seen: set[str] = set()
    for point in points:
        tag = point.tag
        if not _TAG.match(tag):
            raise BindRefused(
                "InvalidTag",
                f"{tag!r} is not a tag path (segments separated by '/', no blanks, "
                "not starting with '_')",
            )
        if tag in used:
            raise BindRefused("DuplicateTag", f"tag {tag!r} is already used in the project")
        if tag.split("/")[0] in chargers:
            raise BindRefused("DuplicateTag", f"tag {tag!r} is under charger {tag.split('/')[0]}")
        if tag in seen:
            raise BindRefused("DuplicateTag", f"tag {tag!r} is given twice")
        seen.add(tag)


def _device_table(devices: object, name: str) -> Table:
    if isinstance(devices, AoT):
        for table in devices:
            if table.get("name") == name:
                return table
    raise BindRefused("UnknownDevice", f"no [[devices]] entry named {name!r} in {PROJECT_FILE}")


def _point_table(point: PointBinding) -> Table:
    table = tomlkit.table()
    table.add("tag", point.tag)
    table.add("node", point.node)
    table.add("sampling_ms", _number(point.sampling_ms))
    if point.deadband:
        table.add("deadband", _number(point.deadband))
    if point.unit:
        table.add("unit", point.unit)
    table.add("writable", point.writable)
    table.add(tomlkit.nl())  # a blank line before what follows, as written by hand
    return table


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value
