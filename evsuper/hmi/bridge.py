"""EngineBridge: the only seam between the engine thread and the Qt GUI thread.

Tags: a bus listener on the engine thread only stores ``(path, sample)`` in a
lock-protected dict (last value wins); a GUI timer swaps that dict out at most ten
times a second and emits it as one coalesced batch.

Commands: submitted to the engine loop; the result comes back through a queued
signal, so callbacks always run on the GUI thread, never on the engine thread.

Reads (``fetch``): a short function of the engine (a charger's frame log, its installed
profiles) runs on the engine thread; its value comes back the same way.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal

from evsuper.core.tags import Sample, TagPath
from evsuper.engine.commands import Command, CommandResult, Outcome
from evsuper.project.model import Project

if TYPE_CHECKING:
    from evsuper.engine.runtime import Engine, EngineThread

log = logging.getLogger(__name__)

ResultCallback = Callable[[CommandResult], None]
# What views need to send a command: ``send(command, callback)``; the callback gets the
# result on the GUI thread. ``EngineBridge.execute`` is one; tests pass a recorder.
CommandSender = Callable[[Command, ResultCallback], None]

T = TypeVar("T")
ReadFailed = Callable[[str], None]


class EngineReader(Protocol):
    """What views need to read engine state: ``read(query, callback, failed)``.

    ``query(engine)`` runs on the engine thread and must be quick and side-effect free;
    ``callback(value)`` — or ``failed(reason)`` — is later called on the GUI thread.
    ``EngineBridge.fetch`` is one; tests pass a fake.
    """

    def __call__(
        self,
        query: Callable[[Engine], T],
        callback: Callable[[T], None],
        failed: ReadFailed | None = None,
    ) -> None: ...


FLUSH_INTERVAL_MS = 100  # ≤ 10 batches a second


class EngineBridge(QObject):
    tagsChanged = Signal(object)  # dict[TagPath, Sample], coalesced since the last batch
    _resultReady = Signal(object, object)  # (request id, CommandResult), engine → GUI
    _readDone = Signal(object)  # a function delivering a read's value, engine → GUI

    def __init__(self, engine_thread: EngineThread, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._engine_thread = engine_thread
        self._lock = threading.Lock()
        self._pending: dict[TagPath, Sample] = {}
        self._values: dict[TagPath, Sample] = {}
        self._callbacks: dict[int, ResultCallback] = {}
        self._request_ids = itertools.count(1)
        self._closed = False
        self._resultReady.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._readDone.connect(self._deliver_read, Qt.ConnectionType.QueuedConnection)

        bus = engine_thread.engine.bus

        def attach() -> tuple[Callable[[], None], dict[TagPath, Sample]]:
            # On the engine thread: snapshot and subscription with nothing in between.
            snapshot = bus.snapshot()
            with self._lock:
                self._pending.update(snapshot)
            return bus.subscribe(self._on_tag), snapshot

        self._unsubscribe, snapshot = engine_thread.call(attach)
        self._values.update(snapshot)

        self._timer = QTimer(self)
        self._timer.setInterval(FLUSH_INTERVAL_MS)
        self._timer.timeout.connect(self._flush)
        self._timer.start()

    @property
    def project(self) -> Project:
        return self._engine_thread.engine.project

    def value(self, path: TagPath, default: Any = None) -> Any:
        """Last value the GUI knows for ``path``: the start snapshot, then each batch."""
        sample = self._values.get(path)
        return default if sample is None else sample.value

    def execute(self, command: Command, callback: ResultCallback) -> None:
        """Run ``command`` on the engine; ``callback(result)`` is later called on this thread."""
        request_id = next(self._request_ids)
        self._callbacks[request_id] = callback
        coro = self._engine_thread.engine.router.execute(command)
        try:
            future = self._engine_thread.submit(coro)
        except RuntimeError as exc:  # the engine loop is closed
            coro.close()
            result = CommandResult(Outcome.ERROR, "EngineStopped", str(exc))
            QTimer.singleShot(0, self, lambda: self._deliver(request_id, result))
            return
        future.add_done_callback(lambda f: self._on_done(request_id, f))

    def fetch(
        self,
        query: Callable[[Engine], T],
        callback: Callable[[T], None],
        failed: ReadFailed | None = None,
    ) -> None:
        """Run ``query(engine)`` on the engine thread; ``callback(value)`` later runs here.

        Never blocks: an exception of the query (or a stopped engine) is logged and given
        to ``failed`` as text, when there is one.
        """
        engine = self._engine_thread.engine

        async def run() -> T:
            return query(engine)

        def fail(reason: str) -> Callable[[], None]:
            log.warning("bridge: engine read failed: %s", reason)
            return (lambda: failed(reason)) if failed is not None else (lambda: None)

        def done(future: concurrent.futures.Future[T]) -> None:  # on the engine thread
            if future.cancelled():
                deliver = fail("the engine stopped first")
            elif (exc := future.exception()) is not None:
                deliver = fail(f"{type(exc).__name__}: {exc}")
            else:
                value = future.result()
                deliver = lambda: callback(value)  # noqa: E731
            if not self._closed:
                self._readDone.emit(_unless_gone(deliver, callback))

        coro = run()
        try:
            future = self._engine_thread.submit(coro)
        except RuntimeError as exc:  # the engine loop is closed
            coro.close()
            QTimer.singleShot(0, self, _unless_gone(fail(str(exc)), callback))
            return
        future.add_done_callback(done)

    def close(self) -> None:
        """Stop the batches, leave the bus and forget pending callbacks; idempotent."""
        if self._closed:
            return
        self._closed = True
        self._timer.stop()
        self._callbacks.clear()
        unsubscribe = self._unsubscribe

        async def detach() -> None:
            unsubscribe()

        coro = detach()
        try:
            self._engine_thread.submit(coro).result(2.0)
        except RuntimeError:  # the engine loop is already closed: nothing to leave
            coro.close()
        except TimeoutError:
            log.warning("bridge: the engine did not answer the unsubscribe in time")

    # ---- engine thread

    def _on_tag(self, path: TagPath, sample: Sample) -> None:
        with self._lock:
            self._pending[path] = sample

    def _on_done(self, request_id: int, future: concurrent.futures.Future[CommandResult]) -> None:
        if future.cancelled():
            result = CommandResult(Outcome.ERROR, "Cancelled", "the engine stopped first")
        elif (exc := future.exception()) is not None:
            result = CommandResult(Outcome.ERROR, "InternalError", str(exc))
        else:
            result = future.result()
        if not self._closed:
            self._resultReady.emit(request_id, result)

    # ---- GUI thread

    def _flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, {}
        if batch:
            self._values.update(batch)
            self.tagsChanged.emit(batch)

    def _deliver(self, request_id: int, result: CommandResult) -> None:
        callback = self._callbacks.pop(request_id, None)
        if callback is not None:
            callback(result)

    def _deliver_read(self, deliver: Callable[[], None]) -> None:
        if not self._closed:
            deliver()


def _unless_gone(deliver: Callable[[], None], callback: Callable[..., None]) -> Callable[[], None]:
    """``deliver``, skipped if the widget whose method ``callback`` is was deleted meanwhile
    (a window closed while its read was on the way)."""
    owner = getattr(callback, "__self__", None)
    if not isinstance(owner, QObject):
        return deliver
    return lambda: deliver() if shiboken6.isValid(owner) else None
