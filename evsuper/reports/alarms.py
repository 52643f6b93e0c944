"""Alarm list, alarm journal and alarm KPIs as tables (for ``reports.tables``). No Qt."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from evsuper.alarms.kpi import AlarmKpis, Metric
from evsuper.alarms.model import AlarmRecord, JournalEntry
from evsuper.reports.tables import Row, Sheet

JOURNAL_HEADERS = (
    "Time (UTC)",
    "Priority",
    "Priority name",
    "Category",
    "Transition",
    "State after",
    "Source",
    "Charger",
    "Alarm",
    "Message",
    "Value",
    "User",
    "Comment",
    "Alarm key",
)


def journal_rows(entries: Iterable[JournalEntry]) -> list[Row]:
    return [
        (
            e.ts,
            int(e.priority),
            e.priority.label,
            e.category.value,
            e.transition.value,
            e.state.value,
            e.source,
            e.charger_id or "",
            e.definition_id,
            e.message,
            e.value,
            e.user,
            e.comment,
            e.key,
        )
        for e in entries
    ]


ALARM_LIST_HEADERS = (
    "Priority",
    "Priority name",
    "State",
    "Activated (UTC)",
    "Last change (UTC)",
    "Source",
    "Charger",
    "Alarm",
    "Message",
    "Value",
    "Category",
    "Acknowledged by",
    "Comment",
    "Shelved until (UTC)",
    "Activations",
    "Chattering",
    "Alarm key",
)


def alarm_list_rows(records: Iterable[AlarmRecord]) -> list[Row]:
    """The alarms standing now (as the alarm list shows them), one row each."""
    return [
        (
            int(r.priority),
            r.priority.label,
            r.state.value,
            r.activated,
            r.changed,
            r.source,
            r.charger_id or "",
            r.definition_id,
            r.message,
            r.value,
            r.category.value,
            r.acknowledged_by,
            r.comment,
            r.shelved_until,
            r.activations,
            r.chattering,
            r.key,
        )
        for r in records
    ]


def result_text(ok: bool | None) -> str:
    return "—" if ok is None else "OK" if ok else "NOT OK"


METRIC_HEADERS = ("Metric", "Value", "Target", "Result", "Source")


def metric_rows(metrics: Sequence[Metric]) -> list[Row]:
    return [(m.name, m.value_text, m.target_text, result_text(m.ok), m.source) for m in metrics]


def kpi_sheets(kpis: AlarmKpis) -> list[Sheet]:
    """The KPI report, one table per sheet: metrics first, then the details."""
    period: list[Row] = [
        ("Period start", kpis.since),
        ("Period end", kpis.until),
        ("Operator positions", kpis.positions),
        ("Alarms", kpis.alarms),
    ]
    return [
        Sheet("Metrics", METRIC_HEADERS, metric_rows(kpis.metrics)),
        Sheet("Period", ("Item", "Value"), period),
        Sheet(
            "Bad actors",
            ("Rank", "Alarm", "Source", "Priority", "Category", "Alarms", "Share", "Message"),
            [
                (
                    rank,
                    a.definition_id,
                    a.source,
                    a.priority.label,
                    a.category.value,
                    a.count,
                    round(a.share, 4),
                    a.message,
                )
                for rank, a in enumerate(kpis.bad_actors, start=1)
            ],
        ),
        Sheet(
            "Flood periods",
            ("Start (UTC)", "End (UTC)", "Minutes", "Alarms", "Windows", "Peak in 10 min"),
            [
                (p.start, p.end, p.duration.total_seconds() / 60, p.count, p.windows, p.peak)
                for p in kpis.flood_periods
            ],
        ),
        Sheet(
            "Chattering",
            ("Alarm", "Source", "Priority", "Activations", "Bursts", "Peak per minute", "First"),
            [
                (
                    c.definition_id,
                    c.source,
                    c.priority.label,
                    c.activations,
                    c.bursts,
                    c.peak_per_window,
                    c.first,
                )
                for c in kpis.chattering
            ],
        ),
        Sheet(
            "Stale",
            ("Alarm", "Source", "Priority", "Activated", "Age (hours)", "State", "Message"),
            [
                (
                    s.definition_id,
                    s.source,
                    s.priority.label,
                    s.activated,
                    round(s.age.total_seconds() / 3600, 1),
                    s.state.value,
                    s.message,
                )
                for s in kpis.stale
            ],
        ),
        Sheet(
            "Priorities",
            ("Priority", "Alarms", "Share", "Recommended"),
            [
                (p.priority.label, p.count, round(p.share, 4), p.recommended)
                for p in kpis.priorities
            ],
        ),
        Sheet("Per day", ("Day start (UTC)", "Alarms"), [(b.start, b.count) for b in kpis.per_day]),
        Sheet(
            "Per 10 minutes",
            ("Window start (UTC)", "Alarms"),
            [(b.start, b.count) for b in kpis.per_10min],
        ),
    ]
