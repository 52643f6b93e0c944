"""Issue 8's end-to-end check: 12 simulated bollards charge under a 50 kW site limit.

The whole engine runs: the central system, the charging service and 12 simulated bollards,
each a real OCPP 1.6J client on loopback whose power follows the profiles it accepted. The
site's measured power is the sum of the connectors' latest meter values (``power_kw``).

The transition is defined as: a connector's meter value is taken as showing its limit when
it is timestamped after the charger acknowledged its latest limit (plus 50 ms for the charger
to apply it). The site power is checked at every meter value for which every connector is so
settled; it must never exceed the limit in force.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from support import execute_as_admin, wait_until

from evsuper.charging.status import SiteChargingStatus
from evsuper.core.domain import MeterValuesReceived
from evsuper.core.tags import Sample
from evsuper.core.timeutil import utcnow
from evsuper.drivers.ocpp.mapping import live_figures
from evsuper.engine import commands as cmd
from evsuper.engine.runtime import Engine
from evsuper.project.model import Project, SmartChargingSettings

BOLLARDS = 12
SITE_LIMIT_KW = 50.0
LIMIT_TAG = "SITE/dso/limit_kw"
APPLY = timedelta(milliseconds=50)


class SitePower:
    """Every connector's latest meter value, and the site power whenever all are settled."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.latest: dict[tuple[str, int], tuple[float, datetime]] = {}
        self.settled: list[tuple[datetime, float]] = []  # (ts, site kW)
        self.limit_kw = SITE_LIMIT_KW
        self.limit_since: datetime | None = None  # the checks count from here
        engine.bus.subscribe_events(self.meter_values)

    def meter_values(self, event: Any) -> None:
        if not isinstance(event, MeterValuesReceived):
            return
        figures = live_figures(list(event.readings))
        if figures.power_w is None or figures.ts is None:
            return
        self.latest[event.charger_id, event.connector_id] = (figures.power_w / 1000, figures.ts)
        if self.limit_since is None or len(self.latest) < BOLLARDS:
            return
        for (charger_id, connector_id), (_, ts) in self.latest.items():
            acknowledged = self.engine.charging.acknowledged_at(charger_id, connector_id)
            if acknowledged is None or ts < max(acknowledged, self.limit_since) + APPLY:
                return
        self.settled.append((figures.ts, sum(kw for kw, _ in self.latest.values())))

    def watch(self, limit_kw: float, since: datetime) -> None:
        self.limit_kw, self.limit_since, self.settled = limit_kw, since, []


@pytest.fixture(params=[True, False], ids=["failsafe", "no-failsafe"])
async def engine(make_project: Any, request: pytest.FixtureRequest) -> AsyncIterator[Engine]:
    """With the fail-safe each bollard is also capped by its share (50/12 kW); without it
    the allocator alone shares the site, sessions starting at full power until their
    first profile."""
    project: Project = make_project(bollards=BOLLARDS, connectors=1)
    site = dataclasses.replace(project.sites[0], limit_kw=SITE_LIMIT_KW, limit_tag=LIMIT_TAG)
    project = dataclasses.replace(
        project,
        sites=(site,),
        # a long period: what happens within the test comes from events, not from the timer
        smart_charging=SmartChargingSettings(
            enabled=True,
            period_s=60.0,
            debounce_s=0.05,
            settle_s=0.5,
            stagger_s=0.0,
            failsafe=request.param,
        ),
    )
    engine = Engine(project, ocpp_port=0)
    await engine.start()
    yield engine
    await engine.stop()


def status(engine: Engine) -> SiteChargingStatus:
    return engine.charging.status(engine.project.sites[0].id)


def all_sent(engine: Engine, charging: int) -> bool:
    """``charging`` sessions charge and every session's charger holds its setpoint (to the
    hysteresis: a raise within it is not sent)."""
    hysteresis = engine.project.smart_charging.hysteresis_a
    connectors = [c for c in status(engine).connectors if c.state != "not requested"]
    return (
        len([c for c in connectors if c.state == "charging"]) == charging
        and len(connectors) == BOLLARDS
        and all(
            c.sent_a is not None
            and c.current_a - hysteresis <= c.sent_a <= c.current_a
            and (c.sent_a == 0) == (c.current_a == 0)
            for c in connectors
        )
    )


async def test_twelve_bollards_share_fifty_kw_and_follow_a_limit_tag(engine: Engine) -> None:
    power = SitePower(engine)
    chargers = [c.id for c in engine.project.chargers]
    await wait_until(lambda: all(engine.bus.value(f"{c}/C1/status") for c in chargers))
    power.watch(SITE_LIMIT_KW, utcnow())
    for i, charger_id in enumerate(chargers):
        started = await execute_as_admin(
            engine.router,
            cmd.RemoteStart(charger_id=charger_id, connector_id=1, id_tag=f"CAR-{i:02d}"),
        )
        assert started.ok, started
    await wait_until(lambda: all_sent(engine, BOLLARDS), within=20)
    await wait_until(lambda: len(power.settled) >= 3 * BOLLARDS, within=20)

    # every session charges at the same share, and its meter shows it
    shares = {c.current_a for c in status(engine).connectors}
    assert len(shares) == 1 and 6.0 <= shares.pop() <= SITE_LIMIT_KW * 1000 / 690 / BOLLARDS
    site_kw = max(kw for _, kw in power.settled)
    assert site_kw <= SITE_LIMIT_KW
    assert site_kw > 0.95 * SITE_LIMIT_KW  # nothing left unused
    for c in status(engine).connectors:
        assert c.measured_kw == pytest.approx(c.power_kw, rel=0.01)

    # the DSO lowers the limit through a tag: the next allocation follows at once (the
    # period is 60 s): 7 sessions fit at 6 A, the other 5 are paused at 0 A
    changed = utcnow()
    engine.bus.publish(LIMIT_TAG, Sample(30.0))
    power.watch(30.0, changed)
    await wait_until(lambda: all_sent(engine, 7), within=10)
    assert status(engine).limit_source == f"tag {LIMIT_TAG}"
    paused = [c for c in status(engine).connectors if c.state == "paused"]
    assert len(paused) == 5 and all(c.current_a == 0 for c in paused)
    await wait_until(lambda: len(power.settled) >= 3 * BOLLARDS, within=20)
    assert max(kw for _, kw in power.settled) <= 30.0
    assert engine.bus.value(f"_system/charging/{status(engine).site_id}/limit_kw") == 30.0
