"""The overview at N bollards under live tag batches (offscreen Qt): figures, no verdict.

A project of N two-connector bollards in five areas, all online; every connector's
power, energy and SoC change once a second. The bridge delivers that as ten batches a
second (``--spread``: a tenth of the connectors each) or, as the worst case, as one batch
holding every connector (``--burst``). For each batch it measures:

- ``model``: ``OverviewModel.apply`` alone (no view connected);
- ``panel``: ``apply`` with the overview connected (filter proxy re-filtering the changed
  rows, counts per state, the view's update requests);
- ``paint``: one synchronous repaint of the visible grid (the viewport);

then the time to change each filter (area, state, search text) and to paint after it.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/overview.py [--bollards 1000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from evsuper.core.domain import CommState, ConnectorStatus, RegistrationStatus
from evsuper.core.tags import Sample, TagPath, charger_tag, connector_tag
from evsuper.hmi.models.overview import OverviewModel
from evsuper.hmi.models.overview_filter import StateFilter
from evsuper.hmi.theme import apply_theme
from evsuper.hmi.views.overview import OverviewPanel
from evsuper.project.model import AreaConfig, ChargerConfig, ChargerKind, Project, SiteConfig

AREAS = 5
CONNECTORS = 2


def project(bollards: int) -> Project:
    areas = tuple(AreaConfig(f"L{a}", "SITE", f"Level {a}") for a in range(AREAS))
    per_area = -(-bollards // AREAS)
    chargers = tuple(
        ChargerConfig(
            f"CP-{n:04d}",
            area=areas[n // per_area].id,
            kind=ChargerKind.DC if n % 10 == 0 else ChargerKind.AC,
            connectors=CONNECTORS,
        )
        for n in range(bollards)
    )
    return Project(
        Path("bench"), "bench", sites=(SiteConfig("SITE"),), areas=areas, chargers=chargers
    )


def online(project: Project) -> dict[TagPath, Sample]:
    """Every charger booted; connector 1 of two chargers in three charging."""
    batch: dict[TagPath, Sample] = {}
    for n, charger in enumerate(project.chargers):
        batch[charger_tag(charger.id, "comm")] = Sample(CommState.ONLINE)
        batch[charger_tag(charger.id, "registration")] = Sample(RegistrationStatus.ACCEPTED)
        batch[charger_tag(charger.id, "status")] = Sample(ConnectorStatus.AVAILABLE)
        for c in range(1, CONNECTORS + 1):
            charging = c == 1 and n % 3 != 0
            status = ConnectorStatus.CHARGING if charging else ConnectorStatus.AVAILABLE
            batch[connector_tag(charger.id, c, "status")] = Sample(status)
            if charging:
                batch[connector_tag(charger.id, c, "id_tag")] = Sample(f"BADGE-{n:04d}")
    return batch


def meter_batches(project: Project, per_second: int) -> Iterator[dict[TagPath, Sample]]:
    """Endless batches: each connector's power, energy and SoC once a second, in
    ``per_second`` batches (the connectors split evenly between them)."""
    connectors = [(c.id, n) for c in project.chargers for n in range(1, CONNECTORS + 1)]
    second = 0
    while True:
        second += 1
        for part in range(per_second):
            batch: dict[TagPath, Sample] = {}
            for i in range(part, len(connectors), per_second):
                charger_id, n = connectors[i]
                power = 3.0 + (i * 7 + second) % 190 / 10
                batch[connector_tag(charger_id, n, "power_kw")] = Sample(power)
                batch[connector_tag(charger_id, n, "energy_kwh")] = Sample(second * 0.005 + i % 9)
                batch[connector_tag(charger_id, n, "soc")] = Sample(float((second + i) % 100))
            yield batch


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def figures(name: str, values: list[float]) -> None:
    values = sorted(values)
    p95 = values[int(len(values) * 0.95) - 1] if len(values) > 1 else values[0]
    print(
        f"  {name:<28} p50 {statistics.median(values):7.2f} ms   p95 {p95:7.2f} ms"
        f"   max {values[-1]:7.2f} ms   (n={len(values)})"
    )


def run_batches(
    label: str,
    panel: OverviewPanel,
    model: OverviewModel,
    bare: OverviewModel,
    proj: Project,
    per_second: int,
    count: int,
) -> None:
    tags = 0
    bare_ms: list[float] = []
    panel_ms: list[float] = []
    paint_ms: list[float] = []
    viewport = panel.view.viewport()
    for batch, _ in zip(meter_batches(proj, per_second), range(count), strict=False):
        tags = len(batch)
        bare_ms.append(timed(lambda b=batch: bare.apply(b)))  # type: ignore[misc]
        panel_ms.append(timed(lambda b=batch: model.apply(b)))  # type: ignore[misc]
        paint_ms.append(timed(viewport.repaint))
        QApplication.processEvents()
    print(f"{label}: {count} batches of {tags} tags")
    figures("model.apply (no view)", bare_ms)
    figures("apply with the overview", panel_ms)
    figures("paint visible grid", paint_ms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bollards", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=10, help="simulated seconds (spread)")
    args = parser.parse_args()

    app = QApplication([])
    apply_theme(app)
    proj = project(args.bollards)
    start = time.perf_counter()
    model = OverviewModel(proj)
    panel = OverviewPanel(model)
    panel.resize(1600, 1000)
    panel.show()
    app.processEvents()
    print(f"{args.bollards} bollards, {AREAS} areas, {CONNECTORS} connectors each")
    first_paint = timed(panel.view.viewport().repaint)
    built = (time.perf_counter() - start) * 1000
    print(
        f"  build model and panel, first paint: {built:.1f} ms (of which paint {first_paint:.1f})"
    )
    visible = sum(
        panel.view.viewport().rect().intersects(panel.view.visualRect(panel.rows.index(r, 0)))
        for r in range(panel.rows.rowCount())
    )
    print(f"  tiles visible in a 1600 x 1000 panel: {visible}")
    bare = OverviewModel(proj)
    first = online(proj)
    bare.apply(first)
    print(
        f"  first batch, {len(first)} tags (all online): {timed(lambda: model.apply(first)):.1f} ms"
    )
    app.processEvents()

    run_batches("spread (10 batches/s)", panel, model, bare, proj, 10, 10 * args.seconds)
    run_batches("burst (every connector in one batch)", panel, model, bare, proj, 1, 20)

    print("filters (change, then paint):")
    steps: list[tuple[str, Callable[[], object]]] = [
        ("area Level 2", lambda: panel.area.setCurrentIndex(3)),
        ("+ state Charging", lambda: panel.states[StateFilter.CHARGING].click()),
        ("all areas (charging)", lambda: panel.area.setCurrentIndex(0)),
        ("+ search 'cp-09'", lambda: panel.search.setText("cp-09")),
        (
            "clear search and state",
            lambda: (panel.search.clear(), panel.states[StateFilter.ALL].click()),
        ),
    ]
    viewport = panel.view.viewport()
    for name, step in steps:
        change, paint = timed(step), timed(viewport.repaint)
        rows = panel.rows.rowCount()
        print(f"  {name:<24} {change:6.2f} ms + paint {paint:6.2f} ms  ({rows} rows)")
    panel.close()


if __name__ == "__main__":
    main()
