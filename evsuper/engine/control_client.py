"""Client side of the engine's control endpoint (``evsuper call``); no Qt, no engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

from evsuper.engine.control import control_file

ANSWER_TIMEOUT_S = 60.0  # above the engine's OCPP response timeout


class ControlError(Exception):
    """No running engine to talk to, or it could not be reached."""


def send_call(
    project_dir: Path,
    charger_id: str,
    action: str,
    payload: dict[str, Any],
    *,
    confirmed: bool = False,
) -> dict[str, Any]:
    """Send a raw OCPP call through the project's running engine; its reply as a dict.

    ``confirmed``: the user agreed to a dangerous action (Reset, UpdateFirmware, ...).
    """
    file = control_file(project_dir)
    try:
        endpoint = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ControlError(
            f"no running engine for {project_dir} (start 'evsuper serve {project_dir}')"
        ) from None
    except (OSError, ValueError) as exc:
        raise ControlError(f"cannot read {file}: {exc}") from None
    request = {
        "token": endpoint["token"],
        "charger_id": charger_id,
        "action": action,
        "confirmed": confirmed,
    }
    try:
        url = f"ws://{endpoint['host']}:{endpoint['port']}"
        with connect(url, open_timeout=5, compression=None) as ws:
            ws.send(json.dumps({**request, "payload": payload}))
            reply: dict[str, Any] = json.loads(ws.recv(timeout=ANSWER_TIMEOUT_S))
    except (OSError, TimeoutError, WebSocketException) as exc:
        raise ControlError(f"the engine of {project_dir} does not answer ({exc})") from None
    return reply
