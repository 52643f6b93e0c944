"""The simulated site: one ``SimulatedBollard`` per charger of the project."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable

from evsuper.drivers.simulator.bollard import SimulatedBollard
from evsuper.project.model import ChargerProtocol, Project, SecurityProfile

log = logging.getLogger(__name__)

CLOSE_GRACE_S = 1.0  # for the closing handshakes, then the sockets are dropped
ABORT_GRACE_S = 0.5


class SimulatedSite:
    def __init__(self, project: Project) -> None:
        self.project = project
        badges_in_use: set[str] = set()
        password = None
        profile = project.ocpp.security_profile
        if profile.basic_auth:
            password = project.simulator.password
            if password is None:
                log.warning("no [simulator] password: the simulated bollards will be refused")
        if profile is SecurityProfile.TLS_CLIENT_CERT and project.simulator.tls_client_dir is None:
            log.warning("no [simulator] tls_client_dir: the simulated bollards will be refused")
        self.bollards: dict[str, SimulatedBollard] = {
            charger.id: SimulatedBollard(
                charger,
                project.simulator,
                project.badges,
                index=i,
                badges_in_use=badges_in_use,
                password=password,
                tls=_tls_context(project, charger.id),
            )
            for i, charger in enumerate(project.chargers)
            if charger.protocol is ChargerProtocol.OCPP  # Modbus ones: the Modbus simulator
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


def _tls_context(project: Project, charger_id: str) -> ssl.SSLContext | None:
    """A bollard's TLS client context under security profiles 2 and 3, else None: it trusts
    ``[simulator] tls_ca`` (else the system's CAs) and, under profile 3, presents
    ``<tls_client_dir>/<charger id>.pem`` with its ``.key``."""
    profile = project.ocpp.security_profile
    if not profile.tls:
        return None
    settings = project.simulator
    ca = project.path(settings.tls_ca) if settings.tls_ca is not None else None
    context = ssl.create_default_context(cafile=ca)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if profile is SecurityProfile.TLS_CLIENT_CERT and settings.tls_client_dir is not None:
        folder = project.path(settings.tls_client_dir)
        certificate, key = folder / f"{charger_id}.pem", folder / f"{charger_id}.key"
        if certificate.is_file() and key.is_file():
            context.load_cert_chain(certificate, key)
        else:
            log.warning("%s: no %s and %s: it will be refused", charger_id, certificate, key)
    return context
