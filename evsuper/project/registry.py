"""Changes to a project's charger registry made at run time (operator or policy)."""

from __future__ import annotations

from pathlib import Path

from evsuper.project.model import ChargerConfig


def append_charger(directory: Path, charger: ChargerConfig) -> None:
    """Append a ``[[chargers]]`` entry to ``project.toml`` without rewriting the rest."""
    file = directory / "project.toml"
    text = file.read_text(encoding="utf-8")
    block = (
        "\n[[chargers]]  # registered at run time\n"
        f'id = "{charger.id}"\n'
        f"connectors = {charger.connectors}\n"
        f"max_power_kw = {charger.max_power_kw}\n"
    )
    file.write_text(text.rstrip("\n") + "\n" + block, encoding="utf-8")
