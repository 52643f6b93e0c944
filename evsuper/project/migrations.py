"""Upward compatibility: ordered migrations of ``project.toml`` from older format versions.

Each migration takes the document of one version to the next (comments and layout kept:
tomlkit) and says what it changed. ``upgrade_file`` runs them all, keeps the original as
``.evsuper/backups/project.v<N>.<time>.toml`` with a note of the changes next to it, and
saves the upgraded file as a version of the project history (the original is the version
before it). A project folder that cannot be written is upgraded in memory
only (logged).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import tomlkit
from tomlkit import TOMLDocument

from evsuper.project.history import save_project_files

log = logging.getLogger(__name__)

Migration = Callable[[TOMLDocument], list[str]]

DEFAULT_SITE = "SITE"
DEFAULT_AREA = "AREA"


def _sites_and_areas(document: TOMLDocument) -> list[str]:
    """Format 2 groups bollards by site and area: one site and one area for everything."""
    name = str(document.get("name", "")) or "Site"
    sites = tomlkit.aot()
    sites.append(tomlkit.table().add("id", DEFAULT_SITE).add("name", name))
    areas = tomlkit.aot()
    area = tomlkit.table().add("id", DEFAULT_AREA).add("site", DEFAULT_SITE)
    areas.append(area.add("name", "All bollards"))
    document.add("sites", sites)
    document.add("areas", areas)
    chargers = document.get("chargers", [])
    for charger in chargers:
        charger["area"] = DEFAULT_AREA
    return [
        f"added site {DEFAULT_SITE!r} ({name}) and area {DEFAULT_AREA!r} holding every bollard",
        f"set area = {DEFAULT_AREA!r} on {len(chargers)} [[chargers]] entries",
    ]


# from version → the migration to the next one, in order
MIGRATIONS: dict[int, Migration] = {1: _sites_and_areas}


def upgrade_text(text: str, version: int) -> tuple[str, list[str]]:
    """``text`` of format ``version`` brought to the current format, and what changed."""
    document = tomlkit.parse(text)
    notes: list[str] = []
    while version in MIGRATIONS:
        notes += [
            f"format {version} → {version + 1}: {note}" for note in MIGRATIONS[version](document)
        ]
        version += 1
        document["format_version"] = version
    return tomlkit.dumps(document), notes


def upgrade_file(file: Path, text: str, version: int) -> str:
    """Upgrade ``file`` (whose content is ``text``) on disk, keeping the original; returns
    the upgraded text."""
    upgraded, notes = upgrade_text(text, version)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    backups = file.parent / ".evsuper" / "backups"
    backup = backups / f"project.v{version}.{stamp}.toml"
    try:
        backups.mkdir(parents=True, exist_ok=True)
        backup.write_text(text, encoding="utf-8")
        backup.with_suffix(".notes.txt").write_text("\n".join(notes) + "\n", encoding="utf-8")
        summary = f"upgraded from format {version}: " + "; ".join(notes)
        save_project_files(file.parent, {file.name: upgraded}, "evsuper", summary)
    except OSError as exc:
        log.warning("%s upgraded in memory only (%s): %s", file, exc, "; ".join(notes))
        return upgraded
    log.warning(
        "%s upgraded from format %d (original kept as %s): %s",
        file,
        version,
        backup,
        "; ".join(notes),
    )
    return upgraded
