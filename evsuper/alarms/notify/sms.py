"""SMS through an HTTP gateway, with the standard library's urllib, run in a worker thread.

The gateway is described by templates: ``{to}`` and ``{text}`` (and ``{token}``, read from
the environment variable ``token_env`` names) are URL-encoded in ``url_template`` and in
header values, JSON-escaped in ``body_template``. Any 2xx answer is a success.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from urllib.parse import quote

from evsuper.alarms.notify.email import NotificationError
from evsuper.project.model import HttpMethod, SmsSettings


def sms_token(settings: SmsSettings) -> str:
    if not settings.token_env:
        return ""
    token = os.environ.get(settings.token_env)
    if token is None:
        raise NotificationError(
            f"SMS gateway: environment variable {settings.token_env} is not set"
        )
    return token


def _json_escaped(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)[1:-1]


def build_request(
    settings: SmsSettings, to: str, text: str, token: str = ""
) -> urllib.request.Request:
    url = settings.url_template.format(
        to=quote(to, safe=""), text=quote(text, safe=""), token=quote(token, safe="")
    )
    headers = {
        name: value.format(to=to, text=text, token=token)
        for name, value in settings.headers.items()
    }
    data = None
    if settings.method is HttpMethod.POST:
        data = settings.body_template.format(
            to=_json_escaped(to), text=_json_escaped(text), token=_json_escaped(token)
        ).encode("utf-8")
        if not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = "application/json; charset=utf-8"
    headers.setdefault("User-Agent", "evsuper-notifier")
    return urllib.request.Request(url, data=data, headers=headers, method=settings.method.value)


def send_sms(settings: SmsSettings, to: str, text: str) -> None:
    """Call the gateway (blocking); raise ``NotificationError`` unless it answers 2xx."""
    request = build_request(settings, to, text, sms_token(settings))
    try:
        with urllib.request.urlopen(request, timeout=settings.timeout_s) as response:
            status = response.status
            response.read(65536)
    except urllib.error.HTTPError as exc:
        detail = exc.read(200).decode("utf-8", "replace").strip()
        raise NotificationError(f"SMS gateway answered {exc.code} {exc.reason}: {detail}") from None
    except urllib.error.URLError as exc:
        raise NotificationError(f"SMS gateway unreachable: {exc.reason}") from None
    if not 200 <= status < 300:
        raise NotificationError(f"SMS gateway answered {status}")
