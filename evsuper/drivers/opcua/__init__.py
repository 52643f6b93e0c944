"""OPC UA client driver (``opc.tcp://`` devices), its simulator and the address-space
browser; docs/opcua.md."""

from __future__ import annotations

from collections.abc import Sequence

from evsuper.drivers.base import DeviceSettings, DriverConfigError, DriverContext, DriverFactory
from evsuper.drivers.opcua.client import OpcUaDriver
from evsuper.drivers.opcua.config import parse_endpoint


def create_driver(devices: Sequence[DeviceSettings], context: DriverContext) -> OpcUaDriver:
    """The ``DriverFactory`` of the ``opc.tcp`` scheme (entry point ``evsuper.drivers``)."""
    endpoints = [parse_endpoint(device, context.project_dir) for device in devices]
    owners: dict[str, str] = {}
    for endpoint in endpoints:
        for point in endpoint.points:
            if point.tag in owners:
                raise DriverConfigError(
                    f"device {endpoint.name!r}: tag {point.tag!r} is already bound by "
                    f"device {owners[point.tag]!r}"
                )
            owners[point.tag] = endpoint.name
    return OpcUaDriver(
        endpoints, context.publish, enabled={device.name: device.enabled for device in devices}
    )


_FACTORY: DriverFactory = create_driver  # mypy checks OpcUaDriver against the Driver protocol

__all__ = ["OpcUaDriver", "create_driver"]
