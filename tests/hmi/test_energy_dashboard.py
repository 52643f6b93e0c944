"""The energy dashboard on a real archive: figures, curve, tables sorted by number."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import Engine, insert

from evsuper.core.timeutil import utcnow
from evsuper.historian import energy, schema
from evsuper.historian.archive import create_archive_engine
from evsuper.historian.migrate import upgrade_to_head
from evsuper.hmi.views.energy_dashboard import EnergyDashboardView
from evsuper.project.model import Place


@pytest.fixture
def archive(tmp_path: Any) -> Iterator[Engine]:
    engine = create_archive_engine(f"sqlite:///{tmp_path / 'archive.sqlite'}")
    now = utcnow()
    with engine.begin() as db:
        upgrade_to_head(db)
        db.execute(
            insert(schema.transactions),
            [
                {
                    "id": i,
                    "charger_id": charger,
                    "connector_id": 1,
                    "id_tag": tag,
                    "start_ts": now - timedelta(minutes=minutes + 30),
                    "meter_start_wh": 0,
                    "stop_ts": now - timedelta(minutes=minutes),
                    "meter_stop_wh": wh,
                    "energy_wh": wh,
                }
                for i, (charger, tag, minutes, wh) in enumerate(
                    [("CP-1", "A", 10, 9_000), ("CP-2", "B", 5, 12_500), ("CP-2", "A", 1, 800)],
                    start=1,
                )
            ],
        )
    yield engine
    engine.dispose()


def test_the_dashboard_shows_the_archive(qtbot: Any, themed_app: Any, archive: Engine) -> None:
    load = functools.partial(
        energy.dashboard, archive, {"CP-1": 1, "CP-2": 1}, utcnow().astimezone()
    )
    view = EnergyDashboardView(load, {"A": "Fleet van", "B": "Visitor"})
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: view.board is not None and not view.loading, timeout=5000)
    assert view.figures["sessions"].text() == "3"
    assert view.figures["today"].text() == "22.30 kWh"
    view.set_site_power(18.3)
    assert view.figures["power"].text() == "18.3 kW"
    assert view.bollards.rowCount() == 2 and view.badges.rowCount() == 2
    view.bollards.sortItems(1, Qt.SortOrder.DescendingOrder)  # by kWh, as numbers
    assert [view.bollards.item(r, 0).text() for r in range(2)] == ["CP-2", "CP-1"]
    badges = {view.badges.item(r, 0).text(): view.badges.item(r, 1).text() for r in range(2)}
    assert badges == {"A": "Fleet van", "B": "Visitor"}


def test_sites_areas_and_badge_groups_show_when_there_are_several(
    qtbot: Any, themed_app: Any, archive: Engine
) -> None:
    places = [
        Place("Depot", ("CP-1", "CP-2")),
        Place("Bay 1", ("CP-1",), site="DEPOT"),
        Place("Bay 2", ("CP-2",), site="DEPOT"),
    ]
    now = utcnow().astimezone()
    load = functools.partial(
        energy.dashboard, archive, {"CP-1": 1, "CP-2": 1}, now, places, {"B": "VISITORS"}
    )
    view = EnergyDashboardView(load)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: view.board is not None and not view.loading, timeout=5000)
    assert view.places.isVisibleTo(view) and view.groups.isVisibleTo(view)
    rows = [(view.places.item(r, 0).text(), view.places.item(r, 1).text()) for r in range(3)]
    assert rows == [("Depot", "22.30"), ("    Bay 1", "9.00"), ("    Bay 2", "13.30")]
    assert [view.groups.item(0, c).text() for c in range(3)] == ["VISITORS", "1", "12.50"]
    single = EnergyDashboardView(functools.partial(energy.dashboard, archive, {"CP-1": 1}, now))
    qtbot.addWidget(single)
    single.show()
    qtbot.waitUntil(lambda: single.board is not None and not single.loading, timeout=5000)
    assert not single.places.isVisibleTo(single) and not single.groups.isVisibleTo(single)
