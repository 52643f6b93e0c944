"""Shared fixtures: projects written to a temporary folder, condition waits."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support import TEST_SIMULATOR

from evsuper.project.model import (
    AuthorizationMode,
    Project,
    SimulatorSettings,
    UnknownChargerPolicy,
)
from evsuper.project.new import write_new_project

pytest_plugins = ["databases"]

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


ProjectFactory = Callable[..., Project]


@pytest.fixture
def make_project(tmp_path: Path) -> ProjectFactory:
    """Write a project for N bollards into tmp_path and return it, with settings overridden."""

    def make(
        bollards: int = 2,
        *,
        connectors: int = 2,
        unknown_chargers: UnknownChargerPolicy = UnknownChargerPolicy.REJECT,
        authorization: AuthorizationMode = AuthorizationMode.OPEN,
        simulator: SimulatorSettings = TEST_SIMULATOR,
        **ocpp: Any,
    ) -> Project:
        project = write_new_project(
            tmp_path / "site",
            bollards=bollards,
            connectors=connectors,
            unknown_chargers=unknown_chargers,
            authorization=authorization,
            badges=3,
        )
        return dataclasses.replace(
            project,
            ocpp=dataclasses.replace(project.ocpp, port=0, **ocpp),
            simulator=simulator,
        )

    return make
