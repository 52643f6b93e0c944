"""E-mail and SMS notification of alarms: rules (who, when), escalation, the senders and
the ``Notifier`` the alarm engine drives. No Qt. See docs/notifications.md."""

from evsuper.alarms.notify.notifier import FAILING_TAG, LAST_ERROR_TAG, Notifier

__all__ = ["FAILING_TAG", "LAST_ERROR_TAG", "Notifier"]
