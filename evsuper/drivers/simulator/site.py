"""The simulated site: one ``SimulatedBollard`` per charger of the project."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from evsuper.drivers.simulator.bollard import SimulatedBollard
from evsuper.project.model import Project, SecurityProfile

log = logging.getLogger(__name__)

CLOSE_GRACE_S = 1.0  # for the closing handshakes, then the sockets are dropped
ABORT_GRACE_S = 0.5


class SimulatedSite:
    def __init__(self, project: Project) -> None:
        self.project = project
        badges_in_use: set[str] = set()
        password = None
        if project.ocpp.security_profile is SecurityProfile.BASIC_AUTH:
            password = project.simulator.password
            if password is None:
                log.warning("no [simulator] password: the simulated bollards will be refused")
        self.bollards: dict[str, SimulatedBollard] = {
            charger.id: SimulatedBollard(
                charger,
                project.simulator,
                project.badges,
                index=i,
                badges_in_use=badges_in_use,
                password=password,
            )
            for i, charger in enumerate(project.chargers)
        }
        self._tasks: dict[str, asyncio.Task[None]] = {}

    async def start(self, url_for: Callable[[str], str]) -> None:
        """Start every bollard; returns at once, the bollards connect on their own."""
        if self._tasks:
            raise RuntimeError("the simulated site is already running")
        self._tasks = {
            charger_id: asyncio.create_task(
                bollard.run(url_for(charger_id)), name=f"sim:{charger_id}"
            )
            for charger_id, bollard in self.bollards.items()
        }

    async def stop(self) -> None:
        """Cancel the bollards: their sockets close with a closing handshake, or are dropped
        if the central system is too busy to answer within ``CLOSE_GRACE_S``."""
        tasks, self._tasks = self._tasks, {}
        if not tasks:
            return
        for task in tasks.values():
            task.cancel()
        _, pending = await asyncio.wait(tasks.values(), timeout=CLOSE_GRACE_S)
        if pending:
            for charger_id, task in tasks.items():
                if task in pending:
                    self.bollards[charger_id].abort()
            _, pending = await asyncio.wait(pending, timeout=ABORT_GRACE_S)
            if pending:
                log.warning("%d simulated bollards did not stop in time", len(pending))
        for task in tasks.values():
            if task.done() and not task.cancelled() and (exc := task.exception()) is not None:
                log.error("simulated bollard %s failed", task.get_name(), exc_info=exc)
