"""Helpers for tests (importable as ``support`` thanks to pytest's pythonpath)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from evsuper.engine.commands import Command, CommandResult, CommandRouter
from evsuper.project.model import SimulatorSettings
from evsuper.users.permissions import Actor, Origin, Role

C = TypeVar("C", bound=Command)


async def wait_until(condition: Callable[[], Any], within: float = 10.0) -> Any:
    """Wait until ``condition()`` is truthy and return its value; fail after ``within`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not (value := condition()):
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within} s: {condition}")
        await asyncio.sleep(0.01)
    return value


# A user who may do everything; tests of what commands do act as one, having confirmed.
ADMIN = Actor("test-admin", Role.ADMIN, Origin.HMI)


def as_admin(command: C) -> C:
    return replace(command, actor=ADMIN, confirmed=True)


async def execute_as_admin(router: CommandRouter, command: Command) -> CommandResult:
    return await router.execute(as_admin(command))


# Fast, deterministic simulated bollards: sessions start only when asked to.
TEST_SIMULATOR = SimulatorSettings(
    enabled=True, autonomous=False, seed=7, meter_interval_s=0.2, time_scale=60.0
)
