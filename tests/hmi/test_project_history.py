"""The project history window: versions, diffs, and a restore through the command router."""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from evsuper.alarms.journal import query_journal
from evsuper.engine.commands import Command, CommandRouter, RestoreProjectVersion
from evsuper.engine.project_history import ProjectHistoryTarget
from evsuper.hmi.bridge import ResultCallback
from evsuper.hmi.main_window import ArchiveReaders, MainWindow
from evsuper.hmi.session import Session
from evsuper.hmi.views.project_history import ProjectHistoryView
from evsuper.project.history import ProjectHistory, save_project_files
from evsuper.project.model import Project
from evsuper.users.audit import AuditEntry, AuditKind, query_audit
from evsuper.users.permissions import ENGINE, Actor, Role
from evsuper.users.store import Authenticator, UserStore
from hmi.conftest import TEST_PASSWORD, log_in
from hmi.sender import Sender


@pytest.fixture
def history(project: Project) -> ProjectHistory:
    """Version 1 (initial), 2 (a bollard's power lowered), 3 (a ground plan added)."""
    directory = project.directory
    text = (directory / "project.toml").read_text()
    lowered = text.replace("max_power_kw = 22.0", "max_power_kw = 11.0", 1)
    save_project_files(directory, {"project.toml": lowered}, "alice", "power lowered")
    save_project_files(directory, {"plan/ground.png": b"\x89PNG\0"}, "bob", "plan added")
    return ProjectHistory(directory)


@pytest.fixture
def view(qtbot: Any, themed_app: Any, history: ProjectHistory, sender: Sender) -> Any:
    view = ProjectHistoryView(history, sender)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: view.table.rowCount() == 3 and view.compared is not None)
    return view


def cells(view: ProjectHistoryView, row: int) -> list[str]:
    return [view.table.item(row, column).text() for column in range(4)]


def test_the_versions_are_listed_newest_first(view: ProjectHistoryView, tmp_path: Path) -> None:
    assert [cells(view, row)[0::2] for row in range(3)] == [
        ["3", "bob"],
        ["2", "alice"],
        ["1", "evsuper"],
    ]
    assert [cells(view, row)[3] for row in range(3)] == ["plan added", "power lowered", "initial"]
    assert cells(view, 0)[1].startswith("20")  # local date and time
    assert view.status.text() == "3 versions"
    view.grab().save(str(tmp_path / "project_history.png"))


def test_one_version_shows_what_it_changed_two_compare(
    qtbot: Any, view: ProjectHistoryView
) -> None:
    assert view.compared == (2, 3)  # the newest is selected at first
    assert "plan/ground.png: binary file added" in view.diff.toPlainText()

    view.select_versions([1, 2])
    qtbot.waitUntil(lambda: view.compared == (1, 2))
    text = view.diff.toPlainText()
    assert "--- project.toml (version 1)\n+++ project.toml (version 2)" in text
    assert "\n-max_power_kw = 22.0\n+max_power_kw = 11.0\n" in text
    assert view.diff_title.text() == "Changes from version 1 to version 2: 1 file (project.toml)"
    added = view.diff.document().find("+max_power_kw = 11.0").block()
    removed = view.diff.document().find("-max_power_kw = 22.0").block()
    assert added.blockFormat().background() != removed.blockFormat().background()


def test_restore_needs_edit_project_and_an_older_version(
    qtbot: Any, view: ProjectHistoryView, sender: Sender
) -> None:
    view.set_actor(Actor("olivia", Role.OPERATOR))
    view.select_versions([2])
    assert not view.restore.isEnabled()
    assert "edit-project" in view.restore.toolTip()

    view.set_actor(Actor("ian", Role.INTEGRATOR))
    assert view.restore.isEnabled() and view.restore.text() == "Restore version 2…"
    view.select_versions([3])
    assert not view.restore.isEnabled()  # the files are already those of the newest

    view.select_versions([1])
    qtbot.mouseClick(view.restore, Qt.MouseButton.LeftButton)
    assert sender.last == RestoreProjectVersion(
        version=1, issued_at=sender.last.issued_at
    )  # the session's sender adds the actor and the confirmation


def router_sender(directory: Path, audit: list[AuditEntry]) -> Any:
    router = CommandRouter(audit=audit.append)
    router.add_target(ProjectHistoryTarget(ProjectHistory(directory)))

    def send(command: Command, callback: ResultCallback) -> None:
        callback(asyncio.run(router.execute(command)))

    return send


def test_restore_from_the_main_window_goes_through_the_router(
    qtbot: Any, themed_app: Any, project: Project, history: ProjectHistory, user_store: UserStore
) -> None:
    user_store.add("olivia", Role.OPERATOR, TEST_PASSWORD, by=ENGINE)
    user_store.add("ian", Role.INTEGRATOR, TEST_PASSWORD, by=ENGINE)
    session = Session(Authenticator(user_store))
    audit: list[AuditEntry] = []
    questions: list[str] = []
    window = MainWindow(
        project,
        router_sender(project.directory, audit),
        session=session,
        confirm=lambda question: questions.append(question) is None,
        archive=ArchiveReaders(
            audit=functools.partial(query_audit, user_store.engine),
            journal=functools.partial(query_journal, user_store.engine),
            history=history,
        ),
    )
    qtbot.addWidget(window)
    window.show()
    assert window.project_history_button.isEnabled()
    qtbot.mouseClick(window.project_history_button, Qt.MouseButton.LeftButton)
    view = window.project_history
    assert view is not None and view.isVisible()
    qtbot.waitUntil(lambda: view.table.rowCount() == 3)

    log_in(qtbot, session, "olivia")
    view.select_versions([1])
    view.restore_selected()  # the button is off; the router refuses anyway
    assert "Denied (PermissionDenied)" in view.result_line.text()
    assert questions == []

    log_in(qtbot, session, "ian")
    assert view.restore.isEnabled()
    qtbot.mouseClick(view.restore, Qt.MouseButton.LeftButton)
    assert "next start" in questions[0]
    assert "Accepted (Restored)" in view.result_line.text()
    assert "applies at the next start" in view.result_line.text()
    qtbot.waitUntil(lambda: view.table.rowCount() == 4)
    assert cells(view, 0)[2:] == ["ian", "restored version 1"]
    assert [(e.kind, e.actor.user) for e in audit] == [
        (AuditKind.PERMISSION_DENIED, "olivia"),
        (AuditKind.PROJECT_CHANGE, "ian"),
    ]
    assert audit[1].parameters == {"version": 1, "confirmed": True}
    session.close()
