"""Who may do what: the roles, their permissions, and the actor behind every action.

This file is the permission table. Code checks permissions, never role names: a role
is only a named set of permissions, each role holding everything of the one before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Permission(StrEnum):
    VIEW = "view"  # see everything, including reads that ask a charger (configuration, ...)
    CONTROL_CHARGING = "control-charging"  # remote start and stop
    SET_AVAILABILITY = "set-availability"
    RESERVE = "reserve"
    ACKNOWLEDGE_ALARMS = "acknowledge-alarms"
    RESET = "reset"
    UNLOCK = "unlock"
    FIRMWARE = "firmware"
    DIAGNOSTICS = "diagnostics"
    CONFIGURE_CHARGERS = "configure-chargers"  # configuration keys, cache, triggers, local list
    SMART_CHARGING = "smart-charging"  # charging profiles
    SHELVE_ALARMS = "shelve-alarms"
    EDIT_PROJECT = "edit-project"  # project, templates, ground plan, drivers, new chargers
    RAW_OCPP = "raw-ocpp"  # any OCPP message as on the wire (evsuper call)
    MANAGE_USERS = "manage-users"


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    MAINTENANCE = "maintenance"
    INTEGRATOR = "integrator"
    ADMIN = "admin"


_VIEWER = frozenset({Permission.VIEW})
_OPERATOR = _VIEWER | {
    Permission.CONTROL_CHARGING,
    Permission.SET_AVAILABILITY,
    Permission.RESERVE,
    Permission.ACKNOWLEDGE_ALARMS,
}
_MAINTENANCE = _OPERATOR | {
    Permission.RESET,
    Permission.UNLOCK,
    Permission.FIRMWARE,
    Permission.DIAGNOSTICS,
    Permission.CONFIGURE_CHARGERS,
    Permission.SMART_CHARGING,
    Permission.SHELVE_ALARMS,
}
_INTEGRATOR = _MAINTENANCE | {Permission.EDIT_PROJECT, Permission.RAW_OCPP}
_ADMIN = _INTEGRATOR | {Permission.MANAGE_USERS}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: _VIEWER,
    Role.OPERATOR: _OPERATOR,
    Role.MAINTENANCE: _MAINTENANCE,
    Role.INTEGRATOR: _INTEGRATOR,
    Role.ADMIN: _ADMIN,
}


class Origin(StrEnum):
    """Where an action comes from, kept in the audit trail."""

    HMI = "hmi"
    CLI = "cli"  # evsuper users / call, run by the owner of the project folder
    ENGINE = "engine"  # the engine acting on its own (restorations, ...)
    OPCUA = "opcua"  # a client of evsuper's OPC UA server (a BMS, another SCADA)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a user name with the role it had when acting, and from where."""

    user: str
    role: Role
    origin: Origin = Origin.HMI

    def may(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]


# Nobody logged in: the HMI shows everything and changes nothing.
NOBODY = Actor("nobody", Role.VIEWER)
# The engine acting on its own, e.g. restoring an operator's settings after a reboot.
ENGINE = Actor("evsuper", Role.ADMIN, Origin.ENGINE)


def lowest_role(permission: Permission) -> Role:
    """The first role holding ``permission``, to tell a user whom to ask."""
    return next(role for role in Role if permission in ROLE_PERMISSIONS[role])


def refusal(permission: Permission) -> str:
    """Why a control is off for the current user, for its tooltip."""
    return f"Needs the {permission.value} permission ({lowest_role(permission).value} or above)"
