"""The energy dashboard: site power now, energy today / this week / this month, sessions,
the day's load curve against yesterday's, and per bollard and per badge figures.

The archive figures come from ``evsuper.historian.energy.dashboard`` on the worker thread
(``load``), again every minute while the window is shown; the site power now comes from
the live tags (``set_site_power``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from evsuper.historian.energy import Dashboard
from evsuper.hmi import formatting
from evsuper.hmi.theme import Emphasis, Palette, role_label, set_emphasis
from evsuper.hmi.widgets.plots import PlotLegend, calm_pen, calm_plot
from evsuper.hmi.widgets.refresh import RefreshWhileShown
from evsuper.hmi.worker import Worker

DashboardLoader = Callable[[], Dashboard]
REFRESH_MS = 60_000
LOW_AVAILABILITY = 0.95  # below this a bollard's availability is shown notable


class EnergyDashboardView(QWidget):
    def __init__(
        self,
        load: DashboardLoader,
        badge_names: Mapping[str, str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("energyDashboard")
        self.setWindowTitle("Energy — evsuper")
        self.resize(1200, 860)
        self._load = load
        self._badge_names = dict(badge_names or {})
        self._worker = Worker("evsuper-energy", self)
        self._loading = 0
        self.board: Dashboard | None = None

        self.as_of = role_label("subtitle", "Loading…")
        self.refresh = QPushButton("Refresh")
        self.refresh.setObjectName("energyRefresh")
        self.refresh.clicked.connect(self.query)
        header = QHBoxLayout()
        header.addWidget(role_label("title", "Energy"))
        header.addWidget(self.as_of, 1)
        header.addWidget(self.refresh)

        self.figures: dict[str, QLabel] = {}
        cards = QGridLayout()
        cards.setHorizontalSpacing(24)
        for column, (key, caption) in enumerate(
            (
                ("power", "Site power now"),
                ("today", "Energy today"),
                ("week", "This week"),
                ("month", "This month"),
                ("sessions", "Sessions today"),
                ("duration", "Average session"),
            )
        ):
            value = role_label("title", formatting.NO_VALUE)
            value.setObjectName(f"energy_{key}")
            cards.addWidget(role_label("caption", caption), 0, column)
            cards.addWidget(value, 1, column)
            self.figures[key] = value

        self.chart = calm_plot("loadCurve", min_height=220)
        item = self.chart.getPlotItem()
        item.setLabel("left", "kW")
        item.setLabel("bottom", "hour of the day")
        item.setXRange(0, 24, padding=0)
        yesterday = calm_pen(Palette.TEXT_MUTED, 1.5, Qt.PenStyle.DashLine)
        today = calm_pen(Palette.BAR_FILL, 2.0)
        self.yesterday_line = item.plot([], [], pen=yesterday)
        self.today_line = item.plot([], [], pen=today)
        self.legend = PlotLegend()
        self.legend.set_entries([("Yesterday", yesterday, None), ("Today", today, None)])

        self.bollards = _table(
            "energyBollards", ("Bollard", "kWh today", "Sessions", "Utilisation", "Availability")
        )
        self.badges = _table("energyBadges", ("Badge", "Name", "Sessions", "kWh"))
        self.places = _table(
            "energyPlaces", ("Site / area", "Today (kWh)", "This week (kWh)", "This month (kWh)")
        )
        self.places.setSortingEnabled(False)  # sites above their areas
        self.groups = _table("energyGroups", ("Badge group", "Sessions", "kWh"))
        self._boxes: dict[QTableWidget, QWidget] = {}
        rows = []
        for pair in (
            (("Sites and areas", self.places), ("Badge groups this month", self.groups)),
            (("Bollards today", self.bollards), ("Badges this month", self.badges)),
        ):
            row = QHBoxLayout()
            for caption, table in pair:
                box = QWidget()
                stack = QVBoxLayout(box)
                stack.setContentsMargins(0, 0, 0, 0)
                stack.addWidget(role_label("section", caption))
                stack.addWidget(table, 1)
                row.addWidget(box, 1)
                self._boxes[table] = box
            rows.append(row)
        for table in (self.places, self.groups):  # shown when there is more than one
            self._boxes[table].hide()
            table.setMaximumHeight(160)

        self.status = role_label("caption")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(8)
        layout.addLayout(header)
        layout.addLayout(cards)
        chart_head = QHBoxLayout()
        chart_head.addWidget(role_label("section", "Load curve: today against yesterday"))
        chart_head.addSpacing(16)
        chart_head.addWidget(self.legend, 1)
        layout.addLayout(chart_head)
        layout.addWidget(self.chart, 1)
        layout.addLayout(rows[0])
        layout.addLayout(rows[1], 1)
        layout.addWidget(self.status)

        self.refresher = RefreshWhileShown(self, self.query, REFRESH_MS)

    @property
    def loading(self) -> bool:
        return self._loading > 0

    def set_site_power(self, kw: float | None) -> None:
        """The live site power (sum of the connectors' power tags)."""
        self.figures["power"].setText(formatting.kw(kw))

    def query(self) -> None:
        self._loading += 1
        self._worker.run(self._load, self._show, self._failed)

    def _show(self, board: Dashboard) -> None:
        self._loading -= 1
        self.board = board
        self.as_of.setText(f"as of {formatting.clock(board.now, seconds=False)}")
        texts = {
            "today": formatting.kwh(board.energy_today_kwh),
            "week": formatting.kwh(board.energy_week_kwh),
            "month": formatting.kwh(board.energy_month_kwh),
            "sessions": formatting.count(board.sessions_today),
            "duration": formatting.duration(board.average_duration_today_s),
        }
        for key, text in texts.items():
            self.figures[key].setText(text)
        self.today_line.setData(*_hours(board.curve_today, board))
        self.yesterday_line.setData(*_hours(board.curve_yesterday, board))
        _fill(
            self.bollards,
            [
                (
                    b.charger_id,
                    (f"{b.energy_kwh:.2f}", b.energy_kwh),
                    (str(b.sessions), b.sessions),
                    (f"{b.utilisation:.0%}", b.utilisation),
                    (f"{b.availability:.1%}", b.availability),
                )
                for b in board.bollards
            ],
            notable={
                row for row, b in enumerate(board.bollards) if b.availability < LOW_AVAILABILITY
            },
        )
        _fill(
            self.badges,
            [
                (
                    t.key,
                    self._badge_names.get(t.key, ""),
                    (str(t.sessions), t.sessions),
                    (f"{t.energy_kwh:.2f}", t.energy_kwh),
                )
                for t in board.badges_month
            ],
        )
        _fill(
            self.places,
            [
                (
                    f"    {p.place.name}" if p.place.site else p.place.name,
                    (f"{p.today_kwh:.2f}", p.today_kwh),
                    (f"{p.week_kwh:.2f}", p.week_kwh),
                    (f"{p.month_kwh:.2f}", p.month_kwh),
                )
                for p in board.places
            ],
        )
        _fill(
            self.groups,
            [
                (t.key, (str(t.sessions), t.sessions), (f"{t.energy_kwh:.2f}", t.energy_kwh))
                for t in board.groups_month
            ],
        )
        self._boxes[self.places].setVisible(len(board.places) > 1)
        self._boxes[self.groups].setVisible(bool(board.groups_month))
        self.status.setText("")
        set_emphasis(self.status, Emphasis.NORMAL)

    def _failed(self, exc: Exception) -> None:
        self._loading -= 1
        self.status.setText(f"The archive cannot be read: {exc}")
        set_emphasis(self.status, Emphasis.ALARM)


def _hours(
    curve: list[tuple[datetime, float]], board: Dashboard
) -> tuple[list[float], list[float]]:
    """Points as (hour of the day in the dashboard's time zone, kW)."""
    tz = board.now.tzinfo
    xs, ys = [], []
    for ts, kw in curve:
        local = ts.astimezone(tz)
        xs.append(local.hour + local.minute / 60 + local.second / 3600)
        ys.append(kw)
    return xs, ys


def _table(name: str, columns: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(columns))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.verticalHeader().hide()
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
    table.setSortingEnabled(True)
    return table


Cell = str | tuple[str, float]  # text, or (text, number it sorts by)


class _NumberItem(QTableWidgetItem):
    """Sorts by its number, not its text."""

    def __init__(self, text: str, number: float) -> None:
        super().__init__(text)
        self.number = number
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        if isinstance(other, _NumberItem):
            return self.number < other.number
        return super().__lt__(other)


def _fill(table: QTableWidget, rows: list[tuple[Cell, ...]], notable: Collection[int] = ()) -> None:
    sorting = table.isSortingEnabled()  # kept in the given order while filled
    table.setSortingEnabled(False)
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            item = QTableWidgetItem(cell) if isinstance(cell, str) else _NumberItem(*cell)
            if r in notable:
                bold = item.font()
                bold.setBold(True)
                item.setFont(bold)
            table.setItem(r, c, item)
    table.setSortingEnabled(sorting)
