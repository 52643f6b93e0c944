"""``[notifications]`` in project.toml: nested tables and arrays of tables load into the
typed model; every mistake names file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from evsuper.alarms.model import Category, Priority, Transition
from evsuper.project.loader import ProjectError, load_project
from evsuper.project.model import HttpMethod, NotificationChannel, SmtpSecurity

GOOD = """\
format_version = 1
name = "Depot"

[notifications]
enabled = true
timezone = "Europe/Zurich"
retry_delays_s = [5, 30, 120]

[notifications.smtp]
host = "mail.example.org"
security = "starttls"
username = "evsuper"
password_env = "EVSUPER_SMTP_PASSWORD"
sender = "evsuper@example.org"
timeout_s = 20

[notifications.sms]
url_template = "https://sms.example.org/send?to={to}&msg={text}&key={token}"
method = "POST"
body_template = '{{"to": "{to}", "text": "{text}"}}'
token_env = "EVSUPER_SMS_TOKEN"
headers = { "X-Site" = "depot" }

[[notifications.recipients]]
name = "ops"
email = "ops@example.org"
phone = "+41 79 000 00 01"

[[notifications.recipients]]
name = "boss"
email = "boss@example.org"

[[notifications.rules]]
name = "faults"
priorities = [1, 2]
categories = ["charger-fault", "safety"]
chargers = ["CP-0*"]
recipients = ["ops"]
channels = ["email", "sms"]
on = ["activated", "returned"]
quiet_hours = "22:00-06:00"
quiet_max_priority = 1
escalate_after_min = 30
escalate_to = ["boss"]

[[notifications.rules]]
name = "everything to the boss"
recipients = ["boss"]
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "project.toml").write_text(text)
    return tmp_path


def test_notification_settings_load(tmp_path: Path) -> None:
    settings = load_project(write(tmp_path, GOOD)).notifications
    assert settings.enabled and settings.timezone == "Europe/Zurich"
    assert settings.retry_delays_s == (5.0, 30.0, 120.0)
    smtp = settings.smtp
    assert (smtp.host, smtp.security, smtp.effective_port, smtp.timeout_s) == (
        "mail.example.org",
        SmtpSecurity.STARTTLS,
        587,
        20.0,
    )
    assert smtp.password_env == "EVSUPER_SMTP_PASSWORD"
    assert settings.sms.method is HttpMethod.POST and settings.sms.headers == {"X-Site": "depot"}
    assert [r.name for r in settings.recipients] == ["ops", "boss"]
    faults, everything = settings.rules
    assert faults.priorities == (Priority.CRITICAL, Priority.HIGH)
    assert faults.categories == (Category.CHARGER_FAULT, Category.SAFETY)
    assert faults.channels == (NotificationChannel.EMAIL, NotificationChannel.SMS)
    assert faults.on == (Transition.ACTIVATED, Transition.RETURNED)
    assert (faults.quiet_hours, faults.quiet_max_priority) == ("22:00-06:00", Priority.CRITICAL)
    assert (faults.escalate_after_min, faults.escalate_to) == (30.0, ("boss",))
    # defaults: every priority, category and charger, e-mail, on activation
    assert (everything.priorities, everything.categories, everything.chargers) == ((), (), ())
    assert everything.channels == (NotificationChannel.EMAIL,)
    assert everything.on == (Transition.ACTIVATED,)


def test_no_notifications_table_means_off(tmp_path: Path) -> None:
    project = load_project(write(tmp_path, 'format_version = 1\nname = "x"\n'))
    assert not project.notifications.enabled and project.notifications.rules == ()


def _line_of(text: str, needle: str, occurrence: int = 1) -> int:
    lines = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    return lines[occurrence - 1]


