"""The scheduled daily report on a real SQLite archive, with an injected clock: written for
yesterday at ``daily_at``, never rewritten, mailed with the PDF attached to a real aiosmtpd
server on loopback, and an SMTP failure reported (tags, alarm) then retried."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP
from pypdf import PdfReader
from sqlalchemy import Engine, insert
from support import wait_until

from evsuper.alarms.model import ALARM_PREFIX
from evsuper.core.bus import TagBus
from evsuper.core.tags import SystemTag, system_tag
from evsuper.engine.runtime import Engine as EvEngine
from evsuper.historian import schema
from evsuper.historian.archive import create_archive_engine
from evsuper.historian.migrate import upgrade_to_head
from evsuper.project.loader import load_project
from evsuper.project.model import Project, ReportSettings
from evsuper.reports.schedule import DailyReportService

# Europe/Paris is UTC+1 in November: 06:00 local on the 22nd is 05:00Z
BEFORE_SIX = datetime(2026, 11, 22, 4, 59, tzinfo=UTC)
AT_SIX = datetime(2026, 11, 22, 5, 0, tzinfo=UTC)
FAILING = system_tag(SystemTag.REPORTS_FAILING)
LAST_ERROR = system_tag(SystemTag.REPORTS_LAST_ERROR)

PROJECT_TOML = """\
format_version = 1
name = "Depot Nord"

[[chargers]]
id = "CP-001"
connectors = 2

[notifications]
timezone = "Europe/Paris"

[notifications.smtp]
host = "127.0.0.1"
port = {port}
security = "none"
sender = "evsuper@example.org"

