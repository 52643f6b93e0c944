"""The power management view: the tree from a status, binding marks and reasons, the mode
switch with its confirmation, manual limits and the site limit override as commands."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QApplication, QLineEdit
from support import ADMIN

from evsuper.charging.status import ChargingMode, SiteChargingStatus
from evsuper.engine.commands import (
    CommandResult,
    Outcome,
    SetChargingMode,
    SetManualLimit,
    SetSessionNeed,
    SetSiteLimit,
)
from evsuper.hmi.formatting import clock
from evsuper.hmi.models.power_management import (
    BAR_ROLE,
    BINDING_ROLE,
    LIMIT_TEXT,
    Bar,
    Column,
    PowerTreeModel,
)
from evsuper.hmi.session import Session
from evsuper.hmi.views.power_management import (
    NOT_ENABLED,
    NOT_RUNNING,
    EngineChargingSource,
    PowerManagementView,
)
from evsuper.users.permissions import NOBODY
from hmi.charging_status import DEPARTURE, SITE_ID, demo_status
from hmi.sender import Sender

AT = datetime(2026, 11, 22, 10, 15, 30, tzinfo=UTC)


class Source:
    """A `ChargingSource` answering at once with what the test set."""

    def __init__(self, statuses: dict[str, SiteChargingStatus] | None) -> None:
        self.statuses = statuses
        self.reads: list[str] = []

    def sites(self, done: Callable[[list[str] | None], None], failed: Any) -> None:
        self.reads.append("sites")
        done(None if self.statuses is None else list(self.statuses))

    def status(self, site_id: str, done: Callable[[Any], None], failed: Any) -> None:
        self.reads.append(site_id)
        done(None if self.statuses is None else self.statuses[site_id])


def text(model: PowerTreeModel, index: QModelIndex, column: Column) -> str:
    value = model.data(index.siblingAtColumn(column))
    return "" if value is None else str(value)


@pytest.fixture
def source() -> Source:
    return Source({SITE_ID: demo_status(computed_at=AT)})


@pytest.fixture
def view(
    qtbot: Any, themed_app: QApplication, sender: Sender, source: Source
) -> PowerManagementView:
    window = PowerManagementView(source, sender)
    qtbot.addWidget(window)
    window.set_actor(ADMIN)
    window.show()
    return window


def test_the_tree_shows_site_feeders_and_connectors_with_reasons(
    view: PowerManagementView,
) -> None:
    model = view.model
    assert model.rowCount() == 1
    site = model.index(0, 0)
    assert text(model, site, Column.NAME) == "Site Parking Nord"
    assert text(model, site, Column.LIMIT) == "50.0 kW"
    assert [text(model, model.index(r, 0, site), Column.NAME) for r in range(2)] == [
        "Feeder F1",
        "Feeder F2",
    ]
    f1 = model.node_index("F1")
    assert model.rowCount(f1) == 6
    cp1 = model.connector_index("CP-001", 1, Column.NAME)
    assert text(model, cp1, Column.NAME) == "CP-001 · 1"
    assert text(model, cp1, Column.LIMIT) == "6.4 A (4.4 kW)"
    assert text(model, cp1, Column.STATE) == "charging"
    assert text(model, cp1, Column.REASON) == "limited by feeder F1 on L3"
    assert text(model, cp1, Column.NEED) == ""  # not known
    cp2 = model.connector_index("CP-002", 1, Column.NEED)
    assert text(model, cp2, Column.NEED) == f"12.50 kWh by {clock(DEPARTURE, seconds=False)}"
    assert "plan 4" in model.data(cp2, Qt.ItemDataRole.ToolTipRole)
    cp7 = model.connector_index("CP-007", 1, Column.NAME)
    assert text(model, cp7, Column.REASON) == "limited by the site limit (kW)"
    assert text(model, model.connector_index("CP-006", 1, Column.NAME), Column.STATE) == (
        "not requested"
    )


def test_nodes_whose_limit_binds_are_marked(view: PowerManagementView) -> None:
    model = view.model
    site, f1, f2 = (model.node_index(n) for n in (SITE_ID, "F1", "F2"))
    assert [model.data(i, BINDING_ROLE) for i in (site, f1, f2)] == [True, True, False]
    assert [text(model, i, Column.STATE) for i in (site, f1, f2)] == [LIMIT_TEXT, LIMIT_TEXT, ""]
    assert text(model, f1, Column.REASON) == "limits 5 connectors"
    assert model.data(f1, Qt.ItemDataRole.FontRole).bold()
    bar = model.data(site.siblingAtColumn(Column.LOAD), BAR_ROLE)
    assert isinstance(bar, Bar)
    assert (bar.limit, bar.binding) == (50, True)
    assert bar.allocated == pytest.approx(50.0, abs=0.05)
    f1_bar = model.data(f1.siblingAtColumn(Column.LOAD), BAR_ROLE)
    assert f1_bar.limit == pytest.approx(32 * 3 * 230 / 1000)  # 32 A on three phases


def test_header_shows_mode_source_health_and_last_allocation(
    view: PowerManagementView,
) -> None:
    assert view.mode.text() == "Automatic"
    assert view.objective.text() == "fair"
    assert view.limit_source.text() == "static"
    assert view.health.text() == "healthy"
    assert view.computed.text() == AT.astimezone().strftime("%H:%M:%S")
    assert view.site.isHidden()  # one site: no selector
    view.show_status(replace(demo_status(), healthy=False, last_error="allocator crashed"))
    assert view.health.text() == "WATCHDOG: no allocation in time — allocator crashed"
    assert view.computed.text() == "never"


def test_a_new_status_of_the_same_tree_updates_in_place(
    qtbot: Any, view: PowerManagementView
) -> None:
    model = view.model
    status = demo_status()
    changed = replace(
        status,
        connectors=tuple(
            replace(c, measured_kw=7.5) if c.charger_id == "CP-001" else c
            for c in status.connectors
        ),
    )
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    with qtbot.waitSignal(model.dataChanged):
        view.show_status(changed)
    assert not resets
    assert text(model, model.connector_index("CP-001", 1, Column.NAME), Column.MEASURED) == (
        "7.5 kW"
    )


def test_the_mode_switch_asks_first_and_sends_the_command(
    qtbot: Any, themed_app: QApplication, session: Session, sender: Sender
) -> None:
    questions: list[str] = []
    answers = [False, True]

    def confirm(question: str) -> bool:
        questions.append(question)
        return answers.pop(0)

    view = PowerManagementView(
        Source({SITE_ID: demo_status()}), session.command_sender(sender, confirm)
    )
    qtbot.addWidget(view)
    view.set_actor(session.actor)
    view.show()
    assert view.mode_button.text() == "Switch to manual"

    qtbot.mouseClick(view.mode_button, Qt.MouseButton.LeftButton)  # declined
    assert not sender.sent
    assert "Cancelled" in view.result.text()

    qtbot.mouseClick(view.mode_button, Qt.MouseButton.LeftButton)
    assert questions[0].startswith(f"Switch site {SITE_ID} to manual power limits?")
    command = sender.last
    assert isinstance(command, SetChargingMode)
    assert (command.site_id, command.mode, command.confirmed) == (
        SITE_ID,
        ChargingMode.MANUAL,
        True,
    )
    assert command.actor.user == session.actor.user
    sender.answer(CommandResult(Outcome.ACCEPTED, "Accepted"))
    assert "Accepted" in view.result.text()


def test_back_to_automatic(view: PowerManagementView, sender: Sender) -> None:
    view.show_status(demo_status(mode=ChargingMode.MANUAL))
    assert view.mode.text() == "MANUAL limits"
    assert view.mode_button.text() == "Switch to automatic"
    view.mode_button.click()
    assert sender.last == SetChargingMode(
        site_id=SITE_ID, mode=ChargingMode.AUTO, issued_at=sender.last.issued_at
    )


def test_manual_limits_are_edited_in_the_tree_and_sent(
    qtbot: Any, view: PowerManagementView, sender: Sender, source: Source
) -> None:
    model = view.model
    setpoint = model.connector_index("CP-002", 1, Column.LIMIT)
    assert not model.flags(setpoint) & Qt.ItemFlag.ItemIsEditable  # automatic mode
    view.show_status(demo_status(mode=ChargingMode.MANUAL))
    setpoint = model.connector_index("CP-002", 1, Column.LIMIT)
    assert model.flags(setpoint) & Qt.ItemFlag.ItemIsEditable
    assert not model.flags(model.node_index("F1", Column.LIMIT)) & Qt.ItemFlag.ItemIsEditable

    view.tree.setCurrentIndex(setpoint)
    view.tree.edit(setpoint)
    editor = view.tree.findChild(QLineEdit, "manualLimitEditor")
    assert editor is not None
    editor.selectAll()
    qtbot.keyClicks(editor, "10")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(sender.sent), timeout=2000)

    command = sender.last
    assert isinstance(command, SetManualLimit)
    assert (command.charger_id, command.connector_id, command.limit_a) == ("CP-002", 1, 10.0)
    assert text(model, setpoint, Column.LIMIT) == "10.0 A: sent…"
    sender.answer(CommandResult(Outcome.REJECTED, "Rejected", "limit below the minimum"))
    assert text(model, setpoint, Column.LIMIT) == "6.4 A (4.4 kW)"  # refused: as it is
    assert "limit below the minimum" in view.result.text()

    assert model.setData(setpoint, "")  # empty: back to the connector's maximum
    assert sender.last == SetManualLimit(
        charger_id="CP-002", connector_id=1, limit_a=None, issued_at=sender.last.issued_at
    )
    assert text(model, setpoint, Column.LIMIT) == "maximum: sent…"
    view.show_status(demo_status(mode=ChargingMode.MANUAL))  # a status read meanwhile
    assert text(model, setpoint, Column.LIMIT) == "maximum: sent…"
    manual = demo_status(mode=ChargingMode.MANUAL)
    source.statuses = {
        SITE_ID: replace(
            manual,
            connectors=tuple(
                replace(c, current_a=32.0, power_kw=22.1) if c.charger_id == "CP-002" else c
                for c in manual.connectors
            ),
        )
    }
    sender.answer(CommandResult(Outcome.ACCEPTED, "Accepted"))  # read again at once
    assert text(model, setpoint, Column.LIMIT) == "32.0 A (22.1 kW)"
    assert not model.setData(setpoint, "-3")


def test_site_limit_override_and_clear(view: PowerManagementView, sender: Sender) -> None:
    assert not view.clear_button.isEnabled()  # nothing to clear
    view.site_limit.setText("40")
    view.override_button.click()
    assert sender.last == SetSiteLimit(
        site_id=SITE_ID, limit_kw=40.0, issued_at=sender.last.issued_at
    )
    view.show_status(demo_status(limit_source="operator"))
    assert view.clear_button.isEnabled()
    view.clear_button.click()
    assert sender.last == SetSiteLimit(
        site_id=SITE_ID, limit_kw=None, issued_at=sender.last.issued_at
    )


def test_a_viewer_sees_everything_and_changes_nothing(view: PowerManagementView) -> None:
    view.show_status(demo_status(mode=ChargingMode.MANUAL))
    view.set_actor(NOBODY)
    assert not view.mode_button.isEnabled()
    assert not view.override_button.isEnabled()
    assert "smart-charging" in view.mode_button.toolTip()
    setpoint = view.model.connector_index("CP-002", 1, Column.LIMIT)
    assert not view.model.flags(setpoint) & Qt.ItemFlag.ItemIsEditable


def test_not_running_is_said_not_crashed(qtbot: Any, themed_app: QApplication) -> None:
    view = PowerManagementView(Source(None), Sender())
    qtbot.addWidget(view)
    view.set_actor(ADMIN)
    view.show()
    assert view.message.text() == NOT_RUNNING
    assert view.model.rowCount() == 0
    assert not view.mode_button.isEnabled()
    disabled = PowerManagementView(Source({}), Sender())
    qtbot.addWidget(disabled)
    disabled.show()
    assert disabled.message.text() == NOT_ENABLED


def test_site_selector_and_periodic_refresh(qtbot: Any, themed_app: QApplication) -> None:
    other = replace(demo_status(), site_id="DEPOT", objective="priority")
    source = Source({SITE_ID: demo_status(), "DEPOT": other})
    view = PowerManagementView(source, Sender(), refresh_ms=20)
    qtbot.addWidget(view)
    view.show()
    assert view.site.isVisible()
    assert view.objective.text() == "fair"
    view.site.setCurrentIndex(1)
    assert view.objective.text() == "priority"
    qtbot.waitUntil(lambda: source.reads.count("DEPOT") >= 3)
    view.hide()
    reads = len(source.reads)
    qtbot.wait(100)  # hidden: no more reads
    assert len(source.reads) == reads


def test_a_paused_connector_is_in_bold(view: PowerManagementView) -> None:
    status = demo_status()
    paused = replace(
        status.connectors[0], state="paused", current_a=0.0, power_kw=0.0, measured_kw=0.0
    )
    view.show_status(replace(status, connectors=(paused, *status.connectors[1:])))
    index = view.model.connector_index("CP-001", 1, Column.STATE)
    assert view.model.data(index) == "paused"
    assert view.model.data(index, Qt.ItemDataRole.FontRole).bold()
    charging = view.model.connector_index("CP-002", 1, Column.STATE)
    assert view.model.data(charging, Qt.ItemDataRole.FontRole) is None


def test_the_view_paints_its_bars_even_above_a_limit(view: PowerManagementView) -> None:
    status = demo_status()
    over = replace(status.nodes[0], power_kw=55.0)
    view.show_status(replace(status, nodes=(over, *status.nodes[1:])))
    view.resize(1400, 700)
    image = view.grab().toImage()
    assert not image.isNull()


class FakeEngine:
    """An engine as far as the adapter reads it; ``charging`` only once the service runs."""


class Charging:
    def sites(self) -> list[str]:
        return [SITE_ID]

    def status(self, site_id: str) -> SiteChargingStatus:
        return demo_status()


def test_engine_source_reads_the_service_or_says_it_is_not_running() -> None:
    engine = FakeEngine()

    def read(query: Any, callback: Any, failed: Any = None) -> None:
        callback(query(engine))

    got: list[Any] = []
    source = EngineChargingSource(read)
    source.sites(got.append, got.append)
    source.status(SITE_ID, got.append, got.append)
    engine.charging = Charging()  # type: ignore[attr-defined]
    source.sites(got.append, got.append)
    source.status(SITE_ID, got.append, got.append)
    assert got == [None, None, [SITE_ID], demo_status()]


def test_a_status_of_the_site_left_meanwhile_is_not_shown(
    qtbot: Any, themed_app: QApplication
) -> None:
    """Reads answer later (as through the bridge): the answer for a site the operator has
    just left is dropped and the chosen site is read."""
    statuses = {SITE_ID: demo_status(), "DEPOT": replace(demo_status(), site_id="DEPOT")}
    waiting: list[Callable[[], None]] = []

    class Later(Source):
        def status(self, site_id: str, done: Callable[[Any], None], failed: Any) -> None:
            self.reads.append(site_id)
            waiting.append(lambda: done(statuses[site_id]))

    source = Later(statuses)
    view = PowerManagementView(source, Sender())
    qtbot.addWidget(view)
    view.show()  # the sites at once, then a read of SITE under way
    view.site.setCurrentIndex(1)  # DEPOT chosen while SITE is read
    waiting.pop(0)()
    assert view.status is None and source.reads[-1] == "DEPOT"
    waiting.pop(0)()
    assert view.status is not None and view.status.site_id == "DEPOT"


def test_the_operator_sets_and_clears_a_sessions_need(
    qtbot: Any, view: PowerManagementView, sender: Sender, tmp_path: Path
) -> None:
    assert view.edit_need("CP-006", 1) is None  # no session there
    need = view.model.connector_index("CP-002", 1, Column.NEED)
    assert "Double-click to set them" in view.model.data(need, Qt.ItemDataRole.ToolTipRole)
    dialog = view.edit_need("CP-002", 1)
    assert dialog is not None and dialog.isVisible()
    assert dialog.energy.value() == 12.5  # what it has now (plan 4)
    dialog.grab().save(str(tmp_path / "session_need.png"))
    dialog.energy.setText("20")
    departure = dialog.departure.dateTime().toSecsSinceEpoch()
    dialog.set_button.click()
    command = sender.last
    assert isinstance(command, SetSessionNeed)
    assert (command.charger_id, command.connector_id, command.energy_kwh) == ("CP-002", 1, 20.0)
    assert command.departure is not None and command.departure.timestamp() == departure
    assert not dialog.isVisible()

    view.edit_need("CP-002", 1).clear_button.click()  # type: ignore[union-attr]
    assert sender.last == SetSessionNeed(
        charger_id="CP-002",
        connector_id=1,
        energy_kwh=None,
        departure=None,
        issued_at=sender.last.issued_at,
    )
    view.set_actor(NOBODY)  # a viewer may look, not set
    assert view.edit_need("CP-002", 1) is None
