"""EngineBridge against a real asyncio loop on its own thread (a stand-in for EngineThread)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future
from types import SimpleNamespace
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QObject, QThread
from support import as_admin

from evsuper.core.bus import TagBus
from evsuper.core.tags import Sample
from evsuper.engine.commands import Command, CommandResult, CommandRouter, Outcome, Reset
from evsuper.hmi.bridge import EngineBridge
from evsuper.project.model import Project


class CountingBus(TagBus):
    def __init__(self) -> None:
        super().__init__()
        self.listeners = 0

    def subscribe(self, listener: Callable[[str, Sample], None]) -> Callable[[], None]:
        unsubscribe = super().subscribe(listener)
        self.listeners += 1

        def counted() -> None:
            unsubscribe()
            self.listeners -= 1

        return counted


class Charger:
    """Command target owning every charger; answers as told."""

    def __init__(self) -> None:
        self.commands: list[tuple[Command, str]] = []
        self.answer = CommandResult(Outcome.ACCEPTED, "Accepted")

    def accepts(self, command: Command) -> bool:
        return True

    async def execute(self, command: Command) -> CommandResult:
        self.commands.append((command, threading.current_thread().name))
        await asyncio.sleep(0)
        return self.answer


class LoopThread:
    """What the bridge uses of EngineThread: ``engine``, ``submit`` and ``call``."""

    def __init__(self, project: Project) -> None:
        self.engine = SimpleNamespace(bus=CountingBus(), router=CommandRouter(), project=project)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="test-engine")
        self.thread.start()

    def submit(self, coro: Coroutine[Any, Any, Any]) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, fn: Callable[[], Any], timeout: float = 10.0) -> Any:
        async def run() -> Any:
            return fn()

        return self.submit(run()).result(timeout)

    def stop(self) -> None:
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            self.loop.close()


@pytest.fixture
def engine_thread(qapp, project: Project) -> Iterator[LoopThread]:
    thread = LoopThread(project)
    yield thread
    thread.stop()


@pytest.fixture
def bridge(engine_thread: LoopThread) -> Iterator[EngineBridge]:
    engine_thread.call(lambda: engine_thread.engine.bus.publish("CP-001/vendor", Sample("Alfen")))
    bridge = EngineBridge(engine_thread)  # type: ignore[arg-type]
    yield bridge
    bridge.close()


def test_first_batch_is_the_snapshot(bridge: EngineBridge, qtbot) -> None:
    assert bridge.value("CP-001/vendor") == "Alfen"
    assert bridge.value("CP-001/model", "n/a") == "n/a"
    with qtbot.waitSignal(bridge.tagsChanged) as blocker:
        pass
    assert blocker.args[0]["CP-001/vendor"].value == "Alfen"


def test_changes_are_coalesced_and_delivered_on_the_gui_thread(
    bridge: EngineBridge, engine_thread: LoopThread, qtbot, qapp
) -> None:
    batches: list[dict[str, Sample]] = []
    threads: list[QThread] = []

    def on_batch(batch: dict[str, Sample]) -> None:
        batches.append(batch)
        threads.append(QThread.currentThread())

    bridge.tagsChanged.connect(on_batch)
    qtbot.waitUntil(lambda: len(batches) == 1)  # the snapshot

    def burst() -> None:
        bus = engine_thread.engine.bus
        for i in range(100):
            bus.publish("CP-001/C1/power_kw", Sample(float(i)))
        bus.publish("CP-002/comm", Sample("online"))

    engine_thread.call(burst)
    qtbot.waitUntil(lambda: len(batches) == 2)
    assert set(batches[1]) == {"CP-001/C1/power_kw", "CP-002/comm"}
    assert batches[1]["CP-001/C1/power_kw"].value == 99.0
    assert bridge.value("CP-001/C1/power_kw") == 99.0
    assert all(t is qapp.thread() for t in threads)


def test_command_result_comes_back_on_the_gui_thread(
    bridge: EngineBridge, engine_thread: LoopThread, qtbot, qapp
) -> None:
    charger = Charger()
    charger.answer = CommandResult(Outcome.REJECTED, "Rejected", "busy")
    engine_thread.engine.router.add_target(charger)
    results: list[tuple[CommandResult, QThread]] = []

    bridge.execute(
        as_admin(Reset(charger_id="CP-003")),
        lambda r: results.append((r, QThread.currentThread())),
    )

    qtbot.waitUntil(lambda: len(results) == 1)
    result, thread = results[0]
    assert result == CommandResult(Outcome.REJECTED, "Rejected", "busy")
    assert thread is qapp.thread()
    command, engine_side = charger.commands[0]
    assert isinstance(command, Reset) and command.charger_id == "CP-003"
    assert engine_side == "test-engine"


def test_command_after_the_engine_stopped_is_answered_with_an_error(
    bridge: EngineBridge, engine_thread: LoopThread, qtbot
) -> None:
    engine_thread.stop()
    results: list[CommandResult] = []
    bridge.execute(Reset(charger_id="CP-001"), results.append)
    assert results == []  # never called back from inside execute()
    qtbot.waitUntil(lambda: len(results) == 1)
    assert results[0].outcome is Outcome.ERROR
    assert results[0].status == "EngineStopped"


def test_close_unsubscribes_and_stops_batches(
    bridge: EngineBridge, engine_thread: LoopThread, qtbot
) -> None:
    bus = engine_thread.engine.bus
    assert engine_thread.call(lambda: bus.listeners) == 1
    bridge.close()
    assert engine_thread.call(lambda: bus.listeners) == 0
    bridge.close()  # idempotent
    assert engine_thread.call(lambda: bus.listeners) == 0


def test_fetch_runs_the_query_on_the_engine_thread_and_answers_on_the_gui_thread(
    bridge: EngineBridge, qtbot, qapp
) -> None:
    answers: list[tuple[Any, QThread]] = []

    def query(engine: Any) -> tuple[str, str]:
        return engine.project.name, threading.current_thread().name

    bridge.fetch(query, lambda value: answers.append((value, QThread.currentThread())))
    assert answers == []  # never called back from inside fetch()
    qtbot.waitUntil(lambda: len(answers) == 1)
    (name, engine_side), thread = answers[0]
    assert name == bridge.project.name
    assert engine_side == "test-engine"
    assert thread is qapp.thread()


def test_a_failed_fetch_is_reported_not_raised(
    bridge: EngineBridge, engine_thread: LoopThread, qtbot
) -> None:
    values: list[Any] = []
    failures: list[str] = []

    def broken(engine: Any) -> None:
        raise KeyError("CP-404")

    bridge.fetch(broken, values.append, failures.append)
    qtbot.waitUntil(lambda: len(failures) == 1)
    assert "KeyError" in failures[0] and "CP-404" in failures[0]

    engine_thread.stop()
    bridge.fetch(lambda engine: 1, values.append, failures.append)
    qtbot.waitUntil(lambda: len(failures) == 2)
    assert values == []


def test_an_answer_for_a_deleted_window_is_dropped(bridge: EngineBridge, qtbot) -> None:
    class Window(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.label = QObject(self)

        def show(self, value: Any) -> None:
            self.label.setObjectName(str(value))  # fails on a deleted window

    window = Window()
    release = threading.Event()
    answered: list[Any] = []

    def slow(engine: Any) -> str:
        release.wait(5)
        return "late"

    bridge.fetch(slow, window.show)
    bridge.fetch(lambda engine: "after", answered.append)  # served in order, after it
    shiboken6.delete(window)
    release.set()
    qtbot.waitUntil(lambda: answered == ["after"])  # the late answer went nowhere, quietly
