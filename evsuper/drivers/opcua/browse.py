"""Browse an OPC UA server's address space to pick the nodes bound to tags.

``OpcUaBrowser`` opens its own session with the same settings as the driver's device
(security, identity) and answers, per node, its children: node id, browse name, node
class, and for variables data type, value, quality and writability. Three requests per
level (browse, read, browse of the children for their own children), whatever the
number of children. No Qt here: the HMI's dialog runs these coroutines on the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from asyncua import Client, ua

from evsuper.core.tags import Quality
from evsuper.drivers.opcua.client import close, connect, new_client, quality_of
from evsuper.drivers.opcua.config import Endpoint

OBJECTS = "i=85"  # the Objects folder, where a server's own address space starts


class NodeClass(StrEnum):
    OBJECT = "Object"
    VARIABLE = "Variable"
    METHOD = "Method"
    OBJECT_TYPE = "ObjectType"
    VARIABLE_TYPE = "VariableType"
    REFERENCE_TYPE = "ReferenceType"
    DATA_TYPE = "DataType"
    VIEW = "View"


@dataclass(frozen=True, slots=True)
class BrowseEntry:
    """One node as the browser shows it; the variable fields are empty for others."""

    node_id: str  # as a point's ``node``: "ns=2;s=Building.Load"
    browse_name: str  # "2:Load"
    display_name: str
    node_class: NodeClass
    has_children: bool = False
    data_type: str = ""
    value: Any = None
    quality: Quality | None = None
    source_ts: datetime | None = None
    writable: bool = False  # the session's user may write the value
    unit: str = ""  # EngineeringUnits display name (``read`` only)

    @property
    def is_variable(self) -> bool:
        return self.node_class is NodeClass.VARIABLE


_VARIABLE_ATTRIBUTES = (
    ua.AttributeIds.DataType,
    ua.AttributeIds.Value,
    ua.AttributeIds.UserAccessLevel,
)


class OpcUaBrowser:
    """A browsing session on one endpoint; connects on first use."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._client: Client | None = None

    async def children(self, node_id: str = OBJECTS) -> list[BrowseEntry]:
        """The hierarchical children of ``node_id`` (the Objects folder by default)."""
        client = await self._connected()
        node = client.get_node(ua.NodeId.from_string(node_id))
        refs = await node.get_children_descriptions()
        nested = await self._have_children(client, [r.NodeId for r in refs])
        variables = [r.NodeId for r in refs if r.NodeClass == ua.NodeClass.Variable]
        details = await self._variable_details(client, variables)
        return [
            _entry(ref, has_children=has, **details.get(ref.NodeId.to_string(), {}))
            for ref, has in zip(refs, nested, strict=True)
        ]

    async def read(self, node_id: str) -> BrowseEntry:
        """One node afresh (its value now), with its unit when it has one."""
        client = await self._connected()
        node = client.get_node(ua.NodeId.from_string(node_id))
        attrs = await node.read_attributes(
            [ua.AttributeIds.BrowseName, ua.AttributeIds.DisplayName, ua.AttributeIds.NodeClass]
        )
        for attr in attrs:
            if attr.StatusCode is not None:
                attr.StatusCode.check()  # an unknown node raises here
        browse_name, display_name, node_class = (_value(a) for a in attrs)
        (nested,) = await self._have_children(client, [node.nodeid])
        entry = BrowseEntry(
            node_id=node.nodeid.to_string(),
            browse_name=browse_name.to_string(),
            display_name=display_name.Text or "",
            node_class=NodeClass(ua.NodeClass(node_class).name),
            has_children=nested,
        )
        if not entry.is_variable:
            return entry
        details = (await self._variable_details(client, [node.nodeid]))[entry.node_id]
        return replace(entry, **details, unit=await _unit(node))

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await close(client)

    async def __aenter__(self) -> OpcUaBrowser:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _connected(self) -> Client:
        if self._client is None:
            client = new_client(self.endpoint)
            try:
                await connect(client, self.endpoint)
            except BaseException:
                await close(client)
                raise
            self._client = client
        return self._client

    async def _have_children(self, client: Client, node_ids: list[ua.NodeId]) -> list[bool]:
        if not node_ids:
            return []
        params = ua.BrowseParameters(
            View=ua.ViewDescription(),
            RequestedMaxReferencesPerNode=1,
            NodesToBrowse=[
                ua.BrowseDescription(
                    NodeId=node_id,
                    BrowseDirection=ua.BrowseDirection.Forward,
                    ReferenceTypeId=ua.NodeId(ua.Int32(ua.ObjectIds.HierarchicalReferences)),
                    IncludeSubtypes=True,
                    ResultMask=ua.BrowseResultMask.None_,
                )
                for node_id in node_ids
            ],
        )
        results = await client.uaclient.browse(params)
        return [bool(result.References) for result in results]

    async def _variable_details(
        self, client: Client, node_ids: list[ua.NodeId]
    ) -> dict[str, dict[str, Any]]:
        if not node_ids:
            return {}
        params = ua.ReadParameters(
            NodesToRead=[
                ua.ReadValueId(NodeId=node_id, AttributeId=attribute)
                for node_id in node_ids
                for attribute in _VARIABLE_ATTRIBUTES
            ],
            TimestampsToReturn=ua.TimestampsToReturn.Source,
        )
        values = await client.uaclient.read(params)
        details = {}
        width = len(_VARIABLE_ATTRIBUTES)
        for i, node_id in enumerate(node_ids):
            data_type, value, access = values[i * width : (i + 1) * width]
            level = _value(access)
            details[node_id.to_string()] = {
                "data_type": await _type_name(client, _value(data_type)),
                "value": _value(value),
                "quality": quality_of(value.StatusCode),
                "source_ts": value.SourceTimestamp,
                "writable": isinstance(level, int)
                and bool(level & (1 << ua.AccessLevel.CurrentWrite)),
            }
        return details


def _value(data: ua.DataValue) -> Any:
    return None if data.Value is None else data.Value.Value


def _entry(ref: ua.ReferenceDescription, *, has_children: bool, **details: Any) -> BrowseEntry:
    return BrowseEntry(
        node_id=ref.NodeId.to_string(),
        browse_name=ref.BrowseName.to_string(),
        display_name=ref.DisplayName.Text or ref.BrowseName.Name or "",
        node_class=NodeClass(ua.NodeClass(ref.NodeClass).name),
        has_children=has_children,
        **details,
    )


async def _type_name(client: Client, data_type: Any) -> str:
    """``Double`` for ``i=11``; the browse name of a server's own data type."""
    if not isinstance(data_type, ua.NodeId):
        return ""
    if data_type.NamespaceIndex == 0 and isinstance(data_type.Identifier, int):
        return ua.ObjectIdNames.get(data_type.Identifier, data_type.to_string())
    name = await client.get_node(data_type).read_browse_name()
    return name.Name or data_type.to_string()


async def _unit(node: Any) -> str:
    try:
        prop = await node.get_child("0:EngineeringUnits")
        info = await prop.read_value()
    except ua.UaError:
        return ""
    return (info.DisplayName.Text or "") if isinstance(info, ua.EUInformation) else ""
