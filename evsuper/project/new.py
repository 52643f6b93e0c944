"""``evsuper new``: write a minimal, valid project for N OCPP 1.6J bollards."""

from __future__ import annotations

from pathlib import Path

from evsuper.project.loader import load_project
from evsuper.project.model import FORMAT_VERSION, AuthorizationMode, Project, UnknownChargerPolicy


def write_new_project(
    directory: Path,
    *,
    bollards: int,
    connectors: int = 2,
    id_pattern: str = "CP-{:03d}",
    unknown_chargers: UnknownChargerPolicy = UnknownChargerPolicy.REJECT,
    authorization: AuthorizationMode = AuthorizationMode.BADGES,
    name: str | None = None,
    max_power_kw: float = 22.0,
    badges: int = 20,
    port: int = 9000,
) -> Project:
    """Create ``directory/project.toml``; refuses to overwrite an existing project."""
    file = directory / "project.toml"
    if file.exists():
        raise FileExistsError(f"{file} already exists")
    ids = [id_pattern.format(i) for i in range(1, bollards + 1)]
    if len(set(ids)) != len(ids):
        raise ValueError(f"id pattern {id_pattern!r} gives duplicate ids; include a {{}} field")
    lines = [
        f"format_version = {FORMAT_VERSION}",
        f"name = {_quote(name or directory.resolve().name)}",
        "",
        "[ocpp]",
        'host = "127.0.0.1"',
        f"port = {port}",
        'path_prefix = "ocpp"  # chargers connect to ws://host:port/ocpp/<id> or ws://host:port/<id>',
        "heartbeat_interval_s = 60",
        "offline_after_heartbeats = 2.0",
        f'unknown_chargers = "{unknown_chargers.value}"  # reject | pending | accept',
        f'authorization = "{authorization.value}"  # badges | open',
        "# Version of the badges below as the chargers' local authorization list (SendLocalList):",
        "# raise it whenever a badge is added, removed or changed.",
        "local_list_version = 1",
        "# OCPP 1.6 Security Whitepaper profile. 1: chargers authenticate with HTTP Basic auth;",
        "# set each charger's password_hash with: evsuper charger-password PROJECT_DIR CHARGER_ID.",
        "# 2: the same over TLS (wss://); 3: TLS with client certificates whose subject CN is",
        "# the charger id. Both need tls_certificate and tls_private_key (PEM, relative to",
        "# this folder); 3 also tls_client_ca, the CA that signs the chargers' certificates.",
        "security_profile = 0",
        '# tls_certificate = "tls/server.pem"',
        '# tls_private_key = "tls/server.key"',
        '# tls_client_ca = "tls/chargers-ca.pem"',
        "",
        "[archive]",
        'url = "sqlite:///archive.sqlite"  # relative to this folder; or postgresql+psycopg://...',
        "",
        "[simulator]",
        "enabled = true",
        "# Simulated bollards only, under security profiles 2 and 3: the CA they trust for the",
        "# server certificate, and (profile 3) a folder with <charger id>.pem and .key each.",
        '# tls_ca = "tls/ca.pem"',
        '# tls_client_dir = "tls/bollards"',
        "",
    ]
    if badges:
        lines += [
            "# [[badges]]: id_tag (at most 20 characters), name, status (Accepted | Blocked |",
            "# Expired | Invalid), expiry (e.g. 2027-12-31T23:59:59Z), parent_id_tag",
        ]
    for i in range(1, badges + 1):
        lines += ["[[badges]]", f'id_tag = "BADGE-{i:04d}"', f'name = "Badge {i}"', ""]
    site_name = _quote(name or directory.resolve().name)
    lines += [
        "[[sites]]",
        'id = "SITE"',
        f"name = {site_name}",
        "",
        "[[areas]]  # bollards name their area; left out: the first one",
        'id = "AREA"',
        'site = "SITE"',
        'name = "All bollards"',
        "",
    ]
    for charger_id in ids:
        lines += [
            "[[chargers]]",
            f"id = {_quote(charger_id)}",
            f"connectors = {connectors}",
            f"max_power_kw = {max_power_kw}",
            "",
        ]
    directory.mkdir(parents=True, exist_ok=True)
    file.write_text("\n".join(lines), encoding="utf-8")
    return load_project(directory)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
