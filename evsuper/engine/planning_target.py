"""Planned sessions (evsuper/charging/planning.py): kept in ``.evsuper/planned_sessions.json``
and changed only through the ``PlanSession`` and ``CancelPlannedSession`` commands.

The file is operating data, not project configuration (no project history): it is
rewritten atomically on a worker thread, and a command is answered only once the file
holding its change is on disk. Plans whose departure has passed are dropped at each write.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from evsuper.charging.planning import PlannedSession, conflict, occupied, pending
from evsuper.core.timeutil import from_wire, to_wire, utcnow
from evsuper.engine.commands import (
    CancelPlannedSession,
    Command,
    CommandResult,
    Outcome,
    PlanSession,
)
from evsuper.project.history import write_atomic
from evsuper.project.model import Project

log = logging.getLogger(__name__)

PLANS_FILE = Path(".evsuper") / "planned_sessions.json"
PLANS_FORMAT = 1
_TIMES = ("arrival", "departure")


def plans_text(plans: Sequence[PlannedSession], next_id: int) -> str:
    rows = []
    for plan in plans:
        row: dict[str, Any] = asdict(plan)
        for name in _TIMES:
            row[name] = to_wire(row[name])
        rows.append(row)
    return json.dumps({"format": PLANS_FORMAT, "next_id": next_id, "plans": rows}, indent=1)


def parse_plans(text: str) -> tuple[list[PlannedSession], int]:
    """The plans and the next free id; ValueError (or KeyError, TypeError) when malformed."""
    data = json.loads(text)
    if data.get("format") != PLANS_FORMAT:
        raise ValueError(f"unknown format {data.get('format')!r}")
    plans = []
    for row in data["plans"]:
        times = {name: from_wire(row[name]) for name in _TIMES}
        plans.append(PlannedSession(**{**row, **times}))
    return plans, int(data["next_id"])


class PlanningTarget:
    """Executes ``PlanSession`` / ``CancelPlannedSession``; ``sessions()`` is the plan list
    the HMI reads (on the engine thread)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.file = project.directory / PLANS_FILE
        self._plans, self._next_id = self._load()
        self._lock = asyncio.Lock()

    def sessions(
        self, site_id: str | None = None, now: datetime | None = None
    ) -> tuple[PlannedSession, ...]:
        """The plans not yet over (of one site, or all), by arrival."""
        plans = pending(self._plans, now or utcnow())
        return tuple(p for p in plans if site_id is None or p.site_id == site_id)

    def accepts(self, command: Command) -> bool:
        return isinstance(command, PlanSession | CancelPlannedSession)

    async def execute(self, command: Command) -> CommandResult:
        async with self._lock:  # one write at a time, in the order asked
            if isinstance(command, PlanSession):
                return await self._plan(command)
            assert isinstance(command, CancelPlannedSession)
            return await self._cancel(command)

    async def _plan(self, command: PlanSession) -> CommandResult:
        if self.project.charger(command.charger_id) is None:
            return CommandResult(
                Outcome.ERROR, "UnknownCharger", f"{command.charger_id} is not in the project"
            )
        try:
            plan = PlannedSession(
                self._next_id,
                command.site_id,
                command.badge,
                command.charger_id,
                command.connector_id,
                command.arrival,
                command.departure,
                command.energy_kwh,
                command.max_kw,
                command.actor.user,
            )
        except ValueError as exc:
            return CommandResult(Outcome.ERROR, "InvalidPlan", str(exc))
        others = self.sessions(now=command.issued_at)
        taken = occupied((), others, command.issued_at)
        clash = conflict(plan.bay_label, plan.arrival, plan.departure, taken)
        if clash is not None:
            return CommandResult(
                Outcome.ERROR,
                "Conflict",
                f"{plan.bay_label} is already planned for {clash[2]} from "
                f"{to_wire(clash[0])} to {to_wire(clash[1])}",
            )
        error = await self._save([*others, plan], self._next_id + 1)
        if error is not None:
            return error
        return CommandResult(
            Outcome.ACCEPTED,
            "Planned",
            f"plan {plan.id}: {plan.badge or 'vehicle'} on {plan.bay_label}",
            plan,
        )

    async def _cancel(self, command: CancelPlannedSession) -> CommandResult:
        kept = [p for p in self._plans if p.id != command.plan_id]
        if len(kept) == len(self._plans):
            return CommandResult(Outcome.ERROR, "UnknownPlan", f"no plan {command.plan_id}")
        error = await self._save(pending(kept, command.issued_at), self._next_id)
        if error is not None:
            return error
        return CommandResult(Outcome.ACCEPTED, "Cancelled", f"plan {command.plan_id} cancelled")

    async def _save(self, plans: list[PlannedSession], next_id: int) -> CommandResult | None:
        """Write the file, then (only then) take ``plans`` as the state; an error result
        when the file could not be written."""
        text = plans_text(plans, next_id)
        try:
            await asyncio.to_thread(write_atomic, self.file, text.encode())
        except OSError as exc:
            return CommandResult(Outcome.ERROR, "WriteFailed", str(exc))
        self._plans, self._next_id = plans, next_id
        return None

    def _load(self) -> tuple[list[PlannedSession], int]:
        try:
            text = self.file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return [], 1
        try:
            return parse_plans(text)
        except (ValueError, KeyError, TypeError) as exc:
            aside = self.file.with_suffix(f".bad-{utcnow():%Y%m%dT%H%M%S}")
            self.file.replace(aside)
            log.error(
                "planned sessions: %s unreadable (%s); set aside as %s", self.file, exc, aside
            )
            return [], 1
