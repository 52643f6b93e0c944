"""How a simulated bollard answers ReserveNow for each state of its connectors."""

from __future__ import annotations

from datetime import timedelta

from support import wait_until

from evsuper.core.domain import ConnectorStatus
from evsuper.core.timeutil import utcnow
from evsuper.drivers.simulator.bollard import SimulatedBollard
from evsuper.project.model import ChargerConfig, SimulatorSettings


def bollard() -> SimulatedBollard:
    return SimulatedBollard(
        ChargerConfig("SIM-1", connectors=3), SimulatorSettings(autonomous=False, seed=3)
    )


async def test_reserve_now_answers_by_connector_state() -> None:
    b = bollard()
    later = utcnow() + timedelta(hours=1)
    b.connectors[2].model.plug_in()
    b.connectors[3].model.set_operative(False)
    assert b._reserve(0, later, "A", 1) == "Rejected"  # the charge point as a whole
    assert b._reserve(9, later, "A", 2) == "Rejected"
    assert b._reserve(2, later, "A", 3) == "Occupied"
    assert b._reserve(3, later, "A", 4) == "Unavailable"
    b.connectors[3].model.set_operative(True)
    b.connectors[3].model.plug_in()
    b.connectors[3].model.break_down()
    assert b._reserve(3, later, "A", 5) == "Faulted"
    assert b._reserve(1, later, "A", 6) == "Accepted"
    assert b.status(1) is ConnectorStatus.RESERVED
    assert b._reserve(1, later, "B", 7) == "Occupied"
    assert b._reserve(1, later, "B", 6) == "Accepted"  # the same id replaces the reservation
    assert not b._reserve_remote_start("A", 1, None)  # reserved for someone else now
    assert b._reserve_remote_start("B", None, None)  # finds the connector reserved for B
    assert b.connectors[1].remote is not None


async def test_a_reservation_ends_at_its_expiry_or_when_cancelled() -> None:
    b = bollard()
    assert b._reserve(1, utcnow() + timedelta(seconds=0.2), "A", 1) == "Accepted"
    assert b._reserve(2, utcnow() + timedelta(hours=1), "A", 2) == "Accepted"
    await wait_until(lambda: b.status(1) is ConnectorStatus.AVAILABLE)
    assert b.connectors[1].reservation is None
    held = b._connector_with_reservation(2)
    assert held is b.connectors[2]
    b._end_reservation(held)
    assert b.status(2) is ConnectorStatus.AVAILABLE
    assert b._connector_with_reservation(2) is None
