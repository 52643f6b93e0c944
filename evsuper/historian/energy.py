"""Energy figures of a site from its archive: sessions, energy per bollard and per badge,
the site's load curve, utilisation and availability per bollard. No Qt; SQLite and
PostgreSQL (portable SQLAlchemy Core). The dashboard and the reports read these.

Conventions: a session belongs to the period in which it **stopped** (billing practice: a
session is billed once, when it is complete); sessions still open are counted separately.
Powers are kW, energies kWh, durations seconds, times aware UTC.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, func, literal_column, select

from evsuper.core.domain import ConnectorStatus
from evsuper.historian import schema
from evsuper.historian.sql import epoch_seconds
from evsuper.historian.units import display_value
from evsuper.project.model import Place

POWER = "Power.Active.Import"
# A connector in these states is not available to drivers (besides being offline).
_DOWN = (ConnectorStatus.FAULTED.value, ConnectorStatus.UNAVAILABLE.value)


@dataclass(frozen=True, slots=True)
class Session:
    id: int
    charger_id: str
    connector_id: int
    id_tag: str
    start: datetime
    stop: datetime | None  # None: still charging
    energy_kwh: float | None

    @property
    def duration_s(self) -> float | None:
        return None if self.stop is None else (self.stop - self.start).total_seconds()


@dataclass(frozen=True, slots=True)
class EnergyTotal:
    """Completed sessions of one bollard or badge in a period."""

    key: str  # charger id or idTag
    sessions: int
    energy_kwh: float
    duration_s: float
    first_start: datetime
    last_stop: datetime

    @property
    def average_duration_s(self) -> float:
        return self.duration_s / self.sessions


def sessions(engine: Engine, since: datetime, until: datetime) -> list[Session]:
    """Sessions stopped in [since, until), and those still open that started before until."""
    t = schema.transactions
    stopped = and_(t.c.stop_ts >= since, t.c.stop_ts < until)
    running = and_(t.c.stop_ts.is_(None), t.c.start_ts < until)
    query = (
        select(
            t.c.id,
            t.c.charger_id,
            t.c.connector_id,
            t.c.id_tag,
            t.c.start_ts,
            t.c.stop_ts,
            t.c.energy_wh,
        )
        .where(stopped | running)
        .order_by(t.c.start_ts, t.c.id)
    )
    with engine.connect() as connection:
        return [
            Session(
                id=row.id,
                charger_id=row.charger_id,
                connector_id=row.connector_id,
                id_tag=row.id_tag,
                start=row.start_ts,
                stop=row.stop_ts,
                energy_kwh=None if row.energy_wh is None else row.energy_wh / 1000.0,
            )
            for row in connection.execute(query)
        ]


def totals(
    completed: Iterable[Session], key: str | Callable[[Session], str | None]
) -> list[EnergyTotal]:
    """Completed sessions summed per ``key`` ("charger_id", "id_tag", or a function giving
    a session's key, None to leave it out), sorted by key."""
    key_of = key if callable(key) else operator.attrgetter(key)
    groups: dict[str, list[Session]] = defaultdict(list)
    for session in completed:
        name = key_of(session)
        if session.stop is not None and name is not None:
            groups[name].append(session)
    return [
        EnergyTotal(
            key=name,
            sessions=len(group),
            energy_kwh=sum(s.energy_kwh or 0.0 for s in group),
            duration_s=sum(s.duration_s or 0.0 for s in group),
            first_start=min(s.start for s in group),
            last_stop=max(s.stop for s in group if s.stop is not None),
        )
        for name, group in sorted(groups.items())
    ]


def load_curve(
    engine: Engine, since: datetime, until: datetime, bucket_s: int = 900
) -> list[tuple[datetime, float]]:
    """The site's power (kW) per bucket: each connector's mean power in the bucket, summed
    over the connectors. Buckets without samples are absent."""
    m = schema.meter_samples
    epoch = epoch_seconds(m.c.ts)
    bucket = (epoch // literal_column(str(bucket_s))).label("bucket")
    per_connector = (
        select(bucket, func.avg(display_value()).label("kw"))
        .where(m.c.measurand == POWER, m.c.phase.is_(None), m.c.ts >= since, m.c.ts < until)
        .group_by(bucket, m.c.charger_id, m.c.connector_id)
        .subquery()
    )
    query = (
        select(per_connector.c.bucket, func.sum(per_connector.c.kw))
        .group_by(per_connector.c.bucket)
        .order_by(per_connector.c.bucket)
    )
    origin = datetime.fromtimestamp(0, since.tzinfo)
    with engine.connect() as connection:
        return [
            (origin + timedelta(seconds=int(b) * bucket_s), float(kw))
            for b, kw in connection.execute(query)
        ]


def utilisation(
    all_sessions: Iterable[Session],
    connectors: Mapping[str, int],
    since: datetime,
    until: datetime,
) -> dict[str, float]:
    """Share of the period the bollard's connectors were occupied by a session (0..1),
    per charger of ``connectors`` (charger id → connector count)."""
    span = max((until - since).total_seconds(), 1.0)
    occupied: dict[str, float] = dict.fromkeys(connectors, 0.0)
    for s in all_sessions:
        if s.charger_id in occupied:
            occupied[s.charger_id] += _overlap(s.start, s.stop or until, since, until)
    return {
        charger_id: occupied[charger_id] / (span * max(count, 1))
        for charger_id, count in connectors.items()
    }


def availability(
    engine: Engine, charger_ids: Sequence[str], since: datetime, until: datetime
) -> dict[str, float]:
    """Share of the period each charger was online and its connector 0 neither Faulted nor
    Unavailable (0..1), from the connection events and status history. A charger never
    seen counts as unavailable."""
    down = {c: _down_intervals(engine, c, since, until) for c in charger_ids}
    span = max((until - since).total_seconds(), 1.0)
    return {c: 1.0 - _covered(intervals) / span for c, intervals in down.items()}


def _down_intervals(
    engine: Engine, charger_id: str, since: datetime, until: datetime
) -> list[tuple[datetime, datetime]]:
    """Where the charger was offline or its connector 0 down, clipped to the period."""
    e, s = schema.charger_events, schema.connector_status
    with engine.connect() as connection:
        links = connection.execute(
            select(e.c.ts, e.c.kind)
            .where(
                e.c.charger_id == charger_id,
                e.c.kind.in_(("connected", "disconnected")),
                e.c.ts < until,
            )
            .order_by(e.c.ts, e.c.id)
        ).all()
        statuses = connection.execute(
            select(s.c.ts, s.c.status)
            .where(s.c.charger_id == charger_id, s.c.connector_id == 0, s.c.ts < until)
            .order_by(s.c.ts, s.c.id)
        ).all()
    offline = _intervals(((ts, kind == "disconnected") for ts, kind in links), since, until)
    if not links:
        offline = [(since, until)]
    status_down = _intervals(((ts, st in _DOWN) for ts, st in statuses), since, until)
    return offline + status_down


def _intervals(
    changes: Iterable[tuple[datetime, bool]], since: datetime, until: datetime
) -> list[tuple[datetime, datetime]]:
    """[start, end) spans where the flag (changed at each time) was true, clipped."""
    spans: list[tuple[datetime, datetime]] = []
    began: datetime | None = None
    for ts, flag in changes:
        if flag and began is None:
            began = ts
        elif not flag and began is not None:
            spans.append((began, ts))
            began = None
    if began is not None:
        spans.append((began, until))
    return [(max(a, since), min(b, until)) for a, b in spans if b > since and a < until]


def _covered(intervals: list[tuple[datetime, datetime]]) -> float:
    """Seconds covered by the union of ``intervals``."""
    total, end = 0.0, None
    for a, b in sorted(intervals):
        if end is None or a > end:
            total += (b - a).total_seconds()
            end = b
        elif b > end:
            total += (b - end).total_seconds()
            end = b
    return total


def _overlap(a: datetime, b: datetime, since: datetime, until: datetime) -> float:
    return max(0.0, (min(b, until) - max(a, since)).total_seconds())


@dataclass(frozen=True, slots=True)
class BollardDay:
    charger_id: str
    energy_kwh: float
    sessions: int
    utilisation: float  # 0..1 of today so far
    availability: float  # 0..1 of today so far


@dataclass(frozen=True, slots=True)
class Dashboard:
    """What the energy dashboard shows, as of ``now``."""

    now: datetime
    energy_today_kwh: float
    energy_week_kwh: float
    energy_month_kwh: float
    sessions_today: int
    average_duration_today_s: float | None
    bollards: list[BollardDay]
    badges_month: list[EnergyTotal]
    curve_today: list[tuple[datetime, float]]
    curve_yesterday: list[tuple[datetime, float]]  # shifted by one day, to overlay today
    places: list[PlaceEnergy]  # the project's sites and areas
    groups_month: list[EnergyTotal]  # per badge group (parent idTag)


@dataclass(frozen=True, slots=True)
class PlaceEnergy:
    """Energy of the completed sessions of a site's or an area's chargers."""

    place: Place
    today_kwh: float
    week_kwh: float
    month_kwh: float


def dashboard(
    engine: Engine,
    connectors: Mapping[str, int],
    now: datetime,
    places: Sequence[Place] = (),
    badge_groups: Mapping[str, str] | None = None,
) -> Dashboard:
    """The dashboard's figures; ``connectors``: charger id → connector count (the project's);
    ``badge_groups``: idTag → its group (parent idTag). Days, weeks and months start at
    midnight in ``now``'s time zone."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week = today - timedelta(days=today.weekday())
    month = today.replace(day=1)
    month_sessions = sessions(engine, min(month, week), now)
    completed = [s for s in month_sessions if s.stop is not None]

    def energy_since(start: datetime, chargers: Collection[str] | None = None) -> float:
        return sum(
            s.energy_kwh or 0.0
            for s in completed
            if s.stop and s.stop >= start and (chargers is None or s.charger_id in chargers)
        )

    groups = badge_groups or {}
    in_month = [s for s in completed if s.stop and s.stop >= month]

    today_sessions = [s for s in month_sessions if (s.stop or now) >= today]
    today_done = [s for s in today_sessions if s.stop is not None]
    per_charger = {t.key: t for t in totals(today_done, "charger_id")}
    used = utilisation(today_sessions, connectors, today, now)
    up = availability(engine, list(connectors), today, now)
    yesterday = today - timedelta(days=1)
    return Dashboard(
        now=now,
        energy_today_kwh=energy_since(today),
        energy_week_kwh=energy_since(week),
        energy_month_kwh=energy_since(month),
        sessions_today=len(today_done),
        average_duration_today_s=(
            sum(s.duration_s or 0.0 for s in today_done) / len(today_done) if today_done else None
        ),
        bollards=[
            BollardDay(
                charger_id=charger_id,
                energy_kwh=per_charger[charger_id].energy_kwh if charger_id in per_charger else 0.0,
                sessions=per_charger[charger_id].sessions if charger_id in per_charger else 0,
                utilisation=used[charger_id],
                availability=up[charger_id],
            )
            for charger_id in connectors
        ],
        badges_month=totals(in_month, "id_tag"),
        groups_month=totals(in_month, lambda s: groups.get(s.id_tag)),
        places=[
            PlaceEnergy(
                place,
                *(energy_since(start, chargers) for start in (today, week, month)),
            )
            for place, chargers in ((p, set(p.chargers)) for p in places)
        ],
        curve_today=load_curve(engine, today, now),
        curve_yesterday=[
            (ts + timedelta(days=1), kw) for ts, kw in load_curve(engine, yesterday, today)
        ],
    )
