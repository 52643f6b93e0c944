"""The notifier against real servers on loopback: an aiosmtpd SMTP server (STARTTLS + AUTH
LOGIN/PLAIN, implicit TLS + AUTH, plain) and an http.server SMS gateway. Retries, the
failing tag, escalation with an injected clock, a stop that abandons, a slow server."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import ssl
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import trustme
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from support import wait_until

from evsuper.alarms.model import AlarmRecord, AlarmState, Category, Priority, Transition
from evsuper.alarms.notify import FAILING_TAG, LAST_ERROR_TAG, Notifier
from evsuper.alarms.notify.message import Notice, sms_text
from evsuper.core.bus import TagBus
from evsuper.project.loader import load_project
from evsuper.project.model import (
    HttpMethod,
    NotificationChannel,
    NotificationRule,
    NotificationSettings,
    Recipient,
    SmsSettings,
    SmtpSecurity,
    SmtpSettings,
)

T0 = datetime(2026, 11, 22, 2, 53, 10, tzinfo=UTC)
PASSWORD_ENV = "EVSUPER_TEST_SMTP_PASSWORD"
TOKEN_ENV = "EVSUPER_TEST_SMS_TOKEN"
FAST_RETRIES = (0.01, 0.02, 0.03)


# ---------------------------------------------------------------------- SMTP server


@dataclass
class Mailbox:
    """aiosmtpd handler: keeps every message, can hold DATA until ``gate`` is set."""

    messages: list[EmailMessage] = field(default_factory=list)
    over_tls: list[bool] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    gate: asyncio.Event | None = None
    waiting: int = 0

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        if self.gate is not None:
            self.waiting += 1
            await self.gate.wait()
            self.waiting -= 1
        message = message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.over_tls.append(session.ssl is not None)
        return "250 OK"

    def authenticate(
        self, server: SMTP, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        ok = (data.login, data.password) == (b"evsuper", b"s3cret")
        if ok:
            self.logins.append(f"{mechanism}:{data.login.decode()}")
        return AuthResult(success=ok, handled=False)  # False: the server answers 535

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]


@dataclass
class Tls:
    server: ssl.SSLContext
    client: ssl.SSLContext


@pytest.fixture(scope="module")
def tls() -> Tls:
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return Tls(server, client)


@dataclass
class SmtpServer:
    port: int
    mailbox: Mailbox


async def serve_smtp(
    *,
    starttls: ssl.SSLContext | None = None,
    implicit_tls: ssl.SSLContext | None = None,
    auth: bool = False,
    auth_require_tls: bool = True,
) -> tuple[asyncio.Server, SmtpServer]:
    mailbox = Mailbox()

    def factory() -> SMTP:
        return SMTP(
            mailbox,
            hostname="localhost",
            tls_context=starttls,
            require_starttls=starttls is not None,
            authenticator=mailbox.authenticate if auth else None,
            auth_required=auth,
            auth_require_tls=auth_require_tls,
        )

    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, "127.0.0.1", 0, ssl=implicit_tls)
    port = server.sockets[0].getsockname()[1]
    return server, SmtpServer(port, mailbox)


@pytest.fixture
async def plain_smtp() -> AsyncIterator[SmtpServer]:
    server, smtp = await serve_smtp()
    yield smtp
    if smtp.mailbox.gate is not None:
        smtp.mailbox.gate.set()
    server.close()


# ---------------------------------------------------------------------- SMS gateway


@dataclass
class GatewayRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query)


class Gateway:
    """An HTTP SMS gateway on loopback, answering the queued statuses, then 200."""

    def __init__(self) -> None:
        self.requests: list[GatewayRequest] = []
        self.statuses: list[int] = []
        self.always: int = 200
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                status = gateway.statuses.pop(0) if gateway.statuses else gateway.always
                gateway.requests.append(
                    GatewayRequest(self.command, self.path, dict(self.headers), body)
                )
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    server = Gateway()
    yield server
    server.close()


# ---------------------------------------------------------------------- helpers


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def alarm(
    n: int = 3,
    *,
    priority: Priority = Priority.CRITICAL,
    state: AlarmState = AlarmState.UNACKNOWLEDGED,
    at: datetime = T0,
    **more: Any,
) -> AlarmRecord:
    source = f"CP-{n:03d}/C1/GroundFailure"
    return AlarmRecord(
        key=f"connector-faulted:{source}",
        definition_id="connector-faulted",
        source=source,
        charger_id=f"CP-{n:03d}",
        priority=priority,
        category=Category.CHARGER_FAULT,
        message="Connector 1 faulted (GroundFailure)",
        state=state,
        active=True,
        value="GroundFailure",
        activated=at,
        changed=at,
        **more,
    )


OPS = Recipient("ops", email="ops@example.org", phone="+41 79 000 00 01")
BOSS = Recipient("boss", email="boss@example.org")


def settings(
    *,
    smtp_port: int = 0,
    security: SmtpSecurity = SmtpSecurity.NONE,
    username: str = "",
    sms: SmsSettings | None = None,
    channels: tuple[NotificationChannel, ...] = (NotificationChannel.EMAIL,),
    **more: Any,
) -> NotificationSettings:
    return NotificationSettings(
        enabled=True,
        timezone="Europe/Zurich",
        smtp=SmtpSettings(
            host="127.0.0.1",
            port=smtp_port,
            security=security,
            username=username,
            password_env=PASSWORD_ENV if username else "",
            sender="evsuper@example.org",
            timeout_s=10,
        ),
        sms=sms or SmsSettings(),
        recipients=(OPS, BOSS),
        rules=(NotificationRule(name="all", recipients=("ops",), channels=channels),),
        retry_delays_s=FAST_RETRIES,
        escalation_check_s=0.01,
        **more,
    )


@pytest.fixture
async def notifiers() -> AsyncIterator[list[Notifier]]:
    """Notifiers to stop at the end of the test, whatever happened."""
    started: list[Notifier] = []
    yield started
    for notifier in started:
        await notifier.stop()


async def started(notifiers: list[Notifier], notifier: Notifier) -> Notifier:
    await notifier.start()
    notifiers.append(notifier)
    return notifier


# ---------------------------------------------------------------------- e-mail


async def test_email_over_starttls_with_login(
    tls: Tls, notifiers: list[Notifier], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "s3cret")
    server, smtp = await serve_smtp(starttls=tls.server, auth=True, auth_require_tls=True)
    try:
        bus = TagBus()
        config = settings(smtp_port=smtp.port, security=SmtpSecurity.STARTTLS, username="evsuper")
        notifier = await started(
            notifiers, Notifier(config, bus, clock=Clock(), site="Depot", ssl_context=tls.client)
        )
        notifier.alarm_changed(alarm(), Transition.ACTIVATED)
        (message,) = await wait_until(lambda: smtp.mailbox.messages)
        assert smtp.mailbox.over_tls == [True]
        assert smtp.mailbox.logins and smtp.mailbox.logins[0].endswith(":evsuper")
        assert (
            message["Subject"]
            == "[P1 Critical] CP-003: Connector 1 faulted (GroundFailure) (Depot)"
        )
        assert (message["From"], message["To"]) == ("evsuper@example.org", "ops@example.org")
        assert message["X-Evsuper-Alarm"] == "connector-faulted:CP-003/C1/GroundFailure"
        text = message.get_content()
        assert "2026-11-22 02:53:10 UTC (2026-11-22 03:53:10 CET local)" in text
        assert "Value:      GroundFailure" in text and "To acknowledge:" in text
        await wait_until(lambda: notifier.sent == 1)  # once the session ended
        assert bus.value(FAILING_TAG) is False
    finally:
        server.close()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_email_over_implicit_tls_with_login(
    tls: Tls, notifiers: list[Notifier], monkeypatch: pytest.MonkeyPatch
) -> None:
    # aiosmtpd only counts STARTTLS as TLS for AUTH, so it must allow AUTH "without" TLS
    # here; the connection is TLS from the first byte all the same.
    monkeypatch.setenv(PASSWORD_ENV, "s3cret")
    server, smtp = await serve_smtp(implicit_tls=tls.server, auth=True, auth_require_tls=False)
    try:
        config = settings(smtp_port=smtp.port, security=SmtpSecurity.TLS, username="evsuper")
        notifier = await started(
            notifiers, Notifier(config, TagBus(), clock=Clock(), ssl_context=tls.client)
        )
        notifier.alarm_changed(alarm(), Transition.ACTIVATED)
        await wait_until(lambda: smtp.mailbox.messages)
        assert smtp.mailbox.logins and smtp.mailbox.logins[0].endswith(":evsuper")
    finally:
        server.close()


async def test_for_project_takes_the_site_name_and_the_ca_file(
    tmp_path: Path, notifiers: list[Notifier]
) -> None:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    ca.cert_pem.write_to_path(str(tmp_path / "mail-ca.pem"))
    server, smtp = await serve_smtp(starttls=server_context)
    try:
        (tmp_path / "project.toml").write_text(
            f"""\
