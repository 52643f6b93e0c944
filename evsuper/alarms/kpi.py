"""Alarm system performance (KPIs) from the journal, the ISA-18.2 / IEC 62682 way.

Pure functions: a list of ``JournalEntry`` and a period ``[since, until)`` in, an
``AlarmKpis`` out — no clock, no I/O. What counts:

- An **alarm** is an annunciated activation: an ``activated`` row whose state after the
  transition is not shelved, suppressed by design or out of service (the operator never saw
  those). Rates, floods, bad actors and the priority distribution count these.
- **Windows** are 10-minute periods aligned on the clock (UTC ``hh:00, hh:10, ...``);
  **days** are UTC days. The first and last may be partial; averages divide by the true
  length of the period.
- A **flood** window has more than 10 alarms (per operator position: 10 times the positions for
  the site); adjacent flood windows make one period.
- **Chattering**: every activation counts (even shelved ones), and an alarm chatters when
  ``CHATTER_ACTIVATIONS`` of its activations fall within ``CHATTER_WINDOW`` (the alarm
  engine's own rule, ``evsuper.alarms.state``).
- **Stale**: the condition has been active for more than 24 h at the end of the period
  (activated, not returned since), unless the alarm is out of service. Entries before
  ``since`` are read for this only, so pass some history before the period to see alarms
  that were activated before it.

Targets (``docs/alarms.md``): ISA-18.2 (ANSI/ISA-18.2-2016 table 16) = IEC 62682 and
EEMUA 191.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from evsuper.alarms.model import AlarmState, Category, JournalEntry, Priority, Transition
from evsuper.alarms.state import CHATTER_ACTIVATIONS, CHATTER_WINDOW

WINDOW = timedelta(minutes=10)
DAY = timedelta(days=1)
STALE_AFTER = timedelta(hours=24)
TOP_N = 10
NOT_ANNUNCIATED = frozenset({AlarmState.SHELVED, AlarmState.SUPPRESSED, AlarmState.OUT_OF_SERVICE})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Targets:
    """Target lines, per operator position (defaults: ISA-18.2 table 16, EEMUA 191)."""

    acceptable_per_10min: float = 1.0  # "very likely to be acceptable"
    manageable_per_10min: float = 2.0  # "maximum manageable"
    acceptable_per_day: float = 150.0
    manageable_per_day: float = 300.0
    flood_above: int = 10  # alarms in 10 minutes: a flood beyond this
    max_time_in_flood: float = 0.01  # share of the 10-minute windows, < 1 %
    max_top10_share: float = 0.05  # the 10 most frequent alarms: ~1 % to 5 % of the load
    max_chattering: int = 0
    max_stale: int = 4  # "less than 5 present on any day"
    # ~80 % low, ~15 % medium, ~5 % high, < 1 % "highest": the urgent ones are upper bounds
    max_priority_share: tuple[tuple[Priority, float], ...] = (
        (Priority.CRITICAL, 0.01),
        (Priority.HIGH, 0.05),
        (Priority.MEDIUM, 0.15),
    )
    recommended_share: tuple[tuple[Priority, float], ...] = (
        (Priority.CRITICAL, 0.01),
        (Priority.HIGH, 0.05),
        (Priority.MEDIUM, 0.15),
        (Priority.LOW, 0.80),
    )


@dataclass(frozen=True, slots=True)
class Bucket:
    """Alarms in a window (10 minutes or a day) starting at ``start``."""

    start: datetime
    count: int


@dataclass(frozen=True, slots=True)
class FloodPeriod:
    """Adjacent flood windows, clipped to the period."""

    start: datetime
    end: datetime
    count: int  # alarms in the period's windows
    windows: int
    peak: int  # the most alarms in one of its windows

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class BadActor:
    key: str
    definition_id: str
    source: str
    priority: Priority
    category: Category
    message: str  # of its latest activation
    count: int
    share: float  # of all alarms of the period, 0..1


@dataclass(frozen=True, slots=True)
class ChatteringAlarm:
    key: str
    definition_id: str
    source: str
    priority: Priority
    message: str
    activations: int  # in the period, every activation
    bursts: int  # times it started chattering (a burst ends when the window empties)
    peak_per_window: int  # the most activations within one CHATTER_WINDOW
    first: datetime  # when it first chattered


@dataclass(frozen=True, slots=True)
class StaleAlarm:
    key: str
    definition_id: str
    source: str
    priority: Priority
    message: str
    activated: datetime
    age: timedelta  # at the end of the period
    state: AlarmState  # as last journaled (a stale alarm may be shelved or suppressed)


@dataclass(frozen=True, slots=True)
class PriorityShare:
    priority: Priority
    count: int
    share: float  # 0..1
    recommended: float  # 0..1


@dataclass(frozen=True, slots=True)
class Metric:
    """One line of the KPI report; ``ok`` None: informative, no target."""

    name: str
    value: float
    value_text: str
    target_text: str
    ok: bool | None
    source: str = "ISA-18.2 / EEMUA 191"


@dataclass(frozen=True, slots=True)
class AlarmKpis:
    since: datetime
    until: datetime
    positions: int
    alarms: int  # annunciated activations in the period
    per_10min: tuple[Bucket, ...]
    per_day: tuple[Bucket, ...]
    average_per_10min: float  # per operator position
    average_per_day: float  # per operator position
    peak_per_10min: int
    flood_periods: tuple[FloodPeriod, ...]
    flood_windows: int
    time_in_flood: float  # share of the 10-minute windows, 0..1
    bad_actors: tuple[BadActor, ...]  # the top 10
    top10_share: float
    chattering: tuple[ChatteringAlarm, ...]
    stale: tuple[StaleAlarm, ...]
    priorities: tuple[PriorityShare, ...]
    metrics: tuple[Metric, ...]
    targets: Targets = field(default_factory=Targets)

    @property
    def failed(self) -> tuple[Metric, ...]:
        return tuple(m for m in self.metrics if m.ok is False)


def floor_window(ts: datetime, window: timedelta = WINDOW) -> datetime:
    """The start of the clock-aligned ``window`` holding ``ts`` (UTC)."""
    ts = ts.astimezone(UTC)
    return ts - (ts - _EPOCH) % window


def is_alarm(entry: JournalEntry) -> bool:
    """An annunciated activation."""
    return entry.transition is Transition.ACTIVATED and entry.state not in NOT_ANNUNCIATED


def counts_per_window(
    times: Iterable[datetime], since: datetime, until: datetime, window: timedelta
) -> list[Bucket]:
    """Every clock-aligned window overlapping ``[since, until)``, empty ones included, with
    the number of ``times`` inside ``[since, until)`` falling in it."""
    first = floor_window(since, window)
    n = max(0, -(-(until - first) // window))  # ceil
    counts = [0] * n
    for ts in times:
        if since <= ts < until:
            counts[(ts - first) // window] += 1
    return [Bucket(first + i * window, c) for i, c in enumerate(counts)]


def flood_periods(
    windows: Sequence[Bucket], since: datetime, until: datetime, above: int
) -> list[FloodPeriod]:
    """Runs of adjacent 10-minute windows with more than ``above`` alarms."""
    periods: list[FloodPeriod] = []
    run: list[Bucket] = []

    def close() -> None:
        if run:
            periods.append(
                FloodPeriod(
                    start=max(since, run[0].start),
                    end=min(until, run[-1].start + WINDOW),
                    count=sum(b.count for b in run),
                    windows=len(run),
                    peak=max(b.count for b in run),
                )
            )
            run.clear()

    for bucket in windows:
        if bucket.count > above:
            if run and bucket.start - run[-1].start != WINDOW:
                close()
            run.append(bucket)
        else:
            close()
    close()
    return periods


def bad_actors(alarms: Sequence[JournalEntry], top: int = TOP_N) -> list[BadActor]:
    """The alarms (definition at a source) activated most often, most first."""
    counts = Counter(e.key for e in alarms)
    latest: dict[str, JournalEntry] = {}
    for e in sorted(alarms, key=lambda e: e.ts):
        latest[e.key] = e
    total = len(alarms)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return [
        BadActor(
            key=key,
            definition_id=latest[key].definition_id,
            source=latest[key].source,
            priority=latest[key].priority,
            category=latest[key].category,
            message=latest[key].message,
            count=count,
            share=count / total,
        )
        for key, count in ranked
    ]


def chattering_alarms(
    entries: Iterable[JournalEntry],
    *,
    count: int = CHATTER_ACTIVATIONS,
    window: timedelta = CHATTER_WINDOW,
) -> list[ChatteringAlarm]:
    """Alarms with ``count`` activations less than ``window`` apart (the engine's rule:
    the activation that finds ``count - 1`` others younger than ``window`` chatters)."""
    by_key: dict[str, list[JournalEntry]] = defaultdict(list)
    for e in entries:
        if e.transition is Transition.ACTIVATED:
            by_key[e.key].append(e)
    found: list[ChatteringAlarm] = []
    for key, entries in by_key.items():
        entries.sort(key=lambda e: e.ts)
        times = [e.ts for e in entries]
        bursts = 0
        peak = 1
        first: datetime | None = None
        in_burst = False
        start = 0
        for i, ts in enumerate(times):
            while ts - times[start] >= window:
                start += 1
            recent = i - start + 1
            peak = max(peak, recent)
            if recent >= count:
                if not in_burst:
                    bursts += 1
                    in_burst = True
                    first = first or ts
            elif recent == 1:
                in_burst = False
        if first is not None:
            last = entries[-1]
            found.append(
                ChatteringAlarm(
                    key=key,
                    definition_id=last.definition_id,
                    source=last.source,
                    priority=last.priority,
                    message=last.message,
                    activations=len(entries),
                    bursts=bursts,
                    peak_per_window=peak,
                    first=first,
                )
            )
    found.sort(key=lambda c: (-c.activations, c.key))
    return found


def stale_alarms(
    entries: Iterable[JournalEntry], until: datetime, after: timedelta = STALE_AFTER
) -> list[StaleAlarm]:
    """Alarms whose condition has been active for more than ``after`` at ``until``."""
    standing: dict[str, JournalEntry] = {}  # key -> its activation
    last_state: dict[str, AlarmState] = {}
    for e in sorted((e for e in entries if e.ts < until), key=lambda e: e.ts):
        last_state[e.key] = e.state
        if e.transition is Transition.ACTIVATED:
            standing.setdefault(e.key, e)
        elif e.transition in (Transition.RETURNED, Transition.CLEARED):
            standing.pop(e.key, None)
    found = [
        StaleAlarm(
            key=key,
            definition_id=e.definition_id,
            source=e.source,
            priority=e.priority,
            message=e.message,
            activated=e.ts,
            age=until - e.ts,
            state=last_state[key],
        )
        for key, e in standing.items()
        if until - e.ts > after and last_state[key] is not AlarmState.OUT_OF_SERVICE
    ]
    found.sort(key=lambda s: (s.activated, s.key))
    return found


def priority_shares(alarms: Sequence[JournalEntry], targets: Targets) -> list[PriorityShare]:
    counts = Counter(e.priority for e in alarms)
    total = len(alarms)
    recommended = dict(targets.recommended_share)
    return [
        PriorityShare(p, counts[p], counts[p] / total if total else 0.0, recommended.get(p, 0.0))
        for p in Priority
    ]


def compute_kpis(
    entries: Iterable[JournalEntry],
    since: datetime,
    until: datetime,
    *,
    positions: int = 1,
    targets: Targets | None = None,
) -> AlarmKpis:
    """The KPIs of ``[since, until)`` for ``positions`` operator positions sharing the
    load evenly (one position: the site)."""
    if until <= since:
        raise ValueError("the period must end after it starts")
    if positions < 1:
        raise ValueError("at least one operator position")
    targets = targets or Targets()
    entries = list(entries)
    in_period = [e for e in entries if since <= e.ts < until]
    activations = [e for e in in_period if e.transition is Transition.ACTIVATED]
    alarms = [e for e in activations if is_alarm(e)]
    times = [e.ts for e in alarms]
    windows = counts_per_window(times, since, until, WINDOW)
    days = counts_per_window(times, since, until, DAY)
    span = until - since
    total = len(alarms)
    average_10 = total / (span / WINDOW) / positions
    average_day = total / (span / DAY) / positions
    peak = max((b.count for b in windows), default=0)
    flood_above = targets.flood_above * positions
    floods = flood_periods(windows, since, until, flood_above)
    flood_windows = sum(p.windows for p in floods)
    time_in_flood = flood_windows / len(windows) if windows else 0.0
    actors = bad_actors(alarms)
    top10_share = sum(a.count for a in actors) / total if total else 0.0
    chattering = chattering_alarms(activations)
    stale = stale_alarms(entries, until)
    shares = priority_shares(alarms, targets)

    per = "" if positions == 1 else f" (per position, {positions} positions)"
    metrics = (
        Metric(
            "Alarms in the period",
            float(total),
            f"{total}",
            "—",
            None,
            "",
        ),
        Metric(
            f"Average alarms per 10 minutes{per}",
            average_10,
            f"{average_10:.2f}",
            f"≤ {targets.acceptable_per_10min:g} (≤ {targets.manageable_per_10min:g} manageable)",
            average_10 <= targets.acceptable_per_10min,
        ),
        Metric(
            f"Average alarms per day{per}",
            average_day,
            f"{average_day:.1f}",
            f"≤ ~{targets.acceptable_per_day:g} (≤ ~{targets.manageable_per_day:g} manageable)",
            average_day <= targets.acceptable_per_day,
        ),
        Metric(
            "Most alarms in 10 minutes",
            float(peak),
            f"{peak}",
            f"≤ {flood_above}",
            peak <= flood_above,
        ),
        Metric(
            "Flood periods",
            float(len(floods)),
            f"{len(floods)} ({flood_windows} windows)",
            f"flood: > {flood_above} in 10 min",
            None,
        ),
        Metric(
            "Time in flood",
            time_in_flood,
            f"{time_in_flood:.1%}",
            f"< {targets.max_time_in_flood:.0%}",
            time_in_flood < targets.max_time_in_flood,
        ),
        Metric(
            "Share of the top 10 alarms",
            top10_share,
            f"{top10_share:.0%}",
            f"≤ {targets.max_top10_share:.0%}",
            top10_share <= targets.max_top10_share,
        ),
        Metric(
            "Chattering alarms",
            float(len(chattering)),
            f"{len(chattering)}",
            f"{targets.max_chattering}" if targets.max_chattering == 0 else "",
            len(chattering) <= targets.max_chattering,
        ),
        Metric(
            "Stale alarms (active > 24 h)",
            float(len(stale)),
            f"{len(stale)}",
            f"< {targets.max_stale + 1}",
            len(stale) <= targets.max_stale,
        ),
        _priority_metric(shares, targets),
    )
    return AlarmKpis(
        since=since,
        until=until,
        positions=positions,
        alarms=total,
        per_10min=tuple(windows),
        per_day=tuple(days),
        average_per_10min=average_10,
        average_per_day=average_day,
        peak_per_10min=peak,
        flood_periods=tuple(floods),
        flood_windows=flood_windows,
        time_in_flood=time_in_flood,
        bad_actors=tuple(actors),
        top10_share=top10_share,
        chattering=tuple(chattering),
        stale=tuple(stale),
        priorities=tuple(shares),
        metrics=metrics,
        targets=targets,
    )


def _priority_metric(shares: Sequence[PriorityShare], targets: Targets) -> Metric:
    by_priority = {s.priority: s for s in shares}
    caps = dict(targets.max_priority_share)
    ok = all(by_priority[p].share <= cap for p, cap in caps.items())
    value = " / ".join(f"{s.priority.label[0]} {s.share * 100:.0f}" for s in shares) + " %"
    target = (
        " / ".join(
            f"{s.priority.label[0]} {'<' if s.priority is Priority.CRITICAL else '~'}"
            f"{s.recommended * 100:.0f}"
            for s in shares
        )
        + " %"
    )
    urgent = sum(by_priority[p].share for p in caps if p is not Priority.MEDIUM)
    return Metric("Priority distribution", urgent, value, target, ok)
