"""Helpers of the Modbus driver tests: a recorder of published samples, a free port."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from evsuper.core.tags import Quality, Sample, TagPath


@dataclass
class Recorder:
    """Collects ``publish(path, sample)`` calls with the loop time they came at."""

    samples: dict[TagPath, list[tuple[float, Sample]]] = field(default_factory=dict)
    _event: asyncio.Event = field(default_factory=asyncio.Event)

    def publish(self, path: TagPath, sample: Sample) -> None:
        now = asyncio.get_running_loop().time()
        self.samples.setdefault(path, []).append((now, sample))
        self._event.set()

    def last(self, path: TagPath) -> Sample | None:
        entries = self.samples.get(path)
        return entries[-1][1] if entries else None

    def value(self, path: TagPath) -> Any:
        sample = self.last(path)
        return None if sample is None else sample.value

    def quality(self, path: TagPath) -> Quality | None:
        sample = self.last(path)
        return None if sample is None else sample.quality

    def good(self, path: TagPath) -> bool:
        sample = self.last(path)
        return sample is not None and sample.quality is Quality.GOOD

    async def wait_for(self, condition: Callable[[], bool], within_s: float = 10.0) -> None:
        """Return as soon as ``condition()`` holds after a publish; fail after ``within_s``."""
        async with asyncio.timeout(within_s):
            while not condition():
                self._event.clear()
                await self._event.wait()


def free_port() -> int:
    """A loopback port nobody listens on (for now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
