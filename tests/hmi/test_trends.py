"""The trend window over a real SQLite archive: pens, historical and live modes, cursor,
CSV and PNG."""

from __future__ import annotations

import csv
import functools
import math
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from sqlalchemy import Engine, insert

from evsuper.core.tags import Sample
from evsuper.core.timeutil import utcnow
from evsuper.historian import schema
from evsuper.historian.archive import create_archive_engine
from evsuper.historian.migrate import upgrade_to_head
from evsuper.historian.samples import (
    POWER,
    SOC,
    TAGS_SOURCE,
    Pen,
    available_pens,
    pen_of,
    series,
    tag_pen,
)
from evsuper.hmi.main_window import ArchiveReaders, MainWindow
from evsuper.hmi.views.trends import LIVE_WINDOW, TrendLoader, TrendView, pen_style
from evsuper.project.model import Project

POWER_PEN = Pen("CP-1", 1, POWER, None, "kW")
SOC_PEN = Pen("CP-1", 1, SOC, None, "%")


def _row(ts: datetime, measurand: str, unit: str, value: float) -> dict[str, Any]:
    return {
        "ts": ts,
        "charger_id": "CP-1",
        "connector_id": 1,
        "transaction_id": 1,
        "measurand": measurand,
        "phase": None,
        "unit": unit,
        "context": "Sample.Periodic",
        "location": "Outlet",
        "value": value,
    }


@pytest.fixture
def start() -> datetime:
    return (utcnow() - timedelta(minutes=45)).replace(microsecond=0)


@pytest.fixture
def engine(tmp_path: Path, start: datetime) -> Iterator[Engine]:
    engine = create_archive_engine(f"sqlite:///{tmp_path / 'archive.sqlite'}")
    with engine.begin() as connection:
        upgrade_to_head(connection)
        rows = []
        for i in range(40):  # one sample a minute: 11 kW, SoC rising from 20 %
            ts = start + timedelta(minutes=i)
            rows.append(_row(ts, POWER, "W", 11000.0))
            rows.append(_row(ts, SOC, "Percent", 20.0 + i))
        connection.execute(insert(schema.meter_samples), rows)
    yield engine
    engine.dispose()


@pytest.fixture
def view(qtbot: Any, themed_app: Any, engine: Engine) -> TrendView:
    loader = TrendLoader(
        pens=functools.partial(available_pens, engine),
        series=functools.partial(series, engine),
    )
    view = TrendView(loader, ["CP-1", "CP-2"])
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: view.pen_list.count() == 2)
    return view


def test_pens_are_listed_added_and_removed(qtbot: Any, view: TrendView) -> None:
    assert [view.pen_list.item(i).text() for i in range(2)] == [
        "C1 Power.Active.Import (kW)",
        "C1 SoC (%)",
    ]
    view.pen_list.item(0).setCheckState(view.pen_list.item(0).checkState().Checked)
    assert view.pens == [POWER_PEN]
    view.add_pen(SOC_PEN)
    assert view.pens == [POWER_PEN, SOC_PEN]
    assert view.pen_list.item(1).checkState().name == "Checked"
    view.remove_pen(POWER_PEN)
    assert view.pens == [SOC_PEN]
    assert view.pen_list.item(0).checkState().name == "Unchecked"
    # the first pen is the accent, the others calm greys told apart by dash
    assert pen_style(0).color != pen_style(1).color
    assert len({(pen_style(i).color.name(), pen_style(i).dash) for i in range(8)}) == 8


def test_historical_load_shows_the_archive(qtbot: Any, view: TrendView, start: datetime) -> None:
    view.open_charger("CP-1", [1])
    assert view.pens == [pen_of("CP-1", 1, POWER), pen_of("CP-1", 1, SOC)]
    qtbot.waitUntil(lambda: len(view.curve(POWER_PEN)[0]) == 40 and not view.loading)
    times, values = view.curve(POWER_PEN)
    assert times[0] == start.timestamp()
    assert set(values) == {11.0}
    assert view.curve(SOC_PEN)[1][-1] == 59.0
    assert "2 pens, 80 points" in view.status.text()


def test_cursor_reads_every_pen_at_its_time(qtbot: Any, view: TrendView, start: datetime) -> None:
    view.open_charger("CP-1", [1])
    qtbot.waitUntil(lambda: len(view.curve(SOC_PEN)[0]) == 40)
    view.set_cursor((start + timedelta(minutes=10, seconds=30)).timestamp())
    text = view.cursor_text()
    assert "CP-1/C1 Power.Active.Import: 11.00 kW" in text
    assert "CP-1/C1 SoC: 30.00 %" in text
    view.set_cursor((start - timedelta(minutes=5)).timestamp())
    assert "CP-1/C1 SoC: —" in view.cursor_text()


def test_live_mode_appends_tag_batches_and_scrolls(qtbot: Any, view: TrendView) -> None:
    view.open_charger("CP-1", [1])
    view.set_live(True)
    # seeded from the archive's last minutes
    qtbot.waitUntil(lambda: not view.loading and len(view.curve(POWER_PEN)[0]) > 0)
    seeded = len(view.curve(POWER_PEN)[0])
    now = utcnow() + timedelta(minutes=5)
    view.apply_tags(
        {
            "CP-1/C1/power_kw": Sample(7.4, now),
            "CP-1/C1/soc": Sample(61.0, now),
            "CP-1/C1/energy_kwh": Sample(3.2, now),
            "CP-2/C1/power_kw": Sample(1.0, now),
        }
    )
    times, values = view.curve(POWER_PEN)
    assert len(times) == seeded + 1
    assert (times[-1], values[-1]) == (now.timestamp(), 7.4)
    assert view.curve(SOC_PEN)[1][-1] == 61.0
    lo, hi = view.plot.getPlotItem().vb.viewRange()[0]
    assert hi == pytest.approx(now.timestamp(), abs=1.0)
    assert hi - lo == pytest.approx(LIVE_WINDOW.total_seconds(), rel=0.01)
    later = now + timedelta(seconds=30)
    view.apply_tags({"CP-1/C1/power_kw": Sample(None, later)})  # a gap, drawn as one
    _, hi = view.plot.getPlotItem().vb.viewRange()[0]
    assert hi == pytest.approx(later.timestamp(), abs=1.0)
    assert math.isnan(view.curve(POWER_PEN)[1][-1])
    assert view.cursor_text().startswith("Move the mouse")


