"""Driver throughput: what the tag drivers deliver to the bus, per protocol.

Modbus (``--protocol modbus``): the Modbus simulator runs in a child process on a free
port of 127.0.0.1 with D wallboxes (``ev-charger`` profile, 15 points: 11 in the fast
group, 4 in the slow one at 10 x the period); the ``modbus://`` driver, built from
``[[devices]]``-like settings through the registry, polls them all at ``--period``. The
figures are counted after every device has connected, over ``--duration`` seconds.

    .venv/bin/python bench/drivers.py --protocol modbus --devices 50 --period 0.1
    .venv/bin/python bench/drivers.py --devices 200 --period 0.05 --duration 20 --json

OPC UA (``--protocol opcua``): the OPC UA simulator runs in a child process on a free port
of 127.0.0.1 with ``--values`` test variables (``ns=2;s=Test.Value0001`` ...), each changing
every ``--step`` seconds; the ``opc.tcp`` driver subscribes to all of them (one endpoint,
one subscription, ``--publishing`` ms) and the notifications handled per second are counted.

    .venv/bin/python bench/drivers.py --protocol opcua --values 1000 --step 0.1

Each protocol is one ``bench_<protocol>(args)`` function returning its figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from evsuper.core.tags import Quality, Sample, TagPath
from evsuper.drivers.base import DeviceSettings, DriverContext, LinkState
from evsuper.drivers.opcua.simulator import extra_value_name, node_id
from evsuper.drivers.registry import driver_factory

FIRST_CHARGER_UNIT = 11  # of the standalone simulator


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _listening(port: int, within_s: float = 30.0) -> None:
    deadline = time.monotonic() + within_s
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
            continue
        return


def bench_modbus(args: argparse.Namespace) -> dict[str, Any]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "evsuper.drivers.modbus.simulator", "--port", str(port),
         "--chargers", str(args.devices)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _listening(port)
        return asyncio.run(_poll_modbus(args, port, psutil.Process(server.pid)))
    finally:
        server.terminate()
        server.wait(10)


async def _poll_modbus(
    args: argparse.Namespace, port: int, server: psutil.Process
) -> dict[str, Any]:
    counts: Counter[Quality] = Counter()
    seen: set[TagPath] = set()

    def publish(path: TagPath, sample: Sample) -> None:
        counts[sample.quality] += 1
        seen.add(path)

    devices = [
        DeviceSettings(
            f"wallbox-{i + 1}",
            f"modbus://127.0.0.1:{port}/{FIRST_CHARGER_UNIT + i}",
            options={"profile": "ev-charger", "poll_s": args.period, "timeout_s": 2.0},
        )
        for i in range(args.devices)
    ]
    driver = driver_factory("modbus")(devices, DriverContext(publish, Path(".")))
    await driver.start()
    try:
        for _ in range(1200):  # at most a minute
            if all(s.state is LinkState.CONNECTED for s in driver.status().values()):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(args.period * 10)  # every group polled once
        counts.clear()
        requests0 = sum(s.requests for s in driver.status().values())
        own, peer = psutil.Process(), server
        own_cpu0, peer_cpu0 = own.cpu_times(), peer.cpu_times()
        start = time.monotonic()
        await asyncio.sleep(args.duration)
        elapsed = time.monotonic() - start
        own_cpu, peer_cpu = own.cpu_times(), peer.cpu_times()
        window = Counter(counts)
        statuses = driver.status().values()
        requests = sum(s.requests for s in statuses) - requests0
        errors = sum(s.errors for s in statuses)
    finally:
        await driver.stop()
    fast, slow = 11, 4  # points of the ev-charger profile per group
    offered = args.devices * (fast / args.period + slow / (10 * args.period))
    return {
        "devices": args.devices,
        "points": len(seen),
        "period_s": args.period,
        "offered_points_per_s": round(offered),
        "polled_points_per_s": round(window[Quality.GOOD] / elapsed),
        "requests_per_s": round(requests / elapsed),
        "not_good_samples": sum(n for q, n in window.items() if q is not Quality.GOOD),
        "errors": errors,
        "client_cpu_pct": round(_cpu(own_cpu0, own_cpu) / elapsed * 100),
        "simulator_cpu_pct": round(_cpu(peer_cpu0, peer_cpu) / elapsed * 100),
        "duration_s": round(elapsed, 1),
    }


def bench_opcua(args: argparse.Namespace) -> dict[str, Any]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "evsuper.drivers.opcua.simulator", "--port", str(port),
         "--test-values", str(args.values), "--step", str(args.step)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _listening(port, within_s=60.0)
        return asyncio.run(_subscribe(args, port, psutil.Process(server.pid)))
    finally:
        server.terminate()
        server.wait(10)


async def _subscribe(args: argparse.Namespace, port: int, server: psutil.Process) -> dict[str, Any]:
    counts: Counter[Quality] = Counter()
    seen: set[TagPath] = set()

    def publish(path: TagPath, sample: Sample) -> None:
        counts[sample.quality] += 1
        seen.add(path)

    points = [
        {"tag": f"BENCH/v{i:04d}", "node": node_id(extra_value_name(i)), "sampling_ms": 0}
        for i in range(1, args.values + 1)
    ]
    device = DeviceSettings(
        "bench",
        f"opc.tcp://127.0.0.1:{port}/evsuper/sim",
        options={"publishing_ms": args.publishing, "points": points},
    )
    driver = driver_factory("opc.tcp")([device], DriverContext(publish, Path(".")))
    await driver.start()
    try:
        for _ in range(1200):  # at most a minute
            state = driver.status()["bench"].state
            if state is LinkState.CONNECTED and len(seen) == args.values:
                break
            await asyncio.sleep(0.05)
        counts.clear()
        notifications0 = driver.status()["bench"].requests
        own, peer = psutil.Process(), server
        own_cpu0, peer_cpu0 = own.cpu_times(), peer.cpu_times()
        start = time.monotonic()
        await asyncio.sleep(args.duration)
        elapsed = time.monotonic() - start
        own_cpu, peer_cpu = own.cpu_times(), peer.cpu_times()
        window = Counter(counts)
        status = driver.status()["bench"]
        notifications = status.requests - notifications0
    finally:
        await driver.stop()
    return {
        "monitored_items": args.values,
        "subscribed": len(seen),
        "step_s": args.step,
        "offered_changes_per_s": round(args.values / args.step),
        "notifications_per_s": round(notifications / elapsed),
        "published_samples_per_s": round(window[Quality.GOOD] / elapsed),
        "not_good_samples": sum(n for q, n in window.items() if q is not Quality.GOOD),
        "errors": status.errors,
        "client_cpu_pct": round(_cpu(own_cpu0, own_cpu) / elapsed * 100),
        "simulator_cpu_pct": round(_cpu(peer_cpu0, peer_cpu) / elapsed * 100),
        "duration_s": round(elapsed, 1),
    }


def _cpu(before: Any, after: Any) -> float:
    return float((after.user - before.user) + (after.system - before.system))


PROTOCOLS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "modbus": bench_modbus,
    "opcua": bench_opcua,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--protocol", choices=[*PROTOCOLS, "all"], default="all")
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--period", type=float, default=0.1, help="fastest poll period, s")
    parser.add_argument("--values", type=int, default=1000, help="OPC UA monitored items")
    parser.add_argument("--step", type=float, default=0.1, help="OPC UA: s between changes")
    parser.add_argument("--publishing", type=float, default=100.0, help="OPC UA publishing, ms")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    chosen = list(PROTOCOLS) if args.protocol == "all" else [args.protocol]
    results = {name: PROTOCOLS[name](args) for name in chosen}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{os.cpu_count()} CPUs")
    for name, figures in results.items():
        print(f"== {name}")
        for key, value in figures.items():
            print(f"  {key:24} {value}")


if __name__ == "__main__":
    main()
