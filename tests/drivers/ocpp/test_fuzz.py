"""Random and mutated frames against a live connection: no crash, right answers, still alive."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.sync.client import ClientConnection, connect

from evsuper.engine.runtime import Engine, EngineThread
from evsuper.project.model import AuthorizationMode
from evsuper.project.new import write_new_project

CALLERROR_CODES_16 = {
    "NotImplemented",
    "NotSupported",
    "InternalError",
    "ProtocolError",
    "SecurityError",
    "FormationViolation",
    "PropertyConstraintViolation",
    "OccurenceConstraintViolation",
    "TypeConstraintViolation",
    "GenericError",
}

# Valid requests a charger sends; the fuzzer mutates them.
VALID_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("Heartbeat", {}),
    ("BootNotification", {"chargePointVendor": "Fuzz", "chargePointModel": "F1"}),
    ("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"}),
    ("Authorize", {"idTag": "BADGE-0001"}),
    (
        "StartTransaction",
        {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": "2026-01-01T00:00:00Z"},
    ),
    ("StopTransaction", {"meterStop": 5, "timestamp": "2026-01-01T01:00:00Z", "transactionId": 1}),
    (
        "MeterValues",
        {
            "connectorId": 1,
            "meterValue": [
                {"timestamp": "2026-01-01T00:30:00Z", "sampledValue": [{"value": "12.5"}]}
            ],
        },
    ),
    ("DataTransfer", {"vendorId": "Fuzz", "messageId": "x", "data": "y"}),
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def mutated_calls(draw: st.DrawFn) -> str:
    action, payload = draw(st.sampled_from(VALID_CALLS))
    payload = dict(payload)
    if payload and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(payload)))
        if draw(st.booleans()):
            del payload[key]
        else:
            payload[key] = draw(json_values)
    if draw(st.booleans()):
        payload[draw(st.text(min_size=1, max_size=12))] = draw(json_values)
    action = draw(st.sampled_from([action, action.lower(), "", "Unknown" + action]))
    return json.dumps([2, draw(st.text(min_size=1, max_size=36)), action, payload])


ACTIONS = [action for action, _ in VALID_CALLS]

frames = st.one_of(
    st.text(max_size=200),  # anything at all
    json_values.map(json.dumps),  # JSON, but not OCPP
    st.lists(json_values, max_size=5).map(json.dumps),  # lists of the wrong shape
    st.tuples(  # OCPP's shape with any type in any place
        st.sampled_from([2, 3, 4, 2.0, 5, True, "2"]) | json_values,
        st.text(max_size=40) | json_values,
        st.sampled_from(ACTIONS) | json_values,
        json_values,
    ).map(lambda t: json.dumps(list(t))),
    mutated_calls(),
)


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    site = Path(tmp_path_factory.mktemp("fuzz")) / "site"
    project = write_new_project(site, bollards=1, authorization=AuthorizationMode.OPEN, port=0)
    thread = EngineThread(Engine(project, run_simulator=False))
    thread.start()
    yield thread.engine.central.url_for("CP-001")
    thread.stop()


@pytest.fixture(scope="module")
def connection(endpoint: str) -> Iterator[ClientConnection]:
    with connect(endpoint, subprotocols=["ocpp1.6"], open_timeout=5) as ws:  # type: ignore[list-item]
        yield ws


def answers_until_heartbeat(ws: ClientConnection, marker: str) -> list[list[Any]]:
    ws.send(json.dumps([2, marker, "Heartbeat", {}]))
    received = []
    while True:
        message = json.loads(ws.recv(timeout=5))
        received.append(message)
        if message[:2] == [3, marker]:
            return received


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(frame=frames)
def test_any_frame_gets_a_proper_answer_and_the_connection_lives(
    connection: ClientConnection, frame: str
) -> None:
    connection.send(frame)
    *before, heartbeat = answers_until_heartbeat(connection, "alive?")
    assert heartbeat[2]["currentTime"].endswith("Z")
    for message in before:  # the fuzzed frame's answer, if it called for one
        assert message[0] in (3, 4)
        assert isinstance(message[1], str)
        if message[0] == 4:
            assert message[2] in CALLERROR_CODES_16
            assert isinstance(message[3], str) and isinstance(message[4], dict)
    parsed = _parse(frame)
    if _is_response(parsed):
        assert before == []  # an answer is never answered, even a malformed one
        return
    assert len(before) == 1  # every other frame gets exactly one answer
    if isinstance(parsed, list) and len(parsed) >= 2 and _valid_id(parsed[1]):
        assert before[0][1] == parsed[1]


def _parse(frame: str) -> Any:
    try:
        return json.loads(frame)
    except ValueError:
        return None


def _valid_id(unique_id: Any) -> bool:
    """OCPP-J: a message id is a string of at most 36 characters; such ids are echoed."""
    return isinstance(unique_id, str) and 0 < len(unique_id) <= 36 and '"' not in unique_id


def _is_response(frame: Any) -> bool:
    """CALLRESULT or CALLERROR by its message type id (3 or 4; 3.0 counts, True does not)."""
    if not isinstance(frame, list) or not frame or isinstance(frame[0], bool):
        return False
    return frame[0] in (3, 4)
