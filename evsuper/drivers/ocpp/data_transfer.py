"""DataTransfer from chargers, routed by vendorId and messageId to registered handlers.

A handler gets the charger id and the request's data and returns the answer's status and
data. A vendorId with no handler is answered UnknownVendorId; a known vendorId with no
handler for the messageId, UnknownMessageId (OCPP 1.6 §4.3).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger("evsuper.ocpp")


@dataclass(frozen=True, slots=True)
class DataTransferAnswer:
    status: str  # Accepted | Rejected | UnknownMessageId | UnknownVendorId
    data: str | None = None


DataTransferHandler = Callable[[str, str | None], Awaitable[DataTransferAnswer]]


class DataTransferRouter:
    def __init__(self) -> None:
        self._handlers: dict[str, dict[str | None, DataTransferHandler]] = {}

    def register(
        self, vendor_id: str, message_id: str | None, handler: DataTransferHandler
    ) -> None:
        """Handle ``vendor_id``'s ``message_id``; ``None`` handles requests without messageId."""
        self._handlers.setdefault(vendor_id, {})[message_id] = handler

    async def dispatch(
        self, charger_id: str, vendor_id: str, message_id: str | None, data: str | None
    ) -> DataTransferAnswer:
        by_message = self._handlers.get(vendor_id)
        if by_message is None:
            return DataTransferAnswer("UnknownVendorId")
        handler = by_message.get(message_id)
        if handler is None:
            return DataTransferAnswer("UnknownMessageId")
        return await handler(charger_id, data)
