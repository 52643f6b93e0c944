"""The charging profiles window: on a real engine with simulated bollards (upload, list,
conflict, clear), and on a fixed engine snapshot (allocator's profiles, filters)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from PySide6.QtCore import Qt

from evsuper.charging.conflicts import ConflictKind
from evsuper.charging.profiles import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    InstalledProfile,
    SchedulePeriod,
)
from evsuper.core.domain import CommState
from evsuper.core.timeutil import utcnow
from evsuper.engine.commands import Command, SaveProfileLibrary, SetChargingProfile
from evsuper.engine.runtime import Engine, EngineThread
from evsuper.hmi.bridge import EngineBridge, ResultCallback
from evsuper.hmi.dialogs.charging_profile import ChargingProfileDialog
from evsuper.hmi.main_window import MainWindow
from evsuper.hmi.models.profiles import Column
from evsuper.hmi.views.profile_management import (
    ProfileManagementView,
    ProfilesSnapshot,
    UploadDialog,
)
from evsuper.project.model import Project
from evsuper.project.profile_library import ProfileLibrary, ProfileTemplate
from evsuper.users.permissions import Actor, Role
from hmi.sender import Sender

MAINTAINER = Actor("maintenance-test", Role.MAINTENANCE)


@pytest.fixture
def live(qtbot: Any, themed_app: Any, make_project: Any) -> Iterator[MainWindow]:
    """The main window on a running engine; its commands are sent as a maintainer's."""
    engine_thread = EngineThread(Engine(make_project(bollards=2), ocpp_port=0))
    engine_thread.start()
    bridge = EngineBridge(engine_thread)

    def send(command: Command, callback: ResultCallback) -> None:
        bridge.execute(replace(command, actor=MAINTAINER), callback)

    try:
        window = MainWindow(engine_thread.engine.project, send, read=bridge.fetch)
        bridge.tagsChanged.connect(window.apply_tags)
        qtbot.addWidget(window)
        yield window
    finally:
        bridge.close()
        engine_thread.stop()


def new_template(
    qtbot: Any,
    view: ProfileManagementView,
    name: str,
    purpose: ChargingProfilePurpose,
    limit: float,
) -> None:
    """Through the editor: a template of one period, saved into the library."""
    qtbot.mouseClick(view.new_template, Qt.MouseButton.LeftButton)
    dialog = view.template_dialog
    assert dialog is not None and dialog.template_mode
    dialog.name.setText(name)
    dialog.purpose.setCurrentText(purpose.value)
    dialog.stack_level.setValue(1)
    _, limit_box, _ = dialog.period_widgets(0)
    limit_box.setValue(limit)
    assert dialog.confirm.isEnabled(), dialog.problem.text()
    assert dialog.preview.points[1][:2] == [limit, limit]  # the live chart follows
    dialog.grab().save("/tmp/profile_template.png")
    qtbot.mouseClick(dialog.confirm, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.library().get(name) is not None, timeout=10000)
    view.select_template(name)


def upload(
    qtbot: Any, view: ProfileManagementView, chargers: list[str], connector: str
) -> UploadDialog:
    qtbot.mouseClick(view.upload, Qt.MouseButton.LeftButton)
    dialog = view.upload_dialog
    assert dialog is not None
    for charger_id in chargers:
        dialog.check(charger_id)
    dialog.connector.setCurrentText(connector)
    return dialog


def cell(view: ProfileManagementView, row: int, column: Column) -> str:
    return str(view.filter.index(row, column).data())


