from __future__ import annotations

import itertools
import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from evsuper.alarms.model import ChargerAlarm, Priority
from evsuper.core.domain import CommState, ConnectorStatus, RegistrationStatus
from evsuper.core.tags import Sample
from evsuper.hmi.library.base import SYMBOL_SIZE, ObjectSize, ObjectView, paint_object, size_hint
from evsuper.hmi.library.bound import BoundChargePoint, BoundDevice
from evsuper.hmi.library.charger import (
    BollardView,
    ConnectorPoint,
    ConnectorView,
    Current,
    WallboxView,
)
from evsuper.hmi.library.equipment import Breaker, FeederView, MeterView
from evsuper.hmi.library.gallery import catalogue, main
from evsuper.hmi.library.widget import LibraryObject, flow_clock
from evsuper.hmi.models.overview import OverviewModel
from evsuper.hmi.theme import Palette
from evsuper.project.model import Project
from hmi.conftest import TagBatch

OBJECTS = catalogue()
CASES = [
    pytest.param(title, samples, size, id=f"{title}-{size.value}")
    for title, samples in OBJECTS
    for size in ObjectSize
]


def render(view: ObjectView, size: ObjectSize) -> QImage:
    hint = size_hint(view, size)
    image = QImage(hint, QImage.Format.Format_RGB32)
    image.fill(Palette.BACKGROUND)
    painter = QPainter(image)
    paint_object(painter, QRectF(image.rect()), view, size)
    painter.end()
    return image


def grey(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_Grayscale8)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1)
    return rows[:, : image.width()].astype(np.int16)


def test_the_catalogue_has_every_object_and_state() -> None:
    titles = [title for title, _ in OBJECTS]
    assert titles == [
        "AC bollard",
        "DC bollard",
        "Wallbox",
        "Connector",
        "Site meter",
        "PV inverter",
        "Battery",
        "Feeder / breaker",
    ]
    charger_states = [state for state, _ in OBJECTS[0][1]]
    for state in (
        "Available",
        "Preparing",
        "Charging",
        "Suspended EV",
        "Suspended EVSE",
        "Finishing",
        "Reserved",
        "Unavailable",
        "Faulted",
        "Offline",
        "Not seen",
        "Out of service",
        "Alarm P1 unack.",
    ):
        assert state in charger_states


@pytest.mark.parametrize(("title", "samples", "size"), CASES)
def test_every_state_renders_as_a_widget(
    qtbot: QtBot, title: str, samples: list[tuple[str, ObjectView]], size: ObjectSize
) -> None:
    for state, view in samples:
        widget = LibraryObject(view, size)
        qtbot.addWidget(widget)
        widget.resize(widget.sizeHint())
        image = widget.grab().toImage()
        assert not image.isNull(), (title, state)
        assert len(np.unique(grey(image))) > 3, (title, state, "drew (almost) nothing")
        assert view.name in widget.accessibleName()
        assert widget.toolTip() == widget.accessibleName()


@pytest.mark.parametrize(("title", "samples", "size"), CASES)
def test_states_differ_without_colour(
    qapp: QApplication, title: str, samples: list[tuple[str, ObjectView]], size: ObjectSize
) -> None:
    """Any two states differ in greyscale by a visible mark, not by a shade."""
    images = {state: grey(render(view, size)) for state, view in samples}
    for (a, image_a), (b, image_b) in itertools.combinations(images.items(), 2):
        if image_a.shape != image_b.shape:
            continue  # another height: already told apart
        visible = np.count_nonzero(np.abs(image_a - image_b) > 40)
        assert visible >= 30, f"{title} {size.value}: {a!r} and {b!r} look alike in grey"


def test_states_differ_in_words(qapp: QApplication) -> None:
    for title, samples in OBJECTS:
        words = [view.description() for _, view in samples]
        assert len(set(words)) == len(words), title


def test_charger_words_and_codes() -> None:
    view = BollardView(
        "CP-001",
        (
            ConnectorPoint(1, ConnectorStatus.CHARGING, 11.0, 22.0),
            ConnectorPoint(2, ConnectorStatus.FAULTED, error_code="GroundFailure"),
        ),
        Current.DC,
        alarm=ChargerAlarm(Priority.HIGH, unacknowledged=True, count=1),
    )
    assert view.kind() == "DC bollard · 2 connectors"
    assert view.code() == "FAULT"
    assert view.words() == "connector 1 charging 11.0 kW, connector 2 faulted (GroundFailure)"
    assert "1 (highest: High, unacknowledged)" in view.description()
    assert replace(view, comm=CommState.OFFLINE).code() == "OFFLINE"
    assert replace(view, out_of_service=True).code() == "OOS"
    assert view.frame().alarm_border


def test_feeder_over_limit_and_tripped() -> None:
    feeder = FeederView("Feeder A", power_kw=300.0, limit_kw=250.0)
    assert feeder.over_limit and feeder.frame().badge == "OVER LIMIT"
    assert not feeder.frame().alarm_border  # an overload is no alarm unless an alarm says so
    tripped = replace(feeder, breaker=Breaker.TRIPPED, power_kw=0.0)
    assert tripped.code() == "TRIPPED" and not tripped.flowing()


