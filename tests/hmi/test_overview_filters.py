"""The overview at N bollards: filters by site, area, state and text, counts, live tiles."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QStyleOptionViewItem, QToolTip, QWidget

from evsuper.alarms.model import ChargerAlarm, Priority
from evsuper.core.domain import CommState, ConnectorStatus
from evsuper.core.tags import Sample, connector_tag
from evsuper.hmi.main_window import MainWindow
from evsuper.hmi.models.overview import OverviewModel
from evsuper.hmi.models.overview_filter import StateFilter
from evsuper.hmi.views.overview import OverviewPanel
from evsuper.project.loader import load_project
from evsuper.project.model import AreaConfig, ChargerConfig, ChargerKind, Project, SiteConfig
from hmi.conftest import TagBatch

DEMO = Path(__file__).parents[2] / "projects" / "demo"


def big_project(bollards: int, areas: int, sites: int = 1) -> Project:
    """``bollards`` two-connector bollards spread evenly over ``areas`` areas per site."""
    site_ids = [f"S{s + 1}" for s in range(sites)]
    area_list = [
        AreaConfig(f"{site}-L{a}", site, f"{site} level {a}")
        for site in site_ids
        for a in range(areas)
    ]
    per_area = bollards // len(area_list)
    chargers = tuple(
        ChargerConfig(
            f"CP-{n + 1:04d}",
            area=area_list[min(n // per_area, len(area_list) - 1)].id,
            label=f"Bay {n + 1}" if n % 50 == 7 else "",
            kind=ChargerKind.DC if n % 10 == 0 else ChargerKind.AC,
            max_power_kw=50.0 if n % 10 == 0 else 22.0,
        )
        for n in range(bollards)
    )
    return Project(
        Path("big"),
        f"Car park of {bollards}",
        sites=tuple(SiteConfig(s, f"Site {s}") for s in site_ids),
        areas=tuple(area_list),
        chargers=chargers,
    )


def live_site(project: Project, batch) -> dict:
    """A varied site: most online and idle, some charging, a few faulted, lost, in alarm."""
    for n, charger in enumerate(project.chargers):
        cid = charger.id
        if n % 23 == 5:
            batch.charger(cid, comm=CommState.OFFLINE)
            continue
        if n % 31 == 9:
            continue  # never seen
        batch.online(cid)
        if n % 3 == 0:
            batch.charging(cid, 1, 1000 + n, round(charger.max_power_kw * 0.8, 1))
        if n % 7 == 2:
            batch.charging(cid, 2, 5000 + n, 7.4)
        if n % 37 == 3:
            batch.connector(cid, 2, status=ConnectorStatus.FAULTED, error_code="GroundFailure")
        if n % 41 == 11:
            batch.connector(cid, 1, status=ConnectorStatus.UNAVAILABLE)
            batch.connector(cid, 2, status=ConnectorStatus.UNAVAILABLE)
        if n % 43 == 4:
            batch.charger(cid, alarm=ChargerAlarm(Priority.HIGH, n % 2 == 0, 1))
    return batch.samples


@pytest.fixture
def panel(qtbot, themed_app) -> OverviewPanel:
    panel = OverviewPanel(OverviewModel(big_project(300, 3)))
    qtbot.addWidget(panel)
    panel.resize(1200, 800)
    return panel


def shown_ids(panel: OverviewPanel) -> list[str]:
    return [panel.rows.state_at(row).charger_id for row in range(panel.rows.rowCount())]


def save_shot(widget: QWidget, tmp_path: Path, name: str) -> Path:
    QApplication.processEvents()  # layouts follow the last texts
    folder = Path(os.environ.get("EVSUPER_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    assert widget.grab().save(str(path))
    return path


def test_rows_know_their_area_site_label_and_kind(qapp) -> None:
    model = OverviewModel(big_project(300, 3, sites=2))
    first = model.state("CP-0001")
    assert first is not None
    assert (first.area, first.site, first.kind) == ("S1-L0", "S1", ChargerKind.DC)
    bay = model.state("CP-0008")
    assert bay is not None and bay.name == "Bay 8"
    last = model.state("CP-0300")
    assert last is not None and (last.area, last.site) == ("S2-L2", "S2")


def test_a_charger_accepted_at_run_time_goes_to_the_first_area(qapp, batch) -> None:
    model = OverviewModel(big_project(30, 3, sites=2))
    model.apply(batch.online("NEWCOMER").samples)
    state = model.state("NEWCOMER")
    assert state is not None and (state.area, state.site) == ("S1-L0", "S1")


def test_a_charger_accepted_at_run_time_is_counted_in_the_first_area(
    panel: OverviewPanel, batch
) -> None:
    model = panel.rows.sourceModel()
    assert isinstance(model, OverviewModel)
    panel.area.setCurrentIndex(1)
    model.apply(batch.online("NEWCOMER").samples)
    assert panel.area.itemText(0) == "All areas (301)"
    assert panel.area.currentText() == "S1 level 0 (101)"
    assert shown_ids(panel)[-1] == "NEWCOMER"
    assert panel.rows.count(StateFilter.AVAILABLE) == 1


def test_area_selector_filters_and_counts(panel: OverviewPanel) -> None:
    assert panel.rows.rowCount() == 300
    assert not panel.site.isVisibleTo(panel)  # one site: no site selector
    items = [panel.area.itemText(i) for i in range(panel.area.count())]
    assert items == [
        "All areas (300)",
        "S1 level 0 (100)",
        "S1 level 1 (100)",
        "S1 level 2 (100)",
    ]
    assert panel.area.font().bold()  # hundreds of bollards: the area selector stands out
    panel.area.setCurrentIndex(2)
    ids = shown_ids(panel)
    assert len(ids) == 100 and ids[0] == "CP-0101" and ids[-1] == "CP-0200"
    assert panel.rows.count(StateFilter.ALL) == 100
    assert panel.states[StateFilter.ALL].text() == "All 100"


def test_site_selector_shows_with_several_sites_and_narrows_the_areas(qtbot, themed_app) -> None:
    panel = OverviewPanel(OverviewModel(big_project(120, 2, sites=2)))
    qtbot.addWidget(panel)
    assert panel.site.isVisibleTo(panel)
    panel.select_site("S2")
    items = [panel.area.itemText(i) for i in range(panel.area.count())]
    assert items == ["All areas (60)", "S2 level 0 (30)", "S2 level 1 (30)"]
    assert shown_ids(panel)[0] == "CP-0061" and panel.rows.rowCount() == 60


def test_state_counts_match_and_act_as_filters(panel: OverviewPanel, batch) -> None:
    model = panel.rows.sourceModel()
    assert isinstance(model, OverviewModel)
    model.apply(live_site(model.project, batch))
    states = [model.state_at(row) for row in range(model.rowCount())]
    for state_filter in StateFilter:
        expected = [s.charger_id for s in states if state_filter.matches(s)]
        assert panel.rows.count(state_filter) == len(expected), state_filter
        assert panel.states[state_filter].text() == f"{state_filter.value} {len(expected)}"
        panel.states[state_filter].click()
        assert shown_ids(panel) == expected, state_filter
    assert all(panel.rows.count(f) > 0 for f in StateFilter)

    panel.states[StateFilter.CHARGING].click()  # filters combine: charging in level 2
    panel.area.setCurrentIndex(3)
    shown = shown_ids(panel)
    assert shown and all(int(cid[3:]) > 200 for cid in shown)
    assert len(shown) == panel.rows.count(StateFilter.CHARGING) < panel.rows.count(StateFilter.ALL)


def test_search_by_id_label_and_badge(panel: OverviewPanel, batch) -> None:
    model = panel.rows.sourceModel()
    assert isinstance(model, OverviewModel)
    panel.search.setText("cp-029")
    assert shown_ids(panel) == [f"CP-{n:04d}" for n in range(290, 300)]
    panel.search.setText("Bay 5")  # the label of CP-0058
    assert shown_ids(panel) == ["CP-0058"]
    model.apply(batch.online("CP-0123").charging("CP-0123", 2, 77, 11.0).samples)
    panel.search.setText("badge-0001")
    assert shown_ids(panel) == ["CP-0123"]
    assert panel.rows.count(StateFilter.ALL) == 1
    panel.search.clear()
    assert panel.rows.rowCount() == 300


def test_a_live_change_updates_the_filtered_rows_and_the_tile(panel: OverviewPanel, batch) -> None:
    model = panel.rows.sourceModel()
    assert isinstance(model, OverviewModel)
    for n in range(1, 301):
        batch.online(f"CP-{n:04d}")
    model.apply(batch.samples)
    panel.states[StateFilter.CHARGING].click()
    assert panel.rows.rowCount() == 0
    panel.show()
    model.apply({connector_tag("CP-0042", 1, "status"): Sample(ConnectorStatus.CHARGING)})
    assert shown_ids(panel) == ["CP-0042"]
    assert panel.states[StateFilter.CHARGING].text() == "Charging 1"
    before = panel.view.viewport().grab(panel.view.visualRect(panel.rows.index(0, 0))).toImage()
    model.apply({connector_tag("CP-0042", 1, "power_kw"): Sample(21.0)})
    assert panel.rows.state_at(0).connectors[0].power_kw == 21.0
    after = panel.view.viewport().grab(panel.view.visualRect(panel.rows.index(0, 0))).toImage()
    assert after != before  # the tile shows the new power
    model.apply({connector_tag("CP-0042", 1, "status"): Sample(ConnectorStatus.AVAILABLE)})
    assert panel.rows.rowCount() == 0


def test_a_thousand_bollards_load_and_filter(qtbot, themed_app, batch) -> None:
    project = big_project(1000, 5, sites=2)
    panel = OverviewPanel(OverviewModel(project))
    qtbot.addWidget(panel)
    panel.resize(1600, 1000)
    panel.show()
    model = panel.rows.sourceModel()
    assert isinstance(model, OverviewModel)
    model.apply(live_site(project, batch))
    assert panel.rows.rowCount() == 1000
    assert panel.area.font().bold()
    panel.states[StateFilter.FAULTED].click()
    faulted = shown_ids(panel)
    assert len(faulted) == panel.rows.count(StateFilter.FAULTED) > 0
    panel.select_area("S2-L4")
    assert all(model.state(cid).area == "S2-L4" for cid in shown_ids(panel))  # type: ignore[union-attr]
    panel.states[StateFilter.ALL].click()
    assert panel.rows.rowCount() == 100
    panel.grab()  # paints


def test_selection_follows_the_faceplate_through_the_filter(qtbot, themed_app) -> None:
    demo = load_project(DEMO)
    window = MainWindow(demo, lambda command, callback: None)
    qtbot.addWidget(window)
    window.show()
    panel = window.overview_panel
    last_area = demo.areas[-1].id
    panel.select_area(last_area)
    first = panel.rows.state_at(0).charger_id
    view = window.overview
    rect = view.visualRect(panel.rows.index(0, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.faceplate.charger_id == first
    elsewhere = demo.chargers[0]
    assert elsewhere.area != last_area
    window.show_faceplate(elsewhere.id)  # filtered out: nothing selected
    assert not view.selectionModel().hasSelection()
    panel.select_area("")
    window.show_faceplate(elsewhere.id)
    assert view.currentIndex().row() == 0


def test_tile_tooltip_tells_the_state_and_the_area(panel: OverviewPanel, batch) -> None:
    model = panel.rows.sourceModel()
    assert isinstance(model, OverviewModel)
    model.apply(batch.online("CP-0150").charging("CP-0150", 1, 9, 11.0).samples)
    panel.show()
    panel.search.setText("CP-0150")
    view = panel.view
    rect = view.visualRect(panel.rows.index(0, 0))
    event = QHelpEvent(
        QEvent.Type.ToolTip, rect.center(), view.viewport().mapToGlobal(rect.center())
    )
    option = QStyleOptionViewItem()
    assert view.itemDelegate().helpEvent(event, view, option, panel.rows.index(0, 0))
    text = QToolTip.text()
    assert "CP-0150, AC bollard · 2 connectors: connector 1 charging 11.0 kW" in text
    assert text.endswith("Area: S1 level 1")


def test_render_the_demo_and_three_hundred_bollards(
    qtbot, themed_app, batch, tmp_path: Path
) -> None:
    demo = load_project(DEMO)
    window = MainWindow(demo, lambda command, callback: None)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.apply_tags(live_site(demo, batch))
    assert save_shot(window, tmp_path, "overview_demo.png").stat().st_size > 10_000

    project = big_project(300, 3)
    panel = OverviewPanel(OverviewModel(project))
    qtbot.addWidget(panel)
    panel.resize(1400, 900)
    panel.show()
    qtbot.waitExposed(panel)
    model = panel.rows.sourceModel()
    assert isinstance(model, OverviewModel)
    model.apply(live_site(project, TagBatch()))
    assert save_shot(panel, tmp_path, "overview_300.png").stat().st_size > 10_000
    panel.area.setCurrentIndex(2)
    panel.states[StateFilter.FAULTED].click()
    assert save_shot(panel, tmp_path, "overview_300_faulted.png").stat().st_size > 5_000
