"""Monthly billing report (PDF): per badge (idTag, with its name from the project's
``[[badges]]``) and per badge group (parent idTag), the completed sessions of a local
month, then every session of each badge. A session is billed in the month it stopped
(``evsuper.historian.energy``); sessions still open at the end are listed, not billed.
When sessions have a cost (stored at their stop, docs/tariffs.md), every table gets a cost
column: sums per currency, never converted. No Qt.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from os import PathLike
from typing import Any

from reportlab.platypus import Flowable
from sqlalchemy import Engine

from evsuper.historian import energy
from evsuper.historian.transactions import (
    TransactionColumn,
    TransactionFilter,
    TransactionRow,
    TransactionSort,
    iter_transactions,
)
from evsuper.project.model import Project
from evsuper.reports import pdf

NOT_IN_PROJECT = "(not in the project)"


@dataclass(frozen=True, slots=True)
class BadgeBill:
    id_tag: str
    name: str
    group: str  # parent idTag, "" without
    total: energy.EnergyTotal
    sessions: tuple[TransactionRow, ...]  # start order

    @property
    def costs(self) -> dict[str, Decimal]:
        """Currency → the sum of the costed sessions."""
        return _sum_costs(self.sessions)


@dataclass(frozen=True, slots=True)
class MonthlyBilling:
    year: int
    month: int
    period: pdf.Period
    badges: tuple[BadgeBill, ...]
    open_sessions: tuple[energy.Session, ...]  # not billed this month

    @property
    def sessions(self) -> int:
        return sum(b.total.sessions for b in self.badges)

    @property
    def energy_kwh(self) -> float:
        return sum(b.total.energy_kwh for b in self.badges)

    @property
    def duration_s(self) -> float:
        return sum(b.total.duration_s for b in self.badges)

    @property
    def costed(self) -> bool:
        return any(row.cost is not None for b in self.badges for row in b.sessions)


def _sum_costs(rows: Iterable[TransactionRow]) -> dict[str, Decimal]:
    """Currency → the sum of the rows' costs (the rows without one left out)."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        if row.cost is not None:
            sums[row.currency or ""] += row.cost
    return dict(sums)


def _all_costs(bills: Iterable[BadgeBill]) -> dict[str, Decimal]:
    return _sum_costs(row for bill in bills for row in bill.sessions)


def money(costs: dict[str, Decimal]) -> str:
    """``12.34 EUR``, one amount per currency (``3.00 CHF + 12.34 EUR``); "" for none."""
    return " + ".join(
        f"{amount:.2f} {currency}".rstrip() for currency, amount in sorted(costs.items())
    )


def _extra(costed: bool, *cells: Any) -> tuple[Any, ...]:
    """The cost column's cells when the report has costs, else nothing."""
    return cells if costed else ()


def monthly_billing(
    engine: Engine, project: Project, year: int, month: int, zone_name: str = ""
) -> MonthlyBilling:
    period = pdf.Period.month(year, month, pdf.zone_of(zone_name))
    sessions = energy.sessions(engine, period.since, period.until)
    completed = [s for s in sessions if s.stop is not None]
    ids = {s.id for s in completed}
    rows: dict[str, list[TransactionRow]] = defaultdict(list)
    if completed:
        where = TransactionFilter(since=min(s.start for s in completed), until=period.until)
        sort = TransactionSort(TransactionColumn.START, False)
        for row in iter_transactions(engine, where, sort):
            if row.id in ids:
                rows[row.id_tag].append(row)
    badges = {b.id_tag: b for b in project.badges}
    bills = tuple(
        BadgeBill(
            id_tag=total.key,
            name=badges[total.key].name if total.key in badges else NOT_IN_PROJECT,
            group=(badges[total.key].parent_id_tag or "") if total.key in badges else "",
            total=total,
            sessions=tuple(rows[total.key]),
        )
        for total in energy.totals(completed, "id_tag")
    )
    open_sessions = tuple(s for s in sessions if s.stop is None)
    return MonthlyBilling(year, month, period, bills, open_sessions)


