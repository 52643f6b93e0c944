"""OCPP 1.6J load benchmark: N simulated charge points against a real ``evsuper serve``.

Writes a throw-away project with ``evsuper new``, runs the engine headless in a
subprocess on loopback, connects N charge points in a ramp (boot, status, authorize,
one transaction per connector), then lets them send MeterValues every interval and a
Heartbeat every minute. Figures are taken over a steady-state window that opens once
every charge point is charging: round trips answered per second, latency, errors, the
engine's CPU and memory, this process's own CPU (a saturated client invalidates the
figures) and, after a clean SIGINT stop, whether every sampled value reached the archive.

With ``--storm`` a reconnect storm follows the window: every charge point drops its
connection at once (aborted, or closed cleanly with ``--storm clean``), all reconnect
at once, boot, report Charging and resume MeterValues on their open transactions, then
stop them; the archive is then checked transaction by transaction.

    .venv/bin/python bench/ocpp_load.py --chargers 1000 --duration 60
    .venv/bin/python bench/ocpp_load.py --chargers 1000 --duration 30 --storm

It prints figures; it does not pass or fail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import psutil
from ocpp.exceptions import OCPPError
from ocpp.v16 import ChargePoint, call
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus, Reason, RegistrationStatus
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Subprotocol

REPO = Path(__file__).resolve().parents[1]
SUBPROTOCOL = Subprotocol("ocpp1.6")
HOST = "127.0.0.1"
HEARTBEAT_S = 60.0
CALL_TIMEOUT_S = 30.0
LISTEN_TRIES = 600  # x LISTEN_POLL_S: how long the engine may take to listen
LISTEN_POLL_S = 0.1
STOP_TIMEOUT_S = 180.0
SATURATED_PCT = 90.0  # of one core: above this the bench client is the bottleneck
LOG_EXCERPT_LINES = 8
STORM_OFFLINE_TIMEOUT_S = 60.0  # how long to wait for the engine to log every drop
STORM_POLL_S = 0.02
DISCONNECTED = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) .*?: (CP-\d+): disconnected \((.*)\)$"
)


@dataclass(frozen=True, slots=True)
class Options:
    chargers: int
    duration: float
    meter_interval: float
    connectors: int
    ramp: float
    port: int
    keep: bool
    json: bool
    storm: str | None  # "abort" or "clean": how the connections are dropped; None: no storm
    storm_window: float

    @property
    def id_pattern(self) -> str:
        return "CP-{:04d}" if self.chargers >= 1000 else "CP-{:03d}"


@dataclass(slots=True)
class Record:
    """What the charge points saw: answered round trips and failures, with times."""

    answered: list[tuple[str, float, float]] = field(default_factory=list)  # action, end, s
    failures: list[tuple[str, float, str]] = field(default_factory=list)  # action, at, kind
    rows_sent: int = 0
    rows_answered: int = 0
    started: list[int] = field(default_factory=list)  # transaction ids the engine gave
    meter_stops: dict[int, int] = field(default_factory=dict)  # transaction id: meterStop sent
    reconnects: list[float] = field(default_factory=list)  # storm WebSocket handshakes, s


@dataclass(slots=True)
class Fleet:
    """State shared by the simulated charge points."""

    opts: Options
    waiting: int
    record: Record = field(default_factory=Record)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    settled: asyncio.Event = field(default_factory=asyncio.Event)
    ready: int = 0
    stuck: int = 0  # still busy when stopping, cancelled
    drop: asyncio.Event = field(default_factory=asyncio.Event)  # storm: close the connections
    reconnect: asyncio.Event = field(default_factory=asyncio.Event)  # storm: connect again
    rebooted: asyncio.Event = field(default_factory=asyncio.Event)  # every dropped one booted
    dropped: int = 0
    rebooting: int = 0  # dropped charge points still to boot again (accepted or not)
    reboot_times: list[float] = field(default_factory=list)  # when each boot was Accepted

    def settle(self, ready: bool) -> None:
        """One charge point finished its setup, charging (ready) or not."""
        self.ready += ready
        self.waiting -= 1
        if self.waiting == 0:
            self.settled.set()

    def reboot(self, accepted: bool) -> None:
        """One dropped charge point finished booting again, Accepted or not."""
        if accepted:
            self.reboot_times.append(time.perf_counter())
        self.rebooting -= 1
        if self.rebooting == 0:
            self.rebooted.set()


class SimulatedCharger:
    """One charge point: boot, a transaction per connector, meter values until told to stop."""

    def __init__(self, index: int, fleet: Fleet) -> None:
        self.id = fleet.opts.id_pattern.format(index)
        self.fleet = fleet
        self.id_tag = f"BENCH{index:05d}"
        self.energy_wh = {c: random.uniform(1e5, 5e6) for c in range(1, fleet.opts.connectors + 1)}
        self.soc = random.uniform(10.0, 60.0)
        self.transactions: dict[int, int] = {}
        self._settled = False
        self._rebooted = False

    async def run(self, delay: float) -> None:
        await asyncio.sleep(delay)
        fleet = self.fleet
        try:
            dropped = await self._connection(self._start, fleet.drop if fleet.opts.storm else None)
        finally:
            self._settle(False)
        if dropped:
            try:
                await fleet.reconnect.wait()
                await self._connection(self._rejoin, None)
            finally:
                self._reboot(False)

    async def _connection(
        self, begin: Callable[[ChargePoint], Awaitable[bool]], drop: asyncio.Event | None
    ) -> bool:
        """Connect, ``begin``, meter values until ``drop`` (then drop, True) or the stop."""
        url = f"ws://{HOST}:{self.fleet.opts.port}/ocpp/{self.id}"
        opened = time.perf_counter()
        try:
            async with connect(
                url, subprotocols=[SUBPROTOCOL], compression=None, open_timeout=CALL_TIMEOUT_S
            ) as ws:
                if self.fleet.opts.storm and drop is None:  # the storm's reconnection
                    self.fleet.record.reconnects.append(time.perf_counter() - opened)
                cp = ChargePoint(self.id, ws, response_timeout=CALL_TIMEOUT_S)
                reader = asyncio.create_task(cp.start())
                try:
                    if await begin(cp):
                        await self._meter_loop(cp, drop or self.fleet.stop)
                        if drop is not None:
                            await self._drop(ws)
                            return True
                        await self._finish(cp)
                finally:
                    reader.cancel()
                    with suppress(asyncio.CancelledError, ConnectionClosed):
                        await reader
        except ConnectionClosed as exc:
            self._fail("connection", f"closed: {exc}")
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            self._fail("connect", f"{type(exc).__name__}: {exc}")
        return False

    async def _start(self, cp: ChargePoint) -> bool:
        ready = await self._setup(cp)
        self._settle(ready)
        return ready

    async def _drop(self, ws: ClientConnection) -> None:
        """Storm: abort the TCP connection (the engine sees a dead peer) or close it cleanly."""
        self.fleet.dropped += 1
        if self.fleet.opts.storm == "abort":
            ws.transport.abort()
        else:
            await ws.close()

    async def _rejoin(self, cp: ChargePoint) -> bool:
        """Storm: boot again and report Charging on the connectors of the open transactions."""
        boot = await self._boot(cp)
        accepted = boot is not None and boot.status == RegistrationStatus.accepted
        self._reboot(accepted)
        if not accepted:
            self._fail("BootNotification", f"not accepted: {boot}")
            return False
        for connector in self.transactions:
            await self._status(cp, connector, ChargePointStatus.charging)
        return True

    def _settle(self, ready: bool) -> None:
        if not self._settled:
            self._settled = True
            self.fleet.settle(ready)

    def _reboot(self, accepted: bool) -> None:
        if not self._rebooted:
            self._rebooted = True
            self.fleet.reboot(accepted)

    def _fail(self, action: str, kind: str) -> None:
        self.fleet.record.failures.append((action, time.perf_counter(), kind))

    async def _call(self, cp: ChargePoint, payload: Any) -> Any | None:
        """One timed round trip; None when it failed (recorded). ConnectionClosed escapes."""
        action = type(payload).__name__
        start = time.perf_counter()
        try:
            response = await cp.call(payload, suppress=False, skip_schema_validation=True)
        except TimeoutError:
            self._fail(action, "timeout")
            return None
        except OCPPError as error:
            self._fail(action, f"CALLERROR {error.code}")
            return None
        end = time.perf_counter()
        self.fleet.record.answered.append((action, end, end - start))
        return response

    async def _boot(self, cp: ChargePoint) -> Any | None:
        return await self._call(
            cp,
            call.BootNotification(
                charge_point_vendor="evsuper-bench",
                charge_point_model="LoadGen",
                charge_point_serial_number=f"SN-{self.id}",
                firmware_version="1.0.0",
            ),
        )

    async def _setup(self, cp: ChargePoint) -> bool:
        boot = await self._boot(cp)
        if boot is None or boot.status != RegistrationStatus.accepted:
            self._fail("BootNotification", f"not accepted: {boot}")
            return False
        for connector in self.energy_wh:
            await self._status(cp, connector, ChargePointStatus.available)
        if await self._call(cp, call.Authorize(id_tag=self.id_tag)) is None:
            return False
        for connector, energy in self.energy_wh.items():
            started = await self._call(
                cp,
                call.StartTransaction(
                    connector_id=connector,
                    id_tag=self.id_tag,
                    meter_start=round(energy),
                    timestamp=_now(),
                ),
            )
            if started is not None:
                self.transactions[connector] = started.transaction_id
                self.fleet.record.started.append(started.transaction_id)
                await self._status(cp, connector, ChargePointStatus.charging)
        return bool(self.transactions)

    async def _status(self, cp: ChargePoint, connector: int, status: ChargePointStatus) -> None:
        await self._call(
            cp,
            call.StatusNotification(
                connector_id=connector,
                error_code=ChargePointErrorCode.no_error,
                status=status,
                timestamp=_now(),
            ),
        )

    async def _meter_loop(self, cp: ChargePoint, until: asyncio.Event) -> None:
        """MeterValues per connector each interval (first one jittered), Heartbeat each minute."""
        interval = self.fleet.opts.meter_interval
        record = self.fleet.record
        clock = asyncio.get_running_loop().time
        next_at = clock() + random.uniform(0.0, interval)
        heartbeat_at = clock() + random.uniform(0.0, HEARTBEAT_S)
        while not await _wait(until, next_at - clock()):
            for connector, transaction_id in self.transactions.items():
                payload = self._meter_values(connector, transaction_id)
                rows = len(payload.meter_value[0]["sampled_value"])
                record.rows_sent += rows
                if await self._call(cp, payload) is not None:
                    record.rows_answered += rows
            if clock() >= heartbeat_at:
                await self._call(cp, call.Heartbeat())
                heartbeat_at += HEARTBEAT_S
            next_at = max(next_at + interval, clock())

    def _meter_values(self, connector: int, transaction_id: int) -> call.MeterValues:
        """A three-phase 11 kW charge: register, power, currents, voltages, SoC."""
        power_w = random.uniform(10_700.0, 11_300.0)
        energy = self.energy_wh[connector] = (
            self.energy_wh[connector] + power_w * self.fleet.opts.meter_interval / 3600.0
        )
        self.soc = min(100.0, self.soc + power_w * self.fleet.opts.meter_interval / 3600.0 / 600.0)
        amps = power_w / (3 * 230.0)
        phases = ("L1", "L2", "L3")
        sampled = [
            _sampled(f"{energy:.0f}", "Energy.Active.Import.Register", "Wh"),
            _sampled(f"{power_w:.0f}", "Power.Active.Import", "W"),
            *(
                _sampled(f"{amps + random.uniform(-0.3, 0.3):.1f}", "Current.Import", "A", p)
                for p in phases
            ),
            *(
                _sampled(f"{random.uniform(226.0, 234.0):.1f}", "Voltage", "V", f"{p}-N")
                for p in phases
            ),
            _sampled(f"{self.soc:.0f}", "SoC", "Percent", location="EV"),
        ]
        return call.MeterValues(
            connector_id=connector,
            transaction_id=transaction_id,
            meter_value=[{"timestamp": _now(), "sampled_value": sampled}],
        )

    async def _finish(self, cp: ChargePoint) -> None:
        for connector, transaction_id in self.transactions.items():
            meter_stop = round(self.energy_wh[connector])
            self.fleet.record.meter_stops[transaction_id] = meter_stop
            await self._call(
                cp,
                call.StopTransaction(
                    meter_stop=meter_stop,
                    timestamp=_now(),
                    transaction_id=transaction_id,
                    reason=Reason.local,
                    id_tag=self.id_tag,
                ),
            )


def _sampled(
    value: str, measurand: str, unit: str, phase: str | None = None, location: str = "Outlet"
) -> dict[str, str]:
    sampled = {
        "value": value,
        "context": "Sample.Periodic",
        "format": "Raw",
        "measurand": measurand,
        "location": location,
        "unit": unit,
    }
    if phase is not None:
        sampled["phase"] = phase
    return sampled


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def _wait(event: asyncio.Event, delay: float) -> bool:
    """Wait up to ``delay`` seconds for ``event``; True if it is set."""
    if delay > 0:
        with suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await event.wait()
    return event.is_set()


@dataclass(slots=True)
class Sampler:
    """Once a second: the engine's RSS and how late this process's event loop wakes up."""

    engine: psutil.Process
    samples: list[tuple[float, int, float]] = field(default_factory=list)  # at, rss, lag

    async def run(self) -> None:
        clock = asyncio.get_running_loop().time
        while True:
            before = clock()
            await asyncio.sleep(1.0)
            lag = clock() - before - 1.0
            try:
                rss = self.engine.memory_info().rss
            except psutil.NoSuchProcess:
                return
            self.samples.append((time.perf_counter(), rss, lag))


@dataclass(slots=True)
class Window:
    """CPU snapshots and times bracketing the measurement window."""

    start: float
    end: float
    engine_cpu_s: float
    engine_loop_cpu_s: float  # the main thread, which runs the engine's asyncio loop
    bench_cpu_s: float
    machine_cpu_pct: float
    engine_rss: int


@dataclass(slots=True)
class Storm:
    """Times of the reconnect storm, and the engine's "disconnected" log lines after the drop."""

    drop_at: float
    dropped: int = 0
    offline: dict[str, float] = field(default_factory=dict)  # charger id: s after the drop
    reasons: Counter[str] = field(default_factory=Counter)
    reconnect_at: float = math.nan
    end: float = math.nan