def test_upload_conflict_and_clear_on_a_real_engine(qtbot: Any, live: MainWindow) -> None:
    main = live
    qtbot.waitUntil(
        lambda: all(
            (s := main.model.state(c)) is not None and s.comm is CommState.ONLINE
            for c in ("CP-001", "CP-002")
        ),
        timeout=15000,
    )
    assert "Charging profiles" in [a.text() for a in main.charging_menu.actions()]
    view = main.show_profile_management()
    assert view is not None and main.show_profile_management() is view  # one, reused
    view.set_actor(MAINTAINER)
    qtbot.waitUntil(lambda: view.snapshot is not None, timeout=10000)
    assert view.model.rowCount() == 0

    # A TxDefaultProfile of 10 A, saved in the library, uploaded to connector 1 of both.
    new_template(qtbot, view, "Day 10 A", ChargingProfilePurpose.TX_DEFAULT, 10.0)
    dialog = upload(qtbot, view, ["CP-001", "CP-002"], "1")
    assert dialog.targets() == [("CP-001", 1), ("CP-002", 1)]
    assert dialog.conflicts.count() == 0
    qtbot.mouseClick(dialog.confirm, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.model.rowCount() == 2, timeout=15000)
    for key in (("CP-001", 1), ("CP-002", 1)):
        assert "Accepted" in view.result_lines[key].text()
    assert [cell(view, r, Column.CHARGER) for r in range(2)] == ["CP-001", "CP-002"]
    assert cell(view, 0, Column.PURPOSE) == "TxDefaultProfile"
    assert cell(view, 0, Column.PERIODS) == "0: 10 A"
    assert cell(view, 0, Column.SENT_BY) == "operator"
    assert cell(view, 0, Column.CHECK) == "OK"
    assert view.conflict_list.count() == 0

    # A ChargePointMaxProfile of 8 A on CP-001: the 10 A TxDefault above it is flagged,
    # before the upload (in the dialog) and after it (list, rows).
    new_template(qtbot, view, "Cap 8 A", ChargingProfilePurpose.CHARGE_POINT_MAX, 8.0)
    dialog = upload(qtbot, view, ["CP-001"], "0 (whole charger)")
    assert dialog.conflicts.count() == 1
    assert "allows 10 A above the 8 A" in dialog.conflicts.item(0).text()
    dialog.grab().save("/tmp/profile_upload.png")
    qtbot.mouseClick(dialog.confirm, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.model.rowCount() == 3, timeout=15000)
    assert [c.kind for c in view.conflicts] == [ConflictKind.ABOVE_CHARGE_POINT_MAX]
    assert view.conflict_list.count() == 1
    assert (
        view.conflict_list.item(0)
        .text()
        .startswith(
            "CP-001 connector 1: TxDefaultProfile 1 allows 10 A above the 8 A of "
            "ChargePointMaxProfile 2"
        )
    )
    checks = [cell(view, r, Column.CHECK) for r in range(3)]
    assert checks == ["⚠ above ChargePointMax", "⚠ above ChargePointMax", "OK"]
    assert view.filter.index(0, 0).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert view.filter.index(2, 0).data(Qt.ItemDataRole.BackgroundRole) is None
    view.conflict_list.setCurrentRow(0)  # selecting the conflict selects its rows
    assert [(r.charger_id, r.profile.profile_id) for r in view.selected_rows()] == [
        ("CP-001", 2),
        ("CP-001", 1),
    ]
    view.conflicts_only.setChecked(True)
    assert view.filter.rowCount() == 2
    view.conflicts_only.setChecked(False)
    view.resize(1300, 820)
    view.grab().save("/tmp/profile_management.png")

    # Clear the cap (confirmed): gone from the list, and so is the conflict.
    view._select(lambda r: r.profile.purpose is ChargingProfilePurpose.CHARGE_POINT_MAX)
    qtbot.mouseClick(view.clear_selected, Qt.MouseButton.LeftButton)
    box = view.clear_box
    assert box is not None and "Clear 1 charging profile(s)?" in box.text()
    next(b for b in box.buttons() if b.text() == "Clear").click()
    qtbot.waitUntil(lambda: view.model.rowCount() == 2, timeout=15000)
    assert "Accepted" in view.result_lines[("CP-001", 0)].text()
    assert view.conflicts == [] and view.conflict_list.count() == 0


# ---- on a fixed snapshot: no engine


def tx(profile_id: int, stack_level: int, limit: float = 16.0) -> ChargingProfile:
    return ChargingProfile(
        profile_id=profile_id,
        stack_level=stack_level,
        purpose=ChargingProfilePurpose.TX_DEFAULT,
        kind=ChargingProfileKind.RELATIVE,
        schedule=ChargingSchedule(ChargingRateUnit.AMPS, (SchedulePeriod(0, limit),)),
    )


class FixedReader:
    def __init__(self, snapshot: ProfilesSnapshot) -> None:
        self.snapshot = snapshot

    def __call__(
        self,
        query: Callable[[Any], Any],
        callback: Callable[[Any], None],
        failed: Callable[[str], None] | None = None,
    ) -> None:
        callback(self.snapshot)


