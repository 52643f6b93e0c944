"""Changes to a project's charger registry made at run time (operator or policy)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from evsuper.project.history import SYSTEM_AUTHOR, ProjectHistory
from evsuper.project.model import ChargerConfig

PROJECT_FILE = "project.toml"


def append_charger(directory: Path, charger: ChargerConfig, author: str = SYSTEM_AUTHOR) -> None:
    """Append a ``[[chargers]]`` entry to ``project.toml`` without rewriting the rest
    (a version of the project history by ``author``; read and written under its lock)."""
    block = (
        "\n[[chargers]]  # registered at run time\n"
        f'id = "{charger.id}"\n'
        f"connectors = {charger.connectors}\n"
        f"max_power_kw = {charger.max_power_kw}\n"
    )
    ProjectHistory(directory).update(
        PROJECT_FILE,
        lambda text: text.rstrip("\n") + "\n" + block,
        author,
        f"charger {charger.id} registered",
    )


def set_password_hash(
    directory: Path, charger_id: str, password_hash: str, author: str = SYSTEM_AUTHOR
) -> None:
    """Set ``password_hash`` of one ``[[chargers]]`` entry; every other byte stays as it was
    (a version of the project history by ``author``; read and written under its lock).

    The line is replaced if present, else added after the entry's ``id = ...`` line.
    """

    def change(text: str) -> str:
        lines = text.splitlines(keepends=True)
        id_line, hash_line = _charger_entry(lines, charger_id)
        if id_line is None:
            raise KeyError(f"no [[chargers]] entry with id = {charger_id!r} in {PROJECT_FILE}")
        ending = "\r\n" if lines[id_line].endswith("\r\n") else "\n"
        entry = f'password_hash = "{password_hash}"{ending}'
        if hash_line is not None:
            lines[hash_line] = entry
        else:
            if not lines[id_line].endswith("\n"):
                lines[id_line] += ending
            lines.insert(id_line + 1, entry)
        return "".join(lines)

    summary = f"password of charger {charger_id} set"
    ProjectHistory(directory).update(PROJECT_FILE, change, author, summary)


def _charger_entry(lines: list[str], charger_id: str) -> tuple[int | None, int | None]:
    """Indexes of the ``id`` and ``password_hash`` lines of the charger's entry."""
    in_chargers = False
    id_line: int | None = None
    hash_line: int | None = None
    for number, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("["):
            if id_line is not None:
                break  # the end of the charger's entry
            in_chargers = re.match(r"^\[\[\s*chargers\s*\]\]", stripped) is not None
            hash_line = None
        elif not in_chargers:
            continue
        elif re.match(r"^id\s*=", stripped) and tomllib.loads(stripped).get("id") == charger_id:
            id_line = number
        elif re.match(r"^password_hash\s*=", stripped):
            hash_line = number
    return id_line, hash_line
