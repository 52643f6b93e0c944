"""A Modbus wallbox under the charging service: its limit is written to the tag
``<charger>/C1/current_limit_a`` through the Modbus driver, against the Modbus simulator
(a real pymodbus server on 127.0.0.1)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from support import execute_as_admin, wait_until

from evsuper.charging.status import ConnectorAllocation
from evsuper.drivers.modbus.simulator import ChargerModel, ModbusSimulator
from evsuper.engine import commands as cmd
from evsuper.engine.runtime import Engine
from evsuper.project.loader import load_project
from evsuper.project.model import Project, SmartChargingSettings

POLL = """poll_s = 0.05
timeout_s = 0.5
connect_timeout_s = 0.5
reconnect_min_s = 0.05
reconnect_max_s = 0.2
"""


@pytest.fixture
async def engine(make_project: Any) -> AsyncIterator[Engine]:
    async with ModbusSimulator({11: ChargerModel()}, step_s=0.05) as sim:
        project: Project = make_project(bollards=1)
        text = project.file.read_text(encoding="utf-8") + (
            f'\n[[devices]]\nname = "wallbox-1"\naddress = "modbus://127.0.0.1:{sim.port}/11"\n'
            f'profile = "ev-charger"\n{POLL}\n'
            '[[chargers]]\nid = "MB-01"\nprotocol = "modbus"\ndevice = "wallbox-1"\n'
            "connectors = 1\n"
        )
        project.file.write_text(text, encoding="utf-8")
        loaded = load_project(project.file.parent)
        loaded = dataclasses.replace(
            loaded,
            ocpp=dataclasses.replace(loaded.ocpp, port=0),
            sites=(dataclasses.replace(loaded.sites[0], limit_kw=10.0),),
            # without the fail-safe, whose share (10 kW x 22 / 66) would pause the wallbox
            smart_charging=SmartChargingSettings(
                enabled=True, period_s=30.0, debounce_s=0.05, failsafe=False
            ),
        )
        engine = Engine(loaded, run_simulator=False, ocpp_port=0)
        await engine.start()
        yield engine
        await engine.stop()


def wallbox(engine: Engine) -> ConnectorAllocation | None:
    status = engine.charging.status(engine.project.sites[0].id)
    return next((c for c in status.connectors if c.charger_id == "MB-01"), None)


async def test_the_wallbox_limit_is_written_to_its_register(engine: Engine) -> None:
    # the simulated wallbox charges from the start: 10 kW are 14.49 A on three phases
    await wait_until(lambda: (w := wallbox(engine)) is not None and w.sent_a == 14.4)
    await wait_until(lambda: engine.bus.value("MB-01/C1/current_limit_a") == pytest.approx(14.4))
    await wait_until(lambda: engine.bus.value("MB-01/C1/power_kw") == pytest.approx(9.94, 0.01))
    site_id = engine.project.sites[0].id
    lowered = await execute_as_admin(engine.router, cmd.SetSiteLimit(site_id=site_id, limit_kw=7.0))
    assert lowered.ok
    await wait_until(lambda: engine.bus.value("MB-01/C1/current_limit_a") == pytest.approx(10.1))
    assert engine.central.installed_profiles("MB-01") == ()  # no OCPP profile for it
