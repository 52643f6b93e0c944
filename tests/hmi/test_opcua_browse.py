"""The OPC UA browse dialog against the real simulator, served on a loop thread."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel
from pytestqt.qtbot import QtBot

from evsuper.drivers.base import DeviceSettings
from evsuper.drivers.opcua.browse import OpcUaBrowser
from evsuper.drivers.opcua.config import parse_endpoint
from evsuper.drivers.opcua.simulator import OpcUaSimulator, node_id
from evsuper.hmi.dialogs.opcua_browse import FutureRunner, OpcUaBrowseDialog, browse_dialog_for


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop on its own thread, as the engine's."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="engine-loop", daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


@pytest.fixture
def simulator(loop: asyncio.AbstractEventLoop) -> Iterator[OpcUaSimulator]:
    sim = OpcUaSimulator(step_s=0)
    asyncio.run_coroutine_threadsafe(sim.start(), loop).result(10)
    yield sim
    asyncio.run_coroutine_threadsafe(sim.stop(), loop).result(10)


class LoopSubmit:
    """``submit`` for a loop on another thread, as ``EngineThread.submit``."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def submit(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)


def runner(loop: asyncio.AbstractEventLoop) -> FutureRunner:
    return FutureRunner(LoopSubmit(loop).submit)


def browser_for(url: str) -> OpcUaBrowser:
    return OpcUaBrowser(parse_endpoint(DeviceSettings("bms", url), Path(".")))


def expand(qtbot: QtBot, dialog: OpcUaBrowseDialog, node: str, child: str) -> None:
    item = dialog.item_for(node)
    assert item is not None
    dialog.tree.expand(item.index())
    qtbot.waitUntil(lambda: dialog.item_for(child) is not None)


def test_browse_lazily_show_a_variable_and_pick_nodes(
    qtbot: QtBot, themed_app: Any, loop: asyncio.AbstractEventLoop, simulator: OpcUaSimulator
):
    browser = browser_for(simulator.url)
    dialog = OpcUaBrowseDialog(browser, runner(loop), "Building management (bms)")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.item_for("ns=2;s=Site") is not None)
    assert dialog.item_for(node_id("DSO.Limit")) is None  # nothing below the first level yet
    expand(qtbot, dialog, "ns=2;s=Site", "ns=2;s=DSO")
    expand(qtbot, dialog, "ns=2;s=DSO", node_id("DSO.Limit"))
    expand(qtbot, dialog, "ns=2;s=Building", node_id("Building.Load"))

    limit = dialog.item_for(node_id("DSO.Limit"))
    assert limit is not None
    dialog.tree.setCurrentIndex(limit.index())
    labels = dialog.detail_labels
    qtbot.waitUntil(lambda: labels["value"].text() == "400 kW")  # read afresh, with its unit
    assert labels["node_id"].text() == "ns=2;s=DSO.Limit"
    assert labels["data_type"].text() == "Double"
    assert labels["writable"].text() == "Read / write"
    assert [e.node_id for e in dialog.picked()] == [node_id("DSO.Limit")]
    assert dialog.bind_button.isEnabled()

    load = dialog.item_for(node_id("Building.Load"))
    assert load is not None
    selection = dialog.tree.selectionModel()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    selection.select(load.index(), flags)
    assert [e.node_id for e in dialog.picked()] == [node_id("Building.Load"), node_id("DSO.Limit")]
    assert [e.writable for e in dialog.picked()] == [False, True]
    selection.setCurrentIndex(load.index(), QItemSelectionModel.SelectionFlag.NoUpdate)
    qtbot.waitUntil(lambda: labels["value"].text() == "119.154 kW")
    assert labels["writable"].text() == "Read only"
    assert len(dialog.picked()) == 2

    dialog.grab().save("/tmp/opcua_browse.png")

    site = dialog.item_for("ns=2;s=Site")
    assert site is not None
    dialog.tree.setCurrentIndex(site.index())  # an object alone binds nothing
    assert dialog.picked() == [] and not dialog.bind_button.isEnabled()

    dialog.reject()
    qtbot.waitUntil(lambda: browser._client is None)  # the browsing session is closed


def test_an_unreachable_server_is_said_in_the_status_line(
    qtbot: QtBot, themed_app: Any, loop: asyncio.AbstractEventLoop
):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    device = DeviceSettings("nobody", f"opc.tcp://127.0.0.1:{port}/")
    dialog = browse_dialog_for(device, Path("."), LoopSubmit(loop).submit)
    qtbot.addWidget(dialog)
    assert dialog.windowTitle().startswith(f"nobody — opc.tcp://127.0.0.1:{port}/")
    qtbot.waitUntil(lambda: dialog.status_label.text().startswith("Cannot browse:"))
    assert (
        "refused" in dialog.status_label.text().lower()
        or "connect" in dialog.status_label.text().lower()
    )
    assert dialog.model.rowCount() == 0
