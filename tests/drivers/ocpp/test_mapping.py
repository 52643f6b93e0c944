"""Raw calls (``evsuper call``): wire JSON in, the library's typed request out."""

from __future__ import annotations

import pytest
from ocpp.v16 import call

from evsuper.drivers.ocpp.mapping import raw_request
from evsuper.engine.commands import RawCall


def test_security_extension_requests_can_be_sent_raw() -> None:
    request = raw_request(
        RawCall(
            charger_id="CP-001",
            action="GetLog",
            payload={
                "logType": "SecurityLog",
                "requestId": 3,
                "log": {"remoteLocation": "http://127.0.0.1:8000/diagnostics/"},
            },
        )
    )
    assert isinstance(request, call.GetLog)
    assert (request.log_type, request.request_id) == ("SecurityLog", 3)
    assert request.log == {"remote_location": "http://127.0.0.1:8000/diagnostics/"}


@pytest.mark.parametrize(
    ("action", "payload", "message"),
    [
        ("BootNotification", {}, "not sent by a central system"),
        ("Reset", {}, "Reset: "),
        ("Reset", {"type": "Soft", "extra": 1}, "Reset: "),
    ],
)
def test_what_is_not_a_central_system_request_is_refused(
    action: str, payload: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        raw_request(RawCall(charger_id="CP-001", action=action, payload=payload))
