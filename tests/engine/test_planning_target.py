"""Planned sessions are kept in a file through commands: permission, conflicts, cancel,
durable before acknowledged, reloaded at the next start."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Any

import pytest
from support import ADMIN, execute_as_admin

from evsuper.charging.planning import PlannedSession
from evsuper.core.timeutil import utcnow
from evsuper.engine.commands import CancelPlannedSession, CommandRouter, Outcome, PlanSession
from evsuper.engine.planning_target import PLANS_FILE, PlanningTarget
from evsuper.project.model import Project
from evsuper.users.audit import AuditEntry
from evsuper.users.permissions import Actor, Origin, Role

OPERATOR = Actor("olivia", Role.OPERATOR, Origin.HMI)
SOON = utcnow().replace(microsecond=0) + timedelta(hours=1)


@pytest.fixture
def project(make_project: Any) -> Project:
    made: Project = make_project()
    return made


def plan_command(
    charger: str = "CP-001", connector: int = 1, hours: tuple[float, float] = (0, 3)
) -> PlanSession:
    return PlanSession(
        charger_id=charger,
        site_id="SITE",
        connector_id=connector,
        badge="BADGE-0001",
        arrival=SOON + timedelta(hours=hours[0]),
        departure=SOON + timedelta(hours=hours[1]),
        energy_kwh=30.0,
        max_kw=22.0,
    )


async def test_a_plan_is_saved_in_the_file_and_reloaded(project: Project) -> None:
    audit: list[AuditEntry] = []
    router = CommandRouter(audit=audit.append)
    target = PlanningTarget(project)
    router.add_target(target)

    result = await execute_as_admin(router, plan_command())

    assert (result.outcome, result.status) == (Outcome.ACCEPTED, "Planned")
    plan = result.payload
    assert isinstance(plan, PlannedSession)
    assert (plan.id, plan.bay_label, plan.created_by) == (1, "CP-001/1", ADMIN.user)
    assert target.sessions("SITE") == (plan,)
    assert json.loads((project.directory / PLANS_FILE).read_text())["plans"][0]["id"] == 1
    assert PlanningTarget(project).sessions() == (plan,)  # the next start reads it back
    assert [(e.action, e.result) for e in audit] == [("PlanSession", "Accepted")]


async def test_an_operator_may_not_plan(project: Project) -> None:
    router = CommandRouter()
    router.add_target(PlanningTarget(project))
    result = await router.execute(dataclasses.replace(plan_command(), actor=OPERATOR))
    assert (result.outcome, result.status) == (Outcome.DENIED, "PermissionDenied")
    assert not (project.directory / PLANS_FILE).exists()


async def test_overlapping_plans_on_one_connector_are_refused(project: Project) -> None:
    router = CommandRouter()
    target = PlanningTarget(project)
    router.add_target(target)
    await execute_as_admin(router, plan_command())

    clash = await execute_as_admin(router, plan_command(hours=(2, 4)))
    other_connector = await execute_as_admin(router, plan_command(connector=2, hours=(2, 4)))
    after = await execute_as_admin(router, plan_command(hours=(3, 5)))

    assert (clash.outcome, clash.status) == (Outcome.ERROR, "Conflict")
    assert "CP-001/1 is already planned for BADGE-0001" in clash.detail
    assert other_connector.ok and after.ok
    assert [p.id for p in target.sessions()] == [1, 2, 3]


async def test_cancel_removes_the_plan_from_the_file(project: Project) -> None:
    router = CommandRouter()
    target = PlanningTarget(project)
    router.add_target(target)
    await execute_as_admin(router, plan_command())

    unknown = await execute_as_admin(router, CancelPlannedSession(plan_id=7))
    cancelled = await execute_as_admin(router, CancelPlannedSession(plan_id=1))

    assert (unknown.outcome, unknown.status) == (Outcome.ERROR, "UnknownPlan")
    assert (cancelled.outcome, cancelled.status) == (Outcome.ACCEPTED, "Cancelled")
    assert PlanningTarget(project).sessions() == ()


async def test_invalid_plans_and_unknown_chargers_are_refused(project: Project) -> None:
    router = CommandRouter()
    router.add_target(PlanningTarget(project))
    backwards = await execute_as_admin(router, plan_command(hours=(3, 1)))
    unknown = await execute_as_admin(router, plan_command(charger="CP-999"))
    assert (backwards.status, unknown.status) == ("InvalidPlan", "UnknownCharger")


def test_an_unreadable_file_is_set_aside(project: Project) -> None:
    file = project.directory / PLANS_FILE
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text("{not json")
    assert PlanningTarget(project).sessions() == ()
    assert not file.exists()
    assert [p.name.startswith("planned_sessions.bad-") for p in file.parent.iterdir()].count(
        True
    ) == 1
