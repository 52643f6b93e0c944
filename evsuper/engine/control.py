"""The engine's local control endpoint, for ``evsuper call`` and support scripts.

A WebSocket on 127.0.0.1 (never another address) on a free port. The port and a random
token are written to ``<project>/.evsuper/control.json``, readable by its owner alone; a
request must carry the token. Each request is one JSON message
``{"token", "charger_id", "action", "payload", "confirmed"}`` answered by one JSON message
``{"outcome", "status", "detail", "payload"}``; the call goes through the command router
like any operator command. The token stands for the owner of the project folder, who
can read the archive file anyway: requests act as that OS user with the ``integrator``
role, origin ``cli``, and are audited as such.
"""

from __future__ import annotations

import contextlib
import getpass
import hmac
import json
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from evsuper.engine.commands import CommandResult, CommandRouter, Outcome, RawCall
from evsuper.users.permissions import Actor, Origin, Role

log = logging.getLogger(__name__)

CONTROL_HOST = "127.0.0.1"


def control_file(project_dir: Path) -> Path:
    return project_dir / ".evsuper" / "control.json"


class ControlServer:
    def __init__(self, router: CommandRouter, project_dir: Path) -> None:
        self.router = router
        self.file = control_file(project_dir)
        self._token = secrets.token_urlsafe(32)
        self.actor = Actor(getpass.getuser(), Role.INTEGRATOR, Origin.CLI)
        self._server: Server | None = None

    async def start(self) -> None:
        self._server = await serve(self._serve, CONTROL_HOST, 0, compression=None, max_size=2**20)
        port = self._server.sockets[0].getsockname()[1]
        self.file.parent.mkdir(mode=0o700, exist_ok=True)
        self.file.unlink(missing_ok=True)  # a new file, created with owner-only rights
        descriptor = os.open(self.file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump({"host": CONTROL_HOST, "port": port, "token": self._token}, out)
        log.info("control endpoint on ws://%s:%d (see %s)", CONTROL_HOST, port, self.file)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        with contextlib.suppress(OSError, ValueError):
            if json.loads(self.file.read_text(encoding="utf-8")).get("token") == self._token:
                self.file.unlink()  # only our own: another engine may have taken over

    async def _serve(self, connection: ServerConnection) -> None:
        try:
            async for message in connection:
                await connection.send(json.dumps(await self._answer(message)))
        except ConnectionClosed:
            pass

    async def _answer(self, message: str | bytes) -> dict[str, Any]:
        try:
            request = json.loads(message)
            token = str(request["token"])
            command = RawCall(
                charger_id=str(request["charger_id"]),
                action=str(request["action"]),
                payload=dict(request.get("payload") or {}),
                actor=self.actor,
                confirmed=request.get("confirmed") is True,
            )
        except (ValueError, KeyError, TypeError) as exc:
            return _reply(CommandResult(Outcome.ERROR, "BadRequest", f"malformed request: {exc}"))
        if not hmac.compare_digest(token, self._token):
            log.warning("control endpoint: request with a wrong token refused")
            return _reply(CommandResult(Outcome.ERROR, "Forbidden", "wrong token"))
        return _reply(await self.router.execute(command))


def _reply(result: CommandResult) -> dict[str, Any]:
    return {
        "outcome": result.outcome.value,
        "status": result.status,
        "detail": result.detail,
        "payload": result.payload,
    }
