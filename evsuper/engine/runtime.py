"""The engine: bus, archive, drivers and command router on one asyncio loop.

``Engine`` runs on whatever loop awaits it (``evsuper serve`` runs it on the main
thread); ``EngineThread`` gives it a thread of its own for the HMI, so that nothing the
GUI does can stall heartbeats, transactions or the archive.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from evsuper.alarms.engine import AlarmEngine
from evsuper.alarms.notify import Notifier
from evsuper.charging.service import ChargingService
from evsuper.core.bus import TagBus
from evsuper.core.tags import Sample, SystemTag, system_tag
from evsuper.core.tariffs import Pricing
from evsuper.drivers.base import DriverContext
from evsuper.drivers.manager import DriverManager, for_simulation
from evsuper.drivers.ocpp.central import CentralSystem
from evsuper.drivers.simulator.site import SimulatedSite
from evsuper.engine.commands import CommandRouter
from evsuper.engine.control import ControlServer
from evsuper.engine.device_points_target import DevicePointsTarget
from evsuper.engine.files import FileServer
from evsuper.engine.layout_target import LayoutTarget
from evsuper.engine.opcua_server import OpcUaServer
from evsuper.engine.planning_target import PlanningTarget
from evsuper.engine.profile_library_target import ProfileLibraryTarget
from evsuper.engine.project_history import ProjectHistoryTarget
from evsuper.historian.archive import Archive
from evsuper.project.history import ProjectHistory
from evsuper.project.model import Project
from evsuper.reports.schedule import DailyReportService
from evsuper.users.store import Authenticator, UserStore, create_initial_users

log = logging.getLogger(__name__)
T = TypeVar("T")


class Engine:
    def __init__(
        self,
        project: Project,
        *,
        run_simulator: bool | None = None,
        ocpp_host: str | None = None,
        ocpp_port: int | None = None,
    ) -> None:
        self.project = project
        self.bus = TagBus()
        self.archive = Archive(
            project.archive_url(),
            self.bus,
            spool_file=project.directory / ".evsuper" / "spool.jsonl",
            retention_days=project.archive.retention_days,
            recording=project.archive.recording,
            pricing=Pricing.for_project(project),
        )
        self.router = CommandRouter(audit=self.archive.audit)
        self.users = UserStore(self.archive.engine)
        self.authenticator = Authenticator(self.users)
        self.central = CentralSystem(
            project,
            self.bus,
            self.archive,
            host=ocpp_host if ocpp_host is not None else project.ocpp.host,
            port=ocpp_port if ocpp_port is not None else project.ocpp.port,
        )
        self.notifier = Notifier.for_project(project, self.bus)
        self.alarms = AlarmEngine(project, self.bus, self.archive, self.notifier)
        self.reports = DailyReportService.for_project(project, self.archive.engine, self.bus)
        self.router.add_target(self.alarms)
        # smart charging (docs/smart_charging.md): before the central system, which would
        # otherwise take SetManualLimit as a command for its charger
        # planned sessions (planning tool) give running sessions their energy and departure
        self.planning = PlanningTarget(project)
        self.charging = ChargingService(
            project, self.bus, self.router.execute, self.archive, plans=self.planning.sessions
        )
        self.router.add_target(self.charging)
        # planned sessions: before the central system too (PlanSession)
        self.router.add_target(self.planning)
        self.router.add_target(DevicePointsTarget(project.directory))  # BindOpcUaPoints
        self.router.add_target(self.central)
        self.router.add_target(ProjectHistoryTarget(ProjectHistory(project.directory)))
        self.router.add_target(LayoutTarget(project))
        self.profile_library = ProfileLibraryTarget(project.directory)  # profile templates
        self.router.add_target(self.profile_library)
        self.control = ControlServer(self.router, project.directory)
        self.files = FileServer(project.directory, self.central.host, project.ocpp.file_port)
        simulate = project.simulator.enabled if run_simulator is None else run_simulator
        self.simulator: SimulatedSite | None = SimulatedSite(project) if simulate else None
        # evsuper as an OPC UA server for other systems (docs/opcua_server.md)
        self.opcua_server = OpcUaServer(self) if project.opcua_server.enabled else None
        # [[devices]]: Modbus, OPC UA, sim:// ... (evsuper/drivers/manager.py)
        devices = for_simulation(project.driver_devices(), simulate)
        self.drivers = DriverManager(devices, DriverContext(self.bus.publish, project.directory))
        self.router.add_target(self.drivers)

    async def start(self) -> None:
        await self.archive.start()
        await asyncio.to_thread(create_initial_users, self.project, self.users)
        await self.notifier.start()
        await self.alarms.start()
        await self.reports.start()
        await self.central.start()
        if self.opcua_server is not None:
            await self.opcua_server.start()
        await self.drivers.start()
        await self.charging.start()
        await self.control.start()
        self.files.start()
        self.bus.publish(system_tag(SystemTag.FILES_URL), Sample(self.files.url("")))
        if self.simulator is not None:
            await self.simulator.start(self.central.url_for)
        log.info(
            "engine started: project %r, %d chargers, OCPP on %s, archive %s",
            self.project.name,
            len(self.project.chargers),
            self.central.endpoint,
            self.archive.describe(),
        )

    async def stop(self) -> None:
        """Stop drivers first, then flush the archive: nothing received is lost."""
        await self.charging.stop()
        await self.drivers.stop()
        if self.simulator is not None:
            await self.simulator.stop()
        if self.opcua_server is not None:
            await self.opcua_server.stop()
        await self.control.stop()
        await asyncio.to_thread(self.files.stop)
        await self.central.stop()
        await self.reports.stop()
        await self.alarms.stop()
        await self.notifier.stop()
        await self.archive.stop()
        log.info("engine stopped")


class EngineThread:
    """Runs an ``Engine`` on its own thread and loop; the seam the HMI bridge uses."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="evsuper-engine", daemon=True)
        self._started = concurrent.futures.Future[None]()
        self._stop_requested: asyncio.Event | None = None

    def start(self, timeout: float = 30.0) -> None:
        """Start the thread; returns once the engine runs, raises what made it fail."""
        self._thread.start()
        self._started.result(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        if not self._thread.is_alive():
            return
        stop_requested = self._stop_requested
        if stop_requested is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed on its own meanwhile
                self.loop.call_soon_threadsafe(stop_requested.set)
        self._thread.join(timeout)

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run a coroutine on the engine loop from any thread."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, fn: Callable[[], T], timeout: float = 10.0) -> T:
        """Run a plain function on the engine thread and wait for its result."""

        async def run() -> T:
            return fn()

        return self.submit(run()).result(timeout)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._main())
        finally:
            self.loop.close()

    async def _main(self) -> None:
        self._stop_requested = asyncio.Event()
        try:
            await self.engine.start()
        except BaseException as exc:
            await self.engine.stop()  # release what did start (archive writer, sockets)
            self._started.set_exception(exc)
            return
        self._started.set_result(None)
        await self._stop_requested.wait()
        await self.engine.stop()
