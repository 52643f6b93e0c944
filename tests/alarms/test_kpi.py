"""Alarm KPIs from hand-built journals whose answers are counted by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evsuper.alarms.kpi import (
    Bucket,
    FloodPeriod,
    Targets,
    chattering_alarms,
    compute_kpis,
    counts_per_window,
    floor_window,
    stale_alarms,
)
from evsuper.alarms.model import AlarmState, Category, JournalEntry, Priority, Transition

T0 = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)  # a midnight: windows and days align
MIN = timedelta(minutes=1)


def entry(
    at: timedelta,
    key: str = "fault:CP-001/C1",
    transition: Transition = Transition.ACTIVATED,
    *,
    priority: Priority = Priority.LOW,
    state: AlarmState | None = None,
) -> JournalEntry:
    definition_id, _, source = key.partition(":")
    if state is None:
        state = {
            Transition.ACTIVATED: AlarmState.UNACKNOWLEDGED,
            Transition.RETURNED: AlarmState.RTN_UNACKNOWLEDGED,
            Transition.ACKNOWLEDGED: AlarmState.ACKNOWLEDGED,
        }.get(transition, AlarmState.NORMAL)
    return JournalEntry(
        ts=T0 + at,
        key=key,
        definition_id=definition_id,
        source=source,
        charger_id=source.split("/")[0],
        priority=priority,
        category=Category.CHARGER_FAULT,
        transition=transition,
        state=state,
        message=f"{definition_id} at {source}",
    )


def metric(kpis: object, name: str) -> tuple[str, bool | None]:
    for m in kpis.metrics:  # type: ignore[attr-defined]
        if m.name.startswith(name):
            return m.value_text, m.ok
    raise KeyError(name)


def test_a_quiet_hour_counts_only_annunciated_activations() -> None:
    journal = [
        entry(2 * MIN),  # window 00:00
        entry(3 * MIN, transition=Transition.ACKNOWLEDGED),
        entry(9 * MIN, transition=Transition.RETURNED),
        entry(25 * MIN, "comm:CP-002"),  # window 00:20
        entry(27 * MIN, "comm:CP-003", state=AlarmState.SHELVED),  # not annunciated
        entry(28 * MIN, "comm:CP-004", state=AlarmState.SUPPRESSED),  # not annunciated
        entry(59 * MIN, "comm:CP-002"),  # window 00:50
        entry(61 * MIN, "comm:CP-002"),  # after the period
    ]
    kpis = compute_kpis(journal, T0, T0 + 60 * MIN)
    assert kpis.alarms == 3
    assert [b.count for b in kpis.per_10min] == [1, 0, 1, 0, 0, 1]
    assert [b.start for b in kpis.per_10min] == [T0 + i * 10 * MIN for i in range(6)]
    assert kpis.per_day == (Bucket(T0, 3),)
    assert kpis.average_per_10min == pytest.approx(0.5)  # 3 alarms / 6 windows
    assert kpis.average_per_day == pytest.approx(72.0)  # 3 alarms / (1/24 day)
    assert kpis.peak_per_10min == 1
    assert kpis.flood_periods == ()
    assert kpis.time_in_flood == 0.0
    assert metric(kpis, "Average alarms per 10 minutes") == ("0.50", True)
    assert metric(kpis, "Average alarms per day") == ("72.0", True)
    assert metric(kpis, "Time in flood") == ("0.0%", True)
    # 2 keys make the whole load: the top 10 are 100 % of it
    assert [(a.key, a.count) for a in kpis.bad_actors] == [
        ("comm:CP-002", 2),
        ("fault:CP-001/C1", 1),
    ]
    assert kpis.bad_actors[0].share == pytest.approx(2 / 3)
    assert metric(kpis, "Share of the top 10") == ("100%", False)


def test_operator_positions_share_the_load() -> None:
    journal = [entry(i * MIN, f"a:CP-{i:03}") for i in range(12)]  # 12 alarms in an hour
    one = compute_kpis(journal, T0, T0 + 60 * MIN)
    two = compute_kpis(journal, T0, T0 + 60 * MIN, positions=2)
    assert one.average_per_10min == pytest.approx(2.0)
    assert metric(one, "Average alarms per 10 minutes") == ("2.00", False)
    assert two.average_per_10min == pytest.approx(1.0)
    assert metric(two, "Average alarms per 10 minutes") == ("1.00", True)
    assert two.average_per_day == pytest.approx(144.0)
    # 10 in the first window, 2 in the second: a flood for one position, not for two
    assert [b.count for b in one.per_10min] == [10, 2, 0, 0, 0, 0]
    assert one.flood_periods == () and two.flood_periods == ()
    with pytest.raises(ValueError):
        compute_kpis(journal, T0, T0 + 60 * MIN, positions=0)


def test_adjacent_flood_windows_merge_into_one_period() -> None:
    journal = (
        [entry(10 * MIN + i * 30 * timedelta(seconds=1), f"a:CP-{i:03}") for i in range(11)]
        + [entry(20 * MIN + i * timedelta(seconds=40), f"b:CP-{i:03}") for i in range(14)]
        + [entry(35 * MIN, "c:CP-001")]
        + [entry(50 * MIN + i * timedelta(seconds=20), f"d:CP-{i:03}") for i in range(12)]
    )
    kpis = compute_kpis(journal, T0, T0 + 60 * MIN)
    assert [b.count for b in kpis.per_10min] == [0, 11, 14, 1, 0, 12]
    assert kpis.flood_periods == (
        FloodPeriod(T0 + 10 * MIN, T0 + 30 * MIN, count=25, windows=2, peak=14),
        FloodPeriod(T0 + 50 * MIN, T0 + 60 * MIN, count=12, windows=1, peak=12),
    )
    assert kpis.flood_windows == 3
    assert kpis.time_in_flood == pytest.approx(0.5)
    assert metric(kpis, "Time in flood") == ("50.0%", False)
    assert metric(kpis, "Most alarms in 10 minutes") == ("14", False)
    assert metric(kpis, "Flood periods") == ("2 (3 windows)", None)


def test_exactly_ten_in_ten_minutes_is_no_flood() -> None:
    journal = [entry(i * MIN, f"a:CP-{i:03}") for i in range(10)]
    kpis = compute_kpis(journal, T0, T0 + 10 * MIN)
    assert kpis.flood_periods == ()
    assert metric(kpis, "Most alarms in 10 minutes") == ("10", True)


def test_a_period_off_the_clock_has_partial_first_and_last_windows() -> None:
    since = T0 + 5 * MIN
    until = T0 + 25 * MIN
    journal = [entry(4 * MIN), entry(6 * MIN), entry(12 * MIN), entry(24 * MIN), entry(25 * MIN)]
    windows = counts_per_window([e.ts for e in journal], since, until, 10 * MIN)
    assert windows == [Bucket(T0, 1), Bucket(T0 + 10 * MIN, 1), Bucket(T0 + 20 * MIN, 1)]
    assert floor_window(T0 + 19 * MIN + timedelta(seconds=59)) == T0 + 10 * MIN


def test_top_ten_bad_actors_ranked_by_activations() -> None:
    journal = []
    # source i activates i times: 1 + 2 + ... + 12 = 78 alarms
    for i in range(1, 13):
        journal += [entry(i * MIN + j * timedelta(hours=1), f"fault:CP-{i:03}") for j in range(i)]
    kpis = compute_kpis(journal, T0, T0 + timedelta(days=1))
    assert kpis.alarms == 78
    assert [(a.source, a.count) for a in kpis.bad_actors] == [
        (f"CP-{i:03}", i) for i in range(12, 2, -1)
    ]
    assert kpis.bad_actors[0].share == pytest.approx(12 / 78)
    assert kpis.top10_share == pytest.approx(75 / 78)  # all but CP-001 (1) and CP-002 (2)


def test_three_activations_within_a_minute_chatter() -> None:
    s = timedelta(seconds=1)
    journal = [
        # A: 0, 20, 50 s: three within 60 s -> chattering; again 200, 210, 215 s: a second burst
        *(entry(t * s, "a:CP-001") for t in (0, 20, 50, 200, 210, 215)),
        # B: 0, 30, 60 s: the third is 60 s after the first -> not chattering (engine: < 60 s)
        *(entry(t * s, "b:CP-002") for t in (0, 30, 60)),
        # C: three activations, one of them shelved: still chattering
        entry(0 * s, "c:CP-003"),
        entry(10 * s, "c:CP-003", state=AlarmState.SHELVED),
        entry(20 * s, "c:CP-003", state=AlarmState.SHELVED),
        # acknowledgements and returns are not activations
        *(entry(t * s, "d:CP-004", Transition.ACKNOWLEDGED) for t in (1, 2, 3)),
    ]
    found = {c.key: c for c in chattering_alarms(journal)}
    assert set(found) == {"a:CP-001", "c:CP-003"}
    a = found["a:CP-001"]
    assert (a.activations, a.bursts, a.peak_per_window, a.first) == (6, 2, 3, T0 + 50 * s)
    kpis = compute_kpis(journal, T0, T0 + timedelta(hours=1))
    assert [c.key for c in kpis.chattering] == ["a:CP-001", "c:CP-003"]
    assert metric(kpis, "Chattering alarms") == ("2", False)


def test_stale_alarms_stand_for_more_than_a_day_at_the_end() -> None:
    H = timedelta(hours=1)
    until = T0 + 48 * H
    journal = [
        entry(0 * H, "a:CP-001"),  # activated 48 h before the end, never returned: stale
        entry(1 * H, "a:CP-001", Transition.ACKNOWLEDGED),
        entry(2 * H, "b:CP-002"),  # returned: not stale
        entry(30 * H, "b:CP-002", Transition.RETURNED),
        entry(23 * H, "c:CP-003"),  # 25 h: stale, and shelved since
        entry(24 * H, "c:CP-003", Transition.SHELVED, state=AlarmState.SHELVED),
        entry(25 * H, "d:CP-004"),  # 23 h: not yet stale
        entry(3 * H, "e:CP-005"),  # out of service: not counted
        entry(
            4 * H,
            "e:CP-005",
            Transition.REMOVED_FROM_SERVICE,
            state=AlarmState.OUT_OF_SERVICE,
        ),
        entry(49 * H, "f:CP-006"),  # after the end
    ]
    stale = stale_alarms(journal, until)
    assert [(s.key, s.age, s.state) for s in stale] == [
        ("a:CP-001", 48 * H, AlarmState.ACKNOWLEDGED),
        ("c:CP-003", 25 * H, AlarmState.SHELVED),
    ]
    # the history before the period counts for stale alarms only
    kpis = compute_kpis(journal, T0 + 24 * H, until)
    assert [s.key for s in kpis.stale] == ["a:CP-001", "c:CP-003"]
    assert kpis.alarms == 1  # only d was activated in the period
    assert metric(kpis, "Stale alarms") == ("2", True)
    five = [entry(i * MIN, f"s:CP-{i:03}") for i in range(5)]
    assert metric(compute_kpis(five, T0, until), "Stale alarms") == ("5", False)


def test_priority_distribution_against_80_15_5() -> None:
    journal = (
        [entry(i * MIN, f"l:CP-{i:03}", priority=Priority.LOW) for i in range(80)]
        + [entry(i * MIN, f"m:CP-{i:03}", priority=Priority.MEDIUM) for i in range(15)]
        + [entry(i * MIN, f"h:CP-{i:03}", priority=Priority.HIGH) for i in range(5)]
    )
    since, until = T0, T0 + timedelta(days=1)
    kpis = compute_kpis(journal, since, until)
    assert [(s.priority, s.count) for s in kpis.priorities] == [
        (Priority.CRITICAL, 0),
        (Priority.HIGH, 5),
        (Priority.MEDIUM, 15),
        (Priority.LOW, 80),
    ]
    assert metric(kpis, "Priority distribution") == ("C 0 / H 5 / M 15 / L 80 %", True)
    one_more_high = [*journal, entry(MIN, "h:CP-999", priority=Priority.HIGH)]
    _, ok = metric(compute_kpis(one_more_high, since, until), "Priority distribution")
    assert ok is False  # 6 of 101 are high


def test_an_empty_journal_passes_every_rate_target() -> None:
    kpis = compute_kpis([], T0, T0 + timedelta(days=1))
    assert kpis.alarms == 0
    assert len(kpis.per_10min) == 144 and len(kpis.per_day) == 1
    assert kpis.bad_actors == () and kpis.top10_share == 0.0
    assert kpis.failed == ()
    with pytest.raises(ValueError):
        compute_kpis([], T0, T0)


def test_custom_targets() -> None:
    journal = [entry(i * MIN, f"a:CP-{i:03}") for i in range(4)]
    kpis = compute_kpis(journal, T0, T0 + 10 * MIN, targets=Targets(flood_above=3))
    assert [(p.count, p.windows) for p in kpis.flood_periods] == [(4, 1)]


times = st.lists(st.integers(min_value=-3600, max_value=3 * 86400), max_size=300)


@settings(max_examples=60, deadline=None)
@given(times, st.integers(min_value=0, max_value=3600), st.integers(600, 3 * 86400))
def test_every_alarm_of_the_period_is_counted_once(
    offsets: list[int], start: int, length: int
) -> None:
    s = timedelta(seconds=1)
    journal = [entry(t * s, f"a:CP-{t % 7}") for t in offsets]
    since = T0 + start * s
    until = since + length * s
    kpis = compute_kpis(journal, since, until)
    inside = sum(1 for t in offsets if since <= T0 + t * s < until)
    assert kpis.alarms == inside
    assert sum(b.count for b in kpis.per_10min) == inside
    assert sum(b.count for b in kpis.per_day) == inside
    assert sum(a.count for a in kpis.bad_actors) <= inside
    assert sum(p.count for p in kpis.flood_periods) == sum(
        b.count for b in kpis.per_10min if b.count > 10
    )
    assert all(since <= p.start < p.end <= until for p in kpis.flood_periods)
    assert sum(s.count for s in kpis.priorities) == inside
    starts = [b.start for b in kpis.per_10min]
    assert starts[0] <= since < starts[0] + 10 * MIN and starts[-1] < until


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=600), max_size=12))
def test_chattering_is_three_activations_less_than_a_minute_apart(offsets: list[int]) -> None:
    s = timedelta(seconds=1)
    journal = [entry(t * s, "a:CP-001") for t in offsets]
    times = sorted(offsets)
    expected = any(times[i + 2] - times[i] < 60 for i in range(len(times) - 2))
    found = chattering_alarms(journal)
    assert bool(found) == expected
    if found:
        peak = max(sum(1 for u in times if t - 60 < u <= t) for t in times)
        assert found[0].peak_per_window == peak
        assert found[0].activations == len(offsets)
