"""Daily energy report (PDF): the site and each bollard over one local day, and the site's
load curve against the day before. Figures from ``evsuper.historian.energy`` (a session
counts on the day it stopped) and the transaction history (peak power per session). No Qt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from os import PathLike

from reportlab.platypus import Flowable
from sqlalchemy import Engine

from evsuper.historian import energy
from evsuper.historian.transactions import (
    TransactionColumn,
    TransactionFilter,
    TransactionSort,
    iter_transactions,
)
from evsuper.project.model import Project
from evsuper.reports import pdf

BUCKET_S = 900  # 15-minute buckets of the load curve


@dataclass(frozen=True, slots=True)
class SiteDay:
    sessions: int  # completed (stopped) in the day
    energy_kwh: float
    average_duration_s: float | None
    peak_kw: float | None  # highest 15-minute mean of the site's power
    open_sessions: int  # still charging at the end of the day
    curve: tuple[tuple[datetime, float], ...]  # 15-minute buckets, kW


@dataclass(frozen=True, slots=True)
class BollardDay:
    charger_id: str
    connectors: int
    sessions: int
    energy_kwh: float
    average_duration_s: float | None
    peak_kw: float | None  # highest power sample of its sessions of the day
    utilisation: float  # share of the day its connectors were occupied, 0..1


@dataclass(frozen=True, slots=True)
class DailyEnergy:
    day: date
    period: pdf.Period
    previous_period: pdf.Period
    site: SiteDay
    previous: SiteDay
    bollards: tuple[BollardDay, ...]


def _site_day(engine: Engine, period: pdf.Period) -> tuple[SiteDay, list[energy.Session]]:
    sessions = energy.sessions(engine, period.since, period.until)
    completed = [s for s in sessions if s.stop is not None]
    durations = [s.duration_s or 0.0 for s in completed]
    curve = energy.load_curve(engine, period.since, period.until, BUCKET_S)
    site = SiteDay(
        sessions=len(completed),
        energy_kwh=sum(s.energy_kwh or 0.0 for s in completed),
        average_duration_s=sum(durations) / len(durations) if durations else None,
        peak_kw=max((kw for _, kw in curve), default=None),
        open_sessions=len(sessions) - len(completed),
        curve=tuple(curve),
    )
    return site, sessions


def _peak_power(
    engine: Engine, sessions: Sequence[energy.Session], until: datetime
) -> dict[str, float]:
    """Per charger, the highest power sample (kW) of the given completed sessions."""
    ids = {s.id for s in sessions if s.stop is not None}
    if not ids:
        return {}
    where = TransactionFilter(since=min(s.start for s in sessions), until=until)
    peaks: dict[str, float] = {}
    for row in iter_transactions(engine, where, TransactionSort(TransactionColumn.START, False)):
        if row.id in ids and row.max_power_kw is not None:
            peaks[row.charger_id] = max(peaks.get(row.charger_id, 0.0), row.max_power_kw)
    return peaks


def daily_energy(engine: Engine, project: Project, day: date, zone_name: str = "") -> DailyEnergy:
    """The figures of the local ``day`` (zone: IANA name, empty: the machine's)."""
    zone = pdf.zone_of(zone_name)
    period = pdf.Period.days(day, day, zone)
    before = day - timedelta(days=1)
    previous_period = pdf.Period.days(before, before, zone)
    site, sessions = _site_day(engine, period)
    previous, _ = _site_day(engine, previous_period)
    connectors = {c.id: c.connectors for c in project.chargers}
    for s in sessions:
        connectors.setdefault(s.charger_id, 1)
    totals = {t.key: t for t in energy.totals(sessions, "charger_id")}
    use = energy.utilisation(sessions, connectors, period.since, period.until)
    peaks = _peak_power(engine, sessions, period.until)
    bollards = tuple(
        BollardDay(
            charger_id=charger_id,
            connectors=count,
            sessions=totals[charger_id].sessions if charger_id in totals else 0,
            energy_kwh=totals[charger_id].energy_kwh if charger_id in totals else 0.0,
            average_duration_s=(
                totals[charger_id].average_duration_s if charger_id in totals else None
            ),
            peak_kw=peaks.get(charger_id),
            utilisation=use.get(charger_id, 0.0),
        )
        for charger_id, count in sorted(connectors.items())
    )
    return DailyEnergy(day, period, previous_period, site, previous, bollards)


def _hours(curve: Sequence[tuple[datetime, float]], start: datetime) -> list[tuple[float, float]]:
    """(hour of the day, kW), each 15-minute mean at the middle of its bucket."""
    middle = BUCKET_S / 2
    return [(((ts - start).total_seconds() + middle) / 3600.0, kw) for ts, kw in curve]


def daily_story(data: DailyEnergy) -> list[Flowable]:
    site, before = data.site, data.previous
    story: list[Flowable] = [
        pdf.title(f"Daily energy report — {data.day:%A %d %B %Y}"),
        pdf.note(
            "A session counts on the day it stopped. Energy: meter stop - meter start of "
            "each session. Times are local "
            f"({data.period.zone_name()}) unless marked UTC."
        ),
        pdf.heading("Site"),
        pdf.data_table(
            (
                "Figure",
                f"{data.day:%Y-%m-%d}",
                f"Day before ({data.previous_period.local(data.previous_period.since):%Y-%m-%d})",
            ),
            [
                ("Completed sessions", site.sessions, before.sessions),
                ("Energy (kWh)", pdf.kwh(site.energy_kwh), pdf.kwh(before.energy_kwh)),
                (
                    "Average session duration (h:mm)",
                    pdf.duration(site.average_duration_s),
                    pdf.duration(before.average_duration_s),
                ),
                ("Peak site power, 15-min mean (kW)", pdf.kw(site.peak_kw), pdf.kw(before.peak_kw)),
                ("Sessions still open at the end", site.open_sessions, before.open_sessions),
            ],
            widths=(3, 1.5, 1.5),
            right=(1, 2),
        ),
        pdf.heading("Load curve (site power, 15-minute means)"),
        pdf.line_chart(
            [
                pdf.Series(
                    "Day before", _hours(before.curve, data.previous_period.since), pdf.COMPARE, 1.0
                ),
                pdf.Series(
                    f"{data.day:%Y-%m-%d}", _hours(site.curve, data.period.since), pdf.ACCENT, 1.6
                ),
            ],
            x_label=f"hour of the day ({data.period.zone_name()})",
            y_label="Power (kW)",
            x_range=(0.0, (data.period.until - data.period.since).total_seconds() / 3600.0),
            x_step=3,
            gap=1.5 * BUCKET_S / 3600.0,
        ),
        pdf.heading("Per bollard"),
    ]
    rows = [
        (
            b.charger_id,
            b.connectors,
            b.sessions,
            pdf.kwh(b.energy_kwh),
            pdf.duration(b.average_duration_s),
            pdf.kw(b.peak_kw),
            f"{b.utilisation * 100:.0f}",
        )
        for b in data.bollards
    ]
    total = (
        "Site",
        sum(b.connectors for b in data.bollards),
        site.sessions,
        pdf.kwh(site.energy_kwh),
        pdf.duration(site.average_duration_s),
        "",
        "",
    )
    story.append(
        pdf.data_table(
            (
                "Bollard",
                "Connectors",
                "Sessions",
                "Energy (kWh)",
                "Avg. duration (h:mm)",
                "Peak power (kW)",
                "Occupied (%)",
            ),
            rows,
            widths=(2.2, 1.1, 1, 1.3, 1.5, 1.3, 1.2),
            right=range(1, 7),
            total=total,
        )
    )
    story.append(pdf.space(2))
    story.append(
        pdf.note(
            "Peak power: the highest Power.Active.Import sample of the bollard's sessions of "
            "the day. Occupied: share of the day its connectors had a session (open or closed)."
        )
    )
    return story


def write_daily_report(
    path: str | PathLike[str],
    engine: Engine,
    project: Project,
    day: date,
    zone_name: str = "",
    *,
    generated: datetime | None = None,
) -> DailyEnergy:
    data = daily_energy(engine, project, day, zone_name)
    info = pdf.ReportInfo(
        "Daily energy report", project.name, data.period, generated or datetime.now(UTC)
    )
    pdf.write_pdf(path, info, daily_story(data))
    return data
