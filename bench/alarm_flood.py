"""Alarm flood benchmark: 10,000 alarm transitions in one burst through the alarm engine.

A real tag bus, a real SQLite archive (journal) and the alarm engine, on one loop. A
limit alarm is defined on a tag ``level``; N sources cross the limit in one burst (one
bus publish each, back to back, as a flood would arrive), then return under it in a
second burst. Figures: time to process each burst (the engine loop is busy), time until
the journal holds every transition (committed), time until the HMI summary tag says
so, and the longest stall of a 10 ms ticker on the loop while it happens. The HMI side
(model, proxy and view absorbing the same burst) is measured by bench/alarm_view.py.

    .venv/bin/python bench/alarm_flood.py --alarms 10000

It prints figures; it does not pass or fail.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from evsuper.alarms.engine import AlarmEngine
from evsuper.alarms.model import SUMMARY_TAG, Category, ConditionKind, Priority
from evsuper.core.bus import TagBus
from evsuper.core.tags import Sample
from evsuper.historian import schema
from evsuper.historian.archive import Archive
from evsuper.project.model import AlarmSetting, Project

LEVEL = AlarmSetting(
    id="level-high",
    condition=ConditionKind.LIMIT_HIGH,
    priority=Priority.MEDIUM,
    category=Category.PROCESS,
    message="{source} at {value}",
    tag="level",
    limit=10.0,
)


async def ticker(stalls: list[float], stop: asyncio.Event) -> None:
    """A 10 ms ticker; the longest gap beyond 10 ms is the loop's longest stall."""
    last = time.perf_counter()
    while not stop.is_set():
        await asyncio.sleep(0.01)
        now = time.perf_counter()
        stalls.append(now - last - 0.01)
        last = now


async def main(count: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="evsuper-alarm-flood-"))
    project = dataclasses.replace(Project(directory=folder, name="flood"), alarms=(LEVEL,))
    bus = TagBus()
    archive = Archive(project.archive_url(), bus)
    await archive.start()
    alarms = AlarmEngine(project, bus, archive)
    await alarms.start()
    stalls: list[float] = []
    stop = asyncio.Event()
    tick = asyncio.create_task(ticker(stalls, stop))
    await asyncio.sleep(0.1)

    def journal_rows() -> int:
        with archive.engine.connect() as connection:
            query = select(func.count()).select_from(schema.alarm_journal)
            return int(connection.execute(query).scalar_one())

    for phase, value, in_list in (("activate", 20.0, count), ("return", 0.0, count)):
        stalls.clear()
        start = time.perf_counter()
        for i in range(count):
            bus.publish(f"B{i:05d}/C1/level", Sample(value))
        processed = time.perf_counter() - start
        while True:  # the summary is published at most every 0.2 s
            summary = bus.value(SUMMARY_TAG)
            if summary is not None and sum(summary.active.values()) == in_list:
                break
            await asyncio.sleep(0.005)
        summarised = time.perf_counter() - start
        await archive.run_durable(lambda connection: None)
        committed = time.perf_counter() - start
        print(
            f"{phase}: {count} transitions processed in {processed * 1000:.0f} ms "
            f"({count / processed:,.0f}/s), summary shown after {summarised * 1000:.0f} ms, "
            f"journal committed after {committed * 1000:.0f} ms, "
            f"longest loop stall {max(stalls, default=0) * 1000:.0f} ms"
        )
    print(f"journal rows: {journal_rows()} (expected {2 * count})")
    stop.set()
    await tick
    await alarms.stop()
    await archive.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alarms", type=int, default=10_000)
    asyncio.run(main(parser.parse_args().alarms))
