"""The notifier: turns alarm transitions into e-mails and SMS without ever holding up the
engine loop.

The alarm engine calls, on its loop, ``alarm_changed(record, transition)`` for every
transition (returns at once, never raises) and ``await start()`` / ``await stop()``.
Messages wait in a queue; ``max_concurrent_sends`` worker tasks send them, each send in a
thread (``asyncio.to_thread``). A failed send is retried after each delay of
``retry_delays_s`` then given up. While sends fail, ``_system/notifications/failing`` is
``True`` (set when a message is given up, back to ``False`` at the next success) and
``_system/notifications/last_error`` holds the last failure as text: the alarm engine raises
its notification-failed system alarm from them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from evsuper.alarms.model import AlarmRecord, AlarmState, Transition
from evsuper.alarms.notify.email import build_email, send_email, smtp_ssl_context
from evsuper.alarms.notify.message import Notice, sms_text
from evsuper.alarms.notify.rules import (
    Delivery,
    PendingEscalation,
    deliveries,
    due_escalations,
    escalation_deliveries,
    escalations_to_start,
)
from evsuper.alarms.notify.sms import send_sms
from evsuper.core.bus import TagBus
from evsuper.core.tags import Sample, TagPath
from evsuper.core.timeutil import utcnow
from evsuper.project.model import NotificationChannel, NotificationSettings

if TYPE_CHECKING:
    from evsuper.project.model import Project

log = logging.getLogger(__name__)

FAILING_TAG: TagPath = "_system/notifications/failing"  # bool
LAST_ERROR_TAG: TagPath = "_system/notifications/last_error"  # str

Clock = Callable[[], datetime]


@dataclass(slots=True)
class _Job:
    delivery: Delivery
    notice: Notice
    attempts: int = 0  # made so far

    def describe(self) -> str:
        d = self.delivery
        kind = "escalation " if d.escalation else ""
        return (
            f"{kind}{d.channel.value} to {d.recipient.name} <{d.address}> about "
            f"{self.notice.record.key} ({self.notice.transition.value})"
        )


class Notifier:
    """E-mail and SMS notification of alarm transitions (see the module docstring)."""

    def __init__(
        self,
        settings: NotificationSettings,
        bus: TagBus,
        *,
        clock: Clock = utcnow,
        site: str = "",
        ssl_context: ssl.SSLContext | None = None,
        stop_timeout_s: float = 5.0,
    ) -> None:
        self.settings = settings
        self._bus = bus
        self._clock = clock
        self._site = site
        self._ssl_context = ssl_context
        self._stop_timeout_s = stop_timeout_s
        self._tz: tzinfo | None = ZoneInfo(settings.timezone) if settings.timezone else None
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._jobs: dict[int, _Job] = {}  # in flight, by id
        self._retries: dict[asyncio.TimerHandle, _Job] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._latest: dict[str, AlarmRecord] = {}  # the last record of every listed alarm
        self._escalations: dict[tuple[str, str], PendingEscalation] = {}
        self._running = False
        self._failing = False
        # figures, for tests and diagnostics
        self.sent = 0
        self.failed_attempts = 0
        self.given_up = 0
        self.dropped = 0

    @classmethod
    def for_project(cls, project: Project, bus: TagBus, *, clock: Clock = utcnow) -> Notifier:
        """A notifier for ``project``: its site name, and its ``smtp.ca_file`` if set."""
        return cls(
            project.notifications,
            bus,
            clock=clock,
            site=project.name,
            ssl_context=smtp_ssl_context(project),
        )

    # ------------------------------------------------------------------ engine interface

    def alarm_changed(self, record: AlarmRecord, transition: Transition) -> None:
        """Queue the notifications ``transition`` causes; returns at once, never raises."""
        try:
            if not self.settings.enabled:
                return
            now = self._clock()
            if transition is Transition.CLEARED or record.state is AlarmState.NORMAL:
                self._latest.pop(record.key, None)  # left the list: nothing to escalate
                for pending in [k for k in self._escalations if k[0] == record.key]:
                    del self._escalations[pending]
            else:
                self._latest[record.key] = record
            for escalation in escalations_to_start(self.settings, record, transition, now):
                self._escalations.setdefault((escalation.key, escalation.rule), escalation)
            notice = Notice(record, transition, site=self._site)
            for delivery in deliveries(self.settings, record, transition, now, self._tz):
                self._enqueue(_Job(delivery, notice))
        except Exception:
            log.exception(
                "notifications of %s (%s) failed", getattr(record, "key", record), transition
            )

    async def start(self) -> None:
        if self._running or not self.settings.enabled:
            return
        self._running = True
        self._publish(FAILING_TAG, False)
        self._publish(LAST_ERROR_TAG, "")
        loop = asyncio.get_running_loop()
        for i in range(self.settings.max_concurrent_sends):
            self._tasks.append(loop.create_task(self._worker(), name=f"notify-send-{i}"))
        self._tasks.append(loop.create_task(self._escalation_timer(), name="notify-escalation"))
        log.info(
            "notifications on: %d rules, %d recipients",
            len(self.settings.rules),
            len(self.settings.recipients),
        )

    async def stop(self) -> None:
        """Let queued and running sends finish for up to ``stop_timeout_s``, then abandon
        what is left (logged, one line per message), retries included."""
        if not self._running:
            return
        self._running = False
        for handle, job in list(self._retries.items()):
            handle.cancel()
            log.warning("notification abandoned at stop (retry pending): %s", job.describe())
        self._retries.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), self._stop_timeout_s)
        for job in self._jobs.values():
            log.warning("notification abandoned at stop (sending): %s", job.describe())
        while not self._queue.empty():
            job = self._queue.get_nowait()
            self._queue.task_done()
            log.warning("notification abandoned at stop (queued): %s", job.describe())
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self._jobs.clear()

    # ------------------------------------------------------------------ escalation

    def check_escalations(self) -> int:
        """Queue the escalations due now (``clock()``); returns how many messages."""
        now = self._clock()
        check = due_escalations(self._escalations.values(), self._latest, now)
        for escalation in check.cancelled:
            self._escalations.pop((escalation.key, escalation.rule), None)
        count = 0
        for escalation, record in check.due:
            self._escalations.pop((escalation.key, escalation.rule), None)
            notice = Notice(
                record,
                Transition.ACTIVATED,
                escalated_after_min=escalation.after_min,
                site=self._site,
            )
            for delivery in escalation_deliveries(self.settings, escalation, record, now, self._tz):
                self._enqueue(_Job(delivery, notice))
                count += 1
            log.info("alarm %s escalated by rule %s", escalation.key, escalation.rule)
        return count

    @property
    def pending_escalations(self) -> list[PendingEscalation]:
        return sorted(self._escalations.values(), key=lambda e: e.due)

    async def _escalation_timer(self) -> None:
        while True:
            await asyncio.sleep(self.settings.escalation_check_s)
            try:
                self.check_escalations()
            except Exception:
                log.exception("escalation check failed")

    # ------------------------------------------------------------------ sending

    @property
    def backlog(self) -> int:
        """Messages waiting, waiting for a retry, or being sent."""
        return self._queue.qsize() + len(self._retries) + len(self._jobs)

    def _enqueue(self, job: _Job) -> None:
        if self._queue.qsize() >= self.settings.queue_limit:
            self.dropped += 1
            message = f"queue full ({self.settings.queue_limit}): dropped {job.describe()}"
            log.error("notification %s", message)
            self._publish_soon(LAST_ERROR_TAG, message)
            return
        self._queue.put_nowait(job)

    async def _worker(self) -> None:
        while True:
            job = await self._queue.get()
            self._jobs[id(job)] = job
            try:
                await self._attempt(job)
            finally:
                self._jobs.pop(id(job), None)
                self._queue.task_done()

    async def _attempt(self, job: _Job) -> None:
        job.attempts += 1
        try:
            await asyncio.to_thread(self._send_blocking, job, self._clock())
        except Exception as exc:  # any failure of one message is reported, never raised
            self._failed(job, exc)
        else:
            self.sent += 1
            log.info("notification sent: %s", job.describe())
            if self._failing:
                self._failing = False
                self._publish(FAILING_TAG, False)

    def _send_blocking(self, job: _Job, now: datetime) -> None:
        """Runs in a worker thread."""
        delivery, notice = job.delivery, job.notice
        if delivery.channel is NotificationChannel.EMAIL:
            smtp = self.settings.smtp
            message = build_email(
                notice, sender=smtp.sender, to=delivery.address, now=now, tz=self._tz
            )
            send_email(smtp, message, ssl_context=self._ssl_context)
        else:
            send_sms(self.settings.sms, delivery.address, sms_text(notice, self._tz))

    def _failed(self, job: _Job, exc: BaseException) -> None:
        self.failed_attempts += 1
        error = f"{job.describe()}: {type(exc).__name__}: {exc}"
        self._publish(LAST_ERROR_TAG, error)
        delays = self.settings.retry_delays_s
        if job.attempts <= len(delays) and self._running:
            delay = delays[job.attempts - 1]
            log.warning(
                "notification attempt %d failed, retry in %g s: %s", job.attempts, delay, error
            )
            loop = asyncio.get_running_loop()
            handle: asyncio.TimerHandle | None = None

            def retry() -> None:
                assert handle is not None
                self._retries.pop(handle, None)
                if self._running:
                    self._queue.put_nowait(job)

            handle = loop.call_later(delay, retry)
            self._retries[handle] = job
            return
        self.given_up += 1
        log.error("notification given up after %d attempts: %s", job.attempts, error)
        if not self._failing:
            self._failing = True
            self._publish(FAILING_TAG, True)

    # ------------------------------------------------------------------ bus

    def _publish(self, path: TagPath, value: object) -> None:
        self._bus.publish(path, Sample(value))

    def _publish_soon(self, path: TagPath, value: object) -> None:
        """Publish outside the caller's stack (``alarm_changed`` runs inside the alarm
        engine, which listens to the bus)."""
        try:
            asyncio.get_running_loop().call_soon(self._publish, path, value)
        except RuntimeError:  # no loop running (a test calling directly): publish now
            self._publish(path, value)
