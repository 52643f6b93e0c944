"""TagBus: last-value cache of tags plus a stream of domain events.

The bus belongs to the engine thread: publish from there only. Subscribers are
called synchronously on that thread and must be quick (queue, don't work).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from evsuper.core.tags import Sample, TagPath

log = logging.getLogger(__name__)

TagListener = Callable[[TagPath, Sample], None]
EventListener = Callable[[Any], None]


class TagBus:
    def __init__(self) -> None:
        self._values: dict[TagPath, Sample] = {}
        self._tag_listeners: list[TagListener] = []
        self._event_listeners: list[EventListener] = []

    def publish(self, path: TagPath, sample: Sample) -> None:
        """Store ``sample`` and notify subscribers when value or quality changed."""
        previous = self._values.get(path)
        self._values[path] = sample
        if (
            previous is not None
            and previous.value == sample.value
            and previous.quality == sample.quality
        ):
            return
        for listener in self._tag_listeners:
            self._call(listener, path, sample)

    def get(self, path: TagPath) -> Sample | None:
        return self._values.get(path)

    def value(self, path: TagPath, default: Any = None) -> Any:
        sample = self._values.get(path)
        return default if sample is None else sample.value

    def snapshot(self) -> dict[TagPath, Sample]:
        return dict(self._values)

    def subscribe(self, listener: TagListener) -> Callable[[], None]:
        """Call ``listener(path, sample)`` on every change; returns an unsubscribe function."""
        self._tag_listeners.append(listener)
        return lambda: self._tag_listeners.remove(listener)

    def emit(self, event: Any) -> None:
        """Broadcast a domain event (see ``evsuper.core.domain``)."""
        for listener in self._event_listeners:
            self._call(listener, event)

    def subscribe_events(self, listener: EventListener) -> Callable[[], None]:
        self._event_listeners.append(listener)
        return lambda: self._event_listeners.remove(listener)

    @staticmethod
    def _call(listener: Callable[..., None], *args: Any) -> None:
        try:
            listener(*args)
        except Exception:  # a faulty subscriber must not break the publisher
            log.exception("bus subscriber %r failed", listener)
