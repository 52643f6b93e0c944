"""Step chart of a composite schedule: the charger's answer beside evsuper's expectation.

x: minutes from the moment evsuper asked; y: the limit in the schedule's unit. Two grey
lines told apart by weight and dash (ISA-101: no hue for normal data); the line under
the chart says whether they agree, in bold when they do not. The arithmetic (step
points, comparison) is plain Python, testable without drawing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from evsuper.charging.composite import CompositePeriod
from evsuper.engine.commands import CompositeSchedules
from evsuper.hmi import formatting
from evsuper.hmi.theme import Emphasis, Palette, role_label, set_emphasis
from evsuper.hmi.widgets.plots import PlotLegend, calm_pen, calm_plot

# A charger stamps its schedule when it answers, evsuper when it asks: differences shorter
# than this are the round trip, not a different schedule.
CLOCK_TOLERANCE_S = 5.0
LIMIT_TOLERANCE = 0.05  # limits are multiples of 0.1 on the wire

Steps = tuple[list[float], list[float]]  # x in minutes, y (NaN: no limit)


def step_points(periods: Sequence[CompositePeriod], offset_s: float, end_s: float) -> Steps:
    """The corners of the step line of ``periods`` (offsets in seconds) shifted by
    ``offset_s`` and ending at ``end_s`` (seconds): each period gives its start and end
    points, so the line is drawn flat then vertical. None limits become NaN (a gap)."""
    xs: list[float] = []
    ys: list[float] = []
    for i, (start, limit) in enumerate(periods):
        begin = offset_s + start
        finish = offset_s + periods[i + 1][0] if i + 1 < len(periods) else end_s
        if finish <= begin:
            continue
        y = math.nan if limit is None else limit
        xs += [begin / 60.0, finish / 60.0]
        ys += [y, y]
    return xs, ys


def charger_periods(schedules: CompositeSchedules) -> list[CompositePeriod]:
    schedule = schedules.charging_schedule
    if schedule is None:
        return []
    return [(p.start_s, p.limit) for p in schedule.periods]


def charger_offset_s(schedules: CompositeSchedules) -> float:
    """Seconds from evsuper's request to the start the charger gave its schedule."""
    if schedules.schedule_start is None:
        return 0.0
    return (schedules.schedule_start - schedules.expected_start).total_seconds()


@dataclass(frozen=True, slots=True)
class Verdict:
    match: bool
    text: str


def _limit_at(
    periods: Sequence[CompositePeriod], offset_s: float, end_s: float, t: float
) -> float | None:
    if t < offset_s or t >= end_s:
        return None
    value: float | None = None
    for start, limit in periods:
        if offset_s + start <= t:
            value = limit
    return value


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= max(LIMIT_TOLERANCE, 1e-3 * max(abs(a), abs(b)))


def _limit_text(value: float | None, unit: str) -> str:
    return "no limit" if value is None else f"{value:g} {unit}"


def compare(schedules: CompositeSchedules, duration_s: int) -> Verdict:
    """Whether the charger's schedule is evsuper's over ``[0, duration_s)``."""
    unit = schedules.expected_unit.value
    ours = list(schedules.expected)
    schedule = schedules.charging_schedule
    if schedule is None:
        if not ours:
            return Verdict(True, "Match: no profile limits this connector, none reported.")
        return Verdict(
            False,
            f"Mismatch: the charger reports no schedule ({schedules.status}); "
            "evsuper expects limits.",
        )
    if schedule.unit is not schedules.expected_unit:
        return Verdict(
            False, f"Mismatch: the charger answered in {schedule.unit.value}, evsuper in {unit}."
        )
    if not ours:
        return Verdict(False, "Mismatch: the charger reports limits; evsuper expects none.")
    theirs = charger_periods(schedules)
    offset = charger_offset_s(schedules)
    their_end = offset + (schedule.duration_s or duration_s)
    edges = sorted(
        {0.0, float(duration_s)}
        | {float(start) for start, _ in ours}
        | {offset + start for start, _ in theirs if 0 < offset + start < duration_s}
        | ({their_end} if 0 < their_end < duration_s else set())
    )
    for begin, end in pairwise(edges):
        if end - begin <= CLOCK_TOLERANCE_S:
            continue
        t = (begin + end) / 2
        expected = _limit_at(ours, 0.0, float(duration_s), t)
        reported = _limit_at(theirs, offset, their_end, t)
        if not _same(expected, reported):
            return Verdict(
                False,
                f"Mismatch from +{formatting.duration(begin)}: the charger "
                f"{_limit_text(reported, unit)}, evsuper expects {_limit_text(expected, unit)}.",
            )
    return Verdict(True, "Match: the charger applies the schedule evsuper expects.")