format_version = 1
name = "Depot Nord"

[notifications]
enabled = true

[notifications.smtp]
host = "127.0.0.1"
port = {smtp.port}
sender = "evsuper@example.org"
ca_file = "mail-ca.pem"

[[notifications.recipients]]
name = "ops"
email = "ops@example.org"

[[notifications.rules]]
name = "all"
recipients = ["ops"]
"""
        )
        project = load_project(tmp_path)
        notifier = await started(notifiers, Notifier.for_project(project, TagBus()))
        notifier.alarm_changed(alarm(), Transition.ACTIVATED)
        (message,) = await wait_until(lambda: smtp.mailbox.messages)
        assert str(message["Subject"]).endswith("(Depot Nord)")
        assert smtp.mailbox.over_tls == [True]
    finally:
        server.close()


async def test_starttls_refuses_an_untrusted_certificate(
    tls: Tls, notifiers: list[Notifier]
) -> None:
    server, smtp = await serve_smtp(starttls=tls.server)
    try:
        bus = TagBus()
        config = settings(smtp_port=smtp.port, security=SmtpSecurity.STARTTLS)
        # the system's CAs do not trust the test CA
        notifier = await started(notifiers, Notifier(config, bus, clock=Clock()))
        notifier.alarm_changed(alarm(), Transition.ACTIVATED)
        await wait_until(lambda: bus.value(FAILING_TAG) is True)
        assert "CERTIFICATE_VERIFY_FAILED" in bus.value(LAST_ERROR_TAG)
        assert smtp.mailbox.messages == []
    finally:
        server.close()


async def test_permanent_failure_raises_the_failing_tag_and_a_success_clears_it(
    tls: Tls, notifiers: list[Notifier], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "wrong")
    server, smtp = await serve_smtp(starttls=tls.server, auth=True)
    try:
        bus = TagBus()
        config = settings(smtp_port=smtp.port, security=SmtpSecurity.STARTTLS, username="evsuper")
        notifier = await started(
            notifiers, Notifier(config, bus, clock=Clock(), ssl_context=tls.client)
        )
        assert bus.value(FAILING_TAG) is False
        notifier.alarm_changed(alarm(3), Transition.ACTIVATED)
        await wait_until(lambda: bus.value(FAILING_TAG) is True)
        assert notifier.failed_attempts == 1 + len(FAST_RETRIES) and notifier.given_up == 1
        error = bus.value(LAST_ERROR_TAG)
        assert "email to ops <ops@example.org>" in error and "SMTPAuthenticationError" in error
        assert "wrong" not in error  # never the password

        monkeypatch.setenv(PASSWORD_ENV, "s3cret")  # the operator fixes the environment
        notifier.alarm_changed(alarm(4), Transition.ACTIVATED)
        await wait_until(lambda: bus.value(FAILING_TAG) is False)
        assert [m["Subject"] for m in smtp.mailbox.messages] == [
            "[P1 Critical] CP-004: Connector 1 faulted (GroundFailure)"
        ]
    finally:
        server.close()


async def test_a_missing_password_variable_is_reported(
    plain_smtp: SmtpServer, notifiers: list[Notifier], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    bus = TagBus()
    config = settings(smtp_port=plain_smtp.port, username="evsuper")
    notifier = await started(notifiers, Notifier(config, bus, clock=Clock()))
    notifier.alarm_changed(alarm(), Transition.ACTIVATED)
    await wait_until(lambda: bus.value(FAILING_TAG) is True)
    assert f"environment variable {PASSWORD_ENV} is not set" in bus.value(LAST_ERROR_TAG)


# ---------------------------------------------------------------------- SMS


async def test_sms_get_gateway_gets_url_encoded_placeholders(
    gateway: Gateway, notifiers: list[Notifier], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "k&y=1")
    sms = SmsSettings(
        url_template=f"http://127.0.0.1:{gateway.port}/send?to={{to}}&text={{text}}&key={{token}}",
        token_env=TOKEN_ENV,
    )
    config = settings(sms=sms, channels=(NotificationChannel.SMS,))
    notifier = await started(notifiers, Notifier(config, TagBus(), clock=Clock()))
    record = alarm()
    notifier.alarm_changed(record, Transition.ACTIVATED)
    (request,) = await wait_until(lambda: gateway.requests)
    assert request.method == "GET"
    expected = sms_text(Notice(record, Transition.ACTIVATED), ZoneInfo("Europe/Zurich"))
    assert expected == "P1 CP-003: Connector 1 faulted (GroundFailure) 03:53"
    assert request.query == {"to": ["+41 79 000 00 01"], "text": [expected], "key": ["k&y=1"]}


async def test_sms_post_gateway_gets_a_json_escaped_body_and_headers(
    gateway: Gateway, notifiers: list[Notifier], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "t0ken")
    sms = SmsSettings(
        url_template=f"http://127.0.0.1:{gateway.port}/api/sms",
        method=HttpMethod.POST,
        body_template='{{"to": "{to}", "text": "{text}"}}',
        headers={"Authorization": "Bearer {token}"},
        token_env=TOKEN_ENV,
    )
    config = settings(sms=sms, channels=(NotificationChannel.SMS,))
    notifier = await started(notifiers, Notifier(config, TagBus(), clock=Clock()))
    record = replace(alarm(), message='Door "B" open \\ tilt')
    notifier.alarm_changed(record, Transition.ACTIVATED)
    (request,) = await wait_until(lambda: gateway.requests)
    assert (request.method, request.path) == ("POST", "/api/sms")
    assert request.headers["Authorization"] == "Bearer t0ken"
    assert request.headers["Content-Type"].startswith("application/json")
    assert json.loads(request.body) == {
        "to": "+41 79 000 00 01",
        "text": 'P1 CP-003: Door "B" open \\ tilt 03:53',
    }


async def test_failed_sends_are_retried_with_back_off_then_succeed(
    gateway: Gateway, notifiers: list[Notifier]
) -> None:
    gateway.statuses = [500, 503]
    bus = TagBus()
    sms = SmsSettings(url_template=f"http://127.0.0.1:{gateway.port}/send?to={{to}}&t={{text}}")
    config = settings(sms=sms, channels=(NotificationChannel.SMS,))
    notifier = await started(notifiers, Notifier(config, bus, clock=Clock()))
    notifier.alarm_changed(alarm(), Transition.ACTIVATED)
    await wait_until(lambda: notifier.sent == 1)
    assert len(gateway.requests) == 3 and notifier.failed_attempts == 2
    assert "SMS gateway answered 503" in bus.value(LAST_ERROR_TAG)
    assert bus.value(FAILING_TAG) is False and notifier.given_up == 0  # never given up


async def test_an_unreachable_gateway_is_given_up_and_reported(notifiers: list[Notifier]) -> None:
    bus = TagBus()
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sms = SmsSettings(
        url_template=f"http://127.0.0.1:{port}/send?to={{to}}&t={{text}}", timeout_s=2
    )
    config = settings(sms=sms, channels=(NotificationChannel.SMS,))
    notifier = await started(notifiers, Notifier(config, bus, clock=Clock()))
    notifier.alarm_changed(alarm(), Transition.ACTIVATED)
    await wait_until(lambda: bus.value(FAILING_TAG) is True)
    assert "SMS gateway unreachable" in bus.value(LAST_ERROR_TAG)


# ---------------------------------------------------------------------- escalation


async def test_escalation_after_n_minutes_unless_acknowledged(
    plain_smtp: SmtpServer, notifiers: list[Notifier]
) -> None:
    clock = Clock()
    config = settings(smtp_port=plain_smtp.port)
    rule = replace(config.rules[0], escalate_after_min=30, escalate_to=("boss",))
    config = replace(config, rules=(rule,))
    notifier = await started(notifiers, Notifier(config, TagBus(), clock=clock))
    ignored, acknowledged = alarm(3), alarm(4)
    notifier.alarm_changed(ignored, Transition.ACTIVATED)
    notifier.alarm_changed(acknowledged, Transition.ACTIVATED)
    await wait_until(lambda: len(plain_smtp.mailbox.messages) == 2)
    assert {m["To"] for m in plain_smtp.mailbox.messages} == {"ops@example.org"}
    assert len(notifier.pending_escalations) == 2

    clock.advance(minutes=10)
    notifier.alarm_changed(
        replace(acknowledged, state=AlarmState.ACKNOWLEDGED, acknowledged_by="max"),
        Transition.ACKNOWLEDGED,
    )
    clock.advance(minutes=19, seconds=59)
    assert notifier.check_escalations() == 0  # not yet; and the acknowledged one is dropped
    assert [e.key for e in notifier.pending_escalations] == [ignored.key]

    clock.advance(seconds=1)  # 30 minutes after the activation: the periodic check sends
    await wait_until(lambda: len(plain_smtp.mailbox.messages) == 3)
    escalation = plain_smtp.mailbox.messages[2]
    assert escalation["To"] == "boss@example.org"
    assert escalation["Subject"] == (
        "ESCALATION, unacknowledged for 30 min: "
        "[P1 Critical] CP-003: Connector 1 faulted (GroundFailure)"
    )
    assert "still unacknowledged 30 minutes after" in escalation.get_content()
    assert notifier.pending_escalations == []


async def test_a_cleared_alarm_cancels_its_escalation(notifiers: list[Notifier]) -> None:
    clock = Clock()
    config = settings()
    rule = replace(config.rules[0], escalate_after_min=5, escalate_to=("boss",), channels=())
    notifier = Notifier(replace(config, rules=(rule,)), TagBus(), clock=clock)
    record = alarm()
    notifier.alarm_changed(record, Transition.ACTIVATED)
    assert len(notifier.pending_escalations) == 1
    normal = replace(record, state=AlarmState.NORMAL, active=False)
    notifier.alarm_changed(normal, Transition.CLEARED)
    clock.advance(minutes=6)
    assert notifier.check_escalations() == 0 and notifier.pending_escalations == []


# ---------------------------------------------------------------------- the engine loop


async def test_a_slow_smtp_server_never_blocks_alarm_changed_or_the_loop(
    plain_smtp: SmtpServer, notifiers: list[Notifier]
) -> None:
    plain_smtp.mailbox.gate = asyncio.Event()  # the server holds every DATA
    config = settings(smtp_port=plain_smtp.port, max_concurrent_sends=2)
    notifier = await started(notifiers, Notifier(config, TagBus(), clock=Clock()))
    for n in range(100):  # synchronous calls: they only queue
        notifier.alarm_changed(alarm(n), Transition.ACTIVATED)
    assert notifier.backlog == 100
    # both senders are stuck inside the server's DATA, which this very loop serves: had
    # a send blocked the loop, the server could not have reached that point
    await wait_until(lambda: plain_smtp.mailbox.waiting == 2)
    assert notifier.backlog == 100
    plain_smtp.mailbox.gate.set()
    await wait_until(lambda: len(plain_smtp.mailbox.messages) == 100, within=30)
    await wait_until(lambda: notifier.backlog == 0)


async def test_stop_abandons_what_cannot_finish_in_time_and_logs_it(
    plain_smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    plain_smtp.mailbox.gate = asyncio.Event()
    config = settings(smtp_port=plain_smtp.port, max_concurrent_sends=1)
    notifier = Notifier(config, TagBus(), clock=Clock(), stop_timeout_s=0.2)
    await notifier.start()
    for n in range(3):
        notifier.alarm_changed(alarm(n), Transition.ACTIVATED)
    await wait_until(lambda: plain_smtp.mailbox.waiting == 1)
    caplog.set_level(logging.WARNING, logger="evsuper.alarms.notify")
    # stop returns while the send it abandons is still held inside the server's DATA
    await asyncio.wait_for(notifier.stop(), timeout=30)  # a hang guard, not a timing
    assert plain_smtp.mailbox.waiting == 1
    abandoned = [r.getMessage() for r in caplog.records if "abandoned at stop" in r.getMessage()]
    assert len(abandoned) == 3
    assert sum("(sending)" in m for m in abandoned) == 1
    assert sum("(queued)" in m for m in abandoned) == 2
    assert "CP-002" in abandoned[-1]
    plain_smtp.mailbox.gate.set()  # the abandoned thread's SMTP session may end now
    await wait_until(lambda: plain_smtp.mailbox.waiting == 0)


async def test_alarm_changed_never_raises_and_a_full_queue_drops_with_an_error() -> None:
    bus = TagBus()
    notifier = Notifier(settings(queue_limit=2), bus, clock=Clock())  # not started
    notifier.alarm_changed("not a record", Transition.ACTIVATED)  # type: ignore[arg-type]
    for n in range(5):
        notifier.alarm_changed(alarm(n), Transition.ACTIVATED)
    assert (notifier.backlog, notifier.dropped) == (2, 3)
    message = await wait_until(lambda: bus.value(LAST_ERROR_TAG))
    assert message.startswith("queue full (2): dropped email to ops")


async def test_disabled_notifications_do_nothing() -> None:
    bus = TagBus()
    notifier = Notifier(replace(settings(), enabled=False), bus, clock=Clock())
    await notifier.start()
    notifier.alarm_changed(alarm(), Transition.ACTIVATED)
    assert notifier.backlog == 0 and bus.value(FAILING_TAG) is None
    await notifier.stop()
