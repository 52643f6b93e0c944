"""Blocking work (password checks, archive queries, audit writes) off the GUI thread.

``Worker.run(work, then)`` runs ``work()`` on the worker's own thread and calls
``then(result)`` back on the GUI thread, or ``failed(exception)`` when ``work`` raised.
One thread per worker: its jobs run in order.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

log = logging.getLogger(__name__)


class Worker(QObject):
    _done = Signal(object, object)  # (callback, argument), worker thread → GUI thread

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=name)
        self._done.connect(lambda then, value: then(value), Qt.ConnectionType.QueuedConnection)

    def run(
        self,
        work: Callable[[], Any],
        then: Callable[[Any], None],
        failed: Callable[[Exception], None],
    ) -> None:
        def finished(future: concurrent.futures.Future[Any]) -> None:
            try:
                self._done.emit(then, future.result())
            except Exception as exc:
                log.exception("background work failed")
                self._done.emit(failed, exc)

        self._pool.submit(work).add_done_callback(finished)

    def close(self) -> None:
        """Finish the queued jobs (e.g. an audit write on exit), then stop the thread."""
        self._pool.shutdown(wait=True)
