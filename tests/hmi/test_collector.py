"""Cyclic garbage is collected by the GUI thread's timer, never by whichever thread
allocates (a worker or the engine could otherwise destroy Qt objects)."""

from __future__ import annotations

import gc
import threading
import weakref
from typing import Any


class Holder:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


def test_automatic_collection_is_off_and_the_gui_thread_collects(qtbot: Any) -> None:
    assert not gc.isenabled()
    refs: list[weakref.ref[Holder]] = []

    def allocate() -> None:  # in another thread, as a worker would
        for _ in range(20_000):
            refs.append(weakref.ref(Holder()))

    thread = threading.Thread(target=allocate)
    thread.start()
    thread.join()
    assert all(ref() is not None for ref in refs[-100:])  # nothing collected over there
    qtbot.waitUntil(lambda: all(ref() is None for ref in refs), timeout=5000)