@pytest.fixture
def model(qapp: QApplication, project: Project) -> OverviewModel:
    return OverviewModel(project)


def test_bound_charge_point_follows_live_tags(
    qtbot: QtBot, model: OverviewModel, batch: TagBatch
) -> None:
    bollard = BoundChargePoint(model, "CP-001", size=ObjectSize.SYMBOL)
    connector = BoundChargePoint(model, "CP-001", ConnectorView, connector_id=2)
    qtbot.addWidget(bollard)
    qtbot.addWidget(connector)
    assert bollard.view.comm is CommState.UNKNOWN
    assert bollard.view.code() == "NOT SEEN"

    model.apply(batch.online("CP-001").charging("CP-001", 2, 7001, 11.0).samples)

    assert bollard.view.code() == "CHG 11 kW"
    assert [c.status for c in bollard.view.connectors] == [
        ConnectorStatus.AVAILABLE,
        ConnectorStatus.CHARGING,
    ]
    assert connector.view.name == "CP-001 · 2"
    assert [c.number for c in connector.view.connectors] == [2]
    assert "connector 2 charging 11.0 kW" in connector.accessibleName()

    other = type(batch)().online("CP-002").samples
    before = bollard.view
    model.apply(other)
    assert bollard.view is before  # another charger's row: nothing rebuilt

    model.apply(type(batch)().charger("CP-001", comm=CommState.OFFLINE).samples)
    assert bollard.view.frame().badge == "OFFLINE"
    assert "Offline" in bollard.toolTip()

    bollard.set_out_of_service(True)
    assert bollard.view.code() == "OOS"


def test_bound_charge_point_of_a_charger_accepted_at_run_time(
    qtbot: QtBot, model: OverviewModel, batch: TagBatch
) -> None:
    bollard = BoundChargePoint(model, "CP-900", WallboxView)
    qtbot.addWidget(bollard)
    assert bollard.view.kind() == "AC wallbox · 1 connector"
    model.apply(batch.charger("CP-900", comm=CommState.ONLINE).samples)
    assert bollard.view.comm is CommState.UNKNOWN  # pending: not a row yet
    model.apply(
        type(batch)()
        .charger("CP-900", registration=RegistrationStatus.ACCEPTED)
        .connector("CP-900", 1, status=ConnectorStatus.PREPARING)
        .samples
    )
    assert bollard.view.comm is CommState.ONLINE
    assert bollard.view.connectors[0].status is ConnectorStatus.PREPARING


def test_bound_device_follows_its_tags(qtbot: QtBot, caplog: pytest.LogCaptureFixture) -> None:
    meter = BoundDevice(
        MeterView("Grid meter", limit_kw=250.0),
        {"power_kw": "SITE/grid/power_kw", "comm": "SITE/grid/comm"},
    )
    qtbot.addWidget(meter)
    meter.apply({"SITE/grid/power_kw": Sample(-12.5), "SITE/grid/comm": Sample("online")})
    assert meter.view.power_kw == -12.5 and meter.view.comm is CommState.ONLINE
    assert meter.view.code() == "EXP 12 kW"
    assert "export 12.5 kW" in meter.accessibleName()
    with caplog.at_level(logging.WARNING):
        meter.apply({"SITE/grid/power_kw": Sample("lots")})
    assert meter.view.power_kw == -12.5
    assert "unexpected value" in caplog.text
    with pytest.raises(ValueError, match="no field soc"):
        BoundDevice(MeterView("Grid meter"), {"soc": "SITE/grid/soc"})


def test_one_flow_clock_runs_only_while_a_visible_object_charges(qtbot: QtBot) -> None:
    clock = flow_clock()
    idle = BollardView("CP-001", (ConnectorPoint(1, ConnectorStatus.AVAILABLE),))
    charging = replace(idle, connectors=(ConnectorPoint(1, ConnectorStatus.CHARGING, 11.0, 22.0),))
    first, second = LibraryObject(idle), LibraryObject(charging)
    qtbot.addWidget(first)
    qtbot.addWidget(second)
    first.show()
    assert not clock.running
    second.show()
    assert clock.running
    phase = clock.phase
    qtbot.waitUntil(lambda: clock.phase != phase, timeout=2000)

    first.set_view(charging)  # two animated objects, still one timer
    second.hide()
    assert clock.running
    first.set_view(idle)
    assert not clock.running
    second.show()
    assert clock.running
    second.set_view(replace(charging, comm=CommState.OFFLINE))  # last known, not animated
    assert not clock.running


def test_an_object_changes_size(qtbot: QtBot) -> None:
    view = BollardView("CP-001", (ConnectorPoint(1), ConnectorPoint(2)))
    widget = LibraryObject(view)
    qtbot.addWidget(widget)
    assert widget.sizeHint().height() == 28 + 2 * 40 + 6  # as high as an overview tile
    widget.set_object_size(ObjectSize.SYMBOL)
    assert widget.object_size is ObjectSize.SYMBOL
    assert widget.sizeHint() == SYMBOL_SIZE


def test_gallery_writes_the_sheet(qapp: QApplication, tmp_path: Path) -> None:
    out = tmp_path / "library.png"
    assert main(["gallery", str(out)]) == 0
    sheet = QImage(str(out))
    assert sheet.width() > 2000 and sheet.height() > 3000
