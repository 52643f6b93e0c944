"""Binding OPC UA nodes to tags is a project change: project.toml, history, audit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from evsuper.cli import main
from evsuper.drivers.opcua.config import DeadbandType, parse_endpoint
from evsuper.engine.commands import BindOpcUaPoints, CommandRouter, Outcome, PointBinding
from evsuper.engine.device_points_target import DevicePointsTarget
from evsuper.engine.runtime import Engine
from evsuper.project.check import check_project
from evsuper.project.history import ProjectHistory
from evsuper.project.loader import load_project
from evsuper.project.model import Project
from evsuper.users.audit import AuditEntry, AuditFilter, AuditKind, query_audit
from evsuper.users.permissions import Actor, Origin, Role

OPERATOR = Actor("olivia", Role.OPERATOR, Origin.HMI)
INTEGRATOR = Actor("ian", Role.INTEGRATOR, Origin.HMI)

DEVICES = """
# The building management system (kept through every bind)
[[devices]]
name = "bms"
address = "opc.tcp://127.0.0.1:4999/bms"  # the BMS gateway

[[devices.points]]
tag = "bms/building_load"
node = "ns=2;s=Building.Load"  # already bound by hand
unit = "kW"

[[devices]]
name = "dso"
address = "sim://dso"
prefix = "DSO"
tags = [{ name = "limit_kw", value = 100.0 }]
"""

POINTS = (
    PointBinding("bms/pv_production", "ns=2;s=PV.Production", 500.0, 0.5, False, "kW"),
    PointBinding("bms/limit", "ns=2;s=DSO.Limit", 1000.0, 0.0, True, "kW"),
)


@pytest.fixture
def project(make_project: Any) -> Project:
    made: Project = make_project()
    with made.file.open("a", encoding="utf-8") as f:
        f.write(DEVICES)
    assert check_project(made.directory) == []
    return load_project(made.directory)


def router_for(directory: Path, audit: list[AuditEntry]) -> CommandRouter:
    router = CommandRouter(audit=audit.append)
    router.add_target(DevicePointsTarget(directory))
    return router


def bind(device: str = "bms", points: tuple[PointBinding, ...] = POINTS) -> BindOpcUaPoints:
    return BindOpcUaPoints(device=device, points=points, actor=INTEGRATOR, confirmed=True)


async def test_points_are_appended_and_load_back(project: Project, capsys: Any) -> None:
    audit: list[AuditEntry] = []
    before = len(ProjectHistory(project.directory).versions())

    result = await router_for(project.directory, audit).execute(bind())

    assert (result.outcome, result.status) == (Outcome.ACCEPTED, "Saved")
    assert "2 points bound to bms" in result.detail
    assert "apply at the next start" in result.detail
    text = project.file.read_text(encoding="utf-8")
    assert "# The building management system (kept through every bind)" in text
    assert "# already bound by hand" in text and "# the BMS gateway" in text
    assert text.count("[[devices.points]]") == 3

    loaded = load_project(project.directory)
    bms = next(d for d in loaded.devices if d.name == "bms")
    endpoint = parse_endpoint(bms, loaded.directory)
    assert [(p.tag, p.node) for p in endpoint.points] == [
        ("bms/building_load", "ns=2;s=Building.Load"),
        ("bms/pv_production", "ns=2;s=PV.Production"),
        ("bms/limit", "ns=2;s=DSO.Limit"),
    ]
    pv, limit = endpoint.points[1:]
    assert (pv.sampling_ms, pv.deadband, pv.deadband_type) == (500.0, 0.5, DeadbandType.ABSOLUTE)
    assert (pv.writable, pv.unit) == (False, "kW")
    assert (limit.writable, limit.deadband_type) == (True, DeadbandType.NONE)
    dso = next(d for d in loaded.devices if d.name == "dso")
    assert "points" not in dso.options  # the next device is left alone

    assert check_project(project.directory) == []
    assert main(["check", str(project.directory)]) == 0
    capsys.readouterr()

    latest = ProjectHistory(project.directory).versions()[-1]
    assert latest.number == max(before, 1) + 1
    assert (latest.author, latest.summary) == ("ian", "2 OPC UA points bound to bms")
    assert result.payload == latest
    [entry] = audit
    assert (entry.kind, entry.action, entry.target) == (
        AuditKind.PROJECT_CHANGE,
        "BindOpcUaPoints",
        "device bms",
    )
    assert entry.parameters["device"] == "bms"
    assert [p.tag for p in entry.parameters["points"]] == ["bms/pv_production", "bms/limit"]


async def test_a_tag_already_used_is_refused(project: Project) -> None:
    text = project.file.read_text(encoding="utf-8")
    router = router_for(project.directory, [])
    cases = {
        "bms/building_load": "already used",  # another point of the device
        "DSO/limit_kw": "already used",  # a tag of another device (sim)
        "CP-001/power": "under charger CP-001",
        "_system/x": "not a tag path",
        "bms/with blank": "not a tag path",
    }
    for tag, reason in cases.items():
        point = PointBinding(tag, "ns=2;s=PV.Production")
        result = await router.execute(bind(points=(point,)))
        assert result.outcome is Outcome.ERROR, tag
        assert result.status in {"DuplicateTag", "InvalidTag"}, tag
        assert reason in result.detail, tag

    twice = (POINTS[0], PointBinding(POINTS[0].tag, "ns=2;s=DSO.Limit"))
    result = await router.execute(bind(points=twice))
    assert (result.status, "given twice" in result.detail) == ("DuplicateTag", True)

    result = await router.execute(bind())  # bound once: the same tags again are refused
    assert result.ok
    result = await router.execute(bind())
    assert (result.outcome, result.status) == (Outcome.ERROR, "DuplicateTag")
    assert "bms/pv_production" in result.detail
    assert project.file.read_text(encoding="utf-8").count("[[devices.points]]") == 3
    assert text != project.file.read_text(encoding="utf-8")


async def test_an_unknown_device_or_another_protocol_is_refused(project: Project) -> None:
    text = project.file.read_text(encoding="utf-8")
    router = router_for(project.directory, [])

    result = await router.execute(bind(device="nobody"))
    assert (result.outcome, result.status) == (Outcome.ERROR, "UnknownDevice")
    assert "bms" in result.detail  # the known devices are named

    result = await router.execute(bind(device="dso"))
    assert (result.outcome, result.status) == (Outcome.ERROR, "NotOpcUa")

    bad = PointBinding("bms/bad", "not a node id")
    result = await router.execute(bind(points=(bad,)))
    assert (result.outcome, result.status) == (Outcome.ERROR, "InvalidPoints")
    assert "node" in result.detail
    assert project.file.read_text(encoding="utf-8") == text  # nothing written


async def test_an_operator_may_not_bind_and_it_is_confirmed(project: Project) -> None:
    audit: list[AuditEntry] = []
    text = project.file.read_text(encoding="utf-8")
    command = BindOpcUaPoints(device="bms", points=POINTS, actor=OPERATOR, confirmed=True)

    result = await router_for(project.directory, audit).execute(command)

    assert (result.outcome, result.status) == (Outcome.DENIED, "PermissionDenied")
    assert [(e.kind, e.action, e.target) for e in audit] == [
        (AuditKind.PERMISSION_DENIED, "BindOpcUaPoints", "device bms")
    ]
    assert project.file.read_text(encoding="utf-8") == text

    unconfirmed = BindOpcUaPoints(device="bms", points=POINTS, actor=INTEGRATOR)
    question = unconfirmed.confirmation() or ""
    assert "2 OPC UA nodes" in question and "next start" in question
    result = await router_for(project.directory, []).execute(unconfirmed)
    assert (result.outcome, result.status) == (Outcome.DENIED, "ConfirmationRequired")


async def test_the_engine_routes_binds(project: Project) -> None:
    engine = Engine(project, ocpp_port=0)
    await engine.start()
    try:
        result = await engine.router.execute(bind())
        await engine.archive.run_durable(lambda connection: None)
        kinds = frozenset({AuditKind.PROJECT_CHANGE})
        [entry] = query_audit(engine.archive.engine, AuditFilter(kinds=kinds))
    finally:
        await engine.stop()
    assert result.ok, result
    assert entry.action == "BindOpcUaPoints" and entry.actor.user == "ian"
    assert engine.drivers.tags().count("bms/pv_production") == 0  # at the next start
