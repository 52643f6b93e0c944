"""The engine's HTTP file endpoint: firmware downloads and diagnostics uploads, for real."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import execute_as_admin, wait_until

from evsuper.core.timeutil import utcnow
from evsuper.engine import commands as cmd
from evsuper.engine.files import MAX_UPLOAD_BYTES, FileServer
from evsuper.engine.runtime import Engine


@pytest.fixture
def files(tmp_path: Path) -> Iterator[FileServer]:
    server = FileServer(tmp_path, "127.0.0.1")
    server.start()
    yield server
    server.stop()


def fetch(url: str, data: bytes | None = None, method: str = "GET") -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_firmware_is_served_from_the_project_folder(files: FileServer) -> None:
    image = bytes(range(256)) * 4096  # 1 MiB
    (files.firmware_dir / "cp-2.1.bin").write_bytes(image)
    assert fetch(files.firmware_url("cp-2.1.bin")) == (200, image)
    assert fetch(files.firmware_url("missing.bin"))[0] == 404
    assert fetch(files.url("firmware/..%2Fproject.toml"))[0] == 400
    assert fetch(files.url("etc/passwd"))[0] == 404


def test_diagnostics_uploads_are_kept_and_never_overwritten(files: FileServer) -> None:
    url = files.diagnostics_url() + "diag-CP-001.zip"
    assert fetch(url, b"first", "PUT")[0] == 201
    assert fetch(url, b"second", "POST")[0] == 201
    assert (files.diagnostics_dir / "diag-CP-001.zip").read_bytes() == b"first"
    assert (files.diagnostics_dir / "diag-CP-001-2.zip").read_bytes() == b"second"
    assert fetch(files.diagnostics_url() + ".hidden", b"x", "PUT")[0] == 400
    assert sorted(p.name for p in files.diagnostics_dir.iterdir()) == [
        "diag-CP-001-2.zip",
        "diag-CP-001.zip",
    ]


def test_oversize_upload_is_refused(files: FileServer) -> None:
    request = urllib.request.Request(
        files.diagnostics_url() + "big.log",
        data=b"",
        method="PUT",
        headers={"Content-Length": str(MAX_UPLOAD_BYTES + 1)},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 413
    assert list(files.diagnostics_dir.iterdir()) == []


async def test_engine_runs_the_endpoint_and_publishes_its_url(make_project: Any) -> None:
    engine = Engine(make_project(bollards=1), ocpp_port=0, run_simulator=False)
    await engine.start()
    try:
        base = engine.bus.value("_system/files/url")
        assert base == f"http://127.0.0.1:{engine.files.port}/"
        (engine.project.directory / "firmware" / "fw.bin").write_bytes(b"image")
        assert fetch(base + "firmware/fw.bin") == (200, b"image")
    finally:
        await engine.stop()


async def test_simulated_bollard_updates_firmware_and_uploads_diagnostics(
    make_project: Any,
) -> None:
    engine = Engine(make_project(bollards=1), ocpp_port=0)
    await engine.start()
    try:
        await wait_until(lambda: engine.bus.value("CP-001/firmware") == "sim-1.0")
        (engine.files.firmware_dir / "fw-2.0.bin").write_bytes(b"new image")
        update = await execute_as_admin(
            engine.router,
            cmd.UpdateFirmware(
                charger_id="CP-001",
                location=engine.files.firmware_url("fw-2.0.bin"),
                retrieve_date=utcnow(),
            ),
        )
        assert update.ok
        await wait_until(lambda: engine.bus.value("CP-001/firmware_status") == "Installed")
        # the bollard reboots on its new image and says so in its BootNotification
        await wait_until(lambda: str(engine.bus.value("CP-001/firmware")).startswith("fw-2.0.bin-"))

        diagnostics = await execute_as_admin(
            engine.router,
            cmd.GetDiagnostics(charger_id="CP-001", location=engine.files.diagnostics_url()),
        )
        assert diagnostics.ok and diagnostics.payload.startswith("diag-CP-001-")
        await wait_until(lambda: engine.bus.value("CP-001/diagnostics_status") == "Uploaded")
        uploaded = (engine.files.diagnostics_dir / diagnostics.payload).read_text()
        assert "CP-001 connector 1: " in uploaded

        missing = await execute_as_admin(
            engine.router,
            cmd.UpdateFirmware(
                charger_id="CP-001",
                location=engine.files.firmware_url("missing.bin"),
                retrieve_date=utcnow(),
            ),
        )
        assert missing.ok  # accepted; the download then fails and is reported
        await wait_until(lambda: engine.bus.value("CP-001/firmware_status") == "DownloadFailed")
    finally:
        await engine.stop()