@pytest.mark.parametrize(
    ("old", "new", "field", "message", "line_of"),
    [
        (
            'recipients = ["ops"]',
            'recipients = ["ops", "nobody"]',
            "notifications.rules[0].recipients[1]",
            "unknown recipient 'nobody' (known: boss, ops)",
            'recipients = ["ops", "nobody"]',
        ),
        (
            'escalate_to = ["boss"]',
            'escalate_to = ["bos"]',
            "notifications.rules[0].escalate_to[0]",
            "unknown recipient 'bos'",
            'escalate_to = ["bos"]',
        ),
        (
            'quiet_hours = "22:00-06:00"',
            'quiet_hours = "22:00-25:00"',
            "notifications.rules[0].quiet_hours",
            "'25:00' is not a time of day",
            "quiet_hours",
        ),
        (
            'quiet_hours = "22:00-06:00"',
            'quiet_hours = "22:00"',
            "notifications.rules[0].quiet_hours",
            "not a time range",
            "quiet_hours",
        ),
        (
            'channels = ["email", "sms"]',
            'channels = ["email", "pager"]',
            "notifications.rules[0].channels[1]",
            "'pager' is not one of 'email', 'sms'",
            "channels",
        ),
        (
            'recipients = ["boss"]',
            "recipients = []",
            "notifications.rules[1].recipients",
            "a rule needs at least one recipient",
            "recipients = []",
        ),
        (
            'name = "everything to the boss"\nrecipients = ["boss"]',
            'name = "everything to the boss"',
            "notifications.rules[1].recipients",
            "required setting is missing",
            ("[[notifications.rules]]", 2),  # the table that lacks it
        ),
        (
            "priorities = [1, 2]",
            "priorities = [1, 7]",
            "notifications.rules[0].priorities[1]",
            "7 is not one of 1, 2, 3, 4",
            "priorities",
        ),
        (
            'on = ["activated", "returned"]',
            'on = ["activated", "gone"]',
            "notifications.rules[0].on[1]",
            "'gone' is not one of",
            'on = ["activated", "gone"]',
        ),
        (
            'security = "starttls"',
            'security = "ssl"',
            "notifications.smtp.security",
            "'ssl' is not one of 'starttls', 'tls', 'none'",
            "security",
        ),
        (
            'password_env = "EVSUPER_SMTP_PASSWORD"',
            'password_env = "s3cret!"',
            "notifications.smtp.password_env",
            "is not an environment variable name",
            "password_env",
        ),
        (
            'password_env = "EVSUPER_SMTP_PASSWORD"\n',
            "",
            "notifications.smtp.password_env",
            "required with username",
            "[notifications.smtp]",
        ),
        (
            'host = "mail.example.org"\n',
            "",
            "notifications.smtp.host",
            "required: a rule sends e-mail",
            "[notifications.smtp]",
        ),
        (
            'url_template = "https://sms.example.org/send?to={to}&msg={text}&key={token}"',
            'url_template = "https://sms.example.org/send?to={phone}"',
            "notifications.sms.url_template",
            "bad placeholder 'phone'",
            "url_template",
        ),
        (
            'timezone = "Europe/Zurich"',
            'timezone = "Mars/Olympus"',
            "notifications.timezone",
            "unknown time zone 'Mars/Olympus'",
            "timezone",
        ),
        (
            "escalate_after_min = 30\n",
            "",
            "notifications.rules[0].escalate_after_min",
            "required (> 0) with escalate_to",
            "[[notifications.rules]]",
        ),
        (
            'name = "boss"\nemail = "boss@example.org"',
            'name = "ops"\nemail = "boss@example.org"',
            "notifications.recipients[1].name",
            "duplicate recipient 'ops'",
            ('name = "ops"', 2),
        ),
        (
            'name = "boss"\nemail = "boss@example.org"',
            'name = "boss"\nphone = "+41 79 000 00 02"',
            "notifications.rules[1].recipients[0]",
            "'boss' has no address for email",
            ('recipients = ["boss"]', 1),
        ),
        (
            "timeout_s = 20",
            "timeout = 20",
            "notifications.smtp.timeout",
            "unknown setting",
            "timeout = 20",
        ),
        (
            "retry_delays_s = [5, 30, 120]",
            'retry_delays_s = [5, "x"]',
            "notifications.retry_delays_s[1]",
            "expected a number, got 'x'",
            "retry_delays_s",
        ),
        (
            'headers = { "X-Site" = "depot" }',
            'headers = { "X-Site" = "{site}" }',
            "notifications.sms.headers.X-Site",
            "bad placeholder 'site'",
            "headers",
        ),
        (
            'headers = { "X-Site" = "depot" }',
            'headers = { "X-Site" = 3 }',
            "notifications.sms.headers.X-Site",
            "expected a string, got 3",
            "headers",
        ),
    ],
)
def test_notification_errors_name_file_line_and_field(
    tmp_path: Path, old: str, new: str, field: str, message: str, line_of: str | tuple[str, int]
) -> None:
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    with pytest.raises(ProjectError) as info:
        load_project(write(tmp_path, text))
    error = info.value
    assert error.field == field
    assert message in error.message
    needle, occurrence = line_of if isinstance(line_of, tuple) else (line_of, 1)
    assert error.line == _line_of(text, needle, occurrence), str(error)
    assert str(error).startswith(f"{tmp_path / 'project.toml'}:{error.line}: {field}: ")


def test_the_example_in_the_docs_loads(tmp_path: Path) -> None:
    docs = (Path(__file__).resolve().parents[3] / "docs" / "notifications.md").read_text()
    example = docs.split("```toml\n", 1)[1].split("```", 1)[0]
    project = load_project(write(tmp_path, f'format_version = 1\nname = "Doc"\n\n{example}'))
    settings = project.notifications
    assert [r.name for r in settings.rules] == [
        "bollard faults",
        "critical to the manager, raised and gone",
    ]
    assert settings.rules[0].escalate_to == ("manager",)
