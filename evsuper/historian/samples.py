"""Trend queries over ``meter_samples``: the pens a charger has and one pen's series.

A pen is one curve: (charger, connector, measurand, phase). ``series`` reads a pen over a
time range; when the range holds more samples than the caller can draw (``max_points``),
the database down-samples it: samples are grouped in equal time buckets (integer division
of the epoch seconds) and each bucket gives its minimum and its maximum, so a short spike
still shows. Portable SQLAlchemy Core: SQLite (``strftime('%s', ts)``) and PostgreSQL
(``extract(epoch from ts)``), chosen from the engine's dialect. No Qt.

Units are normalised for display (``units.DISPLAY_UNITS``): W → kW, Wh → kWh,
Percent → %; the scaling is done in SQL, so a pen whose charger switched between W and
kW still draws one curve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    Integer,
    Select,
    func,
    literal_column,
    select,
)

from evsuper.core.tags import ConnectorTag, TagPath, split_tag
from evsuper.historian import schema
from evsuper.historian.aggregates import LEVELS, Level
from evsuper.historian.sql import epoch_seconds
from evsuper.historian.tag_samples import historised_tags
from evsuper.historian.units import display_unit, display_value

POWER = "Power.Active.Import"
ENERGY_REGISTER = "Energy.Active.Import.Register"
SOC = "SoC"

# The live connector tag that carries the same figure as a pen (power and SoC only: the
# live energy tag is the session's energy, the archive keeps the meter register).
LIVE_TAGS: dict[str, ConnectorTag] = {POWER: ConnectorTag.POWER_KW, SOC: ConnectorTag.SOC}


TAGS_SOURCE = "Historised tags"  # offered with the chargers: every tag of [[archive.tags]]

MIN_GAP_S = 60.0  # shorter silences are never drawn as gaps


@dataclass(frozen=True, slots=True)
class Pen:
    """One curve of a trend."""

    charger_id: str
    connector_id: int
    measurand: str  # the tag's name for a historised tag
    phase: str | None = None
    unit: str = field(default="", compare=False)  # display unit (see DISPLAY_UNITS)
    tag: TagPath | None = None  # a historised tag (tag_samples), not a meter measurand

    @property
    def label(self) -> str:
        return self.tag if self.tag is not None else f"{self.charger_id}/{self.short_label}"

    @property
    def short_label(self) -> str:
        """The label among the pens of its charger."""
        if self.tag is not None:
            return self.tag.removeprefix(f"{self.charger_id}/")
        phase = f" {self.phase}" if self.phase else ""
        return f"C{self.connector_id} {self.measurand}{phase}"

    @property
    def live_tag(self) -> str | None:
        """The tag path feeding this pen live, None when it has none."""
        if self.tag is not None:
            return self.tag
        name = LIVE_TAGS.get(self.measurand)
        if name is None or self.phase is not None:
            return None
        return f"{self.charger_id}/C{self.connector_id}/{name}"


@dataclass(frozen=True, slots=True)
class Series:
    """A pen's points: ``times`` in POSIX seconds (UTC), ``values`` in the pen's display
    unit. ``bucket_s`` is 0 for raw samples, else the width of the min/max buckets (each
    bucket gives two points at the time of its first sample: its minimum, then its
    maximum)."""

    pen: Pen
    times: list[float]
    values: list[float]
    bucket_s: int = 0
    raw_count: int = 0

    @property
    def downsampled(self) -> bool:
        return self.bucket_s > 0


def _pen_filter(pen: Pen, since: datetime, until: datetime) -> list[ColumnElement[bool]]:
    m = schema.meter_samples
    return [
        m.c.charger_id == pen.charger_id,
        m.c.connector_id == pen.connector_id,
        m.c.ts >= since,
        m.c.ts <= until,
        m.c.measurand == pen.measurand,
        m.c.phase.is_(None) if pen.phase is None else m.c.phase == pen.phase,
    ]


def series(
    engine: Engine,
    pen: Pen,
    since: datetime,
    until: datetime | None = None,
    max_points: int = 2000,
) -> Series:
    """``pen`` from ``since`` to ``until`` (inclusive; None: now), at most ``max_points``
    points: raw samples when there are few enough, else min/max of ``max_points // 2``
    time buckets computed by the database — from the 1-hour or 1-minute aggregates when
    the buckets are at least that wide (months stay fast), else from the raw samples."""
    until = until if until is not None else datetime.now(UTC)
    source = _Source.of(pen, since, until)
    with engine.connect() as connection:
        # how many, up to one more than can be drawn: a month of samples is not counted
        few = select(source.id).where(*source.where).limit(max_points + 1).subquery()
        count = int(connection.execute(select(func.count()).select_from(few)).scalar_one())
        if count <= max_points:
            rows = connection.execute(
                select(source.ts, source.value).where(*source.where).order_by(source.ts, source.id)
            ).all()
            return Series(pen, [r[0].timestamp() for r in rows], [r[1] for r in rows], 0, count)
        buckets = max(1, max_points // 2)
        width = max(1, math.ceil((until - since).total_seconds() / buckets))
        level = next((lv for lv in reversed(LEVELS) if width >= lv.seconds), None)
        if level is None or pen.tag is not None:  # tags are deadbanded: fewer rows
            query = _raw_buckets(source, width)
        else:  # whole aggregate rows per bucket: the same min/max as from raw samples
            width = math.ceil(width / level.seconds) * level.seconds
            query = _aggregate_buckets(level, pen, since, until, width)
        times: list[float] = []
        values: list[float] = []
        count = 0
        for first, low, high, samples in connection.execute(query):
            times += [first.timestamp()] * 2
            values += [float(low), float(high)]
            count += int(samples)
    return Series(pen, times, values, width, count)


@dataclass(frozen=True, slots=True)
class _Source:
    """Where a pen's raw values are: its table's columns and the pen's rows in the range."""

    id: ColumnElement[int]
    ts: ColumnElement[datetime]
    value: ColumnElement[float]
    where: list[ColumnElement[bool]]

    @staticmethod
    def of(pen: Pen, since: datetime, until: datetime) -> _Source:
        if pen.tag is not None:
            t = schema.tag_samples
            where = [t.c.tag == pen.tag, t.c.ts >= since, t.c.ts <= until, t.c.value.is_not(None)]
            return _Source(t.c.id, t.c.ts, t.c.value, where)
        m = schema.meter_samples
        return _Source(m.c.id, m.c.ts, display_value(), _pen_filter(pen, since, until))


