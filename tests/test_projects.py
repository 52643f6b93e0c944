"""Every project shipped under projects/ loads and runs headless (house rule 6)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from support import wait_until

from evsuper.core.domain import CommState, ConnectorStatus
from evsuper.engine.runtime import Engine
from evsuper.project.loader import load_project

PROJECTS = sorted((Path(__file__).resolve().parents[1] / "projects").glob("*/project.toml"))


@pytest.mark.parametrize("project_file", PROJECTS, ids=lambda p: p.parent.name)
async def test_shipped_project_runs_headless(project_file: Path, tmp_path: Path) -> None:
    shutil.copy(project_file, tmp_path / "project.toml")  # the archive goes to tmp_path
    project = load_project(tmp_path)
    project = dataclasses.replace(project, ocpp=dataclasses.replace(project.ocpp, port=0))
    engine = Engine(project)
    await engine.start()
    try:
        connectors = [
            f"{c.id}/C{n}/status" for c in project.chargers for n in range(1, c.connectors + 1)
        ]
        await wait_until(
            lambda: all(
                engine.bus.value(f"{c.id}/comm") is CommState.ONLINE for c in project.chargers
            ),
            within=20,
        )
        await wait_until(
            lambda: all(engine.bus.value(t) is not None for t in connectors), within=20
        )
        assert {engine.bus.value(t) for t in connectors} <= set(ConnectorStatus)
    finally:
        await engine.stop()
    assert (tmp_path / "archive.sqlite").exists()


def test_there_is_a_demo_project() -> None:
    assert "demo" in {p.parent.name for p in PROJECTS}
