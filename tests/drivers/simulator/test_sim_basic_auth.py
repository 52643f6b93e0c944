"""Simulated bollards of a security-profile-1 project authenticate with [simulator] password."""

from __future__ import annotations

import dataclasses
import sqlite3
from typing import Any

from support import wait_until

from evsuper.core.domain import CommState
from evsuper.drivers.ocpp.security import hash_password
from evsuper.engine.runtime import Engine
from evsuper.project.model import SecurityProfile

PASSWORD = "simulated bollards"


async def test_bollards_with_the_right_password_come_online(make_project: Any) -> None:
    project = make_project(bollards=3, security_profile=SecurityProfile.BASIC_AUTH)
    hashes = {"CP-001": hash_password(PASSWORD), "CP-002": hash_password(PASSWORD)}
    hashes["CP-003"] = hash_password("not what the simulator sends")
    project = dataclasses.replace(
        project,
        chargers=tuple(
            dataclasses.replace(c, password_hash=hashes[c.id]) for c in project.chargers
        ),
        simulator=dataclasses.replace(project.simulator, password=PASSWORD),
    )
    engine = Engine(project, ocpp_port=0)
    await engine.start()
    try:
        for charger_id in ("CP-001", "CP-002"):
            await wait_until(lambda c=charger_id: engine.bus.value(f"{c}/comm") is CommState.ONLINE)
            await wait_until(lambda c=charger_id: engine.bus.value(f"{c}/registration") is not None)
            assert engine.bus.value(f"{charger_id}/registration").value == "Accepted"

        def refusals() -> list[tuple[str, str]]:
            with sqlite3.connect(project.directory / "archive.sqlite") as db:
                return db.execute("select charger_id, detail from anomalies").fetchall()

        rows = await wait_until(refusals)
        assert {charger_id for charger_id, _ in rows} == {"CP-003"}
        assert "wrong password" in rows[0][1]
        assert engine.bus.value("CP-003/comm") is not CommState.ONLINE
    finally:
        await engine.stop()
