"""`evsuper new` + `evsuper serve` as an operator runs them: real processes, real sockets."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path

from ocpp.v16 import ChargePoint, call
from websockets.asyncio.client import connect

from evsuper.core.timeutil import to_wire, utcnow

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def evsuper(*args: str, **env_overrides: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **env_overrides}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "evsuper",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


class Log:
    """The lines a running process printed, read as they come."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []

    async def wait_for(self, pattern: str, count: int = 1, within: float = 20.0) -> list[str]:
        regex = re.compile(pattern)
        try:
            async with asyncio.timeout(within):
                while len(found := [line for line in self.lines if regex.search(line)]) < count:
                    assert self.process.stdout is not None
                    line = await self.process.stdout.readline()
                    if not line:
                        raise AssertionError(f"process ended before {pattern!r}:\n{self.text}")
                    self.lines.append(line.decode())
        except TimeoutError:
            raise AssertionError(
                f"{count} x {pattern!r} not within {within} s:\n{self.text}"
            ) from None
        return found

    async def finish(self, within: float = 20.0) -> int:
        assert self.process.stdout is not None
        try:
            async with asyncio.timeout(within):
                self.lines += [line.decode() async for line in self.process.stdout]
                return await self.process.wait()
        except TimeoutError:
            raise AssertionError(f"process still running after {within} s:\n{self.text}") from None

    @property
    def text(self) -> str:
        return "".join(self.lines)


@asynccontextmanager
async def serving(*args: str) -> AsyncIterator[Log]:
    log = Log(await evsuper("serve", *args))
    try:
        await log.wait_for("engine started")
        yield log
    finally:
        if log.process.returncode is None:
            log.process.kill()
            await log.process.wait()