async def storm(opts: Options, fleet: Fleet, log_path: Path) -> Storm:
    """Drop every connection at once, wait until the engine logged them, reconnect all at once."""
    offset = (await asyncio.to_thread(log_path.stat)).st_size
    drop_wall = time.time()
    result = Storm(drop_at=time.perf_counter())
    fleet.drop.set()
    _progress(f"storm: dropping every connection ({opts.storm})")
    while time.perf_counter() - result.drop_at < STORM_OFFLINE_TIMEOUT_S:
        await asyncio.sleep(STORM_POLL_S)
        lines, offset = read_disconnected(log_path, offset)
        for charger_id, at, reason in lines:
            result.offline.setdefault(charger_id, at - drop_wall)
            result.reasons[reason] += 1
        if len(result.offline) >= fleet.ready:
            break
    result.dropped = fleet.rebooting = fleet.dropped
    _progress(
        f"storm: engine saw {len(result.offline)} of {result.dropped} dropped offline; "
        "reconnecting all at once"
    )
    result.reconnect_at = time.perf_counter()
    fleet.reconnect.set()
    if fleet.rebooting:
        with suppress(TimeoutError):
            async with asyncio.timeout(3 * CALL_TIMEOUT_S):
                await fleet.rebooted.wait()
    _progress(f"storm: {len(fleet.reboot_times)} re-booted; {opts.storm_window:g} s of MeterValues")
    await asyncio.sleep(opts.storm_window)
    result.end = time.perf_counter()
    return result


