"""The cached key conversion gives exactly what the ocpp library's own functions give."""

from __future__ import annotations

import ocpp.charge_point
from hypothesis import given
from hypothesis import strategies as st

from evsuper.drivers.ocpp import keycase

# keys as they occur in OCPP 1.6 and 2.0.1 payloads, with the library's special cases
KEYS = [
    "connectorId",
    "idTag",
    "meterStart",
    "transactionId",
    "sampledValue",
    "chargingProfile",
    "chargingSchedulePeriod",
    "startPeriod",
    "numberPhases",
    "ocppCSMSURL",
    "V2XChargingParameters",
    "socLimitReached",
    "SOCLimitReached",
    "evseId",
    "responderURL",
    "csmsRootCertificate",
    "chargePointVendor",
    "firmwareVersion",
    "meterValue",
    "x",
    "",
]
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=12))
payloads = st.recursive(
    st.one_of(st.none(), st.integers(), st.text(max_size=5)),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(keys, children, max_size=4)
    ),
    max_leaves=12,
)


@given(payloads)
def test_camel_to_snake_is_the_library_conversion(payload: object) -> None:
    assert keycase.camel_to_snake_case(payload) == keycase._ORIGINAL_TO_SNAKE(payload)


@given(payloads)
def test_snake_to_camel_is_the_library_conversion(payload: object) -> None:
    snake = keycase._ORIGINAL_TO_SNAKE(payload)
    assert keycase.snake_to_camel_case(snake) == keycase._ORIGINAL_TO_CAMEL(snake)


def test_the_central_system_package_installs_the_cached_conversion() -> None:
    import evsuper.drivers.ocpp  # noqa: F401  (installs on import)

    assert ocpp.charge_point.camel_to_snake_case is keycase.camel_to_snake_case
    assert ocpp.charge_point.snake_to_camel_case is keycase.snake_to_camel_case