def _raw_buckets(source: _Source, width: int) -> Select[Any, Any, Any, Any]:
    bucket = (epoch_seconds(source.ts) // literal_column(str(width), Integer)).label("bucket")
    return (
        select(
            func.min(source.ts).label("first"),  # one epoch computation per row
            func.min(source.value).label("low"),
            func.max(source.value).label("high"),
            func.count().label("samples"),
        )
        .where(*source.where)
        .group_by(bucket)
        .order_by(bucket)
    )


def _aggregate_buckets(
    level: Level, pen: Pen, since: datetime, until: datetime, width: int
) -> Select[Any, Any, Any, Any]:
    """The same buckets from an aggregate table (already in display units); its rows
    cover ``level.seconds`` each, so the range is widened to the rows that overlap it."""
    a = level.table.c
    bucket = (epoch_seconds(a.ts) // literal_column(str(width), Integer)).label("bucket")
    return (
        select(
            func.min(a.first_ts).label("first"),
            func.min(a.low).label("low"),
            func.max(a.high).label("high"),
            func.sum(a.samples).label("samples"),
        )
        .where(
            a.charger_id == pen.charger_id,
            a.connector_id == pen.connector_id,
            a.measurand == pen.measurand,
            a.phase == (pen.phase or ""),
            a.ts > since - timedelta(seconds=level.seconds),
            a.ts <= until,
        )
        .group_by(bucket)
        .order_by(bucket)
    )


def gaps_broken(
    times: list[float], values: list[float], bucket_s: int = 0
) -> tuple[list[float], list[float]]:
    """``times`` and ``values`` with a NaN point inside every gap, so a curve is not drawn
    across the hours a charger sent nothing (most send meter values only while charging).

    A gap is longer than 3 times the median step of raw samples (at least ``MIN_GAP_S``), or
    than 2.5 bucket widths for down-sampled series (consecutive buckets' first samples are
    less than two widths apart)."""
    if len(times) < 3:
        return times, values
    if bucket_s:
        limit = 2.5 * bucket_s
    else:
        steps = sorted(b - a for a, b in pairwise(times) if b > a)
        limit = max(MIN_GAP_S, 3 * steps[len(steps) // 2]) if steps else math.inf
    out_t: list[float] = [times[0]]
    out_v: list[float] = [values[0]]
    for i in range(1, len(times)):
        if times[i] - times[i - 1] > limit:
            out_t.append((times[i - 1] + times[i]) / 2)
            out_v.append(math.nan)
        out_t.append(times[i])
        out_v.append(values[i])
    return out_t, out_v


def available_pens(engine: Engine, charger_id: str, since: datetime | None = None) -> list[Pen]:
    """The pens ``charger_id`` has samples for (since ``since`` when given), ordered by
    connector, measurand, phase, each with its display unit; then its historised tags.
    ``TAGS_SOURCE`` instead of a charger id: every historised tag."""
    if charger_id == TAGS_SOURCE:
        return [tag_pen(path) for path in historised_tags(engine)]
    m = schema.meter_samples
    query = select(m.c.connector_id, m.c.measurand, m.c.phase, m.c.unit).where(
        m.c.charger_id == charger_id
    )
    if since is not None:
        query = query.where(m.c.ts >= since)
    with engine.connect() as connection:
        rows = connection.execute(query.distinct()).all()
    pens: dict[Pen, Pen] = {}
    for connector_id, measurand, phase, unit in rows:
        pen = Pen(charger_id, connector_id, measurand, phase, display_unit(unit))
        pens.setdefault(pen, pen)
    ordered = sorted(pens, key=lambda p: (p.connector_id, p.measurand, p.phase or ""))
    return ordered + [tag_pen(path) for path in historised_tags(engine, f"{charger_id}/")]


def tag_pen(path: TagPath) -> Pen:
    """The pen of a historised tag."""
    head, connector_id, name = split_tag(path)
    return Pen(head, connector_id or 0, name, tag=path)


def pen_of(charger_id: str, connector_id: int, measurand: str) -> Pen:
    """A pen with its usual display unit, for pens named before the archive is read."""
    unit = {POWER: "kW", SOC: "%", ENERGY_REGISTER: "kWh"}.get(measurand, "")
    return Pen(charger_id, connector_id, measurand, None, unit)
