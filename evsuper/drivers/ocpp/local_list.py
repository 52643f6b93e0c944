"""The project's badge table as OCPP 1.6 local authorization lists (SendLocalList).

The central system remembers, per charger and in memory only, the version the charger last
accepted; a Differential update falls back to a Full one when nothing is known (after a
restart, or a VersionMismatch).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ocpp.v16 import call
from ocpp.v16.enums import UpdateType

from evsuper.core.timeutil import to_wire
from evsuper.engine.commands import LocalListUpdate
from evsuper.project.model import Badge

# One AuthorizationData entry, with the snake_case keys the ocpp library serialises.
Entry = dict[str, Any]


def authorization_data(badge: Badge) -> Entry:
    """A badge as a list entry: idTagInfo with its status, expiry (UTC) and parent."""
    info: dict[str, str] = {"status": badge.status.value}
    if badge.expiry is not None:
        info["expiry_date"] = to_wire(badge.expiry)
    if badge.parent_id_tag is not None:
        info["parent_id_tag"] = badge.parent_id_tag
    return {"id_tag": badge.id_tag, "id_tag_info": info}


@dataclass(frozen=True, slots=True)
class ListUpdate:
    """A SendLocalList to send, and what to tell the operator about it."""

    request: call.SendLocalList
    detail: str


class LocalLists:
    """The list version each charger accepted last from this central system (in memory)."""

    def __init__(self) -> None:
        self._accepted: dict[str, int] = {}

    def update(
        self, charger_id: str, badges: Iterable[Badge], version: int, kind: LocalListUpdate
    ) -> ListUpdate:
        """The request sending ``badges`` at ``version``; Differential updates every entry
        (a removed badge only leaves the charger's list with a Full update)."""
        entries = [authorization_data(badge) for badge in badges]
        detail = f"{len(entries)} badges, version {version}"
        full = kind is LocalListUpdate.FULL or charger_id not in self._accepted
        if full and kind is LocalListUpdate.DIFFERENTIAL:
            detail = f"no list known to be on the charger, sent Full: {detail}"
        request = call.SendLocalList(
            list_version=version,
            update_type=UpdateType.full if full else UpdateType.differential,
            local_authorization_list=entries,
        )
        return ListUpdate(request, detail)

    def accepted(self, charger_id: str, version: int) -> None:
        self._accepted[charger_id] = version

    def forget(self, charger_id: str) -> None:
        """The charger's list is not the one we sent: the next Differential goes Full."""
        self._accepted.pop(charger_id, None)
