"""Helpers of the OPC UA driver tests: a recorder of published samples, endpoint settings.

(Not a conftest.py: test modules import it by a name no other directory uses.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evsuper.core.tags import Quality, Sample, TagPath
from evsuper.drivers.base import DeviceSettings
from evsuper.drivers.opcua.config import Endpoint, parse_endpoint


@dataclass
class Recorder:
    """Collects ``publish(path, sample)`` calls and wakes waiters on each one."""

    samples: dict[TagPath, list[Sample]] = field(default_factory=dict)
    _event: asyncio.Event = field(default_factory=asyncio.Event)

    def publish(self, path: TagPath, sample: Sample) -> None:
        self.samples.setdefault(path, []).append(sample)
        self._event.set()

    def last(self, path: TagPath) -> Sample | None:
        entries = self.samples.get(path)
        return entries[-1] if entries else None

    def value(self, path: TagPath) -> Any:
        sample = self.last(path)
        return None if sample is None else sample.value

    def quality(self, path: TagPath) -> Quality | None:
        sample = self.last(path)
        return None if sample is None else sample.quality

    def values(self, path: TagPath) -> list[Any]:
        return [s.value for s in self.samples.get(path, [])]

    def qualities(self, path: TagPath) -> list[Quality]:
        return [s.quality for s in self.samples.get(path, [])]

    async def wait_for(self, condition: Callable[[], Any], within_s: float = 10.0) -> None:
        """Return as soon as ``condition()`` holds after a publish; fail after ``within_s``."""
        async with asyncio.timeout(within_s):
            while not condition():
                self._event.clear()
                await self._event.wait()


def endpoint(
    url: str,
    points: list[dict[str, Any]],
    name: str = "bms",
    project_dir: Path = Path("."),
    **options: Any,
) -> Endpoint:
    """An endpoint as a project's ``[[devices]]`` would give it, quick to retry."""
    options = {"reconnect_min_s": 0.05, "reconnect_max_s": 0.2, "watchdog_s": 2.0} | options
    settings = DeviceSettings(name, url, options={**options, "points": points})
    return parse_endpoint(settings, project_dir)
