"""What the archive stores of a value that keeps coming: deadband and maximum interval.

A value is stored when it is the first of its series, when it moved beyond the rule's
deadband from the last one stored (any change for values that are not numbers), when the
last one stored is ``max_interval_s`` old or more, or when the caller says it must be (a
transaction's begin or end, a change of quality). Numbers are compared in their display
unit (kW, kWh, %). The live tags are not affected: only what the archive keeps.

Meter samples are matched by measurand (``[[archive.recording]]``; without a rule, every
sample is stored); tags by path (``[[archive.tags]]``; without a rule, a tag is not
historised). Tags publish only on change, so the archive re-stores an unchanged tag's
current value once its maximum interval has passed (``due``).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any, Generic, TypeVar

from evsuper.project.model import RecordingRule

ALWAYS_STORED_CONTEXTS = frozenset({"Transaction.Begin", "Transaction.End"})


K = TypeVar("K", bound=Hashable)  # what tells one series from another


class Recorder(Generic[K]):
    def __init__(self, rules: Sequence[RecordingRule]) -> None:
        self.rules = tuple(rules)
        self._rule_of: dict[str, RecordingRule | None] = {}
        self._last: dict[K, tuple[datetime, Any, RecordingRule]] = {}

    def rule(self, name: str) -> RecordingRule | None:
        """The first rule whose glob matches ``name``."""
        if name not in self._rule_of:
            self._rule_of[name] = next((r for r in self.rules if fnmatchcase(name, r.match)), None)
        return self._rule_of[name]

    def keep(self, key: K, name: str, ts: datetime, value: Any, *, always: bool = False) -> bool:
        """Whether this value of series ``key`` (matched by ``name``) is stored; if it is,
        it becomes the series' reference. Without a rule: stored."""
        rule = self.rule(name)
        if rule is None:
            return True
        last = self._last.get(key)
        if not (
            always
            or last is None
            or _moved(last[1], value, rule.deadband)
            or (ts - last[0]).total_seconds() >= rule.max_interval_s
            or ts < last[0]  # an older value arriving late: kept, it is history
        ):
            return False
        if last is None or ts >= last[0]:
            self._last[key] = (ts, value, rule)
        return True

    def due(self, now: datetime) -> Iterator[K]:
        """Series whose last stored value is at least their maximum interval old."""
        for key, (ts, _, rule) in self._last.items():
            if now - ts >= timedelta(seconds=rule.max_interval_s):
                yield key


def _moved(last: Any, value: Any, deadband: float) -> bool:
    numbers = (int, float)
    if isinstance(last, numbers) and isinstance(value, numbers):
        return abs(value - last) > deadband
    return bool(last != value)
