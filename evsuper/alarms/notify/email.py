"""E-mail through SMTP with the standard library's smtplib, run in a worker thread.

``send_email`` blocks (connect, STARTTLS or implicit TLS, login, send) and is meant for
``asyncio.to_thread``; every step is bounded by ``SmtpSettings.timeout_s``.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from datetime import datetime, tzinfo
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from evsuper.alarms.notify.message import Notice, body, subject
from evsuper.project.model import Project, SmtpSecurity, SmtpSettings


class NotificationError(Exception):
    """A notification that could not be sent (configuration or delivery)."""


def build_email(
    notice: Notice, *, sender: str, to: str, now: datetime, tz: tzinfo | None = None
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject(notice)
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(now.timestamp(), localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["X-Evsuper-Alarm"] = notice.record.key
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies please
    message.set_content(body(notice, now, tz))
    return message


def smtp_ssl_context(project: Project) -> ssl.SSLContext | None:
    """A context trusting ``[notifications.smtp] ca_file`` if set; None: the system's CAs."""
    ca_file = project.notifications.smtp.ca_file
    return None if ca_file is None else ssl.create_default_context(cafile=project.path(ca_file))


def smtp_password(settings: SmtpSettings) -> str | None:
    """The password from the environment variable ``password_env`` names (None: no login)."""
    if not settings.username:
        return None
    password = os.environ.get(settings.password_env) if settings.password_env else None
    if password is None:
        raise NotificationError(
            f"SMTP login as {settings.username!r}: environment variable "
            f"{settings.password_env or '(password_env not set)'} is not set"
        )
    return password


def send_email(
    settings: SmtpSettings, message: EmailMessage, *, ssl_context: ssl.SSLContext | None = None
) -> None:
    """Deliver ``message`` (blocking). Raises ``NotificationError`` or an ``OSError`` /
    ``smtplib.SMTPException`` the caller reports."""
    password = smtp_password(settings)
    context = ssl_context or ssl.create_default_context()
    host, port, timeout = settings.host, settings.effective_port, settings.timeout_s
    client: smtplib.SMTP
    if settings.security is SmtpSecurity.TLS:
        client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    with client:
        client.ehlo()
        if settings.security is SmtpSecurity.STARTTLS:
            if not client.has_extn("starttls"):
                raise NotificationError(f"{host}:{port} does not offer STARTTLS")
            client.starttls(context=context)
            client.ehlo()
        if password is not None:
            client.login(settings.username, password)
        refused = client.send_message(message)
        if refused:
            raise NotificationError(f"recipients refused: {refused}")
