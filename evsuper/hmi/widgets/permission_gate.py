"""Controls that need a permission: on only when their own condition holds and the user
may use them; otherwise off, with a tooltip naming the permission and the role that has it.

The router refuses a command anyway; this only spares the user a button that cannot work.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtWidgets import QWidget

from evsuper.users.permissions import Actor, Permission, refusal


class PermissionGates:
    def __init__(self, permissions: Mapping[QWidget, Permission]) -> None:
        self._permissions = dict(permissions)
        self._tips = {widget: widget.toolTip() for widget in permissions}  # when allowed

    @property
    def widgets(self) -> list[QWidget]:
        return list(self._permissions)

    def show(self, actor: Actor, conditions: Mapping[QWidget, bool]) -> None:
        """Enable each widget of ``conditions`` when its condition holds and ``actor`` may."""
        for widget, condition in conditions.items():
            permission = self._permissions[widget]
            allowed = actor.may(permission)
            widget.setEnabled(condition and allowed)
            widget.setToolTip(self._tips[widget] if allowed else refusal(permission))
