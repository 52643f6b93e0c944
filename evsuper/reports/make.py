"""One entry for the three PDF reports, used by ``evsuper report`` and the HMI's Reports
window: a ``ReportRequest`` names the report and its period, ``write_report`` writes it and
says what it holds in one line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from os import PathLike

from sqlalchemy import Engine

from evsuper.project.model import Project
from evsuper.reports import alarm_report, billing, daily, pdf


class ReportKind(StrEnum):
    DAILY = "daily"  # daily energy report of ``first``
    MONTHLY = "monthly"  # monthly billing report of the month of ``first``
    ALARMS = "alarms"  # alarm KPI report from ``first`` to ``last`` (inclusive)


@dataclass(frozen=True, slots=True)
class ReportRequest:
    kind: ReportKind
    first: date
    last: date | None = None  # alarms only: the last day (default: ``first``)
    positions: int = 1  # alarms only: operator positions sharing the alarm load


def write_report(
    path: str | PathLike[str],
    engine: Engine,
    project: Project,
    request: ReportRequest,
    zone_name: str | None = None,
) -> str:
    """Write the PDF of ``request`` (dates local to ``zone_name``, default the project's
    ``[notifications] timezone``, else the machine's); returns a one-line summary."""
    zone_name = project.notifications.timezone if zone_name is None else zone_name
    if request.kind is ReportKind.DAILY:
        data = daily.write_daily_report(path, engine, project, request.first, zone_name)
        return f"{_n(data.site.sessions, 'session')}, {data.site.energy_kwh:.2f} kWh"
    if request.kind is ReportKind.MONTHLY:
        first = request.first
        bill = billing.write_billing_report(
            path, engine, project, first.year, first.month, zone_name
        )
        return (
            f"{_n(len(bill.badges), 'badge')}, {_n(bill.sessions, 'session')}, "
            f"{bill.energy_kwh:.2f} kWh"
        )
    period = pdf.Period.days(request.first, request.last or request.first, pdf.zone_of(zone_name))
    kpis = alarm_report.write_alarm_report(
        path, engine, project, period, positions=request.positions
    )
    return f"{kpis.alarms} alarms, {len(kpis.failed)} metrics not OK"


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
