"""The scheduled daily energy report (``[reports]``), an asyncio service of the engine.

Every day at ``daily_at`` (local time of ``[notifications] timezone``, else the machine's)
the daily energy report of the day before is written to ``<folder>/daily-YYYY-MM-DD.pdf``
and, with ``email_to``, mailed as a PDF attachment through ``[notifications.smtp]``.

The day due is the latest local day whose report time has passed, so a report missed while
the engine was stopped is caught up at start. A day whose file exists is skipped; the file is
written under a temporary name, then renamed. A failure (archive, disk, SMTP) is logged,
published as ``_system/reports/failing`` and ``_system/reports/last_error`` (the alarm
engine raises ``report-failed`` from them) and tried again after ``retry_s``. A mail that
fails after its file was written is retried while the engine runs (not after a restart).
The clock is injectable; ``wake()`` makes the service look again at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import ssl
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from sqlalchemy import Engine

from evsuper.alarms.notify.email import send_email, smtp_ssl_context
from evsuper.core.bus import TagBus
from evsuper.core.tags import Sample, SystemTag, system_tag
from evsuper.core.timeutil import utcnow
from evsuper.project.model import Project, parse_time_of_day
from evsuper.reports import daily, pdf

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class DailyReportService:
    """Writes (and mails) yesterday's daily energy report (see the module docstring)."""

    def __init__(
        self,
        project: Project,
        archive: Engine,
        bus: TagBus,
        *,
        clock: Clock = utcnow,
        ssl_context: ssl.SSLContext | None = None,
        retry_s: float = 300.0,
        max_sleep_s: float = 600.0,
    ) -> None:
        self.project = project
        self.settings = project.reports
        self._archive = archive
        self._bus = bus
        self._clock = clock
        self._ssl_context = ssl_context
        self._retry_s = retry_s
        self._max_sleep_s = max_sleep_s  # look again at least this often (clock changes)
        self._zone_name = project.notifications.timezone
        self._zone = pdf.zone_of(self._zone_name)
        self._at: time = parse_time_of_day(self.settings.daily_at)
        self._unmailed: dict[date, str] = {}  # written, not mailed yet: day → summary
        self._failing = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def for_project(cls, project: Project, archive: Engine, bus: TagBus) -> DailyReportService:
        return cls(project, archive, bus, ssl_context=smtp_ssl_context(project))

    @property
    def folder(self) -> Path:
        return self.project.path(self.settings.folder)

    def path_for(self, day: date) -> Path:
        return self.folder / f"daily-{day:%Y-%m-%d}.pdf"

    def due_day(self, now: datetime) -> date:
        """The latest local day whose report time has passed at ``now``."""
        local = now.astimezone(self._zone)
        yesterday = local.date() - timedelta(days=1)
        return yesterday if local.time() >= self._at else yesterday - timedelta(days=1)

    def next_run(self, now: datetime) -> datetime:
        """The first report time after ``now`` (aware)."""
        local = now.astimezone(self._zone)
        run = datetime.combine(local.date(), self._at, self._zone)
        if run <= local:
            run = datetime.combine(local.date() + timedelta(days=1), self._at, self._zone)
        return run

    # ------------------------------------------------------------------ engine interface

    async def start(self) -> None:
        if self._task is not None or not self.settings.daily_enabled:
            return
        self._publish(SystemTag.REPORTS_FAILING, False)
        self._publish(SystemTag.REPORTS_LAST_ERROR, "")
        self._task = asyncio.get_running_loop().create_task(self._run(), name="daily-report")
        log.info(
            "daily report at %s (%s) into %s",
            self.settings.daily_at,
            self._zone_name or "local time",
            self.folder,
        )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        for day in self._unmailed:
            log.warning("daily report of %s abandoned at stop: not mailed", day)

    def wake(self) -> None:
        """Look again now (after the clock moved, in tests)."""
        self._wake.set()

    async def check(self) -> float:
        """Write and mail what is due now; returns the seconds until the next look."""
        now = self._clock()
        wait_until = self.next_run(now)
        try:
            day = self.due_day(now)
            path = self.path_for(day)
            if not path.exists():
                summary = await asyncio.to_thread(self._write, day, path)
                if self.settings.email_to:
                    self._unmailed[day] = summary
            for pending, summary in sorted(self._unmailed.items()):
                await asyncio.to_thread(self._mail, pending, summary)
                del self._unmailed[pending]
        except Exception as exc:  # reported and retried, never raised into the engine
            self._failed(exc)
            wait_until = min(wait_until, now + timedelta(seconds=self._retry_s))
        else:
            if self._failing:
                self._failing = False
                self._publish(SystemTag.REPORTS_FAILING, False)
        delay = (wait_until - self._clock()).total_seconds()
        return min(max(delay, 0.0), self._max_sleep_s)

    # ------------------------------------------------------------------ work

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            delay = await self.check()
            # not asyncio.wait_for: before Python 3.12 it can swallow a cancellation
            timer = loop.call_later(delay, self._wake.set)
            try:
                await self._wake.wait()
            finally:
                timer.cancel()
            self._wake.clear()

    def _write(self, day: date, path: Path) -> str:
        """Runs in a worker thread: the report of ``day`` to ``path``, atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            data = daily.write_daily_report(
                temporary,
                self._archive,
                self.project,
                day,
                self._zone_name,
                generated=self._clock(),
            )
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
        summary = f"{data.site.sessions} sessions, {data.site.energy_kwh:.2f} kWh"
        log.info("daily report written: %s (%s)", path, summary)
        return summary

    def _mail(self, day: date, summary: str) -> None:
        """Runs in a worker thread: the report of ``day`` as an attachment to ``email_to``."""
        path = self.path_for(day)
        smtp = self.project.notifications.smtp
        message = EmailMessage()
        message["Subject"] = f"{self.project.name}: daily energy report {day:%Y-%m-%d}"
        message["From"] = smtp.sender
        message["To"] = ", ".join(self.settings.email_to)
        message["Date"] = formatdate(self._clock().timestamp(), usegmt=True)
        message["Message-ID"] = make_msgid(domain=smtp.sender.rpartition("@")[2] or None)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(
            f"Daily energy report of {self.project.name} for {day:%A %d %B %Y}: {summary}.\n"
            f"The report is attached ({path.name}).\n"
        )
        message.add_attachment(
            path.read_bytes(), maintype="application", subtype="pdf", filename=path.name
        )
        send_email(smtp, message, ssl_context=self._ssl_context)
        log.info("daily report of %s mailed to %s", day, message["To"])

    def _failed(self, exc: BaseException) -> None:
        error = f"{type(exc).__name__}: {exc}"
        log.error("daily report failed, retry in %g s: %s", self._retry_s, error)
        self._publish(SystemTag.REPORTS_LAST_ERROR, error)
        if not self._failing:
            self._failing = True
            self._publish(SystemTag.REPORTS_FAILING, True)

    def _publish(self, tag: SystemTag, value: object) -> None:
        self._bus.publish(system_tag(tag), Sample(value))
