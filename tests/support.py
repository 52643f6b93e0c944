"""Helpers for tests (importable as ``support`` thanks to pytest's pythonpath)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


async def wait_until(condition: Callable[[], Any], within: float = 10.0) -> Any:
    """Wait until ``condition()`` is truthy and return its value; fail after ``within`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not (value := condition()):
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within} s: {condition}")
        await asyncio.sleep(0.01)
    return value
