"""A bollard supervised entirely over Modbus shows in the HMI's overview model like any
other: the model is fed the engine's tags (a real simulator on 127.0.0.1), unchanged."""

from __future__ import annotations

from typing import Any

from support import wait_until
from test_engine_modbus import modbus_project

from evsuper.core.domain import CommState, ConnectorStatus
from evsuper.core.tags import Quality
from evsuper.drivers.modbus.simulator import ChargerModel, MeterModel, ModbusSimulator
from evsuper.engine.runtime import Engine
from evsuper.hmi.models.overview import OverviewModel


async def test_the_overview_shows_the_modbus_charger(make_project: Any, qapp: Any) -> None:
    async with ModbusSimulator({1: MeterModel(), 11: ChargerModel()}, step_s=0.05) as sim:
        project = modbus_project(make_project, sim.port)
        engine = Engine(project, run_simulator=False, ocpp_port=0)
        await engine.start()
        try:
            bus = engine.bus
            await wait_until(lambda: (bus.value("MB-01/C1/power_kw") or 0) > 10)
            model = OverviewModel(project)
            model.apply(bus.snapshot())
            state = model.state("MB-01")
            assert state is not None
            assert state.online and state.value_quality("power_kw", 1) is None
            connector = state.connector(1)
            assert connector is not None
            assert connector.status is ConnectorStatus.CHARGING
            assert connector.power_kw is not None and connector.power_kw > 10
            assert state.serial == "SIM-0001"
            # the link lost: offline, its values marked last-known
            await sim.stop()
            await wait_until(lambda: bus.value("MB-01/comm") is CommState.OFFLINE)
            model.apply(bus.snapshot())
            offline = model.state("MB-01")
            assert offline is not None and not offline.online
            marked = offline.value_quality("power_kw", 1)
            assert marked is not None and marked.quality is Quality.COMM_FAILURE
            assert offline.last_seen is not None
        finally:
            await engine.stop()