async def core_lifecycle(url: str, charger_id: str) -> list[object]:
    """One external charger through the whole Core profile, charger side."""
    async with connect(url, subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        cp = ChargePoint(charger_id, ws)
        receiver = asyncio.create_task(cp.start())
        answers: list[object] = []
        answers.append(
            await cp.call(call.BootNotification(charge_point_model="X", charge_point_vendor="Ext"))
        )
        for connector in (0, 1, 2):
            await cp.call(call.StatusNotification(connector, "NoError", "Available"))
        answers.append(await cp.call(call.Authorize(id_tag="ANY-BADGE")))
        await cp.call(call.StatusNotification(1, "NoError", "Preparing"))
        start = await cp.call(
            call.StartTransaction(1, "ANY-BADGE", meter_start=500, timestamp=to_wire(utcnow()))
        )
        answers.append(start)
        await cp.call(call.StatusNotification(1, "NoError", "Charging"))
        await cp.call(
            call.MeterValues(
                1,
                [
                    {
                        "timestamp": to_wire(utcnow()),
                        "sampledValue": [
                            {"value": "1500", "measurand": "Energy.Active.Import.Register"},
                            {"value": "11000", "measurand": "Power.Active.Import", "unit": "W"},
                        ],
                    }
                ],
                transaction_id=start.transaction_id,
            )
        )
        answers.append(await cp.call(call.Heartbeat()))
        answers.append(await cp.call(call.DataTransfer(vendor_id="Ext", message_id="hello")))
        answers.append(
            await cp.call(
                call.StopTransaction(
                    meter_stop=2500,
                    timestamp=to_wire(utcnow()),
                    transaction_id=start.transaction_id,
                    reason="EVDisconnected",
                )
            )
        )
        await cp.call(call.StatusNotification(1, "NoError", "Finishing"))
        await cp.call(call.StatusNotification(1, "NoError", "Available"))
        receiver.cancel()
        return answers


async def test_new_then_serve_accepts_20_external_chargers(tmp_path: Path) -> None:
    site, port = tmp_path / "site", free_port()
    new = Log(
        await evsuper(
            "new",
            str(site),
            "--bollards",
            "20",
            "--id-pattern",
            "CP-{:03d}",
            "--authorization",
            "open",
        )
    )
    assert await new.finish() == 0
    async with serving(str(site), "--ocpp-port", str(port), "--no-simulator") as log:
        results = await asyncio.gather(
            *(
                core_lifecycle(f"ws://127.0.0.1:{port}/ocpp/CP-{i:03d}", f"CP-{i:03d}")
                for i in range(1, 21)
            )
        )
        await log.wait_for(r"CP-\d{3}: disconnected", count=20)
        log.process.send_signal(signal.SIGTERM)
        assert await log.finish() == 0
    for boot, authorize, start, heartbeat, data_transfer, stop in results:
        assert boot.status == "Accepted"  # type: ignore[attr-defined]
        assert authorize.id_tag_info["status"] == "Accepted"  # type: ignore[attr-defined]
        assert start.id_tag_info["status"] == "Accepted"  # type: ignore[attr-defined]
        assert heartbeat.current_time.endswith("Z")  # type: ignore[attr-defined]
        assert data_transfer.status == "UnknownVendorId"  # type: ignore[attr-defined]
        assert stop is not None
    text = "".join(log.lines)
    for i in range(1, 21):
        assert f"CP-{i:03d}: connected from" in text
        assert f"CP-{i:03d}: booted Ext X" in text
    assert len(re.findall(r"transaction \d+ started", text)) == 20
    assert (
        len(
            re.findall(
                r"transaction \d+ stopped on connector 1 \(EVDisconnected\), 2\.000 kWh", text
            )
        )
        == 20
    )
    assert "engine stopped" in text
    with sqlite3.connect(site / "archive.sqlite") as db:
        assert db.execute("select count(*), sum(energy_wh) from transactions").fetchone() == (
            20,
            40000,
        )
        assert db.execute("select count(*) from meter_samples").fetchone() == (40,)


async def test_serve_runs_the_simulator_and_stops_cleanly_on_sigint(tmp_path: Path) -> None:
    site, port = tmp_path / "site", free_port()
    assert await Log(await evsuper("new", str(site), "--bollards", "4")).finish() == 0
    project_file = site / "project.toml"
    project_file.write_text(
        project_file.read_text().replace(
            "[simulator]\nenabled = true\n",
            "[simulator]\nenabled = true\nmeter_interval_s = 0.2\nmean_idle_s = 0.3\n"
            "mean_session_s = 1.5\ntime_scale = 60.0\nfault_probability = 0.0\n",
        )
    )
    async with serving(str(site), "--ocpp-port", str(port)) as log:
        await log.wait_for(r"booted Simulated", count=4)
        await log.wait_for(r"transaction \d+ stopped", count=2, within=30)
        log.process.send_signal(signal.SIGINT)
        assert await log.finish() == 0
    text = "".join(log.lines)
    assert "stopping: flushing the archive" in text
    assert "engine stopped" in text
    assert "Traceback" not in text, text
    stopped = {int(n) for n in re.findall(r"transaction (\d+) stopped", text)}
    with sqlite3.connect(site / "archive.sqlite") as db:
        archived = {
            n for (n,) in db.execute("select id from transactions where stop_ts is not null")
        }
        samples = db.execute("select count(*) from meter_samples").fetchone()[0]
    assert stopped <= archived
    assert samples > 0


async def test_run_without_display_says_so_in_one_line(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "evsuper",
        "run",
        "projects/demo",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    assert process.returncode == 2
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1
    assert "no display" in lines[0] and "evsuper serve projects/demo" in lines[0]


async def test_bad_project_gives_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "project.toml").write_text(
        'format_version = 2\nname = "x"\n[ocpp]\nport = "high"\n'
    )
    process = await evsuper("serve", str(tmp_path))
    out, _ = await process.communicate()
    assert process.returncode == 2
    file = tmp_path / "project.toml"
    assert out.decode().strip() == (
        f"evsuper: bad project: {file}:4: ocpp.port: expected an integer, got 'high'"
    )


async def test_run_opens_the_hmi_and_closes_cleanly_on_sigterm(tmp_path: Path) -> None:
    site = tmp_path / "site"
    args = ("new", str(site), "--bollards", "2", "--ocpp-port", str(free_port()))
    assert await Log(await evsuper(*args)).finish() == 0
    log = Log(await evsuper("run", str(site), QT_QPA_PLATFORM="offscreen"))
    try:
        await log.wait_for(r"CP-002: booted Simulated")
        log.process.send_signal(signal.SIGTERM)
        assert await log.finish() == 0
    finally:
        if log.process.returncode is None:
            log.process.kill()
    assert "engine stopped" in "".join(log.lines)


async def evsuper_call(site: Path, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "evsuper",
        "call",
        str(site),
        *args,
        cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL,  # no terminal: nobody to ask for a confirmation
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_call_sends_any_message_through_the_running_engine(tmp_path: Path) -> None:
    site, port = tmp_path / "site", free_port()
    assert await Log(await evsuper("new", str(site), "--bollards", "2")).finish() == 0
    code, _, err = await evsuper_call(site, "CP-001", "Reset", '{"type": "Soft"}')
    assert code == 2 and "no running engine" in err
    async with serving(str(site), "--ocpp-port", str(port)) as log:
        await log.wait_for(r"CP-002: booted Simulated")
        control = site / ".evsuper" / "control.json"
        assert control.stat().st_mode & 0o777 == 0o600

        code, out, err = await evsuper_call(
            site, "CP-001", "GetConfiguration", '{"key": ["HeartbeatInterval", "Nope"]}'
        )
        assert code == 0, err
        answer = json.loads(out)
        assert answer["configurationKey"][0]["key"] == "HeartbeatInterval"
        assert answer["unknownKey"] == ["Nope"]

        code, out, _ = await evsuper_call(
            site, "CP-002", "TriggerMessage", '{"requestedMessage": "Heartbeat"}'
        )
        assert (code, json.loads(out)) == (0, {"status": "Accepted"})
        code, out, _ = await evsuper_call(
            site, "CP-002", "ChangeConfiguration", '{"key": "X", "value": "1"}'
        )
        assert (code, json.loads(out)) == (0, {"status": "NotSupported"})  # answered: exit 0

        code, _, err = await evsuper_call(site, "CP-001", "Reset", '{"type": "Soft"}')
        assert code == 1 and "ConfirmationRequired" in err  # a reset must be confirmed
        code, _, err = await evsuper_call(site, "CP-009", "Reset", '{"type": "Soft"}', "--yes")
        assert code == 1 and "UnknownCharger" in err
        code, _, err = await evsuper_call(site, "CP-001", "BootNotification")
        assert code == 1 and "InvalidRequest" in err and "not sent by a central system" in err
        code, _, err = await evsuper_call(site, "CP-001", "Reset", '{"kind": "Soft"}', "--yes")
        assert code == 1 and "InvalidRequest" in err
        code, _, err = await evsuper_call(site, "CP-001", "Reset", "[1, 2]")
        assert code == 2 and "bad payload" in err

        log.process.send_signal(signal.SIGTERM)
        assert await log.finish() == 0
    assert not control.exists()
    with closing(sqlite3.connect(site / "archive.sqlite")) as db:
        audited = db.execute(
            "SELECT origin, role, kind, action, target, result, detail FROM audit_log "
            "WHERE target = 'CP-009' OR detail LIKE 'ConfirmationRequired%'"
        ).fetchall()
    assert audited == [
        (
            "cli",
            "integrator",
            "command",
            "RawCall",
            "CP-001",
            "Denied",
            "ConfirmationRequired: this command must be confirmed first",
        ),
        (
            "cli",
            "integrator",
            "command",
            "RawCall",
            "CP-009",
            "Error",
            "UnknownCharger: no driver owns CP-009",
        ),
    ]
