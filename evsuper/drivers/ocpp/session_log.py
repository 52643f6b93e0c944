"""What went over the wire with one charger: the last frames and running counters.

A ``SessionLog`` outlives the charger's connections (the central system keeps one per
charger seen since the engine started, in memory). Recording a frame is cheap: a ring
buffer append and a counter increment; the counters are published by the central system
at most once per second (see ``CentralSystem``). Only WebSocket message payloads are
recorded, never HTTP headers, so Basic-auth credentials cannot end up here.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from evsuper.core.timeutil import utcnow

# 40 frames of 1000 chargers cost ~30 MB; 200 cost ~120 MB and raised the p99 latency
# under load (bench/ocpp_load.py), for a support view that reads the last few exchanges.
FRAMES_KEPT = 40
# A frame may be up to 1 MiB: keep the start of it, enough to read any usual OCPP message.
FRAME_CHARS_KEPT = 8192


class Direction(StrEnum):
    RECEIVED = "received"  # charger → central system
    SENT = "sent"  # central system → charger


@dataclass(frozen=True, slots=True)
class FrameRecord:
    ts: datetime  # aware UTC
    direction: Direction
    frame: str  # as on the wire, cut at FRAME_CHARS_KEPT characters


class SessionLog:
    """The last ``capacity`` frames (both directions) and the counters of one charger."""

    def __init__(self, capacity: int = FRAMES_KEPT) -> None:
        self._frames: deque[FrameRecord] = deque(maxlen=capacity)
        self.frames_received = 0
        self.frames_sent = 0
        self.errors_received = 0  # CALLERRORs from the charger
        self.errors_sent = 0  # CALLERRORs answered to malformed or invalid requests
        self.connects = 0
        self.last_connect: datetime | None = None
        self.remote: str | None = None

    def received(self, frame: str | bytes) -> None:
        self.frames_received += 1
        self._frames.append(FrameRecord(utcnow(), Direction.RECEIVED, _text(frame)))

    def sent(self, frame: str) -> None:
        self.frames_sent += 1
        if frame.startswith("[4"):  # MessageTypeId 4: CALLERROR
            self.errors_sent += 1
        self._frames.append(FrameRecord(utcnow(), Direction.SENT, _text(frame)))

    def error_received(self) -> None:
        self.errors_received += 1

    def connected(self, remote: str) -> None:
        self.connects += 1
        self.last_connect = utcnow()
        self.remote = remote

    def frames(self) -> list[FrameRecord]:
        """The frames kept, oldest first."""
        return list(self._frames)


def _text(frame: str | bytes) -> str:
    if isinstance(frame, bytes):
        frame = frame[:FRAME_CHARS_KEPT].decode("utf-8", errors="replace")
    return frame[:FRAME_CHARS_KEPT]
