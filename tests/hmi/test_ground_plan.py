"""The ground plan: symbols at their places, live, tooltips, faceplate, and edit mode."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter
from PySide6.QtWidgets import QApplication

from evsuper.core.domain import ConnectorStatus
from evsuper.core.tags import Sample
from evsuper.engine.commands import CommandRouter, SaveLayout
from evsuper.engine.layout_target import LayoutTarget
from evsuper.hmi.library.widget import flow_clock
from evsuper.hmi.main_window import MainWindow
from evsuper.hmi.models.overview import OverviewModel
from evsuper.hmi.views.ground_plan import BollardItem, DeviceItem, GroundPlanView
from evsuper.project.history import ProjectHistory
from evsuper.project.layout import (
    GRID,
    LAYOUT_FILE,
    DisplaySize,
    Layout,
    PlacedObject,
    ShownValue,
    auto_arrange,
    load_layout,
    save_layout,
)
from evsuper.project.loader import ProjectError, load_project
from evsuper.project.model import AreaConfig, Project, SiteConfig
from evsuper.users.audit import AuditEntry, AuditKind
from evsuper.users.permissions import Actor, Origin, Role
from hmi.sender import Sender

OPERATOR = Actor("olivia", Role.OPERATOR, Origin.HMI)
INTEGRATOR = Actor("ian", Role.INTEGRATOR, Origin.HMI)
DEMO = Path(__file__).resolve().parents[2] / "projects" / "demo"


@pytest.fixture
def planned(project: Project) -> Project:
    """The twelve bollards with a PNG plan and every bollard placed."""
    image = QImage(800, 500, QImage.Format.Format_RGB32)
    image.fill(QColor("#e2e3e4"))
    (project.directory / "plan").mkdir()
    image.save(str(project.directory / "plan" / "site.png"))
    site = dataclasses.replace(project.sites[0], plan="plan/site.png")
    project = dataclasses.replace(project, sites=(site,))
    save_layout(project.directory, auto_arrange(Layout(), project, 800), "ian", "first")
    return project


def make_view(qtbot: Any, project: Project, send: Any = None) -> GroundPlanView:
    view = GroundPlanView(project, OverviewModel(project), send or Sender())
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    qtbot.waitExposed(view)
    return view


def centre(view: GroundPlanView, item: BollardItem) -> QPoint:
    return view.plan.mapFromScene(item.scenePos())


def mouse(view: GroundPlanView, kind: QEvent.Type, at: QPoint, buttons: Any) -> None:
    button = Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
    viewport = view.plan.viewport()
    event = QMouseEvent(
        kind,
        QPointF(at),
        QPointF(viewport.mapToGlobal(at)),
        button,
        buttons,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(viewport, event)


def drag(view: GroundPlanView, start: QPoint, end: QPoint) -> None:
    left = Qt.MouseButton.LeftButton
    mouse(view, QEvent.Type.MouseButtonPress, start, left)
    for step in range(1, 6):
        mouse(view, QEvent.Type.MouseMove, start + (end - start) * step / 5, left)
    mouse(view, QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton)


def rendered(item: BollardItem) -> QImage:
    rect = item.sceneBoundingRect()
    image = QImage(int(rect.width()), int(rect.height()), QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    item.scene().render(painter, QRectF(image.rect()), rect)
    painter.end()
    return image


def test_one_symbol_per_bollard_at_its_place(qtbot: Any, planned: Project) -> None:
    view = make_view(qtbot, planned)
    layout = load_layout(planned)

    scene_items = [i for i in view.scenes["SITE"].items() if isinstance(i, BollardItem)]
    assert sorted(i.charger_id for i in scene_items) == [c.id for c in planned.chargers]
    for item in scene_items:
        placed = layout.get(item.charger_id)
        assert placed is not None and (item.pos().x(), item.pos().y()) == (placed.x, placed.y)
    assert view.plans["SITE"] == QRectF(0, 0, 800, 500)
    assert view.unplaced() == []
    assert not view.site_box.isVisible()  # one site: no selector


def test_a_live_change_repaints_the_symbol(qtbot: Any, planned: Project, batch: Any) -> None:
    view = make_view(qtbot, planned)
    view.model.apply(batch.online("CP-001").samples)
    item = view.items["CP-001"]
    before = rendered(item)
    assert item.view().code() == "AVAIL"

    view.model.apply(batch.charging("CP-001", 1, 7, 11.0).samples)

    assert item.view().code() == "CHG 11 kW"
    assert rendered(item) != before
    assert flow_clock().running  # the plan animates what charges
    view.model.apply(batch.connector("CP-001", 2, status=ConnectorStatus.FAULTED).samples)
    assert item.view().code() == "FAULT" and item.view().frame().alarm_border


def test_the_tooltip_tells_the_live_values(qtbot: Any, planned: Project, batch: Any) -> None:
    view = make_view(qtbot, planned)
    view.model.apply(batch.online("CP-002").charging("CP-002", 1, 7, 11.0).samples)

    text = view.items["CP-002"].tool_tip()

    assert text.splitlines() == [
        "CP-002 — AC bollard · 2 connectors",
        "Online",
        "Connector 1: Charging, 11.0 kW, SoC 55 %, 4.20 kWh",
        "Connector 2: Available",
        "Alarms: none",
    ]


def test_a_click_opens_the_faceplate(qtbot: Any, planned: Project) -> None:
    view = make_view(qtbot, planned)
    at = centre(view, view.items["CP-003"])
    with qtbot.waitSignal(view.chargerSelected) as selected:
        qtbot.mouseClick(view.plan.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert selected.args == ["CP-003"]


def test_edit_mode_is_for_integrators_only(qtbot: Any, planned: Project) -> None:
    view = make_view(qtbot, planned)
    view.set_actor(OPERATOR)

    assert not view.edit_button.isEnabled()
    assert "edit-project" in view.edit_button.toolTip()
    assert view.set_edit_mode(True) is False and not view.editing

    view.set_actor(INTEGRATOR)
    assert view.edit_button.isEnabled()
    assert view.set_edit_mode(True) is True and view.editing
    assert view.save_button.isVisible() and view.properties.isVisible()

    view.set_actor(OPERATOR)  # logged out while editing: edit mode ends
    assert not view.editing


def test_a_drag_snaps_to_the_grid_and_is_saved_through_the_router(
    qtbot: Any, planned: Project
) -> None:
    audit: list[AuditEntry] = []
    router = CommandRouter(audit=audit.append)
    router.add_target(LayoutTarget(planned))

    def send(command: Any, callback: Any) -> None:
        callback(asyncio.run(router.execute(dataclasses.replace(command, actor=INTEGRATOR))))

    view = make_view(qtbot, planned, send)
    view.set_actor(INTEGRATOR)
    view.set_edit_mode(True)
    item = view.items["CP-001"]
    start = item.pos()
    drag(view, centre(view, item), centre(view, item) + QPoint(97, 43))

    assert item.pos() != start
    assert item.pos().x() % GRID == 0 and item.pos().y() % GRID == 0
    placed = view.draft.get("CP-001")
    assert placed is not None and (placed.x, placed.y) == (item.pos().x(), item.pos().y())
    assert view.dirty and view.save_button.isEnabled()

    view.save_button.click()

    assert not view.dirty
    assert "Saved" in view.result_line.text()
    assert load_layout(planned) == view.draft
    [entry] = audit
    assert (entry.kind, entry.action, entry.target) == (
        AuditKind.PROJECT_CHANGE,
        "SaveLayout",
        LAYOUT_FILE,
    )
    assert ProjectHistory(planned.directory).versions()[-1].author == "ian"
    again = make_view(qtbot, planned)
    assert again.items["CP-001"].pos() == item.pos()


def test_properties_change_label_size_and_values(qtbot: Any, planned: Project) -> None:
    sender = Sender()
    view = make_view(qtbot, planned, sender)
    view.set_actor(INTEGRATOR)
    view.set_edit_mode(True)
    item = view.items["CP-004"]
    item.setSelected(True)
    assert view.label_edit.isEnabled()

    qtbot.keyClicks(view.label_edit, "Bay 4")
    view.size_box.setCurrentIndex(view.size_box.findData(DisplaySize.TILE))
    view.size_box.activated.emit(view.size_box.currentIndex())
    view.value_boxes[ShownValue.POWER].click()
    view.value_boxes[ShownValue.ENERGY].click()

    assert item.placed == PlacedObject(
        "CP-004",
        "SITE",
        item.placed.x,
        item.placed.y,
        "Bay 4",
        DisplaySize.TILE,
        (ShownValue.ENERGY,),
    )
    assert item.view().name == "Bay 4"
    assert item.boundingRect().width() > 200  # a tile
    view.save_button.click()
    command = sender.last
    assert isinstance(command, SaveLayout) and command.layout.get("CP-004") == item.placed

    view.discard_button.click()  # not answered yet: discard brings the saved layout back
    assert view.items["CP-004"].placed.label == ""


def test_auto_arrange_places_the_bollards_without_a_place(qtbot: Any, project: Project) -> None:
    (project.directory / LAYOUT_FILE).unlink(missing_ok=True)  # no layout.toml, no plan
    view = make_view(qtbot, project)
    assert len(view.unplaced()) == 12 and not view.items
    assert "12 bollards have no place" in view.status.text()
    assert "no plan image" in view.status.text()
    view.set_actor(INTEGRATOR)
    view.set_edit_mode(True)

    view.arrange_button.click()

    assert view.unplaced() == [] and len(view.items) == 12
    assert all(p.x % GRID == 0 and p.y % GRID == 0 for p in view.draft.objects)
    assert view.dirty and not view.arrange_button.isEnabled()
    assert view.set_edit_mode(False) is False  # save or discard first
    view.discard_button.click()
    assert not view.items and view.set_edit_mode(False)


def test_a_site_selector_when_there_are_several_sites(qtbot: Any, project: Project) -> None:
    chargers = tuple(
        dataclasses.replace(c, area="B0" if i >= 8 else "A0")
        for i, c in enumerate(project.chargers)
    )
    project = dataclasses.replace(
        project,
        sites=(SiteConfig("A", "North"), SiteConfig("B", "South")),
        areas=(AreaConfig("A0", "A"), AreaConfig("B0", "B")),
        chargers=chargers,
    )
    save_layout(project.directory, auto_arrange(Layout(), project, 600), "ian", "sites")
    view = make_view(qtbot, project)

    assert view.site_box.isVisible() and view.site_box.count() == 2
    view.site_box.setCurrentIndex(1)

    assert view.site_id == "B" and view.plan.scene() is view.scenes["B"]
    shown = [i.charger_id for i in view.scenes["B"].items() if isinstance(i, BollardItem)]
    assert sorted(shown) == ["CP-009", "CP-010", "CP-011", "CP-012"]


def test_zoom_and_fit(qtbot: Any, planned: Project) -> None:
    view = make_view(qtbot, planned)
    view.plan.fit()
    fitted = view.plan.transform().m11()
    qtbot.keyClick(view.plan, Qt.Key.Key_Plus)
    assert view.plan.transform().m11() == pytest.approx(fitted * 1.25)
    qtbot.keyClick(view.plan, Qt.Key.Key_F)
    assert view.plan.transform().m11() == pytest.approx(fitted)


def test_the_demo_plan_holds_its_twelve_bollards(qtbot: Any) -> None:
    project = load_project(DEMO)
    view = make_view(qtbot, project)
    plan = view.plans["DEMO"]
    assert plan is not None and plan.width() > 1000
    on_plan = [i for i in view.items.values() if i.placed.site == "DEMO"]
    assert sum(isinstance(i, BollardItem) for i in on_plan) == 12 and view.unplaced() == []
    assert isinstance(view.items["METER"], DeviceItem)  # the site meter
    assert all(plan.contains(item.sceneBoundingRect()) for item in on_plan)


def test_the_main_window_opens_the_plan_and_the_faceplate(
    qtbot: Any, themed_app: Any, planned: Project
) -> None:
    window = MainWindow(planned, Sender())
    qtbot.addWidget(window)
    window.show()
    window.ground_plan_button.click()
    plan = window.ground_plan
    assert plan is not None and plan.isVisible()
    plan.chargerSelected.emit("CP-005")
    assert window.faceplate_dock.isVisible()
    assert window.faceplate.charger_id == "CP-005"


# ---- site devices on the plan (meter, PV, battery, feeder)

DEVICES = """
[[objects]]
id = "METER"
site = "SITE"
x = 700
y = 420
label = "Site meter"
size = "symbol"
show = ["power", "energy"]
kind = "meter"
prefix = "SITE/meter"
device = "site-meter"
rating_kw = 250

