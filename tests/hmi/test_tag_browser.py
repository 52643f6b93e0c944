"""The tag browser: every tag live, filtered by path and quality, writes through WriteTag."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from support import ADMIN

from evsuper.core.domain import ConnectorStatus
from evsuper.core.tags import Quality, Sample, TagPath
from evsuper.engine.commands import CommandResult, Outcome, WriteTag
from evsuper.hmi.bridge import ReadFailed
from evsuper.hmi.main_window import MainWindow
from evsuper.hmi.models.rows import row_runs
from evsuper.hmi.models.tag_browser import (
    RESET_ABOVE,
    Column,
    TagBrowserModel,
    TagFilter,
    tag_unit,
)
from evsuper.hmi.theme import Palette
from evsuper.hmi.views.tag_browser import TagBrowserView, parse_value, value_kind
from evsuper.project.model import Project
from evsuper.users.permissions import Actor, Role
from hmi.sender import Sender

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
SETPOINT = "meter/limit_kw"


def site_tags() -> dict[TagPath, Sample]:
    return {
        "CP-001/C1/power_kw": Sample(11.04, NOW - timedelta(seconds=3)),
        "CP-001/C1/status": Sample(ConnectorStatus.CHARGING, NOW - timedelta(minutes=5)),
        "CP-001/C1/soc": Sample(55.0, NOW),
        "CP-002/C1/power_kw": Sample(0.0, NOW),
        "meter/power_kw": Sample(42.5, NOW - timedelta(seconds=125), quality=Quality.COMM_FAILURE),
        SETPOINT: Sample(150.0, NOW),
        "_system/archive/state": Sample("ok", NOW),
    }


def text(model: Any, row: int, column: Column) -> str:
    return str(model.index(row, column).data())


@pytest.fixture
def model(qapp: QApplication) -> TagBrowserModel:
    model = TagBrowserModel(now=lambda: NOW)
    model.apply(site_tags())
    model.set_watched(True)
    return model


@pytest.fixture
def writable() -> Callable[..., None]:
    def source(callback: Callable[[frozenset[TagPath]], None], failed: ReadFailed) -> None:
        callback(frozenset({SETPOINT}))

    return source


@pytest.fixture
def view(
    qtbot: Any, themed_app: Any, model: TagBrowserModel, sender: Sender, writable: Any
) -> TagBrowserView:
    view = TagBrowserView(model, sender, writable)
    view.set_actor(ADMIN)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_rows_are_sorted_with_value_unit_quality_and_age(model: TagBrowserModel) -> None:
    paths = [model.path_at(row) for row in range(model.rowCount())]
    assert paths == sorted(site_tags())
    row = model.row_of("CP-001/C1/power_kw")
    assert row is not None
    assert text(model, row, Column.VALUE) == "11.04"
    assert text(model, row, Column.UNIT) == "kW"
    assert text(model, row, Column.QUALITY) == "Good"
    assert text(model, row, Column.AGE) == "3 s"
    assert model.index(row, Column.VALUE).data(Qt.ItemDataRole.ForegroundRole) is None
    status = model.row_of("CP-001/C1/status")
    assert status is not None and text(model, status, Column.VALUE) == "Charging"


def test_a_bad_value_is_greyed_with_its_marker_and_age(model: TagBrowserModel) -> None:
    row = model.row_of("meter/power_kw")
    assert row is not None
    assert text(model, row, Column.VALUE) == "✕ 42.5"
    assert text(model, row, Column.QUALITY) == "✕ Communication failure"
    assert text(model, row, Column.AGE) == "2 min 5 s"
    value = model.index(row, Column.VALUE)
    assert value.data(Qt.ItemDataRole.ForegroundRole) == Palette.TEXT_MUTED
    assert value.data(Qt.ItemDataRole.FontRole).italic()
    tip = value.data(Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("Communication failure — value from ") and tip.endswith("2 min 5 s old")


def test_batches_change_rows_in_place_and_insert_new_tags_in_order(
    qtbot: Any, model: TagBrowserModel
) -> None:
    resets: list[int] = []
    inserted: list[tuple[int, int]] = []
    changed: list[tuple[int, int]] = []
    model.modelReset.connect(lambda: resets.append(1))
    model.rowsInserted.connect(lambda _p, first, last: inserted.append((first, last)))
    model.dataChanged.connect(lambda a, b, _r=(): changed.append((a.row(), b.row())))
    model.apply(
        {
            "CP-001/C1/power_kw": Sample(7.2, NOW),
            "CP-001/C1/soc": Sample(56.0, NOW),
            "CP-001/C2/power_kw": Sample(0.0, NOW),  # new: between C1/status and CP-002
        }
    )
    assert not resets
    row = model.row_of("CP-001/C2/power_kw")
    assert inserted == [(row, row)] and row == 3
    assert changed == [(0, 1)]  # C1/power_kw and C1/soc, one run (sorted: power, soc, status)
    assert text(model, 0, Column.VALUE) == "7.2"


def test_the_start_snapshot_is_one_reset(qapp: QApplication) -> None:
    model = TagBrowserModel()
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    model.apply({f"T/{n:05}": Sample(float(n)) for n in range(RESET_ABOVE + 1)})
    assert resets == [1] and model.rowCount() == RESET_ABOVE + 1


def test_filter_by_prefix_glob_and_quality(model: TagBrowserModel) -> None:
    rows = TagFilter(model)

    def shown() -> list[str]:
        return [rows.index(r, 0).data() for r in range(rows.rowCount())]

    rows.set_pattern("cp-001/")
    assert shown() == ["CP-001/C1/power_kw", "CP-001/C1/soc", "CP-001/C1/status"]
    rows.set_pattern("*/power_kw")
    assert shown() == ["CP-001/C1/power_kw", "CP-002/C1/power_kw", "meter/power_kw"]
    rows.set_pattern("")
    rows.set_only_bad(True)
    assert shown() == ["meter/power_kw"]
    # a quality change in a batch moves rows in and out of "only bad"
    model.apply(
        {
            "meter/power_kw": Sample(43.0, NOW),
            "CP-002/C1/power_kw": Sample(0.0, NOW, Quality.UNCERTAIN),
        }
    )
    assert shown() == ["CP-002/C1/power_kw"]


def test_a_closed_browser_costs_no_signals_and_is_current_when_shown_again(
    qtbot: Any, view: TagBrowserView
) -> None:
    model = view.model
    view.only_bad.setChecked(True)
    view.hide()
    assert not model.watched
    changed: list[int] = []
    model.dataChanged.connect(lambda *_: changed.append(1))
    model.apply({"CP-001/C1/soc": Sample(56.0, NOW, Quality.BAD)})
    assert not changed
    view.show()
    assert model.watched
    assert view.count.text() == "2 of 7 tags"  # the soc went bad while closed


def test_near_changes_are_one_signal() -> None:
    assert row_runs([1, 2, 5, 30, 31, 60], 3) == [(1, 5), (30, 31), (60, 60)]
    assert row_runs([], 8) == []


def test_units_from_the_tag_name() -> None:
    assert tag_unit("CP-001/C1/energy_kwh") == "kWh"
    assert tag_unit("CP-001/C1/soc") == "%"
    assert tag_unit("CP-001/C1/setpoint_a") == "A"
    assert tag_unit("CP-001/comm") == ""


def test_the_view_filters_and_counts(qtbot: Any, view: TagBrowserView) -> None:
    assert view.count.text() == "7 tags"
    view.only_bad.setChecked(True)
    assert view.count.text() == "1 of 7 tags"
    view.table.selectRow(0)
    view.grab().save("/tmp/tag_browser_bad.png")
    view.only_bad.setChecked(False)
    qtbot.keyClicks(view.pattern, "CP-001")
    assert view.count.text() == "3 of 7 tags"
    view.pattern.clear()
    view.select(SETPOINT)
    assert view.write.isEnabled()
    view.grab().save("/tmp/tag_browser.png")


def test_a_writable_tag_is_written_with_a_typed_value(
    qtbot: Any, view: TagBrowserView, sender: Sender
) -> None:
    view.select("CP-001/C1/power_kw")
    assert not view.write.isEnabled()  # not a driver's writable tag
    row = view.model.row_of(SETPOINT)
    assert row is not None and text(view.model, row, Column.WRITABLE) == "✎ writable"
    view.select(SETPOINT)
    assert view.write.isEnabled()
    qtbot.mouseClick(view.write, Qt.MouseButton.LeftButton)
    dialog = view.dialog
    assert dialog is not None and dialog.kind is float
    assert dialog.input.text() == "150"
    dialog.input.setText("lots")
    assert not dialog.ok.isEnabled() and dialog.problem.text() == "Enter a number."
    dialog.input.setText("120,5")
    assert dialog.ok.isEnabled()
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    command = sender.last
    assert isinstance(command, WriteTag)
    assert (command.tag, command.value) == (SETPOINT, 120.5)
    assert "waiting for the answer" in view.result.text()
    sender.answer(CommandResult(Outcome.REJECTED, "Rejected", "Modbus exception 2"))
    assert view.result.text().endswith(f"Write 120.5 to {SETPOINT}: Rejected — Modbus exception 2")


def test_writing_needs_the_permission(view: TagBrowserView) -> None:
    view.set_actor(Actor("viewer", Role.VIEWER))
    view.select(SETPOINT)
    assert not view.write.isEnabled()


def test_typed_values() -> None:
    assert value_kind(True) is bool and value_kind(3) is int and value_kind(None) is float
    assert parse_value(" on ", bool) is True
    assert parse_value("-12", int) == -12
    with pytest.raises(ValueError):
        parse_value("1.5", int)
    with pytest.raises(ValueError):
        parse_value("nan", float)
    assert parse_value("abc", str) == "abc"


def test_the_system_menu_opens_one_browser_fed_by_every_batch(
    qtbot: Any, themed_app: Any, project: Project, sender: Sender
) -> None:
    window = MainWindow(project, sender)
    qtbot.addWidget(window)
    entries = [action.text() for action in window.system_menu.actions()]
    assert "Drivers" in entries and "Tag browser" in entries
    window.apply_tags({"CP-001/comm": Sample("online"), "_alarms/x": Sample(None)})
    browser = window.show_tag_browser()
    assert window.show_tag_browser() is browser
    assert browser.model.row_of("_alarms/x") is not None  # alarm tags too
    window.apply_tags({"CP-001/C1/power_kw": Sample(3.0)})
    assert browser.model.row_of("CP-001/C1/power_kw") is not None
    drivers = window.show_drivers()
    assert window.show_drivers() is drivers
    assert drivers.note.text().startswith("No engine")


def test_twenty_thousand_tags_update_without_reset(qtbot: Any, view: TagBrowserView) -> None:
    model = view.model
    model.apply({f"DEV-{d:03}/P{p:03}": Sample(float(p)) for d in range(200) for p in range(100)})
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    batch = {f"DEV-{d:03}/P{p:03}": Sample(p + 0.5) for d in range(0, 200, 2) for p in range(20)}
    model.apply(batch)
    assert not resets
    assert view.count.text() == "20\u202f007 tags"
    row = model.row_of("DEV-198/P019")
    assert row is not None and text(model, row, Column.VALUE) == "19.5"