[reports]
daily_enabled = true
daily_at = "06:00"
folder = "out/reports"
email_to = {email_to}
"""


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Mailbox:
    """aiosmtpd handler keeping every message; answers 554 while ``reject`` is set."""

    messages: list[EmailMessage] = field(default_factory=list)
    reject: bool = False

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        if self.reject:
            return "554 5.7.1 rejected by the test"
        message = message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


@dataclass
class Smtp:
    port: int
    mailbox: Mailbox


@pytest.fixture
async def smtp() -> AsyncIterator[Smtp]:
    mailbox = Mailbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(mailbox, hostname="localhost"), "127.0.0.1", 0)
    yield Smtp(server.sockets[0].getsockname()[1], mailbox)
    server.close()


def make_site(folder: Path, *, port: int = 25, email_to: tuple[str, ...] = ()) -> Project:
    folder.mkdir(exist_ok=True)
    addresses = "[" + ", ".join(f'"{a}"' for a in email_to) + "]"
    toml = PROJECT_TOML.replace("{port}", str(port)).replace("{email_to}", addresses)
    (folder / "project.toml").write_text(toml, encoding="utf-8")
    return load_project(folder)


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Engine]:
    """The archive of the site with two sessions on the local 21st (one 20 kWh, one 7.5)."""
    engine = create_archive_engine(make_site(tmp_path / "site").archive_url())
    with engine.begin() as connection:
        upgrade_to_head(connection)
        rows = [
            (1, 1, datetime(2026, 11, 21, 7, tzinfo=UTC), timedelta(hours=2), 20000),
            (2, 2, datetime(2026, 11, 21, 10, tzinfo=UTC), timedelta(minutes=45), 7500),
        ]
        connection.execute(
            insert(schema.transactions),
            [
                {
                    "id": tid,
                    "charger_id": "CP-001",
                    "connector_id": connector,
                    "id_tag": "BADGE-A",
                    "start_ts": start,
                    "meter_start_wh": 1000,
                    "stop_ts": start + duration,
                    "meter_stop_wh": 1000 + wh,
                    "energy_wh": wh,
                    "stop_reason": "Local",
                }
                for tid, connector, start, duration, wh in rows
            ],
        )
    yield engine
    engine.dispose()


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(BytesIO(data)).pages)


async def test_report_written_for_yesterday_at_the_scheduled_time(
    tmp_path: Path, archive: Engine
) -> None:
    project = make_site(tmp_path / "site")
    clock = Clock(BEFORE_SIX)
    service = DailyReportService(project, archive, TagBus(), clock=clock)
    folder = tmp_path / "site" / "out" / "reports"
    folder.mkdir(parents=True)
    # before 06:00 the day due is the 20th: its report exists already and stays as it is
    (folder / "daily-2026-11-20.pdf").write_bytes(b"kept")
    await service.start()
    try:
        clock.now = AT_SIX
        service.wake()
        report = folder / "daily-2026-11-21.pdf"
        await wait_until(report.exists)
    finally:
        await service.stop()
    text = pdf_text(report.read_bytes())
    assert "Daily energy report" in text and "Depot Nord" in text
    assert "27.50" in text  # 20 + 7.5 kWh on the 21st
    assert (folder / "daily-2026-11-20.pdf").read_bytes() == b"kept"
    assert sorted(p.name for p in folder.iterdir()) == [
        "daily-2026-11-20.pdf",
        "daily-2026-11-21.pdf",
    ]  # no temporary file left


async def test_existing_report_is_not_rewritten_and_missing_one_caught_up(
    tmp_path: Path, archive: Engine
) -> None:
    project = make_site(tmp_path / "site")
    clock = Clock(AT_SIX + timedelta(hours=5))  # started late: caught up at once
    bus = TagBus()
    service = DailyReportService(project, archive, bus, clock=clock)
    delay = await service.check()
    report = service.path_for(datetime(2026, 11, 21).date())
    assert report.exists()
    assert delay == pytest.approx(600.0)  # looks again at most every max_sleep_s
    written = report.stat().st_mtime_ns, report.read_bytes()
    await service.check()
    again = DailyReportService(project, archive, bus, clock=clock)
    await again.check()
    assert (report.stat().st_mtime_ns, report.read_bytes()) == written
    assert service.next_run(clock.now) == datetime(2026, 11, 23, 5, tzinfo=UTC)


async def test_report_mailed_with_the_pdf_attached(
    tmp_path: Path, archive: Engine, smtp: Smtp
) -> None:
    project = make_site(tmp_path / "site", port=smtp.port, email_to=("ops@example.org",))
    service = DailyReportService(project, archive, TagBus(), clock=Clock(AT_SIX))
    await service.start()
    try:
        await wait_until(lambda: smtp.mailbox.messages)
    finally:
        await service.stop()
    (message,) = smtp.mailbox.messages
    assert message["To"] == "ops@example.org"
    assert message["Subject"] == "Depot Nord: daily energy report 2026-11-21"
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "daily-2026-11-21.pdf"
    assert attachment.get_content_type() == "application/pdf"
    data = attachment.get_content()
    assert data == service.path_for(datetime(2026, 11, 21).date()).read_bytes()
    assert "27.50" in pdf_text(data)


async def test_smtp_failure_is_reported_and_retried(
    tmp_path: Path, archive: Engine, smtp: Smtp
) -> None:
    project = make_site(tmp_path / "site", port=smtp.port, email_to=("ops@example.org",))
    clock = Clock(AT_SIX)
    bus = TagBus()
    service = DailyReportService(project, archive, bus, clock=clock, retry_s=60.0)
    smtp.mailbox.reject = True
    await service.start()
    try:
        await wait_until(lambda: bus.value(FAILING) is True)
        assert "554" in bus.value(LAST_ERROR)
        assert service.path_for(datetime(2026, 11, 21).date()).exists()  # written all the same
        assert service._task is not None and not service._task.done()  # still running
        smtp.mailbox.reject = False
        clock.now += timedelta(seconds=60)
        service.wake()
        await wait_until(lambda: smtp.mailbox.messages and bus.value(FAILING) is False)
    finally:
        await service.stop()
    assert len(smtp.mailbox.messages) == 1


async def test_engine_raises_report_failed_alarm_and_keeps_running(make_project: Any) -> None:
    project = make_project(bollards=1)
    (project.directory / "blocked").write_text("a file where the folder should be")
    reports = ReportSettings(daily_enabled=True, folder="blocked/reports")
    engine = EvEngine(replace(project, reports=reports), run_simulator=False, ocpp_port=0)
    await engine.start()
    try:
        alarm = await wait_until(lambda: engine.bus.value(ALARM_PREFIX + "report-failed:_system"))
        assert alarm.message.startswith("Scheduled report failed: ")
        assert "blocked" in alarm.message
        assert engine.reports._task is not None and not engine.reports._task.done()
    finally:
        await engine.stop()
