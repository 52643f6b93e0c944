"""Alarm viewer under an alarm flood: N alarm changes in one tag batch (offscreen Qt).

The batch goes through the path the main window uses: ``AlarmListModel.apply`` → the
filter/sort proxy (default urgency order) → the alarm list's table, its banner and the
annunciator. Three bursts: N new alarms, the same N acknowledged, the same N cleared.

A 10 ms QTimer ticks all along; the longest gap between two ticks, less the 10 ms, is the
longest event-loop stall. Figures are printed, never asserted.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/alarm_view.py [--alarms 10000]
"""

from __future__ import annotations

import argparse
import itertools
import os
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from evsuper.alarms.model import ALARM_PREFIX, AlarmRecord, AlarmState, Category, Priority
from evsuper.core.tags import Sample, TagPath
from evsuper.hmi.annunciator import Annunciator
from evsuper.hmi.models.alarms import AlarmListModel
from evsuper.hmi.theme import apply_theme
from evsuper.hmi.views.alarm_list import AlarmListWindow
from evsuper.hmi.widgets.alarm_banner import AlarmBanner
from evsuper.users.permissions import Actor, Role

TICK_MS = 10
T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def records(count: int) -> list[AlarmRecord]:
    priorities = list(Priority)
    categories = list(Category)
    result = []
    for i in range(count):
        charger = f"CP-{i % 1000:04d}"
        result.append(
            AlarmRecord(
                key=f"def-{i // 1000}:{charger}",
                definition_id=f"def-{i // 1000}",
                source=charger,
                charger_id=charger,
                priority=priorities[i % 4],
                category=categories[i % len(categories)],
                message=f"Alarm {i} on {charger}",
                state=AlarmState.UNACKNOWLEDGED,
                active=True,
                value=f"{i * 0.1:.1f}",
                activated=T0 + timedelta(seconds=i),
                changed=T0 + timedelta(seconds=i),
                activations=1,
            )
        )
    return result


def batch(values: list[tuple[str, AlarmRecord | None]]) -> dict[TagPath, Sample]:
    return {f"{ALARM_PREFIX}{key}": Sample(value) for key, value in values}


class Ticks:
    """Timestamps of a 10 ms timer: the loop's heartbeat."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(lambda: self.times.append(time.perf_counter()))

    def longest_stall_ms(self, since: float) -> float:
        times = [t for t in self.times if t >= since]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        return max(0.0, (max(gaps, default=0.0) * 1000) - TICK_MS)

    def first_after(self, moment: float) -> float | None:
        return next((t for t in self.times if t > moment), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alarms", type=int, default=10_000)
    args = parser.parse_args()

    app = QApplication([])
    apply_theme(app)
    model = AlarmListModel()
    annunciator = Annunciator(lambda _priority: None)
    model.changed.connect(lambda: annunciator.update(model.unacknowledged))
    window = AlarmListWindow(model, lambda _command, _callback: None, confirm=lambda _q: True)
    window.set_actor(Actor("bench", Role.ADMIN))
    banner = AlarmBanner(model, annunciator)
    window.resize(1400, 800)
    banner.resize(1400, 32)
    window.show()
    banner.show()

    alarms = records(args.alarms)
    bursts: list[tuple[str, dict[TagPath, Sample]]] = [
        (f"{args.alarms} new alarms", batch([(r.key, r) for r in alarms])),
        (
            f"{args.alarms} acknowledged",
            batch([(r.key, replace(r, state=AlarmState.ACKNOWLEDGED)) for r in alarms]),
        ),
        (f"{args.alarms} cleared", batch([(r.key, None) for r in alarms])),
    ]
    ticks = Ticks()
    results: list[tuple[str, float, float | None, float, int]] = []

    def run(index: int) -> Callable[[], None]:
        def step() -> None:
            if index == len(bursts):
                app.quit()
                return
            name, changes = bursts[index]
            started = time.perf_counter()
            model.apply(changes)
            applied = time.perf_counter()

            def measure() -> None:
                first = ticks.first_after(applied)
                shown = None if first is None else (first - started) * 1000
                stall = ticks.longest_stall_ms(started - 0.05)
                results.append(
                    (name, (applied - started) * 1000, shown, stall, window.proxy.rowCount())
                )
                QTimer.singleShot(200, run(index + 1))

            QTimer.singleShot(1000, measure)  # let it paint and settle

        return step

    ticks.timer.start()
    QTimer.singleShot(300, run(0))
    app.exec()

    print(f"alarm viewer flood, {args.alarms} changes per batch (offscreen, {TICK_MS} ms tick)")
    print(f"{'burst':<24} {'apply ms':>9} {'until shown ms':>15} {'longest stall ms':>17} rows")
    for name, apply_ms, shown_ms, stall_ms, rows in results:
        shown = "—" if shown_ms is None else f"{shown_ms:.0f}"
        print(f"{name:<24} {apply_ms:>9.0f} {shown:>15} {stall_ms:>17.0f} {rows}")


if __name__ == "__main__":
    main()
