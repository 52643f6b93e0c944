"""Alarm KPI report (PDF): ``evsuper.alarms.kpi.compute_kpis`` over the alarm journal of a
period — the metrics with their ISA-18.2 / EEMUA 191 targets and verdicts, the alarm rate
per 10 minutes, the priority distribution, bad actors, floods, chattering and stale alarms.
No Qt.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from os import PathLike

from reportlab.platypus import Flowable
from sqlalchemy import Engine

from evsuper.alarms.journal import JournalFilter, query_journal
from evsuper.alarms.kpi import AlarmKpis, compute_kpis
from evsuper.project.model import Project
from evsuper.reports import pdf
from evsuper.reports.alarms import result_text

# Journal read before the period, for alarms already standing when it starts (stale ones).
HISTORY = timedelta(days=31)


def alarm_kpis(engine: Engine, period: pdf.Period, positions: int = 1) -> AlarmKpis:
    entries = query_journal(
        engine, JournalFilter(since=period.since - HISTORY, until=period.until, limit=None)
    )
    return compute_kpis(entries, period.since, period.until, positions=positions)


def alarm_story(kpis: AlarmKpis, period: pdf.Period) -> list[Flowable]:
    failed = len(kpis.failed)
    verdict = (
        "All metrics with a target are met."
        if not failed
        else f"{failed} metric{'s' if failed > 1 else ''} NOT OK."
    )
    story: list[Flowable] = [
        pdf.title("Alarm KPI report"),
        pdf.paragraph(
            f"{kpis.alarms} alarms annunciated, {kpis.positions} operator "
            f"position{'s' if kpis.positions > 1 else ''}. {verdict}"
        ),
        pdf.note(
            "An alarm is an annunciated activation (not shelved, suppressed or out of "
            "service). 10-minute windows and days are UTC-aligned. Targets: ISA-18.2 "
            "(ANSI/ISA-18.2-2016 table 16) = IEC 62682, EEMUA 191."
        ),
        pdf.heading("Metrics"),
        pdf.data_table(
            ("Metric", "Value", "Target", "Verdict"),
            [(m.name, m.value_text, m.target_text, result_text(m.ok)) for m in kpis.metrics],
            widths=(3.0, 2.0, 2.5, 0.9),
            bold_cells=[(i, 3) for i, m in enumerate(kpis.metrics) if m.ok is False],
        ),
    ]
    span_h = (kpis.until - kpis.since).total_seconds() / 3600.0
    days = span_h > 48
    scale = 24.0 if days else 1.0
    points = [
        ((b.start - kpis.since).total_seconds() / 3600.0 / scale, float(b.count))
        for b in kpis.per_10min
    ]
    limit = float(kpis.targets.flood_above * kpis.positions)
    story += [
        pdf.heading("Alarms per 10 minutes"),
        pdf.line_chart(
            [
                pdf.Series(
                    f"flood: > {limit:g}", [(0.0, limit), (span_h / scale, limit)], pdf.COMPARE, 0.8
                ),
                pdf.Series("alarms", points, pdf.ACCENT, 1.0),
            ],
            x_label="days since the start" if days else "hours since the start",
            y_label="Alarms per 10 min",
            x_range=(0.0, span_h / scale),
            x_step=max(1.0, round(span_h / scale / 8)),
            height_mm=55,
        ),
        pdf.heading("Priority distribution"),
        pdf.data_table(
            ("Priority", "Alarms", "Share (%)", "Recommended (%)"),
            [
                (
                    s.priority.label,
                    s.count,
                    f"{s.share * 100:.1f}",
                    f"{s.recommended * 100:.0f}",
                )
                for s in kpis.priorities
            ],
            widths=(2, 1, 1, 1.3),
            right=(1, 2, 3),
        ),
        pdf.heading("Bad actors (the 10 most frequent alarms)"),
        pdf.data_table(
            ("Rank", "Alarm", "Source", "Priority", "Alarms", "Share (%)", "Message"),
            [
                (
                    rank,
                    a.definition_id,
                    a.source,
                    a.priority.label,
                    a.count,
                    f"{a.share * 100:.1f}",
                    a.message,
                )
                for rank, a in enumerate(kpis.bad_actors, start=1)
            ],
            widths=(0.6, 1.8, 1.3, 0.9, 0.8, 0.9, 3),
            right=(0, 4, 5),
        ),
        pdf.heading("Flood periods"),
        pdf.data_table(
            ("Start", "End", "Duration (min)", "Alarms", "Windows", "Peak in 10 min"),
            [
                (
                    pdf.local_time(p.start, period),
                    pdf.local_time(p.end, period),
                    f"{p.duration.total_seconds() / 60:.0f}",
                    p.count,
                    p.windows,
                    p.peak,
                )
                for p in kpis.flood_periods
            ],
            widths=(1.7, 1.7, 1.2, 1, 1, 1.2),
            right=(2, 3, 4, 5),
        ),
        pdf.heading("Chattering alarms"),
        pdf.data_table(
            ("Alarm", "Source", "Priority", "Activations", "Bursts", "Peak / window", "First"),
            [
                (
                    c.definition_id,
                    c.source,
                    c.priority.label,
                    c.activations,
                    c.bursts,
                    c.peak_per_window,
                    pdf.local_time(c.first, period),
                )
                for c in kpis.chattering
            ],
            widths=(1.8, 1.3, 0.9, 1, 0.8, 1, 1.7),
            right=(3, 4, 5),
        ),
        pdf.heading("Stale alarms (active for more than 24 h at the end)"),
        pdf.data_table(
            ("Alarm", "Source", "Priority", "Activated", "Age (h)", "State", "Message"),
            [
                (
                    s.definition_id,
                    s.source,
                    s.priority.label,
                    pdf.local_time(s.activated, period),
                    f"{s.age.total_seconds() / 3600:.0f}",
                    s.state.value,
                    s.message,
                )
                for s in kpis.stale
            ],
            widths=(1.5, 1.1, 0.8, 1.6, 0.8, 1.6, 2.1),
            right=(4,),
        ),
    ]
    return story


def write_alarm_report(
    path: str | PathLike[str],
    engine: Engine,
    project: Project,
    period: pdf.Period,
    *,
    positions: int = 1,
    generated: datetime | None = None,
) -> AlarmKpis:
    kpis = alarm_kpis(engine, period, positions)
    info = pdf.ReportInfo("Alarm KPI report", project.name, period, generated or datetime.now(UTC))
    pdf.write_pdf(path, info, alarm_story(kpis, period))
    return kpis
