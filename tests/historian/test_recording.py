"""What the archive keeps of values that keep coming: meter samples per measurand and
historised tags per path, each with a deadband and a maximum interval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from support import wait_until

from evsuper.core.bus import TagBus
from evsuper.core.domain import CommState, MeterReading, MeterValuesReceived
from evsuper.core.tags import Quality, Sample
from evsuper.historian import archive as archive_module
from evsuper.historian import schema
from evsuper.historian.archive import Archive
from evsuper.historian.recording import Recorder
from evsuper.historian.samples import TAGS_SOURCE, available_pens, series, tag_pen
from evsuper.project.model import RecordingRule

T0 = datetime(2026, 11, 2, tzinfo=UTC)
POWER = "Power.Active.Import"


def kept(recorder: Recorder[str], samples: list[tuple[float, float]]) -> list[float]:
    """The values stored among (seconds after T0, value) samples of one series."""
    return [v for s, v in samples if recorder.keep("pen", POWER, T0 + timedelta(seconds=s), v)]


def test_without_a_rule_every_value_is_stored() -> None:
    recorder: Recorder[str] = Recorder([RecordingRule(match="SoC", deadband=5)])
    assert kept(recorder, [(0, 7.0), (10, 7.0), (20, 7.001)]) == [7.0, 7.0, 7.001]


def test_moves_within_the_deadband_wait_for_the_maximum_interval() -> None:
    recorder: Recorder[str] = Recorder(
        [RecordingRule(match="Power.*", deadband=0.5, max_interval_s=60)]
    )
    samples = [(0, 7.0), (10, 7.4), (20, 6.6), (30, 7.6), (40, 7.5), (90, 7.5)]
    # 0.4 and 0.4 from 7: skipped; 0.6: stored; at 90 s the last stored is 60 s old
    assert kept(recorder, samples) == [7.0, 7.6, 7.5]


def test_forced_late_and_other_series_values_are_stored() -> None:
    recorder: Recorder[str] = Recorder([RecordingRule(deadband=100, max_interval_s=3600)])
    assert recorder.keep("a", POWER, T0, 5.0)
    assert not recorder.keep("a", POWER, T0 + timedelta(seconds=10), 5.0)
    assert recorder.keep("a", POWER, T0 + timedelta(seconds=20), 5.0, always=True)
    assert recorder.keep("a", POWER, T0 - timedelta(hours=1), 5.0)  # late: history
    assert not recorder.keep("a", POWER, T0 + timedelta(seconds=30), 5.0)
    assert recorder.keep("b", POWER, T0 + timedelta(seconds=30), 5.0)
    assert list(recorder.due(T0 + timedelta(seconds=3620))) == ["a"]


def test_text_values_are_stored_on_any_change() -> None:
    recorder: Recorder[str] = Recorder([RecordingRule(deadband=100)])
    values = [(0, "online"), (10, "online"), (20, "offline")]
    stored = [v for s, v in values if recorder.keep("comm", "x", T0 + timedelta(seconds=s), v)]
    assert stored == ["online", "offline"]


async def test_meter_samples_are_stored_as_the_rules_say_in_display_units(
    archive_url: str,
) -> None:
    bus = TagBus()
    rule = RecordingRule(match=POWER, deadband=1, max_interval_s=60)  # 1 kW
    archive = Archive(archive_url, bus, recording=[rule])
    await archive.start()
    try:
        for i in range(30):  # 10 s apart, a flat 7 kW, then a step to 11 kW at 200 s
            ts = T0 + timedelta(seconds=10 * i)
            readings = (
                MeterReading(ts, POWER, 7000.0 if i < 20 else 11000.0, "W"),
                MeterReading(ts, "SoC", float(i), "Percent"),
            )
            bus.emit(MeterValuesReceived("CP-1", 1, None, readings))
        end = MeterReading(T0 + timedelta(seconds=301), POWER, 11e3, "W", context="Transaction.End")
        bus.emit(MeterValuesReceived("CP-1", 1, None, (end,)))
        m = schema.meter_samples

        def stored(measurand: str) -> list[float]:
            with archive.engine.connect() as connection:
                query = select(m.c.ts).where(m.c.measurand == measurand).order_by(m.c.ts)
                return [(ts - T0).total_seconds() for ts in connection.execute(query).scalars()]

        await wait_until(lambda: len(stored("SoC")) == 30)  # no rule: every sample
        assert stored(POWER) == [0.0, 60.0, 120.0, 180.0, 200.0, 260.0, 301.0]
    finally:
        await archive.stop()


@pytest.fixture
def fast_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive_module, "TAG_CLOCK_S", 0.02)


async def test_historised_tags_deadband_interval_text_and_quality(
    archive_url: str, fast_clock: None
) -> None:
    bus = TagBus()
    rules = [
        RecordingRule(match="SITE/meter/*", deadband=0.5, max_interval_s=3600),
        RecordingRule(match="CP-1/comm", max_interval_s=0.2),
    ]
    archive = Archive(archive_url, bus, tags=rules)
    await archive.start()
    t = schema.tag_samples

    def rows(tag: str) -> list[tuple[float | None, str | None, str]]:
        with archive.engine.connect() as connection:
            query = select(t.c.value, t.c.text, t.c.quality).where(t.c.tag == tag)
            return [tuple(r) for r in connection.execute(query.order_by(t.c.id))]

    now = datetime.now(UTC)  # their interval runs from now
    try:
        for i, kw in enumerate((10.0, 10.2, 10.6, 10.7)):
            bus.publish("SITE/meter/power_kw", Sample(kw, now + timedelta(seconds=i)))
        bus.publish("SITE/meter/power_kw", Sample(10.7, now + timedelta(seconds=5), Quality.BAD))
        bus.publish("SITE/other", Sample(1.0))  # not historised
        bus.publish("CP-1/comm", Sample(CommState.ONLINE))
        await wait_until(lambda: len(rows("CP-1/comm")) >= 2)  # unchanged: stored again
        assert rows("CP-1/comm")[:2] == [(None, "online", "good")] * 2
        await archive.run_durable(lambda _: None)
        assert rows("SITE/meter/power_kw") == [
            (10.0, None, "good"),
            (10.6, None, "good"),
            (10.7, None, "bad"),  # within the deadband, but the quality changed
        ]
        assert rows("SITE/other") == []
        pens = available_pens(archive.engine, TAGS_SOURCE)
        assert pens == [tag_pen("SITE/meter/power_kw")]  # numbers only
        assert pens[0].label == "SITE/meter/power_kw" and pens[0].live_tag == pens[0].label
        trend = series(archive.engine, pens[0], now, now + timedelta(minutes=1))
        assert trend.values == [10.0, 10.6, 10.7]
    finally:
        await archive.stop()
