"""OCPP 1.6 Security Whitepaper profiles 1 to 3: how charge points authenticate.

Profile 1: the charge point sends ``Authorization: Basic base64(<charge point id>:<password>)``
with its WebSocket upgrade; the project holds an argon2 hash of each charger's password.
Profile 2: the same over TLS. Profile 3: TLS with a client certificate whose subject CN is
the charge point id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import ssl
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from evsuper.project.model import Project, SecurityProfile

REALM = "evsuper"
PASSWORD_MIN_LENGTH = 16  # Security Whitepaper: the Basic auth password is 16 to 40 characters
PASSWORD_MAX_LENGTH = 40
MAX_FAILURES = 5  # failed authentications from one address within FAILURE_WINDOW_S ...
FAILURE_WINDOW_S = 60.0
BLOCK_S = 60.0  # ... refuse that address for this long

_hasher = PasswordHasher()


def server_tls_context(project: Project) -> ssl.SSLContext | None:
    """The listener's TLS context under profiles 2 and 3 (TLS 1.2 at least), else None.
    Profile 3 requires a client certificate signed by ``tls_client_ca``."""
    settings = project.ocpp
    profile = settings.security_profile
    if not profile.tls:
        return None
    if settings.tls_certificate is None or settings.tls_private_key is None:
        raise ValueError(
            f"security_profile = {profile.value} needs tls_certificate and tls_private_key"
        )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(
        project.path(settings.tls_certificate), project.path(settings.tls_private_key)
    )
    if profile is SecurityProfile.TLS_CLIENT_CERT:
        if settings.tls_client_ca is None:
            raise ValueError(f"security_profile = {profile.value} needs tls_client_ca")
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(project.path(settings.tls_client_ca))
    return context


def certificate_common_name(peercert: dict[str, Any] | None) -> str | None:
    """The subject CN of a verified peer certificate (``SSLSocket.getpeercert()`` form)."""
    if not peercert:
        return None
    for rdn in peercert.get("subject", ()):
        for name, value in rdn:
            if name == "commonName":
                return str(value)
    return None


def password_problem(password: str) -> str | None:
    """Why ``password`` cannot be a charger's password, or None."""
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        return (
            f"the password must be {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters "
            f"(OCPP 1.6 Security Whitepaper), got {len(password)}"
        )
    return None


def hash_password(password: str) -> str:
    """The argon2 hash to store as a charger's ``password_hash``."""
    problem = password_problem(password)
    if problem is not None:
        raise ValueError(problem)
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Check ``password`` against its hash; slow by design, so call it off the event loop."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class VerifiedPasswords:
    """Passwords already verified against argon2 in this process, kept as keyed digests.

    A site reconnecting at once would otherwise pay one deliberately slow argon2 check per
    charger (two at a time): 1000 chargers ≈ 50 s. A digest is keyed by a random secret of
    this process and tied to the hash it was verified against, so a changed hash or another
    password goes through argon2 again. Nothing leaves memory.
    """

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)
        self._digests: dict[str, tuple[str, bytes]] = {}

    def known(self, charger_id: str, password_hash: str, password: str) -> bool:
        entry = self._digests.get(charger_id)
        return (
            entry is not None
            and entry[0] == password_hash
            and hmac.compare_digest(entry[1], self._digest(password))
        )

    def remember(self, charger_id: str, password_hash: str, password: str) -> None:
        self._digests[charger_id] = (password_hash, self._digest(password))

    def _digest(self, password: str) -> bytes:
        return hmac.new(self._key, password.encode(), hashlib.sha256).digest()


def basic_authorization(charger_id: str, password: str) -> str:
    """The ``Authorization`` header value a charge point sends."""
    token = base64.b64encode(f"{charger_id}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def basic_password(header: str | None, charger_id: str) -> str | None:
    """The password of a Basic ``Authorization`` header whose user is ``charger_id``.

    Split after the expected id rather than at the first colon: charge point ids may
    contain colons.
    """
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user_prefix = f"{charger_id}:"
    return decoded[len(user_prefix) :] if decoded.startswith(user_prefix) else None


class FailureThrottle:
    """Refuses an address for BLOCK_S after MAX_FAILURES failures within FAILURE_WINDOW_S."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._blocked_until: dict[str, float] = {}
        self._next_sweep = 0.0

    def blocked(self, address: str) -> float:
        """Seconds ``address`` stays refused; 0 if it may try."""
        until = self._blocked_until.get(address)
        if until is None:
            return 0.0
        left = until - self._clock()
        if left <= 0:
            del self._blocked_until[address]
            return 0.0
        return left

    def failed(self, address: str) -> None:
        now = self._clock()
        self._sweep(now)
        failures = self._failures.setdefault(address, deque())
        while failures and failures[0] <= now - FAILURE_WINDOW_S:
            failures.popleft()
        failures.append(now)
        if len(failures) >= MAX_FAILURES:
            del self._failures[address]
            self._blocked_until[address] = now + BLOCK_S

    def _sweep(self, now: float) -> None:
        """Forget addresses whose failures are all older than the window (bounded memory)."""
        if now < self._next_sweep:
            return
        self._next_sweep = now + FAILURE_WINDOW_S
        horizon = now - FAILURE_WINDOW_S
        for address in [a for a, f in self._failures.items() if f[-1] <= horizon]:
            del self._failures[address]
        for address in [a for a, until in self._blocked_until.items() if until <= now]:
            del self._blocked_until[address]
