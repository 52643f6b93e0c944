"""The permission table: each role holds the one before it, and what the issue lists."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from evsuper.engine import commands as cmd
from evsuper.users.permissions import ROLE_PERMISSIONS, Actor, Permission, Role

P = Permission


def test_each_role_holds_everything_of_the_one_before() -> None:
    roles = list(Role)
    for weaker, stronger in itertools.pairwise(roles):
        assert ROLE_PERMISSIONS[weaker] < ROLE_PERMISSIONS[stronger]


@pytest.mark.parametrize(
    ("role", "allowed", "refused"),
    [
        (Role.VIEWER, {P.VIEW}, {P.CONTROL_CHARGING, P.ACKNOWLEDGE_ALARMS}),
        (
            Role.OPERATOR,
            {P.CONTROL_CHARGING, P.SET_AVAILABILITY, P.ACKNOWLEDGE_ALARMS, P.RESERVE},
            {P.RESET, P.UNLOCK, P.SHELVE_ALARMS},
        ),
        (
            Role.MAINTENANCE,
            {P.RESET, P.UNLOCK, P.FIRMWARE, P.DIAGNOSTICS, P.CONFIGURE_CHARGERS, P.SHELVE_ALARMS},
            {P.EDIT_PROJECT, P.MANAGE_USERS},
        ),
        (Role.INTEGRATOR, {P.EDIT_PROJECT, P.RAW_OCPP}, {P.MANAGE_USERS}),
        (Role.ADMIN, set(Permission), set()),
    ],
)
def test_roles_as_the_issue_defines_them(
    role: Role, allowed: set[Permission], refused: set[Permission]
) -> None:
    actor = Actor("someone", role)
    assert all(actor.may(p) for p in allowed)
    assert not any(actor.may(p) for p in refused)


def concrete_commands() -> list[type[cmd.Command]]:
    found: list[type[cmd.Command]] = []
    pending = list(cmd.Command.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_every_command_names_its_permission() -> None:
    commands = concrete_commands()
    assert len(commands) >= 21
    for command in commands:
        assert isinstance(command.__dict__.get("permission"), Permission), command.__name__


def test_dangerous_commands_ask_for_confirmation_and_safe_ones_do_not() -> None:
    def asks(command: cmd.Command) -> bool:
        return command.confirmation() is not None

    assert asks(cmd.Reset(charger_id="CP-1", kind=cmd.ResetKind.HARD))
    assert not asks(cmd.Reset(charger_id="CP-1", kind=cmd.ResetKind.SOFT))
    assert asks(cmd.UnlockConnector(charger_id="CP-1", connector_id=1))
    off = cmd.ChangeAvailability(
        charger_id="CP-1", connector_id=0, kind=cmd.AvailabilityKind.INOPERATIVE
    )
    assert asks(off)
    assert not asks(dataclasses.replace(off, connector_id=1))
    assert not asks(dataclasses.replace(off, kind=cmd.AvailabilityKind.OPERATIVE))
    assert asks(cmd.RawCall(charger_id="CP-1", action="Reset", payload={"type": "Soft"}))
    assert not asks(cmd.RawCall(charger_id="CP-1", action="GetConfiguration", payload={}))
    assert not asks(cmd.RemoteStop(charger_id="CP-1", transaction_id=3))
