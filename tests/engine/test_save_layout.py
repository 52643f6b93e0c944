"""Saving the ground-plan layout is a project change: permission, history, audit."""

from __future__ import annotations

from typing import Any

import pytest

from evsuper.engine.commands import CommandRouter, Outcome, SaveLayout
from evsuper.engine.layout_target import LayoutTarget
from evsuper.engine.runtime import Engine
from evsuper.project.history import ProjectHistory
from evsuper.project.layout import LAYOUT_FILE, Layout, PlacedObject, load_layout
from evsuper.project.model import Project
from evsuper.users.audit import AuditEntry, AuditFilter, AuditKind, query_audit
from evsuper.users.permissions import Actor, Origin, Role

OPERATOR = Actor("olivia", Role.OPERATOR, Origin.HMI)
INTEGRATOR = Actor("ian", Role.INTEGRATOR, Origin.HMI)
LAYOUT = Layout(
    (PlacedObject("CP-001", "SITE", 100, 120), PlacedObject("CP-002", "SITE", 220, 120))
)


@pytest.fixture
def project(make_project: Any) -> Project:
    made: Project = make_project()
    return made


def router_for(project: Project, audit: list[AuditEntry]) -> CommandRouter:
    router = CommandRouter(audit=audit.append)
    router.add_target(LayoutTarget(project))
    return router


async def test_an_operator_may_not_save(project: Project) -> None:
    audit: list[AuditEntry] = []
    result = await router_for(project, audit).execute(SaveLayout(layout=LAYOUT, actor=OPERATOR))

    assert (result.outcome, result.status) == (Outcome.DENIED, "PermissionDenied")
    assert [e.kind for e in audit] == [AuditKind.PERMISSION_DENIED]
    assert not (project.directory / LAYOUT_FILE).exists()


async def test_an_integrator_saves_a_version_and_is_audited(project: Project) -> None:
    audit: list[AuditEntry] = []
    command = SaveLayout(layout=LAYOUT, actor=INTEGRATOR, summary="moved CP-002")

    result = await router_for(project, audit).execute(command)

    assert (result.outcome, result.status) == (Outcome.ACCEPTED, "Saved")
    assert load_layout(project) == LAYOUT
    latest = ProjectHistory(project.directory).versions()[-1]
    assert (latest.author, latest.summary) == ("ian", "moved CP-002")
    assert result.payload == latest
    [entry] = audit
    assert (entry.kind, entry.action, entry.target) == (
        AuditKind.PROJECT_CHANGE,
        "SaveLayout",
        LAYOUT_FILE,
    )
    assert entry.parameters == {"objects": 2, "summary": "moved CP-002", "confirmed": False}


async def test_a_layout_that_would_not_load_is_not_written(project: Project) -> None:
    wrong = Layout((PlacedObject("CP-404", "SITE", 0, 0),))
    result = await router_for(project, []).execute(SaveLayout(layout=wrong, actor=INTEGRATOR))

    assert (result.outcome, result.status) == (Outcome.ERROR, "InvalidLayout")
    assert "CP-404" in result.detail
    assert not (project.directory / LAYOUT_FILE).exists()


async def test_the_engine_routes_layout_saves(project: Project) -> None:
    engine = Engine(project, ocpp_port=0)
    await engine.start()
    try:
        result = await engine.router.execute(SaveLayout(layout=LAYOUT, actor=INTEGRATOR))
        await engine.archive.run_durable(lambda connection: None)
        kinds = frozenset({AuditKind.PROJECT_CHANGE})
        [entry] = query_audit(engine.archive.engine, AuditFilter(kinds=kinds))
    finally:
        await engine.stop()
    assert result.ok
    assert entry.action == "SaveLayout" and entry.actor.user == "ian"
