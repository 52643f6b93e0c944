"""``write_new_project``: a project from the ``minimal`` template, without a ground-plan
layout (tests, scripts)."""

from __future__ import annotations

from pathlib import Path

from evsuper.project.generate import Params, create_project
from evsuper.project.model import AuthorizationMode, Project, UnknownChargerPolicy
from evsuper.project.template import load_template


def write_new_project(
    directory: Path,
    *,
    bollards: int,
    connectors: int = 2,
    id_pattern: str = "CP-{:03d}",
    unknown_chargers: UnknownChargerPolicy = UnknownChargerPolicy.REJECT,
    authorization: AuthorizationMode = AuthorizationMode.BADGES,
    name: str | None = None,
    max_power_kw: float = 22.0,
    badges: int = 20,
    port: int = 9000,
) -> Project:
    """Create ``directory/project.toml`` (and nothing else); refuses to overwrite an existing
    project."""
    site_name = name or directory.resolve().name
    params = Params(
        bollards=bollards,
        site_name=site_name,
        connectors=connectors,
        id_pattern=id_pattern,
        unknown_chargers=unknown_chargers.value,
        authorization=authorization.value,
        power_kw=max_power_kw,
        badges=badges,
        port=port,
    )
    return create_project(directory, load_template("minimal"), params, layout=False)