def test_csv_export_holds_the_shown_points(qtbot: Any, view: TrendView, tmp_path: Path) -> None:
    view.open_charger("CP-1", [1])
    qtbot.waitUntil(lambda: len(view.curve(SOC_PEN)[0]) == 40 and not view.loading)
    path = tmp_path / "trend.csv"
    assert view.export_csv(path) == 80
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["Time (UTC)", "Charger", "Connector", "Measurand", "Phase", "Value", "Unit"]
    assert rows[1][1:] == ["CP-1", "1", POWER, "", "11.0", "kW"]
    assert rows[1][0].endswith("Z")
    assert rows[-1][1:] == ["CP-1", "1", SOC, "", "59.0", "%"]


def test_png_is_saved(qtbot: Any, view: TrendView, tmp_path: Path) -> None:
    view.open_charger("CP-1", [1])
    qtbot.waitUntil(lambda: len(view.curve(SOC_PEN)[0]) == 40)
    path = tmp_path / "trend.png"
    assert view.save_png(path)
    assert path.stat().st_size > 1000


def test_zooming_reads_the_visible_range_again(qtbot: Any, view: TrendView) -> None:
    view.open_charger("CP-1", [1])
    qtbot.waitUntil(lambda: len(view.curve(SOC_PEN)[0]) == 40 and not view.loading)
    times = view.curve(SOC_PEN)[0]
    view.plot.getPlotItem().setXRange(times[10], times[20], padding=0)
    qtbot.waitUntil(lambda: len(view.curve(SOC_PEN)[0]) == 11 and not view.loading)
    assert view.curve(SOC_PEN)[1][0] == 30.0


def test_an_unreadable_archive_is_said(qtbot: Any, themed_app: Any) -> None:
    def broken(*_: Any) -> Any:
        raise OSError("disk gone")

    view = TrendView(TrendLoader(pens=broken, series=broken), ["CP-1"])
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: "disk gone" in view.status.text())


def test_the_faceplate_opens_its_chargers_trend_fed_by_the_main_window(
    qtbot: Any, themed_app: Any, project: Project, batch: Any, engine: Engine
) -> None:
    loader = TrendLoader(
        pens=functools.partial(available_pens, engine),
        series=functools.partial(series, engine),
    )
    window = MainWindow(
        project,
        lambda command, callback: None,
        archive=ArchiveReaders(audit=lambda *_: [], journal=lambda *_: [], trends=loader),
    )
    qtbot.addWidget(window)
    window.show()
    assert window.trends_button.isEnabled()
    window.apply_tags(batch.online("CP-002").samples)
    window.show_faceplate("CP-002")
    button = window.faceplate.findChild(QPushButton, "trend")
    assert button is not None and button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    trends = window.trends
    assert trends is not None and trends.isVisible()
    assert trends.pens == [
        pen_of("CP-002", 1, POWER),
        pen_of("CP-002", 1, SOC),
        pen_of("CP-002", 2, POWER),
        pen_of("CP-002", 2, SOC),
    ]
    assert trends.periods.period.currentText() == "Last hour"
    trends.set_live(True)
    qtbot.waitUntil(lambda: not trends.loading)
    now = utcnow()
    window.apply_tags({"CP-002/C2/power_kw": Sample(3.7, now)})
    assert trends.curve(pen_of("CP-002", 2, POWER)) == ([now.timestamp()], [3.7])


def test_historised_tags_are_pens_of_their_charger_and_of_their_own_list(
    qtbot: Any, themed_app: Any, engine: Engine, start: datetime
) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(schema.tag_samples),
            [
                {"ts": start + timedelta(minutes=i), "tag": tag, "value": value,
                 "text": None, "quality": "good"}
                for i in range(10)
                for tag, value in (("SITE/meter/power_kw", 40.0 + i), ("CP-1/C1/power_kw", 7.0))
            ],
        )  # fmt: skip
    loader = TrendLoader(
        pens=functools.partial(available_pens, engine), series=functools.partial(series, engine)
    )
    view = TrendView(loader, ["CP-1", TAGS_SOURCE])
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: view.pen_list.count() == 3)
    assert view.pen_list.item(2).text() == "C1/power_kw"  # under its charger
    view.charger.setCurrentText(TAGS_SOURCE)
    qtbot.waitUntil(lambda: view.pen_list.count() == 2)
    labels = [view.pen_list.item(i).text() for i in range(2)]
    assert labels == ["CP-1/C1/power_kw", "SITE/meter/power_kw"]
    view.pen_list.item(1).setCheckState(Qt.CheckState.Checked)
    site = tag_pen("SITE/meter/power_kw")
    qtbot.waitUntil(lambda: len(view.curve(site)[1]) == 10 and not view.loading)
    assert view.curve(site)[1] == [40.0 + i for i in range(10)]
    view.set_live(True)
    view.apply_tags({"SITE/meter/power_kw": Sample(99.0)})
    qtbot.waitUntil(lambda: view.curve(site)[1][-1:] == [99.0])