def read_disconnected(log_path: Path, offset: int) -> tuple[list[tuple[str, float, str]], int]:
    """Engine log lines "CP-x: disconnected (reason)" from ``offset``: (id, epoch s, reason)."""
    with log_path.open("rb") as log:
        log.seek(offset)
        data = log.read()
    complete = data[: data.rfind(b"\n") + 1]
    found = []
    for line in complete.decode(errors="replace").splitlines():
        if match := DISCONNECTED.match(line):
            at = datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S,%f").timestamp()  # local time
            found.append((match[2], at, match[3]))
    return found, offset + len(complete)


async def drive(
    opts: Options, engine: psutil.Process, log_path: Path
) -> tuple[Fleet, Sampler, Window, float, Storm | None]:
    """Ramp up, measure the window, run the storm if asked, stop; also returns the ramp time."""
    fleet = Fleet(opts, waiting=opts.chargers)
    sampler = Sampler(engine)
    sampling = asyncio.create_task(sampler.run())
    me = psutil.Process()
    ramp_start = time.perf_counter()
    tasks = [
        asyncio.create_task(SimulatedCharger(i, fleet).run(opts.ramp * (i - 1) / opts.chargers))
        for i in range(1, opts.chargers + 1)
    ]
    _progress(f"connecting {opts.chargers} charge points over {opts.ramp:g} s")
    with suppress(TimeoutError):
        async with asyncio.timeout(opts.ramp + 3 * CALL_TIMEOUT_S):
            await fleet.settled.wait()
    ramp_s = time.perf_counter() - ramp_start
    _progress(f"{fleet.ready} charging after {ramp_s:.1f} s; measuring {opts.duration:.0f} s")
    engine_cpu, loop_cpu, bench_cpu = _cpu_s(engine), _main_thread_cpu_s(engine), _cpu_s(me)
    psutil.cpu_percent()
    start = time.perf_counter()
    await asyncio.sleep(opts.duration)
    end = time.perf_counter()
    window = Window(
        start=start,
        end=end,
        engine_cpu_s=_cpu_s(engine) - engine_cpu,
        engine_loop_cpu_s=_main_thread_cpu_s(engine) - loop_cpu,
        bench_cpu_s=_cpu_s(me) - bench_cpu,
        machine_cpu_pct=psutil.cpu_percent(),
        engine_rss=engine.memory_info().rss,
    )
    stormed = await storm(opts, fleet, log_path) if opts.storm else None
    _progress("stopping the charge points (StopTransaction)")
    fleet.stop.set()
    _, pending = await asyncio.wait(tasks, timeout=opts.meter_interval + 3 * CALL_TIMEOUT_S)
    for task in pending:
        task.cancel()
    fleet.stuck = len(pending)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    bugs = [r for r in results if isinstance(r, Exception)]
    if bugs:
        raise bugs[0]
    sampling.cancel()
    with suppress(asyncio.CancelledError):
        await sampling
    return fleet, sampler, window, ramp_s, stormed


