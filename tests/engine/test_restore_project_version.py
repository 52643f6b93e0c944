"""Restoring a project version is a project change: permission, confirmation, audit."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from evsuper.engine.commands import CommandRouter, Outcome, RestoreProjectVersion
from evsuper.engine.project_history import ProjectHistoryTarget
from evsuper.engine.runtime import Engine
from evsuper.project.history import ProjectHistory, save_project_files
from evsuper.project.model import Project
from evsuper.users.audit import AuditEntry, AuditFilter, AuditKind, query_audit
from evsuper.users.permissions import Actor, Origin, Role

OPERATOR = Actor("olivia", Role.OPERATOR, Origin.HMI)
INTEGRATOR = Actor("ian", Role.INTEGRATOR, Origin.HMI)


@pytest.fixture
def project(make_project: Any) -> Project:
    """A project whose history has version 1 (initial) and 2 (an edit)."""
    project: Project = make_project()
    text = (project.directory / "project.toml").read_text()
    save_project_files(project.directory, {"project.toml": text + "# edited\n"}, "al", "edited")
    return project


@pytest.fixture
def edited(project: Project) -> Path:
    return project.directory


def router_for(directory: Path, audit: list[AuditEntry]) -> CommandRouter:
    router = CommandRouter(audit=audit.append)
    router.add_target(ProjectHistoryTarget(ProjectHistory(directory)))
    return router


async def test_an_operator_may_not_restore(edited: Path) -> None:
    audit: list[AuditEntry] = []
    command = RestoreProjectVersion(version=1, actor=OPERATOR, confirmed=True)

    result = await router_for(edited, audit).execute(command)

    assert (result.outcome, result.status) == (Outcome.DENIED, "PermissionDenied")
    assert [(e.kind, e.target) for e in audit] == [(AuditKind.PERMISSION_DENIED, "project")]
    assert len(ProjectHistory(edited).versions()) == 2


async def test_a_restore_must_be_confirmed(edited: Path) -> None:
    command = RestoreProjectVersion(version=1, actor=INTEGRATOR)
    assert "next start" in (command.confirmation() or "")

    result = await router_for(edited, []).execute(command)

    assert (result.outcome, result.status) == (Outcome.DENIED, "ConfirmationRequired")


async def test_an_integrator_restores_off_the_loop_and_is_audited(edited: Path) -> None:
    audit: list[AuditEntry] = []
    threads: list[str] = []
    history = ProjectHistory(edited)
    restore = history.restore

    def spy(number: int, author: str) -> Any:
        threads.append(threading.current_thread().name)
        return restore(number, author)

    history.restore = spy  # type: ignore[method-assign]
    router = CommandRouter(audit=audit.append)
    router.add_target(ProjectHistoryTarget(history))
    command = RestoreProjectVersion(version=1, actor=INTEGRATOR, confirmed=True)

    result = await router.execute(command)

    assert (result.outcome, result.status) == (Outcome.ACCEPTED, "Restored")
    assert "applies at the next start" in result.detail
    assert threads and threads[0] != threading.current_thread().name
    latest = ProjectHistory(edited).versions()[-1]
    assert (latest.number, latest.author, latest.summary) == (3, "ian", "restored version 1")
    assert result.payload == latest
    [entry] = audit
    assert (entry.kind, entry.action, entry.target) == (
        AuditKind.PROJECT_CHANGE,
        "RestoreProjectVersion",
        "project",
    )
    assert entry.parameters == {"version": 1, "confirmed": True}


async def test_an_unknown_version_is_an_error(edited: Path) -> None:
    command = RestoreProjectVersion(version=7, actor=INTEGRATOR, confirmed=True)
    result = await router_for(edited, []).execute(command)
    assert (result.outcome, result.status) == (Outcome.ERROR, "UnknownVersion")


async def test_the_engine_routes_restores(project: Project) -> None:
    engine = Engine(project, ocpp_port=0)
    await engine.start()
    try:
        command = RestoreProjectVersion(version=1, actor=INTEGRATOR, confirmed=True)
        result = await engine.router.execute(command)
        await engine.archive.run_durable(lambda connection: None)
        kinds = {AuditKind.PROJECT_CHANGE}
        [entry] = query_audit(engine.archive.engine, AuditFilter(kinds=frozenset(kinds)))
    finally:
        await engine.stop()
    assert result.ok
    assert entry.action == "RestoreProjectVersion" and entry.actor.user == "ian"
