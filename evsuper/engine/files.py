"""The engine's HTTP file endpoint: firmware for chargers to fetch, diagnostics they upload.

So that the operator needs no FTP server: UpdateFirmware points chargers at
``http://<host>:<port>/firmware/<file>`` (files of ``<project>/firmware/``), and GetDiagnostics
at ``http://<host>:<port>/diagnostics/``, where a charger PUTs or POSTs its file as the request
body (stored in ``<project>/diagnostics/``). Served by the standard library's threading HTTP
server on its own threads: a large download never touches the engine loop.
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 256 * 2**20
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class FileServer:
    def __init__(self, project_dir: Path, host: str, port: int = 0) -> None:
        self.firmware_dir = project_dir / "firmware"
        self.diagnostics_dir = project_dir / "diagnostics"
        self._address = (host, port)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.firmware_dir.mkdir(exist_ok=True)
        self.diagnostics_dir.mkdir(exist_ok=True)
        server = ThreadingHTTPServer(self._address, _handler_for(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="evsuper-files", daemon=True
        )
        self._thread.start()
        log.info("file endpoint on %s", self.url(""))

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def url(self, path: str) -> str:
        host = self._address[0]
        host = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
        return f"http://{host}:{self.port}/{path}"

    def firmware_url(self, name: str) -> str:
        return self.url(f"firmware/{name}")

    def diagnostics_url(self) -> str:
        return self.url("diagnostics/")


def _handler_for(files: FileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "evsuper-files"

        def do_GET(self) -> None:
            name = self._name("/firmware/")
            if name is None:
                return
            path = files.firmware_dir / name
            if not path.is_file():
                self._fail(HTTPStatus.NOT_FOUND, f"no firmware file {name}")
                return
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(path.stat().st_size))
            self.end_headers()
            with path.open("rb") as source:
                shutil.copyfileobj(source, self.wfile)
            log.info("firmware %s sent to %s", name, self.client_address[0])

        def do_PUT(self) -> None:
            name = self._name("/diagnostics/")
            if name is None:
                return
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                self._fail(HTTPStatus.LENGTH_REQUIRED, "Content-Length required")
                return
            if not 0 <= length <= MAX_UPLOAD_BYTES:
                self._fail(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "upload too large")
                return
            target = _free_path(files.diagnostics_dir, name)
            partial = target.with_name(target.name + ".part")
            with partial.open("wb") as out:
                remaining = length
                while remaining:
                    chunk = self.rfile.read(min(remaining, 2**20))
                    if not chunk:
                        break
                    out.write(chunk)
                    remaining -= len(chunk)
            if remaining:
                partial.unlink()
                self._fail(HTTPStatus.BAD_REQUEST, "upload ended early")
                return
            partial.rename(target)
            self.send_response(HTTPStatus.CREATED)
            self.send_header("Content-Length", "0")
            self.end_headers()
            log.info("diagnostics %s received from %s", target.name, self.client_address[0])

        do_POST = do_PUT

        def _name(self, prefix: str) -> str | None:
            """The file name under ``prefix``; answers 404 / 400 itself when there is none."""
            if not self.path.startswith(prefix):
                self._fail(HTTPStatus.NOT_FOUND, "unknown path")
                return None
            name = self.path[len(prefix) :].split("?", 1)[0]
            if not _SAFE_NAME.match(name):
                self._fail(HTTPStatus.BAD_REQUEST, "file names: letters, digits, . _ -")
                return None
            return name

        def _fail(self, status: HTTPStatus, message: str) -> None:
            body = (message + "\n").encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s " + format, self.client_address[0], *args)

    return Handler


def _free_path(directory: Path, name: str) -> Path:
    """``name`` in ``directory``, else ``name-2``, ``name-3``…: an upload never overwrites."""
    target = directory / name
    stem, suffix, n = target.stem, target.suffix, 2
    while target.exists():
        target = directory / f"{stem}-{n}{suffix}"
        n += 1
    return target