class ScheduleChart(QWidget):
    """The two schedules of a ``CompositeSchedules`` as step lines, with a verdict."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.plot = calm_plot("scheduleChart", min_height=220)
        item = self.plot.getPlotItem()
        # a wide light band for the charger, evsuper's thin dashed line on top: when they
        # agree the dashes run inside the band
        charger_pen = calm_pen(Palette.SUSPENDED_FILL, 6.0)
        expected_pen = calm_pen(Palette.TEXT, 1.5, Qt.PenStyle.DashLine)
        self.charger_line = item.plot([], [], pen=charger_pen, connect="finite")
        self.expected_line = item.plot([], [], pen=expected_pen, connect="finite")
        legend = PlotLegend()
        legend.set_entries(
            [("Charger's answer", charger_pen, None), ("evsuper expects", expected_pen, None)]
        )
        layout.addWidget(legend)
        layout.addWidget(self.plot, 1)
        self.verdict = role_label("value", "No composite schedule requested yet.")
        self.verdict.setObjectName("scheduleVerdict")
        self.verdict.setWordWrap(True)
        layout.addWidget(self.verdict)
        self.last_verdict: Verdict | None = None
        self._set_axes("A", None)

    def clear(self, text: str) -> None:
        self.charger_line.setData([], [])
        self.expected_line.setData([], [])
        self.last_verdict = None
        self.verdict.setText(text)
        set_emphasis(self.verdict, Emphasis.NORMAL)

    def show_schedules(self, schedules: CompositeSchedules, duration_s: int) -> Verdict:
        """Draw both schedules over ``duration_s`` and say whether they match."""
        expected = step_points(schedules.expected, 0.0, float(duration_s))
        theirs: Steps = ([], [])
        schedule = schedules.charging_schedule
        if schedule is not None:
            offset = charger_offset_s(schedules)
            end = offset + (schedule.duration_s or duration_s)
            theirs = step_points(charger_periods(schedules), offset, min(end, float(duration_s)))
        self.charger_line.setData(*theirs)
        self.expected_line.setData(*expected)
        unit = schedule.unit.value if schedule is not None else schedules.expected_unit.value
        self._set_axes(unit, schedules)
        limits = [y for y in theirs[1] + expected[1] if not math.isnan(y)]
        top = max(limits, default=1.0) or 1.0
        item = self.plot.getPlotItem()
        item.setYRange(0, top * 1.2, padding=0.02)
        item.setXRange(0, duration_s / 60.0, padding=0.02)
        verdict = compare(schedules, duration_s)
        self.last_verdict = verdict
        self.verdict.setText(verdict.text)
        set_emphasis(self.verdict, Emphasis.NORMAL if verdict.match else Emphasis.NOTABLE)
        return verdict

    def _set_axes(self, unit: str, schedules: CompositeSchedules | None) -> None:
        item = self.plot.getPlotItem()
        item.setLabel("left", f"Limit ({unit})", color=Palette.TEXT_SECONDARY.name())
        since = "" if schedules is None else f" from {formatting.clock(schedules.expected_start)}"
        item.setLabel("bottom", f"Minutes{since}", color=Palette.TEXT_SECONDARY.name())