def billing_story(data: MonthlyBilling) -> list[Flowable]:
    period = data.period
    month = period.local(period.since)
    costed = data.costed
    story: list[Flowable] = [
        pdf.title(f"Monthly billing report — {month:%B %Y}"),
        pdf.note(
            "A session is billed in the month it stopped. Energy: meter stop - meter start "
            f"of each session. Times are local ({period.zone_name()})."
        ),
        pdf.heading("Per badge"),
    ]
    story.append(
        pdf.data_table(
            (
                "Badge (idTag)",
                "Name",
                "Sessions",
                "Energy (kWh)",
                "Duration (h:mm)",
                "First start",
                "Last stop",
                *_extra(costed, "Cost"),
            ),
            [
                (
                    b.id_tag,
                    b.name,
                    b.total.sessions,
                    pdf.kwh(b.total.energy_kwh),
                    pdf.duration(b.total.duration_s),
                    pdf.local_time(b.total.first_start, period),
                    pdf.local_time(b.total.last_stop, period),
                    *_extra(costed, money(b.costs)),
                )
                for b in data.badges
            ],
            widths=(1.6, 2.0, 1.1, 1.2, 1.2, 1.6, 1.6, *_extra(costed, 1.5)),
            right=(2, 3, 4, 7),
            total=(
                "All badges",
                "",
                data.sessions,
                pdf.kwh(data.energy_kwh),
                pdf.duration(data.duration_s),
                "",
                "",
                *_extra(costed, money(_all_costs(data.badges))),
            ),
        )
    )
    groups: dict[str, list[BadgeBill]] = defaultdict(list)
    for bill in data.badges:
        if bill.group:
            groups[bill.group].append(bill)
    if groups:
        story.append(pdf.heading("Per badge group (parent idTag)"))
        story.append(
            pdf.data_table(
                (
                    "Group (parent idTag)",
                    "Badges",
                    "Sessions",
                    "Energy (kWh)",
                    "Duration (h:mm)",
                    *_extra(costed, "Cost"),
                ),
                [
                    (
                        group,
                        len(bills),
                        sum(b.total.sessions for b in bills),
                        pdf.kwh(sum(b.total.energy_kwh for b in bills)),
                        pdf.duration(sum(b.total.duration_s for b in bills)),
                        *_extra(costed, money(_all_costs(bills))),
                    )
                    for group, bills in sorted(groups.items())
                ],
                widths=(2.5, 1, 1, 1.3, 1.3, *_extra(costed, 1.5)),
                right=(1, 2, 3, 4, 5),
            )
        )
    if data.open_sessions:
        story.append(pdf.heading("Sessions still open at the end of the month (not billed)"))
        story.append(
            pdf.data_table(
                ("Badge (idTag)", "Charger", "Connector", "Start"),
                [
                    (s.id_tag, s.charger_id, s.connector_id, pdf.local_time(s.start, period))
                    for s in data.open_sessions
                ],
                widths=(1.5, 1.5, 1, 2),
                right=(2,),
            )
        )
    for bill in data.badges:
        story.append(pdf.heading(f"Badge {bill.id_tag} — {bill.name}"))
        story.append(
            pdf.data_table(
                (
                    "Transaction",
                    "Start",
                    "Stop",
                    "Charger",
                    "Connector",
                    "Duration (h:mm)",
                    "Energy (kWh)",
                    "Stop reason",
                    *_extra(costed, "Cost"),
                ),
                [
                    (
                        row.id,
                        pdf.local_time(row.start, period),
                        pdf.local_time(row.stop, period),
                        row.charger_id,
                        row.connector_id,
                        pdf.duration(row.duration_s),
                        pdf.kwh(row.energy_kwh),
                        row.stop_reason or "",
                        *_extra(costed, money(_sum_costs([row]))),
                    )
                    for row in bill.sessions
                ],
                widths=(1.3, 1.7, 1.7, 1.0, 1.15, 1.05, 1.0, 1.9, *_extra(costed, 1.4)),
                right=(0, 4, 5, 6, 8),
                total=(
                    "Total",
                    "",
                    "",
                    "",
                    "",
                    pdf.duration(bill.total.duration_s),
                    pdf.kwh(bill.total.energy_kwh),
                    _sessions(bill.total.sessions),
                    *_extra(costed, money(bill.costs)),
                ),
            )
        )
    return story


def _sessions(count: int) -> str:
    return f"{count} session{'' if count == 1 else 's'}"


def write_billing_report(
    path: str | PathLike[str],
    engine: Engine,
    project: Project,
    year: int,
    month: int,
    zone_name: str = "",
    *,
    generated: datetime | None = None,
) -> MonthlyBilling:
    data = monthly_billing(engine, project, year, month, zone_name)
    info = pdf.ReportInfo(
        "Monthly billing report", project.name, data.period, generated or datetime.now(UTC)
    )
    pdf.write_pdf(path, info, billing_story(data))
    return data
