"""``[reports]`` in project.toml: read with its defaults; errors name file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from evsuper.project.loader import ProjectError, load_project
from evsuper.project.model import ReportSettings

HEAD = 'format_version = 1\nname = "Site"\n'
SMTP = '[notifications.smtp]\nhost = "mail.example.org"\nsender = "evsuper@example.org"\n'


def load(tmp_path: Path, text: str) -> ReportSettings:
    (tmp_path / "project.toml").write_text(HEAD + text, encoding="utf-8")
    return load_project(tmp_path).reports


def test_reports_defaults_and_values(tmp_path: Path) -> None:
    assert load(tmp_path, "") == ReportSettings()
    settings = load(
        tmp_path,
        '[reports]\ndaily_enabled = true\ndaily_at = "23:45"\nfolder = "pdf"\n'
        'email_to = ["ops@example.org"]\n' + SMTP,
    )
    assert settings == ReportSettings(True, "23:45", "pdf", ("ops@example.org",))


@pytest.mark.parametrize(
    ("text", "line", "where", "message"),
    [
        ('[reports]\ndaily_at = "6h"\n', 4, "reports.daily_at", "not a time of day"),
        ('[reports]\ndaily_at = "24:00"\n', 4, "reports.daily_at", "00:00 to 23:59"),
        ('[reports]\nfolder = " "\n', 4, "reports.folder", "must not be empty"),
        ("[reports]\ndaily_enabled = 1\n", 4, "reports.daily_enabled", "true or false"),
        ('[reports]\nemail_to = ["ops"]\n' + SMTP, 4, "reports.email_to[0]", "not an e-mail"),
        ('[reports]\nemail_to = ["o@x.org"]\n', 1, "notifications.smtp.host", "required"),
        ("[reports]\nsend = true\n", 4, "reports.send", "unknown setting"),
    ],
)
def test_reports_errors_name_file_line_and_field(
    tmp_path: Path, text: str, line: int, where: str, message: str
) -> None:
    with pytest.raises(ProjectError) as info:
        load(tmp_path, text)
    error = info.value
    assert (error.file, error.line, error.field) == (tmp_path / "project.toml", line, where)
    assert message in error.message
