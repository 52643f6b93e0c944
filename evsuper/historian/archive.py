"""The archive: domain events in, batched writes on a writer thread, durable transaction ids.

Inserts coming from events (status changes, meter samples, ...) are queued and written in
batches, one database transaction per batch. Calls that must be durable before the
charger is answered (``start_transaction``, ``stop_transaction``) travel through the same
queue, in order, and their futures resolve only after the batch holding them committed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy.exc
from sqlalchemy import Connection, Engine, Table, create_engine, event, insert, select, update
from sqlalchemy.engine import make_url

from evsuper.alarms.journal import journal_row
from evsuper.alarms.model import JournalEntry
from evsuper.core.bus import TagBus
from evsuper.core.domain import (
    Anomaly,
    ArchiveState,
    ChargerBooted,
    ChargerConnected,
    ChargerDisconnected,
    ChargerRestored,
    ConnectorStatusChanged,
    MaintenanceStatus,
    MeterReading,
    MeterValuesReceived,
    Reservation,
    ReservationState,
    Transaction,
)
from evsuper.core.tags import Sample, SystemTag, TagPath, system_tag
from evsuper.core.tariffs import Pricing
from evsuper.core.timeutil import utcnow
from evsuper.historian import schema
from evsuper.historian.aggregates import aggregate_chunk
from evsuper.historian.costs import stop_cost
from evsuper.historian.migrate import upgrade_to_head
from evsuper.historian.recording import ALWAYS_STORED_CONTEXTS, Recorder
from evsuper.historian.retention import cutoffs, prune_chunk
from evsuper.historian.spool import Spool, insert_rows
from evsuper.historian.tag_samples import tag_row, tag_value
from evsuper.historian.units import to_display
from evsuper.project.model import RecordingRule
from evsuper.users.audit import AuditEntry, audit_row

log = logging.getLogger(__name__)

BATCH_MAX = 5000  # jobs per database transaction
QUEUE_LIMIT = 100_000  # jobs in memory; beyond, rows wait in the spool file
REPLAY_SLICE = 20_000  # spooled rows written per writer round
RETRY_DELAY_S = 1.0
STATE_PUBLISH_PERIOD_S = 1.0
AGGREGATE_PERIOD_S = 60.0
# the database answered but refuses the row itself: retrying cannot help
REFUSED = (sqlalchemy.exc.DataError, sqlalchemy.exc.IntegrityError)
TAG_CLOCK_S = 1.0  # how often unchanged historised tags are checked against their interval
RETENTION_PERIOD_S = 3600.0
RETENTION_FIRST_S = 120.0
_OPEN_RESERVATION_STATES = [s.value for s in ReservationState if s.open]


@dataclass(slots=True)
class _Job:
    """Either a row for ``table`` or a function run in the batch's transaction."""

    table: Table | None = None
    row: dict[str, Any] | None = None
    fn: Callable[[Connection], Any] | None = None
    future: concurrent.futures.Future[Any] | None = field(default=None)


_STOP = _Job()


def create_archive_engine(url: str) -> Engine:
    """SQLAlchemy engine with the pragmas evsuper relies on (SQLite: WAL, full sync)."""
    engine = create_engine(url, pool_pre_ping=True)
    if make_url(url).get_backend_name() == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

    return engine


