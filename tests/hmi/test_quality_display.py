"""Values that are not fresh (bad quality, charger offline) are greyed with a marker and
their age in the faceplate, the tiles and the equipment objects — never shown as fresh."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QLabel
from support import ADMIN

from evsuper.core.domain import CommState
from evsuper.core.tags import Quality, Sample
from evsuper.core.timeutil import utcnow
from evsuper.hmi.library.base import ObjectSize
from evsuper.hmi.library.bound import BoundDevice, charge_point_view
from evsuper.hmi.library.equipment import MeterView
from evsuper.hmi.models.overview import OverviewModel
from evsuper.hmi.quality import marked, quality_look, quality_tip, worst
from evsuper.hmi.theme import Palette
from evsuper.hmi.views.overview import OverviewPanel
from evsuper.hmi.widgets.faceplate import Faceplate
from evsuper.project.model import Project
from hmi.sender import Sender

POWER = "CP-001/C1/power_kw"


@pytest.fixture
def model(qapp: Any, project: Project, batch: Any) -> OverviewModel:
    model = OverviewModel(project)
    batch.online("CP-001").online("CP-002").online("CP-003").online("CP-004")
    batch.charging("CP-001", 1, 4711, 11.0).charging("CP-002", 1, 4712, 7.4)
    batch.charging("CP-003", 2, 4713, 22.0)
    model.apply(batch.samples)
    return model


@pytest.fixture
def faceplate(qtbot: Any, themed_app: Any, model: OverviewModel, sender: Sender) -> Faceplate:
    faceplate = Faceplate(model, sender, ["BADGE-0001"])
    faceplate.set_actor(ADMIN)
    qtbot.addWidget(faceplate)
    faceplate.show_charger("CP-001")
    faceplate.resize(420, 900)
    faceplate.show()
    return faceplate


def power_label(faceplate: Faceplate, connector: int = 1) -> QLabel:
    return faceplate._connectors[connector - 1]._values["power"]


def test_the_markers_and_words_are_defined_once() -> None:
    assert [quality_look(q).marker for q in Quality] == ["", "?", "✕", "✕", "—"]
    assert marked("11.0 kW", Quality.UNCERTAIN) == "? 11.0 kW"
    assert marked("11.0 kW", Quality.GOOD) == "11.0 kW"
    assert worst([Quality.GOOD, Quality.BAD, Quality.UNCERTAIN]) is Quality.BAD
    assert worst([]) is Quality.GOOD
    now = utcnow()
    tip = quality_tip(Quality.BAD, now - timedelta(seconds=90), now)
    assert tip.startswith("Bad — value from ") and tip.endswith("1 min 30 s old")


def test_the_model_keeps_a_value_quality_and_signals_its_change(model: OverviewModel) -> None:
    changed: list[int] = []
    model.dataChanged.connect(lambda top, _bottom, _roles=(): changed.append(top.row()))
    since = utcnow()
    model.apply({POWER: Sample(11.0, since, Quality.BAD)})  # same value, other quality
    assert changed == [0]
    state = model.state("CP-001")
    assert state is not None
    stale = state.value_quality("power_kw", 1)
    assert stale is not None and (stale.quality, stale.since) == (Quality.BAD, since)
    model.apply({POWER: Sample(11.0, utcnow(), Quality.BAD)})  # still bad: nothing new
    assert changed == [0]
    model.apply({POWER: Sample(11.0)})
    assert changed == [0, 0] and state.value_quality("power_kw", 1) is None


def test_every_value_of_an_offline_charger_is_last_known(model: OverviewModel) -> None:
    seen = utcnow() - timedelta(minutes=3)
    model.apply({"CP-001/last_seen": Sample(seen), "CP-001/comm": Sample(CommState.OFFLINE)})
    state = model.state("CP-001")
    assert state is not None
    stale = state.value_quality("power_kw", 1)
    assert stale is not None
    assert (stale.quality, stale.since, stale.reason) == (
        Quality.COMM_FAILURE,
        seen,
        "charger offline",
    )
    never = model.state("CP-012")
    assert never is not None and never.value_quality("soc", 1) is not None


def test_the_faceplate_greys_a_bad_value_with_its_marker_and_age(
    qtbot: Any, faceplate: Faceplate, model: OverviewModel
) -> None:
    label = power_label(faceplate)
    assert label.text() == "11.0 kW" and label.toolTip() == ""
    fresh_colour = label.palette().color(QPalette.ColorRole.WindowText)
    model.apply({POWER: Sample(11.0, utcnow() - timedelta(seconds=75), Quality.COMM_FAILURE)})
    assert label.text() == "✕ 11.0 kW"
    assert label.property("quality") == "stale"
    assert label.palette().color(QPalette.ColorRole.WindowText) == Palette.TEXT_MUTED
    assert label.palette().color(QPalette.ColorRole.WindowText) != fresh_colour
    assert label.toolTip().startswith("Communication failure — value from ")
    assert label.toolTip().endswith("1 min 15 s old")
    energy = faceplate._connectors[0]._values["energy"]
    assert energy.text() == "4.20 kWh"  # its own tag is still good
    model.apply({"CP-001/C1/soc": Sample(55.0, quality=Quality.UNCERTAIN)})
    assert faceplate._connectors[0]._values["soc"].text() == "? 55 %"
    faceplate.grab().save("/tmp/faceplate_bad_quality.png")

    model.apply({POWER: Sample(10.5)})
    assert label.text() == "10.5 kW" and label.property("quality") == "good"
    assert label.toolTip() == ""


def test_an_offline_charger_never_shows_its_last_power_as_fresh(
    faceplate: Faceplate, model: OverviewModel
) -> None:
    seen = utcnow() - timedelta(minutes=2)
    model.apply({"CP-001/last_seen": Sample(seen), "CP-001/comm": Sample(CommState.OFFLINE)})
    label = power_label(faceplate)
    assert label.text() == "✕ 11.0 kW" and label.property("quality") == "stale"
    assert label.toolTip().startswith("Communication failure (charger offline) — value from ")
    assert label.toolTip().endswith("2 min old")
    assert faceplate._info["status"].text() == "✕ Available"
    assert not faceplate._connectors[0].stop.isEnabled()
    model.apply({"CP-001/comm": Sample(CommState.ONLINE)})
    assert label.text() == "11.0 kW" and faceplate._connectors[0].stop.isEnabled()


def test_a_tile_greys_a_bad_value_and_stops_its_flow(model: OverviewModel) -> None:
    model.apply({"CP-002/C1/power_kw": Sample(7.4, quality=Quality.BAD)})
    state = model.state("CP-002")
    assert state is not None
    view = charge_point_view(state)
    point = view.connectors[0]
    assert point.quality is Quality.BAD and not point.flowing and not view.flowing()
    row = view.rows()[0]
    assert (row.value, row.quality) == ("7.4 kW", Quality.BAD)
    assert "connector 1 charging (values bad)" in view.words()
    fresh = model.state("CP-001")
    assert fresh is not None and charge_point_view(fresh).rows()[0].quality is Quality.GOOD


def test_the_overview_with_bad_values_and_an_offline_charger(
    qtbot: Any, themed_app: Any, model: OverviewModel
) -> None:
    model.apply(
        {
            "CP-002/C1/power_kw": Sample(7.4, quality=Quality.COMM_FAILURE),
            "CP-003/C2/power_kw": Sample(22.0, quality=Quality.UNCERTAIN),
            "CP-004/comm": Sample(CommState.OFFLINE),
        }
    )
    panel = OverviewPanel(model)
    qtbot.addWidget(panel)
    panel.resize(1000, 420)
    panel.show()
    qtbot.waitExposed(panel)
    panel.grab().save("/tmp/overview_bad_quality.png")


def test_a_bound_meter_greys_its_values_while_its_tags_are_bad(qtbot: Any) -> None:
    meter = BoundDevice(
        MeterView("Site meter", limit_kw=250.0),
        {"power_kw": "meter/power_kw", "energy_kwh": "meter/energy_kwh"},
        ObjectSize.TILE,
    )
    qtbot.addWidget(meter)
    meter.apply({"meter/power_kw": Sample(120.0), "meter/energy_kwh": Sample(5000.0)})
    assert meter.view.quality is Quality.GOOD and meter.view.flowing()
    meter.apply({"meter/power_kw": Sample(120.0, quality=Quality.COMM_FAILURE)})
    assert meter.view.quality is Quality.COMM_FAILURE
    assert not meter.view.flowing()
    assert all(row.quality is Quality.COMM_FAILURE for row in meter.view.rows())
    assert "values communication failure" in meter.view.words()
    meter.apply({"meter/power_kw": Sample(118.0)})
    assert meter.view.quality is Quality.GOOD