[[objects]]
id = "PV"
site = "SITE"
x = 560
y = 420
size = "symbol"
show = ["power"]
kind = "pv"
prefix = "SITE/pv"
"""


@pytest.fixture
def with_devices(planned: Project) -> Project:
    file = planned.directory / LAYOUT_FILE
    file.write_text(file.read_text() + DEVICES)
    return planned


def test_layout_devices_round_trip_and_are_checked(with_devices: Project) -> None:
    layout = load_layout(with_devices)
    meter = layout.get("METER")
    assert meter is not None and meter.is_device and meter.rating_kw == 250.0
    assert load_layout(with_devices) == layout
    from evsuper.project.layout import layout_text, parse_layout

    assert parse_layout(layout_text(layout), Path("layout.toml"), with_devices) == layout
    file = with_devices.directory / LAYOUT_FILE
    file.write_text(file.read_text().replace('prefix = "SITE/pv"\n', ""))
    with pytest.raises(ProjectError) as error:
        load_layout(with_devices)
    assert error.value.field.endswith("prefix") and "prefix" in error.value.message


def test_devices_are_painted_from_their_tags_and_open_their_faceplate(
    qtbot: Any, themed_app: Any, with_devices: Project, batch: Any, tmp_path: Path
) -> None:
    window = MainWindow(with_devices, Sender())
    qtbot.addWidget(window)
    window.show()
    window.apply_tags({"SITE/meter/power_kw": Sample(96.0), **batch.online("CP-001").samples})
    plan = window.show_ground_plan()  # made after the first values: it starts from them
    qtbot.addWidget(plan)  # a window of its own: closed with the test like the main window
    meter = plan.items["METER"]
    assert isinstance(meter, DeviceItem)
    assert meter.value_texts() == ["96.0 kW", "—"]
    window.apply_tags({"SITE/meter/power_kw": Sample(120.5), "SITE/pv/power_kw": Sample(31.0)})
    assert meter.value_texts()[0] == "120.5 kW"
    assert "PV inverter" in plan.items["PV"].tool_tip()
    assert plan.grab().save(str(tmp_path / "plan_with_devices.png"))

    with qtbot.waitSignal(plan.deviceSelected) as selected:
        at = centre(plan, meter)  # type: ignore[arg-type]
        mouse(plan, QEvent.Type.MouseButtonPress, at, Qt.MouseButton.LeftButton)
        mouse(plan, QEvent.Type.MouseButtonRelease, at, Qt.MouseButton.NoButton)
    assert selected.args == ["METER"]
    faceplate = window.device_faceplates["METER"]
    qtbot.addWidget(faceplate)
    assert faceplate.isVisible() and faceplate.values["power_kw"].text() == "120.5 kW"
    window.apply_tags({"SITE/meter/power_kw": Sample(80.0)})
    assert faceplate.values["power_kw"].text() == "80.0 kW"
    window.close()  # the windows opened from the main window close with it
    assert not plan.isVisible() and not faceplate.isVisible()
