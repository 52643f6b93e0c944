"""The alarm engine: conditions from the tag bus and domain events, debounced, through the
ISA-18.2 state machine, into the journal, the bus (for the HMI) and the notifier.

Runs on the engine loop. Process transitions are journaled through the archive's batches;
an operator's acknowledgement, shelving or reset is committed to the journal before the
command's result comes back and before the HMI sees the new state (durable before shown).

Suppression by design: every alarm of a charger whose communication-lost alarm stands,
or which is out of service (its connector 0 Unavailable), is suppressed, except the
communication-lost alarm itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from evsuper.alarms import state as sm
from evsuper.alarms.defaults import project_definitions
from evsuper.alarms.journal import write_entries
from evsuper.alarms.model import (
    ALARM_PREFIX,
    SUMMARY_TAG,
    AlarmDefinition,
    AlarmRecord,
    AlarmState,
    AlarmSummary,
    ChargerAlarm,
    ConditionKind,
    JournalEntry,
    Priority,
    Transition,
)
from evsuper.alarms.notify import FAILING_TAG, LAST_ERROR_TAG
from evsuper.core.bus import TagBus
from evsuper.core.domain import (
    Anomaly,
    ArchiveState,
    CommState,
    ConnectorStatus,
    MeterValuesReceived,
    RegistrationStatus,
)
from evsuper.core.tags import ChargerTag, Sample, SystemTag, charger_tag, split_tag, system_tag
from evsuper.core.timeutil import utcnow
from evsuper.engine import commands as cmd
from evsuper.project.model import Project

log = logging.getLogger(__name__)

C = ConditionKind
TICK_S = 1.0  # shelve expiry, chattering, stale meters
DISK_CHECK_S = 60.0
FLUSH_DELAY_S = 0.2  # summaries are recomputed at most this often
DISK_FREE_TAG = system_tag("disk/free_percent")
FIRMWARE_FAILURES = frozenset({"DownloadFailed", "InstallationFailed", "InvalidSignature"})
DIAGNOSTICS_FAILURES = frozenset({"UploadFailed"})
TRANSACTION_ANOMALIES = frozenset(
    {"stop-unknown-transaction", "transaction-overlap", "reservation-not-open", "negative-energy"}
)
_REFUSED = (RegistrationStatus.REJECTED, RegistrationStatus.PENDING)


class Journal(Protocol):
    """What the engine needs of the archive."""

    def journal(self, entries: Iterable[JournalEntry]) -> None: ...

    async def run_durable(self, fn: Callable[[Any], Any]) -> Any: ...


class AlarmListener(Protocol):
    """The notifier (evsuper.alarms.notify): told of every transition, never blocks."""

    def alarm_changed(self, record: AlarmRecord, transition: Transition) -> None: ...


class _Fields(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


class AlarmEngine:
    def __init__(
        self,
        project: Project,
        bus: TagBus,
        archive: Journal,
        listener: AlarmListener | None = None,
    ) -> None:
        self.project = project
        self.bus = bus
        self.archive = archive
        self.listener = listener
        self.definitions = project_definitions(project.alarms)
        self._by_condition: dict[ConditionKind, list[AlarmDefinition]] = defaultdict(list)
        for definition in self.definitions:
            self._by_condition[definition.condition].append(definition)
        self._max_power = {c.id: c.max_power_kw for c in project.chargers}
        self.records: dict[str, AlarmRecord] = {}
        self._charger_keys: dict[str, set[str]] = defaultdict(set)
        self._pending: dict[str, asyncio.TimerHandle] = {}  # on/off delays running
        self._unavailable: set[str] = set()  # chargers out of service (connector 0)
        self._faults: dict[tuple[str, int], str] = {}  # connector → its standing fault source
        self._changed_status: set[tuple[str, int]] = set()  # waiting for _evaluate_statuses
        self._charging_since_meter: dict[tuple[str, int], float] = {}  # last meter (loop time)
        self._stale: set[tuple[str, int]] = set()  # connectors found without meter values
        self._dirty_chargers: set[str] = set()
        self._flush_handle: asyncio.TimerHandle | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._unsubscribe: list[Callable[[], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    # ---- lifecycle

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        for path, sample in self.bus.snapshot().items():
            self._on_tag(path, sample)
        self._unsubscribe = [
            self.bus.subscribe(self._on_tag),
            self.bus.subscribe_events(self._on_event),
        ]
        self._tasks = [asyncio.create_task(self._tick()), asyncio.create_task(self._watch_disk())]
        self._schedule_flush()

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for handle in self._pending.values():
            handle.cancel()
        self._pending.clear()
        if self._flush_handle is not None:
            self._flush_handle.cancel()

    # ---- conditions from tags

    def _on_tag(self, path: str, sample: Sample) -> None:
        if path.startswith(ALARM_PREFIX) or path == SUMMARY_TAG:
            return
        value = sample.value
        head, connector_id, name = split_tag(path)
        if path.startswith("_system/"):
            self._on_system_tag(path, value)
        elif connector_id is None:
            self._on_charger_tag(head, name, value)
        else:
            self._on_connector_tag(head, connector_id, name, value)
        self._check_limits(path, name, value)

    def _on_charger_tag(self, charger_id: str, name: str, value: Any) -> None:
        if name == ChargerTag.COMM:
            self._set(C.COMM_LOST, charger_id, charger_id, value is CommState.OFFLINE)
        elif name == ChargerTag.REGISTRATION:
            self._set(C.REGISTRATION_REFUSED, charger_id, charger_id, value in _REFUSED, value)
        elif name == ChargerTag.FIRMWARE_STATUS:
            failed = value in FIRMWARE_FAILURES
            self._set(C.FIRMWARE_FAILED, charger_id, charger_id, failed, value)
        elif name == ChargerTag.DIAGNOSTICS_STATUS:
            failed = value in DIAGNOSTICS_FAILURES
            self._set(C.DIAGNOSTICS_FAILED, charger_id, charger_id, failed, value)
        elif name == ChargerTag.STATUS:
            unavailable = value is ConnectorStatus.UNAVAILABLE
            if unavailable != (charger_id in self._unavailable):
                if unavailable:
                    self._unavailable.add(charger_id)
                else:
                    self._unavailable.discard(charger_id)
                self._resuppress(charger_id)
            self._status_changed(charger_id, 0)
        elif name == ChargerTag.ERROR_CODE:
            self._status_changed(charger_id, 0)

    def _on_connector_tag(self, charger_id: str, n: int, name: str, value: Any) -> None:
        if name in ("status", "error_code", "error_info"):
            self._status_changed(charger_id, n)
            if name == "status":
                self._track_charging(charger_id, n, value)
        elif name == "power_kw" and isinstance(value, int | float):
            maximum = self._max_power.get(charger_id)
            for d in self._by_condition[C.CONNECTOR_POWER_HIGH]:
                limit = d.limit if d.limit is not None else maximum
                if limit is not None:
                    self._compare(d, f"{charger_id}/C{n}", charger_id, value, limit, high=True)

    def _status_changed(self, charger_id: str, n: int) -> None:
        """Status, errorCode and info of a StatusNotification arrive as separate tags:
        look at them together once the driver published them all."""
        if not self._changed_status and self._loop is not None:
            self._loop.call_soon(self._evaluate_statuses)
        self._changed_status.add((charger_id, n))
        if self._loop is None:
            self._evaluate_statuses()

    def _evaluate_statuses(self) -> None:
        changed, self._changed_status = self._changed_status, set()
        for charger_id, n in changed:
            self._on_status(charger_id, n)

    def _on_status(self, charger_id: str, n: int) -> None:
        """One fault alarm per connector and errorCode; a new code clears the previous one."""
        prefix = f"{charger_id}/C{n}" if n else charger_id
        status = self.bus.value(f"{prefix}/status")
        error_code = self.bus.value(f"{prefix}/error_code") or "Fault"
        source = f"{charger_id}/C{n}/{error_code}" if status is ConnectorStatus.FAULTED else None
        previous = self._faults.get((charger_id, n))
        if previous is not None and previous != source:
            self._set(C.CONNECTOR_FAULTED, previous, charger_id, False)
            del self._faults[(charger_id, n)]
        if source is not None:
            self._faults[(charger_id, n)] = source
            info = self.bus.value(f"{prefix}/error_info") if n else None
            detail = error_code + (f" ({info})" if info else "")
            self._set(C.CONNECTOR_FAULTED, source, charger_id, True, error_code, detail, n)

    def _on_system_tag(self, path: str, value: Any) -> None:
        if path == system_tag(SystemTag.ARCHIVE_STATE):
            self._set(C.ARCHIVE_UNREACHABLE, "_system", None, value is ArchiveState.ERROR)
            backlog = self.bus.value(system_tag(SystemTag.ARCHIVE_BACKLOG), "")
            self._set(
                C.ARCHIVE_BACKLOG, "_system", None, value is ArchiveState.BACKLOG, str(backlog)
            )
        elif path == DISK_FREE_TAG and isinstance(value, float):
            for d in self._by_condition[C.DISK_NEARLY_FULL]:
                if d.limit is not None:
                    self._compare(d, "_system", None, value, d.limit, high=False)
        elif path == FAILING_TAG:
            detail = str(self.bus.value(LAST_ERROR_TAG, ""))
            self._set(C.NOTIFICATION_FAILED, "_system", None, value is True, detail=detail)
        elif path == system_tag(SystemTag.REPORTS_FAILING):
            detail = str(self.bus.value(system_tag(SystemTag.REPORTS_LAST_ERROR), ""))
            self._set(C.REPORT_FAILED, "_system", None, value is True, detail=detail)

    def _check_limits(self, path: str, name: str, value: Any) -> None:
        """Limit alarms on any numeric tag: ``tag`` is a full path or a tag name."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return
        for kind, high in ((C.LIMIT_HIGH, True), (C.LIMIT_LOW, False)):
            for d in self._by_condition[kind]:
                if d.limit is not None and d.tag in (path, name):
                    charger_id = None if path.startswith("_system/") else split_tag(path)[0]
                    self._compare(d, path, charger_id, value, d.limit, high=high)

    def _compare(
        self,
        d: AlarmDefinition,
        source: str,
        charger_id: str | None,
        value: float,
        limit: float,
        *,
        high: bool,
    ) -> None:
        """Beyond ``limit`` activates; back inside by ``deadband`` clears."""
        record = self.records.get(f"{d.id}:{source}")
        active = record is not None and record.active
        beyond = value > limit if high else value < limit
        inside = value <= limit - d.deadband if high else value >= limit + d.deadband
        if beyond or (active and not inside):
            self._condition(d, source, charger_id, True, f"{value:g}", limit=limit)
        else:
            self._condition(d, source, charger_id, False, f"{value:g}", limit=limit)

    # ---- conditions from events

    def _on_event(self, event: Any) -> None:
        match event:
            case Anomaly(kind=kind) if kind.startswith("security-"):
                self._momentary(C.SECURITY_EVENT, event.charger_id, f"{kind}: {event.detail}")
            case Anomaly(kind=kind) if kind in TRANSACTION_ANOMALIES:
                self._momentary(C.TRANSACTION_ANOMALY, event.charger_id, event.detail)
            case MeterValuesReceived():
                key = (event.charger_id, event.connector_id)
                if key in self._charging_since_meter:
                    self._charging_since_meter[key] = self._now_loop()
                    self._fresh(key)

    def _momentary(self, kind: ConditionKind, charger_id: str, detail: str) -> None:
        """An event, not a state: active and returned at once, left to acknowledge."""
        self._set(kind, charger_id, charger_id, True, detail=detail, debounce=False)
        self._set(kind, charger_id, charger_id, False, debounce=False)

    def _track_charging(self, charger_id: str, n: int, status: Any) -> None:
        key = (charger_id, n)
        if status is ConnectorStatus.CHARGING:
            self._charging_since_meter.setdefault(key, self._now_loop())
        elif self._charging_since_meter.pop(key, None) is not None:
            self._fresh(key)

    def _fresh(self, key: tuple[str, int]) -> None:
        """Meter values again (or no session): a stale-meter alarm, if any, clears. Only
        connectors found stale are looked at: this runs for every MeterValues."""
        if key in self._stale:
            self._stale.discard(key)
            self._set(C.METER_STALE, f"{key[0]}/C{key[1]}", key[0], False)

    # ---- debouncing and the state machine

    def _set(
        self,
        kind: ConditionKind,
        source: str,
        charger_id: str | None,
        active: bool,
        value: Any = "",
        detail: str = "",
        connector: int | None = None,
        *,
        debounce: bool = True,
    ) -> None:
        for d in self._by_condition[kind]:
            self._condition(
                d, source, charger_id, active, str(value), detail, connector, debounce=debounce
            )

    def _condition(
        self,
        d: AlarmDefinition,
        source: str,
        charger_id: str | None,
        active: bool,
        value: str = "",
        detail: str = "",
        connector: int | None = None,
        *,
        limit: float | None = None,
        debounce: bool = True,
    ) -> None:
        key = f"{d.id}:{source}"
        pending = self._pending.pop(key, None)
        if pending is not None:
            pending.cancel()
        record = self.records.get(key)
        if (record is not None and record.active) == active:
            return
        fields = _Fields(
            source=source,
            charger=charger_id or "",
            connector=str(connector if connector is not None else _connector_of(source)),
            value=value,
            detail=detail,
            limit=f"{limit if limit is not None else d.limit:g}" if (limit or d.limit) else "",
        )
        message = d.message.format_map(fields)

        def apply() -> None:
            self._pending.pop(key, None)
            current = self.records.get(key) or sm.new_record(d, source, charger_id, message)
            now = utcnow()
            if active:
                changed, transitions = sm.activate(current, now, value, message)
            else:
                changed, transitions = sm.clear(current, now, value)
            self._commit(changed, transitions)

        delay = (d.on_delay_s if active else d.off_delay_s) if debounce else 0.0
        if delay > 0 and self._loop is not None:
            self._pending[key] = self._loop.call_later(delay, apply)
        else:
            apply()

    def _commit(
        self,
        record: AlarmRecord,
        transitions: list[Transition],
        *,
        user: str = "",
        journaled: bool = False,
    ) -> None:
        """Store, mask, journal (unless already), notify and publish one changed alarm."""
        now = record.changed or utcnow()
        record, masked = self._mask(record, now)
        transitions = transitions + masked
        previous = self.records.get(record.key)
        self.records[record.key] = record
        if record.charger_id is not None:
            self._charger_keys[record.charger_id].add(record.key)
            self._dirty_chargers.add(record.charger_id)
        if transitions:
            entries = [_entry(record, t, user, now) for t in transitions]
            if not journaled:
                self.archive.journal(entries)
            elif masked:
                self.archive.journal(entries[-len(masked) :])
            if self.listener is not None:
                for transition in transitions:
                    self.listener.alarm_changed(record, transition)
        if previous is None or previous != record:
            shown = None if sm.leaves_list(record) else record
            self.bus.publish(ALARM_PREFIX + record.key, Sample(shown))
        comm_changed = (previous is not None and previous.active) != record.active
        if record.definition_id == "comm-lost" and record.charger_id is not None and comm_changed:
            self._resuppress(record.charger_id)
        self._schedule_flush()

    def _suppression(self, record: AlarmRecord) -> str:
        charger_id = record.charger_id
        if charger_id is None or record.definition_id == "comm-lost":
            return ""
        comm = self.records.get(f"comm-lost:{charger_id}")
        if comm is not None and comm.active:
            return comm.key
        return f"out-of-service:{charger_id}" if charger_id in self._unavailable else ""

    def _mask(self, record: AlarmRecord, now: Any) -> sm.Change:
        reason = self._suppression(record)
        if reason:
            return sm.suppress(record, now, reason)
        return sm.unsuppress(record, now)

    def _resuppress(self, charger_id: str) -> None:
        now = utcnow()
        for key in list(self._charger_keys.get(charger_id, ())):
            record = self.records[key]
            changed, transitions = self._mask(record, now)
            if transitions:
                self._commit(changed, [])

    # ---- operator commands (through the command router)

    def accepts(self, command: cmd.Command) -> bool:
        return isinstance(command, cmd.AlarmCommand)

    async def execute(self, command: cmd.Command) -> cmd.CommandResult:
        assert isinstance(command, cmd.AlarmCommand)
        if isinstance(command, cmd.ShelveAlarms) and not command.comment.strip():
            return cmd.CommandResult(
                cmd.Outcome.ERROR, "InvalidRequest", "a reason is required to shelve"
            )
        unknown = [k for k in command.alarm_keys if k not in self.records]
        if unknown:
            return cmd.CommandResult(
                cmd.Outcome.ERROR, "UnknownAlarm", f"no alarm {', '.join(unknown[:3])}"
            )
        now = utcnow()
        user = command.actor.user
        changes = self._operate(command, now)
        if not changes:
            return cmd.CommandResult(
                cmd.Outcome.REJECTED, "NothingToDo", "no alarm is in a state this applies to"
            )
        entries = [_entry(r, t, user, now) for r, ts in changes for t in ts]
        await self.archive.run_durable(lambda connection: write_entries(connection, entries))
        for record, transitions in self._operate(command, now):  # as they stand now
            self._commit(record, transitions, user=user, journaled=True)
        count = len(changes)
        return cmd.CommandResult(
            cmd.Outcome.ACCEPTED, "Accepted", f"{count} alarm{'s' if count > 1 else ''}"
        )

    def _operate(self, command: cmd.AlarmCommand, now: Any) -> list[sm.Change]:
        user, comment = command.actor.user, command.comment
        changes = []
        for key in command.alarm_keys:
            record = self.records.get(key)
            if record is None:
                continue
            match command:
                case cmd.AcknowledgeAlarms():
                    change = sm.acknowledge(record, now, user, comment)
                case cmd.ResetAlarms():
                    change = sm.reset(record, now, user, comment)
                case cmd.ShelveAlarms(duration_s=duration):
                    until = None if duration is None else now + timedelta(seconds=duration)
                    change = sm.shelve(record, now, user, comment, until)
                case cmd.UnshelveAlarms():
                    change = sm.unshelve(record, now, user)
                case cmd.SetAlarmsInService(in_service=in_service):
                    change = sm.set_in_service(record, now, in_service, user, comment)
                case _:
                    raise TypeError(f"not an alarm command: {command!r}")
            if change[1]:
                changes.append(change)
        return changes

    # ---- periodic work

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            now = utcnow()
            for record in list(self.records.values()):
                if sm.shelve_expired(record, now):
                    self._commit(*sm.unshelve(record, now))
                elif record.recent_activations:
                    calmer = sm.update_chattering(record, now)
                    if calmer != record:
                        self._commit(calmer, [])
            self._check_stale_meters()

    def _check_stale_meters(self) -> None:
        clock = self._now_loop()
        for (charger_id, n), last in self._charging_since_meter.items():
            for d in self._by_condition[C.METER_STALE]:
                if d.limit is not None and clock - last > d.limit:
                    self._stale.add((charger_id, n))
                    source = f"{charger_id}/C{n}"
                    self._condition(d, source, charger_id, True, connector=n, limit=d.limit)

    async def _watch_disk(self) -> None:
        folder = Path(self.project.directory)
        while True:
            try:
                usage = await asyncio.to_thread(shutil.disk_usage, folder)
                self.bus.publish(DISK_FREE_TAG, Sample(round(100.0 * usage.free / usage.total, 1)))
            except OSError as exc:
                log.warning("cannot read the free space of %s: %s", folder, exc)
            await asyncio.sleep(DISK_CHECK_S)

    def _now_loop(self) -> float:
        return self._loop.time() if self._loop is not None else 0.0

    # ---- summaries for the HMI

    def _schedule_flush(self) -> None:
        if self._flush_handle is None and self._loop is not None:
            self._flush_handle = self._loop.call_later(FLUSH_DELAY_S, self._flush)

    def _flush(self) -> None:
        self._flush_handle = None
        active = dict.fromkeys(Priority, 0)
        unacknowledged = dict.fromkeys(Priority, 0)
        masked = dict.fromkeys(_MASKS, 0)
        standing: dict[str, list[AlarmRecord]] = defaultdict(list)
        for record in self.records.values():
            state = record.state
            if state.in_list:
                active[record.priority] += 1
                if state.unacknowledged:
                    unacknowledged[record.priority] += 1
                if record.charger_id in self._dirty_chargers:
                    standing[record.charger_id].append(record)
            elif state in masked:
                masked[state] += 1
        summary = AlarmSummary(
            active=active,
            unacknowledged=unacknowledged,
            shelved=masked[AlarmState.SHELVED],
            suppressed=masked[AlarmState.SUPPRESSED],
            out_of_service=masked[AlarmState.OUT_OF_SERVICE],
        )
        self.bus.publish(SUMMARY_TAG, Sample(summary))
        for charger_id in self._dirty_chargers:
            records = standing.get(charger_id)
            alarm = None
            if records:
                alarm = ChargerAlarm(
                    priority=min(r.priority for r in records),
                    unacknowledged=any(r.state.unacknowledged for r in records),
                    count=len(records),
                )
            self.bus.publish(charger_tag(charger_id, ChargerTag.ALARM), Sample(alarm))
        self._dirty_chargers.clear()


_MASKS = (AlarmState.SHELVED, AlarmState.SUPPRESSED, AlarmState.OUT_OF_SERVICE)


def _connector_of(source: str) -> str:
    parts = source.split("/")
    return parts[1][1:] if len(parts) > 1 and parts[1].startswith("C") else ""


def _entry(record: AlarmRecord, transition: Transition, user: str, now: Any) -> JournalEntry:
    return JournalEntry(
        ts=now,
        key=record.key,
        definition_id=record.definition_id,
        source=record.source,
        charger_id=record.charger_id,
        priority=record.priority,
        category=record.category,
        transition=transition,
        state=record.state,
        value=record.value,
        user=user,
        comment=record.comment if user else "",
        message=record.message,
    )
