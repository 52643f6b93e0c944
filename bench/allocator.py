"""Allocator time for 1,000 connectors in a three-level tree, for each objective.

A site (limits in kW and A) with distribution boards of 10 feeders of 10 connectors (10
boards for 1,000 connectors, one per 100): a third single-phase (rotations L1/L2/L3; none
with --three-phase-only), every connector with a session, a quarter of the vehicles
drawing less than offered, three priority classes, departures in the next 12 h. Limits are
set so that connectors, feeders, boards and the site all bind somewhere. Printed: median,
p95 and best of `allocate` over the repeats, the states, and what binds the sessions (F:
feeder, B: board, S: site, own: connector or vehicle); then the median of a first
allocation ("new tree"), which also builds the limits' rows that the service's next rounds
reuse while the same connectors charge.

    .venv/bin/python bench/allocator.py [--connectors 1000] [--repeat 50] [--three-phase-only]

It prints figures; it does not pass or fail.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from evsuper.charging.allocator import Objective, Session, allocate
from evsuper.charging.topology import Connector, Group, Limit, Phase, Site

NOW = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)


def build(
    connectors: int, rng: random.Random, single_phase: bool = True
) -> tuple[Site, list[Session]]:
    count = max(1, connectors // 100)
    boards = []
    sessions = []
    n = 0
    for b in range(count):
        feeders = []
        for f in range(10):
            leaves = []
            for _ in range(10):
                n += 1
                single = single_phase and n % 3 == 0
                leaves.append(
                    Connector(
                        f"C{n:04d}",
                        max_a=rng.choice((16.0, 32.0)),
                        phases=1 if single else 3,
                        phase=Phase((n // 3 if single else n) % 3 + 1),
                    )
                )
                offered = 16.0
                measured = rng.uniform(4, 14) if rng.random() < 0.25 else offered
                sessions.append(
                    Session(
                        f"C{n:04d}",
                        priority=rng.randrange(3),
                        measured_a=measured,
                        offered_a=offered,
                        energy_need_kwh=rng.uniform(2, 40),
                        departure=NOW + timedelta(minutes=rng.randrange(30, 720)),
                    )
                )
            amps = rng.choice((63.0, 80.0, 125.0))
            feeders.append(Group(f"F{b}.{f}", Limit(amps=amps), tuple(leaves)))
        boards.append(
            Group(f"B{b}", Limit(kw=rng.choice((500.0, 800.0)), amps=800), tuple(feeders), "board")
        )
    return Site("S", Limit(kw=600 * count, amps=800 * count), tuple(boards)), sessions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connectors", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument(
        "--three-phase-only",
        action="store_true",
        help="no single-phase connector (a feeder's three phase rows are then one)",
    )
    args = parser.parse_args()
    site, sessions = build(args.connectors, random.Random(1), not args.three_phase_only)
    print(f"{len(site.connectors)} connectors, {len(site.nodes)} site/group nodes")
    for objective in Objective:
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            allocation = allocate(site, sessions, objective, now=NOW)
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * len(times)))]
        states = Counter(s.state.value for s in allocation.setpoints.values())
        bindings = Counter(
            (s.binding or "own").rstrip("0123456789.") for s in allocation.setpoints.values()
        )
        first = []
        for _ in range(max(5, args.repeat // 5)):
            new_tree = replace(site)  # a new site: nothing kept from earlier allocations
            start = time.perf_counter()
            allocate(new_tree, sessions, objective, now=NOW)
            first.append((time.perf_counter() - start) * 1000)
        print(
            f"{objective.value:>9}: median {statistics.median(times):6.2f} ms  p95 {p95:6.2f} ms"
            f"  best {times[0]:6.2f} ms  new tree {statistics.median(first):6.2f} ms"
            f"  {dict(states)}  binding {dict(bindings)}"
        )


if __name__ == "__main__":
    main()