def test_allocator_profiles_filters_and_a_manual_upload_at_its_level(
    qtbot: Any, themed_app: Any, project: Project, sender: Sender
) -> None:
    expired = replace(tx(7, 2), valid_to=utcnow() - timedelta(hours=1))
    snapshot = ProfilesSnapshot(
        installed={
            "CP-001": (InstalledProfile(1, tx(1000, 20, 12.0)), InstalledProfile(2, expired)),
            "CP-003": (InstalledProfile(1, tx(5, 1)),),
        },
        library=ProfileLibrary((ProfileTemplate("Manual at 20", tx(42, 20)),)),
        library_problem="",
        allocator_stack_level=20,
        allocator_enabled=True,
    )
    view = ProfileManagementView(project, sender, FixedReader(snapshot))
    qtbot.addWidget(view)
    view.set_actor(MAINTAINER)
    view.show()
    assert view.model.rowCount() == 3
    assert [cell(view, r, Column.SENT_BY) for r in range(3)] == [
        "allocator",
        "operator",
        "operator",
    ]
    assert [c.kind for c in view.conflicts] == [ConflictKind.STALE]
    assert view.count.text() == "3 profiles on 2 chargers"

    view.charger.setCurrentText("CP-003")
    assert view.filter.rowCount() == 1 and view.conflict_list.count() == 0
    assert view.count.text() == "1 of 3 profiles on 2 chargers"
    view.charger.setCurrentIndex(0)

    # The upload dialog warns of the allocator's stack level before anything is sent.
    view.select_template("Manual at 20")
    qtbot.mouseClick(view.upload, Qt.MouseButton.LeftButton)
    dialog = view.upload_dialog
    assert dialog is not None
    dialog.check("CP-002")
    dialog.connector.setCurrentText("Each connector")
    assert dialog.targets() == [("CP-002", 1), ("CP-002", 2)]
    assert [dialog.conflicts.item(i).text() for i in range(dialog.conflicts.count())] == [
        f"CP-002 connector {n}: TxDefaultProfile 42 set by hand is at stack level 20, "
        "reserved for the allocator, at all times; the allocator's next profile replaces it"
        for n in (1, 2)
    ]
    qtbot.mouseClick(dialog.confirm, Qt.MouseButton.LeftButton)
    sent = [command for command, _ in sender.sent]
    assert [(c.charger_id, c.connector_id) for c in sent if isinstance(c, SetChargingProfile)] == [
        ("CP-002", 1),
        ("CP-002", 2),
    ]

    # On CP-001 connector 1 it would also replace the allocator's profile of that slot.
    template = view.library().get("Manual at 20")
    assert template is not None
    dialog = UploadDialog(template, project, ["CP-001"], view.entries, 20)
    qtbot.addWidget(dialog)
    dialog.check("CP-001")
    dialog.connector.setCurrentText("1")
    assert [dialog.conflicts.item(i).text() for i in range(dialog.conflicts.count())] == [
        "CP-001 connector 1: TxDefaultProfile 42 set by hand is at stack level 20, reserved "
        "for the allocator, at all times; the allocator's next profile replaces it",
        "CP-001 connector 1: replaces the allocator's TxDefaultProfile 1000 at stack level 20",
    ]
    assert dialog.verdict.text() == (
        "1 connector(s), 1 conflict(s): upload anyway, or cancel and change the template."
    )


def test_the_template_editor_checks_names_and_loads_a_template(qtbot: Any, themed_app: Any) -> None:
    template = ProfileTemplate("Night", tx(9, 3, 10.0), "winter")
    dialog = ChargingProfileDialog("", 1, 1, template=template, taken_names=["Night", "Day"])
    qtbot.addWidget(dialog)
    assert dialog.confirm.text() == "Save template" and dialog.confirm.isEnabled()
    assert dialog.chosen_template() == template  # loaded as it was: unchanged
    dialog.name.setText("Day")
    assert not dialog.confirm.isEnabled()
    assert dialog.problem.text() == "Cannot save: a template named 'Day' is already in the library."
    dialog.name.setText("")
    assert dialog.problem.text() == "Cannot save: the template needs a name."
    dialog.name.setText("Night")
    dialog.kind.setCurrentText(ChargingProfileKind.RECURRING.value)  # daily: a day drawn
    assert dialog.preview.points[0][-1] == 24.0
    assert dialog.preview.caption.text() == (
        "From the schedule start: 1 period(s) over 24 h, repeated daily."
    )


def test_library_actions_and_permissions_on_a_fixed_snapshot(
    qtbot: Any, themed_app: Any, project: Project, sender: Sender
) -> None:
    snapshot = ProfilesSnapshot(
        installed={"CP-003": (InstalledProfile(1, tx(5, 1)),)},
        library=ProfileLibrary((ProfileTemplate("Old", tx(8, 2)),)),
        library_problem="charging_profiles.toml:4: profiles[0].kind: 'X' is not one of …",
        allocator_stack_level=20,
        allocator_enabled=False,
    )
    view = ProfileManagementView(project, sender, FixedReader(snapshot))
    qtbot.addWidget(view)
    view.show()
    assert view.library_problem.isVisibleTo(view)
    assert "profiles[0].kind" in view.library_problem.text()
    view.select_template("Old")
    view._select(lambda r: True)
    # nobody logged in: everything that changes something is off, with the reason
    for button in (view.upload, view.delete_template, view.clear_selected, view.copy_to_library):
        assert not button.isEnabled() and "smart-charging" in button.toolTip()
    view.set_actor(MAINTAINER)
    assert view.upload.isEnabled() and view.clear_selected.isEnabled()

    qtbot.mouseClick(view.copy_to_library, Qt.MouseButton.LeftButton)
    dialog = view.template_dialog
    assert dialog is not None and dialog.name.text() == "CP-003 profile 5"
    assert dialog.chosen_profile() == tx(5, 1)
    qtbot.mouseClick(dialog.confirm, Qt.MouseButton.LeftButton)
    saved = sender.last
    assert isinstance(saved, SaveProfileLibrary)
    assert [t.name for t in saved.library.templates] == ["CP-003 profile 5", "Old"]
    assert saved.summary == "template 'CP-003 profile 5' added"

    qtbot.mouseClick(view.delete_template, Qt.MouseButton.LeftButton)
    removed = sender.last
    assert isinstance(removed, SaveProfileLibrary) and removed.library.templates == ()
