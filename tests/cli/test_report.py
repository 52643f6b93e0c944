"""`evsuper report daily|monthly|alarms`: PDF reports of a project headless, and the clear
errors (exit code 2) for a missing project, a bad date and an unwritable output."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import insert

from evsuper.alarms.journal import write_entries
from evsuper.alarms.model import AlarmState, Category, JournalEntry, Priority, Transition
from evsuper.cli import main
from evsuper.historian import schema
from evsuper.historian.archive import create_archive_engine
from evsuper.historian.migrate import upgrade_to_head
from evsuper.project.new import write_new_project


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    project = write_new_project(tmp_path / "site", bollards=2, badges=2)
    engine = create_archive_engine(project.archive_url())
    with engine.begin() as connection:
        upgrade_to_head(connection)
        connection.execute(
            insert(schema.transactions),
            [
                {
                    "charger_id": "CP-001",
                    "connector_id": 1,
                    "id_tag": "BADGE-0001",
                    "start_ts": datetime(2026, 11, 21, 8, tzinfo=UTC),
                    "meter_start_wh": 0,
                    "stop_ts": datetime(2026, 11, 21, 9, 30, tzinfo=UTC),
                    "meter_stop_wh": 15250,
                    "energy_wh": 15250,
                    "stop_reason": "EVDisconnected",
                }
            ],
        )
        write_entries(
            connection,
            [
                JournalEntry(
                    ts=datetime(2026, 11, 21, 10, tzinfo=UTC),
                    key="CP-001/offline",
                    definition_id="offline",
                    source="CP-001",
                    charger_id="CP-001",
                    priority=Priority.HIGH,
                    category=Category.COMMUNICATION,
                    transition=Transition.ACTIVATED,
                    state=AlarmState.UNACKNOWLEDGED,
                    message="CP-001 offline",
                )
            ],
        )
    engine.dispose()
    return tmp_path / "site"


def _text(path: Path) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def test_each_report_is_written_and_said_where(
    project_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = str(project_dir)
    daily, monthly, alarms = tmp_path / "d.pdf", tmp_path / "m.pdf", tmp_path / "a.pdf"
    common = ["--tz", "UTC"]
    assert (
        main(["report", "daily", site, "--date", "2026-11-21", "--out", str(daily), *common]) == 0
    )
    out = capsys.readouterr().out
    assert str(daily) in out and "(1 session, 15.25 kWh)" in out
    assert "15.25" in _text(daily)

    assert (
        main(["report", "monthly", site, "--month", "2026-11", "--out", str(monthly), *common]) == 0
    )
    assert "(1 badge, 1 session, " in capsys.readouterr().out
    text = _text(monthly)
    assert "Badge 1" in text and "15.25" in text and "1:30" in text

    args = ["report", "alarms", site, "--from", "2026-11-20", "--to", "2026-11-21"]
    assert main([*args, "--out", str(alarms), *common]) == 0
    assert "1 alarms" in capsys.readouterr().out
    text = _text(alarms)
    assert "Alarm KPI report" in text and "CP-001 offline" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["daily", "{site}", "--date", "2026-13-01"], "--date '2026-13-01' is not a date"),
        (["daily", "{site}", "--date", "21/11/2026"], "is not a date like 2026-11-21"),
        (["monthly", "{site}", "--month", "2026-1"], "--month '2026-1' is not a month"),
        (["alarms", "{site}", "--from", "2026-11-21", "--to", "2026-11-01"], "is before --from"),
        (["daily", "{site}", "--date", "2026-11-21", "--tz", "Mars/Olympus"], "unknown time zone"),
        (["daily", "{missing}", "--date", "2026-11-21"], "no project.toml"),
    ],
)
def test_bad_arguments_are_said_with_exit_code_2(
    project_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    filled = [a.format(site=project_dir, missing=tmp_path / "nowhere") for a in args]
    out = tmp_path / "r.pdf"
    assert main(["report", *filled, "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_an_unwritable_output_is_refused(
    project_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = str(project_dir)
    no_folder = tmp_path / "missing" / "r.pdf"
    assert main(["report", "daily", site, "--date", "2026-11-21", "--out", str(no_folder)]) == 2
    assert "no folder" in capsys.readouterr().err
    assert main(["report", "daily", site, "--date", "2026-11-21", "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        out = str(locked / "r.pdf")
        assert main(["report", "daily", site, "--date", "2026-11-21", "--out", out]) == 2
        assert "not writable" in capsys.readouterr().err


def test_a_bad_date_creates_no_archive(tmp_path: Path) -> None:
    write_new_project(tmp_path / "fresh", bollards=1)
    out = tmp_path / "r.pdf"
    assert main(["report", "daily", str(tmp_path / "fresh"), "--date", "x", "--out", str(out)]) == 2
    assert not (tmp_path / "fresh" / "archive.sqlite").exists()