def _cpu_s(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def _main_thread_cpu_s(process: psutil.Process) -> float:
    """CPU seconds of the thread whose id is the process id (nan where not reported)."""
    for thread in process.threads():
        if thread.id == process.pid:
            return float(thread.user_time + thread.system_time)
    return math.nan


# ---- the engine subprocess ----


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def evsuper(*args: str) -> list[str]:
    return [sys.executable, "-m", "evsuper", *args]


def new_project(opts: Options, directory: Path) -> None:
    subprocess.run(
        evsuper(
            "new",
            str(directory),
            "--bollards",
            str(opts.chargers),
            "--connectors",
            str(opts.connectors),
            "--id-pattern",
            opts.id_pattern,
            "--authorization",
            "open",
            "--ocpp-port",
            str(opts.port),
        ),
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=120,
    )


def start_engine(opts: Options, project: Path, log_file: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        evsuper(
            "serve",
            str(project),
            "--no-simulator",
            "--ocpp-host",
            HOST,
            "--ocpp-port",
            str(opts.port),
        ),
        cwd=REPO,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )


def wait_listening(server: subprocess.Popen[bytes], port: int) -> None:
    """Return once the engine itself listens on the port and accepts a connection."""
    engine = psutil.Process(server.pid)
    for _ in range(LISTEN_TRIES):
        if server.poll() is not None:
            raise RuntimeError(f"evsuper serve exited with code {server.returncode}")
        listening = any(
            c.status == psutil.CONN_LISTEN and c.laddr.port == port
            for c in engine.net_connections("tcp")
        )
        if listening:
            with socket.create_connection((HOST, port), timeout=1.0):
                return
        time.sleep(LISTEN_POLL_S)
    raise RuntimeError(f"evsuper serve not listening on {port} after {LISTEN_TRIES} tries")


def stop_engine(server: subprocess.Popen[bytes]) -> tuple[float, int | None]:
    """SIGINT, then wait (bounded); kill if it does not stop. Returns (seconds, exit code)."""
    start = time.perf_counter()
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
            return time.perf_counter() - start, None
    return time.perf_counter() - start, server.returncode


def archive_counts(project: Path) -> dict[str, int]:
    """Rows the archive holds once the engine has stopped."""
    with sqlite3.connect(f"file:{project / 'archive.sqlite'}?mode=ro", uri=True) as db:
        samples = db.execute("SELECT count(*) FROM meter_samples").fetchone()[0]
        opened, closed = db.execute("SELECT count(*), count(stop_ts) FROM transactions").fetchone()
    return {"meter_samples": samples, "transactions": opened, "transactions_closed": closed}


def archive_transactions(project: Path, record: Record) -> dict[str, int]:
    """Check the archived transactions against what the charge points started and stopped."""
    with sqlite3.connect(f"file:{project / 'archive.sqlite'}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT id, charger_id, connector_id, stop_ts IS NOT NULL, meter_stop_wh"
            " FROM transactions"
        ).fetchall()
    started = set(record.started)
    return {
        "rows": len(rows),
        "started": len(record.started),
        "started_distinct": len(started),
        "distinct_ids": len({row[0] for row in rows}),
        "distinct_connectors": len({(row[1], row[2]) for row in rows}),
        "not_started": sum(row[0] not in started for row in rows),
        "closed": sum(bool(row[3]) for row in rows),
        "meter_stop_as_sent": sum(
            bool(row[3]) and row[4] == record.meter_stops.get(row[0]) for row in rows
        ),
    }


def log_digest(log_path: Path) -> dict[str, Any]:
    """Warning/error lines of the engine log, grouped with times and charger ids masked."""
    lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    bad = [ln for ln in lines if re.search(r" (WARNING|ERROR|CRITICAL) |Traceback", ln)]
    groups = Counter(re.sub(r"CP-\d+", "CP-*", ln[24:] if ln[:2] == "20" else ln) for ln in bad)
    return {
        "lines": len(lines),
        "warnings": sum(" WARNING " in ln for ln in bad),
        "errors": len(bad) - sum(" WARNING " in ln for ln in bad),
        "top": [f"{n} x {text}" for text, n in groups.most_common(LOG_EXCERPT_LINES)],
        "tail": lines[-LOG_EXCERPT_LINES:],
    }


# ---- figures ----


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank quantile of an ascending list (nan when empty)."""
    if not sorted_values:
        return math.nan
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def latency_ms(latencies: list[float]) -> dict[str, float]:
    values = sorted(latencies)
    return {
        "p50": quantile(values, 0.50) * 1000,
        "p99": quantile(values, 0.99) * 1000,
        "max": (values[-1] if values else math.nan) * 1000,
    }


def figures(
    opts: Options,
    fleet: Fleet,
    sampler: Sampler,
    window: Window,
    ramp_s: float,
    engine_idle_rss: int,
) -> dict[str, Any]:
    record = fleet.record
    span = window.end - window.start
    in_window = [(a, lat) for a, end, lat in record.answered if window.start <= end < window.end]
    per_second: dict[int, list[float]] = {i: [] for i in range(int(span))}
    for _, end, lat in record.answered:
        if window.start <= end < window.start + len(per_second):
            per_second[int(end - window.start)].append(lat)
    counts = sorted(len(lats) for lats in per_second.values())
    worst_p99 = max(
        (quantile(sorted(lats), 0.99) for lats in per_second.values() if lats), default=math.nan
    )
    failed_in_window = [kind for _, at, kind in record.failures if window.start <= at < window.end]
    per_action: dict[str, dict[str, Any]] = {}
    for action, _, lat in record.answered:
        per_action.setdefault(action, {"n": 0, "lat": []})
        per_action[action]["n"] += 1
        per_action[action]["lat"].append(lat)
    failures = Counter(f"{action}: {kind}" for action, _, kind in record.failures)
    lags = [lag for at, _, lag in sampler.samples if window.start <= at < window.end]
    mb = 1024 * 1024
    cores = psutil.cpu_count() or 1
    own_cpu_s = window.engine_cpu_s + window.bench_cpu_s
    peak_rss = max([rss for _, rss, _ in sampler.samples] + [window.engine_rss])
    offered = opts.chargers * (opts.connectors / opts.meter_interval + 1 / HEARTBEAT_S)
    return {
        "chargers": opts.chargers,
        "connectors": opts.connectors,
        "meter_interval_s": opts.meter_interval,
        "window_s": span,
        "ready": fleet.ready,
        "stuck_at_stop": fleet.stuck,
        "ramp_s": ramp_s,
        "offered_msg_s": offered,
        "answered": len(in_window),
        "answered_msg_s": len(in_window) / span,
        "answered_per_second": {
            "min": counts[0] if counts else 0,
            "median": quantile(counts, 0.5) if counts else 0,
            "max": counts[-1] if counts else 0,
        },
        "worst_second_p99_ms": 1000 * worst_p99,
        "latency_ms": latency_ms([lat for _, lat in in_window]),
        "errors_in_window": len(failed_in_window),
        "timeouts_in_window": failed_in_window.count("timeout"),
        "failures": dict(failures.most_common()),
        "per_action": {
            action: {"n": v["n"], **latency_ms(v["lat"])} for action, v in per_action.items()
        },
        "engine_cpu_pct": 100 * window.engine_cpu_s / span,
        "engine_loop_cpu_pct": 100 * window.engine_loop_cpu_s / span,
        "engine_rss_mb": {
            "idle": engine_idle_rss / mb,
            "end": window.engine_rss / mb,
            "peak": peak_rss / mb,
            "kb_per_charger": (window.engine_rss - engine_idle_rss) / 1024 / max(1, fleet.ready),
        },
        "bench_cpu_pct": 100 * window.bench_cpu_s / span,
        "bench_loop_lag_max_ms": 1000 * max(lags, default=math.nan),
        "cores": cores,
        "machine_cpu_pct": window.machine_cpu_pct,
        "other_cpu_pct": window.machine_cpu_pct * cores - 100 * (own_cpu_s / span),
        "rows_sent": record.rows_sent,
        "rows_answered": record.rows_answered,
    }


def storm_figures(opts: Options, fleet: Fleet, stormed: Storm) -> dict[str, Any]:
    """Figures of the reconnect storm, from the drop to the end of the storm window."""
    record = fleet.record
    offline = sorted(stormed.offline.values())
    rebooted = [at - stormed.reconnect_at for at in fleet.reboot_times]
    after = [
        (action, lat)
        for action, end, lat in record.answered
        if stormed.reconnect_at <= end < stormed.end
    ]
    failed = [
        (action, kind)
        for action, at, kind in record.failures
        if stormed.drop_at <= at < stormed.end
    ]
    return {
        "close": opts.storm,
        "dropped": stormed.dropped,
        "offline_seen": len(offline),
        "offline_s": {"p50": quantile(offline, 0.5), "last": max(offline, default=math.nan)},
        "disconnect_reasons": dict(stormed.reasons.most_common(LOG_EXCERPT_LINES)),
        "rebooted": len(rebooted),
        "rebooted_s": {
            "p50": quantile(sorted(rebooted), 0.5),
            "last": max(rebooted, default=math.nan),
        },
        "connect_ms": latency_ms(record.reconnects),
        "boot_ms": latency_ms([lat for action, lat in after if action == "BootNotification"]),
        "meter_values_ms": latency_ms([lat for action, lat in after if action == "MeterValues"]),
        "window_s": stormed.end - stormed.reconnect_at,
        "errors": len(failed),
        "timeouts": sum(kind == "timeout" for _, kind in failed),
        "failures": dict(Counter(f"{action}: {kind}" for action, kind in failed).most_common()),
    }


def render_storm(r: dict[str, Any], expected: int) -> list[str]:
    """The storm's lines of the report; ``expected`` is N x K transactions."""
    s = r["storm"]
    off, up, a = s["offline_s"], s["rebooted_s"], s["archive"]
    every = "every one" if s["offline_seen"] == s["dropped"] else "NOT every one"
    head = f"storm ({s['close']})"
    lines = [
        f"  {head:<22}  {s['dropped']} connections dropped at once",
        f"  storm offline (log)     {s['offline_seen']} 'disconnected' lines ({every}): "
        f"p50 {off['p50']:.3f} s, last {off['last']:.3f} s after the drop",
        *(f"    {n:>6} x disconnected ({reason})" for reason, n in s["disconnect_reasons"].items()),
        f"  storm re-booted         {s['rebooted']} / {s['dropped']} Accepted: "
        f"p50 {up['p50']:.2f} s, last {up['last']:.2f} s after all reconnected at once",
    ]
    for label, key in (
        ("WebSocket open", "connect_ms"),
        ("BootNotification", "boot_ms"),
        ("MeterValues", "meter_values_ms"),
    ):
        lat = s[key]
        lines.append(
            f"  storm {label:<17} p50 {lat['p50']:.1f} ms  p99 {lat['p99']:.1f} ms  "
            f"max {lat['max']:.1f} ms"
        )
    lines += [
        f"  storm errors            {s['errors']}  (timeouts {s['timeouts']}; from the drop "
        f"to the end of the {s['window_s']:.1f} s after the reconnect)",
        *(f"    {n:>6} x {kind}" for kind, n in s["failures"].items()),
        f"  archive check           {a['rows']} rows, expected N x K = {expected}; started by "
        f"the clients {a['started']} ({a['started_distinct']} distinct ids)",
        f"    ids distinct {a['distinct_ids']}, charger/connector pairs "
        f"{a['distinct_connectors']}, not started by a client {a['not_started']}",
        f"    closed {a['closed']}, with the meterStop the client sent {a['meter_stop_as_sent']}",
    ]
    return lines


def render(report: dict[str, Any]) -> str:
    r = report
    lat = r["latency_ms"]
    rss = r["engine_rss_mb"]
    aps = r["answered_per_second"]
    archive = r.get("archive", {})
    saturated = r["bench_cpu_pct"] >= SATURATED_PCT
    rows = archive.get("meter_samples", math.nan)
    lines = [
        f"evsuper OCPP 1.6J load: {r['chargers']} chargers x {r['connectors']} connector(s), "
        f"MeterValues every {r['meter_interval_s']:g} s, window {r['window_s']:.1f} s",
        f"  charging / chargers     {r['ready']} / {r['chargers']} after {r['ramp_s']:.1f} s; "
        f"{r['stuck_at_stop']} still busy when stopping (cancelled)",
        f"  offered                 {r['offered_msg_s']:8.1f} msg/s",
        f"  answered in window      {r['answered_msg_s']:8.1f} msg/s  "
        f"({r['answered']} round trips)",
        f"  answered per second     min {aps['min']}  median {aps['median']:.0f}  "
        f"max {aps['max']}  (worst second's p99 {r['worst_second_p99_ms']:.0f} ms)",
        f"  latency in window       p50 {lat['p50']:.1f} ms  p99 {lat['p99']:.1f} ms  "
        f"max {lat['max']:.1f} ms",
        f"  errors in window        {r['errors_in_window']}  (timeouts {r['timeouts_in_window']})",
        f"  engine CPU              {r['engine_cpu_pct']:6.1f} %  (100 % = one core; "
        f"event-loop thread {r['engine_loop_cpu_pct']:.1f} %)",
        f"  engine RSS              idle {rss['idle']:.0f} MB, end {rss['end']:.0f} MB, "
        f"peak {rss['peak']:.0f} MB  (~{rss['kb_per_charger']:.0f} KB per charger)",
        f"  bench client CPU        {r['bench_cpu_pct']:6.1f} %  "
        + ("SATURATED: figures are a lower bound" if saturated else "(not saturated)")
        + f", loop lag max {r['bench_loop_lag_max_ms']:.0f} ms",
        f"  machine CPU             {r['machine_cpu_pct']:6.1f} % of {r['cores']} cores; "
        f"other processes {r['other_cpu_pct']:.0f} % of one core",
        f"  clean stop (SIGINT)     {r['stop_s']:.1f} s, exit code {r['exit_code']}",
        f"  archive meter_samples   {rows} rows; answered {r['rows_answered']}, "
        f"sent {r['rows_sent']}  (missing vs answered: {r['rows_answered'] - rows})",
        f"  archive transactions    {archive.get('transactions_closed')} closed"
        f" / {archive.get('transactions')}",
    ]
    if "storm" in r:
        lines += render_storm(r, r["chargers"] * r["connectors"])
    lines += [
        "  per action (whole run)      count    p50 ms    p99 ms    max ms",
    ]
    for action, a in sorted(r["per_action"].items()):
        lines.append(
            f"    {action:<22} {a['n']:>9} {a['p50']:>9.1f} {a['p99']:>9.1f} {a['max']:>9.1f}"
        )
    lines.append(f"  failures (whole run)    {sum(r['failures'].values())}")
    lines += [f"    {n:>6} x {kind}" for kind, n in r["failures"].items()]
    log = r["server_log"]
    lines.append(
        f"  engine log              {log['lines']} lines, {log['warnings']} warnings, "
        f"{log['errors']} errors/tracebacks"
    )
    lines += [f"    {text}" for text in log["top"]]
    return "\n".join(lines)


def _finite(value: Any) -> Any:
    """The report with NaN (no data) as null, so that it is strict JSON."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return None if isinstance(value, float) and math.isnan(value) else value


def _progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# ---- command line ----


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chargers", type=int, default=1000, metavar="N")
    parser.add_argument("--duration", type=float, default=60.0, metavar="S", help="window")
    parser.add_argument("--meter-interval", type=float, default=1.0, metavar="S")
    parser.add_argument("--connectors", type=int, default=1, metavar="K")
    parser.add_argument("--ramp", type=float, metavar="S", help="connection ramp (default N/100)")
    parser.add_argument("--port", type=int, help="OCPP port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary project")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--storm",
        nargs="?",
        const="abort",
        choices=("abort", "clean"),
        help="after the window, drop every connection at once (abort the TCP connection, or "
        "close the WebSocket cleanly), reconnect all at once and resume",
    )
    parser.add_argument(
        "--storm-window",
        type=float,
        default=10.0,
        metavar="S",
        help="MeterValues after the storm's reboot, before the stop (default 10)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.chargers <= 20_000 or not 1 <= args.connectors <= 10:
        parser.error("--chargers must be 1..20000 and --connectors 1..10")
    if args.duration <= 0 or args.meter_interval <= 0:
        parser.error("--duration and --meter-interval must be positive")
    return Options(
        chargers=args.chargers,
        duration=args.duration,
        meter_interval=args.meter_interval,
        connectors=args.connectors,
        ramp=args.ramp if args.ramp is not None else args.chargers / 100,
        port=args.port or free_port(),
        keep=args.keep,
        json=args.json,
        storm=args.storm,
        storm_window=args.storm_window,
    )


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    logging.getLogger("ocpp").setLevel(logging.CRITICAL)  # failures are counted, not logged
    workdir = Path(tempfile.mkdtemp(prefix="evsuper-bench-"))
    project = workdir / "project"
    log_path = workdir / "serve.log"
    server: subprocess.Popen[bytes] | None = None
    try:
        _progress(f"project in {project}, engine log {log_path}")
        new_project(opts, project)
        with log_path.open("wb") as log_file:
            server = start_engine(opts, project, log_file)
            started = time.perf_counter()
            wait_listening(server, opts.port)
            _progress(
                f"engine listening on {opts.port} after {time.perf_counter() - started:.1f} s"
            )
            engine = psutil.Process(server.pid)
            idle_rss = engine.memory_info().rss
            fleet, sampler, window, ramp_s, stormed = asyncio.run(drive(opts, engine, log_path))
            report = figures(opts, fleet, sampler, window, ramp_s, idle_rss)
            if stormed is not None:
                report["storm"] = storm_figures(opts, fleet, stormed)
            died = server.poll()
            _progress("stopping the engine (SIGINT)")
            report["stop_s"], report["exit_code"] = stop_engine(server)
            if died is not None:
                report["exit_code"] = f"{died} (died during the run)"
        report["archive"] = archive_counts(project)
        if "storm" in report:
            report["storm"]["archive"] = archive_transactions(project, fleet.record)
        report["server_log"] = log_digest(log_path)
        print(json.dumps(_finite(report), indent=2) if opts.json else render(report))
        return 0
    except (RuntimeError, subprocess.CalledProcessError, psutil.NoSuchProcess) as exc:
        _progress(f"failed: {exc}")
        if isinstance(exc, subprocess.CalledProcessError):
            print(exc.stderr.decode(errors="replace"), file=sys.stderr)
        if log_path.exists():
            print("\n".join(log_digest(log_path)["tail"]), file=sys.stderr)
        return 1
    finally:
        if server is not None and server.poll() is None:
            stop_engine(server)
        if opts.keep:
            _progress(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