class Archive:
    def __init__(
        self,
        url: str,
        bus: TagBus,
        spool_file: Path | None = None,
        retention_days: Mapping[str, int] | None = None,
        pricing: Pricing | None = None,
        recording: Sequence[RecordingRule] = (),
        tags: Sequence[RecordingRule] = (),
    ) -> None:
        """``spool_file``: where rows wait while the database is unreachable (None: in
        memory only, lost if the process stops before the database is back).
        ``retention_days``: table → days its rows are kept (pruned every hour).
        ``pricing``: the tariffs that cost a transaction as it stops (None: no cost).
        ``recording``: deadband and maximum interval of meter samples per measurand;
        ``tags``: the historised tags (by path), with theirs.

        The writer keeps at most QUEUE_LIMIT jobs in memory: when the database cannot keep
        up, the excess rows go to the spool file and are written once the queue is short
        again (the published backlog counts both)."""
        self.url = url
        self.bus = bus
        self.engine = create_archive_engine(url)
        self._queue: queue.Queue[_Job] = queue.Queue()
        self._thread = threading.Thread(target=self._writer, name="evsuper-archive", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._state = ArchiveState.OK
        self._last_published = 0.0
        self.rows_written = 0
        self._spool = Spool(spool_file) if spool_file is not None else None
        # rows the database refuses, kept for a human (never replayed)
        self._rejected = Spool(spool_file.with_name("rejected.jsonl")) if spool_file else None
        self.rows_rejected = 0
        self.retention_days = dict(retention_days or {})
        self._recorder: Recorder[tuple[str, int, str, str | None]] = Recorder(recording)
        self._tag_recorder: Recorder[TagPath] = Recorder(tags)
        self._tag_values: dict[TagPath, Sample] = {}  # the latest of each historised tag
        self._unsubscribe_tags: Callable[[], None] | None = None
        self._tag_clock: asyncio.Task[None] | None = None
        self.pricing = pricing
        self._housekeeper: asyncio.Task[None] | None = None

    def describe(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    # ---- lifecycle (engine loop) ----

    async def start(self) -> None:
        """Migrate the schema to head, start the writer, listen to domain events."""
        self._loop = asyncio.get_running_loop()
        await asyncio.to_thread(self._migrate)
        if self._spool is not None and self._spool.pending:
            replayed = await asyncio.to_thread(self._spool.replay, self._write_rows)
            log.info("archive: %d rows spooled during an outage written", replayed)
        self._thread.start()
        self._unsubscribe = self.bus.subscribe_events(self._on_event)
        if self._tag_recorder.rules:
            self._unsubscribe_tags = self.bus.subscribe(self._on_tag)
            self._tag_clock = asyncio.create_task(self._store_unchanged_tags())
        self._publish_state(ArchiveState.OK, 0)
        self._housekeeper = asyncio.create_task(self._keep_house())

    async def stop(self) -> None:
        """Write everything queued, then stop the writer."""
        for unsubscribe in (self._unsubscribe, self._unsubscribe_tags):
            if unsubscribe is not None:
                unsubscribe()
        self._unsubscribe = self._unsubscribe_tags = None  # stop() may be called again
        for task in (self._housekeeper, self._tag_clock):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._housekeeper = self._tag_clock = None
        if self._thread.is_alive():
            self._queue.put(_STOP)
            await asyncio.to_thread(self._thread.join)
        self.engine.dispose()
        self.bus.publish(system_tag(SystemTag.ARCHIVE_STATE), Sample(ArchiveState.STOPPED))

    async def prune(self, now: datetime) -> int:
        """Delete the rows older than their table's retention, a chunk per writer batch so
        that fresh rows keep flowing; returns how many."""
        total = 0
        for table, before in cutoffs(self.retention_days, now).items():
            while deleted := await self.run_durable(
                functools.partial(prune_chunk, table=table, before=before)
            ):
                total += deleted
        if total:
            log.info("archive retention: %d old rows deleted", total)
        return total

    async def aggregate(self) -> int:
        """Fold the raw samples not yet aggregated into the 1-minute and 1-hour aggregates,
        a chunk per writer batch; returns how many samples."""
        total = 0
        while folded := await self.run_durable(aggregate_chunk):
            total += folded
        return total

    async def _keep_house(self) -> None:
        """Aggregates every minute; retention every hour, the first time two minutes after
        the start (not while everything starts up)."""
        next_prune = time.monotonic() + RETENTION_FIRST_S
        while True:
            await asyncio.sleep(AGGREGATE_PERIOD_S)
            try:
                await self.aggregate()
                if self.retention_days and time.monotonic() >= next_prune:
                    next_prune = time.monotonic() + RETENTION_PERIOD_S
                    await self.prune(utcnow())
            except Exception:  # an outage: the next round tries again
                log.warning("archive housekeeping skipped: the database is not available")

    @property
    def backlog(self) -> int:
        """Jobs waiting in memory plus rows waiting in the spool file."""
        return self._queue.qsize() + (self._spool.rows if self._spool is not None else 0)

    def _migrate(self) -> None:
        with self.engine.begin() as connection:
            upgrade_to_head(connection)

    # ---- durable calls (the TransactionStore protocol) ----

    async def start_transaction(
        self,
        charger_id: str,
        connector_id: int,
        id_tag: str,
        start_ts: datetime,
        meter_start_wh: int,
        reservation_id: int | None,
    ) -> Transaction:
        def run(connection: Connection) -> Transaction:
            result = connection.execute(
                insert(schema.transactions).values(
                    charger_id=charger_id,
                    connector_id=connector_id,
                    id_tag=id_tag,
                    start_ts=start_ts,
                    meter_start_wh=meter_start_wh,
                    reservation_id=reservation_id,
                )
            )
            transaction_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            if reservation_id is not None:
                r = schema.reservations
                connection.execute(
                    update(r)
                    .where(r.c.id == reservation_id, r.c.charger_id == charger_id)
                    .values(
                        state=ReservationState.USED.value,
                        transaction_id=transaction_id,
                        ended=start_ts,
                    )
                )
            return Transaction(
                id=transaction_id,
                charger_id=charger_id,
                connector_id=connector_id,
                id_tag=id_tag,
                start_ts=start_ts,
                meter_start_wh=meter_start_wh,
                reservation_id=reservation_id,
            )

        result: Transaction = await self.run_durable(run)
        return result

    async def stop_transaction(
        self,
        transaction_id: int,
        stop_ts: datetime,
        meter_stop_wh: int,
        reason: str | None,
        id_tag: str | None,
    ) -> Transaction | None:
        def run(connection: Connection) -> Transaction | None:
            t = schema.transactions
            row = connection.execute(select(t).where(t.c.id == transaction_id)).mappings().first()
            if row is None or row["stop_ts"] is not None:
                return None
            soc = self._soc_bounds(connection, transaction_id)
            values = {
                "stop_ts": stop_ts,
                "meter_stop_wh": meter_stop_wh,
                "energy_wh": meter_stop_wh - row["meter_start_wh"],
                "stop_reason": reason,
                "stop_id_tag": id_tag,
                "soc_start": soc[0],
                "soc_stop": soc[1],
            }
            if self.pricing is not None:
                values.update(stop_cost(connection, self.pricing, row, stop_ts, meter_stop_wh))
            connection.execute(update(t).where(t.c.id == transaction_id).values(**values))
            return _transaction({**row, **values})

        result: Transaction | None = await self.run_durable(run)
        return result

    def save_setting(self, charger_id: str, name: str, value: Any) -> None:
        """Keep an operator's setting for a charger (JSON), replacing the previous one."""
        document = json.dumps(value, sort_keys=True)
        updated = utcnow()

        def run(connection: Connection) -> None:
            s = schema.charger_settings
            key = (s.c.charger_id == charger_id) & (s.c.name == name)
            changed = connection.execute(
                update(s).where(key).values(value=document, updated=updated)
            )
            if changed.rowcount == 0:
                connection.execute(
                    insert(s).values(
                        charger_id=charger_id, name=name, value=document, updated=updated
                    )
                )

        self._queue.put(_Job(fn=run))

    async def settings(self, name: str) -> dict[str, Any]:
        """Every charger's setting ``name``, by charger id."""

        def run(connection: Connection) -> dict[str, Any]:
            s = schema.charger_settings
            rows = connection.execute(select(s.c.charger_id, s.c.value).where(s.c.name == name))
            return {charger_id: json.loads(value) for charger_id, value in rows}

        result: dict[str, Any] = await self.run_durable(run)
        return result

    async def open_transactions(self) -> list[Transaction]:
        def run(connection: Connection) -> list[Transaction]:
            t = schema.transactions
            rows = connection.execute(select(t).where(t.c.stop_ts.is_(None))).mappings()
            return [_transaction(row) for row in rows]

        result: list[Transaction] = await self.run_durable(run)
        return result

    async def create_reservation(
        self,
        charger_id: str,
        connector_id: int,
        id_tag: str,
        parent_id_tag: str | None,
        expiry: datetime,
    ) -> Reservation:
        created = utcnow()

        def run(connection: Connection) -> Reservation:
            result = connection.execute(
                insert(schema.reservations).values(
                    charger_id=charger_id,
                    connector_id=connector_id,
                    id_tag=id_tag,
                    parent_id_tag=parent_id_tag,
                    expiry=expiry,
                    created=created,
                    state=ReservationState.REQUESTED.value,
                )
            )
            return Reservation(
                id=int(result.inserted_primary_key[0]),  # type: ignore[index]
                charger_id=charger_id,
                connector_id=connector_id,
                id_tag=id_tag,
                parent_id_tag=parent_id_tag,
                expiry=expiry,
                created=created,
            )

        result: Reservation = await self.run_durable(run)
        return result

    async def set_reservation_state(self, reservation_id: int, state: ReservationState) -> bool:
        ended = None if state.open else utcnow()

        def run(connection: Connection) -> bool:
            r = schema.reservations
            changed = connection.execute(
                update(r)
                .where(r.c.id == reservation_id, r.c.state.in_(_OPEN_RESERVATION_STATES))
                .values(state=state.value, ended=ended)
            )
            return bool(changed.rowcount)

        result: bool = await self.run_durable(run)
        return result

    async def open_reservations(self) -> list[Reservation]:
        def run(connection: Connection) -> list[Reservation]:
            r = schema.reservations
            rows = connection.execute(
                select(r).where(r.c.state.in_(_OPEN_RESERVATION_STATES))
            ).mappings()
            return [Reservation(**{**row, "state": ReservationState(row["state"])}) for row in rows]

        result: list[Reservation] = await self.run_durable(run)
        return result

    async def run_durable(self, fn: Callable[[Connection], Any]) -> Any:
        """Run ``fn`` in the writer's next batch; returns its result once committed."""
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._queue.put(_Job(fn=fn, future=future))
        return await asyncio.wrap_future(future)

    @staticmethod
    def _soc_bounds(
        connection: Connection, transaction_id: int
    ) -> tuple[float | None, float | None]:
        m = schema.meter_samples
        query = select(m.c.value).where(
            m.c.transaction_id == transaction_id, m.c.measurand == "SoC"
        )
        first = connection.execute(query.order_by(m.c.ts, m.c.id).limit(1)).scalar()
        last = connection.execute(query.order_by(m.c.ts.desc(), m.c.id.desc()).limit(1)).scalar()
        return first, last

    # ---- events → rows (engine loop) ----

    def _on_event(self, ev: Any) -> None:
        match ev:
            case MeterValuesReceived():
                for r in ev.readings:
                    if not self._records(ev, r):
                        continue
                    self._put(
                        schema.meter_samples,
                        ts=r.ts,
                        charger_id=ev.charger_id,
                        connector_id=ev.connector_id,
                        transaction_id=ev.transaction_id,
                        measurand=r.measurand,
                        phase=r.phase,
                        unit=r.unit,
                        context=r.context,
                        location=r.location,
                        value=r.value,
                    )
            case ConnectorStatusChanged():
                self._put(
                    schema.connector_status,
                    ts=ev.ts,
                    charger_id=ev.charger_id,
                    connector_id=ev.connector_id,
                    status=ev.status.value,
                    error_code=ev.error_code,
                    info=ev.info,
                    vendor_id=ev.vendor_id,
                    vendor_error_code=ev.vendor_error_code,
                )
            case ChargerConnected():
                self._charger_event(ev.charger_id, ev.ts, "connected", f"{ev.remote} {ev.protocol}")
            case ChargerDisconnected():
                self._charger_event(ev.charger_id, ev.ts, "disconnected", ev.reason)
            case ChargerBooted():
                detail = f"{ev.vendor} {ev.model} fw {ev.firmware}: {ev.registration.value}"
                self._charger_event(ev.charger_id, ev.ts, "booted", detail)
                self._queue.put(_Job(fn=functools.partial(_upsert_charger, booted=ev)))
            case ChargerRestored():
                self._charger_event(ev.charger_id, ev.ts, "restored", f"{ev.what}: {ev.answer}")
            case MaintenanceStatus():
                self._charger_event(ev.charger_id, ev.ts, f"{ev.kind}-status", ev.status)
            case Anomaly():
                self._put(
                    schema.anomalies,
                    ts=ev.ts,
                    charger_id=ev.charger_id,
                    kind=ev.kind,
                    detail=ev.detail,
                )

    def _records(self, ev: MeterValuesReceived, r: MeterReading) -> bool:
        """Whether the recording rules keep this reading (no rule for it: kept, at no cost)."""
        if self._recorder.rule(r.measurand) is None:
            return True
        pen = (ev.charger_id, ev.connector_id, r.measurand, r.phase)
        value, _ = to_display(r.value, r.unit)
        always = r.context in ALWAYS_STORED_CONTEXTS
        return self._recorder.keep(pen, r.measurand, r.ts, value, always=always)

    def _on_tag(self, path: TagPath, sample: Sample) -> None:
        if self._tag_recorder.rule(path) is None:
            return
        previous = self._tag_values.get(path)
        self._tag_values[path] = sample
        value, text = tag_value(sample.value)
        quality_changed = previous is not None and previous.quality != sample.quality
        if self._tag_recorder.keep(
            path, path, sample.ts, text if value is None else value, always=quality_changed
        ):
            self._put(schema.tag_samples, **tag_row(path, sample.ts, sample))

    async def _store_unchanged_tags(self) -> None:
        """Tags publish on change only: an unchanged value is stored again, stamped now,
        once its maximum interval has passed."""
        while True:
            await asyncio.sleep(TAG_CLOCK_S)
            now = utcnow()
            for path in list(self._tag_recorder.due(now)):
                sample = self._tag_values[path]
                value, text = tag_value(sample.value)
                self._tag_recorder.keep(
                    path, path, now, text if value is None else value, always=True
                )
                self._put(schema.tag_samples, **tag_row(path, now, sample))

    def journal(self, entries: Iterable[JournalEntry]) -> None:
        """Append alarm transitions to the journal with the next batch (engine loop)."""
        for entry in entries:
            self._put(schema.alarm_journal, **journal_row(entry))

    def audit(self, entry: AuditEntry) -> None:
        """Append ``entry`` to the audit trail with the next batch (engine loop)."""
        self._put(schema.audit_log, **audit_row(entry))

    def _charger_event(self, charger_id: str, ts: datetime, kind: str, detail: str) -> None:
        self._put(schema.charger_events, ts=ts, charger_id=charger_id, kind=kind, detail=detail)

    def _put(self, table: Table, **row: Any) -> None:
        self._queue.put(_Job(table=table, row=row))

    # ---- writer thread ----

    def _writer(self) -> None:
        pending: list[_Job] = []
        stopping = False
        while True:
            if not pending:
                wait = RETRY_DELAY_S if self._spooled else None  # spooled: retry them
                with contextlib.suppress(queue.Empty):
                    pending.append(self._queue.get(timeout=wait))
            while len(pending) < BATCH_MAX:
                try:
                    pending.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if self._queue.qsize() > QUEUE_LIMIT:
                pending += self._spill()
            if _STOP in pending:
                stopping = True
                pending = [job for job in pending if job is not _STOP]
            try:
                if self._spooled and self._queue.qsize() < QUEUE_LIMIT // 2:
                    # a slice per round: the queue is looked at between slices
                    spool: Spool = self._spool  # type: ignore[assignment]
                    replayed = spool.replay(self._write_rows, limit=REPLAY_SLICE)
                    if not spool.pending:
                        log.info("archive: the spooled rows are written (%d last)", replayed)
                self._write_or_reject(pending)
            except Exception as exc:
                if self._state is not ArchiveState.ERROR:
                    log.exception("archive write failed; retrying every %.0f s", RETRY_DELAY_S)
                self._publish_state(ArchiveState.ERROR, len(pending) + self.backlog)
                pending = self._spool_rows(self._fail_durable(pending, exc))
                if stopping and not pending:
                    return
                time.sleep(RETRY_DELAY_S)
                continue
            for job in pending:
                if job.future is not None and not job.future.done():
                    job.future.set_result(job.row)
            self.rows_written += len(pending)
            pending = []
            backlog = self.backlog
            self._publish_state(
                ArchiveState.BACKLOG if backlog > BATCH_MAX else ArchiveState.OK, backlog
            )
            if stopping and self._queue.qsize() == 0:
                return

    def _spill(self) -> list[_Job]:
        """Move queued rows to the spool until the queue is half its limit; the calls
        taken from the queue meanwhile are returned, to be run with this batch."""
        if self._spool is None:
            return []
        rows: list[_Job] = []
        calls: list[_Job] = []
        with contextlib.suppress(queue.Empty):
            while self._queue.qsize() > QUEUE_LIMIT // 2:
                job = self._queue.get_nowait()
                (calls if job.fn is not None or job is _STOP else rows).append(job)
        kept = self._spool_rows(rows)
        if not kept:
            log.warning("archive writer behind: %d rows spooled to disk", len(rows))
        return kept + calls

    @property
    def _spooled(self) -> bool:
        return self._spool is not None and self._spool.pending

    def _spool_rows(self, jobs: list[_Job]) -> list[_Job]:
        """Plain rows go to the spool file; what cannot (no spool, disk full) stays."""
        if self._spool is None or not jobs:
            return jobs
        try:
            self._spool.append(
                (job.table, job.row) for job in jobs if job.table is not None and job.row
            )
        except OSError as exc:
            log.error("archive spool %s cannot be written: %s", self._spool.file, exc)
            return jobs
        return []

    def _write_rows(self, rows: list[tuple[Table, dict[str, Any]]]) -> None:
        self._write_or_reject([_Job(table=table, row=row) for table, row in rows])

    def _write_or_reject(self, jobs: list[_Job]) -> None:
        """``_write``; when the database refuses some row (a value it cannot store: a NUL
        in a text, a string too long), the batch is halved until the refused jobs are
        alone: their rows go to the rejected file, their callers get the error, the others
        are written. Errors of an unreachable database propagate."""
        try:
            self._write(jobs)
        except REFUSED as exc:
            if len(jobs) > 1:
                middle = len(jobs) // 2
                self._write_or_reject(jobs[:middle])
                self._write_or_reject(jobs[middle:])
            else:
                self._reject(jobs[0], exc)

    def _reject(self, job: _Job, exc: Exception) -> None:
        self.rows_rejected += 1
        if job.future is not None:
            job.future.set_exception(exc)
            return
        if job.table is None or job.row is None:
            return
        kept = self._rejected.file if self._rejected is not None else "nowhere"
        log.error(
            "archive refused a %s row (kept in %s): %s; row: %.300r",
            job.table.name,
            kept,
            exc,
            job.row,
        )
        if self._rejected is not None:
            with contextlib.suppress(OSError):
                self._rejected.append([(job.table, job.row)])

    def _write(self, jobs: list[_Job]) -> None:
        """One database transaction: consecutive rows of a table go as one executemany."""
        with self.engine.begin() as connection:
            rows: list[tuple[Table, dict[str, Any]]] = []
            for job in jobs:
                if job.table is not None and job.row is not None:
                    rows.append((job.table, job.row))
                    continue
                insert_rows(connection, rows)
                rows = []
                if job.fn is not None:
                    # keep the result on the job; futures resolve only after the commit
                    job.row = job.fn(connection)
            insert_rows(connection, rows)

    @staticmethod
    def _fail_durable(jobs: list[_Job], exc: Exception) -> list[_Job]:
        """Callers waiting on a durable write get the error now; plain rows are retried."""
        kept = []
        for job in jobs:
            if job.future is not None:
                job.future.set_exception(exc)
            elif job.fn is None:
                kept.append(job)
        return kept

    def _publish_state(self, state: ArchiveState, backlog: int) -> None:
        now = time.monotonic()
        if state == self._state and now - self._last_published < STATE_PUBLISH_PERIOD_S:
            return
        self._state = state
        self._last_published = now
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        def publish() -> None:
            self.bus.publish(system_tag(SystemTag.ARCHIVE_STATE), Sample(state))
            self.bus.publish(system_tag(SystemTag.ARCHIVE_BACKLOG), Sample(backlog))

        with contextlib.suppress(RuntimeError):  # the loop closed while we were writing
            loop.call_soon_threadsafe(publish)


def _upsert_charger(connection: Connection, booted: ChargerBooted) -> None:
    ev = booted
    c = schema.chargers
    values = {
        "vendor": ev.vendor,
        "model": ev.model,
        "serial": ev.serial,
        "firmware": ev.firmware,
        "registration": ev.registration.value,
        "last_boot": ev.ts,
    }
    updated = connection.execute(update(c).where(c.c.id == ev.charger_id).values(**values))
    if updated.rowcount == 0:
        connection.execute(insert(c).values(id=ev.charger_id, first_seen=ev.ts, **values))


def _transaction(row: Any) -> Transaction:
    return Transaction(
        id=int(row["id"]),
        charger_id=row["charger_id"],
        connector_id=row["connector_id"],
        id_tag=row["id_tag"],
        start_ts=row["start_ts"],
        meter_start_wh=row["meter_start_wh"],
        reservation_id=row["reservation_id"],
        stop_ts=row["stop_ts"],
        meter_stop_wh=row["meter_stop_wh"],
        stop_reason=row["stop_reason"],
        stop_id_tag=row["stop_id_tag"],
        soc_start=row["soc_start"],
        soc_stop=row["soc_stop"],
    )
